// SPDX-License-Identifier: MIT
/*
 * vCPU and VM KVM state as sections, without KVM: round trip of every
 * part, the checks on sizes/indices/repeats, the MSR restore order and
 * the zero TSC_DEADLINE fix-up, and the clock policy.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "state/stream.h"
#include "state/vcpu_saved.h"
#include "state/vm_kvm_state.h"

static void fill_vcpu(struct vcpu_saved *s, uint32_t index)
{
	uint32_t i, lvt = 2u << 17;	/* TSC-deadline mode, unmasked */

	memset(s, 0, sizeof(*s));
	s->index = index;
	s->cpuid = calloc(1, sizeof(*s->cpuid) + 3 * sizeof(struct kvm_cpuid_entry2));
	s->cpuid->nent = 3;
	for (i = 0; i < 3; i++) {
		s->cpuid->entries[i].function = i;
		s->cpuid->entries[i].eax = 0x1000 + i + index;
	}
	s->mp_state.mp_state = KVM_MP_STATE_HALTED;
	s->regs.rip = 0xfff0 + index;
	s->regs.rflags = 2;
	s->sregs.cr0 = 0x80000011;
	s->sregs.apic_base = 0xfee00900;
	s->xsave_size = 4096 + 64;
	s->xsave = calloc(1, s->xsave_size);
	s->xsave->region[0] = 0x37f;
	((uint8_t *)s->xsave)[4096 + 63] = 0xaa;
	s->xcrs.nr_xcrs = 1;
	s->xcrs.xcrs[0].value = 7;
	s->debugregs.dr7 = 0x400;
	memcpy(s->lapic.regs + 0x320, &lvt, 4);
	s->lapic.regs[0x20] = index;
	s->msrs = calloc(1, sizeof(*s->msrs) + 4 * sizeof(struct kvm_msr_entry));
	s->msrs->nmsrs = 4;
	s->msrs->entries[0] = (struct kvm_msr_entry){ .index = 0x174, .data = 0x10 };
	s->msrs->entries[1] = (struct kvm_msr_entry){ .index = MSR_IA32_TSC_DEADLINE_IDX, .data = 0 };
	s->msrs->entries[2] = (struct kvm_msr_entry){ .index = 0xc0000080, .data = 0xd01 };
	s->msrs->entries[3] = (struct kvm_msr_entry){ .index = MSR_IA32_TSC_IDX, .data = 123456789 };
	s->tsc_khz = 2400000;
	s->events.nmi.pending = 1;
	s->events.flags = KVM_VCPUEVENT_VALID_NMI_PENDING;
	s->have = (1u << VCPU_NR_PARTS) - 1;
}

static void write_vcpus(struct state_membuf *m, struct vcpu_saved *v, unsigned int n)
{
	struct state_writer w;
	unsigned int i;

	memset(m, 0, sizeof(*m));
	state_writer_init(&w, "state file", state_mem_write, m);
	state_write_header(&w, 0);
	for (i = 0; i < n; i++)
		cr_assert_eq(vcpu_saved_write(&v[i], &w), 0, "%s", state_writer_error(&w));
	cr_assert_eq(state_write_end(&w), 0);
	state_writer_free(&w);
}

/* Reads m into out[nr]: 0 or the error, message into err. */
static int read_vcpus(struct state_membuf *m, struct vcpu_saved *out, unsigned int nr, char *err)
{
	struct state_reader r;
	struct state_header h;
	int ret;

	m->pos = 0;
	memset(out, 0, nr * sizeof(*out));
	state_reader_init(&r, "state file", state_mem_read, m, vcpu_saved_sections, VCPU_NR_PARTS);
	ret = state_read_header(&r, &h);
	while (!ret && (ret = state_next_section(&r)) == 1) {
		cr_assert(vcpu_saved_is_section(r.type));
		ret = vcpu_saved_parse(out, nr, &r);
	}
	strcpy(err, state_reader_error(&r));
	state_reader_free(&r);
	return ret;
}

static void assert_same(const struct vcpu_saved *a, const struct vcpu_saved *b)
{
	cr_assert_eq(a->have, b->have);
	cr_assert_eq(a->index, b->index);
	cr_assert_eq(a->cpuid->nent, b->cpuid->nent);
	cr_assert_eq(memcmp(a->cpuid->entries, b->cpuid->entries,
			    a->cpuid->nent * sizeof(a->cpuid->entries[0])), 0);
	cr_assert_eq(memcmp(&a->mp_state, &b->mp_state, sizeof(a->mp_state)), 0);
	cr_assert_eq(memcmp(&a->regs, &b->regs, sizeof(a->regs)), 0);
	cr_assert_eq(memcmp(&a->sregs, &b->sregs, sizeof(a->sregs)), 0);
	cr_assert_eq(a->xsave_size, b->xsave_size);
	cr_assert_eq(memcmp(a->xsave, b->xsave, a->xsave_size), 0);
	cr_assert_eq(memcmp(&a->xcrs, &b->xcrs, sizeof(a->xcrs)), 0);
	cr_assert_eq(memcmp(&a->debugregs, &b->debugregs, sizeof(a->debugregs)), 0);
	cr_assert_eq(memcmp(&a->lapic, &b->lapic, sizeof(a->lapic)), 0);
	cr_assert_eq(a->tsc_khz, b->tsc_khz);
	cr_assert_eq(a->msrs->nmsrs, b->msrs->nmsrs);
	cr_assert_eq(memcmp(a->msrs->entries, b->msrs->entries,
			    a->msrs->nmsrs * sizeof(a->msrs->entries[0])), 0);
	cr_assert_eq(memcmp(&a->events, &b->events, sizeof(a->events)), 0);
}

Test(state_vcpu, round_trip_two_vcpus)
{
	struct vcpu_saved v[2], back[2];
	struct state_membuf m;
	char err[STATE_ERR_LEN], msg[128];

	fill_vcpu(&v[0], 0);
	fill_vcpu(&v[1], 1);
	write_vcpus(&m, v, 2);
	cr_assert_eq(read_vcpus(&m, back, 2, err), 0, "%s", err);
	assert_same(&v[0], &back[0]);
	assert_same(&v[1], &back[1]);
	cr_assert_eq(vcpu_saved_complete(&back[1], msg, sizeof(msg)), 0);
	vcpu_saved_free(&back[0]);
	vcpu_saved_free(&back[1]);

	/* the VM has only one vCPU now */
	cr_assert_eq(read_vcpus(&m, back, 1, err), -EINVAL);
	cr_assert(strstr(err, "vCPU 1, the VM has 1"), "%s", err);
	vcpu_saved_free(&back[0]);
	vcpu_saved_free(&v[0]);
	vcpu_saved_free(&v[1]);
	state_membuf_free(&m);
}

Test(state_vcpu, missing_and_repeated_parts)
{
	struct vcpu_saved v[2], back[1];
	struct state_membuf m;
	char err[STATE_ERR_LEN], msg[128];

	fill_vcpu(&v[0], 0);
	v[0].have &= ~(1u << VCPU_PART_LAPIC);
	write_vcpus(&m, v, 1);
	cr_assert_eq(read_vcpus(&m, back, 1, err), 0, "%s", err);
	cr_assert_eq(vcpu_saved_complete(&back[0], msg, sizeof(msg)), -EINVAL);
	cr_assert_str_eq(msg, "vCPU 0 has no vcpu-lapic section");
	vcpu_saved_free(&back[0]);
	state_membuf_free(&m);

	fill_vcpu(&v[1], 0);	/* same index twice */
	v[0].have = (1u << VCPU_NR_PARTS) - 1;
	write_vcpus(&m, v, 2);
	cr_assert_eq(read_vcpus(&m, back, 1, err), -EINVAL);
	cr_assert(strstr(err, "section 0x0101 (vcpu-mp-state): vCPU 0: section repeated"), "%s", err);
	vcpu_saved_free(&back[0]);
	vcpu_saved_free(&v[0]);
	vcpu_saved_free(&v[1]);
	state_membuf_free(&m);
}

Test(state_vcpu, bad_sizes_refused)
{
	struct vcpu_saved back[1];
	struct state_membuf m = { 0 };
	struct state_writer w;
	char err[STATE_ERR_LEN];

	state_writer_init(&w, "state file", state_mem_write, &m);
	state_write_header(&w, 0);
	state_begin(&w, STATE_SEC_VCPU_REGS, 1, 0);
	state_put_u32(&w, 0);
	state_put_u64(&w, 1);	/* far short of struct kvm_regs */
	state_end(&w);
	state_write_end(&w);
	state_writer_free(&w);
	cr_assert_eq(read_vcpus(&m, back, 1, err), -EINVAL);
	cr_assert(strstr(err, "(vcpu-regs): vCPU 0: 8 bytes, expected 144"), "%s", err);
	vcpu_saved_free(&back[0]);
	state_membuf_free(&m);

	state_writer_init(&w, "state file", state_mem_write, &m);
	state_write_header(&w, 0);
	state_begin(&w, STATE_SEC_VCPU_MSRS, 1, 0);
	state_put_u32(&w, 0);
	state_put_u32(&w, 0);
	state_put_u32(&w, 5000);	/* count past the cap, then nothing */
	state_end(&w);
	state_begin(&w, STATE_SEC_VCPU_XSAVE, 1, 0);
	state_end(&w);
	state_write_end(&w);
	state_writer_free(&w);
	cr_assert_eq(read_vcpus(&m, back, 1, err), -EINVAL);
	cr_assert(strstr(err, "(vcpu-msrs): 5000 MSRs, at most 1024"), "%s", err);
	vcpu_saved_free(&back[0]);
	state_membuf_free(&m);

	state_writer_init(&w, "state file", state_mem_write, &m);
	state_write_header(&w, 0);
	state_begin(&w, STATE_SEC_VCPU_XSAVE, 1, 0);
	state_put_u32(&w, 0);
	state_put_u32(&w, 100);		/* smaller than struct kvm_xsave */
	state_end(&w);
	state_write_end(&w);
	state_writer_free(&w);
	cr_assert_eq(read_vcpus(&m, back, 1, err), -EINVAL);
	cr_assert(strstr(err, "XSAVE area of 100 bytes"), "%s", err);
	vcpu_saved_free(&back[0]);
	state_membuf_free(&m);
}

Test(state_vcpu, msr_order_and_deadline_fixup)
{
	struct vcpu_saved s;
	struct kvm_msr_entry *e;
	uint32_t lvt;

	fill_vcpu(&s, 0);
	e = s.msrs->entries;
	vcpu_saved_fix_msrs(&s);
	cr_assert_eq(e[0].index, MSR_IA32_TSC_IDX);
	cr_assert_eq(e[1].index, 0x174);
	cr_assert_eq(e[2].index, 0xc0000080);
	cr_assert_eq(e[3].index, MSR_IA32_TSC_DEADLINE_IDX);
	cr_assert_eq(e[3].data, 123456789, "zero deadline not fixed up");

	/* a set deadline is kept */
	e[3].data = 999;
	vcpu_saved_fix_msrs(&s);
	cr_assert_eq(e[3].data, 999);

	/* a masked timer, or one not in TSC-deadline mode: 0 stays 0 */
	e[3].data = 0;
	lvt = (2u << 17) | (1u << 16);
	memcpy(s.lapic.regs + 0x320, &lvt, 4);
	vcpu_saved_fix_msrs(&s);
	cr_assert_eq(e[3].data, 0);
	lvt = 1u << 17;	/* periodic */
	memcpy(s.lapic.regs + 0x320, &lvt, 4);
	vcpu_saved_fix_msrs(&s);
	cr_assert_eq(e[3].data, 0);
	vcpu_saved_free(&s);
}

Test(state_vcpu, vm_sections_round_trip)
{
	struct vm_kvm_saved s, back;
	struct state_membuf m = { 0 };
	struct state_writer w;
	struct state_reader r;
	struct state_header h;
	int ret, i;

	memset(&s, 0, sizeof(s));
	for (i = 0; i < 3; i++) {
		s.chip[i].chip_id = i;
		s.chip[i].chip.dummy[5] = 10 + i;
	}
	s.pit.channels[0].count = 0x1234;
	s.clock.clock = 5000000000ULL;
	s.clock.flags = KVM_CLOCK_REALTIME;
	s.clock.realtime = 42;
	s.have = (1u << VM_KVM_NR_PARTS) - 1;
	state_writer_init(&w, "state file", state_mem_write, &m);
	state_write_header(&w, 0);
	cr_assert_eq(vm_kvm_saved_write(&s, &w), 0);
	cr_assert_eq(vm_kvm_saved_write(&s, &w), 0);	/* twice: the reader must refuse */
	state_write_end(&w);
	state_writer_free(&w);

	memset(&back, 0, sizeof(back));
	state_reader_init(&r, "state file", state_mem_read, &m, vm_kvm_sections, VM_KVM_NR_PARTS);
	ret = state_read_header(&r, &h);
	for (i = 0; !ret && i < VM_KVM_NR_PARTS; i++) {
		cr_assert_eq(state_next_section(&r), 1);
		cr_assert(vm_kvm_saved_is_section(r.type));
		ret = vm_kvm_saved_parse(&back, &r);
	}
	cr_assert_eq(ret, 0, "%s", state_reader_error(&r));
	cr_assert_eq(memcmp(&s, &back, sizeof(s)), 0);
	cr_assert_eq(state_next_section(&r), 1);
	cr_assert_eq(vm_kvm_saved_parse(&back, &r), -EINVAL);
	cr_assert_str_eq(state_reader_error(&r),
			 "state file: section 0x0200 (pic-master): section repeated");
	state_reader_free(&r);
	state_membuf_free(&m);
}

Test(state_vcpu, clock_policy)
{
	struct kvm_clock_data saved = { .clock = 1000, .flags = KVM_CLOCK_REALTIME | KVM_CLOCK_TSC_STABLE,
					.realtime = 5000 };
	struct kvm_clock_data c;

	c = vm_kvm_clock_for_restore(&saved, VM_CLOCK_CONTINUE, 9000);
	cr_assert_eq(c.clock, 1000);
	cr_assert_eq(c.flags, 0);
	c = vm_kvm_clock_for_restore(&saved, VM_CLOCK_WALL, 9000);
	cr_assert_eq(c.clock, 5000);
	cr_assert_eq(c.flags, 0);
	/* the host's wall clock went backwards: never step back */
	c = vm_kvm_clock_for_restore(&saved, VM_CLOCK_WALL, 10);
	cr_assert_eq(c.clock, 1000);
	/* no realtime in the save (older kernel): continue */
	saved.flags = 0;
	c = vm_kvm_clock_for_restore(&saved, VM_CLOCK_WALL, 9000);
	cr_assert_eq(c.clock, 1000);
}
