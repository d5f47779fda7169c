/* SPDX-License-Identifier: MIT */
/* ACPI (RSDP, RSDT/XSDT, MADT) and Intel MP table lookup, read-only. */
#include "lib.h"

uint8_t checksum8(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	while (len--)
		sum += *b++;
	return sum;
}

static const uint8_t *rsdp_find(void)
{
	uintptr_t a;

	for (a = 0xe0000; a < 0x100000; a += 16) {
		const uint8_t *p = phys_ptr(a);

		if (!memcmp(p, "RSD PTR ", 8) && !checksum8(p, 20))
			return p;
	}
	return NULL;
}

static int table_ok(const struct acpi_header *h)
{
	return h && h->length >= sizeof(*h) && h->length < (1u << 20) &&
	       !checksum8(h, h->length);
}

const struct acpi_header *acpi_find_table(const char *sig)
{
	const uint8_t *rsdp = rsdp_find();
	const struct acpi_header *root;
	uint32_t i, n, esize;
	int xsdt;

	if (!rsdp)
		return NULL;
	xsdt = rsdp[15] >= 2 && *(const uint32_t *)(rsdp + 24) &&
	       !*(const uint32_t *)(rsdp + 28);
	if (xsdt) {
		root = (const struct acpi_header *)*(const uint32_t *)(rsdp + 24);
		esize = 8;
	} else {
		root = (const struct acpi_header *)*(const uint32_t *)(rsdp + 16);
		esize = 4;
	}
	if (!table_ok(root))
		return NULL;
	n = (root->length - sizeof(*root)) / esize;
	for (i = 0; i < n; i++) {
		const uint8_t *e = (const uint8_t *)(root + 1) + i * esize;
		const struct acpi_header *t;

		if (esize == 8 && *(const uint32_t *)(e + 4))
			continue;	/* above 4 GiB: not reachable here */
		t = (const struct acpi_header *)*(const uint32_t *)e;
		if (table_ok(t) && !memcmp(t->sig, sig, 4))
			return t;
	}
	return NULL;
}

int madt_cpus(struct cpu_list *out)
{
	const struct acpi_header *madt = acpi_find_table("APIC");
	const uint8_t *p, *end;

	out->count = 0;
	if (!madt)
		return -1;
	p = (const uint8_t *)madt + 44;
	end = (const uint8_t *)madt + madt->length;
	while (p + 2 <= end && p[1] >= 2 && p + p[1] <= end) {
		if (p[0] == 0 && p[1] >= 8 && (*(const uint32_t *)(p + 4) & 1)) {
			if (out->count < MAX_CPUS)
				out->apic_id[out->count] = p[3];
			out->count++;
		}
		p += p[1];
	}
	return out->count;
}

uint32_t madt_isa_gsi(uint8_t irq)
{
	const struct acpi_header *madt = acpi_find_table("APIC");
	const uint8_t *p, *end;

	if (!madt)
		return irq;
	p = (const uint8_t *)madt + 44;
	end = (const uint8_t *)madt + madt->length;
	while (p + 2 <= end && p[1] >= 2 && p + p[1] <= end) {
		if (p[0] == 2 && p[1] >= 10 && p[2] == 0 && p[3] == irq)
			return *(const uint32_t *)(p + 4);
		p += p[1];
	}
	return irq;
}

static const uint8_t *mp_scan(uintptr_t start, uintptr_t len)
{
	uintptr_t a;

	for (a = start; a + 16 <= start + len; a += 16) {
		const uint8_t *p = phys_ptr(a);

		if (!memcmp(p, "_MP_", 4) && !checksum8(p, 16))
			return p;
	}
	return NULL;
}

int mptable_cpus(struct cpu_list *out, uint8_t *bsp_id)
{
	uintptr_t ebda = (uintptr_t)*(const uint16_t *)phys_ptr(0x40e) << 4;
	const uint8_t *fp, *cfg, *p, *end;
	uint16_t n, i;

	out->count = 0;
	fp = mp_scan(0xf0000, 0x10000);
	if (!fp && ebda >= 0x80000 && ebda < 0xa0000)
		fp = mp_scan(ebda, 1024);
	if (!fp)
		fp = mp_scan(0x9fc00, 1024);
	if (!fp)
		return -1;
	cfg = (const uint8_t *)*(const uint32_t *)(fp + 4);
	if (!cfg || memcmp(cfg, "PCMP", 4))
		return -1;
	if (*(const uint16_t *)(cfg + 4) < 44 ||
	    checksum8(cfg, *(const uint16_t *)(cfg + 4)))
		return -1;
	n = *(const uint16_t *)(cfg + 34);
	p = cfg + 44;
	end = cfg + *(const uint16_t *)(cfg + 4);
	for (i = 0; i < n && p < end; i++) {
		if (p[0] == 0) {
			if (p + 20 > end)
				return -1;
			if (p[3] & 1) {
				if (out->count < MAX_CPUS)
					out->apic_id[out->count] = p[1];
				out->count++;
			}
			if ((p[3] & 2) && bsp_id)
				*bsp_id = p[1];
			p += 20;
		} else if (p[0] <= 4) {
			p += 8;
		} else {
			break;		/* unknown entry type: stop counting */
		}
	}
	return out->count;
}
