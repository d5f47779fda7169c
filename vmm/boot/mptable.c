// SPDX-License-Identifier: MIT
/*
 * Intel MultiProcessor Specification 1.4 table at LAYOUT_MPTABLE, for tiny
 * guests that look for "_MP_" instead of ACPI: one processor entry per vCPU,
 * an ISA bus, the IOAPIC, and ISA IRQs 0-15 routed to IOAPIC pins 0-15.
 */
#include <errno.h>

#include "boot/loader.h"
#include "mem/layout.h"

#define MPF_LEN		16
#define MPC_HDR		44
#define MP_PROC_LEN	20
#define MP_ENTRY_LEN	8
#define MP_IRQS		16
#define APIC_VERSION	0x14
#define IOAPIC_VERSION	0x11

static uint8_t mp_checksum(const uint8_t *p, size_t len)
{
	uint8_t sum = 0;

	while (len--)
		sum += *p++;
	return (uint8_t)-sum;
}

static uint8_t *mp_entry(uint8_t *e, uint8_t type, uint8_t a, uint8_t b, uint8_t c,
			 uint8_t d, uint8_t f, uint8_t g, uint8_t h)
{
	e[0] = type;
	e[1] = a; e[2] = b; e[3] = c; e[4] = d; e[5] = f; e[6] = g; e[7] = h;
	return e + MP_ENTRY_LEN;
}

int mptable_build(struct guest_mem *gm, unsigned int ncpus)
{
	const uint64_t cfg_gpa = LAYOUT_MPTABLE + MPF_LEN;
	const uint8_t ioapic_id = (uint8_t)ncpus;	/* unique among APIC IDs, as the spec asks */
	size_t len = MPC_HDR + MP_PROC_LEN * ncpus + MP_ENTRY_LEN * (2 + MP_IRQS + 2);
	uint8_t *mpf, *mpc, *e;
	unsigned int i;

	if (!ncpus || ncpus > 254)
		return -EINVAL;
	if (cfg_gpa + len > LAYOUT_HIGH_RAM)
		return -ENOSPC;
	mpf = gm_ptr(gm, LAYOUT_MPTABLE, MPF_LEN + len);
	if (!mpf)
		return -EFAULT;
	memset(mpf, 0, MPF_LEN + len);
	mpc = mpf + MPF_LEN;

	memcpy(mpf, "_MP_", 4);
	put_le32(mpf + 4, (uint32_t)cfg_gpa);
	mpf[8] = 1;			/* length in 16-byte units */
	mpf[9] = 4;			/* spec revision 1.4 */
	mpf[10] = mp_checksum(mpf, MPF_LEN);

	memcpy(mpc, "PCMP", 4);
	put_le16(mpc + 4, (uint16_t)len);
	mpc[6] = 4;
	memcpy(mpc + 8, "VMM     ", 8);
	memcpy(mpc + 16, "VMM         ", 12);
	put_le16(mpc + 34, (uint16_t)(ncpus + 2 + MP_IRQS + 2));
	put_le32(mpc + 36, (uint32_t)LAYOUT_LAPIC);

	e = mpc + MPC_HDR;
	for (i = 0; i < ncpus; i++, e += MP_PROC_LEN) {
		e[0] = 0;			/* processor */
		e[1] = (uint8_t)i;		/* local APIC ID */
		e[2] = APIC_VERSION;
		e[3] = 1 | (i == 0 ? 2 : 0);	/* enabled, BSP */
		put_le32(e + 4, 0x600);		/* family 6 signature */
		put_le32(e + 8, 0x201);		/* FPU, APIC */
	}
	e = mp_entry(e, 1, 0, 'I', 'S', 'A', ' ', ' ', ' ');		/* bus 0: ISA */
	e = mp_entry(e, 2, ioapic_id, IOAPIC_VERSION, 1, 0, 0, 0, 0);	/* IOAPIC, enabled */
	put_le32(e - 4, (uint32_t)LAYOUT_IOAPIC);
	for (i = 0; i < MP_IRQS; i++)				/* ISA IRQ i -> pin i */
		e = mp_entry(e, 3, 0, 0, 0, 0, (uint8_t)i, ioapic_id, (uint8_t)i);
	e = mp_entry(e, 4, 3, 0, 0, 0, 0, 0xff, 0);			/* ExtINT -> LINT0 */
	mp_entry(e, 4, 1, 0, 0, 0, 0, 0xff, 1);				/* NMI -> LINT1 */
	mpc[7] = mp_checksum(mpc, len);
	return 0;
}
