// SPDX-License-Identifier: MIT
/*
 * Linux bzImage, x86 boot protocol 2.06+ (Documentation/arch/x86/boot.rst),
 * entered at the 64-bit entry point: protected-mode kernel at 1 MiB, entry
 * at 1 MiB + 0x200, %rsi = zero page, paging on with an identity map.
 */
#include <errno.h>

#include "boot/loader.h"
#include "log.h"
#include "mem/layout.h"

/* offsets in struct boot_params (the zero page) */
#define BP_ACPI_RSDP_ADDR	0x070
#define BP_EXT_RAMDISK_IMAGE	0x0c0
#define BP_EXT_RAMDISK_SIZE	0x0c4
#define BP_EXT_CMD_LINE_PTR	0x0c8
#define BP_E820_ENTRIES		0x1e8
#define BP_HDR			0x1f1	/* struct setup_header starts here */
#define BP_HDR_MAX_END		0x290	/* and may extend up to edd_mbr_sig_buffer */
#define BP_E820_TABLE		0x2d0
#define BP_E820_MAX		128
#define BP_SIZE			0x1000

/* setup header fields (offsets in the file and in boot_params alike) */
#define HDR_SETUP_SECTS		0x1f1
#define HDR_JUMP		0x200
#define HDR_MAGIC		0x202
#define HDR_VERSION		0x206
#define HDR_TYPE_OF_LOADER	0x210
#define HDR_LOADFLAGS		0x211
#define HDR_RAMDISK_IMAGE	0x218
#define HDR_RAMDISK_SIZE	0x21c
#define HDR_HEAP_END_PTR	0x224
#define HDR_CMD_LINE_PTR	0x228
#define HDR_INITRD_ADDR_MAX	0x22c
#define HDR_XLOADFLAGS		0x236
#define HDR_CMDLINE_SIZE	0x238
#define HDR_PAYLOAD_OFFSET	0x248
#define HDR_PAYLOAD_LENGTH	0x24c
#define HDR_PREF_ADDRESS	0x258
#define HDR_INIT_SIZE		0x260

#define LOADED_HIGH		0x01
#define CAN_USE_HEAP		0x80
#define XLF_KERNEL_64		0x0001

#define KERNEL_LOAD		LAYOUT_HIGH_RAM
#define KERNEL_64_ENTRY		0x200

static uint64_t max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

/* Where the kernel may still write while decompressing: its load area and init_size at pref_address. */
static uint64_t kernel_footprint_end(const uint8_t *hdr_buf, size_t klen, uint16_t version)
{
	uint64_t end = KERNEL_LOAD + klen;
	uint64_t init_size, pref;

	if (version < 0x20a)
		return end;
	init_size = get_le32(hdr_buf + HDR_INIT_SIZE);
	pref = get_le64(hdr_buf + HDR_PREF_ADDRESS);
	end = max_u64(end, KERNEL_LOAD + init_size);
	if (pref >= KERNEL_LOAD && pref < LAYOUT_MMIO_HOLE_START)
		end = max_u64(end, pref + init_size);
	return end;
}

static int write_e820(struct guest_mem *gm, uint8_t *bp)
{
	struct boot_e820 map[E820_MAX];
	unsigned int i, n = boot_e820(gm, map, E820_MAX);

	if (n > BP_E820_MAX)
		n = BP_E820_MAX;
	bp[BP_E820_ENTRIES] = (uint8_t)n;
	for (i = 0; i < n; i++) {
		uint8_t *e = bp + BP_E820_TABLE + 20 * i;

		put_le64(e, map[i].addr);
		put_le64(e + 8, map[i].size);
		put_le32(e + 16, map[i].type);
	}
	return 0;
}

int boot_bzimage(struct guest_mem *gm, const struct boot_input *in,
		 struct boot_entry *entry, char *err, size_t errlen)
{
	const uint8_t *k = in->kernel;
	const char *name = in->kernel_name;
	const char *cmdline = boot_cmdline(in);
	uint64_t setup_size, klen, hdr_end, initrd_addr = 0, limit, kend;
	uint64_t rip = KERNEL_LOAD + KERNEL_64_ENTRY, elf_end = 0;
	size_t initrd_len = 0;
	bool unpacked = false;
	char why[160];
	uint16_t version, xlf;
	uint32_t cmdline_size;
	size_t cmdline_len = strlen(cmdline);
	unsigned int setup_sects;
	uint8_t *bp;
	int ret;

	if (in->kernel_len < HDR_MAGIC + 4 || memcmp(k + HDR_MAGIC, "HdrS", 4))
		return 1;
	if (in->kernel_len < HDR_CMDLINE_SIZE + 4)
		return boot_err(err, errlen, -ENOEXEC, "%s: bzImage truncated: setup header cut short at %zu bytes",
				name, in->kernel_len);
	version = get_le16(k + HDR_VERSION);
	if (version < 0x206)
		return boot_err(err, errlen, -ENOEXEC, "%s: bzImage boot protocol %u.%02u is too old (2.06 or later needed)",
				name, version >> 8, version & 0xff);
	xlf = version >= 0x20c ? get_le16(k + HDR_XLOADFLAGS) : 0;
	if (!(xlf & XLF_KERNEL_64))
		return boot_err(err, errlen, -ENOEXEC, "%s: bzImage has no 64-bit entry point (XLF_KERNEL_64 not set; a 64-bit kernel is needed)",
				name);
	if (!(k[HDR_LOADFLAGS] & LOADED_HIGH))
		return boot_err(err, errlen, -ENOEXEC, "%s: zImage (loaded low) is not supported, only bzImage", name);
	setup_sects = k[HDR_SETUP_SECTS] ? k[HDR_SETUP_SECTS] : 4;
	setup_size = (uint64_t)(setup_sects + 1) * 512;
	if (in->kernel_len <= setup_size)
		return boot_err(err, errlen, -ENOEXEC, "%s: bzImage truncated: %zu bytes, setup alone is %llu bytes",
				name, in->kernel_len, (unsigned long long)setup_size);
	klen = in->kernel_len - setup_size;
	hdr_end = HDR_MAGIC + (uint64_t)k[HDR_JUMP + 1];
	if (hdr_end > BP_HDR_MAX_END)
		hdr_end = BP_HDR_MAX_END;
	if (hdr_end > in->kernel_len)
		hdr_end = in->kernel_len;

	cmdline_size = get_le32(k + HDR_CMDLINE_SIZE);
	if (cmdline_len > cmdline_size || cmdline_len >= LAYOUT_CMDLINE_MAX)
		return boot_err(err, errlen, -E2BIG, "%s: command line of %zu bytes is too long (kernel accepts %u, vmm %llu)",
				name, cmdline_len, cmdline_size, (unsigned long long)LAYOUT_CMDLINE_MAX - 1);

	if (!gm_ptr(gm, KERNEL_LOAD, klen))
		return boot_err(err, errlen, -ENOMEM, "%s: kernel of %llu bytes does not fit in guest RAM at 1 MiB",
				name, (unsigned long long)klen);
	bp = gm_ptr(gm, LAYOUT_ZERO_PAGE, BP_SIZE);
	if (!bp)
		return boot_err(err, errlen, -EFAULT, "%s: guest RAM does not cover the zero page", name);

	/* unpack on the host when we can: the guest skips its decompressor */
	if (!in->guest_unpack && version >= 0x208) {
		unpacked = !bzimage_load_unpacked(gm, k + setup_size, klen,
						  get_le32(k + HDR_PAYLOAD_OFFSET),
						  get_le32(k + HDR_PAYLOAD_LENGTH),
						  &rip, &elf_end, why, sizeof(why));
		if (unpacked)
			log_info("%s: unpacked the %s payload on the host, entering vmlinux at 0x%llx",
				 name, why, (unsigned long long)rip);
		else
			log_warn("%s: not unpacked on the host (%s): the guest decompresses it", name, why);
	}
	kend = max_u64(kernel_footprint_end(k, klen, version), elf_end);
	if (in->initrd) {
		limit = (uint64_t)get_le32(k + HDR_INITRD_ADDR_MAX) + 1;
		/* with the kernel: --guest-unpack leaves both to the guest */
		if (in->guest_unpack ||
		    boot_place_initrd_unpacked(gm, in, kend, limit, &initrd_addr, &initrd_len)) {
			initrd_len = in->initrd_len;
			ret = boot_place_initrd(gm, in, kend, limit, &initrd_addr, err, errlen);
			if (ret)
				return ret;
		}
	}
	if ((!unpacked && gm_write(gm, KERNEL_LOAD, k + setup_size, klen)) ||
	    boot_put_string(gm, LAYOUT_CMDLINE, cmdline, LAYOUT_CMDLINE_MAX))
		return boot_err(err, errlen, -EFAULT, "%s: cannot write kernel or command line to guest RAM", name);

	memset(bp, 0, BP_SIZE);
	memcpy(bp + BP_HDR, k + BP_HDR, hdr_end - BP_HDR);
	bp[HDR_TYPE_OF_LOADER] = 0xff;
	bp[HDR_LOADFLAGS] |= CAN_USE_HEAP;
	put_le16(bp + HDR_HEAP_END_PTR, 0xfe00 - 0x200);
	put_le32(bp + HDR_CMD_LINE_PTR, (uint32_t)LAYOUT_CMDLINE);
	put_le32(bp + BP_EXT_CMD_LINE_PTR, (uint32_t)(LAYOUT_CMDLINE >> 32));
	put_le32(bp + HDR_RAMDISK_IMAGE, (uint32_t)initrd_addr);
	put_le32(bp + HDR_RAMDISK_SIZE, (uint32_t)initrd_len);
	put_le32(bp + BP_EXT_RAMDISK_IMAGE, (uint32_t)(initrd_addr >> 32));
	put_le32(bp + BP_EXT_RAMDISK_SIZE, (uint32_t)((uint64_t)initrd_len >> 32));
	if (version >= 0x20e)
		put_le64(bp + BP_ACPI_RSDP_ADDR, acpi_rsdp_addr(gm));
	write_e820(gm, bp);

	*entry = (struct boot_entry){
		.mode = BOOT_MODE_LONG64,
		.rip = rip,
		.rsi = LAYOUT_ZERO_PAGE,
		.rsp = LAYOUT_BOOT_STACK,
		.kind = unpacked ? "bzImage, unpacked on the host" : "bzImage",
	};
	return 0;
}
