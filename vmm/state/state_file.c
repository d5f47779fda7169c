// SPDX-License-Identifier: MIT
/*
 * Pass one of a restore: a whole state file, checked and parsed before
 * any VM exists (state_file.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "state_file.h"

#define DEVICE_SECTIONS		48	/* VM_MAX_DEVICES (devices/devlist.h) */
#define DEVICE_SECTION_MAX	(1u << 20)	/* DEVICE_STATE_MAX */
#define HOST_SECTION_MAX	(8 + STATE_HOST_MAX_CAPS * 8)
#define MEMORY_SECTION_MAX	(4 + STATE_FILE_MAX_REGIONS * 24 + 4 + MEM_FILE_NAME_MAX)

bool state_file_is_device(uint32_t type)
{
	return type >= STATE_SEC_DEVICE_FIRST && type < STATE_SEC_DEVICE_FIRST + DEVICE_SECTIONS;
}

size_t state_file_known(struct state_section_desc *out, size_t max)
{
	size_t n = 0, i;

	if (max < STATE_FILE_KNOWN_MAX)
		return 0;
	out[n++] = (struct state_section_desc){ STATE_SEC_CONFIG, "config", 1,
						 4 + STATE_CONFIG_MAX };
	out[n++] = (struct state_section_desc){ STATE_SEC_HOST, "host", 1, HOST_SECTION_MAX };
	out[n++] = (struct state_section_desc){ STATE_SEC_MEMORY, "memory", 1,
						 MEMORY_SECTION_MAX };
	out[n++] = disk_state_desc;
	for (i = 0; i < VCPU_NR_PARTS; i++)
		out[n++] = vcpu_saved_sections[i];
	for (i = 0; i < VM_KVM_NR_PARTS; i++)
		out[n++] = vm_kvm_sections[i];
	/* devices: framed here, parsed by the device list once the VM exists */
	for (i = 0; i < DEVICE_SECTIONS; i++)
		out[n++] = (struct state_section_desc){ STATE_SEC_DEVICE_FIRST + (uint32_t)i,
							 "device", 0xffff, DEVICE_SECTION_MAX };
	return n;
}

int state_skip_section(struct state_reader *r)
{
	r->pos = r->len;
	return state_section_done(r);
}

int state_host_write(const struct state_host *h, struct state_writer *w)
{
	uint32_t i;

	if (state_begin(w, STATE_SEC_HOST, 1, STATE_SECF_REQUIRED))
		return w->error;
	state_put_u32(w, h->kvm_api);
	state_put_u32(w, h->nr_caps);
	for (i = 0; i < h->nr_caps && i < STATE_HOST_MAX_CAPS; i++) {
		state_put_u32(w, h->caps[i].cap);
		state_put_u32(w, h->caps[i].value);
	}
	return state_end(w);
}

int state_config_write(const char *json, struct state_writer *w)
{
	if (strlen(json) > STATE_CONFIG_MAX)
		return -E2BIG;
	if (state_begin(w, STATE_SEC_CONFIG, 1, STATE_SECF_REQUIRED))
		return w->error;
	state_put_string(w, json);
	return state_end(w);
}

int state_host_compare(const struct state_host *saved, const struct state_host *here,
		       char *msg, size_t len)
{
	uint32_t i, j;

	for (i = 0; i < saved->nr_caps; i++) {
		uint32_t v = 0;

		if (!saved->caps[i].value)
			continue;
		for (j = 0; j < here->nr_caps; j++)
			if (here->caps[j].cap == saved->caps[i].cap)
				v = here->caps[j].value;
		if (!v) {
			snprintf(msg, len, "the saving host's KVM had capability %u, this host's "
				 "KVM lacks it: restore on a host with a newer kernel",
				 saved->caps[i].cap);
			return -EOPNOTSUPP;
		}
	}
	return 0;
}

static int parse_host(struct state_image *img, struct state_reader *r)
{
	struct state_host *h = &img->host;
	uint32_t i;

	if (img->have_host)
		return state_reader_fail(r, "a second host section");
	if (state_get_u32(r, &h->kvm_api) || state_get_u32(r, &h->nr_caps))
		return r->error;
	if (h->nr_caps > STATE_HOST_MAX_CAPS)
		return state_reader_fail(r, "%u capabilities, at most %u", h->nr_caps,
					 STATE_HOST_MAX_CAPS);
	for (i = 0; i < h->nr_caps; i++)
		if (state_get_u32(r, &h->caps[i].cap) || state_get_u32(r, &h->caps[i].value))
			return r->error;
	img->have_host = true;
	return state_section_done(r);
}

static int parse_config(struct state_image *img, struct state_reader *r)
{
	if (img->config)
		return state_reader_fail(r, "a second config section");
	img->config = malloc(STATE_CONFIG_MAX + 1);
	if (!img->config)
		return -ENOMEM;
	if (state_get_string(r, img->config, STATE_CONFIG_MAX))
		return r->error;
	return state_section_done(r);
}

/* The same checks as mem_file_check_layout(), without a VM to compare with yet. */
static int parse_memory(struct state_image *img, struct state_reader *r)
{
	char *name = img->mem_file;
	uint32_t i;

	if (img->have_memory)
		return state_reader_fail(r, "a second memory section");
	if (state_get_u32(r, &img->nr_regions))
		return r->error;
	if (!img->nr_regions || img->nr_regions > STATE_FILE_MAX_REGIONS)
		return state_reader_fail(r, "%u RAM regions, 1 to %u allowed", img->nr_regions,
					 STATE_FILE_MAX_REGIONS);
	img->ram_size = 0;
	for (i = 0; i < img->nr_regions; i++) {
		uint64_t gpa, size, off;

		if (state_get_u64(r, &gpa) || state_get_u64(r, &size) || state_get_u64(r, &off))
			return r->error;
		if (!size || (size | gpa | off) & (MEM_FILE_PAGE - 1) || gpa + size < gpa ||
		    off != img->ram_size || size > (1ULL << 40))
			return state_reader_fail(r, "RAM region %u: 0x%llx bytes at 0x%llx, file "
						 "offset %llu: not page-aligned, back to back and "
						 "below 1 TiB", i, (unsigned long long)size,
						 (unsigned long long)gpa, (unsigned long long)off);
		img->regions[i].gpa = gpa;
		img->regions[i].size = size;
		img->regions[i].off = off;
		img->ram_size += size;
	}
	if (state_get_string(r, name, MEM_FILE_NAME_MAX))
		return r->error;
	if (!name[0] || strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, ".."))
		return state_reader_fail(r, "memory file name '%s' is not a plain file name", name);
	img->have_memory = true;
	return state_section_done(r);
}

static int parse_section(struct state_image *img, struct state_reader *r)
{
	if (vcpu_saved_is_section(r->type))
		return vcpu_saved_parse(img->vcpus, STATE_FILE_MAX_VCPUS, r);
	if (vm_kvm_saved_is_section(r->type))
		return vm_kvm_saved_parse(&img->vm, r);
	if (state_file_is_device(r->type)) {
		img->nr_devices++;
		return state_skip_section(r);
	}
	switch (r->type) {
	case STATE_SEC_CONFIG: return parse_config(img, r);
	case STATE_SEC_HOST: return parse_host(img, r);
	case STATE_SEC_MEMORY: return parse_memory(img, r);
	case STATE_SEC_DISK: return disk_state_parse(r, img->disks, &img->disks_have);
	}
	return state_skip_section(r);
}

/* What a complete state file must hold. */
static int check_complete(struct state_image *img, char *err, size_t errlen)
{
	char msg[160];
	unsigned int i;

	if (!img->config) {
		snprintf(err, errlen, "state file: no config section");
		return -EINVAL;
	}
	if (!img->have_memory) {
		snprintf(err, errlen, "state file: no memory section");
		return -EINVAL;
	}
	for (i = 0; i < STATE_FILE_MAX_VCPUS; i++)
		if (img->vcpus[i].have)
			img->nr_vcpus = i + 1;
	if (!img->nr_vcpus) {
		snprintf(err, errlen, "state file: no vCPU state");
		return -EINVAL;
	}
	for (i = 0; i < img->nr_vcpus; i++) {
		if (vcpu_saved_complete(&img->vcpus[i], msg, sizeof(msg))) {
			snprintf(err, errlen, "state file: vCPU %u: %s", i, msg);
			return -EINVAL;
		}
	}
	if (img->vm.have != (1u << VM_KVM_NR_PARTS) - 1) {
		for (i = 0; i < VM_KVM_NR_PARTS; i++)
			if (!(img->vm.have & (1u << i)))
				break;
		snprintf(err, errlen, "state file: no %s section", vm_kvm_sections[i].name);
		return -EINVAL;
	}
	return 0;
}

int state_image_parse(struct state_image *img, const void *buf, size_t len,
		      char *err, size_t errlen)
{
	struct state_section_desc known[STATE_FILE_KNOWN_MAX];
	struct state_membuf m = { .data = (uint8_t *)buf, .len = len };
	struct state_reader r;
	size_t nk;
	int ret;

	memset(img, 0, sizeof(*img));
	img->vcpus = calloc(STATE_FILE_MAX_VCPUS, sizeof(*img->vcpus));
	if (!img->vcpus)
		return -ENOMEM;
	nk = state_file_known(known, STATE_FILE_KNOWN_MAX);
	state_reader_init(&r, "state file", state_mem_read, &m, known, nk);
	ret = state_read_header(&r, &img->hdr);
	if (!ret && (img->hdr.flags & STATE_F_MIGRATION))
		ret = state_reader_fail(&r, "this is a migration stream, not a state file");
	while (!ret && (ret = state_next_section(&r)) == 1)
		ret = parse_section(img, &r);
	if (!ret && m.pos != m.len)
		ret = state_reader_fail(&r, "%zu bytes after the end marker", m.len - m.pos);
	if (ret) {
		snprintf(err, errlen, "%s", state_reader_error(&r)[0] ?
			 state_reader_error(&r) : strerror(-ret));
		state_reader_free(&r);
		return ret < 0 ? ret : -EINVAL;
	}
	state_reader_free(&r);
	return check_complete(img, err, errlen);
}

void state_image_free(struct state_image *img)
{
	unsigned int i;

	if (img->vcpus) {
		for (i = 0; i < STATE_FILE_MAX_VCPUS; i++)
			vcpu_saved_free(&img->vcpus[i]);
		free(img->vcpus);
	}
	free(img->config);
	memset(img, 0, sizeof(*img));
}
