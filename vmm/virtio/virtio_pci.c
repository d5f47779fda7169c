// SPDX-License-Identifier: MIT
/*
 * virtio-pci modern transport: capabilities, common config, the device
 * status state machine, feature negotiation, queue setup and notifications.
 * Interrupts are in virtio_pci_irq.c.
 */
#include <endian.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <linux/pci_regs.h>
#include <linux/virtio_pci.h>

#include "log.h"
#include "vm.h"
#include "virtio_pci.h"

/* Features the transport itself implements (ring layout). */
#define VPCI_TRANSPORT_FEATURES	((1ULL << VIRTIO_F_VERSION_1) | \
				 (1ULL << VIRTIO_RING_F_INDIRECT_DESC) | \
				 (1ULL << VIRTIO_RING_F_EVENT_IDX))

uint8_t virtio_pci_status(struct virtio_pci_dev *t)
{
	return __atomic_load_n(&t->status, __ATOMIC_ACQUIRE);
}

int virtio_pci_kick_fd(const struct virtio_pci_dev *t, unsigned int q)
{
	return q < t->nr_queues ? t->kick_fd[q] : -1;
}

void virtio_pci_set_needs_reset(struct virtio_pci_dev *t)
{
	uint8_t old = __atomic_fetch_or(&t->status, VIRTIO_STATUS_NEEDS_RESET, __ATOMIC_ACQ_REL);

	if (old & VIRTIO_STATUS_NEEDS_RESET)
		return;
	log_warn("%s: guest broke a virtqueue; device needs reset", t->pci.name);
	if (old & VIRTIO_CONFIG_S_DRIVER_OK)
		virtio_pci_config_irq(t);
}

static void ioevents_unregister(struct virtio_pci_dev *t)
{
	unsigned int q;

	for (q = 0; q < t->nr_queues; q++) {
		if (!t->ioevent_addr[q])
			continue;
		vm_ioeventfd(t->vm, t->kick_fd[q], t->ioevent_addr[q], 2, false, false);
		t->ioevent_addr[q] = 0;
	}
}

static void ioevents_register(struct virtio_pci_dev *t)
{
	/* written by config writes under the PCI device's cfg_lock, which we may not hold */
	uint64_t base = __atomic_load_n(&t->pci.bars[VPCI_BAR].mapped_at, __ATOMIC_ACQUIRE);
	unsigned int q;

	if (!base)
		return;		/* notify writes cannot arrive at all while unmapped */
	for (q = 0; q < t->nr_queues; q++) {
		uint64_t addr = base + VPCI_NOTIFY_OFF + (uint64_t)q * VPCI_NOTIFY_MULT;

		if (!t->vqs[q].ready)
			continue;
		/* Linux writes 16 bits; other widths still reach notify_write() */
		if (vm_ioeventfd(t->vm, t->kick_fd[q], addr, 2, false, true) == 0)
			t->ioevent_addr[q] = addr;
	}
}

/* lock held.  Device reset: back to the power-on state. */
void vpci_reset(struct virtio_pci_dev *t)
{
	unsigned int q;

	if (t->active) {
		ioevents_unregister(t);
		t->ops->reset(t->dev);
		t->active = false;
	}
	for (q = 0; q < t->nr_queues; q++) {
		virtq_reset(&t->vqs[q]);
		t->vqs[q].size = t->ops->queue_max_size;
		__atomic_store_n(&t->queue_vector[q], VIRTIO_MSI_NO_VECTOR, __ATOMIC_RELAXED);
	}
	__atomic_store_n(&t->config_vector, VIRTIO_MSI_NO_VECTOR, __ATOMIC_RELAXED);
	t->features = 0;
	t->dfselect = t->gfselect = 0;
	t->queue_sel = 0;
	vpci_irq_reset(t);
	__atomic_store_n(&t->status, 0, __ATOMIC_RELEASE);
}

/* lock held */
int vpci_activate(struct virtio_pci_dev *t)
{
	unsigned int q;
	int ret;

	for (q = 0; q < t->nr_queues; q++) {
		t->vqs[q].event_idx = t->features & (1ULL << VIRTIO_RING_F_EVENT_IDX);
		t->vqs[q].indirect = t->features & (1ULL << VIRTIO_RING_F_INDIRECT_DESC);
	}
	ret = t->ops->activate(t->dev, t, t->features, t->vqs, t->nr_queues);
	if (ret) {
		log_err("%s: cannot start device: %s", t->pci.name, strerror(-ret));
		return ret;
	}
	t->active = true;
	ioevents_register(t);
	return 0;
}

/* lock held.  The driver wrote the status byte. */
static void status_write(struct virtio_pci_dev *t, uint8_t val)
{
	uint8_t old = virtio_pci_status(t);
	uint8_t added = val & ~old;
	uint64_t bad;

	if (val == 0) {
		vpci_reset(t);
		return;
	}
	/* bits only go away through a reset; NEEDS_RESET is the device's */
	if ((old & ~VIRTIO_STATUS_NEEDS_RESET) & ~val)
		goto refuse;
	val = (val & ~VIRTIO_STATUS_NEEDS_RESET) | (old & VIRTIO_STATUS_NEEDS_RESET);
	added &= ~VIRTIO_STATUS_NEEDS_RESET;
	if ((added & VIRTIO_CONFIG_S_DRIVER) && !(val & VIRTIO_CONFIG_S_ACKNOWLEDGE))
		goto refuse;
	if (added & VIRTIO_CONFIG_S_FEATURES_OK) {
		if (!(val & VIRTIO_CONFIG_S_DRIVER))
			goto refuse;
		bad = t->features & ~t->offered;
		if (bad || !(t->features & (1ULL << VIRTIO_F_VERSION_1))) {
			log_warn("%s: driver features 0x%llx refused (%s)", t->pci.name,
				 (unsigned long long)t->features,
				 bad ? "not offered" : "no VIRTIO_F_VERSION_1: legacy drivers unsupported");
			val &= ~VIRTIO_CONFIG_S_FEATURES_OK;
			added &= ~VIRTIO_CONFIG_S_FEATURES_OK;
		}
	}
	if (added & VIRTIO_CONFIG_S_DRIVER_OK) {
		if (!(val & VIRTIO_CONFIG_S_FEATURES_OK) || (val & VIRTIO_CONFIG_S_FAILED))
			goto refuse;
		__atomic_store_n(&t->status, val, __ATOMIC_RELEASE);
		if (vpci_activate(t))
			virtio_pci_set_needs_reset(t);
		return;
	}
	__atomic_store_n(&t->status, val, __ATOMIC_RELEASE);
	return;
refuse:
	log_warn("%s: invalid status transition 0x%x -> 0x%x ignored", t->pci.name, old, val);
}

static struct virtq *cur_vq(struct virtio_pci_dev *t)
{
	return t->queue_sel < t->nr_queues ? &t->vqs[t->queue_sel] : NULL;
}

/* lock held */
static void common_read(struct virtio_pci_dev *t, uint64_t off, void *data, unsigned int len)
{
	struct virtio_pci_common_cfg c;
	uint8_t buf[VPCI_COMMON_LEN];
	struct virtq *vq = cur_vq(t);

	memset(&c, 0, sizeof(c));
	c.device_feature_select = htole32(t->dfselect);
	if (t->dfselect < 2)
		c.device_feature = htole32((uint32_t)(t->offered >> (32 * t->dfselect)));
	c.guest_feature_select = htole32(t->gfselect);
	if (t->gfselect < 2)
		c.guest_feature = htole32((uint32_t)(t->features >> (32 * t->gfselect)));
	c.msix_config = htole16(t->config_vector);
	c.num_queues = htole16((uint16_t)t->nr_queues);
	c.device_status = virtio_pci_status(t);
	c.config_generation = t->config_generation;
	c.queue_select = htole16(t->queue_sel);
	if (vq) {
		c.queue_size = htole16(vq->size);
		c.queue_msix_vector = htole16(t->queue_vector[t->queue_sel]);
		c.queue_enable = htole16(vq->ready);
		c.queue_notify_off = htole16(t->queue_sel);
		c.queue_desc_lo = htole32((uint32_t)vq->desc_gpa);
		c.queue_desc_hi = htole32((uint32_t)(vq->desc_gpa >> 32));
		c.queue_avail_lo = htole32((uint32_t)vq->avail_gpa);
		c.queue_avail_hi = htole32((uint32_t)(vq->avail_gpa >> 32));
		c.queue_used_lo = htole32((uint32_t)vq->used_gpa);
		c.queue_used_hi = htole32((uint32_t)(vq->used_gpa >> 32));
	}
	memset(buf, 0, sizeof(buf));
	memcpy(buf, &c, sizeof(c) < sizeof(buf) ? sizeof(c) : sizeof(buf));
	if (off + len <= sizeof(buf))
		memcpy(data, buf + off, len);
	else
		memset(data, 0, len);
}

static void set_half(uint64_t *v, bool hi, uint32_t val)
{
	if (hi)
		*v = (*v & 0xffffffffULL) | (uint64_t)val << 32;
	else
		*v = (*v & ~0xffffffffULL) | val;
}

/* lock held.  A queue's layout may change only while it is disabled, before DRIVER_OK. */
static bool queue_writable(struct virtio_pci_dev *t, struct virtq *vq)
{
	return vq && !vq->ready && !(virtio_pci_status(t) & VIRTIO_CONFIG_S_DRIVER_OK);
}

static void queue_enable(struct virtio_pci_dev *t, struct virtq *vq)
{
	int ret;

	if (!queue_writable(t, vq))
		return;
	vq->mem = &t->vm->mem;
	ret = virtq_map(vq);
	if (ret) {
		log_warn("%s: queue %u: bad layout (desc 0x%llx avail 0x%llx used 0x%llx size %u)",
			 t->pci.name, t->queue_sel, (unsigned long long)vq->desc_gpa,
			 (unsigned long long)vq->avail_gpa, (unsigned long long)vq->used_gpa,
			 vq->size);
		virtio_pci_set_needs_reset(t);
		return;
	}
	vq->ready = true;
}

/* lock held */
static void common_write(struct virtio_pci_dev *t, uint64_t off, uint64_t v, unsigned int len)
{
	struct virtq *vq = cur_vq(t);
	bool feat_locked = virtio_pci_status(t) & VIRTIO_CONFIG_S_FEATURES_OK;

	switch (off) {
	case VIRTIO_PCI_COMMON_DFSELECT:
		if (len == 4)
			t->dfselect = (uint32_t)v;
		return;
	case VIRTIO_PCI_COMMON_GFSELECT:
		if (len == 4)
			t->gfselect = (uint32_t)v;
		return;
	case VIRTIO_PCI_COMMON_GF:
		if (len == 4 && t->gfselect < 2 && !feat_locked)
			set_half(&t->features, t->gfselect, (uint32_t)v);
		return;
	case VIRTIO_PCI_COMMON_MSIX:
		if (len == 2)
			__atomic_store_n(&t->config_vector,
					 v < t->nr_vectors ? (uint16_t)v : VIRTIO_MSI_NO_VECTOR,
					 __ATOMIC_RELAXED);
		return;
	case VIRTIO_PCI_COMMON_STATUS:
		if (len == 1)
			status_write(t, (uint8_t)v);
		return;
	case VIRTIO_PCI_COMMON_Q_SELECT:
		if (len == 2)
			t->queue_sel = (uint16_t)v;
		return;
	case VIRTIO_PCI_COMMON_Q_SIZE:
		if (len != 2 || !queue_writable(t, vq))
			return;
		if (!v || v > t->ops->queue_max_size || (v & (v - 1))) {
			log_warn("%s: queue %u: size %llu refused", t->pci.name, t->queue_sel,
				 (unsigned long long)v);
			return;
		}
		vq->size = (uint16_t)v;
		return;
	case VIRTIO_PCI_COMMON_Q_MSIX:
		if (len == 2 && vq)
			__atomic_store_n(&t->queue_vector[t->queue_sel],
					 v < t->nr_vectors ? (uint16_t)v : VIRTIO_MSI_NO_VECTOR,
					 __ATOMIC_RELAXED);
		return;
	case VIRTIO_PCI_COMMON_Q_ENABLE:
		if (len == 2 && v == 1)
			queue_enable(t, vq);
		return;
	}
	if (off >= VIRTIO_PCI_COMMON_Q_DESCLO && off + len <= VIRTIO_PCI_COMMON_Q_USEDHI + 4 &&
	    (len == 4 || len == 8) && !(off & (len - 1)) && queue_writable(t, vq)) {
		uint64_t *field;
		unsigned int rel = (unsigned int)(off - VIRTIO_PCI_COMMON_Q_DESCLO);

		field = rel < 8 ? &vq->desc_gpa : rel < 16 ? &vq->avail_gpa : &vq->used_gpa;
		if (len == 8)
			*field = v;
		else
			set_half(field, rel & 4, (uint32_t)v);
	}
}

static void notify_write(struct virtio_pci_dev *t, uint64_t off)
{
	uint64_t q = off / VPCI_NOTIFY_MULT, one = 1;

	if (q >= t->nr_queues)
		return;
	if (write(t->kick_fd[q], &one, sizeof(one)) != sizeof(one))
		log_warn("%s: queue %llu: kick eventfd write failed", t->pci.name,
			 (unsigned long long)q);
}

static void bar_read(void *opaque, uint64_t off, void *data, unsigned int len)
{
	struct virtio_pci_dev *t = opaque;
	unsigned int n;

	memset(data, 0, len);
	if (off < VPCI_COMMON_OFF + VPCI_COMMON_LEN) {
		pthread_mutex_lock(&t->lock);
		common_read(t, off - VPCI_COMMON_OFF, data, len);
		pthread_mutex_unlock(&t->lock);
	} else if (off == VPCI_ISR_OFF) {
		*(uint8_t *)data = vpci_isr_read(t);
	} else if (off >= VPCI_DEVCFG_OFF && off < VPCI_DEVCFG_OFF + VPCI_DEVCFG_LEN) {
		off -= VPCI_DEVCFG_OFF;
		n = t->ops->config_size(t->dev);
		if (off + len <= n)
			t->ops->config_read(t->dev, (unsigned int)off, data, len);
	} else if (off >= VPCI_MSIX_TABLE_OFF && off < VPCI_BAR_SIZE) {
		vpci_msix_read(t, off, data, len);
	}
}

static void bar_write(void *opaque, uint64_t off, const void *data, unsigned int len)
{
	struct virtio_pci_dev *t = opaque;
	uint64_t v = 0;

	memcpy(&v, data, len);
	v = le64toh(v);
	if (off < VPCI_COMMON_OFF + VPCI_COMMON_LEN) {
		pthread_mutex_lock(&t->lock);
		common_write(t, off - VPCI_COMMON_OFF, v, len);
		pthread_mutex_unlock(&t->lock);
	} else if (off >= VPCI_DEVCFG_OFF && off < VPCI_DEVCFG_OFF + VPCI_DEVCFG_LEN) {
		off -= VPCI_DEVCFG_OFF;
		if (t->ops->config_write && off + len <= t->ops->config_size(t->dev))
			t->ops->config_write(t->dev, (unsigned int)off, data, len);
	} else if (off >= VPCI_NOTIFY_OFF && off < VPCI_NOTIFY_OFF + 0x1000) {
		notify_write(t, off - VPCI_NOTIFY_OFF);
	} else if (off >= VPCI_MSIX_TABLE_OFF && off < VPCI_BAR_SIZE) {
		vpci_msix_write(t, off, data, len);
	}
}

static const struct bus_dev_ops vpci_bar_ops = {
	.read = bar_read,
	.write = bar_write,
};

/*
 * VIRTIO_PCI_CAP_PCI_CFG (virtio 1.x 4.1.4.9): the driver sets cap.bar,
 * cap.offset and cap.length, then reading or writing pci_cfg_data accesses
 * that BAR range.  All three come from the guest: only length 1, 2 or 4 at
 * an aligned offset inside an existing BAR is carried out; anything else
 * reads as 0 and writes are dropped.  cfg_lock held (config hook), not the
 * bus lock: a status write of 0 here resets the device and drains its I/O.
 */
static void cfg_window(struct virtio_pci_dev *t, bool write)
{
	struct virtio_pci_cfg_cap c;
	uint8_t *data = &t->pci.cfg[t->cfg_cap + offsetof(struct virtio_pci_cfg_cap, pci_cfg_data)];
	uint32_t off, len;
	uint8_t buf[4] = { 0 };	/* stays 0 when the access is refused */

	memcpy(&c, &t->pci.cfg[t->cfg_cap], sizeof(c));
	off = le32toh(c.cap.offset);
	len = le32toh(c.cap.length);
	if ((len == 1 || len == 2 || len == 4) && !(off % len)) {
		if (write)
			memcpy(buf, data, len);
		pci_bar_access(&t->pci, c.cap.bar, off, buf, len, write);
	}
	if (!write)
		memcpy(data, buf, sizeof(buf));
}

static bool cfg_data_hit(const struct virtio_pci_dev *t, unsigned int off, unsigned int len)
{
	unsigned int d = t->cfg_cap + offsetof(struct virtio_pci_cfg_cap, pci_cfg_data);

	return t->cfg_cap && off < d + 4 && off + len > d;
}

static void vpci_config_read(struct pci_dev *dev, unsigned int off, unsigned int len)
{
	struct virtio_pci_dev *t = dev->opaque;

	if (cfg_data_hit(t, off, len))
		cfg_window(t, false);
}

static void vpci_config_write(struct pci_dev *dev, unsigned int off, unsigned int len)
{
	struct virtio_pci_dev *t = dev->opaque;

	if (cfg_data_hit(t, off, len))
		cfg_window(t, true);

	if (off < t->msix_cap + 4 && off + len > t->msix_cap + 2)
		vpci_msix_control_changed(t);
	/* the BAR moved or memory decode changed: notify ioeventfds follow */
	if (off < PCI_BASE_ADDRESS_0 + 4 * (VPCI_BAR + 2) && off + len > PCI_COMMAND) {
		pthread_mutex_lock(&t->lock);
		if (t->active) {
			ioevents_unregister(t);
			ioevents_register(t);
		}
		pthread_mutex_unlock(&t->lock);
	}
}

static const struct pci_dev_ops vpci_pci_ops = {
	.config_write = vpci_config_write,
	.config_read = vpci_config_read,
};

static int add_vcap(struct virtio_pci_dev *t, uint8_t type, uint32_t off, uint32_t len,
		    bool notify)
{
	struct virtio_pci_notify_cap c;

	memset(&c, 0, sizeof(c));
	c.cap.cap_vndr = PCI_CAP_ID_VNDR;
	c.cap.cap_len = notify ? sizeof(c) : sizeof(c.cap);
	c.cap.cfg_type = type;
	c.cap.bar = VPCI_BAR;
	c.cap.offset = htole32(off);
	c.cap.length = htole32(len);
	c.notify_off_multiplier = htole32(VPCI_NOTIFY_MULT);
	return pci_add_cap(&t->pci, &c, c.cap.cap_len);
}

/* The config access window: bar, offset, length and data are the guest's to write. */
static int add_cfg_cap(struct virtio_pci_dev *t)
{
	struct virtio_pci_cfg_cap c;
	int off;

	memset(&c, 0, sizeof(c));
	c.cap.cap_vndr = PCI_CAP_ID_VNDR;
	c.cap.cap_len = sizeof(c);
	c.cap.cfg_type = VIRTIO_PCI_CAP_PCI_CFG;
	off = pci_add_cap(&t->pci, &c, sizeof(c));
	if (off < 0)
		return off;
	t->cfg_cap = (unsigned int)off;
	t->pci.wmask[off + offsetof(struct virtio_pci_cap, bar)] = 0xff;
	memset(&t->pci.wmask[off + offsetof(struct virtio_pci_cap, offset)], 0xff, 8);
	memset(&t->pci.wmask[off + offsetof(struct virtio_pci_cfg_cap, pci_cfg_data)], 0xff, 4);
	return 0;
}

static int add_caps(struct virtio_pci_dev *t)
{
	uint8_t msix[12];
	uint16_t ctrl = (uint16_t)(t->nr_vectors - 1);
	uint32_t table = VPCI_MSIX_TABLE_OFF | VPCI_BAR, pba = VPCI_MSIX_PBA_OFF | VPCI_BAR;
	unsigned int devcfg = t->ops->config_size(t->dev);
	int off;

	if (add_vcap(t, VIRTIO_PCI_CAP_COMMON_CFG, VPCI_COMMON_OFF, VPCI_COMMON_LEN, false) < 0 ||
	    add_vcap(t, VIRTIO_PCI_CAP_ISR_CFG, VPCI_ISR_OFF, 1, false) < 0 ||
	    add_vcap(t, VIRTIO_PCI_CAP_NOTIFY_CFG, VPCI_NOTIFY_OFF,
		     t->nr_queues * VPCI_NOTIFY_MULT, true) < 0)
		return -ENOSPC;
	if (devcfg && add_vcap(t, VIRTIO_PCI_CAP_DEVICE_CFG, VPCI_DEVCFG_OFF, devcfg, false) < 0)
		return -ENOSPC;
	memset(msix, 0, sizeof(msix));
	msix[0] = PCI_CAP_ID_MSIX;
	ctrl = htole16(ctrl);
	table = htole32(table);
	pba = htole32(pba);
	memcpy(&msix[2], &ctrl, 2);
	memcpy(&msix[4], &table, 4);
	memcpy(&msix[8], &pba, 4);
	off = pci_add_cap(&t->pci, msix, sizeof(msix));
	if (off < 0)
		return off;
	t->msix_cap = (unsigned int)off;
	t->pci.wmask[off + 3] = 0xc0;	/* MSI-X enable, function mask */
	return add_cfg_cap(t);
}

int virtio_pci_create(struct vm *vm, const struct virtio_dev_ops *ops, void *dev,
		      struct virtio_pci_dev **out)
{
	struct virtio_pci_dev *t;
	unsigned int q, nq = ops->num_queues(dev);
	int ret = -ENOMEM;

	if (!nq || nq > VPCI_MAX_QUEUES || ops->config_size(dev) > VPCI_DEVCFG_LEN)
		return -EINVAL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->vm = vm;
	t->ops = ops;
	t->dev = dev;
	t->nr_queues = nq;
	t->nr_vectors = nq + 1;
	pthread_mutex_init(&t->lock, NULL);
	pthread_mutex_init(&t->irq_lock, NULL);
	t->vqs = calloc(nq, sizeof(*t->vqs));
	t->queue_vector = calloc(nq, sizeof(*t->queue_vector));
	t->kick_fd = calloc(nq, sizeof(*t->kick_fd));
	t->ioevent_addr = calloc(nq, sizeof(*t->ioevent_addr));
	t->vec = calloc(t->nr_vectors, sizeof(*t->vec));
	if (!t->vqs || !t->queue_vector || !t->kick_fd || !t->ioevent_addr || !t->vec)
		goto err;
	for (q = 0; q < nq; q++)
		t->kick_fd[q] = -1;
	ret = vpci_irq_init(t);
	if (ret)
		goto err;
	for (q = 0; q < nq; q++) {
		t->kick_fd[q] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (t->kick_fd[q] < 0) {
			ret = -errno;
			goto err;
		}
		t->vqs[q].mem = &vm->mem;
	}
	t->offered = ops->features(dev) | VPCI_TRANSPORT_FEATURES;

	pci_dev_init(&t->pci, VIRTIO_PCI_VENDOR, VIRTIO_PCI_DEVICE_BASE + ops->device_id,
		     ops->pci_class, VIRTIO_PCI_VENDOR, ops->device_id);
	t->pci.cfg[PCI_REVISION_ID] = 1;
	t->pci.ops = &vpci_pci_ops;
	t->pci.opaque = t;
	t->pci.name = ops->name;
	t->pci.vm = vm;
	pci_set_bar(&t->pci, VPCI_BAR, VPCI_BAR_SIZE, true, &vpci_bar_ops, t);
	ret = add_caps(t);
	if (ret)
		goto err;
	vpci_reset(t);
	*out = t;
	return 0;
err:
	virtio_pci_destroy(t);
	return ret;
}

void virtio_pci_destroy(struct virtio_pci_dev *t)
{
	unsigned int q;

	if (!t)
		return;
	pthread_mutex_lock(&t->lock);
	if (t->active) {
		ioevents_unregister(t);
		t->ops->reset(t->dev);
		t->active = false;
	}
	pthread_mutex_unlock(&t->lock);
	if (t->vec)
		vpci_irq_cleanup(t);
	for (q = 0; t->kick_fd && q < t->nr_queues; q++)
		if (t->kick_fd[q] >= 0)
			close(t->kick_fd[q]);
	free(t->vqs);
	free(t->queue_vector);
	free(t->kick_fd);
	free(t->ioevent_addr);
	free(t->vec);
	pthread_mutex_destroy(&t->lock);
	pthread_mutex_destroy(&t->irq_lock);
	free(t);
}
