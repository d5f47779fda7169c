/* SPDX-License-Identifier: MIT */
/*
 * The VM's device list: every device with state registers one entry with a
 * const ops table, and the runtime drives their lifecycle as a whole
 * (docs/devices.md, "Lifecycle"):
 *
 *   pause    quiesce: finish the work in flight (e.g. block I/O the guest
 *            submitted), take no new work, touch guest memory no more.
 *            Runs with every vCPU parked.  0 or -errno.
 *   resume   undo pause.
 *   reset    back to the power-on state (device still registered).
 *   save / restore   the device's state, for the snapshot issue (NULL today).
 *   destroy  unregister and free.
 *
 * Every op may be NULL (nothing to do).  Devices are paused in the order they
 * were added and resumed and destroyed in reverse order, so a device can
 * rely on what was created before it (the PCI bus before its functions).
 * Runs on the event-loop thread only: no lock.
 */
#ifndef VMM_DEVLIST_H
#define VMM_DEVLIST_H

#include <stdbool.h>

struct vm_dev_ops {
	int (*pause)(void *opaque);
	void (*resume)(void *opaque);
	void (*reset)(void *opaque);
	int (*save)(void *opaque, void *state);
	int (*restore)(void *opaque, const void *state);
	void (*destroy)(void *opaque);
};

struct vm_dev {
	const char *name;
	const struct vm_dev_ops *ops;
	void *opaque;
	bool paused;
};

#define VM_MAX_DEVICES	48

struct vm_devices {
	struct vm_dev dev[VM_MAX_DEVICES];
	unsigned int nr;
	bool paused;
};

/* 0, or -ENOSPC when the list is full (the caller then destroys the device). */
int vm_devices_add(struct vm_devices *l, const char *name, const struct vm_dev_ops *ops,
		   void *opaque);
/* The first device added with these ops, at or after index *from (NULL: 0); NULL if none. */
struct vm_dev *vm_devices_find(struct vm_devices *l, const struct vm_dev_ops *ops,
			       unsigned int *from);
/* Pauses every device in order; on a failure resumes those already paused. 0 or -errno. */
int vm_devices_pause(struct vm_devices *l);
/* Resumes every paused device, in reverse order. */
void vm_devices_resume(struct vm_devices *l);
/* Resets every device, in order. */
void vm_devices_reset(struct vm_devices *l);
/* Destroys every device in reverse order and empties the list. */
void vm_devices_destroy(struct vm_devices *l);

#endif
