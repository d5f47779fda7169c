// SPDX-License-Identifier: MIT
/*
 * The VM's registrations on the event loop (event_loop.h), which main()
 * owns and may run before any VM exists: the exit eventfd and signals
 * (signalfd) from vm_init() on; stdin for the serial console and the
 * stopped-guest probe timer while vm_run() runs.  Devices never stop the
 * VM themselves: they call vm_request_exit(), which wakes the loop.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "console.h"
#include "cpu/vcpu.h"
#include "devices/uart.h"
#include "event_loop.h"
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
	[VM_EXIT_QUIT] = "quit from the control socket",
	[VM_EXIT_POWERDOWN_TIMEOUT] = "powerdown timed out: the guest ignored the power button",
};

const char *vm_exit_reason_name(enum vm_exit_reason reason)
{
	if ((unsigned int)reason >= sizeof(exit_reason_names) / sizeof(exit_reason_names[0]) ||
	    !exit_reason_names[reason])
		return "unknown";
	return exit_reason_names[reason];
}

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
	if (vm->exit_evt >= 0) {
		n = write(vm->exit_evt, &one, sizeof(one));
		(void)n;
	}
}

/* Console input: stdin -> UART, paced by the UART's free room. */
struct vm_stdin {
	int rx_notify;		/* uart says: room in the RX buffer again */
	bool stdin_on;		/* stdin is registered on the loop */
	bool stdin_eof;
	bool stdin_file;	/* regular file: epoll refuses it, read on demand */
	bool escapes;		/* stdin is a terminal: Ctrl-A x */
	struct console_escape esc;
	uint8_t pending[256];	/* bytes read but not yet taken by the UART */
	size_t npending, pending_off;
};

static void stdin_ready(void *opaque, int fd, uint32_t events);

static void stdin_watch(struct vm *vm, struct vm_stdin *in, bool on)
{
	int ret;

	if (in->stdin_eof || in->stdin_file || on == in->stdin_on)
		return;
	ret = on ? ev_add(vm->loop, STDIN_FILENO, EPOLLIN, stdin_ready, vm)
		 : ev_del(vm->loop, STDIN_FILENO);
	if (!ret)
		in->stdin_on = on;
	else if (on && ret == -EPERM)	/* a regular file: read it as the UART takes it */
		in->stdin_file = true;
	else if (on)
		in->stdin_eof = true;
}

static void stdin_read(struct vm *vm, struct vm_stdin *in);

/* Hands pending bytes to the UART; pauses stdin while the UART is full. */
static void stdin_flush(struct vm *vm, struct vm_stdin *in)
{
	size_t n;

	if (!vm->com1)		/* a failed reset tore the VM down */
		return;
	if (in->pending_off < in->npending) {
		n = uart_receive(vm->com1, in->pending + in->pending_off,
				 in->npending - in->pending_off);
		in->pending_off += n;
	}
	stdin_watch(vm, in, in->pending_off == in->npending);
	if (in->stdin_file && !in->stdin_eof && in->pending_off == in->npending &&
	    uart_rx_room(vm->com1))
		stdin_read(vm, in);
}

static void stdin_read(struct vm *vm, struct vm_stdin *in)
{
	uint8_t buf[sizeof(in->pending) - 1];
	bool quit = false;
	ssize_t n;

	n = read(STDIN_FILENO, buf, sizeof(buf));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		/* EOF or error: the guest keeps running without input */
		stdin_watch(vm, in, false);
		in->stdin_eof = true;
		return;
	}
	if (in->escapes) {
		in->npending = console_escape_filter(&in->esc, buf, (size_t)n, in->pending, &quit);
		if (quit) {
			vm_request_exit(vm, VM_EXIT_USER, VMM_EXIT_OK);
			return;
		}
	} else {
		memcpy(in->pending, buf, (size_t)n);
		in->npending = (size_t)n;
	}
	in->pending_off = 0;
	stdin_flush(vm, in);
}

static void stdin_ready(void *opaque, int fd, uint32_t events)
{
	struct vm *vm = opaque;

	stdin_read(vm, vm->stdin_state);
}

static void rx_notify_ready(void *opaque, int fd, uint32_t events)
{
	struct vm *vm = opaque;
	uint64_t v;

	if (read(fd, &v, sizeof(v)) < 0)
		return;
	stdin_flush(vm, vm->stdin_state);
}

static void signal_ready(void *opaque, int fd, uint32_t events)
{
	struct vm *vm = opaque;
	struct signalfd_siginfo si;

	if (read(fd, &si, sizeof(si)) != sizeof(si))
		return;
	log_info("stopping on signal %u", si.ssi_signo);
	vm_request_exit(vm, VM_EXIT_SIGNAL, VMM_EXIT_SIGNAL_BASE + (int)si.ssi_signo);
}

static void exit_ready(void *opaque, int fd, uint32_t events)
{
	struct vm *vm = opaque;
	uint64_t v;

	if (read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		return;
	if (__atomic_load_n(&vm->exit_requested, __ATOMIC_ACQUIRE))
		vm_ctl_exit_requested(vm);
}

static void halt_timer_ready(void *opaque, int fd, uint32_t events)
{
	struct vm *vm = opaque;
	uint64_t v;

	if (read(fd, &v, sizeof(v)) > 0 && vm->state == VM_STATE_RUNNING)
		vm_halt_tick(vm);
}

int vm_halt_timer_arm(struct vm *vm, bool on)
{
	const long ns = VM_HALT_PROBE_MS * 1000000L;
	struct itimerspec t = {
		.it_interval = { .tv_nsec = on ? ns : 0 },
		.it_value = { .tv_nsec = on ? ns : 0 },
	};

	if (vm->halt_timer < 0)
		return 0;
	vm->halt_streak = 0;
	return timerfd_settime(vm->halt_timer, 0, &t, NULL) ? -errno : 0;
}

int vm_loop_init(struct vm *vm)
{
	sigset_t set;
	int ret;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	vm->sig_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (vm->sig_fd < 0)
		return -errno;
	ret = ev_add(vm->loop, vm->sig_fd, EPOLLIN, signal_ready, vm);
	if (!ret)
		ret = ev_add(vm->loop, vm->exit_evt, EPOLLIN, exit_ready, vm);
	return ret;
}

void vm_loop_fini(struct vm *vm)
{
	if (vm->exit_evt >= 0)
		ev_del(vm->loop, vm->exit_evt);
	if (vm->sig_fd >= 0) {
		ev_del(vm->loop, vm->sig_fd);
		close(vm->sig_fd);
	}
	vm->sig_fd = -1;
}

/* The console's UART was (re)created: point it at our rx-notify eventfd. */
void vm_stdin_attach(struct vm *vm)
{
	struct vm_stdin *in = vm->stdin_state;

	if (!in || in->rx_notify < 0)
		return;
	in->npending = in->pending_off = 0;
	uart_set_rx_notify(vm->com1, in->rx_notify);
	stdin_flush(vm, in);
}

static int run_init(struct vm *vm, bool console_stdin)
{
	struct vm_stdin *in;
	int ret;

	vm->halt_timer = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (vm->halt_timer < 0)
		return -errno;
	ret = ev_add(vm->loop, vm->halt_timer, EPOLLIN, halt_timer_ready, vm);
	if (ret)
		return ret;
	if (!console_stdin)
		return 0;
	in = calloc(1, sizeof(*in));
	if (!in)
		return -ENOMEM;
	vm->stdin_state = in;
	in->escapes = isatty(STDIN_FILENO);
	in->rx_notify = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (in->rx_notify < 0)
		return -errno;
	ret = ev_add(vm->loop, in->rx_notify, EPOLLIN, rx_notify_ready, vm);
	if (ret)
		return ret;
	uart_set_rx_notify(vm->com1, in->rx_notify);
	stdin_watch(vm, in, true);
	if (in->stdin_file)
		stdin_flush(vm, in);
	return 0;
}

static void run_fini(struct vm *vm)
{
	struct vm_stdin *in = vm->stdin_state;

	if (vm->halt_timer >= 0) {
		ev_del(vm->loop, vm->halt_timer);
		close(vm->halt_timer);
	}
	vm->halt_timer = -1;
	if (!in)
		return;
	if (in->stdin_on)
		ev_del(vm->loop, STDIN_FILENO);
	if (in->rx_notify >= 0) {
		if (vm->com1)
			uart_set_rx_notify(vm->com1, -1);
		ev_del(vm->loop, in->rx_notify);
		close(in->rx_notify);
	}
	free(in);
	vm->stdin_state = NULL;
}

int vm_vcpus_start(struct vm *vm)
{
	unsigned int i;
	int ret = 0;

	if (!vm->vcpus)
		return -ENODEV;
	for (i = 0; i < vm->nr_vcpus && !ret; i++)
		ret = vcpu_start(&vm->vcpus[i]);
	return ret;
}

/* Every vCPU thread ends (exit_requested must be set) and is joined. */
void vm_vcpus_stop(struct vm *vm)
{
	unsigned int i;

	if (!vm->vcpus)
		return;
	for (i = 0; i < vm->nr_vcpus; i++)
		vcpu_kick(&vm->vcpus[i]);
	pthread_mutex_lock(&vm->pause_lock);
	pthread_cond_broadcast(&vm->pause_cond);	/* parked ones see exit_requested */
	pthread_mutex_unlock(&vm->pause_lock);
	for (i = 0; i < vm->nr_vcpus; i++)
		vcpu_join(&vm->vcpus[i]);
}

static bool vm_main_filter_applies(const struct vm_config *cfg)
{
	if (cfg->on_reboot == ON_REBOOT_EXIT && !cfg->name && !cfg->api_socket)
		return true;
	if (sandbox_get_mode() != SANDBOX_OFF)
		log_info("seccomp: the main thread runs unfiltered (the control socket or --on-reboot restart may rebuild the VM on it); vCPU and I/O threads are filtered");
	return false;
}

int vm_run(struct vm *vm, struct console_term *term)
{
	int ret;

	vm->run_done = false;
	ret = run_init(vm, vm->cfg->console == CONSOLE_STDIO);
	if (!ret)
		ret = vm_halt_timer_arm(vm, true);
	if (ret) {
		log_err("cannot set up the event loop: %s", strerror(-ret));
		run_fini(vm);
		return VMM_EXIT_HOST;
	}
	if (vm_vcpus_start(vm))
		vm_request_exit(vm, VM_EXIT_HOST, VMM_EXIT_HOST);
	else
		vm_ctl_started(vm);
	/*
	 * After the vCPU threads exist (they filter themselves): the main
	 * thread's list.  Not when the VM can be rebuilt on this thread (reset,
	 * --on-reboot restart, the control socket's verbs): those open
	 * /dev/kvm and create a VM, which that list forbids (docs/sandbox.md).
	 */
	if (!vm->exit_requested && vm_main_filter_applies(vm->cfg) &&
	    sandbox_apply_kvm(SANDBOX_MAIN, vm->vm_fd, -1))
		vm_request_exit(vm, VM_EXIT_HOST, VMM_EXIT_HOST);

	while (!vm->run_done) {
		ret = ev_loop_once(vm->loop, -1);
		if (ret < 0) {
			log_err("event loop: %s", strerror(-ret));
			vm_request_exit(vm, VM_EXIT_HOST, VMM_EXIT_HOST);
			vm_ctl_exit_requested(vm);
		}
	}

	vm_vcpus_stop(vm);
	console_term_restore(term);
	run_fini(vm);
	log_info("%s: exit status %d", vm_exit_reason_name(vm->exit_reason), vm->exit_status);
	return vm->exit_status;
}
