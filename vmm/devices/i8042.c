// SPDX-License-Identifier: MIT
/*
 * i8042 keyboard controller, without a keyboard or mouse behind it.
 *
 * Enough for Linux's i8042 probe to finish quickly (self-test, command byte,
 * interface tests, AUX loopback) and for a reboot through the controller's
 * reset line (command 0xfe, or any pulse command 0xf0-0xfe with bit 0
 * clear, or output-port writes with bit 0 clear).  Bytes written to the
 * keyboard or the mouse are dropped: no device answers.  IRQ 1 / 12 are not
 * wired; the guest polls the status register.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "exitcode.h"
#include "legacy.h"
#include "log.h"
#include "mem/layout.h"
#include "state/stream.h"
#include "vm_port.h"

#define STS_OBF		0x01	/* output buffer full */
#define STS_SYS		0x04	/* system flag: self-test passed */
#define STS_CMD		0x08	/* last write was to the command port */
#define STS_UNLOCKED	0x10	/* keyboard not inhibited */
#define STS_AUX_OBF	0x20	/* output buffer holds mouse data */

#define CTR_KBD_INT	0x01
#define CTR_SYS		0x04
#define CTR_KBD_DIS	0x10
#define CTR_AUX_DIS	0x20
#define CTR_XLATE	0x40

#define OUT_RESET	0x01	/* 0: CPU held in reset */
#define OUT_A20		0x02

/* Caller holds k->lock. */
static void i8042_push(struct i8042 *k, uint8_t v, bool aux)
{
	unsigned int i;

	if (k->ocount == I8042_OBUF_SIZE)
		return;		/* the guest is not reading: drop */
	i = (k->ohead + k->ocount) % I8042_OBUF_SIZE;
	k->obuf[i] = v;
	k->obuf_aux[i] = aux;
	k->ocount++;
}

static void i8042_reset_request(struct i8042 *k, const char *how)
{
	log_info("guest reset through the i8042 (%s)", how);
	port_request_exit(k->port, VM_EXIT_RESET, VMM_EXIT_OK);
}

/* Caller holds k->lock. */
static void i8042_command(struct i8042 *k, uint8_t cmd)
{
	switch (cmd) {
	case 0x20:			/* read command byte */
		i8042_push(k, k->ctr, false);
		break;
	case 0x21 ... 0x3f:		/* read internal RAM */
		i8042_push(k, k->ram[cmd & 0x1f], false);
		break;
	case 0x60 ... 0x7f:		/* write command byte / RAM: data follows */
	case 0xd1:			/* write output port */
	case 0xd2:			/* write keyboard output buffer */
	case 0xd3:			/* write AUX output buffer (loopback) */
	case 0xd4:			/* write to the AUX device */
		k->pending = cmd;
		break;
	case 0xa7:			/* disable AUX */
		k->ctr |= CTR_AUX_DIS;
		break;
	case 0xa8:			/* enable AUX */
		k->ctr &= ~CTR_AUX_DIS;
		break;
	case 0xa9:			/* AUX interface test: clock line stuck low */
		i8042_push(k, 0x01, false);
		break;
	case 0xaa:			/* controller self-test */
		k->status |= STS_SYS;
		i8042_push(k, 0x55, false);
		break;
	case 0xab:			/* keyboard interface test: OK */
		i8042_push(k, 0x00, false);
		break;
	case 0xad:			/* disable keyboard */
		k->ctr |= CTR_KBD_DIS;
		break;
	case 0xae:			/* enable keyboard */
		k->ctr &= ~CTR_KBD_DIS;
		break;
	case 0xc0:			/* read input port */
		i8042_push(k, 0x80, false);	/* keyboard not inhibited */
		break;
	case 0xd0:			/* read output port */
		i8042_push(k, k->outport, false);
		break;
	case 0xdd:			/* A20 off / on: ignored, A20 is always on */
	case 0xdf:
		break;
	case 0xe0:			/* read test inputs */
		i8042_push(k, 0x00, false);
		break;
	case 0xf0 ... 0xff:		/* pulse output lines low; bit 0 = reset */
		if (!(cmd & 0x01))
			i8042_reset_request(k, "pulse reset line");
		break;
	default:
		log_debug("i8042: unknown command %#x ignored", cmd);
		break;
	}
}

/* Caller holds k->lock. */
static void i8042_data(struct i8042 *k, uint8_t v)
{
	uint8_t cmd = k->pending;

	k->pending = 0;
	switch (cmd) {
	case 0x60:
		k->ctr = v;
		k->status = (k->status & ~STS_SYS) | (v & CTR_SYS);
		break;
	case 0x61 ... 0x7f:
		k->ram[cmd & 0x1f] = v;
		break;
	case 0xd1:
		k->outport = v;
		if (!(v & OUT_RESET))
			i8042_reset_request(k, "output port reset bit");
		break;
	case 0xd2:
		i8042_push(k, v, false);
		break;
	case 0xd3:
		i8042_push(k, v, true);
		break;
	case 0xd4:
	default:
		/* to the mouse or the keyboard: nobody is there */
		break;
	}
}

static uint8_t i8042_status(const struct i8042 *k)
{
	uint8_t s = k->status | STS_UNLOCKED;

	if (k->ocount) {
		s |= STS_OBF;
		if (k->obuf_aux[k->ohead])
			s |= STS_AUX_OBF;
	}
	return s;
}

static void i8042_data_read(void *opaque, uint64_t offset, void *data, unsigned int len)
{
	struct i8042 *k = opaque;
	uint8_t v;

	pthread_mutex_lock(&k->lock);
	if (k->ocount) {
		k->last_out = k->obuf[k->ohead];
		k->ohead = (k->ohead + 1) % I8042_OBUF_SIZE;
		k->ocount--;
	}
	v = k->last_out;
	pthread_mutex_unlock(&k->lock);
	memset(data, 0, len);
	*(uint8_t *)data = v;
}

static void i8042_data_write(void *opaque, uint64_t offset, const void *data, unsigned int len)
{
	struct i8042 *k = opaque;

	pthread_mutex_lock(&k->lock);
	k->status &= ~STS_CMD;
	i8042_data(k, *(const uint8_t *)data);
	pthread_mutex_unlock(&k->lock);
}

static void i8042_cmd_read(void *opaque, uint64_t offset, void *data, unsigned int len)
{
	struct i8042 *k = opaque;
	uint8_t v;

	pthread_mutex_lock(&k->lock);
	v = i8042_status(k);
	pthread_mutex_unlock(&k->lock);
	memset(data, 0, len);
	*(uint8_t *)data = v;
}

static void i8042_cmd_write(void *opaque, uint64_t offset, const void *data, unsigned int len)
{
	struct i8042 *k = opaque;

	pthread_mutex_lock(&k->lock);
	k->status |= STS_CMD;
	k->pending = 0;
	i8042_command(k, *(const uint8_t *)data);
	pthread_mutex_unlock(&k->lock);
}

static const struct bus_dev_ops i8042_data_ops = {
	.read = i8042_data_read,
	.write = i8042_data_write,
};

static const struct bus_dev_ops i8042_cmd_ops = {
	.read = i8042_cmd_read,
	.write = i8042_cmd_write,
};

int i8042_register(struct i8042 *k, const struct vm_port *port)
{
	int ret;

	memset(k, 0, sizeof(*k));
	k->port = port;
	k->ctr = CTR_KBD_INT | CTR_SYS | CTR_XLATE;
	k->status = STS_SYS;
	k->outport = OUT_RESET | OUT_A20;
	ret = -pthread_mutex_init(&k->lock, NULL);
	if (ret)
		return ret;
	ret = bus_register(port->pio_bus, PORT_I8042_DATA, 1, &i8042_data_ops, k, "i8042-data");
	if (ret)
		goto err_lock;
	ret = bus_register(port->pio_bus, PORT_I8042_CMD, 1, &i8042_cmd_ops, k, "i8042-cmd");
	if (ret)
		goto err_data;
	return 0;

err_data:
	bus_unregister(port->pio_bus, PORT_I8042_DATA, k);
err_lock:
	pthread_mutex_destroy(&k->lock);
	return ret;
}

void i8042_unregister(struct i8042 *k)
{
	bus_unregister(k->port->pio_bus, PORT_I8042_CMD, k);
	bus_unregister(k->port->pio_bus, PORT_I8042_DATA, k);
	pthread_mutex_destroy(&k->lock);
}

/* ---- state ---- */

#define STS_SAVED	(STS_SYS | STS_CMD)

static bool pending_ok(uint8_t cmd)
{
	return !cmd || (cmd >= 0x60 && cmd <= 0x7f) || (cmd >= 0xd1 && cmd <= 0xd4);
}

int i8042_save(struct i8042 *k, struct state_writer *w)
{
	unsigned int i;

	pthread_mutex_lock(&k->lock);
	state_put_u8(w, k->ctr);
	state_put_bytes(w, k->ram, sizeof(k->ram));
	state_put_u8(w, k->status);
	state_put_u8(w, k->outport);
	state_put_u8(w, k->pending);
	state_put_u8(w, k->last_out);
	state_put_u8(w, k->last_aux);
	state_put_u8(w, (uint8_t)k->ocount);
	for (i = 0; i < k->ocount; i++) {
		unsigned int j = (k->ohead + i) % I8042_OBUF_SIZE;

		state_put_u8(w, k->obuf[j]);
		state_put_u8(w, k->obuf_aux[j]);
	}
	pthread_mutex_unlock(&k->lock);
	return w->error;
}

int i8042_restore(struct i8042 *k, struct state_reader *r)
{
	uint8_t ctr, ram[32], status, outport, pending, last_out, last_aux, count;
	uint8_t obuf[I8042_OBUF_SIZE], aux[I8042_OBUF_SIZE];
	unsigned int i;
	int ret;

	ret = state_get_u8(r, &ctr);
	if (!ret)
		ret = state_get_bytes(r, ram, sizeof(ram));
	if (!ret)
		ret = state_get_u8(r, &status);
	if (!ret)
		ret = state_get_u8(r, &outport);
	if (!ret)
		ret = state_get_u8(r, &pending);
	if (!ret)
		ret = state_get_u8(r, &last_out);
	if (!ret)
		ret = state_get_u8(r, &last_aux);
	if (!ret)
		ret = state_get_u8(r, &count);
	if (ret)
		return ret;
	if (status & ~STS_SAVED)
		return state_reader_fail(r, "i8042: status 0x%02x has bits other than SYS and CMD", status);
	if (!pending_ok(pending))
		return state_reader_fail(r, "i8042: pending command 0x%02x takes no data byte", pending);
	if (last_aux > 1)
		return state_reader_fail(r, "i8042: last_aux %u is not 0 or 1", last_aux);
	if (count > I8042_OBUF_SIZE)
		return state_reader_fail(r, "i8042: %u bytes in the output buffer (at most %u)",
					 count, I8042_OBUF_SIZE);
	for (i = 0; i < count; i++) {
		ret = state_get_u8(r, &obuf[i]);
		if (!ret)
			ret = state_get_u8(r, &aux[i]);
		if (ret)
			return ret;
		if (aux[i] > 1)
			return state_reader_fail(r, "i8042: output byte %u: aux flag %u is not 0 or 1",
						 i, aux[i]);
	}
	pthread_mutex_lock(&k->lock);
	k->ctr = ctr;
	memcpy(k->ram, ram, sizeof(ram));
	k->status = status;
	k->outport = outport;
	k->pending = pending;
	k->last_out = last_out;
	k->last_aux = last_aux;
	k->ohead = 0;
	k->ocount = count;
	for (i = 0; i < count; i++) {
		k->obuf[i] = obuf[i];
		k->obuf_aux[i] = aux[i];
	}
	pthread_mutex_unlock(&k->lock);
	return 0;
}
