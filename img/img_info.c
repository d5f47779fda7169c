// SPDX-License-Identifier: MIT
/* vmm-img info [--output=json] [--backing-chain]: format, sizes, backing, qcow2 flags. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "img.h"
#include "block/qcow2.h"

static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			printf("\\%c", ch);
		else if (ch < 0x20)
			printf("\\u%04x", ch);
		else
			putchar(ch);
	}
	putchar('"');
}

static void human_size(uint64_t b, char *out, size_t len)
{
	static const char *u[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
	double v = (double)b;
	int i = 0;

	while (v >= 1024 && i < 5) {
		v /= 1024;
		i++;
	}
	if (i == 0)
		snprintf(out, len, "%llu B", (unsigned long long)b);
	else
		snprintf(out, len, "%.3g %s", v, u[i]);
}

static void print_one(struct blk_image *img, const char *path, bool json)
{
	struct qcow2 *q = strcmp(img->format_name, "qcow2") ? NULL : qcow2_of(img);
	struct stat st;
	uint64_t actual = stat(path, &st) == 0 ? (uint64_t)st.st_blocks * 512 : 0;
	char a[32], b[32], full[BLK_PATH_MAX];

	if (q && q->h.backing_file[0])
		qcow2_backing_path(path, q->h.backing_file, full, sizeof(full));
	if (json) {
		printf("{\n    \"virtual-size\": %llu,\n    \"filename\": ", (unsigned long long)img->size);
		json_str(path);
		printf(",\n    \"format\": \"%s\",\n    \"actual-size\": %llu", img->format_name,
		       (unsigned long long)actual);
		if (q) {
			printf(",\n    \"cluster-size\": %u,\n    \"dirty-flag\": %s", q->cluster_size,
			       q->h.incompat & QCOW2_INCOMPAT_DIRTY ? "true" : "false");
			if (q->h.backing_file[0]) {
				printf(",\n    \"backing-filename\": ");
				json_str(q->h.backing_file);
				printf(",\n    \"full-backing-filename\": ");
				json_str(full);
				if (q->h.backing_fmt[0]) {
					printf(",\n    \"backing-filename-format\": ");
					json_str(q->h.backing_fmt);
				}
			}
			printf(",\n    \"format-specific\": {\n        \"type\": \"qcow2\",\n"
			       "        \"data\": {\n            \"compat\": \"%s\",\n"
			       "            \"compression-type\": \"%s\",\n"
			       "            \"lazy-refcounts\": %s,\n            \"refcount-bits\": %u,\n"
			       "            \"corrupt\": %s,\n            \"extended-l2\": false\n"
			       "        }\n    }",
			       q->h.version == 3 ? "1.1" : "0.10",
			       q->h.compression_type ? "zstd" : "zlib",
			       q->h.compat & QCOW2_COMPAT_LAZY_REFCOUNTS ? "true" : "false",
			       q->refcount_bits,
			       q->h.incompat & QCOW2_INCOMPAT_CORRUPT ? "true" : "false");
		}
		printf("\n}");
		return;
	}
	human_size(img->size, a, sizeof(a));
	human_size(actual, b, sizeof(b));
	printf("image: %s\nfile format: %s\nvirtual size: %s (%llu bytes)\ndisk size: %s\n",
	       path, img->format_name, a, (unsigned long long)img->size, b);
	if (!q)
		return;
	printf("cluster_size: %u\n", q->cluster_size);
	if (q->h.backing_file[0]) {
		printf("backing file: %s", q->h.backing_file);
		if (strcmp(full, q->h.backing_file))
			printf(" (actual path: %s)", full);
		printf("\n");
		if (q->h.backing_fmt[0])
			printf("backing file format: %s\n", q->h.backing_fmt);
	}
	printf("Format specific information:\n    compat: %s\n    compression type: %s\n"
	       "    lazy refcounts: %s\n    refcount bits: %u\n    corrupt: %s\n"
	       "    extended l2: false\n",
	       q->h.version == 3 ? "1.1" : "0.10", q->h.compression_type ? "zstd" : "zlib",
	       q->h.compat & QCOW2_COMPAT_LAZY_REFCOUNTS ? "true" : "false", q->refcount_bits,
	       q->h.incompat & QCOW2_INCOMPAT_CORRUPT ? "true" : "false");
	if (q->h.incompat & QCOW2_INCOMPAT_DIRTY)
		printf("dirty flag: true\n");
}

int img_info(int argc, char **argv)
{
	const char *fmt = NULL;
	struct blk_image *img, *cur;
	bool json = false, chain = false;
	int c, idx = 0;
	static const struct option lo[] = {
		{ "output", required_argument, NULL, 'O' },
		{ "backing-chain", no_argument, NULL, 'B' }, { NULL, 0, NULL, 0 },
	};

	optind = 1;
	while ((c = getopt_long(argc, argv, "f:", lo, &idx)) != -1) {
		if (c == 'O' && (!strcmp(optarg, "json") || !strcmp(optarg, "human")))
			json = !strcmp(optarg, "json");
		else if (c == 'f')
			fmt = optarg;
		else if (c == 'B')
			chain = true;
		else {
			fprintf(stderr, "vmm-img info: usage: info [--output=json] [--backing-chain] FILE\n");
			return 1;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "vmm-img info: missing FILE\n");
		return 1;
	}
	if (img_open(argv[optind], fmt, true, &img) < 0)
		return 1;
	if (chain && json)
		printf("[");
	for (cur = img; cur; ) {
		struct qcow2 *q = strcmp(cur->format_name, "qcow2") ? NULL : qcow2_of(cur);

		print_one(cur, cur == img ? argv[optind] : cur->path, json);
		cur = chain && q ? q->backing : NULL;
		if (cur)
			printf(json ? ",\n" : "\n");
	}
	if (chain && json)
		printf("]");
	if (json)
		printf("\n");
	blk_image_close(img);
	return 0;
}
