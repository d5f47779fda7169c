/* SPDX-License-Identifier: MIT */
/*
 * vhost-net: the kernel moves frames between a tap and the guest's rings.
 * One /dev/vhost-net fd per queue pair (its vq 0 = rx, 1 = tx).  Kicks go
 * straight from KVM's ioeventfd to vhost; vhost's "call" eventfds are
 * relayed to the transport by the device's pair thread (so MSI-X masking
 * and INTx keep working without anything new in the transport).
 */
#ifndef VMM_NET_VHOST_H
#define VMM_NET_VHOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mem/guest_mem.h"
#include "net/net.h"

struct virtq;

struct vhost_net {
	unsigned int nr_pairs;
	int fd[NET_MAX_QUEUES];
	int call[NET_MAX_QUEUES][2];	/* eventfds vhost signals: [pair][0 rx, 1 tx] */
	bool started[NET_MAX_QUEUES];
	uint64_t features;		/* VHOST_GET_FEATURES */
};

/* Opens pairs vhost-net instances (SET_OWNER, GET_FEATURES).  0 or -errno + err. */
int vhost_net_open(unsigned int pairs, struct vhost_net **out, char *err, size_t errlen);
void vhost_net_close(struct vhost_net *v);

/*
 * Hands pair p's rings to vhost: SET_MEM_TABLE (every region), SET_FEATURES,
 * per ring NUM/BASE/ADDR/KICK/CALL, then NET_SET_BACKEND(tap_fd).  0 or -errno.
 */
int vhost_net_start(struct vhost_net *v, unsigned int p, const struct guest_mem *mem,
		    uint64_t features, struct virtq *rx, struct virtq *tx, int kick_rx,
		    int kick_tx, int tap_fd);
/*
 * Takes the rings back: NET_SET_BACKEND(-1), then VHOST_GET_VRING_BASE into
 * last_avail_idx and the used index from the ring, so the userspace backend
 * (or a state save) can go on from there.
 */
void vhost_net_stop(struct vhost_net *v, unsigned int p, struct virtq *rx, struct virtq *tx);

#endif
