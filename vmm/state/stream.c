// SPDX-License-Identifier: MIT
/*
 * The versioned serializer: see stream.h for the layout and the rules.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "stream.h"
#include "version.h"

static void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = v;
	p[1] = v >> 8;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	put_le16(p, v);
	put_le16(p + 2, v >> 16);
}

static uint16_t get_le16(const uint8_t *p)
{
	return p[0] | (uint16_t)p[1] << 8;
}

static uint32_t get_le32(const uint8_t *p)
{
	return get_le16(p) | (uint32_t)get_le16(p + 2) << 16;
}

static uint32_t crc(const void *p, size_t len)
{
	/* zlib's crc32 takes uInt lengths: sections are capped far below 4 GiB */
	return crc32(0L, p, (uInt)len);
}

/* ---------------------------------------------------------------- writer */

__attribute__((format(printf, 3, 4)))
static int wfail(struct state_writer *w, int err, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (w->error)
		return w->error;
	w->error = err;
	n = snprintf(w->err, sizeof(w->err), "%s: ", w->what);
	va_start(ap, fmt);
	vsnprintf(w->err + n, sizeof(w->err) - n, fmt, ap);
	va_end(ap);
	return err;
}

void state_writer_init(struct state_writer *w, const char *what, state_write_fn fn, void *opaque)
{
	memset(w, 0, sizeof(*w));
	w->what = what;
	w->write = fn;
	w->opaque = opaque;
}

void state_writer_free(struct state_writer *w)
{
	free(w->buf);
	w->buf = NULL;
	w->cap = w->len = 0;
}

static int wout(struct state_writer *w, const void *p, size_t len)
{
	int ret;

	if (w->error)
		return w->error;
	if (!len)
		return 0;
	ret = w->write(w->opaque, p, len);
	if (ret < 0)
		return wfail(w, ret, "write failed: %s", strerror(-ret));
	return 0;
}

int state_write_header(struct state_writer *w, uint32_t flags)
{
	uint8_t h[STATE_HEADER_LEN] = { 0 };
	uint8_t *p = h;

	memcpy(p, STATE_MAGIC, STATE_MAGIC_LEN);
	p += STATE_MAGIC_LEN;
	put_le32(p, STATE_FORMAT_VERSION);
	put_le32(p + 4, flags);
	p += 8;
	strncpy((char *)p, VMM_VERSION, STATE_VMM_VERSION_LEN - 1);
	p += STATE_VMM_VERSION_LEN;
	put_le32(p, crc(h, p - h));
	return wout(w, h, sizeof(h));
}

int state_begin(struct state_writer *w, uint32_t type, uint16_t version, uint16_t flags)
{
	if (w->error)
		return w->error;
	if (w->in_section)
		return wfail(w, -EINVAL, "section 0x%04x begun inside section 0x%04x", type, w->type);
	w->in_section = true;
	w->type = type;
	w->version = version;
	w->flags = flags;
	w->len = 0;
	return 0;
}

static void wput(struct state_writer *w, const void *p, size_t len)
{
	size_t cap;
	uint8_t *nb;

	if (w->error)
		return;
	if (!w->in_section) {
		wfail(w, -EINVAL, "data written outside a section");
		return;
	}
	if (len > STATE_SECTION_MAX - w->len) {
		wfail(w, -EFBIG, "section 0x%04x grows past %u bytes", w->type, STATE_SECTION_MAX);
		return;
	}
	if (w->len + len > w->cap) {
		cap = w->cap ? w->cap : 256;
		while (cap < w->len + len)
			cap *= 2;
		if (cap > STATE_SECTION_MAX)
			cap = STATE_SECTION_MAX;
		nb = realloc(w->buf, cap);
		if (!nb) {
			wfail(w, -ENOMEM, "out of memory for section 0x%04x", w->type);
			return;
		}
		w->buf = nb;
		w->cap = cap;
	}
	if (len)
		memcpy(w->buf + w->len, p, len);
	w->len += len;
}

void state_put_u8(struct state_writer *w, uint8_t v)
{
	wput(w, &v, 1);
}

void state_put_u16(struct state_writer *w, uint16_t v)
{
	uint8_t b[2] = { 0 };

	put_le16(b, v);
	wput(w, b, 2);
}

void state_put_u32(struct state_writer *w, uint32_t v)
{
	uint8_t b[4] = { 0 };

	put_le32(b, v);
	wput(w, b, 4);
}

void state_put_u64(struct state_writer *w, uint64_t v)
{
	uint8_t b[8] = { 0 };

	put_le32(b, (uint32_t)v);
	put_le32(b + 4, v >> 32);
	wput(w, b, 8);
}

void state_put_bytes(struct state_writer *w, const void *p, size_t len)
{
	wput(w, p, len);
}

void state_put_string(struct state_writer *w, const char *s)
{
	size_t n = strlen(s);

	if (n > STATE_SECTION_MAX) {
		wfail(w, -EFBIG, "string of %zu bytes", n);
		return;
	}
	state_put_u32(w, (uint32_t)n);
	wput(w, s, n);
}

int state_end(struct state_writer *w)
{
	uint8_t h[STATE_SECTION_HDR_LEN];

	if (w->error)
		return w->error;
	if (!w->in_section)
		return wfail(w, -EINVAL, "section ended twice");
	w->in_section = false;
	put_le32(h, w->type);
	put_le16(h + 4, w->version);
	put_le16(h + 6, w->flags);
	put_le32(h + 8, (uint32_t)w->len);
	put_le32(h + 12, crc32(crc(h, 12), w->len ? w->buf : (const uint8_t *)"", (uInt)w->len));
	if (wout(w, h, sizeof(h)) < 0 || wout(w, w->buf, w->len) < 0)
		return w->error;
	return 0;
}

int state_write_end(struct state_writer *w)
{
	int ret = state_begin(w, STATE_SEC_END, 1, 0);

	return ret ? ret : state_end(w);
}

const char *state_writer_error(const struct state_writer *w)
{
	return w->error ? w->err : "no error";
}

/* ---------------------------------------------------------------- reader */

static int rvfail(struct state_reader *r, int err, const char *fmt, va_list ap)
{
	int n;

	if (r->error)
		return r->error;
	r->error = err;
	n = snprintf(r->err, sizeof(r->err), "%s: ", r->what);
	vsnprintf(r->err + n, sizeof(r->err) - n, fmt, ap);
	return err;
}

__attribute__((format(printf, 3, 4)))
static int rfail(struct state_reader *r, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	rvfail(r, err, fmt, ap);
	va_end(ap);
	return r->error;
}

void state_reader_init(struct state_reader *r, const char *what, state_read_fn fn, void *opaque,
		       const struct state_section_desc *known, size_t nr_known)
{
	memset(r, 0, sizeof(*r));
	r->what = what;
	r->read = fn;
	r->opaque = opaque;
	r->known = known;
	r->nr_known = nr_known;
}

void state_reader_free(struct state_reader *r)
{
	free(r->buf);
	r->buf = NULL;
	r->cap = r->len = r->pos = 0;
}

/* where: what was being read, for the "truncated" message */
static int rin(struct state_reader *r, void *p, size_t len, const char *where)
{
	int ret;

	if (r->error)
		return r->error;
	if (!len)
		return 0;
	ret = r->read(r->opaque, p, len);
	if (ret == -ENODATA)
		return rfail(r, -EBADMSG, "truncated in %s", where);
	if (ret < 0)
		return rfail(r, ret, "read failed in %s: %s", where, strerror(-ret));
	return 0;
}

int state_read_header(struct state_reader *r, struct state_header *h)
{
	uint8_t b[STATE_HEADER_LEN];
	const uint8_t *p = b;

	if (rin(r, b, sizeof(b), "the header") < 0)
		return r->error;
	if (memcmp(p, STATE_MAGIC, STATE_MAGIC_LEN))
		return rfail(r, -EBADMSG, "not a vmm state file (bad magic)");
	p += STATE_MAGIC_LEN;
	if (get_le32(b + STATE_HEADER_LEN - 4) != crc(b, STATE_HEADER_LEN - 4))
		return rfail(r, -EBADMSG, "header CRC mismatch (corrupt file)");
	memset(h, 0, sizeof(*h));
	h->format_version = get_le32(p);
	h->flags = get_le32(p + 4);
	memcpy(h->vmm_version, p + 8, STATE_VMM_VERSION_LEN);
	h->vmm_version[STATE_VMM_VERSION_LEN] = '\0';
	if (h->format_version != STATE_FORMAT_VERSION)
		return rfail(r, -EPROTONOSUPPORT,
			     "format version %u (written by vmm %.32s), this vmm reads %u",
			     h->format_version, h->vmm_version, STATE_FORMAT_VERSION);
	if (h->flags & ~STATE_F_KNOWN)
		return rfail(r, -EPROTONOSUPPORT, "unknown header flags 0x%x (written by vmm %.32s)",
			     h->flags & ~STATE_F_KNOWN, h->vmm_version);
	return 0;
}

static const struct state_section_desc *find_desc(const struct state_reader *r, uint32_t type)
{
	size_t i;

	for (i = 0; i < r->nr_known; i++)
		if (r->known[i].type == type)
			return &r->known[i];
	return NULL;
}

static int reserve(struct state_reader *r, size_t len)
{
	uint8_t *nb;

	if (len <= r->cap)
		return 0;
	nb = realloc(r->buf, len);
	if (!nb)
		return rfail(r, -ENOMEM, "out of memory for a %zu-byte section", len);
	r->buf = nb;
	r->cap = len;
	return 0;
}

/* Reads and CRC-checks an unknown section's payload in bounded chunks. */
static int skip_payload(struct state_reader *r, const uint8_t *h, uint32_t type, uint32_t len,
			uint32_t want)
{
	uint8_t chunk[4096];
	uLong c = crc(h, 12);

	while (len) {
		uint32_t n = len < sizeof(chunk) ? len : sizeof(chunk);

		if (rin(r, chunk, n, "a skipped section") < 0)
			return r->error;
		c = crc32(c, chunk, n);
		len -= n;
	}
	if ((uint32_t)c != want)
		return rfail(r, -EBADMSG, "section %u (type 0x%04x, unknown) CRC mismatch",
			     r->index, type);
	return 0;
}

int state_next_section(struct state_reader *r)
{
	uint8_t h[STATE_SECTION_HDR_LEN];
	const struct state_section_desc *d;
	uint32_t type, len, want;
	uint16_t version, flags;

	if (r->error)
		return r->error;
	if (r->done)
		return 0;
	for (;;) {
		r->desc = NULL;
		r->len = r->pos = 0;
		if (rin(r, h, sizeof(h), "a section header (no end marker)") < 0)
			return r->error;
		r->index++;
		type = get_le32(h);
		version = get_le16(h + 4);
		flags = get_le16(h + 6);
		len = get_le32(h + 8);
		want = get_le32(h + 12);
		if (flags & ~STATE_SECF_KNOWN)
			return rfail(r, -EPROTONOSUPPORT,
				     "section %u (type 0x%04x) has unknown flags 0x%x",
				     r->index, type, flags & ~STATE_SECF_KNOWN);
		if (type == STATE_SEC_END) {
			if (len || version != 1 || crc(h, 12) != want)
				return rfail(r, -EBADMSG, "bad end marker (version %u, length %u)",
					     version, len);
			r->done = true;
			return 0;
		}
		d = find_desc(r, type);
		if (!d) {
			if (flags & STATE_SECF_REQUIRED)
				return rfail(r, -EPROTONOSUPPORT,
					     "section %u (type 0x%04x) is required but this vmm does not know it (a newer vmm wrote it)",
					     r->index, type);
			if (len > STATE_SECTION_MAX)
				return rfail(r, -EBADMSG,
					     "section %u (type 0x%04x, unknown) length %u exceeds %u",
					     r->index, type, len, STATE_SECTION_MAX);
			if (skip_payload(r, h, type, len, want) < 0)
				return r->error;
			continue;
		}
		if (!version || version > d->max_version)
			return rfail(r, -EPROTONOSUPPORT,
				     "section 0x%04x (%s) version %u, this vmm reads 1 to %u",
				     type, d->name, version, d->max_version);
		if (len > d->max_len || len > STATE_SECTION_MAX)
			return rfail(r, -EBADMSG, "section 0x%04x (%s) length %u exceeds %u",
				     type, d->name, len,
				     d->max_len < STATE_SECTION_MAX ? d->max_len : STATE_SECTION_MAX);
		if (reserve(r, len) < 0 || rin(r, r->buf, len, d->name) < 0)
			return r->error;
		if (crc32(crc(h, 12), len ? r->buf : (const uint8_t *)"", len) != want)
			return rfail(r, -EBADMSG, "section 0x%04x (%s) CRC mismatch (corrupt data)",
				     type, d->name);
		r->desc = d;
		r->type = type;
		r->version = version;
		r->len = len;
		return 1;
	}
}

static int rget(struct state_reader *r, void *p, size_t len)
{
	if (r->error)
		return r->error;
	if (!r->desc)
		return rfail(r, -EINVAL, "field read outside a section");
	if (len > r->len - r->pos)
		return rfail(r, -EBADMSG,
			     "section 0x%04x (%s) ends early: %zu bytes wanted at offset %zu of %zu",
			     r->type, r->desc->name, len, r->pos, r->len);
	if (len)
		memcpy(p, r->buf + r->pos, len);
	r->pos += len;
	return 0;
}

int state_get_u8(struct state_reader *r, uint8_t *v)
{
	return rget(r, v, 1);
}

int state_get_u16(struct state_reader *r, uint16_t *v)
{
	uint8_t b[2] = { 0 };
	int ret = rget(r, b, 2);

	if (!ret)
		*v = get_le16(b);
	return ret;
}

int state_get_u32(struct state_reader *r, uint32_t *v)
{
	uint8_t b[4] = { 0 };
	int ret = rget(r, b, 4);

	if (!ret)
		*v = get_le32(b);
	return ret;
}

int state_get_u64(struct state_reader *r, uint64_t *v)
{
	uint8_t b[8] = { 0 };
	int ret = rget(r, b, 8);

	if (!ret)
		*v = get_le32(b) | (uint64_t)get_le32(b + 4) << 32;
	return ret;
}

int state_get_bytes(struct state_reader *r, void *p, size_t len)
{
	return rget(r, p, len);
}

int state_get_string(struct state_reader *r, char *dst, size_t max)
{
	uint32_t n = 0;

	if (state_get_u32(r, &n) < 0)
		return r->error;
	if (n > max)
		return rfail(r, -EBADMSG, "section 0x%04x (%s): string of %u bytes exceeds %zu",
			     r->type, r->desc->name, n, max);
	if (rget(r, dst, n) < 0)
		return r->error;
	if (memchr(dst, '\0', n))
		return rfail(r, -EBADMSG, "section 0x%04x (%s): string holds a NUL byte",
			     r->type, r->desc->name);
	dst[n] = '\0';
	return 0;
}

size_t state_remaining(const struct state_reader *r)
{
	return r->len - r->pos;
}

int state_section_done(struct state_reader *r)
{
	if (r->error)
		return r->error;
	if (r->desc && r->pos != r->len)
		return rfail(r, -EBADMSG, "section 0x%04x (%s) version %u has %zu unexpected trailing bytes",
			     r->type, r->desc->name, r->version, r->len - r->pos);
	r->desc = NULL;
	return 0;
}

int state_reader_fail(struct state_reader *r, const char *fmt, ...)
{
	char msg[STATE_ERR_LEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (r->desc)
		return rfail(r, -EINVAL, "section 0x%04x (%s): %s", r->type, r->desc->name, msg);
	return rfail(r, -EINVAL, "%s", msg);
}

const char *state_reader_error(const struct state_reader *r)
{
	return r->error ? r->err : "no error";
}
