// SPDX-License-Identifier: MIT
/*
 * --disk option parsing: "path=FILE[,key=value]...".
 *
 * Elements are separated by ','; ",," inside a value is a literal comma
 * (as in QEMU), so "path=a,,b.img" names the file "a,b.img".  A first
 * element without '=' is the path ("a.img,readonly=on").  Every key may be
 * given once; an unknown key, a bad value or a repeated key is refused with
 * one line naming the key, the value and what is accepted.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "block/block.h"

#define DISK_MAX_QUEUES	64

#define DISK_KEYS "path, format, readonly, cache, serial, snapshot, num-queues, engine"

enum disk_key {
	KEY_PATH,
	KEY_FORMAT,
	KEY_READONLY,
	KEY_CACHE,
	KEY_SERIAL,
	KEY_SNAPSHOT,
	KEY_NUM_QUEUES,
	KEY_ENGINE,
	KEY_COUNT,
};

static const char *const disk_key_names[KEY_COUNT] = {
	[KEY_PATH] = "path",
	[KEY_FORMAT] = "format",
	[KEY_READONLY] = "readonly",
	[KEY_CACHE] = "cache",
	[KEY_SERIAL] = "serial",
	[KEY_SNAPSHOT] = "snapshot",
	[KEY_NUM_QUEUES] = "num-queues",
	[KEY_ENGINE] = "engine",
};

struct disk_choice {
	const char *name;
	int value;
};

static const struct disk_choice format_choices[] = {
	{ "raw", DISK_FORMAT_RAW },
	{ "qcow2", DISK_FORMAT_QCOW2 },
	{ NULL, 0 },
};

static const struct disk_choice cache_choices[] = {
	{ "none", DISK_CACHE_NONE },
	{ "writeback", DISK_CACHE_WRITEBACK },
	{ "writethrough", DISK_CACHE_WRITETHROUGH },
	{ "unsafe", DISK_CACHE_UNSAFE },
	{ NULL, 0 },
};

static const struct disk_choice engine_choices[] = {
	{ "auto", BLK_ENGINE_AUTO },
	{ "io_uring", BLK_ENGINE_IO_URING },
	{ "threads", BLK_ENGINE_THREADS },
	{ NULL, 0 },
};

static const struct disk_choice onoff_choices[] = {
	{ "on", 1 },
	{ "off", 0 },
	{ NULL, 0 },
};

/* The parser's working state: the whole argument and where errors go. */
struct disk_parse {
	const char *arg;
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 2, 3)))
static int disk_err(const struct disk_parse *p, const char *fmt, ...)
{
	va_list ap;

	if (p->errlen) {
		va_start(ap, fmt);
		vsnprintf(p->err, p->errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static int bad_value(const struct disk_parse *p, const char *key, const char *val,
		     const char *accepted)
{
	return disk_err(p, "--disk: bad value '%s' for %s in '%s' (accepted: %s)",
			val, key, p->arg, accepted);
}

static int pick(const struct disk_parse *p, const char *key, const char *val,
		const struct disk_choice *choices, int *out)
{
	char accepted[128] = "";
	size_t used = 0;
	const struct disk_choice *c;

	for (c = choices; c->name; c++) {
		if (!strcmp(c->name, val)) {
			*out = c->value;
			return 0;
		}
	}
	for (c = choices; c->name; c++)
		used += snprintf(accepted + used, sizeof(accepted) - used, "%s%s",
				 c == choices ? "" : ", ", c->name);
	return bad_value(p, key, val, accepted);
}

static int parse_queues(const struct disk_parse *p, const char *val, unsigned int *out)
{
	unsigned long n = 0;
	const char *s;

	for (s = val; *s; s++) {
		if (*s < '0' || *s > '9' || n > DISK_MAX_QUEUES)
			goto bad;
		n = n * 10 + (unsigned long)(*s - '0');
	}
	if (n < 1 || n > DISK_MAX_QUEUES)
		goto bad;
	*out = (unsigned int)n;
	return 0;
bad:
	return bad_value(p, "num-queues", val, "a number from 1 to 64");
}

static int parse_serial(const struct disk_parse *p, const char *val, char *out)
{
	size_t len = strlen(val);
	size_t i;

	if (len > BLK_SERIAL_MAX)
		return bad_value(p, "serial", val, "at most 20 bytes");
	for (i = 0; i < len; i++) {
		if (val[i] < 0x20 || val[i] > 0x7e)
			return bad_value(p, "serial", val, "printable ASCII");
	}
	memcpy(out, val, len + 1);
	return 0;
}

static int set_key(const struct disk_parse *p, enum disk_key key, const char *val,
		   struct disk_opts *o)
{
	int v = 0;
	int ret;

	switch (key) {
	case KEY_PATH:
		if (strlen(val) >= BLK_PATH_MAX)
			return bad_value(p, "path", val, "a path shorter than 4096 bytes");
		strcpy(o->path, val);
		return 0;
	case KEY_FORMAT:
		ret = pick(p, "format", val, format_choices, &v);
		o->format = (enum disk_format)v;
		return ret;
	case KEY_READONLY:
		ret = pick(p, "readonly", val, onoff_choices, &v);
		o->readonly = v;
		return ret;
	case KEY_CACHE:
		ret = pick(p, "cache", val, cache_choices, &v);
		o->cache = (enum disk_cache)v;
		return ret;
	case KEY_SERIAL:
		return parse_serial(p, val, o->serial);
	case KEY_SNAPSHOT:
		ret = pick(p, "snapshot", val, onoff_choices, &v);
		o->snapshot = v;
		return ret;
	case KEY_NUM_QUEUES:
		return parse_queues(p, val, &o->num_queues);
	case KEY_ENGINE:
		ret = pick(p, "engine", val, engine_choices, &v);
		o->engine = (enum blk_engine_kind)v;
		return ret;
	case KEY_COUNT:
		break;
	}
	return -EINVAL;
}

/*
 * Copies one element starting at *pos into buf (",," -> ','), leaves *pos
 * after its separating comma.  buf holds at least strlen(*pos) + 1 bytes.
 * Returns true if another element follows (the element ended at a comma).
 */
static bool next_element(const char **pos, char *buf, size_t len)
{
	const char *s = *pos;
	size_t n = 0;

	for (;;) {
		if (*s == ',' && s[1] == ',') {
			s++;	/* an escaped comma: keep one */
		} else if (*s == ',' || !*s) {
			break;
		}
		if (n + 1 >= len)
			break;
		buf[n++] = *s++;
	}
	buf[n] = '\0';
	*pos = *s ? s + 1 : s;
	return *s == ',';
}

static int disk_opts_element(struct disk_parse *p, char *elem, bool first,
			     bool *seen, struct disk_opts *o)
{
	char *eq = strchr(elem, '=');
	const char *key = elem;
	const char *val;
	int k;

	if (!*elem)
		return disk_err(p, "--disk: empty option in '%s' (keys: " DISK_KEYS ")", p->arg);
	if (!eq) {
		if (!first)
			return disk_err(p, "--disk: option '%s' in '%s' is not key=value (keys: "
					DISK_KEYS ")", elem, p->arg);
		key = "path";
		val = elem;
	} else {
		*eq = '\0';
		val = eq + 1;
	}
	for (k = 0; k < KEY_COUNT; k++) {
		if (!strcmp(key, disk_key_names[k]))
			break;
	}
	if (k == KEY_COUNT)
		return disk_err(p, "--disk: unknown key '%s' in '%s' (keys: " DISK_KEYS ")",
				key, p->arg);
	if (seen[k])
		return disk_err(p, "--disk: duplicate key '%s' in '%s' (each key may be given once)",
				key, p->arg);
	seen[k] = true;
	if (!*val)
		return disk_err(p, "--disk: empty value for %s in '%s'", key, p->arg);
	return set_key(p, (enum disk_key)k, val, o);
}

int disk_opts_parse(const char *arg, struct disk_opts *out, char *err, size_t errlen)
{
	struct disk_parse p = { .arg = arg ? arg : "", .err = err, .errlen = errlen };
	bool seen[KEY_COUNT] = { false };
	const char *pos = p.arg;
	size_t size = strlen(p.arg) + 1;
	struct disk_opts o;
	unsigned int n;
	bool more;
	char *elem;
	int ret = 0;

	if (errlen)
		err[0] = '\0';
	if (!*pos)
		return disk_err(&p, "--disk: empty argument (expected path=FILE[,key=value...])");
	memset(&o, 0, sizeof(o));
	elem = malloc(size);	/* an element is at most the whole argument */
	if (!elem)
		return -ENOMEM;
	for (n = 0, more = true; more; n++) {
		more = next_element(&pos, elem, size);
		ret = disk_opts_element(&p, elem, n == 0, seen, &o);
		if (ret)
			goto out;
	}
	if (!seen[KEY_PATH]) {
		ret = disk_err(&p, "--disk: no path in '%s' (path=FILE is required)", p.arg);
		goto out;
	}
	*out = o;
out:
	free(elem);
	return ret;
}

static bool disk_writes(const struct disk_opts *d)
{
	return !d->readonly && !d->snapshot;	/* snapshot=on opens the file read-only */
}

/*
 * Two --disk options naming one file (a symlink or hard link counts: same
 * st_dev/st_ino) would make the second open fail on the first one's lock
 * with a misleading "in use by another process".  Read-only users may share.
 */
int disk_opts_check_distinct(const struct disk_opts *d, unsigned int n, char *err,
			     size_t errlen)
{
	for (unsigned int i = 1; i < n; i++) {
		struct stat a, b;

		if (stat(d[i].path, &b) < 0)
			continue;	/* the open says what is wrong with it */
		for (unsigned int j = 0; j < i; j++) {
			if (stat(d[j].path, &a) < 0 || a.st_dev != b.st_dev ||
			    a.st_ino != b.st_ino || (!disk_writes(&d[i]) && !disk_writes(&d[j])))
				continue;
			if (!strcmp(d[i].path, d[j].path))
				snprintf(err, errlen, "--disk: %s is given twice (disks %u and %u); "
					 "give each disk its own image, or make both readonly=on",
					 d[i].path, j + 1, i + 1);
			else
				snprintf(err, errlen, "--disk: %s and %s are the same file (disks %u "
					 "and %u; one is a link to the other); give each disk its "
					 "own image, or make both readonly=on", d[j].path, d[i].path,
					 j + 1, i + 1);
			return -EINVAL;
		}
	}
	return 0;
}
