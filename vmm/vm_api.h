/* SPDX-License-Identifier: MIT */
/*
 * The control socket's view of the VM (vmm/api/api.h's api_vm_ops): each
 * op runs its work on the event loop with ev_call(), never on the API
 * thread.  main() owns one struct vm_api next to its struct vm.
 */
#ifndef VMM_VM_API_H
#define VMM_VM_API_H

#include <stdbool.h>

#include "api/api.h"

struct vm;

struct vm_api {
	struct vm *vm;
	struct vm_config *cfg;	/* main's: vm.create's configuration lands here */
	char **cfg_arena;	/* and its strings (main frees) */
	struct api *api;
	struct ev_loop *loop;
	bool vm_live;		/* vm_create() done: ops reach the VM */
	bool quit;		/* empty vmm: quit before any VM existed */
	int powerdown_timer;	/* timerfd of powerdown --timeout, or -1 */
	int sigfd;		/* vm_api_wait_boot(): SIGINT/TERM/HUP */
	int signal;		/* the signal that ended the wait */
};

extern const struct api_vm_ops vm_api_ops;

void vm_api_init(struct vm_api *va, struct vm *vm, struct ev_loop *loop,
		 struct vm_config *cfg, char **cfg_arena);
/* Opens the control socket and the event monitor of cfg; 0 or -errno (logged). */
int vm_api_start(struct vm_api *va);
/*
 * Empty vmm (no --kernel, no --config): runs the loop until vm.create +
 * vm.boot have created the VM (returns -1) or a quit request or signal
 * ends the wait (returns the exit status).
 */
int vm_api_wait_boot(struct vm_api *va);
/* After everything else: stops the server. */
void vm_api_stop(struct vm_api *va);
/* After vm_create(): hooks the VM's loop and events up to the API. */
void vm_api_attach(struct vm_api *va);
/* Loop thread, after vm_run(): disarms the powerdown timer. */
void vm_api_fini(struct vm_api *va);

/*
 * vm_counters.c, loop thread: {"vcpus": [...], "devices": [...]} of
 * vm.counters (docs/control.md), or NULL when out of memory.
 */
struct json_object *vm_counters_json(struct vm *vm);

#endif
