// SPDX-License-Identifier: MIT
/*
 * The runner behind tests/tsan/criterion/criterion.h: every registered
 * test in a forked child with its suite's and its own init/fini and a
 * timeout; prints criterion's result lines.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/wait.h>
#include <unistd.h>

#define SHIM_SKIPPED	77

static struct shim_test *tests;
static struct shim_suite *suites;

void shim_register_test(struct shim_test *t)
{
	t->next = tests;
	tests = t;
}

void shim_register_suite(struct shim_suite *s)
{
	s->next = suites;
	suites = s;
}

void shim_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "[----] %s:%d: Assertion Failed: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	fflush(NULL);
	_exit(1);
}

void shim_skip(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "[SKIP] ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	fflush(NULL);
	_exit(SHIM_SKIPPED);
}

static struct shim_suite *suite_of(const struct shim_test *t)
{
	for (struct shim_suite *s = suites; s; s = s->next)
		if (!strcmp(s->name, t->suite))
			return s;
	return NULL;
}

int main(int argc, char **argv)
{
	unsigned int n = 0, pass = 0, fail = 0, crash = 0;
	struct shim_test *rev = NULL, *t;

	(void)argc;
	(void)argv;
	while (tests) {		/* registration order is reversed: restore file order */
		t = tests;
		tests = t->next;
		t->next = rev;
		rev = t;
	}
	for (t = rev; t; t = t->next) {
		struct shim_suite *s = suite_of(t);
		unsigned int secs = t->timeout > 0 ? (unsigned int)t->timeout + 30 : 120;
		int st;
		pid_t pid;

		if (t->disabled || (s && s->disabled))
			continue;
		n++;
		fflush(NULL);
		pid = fork();
		if (pid == 0) {
			alarm(secs);	/* TSan is slow: the test's timeout plus a margin */
			if (s && s->init)
				s->init();
			if (t->init)
				t->init();
			t->fn();
			if (t->fini)
				t->fini();
			if (s && s->fini)
				s->fini();
			fflush(NULL);
			_exit(0);
		}
		if (pid < 0 || waitpid(pid, &st, 0) != pid) {
			crash++;
			continue;
		}
		if (WIFEXITED(st) && (WEXITSTATUS(st) == 0 || WEXITSTATUS(st) == SHIM_SKIPPED)) {
			pass++;
		} else if (WIFEXITED(st)) {
			fail++;
			printf("[FAIL] %s::%s: exit %d\n", t->suite, t->name, WEXITSTATUS(st));
		} else {
			crash++;
			printf("[FAIL] %s::%s: signal %d\n", t->suite, t->name, WTERMSIG(st));
		}
	}
	printf("[====] Synthesis: Tested: %u | Passing: %u | Failing: %u | Crashing: %u \n",
	       n, pass, fail, crash);
	return fail || crash;
}
