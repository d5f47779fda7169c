// SPDX-License-Identifier: MIT
/*
 * Exit statistics for boot profiling, kept only at debug level (-vv): the
 * exits that reach vmm, counted per port and per MMIO page, and KVM's own
 * per-vCPU counters (binary stats, KVM_GET_STATS_FD), which include the
 * exits KVM handles in the kernel.  Printed when the vCPU thread ends: under
 * nested virtualisation every exit costs tens of microseconds or more, so
 * these say where a slow boot goes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "log.h"
#include "vcpu.h"

#define NR_PORTS	65536
#define MMIO_SLOTS	64
#define TOP		10

struct exit_stats {
	uint32_t pio[NR_PORTS];
	struct { uint64_t page; uint32_t n; } mmio[MMIO_SLOTS];
	uint64_t io, mmio_total, mmio_other;
};

const char *vcpu_exit_kind_name(unsigned int k)
{
	static const char *const names[VCPU_EXIT_NR] = {
		[VCPU_EXIT_IO] = "io", [VCPU_EXIT_MMIO] = "mmio", [VCPU_EXIT_HLT] = "hlt",
		[VCPU_EXIT_INTR] = "intr", [VCPU_EXIT_KICK] = "kick",
		[VCPU_EXIT_SYSTEM] = "system_event", [VCPU_EXIT_OTHER] = "other",
	};

	return k < VCPU_EXIT_NR ? names[k] : "unknown";
}

void exit_stats_init(struct vcpu *vcpu)
{
	if (log_get_level() >= LOG_DEBUG)
		vcpu->stats = calloc(1, sizeof(*vcpu->stats));	/* NULL: not kept */
}

void exit_stats_io(struct vcpu *vcpu, uint16_t port)
{
	if (vcpu->stats) {
		vcpu->stats->pio[port]++;
		vcpu->stats->io++;
	}
}

void exit_stats_mmio(struct vcpu *vcpu, uint64_t addr)
{
	struct exit_stats *s = vcpu->stats;
	unsigned int i;

	if (!s)
		return;
	s->mmio_total++;
	for (i = 0; i < MMIO_SLOTS; i++) {
		if (s->mmio[i].n && s->mmio[i].page == addr >> 12) {
			s->mmio[i].n++;
			return;
		}
		if (!s->mmio[i].n) {
			s->mmio[i].page = addr >> 12;
			s->mmio[i].n = 1;
			return;
		}
	}
	s->mmio_other++;
}

/* KVM's counters for a vCPU whose names matter for exit cost. */
static const char *const kvm_wanted[] = {
	"exits", "io_exits", "mmio_exits", "irq_exits", "halt_exits",
	"irq_window_exits", "nmi_window_exits", "signal_exits",
	"insn_emulation", "hypercalls", "pf_taken", "halt_wakeup",
};

int vcpu_kvm_stats_each(int fd, void (*fn)(void *opaque, const char *name, uint64_t v),
			void *opaque)
{
	struct kvm_stats_header h;
	struct kvm_stats_desc *d;
	char *descs = NULL;
	size_t dsz, i, k;
	int ret = -EIO;

	if (pread(fd, &h, sizeof(h), 0) != sizeof(h) || h.num_desc > 4096 || !h.name_size ||
	    h.name_size > 256)
		return -EIO;
	dsz = sizeof(*d) + h.name_size;
	descs = malloc(dsz * h.num_desc);
	if (!descs)
		return -ENOMEM;
	if (pread(fd, descs, dsz * h.num_desc, h.desc_offset) != (ssize_t)(dsz * h.num_desc))
		goto out;
	for (k = 0; k < sizeof(kvm_wanted) / sizeof(kvm_wanted[0]); k++) {
		for (i = 0; i < h.num_desc; i++) {
			uint64_t v;

			d = (struct kvm_stats_desc *)(descs + i * dsz);
			d->name[h.name_size - 1] = '\0';
			if (strcmp(d->name, kvm_wanted[k]) || d->size != 1 ||
			    pread(fd, &v, sizeof(v), h.data_offset + d->offset) != sizeof(v))
				continue;
			fn(opaque, d->name, v);
		}
	}
	ret = 0;
out:
	free(descs);
	return ret;
}

struct kvm_line {
	char buf[768];
	size_t len;
};

static void kvm_line_add(void *opaque, const char *name, uint64_t v)
{
	struct kvm_line *l = opaque;

	if (v && l->len < sizeof(l->buf) - 64)
		l->len += (size_t)snprintf(l->buf + l->len, sizeof(l->buf) - l->len, " %s=%llu",
					   name, (unsigned long long)v);
}

static void report_kvm_stats(struct vcpu *vcpu)
{
	struct kvm_line l = { .len = 0 };
	int fd = ioctl(vcpu->fd, KVM_GET_STATS_FD, NULL);

	if (fd < 0)
		return;
	if (!vcpu_kvm_stats_each(fd, kvm_line_add, &l) && l.len)
		log_debug("vCPU %u: KVM counters:%s", vcpu->id, l.buf);
	close(fd);
}

/*
 * vm.counters reads KVM's counters on the event loop through this fd;
 * KVM_GET_STATS_FD is a vCPU-thread ioctl, so the thread opens it.
 */
void vcpu_kvm_stats_open(struct vcpu *vcpu)
{
	int fd;

	if (__atomic_load_n(&vcpu->kvm_stats_fd, __ATOMIC_ACQUIRE) >= 0)
		return;
	fd = ioctl(vcpu->fd, KVM_GET_STATS_FD, NULL);
	if (fd >= 0)
		__atomic_store_n(&vcpu->kvm_stats_fd, fd, __ATOMIC_RELEASE);
}

void exit_stats_report(struct vcpu *vcpu)
{
	struct exit_stats *s = vcpu->stats;
	char line[768];
	size_t len = 0;
	unsigned int t, i, best;

	if (!s)
		return;
	report_kvm_stats(vcpu);
	/* the busiest ports, selection by repeated maximum: TOP is small */
	for (t = 0; t < TOP; t++) {
		best = 0;
		for (i = 1; i < NR_PORTS; i++)
			if (s->pio[i] > s->pio[best])
				best = i;
		if (!s->pio[best])
			break;
		len += (size_t)snprintf(line + len, sizeof(line) - len, " 0x%x:%u", best, s->pio[best]);
		s->pio[best] = 0;
	}
	log_debug("vCPU %u: %llu port exits to vmm, busiest:%s", vcpu->id,
		  (unsigned long long)s->io, len ? line : " none");
	len = 0;
	for (t = 0; t < TOP; t++) {
		best = 0;
		for (i = 1; i < MMIO_SLOTS; i++)
			if (s->mmio[i].n > s->mmio[best].n)
				best = i;
		if (!s->mmio[best].n)
			break;
		len += (size_t)snprintf(line + len, sizeof(line) - len, " 0x%llx:%u",
					(unsigned long long)s->mmio[best].page << 12, s->mmio[best].n);
		s->mmio[best].n = 0;
	}
	log_debug("vCPU %u: %llu MMIO exits to vmm (%llu on other pages), busiest pages:%s",
		  vcpu->id, (unsigned long long)s->mmio_total, (unsigned long long)s->mmio_other,
		  len ? line : " none");
	free(s);
	vcpu->stats = NULL;
}
