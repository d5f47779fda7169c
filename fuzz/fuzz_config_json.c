// SPDX-License-Identifier: MIT
/*
 * The config-JSON reader (vmm/config_json.c) on arbitrary bytes.  Besides
 * no crash or sanitizer report: whatever it accepts must survive
 * cfg -> JSON -> cfg unchanged (the JSON written is read back the same).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vm_config cfg, back;
	char *arena = NULL, *arena2 = NULL, *json, *json2;
	char err[512];

	memset(&cfg, 0, sizeof(cfg));
	if (config_json_parse((const char *)data, size, &cfg, &arena, err, sizeof(err)))
		return 0;
	json = config_json_format(&cfg, false);
	if (!json)
		abort();
	memset(&back, 0, sizeof(back));
	if (config_json_parse(json, strlen(json), &back, &arena2, err, sizeof(err)))
		abort();	/* what we write, we must read */
	json2 = config_json_format(&back, false);
	if (!json2 || strcmp(json, json2))
		abort();	/* and it is the same VM */
	free(json);
	free(json2);
	free(arena);
	free(arena2);
	return 0;
}
