/* SPDX-License-Identifier: MIT */
/*
 * The legacy PC platform devices on the port-I/O bus (docs/devices.md):
 *
 *   0x60, 0x64   i8042 keyboard controller (self-test, command byte, reset)
 *   0x70-0x71    CMOS RTC + NVRAM (host UTC time, memory-size bytes)
 *   0x80         POST code sink (Linux's I/O delay port)
 *   0xf4-0xf7    isa-debug-exit (exit status (v << 1) | 1)
 *   0x3c0-0x3c1  ACPI hardware-reduced sleep control / status (S5 = poweroff)
 *   0x505        pvpanic
 *   0x510-0x511  fw_cfg, traditional I/O interface, no DMA
 *   0xcf9        reset control, unless the PCI host bridge already owns it
 *
 * Each device with state has its own mutex: handlers run on vCPU threads.
 * Devices act on the VM only through their struct vm_port (vm_port.h).
 */
#ifndef VMM_LEGACY_H
#define VMM_LEGACY_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct vm;
struct vm_port;
struct state_writer;
struct state_reader;

/* Creates every device below, sets vm->legacy, registers on vm->pio_bus. 0 or -errno. */
int legacy_devices_create(struct vm *vm);
/* Unregisters and frees vm->legacy (NULL is fine). */
void legacy_devices_destroy(struct vm *vm);

/*
 * State of every legacy device, one payload (docs/devices.md, "Device
 * state"): LEGACY_STATE_VERSION.  Restore checks every value and applies
 * each device's part only when that part is good.  0 or -errno.
 */
#define LEGACY_STATE_VERSION	1
int legacy_devices_save(struct vm *vm, struct state_writer *w);
int legacy_devices_restore(struct vm *vm, struct state_reader *r);

/* ---- per-device state, one file each; exposed for unit tests ---- */

#define I8042_OBUF_SIZE	8

struct i8042 {
	const struct vm_port *port;
	pthread_mutex_t lock;
	uint8_t ctr;			/* controller command byte ("RAM" 0) */
	uint8_t ram[32];		/* internal RAM 1..31 (0x21-0x3f / 0x61-0x7f) */
	uint8_t status;			/* SYS flag, CMD/DATA flag */
	uint8_t outport;
	uint8_t pending;		/* command waiting for a data byte, 0: none */
	uint8_t obuf[I8042_OBUF_SIZE];	/* responses the guest has not read */
	unsigned int ohead, ocount;
	uint8_t last_out;		/* re-read when the buffer is empty */
	bool last_aux;
	bool obuf_aux[I8042_OBUF_SIZE];	/* byte came "from the mouse" */
};

int i8042_register(struct i8042 *k, const struct vm_port *port);
void i8042_unregister(struct i8042 *k);
int i8042_save(struct i8042 *k, struct state_writer *w);
int i8042_restore(struct i8042 *k, struct state_reader *r);

#define RTC_CMOS_SIZE	128

struct rtc {
	const struct vm_port *port;
	pthread_mutex_t lock;
	uint8_t index;
	uint8_t cmos[RTC_CMOS_SIZE];
};

int rtc_register(struct rtc *r, const struct vm_port *port);
void rtc_unregister(struct rtc *r);
int rtc_save(struct rtc *r, struct state_writer *w);
int rtc_restore(struct rtc *r, struct state_reader *rd);

#define FWCFG_ITEM_MAX	16

struct fwcfg {
	const struct vm_port *port;
	pthread_mutex_t lock;
	uint16_t key;
	uint32_t offset;
	uint32_t len;
	uint8_t item[FWCFG_ITEM_MAX];	/* the selected item, built at select time */
};

int fwcfg_register(struct fwcfg *f, const struct vm_port *port);
void fwcfg_unregister(struct fwcfg *f);
int fwcfg_save(struct fwcfg *f, struct state_writer *w);
int fwcfg_restore(struct fwcfg *f, struct state_reader *r);

/* Stateless: opaque is the port. */
int debug_exit_register(const struct vm_port *port);
void debug_exit_unregister(const struct vm_port *port);
int pvpanic_register(const struct vm_port *port);
void pvpanic_unregister(const struct vm_port *port);

struct acpi_pm {
	const struct vm_port *port;
	pthread_mutex_t lock;
	uint8_t sleep_ctl;
	uint8_t sleep_sts;
	bool has_reset;			/* we registered PORT_RESET */
};

/* Sleep registers, port 0x80 sink and (if free) the 0xcf9 reset register. */
int acpi_pm_register(struct acpi_pm *pm, const struct vm_port *port);
void acpi_pm_unregister(struct acpi_pm *pm);
int acpi_pm_save(struct acpi_pm *pm, struct state_writer *w);
int acpi_pm_restore(struct acpi_pm *pm, struct state_reader *r);

struct legacy_devices {
	struct i8042 i8042;
	struct rtc rtc;
	struct fwcfg fwcfg;
	struct acpi_pm pm;
	bool have_debug_exit, have_pvpanic;
};

#endif
