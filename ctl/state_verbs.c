// SPDX-License-Identifier: MIT
/*
 * vmmctl snapshot NAME DIR [--resume] and vmmctl migrate NAME URL | --cancel
 * (docs/snapshot.md, docs/migration.md).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "ctl.h"

/* vm.snapshot: DIR made absolute (the vmm may run elsewhere), as file:///DIR. */
int ctl_snapshot(struct ctl *c)
{
	struct json_object *body = json_object_new_object();
	char cwd[4096], url[8300];
	struct ctl_answer a;
	int ret;

	if (!body)
		return CTL_ERR_OTHER;
	if (c->arg[0] != '/' && !getcwd(cwd, sizeof(cwd))) {
		fprintf(stderr, "vmmctl: snapshot: cannot get the current directory: %s\n",
			strerror(errno));
		json_object_put(body);
		return CTL_ERR_OTHER;
	}
	snprintf(url, sizeof(url), "file://%s%s%s", c->arg[0] == '/' ? "" : cwd,
		 c->arg[0] == '/' ? "" : "/", c->arg);
	json_object_object_add(body, "destination_url", json_object_new_string(url));
	if (c->resume)
		json_object_object_add(body, "resume", json_object_new_boolean(1));
	/* a large guest takes a while to write: no --wait means no limit */
	ret = ctl_check(c, ctl_request(c->socket, "PUT", "vm.snapshot",
				   json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN |
							JSON_C_TO_STRING_NOSLASHESCAPE),
				   c->wait_given ? c->timeout_s : 0, NULL, NULL, &a), &a);
	json_object_put(body);
	if (!ret) {
		if (c->json)
			printf("{}\n");
		else
			printf("%s: snapshot written to %s%s\n", c->name ? c->name : c->socket,
			       url + 7, c->resume ? "" : " (the VM is paused)");
	}
	ctl_answer_free(&a);
	return ret;
}

/* The source's figures: {"rounds", "pages", "bytes", "total_ms", "downtime_ms"}. */
static void print_migration(const struct ctl *c, const struct ctl_answer *a, double wall_ms)
{
	struct json_object *o = a->body ? json_tokener_parse(a->body) : NULL;
	struct json_object *v;
	double bytes = 0, total = wall_ms, down = -1;
	int64_t rounds = 0;

	if (c->json) {
		printf("%s\n", a->body ? a->body : "{}");
		json_object_put(o);
		return;
	}
	if (o && json_object_object_get_ex(o, "rounds", &v))
		rounds = json_object_get_int64(v);
	if (o && json_object_object_get_ex(o, "bytes", &v))
		bytes = (double)json_object_get_int64(v);
	if (o && json_object_object_get_ex(o, "total_ms", &v))
		total = json_object_get_double(v);
	if (o && json_object_object_get_ex(o, "downtime_ms", &v))
		down = json_object_get_double(v);
	printf("%s: migrated to %s: %lld round(s) after the first pass, %.1f MiB sent, "
	       "total %.0f ms, downtime %.1f ms\n", c->name ? c->name : c->socket, c->arg,
	       (long long)rounds, bytes / (1 << 20), total, down);
	json_object_put(o);
}

/* vm.send-migration: the answer comes when the VM runs there (or runs on here). */
int ctl_migrate(struct ctl *c)
{
	struct json_object *body = json_object_new_object();
	struct ctl_answer a;
	struct timespec t0, t1;
	int ret;

	if (!body)
		return CTL_ERR_OTHER;
	if (c->cancel) {
		json_object_put(body);
		ret = ctl_check(c, ctl_request(c->socket, "PUT", "vm.send-migration",
					   "{\"cancel\":true}", c->timeout_s, NULL, NULL, &a), &a);
		if (!ret)
			printf(c->json ? "{}\n" : "%s: migration cancelled\n",
			       c->name ? c->name : c->socket);
		ctl_answer_free(&a);
		return ret;
	}
	json_object_object_add(body, "destination_url", json_object_new_string(c->arg));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ret = ctl_check(c, ctl_request(c->socket, "PUT", "vm.send-migration",
				   json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN |
							JSON_C_TO_STRING_NOSLASHESCAPE),
				   c->wait_given ? c->timeout_s : 0, NULL, NULL, &a), &a);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	json_object_put(body);
	if (!ret)
		print_migration(c, &a, (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
				(double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
	ctl_answer_free(&a);
	return ret;
}
