// SPDX-License-Identifier: MIT
/*
 * What the network keeps across a VM reset, and its counters with vhost:
 * - a card's backend taken out before the rebuild and handed to the new
 *   card (a `--net fd=N` tap cannot be opened twice; a created tap would
 *   vanish with its address), shown with user networking (slirp's own
 *   network only): the new card talks through the same backend;
 * - the tap's interface counters (sysfs), read on a directory of files
 *   standing in for /sys/class/net.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "devices/pci.h"
#include "fake_vm.h"
#include "net/tap_stats.h"
#include "virtio/virtio_net.h"
#include "virtio/virtio_pci.h"
#include "vnet_helper.h"

#define RAM		(1ULL << 20)
#define RING(i)		(0x10000ULL + 0x4000ULL * (i))
#define BUF		0x40000ULL
#define F(b)		(1ULL << (b))

static struct vm vm;

static void arp_request(uint8_t *f)
{
	static const uint8_t me[6] = { 0x02, 0, 0, 0, 0, 1 };
	uint8_t *a = f + 14;

	memset(f, 0xff, 6);
	memcpy(f + 6, me, 6);
	f[12] = 0x08;
	f[13] = 0x06;
	a[0] = 0; a[1] = 1;
	a[2] = 0x08; a[3] = 0;
	a[4] = 6; a[5] = 4;
	a[6] = 0; a[7] = 1;
	memcpy(a + 8, me, 6);
	inet_pton(AF_INET, "10.0.2.15", a + 14);
	memset(a + 18, 0, 6);
	inet_pton(AF_INET, "10.0.2.2", a + 24);
}

/* An ARP request to 10.0.2.2 through card n; true if slirp answered. */
static bool arp_works(struct virtio_net *n)
{
	struct virtq vqs[3];
	struct ring rings[3];
	unsigned int i, tries;
	uint8_t *f;
	bool ok;

	memset(gm_ptr(&vm.mem, 0, RAM), 0, RAM);
	for (i = 0; i < 3; i++)
		cr_assert_eq(ring_setup(&rings[i], &vm.mem, &vqs[i], RING(i), 16), 0);
	cr_assert_eq(vnet_bind(n, F(VIRTIO_F_VERSION_1) | F(VIRTIO_NET_F_MRG_RXBUF), vqs, 3), 0);
	for (i = 0; i < 4; i++) {
		ring_desc(&rings[0], i, BUF + 0x1000 + 0x800ULL * i, 0x800, VRING_DESC_F_WRITE, 0);
		ring_publish(&rings[0], (uint16_t)i);
	}
	f = gm_ptr(&vm.mem, BUF, 12 + 42);
	arp_request(f + 12);
	ring_desc(&rings[1], 0, BUF, 12 + 42, 0, 0);
	ring_publish(&rings[1], 0);
	vnet_tx_process(&n->pairs[0]);
	for (tries = 0; tries < 200 && !ring_used_idx(&rings[0]); tries++) {
		struct timespec ts = { 0, 10 * 1000 * 1000 };

		vnet_rx_process(&n->pairs[0]);
		nanosleep(&ts, NULL);
	}
	f = gm_ptr(&vm.mem, BUF + 0x1000 + 12, 42);
	ok = ring_used_idx(&rings[0]) == 1 && f[12] == 0x08 && f[13] == 0x06 && f[14 + 7] == 2;
	vnet_unbind(n);
	return ok;
}

Test(virtio_net_keep, backend_survives_the_rebuild)
{
	struct net_opts o = { .kind = NET_USER, .queues = 1 };
	struct vnet_keep k = { NULL, NULL };
	struct virtio_pci_dev *t, *t2;
	struct net_backend *be;
	char err[256] = "";
	int fd;

	cr_assert_eq(fake_vm_init(&vm, RAM), 0);
	cr_assert_eq(pci_bus_create(&vm), 0);
	cr_assert_eq(virtio_net_create(&vm, &o, 0, &t, err, sizeof(err)), 0, "%s", err);
	be = ((struct virtio_net *)t->dev)->be;
	fd = be->fd[0];
	cr_assert(arp_works(t->dev), "first card works");

	virtio_net_take_backend(t, &k);
	cr_assert_eq(k.be, be);
	cr_assert_null(k.vhost, "user networking has no vhost");
	cr_assert_null(((struct virtio_net *)t->dev)->be);
	virtio_net_destroy(t);
	cr_assert_neq(fcntl(fd, F_GETFD), -1, "the backend's fd outlives the card");

	cr_assert_eq(virtio_net_create_with(&vm, &o, 0, &k, &t2, err, sizeof(err)), 0, "%s", err);
	cr_assert_null(k.be, "taken by the new card");
	cr_assert_eq(((struct virtio_net *)t2->dev)->be, be, "the same backend, not a new one");
	cr_assert(arp_works(t2->dev), "the new card talks through the kept backend");
	virtio_net_destroy(t2);
	pci_bus_destroy(&vm);
	fake_vm_destroy(&vm);
}

/* A kept backend is consumed even when the new card cannot be made. */
Test(virtio_net_keep, kept_backend_freed_on_failure)
{
	struct net_opts o = { .kind = NET_USER, .queues = 2 };	/* more pairs than slirp has */
	struct vnet_keep k = { NULL, NULL };
	struct virtio_pci_dev *t;
	struct fake_be fb;
	char err[256] = "";
	int peer;

	cr_assert_eq(fake_vm_init(&vm, RAM), 0);
	cr_assert_eq(pci_bus_create(&vm), 0);
	k.be = fake_be_new(&fb, 1, 0);
	cr_assert_not_null(k.be);
	peer = fb.peer[0];
	cr_assert_lt(virtio_net_create_with(&vm, &o, 0, &k, &t, err, sizeof(err)), 0);
	cr_assert_null(k.be);
	cr_assert_eq(fcntl(peer, F_GETFD), -1, "closed: nothing leaks");
	pci_bus_destroy(&vm);
	fake_vm_destroy(&vm);
}

/* ---- the tap's counters ---- */

static char root[64];

static void put(const char *name, unsigned long long v)
{
	char path[160];
	FILE *f;

	snprintf(path, sizeof(path), "%s/vt0/statistics/%s", root, name);
	f = fopen(path, "w");	/* same inode: open fds see the new value */
	cr_assert_not_null(f);
	fprintf(f, "%llu\n", v);
	fclose(f);
}

static void sysfs_setup(void)
{
	char path[160];

	snprintf(root, sizeof(root), "/tmp/vmm-tapstats-XXXXXX");
	cr_assert_not_null(mkdtemp(root));
	snprintf(path, sizeof(path), "%s/vt0", root);
	cr_assert_eq(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/vt0/statistics", root);
	cr_assert_eq(mkdir(path, 0700), 0);
	put("tx_packets", 100);
	put("tx_bytes", 100000);
	put("tx_dropped", 1);
	put("rx_packets", 50);
	put("rx_bytes", 5000);
	put("rx_dropped", 0);
}

static void sysfs_teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(tap_stats, .init = sysfs_setup, .fini = sysfs_teardown);

Test(tap_stats, counts_from_open_and_from_the_guest_side)
{
	struct tap_stats s;
	struct tap_counters c;

	cr_assert_eq(tap_stats_open(&s, root, "vt0"), 0);
	cr_assert_eq(tap_stats_read(&s, &c), 0);
	cr_assert_eq(c.rx_packets, 0, "only what happened since open");
	put("tx_packets", 110);		/* the tap sent 10 frames: the guest received them */
	put("tx_bytes", 115000);
	put("tx_dropped", 3);
	put("rx_packets", 57);		/* the tap received 7: the guest sent them */
	put("rx_bytes", 5700);
	cr_assert_eq(tap_stats_read(&s, &c), 0);
	cr_assert_eq(c.rx_packets, 10);
	cr_assert_eq(c.rx_bytes, 15000);
	cr_assert_eq(c.rx_drops, 2);
	cr_assert_eq(c.tx_packets, 7);
	cr_assert_eq(c.tx_bytes, 700);
	cr_assert_eq(c.tx_drops, 0);
	tap_stats_close(&s);
}

Test(tap_stats, bad_input)
{
	struct tap_stats s;
	struct tap_counters c;

	cr_assert_eq(tap_stats_open(&s, root, "nope"), -ENOENT);
	cr_assert_eq(tap_stats_open(&s, root, "../vt0"), -EINVAL);
	cr_assert_eq(tap_stats_open(&s, root, ""), -EINVAL);
	cr_assert_eq(tap_stats_open(&s, root, "vt0"), 0);
	put("rx_bytes", 0);
	{
		char path[160];
		FILE *f;

		snprintf(path, sizeof(path), "%s/vt0/statistics/rx_bytes", root);
		f = fopen(path, "w");
		fputs("12x\n", f);
		fclose(f);
	}
	cr_assert_eq(tap_stats_read(&s, &c), -EINVAL, "not a number");
	tap_stats_close(&s);
}

/* With vhost the kernel moves the frames: pair 0 reports the tap's totals, the others 0. */
Test(tap_stats, vhost_card_reports_the_interface)
{
	struct fake_be fb;
	struct net_backend *be;
	struct virtio_net *n;
	struct vnet_stats rx, tx;
	uint8_t mac[6] = { 2, 0, 0, 0, 0, 1 };

	cr_assert_eq(fake_vm_init(&vm, RAM), 0);
	be = fake_be_new(&fb, 2, 0);
	cr_assert_not_null(be);
	cr_assert_eq(virtio_net_new(&vm, be, mac, 2, &n), 0);
	vnet_stat_add(&n->pairs[0].rx_stats, 99, 99, 0);	/* not used once the tap counts */
	n->tap_stats = calloc(1, sizeof(*n->tap_stats));
	cr_assert_eq(tap_stats_open(n->tap_stats, root, "vt0"), 0);
	put("tx_packets", 104);
	put("rx_packets", 52);
	cr_assert_eq(virtio_net_stats(n, 0, &rx, &tx), 0);
	cr_assert_eq(rx.packets, 4);
	cr_assert_eq(tx.packets, 2);
	cr_assert_eq(virtio_net_stats(n, 1, &rx, &tx), 0);
	cr_assert_eq(rx.packets, 0, "no per-queue split from the interface");
	cr_assert_eq(virtio_net_stats(n, 2, &rx, &tx), -EINVAL);
	virtio_net_free(n);
	fake_vm_destroy(&vm);
}
