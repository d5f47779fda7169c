/* SPDX-License-Identifier: MIT */
/*
 * rtc: reads the CMOS clock (ports 0x70/0x71), BCD or binary as status
 * register B says, and compares the date with the host's: the harness passes
 * "date=YYYY-MM-DD" (UTC, now) and "date2=YYYY-MM-DD" (UTC, a few minutes
 * later, so a run across midnight still passes).  Either must match.
 */
#include "lib.h"

#define CMOS_INDEX	0x70
#define CMOS_DATA	0x71

struct rtc_time {
	uint32_t year, month, day, hour, min, sec;
};

static uint8_t cmos_read(uint8_t reg)
{
	outb(CMOS_INDEX, reg);
	return inb(CMOS_DATA);
}

static uint32_t from_bcd(uint8_t v, int binary)
{
	return binary ? v : (v >> 4) * 10 + (v & 15);
}

static void rtc_read_once(struct rtc_time *t, int binary)
{
	int spins = 10000;

	while ((cmos_read(0x0a) & 0x80) && --spins)	/* update in progress */
		cpu_relax();
	t->sec = from_bcd(cmos_read(0x00), binary);
	t->min = from_bcd(cmos_read(0x02), binary);
	t->hour = cmos_read(0x04);
	t->day = from_bcd(cmos_read(0x07), binary);
	t->month = from_bcd(cmos_read(0x08), binary);
	t->year = from_bcd(cmos_read(0x09), binary);
}

static int parse_date(const char *key, struct rtc_time *d)
{
	char buf[16];

	if (cmdline_get(key, buf, sizeof(buf)) || strlen(buf) != 10 ||
	    buf[4] != '-' || buf[7] != '-')
		return -1;
	buf[4] = buf[7] = 0;
	if (parse_uint(buf, &d->year) || parse_uint(buf + 5, &d->month) ||
	    parse_uint(buf + 8, &d->day))
		return -1;
	return 0;
}

static int same_day(const struct rtc_time *a, const struct rtc_time *b)
{
	return a->year == b->year && a->month == b->month && a->day == b->day;
}

void guest_main(void)
{
	struct rtc_time t, t2, want, want2;
	uint8_t regb = cmos_read(0x0b);
	int binary = regb & 0x04, h24 = regb & 0x02, tries = 5, pm;
	uint32_t century;

	check(!parse_date("date", &want), "need date=YYYY-MM-DD on the command line");
	if (parse_date("date2", &want2))
		want2 = want;

	do {
		rtc_read_once(&t, binary);
		rtc_read_once(&t2, binary);
	} while (memcmp(&t, &t2, sizeof(t)) && --tries);
	check(tries, "the RTC never reads the same twice");

	pm = !h24 && (t.hour & 0x80);
	t.hour = from_bcd(t.hour & 0x7f, binary);
	if (!h24)
		t.hour = t.hour % 12 + (pm ? 12 : 0);
	century = from_bcd(cmos_read(0x32), binary);
	printf("RTC: reg B 0x%x (%s, %s), century reg %u\n", regb,
	       binary ? "binary" : "BCD", h24 ? "24h" : "12h", century);
	if (century >= 19 && century <= 21)
		t.year += century * 100;
	else
		t.year += 2000;
	printf("RTC: %04u-%02u-%02u %02u:%02u:%02u\n", t.year, t.month, t.day,
	       t.hour, t.min, t.sec);

	check(t.sec < 60 && t.min < 60 && t.hour < 24, "time out of range");
	check(t.month >= 1 && t.month <= 12 && t.day >= 1 && t.day <= 31,
	      "date out of range");
	check(same_day(&t, &want) || same_day(&t, &want2),
	      "RTC date is not the host's %04u-%02u-%02u (or %04u-%02u-%02u)",
	      want.year, want.month, want.day, want2.year, want2.month, want2.day);
	succeed();
}
