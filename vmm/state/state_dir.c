// SPDX-License-Identifier: MIT
/*
 * A snapshot directory, crash-safe: see state_dir.h.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/file.h>
#include <sys/stat.h>

#include "log.h"
#include "state_dir.h"

#define MEM_PREFIX "memory-"

bool state_dir_is_memory_name(const char *name)
{
	size_t i, n = strlen(MEM_PREFIX);

	if (strncmp(name, MEM_PREFIX, n) || strlen(name) != n + 6)
		return false;
	for (i = n; name[i]; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
			return false;
	}
	return true;
}

static void init(struct state_dir *d)
{
	memset(d, 0, sizeof(*d));
	d->dir_fd = d->lock_fd = d->state_fd = d->mem_fd = -1;
}

static int fail(struct state_dir *d, const char *what, const char *name)
{
	int ret = -errno;

	log_err("snapshot directory %s: cannot %s%s%s: %s", d->path, what, name ? " " : "",
		name ? name : "", strerror(-ret));
	return ret;
}

static int open_locked(struct state_dir *d, const char *path, bool exclusive)
{
	init(d);
	if (snprintf(d->path, sizeof(d->path), "%s", path) >= (int)sizeof(d->path))
		return -ENAMETOOLONG;
	if (exclusive && mkdir(path, 0700) < 0 && errno != EEXIST)
		return fail(d, "create it", NULL);
	d->dir_fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (d->dir_fd < 0)
		return fail(d, "open it", NULL);
	d->lock_fd = openat(d->dir_fd, STATE_DIR_LOCK,
			    (exclusive ? O_RDWR | O_CREAT : O_RDONLY) | O_CLOEXEC, 0600);
	if (d->lock_fd < 0)
		return fail(d, "open", STATE_DIR_LOCK);
	if (flock(d->lock_fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) < 0) {
		if (errno == EWOULDBLOCK) {
			log_err("snapshot directory %s is in use by another vmm (%s); try again when it is done",
				path, exclusive ? "restoring or saving" : "saving");
			return -EBUSY;
		}
		return fail(d, "lock", STATE_DIR_LOCK);
	}
	return 0;
}

int state_dir_begin(struct state_dir *d, const char *path)
{
	static const char chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	struct timespec ts;
	unsigned int i, tries;
	uint64_t seed;
	int ret;

	ret = open_locked(d, path, true);
	if (ret < 0)
		goto err;
	d->writing = true;
	/* ours alone under the lock: a stale state.tmp is a crashed earlier save */
	d->state_fd = openat(d->dir_fd, STATE_DIR_STATE_TMP,
			     O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (d->state_fd < 0) {
		ret = fail(d, "create", STATE_DIR_STATE_TMP);
		goto err;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	seed = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^ (uint64_t)getpid() << 40;
	for (tries = 0; tries < 100; tries++) {
		strcpy(d->mem_name, MEM_PREFIX);
		for (i = 0; i < 6; i++) {
			seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
			d->mem_name[strlen(MEM_PREFIX) + i] = chars[(seed >> 33) % (sizeof(chars) - 1)];
		}
		d->mem_name[strlen(MEM_PREFIX) + 6] = '\0';
		d->mem_fd = openat(d->dir_fd, d->mem_name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (d->mem_fd >= 0 || errno != EEXIST)
			break;
	}
	if (d->mem_fd < 0) {
		ret = fail(d, "create", d->mem_name);
		goto err;
	}
	return 0;

err:
	state_dir_abort(d);
	return ret;
}

/* Removes memory files other than keep: after the switch, they belong to no snapshot. */
static void remove_old_memory(struct state_dir *d, const char *keep)
{
	struct dirent *e;
	DIR *dir;
	int fd = dup(d->dir_fd);

	if (fd < 0)
		return;
	dir = fdopendir(fd);
	if (!dir) {
		close(fd);
		return;
	}
	while ((e = readdir(dir))) {
		if (state_dir_is_memory_name(e->d_name) && strcmp(e->d_name, keep) &&
		    unlinkat(d->dir_fd, e->d_name, 0) < 0)
			log_warn("snapshot directory %s: cannot remove the old %s: %s", d->path,
				 e->d_name, strerror(errno));
	}
	closedir(dir);
}

int state_dir_commit(struct state_dir *d)
{
	char keep[MEM_FILE_NAME_MAX + 1];
	int ret;

	if (fsync(d->mem_fd) < 0 || fsync(d->state_fd) < 0) {
		ret = fail(d, "flush the new snapshot", NULL);
		goto err;
	}
	if (renameat(d->dir_fd, STATE_DIR_STATE_TMP, d->dir_fd, STATE_DIR_STATE) < 0) {
		ret = fail(d, "rename state.tmp to", STATE_DIR_STATE);
		goto err;
	}
	/* the switch is durable before the old memory goes */
	if (fsync(d->dir_fd) < 0) {
		ret = fail(d, "flush", NULL);
		state_dir_close(d);
		return ret;
	}
	strcpy(keep, d->mem_name);
	remove_old_memory(d, keep);
	state_dir_close(d);
	return 0;

err:
	state_dir_abort(d);
	return ret;
}

void state_dir_abort(struct state_dir *d)
{
	if (d->writing && d->dir_fd >= 0) {
		if (d->state_fd >= 0)
			unlinkat(d->dir_fd, STATE_DIR_STATE_TMP, 0);
		if (d->mem_fd >= 0)
			unlinkat(d->dir_fd, d->mem_name, 0);
	}
	state_dir_close(d);
}

int state_dir_open(struct state_dir *d, const char *path)
{
	int ret = open_locked(d, path, false);

	if (ret < 0)
		goto err;
	d->state_fd = openat(d->dir_fd, STATE_DIR_STATE, O_RDONLY | O_CLOEXEC);
	if (d->state_fd < 0) {
		ret = fail(d, "open", STATE_DIR_STATE);
		goto err;
	}
	return 0;

err:
	state_dir_close(d);
	return ret;
}

int state_dir_open_memory(struct state_dir *d, const char *name)
{
	if (!state_dir_is_memory_name(name)) {
		log_err("snapshot directory %s: the state file names memory file '%s', not one vmm writes",
			d->path, name);
		return -EINVAL;
	}
	d->mem_fd = openat(d->dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (d->mem_fd < 0)
		return fail(d, "open", name);
	strcpy(d->mem_name, name);
	return 0;
}

void state_dir_close(struct state_dir *d)
{
	if (d->mem_fd >= 0)
		close(d->mem_fd);
	if (d->state_fd >= 0)
		close(d->state_fd);
	if (d->lock_fd >= 0)
		close(d->lock_fd);	/* drops the lock */
	if (d->dir_fd >= 0)
		close(d->dir_fd);
	d->mem_fd = d->state_fd = d->lock_fd = d->dir_fd = -1;
	d->writing = false;
}
