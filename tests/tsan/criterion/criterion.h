/* SPDX-License-Identifier: MIT */
/*
 * A minimal stand-in for <criterion/criterion.h>, for the ThreadSanitizer
 * build only (make tsan, docs/reliability.md).  Criterion's inheritable
 * arena is mapped at addresses TSan reserves for its shadow memory, so real
 * criterion binaries abort at start under TSan.  This header implements
 * the subset the threaded unit tests use; tests/tsan/runner.c runs each
 * test in a forked child (as criterion does) and prints criterion's
 * "Synthesis" line, so tests/run-unit.sh reads the result as usual.
 */
#ifndef VMM_TSAN_CRITERION_SHIM_H
#define VMM_TSAN_CRITERION_SHIM_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct shim_test {
	const char *suite, *name;
	void (*fn)(void);
	void (*init)(void);
	void (*fini)(void);
	double timeout;
	bool disabled;
	const char *description;
	struct shim_test *next;
};

struct shim_suite {
	const char *name;
	void (*init)(void);
	void (*fini)(void);
	double timeout;
	bool disabled;
	const char *description;
	struct shim_suite *next;
};

void shim_register_test(struct shim_test *t);
void shim_register_suite(struct shim_suite *s);
void shim_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 3, 4)));
void shim_skip(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

#define Test(s_, t_, ...)							\
	static void shim_fn_##s_##_##t_(void);					\
	static struct shim_test shim_t_##s_##_##t_ = {				\
		.suite = #s_, .name = #t_, .fn = shim_fn_##s_##_##t_, ##__VA_ARGS__ }; \
	__attribute__((constructor)) static void shim_reg_##s_##_##t_(void)	\
	{ shim_register_test(&shim_t_##s_##_##t_); }				\
	static void shim_fn_##s_##_##t_(void)

#define TestSuite(s_, ...)							\
	static struct shim_suite shim_s_##s_ = { .name = #s_, ##__VA_ARGS__ };	\
	__attribute__((constructor)) static void shim_sreg_##s_(void)		\
	{ shim_register_suite(&shim_s_##s_); }

#define SHIM_MSG(...)	"" __VA_ARGS__

#define cr_assert(c, ...)							\
	do { if (!(c)) shim_fail(__FILE__, __LINE__, "assert(" #c ") " SHIM_MSG(__VA_ARGS__)); } while (0)
#define cr_expect cr_assert
#define cr_assert_not(c, ...)	cr_assert(!(c), ##__VA_ARGS__)
#define cr_assert_eq(a, b, ...)	cr_assert((a) == (b), ##__VA_ARGS__)
#define cr_assert_neq(a, b, ...) cr_assert((a) != (b), ##__VA_ARGS__)
#define cr_assert_geq(a, b, ...) cr_assert((a) >= (b), ##__VA_ARGS__)
#define cr_assert_leq(a, b, ...) cr_assert((a) <= (b), ##__VA_ARGS__)
#define cr_assert_gt(a, b, ...)	cr_assert((a) > (b), ##__VA_ARGS__)
#define cr_assert_lt(a, b, ...)	cr_assert((a) < (b), ##__VA_ARGS__)
#define cr_assert_null(p, ...)	cr_assert((p) == NULL, ##__VA_ARGS__)
#define cr_assert_not_null(p, ...) cr_assert((p) != NULL, ##__VA_ARGS__)
#define cr_assert_str_eq(a, b, ...) cr_assert(strcmp((a), (b)) == 0, ##__VA_ARGS__)
#define cr_assert_arr_eq(a, b, n, ...) cr_assert(memcmp((a), (b), (n)) == 0, ##__VA_ARGS__)
#define cr_skip_test(...)	shim_skip(__VA_ARGS__)
#define cr_log_info(...)	fprintf(stderr, __VA_ARGS__)

#endif
