// SPDX-License-Identifier: MIT
/*
 * Device state round trips for the platform devices: UART, i8042, RTC,
 * fw_cfg, ACPI PM, GED, pc-testdev, the PCI bus.  Each test puts a device
 * in a non-trivial state, saves it, restores it into a fresh device of a
 * fresh VM and compares what the guest would see; corrupt or out-of-range
 * values are refused with a message naming the field.
 */
#include <criterion/criterion.h>
#include <errno.h>

#include "dev_state_helper.h"
#include "devices/ged.h"
#include "devices/legacy.h"
#include "devices/pci.h"
#include "devices/testdev.h"
#include "devices/uart.h"
#include "fake_vm.h"
#include "mem/layout.h"

#define RAM	(1ULL << 20)

static struct vm vm_a, vm_b;

/* A raw payload written as is (hand-made corrupt sections). */
struct raw {
	uint8_t b[256];
	size_t len;
};

static int raw_save(void *obj, struct state_writer *w)
{
	struct raw *r = obj;

	state_put_bytes(w, r->b, r->len);
	return 0;
}

static void raw_u8(struct raw *r, uint8_t v)
{
	r->b[r->len++] = v;
}

static void raw_le(struct raw *r, uint64_t v, unsigned int n)
{
	while (n--) {
		raw_u8(r, (uint8_t)v);
		v >>= 8;
	}
}

static uint8_t inb(struct vm *vm, uint16_t port)
{
	uint8_t v = 0;

	bus_access(&vm->pio_bus, port, &v, 1, false);
	return v;
}

static void outb(struct vm *vm, uint16_t port, uint8_t v)
{
	bus_access(&vm->pio_bus, port, &v, 1, true);
}

static void outw(struct vm *vm, uint16_t port, uint16_t v)
{
	bus_access(&vm->pio_bus, port, &v, 2, true);
}

/* ---- UART ---- */

static int uart_save_fn(void *o, struct state_writer *w) { return uart_save(o, w); }
static int uart_restore_fn(void *o, struct state_reader *r) { return uart_restore(o, r); }

Test(dev_state, uart_registers_fifo_and_irq)
{
	struct uart *a, *b;
	struct state_membuf m;
	uint8_t in[4000];
	unsigned int i;

	cr_assert_eq(fake_vm_init(&vm_a, 0), 0);
	cr_assert_eq(uart_create(&vm_a.port, PORT_COM1, GSI_COM1, -1, &a), 0);
	outb(&vm_a, PORT_COM1 + 3, 0x80);		/* DLAB */
	outb(&vm_a, PORT_COM1 + 0, 0x34);
	outb(&vm_a, PORT_COM1 + 1, 0x12);
	outb(&vm_a, PORT_COM1 + 3, 0x1b);		/* 8E1, DLAB off */
	outb(&vm_a, PORT_COM1 + 2, 0xc1);		/* FIFO on */
	outb(&vm_a, PORT_COM1 + 7, 0x5a);
	outb(&vm_a, PORT_COM1 + 4, 0x0b);		/* DTR RTS OUT2 */
	outb(&vm_a, PORT_COM1 + 1, 0x01);		/* rx interrupt */
	/* the receive ring wraps: 4000 in, 3990 out, 100 in */
	for (i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i * 7);
	cr_assert_eq(uart_receive(a, in, sizeof(in)), sizeof(in));
	for (i = 0; i < 3990; i++)
		inb(&vm_a, PORT_COM1);
	cr_assert_eq(uart_receive(a, in, 100), 100);
	cr_assert_eq(fake_vm_irq_level(GSI_COM1), 1);
	cr_assert_eq(dsh_save(&m, uart_save_fn, a), 0, "%s", dsh_err);

	cr_assert_eq(fake_vm_init(&vm_b, 0), 0);	/* clears the irq record */
	cr_assert_eq(uart_create(&vm_b.port, PORT_COM1, GSI_COM1, -1, &b), 0);
	cr_assert_eq(dsh_restore(&m, uart_restore_fn, b), 0, "%s", dsh_err);
	cr_assert_eq(fake_vm_irq_level(GSI_COM1), 1, "restore drives the line up again");
	cr_assert_eq(inb(&vm_b, PORT_COM1 + 3), 0x1b);
	cr_assert_eq(inb(&vm_b, PORT_COM1 + 4), 0x0b);
	cr_assert_eq(inb(&vm_b, PORT_COM1 + 7), 0x5a);
	cr_assert_eq(inb(&vm_b, PORT_COM1 + 1), 0x01);
	cr_assert_eq(inb(&vm_b, PORT_COM1 + 2), 0xc4, "FIFO on, rx data pending");
	cr_assert_eq(inb(&vm_b, PORT_COM1 + 5) & 1, 1, "LSR.DR");
	for (i = 3990; i < 4000; i++)
		cr_assert_eq(inb(&vm_b, PORT_COM1), in[i], "byte %u", i);
	for (i = 0; i < 100; i++)
		cr_assert_eq(inb(&vm_b, PORT_COM1), in[i], "wrapped byte %u", i);
	cr_assert_eq(inb(&vm_b, PORT_COM1 + 5) & 1, 0, "FIFO empty");
	cr_assert_eq(fake_vm_irq_level(GSI_COM1), 0);
	outb(&vm_b, PORT_COM1 + 3, 0x9b);
	cr_assert_eq(inb(&vm_b, PORT_COM1 + 0), 0x34, "divisor low");
	cr_assert_eq(inb(&vm_b, PORT_COM1 + 1), 0x12, "divisor high");
	state_membuf_free(&m);
	uart_destroy(a);
	uart_destroy(b);
	fake_vm_destroy(&vm_a);
	fake_vm_destroy(&vm_b);
}

static void uart_raw(struct raw *r, uint8_t ier, uint8_t mcr, uint8_t msr, uint8_t fcr,
		     uint32_t count)
{
	memset(r, 0, sizeof(*r));
	raw_u8(r, ier);
	raw_u8(r, 0x03);	/* lcr */
	raw_u8(r, mcr);
	raw_u8(r, msr);
	raw_u8(r, 0);		/* scr */
	raw_u8(r, fcr);
	raw_le(r, 12, 2);
	raw_u8(r, 1);		/* thr_ipending */
	raw_le(r, count, 4);
}

Test(dev_state, uart_refuses_bad_values)
{
	struct state_membuf m;
	struct uart *u;
	struct raw r;

	cr_assert_eq(fake_vm_init(&vm_a, 0), 0);
	cr_assert_eq(uart_create(&vm_a.port, PORT_COM1, GSI_COM1, -1, &u), 0);
	uart_raw(&r, 0, 0, 0xb0, 0, 0);
	cr_assert_eq(dsh_save(&m, raw_save, &r), 0);
	cr_assert_eq(dsh_restore(&m, uart_restore_fn, u), 0, "a good one: %s", dsh_err);
	state_membuf_free(&m);

	uart_raw(&r, 0x1f, 0, 0xb0, 0, 0);
	dsh_save(&m, raw_save, &r);
	dsh_refused(&m, uart_restore_fn, u, "IER");
	state_membuf_free(&m);
	uart_raw(&r, 0, 0x20, 0xb0, 0, 0);
	dsh_save(&m, raw_save, &r);
	dsh_refused(&m, uart_restore_fn, u, "MCR");
	state_membuf_free(&m);
	uart_raw(&r, 0, 0x10, 0xb0, 0, 0);	/* loopback with no lines up: MSR must be 0 */
	dsh_save(&m, raw_save, &r);
	dsh_refused(&m, uart_restore_fn, u, "MSR");
	state_membuf_free(&m);
	uart_raw(&r, 0, 0, 0xb0, 0x02, 0);
	dsh_save(&m, raw_save, &r);
	dsh_refused(&m, uart_restore_fn, u, "FCR");
	state_membuf_free(&m);
	uart_raw(&r, 0, 0, 0xb0, 0, UART_RX_RING + 1);
	dsh_save(&m, raw_save, &r);
	dsh_refused(&m, uart_restore_fn, u, "receive FIFO");
	state_membuf_free(&m);
	uart_raw(&r, 0, 0, 0xb0, 0, 10);	/* 10 bytes promised, none there */
	dsh_save(&m, raw_save, &r);
	dsh_refused(&m, uart_restore_fn, u, "receive FIFO");
	state_membuf_free(&m);
	uart_raw(&r, 0, 0, 0xb0, 0, 0);
	r.len -= 2;				/* cut short */
	dsh_save(&m, raw_save, &r);
	dsh_refused(&m, uart_restore_fn, u, "");
	state_membuf_free(&m);
	cr_assert_eq(inb(&vm_a, PORT_COM1 + 1), 0, "nothing applied from refused sections");
	uart_destroy(u);
	fake_vm_destroy(&vm_a);
}

/* ---- legacy devices ---- */

static int legacy_save_fn(void *o, struct state_writer *w) { return legacy_devices_save(o, w); }
static int legacy_restore_fn(void *o, struct state_reader *r)
{
	return legacy_devices_restore(o, r);
}

static void legacy_busy(struct vm *vm)
{
	outb(vm, PORT_I8042_CMD, 0x60);		/* write command byte */
	outb(vm, PORT_I8042_DATA, 0x47);
	outb(vm, PORT_I8042_CMD, 0x75);		/* write RAM 0x15 */
	outb(vm, PORT_I8042_DATA, 0x99);
	outb(vm, PORT_I8042_CMD, 0xaa);		/* self-test: 0x55 queued */
	outb(vm, PORT_I8042_CMD, 0x35);		/* read RAM 0x15: 0x99 queued */
	outb(vm, PORT_I8042_CMD, 0xd1);		/* write output port: data pending */
	outb(vm, PORT_RTC, 0x40);
	outb(vm, PORT_RTC + 1, 0x77);
	outb(vm, PORT_RTC, 0x41);
	outb(vm, PORT_RTC + 1, 0x88);		/* index stays 0x41 */
	outw(vm, PORT_FW_CFG, 0x0000);		/* signature, 2 bytes read */
	inb(vm, PORT_FW_CFG + 1);
	inb(vm, PORT_FW_CFG + 1);
	outb(vm, PORT_ACPI_SLEEP, 0x20 | (3 << 2));	/* S3: not supported, wakes at once */
}

Test(dev_state, legacy_devices)
{
	struct state_membuf m;

	cr_assert_eq(fake_vm_init(&vm_a, RAM), 0);
	cr_assert_eq(legacy_devices_create(&vm_a), 0);
	legacy_busy(&vm_a);
	cr_assert_eq(dsh_save(&m, legacy_save_fn, &vm_a), 0, "%s", dsh_err);

	cr_assert_eq(fake_vm_init(&vm_b, RAM), 0);
	cr_assert_eq(legacy_devices_create(&vm_b), 0);
	cr_assert_eq(dsh_restore(&m, legacy_restore_fn, &vm_b), 0, "%s", dsh_err);
	/* i8042: status CMD|SYS|OBF, the queued bytes in order, the pending data byte */
	cr_assert_eq(inb(&vm_b, PORT_I8042_CMD) & 0x0d, 0x0d);
	cr_assert_eq(inb(&vm_b, PORT_I8042_DATA), 0x55);
	cr_assert_eq(inb(&vm_b, PORT_I8042_DATA), 0x99);
	cr_assert_eq(inb(&vm_b, PORT_I8042_CMD) & 1, 0, "output buffer empty");
	outb(&vm_b, PORT_I8042_DATA, 0x03);	/* the pending 0xd1 takes it: no reset */
	cr_assert_not(fake_vm.exit_requested);
	outb(&vm_b, PORT_I8042_CMD, 0xd0);
	cr_assert_eq(inb(&vm_b, PORT_I8042_DATA), 0x03, "output port written by the pending command");
	outb(&vm_b, PORT_I8042_CMD, 0x20);
	cr_assert_eq(inb(&vm_b, PORT_I8042_DATA), 0x47, "command byte");
	/* RTC: the index register and NVRAM */
	cr_assert_eq(inb(&vm_b, PORT_RTC + 1), 0x88, "index 0x41 kept");
	outb(&vm_b, PORT_RTC, 0x40);
	cr_assert_eq(inb(&vm_b, PORT_RTC + 1), 0x77);
	/* fw_cfg: the rest of "QEMU" */
	cr_assert_eq(inb(&vm_b, PORT_FW_CFG + 1), 'M');
	cr_assert_eq(inb(&vm_b, PORT_FW_CFG + 1), 'U');
	cr_assert_eq(inb(&vm_b, PORT_FW_CFG + 1), 0);
	/* ACPI PM: sleep type and WAK_STS */
	cr_assert_eq(inb(&vm_b, PORT_ACPI_SLEEP), 3 << 2);
	cr_assert_eq(inb(&vm_b, PORT_ACPI_SLEEP + 1), 0x80);
	state_membuf_free(&m);
	legacy_devices_destroy(&vm_a);
	legacy_devices_destroy(&vm_b);
	fake_vm_destroy(&vm_a);
	fake_vm_destroy(&vm_b);
}

/* A good legacy payload with one byte changed at off (offsets per legacy.c's order). */
static void legacy_raw(struct raw *r, unsigned int off, uint8_t v)
{
	memset(r, 0, sizeof(*r));
	raw_u8(r, 0x45);			/* i8042: ctr */
	r->len += 32;				/* ram */
	raw_u8(r, 0x04);			/* status */
	raw_u8(r, 0x03);			/* outport */
	raw_u8(r, 0);				/* pending */
	raw_u8(r, 0);				/* last_out */
	raw_u8(r, 0);				/* last_aux */
	raw_u8(r, 0);				/* count */
	raw_u8(r, 0);				/* rtc: index (offset 40) */
	r->b[r->len + 0x0a] = 0x26;		/* register A */
	r->len += RTC_CMOS_SIZE;
	raw_le(r, 0, 2);			/* fw_cfg: key (offset 168) */
	raw_le(r, 0, 4);			/* offset (170) */
	raw_u8(r, 0);				/* acpi: sleep_ctl (174) */
	raw_u8(r, 0);				/* sleep_sts (175) */
	if (off != ~0u)
		r->b[off] = v;
}

Test(dev_state, legacy_refuses_bad_values)
{
	static const struct {
		unsigned int off;
		uint8_t v;
		const char *what;
	} bad[] = {
		{ 33, 0x10, "i8042: status" },
		{ 35, 0x99, "pending command" },
		{ 37, 2, "last_aux" },
		{ 38, 9, "output buffer" },
		{ 39, 0x80, "rtc: index" },
		{ 40 + 0x0a, 0xa6, "UIP" },
		{ 170, 5, "fw_cfg: offset" },
		{ 174, 0x20, "SLP_EN" },
		{ 175, 0x01, "WAK_STS" },
	};
	struct state_membuf m;
	struct raw r;
	unsigned int i;

	cr_assert_eq(fake_vm_init(&vm_a, RAM), 0);
	cr_assert_eq(legacy_devices_create(&vm_a), 0);
	legacy_raw(&r, ~0u, 0);
	dsh_save(&m, raw_save, &r);
	cr_assert_eq(dsh_restore(&m, legacy_restore_fn, &vm_a), 0, "a good one: %s", dsh_err);
	state_membuf_free(&m);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		legacy_raw(&r, bad[i].off, bad[i].v);
		dsh_save(&m, raw_save, &r);
		dsh_refused(&m, legacy_restore_fn, &vm_a, bad[i].what);
		state_membuf_free(&m);
	}
	legacy_devices_destroy(&vm_a);
	fake_vm_destroy(&vm_a);
}

/* ---- GED, pc-testdev ---- */

static int ged_save_fn(void *o, struct state_writer *w) { return ged_save(o, w); }
static int ged_restore_fn(void *o, struct state_reader *r) { return ged_restore(o, r); }

Test(dev_state, ged_pending_events)
{
	struct state_membuf m;
	struct ged *a, *b;
	struct raw r = { .b = { 0x80 }, .len = 1 };

	cr_assert_eq(fake_vm_init(&vm_a, 0), 0);
	cr_assert_eq(ged_create(&vm_a.port, &a), 0);
	cr_assert_eq(ged_create(&vm_a.port, &b), -EEXIST);
	cr_assert_eq(ged_raise(a, GED_EVT_POWER_BUTTON), 0);
	cr_assert_eq(dsh_save(&m, ged_save_fn, a), 0);
	ged_destroy(a);
	cr_assert_eq(ged_create(&vm_a.port, &b), 0);
	cr_assert_eq(dsh_restore(&m, ged_restore_fn, b), 0, "%s", dsh_err);
	cr_assert_eq(inb(&vm_a, PORT_GED), GED_EVT_POWER_BUTTON, "the press is still there");
	cr_assert_eq(inb(&vm_a, PORT_GED), 0);
	state_membuf_free(&m);
	dsh_save(&m, raw_save, &r);
	dsh_refused(&m, ged_restore_fn, b, "unknown");
	state_membuf_free(&m);
	ged_destroy(b);
	fake_vm_destroy(&vm_a);
}

static int testdev_save_fn(void *o, struct state_writer *w) { return testdev_save(o, w); }
static int testdev_restore_fn(void *o, struct state_reader *r) { return testdev_restore(o, r); }

Test(dev_state, testdev_scratch_and_irq_lines)
{
	struct state_membuf m;
	struct testdev *a, *b;
	uint32_t v = 0xdeadbeef, got = 0;
	uint64_t q = 0x0123456789abcdefULL, gq = 0;
	struct raw r;

	cr_assert_eq(fake_vm_init(&vm_a, 0), 0);
	cr_assert_eq(testdev_create(&vm_a.port, &a), 0);
	bus_access(&vm_a.pio_bus, TESTDEV_PORT_IOPORT, &v, 4, true);
	bus_access(&vm_a.mmio_bus, TESTDEV_IOMEM + 0xfff8, &q, 8, true);
	outb(&vm_a, TESTDEV_PORT_IRQ + 10, 1);
	outb(&vm_a, TESTDEV_PORT_IRQ + 11, 1);
	outb(&vm_a, TESTDEV_PORT_IRQ + 11, 0);
	cr_assert_eq(dsh_save(&m, testdev_save_fn, a), 0);
	testdev_destroy(a);

	cr_assert_eq(fake_vm_init(&vm_b, 0), 0);
	cr_assert_eq(testdev_create(&vm_b.port, &b), 0);
	cr_assert_eq(dsh_restore(&m, testdev_restore_fn, b), 0, "%s", dsh_err);
	bus_access(&vm_b.pio_bus, TESTDEV_PORT_IOPORT, &got, 4, false);
	cr_assert_eq(got, v);
	bus_access(&vm_b.mmio_bus, TESTDEV_IOMEM + 0xfff8, &gq, 8, false);
	cr_assert_eq(gq, q);
	cr_assert_eq(fake_vm_irq_level(10), 1, "line 10 held up again");
	cr_assert_eq(fake_vm_irq_level(11), 0);
	state_membuf_free(&m);

	memset(&r, 0, sizeof(r));
	raw_le(&r, 0, 4);
	raw_le(&r, 1u << TESTDEV_IRQ_LINES, 4);
	dsh_save(&m, raw_save, &r);
	dsh_refused(&m, testdev_restore_fn, b, "IRQ line");
	state_membuf_free(&m);
	memset(&r, 0, sizeof(r));
	raw_le(&r, 0, 8);			/* no scratch memory */
	dsh_save(&m, raw_save, &r);
	dsh_refused(&m, testdev_restore_fn, b, "scratch memory");
	state_membuf_free(&m);
	testdev_destroy(b);
	fake_vm_destroy(&vm_a);
	fake_vm_destroy(&vm_b);
}

/* ---- PCI bus ---- */

static int bus_save_fn(void *o, struct state_writer *w) { return pci_bus_save(o, w); }
static int bus_restore_fn(void *o, struct state_reader *r) { return pci_bus_restore(o, r); }

static void cfg_write32(struct vm *vm, uint32_t addr, uint32_t v)
{
	bus_access(&vm->pio_bus, PORT_PCI_CONF_ADDR, &addr, 4, true);
	bus_access(&vm->pio_bus, PORT_PCI_CONF_ADDR + 4, &v, 4, true);
}

static uint32_t cfg_read32(struct vm *vm, uint32_t addr)
{
	uint32_t v = 0;

	bus_access(&vm->pio_bus, PORT_PCI_CONF_ADDR, &addr, 4, true);
	bus_access(&vm->pio_bus, PORT_PCI_CONF_ADDR + 4, &v, 4, false);
	return v;
}

Test(dev_state, pci_bus_address_register_and_host_bridge)
{
	struct state_membuf m;
	struct pci_dev extra;
	uint32_t addr = 0x80000004;

	cr_assert_eq(fake_vm_init(&vm_a, 0), 0);
	cr_assert_eq(pci_bus_create(&vm_a), 0);
	cfg_write32(&vm_a, 0x8000003c, 0x0a);			/* host bridge interrupt line */
	bus_access(&vm_a.pio_bus, PORT_PCI_CONF_ADDR, &addr, 4, true);
	cr_assert_eq(dsh_save(&m, bus_save_fn, &vm_a), 0, "%s", dsh_err);

	cr_assert_eq(fake_vm_init(&vm_b, 0), 0);
	cr_assert_eq(pci_bus_create(&vm_b), 0);
	cr_assert_eq(dsh_restore(&m, bus_restore_fn, &vm_b), 0, "%s", dsh_err);
	addr = 0;
	bus_access(&vm_b.pio_bus, PORT_PCI_CONF_ADDR, &addr, 4, false);
	cr_assert_eq(addr, 0x80000004, "address register");
	cr_assert_eq(cfg_read32(&vm_b, 0x8000003c) & 0xff, 0x0a);

	/* a VM with another device in slot 1 is a different configuration */
	pci_dev_init(&extra, 0x1234, 0x5678, 0x088000, 0, 0);
	extra.name = "extra";
	cr_assert_eq(pci_dev_register(&vm_b, &extra), 0);
	dsh_refused(&m, bus_restore_fn, &vm_b, "pci slot 1");
	state_membuf_free(&m);
	pci_bus_destroy(&vm_a);
	pci_bus_destroy(&vm_b);
	fake_vm_destroy(&vm_a);
	fake_vm_destroy(&vm_b);
}

/* ---- through the device list, as the snapshot code drives it ---- */

static int list_uart_save(void *o, struct state_writer *w) { return uart_save(o, w); }
static int list_uart_restore(void *o, struct state_reader *r) { return uart_restore(o, r); }
static int list_legacy_save(void *o, struct state_writer *w) { return legacy_devices_save(o, w); }
static int list_legacy_restore(void *o, struct state_reader *r)
{
	return legacy_devices_restore(o, r);
}

static const struct vm_dev_ops list_uart_ops = {
	.save = list_uart_save, .restore = list_uart_restore, .state_version = UART_STATE_VERSION,
};
static const struct vm_dev_ops list_legacy_ops = {
	.save = list_legacy_save, .restore = list_legacy_restore,
	.state_version = LEGACY_STATE_VERSION,
};

Test(dev_state, through_the_device_list)
{
	struct state_section_desc known[VM_MAX_DEVICES];
	struct vm_devices la = { .nr = 0 }, lb = { .nr = 0 };
	struct state_membuf m = { 0 };
	struct state_writer w;
	struct state_reader r;
	struct state_header h;
	struct uart *ua, *ub;
	size_t n;
	int ret;

	cr_assert_eq(fake_vm_init(&vm_a, RAM), 0);
	cr_assert_eq(uart_create(&vm_a.port, PORT_COM1, GSI_COM1, -1, &ua), 0);
	cr_assert_eq(legacy_devices_create(&vm_a), 0);
	outb(&vm_a, PORT_COM1 + 7, 0x42);
	outb(&vm_a, PORT_RTC, 0x50);
	outb(&vm_a, PORT_RTC + 1, 0x24);
	cr_assert_eq(vm_devices_add(&la, "serial", &list_uart_ops, ua), 0);
	cr_assert_eq(vm_devices_add(&la, "legacy", &list_legacy_ops, &vm_a), 0);
	state_writer_init(&w, "state file", state_mem_write, &m);
	cr_assert_eq(state_write_header(&w, 0), 0);
	cr_assert_eq(vm_devices_save(&la, &w), 0, "%s", state_writer_error(&w));
	cr_assert_eq(state_write_end(&w), 0);
	state_writer_free(&w);

	cr_assert_eq(fake_vm_init(&vm_b, RAM), 0);
	cr_assert_eq(uart_create(&vm_b.port, PORT_COM1, GSI_COM1, -1, &ub), 0);
	cr_assert_eq(legacy_devices_create(&vm_b), 0);
	cr_assert_eq(vm_devices_add(&lb, "serial", &list_uart_ops, ub), 0);
	cr_assert_eq(vm_devices_add(&lb, "legacy", &list_legacy_ops, &vm_b), 0);
	n = vm_devices_known(&lb, known, VM_MAX_DEVICES);
	cr_assert_eq(n, 2);
	m.pos = 0;
	state_reader_init(&r, "state file", state_mem_read, &m, known, n);
	cr_assert_eq(state_read_header(&r, &h), 0);
	while ((ret = state_next_section(&r)) == 1)
		cr_assert_eq(vm_devices_restore_section(&lb, &r), 0, "%s", state_reader_error(&r));
	cr_assert_eq(ret, 0, "%s", state_reader_error(&r));
	state_reader_free(&r);
	cr_assert_eq(inb(&vm_b, PORT_COM1 + 7), 0x42);
	outb(&vm_b, PORT_RTC, 0x50);
	cr_assert_eq(inb(&vm_b, PORT_RTC + 1), 0x24);
	state_membuf_free(&m);
	legacy_devices_destroy(&vm_a);
	legacy_devices_destroy(&vm_b);
	uart_destroy(ua);
	uart_destroy(ub);
	fake_vm_destroy(&vm_a);
	fake_vm_destroy(&vm_b);
}
