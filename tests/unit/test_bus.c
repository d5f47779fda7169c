// SPDX-License-Identifier: MIT
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "devices/bus.h"

struct probe {
	uint64_t last_off;
	uint8_t last_data[8];
	unsigned int last_len, reads, writes;
};

static void probe_read(void *opaque, uint64_t off, void *data, unsigned int len)
{
	struct probe *p = opaque;

	p->last_off = off;
	p->last_len = len;
	p->reads++;
	memset(data, 0x5a, len);
}

static void probe_write(void *opaque, uint64_t off, const void *data, unsigned int len)
{
	struct probe *p = opaque;

	p->last_off = off;
	p->last_len = len;
	p->writes++;
	memcpy(p->last_data, data, len);
}

static const struct bus_dev_ops probe_ops = { probe_read, probe_write };

Test(bus, offsets_not_addresses)
{
	struct bus bus;
	struct probe a = { 0 };
	uint32_t v = 0x11223344;

	cr_assert_eq(bus_init(&bus, "t"), 0);
	cr_assert_eq(bus_register(&bus, 0x3f8, 8, &probe_ops, &a, "a"), 0);
	cr_assert_eq(bus_access(&bus, 0x3fb, &v, 1, true), 0);
	cr_assert_eq(a.last_off, 3);
	cr_assert_eq(a.last_len, 1);
	cr_assert_eq(a.last_data[0], 0x44);
	cr_assert_eq(bus_access(&bus, 0x3f8, &v, 4, false), 0);
	cr_assert_eq(a.last_off, 0);
	cr_assert_eq(v, 0x5a5a5a5a);
	bus_destroy(&bus);
}

Test(bus, refuses_overlaps)
{
	struct bus bus;
	struct probe a = { 0 }, b = { 0 };

	bus_init(&bus, "t");
	cr_assert_eq(bus_register(&bus, 0x100, 0x10, &probe_ops, &a, "a"), 0);
	cr_assert_eq(bus_register(&bus, 0x10f, 1, &probe_ops, &b, "b"), -EEXIST);
	cr_assert_eq(bus_register(&bus, 0xf0, 0x11, &probe_ops, &b, "b"), -EEXIST);
	cr_assert_eq(bus_register(&bus, 0x0, 0x1000, &probe_ops, &b, "b"), -EEXIST);
	cr_assert_eq(bus_register(&bus, 0x104, 2, &probe_ops, &b, "b"), -EEXIST);
	cr_assert_eq(bus_register(&bus, 0x110, 0x10, &probe_ops, &b, "b"), 0);
	cr_assert_eq(bus_register(&bus, 0xf0, 0x10, &probe_ops, &b, "c"), 0);
	cr_assert_eq(bus_register(&bus, 0x200, 0, &probe_ops, &b, "zero"), -EINVAL);
	cr_assert_eq(bus_register(&bus, UINT64_MAX, 2, &probe_ops, &b, "wrap"), -EINVAL);
	cr_assert_eq(bus_register(&bus, UINT64_MAX, 1, &probe_ops, &b, "last"), 0);
	cr_assert_str_eq(bus_name_at(&bus, 0x115), "b");
	cr_assert_str_eq(bus_name_at(&bus, 0xff), "c");
	cr_assert_null(bus_name_at(&bus, 0x120));
	bus_destroy(&bus);
}

Test(bus, unmapped_and_straddling)
{
	struct bus bus;
	struct probe a = { 0 };
	uint32_t v = 0;

	bus_init(&bus, "t");
	bus_register(&bus, 0x60, 1, &probe_ops, &a, "a");
	cr_assert_eq(bus_access(&bus, 0x61, &v, 1, false), -ENOENT);
	cr_assert_eq(v & 0xff, 0xff);
	v = 0;
	cr_assert_eq(bus_access(&bus, 0x60, &v, 4, false), -EINVAL);
	cr_assert_eq(v, 0xffffffff);
	cr_assert_eq(bus_access(&bus, 0x60, &v, 2, true), -EINVAL);
	cr_assert_eq(a.reads + a.writes, 0);
	bus_destroy(&bus);
}

Test(bus, unregister_and_many)
{
	struct bus bus;
	struct probe p[100];
	unsigned int i;
	uint8_t b;

	memset(p, 0, sizeof(p));
	bus_init(&bus, "t");
	/* registered out of order: lookup must still find each */
	for (i = 0; i < 100; i++)
		cr_assert_eq(bus_register(&bus, ((i * 37) % 100) * 16, 16, &probe_ops,
					  &p[i], "p"), 0);
	for (i = 0; i < 100; i++) {
		cr_assert_eq(bus_access(&bus, ((i * 37) % 100) * 16 + 5, &b, 1, true), 0);
		cr_assert_eq(p[i].writes, 1);
		cr_assert_eq(p[i].last_off, 5);
	}
	cr_assert_eq(bus_unregister(&bus, 0x10, &p[0]), -ENOENT);	/* wrong owner */
	cr_assert_eq(bus_unregister(&bus, 0, &p[0]), 0);
	cr_assert_eq(bus_access(&bus, 5, &b, 1, true), -ENOENT);
	cr_assert_eq(bus_register(&bus, 0, 16, &probe_ops, &p[0], "again"), 0);
	bus_destroy(&bus);
}
