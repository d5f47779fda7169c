// SPDX-License-Identifier: MIT
/*
 * Arbitrary bytes as a whole state file through pass one of a restore
 * (state_image_parse, state/state_file.c): refused or accepted with no
 * crash, leak, or out-of-bounds access; an accepted image is complete.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "state/state_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct state_image img;
	char err[256];
	char msg[128];
	unsigned int i;

	if (!state_image_parse(&img, data, size, err, sizeof(err))) {
		if (!img.config || !img.have_memory || !img.nr_vcpus)
			abort();
		for (i = 0; i < img.nr_vcpus; i++)
			if (vcpu_saved_complete(&img.vcpus[i], msg, sizeof(msg)))
				abort();
		if (img.have_host)
			state_host_compare(&img.host, &img.host, msg, sizeof(msg));
	}
	state_image_free(&img);
	return 0;
}
