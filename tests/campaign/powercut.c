// SPDX-License-Identifier: MIT
/*
 * A simulated power cut below vmm's block layer (issue 13), as an
 * LD_PRELOAD library:
 *
 *   LD_PRELOAD=powercut.so POWERCUT_IMAGE=/path/disk.img vmm ... --disk path=/path/disk.img
 *
 * Beside the image the harness puts POWERCUT_IMAGE.durable, an identical
 * copy: "the platter".  vmm works on the image as usual (the "page
 * cache"); this library notes every range written (pwrite, pwritev,
 * write, fallocate, ftruncate on any writable fd of the image) and, when
 * vmm calls fdatasync/fsync on one of them, copies those ranges, in order,
 * from the image into the .durable file before the real call.  So after
 * vmm is killed, the .durable file is what a disk would hold after a
 * power cut that dropped every write not yet fdatasync'd: each range holds
 * its content at the time of the last sync that covered it.
 *
 * Honest limits: only writes made through these libc calls are seen, so
 * vmm must use engine=threads (io_uring submits writes the library never
 * sees); the model is "all unsynced writes lost", not the reordered or
 * torn subsets a real disk may also keep.
 *
 * The .durable file and a read fd of the image are opened when vmm opens
 * the image, before its seccomp filters; at run time only pread, pwrite,
 * fallocate, ftruncate and fdatasync are used, which the block I/O roles
 * allow.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#define MAX_FDS 8

enum op_kind { OP_WRITE, OP_PUNCH, OP_TRUNCATE };

struct op {
	enum op_kind kind;
	off_t off;
	off_t len;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int img_fds[MAX_FDS];
static int img_dsync[MAX_FDS]; /* opened O_DSYNC/O_SYNC: each write is durable on return */
static int n_img_fds;
static int rd_fd = -1;
static int dur_fd = -1;
static struct op *ops;
static size_t n_ops, cap_ops;
static int broken;

static void die(const char *what)
{
	char buf[256];
	int n = snprintf(buf, sizeof(buf), "powercut: %s: %s\n", what, strerror(errno));

	if (write(2, buf, (size_t)n) < 0)
		abort();
	abort();
}

#define REAL(ret, name, ...)                                                 \
	static ret (*real_##name)(__VA_ARGS__);                              \
	static void load_##name(void)                                        \
	{                                                                    \
		if (!real_##name)                                            \
			real_##name = (ret(*)(__VA_ARGS__))dlsym(RTLD_NEXT, #name); \
		if (!real_##name)                                            \
			die("dlsym " #name);                                 \
	}

REAL(int, open, const char *, int, ...)
REAL(int, open64, const char *, int, ...)
REAL(int, openat, int, const char *, int, ...)
REAL(ssize_t, pwrite, int, const void *, size_t, off_t)
REAL(ssize_t, pwrite64, int, const void *, size_t, off_t)
REAL(ssize_t, pwritev, int, const struct iovec *, int, off_t)
REAL(ssize_t, pwritev64, int, const struct iovec *, int, off_t)
REAL(ssize_t, pwritev2, int, const struct iovec *, int, off_t, int)
REAL(ssize_t, write, int, const void *, size_t)
REAL(int, fallocate, int, int, off_t, off_t)
REAL(int, fallocate64, int, int, off_t, off_t)
REAL(int, ftruncate, int, off_t)
REAL(int, ftruncate64, int, off_t)
REAL(int, fdatasync, int)
REAL(int, fsync, int)

/* 0: not the image; 1: the image; 2: the image, opened O_DSYNC */
static int is_img(int fd)
{
	int i, r = 0;

	if (fd < 0)
		return 0;
	pthread_mutex_lock(&lock);
	for (i = 0; i < n_img_fds; i++)
		if (img_fds[i] == fd)
			r = img_dsync[i] ? 2 : 1;
	pthread_mutex_unlock(&lock);
	return r;
}

static void sync_durable(void);
static void note(enum op_kind kind, off_t off, off_t len);

/* a write to the image: noted; with O_DSYNC it is durable once it returns */
static void written(int kind, off_t off, off_t len)
{
	note(OP_WRITE, off, len);
	if (kind == 2)
		sync_durable();
}

static void note(enum op_kind kind, off_t off, off_t len)
{
	pthread_mutex_lock(&lock);
	if (n_ops == cap_ops) {
		size_t cap = cap_ops ? cap_ops * 2 : 1024;
		struct op *n = realloc(ops, cap * sizeof(*n));

		if (!n) {
			broken = 1;
			pthread_mutex_unlock(&lock);
			return;
		}
		ops = n;
		cap_ops = cap;
	}
	/* a write right after the previous one extends it */
	if (kind == OP_WRITE && n_ops && ops[n_ops - 1].kind == OP_WRITE &&
	    ops[n_ops - 1].off + ops[n_ops - 1].len == off)
		ops[n_ops - 1].len += len;
	else
		ops[n_ops++] = (struct op){ kind, off, len };
	pthread_mutex_unlock(&lock);
}

/* copy [off, off+len) of the image, as it is now, to the durable file */
static void copy_range(off_t off, off_t len)
{
	static char buf[1 << 16];
	load_pwrite();
	while (len > 0) {
		size_t want = len < (off_t)sizeof(buf) ? (size_t)len : sizeof(buf);
		ssize_t n = pread(rd_fd, buf, want, off);

		if (n < 0)
			die("pread of the image");
		if (n == 0) /* past the end: the file was shrunk since */
			return;
		if (real_pwrite(dur_fd, buf, (size_t)n, off) != n)
			die("pwrite of the durable copy");
		off += n;
		len -= n;
	}
}

/* the sync: every range noted so far reaches the durable file */
static void sync_durable(void)
{
	size_t i;

	load_ftruncate();
	load_fallocate();
	load_fdatasync();
	pthread_mutex_lock(&lock);
	if (broken) {
		errno = ENOMEM;
		die("out of memory noting writes");
	}
	for (i = 0; i < n_ops; i++) {
		struct op *o = &ops[i];

		if (o->kind == OP_WRITE)
			copy_range(o->off, o->len);
		else if (o->kind == OP_PUNCH)
			real_fallocate(dur_fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, o->off, o->len);
		else if (real_ftruncate(dur_fd, o->off))
			die("ftruncate of the durable copy");
	}
	n_ops = 0;
	if (real_fdatasync(dur_fd))
		die("fdatasync of the durable copy");
	pthread_mutex_unlock(&lock);
}

static void track(const char *path, int flags, int fd)
{
	const char *want = getenv("POWERCUT_IMAGE");
	char dur[4096];

	if (fd < 0 || !want || strcmp(path, want) || (flags & O_ACCMODE) == O_RDONLY)
		return;
	load_open();
	pthread_mutex_lock(&lock);
	if (n_img_fds == MAX_FDS) {
		errno = EMFILE;
		die("too many fds of the image");
	}
	img_dsync[n_img_fds] = (flags & O_DSYNC) != 0; /* O_SYNC includes O_DSYNC */
	img_fds[n_img_fds++] = fd;
	if (rd_fd < 0) {
		snprintf(dur, sizeof(dur), "%s.durable", path);
		rd_fd = real_open(path, O_RDONLY | O_CLOEXEC);
		dur_fd = real_open(dur, O_RDWR | O_CLOEXEC);
		if (rd_fd < 0 || dur_fd < 0)
			die(dur);
	}
	pthread_mutex_unlock(&lock);
}

static mode_t mode_arg(int flags, va_list ap)
{
	return (flags & (O_CREAT | O_TMPFILE)) ? (mode_t)va_arg(ap, int) : 0;
}

int open(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;
	int fd;

	va_start(ap, flags);
	mode = mode_arg(flags, ap);
	va_end(ap);
	load_open();
	fd = real_open(path, flags, mode);
	track(path, flags, fd);
	return fd;
}

int open64(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;
	int fd;

	va_start(ap, flags);
	mode = mode_arg(flags, ap);
	va_end(ap);
	load_open64();
	fd = real_open64(path, flags, mode);
	track(path, flags, fd);
	return fd;
}

int openat(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;
	int fd;

	va_start(ap, flags);
	mode = mode_arg(flags, ap);
	va_end(ap);
	load_openat();
	fd = real_openat(dirfd, path, flags, mode);
	if (dirfd == AT_FDCWD || path[0] == '/')
		track(path, flags, fd);
	return fd;
}

static off_t iov_len(const struct iovec *iov, int cnt)
{
	off_t n = 0;
	int i;

	for (i = 0; i < cnt; i++)
		n += (off_t)iov[i].iov_len;
	return n;
}

ssize_t pwrite(int fd, const void *buf, size_t len, off_t off)
{
	ssize_t n;
	int k;

	load_pwrite();
	n = real_pwrite(fd, buf, len, off);
	if (n > 0 && (k = is_img(fd)))
		written(k, off, n);
	return n;
}

ssize_t pwrite64(int fd, const void *buf, size_t len, off_t off)
{
	ssize_t n;
	int k;

	load_pwrite64();
	n = real_pwrite64(fd, buf, len, off);
	if (n > 0 && (k = is_img(fd)))
		written(k, off, n);
	return n;
}

ssize_t pwritev(int fd, const struct iovec *iov, int cnt, off_t off)
{
	ssize_t n;
	int k;

	load_pwritev();
	n = real_pwritev(fd, iov, cnt, off);
	if (n > 0 && (k = is_img(fd)))
		written(k, off, n);
	return n;
}

ssize_t pwritev64(int fd, const struct iovec *iov, int cnt, off_t off)
{
	ssize_t n;
	int k;

	load_pwritev64();
	n = real_pwritev64(fd, iov, cnt, off);
	if (n > 0 && (k = is_img(fd)))
		written(k, off, n);
	return n;
}

ssize_t pwritev2(int fd, const struct iovec *iov, int cnt, off_t off, int flags)
{
	ssize_t n;
	int k;

	load_pwritev2();
	n = real_pwritev2(fd, iov, cnt, off, flags);
	if (n > 0 && (k = is_img(fd))) {
		if (off == -1) {
			/* at the file position: not used by vmm; refuse to guess */
			errno = EINVAL;
			die("pwritev2 at the file position on the image");
		}
		written(k, off, n);
	}
	(void)iov_len;
	return n;
}

ssize_t write(int fd, const void *buf, size_t len)
{
	off_t pos = -1;
	ssize_t n;
	int k;

	load_write();
	k = is_img(fd);
	if (k)
		pos = lseek(fd, 0, SEEK_CUR);
	n = real_write(fd, buf, len);
	if (n > 0 && pos >= 0)
		written(k, pos, n);
	return n;
}

static void note_fallocate(int mode, off_t off, off_t len)
{
	if (mode & FALLOC_FL_PUNCH_HOLE)
		note(OP_PUNCH, off, len);
	else
		note(OP_WRITE, off, len); /* zero range / allocation: copy what it left */
}

int fallocate(int fd, int mode, off_t off, off_t len)
{
	int r;

	load_fallocate();
	r = real_fallocate(fd, mode, off, len);
	if (!r && is_img(fd))
		note_fallocate(mode, off, len);
	return r;
}

int fallocate64(int fd, int mode, off_t off, off_t len)
{
	int r;

	load_fallocate64();
	r = real_fallocate64(fd, mode, off, len);
	if (!r && is_img(fd))
		note_fallocate(mode, off, len);
	return r;
}

int ftruncate(int fd, off_t len)
{
	int r;

	load_ftruncate();
	r = real_ftruncate(fd, len);
	if (!r && is_img(fd))
		note(OP_TRUNCATE, len, 0);
	return r;
}

int ftruncate64(int fd, off_t len)
{
	int r;

	load_ftruncate64();
	r = real_ftruncate64(fd, len);
	if (!r && is_img(fd))
		note(OP_TRUNCATE, len, 0);
	return r;
}

int fdatasync(int fd)
{
	load_fdatasync();
	if (is_img(fd))
		sync_durable();
	return real_fdatasync(fd);
}

int fsync(int fd)
{
	load_fsync();
	if (is_img(fd))
		sync_durable();
	return real_fsync(fd);
}
