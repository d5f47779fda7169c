/* SPDX-License-Identifier: MIT */
/*
 * ACPI Generic Event Device (ACPI 6.1+, _HID "ACPI0013"): how a
 * hardware-reduced platform, which has no SCI and no fixed power button,
 * tells the guest about platform events.  The DSDT (firmware/dsdt.asl)
 * describes it with one interrupt, GSI_GED (edge, active high), and an _EVT
 * method that reads the event register at PORT_GED: each set bit is an
 * event, and reading clears them.  Bit 0 is the power button: _EVT then
 * does Notify (\_SB.PWRB, 0x80) on a PNP0C0C power-button device, which
 * Linux's ACPI button driver turns into KEY_POWER (acpid, systemd-logind).
 */
#ifndef VMM_GED_H
#define VMM_GED_H

#include <pthread.h>
#include <stdint.h>

struct vm_port;

#define GED_EVT_POWER_BUTTON	0x01
#define GED_EVT_ALL		GED_EVT_POWER_BUTTON
#define GED_STATE_VERSION	1

struct state_writer;
struct state_reader;

struct ged {
	const struct vm_port *port;
	pthread_mutex_t lock;
	uint8_t pending;		/* events raised, not yet read by _EVT */
};

/* Registers PORT_GED on port->pio_bus.  0 or -errno. */
int ged_create(const struct vm_port *port, struct ged **out);
void ged_destroy(struct ged *g);
/* Latches the event bits and pulses GSI_GED.  0 or -errno. */
int ged_raise(struct ged *g, uint8_t events);
/* State: the pending event byte (restore refuses unknown bits).  0 or -errno. */
int ged_save(struct ged *g, struct state_writer *w);
int ged_restore(struct ged *g, struct state_reader *r);

#endif
