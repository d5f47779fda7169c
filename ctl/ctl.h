/* SPDX-License-Identifier: MIT */
/*
 * vmmctl: the command-line client of vmm's control socket
 * (docs/control.md, docs/man/vmmctl.1).
 */
#ifndef VMM_CTL_H
#define VMM_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/un.h>

/* Exit status of vmmctl (a contract: docs/man/vmmctl.1). */
#define CTL_OK			0
#define CTL_ERR_OTHER		1	/* the request failed; the message says why */
#define CTL_ERR_USAGE		2	/* bad command line */
#define CTL_ERR_NO_VM		3	/* no such VM: no socket, or nobody listening */
#define CTL_ERR_STATE		4	/* refused in the VM's current state (HTTP 409) */
#define CTL_ERR_TIMEOUT		5	/* no answer in time */

struct ctl_answer {
	long status;		/* HTTP status; 0 if none came */
	char *body;		/* NUL-terminated, or NULL */
	size_t len, cap;
	char curl_error[256];
};

/* Called for every line of a streamed answer; non-zero stops the stream. */
typedef int (*ctl_line_fn)(void *opaque, const char *line);

/*
 * One request: method "GET"/"PUT", endpoint "vm.info" etc., optional JSON
 * body; timeout_s 0: none.  Returns CTL_OK when an answer came (look at
 * ans->status), else CTL_ERR_NO_VM / CTL_ERR_TIMEOUT / CTL_ERR_OTHER.
 */
int ctl_request(const char *socket_path, const char *method, const char *endpoint,
		const char *body, long timeout_s, ctl_line_fn on_line, void *opaque,
		struct ctl_answer *ans);
void ctl_answer_free(struct ctl_answer *ans);

/* output.c: answers' values and human output */
struct json_object;
/* The integer at a dotted path ("timestamp.secs"); 0 if absent. */
int64_t get_int(struct json_object *o, const char *path);
/* A string member, or "-". */
const char *get_str(struct json_object *o, const char *key);
/* vm.counters: vCPU exits, devices and queues, events, API (non-zero values) */
void print_counters(struct json_object *o);
/* One of vm.info's config.nets */
void print_net(size_t i, struct json_object *n);
/* One invocation of vmmctl (vmmctl.c parses it). */
struct ctl {
	const char *verb;
	const char *name;
	char socket[sizeof(((struct sockaddr_un *)0)->sun_path)];
	bool json;
	long timeout_s;		/* per request */
	long powerdown_s;	/* powerdown --timeout */
	bool wait_given;	/* --wait */
	const char *arg;	/* snapshot: DIR */
	bool resume;		/* snapshot --resume */
	bool cancel;		/* migrate --cancel */
};

/* The answer to the exit status, printing what went wrong (vmmctl.c). */
int ctl_check(const struct ctl *c, int ret, const struct ctl_answer *a);
/* state_verbs.c: snapshot and migrate */
int ctl_snapshot(struct ctl *c);
int ctl_migrate(struct ctl *c);

#endif
