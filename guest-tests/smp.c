/* SPDX-License-Identifier: MIT */
/*
 * smp: counts the CPUs three ways (fw_cfg NB_CPUS, the ACPI MADT, the MP
 * table) and cross-checks them, then starts every AP with INIT-SIPI-SIPI
 * through the LAPIC and a real-mode trampoline below 1 MiB.  Each AP takes a
 * slot, records its APIC ID and does a locked increment of ap_started; the
 * BSP waits (hlt, PIT ticks, bounded) until all N-1 have checked in and the
 * IDs are distinct.  Optional cmdline "cpus=N": the count all three must show.
 */
#include "lib.h"

#define TICK_HZ		100
#define AP_WAIT_TICKS	(10 * TICK_HZ)

extern char tramp_start[], tramp_end[];
extern struct {
	uint16_t limit;
	uint32_t base;
} __attribute__((packed)) tramp_gdt_desc, gdt_desc;

void ap_main(uint32_t slot);

uint32_t ap_slot;
uint8_t ap_stacks[MAX_CPUS][4096] __attribute__((aligned(16)));
static volatile uint32_t ap_started;
static volatile uint8_t ap_ids[MAX_CPUS];
static volatile uint32_t ticks;

void ap_main(uint32_t slot)
{
	ap_ids[slot] = lapic_id();
	__asm__ volatile("lock incl %0" : "+m"(ap_started) : : "memory");
}

static void tick(struct irq_frame *f)
{
	ticks++;
	pic_eoi(0);
}

static void wait_ticks(uint32_t n)
{
	uint32_t end = ticks + n;

	while ((int32_t)(ticks - end) < 0)
		wait_irq();
}

static int overlaps(uintptr_t a, size_t alen, uintptr_t b, size_t blen)
{
	return a < b + blen && b < a + alen;
}

/* A free 4 KiB page below 1 MiB for the trampoline: not under the mbi. */
static uintptr_t tramp_page(void)
{
	static const uintptr_t candidates[] = { 0x8000, 0x10000, 0x20000, 0x70000 };
	const struct mb_info *mbi = boot_mbi;
	unsigned int i;

	for (i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++) {
		uintptr_t c = candidates[i];

		if (overlaps(c, 4096, (uintptr_t)mbi, sizeof(*mbi)))
			continue;
		if (overlaps(c, 4096, (uintptr_t)boot_cmdline, strlen(boot_cmdline) + 1))
			continue;
		if ((mbi->flags & (1u << 6)) &&
		    overlaps(c, 4096, mbi->mmap_addr, mbi->mmap_length))
			continue;
		return c;
	}
	fail("no free page below 1 MiB for the trampoline");
}

static int contains(const struct cpu_list *l, uint8_t id)
{
	int i;

	for (i = 0; i < l->count && i < MAX_CPUS; i++)
		if (l->apic_id[i] == id)
			return 1;
	return 0;
}

static void print_list(const char *what, const struct cpu_list *l)
{
	int i;

	printf("%s: %d CPUs, APIC IDs", what, l->count);
	for (i = 0; i < l->count && i < MAX_CPUS; i++)
		printf(" %u", l->apic_id[i]);
	printf("\n");
}

void guest_main(void)
{
	struct cpu_list madt, mp;
	uint16_t nb_cpus = 0;
	uint8_t bsp, mp_bsp = 0xff;
	uint32_t want, n, i, j;
	uintptr_t base;

	check(fw_cfg_present(), "fw_cfg signature is not \"QEMU\"");
	fw_cfg_read(FW_CFG_NB_CPUS, &nb_cpus, sizeof(nb_cpus));
	printf("fw_cfg: %u CPUs\n", nb_cpus);
	check(madt_cpus(&madt) >= 0, "no valid MADT reachable from the RSDP");
	print_list("MADT", &madt);
	check(mptable_cpus(&mp, &mp_bsp) >= 0, "no valid MP table (_MP_/PCMP)");
	print_list("MP table", &mp);

	n = nb_cpus;
	check(n >= 1 && n <= MAX_CPUS, "fw_cfg CPU count %u out of range 1..%d", n, MAX_CPUS);
	check((uint32_t)madt.count == n, "MADT has %d CPUs, fw_cfg says %u", madt.count, n);
	check((uint32_t)mp.count == n, "MP table has %d CPUs, fw_cfg says %u", mp.count, n);
	if (!cmdline_get_uint("cpus", &want))
		check(want == n, "expected %u CPUs (cmdline), firmware says %u", want, n);
	for (i = 0; i < n; i++) {
		check(contains(&mp, madt.apic_id[i]),
		      "APIC ID %u is in the MADT but not in the MP table", madt.apic_id[i]);
		for (j = 0; j < i; j++)
			check(madt.apic_id[i] != madt.apic_id[j],
			      "APIC ID %u twice in the MADT", madt.apic_id[i]);
	}
	bsp = lapic_id();
	printf("BSP APIC ID %u\n", bsp);
	check(contains(&madt, bsp), "the BSP's APIC ID %u is not in the MADT", bsp);
	check(mp_bsp == bsp, "MP table marks APIC ID %u as BSP, we are %u", mp_bsp, bsp);

	idt_init();
	pic_init();
	lapic_enable();
	idt_set_handler(PIC_VECTOR_BASE + 0, tick);
	pit_start(TICK_HZ);
	pic_unmask(0);

	base = tramp_page();
	tramp_gdt_desc = gdt_desc;
	memcpy(phys_ptr(base), tramp_start, tramp_end - tramp_start);
	printf("trampoline at 0x%x (SIPI vector 0x%x)\n", base, base >> 12);

	for (i = 0; i < n; i++) {
		uint8_t id = madt.apic_id[i];

		if (id == bsp)
			continue;
		check(!lapic_send_ipi(id, 0x0000c500), "INIT to %u not delivered", id);
		check(!lapic_send_ipi(id, 0x00008500), "INIT de-assert to %u not delivered", id);
		wait_ticks(1);
		check(!lapic_send_ipi(id, 0x00004600 | (base >> 12)), "SIPI to %u not delivered", id);
		wait_ticks(1);
		if (ap_slot <= i)	/* not up yet: the second SIPI of the protocol */
			check(!lapic_send_ipi(id, 0x00004600 | (base >> 12)),
			      "SIPI to %u not delivered", id);
	}

	for (i = 0; ap_started < n - 1 && i < AP_WAIT_TICKS; i++)
		wait_ticks(1);
	pit_stop();
	printf("%u of %u APs started after %u ticks\n", ap_started, n - 1, i);
	check(ap_started == n - 1, "only %u of %u APs checked in", ap_started, n - 1);
	check(ap_slot == n - 1, "%u APs took a slot, expected %u", ap_slot, n - 1);
	for (i = 0; i < n - 1; i++) {
		printf("AP slot %u: APIC ID %u\n", i, ap_ids[i]);
		check(ap_ids[i] != bsp, "an AP reports the BSP's APIC ID %u", bsp);
		check(contains(&madt, ap_ids[i]), "AP APIC ID %u not in the MADT", ap_ids[i]);
		for (j = 0; j < i; j++)
			check(ap_ids[i] != ap_ids[j], "two APs report APIC ID %u", ap_ids[i]);
	}
	succeed();
}
