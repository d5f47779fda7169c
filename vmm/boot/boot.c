// SPDX-License-Identifier: MIT
/*
 * boot_load: reads the kernel (and initrd) files, then hands the buffers to
 * the protocol loaders in order: flat, bzImage, multiboot v1, ELF with PVH.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "boot/loader.h"
#include "log.h"
#include "mem/layout.h"

int boot_err(char *err, size_t errlen, int ret, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return ret;
}

const char *boot_cmdline(const struct boot_input *in)
{
	return in->cmdline ? in->cmdline : VMM_DEFAULT_CMDLINE;
}

int boot_put_string(struct guest_mem *gm, uint64_t gpa, const char *s, size_t max)
{
	size_t n = strlen(s) + 1;

	if (n > max)
		return -E2BIG;
	return gm_write(gm, gpa, s, n);
}

int boot_copy(struct guest_mem *gm, uint64_t gpa, const void *src, uint64_t len,
	      uint64_t zero_len)
{
	uint8_t *dst;

	if (len + zero_len < len)
		return -EFAULT;
	dst = gm_ptr(gm, gpa, len + zero_len);
	if (!dst)
		return -EFAULT;
	if (len)
		memcpy(dst, src, len);
	memset(dst + len, 0, zero_len);
	return 0;
}

int boot_place_initrd(struct guest_mem *gm, const struct boot_input *in,
		      uint64_t kernel_end, uint64_t limit_end, uint64_t *addr,
		      char *err, size_t errlen)
{
	uint64_t top = boot_low_ram_end(gm);
	uint64_t a;

	if (limit_end < top)
		top = limit_end;
	if (in->initrd_len > top || ((top - in->initrd_len) & ~0xfffULL) < kernel_end)
		return boot_err(err, errlen, -ENOMEM,
				"%s: initrd of %zu bytes does not fit in guest RAM between the kernel end 0x%llx and 0x%llx; give the guest more memory",
				in->initrd_name, in->initrd_len,
				(unsigned long long)kernel_end, (unsigned long long)top);
	a = (top - in->initrd_len) & ~0xfffULL;
	if (gm_write(gm, a, in->initrd, in->initrd_len))
		return boot_err(err, errlen, -EFAULT, "%s: initrd at 0x%llx is outside guest RAM",
				in->initrd_name, (unsigned long long)a);
	*addr = a;
	return 0;
}

int boot_place_initrd_unpacked(struct guest_mem *gm, const struct boot_input *in,
			       uint64_t kernel_end, uint64_t limit_end, uint64_t *addr,
			       size_t *len)
{
	uint64_t top = boot_low_ram_end(gm), start, cap;
	uint8_t *dst;
	char why[160];
	int ret;

	if (limit_end < top)
		top = limit_end;
	/* right above the kernel: its size is only known once unpacked */
	start = (kernel_end + INITRD_ALIGN - 1) & ~(INITRD_ALIGN - 1);
	if (start >= top)
		return 1;
	cap = top - start;
	if (cap > gm->ram_size / 4)
		cap = gm->ram_size / 4;	/* the guest needs room for the files too */
	dst = gm_ptr(gm, start, cap);
	if (!dst)
		return 1;
	ret = initrd_unpack(in->initrd, in->initrd_len, dst, cap, len, why, sizeof(why));
	if (ret) {
		log_info("%s: initrd not unpacked on the host (%s): the guest unpacks it",
			 in->initrd_name, why);
		return 1;
	}
	log_info("%s: unpacked the %s initramfs on the host: %zu bytes of cpio at 0x%llx",
		 in->initrd_name, why, *len, (unsigned long long)start);
	*addr = start;
	return 0;
}

int boot_flat(struct guest_mem *gm, const struct boot_input *in,
	      struct boot_entry *entry, char *err, size_t errlen)
{
	const uint64_t max = LAYOUT_EBDA_START - LAYOUT_FLAT_LOAD;

	if (!in->flat)
		return 1;
	if (in->initrd)
		return boot_err(err, errlen, -EINVAL, "%s: --initrd cannot be used with --flat",
				in->initrd_name);
	if (in->kernel_len > max)
		return boot_err(err, errlen, -EFBIG,
				"%s: flat binary of %zu bytes is too large (at most %llu bytes fit at 0x7c00 below the EBDA)",
				in->kernel_name, in->kernel_len, (unsigned long long)max);
	if (gm_write(gm, LAYOUT_FLAT_LOAD, in->kernel, in->kernel_len))
		return boot_err(err, errlen, -EFAULT, "%s: guest RAM does not cover 0x7c00", in->kernel_name);
	*entry = (struct boot_entry){
		.mode = BOOT_MODE_REAL16,
		.real_cs = 0,
		.rip = LAYOUT_FLAT_LOAD,
		.rsp = LAYOUT_FLAT_LOAD,
		.rdx = 0x80,
		.kind = "flat",
	};
	return 0;
}

int boot_load_buf(struct guest_mem *gm, const struct boot_input *in,
		  struct boot_entry *entry, char *err, size_t errlen)
{
	int (*const loaders[])(struct guest_mem *, const struct boot_input *,
			       struct boot_entry *, char *, size_t) = {
		boot_flat, boot_bzimage, boot_multiboot, boot_pvh,
	};
	size_t i;
	int ret;

	if (err && errlen)
		err[0] = '\0';
	if (!in->kernel_len)
		return boot_err(err, errlen, -ENOEXEC, "%s: kernel file is empty", in->kernel_name);
	if (in->initrd && in->initrd_len > gm->ram_size)
		return boot_err(err, errlen, -EFBIG, "%s: initrd of %zu bytes is larger than guest memory (%llu bytes)",
				in->initrd_name, in->initrd_len, (unsigned long long)gm->ram_size);
	for (i = 0; i < sizeof(loaders) / sizeof(loaders[0]); i++) {
		ret = loaders[i](gm, in, entry, err, errlen);
		if (ret <= 0)
			return ret;
	}
	return boot_err(err, errlen, -ENOEXEC,
			"%s: not a bzImage, ELF with a PVH note, or multiboot kernel (use --flat for a raw binary)",
			in->kernel_name);
}

/*
 * Maps a whole regular file of at most max bytes read-only, pages populated
 * up front: no copy and no page faults later, which matters where every
 * fault is emulated (the testhost).  Read through a private mapping, a file
 * shrunk by someone else while vmm boots would fault; vmm reads it within
 * the first second and never again (boot_load unmaps it).
 */
static int map_file(const char *path, size_t max, const char *what,
		    uint8_t **bufp, size_t *lenp, char *err, size_t errlen)
{
	struct stat st;
	void *map;
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return boot_err(err, errlen, -errno, "%s: cannot open %s: %s", path, what, strerror(errno));
	if (fstat(fd, &st)) {
		ret = boot_err(err, errlen, -errno, "%s: cannot stat %s: %s", path, what, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		ret = boot_err(err, errlen, -EINVAL, "%s: %s is not a regular file", path, what);
		goto out;
	}
	if ((uint64_t)st.st_size > max) {
		ret = boot_err(err, errlen, -EFBIG, "%s: %s of %lld bytes is larger than guest memory (%zu bytes)",
			       path, what, (long long)st.st_size, max);
		goto out;
	}
	ret = 0;
	*lenp = (size_t)st.st_size;
	*bufp = NULL;
	if (!st.st_size)
		goto out;	/* empty: the loaders say so */
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
	if (map == MAP_FAILED) {
		ret = boot_err(err, errlen, -errno, "%s: cannot map %s: %s", path, what, strerror(errno));
		goto out;
	}
	*bufp = map;
out:
	close(fd);
	return ret;
}

static void unmap_file(uint8_t *buf, size_t len)
{
	if (buf)
		munmap(buf, len);
}

int boot_load(struct guest_mem *gm, const struct vm_config *cfg,
	      struct boot_entry *entry, char *err, size_t errlen)
{
	struct boot_input in = {
		.kernel_name = cfg->kernel,
		.initrd_name = cfg->initrd,
		.cmdline = cfg->cmdline,
		.flat = cfg->flat,
		.guest_unpack = cfg->guest_unpack,
	};
	uint8_t *kernel = NULL, *initrd = NULL;
	size_t max = gm->ram_size > SIZE_MAX ? SIZE_MAX : (size_t)gm->ram_size;
	int ret;

	if (!cfg->kernel)
		return boot_err(err, errlen, -EINVAL, "no kernel given");
	ret = map_file(cfg->kernel, max, "kernel", &kernel, &in.kernel_len, err, errlen);
	if (ret)
		return ret;
	in.kernel = kernel;
	if (cfg->initrd) {
		ret = map_file(cfg->initrd, max, "initrd", &initrd, &in.initrd_len, err, errlen);
		if (ret)
			goto out;
		in.initrd = initrd ? initrd : (const uint8_t *)"";	/* empty: still given */
	}
	log_debug("read %s (%zu bytes)%s%s", cfg->kernel, in.kernel_len,
		  cfg->initrd ? " and " : "", cfg->initrd ? cfg->initrd : "");
	ret = boot_load_buf(gm, &in, entry, err, errlen);
	if (!ret)
		log_info("loaded %s (%s, %zu bytes), entry 0x%llx%s%s",
			 cfg->kernel, entry->kind, in.kernel_len, (unsigned long long)entry->rip,
			 cfg->initrd ? ", initrd " : "", cfg->initrd ? cfg->initrd : "");
out:
	unmap_file(initrd, in.initrd_len);
	unmap_file(kernel, in.kernel_len);
	return ret;
}
