// SPDX-License-Identifier: MIT
/*
 * vm.snapshot and vm.restore through the router (vmm/api/routes.c) with
 * fake ops: the body's fields and types, the URL handed on, resume, the
 * op's errors with their reason; and the snapshot URL parser
 * (state/state_url.c).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "api/api_internal.h"
#include "state/state_url.h"

static struct {
	char url[4200];
	bool resume;
	int calls;
	int ret;
} fk;
static struct api *api;
static struct api_reply r;

static int fake_state_op(struct api *a, const char *url, bool resume, char *err, size_t len)
{
	fk.calls++;
	snprintf(fk.url, sizeof(fk.url), "%s", url);
	fk.resume = resume;
	if (fk.ret)
		snprintf(err, len, "the reason");
	return fk.ret;
}

static int fake_migrate(struct api *a, const char *url, struct api_migration_stats *st,
			char *err, size_t len)
{
	fk.calls++;
	snprintf(fk.url, sizeof(fk.url), "%s", url);
	*st = (struct api_migration_stats){ .rounds = 2, .pages = 7, .bytes = 30000,
					    .total_ms = 12.5, .downtime_ms = 3.25 };
	if (fk.ret)
		snprintf(err, len, "the reason");
	return fk.ret;
}

static int fake_cancel(struct api *a)
{
	fk.calls++;
	return fk.ret;
}

static const struct api_vm_ops fake_ops = {
	.snapshot = fake_state_op, .restore = fake_state_op,
	.migrate = fake_migrate, .migrate_cancel = fake_cancel, .receive = NULL,
};

static void setup(void)
{
	memset(&fk, 0, sizeof(fk));
	cr_assert_eq(api_new_detached(&fake_ops, &fk, &api), 0);
}

static void teardown(void)
{
	free(r.body);
	r.body = NULL;
	api_events_fini(api);
	free(api);
}

TestSuite(api_state, .init = setup, .fini = teardown);

static unsigned int put(const char *path, const char *body)
{
	char url[128];

	free(r.body);
	snprintf(url, sizeof(url), "/api/v1/%s", path);
	api_handle(api, "PUT", url, body, body ? strlen(body) : 0, &r);
	return r.status;
}

Test(api_state, snapshot_body)
{
	cr_assert_eq(put("vm.snapshot", "{\"destination_url\":\"file:///var/tmp/s\"}"), 204);
	cr_assert_str_eq(fk.url, "file:///var/tmp/s");
	cr_assert(!fk.resume);
	cr_assert_eq(put("vm.snapshot", "{\"destination_url\":\"file:///d\",\"resume\":true}"), 204);
	cr_assert(fk.resume);
	cr_assert_eq(fk.calls, 2);
	cr_assert_eq(put("vm.snapshot", NULL), 400);
	cr_assert_eq(put("vm.snapshot", "{}"), 400);
	cr_assert_eq(put("vm.snapshot", "{\"destination_url\":7}"), 400);
	cr_assert_eq(put("vm.snapshot", "{\"destination_url\":\"file:///d\",\"resume\":1}"), 400);
	cr_assert_eq(put("vm.snapshot", "{\"source_url\":\"file:///d\"}"), 400);
	cr_assert_eq(fk.calls, 2, "a bad body reached the VM");
}

Test(api_state, restore_body_and_errors)
{
	cr_assert_eq(put("vm.restore", "{\"source_url\":\"file:///d,memory=copy\"}"), 204);
	cr_assert_str_eq(fk.url, "file:///d,memory=copy");
	cr_assert_eq(put("vm.restore", "{\"destination_url\":\"file:///d\"}"), 400);
	fk.ret = -EINVAL;
	cr_assert_eq(put("vm.restore", "{\"source_url\":\"file:///d\"}"), 400);
	cr_assert(strstr(r.body, "the reason"), "%s", r.body);
	fk.ret = -EBUSY;
	cr_assert_eq(put("vm.snapshot", "{\"destination_url\":\"file:///d\"}"), 409);
	fk.ret = -EIO;
	cr_assert_eq(put("vm.snapshot", "{\"destination_url\":\"file:///d\"}"), 500);
	cr_assert(strstr(r.body, "the reason"), "%s", r.body);
}

Test(api_state, url_parse)
{
	struct vm_state_url u;
	char err[256];

	cr_assert_eq(vm_state_url_parse("file:///var/tmp/s", false, &u, err, sizeof(err)), 0);
	cr_assert_str_eq(u.dir, "/var/tmp/s");
	cr_assert_eq(u.memory, MEM_FILE_MAP);
	cr_assert_eq(u.clock, VM_CLOCK_CONTINUE);
	cr_assert_eq(vm_state_url_parse("file:///d,memory=copy,clock=wall", true, &u, err,
					sizeof(err)), 0);
	cr_assert_str_eq(u.dir, "/d");
	cr_assert_eq(u.memory, MEM_FILE_COPY);
	cr_assert_eq(u.clock, VM_CLOCK_WALL);
	cr_assert_eq(vm_state_url_parse("file:///d,memory=copy", false, &u, err, sizeof(err)),
		     -EINVAL, "a snapshot takes no options");
	cr_assert_eq(vm_state_url_parse("file:///d,memory=lazy", true, &u, err, sizeof(err)),
		     -EINVAL);
	cr_assert(strstr(err, "memory=lazy"), "%s", err);
	cr_assert_eq(vm_state_url_parse("file://rel", true, &u, err, sizeof(err)), -EINVAL);
	cr_assert_eq(vm_state_url_parse("/abs", true, &u, err, sizeof(err)), -EINVAL);
	cr_assert_eq(vm_state_url_parse("tcp:1.2.3.4:5", true, &u, err, sizeof(err)), -EINVAL);
}

Test(api_state, send_migration)
{
	struct json_object *o, *v;

	cr_assert_eq(put("vm.send-migration", "{\"destination_url\":\"unix:/tmp/m\"}"), 200);
	cr_assert_str_eq(fk.url, "unix:/tmp/m");
	o = json_tokener_parse(r.body);
	cr_assert_not_null(o, "%s", r.body);
	cr_assert(json_object_object_get_ex(o, "downtime_ms", &v));
	cr_assert_float_eq(json_object_get_double(v), 3.25, 1e-9);
	cr_assert(json_object_object_get_ex(o, "pages", &v));
	cr_assert_eq(json_object_get_int64(v), 7);
	json_object_put(o);
	cr_assert_eq(put("vm.send-migration", "{\"cancel\":true}"), 204);
	cr_assert_eq(put("vm.send-migration", "{\"cancel\":false}"), 400);
	cr_assert_eq(put("vm.send-migration", "{\"cancel\":true,\"destination_url\":\"x\"}"), 400);
	cr_assert_eq(put("vm.send-migration", "{}"), 400);
	fk.ret = -EBUSY;
	cr_assert_eq(put("vm.send-migration", "{\"cancel\":true}"), 409);
	fk.ret = -ECONNREFUSED;
	cr_assert_eq(put("vm.send-migration", "{\"destination_url\":\"unix:/x\"}"), 500);
	cr_assert(strstr(r.body, "the reason"), "%s", r.body);
	fk.ret = 0;
	cr_assert_eq(put("vm.receive-migration", "{\"receiver_url\":\"unix:/x\"}"), 501);
}
