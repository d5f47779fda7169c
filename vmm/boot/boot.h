/* SPDX-License-Identifier: MIT */
/*
 * Guest boot loaders and firmware tables.  Pure code: everything here writes
 * into a struct guest_mem and never calls KVM, so tests and fuzzers run it on
 * a malloc()ed buffer.  The caller (vm set-up) turns struct boot_entry into
 * vCPU registers and builds the GDT and page tables (vmm/mem/layout.h).
 *
 * Order: acpi_build(), mptable_build(), then boot_load() (which points the
 * guest at the RSDP).  See docs/boot.md.
 */
#ifndef VMM_BOOT_H
#define VMM_BOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mem/guest_mem.h"
#include "options.h"

enum boot_cpu_mode { BOOT_MODE_REAL16, BOOT_MODE_PROT32, BOOT_MODE_LONG64 };

struct boot_entry {
	enum boot_cpu_mode mode;
	uint64_t rip, rsp, rax, rbx, rsi;	/* registers the protocol defines; others zero */
	uint64_t rdx;				/* flat: boot drive 0x80 */
	uint16_t real_cs;			/* REAL16 only: CS selector (base = sel << 4), rip is the offset */
	const char *kind;			/* "bzImage", "pvh", "multiboot", "flat" for logs */
};

/*
 * Memory layout: RAM is [0, min(mem, 3G)) and, if mem > 3G,
 * [4G, 4G + mem - 3G).  The caller creates those regions in gm.
 *
 * boot_load reads cfg->kernel (and cfg->initrd) and loads it; on error it
 * returns -errno and writes one line naming the file and the problem to err.
 */
int boot_load(struct guest_mem *gm, const struct vm_config *cfg,
	      struct boot_entry *entry, char *err, size_t errlen);

/* What boot_load has read from the files: the parsers work on buffers only. */
struct boot_input {
	const uint8_t *kernel;
	size_t kernel_len;
	const char *kernel_name;	/* for messages and the multiboot cmdline */
	const uint8_t *initrd;		/* NULL: none */
	size_t initrd_len;
	const char *initrd_name;
	const char *cmdline;		/* NULL: VMM_DEFAULT_CMDLINE */
	bool flat;
	bool guest_unpack;		/* bzImage: the guest unpacks kernel and initramfs */
};

/* The loader proper; fuzz/fuzz_boot.c calls it directly. */
int boot_load_buf(struct guest_mem *gm, const struct boot_input *in,
		  struct boot_entry *entry, char *err, size_t errlen);

/*
 * Builds RSDP (at LAYOUT_ACPI_RSDP) + XSDT/RSDT + FADT + MADT + DSDT in
 * [LAYOUT_ACPI_TABLES, LAYOUT_ACPI_TABLES_END).  Returns 0 or -errno.
 */
int acpi_build(struct guest_mem *gm, unsigned int ncpus);

/* Intel MP table (floating pointer + config table) at LAYOUT_MPTABLE. 0 or -errno. */
int mptable_build(struct guest_mem *gm, unsigned int ncpus);

/* The reset-vector stub (firmware/reset.S) at LAYOUT_RESET_VECTOR. 0 or -errno. */
int firmware_install(struct guest_mem *gm);

/* ---- the e820 map, shared by every protocol ---- */
#define E820_RAM	1
#define E820_RESERVED	2
#define E820_MAX	32

struct boot_e820 {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
};

/*
 * The guest's memory map from the RAM regions of gm: usable below the EBDA,
 * reserved [EBDA, 1 MiB), usable from 1 MiB (and above 4 GiB).  The 3-4 GiB
 * MMIO hole is left out (a gap), as QEMU and Firecracker do.  Returns the
 * number of entries written (at most max), sorted and merged.
 */
unsigned int boot_e820(const struct guest_mem *gm, struct boot_e820 *out, unsigned int max);

/* End of the RAM that starts at 1 MiB (the low RAM end, at most 3 GiB), 0 if none. */
uint64_t boot_low_ram_end(const struct guest_mem *gm);

/* Where acpi_build put the RSDP (0 if not built). */
uint64_t acpi_rsdp_addr(const struct guest_mem *gm);

#endif
