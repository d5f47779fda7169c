/* SPDX-License-Identifier: MIT */
/* Runtime for the test guests: strings, COM1, printf, exits, command line. */
#include "lib.h"

#define COM1		0x3f8
#define UART_LSR_THRE	0x20

struct mb_info *boot_mbi;
const char *boot_cmdline = "";

void lib_start(uint32_t magic, struct mb_info *mbi);

size_t strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

int strncmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++) {
		if (*a != *b)
			return (unsigned char)*a - (unsigned char)*b;
		if (!*a)
			return 0;
	}
	return 0;
}

int strcmp(const char *a, const char *b)
{
	return strncmp(a, b, (size_t)-1);
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;

	for (; n; n--, x++, y++)
		if (*x != *y)
			return *x - *y;
	return 0;
}

void *memcpy(void *d, const void *s, size_t n)
{
	__asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
	return d;
}

void *memset(void *d, int c, size_t n)
{
	void *ret = d;

	__asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
	return ret;
}

void serial_init(void)
{
	outb(COM1 + 1, 0x00);	/* no interrupts */
	outb(COM1 + 3, 0x80);	/* DLAB */
	outb(COM1 + 0, 0x01);	/* 115200 baud */
	outb(COM1 + 1, 0x00);
	outb(COM1 + 3, 0x03);	/* 8N1 */
	/* FCR untouched: toggling FIFO enable would drop bytes already received */
	outb(COM1 + 4, 0x0b);	/* DTR, RTS, OUT2 (IRQ line enable) */
}

void putchar_serial(char c)
{
	int spins = 100000;

	if (c == '\n')
		putchar_serial('\r');
	while (!(inb(COM1 + 5) & UART_LSR_THRE) && --spins)
		cpu_relax();
	outb(COM1, c);
}

void puts_serial(const char *s)
{
	while (*s)
		putchar_serial(*s++);
}

static void put_uint(uint64_t v, unsigned int base, int width, char pad)
{
	char buf[24];
	int n = 0;

	do {
		unsigned int digit;

		if (base == 16) {
			digit = v & 15;
			v >>= 4;
		} else {
			/* 64-bit division needs libgcc: do it 32 bits at a time */
			uint32_t hi = v >> 32, lo = (uint32_t)v;
			uint32_t qhi = hi / 10, rhi = hi % 10;
			uint64_t mid = ((uint64_t)rhi << 32) | lo;
			uint32_t qlo, r;

			/* mid < 10 * 2^32: split once more */
			uint32_t mhi = mid >> 16, mlo = mid & 0xffff;
			uint32_t q1 = mhi / 10, r1 = mhi % 10;
			uint32_t x = (r1 << 16) | mlo;

			qlo = (q1 << 16) | (x / 10);
			r = x % 10;
			digit = r;
			v = ((uint64_t)qhi << 32) | qlo;
		}
		buf[n++] = "0123456789abcdef"[digit];
	} while (v);
	while (n < width && n < (int)sizeof(buf))
		buf[n++] = pad;
	while (n)
		putchar_serial(buf[--n]);
}

static void vprintf_serial(const char *fmt, va_list ap)
{
	for (; *fmt; fmt++) {
		int width = 0, longs = 0;
		char pad = ' ';
		uint64_t v;

		if (*fmt != '%') {
			putchar_serial(*fmt);
			continue;
		}
		fmt++;
		if (*fmt == '0')
			pad = '0';
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		while (*fmt == 'l') {
			longs++;
			fmt++;
		}
		switch (*fmt) {
		case 's': {
			const char *s = va_arg(ap, const char *);

			puts_serial(s ? s : "(null)");
			break;
		}
		case 'c':
			putchar_serial((char)va_arg(ap, int));
			break;
		case 'd': {
			int32_t d = va_arg(ap, int32_t);

			if (d < 0) {
				putchar_serial('-');
				d = -d;
			}
			put_uint((uint32_t)d, 10, width, pad);
			break;
		}
		case 'u':
		case 'x':
			v = longs >= 2 ? va_arg(ap, uint64_t) : va_arg(ap, uint32_t);
			put_uint(v, *fmt == 'x' ? 16 : 10, width, pad);
			break;
		case '%':
			putchar_serial('%');
			break;
		default:
			putchar_serial('?');
			break;
		}
	}
}

void printf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf_serial(fmt, ap);
	va_end(ap);
}

void debug_exit(uint8_t v)
{
	outb(DEBUG_EXIT_PORT, v);
	/* not under vmm (or the port is broken): stop here for good */
	puts_serial("debug-exit did not exit\n");
	triple_fault();
}

void succeed(void)
{
	puts_serial("SUCCESS\n");
	debug_exit(0);
}

void fail(const char *fmt, ...)
{
	va_list ap;

	puts_serial("FAIL: ");
	va_start(ap, fmt);
	vprintf_serial(fmt, ap);
	va_end(ap);
	puts_serial("\n");
	debug_exit(1);
}

void triple_fault(void)
{
	static const struct {
		uint16_t limit;
		uint32_t base;
	} __attribute__((packed)) empty_idt = { 0, 0 };

	/* ud2, not int3: the PVM dev hosts emulate INT n only in real mode */
	__asm__ volatile("cli; lidt %0; ud2" : : "m"(empty_idt));
	for (;;)
		__asm__ volatile("hlt");
}

int parse_uint(const char *s, uint32_t *out)
{
	uint32_t v = 0;

	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > 429496728u)
			return -1;
		v = v * 10 + (*s - '0');
	}
	*out = v;
	return 0;
}

int cmdline_get(const char *key, char *buf, size_t size)
{
	const char *p = boot_cmdline;
	size_t klen = strlen(key);

	while (*p) {
		const char *w = p;
		size_t n;

		while (*p && *p != ' ')
			p++;
		if ((size_t)(p - w) > klen && !strncmp(w, key, klen) && w[klen] == '=') {
			w += klen + 1;
			n = p - w;
			if (n >= size)
				return -1;
			memcpy(buf, w, n);
			buf[n] = 0;
			return 0;
		}
		while (*p == ' ')
			p++;
	}
	return -1;
}

int cmdline_get_uint(const char *key, uint32_t *out)
{
	char buf[16];

	if (cmdline_get(key, buf, sizeof(buf)))
		return -1;
	return parse_uint(buf, out);
}

int fw_cfg_present(void)
{
	char sig[4];

	fw_cfg_read(FW_CFG_SIGNATURE, sig, 4);
	return !memcmp(sig, "QEMU", 4);
}

void fw_cfg_read(uint16_t key, void *buf, size_t len)
{
	uint8_t *p = buf;

	outw(0x510, key);
	while (len--)
		*p++ = inb(0x511);
}

void lib_start(uint32_t magic, struct mb_info *mbi)
{
	serial_init();
	if (magic != MB_BOOT_MAGIC)
		fail("bad multiboot magic 0x%x", magic);
	boot_mbi = mbi;
	if ((mbi->flags & (1u << 2)) && mbi->cmdline)
		boot_cmdline = (const char *)mbi->cmdline;
	guest_main();
	fail("guest_main returned");
}
