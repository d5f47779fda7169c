// SPDX-License-Identifier: MIT
/*
 * log_msg must leave errno as it found it: callers write
 *	log_err("...: %s", strerror(errno)); return -errno;
 * and isatty() inside log_msg used to turn every such errno into ENOTTY.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>

#include "log.h"

static void quiet_stderr(void)
{
	/* /dev/null is not a tty, so isatty() fails with ENOTTY in log_msg */
	cr_assert_not_null(freopen("/dev/null", "w", stderr));
}

TestSuite(log, .init = quiet_stderr);

Test(log, error_keeps_errno)
{
	log_set_level(LOG_WARN);
	errno = EACCES;
	log_err("cannot open %s", "/nonexistent");
	cr_assert_eq(errno, EACCES, "errno %d after log_err, want EACCES", errno);
}

Test(log, debug_line_keeps_errno)
{
	log_set_level(LOG_DEBUG);	/* the timestamp path too */
	errno = EBUSY;
	log_debug("stamp %d", 1);
	cr_assert_eq(errno, EBUSY);
}

Test(log, dropped_level_keeps_errno)
{
	log_set_level(LOG_ERR);
	errno = EINVAL;
	log_info("dropped");
	cr_assert_eq(errno, EINVAL);
}
