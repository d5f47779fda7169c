// SPDX-License-Identifier: MIT
/*
 * Live migration, the destination (vm_state.h, docs/migration.md): one
 * source connects; its stream is read section by section.  The VM is
 * built (without a kernel) when the memory layout arrives, after the
 * config; pages go straight into guest memory through the checked
 * accessor; vCPU and VM state are collected; devices are restored as
 * their sections come.  At END everything is checked, the vCPU and VM
 * state put into KVM, and the source told 'K': only then may it stop.
 * Any failure before that makes the source resume its VM.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config_json.h"
#include "log.h"
#include "state/mig_pages.h"
#include "vm.h"
#include "vm_runtime.h"
#include "vm_state.h"

struct mig_dst {
	struct vm *vm;
	struct vm_config *cfg;
	char **arena;
	struct state_image img;		/* vCPU and VM parts, config, host */
	struct state_section_desc known[STATE_FILE_KNOWN_MAX + 1 + VM_MAX_DEVICES];
	size_t nr_base;			/* entries before the device range */
	bool built;
	uint64_t devices_seen, pages;
	char *err;
	size_t errlen;
	bool refused;
};

static int build(struct mig_dst *d, struct state_reader *r)
{
	enum console_kind console = d->cfg->console;
	const char *console_path = d->cfg->console_path;
	char file[MEM_FILE_NAME_MAX + 1], msg[512];
	size_t ndev;
	int ret;

	if (!d->img.config)
		return state_reader_fail(r, "the memory layout came before the config");
	if (d->built)
		return state_reader_fail(r, "a second memory section");
	ret = config_json_parse(d->img.config, strlen(d->img.config), d->cfg, d->arena, msg,
				sizeof(msg));
	if (ret)
		return state_reader_fail(r, "the config: %s", msg);
	d->cfg->console = console;
	d->cfg->console_path = console_path;
	d->vm->restoring = true;
	ret = vm_create(d->vm, d->cfg);
	d->vm->restoring = false;
	if (ret) {
		snprintf(d->err, d->errlen, "cannot build the VM: %s (see the log)",
			 strerror(-ret));
		return ret;
	}
	d->built = true;
	ret = vm_state_devices_check(d->vm, false, "migration", d->err, d->errlen);
	if (ret) {
		d->refused = true;
		return ret;
	}
	ret = mem_file_check_layout(r, &d->vm->mem, file);
	if (ret)
		return ret;
	/* from now on device sections are the VM's own devices */
	ndev = vm_devices_known(&d->vm->devices, d->known + d->nr_base, VM_MAX_DEVICES);
	r->known = d->known;
	r->nr_known = d->nr_base + ndev;
	return 0;
}

static int parse_config(struct mig_dst *d, struct state_reader *r)
{
	if (d->img.config)
		return state_reader_fail(r, "a second config section");
	d->img.config = malloc(STATE_CONFIG_MAX + 1);
	if (!d->img.config)
		return -ENOMEM;
	if (state_get_string(r, d->img.config, STATE_CONFIG_MAX))
		return r->error;
	return state_section_done(r);
}

static int section(struct mig_dst *d, struct state_reader *r)
{
	if (r->type == STATE_SEC_CONFIG)
		return parse_config(d, r);
	if (r->type == STATE_SEC_MEMORY)
		return build(d, r);
	if (r->type == STATE_SEC_HOST) {
		struct state_host *h = &d->img.host;
		uint32_t i;

		if (d->img.have_host || state_get_u32(r, &h->kvm_api) ||
		    state_get_u32(r, &h->nr_caps) || h->nr_caps > STATE_HOST_MAX_CAPS)
			return r->error ? r->error : state_reader_fail(r, "bad host section");
		for (i = 0; i < h->nr_caps; i++)
			if (state_get_u32(r, &h->caps[i].cap) ||
			    state_get_u32(r, &h->caps[i].value))
				return r->error;
		d->img.have_host = true;
		return state_section_done(r);
	}
	if (!d->built)
		return state_reader_fail(r, "before the memory layout");
	if (r->type == STATE_SEC_DISK)
		return disk_state_parse(r, d->img.disks, &d->img.disks_have);
	if (r->type == STATE_SEC_MIG_PAGES)
		return mig_pages_parse(r, &d->vm->mem, &d->pages);
	if (vcpu_saved_is_section(r->type))
		return vcpu_saved_parse(d->img.vcpus, d->vm->nr_vcpus, r);
	if (vm_kvm_saved_is_section(r->type))
		return vm_kvm_saved_parse(&d->img.vm, r);
	if (state_file_is_device(r->type)) {
		d->devices_seen |= 1ULL << (r->type - STATE_SEC_DEVICE_FIRST);
		return vm_devices_restore_section(&d->vm->devices, r);
	}
	return state_skip_section(r);
}

/* After END: everything a VM needs arrived, and this host can run it. */
static int finish(struct mig_dst *d)
{
	struct vm *vm = d->vm;
	char msg[160];
	unsigned int i;
	int ret;

	if (!d->built) {
		snprintf(d->err, d->errlen, "migration stream: no memory layout");
		return -EINVAL;
	}
	for (i = 0; i < vm->nr_vcpus; i++) {
		if (vcpu_saved_complete(&d->img.vcpus[i], msg, sizeof(msg))) {
			snprintf(d->err, d->errlen, "migration stream: vCPU %u: %s", i, msg);
			return -EINVAL;
		}
	}
	if (d->img.vm.have != (1u << VM_KVM_NR_PARTS) - 1) {
		snprintf(d->err, d->errlen, "migration stream: VM state incomplete");
		return -EINVAL;
	}
	for (i = 0; i < vm->devices.nr; i++) {
		if (!(d->devices_seen & (1ULL << i))) {
			snprintf(d->err, d->errlen, "migration stream: no state for device %u (%s)",
				 i, vm->devices.dev[i].name);
			return -EINVAL;
		}
	}
	ret = vm_state_check_disks(d->cfg, d->img.disks, d->img.disks_have, d->err, d->errlen);
	if (!ret)
		ret = vm_restore_check_host(vm, &d->img, d->err, d->errlen);
	if (!ret)
		ret = vm_restore_put_cpu_state(vm, &d->img, VM_CLOCK_CONTINUE, d->err, d->errlen);
	return ret;
}

int vm_incoming(struct vm *vm, struct vm_config *cfg, char **arena, const char *url,
		bool *refused, char *err, size_t errlen)
{
	struct mig_dst *d = calloc(1, sizeof(*d));
	struct state_reader r;
	struct state_header h;
	char ok = 'K';
	size_t i, n;
	int fd, ret;

	*refused = false;
	err[0] = '\0';
	if (!d)
		return -ENOMEM;
	d->vm = vm;
	d->cfg = cfg;
	d->arena = arena;
	d->err = err;
	d->errlen = errlen;
	d->img.vcpus = calloc(STATE_FILE_MAX_VCPUS, sizeof(*d->img.vcpus));
	fd = vm_migrate_socket(url, true, err, errlen);
	if (fd < 0 || !d->img.vcpus) {
		ret = fd < 0 ? fd : -ENOMEM;
		goto out;
	}
	/* devices: only once the VM exists (build() adds its own) */
	n = state_file_known(d->known, STATE_FILE_KNOWN_MAX);
	for (i = 0; i < n && !state_file_is_device(d->known[i].type); i++)
		;
	d->known[i] = mig_pages_desc;
	d->nr_base = i + 1;
	state_reader_init(&r, "migration stream", state_fd_read, &fd, d->known, d->nr_base);
	ret = state_read_header(&r, &h);
	if (!ret && !(h.flags & STATE_F_MIGRATION))
		ret = state_reader_fail(&r, "a state file, not a migration stream");
	while (!ret && (ret = state_next_section(&r)) == 1)
		ret = section(d, &r);
	if (ret && !err[0]) {
		snprintf(err, errlen, "%s", state_reader_error(&r));
		d->refused = true;
	}
	state_reader_free(&r);
	if (!ret) {
		ret = finish(d);
		if (ret == -EINVAL)
			d->refused = true;
	}
	if (!ret && write(fd, &ok, 1) != 1) {
		ret = -errno;
		snprintf(err, errlen, "cannot answer the source: %s", strerror(errno));
	}
	close(fd);
	if (ret && d->built)
		vm_destroy(vm);
	if (!ret)
		log_info("migration from %s received: %llu pages", url,
			 (unsigned long long)d->pages);
out:
	*refused = d->refused;
	if (ret)
		log_err("incoming migration on %s: %s", url, err[0] ? err : strerror(-ret));
	state_image_free(&d->img);
	free(d);
	return ret;
}
