// SPDX-License-Identifier: MIT
/*
 * The KVM side of vCPU/VM state on this machine's /dev/kvm (skipped when
 * there is none): a VM with an in-kernel irqchip, PIT and one vCPU gets
 * distinctive state; vcpu_state_get/vm_kvm_state_get save it through the
 * serializer into a second, fresh VM with vcpu_state_set/vm_kvm_state_set,
 * and reading the second VM back gives the same state.  No guest code
 * runs.  vcpu_state.c is a runtime source (not in libvmmcore.a), so it is
 * compiled in here.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/ioctl.h>
#include <sys/mman.h>

#include "../../vmm/cpu/vcpu_state.c"
#include "state/cpu_compat.h"
#include "state/dirty.h"
#include "state/mem_file.h"
#include "state/vm_kvm_state.h"

struct kvm_env {
	struct vm vm;
	struct vcpu vcpu;
};

static bool env_open(struct kvm_env *e)
{
	struct kvm_pit_config pit = { .flags = 0 };
	struct kvm_cpuid2 *cpuid;

	memset(e, 0, sizeof(*e));
	e->vm.kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (e->vm.kvm_fd < 0)
		return false;
	e->vm.vm_fd = ioctl(e->vm.kvm_fd, KVM_CREATE_VM, 0);
	cr_assert_geq(e->vm.vm_fd, 0, "KVM_CREATE_VM: %s", strerror(errno));
	cr_assert_eq(ioctl(e->vm.vm_fd, KVM_SET_TSS_ADDR, 0xfffbd000), 0);
	cr_assert_eq(ioctl(e->vm.vm_fd, KVM_CREATE_IRQCHIP, 0), 0, "%s", strerror(errno));
	cr_assert_eq(ioctl(e->vm.vm_fd, KVM_CREATE_PIT2, &pit), 0, "%s", strerror(errno));
	e->vm.nr_vcpus = 1;
	e->vcpu.vm = &e->vm;
	e->vcpu.id = 0;
	e->vcpu.fd = ioctl(e->vm.vm_fd, KVM_CREATE_VCPU, 0);
	cr_assert_geq(e->vcpu.fd, 0, "KVM_CREATE_VCPU: %s", strerror(errno));
	cpuid = calloc(1, sizeof(*cpuid) + 256 * sizeof(cpuid->entries[0]));
	cpuid->nent = 256;
	cr_assert_eq(ioctl(e->vm.kvm_fd, KVM_GET_SUPPORTED_CPUID, cpuid), 0);
	cr_assert_eq(ioctl(e->vcpu.fd, KVM_SET_CPUID2, cpuid), 0);
	free(cpuid);
	return true;
}

static void env_close(struct kvm_env *e)
{
	close(e->vcpu.fd);
	close(e->vm.vm_fd);
	close(e->vm.kvm_fd);
}

static const struct state_section_desc *all_sections(size_t *n)
{
	static struct state_section_desc d[VCPU_NR_PARTS + VM_KVM_NR_PARTS];

	memcpy(d, vcpu_saved_sections, sizeof(vcpu_saved_sections));
	memcpy(d + VCPU_NR_PARTS, vm_kvm_sections, sizeof(vm_kvm_sections));
	*n = VCPU_NR_PARTS + VM_KVM_NR_PARTS;
	return d;
}

static uint64_t msr_value(const struct kvm_msrs *m, uint32_t index)
{
	uint32_t i;

	for (i = 0; i < m->nmsrs; i++)
		if (m->entries[i].index == index)
			return m->entries[i].data;
	cr_assert_fail("MSR 0x%x not saved", index);
	return 0;
}

Test(state_kvm, save_into_a_fresh_vm)
{
	struct kvm_env a, b;
	struct vcpu_saved s, back, again;
	struct vm_kvm_saved vs, vback, vagain;
	struct state_membuf m = { 0 };
	struct state_writer w;
	struct state_reader r;
	struct state_header h;
	struct kvm_regs regs;
	struct kvm_msrs *one;
	const struct state_section_desc *d;
	size_t nd;
	int ret;

	if (!env_open(&a))
		cr_skip_test("no /dev/kvm");
	/* distinctive state in VM a */
	cr_assert_eq(ioctl(a.vcpu.fd, KVM_GET_REGS, &regs), 0);
	regs.rax = 0x1122334455667788ULL;
	regs.rip = 0x7c00;
	regs.rsp = 0x9000;
	cr_assert_eq(ioctl(a.vcpu.fd, KVM_SET_REGS, &regs), 0);
	one = calloc(1, sizeof(*one) + sizeof(one->entries[0]));
	one->nmsrs = 1;
	one->entries[0] = (struct kvm_msr_entry){ .index = 0x174, .data = 0x10 };	/* SYSENTER_CS */
	cr_assert_eq(ioctl(a.vcpu.fd, KVM_SET_MSRS, one), 1);

	cr_assert_eq(vcpu_state_get(&a.vcpu, &s), 0);
	cr_assert_eq(vm_kvm_state_get(a.vm.vm_fd, &vs), 0);
	cr_assert_eq(s.regs.rax, regs.rax);
	cr_assert_geq(s.xsave_size, 4096);
	cr_assert_gt(s.msrs->nmsrs, 10, "only %u MSRs probed", s.msrs->nmsrs);
	cr_assert_eq(msr_value(s.msrs, 0x174), 0x10);
	state_writer_init(&w, "state file", state_mem_write, &m);
	state_write_header(&w, 0);
	cr_assert_eq(vcpu_saved_write(&s, &w), 0);
	cr_assert_eq(vm_kvm_saved_write(&vs, &w), 0);
	cr_assert_eq(state_write_end(&w), 0);
	state_writer_free(&w);

	memset(&back, 0, sizeof(back));
	memset(&vback, 0, sizeof(vback));
	d = all_sections(&nd);
	state_reader_init(&r, "state file", state_mem_read, &m, d, nd);
	ret = state_read_header(&r, &h);
	while (!ret && (ret = state_next_section(&r)) == 1)
		ret = vcpu_saved_is_section(r.type) ? vcpu_saved_parse(&back, 1, &r)
						    : vm_kvm_saved_parse(&vback, &r);
	cr_assert_eq(ret, 0, "%s", state_reader_error(&r));
	state_reader_free(&r);

	cr_assert(env_open(&b));
	/*
	 * The saved CPUID against what a fresh vCPU of this host gets: the
	 * CPUID KVM reports back after KVM_SET_CPUID2 of the supported set
	 * (PVM widens it, so KVM_GET_SUPPORTED_CPUID alone is too narrow).
	 */
	{
		struct kvm_cpuid2 *fresh = calloc(1, sizeof(*fresh) + 256 * sizeof(fresh->entries[0]));
		char msg[256];

		fresh->nent = 256;
		cr_assert_eq(ioctl(b.vcpu.fd, KVM_GET_CPUID2, fresh), 0);
		cr_assert_eq(cpu_compat_check(back.cpuid, fresh, false, msg, sizeof(msg)), 0, "%s", msg);
		free(fresh);
	}
	cr_assert_eq(vcpu_state_set(&b.vcpu, &back), 0);
	cr_assert_eq(vm_kvm_state_set(b.vm.vm_fd, &vback, VM_CLOCK_CONTINUE), 0);
	cr_assert_eq(vcpu_state_get(&b.vcpu, &again), 0);
	cr_assert_eq(vm_kvm_state_get(b.vm.vm_fd, &vagain), 0);
	cr_assert_eq(memcmp(&again.regs, &s.regs, sizeof(s.regs)), 0);
	cr_assert_eq(memcmp(&again.sregs, &s.sregs, sizeof(s.sregs)), 0);
	cr_assert_eq(memcmp(&again.lapic, &s.lapic, sizeof(s.lapic)), 0);
	cr_assert_eq(memcmp(&again.xcrs, &s.xcrs, sizeof(s.xcrs)), 0);
	cr_assert_eq(memcmp(&again.debugregs, &s.debugregs, sizeof(s.debugregs)), 0);
	cr_assert_eq(again.mp_state.mp_state, s.mp_state.mp_state);
	cr_assert_eq(msr_value(again.msrs, 0x174), 0x10);
	cr_assert_eq(memcmp(&vagain.chip, &vs.chip, sizeof(vs.chip)), 0);
	/* the clock continued from the saved value (it ticks on: not earlier) */
	cr_assert_geq(vagain.clock.clock, vs.clock.clock);

	free(one);
	vcpu_saved_free(&s);
	vcpu_saved_free(&back);
	vcpu_saved_free(&again);
	state_membuf_free(&m);
	env_close(&a);
	env_close(&b);
}

/*
 * Dirty tracking end to end: a real-mode guest writes page 5, vmm writes
 * page 8 through guest_mem; KVM's log has 5, vmm's has 8, the merge both.
 */
Test(state_kvm, dirty_log_merge)
{
	static const uint8_t code[] = {
		0xc6, 0x06, 0x00, 0x50, 0x01,	/* mov byte [0x5000], 1 */
		0xf4,				/* hlt */
	};
	const uint64_t size = 1 << 20, pages = size >> 12;
	struct kvm_userspace_memory_region r = { 0 };
	struct guest_mem gm;
	struct kvm_sregs sregs;
	struct kvm_regs regs = { .rip = 0x1000, .rflags = 2 };
	struct kvm_run *run;
	uint64_t *kvm_log, *out, page;
	uint8_t one = 1;
	int kvm, vm, vcpu, mmap_size;
	void *mem;

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		cr_skip_test("no /dev/kvm");
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	cr_assert_geq(vm, 0);
	mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	cr_assert_neq(mem, MAP_FAILED);
	memcpy((uint8_t *)mem + 0x1000, code, sizeof(code));
	r.slot = 0;
	r.flags = KVM_MEM_LOG_DIRTY_PAGES;
	r.memory_size = size;
	r.userspace_addr = (uintptr_t)mem;
	cr_assert_eq(ioctl(vm, KVM_SET_USER_MEMORY_REGION, &r), 0, "%s", strerror(errno));
	memset(&gm, 0, sizeof(gm));
	cr_assert_eq(gm_add_region(&gm, 0, size, mem), 0);
	gm.dirty[0] = dirty_alloc(size);
	kvm_log = dirty_alloc(size);
	out = dirty_alloc(size);

	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	cr_assert_geq(vcpu, 0);
	mmap_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	run = mmap(NULL, mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	cr_assert_neq(run, MAP_FAILED);
	cr_assert_eq(ioctl(vcpu, KVM_GET_SREGS, &sregs), 0);
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	sregs.ds.base = 0;
	sregs.ds.selector = 0;
	cr_assert_eq(ioctl(vcpu, KVM_SET_SREGS, &sregs), 0);
	cr_assert_eq(ioctl(vcpu, KVM_SET_REGS, &regs), 0);
	cr_assert_eq(ioctl(vcpu, KVM_RUN, 0), 0, "%s", strerror(errno));
	cr_assert_eq(run->exit_reason, KVM_EXIT_HLT, "exit reason %u", run->exit_reason);
	cr_assert_eq(((uint8_t *)mem)[0x5000], 1);

	cr_assert_eq(gm_write(&gm, 0x8000 + 100, &one, 1), 0);	/* a "device" write */
	cr_assert_eq(dirty_kvm_fetch(vm, 0, kvm_log), 0);
	cr_assert(kvm_log[0] & (1u << 5), "guest write not in KVM's log");
	cr_assert_not(kvm_log[0] & (1u << 8), "vmm's write in KVM's log?");
	cr_assert_not(gm.dirty[0][0] & (1u << 5));
	cr_assert_geq(dirty_merge(out, kvm_log, gm.dirty[0], pages), 2);
	cr_assert_eq(out[0] & ((1u << 5) | (1u << 8)), (1u << 5) | (1u << 8));
	page = 8;
	cr_assert(dirty_next(out, pages, &page));
	cr_assert_eq(page, 8);
	/* both logs were cleared: a second fetch/merge is empty */
	cr_assert_eq(dirty_kvm_fetch(vm, 0, kvm_log), 0);
	cr_assert_eq(dirty_merge(out, kvm_log, gm.dirty[0], pages), 0);

	free(gm.dirty[0]);
	free(kvm_log);
	free(out);
	munmap(run, mmap_size);
	munmap(mem, size);
	close(vcpu);
	close(vm);
	close(kvm);
}

/* Runs v until its next port write; returns the byte written to port 0x10. */
static uint8_t run_to_out(struct kvm_env *e, struct kvm_run *run)
{
	cr_assert_eq(ioctl(e->vcpu.fd, KVM_RUN, 0), 0, "KVM_RUN: %s", strerror(errno));
	cr_assert_eq(run->exit_reason, KVM_EXIT_IO, "exit reason %u", run->exit_reason);
	cr_assert_eq(run->io.port, 0x10);
	return *((uint8_t *)run + run->io.data_offset);
}

static void *guest_ram(uint64_t size, bool fill)
{
	void *mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	cr_assert_neq(mem, MAP_FAILED);
	if (fill) {
		static const uint8_t code[] = {
			0xa1, 0x00, 0x50,	/* mov ax, [0x5000] */
			0x40,			/* inc ax */
			0xa3, 0x00, 0x50,	/* mov [0x5000], ax */
			0xe6, 0x10,		/* out 0x10, al */
			0xeb, 0xf5,		/* jmp 0x1000 */
		};
		memcpy((uint8_t *)mem + 0x1000, code, sizeof(code));
	}
	return mem;
}

static void map_ram(struct kvm_env *e, void *mem, uint64_t size)
{
	struct kvm_userspace_memory_region r = {
		.memory_size = size, .userspace_addr = (uintptr_t)mem,
	};

	cr_assert_eq(ioctl(e->vm.vm_fd, KVM_SET_USER_MEMORY_REGION, &r), 0, "%s", strerror(errno));
}

/*
 * A whole snapshot and restore in one process: a counting guest runs
 * three rounds in VM a; its memory goes to a sparse memory file and its
 * vCPU/VM state through the serializer; VM b maps the file (lazy) and
 * takes the state, and the guest counts on from 3 with its memory intact.
 */
Test(state_kvm, counting_guest_continues)
{
	const uint64_t size = 1 << 20;
	char path[] = "/tmp/test_state_mem_XXXXXX";
	struct kvm_env a, b;
	struct kvm_sregs sregs;
	struct kvm_regs regs = { .rip = 0x1000, .rflags = 2 };
	struct kvm_run *ra, *rb;
	struct vcpu_saved s, back;
	struct vm_kvm_saved vs, vback;
	struct state_membuf m = { 0 };
	struct state_writer w;
	struct state_reader r;
	struct state_header h;
	struct guest_mem gma, gmb;
	const struct state_section_desc *d;
	int fd, msz, ret;
	size_t nd;
	void *mema, *memb;

	if (!env_open(&a))
		cr_skip_test("no /dev/kvm");
	mema = guest_ram(size, true);
	map_ram(&a, mema, size);
	msz = ioctl(a.vm.kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	ra = mmap(NULL, msz, PROT_READ | PROT_WRITE, MAP_SHARED, a.vcpu.fd, 0);
	cr_assert_neq(ra, MAP_FAILED);
	cr_assert_eq(ioctl(a.vcpu.fd, KVM_GET_SREGS, &sregs), 0);
	sregs.cs.base = sregs.cs.selector = 0;
	sregs.ds.base = sregs.ds.selector = 0;
	cr_assert_eq(ioctl(a.vcpu.fd, KVM_SET_SREGS, &sregs), 0);
	cr_assert_eq(ioctl(a.vcpu.fd, KVM_SET_REGS, &regs), 0);
	cr_assert_eq(run_to_out(&a, ra), 1);
	cr_assert_eq(run_to_out(&a, ra), 2);
	cr_assert_eq(run_to_out(&a, ra), 3);
	/* complete the pending port write before saving (api.rst: immediate_exit) */
	ra->immediate_exit = 1;
	cr_assert_eq(ioctl(a.vcpu.fd, KVM_RUN, 0), -1);
	cr_assert_eq(errno, EINTR);
	ra->immediate_exit = 0;

	/* save: memory file + state stream */
	fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	unlink(path);
	memset(&gma, 0, sizeof(gma));
	cr_assert_eq(gm_add_region(&gma, 0, size, mema), 0);
	cr_assert_eq(mem_file_save(fd, "mem", &gma), 0);
	cr_assert_eq(vcpu_state_get(&a.vcpu, &s), 0);
	cr_assert_eq(vm_kvm_state_get(a.vm.vm_fd, &vs), 0);
	state_writer_init(&w, "state file", state_mem_write, &m);
	state_write_header(&w, 0);
	cr_assert_eq(mem_file_write_layout(&w, &gma, "memory"), 0);
	cr_assert_eq(vcpu_saved_write(&s, &w), 0);
	cr_assert_eq(vm_kvm_saved_write(&vs, &w), 0);
	cr_assert_eq(state_write_end(&w), 0);
	state_writer_free(&w);
	munmap(ra, msz);
	env_close(&a);
	munmap(mema, size);

	/* restore into a new VM */
	cr_assert(env_open(&b));
	memb = guest_ram(size, false);
	memset(&gmb, 0, sizeof(gmb));
	cr_assert_eq(gm_add_region(&gmb, 0, size, memb), 0);
	memset(&back, 0, sizeof(back));
	memset(&vback, 0, sizeof(vback));
	{
		static struct state_section_desc all[1 + VCPU_NR_PARTS + VM_KVM_NR_PARTS];
		char file[MEM_FILE_NAME_MAX + 1];

		d = all_sections(&nd);
		all[0] = (struct state_section_desc){ STATE_SEC_MEMORY, "memory", 1, 4096 };
		memcpy(all + 1, d, nd * sizeof(*d));
		state_reader_init(&r, "state file", state_mem_read, &m, all, nd + 1);
		ret = state_read_header(&r, &h);
		while (!ret && (ret = state_next_section(&r)) == 1) {
			if (r.type == STATE_SEC_MEMORY)
				ret = mem_file_check_layout(&r, &gmb, file);
			else if (vcpu_saved_is_section(r.type))
				ret = vcpu_saved_parse(&back, 1, &r);
			else
				ret = vm_kvm_saved_parse(&vback, &r);
		}
		cr_assert_eq(ret, 0, "%s", state_reader_error(&r));
		state_reader_free(&r);
	}
	cr_assert_eq(mem_file_restore(fd, "mem", &gmb, MEM_FILE_MAP, true), 0);
	map_ram(&b, memb, size);
	cr_assert_eq(vcpu_state_set(&b.vcpu, &back), 0);
	cr_assert_eq(vm_kvm_state_set(b.vm.vm_fd, &vback, VM_CLOCK_CONTINUE), 0);
	rb = mmap(NULL, msz, PROT_READ | PROT_WRITE, MAP_SHARED, b.vcpu.fd, 0);
	cr_assert_neq(rb, MAP_FAILED);
	cr_assert_eq(run_to_out(&b, rb), 4, "the guest did not count on from 3");
	cr_assert_eq(run_to_out(&b, rb), 5);
	cr_assert_eq(((uint8_t *)memb)[0x5000], 5);

	vcpu_saved_free(&s);
	vcpu_saved_free(&back);
	state_membuf_free(&m);
	munmap(rb, msz);
	env_close(&b);
	munmap(memb, size);
	close(fd);
}
