/* SPDX-License-Identifier: MIT */
/*
 * The sandbox: a seccomp allow-list per thread role (docs/sandbox.md).
 *
 * sandbox_init() runs once in main, before any thread exists: it records
 * the mode (--seccomp on|log|off) and installs the SIGSYS handler.  Then
 * every thread applies the list of its role to itself, once it holds every
 * host resource it will ever open and before it touches the guest:
 *
 *   vCPU threads      before their first KVM_RUN           SANDBOX_VCPU
 *   the main thread   before it enters its event loop       SANDBOX_MAIN
 *   block I/O threads when they start                       SANDBOX_BLOCK_IO
 *   control socket    when its thread starts serving        SANDBOX_API
 *   network I/O       when the thread starts                SANDBOX_NET_IO
 *   user networking   the slirp thread, when it starts      SANDBOX_NET_USER
 *
 * Filters are per thread (no SECCOMP_FILTER_FLAG_TSYNC) and inherited: a
 * thread started by a filtered thread runs under its creator's filter AND
 * its own, so the allowed set is the intersection.  vCPU threads start the
 * disk I/O threads when the guest activates a disk, so the vCPU list holds
 * what those threads need to start and run.
 *
 * The mode and the SIGSYS handler's table of syscall names are the one
 * piece of process-wide state here (like the log level): set once in main,
 * read-only afterwards.
 */
#ifndef VMM_SANDBOX_H
#define VMM_SANDBOX_H

enum sandbox_mode {
	SANDBOX_ON = 0,		/* default: a forbidden syscall ends vmm (status 18) */
	SANDBOX_LOG,		/* allowed, but the kernel logs it (audit / dmesg) */
	SANDBOX_OFF,		/* no filters */
};

enum sandbox_role {
	SANDBOX_MAIN,		/* the main thread and its event loop */
	SANDBOX_VCPU,		/* one per vCPU: KVM_RUN and device emulation */
	SANDBOX_BLOCK_IO,	/* virtio-blk queue threads, thread-pool workers */
	SANDBOX_API,		/* the control socket's thread */
	SANDBOX_NET_IO,		/* network backend threads (tap, vhost) */
	SANDBOX_NET_USER,	/* the libslirp thread: host sockets for the guest */
	SANDBOX_NR_ROLES,
};

/* "on", "log", "off" -> *mode.  0 or -EINVAL. */
int sandbox_parse_mode(const char *s, enum sandbox_mode *mode);
const char *sandbox_mode_name(enum sandbox_mode mode);
const char *sandbox_role_name(enum sandbox_role role);

/*
 * Once, in main, before any thread is created.  on_violation (may be NULL)
 * runs in the SIGSYS handler before the message: it must be
 * async-signal-safe and make only syscalls every role allows (e.g. restore
 * the terminal with tcsetattr on fd 0-2).  0 or -errno.
 */
int sandbox_init(enum sandbox_mode mode, void (*on_violation)(void));
enum sandbox_mode sandbox_get_mode(void);

/*
 * Applies role's allow-list to the calling thread (no-op when the mode is
 * off or sandbox_init was never called, as in unit tests).  0 or -errno;
 * the caller logs the failure and must not run the guest without it.
 */
int sandbox_apply(enum sandbox_role role);
/*
 * The same, with the KVM ioctls tied to their fds: the interrupt ioctls
 * only on vm_fd, the vCPU ioctls (KVM_RUN, register reads) only on vcpu_fd.
 * -1: any fd (threads of the core library, which do not know the fds).
 */
int sandbox_apply_kvm(enum sandbox_role role, int vm_fd, int vcpu_fd);

/*
 * sandbox_apply(role) unless the calling thread already applied role (for
 * threads a library starts, which run no code of ours before a callback:
 * libmicrohttpd's).  0 or -errno.
 */
int sandbox_apply_once(enum sandbox_role role);

/*
 * Refuses to run setuid/setgid: vmm needs no privilege but access to
 * /dev/kvm (group kvm).  0, or -EPERM after one line on stderr.
 */
int sandbox_check_privilege(void);

#endif
