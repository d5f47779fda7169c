// SPDX-License-Identifier: MIT
/*
 * Logging to stderr, prefixed with "vmm: ".  The level is the one piece of
 * process-wide state we allow outside struct vm: it is set once from the
 * command line and read-only afterwards.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static enum log_level log_threshold = LOG_WARN;
static struct timespec log_t0;	/* set with the level: "ms since start" in debug lines */

void log_set_level(enum log_level level)
{
	log_threshold = level;
	clock_gettime(CLOCK_MONOTONIC, &log_t0);
}

enum log_level log_get_level(void)
{
	return log_threshold;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };
	char buf[1024], stamp[32] = "";
	int saved_errno = errno;
	va_list ap;

	if (level > log_threshold)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	/* One write per line so lines from several threads do not interleave.
	 * \r\n: the terminal may be in raw mode while the guest runs. */
	if (log_threshold >= LOG_DEBUG) {
		struct timespec now;

		clock_gettime(CLOCK_MONOTONIC, &now);
		snprintf(stamp, sizeof(stamp), "[%lld ms] ",
			 (now.tv_sec - log_t0.tv_sec) * 1000LL + (now.tv_nsec - log_t0.tv_nsec) / 1000000);
	}
	fprintf(stderr, "vmm: %s: %s%s%s", names[level], stamp, buf,
		isatty(STDERR_FILENO) ? "\r\n" : "\n");
	/* Callers write `log_err(...); return -errno;`: isatty() sets ENOTTY
	 * and stdio may set others, so logging must not change errno. */
	errno = saved_errno;
}
