/* SPDX-License-Identifier: MIT */
/* IDT, 8259 PIC, PIT, LAPIC and IOAPIC for the test guests. */
#include "lib.h"

struct idt_entry {
	uint16_t off_lo;
	uint16_t sel;
	uint8_t zero;
	uint8_t type;
	uint16_t off_hi;
} __attribute__((packed));

#define NR_STUBS 64
extern const uint32_t isr_stubs[NR_STUBS];
void irq_dispatch(struct irq_frame *f);

static struct idt_entry idt[NR_STUBS];
static irq_handler_t handlers[NR_STUBS];

void irq_dispatch(struct irq_frame *f)
{
	if (f->vector < NR_STUBS && handlers[f->vector]) {
		handlers[f->vector](f);
		return;
	}
	fail("unexpected interrupt/exception %u error 0x%x at eip 0x%x",
	     f->vector, f->error, f->eip);
}

void idt_init(void)
{
	struct {
		uint16_t limit;
		uint32_t base;
	} __attribute__((packed)) desc;
	int i;

	for (i = 0; i < NR_STUBS; i++) {
		idt[i].off_lo = isr_stubs[i] & 0xffff;
		idt[i].off_hi = isr_stubs[i] >> 16;
		idt[i].sel = 0x08;
		idt[i].zero = 0;
		idt[i].type = 0x8e;	/* present, ring 0, 32-bit interrupt gate */
	}
	desc.limit = sizeof(idt) - 1;
	desc.base = (uint32_t)idt;
	__asm__ volatile("lidt %0" : : "m"(desc));
}

void idt_set_handler(uint8_t vector, irq_handler_t h)
{
	if (vector < NR_STUBS)
		handlers[vector] = h;
}

#define PIC1_CMD	0x20
#define PIC1_DATA	0x21
#define PIC2_CMD	0xa0
#define PIC2_DATA	0xa1

void pic_init(void)
{
	outb(PIC1_CMD, 0x11);		/* ICW1: edge, cascade, ICW4 */
	outb(PIC2_CMD, 0x11);
	outb(PIC1_DATA, PIC_VECTOR_BASE);
	outb(PIC2_DATA, PIC_VECTOR_BASE + 8);
	outb(PIC1_DATA, 0x04);		/* slave on IRQ2 */
	outb(PIC2_DATA, 0x02);
	outb(PIC1_DATA, 0x01);		/* 8086 mode */
	outb(PIC2_DATA, 0x01);
	pic_mask_all();
}

void pic_mask_all(void)
{
	outb(PIC1_DATA, 0xff);
	outb(PIC2_DATA, 0xff);
}

void pic_unmask(uint8_t irq)
{
	if (irq >= 8) {
		outb(PIC2_DATA, inb(PIC2_DATA) & ~(1u << (irq - 8)));
		irq = 2;
	}
	outb(PIC1_DATA, inb(PIC1_DATA) & ~(1u << irq));
}

void pic_eoi(uint8_t irq)
{
	if (irq >= 8)
		outb(PIC2_CMD, 0x20);
	outb(PIC1_CMD, 0x20);
}

void pit_start(uint32_t hz)
{
	uint32_t div = PIT_HZ / hz;

	if (div > 0xffff)
		div = 0xffff;
	outb(0x43, 0x34);		/* channel 0, lo/hi, mode 2 */
	outb(0x40, div & 0xff);
	outb(0x40, div >> 8);
}

void pit_stop(void)
{
	outb(0x43, 0x30);		/* channel 0, mode 0: one shot ... */
	outb(0x40, 0x01);		/* ... that fires once and stays quiet */
	outb(0x40, 0x00);
}

void lapic_enable(void)
{
	lapic_write(LAPIC_SVR, 0x1ff);		/* enabled, spurious vector 0xff */
	lapic_write(LAPIC_LVT_LINT0, 0x700);	/* ExtINT: the 8259 goes through */
	lapic_write(LAPIC_LVT_LINT1, 0x400);	/* NMI */
}

void lapic_eoi(void)
{
	lapic_write(LAPIC_EOI, 0);
}

int lapic_send_ipi(uint8_t dest, uint32_t icr_lo)
{
	int spins = 1000;

	lapic_write(LAPIC_ICR_HI, (uint32_t)dest << 24);
	lapic_write(LAPIC_ICR_LO, icr_lo);
	while (lapic_read(LAPIC_ICR_LO) & (1u << 12))
		if (!--spins)
			return -1;
	return 0;
}

uint32_t ioapic_read(uint32_t reg)
{
	mmio_write32(IOAPIC_BASE, reg);
	return mmio_read32(IOAPIC_BASE + 0x10);
}

void ioapic_write(uint32_t reg, uint32_t v)
{
	mmio_write32(IOAPIC_BASE, reg);
	mmio_write32(IOAPIC_BASE + 0x10, v);
}

void ioapic_route(uint32_t pin, uint8_t vector, uint8_t dest, int level, int active_low)
{
	uint32_t lo = vector;

	if (active_low)
		lo |= 1u << 13;
	if (level)
		lo |= 1u << 15;
	ioapic_write(0x10 + 2 * pin + 1, (uint32_t)dest << 24);
	ioapic_write(0x10 + 2 * pin, lo);
}

void ioapic_mask(uint32_t pin)
{
	ioapic_write(0x10 + 2 * pin, 1u << 16);
}
