// SPDX-License-Identifier: MIT
/*
 * virtio-net receive path of one queue pair: frames go from the backend fd
 * straight into guest buffers with one readv per frame.
 *
 * With MRG_RXBUF the device does not know the frame size before reading,
 * so it gathers chains until they hold the largest frame the guest can be
 * sent (64 KiB + header with guest GSO, 1518 + header without), reads, and
 * gives the chains the frame did not need back to the ring with
 * virtq_unpop() (they are popped again for the next frame).  Without
 * MRG_RXBUF each frame gets one chain.  A frame larger than the buffers
 * (the tap reports its full length) is dropped and counted; so is a chain
 * without room for the header.
 */
#include <endian.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <linux/virtio_ring.h>

#include "log.h"
#include "virtio_net.h"

uint32_t vnet_rx_max_frame(uint64_t features)
{
	uint64_t gso = (1ULL << VIRTIO_NET_F_GUEST_TSO4) | (1ULL << VIRTIO_NET_F_GUEST_TSO6) |
		       (1ULL << VIRTIO_NET_F_GUEST_UFO);

	return (features & gso) ? NET_MAX_FRAME : VNET_RX_FRAME_NOGSO;
}

/* Writes num_buffers (offset 10 of the header) into the first chain's buffers. */
static void set_num_buffers(struct iovec *iov, unsigned int nr, uint16_t count)
{
	uint8_t v[2];
	size_t off = offsetof(struct virtio_net_hdr_v1, num_buffers);
	unsigned int i, k = 0;

	v[0] = (uint8_t)count;
	v[1] = (uint8_t)(count >> 8);
	for (i = 0; i < nr && k < 2; i++) {
		size_t len = iov[i].iov_len;

		while (off < len && k < 2)
			((uint8_t *)iov[i].iov_base)[off++] = v[k++];
		off = off >= len ? off - len : 0;
	}
}

/*
 * Pops chains until they can hold need bytes (or one chain without
 * MRG_RXBUF).  Returns the number of chains (0: none), -EIO if broken.
 */
static int gather(struct vnet_pair *p, uint64_t need, bool mrg, uint64_t *cap,
		  unsigned int *niov)
{
	struct virtq *vq = p->rx;
	struct virtq_elem e;
	unsigned int nch = 0;
	int r;

	*cap = 0;
	*niov = 0;
	while (*cap < need && (mrg || nch == 0) && *niov + VNET_CHAIN_IOV <= VNET_RX_IOV) {
		e.iov = p->rx_iov + *niov;
		e.max = VNET_CHAIN_IOV;
		r = virtq_pop(vq, &e);
		if (r < 0)
			return -EIO;
		if (!r)
			break;
		if (e.nr_out || e.in_len < NET_HDR_LEN || e.in_len > UINT32_MAX) {
			/* malformed: a readable buffer, or no room for the header */
			if (nch) {
				virtq_unpop(vq, e.head);	/* first in line next time */
				break;
			}
			virtq_push(vq, e.head, 0);
			vnet_stat_add(&p->rx_stats, 0, 0, 1);
			continue;
		}
		p->rx_chains[nch].head = e.head;
		p->rx_chains[nch].iov = *niov;
		p->rx_chains[nch].nr = e.nr_in;
		p->rx_chains[nch].cap = (uint32_t)e.in_len;
		*niov += e.nr_in;
		*cap += e.in_len;
		nch++;
	}
	return (int)nch;
}

/* Gives chains [from, nch) back to the ring, last popped first. */
static void give_back(struct vnet_pair *p, unsigned int from, unsigned int nch)
{
	while (nch > from)
		virtq_unpop(p->rx, p->rx_chains[--nch].head);
}

/* Puts the frame of n bytes into the gathered chains; returns how many were used. */
static unsigned int deliver(struct vnet_pair *p, unsigned int nch, uint64_t n, bool mrg)
{
	unsigned int i, used = 0;
	uint64_t rem = n;

	for (i = 0; i < nch && rem; i++) {
		uint32_t len = rem < p->rx_chains[i].cap ? (uint32_t)rem : p->rx_chains[i].cap;

		rem -= len;
		used++;
	}
	set_num_buffers(p->rx_iov, p->rx_chains[0].nr, (uint16_t)(mrg ? used : 1));
	rem = n;
	for (i = 0; i < used; i++) {
		uint32_t len = rem < p->rx_chains[i].cap ? (uint32_t)rem : p->rx_chains[i].cap;

		virtq_push(p->rx, p->rx_chains[i].head, len);
		rem -= len;
	}
	return used;
}

enum vnet_result vnet_rx_process(struct vnet_pair *p)
{
	struct virtio_net *n = p->n;
	struct virtq *vq = p->rx;
	bool mrg = vnet_has(n, VIRTIO_NET_F_MRG_RXBUF);
	uint64_t need = NET_HDR_LEN + vnet_rx_max_frame(n->acked);
	enum vnet_result res = VNET_MORE;
	uint16_t start = vq ? vq->used_idx : 0;
	unsigned int frames, used;
	uint64_t cap;
	unsigned int niov;
	ssize_t len;
	int nch;

	if (!vq || vq->broken)
		return VNET_IDLE;
	for (frames = 0; frames < VNET_BUDGET; frames++) {
		nch = gather(p, need, mrg, &cap, &niov);
		if (nch < 0) {
			vnet_ring_broken(n, vq);
			return VNET_BROKEN;
		}
		if (!nch) {
			p->rx_avail_seen = vq->last_avail_idx;
			res = VNET_WAIT;
			break;
		}
		/* MRG_RXBUF: wait for enough buffers unless the ring cannot hold more */
		if (mrg && cap < need && (unsigned int)nch < vq->size &&
		    niov + VNET_CHAIN_IOV <= VNET_RX_IOV) {
			/* gather() emptied the ring: this is all the guest had given */
			p->rx_avail_seen = vq->last_avail_idx;
			give_back(p, 0, (unsigned int)nch);
			res = VNET_WAIT;
			break;
		}
		len = readv(p->fd, p->rx_iov, (int)niov);
		if (len < 0) {
			int e = errno;

			give_back(p, 0, (unsigned int)nch);
			if (e == EAGAIN || e == EWOULDBLOCK || e == EINTR) {
				res = VNET_IDLE;
				break;
			}
			/* the frame is lost (EFAULT, EINVAL: buffers too small, EIO: link down) */
			vnet_stat_add(&p->rx_stats, 0, 0, 1);
			if (e == EBADFD || e == EIO || e == EBADF) {
				res = VNET_IDLE;
				break;
			}
			continue;
		}
		if (!len) {		/* EOF: the peer is gone */
			give_back(p, 0, (unsigned int)nch);
			res = VNET_IDLE;
			break;
		}
		if ((uint64_t)len > cap || (size_t)len < NET_HDR_LEN + VNET_MIN_FRAME) {
			/* truncated (the tap reports the full length) or a runt */
			give_back(p, 0, (unsigned int)nch);
			vnet_stat_add(&p->rx_stats, 0, 0, 1);
			continue;
		}
		used = deliver(p, (unsigned int)nch, (uint64_t)len, mrg);
		give_back(p, used, (unsigned int)nch);	/* what the frame did not need */
		vnet_stat_add(&p->rx_stats, 1, (uint64_t)len - NET_HDR_LEN, 0);
	}
	if (vq->used_idx != start)
		vnet_notify(n, vq, 2 * p->index);
	return res;
}

bool vnet_rx_arm(struct vnet_pair *p)
{
	struct virtq *vq = p->rx;
	uint16_t seen = p->rx_avail_seen;

	if (!vq || !vq->avail || vq->broken)
		return false;
	/*
	 * Buffers the guest adds after gather() looked are compared with what
	 * gather() saw, not with a fresh read: a guest that added some in
	 * between (and did not kick: its avail_event was stale) would
	 * otherwise never be asked again, and rx would wait for a kick that
	 * never comes while the guest waits for frames.
	 */
	if (vq->event_idx)
		__atomic_store_n((uint16_t *)&vq->used->ring[vq->size], htole16(seen),
				 __ATOMIC_RELAXED);	/* avail_event */
	else
		__atomic_store_n(&vq->used->flags, 0, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return le16toh(__atomic_load_n(&vq->avail->idx, __ATOMIC_ACQUIRE)) != seen;
}
