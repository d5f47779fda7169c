// SPDX-License-Identifier: MIT
/*
 * Interrupts into the in-kernel irqchip: legacy lines, MSIs, and the GSI
 * routing table behind irqfds.  KVM_SET_GSI_ROUTING replaces the whole
 * table, so we keep it in struct vm: the PC's default routes (GSI 0-15 to
 * the 8259s and the IOAPIC, 16-23 to the IOAPIC) followed by MSI routes.
 */
#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "log.h"
#include "mem/layout.h"
#include "vm.h"
#include "vm_runtime.h"

#define IOAPIC_PINS	24

static struct kvm_irq_routing *routing(struct vm *vm)
{
	return vm->routing;
}

/* Called once from vm set-up, after KVM_CREATE_IRQCHIP. */
int vm_irq_routing_init(struct vm *vm)
{
	struct kvm_irq_routing *r;
	unsigned int i;

	r = calloc(1, sizeof(*r) + VM_MAX_GSI_ROUTES * sizeof(r->entries[0]));
	if (!r)
		return -ENOMEM;
	for (i = 0; i < 16; i++) {
		struct kvm_irq_routing_entry *e = &r->entries[r->nr++];

		e->gsi = i;
		e->type = KVM_IRQ_ROUTING_IRQCHIP;
		e->u.irqchip.irqchip = i < 8 ? KVM_IRQCHIP_PIC_MASTER : KVM_IRQCHIP_PIC_SLAVE;
		e->u.irqchip.pin = i % 8;
	}
	for (i = 0; i < IOAPIC_PINS; i++) {
		struct kvm_irq_routing_entry *e = &r->entries[r->nr++];

		e->gsi = i;
		e->type = KVM_IRQ_ROUTING_IRQCHIP;
		e->u.irqchip.irqchip = KVM_IRQCHIP_IOAPIC;
		e->u.irqchip.pin = i;
	}
	vm->routing = r;
	vm->next_msi_gsi = GSI_MSI_BASE;
	return 0;
}

static int routing_commit(struct vm *vm)
{
	if (ioctl(vm->vm_fd, KVM_SET_GSI_ROUTING, routing(vm)) < 0) {
		log_err("KVM_SET_GSI_ROUTING failed: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

static struct kvm_irq_routing_entry *msi_route_find(struct vm *vm, unsigned int gsi)
{
	struct kvm_irq_routing *r = routing(vm);
	unsigned int i;

	for (i = 0; i < r->nr; i++)
		if (r->entries[i].gsi == gsi && r->entries[i].type == KVM_IRQ_ROUTING_MSI)
			return &r->entries[i];
	return NULL;
}

static void msi_fill(struct kvm_irq_routing_entry *e, uint64_t addr, uint32_t data)
{
	e->type = KVM_IRQ_ROUTING_MSI;
	e->flags = 0;
	e->u.msi.address_lo = (uint32_t)addr;
	e->u.msi.address_hi = (uint32_t)(addr >> 32);
	e->u.msi.data = data;
}

int vm_msi_route_add(struct vm *vm, uint64_t addr, uint32_t data)
{
	struct kvm_irq_routing *r;
	struct kvm_irq_routing_entry *e;
	unsigned int gsi, i;
	int ret;

	pthread_mutex_lock(&vm->irq_lock);
	r = routing(vm);
	if (r->nr >= VM_MAX_GSI_ROUTES) {
		ret = -ENOSPC;
		goto out;
	}
	/* lowest free GSI at or above the MSI base */
	for (gsi = GSI_MSI_BASE;; gsi++) {
		for (i = 0; i < r->nr && r->entries[i].gsi != gsi; i++)
			;
		if (i == r->nr)
			break;
	}
	e = &r->entries[r->nr++];
	memset(e, 0, sizeof(*e));
	e->gsi = gsi;
	msi_fill(e, addr, data);
	ret = routing_commit(vm);
	if (ret)
		r->nr--;
	else
		ret = (int)gsi;
out:
	pthread_mutex_unlock(&vm->irq_lock);
	return ret;
}

int vm_msi_route_update(struct vm *vm, unsigned int gsi, uint64_t addr, uint32_t data)
{
	struct kvm_irq_routing_entry *e;
	int ret = -ENOENT;

	pthread_mutex_lock(&vm->irq_lock);
	e = msi_route_find(vm, gsi);
	if (e) {
		msi_fill(e, addr, data);
		ret = routing_commit(vm);
	}
	pthread_mutex_unlock(&vm->irq_lock);
	return ret;
}

int vm_msi_route_del(struct vm *vm, unsigned int gsi)
{
	struct kvm_irq_routing *r;
	struct kvm_irq_routing_entry *e;
	int ret = -ENOENT;

	pthread_mutex_lock(&vm->irq_lock);
	r = routing(vm);
	e = msi_route_find(vm, gsi);
	if (e) {
		*e = r->entries[--r->nr];
		ret = routing_commit(vm);
	}
	pthread_mutex_unlock(&vm->irq_lock);
	return ret;
}

int vm_irq_line(struct vm *vm, unsigned int gsi, int level)
{
	struct kvm_irq_level irq = { .irq = gsi, .level = level ? 1 : 0 };

	if (ioctl(vm->vm_fd, KVM_IRQ_LINE, &irq) < 0)
		return -errno;
	return 0;
}

int vm_irq_pin_masked(struct vm *vm, unsigned int gsi)
{
	struct kvm_irqchip chip = { .chip_id = KVM_IRQCHIP_IOAPIC };

	if (gsi >= IOAPIC_PINS)
		return -EINVAL;
	if (ioctl(vm->vm_fd, KVM_GET_IRQCHIP, &chip) < 0)
		return -errno;
	return chip.chip.ioapic.redirtbl[gsi].fields.mask ? 1 : 0;
}

int vm_msi_signal(struct vm *vm, uint64_t addr, uint32_t data)
{
	struct kvm_msi msi = {
		.address_lo = (uint32_t)addr,
		.address_hi = (uint32_t)(addr >> 32),
		.data = data,
	};

	if (ioctl(vm->vm_fd, KVM_SIGNAL_MSI, &msi) < 0)
		return -errno;
	return 0;
}

int vm_irqfd(struct vm *vm, int fd, unsigned int gsi, bool assign)
{
	struct kvm_irqfd irqfd = {
		.fd = (uint32_t)fd,
		.gsi = gsi,
		.flags = assign ? 0 : KVM_IRQFD_FLAG_DEASSIGN,
	};

	if (ioctl(vm->vm_fd, KVM_IRQFD, &irqfd) < 0)
		return -errno;
	return 0;
}

int vm_ioeventfd(struct vm *vm, int fd, uint64_t addr, unsigned int len,
		 bool is_pio, bool assign)
{
	struct kvm_ioeventfd ioev = {
		.addr = addr,
		.len = len,
		.fd = fd,
		.flags = (is_pio ? KVM_IOEVENTFD_FLAG_PIO : 0) |
			 (assign ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN),
	};

	if (ioctl(vm->vm_fd, KVM_IOEVENTFD, &ioev) < 0)
		return -errno;
	return 0;
}
