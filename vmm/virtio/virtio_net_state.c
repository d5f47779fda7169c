// SPDX-License-Identifier: MIT
/*
 * virtio-net state (virtio_net_state.h).  Device part, version 1:
 *   u8 mac[6], u16 config status, u16 max_virtqueue_pairs,
 *   u32 pairs in use (VIRTIO_NET_CTRL_MQ), u8 rx_mode[6], u8 vhost
 * (whether vhost-net moved the frames: informational, the rings are the
 * same either way).  The negotiated features are the transport's.
 */
#include <endian.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "state/stream.h"
#include "virtio_net.h"
#include "virtio_net_state.h"
#include "virtio_pci.h"

#define STATUS_KNOWN	(VIRTIO_NET_S_LINK_UP | VIRTIO_NET_S_ANNOUNCE)

static int net_save(void *dev, struct state_writer *w)
{
	struct virtio_net *n = dev;

	pthread_mutex_lock(&n->cfg_lock);
	state_put_bytes(w, n->cfg.mac, 6);
	state_put_u16(w, le16toh(n->cfg.status));
	pthread_mutex_unlock(&n->cfg_lock);
	state_put_u16(w, (uint16_t)n->nr_pairs);
	state_put_u32(w, __atomic_load_n(&n->curr_pairs, __ATOMIC_RELAXED));
	state_put_bytes(w, n->rx_mode, sizeof(n->rx_mode));
	state_put_u8(w, n->vhost != NULL);
	return w->error;
}

static int net_restore(void *dev, struct state_reader *r, void *ctx)
{
	struct virtio_net *n = dev;
	unsigned int *want = ctx;
	uint8_t mac[6], rx_mode[6], vhost;
	uint16_t status, max_pairs;
	uint32_t pairs;
	unsigned int i;
	int ret;

	ret = state_get_bytes(r, mac, sizeof(mac));
	if (!ret)
		ret = state_get_u16(r, &status);
	if (!ret)
		ret = state_get_u16(r, &max_pairs);
	if (!ret)
		ret = state_get_u32(r, &pairs);
	if (!ret)
		ret = state_get_bytes(r, rx_mode, sizeof(rx_mode));
	if (!ret)
		ret = state_get_u8(r, &vhost);
	if (ret)
		return ret;
	if (status & ~STATUS_KNOWN)
		return state_reader_fail(r, "virtio-net %s: config status 0x%04x has unknown bits",
					 n->name, status);
	if (max_pairs != n->nr_pairs)
		return state_reader_fail(r, "virtio-net %s: %u queue pair(s) saved, this card has %u",
					 n->name, max_pairs, n->nr_pairs);
	if (!pairs || pairs > n->nr_pairs)
		return state_reader_fail(r, "virtio-net %s: %u pair(s) in use (1 to %u)", n->name,
					 pairs, n->nr_pairs);
	for (i = 0; i < sizeof(rx_mode); i++)
		if (rx_mode[i] > 1)
			return state_reader_fail(r, "virtio-net %s: rx mode %u is %u (0 or 1)", n->name,
						 i, rx_mode[i]);
	if (vhost > 1)
		return state_reader_fail(r, "virtio-net %s: vhost flag %u (0 or 1)", n->name, vhost);
	/* the guest knows its MAC: it stays, whatever this card was given */
	pthread_mutex_lock(&n->cfg_lock);
	memcpy(n->cfg.mac, mac, sizeof(mac));
	n->cfg.status = htole16(status);
	pthread_mutex_unlock(&n->cfg_lock);
	memcpy(n->rx_mode, rx_mode, sizeof(rx_mode));
	*want = pairs;
	return 0;
}

/* After activation (which uses pair 0 only): the pairs the driver had switched on. */
static int net_restored(void *dev, void *ctx)
{
	struct virtio_net *n = dev;
	unsigned int want = *(unsigned int *)ctx, i;
	uint64_t one = 1;
	int ret;

	if (want <= 1)
		return 0;
	for (i = 0; i < n->nr_pairs; i++) {
		ret = n->be->ops->queue_enable ? n->be->ops->queue_enable(n->be, i, i < want) : 0;
		if (ret)
			return ret;
	}
	__atomic_store_n(&n->curr_pairs, want, __ATOMIC_RELAXED);
	/* wake the other pairs' threads: they register their backend fd */
	for (i = 1; i < n->nr_pairs && n->t; i++)
		if (write(virtio_pci_kick_fd(n->t, 2 * i), &one, sizeof(one)) < 0)
			log_debug("virtio-net %s: cannot wake pair %u", n->name, i);
	return 0;
}

static const struct virtio_dev_state net_state = {
	.save = net_save,
	.restore = net_restore,
	.restored = net_restored,
};

int virtio_net_save(struct virtio_pci_dev *d, struct state_writer *w)
{
	struct virtio_net *n = d->dev;
	unsigned int i;

	for (i = 0; i < n->nr_pairs; i++) {
		if (n->pairs[i].running) {
			log_err("virtio-net %s: pair %u is running: pause the VM before saving it",
				n->name, i);
			return -EBUSY;
		}
	}
	return virtio_pci_save(d, &net_state, w);
}

int virtio_net_restore(struct virtio_pci_dev *d, struct state_reader *r)
{
	unsigned int want = 1;

	return virtio_pci_restore(d, &net_state, &want, r);
}
