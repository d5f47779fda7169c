// SPDX-License-Identifier: MIT
/*
 * VM events as JSON lines (docs/control.md, "Events"):
 *   {"timestamp":{"secs":S,"nanos":N},"event":"paused"}
 *   {"timestamp":{...},"event":"shutdown","reason":"guest powered off","status":0}
 * The timestamp is CLOCK_MONOTONIC.  Each line goes to --event-monitor
 * and into a ring that GET /api/v1/vm.events clients follow.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "api/api_internal.h"
#include "log.h"

static const char *const event_kinds[API_EV_KINDS + 1] = {
	"booted", "paused", "resumed", "powerdown-requested", "reboot", "reset",
	"shutdown", "panic", "powerdown-timeout", "created", "other",
};

const char *api_event_kind_name(unsigned int i)
{
	return i <= API_EV_KINDS ? event_kinds[i] : event_kinds[API_EV_KINDS];
}

int api_events_init(struct api *api, const char *monitor)
{
	char *end;
	long fd;

	api->monitor_fd = -1;
	if (!monitor)
		return 0;
	if (!strncmp(monitor, "fd=", 3)) {
		errno = 0;
		fd = strtol(monitor + 3, &end, 10);
		if (errno || *end || end == monitor + 3 || fd < 0 || fd > 65535 ||
		    fcntl((int)fd, F_GETFD) < 0) {
			log_err("--event-monitor: %s is not an open file descriptor", monitor);
			return -EBADF;
		}
		api->monitor_fd = (int)fd;
		goto nonblock;
	}
	if (strncmp(monitor, "path=", 5) || !monitor[5]) {
		log_err("--event-monitor: '%s' is not path=FILE or fd=N", monitor);
		return -EINVAL;
	}
	/* appended to, never truncated: it may be a FIFO or a log kept across runs */
	api->monitor_fd = open(monitor + 5, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (api->monitor_fd < 0) {
		int ret = -errno;

		log_err("--event-monitor: cannot open %s: %s", monitor + 5, strerror(errno));
		return ret;
	}
	api->monitor_owned = true;
nonblock:
	/* a reader that stops reading must not stall the VM: lines are dropped */
	fcntl(api->monitor_fd, F_SETFL, fcntl(api->monitor_fd, F_GETFL) | O_NONBLOCK);
	return 0;
}

void api_events_fini(struct api *api)
{
	unsigned int i;

	if (api->monitor_owned && api->monitor_fd >= 0)
		close(api->monitor_fd);
	api->monitor_fd = -1;
	for (i = 0; i < API_EV_RING; i++) {
		free(api->ev_lines[i]);
		api->ev_lines[i] = NULL;
	}
}

static char *event_line(const char *event, const char *reason, int status)
{
	struct json_object *o = json_object_new_object();
	struct json_object *ts = json_object_new_object();
	struct timespec now;
	char *line = NULL;

	if (!o || !ts)
		goto out;
	clock_gettime(CLOCK_MONOTONIC, &now);
	json_object_object_add(ts, "secs", json_object_new_int64(now.tv_sec));
	json_object_object_add(ts, "nanos", json_object_new_int64(now.tv_nsec));
	json_object_object_add(o, "timestamp", ts);
	ts = NULL;
	json_object_object_add(o, "event", json_object_new_string(event));
	if (reason)
		json_object_object_add(o, "reason", json_object_new_string(reason));
	if (!strcmp(event, "shutdown"))
		json_object_object_add(o, "status", json_object_new_int(status));
	if (asprintf(&line, "%s\n", json_object_to_json_string_ext(o,
			JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)) < 0)
		line = NULL;
out:
	json_object_put(ts);
	json_object_put(o);
	return line;
}

static void monitor_write(struct api *api, const char *line)
{
	size_t len = strlen(line), off = 0;
	ssize_t n;

	while (api->monitor_fd >= 0 && off < len) {
		n = write(api->monitor_fd, line + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			if (!api->monitor_dropped++)
				log_warn("--event-monitor: the reader is not keeping up; "
					 "events are dropped while it is full");
			return;
		}
		if (n <= 0) {
			log_warn("--event-monitor: write failed: %s; no more events are written",
				 n < 0 ? strerror(errno) : "short write");
			if (api->monitor_owned)
				close(api->monitor_fd);
			api->monitor_fd = -1;
			return;
		}
		off += (size_t)n;
	}
}

void api_event(void *opaque, const char *event, const char *reason, int status)
{
	struct api *api = opaque;
	unsigned int k;
	char *line;

	if (!api || !event)
		return;
	line = event_line(event, reason, status);
	pthread_mutex_lock(&api->lock);
	for (k = 0; k < API_EV_KINDS && strcmp(event_kinds[k], event); k++)
		;
	api->ev_counts[k]++;
	if (line) {
		monitor_write(api, line);
		free(api->ev_lines[api->ev_seq % API_EV_RING]);
		api->ev_lines[api->ev_seq % API_EV_RING] = line;
		api->ev_seq++;
		pthread_cond_broadcast(&api->cond);
	}
	pthread_mutex_unlock(&api->lock);
}

size_t api_events_copy(struct api *api, uint64_t *seq, char *buf, size_t len)
{
	size_t used = 0, n;
	const char *line;

	if (api->ev_seq - *seq > API_EV_RING)
		*seq = api->ev_seq - API_EV_RING;	/* too slow: the oldest are gone */
	while (*seq < api->ev_seq) {
		line = api->ev_lines[*seq % API_EV_RING];
		n = strlen(line);
		if (n > len - used) {
			if (!used && len) {	/* longer than the buffer: cut, keep the newline */
				memcpy(buf, line, len - 1);
				buf[len - 1] = '\n';
				used = len;
				(*seq)++;
			}
			break;
		}
		memcpy(buf + used, line, n);
		used += n;
		(*seq)++;
	}
	return used;
}
