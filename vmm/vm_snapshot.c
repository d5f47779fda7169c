// SPDX-License-Identifier: MIT
/*
 * vm_snapshot(): the whole VM into a snapshot directory (vm_state.h,
 * docs/snapshot.md).  Runs on the event-loop thread with every vCPU
 * parked and every device quiesced (vm_pause).
 */
#include <errno.h>
#include <linux/kvm.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>

#include "config_json.h"
#include "cpu/vcpu.h"
#include "cpu/vcpu_state.h"
#include "log.h"
#include "state/state_dir.h"
#include "vm.h"
#include "vm_state.h"

__attribute__((format(printf, 3, 4)))
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	log_err("%s", err);
	return -EINVAL;
}

/* The capabilities whose absence would make a restore lose state. */
static const unsigned int host_caps[] = {
	KVM_CAP_VCPU_EVENTS, KVM_CAP_DEBUGREGS, KVM_CAP_XCRS, KVM_CAP_ADJUST_CLOCK,
	KVM_CAP_TSC_DEADLINE_TIMER, KVM_CAP_PIT_STATE2, KVM_CAP_XSAVE,
};

void vm_state_host(const struct vm *vm, struct state_host *h)
{
	unsigned int i;
	int v;

	memset(h, 0, sizeof(*h));
	h->kvm_api = KVM_API_VERSION;
	for (i = 0; i < sizeof(host_caps) / sizeof(host_caps[0]); i++) {
		v = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, host_caps[i]);
		h->caps[h->nr_caps].cap = host_caps[i];
		h->caps[h->nr_caps].value = v > 0 ? (uint32_t)v : 0;
		h->nr_caps++;
	}
}

int vm_state_devices_check(const struct vm *vm, bool save, const char *what, char *err,
			   size_t errlen)
{
	unsigned int i;

	for (i = 0; i < vm->devices.nr; i++) {
		const struct vm_dev *d = &vm->devices.dev[i];

		if (save ? !d->ops->save : !d->ops->restore) {
			snprintf(err, errlen, "device %u (%s) cannot %s its state in this vmm "
				 "(no device state support): %s refused", i, d->name,
				 save ? "save" : "restore", what);
			return -EOPNOTSUPP;
		}
	}
	return 0;
}

int vm_state_write_disks(const struct vm *vm, struct state_writer *w, char *err, size_t errlen)
{
	const struct vm_config *cfg = vm->cfg;
	struct disk_state d;
	unsigned int i;
	int ret;

	for (i = 0; i < cfg->nr_disks; i++) {
		if (cfg->disks[i].snapshot) {
			snprintf(err, errlen, "disk %u (%s) has snapshot=on: its writes live in a "
				 "temporary overlay that a restore cannot see", i,
				 cfg->disks[i].path);
			return -EINVAL;
		}
		ret = disk_state_probe(cfg->disks[i].path, cfg->disks[i].format, &d, err,
				       errlen);
		if (!ret)
			ret = disk_state_write(w, i, &d);
		if (ret)
			return ret;
	}
	return 0;
}

int vm_state_check_disks(const struct vm_config *cfg, const struct disk_state *disks,
			 uint32_t have, char *err, size_t errlen)
{
	struct disk_state now;
	char msg[300];
	unsigned int i;

	if (have != (cfg->nr_disks ? (1u << cfg->nr_disks) - 1 : 0)) {
		snprintf(err, errlen, "state file: the config has %u disk(s), the disk sections "
			 "do not match (0x%x)", cfg->nr_disks, have);
		return -EINVAL;
	}
	for (i = 0; i < cfg->nr_disks; i++) {
		if (strcmp(disks[i].path, cfg->disks[i].path)) {
			snprintf(err, errlen, "state file: disk %u is %s in its section, %s in the "
				 "config", i, disks[i].path, cfg->disks[i].path);
			return -EINVAL;
		}
		if (disk_state_probe(disks[i].path, disks[i].format, &now, msg, sizeof(msg))) {
			snprintf(err, errlen, "%s", msg);
			return -ENOENT;
		}
		if (now.size != disks[i].size) {
			snprintf(err, errlen, "disk %u (%s) holds %llu bytes, %llu when the VM was "
				 "saved: the image was resized or replaced", i, disks[i].path,
				 (unsigned long long)now.size, (unsigned long long)disks[i].size);
			return -EINVAL;
		}
	}
	return 0;
}

static int write_vcpus(struct vm *vm, struct state_writer *w, char *err, size_t errlen)
{
	struct vcpu_saved s;
	unsigned int i;
	int ret;

	for (i = 0; i < vm->nr_vcpus; i++) {
		memset(&s, 0, sizeof(s));
		ret = vcpu_state_get(&vm->vcpus[i], &s);
		if (!ret)
			ret = vcpu_saved_write(&s, w);
		vcpu_saved_free(&s);
		if (ret) {
			snprintf(err, errlen, "cannot save vCPU %u: %s", i,
				 w->error ? state_writer_error(w) : strerror(-ret));
			return ret;
		}
	}
	return 0;
}

/* The state file's sections, in order; the memory file is already written. */
static int write_state(struct vm *vm, struct state_dir *d, char *err, size_t errlen)
{
	struct state_writer w;
	struct vm_kvm_saved vs;
	struct state_host host;
	char *json;
	int ret;

	json = config_json_format(vm->cfg, false);
	if (!json)
		return -ENOMEM;
	state_writer_init(&w, "state file", state_fd_write, &d->state_fd);
	vm_state_host(vm, &host);
	ret = state_write_header(&w, 0);
	if (!ret)
		ret = state_config_write(json, &w);
	if (!ret)
		ret = state_host_write(&host, &w);
	if (!ret)
		ret = mem_file_write_layout(&w, &vm->mem, d->mem_name);
	if (ret)
		snprintf(err, errlen, "%s", state_writer_error(&w));
	else
		ret = vm_state_write_disks(vm, &w, err, errlen);
	if (!ret)
		ret = write_vcpus(vm, &w, err, errlen);
	if (!ret) {
		memset(&vs, 0, sizeof(vs));
		ret = vm_kvm_state_get(vm->vm_fd, &vs);
		if (!ret)
			ret = vm_kvm_saved_write(&vs, &w);
		if (!ret)
			ret = vm_devices_save(&vm->devices, &w);
		if (!ret)
			ret = state_write_end(&w);
		if (ret)
			snprintf(err, errlen, "%s", w.error ? state_writer_error(&w) :
				 strerror(-ret));
	}
	state_writer_free(&w);
	free(json);
	return ret;
}

static double elapsed_ms(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

int vm_snapshot(struct vm *vm, const char *url, bool resume, char *err, size_t errlen)
{
	struct vm_state_url u;
	struct state_dir d;
	struct timespec t0;
	bool was_running;
	int ret;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	ret = vm_state_url_parse(url, false, &u, err, errlen);
	if (ret)
		return fail(err, errlen, "snapshot: destination_url %.*s", (int)errlen / 2,
			    err);
	if (vm->state != VM_STATE_RUNNING && vm->state != VM_STATE_PAUSED) {
		snprintf(err, errlen, "snapshot is refused in state %s", vm_state_name(vm->state));
		return -EBUSY;
	}
	ret = vm_state_devices_check(vm, true, "snapshot", err, errlen);
	if (ret) {
		log_err("%s", err);
		return ret;
	}
	was_running = vm->state == VM_STATE_RUNNING;
	if (was_running) {
		ret = vm_pause(vm);
		if (ret) {
			snprintf(err, errlen, "snapshot: cannot pause the VM: %s", strerror(-ret));
			return ret;
		}
	}
	ret = state_dir_begin(&d, u.dir);
	if (ret) {
		snprintf(err, errlen, ret == -EBUSY ?
			 "snapshot directory %s is in use by another vmm" :
			 "cannot create the snapshot in %s: %s (see vmm's log)", u.dir,
			 strerror(-ret));
		goto out;
	}
	ret = mem_file_save(d.mem_fd, d.mem_name, &vm->mem);
	if (ret)
		snprintf(err, errlen, "cannot write the memory file %s/%s: %s", u.dir, d.mem_name,
			 strerror(-ret));
	if (!ret)
		ret = write_state(vm, &d, err, errlen);
	if (ret) {
		log_err("snapshot into %s failed: %s", u.dir, err);
		state_dir_abort(&d);
		goto out;
	}
	ret = state_dir_commit(&d);
	if (ret) {
		snprintf(err, errlen, "cannot commit the snapshot in %s: %s", u.dir,
			 strerror(-ret));
		goto out;
	}
	log_info("snapshot of %u vCPU(s), %llu MiB written to %s in %.1f ms", vm->nr_vcpus,
		 (unsigned long long)(vm->mem.ram_size >> 20), u.dir, elapsed_ms(&t0));
	vm_emit_event(vm, "snapshot", u.dir, 0);
out:
	/* a failed snapshot leaves the VM as it found it */
	if ((ret ? was_running : resume) && vm->state == VM_STATE_PAUSED)
		vm_resume(vm);
	return ret;
}
