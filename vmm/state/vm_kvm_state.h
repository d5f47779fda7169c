/* SPDX-License-Identifier: MIT */
/*
 * The VM-wide state that lives in KVM: both PICs, the IOAPIC, the PIT
 * (KVM_CREATE_PIT2) and the KVM clock.  Get/set with ioctls on the VM fd,
 * and one section each (stream.h) whose payload is the x86-64 uapi struct:
 *   pic-master, pic-slave, ioapic   struct kvm_irqchip (chip_id + 512 bytes)
 *   pit2                            struct kvm_pit_state2
 *   clock                           struct kvm_clock_data
 * GSI routing and irqfds are vmm's own (rebuilt from the config and the
 * devices' MSI-X state on restore), not saved here.
 *
 * UNTESTED ON KVM: the ioctl paths were written against the KVM API
 * documentation; the serialization is unit-tested.
 */
#ifndef VMM_STATE_VM_KVM_STATE_H
#define VMM_STATE_VM_KVM_STATE_H

#include <linux/kvm.h>
#include <stdint.h>

#include "stream.h"

enum vm_kvm_part {
	VM_KVM_PIC_MASTER, VM_KVM_PIC_SLAVE, VM_KVM_IOAPIC, VM_KVM_PIT2, VM_KVM_CLOCK,
	VM_KVM_NR_PARTS,
};

/* What the guest's clock does across a restore (docs/snapshot.md). */
enum vm_clock_policy {
	VM_CLOCK_CONTINUE,	/* kvmclock carries on from the saved value: no jump (default) */
	VM_CLOCK_WALL,		/* kvmclock advances by the wall-clock time that passed */
};

struct vm_kvm_saved {
	uint32_t have;		/* bit per enum vm_kvm_part */
	struct kvm_irqchip chip[3];	/* indexed by KVM_IRQCHIP_* */
	struct kvm_pit_state2 pit;
	struct kvm_clock_data clock;
};

extern const struct state_section_desc vm_kvm_sections[VM_KVM_NR_PARTS];

/* KVM_GET_IRQCHIP x3, KVM_GET_PIT2, KVM_GET_CLOCK; the VM must be paused. */
int vm_kvm_state_get(int vm_fd, struct vm_kvm_saved *s);
/* The reverse, every part required; the clock per policy. */
int vm_kvm_state_set(int vm_fd, const struct vm_kvm_saved *s, enum vm_clock_policy policy);

int vm_kvm_saved_write(const struct vm_kvm_saved *s, struct state_writer *w);
bool vm_kvm_saved_is_section(uint32_t type);
/* Parses r's current section into s and ends it; a repeated part is refused. */
int vm_kvm_saved_parse(struct vm_kvm_saved *s, struct state_reader *r);

/*
 * Pure: the kvm_clock_data to hand KVM_SET_CLOCK.  CONTINUE: the saved
 * clock, no flags.  WALL: when the saved data carries KVM_CLOCK_REALTIME
 * and now_realtime_ns is later, the clock advanced by the difference
 * (computed here, so it works on kernels whose KVM_SET_CLOCK ignores
 * realtime); never backwards.
 */
struct kvm_clock_data vm_kvm_clock_for_restore(const struct kvm_clock_data *saved,
					       enum vm_clock_policy policy,
					       uint64_t now_realtime_ns);

#endif
