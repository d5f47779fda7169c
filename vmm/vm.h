/* SPDX-License-Identifier: MIT */
/*
 * struct vm: all state of one virtual machine.  Nothing lives in file
 * statics, so a test can build two VMs in one process.
 *
 * Functions below that take a struct vm and talk to KVM are implemented in
 * vmm/vm.c and vmm/irq.c.  Device code calls only these; unit tests link
 * small fakes of them instead (tests/unit/fake_vm.c).
 */
#ifndef VMM_VM_H
#define VMM_VM_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "devices/bus.h"
#include "mem/guest_mem.h"
#include "options.h"

struct vcpu;
struct pci_bus;
struct uart;
struct legacy_devices;
struct virtio_pci_dev;
struct ev_loop;

enum vm_exit_reason {
	VM_EXIT_POWEROFF,	/* ACPI S5 */
	VM_EXIT_RESET,		/* i8042 / 0xcf9 / ACPI reset */
	VM_EXIT_DEBUG,		/* debug-exit port: status (v << 1) | 1 */
	VM_EXIT_PANIC,		/* pvpanic */
	VM_EXIT_TRIPLE_FAULT,	/* KVM_EXIT_SHUTDOWN */
	VM_EXIT_INTERNAL,	/* KVM internal error, failed entry, unhandled exit */
	VM_EXIT_HOST,		/* host-side failure while running */
	VM_EXIT_USER,		/* Ctrl-A x */
	VM_EXIT_SIGNAL,		/* SIGINT / SIGTERM / SIGHUP */
	VM_EXIT_HALTED,		/* every vCPU stopped for good (vm_halt.c) */
};

#define VM_MAX_GSI_ROUTES	1024

struct vm {
	const struct vm_config *cfg;
	struct ev_loop *loop;		/* the event loop vm_run() runs on */

	/* state changes for the control socket's event stream (vm_ctl.h) */
	void (*event_cb)(void *opaque, const char *event, const char *reason, int status);
	void *event_opaque;
	int kvm_fd;
	int vm_fd;
	int vcpu_mmap_size;

	struct guest_mem mem;
	struct bus pio_bus;
	struct bus mmio_bus;

	unsigned int nr_vcpus;
	struct vcpu *vcpus;

	/* devices */
	struct uart *com1;
	struct legacy_devices *legacy;	/* i8042, RTC, fw_cfg, debug-exit, pvpanic, ACPI PM, reset */
	struct pci_bus *pci;
	struct virtio_pci_dev *disks[VMM_MAX_DISKS];
	unsigned int nr_disks;
	struct virtio_pci_dev *nics[VMM_MAX_NICS];
	unsigned int nr_nics;
	int console_out_fd;		/* -1: console output dropped */

	/* exit: first request wins; exit_evt wakes the main loop */
	pthread_mutex_t exit_lock;
	bool exit_requested;
	enum vm_exit_reason exit_reason;
	int exit_status;
	int exit_evt;

	/* stopped-guest probes (vm_halt.c): the main loop's generation */
	unsigned int halt_probe;
	unsigned int halt_streak;

	/* GSI routing table we own (KVM_SET_GSI_ROUTING replaces it whole) */
	pthread_mutex_t irq_lock;
	void *routing;			/* struct kvm_irq_routing *, VM_MAX_GSI_ROUTES entries */
	unsigned int next_msi_gsi;
};

/*
 * Ask the VM to stop with this reason.  status is the process exit status
 * (see exitcode.h).  Safe from any thread, any number of times: the first
 * call wins.  Returns immediately; vCPUs are stopped by the main loop.
 */
void vm_request_exit(struct vm *vm, enum vm_exit_reason reason, int status);

/*
 * vm_halt.c: called by the main loop every VM_HALT_PROBE_MS; ends the VM
 * with VMM_EXIT_HALTED once every vCPU has reported, VM_HALT_PROBES times
 * in a row, that it is stopped for good, and kicks them for the next report.
 */
#define VM_HALT_PROBE_MS	500
#define VM_HALT_PROBES		3
void vm_halt_tick(struct vm *vm);

/* Raise (level 1) or lower (0) a GSI on the in-kernel irqchip. 0 or -errno. */
int vm_irq_line(struct vm *vm, unsigned int gsi, int level);

/* Inject one MSI now (KVM_SIGNAL_MSI). 0 or -errno. */
int vm_msi_signal(struct vm *vm, uint64_t addr, uint32_t data);

/*
 * MSI routes for irqfd: vm_msi_route_add() allocates a GSI routed to
 * (addr, data); vm_msi_route_update() re-points it; vm_msi_route_del() frees
 * it.  0 / GSI >= 0 or -errno.
 */
int vm_msi_route_add(struct vm *vm, uint64_t addr, uint32_t data);
int vm_msi_route_update(struct vm *vm, unsigned int gsi, uint64_t addr, uint32_t data);
int vm_msi_route_del(struct vm *vm, unsigned int gsi);

/* Attach (assign) or detach an eventfd to a GSI (KVM_IRQFD). */
int vm_irqfd(struct vm *vm, int fd, unsigned int gsi, bool assign);

/*
 * Attach or detach an eventfd to guest writes of len bytes at addr
 * (KVM_IOEVENTFD), any value.  is_pio selects the port-I/O space.
 */
int vm_ioeventfd(struct vm *vm, int fd, uint64_t addr, unsigned int len,
		 bool is_pio, bool assign);

#endif
