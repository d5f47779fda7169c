/* SPDX-License-Identifier: MIT */
/*
 * The control socket (docs/control.md): HTTP/1.1 + JSON over a Unix
 * socket, served by libmicrohttpd on its own threads.  Requests that read
 * or change the VM reach it only through the ops below, which run their
 * work on the event loop with ev_call() (shared/STYLE.md pattern 7).
 *
 *   api_open()       socket + server threads (main, before the VM exists)
 *   api_vm_started() the VM is built: state and uptime come from it now
 *   api_event()      vm->event_cb: JSON lines to --event-monitor and to
 *                    every client of GET /api/v1/vm.events
 *   api_close()      stops the server (main thread, after vm_run)
 */
#ifndef VMM_API_API_H
#define VMM_API_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "options.h"
#include "vm_ctl.h"

struct api;
struct ev_loop;
struct json_object;

/* What a finished migration reports (vm.send-migration's answer). */
struct api_migration_stats {
	unsigned int rounds;		/* pre-copy rounds after the first full pass */
	uint64_t pages, bytes;		/* sent */
	double total_ms, downtime_ms;	/* connect to answer; pause to answer */
};

/*
 * What the server may ask of the VM.  Called on a server thread; each
 * implementation runs its work on the loop (vmm/vm_api.c) or is a fake
 * (tests, fuzz).  Each returns 0 or -errno: -EBUSY refused in this state,
 * -ENOSYS not implemented, -ESHUTDOWN vmm is ending.
 */
struct api_vm_ops {
	int (*ctl)(struct api *api, enum vm_ctl_op op);
	/* power button, then quit with VMM_EXIT_POWERDOWN_TIMEOUT after timeout_s (0: never) */
	int (*powerdown)(struct api *api, unsigned int timeout_s);
	int (*state)(struct api *api, enum vm_state *out);
	/* vm.boot of an empty vmm: create the VM from api_pending_config() */
	int (*boot)(struct api *api);
	/* vmm.shutdown / vm.shutdown: end the process (VMM_EXIT_QUIT) */
	int (*quit)(struct api *api);
	/* vm.counters: the VM's {"vcpus", "devices"} (*out NULL: no VM yet) */
	int (*counters)(struct api *api, struct json_object **out);
	/*
	 * vm.snapshot (url file:///DIR) and, in an empty vmm, vm.restore
	 * (url file:///DIR[,memory=copy][,clock=wall]); vmm/vm_state.h.  err
	 * gets the reason; -EINVAL: the request or the state file is at fault.
	 */
	int (*snapshot)(struct api *api, const char *url, bool resume, char *err, size_t errlen);
	int (*restore)(struct api *api, const char *url, bool resume, char *err, size_t errlen);
	/* vm.send-migration (url unix:PATH or tcp:HOST:PORT); vmm/vm_state.h */
	int (*migrate)(struct api *api, const char *url, struct api_migration_stats *st,
		       char *err, size_t errlen);
	/* vm.receive-migration of an empty vmm: waits on url for the VM, then it runs */
	int (*receive)(struct api *api, const char *url, char *err, size_t errlen);
	/* vm.send-migration {"cancel": true}: -EBUSY when no migration runs */
	int (*migrate_cancel)(struct api *api);
};

struct api_config {
	const char *name;		/* --name, or NULL */
	const char *socket_path;	/* --api-socket, or NULL */
	const char *event_monitor;	/* --event-monitor, or NULL */
	const struct api_vm_ops *ops;
	void *opaque;			/* for the ops: api_opaque() */
	struct ev_loop *loop;
};

/*
 * Opens the socket (refused if a live vmm owns the name) and starts the
 * server; without name and socket_path, only the event monitor.  *out is
 * NULL-safe for the other calls.  0 or -errno, the reason logged.
 */
int api_open(const struct api_config *ac, struct api **out);
/* Stops serving (answers in flight are finished first) and frees. */
void api_close(struct api *api);

void *api_opaque(struct api *api);
/* api_close() has begun: ops refuse with -ESHUTDOWN. */
bool api_closing(struct api *api);
struct ev_loop *api_loop(struct api *api);

/* The configuration vm.info and vm.config report (not copied: must outlive api). */
void api_set_config(struct api *api, const struct vm_config *cfg);
/* The VM exists and runs: uptime counts from here. */
void api_vm_started(struct api *api);
/* Empty vmm: the configuration of vm.create (NULL before), and whether
 * vm.boot / a quit request arrived.  Loop thread. */
const struct vm_config *api_pending_config(struct api *api);
bool api_boot_requested(struct api *api);
/* Hands over the strings of api_pending_config() (the caller frees them). */
char *api_take_pending_arena(struct api *api);
/* vm.boot failed: forget vm.create's configuration (its arena was taken). */
void api_clear_pending(struct api *api);
void api_set_boot_requested(struct api *api);

/* vm->event_cb: any thread. */
void api_event(void *api, const char *event, const char *reason, int status);

/* ---- the request router, apart from HTTP (routes.c; unit-tested, fuzzed) ---- */

#define API_BODY_MAX	(1U << 20)

struct api_reply {
	unsigned int status;	/* HTTP status */
	char *body;		/* malloc'd JSON text, or NULL (204) */
	const char *allow;	/* 405: the Allow header */
	bool stream_events;	/* GET vm.events: the server streams instead */
};

/* method and url as HTTP gave them; body may be NULL when len is 0. */
void api_handle(struct api *api, const char *method, const char *url,
		const char *body, size_t len, struct api_reply *out);

/* A struct api with no socket and no server, for tests and fuzzing. */
int api_new_detached(const struct api_vm_ops *ops, void *opaque, struct api **out);

#endif
