// SPDX-License-Identifier: MIT
/*
 * MC146818 CMOS RTC + 128 bytes of NVRAM at ports 0x70 (index) / 0x71 (data).
 *
 * The time registers read the host clock in UTC every time (no stored time,
 * no drift), encoded per register B: BCD or binary, 24 h or 12 h with bit 7
 * = PM.  Guest writes to the time registers are ignored: the guest cannot
 * set the clock.  Register A reads UIP clear with the 32.768 kHz divider;
 * C reads 0 (no periodic/alarm/update interrupts: IRQ 8 is not wired); D
 * reads 0x80 (battery good).  Everything else is plain RAM, filled at reset
 * with the memory-size bytes a PC BIOS (and QEMU) leaves there.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "legacy.h"
#include "mem/layout.h"
#include "state/stream.h"
#include "vm_port.h"

#define RTC_SECONDS		0x00
#define RTC_MINUTES		0x02
#define RTC_HOURS		0x04
#define RTC_DAY_OF_WEEK		0x06
#define RTC_DAY_OF_MONTH	0x07
#define RTC_MONTH		0x08
#define RTC_YEAR		0x09
#define RTC_REG_A		0x0a
#define RTC_REG_B		0x0b
#define RTC_REG_C		0x0c
#define RTC_REG_D		0x0d
#define RTC_CENTURY		0x32

#define REG_A_UIP		0x80
#define REG_A_DEFAULT		0x26	/* 32.768 kHz time base, 1024 Hz rate */
#define REG_B_24H		0x02
#define REG_B_BINARY		0x04
#define REG_D_VRT		0x80

#define KiB			1024ULL
#define MiB			(1024 * KiB)
#define GiB			(1024 * MiB)

static uint8_t rtc_encode(const struct rtc *r, unsigned int v)
{
	if (r->cmos[RTC_REG_B] & REG_B_BINARY)
		return (uint8_t)v;
	return (uint8_t)(((v / 10) % 10) << 4 | (v % 10));
}

/* Caller holds r->lock.  idx is a time register. */
static uint8_t rtc_read_time(const struct rtc *r, unsigned int idx)
{
	struct timespec ts;
	struct tm tm;
	unsigned int hour, year;

	clock_gettime(CLOCK_REALTIME, &ts);
	if (!gmtime_r(&ts.tv_sec, &tm))
		return 0;
	year = (unsigned int)tm.tm_year + 1900;
	switch (idx) {
	case RTC_SECONDS:
		return rtc_encode(r, tm.tm_sec > 59 ? 59 : (unsigned int)tm.tm_sec);
	case RTC_MINUTES:
		return rtc_encode(r, (unsigned int)tm.tm_min);
	case RTC_HOURS:
		if (r->cmos[RTC_REG_B] & REG_B_24H)
			return rtc_encode(r, (unsigned int)tm.tm_hour);
		hour = (unsigned int)tm.tm_hour % 12;
		return rtc_encode(r, hour ? hour : 12) | (tm.tm_hour >= 12 ? 0x80 : 0);
	case RTC_DAY_OF_WEEK:
		return rtc_encode(r, (unsigned int)tm.tm_wday + 1);
	case RTC_DAY_OF_MONTH:
		return rtc_encode(r, (unsigned int)tm.tm_mday);
	case RTC_MONTH:
		return rtc_encode(r, (unsigned int)tm.tm_mon + 1);
	case RTC_YEAR:
		return rtc_encode(r, year % 100);
	case RTC_CENTURY:
		return rtc_encode(r, year / 100);
	}
	return 0;
}

static bool rtc_is_time(unsigned int idx)
{
	switch (idx) {
	case RTC_SECONDS:
	case RTC_MINUTES:
	case RTC_HOURS:
	case RTC_DAY_OF_WEEK:
	case RTC_DAY_OF_MONTH:
	case RTC_MONTH:
	case RTC_YEAR:
	case RTC_CENTURY:
		return true;
	}
	return false;
}

static uint8_t rtc_read_data(struct rtc *r)
{
	unsigned int idx = r->index;

	if (rtc_is_time(idx))
		return rtc_read_time(r, idx);
	switch (idx) {
	case RTC_REG_A:
		return r->cmos[idx] & ~REG_A_UIP;
	case RTC_REG_C:
		return 0;
	case RTC_REG_D:
		return REG_D_VRT;
	}
	return r->cmos[idx];
}

static void rtc_write_data(struct rtc *r, uint8_t v)
{
	unsigned int idx = r->index;

	if (rtc_is_time(idx))
		return;
	switch (idx) {
	case RTC_REG_A:
		r->cmos[idx] = v & ~REG_A_UIP;
		return;
	case RTC_REG_C:
	case RTC_REG_D:
		return;		/* read-only */
	}
	r->cmos[idx] = v;
}

static void rtc_pio_read(void *opaque, uint64_t offset, void *data, unsigned int len)
{
	struct rtc *r = opaque;
	uint8_t *out = data;

	memset(data, 0xff, len);
	if (offset != 1)
		return;		/* the index register is write-only */
	pthread_mutex_lock(&r->lock);
	out[0] = rtc_read_data(r);
	pthread_mutex_unlock(&r->lock);
}

static void rtc_pio_write(void *opaque, uint64_t offset, const void *data, unsigned int len)
{
	struct rtc *r = opaque;
	const uint8_t *in = data;

	pthread_mutex_lock(&r->lock);
	if (offset == 0) {
		r->index = in[0] & 0x7f;	/* bit 7: NMI disable, not ours */
		if (len > 1)
			rtc_write_data(r, in[1]);
	} else if (offset == 1) {
		rtc_write_data(r, in[0]);
	}
	pthread_mutex_unlock(&r->lock);
}

static const struct bus_dev_ops rtc_ops = {
	.read = rtc_pio_read,
	.write = rtc_pio_write,
};

static void cmos_put16(struct rtc *r, unsigned int idx, uint64_t v)
{
	if (v > 0xffff)
		v = 0xffff;
	r->cmos[idx] = v & 0xff;
	r->cmos[idx + 1] = (v >> 8) & 0xff;
}

/* The BIOS memory-size bytes, from the RAM regions below and above 4 GiB. */
static void rtc_fill_memory(struct rtc *r, const struct guest_mem *gm)
{
	uint64_t below = 0, above = 0, ext, v;
	unsigned int i;

	for (i = 0; i < gm->nr_regions && i < GM_MAX_REGIONS; i++) {
		const struct gm_region *reg = &gm->regions[i];
		uint64_t end = reg->gpa + reg->size;

		if (end < reg->gpa)
			end = UINT64_MAX;
		if (reg->gpa < 4 * GiB) {
			below += (end < 4 * GiB ? end : 4 * GiB) - reg->gpa;
			if (end > 4 * GiB)
				above += end - 4 * GiB;
		} else {
			above += end - reg->gpa;
		}
	}
	cmos_put16(r, 0x15, 640);			/* base memory, KiB */
	ext = below > MiB ? (below - MiB) / KiB : 0;	/* extended memory, KiB */
	cmos_put16(r, 0x17, ext);
	cmos_put16(r, 0x30, ext);
	v = below > 16 * MiB ? (below - 16 * MiB) / (64 * KiB) : 0;
	cmos_put16(r, 0x34, v);				/* above 16 MiB, 64 KiB units */
	v = above / (64 * KiB);				/* above 4 GiB, 64 KiB units */
	if (v > 0xffffff)
		v = 0xffffff;
	r->cmos[0x5b] = v & 0xff;
	r->cmos[0x5c] = (v >> 8) & 0xff;
	r->cmos[0x5d] = (v >> 16) & 0xff;
}

int rtc_register(struct rtc *r, const struct vm_port *port)
{
	int ret;

	memset(r, 0, sizeof(*r));
	r->port = port;
	r->cmos[RTC_REG_A] = REG_A_DEFAULT;
	r->cmos[RTC_REG_B] = REG_B_24H;
	rtc_fill_memory(r, port->mem);
	ret = -pthread_mutex_init(&r->lock, NULL);
	if (ret)
		return ret;
	ret = bus_register(port->pio_bus, PORT_RTC, 2, &rtc_ops, r, "rtc");
	if (ret)
		pthread_mutex_destroy(&r->lock);
	return ret;
}

void rtc_unregister(struct rtc *r)
{
	bus_unregister(r->port->pio_bus, PORT_RTC, r);
	pthread_mutex_destroy(&r->lock);
}

/* ---- state: the index register and all 128 bytes (the time is the host's) ---- */

int rtc_save(struct rtc *r, struct state_writer *w)
{
	pthread_mutex_lock(&r->lock);
	state_put_u8(w, r->index);
	state_put_bytes(w, r->cmos, sizeof(r->cmos));
	pthread_mutex_unlock(&r->lock);
	return w->error;
}

int rtc_restore(struct rtc *r, struct state_reader *rd)
{
	uint8_t index, cmos[RTC_CMOS_SIZE];
	int ret;

	ret = state_get_u8(rd, &index);
	if (!ret)
		ret = state_get_bytes(rd, cmos, sizeof(cmos));
	if (ret)
		return ret;
	if (index >= RTC_CMOS_SIZE)
		return state_reader_fail(rd, "rtc: index register 0x%02x (at most 0x7f)", index);
	if (cmos[RTC_REG_A] & REG_A_UIP)
		return state_reader_fail(rd, "rtc: register A 0x%02x has UIP set", cmos[RTC_REG_A]);
	pthread_mutex_lock(&r->lock);
	r->index = index;
	memcpy(r->cmos, cmos, sizeof(cmos));
	pthread_mutex_unlock(&r->lock);
	return 0;
}
