// SPDX-License-Identifier: MIT
/*
 * virtio-net data path on synthetic guest memory, a socketpair standing in
 * for the tap: tx, rx with and without MRG_RXBUF, header layouts, offloads
 * given to the backend, malformed chains, the control queue.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <unistd.h>

#include "fake_vm.h"
#include "virtio/virtio_net.h"
#include "vnet_helper.h"

#define RAM		(1ULL << 20)
#define RING(i)		(0x10000ULL + 0x4000ULL * (i))
#define BUF		0x40000ULL
#define BIG		0x80000ULL	/* 512 KiB of room */

#define F(b)		(1ULL << (b))
#define BASE_FEATURES	(F(VIRTIO_F_VERSION_1) | F(VIRTIO_NET_F_MAC) | F(VIRTIO_NET_F_STATUS) | \
			 F(VIRTIO_NET_F_CTRL_VQ) | F(VIRTIO_NET_F_CTRL_RX) | F(VIRTIO_NET_F_MQ) | \
			 F(VIRTIO_NET_F_GUEST_ANNOUNCE))
#define ALL_TUN		(TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN | TUN_F_UFO)

static struct vm vm;
static struct fake_be fb;
static struct virtio_net *n;
static struct virtq vqs[2 * 2 + 1];
static struct ring rings[2 * 2 + 1];
static const uint8_t mac[6] = { 0x02, 1, 2, 3, 4, 5 };

static void setup(void)
{
	cr_assert_eq(fake_vm_init(&vm, RAM), 0);
}

static void teardown(void)
{
	virtio_net_free(n);
	n = NULL;
	fake_vm_destroy(&vm);
}

/* A card with `pairs` queue pairs, bound with `features`. */
static void make(unsigned int pairs, unsigned int tun_mask, uint64_t features)
{
	struct net_backend *be = fake_be_new(&fb, pairs, tun_mask);
	unsigned int i;

	cr_assert_not_null(be);
	cr_assert_eq(virtio_net_new(&vm, be, mac, pairs, &n), 0);
	for (i = 0; i < 2 * pairs + 1; i++)
		cr_assert_eq(ring_setup(&rings[i], &vm.mem, &vqs[i], RING(i), 64), 0);
	cr_assert_eq(vnet_bind(n, features, vqs, 2 * pairs + 1), 0);
}

static uint8_t *g(uint64_t gpa, uint64_t len)
{
	uint8_t *p = gm_ptr(&vm.mem, gpa, len);

	cr_assert_not_null(p);
	return p;
}

static void fill(uint8_t *p, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 7 + seed);
}

/* ---- layouts and negotiation ---- */

Test(virtio_net, header_and_config_layout, .init = setup, .fini = teardown)
{
	uint8_t cfg[VNET_CONFIG_SIZE];

	cr_assert_eq(sizeof(struct virtio_net_hdr_v1), NET_HDR_LEN);
	cr_assert_eq(offsetof(struct virtio_net_hdr_v1, num_buffers), 10);
	cr_assert_eq(offsetof(struct virtio_net_hdr_v1, gso_size), 4);
	cr_assert_eq(offsetof(struct virtio_net_config, status), 6);
	cr_assert_eq(offsetof(struct virtio_net_config, max_virtqueue_pairs), 8);
	make(2, ALL_TUN, BASE_FEATURES);
	memcpy(cfg, &n->cfg, sizeof(cfg));
	cr_assert_arr_eq(cfg, mac, 6);
	cr_assert_eq(cfg[6] | cfg[7] << 8, VIRTIO_NET_S_LINK_UP);
	cr_assert_eq(cfg[8] | cfg[9] << 8, 2);
}

Test(virtio_net, offers_what_the_backend_can, .init = setup, .fini = teardown)
{
	make(1, 0, BASE_FEATURES);
	cr_assert(n->offered & F(VIRTIO_NET_F_MRG_RXBUF));
	cr_assert(n->offered & F(VIRTIO_NET_F_CTRL_VQ));
	cr_assert_eq(n->offered & (F(VIRTIO_NET_F_CSUM) | F(VIRTIO_NET_F_GUEST_CSUM) |
				   F(VIRTIO_NET_F_GUEST_TSO4) | F(VIRTIO_NET_F_HOST_TSO4)), 0,
		     "no offloads without a vnet-header tap");
	virtio_net_free(n);
	make(1, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN, BASE_FEATURES);
	cr_assert(n->offered & F(VIRTIO_NET_F_GUEST_TSO6));
	cr_assert(n->offered & F(VIRTIO_NET_F_HOST_ECN));
	cr_assert_eq(n->offered & (F(VIRTIO_NET_F_GUEST_UFO) | F(VIRTIO_NET_F_HOST_UFO)), 0,
		     "no UFO where the tap refuses it");
}

Test(virtio_net, offloads_given_to_the_tap_are_what_the_guest_accepted, .init = setup,
     .fini = teardown)
{
	make(1, ALL_TUN, BASE_FEATURES | F(VIRTIO_NET_F_GUEST_CSUM) | F(VIRTIO_NET_F_GUEST_TSO4));
	cr_assert_eq(fb.last_offload, TUN_F_CSUM | TUN_F_TSO4);
	vnet_unbind(n);
	cr_assert_eq(fb.last_offload, 0, "reset clears them");
	cr_assert_eq(vnet_bind(n, BASE_FEATURES | F(VIRTIO_NET_F_GUEST_TSO4) |
			       F(VIRTIO_NET_F_GUEST_TSO6), vqs, 3), 0);
	cr_assert_eq(fb.last_offload, 0, "TSO without GUEST_CSUM is nothing");
	vnet_unbind(n);
	cr_assert_eq(vnet_bind(n, BASE_FEATURES | F(VIRTIO_NET_F_GUEST_CSUM) |
			       F(VIRTIO_NET_F_GUEST_TSO6) | F(VIRTIO_NET_F_GUEST_ECN) |
			       F(VIRTIO_NET_F_GUEST_UFO), vqs, 3), 0);
	cr_assert_eq(fb.last_offload, TUN_F_CSUM | TUN_F_TSO6 | TUN_F_TSO_ECN | TUN_F_UFO);
	vnet_unbind(n);
	cr_assert_eq(vnet_bind(n, BASE_FEATURES | F(VIRTIO_NET_F_GUEST_CSUM) |
			       F(VIRTIO_NET_F_GUEST_ECN), vqs, 3), 0);
	cr_assert_eq(fb.last_offload, TUN_F_CSUM, "ECN alone means nothing");
}

Test(virtio_net, only_pair_0_attached_until_mq_set, .init = setup, .fini = teardown)
{
	make(2, 0, BASE_FEATURES);
	cr_assert(fb.attached[0]);
	cr_assert_not(fb.attached[1]);
	cr_assert_eq(n->curr_pairs, 1);
}

/* ---- tx ---- */

static void tx_chain(struct ring *r, unsigned int head, uint64_t gpa, const uint32_t *lens,
		     unsigned int cnt)
{
	unsigned int i;

	for (i = 0; i < cnt; i++) {
		ring_desc(r, head + i, gpa, lens[i], i + 1 < cnt ? VRING_DESC_F_NEXT : 0,
			  (uint16_t)(head + i + 1));
		gpa += lens[i];
	}
	ring_publish(r, (uint16_t)head);
}

Test(virtio_net, tx_writes_header_and_frame, .init = setup, .fini = teardown)
{
	uint32_t lens[] = { 5, 7, 30, 30 };	/* header split in two, frame in two */
	uint8_t got[256];
	struct vnet_stats rx, tx;
	uint8_t *buf;

	make(1, 0, BASE_FEATURES);
	buf = g(BUF, 72);
	memset(buf, 0, 12);
	fill(buf + 12, 60, 1);
	tx_chain(&rings[1], 0, BUF, lens, 4);
	cr_assert_eq(vnet_tx_process(&n->pairs[0]), VNET_IDLE);
	cr_assert_eq(read(fb.peer[0], got, sizeof(got)), 72);
	cr_assert_arr_eq(got, buf, 72);
	cr_assert_eq(ring_used_idx(&rings[1]), 1);
	cr_assert_eq(ring_used(&rings[1], 0).id, 0);
	cr_assert_eq(ring_used(&rings[1], 0).len, 0);
	cr_assert_eq(virtio_net_stats(n, 0, &rx, &tx), 0);
	cr_assert_eq(tx.packets, 1);
	cr_assert_eq(tx.bytes, 60);
	cr_assert_eq(tx.drops, 0);
	cr_assert_eq(virtio_net_stats(n, 1, &rx, &tx), -EINVAL);
}

Test(virtio_net, tx_header_is_copied_before_writing, .init = setup, .fini = teardown)
{
	uint32_t lens[] = { 12, 60 };
	struct virtio_net_hdr_v1 h = { 0 };
	uint8_t got[128];

	make(1, ALL_TUN, BASE_FEATURES | F(VIRTIO_NET_F_CSUM) | F(VIRTIO_NET_F_HOST_TSO4));
	h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	h.gso_size = htole16(1448);
	h.hdr_len = htole16(54);
	h.csum_start = htole16(34);
	h.csum_offset = htole16(16);
	gm_write(&vm.mem, BUF, &h, sizeof(h));
	fill(g(BUF + 12, 60), 60, 3);
	tx_chain(&rings[1], 0, BUF, lens, 2);
	vnet_tx_process(&n->pairs[0]);
	cr_assert_eq(read(fb.peer[0], got, sizeof(got)), 72);
	cr_assert_arr_eq(got, &h, 12, "GSO header passed to the tap as is");
}

Test(virtio_net, tx_malformed_dropped_and_counted, .init = setup, .fini = teardown)
{
	struct virtio_net_hdr_v1 h = { 0 };
	struct vnet_stats rx, tx;
	uint32_t short_len[] = { 12 + 13 };
	uint32_t huge[] = { 12 + NET_MAX_FRAME + 1 };
	uint32_t ok[] = { 12 + 60 };
	uint8_t got[128];
	unsigned int head = 0;

	make(1, ALL_TUN, BASE_FEATURES);	/* no CSUM, no HOST_TSO */
	memset(g(BUF, 0x100), 0, 0x100);
	memset(g(BIG, huge[0]), 0, huge[0]);
	tx_chain(&rings[1], head++, BUF, short_len, 1);		/* runt */
	tx_chain(&rings[1], head++, BIG, huge, 1);		/* over 64 KiB + header */
	h.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h.gso_size = htole16(1000);
	gm_write(&vm.mem, BUF + 0x200, &h, sizeof(h));
	tx_chain(&rings[1], head++, BUF + 0x200, ok, 1);	/* GSO not negotiated */
	h.gso_type = 0;
	gm_write(&vm.mem, BUF + 0x300, &h, sizeof(h));
	tx_chain(&rings[1], head++, BUF + 0x300, ok, 1);	/* NEEDS_CSUM without CSUM */
	h.flags = 0x80;
	gm_write(&vm.mem, BUF + 0x400, &h, sizeof(h));
	tx_chain(&rings[1], head++, BUF + 0x400, ok, 1);	/* unknown flag */
	tx_chain(&rings[1], head++, BUF + 0x500, ok, 1);	/* good */
	cr_assert_eq(vnet_tx_process(&n->pairs[0]), VNET_IDLE);
	cr_assert_eq(read(fb.peer[0], got, sizeof(got)), 72, "only the good frame");
	cr_assert_eq(read(fb.peer[0], got, sizeof(got)), -1);
	cr_assert_eq(ring_used_idx(&rings[1]), 6, "every chain returned");
	virtio_net_stats(n, 0, &rx, &tx);
	cr_assert_eq(tx.drops, 5);
	cr_assert_eq(tx.packets, 1);
}

Test(virtio_net, tx_backend_full_waits_and_retries, .init = setup, .fini = teardown)
{
	uint32_t ok[] = { 12 + 1500 };
	uint8_t got[2048];
	unsigned int i, sent = 0, reads = 0;
	enum vnet_result r;

	make(1, 0, BASE_FEATURES);
	memset(g(BUF, 2048), 0, 2048);
	for (i = 0; i < 64; i++) {
		ring_desc(&rings[1], i, BUF, ok[0], 0, 0);
		ring_publish(&rings[1], (uint16_t)i);
	}
	for (;;) {
		r = vnet_tx_process(&n->pairs[0]);
		sent = ring_used_idx(&rings[1]);
		if (r != VNET_WAIT)
			break;
		cr_assert_lt(sent, 64);
		while (read(fb.peer[0], got, sizeof(got)) > 0)
			reads++;
	}
	while (read(fb.peer[0], got, sizeof(got)) > 0)
		reads++;
	cr_assert_eq(sent, 64);
	cr_assert_eq(reads, 64, "nothing lost or sent twice");
}

Test(virtio_net, tx_broken_ring, .init = setup, .fini = teardown)
{
	make(1, 0, BASE_FEATURES);
	ring_publish(&rings[1], 200);	/* head out of range */
	cr_assert_eq(vnet_tx_process(&n->pairs[0]), VNET_BROKEN);
	cr_assert(vqs[1].broken);
	cr_assert_eq(vnet_tx_process(&n->pairs[0]), VNET_IDLE, "not touched again");
}

/* ---- rx ---- */

static void post_rx(struct ring *r, unsigned int head, uint64_t gpa, uint32_t len)
{
	ring_desc(r, head, gpa, len, VRING_DESC_F_WRITE, 0);
	ring_publish(r, (uint16_t)head);
}

static void send_frame(unsigned int q, size_t len, unsigned int seed)
{
	static uint8_t f[70000];

	memset(f, 0, NET_HDR_LEN);
	fill(f + NET_HDR_LEN, len - NET_HDR_LEN, seed);
	f[10] = 0xee;	/* num_buffers: the device must overwrite it */
	f[11] = 0xee;
	cr_assert_eq(write(fb.peer[q], f, len), (ssize_t)len);
}

Test(virtio_net, rx_one_chain_per_frame, .init = setup, .fini = teardown)
{
	uint8_t want[512];
	struct vnet_stats rx, tx;

	make(1, 0, BASE_FEATURES);
	post_rx(&rings[0], 0, BUF, 1526);
	post_rx(&rings[0], 1, BUF + 0x1000, 1526);
	send_frame(0, 12 + 100, 9);
	cr_assert_eq(vnet_rx_process(&n->pairs[0]), VNET_IDLE);
	cr_assert_eq(ring_used_idx(&rings[0]), 1);
	cr_assert_eq(ring_used(&rings[0], 0).id, 0);
	cr_assert_eq(ring_used(&rings[0], 0).len, 112);
	cr_assert_eq(g(BUF, 12)[10], 1, "num_buffers = 1");
	cr_assert_eq(g(BUF, 12)[11], 0);
	fill(want, 100, 9);
	cr_assert_arr_eq(g(BUF + 12, 100), want, 100);
	virtio_net_stats(n, 0, &rx, &tx);
	cr_assert_eq(rx.packets, 1);
	cr_assert_eq(rx.bytes, 100);
	cr_assert_eq(vqs[0].last_avail_idx, 1, "the second chain stays for the next frame");
}

Test(virtio_net, rx_mergeable_spreads_a_frame_and_returns_the_rest, .init = setup,
     .fini = teardown)
{
	uint8_t want[4000];
	unsigned int i;

	make(1, ALL_TUN, BASE_FEATURES | F(VIRTIO_NET_F_MRG_RXBUF) | F(VIRTIO_NET_F_GUEST_CSUM) |
	     F(VIRTIO_NET_F_GUEST_TSO4));
	for (i = 0; i < 46; i++)	/* 43 * 1536 > 64 KiB + header */
		post_rx(&rings[0], i, BIG + 1536ULL * i, 1536);
	send_frame(0, 12 + 4000, 5);
	send_frame(0, 12 + 60, 6);
	cr_assert_eq(vnet_rx_process(&n->pairs[0]), VNET_WAIT,
		     "42 buffers left cannot hold a 64 KiB frame");
	cr_assert_eq(ring_used_idx(&rings[0]), 4);
	cr_assert_eq(ring_used(&rings[0], 0).id, 0);
	cr_assert_eq(ring_used(&rings[0], 0).len, 1536);
	cr_assert_eq(ring_used(&rings[0], 1).len, 1536);
	cr_assert_eq(ring_used(&rings[0], 2).id, 2);
	cr_assert_eq(ring_used(&rings[0], 2).len, 4012 - 2 * 1536);
	cr_assert_eq(g(BIG, 12)[10], 3, "num_buffers = 3");
	fill(want, 4000, 5);
	cr_assert_arr_eq(g(BIG + 12, 4000), want, 4000, "contiguous across the buffers");
	cr_assert_eq(ring_used(&rings[0], 3).id, 3, "the next frame starts at the next chain");
	cr_assert_eq(ring_used(&rings[0], 3).len, 72);
	cr_assert_eq(g(BIG + 3 * 1536, 12)[10], 1);
	cr_assert_eq(vqs[0].last_avail_idx, 4);
}

Test(virtio_net, rx_mergeable_without_gso_needs_one_mtu, .init = setup, .fini = teardown)
{
	make(1, 0, BASE_FEATURES | F(VIRTIO_NET_F_MRG_RXBUF));
	post_rx(&rings[0], 0, BUF, 1000);
	send_frame(0, 12 + 1500, 1);
	cr_assert_eq(vnet_rx_process(&n->pairs[0]), VNET_WAIT, "1000 bytes < 1518 + 12");
	cr_assert_eq(ring_used_idx(&rings[0]), 0);
	cr_assert_eq(vqs[0].last_avail_idx, 0, "the buffer was given back");
	post_rx(&rings[0], 1, BUF + 0x1000, 1000);
	cr_assert_eq(vnet_rx_process(&n->pairs[0]), VNET_WAIT, "all buffers used");
	cr_assert_eq(ring_used_idx(&rings[0]), 2);
	cr_assert_eq(ring_used(&rings[0], 0).len, 1000);
	cr_assert_eq(ring_used(&rings[0], 1).len, 512);
	cr_assert_eq(g(BUF, 12)[10], 2);
}

Test(virtio_net, rx_stops_without_buffers, .init = setup, .fini = teardown)
{
	uint8_t got[256];

	make(1, 0, BASE_FEATURES);
	send_frame(0, 12 + 60, 1);
	cr_assert_eq(vnet_rx_process(&n->pairs[0]), VNET_WAIT);
	cr_assert_eq(read(n->pairs[0].fd, got, sizeof(got)), 72,
		     "the frame stayed in the backend");
}

Test(virtio_net, rx_malformed_chains, .init = setup, .fini = teardown)
{
	struct vnet_stats rx, tx;

	make(1, 0, BASE_FEATURES);
	post_rx(&rings[0], 0, BUF, 8);			/* no room for the header */
	ring_desc(&rings[0], 1, BUF + 0x100, 64, VRING_DESC_F_NEXT, 2);	/* readable */
	ring_desc(&rings[0], 2, BUF + 0x200, 2000, VRING_DESC_F_WRITE, 0);
	ring_publish(&rings[0], 1);
	post_rx(&rings[0], 3, BUF + 0x1000, 2000);	/* good */
	send_frame(0, 12 + 60, 1);
	cr_assert_eq(vnet_rx_process(&n->pairs[0]), VNET_WAIT);
	cr_assert_eq(ring_used_idx(&rings[0]), 3);
	cr_assert_eq(ring_used(&rings[0], 0).len, 0);
	cr_assert_eq(ring_used(&rings[0], 1).len, 0);
	cr_assert_eq(ring_used(&rings[0], 2).id, 3);
	cr_assert_eq(ring_used(&rings[0], 2).len, 72);
	virtio_net_stats(n, 0, &rx, &tx);
	cr_assert_eq(rx.drops, 2);
	cr_assert_eq(rx.packets, 1);
}

Test(virtio_net, rx_runt_dropped, .init = setup, .fini = teardown)
{
	struct vnet_stats rx, tx;

	make(1, 0, BASE_FEATURES);
	post_rx(&rings[0], 0, BUF, 2000);
	send_frame(0, 12 + 5, 1);
	send_frame(0, 12 + 60, 1);
	vnet_rx_process(&n->pairs[0]);
	cr_assert_eq(ring_used_idx(&rings[0]), 1);
	cr_assert_eq(ring_used(&rings[0], 0).len, 72);
	virtio_net_stats(n, 0, &rx, &tx);
	cr_assert_eq(rx.drops, 1);
}

Test(virtio_net, rx_broken_ring, .init = setup, .fini = teardown)
{
	make(1, 0, BASE_FEATURES);
	ring_desc(&rings[0], 0, BUF, 2000, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 0);	/* loop */
	ring_publish(&rings[0], 0);
	send_frame(0, 12 + 60, 1);
	cr_assert_eq(vnet_rx_process(&n->pairs[0]), VNET_BROKEN);
	cr_assert(vqs[0].broken);
}

/* ---- control queue ---- */

static uint8_t ctrl(unsigned int head, uint8_t cls, uint8_t cmd, const void *data, size_t len)
{
	uint64_t out = BUF + 0x800 * head, ack = out + 0x700;
	uint8_t hdr[2] = { cls, cmd };
	struct ring *r = &rings[2 * n->nr_pairs];
	uint16_t before = ring_used_idx(r);

	gm_write(&vm.mem, out, hdr, 2);
	if (len)
		gm_write(&vm.mem, out + 2, data, len);
	*g(ack, 1) = 0xaa;
	ring_desc(r, 2 * head, out, (uint32_t)(2 + len), VRING_DESC_F_NEXT, (uint16_t)(2 * head + 1));
	ring_desc(r, 2 * head + 1, ack, 1, VRING_DESC_F_WRITE, 0);
	ring_publish(r, (uint16_t)(2 * head));
	vnet_ctrl_process(n);
	cr_assert_eq(ring_used_idx(r), (uint16_t)(before + 1));
	cr_assert_eq(ring_used(r, before).len, 1);
	return *g(ack, 1);
}

Test(virtio_net, ctrl_commands, .init = setup, .fini = teardown)
{
	uint8_t on = 1, bad = 2;
	uint16_t pairs;
	/* unicast table: 1 entry; multicast table: 0 entries */
	uint8_t macs[14] = { 1, 0, 0, 0, 2, 0, 0, 0, 0, 1, 0, 0, 0, 0 };
	uint8_t lying[14] = { 5, 0, 0, 0, 2, 0, 0, 0, 0, 1, 0, 0, 0, 0 };

	make(2, 0, BASE_FEATURES);
	cr_assert_eq(ctrl(0, VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC, &on, 1),
		     VIRTIO_NET_OK);
	cr_assert_eq(n->rx_mode[VIRTIO_NET_CTRL_RX_PROMISC], 1);
	cr_assert_eq(ctrl(1, VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_ALLMULTI, &bad, 1),
		     VIRTIO_NET_ERR);
	cr_assert_eq(ctrl(2, VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_NOBCAST, &on, 1),
		     VIRTIO_NET_ERR, "needs CTRL_RX_EXTRA");
	cr_assert_eq(ctrl(3, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_TABLE_SET, macs, 14),
		     VIRTIO_NET_OK);
	cr_assert_eq(ctrl(4, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_TABLE_SET, lying, 14),
		     VIRTIO_NET_ERR, "entry count past the data");
	cr_assert_eq(ctrl(5, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_ADDR_SET, mac, 6),
		     VIRTIO_NET_ERR, "CTRL_MAC_ADDR not offered");
	pairs = htole16(2);
	cr_assert_eq(ctrl(6, VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, &pairs, 2),
		     VIRTIO_NET_OK);
	cr_assert_eq(n->curr_pairs, 2);
	cr_assert(fb.attached[1]);
	pairs = htole16(3);
	cr_assert_eq(ctrl(7, VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, &pairs, 2),
		     VIRTIO_NET_ERR);
	pairs = 0;
	cr_assert_eq(ctrl(8, VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, &pairs, 2),
		     VIRTIO_NET_ERR);
	pairs = htole16(1);
	cr_assert_eq(ctrl(9, VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, &pairs, 1),
		     VIRTIO_NET_ERR, "short data");
	cr_assert_eq(ctrl(10, VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, &pairs, 2),
		     VIRTIO_NET_OK);
	cr_assert_eq(n->curr_pairs, 1);
	cr_assert_not(fb.attached[1], "detached again");
	cr_assert_eq(ctrl(11, 42, 0, NULL, 0), VIRTIO_NET_ERR, "unknown class");
	cr_assert_eq(ctrl(12, VIRTIO_NET_CTRL_GUEST_OFFLOADS, 0, &pairs, 2), VIRTIO_NET_ERR);
}

Test(virtio_net, ctrl_announce, .init = setup, .fini = teardown)
{
	make(1, 0, BASE_FEATURES);
	virtio_net_announce(n);
	cr_assert(le16toh(n->cfg.status) & VIRTIO_NET_S_ANNOUNCE);
	cr_assert(le16toh(n->cfg.status) & VIRTIO_NET_S_LINK_UP);
	cr_assert_eq(ctrl(0, VIRTIO_NET_CTRL_ANNOUNCE, VIRTIO_NET_CTRL_ANNOUNCE_ACK, NULL, 0),
		     VIRTIO_NET_OK);
	cr_assert_not(le16toh(n->cfg.status) & VIRTIO_NET_S_ANNOUNCE);
	cr_assert(le16toh(n->cfg.status) & VIRTIO_NET_S_LINK_UP);
}

Test(virtio_net, ctrl_mq_refused_when_not_negotiated, .init = setup, .fini = teardown)
{
	uint16_t pairs = htole16(1);

	make(2, 0, BASE_FEATURES & ~F(VIRTIO_NET_F_MQ));
	cr_assert_eq(ctrl(0, VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, &pairs, 2),
		     VIRTIO_NET_ERR);
	cr_assert_eq(ctrl(1, VIRTIO_NET_CTRL_ANNOUNCE, VIRTIO_NET_CTRL_ANNOUNCE_ACK, NULL, 0),
		     VIRTIO_NET_OK);
}

Test(virtio_net, ctrl_malformed_chains, .init = setup, .fini = teardown)
{
	struct ring *r;
	uint8_t big[8];

	make(1, 0, BASE_FEATURES);
	r = &rings[2];
	ring_desc(r, 0, BUF, 2, 0, 0);			/* no ack byte */
	ring_publish(r, 0);
	ring_desc(r, 1, BUF, 1, VRING_DESC_F_NEXT, 2);	/* 1-byte header */
	ring_desc(r, 2, BUF + 0x100, 1, VRING_DESC_F_WRITE, 0);
	ring_publish(r, 1);
	ring_desc(r, 3, BIG, 0x10000, VRING_DESC_F_NEXT, 4);	/* far too long */
	ring_desc(r, 4, BUF + 0x200, 1, VRING_DESC_F_WRITE, 0);
	ring_publish(r, 3);
	memset(big, 0, sizeof(big));
	gm_write(&vm.mem, BIG, big, sizeof(big));
	*g(BUF + 0x100, 1) = 0xaa;
	*g(BUF + 0x200, 1) = 0xaa;
	cr_assert_eq(vnet_ctrl_process(n), VNET_IDLE);
	cr_assert_eq(ring_used_idx(r), 3);
	cr_assert_eq(ring_used(r, 0).len, 0);
	cr_assert_eq(*g(BUF + 0x100, 1), VIRTIO_NET_ERR);
	cr_assert_eq(*g(BUF + 0x200, 1), VIRTIO_NET_ERR);
	cr_assert_eq(n->ctrl_stats.drops, 3);
}

/*
 * rx said VNET_WAIT (too few buffers); the guest adds one before the I/O
 * thread arms the kick, and does not kick (its avail_event was stale):
 * arming must notice, or rx waits for a kick that never comes while the
 * guest waits for frames (seen as a stalled rx in bench/net).
 */
static void t_rx_arm(bool event_idx)
{
	uint16_t avail_event;

	make(1, 0, BASE_FEATURES | F(VIRTIO_NET_F_MRG_RXBUF));
	vqs[0].event_idx = event_idx;
	post_rx(&rings[0], 0, BUF, 1000);
	send_frame(0, 12 + 1500, 1);
	cr_assert_eq(vnet_rx_process(&n->pairs[0]), VNET_WAIT, "1000 bytes < 1518 + 12");
	post_rx(&rings[0], 1, BUF + 0x1000, 1000);	/* added, no kick */
	cr_assert(vnet_rx_arm(&n->pairs[0]), "a buffer came after rx looked: process again");
	if (event_idx) {
		gm_read(&vm.mem, RING(0) + 0x2000 + 4 + 8 * 64, &avail_event, 2);
		cr_assert_eq(le16toh(avail_event), 1, "kick for anything past what rx saw");
	}
	cr_assert_eq(vnet_rx_process(&n->pairs[0]), VNET_WAIT, "frame delivered, ring empty");
	cr_assert_eq(ring_used_idx(&rings[0]), 2);
	cr_assert_not(vnet_rx_arm(&n->pairs[0]), "nothing new: wait for the kick");
}

Test(virtio_net, rx_arm_sees_buffers_added_after_rx_looked, .init = setup, .fini = teardown)
{
	t_rx_arm(false);
}

Test(virtio_net, rx_arm_sees_buffers_added_after_rx_looked_event_idx, .init = setup,
     .fini = teardown)
{
	t_rx_arm(true);
}
