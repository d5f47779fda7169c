// SPDX-License-Identifier: MIT
/*
 * Hardware-reduced ACPI power management (the FADT's SLEEP_CONTROL_REG and
 * SLEEP_STATUS_REG), the reset control register at 0xcf9 and the POST code
 * port 0x80.
 *
 *   sleep control (byte 0): SLP_EN (bit 5) with SLP_TYP (bits 4:2) = 5, the
 *     DSDT's \_S5, powers off.  Other sleep types are not supported: the
 *     "machine" wakes at once (WAK_STS set) so a guest waiting for it
 *     carries on.
 *   sleep status (byte 1): WAK_STS (bit 7), write 1 to clear.
 *   0xcf9: a write with bit 2 (reset CPU) set resets the VM.  On a PC this
 *     port sits inside the PCI host bridge's 0xcf8-0xcff; when the bridge
 *     is already registered it handles 0xcf9 itself and we do not.
 *   0x80: writes ignored, reads 0.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "exitcode.h"
#include "legacy.h"
#include "log.h"
#include "mem/layout.h"
#include "state/stream.h"
#include "vm_port.h"

#define SLP_EN			0x20
#define SLP_TYP(v)		(((v) >> 2) & 7)
#define SLP_TYP_S5		5
#define WAK_STS			0x80
#define RESET_CPU		0x04

static void acpi_pm_sleep_ctl(struct acpi_pm *pm, uint8_t v)
{
	pm->sleep_ctl = v & ~SLP_EN;	/* SLP_EN is write-only */
	if (!(v & SLP_EN))
		return;
	if (SLP_TYP(v) == SLP_TYP_S5) {
		log_info("guest powered off (ACPI S5)");
		port_request_exit(pm->port, VM_EXIT_POWEROFF, VMM_EXIT_OK);
		return;
	}
	log_info("guest asked for ACPI sleep type %u: not supported, waking at once",
		 SLP_TYP(v));
	pm->sleep_sts |= WAK_STS;
}

static void acpi_pm_read(void *opaque, uint64_t offset, void *data, unsigned int len)
{
	struct acpi_pm *pm = opaque;
	uint8_t *out = data;
	unsigned int i;

	memset(data, 0, len);
	pthread_mutex_lock(&pm->lock);
	for (i = 0; i < len && offset + i < 2; i++)
		out[i] = offset + i == 0 ? pm->sleep_ctl : pm->sleep_sts;
	pthread_mutex_unlock(&pm->lock);
}

static void acpi_pm_write(void *opaque, uint64_t offset, const void *data, unsigned int len)
{
	struct acpi_pm *pm = opaque;
	const uint8_t *in = data;
	unsigned int i;

	pthread_mutex_lock(&pm->lock);
	for (i = 0; i < len && offset + i < 2; i++) {
		if (offset + i == 0)
			acpi_pm_sleep_ctl(pm, in[i]);
		else
			pm->sleep_sts &= ~in[i];	/* write 1 to clear */
	}
	pthread_mutex_unlock(&pm->lock);
}

static const struct bus_dev_ops acpi_pm_ops = {
	.read = acpi_pm_read,
	.write = acpi_pm_write,
};

static void reset_read(void *opaque, uint64_t offset, void *data, unsigned int len)
{
	memset(data, 0, len);
}

static void reset_write(void *opaque, uint64_t offset, const void *data, unsigned int len)
{
	struct acpi_pm *pm = opaque;

	if (*(const uint8_t *)data & RESET_CPU) {
		log_info("guest reset through port 0xcf9");
		port_request_exit(pm->port, VM_EXIT_RESET, VMM_EXIT_OK);
	}
}

static const struct bus_dev_ops reset_ops = {
	.read = reset_read,
	.write = reset_write,
};

static void post_read(void *opaque, uint64_t offset, void *data, unsigned int len)
{
	memset(data, 0, len);
}

static void post_write(void *opaque, uint64_t offset, const void *data, unsigned int len)
{
}

static const struct bus_dev_ops post_ops = {
	.read = post_read,
	.write = post_write,
};

int acpi_pm_register(struct acpi_pm *pm, const struct vm_port *port)
{
	int ret;

	memset(pm, 0, sizeof(*pm));
	pm->port = port;
	ret = -pthread_mutex_init(&pm->lock, NULL);
	if (ret)
		return ret;
	ret = bus_register(port->pio_bus, PORT_ACPI_SLEEP, 2, &acpi_pm_ops, pm, "acpi-sleep");
	if (ret)
		goto err_lock;
	ret = bus_register(port->pio_bus, PORT_POST, 1, &post_ops, pm, "post");
	if (ret)
		goto err_sleep;
	if (!bus_name_at(port->pio_bus, PORT_RESET)) {
		ret = bus_register(port->pio_bus, PORT_RESET, 1, &reset_ops, pm, "reset");
		if (ret)
			goto err_post;
		pm->has_reset = true;
	}
	return 0;

err_post:
	bus_unregister(port->pio_bus, PORT_POST, pm);
err_sleep:
	bus_unregister(port->pio_bus, PORT_ACPI_SLEEP, pm);
err_lock:
	pthread_mutex_destroy(&pm->lock);
	return ret;
}

void acpi_pm_unregister(struct acpi_pm *pm)
{
	if (pm->has_reset)
		bus_unregister(pm->port->pio_bus, PORT_RESET, pm);
	bus_unregister(pm->port->pio_bus, PORT_POST, pm);
	bus_unregister(pm->port->pio_bus, PORT_ACPI_SLEEP, pm);
	pthread_mutex_destroy(&pm->lock);
}

/* ---- state ---- */

int acpi_pm_save(struct acpi_pm *pm, struct state_writer *w)
{
	pthread_mutex_lock(&pm->lock);
	state_put_u8(w, pm->sleep_ctl);
	state_put_u8(w, pm->sleep_sts);
	pthread_mutex_unlock(&pm->lock);
	return w->error;
}

int acpi_pm_restore(struct acpi_pm *pm, struct state_reader *r)
{
	uint8_t ctl, sts;
	int ret;

	ret = state_get_u8(r, &ctl);
	if (!ret)
		ret = state_get_u8(r, &sts);
	if (ret)
		return ret;
	if (ctl & SLP_EN)
		return state_reader_fail(r, "acpi-pm: sleep control 0x%02x has SLP_EN set (write-only)", ctl);
	if (sts & ~WAK_STS)
		return state_reader_fail(r, "acpi-pm: sleep status 0x%02x has bits other than WAK_STS", sts);
	pthread_mutex_lock(&pm->lock);
	pm->sleep_ctl = ctl;
	pm->sleep_sts = sts;
	pthread_mutex_unlock(&pm->lock);
	return 0;
}
