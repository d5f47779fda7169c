// SPDX-License-Identifier: MIT
/*
 * The guest as the attacker of virtio-net: the input becomes guest RAM,
 * the layout of the rx, tx and control queues, the negotiated features and
 * the frames arriving from the "tap" (a socketpair); then the tx path, the
 * rx buffer walk (with or without MRG_RXBUF) and the control queue run.
 *
 * Input: byte 0 features (bit 0 MRG_RXBUF, 1 GUEST_CSUM+GUEST_TSO4/6,
 * 2 CSUM+HOST_TSO4/6/ECN, 3 EVENT_IDX, 4 INDIRECT, 5 MQ with 2 pairs),
 * byte 1 log2 queue size (mod 8), bytes 2..10 desc/avail/used page numbers
 * of rx, tx, ctrl (mod 16), byte 11 number of frames (mod 8), bytes 12..13
 * frame length (LE, mod 70000), then guest RAM (64 KiB, rest zero).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fake_vm.h"
#include "log.h"
#include "virtio/virtio_net.h"
#include "vnet_helper.h"

#define RAM_SIZE	(64 * 1024)
#define HDR_BYTES	16
#define F(b)		(1ULL << (b))

static struct vm vm;
static uint8_t frame[70000];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	log_set_level(LOG_ERR);
	if (fake_vm_init(&vm, 0))
		abort();
	return 0;
}

static uint64_t features(uint8_t b)
{
	uint64_t f = F(VIRTIO_F_VERSION_1) | F(VIRTIO_NET_F_MAC) | F(VIRTIO_NET_F_STATUS) |
		     F(VIRTIO_NET_F_CTRL_VQ) | F(VIRTIO_NET_F_CTRL_RX) |
		     F(VIRTIO_NET_F_GUEST_ANNOUNCE);

	if (b & 1)
		f |= F(VIRTIO_NET_F_MRG_RXBUF);
	if (b & 2)
		f |= F(VIRTIO_NET_F_GUEST_CSUM) | F(VIRTIO_NET_F_GUEST_TSO4) |
		     F(VIRTIO_NET_F_GUEST_TSO6);
	if (b & 4)
		f |= F(VIRTIO_NET_F_CSUM) | F(VIRTIO_NET_F_HOST_TSO4) | F(VIRTIO_NET_F_HOST_TSO6) |
		     F(VIRTIO_NET_F_HOST_ECN);
	if (b & 8)
		f |= F(VIRTIO_RING_F_EVENT_IDX);
	if (b & 16)
		f |= F(VIRTIO_RING_F_INDIRECT_DESC);
	if (b & 32)
		f |= F(VIRTIO_NET_F_MQ);
	return f;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct virtq vqs[2 * 2 + 1];
	struct net_backend *be;
	struct virtio_net *n;
	struct fake_be fb;
	uint8_t mac[6] = { 2, 0, 0, 0, 0, 1 };
	unsigned int pairs, nframes, flen, i, round;
	uint64_t f;
	uint8_t *ram;
	char sink[256];

	if (size < HDR_BYTES)
		return 0;
	ram = calloc(1, RAM_SIZE);
	if (!ram)
		return 0;
	vm.mem.nr_regions = 0;
	if (gm_add_region(&vm.mem, 0, RAM_SIZE, ram))
		goto out_ram;
	memcpy(ram, data + HDR_BYTES,
	       size - HDR_BYTES < RAM_SIZE ? size - HDR_BYTES : RAM_SIZE);
	f = features(data[0]);
	pairs = (data[0] & 32) ? 2 : 1;
	be = fake_be_new(&fb, pairs, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN);
	if (!be)
		goto out_ram;
	if (virtio_net_new(&vm, be, mac, pairs, &n)) {
		net_backend_close(be);
		goto out_ram;
	}
	memset(vqs, 0, sizeof(vqs));
	for (i = 0; i < 2 * pairs + 1; i++) {
		unsigned int k = i < 2 ? i : (i == 2 * pairs ? 2 : i % 2);

		vqs[i].mem = &vm.mem;
		vqs[i].size = (uint16_t)(1u << (data[1] % 8));
		vqs[i].desc_gpa = 4096ULL * (data[2 + 3 * k] % 16);
		vqs[i].avail_gpa = 4096ULL * (data[3 + 3 * k] % 16);
		vqs[i].used_gpa = 4096ULL * (data[4 + 3 * k] % 16);
		vqs[i].event_idx = f & F(VIRTIO_RING_F_EVENT_IDX);
		vqs[i].indirect = f & F(VIRTIO_RING_F_INDIRECT_DESC);
		vqs[i].ready = virtq_map(&vqs[i]) == 0;
	}
	if (vnet_bind(n, f, vqs, 2 * pairs + 1))
		goto out_net;
	nframes = data[11] % 8;
	flen = (data[12] | data[13] << 8 | (unsigned int)(data[0] & 0xc0) << 10) % sizeof(frame);
	memcpy(frame, data, flen < size ? flen : size);
	for (i = 0; i < nframes; i++)
		if (write(fb.peer[i % pairs], frame, flen) < 0)
			break;
	for (round = 0; round < 4; round++) {
		for (i = 0; i < pairs; i++) {
			vnet_tx_process(&n->pairs[i]);
			vnet_rx_process(&n->pairs[i]);
		}
		vnet_ctrl_process(n);
	}
	for (i = 0; i < pairs; i++)
		while (read(fb.peer[i], sink, sizeof(sink)) > 0)
			;
out_net:
	virtio_net_free(n);
out_ram:
	vm.mem.nr_regions = 0;
	free(ram);
	return 0;
}
