// SPDX-License-Identifier: MIT
/*
 * struct vm_config <-> JSON (config_json.h, docs/config.md).
 *
 * The shape follows Cloud Hypervisor's VmConfig where it has the same
 * thing (payload.kernel/initramfs/cmdline, cpus.boot_vcpus, memory.size,
 * disks[].path/readonly/serial/num_queues), so tools written for it need
 * little change.  Every object is checked for unknown keys, every value
 * for its type and range, with the limits the command line has.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "config_json.h"
#include "config_json_internal.h"

#define MIN_MEMORY	(16ULL << 20)
#define MAX_MEMORY	(1ULL << 40)
#define MAX_QUEUES	64

struct choice {
	const char *name;
	int value;
};

static const struct choice console_choices[] = {
	{ "stdio", CONSOLE_STDIO }, { "none", CONSOLE_NONE }, { "file", CONSOLE_FILE },
	{ NULL, 0 },
};

static const struct choice on_reboot_choices[] = {
	{ "exit", ON_REBOOT_EXIT }, { "restart", ON_REBOOT_RESTART }, { NULL, 0 },
};

static const struct choice format_choices[] = {
	{ "auto", DISK_FORMAT_AUTO }, { "raw", DISK_FORMAT_RAW }, { "qcow2", DISK_FORMAT_QCOW2 },
	{ NULL, 0 },
};

static const struct choice cache_choices[] = {
	{ "writeback", DISK_CACHE_WRITEBACK }, { "none", DISK_CACHE_NONE },
	{ "writethrough", DISK_CACHE_WRITETHROUGH }, { "unsafe", DISK_CACHE_UNSAFE },
	{ NULL, 0 },
};

static const struct choice engine_choices[] = {
	{ "auto", BLK_ENGINE_AUTO }, { "io_uring", BLK_ENGINE_IO_URING },
	{ "threads", BLK_ENGINE_THREADS },
	{ NULL, 0 },
};

int cj_fail(struct reader *r, const char *fmt, ...)
{
	va_list ap;

	if (r->errlen && !r->err[0]) {
		va_start(ap, fmt);
		vsnprintf(r->err, r->errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* Every key of obj must be one of keys (NULL-terminated). */
int cj_check_keys(struct reader *r, struct json_object *obj, const char *where,
		      const char *const *keys)
{
	const char *const *k;

	json_object_object_foreach(obj, key, val) {
		(void)val;
		for (k = keys; *k; k++) {
			if (!strcmp(*k, key))
				break;
		}
		if (!*k)
			return cj_fail(r, "config: unknown key '%s' in %s", key, where);
	}
	return 0;
}

int cj_get_object(struct reader *r, struct json_object *parent, const char *key,
		      const char *where, struct json_object **out)
{
	*out = NULL;
	if (!json_object_object_get_ex(parent, key, out))
		return 0;
	if (!json_object_is_type(*out, json_type_object))
		return cj_fail(r, "config: %s%s must be an object", where, key);
	return 0;
}

/* A string copied into the arena; *out untouched when absent. */
static int get_string(struct reader *r, struct json_object *obj, const char *key,
		      const char *where, const char **out, size_t max)
{
	struct json_object *v;
	const char *s;
	size_t len;

	if (!json_object_object_get_ex(obj, key, &v))
		return 0;
	if (!json_object_is_type(v, json_type_string))
		return cj_fail(r, "config: %s%s must be a string", where, key);
	s = json_object_get_string(v);
	len = (size_t)json_object_get_string_len(v);
	if (strlen(s) != len)
		return cj_fail(r, "config: %s%s contains a NUL character", where, key);
	if (!len)
		return cj_fail(r, "config: %s%s is empty", where, key);
	if (len >= max)
		return cj_fail(r, "config: %s%s is longer than %zu bytes", where, key, max - 1);
	if (r->size - r->used < len + 1)
		return cj_fail(r, "config: %s%s: out of string space", where, key);
	memcpy(r->arena + r->used, s, len + 1);
	*out = r->arena + r->used;
	r->used += len + 1;
	return 0;
}

int cj_get_bool(struct reader *r, struct json_object *obj, const char *key,
		    const char *where, bool *out)
{
	struct json_object *v;

	if (!json_object_object_get_ex(obj, key, &v))
		return 0;
	if (!json_object_is_type(v, json_type_boolean))
		return cj_fail(r, "config: %s%s must be true or false", where, key);
	*out = json_object_get_boolean(v);
	return 0;
}

int cj_get_uint(struct reader *r, struct json_object *obj, const char *key,
		    const char *where, uint64_t min, uint64_t max, uint64_t *out)
{
	struct json_object *v;
	int64_t n;

	if (!json_object_object_get_ex(obj, key, &v))
		return 0;
	if (!json_object_is_type(v, json_type_int))
		return cj_fail(r, "config: %s%s must be an integer", where, key);
	errno = 0;
	n = json_object_get_int64(v);
	if (errno || n < 0 || (uint64_t)n < min || (uint64_t)n > max)
		return cj_fail(r, "config: %s%s must be from %llu to %llu", where, key,
			    (unsigned long long)min, (unsigned long long)max);
	*out = (uint64_t)n;
	return 0;
}

static int get_choice(struct reader *r, struct json_object *obj, const char *key,
		      const char *where, const struct choice *choices, int *out)
{
	const struct choice *c;
	struct json_object *v;
	const char *s;

	if (!json_object_object_get_ex(obj, key, &v))
		return 0;
	if (!json_object_is_type(v, json_type_string))
		return cj_fail(r, "config: %s%s must be a string", where, key);
	s = json_object_get_string(v);
	for (c = choices; c->name; c++) {
		if (!strcmp(c->name, s)) {
			*out = c->value;
			return 0;
		}
	}
	return cj_fail(r, "config: %s%s: '%.64s' is not one of the accepted values (docs/config.md)",
		    where, key, s);
}

static const char *choice_name(const struct choice *choices, int value)
{
	const struct choice *c;

	for (c = choices; c->name; c++) {
		if (c->value == value)
			return c->name;
	}
	return choices[0].name;
}

static int read_payload(struct reader *r, struct json_object *root, struct vm_config *cfg)
{
	static const char *const keys[] = {
		"kernel", "initramfs", "cmdline", "flat", "guest_unpack", NULL,
	};
	struct json_object *p;
	int ret;

	ret = cj_get_object(r, root, "payload", "", &p);
	if (ret)
		return ret;
	if (!p)
		return cj_fail(r, "config: no payload (payload.kernel is required)");
	ret = cj_check_keys(r, p, "payload", keys);
	ret = ret ? ret : get_string(r, p, "kernel", "payload.", &cfg->kernel, 4096);
	ret = ret ? ret : get_string(r, p, "initramfs", "payload.", &cfg->initrd, 4096);
	ret = ret ? ret : get_string(r, p, "cmdline", "payload.", &cfg->cmdline, 65536);
	ret = ret ? ret : cj_get_bool(r, p, "flat", "payload.", &cfg->flat);
	ret = ret ? ret : cj_get_bool(r, p, "guest_unpack", "payload.", &cfg->guest_unpack);
	if (ret)
		return ret;
	if (!cfg->kernel)
		return cj_fail(r, "config: payload.kernel is required");
	if (cfg->flat && cfg->initrd)
		return cj_fail(r, "config: payload.initramfs cannot be used with payload.flat");
	return 0;
}

static int read_sizes(struct reader *r, struct json_object *root, struct vm_config *cfg)
{
	static const char *const cpu_keys[] = { "boot_vcpus", NULL };
	static const char *const mem_keys[] = { "size", NULL };
	struct json_object *o;
	uint64_t v;
	int ret;

	ret = cj_get_object(r, root, "cpus", "", &o);
	if (!ret && o) {
		v = cfg->cpus;
		ret = cj_check_keys(r, o, "cpus", cpu_keys);
		ret = ret ? ret : cj_get_uint(r, o, "boot_vcpus", "cpus.", 1, VMM_MAX_CPUS, &v);
		cfg->cpus = (unsigned int)v;
	}
	if (ret)
		return ret;
	ret = cj_get_object(r, root, "memory", "", &o);
	if (!ret && o) {
		ret = cj_check_keys(r, o, "memory", mem_keys);
		ret = ret ? ret : cj_get_uint(r, o, "size", "memory.", MIN_MEMORY, MAX_MEMORY,
					   &cfg->memory);
	}
	return ret;
}

static int read_console(struct reader *r, struct json_object *root, struct vm_config *cfg)
{
	static const char *const keys[] = { "mode", "file", NULL };
	struct json_object *o;
	int mode = CONSOLE_STDIO;
	int ret;

	ret = cj_get_object(r, root, "console", "", &o);
	if (ret || !o)
		return ret;
	ret = cj_check_keys(r, o, "console", keys);
	ret = ret ? ret : get_choice(r, o, "mode", "console.", console_choices, &mode);
	ret = ret ? ret : get_string(r, o, "file", "console.", &cfg->console_path, 4096);
	if (ret)
		return ret;
	cfg->console = (enum console_kind)mode;
	if (cfg->console == CONSOLE_FILE && !cfg->console_path)
		return cj_fail(r, "config: console.mode \"file\" needs console.file");
	if (cfg->console != CONSOLE_FILE && cfg->console_path)
		return cj_fail(r, "config: console.file is only for console.mode \"file\"");
	return 0;
}

static int read_disk(struct reader *r, struct json_object *d, unsigned int i,
		     struct disk_opts *o)
{
	static const char *const keys[] = {
		"path", "format", "readonly", "cache", "serial", "snapshot", "num_queues",
		"engine", NULL,
	};
	const char *path = NULL, *serial = NULL;
	int format = 0, cache = 0, engine = 0;
	char where[32];
	uint64_t nq = 0;
	size_t k;
	int ret;

	snprintf(where, sizeof(where), "disks[%u].", i);
	if (!json_object_is_type(d, json_type_object))
		return cj_fail(r, "config: disks[%u] must be an object", i);
	memset(o, 0, sizeof(*o));
	ret = cj_check_keys(r, d, "a disk", keys);
	ret = ret ? ret : get_string(r, d, "path", where, &path, BLK_PATH_MAX);
	ret = ret ? ret : get_choice(r, d, "format", where, format_choices, &format);
	ret = ret ? ret : cj_get_bool(r, d, "readonly", where, &o->readonly);
	ret = ret ? ret : get_choice(r, d, "cache", where, cache_choices, &cache);
	ret = ret ? ret : get_string(r, d, "serial", where, &serial, BLK_SERIAL_MAX + 1);
	ret = ret ? ret : cj_get_bool(r, d, "snapshot", where, &o->snapshot);
	ret = ret ? ret : cj_get_uint(r, d, "num_queues", where, 1, MAX_QUEUES, &nq);
	ret = ret ? ret : get_choice(r, d, "engine", where, engine_choices, &engine);
	if (ret)
		return ret;
	if (!path)
		return cj_fail(r, "config: %spath is required", where);
	strcpy(o->path, path);		/* < BLK_PATH_MAX: checked above */
	if (serial) {
		for (k = 0; serial[k]; k++) {
			if (serial[k] < 0x20 || serial[k] > 0x7e)
				return cj_fail(r, "config: %sserial must be printable ASCII", where);
		}
		strcpy(o->serial, serial);
	}
	o->format = (enum disk_format)format;
	o->cache = (enum disk_cache)cache;
	o->engine = (enum blk_engine_kind)engine;
	o->num_queues = (unsigned int)nq;
	return 0;
}

static int read_disks(struct reader *r, struct json_object *root, struct vm_config *cfg)
{
	struct json_object *a;
	size_t i, n;
	int ret;

	if (!json_object_object_get_ex(root, "disks", &a))
		return 0;
	if (!json_object_is_type(a, json_type_array))
		return cj_fail(r, "config: disks must be an array");
	n = json_object_array_length(a);
	if (n > VMM_MAX_DISKS)
		return cj_fail(r, "config: at most %d disks", VMM_MAX_DISKS);
	for (i = 0; i < n; i++) {
		ret = read_disk(r, json_object_array_get_idx(a, i), (unsigned int)i,
				&cfg->disks[i]);
		if (ret)
			return ret;
	}
	cfg->nr_disks = (unsigned int)n;
	return 0;
}

/* vmm's own keys: what a guest reboot does, QEMU's pc-testdev */
static int read_platform(struct reader *r, struct json_object *root, struct vm_config *cfg)
{
	int on_reboot = (int)cfg->on_reboot;
	int ret;

	ret = get_choice(r, root, "on_reboot", "", on_reboot_choices, &on_reboot);
	ret = ret ? ret : cj_get_bool(r, root, "testdev", "", &cfg->testdev);
	cfg->on_reboot = (enum on_reboot)on_reboot;
	return ret;
}

static void set_defaults(struct vm_config *cfg)
{
	cfg->kernel = cfg->initrd = cfg->cmdline = cfg->console_path = NULL;
	cfg->flat = cfg->guest_unpack = cfg->testdev = false;
	cfg->on_reboot = ON_REBOOT_EXIT;
	cfg->cpus = VMM_DEFAULT_CPUS;
	cfg->memory = VMM_DEFAULT_MEMORY;
	cfg->console = CONSOLE_STDIO;
	memset(cfg->disks, 0, sizeof(cfg->disks));
	cfg->nr_disks = 0;
	memset(cfg->nets, 0, sizeof(cfg->nets));
	cfg->nr_nets = 0;
}

int config_json_parse(const char *text, size_t len, struct vm_config *cfg,
		      char **arena, char *err, size_t errlen)
{
	static const char *const keys[] = {
		"payload", "cpus", "memory", "console", "disks", "nets", "on_reboot", "testdev",
		NULL,
	};
	struct reader r = { .err = err, .errlen = errlen };
	struct json_object *root = NULL;
	struct json_tokener *tok;
	struct vm_config c = *cfg;
	int ret;

	*arena = NULL;
	if (errlen)
		err[0] = '\0';
	if (len > CONFIG_JSON_MAX)
		return cj_fail(&r, "config: larger than %u bytes", CONFIG_JSON_MAX);
	tok = json_tokener_new();
	if (!tok)
		return -ENOMEM;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	root = json_tokener_parse_ex(tok, text, (int)len);
	if (!root || json_tokener_get_error(tok) != json_tokener_success) {
		ret = cj_fail(&r, "config: not valid JSON: %s at byte %zu",
			   root ? "trailing data" :
			   json_tokener_get_error(tok) == json_tokener_continue ? "it ends early" :
			    json_tokener_error_desc(json_tokener_get_error(tok)),
			   json_tokener_get_parse_end(tok));
		goto out;
	}
	if (json_tokener_get_parse_end(tok) < len) {
		ret = cj_fail(&r, "config: trailing data after the JSON object at byte %zu",
			   json_tokener_get_parse_end(tok));
		goto out;
	}
	if (!json_object_is_type(root, json_type_object)) {
		ret = cj_fail(&r, "config: the configuration must be a JSON object");
		goto out;
	}
	/* decoded strings are never longer than their JSON text */
	r.size = len + 1;
	r.arena = malloc(r.size);
	if (!r.arena) {
		ret = -ENOMEM;
		goto out;
	}
	set_defaults(&c);
	ret = cj_check_keys(&r, root, "the configuration", keys);
	ret = ret ? ret : read_payload(&r, root, &c);
	ret = ret ? ret : read_sizes(&r, root, &c);
	ret = ret ? ret : read_console(&r, root, &c);
	ret = ret ? ret : read_disks(&r, root, &c);
	ret = ret ? ret : config_json_read_nets(&r, root, &c);
	ret = ret ? ret : read_platform(&r, root, &c);
	if (ret) {
		free(r.arena);
		goto out;
	}
	if (!c.cmdline)
		c.cmdline = VMM_DEFAULT_CMDLINE;
	*cfg = c;
	*arena = r.arena;
out:
	json_object_put(root);
	json_tokener_free(tok);
	return ret;
}

int config_json_load(const char *path, struct vm_config *cfg, char **arena,
		     char *err, size_t errlen)
{
	struct stat st;
	size_t got = 0;
	char *buf;
	ssize_t n;
	int fd, ret;

	*arena = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		ret = -errno;
		snprintf(err, errlen, "--config: cannot open %s: %s", path, strerror(-ret));
		if (fd >= 0)
			close(fd);
		return ret;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > CONFIG_JSON_MAX) {
		snprintf(err, errlen, "--config: %s is not a regular file of at most %u bytes",
			 path, CONFIG_JSON_MAX);
		close(fd);
		return -EINVAL;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	while (got < (size_t)st.st_size) {
		n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n <= 0) {
			ret = n < 0 ? -errno : -EIO;
			snprintf(err, errlen, "--config: cannot read %s: %s", path, strerror(-ret));
			goto out;
		}
		got += (size_t)n;
	}
	ret = config_json_parse(buf, got, cfg, arena, err, errlen);
	if (ret == -EINVAL && errlen) {
		char msg[512];

		snprintf(msg, sizeof(msg), "%s", err);
		snprintf(err, errlen, "%s: %s", path, msg);
	}
out:
	free(buf);
	close(fd);
	return ret;
}

static int add(struct json_object *obj, const char *key, struct json_object *val)
{
	if (!val)
		return -ENOMEM;
	if (json_object_object_add(obj, key, val)) {
		json_object_put(val);
		return -ENOMEM;
	}
	return 0;
}

static int add_string(struct json_object *obj, const char *key, const char *s)
{
	return s ? add(obj, key, json_object_new_string(s)) : 0;
}

static struct json_object *disk_object(const struct disk_opts *d)
{
	struct json_object *o = json_object_new_object();
	int ret;

	if (!o)
		return NULL;
	ret = add_string(o, "path", d->path);
	ret |= add_string(o, "format", choice_name(format_choices, d->format));
	ret |= add(o, "readonly", json_object_new_boolean(d->readonly));
	ret |= add_string(o, "cache", choice_name(cache_choices, d->cache));
	if (d->serial[0])
		ret |= add_string(o, "serial", d->serial);
	ret |= add(o, "snapshot", json_object_new_boolean(d->snapshot));
	if (d->num_queues)
		ret |= add(o, "num_queues", json_object_new_int64(d->num_queues));
	ret |= add_string(o, "engine", choice_name(engine_choices, d->engine));
	if (ret) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

struct json_object *config_json_object(const struct vm_config *cfg)
{
	struct json_object *root = json_object_new_object();
	struct json_object *p = json_object_new_object();
	struct json_object *c = json_object_new_object();
	struct json_object *m = json_object_new_object();
	struct json_object *con = json_object_new_object();
	struct json_object *disks = json_object_new_array();
	unsigned int i;
	int ret = 0;

	if (!root || !p || !c || !m || !con || !disks)
		goto err;
	ret |= add_string(p, "kernel", cfg->kernel);
	ret |= add_string(p, "initramfs", cfg->initrd);
	ret |= add_string(p, "cmdline", cfg->cmdline ? cfg->cmdline : VMM_DEFAULT_CMDLINE);
	ret |= add(p, "flat", json_object_new_boolean(cfg->flat));
	ret |= add(p, "guest_unpack", json_object_new_boolean(cfg->guest_unpack));
	ret |= add(c, "boot_vcpus", json_object_new_int64(cfg->cpus));
	ret |= add(m, "size", json_object_new_int64((int64_t)cfg->memory));
	ret |= add_string(con, "mode", choice_name(console_choices, cfg->console));
	if (cfg->console == CONSOLE_FILE)
		ret |= add_string(con, "file", cfg->console_path);
	for (i = 0; i < cfg->nr_disks && !ret; i++) {
		struct json_object *d = disk_object(&cfg->disks[i]);

		if (!d || json_object_array_add(disks, d)) {
			json_object_put(d);
			ret = -ENOMEM;
		}
	}
	ret |= add(root, "payload", p);
	p = NULL;
	ret |= add(root, "cpus", c);
	c = NULL;
	ret |= add(root, "memory", m);
	m = NULL;
	ret |= add(root, "console", con);
	con = NULL;
	ret |= add(root, "disks", disks);
	disks = NULL;
	if (!ret && cfg->nr_nets)
		ret |= add(root, "nets", config_json_nets_object(cfg));
	ret |= add_string(root, "on_reboot", choice_name(on_reboot_choices, cfg->on_reboot));
	ret |= add(root, "testdev", json_object_new_boolean(cfg->testdev));
	if (!ret)
		return root;
err:
	json_object_put(root);
	json_object_put(p);
	json_object_put(c);
	json_object_put(m);
	json_object_put(con);
	json_object_put(disks);
	return NULL;
}

char *config_json_format(const struct vm_config *cfg, bool pretty)
{
	struct json_object *o = config_json_object(cfg);
	char *s;

	if (!o)
		return NULL;
	s = strdup(json_object_to_json_string_ext(o, (pretty ? JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED :
			JSON_C_TO_STRING_PLAIN) | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return s;
}
