/* SPDX-License-Identifier: MIT */
/*
 * Fakes of the KVM-facing functions of vm.h for unit tests and fuzzers:
 * they record what device code asked for instead of calling KVM.
 */
#ifndef VMM_FAKE_VM_H
#define VMM_FAKE_VM_H

#include "vm.h"

#define FAKE_MAX_GSI 64

struct fake_vm_record {
	int irq_level[FAKE_MAX_GSI];	/* last level per GSI */
	unsigned int irq_raises[FAKE_MAX_GSI];	/* 0->1 transitions */
	unsigned int msi_count;
	uint64_t last_msi_addr;
	uint32_t last_msi_data;
	bool exit_requested;
	enum vm_exit_reason exit_reason;
	int exit_status;
	unsigned int ioeventfds;	/* currently assigned */
	unsigned int irqfds;		/* currently assigned */
	unsigned int msi_routes;	/* currently allocated */
};

extern struct fake_vm_record fake_vm;

/* Zeroes vm and the record; sets up buses; gives vm guest RAM of ram_size at gpa 0 (malloc). */
int fake_vm_init(struct vm *vm, uint64_t ram_size);
void fake_vm_destroy(struct vm *vm);

/* The level of a GSI, read under the lock the I/O threads raise it with. */
int fake_vm_irq_level(unsigned int gsi);

#endif
