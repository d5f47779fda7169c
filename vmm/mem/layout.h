/* SPDX-License-Identifier: MIT */
/*
 * The guest-physical and port map: every fixed address in one place.
 */
#ifndef VMM_LAYOUT_H
#define VMM_LAYOUT_H

/* --- low memory (below 1 MiB) --- */
#define LAYOUT_BOOT_GDT		0x00000500ULL	/* flat GDT for 32/64-bit entry */
#define LAYOUT_BOOT_IDT		0x00000580ULL	/* empty IDT */
#define LAYOUT_BOOT_TABLES_END	0x00000600ULL	/* end of the GDT + IDT area */
#define LAYOUT_PVH_START_INFO	0x00006000ULL	/* struct hvm_start_info + modlist + memmap */
#define LAYOUT_ZERO_PAGE	0x00007000ULL	/* Linux boot_params */
#define LAYOUT_FLAT_LOAD	0x00007c00ULL	/* --flat binaries, entered in real mode here */
#define LAYOUT_PML4		0x00009000ULL	/* identity page tables for 64-bit entry */
#define LAYOUT_PDPT		0x0000a000ULL
#define LAYOUT_PD		0x0000b000ULL	/* 4 pages: 4 GiB of 2 MiB pages */
#define LAYOUT_BOOT_STACK	0x0008f000ULL	/* initial stack top where a protocol wants one */
#define LAYOUT_CMDLINE		0x00020000ULL
#define LAYOUT_CMDLINE_MAX	0x00010000ULL	/* 64 KiB */
#define LAYOUT_MB_INFO		0x00030000ULL	/* multiboot info, mmap, modules, strings */
#define LAYOUT_MB_INFO_MAX	0x00010000ULL
#define LAYOUT_EBDA_START	0x0009fc00ULL	/* RAM below this is usable (e820) */
#define LAYOUT_VGA_START	0x000a0000ULL	/* 0xa0000-0xfffff: reserved in e820 */
#define LAYOUT_ACPI_RSDP	0x000e0000ULL	/* RSDP where Linux scans for it */
#define LAYOUT_ACPI_TABLES	0x000e1000ULL	/* XSDT, FADT, MADT, DSDT ... up to 0xeffff */
#define LAYOUT_ACPI_TABLES_END	0x000f0000ULL
#define LAYOUT_MPTABLE		0x000f0000ULL	/* MP floating pointer + config table */
#define LAYOUT_RESET_VECTOR	0x000ffff0ULL	/* F000:FFF0: firmware/reset.S */
#define LAYOUT_RESET_VECTOR_MAX	16
#define LAYOUT_HIGH_RAM		0x00100000ULL	/* 1 MiB: kernels load here */

/* --- 32-bit hole: RAM above 3 GiB is moved above 4 GiB --- */
#define LAYOUT_MMIO_HOLE_START	0xc0000000ULL
#define LAYOUT_MMIO_HOLE_END	0x100000000ULL
#define LAYOUT_PCI_MMIO_START	0xc0000000ULL	/* BARs are placed here ... */
#define LAYOUT_PCI_MMIO_END	0xfec00000ULL	/* ... up to the IOAPIC */
#define LAYOUT_IOAPIC		0xfec00000ULL
#define LAYOUT_LAPIC		0xfee00000ULL

/* --- ports and interrupt lines --- */
#define PORT_PIT		0x40	/* in-kernel PIT */
#define PORT_I8042_DATA		0x60
#define PORT_I8042_CMD		0x64
#define PORT_RTC		0x70	/* 2 ports */
#define PORT_POST		0x80
#define PORT_DEBUG_EXIT		0xf4	/* 4 ports, QEMU isa-debug-exit compatible */
#define PORT_ACPI_SLEEP		0x3c0	/* FADT sleep control (byte 0) / status (byte 1) */
#define PORT_GED		0x3c4	/* ACPI Generic Event Device: pending events, read clears */
#define PORT_COM1		0x3f8	/* 8 ports */
#define PORT_PVPANIC		0x505
#define PORT_FW_CFG		0x510	/* selector (2 bytes), data at 0x511 */
#define PORT_PCI_CONF_ADDR	0xcf8
#define PORT_PCI_CONF_DATA	0xcfc
#define PORT_RESET		0xcf9	/* reset control register; FADT RESET_REG */

#define GSI_PIT			0
#define GSI_COM1		4
#define GSI_GED			5	/* ACPI Generic Event Device, edge, active high */
#define GSI_ACPI_SCI		9
#define GSI_PCI_BASE		16	/* PCI slot s INTA# -> GSI 16 + (s % 8), level, active low */
#define GSI_PCI_COUNT		8
#define GSI_MSI_BASE		24	/* first GSI handed out for MSI routes */

#endif
