// SPDX-License-Identifier: MIT
/*
 * Live migration, the source (vm_state.h, docs/migration.md): pre-copy.
 *
 * Round 0 sends every non-zero page while the guest runs, with KVM's dirty
 * log on every memory slot; each later round sends the pages the log says
 * the vCPUs wrote since, until what is left fits the downtime limit at the
 * measured bandwidth (or MIG_MAX_ROUNDS).  Then the VM is paused and every
 * page is compared, by a 64-bit hash of what was last sent, with what the
 * destination holds: that final scan also catches the pages vmm's own
 * devices wrote (virtqueue rings, block reads), which KVM's log does not
 * see.  Then every vCPU, the VM's KVM state and every device, END, and the
 * destination's one-byte answer.  Any failure before that answer resumes
 * the guest as if nothing happened.
 *
 * Runs on the event-loop thread (the control socket waits for it): the
 * loop serves nothing else meanwhile (console input waits; vCPUs and block
 * I/O run on their own threads).
 */
#include <errno.h>
#include <linux/kvm.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "api/api.h"
#include "config_json.h"
#include "cpu/vcpu.h"
#include "cpu/vcpu_state.h"
#include "log.h"
#include "state/dirty.h"
#include "state/mig_pages.h"
#include "vm.h"
#include "vm_state.h"

#define MIG_MAX_ROUNDS		30
#define MIG_DOWNTIME_MS		300
#define MIG_ACK_TIMEOUT_MS	30000
#define MIG_ACK_OK		'K'
#define MIG_IO_TIMEOUT_S	30	/* a peer that stops reading or writing this long is gone */

struct mig_src {
	struct vm *vm;
	int fd;
	struct state_writer w;
	uint64_t *hash[GM_MAX_REGIONS];		/* per page: what the destination holds */
	uint64_t *bits[GM_MAX_REGIONS];		/* KVM's dirty log */
	bool logging;
	uint64_t batch[MIG_PAGES_MAX];		/* gpa | kind */
	unsigned int nbatch;
	uint64_t pages, bytes;
	unsigned int rounds;
	char *err;
	size_t errlen;
};

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* accept(), unless SIGINT/SIGTERM/SIGHUP (blocked: main reads them by signalfd) comes first. */
static int accept_or_signal(int fd)
{
	struct pollfd pfd[2] = { { .fd = fd, .events = POLLIN }, { .events = POLLIN } };
	sigset_t set;
	int cfd, ret;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	pfd[1].fd = signalfd(-1, &set, SFD_CLOEXEC);
	if (pfd[1].fd < 0)
		return -errno;
	for (;;) {
		ret = poll(pfd, 2, -1);
		if (ret < 0 && errno == EINTR)
			continue;
		if (ret < 0) {
			ret = -errno;
			break;
		}
		if (pfd[1].revents) {
			ret = -EINTR;
			break;
		}
		cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
		if (cfd >= 0 || (errno != EINTR && errno != EAGAIN)) {
			ret = cfd >= 0 ? cfd : -errno;
			break;
		}
	}
	close(pfd[1].fd);
	return ret;
}

int vm_migrate_socket(const char *url, bool listen_, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct addrinfo *ai = NULL;
	char host[256], *port;
	int fd = -1, cfd, one = 1, ret;

	if (!strncmp(url, "unix:", 5)) {
		if (!url[5] || strlen(url + 5) >= sizeof(sun.sun_path)) {
			snprintf(err, errlen, "'%s': the socket path is empty or too long", url);
			return -EINVAL;
		}
		strcpy(sun.sun_path, url + 5);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			goto sys;
		if (!listen_) {
			if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
				goto sys;
			goto timeouts;
		}
		if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 || listen(fd, 1) < 0)
			goto sys;
	} else if (!strncmp(url, "tcp:", 4)) {
		snprintf(host, sizeof(host), "%s", url + 4);
		port = strrchr(host, ':');
		if (!port || port == host || !port[1]) {
			snprintf(err, errlen, "'%s' is not tcp:HOST:PORT", url);
			return -EINVAL;
		}
		*port++ = '\0';
		if (host[0] == '[' && port[-2] == ']') {
			port[-2] = '\0';
			memmove(host, host + 1, strlen(host));
		}
		hints.ai_flags = listen_ ? AI_PASSIVE : 0;
		ret = getaddrinfo(host, port, &hints, &ai);
		if (ret) {
			snprintf(err, errlen, "%s: %s", url, gai_strerror(ret));
			return -EINVAL;
		}
		fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			goto sys;
		if (!listen_) {
			if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0)
				goto sys;
			freeaddrinfo(ai);
			goto timeouts;
		}
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 1) < 0)
			goto sys;
		freeaddrinfo(ai);
		ai = NULL;
	} else {
		snprintf(err, errlen, "'%s' is not unix:PATH or tcp:HOST:PORT", url);
		return -EINVAL;
	}
	log_info("waiting for the migration source on %s", url);
	cfd = accept_or_signal(fd);
	if (cfd == -EINTR) {
		snprintf(err, errlen, "%s: stopped by a signal while waiting", url);
		close(fd);
		if (!strncmp(url, "unix:", 5))
			unlink(url + 5);
		return cfd;
	}
	if (cfd < 0) {
		errno = -cfd;
		goto sys;
	}
	close(fd);
	if (!strncmp(url, "unix:", 5))
		unlink(url + 5);
	fd = cfd;
timeouts:
	{
		struct timeval tv = { .tv_sec = MIG_IO_TIMEOUT_S };

		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	}
	return fd;
sys:
	ret = -errno;
	snprintf(err, errlen, "%s: cannot %s: %s", url, listen_ ? "listen" : "connect",
		 strerror(errno));
	if (ai)
		freeaddrinfo(ai);
	if (fd >= 0)
		close(fd);
	if (listen_ && !strncmp(url, "unix:", 5) && ret != -EADDRINUSE)
		unlink(url + 5);
	return ret;
}

/* FNV-1a over 64-bit words: 0 is kept for the zero page. */
static uint64_t page_hash(const void *p)
{
	const uint64_t *w = p;
	uint64_t h = 0xcbf29ce484222325ULL;
	unsigned int i;

	for (i = 0; i < MIG_PAGE_SIZE / 8; i++)
		h = (h ^ w[i]) * 0x100000001b3ULL;
	return h ? h : 1;
}

static bool cancelled(struct mig_src *m)
{
	if (!__atomic_load_n(&m->vm->migrate_cancel, __ATOMIC_ACQUIRE))
		return false;
	snprintf(m->err, m->errlen, "cancelled");
	return true;
}

static int flush_batch(struct mig_src *m)
{
	const struct guest_mem *gm = &m->vm->mem;
	unsigned int i;

	if (cancelled(m))
		return -ECANCELED;
	if (!m->nbatch)
		return 0;
	if (state_begin(&m->w, STATE_SEC_MIG_PAGES, 1, STATE_SECF_REQUIRED))
		return m->w.error;
	state_put_u32(&m->w, m->nbatch);
	for (i = 0; i < m->nbatch; i++) {
		state_put_u64(&m->w, m->batch[i]);
		if (!(m->batch[i] & MIG_PAGE_ZERO))
			state_put_bytes(&m->w, gm_ptr(gm, m->batch[i], MIG_PAGE_SIZE),
					MIG_PAGE_SIZE);
	}
	m->bytes += m->w.len;
	m->nbatch = 0;
	return state_end(&m->w);
}

/* Sends page pg of region ri if the destination does not hold it already. */
static int send_page(struct mig_src *m, unsigned int ri, uint64_t pg)
{
	const struct gm_region *r = &m->vm->mem.regions[ri];
	const void *p = (const uint8_t *)r->hva + pg * MIG_PAGE_SIZE;
	uint64_t h = mem_file_page_is_zero(p) ? 0 : page_hash(p);

	if (h == m->hash[ri][pg])
		return 0;
	m->hash[ri][pg] = h;
	m->batch[m->nbatch++] = (r->gpa + pg * MIG_PAGE_SIZE) | (h ? 0 : MIG_PAGE_ZERO);
	m->pages++;
	return m->nbatch == MIG_PAGES_MAX ? flush_batch(m) : 0;
}

static int send_all(struct mig_src *m)
{
	const struct guest_mem *gm = &m->vm->mem;
	unsigned int ri;
	uint64_t pg;
	int ret;

	for (ri = 0; ri < gm->nr_regions; ri++)
		for (pg = 0; pg < gm->regions[ri].size / MIG_PAGE_SIZE; pg++) {
			ret = send_page(m, ri, pg);
			if (ret)
				return ret;
		}
	return flush_batch(m);
}

/* Fetches KVM's dirty log of every slot; returns the dirty page count or -errno. */
static int64_t fetch_dirty(struct mig_src *m)
{
	const struct guest_mem *gm = &m->vm->mem;
	int64_t n = 0;
	unsigned int ri;
	int ret;

	for (ri = 0; ri < gm->nr_regions; ri++) {
		ret = dirty_kvm_fetch(m->vm->vm_fd, ri, m->bits[ri]);
		if (ret)
			return ret;
		n += (int64_t)dirty_count(m->bits[ri], gm->regions[ri].size / MIG_PAGE_SIZE);
	}
	return n;
}

static int send_dirty(struct mig_src *m)
{
	const struct guest_mem *gm = &m->vm->mem;
	unsigned int ri;
	uint64_t pg;
	int ret;

	for (ri = 0; ri < gm->nr_regions; ri++) {
		pg = 0;
		while (dirty_next(m->bits[ri], gm->regions[ri].size / MIG_PAGE_SIZE, &pg)) {
			ret = send_page(m, ri, pg);
			if (ret)
				return ret;
			pg++;
		}
	}
	return flush_batch(m);
}

/* KVM_MEM_LOG_DIRTY_PAGES on or off for every slot (slot i is RAM region i, vm.c). */
static int dirty_logging(struct mig_src *m, bool on)
{
	const struct guest_mem *gm = &m->vm->mem;
	struct kvm_userspace_memory_region r;
	unsigned int ri;

	for (ri = 0; ri < gm->nr_regions; ri++) {
		r = (struct kvm_userspace_memory_region){
			.slot = ri, .flags = on ? KVM_MEM_LOG_DIRTY_PAGES : 0,
			.guest_phys_addr = gm->regions[ri].gpa,
			.memory_size = gm->regions[ri].size,
			.userspace_addr = (uintptr_t)gm->regions[ri].hva,
		};
		if (ioctl(m->vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0)
			return -errno;
	}
	m->logging = on;
	return 0;
}

static int send_head(struct mig_src *m)
{
	struct state_host host;
	char *json = config_json_format(m->vm->cfg, false);
	int ret;

	if (!json)
		return -ENOMEM;
	vm_state_host(m->vm, &host);
	ret = state_write_header(&m->w, STATE_F_MIGRATION);
	if (!ret)
		ret = state_config_write(json, &m->w);
	if (!ret)
		ret = state_host_write(&host, &m->w);
	if (!ret)
		ret = mem_file_write_layout(&m->w, &m->vm->mem, "migration");
	if (!ret)
		ret = vm_state_write_disks(m->vm, &m->w, m->err, m->errlen);
	free(json);
	return ret;
}

/* With the VM paused: the last pages, every vCPU, the VM, the devices, END. */
static int send_tail(struct mig_src *m)
{
	struct vm *vm = m->vm;
	struct vm_kvm_saved vs;
	struct vcpu_saved s;
	unsigned int i;
	int ret;

	ret = send_all(m);
	for (i = 0; !ret && i < vm->nr_vcpus; i++) {
		memset(&s, 0, sizeof(s));
		ret = vcpu_state_get(&vm->vcpus[i], &s);
		if (!ret)
			ret = vcpu_saved_write(&s, &m->w);
		vcpu_saved_free(&s);
	}
	if (!ret) {
		memset(&vs, 0, sizeof(vs));
		ret = vm_kvm_state_get(vm->vm_fd, &vs);
		if (!ret)
			ret = vm_kvm_saved_write(&vs, &m->w);
	}
	if (!ret)
		ret = vm_devices_save(&vm->devices, &m->w);
	if (!ret)
		ret = state_write_end(&m->w);
	return ret;
}

static int wait_ack(struct mig_src *m)
{
	struct pollfd pfd = { .fd = m->fd, .events = POLLIN };
	char c = 0;
	ssize_t n;

	int waited;

	shutdown(m->fd, SHUT_WR);
	for (waited = 0; waited < MIG_ACK_TIMEOUT_MS; waited += 100) {
		if (cancelled(m))
			return -ECANCELED;
		if (poll(&pfd, 1, 100) != 0)
			break;
	}
	if (!(pfd.revents & (POLLIN | POLLHUP | POLLERR))) {
		snprintf(m->err, m->errlen, "the destination did not answer within %d s",
			 MIG_ACK_TIMEOUT_MS / 1000);
		return -ETIMEDOUT;
	}
	n = read(m->fd, &c, 1);
	if (n != 1 || c != MIG_ACK_OK) {
		snprintf(m->err, m->errlen, "the destination refused the VM (see its log)");
		return -ECONNABORTED;
	}
	return 0;
}

static int alloc_maps(struct mig_src *m)
{
	const struct guest_mem *gm = &m->vm->mem;
	unsigned int ri;

	for (ri = 0; ri < gm->nr_regions; ri++) {
		m->hash[ri] = calloc(gm->regions[ri].size / MIG_PAGE_SIZE, sizeof(uint64_t));
		m->bits[ri] = dirty_alloc(gm->regions[ri].size);
		if (!m->hash[ri] || !m->bits[ri])
			return -ENOMEM;
	}
	return 0;
}

static void free_maps(struct mig_src *m)
{
	unsigned int ri;

	for (ri = 0; ri < GM_MAX_REGIONS; ri++) {
		free(m->hash[ri]);
		free(m->bits[ri]);
	}
}

static int precopy(struct mig_src *m, bool *paused, double *t_pause)
{
	double t0, rate = 0;
	int64_t dirty;
	unsigned int round;
	int ret;

	ret = send_head(m);
	if (!ret)
		ret = dirty_logging(m, true);
	if (!ret)
		ret = fetch_dirty(m) < 0 ? -EIO : 0;	/* clears the log */
	t0 = now_ms();
	if (!ret)
		ret = send_all(m);
	for (round = 1; !ret && round <= MIG_MAX_ROUNDS; round++) {
		rate = (double)m->bytes / (now_ms() - t0 + 1e-3);	/* bytes per ms */
		dirty = fetch_dirty(m);
		if (dirty < 0) {
			ret = (int)dirty;
			break;
		}
		log_info("migration round %u: %lld dirty pages, %.1f MiB sent, %.0f MiB/s", round,
			 (long long)dirty, (double)m->bytes / (1 << 20), rate * 1000 / (1 << 20));
		if ((double)dirty * MIG_PAGE_SIZE <= rate * MIG_DOWNTIME_MS)
			break;
		ret = send_dirty(m);
		m->rounds = round;
	}
	if (ret)
		return ret;
	*t_pause = now_ms();
	if (m->vm->state == VM_STATE_RUNNING) {	/* a VM paused by its user stays so */
		ret = vm_pause(m->vm);
		if (ret)
			return ret;
		*paused = true;
	}
	return send_tail(m);
}

int vm_migrate_send(struct vm *vm, const char *url, struct api_migration_stats *st,
		    char *err, size_t errlen)
{
	struct mig_src *m;
	bool paused = false, was_running = vm->state == VM_STATE_RUNNING;
	double t0 = now_ms(), t_pause = 0;
	char werr[STATE_ERR_LEN];
	int ret;

	if (vm->state != VM_STATE_RUNNING && vm->state != VM_STATE_PAUSED) {
		snprintf(err, errlen, "migration is refused in state %s", vm_state_name(vm->state));
		return -EBUSY;
	}
	ret = vm_state_devices_check(vm, true, "migration", err, errlen);
	if (ret)
		return ret;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	__atomic_store_n(&vm->migrate_cancel, false, __ATOMIC_RELEASE);
	__atomic_store_n(&vm->migrating, true, __ATOMIC_RELEASE);
	m->vm = vm;
	m->err = err;
	m->errlen = errlen;
	err[0] = '\0';
	m->fd = vm_migrate_socket(url, false, err, errlen);
	if (m->fd < 0) {
		ret = m->fd;
		goto out;
	}
	state_writer_init(&m->w, "migration stream", state_fd_write, &m->fd);
	ret = alloc_maps(m);
	if (!ret)
		ret = precopy(m, &paused, &t_pause);
	snprintf(werr, sizeof(werr), "%s", m->w.error ? state_writer_error(&m->w) : "");
	if (!ret)
		ret = wait_ack(m);
	state_writer_free(&m->w);
	close(m->fd);
out:
	if (m->logging)
		dirty_logging(m, false);
	if (ret) {
		if (!err[0])
			snprintf(err, errlen, "%s", werr[0] ? werr : strerror(-ret));
		log_err("migration to %s failed: %s; the VM goes on here", url, err);
		if (paused && was_running)
			vm_resume(vm);
	} else {
		*st = (struct api_migration_stats){
			.rounds = m->rounds, .pages = m->pages, .bytes = m->bytes,
			.total_ms = now_ms() - t0, .downtime_ms = now_ms() - t_pause,
		};
		fprintf(stderr, "vmm: the VM migrated to %s: %llu pages, %.1f MiB in %.0f ms, "
			"downtime %.1f ms\n", url, (unsigned long long)m->pages,
			(double)m->bytes / (1 << 20), st->total_ms, st->downtime_ms);
		vm_emit_event(vm, "migrated", url, 0);
		vm_request_exit(vm, VM_EXIT_QUIT, 0);
	}
	__atomic_store_n(&vm->migrating, false, __ATOMIC_RELEASE);
	free_maps(m);
	free(m);
	return ret;
}
