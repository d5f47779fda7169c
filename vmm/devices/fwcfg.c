// SPDX-License-Identifier: MIT
/*
 * QEMU fw_cfg, traditional I/O interface only (QEMU docs/specs/fw_cfg.txt):
 * a 16-bit write to the selector port picks an item and rewinds it; byte
 * reads of the data port return its bytes in order, then 0 past the end.
 * No DMA (the ID item says so), no files (FILE_DIR is empty), data writes
 * are ignored.  Unknown keys read as empty items.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "legacy.h"
#include "mem/layout.h"
#include "state/stream.h"
#include "vm_port.h"

#define FW_CFG_SIGNATURE	0x0000
#define FW_CFG_ID		0x0001
#define FW_CFG_RAM_SIZE		0x0003
#define FW_CFG_NB_CPUS		0x0005
#define FW_CFG_MAX_CPUS		0x000f
#define FW_CFG_FILE_DIR		0x0019

#define FW_CFG_WRITE_CHANNEL	0x4000	/* legacy "write" flag: ignored */
#define FW_CFG_ID_TRADITIONAL	0x01

static void put_le(uint8_t *p, uint64_t v, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* Caller holds f->lock.  Builds the selected item and rewinds it. */
static void fwcfg_select(struct fwcfg *f, uint16_t key)
{
	const struct vm_port *port = f->port;

	f->key = key;
	f->offset = 0;
	f->len = 0;
	memset(f->item, 0, sizeof(f->item));
	switch (key & ~FW_CFG_WRITE_CHANNEL) {
	case FW_CFG_SIGNATURE:
		memcpy(f->item, "QEMU", 4);
		f->len = 4;
		break;
	case FW_CFG_ID:
		put_le(f->item, FW_CFG_ID_TRADITIONAL, 4);
		f->len = 4;
		break;
	case FW_CFG_RAM_SIZE:
		put_le(f->item, port->mem->ram_size, 8);
		f->len = 8;
		break;
	case FW_CFG_NB_CPUS:
	case FW_CFG_MAX_CPUS:
		put_le(f->item, port->nr_vcpus > 0xffff ? 0xffff : port->nr_vcpus, 2);
		f->len = 2;
		break;
	case FW_CFG_FILE_DIR:
		f->len = 4;	/* big-endian count 0, no entries */
		break;
	}
}

static void fwcfg_pio_read(void *opaque, uint64_t offset, void *data, unsigned int len)
{
	struct fwcfg *f = opaque;
	uint8_t *out = data;
	unsigned int i;

	memset(data, 0, len);
	if (offset != 1)
		return;
	pthread_mutex_lock(&f->lock);
	for (i = 0; i < len; i++) {
		if (f->offset >= f->len)
			break;
		out[i] = f->item[f->offset++];
	}
	pthread_mutex_unlock(&f->lock);
}

static void fwcfg_pio_write(void *opaque, uint64_t offset, const void *data, unsigned int len)
{
	struct fwcfg *f = opaque;
	const uint8_t *in = data;

	if (offset != 0 || len < 2)
		return;		/* data writes and byte selector writes: ignored */
	pthread_mutex_lock(&f->lock);
	fwcfg_select(f, (uint16_t)(in[0] | in[1] << 8));
	pthread_mutex_unlock(&f->lock);
}

static const struct bus_dev_ops fwcfg_ops = {
	.read = fwcfg_pio_read,
	.write = fwcfg_pio_write,
};

int fwcfg_register(struct fwcfg *f, const struct vm_port *port)
{
	int ret;

	memset(f, 0, sizeof(*f));
	f->port = port;
	ret = -pthread_mutex_init(&f->lock, NULL);
	if (ret)
		return ret;
	fwcfg_select(f, FW_CFG_SIGNATURE);
	ret = bus_register(port->pio_bus, PORT_FW_CFG, 2, &fwcfg_ops, f, "fw_cfg");
	if (ret)
		pthread_mutex_destroy(&f->lock);
	return ret;
}

void fwcfg_unregister(struct fwcfg *f)
{
	bus_unregister(f->port->pio_bus, PORT_FW_CFG, f);
	pthread_mutex_destroy(&f->lock);
}

/* ---- state: the selector and the read position; the item is rebuilt from the key ---- */

int fwcfg_save(struct fwcfg *f, struct state_writer *w)
{
	pthread_mutex_lock(&f->lock);
	state_put_u16(w, f->key);
	state_put_u32(w, f->offset);
	pthread_mutex_unlock(&f->lock);
	return w->error;
}

int fwcfg_restore(struct fwcfg *f, struct state_reader *r)
{
	uint16_t key;
	uint32_t offset;
	int ret;

	ret = state_get_u16(r, &key);
	if (!ret)
		ret = state_get_u32(r, &offset);
	if (ret)
		return ret;
	pthread_mutex_lock(&f->lock);
	fwcfg_select(f, key);
	if (offset > f->len) {
		fwcfg_select(f, FW_CFG_SIGNATURE);
		pthread_mutex_unlock(&f->lock);
		return state_reader_fail(r, "fw_cfg: offset %u past the end of item 0x%04x (%u bytes)",
					 offset, key, f->len);
	}
	f->offset = offset;
	pthread_mutex_unlock(&f->lock);
	return 0;
}
