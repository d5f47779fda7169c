// SPDX-License-Identifier: MIT
/*
 * virtio-net state round trip on user networking (libslirp: no tap, no
 * privileges): config status and MAC, rx mode, the negotiated features and
 * queues; a paused card is saved, a fresh card of a fresh VM restored, and
 * it comes back running (its pair thread started again).  A running card
 * is not saved; a card with another number of queue pairs is refused.
 */
#include <criterion/criterion.h>
#include <errno.h>

#include <linux/virtio_net.h>
#include <linux/virtio_pci.h>

#include "dev_state_helper.h"
#include "devices/pci.h"
#include "fake_vm.h"
#include "virtio/virtio_net.h"
#include "virtio/virtio_net_state.h"
#include "virtio/virtio_pci.h"

#define RAM	(1ULL << 20)
#define F(b)	(1ULL << (b))

static struct vm vm_a, vm_b;

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

static struct virtio_pci_dev *new_net(struct vm *vm, unsigned int pairs, uint8_t last)
{
	struct net_opts o = { .kind = NET_USER, .queues = pairs, .mac_set = true,
			      .mac = { 2, 0, 0, 0, 0, last } };
	struct virtio_pci_dev *t;
	char err[256] = "";

	cr_assert_eq(pci_bus_create(vm), 0);
	cr_assert_eq(virtio_net_create(vm, &o, 0, &t, err, sizeof(err)), 0, "%s", err);
	return t;
}

static int net_save_fn(void *o, struct state_writer *w) { return virtio_net_save(o, w); }
static int net_restore_fn(void *o, struct state_reader *r) { return virtio_net_restore(o, r); }

/* The card's part: mac 6, status 2, max pairs 2, pairs in use 4, rx mode 6, vhost 1. */
static struct {
	unsigned int from_end;
	uint8_t v;
	const char *what;
} patch, bad[] = {
	{ 15, 0xff, "config status" },
	{ 13, 2, "queue pair(s) saved" },
	{ 11, 2, "pair(s) in use" },
	{ 11, 0, "pair(s) in use" },
	{ 6, 2, "rx mode 1" },
	{ 1, 7, "vhost flag" },
};

static int patched_save(void *o, struct state_writer *w)
{
	int ret = virtio_net_save(o, w);

	w->buf[w->len - patch.from_end] = patch.v;
	return ret;
}

Test(dev_state_net, paused_card_comes_back_running, .timeout = 30)
{
	uint64_t feat = F(VIRTIO_F_VERSION_1) | F(VIRTIO_NET_F_MAC) | F(VIRTIO_NET_F_STATUS) |
			F(VIRTIO_NET_F_CTRL_VQ) | F(VIRTIO_NET_F_CTRL_RX) |
			F(VIRTIO_NET_F_GUEST_ANNOUNCE) | F(VIRTIO_RING_F_EVENT_IDX);
	struct virtio_pci_dev *a, *b;
	struct virtio_net *na, *nb;
	struct state_membuf m;
	uint16_t idx = htole16(65535);
	unsigned int q;

	cr_assert_eq(fake_vm_init(&vm_a, RAM), 0);
	a = new_net(&vm_a, 1, 0xaa);
	na = a->dev;
	bw(a, VIRTIO_PCI_COMMON_STATUS, 1, 1);
	bw(a, VIRTIO_PCI_COMMON_STATUS, 3, 1);
	bw(a, VIRTIO_PCI_COMMON_GFSELECT, 0, 4);
	bw(a, VIRTIO_PCI_COMMON_GF, (uint32_t)feat, 4);
	bw(a, VIRTIO_PCI_COMMON_GFSELECT, 1, 4);
	bw(a, VIRTIO_PCI_COMMON_GF, feat >> 32, 4);
	bw(a, VIRTIO_PCI_COMMON_STATUS, 0x0b, 1);
	cr_assert_eq(br(a, VIRTIO_PCI_COMMON_STATUS, 1), 0x0b);
	for (q = 0; q < 3; q++) {
		uint64_t base = 0x10000 + 0x4000 * q;

		bw(a, VIRTIO_PCI_COMMON_Q_SELECT, q, 2);
		bw(a, VIRTIO_PCI_COMMON_Q_SIZE, 64, 2);
		bw(a, VIRTIO_PCI_COMMON_Q_DESCLO, base, 8);
		bw(a, VIRTIO_PCI_COMMON_Q_AVAILLO, base + 0x1000, 8);
		bw(a, VIRTIO_PCI_COMMON_Q_USEDLO, base + 0x2000, 8);
		bw(a, VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
	}
	bw(a, VIRTIO_PCI_COMMON_STATUS, 0x0f, 1);
	cr_assert_eq(br(a, VIRTIO_PCI_COMMON_STATUS, 1), 0x0f);
	cr_assert(na->active && na->pairs[0].running);
	na->rx_mode[VIRTIO_NET_CTRL_RX_PROMISC] = 1;
	virtio_net_announce(na);
	cr_assert_eq(dsh_save(&m, net_save_fn, a), -EBUSY, "a running card is not saved");
	state_membuf_free(&m);
	virtio_net_stop(na);					/* the VM's pause */
	/* tx queue mid-ring (set while no I/O thread runs: they would take it) */
	a->vqs[1].last_avail_idx = a->vqs[1].used_idx = 65535;
	cr_assert_eq(dsh_save(&m, net_save_fn, a), 0, "%s", dsh_err);
	virtio_net_destroy(a);
	pci_bus_destroy(&vm_a);

	cr_assert_eq(fake_vm_init(&vm_b, RAM), 0);
	/* guest memory comes back before the devices: the tx ring's indices too,
	 * or the restarted I/O thread would see one chain offered and take it */
	gm_write(&vm_b.mem, 0x15002, &idx, 2);
	gm_write(&vm_b.mem, 0x16002, &idx, 2);
	b = new_net(&vm_b, 1, 0xbb);
	nb = b->dev;
	cr_assert_eq(dsh_restore(&m, net_restore_fn, b), 0, "%s", dsh_err);
	cr_assert(nb->active, "activated again");
	cr_assert(nb->pairs[0].running, "its I/O thread runs");
	cr_assert_eq(nb->acked, feat);
	cr_assert_not_null(nb->ctrl);
	cr_assert(b->vqs[0].event_idx, "EVENT_IDX from the negotiated features");
	cr_assert_eq(b->vqs[1].last_avail_idx, 65535);
	cr_assert_eq(nb->cfg.mac[5], 0xaa, "the MAC the guest knows");
	cr_assert_eq(br(b, VPCI_DEVCFG_OFF + 5, 1), 0xaa);
	cr_assert_eq(le16toh(nb->cfg.status), VIRTIO_NET_S_LINK_UP | VIRTIO_NET_S_ANNOUNCE);
	cr_assert_eq(nb->rx_mode[VIRTIO_NET_CTRL_RX_PROMISC], 1);
	cr_assert_eq(nb->curr_pairs, 1);
	virtio_net_stop(nb);
	state_membuf_free(&m);

	/* the card's own part is checked: offsets from the end of the section */
	for (q = 0; q < sizeof(bad) / sizeof(bad[0]); q++) {
		patch = bad[q];
		cr_assert_eq(dsh_save(&m, patched_save, b), 0, "%s", dsh_err);
		dsh_refused(&m, net_restore_fn, b, patch.what);
		state_membuf_free(&m);
	}
	virtio_net_destroy(b);
	pci_bus_destroy(&vm_b);
	fake_vm_destroy(&vm_a);
	fake_vm_destroy(&vm_b);
}
