// SPDX-License-Identifier: MIT
/* Disks in a state file (disk_state.h). */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "disk_state.h"

const struct state_section_desc disk_state_desc = {
	STATE_SEC_DISK, "disk", 1, DISK_SECTION_MAX,
};

#define QCOW2_SIZE_OFFSET	24	/* big-endian u64 in the qcow2 header */

int disk_state_probe(const char *path, enum disk_format fmt, struct disk_state *out,
		     char *err, size_t errlen)
{
	uint64_t be;
	struct stat st;
	bool guessed;
	int fd, ret;

	memset(out, 0, sizeof(*out));
	if (snprintf(out->path, sizeof(out->path), "%s", path) >= (int)sizeof(out->path))
		return -ENAMETOOLONG;
	if (fmt == DISK_FORMAT_AUTO) {
		ret = blk_probe_file(path, &fmt, &guessed, err, errlen);
		if (ret)
			return ret;
	}
	out->format = fmt;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "disk %s: cannot open: %s", path, strerror(errno));
		return ret;
	}
	if (fmt == DISK_FORMAT_QCOW2) {
		ret = pread(fd, &be, sizeof(be), QCOW2_SIZE_OFFSET) == sizeof(be) ? 0 : -EIO;
		out->size = be64toh(be);
	} else {
		ret = fstat(fd, &st) ? -errno : 0;
		out->size = (uint64_t)st.st_size;
	}
	close(fd);
	if (ret)
		snprintf(err, errlen, "disk %s: cannot read its size", path);
	return ret;
}

int disk_state_write(struct state_writer *w, unsigned int index, const struct disk_state *d)
{
	if (state_begin(w, STATE_SEC_DISK, 1, STATE_SECF_REQUIRED))
		return w->error;
	state_put_u32(w, index);
	state_put_string(w, d->path);
	state_put_u32(w, d->format);
	state_put_u64(w, d->size);
	return state_end(w);
}

int disk_state_parse(struct state_reader *r, struct disk_state *disks, uint32_t *have)
{
	struct disk_state *d;
	uint32_t index, fmt;

	if (state_get_u32(r, &index))
		return r->error;
	if (index >= DISK_STATE_MAX)
		return state_reader_fail(r, "disk %u, at most %u", index, DISK_STATE_MAX);
	if (*have & (1u << index))
		return state_reader_fail(r, "disk %u: section repeated", index);
	d = &disks[index];
	if (state_get_string(r, d->path, BLK_PATH_MAX - 1) || state_get_u32(r, &fmt) ||
	    state_get_u64(r, &d->size))
		return r->error;
	if (fmt != DISK_FORMAT_RAW && fmt != DISK_FORMAT_QCOW2)
		return state_reader_fail(r, "disk %u: format %u", index, fmt);
	d->format = fmt;
	*have |= 1u << index;
	return state_section_done(r);
}
