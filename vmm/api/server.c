// SPDX-License-Identifier: MIT
/*
 * The HTTP side of the control socket: libmicrohttpd on the socket that
 * socket.c made, a thread per connection (so a request waiting for the
 * event loop, or an event stream, blocks nobody else), bodies capped at
 * API_BODY_MAX, an idle timeout and a connection limit.  Requests go to
 * api_handle() (routes.c); only GET vm.events is answered here, as a
 * stream of JSON lines.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "api/api_internal.h"
#include "event_loop.h"
#include "log.h"
#include "sandbox/sandbox.h"

#define API_MAX_CLIENTS		32
#define API_IDLE_TIMEOUT_S	10
#define API_CLOSE_WAIT_MS	2000

/* One request being read. */
struct request {
	struct api *api;
	char *body;
	size_t len, cap;
	bool too_big;
};

/* One vm.events client. */
struct stream {
	struct api *api;
	uint64_t seq;
};

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[256];
	size_t n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n && msg[n - 1] == '\n')
		msg[--n] = '\0';
	log_info("control socket: %s", msg);
}

static enum MHD_Result send_reply(struct MHD_Connection *c, const struct api_reply *r)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	size_t len = r->body ? strlen(r->body) : 0;

	resp = MHD_create_response_from_buffer(len, r->body ? r->body : (char *)"",
					       MHD_RESPMEM_MUST_COPY);
	if (!resp)
		return MHD_NO;
	if (r->body)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	if (r->allow)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, r->allow);
	ret = MHD_queue_response(c, r->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result send_error(struct MHD_Connection *c, unsigned int status,
				  const char *json)
{
	struct api_reply r = { .status = status, .body = (char *)json };

	return send_reply(c, &r);
}

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct stream *s = cls;
	struct api *api = s->api;
	struct timespec until;
	size_t n;

	pthread_mutex_lock(&api->lock);
	if (s->seq == api->ev_seq && !api->closing) {
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += 1;	/* then 0 bytes: MHD notices a gone client */
		pthread_cond_timedwait(&api->cond, &api->lock, &until);
	}
	n = api_events_copy(api, &s->seq, buf, max);
	if (!n && api->closing) {
		pthread_mutex_unlock(&api->lock);
		return MHD_CONTENT_READER_END_OF_STREAM;
	}
	pthread_mutex_unlock(&api->lock);
	return (ssize_t)n;
}

static void stream_free(void *cls)
{
	struct stream *s = cls;

	pthread_mutex_lock(&s->api->lock);
	s->api->streams--;
	pthread_cond_broadcast(&s->api->cond);
	pthread_mutex_unlock(&s->api->lock);
	free(s);
}

static enum MHD_Result start_stream(struct api *api, struct MHD_Connection *c)
{
	struct MHD_Response *resp;
	struct stream *s;
	enum MHD_Result ret;

	s = calloc(1, sizeof(*s));
	if (!s)
		return send_error(c, 500, "{\"error\":\"out of memory\"}");
	s->api = api;
	pthread_mutex_lock(&api->lock);
	s->seq = api->ev_seq;		/* from now on */
	api->streams++;
	pthread_mutex_unlock(&api->lock);
	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, stream_read, s,
						 stream_free);
	if (!resp) {
		stream_free(s);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/x-ndjson");
	MHD_set_connection_option(c, MHD_CONNECTION_OPTION_TIMEOUT, 0U);
	ret = MHD_queue_response(c, 200, resp);
	MHD_destroy_response(resp);
	return ret;
}

static int body_append(struct request *rq, const char *data, size_t len)
{
	size_t cap;
	char *p;

	if (rq->len + len > API_BODY_MAX) {
		rq->too_big = true;
		return 0;
	}
	if (rq->len + len + 1 > rq->cap) {
		cap = rq->cap ? rq->cap : 1024;
		while (cap < rq->len + len + 1)
			cap *= 2;
		p = realloc(rq->body, cap);
		if (!p)
			return -ENOMEM;
		rq->body = p;
		rq->cap = cap;
	}
	memcpy(rq->body + rq->len, data, len);
	rq->len += len;
	rq->body[rq->len] = '\0';
	return 0;
}

/*
 * libmicrohttpd's threads are created inside MHD_start_daemon() and start
 * no code of ours, so each narrows itself to SANDBOX_API on the first
 * callback it runs (sandbox_apply_once: once per thread): the listening
 * thread in the accept-policy callback, before it accepts anything or
 * starts a connection thread; each connection thread (which inherits
 * that filter anyway) in its first on_request().  A thread whose filter
 * cannot be applied refuses the connection.
 */
static enum MHD_Result on_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
	(void)cls;
	(void)addr;
	(void)addrlen;
	return sandbox_apply_once(SANDBOX_API) ? MHD_NO : MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_data_size,
				  void **con_cls)
{
	struct api *api = cls;
	struct request *rq = *con_cls;
	struct api_reply reply;
	enum MHD_Result ret;
	const char *clen;

	if (!rq) {
		if (sandbox_apply_once(SANDBOX_API))
			return MHD_NO;
		rq = calloc(1, sizeof(*rq));
		if (!rq)
			return MHD_NO;
		rq->api = api;
		*con_cls = rq;
		/* until on_completed(): the answer is sent, api_close() waits for it */
		pthread_mutex_lock(&api->lock);
		api->inflight++;
		pthread_mutex_unlock(&api->lock);
		clen = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						   MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (clen && strtoull(clen, NULL, 10) > API_BODY_MAX)
			return send_error(c, 413, "{\"error\":\"request body larger than 1 MiB\"}");
		return MHD_YES;
	}
	if (*upload_data_size) {
		if (body_append(rq, upload_data, *upload_data_size))
			return MHD_NO;
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (rq->too_big)
		return send_error(c, 413, "{\"error\":\"request body larger than 1 MiB\"}");
	api_handle(api, method, url, rq->body, rq->len, &reply);
	if (reply.stream_events)
		return start_stream(api, c);
	ret = send_reply(c, &reply);
	free(reply.body);
	return ret;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct request *rq = *con_cls;

	if (rq) {
		pthread_mutex_lock(&rq->api->lock);
		rq->api->inflight--;
		pthread_cond_broadcast(&rq->api->cond);
		pthread_mutex_unlock(&rq->api->lock);
		free(rq->body);
		free(rq);
		*con_cls = NULL;
	}
}

static int api_alloc(const struct api_vm_ops *ops, void *opaque, struct api **out)
{
	struct api *api = calloc(1, sizeof(*api));

	if (!api)
		return -ENOMEM;
	api->ops = ops;
	api->opaque = opaque;
	api->listen_fd = api->lock_fd = api->monitor_fd = -1;
	pthread_mutex_init(&api->lock, NULL);
	pthread_cond_init(&api->cond, NULL);
	*out = api;
	return 0;
}

int api_new_detached(const struct api_vm_ops *ops, void *opaque, struct api **out)
{
	return api_alloc(ops, opaque, out);
}

int api_open(const struct api_config *ac, struct api **out)
{
	struct api *api;
	int ret;

	*out = NULL;
	ret = api_alloc(ac->ops, ac->opaque, &api);
	if (ret)
		return ret;
	api->loop = ac->loop;
	ret = api_events_init(api, ac->event_monitor);
	if (ret)
		goto err;
	if (!ac->name && !ac->socket_path) {
		*out = api;
		return 0;
	}
	ret = api_socket_open(api, ac->name, ac->socket_path);
	if (ret)
		goto err;
	api->mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD |
				    MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ERROR_LOG,
				    0, on_accept, api, on_request, api,
				    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, api,
				    MHD_OPTION_LISTEN_SOCKET, api->listen_fd,
				    MHD_OPTION_CONNECTION_LIMIT, (unsigned int)API_MAX_CLIENTS,
				    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)API_IDLE_TIMEOUT_S,
				    MHD_OPTION_NOTIFY_COMPLETED, on_completed, api,
				    MHD_OPTION_END);
	if (!api->mhd) {
		log_err("control socket %s: cannot start the HTTP server (libmicrohttpd)",
			api->sock_path);
		ret = -EIO;
		goto err;
	}
	log_info("control socket: %s", api->sock_path);
	*out = api;
	return 0;
err:
	api_socket_close(api);
	api_events_fini(api);
	free(api);
	return ret;
}

static unsigned int inflight(struct api *api)
{
	unsigned int n;

	pthread_mutex_lock(&api->lock);
	n = api->inflight;
	pthread_mutex_unlock(&api->lock);
	return n;
}

void api_close(struct api *api)
{
	struct timespec until;
	uint64_t deadline;

	if (!api)
		return;
	pthread_mutex_lock(&api->lock);
	api->closing = true;
	pthread_cond_broadcast(&api->cond);
	/* let vm.events clients take the last lines (the shutdown event) */
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_nsec += API_CLOSE_WAIT_MS % 1000 * 1000000L;
	until.tv_sec += API_CLOSE_WAIT_MS / 1000 + until.tv_nsec / 1000000000L;
	until.tv_nsec %= 1000000000L;
	while (api->streams && !pthread_cond_timedwait(&api->cond, &api->lock, &until))
		;
	pthread_mutex_unlock(&api->lock);
	if (api->mhd) {
		/* a request may wait in ev_call(): its work runs (and refuses) here */
		deadline = api_now_ns() + API_CLOSE_WAIT_MS * 1000000ULL;
		while (inflight(api) && api_now_ns() < deadline) {
			if (api->loop)
				ev_loop_once(api->loop, 10);
			else
				usleep(1000);
		}
		MHD_stop_daemon(api->mhd);
		api->listen_fd = -1;	/* closed by MHD */
		unlink(api->sock_path);
	}
	api_socket_close(api);
	api_events_fini(api);
	pthread_mutex_lock(&api->lock);
	free(api->pending_arena);
	pthread_mutex_unlock(&api->lock);
	pthread_cond_destroy(&api->cond);
	pthread_mutex_destroy(&api->lock);
	free(api);
}

void *api_opaque(struct api *api)
{
	return api->opaque;
}

struct ev_loop *api_loop(struct api *api)
{
	return api->loop;
}

bool api_closing(struct api *api)
{
	bool c;

	pthread_mutex_lock(&api->lock);
	c = api->closing;
	pthread_mutex_unlock(&api->lock);
	return c;
}

void api_set_config(struct api *api, const struct vm_config *cfg)
{
	if (!api)
		return;
	pthread_mutex_lock(&api->lock);
	api->cfg = cfg;
	pthread_mutex_unlock(&api->lock);
}

void api_vm_started(struct api *api)
{
	if (!api)
		return;
	pthread_mutex_lock(&api->lock);
	api->started = true;
	api->start_ns = api_now_ns();
	pthread_mutex_unlock(&api->lock);
}

const struct vm_config *api_pending_config(struct api *api)
{
	const struct vm_config *cfg;

	pthread_mutex_lock(&api->lock);
	cfg = api->have_pending ? &api->pending : NULL;
	pthread_mutex_unlock(&api->lock);
	return cfg;
}

char *api_take_pending_arena(struct api *api)
{
	char *a;

	pthread_mutex_lock(&api->lock);
	a = api->pending_arena;
	api->pending_arena = NULL;
	pthread_mutex_unlock(&api->lock);
	return a;
}

void api_clear_pending(struct api *api)
{
	pthread_mutex_lock(&api->lock);
	free(api->pending_arena);
	api->pending_arena = NULL;
	api->have_pending = false;
	pthread_mutex_unlock(&api->lock);
}

bool api_boot_requested(struct api *api)
{
	bool b;

	if (!api)
		return false;
	pthread_mutex_lock(&api->lock);
	b = api->boot_requested;
	pthread_mutex_unlock(&api->lock);
	return b;
}

void api_set_boot_requested(struct api *api)
{
	pthread_mutex_lock(&api->lock);
	api->boot_requested = true;
	pthread_mutex_unlock(&api->lock);
}
