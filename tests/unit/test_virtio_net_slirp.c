// SPDX-License-Identifier: MIT
/*
 * The user-mode backend end to end through the device: the guest sends an
 * ARP request for slirp's gateway 10.0.2.2 on the tx queue and gets slirp's
 * ARP reply on the rx queue.  Traffic stays inside slirp's own network.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <time.h>
#include <unistd.h>

#include "fake_vm.h"
#include "virtio/virtio_net.h"
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
	a[0] = 0; a[1] = 1;		/* Ethernet */
	a[2] = 0x08; a[3] = 0;		/* IPv4 */
	a[4] = 6; a[5] = 4;
	a[6] = 0; a[7] = 1;		/* request */
	memcpy(a + 8, me, 6);
	inet_pton(AF_INET, "10.0.2.15", a + 14);
	memset(a + 18, 0, 6);
	inet_pton(AF_INET, "10.0.2.2", a + 24);
}

Test(virtio_net_slirp, arp_through_the_device)
{
	struct net_opts o = { .kind = NET_USER, .queues = 1 };
	struct virtq vqs[3];
	struct ring rings[3];
	struct net_backend *be;
	struct virtio_net *n;
	uint8_t mac[6] = { 2, 0, 0, 0, 0, 1 }, *f, *r;
	char err[256] = "";
	unsigned int i, tries;

	cr_assert_eq(fake_vm_init(&vm, RAM), 0);
	cr_assert_eq(slirp_backend_open(&o, &be, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(be->ops->offloads(be), 0, "no offloads: the guest checksums");
	cr_assert_eq(virtio_net_new(&vm, be, mac, 1, &n), 0);
	cr_assert_eq(n->offered & F(VIRTIO_NET_F_CSUM), 0);
	for (i = 0; i < 3; i++)
		cr_assert_eq(ring_setup(&rings[i], &vm.mem, &vqs[i], RING(i), 16), 0);
	cr_assert_eq(vnet_bind(n, F(VIRTIO_F_VERSION_1) | F(VIRTIO_NET_F_MRG_RXBUF), vqs, 3), 0);

	/* rx buffers first, then the request */
	for (i = 0; i < 4; i++) {
		ring_desc(&rings[0], i, BUF + 0x1000 + 0x800ULL * i, 0x800, VRING_DESC_F_WRITE, 0);
		ring_publish(&rings[0], (uint16_t)i);
	}
	f = gm_ptr(&vm.mem, BUF, 12 + 42);
	memset(f, 0, 12);
	arp_request(f + 12);
	ring_desc(&rings[1], 0, BUF, 12 + 42, 0, 0);
	ring_publish(&rings[1], 0);
	cr_assert_eq(vnet_tx_process(&n->pairs[0]), VNET_IDLE);
	cr_assert_eq(ring_used_idx(&rings[1]), 1);

	for (tries = 0; tries < 200 && !ring_used_idx(&rings[0]); tries++) {
		struct timespec ts = { 0, 10 * 1000 * 1000 };

		vnet_rx_process(&n->pairs[0]);
		nanosleep(&ts, NULL);
	}
	cr_assert_eq(ring_used_idx(&rings[0]), 1, "slirp answered");
	r = gm_ptr(&vm.mem, BUF + 0x1000, 0x800);
	cr_assert_eq(r[10], 1, "num_buffers");
	r += 12;
	cr_assert_arr_eq(r, mac, 6, "to us");
	cr_assert_eq(r[12], 0x08);
	cr_assert_eq(r[13], 0x06);
	cr_assert_eq(r[14 + 7], 2, "ARP reply");
	cr_assert_eq(r[14 + 14], 10);
	cr_assert_eq(r[14 + 17], 2, "from 10.0.2.2");
	virtio_net_free(n);
	fake_vm_destroy(&vm);
}
