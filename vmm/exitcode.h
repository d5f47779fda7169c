/* SPDX-License-Identifier: MIT */
/*
 * The exit-status contract (docs/exit-status.md).  Scripts depend on these
 * numbers: never renumber.  All of vmm's own codes are even so that they can
 * never be confused with a debug-exit status, which is always odd.
 */
#ifndef VMM_EXITCODE_H
#define VMM_EXITCODE_H

#define VMM_EXIT_OK		0	/* guest powered off or rebooted; Ctrl-A x */
/* 1, 3, 5, ... 255: debug-exit port 0xf4, status (v << 1) | 1 */
#define VMM_EXIT_USAGE		2	/* bad command line */
#define VMM_EXIT_HOST		4	/* host error: /dev/kvm, files, resources */
#define VMM_EXIT_PANIC		6	/* guest kernel panic (pvpanic) */
#define VMM_EXIT_TRIPLE_FAULT	8	/* guest triple fault (KVM_EXIT_SHUTDOWN) */
#define VMM_EXIT_INTERNAL	10	/* KVM internal error, failed entry, unhandled exit */
#define VMM_EXIT_HALTED		12	/* every vCPU halted with interrupts off */
#define VMM_EXIT_QUIT		14	/* quit (virsh destroy) from the control socket */
#define VMM_EXIT_POWERDOWN_TIMEOUT 16	/* powerdown --timeout ran out; the VM was quit */
#define VMM_EXIT_SECCOMP	18	/* a thread made a syscall its seccomp filter forbids */
#define VMM_EXIT_RESTORE	20	/* --restore refused the state file: format, corrupt, memory, host CPU */
/* 128 + N: vmm was stopped by signal N (SIGINT, SIGTERM, SIGHUP) */
#define VMM_EXIT_SIGNAL_BASE	128

#endif
