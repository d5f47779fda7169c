/* SPDX-License-Identifier: MIT */
/*
 * timer: counts at least 10 timer interrupts, waiting with sti;hlt, on each
 * interrupt path vmm's in-kernel irqchip offers:
 *   1. PIT channel 0 at 1 kHz -> 8259 PIC (remapped to 0x20) -> LINT0 ExtINT
 *   2. PIT channel 0 at 1 kHz -> IOAPIC (pin from the MADT) -> LAPIC
 *   3. LAPIC timer, periodic
 * A watchdog on another source (the LAPIC timer for 1-2, the PIT for 3)
 * turns a silent source into a FAIL message instead of a hang.
 */
#include "lib.h"

#define NEED		10
#define VEC_PIT_PIC	(PIC_VECTOR_BASE + 0)
#define VEC_PIT_IOAPIC	0x30
#define VEC_LAPIC_TIMER	0x31
#define VEC_WATCHDOG	0x32
#define WATCHDOG_TICKS	3000		/* PIT ticks at 1 kHz in phase 3 */

static volatile uint32_t pit_pic_ticks, pit_ioapic_ticks, lapic_ticks;
static volatile int watchdog_fired;

static void on_pit_pic(struct irq_frame *f)
{
	pit_pic_ticks++;
	pic_eoi(0);
}

static void on_pit_ioapic(struct irq_frame *f)
{
	pit_ioapic_ticks++;
	lapic_eoi();
}

static void on_lapic_timer(struct irq_frame *f)
{
	lapic_ticks++;
	lapic_eoi();
}

static void on_watchdog(struct irq_frame *f)
{
	watchdog_fired = 1;
	lapic_eoi();
}

/* One-shot LAPIC timer as a watchdog: divide by 16, a large count. */
static void watchdog_arm(void)
{
	watchdog_fired = 0;
	lapic_write(LAPIC_TIMER_DIV, 0x3);
	lapic_write(LAPIC_LVT_TIMER, VEC_WATCHDOG);
	lapic_write(LAPIC_TIMER_INIT, 200000000);	/* ~3 s at a 1 GHz bus */
}

static void watchdog_disarm(void)
{
	lapic_write(LAPIC_TIMER_INIT, 0);
	lapic_write(LAPIC_LVT_TIMER, 1u << 16);
}

static void wait_for(volatile uint32_t *counter, const char *what)
{
	while (*counter < NEED) {
		check(!watchdog_fired, "%s: only %u interrupts before the watchdog",
		      what, *counter);
		wait_irq();
	}
}

void guest_main(void)
{
	uint32_t gsi, c1, c2;
	uint8_t bsp;

	idt_init();
	pic_init();
	lapic_enable();
	bsp = lapic_id();
	idt_set_handler(VEC_PIT_PIC, on_pit_pic);
	idt_set_handler(VEC_PIT_IOAPIC, on_pit_ioapic);
	idt_set_handler(VEC_LAPIC_TIMER, on_lapic_timer);
	idt_set_handler(VEC_WATCHDOG, on_watchdog);

	/* 1: PIT through the 8259 */
	watchdog_arm();
	pit_start(1000);
	pic_unmask(0);
	wait_for(&pit_pic_ticks, "PIT via 8259");
	pic_mask_all();
	watchdog_disarm();
	printf("PIT via 8259 PIC: %u interrupts\n", pit_pic_ticks);

	/* 2: PIT through the IOAPIC */
	gsi = madt_isa_gsi(0);
	check(gsi < ((ioapic_read(1) >> 16) & 0xff) + 1,
	      "ISA IRQ0 -> GSI %u, beyond the IOAPIC's pins", gsi);
	printf("IOAPIC version 0x%x, ISA IRQ0 on pin %u\n", ioapic_read(1) & 0xff, gsi);
	watchdog_arm();
	ioapic_route(gsi, VEC_PIT_IOAPIC, bsp, 0, 0);
	wait_for(&pit_ioapic_ticks, "PIT via IOAPIC");
	ioapic_mask(gsi);
	watchdog_disarm();
	printf("PIT via IOAPIC+LAPIC: %u interrupts\n", pit_ioapic_ticks);

	/* 3: LAPIC timer, periodic; the PIT (via the 8259) is the watchdog */
	pit_pic_ticks = 0;
	pic_unmask(0);
	lapic_write(LAPIC_TIMER_DIV, 0x3);
	lapic_write(LAPIC_LVT_TIMER, (1u << 17) | VEC_LAPIC_TIMER);
	lapic_write(LAPIC_TIMER_INIT, 100000);
	c1 = lapic_read(LAPIC_TIMER_CUR);
	c2 = lapic_read(LAPIC_TIMER_CUR);
	printf("LAPIC timer current count 0x%x then 0x%x\n", c1, c2);
	check(c1 && c1 <= 100000, "LAPIC timer current count 0x%x after arming", c1);
	while (lapic_ticks < NEED) {
		check(pit_pic_ticks < WATCHDOG_TICKS,
		      "LAPIC timer: only %u interrupts in %u PIT ticks",
		      lapic_ticks, pit_pic_ticks);
		wait_irq();
	}
	lapic_write(LAPIC_LVT_TIMER, 1u << 16);
	pic_mask_all();
	pit_stop();
	printf("LAPIC timer: %u interrupts (%u PIT ticks meanwhile)\n",
	       lapic_ticks, pit_pic_ticks);
	/* 10 periods of 100000 bus cycles / 16 take >= 16 ms at a 1 GHz bus */
	check(pit_pic_ticks >= 4, "LAPIC timer runs too fast: %u PIT ticks for %u periods",
	      pit_pic_ticks, lapic_ticks);
	succeed();
}
