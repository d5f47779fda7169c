// SPDX-License-Identifier: MIT
/*
 * virtio-pci interrupts: MSI-X (table + PBA in BAR 4, one eventfd/irqfd/MSI
 * route per vector, masking with pending bits) and INTx with the ISR byte.
 */
#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "log.h"
#include "vm.h"
#include "virtio_pci.h"

#define MSIX_CTRL_ENABLE	0x80	/* in byte 3 of the capability */
#define MSIX_CTRL_FMASK		0x40
#define MSIX_ENTRY_MASKED	1u

int vpci_irq_init(struct virtio_pci_dev *t)
{
	unsigned int i;

	for (i = 0; i < t->nr_vectors; i++) {
		t->vec[i].efd = -1;
		t->vec[i].gsi = -1;
		t->vec[i].ctrl = MSIX_ENTRY_MASKED;
	}
	for (i = 0; i < t->nr_vectors; i++) {
		t->vec[i].efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (t->vec[i].efd < 0)
			return -errno;
	}
	return 0;
}

void vpci_irq_cleanup(struct virtio_pci_dev *t)
{
	unsigned int i;

	for (i = 0; i < t->nr_vectors; i++) {
		struct vpci_vector *v = &t->vec[i];

		if (v->gsi >= 0) {
			vm_irqfd(t->vm, v->efd, (unsigned int)v->gsi, false);
			vm_msi_route_del(t->vm, (unsigned int)v->gsi);
			v->gsi = -1;
		}
		if (v->efd >= 0)
			close(v->efd);
		v->efd = -1;
	}
}

/*
 * irq_lock held.  The enable and function-mask bits are read from our copy:
 * config space itself changes under the PCI cfg_lock, which I/O threads
 * raising interrupts do not hold.
 */
static bool msix_enabled(const struct virtio_pci_dev *t)
{
	return t->msix_ctrl & MSIX_CTRL_ENABLE;
}

static bool msix_fmasked(const struct virtio_pci_dev *t)
{
	return t->msix_ctrl & MSIX_CTRL_FMASK;
}

static uint64_t vec_addr(const struct vpci_vector *v)
{
	return (uint64_t)v->addr_hi << 32 | v->addr_lo;
}

/* irq_lock held.  Sends vector n now, or marks it pending if masked. */
static void msix_send(struct virtio_pci_dev *t, unsigned int n)
{
	struct vpci_vector *v;
	uint64_t one = 1;
	int gsi;

	if (n >= t->nr_vectors)
		return;				/* NO_VECTOR or bogus: no interrupt */
	v = &t->vec[n];
	if (msix_fmasked(t) || (v->ctrl & MSIX_ENTRY_MASKED)) {
		v->pending = true;
		return;
	}
	v->pending = false;
	if (v->gsi < 0) {
		gsi = vm_msi_route_add(t->vm, vec_addr(v), v->data);
		if (gsi >= 0 && vm_irqfd(t->vm, v->efd, (unsigned int)gsi, true)) {
			vm_msi_route_del(t->vm, (unsigned int)gsi);
			gsi = -1;
		}
		if (gsi < 0) {
			/* no route: inject directly, slower but correct */
			vm_msi_signal(t->vm, vec_addr(v), v->data);
			return;
		}
		v->gsi = gsi;
	}
	if (write(v->efd, &one, sizeof(one)) != sizeof(one))
		log_warn("%s: MSI-X vector %u: eventfd write failed", t->pci.name, n);
}

void vpci_irq_reset(struct virtio_pci_dev *t)
{
	unsigned int i;

	pthread_mutex_lock(&t->irq_lock);
	for (i = 0; i < t->nr_vectors; i++)
		t->vec[i].pending = false;
	if (t->isr) {
		t->isr = 0;
		pci_set_irq(&t->pci, 0);
	}
	pthread_mutex_unlock(&t->irq_lock);
}

static void raise_irq(struct virtio_pci_dev *t, unsigned int vector, uint8_t isr_bit)
{
	pthread_mutex_lock(&t->irq_lock);
	if (msix_enabled(t)) {
		msix_send(t, vector);
	} else {
		t->isr |= isr_bit;
		pci_set_irq(&t->pci, 1);
	}
	pthread_mutex_unlock(&t->irq_lock);
}

void virtio_pci_queue_irq(struct virtio_pci_dev *t, unsigned int q)
{
	if (q >= t->nr_queues)
		return;
	raise_irq(t, __atomic_load_n(&t->queue_vector[q], __ATOMIC_RELAXED), 1);
}

void virtio_pci_config_irq(struct virtio_pci_dev *t)
{
	raise_irq(t, __atomic_load_n(&t->config_vector, __ATOMIC_RELAXED), 2);
}

uint8_t vpci_isr_read(struct virtio_pci_dev *t)
{
	uint8_t v;

	pthread_mutex_lock(&t->irq_lock);
	v = t->isr;
	t->isr = 0;
	if (v)
		pci_set_irq(&t->pci, 0);
	pthread_mutex_unlock(&t->irq_lock);
	return v;
}

static uint32_t entry_read(const struct vpci_vector *v, unsigned int field)
{
	switch (field) {
	case 0: return v->addr_lo;
	case 1: return v->addr_hi;
	case 2: return v->data;
	default: return v->ctrl;
	}
}

/* irq_lock held */
static void entry_write(struct virtio_pci_dev *t, unsigned int n, unsigned int field, uint32_t val)
{
	struct vpci_vector *v = &t->vec[n];
	bool was_masked = v->ctrl & MSIX_ENTRY_MASKED;

	switch (field) {
	case 0: v->addr_lo = val & ~3u; break;
	case 1: v->addr_hi = val; break;
	case 2: v->data = val; break;
	default: v->ctrl = val & MSIX_ENTRY_MASKED; break;
	}
	if (field < 3 && v->gsi >= 0)
		vm_msi_route_update(t->vm, (unsigned int)v->gsi, vec_addr(v), v->data);
	if (field == 3 && was_masked && !(v->ctrl & MSIX_ENTRY_MASKED) && v->pending &&
	    msix_enabled(t))
		msix_send(t, n);
}

void vpci_msix_read(struct virtio_pci_dev *t, uint64_t off, void *data, unsigned int len)
{
	uint32_t w[2] = { 0, 0 };
	unsigned int i, n = len == 8 ? 2 : 1;

	memset(data, 0, len);
	if ((len != 4 && len != 8) || (off & (len - 1)))
		return;
	pthread_mutex_lock(&t->irq_lock);
	for (i = 0; i < n; i++) {
		uint64_t o = off + 4 * i;

		if (o >= VPCI_MSIX_PBA_OFF) {
			uint64_t bit = (o - VPCI_MSIX_PBA_OFF) * 8;
			unsigned int b;

			for (b = 0; b < 32; b++)
				if (bit + b < t->nr_vectors && t->vec[bit + b].pending)
					w[i] |= 1u << b;
		} else if (o < VPCI_MSIX_TABLE_OFF + VPCI_MSIX_TABLE_LEN &&
			   (o - VPCI_MSIX_TABLE_OFF) / 16 < t->nr_vectors) {
			o -= VPCI_MSIX_TABLE_OFF;
			w[i] = entry_read(&t->vec[o / 16], (o % 16) / 4);
		}
	}
	pthread_mutex_unlock(&t->irq_lock);
	memcpy(data, w, len);
}

void vpci_msix_write(struct virtio_pci_dev *t, uint64_t off, const void *data, unsigned int len)
{
	uint32_t w[2] = { 0, 0 };
	unsigned int i, n = len == 8 ? 2 : 1;

	if ((len != 4 && len != 8) || (off & (len - 1)) ||
	    off >= VPCI_MSIX_TABLE_OFF + VPCI_MSIX_TABLE_LEN)
		return;				/* PBA is read-only */
	memcpy(w, data, len);
	pthread_mutex_lock(&t->irq_lock);
	for (i = 0; i < n; i++) {
		uint64_t o = off + 4 * i - VPCI_MSIX_TABLE_OFF;

		if (o / 16 < t->nr_vectors)
			entry_write(t, (unsigned int)(o / 16), (unsigned int)(o % 16) / 4, w[i]);
	}
	pthread_mutex_unlock(&t->irq_lock);
}

/* After a config-space write touched the MSI-X message control (cfg_lock held). */
void vpci_msix_control_changed(struct virtio_pci_dev *t)
{
	unsigned int i;

	pthread_mutex_lock(&t->irq_lock);
	t->msix_ctrl = t->pci.cfg[t->msix_cap + 3];
	if (msix_enabled(t)) {
		if (t->isr) {
			t->isr = 0;
			pci_set_irq(&t->pci, 0);
		}
		if (!msix_fmasked(t))
			for (i = 0; i < t->nr_vectors; i++)
				if (t->vec[i].pending && !(t->vec[i].ctrl & MSIX_ENTRY_MASKED))
					msix_send(t, i);
	}
	pthread_mutex_unlock(&t->irq_lock);
}
