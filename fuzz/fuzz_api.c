// SPDX-License-Identifier: MIT
/*
 * The control socket's router (vmm/api/routes.c) on arbitrary requests:
 * byte 0 picks the method, then a NUL-terminated path (prefixed with
 * /api/v1/ when byte 1 is even), the rest is the body.  The fake VM
 * answers ops from input bytes too.  Besides no crash or sanitizer report:
 * every answer is a valid HTTP status with a JSON body (or none for 204).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "api/api_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const int results[] = { 0, -EBUSY, -ENOSYS, -ESHUTDOWN, -EINVAL, -EIO };
static unsigned int pick;

static int fz_ctl(struct api *a, enum vm_ctl_op op)
{
	return results[pick % 6];
}

static int fz_powerdown(struct api *a, unsigned int t)
{
	return results[(pick + 1) % 6];
}

static int fz_state(struct api *a, enum vm_state *s)
{
	*s = (enum vm_state)(pick % 4);
	return 0;
}

static int fz_boot(struct api *a)
{
	api_set_boot_requested(a);
	return results[(pick + 2) % 6];
}

static int fz_quit(struct api *a)
{
	return results[(pick + 3) % 6];
}

static const struct api_vm_ops fz_ops = {
	.ctl = fz_ctl, .powerdown = fz_powerdown, .state = fz_state,
	.boot = fz_boot, .quit = fz_quit,
};

static const char *const methods[] = { "GET", "PUT", "POST", "DELETE", "HEAD", "" };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vm_config cfg = { .kernel = "/k", .cpus = 1, .memory = 256ULL << 20 };
	char url[300];
	const uint8_t *nul;
	struct api_reply r;
	struct api *api;
	size_t plen;
	int i;

	if (size < 2)
		return 0;
	pick = data[0] >> 3;
	nul = memchr(data + 2, '\0', size - 2);
	plen = nul ? (size_t)(nul - (data + 2)) : size - 2;
	if (plen > 200)
		plen = 200;
	snprintf(url, sizeof(url), "%s%.*s", data[1] & 1 ? "" : "/api/v1/", (int)plen,
		 (const char *)data + 2);
	if (api_new_detached(&fz_ops, NULL, &api))
		return 0;
	if (data[1] & 2)
		api_set_config(api, &cfg);
	/* the same request twice: the second sees what the first left (vm.create) */
	for (i = 0; i < 2; i++) {
		const char *body = nul ? (const char *)nul + 1 : NULL;
		size_t blen = nul ? size - (size_t)(nul + 1 - data) : 0;

		api_handle(api, methods[data[0] % 6], url, body, blen, &r);
		if (r.status < 200 || r.status > 599)
			abort();
		if (r.body) {
			struct json_object *o = json_tokener_parse(r.body);

			if (!o)
				abort();
			json_object_put(o);
		} else if (r.status != 204 && !r.stream_events) {
			abort();
		}
		free(r.body);
	}
	api_event(api, "paused", (data[1] & 4) ? url : NULL, data[0]);
	api_events_fini(api);
	free(api->pending_arena);
	free(api);
	return 0;
}
