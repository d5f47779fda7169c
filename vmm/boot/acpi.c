// SPDX-License-Identifier: MIT
/*
 * Hardware-reduced ACPI tables, as Firecracker and Cloud Hypervisor build
 * them: RSDP v2 at LAYOUT_ACPI_RSDP pointing at an RSDT and an XSDT, which
 * list the FADT and MADT; the FADT points at the DSDT compiled from
 * firmware/dsdt.asl.  No FACS, no SCI, no PM timer: sleep and reset are
 * the FADT's SLEEP_CONTROL_REG / RESET_REG I/O ports.
 */
#include <errno.h>

#include "boot/loader.h"
#include "mem/layout.h"

extern unsigned char firmware_dsdt_aml[];
extern unsigned int firmware_dsdt_aml_len;

#define SDT_HDR		36
#define RSDP_LEN	36
#define FADT_LEN	276
#define FADT_REVISION	6
#define MADT_REVISION	5

/* FADT fields */
#define FADT_DSDT		40
#define FADT_SCI_INT		46
#define FADT_IAPC_BOOT_ARCH	109
#define FADT_FLAGS		112
#define FADT_RESET_REG		116
#define FADT_RESET_VALUE	128
#define FADT_MINOR_VERSION	131
#define FADT_X_DSDT		140
#define FADT_SLEEP_CONTROL	244
#define FADT_SLEEP_STATUS	256

#define FADT_F_PWR_BUTTON	(1u << 4)
#define FADT_F_SLP_BUTTON	(1u << 5)
#define FADT_F_RESET_REG_SUP	(1u << 10)
#define FADT_F_HW_REDUCED_ACPI	(1u << 20)

#define IAPC_VGA_NOT_PRESENT	(1u << 2)

#define GAS_SYSTEM_IO		1
#define GAS_ACCESS_BYTE		1

#define MADT_LAPIC		0
#define MADT_IOAPIC		1
#define MADT_ISO		2
#define MADT_LAPIC_NMI		4
#define MADT_PCAT_COMPAT	1u

static void acpi_checksum(uint8_t *p, size_t len, size_t csum_off)
{
	uint8_t sum = 0;
	size_t i;

	p[csum_off] = 0;
	for (i = 0; i < len; i++)
		sum += p[i];
	p[csum_off] = (uint8_t)-sum;
}

static void sdt_header(uint8_t *p, const char *sig, uint32_t len, uint8_t rev)
{
	memcpy(p, sig, 4);
	put_le32(p + 4, len);
	p[8] = rev;
	memcpy(p + 10, "VMM   ", 6);	/* OEM ID */
	memcpy(p + 16, "VMM", 3);	/* OEM table ID, padded with zeros */
	memcpy(p + 16 + 3, sig, 4);
	put_le32(p + 24, 1);		/* OEM revision */
	memcpy(p + 28, "VMM ", 4);	/* creator ID */
	put_le32(p + 32, 1);		/* creator revision */
}

static void gas_io8(uint8_t *p, uint16_t port)
{
	p[0] = GAS_SYSTEM_IO;
	p[1] = 8;		/* bit width */
	p[2] = 0;		/* bit offset */
	p[3] = GAS_ACCESS_BYTE;
	put_le64(p + 4, port);
}

static void build_fadt(uint8_t *p, uint64_t dsdt)
{
	sdt_header(p, "FACP", FADT_LEN, FADT_REVISION);
	put_le32(p + FADT_DSDT, (uint32_t)dsdt);
	put_le16(p + FADT_SCI_INT, GSI_ACPI_SCI);
	/*
	 * No 8042 flag: the i8042 here is a reset line with no keyboard or
	 * IRQ behind it, so Linux must not probe it (its probe failed with
	 * -EINVAL on every boot and cost ~70 port exits).  Resets through
	 * port 0x64 work all the same.
	 */
	put_le16(p + FADT_IAPC_BOOT_ARCH, IAPC_VGA_NOT_PRESENT);
	put_le32(p + FADT_FLAGS, FADT_F_HW_REDUCED_ACPI | FADT_F_RESET_REG_SUP |
		 FADT_F_PWR_BUTTON | FADT_F_SLP_BUTTON);
	gas_io8(p + FADT_RESET_REG, PORT_RESET);
	p[FADT_RESET_VALUE] = 0x06;
	p[FADT_MINOR_VERSION] = 0;
	put_le64(p + FADT_X_DSDT, dsdt);
	gas_io8(p + FADT_SLEEP_CONTROL, PORT_ACPI_SLEEP);
	gas_io8(p + FADT_SLEEP_STATUS, PORT_ACPI_SLEEP + 1);
	acpi_checksum(p, FADT_LEN, 9);
}

static uint32_t madt_len(unsigned int ncpus)
{
	return SDT_HDR + 8 + 8 * ncpus + 12 + 10 + 6;
}

static void build_madt(uint8_t *p, unsigned int ncpus)
{
	uint32_t len = madt_len(ncpus);
	uint8_t *e = p + SDT_HDR + 8;
	unsigned int i;

	sdt_header(p, "APIC", len, MADT_REVISION);
	put_le32(p + SDT_HDR, (uint32_t)LAYOUT_LAPIC);
	put_le32(p + SDT_HDR + 4, MADT_PCAT_COMPAT);
	for (i = 0; i < ncpus; i++, e += 8) {
		e[0] = MADT_LAPIC;
		e[1] = 8;
		e[2] = (uint8_t)i;	/* ACPI processor UID */
		e[3] = (uint8_t)i;	/* APIC ID = vCPU index */
		put_le32(e + 4, 1);	/* enabled */
	}
	e[0] = MADT_IOAPIC;
	e[1] = 12;
	e[2] = 0;			/* IOAPIC ID, as KVM's in-kernel IOAPIC resets to */
	e[3] = 0;
	put_le32(e + 4, (uint32_t)LAYOUT_IOAPIC);
	put_le32(e + 8, 0);		/* GSI base */
	e += 12;
	e[0] = MADT_ISO;		/* the SCI: ISA IRQ 9 -> GSI 9, level, active high */
	e[1] = 10;
	e[2] = 0;			/* bus ISA */
	e[3] = GSI_ACPI_SCI;
	put_le32(e + 4, GSI_ACPI_SCI);
	put_le16(e + 8, 0x000d);
	e += 10;
	e[0] = MADT_LAPIC_NMI;		/* LINT1 of every CPU is NMI */
	e[1] = 6;
	e[2] = 0xff;
	put_le16(e + 3, 0);
	e[5] = 1;
	acpi_checksum(p, len, 9);
}

uint64_t acpi_rsdp_addr(const struct guest_mem *gm)
{
	const uint8_t *p = gm_ptr(gm, LAYOUT_ACPI_RSDP, RSDP_LEN);

	return p && !memcmp(p, "RSD PTR ", 8) ? LAYOUT_ACPI_RSDP : 0;
}

int acpi_build(struct guest_mem *gm, unsigned int ncpus)
{
	const uint64_t base = LAYOUT_ACPI_TABLES, size = LAYOUT_ACPI_TABLES_END - LAYOUT_ACPI_TABLES;
	uint64_t xsdt, rsdt, fadt, madt, dsdt, end;
	uint8_t *t, *rsdp;

	if (!ncpus || ncpus > 255)
		return -EINVAL;
	t = gm_ptr(gm, base, size);
	rsdp = gm_ptr(gm, LAYOUT_ACPI_RSDP, RSDP_LEN);
	if (!t || !rsdp)
		return -EFAULT;
	xsdt = base;
	rsdt = xsdt + 64;
	fadt = rsdt + 64;
	madt = fadt + 512;
	dsdt = madt + ((madt_len(ncpus) + 63) & ~63u);
	end = dsdt + firmware_dsdt_aml_len;
	if (end > LAYOUT_ACPI_TABLES_END)
		return -ENOSPC;
	memset(t, 0, size);

	sdt_header(t + (xsdt - base), "XSDT", SDT_HDR + 16, 1);
	put_le64(t + (xsdt - base) + SDT_HDR, fadt);
	put_le64(t + (xsdt - base) + SDT_HDR + 8, madt);
	acpi_checksum(t + (xsdt - base), SDT_HDR + 16, 9);

	sdt_header(t + (rsdt - base), "RSDT", SDT_HDR + 8, 1);
	put_le32(t + (rsdt - base) + SDT_HDR, (uint32_t)fadt);
	put_le32(t + (rsdt - base) + SDT_HDR + 4, (uint32_t)madt);
	acpi_checksum(t + (rsdt - base), SDT_HDR + 8, 9);

	build_fadt(t + (fadt - base), dsdt);
	build_madt(t + (madt - base), ncpus);
	memcpy(t + (dsdt - base), firmware_dsdt_aml, firmware_dsdt_aml_len);

	memset(rsdp, 0, RSDP_LEN);
	memcpy(rsdp, "RSD PTR ", 8);
	memcpy(rsdp + 9, "VMM   ", 6);
	rsdp[15] = 2;			/* revision: ACPI 2.0+, has XSDT */
	put_le32(rsdp + 16, (uint32_t)rsdt);
	put_le32(rsdp + 20, RSDP_LEN);
	put_le64(rsdp + 24, xsdt);
	acpi_checksum(rsdp, 20, 8);
	acpi_checksum(rsdp, RSDP_LEN, 32);
	return 0;
}
