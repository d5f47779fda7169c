/* SPDX-License-Identifier: MIT */
/*
 * Tiny freestanding runtime shared by the test guests: port I/O, COM1
 * output, a small printf, the exit paths vmm offers, fw_cfg, ACPI/MP table
 * lookup, the IDT, the 8259 PIC, the PIT, the LAPIC and the IOAPIC.
 * 32-bit protected mode, flat segments, paging off, one CPU unless smp.c
 * starts more.
 */
#ifndef GUEST_LIB_H
#define GUEST_LIB_H

#include <stdint.h>
#include <stddef.h>
#include <stdarg.h>

#define NORETURN __attribute__((noreturn))

/* ---- port and MMIO access ---- */
static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outw(uint16_t port, uint16_t v)
{
	__asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint32_t mmio_read32(uintptr_t addr)
{
	return *(volatile uint32_t *)addr;
}

static inline void mmio_write32(uintptr_t addr, uint32_t v)
{
	*(volatile uint32_t *)addr = v;
}

/* A pointer to a fixed physical address (the compiler may not assume it is null-ish). */
static inline void *phys_ptr(uintptr_t addr)
{
	__asm__("" : "+r"(addr));
	return (void *)addr;
}

static inline void cpu_relax(void)
{
	__asm__ volatile("pause" ::: "memory");
}

/* Wait for an interrupt with interrupts enabled only for the hlt itself. */
static inline void wait_irq(void)
{
	__asm__ volatile("sti; hlt; cli" ::: "memory");
}

/* ---- multiboot v1 ---- */
#define MB_BOOT_MAGIC	0x2BADB002u

struct mb_info {
	uint32_t flags;
	uint32_t mem_lower;
	uint32_t mem_upper;
	uint32_t boot_device;
	uint32_t cmdline;
	uint32_t mods_count;
	uint32_t mods_addr;
	uint32_t syms[4];
	uint32_t mmap_length;
	uint32_t mmap_addr;
} __attribute__((packed));

struct mb_module {
	uint32_t mod_start;
	uint32_t mod_end;
	uint32_t string;
	uint32_t reserved;
} __attribute__((packed));

struct mb_mmap_entry {
	uint32_t size;		/* of the rest of the entry */
	uint64_t addr;
	uint64_t len;
	uint32_t type;
} __attribute__((packed));

extern struct mb_info *boot_mbi;
extern const char *boot_cmdline;	/* "" when the loader passed none */
extern char _kernel_start[], _kernel_end[];

/* Each guest defines this; returning from it is a failure. */
void guest_main(void);

/* ---- libc bits ---- */
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
int memcmp(const void *a, const void *b, size_t n);
void *memcpy(void *d, const void *s, size_t n);
void *memset(void *d, int c, size_t n);

/* ---- COM1 ---- */
void serial_init(void);
void putchar_serial(char c);
void puts_serial(const char *s);
void printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- exits ---- */
#define DEBUG_EXIT_PORT	0xf4
NORETURN void debug_exit(uint8_t v);		/* vmm status (v << 1) | 1 */
NORETURN void succeed(void);			/* "SUCCESS", debug-exit 0 */
NORETURN void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#define check(cond, ...) do { if (!(cond)) fail(__VA_ARGS__); } while (0)

/* ---- command line: "key=value" words after the kernel path ---- */
/* Copies the value of key into buf (NUL-terminated); 0 if found, -1 if not. */
int cmdline_get(const char *key, char *buf, size_t size);
int cmdline_get_uint(const char *key, uint32_t *out);
int parse_uint(const char *s, uint32_t *out);

/* ---- fw_cfg (legacy I/O ports) ---- */
#define FW_CFG_SIGNATURE	0x00
#define FW_CFG_RAM_SIZE		0x03
#define FW_CFG_NB_CPUS		0x05
int fw_cfg_present(void);
void fw_cfg_read(uint16_t key, void *buf, size_t len);

/* ---- ACPI and MP tables ---- */
struct acpi_header {
	char sig[4];
	uint32_t length;
	uint8_t revision;
	uint8_t checksum;
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	uint32_t creator_id;
	uint32_t creator_revision;
} __attribute__((packed));

#define MAX_CPUS 16
struct cpu_list {
	int count;
	uint8_t apic_id[MAX_CPUS];
};

uint8_t checksum8(const void *p, size_t len);
const struct acpi_header *acpi_find_table(const char *sig);
/* Enabled processors of the MADT; -1 when there is no (valid) MADT. */
int madt_cpus(struct cpu_list *out);
/* GSI that ISA irq is wired to (interrupt source overrides), irq if none. */
uint32_t madt_isa_gsi(uint8_t irq);
/* Enabled processors of the MP table; -1 when there is none. */
int mptable_cpus(struct cpu_list *out, uint8_t *bsp_id);

/* ---- interrupts ---- */
struct irq_frame {
	uint32_t edi, esi, ebp, esp, ebx, edx, ecx, eax;
	uint32_t vector, error;
	uint32_t eip, cs, eflags;
};
typedef void (*irq_handler_t)(struct irq_frame *f);
void idt_init(void);
void idt_set_handler(uint8_t vector, irq_handler_t h);

#define PIC_VECTOR_BASE	0x20		/* master 0x20-0x27, slave 0x28-0x2f */
void pic_init(void);			/* remapped, everything masked */
void pic_unmask(uint8_t irq);
void pic_mask_all(void);
void pic_eoi(uint8_t irq);

#define PIT_HZ 1193182u
void pit_start(uint32_t hz);		/* channel 0, mode 2 (rate generator) */
void pit_stop(void);

#define LAPIC_BASE	0xfee00000u
#define LAPIC_ID	0x020
#define LAPIC_EOI	0x0b0
#define LAPIC_SVR	0x0f0
#define LAPIC_ICR_LO	0x300
#define LAPIC_ICR_HI	0x310
#define LAPIC_LVT_TIMER	0x320
#define LAPIC_LVT_LINT0	0x350
#define LAPIC_LVT_LINT1	0x360
#define LAPIC_TIMER_INIT 0x380
#define LAPIC_TIMER_CUR	0x390
#define LAPIC_TIMER_DIV	0x3e0
static inline uint32_t lapic_read(uint32_t reg)
{
	return mmio_read32(LAPIC_BASE + reg);
}

static inline void lapic_write(uint32_t reg, uint32_t v)
{
	mmio_write32(LAPIC_BASE + reg, v);
}

static inline uint8_t lapic_id(void)
{
	return lapic_read(LAPIC_ID) >> 24;
}
/* Software-enable the LAPIC, LINT0 = ExtINT (8259 path), LINT1 = NMI. */
void lapic_enable(void);
void lapic_eoi(void);
/* Send an IPI; returns 0, or -1 if delivery status never cleared. */
int lapic_send_ipi(uint8_t dest, uint32_t icr_lo);

#define IOAPIC_BASE	0xfec00000u
uint32_t ioapic_read(uint32_t reg);
void ioapic_write(uint32_t reg, uint32_t v);
/* Route pin to vector, fixed delivery, physical destination dest. */
void ioapic_route(uint32_t pin, uint8_t vector, uint8_t dest, int level, int active_low);
void ioapic_mask(uint32_t pin);

/* ---- exit paths ---- */
NORETURN void triple_fault(void);

#endif
