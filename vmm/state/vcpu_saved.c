// SPDX-License-Identifier: MIT
/*
 * One vCPU's saved state as sections: see vcpu_saved.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vcpu_saved.h"

#define HDR 4	/* the u32 vCPU index */

const struct state_section_desc vcpu_saved_sections[VCPU_NR_PARTS] = {
	[VCPU_PART_CPUID] = { STATE_SEC_VCPU_CPUID, "vcpu-cpuid", 1,
			      HDR + 4 + VCPU_SAVED_MAX_CPUID * sizeof(struct kvm_cpuid_entry2) },
	[VCPU_PART_MP_STATE] = { STATE_SEC_VCPU_MP_STATE, "vcpu-mp-state", 1,
				 HDR + sizeof(struct kvm_mp_state) },
	[VCPU_PART_REGS] = { STATE_SEC_VCPU_REGS, "vcpu-regs", 1, HDR + sizeof(struct kvm_regs) },
	[VCPU_PART_SREGS] = { STATE_SEC_VCPU_SREGS, "vcpu-sregs", 1, HDR + sizeof(struct kvm_sregs) },
	[VCPU_PART_XSAVE] = { STATE_SEC_VCPU_XSAVE, "vcpu-xsave", 1, HDR + 4 + VCPU_SAVED_MAX_XSAVE },
	[VCPU_PART_XCRS] = { STATE_SEC_VCPU_XCRS, "vcpu-xcrs", 1, HDR + sizeof(struct kvm_xcrs) },
	[VCPU_PART_DEBUGREGS] = { STATE_SEC_VCPU_DEBUGREGS, "vcpu-debugregs", 1,
				  HDR + sizeof(struct kvm_debugregs) },
	[VCPU_PART_LAPIC] = { STATE_SEC_VCPU_LAPIC, "vcpu-lapic", 1,
			      HDR + sizeof(struct kvm_lapic_state) },
	[VCPU_PART_MSRS] = { STATE_SEC_VCPU_MSRS, "vcpu-msrs", 1,
			     HDR + 8 + VCPU_SAVED_MAX_MSRS * 12 },
	[VCPU_PART_EVENTS] = { STATE_SEC_VCPU_EVENTS, "vcpu-events", 1,
			       HDR + sizeof(struct kvm_vcpu_events) },
};

void vcpu_saved_free(struct vcpu_saved *s)
{
	free(s->cpuid);
	free(s->xsave);
	free(s->msrs);
	memset(s, 0, sizeof(*s));
}

static bool has(const struct vcpu_saved *s, enum vcpu_part p)
{
	return s->have & (1u << p);
}

/* A fixed-size part: its uapi struct's bytes. */
static const void *fixed_part(const struct vcpu_saved *s, enum vcpu_part p, size_t *len)
{
	switch (p) {
	case VCPU_PART_MP_STATE: *len = sizeof(s->mp_state); return &s->mp_state;
	case VCPU_PART_REGS: *len = sizeof(s->regs); return &s->regs;
	case VCPU_PART_SREGS: *len = sizeof(s->sregs); return &s->sregs;
	case VCPU_PART_XCRS: *len = sizeof(s->xcrs); return &s->xcrs;
	case VCPU_PART_DEBUGREGS: *len = sizeof(s->debugregs); return &s->debugregs;
	case VCPU_PART_LAPIC: *len = sizeof(s->lapic); return &s->lapic;
	case VCPU_PART_EVENTS: *len = sizeof(s->events); return &s->events;
	default: return NULL;
	}
}

int vcpu_saved_write(const struct vcpu_saved *s, struct state_writer *w)
{
	/* save order: MP_STATE first (reading it may change LAPIC state) */
	static const enum vcpu_part order[] = {
		VCPU_PART_MP_STATE, VCPU_PART_REGS, VCPU_PART_SREGS, VCPU_PART_XSAVE,
		VCPU_PART_XCRS, VCPU_PART_DEBUGREGS, VCPU_PART_LAPIC, VCPU_PART_MSRS,
		VCPU_PART_EVENTS, VCPU_PART_CPUID,
	};
	const void *p;
	size_t i, len;
	uint32_t j;

	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		enum vcpu_part part = order[i];

		if (!has(s, part))
			continue;
		state_begin(w, vcpu_saved_sections[part].type, 1, STATE_SECF_REQUIRED);
		state_put_u32(w, s->index);
		p = fixed_part(s, part, &len);
		if (p) {
			state_put_bytes(w, p, len);
		} else if (part == VCPU_PART_CPUID) {
			state_put_u32(w, s->cpuid->nent);
			state_put_bytes(w, s->cpuid->entries,
					s->cpuid->nent * sizeof(struct kvm_cpuid_entry2));
		} else if (part == VCPU_PART_XSAVE) {
			state_put_u32(w, s->xsave_size);
			state_put_bytes(w, s->xsave, s->xsave_size);
		} else if (part == VCPU_PART_MSRS) {
			state_put_u32(w, s->tsc_khz);
			state_put_u32(w, s->msrs->nmsrs);
			for (j = 0; j < s->msrs->nmsrs; j++) {
				state_put_u32(w, s->msrs->entries[j].index);
				state_put_u64(w, s->msrs->entries[j].data);
			}
		}
		if (state_end(w) < 0)
			return w->error;
	}
	return 0;
}

static int part_of(uint32_t type)
{
	int i;

	for (i = 0; i < VCPU_NR_PARTS; i++)
		if (vcpu_saved_sections[i].type == type)
			return i;
	return -1;
}

bool vcpu_saved_is_section(uint32_t type)
{
	return part_of(type) >= 0;
}

static int parse_variable(struct vcpu_saved *s, enum vcpu_part part, struct state_reader *r)
{
	uint32_t n, i;

	if (state_get_u32(r, &n) < 0)
		return r->error;
	switch (part) {
	case VCPU_PART_CPUID:
		if (n > VCPU_SAVED_MAX_CPUID)
			return state_reader_fail(r, "%u CPUID entries, at most %u", n,
						 VCPU_SAVED_MAX_CPUID);
		s->cpuid = calloc(1, sizeof(*s->cpuid) + n * sizeof(struct kvm_cpuid_entry2));
		if (!s->cpuid)
			return -ENOMEM;
		s->cpuid->nent = n;
		return state_get_bytes(r, s->cpuid->entries, n * sizeof(struct kvm_cpuid_entry2));
	case VCPU_PART_XSAVE:
		if (n < sizeof(struct kvm_xsave) || n > VCPU_SAVED_MAX_XSAVE || n % 4)
			return state_reader_fail(r, "XSAVE area of %u bytes (4096 to %u)", n,
						 VCPU_SAVED_MAX_XSAVE);
		s->xsave = calloc(1, n);
		if (!s->xsave)
			return -ENOMEM;
		s->xsave_size = n;
		return state_get_bytes(r, s->xsave, n);
	case VCPU_PART_MSRS:
		s->tsc_khz = n;
		if (state_get_u32(r, &n) < 0)
			return r->error;
		if (n > VCPU_SAVED_MAX_MSRS)
			return state_reader_fail(r, "%u MSRs, at most %u", n, VCPU_SAVED_MAX_MSRS);
		s->msrs = calloc(1, sizeof(*s->msrs) + n * sizeof(struct kvm_msr_entry));
		if (!s->msrs)
			return -ENOMEM;
		s->msrs->nmsrs = n;
		for (i = 0; i < n; i++) {
			uint32_t idx = 0;
			uint64_t data = 0;

			if (state_get_u32(r, &idx) < 0 || state_get_u64(r, &data) < 0)
				return r->error;
			s->msrs->entries[i].index = idx;
			s->msrs->entries[i].data = data;
		}
		return 0;
	default:
		return -EINVAL;
	}
}

int vcpu_saved_parse(struct vcpu_saved *saved, unsigned int nr_vcpus, struct state_reader *r)
{
	int part = part_of(r->type);
	struct vcpu_saved *s;
	uint32_t index;
	size_t len;
	void *p;
	int ret;

	if (part < 0)
		return state_reader_fail(r, "not a vCPU section");
	if (state_get_u32(r, &index) < 0)
		return r->error;
	if (index >= nr_vcpus)
		return state_reader_fail(r, "vCPU %u, the VM has %u", index, nr_vcpus);
	s = &saved[index];
	if (has(s, part))
		return state_reader_fail(r, "vCPU %u: section repeated", index);
	s->index = index;
	p = (void *)fixed_part(s, part, &len);
	if (p) {
		if (state_remaining(r) != len)
			return state_reader_fail(r, "vCPU %u: %zu bytes, expected %zu", index,
						 state_remaining(r), len);
		ret = state_get_bytes(r, p, len);
	} else {
		ret = parse_variable(s, part, r);
	}
	if (ret == -ENOMEM)
		return state_reader_fail(r, "out of memory");
	if (ret < 0)
		return ret;
	ret = state_section_done(r);
	if (ret < 0)
		return ret;
	s->have |= 1u << part;
	return 0;
}

int vcpu_saved_complete(const struct vcpu_saved *s, char *msg, size_t len)
{
	int i;

	for (i = 0; i < VCPU_NR_PARTS; i++) {
		if (!has(s, i)) {
			snprintf(msg, len, "vCPU %u has no %s section", s->index,
				 vcpu_saved_sections[i].name);
			return -EINVAL;
		}
	}
	return 0;
}

/* LAPIC register LVT Timer (0x320): mode bits 17-18, mask bit 16. */
static bool lapic_tsc_deadline_armed(const struct kvm_lapic_state *l)
{
	uint32_t lvt;

	memcpy(&lvt, l->regs + 0x320, sizeof(lvt));
	return ((lvt >> 17) & 3) == 2 && !(lvt & (1u << 16));
}

void vcpu_saved_fix_msrs(struct vcpu_saved *s)
{
	struct kvm_msr_entry *e, t;
	uint32_t n, i, tsc = UINT32_MAX, dl = UINT32_MAX;

	if (!s->msrs)
		return;
	e = s->msrs->entries;
	n = s->msrs->nmsrs;
	for (i = 0; i < n; i++)
		if (e[i].index == MSR_IA32_TSC_IDX)
			tsc = i;
	if (tsc != UINT32_MAX && tsc != 0) {
		t = e[tsc];
		memmove(&e[1], &e[0], tsc * sizeof(*e));
		e[0] = t;
	}
	for (i = 0; i < n; i++)
		if (e[i].index == MSR_IA32_TSC_DEADLINE_IDX)
			dl = i;
	if (dl == UINT32_MAX)
		return;
	if (dl != n - 1) {
		t = e[dl];
		memmove(&e[dl], &e[dl + 1], (n - 1 - dl) * sizeof(*e));
		e[n - 1] = t;
	}
	if (e[n - 1].data == 0 && e[0].index == MSR_IA32_TSC_IDX && has(s, VCPU_PART_LAPIC) &&
	    lapic_tsc_deadline_armed(&s->lapic))
		e[n - 1].data = e[0].data ? e[0].data : 1;
}
