// SPDX-License-Identifier: MIT
/* The guest's CPUID table: APIC IDs, topology, hypervisor and TSC-deadline bits. */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "cpu/cpuid.h"

#define NENT 10

static struct kvm_cpuid2 *table(void)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + NENT * sizeof(c->entries[0]));

	cr_assert_not_null(c);
	c->nent = 7;
	/* leaf 1 as a host might report it: HTT set, APIC ID 7, count 16 */
	c->entries[0] = (struct kvm_cpuid_entry2){ .function = 0x1, .ebx = 0x07100800,
						   .ecx = 0x00000001, .edx = 1u << 28 };
	c->entries[1] = (struct kvm_cpuid_entry2){ .function = 0xb, .index = 0 };
	c->entries[2] = (struct kvm_cpuid_entry2){ .function = 0xb, .index = 1 };
	c->entries[3] = (struct kvm_cpuid_entry2){ .function = 0x80000008, .ecx = 0xffff };
	c->entries[4] = (struct kvm_cpuid_entry2){ .function = 0x8000001e, .eax = 9, .ecx = 0x100 };
	/* invariant TSC and the kvmclock bits, as KVM_GET_SUPPORTED_CPUID gives them */
	c->entries[5] = (struct kvm_cpuid_entry2){ .function = 0x80000007, .edx = CPUID_INVTSC_EDX | 1 };
	c->entries[6] = (struct kvm_cpuid_entry2){ .function = KVM_CPUID_FEATURES,
						   .eax = KVM_FEATURE_CLOCKSOURCE_BIT | KVM_FEATURE_CLOCKSOURCE2_BIT |
							  KVM_FEATURE_CLOCKSOURCE_STABLE };
	return c;
}

Test(cpuid, leaf1_describes_this_vcpu)
{
	struct kvm_cpuid2 *c = table();

	x86_cpuid_patch(c, 3, 4, false);
	cr_assert_eq(c->entries[0].ebx >> 24, 3, "APIC ID");
	cr_assert_eq((c->entries[0].ebx >> 16) & 0xff, 4, "logical count");
	cr_assert_eq(c->entries[0].ebx & 0xffff, 0x0800, "brand/clflush kept");
	cr_assert(c->entries[0].edx & (1u << 28), "HTT with 4 CPUs");
	cr_assert(c->entries[0].ecx & (1u << 31), "hypervisor bit");
	cr_assert(c->entries[0].ecx & 1u, "host bits kept");
	free(c);
}

Test(cpuid, single_cpu_has_no_htt)
{
	struct kvm_cpuid2 *c = table();

	x86_cpuid_patch(c, 0, 1, false);
	cr_assert_eq(c->entries[0].edx & (1u << 28), 0);
	cr_assert_eq(c->entries[3].ecx & 0xff, 0, "AMD NC = cores - 1");
	free(c);
}

Test(cpuid, tsc_deadline_bit_follows_kvm)
{
	struct kvm_cpuid2 *c = table();

	x86_cpuid_patch(c, 0, 1, false);
	cr_assert_eq(c->entries[0].ecx & (1u << 24), 0, "not offered without the capability");
	x86_cpuid_patch(c, 0, 1, true);
	cr_assert(c->entries[0].ecx & (1u << 24), "TSC-deadline when KVM emulates it");
	free(c);
}

Test(cpuid, extended_topology)
{
	struct kvm_cpuid2 *c = table();

	x86_cpuid_patch(c, 2, 4, false);
	cr_assert_eq(c->entries[1].edx, 2, "x2APIC ID");
	cr_assert_eq(c->entries[1].ebx, 1, "one thread per core");
	cr_assert_eq(c->entries[2].ebx, 4, "four cores");
	cr_assert_eq(c->entries[2].eax, 2, "shift to the package ID");
	cr_assert_eq((c->entries[3].ecx >> 12) & 0xf, 2, "ApicIdCoreIdSize");
	cr_assert_eq(c->entries[4].eax, 2, "extended APIC ID");
	cr_assert_eq(c->entries[4].ecx, 0);
	free(c);
}

Test(cpuid, invariant_tsc_only_with_a_stable_master_clock)
{
	struct kvm_cpuid2 *c = table();

	x86_cpuid_patch(c, 0, 2, 0);
	cr_assert_eq(c->entries[5].edx, 1, "invariant TSC hidden, other bits kept");
	free(c);
	c = table();
	x86_cpuid_patch(c, 0, 2, X86_CPUID_INVTSC);
	cr_assert_eq(c->entries[5].edx, CPUID_INVTSC_EDX | 1, "invariant TSC kept");
	free(c);
}

Test(cpuid, kvmclock_bits_kept)
{
	struct kvm_cpuid2 *c = table();

	x86_cpuid_patch(c, 1, 2, X86_CPUID_TSC_DEADLINE);
	cr_assert_eq(c->entries[6].eax, KVM_FEATURE_CLOCKSOURCE_BIT | KVM_FEATURE_CLOCKSOURCE2_BIT |
		     KVM_FEATURE_CLOCKSOURCE_STABLE);
	free(c);
}
