// SPDX-License-Identifier: MIT
/*
 * The VM's device list and its lifecycle walks (devlist.h).
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "devlist.h"
#include "log.h"
#include "state/stream.h"

int vm_devices_add(struct vm_devices *l, const char *name, const struct vm_dev_ops *ops,
		   void *opaque)
{
	if (l->nr >= VM_MAX_DEVICES)
		return -ENOSPC;
	l->dev[l->nr++] = (struct vm_dev){ .name = name, .ops = ops, .opaque = opaque };
	return 0;
}

struct vm_dev *vm_devices_find(struct vm_devices *l, const struct vm_dev_ops *ops,
			       unsigned int *from)
{
	unsigned int i;

	for (i = from ? *from : 0; i < l->nr; i++) {
		if (l->dev[i].ops == ops) {
			if (from)
				*from = i + 1;
			return &l->dev[i];
		}
	}
	if (from)
		*from = l->nr;
	return NULL;
}

static void resume_from(struct vm_devices *l, unsigned int n)
{
	while (n--) {
		struct vm_dev *d = &l->dev[n];

		if (!d->paused)
			continue;
		if (d->ops->resume)
			d->ops->resume(d->opaque);
		d->paused = false;
	}
}

int vm_devices_pause(struct vm_devices *l)
{
	unsigned int i;
	int ret;

	if (l->paused)
		return 0;
	for (i = 0; i < l->nr; i++) {
		struct vm_dev *d = &l->dev[i];

		ret = d->ops->pause ? d->ops->pause(d->opaque) : 0;
		if (ret) {
			log_err("cannot pause %s: %s", d->name, strerror(-ret));
			resume_from(l, i);
			return ret;
		}
		d->paused = true;
	}
	l->paused = true;
	return 0;
}

void vm_devices_resume(struct vm_devices *l)
{
	resume_from(l, l->nr);
	l->paused = false;
}

void vm_devices_reset(struct vm_devices *l)
{
	unsigned int i;

	for (i = 0; i < l->nr; i++)
		if (l->dev[i].ops->reset)
			l->dev[i].ops->reset(l->dev[i].opaque);
}

int vm_devices_save(struct vm_devices *l, struct state_writer *w)
{
	unsigned int i;
	int ret;

	for (i = 0; i < l->nr; i++) {
		struct vm_dev *d = &l->dev[i];

		if (!d->ops->save)
			continue;
		ret = state_begin(w, STATE_SEC_DEVICE_FIRST + i, d->ops->state_version,
				  STATE_SECF_REQUIRED);
		if (ret)
			return ret;
		state_put_string(w, d->name);
		ret = d->ops->save(d->opaque, w);
		if (ret)
			return ret;
		ret = state_end(w);
		if (ret)
			return ret;
	}
	return 0;
}

size_t vm_devices_known(const struct vm_devices *l, struct state_section_desc *out, size_t max)
{
	unsigned int i;
	size_t n = 0;

	for (i = 0; i < l->nr && n < max; i++) {
		const struct vm_dev *d = &l->dev[i];

		if (!d->ops->restore)
			continue;
		out[n++] = (struct state_section_desc){
			.type = STATE_SEC_DEVICE_FIRST + i,
			.name = d->name,
			.max_version = d->ops->state_version,
			.max_len = DEVICE_STATE_MAX,
		};
	}
	return n;
}

int vm_devices_restore_section(struct vm_devices *l, struct state_reader *r)
{
	char name[64];
	unsigned int i;
	struct vm_dev *d;
	int ret;

	if (r->type < STATE_SEC_DEVICE_FIRST || r->type - STATE_SEC_DEVICE_FIRST >= l->nr)
		return state_reader_fail(r, "no device %u in this VM", r->type - STATE_SEC_DEVICE_FIRST);
	i = r->type - STATE_SEC_DEVICE_FIRST;
	d = &l->dev[i];
	if (!d->ops->restore)
		return state_reader_fail(r, "device %u (%s) has no state to restore", i, d->name);
	ret = state_get_string(r, name, sizeof(name) - 1);
	if (ret)
		return ret;
	if (strcmp(name, d->name))
		return state_reader_fail(r, "device %u is %s here but %s in the saved VM", i,
					 d->name, name);
	ret = d->ops->restore(d->opaque, r);
	if (ret)
		return ret;
	return state_section_done(r);
}

void vm_devices_counters(struct vm_devices *l,
			 void (*begin)(void *opaque, unsigned int i, const char *name),
			 struct vm_counter_sink *s)
{
	unsigned int i;

	for (i = 0; i < l->nr; i++) {
		struct vm_dev *d = &l->dev[i];

		if (!d->ops->counters)
			continue;
		begin(s->opaque, i, d->name);
		d->ops->counters(d->opaque, s);
	}
}

void vm_devices_destroy(struct vm_devices *l)
{
	while (l->nr) {
		struct vm_dev *d = &l->dev[--l->nr];

		if (d->ops->destroy)
			d->ops->destroy(d->opaque);
	}
	l->paused = false;
}
