// SPDX-License-Identifier: MIT
/*
 * virtio-net transmit path of one queue pair: each chain is written to the
 * backend fd with one writev over the guest's buffers.  The 12-byte header
 * is copied once and checked (the guest may rewrite its copy while the
 * kernel reads the frame), the frame itself is never copied.
 */
#include <endian.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "virtio_net.h"

/* Copies the header out of iov and advances past it; false if too short. */
static bool take_header(struct iovec *iov, unsigned int *cnt, unsigned int *first,
			struct virtio_net_hdr_v1 *h)
{
	uint8_t *d = (uint8_t *)h;
	size_t left = NET_HDR_LEN;
	unsigned int i = *first;

	while (left && i < *cnt) {
		size_t n = iov[i].iov_len < left ? iov[i].iov_len : left;

		memcpy(d, iov[i].iov_base, n);
		d += n;
		left -= n;
		iov[i].iov_base = (uint8_t *)iov[i].iov_base + n;
		iov[i].iov_len -= n;
		if (!iov[i].iov_len)
			i++;
	}
	*first = i;
	return !left;
}

/* Is this header something the guest was allowed to send? */
static bool header_ok(const struct virtio_net *n, const struct virtio_net_hdr_v1 *h,
		      uint64_t frame)
{
	uint8_t gso = h->gso_type & ~VIRTIO_NET_HDR_GSO_ECN;

	if (h->flags & ~(VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID))
		return false;
	if ((h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) && !vnet_has(n, VIRTIO_NET_F_CSUM))
		return false;
	if ((h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) &&
	    (uint64_t)le16toh(h->csum_start) + le16toh(h->csum_offset) + 2 > frame)
		return false;
	switch (gso) {
	case VIRTIO_NET_HDR_GSO_NONE:
		return !(h->gso_type & VIRTIO_NET_HDR_GSO_ECN);
	case VIRTIO_NET_HDR_GSO_TCPV4:
		if (!vnet_has(n, VIRTIO_NET_F_HOST_TSO4))
			return false;
		break;
	case VIRTIO_NET_HDR_GSO_TCPV6:
		if (!vnet_has(n, VIRTIO_NET_F_HOST_TSO6))
			return false;
		break;
	case VIRTIO_NET_HDR_GSO_UDP:
		if (!vnet_has(n, VIRTIO_NET_F_HOST_UFO))
			return false;
		break;
	default:
		return false;
	}
	if ((h->gso_type & VIRTIO_NET_HDR_GSO_ECN) && !vnet_has(n, VIRTIO_NET_F_HOST_ECN))
		return false;
	/* GSO needs a checksum offset and a segment size */
	return (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) && h->gso_size;
}

enum vnet_result vnet_tx_process(struct vnet_pair *p)
{
	struct virtio_net *n = p->n;
	struct virtq *vq = p->tx;
	struct virtio_net_hdr_v1 h;
	enum vnet_result res = VNET_MORE;
	uint16_t start;
	unsigned int frames;
	struct virtq_elem e;
	ssize_t w;
	int r;

	if (!vq || vq->broken)
		return VNET_IDLE;
	start = vq->used_idx;
	for (frames = 0; frames < VNET_BUDGET; frames++) {
		unsigned int first = 1, cnt;
		uint64_t frame;

		e.iov = p->tx_iov + 1;	/* tx_iov[0] is our header copy */
		e.max = VNET_TX_IOV - 1;
		r = virtq_pop(vq, &e);
		if (r < 0) {
			vnet_ring_broken(n, vq);
			return VNET_BROKEN;
		}
		if (!r) {
			res = VNET_IDLE;
			break;
		}
		/* writable buffers in a tx chain are ignored (used length 0) */
		cnt = 1 + e.nr_out;
		frame = e.out_len >= NET_HDR_LEN ? e.out_len - NET_HDR_LEN : 0;
		if (e.out_len < NET_HDR_LEN + VNET_MIN_FRAME || frame > NET_MAX_FRAME ||
		    !take_header(p->tx_iov, &cnt, &first, &h) || !header_ok(n, &h, frame)) {
			virtq_push(vq, e.head, 0);
			vnet_stat_add(&p->tx_stats, 0, 0, 1);
			continue;
		}
		p->tx_iov[first - 1].iov_base = &h;
		p->tx_iov[first - 1].iov_len = NET_HDR_LEN;
		/*
		 * take_header() may have stepped over several tiny buffers; the
		 * header copy goes right before the first byte of frame.
		 */
		w = writev(p->fd, p->tx_iov + first - 1, (int)(cnt - first + 1));
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)) {
			virtq_unpop(vq, e.head);	/* retried when the backend takes more */
			res = VNET_WAIT;
			break;
		}
		virtq_push(vq, e.head, 0);
		if (w < 0)
			vnet_stat_add(&p->tx_stats, 0, 0, 1);
		else
			vnet_stat_add(&p->tx_stats, 1, frame, 0);
	}
	if (vq->used_idx != start)
		vnet_notify(n, vq, 2 * p->index + 1);
	return res;
}
