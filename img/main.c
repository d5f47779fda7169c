// SPDX-License-Identifier: MIT
/*
 * vmm-img: create, inspect, check, convert and resize disk images (raw,
 * qcow2).  Exit codes follow qemu-img: 0 success, 1 error; check also
 * 2 (corruptions) and 3 (leaks only).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "img.h"
#include "options.h"
#include "version.h"
#include "block/qcow2.h"

/* One usage line per command: --help, CMD --help and the man page say the same. */
static const struct img_cmd {
	const char *name;
	int (*fn)(int, char **);
	const char *usage;
} img_cmds[] = {
	{ "create", img_create,
	  "create [-f raw|qcow2] [-b BACKING [-F FMT]] [-o cluster_size=N,compat=0.10|1.1] FILE [SIZE]" },
	{ "info", img_info, "info [-f FMT] [--output=human|json] [--backing-chain] FILE" },
	{ "check", img_check, "check [-q] [-f FMT] [--output=human|json] [-r leaks|all] FILE" },
	{ "convert", img_convert,
	  "convert [-p] [-c] [-t writeback|unsafe] [-f FMT] -O raw|qcow2 [-o cluster_size=N,compat=0.10|1.1] IN OUT" },
	{ "resize", img_resize, "resize [-f FMT] FILE [+]SIZE" },
	/* hidden: the crash-consistency test's helpers */
	{ "crash-writer", img_crash_writer, NULL },
	{ "crash-verify", img_crash_verify, NULL },
};

static void usage(FILE *f)
{
	fputs("usage: vmm-img COMMAND [OPTIONS]\n\n", f);
	for (size_t i = 0; i < sizeof(img_cmds) / sizeof(img_cmds[0]); i++)
		if (img_cmds[i].usage)
			fprintf(f, "  %s\n", img_cmds[i].usage);
	fputs("\nFMT is raw or qcow2 (probed when -f is not given; give -f raw for raw images\n"
	      "a guest has written).  SIZE takes K, M, G, T suffixes (powers of 1024) and is\n"
	      "rounded up to a multiple of 512.  Outputs are never an input or one of its\n"
	      "backing files, never in use by a running vmm or QEMU, and are built under a\n"
	      "temporary name.  Exit status: 0 success, 1 error; check: 2 corruptions,\n"
	      "3 leaked clusters only, 63 a format without checks (raw).  See vmm-img(1).\n", f);
}

int img_parse_fmt(const char *s, enum disk_format *f)
{
	if (!s) {
		*f = DISK_FORMAT_AUTO;
		return 0;
	}
	if (!strcmp(s, "raw"))
		*f = DISK_FORMAT_RAW;
	else if (!strcmp(s, "qcow2"))
		*f = DISK_FORMAT_QCOW2;
	else {
		fprintf(stderr, "vmm-img: unknown format '%s' (raw, qcow2)\n", s);
		return -EINVAL;
	}
	return 0;
}

int img_open(const char *path, const char *fmt, bool readonly, struct blk_image **out)
{
	enum disk_format f;
	char err[1024];
	bool guessed;
	int ret = img_parse_fmt(fmt, &f);

	if (ret < 0)
		return ret;
	if (f == DISK_FORMAT_AUTO) {
		/* probe here, so the warning names vmm-img's option */
		ret = blk_probe_file(path, &f, &guessed, err, sizeof(err));
		if (ret < 0) {
			fprintf(stderr, "vmm-img: %s\n", err);
			return ret;
		}
		if (guessed)
			fprintf(stderr, "vmm-img: warning: %s: no format given, probed as raw; "
				"probing is unsafe for an untrusted raw image (its guest can write "
				"a qcow2 header into it): add -f raw to turn probing off\n", path);
	}
	ret = blk_image_open(path, f, readonly, DISK_CACHE_WRITEBACK, out, err, sizeof(err));
	if (ret < 0)
		fprintf(stderr, "vmm-img: %s\n", err);
	return ret;
}

int img_parse_size(const char *s, uint64_t *out)
{
	if (!strcmp(s, "0")) {
		*out = 0;
		return 0;
	}
	if (parse_size(s, out) < 0) {
		fprintf(stderr, "vmm-img: invalid size '%s'\n", s);
		return -EINVAL;
	}
	return 0;
}

int img_parse_o(const char *o, uint32_t *cluster_size, int *version)
{
	char *dup = strdup(o), *save = NULL, *tok;
	int ret = 0;

	if (!dup)
		return -ENOMEM;
	for (tok = strtok_r(dup, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		uint64_t v;

		if (!strncmp(tok, "cluster_size=", 13)) {
			if (img_parse_size(tok + 13, &v) < 0) {
				ret = -EINVAL;
				break;
			}
			if (v < 512 || v > (2u << 20) || (v & (v - 1))) {
				fprintf(stderr, "vmm-img: cluster_size=%s: must be a power of two from "
					"512 to 2M\n", tok + 13);
				ret = -EINVAL;
				break;
			}
			*cluster_size = (uint32_t)v;
		} else if (!strcmp(tok, "compat=0.10") || !strcmp(tok, "compat=v2")) {
			*version = 2;
		} else if (!strcmp(tok, "compat=1.1") || !strcmp(tok, "compat=v3")) {
			*version = 3;
		} else {
			fprintf(stderr, "vmm-img: unsupported option '%s' (cluster_size=N, "
				"compat=0.10|1.1)\n", tok);
			ret = -EINVAL;
			break;
		}
	}
	free(dup);
	return ret;
}

int main(int argc, char **argv)
{
	if (!qcow2_format())		/* links the qcow2 format in */
		return 1;
	if (argc < 2) {
		usage(stderr);
		return 1;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("vmm-img %s\n", VMM_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof(img_cmds) / sizeof(img_cmds[0]); i++) {
		const struct img_cmd *c = &img_cmds[i];

		if (strcmp(argv[1], c->name))
			continue;
		for (int a = 2; c->usage && a < argc && strcmp(argv[a], "--"); a++) {
			if (!strcmp(argv[a], "--help") || !strcmp(argv[a], "-h")) {
				printf("usage: vmm-img %s\n", c->usage);
				return 0;
			}
		}
		return c->fn(argc - 1, argv + 1);
	}
	fprintf(stderr, "vmm-img: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 1;
}
