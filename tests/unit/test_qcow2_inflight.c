// SPDX-License-Identifier: MIT
/*
 * qcow2 in-flight tracking: a write that map() handed to the async engine
 * (io_uring) runs without the image lock.  A discard of the same cluster
 * at that moment frees the cluster; if the pool then gave it to another
 * guest cluster, the write still in flight would land in that cluster's
 * data.  The cluster must stay allocated until unmap().
 */
#include <pthread.h>

#include "qcow2_helper.h"

#define CS	4096u
#define NCL	512u		/* enough allocations to refill the pool several times */
#define SIZE	((uint64_t)CS * (NCL + 8))

static uint64_t host_of(struct blk_image *img, uint64_t voff)
{
	uint64_t host = 0;
	int fd;

	if (img->ops->map(img, voff, CS, false, &fd, &host))
		return 0;
	img->ops->unmap(img, host, CS);
	return host;
}

/* The race in slow motion: map, discard, flush, reallocate, then the write lands. */
Test(qcow2_inflight, discard_during_mapped_write_keeps_cluster)
{
	uint8_t a[CS], b[CS], got[CS];
	struct blk_image *img;
	uint64_t host = 0, h;
	char p[256];
	int fd;

	tmp_path(p, sizeof(p), "inflight.qcow2");
	make_qcow2(p, SIZE, CS, 3, NULL, NULL);
	img = open_q(p, false);
	fill(a, CS, 1);
	cr_assert_eq(wr(img, a, CS, 0), 0);		/* cluster 0 allocated */
	/* the engine maps a write of cluster 0 ... */
	cr_assert_eq(img->ops->map(img, 0, CS, true, &fd, &host), 0);
	/* ... the guest discards cluster 0 meanwhile, and a flush applies the free ... */
	cr_assert_eq(img->ops->discard(img, 0, CS), 0);
	cr_assert_eq(img->ops->flush(img), 0);
	/* ... and writes many other clusters, refilling the pool */
	for (uint64_t c = 1; c <= NCL; c++) {
		fill(b, CS, (uint32_t)(100 + c));
		cr_assert_eq(wr(img, b, CS, c * CS), 0);
		if (c % 64 == 0)
			cr_assert_eq(img->ops->flush(img), 0);
	}
	for (uint64_t c = 1; c <= NCL; c++) {
		h = host_of(img, c * CS);
		cr_assert_neq(h, host, "cluster %llu got host 0x%llx, still under a write in flight",
			      (unsigned long long)c, (unsigned long long)h);
	}
	/* the write in flight lands now, and completes */
	cr_assert_eq(pwrite(fd, a, CS, (off_t)host), (ssize_t)CS);
	img->ops->unmap(img, host, CS);
	for (uint64_t c = 1; c <= NCL; c++) {
		fill(b, CS, (uint32_t)(100 + c));
		cr_assert_eq(rd(img, got, CS, c * CS), 0);
		cr_assert_eq(memcmp(got, b, CS), 0, "cluster %llu overwritten", (unsigned long long)c);
	}
	/* the held cluster is freed once the write completed: reused by the next allocation */
	cr_assert_eq(img->ops->flush(img), 0);
	img->ops->close(img);
	cr_assert_null(open_err(p));
	img = open_q(p, false);
	assert_clean(img);
	img->ops->close(img);
}

/* The same with real threads, as the engines run them: io_uring-style mapped writes vs discards. */
struct race {
	struct blk_image *img;
	bool stop;			/* atomic */
	unsigned int mapped_writes;
};

static void *mapped_writer(void *arg)
{
	struct race *r = arg;
	uint8_t junk[CS];
	uint64_t host;
	int fd;

	memset(junk, 0xee, sizeof(junk));
	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		if (r->img->ops->map(r->img, 0, CS, true, &fd, &host))
			continue;	/* discarded right now: the slow path would take it */
		if (pwrite(fd, junk, CS, (off_t)host) != (ssize_t)CS)
			break;
		r->img->ops->unmap(r->img, host, CS);
		r->mapped_writes++;
	}
	return NULL;
}

Test(qcow2_inflight, racing_discards_never_corrupt_other_clusters, .timeout = 60)
{
	struct race r = { 0 };
	uint8_t b[CS], got[CS], z[CS];
	pthread_t th;
	char p[256];

	tmp_path(p, sizeof(p), "race.qcow2");
	make_qcow2(p, SIZE, CS, 3, NULL, NULL);
	r.img = open_q(p, false);
	memset(z, 0, sizeof(z));
	cr_assert_eq(wr(r.img, z, CS, 0), 0);
	cr_assert_eq(pthread_create(&th, NULL, mapped_writer, &r), 0);
	for (unsigned int round = 0; round < 4; round++) {
		for (uint64_t c = 1; c <= NCL / 4; c++) {
			uint64_t v = (round * (NCL / 4) + c) * CS;

			/* discard cluster 0 under the writer, then allocate it again */
			cr_assert_eq(r.img->ops->discard(r.img, 0, CS), 0);
			cr_assert_eq(wr(r.img, z, CS, 0), 0);
			fill(b, CS, (uint32_t)v);
			cr_assert_eq(wr(r.img, b, CS, v), 0);
			if (c % 16 == 0)
				cr_assert_eq(r.img->ops->flush(r.img), 0);
		}
	}
	__atomic_store_n(&r.stop, true, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	for (uint64_t v = CS; v <= (uint64_t)NCL * CS; v += CS) {
		fill(b, CS, (uint32_t)v);
		cr_assert_eq(rd(r.img, got, CS, v), 0);
		cr_assert_eq(memcmp(got, b, CS), 0, "cluster at 0x%llx overwritten by a write "
			     "to a discarded cluster (%u mapped writes)",
			     (unsigned long long)v, r.mapped_writes);
	}
	cr_assert_eq(r.img->ops->flush(r.img), 0);
	r.img->ops->close(r.img);
	r.img = open_q(p, false);
	assert_clean(r.img);
	r.img->ops->close(r.img);
}
