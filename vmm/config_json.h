/* SPDX-License-Identifier: MIT */
/*
 * One configuration schema (docs/config.md): struct vm_config <-> JSON.
 * The same JSON is read by `vmm --config FILE`, the vm.create endpoint,
 * and written by vm.info / vm.config, so a running VM's configuration
 * starts the same VM again.  Pure: no KVM; unit-tested and fuzzed.
 */
#ifndef VMM_CONFIG_JSON_H
#define VMM_CONFIG_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include "options.h"

struct json_object;

/* Largest configuration accepted (file or request body). */
#define CONFIG_JSON_MAX	(1U << 20)

/*
 * Parses len bytes of JSON (need not be NUL-terminated) into the VM fields
 * of cfg; fields the schema does not hold (verbosity, name, api_socket,
 * config_path, event_monitor) are left as they are.  Strings are copied
 * into *arena, which the caller frees once cfg is no longer used.  Unknown
 * keys, wrong types and out-of-range values are refused: -EINVAL with one
 * line naming the key in err.  -ENOMEM.
 */
int config_json_parse(const char *text, size_t len, struct vm_config *cfg,
		      char **arena, char *err, size_t errlen);

/* Reads and parses a file (at most CONFIG_JSON_MAX bytes); err names the file. */
int config_json_load(const char *path, struct vm_config *cfg, char **arena,
		     char *err, size_t errlen);

/* cfg as a new JSON object (json_object_put it), or NULL on ENOMEM. */
struct json_object *config_json_object(const struct vm_config *cfg);

/* cfg as a malloc'd, NUL-terminated JSON text; NULL on ENOMEM. */
char *config_json_format(const struct vm_config *cfg, bool pretty);

#endif
