// SPDX-License-Identifier: MIT
/*
 * The seccomp sandbox (vmm/sandbox): a thread that applied a role's filter
 * is stopped, with one line naming the syscall and exit status 18, when it
 * makes a syscall outside its list; and each role's list is wide enough for
 * the work it does (disk I/O through both engines under the vCPU + block
 * I/O filters, as when a guest activates a disk).
 *
 * A filter cannot be removed, so every case runs in a forked child and the
 * test checks the child's exit status and stderr.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/kvm.h>

#include "block/block.h"
#include "exitcode.h"
#include "sandbox/sandbox.h"

#define CHILD_OK	0
#define CHILD_NOT_STOPPED 77	/* the forbidden call returned */
#define CHILD_SETUP	78	/* could not set up (apply failed, I/O failed) */

struct child_result {
	int status;		/* exit status, or -signal */
	char err[2048];		/* its stderr */
};

/* Runs fn in a forked child with stderr captured. */
static void run_child(void (*fn)(void *), void *arg, struct child_result *r)
{
	int pfd[2], st;
	ssize_t n, got = 0;
	pid_t pid;

	cr_assert_eq(pipe(pfd), 0);
	fflush(NULL);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		dup2(pfd[1], STDERR_FILENO);
		/* nothing of criterion's channels stays open in the child */
		close_range(3, ~0u, 0);
		/* our own timeout: criterion's .timeout leaks under LeakSanitizer
		 * when timed tests run in parallel */
		alarm(30);
		fn(arg);
		_exit(CHILD_OK);
	}
	close(pfd[1]);
	while ((n = read(pfd[0], r->err + got, sizeof(r->err) - 1 - (size_t)got)) > 0)
		got += n;
	r->err[got] = '\0';
	close(pfd[0]);
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st);
}

struct role_call {
	enum sandbox_mode mode;
	enum sandbox_role role;
	int which;		/* 0: openat, 1: socket, 2: execve, 3: AF_UNIX socket,
				 * 4: openat for writing */
};

static void *forbidden_thread(void *arg)
{
	const struct role_call *c = arg;
	struct timespec ts;
	long ret;

	if (sandbox_apply(c->role))
		_exit(CHILD_SETUP);
	/* allowed: time, and writing (log lines) */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	if (write(STDERR_FILENO, "", 0) < 0)
		_exit(CHILD_SETUP);
	switch (c->which) {
	case 0:
		ret = syscall(SYS_openat, AT_FDCWD, "/etc/hostname", O_RDONLY);
		break;
	case 1:
		ret = syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
		break;
	case 3:
		ret = syscall(SYS_socket, AF_UNIX, SOCK_STREAM, 0);
		break;
	case 4:
		ret = syscall(SYS_openat, AT_FDCWD, "/tmp/vmm-sandbox-never", O_WRONLY | O_CREAT,
			      0600);
		break;
	default: {
		char *argv[] = { (char *)"/bin/true", NULL };

		ret = syscall(SYS_execve, "/bin/true", argv, NULL);
		break;
	}
	}
	(void)ret;
	_exit(CHILD_NOT_STOPPED);
	return NULL;
}

/* main -> a thread (the vCPU thread, say) that applies its role and misbehaves */
static void forbidden_child(void *arg)
{
	const struct role_call *c = arg;
	pthread_t th;

	if (sandbox_init(c->mode, NULL))
		_exit(CHILD_SETUP);
	if (pthread_create(&th, NULL, forbidden_thread, arg))
		_exit(CHILD_SETUP);
	pthread_join(th, NULL);
}

Test(sandbox, forbidden_syscall_from_vcpu_thread_is_stopped)
{
	struct role_call c = { SANDBOX_ON, SANDBOX_VCPU, 1 };
	struct child_result r;

	run_child(forbidden_child, &c, &r);
	cr_assert_eq(r.status, VMM_EXIT_SECCOMP, "status %d, stderr: %s", r.status, r.err);
	cr_assert(strstr(r.err, "seccomp: the vCPU thread made the forbidden system call socket"),
		  "stderr: %s", r.err);
	cr_assert(strstr(r.err, "exit status 18"), "stderr: %s", r.err);
	cr_assert_eq(strchr(r.err, '\n') - r.err + 1, (long)strlen(r.err), "one line: %s", r.err);
}

Test(sandbox, each_role_stops_something)
{
	/* socket() and execve() are outside every list (openat too, but sanitizer
	 * builds allow it for their runtime: docs/sandbox.md) */
	static const struct { enum sandbox_role role; int which; const char *name; } cases[] = {
		{ SANDBOX_MAIN, 1, "socket" },
		{ SANDBOX_MAIN, 2, "execve" },
		{ SANDBOX_VCPU, 2, "execve" },
		{ SANDBOX_BLOCK_IO, 1, "socket" },
		{ SANDBOX_API, 2, "execve" },
		{ SANDBOX_NET_IO, 1, "socket" },
		{ SANDBOX_NET_USER, 2, "execve" },
		{ SANDBOX_NET_USER, 3, "socket" },	/* only AF_INET/AF_INET6 */
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
		{ SANDBOX_NET_USER, 4, "openat" },	/* only read-only opens */
#endif
	};
	unsigned int i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct role_call c = { SANDBOX_ON, cases[i].role, cases[i].which };
		struct child_result r;
		char want[128];

		run_child(forbidden_child, &c, &r);
		cr_assert_eq(r.status, VMM_EXIT_SECCOMP, "%s role, %s: status %d, stderr: %s",
			     sandbox_role_name(cases[i].role), cases[i].name, r.status, r.err);
		snprintf(want, sizeof(want), "the %s thread made the forbidden system call %s",
			 sandbox_role_name(cases[i].role), cases[i].name);
		cr_assert(strstr(r.err, want), "want '%s' in: %s", want, r.err);
	}
}

/*
 * The control socket's role, applied the way libmicrohttpd's threads do
 * (sandbox_apply_once, on every callback): openat fails with EACCES (glibc's
 * lazy /proc reads fall back), socket() still stops vmm.
 */
static void *api_thread(void *arg)
{
	long ret;

	(void)arg;
	if (sandbox_apply_once(SANDBOX_API) || sandbox_apply_once(SANDBOX_API))
		_exit(CHILD_SETUP);
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
	ret = syscall(SYS_openat, AT_FDCWD, "/etc/hostname", O_RDONLY);
	if (ret != -1 || errno != EACCES)
		_exit(CHILD_NOT_STOPPED);
#endif
	ret = syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
	(void)ret;
	_exit(CHILD_NOT_STOPPED);
	return NULL;
}

static void api_child(void *arg)
{
	pthread_t th;

	(void)arg;
	if (sandbox_init(SANDBOX_ON, NULL) || pthread_create(&th, NULL, api_thread, NULL))
		_exit(CHILD_SETUP);
	pthread_join(th, NULL);
}

Test(sandbox, api_role_applied_once_refuses_openat_stops_socket)
{
	struct child_result r;

	run_child(api_child, NULL, &r);
	cr_assert_eq(r.status, VMM_EXIT_SECCOMP, "status %d, stderr: %s", r.status, r.err);
	cr_assert(strstr(r.err, "the control socket thread made the forbidden system call socket"),
		  "stderr: %s", r.err);
}

/* The same call with --seccomp off / log goes through: the test above can fail. */
Test(sandbox, off_and_log_let_it_through)
{
	struct role_call off = { SANDBOX_OFF, SANDBOX_VCPU, 1 };
	struct role_call log = { SANDBOX_LOG, SANDBOX_VCPU, 1 };
	struct child_result r;

	run_child(forbidden_child, &off, &r);
	cr_assert_eq(r.status, CHILD_NOT_STOPPED, "off: status %d, stderr: %s", r.status, r.err);
	run_child(forbidden_child, &log, &r);
	cr_assert_eq(r.status, CHILD_NOT_STOPPED, "log: status %d, stderr: %s", r.status, r.err);
}

/* KVM ioctls are tied to their fd: KVM_RUN on the thread's own vCPU fd only. */
static int kvm_fd_own, kvm_fd_other;

static void *vcpu_ioctl_thread(void *arg)
{
	const bool other = *(const bool *)arg;

	if (sandbox_apply_kvm(SANDBOX_VCPU, -1, kvm_fd_own))
		_exit(CHILD_SETUP);
	/* an eventfd is no vCPU: the kernel says ENOTTY, but the filter let it through */
	if (ioctl(kvm_fd_own, KVM_RUN, 0) != -1 || errno != ENOTTY)
		_exit(CHILD_SETUP);
	if (other)
		ioctl(kvm_fd_other, KVM_RUN, 0);
	return NULL;
}

static void vcpu_ioctl_child(void *arg)
{
	pthread_t th;

	kvm_fd_own = eventfd(0, 0);
	kvm_fd_other = eventfd(0, 0);
	if (kvm_fd_own < 0 || kvm_fd_other < 0 || sandbox_init(SANDBOX_ON, NULL) ||
	    pthread_create(&th, NULL, vcpu_ioctl_thread, arg))
		_exit(CHILD_SETUP);
	pthread_join(th, NULL);
}

Test(sandbox, kvm_ioctls_only_on_their_fd)
{
	struct child_result r;
	bool other = false;

	run_child(vcpu_ioctl_child, &other, &r);
	cr_assert_eq(r.status, CHILD_OK, "own fd: status %d, stderr: %s", r.status, r.err);
	other = true;
	run_child(vcpu_ioctl_child, &other, &r);
	cr_assert_eq(r.status, VMM_EXIT_SECCOMP, "other fd: status %d, stderr: %s", r.status, r.err);
	cr_assert(strstr(r.err, "forbidden system call ioctl (16, request 0xae80)"),
		  "stderr: %s", r.err);
}

/*
 * Disk I/O as a guest drives it: the image is opened before any filter;
 * a vCPU thread (vCPU filter) creates the queue, whose worker threads or
 * io_uring then do the I/O under vCPU + block I/O filters.
 */
struct disk_job {
	const char *path;
	struct blk_image *img;
	enum blk_engine_kind engine;
};

static int wait_one(struct blk_queue *q)
{
	struct pollfd pfd = { .fd = blk_queue_eventfd(q), .events = POLLIN };
	struct blk_req *done;

	for (;;) {
		if (blk_queue_reap(q, &done, 1) == 1)
			return done->result;
		if (poll(&pfd, 1, 10000) != 1)
			return -ETIMEDOUT;
	}
}

static void *disk_vcpu_thread(void *arg)
{
	struct disk_job *j = arg;
	static char wbuf[4096], rbuf[4096];
	struct iovec wv = { wbuf, sizeof(wbuf) }, rv = { rbuf, sizeof(rbuf) };
	struct blk_req w = { .op = BLK_OP_WRITE, .offset = 8192, .iov = &wv, .iovcnt = 1 };
	struct blk_req f = { .op = BLK_OP_FLUSH };
	struct blk_req rd = { .op = BLK_OP_READ, .offset = 8192, .iov = &rv, .iovcnt = 1 };
	struct blk_queue *q;

	if (sandbox_apply(SANDBOX_VCPU))
		_exit(CHILD_SETUP);
	memset(wbuf, 0x6b, sizeof(wbuf));
	if (blk_queue_create(j->img, j->engine, 16, &q))
		_exit(CHILD_SETUP);
	if (blk_queue_submit(q, &w) || wait_one(q) ||
	    blk_queue_submit(q, &f) || wait_one(q) ||
	    blk_queue_submit(q, &rd) || wait_one(q) || memcmp(wbuf, rbuf, sizeof(rbuf)))
		_exit(CHILD_SETUP);
	blk_queue_destroy(q);
	return NULL;
}

static void disk_child(void *arg)
{
	struct disk_job *j = arg;
	char err[512];
	pthread_t th;

	/* opened before any filter, as vm_create() does */
	if (blk_image_open(j->path, DISK_FORMAT_RAW, false, DISK_CACHE_WRITEBACK, &j->img,
			   err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		_exit(CHILD_SETUP);
	}
	if (sandbox_init(SANDBOX_ON, NULL) || pthread_create(&th, NULL, disk_vcpu_thread, j))
		_exit(CHILD_SETUP);
	pthread_join(th, NULL);
}

static void disk_io_under_filters(enum blk_engine_kind engine)
{
	char path[] = "/tmp/vmm-test-sandbox-XXXXXX";
	struct disk_job j = { .path = path, .engine = engine };
	struct child_result r;
	int fd = mkstemp(path);

	cr_assert_geq(fd, 0);
	cr_assert_eq(ftruncate(fd, 1 << 20), 0);
	close(fd);
	run_child(disk_child, &j, &r);
	unlink(path);
	cr_assert_eq(r.status, CHILD_OK, "status %d, stderr: %s", r.status, r.err);
}

Test(sandbox, disk_io_threads_engine)
{
	disk_io_under_filters(BLK_ENGINE_THREADS);
}

Test(sandbox, disk_io_uring_engine)
{
	struct io_uring ring;
	int ret = io_uring_queue_init(8, &ring, 0);

	if (ret)
		cr_skip_test("io_uring is unavailable here (%s): its filters were NOT tested",
			     strerror(-ret));
	io_uring_queue_exit(&ring);
	disk_io_under_filters(BLK_ENGINE_IO_URING);
}

Test(sandbox, parse_mode)
{
	enum sandbox_mode m;

	cr_assert_eq(sandbox_parse_mode("on", &m), 0);
	cr_assert_eq(m, SANDBOX_ON);
	cr_assert_eq(sandbox_parse_mode("log", &m), 0);
	cr_assert_eq(m, SANDBOX_LOG);
	cr_assert_eq(sandbox_parse_mode("off", &m), 0);
	cr_assert_eq(m, SANDBOX_OFF);
	cr_assert_eq(sandbox_parse_mode("yes", &m), -EINVAL);
}

Test(sandbox, not_initialised_is_a_no_op)
{
	/* unit tests and fuzzers never call sandbox_init: device threads run unfiltered */
	cr_assert_eq(sandbox_get_mode(), SANDBOX_OFF);
	cr_assert_eq(sandbox_apply(SANDBOX_BLOCK_IO), 0);
}

/*
 * The user-networking (slirp) list is wide enough for what libslirp does
 * with host sockets: UDP out and back (FIONREAD for the datagram size), a
 * TCP connection accepted on a listener as for hostfwd, nonblocking
 * sockets, and the read-only look at /etc/resolv.conf.  Loopback only.
 */
static void *net_user_thread(void *arg)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	int u, l, c, s, one = 1, n = 0;
	char buf[8];
	struct stat st;
	struct pollfd p;

	(void)arg;
	if (sandbox_apply(SANDBOX_NET_USER))
		_exit(CHILD_SETUP);
	u = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (u < 0 || bind(u, (struct sockaddr *)&a, sizeof(a)) ||
	    getsockname(u, (struct sockaddr *)&a, &al) ||
	    sendto(u, "ping", 4, 0, (struct sockaddr *)&a, sizeof(a)) != 4)
		_exit(CHILD_SETUP);
	p = (struct pollfd){ .fd = u, .events = POLLIN };
	if (poll(&p, 1, 5000) != 1 || ioctl(u, FIONREAD, &n) || n != 4 ||
	    recvfrom(u, buf, sizeof(buf), 0, NULL, NULL) != 4)
		_exit(CHILD_SETUP);
	close(u);
	a.sin_port = 0;
	al = sizeof(a);
	l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (l < 0 || setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(l, (struct sockaddr *)&a, sizeof(a)) || listen(l, 1) ||
	    getsockname(l, (struct sockaddr *)&a, &al))
		_exit(CHILD_SETUP);
	c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c < 0 || fcntl(c, F_SETFL, fcntl(c, F_GETFL) | O_NONBLOCK) ||
	    (connect(c, (struct sockaddr *)&a, sizeof(a)) && errno != EINPROGRESS))
		_exit(CHILD_SETUP);
	s = accept(l, NULL, NULL);
	al = sizeof(n);
	if (s < 0 || getsockopt(c, SOL_SOCKET, SO_ERROR, &n, &al) || n ||
	    shutdown(s, SHUT_RDWR))
		_exit(CHILD_SETUP);
	close(s);
	close(c);
	close(l);
	/* stat() + fopen("r") of resolv.conf; any file will do here */
	if (stat("/proc/self/status", &st))
		_exit(CHILD_SETUP);
	s = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	if (s < 0)
		_exit(CHILD_SETUP);
	close(s);
	_exit(CHILD_OK);
	return NULL;
}

static void net_user_child(void *arg)
{
	pthread_t th;

	(void)arg;
	if (sandbox_init(SANDBOX_ON, NULL))
		_exit(CHILD_SETUP);
	if (pthread_create(&th, NULL, net_user_thread, NULL))
		_exit(CHILD_SETUP);
	pthread_join(th, NULL);
}

Test(sandbox, net_user_role_is_wide_enough_for_slirp)
{
	struct child_result r;

	run_child(net_user_child, NULL, &r);
	cr_assert_eq(r.status, CHILD_OK, "status %d, stderr: %s", r.status, r.err);
}
