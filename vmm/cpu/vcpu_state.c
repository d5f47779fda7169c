// SPDX-License-Identifier: MIT
/*
 * One vCPU's KVM state: get and set with ioctls, see vcpu_state.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sys/ioctl.h>

#include "cpu/vcpu.h"
#include "cpu/vcpu_state.h"
#include "log.h"
#include "vm.h"

static int vcpu_err(const struct vcpu *vcpu, const char *what)
{
	int ret = -errno;

	log_err("vCPU %u: %s failed: %s", vcpu->id, what, strerror(-ret));
	return ret;
}

static struct kvm_msrs *msrs_alloc(uint32_t n)
{
	struct kvm_msrs *m = calloc(1, sizeof(*m) + (size_t)n * sizeof(struct kvm_msr_entry));

	if (m)
		m->nmsrs = n;
	return m;
}

int vcpu_state_msr_list(struct vcpu *vcpu, struct kvm_msrs **out)
{
	struct kvm_msr_list probe = { .nmsrs = 0 }, *list = NULL;
	struct kvm_msrs *m = NULL, *one = NULL;
	uint32_t i, n, kept = 0;
	int ret;

	/* first call: E2BIG with the count filled in */
	if (ioctl(vcpu->vm->kvm_fd, KVM_GET_MSR_INDEX_LIST, &probe) < 0 && errno != E2BIG)
		return vcpu_err(vcpu, "KVM_GET_MSR_INDEX_LIST");
	n = probe.nmsrs;
	if (n > VCPU_SAVED_MAX_MSRS) {
		log_err("vCPU %u: KVM lists %u MSRs, vmm saves at most %u", vcpu->id, n,
			VCPU_SAVED_MAX_MSRS);
		return -E2BIG;
	}
	list = calloc(1, sizeof(*list) + (size_t)n * sizeof(list->indices[0]));
	m = msrs_alloc(n);
	one = msrs_alloc(1);
	if (!list || !m || !one) {
		ret = -ENOMEM;
		goto err_free;
	}
	list->nmsrs = n;
	if (ioctl(vcpu->vm->kvm_fd, KVM_GET_MSR_INDEX_LIST, list) < 0) {
		ret = vcpu_err(vcpu, "KVM_GET_MSR_INDEX_LIST");
		goto err_free;
	}
	/*
	 * The list holds every MSR KVM knows; KVM_GET_MSRS refuses some for
	 * this guest's CPUID (it returns how many it read, stopping at the
	 * first refusal).  Probe one at a time: a few hundred cheap ioctls.
	 */
	for (i = 0; i < list->nmsrs && i < n; i++) {
		one->nmsrs = 1;
		one->entries[0].index = list->indices[i];
		if (ioctl(vcpu->fd, KVM_GET_MSRS, one) == 1)
			m->entries[kept++].index = list->indices[i];
	}
	m->nmsrs = kept;
	free(list);
	free(one);
	*out = m;
	return 0;

err_free:
	free(one);
	free(m);
	free(list);
	return ret;
}

static int get_cpuid(struct vcpu *vcpu, struct vcpu_saved *s)
{
	struct kvm_cpuid2 *c;

	c = calloc(1, sizeof(*c) + VCPU_SAVED_MAX_CPUID * sizeof(struct kvm_cpuid_entry2));
	if (!c)
		return -ENOMEM;
	c->nent = VCPU_SAVED_MAX_CPUID;
	if (ioctl(vcpu->fd, KVM_GET_CPUID2, c) < 0) {
		free(c);
		return vcpu_err(vcpu, "KVM_GET_CPUID2");
	}
	s->cpuid = c;
	return 0;
}

static int get_xsave(struct vcpu *vcpu, struct vcpu_saved *s)
{
	int size = ioctl(vcpu->vm->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE2);
	unsigned long req = KVM_GET_XSAVE2;

	if (size <= 0) {
		size = sizeof(struct kvm_xsave);
		req = KVM_GET_XSAVE;
	}
	if (size < (int)sizeof(struct kvm_xsave) || size > (int)VCPU_SAVED_MAX_XSAVE) {
		log_err("vCPU %u: KVM's XSAVE area is %d bytes, vmm saves at most %u",
			vcpu->id, size, VCPU_SAVED_MAX_XSAVE);
		return -E2BIG;
	}
	s->xsave = calloc(1, size);
	if (!s->xsave)
		return -ENOMEM;
	s->xsave_size = size;
	if (ioctl(vcpu->fd, req, s->xsave) < 0)
		return vcpu_err(vcpu, req == KVM_GET_XSAVE2 ? "KVM_GET_XSAVE2" : "KVM_GET_XSAVE");
	return 0;
}

#define GET(req, field, part)							\
	do {									\
		if (ioctl(vcpu->fd, req, &s->field) < 0) {			\
			ret = vcpu_err(vcpu, #req);				\
			goto err;						\
		}								\
		s->have |= 1u << (part);					\
	} while (0)

int vcpu_state_get(struct vcpu *vcpu, struct vcpu_saved *s)
{
	int ret, khz;

	memset(s, 0, sizeof(*s));
	s->index = vcpu->id;
	GET(KVM_GET_MP_STATE, mp_state, VCPU_PART_MP_STATE);
	GET(KVM_GET_REGS, regs, VCPU_PART_REGS);
	GET(KVM_GET_SREGS, sregs, VCPU_PART_SREGS);
	ret = get_xsave(vcpu, s);
	if (ret < 0)
		goto err;
	s->have |= 1u << VCPU_PART_XSAVE;
	GET(KVM_GET_XCRS, xcrs, VCPU_PART_XCRS);
	GET(KVM_GET_DEBUGREGS, debugregs, VCPU_PART_DEBUGREGS);
	GET(KVM_GET_LAPIC, lapic, VCPU_PART_LAPIC);

	ret = vcpu_state_msr_list(vcpu, &s->msrs);
	if (ret < 0)
		goto err;
	ret = ioctl(vcpu->fd, KVM_GET_MSRS, s->msrs);
	if (ret < 0 || (uint32_t)ret != s->msrs->nmsrs) {
		if (ret >= 0)
			log_err("vCPU %u: KVM_GET_MSRS read %d of %u MSRs (stopped at 0x%x)",
				vcpu->id, ret, s->msrs->nmsrs, s->msrs->entries[ret].index);
		ret = ret < 0 ? vcpu_err(vcpu, "KVM_GET_MSRS") : -EIO;
		goto err;
	}
	khz = ioctl(vcpu->fd, KVM_GET_TSC_KHZ, 0);
	s->tsc_khz = khz > 0 ? khz : 0;
	s->have |= 1u << VCPU_PART_MSRS;

	GET(KVM_GET_VCPU_EVENTS, events, VCPU_PART_EVENTS);
	ret = get_cpuid(vcpu, s);
	if (ret < 0)
		goto err;
	s->have |= 1u << VCPU_PART_CPUID;
	return 0;

err:
	vcpu_saved_free(s);
	return ret;
}

/* KVM_SET_XSAVE copies KVM_CAP_XSAVE2's size: pad a smaller save, refuse a bigger non-zero tail. */
static int set_xsave(struct vcpu *vcpu, const struct vcpu_saved *s)
{
	int size = ioctl(vcpu->vm->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE2);
	struct kvm_xsave *x;
	uint32_t i;
	int ret = 0;

	if (size < (int)sizeof(struct kvm_xsave))
		size = sizeof(struct kvm_xsave);
	for (i = size; i < s->xsave_size; i++) {
		if (((const uint8_t *)s->xsave)[i]) {
			log_err("vCPU %u: the saved XSAVE state (%u bytes) uses features this host's KVM lacks (%d bytes)",
				vcpu->id, s->xsave_size, size);
			return -EOPNOTSUPP;
		}
	}
	x = calloc(1, size);
	if (!x)
		return -ENOMEM;
	memcpy(x, s->xsave, s->xsave_size < (uint32_t)size ? s->xsave_size : (uint32_t)size);
	if (ioctl(vcpu->fd, KVM_SET_XSAVE, x) < 0)
		ret = vcpu_err(vcpu, "KVM_SET_XSAVE");
	free(x);
	return ret;
}

#define SET(req, field)								\
	do {									\
		if (ioctl(vcpu->fd, req, &s->field) < 0)			\
			return vcpu_err(vcpu, #req);				\
	} while (0)

int vcpu_state_set(struct vcpu *vcpu, struct vcpu_saved *s)
{
	char msg[128];
	int ret;

	if (vcpu_saved_complete(s, msg, sizeof(msg)) < 0) {
		log_err("state file: %s", msg);
		return -EINVAL;
	}
	/* CPUID first: KVM checks later state (XSAVE, MSRs) against it */
	if (ioctl(vcpu->fd, KVM_SET_CPUID2, s->cpuid) < 0)
		return vcpu_err(vcpu, "KVM_SET_CPUID2");
	/* the guest's TSC rate, before any TSC value (needs KVM_CAP_TSC_CONTROL) */
	if (s->tsc_khz) {
		int khz = ioctl(vcpu->fd, KVM_GET_TSC_KHZ, 0);

		if (khz > 0 && (uint32_t)khz != s->tsc_khz &&
		    ioctl(vcpu->fd, KVM_SET_TSC_KHZ, (unsigned long)s->tsc_khz) < 0)
			return vcpu_err(vcpu, "KVM_SET_TSC_KHZ (the guest's TSC rate differs from this host's)");
	}
	SET(KVM_SET_MP_STATE, mp_state);
	SET(KVM_SET_REGS, regs);
	/* SREGS carries the APIC base: before the LAPIC */
	SET(KVM_SET_SREGS, sregs);
	ret = set_xsave(vcpu, s);
	if (ret < 0)
		return ret;
	SET(KVM_SET_XCRS, xcrs);
	SET(KVM_SET_DEBUGREGS, debugregs);
	/* LAPIC before the MSRs: TSC_DEADLINE only sticks in TSC-deadline mode */
	SET(KVM_SET_LAPIC, lapic);
	vcpu_saved_fix_msrs(s);
	ret = ioctl(vcpu->fd, KVM_SET_MSRS, s->msrs);
	if (ret < 0)
		return vcpu_err(vcpu, "KVM_SET_MSRS");
	if ((uint32_t)ret != s->msrs->nmsrs) {
		log_err("vCPU %u: KVM refused MSR 0x%x = 0x%llx (%d of %u set): the host differs from the one that saved",
			vcpu->id, s->msrs->entries[ret].index,
			(unsigned long long)s->msrs->entries[ret].data, ret, s->msrs->nmsrs);
		return -EINVAL;
	}
	/* events last: pending exceptions/NMIs/interrupt shadow on top of the rest */
	SET(KVM_SET_VCPU_EVENTS, events);
	return 0;
}
