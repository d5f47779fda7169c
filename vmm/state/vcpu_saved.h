/* SPDX-License-Identifier: MIT */
/*
 * One vCPU's saved state, KVM-free: the KVM uapi structures as
 * KVM_GET_* returned them, written as one section each (stream.h) and
 * parsed back.  vmm/cpu/vcpu_state.c does the ioctls; this file does the
 * bytes, so it is unit-tested without KVM.
 *
 * Each per-vCPU section's payload is: u32 vCPU index, then
 *   cpuid      u32 nent, nent x struct kvm_cpuid_entry2 (40 bytes)
 *   mp-state   struct kvm_mp_state
 *   regs       struct kvm_regs            sregs   struct kvm_sregs
 *   xsave      u32 size, size bytes of struct kvm_xsave (>= 4096)
 *   xcrs       struct kvm_xcrs            debugregs struct kvm_debugregs
 *   lapic      struct kvm_lapic_state (1024 bytes)
 *   msrs       u32 tsc_khz (0: unknown), u32 n, n x (u32 index, u64 data)
 *   events     struct kvm_vcpu_events
 * The fixed structures are the x86-64 Linux uapi layouts, which KVM
 * keeps stable; each is checked for its exact size.
 */
#ifndef VMM_STATE_VCPU_SAVED_H
#define VMM_STATE_VCPU_SAVED_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stdint.h>

#include "stream.h"

#define VCPU_SAVED_MAX_CPUID	256
#define VCPU_SAVED_MAX_MSRS	1024
#define VCPU_SAVED_MAX_XSAVE	(64u << 10)

#define MSR_IA32_TSC_IDX		0x10
#define MSR_IA32_TSC_DEADLINE_IDX	0x6e0

enum vcpu_part {
	VCPU_PART_CPUID, VCPU_PART_MP_STATE, VCPU_PART_REGS, VCPU_PART_SREGS,
	VCPU_PART_XSAVE, VCPU_PART_XCRS, VCPU_PART_DEBUGREGS, VCPU_PART_LAPIC,
	VCPU_PART_MSRS, VCPU_PART_EVENTS,
	VCPU_NR_PARTS,
};

struct vcpu_saved {
	uint32_t index;
	uint32_t have;			/* bit per enum vcpu_part */
	struct kvm_cpuid2 *cpuid;	/* malloc()ed, nent entries */
	struct kvm_mp_state mp_state;
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_xsave *xsave;	/* malloc()ed, xsave_size bytes */
	uint32_t xsave_size;
	struct kvm_xcrs xcrs;
	struct kvm_debugregs debugregs;
	struct kvm_lapic_state lapic;
	struct kvm_msrs *msrs;		/* malloc()ed, nmsrs entries */
	uint32_t tsc_khz;
	struct kvm_vcpu_events events;
};

/* Section descriptions for a reader (state_reader_init's known table). */
extern const struct state_section_desc vcpu_saved_sections[VCPU_NR_PARTS];

void vcpu_saved_free(struct vcpu_saved *s);
/* Writes every part s has, in save order. */
int vcpu_saved_write(const struct vcpu_saved *s, struct state_writer *w);
/* True when r's current section is a per-vCPU one. */
bool vcpu_saved_is_section(uint32_t type);
/*
 * Parses r's current (per-vCPU) section into saved[index], 0 <= index <
 * nr_vcpus; a section for a vCPU out of range or a part seen twice is
 * refused.  Ends the section (state_section_done).
 */
int vcpu_saved_parse(struct vcpu_saved *saved, unsigned int nr_vcpus, struct state_reader *r);
/* Whether every part a restore needs is present; msg names the first missing one. */
int vcpu_saved_complete(const struct vcpu_saved *s, char *msg, size_t len);

/*
 * Restore fix-ups on the MSR list (pure, unit-tested):
 *  - IA32_TSC moves to the front and IA32_TSC_DEADLINE to the end, so the
 *    deadline is set against the restored TSC;
 *  - a zero TSC_DEADLINE while the LAPIC timer is unmasked in TSC-deadline
 *    mode becomes the saved TSC value: the timer fires at once instead of
 *    never (KVM reads 0 once the deadline has expired, even when the
 *    interrupt was not yet delivered, and 0 disarms the timer).
 */
void vcpu_saved_fix_msrs(struct vcpu_saved *s);

#endif
