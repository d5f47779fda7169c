/* SPDX-License-Identifier: MIT */
/*
 * ticks: a guest for the control socket's pause / resume / reset /
 * powerdown / reboot tests (docs/guest-tests.md, "ticks").  What it prints:
 *
 *   "ticks: boot, RAM cleared"     at each boot whose RAM was fresh (vmm's
 *                                  reset rebuilds the VM: always this line);
 *   "ticks: boot, RAM kept (boot N)"  if a marker of an earlier boot is
 *                                  still in RAM (a warm reset);
 *   "tick N"                       every 100 ms of PIT time (100 Hz through
 *                                  the 8259), N = 1, 2, ...; nothing while
 *                                  paused.  Missed PIT ticks may be
 *                                  delivered in a burst after resume;
 *   "ticks: power button"          the ACPI GED raised the power-button event
 *                                  (IOAPIC pin GSI 5, port 0x3c4); the guest
 *                                  then powers off through ACPI S5 (vmm
 *                                  status 0, or a reboot after vmm's reboot);
 *   "SUCCESS" and debug-exit 0     after ticks=N lines (cmdline; 0 or absent:
 *                                  run until stopped).
 *
 * Serial input: 'r' resets through port 0xcf9 (a guest reboot: vmm
 * --on-reboot decides), 'q' powers off (ACPI S5), 'p' answers "pong".
 * The GED interrupt is only unmasked with button=1 (the default); button=0
 * leaves it masked, so vmm's reboot finds nobody listening and resets.
 */
#include "lib.h"

#define COM1		0x3f8
#define UART_LSR_DR	0x01
#define TICK_HZ		100
#define PORT_GED	0x3c4
#define GSI_GED		5
#define VEC_GED		0x35
#define ACPI_SLEEP_CTL	0x3c0
#define SLP_S5		((5 << 2) | 0x20)
#define MARK_ADDR	0x800000u		/* 8 MiB: above the guest image */
#define MARK_MAGIC	0x6b636974u		/* "tick" */

static volatile uint32_t ticks, button;
static volatile char cmd;

static void on_tick(struct irq_frame *f)
{
	ticks++;
	pic_eoi(0);
}

static void on_com1(struct irq_frame *f)
{
	while (inb(COM1 + 5) & UART_LSR_DR) {
		char c = inb(COM1);

		if (c == 'r' || c == 'q' || c == 'p')
			cmd = c;
	}
	pic_eoi(4);
}

static void on_ged(struct irq_frame *f)
{
	if (inb(PORT_GED) & 1)
		button = 1;
	lapic_eoi();
}

static void boot_banner(void)
{
	volatile uint32_t *mark = phys_ptr(MARK_ADDR);

	if (mark[0] == MARK_MAGIC) {
		mark[1]++;
		printf("ticks: boot, RAM kept (boot %u)\n", mark[1]);
	} else {
		mark[0] = MARK_MAGIC;
		mark[1] = 1;
		puts_serial("ticks: boot, RAM cleared\n");
	}
}

NORETURN static void poweroff(void)
{
	outb(ACPI_SLEEP_CTL, SLP_S5);
	for (;;)
		wait_irq();
}

void guest_main(void)
{
	uint32_t limit = 0, use_button = 1, printed = 0;

	boot_banner();
	cmdline_get_uint("ticks", &limit);
	cmdline_get_uint("button", &use_button);
	idt_init();
	pic_init();
	lapic_enable();
	idt_set_handler(PIC_VECTOR_BASE + 0, on_tick);
	idt_set_handler(PIC_VECTOR_BASE + 4, on_com1);
	idt_set_handler(VEC_GED, on_ged);
	if (use_button)
		ioapic_route(GSI_GED, VEC_GED, lapic_id(), 0, 0);
	pit_start(TICK_HZ);
	pic_unmask(0);
	pic_unmask(4);
	outb(COM1 + 1, 0x01);		/* IER: received data available */

	for (;;) {
		wait_irq();
		while (printed < ticks / (TICK_HZ / 10)) {
			printf("tick %u\n", ++printed);
			if (limit && printed >= limit)
				succeed();
		}
		if (button) {
			puts_serial("ticks: power button\n");
			poweroff();
		}
		switch (cmd) {
		case 'r':
			puts_serial("ticks: reset\n");
			outb(0xcf9, 0x06);
			break;
		case 'q':
			puts_serial("ticks: poweroff\n");
			poweroff();
		case 'p':
			puts_serial("pong\n");
			break;
		}
		cmd = 0;
	}
}
