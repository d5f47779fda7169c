// SPDX-License-Identifier: MIT
/*
 * VM-wide KVM state (PICs, IOAPIC, PIT, clock): see vm_kvm_state.h.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include <sys/ioctl.h>

#include "log.h"
#include "vm_kvm_state.h"

const struct state_section_desc vm_kvm_sections[VM_KVM_NR_PARTS] = {
	[VM_KVM_PIC_MASTER] = { STATE_SEC_VM_PIC_MASTER, "pic-master", 1, sizeof(struct kvm_irqchip) },
	[VM_KVM_PIC_SLAVE] = { STATE_SEC_VM_PIC_SLAVE, "pic-slave", 1, sizeof(struct kvm_irqchip) },
	[VM_KVM_IOAPIC] = { STATE_SEC_VM_IOAPIC, "ioapic", 1, sizeof(struct kvm_irqchip) },
	[VM_KVM_PIT2] = { STATE_SEC_VM_PIT2, "pit2", 1, sizeof(struct kvm_pit_state2) },
	[VM_KVM_CLOCK] = { STATE_SEC_VM_CLOCK, "clock", 1, sizeof(struct kvm_clock_data) },
};

static const char *const chip_name[3] = { "PIC master", "PIC slave", "IOAPIC" };

static void *part_ptr(struct vm_kvm_saved *s, enum vm_kvm_part p, size_t *len)
{
	switch (p) {
	case VM_KVM_PIC_MASTER:
	case VM_KVM_PIC_SLAVE:
	case VM_KVM_IOAPIC:
		*len = sizeof(s->chip[p]);
		return &s->chip[p];
	case VM_KVM_PIT2:
		*len = sizeof(s->pit);
		return &s->pit;
	case VM_KVM_CLOCK:
		*len = sizeof(s->clock);
		return &s->clock;
	default:
		return NULL;
	}
}

static int kvm_err(const char *what, const char *detail)
{
	int ret = -errno;

	log_err("%s%s failed: %s", what, detail, strerror(-ret));
	return ret;
}

int vm_kvm_state_get(int vm_fd, struct vm_kvm_saved *s)
{
	unsigned int i;

	memset(s, 0, sizeof(*s));
	for (i = 0; i < 3; i++) {
		/* KVM_IRQCHIP_PIC_MASTER 0, PIC_SLAVE 1, IOAPIC 2 */
		s->chip[i].chip_id = i;
		if (ioctl(vm_fd, KVM_GET_IRQCHIP, &s->chip[i]) < 0)
			return kvm_err("KVM_GET_IRQCHIP ", chip_name[i]);
		s->have |= 1u << i;
	}
	if (ioctl(vm_fd, KVM_GET_PIT2, &s->pit) < 0)
		return kvm_err("KVM_GET_PIT2", "");
	s->have |= 1u << VM_KVM_PIT2;
	if (ioctl(vm_fd, KVM_GET_CLOCK, &s->clock) < 0)
		return kvm_err("KVM_GET_CLOCK", "");
	s->have |= 1u << VM_KVM_CLOCK;
	return 0;
}

struct kvm_clock_data vm_kvm_clock_for_restore(const struct kvm_clock_data *saved,
					       enum vm_clock_policy policy,
					       uint64_t now_realtime_ns)
{
	struct kvm_clock_data c = { .clock = saved->clock };

	if (policy == VM_CLOCK_WALL && (saved->flags & KVM_CLOCK_REALTIME) &&
	    now_realtime_ns > saved->realtime &&
	    c.clock + (now_realtime_ns - saved->realtime) > c.clock)
		c.clock += now_realtime_ns - saved->realtime;
	return c;
}

int vm_kvm_state_set(int vm_fd, const struct vm_kvm_saved *s, enum vm_clock_policy policy)
{
	struct kvm_clock_data c;
	struct timespec ts;
	unsigned int i;

	if ((s->have & ((1u << VM_KVM_NR_PARTS) - 1)) != (1u << VM_KVM_NR_PARTS) - 1) {
		log_err("state file: VM interrupt controller or clock state missing");
		return -EINVAL;
	}
	for (i = 0; i < 3; i++) {
		if (s->chip[i].chip_id != i) {
			log_err("state file: %s section holds chip %u", chip_name[i],
				s->chip[i].chip_id);
			return -EINVAL;
		}
		if (ioctl(vm_fd, KVM_SET_IRQCHIP, &s->chip[i]) < 0)
			return kvm_err("KVM_SET_IRQCHIP ", chip_name[i]);
	}
	if (ioctl(vm_fd, KVM_SET_PIT2, &s->pit) < 0)
		return kvm_err("KVM_SET_PIT2", "");
	clock_gettime(CLOCK_REALTIME, &ts);
	c = vm_kvm_clock_for_restore(&s->clock, policy,
				     (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec);
	if (ioctl(vm_fd, KVM_SET_CLOCK, &c) < 0)
		return kvm_err("KVM_SET_CLOCK", "");
	return 0;
}

int vm_kvm_saved_write(const struct vm_kvm_saved *s, struct state_writer *w)
{
	struct vm_kvm_saved *m = (struct vm_kvm_saved *)s;
	const void *p;
	size_t len;
	int i;

	for (i = 0; i < VM_KVM_NR_PARTS; i++) {
		if (!(s->have & (1u << i)))
			continue;
		p = part_ptr(m, i, &len);
		state_begin(w, vm_kvm_sections[i].type, 1, STATE_SECF_REQUIRED);
		state_put_bytes(w, p, len);
		if (state_end(w) < 0)
			return w->error;
	}
	return 0;
}

static int part_of(uint32_t type)
{
	int i;

	for (i = 0; i < VM_KVM_NR_PARTS; i++)
		if (vm_kvm_sections[i].type == type)
			return i;
	return -1;
}

bool vm_kvm_saved_is_section(uint32_t type)
{
	return part_of(type) >= 0;
}

int vm_kvm_saved_parse(struct vm_kvm_saved *s, struct state_reader *r)
{
	int part = part_of(r->type);
	size_t len;
	void *p;

	if (part < 0)
		return state_reader_fail(r, "not a VM section");
	if (s->have & (1u << part))
		return state_reader_fail(r, "section repeated");
	p = part_ptr(s, part, &len);
	if (state_remaining(r) != len)
		return state_reader_fail(r, "%zu bytes, expected %zu", state_remaining(r), len);
	if (state_get_bytes(r, p, len) < 0 || state_section_done(r) < 0)
		return r->error;
	if (part <= VM_KVM_IOAPIC && s->chip[part].chip_id != (uint32_t)part)
		return state_reader_fail(r, "holds chip %u", s->chip[part].chip_id);
	s->have |= 1u << part;
	return 0;
}
