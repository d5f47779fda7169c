// SPDX-License-Identifier: MIT
/*
 * The main thread's event loop while the guest runs: the exit eventfd,
 * signals (signalfd), and stdin for the serial console.  Devices never
 * stop the VM themselves: they call vm_request_exit(), which wakes us.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "console.h"
#include "cpu/vcpu.h"
#include "devices/uart.h"
#include "exitcode.h"
#include "log.h"
#include "sandbox/sandbox.h"
#include "vm.h"
#include "vm_runtime.h"

static const char *const exit_reason_names[] = {
	[VM_EXIT_POWEROFF] = "guest powered off",
	[VM_EXIT_RESET] = "guest reset",
	[VM_EXIT_DEBUG] = "guest wrote the debug-exit port",
	[VM_EXIT_PANIC] = "guest kernel panic",
	[VM_EXIT_TRIPLE_FAULT] = "guest triple fault",
	[VM_EXIT_INTERNAL] = "KVM internal error or unhandled exit",
	[VM_EXIT_HOST] = "host error",
	[VM_EXIT_USER] = "Ctrl-A x",
	[VM_EXIT_SIGNAL] = "signal",
	[VM_EXIT_HALTED] = "guest halted: every vCPU stopped with interrupts off",
};

void vm_request_exit(struct vm *vm, enum vm_exit_reason reason, int status)
{
	uint64_t one = 1;
	ssize_t n;

	pthread_mutex_lock(&vm->exit_lock);
	if (!vm->exit_requested) {
		vm->exit_reason = reason;
		vm->exit_status = status;
		__atomic_store_n(&vm->exit_requested, true, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&vm->exit_lock);
	n = write(vm->exit_evt, &one, sizeof(one));
	(void)n;
}

struct loop_state {
	int epfd;
	int sigfd;
	int rx_notify;		/* uart says: room in the RX buffer again */
	int halt_timer;		/* stopped-guest probes (vm_halt.c) */
	bool stdin_on;		/* stdin is in the epoll set */
	bool stdin_eof;
	bool stdin_file;	/* regular file: epoll refuses it, read on demand */
	bool escapes;		/* stdin is a terminal: Ctrl-A x */
	struct console_escape esc;
	uint8_t pending[256];	/* bytes read but not yet taken by the UART */
	size_t npending, pending_off;
};

static int epoll_set(int epfd, int op, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

	return epoll_ctl(epfd, op, fd, &ev);
}

static void stdin_watch(struct loop_state *ls, bool on)
{
	if (ls->stdin_eof || ls->stdin_file || on == ls->stdin_on)
		return;
	if (epoll_set(ls->epfd, on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, STDIN_FILENO) == 0)
		ls->stdin_on = on;
	else if (on && errno == EPERM)	/* a regular file: read it as the UART takes it */
		ls->stdin_file = true;
	else if (on)
		ls->stdin_eof = true;
}

static void stdin_read(struct vm *vm, struct loop_state *ls);

/* Hands pending bytes to the UART; pauses stdin while the UART is full. */
static void stdin_flush(struct vm *vm, struct loop_state *ls)
{
	size_t n;

	if (ls->pending_off < ls->npending) {
		n = uart_receive(vm->com1, ls->pending + ls->pending_off,
				 ls->npending - ls->pending_off);
		ls->pending_off += n;
	}
	stdin_watch(ls, ls->pending_off == ls->npending);
	if (ls->stdin_file && !ls->stdin_eof && ls->pending_off == ls->npending &&
	    uart_rx_room(vm->com1))
		stdin_read(vm, ls);
}

static void stdin_read(struct vm *vm, struct loop_state *ls)
{
	uint8_t buf[sizeof(ls->pending) - 1];
	bool quit = false;
	ssize_t n;

	n = read(STDIN_FILENO, buf, sizeof(buf));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		/* EOF or error: the guest keeps running without input */
		stdin_watch(ls, false);
		ls->stdin_eof = true;
		return;
	}
	if (ls->escapes) {
		ls->npending = console_escape_filter(&ls->esc, buf, (size_t)n, ls->pending, &quit);
		if (quit) {
			vm_request_exit(vm, VM_EXIT_USER, VMM_EXIT_OK);
			return;
		}
	} else {
		memcpy(ls->pending, buf, (size_t)n);
		ls->npending = (size_t)n;
	}
	ls->pending_off = 0;
	stdin_flush(vm, ls);
}

static void signal_read(struct vm *vm, struct loop_state *ls)
{
	struct signalfd_siginfo si;

	if (read(ls->sigfd, &si, sizeof(si)) != sizeof(si))
		return;
	log_info("stopping on signal %u", si.ssi_signo);
	vm_request_exit(vm, VM_EXIT_SIGNAL, VMM_EXIT_SIGNAL_BASE + (int)si.ssi_signo);
}

static int loop_init(struct vm *vm, struct loop_state *ls, bool console_stdin)
{
	const struct itimerspec period = {
		.it_interval = { .tv_nsec = VM_HALT_PROBE_MS * 1000000L },
		.it_value = { .tv_nsec = VM_HALT_PROBE_MS * 1000000L },
	};
	sigset_t set;

	memset(ls, 0, sizeof(*ls));
	ls->sigfd = ls->rx_notify = ls->halt_timer = -1;
	ls->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (ls->epfd < 0)
		return -errno;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	ls->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (ls->sigfd < 0 || epoll_set(ls->epfd, EPOLL_CTL_ADD, ls->sigfd) ||
	    epoll_set(ls->epfd, EPOLL_CTL_ADD, vm->exit_evt))
		return -errno;
	ls->halt_timer = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (ls->halt_timer < 0 || timerfd_settime(ls->halt_timer, 0, &period, NULL) ||
	    epoll_set(ls->epfd, EPOLL_CTL_ADD, ls->halt_timer))
		return -errno;
	if (!console_stdin) {
		ls->stdin_eof = true;
		return 0;
	}
	ls->escapes = isatty(STDIN_FILENO);
	ls->rx_notify = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (ls->rx_notify < 0 || epoll_set(ls->epfd, EPOLL_CTL_ADD, ls->rx_notify))
		return -errno;
	uart_set_rx_notify(vm->com1, ls->rx_notify);
	stdin_watch(ls, true);
	if (ls->stdin_file)
		stdin_flush(vm, ls);
	return 0;
}

static void loop_fini(struct loop_state *ls)
{
	if (ls->halt_timer >= 0)
		close(ls->halt_timer);
	if (ls->rx_notify >= 0)
		close(ls->rx_notify);
	if (ls->sigfd >= 0)
		close(ls->sigfd);
	if (ls->epfd >= 0)
		close(ls->epfd);
}

int vm_run(struct vm *vm, struct console_term *term)
{
	struct loop_state ls;
	unsigned int i;
	uint64_t v;
	int ret;

	ret = loop_init(vm, &ls, vm->cfg->console == CONSOLE_STDIO);
	if (ret) {
		log_err("cannot set up the event loop: %s", strerror(-ret));
		loop_fini(&ls);
		return VMM_EXIT_HOST;
	}
	for (i = 0; i < vm->nr_vcpus && !ret; i++)
		ret = vcpu_start(&vm->vcpus[i]);
	if (ret)
		vm_request_exit(vm, VM_EXIT_HOST, VMM_EXIT_HOST);
	/* after the vCPU threads exist (they filter themselves): the main thread's list */
	if (!ret && sandbox_apply_kvm(SANDBOX_MAIN, vm->vm_fd, -1))
		vm_request_exit(vm, VM_EXIT_HOST, VMM_EXIT_HOST);

	while (!__atomic_load_n(&vm->exit_requested, __ATOMIC_ACQUIRE)) {
		struct epoll_event evs[8];
		int n, k;

		n = epoll_wait(ls.epfd, evs, 8, -1);
		if (n < 0 && errno != EINTR) {
			log_err("epoll_wait: %s", strerror(errno));
			vm_request_exit(vm, VM_EXIT_HOST, VMM_EXIT_HOST);
		}
		for (k = 0; k < n; k++) {
			int fd = evs[k].data.fd;

			if (fd == vm->exit_evt) {
				if (read(fd, &v, sizeof(v)) < 0)
					continue;
			} else if (fd == ls.halt_timer) {
				if (read(fd, &v, sizeof(v)) > 0)
					vm_halt_tick(vm);
			} else if (fd == ls.sigfd) {
				signal_read(vm, &ls);
			} else if (fd == ls.rx_notify) {
				if (read(fd, &v, sizeof(v)) < 0)
					continue;
				stdin_flush(vm, &ls);
			} else if (fd == STDIN_FILENO) {
				stdin_read(vm, &ls);
			}
		}
	}

	for (i = 0; i < vm->nr_vcpus; i++)
		vcpu_kick(&vm->vcpus[i]);
	for (i = 0; i < vm->nr_vcpus; i++)
		vcpu_join(&vm->vcpus[i]);
	console_term_restore(term);
	loop_fini(&ls);
	log_info("%s: exit status %d", exit_reason_names[vm->exit_reason], vm->exit_status);
	return vm->exit_status;
}
