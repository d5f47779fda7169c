// SPDX-License-Identifier: MIT
/*
 * The control socket's server (vmm/api/server.c, socket.c) in-process with
 * fake VM ops, over real Unix sockets: mode 0600, a live socket refused and
 * a stale one replaced, answers over HTTP, bodies over 1 MiB, malformed
 * HTTP, and an event reaching a vm.events client.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "api/api.h"

static int fake_state(struct api *a, enum vm_state *out)
{
	*out = VM_STATE_RUNNING;
	return 0;
}

static int fake_ctl(struct api *a, enum vm_ctl_op op)
{
	return op == VM_CTL_PAUSE ? 0 : -EBUSY;
}

static const struct api_vm_ops ops = { .ctl = fake_ctl, .state = fake_state };

static char dir[] = "/tmp/test_api_server.XXXXXX";
static char path[100];

static struct api *open_at(const char *p)
{
	struct api_config ac = { .socket_path = p, .ops = &ops };
	struct api *api = NULL;

	cr_assert_eq(api_open(&ac, &api), 0);
	return api;
}

static int connect_to(const char *p)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = 5 };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", p);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0, "%s", strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

/* Sends raw bytes, returns what came back until close or 'until' is seen. */
static char *exchange(const char *req)
{
	size_t len = strlen(req);
	static char buf[8192];
	size_t got = 0;
	ssize_t n;
	int fd = connect_to(path);

	if (len)
		cr_assert_eq(write(fd, req, len), (ssize_t)len);
	while (got < sizeof(buf) - 1) {
		n = read(fd, buf + got, sizeof(buf) - 1 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
		buf[got] = '\0';
	}
	buf[got] = '\0';
	close(fd);
	return buf;
}

static void setup(void)
{
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/s.sock", dir);
}

static void teardown(void)
{
	char lock[300];

	snprintf(lock, sizeof(lock), "%s.lock", path);
	unlink(path);
	unlink(lock);
	rmdir(dir);
}

TestSuite(server, .init = setup, .fini = teardown);

Test(server, socket_mode_live_and_stale)
{
	struct api *api = open_at(path), *other = NULL;
	struct api_config ac = { .socket_path = path, .ops = &ops };
	struct stat st;
	int fd;

	cr_assert_eq(stat(path, &st), 0);
	cr_assert(S_ISSOCK(st.st_mode));
	cr_assert_eq(st.st_mode & 0777, 0600);
	cr_assert_eq(api_open(&ac, &other), -EADDRINUSE, "a live socket was taken over");
	cr_assert_null(other);
	cr_assert_eq(stat(path, &st), 0, "the refused open removed the live socket");
	api_close(api);
	cr_assert_neq(stat(path, &st), 0, "socket left behind at close");

	/* a socket nobody listens on (a dead vmm's) is replaced */
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	{
		struct sockaddr_un sa = { .sun_family = AF_UNIX };

		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
		cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	}
	close(fd);
	api = open_at(path);
	api_close(api);
}

Test(server, a_file_that_is_not_a_socket_is_kept)
{
	struct api_config ac = { .socket_path = path, .ops = &ops };
	struct api *api = NULL;
	FILE *f = fopen(path, "w");

	fputs("precious", f);
	fclose(f);
	cr_assert_eq(api_open(&ac, &api), -EEXIST);
	f = fopen(path, "r");
	cr_assert_not_null(f, "the file was removed");
	fclose(f);
}

Test(server, http_answers)
{
	struct api *api = open_at(path);
	char big[256];
	char *r;

	r = exchange("GET /api/v1/vmm.ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	cr_assert(strstr(r, "HTTP/1.1 200"), "%s", r);
	cr_assert(strstr(r, "application/json"), "%s", r);
	cr_assert(strstr(r, "\"pid\":"), "%s", r);
	r = exchange("PUT /api/v1/vm.pause HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
		     "Content-Length: 0\r\n\r\n");
	cr_assert(strstr(r, "HTTP/1.1 204"), "%s", r);
	r = exchange("PUT /api/v1/vm.resume HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
		     "Content-Length: 0\r\n\r\n");
	cr_assert(strstr(r, "HTTP/1.1 409"), "%s", r);
	cr_assert(strstr(r, "\"error\""), "%s", r);
	snprintf(big, sizeof(big), "PUT /api/v1/vm.create HTTP/1.1\r\nHost: x\r\n"
		 "Content-Length: 5000000\r\n\r\n{");
	r = exchange(big);
	cr_assert(strstr(r, "HTTP/1.1 413"), "%s", r);
	r = exchange("NOT HTTP AT ALL\r\n\x01\x02\r\n\r\n");
	cr_assert(r[0] == '\0' || strstr(r, "HTTP/1.1 4"), "%s", r);
	r = exchange("GET /api/v1/vmm.ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	cr_assert(strstr(r, "HTTP/1.1 200"), "the server stopped answering: %s", r);
	api_close(api);
}

Test(server, event_stream)
{
	struct api *api = open_at(path);
	const char *req = "GET /api/v1/vm.events HTTP/1.1\r\nHost: x\r\n\r\n";
	char buf[4096];
	size_t got = 0;
	ssize_t n;
	int fd = connect_to(path), i;

	cr_assert_eq(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	/* the stream starts when the request is in: wait for the headers */
	while (!strstr(buf, "\r\n\r\n") && got < sizeof(buf) - 1) {
		n = read(fd, buf + got, sizeof(buf) - 1 - got);
		cr_assert_gt(n, 0);
		got += (size_t)n;
		buf[got] = '\0';
	}
	cr_assert(strstr(buf, "HTTP/1.1 200"), "%s", buf);
	api_event(api, "paused", NULL, 0);
	for (i = 0; i < 50 && !strstr(buf, "\"paused\""); i++) {
		n = read(fd, buf + got, sizeof(buf) - 1 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
		buf[got] = '\0';
	}
	cr_assert(strstr(buf, "{\"timestamp\":{\"secs\":"), "%s", buf);
	cr_assert(strstr(buf, "\"event\":\"paused\"}\n"), "%s", buf);
	api_event(api, "shutdown", "quit", 14);
	api_close(api);		/* ends the stream after its last line */
	while (got < sizeof(buf) - 1 && (n = read(fd, buf + got, sizeof(buf) - 1 - got)) > 0)
		got += (size_t)n;
	buf[got] = '\0';
	cr_assert(strstr(buf, "\"status\":14"), "%s", buf);
	close(fd);
}
