// SPDX-License-Identifier: MIT
/*
 * The state serializer: round trip, and each kind of bad input refused
 * with the message that says what is wrong.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "state/stream.h"
#include "version.h"

static const struct state_section_desc known[] = {
	{ STATE_SEC_CONFIG, "config", 1, 4096 },
	{ STATE_SEC_VCPU_LAPIC, "vcpu-lapic", 1, 1024 },
	{ STATE_SEC_VCPU_REGS, "vcpu-regs", 2, 512 },
};
#define NR_KNOWN (sizeof(known) / sizeof(known[0]))

/* A stream: header, config (string + u8/u16/u32/u64), an unknown 0x7777 section, lapic (1024 bytes), END. */
static void build(struct state_membuf *m, bool with_unknown)
{
	struct state_writer w;
	uint8_t lapic[1024];
	unsigned int i;

	for (i = 0; i < sizeof(lapic); i++)
		lapic[i] = i * 7;
	memset(m, 0, sizeof(*m));
	state_writer_init(&w, "state file", state_mem_write, m);
	cr_assert_eq(state_write_header(&w, 0), 0);
	cr_assert_eq(state_begin(&w, STATE_SEC_CONFIG, 1, 0), 0);
	state_put_string(&w, "{\"cpus\":2}");
	state_put_u8(&w, 0xab);
	state_put_u16(&w, 0xbeef);
	state_put_u32(&w, 0xdeadbeef);
	state_put_u64(&w, 0x0123456789abcdefULL);
	cr_assert_eq(state_end(&w), 0, "%s", state_writer_error(&w));
	if (with_unknown) {
		cr_assert_eq(state_begin(&w, 0x7777, 9, 0), 0);
		state_put_u64(&w, 42);
		cr_assert_eq(state_end(&w), 0);
	}
	cr_assert_eq(state_begin(&w, STATE_SEC_VCPU_LAPIC, 1, 0), 0);
	state_put_bytes(&w, lapic, sizeof(lapic));
	cr_assert_eq(state_end(&w), 0);
	cr_assert_eq(state_write_end(&w), 0);
	state_writer_free(&w);
}

/* Reads a stream built by build(): 0, or the first error (message in err). */
static int parse(const uint8_t *data, size_t len, char *err)
{
	struct state_membuf m = { .data = (uint8_t *)data, .len = len };
	struct state_reader r;
	struct state_header h;
	char s[64];
	uint8_t u8, lapic[1024];
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;
	int ret, n = 0;

	state_reader_init(&r, "state file", state_mem_read, &m, known, NR_KNOWN);
	ret = state_read_header(&r, &h);
	while (!ret && (ret = state_next_section(&r)) == 1) {
		n++;
		if (r.type == STATE_SEC_CONFIG) {
			if (!state_get_string(&r, s, sizeof(s) - 1) && !state_get_u8(&r, &u8) &&
			    !state_get_u16(&r, &u16) && !state_get_u32(&r, &u32) &&
			    !state_get_u64(&r, &u64)) {
				cr_assert_str_eq(s, "{\"cpus\":2}");
				cr_assert_eq(u8, 0xab);
				cr_assert_eq(u16, 0xbeef);
				cr_assert_eq(u32, 0xdeadbeef);
				cr_assert_eq(u64, 0x0123456789abcdefULL);
			}
		} else if (r.type == STATE_SEC_VCPU_LAPIC) {
			if (!state_get_bytes(&r, lapic, sizeof(lapic)))
				cr_assert_eq(lapic[1023], (uint8_t)(1023 * 7));
		} else {
			cr_assert_fail("unexpected section 0x%x", r.type);
		}
		ret = state_section_done(&r);
	}
	if (!ret)
		cr_assert_eq(n, 2);
	strcpy(err, state_reader_error(&r));
	state_reader_free(&r);
	return ret;
}

/* Offset of the n-th section header (0: first after the file header). */
static size_t section_off(const struct state_membuf *m, unsigned int n)
{
	size_t off = STATE_HEADER_LEN;
	uint32_t len;

	while (n--) {
		memcpy(&len, m->data + off + 8, 4);
		off += STATE_SECTION_HDR_LEN + len;
	}
	return off;
}

/* Rewrites a section's header field and, optionally, its CRC to match. */
static void patch32(struct state_membuf *m, size_t at, uint32_t v)
{
	memcpy(m->data + at, &v, 4);
}

Test(state_stream, round_trip)
{
	struct state_membuf m;
	char err[STATE_ERR_LEN];

	build(&m, false);
	cr_assert_eq(parse(m.data, m.len, err), 0, "%s", err);
	cr_assert_str_eq(err, "no error");
	state_membuf_free(&m);
}

Test(state_stream, round_trip_fd)
{
	char path[] = "/tmp/test_state_XXXXXX", err[STATE_ERR_LEN];
	struct state_membuf m, in = { 0 };
	int fd = mkstemp(path);
	struct state_reader r;
	struct state_header h;

	cr_assert_geq(fd, 0);
	unlink(path);
	build(&m, true);
	cr_assert_eq(state_fd_write(&fd, m.data, m.len), 0);
	cr_assert_eq(lseek(fd, 0, SEEK_SET), 0);
	in.data = malloc(m.len);
	in.len = m.len;
	cr_assert_eq(state_fd_read(&fd, in.data, in.len), 0);
	cr_assert_eq(memcmp(in.data, m.data, m.len), 0);
	cr_assert_eq(parse(in.data, in.len, err), 0, "%s", err);
	/* reading past the end is ENODATA, which the reader calls truncation */
	cr_assert_eq(state_fd_read(&fd, in.data, 1), -ENODATA);
	cr_assert_eq(lseek(fd, 0, SEEK_SET), 0);
	state_reader_init(&r, "state file", state_fd_read, &fd, known, NR_KNOWN);
	cr_assert_eq(state_read_header(&r, &h), 0);
	cr_assert_str_eq(h.vmm_version, VMM_VERSION);
	state_reader_free(&r);
	free(in.data);
	close(fd);
	state_membuf_free(&m);
}

Test(state_stream, unknown_section_skipped)
{
	struct state_membuf m;
	char err[STATE_ERR_LEN];

	build(&m, true);
	cr_assert_eq(parse(m.data, m.len, err), 0, "%s", err);
	state_membuf_free(&m);
}

Test(state_stream, unknown_required_section_refused)
{
	struct state_membuf m;
	char err[STATE_ERR_LEN];
	uint16_t f = STATE_SECF_REQUIRED;
	size_t off;

	build(&m, true);
	off = section_off(&m, 1);
	memcpy(m.data + off + 6, &f, 2);
	cr_assert_eq(parse(m.data, m.len, err), -EPROTONOSUPPORT);
	cr_assert(strstr(err, "section 2 (type 0x7777) is required"), "%s", err);
	state_membuf_free(&m);
}

Test(state_stream, truncated_everywhere)
{
	struct state_membuf m;
	char err[STATE_ERR_LEN];
	size_t cut;

	build(&m, true);
	for (cut = 0; cut < m.len; cut++) {
		cr_assert_eq(parse(m.data, cut, err), -EBADMSG, "cut at %zu: %s", cut, err);
		cr_assert(strstr(err, "state file: truncated in "), "cut at %zu: %s", cut, err);
	}
	state_membuf_free(&m);
}

Test(state_stream, flipped_bits_refused)
{
	struct state_membuf m;
	char err[STATE_ERR_LEN];
	size_t i;

	build(&m, true);
	/* every single-bit flip anywhere is caught (CRC, magic, or a check) */
	for (i = 0; i < m.len * 8; i++) {
		m.data[i / 8] ^= 1 << (i % 8);
		cr_assert_neq(parse(m.data, m.len, err), 0, "flip of bit %zu accepted", i);
		m.data[i / 8] ^= 1 << (i % 8);
	}
	cr_assert_eq(parse(m.data, m.len, err), 0, "%s", err);
	state_membuf_free(&m);
}

Test(state_stream, crc_mismatch_message)
{
	struct state_membuf m;
	char err[STATE_ERR_LEN];

	build(&m, false);
	m.data[section_off(&m, 1) + STATE_SECTION_HDR_LEN + 100] ^= 0x40;
	cr_assert_eq(parse(m.data, m.len, err), -EBADMSG);
	cr_assert_str_eq(err, "state file: section 0x0107 (vcpu-lapic) CRC mismatch (corrupt data)");
	state_membuf_free(&m);
}

Test(state_stream, newer_section_version_refused)
{
	struct state_membuf m;
	char err[STATE_ERR_LEN];
	uint16_t v = 2;

	build(&m, false);
	memcpy(m.data + section_off(&m, 1) + 4, &v, 2);
	cr_assert_eq(parse(m.data, m.len, err), -EPROTONOSUPPORT);
	cr_assert_str_eq(err, "state file: section 0x0107 (vcpu-lapic) version 2, this vmm reads 1 to 1");
	state_membuf_free(&m);
}

Test(state_stream, huge_length_refused)
{
	struct state_membuf m;
	char err[STATE_ERR_LEN];

	build(&m, true);
	patch32(&m, section_off(&m, 2) + 8, 5000);
	cr_assert_eq(parse(m.data, m.len, err), -EBADMSG);
	cr_assert_str_eq(err, "state file: section 0x0107 (vcpu-lapic) length 5000 exceeds 1024");
	/* an unknown section may not claim gigabytes either */
	patch32(&m, section_off(&m, 1) + 8, 0xfffffff0);
	cr_assert_eq(parse(m.data, m.len, err), -EBADMSG);
	cr_assert(strstr(err, "section 2 (type 0x7777, unknown) length 4294967280 exceeds"), "%s",
		  err);
	state_membuf_free(&m);
}

Test(state_stream, format_version_refused)
{
	struct state_membuf m;
	char err[STATE_ERR_LEN];
	uint32_t c;

	build(&m, false);
	patch32(&m, STATE_MAGIC_LEN, 3);
	c = crc32(0, m.data, STATE_HEADER_LEN - 4);
	patch32(&m, STATE_HEADER_LEN - 4, c);
	cr_assert_eq(parse(m.data, m.len, err), -EPROTONOSUPPORT);
	cr_assert(strstr(err, "state file: format version 3 (written by vmm "), "%s", err);
	cr_assert(strstr(err, "), this vmm reads 1"), "%s", err);
	memcpy(m.data, "VMMSTATX", 8);
	cr_assert_eq(parse(m.data, m.len, err), -EBADMSG);
	cr_assert_str_eq(err, "state file: not a vmm state file (bad magic)");
	state_membuf_free(&m);
}

Test(state_stream, short_and_long_sections)
{
	struct state_membuf m = { 0 };
	struct state_writer w;
	struct state_reader r;
	struct state_header h;
	uint64_t v;
	char s[8];

	state_writer_init(&w, "migration stream", state_mem_write, &m);
	state_write_header(&w, STATE_F_MIGRATION);
	state_begin(&w, STATE_SEC_VCPU_REGS, 2, 0);
	state_put_u32(&w, 7);
	state_end(&w);
	state_begin(&w, STATE_SEC_CONFIG, 1, 0);
	state_put_string(&w, "too long a string");
	state_end(&w);
	cr_assert_eq(state_write_end(&w), 0);
	state_writer_free(&w);

	m.pos = 0;
	state_reader_init(&r, "migration stream", state_mem_read, &m, known, NR_KNOWN);
	cr_assert_eq(state_read_header(&r, &h), 0);
	cr_assert_eq(h.flags, STATE_F_MIGRATION);
	cr_assert_eq(state_next_section(&r), 1);
	cr_assert_eq(r.version, 2);
	cr_assert_eq(state_get_u64(&r, &v), -EBADMSG);
	cr_assert_str_eq(state_reader_error(&r),
			 "migration stream: section 0x0102 (vcpu-regs) ends early: 8 bytes wanted at offset 0 of 4");
	state_reader_free(&r);

	m.pos = 0;
	state_reader_init(&r, "migration stream", state_mem_read, &m, known, NR_KNOWN);
	cr_assert_eq(state_read_header(&r, &h), 0);
	cr_assert_eq(state_next_section(&r), 1);
	cr_assert_eq(state_section_done(&r), -EBADMSG);
	cr_assert(strstr(state_reader_error(&r), "4 unexpected trailing bytes"));
	state_reader_free(&r);

	m.pos = 0;
	state_reader_init(&r, "migration stream", state_mem_read, &m, known, NR_KNOWN);
	cr_assert_eq(state_read_header(&r, &h), 0);
	cr_assert_eq(state_next_section(&r), 1);
	cr_assert_eq(state_get_u32(&r, (uint32_t *)&v), 0);
	cr_assert_eq(state_section_done(&r), 0);
	cr_assert_eq(state_next_section(&r), 1);
	cr_assert_eq(state_get_string(&r, s, sizeof(s) - 1), -EBADMSG);
	cr_assert(strstr(state_reader_error(&r), "string of 17 bytes exceeds 7"));
	state_reader_free(&r);
	state_membuf_free(&m);
}

Test(state_stream, writer_errors)
{
	struct state_membuf m = { .limit = STATE_HEADER_LEN + 20 };
	struct state_writer w;
	static uint8_t big[STATE_SECTION_MAX / 2 + 1];

	state_writer_init(&w, "state file", state_mem_write, &m);
	cr_assert_eq(state_write_header(&w, 0), 0);
	state_put_u8(&w, 1);	/* outside a section */
	cr_assert_eq(state_end(&w), -EINVAL);
	cr_assert_str_eq(state_writer_error(&w), "state file: data written outside a section");
	state_writer_free(&w);

	state_writer_init(&w, "state file", state_mem_write, &m);
	state_begin(&w, STATE_SEC_CONFIG, 1, 0);
	state_put_bytes(&w, big, sizeof(big));
	state_put_bytes(&w, big, sizeof(big));
	cr_assert_eq(state_end(&w), -EFBIG);
	state_writer_free(&w);

	/* the transport's own failure: the membuf limit */
	state_writer_init(&w, "state file", state_mem_write, &m);
	state_begin(&w, STATE_SEC_CONFIG, 1, 0);
	state_put_u64(&w, 1);
	cr_assert_eq(state_end(&w), -EFBIG);
	cr_assert(strstr(state_writer_error(&w), "write failed"));
	state_writer_free(&w);
	state_membuf_free(&m);
}

/* Empty sections and an empty string are legal, on memory and fd transports. */
Test(state_stream, empty_section)
{
	struct state_membuf m = { 0 };
	struct state_writer w;
	struct state_reader r;
	struct state_header h;
	char s[4];

	state_writer_init(&w, "state file", state_mem_write, &m);
	state_write_header(&w, 0);
	state_begin(&w, STATE_SEC_VCPU_LAPIC, 1, 0);
	state_end(&w);
	state_begin(&w, STATE_SEC_CONFIG, 1, 0);
	state_put_string(&w, "");
	state_end(&w);
	cr_assert_eq(state_write_end(&w), 0, "%s", state_writer_error(&w));
	state_writer_free(&w);
	cr_assert_eq(m.len, STATE_HEADER_LEN + 3 * STATE_SECTION_HDR_LEN + 4);

	state_reader_init(&r, "state file", state_mem_read, &m, known, NR_KNOWN);
	cr_assert_eq(state_read_header(&r, &h), 0);
	cr_assert_eq(state_next_section(&r), 1);
	cr_assert_eq(r.len, 0);
	cr_assert_eq(state_section_done(&r), 0);
	cr_assert_eq(state_next_section(&r), 1);
	cr_assert_eq(state_get_string(&r, s, 3), 0);
	cr_assert_str_eq(s, "");
	cr_assert_eq(state_section_done(&r), 0);
	cr_assert_eq(state_next_section(&r), 0);
	cr_assert(r.done);
	cr_assert_eq(state_next_section(&r), 0);
	state_reader_free(&r);
	state_membuf_free(&m);
}
