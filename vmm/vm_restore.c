// SPDX-License-Identifier: MIT
/*
 * vm_restore(): a VM back from a snapshot directory (vm_state.h,
 * docs/snapshot.md "Restore").  Everything the state file says is checked
 * before the VM is built (pass one, state/state_file.c) or before any
 * vCPU runs (pass two, here: memory layout against the built VM, device
 * sections through the device list); only then is state put into KVM.
 */
#include <errno.h>
#include <linux/kvm.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config_json.h"
#include "cpu/vcpu.h"
#include "cpu/vcpu_state.h"
#include "log.h"
#include "state/cpu_compat.h"
#include "state/state_dir.h"
#include "vm.h"
#include "vm_runtime.h"
#include "vm_state.h"

struct restore {
	struct vm *vm;
	struct vm_state_url url;
	struct state_dir dir;
	uint8_t *buf;		/* the whole state file */
	size_t len;
	struct state_image img;
	bool refused;
	char *err;
	size_t errlen;
};

/* The state file's fault: the restore is refused (VMM_EXIT_RESTORE). */
__attribute__((format(printf, 2, 3)))
static int refuse(struct restore *rs, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rs->err, rs->errlen, fmt, ap);
	va_end(ap);
	rs->refused = true;
	return -EINVAL;
}

/* A host failure (VMM_EXIT_HOST). */
__attribute__((format(printf, 3, 4)))
static int host_fail(struct restore *rs, int ret, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rs->err, rs->errlen, fmt, ap);
	va_end(ap);
	return ret ? ret : -EIO;
}

static int read_state(struct restore *rs)
{
	struct stat st;
	ssize_t n;
	size_t got = 0;

	if (fstat(rs->dir.state_fd, &st) < 0)
		return host_fail(rs, -errno, "cannot stat %s/state: %s", rs->url.dir,
				 strerror(errno));
	if ((uint64_t)st.st_size > STATE_FILE_MAX)
		return refuse(rs, "state file %s/state: %lld bytes, at most %u", rs->url.dir,
			      (long long)st.st_size, STATE_FILE_MAX);
	rs->len = (size_t)st.st_size;
	rs->buf = malloc(rs->len ? rs->len : 1);
	if (!rs->buf)
		return host_fail(rs, -ENOMEM, "out of memory reading the state file");
	while (got < rs->len) {
		n = pread(rs->dir.state_fd, rs->buf + got, rs->len - got, (off_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return host_fail(rs, -errno, "cannot read %s/state: %s", rs->url.dir,
					 strerror(errno));
		if (n == 0)
			break;
		got += (size_t)n;
	}
	rs->len = got;
	return 0;
}

/* The saved config replaces cfg's VM fields; the process keeps its own. */
static int load_config(struct restore *rs, struct vm_config *cfg, char **arena)
{
	enum console_kind console = cfg->console;
	const char *console_path = cfg->console_path;
	char msg[512];
	int ret;

	ret = config_json_parse(rs->img.config, strlen(rs->img.config), cfg, arena, msg,
				sizeof(msg));
	if (ret == -ENOMEM)
		return host_fail(rs, ret, "out of memory parsing the saved config");
	if (ret)
		return refuse(rs, "state file: the saved config: %s", msg);
	cfg->console = console;		/* the console belongs to this process */
	cfg->console_path = console_path;
	if (cfg->cpus != rs->img.nr_vcpus)
		return refuse(rs, "state file: the config has %u vCPU(s), the state %u",
			      cfg->cpus, rs->img.nr_vcpus);
	if (cfg->memory != rs->img.ram_size)
		return refuse(rs, "state file: the config has %llu MiB of RAM, the memory "
			      "section %llu MiB", (unsigned long long)(cfg->memory >> 20),
			      (unsigned long long)(rs->img.ram_size >> 20));
	return 0;
}

static int open_memory(struct restore *rs)
{
	struct stat st;
	int ret;

	ret = state_dir_open_memory(&rs->dir, rs->img.mem_file);
	if (ret == -EINVAL)
		return refuse(rs, "state file: memory file '%s' is not a name vmm writes",
			      rs->img.mem_file);
	if (ret)
		return host_fail(rs, ret, "cannot open the memory file %s/%s: %s", rs->url.dir,
				 rs->img.mem_file, strerror(-ret));
	if (fstat(rs->dir.mem_fd, &st) < 0)
		return host_fail(rs, -errno, "cannot stat %s/%s: %s", rs->url.dir,
				 rs->img.mem_file, strerror(errno));
	if ((uint64_t)st.st_size != rs->img.ram_size)
		return refuse(rs, "memory file %s/%s holds %llu bytes, the VM has %llu bytes of "
			      "RAM (wrong or damaged snapshot)", rs->url.dir, rs->img.mem_file,
			      (unsigned long long)st.st_size,
			      (unsigned long long)rs->img.ram_size);
	return 0;
}

/* The host: KVM capabilities and every CPUID feature the guest saw. */
int vm_restore_check_host(struct vm *vm, const struct state_image *img, char *err,
			  size_t errlen)
{
	struct state_host here;
	struct kvm_cpuid2 *host;
	char msg[256];
	bool deadline;
	int ret;

	if (img->have_host) {
		vm_state_host(vm, &here);
		if (state_host_compare(&img->host, &here, msg, sizeof(msg))) {
			snprintf(err, errlen, "this host cannot run the saved VM: %s", msg);
			return -EINVAL;
		}
	}
	host = calloc(1, sizeof(*host) + VCPU_SAVED_MAX_CPUID * sizeof(host->entries[0]));
	if (!host)
		return -ENOMEM;
	host->nent = VCPU_SAVED_MAX_CPUID;
	if (ioctl(vm->vcpus[0].fd, KVM_GET_CPUID2, host) < 0) {
		ret = -errno;
		snprintf(err, errlen, "KVM_GET_CPUID2 failed: %s", strerror(errno));
		free(host);
		return ret;
	}
	deadline = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_TSC_DEADLINE_TIMER) > 0;
	ret = cpu_compat_check(img->vcpus[0].cpuid, host, deadline, msg, sizeof(msg));
	free(host);
	if (ret) {
		snprintf(err, errlen, "this host's CPU cannot run the saved VM: %s", msg);
		return -EINVAL;
	}
	return 0;
}

static int check_host(struct restore *rs)
{
	int ret = vm_restore_check_host(rs->vm, &rs->img, rs->err, rs->errlen);

	if (ret == -EINVAL)
		rs->refused = true;
	return ret;
}

int vm_restore_put_cpu_state(struct vm *vm, struct state_image *img,
			     enum vm_clock_policy clock, char *err, size_t errlen)
{
	unsigned int i;
	int ret;

	ret = vm_kvm_state_set(vm->vm_fd, &img->vm, clock);
	if (ret) {
		snprintf(err, errlen, "cannot restore the VM's interrupt controllers, PIT and "
			 "clock: %s (see the log)", strerror(-ret));
		return ret == -EINVAL ? -EIO : ret;
	}
	for (i = 0; i < vm->nr_vcpus; i++) {
		ret = vcpu_state_set(&vm->vcpus[i], &img->vcpus[i]);
		if (ret) {
			snprintf(err, errlen, "KVM refused vCPU %u's saved state: %s (see the log)",
				 i, strerror(-ret));
			return -EINVAL;
		}
	}
	return 0;
}

/* Pass two: the memory layout against the built VM, and every device's section. */
static int pass_two(struct restore *rs)
{
	struct state_section_desc known[STATE_FILE_KNOWN_MAX + VM_MAX_DEVICES];
	struct state_membuf m = { .data = rs->buf, .len = rs->len };
	struct vm *vm = rs->vm;
	char file[MEM_FILE_NAME_MAX + 1];
	struct state_reader r;
	struct state_header h;
	uint64_t seen = 0;
	size_t nk = 0, ndev, i;
	int ret;

	nk = state_file_known(known, STATE_FILE_KNOWN_MAX);
	for (i = 0; i < nk && !state_file_is_device(known[i].type); i++)
		;
	nk = i;		/* the device range comes last: the VM's own devices instead */
	ndev = vm_devices_known(&vm->devices, known + nk, VM_MAX_DEVICES);
	state_reader_init(&r, "state file", state_mem_read, &m, known, nk + ndev);
	ret = state_read_header(&r, &h);
	while (!ret && (ret = state_next_section(&r)) == 1) {
		if (r.type == STATE_SEC_MEMORY) {
			ret = mem_file_check_layout(&r, &vm->mem, file);
		} else if (state_file_is_device(r.type)) {
			ret = vm_devices_restore_section(&vm->devices, &r);
			seen |= 1ULL << (r.type - STATE_SEC_DEVICE_FIRST);
		} else {
			ret = state_skip_section(&r);
		}
	}
	if (ret) {
		refuse(rs, "%s", state_reader_error(&r));
		state_reader_free(&r);
		return -EINVAL;
	}
	state_reader_free(&r);
	for (i = 0; i < vm->devices.nr; i++) {
		if (vm->devices.dev[i].ops->restore && !(seen & (1ULL << i)))
			return refuse(rs, "state file: no state for device %zu (%s)", i,
				      vm->devices.dev[i].name);
	}
	return 0;
}

static int put_state(struct restore *rs)
{
	struct vm *vm = rs->vm;
	int ret;

	ret = mem_file_restore(rs->dir.mem_fd, rs->dir.mem_name, &vm->mem, rs->url.memory, true);
	if (ret)
		return host_fail(rs, ret, "cannot restore guest memory from %s/%s: %s",
				 rs->url.dir, rs->dir.mem_name, strerror(-ret));
	ret = pass_two(rs);
	if (ret)
		return ret;
	ret = vm_restore_put_cpu_state(vm, &rs->img, rs->url.clock, rs->err, rs->errlen);
	if (ret == -EINVAL)
		rs->refused = true;
	return ret;
}

static double ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

/* Everything up to a built VM with its state in; the VM torn down on failure. */
static int restore(struct restore *rs, struct vm_config *cfg, char **arena, const char *url)
{
	struct vm *vm = rs->vm;
	int ret;

	ret = vm_state_url_parse(url, true, &rs->url, rs->err, rs->errlen);
	if (ret) {
		rs->refused = false;
		return ret;
	}
	ret = state_dir_open(&rs->dir, rs->url.dir);
	if (ret)
		return host_fail(rs, ret, "cannot open the snapshot in %s: %s", rs->url.dir,
				 ret == -EBUSY ? "another vmm is writing it" : strerror(-ret));
	ret = read_state(rs);
	if (ret)
		return ret;
	ret = state_image_parse(&rs->img, rs->buf, rs->len, rs->err, rs->errlen);
	if (ret == -ENOMEM)
		return host_fail(rs, ret, "out of memory reading the state file");
	if (ret) {
		rs->refused = true;
		return ret;
	}
	ret = load_config(rs, cfg, arena);
	if (!ret) {
		ret = vm_state_check_disks(cfg, rs->img.disks, rs->img.disks_have, rs->err,
					   rs->errlen);
		if (ret == -EINVAL)
			rs->refused = true;
	}
	if (!ret)
		ret = open_memory(rs);
	if (ret)
		return ret;
	vm->restoring = true;
	ret = vm_create(vm, cfg);
	vm->restoring = false;
	if (ret)
		return host_fail(rs, ret, "cannot build the VM of the snapshot: %s (see the log)",
				 strerror(-ret));
	ret = vm_state_devices_check(vm, false, "restore", rs->err, rs->errlen);
	if (ret)
		rs->refused = true;
	if (!ret)
		ret = check_host(rs);
	if (!ret)
		ret = put_state(rs);
	if (ret)
		vm_destroy(vm);
	return ret;
}

int vm_restore(struct vm *vm, struct vm_config *cfg, char **arena, const char *url,
	       bool resume, bool *refused, char *err, size_t errlen)
{
	struct restore rs = { .vm = vm, .err = err, .errlen = errlen };
	struct timespec t0;
	int ret;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	rs.dir.dir_fd = rs.dir.lock_fd = rs.dir.state_fd = rs.dir.mem_fd = -1;
	err[0] = '\0';
	ret = restore(&rs, cfg, arena, url);
	state_image_free(&rs.img);
	free(rs.buf);
	state_dir_close(&rs.dir);	/* the mapping keeps the memory file */
	*refused = rs.refused;
	if (ret) {
		if (!err[0])
			snprintf(err, errlen, "restore failed: %s", strerror(-ret));
		log_err("restore from %s: %s", url, err);
		return ret;
	}
	if (!resume) {
		/* the vCPU threads park before their first KVM_RUN (vm_run) */
		vm->pause_requested = true;
		vm->state = VM_STATE_PAUSED;
		ret = vm_devices_pause(&vm->devices);
		if (ret) {
			snprintf(err, errlen, "cannot pause the restored devices: %s",
				 strerror(-ret));
			vm_destroy(vm);
			return ret;
		}
	}
	log_info("restored %u vCPU(s), %llu MiB from %s in %.2f ms (%s memory, clock %s)%s",
		 vm->nr_vcpus, (unsigned long long)(vm->mem.ram_size >> 20), rs.url.dir,
		 ms_since(&t0), rs.url.memory == MEM_FILE_COPY ? "copied" : "mapped",
		 rs.url.clock == VM_CLOCK_WALL ? "wall" : "continues",
		 resume ? "" : "; paused");
	return 0;
}
