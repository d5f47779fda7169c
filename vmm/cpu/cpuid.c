// SPDX-License-Identifier: MIT
/*
 * The CPUID table a guest sees: KVM_GET_SUPPORTED_CPUID's entries with the
 * ones that must describe THIS guest rewritten (APIC IDs, topology, the
 * hypervisor, TSC-deadline and invariant-TSC bits).  Pure table logic, unit-tested
 * (tests/unit/test_cpuid.c); x86.c does the ioctls.
 */
#include "cpuid.h"

static unsigned int bits_for(unsigned int n)
{
	unsigned int b = 0;

	while ((1u << b) < n)
		b++;
	return b;
}

void x86_cpuid_patch(struct kvm_cpuid2 *cpuid, unsigned int apic_id, unsigned int ncpus,
		     unsigned int features)
{
	unsigned int i;

	for (i = 0; i < cpuid->nent; i++) {
		struct kvm_cpuid_entry2 *e = &cpuid->entries[i];

		switch (e->function) {
		case 0x1:
			/* APIC ID, logical processor count, HTT when > 1 */
			e->ebx = (e->ebx & 0x0000ffff) | (apic_id << 24) |
				 ((ncpus & 0xff) << 16);
			if (ncpus > 1)
				e->edx |= 1u << 28;
			else
				e->edx &= ~(1u << 28);
			e->ecx |= 1u << 31;	/* hypervisor present */
			/*
			 * KVM emulates the TSC-deadline timer but leaves the bit
			 * to us (KVM_CAP_TSC_DEADLINE_TIMER).  Without it Linux
			 * spends 100 ms of every boot calibrating the LAPIC timer
			 * against the TSC (calibrate_APIC_clock, HZ/10 ticks).
			 */
			if (features & X86_CPUID_TSC_DEADLINE)
				e->ecx |= 1u << 24;
			break;
		case 0x4:
			/* deterministic cache params: cores per package - 1 in 31:26 */
			e->eax = (e->eax & 0x03ffffff) | (((ncpus - 1) & 0x3f) << 26);
			e->eax &= ~(0xfffu << 14);	/* one thread shares each cache */
			break;
		case 0xb:
		case 0x1f:
			/* extended topology: one thread per core, ncpus cores */
			e->edx = apic_id;
			if (e->index == 0) {
				e->eax = 0;
				e->ebx = 1;
				e->ecx = (1u << 8) | 0;
			} else if (e->index == 1) {
				e->eax = bits_for(ncpus);
				e->ebx = ncpus;
				e->ecx = (2u << 8) | 1;
			} else {
				e->eax = 0;
				e->ebx = 0;
				e->ecx = e->index;
			}
			break;
		case 0x80000007:
			/*
			 * Invariant TSC tells Linux to prefer the raw TSC to
			 * kvmclock (kvm_clock.rating 299).  True only while KVM
			 * keeps every vCPU's TSC on one master clock; else the
			 * guest would read TSCs KVM re-offsets per vCPU and see
			 * time go backwards (QEMU hides the bit by default too).
			 */
			if (!(features & X86_CPUID_INVTSC))
				e->edx &= ~CPUID_INVTSC_EDX;
			break;
		case 0x80000008:
			/* AMD: NC = cores - 1, ApicIdCoreIdSize */
			e->ecx = (e->ecx & ~0xf0ffu) | ((ncpus - 1) & 0xff) |
				 (bits_for(ncpus) << 12);
			break;
		case 0x8000001e:
			/* AMD: extended APIC ID, one thread per core */
			e->eax = apic_id;
			e->ebx = apic_id & 0xff;
			e->ecx = 0;
			break;
		}
	}
}
