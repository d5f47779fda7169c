/* SPDX-License-Identifier: MIT */
/*
 * What config_json.c shares with config_json_net.c: the reader's state and
 * its checked getters (each returns 0, or -EINVAL with one line in r->err;
 * a missing key leaves *out as it was).
 */
#ifndef VMM_CONFIG_JSON_INTERNAL_H
#define VMM_CONFIG_JSON_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "options.h"

struct json_object;

/* The reader's state: where strings go and where the error goes. */
struct reader {
	char *arena;
	size_t used, size;
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 2, 3)))
int cj_fail(struct reader *r, const char *fmt, ...);
/* Every key of obj must be one of keys (NULL-terminated). */
int cj_check_keys(struct reader *r, struct json_object *obj, const char *where,
	       const char *const *keys);
int cj_get_object(struct reader *r, struct json_object *parent, const char *key,
	       const char *where, struct json_object **out);
int cj_get_bool(struct reader *r, struct json_object *obj, const char *key,
	     const char *where, bool *out);
int cj_get_uint(struct reader *r, struct json_object *obj, const char *key,
	     const char *where, uint64_t min, uint64_t max, uint64_t *out);

/* config_json_net.c: "nets" <-> cfg->nets */
int config_json_read_nets(struct reader *r, struct json_object *root, struct vm_config *cfg);
/* A new array (NULL on ENOMEM). */
struct json_object *config_json_nets_object(const struct vm_config *cfg);

#endif
