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
#include "devices/devlist.h"
#include "devices/vm_port.h"
#include "mem/guest_mem.h"
#include "options.h"
#include "vm_ctl.h"

struct vcpu;
struct pci_bus;
struct uart;
struct legacy_devices;
struct ged;
struct ev_loop;
struct vm_stdin;

/* The reason as the log and the "shutdown" event give it. */
const char *vm_exit_reason_name(enum vm_exit_reason reason);

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
	struct vm_port port;		/* what platform devices get instead of struct vm */

	unsigned int nr_vcpus;
	struct vcpu *vcpus;

	/* devices: every one is in the list (lifecycle); a few are also named */
	struct vm_devices devices;
	struct uart *com1;		/* the console: the event loop feeds it stdin */
	struct legacy_devices *legacy;	/* i8042, RTC, fw_cfg, debug-exit, pvpanic, ACPI PM, reset */
	struct testdev *testdev;	/* --testdev, else NULL */
	struct pci_bus *pci;
	struct ged *ged;		/* ACPI Generic Event Device: the power button */
	int console_out_fd;		/* -1: console output dropped */

	/* lifecycle (vm_ctl.c); state is read and written on the loop thread only */
	enum vm_state state;
	bool reboot_pending;		/* vm_reboot() pressed the button: S5 means reboot */
	bool run_done;			/* vm_run()'s loop ends */
	bool booted;			/* vm_create() succeeded: there is a VM to destroy */
	bool boot_requested;		/* empty vmm: vm.boot arrived, main() calls vm_run() */
	bool restoring;			/* vm_create() for a restore: no kernel, no boot state (vm_restore.c) */
	bool migrating;			/* vm_migrate.c sends the VM (atomic: the API thread reads it) */
	bool migrate_cancel;		/* atomic, any thread: the migration stops, the VM runs on */

	/* pause: vCPUs park on pause_cond while pause_requested (vcpu.c) */
	pthread_mutex_t pause_lock;
	pthread_cond_t pause_cond;	/* vCPUs wait for resume; vm_pause() for nr_parked */
	bool pause_requested;
	unsigned int nr_parked;		/* vCPU threads parked */
	unsigned int nr_alive;		/* vCPU threads not yet ended */

	/* the event loop's own registrations (vm_loop.c) */
	int sig_fd;			/* signalfd: SIGINT, SIGTERM, SIGHUP */
	int halt_timer;			/* stopped-guest probes (vm_halt.c) */
	struct vm_stdin *stdin_state;	/* console input, while vm_run() runs */

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

/* vm_request_exit() and vm_irq_line(): devices/vm_port.h */

/*
 * vm_halt.c: called by the main loop every VM_HALT_PROBE_MS; ends the VM
 * with VMM_EXIT_HALTED once every vCPU has reported, VM_HALT_PROBES times
 * in a row, that it is stopped for good, and kicks them for the next report.
 */
#define VM_HALT_PROBE_MS	500
#define VM_HALT_PROBES		3
void vm_halt_tick(struct vm *vm);

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
