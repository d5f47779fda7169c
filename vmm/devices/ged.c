// SPDX-License-Identifier: MIT
/*
 * ACPI Generic Event Device: one byte of pending events at PORT_GED and an
 * edge-triggered interrupt (ged.h).  The guest's _EVT reads the byte, which
 * clears it; writes are ignored.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ged.h"
#include "log.h"
#include "mem/layout.h"
#include "state/stream.h"
#include "vm_port.h"

static void ged_read(void *opaque, uint64_t offset, void *data, unsigned int len)
{
	struct ged *g = opaque;

	memset(data, 0, len);
	pthread_mutex_lock(&g->lock);
	*(uint8_t *)data = g->pending;
	g->pending = 0;
	pthread_mutex_unlock(&g->lock);
}

static void ged_write(void *opaque, uint64_t offset, const void *data, unsigned int len)
{
}

static const struct bus_dev_ops ged_ops = {
	.read = ged_read,
	.write = ged_write,
};

int ged_raise(struct ged *g, uint8_t events)
{
	int ret;

	pthread_mutex_lock(&g->lock);
	g->pending |= events;
	pthread_mutex_unlock(&g->lock);
	ret = port_irq_line(g->port, GSI_GED, 1);
	if (!ret)
		ret = port_irq_line(g->port, GSI_GED, 0);
	if (ret)
		log_err("ACPI GED: cannot raise GSI %d: %s", GSI_GED, strerror(-ret));
	return ret;
}

int ged_create(const struct vm_port *port, struct ged **out)
{
	struct ged *g;
	int ret;

	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	g->port = port;
	pthread_mutex_init(&g->lock, NULL);
	ret = bus_register(port->pio_bus, PORT_GED, 1, &ged_ops, g, "acpi-ged");
	if (ret) {
		pthread_mutex_destroy(&g->lock);
		free(g);
		return ret;
	}
	*out = g;
	return 0;
}

void ged_destroy(struct ged *g)
{
	if (!g)
		return;
	bus_unregister(g->port->pio_bus, PORT_GED, g);
	pthread_mutex_destroy(&g->lock);
	free(g);
}

int ged_save(struct ged *g, struct state_writer *w)
{
	pthread_mutex_lock(&g->lock);
	state_put_u8(w, g->pending);
	pthread_mutex_unlock(&g->lock);
	return w->error;
}

int ged_restore(struct ged *g, struct state_reader *r)
{
	uint8_t pending;
	int ret = state_get_u8(r, &pending);

	if (ret)
		return ret;
	if (pending & ~GED_EVT_ALL)
		return state_reader_fail(r, "acpi-ged: pending events 0x%02x include unknown ones",
					 pending);
	/* the edge that announced them went to the irqchip, whose state is the VM's */
	pthread_mutex_lock(&g->lock);
	g->pending = pending;
	pthread_mutex_unlock(&g->lock);
	return 0;
}
