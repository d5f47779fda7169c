// SPDX-License-Identifier: MIT
/*
 * The boot vCPU's entry state: a flat GDT, identity page tables for 64-bit
 * entry, and the registers each boot protocol defines (struct boot_entry,
 * filled by vmm/boot).  Only the BSP is set up; APs wait for INIT/SIPI.
 */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#include "boot/boot.h"
#include "log.h"
#include "mem/layout.h"
#include "vcpu.h"
#include "vm.h"

#define X86_CR0_PE	(1ULL << 0)
#define X86_CR0_ET	(1ULL << 4)
#define X86_CR0_NE	(1ULL << 5)
#define X86_CR0_PG	(1ULL << 31)
#define X86_CR4_PAE	(1ULL << 5)
#define EFER_LME	(1ULL << 8)
#define EFER_LMA	(1ULL << 10)

#define SEL_CODE	0x10	/* the Linux boot protocol's __BOOT_CS */
#define SEL_DATA	0x18	/* __BOOT_DS */
#define SEL_TSS		0x20
#define BOOT_GDT_ENTRIES	5

/* multiboot images may lie right after it (boot_low_used_prot32) */
_Static_assert(LAYOUT_BOOT_GDT + BOOT_GDT_ENTRIES * 8 <= LAYOUT_BOOT_IDT &&
	       LAYOUT_BOOT_IDT + 8 <= LAYOUT_BOOT_TABLES_END,
	       "boot GDT/IDT must stay inside [LAYOUT_BOOT_GDT, LAYOUT_BOOT_TABLES_END)");

/* flags: the access byte in bits 0-7 and G/DB/L/AVL in bits 12-15 */
static uint64_t gdt_entry(uint16_t flags, uint32_t base, uint32_t limit)
{
	return ((uint64_t)(base & 0xff000000u) << 32) | ((uint64_t)(flags & 0xf0ffu) << 40) |
	       ((uint64_t)(limit & 0x000f0000u) << 32) | ((uint64_t)(base & 0x00ffffffu) << 16) |
	       (uint64_t)(limit & 0x0000ffffu);
}

static struct kvm_segment seg_from_gdt(uint64_t e, uint16_t sel)
{
	struct kvm_segment s = {
		.base = (uint32_t)(((e >> 16) & 0xffffff) | ((e >> 32) & 0xff000000)),
		.limit = (uint32_t)((e & 0xffff) | ((e >> 32) & 0xf0000)),
		.selector = sel,
		.type = (uint8_t)((e >> 40) & 0xf),
		.present = (uint8_t)((e >> 47) & 1),
		.dpl = (uint8_t)((e >> 45) & 3),
		.db = (uint8_t)((e >> 54) & 1),
		.s = (uint8_t)((e >> 44) & 1),
		.l = (uint8_t)((e >> 53) & 1),
		.g = (uint8_t)((e >> 55) & 1),
		.avl = (uint8_t)((e >> 52) & 1),
	};

	if (s.g)
		s.limit = (s.limit << 12) | 0xfff;
	s.unusable = !s.present;
	return s;
}

static int write_identity_tables(struct vm *vm)
{
	uint64_t pml4 = LAYOUT_PDPT | 3, pdpt[4], pd;
	unsigned int i;

	if (gm_write(&vm->mem, LAYOUT_PML4, &pml4, sizeof(pml4)))
		return -EFAULT;
	for (i = 0; i < 4; i++)
		pdpt[i] = (LAYOUT_PD + i * 0x1000) | 3;
	if (gm_write(&vm->mem, LAYOUT_PDPT, pdpt, sizeof(pdpt)))
		return -EFAULT;
	/* 4 GiB in 2 MiB pages: present, writable, page size */
	for (i = 0; i < 4 * 512; i++) {
		pd = ((uint64_t)i << 21) | 0x83;
		if (gm_write(&vm->mem, LAYOUT_PD + i * 8ULL, &pd, sizeof(pd)))
			return -EFAULT;
	}
	return 0;
}

static void setup_real_mode(struct kvm_sregs *sregs, const struct boot_entry *e)
{
	struct kvm_segment rs = {
		.limit = 0xffff, .type = 3, .present = 1, .s = 1,
	};

	sregs->ds = sregs->es = sregs->fs = sregs->gs = sregs->ss = rs;
	rs.type = 0xb;
	rs.selector = e->real_cs;
	rs.base = (uint64_t)e->real_cs << 4;
	sregs->cs = rs;
	sregs->cr0 = X86_CR0_ET;
	sregs->cr4 = 0;
	sregs->efer = 0;
}

static int setup_protected(struct vm *vm, struct kvm_sregs *sregs, bool long_mode)
{
	uint64_t gdt[BOOT_GDT_ENTRIES];
	struct kvm_segment data;

	gdt[0] = 0;
	gdt[1] = 0;
	gdt[2] = long_mode ? gdt_entry(0xa09b, 0, 0xfffff) : gdt_entry(0xc09b, 0, 0xfffff);
	gdt[3] = gdt_entry(0xc093, 0, 0xfffff);
	gdt[4] = gdt_entry(0x808b, 0, 0xfffff);
	if (gm_write(&vm->mem, LAYOUT_BOOT_GDT, gdt, sizeof(gdt)))
		return -EFAULT;
	sregs->gdt.base = LAYOUT_BOOT_GDT;
	sregs->gdt.limit = sizeof(gdt) - 1;
	sregs->idt.base = LAYOUT_BOOT_IDT;
	sregs->idt.limit = 0;

	sregs->cs = seg_from_gdt(gdt[2], SEL_CODE);
	data = seg_from_gdt(gdt[3], SEL_DATA);
	sregs->ds = sregs->es = sregs->fs = sregs->gs = sregs->ss = data;
	sregs->tr = seg_from_gdt(gdt[4], SEL_TSS);
	sregs->cr0 = X86_CR0_PE | X86_CR0_ET | X86_CR0_NE;
	sregs->cr4 = 0;
	sregs->efer = 0;
	if (long_mode) {
		int ret = write_identity_tables(vm);

		if (ret)
			return ret;
		sregs->cr3 = LAYOUT_PML4;
		sregs->cr4 |= X86_CR4_PAE;
		sregs->cr0 |= X86_CR0_PG;
		sregs->efer |= EFER_LME | EFER_LMA;
	}
	return 0;
}

int vcpu_setup_boot(struct vcpu *vcpu, const struct boot_entry *e)
{
	struct vm *vm = vcpu->vm;
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	int ret;

	if (ioctl(vcpu->fd, KVM_GET_SREGS, &sregs) < 0) {
		log_err("vCPU %u: KVM_GET_SREGS failed: %s", vcpu->id, strerror(errno));
		return -errno;
	}
	switch (e->mode) {
	case BOOT_MODE_REAL16:
		setup_real_mode(&sregs, e);
		break;
	case BOOT_MODE_PROT32:
	case BOOT_MODE_LONG64:
		ret = setup_protected(vm, &sregs, e->mode == BOOT_MODE_LONG64);
		if (ret) {
			log_err("cannot write boot GDT/page tables into guest memory");
			return ret;
		}
		break;
	default:
		return -EINVAL;
	}
	if (ioctl(vcpu->fd, KVM_SET_SREGS, &sregs) < 0) {
		log_err("vCPU %u: KVM_SET_SREGS failed: %s", vcpu->id, strerror(errno));
		return -errno;
	}

	memset(&regs, 0, sizeof(regs));
	regs.rflags = 0x2;
	regs.rip = e->rip;
	regs.rsp = e->rsp;
	regs.rbp = e->rsp;
	regs.rax = e->rax;
	regs.rbx = e->rbx;
	regs.rsi = e->rsi;
	regs.rdx = e->rdx;
	if (ioctl(vcpu->fd, KVM_SET_REGS, &regs) < 0) {
		log_err("vCPU %u: KVM_SET_REGS failed: %s", vcpu->id, strerror(errno));
		return -errno;
	}
	return 0;
}
