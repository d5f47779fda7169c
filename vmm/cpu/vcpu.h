/* SPDX-License-Identifier: MIT */
/*
 * vCPUs: one thread each, running KVM_RUN and dispatching exits to the
 * buses.  The loop returns an outcome instead of exiting the process; the
 * main thread decides what the VM does.
 */
#ifndef VMM_VCPU_H
#define VMM_VCPU_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct vm;
struct boot_entry;

/* Exits reaching vmm, by reason (vm.counters, docs/control.md). */
enum vcpu_exit_kind {
	VCPU_EXIT_IO,		/* port I/O */
	VCPU_EXIT_MMIO,
	VCPU_EXIT_HLT,
	VCPU_EXIT_INTR,		/* KVM_EXIT_INTR */
	VCPU_EXIT_KICK,		/* KVM_RUN interrupted by a kick (pause, stop, probe) */
	VCPU_EXIT_SYSTEM,	/* system event: shutdown, reset, crash */
	VCPU_EXIT_OTHER,	/* everything else (each ends the VM) */
	VCPU_EXIT_NR
};

struct vcpu {
	struct vm *vm;
	unsigned int id;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	bool thread_started;
	struct exit_stats *stats;	/* -vv only: exit_stats.c */
	/* written by the vCPU thread only; others read them with relaxed atomics */
	uint64_t exits[VCPU_EXIT_NR];
	int kvm_stats_fd;	/* KVM_GET_STATS_FD, or -1: set once by the vCPU thread */
	/* the last stopped-guest probe answered, and the answer (vm_halt.c) */
	unsigned int probe_done;
	bool stopped;
};

int vcpu_create(struct vm *vm, unsigned int id, struct vcpu *vcpu);
void vcpu_destroy(struct vcpu *vcpu);

/* x86.c: CPUID, MSRs, FPU, LAPIC LINT0/1 for every vCPU. */
int vcpu_init_x86(struct vcpu *vcpu);
/* x86.c: after the last vcpu_init_x86: one TSC and kvmclock for all vCPUs. */
int x86_clock_init(struct vm *vm);
/* x86_boot.c: the boot vCPU's registers, GDT and page tables for entry. */
int vcpu_setup_boot(struct vcpu *vcpu, const struct boot_entry *entry);

int vcpu_start(struct vcpu *vcpu);
/* Makes a running vCPU leave KVM_RUN and its thread return. */
void vcpu_kick(struct vcpu *vcpu);
void vcpu_join(struct vcpu *vcpu);

/* exit_stats.c: counted at debug level only, printed when the thread ends. */
struct exit_stats;
void exit_stats_init(struct vcpu *vcpu);
void exit_stats_io(struct vcpu *vcpu, uint16_t port);
void exit_stats_mmio(struct vcpu *vcpu, uint64_t addr);
void exit_stats_report(struct vcpu *vcpu);
/* Counts one exit of this kind (the vCPU's own thread). */
static inline void vcpu_count_exit(struct vcpu *vcpu, enum vcpu_exit_kind k)
{
	__atomic_store_n(&vcpu->exits[k], __atomic_load_n(&vcpu->exits[k], __ATOMIC_RELAXED) + 1,
			 __ATOMIC_RELAXED);
}
/* "io", "mmio", ...: the counter's name in vm.counters */
const char *vcpu_exit_kind_name(unsigned int k);
/* The vCPU's own thread: opens kvm_stats_fd (KVM's binary stats) if it can. */
void vcpu_kvm_stats_open(struct vcpu *vcpu);
/* fn(name, value) for KVM's exit counters the stats fd has ("exits", "io_exits", ...). */
int vcpu_kvm_stats_each(int fd, void (*fn)(void *opaque, const char *name, uint64_t v),
			void *opaque);

/*
 * vm_halt.c, on the vCPU's own thread after a kick: answers the main
 * loop's probe, if one is pending, with whether this vCPU can ever run
 * again.
 */
void vcpu_answer_probe(struct vcpu *vcpu);

/* crash.c: registers, segments, control registers, code at RIP (capstone). */
void vcpu_crash_report(struct vcpu *vcpu, const char *why);

/* Signal used to kick vCPU threads out of KVM_RUN. */
#define VCPU_KICK_SIGNAL SIGUSR1

#endif
