// SPDX-License-Identifier: MIT
/*
 * vmm-img check [-q] [-f FMT] [--output=human|json] [-r leaks|all] FILE
 *
 * Output, JSON fields and exit status as qemu-img check: 0 clean, 1 the
 * check could not be done (or hit internal errors), 2 corruptions, 3 leaks
 * only, 63 the format has no checks.  The image is opened in the checker's
 * tolerant mode (tables past the end of the file are findings, not open
 * errors); with -r it is locked for writing first.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "img.h"
#include "block/qcow2.h"

static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void print_json(const char *path, const struct qcow2_check_result *r)
{
	printf("{\n    \"image-end-offset\": %llu,\n", (unsigned long long)r->image_end_offset);
	printf("    \"total-clusters\": %llu,\n", (unsigned long long)r->total);
	if (r->corruptions)
		printf("    \"corruptions\": %llu,\n", (unsigned long long)r->corruptions);
	if (r->leaks)
		printf("    \"leaks\": %llu,\n", (unsigned long long)r->leaks);
	if (r->errors_fixed)
		printf("    \"corruptions-fixed\": %llu,\n", (unsigned long long)r->errors_fixed);
	if (r->leaks_fixed)
		printf("    \"leaks-fixed\": %llu,\n", (unsigned long long)r->leaks_fixed);
	printf("    \"check-errors\": %llu,\n", (unsigned long long)r->check_errors);
	if (r->allocated)
		printf("    \"allocated-clusters\": %llu,\n", (unsigned long long)r->allocated);
	if (r->fragmented)
		printf("    \"fragmented-clusters\": %llu,\n", (unsigned long long)r->fragmented);
	if (r->compressed)
		printf("    \"compressed-clusters\": %llu,\n", (unsigned long long)r->compressed);
	printf("    \"filename\": ");
	json_str(path);
	printf(",\n    \"format\": \"qcow2\"\n}\n");
}

static void print_human(const struct qcow2_check_result *r)
{
	if (!r->corruptions && !r->leaks && !r->check_errors)
		printf("No errors were found on the image.\n");
	if (r->corruptions)
		printf("\n%llu errors were found on the image.\n"
		       "Data may be corrupted, or further writes to the image may corrupt it.\n",
		       (unsigned long long)r->corruptions);
	if (r->leaks)
		printf("\n%llu leaked clusters were found on the image.\n"
		       "This means waste of disk space, but no harm to data.\n",
		       (unsigned long long)r->leaks);
	if (r->check_errors)
		printf("\n%llu internal errors have occurred during the check.\n",
		       (unsigned long long)r->check_errors);
	if (r->total && r->allocated)
		printf("%llu/%llu = %.2f%% allocated, %.2f%% fragmented, %.2f%% compressed clusters\n",
		       (unsigned long long)r->allocated, (unsigned long long)r->total,
		       100.0 * (double)r->allocated / (double)r->total,
		       100.0 * (double)r->fragmented / (double)r->allocated,
		       100.0 * (double)r->compressed / (double)r->allocated);
	if (r->image_end_offset)
		printf("Image end offset: %llu\n", (unsigned long long)r->image_end_offset);
}

/* The whole-file OFD lock vmm takes: shared to check, exclusive to repair. */
static int lock_image(const char *path, bool write)
{
	struct flock fl = { .l_type = write ? F_WRLCK : F_RDLCK, .l_whence = SEEK_SET };
	int fd = open(path, (write ? O_RDWR : O_RDONLY) | O_CLOEXEC);

	if (fd < 0) {
		fprintf(stderr, "vmm-img: %s: cannot open: %s\n", path, strerror(errno));
		return -1;
	}
	if (fcntl(fd, F_OFD_SETLK, &fl) < 0 && (errno == EAGAIN || errno == EACCES)) {
		fprintf(stderr, "vmm-img: %s is in use by another process (locked); stop it "
			"before %s the image\n", path, write ? "repairing" : "checking");
		close(fd);
		return -1;
	}
	return fd;
}

/* 0: qcow2; 63: a format without checks; 1: error (reported). */
static int pick_format(const char *path, const char *fmt)
{
	uint8_t m[4] = { 0 };
	int fd;

	if (fmt && strcmp(fmt, "qcow2")) {
		if (!strcmp(fmt, "raw")) {
			fprintf(stderr, "vmm-img: %s: format raw does not support checks\n", path);
			return 63;
		}
		fprintf(stderr, "vmm-img: unknown format '%s' (raw, qcow2)\n", fmt);
		return 1;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "vmm-img: %s: cannot open: %s\n", path, strerror(errno));
		return 1;
	}
	if (pread(fd, m, 4, 0) < 0)
		m[0] = 0;
	close(fd);
	if (qcow2_be32(m) == QCOW2_MAGIC || fmt)
		return 0;	/* a bad header is the opener's to name */
	fprintf(stderr, "vmm-img: %s: format raw does not support checks\n", path);
	return 63;
}

int img_check(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "output", required_argument, NULL, 'O' },
		{ "repair", required_argument, NULL, 'r' },
		{ "format", required_argument, NULL, 'f' },
		{ "quiet", no_argument, NULL, 'q' },
		{ NULL, 0, NULL, 0 },
	};
	struct qcow2_check_result r, r2;
	struct blk_image *img;
	const char *fmt = NULL, *path;
	bool json = false, quiet = false;
	int repair = 0, c, ret, lock_fd;
	char err[1024];

	optind = 1;
	while ((c = getopt_long(argc, argv, "r:f:q", lo, NULL)) != -1) {
		if (c == 'r' && !strcmp(optarg, "leaks"))
			repair = QCOW2_FIX_LEAKS;
		else if (c == 'r' && !strcmp(optarg, "all"))
			repair = QCOW2_FIX_LEAKS | QCOW2_FIX_ERRORS;
		else if (c == 'f')
			fmt = optarg;
		else if (c == 'q')
			quiet = true;
		else if (c == 'O' && (!strcmp(optarg, "json") || !strcmp(optarg, "human")))
			json = !strcmp(optarg, "json");
		else {
			fprintf(stderr, "vmm-img check: usage: check [-q] [-f FMT] "
				"[--output=human|json] [-r leaks|all] FILE\n");
			return 1;
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "vmm-img check: %s\n", optind >= argc ? "missing FILE" :
			"one FILE only");
		return 1;
	}
	path = argv[optind];
	ret = pick_format(path, fmt);
	if (ret)
		return ret;
	lock_fd = lock_image(path, repair);
	if (lock_fd < 0)
		return 1;
	if (qcow2_open_check(path, !repair, &img, err, sizeof(err)) < 0) {
		fprintf(stderr, "vmm-img: %s\n", err);
		close(lock_fd);
		return 1;
	}
	ret = qcow2_check(img, repair | (quiet ? QCOW2_CHECK_QUIET : 0), &r, err, sizeof(err));
	if (ret == 0 && (r.leaks_fixed || r.errors_fixed)) {
		if (!json && !quiet)
			printf("The following inconsistencies were found and repaired:\n\n"
			       "    %llu leaked clusters\n    %llu corruptions\n\n"
			       "Double checking the fixed image now...\n",
			       (unsigned long long)r.leaks_fixed, (unsigned long long)r.errors_fixed);
		ret = qcow2_check(img, quiet ? QCOW2_CHECK_QUIET : 0, &r2, err, sizeof(err));
		r2.leaks_fixed = r.leaks_fixed;
		r2.errors_fixed = r.errors_fixed;
		r = r2;
	}
	img->ops->close(img);
	close(lock_fd);
	if (ret < 0) {
		fprintf(stderr, "vmm-img: %s\n", err);
		return 1;
	}
	if (json)
		print_json(path, &r);
	else if (!quiet)
		print_human(&r);
	if (r.check_errors) {
		fprintf(stderr, "vmm-img: %s: check failed: %llu internal errors\n", path,
			(unsigned long long)r.check_errors);
		return 1;
	}
	if (r.corruptions)
		return 2;
	return r.leaks ? 3 : 0;
}
