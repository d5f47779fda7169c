/* SPDX-License-Identifier: MIT */
/*
 * struct api and what its files share (vmm/api/ only).
 */
#ifndef VMM_API_INTERNAL_H
#define VMM_API_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/un.h>

#include "api/api.h"

struct MHD_Daemon;
struct json_object;

#define API_EV_RING	64	/* events a slow vm.events client may lag behind */
#define API_EV_KINDS	10	/* counted event names (events.c) */

struct api {
	const struct api_vm_ops *ops;
	void *opaque;
	struct ev_loop *loop;
	char name[65];			/* "" without --name */
	char sock_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int listen_fd;
	int lock_fd;
	struct MHD_Daemon *mhd;

	pthread_mutex_t lock;		/* everything below */
	pthread_cond_t cond;		/* events arrived, closing, or a stream ended */
	const struct vm_config *cfg;	/* the VM's configuration, for vm.info/vm.config */
	struct vm_config pending;	/* vm.create of an empty vmm */
	char *pending_arena;
	bool have_pending;
	bool boot_requested;
	bool started;
	uint64_t start_ns;		/* CLOCK_MONOTONIC at api_vm_started() */
	bool closing;
	unsigned int inflight;		/* requests not yet answered in full */
	unsigned int streams;		/* vm.events clients being served */

	/* events: a ring of JSON lines, ev_seq counts all ever emitted */
	char *ev_lines[API_EV_RING];
	uint64_t ev_seq;
	uint64_t ev_counts[API_EV_KINDS + 1];	/* last: any other name */
	int monitor_fd;			/* --event-monitor, or -1 */
	bool monitor_owned;
	uint64_t monitor_dropped;	/* lines lost to a full pipe */

	uint64_t requests, errors;
};

/* socket.c: the socket's path from --name / --api-socket, lock, bind, listen. */
int api_socket_open(struct api *api, const char *name, const char *path);
void api_socket_close(struct api *api);

/* events.c */
int api_events_init(struct api *api, const char *monitor);
void api_events_fini(struct api *api);
/* Copies lines after *seq into buf (at most len bytes); 0 if none yet. Locked. */
size_t api_events_copy(struct api *api, uint64_t *seq, char *buf, size_t len);
const char *api_event_kind_name(unsigned int i);

/* routes.c */
uint64_t api_now_ns(void);
const char *api_state_name(enum vm_state s);

#endif
