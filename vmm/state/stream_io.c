// SPDX-License-Identifier: MIT
/*
 * Transports for the state serializer (stream.h): a growing memory
 * buffer and a file descriptor.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stream.h"

int state_mem_write(void *opaque, const void *buf, size_t len)
{
	struct state_membuf *m = opaque;
	size_t limit = m->limit ? m->limit : (size_t)STATE_SECTION_MAX * 16;
	size_t cap;
	uint8_t *nb;

	if (len > limit - m->len)
		return -EFBIG;
	if (!m->owned && m->data)
		return -EINVAL;	/* a read buffer: not ours to grow */
	if (!len)
		return 0;
	if (m->len + len > m->cap) {
		cap = m->cap ? m->cap : 4096;
		while (cap < m->len + len)
			cap *= 2;
		nb = realloc(m->data, cap);
		if (!nb)
			return -ENOMEM;
		m->data = nb;
		m->cap = cap;
		m->owned = true;
	}
	memcpy(m->data + m->len, buf, len);
	m->len += len;
	return 0;
}

int state_mem_read(void *opaque, void *buf, size_t len)
{
	struct state_membuf *m = opaque;

	if (len > m->len - m->pos)
		return -ENODATA;
	if (!len)
		return 0;
	memcpy(buf, m->data + m->pos, len);
	m->pos += len;
	return 0;
}

void state_membuf_free(struct state_membuf *m)
{
	if (m->owned)
		free(m->data);
	memset(m, 0, sizeof(*m));
}

int state_fd_write(void *fdp, const void *buf, size_t len)
{
	int fd = *(int *)fdp;
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		p += n;
		len -= n;
	}
	return 0;
}

int state_fd_read(void *fdp, void *buf, size_t len)
{
	int fd = *(int *)fdp;
	uint8_t *p = buf;

	while (len) {
		ssize_t n = read(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -ENODATA;
		p += n;
		len -= n;
	}
	return 0;
}
