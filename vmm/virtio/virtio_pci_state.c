// SPDX-License-Identifier: MIT
/*
 * virtio-pci transport state: save, and a restore that checks every value
 * before it applies any (virtio_pci.h, docs/devices.md "Device state").
 *
 * Payload, version 1 (little-endian):
 *   u8 status, u8 active, u32 dfselect, u32 gfselect, u64 offered,
 *   u64 features, u16 queue_sel, u16 config_vector, u8 config_generation,
 *   u32 nr_queues, nr_queues x (u16 vector, virtq state: virtqueue.h),
 *   u8 isr, u32 nr_vectors, nr_vectors x (u32 addr_lo, addr_hi, data,
 *   ctrl, u8 pending), 256 bytes of PCI config space;
 *   then the device's own part.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "state/stream.h"
#include "vm.h"
#include "virtio_pci.h"

#define STATUS_KNOWN	(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | \
			 VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK | \
			 VIRTIO_STATUS_NEEDS_RESET | VIRTIO_CONFIG_S_FAILED)
#define MSIX_CAP_ENABLE	0x80
#define ENTRY_MASKED	1u

int virtio_pci_save(struct virtio_pci_dev *t, const struct virtio_dev_state *ds,
		    struct state_writer *w)
{
	unsigned int q, i;
	int ret = 0;

	pthread_mutex_lock(&t->lock);
	state_put_u8(w, virtio_pci_status(t));
	state_put_u8(w, t->active);
	state_put_u32(w, t->dfselect);
	state_put_u32(w, t->gfselect);
	state_put_u64(w, t->offered);
	state_put_u64(w, t->features);
	state_put_u16(w, t->queue_sel);
	state_put_u16(w, __atomic_load_n(&t->config_vector, __ATOMIC_RELAXED));
	state_put_u8(w, t->config_generation);
	state_put_u32(w, t->nr_queues);
	for (q = 0; q < t->nr_queues && !ret; q++) {
		state_put_u16(w, __atomic_load_n(&t->queue_vector[q], __ATOMIC_RELAXED));
		ret = virtq_save(&t->vqs[q], w);
	}
	pthread_mutex_unlock(&t->lock);
	if (ret)
		return ret;
	pthread_mutex_lock(&t->irq_lock);
	state_put_u8(w, t->isr);
	state_put_u32(w, t->nr_vectors);
	for (i = 0; i < t->nr_vectors; i++) {
		const struct vpci_vector *v = &t->vec[i];

		state_put_u32(w, v->addr_lo);
		state_put_u32(w, v->addr_hi);
		state_put_u32(w, v->data);
		state_put_u32(w, v->ctrl);
		state_put_u8(w, v->pending);
	}
	pthread_mutex_unlock(&t->irq_lock);
	pci_dev_save_cfg(&t->pci, w);
	if (w->error)
		return w->error;
	return ds && ds->save ? ds->save(t->dev, w) : 0;
}

/* Everything read from the stream, before any of it is applied. */
struct vpci_saved {
	uint8_t status, active, isr, config_generation;
	uint32_t dfselect, gfselect;
	uint64_t offered, features;
	uint16_t queue_sel, config_vector;
	uint16_t *vector;
	struct virtq *vqs;
	struct vpci_vector *vec;
};

static int get_flag(struct state_reader *r, uint8_t *v, const char *what)
{
	int ret = state_get_u8(r, v);

	if (!ret && *v > 1)
		return state_reader_fail(r, "virtio-pci: %s %u is not 0 or 1", what, *v);
	return ret;
}

static int check_vector(struct virtio_pci_dev *t, struct state_reader *r, uint16_t v,
			const char *what, unsigned int q)
{
	if (v < t->nr_vectors || v == VIRTIO_MSI_NO_VECTOR)
		return 0;
	return state_reader_fail(r, "virtio-pci %s: %s %u: MSI-X vector %u (it has %u)",
				 t->pci.name, what, q, v, t->nr_vectors);
}

static int check_status(struct virtio_pci_dev *t, struct state_reader *r,
			const struct vpci_saved *s)
{
	uint8_t st = s->status;

	if (st & ~STATUS_KNOWN)
		return state_reader_fail(r, "virtio-pci %s: device status 0x%02x has unknown bits",
					 t->pci.name, st);
	if (((st & VIRTIO_CONFIG_S_DRIVER) && !(st & VIRTIO_CONFIG_S_ACKNOWLEDGE)) ||
	    ((st & VIRTIO_CONFIG_S_FEATURES_OK) && !(st & VIRTIO_CONFIG_S_DRIVER)) ||
	    ((st & VIRTIO_CONFIG_S_DRIVER_OK) && !(st & VIRTIO_CONFIG_S_FEATURES_OK)))
		return state_reader_fail(r, "virtio-pci %s: device status 0x%02x is not a state the driver can reach",
					 t->pci.name, st);
	if (s->active && !(st & VIRTIO_CONFIG_S_DRIVER_OK))
		return state_reader_fail(r, "virtio-pci %s: active without DRIVER_OK (status 0x%02x)",
					 t->pci.name, st);
	/*
	 * The offer may differ (another host's tap offloads); what the driver
	 * accepted must be something this device does.
	 */
	if ((st & VIRTIO_CONFIG_S_FEATURES_OK) &&
	    ((s->features & ~t->offered) || !(s->features & (1ULL << VIRTIO_F_VERSION_1))))
		return state_reader_fail(r, "virtio-pci %s: negotiated features 0x%llx are not a subset of 0x%llx (this device's offer) with VERSION_1",
					 t->pci.name, (unsigned long long)s->features,
					 (unsigned long long)t->offered);
	return 0;
}

static int read_common(struct virtio_pci_dev *t, struct state_reader *r, struct vpci_saved *s)
{
	int ret;

	ret = state_get_u8(r, &s->status);
	if (!ret)
		ret = get_flag(r, &s->active, "active");
	if (!ret)
		ret = state_get_u32(r, &s->dfselect);
	if (!ret)
		ret = state_get_u32(r, &s->gfselect);
	if (!ret)
		ret = state_get_u64(r, &s->offered);
	if (!ret)
		ret = state_get_u64(r, &s->features);
	if (!ret)
		ret = state_get_u16(r, &s->queue_sel);
	if (!ret)
		ret = state_get_u16(r, &s->config_vector);
	if (!ret)
		ret = state_get_u8(r, &s->config_generation);
	if (ret)
		return ret;
	ret = check_status(t, r, s);
	if (!ret)
		ret = check_vector(t, r, s->config_vector, "config", 0);
	return ret;
}

static int read_queues(struct virtio_pci_dev *t, struct state_reader *r, struct vpci_saved *s)
{
	unsigned int q;
	uint32_t n;
	int ret;

	ret = state_get_u32(r, &n);
	if (ret)
		return ret;
	if (n != t->nr_queues)
		return state_reader_fail(r, "virtio-pci %s: %u queues saved, this device has %u",
					 t->pci.name, n, t->nr_queues);
	for (q = 0; q < n; q++) {
		ret = state_get_u16(r, &s->vector[q]);
		if (!ret)
			ret = check_vector(t, r, s->vector[q], "queue", q);
		if (ret)
			return ret;
		s->vqs[q].mem = &t->vm->mem;
		ret = virtq_restore(&s->vqs[q], r, q, t->ops->queue_max_size);
		if (ret)
			return ret;
	}
	return 0;
}

static int read_irq(struct virtio_pci_dev *t, struct state_reader *r, struct vpci_saved *s)
{
	unsigned int i;
	uint32_t n;
	uint8_t pending;
	int ret;

	ret = state_get_u8(r, &s->isr);
	if (!ret)
		ret = state_get_u32(r, &n);
	if (ret)
		return ret;
	if (s->isr & ~3u)
		return state_reader_fail(r, "virtio-pci %s: ISR 0x%02x has bits other than 0-1",
					 t->pci.name, s->isr);
	if (n != t->nr_vectors)
		return state_reader_fail(r, "virtio-pci %s: %u MSI-X vectors saved, this device has %u",
					 t->pci.name, n, t->nr_vectors);
	for (i = 0; i < n; i++) {
		struct vpci_vector *v = &s->vec[i];

		ret = state_get_u32(r, &v->addr_lo);
		if (!ret)
			ret = state_get_u32(r, &v->addr_hi);
		if (!ret)
			ret = state_get_u32(r, &v->data);
		if (!ret)
			ret = state_get_u32(r, &v->ctrl);
		if (!ret)
			ret = get_flag(r, &pending, "MSI-X pending bit");
		if (ret)
			return ret;
		if ((v->addr_lo & 3) || (v->ctrl & ~ENTRY_MASKED))
			return state_reader_fail(r, "virtio-pci %s: MSI-X entry %u (address 0x%x, control 0x%x) holds bits the table cannot",
						 t->pci.name, i, v->addr_lo, v->ctrl);
		v->pending = pending;
	}
	return 0;
}

/* lock held.  Everything checked: the saved values become the device's. */
static void apply(struct virtio_pci_dev *t, const struct vpci_saved *s)
{
	unsigned int q, i;

	t->dfselect = s->dfselect;
	t->gfselect = s->gfselect;
	t->features = s->features;
	t->queue_sel = s->queue_sel;
	t->config_generation = s->config_generation;
	__atomic_store_n(&t->config_vector, s->config_vector, __ATOMIC_RELAXED);
	for (q = 0; q < t->nr_queues; q++) {
		t->vqs[q] = s->vqs[q];
		__atomic_store_n(&t->queue_vector[q], s->vector[q], __ATOMIC_RELAXED);
	}
	pthread_mutex_lock(&t->irq_lock);
	for (i = 0; i < t->nr_vectors; i++) {
		struct vpci_vector *v = &t->vec[i];

		v->addr_lo = s->vec[i].addr_lo;
		v->addr_hi = s->vec[i].addr_hi;
		v->data = s->vec[i].data;
		v->ctrl = s->vec[i].ctrl;
		v->pending = s->vec[i].pending;
		if (v->gsi >= 0)
			vm_msi_route_update(t->vm, (unsigned int)v->gsi,
					    (uint64_t)v->addr_hi << 32 | v->addr_lo, v->data);
	}
	t->msix_ctrl = t->pci.cfg[t->msix_cap + 3];
	t->isr = s->isr;
	/* INTx is level-triggered: a pending ISR holds the line up again */
	if (!(t->msix_ctrl & MSIX_CAP_ENABLE))
		pci_set_irq(&t->pci, t->isr ? 1 : 0);
	pthread_mutex_unlock(&t->irq_lock);
	__atomic_store_n(&t->status, s->status, __ATOMIC_RELEASE);
}

int virtio_pci_restore(struct virtio_pci_dev *t, const struct virtio_dev_state *ds, void *ctx,
		       struct state_reader *r)
{
	struct vpci_saved s;
	int ret;

	memset(&s, 0, sizeof(s));
	s.vector = calloc(t->nr_queues, sizeof(*s.vector));
	s.vqs = calloc(t->nr_queues, sizeof(*s.vqs));
	s.vec = calloc(t->nr_vectors, sizeof(*s.vec));
	ret = -ENOMEM;
	if (!s.vector || !s.vqs || !s.vec)
		goto out;
	ret = read_common(t, r, &s);
	if (!ret)
		ret = read_queues(t, r, &s);
	if (!ret)
		ret = read_irq(t, r, &s);
	if (ret)
		goto out;
	pthread_mutex_lock(&t->lock);
	if (t->active)
		vpci_reset(t);
	pthread_mutex_unlock(&t->lock);
	/* checks its read-only bytes before it changes anything; maps the BARs */
	ret = pci_dev_restore_cfg(&t->pci, r);
	if (ret)
		goto out;
	pthread_mutex_lock(&t->lock);
	apply(t, &s);
	pthread_mutex_unlock(&t->lock);
	ret = ds && ds->restore ? ds->restore(t->dev, r, ctx) : 0;
	if (ret || !s.active)
		goto out;
	pthread_mutex_lock(&t->lock);
	ret = vpci_activate(t);
	pthread_mutex_unlock(&t->lock);
	if (ret) {
		ret = state_reader_fail(r, "virtio-pci %s: cannot restart the device: %s",
					t->pci.name, strerror(-ret));
		goto out;
	}
	if (ds && ds->restored) {
		ret = ds->restored(t->dev, ctx);
		if (ret)
			ret = state_reader_fail(r, "virtio-pci %s: cannot restore the running device: %s",
						t->pci.name, strerror(-ret));
	}
out:
	free(s.vector);
	free(s.vqs);
	free(s.vec);
	return ret;
}
