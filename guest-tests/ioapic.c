/* SPDX-License-Identifier: MIT */
/*
 * ioapic: the IOAPIC's level-triggered and coalescing behaviour, driven
 * through QEMU's pc-testdev (vmm --testdev, QEMU -device pc-testdev), whose
 * port 0x2000 + n sets interrupt line n.  First the test device itself:
 * its scratch register (ports 0xe0 and 0xe8, byte lanes) and scratch
 * memory at 0xff000000.  Then, on IOAPIC pin 14 (the test line; the 8259
 * keeps it masked), one CPU, LAPIC EOIs:
 *   1. level, line raised: one interrupt; Remote IRR set in the handler
 *      and clear after its EOI (it lowers the line first)
 *   2. level, EOI while the line is still high: delivered again (twice in
 *      all; the second handler lowers the line)
 *   3. level, coalescing: with interrupts off, raise-lower-raise while the
 *      first is not yet EOIed, then lower: exactly one interrupt
 *   4. level, masked pin, line raised, then unmasked: delivered then
 *   5. edge, two rising edges with interrupts off: one interrupt (the
 *      LAPIC's IRR holds one), and none while the line stays high
 * Counts are checked after a short wait (PIT ticks via the 8259 on IRQ 0).
 * Cmdline "only=testdev": the test device checks alone (the PVM dev hosts
 * deliver a level interrupt twice when its line drops before the EOI; see
 * docs/guest-tests.md).
 */
#include "lib.h"

#define TEST_PIN	14
#define TEST_VEC	0x38
#define TICK_HZ		1000
#define IRQ_PORT	0x2000
#define RTE_REMOTE_IRR	(1u << 14)
#define RTE_MASK	(1u << 16)

static volatile uint32_t hits, ticks, lower_on_hit, irr_in_handler;

static void set_line(int level)
{
	outb(IRQ_PORT + TEST_PIN, (uint8_t)level);
}

static uint32_t rte_lo(void)
{
	return ioapic_read(0x10 + 2 * TEST_PIN);
}

static void on_test_irq(struct irq_frame *f)
{
	hits++;
	if (rte_lo() & RTE_REMOTE_IRR)
		irr_in_handler++;
	if (lower_on_hit && hits >= lower_on_hit)
		set_line(0);
	lapic_eoi();
}

static void tick(struct irq_frame *f)
{
	ticks++;
	pic_eoi(0);
}

/* Interrupts on for n PIT ticks. */
static void settle(uint32_t n)
{
	uint32_t end = ticks + n;

	while ((int32_t)(ticks - end) < 0)
		wait_irq();
}

static void reset(uint32_t lower_at)
{
	set_line(0);
	settle(2);
	hits = 0;
	irr_in_handler = 0;
	lower_on_hit = lower_at;
}

static void check_testdev(void)
{
	volatile uint32_t *iomem = phys_ptr(0xff000000u);

	__asm__ volatile("outl %0, %1" : : "a"(0x12345678u), "Nd"((uint16_t)0xe0));
	check(inb(0xe0) == 0x78 && inb(0xe3) == 0x12, "testdev register bytes 0x%x 0x%x",
	      inb(0xe0), inb(0xe3));
	outb(0xe9, 0xaa);
	check(inb(0xe1) == 0xaa, "testdev byte port 0xe9 does not reach byte 1 of 0xe0");
	iomem[0] = 0xcafef00d;
	iomem[0x3fff] = 0x5a5aa5a5;
	check(iomem[0] == 0xcafef00d && iomem[0x3fff] == 0x5a5aa5a5,
	      "testdev memory at 0xff000000 reads 0x%x / 0x%x", iomem[0], iomem[0x3fff]);
	printf("pc-testdev: registers and memory\n");
}

void guest_main(void)
{
	char only[16];
	uint8_t me;

	check_testdev();
	if (!cmdline_get("only", only, sizeof(only)) && !strcmp(only, "testdev"))
		succeed();
	idt_init();
	pic_init();
	lapic_enable();
	me = lapic_id();
	idt_set_handler(PIC_VECTOR_BASE + 0, tick);
	idt_set_handler(TEST_VEC, on_test_irq);
	pit_start(TICK_HZ);
	pic_unmask(0);
	set_line(0);

	/* 1: level, handler lowers the line */
	ioapic_route(TEST_PIN, TEST_VEC, me, 1, 0);
	reset(1);
	set_line(1);
	settle(5);
	check(hits == 1, "level: %u interrupts, expected 1", hits);
	check(irr_in_handler == 1, "level: Remote IRR not set in the handler");
	check(!(rte_lo() & RTE_REMOTE_IRR), "level: Remote IRR still set after the EOI");
	printf("level: one interrupt, Remote IRR set until the EOI\n");

	/* 2: EOI with the line still high: re-delivered */
	reset(2);
	set_line(1);
	settle(5);
	check(hits == 2, "level: %u interrupts with the line high at the EOI, expected 2", hits);
	printf("level: EOI while the line is high re-delivers\n");

	/* 3: coalescing while the first one is pending */
	reset(1);
	__asm__ volatile("cli");
	set_line(1);
	set_line(0);
	set_line(1);
	set_line(0);
	settle(5);
	check(hits == 1, "level: %u interrupts after raise-lower-raise-lower with IF=0, expected 1", hits);
	printf("level: coalesced to one interrupt\n");

	/* 4: masked, raised, unmasked */
	reset(1);
	ioapic_write(0x10 + 2 * TEST_PIN, TEST_VEC | (1u << 15) | RTE_MASK);
	set_line(1);
	settle(3);
	check(hits == 0, "level: %u interrupts from a masked pin", hits);
	ioapic_route(TEST_PIN, TEST_VEC, me, 1, 0);
	settle(3);
	check(hits == 1, "level: %u interrupts after unmasking a raised pin, expected 1", hits);
	printf("level: masked pin delivers when unmasked\n");

	/* 5: edge: two edges with IF=0 give one interrupt; a high line none */
	ioapic_route(TEST_PIN, TEST_VEC, me, 0, 0);
	reset(0);
	__asm__ volatile("cli");
	set_line(1);
	set_line(0);
	set_line(1);
	settle(5);
	check(hits == 1, "edge: %u interrupts for two edges with IF=0, expected 1", hits);
	settle(3);
	check(hits == 1, "edge: %u interrupts while the line stays high, expected 1", hits);
	set_line(0);
	printf("edge: coalesced, no re-delivery while high\n");

	ioapic_mask(TEST_PIN);
	pit_stop();
	succeed();
}
