// SPDX-License-Identifier: MIT
/*
 * The snapshot directory: commit switches snapshots whole, abort leaves
 * the old one, the lock keeps a second vmm out, names are checked.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include "state/state_dir.h"

static char dir[64];

static void mkroot(void)
{
	strcpy(dir, "/tmp/test_state_dir_XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	strcat(dir, "/snap");	/* state_dir_begin creates it */
}

static void rmroot(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%.*s'", (int)(strlen(dir) - 5), dir);
	cr_assert_eq(system(cmd), 0);
}

/* The names in dir, sorted into one string "a b c". */
static void listing(char *out, size_t len)
{
	struct dirent **names;
	int n, i;

	out[0] = '\0';
	n = scandir(dir, &names, NULL, alphasort);
	cr_assert_geq(n, 0);
	for (i = 0; i < n; i++) {
		if (names[i]->d_name[0] != '.') {
			strncat(out, names[i]->d_name[0] == 'm' && strlen(names[i]->d_name) == 13 ?
				"memory-?" : names[i]->d_name, len - strlen(out) - 2);
			strcat(out, " ");
		}
		free(names[i]);
	}
	free(names);
}

static void snapshot(const char *text, char *mem_name)
{
	struct state_dir d;

	cr_assert_eq(state_dir_begin(&d, dir), 0);
	cr_assert_eq(write(d.state_fd, text, strlen(text)), (ssize_t)strlen(text));
	cr_assert_eq(write(d.mem_fd, text, strlen(text)), (ssize_t)strlen(text));
	strcpy(mem_name, d.mem_name);
	cr_assert(state_dir_is_memory_name(mem_name), "%s", mem_name);
	cr_assert_eq(state_dir_commit(&d), 0);
}

static void read_back(const char *mem_name, const char *want)
{
	struct state_dir d;
	char buf[64] = "";

	cr_assert_eq(state_dir_open(&d, dir), 0);
	cr_assert_eq(read(d.state_fd, buf, sizeof(buf) - 1), (ssize_t)strlen(want));
	cr_assert_str_eq(buf, want);
	cr_assert_eq(state_dir_open_memory(&d, mem_name), 0);
	memset(buf, 0, sizeof(buf));
	cr_assert_eq(read(d.mem_fd, buf, sizeof(buf) - 1), (ssize_t)strlen(want));
	cr_assert_str_eq(buf, want);
	state_dir_close(&d);
}

Test(state_dir, commit_replaces_whole)
{
	char m1[32], m2[32], ls[256], path[128];
	struct stat st;

	mkroot();
	snapshot("first", m1);
	listing(ls, sizeof(ls));
	cr_assert_str_eq(ls, "lock memory-? state ");
	read_back(m1, "first");
	snapshot("second", m2);
	cr_assert_str_neq(m1, m2);
	listing(ls, sizeof(ls));
	cr_assert_str_eq(ls, "lock memory-? state ", "old memory file left behind");
	snprintf(path, sizeof(path), "%s/%s", dir, m1);
	cr_assert_eq(stat(path, &st), -1);
	read_back(m2, "second");
	snprintf(path, sizeof(path), "%s", dir);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0700);
	rmroot();
}

Test(state_dir, abort_keeps_old)
{
	struct state_dir d;
	char m1[32], ls[256];

	mkroot();
	snapshot("first", m1);
	cr_assert_eq(state_dir_begin(&d, dir), 0);
	cr_assert_eq(write(d.state_fd, "half", 4), 4);
	listing(ls, sizeof(ls));
	cr_assert_str_eq(ls, "lock memory-? memory-? state state.tmp ");
	state_dir_abort(&d);
	listing(ls, sizeof(ls));
	cr_assert_str_eq(ls, "lock memory-? state ");
	read_back(m1, "first");
	rmroot();
}

Test(state_dir, lock_keeps_others_out)
{
	struct state_dir a, b;
	char m1[32];

	mkroot();
	snapshot("first", m1);
	cr_assert_eq(state_dir_begin(&a, dir), 0);
	cr_assert_eq(state_dir_begin(&b, dir), -EBUSY);
	cr_assert_eq(state_dir_open(&b, dir), -EBUSY);
	state_dir_abort(&a);
	/* readers share */
	cr_assert_eq(state_dir_open(&a, dir), 0);
	cr_assert_eq(state_dir_open(&b, dir), 0);
	state_dir_close(&b);
	cr_assert_eq(state_dir_begin(&b, dir), -EBUSY);
	state_dir_close(&a);
	rmroot();
}

Test(state_dir, names_checked)
{
	struct state_dir d;
	char m1[32];

	cr_assert(state_dir_is_memory_name("memory-aZ09xy"));
	cr_assert_not(state_dir_is_memory_name("memory-aZ09x"));
	cr_assert_not(state_dir_is_memory_name("memory-aZ09xyz"));
	cr_assert_not(state_dir_is_memory_name("memory-../../"));
	cr_assert_not(state_dir_is_memory_name("state"));
	mkroot();
	snapshot("first", m1);
	cr_assert_eq(state_dir_open(&d, dir), 0);
	cr_assert_eq(state_dir_open_memory(&d, "../../etc/passwd"), -EINVAL);
	cr_assert_eq(state_dir_open_memory(&d, "memory-zzzzzz"), -ENOENT);
	state_dir_close(&d);
	rmroot();
	cr_assert_eq(state_dir_open(&d, "/nonexistent/snap"), -ENOENT);
}
