// SPDX-License-Identifier: MIT
/*
 * Per-vCPU x86 state every vCPU needs before it first runs: CPUID (from
 * KVM_GET_SUPPORTED_CPUID, patched by cpuid.c), MSRs, FPU, and
 * the LAPIC's LINT0 (ExtINT, so the 8259 PIC reaches the BSP as on a PC)
 * and LINT1 (NMI).  Then, once every vCPU exists, one clock for all of
 * them (x86_clock_init).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "cpuid.h"
#include "log.h"
#include "vcpu.h"
#include "vm.h"

#define CPUID_MAX_ENTRIES	256

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

static int vcpu_set_cpuid(struct vcpu *vcpu, unsigned int features)
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
	if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_TSC_DEADLINE_TIMER) > 0)
		features |= X86_CPUID_TSC_DEADLINE;
	x86_cpuid_patch(cpuid, vcpu->id, vm->nr_vcpus, features);
	if (ioctl(vcpu->fd, KVM_SET_CPUID2, cpuid) < 0) {
		ret = -errno;
		log_err("vCPU %u: KVM_SET_CPUID2 failed: %s", vcpu->id, strerror(errno));
	}
out:
	free(cpuid);
	return ret;
}

/*
 * No MSR_IA32_TSC here: KVM synchronizes every vCPU's TSC when it creates
 * it (kvm_arch_vcpu_postcreate: one offset for all, the vCPUs "matched"),
 * which is what its master clock needs.  A host write per vCPU at its own
 * set-up only adds KVM's write-matching heuristic (kvm_synchronize_tsc),
 * which re-derives each vCPU's offset from the elapsed time when the host
 * TSC is unstable and, on kernels before 4.x, from a 1-second window.
 */
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

	ret = vcpu_set_cpuid(vcpu, 0);	/* invariant TSC: x86_clock_init decides */
	if (!ret)
		ret = vcpu_set_msrs(vcpu);
	if (!ret)
		ret = vcpu_set_fpu(vcpu);
	if (!ret)
		ret = vcpu_set_lapic(vcpu);
	return ret;
}

int x86_clock_init(struct vm *vm)
{
	struct kvm_clock_data clock;
	unsigned int i;
	int ret, caps;

	caps = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_ADJUST_CLOCK);
	if (caps <= 0 || !(caps & KVM_CLOCK_TSC_STABLE)) {
		log_info("kvmclock: KVM does not say whether its master clock is stable (KVM_CAP_ADJUST_CLOCK 0x%x); invariant TSC not offered",
			 caps < 0 ? 0 : caps);
		return 0;
	}
	/*
	 * Guest time starts at 0.  KVM_SET_CLOCK also makes KVM decide on its
	 * master clock now that every vCPU's TSC is set: one (TSC, ns) pair
	 * for all vCPUs' kvmclock, which then cannot disagree between vCPUs.
	 */
	memset(&clock, 0, sizeof(clock));
	if (ioctl(vm->vm_fd, KVM_SET_CLOCK, &clock) < 0 ||
	    ioctl(vm->vm_fd, KVM_GET_CLOCK, &clock) < 0) {
		ret = -errno;
		log_err("cannot set or read the VM's kvmclock (KVM_SET_CLOCK/KVM_GET_CLOCK): %s", strerror(-ret));
		return ret;
	}
	if (!(clock.flags & KVM_CLOCK_TSC_STABLE)) {
		log_info("kvmclock: no stable KVM master clock (KVM_CLOCK_TSC_STABLE clear: the host clocksource is not a stable TSC, or the vCPUs' TSCs differ): "
			 "each vCPU's kvmclock is updated on its own, without PVCLOCK_TSC_STABLE_BIT, and the guest keeps it monotonic; invariant TSC not offered");
		return 0;
	}
	log_info("kvmclock: stable KVM master clock (KVM_CLOCK_TSC_STABLE) for %u vCPU(s); the host's invariant-TSC bit passed on",
		 vm->nr_vcpus);
	for (i = 0; i < vm->nr_vcpus; i++) {
		ret = vcpu_set_cpuid(&vm->vcpus[i], X86_CPUID_INVTSC);
		if (ret)
			return ret;
	}
	return 0;
}
