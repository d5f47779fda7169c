// SPDX-License-Identifier: MIT
/*
 * iovec arithmetic and bounce buffers.  With cache=none the image is opened
 * O_DIRECT, and the kernel wants every buffer address and length aligned to
 * img->align; a guest's buffers need not be, so such requests are copied
 * through one aligned buffer.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "block/engine.h"

int blk_iov_len(const struct iovec *iov, unsigned int cnt, uint64_t *len)
{
	uint64_t total = 0;
	unsigned int i;

	for (i = 0; i < cnt; i++) {
		if (iov[i].iov_len > UINT64_MAX - total)
			return -EINVAL;
		total += iov[i].iov_len;
	}
	if (total > SIZE_MAX / 2)
		return -EINVAL;
	*len = total;
	return 0;
}

bool blk_iov_aligned(const struct iovec *iov, unsigned int cnt, unsigned int align)
{
	unsigned int i;

	if (align <= 1)
		return true;
	for (i = 0; i < cnt; i++) {
		if ((uintptr_t)iov[i].iov_base % align || iov[i].iov_len % align)
			return false;
	}
	return true;
}

void *blk_bounce_alloc(size_t len, unsigned int align)
{
	void *p;

	if (align < sizeof(void *))
		align = sizeof(void *);
	if (posix_memalign(&p, align, len ? len : align))
		return NULL;
	return p;
}

void blk_iov_to_buf(const struct iovec *iov, unsigned int cnt, void *buf, size_t len)
{
	uint8_t *dst = buf;
	unsigned int i;

	for (i = 0; i < cnt && len; i++) {
		size_t n = iov[i].iov_len < len ? iov[i].iov_len : len;

		memcpy(dst, iov[i].iov_base, n);
		dst += n;
		len -= n;
	}
}

void blk_buf_to_iov(const void *buf, size_t len, const struct iovec *iov, unsigned int cnt)
{
	const uint8_t *src = buf;
	unsigned int i;

	for (i = 0; i < cnt && len; i++) {
		size_t n = iov[i].iov_len < len ? iov[i].iov_len : len;

		memcpy(iov[i].iov_base, src, n);
		src += n;
		len -= n;
	}
}

unsigned int blk_iov_skip(const struct iovec *iov, unsigned int cnt, size_t skip,
			  struct iovec *out)
{
	unsigned int i, n = 0;

	for (i = 0; i < cnt; i++) {
		if (skip >= iov[i].iov_len) {
			skip -= iov[i].iov_len;
			continue;
		}
		out[n].iov_base = (uint8_t *)iov[i].iov_base + skip;
		out[n].iov_len = iov[i].iov_len - skip;
		skip = 0;
		n++;
	}
	return n;
}

int blk_range_check(const struct blk_image *img, uint64_t off, uint64_t len)
{
	if (off > img->size || len > img->size - off)
		return -EINVAL;
	return 0;
}
