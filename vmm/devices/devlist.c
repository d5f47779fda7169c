// SPDX-License-Identifier: MIT
/*
 * The VM's device list and its lifecycle walks (devlist.h).
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "devlist.h"
#include "log.h"

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

void vm_devices_destroy(struct vm_devices *l)
{
	while (l->nr) {
		struct vm_dev *d = &l->dev[--l->nr];

		if (d->ops->destroy)
			d->ops->destroy(d->opaque);
	}
	l->paused = false;
}
