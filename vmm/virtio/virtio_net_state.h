/* SPDX-License-Identifier: MIT */
/*
 * virtio-net state (virtio_net_state.c, docs/devices.md "Device state"):
 * the transport with every queue's indices, then the card's own part.
 * Save needs the card paused (virtio_net_stop: I/O threads joined, vhost's
 * ring bases read back with VHOST_GET_VRING_BASE): -EBUSY otherwise.
 * Restore restarts what the driver had running (threads, vhost rings from
 * the saved bases) and the queue pairs it had switched on.  0 or -errno.
 */
#ifndef VMM_VIRTIO_NET_STATE_H
#define VMM_VIRTIO_NET_STATE_H

#define VIRTIO_NET_STATE_VERSION	1

struct virtio_pci_dev;
struct state_writer;
struct state_reader;

int virtio_net_save(struct virtio_pci_dev *d, struct state_writer *w);
int virtio_net_restore(struct virtio_pci_dev *d, struct state_reader *r);

#endif
