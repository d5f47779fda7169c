// SPDX-License-Identifier: MIT
/* vmm-img info [--output=json] [--backing-chain]: format, sizes, backing, qcow2 flags. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

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

/* The internal snapshots' table entries; NULL and *n = 0 when none (or unreadable). */
static struct qcow2_snapshot *read_snapshots(struct qcow2 *q, const char *path, uint32_t *n)
{
	uint32_t want = q->h.nb_snapshots < QCOW2_MAX_SNAPSHOTS ? q->h.nb_snapshots :
			QCOW2_MAX_SNAPSHOTS;
	struct qcow2_snapshot *s = want ? calloc(want, sizeof(*s)) : NULL;
	uint8_t *buf = want ? malloc(QCOW2_SNAPSHOT_MAX) : NULL;
	uint64_t off = q->h.snapshots_offset;

	*n = 0;
	if (!s || !buf)
		goto out;
	while (*n < want) {
		/* the fixed part says how long the entry is: read no more than that */
		ssize_t got = qcow2_pread(q, buf, QCOW2_SNAPSHOT_FIXED, off);
		size_t used, len = QCOW2_SNAPSHOT_FIXED;

		if (got == QCOW2_SNAPSHOT_FIXED) {
			len += (size_t)(buf[12] << 8 | buf[13]) + (size_t)(buf[14] << 8 | buf[15]);
			len += qcow2_be32(buf + 36) <= 1024 ? qcow2_be32(buf + 36) : 0;
			got = qcow2_pread(q, buf, len, off);
		}

		if (got < 0 || qcow2_snapshot_parse(buf, (size_t)got, &s[*n], &used) < 0) {
			fprintf(stderr, "vmm-img: warning: %s: qcow2 snapshot table entry %u at "
				"0x%llx is invalid; listing stops there\n", path, *n,
				(unsigned long long)off);
			break;
		}
		off += used;
		(*n)++;
	}
out:
	free(buf);
	if (!*n) {
		free(s);
		s = NULL;
	}
	return s;
}

static void print_snapshots(const struct qcow2_snapshot *s, uint32_t n, bool json)
{
	if (json) {
		printf(",\n    \"snapshots\": [");
		for (uint32_t i = 0; i < n; i++) {
			printf("%s\n        {\n            \"id\": ", i ? "," : "");
			json_str(s[i].id);
			printf(",\n            \"name\": ");
			json_str(s[i].name);
			printf(",\n            \"vm-state-size\": %llu,\n            \"date-sec\": %u,"
			       "\n            \"date-nsec\": %u,\n            \"vm-clock-sec\": %llu,"
			       "\n            \"vm-clock-nsec\": %llu",
			       (unsigned long long)s[i].vm_state_size, s[i].date_sec, s[i].date_nsec,
			       (unsigned long long)(s[i].vm_clock_nsec / 1000000000ull),
			       (unsigned long long)(s[i].vm_clock_nsec % 1000000000ull));
			if (s[i].icount != UINT64_MAX)
				printf(",\n            \"icount\": %llu", (unsigned long long)s[i].icount);
			printf("\n        }");
		}
		printf("\n    ]");
		return;
	}
	/* qemu-img's columns */
	printf("Snapshot list:\n%-9s %-16s %8s%20s%13s%11s\n", "ID", "TAG", "VM SIZE", "DATE",
	       "VM CLOCK", "ICOUNT");
	for (uint32_t i = 0; i < n; i++) {
		uint64_t ms = s[i].vm_clock_nsec / 1000000ull;
		time_t t = (time_t)s[i].date_sec;
		char vs[32], date[32] = "", clk[48], ic[24] = "";
		struct tm tm;

		human_size(s[i].vm_state_size, vs, sizeof(vs));
		if (localtime_r(&t, &tm))
			strftime(date, sizeof(date), "%Y-%m-%d %H:%M:%S", &tm);
		snprintf(clk, sizeof(clk), "%02llu:%02llu:%02llu.%03llu",
			 (unsigned long long)(ms / 3600000), (unsigned long long)(ms / 60000 % 60),
			 (unsigned long long)(ms / 1000 % 60), (unsigned long long)(ms % 1000));
		if (s[i].icount != UINT64_MAX)
			snprintf(ic, sizeof(ic), "%llu", (unsigned long long)s[i].icount);
		printf("%-9s %-16s %8s%20s%13s%11s\n", s[i].id, s[i].name, vs, date, clk, ic);
	}
}

static void print_one(struct blk_image *img, const char *path, bool json)
{
	struct qcow2 *q = strcmp(img->format_name, "qcow2") ? NULL : qcow2_of(img);
	struct stat st;
	uint64_t actual = stat(path, &st) == 0 ? (uint64_t)st.st_blocks * 512 : 0;
	char a[32], b[32], full[BLK_PATH_MAX];
	uint32_t nsnap = 0;
	struct qcow2_snapshot *snap = q ? read_snapshots(q, path, &nsnap) : NULL;

	if (q && q->h.backing_file[0])
		qcow2_backing_path(path, q->h.backing_file, full, sizeof(full));
	if (json) {
		printf("{\n    \"virtual-size\": %llu,\n    \"filename\": ", (unsigned long long)img->size);
		json_str(path);
		printf(",\n    \"format\": \"%s\",\n    \"actual-size\": %llu", img->format_name,
		       (unsigned long long)actual);
		if (q) {
			if (nsnap)
				print_snapshots(snap, nsnap, true);
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
		free(snap);
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
	if (nsnap)
		print_snapshots(snap, nsnap, false);
	free(snap);
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
			fprintf(stderr, "vmm-img info: usage: info [-f FMT] [--output=human|json] "
				"[--backing-chain] FILE\n");
			return 1;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "vmm-img info: missing FILE\n");
		return 1;
	}
	if (optind + 1 < argc) {
		fprintf(stderr, "vmm-img info: unexpected argument '%s' (usage: info [-f FMT] "
			"[--output=human|json] [--backing-chain] FILE)\n", argv[optind + 1]);
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
