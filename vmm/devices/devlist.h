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
 *   save     write the device's state into the open section (the device is
 *            paused, or the VM not started).  0 or -errno (the writer's
 *            sticky error is enough: state_put_* need no checks).
 *   restore  read it back from the current section into a device created
 *            from the same configuration, before any vCPU runs.  Every
 *            value from the stream is hostile: check it (ranges, indices,
 *            guest addresses only through the accessor), and on bad input
 *            return -EINVAL via state_reader_fail() naming the field.
 *   state_version  the section version save writes and the newest restore
 *            reads (0: the device has no state of its own).
 *   destroy  unregister and free.
 *   counters report the device's counters (vm.counters, docs/control.md)
 *            with vm_counter_put(): queue -1 for the device as a whole, else
 *            the virtqueue (pair) index.  A counter another thread updates
 *            is read with a relaxed atomic load, never under the device's
 *            locks; the op changes nothing.
 *
 * Every op may be NULL (nothing to do).  Devices are paused in the order they
 * were added and resumed and destroyed in reverse order, so a device can
 * rely on what was created before it (the PCI bus before its functions).
 * Runs on the event-loop thread only: no lock.
 */
#ifndef VMM_DEVLIST_H
#define VMM_DEVLIST_H

#include <stdbool.h>
#include <stdint.h>

struct state_writer;
struct state_reader;
struct state_section_desc;
struct vm_counter_sink;

struct vm_dev_ops {
	int (*pause)(void *opaque);
	void (*resume)(void *opaque);
	void (*reset)(void *opaque);
	int (*save)(void *opaque, struct state_writer *w);
	int (*restore)(void *opaque, struct state_reader *r);
	void (*destroy)(void *opaque);
	void (*counters)(void *opaque, struct vm_counter_sink *s);
	unsigned short state_version;
};

/* Where a counters op reports: put(opaque, queue, name, value). */
struct vm_counter_sink {
	void (*put)(void *opaque, int queue, const char *name, uint64_t value);
	void *opaque;
};

static inline void vm_counter_put(struct vm_counter_sink *s, int queue, const char *name,
				  uint64_t value)
{
	s->put(s->opaque, queue, name, value);
}

struct vm_dev {
	const char *name;
	const struct vm_dev_ops *ops;
	void *opaque;
	bool paused;
};

#define VM_MAX_DEVICES	48
#define DEVICE_STATE_MAX	(1u << 20)	/* one device's section, at most */

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
/*
 * State (docs/snapshot.md): device i's state is section
 * STATE_SEC_DEVICE_FIRST + i, flagged required, payload = the device's
 * name (string) then what its save op writes.  A restore needs the same
 * device list, i.e. a VM built from the same configuration.
 */
/* Writes one section per device that has a save op. 0 or -errno. */
int vm_devices_save(struct vm_devices *l, struct state_writer *w);
/* Fills out[] with the device sections a reader should accept; returns the count. */
size_t vm_devices_known(const struct vm_devices *l, struct state_section_desc *out, size_t max);
/* r holds a section in the device range: restores that device. 0 or -errno (r says why). */
int vm_devices_restore_section(struct vm_devices *l, struct state_reader *r);

/*
 * Counters: for each device with a counters op, in list order, begin(opaque,
 * index in the list, name) and then the op's puts into s.
 */
void vm_devices_counters(struct vm_devices *l,
			 void (*begin)(void *opaque, unsigned int i, const char *name),
			 struct vm_counter_sink *s);

/* Destroys every device in reverse order and empties the list. */
void vm_devices_destroy(struct vm_devices *l);

#endif
