/* SPDX-License-Identifier: MIT */
/*
 * --net options and the host side of a virtio-net card (the backend).
 *
 * A backend is one fd per queue pair that carries whole frames, each
 * preceded by a 12-byte virtio_net_hdr_v1 (a tap opened with IFF_VNET_HDR
 * and TUNSETVNETHDRSZ 12; a socketpair in tests), plus a const ops table
 * for the few control operations (offloads, per-queue enable).
 */
#ifndef VMM_NET_H
#define VMM_NET_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NET_MAX_QUEUES		16	/* queue pairs per card */
#define NET_MAX_HOSTFWD		8
#define NET_IFNAME_MAX		(IFNAMSIZ - 1)	/* 15 characters */

enum net_kind {
	NET_TAP,	/* tap=IFNAME */
	NET_FD,		/* fd=N: a tap fd from a privileged parent */
	NET_USER,	/* user: libslirp */
};

enum net_vhost {
	NET_VHOST_AUTO,
	NET_VHOST_ON,
	NET_VHOST_OFF,
};

struct net_hostfwd {
	bool udp;
	uint32_t host_addr;		/* network order; 0 = any (default 127.0.0.1) */
	uint16_t host_port;
	uint16_t guest_port;
};

struct net_opts {
	enum net_kind kind;
	char ifname[IFNAMSIZ];		/* NET_TAP */
	int fd;				/* NET_FD */
	uint8_t mac[6];
	bool mac_set;			/* mac= given; else derived (net_default_mac) */
	enum net_vhost vhost;
	unsigned int queues;		/* queue pairs, 1..NET_MAX_QUEUES */
	struct net_hostfwd fwd[NET_MAX_HOSTFWD];
	unsigned int nr_fwd;
	bool restrict_net;		/* user: restrict=on */
};

/*
 * Parses "tap=IFNAME[,mac=MAC][,vhost=auto|on|off][,queues=N]",
 * "fd=N[,...]" or "user[,hostfwd=tcp:HOSTADDR:HOSTPORT-:GUESTPORT]...[,restrict=on]".
 * 0, or -EINVAL with one line in err naming the key and value.
 */
int net_opts_parse(const char *arg, struct net_opts *out, char *err, size_t errlen);

/* "52:54:00:12:34:56" -> mac.  0 or -EINVAL. */
int net_parse_mac(const char *s, uint8_t mac[6]);

/*
 * A stable, locally administered unicast MAC for card `index` of the VM
 * identified by `vm_id` (any string, e.g. the kernel path): 02:xx:xx:xx:xx:xx.
 */
void net_default_mac(uint8_t mac[6], const char *vm_id, unsigned int index);

/* ---- backends ---- */

#define NET_HDR_LEN		12	/* struct virtio_net_hdr_v1 (VERSION_1 always) */
#define NET_MAX_FRAME		(65535 + 14 + 4)	/* a 64 KiB GSO frame, Ethernet + VLAN */

struct net_backend;

struct net_backend_ops {
	const char *name;
	/* TUN_F_* the host can take (probed once). */
	unsigned int (*offloads)(struct net_backend *be);
	/* Sets exactly these TUN_F_* (what the guest accepted).  0 or -errno. */
	int (*set_offload)(struct net_backend *be, unsigned int tun_flags);
	/* Attaches (on) or detaches queue pair q.  0 or -errno. */
	int (*queue_enable)(struct net_backend *be, unsigned int q, bool on);
	void (*close)(struct net_backend *be);
};

struct net_backend {
	const struct net_backend_ops *ops;
	unsigned int nr_queues;
	int fd[NET_MAX_QUEUES];		/* nonblocking, one per queue pair */
	unsigned int offload_mask;	/* probed TUN_F_* */
	char ifname[IFNAMSIZ];
	void *priv;
};

/*
 * tap.c: opens (or creates) the tap of o (NET_TAP or NET_FD) with o->queues
 * queues, IFF_VNET_HDR, header size 12, nonblocking.  0 or -errno with one
 * line in err (name too long, no /dev/net/tun, EPERM: how to pre-create it).
 */
int tap_backend_open(const struct net_opts *o, struct net_backend **out, char *err,
		     size_t errlen);
/*
 * slirp.c: user-mode networking (libslirp, 10.0.2.0/24 as in QEMU) on its
 * own thread, with o->fwd as host forwards.  0 or -errno with one line in err.
 */
int slirp_backend_open(const struct net_opts *o, struct net_backend **out, char *err,
		       size_t errlen);
void net_backend_close(struct net_backend *be);

#endif
