// SPDX-License-Identifier: MIT
/*
 * vm.counters' VM part (docs/control.md): the exits of each vCPU by reason
 * and what each device's counters op reports, as JSON.  Runs on the event
 * loop (vm_api.c posts it there); the counters the vCPU and I/O threads
 * update are read with relaxed atomic loads, nothing else is touched.
 */
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "cpu/vcpu.h"
#include "devices/devlist.h"
#include "vm.h"
#include "vm_api.h"

struct counters_ctx {
	struct json_object *devices;	/* array */
	struct json_object *dev;	/* the device being reported */
	bool failed;
};

static void kvm_stat_put(void *opaque, const char *name, uint64_t v)
{
	json_object_object_add(opaque, name, json_object_new_int64((int64_t)v));
}

/* "kvm": KVM's own counters (in-kernel exits too), when the vCPU has a stats fd */
static void add_kvm_stats(struct vcpu *vcpu, struct json_object *v)
{
	int fd = __atomic_load_n(&vcpu->kvm_stats_fd, __ATOMIC_ACQUIRE);
	struct json_object *k;

	if (fd < 0 || !(k = json_object_new_object()))
		return;
	if (vcpu_kvm_stats_each(fd, kvm_stat_put, k) || !json_object_object_length(k)) {
		json_object_put(k);
		return;
	}
	json_object_object_add(v, "kvm", k);
}

static struct json_object *vcpus_json(struct vm *vm)
{
	struct json_object *arr = json_object_new_array();
	unsigned int i, k;

	for (i = 0; arr && i < vm->nr_vcpus; i++) {
		struct json_object *v = json_object_new_object();
		struct json_object *ex = json_object_new_object();
		uint64_t total = 0;

		if (!v || !ex) {
			json_object_put(v);
			json_object_put(ex);
			json_object_put(arr);
			return NULL;
		}
		for (k = 0; k < VCPU_EXIT_NR; k++) {
			uint64_t n = __atomic_load_n(&vm->vcpus[i].exits[k], __ATOMIC_RELAXED);

			total += n;
			json_object_object_add(ex, vcpu_exit_kind_name(k),
					       json_object_new_int64((int64_t)n));
		}
		json_object_object_add(v, "id", json_object_new_int64(i));
		json_object_object_add(v, "exits", json_object_new_int64((int64_t)total));
		json_object_object_add(v, "exits_by_reason", ex);
		add_kvm_stats(&vm->vcpus[i], v);
		json_object_array_add(arr, v);
	}
	return arr;
}

static void dev_begin(void *opaque, unsigned int i, const char *name)
{
	struct counters_ctx *c = opaque;
	struct json_object *d = json_object_new_object();
	size_t k, n = json_object_array_length(c->devices), same = 0;
	char id[80];

	for (k = 0; k < n; k++) {
		struct json_object *v, *e = json_object_array_get_idx(c->devices, k);

		if (json_object_object_get_ex(e, "name", &v) &&
		    !strcmp(json_object_get_string(v), name))
			same++;
	}
	snprintf(id, sizeof(id), "%s%zu", name, same);
	c->dev = d;
	if (!d || json_object_array_add(c->devices, d)) {
		json_object_put(d);
		c->dev = NULL;
		c->failed = true;
		return;
	}
	json_object_object_add(d, "id", json_object_new_string(id));
	json_object_object_add(d, "name", json_object_new_string(name));
	json_object_object_add(d, "index", json_object_new_int64(i));
	json_object_object_add(d, "counters", json_object_new_object());
	json_object_object_add(d, "queues", json_object_new_array());
}

static void dev_put(void *opaque, int queue, const char *name, uint64_t value)
{
	struct counters_ctx *c = opaque;
	struct json_object *where, *q;

	if (!c->dev)
		return;
	if (queue < 0) {
		if (!json_object_object_get_ex(c->dev, "counters", &where))
			return;
	} else {
		if (!json_object_object_get_ex(c->dev, "queues", &q) || queue > 1024)
			return;
		while (json_object_array_length(q) <= (size_t)queue) {
			struct json_object *e = json_object_new_object();

			if (!e || json_object_array_add(q, e)) {
				json_object_put(e);
				c->failed = true;
				return;
			}
		}
		where = json_object_array_get_idx(q, (size_t)queue);
	}
	json_object_object_add(where, name, json_object_new_int64((int64_t)value));
}

struct json_object *vm_counters_json(struct vm *vm)
{
	struct counters_ctx c = { .devices = json_object_new_array() };
	struct vm_counter_sink sink = { .put = dev_put, .opaque = &c };
	struct json_object *o = json_object_new_object();
	struct json_object *vcpus = vcpus_json(vm);

	if (!o || !vcpus || !c.devices) {
		json_object_put(o);
		json_object_put(vcpus);
		json_object_put(c.devices);
		return NULL;
	}
	vm_devices_counters(&vm->devices, dev_begin, &sink);
	json_object_object_add(o, "vcpus", vcpus);
	json_object_object_add(o, "devices", c.devices);
	if (c.failed) {
		json_object_put(o);
		return NULL;
	}
	return o;
}
