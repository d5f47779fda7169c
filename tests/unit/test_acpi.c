// SPDX-License-Identifier: MIT
/*
 * ACPI tables and the MP table on synthetic guest memory: checksums,
 * pointers, the FADT's hardware-reduced registers, one MADT LAPIC per vCPU,
 * and the compiled DSDT against vmm/mem/layout.h.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "boot/boot.h"
#include "mem/layout.h"

extern unsigned char firmware_dsdt_aml[];
extern unsigned int firmware_dsdt_aml_len;

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t rd32(const uint8_t *p) { return rd16(p) | (uint32_t)rd16(p + 2) << 16; }
static uint64_t rd64(const uint8_t *p) { return rd32(p) | (uint64_t)rd32(p + 4) << 32; }

#define RAM (16ULL << 20)

static uint8_t sum(const uint8_t *p, size_t len)
{
	uint8_t s = 0;

	while (len--)
		s += *p++;
	return s;
}

static const uint8_t *table(const uint8_t *ram, uint64_t gpa, const char *sig)
{
	const uint8_t *t = ram + gpa;

	cr_assert_lt(gpa, LAYOUT_ACPI_TABLES_END);
	cr_assert_geq(gpa, LAYOUT_ACPI_TABLES);
	cr_assert_eq(memcmp(t, sig, 4), 0, "expected %s at 0x%llx", sig, (unsigned long long)gpa);
	cr_assert_leq(gpa + rd32(t + 4), LAYOUT_ACPI_TABLES_END);
	cr_assert_eq(sum(t, rd32(t + 4)), 0, "%s checksum", sig);
	return t;
}

/* Finds the RSDP the way Linux does: 16-byte steps through 0xe0000-0xfffff. */
static const uint8_t *find_rsdp(const uint8_t *ram)
{
	uint64_t a;

	for (a = 0xe0000; a < 0x100000; a += 16)
		if (!memcmp(ram + a, "RSD PTR ", 8) && !sum(ram + a, 20))
			return ram + a;
	return NULL;
}

static void check_acpi(unsigned int ncpus)
{
	uint8_t *ram = calloc(1, RAM);
	struct guest_mem gm = { 0 };
	const uint8_t *rsdp, *xsdt, *rsdt, *fadt, *madt, *dsdt, *e;
	unsigned int lapics = 0, ioapics = 0;
	uint32_t i;

	cr_assert_eq(gm_add_region(&gm, 0, RAM, ram), 0);
	cr_assert_eq(acpi_build(&gm, ncpus), 0);
	cr_assert_eq(acpi_rsdp_addr(&gm), LAYOUT_ACPI_RSDP);
	rsdp = find_rsdp(ram);
	cr_assert_eq(rsdp, ram + LAYOUT_ACPI_RSDP);
	cr_assert_eq(rsdp[15], 2);
	cr_assert_eq(rd32(rsdp + 20), 36);
	cr_assert_eq(sum(rsdp, 36), 0, "extended checksum");

	xsdt = table(ram, rd64(rsdp + 24), "XSDT");
	rsdt = table(ram, rd32(rsdp + 16), "RSDT");
	cr_assert_eq(rd32(xsdt + 4), 36 + 16);
	cr_assert_eq(rd32(rsdt + 4), 36 + 8);
	fadt = table(ram, rd64(xsdt + 36), "FACP");
	madt = table(ram, rd64(xsdt + 44), "APIC");
	cr_assert_eq(rd32(rsdt + 36), rd64(xsdt + 36));
	cr_assert_eq(rd32(rsdt + 40), rd64(xsdt + 44));

	cr_assert_eq(fadt[8], 6, "FADT revision");
	cr_assert_eq(rd32(fadt + 4), 276);
	cr_assert_eq(rd32(fadt + 112) & (1u << 20), 1u << 20, "HW_REDUCED_ACPI");
	cr_assert_eq(rd32(fadt + 112) & (1u << 10), 1u << 10, "RESET_REG_SUP");
	cr_assert_eq(rd16(fadt + 109) & (1u << 3), 0, "MSI must not be marked unsupported");
	cr_assert_eq(rd16(fadt + 109) & (1u << 1), 0, "no 8042 flag: Linux must not probe the reset-only i8042");
	cr_assert_neq(rd16(fadt + 109) & (1u << 2), 0, "VGA not present");
	cr_assert_eq(fadt[116], 1);
	cr_assert_eq(rd64(fadt + 120), PORT_RESET);
	cr_assert_eq(fadt[128], 0x06);
	cr_assert_eq(fadt[244], 1);
	cr_assert_eq(fadt[245], 8);
	cr_assert_eq(rd64(fadt + 248), PORT_ACPI_SLEEP);
	cr_assert_eq(rd64(fadt + 260), PORT_ACPI_SLEEP + 1);
	cr_assert_eq(rd64(fadt + 140), rd32(fadt + 40), "X_DSDT == DSDT");
	dsdt = table(ram, rd64(fadt + 140), "DSDT");
	cr_assert_eq(rd32(dsdt + 4), firmware_dsdt_aml_len);

	cr_assert_eq(rd32(madt + 36), LAYOUT_LAPIC);
	for (i = 44; i < rd32(madt + 4); i += e[1]) {
		e = madt + i;
		cr_assert_geq(e[1], 2);
		if (e[0] == 0) {
			cr_assert_eq(e[3], lapics, "APIC ID = vCPU index");
			cr_assert_eq(rd32(e + 4) & 1, 1, "enabled");
			lapics++;
		} else if (e[0] == 1) {
			cr_assert_eq(rd32(e + 4), LAYOUT_IOAPIC);
			cr_assert_eq(rd32(e + 8), 0);
			ioapics++;
		}
	}
	cr_assert_eq(i, rd32(madt + 4), "MADT entries fill the table exactly");
	cr_assert_eq(lapics, ncpus);
	cr_assert_eq(ioapics, 1);
	free(ram);
}

Test(acpi, one_cpu) { check_acpi(1); }
Test(acpi, two_cpus) { check_acpi(2); }
Test(acpi, sixty_four_cpus) { check_acpi(64); }

Test(acpi, errors)
{
	uint8_t *ram = calloc(1, 0x80000);
	struct guest_mem gm = { 0 };

	cr_assert_eq(gm_add_region(&gm, 0, 0x80000, ram), 0);	/* does not reach 0xe0000 */
	cr_assert_eq(acpi_build(&gm, 1), -EFAULT);
	cr_assert_eq(acpi_rsdp_addr(&gm), 0);
	cr_assert_eq(acpi_build(&gm, 0), -EINVAL);
	free(ram);
}

static bool aml_has(const uint8_t *needle, size_t n)
{
	size_t i;

	for (i = 0; i + n <= firmware_dsdt_aml_len; i++)
		if (!memcmp(firmware_dsdt_aml + i, needle, n))
			return true;
	return false;
}

/* firmware/dsdt.asl repeats layout.h values: check the compiled AML against them. */
Test(acpi, dsdt_matches_layout)
{
	uint8_t mem[8], io[8];
	uint32_t lo = (uint32_t)LAYOUT_PCI_MMIO_START, hi = (uint32_t)(LAYOUT_PCI_MMIO_END - 1);
	unsigned int s, pin;

	cr_assert_eq(sum(firmware_dsdt_aml, firmware_dsdt_aml_len), 0);
	memcpy(mem, &lo, 4);
	memcpy(mem + 4, &hi, 4);
	cr_assert(aml_has(mem, 8), "DWordMemory window != LAYOUT_PCI_MMIO_START..END-1");
	io[0] = 0x47; io[1] = 1;	/* IO(Decode16, min, max, align, len) */
	io[2] = PORT_PVPANIC & 0xff; io[3] = PORT_PVPANIC >> 8;
	io[4] = io[2]; io[5] = io[3]; io[6] = 1; io[7] = 1;
	cr_assert(aml_has(io, 8), "pvpanic port");
	io[2] = PORT_COM1 & 0xff; io[3] = PORT_COM1 >> 8;
	io[4] = io[2]; io[5] = io[3]; io[6] = 1; io[7] = 8;
	cr_assert(aml_has(io, 8), "COM1 port");
	cr_assert(aml_has((const uint8_t *)"\x22\x10\x00", 3), "IRQNoFlags {4}");
	cr_assert(aml_has((const uint8_t *)"QEMU0001", 8));
	{
		/* GED: OperationRegion (GDRG, SystemIO, PORT_GED, 1) and its interrupt */
		const uint8_t region[] = { 0x5b, 0x80, 'G', 'D', 'R', 'G', 0x01, 0x0b,
					   PORT_GED & 0xff, PORT_GED >> 8, 0x01 };
		/* Extended Interrupt: consumer, edge, active high, exclusive, one GSI */
		const uint8_t irq[] = { 0x89, 0x06, 0x00, 0x03, 0x01, GSI_GED, 0, 0, 0 };

		cr_assert(aml_has((const uint8_t *)"ACPI0013", 8), "GED _HID");
		cr_assert(aml_has(region, sizeof(region)), "GED register != PORT_GED");
		cr_assert(aml_has(irq, sizeof(irq)), "GED interrupt != GSI_GED, edge, high");
		cr_assert(aml_has((const uint8_t *)"PWRB", 4), "power button device");
		cr_assert(aml_has((const uint8_t *)"\x41\xd0\x0c\x0c", 4), "PNP0C0C EisaId");
	}
	cr_assert(aml_has((const uint8_t *)"_S5_", 4));
	cr_assert(aml_has((const uint8_t *)"_PRT", 4));
	/*
	 * each _PRT entry: Package(4){ 0xSSSSFFFF, pin, Zero, GSI } as iasl
	 * encodes it: 0x12 PkgLength 4, slot (WordConst 0xffff for slot 0,
	 * else DWordConst), pin and GSI as ByteConst, Zero
	 */
	for (s = 0; s < 32; s++) {
		for (pin = 0; pin < 4; pin++) {
			uint8_t pkg[16], *p = pkg;

			*p++ = 0x12;
			p++;			/* PkgLength, filled below */
			*p++ = 4;
			if (s == 0) {
				*p++ = 0x0b; *p++ = 0xff; *p++ = 0xff;
			} else {
				*p++ = 0x0c; *p++ = 0xff; *p++ = 0xff; *p++ = (uint8_t)s; *p++ = 0;
			}
			*p++ = 0x0a; *p++ = (uint8_t)pin;
			*p++ = 0x00;
			*p++ = 0x0a; *p++ = (uint8_t)(GSI_PCI_BASE + s % GSI_PCI_COUNT);
			pkg[1] = (uint8_t)(p - pkg - 1);
			cr_assert(aml_has(pkg, (size_t)(p - pkg)), "_PRT slot %u pin %u -> GSI %u",
				  s, pin, GSI_PCI_BASE + s % GSI_PCI_COUNT);
		}
	}
}

Test(mptable, layout)
{
	uint8_t *ram = calloc(1, RAM);
	struct guest_mem gm = { 0 };
	const uint8_t *mpf, *mpc;
	unsigned int ncpus = 4, i;

	cr_assert_eq(gm_add_region(&gm, 0, RAM, ram), 0);
	cr_assert_eq(mptable_build(&gm, ncpus), 0);
	mpf = ram + LAYOUT_MPTABLE;
	cr_assert_eq(memcmp(mpf, "_MP_", 4), 0);
	cr_assert_eq(sum(mpf, 16), 0);
	mpc = ram + rd32(mpf + 4);
	cr_assert_eq(memcmp(mpc, "PCMP", 4), 0);
	cr_assert_eq(sum(mpc, rd16(mpc + 4)), 0);
	cr_assert_eq(rd16(mpc + 34), ncpus + 1 + 1 + 16 + 2);
	cr_assert_eq(rd32(mpc + 36), LAYOUT_LAPIC);
	for (i = 0; i < ncpus; i++) {
		cr_assert_eq(mpc[44 + 20 * i], 0);
		cr_assert_eq(mpc[44 + 20 * i + 1], i);
		cr_assert_eq(mpc[44 + 20 * i + 3] & 1, 1);
	}
	cr_assert_eq(mpc[44 + 20 * ncpus], 1, "bus entry");
	cr_assert_eq(memcmp(mpc + 44 + 20 * ncpus + 2, "ISA   ", 6), 0);
	cr_assert_eq(rd32(mpc + 44 + 20 * ncpus + 8 + 4), LAYOUT_IOAPIC);
	cr_assert_leq(rd32(mpf + 4) + rd16(mpc + 4), 0x100000);
	free(ram);
}
