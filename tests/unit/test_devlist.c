// SPDX-License-Identifier: MIT
/*
 * The device list (vmm/devices/devlist.c): pause in order, resume and
 * destroy in reverse, unwinding a failed pause, NULL ops, a full list.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "devices/devlist.h"

static char trace[256];

struct tdev {
	char name;
	int pause_ret;
};

static void note(char op, const struct tdev *d)
{
	size_t n = strlen(trace);

	if (n + 3 < sizeof(trace)) {
		trace[n] = op;
		trace[n + 1] = d->name;
		trace[n + 2] = ' ';
		trace[n + 3] = '\0';
	}
}

static int t_pause(void *o) { note('p', o); return ((struct tdev *)o)->pause_ret; }
static void t_resume(void *o) { note('r', o); }
static void t_reset(void *o) { note('x', o); }
static void t_destroy(void *o) { note('d', o); }

static void t_counters(void *o, struct vm_counter_sink *s)
{
	vm_counter_put(s, -1, "all", 7);
	vm_counter_put(s, 1, "q1", (uint64_t)((struct tdev *)o)->name);
}

static const struct vm_dev_ops full_ops = {
	.pause = t_pause, .resume = t_resume, .reset = t_reset, .destroy = t_destroy,
	.counters = t_counters,
};
static const struct vm_dev_ops bare_ops = { 0 };

static struct vm_devices l;
static struct tdev a = { 'a', 0 }, b = { 'b', 0 }, c = { 'c', 0 };

static void setup(void)
{
	memset(&l, 0, sizeof(l));
	trace[0] = '\0';
	a.pause_ret = b.pause_ret = c.pause_ret = 0;
	cr_assert_eq(vm_devices_add(&l, "a", &full_ops, &a), 0);
	cr_assert_eq(vm_devices_add(&l, "none", &bare_ops, NULL), 0);
	cr_assert_eq(vm_devices_add(&l, "b", &full_ops, &b), 0);
	cr_assert_eq(vm_devices_add(&l, "c", &full_ops, &c), 0);
}

TestSuite(devlist, .init = setup);

Test(devlist, pause_in_order_resume_in_reverse)
{
	cr_assert_eq(vm_devices_pause(&l), 0);
	cr_assert(l.paused);
	cr_assert_eq(vm_devices_pause(&l), 0, "pausing twice is a no-op");
	vm_devices_resume(&l);
	cr_assert_not(l.paused);
	cr_assert_str_eq(trace, "pa pb pc rc rb ra ");
}

Test(devlist, failed_pause_resumes_the_paused_ones)
{
	b.pause_ret = -EIO;
	cr_assert_eq(vm_devices_pause(&l), -EIO);
	cr_assert_not(l.paused);
	cr_assert_str_eq(trace, "pa pb ra ");
	trace[0] = '\0';
	vm_devices_resume(&l);
	cr_assert_str_eq(trace, "", "nothing is paused after the unwind");
}

Test(devlist, reset_in_order_destroy_in_reverse_and_empty)
{
	vm_devices_reset(&l);
	vm_devices_destroy(&l);
	cr_assert_str_eq(trace, "xa xb xc dc db da ");
	cr_assert_eq(l.nr, 0);
}

Test(devlist, find_by_ops)
{
	unsigned int from = 0;
	struct vm_dev *d;

	d = vm_devices_find(&l, &full_ops, &from);
	cr_assert_eq(d->opaque, &a);
	d = vm_devices_find(&l, &full_ops, &from);
	cr_assert_eq(d->opaque, &b);
	d = vm_devices_find(&l, &full_ops, &from);
	cr_assert_eq(d->opaque, &c);
	cr_assert_null(vm_devices_find(&l, &full_ops, &from));
	cr_assert_eq(vm_devices_find(&l, &bare_ops, NULL)->opaque, NULL);
}

Test(devlist, full_list_refuses)
{
	unsigned int i;

	for (i = l.nr; i < VM_MAX_DEVICES; i++)
		cr_assert_eq(vm_devices_add(&l, "x", &bare_ops, NULL), 0);
	cr_assert_eq(vm_devices_add(&l, "x", &bare_ops, NULL), -ENOSPC);
}

static void c_begin(void *opaque, unsigned int i, const char *name)
{
	char *t = opaque;

	snprintf(t + strlen(t), 64, "[%u %s]", i, name);
}

static void c_put(void *opaque, int queue, const char *name, uint64_t value)
{
	char *t = opaque;

	snprintf(t + strlen(t), 64, "%d:%s=%llu ", queue, name, (unsigned long long)value);
}

Test(devlist, counters_of_devices_with_the_op)
{
	char t[512] = "";
	struct vm_counter_sink s = { .put = c_put, .opaque = t };

	vm_devices_counters(&l, c_begin, &s);
	cr_assert_str_eq(t, "[0 a]-1:all=7 1:q1=97 [2 b]-1:all=7 1:q1=98 [3 c]-1:all=7 1:q1=99 ");
}
