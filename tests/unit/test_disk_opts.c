// SPDX-License-Identifier: MIT
/* disk_opts_parse: every key, the defaults, and each way an option is refused. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "block/block.h"

static struct disk_opts o;
static char err[512];

static int parse(const char *arg)
{
	memset(&o, 0x5a, sizeof(o));
	memset(err, 'x', sizeof(err));
	return disk_opts_parse(arg, &o, err, sizeof(err));
}

static void refused(const char *arg, const char *want)
{
	cr_assert_eq(parse(arg), -EINVAL, "'%s' was accepted", arg);
	cr_assert_str_eq(err, want, "for '%s'", arg);
}

Test(disk_opts, path_only_gives_defaults)
{
	cr_assert_eq(parse("path=/tmp/a.img"), 0);
	cr_assert_str_eq(o.path, "/tmp/a.img");
	cr_assert_eq(o.format, DISK_FORMAT_AUTO);
	cr_assert_eq(o.cache, DISK_CACHE_WRITEBACK);
	cr_assert_eq(o.engine, BLK_ENGINE_AUTO);
	cr_assert_eq(o.readonly, false);
	cr_assert_eq(o.snapshot, false);
	cr_assert_str_eq(o.serial, "");
	cr_assert_eq(o.num_queues, 0);
	cr_assert_str_eq(err, "");
}

Test(disk_opts, every_key)
{
	cr_assert_eq(parse("path=d.qcow2,format=qcow2,readonly=on,cache=none,serial=SN-0001,"
			   "snapshot=on,num-queues=4,engine=io_uring"), 0);
	cr_assert_str_eq(o.path, "d.qcow2");
	cr_assert_eq(o.format, DISK_FORMAT_QCOW2);
	cr_assert_eq(o.readonly, true);
	cr_assert_eq(o.cache, DISK_CACHE_NONE);
	cr_assert_str_eq(o.serial, "SN-0001");
	cr_assert_eq(o.snapshot, true);
	cr_assert_eq(o.num_queues, 4);
	cr_assert_eq(o.engine, BLK_ENGINE_IO_URING);
}

Test(disk_opts, values)
{
	cr_assert_eq(parse("path=a,format=raw,cache=writethrough,engine=threads,readonly=off"), 0);
	cr_assert_eq(o.format, DISK_FORMAT_RAW);
	cr_assert_eq(o.cache, DISK_CACHE_WRITETHROUGH);
	cr_assert_eq(o.engine, BLK_ENGINE_THREADS);
	cr_assert_eq(o.readonly, false);
	cr_assert_eq(parse("path=a,cache=unsafe,engine=auto,snapshot=off"), 0);
	cr_assert_eq(o.cache, DISK_CACHE_UNSAFE);
	cr_assert_eq(o.engine, BLK_ENGINE_AUTO);
	cr_assert_eq(parse("path=a,cache=writeback,num-queues=64"), 0);
	cr_assert_eq(o.cache, DISK_CACHE_WRITEBACK);
	cr_assert_eq(o.num_queues, 64);
	cr_assert_eq(parse("path=a,num-queues=1"), 0);
	cr_assert_eq(o.num_queues, 1);
}

Test(disk_opts, bare_first_element_is_the_path)
{
	cr_assert_eq(parse("a.img,readonly=on"), 0);
	cr_assert_str_eq(o.path, "a.img");
	cr_assert(o.readonly);
	cr_assert_eq(parse("/dev/vdb"), 0);
	cr_assert_str_eq(o.path, "/dev/vdb");
}

Test(disk_opts, double_comma_is_a_literal_comma)
{
	cr_assert_eq(parse("path=a,,b.img,cache=none"), 0);
	cr_assert_str_eq(o.path, "a,b.img");
	cr_assert_eq(o.cache, DISK_CACHE_NONE);
	cr_assert_eq(parse("path=a,,,cache=none"), 0);
	cr_assert_str_eq(o.path, "a,");
}

Test(disk_opts, serial_of_20_bytes)
{
	cr_assert_eq(parse("path=a,serial=12345678901234567890"), 0);
	cr_assert_str_eq(o.serial, "12345678901234567890");
}

Test(disk_opts, unknown_key)
{
	refused("path=a.img,cahce=none",
		"--disk: unknown key 'cahce' in 'path=a.img,cahce=none' (keys: path, format, "
		"readonly, cache, serial, snapshot, num-queues, engine)");
}

Test(disk_opts, bad_values)
{
	refused("path=a,cache=fast", "--disk: bad value 'fast' for cache in 'path=a,cache=fast' "
		"(accepted: none, writeback, writethrough, unsafe)");
	refused("path=a,format=vmdk", "--disk: bad value 'vmdk' for format in "
		"'path=a,format=vmdk' (accepted: raw, qcow2)");
	refused("path=a,readonly=yes", "--disk: bad value 'yes' for readonly in "
		"'path=a,readonly=yes' (accepted: on, off)");
	refused("path=a,snapshot=1", "--disk: bad value '1' for snapshot in "
		"'path=a,snapshot=1' (accepted: on, off)");
	refused("path=a,engine=aio", "--disk: bad value 'aio' for engine in "
		"'path=a,engine=aio' (accepted: auto, io_uring, threads)");
	refused("path=a,serial=123456789012345678901", "--disk: bad value "
		"'123456789012345678901' for serial in 'path=a,serial=123456789012345678901' "
		"(accepted: at most 20 bytes)");
	refused("path=a,serial=a\tb", "--disk: bad value 'a\tb' for serial in "
		"'path=a,serial=a\tb' (accepted: printable ASCII)");
}

Test(disk_opts, bad_num_queues)
{
	static const char *const bad[] = { "0", "65", "-1", "+4", "4x", " 4",
					   "99999999999999999999999" };
	char arg[64], want[256];

	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(arg, sizeof(arg), "path=a,num-queues=%s", bad[i]);
		snprintf(want, sizeof(want), "--disk: bad value '%s' for num-queues in '%s' "
			 "(accepted: a number from 1 to 64)", bad[i], arg);
		refused(arg, want);
	}
}

Test(disk_opts, duplicate_key)
{
	refused("path=a,cache=none,cache=unsafe", "--disk: duplicate key 'cache' in "
		"'path=a,cache=none,cache=unsafe' (each key may be given once)");
	refused("a.img,path=b.img", "--disk: duplicate key 'path' in 'a.img,path=b.img' "
		"(each key may be given once)");
}

Test(disk_opts, missing_or_empty)
{
	refused("cache=none", "--disk: no path in 'cache=none' (path=FILE is required)");
	refused("", "--disk: empty argument (expected path=FILE[,key=value...])");
	refused("path=", "--disk: empty value for path in 'path='");
	refused("path=a,", "--disk: empty option in 'path=a,' (keys: path, format, readonly, "
		"cache, serial, snapshot, num-queues, engine)");
	refused(",path=a", "--disk: empty option in ',path=a' (keys: "
		"path, format, readonly, cache, serial, snapshot, num-queues, engine)");
	refused("path=a,readonly", "--disk: option 'readonly' in 'path=a,readonly' is not "
		"key=value (keys: path, format, readonly, cache, serial, snapshot, num-queues, "
		"engine)");
}

Test(disk_opts, path_too_long)
{
	static char arg[BLK_PATH_MAX + 16];

	memcpy(arg, "path=", 5);
	memset(arg + 5, 'p', BLK_PATH_MAX);
	arg[5 + BLK_PATH_MAX] = '\0';
	cr_assert_eq(parse(arg), -EINVAL);
	cr_assert_eq(strncmp(err, "--disk: bad value 'ppp", 22), 0, "%s", err);
	arg[5 + BLK_PATH_MAX - 1] = '\0';	/* 4095 bytes fits */
	cr_assert_eq(parse(arg), 0);
	cr_assert_eq(strlen(o.path), BLK_PATH_MAX - 1);
}

Test(disk_opts, failure_leaves_out_untouched_and_small_err_is_terminated)
{
	struct disk_opts keep;
	char tiny[8];

	memset(&keep, 0x33, sizeof(keep));
	cr_assert_eq(disk_opts_parse("path=a,cache=bad", &keep, tiny, sizeof(tiny)), -EINVAL);
	cr_assert_eq(keep.cache, (enum disk_cache)0x33333333);
	cr_assert_str_eq(tiny, "--disk:");
	cr_assert_eq(disk_opts_parse("path=a,cache=bad", &keep, NULL, 0), -EINVAL);
}

/* Two --disk options on one file: named as such, not "in use by another process". */
Test(disk_opts, same_file_twice)
{
	struct disk_opts d[3];
	char dir[] = "/tmp/vmm-disk-opts-XXXXXX", a[64], l[64], h[64];
	FILE *f;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(a, sizeof(a), "%s/a.img", dir);
	snprintf(l, sizeof(l), "%s/link.img", dir);
	snprintf(h, sizeof(h), "%s/hard.img", dir);
	f = fopen(a, "w");
	cr_assert_not_null(f);
	fclose(f);
	cr_assert_eq(symlink("a.img", l), 0);
	cr_assert_eq(link(a, h), 0);
	memset(d, 0, sizeof(d));
	snprintf(d[0].path, sizeof(d[0].path), "%s", a);
	snprintf(d[1].path, sizeof(d[1].path), "%s", a);
	cr_assert_eq(disk_opts_check_distinct(d, 2, err, sizeof(err)), -EINVAL);
	cr_assert_not_null(strstr(err, "is given twice (disks 1 and 2)"), "%s", err);
	cr_assert_null(strstr(err, "in use"), "%s", err);
	snprintf(d[1].path, sizeof(d[1].path), "%s", l);
	cr_assert_eq(disk_opts_check_distinct(d, 2, err, sizeof(err)), -EINVAL);
	cr_assert_not_null(strstr(err, "are the same file"), "%s", err);
	snprintf(d[1].path, sizeof(d[1].path), "%s", h);
	cr_assert_eq(disk_opts_check_distinct(d, 2, err, sizeof(err)), -EINVAL);
	/* read-only users may share; one writer may not */
	d[0].readonly = d[1].readonly = true;
	cr_assert_eq(disk_opts_check_distinct(d, 2, err, sizeof(err)), 0, "%s", err);
	d[1].readonly = false;
	d[1].snapshot = true;		/* snapshot=on only reads its file */
	cr_assert_eq(disk_opts_check_distinct(d, 2, err, sizeof(err)), 0, "%s", err);
	/* distinct files, and a missing one (its open reports it), pass */
	d[0].readonly = false;
	d[1].snapshot = false;
	snprintf(d[1].path, sizeof(d[1].path), "%s/other.img", dir);
	snprintf(d[2].path, sizeof(d[2].path), "%s/missing.img", dir);
	f = fopen(d[1].path, "w");
	cr_assert_not_null(f);
	fclose(f);
	cr_assert_eq(disk_opts_check_distinct(d, 3, err, sizeof(err)), 0, "%s", err);
	unlink(d[1].path);
	unlink(h);
	unlink(l);
	unlink(a);
	rmdir(dir);
}
