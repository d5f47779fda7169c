// SPDX-License-Identifier: MIT
/*
 * 16550A UART.  Register model (offsets from the base port):
 *
 *   0  RBR (read) / THR (write); DLL when LCR.DLAB
 *   1  IER (low 4 bits);          DLM when LCR.DLAB
 *   2  IIR (read) / FCR (write); not affected by DLAB, as on the 16550A
 *   3  LCR    4  MCR    5  LSR    6  MSR    7  SCR
 *
 * Linux's 8250 autoconfig() must find a 16550A: IER keeps exactly its low
 * nibble, loopback maps MCR DTR/RTS/OUT1/OUT2 onto MSR DSR/CTS/RI/DCD, IIR
 * bits 7:6 read 0b11 once FCR.0 is set, and IIR bits 5:4 always read 0 (no
 * 64-byte FIFO, no EFR under LCR=0xbf, no National SuperIO bank registers).
 *
 * THRE interrupt: thr_ipending is set when the transmitter empties (at once
 * after every THR write) and on a rising edge of IER.ETBEI; it is cleared by
 * a THR write or by an IIR read that reports it.  That is what the 8250
 * driver's "THRE re-assert" test at startup expects.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "state/stream.h"
#include "uart.h"
#include "vm_port.h"

#define UART_RBR	0
#define UART_IER	1
#define UART_IIR	2
#define UART_LCR	3
#define UART_MCR	4
#define UART_LSR	5
#define UART_MSR	6
#define UART_SCR	7

#define IER_ERBFI	0x01	/* received data available */
#define IER_ETBEI	0x02	/* transmitter holding register empty */
#define IER_ELSI	0x04	/* receiver line status */
#define IER_EDSSI	0x08	/* modem status */

#define IIR_NO_INT	0x01
#define IIR_MSI		0x00
#define IIR_THRI	0x02
#define IIR_RDI		0x04
#define IIR_FIFO	0xc0

#define FCR_ENABLE	0x01
#define FCR_CLEAR_RX	0x02
#define FCR_CLEAR_TX	0x04

#define LCR_DLAB	0x80

#define MCR_DTR		0x01
#define MCR_RTS		0x02
#define MCR_OUT1	0x04
#define MCR_OUT2	0x08
#define MCR_LOOP	0x10
#define MCR_MASK	0x1f

#define LSR_DR		0x01
#define LSR_THRE	0x20
#define LSR_TEMT	0x40

#define MSR_DCTS	0x01
#define MSR_DDSR	0x02
#define MSR_TERI	0x04
#define MSR_DDCD	0x08
#define MSR_CTS		0x10
#define MSR_DSR		0x20
#define MSR_RI		0x40
#define MSR_DCD		0x80
#define MSR_DELTA	0x0f

/* A non-blocking output fd that is full may hold the guest this long. */
#define UART_TX_STALL_MS	100

struct uart {
	const struct vm_port *vp;
	uint16_t port;
	unsigned int gsi;

	pthread_mutex_t lock;		/* everything below except the tx fields */
	uint8_t ier, lcr, mcr, msr, scr, fcr;
	uint16_t divisor;
	bool thr_ipending;
	bool irq_level;			/* what we last told vm_irq_line */
	int rx_notify_fd;
	bool rx_was_full;
	unsigned int rx_head, rx_count;
	uint8_t rx[UART_RX_RING];

	pthread_mutex_t tx_lock;	/* serialises writes to out_fd */
	int out_fd;
	bool out_broken;
	bool out_stalled;		/* non-blocking fd full: drop until it drains */
};

/* Caller holds u->lock. */
static uint8_t uart_iir_id(const struct uart *u)
{
	if ((u->ier & IER_ERBFI) && u->rx_count)
		return IIR_RDI;
	if ((u->ier & IER_ETBEI) && u->thr_ipending)
		return IIR_THRI;
	if ((u->ier & IER_EDSSI) && (u->msr & MSR_DELTA))
		return IIR_MSI;
	return IIR_NO_INT;
}

/* Caller holds u->lock.  Drives the line only on a change of level. */
static void uart_update_irq(struct uart *u)
{
	bool level = uart_iir_id(u) != IIR_NO_INT &&
		     (u->mcr & (MCR_OUT2 | MCR_LOOP)) == MCR_OUT2;

	if (level == u->irq_level)
		return;
	u->irq_level = level;
	port_irq_line(u->vp, u->gsi, level);
}

/* Caller holds u->lock. */
static void uart_rx_notify(struct uart *u)
{
	uint64_t one = 1;

	if (!u->rx_was_full || u->rx_count == UART_RX_RING)
		return;
	u->rx_was_full = false;
	if (u->rx_notify_fd >= 0 && write(u->rx_notify_fd, &one, sizeof(one)) < 0)
		log_debug("uart: rx notify eventfd: %s", strerror(errno));
}

/* Caller holds u->lock.  Returns false when the ring is full. */
static bool uart_rx_push(struct uart *u, uint8_t b)
{
	if (u->rx_count == UART_RX_RING)
		return false;
	u->rx[(u->rx_head + u->rx_count) % UART_RX_RING] = b;
	u->rx_count++;
	return true;
}

/* Caller holds u->lock. */
static uint8_t uart_rx_pop(struct uart *u)
{
	uint8_t b;

	if (!u->rx_count)
		return 0;
	b = u->rx[u->rx_head];
	u->rx_head = (u->rx_head + 1) % UART_RX_RING;
	u->rx_count--;
	return b;
}

/* Caller holds u->lock. */
static void uart_rx_clear(struct uart *u)
{
	u->rx_head = 0;
	u->rx_count = 0;
	uart_rx_notify(u);
}

/* Caller holds u->lock.  Recomputes the loopback modem status and deltas. */
static void uart_update_msr(struct uart *u)
{
	uint8_t old = u->msr, now, delta = 0;

	if (u->mcr & MCR_LOOP) {
		now = 0;
		if (u->mcr & MCR_DTR)
			now |= MSR_DSR;
		if (u->mcr & MCR_RTS)
			now |= MSR_CTS;
		if (u->mcr & MCR_OUT1)
			now |= MSR_RI;
		if (u->mcr & MCR_OUT2)
			now |= MSR_DCD;
	} else {
		/* a null-modem cable to an always-ready host */
		now = MSR_DCD | MSR_DSR | MSR_CTS;
	}
	if ((old ^ now) & MSR_CTS)
		delta |= MSR_DCTS;
	if ((old ^ now) & MSR_DSR)
		delta |= MSR_DDSR;
	if ((old & MSR_RI) && !(now & MSR_RI))
		delta |= MSR_TERI;
	if ((old ^ now) & MSR_DCD)
		delta |= MSR_DDCD;
	u->msr = now | (old & MSR_DELTA) | delta;
}

/*
 * Writes all of buf to out_fd, coping with EINTR, partial writes and a
 * non-blocking fd that stays full (bytes dropped after UART_TX_STALL_MS,
 * then at once until a write succeeds again).
 * A dead fd (EPIPE, EIO, ...) is given up on for good, logged once.
 * Caller holds u->tx_lock.
 */
static void uart_out(struct uart *u, const uint8_t *buf, size_t len)
{
	struct pollfd pfd;
	ssize_t n;

	while (len && u->out_fd >= 0 && !u->out_broken) {
		n = write(u->out_fd, buf, len);
		if (n > 0) {
			buf += n;
			len -= (size_t)n;
			u->out_stalled = false;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0 || errno == EAGAIN || errno == EWOULDBLOCK) {
			/* wait once; while it stays stalled, drop without waiting */
			pfd.fd = u->out_fd;
			pfd.events = POLLOUT;
			if (!u->out_stalled && poll(&pfd, 1, UART_TX_STALL_MS) > 0 &&
			    !(pfd.revents & (POLLERR | POLLNVAL)))
				continue;
			if (!u->out_stalled)
				log_warn("uart %#x: console output fd %d is not draining; dropping output",
					 u->port, u->out_fd);
			u->out_stalled = true;
			return;
		}
		log_warn("uart %#x: cannot write console output to fd %d: %s; output dropped from now on",
			 u->port, u->out_fd, strerror(errno));
		u->out_broken = true;
	}
}

static void uart_write_thr(struct uart *u, uint8_t b)
{
	bool loop;

	pthread_mutex_lock(&u->lock);
	loop = u->mcr & MCR_LOOP;
	if (loop)
		uart_rx_push(u, b);	/* a full ring is an overrun: byte lost */
	u->thr_ipending = false;
	uart_update_irq(u);
	pthread_mutex_unlock(&u->lock);

	if (!loop) {
		pthread_mutex_lock(&u->tx_lock);
		uart_out(u, &b, 1);
		pthread_mutex_unlock(&u->tx_lock);
	}

	/* the transmitter is empty again */
	pthread_mutex_lock(&u->lock);
	u->thr_ipending = true;
	uart_update_irq(u);
	pthread_mutex_unlock(&u->lock);
}

/* Caller holds u->lock. */
static void uart_write_fcr(struct uart *u, uint8_t v)
{
	if ((v ^ u->fcr) & FCR_ENABLE) {
		/* switching FIFO mode clears both FIFOs */
		uart_rx_clear(u);
	}
	if (!(v & FCR_ENABLE)) {
		u->fcr = 0;
		return;
	}
	if (v & FCR_CLEAR_RX)
		uart_rx_clear(u);
	/* FCR_CLEAR_TX: transmit is immediate, nothing queued */
	u->fcr = v & ~(FCR_CLEAR_RX | FCR_CLEAR_TX);
}

static void uart_write_reg(struct uart *u, unsigned int off, uint8_t v)
{
	uint8_t changed;

	pthread_mutex_lock(&u->lock);
	if (off == UART_RBR && !(u->lcr & LCR_DLAB)) {
		pthread_mutex_unlock(&u->lock);
		uart_write_thr(u, v);
		return;
	}
	switch (off) {
	case UART_RBR:
		u->divisor = (u->divisor & 0xff00) | v;
		break;
	case UART_IER:
		if (u->lcr & LCR_DLAB) {
			u->divisor = (uint16_t)((u->divisor & 0x00ff) | (v << 8));
			break;
		}
		changed = (u->ier ^ v) & 0x0f;
		u->ier = v & 0x0f;
		/* a rising edge of ETBEI re-arms THRE (the transmitter is empty) */
		if (changed & IER_ETBEI)
			u->thr_ipending = u->ier & IER_ETBEI;
		break;
	case UART_IIR:
		uart_write_fcr(u, v);
		break;
	case UART_LCR:
		u->lcr = v;
		break;
	case UART_MCR:
		u->mcr = v & MCR_MASK;
		uart_update_msr(u);
		break;
	case UART_LSR:
	case UART_MSR:
		break;		/* factory test writes: ignored */
	case UART_SCR:
		u->scr = v;
		break;
	}
	uart_update_irq(u);
	pthread_mutex_unlock(&u->lock);
}

static uint8_t uart_read_reg(struct uart *u, unsigned int off)
{
	uint8_t v = 0xff;

	pthread_mutex_lock(&u->lock);
	switch (off) {
	case UART_RBR:
		if (u->lcr & LCR_DLAB) {
			v = u->divisor & 0xff;
			break;
		}
		v = uart_rx_pop(u);
		uart_rx_notify(u);
		break;
	case UART_IER:
		v = (u->lcr & LCR_DLAB) ? u->divisor >> 8 : u->ier;
		break;
	case UART_IIR:
		v = uart_iir_id(u);
		if (v == IIR_THRI)
			u->thr_ipending = false;
		if (u->fcr & FCR_ENABLE)
			v |= IIR_FIFO;
		break;
	case UART_LCR:
		v = u->lcr;
		break;
	case UART_MCR:
		v = u->mcr;
		break;
	case UART_LSR:
		v = LSR_THRE | LSR_TEMT | (u->rx_count ? LSR_DR : 0);
		break;
	case UART_MSR:
		v = u->msr;
		u->msr &= ~MSR_DELTA;
		break;
	case UART_SCR:
		v = u->scr;
		break;
	}
	uart_update_irq(u);
	pthread_mutex_unlock(&u->lock);
	return v;
}

/* Wider accesses act byte by byte on consecutive registers, as on ISA. */
static void uart_pio_read(void *opaque, uint64_t offset, void *data, unsigned int len)
{
	uint8_t *out = data;
	unsigned int i;

	for (i = 0; i < len; i++)
		out[i] = offset + i < UART_NR_PORTS ?
			 uart_read_reg(opaque, (unsigned int)(offset + i)) : 0xff;
}

static void uart_pio_write(void *opaque, uint64_t offset, const void *data, unsigned int len)
{
	const uint8_t *in = data;
	unsigned int i;

	for (i = 0; i < len && offset + i < UART_NR_PORTS; i++)
		uart_write_reg(opaque, (unsigned int)(offset + i), in[i]);
}

static const struct bus_dev_ops uart_ops = {
	.read = uart_pio_read,
	.write = uart_pio_write,
};

int uart_create(const struct vm_port *vp, uint16_t port, unsigned int gsi, int out_fd,
		struct uart **out)
{
	struct uart *u;
	int ret;

	u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	u->vp = vp;
	u->port = port;
	u->gsi = gsi;
	u->out_fd = out_fd;
	u->rx_notify_fd = -1;
	u->divisor = 12;	/* 9600 baud */
	u->lcr = 0x03;		/* 8N1 */
	u->thr_ipending = true;
	u->msr = MSR_DCD | MSR_DSR | MSR_CTS;
	ret = -pthread_mutex_init(&u->lock, NULL);
	if (ret)
		goto err_free;
	ret = -pthread_mutex_init(&u->tx_lock, NULL);
	if (ret)
		goto err_lock;
	ret = bus_register(vp->pio_bus, port, UART_NR_PORTS, &uart_ops, u, "uart");
	if (ret) {
		log_err("uart: cannot register ports %#x-%#x: %s", port,
			port + UART_NR_PORTS - 1, strerror(-ret));
		goto err_tx_lock;
	}
	*out = u;
	return 0;

err_tx_lock:
	pthread_mutex_destroy(&u->tx_lock);
err_lock:
	pthread_mutex_destroy(&u->lock);
err_free:
	free(u);
	return ret;
}

void uart_destroy(struct uart *u)
{
	if (!u)
		return;
	bus_unregister(u->vp->pio_bus, u->port, u);
	pthread_mutex_destroy(&u->tx_lock);
	pthread_mutex_destroy(&u->lock);
	free(u);
}

size_t uart_receive(struct uart *u, const uint8_t *buf, size_t len)
{
	size_t n;

	pthread_mutex_lock(&u->lock);
	for (n = 0; n < len; n++)
		if (!uart_rx_push(u, buf[n]))
			break;
	if (n < len || u->rx_count == UART_RX_RING)
		u->rx_was_full = true;
	uart_update_irq(u);
	pthread_mutex_unlock(&u->lock);
	return n;
}

size_t uart_rx_room(struct uart *u)
{
	size_t room;

	pthread_mutex_lock(&u->lock);
	room = UART_RX_RING - u->rx_count;
	if (!room)
		u->rx_was_full = true;
	pthread_mutex_unlock(&u->lock);
	return room;
}

void uart_set_rx_notify(struct uart *u, int eventfd)
{
	pthread_mutex_lock(&u->lock);
	u->rx_notify_fd = eventfd;
	pthread_mutex_unlock(&u->lock);
}

/* ---- state (docs/devices.md, "Device state") ---- */

int uart_save(struct uart *u, struct state_writer *w)
{
	unsigned int i;

	pthread_mutex_lock(&u->lock);
	state_put_u8(w, u->ier);
	state_put_u8(w, u->lcr);
	state_put_u8(w, u->mcr);
	state_put_u8(w, u->msr);
	state_put_u8(w, u->scr);
	state_put_u8(w, u->fcr);
	state_put_u16(w, u->divisor);
	state_put_u8(w, u->thr_ipending);
	state_put_u32(w, u->rx_count);
	for (i = 0; i < u->rx_count; i++)
		state_put_u8(w, u->rx[(u->rx_head + i) % UART_RX_RING]);
	pthread_mutex_unlock(&u->lock);
	return w->error;
}

/* The modem status lines (MSR bits 7:4) that MCR implies, as uart_update_msr() sets them. */
static uint8_t msr_lines(uint8_t mcr)
{
	struct uart tmp = { .mcr = mcr };

	uart_update_msr(&tmp);
	return tmp.msr & ~MSR_DELTA;
}

int uart_restore(struct uart *u, struct state_reader *r)
{
	uint8_t ier, lcr, mcr, msr, scr, fcr, thr;
	uint16_t divisor;
	uint32_t count;
	int ret;

	ret = state_get_u8(r, &ier);
	if (!ret)
		ret = state_get_u8(r, &lcr);
	if (!ret)
		ret = state_get_u8(r, &mcr);
	if (!ret)
		ret = state_get_u8(r, &msr);
	if (!ret)
		ret = state_get_u8(r, &scr);
	if (!ret)
		ret = state_get_u8(r, &fcr);
	if (!ret)
		ret = state_get_u16(r, &divisor);
	if (!ret)
		ret = state_get_u8(r, &thr);
	if (!ret)
		ret = state_get_u32(r, &count);
	if (ret)
		return ret;
	if (ier & ~0x0f)
		return state_reader_fail(r, "uart: IER 0x%02x has bits above the low nibble", ier);
	if (mcr & ~MCR_MASK)
		return state_reader_fail(r, "uart: MCR 0x%02x has bits above 0x%02x", mcr, MCR_MASK);
	if ((msr & ~MSR_DELTA) != msr_lines(mcr))
		return state_reader_fail(r, "uart: MSR 0x%02x does not match MCR 0x%02x", msr, mcr);
	if ((fcr & (FCR_CLEAR_RX | FCR_CLEAR_TX)) || (fcr && !(fcr & FCR_ENABLE)))
		return state_reader_fail(r, "uart: FCR 0x%02x is not a state the FIFO control keeps", fcr);
	if (thr > 1)
		return state_reader_fail(r, "uart: thr_ipending %u is not 0 or 1", thr);
	if (count > UART_RX_RING)
		return state_reader_fail(r, "uart: %u bytes of receive FIFO (at most %u)", count,
					 UART_RX_RING);
	if (state_remaining(r) < count)
		return state_reader_fail(r, "uart: receive FIFO of %u bytes, %zu left in the section",
					 count, state_remaining(r));
	pthread_mutex_lock(&u->lock);
	/* count bytes are there: cannot fail now */
	ret = state_get_bytes(r, u->rx, count);
	u->rx_head = 0;
	u->rx_count = ret ? 0 : count;
	u->rx_was_full = false;
	u->ier = ier;
	u->lcr = lcr;
	u->mcr = mcr;
	u->msr = msr;
	u->scr = scr;
	u->fcr = fcr;
	u->divisor = divisor;
	u->thr_ipending = thr;
	/* drive the line as the restored registers say (the irqchip's own state is the VM's) */
	uart_update_irq(u);
	pthread_mutex_unlock(&u->lock);
	return ret;
}
