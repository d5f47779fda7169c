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
#include "block/qcow2.h"

static const char usage[] =
	"usage: vmm-img COMMAND [OPTIONS]\n"
	"\n"
	"  create [-f raw|qcow2] [-b BACKING [-F FMT]] [-o cluster_size=N,compat=0.10|1.1] FILE [SIZE]\n"
	"  info [--output=human|json] [--backing-chain] FILE\n"
	"  check [-r leaks] FILE      exit 0 clean, 2 corruptions, 3 leaks only, 1 error\n"
	"  convert [-p] [-c] [-t writeback|unsafe] [-f FMT] -O FMT [-o cluster_size=N] IN OUT\n"
	"  resize FILE [+]SIZE        grow a raw or qcow2 image\n"
	"\n"
	"SIZE takes K, M, G, T suffixes (powers of 1024).  See vmm-img(1).\n";

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
	int ret = img_parse_fmt(fmt, &f);

	if (ret < 0)
		return ret;
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

		if (!strncmp(tok, "cluster_size=", 13) && img_parse_size(tok + 13, &v) == 0 &&
		    v <= (2u << 20)) {
			*cluster_size = (uint32_t)v;
		} else if (!strcmp(tok, "compat=0.10") || !strcmp(tok, "compat=v2")) {
			*version = 2;
		} else if (!strcmp(tok, "compat=1.1") || !strcmp(tok, "compat=v3")) {
			*version = 3;
		} else {
			fprintf(stderr, "vmm-img: unsupported option '%s'\n", tok);
			ret = -EINVAL;
			break;
		}
	}
	free(dup);
	return ret;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} cmds[] = {
		{ "create", img_create }, { "info", img_info }, { "check", img_check },
		{ "convert", img_convert }, { "resize", img_resize },
		{ "crash-writer", img_crash_writer }, { "crash-verify", img_crash_verify },
	};

	if (!qcow2_format())		/* links the qcow2 format in */
		return 1;
	if (argc < 2) {
		fputs(usage, stderr);
		return 1;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		fputs(usage, stdout);
		return 0;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[1], cmds[i].name))
			return cmds[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "vmm-img: unknown command '%s'\n%s", argv[1], usage);
	return 1;
}
