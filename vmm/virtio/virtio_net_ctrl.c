// SPDX-License-Identifier: MIT
/*
 * virtio-net control queue (5.1.6.5): RX mode and MAC filters (accepted:
 * the backend sees every frame anyway), ANNOUNCE_ACK, MQ_VQ_PAIRS_SET.
 * Each command is one chain: the class/command header and its data
 * (readable), then the one-byte ack (the last writable byte).
 */
#include <endian.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "virtio_net.h"
#include "virtio_pci.h"

#define CTRL_MAX_IOV	64
#define CTRL_MAX_DATA	(8 + 2 * 6 * 256)	/* two MAC tables of 256 entries */

/* Copies up to len readable bytes; returns how many. */
static size_t copy_out(const struct virtq_elem *e, uint8_t *dst, size_t len)
{
	size_t done = 0;
	unsigned int i;

	for (i = 0; i < e->nr_out && done < len; i++) {
		size_t k = e->iov[i].iov_len < len - done ? e->iov[i].iov_len : len - done;

		memcpy(dst + done, e->iov[i].iov_base, k);
		done += k;
	}
	return done;
}

/* MAC_TABLE_SET: two tables, each le32 entries then entries * 6 bytes. */
static bool mac_tables_ok(const uint8_t *d, size_t len)
{
	size_t off = 0;
	int t;

	for (t = 0; t < 2; t++) {
		uint32_t ent;

		if (len - off < 4)
			return false;
		memcpy(&ent, d + off, 4);
		ent = le32toh(ent);
		off += 4;
		if (ent > (len - off) / 6)
			return false;
		off += (size_t)ent * 6;
	}
	return off == len;
}

static uint8_t set_pairs(struct virtio_net *n, const uint8_t *d, size_t len)
{
	unsigned int i, want;
	uint16_t v;
	int ret;

	if (!vnet_has(n, VIRTIO_NET_F_MQ) || len != 2)
		return VIRTIO_NET_ERR;
	memcpy(&v, d, 2);
	want = le16toh(v);
	if (want < VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MIN || want > n->nr_pairs)
		return VIRTIO_NET_ERR;
	for (i = 0; i < n->nr_pairs; i++) {
		ret = n->be->ops->queue_enable ? n->be->ops->queue_enable(n->be, i, i < want) : 0;
		if (ret) {
			log_warn("virtio-net %s: cannot %s queue pair %u: %s", n->name,
				 i < want ? "attach" : "detach", i, strerror(-ret));
			return VIRTIO_NET_ERR;
		}
	}
	__atomic_store_n(&n->curr_pairs, want, __ATOMIC_RELAXED);
	/* wake the other pairs' threads: they (un)register their backend fd */
	for (i = 1; i < n->nr_pairs && n->t; i++) {
		uint64_t one = 1;

		if (write(virtio_pci_kick_fd(n->t, 2 * i), &one, sizeof(one)) < 0)
			log_debug("virtio-net %s: cannot wake pair %u", n->name, i);
	}
	log_debug("virtio-net %s: %u queue pair(s) in use", n->name, want);
	return VIRTIO_NET_OK;
}

static uint8_t run_command(struct virtio_net *n, uint8_t cls, uint8_t cmd,
			   const uint8_t *d, size_t len)
{
	switch (cls) {
	case VIRTIO_NET_CTRL_RX:
		if (!vnet_has(n, VIRTIO_NET_F_CTRL_RX) || len != 1 ||
		    cmd > VIRTIO_NET_CTRL_RX_ALLMULTI || d[0] > 1)
			return VIRTIO_NET_ERR;
		n->rx_mode[cmd] = d[0];
		return VIRTIO_NET_OK;
	case VIRTIO_NET_CTRL_MAC:
		if (cmd == VIRTIO_NET_CTRL_MAC_TABLE_SET && vnet_has(n, VIRTIO_NET_F_CTRL_RX) &&
		    mac_tables_ok(d, len))
			return VIRTIO_NET_OK;
		return VIRTIO_NET_ERR;
	case VIRTIO_NET_CTRL_ANNOUNCE:
		if (cmd != VIRTIO_NET_CTRL_ANNOUNCE_ACK || len ||
		    !vnet_has(n, VIRTIO_NET_F_GUEST_ANNOUNCE))
			return VIRTIO_NET_ERR;
		pthread_mutex_lock(&n->cfg_lock);
		n->cfg.status &= htole16(~VIRTIO_NET_S_ANNOUNCE);
		pthread_mutex_unlock(&n->cfg_lock);
		return VIRTIO_NET_OK;
	case VIRTIO_NET_CTRL_MQ:
		if (cmd != VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET)
			return VIRTIO_NET_ERR;
		return set_pairs(n, d, len);
	default:
		return VIRTIO_NET_ERR;
	}
}

/* The last writable byte of the chain, or NULL. */
static uint8_t *ack_byte(const struct virtq_elem *e)
{
	unsigned int i;

	for (i = e->nr_out + e->nr_in; i > e->nr_out; i--)
		if (e->iov[i - 1].iov_len)
			return (uint8_t *)e->iov[i - 1].iov_base + e->iov[i - 1].iov_len - 1;
	return NULL;
}

enum vnet_result vnet_ctrl_process(struct virtio_net *n)
{
	struct virtq *vq = n->ctrl;
	struct iovec iov[CTRL_MAX_IOV];
	uint8_t buf[2 + CTRL_MAX_DATA];
	struct virtq_elem e = { .iov = iov, .max = CTRL_MAX_IOV };
	uint16_t start;
	unsigned int k;
	int r;

	if (!vq || vq->broken)
		return VNET_IDLE;
	start = vq->used_idx;
	for (k = 0; k < VNET_BUDGET; k++) {
		uint8_t st = VIRTIO_NET_ERR, *ack;
		size_t len;

		r = virtq_pop(vq, &e);
		if (r < 0) {
			vnet_ring_broken(n, vq);
			return VNET_BROKEN;
		}
		if (!r)
			break;
		ack = ack_byte(&e);
		len = copy_out(&e, buf, sizeof(buf));
		if (len >= 2 && e.out_len <= sizeof(buf) && ack)
			st = run_command(n, buf[0], buf[1], buf + 2, len - 2);
		if (st != VIRTIO_NET_OK)
			vnet_stat_add(&n->ctrl_stats, 0, 0, 1);
		else
			vnet_stat_add(&n->ctrl_stats, 1, len, 0);
		if (ack)
			*ack = st;
		virtq_push(vq, e.head, ack ? 1 : 0);
	}
	if (vq->used_idx != start)
		vnet_notify(n, vq, 2 * n->nr_pairs);
	return k == VNET_BUDGET ? VNET_MORE : VNET_IDLE;
}
