// SPDX-License-Identifier: MIT
/*
 * vmm-img outputs: lock before anything is created or truncated, refuse an
 * output that is an input (or in an input's backing chain), build under a
 * temporary name and rename into place when complete.  See img_output.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "img_output.h"
#include "block/qcow2.h"

/* QEMU's file-posix locks one byte per permission at 100+i and 200+i. */
#define QEMU_LOCK_FIRST	100
#define QEMU_LOCK_END	300

static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

int img_lock_write(int fd, const char *name)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	struct flock who = { .l_type = F_WRLCK, .l_whence = SEEK_SET };

	if (fcntl(fd, F_OFD_SETLK, &fl) == 0)
		return 0;
	if (errno != EAGAIN && errno != EACCES) {
		fprintf(stderr, "vmm-img: warning: %s: cannot lock it (%s); nothing stops another "
			"process from using it at the same time\n", name, strerror(errno));
		return 0;
	}
	if (fcntl(fd, F_OFD_GETLK, &who) == 0 && who.l_type != F_UNLCK && who.l_len > 0 &&
	    who.l_start >= QEMU_LOCK_FIRST && who.l_start + who.l_len <= QEMU_LOCK_END)
		fprintf(stderr, "vmm-img: %s is in use by QEMU (it holds QEMU's image locks); "
			"stop that QEMU first. %s was not touched\n", name, name);
	else
		fprintf(stderr, "vmm-img: %s is in use by another process (locked, e.g. by a "
			"running vmm); stop it first. %s was not touched\n", name, name);
	return -EBUSY;
}

int img_output_check(const char *name, const char *what, struct blk_image *const *in,
		     unsigned int n)
{
	struct stat out, st;

	if (stat(name, &out) < 0)
		return 0;	/* nothing there yet: nothing to destroy */
	for (unsigned int i = 0; i < n; i++) {
		struct blk_image *cur = in[i];

		for (int depth = 0; cur && depth <= QCOW2_MAX_BACKING_DEPTH; depth++) {
			if (blk_image_stat(cur, &st) == 0 && same_file(&st, &out)) {
				if (depth == 0)
					fprintf(stderr, "vmm-img: %s is the %s %s (the same file); "
						"refusing to overwrite it. %s was not touched\n",
						name, what, in[i]->path, name);
				else
					fprintf(stderr, "vmm-img: %s is %s, in the backing chain of "
						"the %s %s; overwriting it would destroy every image "
						"on top of it. %s was not touched\n", name, cur->path,
						what, in[i]->path, name);
				return -EEXIST;
			}
			cur = strcmp(cur->format_name, "qcow2") ? NULL : qcow2_of(cur)->backing;
		}
	}
	return 0;
}

/* o->path: where the image goes, symlinks resolved; o->old_fd opened and locked if it exists. */
static int open_existing(struct img_output *o)
{
	struct stat lst;
	char *real = realpath(o->name, NULL);

	if (!real) {
		if (errno != ENOENT) {
			fprintf(stderr, "vmm-img: %s: %s\n", o->name, strerror(errno));
			return -errno;
		}
		if (lstat(o->name, &lst) == 0) {
			fprintf(stderr, "vmm-img: %s is a symbolic link to a file that does not "
				"exist; give the target's name instead\n", o->name);
			return -ENOENT;
		}
		if (strlen(o->name) >= sizeof(o->path)) {
			fprintf(stderr, "vmm-img: %s: name too long\n", o->name);
			return -ENAMETOOLONG;
		}
		snprintf(o->path, sizeof(o->path), "%s", o->name);
		return 0;
	}
	snprintf(o->path, sizeof(o->path), "%s", real);
	free(real);
	if (stat(o->path, &lst) == 0 && !S_ISREG(lst.st_mode)) {
		fprintf(stderr, "vmm-img: %s is %s; vmm-img writes images only to regular "
			"files\n", o->name, S_ISDIR(lst.st_mode) ? "a directory" :
			"not a regular file");
		return -EINVAL;
	}
	o->old_fd = open(o->path, O_WRONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (o->old_fd < 0) {
		int e = errno;

		fprintf(stderr, "vmm-img: %s: cannot overwrite it: %s\n", o->name, strerror(e));
		return -e;
	}
	if (fstat(o->old_fd, &o->old_st) < 0) {
		fprintf(stderr, "vmm-img: %s: %s\n", o->name, strerror(errno));
		return -errno;
	}
	if (!S_ISREG(o->old_st.st_mode)) {
		fprintf(stderr, "vmm-img: %s is not a regular file; vmm-img writes images only "
			"to regular files\n", o->name);
		return -EINVAL;
	}
	return img_lock_write(o->old_fd, o->name);
}

/* Creates o->tmp next to o->path with O_EXCL, with the old file's mode if there was one. */
static int create_tmp(struct img_output *o)
{
	static const char abc[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	const char *slash = strrchr(o->path, '/');
	const char *base = slash ? slash + 1 : o->path;
	int dirlen = slash ? (int)(slash - o->path) + 1 : 0;

	for (int tries = 0; tries < 100; tries++) {
		unsigned char r[8];
		char sfx[9];

		if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
			memset(r, tries, sizeof(r));
		for (size_t i = 0; i < sizeof(r); i++)
			sfx[i] = abc[r[i] % (sizeof(abc) - 1)];
		sfx[8] = '\0';
		/* base cut to 200 bytes: the temporary name must fit NAME_MAX too */
		if (snprintf(o->tmp, sizeof(o->tmp), "%.*s.%.200s.vmm-img-%s", dirlen, o->path,
			     base, sfx) >= (int)sizeof(o->tmp)) {
			fprintf(stderr, "vmm-img: %s: name too long\n", o->name);
			o->tmp[0] = '\0';
			return -ENAMETOOLONG;
		}
		o->fd = open(o->tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, 0666);
		if (o->fd >= 0)
			break;
		if (errno != EEXIST) {
			int e = errno;

			fprintf(stderr, "vmm-img: cannot create %s next to %s: %s\n", o->tmp,
				o->name, strerror(e));
			o->tmp[0] = '\0';
			return -e;
		}
	}
	if (o->fd < 0) {
		fprintf(stderr, "vmm-img: cannot find a free temporary name next to %s\n", o->name);
		o->tmp[0] = '\0';
		return -EEXIST;
	}
	if (o->old_fd >= 0) {
		/* the new image takes the old one's place: keep who may use it */
		if (fchown(o->fd, o->old_st.st_uid, o->old_st.st_gid) < 0) {
			/* not root: the file stays ours */
		}
		if (fchmod(o->fd, o->old_st.st_mode & 07777) < 0) {
			fprintf(stderr, "vmm-img: %s: cannot set its mode: %s\n", o->tmp,
				strerror(errno));
			return -errno;
		}
	}
	return img_lock_write(o->fd, o->tmp);
}

int img_output_begin(struct img_output *o, const char *name)
{
	int ret;

	memset(o, 0, sizeof(*o));
	o->fd = -1;
	o->old_fd = -1;
	o->name = name;
	if (!name[0] || name[strlen(name) - 1] == '/') {
		fprintf(stderr, "vmm-img: '%s' is not a file name\n", name);
		return -EINVAL;
	}
	ret = open_existing(o);
	if (ret == 0)
		ret = create_tmp(o);
	return ret;
}

void img_output_unlock_tmp(struct img_output *o)
{
	struct flock fl = { .l_type = F_UNLCK, .l_whence = SEEK_SET };

	if (o->fd >= 0)
		fcntl(o->fd, F_OFD_SETLK, &fl);
}

static void sync_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	char dir[BLK_PATH_MAX];
	int fd;

	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - path) + 1 : 1,
		 slash ? path : ".");
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

int img_output_commit(struct img_output *o)
{
	struct stat now;

	if (!o->nosync && fsync(o->fd) < 0) {
		fprintf(stderr, "vmm-img: %s: sync failed: %s\n", o->tmp, strerror(errno));
		return -errno;
	}
	if (o->old_fd >= 0) {
		if (stat(o->path, &now) < 0 || !same_file(&now, &o->old_st)) {
			fprintf(stderr, "vmm-img: %s was replaced by someone else while vmm-img "
				"wrote the new image; left it alone\n", o->name);
			return -EBUSY;
		}
		if (rename(o->tmp, o->path) < 0) {
			fprintf(stderr, "vmm-img: cannot rename %s to %s: %s\n", o->tmp, o->path,
				strerror(errno));
			return -errno;
		}
	} else if (renameat2(AT_FDCWD, o->tmp, AT_FDCWD, o->path, RENAME_NOREPLACE) < 0) {
		int e = errno;

		/* a filesystem without RENAME_NOREPLACE: link() refuses an existing name too */
		if ((e == EINVAL || e == ENOSYS) && link(o->tmp, o->path) == 0) {
			unlink(o->tmp);
		} else {
			if (e == EINVAL || e == ENOSYS)
				e = errno;
			if (e == EEXIST)
				fprintf(stderr, "vmm-img: %s was created by someone else while "
					"vmm-img wrote the new image; left it alone\n", o->name);
			else
				fprintf(stderr, "vmm-img: cannot rename %s to %s: %s\n", o->tmp,
					o->path, strerror(e));
			return -e;
		}
	}
	o->committed = true;
	if (!o->nosync)
		sync_dir(o->path);
	return 0;
}

void img_output_end(struct img_output *o)
{
	if (!o->committed && o->tmp[0])
		unlink(o->tmp);
	o->tmp[0] = '\0';
	if (o->fd >= 0)
		close(o->fd);
	if (o->old_fd >= 0)
		close(o->old_fd);
	o->fd = -1;
	o->old_fd = -1;
}
