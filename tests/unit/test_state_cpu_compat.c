// SPDX-License-Identifier: MIT
/* A saved guest's CPUID against this host's: missing features refused. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "state/cpu_compat.h"

static struct kvm_cpuid2 *cpuid(unsigned int n)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));

	c->nent = n;
	return c;
}

static void set(struct kvm_cpuid2 *c, unsigned int i, uint32_t fn, uint32_t idx, uint32_t eax,
		uint32_t ebx, uint32_t ecx, uint32_t edx)
{
	c->entries[i] = (struct kvm_cpuid_entry2){
		.function = fn, .index = idx, .eax = eax, .ebx = ebx, .ecx = ecx, .edx = edx,
		.flags = fn == 7 || fn == 0xd ? KVM_CPUID_FLAG_SIGNIFCANT_INDEX : 0,
	};
}

Test(cpu_compat, subset_ok_superset_refused)
{
	struct kvm_cpuid2 *host = cpuid(4), *guest = cpuid(3);
	char msg[256] = "";

	set(host, 0, 1, 0, 0, 0, 0x00001000, 0x0000ffff);
	set(host, 1, 7, 0, 0, 0x20 | 0x8, 0, 0);
	set(host, 2, 7, 1, 0x10, 0, 0, 0);
	set(host, 3, 0xd, 0, 0x7, 0, 0, 0);
	/* the guest saw fewer features, plus the bits vmm sets itself */
	set(guest, 0, 1, 0, 0, 0, 0x00001000 | (1u << 31) | (1u << 27), 0x000000ff | (1u << 28));
	set(guest, 1, 7, 0, 0, 0x20, 0, 0);
	set(guest, 2, 0xd, 0, 0x7, 0, 0, 0);
	cr_assert_eq(cpu_compat_check(guest, host, false, msg, sizeof(msg)), 0, "%s", msg);

	/* AVX-512F (7.0 EBX bit 16) on the saving host only */
	guest->entries[1].ebx |= 1u << 16;
	cr_assert_eq(cpu_compat_check(guest, host, false, msg, sizeof(msg)), -EOPNOTSUPP);
	cr_assert(strstr(msg, "CPUID 0x7.0 EBX bits 0x00010000"), "%s", msg);
	guest->entries[1].ebx &= ~(1u << 16);

	/* an XCR0 component (AVX-512 state) this host cannot hold */
	guest->entries[2].eax |= 0xe0;
	cr_assert_eq(cpu_compat_check(guest, host, false, msg, sizeof(msg)), -EOPNOTSUPP);
	cr_assert(strstr(msg, "CPUID 0xd.0 EAX bits 0x000000e0"), "%s", msg);
	guest->entries[2].eax = 0x7;

	/* TSC-deadline: fine only when this host's KVM has the timer */
	guest->entries[0].ecx |= 1u << 24;
	cr_assert_eq(cpu_compat_check(guest, host, true, msg, sizeof(msg)), 0, "%s", msg);
	cr_assert_eq(cpu_compat_check(guest, host, false, msg, sizeof(msg)), -EOPNOTSUPP);
	cr_assert(strstr(msg, "CPUID 0x1.0 ECX bits 0x01000000"), "%s", msg);

	/* a leaf the host does not have at all */
	guest->entries[0].ecx &= ~(1u << 24);
	set(guest, 2, 0x80000001, 0, 0, 0, 0x1, 0);
	cr_assert_eq(cpu_compat_check(guest, host, false, msg, sizeof(msg)), -EOPNOTSUPP);
	cr_assert(strstr(msg, "CPUID 0x80000001.0 ECX bits 0x00000001"), "%s", msg);
	free(host);
	free(guest);
}
