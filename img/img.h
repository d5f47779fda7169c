/* SPDX-License-Identifier: MIT */
/* vmm-img: subcommands (each returns the process exit code). */
#ifndef VMM_IMG_H
#define VMM_IMG_H

#include <stdbool.h>
#include <stdint.h>

#include "block/block.h"

int img_create(int argc, char **argv);
int img_info(int argc, char **argv);
int img_check(int argc, char **argv);
int img_convert(int argc, char **argv);
int img_resize(int argc, char **argv);
int img_crash_writer(int argc, char **argv);
int img_crash_verify(int argc, char **argv);

int img_parse_fmt(const char *s, enum disk_format *f);
int img_open(const char *path, const char *fmt, bool readonly, struct blk_image **out);
int img_parse_size(const char *s, uint64_t *out);
int img_parse_o(const char *o, uint32_t *cluster_size, int *version);

#endif
