// SPDX-License-Identifier: MIT
/*
 * VM set-up and teardown: /dev/kvm, the VM, its memory slots, the
 * in-kernel irqchip and PIT, the devices, firmware tables, the kernel, and
 * the vCPUs.  Each failure is reported once, with what to do about it.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "boot/boot.h"
#include "cpu/vcpu.h"
#include "log.h"
#include "mem/layout.h"
#include "mem/ram.h"
#include "net/vhost.h"
#include "block/block.h"
#include "virtio/virtio_net.h"
#include "vm.h"
#include "vm_runtime.h"

#define KVM_TSS_ADDR		0xfffbd000ULL
#define KVM_IDENTITY_MAP_ADDR	0xfffbc000ULL

static int kvm_open(struct vm *vm)
{
	static const struct { int cap; const char *name; } caps[] = {
		{ KVM_CAP_IRQCHIP, "in-kernel irqchip" },
		{ KVM_CAP_USER_MEMORY, "user memory" },
		{ KVM_CAP_IMMEDIATE_EXIT, "immediate exit" },
		{ KVM_CAP_IRQFD, "irqfd" },
		{ KVM_CAP_IOEVENTFD, "ioeventfd" },
		{ KVM_CAP_IRQ_ROUTING, "irq routing" },
		{ KVM_CAP_PIT2, "in-kernel PIT" },
	};
	unsigned int i;
	int ret;

	vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0) {
		ret = -errno;
		if (errno == ENOENT)
			log_err("/dev/kvm does not exist: KVM is not available here "
				"(load kvm-intel or kvm-amd, enable virtualization in the "
				"firmware, or use a host with nested virtualization)");
		else if (errno == EACCES || errno == EPERM)
			log_err("cannot open /dev/kvm: permission denied "
				"(add yourself to the kvm group: sudo usermod -aG kvm $USER, "
				"then log in again)");
		else
			log_err("cannot open /dev/kvm: %s", strerror(errno));
		return ret;
	}
	ret = ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0);
	if (ret != KVM_API_VERSION) {
		log_err("/dev/kvm speaks KVM API version %d, vmm needs %d", ret, KVM_API_VERSION);
		return -ENOTSUP;
	}
	for (i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, caps[i].cap) <= 0) {
			log_err("this KVM lacks %s (KVM_CAP %d), which vmm needs; "
				"use a newer host kernel", caps[i].name, caps[i].cap);
			return -ENOTSUP;
		}
	}
	vm->vcpu_mmap_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vm->vcpu_mmap_size < (int)sizeof(struct kvm_run)) {
		log_err("KVM_GET_VCPU_MMAP_SIZE failed: %s", strerror(errno));
		return -ENOTSUP;
	}
	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0) {
		ret = -errno;
		log_err("KVM_CREATE_VM failed: %s", strerror(errno));
		return ret;
	}
	return 0;
}

static int kvm_platform(struct vm *vm)
{
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };

	/* Intel VMX needs these two pages for real-mode emulation; in the hole */
	if (ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, (unsigned long)KVM_TSS_ADDR) < 0)
		log_debug("KVM_SET_TSS_ADDR: %s (ignored)", strerror(errno));
	{
		uint64_t addr = KVM_IDENTITY_MAP_ADDR;

		if (ioctl(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &addr) < 0)
			log_debug("KVM_SET_IDENTITY_MAP_ADDR: %s (ignored)", strerror(errno));
	}
	if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0) {
		log_err("KVM_CREATE_IRQCHIP failed: %s", strerror(errno));
		return -errno;
	}
	if (ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit) < 0) {
		log_err("KVM_CREATE_PIT2 failed: %s", strerror(errno));
		return -errno;
	}
	return vm_irq_routing_init(vm);
}

static int memory_add(struct vm *vm, unsigned int slot, uint64_t gpa, uint64_t size)
{
	struct kvm_userspace_memory_region r;
	void *hva;
	int ret;

	hva = ram_map(size);
	if (hva == MAP_FAILED) {
		ret = -errno;
		log_err("cannot allocate %llu MiB of guest memory: %s (try a smaller --memory)",
			(unsigned long long)(size >> 20), strerror(errno));
		return ret;
	}
	ret = gm_add_region(&vm->mem, gpa, size, hva);
	if (ret) {
		munmap(hva, size);
		return ret;
	}
	r = (struct kvm_userspace_memory_region){
		.slot = slot,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uintptr_t)hva,
	};
	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0) {
		ret = -errno;
		log_err("KVM_SET_USER_MEMORY_REGION (slot %u, %llu MiB at 0x%llx) failed: %s",
			slot, (unsigned long long)(size >> 20), (unsigned long long)gpa,
			strerror(errno));
		return ret;
	}
	return 0;
}

static int memory_create(struct vm *vm, uint64_t size)
{
	uint64_t low = size < LAYOUT_MMIO_HOLE_START ? size : LAYOUT_MMIO_HOLE_START;
	int ret;

	ret = memory_add(vm, 0, 0, low);
	if (!ret && size > low)
		ret = memory_add(vm, 1, LAYOUT_MMIO_HOLE_END, size - low);
	return ret;
}

static int console_open(struct vm *vm, const struct vm_config *cfg)
{
	switch (cfg->console) {
	case CONSOLE_STDIO:
		vm->console_out_fd = STDOUT_FILENO;
		return 0;
	case CONSOLE_NONE:
		vm->console_out_fd = -1;
		return 0;
	case CONSOLE_FILE:
		vm->console_out_fd = open(cfg->console_path,
					  O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (vm->console_out_fd < 0) {
			int ret = -errno;

			log_err("--console file:%s: cannot open for writing: %s",
				cfg->console_path, strerror(errno));
			return ret;
		}
		return 0;
	}
	return -EINVAL;
}

static int boot_prepare(struct vm *vm, const struct vm_config *cfg, struct boot_entry *entry)
{
	char err[512] = "";
	int ret;

	ret = acpi_build(&vm->mem, vm->nr_vcpus);
	if (ret) {
		log_err("cannot build ACPI tables: %s", strerror(-ret));
		return ret;
	}
	ret = firmware_install(&vm->mem);
	if (ret) {
		log_err("cannot install the reset-vector stub: %s", strerror(-ret));
		return ret;
	}
	ret = mptable_build(&vm->mem, vm->nr_vcpus);
	if (ret) {
		log_err("cannot build the MP table: %s", strerror(-ret));
		return ret;
	}
	log_debug("VM, devices and firmware tables set up; loading the kernel");
	ret = boot_load(&vm->mem, cfg, entry, err, sizeof(err));
	if (ret) {
		log_err("%s", err[0] ? err : strerror(-ret));
		return ret;
	}
	log_info("booting %s %s: %u vCPU(s), %llu MiB", entry->kind, cfg->kernel,
		 vm->nr_vcpus, (unsigned long long)(cfg->memory >> 20));
	return 0;
}

static int vcpus_create(struct vm *vm, const struct boot_entry *entry)
{
	unsigned int i;
	int ret;

	vm->vcpus = calloc(vm->nr_vcpus, sizeof(*vm->vcpus));
	if (!vm->vcpus)
		return -ENOMEM;
	for (i = 0; i < vm->nr_vcpus; i++)
		vm->vcpus[i].fd = -1;
	for (i = 0; i < vm->nr_vcpus; i++) {
		ret = vcpu_create(vm, i, &vm->vcpus[i]);
		if (ret)
			return ret;
		ret = vcpu_init_x86(&vm->vcpus[i]);
		if (ret)
			return ret;
	}
	ret = x86_clock_init(vm);
	if (ret || vm->restoring)	/* a restore sets every register from the state file */
		return ret;
	return vcpu_setup_boot(&vm->vcpus[0], entry);
}

int vm_init(struct vm *vm, struct ev_loop *loop)
{
	int ret;

	memset(vm, 0, sizeof(*vm));
	vm->loop = loop;
	vm->kvm_fd = vm->vm_fd = vm->exit_evt = vm->console_out_fd = -1;
	vm->sig_fd = vm->halt_timer = -1;
	vm->state = VM_STATE_CREATED;
	pthread_mutex_init(&vm->exit_lock, NULL);
	pthread_mutex_init(&vm->irq_lock, NULL);
	pthread_mutex_init(&vm->pause_lock, NULL);
	pthread_cond_init(&vm->pause_cond, NULL);
	vm->exit_evt = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vm->exit_evt < 0) {
		ret = -errno;
		log_err("eventfd: %s", strerror(errno));
		return ret;
	}
	ret = vm_loop_init(vm);
	if (ret) {
		log_err("cannot set up the event loop: %s", strerror(-ret));
		vm_fini(vm);
	}
	return ret;
}

void vm_fini(struct vm *vm)
{
	vm_loop_fini(vm);
	if (vm->exit_evt >= 0)
		close(vm->exit_evt);
	vm->exit_evt = -1;
}

bool vm_exit_pending(const struct vm *vm)
{
	return vm->state == VM_STATE_SHUTDOWN;
}

/* Everything that a reset rebuilds: KVM's VM, memory, devices, firmware, vCPUs. */
static int vm_build(struct vm *vm, struct blk_image **imgs, struct vnet_keep *nets)
{
	struct boot_entry entry;
	int ret;

	vm->nr_vcpus = vm->cfg->cpus;
	vm->port = (struct vm_port){
		.vm = vm, .pio_bus = &vm->pio_bus, .mmio_bus = &vm->mmio_bus,
		.mem = &vm->mem, .nr_vcpus = vm->nr_vcpus,
	};
	ret = bus_init(&vm->pio_bus, "pio");
	if (!ret)
		ret = bus_init(&vm->mmio_bus, "mmio");
	if (!ret)
		ret = kvm_open(vm);
	if (!ret)
		ret = kvm_platform(vm);
	if (!ret)
		ret = memory_create(vm, vm->cfg->memory);
	if (!ret)
		ret = vm_devices_create(vm, imgs, nets);
	if (!ret && !vm->restoring)	/* a restore's guest memory comes from the memory file */
		ret = boot_prepare(vm, vm->cfg, &entry);
	if (!ret)
		ret = vcpus_create(vm, &entry);
	return ret;
}

/* Undoes vm_build; the vCPU threads must have ended. */
static void vm_teardown(struct vm *vm)
{
	unsigned int i;

	if (vm->vcpus) {
		for (i = 0; i < vm->nr_vcpus; i++) {
			vcpu_join(&vm->vcpus[i]);
			vcpu_destroy(&vm->vcpus[i]);
		}
		free(vm->vcpus);
		vm->vcpus = NULL;
	}
	vm_devices_destroy(&vm->devices);
	for (i = 0; i < vm->mem.nr_regions; i++)
		munmap(vm->mem.regions[i].hva, vm->mem.regions[i].size);
	memset(&vm->mem, 0, sizeof(vm->mem));
	free(vm->routing);
	vm->routing = NULL;
	vm->next_msi_gsi = 0;
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	vm->vm_fd = vm->kvm_fd = -1;
	bus_destroy(&vm->pio_bus);
	bus_destroy(&vm->mmio_bus);
}

int vm_create(struct vm *vm, const struct vm_config *cfg)
{
	int ret;

	vm->cfg = cfg;
	ret = console_open(vm, cfg);
	if (!ret)
		ret = vm_build(vm, NULL, NULL);
	if (ret)
		goto err;
	vm->booted = true;
	return 0;
err:
	vm_destroy(vm);
	return ret;
}

int vm_rebuild(struct vm *vm)
{
	struct blk_image *imgs[VMM_MAX_DISKS] = { NULL };
	struct vnet_keep nets[VMM_MAX_NICS] = { { NULL, NULL } };
	unsigned int i;
	int ret;

	vm_devices_take_images(vm, imgs);
	vm_devices_take_nets(vm, nets);	/* a --net fd=N tap cannot be opened again */
	vm_teardown(vm);
	ret = vm_build(vm, imgs, nets);
	for (i = 0; i < VMM_MAX_DISKS; i++)	/* not taken back: a failed build */
		if (imgs[i])
			blk_image_close(imgs[i]);
	for (i = 0; i < VMM_MAX_NICS; i++) {
		vhost_net_close(nets[i].vhost);
		net_backend_close(nets[i].be);
	}
	if (ret) {
		log_err("cannot rebuild the VM for the reset: %s", strerror(-ret));
		vm_teardown(vm);
		vm->booted = false;
	}
	return ret;
}

void vm_destroy(struct vm *vm)
{
	vm_teardown(vm);
	vm->booted = false;
	if (vm->console_out_fd > STDERR_FILENO)
		close(vm->console_out_fd);
	vm->console_out_fd = -1;
}
