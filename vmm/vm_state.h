/* SPDX-License-Identifier: MIT */
/*
 * Snapshot and restore of a whole VM (docs/snapshot.md), on the event-loop
 * thread only (the control socket reaches them through ev_call()).
 *
 *   vm_snapshot()  pauses the VM (if it runs) and writes it to a snapshot
 *                  directory: DIR/state (header, config JSON, host
 *                  fingerprint, memory layout, every vCPU, the VM's KVM
 *                  state, every device, END) and DIR/memory-XXXXXX (the
 *                  sparse RAM).  The VM stays paused unless resume.
 *   vm_restore()   reads and checks DIR/state, builds the VM from its
 *                  config without a kernel, maps (or copies) the memory
 *                  file, puts every device, the VM's KVM state and every
 *                  vCPU back, and leaves the VM paused (resume: running)
 *                  for vm_run().
 *
 * Errors: -errno with one line in err (also logged).  For vm_restore(),
 * *refused says the state file itself cannot be restored here (wrong
 * format, corrupt, truncated, memory size, host CPU or KVM, device state
 * missing): main() exits with VMM_EXIT_RESTORE; anything else is a host
 * error (VMM_EXIT_HOST).
 */
#ifndef VMM_VM_STATE_H
#define VMM_VM_STATE_H

#include <stdbool.h>
#include <stddef.h>

#include "state/mem_file.h"
#include "state/state_file.h"
#include "state/state_url.h"
#include "state/vm_kvm_state.h"

struct vm;
struct vm_config;

/* This host's KVM capabilities a restore relies on (vm_snapshot.c). */
void vm_state_host(const struct vm *vm, struct state_host *h);

/*
 * Whether every device of vm can save (save) or restore (!save) its state:
 * a device without that op would come back at power-on, a broken VM, so
 * snapshot, restore and migration refuse (what: "snapshot", ...).  0 or
 * -EOPNOTSUPP with err naming it.
 */
int vm_state_devices_check(const struct vm *vm, bool save, const char *what, char *err,
			   size_t errlen);

/* One disk section per --disk (disk_state.h); a snapshot=on disk is refused. */
int vm_state_write_disks(const struct vm *vm, struct state_writer *w, char *err, size_t errlen);
/* The saved disks against cfg's and the images now: -EINVAL (with err) if one changed. */
int vm_state_check_disks(const struct vm_config *cfg, const struct disk_state *disks,
			 uint32_t have, char *err, size_t errlen);

int vm_snapshot(struct vm *vm, const char *url, bool resume, char *err, size_t errlen);

/*
 * cfg: main's configuration; its VM fields are replaced by the saved
 * config JSON (strings in *arena, which the caller frees), its process
 * fields (name, socket, console, seccomp, verbosity) are kept.
 */
int vm_restore(struct vm *vm, struct vm_config *cfg, char **arena, const char *url,
	       bool resume, bool *refused, char *err, size_t errlen);

/* vm_restore.c, shared with the migration receiver: -EINVAL when the saved VM is at fault. */
int vm_restore_check_host(struct vm *vm, const struct state_image *img, char *err,
			  size_t errlen);
/* The VM's KVM state, then every vCPU's (the VM built from the same config, not run). */
int vm_restore_put_cpu_state(struct vm *vm, struct state_image *img,
			     enum vm_clock_policy clock, char *err, size_t errlen);

/*
 * Live migration (vm_migrate.c, vm_migrate_recv.c; docs/migration.md).
 * url: unix:PATH or tcp:HOST:PORT.
 *   vm_migrate_send()  the source, on the event loop: pre-copy rounds with
 *                      KVM's dirty log, then pause and the rest; on success
 *                      the VM ends (vmm exits 0); on any failure it runs on.
 *   vm_incoming()      the destination, from main() before vm_run(): waits
 *                      for one source, builds the VM from the stream, and
 *                      leaves it ready to run.  *refused as for vm_restore().
 */
struct api_migration_stats;
int vm_migrate_send(struct vm *vm, const char *url, struct api_migration_stats *st,
		    char *err, size_t errlen);
int vm_incoming(struct vm *vm, struct vm_config *cfg, char **arena, const char *url,
		bool *refused, char *err, size_t errlen);
/* Connects to (listen false) or listens on and accepts one peer of url. fd or -errno. */
int vm_migrate_socket(const char *url, bool listen, char *err, size_t errlen);

#endif
