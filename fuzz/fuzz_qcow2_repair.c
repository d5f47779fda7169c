// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for vmm-img check -r all (qcow2_check.c, qcow2_repair.c):
 * the input is an image file, put in a memfd.  Opens it the way check does
 * (the tolerant open), checks it, repairs it, then:
 *  - every write the repair made went to metadata the original image named
 *    at that place (the header, the active L1 table, an L2 table the L1
 *    named, a refcount block the refcount table named) or past the original
 *    end of the file (a new refcount structure); never guest data;
 *  - an image the repair reports clean re-checks clean (no corruption, no
 *    leak, no internal error) under vmm-img's own checker.
 * The issue asks that a repair never leave an image qemu-img calls corrupt
 * when qemu-img could have repaired it; qemu-img cannot run inside the
 * fuzzer, so that comparison is tests/img/t_check.sh's, and this target
 * holds the repair to our own checker, which t_check.sh keeps in step with
 * qemu-img's verdicts.
 * Never crashes, hangs or leaks, whatever the bytes.  Inputs above 256 KiB
 * are skipped to keep it fast.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "block/qcow2.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct orig {
	const uint8_t *d;
	size_t size;
	uint32_t cb;
	bool bad;
};

static uint64_t be64_at(const struct orig *o, uint64_t off)
{
	return off <= o->size - 8 ? qcow2_be64(o->d + off) : 0;
}

/* Is [off, off+len) inside one cluster the original image names as table kind? */
static bool named(const struct orig *o, enum qcow2_io_kind kind, uint64_t off, uint64_t len)
{
	uint64_t cs = 1ull << o->cb, l1 = qcow2_be64(o->d + 40), l1n = qcow2_be32(o->d + 36);
	uint64_t rt = qcow2_be64(o->d + 48), rtn = (uint64_t)qcow2_be32(o->d + 56) * cs / 8;
	uint64_t c = off & ~(cs - 1);

	if ((off + len - 1) >> o->cb != off >> o->cb)
		return false;
	switch (kind) {
	case QCOW2_IO_HEADER:		/* header fields, or a rewritten snapshot table */
		return off + len <= 104;
	case QCOW2_IO_L1:
		return off >= l1 && off - l1 + len <= l1n * 8;
	case QCOW2_IO_L2:
		for (uint64_t i = 0; i < l1n && i < (1u << 16); i++)
			if ((be64_at(o, l1 + i * 8) & QCOW2_OFFSET_MASK) == c)
				return true;
		return false;
	case QCOW2_IO_REFBLOCK:
		for (uint64_t i = 0; i < rtn && i < (1u << 16); i++)
			if ((be64_at(o, rt + i * 8) & ~511ull) == c)
				return true;
		return false;
	default:
		return false;
	}
}

static void on_write(void *arg, enum qcow2_io_kind kind, uint64_t off, uint64_t len)
{
	struct orig *o = arg;

	if (kind == QCOW2_IO_SYNC || !len)
		return;
	if (kind == QCOW2_IO_DATA)
		o->bad = true;			/* repairs never write guest data */
	else if (off < o->size && !named(o, kind, off, len))
		o->bad = true;
}

static void repair(const char *path, const uint8_t *data, size_t size)
{
	struct orig o = { data, size, 0, false };
	struct qcow2_check_result r;
	struct blk_image *img;
	char err[512];
	int ret;

	if (qcow2_open_check(path, true, &img, err, sizeof(err)) < 0)
		return;
	qcow2_check(img, QCOW2_CHECK_QUIET, &r, err, sizeof(err));
	img->ops->close(img);

	if (qcow2_open_check(path, false, &img, err, sizeof(err)) < 0)
		return;
	o.cb = qcow2_of(img)->h.cluster_bits;
	qcow2_of(img)->trace = on_write;
	qcow2_of(img)->trace_arg = &o;
	ret = qcow2_check(img, QCOW2_FIX_LEAKS | QCOW2_FIX_ERRORS | QCOW2_CHECK_QUIET, &r,
			  err, sizeof(err));
	qcow2_of(img)->trace = NULL;
	img->ops->close(img);
	if (o.bad) {
		fprintf(stderr, "repair wrote outside the metadata the image named\n");
		abort();
	}
	if (ret < 0 || r.corruptions || r.check_errors || r.leaks)
		return;			/* not reported clean */
	if (qcow2_open_check(path, true, &img, err, sizeof(err)) < 0) {
		fprintf(stderr, "repaired image no longer opens: %s\n", err);
		abort();
	}
	ret = qcow2_check(img, QCOW2_CHECK_QUIET, &r, err, sizeof(err));
	img->ops->close(img);
	if (ret < 0 || r.corruptions || r.leaks || r.check_errors) {
		fprintf(stderr, "repaired image re-checks as %llu corruptions, %llu leaks, "
			"%llu errors\n", (unsigned long long)r.corruptions,
			(unsigned long long)r.leaks, (unsigned long long)r.check_errors);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64];
	int fd;

	if (size < 104 || size > (256 << 10))
		return 0;
	log_set_level(LOG_ERR);
	fd = memfd_create("fuzz_qcow2_repair", MFD_CLOEXEC);
	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	repair(path, data, size);
	close(fd);
	return 0;
}
