// SPDX-License-Identifier: MIT
/* CMOS RTC: host UTC time, BCD/binary, 12/24 h, status registers, NVRAM. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <time.h>

#include "devices/legacy.h"
#include "fake_vm.h"
#include "mem/layout.h"

static struct vm vm;

static void setup(void)
{
	cr_assert_eq(fake_vm_init(&vm, 64ULL << 20), 0);
}

static void teardown(void)
{
	legacy_devices_destroy(&vm);
	fake_vm_destroy(&vm);
}

TestSuite(rtc, .init = setup, .fini = teardown);

static void create(void)
{
	cr_assert_eq(legacy_devices_create(&vm), 0);
}

static uint8_t cmos_read(uint8_t idx)
{
	uint8_t v = 0;

	cr_assert_eq(bus_access(&vm.pio_bus, PORT_RTC, &idx, 1, true), 0);
	cr_assert_eq(bus_access(&vm.pio_bus, PORT_RTC + 1, &v, 1, false), 0);
	return v;
}

static void cmos_write(uint8_t idx, uint8_t v)
{
	cr_assert_eq(bus_access(&vm.pio_bus, PORT_RTC, &idx, 1, true), 0);
	cr_assert_eq(bus_access(&vm.pio_bus, PORT_RTC + 1, &v, 1, true), 0);
}

static unsigned int from_bcd(uint8_t v)
{
	cr_assert_lt(v & 0x0f, 10, "bad BCD %#x", v);
	cr_assert_lt(v >> 4, 10, "bad BCD %#x", v);
	return (v >> 4) * 10 + (v & 0x0f);
}

/* Reads the RTC the way Linux does and converts it to a time_t. */
static time_t rtc_time(bool binary)
{
	struct tm tm = { 0 };
	uint8_t sec;

	do {
		sec = cmos_read(0x00);
		tm.tm_min = (int)(binary ? cmos_read(0x02) : from_bcd(cmos_read(0x02)));
		tm.tm_hour = (int)(binary ? cmos_read(0x04) : from_bcd(cmos_read(0x04)));
		tm.tm_mday = (int)(binary ? cmos_read(0x07) : from_bcd(cmos_read(0x07)));
		tm.tm_mon = (int)(binary ? cmos_read(0x08) : from_bcd(cmos_read(0x08))) - 1;
		tm.tm_year = (int)(binary ? cmos_read(0x09) : from_bcd(cmos_read(0x09))) +
			     100 * (int)(binary ? cmos_read(0x32) : from_bcd(cmos_read(0x32))) - 1900;
	} while (sec != cmos_read(0x00));
	tm.tm_sec = (int)(binary ? sec : from_bcd(sec));
	return timegm(&tm);
}

Test(rtc, bcd_time_matches_host_utc)
{
	time_t now, got;

	create();
	cr_assert_eq(cmos_read(0x0b), 0x02, "default: BCD, 24 h");
	got = rtc_time(false);
	now = time(NULL);
	cr_assert_leq(labs((long)(now - got)), 3, "rtc %ld host %ld", (long)got, (long)now);
}

Test(rtc, binary_time_matches_host_utc)
{
	time_t now, got;

	create();
	cmos_write(0x0b, 0x06);
	cr_assert_eq(cmos_read(0x0b), 0x06);
	got = rtc_time(true);
	now = time(NULL);
	cr_assert_leq(labs((long)(now - got)), 3, "rtc %ld host %ld", (long)got, (long)now);
}

Test(rtc, bcd_and_binary_differ_as_expected)
{
	struct tm tm;
	time_t now;
	uint8_t y_bcd, y_bin;

	create();
	y_bcd = cmos_read(0x09);
	cmos_write(0x0b, 0x06);
	y_bin = cmos_read(0x09);
	now = time(NULL);
	gmtime_r(&now, &tm);
	cr_assert_eq(y_bin, tm.tm_year % 100);
	cr_assert_eq(y_bcd, ((tm.tm_year % 100) / 10) << 4 | (tm.tm_year % 10));
	cr_assert_eq(cmos_read(0x32), (tm.tm_year + 1900) / 100);
}

Test(rtc, twelve_hour_mode)
{
	struct tm tm;
	time_t now;
	uint8_t h;
	unsigned int want;

	create();
	cmos_write(0x0b, 0x04);		/* binary, 12 h */
	h = cmos_read(0x04);
	now = time(NULL);
	gmtime_r(&now, &tm);
	want = tm.tm_hour % 12 ? (unsigned int)tm.tm_hour % 12 : 12;
	if (tm.tm_min == 59 && tm.tm_sec == 59)
		return;			/* hour may have just rolled over */
	cr_assert_eq(h & 0x7f, want);
	cr_assert_eq(!!(h & 0x80), tm.tm_hour >= 12);
}

Test(rtc, status_registers)
{
	create();
	cr_assert_eq(cmos_read(0x0a), 0x26, "UIP clear, divider 0x26");
	cmos_write(0x0a, 0xff);
	cr_assert_eq(cmos_read(0x0a) & 0x80, 0, "UIP read-only");
	cr_assert_eq(cmos_read(0x0c), 0);
	cr_assert_eq(cmos_read(0x0d), 0x80);
	cmos_write(0x0d, 0x00);
	cr_assert_eq(cmos_read(0x0d), 0x80, "D read-only");
}

Test(rtc, nmi_bit_masked_and_nvram)
{
	create();
	cmos_write(0x40, 0x5a);
	cr_assert_eq(cmos_read(0x40), 0x5a);
	cr_assert_eq(cmos_read(0xc0), 0x5a, "index bit 7 is the NMI mask");
	cmos_write(0x7f, 0xa5);
	cr_assert_eq(cmos_read(0xff), 0xa5);
	cmos_write(0x00, 0x99);		/* time writes are ignored, not stored */
	cr_assert_lt(cmos_read(0x00), 0x60);
}

Test(rtc, memory_size_bytes_small_vm)
{
	create();
	cr_assert_eq(cmos_read(0x15) | cmos_read(0x16) << 8, 640);
	cr_assert_eq(cmos_read(0x17) | cmos_read(0x18) << 8, 63 * 1024);
	cr_assert_eq(cmos_read(0x30) | cmos_read(0x31) << 8, 63 * 1024);
	cr_assert_eq(cmos_read(0x34) | cmos_read(0x35) << 8, (48 << 20) >> 16);
	cr_assert_eq(cmos_read(0x5b) | cmos_read(0x5c) << 8 | cmos_read(0x5d) << 16, 0);
}

Test(rtc, memory_size_bytes_above_4g)
{
	static uint8_t dummy[1];
	struct guest_mem saved = vm.mem;

	/* regions are only counted, never touched: fake the sizes */
	vm.mem.regions[0] = (struct gm_region){ 0, 3ULL << 30, dummy };
	vm.mem.regions[1] = (struct gm_region){ 4ULL << 30, 2ULL << 30, dummy };
	vm.mem.nr_regions = 2;
	vm.mem.ram_size = 5ULL << 30;
	create();
	cr_assert_eq(cmos_read(0x17) | cmos_read(0x18) << 8, 65535, "capped");
	cr_assert_eq(cmos_read(0x30) | cmos_read(0x31) << 8, 65535);
	cr_assert_eq(cmos_read(0x34) | cmos_read(0x35) << 8, ((3ULL << 30) - (16 << 20)) >> 16);
	cr_assert_eq(cmos_read(0x5b) | cmos_read(0x5c) << 8 | cmos_read(0x5d) << 16,
		     (2ULL << 30) >> 16);
	legacy_devices_destroy(&vm);
	vm.mem = saved;
}
