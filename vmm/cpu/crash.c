// SPDX-License-Identifier: MIT
/*
 * Crash report for a VM that died: general registers, segments, control
 * registers, and the instructions at RIP disassembled with capstone.
 * Written to stderr, one block, so CI logs show why a guest died.
 */
#include <capstone/capstone.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "vcpu.h"
#include "vm.h"

#define CODE_BYTES	32

static void print_seg(FILE *f, const char *name, const struct kvm_segment *s)
{
	fprintf(f, "  %-3s sel=%04x base=%016llx limit=%08x type=%x p=%u dpl=%u db=%u s=%u l=%u g=%u\n",
		name, s->selector, (unsigned long long)s->base, s->limit, s->type,
		s->present, s->dpl, s->db, s->s, s->l, s->g);
}

static void print_code(FILE *f, struct vcpu *vcpu, const struct kvm_regs *regs,
		       const struct kvm_sregs *sregs)
{
	struct kvm_translation tr = { 0 };
	const uint8_t *code;
	cs_mode mode;
	csh handle;
	cs_insn *insn;
	size_t count, i;

	/* real mode too: after RESET, CS.base is 0xffff0000 */
	tr.linear_address = sregs->cs.base + regs->rip;
	if (ioctl(vcpu->fd, KVM_TRANSLATE, &tr) < 0 || !tr.valid) {
		fprintf(f, "  code: RIP's linear address 0x%llx is not mapped\n",
			(unsigned long long)tr.linear_address);
		return;
	}
	code = gm_ptr(&vcpu->vm->mem, tr.physical_address, CODE_BYTES);
	if (!code) {
		fprintf(f, "  code: RIP is at guest-physical 0x%llx, outside guest RAM\n",
			(unsigned long long)tr.physical_address);
		return;
	}
	if (sregs->cs.l && (sregs->efer & (1 << 10)))
		mode = CS_MODE_64;
	else if (sregs->cs.db && (sregs->cr0 & 1))
		mode = CS_MODE_32;
	else
		mode = CS_MODE_16;
	if (cs_open(CS_ARCH_X86, mode, &handle) != CS_ERR_OK) {
		fprintf(f, "  code: capstone unavailable\n");
		return;
	}
	fprintf(f, "  code at gpa 0x%llx (%d-bit):\n", (unsigned long long)tr.physical_address,
		mode == CS_MODE_64 ? 64 : mode == CS_MODE_32 ? 32 : 16);
	count = cs_disasm(handle, code, CODE_BYTES, regs->rip, 8, &insn);
	for (i = 0; i < count; i++)
		fprintf(f, "  %s %016llx: %-8s %s\n", i ? "  " : "=>",
			(unsigned long long)insn[i].address, insn[i].mnemonic, insn[i].op_str);
	if (!count)
		fprintf(f, "  (cannot decode the bytes at RIP)\n");
	cs_free(insn, count);
	cs_close(&handle);
}

/*
 * Note: on AMD, KVM resets the vCPU before it reports KVM_EXIT_SHUTDOWN
 * (the VMCB is undefined after a shutdown intercept), so a triple fault's
 * report shows the reset state, not the faulting context.
 */
void vcpu_crash_report(struct vcpu *vcpu, const char *why)
{
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	FILE *f = stderr;

	flockfile(f);
	fprintf(f, "\nvmm: guest crashed on vCPU %u: %s\n", vcpu->id, why);
	if (ioctl(vcpu->fd, KVM_GET_REGS, &regs) < 0 ||
	    ioctl(vcpu->fd, KVM_GET_SREGS, &sregs) < 0) {
		fprintf(f, "  (cannot read registers: %s)\n", strerror(errno));
		funlockfile(f);
		return;
	}
	fprintf(f, "  rip=%016llx rsp=%016llx rflags=%016llx\n",
		regs.rip, regs.rsp, regs.rflags);
	fprintf(f, "  rax=%016llx rbx=%016llx rcx=%016llx rdx=%016llx\n",
		regs.rax, regs.rbx, regs.rcx, regs.rdx);
	fprintf(f, "  rsi=%016llx rdi=%016llx rbp=%016llx r8 =%016llx\n",
		regs.rsi, regs.rdi, regs.rbp, regs.r8);
	fprintf(f, "  r9 =%016llx r10=%016llx r11=%016llx r12=%016llx\n",
		regs.r9, regs.r10, regs.r11, regs.r12);
	fprintf(f, "  r13=%016llx r14=%016llx r15=%016llx\n", regs.r13, regs.r14, regs.r15);
	print_seg(f, "cs", &sregs.cs);
	print_seg(f, "ds", &sregs.ds);
	print_seg(f, "es", &sregs.es);
	print_seg(f, "ss", &sregs.ss);
	print_seg(f, "fs", &sregs.fs);
	print_seg(f, "gs", &sregs.gs);
	print_seg(f, "tr", &sregs.tr);
	fprintf(f, "  gdt=%016llx/%04x idt=%016llx/%04x\n",
		sregs.gdt.base, sregs.gdt.limit, sregs.idt.base, sregs.idt.limit);
	fprintf(f, "  cr0=%016llx cr2=%016llx cr3=%016llx cr4=%016llx efer=%016llx\n",
		sregs.cr0, sregs.cr2, sregs.cr3, sregs.cr4, sregs.efer);
	print_code(f, vcpu, &regs, &sregs);
	funlockfile(f);
}
