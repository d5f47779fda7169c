// SPDX-License-Identifier: MIT
/*
 * Device state of the virtio side: a virtqueue saved mid-ring with its
 * indices wrapped, the virtio-pci transport (status, features, selectors,
 * queues, MSI-X table, ISR, activation on restore), virtio-blk end to end
 * (a request before the save, the next one after the restore on a fresh
 * VM with the same memory), and the dirty marks device writes leave for
 * live migration.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <linux/virtio_blk.h>
#include <linux/virtio_pci.h>

#include "dev_state_helper.h"
#include "devices/pci.h"
#include "fake_vm.h"
#include "state/dirty.h"
#include "virtio/virtio_blk.h"
#include "virtio/virtio_pci.h"
#include "vq_helper.h"

#define RAM	(1ULL << 20)

static struct vm vm_a, vm_b;

/* The restoring VM gets the saving VM's memory, as the memory file would give it. */
static void copy_ram(struct vm *to, const struct vm *from)
{
	memcpy(to->mem.regions[0].hva, from->mem.regions[0].hva, RAM);
}

/* ---- virtqueue ---- */

struct vq_obj {
	struct virtq *vq;
	unsigned int max;
};

static int vq_save_fn(void *o, struct state_writer *w)
{
	return virtq_save(((struct vq_obj *)o)->vq, w);
}

static int vq_restore_fn(void *o, struct state_reader *r)
{
	struct vq_obj *v = o;

	return virtq_restore(v->vq, r, 0, v->max);
}

static void write_buf_chain(struct vqh *h, unsigned int head, uint64_t addr)
{
	vqh_desc(h, head, addr, 64, VRING_DESC_F_WRITE, 0);
}

static struct virtq vq_a, vq_b;

Test(dev_state_virtio, virtqueue_wrapped_mid_ring)
{
	struct vq_obj oa = { &vq_a, 256 }, ob = { &vq_b, 256 };
	struct iovec iov[4];
	struct virtq_elem e = { .iov = iov, .max = 4 };
	struct state_membuf m;
	struct vqh h;
	unsigned int i;

	cr_assert_eq(fake_vm_init(&vm_a, RAM), 0);
	cr_assert_eq(vqh_setup(&h, &vm_a, &vq_a, 8), 0);
	/* the driver has been at it a while: 65530 buffers went round */
	vq_a.last_avail_idx = vq_a.used_idx = 65530;
	h.avail_idx = 65530;
	for (i = 0; i < 8; i++)
		write_buf_chain(&h, i, VQH_BUF + 64 * i);
	for (i = 0; i < 9; i++) {
		vqh_publish(&h, (uint16_t)(i % 8));
		cr_assert_eq(virtq_pop(&vq_a, &e), 1);
		cr_assert_eq(e.head, i % 8);
		virtq_push(&vq_a, e.head, 64);
	}
	cr_assert_eq(vq_a.used_idx, 3, "wrapped");
	cr_assert(virtq_need_interrupt(&vq_a));
	vqh_publish(&h, 5);				/* waiting when the VM stops */
	cr_assert_eq(dsh_save(&m, vq_save_fn, &oa), 0, "%s", dsh_err);

	cr_assert_eq(fake_vm_init(&vm_b, RAM), 0);
	copy_ram(&vm_b, &vm_a);
	memset(&vq_b, 0, sizeof(vq_b));
	vq_b.mem = &vm_b.mem;
	cr_assert_eq(dsh_restore(&m, vq_restore_fn, &ob), 0, "%s", dsh_err);
	cr_assert_eq(vq_b.size, 8);
	cr_assert(vq_b.ready);
	cr_assert_eq(vq_b.last_avail_idx, 3);
	cr_assert_eq(vq_b.used_idx, 3);
	cr_assert_eq(vq_b.signalled_used, vq_a.signalled_used);
	cr_assert_eq(vq_b.signalled_valid, vq_a.signalled_valid);
	cr_assert_eq(vq_b.desc_gpa, VQH_DESC);
	cr_assert_eq(vq_b.avail_gpa, VQH_AVAIL);
	cr_assert_eq(vq_b.used_gpa, VQH_USED);
	/* carries on: the waiting buffer is next, the used index goes on from 3 */
	h.vm = &vm_b;
	cr_assert_eq(virtq_pop(&vq_b, &e), 1);
	cr_assert_eq(e.head, 5);
	cr_assert_eq(iov[0].iov_base, gm_ptr(&vm_b.mem, VQH_BUF + 64 * 5, 64), "host view remapped");
	virtq_push(&vq_b, e.head, 64);
	cr_assert_eq(vqh_used_idx(&h), 4);
	cr_assert_eq(vqh_used_elem(&h, 3).id, 5);
	cr_assert_eq(virtq_pop(&vq_b, &e), 0);

	/* a queue holding a request cannot be saved */
	state_membuf_free(&m);
	vqh_publish(&h, 6);
	cr_assert_eq(virtq_pop(&vq_b, &e), 1);
	cr_assert_eq(dsh_save(&m, vq_save_fn, &ob), -EBUSY);
	cr_assert(strstr(dsh_err, "in flight"), "%s", dsh_err);
	state_membuf_free(&m);
	fake_vm_destroy(&vm_a);
	fake_vm_destroy(&vm_b);
}

struct vq_raw {
	uint16_t size;
	uint8_t ready;
	uint64_t desc, avail, used;
	uint8_t sv, broken;
};

static int vq_raw_save(void *o, struct state_writer *w)
{
	struct vq_raw *v = o;

	state_put_u16(w, v->size);
	state_put_u8(w, v->ready);
	state_put_u64(w, v->desc);
	state_put_u64(w, v->avail);
	state_put_u64(w, v->used);
	state_put_u16(w, 7);
	state_put_u16(w, 7);
	state_put_u16(w, 7);
	state_put_u8(w, v->sv);
	state_put_u8(w, v->broken);
	return 0;
}

Test(dev_state_virtio, virtqueue_refuses_bad_values)
{
	static const struct {
		struct vq_raw v;
		const char *what;
	} bad[] = {
		{ { 3, 1, VQH_DESC, VQH_AVAIL, VQH_USED, 0, 0 }, "size 3" },
		{ { 512, 1, VQH_DESC, VQH_AVAIL, VQH_USED, 0, 0 }, "size 512" },
		{ { 0, 0, 0, 0, 0, 0, 0 }, "size 0" },
		{ { 8, 1, RAM - 64, VQH_AVAIL, VQH_USED, 0, 0 }, "outside guest RAM" },
		{ { 8, 1, VQH_DESC, VQH_AVAIL, ~0ULL - 3, 0, 0 }, "outside guest RAM" },
		{ { 8, 1, VQH_DESC + 8, VQH_AVAIL, VQH_USED, 0, 0 }, "misaligned" },
		{ { 8, 2, VQH_DESC, VQH_AVAIL, VQH_USED, 0, 0 }, "ready" },
		{ { 8, 1, VQH_DESC, VQH_AVAIL, VQH_USED, 5, 0 }, "signalled_valid" },
		{ { 8, 1, VQH_DESC, VQH_AVAIL, VQH_USED, 0, 9 }, "broken" },
	};
	struct vq_obj ob = { &vq_b, 256 };
	struct vq_raw good = { 8, 1, VQH_DESC, VQH_AVAIL, VQH_USED, 1, 0 };
	struct state_membuf m;
	unsigned int i;

	cr_assert_eq(fake_vm_init(&vm_b, RAM), 0);
	memset(&vq_b, 0, sizeof(vq_b));
	vq_b.mem = &vm_b.mem;
	dsh_save(&m, vq_raw_save, &good);
	cr_assert_eq(dsh_restore(&m, vq_restore_fn, &ob), 0, "%s", dsh_err);
	cr_assert_eq(vq_b.last_avail_idx, 7);
	state_membuf_free(&m);
	/* a not-ready queue's addresses are the driver's business until it enables it */
	good.ready = 0;
	good.desc = ~0ULL;
	dsh_save(&m, vq_raw_save, &good);
	cr_assert_eq(dsh_restore(&m, vq_restore_fn, &ob), 0, "%s", dsh_err);
	cr_assert_null(vq_b.desc);
	state_membuf_free(&m);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&vq_b, 0, sizeof(vq_b));
		vq_b.mem = &vm_b.mem;
		dsh_save(&m, vq_raw_save, (void *)&bad[i].v);
		dsh_refused(&m, vq_restore_fn, &ob, bad[i].what);
		cr_assert_eq(vq_b.size, 0, "case %u: nothing applied", i);
		state_membuf_free(&m);
	}
	fake_vm_destroy(&vm_b);
}

static bool page_set(const uint64_t *bits, uint64_t page)
{
	return bits[page / 64] & (1ULL << (page % 64));
}

/* Device writes leave dirty marks (live migration), and only while the log is on. */
Test(dev_state_virtio, device_writes_mark_pages_dirty)
{
	struct iovec iov[4];
	struct virtq_elem e = { .iov = iov, .max = 4 };
	uint64_t *bits, page;
	struct vqh h;

	cr_assert_eq(fake_vm_init(&vm_a, RAM), 0);
	cr_assert_eq(vqh_setup(&h, &vm_a, &vq_a, 8), 0);
	/* readable page 0x20, writable pages 0x30 and (indirect) 0x40 */
	vqh_desc(&h, 0, 0x20000, 16, VRING_DESC_F_NEXT, 1);
	vqh_desc(&h, 1, 0x30000, 0x10, VRING_DESC_F_WRITE, 0);
	vqh_desc(&h, 2, 0x50000, 32, VRING_DESC_F_INDIRECT, 0);
	vqh_desc_at(&h, 0x50000, 0, 0x20100, 16, VRING_DESC_F_NEXT, 1);
	vqh_desc_at(&h, 0x50000, 1, 0x40ff0, 0x20, VRING_DESC_F_WRITE, 0);
	vq_a.indirect = true;
	vqh_publish(&h, 0);
	cr_assert_eq(virtq_pop(&vq_a, &e), 1);
	virtq_push(&vq_a, e.head, 0x10);
	cr_assert_not(gm_dirty_logging(&vm_a.mem));

	bits = dirty_alloc(RAM);
	cr_assert_not_null(bits);
	vm_a.mem.dirty[0] = bits;
	cr_assert(gm_dirty_logging(&vm_a.mem));
	vqh_publish(&h, 0);
	cr_assert_eq(virtq_pop(&vq_a, &e), 1);
	memset(bits, 0, dirty_words(RAM) * 8);		/* the driver's own gm_write()s */
	virtq_push(&vq_a, e.head, 0x10);
	cr_assert(bits[0] & (1ULL << (VQH_USED >> 12)), "used ring");
	cr_assert(bits[0] & (1ULL << 0x30), "writable buffer");
	cr_assert_not(bits[0] & (1ULL << 0x20), "a readable buffer is not written");
	cr_assert_eq(dirty_count(bits, RAM >> 12), 2);

	vqh_publish(&h, 2);
	cr_assert_eq(virtq_pop(&vq_a, &e), 1);
	memset(bits, 0, dirty_words(RAM) * 8);
	virtq_push(&vq_a, e.head, 0x20);
	cr_assert(page_set(bits, 0x40) && page_set(bits, 0x41), "indirect buffer, both pages");
	cr_assert_not(page_set(bits, 0x50), "the indirect table is not written");
	page = 0;
	cr_assert(dirty_next(bits, RAM >> 12, &page));

	/* the avail_event / flags a device writes to ask for kicks */
	memset(bits, 0, dirty_words(RAM) * 8);
	vq_a.event_idx = true;
	virtq_enable_notify(&vq_a);
	cr_assert(bits[0] & (1ULL << (VQH_USED >> 12)));
	vm_a.mem.dirty[0] = NULL;
	free(bits);
	fake_vm_destroy(&vm_a);
}

/* ---- the transport, with a stand-in device ---- */

#define NQ	2

struct dummy {
	unsigned int activated, resets, restored;
	uint64_t features;
	unsigned int ready;
	uint32_t own;		/* the device's own state */
};

static unsigned int d_nq(void *dev) { return NQ; }
static uint64_t d_features(void *dev) { return (1ULL << 0) | (1ULL << 5); }
static unsigned int d_cfg_size(void *dev) { return 8; }
static void d_cfg_read(void *dev, unsigned int off, void *data, unsigned int len)
{
	memset(data, 0, len);
}
static int d_activate(void *dev, struct virtio_pci_dev *t, uint64_t f, struct virtq *vqs,
		      unsigned int nr)
{
	struct dummy *d = dev;
	unsigned int i;

	d->activated++;
	d->features = f;
	d->ready = 0;
	for (i = 0; i < nr; i++)
		d->ready += vqs[i].ready;
	return 0;
}
static void d_reset(void *dev) { ((struct dummy *)dev)->resets++; }

static const struct virtio_dev_ops dummy_ops = {
	.name = "dummy", .device_id = 2, .pci_class = 0x018000, .queue_max_size = 64,
	.num_queues = d_nq, .features = d_features, .config_size = d_cfg_size,
	.config_read = d_cfg_read, .activate = d_activate, .reset = d_reset,
};

static int d_save(void *dev, struct state_writer *w)
{
	state_put_u32(w, ((struct dummy *)dev)->own);
	return 0;
}

static int d_restore(void *dev, struct state_reader *r, void *ctx)
{
	struct dummy *d = dev;

	*(int *)ctx += 1;
	return state_get_u32(r, &d->own);
}

static int d_restored(void *dev, void *ctx)
{
	((struct dummy *)dev)->restored++;
	return 0;
}

static const struct virtio_dev_state dummy_state = {
	.save = d_save, .restore = d_restore, .restored = d_restored,
};

static int tp_save_fn(void *o, struct state_writer *w)
{
	return virtio_pci_save(o, &dummy_state, w);
}

static int ctx_calls;

static int tp_restore_fn(void *o, struct state_reader *r)
{
	return virtio_pci_restore(o, &dummy_state, &ctx_calls, r);
}

static void bw(struct virtio_pci_dev *t, uint64_t off, uint64_t v, unsigned int len)
{
	t->pci.bars[VPCI_BAR].ops->write(t, off, &v, len);
}

static uint64_t br(struct virtio_pci_dev *t, uint64_t off, unsigned int len)
{
	uint64_t v = 0;

	t->pci.bars[VPCI_BAR].ops->read(t, off, &v, len);
	return v;
}

static void drive_to_driver_ok(struct virtio_pci_dev *t)
{
	unsigned int q;

	bw(t, VIRTIO_PCI_COMMON_STATUS, 1, 1);
	bw(t, VIRTIO_PCI_COMMON_STATUS, 3, 1);
	bw(t, VIRTIO_PCI_COMMON_GFSELECT, 1, 4);
	bw(t, VIRTIO_PCI_COMMON_GF, 1, 4);		/* VERSION_1 */
	bw(t, VIRTIO_PCI_COMMON_GFSELECT, 0, 4);
	bw(t, VIRTIO_PCI_COMMON_GF, 1u << 5, 4);
	bw(t, VIRTIO_PCI_COMMON_STATUS, 0x0b, 1);
	for (q = 0; q < NQ; q++) {
		uint64_t base = 0x10000 + 0x1000 * q;

		bw(t, VIRTIO_PCI_COMMON_Q_SELECT, q, 2);
		bw(t, VIRTIO_PCI_COMMON_Q_SIZE, 16, 2);
		bw(t, VIRTIO_PCI_COMMON_Q_DESCLO, base, 8);
		bw(t, VIRTIO_PCI_COMMON_Q_AVAILLO, base + 0x100, 8);
		bw(t, VIRTIO_PCI_COMMON_Q_USEDLO, base + 0x200, 8);
		bw(t, VIRTIO_PCI_COMMON_Q_MSIX, q, 2);
		if (q == 0)
			bw(t, VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
	}
	bw(t, VIRTIO_PCI_COMMON_MSIX, NQ, 2);
	bw(t, VIRTIO_PCI_COMMON_STATUS, 0x0f, 1);
}

Test(dev_state_virtio, transport_round_trip)
{
	struct dummy da = { .own = 0xfeed }, db = { 0 };
	struct virtio_pci_dev *a, *b;
	struct state_membuf m;
	uint32_t v;

	cr_assert_eq(fake_vm_init(&vm_a, RAM), 0);
	cr_assert_eq(virtio_pci_create(&vm_a, &dummy_ops, &da, &a), 0);
	drive_to_driver_ok(a);
	cr_assert_eq(da.activated, 1);
	/* MSI-X: entry 1 programmed and unmasked, entry 2 masked with an interrupt pending */
	bw(a, VPCI_MSIX_TABLE_OFF + 16, 0xfee01000, 4);
	bw(a, VPCI_MSIX_TABLE_OFF + 24, 0x4041, 4);
	bw(a, VPCI_MSIX_TABLE_OFF + 28, 0, 4);
	bw(a, VPCI_MSIX_TABLE_OFF + 32, 0xfee02000, 4);
	bw(a, VPCI_MSIX_TABLE_OFF + 40, 0x4042, 4);
	a->pci.cfg[a->msix_cap + 3] = 0x80;		/* MSI-X enable, as a config write */
	vpci_msix_control_changed(a);
	virtio_pci_config_irq(a);			/* vector 2, masked: pending */
	bw(a, VIRTIO_PCI_COMMON_Q_SELECT, 1, 2);
	bw(a, VIRTIO_PCI_COMMON_DFSELECT, 1, 4);
	bw(a, VIRTIO_PCI_COMMON_GFSELECT, 1, 4);
	a->vqs[0].last_avail_idx = 40000;
	a->vqs[0].used_idx = 39999;
	cr_assert_eq(dsh_save(&m, tp_save_fn, a), 0, "%s", dsh_err);

	cr_assert_eq(fake_vm_init(&vm_b, RAM), 0);
	copy_ram(&vm_b, &vm_a);
	cr_assert_eq(virtio_pci_create(&vm_b, &dummy_ops, &db, &b), 0);
	ctx_calls = 0;
	cr_assert_eq(dsh_restore(&m, tp_restore_fn, b), 0, "%s", dsh_err);
	cr_assert_eq(ctx_calls, 1);
	cr_assert_eq(db.own, 0xfeed, "the device's own part");
	cr_assert_eq(db.activated, 1, "active again");
	cr_assert_eq(db.restored, 1);
	cr_assert_eq(db.ready, 1, "with the one queue the driver enabled");
	cr_assert_eq(db.features, (1ULL << 32) | (1u << 5));
	cr_assert(b->vqs[0].event_idx == false && b->vqs[0].indirect == false);
	cr_assert_eq(br(b, VIRTIO_PCI_COMMON_STATUS, 1), 0x0f);
	cr_assert_eq(br(b, VIRTIO_PCI_COMMON_Q_SELECT, 2), 1, "queue_select");
	cr_assert_eq(br(b, VIRTIO_PCI_COMMON_DFSELECT, 4), 1);
	cr_assert_eq(br(b, VIRTIO_PCI_COMMON_GFSELECT, 4), 1);
	cr_assert_eq(br(b, VIRTIO_PCI_COMMON_GF, 4), 1, "features 63:32");
	cr_assert_eq(br(b, VIRTIO_PCI_COMMON_MSIX, 2), NQ);
	cr_assert_eq(br(b, VIRTIO_PCI_COMMON_Q_MSIX, 2), 1);
	cr_assert_eq(br(b, VIRTIO_PCI_COMMON_Q_SIZE, 2), 16);
	cr_assert_eq(br(b, VIRTIO_PCI_COMMON_Q_ENABLE, 2), 0, "queue 1 was never enabled");
	cr_assert_eq(br(b, VIRTIO_PCI_COMMON_Q_DESCLO, 4), 0x11000);
	cr_assert_eq(br(b, VIRTIO_PCI_COMMON_Q_USEDLO, 4), 0x11200);
	cr_assert_eq(b->vqs[0].last_avail_idx, 40000);
	cr_assert_eq(b->vqs[0].used_idx, 39999);
	cr_assert_not_null(b->vqs[0].avail, "ring mapped in the new VM");
	v = (uint32_t)br(b, VPCI_MSIX_TABLE_OFF + 16, 4);
	cr_assert_eq(v, 0xfee01000);
	cr_assert_eq(br(b, VPCI_MSIX_TABLE_OFF + 24, 4), 0x4041);
	cr_assert_eq(br(b, VPCI_MSIX_TABLE_OFF + 28, 4), 0, "unmasked");
	cr_assert_eq(br(b, VPCI_MSIX_TABLE_OFF + 44, 4), 1, "masked");
	cr_assert_eq(br(b, VPCI_MSIX_PBA_OFF, 4), 1u << 2, "PBA: vector 2 pending");
	cr_assert_eq(b->msix_ctrl, 0x80);
	cr_assert_eq(b->pci.cfg[b->msix_cap + 3], 0x80, "config space");
	/* an interrupt now goes out through MSI-X vector 1 */
	virtio_pci_queue_irq(b, 1);
	cr_assert_eq(fake_vm.irqfds, 1, "route and irqfd made on first use");
	/* unmasking entry 2 delivers what was pending at the save */
	bw(b, VPCI_MSIX_TABLE_OFF + 44, 0, 4);
	cr_assert_eq(br(b, VPCI_MSIX_PBA_OFF, 4), 0);
	state_membuf_free(&m);
	virtio_pci_destroy(a);
	virtio_pci_destroy(b);
	fake_vm_destroy(&vm_a);
	fake_vm_destroy(&vm_b);
}

/* One transport field changed in a saved stream must be refused, naming it. */
struct patch {
	struct virtio_pci_dev *t;
	unsigned int off;
	uint8_t v;
};

static int patched_save(void *o, struct state_writer *w)
{
	struct patch *p = o;
	size_t start = w->len;
	int ret = virtio_pci_save(p->t, &dummy_state, w);

	if (p->off != ~0u)
		w->buf[start + p->off] = p->v;
	return ret;
}

Test(dev_state_virtio, transport_refuses_bad_values)
{
	/* offsets: status 0, active 1, dfsel 2, gfsel 6, offered 10, features 18,
	 * queue_sel 26, config_vector 28, generation 30, nr_queues 31, queue 0 at 35 */
	static const struct {
		unsigned int off;
		uint8_t v;
		const char *what;
	} bad[] = {
		{ 0, 0x30, "unknown bits" },
		{ 0, 0x0d, "not a state the driver can reach" },
		{ 0, 0x0b, "active without DRIVER_OK" },
		{ 1, 2, "active 2" },
		{ 18, 0xff, "negotiated features" },
		{ 22, 0, "negotiated features" },		/* no VERSION_1 */
		{ 28, 7, "config 0: MSI-X vector 7" },
		{ 31, 3, "3 queues saved" },
		{ 35, 9, "queue 0: MSI-X vector" },
		{ 37, 3, "queue 0: size 3" },
		{ 39, 2, "ready 2" },
		{ 44, 0xff, "outside guest RAM" },		/* desc address bits 39:32 */
		{ 40, 0x08, "misaligned" },
	};
	struct dummy da = { 0 }, db = { 0 };
	struct virtio_pci_dev *a, *b;
	struct state_membuf m;
	struct patch p;
	unsigned int i;

	cr_assert_eq(fake_vm_init(&vm_a, RAM), 0);
	cr_assert_eq(virtio_pci_create(&vm_a, &dummy_ops, &da, &a), 0);
	drive_to_driver_ok(a);
	cr_assert_eq(virtio_pci_create(&vm_a, &dummy_ops, &db, &b), 0);
	p = (struct patch){ a, ~0u, 0 };
	cr_assert_eq(dsh_save(&m, patched_save, &p), 0);
	cr_assert_eq(dsh_restore(&m, tp_restore_fn, b), 0, "unpatched: %s", dsh_err);
	state_membuf_free(&m);
	virtio_pci_destroy(b);
	/* another offer is fine (another host's tap), as long as it covers what was accepted */
	cr_assert_eq(virtio_pci_create(&vm_a, &dummy_ops, &db, &b), 0);
	p = (struct patch){ a, 10, 0xff };
	cr_assert_eq(dsh_save(&m, patched_save, &p), 0);
	cr_assert_eq(dsh_restore(&m, tp_restore_fn, b), 0, "%s", dsh_err);
	state_membuf_free(&m);
	virtio_pci_destroy(b);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&db, 0, sizeof(db));
		cr_assert_eq(virtio_pci_create(&vm_a, &dummy_ops, &db, &b), 0);
		p = (struct patch){ a, bad[i].off, bad[i].v };
		cr_assert_eq(dsh_save(&m, patched_save, &p), 0);
		dsh_refused(&m, tp_restore_fn, b, bad[i].what);
		cr_assert_eq(db.activated, 0, "case %u: not activated", i);
		cr_assert_eq(virtio_pci_status(b), 0, "case %u: nothing applied", i);
		state_membuf_free(&m);
		virtio_pci_destroy(b);
	}
	virtio_pci_destroy(a);
	fake_vm_destroy(&vm_a);
}
