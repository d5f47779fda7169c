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

#include "config_json.h"
#include "console.h"
#include "cpu/vcpu.h"
#include "event_loop.h"
#include "exitcode.h"
#include "log.h"
#include "options.h"
#include "sandbox/sandbox.h"
#include "vm.h"
#include "vm_api.h"
#include "vm_runtime.h"
#include "vm_state.h"

/* Only for the fatal-signal handler: it must restore the terminal. */
static struct console_term *fatal_term;

static void fatal_signal(int sig)
{
	if (fatal_term)
		console_term_restore(fatal_term);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* In the SIGSYS handler: restore the terminal before the message (tcsetattr on fd 0). */
static void seccomp_violation(void)
{
	if (fatal_term)
		console_term_restore(fatal_term);
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

/* --restore, --incoming: 0, or the exit status (the reason is printed). */
static int restore_vm(struct vm *vm, struct vm_config *cfg, char **arena)
{
	struct vm_state_url url;
	char err[600];
	bool refused = false;

	if (cfg->incoming) {
		if (vm_incoming(vm, cfg, arena, cfg->incoming, &refused, err, sizeof(err)))
			return refused ? VMM_EXIT_RESTORE : VMM_EXIT_HOST;
		return 0;
	}
	if (vm_state_url_parse(cfg->restore, true, &url, err, sizeof(err))) {
		fprintf(stderr, "vmm: --restore: %s\n", err);
		return VMM_EXIT_USAGE;
	}
	if (vm_restore(vm, cfg, arena, cfg->restore, cfg->resume, &refused, err, sizeof(err)))
		return refused ? VMM_EXIT_RESTORE : VMM_EXIT_HOST;
	return 0;
}

int main(int argc, char **argv)
{
	static struct vm_config cfg;	/* large (disk paths): not on the stack */
	static struct vm vm;
	static struct ev_loop loop;
	static struct vm_api va;
	struct console_term term = { .fd = -1 };
	char *cfg_arena = NULL;
	char msg[600];
	int ret, status;

	if (sandbox_check_privilege())
		return VMM_EXIT_USAGE;
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

	if (cfg.config_path &&
	    config_json_load(cfg.config_path, &cfg, &cfg_arena, msg, sizeof(msg))) {
		fprintf(stderr, "vmm: %s\n", msg);
		return VMM_EXIT_USAGE;
	}

	signals_setup();
	if (sandbox_init(cfg.seccomp, seccomp_violation)) {
		log_err("cannot install the SIGSYS handler for --seccomp on");
		return VMM_EXIT_HOST;
	}
	/* the loop exists before the VM: the control socket can serve an empty vmm */
	ret = ev_loop_init(&loop);
	if (ret) {
		log_err("cannot create the event loop: %s", strerror(-ret));
		return VMM_EXIT_HOST;
	}
	if (vm_init(&vm, &loop)) {
		status = VMM_EXIT_HOST;
		goto out_loop;
	}
	/* the control socket exists before the VM: an empty vmm waits for vm.boot */
	vm_api_init(&va, &vm, &loop, &cfg, &cfg_arena);
	if (vm_api_start(&va)) {
		status = VMM_EXIT_HOST;
		goto out_vm;
	}
	if (cfg.restore || cfg.incoming) {
		status = restore_vm(&vm, &cfg, &cfg_arena);
		if (status)
			goto out_api;
		vm_api_attach(&va);
	} else if (!cfg.kernel) {
		status = vm_api_wait_boot(&va);
		if (status >= 0)
			goto out_api;
	} else if (vm_create(&vm, &cfg)) {
		status = VMM_EXIT_HOST;
		goto out_api;
	} else {
		vm_api_attach(&va);
	}
	if (cfg.console == CONSOLE_STDIO) {
		fatal_term = &term;
		if (console_term_raw(&term, STDIN_FILENO))
			log_warn("cannot put the terminal in raw mode; input is line-buffered");
	}
	status = vm_run(&vm, &term);
	console_term_restore(&term);
	fatal_term = NULL;
	vm_api_stop(&va);		/* before vm_destroy: no request reaches the VM after */
	vm_destroy(&vm);
	vm_fini(&vm);
	ev_loop_fini(&loop);
	free(cfg_arena);
	return status;
out_api:
	vm_api_stop(&va);
	vm_destroy(&vm);
out_vm:
	vm_fini(&vm);
out_loop:
	ev_loop_fini(&loop);
	free(cfg_arena);
	return status;
}
