/* SPDX-License-Identifier: MIT */
/*
 * A whole state file, read and checked before any VM exists (the first
 * of a restore's two passes, docs/snapshot.md "Restore"): the header, the
 * config JSON, the host fingerprint, the memory layout, every vCPU and
 * the VM's KVM state are parsed into struct state_image; device sections
 * are only framed (CRC, length) here, because which devices exist is
 * known only once the VM is built from the config: the runtime's second
 * pass (vm_restore.c) hands them to the device list.  KVM-free: unit-
 * tested and fuzzed (fuzz/fuzz_state_file.c).
 *
 * The host section (STATE_SEC_HOST, version 1):
 *   u32 KVM API version, u32 n (at most STATE_HOST_MAX_CAPS),
 *   n x (u32 KVM_CAP_* number, u32 KVM_CHECK_EXTENSION value)
 * The config section (STATE_SEC_CONFIG, version 1): one string, the VM's
 * config JSON (config_json.h), at most CONFIG_JSON_MAX bytes.
 */
#ifndef VMM_STATE_STATE_FILE_H
#define VMM_STATE_STATE_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "disk_state.h"
#include "mem_file.h"
#include "stream.h"
#include "vcpu_saved.h"
#include "vm_kvm_state.h"

#define STATE_FILE_MAX		(128u << 20)	/* a whole state file, read into memory */
#define STATE_FILE_MAX_VCPUS	64		/* VMM_MAX_CPUS */
#define STATE_FILE_MAX_REGIONS	8
#define STATE_HOST_MAX_CAPS	32
#define STATE_CONFIG_MAX	(1u << 20)	/* CONFIG_JSON_MAX */

struct state_host {
	uint32_t kvm_api;
	uint32_t nr_caps;
	struct { uint32_t cap, value; } caps[STATE_HOST_MAX_CAPS];
};

struct state_image {
	struct state_header hdr;
	char *config;			/* NUL-terminated JSON, malloc()ed */
	bool have_host;
	struct state_host host;
	bool have_memory;
	uint32_t nr_regions;
	struct { uint64_t gpa, size, off; } regions[STATE_FILE_MAX_REGIONS];
	uint64_t ram_size;		/* sum of the regions' sizes */
	char mem_file[MEM_FILE_NAME_MAX + 1];
	struct vcpu_saved *vcpus;	/* STATE_FILE_MAX_VCPUS, indexed by vCPU */
	unsigned int nr_vcpus;		/* 1 + the highest index seen */
	struct vm_kvm_saved vm;
	unsigned int nr_devices;	/* device sections seen */
	struct disk_state disks[DISK_STATE_MAX];
	uint32_t disks_have;		/* bit per disk index */
};

/*
 * Pass one over len bytes of a state file: every section's framing and
 * CRC, the END marker, and the parts above.  Also refuses a file with no
 * config or memory section, a vCPU with a part missing (or a gap in the
 * vCPU numbers), a VM KVM part missing, or the migration flag.  0 or
 * -errno with one line in err ("state file: ...").  img is freed with
 * state_image_free() in every case.
 */
int state_image_parse(struct state_image *img, const void *buf, size_t len,
		      char *err, size_t errlen);
void state_image_free(struct state_image *img);

/* The section table pass one (and a restore's second pass) reads with. */
size_t state_file_known(struct state_section_desc *out, size_t max);
#define STATE_FILE_KNOWN_MAX	(5 + VCPU_NR_PARTS + VM_KVM_NR_PARTS + 64)

/* Whether type is a device section (0x1000 + device index). */
bool state_file_is_device(uint32_t type);

/* Skips the rest of r's current section (its CRC was checked) and ends it. */
int state_skip_section(struct state_reader *r);

/* The writer's side of the host and config sections. */
int state_host_write(const struct state_host *h, struct state_writer *w);
int state_config_write(const char *json, struct state_writer *w);

/*
 * Host check (pure): every capability the saving host had that a restore
 * relies on (a non-zero value saved) must be non-zero here too.  host:
 * this host's values for the same capability numbers.  0 or -EOPNOTSUPP
 * with msg naming the capability.
 */
int state_host_compare(const struct state_host *saved, const struct state_host *here,
		       char *msg, size_t len);

#endif
