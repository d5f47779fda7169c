// SPDX-License-Identifier: MIT
/* vhost-net backend: see vhost.h. */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/vhost.h>
#include <linux/virtio_ring.h>

#include "log.h"
#include "net/vhost.h"
#include "virtio/virtqueue.h"

#define VHOST_NET_PATH	"/dev/vhost-net"

int vhost_net_open(unsigned int pairs, struct vhost_net **out, char *err, size_t errlen)
{
	struct vhost_net *v;
	unsigned int i, k;
	int ret;

	v = calloc(1, sizeof(*v));
	if (!v) {
		snprintf(err, errlen, "vhost-net: out of memory");
		return -ENOMEM;
	}
	for (i = 0; i < NET_MAX_QUEUES; i++) {
		v->fd[i] = -1;
		v->call[i][0] = v->call[i][1] = -1;
	}
	for (i = 0; i < pairs; i++) {
		v->fd[i] = open(VHOST_NET_PATH, O_RDWR | O_CLOEXEC);
		if (v->fd[i] < 0) {
			ret = -errno;
			snprintf(err, errlen, "cannot open %s: %s%s", VHOST_NET_PATH,
				 strerror(-ret), ret == -ENOENT ? " (modprobe vhost_net)" : "");
			goto err;
		}
		v->nr_pairs++;
		if (ioctl(v->fd[i], VHOST_SET_OWNER, NULL)) {
			ret = -errno;
			snprintf(err, errlen, "%s: VHOST_SET_OWNER: %s", VHOST_NET_PATH,
				 strerror(-ret));
			goto err;
		}
		if (ioctl(v->fd[i], VHOST_GET_FEATURES, &v->features)) {
			ret = -errno;
			snprintf(err, errlen, "%s: VHOST_GET_FEATURES: %s", VHOST_NET_PATH,
				 strerror(-ret));
			goto err;
		}
		for (k = 0; k < 2; k++) {
			v->call[i][k] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
			if (v->call[i][k] < 0) {
				ret = -errno;
				snprintf(err, errlen, "vhost-net: eventfd: %s", strerror(-ret));
				goto err;
			}
		}
	}
	if (!(v->features & (1ULL << VIRTIO_F_VERSION_1))) {
		snprintf(err, errlen, "%s: the kernel's vhost-net lacks VIRTIO_F_VERSION_1",
			 VHOST_NET_PATH);
		ret = -ENOTSUP;
		goto err;
	}
	*out = v;
	return 0;
err:
	vhost_net_close(v);
	return ret;
}

void vhost_net_close(struct vhost_net *v)
{
	unsigned int i;

	if (!v)
		return;
	for (i = 0; i < NET_MAX_QUEUES; i++) {
		if (v->fd[i] >= 0)
			close(v->fd[i]);
		if (v->call[i][0] >= 0)
			close(v->call[i][0]);
		if (v->call[i][1] >= 0)
			close(v->call[i][1]);
	}
	free(v);
}

static int set_mem_table(int fd, const struct guest_mem *mem)
{
	struct vhost_memory *m;
	unsigned int i;
	int ret = 0;

	m = calloc(1, sizeof(*m) + mem->nr_regions * sizeof(m->regions[0]));
	if (!m)
		return -ENOMEM;
	m->nregions = mem->nr_regions;
	for (i = 0; i < mem->nr_regions; i++) {
		m->regions[i].guest_phys_addr = mem->regions[i].gpa;
		m->regions[i].memory_size = mem->regions[i].size;
		m->regions[i].userspace_addr = (uint64_t)(uintptr_t)mem->regions[i].hva;
	}
	if (ioctl(fd, VHOST_SET_MEM_TABLE, m))
		ret = -errno;
	free(m);
	return ret;
}

static int setup_ring(int fd, unsigned int idx, struct virtq *vq, int kick, int call)
{
	struct vhost_vring_state num = { .index = idx, .num = vq->size };
	struct vhost_vring_state base = { .index = idx, .num = vq->last_avail_idx };
	struct vhost_vring_addr addr = {
		.index = idx,
		.desc_user_addr = (uint64_t)(uintptr_t)vq->desc,
		.avail_user_addr = (uint64_t)(uintptr_t)vq->avail,
		.used_user_addr = (uint64_t)(uintptr_t)vq->used,
	};
	struct vhost_vring_file k = { .index = idx, .fd = kick };
	struct vhost_vring_file c = { .index = idx, .fd = call };

	if (ioctl(fd, VHOST_SET_VRING_NUM, &num) || ioctl(fd, VHOST_SET_VRING_BASE, &base) ||
	    ioctl(fd, VHOST_SET_VRING_ADDR, &addr) || ioctl(fd, VHOST_SET_VRING_KICK, &k) ||
	    ioctl(fd, VHOST_SET_VRING_CALL, &c))
		return -errno;
	return 0;
}

int vhost_net_start(struct vhost_net *v, unsigned int p, const struct guest_mem *mem,
		    uint64_t features, struct virtq *rx, struct virtq *tx, int kick_rx,
		    int kick_tx, int tap_fd)
{
	/* vhost knows the ring features and MRG_RXBUF; the rest is the tap's business */
	uint64_t f = features & v->features;
	struct vhost_vring_file be = { .fd = tap_fd };
	int fd = v->fd[p];
	int ret;

	if (p >= v->nr_pairs || !rx || !tx)
		return -EINVAL;
	ret = set_mem_table(fd, mem);
	if (!ret && ioctl(fd, VHOST_SET_FEATURES, &f))
		ret = -errno;
	if (!ret)
		ret = setup_ring(fd, 0, rx, kick_rx, v->call[p][0]);
	if (!ret)
		ret = setup_ring(fd, 1, tx, kick_tx, v->call[p][1]);
	for (be.index = 0; !ret && be.index < 2; be.index++)
		if (ioctl(fd, VHOST_NET_SET_BACKEND, &be))
			ret = -errno;
	if (ret) {
		log_err("vhost-net: pair %u: cannot start: %s", p, strerror(-ret));
		v->started[p] = true;
		vhost_net_stop(v, p, rx, tx);
		return ret;
	}
	v->started[p] = true;
	return 0;
}

static void take_back(int fd, unsigned int idx, struct virtq *vq)
{
	struct vhost_vring_state st = { .index = idx };

	if (ioctl(fd, VHOST_GET_VRING_BASE, &st)) {
		log_err("vhost-net: VHOST_GET_VRING_BASE %u: %s", idx, strerror(errno));
		return;
	}
	vq->last_avail_idx = (uint16_t)st.num;
	if (vq->used)
		vq->used_idx = le16toh(__atomic_load_n(&vq->used->idx, __ATOMIC_ACQUIRE));
	vq->signalled_valid = false;
}

void vhost_net_stop(struct vhost_net *v, unsigned int p, struct virtq *rx, struct virtq *tx)
{
	struct vhost_vring_file be = { .fd = -1 };
	int fd;

	if (p >= v->nr_pairs || !v->started[p])
		return;
	fd = v->fd[p];
	for (be.index = 0; be.index < 2; be.index++)
		if (ioctl(fd, VHOST_NET_SET_BACKEND, &be))
			log_debug("vhost-net: pair %u: detach ring %u: %s", p, be.index,
				  strerror(errno));
	if (rx)
		take_back(fd, 0, rx);
	if (tx)
		take_back(fd, 1, tx);
	v->started[p] = false;
}
