// SPDX-License-Identifier: MIT
/*
 * The control socket's router (vmm/api/routes.c) with fake VM ops: every
 * endpoint and method, bodies refused for each reason, errno -> HTTP
 * status, the vm.create + vm.boot flow of an empty vmm, the event ring,
 * and the new command-line options.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "api/api_internal.h"
#include "options.h"

/* A fake VM with the state machine of vm_ctl.h. */
struct fake {
	enum vm_state state;
	int calls;
	enum vm_ctl_op last_op;
	unsigned int last_timeout;
	int force;		/* non-zero: every op returns it */
};

static struct fake fk;
static struct api *api;

static int fake_ctl(struct api *a, enum vm_ctl_op op)
{
	fk.calls++;
	fk.last_op = op;
	if (fk.force)
		return fk.force;
	switch (op) {
	case VM_CTL_PAUSE:
		if (fk.state != VM_STATE_RUNNING)
			return -EBUSY;
		fk.state = VM_STATE_PAUSED;
		return 0;
	case VM_CTL_RESUME:
		if (fk.state != VM_STATE_PAUSED)
			return -EBUSY;
		fk.state = VM_STATE_RUNNING;
		return 0;
	case VM_CTL_RESET:
		return fk.state == VM_STATE_RUNNING || fk.state == VM_STATE_PAUSED ? 0 : -EBUSY;
	default:
		return fk.state == VM_STATE_RUNNING ? 0 : -EBUSY;
	}
}

static int fake_powerdown(struct api *a, unsigned int timeout_s)
{
	fk.last_timeout = timeout_s;
	return fake_ctl(a, VM_CTL_POWER_BUTTON);
}

static int fake_state(struct api *a, enum vm_state *out)
{
	*out = fk.state;
	return 0;
}

static int fake_boot(struct api *a)
{
	fk.calls++;
	fk.state = VM_STATE_RUNNING;
	api_set_boot_requested(a);
	return 0;
}

static int fake_quit(struct api *a)
{
	fk.calls++;
	fk.state = VM_STATE_SHUTDOWN;
	return 0;
}

static const struct api_vm_ops fake_ops = {
	.ctl = fake_ctl, .powerdown = fake_powerdown, .state = fake_state,
	.boot = fake_boot, .quit = fake_quit,
};

static struct vm_config cfg = {
	.kernel = "/k", .cmdline = "console=ttyS0", .cpus = 2, .memory = 512ULL << 20,
};

static void setup(void)
{
	memset(&fk, 0, sizeof(fk));
	fk.state = VM_STATE_RUNNING;
	cr_assert_eq(api_new_detached(&fake_ops, &fk, &api), 0);
	api_set_config(api, &cfg);
}

static void teardown(void)
{
	api_events_fini(api);
	free(api->pending_arena);
	free(api);
}

TestSuite(api, .init = setup, .fini = teardown);

static struct api_reply r;

/* Sends one request; returns the parsed body (NULL for none). */
static struct json_object *req(const char *method, const char *path, const char *body)
{
	char url[128];

	free(r.body);
	snprintf(url, sizeof(url), "/api/v1/%s", path);
	api_handle(api, method, url, body, body ? strlen(body) : 0, &r);
	if (!r.body)
		return NULL;
	return json_tokener_parse(r.body);
}

static void expect(const char *method, const char *path, const char *body, unsigned int status)
{
	struct json_object *o = req(method, path, body);

	cr_assert_eq(r.status, status, "%s %s %s: %u, want %u (%s)", method, path,
		     body ? body : "", r.status, status, r.body ? r.body : "");
	if (status >= 400) {
		struct json_object *e;

		cr_assert_not_null(o, "error without a JSON body");
		cr_assert(json_object_object_get_ex(o, "error", &e), "%s", r.body);
	}
	if (status == 204)
		cr_assert_null(r.body);
	json_object_put(o);
}

Test(api, ping_and_info)
{
	struct json_object *o, *v;

	o = req("GET", "vmm.ping", NULL);
	cr_assert_eq(r.status, 200);
	cr_assert(json_object_object_get_ex(o, "version", &v));
	cr_assert(json_object_object_get_ex(o, "pid", &v));
	json_object_put(o);
	o = req("GET", "vm.info", NULL);
	cr_assert_eq(r.status, 200);
	cr_assert(json_object_object_get_ex(o, "state", &v));
	cr_assert_str_eq(json_object_get_string(v), "Running");
	cr_assert(json_object_object_get_ex(o, "memory_actual_size", &v));
	cr_assert_eq(json_object_get_int64(v), 512LL << 20);
	cr_assert(json_object_object_get_ex(o, "config", &v));
	cr_assert(json_object_object_get_ex(v, "cpus", &v));
	json_object_put(o);
	expect("GET", "vm.counters", NULL, 200);
	expect("GET", "vm.config", NULL, 200);
	/* no counters op (as before a VM exists): the VM's parts are empty arrays */
	o = req("GET", "vm.counters", NULL);
	cr_assert(json_object_object_get_ex(o, "vcpus", &v));
	cr_assert(json_object_is_type(v, json_type_array));
	cr_assert_eq(json_object_array_length(v), 0);
	cr_assert(json_object_object_get_ex(o, "devices", &v));
	cr_assert(json_object_is_type(v, json_type_array));
	cr_assert(json_object_object_get_ex(o, "api", &v));
	json_object_put(o);
}

Test(api, routing_errors)
{
	expect("GET", "vm.nothing", NULL, 404);
	expect("PUT", "vm.info", NULL, 405);
	cr_assert_str_eq(r.allow, "GET");
	expect("GET", "vm.pause", NULL, 405);
	cr_assert_str_eq(r.allow, "PUT");
	expect("DELETE", "vm.pause", NULL, 405);
	expect("GET", "vm.info", "{}", 400);
	free(r.body);
	api_handle(api, "GET", "/vmm.ping", NULL, 0, &r);
	cr_assert_eq(r.status, 404);
	free(r.body);
	api_handle(api, "GET", "/api/v1/", NULL, 0, &r);
	cr_assert_eq(r.status, 404);
	free(r.body);
	api_handle(api, "GET", "/api/v1/vmm.ping/x", NULL, 0, &r);
	cr_assert_eq(r.status, 404);
	free(r.body);
	r.body = NULL;
}

Test(api, state_machine_through_the_verbs)
{
	expect("PUT", "vm.resume", NULL, 409);		/* running: resume refused */
	expect("PUT", "vm.pause", NULL, 204);
	cr_assert_eq(fk.state, VM_STATE_PAUSED);
	expect("PUT", "vm.pause", NULL, 409);
	expect("PUT", "vm.reboot", NULL, 409);
	expect("PUT", "vm.reset", NULL, 204);
	expect("PUT", "vm.resume", "{}", 204);
	cr_assert_eq(fk.state, VM_STATE_RUNNING);
	expect("PUT", "vm.reboot", NULL, 204);
	cr_assert_eq(fk.last_op, VM_CTL_REBOOT);
	expect("PUT", "vm.power-button", NULL, 204);
	cr_assert_eq(fk.last_timeout, 0);
	expect("PUT", "vm.power-button", "{\"timeout_s\": 30}", 204);
	cr_assert_eq(fk.last_timeout, 30);
	expect("PUT", "vm.shutdown", NULL, 204);
	cr_assert_eq(fk.state, VM_STATE_SHUTDOWN);
	expect("PUT", "vm.pause", NULL, 409);
}

Test(api, bad_bodies)
{
	int calls = fk.calls;

	expect("PUT", "vm.pause", "{", 400);
	expect("PUT", "vm.pause", "{\"now\":true}", 400);
	expect("PUT", "vm.pause", "[]", 400);
	expect("PUT", "vm.pause", "\"x\"", 400);
	expect("PUT", "vm.pause", "{} {}", 400);
	expect("PUT", "vm.pause", "\xff\xfe", 400);
	expect("PUT", "vm.power-button", "{\"timeout_s\":\"30\"}", 400);
	expect("PUT", "vm.power-button", "{\"timeout_s\":0}", 400);
	expect("PUT", "vm.power-button", "{\"timeout_s\":86401}", 400);
	expect("PUT", "vm.power-button", "{\"timeout_s\":1e3}", 400);
	expect("PUT", "vm.power-button", "{\"timeout\":3}", 400);
	cr_assert_eq(fk.calls, calls, "a refused body reached the VM");
	expect("PUT", "vm.pause", " \r\n", 204);	/* whitespace only: no body */
}

Test(api, errno_to_status)
{
	fk.force = -ENOSYS;
	expect("PUT", "vm.pause", NULL, 501);
	fk.force = -ESHUTDOWN;
	expect("PUT", "vm.pause", NULL, 503);
	fk.force = -EIO;
	expect("PUT", "vm.pause", NULL, 500);
}

Test(api, create_and_boot_of_an_empty_vmm)
{
	api_set_config(api, NULL);
	fk.state = VM_STATE_CREATED;
	expect("GET", "vm.config", NULL, 404);
	expect("PUT", "vm.boot", NULL, 409);		/* nothing created */
	expect("PUT", "vm.create", NULL, 400);
	expect("PUT", "vm.create", "{\"payload\":{\"kernel\":\"/k\"},\"gpus\":1}", 400);
	cr_assert_null(api_pending_config(api));
	expect("PUT", "vm.create", "{\"payload\":{\"kernel\":\"/vmlinuz\"},\"cpus\":"
	       "{\"boot_vcpus\":3}}", 204);
	cr_assert_not_null(api_pending_config(api));
	cr_assert_eq(api_pending_config(api)->cpus, 3);
	expect("PUT", "vm.create", "{\"payload\":{\"kernel\":\"/other\"}}", 409);
	expect("GET", "vm.config", NULL, 200);
	cr_assert(!api_boot_requested(api));
	expect("PUT", "vm.boot", NULL, 204);
	cr_assert(api_boot_requested(api));
	expect("PUT", "vm.boot", NULL, 409);
}

Test(api, create_refused_when_the_vm_exists)
{
	expect("PUT", "vm.create", "{\"payload\":{\"kernel\":\"/k\"}}", 409);
}

Test(api, events_ring)
{
	char buf[4096];
	uint64_t seq = 0;
	struct json_object *o, *v;
	size_t n;
	int i;

	cr_assert_eq(api_events_copy(api, &seq, buf, sizeof(buf)), 0);
	api_event(api, "paused", NULL, 0);
	api_event(api, "shutdown", "guest powered off", 0);
	n = api_events_copy(api, &seq, buf, sizeof(buf) - 1);
	buf[n] = '\0';
	cr_assert_eq(seq, 2);
	cr_assert(strchr(buf, '\n') && strchr(buf, '\n')[1] == '{', "%s", buf);
	*strchr(buf, '\n') = '\0';
	o = json_tokener_parse(buf);
	cr_assert_not_null(o, "%s", buf);
	cr_assert(json_object_object_get_ex(o, "event", &v));
	cr_assert_str_eq(json_object_get_string(v), "paused");
	cr_assert(json_object_object_get_ex(o, "timestamp", &v));
	cr_assert(json_object_object_get_ex(v, "nanos", &v));
	json_object_put(o);
	o = json_tokener_parse(buf + strlen(buf) + 1);
	cr_assert(json_object_object_get_ex(o, "status", &v));
	cr_assert(json_object_object_get_ex(o, "reason", &v));
	json_object_put(o);
	/* a client too slow for the ring skips to the oldest line kept */
	for (i = 0; i < 3 * API_EV_RING; i++)
		api_event(api, "reset", NULL, 0);
	seq = 0;
	api_events_copy(api, &seq, buf, 10);	/* a line longer than the buffer: cut */
	cr_assert_eq(seq, api->ev_seq - API_EV_RING + 1);
	cr_assert_eq(buf[9], '\n');
	cr_assert_eq(api->ev_counts[5], 3 * API_EV_RING);	/* "reset" */
}

Test(api, options)
{
	static struct vm_config c;
	FILE *null = fopen("/dev/null", "w");
	char *a1[] = { "vmm", "--name", "web-1", NULL };
	char *a2[] = { "vmm", "--name", ".hidden", NULL };
	char *a3[] = { "vmm", "--config", "x.json", "--kernel", "/k", NULL };
	char *a4[] = { "vmm", "--config", "x.json", "--event-monitor", "fd=3", NULL };
	char *a5[] = { "vmm", "--api-socket", "/s", "--event-monitor", "fd=x", NULL };
	char *a6[] = { "vmm", "--name", "a", "--api-socket", "/s", NULL };
	char *a7[] = { "vmm", "--name", "a/b", NULL };
	char *a8[] = { "vmm", "--memory", "256M", "--config", "x.json", NULL };
	char *a9[] = { "vmm", "--name", "a", "--cpus", "2", NULL };

	cr_assert_eq(opts_parse(3, a1, &c, null, null), OPTS_RUN);
	cr_assert_str_eq(c.name, "web-1");
	cr_assert_null(c.kernel);
	cr_assert_eq(opts_parse(3, a2, &c, null, null), OPTS_ERROR);
	cr_assert_eq(opts_parse(5, a3, &c, null, null), OPTS_ERROR);
	cr_assert_eq(opts_parse(5, a4, &c, null, null), OPTS_RUN);
	cr_assert_str_eq(c.config_path, "x.json");
	cr_assert_str_eq(c.event_monitor, "fd=3");
	cr_assert_eq(opts_parse(5, a5, &c, null, null), OPTS_ERROR);
	cr_assert_eq(opts_parse(5, a6, &c, null, null), OPTS_ERROR);
	cr_assert_eq(opts_parse(3, a7, &c, null, null), OPTS_ERROR);
	cr_assert_eq(opts_parse(5, a8, &c, null, null), OPTS_ERROR);
	cr_assert_eq(opts_parse(5, a9, &c, null, null), OPTS_ERROR);	/* VM options need --kernel */
	fclose(null);
}
