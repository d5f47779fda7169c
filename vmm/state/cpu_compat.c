// SPDX-License-Identifier: MIT
/*
 * Saved guest CPUID against this host's: see cpu_compat.h.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>

#include "cpu_compat.h"

enum { EAX, EBX, ECX, EDX };

/* The feature registers, and the bits vmm itself decides (never compared). */
static const struct {
	uint32_t function, index;
	int reg;
	uint32_t vmm_bits;
} feature_regs[] = {
	{ 0x1, 0, ECX, (1u << 24) | (1u << 27) | (1u << 31) },	/* TSC-deadline, OSXSAVE, hypervisor */
	{ 0x1, 0, EDX, 1u << 28 },				/* HTT */
	{ 0x7, 0, EBX, 0 },
	{ 0x7, 0, ECX, 1u << 4 },				/* OSPKE: follows CR4 */
	{ 0x7, 0, EDX, 0 },
	{ 0x7, 1, EAX, 0 },
	{ 0xd, 0, EAX, 0 },					/* XCR0 components */
	{ 0xd, 1, EAX, 0 },					/* XSAVEOPT/XSAVEC/XSAVES... */
	{ 0x80000001, 0, ECX, 0 },
	{ 0x80000001, 0, EDX, 0 },
	{ 0x80000007, 0, EDX, 1u << 8 },			/* invariant TSC: vmm's choice */
	{ 0x80000008, 0, EBX, 0 },
};

static const char *const reg_name[] = { "EAX", "EBX", "ECX", "EDX" };

static const struct kvm_cpuid_entry2 *find(const struct kvm_cpuid2 *c, uint32_t function,
					   uint32_t index)
{
	uint32_t i;

	for (i = 0; i < c->nent; i++) {
		const struct kvm_cpuid_entry2 *e = &c->entries[i];

		if (e->function != function)
			continue;
		if ((e->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) && e->index != index)
			continue;
		return e;
	}
	return NULL;
}

static uint32_t reg_of(const struct kvm_cpuid_entry2 *e, int reg)
{
	switch (reg) {
	case EAX: return e->eax;
	case EBX: return e->ebx;
	case ECX: return e->ecx;
	default: return e->edx;
	}
}

int cpu_compat_check(const struct kvm_cpuid2 *saved, const struct kvm_cpuid2 *host,
		     bool tsc_deadline, char *msg, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(feature_regs) / sizeof(feature_regs[0]); i++) {
		const struct kvm_cpuid_entry2 *s, *h;
		uint32_t want, have, ignore = feature_regs[i].vmm_bits;

		s = find(saved, feature_regs[i].function, feature_regs[i].index);
		if (!s)
			continue;
		h = find(host, feature_regs[i].function, feature_regs[i].index);
		want = reg_of(s, feature_regs[i].reg);
		have = h ? reg_of(h, feature_regs[i].reg) : 0;
		/* the TSC-deadline bit: only if this host's KVM has the timer */
		if (feature_regs[i].function == 0x1 && feature_regs[i].reg == ECX && !tsc_deadline)
			ignore &= ~(1u << 24);
		if (want & ~have & ~ignore) {
			snprintf(msg, len,
				 "this host lacks CPU features the saved guest uses: CPUID 0x%x.%u %s bits 0x%08x (restore on a host with the same or a newer CPU and kernel)",
				 feature_regs[i].function, feature_regs[i].index,
				 reg_name[feature_regs[i].reg], want & ~have & ~ignore);
			return -EOPNOTSUPP;
		}
	}
	return 0;
}
