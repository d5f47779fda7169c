/* SPDX-License-Identifier: MIT */
/*
 * kvmclock: time never goes backwards across vCPUs.  Every vCPU registers
 * its own pvclock page (MSR_KVM_SYSTEM_TIME_NEW) and then all of them, at
 * once, read kvmclock in a tight loop for secs=N seconds (default 3),
 * publishing the latest value in one shared 64-bit word: read the word
 * (lock cmpxchg8b), then read the clock (lfence; rdtsc): the clock must not
 * be below the word, which some vCPU read from its clock before.  The first
 * warp fails the test with both values and the vCPUs involved.
 * The pvclock ABI promises this only for reads whose pvclock has
 * PVCLOCK_TSC_STABLE_BIT (KVM sets it while its master clock runs); without
 * it a guest keeps its own maximum, as Linux does, so such reads that fall
 * behind are counted and reported, not failed (strict=1 fails them too).
 * Also reports the CPUID kvmclock feature bits and invariant TSC, and each
 * vCPU's flag: invariant TSC offered means vmm saw a stable master clock,
 * so then every vCPU must have the flag; cmdline "stable=1" requires the
 * CPUID stable bit and the flag on every vCPU whatever CPUID says.
 * APs start as in smp.c (its trampoline, kvmclock_tramp.S).  cpus=N: the
 * number of CPUs the MADT must show.
 */
#include "lib.h"

#define MSR_KVM_SYSTEM_TIME	0x12
#define MSR_KVM_SYSTEM_TIME_NEW	0x4b564d01
#define KVM_FEATURE_CLOCKSOURCE		(1u << 0)
#define KVM_FEATURE_CLOCKSOURCE2	(1u << 3)
#define KVM_FEATURE_CLOCKSOURCE_STABLE	(1u << 24)
#define PVCLOCK_TSC_STABLE		(1u << 0)
#define TICK_HZ		100
#define AP_WAIT_TICKS	(10 * TICK_HZ)

struct pvclock {
	uint32_t version;
	uint32_t pad0;
	uint64_t tsc_timestamp;
	uint64_t system_time;
	uint32_t mul;
	int8_t shift;
	uint8_t flags;
	uint8_t pad[2];
} __attribute__((packed));

extern char tramp_start[], tramp_end[];
extern struct {
	uint16_t limit;
	uint32_t base;
} __attribute__((packed)) tramp_gdt_desc, gdt_desc;

void ap_main(uint32_t slot);

uint32_t ap_slot;
uint8_t ap_stacks[MAX_CPUS][4096] __attribute__((aligned(16)));

static volatile struct pvclock pvti[MAX_CPUS] __attribute__((aligned(64)));
static volatile uint64_t last __attribute__((aligned(8)));
static volatile uint32_t ready, go, done, stop, ticks, clock_msr;
static volatile uint64_t end_ns;
static volatile uint32_t iters[MAX_CPUS], stable_seen[MAX_CPUS], unstable_seen[MAX_CPUS];
static volatile uint32_t behind[MAX_CPUS];
static uint32_t strict;
/* the first warp, written once by the vCPU that saw it */
static volatile uint32_t warp_cpu, warp_from_cpu;
static volatile uint64_t warp_seen, warp_now;
static volatile uint32_t last_cpu;

static inline void cpuid(uint32_t leaf, uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d)
{
	__asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(0));
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}

static inline uint64_t rdtsc_ordered(void)
{
	uint32_t lo, hi;

	__asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi) : : "memory");
	return (uint64_t)hi << 32 | lo;
}

static inline uint64_t atomic_read64(volatile uint64_t *p)
{
	return __sync_val_compare_and_swap(p, 0, 0);
}

/* (delta * mul) >> 32 without a 128-bit type */
static uint64_t scale(uint64_t delta, uint32_t mul, int8_t shift)
{
	if (shift >= 0)
		delta <<= shift;
	else
		delta >>= -shift;
	return (((uint64_t)(uint32_t)delta * mul) >> 32) + (uint64_t)(uint32_t)(delta >> 32) * mul;
}

static uint64_t kvmclock_read(uint32_t cpu)
{
	volatile struct pvclock *p = &pvti[cpu];
	uint32_t v;
	uint64_t ns;
	uint8_t flags;

	do {
		v = p->version;
		__asm__ volatile("" ::: "memory");
		ns = p->system_time + scale(rdtsc_ordered() - p->tsc_timestamp, p->mul, p->shift);
		flags = p->flags;
		__asm__ volatile("" ::: "memory");
	} while ((v & 1) || v != p->version);
	if (flags & PVCLOCK_TSC_STABLE)
		stable_seen[cpu]++;
	else
		unstable_seen[cpu]++;
	return ns;
}

static void clock_on(uint32_t cpu)
{
	wrmsr(clock_msr, (uint32_t)(uintptr_t)&pvti[cpu] | 1);
}

static void hammer(uint32_t cpu)
{
	uint32_t n = 0;

	while (!stop) {
		uint64_t seen = atomic_read64(&last);
		uint32_t from = last_cpu;
		uint32_t unstable = unstable_seen[cpu];
		uint64_t now = kvmclock_read(cpu);

		n++;
		if (now < seen && unstable_seen[cpu] != unstable && !strict) {
			behind[cpu]++;	/* no PVCLOCK_TSC_STABLE: the guest's max rules */
			continue;
		}
		if (now < seen) {
			if (__sync_bool_compare_and_swap(&warp_cpu, 0, cpu + 1)) {
				warp_seen = seen;
				warp_now = now;
				warp_from_cpu = from;
			}
			stop = 1;
			break;
		}
		if (now > seen && __sync_bool_compare_and_swap(&last, seen, now))
			last_cpu = cpu;
		if (now >= end_ns)
			stop = 1;
	}
	iters[cpu] = n;
	__asm__ volatile("lock incl %0" : "+m"(done) : : "memory");
}

void ap_main(uint32_t slot)
{
	uint32_t cpu = slot + 1;

	clock_on(cpu);
	__asm__ volatile("lock incl %0" : "+m"(ready) : : "memory");
	while (!go)
		cpu_relax();
	hammer(cpu);
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

/* A free 4 KiB page below 1 MiB for the trampoline, away from the mbi. */
static uintptr_t tramp_page(void)
{
	static const uintptr_t candidates[] = { 0x8000, 0x10000, 0x20000, 0x70000 };
	const struct mb_info *mbi = boot_mbi;
	unsigned int i;

	for (i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++) {
		uintptr_t c = candidates[i];

		if (overlaps(c, 4096, (uintptr_t)mbi, sizeof(*mbi)) ||
		    overlaps(c, 4096, (uintptr_t)boot_cmdline, strlen(boot_cmdline) + 1) ||
		    ((mbi->flags & (1u << 6)) && overlaps(c, 4096, mbi->mmap_addr, mbi->mmap_length)))
			continue;
		return c;
	}
	fail("no free page below 1 MiB for the trampoline");
}

static uint32_t start_aps(const struct cpu_list *madt)
{
	uint8_t bsp = lapic_id();
	uintptr_t base = tramp_page();
	uint32_t i;
	int n = madt->count;

	idt_init();
	pic_init();
	lapic_enable();
	idt_set_handler(PIC_VECTOR_BASE + 0, tick);
	pit_start(TICK_HZ);
	pic_unmask(0);
	tramp_gdt_desc = gdt_desc;
	memcpy(phys_ptr(base), tramp_start, tramp_end - tramp_start);
	for (i = 0; i < (uint32_t)n; i++) {
		uint8_t id = madt->apic_id[i];

		if (id == bsp)
			continue;
		check(!lapic_send_ipi(id, 0x0000c500), "INIT to %u not delivered", id);
		check(!lapic_send_ipi(id, 0x00008500), "INIT de-assert to %u not delivered", id);
		wait_ticks(1);
		check(!lapic_send_ipi(id, 0x00004600 | (base >> 12)), "SIPI to %u not delivered", id);
		wait_ticks(1);
		if (ap_slot <= i)
			check(!lapic_send_ipi(id, 0x00004600 | (base >> 12)), "SIPI to %u not delivered", id);
	}
	for (i = 0; ready < (uint32_t)n - 1 && i < AP_WAIT_TICKS; i++)
		wait_ticks(1);
	pit_stop();
	pic_mask_all();
	check(ready == (uint32_t)n - 1, "only %u of %d APs came up", ready, n - 1);
	return (uint32_t)n;
}

void guest_main(void)
{
	struct cpu_list madt;
	uint32_t a, b, c, d, want, secs = 3, need_stable = 0, n, i, total = 0, stable = 0;
	uint32_t invtsc = 0, nbehind = 0;
	char sig[13];

	cpuid(0x40000000, &a, &b, &c, &d);
	memcpy(sig, &b, 4);
	memcpy(sig + 4, &c, 4);
	memcpy(sig + 8, &d, 4);
	sig[12] = 0;
	check(!strcmp(sig, "KVMKVMKVM"), "no KVM paravirt CPUID leaf (signature \"%s\")", sig);
	cpuid(0x40000001, &a, &b, &c, &d);
	printf("KVM features 0x%x: clocksource %u, clocksource2 %u, stable bit %u\n", a,
	       !!(a & KVM_FEATURE_CLOCKSOURCE), !!(a & KVM_FEATURE_CLOCKSOURCE2),
	       !!(a & KVM_FEATURE_CLOCKSOURCE_STABLE));
	check(a & (KVM_FEATURE_CLOCKSOURCE | KVM_FEATURE_CLOCKSOURCE2), "no kvmclock offered");
	clock_msr = (a & KVM_FEATURE_CLOCKSOURCE2) ? MSR_KVM_SYSTEM_TIME_NEW : MSR_KVM_SYSTEM_TIME;
	cpuid(0x80000000, &a, &b, &c, &d);
	if (a >= 0x80000007) {
		cpuid(0x80000007, &a, &b, &c, &d);
		invtsc = !!(d & (1u << 8));
	}
	printf("invariant TSC %s\n", invtsc ? "offered" : "not offered");
	cpuid(0x40000001, &a, &b, &c, &d);
	cmdline_get_uint("secs", &secs);
	cmdline_get_uint("strict", &strict);
	cmdline_get_uint("stable", &need_stable);
	if (need_stable)
		check(a & KVM_FEATURE_CLOCKSOURCE_STABLE, "stable=1 but CPUID lacks KVM_FEATURE_CLOCKSOURCE_STABLE_BIT");

	check(madt_cpus(&madt) >= 1, "no valid MADT");
	check(madt.count <= MAX_CPUS, "more than %d CPUs", MAX_CPUS);
	if (!cmdline_get_uint("cpus", &want))
		check((uint32_t)madt.count == want, "MADT has %d CPUs, expected %u", madt.count, want);
	clock_on(0);
	n = madt.count > 1 ? start_aps(&madt) : 1;
	printf("kvmclock on %u CPUs for %u s\n", n, secs);

	end_ns = kvmclock_read(0) + (uint64_t)secs * 1000000000u;
	go = 1;
	hammer(0);
	while (done < n)
		cpu_relax();

	for (i = 0; i < n; i++) {
		printf("CPU %u: %u reads, PVCLOCK_TSC_STABLE on %u, clear on %u, %u behind\n", i,
		       iters[i], stable_seen[i], unstable_seen[i], behind[i]);
		total += iters[i];
		stable += stable_seen[i] && !unstable_seen[i];
		nbehind += behind[i];
	}
	if (warp_cpu)
		fail("kvmclock warp: CPU %u read 0x%x%08x ns after CPU %u had published 0x%x%08x ns (%u ns back)",
		     warp_cpu - 1, (uint32_t)(warp_now >> 32), (uint32_t)warp_now, warp_from_cpu,
		     (uint32_t)(warp_seen >> 32), (uint32_t)warp_seen, (uint32_t)(warp_seen - warp_now));
	printf("no warp in %u reads on %u CPUs\n", total, n);
	if (stable != n)
		printf("PVCLOCK_TSC_STABLE not always set: no KVM master clock; %u reads fell behind another vCPU's and were kept monotonic by the guest\n",
		       nbehind);
	if (need_stable)
		check(stable == n, "stable=1 but PVCLOCK_TSC_STABLE was always set on only %u of %u vCPUs (no KVM master clock)",
		      stable, n);
	if (invtsc)
		check(stable == n, "invariant TSC offered, but PVCLOCK_TSC_STABLE was always set on only %u of %u vCPUs",
		      stable, n);
	succeed();
}
