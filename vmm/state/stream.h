/* SPDX-License-Identifier: MIT */
/*
 * The versioned serializer shared by the state file (snapshot/restore) and
 * the migration stream.  docs/snapshot.md describes the bytes.
 *
 *   header:  "VMMSTATE" | u32 format version | u32 flags |
 *            char vmm_version[32] (NUL-padded) | u32 crc32 of the above
 *   section: u32 type | u16 version | u16 flags | u32 length | u32 crc32
 *            over the 12 bytes before it, then the payload | payload[length]
 *   ...      a section of type STATE_SEC_END (length 0) ends the stream.
 *
 * All integers little-endian.  The writer buffers one section so its length
 * is known before the payload goes out (streams cannot seek back).  The
 * reader never trusts a length: every section is checked against a cap
 * (its type's max_len, or STATE_SECTION_MAX for types it skips) before a
 * byte is allocated, and against its CRC before a field is parsed.
 * A reader skips a section whose type it does not know, unless the writer
 * set STATE_SECF_REQUIRED on it, and refuses a known section whose version
 * is newer than it reads.
 *
 * Errors: every function returns 0 (or 1, below) or -errno; the reader and
 * writer keep the first error as text, e.g.
 *   "state file: section 0x0107 (vcpu-lapic) length 5000 exceeds 1024"
 * for the caller to print (state_reader_error()).
 */
#ifndef VMM_STATE_STREAM_H
#define VMM_STATE_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STATE_MAGIC		"VMMSTATE"
#define STATE_MAGIC_LEN		8
#define STATE_FORMAT_VERSION	1
#define STATE_VMM_VERSION_LEN	32
#define STATE_HEADER_LEN	(STATE_MAGIC_LEN + 4 + 4 + STATE_VMM_VERSION_LEN + 4)
#define STATE_SECTION_HDR_LEN	16
/* hard cap on any one section, known or skipped */
#define STATE_SECTION_MAX	(16u << 20)
#define STATE_ERR_LEN		256

/* header flags */
#define STATE_F_MIGRATION	(1u << 0)	/* a migration stream, not a state file */
#define STATE_F_KNOWN		STATE_F_MIGRATION

/* section flags */
#define STATE_SECF_REQUIRED	(1u << 0)	/* a reader that does not know the type must refuse */
#define STATE_SECF_KNOWN	STATE_SECF_REQUIRED

/*
 * Section types.  Numbers are never reused; a changed payload layout gets
 * a new section version, not a new type.  Per-vCPU sections start with a
 * u32 vCPU index.  docs/snapshot.md lists each payload.
 */
enum state_section_type {
	STATE_SEC_END		= 0x0000,
	STATE_SEC_CONFIG	= 0x0001,	/* the VM's config JSON (string) */
	STATE_SEC_HOST		= 0x0002,	/* host CPUID/KVM fingerprint */
	STATE_SEC_MEMORY	= 0x0003,	/* RAM layout + memory file name */
	STATE_SEC_DISK		= 0x0004,	/* one disk: path, size, format */

	STATE_SEC_VCPU_CPUID	= 0x0100,
	STATE_SEC_VCPU_MP_STATE	= 0x0101,
	STATE_SEC_VCPU_REGS	= 0x0102,
	STATE_SEC_VCPU_SREGS	= 0x0103,
	STATE_SEC_VCPU_XSAVE	= 0x0104,
	STATE_SEC_VCPU_XCRS	= 0x0105,
	STATE_SEC_VCPU_DEBUGREGS = 0x0106,
	STATE_SEC_VCPU_LAPIC	= 0x0107,
	STATE_SEC_VCPU_MSRS	= 0x0108,
	STATE_SEC_VCPU_EVENTS	= 0x0109,

	STATE_SEC_VM_PIC_MASTER	= 0x0200,
	STATE_SEC_VM_PIC_SLAVE	= 0x0201,
	STATE_SEC_VM_IOAPIC	= 0x0202,
	STATE_SEC_VM_PIT2	= 0x0203,
	STATE_SEC_VM_CLOCK	= 0x0204,

	/* 0x1000-0x1fff: devices (the device list's save slots), 0x2000-: migration */
	STATE_SEC_DEVICE_FIRST	= 0x1000,
	STATE_SEC_DEVICE_LAST	= 0x1fff,
	STATE_SEC_MIG_PAGES	= 0x2000,
};

/* Moves exactly len bytes or fails: 0 or -errno.  A reader at end of input returns -ENODATA. */
typedef int (*state_write_fn)(void *opaque, const void *buf, size_t len);
typedef int (*state_read_fn)(void *opaque, void *buf, size_t len);

struct state_header {
	uint32_t format_version;
	uint32_t flags;
	char vmm_version[STATE_VMM_VERSION_LEN + 1];
};

/* What a reader knows about one section type. */
struct state_section_desc {
	uint32_t type;
	const char *name;
	uint16_t max_version;	/* newest version this vmm reads */
	uint32_t max_len;	/* <= STATE_SECTION_MAX */
};

struct state_writer {
	state_write_fn write;
	void *opaque;
	const char *what;	/* "state file", "migration stream" */
	uint8_t *buf;		/* the open section's payload */
	size_t len, cap;
	uint32_t type;
	uint16_t version, flags;
	bool in_section;
	int error;		/* first error, sticky */
	char err[STATE_ERR_LEN];
};

struct state_reader {
	state_read_fn read;
	void *opaque;
	const char *what;
	const struct state_section_desc *known;
	size_t nr_known;
	const struct state_section_desc *desc;	/* the current section's */
	uint8_t *buf;
	size_t cap;
	size_t len, pos;	/* current section payload and read position */
	uint32_t type;
	uint16_t version;
	unsigned int index;	/* sections read so far, END included */
	bool done;		/* END seen */
	int error;
	char err[STATE_ERR_LEN];
};

/* ---- writer ---- */
void state_writer_init(struct state_writer *w, const char *what, state_write_fn fn, void *opaque);
void state_writer_free(struct state_writer *w);
int state_write_header(struct state_writer *w, uint32_t flags);
int state_begin(struct state_writer *w, uint32_t type, uint16_t version, uint16_t flags);
/* The put functions keep the first error in w and return nothing; state_end() reports it. */
void state_put_u8(struct state_writer *w, uint8_t v);
void state_put_u16(struct state_writer *w, uint16_t v);
void state_put_u32(struct state_writer *w, uint32_t v);
void state_put_u64(struct state_writer *w, uint64_t v);
void state_put_bytes(struct state_writer *w, const void *p, size_t len);
/* u32 length + bytes, no NUL */
void state_put_string(struct state_writer *w, const char *s);
int state_end(struct state_writer *w);
/* Writes the END section: the stream is complete. */
int state_write_end(struct state_writer *w);
const char *state_writer_error(const struct state_writer *w);

/* ---- reader ---- */
void state_reader_init(struct state_reader *r, const char *what, state_read_fn fn, void *opaque,
		       const struct state_section_desc *known, size_t nr_known);
void state_reader_free(struct state_reader *r);
/* Checks magic, CRC, format version (must be STATE_FORMAT_VERSION) and flags. */
int state_read_header(struct state_reader *r, struct state_header *h);
/*
 * Reads the next known section, skipping (after checking its CRC) any whose
 * type is unknown.  1: a section is ready (r->type, r->version, r->desc);
 * 0: END reached; -errno: bad input.
 */
int state_next_section(struct state_reader *r);
/* The get functions return 0 or -EBADMSG (the section ends early; message kept). */
int state_get_u8(struct state_reader *r, uint8_t *v);
int state_get_u16(struct state_reader *r, uint16_t *v);
int state_get_u32(struct state_reader *r, uint32_t *v);
int state_get_u64(struct state_reader *r, uint64_t *v);
int state_get_bytes(struct state_reader *r, void *p, size_t len);
/* A string of at most max bytes (excluding NUL) with no NUL inside, into dst[max + 1]. */
int state_get_string(struct state_reader *r, char *dst, size_t max);
size_t state_remaining(const struct state_reader *r);
/* Ends the current section: -EBADMSG if payload bytes are left unread. */
int state_section_done(struct state_reader *r);
/* Records a semantic error in the current section ("value out of range") and returns -EINVAL. */
int state_reader_fail(struct state_reader *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
const char *state_reader_error(const struct state_reader *r);

/* ---- transports ---- */
struct state_membuf {
	uint8_t *data;
	size_t len;	/* bytes written / available */
	size_t pos;	/* read position */
	size_t cap;	/* writer: allocated bytes */
	size_t limit;	/* writer: refuse to grow past this (0: STATE_SECTION_MAX * 16) */
	bool owned;	/* data was malloc()ed by the writer */
};
int state_mem_write(void *membuf, const void *buf, size_t len);
int state_mem_read(void *membuf, void *buf, size_t len);
void state_membuf_free(struct state_membuf *m);
/* opaque: a pointer to an int fd.  EINTR and short transfers are retried. */
int state_fd_write(void *fdp, const void *buf, size_t len);
int state_fd_read(void *fdp, void *buf, size_t len);

#endif
