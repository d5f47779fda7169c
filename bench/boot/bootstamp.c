// SPDX-License-Identifier: MIT
/*
 * bootstamp: runs a command with its output on a pipe and reports how long
 * after the exec the output first held a marker string.
 *
 *   bootstamp MARKER CMD [ARG...]
 *
 * Prints "BOOTSTAMP marker_us=N exit=S total_us=T" on stdout (marker_us=-1
 * if the marker never appeared); the command's own output is copied to
 * stderr, each line prefixed with "[ms since exec] " when the environment
 * has BOOTSTAMP_LINES=1 (to see where a boot spends its time).
 * Exit status: 0, or 1 on a usage or system error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Scans buf for marker, carrying a partial match across reads in *matched. */
static int scan(const char *buf, size_t len, const char *marker,
		size_t mlen, size_t *matched)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (buf[i] == marker[*matched]) {
			if (++*matched == mlen)
				return 1;
		} else {
			/* restart; the marker has no repeated prefix worth KMP here */
			*matched = buf[i] == marker[0] ? 1 : 0;
		}
	}
	return 0;
}

/* Copies buf to stderr, stamping the start of each line when stamp is set. */
static int copy_out(const char *buf, size_t len, int stamp, int *bol,
		    long long start)
{
	size_t i;

	if (!stamp)
		return fwrite(buf, 1, len, stderr) == len ? 0 : -1;
	for (i = 0; i < len; i++) {
		if (*bol && fprintf(stderr, "[%7lld] ", (now_us() - start) / 1000) < 0)
			return -1;
		if (fputc(buf[i], stderr) == EOF)
			return -1;
		*bol = buf[i] == '\n';
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *env = getenv("BOOTSTAMP_LINES");
	int stamp = env && strcmp(env, "1") == 0, bol = 1;
	const char *marker;
	long long start, seen = -1;
	size_t mlen, matched = 0;
	int pfd[2], status;
	char buf[4096];
	ssize_t n;
	pid_t pid;

	if (argc < 3) {
		fprintf(stderr, "usage: bootstamp MARKER CMD [ARG...]\n");
		return 1;
	}
	marker = argv[1];
	mlen = strlen(marker);
	if (mlen == 0 || pipe(pfd) < 0) {
		fprintf(stderr, "bootstamp: bad marker or pipe: %s\n", strerror(errno));
		return 1;
	}
	start = now_us();
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "bootstamp: fork: %s\n", strerror(errno));
		return 1;
	}
	if (pid == 0) {
		close(pfd[0]);
		dup2(pfd[1], STDOUT_FILENO);
		dup2(pfd[1], STDERR_FILENO);
		close(pfd[1]);
		execvp(argv[2], argv + 2);
		fprintf(stderr, "bootstamp: exec %s: %s\n", argv[2], strerror(errno));
		_exit(127);
	}
	close(pfd[1]);
	for (;;) {
		n = read(pfd[0], buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (seen < 0 && scan(buf, (size_t)n, marker, mlen, &matched))
			seen = now_us() - start;
		if (copy_out(buf, (size_t)n, stamp, &bol, start) < 0)
			break;
	}
	close(pfd[0]);
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			fprintf(stderr, "bootstamp: waitpid: %s\n", strerror(errno));
			return 1;
		}
	}
	printf("BOOTSTAMP marker_us=%lld exit=%d total_us=%lld\n", seen,
	       WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status),
	       now_us() - start);
	return 0;
}
