/* SPDX-License-Identifier: MIT */
/*
 * exit: leaves the VM through the path named on the command line and checks
 * that vmm turns it into the right exit status.
 *
 *   exit=debug code=N   debug-exit port 0xf4 with N   -> status (N << 1) | 1
 *   exit=pvpanic        write 1 to the pvpanic port   -> 6
 *   exit=acpi           FADT-guided S5 (sleep control register or PM1a_CNT)
 *   exit=acpi-direct    write 0x34 to port 0x3c0       -> 0
 *   exit=i8042          0xFE to the i8042 command port -> 0
 *   exit=cf9            0x06 to port 0xcf9             -> 0
 *   exit=triple         load an empty IDT and ud2      -> 8
 *   exit=halt           cli; hlt for good              -> 12
 */
#include "lib.h"

#define PVPANIC_PORT	0x505
#define ACPI_SLEEP_CTL	0x3c0
#define SLP_EN_HWR	0x20		/* sleep control register: SLP_EN */

/* SLP_TYPa of \_S5 from the DSDT's AML: Name(_S5_, Package(){a, ...}). */
static int s5_slp_typ(const struct acpi_header *dsdt, uint8_t *typ)
{
	const uint8_t *p = (const uint8_t *)dsdt + sizeof(*dsdt);
	const uint8_t *end = (const uint8_t *)dsdt + dsdt->length;

	for (; p + 8 < end; p++) {
		const uint8_t *q;

		if (memcmp(p, "_S5_", 4))
			continue;
		q = p + 4;
		if (*q++ != 0x12)		/* PackageOp */
			continue;
		q += ((*q >> 6) & 3) + 1;	/* PkgLength */
		q++;				/* NumElements */
		if (q >= end)
			return -1;
		if (*q == 0x0a && q + 1 < end)	/* BytePrefix */
			*typ = q[1];
		else if (*q == 0x00 || *q == 0x01)	/* ZeroOp, OneOp */
			*typ = *q;
		else
			return -1;
		return 0;
	}
	return -1;
}

static void acpi_poweroff(void)
{
	const struct acpi_header *fadt = acpi_find_table("FACP");
	const uint8_t *f = (const uint8_t *)fadt;
	const struct acpi_header *dsdt;
	uint8_t typ = 5;
	int have_typ;

	check(fadt, "no FADT (FACP) found through the RSDP");
	dsdt = (const struct acpi_header *)*(const uint32_t *)(f + 40);
	check(dsdt && !checksum8(dsdt, dsdt->length) && !memcmp(dsdt->sig, "DSDT", 4),
	      "FADT points to no valid DSDT");
	have_typ = !s5_slp_typ(dsdt, &typ);
	printf("DSDT \\_S5 SLP_TYP %u%s\n", typ, have_typ ? "" : " (not found, assuming 5)");

	/* ACPI 5+: SLEEP_CONTROL_REG, a GAS at offset 244 (system I/O space) */
	if (fadt->length >= 256 && f[244] == 1 && *(const uint32_t *)(f + 248)) {
		uint16_t port = *(const uint32_t *)(f + 248);

		printf("SUCCESS\nsleep control register 0x%x <- 0x%x\n", port,
		       (typ << 2) | SLP_EN_HWR);
		outb(port, (typ << 2) | SLP_EN_HWR);
	} else {
		uint16_t port = *(const uint32_t *)(f + 64);	/* PM1a_CNT_BLK */

		check(port, "FADT has neither a sleep control register nor PM1a_CNT");
		printf("SUCCESS\nPM1a_CNT 0x%x <- 0x%x\n", port, (typ << 10) | (1u << 13));
		outw(port, (typ << 10) | (1u << 13));
	}
}

void guest_main(void)
{
	char how[16];
	uint32_t code = 0;

	if (cmdline_get("exit", how, sizeof(how)))
		fail("no exit=... on the command line");

	if (!strcmp(how, "debug")) {
		check(!cmdline_get_uint("code", &code) && code < 128,
		      "exit=debug needs code=N, 0 <= N < 128");
		printf("SUCCESS\ndebug-exit %u, expect status %u\n", code, (code << 1) | 1);
		outb(DEBUG_EXIT_PORT, code);
	} else if (!strcmp(how, "pvpanic")) {
		uint8_t feat = inb(PVPANIC_PORT);

		printf("pvpanic features 0x%x\n", feat);
		check(feat & 1, "pvpanic does not offer PANICKED (bit 0)");
		puts_serial("SUCCESS\n");
		outb(PVPANIC_PORT, 1);
	} else if (!strcmp(how, "acpi")) {
		acpi_poweroff();
	} else if (!strcmp(how, "acpi-direct")) {
		puts_serial("SUCCESS\n");
		outb(ACPI_SLEEP_CTL, (5 << 2) | SLP_EN_HWR);
	} else if (!strcmp(how, "i8042")) {
		puts_serial("SUCCESS\n");
		outb(0x64, 0xfe);
	} else if (!strcmp(how, "cf9")) {
		puts_serial("SUCCESS\n");
		outb(0xcf9, 0x02);	/* select hard reset ... */
		outb(0xcf9, 0x06);	/* ... and do it */
	} else if (!strcmp(how, "triple")) {
		puts_serial("SUCCESS\n");
		triple_fault();
	} else if (!strcmp(how, "halt")) {
		puts_serial("SUCCESS\n");
		for (;;)
			__asm__ volatile("cli; hlt");
	} else {
		fail("unknown exit=%s", how);
	}
	/* The VM should be gone.  Leave with a status nobody expects. */
	puts_serial("still running after the exit request\n");
	outb(DEBUG_EXIT_PORT, 0x7e);
	triple_fault();
}
