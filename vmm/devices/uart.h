/* SPDX-License-Identifier: MIT */
/*
 * A 16550A-compatible UART (COM1) on the port-I/O bus.
 *
 * Transmit is immediate: every THR byte is written to out_fd at once, so LSR
 * always reports THRE|TEMT.  Receive goes through a ring of UART_RX_RING
 * bytes, much bigger than the 16-byte FIFO of the real chip, so that pasted
 * input is not lost while the guest is slow to drain it; the main loop stops
 * reading stdin when uart_rx_room() is 0 and resumes when the rx-notify
 * eventfd fires.
 *
 * The interrupt line (GSI) follows the pending state of IIR, gated by
 * MCR.OUT2 as on a PC, and is off in loopback mode.
 */
#ifndef VMM_UART_H
#define VMM_UART_H

#include <stddef.h>
#include <stdint.h>

#define UART_NR_PORTS	8
#define UART_RX_RING	4096

struct vm_port;
struct uart;
struct state_writer;
struct state_reader;

/*
 * Creates the UART and registers ports [port, port+8) on vp->pio_bus.
 * out_fd -1: output dropped.  The caller keeps ownership of out_fd and
 * stores *out where it wants it (usually vm->com1).  0 or -errno.
 */
int uart_create(const struct vm_port *vp, uint16_t port, unsigned int gsi, int out_fd,
		struct uart **out);
/* Unregisters the ports and frees u.  NULL is fine. */
void uart_destroy(struct uart *u);

/* Host -> guest bytes.  Returns how many fit; raises RX interrupt if enabled. */
size_t uart_receive(struct uart *u, const uint8_t *buf, size_t len);
/* Free bytes in the receive ring. */
size_t uart_rx_room(struct uart *u);
/*
 * eventfd written (8-byte 1) when the guest frees receive room after the ring
 * was full (uart_receive could not take everything).  -1 disables.
 */
void uart_set_rx_notify(struct uart *u, int eventfd);

/*
 * State (docs/devices.md, "Device state"), UART_STATE_VERSION: every
 * register, THRE pending, the receive FIFO's bytes in order.  Restore
 * checks each value against what the register model can hold, then
 * drives the interrupt line to match.  0 or -errno (r names the field).
 */
#define UART_STATE_VERSION	1
int uart_save(struct uart *u, struct state_writer *w);
int uart_restore(struct uart *u, struct state_reader *r);

#endif
