// SPDX-License-Identifier: MIT
/*
 * vmmctl's readers of answers and human output of vm.info's parts:
 * counters (vm.counters) and network cards.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "ctl.h"

int64_t get_int(struct json_object *o, const char *path)
{
	char key[64];
	const char *dot;
	struct json_object *v = o;

	while (v && path) {
		dot = strchr(path, '.');
		snprintf(key, sizeof(key), "%.*s", dot ? (int)(dot - path) : (int)strlen(path), path);
		if (!json_object_object_get_ex(v, key, &v))
			return 0;
		path = dot ? dot + 1 : NULL;
	}
	return v ? json_object_get_int64(v) : 0;
}

const char *get_str(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return "-";
	return json_object_get_string(v);
}

/* "name=value name=value" of an object of integers, zeros left out */
static void print_nonzero(const char *indent, const char *what, struct json_object *o)
{
	bool any = false;

	printf("%s%s:", indent, what);
	json_object_object_foreach(o, k, v) {
		if (json_object_get_int64(v)) {
			printf(" %s=%lld", k, (long long)json_object_get_int64(v));
			any = true;
		}
	}
	printf("%s\n", any ? "" : " -");
}

/* vm.counters, human-readable: vCPU exits, then each device and queue */
void print_counters(struct json_object *o)
{
	struct json_object *arr, *e, *v, *q;
	char what[64];
	size_t i, k;

	if (json_object_object_get_ex(o, "vcpus", &arr) && json_object_array_length(arr)) {
		printf("vCPU exits:\n");
		for (i = 0; i < json_object_array_length(arr); i++) {
			e = json_object_array_get_idx(arr, i);
			snprintf(what, sizeof(what), "vCPU %lld (%lld)", (long long)get_int(e, "id"),
				 (long long)get_int(e, "exits"));
			if (json_object_object_get_ex(e, "exits_by_reason", &v))
				print_nonzero("  ", what, v);
			if (json_object_object_get_ex(e, "kvm", &v))
				print_nonzero("    ", "KVM", v);
		}
	}
	if (json_object_object_get_ex(o, "devices", &arr) && json_object_array_length(arr)) {
		printf("Devices:\n");
		for (i = 0; i < json_object_array_length(arr); i++) {
			e = json_object_array_get_idx(arr, i);
			if (json_object_object_get_ex(e, "counters", &v) && json_object_object_length(v))
				print_nonzero("  ", get_str(e, "id"), v);
			else
				printf("  %s\n", get_str(e, "id"));
			if (!json_object_object_get_ex(e, "queues", &q))
				continue;
			for (k = 0; k < json_object_array_length(q); k++) {
				snprintf(what, sizeof(what), "queue %zu", k);
				print_nonzero("    ", what, json_object_array_get_idx(q, k));
			}
		}
	}
	if (json_object_object_get_ex(o, "events", &v))
		print_nonzero("", "Events", v);
	if (json_object_object_get_ex(o, "api", &v))
		print_nonzero("", "API", v);
}

void print_net(size_t i, struct json_object *n)
{
	struct json_object *v;

	printf("Net %zu:    ", i);
	if (json_object_object_get_ex(n, "tap", &v))
		printf("tap %s", json_object_get_string(v));
	else if (json_object_object_get_ex(n, "fd", &v))
		printf("fd %lld", (long long)json_object_get_int64(v));
	else
		printf("user");
	if (json_object_object_get_ex(n, "mac", &v))
		printf(", mac %s", json_object_get_string(v));
	printf(", %lld queues\n", (long long)get_int(n, "num_queues"));
}
