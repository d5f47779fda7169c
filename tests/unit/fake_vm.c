// SPDX-License-Identifier: MIT
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "fake_vm.h"

struct fake_vm_record fake_vm;
/* I/O threads of several devices call these at once (vm_irq.c has irq_lock) */
static pthread_mutex_t fake_vm_lock = PTHREAD_MUTEX_INITIALIZER;

int fake_vm_init(struct vm *vm, uint64_t ram_size)
{
	void *ram;

	memset(vm, 0, sizeof(*vm));
	memset(&fake_vm, 0, sizeof(fake_vm));
	vm->kvm_fd = vm->vm_fd = vm->exit_evt = -1;
	vm->console_out_fd = -1;
	vm->sig_fd = vm->halt_timer = -1;
	vm->state = VM_STATE_RUNNING;
	vm->nr_vcpus = 1;
	pthread_mutex_init(&vm->exit_lock, NULL);
	pthread_mutex_init(&vm->irq_lock, NULL);
	pthread_mutex_init(&vm->pause_lock, NULL);
	pthread_cond_init(&vm->pause_cond, NULL);
	if (bus_init(&vm->pio_bus, "pio") || bus_init(&vm->mmio_bus, "mmio"))
		return -ENOMEM;
	vm->next_msi_gsi = 24;
	vm->port = (struct vm_port){
		.vm = vm, .pio_bus = &vm->pio_bus, .mmio_bus = &vm->mmio_bus,
		.mem = &vm->mem, .nr_vcpus = vm->nr_vcpus,
	};
	if (!ram_size)
		return 0;
	ram = calloc(1, ram_size);
	if (!ram)
		return -ENOMEM;
	return gm_add_region(&vm->mem, 0, ram_size, ram);
}

void fake_vm_destroy(struct vm *vm)
{
	unsigned int i;

	for (i = 0; i < vm->mem.nr_regions; i++)
		free(vm->mem.regions[i].hva);
	bus_destroy(&vm->pio_bus);
	bus_destroy(&vm->mmio_bus);
}

void vm_request_exit(struct vm *vm, enum vm_exit_reason reason, int status)
{
	if (fake_vm.exit_requested)
		return;
	fake_vm.exit_requested = true;
	fake_vm.exit_reason = reason;
	fake_vm.exit_status = status;
	if (vm) {
		vm->exit_requested = true;
		vm->exit_reason = reason;
		vm->exit_status = status;
	}
}

int fake_vm_irq_level(unsigned int gsi)
{
	int level;

	pthread_mutex_lock(&fake_vm_lock);
	level = gsi < FAKE_MAX_GSI ? fake_vm.irq_level[gsi] : 0;
	pthread_mutex_unlock(&fake_vm_lock);
	return level;
}

int vm_irq_line(struct vm *vm, unsigned int gsi, int level)
{
	if (gsi >= FAKE_MAX_GSI)
		return -EINVAL;
	pthread_mutex_lock(&fake_vm_lock);
	if (level && !fake_vm.irq_level[gsi])
		fake_vm.irq_raises[gsi]++;
	fake_vm.irq_level[gsi] = !!level;
	pthread_mutex_unlock(&fake_vm_lock);
	return 0;
}

int vm_msi_signal(struct vm *vm, uint64_t addr, uint32_t data)
{
	pthread_mutex_lock(&fake_vm_lock);
	fake_vm.msi_count++;
	fake_vm.last_msi_addr = addr;
	fake_vm.last_msi_data = data;
	pthread_mutex_unlock(&fake_vm_lock);
	return 0;
}

int vm_msi_route_add(struct vm *vm, uint64_t addr, uint32_t data)
{
	int gsi;

	pthread_mutex_lock(&fake_vm_lock);
	fake_vm.msi_routes++;
	gsi = (int)vm->next_msi_gsi++;
	pthread_mutex_unlock(&fake_vm_lock);
	return gsi;
}

int vm_msi_route_update(struct vm *vm, unsigned int gsi, uint64_t addr, uint32_t data)
{
	return 0;
}

int vm_msi_route_del(struct vm *vm, unsigned int gsi)
{
	int ret = 0;

	pthread_mutex_lock(&fake_vm_lock);
	if (fake_vm.msi_routes)
		fake_vm.msi_routes--;
	else
		ret = -ENOENT;
	pthread_mutex_unlock(&fake_vm_lock);
	return ret;
}

int vm_irqfd(struct vm *vm, int fd, unsigned int gsi, bool assign)
{
	pthread_mutex_lock(&fake_vm_lock);
	if (assign)
		fake_vm.irqfds++;
	else if (fake_vm.irqfds)
		fake_vm.irqfds--;
	pthread_mutex_unlock(&fake_vm_lock);
	return 0;
}

int vm_ioeventfd(struct vm *vm, int fd, uint64_t addr, unsigned int len,
		 bool is_pio, bool assign)
{
	if (assign)
		fake_vm.ioeventfds++;
	else if (fake_vm.ioeventfds)
		fake_vm.ioeventfds--;
	return 0;
}
