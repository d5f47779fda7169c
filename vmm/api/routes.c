// SPDX-License-Identifier: MIT
/*
 * The request router: method + path + body -> status + JSON answer.  No
 * HTTP here (server.c does that), so it is unit-tested and fuzzed with
 * fake ops.  Endpoint names, methods and bodies follow Cloud Hypervisor's
 * /api/v1 where the operation exists there; errors are {"error": "..."}.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "api/api_internal.h"
#include "config_json.h"
#include "version.h"

#define API_PREFIX		"/api/v1/"
#define POWERDOWN_MAX_S		86400

struct route;
typedef void (*route_fn)(struct api *api, const struct route *rt, const char *body,
			 size_t len, struct api_reply *out);

struct route {
	const char *path;	/* after /api/v1/ */
	const char *method;	/* "GET" or "PUT" */
	route_fn fn;
	enum vm_ctl_op op;	/* for route_ctl */
};

uint64_t api_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Cloud Hypervisor's names for the states (VmState in its openapi). */
const char *api_state_name(enum vm_state s)
{
	switch (s) {
	case VM_STATE_CREATED: return "Created";
	case VM_STATE_RUNNING: return "Running";
	case VM_STATE_PAUSED: return "Paused";
	case VM_STATE_SHUTDOWN: return "Shutdown";
	}
	return "Unknown";
}

static void reply_json(struct api_reply *out, unsigned int status, struct json_object *o)
{
	out->status = status;
	out->body = NULL;
	if (o) {
		out->body = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							       JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
	}
	if (o && !out->body)
		out->status = 500;
}

__attribute__((format(printf, 3, 4)))
static void reply_error(struct api_reply *out, unsigned int status, const char *fmt, ...)
{
	struct json_object *o = json_object_new_object();
	char msg[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (o)
		json_object_object_add(o, "error", json_object_new_string(msg));
	reply_json(out, status, o);
	out->status = status;
}

static enum vm_state current_state(struct api *api)
{
	enum vm_state s = VM_STATE_CREATED;

	if (api->ops && api->ops->state && api->ops->state(api, &s))
		s = VM_STATE_SHUTDOWN;
	return s;
}

/* Turns an op's -errno into the answer. */
static void reply_result(struct api *api, const char *what, int ret, struct api_reply *out)
{
	switch (ret) {
	case 0:
		out->status = 204;
		out->body = NULL;
		return;
	case -EBUSY:
		reply_error(out, 409, "%s is refused in state %s (see docs/control.md)", what,
			    api_state_name(current_state(api)));
		return;
	case -ENOSYS:
		reply_error(out, 501, "%s is not implemented in this vmm", what);
		return;
	case -ESHUTDOWN:
	case -ECANCELED:
		reply_error(out, 503, "vmm is shutting down");
		return;
	case -EINVAL:
		reply_error(out, 400, "%s: invalid request", what);
		return;
	default:
		reply_error(out, 500, "%s failed: %s (see vmm's log)", what, strerror(-ret));
		return;
	}
}

/*
 * Parses an optional body: empty, or a JSON object whose keys are all in
 * keys.  *root is the object (NULL for an empty body); false: answered.
 */
static bool parse_body(const char *body, size_t len, const char *const *keys,
		       struct json_object **root, struct api_reply *out)
{
	struct json_tokener *tok;
	const char *const *k;
	struct json_object *o;

	*root = NULL;
	while (len && strchr(" \t\r\n", body[len - 1]))
		len--;
	if (!len)
		return true;
	tok = json_tokener_new();
	if (!tok) {
		reply_error(out, 500, "out of memory");
		return false;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, body, (int)len);
	if (!o || json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) < len) {
		reply_error(out, 400, "the body is not valid JSON: %s",
			    o ? "trailing data" :
			    json_tokener_get_error(tok) == json_tokener_continue ? "it ends early" :
			    json_tokener_error_desc(json_tokener_get_error(tok)));
		json_object_put(o);
		json_tokener_free(tok);
		return false;
	}
	json_tokener_free(tok);
	if (!json_object_is_type(o, json_type_object)) {
		reply_error(out, 400, "the body must be a JSON object");
		json_object_put(o);
		return false;
	}
	json_object_object_foreach(o, key, val) {
		(void)val;
		for (k = keys; *k; k++) {
			if (!strcmp(*k, key))
				break;
		}
		if (!*k) {
			reply_error(out, 400, "unknown field '%.64s' in the body", key);
			json_object_put(o);
			return false;
		}
	}
	*root = o;
	return true;
}

static void route_ping(struct api *api, const struct route *rt, const char *body,
		       size_t len, struct api_reply *out)
{
	struct json_object *o = json_object_new_object();

	if (o) {
		json_object_object_add(o, "build_version", json_object_new_string(VMM_VERSION));
		json_object_object_add(o, "version", json_object_new_string(VMM_VERSION));
		json_object_object_add(o, "pid", json_object_new_int64(getpid()));
		json_object_object_add(o, "features", json_object_new_array());
	}
	reply_json(out, o ? 200 : 500, o);
}

static const struct vm_config *reported_config(struct api *api)
{
	const struct vm_config *cfg;

	pthread_mutex_lock(&api->lock);
	cfg = api->cfg ? api->cfg : api->have_pending ? &api->pending : NULL;
	pthread_mutex_unlock(&api->lock);
	return cfg;
}

static void route_info(struct api *api, const struct route *rt, const char *body,
		       size_t len, struct api_reply *out)
{
	const struct vm_config *cfg = reported_config(api);
	struct json_object *o = json_object_new_object();
	enum vm_state s = current_state(api);
	uint64_t uptime = 0;

	if (!o) {
		reply_error(out, 500, "out of memory");
		return;
	}
	pthread_mutex_lock(&api->lock);
	if (api->started)
		uptime = (api_now_ns() - api->start_ns) / 1000000;
	pthread_mutex_unlock(&api->lock);
	json_object_object_add(o, "config", cfg ? config_json_object(cfg) : NULL);
	json_object_object_add(o, "state", json_object_new_string(api_state_name(s)));
	json_object_object_add(o, "memory_actual_size",
			       json_object_new_int64(cfg ? (int64_t)cfg->memory : 0));
	json_object_object_add(o, "name", json_object_new_string(api->name));
	json_object_object_add(o, "pid", json_object_new_int64(getpid()));
	json_object_object_add(o, "vcpus", json_object_new_int64(cfg ? cfg->cpus : 0));
	json_object_object_add(o, "uptime_ms", json_object_new_int64((int64_t)uptime));
	reply_json(out, 200, o);
}

/*
 * The VM's counters (api_vm_ops.counters, gathered on the event loop) into
 * o: "vcpus" and "devices", empty before the VM exists.  false: answered.
 */
static bool add_vm_counters(struct api *api, struct json_object *o, struct api_reply *out)
{
	static const char *const keys[] = { "vcpus", "devices" };
	struct json_object *vm = NULL, *v;
	unsigned int i;
	int ret = 0;

	if (api->ops && api->ops->counters)
		ret = api->ops->counters(api, &vm);
	if (ret) {
		reply_result(api, "vm.counters", ret, out);
		return false;
	}
	for (i = 0; i < 2; i++) {
		if (vm && json_object_object_get_ex(vm, keys[i], &v))
			json_object_object_add(o, keys[i], json_object_get(v));
		else
			json_object_object_add(o, keys[i], json_object_new_array());
	}
	json_object_put(vm);
	return true;
}

static void route_counters(struct api *api, const struct route *rt, const char *body,
			   size_t len, struct api_reply *out)
{
	struct json_object *o = json_object_new_object();
	struct json_object *ev = json_object_new_object();
	struct json_object *a = json_object_new_object();
	unsigned int i;

	if (!o || !ev || !a) {
		json_object_put(o);
		json_object_put(ev);
		json_object_put(a);
		reply_error(out, 500, "out of memory");
		return;
	}
	pthread_mutex_lock(&api->lock);
	for (i = 0; i <= API_EV_KINDS; i++)
		json_object_object_add(ev, api_event_kind_name(i),
				       json_object_new_int64((int64_t)api->ev_counts[i]));
	json_object_object_add(a, "requests", json_object_new_int64((int64_t)api->requests));
	json_object_object_add(a, "errors", json_object_new_int64((int64_t)api->errors));
	pthread_mutex_unlock(&api->lock);
	json_object_object_add(o, "events", ev);
	json_object_object_add(o, "api", a);
	if (!add_vm_counters(api, o, out)) {
		json_object_put(o);
		return;
	}
	reply_json(out, 200, o);
}

static void route_config(struct api *api, const struct route *rt, const char *body,
			 size_t len, struct api_reply *out)
{
	const struct vm_config *cfg = reported_config(api);

	if (!cfg) {
		reply_error(out, 404, "no configuration yet: send vm.create first");
		return;
	}
	reply_json(out, 200, config_json_object(cfg));
}

static void route_events(struct api *api, const struct route *rt, const char *body,
			 size_t len, struct api_reply *out)
{
	out->status = 200;
	out->stream_events = true;
}

static const char *const no_keys[] = { NULL };

static void route_ctl(struct api *api, const struct route *rt, const char *body,
		      size_t len, struct api_reply *out)
{
	struct json_object *o;

	if (!parse_body(body, len, no_keys, &o, out))
		return;
	json_object_put(o);
	if (!api->ops || !api->ops->ctl) {
		reply_result(api, rt->path, -ENOSYS, out);
		return;
	}
	reply_result(api, rt->path, api->ops->ctl(api, rt->op), out);
}

static void route_power_button(struct api *api, const struct route *rt, const char *body,
			       size_t len, struct api_reply *out)
{
	static const char *const keys[] = { "timeout_s", NULL };
	struct json_object *o, *v;
	int64_t t = 0;

	if (!parse_body(body, len, keys, &o, out))
		return;
	if (o && json_object_object_get_ex(o, "timeout_s", &v)) {
		errno = 0;
		t = json_object_get_int64(v);
		if (!json_object_is_type(v, json_type_int) || errno || t < 1 ||
		    t > POWERDOWN_MAX_S) {
			json_object_put(o);
			reply_error(out, 400, "timeout_s must be an integer from 1 to %d",
				    POWERDOWN_MAX_S);
			return;
		}
	}
	json_object_put(o);
	if (!api->ops || !api->ops->powerdown) {
		reply_result(api, rt->path, -ENOSYS, out);
		return;
	}
	reply_result(api, rt->path, api->ops->powerdown(api, (unsigned int)t), out);
}

static void route_quit(struct api *api, const struct route *rt, const char *body,
		       size_t len, struct api_reply *out)
{
	struct json_object *o;

	if (!parse_body(body, len, no_keys, &o, out))
		return;
	json_object_put(o);
	reply_result(api, rt->path, api->ops && api->ops->quit ? api->ops->quit(api) : -ENOSYS,
		     out);
}

static void route_create(struct api *api, const struct route *rt, const char *body,
			 size_t len, struct api_reply *out)
{
	struct vm_config cfg;
	char err[512];
	char *arena;
	int ret;

	memset(&cfg, 0, sizeof(cfg));
	ret = config_json_parse(body ? body : "", len, &cfg, &arena, err, sizeof(err));
	if (ret == -EINVAL) {
		reply_error(out, 400, "%s", err);
		return;
	}
	if (ret) {
		reply_result(api, rt->path, ret, out);
		return;
	}
	pthread_mutex_lock(&api->lock);
	if (api->cfg || api->have_pending || api->boot_requested) {
		pthread_mutex_unlock(&api->lock);
		free(arena);
		reply_error(out, 409, "vm.create: this vmm already has a VM");
		return;
	}
	api->pending = cfg;
	api->pending_arena = arena;
	api->have_pending = true;
	pthread_mutex_unlock(&api->lock);
	out->status = 204;
}

static void route_boot(struct api *api, const struct route *rt, const char *body,
		       size_t len, struct api_reply *out)
{
	struct json_object *o;
	bool have;

	if (!parse_body(body, len, no_keys, &o, out))
		return;
	json_object_put(o);
	pthread_mutex_lock(&api->lock);
	have = api->have_pending && !api->boot_requested;
	pthread_mutex_unlock(&api->lock);
	if (!have) {
		reply_error(out, 409, api->cfg || api->boot_requested ?
			    "vm.boot: the VM is already booted" :
			    "vm.boot: no VM created: send vm.create first");
		return;
	}
	reply_result(api, rt->path, api->ops && api->ops->boot ? api->ops->boot(api) : -ENOSYS,
		     out);
}

/*
 * vm.snapshot {"destination_url": "file:///DIR", "resume": false} and
 * vm.restore {"source_url": "file:///DIR[,memory=copy][,clock=wall]",
 * "resume": false} (docs/snapshot.md).  The URL is checked by the VM side.
 */
static void route_state(struct api *api, const struct route *rt, const char *body,
			size_t len, struct api_reply *out)
{
	static const char *const snap_keys[] = { "destination_url", "resume", NULL };
	static const char *const restore_keys[] = { "source_url", "resume", NULL };
	bool snap = !strcmp(rt->path, "vm.snapshot");
	const char *key = snap ? "destination_url" : "source_url";
	struct json_object *o, *v;
	char url[4200], err[600] = "";
	bool resume = false;
	int ret;

	if (!parse_body(body, len, snap ? snap_keys : restore_keys, &o, out))
		return;
	if (!o || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    json_object_get_string_len(v) >= (int)sizeof(url)) {
		json_object_put(o);
		reply_error(out, 400, "%s needs \"%s\": \"file:///DIR\"", rt->path, key);
		return;
	}
	snprintf(url, sizeof(url), "%s", json_object_get_string(v));
	if (json_object_object_get_ex(o, "resume", &v)) {
		if (!json_object_is_type(v, json_type_boolean)) {
			json_object_put(o);
			reply_error(out, 400, "resume must be true or false");
			return;
		}
		resume = json_object_get_boolean(v);
	}
	json_object_put(o);
	if (!api->ops || !(snap ? api->ops->snapshot : api->ops->restore)) {
		reply_result(api, rt->path, -ENOSYS, out);
		return;
	}
	ret = snap ? api->ops->snapshot(api, url, resume, err, sizeof(err)) :
		     api->ops->restore(api, url, resume, err, sizeof(err));
	if (ret && err[0])
		reply_error(out, ret == -EBUSY ? 409 : ret == -EINVAL ? 400 : 500, "%s: %s",
			    rt->path, err);
	else
		reply_result(api, rt->path, ret, out);
}

/*
 * vm.send-migration {"destination_url": "unix:PATH" | "tcp:HOST:PORT"}, or
 * {"cancel": true} while one runs (docs/migration.md).
 */
static void route_migrate(struct api *api, const struct route *rt, const char *body,
			  size_t len, struct api_reply *out)
{
	static const char *const keys[] = { "destination_url", "cancel", NULL };
	struct api_migration_stats st = { 0 };
	struct json_object *o, *v;
	char url[512], err[600] = "";
	int ret;

	if (!parse_body(body, len, keys, &o, out))
		return;
	if (o && json_object_object_get_ex(o, "cancel", &v)) {
		bool cancel = json_object_get_boolean(v);

		if (!json_object_is_type(v, json_type_boolean) || !cancel ||
		    json_object_object_length(o) != 1) {
			json_object_put(o);
			reply_error(out, 400, "%s: cancel takes true and nothing else", rt->path);
			return;
		}
		json_object_put(o);
		reply_result(api, rt->path, api->ops && api->ops->migrate_cancel ?
			     api->ops->migrate_cancel(api) : -ENOSYS, out);
		return;
	}
	if (!o || !json_object_object_get_ex(o, "destination_url", &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    json_object_get_string_len(v) >= (int)sizeof(url)) {
		json_object_put(o);
		reply_error(out, 400, "%s needs \"destination_url\": \"unix:PATH\" or "
			    "\"tcp:HOST:PORT\"", rt->path);
		return;
	}
	snprintf(url, sizeof(url), "%s", json_object_get_string(v));
	json_object_put(o);
	if (!api->ops || !api->ops->migrate) {
		reply_result(api, rt->path, -ENOSYS, out);
		return;
	}
	ret = api->ops->migrate(api, url, &st, err, sizeof(err));
	if (!ret) {
		struct json_object *a = json_object_new_object();

		if (a) {
			json_object_object_add(a, "rounds", json_object_new_int64(st.rounds));
			json_object_object_add(a, "pages", json_object_new_int64((int64_t)st.pages));
			json_object_object_add(a, "bytes", json_object_new_int64((int64_t)st.bytes));
			json_object_object_add(a, "total_ms", json_object_new_double(st.total_ms));
			json_object_object_add(a, "downtime_ms",
					       json_object_new_double(st.downtime_ms));
		}
		reply_json(out, a ? 200 : 500, a);
	} else if (err[0])
		reply_error(out, ret == -EBUSY ? 409 : ret == -EINVAL ? 400 : 500, "%s: %s",
			    rt->path, err);
	else
		reply_result(api, rt->path, ret, out);
}

/* vm.receive-migration {"receiver_url": "unix:PATH" | "tcp:HOST:PORT"}: an empty vmm waits. */
static void route_receive(struct api *api, const struct route *rt, const char *body,
			  size_t len, struct api_reply *out)
{
	static const char *const keys[] = { "receiver_url", NULL };
	struct json_object *o, *v;
	char url[512], err[600] = "";
	int ret;

	if (!parse_body(body, len, keys, &o, out))
		return;
	if (!o || !json_object_object_get_ex(o, "receiver_url", &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    json_object_get_string_len(v) >= (int)sizeof(url)) {
		json_object_put(o);
		reply_error(out, 400, "%s needs \"receiver_url\": \"unix:PATH\" or "
			    "\"tcp:HOST:PORT\"", rt->path);
		return;
	}
	snprintf(url, sizeof(url), "%s", json_object_get_string(v));
	json_object_put(o);
	if (!api->ops || !api->ops->receive) {
		reply_result(api, rt->path, -ENOSYS, out);
		return;
	}
	ret = api->ops->receive(api, url, err, sizeof(err));
	if (ret && err[0])
		reply_error(out, ret == -EBUSY ? 409 : ret == -EINVAL ? 400 : 500, "%s: %s",
			    rt->path, err);
	else
		reply_result(api, rt->path, ret, out);
}

static const struct route routes[] = {
	{ "vmm.ping", "GET", route_ping, 0 },
	{ "vmm.shutdown", "PUT", route_quit, 0 },
	{ "vm.info", "GET", route_info, 0 },
	{ "vm.counters", "GET", route_counters, 0 },
	{ "vm.config", "GET", route_config, 0 },
	{ "vm.events", "GET", route_events, 0 },
	{ "vm.create", "PUT", route_create, 0 },
	{ "vm.boot", "PUT", route_boot, 0 },
	{ "vm.pause", "PUT", route_ctl, VM_CTL_PAUSE },
	{ "vm.resume", "PUT", route_ctl, VM_CTL_RESUME },
	{ "vm.reboot", "PUT", route_ctl, VM_CTL_REBOOT },
	{ "vm.reset", "PUT", route_ctl, VM_CTL_RESET },
	{ "vm.power-button", "PUT", route_power_button, 0 },
	{ "vm.shutdown", "PUT", route_quit, 0 },
	{ "vm.snapshot", "PUT", route_state, 0 },
	{ "vm.restore", "PUT", route_state, 0 },
	{ "vm.send-migration", "PUT", route_migrate, 0 },
	{ "vm.receive-migration", "PUT", route_receive, 0 },
};

void api_handle(struct api *api, const char *method, const char *url,
		const char *body, size_t len, struct api_reply *out)
{
	const struct route *rt = NULL;
	const char *path;
	size_t i;

	memset(out, 0, sizeof(*out));
	if (strncmp(url, API_PREFIX, strlen(API_PREFIX))) {
		reply_error(out, 404, "no such endpoint: %.128s (endpoints are under "
			    API_PREFIX ", see docs/control.md)", url);
		goto count;
	}
	path = url + strlen(API_PREFIX);
	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (!strcmp(routes[i].path, path)) {
			rt = &routes[i];
			break;
		}
	}
	if (!rt) {
		reply_error(out, 404, "no such endpoint: %.128s (see docs/control.md)", url);
		goto count;
	}
	if (strcmp(method, rt->method)) {
		reply_error(out, 405, "%s takes %s, not %.16s", rt->path, rt->method, method);
		out->allow = rt->method;
		goto count;
	}
	if (!strcmp(rt->method, "GET") && len) {
		reply_error(out, 400, "%s takes no body", rt->path);
		goto count;
	}
	rt->fn(api, rt, body, len, out);
count:
	pthread_mutex_lock(&api->lock);
	api->requests++;
	if (out->status >= 400)
		api->errors++;
	pthread_mutex_unlock(&api->lock);
}
