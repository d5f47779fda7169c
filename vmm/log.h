/* SPDX-License-Identifier: MIT */
/*
 * One logging header for the whole project.
 *
 * Messages say what failed, on which file or value, and what to do:
 *   log_err("cannot open %s: %s (add yourself to the kvm group)", path, strerror(errno));
 * Levels below the current threshold (log_set_level) are dropped.
 */
#ifndef VMM_LOG_H
#define VMM_LOG_H

enum log_level {
	LOG_ERR = 0,
	LOG_WARN = 1,
	LOG_INFO = 2,
	LOG_DEBUG = 3,
};

void log_set_level(enum log_level level);
enum log_level log_get_level(void);
void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_err(...)	log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...)	log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...)	log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...)	log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
