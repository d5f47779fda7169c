// SPDX-License-Identifier: MIT
/*
 * A whole state file through pass one of a restore (state/state_file.c),
 * without KVM: a complete file parses into every part; a file missing a
 * part, truncated anywhere, with a flipped byte anywhere, a newer format
 * version, the migration flag or trailing bytes is refused with a message;
 * the host capability comparison.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "mem/guest_mem.h"
#include "state/state_file.h"

#define CONFIG "{\"payload\":{\"kernel\":\"/k\"},\"cpus\":{\"boot_vcpus\":2}}"

static void fill_vcpu(struct vcpu_saved *s, uint32_t index)
{
	memset(s, 0, sizeof(*s));
	s->index = index;
	s->cpuid = calloc(1, sizeof(*s->cpuid) + sizeof(struct kvm_cpuid_entry2));
	s->cpuid->nent = 1;
	s->cpuid->entries[0].eax = 0xd;
	s->mp_state.mp_state = KVM_MP_STATE_RUNNABLE;
	s->regs.rip = 0x100000 + index;
	s->xsave_size = 4096;
	s->xsave = calloc(1, s->xsave_size);
	s->msrs = calloc(1, sizeof(*s->msrs) + sizeof(struct kvm_msr_entry));
	s->msrs->nmsrs = 1;
	s->msrs->entries[0] = (struct kvm_msr_entry){ .index = MSR_IA32_TSC_IDX, .data = 42 };
	s->have = (1u << VCPU_NR_PARTS) - 1;
}

/* skip: a part left out ("config", "memory", "vcpu1-lapic", "clock"); devices: sections */
static void build(struct state_membuf *m, const char *skip, unsigned int devices, uint32_t flags)
{
	struct guest_mem gm;
	struct state_writer w;
	struct vm_kvm_saved vs;
	struct state_host h = { .kvm_api = 12, .nr_caps = 1, .caps = { { 7, 1 } } };
	struct vcpu_saved v;
	unsigned int i;

	memset(m, 0, sizeof(*m));
	memset(&gm, 0, sizeof(gm));
	cr_assert_eq(gm_add_region(&gm, 0, 2u << 20, (void *)0x10000000), 0);
	cr_assert_eq(gm_add_region(&gm, 4ULL << 30, 1u << 20, (void *)0x20000000), 0);
	state_writer_init(&w, "state file", state_mem_write, m);
	cr_assert_eq(state_write_header(&w, flags), 0);
	if (strcmp(skip, "config"))
		cr_assert_eq(state_config_write(CONFIG, &w), 0);
	cr_assert_eq(state_host_write(&h, &w), 0);
	if (strcmp(skip, "memory"))
		cr_assert_eq(mem_file_write_layout(&w, &gm, "memory-abc123"), 0);
	for (i = 0; i < 2; i++) {
		fill_vcpu(&v, i);
		if (i == 1 && !strcmp(skip, "vcpu1-lapic"))
			v.have &= ~(1u << VCPU_PART_LAPIC);
		cr_assert_eq(vcpu_saved_write(&v, &w), 0);
		vcpu_saved_free(&v);
	}
	memset(&vs, 0, sizeof(vs));
	vs.have = (1u << VM_KVM_NR_PARTS) - 1;
	if (!strcmp(skip, "clock"))
		vs.have &= ~(1u << VM_KVM_CLOCK);
	vs.chip[1].chip_id = 1;
	vs.chip[2].chip_id = 2;
	vs.clock.clock = 123456;
	cr_assert_eq(vm_kvm_saved_write(&vs, &w), 0);
	for (i = 0; i < devices; i++) {
		cr_assert_eq(state_begin(&w, STATE_SEC_DEVICE_FIRST + i, 1, STATE_SECF_REQUIRED), 0);
		state_put_string(&w, "dev");
		state_put_u32(&w, i);
		cr_assert_eq(state_end(&w), 0);
	}
	cr_assert_eq(state_write_end(&w), 0);
	state_writer_free(&w);
}

static int parse(struct state_membuf *m, char *err)
{
	struct state_image img;
	int ret;

	err[0] = '\0';
	ret = state_image_parse(&img, m->data, m->len, err, 256);
	state_image_free(&img);
	return ret;
}

Test(state_file, complete_file_parses)
{
	struct state_membuf m;
	struct state_image img;
	char err[256] = "";

	build(&m, "", 3, 0);
	cr_assert_eq(state_image_parse(&img, m.data, m.len, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(img.config, CONFIG);
	cr_assert_eq(img.nr_vcpus, 2);
	cr_assert_eq(img.vcpus[1].regs.rip, 0x100001);
	cr_assert_eq(img.nr_regions, 2);
	cr_assert_eq(img.ram_size, 3u << 20);
	cr_assert_eq(img.regions[1].gpa, 4ULL << 30);
	cr_assert_eq(img.regions[1].off, 2u << 20);
	cr_assert_str_eq(img.mem_file, "memory-abc123");
	cr_assert(img.have_host);
	cr_assert_eq(img.host.kvm_api, 12);
	cr_assert_eq(img.vm.clock.clock, 123456);
	cr_assert_eq(img.nr_devices, 3);
	state_image_free(&img);
	state_membuf_free(&m);
}

Test(state_file, missing_parts_refused)
{
	static const struct { const char *skip, *msg; } cases[] = {
		{ "config", "no config section" },
		{ "memory", "no memory section" },
		{ "vcpu1-lapic", "vCPU 1" },
		{ "clock", "no clock section" },
	};
	struct state_membuf m;
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		build(&m, cases[i].skip, 0, 0);
		cr_assert_eq(parse(&m, err), -EINVAL, "%s", cases[i].skip);
		cr_assert(strstr(err, cases[i].msg), "%s: %s", cases[i].skip, err);
		state_membuf_free(&m);
	}
}

Test(state_file, every_truncation_and_flip_refused)
{
	struct state_membuf m;
	char err[256];
	size_t len, i;

	build(&m, "", 2, 0);
	len = m.len;
	for (i = 0; i < len; i += 7) {
		m.len = i;
		cr_assert_lt(parse(&m, err), 0, "truncated to %zu accepted", i);
		cr_assert(err[0], "truncated to %zu: no message", i);
	}
	m.len = len;
	for (i = 0; i < len; i += 5) {
		m.data[i] ^= 0x01;
		cr_assert_lt(parse(&m, err), 0, "byte %zu flipped accepted", i);
		cr_assert(err[0]);
		m.data[i] ^= 0x01;
	}
	cr_assert_eq(parse(&m, err), 0, "%s", err);
	state_membuf_free(&m);
}

Test(state_file, migration_stream_and_trailing_bytes_refused)
{
	struct state_membuf m;
	char err[256];

	build(&m, "", 0, STATE_F_MIGRATION);
	cr_assert_lt(parse(&m, err), 0);
	cr_assert(strstr(err, "migration stream"), "%s", err);
	state_membuf_free(&m);

	build(&m, "", 0, 0);
	state_mem_write(&m, "x", 1);
	cr_assert_lt(parse(&m, err), 0);
	cr_assert(strstr(err, "after the end"), "%s", err);
	state_membuf_free(&m);
}

Test(state_file, newer_format_version_refused)
{
	struct state_membuf m;
	char err[256];

	build(&m, "", 0, 0);
	m.data[8] = 2;	/* the header CRC now fails first; a real v2 header: */
	cr_assert_lt(parse(&m, err), 0);
	{
		uint32_t c = (uint32_t)crc32(0L, m.data, 48);

		memcpy(m.data + 48, &c, 4);
	}
	cr_assert_lt(parse(&m, err), 0);
	cr_assert(strstr(err, "format version 2"), "%s", err);
	state_membuf_free(&m);
}

Test(state_file, host_capabilities)
{
	struct state_host saved = { .nr_caps = 2, .caps = { { 10, 1 }, { 11, 0 } } };
	struct state_host here = { .nr_caps = 2, .caps = { { 10, 4 }, { 11, 0 } } };
	char msg[200];

	cr_assert_eq(state_host_compare(&saved, &here, msg, sizeof(msg)), 0);
	here.caps[0].value = 0;
	cr_assert_eq(state_host_compare(&saved, &here, msg, sizeof(msg)), -EOPNOTSUPP);
	cr_assert(strstr(msg, "capability 10"), "%s", msg);
	here.nr_caps = 0;
	cr_assert_eq(state_host_compare(&saved, &here, msg, sizeof(msg)), -EOPNOTSUPP);
}

Test(state_file, disks)
{
	char raw[] = "/tmp/test_state_disk_XXXXXX", q[] = "/tmp/test_state_qcow_XXXXXX";
	uint8_t hdr[104] = { 'Q', 'F', 'I', 0xfb, 0, 0, 0, 3 };
	struct disk_state d, back[DISK_STATE_MAX];
	struct state_membuf m = { 0 };
	struct state_writer w;
	struct state_reader r;
	struct state_header h;
	uint32_t have = 0;
	char err[256];
	int fd;

	fd = mkstemp(raw);
	cr_assert_geq(fd, 0);
	cr_assert_eq(ftruncate(fd, 3 << 20), 0);
	close(fd);
	cr_assert_eq(disk_state_probe(raw, DISK_FORMAT_RAW, &d, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(d.size, 3 << 20);
	fd = mkstemp(q);
	cr_assert_geq(fd, 0);
	hdr[24 + 5] = 0x10;	/* big-endian 0x100000000: 4 GiB */
	hdr[24 + 3] = 0x01;
	cr_assert_eq(write(fd, hdr, sizeof(hdr)), (ssize_t)sizeof(hdr));
	close(fd);
	cr_assert_eq(disk_state_probe(q, DISK_FORMAT_QCOW2, &d, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(d.size, (1ULL << 32) | (0x10ULL << 16));
	unlink(q);

	state_writer_init(&w, "state file", state_mem_write, &m);
	state_write_header(&w, 0);
	cr_assert_eq(disk_state_probe(raw, DISK_FORMAT_RAW, &d, err, sizeof(err)), 0);
	cr_assert_eq(disk_state_write(&w, 1, &d), 0);
	cr_assert_eq(disk_state_write(&w, 1, &d), 0);
	state_write_end(&w);
	state_writer_free(&w);
	unlink(raw);
	state_reader_init(&r, "state file", state_mem_read, &m, &disk_state_desc, 1);
	cr_assert_eq(state_read_header(&r, &h), 0);
	cr_assert_eq(state_next_section(&r), 1);
	cr_assert_eq(disk_state_parse(&r, back, &have), 0, "%s", state_reader_error(&r));
	cr_assert_eq(have, 2);
	cr_assert_str_eq(back[1].path, raw);
	cr_assert_eq(back[1].size, 3 << 20);
	cr_assert_eq(state_next_section(&r), 1);
	cr_assert_eq(disk_state_parse(&r, back, &have), -EINVAL);
	cr_assert(strstr(state_reader_error(&r), "repeated"), "%s", state_reader_error(&r));
	state_reader_free(&r);
	state_membuf_free(&m);
}
