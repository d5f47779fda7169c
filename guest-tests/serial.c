/* SPDX-License-Identifier: MIT */
/*
 * serial: interrupt-driven receive on COM1.  RX-data-available interrupts on
 * (IER bit 0), IRQ 4 through the 8259, sti;hlt until a whole line arrived.
 * The harness writes "ping\n" to vmm's stdin; the guest answers "pong".
 * The PIT (IRQ 0) bounds the wait; if bytes are waiting in the UART but
 * IRQ 4 never came, that is reported as such.
 */
#include "lib.h"

#define COM1		0x3f8
#define UART_LSR_DR	0x01
#define TICK_HZ		100
#define WAIT_TICKS	(20 * TICK_HZ)

static volatile uint32_t ticks, rx_irqs;
static char line[64];
static volatile uint32_t line_len;
static volatile int line_done;

static void rx_drain(void)
{
	while (inb(COM1 + 5) & UART_LSR_DR) {
		char c = inb(COM1);

		if (line_done)
			continue;
		if (c == '\n' || c == '\r')
			line_done = line_len > 0;
		else if (line_len < sizeof(line) - 1)
			line[line_len++] = c;
	}
}

static void on_com1(struct irq_frame *f)
{
	rx_irqs++;
	rx_drain();
	pic_eoi(4);
}

static void on_tick(struct irq_frame *f)
{
	ticks++;
	pic_eoi(0);
}

void guest_main(void)
{
	uint8_t iir;

	idt_init();
	pic_init();
	lapic_enable();
	idt_set_handler(PIC_VECTOR_BASE + 0, on_tick);
	idt_set_handler(PIC_VECTOR_BASE + 4, on_com1);
	pit_start(TICK_HZ);
	pic_unmask(0);
	pic_unmask(4);
	puts_serial("serial: waiting for a line on COM1\n");
	outb(COM1 + 1, 0x01);		/* IER: received data available */

	while (!line_done && ticks < WAIT_TICKS)
		wait_irq();
	pit_stop();
	pic_mask_all();
	outb(COM1 + 1, 0x00);

	if (!line_done) {
		iir = inb(COM1 + 2);
		check(!(inb(COM1 + 5) & UART_LSR_DR),
		      "data is waiting (IIR 0x%x) but IRQ 4 never delivered it", iir);
		fail("no complete line within %u s (%u bytes, %u IRQ 4s)",
		     WAIT_TICKS / TICK_HZ, line_len, rx_irqs);
	}
	line[line_len] = 0;
	printf("got \"%s\" through %u IRQ 4 interrupts\n", line, rx_irqs);
	check(rx_irqs > 0, "line arrived without IRQ 4");
	check(!strcmp(line, "ping"), "expected \"ping\"");
	puts_serial("pong\n");
	succeed();
}
