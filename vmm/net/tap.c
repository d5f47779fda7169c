// SPDX-License-Identifier: MIT
/*
 * The tap backend: one /dev/net/tun fd per queue pair (IFF_MULTI_QUEUE when
 * more than one), IFF_VNET_HDR with a 12-byte header, nonblocking.  Offloads
 * are probed once and then set to exactly what the guest accepted.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/if_tun.h>

#include "log.h"
#include "net/net.h"

#define TUN_PATH	"/dev/net/tun"
#define TUN_ALL_OFFLOADS (TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN | TUN_F_UFO)

static unsigned int tap_offloads(struct net_backend *be)
{
	return be->offload_mask;
}

static int tap_set_offload(struct net_backend *be, unsigned int flags)
{
	unsigned int i;

	for (i = 0; i < be->nr_queues; i++)
		if (ioctl(be->fd[i], TUNSETOFFLOAD, (unsigned long)(flags & be->offload_mask)))
			return -errno;
	return 0;
}

static int tap_queue_enable(struct net_backend *be, unsigned int q, bool on)
{
	struct ifreq ifr;

	if (be->nr_queues < 2 || q >= be->nr_queues)
		return 0;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = on ? IFF_ATTACH_QUEUE : IFF_DETACH_QUEUE;
	if (ioctl(be->fd[q], TUNSETQUEUE, &ifr) && errno != EINVAL)
		return -errno;	/* EINVAL: already in that state */
	return 0;
}

static void tap_close(struct net_backend *be)
{
	unsigned int i;

	for (i = 0; i < be->nr_queues; i++)
		if (be->fd[i] >= 0)
			close(be->fd[i]);
}

static const struct net_backend_ops tap_ops = {
	.name = "tap",
	.offloads = tap_offloads,
	.set_offload = tap_set_offload,
	.queue_enable = tap_queue_enable,
	.close = tap_close,
};

/* Header size, nonblocking, offload probe. */
static int tap_prepare(int fd, unsigned int *mask)
{
	int hdr = NET_HDR_LEN;
	int fl;

	if (ioctl(fd, TUNSETVNETHDRSZ, &hdr))
		return -errno;
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK))
		return -errno;
	*mask = TUN_ALL_OFFLOADS;
	if (ioctl(fd, TUNSETOFFLOAD, (unsigned long)*mask)) {
		*mask &= ~TUN_F_UFO;	/* kernels without UFO on tap */
		if (ioctl(fd, TUNSETOFFLOAD, (unsigned long)*mask))
			*mask = 0;
	}
	/* nothing is on until the guest accepts it */
	if (ioctl(fd, TUNSETOFFLOAD, 0UL) && *mask)
		return -errno;
	return 0;
}

static int open_one(const struct net_opts *o, int *fd, char *err, size_t errlen)
{
	struct ifreq ifr;
	int f, e;

	f = open(TUN_PATH, O_RDWR | O_CLOEXEC);
	if (f < 0) {
		e = errno;
		if (e == ENOENT || e == ENODEV || e == ENXIO)
			snprintf(err, errlen, "--net tap=%s: no %s (load the tun module: "
				 "modprobe tun)", o->ifname, TUN_PATH);
		else
			snprintf(err, errlen, "--net tap=%s: cannot open %s: %s", o->ifname,
				 TUN_PATH, strerror(e));
		return -e;
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	if (o->queues > 1)
		ifr.ifr_flags |= IFF_MULTI_QUEUE;
	memcpy(ifr.ifr_name, o->ifname, strnlen(o->ifname, IFNAMSIZ - 1));
	if (ioctl(f, TUNSETIFF, &ifr)) {
		e = errno;
		if (e == EPERM || e == EACCES)
			snprintf(err, errlen, "--net tap=%s: not allowed to create or open the tap; "
				 "pre-create it with `ip tuntap add %s mode tap%s user $USER`",
				 o->ifname, o->ifname, o->queues > 1 ? " multi_queue" : "");
		else if (e == EINVAL || e == EBUSY)
			snprintf(err, errlen, "--net tap=%s: the interface exists but is not a free "
				 "%s tap (%s)", o->ifname,
				 o->queues > 1 ? "multi_queue" : "single-queue", strerror(e));
		else
			snprintf(err, errlen, "--net tap=%s: TUNSETIFF: %s", o->ifname, strerror(e));
		close(f);
		return -e;
	}
	*fd = f;
	return 0;
}

int tap_backend_open(const struct net_opts *o, struct net_backend **out, char *err,
		     size_t errlen)
{
	struct net_backend *be;
	struct ifreq ifr;
	unsigned int i, mask = 0;
	int ret;

	be = calloc(1, sizeof(*be));
	if (!be) {
		snprintf(err, errlen, "--net: out of memory");
		return -ENOMEM;
	}
	be->ops = &tap_ops;
	for (i = 0; i < NET_MAX_QUEUES; i++)
		be->fd[i] = -1;
	if (o->kind == NET_FD) {
		if (o->queues != 1) {
			snprintf(err, errlen, "--net fd=%d: one fd carries one queue pair "
				 "(queues=1)", o->fd);
			ret = -EINVAL;
			goto err;
		}
		memset(&ifr, 0, sizeof(ifr));
		if (ioctl(o->fd, TUNGETIFF, &ifr)) {
			ret = -errno;
			snprintf(err, errlen, "--net fd=%d: not a tap fd: %s", o->fd, strerror(-ret));
			goto err;
		}
		if (!(ifr.ifr_flags & IFF_TAP) || !(ifr.ifr_flags & IFF_VNET_HDR) ||
		    !(ifr.ifr_flags & IFF_NO_PI)) {
			snprintf(err, errlen, "--net fd=%d: the tap must be opened with "
				 "IFF_TAP | IFF_NO_PI | IFF_VNET_HDR", o->fd);
			ret = -EINVAL;
			goto err;
		}
		be->fd[0] = o->fd;
		be->nr_queues = 1;
		memcpy(be->ifname, ifr.ifr_name, IFNAMSIZ - 1);
	} else {
		for (i = 0; i < o->queues; i++) {
			ret = open_one(o, &be->fd[i], err, errlen);
			if (ret)
				goto err;
			be->nr_queues++;
		}
		memcpy(be->ifname, o->ifname, IFNAMSIZ - 1);
	}
	for (i = 0; i < be->nr_queues; i++) {
		ret = tap_prepare(be->fd[i], &mask);
		if (ret) {
			snprintf(err, errlen, "--net %s: cannot set up the tap (vnet header, "
				 "nonblocking): %s", be->ifname, strerror(-ret));
			goto err;
		}
		be->offload_mask = i ? (be->offload_mask & mask) : mask;
	}
	*out = be;
	return 0;
err:
	tap_close(be);
	free(be);
	return ret;
}

void net_backend_close(struct net_backend *be)
{
	if (!be)
		return;
	if (be->ops->close)
		be->ops->close(be);
	free(be);
}
