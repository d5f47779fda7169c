// SPDX-License-Identifier: MIT
/*
 * pc-testdev, QEMU's ISA test device (the port map is in testdev.h).  The
 * scratch register and memory live under the device's lock; the IRQ lines
 * are KVM_IRQ_LINE calls, which KVM serializes.  Every offset and width
 * comes from the guest: the bus hands us offsets inside our ranges, and
 * each handler checks the width it takes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "devices/bus.h"
#include "devices/testdev.h"
#include "log.h"
#include "state/stream.h"
#include "devices/vm_port.h"

#define IOPORT_LEN	4

static void ioport_read(void *opaque, uint64_t offset, void *data, unsigned int len)
{
	struct testdev *t = opaque;
	uint8_t *out = data;
	unsigned int i;

	memset(data, 0, len);
	pthread_mutex_lock(&t->lock);
	for (i = 0; i < len && offset + i < IOPORT_LEN; i++)
		out[i] = (uint8_t)(t->ioport_data >> (8 * (offset + i)));
	pthread_mutex_unlock(&t->lock);
}

static void ioport_write(void *opaque, uint64_t offset, const void *data, unsigned int len)
{
	struct testdev *t = opaque;
	const uint8_t *in = data;
	unsigned int i, shift;

	pthread_mutex_lock(&t->lock);
	for (i = 0; i < len && offset + i < IOPORT_LEN; i++) {
		shift = 8 * (unsigned int)(offset + i);
		t->ioport_data = (t->ioport_data & ~(0xffu << shift)) | (uint32_t)in[i] << shift;
	}
	pthread_mutex_unlock(&t->lock);
}

static const struct bus_dev_ops ioport_ops = {
	.read = ioport_read,
	.write = ioport_write,
};

static void zero_read(void *opaque, uint64_t offset, void *data, unsigned int len)
{
	memset(data, 0, len);
}

static void flush_write(void *opaque, uint64_t offset, const void *data, unsigned int len)
{
	uint32_t gpa;

	if (offset || len != 4)
		return;
	memcpy(&gpa, data, 4);
	log_debug("pc-testdev: flush-page request for guest page 0x%x ignored", gpa & ~0xfffu);
}

static const struct bus_dev_ops flush_ops = {
	.read = zero_read,
	.write = flush_write,
};

static void irq_write(void *opaque, uint64_t offset, const void *data, unsigned int len)
{
	struct testdev *t = opaque;
	int ret;

	if (len != 1 || offset >= TESTDEV_IRQ_LINES)
		return;
	ret = port_irq_line(t->port, (unsigned int)offset, *(const uint8_t *)data != 0);
	if (!ret && *(const uint8_t *)data)
		__atomic_fetch_or(&t->irq_levels, 1u << offset, __ATOMIC_RELAXED);
	else if (!ret)
		__atomic_fetch_and(&t->irq_levels, ~(1u << offset), __ATOMIC_RELAXED);
	if (ret)
		log_debug("pc-testdev: setting GSI %u failed: %s", (unsigned int)offset, strerror(-ret));
}

static const struct bus_dev_ops irq_ops = {
	.read = zero_read,
	.write = irq_write,
};

static void iomem_read(void *opaque, uint64_t offset, void *data, unsigned int len)
{
	struct testdev *t = opaque;

	memset(data, 0, len);
	if (offset >= TESTDEV_IOMEM_LEN || len > TESTDEV_IOMEM_LEN - offset)
		return;
	pthread_mutex_lock(&t->lock);
	memcpy(data, t->iomem + offset, len);
	pthread_mutex_unlock(&t->lock);
}

static void iomem_write(void *opaque, uint64_t offset, const void *data, unsigned int len)
{
	struct testdev *t = opaque;

	if (offset >= TESTDEV_IOMEM_LEN || len > TESTDEV_IOMEM_LEN - offset)
		return;
	pthread_mutex_lock(&t->lock);
	memcpy(t->iomem + offset, data, len);
	pthread_mutex_unlock(&t->lock);
}

static const struct bus_dev_ops iomem_ops = {
	.read = iomem_read,
	.write = iomem_write,
};

static void unregister_all(const struct vm_port *p, struct testdev *t)
{
	bus_unregister(p->pio_bus, TESTDEV_PORT_IOPORT, t);
	bus_unregister(p->pio_bus, TESTDEV_PORT_FLUSH, t);
	bus_unregister(p->pio_bus, TESTDEV_PORT_IOPORT_BYTE, t);
	bus_unregister(p->pio_bus, TESTDEV_PORT_IRQ, t);
	bus_unregister(p->mmio_bus, TESTDEV_IOMEM, t);
}

int testdev_create(const struct vm_port *p, struct testdev **out)
{
	struct testdev *t;
	int ret;

	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->port = p;
	pthread_mutex_init(&t->lock, NULL);
	ret = bus_register(p->pio_bus, TESTDEV_PORT_IOPORT, IOPORT_LEN, &ioport_ops, t,
			   "pc-testdev ioport");
	if (!ret)
		ret = bus_register(p->pio_bus, TESTDEV_PORT_FLUSH, 4, &flush_ops, t,
				   "pc-testdev flush-page");
	if (!ret)
		ret = bus_register(p->pio_bus, TESTDEV_PORT_IOPORT_BYTE, IOPORT_LEN, &ioport_ops, t,
				   "pc-testdev ioport-byte");
	if (!ret)
		ret = bus_register(p->pio_bus, TESTDEV_PORT_IRQ, TESTDEV_IRQ_LINES, &irq_ops, t,
				   "pc-testdev irq-line");
	if (!ret)
		ret = bus_register(p->mmio_bus, TESTDEV_IOMEM, TESTDEV_IOMEM_LEN, &iomem_ops, t,
				   "pc-testdev iomem");
	if (ret) {
		log_err("pc-testdev: cannot register its ports/memory (0xe0-0xeb, 0x2000-0x2017, 0xff000000): %s",
			strerror(-ret));
		goto err;
	}
	*out = t;
	return 0;
err:
	unregister_all(p, t);
	pthread_mutex_destroy(&t->lock);
	free(t);
	return ret;
}

void testdev_destroy(struct testdev *t)
{
	if (!t)
		return;
	unregister_all(t->port, t);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

/* ---- state: scratch register, scratch memory, the IRQ lines it holds up ---- */

int testdev_save(struct testdev *t, struct state_writer *w)
{
	pthread_mutex_lock(&t->lock);
	state_put_u32(w, t->ioport_data);
	state_put_u32(w, __atomic_load_n(&t->irq_levels, __ATOMIC_RELAXED));
	state_put_bytes(w, t->iomem, TESTDEV_IOMEM_LEN);
	pthread_mutex_unlock(&t->lock);
	return w->error;
}

int testdev_restore(struct testdev *t, struct state_reader *r)
{
	uint32_t data, levels;
	unsigned int i;
	int ret;

	ret = state_get_u32(r, &data);
	if (!ret)
		ret = state_get_u32(r, &levels);
	if (ret)
		return ret;
	if (levels >> TESTDEV_IRQ_LINES)
		return state_reader_fail(r, "pc-testdev: IRQ line levels 0x%x: only %u lines", levels,
					 TESTDEV_IRQ_LINES);
	if (state_remaining(r) < TESTDEV_IOMEM_LEN)
		return state_reader_fail(r, "pc-testdev: scratch memory cut short (%zu of %u bytes)",
					 state_remaining(r), TESTDEV_IOMEM_LEN);
	pthread_mutex_lock(&t->lock);
	ret = state_get_bytes(r, t->iomem, TESTDEV_IOMEM_LEN);
	t->ioport_data = data;
	pthread_mutex_unlock(&t->lock);
	if (ret)
		return ret;
	/* lines the guest held up stay up (KVM's line levels are not in the irqchip state) */
	for (i = 0; i < TESTDEV_IRQ_LINES; i++)
		if (levels & (1u << i))
			port_irq_line(t->port, i, 1);
	__atomic_store_n(&t->irq_levels, levels, __ATOMIC_RELAXED);
	return 0;
}
