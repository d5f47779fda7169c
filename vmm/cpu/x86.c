// SPDX-License-Identifier: MIT
/*
 * Per-vCPU x86 state every vCPU needs before it first runs: CPUID (from
 * KVM_GET_SUPPORTED_CPUID with our APIC IDs and topology), MSRs, FPU, and
 * the LAPIC's LINT0 (ExtINT, so the 8259 PIC reaches the BSP as on a PC)
 * and LINT1 (NMI).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "log.h"
#include "vcpu.h"
#include "vm.h"

#define CPUID_MAX_ENTRIES	256

#define MSR_IA32_TSC		0x00000010
#define MSR_IA32_SYSENTER_CS	0x00000174
#define MSR_IA32_SYSENTER_ESP	0x00000175
#define MSR_IA32_SYSENTER_EIP	0x00000176
#define MSR_IA32_MISC_ENABLE	0x000001a0
#define MSR_MTRR_DEF_TYPE	0x000002ff
#define MSR_STAR		0xc0000081
#define MSR_LSTAR		0xc0000082
#define MSR_CSTAR		0xc0000083
#define MSR_SYSCALL_MASK	0xc0000084
#define MSR_KERNEL_GS_BASE	0xc0000102

#define APIC_LVT0		0x350
#define APIC_LVT1		0x360
#define APIC_MODE_NMI		0x4
#define APIC_MODE_EXTINT	0x7

static unsigned int bits_for(unsigned int n)
{
	unsigned int b = 0;

	while ((1u << b) < n)
		b++;
	return b;
}

/* Rewrites the host-derived entries that must describe THIS guest. */
static void cpuid_patch(struct kvm_cpuid2 *cpuid, unsigned int apic_id, unsigned int ncpus)
{
	unsigned int i;

	for (i = 0; i < cpuid->nent; i++) {
		struct kvm_cpuid_entry2 *e = &cpuid->entries[i];

		switch (e->function) {
		case 0x1:
			/* APIC ID, logical processor count, HTT when > 1 */
			e->ebx = (e->ebx & 0x0000ffff) | (apic_id << 24) |
				 ((ncpus & 0xff) << 16);
			if (ncpus > 1)
				e->edx |= 1u << 28;
			else
				e->edx &= ~(1u << 28);
			e->ecx |= 1u << 31;	/* hypervisor present */
			break;
		case 0x4:
			/* deterministic cache params: cores per package - 1 in 31:26 */
			e->eax = (e->eax & 0x03ffffff) | (((ncpus - 1) & 0x3f) << 26);
			e->eax &= ~(0xfffu << 14);	/* one thread shares each cache */
			break;
		case 0xb:
		case 0x1f:
			/* extended topology: one thread per core, ncpus cores */
			e->edx = apic_id;
			if (e->index == 0) {
				e->eax = 0;
				e->ebx = 1;
				e->ecx = (1u << 8) | 0;
			} else if (e->index == 1) {
				e->eax = bits_for(ncpus);
				e->ebx = ncpus;
				e->ecx = (2u << 8) | 1;
			} else {
				e->eax = 0;
				e->ebx = 0;
				e->ecx = e->index;
			}
			break;
		case 0x80000008:
			/* AMD: NC = cores - 1, ApicIdCoreIdSize */
			e->ecx = (e->ecx & ~0xf0ffu) | ((ncpus - 1) & 0xff) |
				 (bits_for(ncpus) << 12);
			break;
		case 0x8000001e:
			/* AMD: extended APIC ID, one thread per core */
			e->eax = apic_id;
			e->ebx = apic_id & 0xff;
			e->ecx = 0;
			break;
		}
	}
}

static int vcpu_set_cpuid(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;
	struct kvm_cpuid2 *cpuid;
	size_t sz = sizeof(*cpuid) + CPUID_MAX_ENTRIES * sizeof(cpuid->entries[0]);
	int ret = 0;

	cpuid = calloc(1, sz);
	if (!cpuid)
		return -ENOMEM;
	cpuid->nent = CPUID_MAX_ENTRIES;
	if (ioctl(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, cpuid) < 0) {
		ret = -errno;
		log_err("KVM_GET_SUPPORTED_CPUID failed: %s", strerror(errno));
		goto out;
	}
	cpuid_patch(cpuid, vcpu->id, vm->nr_vcpus);
	if (ioctl(vcpu->fd, KVM_SET_CPUID2, cpuid) < 0) {
		ret = -errno;
		log_err("vCPU %u: KVM_SET_CPUID2 failed: %s", vcpu->id, strerror(errno));
	}
out:
	free(cpuid);
	return ret;
}

static int vcpu_set_msrs(struct vcpu *vcpu)
{
	static const struct { uint32_t index; uint64_t data; } init[] = {
		{ MSR_IA32_SYSENTER_CS, 0 },
		{ MSR_IA32_SYSENTER_ESP, 0 },
		{ MSR_IA32_SYSENTER_EIP, 0 },
		{ MSR_STAR, 0 },
		{ MSR_CSTAR, 0 },
		{ MSR_KERNEL_GS_BASE, 0 },
		{ MSR_SYSCALL_MASK, 0 },
		{ MSR_LSTAR, 0 },
		{ MSR_IA32_TSC, 0 },
		{ MSR_IA32_MISC_ENABLE, 1 },		/* fast strings */
		{ MSR_MTRR_DEF_TYPE, (1u << 11) | 6 },	/* MTRRs on, default write-back */
	};
	const unsigned int n = sizeof(init) / sizeof(init[0]);
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry entries[sizeof(init) / sizeof(init[0])];
	} msrs;
	unsigned int i;
	int ret;

	memset(&msrs, 0, sizeof(msrs));
	msrs.hdr.nmsrs = n;
	for (i = 0; i < n; i++) {
		msrs.entries[i].index = init[i].index;
		msrs.entries[i].data = init[i].data;
	}
	ret = ioctl(vcpu->fd, KVM_SET_MSRS, &msrs);
	if (ret < 0) {
		log_err("vCPU %u: KVM_SET_MSRS failed: %s", vcpu->id, strerror(errno));
		return -errno;
	}
	if ((unsigned int)ret != n)
		log_debug("vCPU %u: KVM accepted %d of %u initial MSRs (MSR 0x%x refused)",
			  vcpu->id, ret, n, init[ret].index);
	return 0;
}

static int vcpu_set_fpu(struct vcpu *vcpu)
{
	struct kvm_fpu fpu;

	memset(&fpu, 0, sizeof(fpu));
	fpu.fcw = 0x37f;
	fpu.mxcsr = 0x1f80;
	if (ioctl(vcpu->fd, KVM_SET_FPU, &fpu) < 0) {
		log_err("vCPU %u: KVM_SET_FPU failed: %s", vcpu->id, strerror(errno));
		return -errno;
	}
	return 0;
}

static void lapic_set_lvt(struct kvm_lapic_state *s, unsigned int reg, uint32_t mode)
{
	uint32_t v;

	memcpy(&v, &s->regs[reg], 4);
	v = (v & ~0x700u & ~(1u << 16)) | (mode << 8);	/* delivery mode, unmasked */
	memcpy(&s->regs[reg], &v, 4);
}

static int vcpu_set_lapic(struct vcpu *vcpu)
{
	struct kvm_lapic_state s;

	if (ioctl(vcpu->fd, KVM_GET_LAPIC, &s) < 0) {
		log_err("vCPU %u: KVM_GET_LAPIC failed: %s", vcpu->id, strerror(errno));
		return -errno;
	}
	/* as PC firmware does: the 8259 reaches the BSP only */
	if (vcpu->id == 0)
		lapic_set_lvt(&s, APIC_LVT0, APIC_MODE_EXTINT);
	lapic_set_lvt(&s, APIC_LVT1, APIC_MODE_NMI);
	if (ioctl(vcpu->fd, KVM_SET_LAPIC, &s) < 0) {
		log_err("vCPU %u: KVM_SET_LAPIC failed: %s", vcpu->id, strerror(errno));
		return -errno;
	}
	return 0;
}

int vcpu_init_x86(struct vcpu *vcpu)
{
	int ret;

	ret = vcpu_set_cpuid(vcpu);
	if (!ret)
		ret = vcpu_set_msrs(vcpu);
	if (!ret)
		ret = vcpu_set_fpu(vcpu);
	if (!ret)
		ret = vcpu_set_lapic(vcpu);
	return ret;
}
