// SPDX-License-Identifier: MIT
/*
 * Arbitrary bytes as a state file / migration stream: the reader must
 * refuse or accept them with no crash, leak, or read past a section; an
 * accepted stream must end with its END marker.  Known sections go
 * through the real parsers a restoring vmm uses: the memory layout
 * (against a 2-region guest), every vCPU part (2 vCPUs), the VM's KVM
 * state, and the MSR fix-up on a complete vCPU.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mem/guest_mem.h"
#include "state/mem_file.h"
#include "state/stream.h"
#include "state/vcpu_saved.h"
#include "state/vm_kvm_state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_VCPUS 2

/* The real section tables a restoring vmm uses, plus a config section. */
static void known_table(struct state_section_desc *d, size_t *n)
{
	size_t k = 0;

	d[k++] = (struct state_section_desc){ STATE_SEC_CONFIG, "config", 1, 65536 };
	d[k++] = (struct state_section_desc){ STATE_SEC_MEMORY, "memory", 1, 4096 };
	memcpy(d + k, vcpu_saved_sections, sizeof(vcpu_saved_sections));
	k += VCPU_NR_PARTS;
	memcpy(d + k, vm_kvm_sections, sizeof(vm_kvm_sections));
	k += VM_KVM_NR_PARTS;
	*n = k;
}

static void parse_section(struct state_reader *r, const struct guest_mem *gm,
			  struct vcpu_saved *vcpus, struct vm_kvm_saved *vs)
{
	char s[256], file[MEM_FILE_NAME_MAX + 1];
	uint16_t v16;
	uint8_t v8;

	if (vcpu_saved_is_section(r->type)) {
		vcpu_saved_parse(vcpus, FUZZ_VCPUS, r);
		return;
	}
	if (vm_kvm_saved_is_section(r->type)) {
		vm_kvm_saved_parse(vs, r);
		return;
	}
	if (r->type == STATE_SEC_MEMORY) {
		mem_file_check_layout(r, gm, file);
		return;
	}
	state_get_string(r, s, sizeof(s) - 1);
	state_get_u8(r, &v8);
	state_get_u16(r, &v16);
	state_section_done(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t ram_lo[8192], ram_hi[4096];
	struct state_membuf m = { .data = (uint8_t *)data, .len = size };
	struct state_section_desc known[2 + VCPU_NR_PARTS + VM_KVM_NR_PARTS];
	struct vcpu_saved vcpus[FUZZ_VCPUS];
	struct vm_kvm_saved vs;
	struct guest_mem gm;
	struct state_reader r;
	struct state_header h;
	char msg[128];
	size_t nr_known;
	int ret, i;

	memset(&gm, 0, sizeof(gm));
	gm_add_region(&gm, 0, sizeof(ram_lo), ram_lo);
	gm_add_region(&gm, 1ULL << 32, sizeof(ram_hi), ram_hi);
	memset(vcpus, 0, sizeof(vcpus));
	memset(&vs, 0, sizeof(vs));
	known_table(known, &nr_known);
	state_reader_init(&r, "fuzz stream", state_mem_read, &m, known, nr_known);
	ret = state_read_header(&r, &h);
	while (!ret && (ret = state_next_section(&r)) == 1) {
		if (r.len > r.desc->max_len || r.pos != 0)
			abort();
		parse_section(&r, &gm, vcpus, &vs);
		ret = r.error;
	}
	if (ret == 0 && (!r.done || r.error))
		abort();
	if (ret < 0 && (!r.error || !strstr(r.err, "fuzz stream: ")))
		abort();
	for (i = 0; i < FUZZ_VCPUS; i++) {
		if (ret == 0 && !vcpu_saved_complete(&vcpus[i], msg, sizeof(msg)))
			vcpu_saved_fix_msrs(&vcpus[i]);
		vcpu_saved_free(&vcpus[i]);
	}
	state_reader_free(&r);
	return 0;
}
