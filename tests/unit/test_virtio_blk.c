// SPDX-License-Identifier: MIT
/* virtio-blk requests through the real block layer on a temp file; one run through PCI. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <linux/virtio_pci.h>

#include "devices/pci.h"
#include "fake_vm.h"
#include "virtio/virtio_blk.h"
#include "virtio/virtio_pci.h"
#include "vq_helper.h"

#define RAM		(1ULL << 20)
#define DISK		(1ULL << 20)
#define HDR		(VQH_BUF)
#define DATA		(VQH_BUF + 0x1000)
#define STATUS		(VQH_BUF + 0x100)

static struct vm vm;
static struct virtq vq;
static struct vqh h;
static char path[] = "/tmp/vmm-test-vblk-XXXXXX";
static int fd = -1;
static struct virtio_blk *blk;
static struct vblk_queue q;
static bool q_live;

static void make_image(void)
{
	uint8_t buf[512];
	unsigned int i;

	fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	cr_assert_eq(ftruncate(fd, DISK), 0);
	for (i = 0; i < DISK / 512; i++) {
		memset(buf, (uint8_t)i, sizeof(buf));
		cr_assert_eq(pwrite(fd, buf, 512, i * 512ULL), 512);
	}
}

static void open_blk(bool readonly)
{
	struct disk_opts o;
	char err[256] = "";

	memset(&o, 0, sizeof(o));
	snprintf(o.path, sizeof(o.path), "%s", path);
	o.format = DISK_FORMAT_RAW;
	o.readonly = readonly;
	o.engine = BLK_ENGINE_AUTO;
	snprintf(o.serial, sizeof(o.serial), "SERIAL-0123456789ABC");
	cr_assert_eq(virtio_blk_new(&vm, &o, &blk, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(vqh_setup(&h, &vm, &vq, 16), 0);
	cr_assert_eq(vblk_queue_init(&q, blk, 0, &vq), 0);
	q_live = true;
}

static void setup(void)
{
	cr_assert_eq(fake_vm_init(&vm, RAM), 0);
	make_image();
}

static void teardown(void)
{
	if (q_live)
		vblk_queue_fini(&q);
	q_live = false;
	virtio_blk_free(blk);
	blk = NULL;
	close(fd);
	unlink(path);
	fake_vm_destroy(&vm);
}

TestSuite(virtio_blk, .init = setup, .fini = teardown);

static void put_hdr(uint32_t type, uint64_t sector)
{
	struct virtio_blk_outhdr hd = { .type = htole32(type), .sector = htole64(sector) };

	gm_write(&vm.mem, HDR, &hd, sizeof(hd));
}

/* hdr (16, R) [-> data (len, R or W)] -> status (1, W), starting at desc slot. */
static uint16_t chain(unsigned int slot, uint32_t type, uint64_t sector, uint32_t len, bool data_w)
{
	uint8_t ff = 0xff;

	put_hdr(type, sector);
	gm_write(&vm.mem, STATUS, &ff, 1);
	vqh_desc(&h, slot, HDR, 16, VRING_DESC_F_NEXT, slot + (len ? 1 : 2));
	if (len)
		vqh_desc(&h, slot + 1, DATA, len, VRING_DESC_F_NEXT | (data_w ? VRING_DESC_F_WRITE : 0),
			 slot + 2);
	vqh_desc(&h, slot + 2, STATUS, 1, VRING_DESC_F_WRITE, 0);
	return (uint16_t)slot;
}

static uint8_t status_byte(void)
{
	uint8_t s = 0xee;

	gm_read(&vm.mem, STATUS, &s, 1);
	return s;
}

/* Publishes head, runs the queue to completion, returns the status byte. */
static uint8_t run(uint16_t head)
{
	uint16_t before = vqh_used_idx(&h);

	vqh_publish(&h, head);
	cr_assert(vblk_queue_process(&q));
	vblk_queue_drain(&q);
	cr_assert_eq(vqh_used_idx(&h), (uint16_t)(before + 1), "request completed");
	cr_assert_eq(vqh_used_elem(&h, before).id, head);
	return status_byte();
}

Test(virtio_blk, config_and_features)
{
	open_blk(false);
	cr_assert_eq(le64toh(blk->cfg.capacity), DISK / 512);
	cr_assert_eq(le32toh(blk->cfg.seg_max), VBLK_SEG_MAX);
	cr_assert_geq(le32toh(blk->cfg.blk_size), 512);
	cr_assert_eq(le16toh(blk->cfg.num_queues), 1, "one per vCPU by default");
	cr_assert(blk->offered & (1ULL << VIRTIO_BLK_F_FLUSH));
	cr_assert(blk->offered & (1ULL << VIRTIO_BLK_F_DISCARD));
	cr_assert_not(blk->offered & (1ULL << VIRTIO_BLK_F_RO));
	cr_assert_not(blk->offered & (1ULL << VIRTIO_BLK_F_CONFIG_WCE));
}

Test(virtio_blk, write_then_read)
{
	uint8_t buf[1024], back[1024];

	open_blk(false);
	memset(buf, 0x5a, sizeof(buf));
	gm_write(&vm.mem, DATA, buf, sizeof(buf));
	cr_assert_eq(run(chain(0, VIRTIO_BLK_T_OUT, 10, 1024, false)), VIRTIO_BLK_S_OK);
	cr_assert_eq(vqh_used_elem(&h, 0).len, 1);
	cr_assert_eq(pread(fd, back, sizeof(back), 10 * 512), 1024);
	cr_assert_arr_eq(back, buf, sizeof(buf), "data reached the file");
	cr_assert_eq(run(chain(0, VIRTIO_BLK_T_FLUSH, 0, 0, false)), VIRTIO_BLK_S_OK);

	memset(back, 0, sizeof(back));
	gm_write(&vm.mem, DATA, back, sizeof(back));
	cr_assert_eq(run(chain(3, VIRTIO_BLK_T_IN, 9, 1024, true)), VIRTIO_BLK_S_OK);
	cr_assert_eq(vqh_used_elem(&h, 2).len, 1025, "data + status written");
	gm_read(&vm.mem, DATA, back, sizeof(back));
	memset(buf, 9, 512);
	cr_assert_arr_eq(back, buf, 512, "sector 9 as made");
	cr_assert_eq(back[512], 0x5a);
}

Test(virtio_blk, header_split_across_descriptors)
{
	uint8_t back[512], want[512];

	open_blk(false);
	put_hdr(VIRTIO_BLK_T_IN, 7);
	vqh_desc(&h, 0, HDR, 8, VRING_DESC_F_NEXT, 1);
	vqh_desc(&h, 1, HDR + 8, 8, VRING_DESC_F_NEXT, 2);
	/* data and status share the last descriptor */
	vqh_desc(&h, 2, DATA, 513, VRING_DESC_F_WRITE, 0);
	vqh_publish(&h, 0);
	cr_assert(vblk_queue_process(&q));
	vblk_queue_drain(&q);
	gm_read(&vm.mem, DATA, back, 512);
	memset(want, 7, sizeof(want));
	cr_assert_arr_eq(back, want, 512);
	gm_read(&vm.mem, DATA + 512, back, 1);
	cr_assert_eq(back[0], VIRTIO_BLK_S_OK);
}

Test(virtio_blk, get_id)
{
	char id[20];

	open_blk(false);
	cr_assert_eq(run(chain(0, VIRTIO_BLK_T_GET_ID, 0, 20, true)), VIRTIO_BLK_S_OK);
	gm_read(&vm.mem, DATA, id, sizeof(id));
	cr_assert_eq(memcmp(id, "SERIAL-0123456789ABC", 20), 0);
	cr_assert_eq(vqh_used_elem(&h, 0).len, 21);
}

Test(virtio_blk, write_zeroes_and_discard)
{
	struct virtio_blk_discard_write_zeroes seg = {
		.sector = htole64(4), .num_sectors = htole32(2), .flags = 0,
	};
	uint8_t back[1024], zero[1024] = { 0 };

	open_blk(false);
	gm_write(&vm.mem, DATA, &seg, sizeof(seg));
	cr_assert_eq(run(chain(0, VIRTIO_BLK_T_WRITE_ZEROES, 0, 16, false)), VIRTIO_BLK_S_OK);
	cr_assert_eq(pread(fd, back, sizeof(back), 4 * 512), 1024);
	cr_assert_arr_eq(back, zero, sizeof(back));
	cr_assert_eq(pread(fd, back, 1, 6 * 512), 1);
	cr_assert_eq(back[0], 6, "sector after the range untouched");

	cr_assert_eq(run(chain(0, VIRTIO_BLK_T_DISCARD, 0, 16, false)), VIRTIO_BLK_S_OK);
	seg.flags = htole32(VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP);
	gm_write(&vm.mem, DATA, &seg, sizeof(seg));
	cr_assert_eq(run(chain(0, VIRTIO_BLK_T_DISCARD, 0, 16, false)), VIRTIO_BLK_S_UNSUPP,
		     "unmap flag is not valid for discard");
	seg.flags = 0;
	seg.sector = htole64(DISK / 512 - 1);
	gm_write(&vm.mem, DATA, &seg, sizeof(seg));
	cr_assert_eq(run(chain(0, VIRTIO_BLK_T_WRITE_ZEROES, 0, 16, false)), VIRTIO_BLK_S_IOERR,
		     "range past the end");
	cr_assert_eq(run(chain(0, VIRTIO_BLK_T_DISCARD, 0, 32, false)), VIRTIO_BLK_S_IOERR,
		     "two segments: more than max_discard_seg");
}

Test(virtio_blk, readonly_refuses_writes)
{
	struct virtio_blk_discard_write_zeroes seg = { .sector = 0, .num_sectors = htole32(1) };
	uint8_t back[512], want[512];

	open_blk(true);
	cr_assert(blk->offered & (1ULL << VIRTIO_BLK_F_RO));
	memset(back, 0x77, sizeof(back));
	gm_write(&vm.mem, DATA, back, sizeof(back));
	cr_assert_eq(run(chain(0, VIRTIO_BLK_T_OUT, 1, 512, false)), VIRTIO_BLK_S_IOERR);
	gm_write(&vm.mem, DATA, &seg, sizeof(seg));
	cr_assert_eq(run(chain(0, VIRTIO_BLK_T_DISCARD, 0, 16, false)), VIRTIO_BLK_S_IOERR);
	cr_assert_eq(run(chain(0, VIRTIO_BLK_T_WRITE_ZEROES, 0, 16, false)), VIRTIO_BLK_S_IOERR);
	cr_assert_eq(pread(fd, back, sizeof(back), 512), 512);
	memset(want, 1, sizeof(want));
	cr_assert_arr_eq(back, want, sizeof(back), "file unchanged");
	cr_assert_eq(run(chain(0, VIRTIO_BLK_T_IN, 1, 512, true)), VIRTIO_BLK_S_OK);
	cr_assert_eq(run(chain(0, VIRTIO_BLK_T_FLUSH, 0, 0, false)), VIRTIO_BLK_S_OK);
}

Test(virtio_blk, out_of_range)
{
	open_blk(false);
	cr_assert_eq(run(chain(0, VIRTIO_BLK_T_IN, DISK / 512, 512, true)), VIRTIO_BLK_S_IOERR);
	cr_assert_eq(run(chain(0, VIRTIO_BLK_T_IN, DISK / 512 - 1, 1024, true)), VIRTIO_BLK_S_IOERR);
	cr_assert_eq(run(chain(0, VIRTIO_BLK_T_OUT, 1ULL << 63, 512, false)), VIRTIO_BLK_S_IOERR);
	cr_assert_eq(run(chain(0, VIRTIO_BLK_T_IN, UINT64_MAX, 512, true)), VIRTIO_BLK_S_IOERR);
	cr_assert_eq(run(chain(0, VIRTIO_BLK_T_IN, DISK / 512 - 1, 512, true)), VIRTIO_BLK_S_OK);
	cr_assert_eq(run(chain(0, VIRTIO_BLK_T_IN, 0, 100, true)), VIRTIO_BLK_S_IOERR,
		     "not a multiple of 512");
}

Test(virtio_blk, bad_header_size)
{
	uint8_t ff = 0xff;

	open_blk(false);
	put_hdr(VIRTIO_BLK_T_IN, 0);
	gm_write(&vm.mem, STATUS, &ff, 1);
	vqh_desc(&h, 0, HDR, 8, VRING_DESC_F_NEXT, 1);
	vqh_desc(&h, 1, STATUS, 1, VRING_DESC_F_WRITE, 0);
	cr_assert_eq(run(0), VIRTIO_BLK_S_IOERR);
}

Test(virtio_blk, missing_status_byte)
{
	open_blk(false);
	put_hdr(VIRTIO_BLK_T_OUT, 0);
	vqh_desc(&h, 0, HDR, 16, VRING_DESC_F_NEXT, 1);
	vqh_desc(&h, 1, DATA, 512, 0, 0);
	vqh_publish(&h, 0);
	cr_assert(vblk_queue_process(&q));
	vblk_queue_drain(&q);
	cr_assert_eq(vqh_used_idx(&h), 1, "returned");
	cr_assert_eq(vqh_used_elem(&h, 0).len, 0, "with nothing written");
	cr_assert_eq(q.inflight, 0);
}

Test(virtio_blk, unsupported_type)
{
	open_blk(false);
	cr_assert_eq(run(chain(0, 2 /* SCSI */, 0, 0, false)), VIRTIO_BLK_S_UNSUPP);
	cr_assert_eq(run(chain(0, 0x12345, 0, 0, false)), VIRTIO_BLK_S_UNSUPP);
}

Test(virtio_blk, in_with_readable_data_refused)
{
	open_blk(false);
	cr_assert_eq(run(chain(0, VIRTIO_BLK_T_IN, 0, 512, false)), VIRTIO_BLK_S_IOERR);
}

Test(virtio_blk, many_in_flight)
{
	unsigned int i;

	open_blk(false);
	for (i = 0; i < 5; i++) {
		put_hdr(VIRTIO_BLK_T_IN, i);
		vqh_desc(&h, 3 * i, HDR, 16, VRING_DESC_F_NEXT, 3 * i + 1);
		vqh_desc(&h, 3 * i + 1, DATA + 512 * i, 512, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE,
			 3 * i + 2);
		vqh_desc(&h, 3 * i + 2, STATUS + i, 1, VRING_DESC_F_WRITE, 0);
		vqh_publish(&h, (uint16_t)(3 * i));
		/* the header is read at process time: do one at a time but do not reap */
		cr_assert(vblk_queue_process(&q));
	}
	vblk_queue_drain(&q);
	cr_assert_eq(vqh_used_idx(&h), 5);
	for (i = 0; i < 5; i++) {
		uint8_t b = 0xee;

		gm_read(&vm.mem, DATA + 512 * i + 100, &b, 1);
		cr_assert_eq(b, i);
	}
}

Test(virtio_blk, same_head_twice_breaks_ring)
{
	open_blk(false);
	chain(0, VIRTIO_BLK_T_IN, 0, 512, true);
	vqh_publish(&h, 0);
	vqh_publish(&h, 0);
	cr_assert_not(vblk_queue_process(&q));
	cr_assert(vq.broken);
	vblk_queue_drain(&q);
	cr_assert_eq(q.inflight, 0);
}

Test(virtio_blk, corrupt_ring_stops_queue)
{
	open_blk(false);
	vqh_set_avail_idx(&h, 100);
	cr_assert_not(vblk_queue_process(&q));
	cr_assert(vq.broken);
}

/* ---- through the PCI transport, with the I/O thread ---- */

static void bw(struct virtio_pci_dev *t, uint64_t off, uint64_t v, unsigned int len)
{
	t->pci.bars[VPCI_BAR].ops->write(t, off, &v, len);
}

static uint64_t br(struct virtio_pci_dev *t, uint64_t off, unsigned int len)
{
	uint64_t v = 0;

	t->pci.bars[VPCI_BAR].ops->read(t, off, &v, len);
	return v;
}

Test(virtio_blk, end_to_end_through_pci)
{
	struct virtio_pci_dev *t;
	struct disk_opts o;
	char err[256] = "";
	uint8_t buf[512], want[512];
	struct timespec ts = { 0, 1000000 };
	unsigned int i;

	memset(&o, 0, sizeof(o));
	snprintf(o.path, sizeof(o.path), "%s", path);
	o.format = DISK_FORMAT_RAW;
	o.num_queues = 2;
	cr_assert_eq(pci_bus_create(&vm), 0);
	cr_assert_eq(virtio_blk_create(&vm, &o, &t, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(br(t, VIRTIO_PCI_COMMON_NUMQ, 2), 2);
	cr_assert_eq(br(t, VPCI_DEVCFG_OFF, 8), DISK / 512, "capacity in device config");

	bw(t, VIRTIO_PCI_COMMON_STATUS, 1, 1);
	bw(t, VIRTIO_PCI_COMMON_STATUS, 3, 1);
	bw(t, VIRTIO_PCI_COMMON_GFSELECT, 1, 4);
	bw(t, VIRTIO_PCI_COMMON_GF, 1, 4);		/* VERSION_1 */
	bw(t, VIRTIO_PCI_COMMON_GFSELECT, 0, 4);
	bw(t, VIRTIO_PCI_COMMON_GF, (1u << VIRTIO_BLK_F_FLUSH) | (1u << VIRTIO_BLK_F_MQ), 4);
	bw(t, VIRTIO_PCI_COMMON_STATUS, 0x0b, 1);
	cr_assert_eq(br(t, VIRTIO_PCI_COMMON_STATUS, 1), 0x0b);
	bw(t, VIRTIO_PCI_COMMON_Q_SELECT, 0, 2);
	bw(t, VIRTIO_PCI_COMMON_Q_SIZE, 16, 2);
	bw(t, VIRTIO_PCI_COMMON_Q_DESCLO, VQH_DESC, 8);
	bw(t, VIRTIO_PCI_COMMON_Q_AVAILLO, VQH_AVAIL, 8);
	bw(t, VIRTIO_PCI_COMMON_Q_USEDLO, VQH_USED, 8);
	bw(t, VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
	bw(t, VIRTIO_PCI_COMMON_STATUS, 0x0f, 1);
	cr_assert_eq(br(t, VIRTIO_PCI_COMMON_STATUS, 1), 0x0f);

	h.vm = &vm;
	h.size = 16;
	h.avail_idx = 0;
	vqh_publish(&h, chain(0, VIRTIO_BLK_T_IN, 3, 512, true));
	bw(t, VPCI_NOTIFY_OFF, 0, 2);			/* kick on the "vCPU" */
	for (i = 0; i < 5000 && vqh_used_idx(&h) != 1; i++)
		nanosleep(&ts, NULL);
	cr_assert_eq(vqh_used_idx(&h), 1, "I/O thread completed the request");
	cr_assert_eq(status_byte(), VIRTIO_BLK_S_OK);
	gm_read(&vm.mem, DATA, buf, sizeof(buf));
	memset(want, 3, sizeof(want));
	cr_assert_arr_eq(buf, want, sizeof(buf));
	for (i = 0; i < 5000 && !fake_vm_irq_level(t->pci.gsi); i++)
		nanosleep(&ts, NULL);
	cr_assert_eq(fake_vm_irq_level(t->pci.gsi), 1, "INTx raised");
	cr_assert_eq(br(t, VPCI_ISR_OFF, 1), 1);

	bw(t, VIRTIO_PCI_COMMON_STATUS, 0, 1);		/* reset stops the thread */
	cr_assert_eq(br(t, VIRTIO_PCI_COMMON_STATUS, 1), 0);
	virtio_blk_destroy(t);
	pci_bus_destroy(&vm);
}

/* used->flags aliases avail->idx: our own writes "add" buffers; must still return. */
Test(virtio_blk, aliased_rings_terminate, .timeout = 20)
{
	unsigned int i;

	open_blk(false);
	vblk_queue_fini(&q);
	q_live = false;
	memset(&vq, 0, sizeof(vq));
	vq.mem = &vm.mem;
	vq.size = 16;
	vq.desc_gpa = VQH_DESC;
	vq.avail_gpa = VQH_AVAIL + 2;
	vq.used_gpa = VQH_AVAIL + 4;
	vq.ready = true;
	cr_assert_eq(virtq_map(&vq), 0);
	for (i = 0; i < 16; i++) {
		put_hdr(0x99, 0);		/* unsupported: completes at once */
		vqh_desc(&h, i, HDR, 16, VRING_DESC_F_NEXT, (i + 1) % 16);
	}
	vqh_desc(&h, 1, STATUS, 1, VRING_DESC_F_WRITE, 0);
	cr_assert_eq(vblk_queue_init(&q, blk, 0, &vq), 0);
	q_live = true;
	for (i = 0; i < 50; i++) {
		vblk_queue_process(&q);
		vblk_queue_drain(&q);
	}
	cr_assert_eq(q.inflight, 0);
}

/* ---- two devices x two queues, MSI-X, driver threads hammering each queue ---- */

struct drv {
	struct virtio_pci_dev *t;
	unsigned int q;
	uint64_t base;		/* ring + buffers of this queue */
	unsigned int done;
	bool ok;
};

static void drv_w(struct virtio_pci_dev *t, uint64_t off, uint64_t v, unsigned int len)
{
	t->pci.bars[VPCI_BAR].ops->write(t, off, &v, len);
}

static uint16_t rd16(uint64_t gpa)
{
	/* the device publishes used->idx with a release store: acquire it (TSan) */
	return le16toh(__atomic_load_n((uint16_t *)gm_ptr(&vm.mem, gpa, 2), __ATOMIC_ACQUIRE));
}

static void *drv_thread(void *arg)
{
	struct drv *d = arg;
	uint64_t desc = d->base, avail = d->base + 0x1000, used = d->base + 0x2000;
	uint64_t hdr = d->base + 0x3000, st = d->base + 0x3800, data = d->base + 0x4000;
	struct timespec ts = { 0, 200000 };
	uint16_t idx = 0;
	unsigned int round, i, spins;

	for (round = 0; round < 40; round++) {
		for (i = 0; i < 8; i++) {
			struct virtio_blk_outhdr hd = {
				.type = htole32(i & 1 ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN),
				.sector = htole64(d->q * 64 + i * 8),
			};
			struct vring_desc ds[3] = {
				{ htole64(hdr + 16 * i), htole32(16), htole16(VRING_DESC_F_NEXT), htole16(3 * i + 1) },
				{ htole64(data + 4096 * i), htole32(4096),
				  htole16(VRING_DESC_F_NEXT | (i & 1 ? 0 : VRING_DESC_F_WRITE)), htole16(3 * i + 2) },
				{ htole64(st + i), htole32(1), htole16(VRING_DESC_F_WRITE), 0 },
			};
			uint16_t head = htole16(3 * i);

			gm_write(&vm.mem, hdr + 16 * i, &hd, sizeof(hd));
			gm_write(&vm.mem, desc + 16 * 3 * i, ds, sizeof(ds));
			gm_write(&vm.mem, avail + 4 + 2 * (idx % 32), &head, 2);
			idx++;
		}
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		/* as a driver does: publish avail->idx with a release store (TSan) */
		__atomic_store_n((uint16_t *)gm_ptr(&vm.mem, avail + 2, 2), htole16(idx),
				 __ATOMIC_RELEASE);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		drv_w(d->t, VPCI_NOTIFY_OFF + 4 * d->q, d->q, 2);
		for (spins = 0; rd16(used + 2) != idx && spins < 20000; spins++)
			nanosleep(&ts, NULL);
		if (rd16(used + 2) != idx)
			return NULL;
		d->done += 8;
	}
	d->ok = true;
	return NULL;
}

static struct virtio_pci_dev *start_dev(const char *img, uint64_t base)
{
	struct virtio_pci_dev *t;
	struct disk_opts o;
	char err[256] = "";
	unsigned int q, v;

	memset(&o, 0, sizeof(o));
	snprintf(o.path, sizeof(o.path), "%s", img);
	o.format = DISK_FORMAT_RAW;
	o.num_queues = 2;
	cr_assert_eq(virtio_blk_create(&vm, &o, &t, err, sizeof(err)), 0, "%s", err);
	for (v = 0; v < 3; v++) {			/* MSI-X entries, unmasked */
		drv_w(t, VPCI_MSIX_TABLE_OFF + 16 * v, 0xfee00000, 4);
		drv_w(t, VPCI_MSIX_TABLE_OFF + 16 * v + 8, 0x40 + v, 4);
		drv_w(t, VPCI_MSIX_TABLE_OFF + 16 * v + 12, 0, 4);
	}
	t->pci.cfg[t->msix_cap + 3] = 0x80;
	t->pci.ops->config_write(&t->pci, t->msix_cap + 2, 2);
	drv_w(t, VIRTIO_PCI_COMMON_STATUS, 1, 1);
	drv_w(t, VIRTIO_PCI_COMMON_STATUS, 3, 1);
	drv_w(t, VIRTIO_PCI_COMMON_GFSELECT, 1, 4);
	drv_w(t, VIRTIO_PCI_COMMON_GF, 1, 4);		/* VERSION_1 */
	drv_w(t, VIRTIO_PCI_COMMON_GFSELECT, 0, 4);
	drv_w(t, VIRTIO_PCI_COMMON_GF, (1u << VIRTIO_BLK_F_MQ) | (1u << VIRTIO_RING_F_EVENT_IDX), 4);
	drv_w(t, VIRTIO_PCI_COMMON_STATUS, 0x0b, 1);
	drv_w(t, VIRTIO_PCI_COMMON_MSIX, 2, 2);
	for (q = 0; q < 2; q++) {
		uint64_t b = base + q * 0x10000;

		drv_w(t, VIRTIO_PCI_COMMON_Q_SELECT, q, 2);
		drv_w(t, VIRTIO_PCI_COMMON_Q_SIZE, 32, 2);
		drv_w(t, VIRTIO_PCI_COMMON_Q_MSIX, q, 2);
		drv_w(t, VIRTIO_PCI_COMMON_Q_DESCLO, b, 8);
		drv_w(t, VIRTIO_PCI_COMMON_Q_AVAILLO, b + 0x1000, 8);
		drv_w(t, VIRTIO_PCI_COMMON_Q_USEDLO, b + 0x2000, 8);
		drv_w(t, VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
	}
	drv_w(t, VIRTIO_PCI_COMMON_STATUS, 0x0f, 1);
	cr_assert_eq(virtio_pci_status(t), 0x0f);
	return t;
}

Test(virtio_blk, two_devices_two_queues_concurrent, .timeout = 60)
{
	char path2[] = "/tmp/vmm-test-vblk2-XXXXXX";
	struct virtio_pci_dev *t[2];
	struct drv d[4];
	pthread_t th[4];
	int fd2;
	unsigned int i;

	fd2 = mkstemp(path2);
	cr_assert_geq(fd2, 0);
	cr_assert_eq(ftruncate(fd2, DISK), 0);
	cr_assert_eq(pci_bus_create(&vm), 0);
	t[0] = start_dev(path, 0x20000);
	t[1] = start_dev(path2, 0x40000);
	for (i = 0; i < 4; i++) {
		d[i] = (struct drv){ .t = t[i / 2], .q = i % 2, .base = 0x20000 + i * 0x10000 };
		pthread_create(&th[i], NULL, drv_thread, &d[i]);
	}
	for (i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	for (i = 0; i < 4; i++)
		cr_expect(d[i].ok, "queue %u of device %u: %u requests done", d[i].q, i / 2, d[i].done);
	cr_assert_gt(fake_vm.msi_routes, 0, "MSI-X vectors were used");
	drv_w(t[0], VIRTIO_PCI_COMMON_STATUS, 0, 1);	/* reset one while the other lives */
	virtio_blk_destroy(t[0]);
	virtio_blk_destroy(t[1]);
	pci_bus_destroy(&vm);
	close(fd2);
	unlink(path2);
}

/* Driver bring-up through the PCI transport: one queue of 16 at VQH_*. */
static void pci_driver_ok(struct virtio_pci_dev *t)
{
	bw(t, VIRTIO_PCI_COMMON_STATUS, 1, 1);
	bw(t, VIRTIO_PCI_COMMON_STATUS, 3, 1);
	bw(t, VIRTIO_PCI_COMMON_GFSELECT, 1, 4);
	bw(t, VIRTIO_PCI_COMMON_GF, 1, 4);		/* VERSION_1 */
	bw(t, VIRTIO_PCI_COMMON_GFSELECT, 0, 4);
	bw(t, VIRTIO_PCI_COMMON_GF, 1u << VIRTIO_BLK_F_FLUSH, 4);
	bw(t, VIRTIO_PCI_COMMON_STATUS, 0x0b, 1);
	bw(t, VIRTIO_PCI_COMMON_Q_SELECT, 0, 2);
	bw(t, VIRTIO_PCI_COMMON_Q_SIZE, 16, 2);
	bw(t, VIRTIO_PCI_COMMON_Q_DESCLO, VQH_DESC, 8);
	bw(t, VIRTIO_PCI_COMMON_Q_AVAILLO, VQH_AVAIL, 8);
	bw(t, VIRTIO_PCI_COMMON_Q_USEDLO, VQH_USED, 8);
	bw(t, VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
	bw(t, VIRTIO_PCI_COMMON_STATUS, 0x0f, 1);
	cr_assert_eq(br(t, VIRTIO_PCI_COMMON_STATUS, 1), 0x0f);
	h.vm = &vm;
	h.size = 16;
	h.avail_idx = 0;
}

static void wait_used(uint16_t n)
{
	struct timespec ts = { 0, 1000000 };
	unsigned int i;

	for (i = 0; i < 5000 && vqh_used_idx(&h) != n; i++)
		nanosleep(&ts, NULL);
}

/*
 * vm_pause(): what was submitted completes before pause returns, a request
 * kicked while paused is not taken, and resume takes it.
 */
Test(virtio_blk, pause_quiesces_and_resume_continues, .timeout = 30)
{
	struct timespec ts = { 0, 50 * 1000000 };
	struct virtio_pci_dev *t;
	struct virtio_blk *b;
	struct disk_opts o;
	char err[256] = "";
	unsigned int i;

	memset(&o, 0, sizeof(o));
	snprintf(o.path, sizeof(o.path), "%s", path);
	o.format = DISK_FORMAT_RAW;
	o.num_queues = 1;
	cr_assert_eq(pci_bus_create(&vm), 0);
	cr_assert_eq(virtio_blk_create(&vm, &o, &t, err, sizeof(err)), 0, "%s", err);
	b = t->dev;
	pci_driver_ok(t);

	vqh_publish(&h, chain(0, VIRTIO_BLK_T_IN, 3, 512, true));
	bw(t, VPCI_NOTIFY_OFF, 0, 2);
	wait_used(1);
	cr_assert_eq(vqh_used_idx(&h), 1);

	for (i = 0; i < 20; i++) {
		vqh_publish(&h, chain(0, VIRTIO_BLK_T_IN, i, 512, true));
		bw(t, VPCI_NOTIFY_OFF, 0, 2);
		cr_assert_eq(virtio_blk_pause(t), 0);
		cr_assert_eq(b->queues[0].inflight, 0, "nothing in flight once paused");
		cr_assert_not(b->queues[0].running, "no I/O thread while paused");
		virtio_blk_resume(t);
		wait_used((uint16_t)(2 + i));
		cr_assert_eq(vqh_used_idx(&h), 2 + i, "round %u: resumed queue completes it", i);
	}

	cr_assert_eq(virtio_blk_pause(t), 0);
	vqh_publish(&h, chain(0, VIRTIO_BLK_T_IN, 5, 512, true));
	bw(t, VPCI_NOTIFY_OFF, 0, 2);			/* kicked while paused */
	nanosleep(&ts, NULL);
	cr_assert_eq(vqh_used_idx(&h), 21, "a paused device takes no new request");
	virtio_blk_resume(t);
	wait_used(22);
	cr_assert_eq(vqh_used_idx(&h), 22, "resume takes the request kicked while paused");
	cr_assert_eq(status_byte(), VIRTIO_BLK_S_OK);

	cr_assert_eq(virtio_blk_pause(t), 0);	/* destroy while paused must not hang */
	virtio_blk_destroy(t);
	pci_bus_destroy(&vm);
}

/* vm.counters: each answered request counts, by kind, with its data bytes */
Test(virtio_blk, counters)
{
	const struct vblk_stats *s;

	open_blk(false);
	cr_assert_eq(run(chain(0, VIRTIO_BLK_T_OUT, 10, 1024, false)), VIRTIO_BLK_S_OK);
	cr_assert_eq(run(chain(0, VIRTIO_BLK_T_IN, 9, 512, true)), VIRTIO_BLK_S_OK);
	cr_assert_eq(run(chain(0, VIRTIO_BLK_T_FLUSH, 0, 0, false)), VIRTIO_BLK_S_OK);
	cr_assert_eq(run(chain(0, 0x12345, 0, 0, false)), VIRTIO_BLK_S_UNSUPP);
	cr_assert_eq(run(chain(0, VIRTIO_BLK_T_IN, 0, 512, false)), VIRTIO_BLK_S_IOERR);
	s = &blk->stats[0];
	cr_assert_eq(s->requests, 5);
	cr_assert_eq(s->write_ops, 1);
	cr_assert_eq(s->write_bytes, 1024);
	cr_assert_eq(s->read_ops, 1);
	cr_assert_eq(s->read_bytes, 512);
	cr_assert_eq(s->flush_ops, 1);
	cr_assert_eq(s->errors, 2);
}
