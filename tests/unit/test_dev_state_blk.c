// SPDX-License-Identifier: MIT
/*
 * virtio-blk state end to end: a VM writes a sector through the device,
 * queues a read without kicking, is paused and saved; a fresh VM built from
 * the same configuration gets its memory and the saved state, and its
 * device carries on: the waiting read completes with the data, the used
 * index going on from the saved one.  A running device cannot be saved; an
 * image of another size is refused on restore.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <linux/virtio_blk.h>
#include <linux/virtio_pci.h>

#include "dev_state_helper.h"
#include "devices/pci.h"
#include "fake_vm.h"
#include "virtio/virtio_blk.h"
#include "virtio/virtio_pci.h"
#include "vq_helper.h"

#define RAM	(1ULL << 20)
#define DISK	(1ULL << 20)
#define HDR	(VQH_BUF)
#define STATUS	(VQH_BUF + 0x100)
#define WDATA	(VQH_BUF + 0x1000)
#define RDATA	(VQH_BUF + 0x2000)

static struct vm vm_a, vm_b;
static char path[] = "/tmp/vmm-test-blkstate-XXXXXX";

static void make_image(uint64_t size)
{
	int fd;

	strcpy(path, "/tmp/vmm-test-blkstate-XXXXXX");
	fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	cr_assert_eq(ftruncate(fd, (off_t)size), 0);
	close(fd);
}

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

static struct virtio_pci_dev *new_blk(struct vm *vm, const char *file)
{
	struct virtio_pci_dev *t;
	struct disk_opts o;
	char err[256] = "";

	memset(&o, 0, sizeof(o));
	snprintf(o.path, sizeof(o.path), "%s", file);
	o.format = DISK_FORMAT_RAW;
	o.num_queues = 1;
	cr_assert_eq(pci_bus_create(vm), 0);
	cr_assert_eq(virtio_blk_create(vm, &o, &t, err, sizeof(err)), 0, "%s", err);
	return t;
}

/* hdr (R) -> data (512, R or W) -> status (W), in slots slot..slot+2 */
static uint16_t chain(struct vqh *h, unsigned int slot, uint32_t type, uint64_t data)
{
	struct virtio_blk_outhdr hd = { .type = htole32(type), .sector = htole64(5) };
	uint64_t hdr = HDR + 16 * slot, st = STATUS + slot;
	uint8_t ff = 0xff;

	gm_write(&h->vm->mem, hdr, &hd, sizeof(hd));
	gm_write(&h->vm->mem, st, &ff, 1);
	vqh_desc(h, slot, hdr, 16, VRING_DESC_F_NEXT, slot + 1);
	vqh_desc(h, slot + 1, data, 512,
		 VRING_DESC_F_NEXT | (type == VIRTIO_BLK_T_IN ? VRING_DESC_F_WRITE : 0), slot + 2);
	vqh_desc(h, slot + 2, st, 1, VRING_DESC_F_WRITE, 0);
	return (uint16_t)slot;
}

static void wait_used(struct vqh *h, uint16_t want)
{
	struct timespec ts = { 0, 1000000 };
	unsigned int i;

	for (i = 0; i < 5000 && vqh_used_idx(h) != want; i++)
		nanosleep(&ts, NULL);
	cr_assert_eq(vqh_used_idx(h), want, "used index");
}

static int blk_save_fn(void *o, struct state_writer *w) { return virtio_blk_save(o, w); }
static int blk_restore_fn(void *o, struct state_reader *r) { return virtio_blk_restore(o, r); }

Test(dev_state_blk, carries_on_after_restore, .timeout = 30)
{
	struct virtio_pci_dev *a, *b;
	struct state_membuf m;
	uint8_t buf[512], want[512], st = 0;
	struct vqh h;

	make_image(DISK);
	cr_assert_eq(fake_vm_init(&vm_a, RAM), 0);
	a = new_blk(&vm_a, path);
	h.vm = &vm_a;
	h.size = 16;
	h.avail_idx = 0;
	bw(a, VIRTIO_PCI_COMMON_STATUS, 1, 1);
	bw(a, VIRTIO_PCI_COMMON_STATUS, 3, 1);
	bw(a, VIRTIO_PCI_COMMON_GFSELECT, 1, 4);
	bw(a, VIRTIO_PCI_COMMON_GF, 1, 4);		/* VERSION_1 */
	bw(a, VIRTIO_PCI_COMMON_GFSELECT, 0, 4);
	bw(a, VIRTIO_PCI_COMMON_GF, 1u << VIRTIO_BLK_F_FLUSH, 4);
	bw(a, VIRTIO_PCI_COMMON_STATUS, 0x0b, 1);
	bw(a, VIRTIO_PCI_COMMON_Q_SELECT, 0, 2);
	bw(a, VIRTIO_PCI_COMMON_Q_SIZE, 16, 2);
	bw(a, VIRTIO_PCI_COMMON_Q_DESCLO, VQH_DESC, 8);
	bw(a, VIRTIO_PCI_COMMON_Q_AVAILLO, VQH_AVAIL, 8);
	bw(a, VIRTIO_PCI_COMMON_Q_USEDLO, VQH_USED, 8);
	bw(a, VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
	bw(a, VIRTIO_PCI_COMMON_STATUS, 0x0f, 1);
	cr_assert_eq(br(a, VIRTIO_PCI_COMMON_STATUS, 1), 0x0f);

	memset(want, 0x5c, sizeof(want));
	gm_write(&vm_a.mem, WDATA, want, sizeof(want));
	vqh_publish(&h, chain(&h, 0, VIRTIO_BLK_T_OUT, WDATA));
	bw(a, VPCI_NOTIFY_OFF, 0, 2);
	wait_used(&h, 1);
	cr_assert_eq(dsh_save(&m, blk_save_fn, a), -EBUSY, "a running device is not saved");
	state_membuf_free(&m);
	cr_assert_eq(virtio_blk_pause(a), 0);
	/* the guest queues a read and the VM stops before the kick reaches the device */
	vqh_publish(&h, chain(&h, 3, VIRTIO_BLK_T_IN, RDATA));
	cr_assert_eq(dsh_save(&m, blk_save_fn, a), 0, "%s", dsh_err);
	cr_assert_eq(vqh_used_idx(&h), 1, "the read waits");

	cr_assert_eq(fake_vm_init(&vm_b, RAM), 0);
	memcpy(vm_b.mem.regions[0].hva, vm_a.mem.regions[0].hva, RAM);
	/* the image stays with the saving VM until it is gone, as on a switch-over */
	virtio_blk_destroy(a);
	pci_bus_destroy(&vm_a);
	b = new_blk(&vm_b, path);
	cr_assert_eq(dsh_restore(&m, blk_restore_fn, b), 0, "%s", dsh_err);
	cr_assert_eq(br(b, VIRTIO_PCI_COMMON_STATUS, 1), 0x0f);
	h.vm = &vm_b;
	wait_used(&h, 2);
	cr_assert_eq(vqh_used_elem(&h, 1).id, 3, "the waiting read completed");
	gm_read(&vm_b.mem, STATUS + 3, &st, 1);
	cr_assert_eq(st, VIRTIO_BLK_S_OK);
	gm_read(&vm_b.mem, RDATA, buf, sizeof(buf));
	cr_assert_arr_eq(buf, want, sizeof(buf), "read back what the first VM wrote");
	/* and it keeps going: one more request, kicked */
	vqh_publish(&h, chain(&h, 6, VIRTIO_BLK_T_IN, RDATA + 0x1000));
	bw(b, VPCI_NOTIFY_OFF, 0, 2);
	wait_used(&h, 3);
	state_membuf_free(&m);
	virtio_blk_destroy(b);
	pci_bus_destroy(&vm_b);
	fake_vm_destroy(&vm_a);
	fake_vm_destroy(&vm_b);
	unlink(path);
}

Test(dev_state_blk, resized_image_refused)
{
	struct virtio_pci_dev *a, *b;
	struct state_membuf m;
	char first[sizeof(path)];

	make_image(DISK);
	strcpy(first, path);
	cr_assert_eq(fake_vm_init(&vm_a, RAM), 0);
	a = new_blk(&vm_a, first);
	cr_assert_eq(dsh_save(&m, blk_save_fn, a), 0, "%s", dsh_err);
	make_image(2 * DISK);
	cr_assert_eq(fake_vm_init(&vm_b, RAM), 0);
	b = new_blk(&vm_b, path);
	dsh_refused(&m, blk_restore_fn, b, "resized");
	state_membuf_free(&m);
	virtio_blk_destroy(a);
	virtio_blk_destroy(b);
	pci_bus_destroy(&vm_a);
	pci_bus_destroy(&vm_b);
	fake_vm_destroy(&vm_a);
	fake_vm_destroy(&vm_b);
	unlink(first);
	unlink(path);
}
