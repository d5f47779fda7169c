// SPDX-License-Identifier: MIT
/*
 * vmm: parse the command line, build the VM, run it, and turn what
 * happened into the exit status (docs/exit-status.md).  The only exit().
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "console.h"
#include "cpu/vcpu.h"
#include "event_loop.h"
#include "exitcode.h"
#include "log.h"
#include "options.h"
#include "vm.h"
#include "vm_runtime.h"

/* Only for the fatal-signal handler: it must restore the terminal. */
static struct console_term *fatal_term;

static void fatal_signal(int sig)
{
	if (fatal_term)
		console_term_restore(fatal_term);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void kick_signal(int sig)
{
	(void)sig;	/* only interrupts KVM_RUN */
}

static void signals_setup(void)
{
	struct sigaction sa;
	sigset_t set;

	/* INT/TERM/HUP arrive through signalfd in the main loop; the kick
	 * signal only in vCPU threads (which unblock it). Block them now so
	 * every thread created later inherits the mask. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, VCPU_KICK_SIGNAL);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = kick_signal;
	sigaction(VCPU_KICK_SIGNAL, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	sa.sa_handler = fatal_signal;
	sa.sa_flags = SA_RESETHAND;
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGABRT, &sa, NULL);
	sigaction(SIGFPE, &sa, NULL);
	sigaction(SIGILL, &sa, NULL);
}

int main(int argc, char **argv)
{
	static struct vm_config cfg;	/* large (disk paths): not on the stack */
	static struct vm vm;
	struct console_term term = { .fd = -1 };
	struct ev_loop loop;
	int ret, status;

	switch (opts_parse(argc, argv, &cfg, stdout, stderr)) {
	case OPTS_EXIT_OK:
		return VMM_EXIT_OK;
	case OPTS_ERROR:
		return VMM_EXIT_USAGE;
	case OPTS_RUN:
		break;
	}
	if (cfg.verbosity < 0)
		log_set_level(LOG_ERR);
	else if (cfg.verbosity == 1)
		log_set_level(LOG_INFO);
	else if (cfg.verbosity > 1)
		log_set_level(LOG_DEBUG);

	signals_setup();
	/* the loop exists before the VM: the control socket can serve an empty vmm */
	ret = ev_loop_init(&loop);
	if (ret) {
		log_err("cannot create the event loop: %s", strerror(-ret));
		return VMM_EXIT_HOST;
	}
	if (vm_init(&vm, &loop)) {
		ev_loop_fini(&loop);
		return VMM_EXIT_HOST;
	}
	if (!cfg.kernel) {
		/*
		 * An empty vmm: the control socket (registered on &loop) calls
		 * vm_create() for vm.create and sets vm.boot_requested for vm.boot.
		 */
		while (!vm.boot_requested && !vm_exit_pending(&vm)) {
			ret = ev_loop_once(&loop, -1);
			if (ret < 0) {
				log_err("event loop: %s", strerror(-ret));
				vm_request_exit(&vm, VM_EXIT_HOST, VMM_EXIT_HOST);
				break;
			}
		}
		if (!vm.boot_requested || !vm.booted) {
			status = vm.exit_requested ? vm.exit_status : VMM_EXIT_HOST;
			vm_destroy(&vm);
			vm_fini(&vm);
			ev_loop_fini(&loop);
			return status;
		}
	} else if (vm_create(&vm, &cfg)) {
		vm_fini(&vm);
		ev_loop_fini(&loop);
		return VMM_EXIT_HOST;
	}
	if (cfg.console == CONSOLE_STDIO) {
		fatal_term = &term;
		if (console_term_raw(&term, STDIN_FILENO))
			log_warn("cannot put the terminal in raw mode; input is line-buffered");
	}
	status = vm_run(&vm, &term);
	console_term_restore(&term);
	fatal_term = NULL;
	vm_destroy(&vm);
	vm_fini(&vm);
	ev_loop_fini(&loop);
	return status;
}
