// SPDX-License-Identifier: MIT
/*
 * Per-thread seccomp allow-lists (see sandbox.h and docs/sandbox.md).
 *
 * Each role's list is a table of syscall names; ioctl is allowed only by
 * request number (the KVM ioctls the role issues at run time, the terminal
 * ones for isatty() and restoring the console).  Anything else:
 *   on   SECCOMP_RET_TRAP -> SIGSYS -> one line naming the syscall, exit 18
 *   log  SECCOMP_RET_LOG: allowed, and the kernel logs it (audit / dmesg)
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include <linux/if_tun.h>
#include <linux/kvm.h>
#include <linux/vhost.h>
#include <seccomp.h>

#include "exitcode.h"
#include "log.h"
#include "sandbox.h"

#define SANDBOX_MAX_SYSCALL	512	/* names kept for the SIGSYS handler */

/* Set once by sandbox_init() in main before any thread exists; read-only after. */
static enum sandbox_mode sandbox_mode = SANDBOX_OFF;
static bool sandbox_ready;
static void (*sandbox_on_violation)(void);
static const char *sandbox_syscall_names[SANDBOX_MAX_SYSCALL];
/* the calling thread's role, for the SIGSYS message */
static __thread int sandbox_thread_role = -1;

static const char *const role_names[SANDBOX_NR_ROLES] = {
	[SANDBOX_MAIN] = "main",
	[SANDBOX_VCPU] = "vCPU",
	[SANDBOX_BLOCK_IO] = "block I/O",
	[SANDBOX_API] = "control socket",
	[SANDBOX_NET_IO] = "network I/O",
	[SANDBOX_NET_USER] = "user networking",
};

/* Every thread: memory, locks, time, its own exit, logging, signals to itself. */
static const char *const sys_common[] = {
	"read", "write", "readv", "writev", "close", "futex", "mmap", "munmap",
	"mprotect", "madvise", "mremap", "brk", "rt_sigreturn", "rt_sigprocmask",
	"rt_sigaction", "sigaltstack", "exit", "exit_group", "restart_syscall",
	"clock_gettime", "clock_nanosleep", "nanosleep", "gettimeofday", "time",
	"sched_yield", "getpid", "gettid", "getrandom", "fstat",
	"sysinfo",		/* qsort() asks for the RAM size (crash report) */
	NULL,
};

/* Starting threads (pthread_create) and what a new thread does before its function runs. */
static const char *const sys_threads[] = {
	"clone", "clone3", "set_robust_list", "rseq", NULL,
};

/* Disk images: already open; read, write, flush, grow. */
static const char *const sys_disk[] = {
	"pread64", "pwrite64", "preadv", "pwritev", "preadv2", "pwritev2", "lseek",
	"fsync", "fdatasync", "fallocate", "ftruncate", "sync_file_range",
	"io_uring_enter", "io_uring_register", NULL,
};

/* Waiting on fds. */
static const char *const sys_poll[] = {
	"epoll_wait", "epoll_pwait", "epoll_ctl", "ppoll", "poll", NULL,
};

/* Setting up a device's fds when the guest activates it (vCPU, main). */
static const char *const sys_devsetup[] = {
	"eventfd2", "epoll_create1", "io_uring_setup", NULL,
};

static const char *const sys_main[] = {
	"timerfd_settime", "timerfd_gettime", "fcntl", "flock", NULL,
};

/*
 * libmicrohttpd: its listening thread accepts and starts a thread per
 * connection (allow_thread_start), both wait in select() or poll().
 */
static const char *const sys_api[] = {
	"accept4", "accept", "recvfrom", "recvmsg", "sendto", "sendmsg", "shutdown",
	"getsockopt", "setsockopt", "getsockname", "getpeername", "fcntl", "eventfd2",
	"select", "pselect6",
	"sched_getaffinity",	/* glibc's CPU count, its last fallback (below) */
	NULL,
};

static const char *const sys_net[] = {
	"recvfrom", "recvmsg", "sendto", "sendmsg", NULL,
};

/*
 * libslirp (--net user): the guest's outbound TCP/UDP/ICMP become host
 * sockets made at run time (socket() is limited to AF_INET/AF_INET6 below),
 * hostfwd connections are accepted on listeners bound before the filter.
 * fcntl: O_NONBLOCK on new sockets; FIONREAD (below): UDP datagram size.
 */
static const char *const sys_net_user[] = {
	"connect", "accept", "accept4", "bind", "listen", "getsockname", "getpeername",
	"getsockopt", "setsockopt", "shutdown", "sendto", "recvfrom", "sendmsg", "recvmsg",
	"fcntl", NULL,
};

/* KVM ioctls by role; 0 ends a list. */
static const unsigned long ioctl_kvm_irq[] = {
	KVM_IRQ_LINE, KVM_IRQ_LINE_STATUS, KVM_SIGNAL_MSI, KVM_SET_GSI_ROUTING,
	KVM_IRQFD, KVM_IOEVENTFD, 0,
};
static const unsigned long ioctl_kvm_vcpu[] = {
	KVM_RUN, KVM_GET_REGS, KVM_GET_SREGS, KVM_GET_MP_STATE, KVM_GET_VCPU_EVENTS,
	KVM_TRANSLATE, KVM_GET_LAPIC, KVM_GET_FPU, KVM_GET_MSRS,
	KVM_GET_STATS_FD,	/* -vv: the exit counters, read when the thread ends */
	KVM_KVMCLOCK_CTRL,	/* pause: the guest's watchdog must not count the pause */
	0,
};
/*
 * virtio-net: what activation, reset, pause and the control queue ask of a
 * tap and of vhost-net (opening them, TUNSETIFF and VHOST_SET_OWNER happen
 * before any filter).
 */
static const unsigned long ioctl_net[] = {
	TUNSETOFFLOAD, TUNSETQUEUE, TUNSETVNETHDRSZ,
	VHOST_SET_MEM_TABLE, VHOST_SET_FEATURES, VHOST_SET_VRING_NUM, VHOST_SET_VRING_BASE,
	VHOST_GET_VRING_BASE, VHOST_SET_VRING_ADDR, VHOST_SET_VRING_KICK,
	VHOST_SET_VRING_CALL, VHOST_NET_SET_BACKEND,
	0,
};

int sandbox_parse_mode(const char *s, enum sandbox_mode *mode)
{
	if (!strcmp(s, "on"))
		*mode = SANDBOX_ON;
	else if (!strcmp(s, "log"))
		*mode = SANDBOX_LOG;
	else if (!strcmp(s, "off"))
		*mode = SANDBOX_OFF;
	else
		return -EINVAL;
	return 0;
}

const char *sandbox_mode_name(enum sandbox_mode mode)
{
	return mode == SANDBOX_ON ? "on" : mode == SANDBOX_LOG ? "log" : "off";
}

const char *sandbox_role_name(enum sandbox_role role)
{
	return (unsigned int)role < SANDBOX_NR_ROLES ? role_names[role] : "unknown";
}

enum sandbox_mode sandbox_get_mode(void)
{
	return sandbox_ready ? sandbox_mode : SANDBOX_OFF;
}

/* async-signal-safe helpers for the SIGSYS handler */
static size_t put_str(char *buf, size_t pos, size_t cap, const char *s)
{
	while (*s && pos + 1 < cap)
		buf[pos++] = *s++;
	return pos;
}

static size_t put_hex(char *buf, size_t pos, size_t cap, unsigned long v)
{
	static const char digits[] = "0123456789abcdef";
	char tmp[16];
	size_t n = 0;

	do {
		tmp[n++] = digits[v & 15];
		v >>= 4;
	} while (v && n < sizeof(tmp));
	pos = put_str(buf, pos, cap, "0x");
	while (n && pos + 1 < cap)
		buf[pos++] = tmp[--n];
	return pos;
}

static size_t put_num(char *buf, size_t pos, size_t cap, long v)
{
	char tmp[24];
	size_t n = 0;

	if (v < 0) {
		pos = put_str(buf, pos, cap, "-");
		v = -v;
	}
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v && n < sizeof(tmp));
	while (n && pos + 1 < cap)
		buf[pos++] = tmp[--n];
	return pos;
}

static void sigsys_handler(int sig, siginfo_t *si, void *uc)
{
	char msg[320];
	size_t n = 0;
	int nr = si->si_syscall, role = sandbox_thread_role;
	const char *name = nr >= 0 && nr < SANDBOX_MAX_SYSCALL ? sandbox_syscall_names[nr] : NULL;
	ssize_t w;

	(void)sig;
	if (sandbox_on_violation)
		sandbox_on_violation();
	n = put_str(msg, n, sizeof(msg), "vmm: error: seccomp: the ");
	n = put_str(msg, n, sizeof(msg),
		    role >= 0 && role < SANDBOX_NR_ROLES ? role_names[role] :
		    "new (not yet in its role: its creator's filter)");
	n = put_str(msg, n, sizeof(msg), " thread made the forbidden system call ");
	n = put_str(msg, n, sizeof(msg), name ? name : "?");
	n = put_str(msg, n, sizeof(msg), " (");
	n = put_num(msg, n, sizeof(msg), nr);
#ifdef __x86_64__
	if (nr == SCMP_SYS(ioctl)) {	/* which request: the second argument */
		n = put_str(msg, n, sizeof(msg), ", request ");
		n = put_hex(msg, n, sizeof(msg),
			    (unsigned long)((ucontext_t *)uc)->uc_mcontext.gregs[REG_RSI]);
	}
#endif
	n = put_str(msg, n, sizeof(msg), "); stopping (exit status 18). "
		    "This is a vmm bug or an attack: please report it; "
		    "--seccomp log lets it run and logs every such call\n");
	w = write(STDERR_FILENO, msg, n);
	(void)w;
	_exit(VMM_EXIT_SECCOMP);
}

int sandbox_init(enum sandbox_mode mode, void (*on_violation)(void))
{
	struct sigaction sa;
	int nr;

	sandbox_mode = mode;
	sandbox_on_violation = on_violation;
	sandbox_ready = true;
	if (mode == SANDBOX_OFF)
		return 0;
	/* glibc reads /etc/localtime on the first gmtime_r() (the RTC): now, not under a filter */
	tzset();
	if (mode != SANDBOX_ON)
		return 0;
	for (nr = 0; nr < SANDBOX_MAX_SYSCALL; nr++)
		sandbox_syscall_names[nr] = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = sigsys_handler;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL))
		return -errno;
	return 0;
}

static int allow_names(scmp_filter_ctx ctx, const char *const *names)
{
	int nr, ret;

	for (; *names; names++) {
		nr = seccomp_syscall_resolve_name(*names);
		if (nr == __NR_SCMP_ERROR)
			continue;	/* not on this architecture / libseccomp */
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
		if (ret)
			return ret;
	}
	return 0;
}

/* ioctl with these request numbers; on fd only, unless fd < 0 */
static int allow_ioctls(scmp_filter_ctx ctx, const unsigned long *reqs, int fd)
{
	int ret;

	for (; *reqs; reqs++) {
		if (fd >= 0)
			ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 2,
					       SCMP_A0_32(SCMP_CMP_EQ, (uint32_t)fd),
					       SCMP_A1_32(SCMP_CMP_EQ, (uint32_t)*reqs));
		else
			ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
					       SCMP_A1_32(SCMP_CMP_EQ, (uint32_t)*reqs));
		if (ret)
			return ret;
	}
	return 0;
}

/* What every role allows beyond plain names: checked arguments. */
static int allow_common(scmp_filter_ctx ctx)
{
	static const unsigned long term_set[] = { TCSETS, TCSETSW, TCSETSF, 0 };
	const unsigned long *r;
	int ret;

	ret = allow_names(ctx, sys_common);
	/* isatty() (log lines) on any fd; the console's termios only on 0-2 */
	if (!ret)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
				       SCMP_A1_32(SCMP_CMP_EQ, TCGETS));
	for (r = term_set; !ret && *r; r++)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 2,
				       SCMP_A0_32(SCMP_CMP_LE, 2),
				       SCMP_A1_32(SCMP_CMP_EQ, (uint32_t)*r));
	/* fstat() is newfstatat(fd, "", st, AT_EMPTY_PATH): no path lookups */
	if (!ret)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(newfstatat), 1,
				       SCMP_A3_32(SCMP_CMP_EQ, AT_EMPTY_PATH));
	/* signals only to our own threads (vCPU kicks, re-raising a fatal signal) */
	if (!ret)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1,
				       SCMP_A0_32(SCMP_CMP_EQ, (uint32_t)getpid()));
	return ret;
}

static int allow_thread_start(scmp_filter_ctx ctx)
{
	static const int prctls[] = { PR_SET_NAME, PR_SET_NO_NEW_PRIVS, PR_GET_SECCOMP, 0 };
	const int *p;
	int ret = allow_names(ctx, sys_threads);

	/*
	 * The new thread names itself and stacks its own, narrower filter on
	 * ours (no_new_privs, seccomp(SET_MODE_FILTER)): a filter can only
	 * ever take permissions away.
	 */
	for (p = prctls; !ret && *p; p++)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1,
				       SCMP_A0_32(SCMP_CMP_EQ, (uint32_t)*p));
	if (!ret)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(seccomp), 0);
	return ret;
}

/*
 * Extra syscalls the AddressSanitizer runtime makes while the program runs
 * and when it reports (reading /proc/self/maps, LeakSanitizer's ptrace of
 * every thread at exit).  Only in sanitizer builds (docs/sandbox.md).
 */
/*
 * The slirp thread's checked arguments: sockets of the Internet families
 * only (no AF_UNIX, AF_NETLINK, AF_PACKET), and read-only opens plus path
 * stat() for one reason: libslirp forwards the guest's DNS (10.0.2.3) to
 * the host's resolver and re-reads /etc/resolv.conf when its mtime changes.
 */
static int allow_net_user(scmp_filter_ctx ctx)
{
	static const int families[] = { AF_INET, AF_INET6, -1 };
	const int *f;
	int ret = allow_names(ctx, sys_net_user);

	for (f = families; !ret && *f >= 0; f++)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
				       SCMP_A0_32(SCMP_CMP_EQ, (uint32_t)*f));
	if (!ret)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
				       SCMP_A1_32(SCMP_CMP_EQ, FIONREAD));
	/* open(O_RDONLY) only: nothing created, written or truncated */
	if (!ret)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(openat), 1,
				       SCMP_A2_32(SCMP_CMP_MASKED_EQ,
						  O_ACCMODE | O_CREAT | O_TRUNC | O_APPEND |
						  O_PATH, O_RDONLY));
	/* stat(path) is newfstatat(AT_FDCWD, path, st, 0) */
	if (!ret)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(newfstatat), 1,
				       SCMP_A3_32(SCMP_CMP_EQ, 0));
	if (!ret)
		ret = allow_names(ctx, sys_poll);
	return ret;
}

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
static const char *const sys_sanitizer[] = {
	"open", "openat", "readlink", "readlinkat", "getdents", "getdents64", "prlimit64",
	"getrlimit", "ptrace", "wait4", "waitid", "prctl", "sched_getaffinity",
	"pipe2", "dup", "dup2", "dup3", "fcntl", "lseek", "newfstatat", "stat",
	"clone", "clone3", "set_robust_list", "rseq", "kill", "tgkill", "uname",
	"getppid", "setrlimit", "personality", NULL,
};
#endif

static int build(scmp_filter_ctx ctx, enum sandbox_role role, int vm_fd, int vcpu_fd)
{
	int ret = allow_common(ctx);

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
	if (!ret)
		ret = allow_names(ctx, sys_sanitizer);
#endif
	switch (role) {
	case SANDBOX_VCPU:
		/* a vCPU activates and resets devices: it starts their I/O
		 * threads, which inherit this list before narrowing it */
		if (!ret)
			ret = allow_ioctls(ctx, ioctl_kvm_vcpu, vcpu_fd);
		if (!ret)
			ret = allow_ioctls(ctx, ioctl_net, -1);
		if (!ret)
			ret = allow_ioctls(ctx, ioctl_kvm_irq, vm_fd);
		if (!ret)
			ret = allow_thread_start(ctx);
		if (!ret)
			ret = allow_names(ctx, sys_devsetup);
		if (!ret)
			ret = allow_names(ctx, sys_disk);
		if (!ret)
			ret = allow_names(ctx, sys_poll);
		break;
	case SANDBOX_MAIN:
		/* the event loop; at the end it resets devices and closes images */
		if (!ret)
			ret = allow_ioctls(ctx, ioctl_kvm_irq, vm_fd);
		if (!ret)
			ret = allow_ioctls(ctx, ioctl_net, -1);
		if (!ret)
			ret = allow_thread_start(ctx);
		if (!ret)
			ret = allow_names(ctx, sys_devsetup);
		if (!ret)
			ret = allow_names(ctx, sys_disk);
		if (!ret)
			ret = allow_names(ctx, sys_poll);
		if (!ret)
			ret = allow_names(ctx, sys_main);
		break;
	case SANDBOX_BLOCK_IO:
		/* completions interrupt the guest: irqfd writes, or MSI/INTx ioctls */
		if (!ret)
			ret = allow_ioctls(ctx, ioctl_kvm_irq, vm_fd);
		if (!ret)
			ret = allow_names(ctx, sys_disk);
		if (!ret)
			ret = allow_names(ctx, sys_poll);
		break;
	case SANDBOX_API:
		if (!ret)
			ret = allow_thread_start(ctx);
		if (!ret)
			ret = allow_names(ctx, sys_api);
		/*
		 * libmicrohttpd's many short threads make glibc's malloc use
		 * thread arenas, which read /proc lazily at run time (the CPU
		 * count when the 9th arena is made, overcommit_memory when one
		 * shrinks).  Both fall back when the open fails (the CPU count
		 * to sched_getaffinity), so here openat fails with EACCES
		 * instead of stopping vmm: no file is opened either way.
		 */
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
		/* (sanitizer builds allow openat for their runtime: sys_sanitizer) */
		if (!ret)
			ret = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(openat), 0);
#endif
		if (!ret)
			ret = allow_names(ctx, sys_poll);
		break;
	case SANDBOX_NET_IO:
		/* the control queue sets the tap's queues (TUNSETQUEUE) */
		if (!ret)
			ret = allow_ioctls(ctx, ioctl_kvm_irq, vm_fd);
		if (!ret)
			ret = allow_ioctls(ctx, ioctl_net, -1);
		if (!ret)
			ret = allow_names(ctx, sys_net);
		if (!ret)
			ret = allow_names(ctx, sys_poll);
		break;
	case SANDBOX_NET_USER:
		/* slirp never touches the guest: no KVM, no TUN/vhost ioctls */
		if (!ret)
			ret = allow_net_user(ctx);
		break;
	default:
		ret = -EINVAL;
	}
	return ret;
}

int sandbox_apply(enum sandbox_role role)
{
	return sandbox_apply_kvm(role, -1, -1);
}

int sandbox_apply_kvm(enum sandbox_role role, int vm_fd, int vcpu_fd)
{
	scmp_filter_ctx ctx;
	uint32_t deflt;
	int ret;

	if ((unsigned int)role >= SANDBOX_NR_ROLES)
		return -EINVAL;
	if (!sandbox_ready || sandbox_mode == SANDBOX_OFF)
		return 0;
	deflt = sandbox_mode == SANDBOX_LOG ? SCMP_ACT_LOG : SCMP_ACT_TRAP;
	ctx = seccomp_init(deflt);
	if (!ctx)
		return -ENOMEM;
	ret = build(ctx, role, vm_fd, vcpu_fd);
	if (!ret)
		ret = seccomp_load(ctx);	/* this thread only: no TSYNC */
	seccomp_release(ctx);
	if (ret) {
		log_err("cannot apply the seccomp filter of the %s thread: %s "
			"(run with --seccomp off on a kernel without seccomp)",
			role_names[role], strerror(-ret));
		return ret;
	}
	sandbox_thread_role = role;
	log_debug("seccomp: %s thread filtered (%s)", role_names[role],
		  sandbox_mode_name(sandbox_mode));
	return 0;
}

int sandbox_apply_once(enum sandbox_role role)
{
	if (sandbox_thread_role == (int)role)
		return 0;
	return sandbox_apply(role);
}

int sandbox_check_privilege(void)
{
	if (getuid() != geteuid() || getgid() != getegid()) {
		log_err("vmm refuses to run setuid or setgid (uid %u, euid %u, gid %u, egid %u): "
			"it needs no privilege; run it as an ordinary user in the kvm group",
			(unsigned int)getuid(), (unsigned int)geteuid(),
			(unsigned int)getgid(), (unsigned int)getegid());
		return -EPERM;
	}
	return 0;
}
