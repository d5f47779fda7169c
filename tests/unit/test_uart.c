// SPDX-License-Identifier: MIT
/* 16550A UART: register semantics, interrupts, RX ring, output, Linux probe. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "devices/uart.h"
#include "fake_vm.h"
#include "mem/layout.h"

enum { RBR, IER, IIR, LCR, MCR, LSR, MSR, SCR };
#define FCR IIR

static struct vm vm;
static struct uart *u;
static int pipefd[2] = { -1, -1 };

static void setup(void)
{
	cr_assert_eq(fake_vm_init(&vm, 0), 0);
	cr_assert_eq(pipe2(pipefd, O_NONBLOCK), 0);
	cr_assert_eq(uart_create(&vm.port, PORT_COM1, GSI_COM1, pipefd[1], &u), 0);
}

static void teardown(void)
{
	uart_destroy(u);
	u = NULL;
	if (pipefd[0] >= 0)
		close(pipefd[0]);
	if (pipefd[1] >= 0)
		close(pipefd[1]);
	pipefd[0] = pipefd[1] = -1;
	fake_vm_destroy(&vm);
}

static uint8_t in8(unsigned int reg)
{
	uint8_t v = 0;

	cr_assert_eq(bus_access(&vm.pio_bus, PORT_COM1 + reg, &v, 1, false), 0);
	return v;
}

static void out8(unsigned int reg, uint8_t v)
{
	cr_assert_eq(bus_access(&vm.pio_bus, PORT_COM1 + reg, &v, 1, true), 0);
}

static ssize_t drain(char *buf, size_t len)
{
	ssize_t n = read(pipefd[0], buf, len);

	return n < 0 ? 0 : n;
}

TestSuite(uart, .init = setup, .fini = teardown);

Test(uart, scratch_register_holds_any_value)
{
	out8(SCR, 0x5a);
	cr_assert_eq(in8(SCR), 0x5a);
	out8(SCR, 0xa5);
	cr_assert_eq(in8(SCR), 0xa5);
}

Test(uart, dlab_switches_offsets_0_1_to_divisor_latch)
{
	char buf[8];

	out8(LCR, 0x83);
	out8(RBR, 0x01);	/* DLL */
	out8(IER, 0x02);	/* DLM */
	cr_assert_eq(in8(RBR), 0x01);
	cr_assert_eq(in8(IER), 0x02);
	cr_assert_eq(drain(buf, sizeof(buf)), 0, "DLL write must not transmit");
	out8(LCR, 0x03);
	cr_assert_eq(in8(LCR), 0x03);
	cr_assert_eq(in8(IER), 0x00, "IER untouched by the DLM write");
	out8(LCR, 0x83);
	cr_assert_eq(in8(RBR), 0x01, "divisor latch kept");
	cr_assert_eq(in8(IER), 0x02);
}

Test(uart, ier_keeps_only_low_nibble)
{
	out8(IER, 0xff);
	cr_assert_eq(in8(IER), 0x0f);
	out8(IER, 0x00);
	cr_assert_eq(in8(IER), 0x00);
}

Test(uart, lsr_always_thre_temt_and_dr_follows_rx)
{
	cr_assert_eq(in8(LSR), 0x60);
	cr_assert_eq(uart_receive(u, (const uint8_t *)"ab", 2), 2);
	cr_assert_eq(in8(LSR), 0x61);
	cr_assert_eq(in8(RBR), 'a');
	cr_assert_eq(in8(LSR), 0x61);
	cr_assert_eq(in8(RBR), 'b');
	cr_assert_eq(in8(LSR), 0x60);
}

Test(uart, thr_bytes_reach_out_fd)
{
	const char *msg = "hello, world\n";
	char buf[64] = { 0 };
	size_t i;

	for (i = 0; msg[i]; i++)
		out8(RBR, (uint8_t)msg[i]);
	cr_assert_eq(drain(buf, sizeof(buf) - 1), (ssize_t)strlen(msg));
	cr_assert_str_eq(buf, msg);
}

Test(uart, closed_output_pipe_is_given_up_without_hanging)
{
	struct sigaction sa = { .sa_handler = SIG_IGN }, old;

	sigaction(SIGPIPE, &sa, &old);
	close(pipefd[0]);
	pipefd[0] = -1;
	out8(RBR, 'a');
	out8(RBR, 'b');
	cr_assert_eq(in8(LSR) & 0x60, 0x60);
	sigaction(SIGPIPE, &old, NULL);
}

Test(uart, full_nonblocking_pipe_drops_instead_of_blocking)
{
	char big[4096];
	int i;

	memset(big, 'y', sizeof(big));
	while (write(pipefd[1], big, sizeof(big)) > 0)
		;
	cr_assert_eq(errno, EAGAIN);
	for (i = 0; i < 4; i++)
		out8(RBR, 'z');	/* returns after a bounded stall */
	cr_assert_eq(in8(LSR) & 0x60, 0x60);
}

Test(uart, linux_autoconfig_detects_16550a)
{
	uint8_t save_ier, s2, s3, msr;

	/* scratch test on IER */
	save_ier = in8(IER);
	out8(IER, 0);
	s2 = in8(IER) & 0x0f;
	out8(IER, 0x0f);
	s3 = in8(IER) & 0x0f;
	out8(IER, save_ier);
	cr_assert_eq(s2, 0);
	cr_assert_eq(s3, 0x0f);

	/* loopback test */
	out8(MCR, 0x10 | 0x0a);
	msr = in8(MSR) & 0xf0;
	out8(MCR, 0);
	cr_assert_eq(msr, 0x90, "loopback RTS->CTS, OUT2->DCD, got %#x", msr);

	/* EFR probe, then FIFO detection */
	out8(LCR, 0xbf);
	out8(2, 0);
	out8(LCR, 0);
	out8(FCR, 0x01);
	cr_assert_eq(in8(IIR) >> 6, 3, "IIR top bits must be 0b11 with FIFO enabled");

	/* autoconfig_16550a: no EFR visible under DLAB or LCR=0xbf */
	out8(LCR, 0x80);
	cr_assert_neq(in8(2), 0);
	out8(LCR, 0xbf);
	cr_assert_neq(in8(2), 0);
	/* not an NS SuperIO: bank register never mirrors MCR.LOOP */
	out8(LCR, 0xe0);
	cr_assert_eq(in8(2) & 0x10, 0);
	/* not a 16750: IIR bit 5 stays clear with or without DLAB */
	out8(LCR, 0);
	out8(FCR, 0x21);
	cr_assert_eq(in8(IIR) >> 5, 6);
	out8(FCR, 0x01);
	out8(LCR, 0x80);
	out8(FCR, 0x21);
	cr_assert_eq(in8(IIR) >> 5, 6);
	out8(FCR, 0x01);
	out8(LCR, 0);
	/* no UUE bit in IER */
	out8(IER, 0x40);
	cr_assert_eq(in8(IER) & 0x40, 0);
}

Test(uart, fifo_disabled_clears_iir_top_bits)
{
	out8(FCR, 0x01);
	cr_assert_eq(in8(IIR), 0xc1);
	out8(FCR, 0x00);
	cr_assert_eq(in8(IIR), 0x01);
}

Test(uart, fcr_clear_rx_empties_ring)
{
	out8(FCR, 0x01);
	uart_receive(u, (const uint8_t *)"abc", 3);
	out8(FCR, 0x03);
	cr_assert_eq(in8(LSR) & 0x01, 0);
	cr_assert_eq(uart_rx_room(u), UART_RX_RING);
}

Test(uart, thre_interrupt_and_rearm_on_ier_write)
{
	unsigned int raises;

	out8(MCR, 0x08);		/* OUT2: IRQ to the PIC */
	cr_assert_eq(fake_vm.irq_level[GSI_COM1], 0);
	out8(IER, 0x02);
	cr_assert_eq(fake_vm.irq_level[GSI_COM1], 1);
	cr_assert_eq(in8(IIR) & 0x0f, 0x02);
	/* reading IIR that reported THRE clears it */
	cr_assert_eq(fake_vm.irq_level[GSI_COM1], 0);
	cr_assert_eq(in8(IIR) & 0x0f, 0x01);

	/* the 8250 driver's startup test: IER 0 then THRI again re-asserts */
	out8(IER, 0);
	out8(IER, 0x02);
	cr_assert_eq(in8(IIR) & 0x0f, 0x02);
	cr_assert_eq(in8(IIR) & 0x0f, 0x01);

	/* every THR write gives a fresh edge once the byte is out */
	raises = fake_vm.irq_raises[GSI_COM1];
	out8(RBR, 'a');
	cr_assert_eq(fake_vm.irq_raises[GSI_COM1], raises + 1);
	cr_assert_eq(fake_vm.irq_level[GSI_COM1], 1);
	out8(RBR, 'b');
	cr_assert_eq(fake_vm.irq_raises[GSI_COM1], raises + 2);
	/* driver stops tx: clears THRI, line drops */
	out8(IER, 0);
	cr_assert_eq(fake_vm.irq_level[GSI_COM1], 0);
}

Test(uart, rx_interrupt_raise_and_lower)
{
	out8(MCR, 0x08);
	out8(IER, 0x01);
	cr_assert_eq(fake_vm.irq_level[GSI_COM1], 0);
	cr_assert_eq(in8(IIR) & 0x0f, 0x01);
	cr_assert_eq(uart_receive(u, (const uint8_t *)"x", 1), 1);
	cr_assert_eq(fake_vm.irq_level[GSI_COM1], 1);
	cr_assert_eq(in8(IIR) & 0x0f, 0x04);
	cr_assert_eq(in8(RBR), 'x');
	cr_assert_eq(fake_vm.irq_level[GSI_COM1], 0);
	cr_assert_eq(in8(IIR) & 0x0f, 0x01);
}

Test(uart, out2_gates_the_irq_line)
{
	out8(IER, 0x01);
	uart_receive(u, (const uint8_t *)"x", 1);
	cr_assert_eq(in8(IIR) & 0x0f, 0x04, "IIR reports regardless of OUT2");
	cr_assert_eq(fake_vm.irq_level[GSI_COM1], 0);
	out8(MCR, 0x08);
	cr_assert_eq(fake_vm.irq_level[GSI_COM1], 1);
	out8(MCR, 0x00);
	cr_assert_eq(fake_vm.irq_level[GSI_COM1], 0);
}

Test(uart, iir_priorities)
{
	out8(MCR, 0x08);
	in8(MSR);			/* clear deltas */
	out8(IER, 0x0f);
	uart_receive(u, (const uint8_t *)"x", 1);
	cr_assert_eq(in8(IIR) & 0x0f, 0x04, "RX data beats THRE");
	in8(RBR);
	cr_assert_eq(in8(IIR) & 0x0f, 0x02, "then THRE");
	cr_assert_eq(in8(IIR) & 0x0f, 0x01, "THRE cleared by the IIR read");
	/* modem status change in loopback: lowest priority */
	out8(MCR, 0x08 | 0x10 | 0x01);	/* LOOP: CTS drops (RTS clear) */
	cr_assert_eq(in8(IIR) & 0x0f, 0x00);
	cr_assert_eq(in8(MSR), 0xa0 | 0x01, "DSR|DCD with a DCTS delta");
	cr_assert_eq(in8(IIR) & 0x0f, 0x01, "MSR read clears the modem status interrupt");
}

Test(uart, rx_ring_full_and_partial_accept_with_notify)
{
	uint8_t buf[UART_RX_RING + 100];
	uint64_t val = 0;
	size_t i;
	int efd = eventfd(0, EFD_NONBLOCK);

	cr_assert_geq(efd, 0);
	cr_assert_geq(UART_RX_RING, 1024);
	uart_set_rx_notify(u, efd);
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 7);
	cr_assert_eq(uart_receive(u, buf, 1000), 1000);
	cr_assert_eq(uart_rx_room(u), UART_RX_RING - 1000);
	cr_assert_eq(uart_receive(u, buf + 1000, sizeof(buf) - 1000), UART_RX_RING - 1000);
	cr_assert_eq(uart_rx_room(u), 0);
	cr_assert_eq(uart_receive(u, buf, 5), 0);
	cr_assert_eq(read(efd, &val, sizeof(val)), -1, "no notify before room is freed");
	cr_assert_eq(in8(RBR), buf[0]);
	cr_assert_eq(read(efd, &val, sizeof(val)), (ssize_t)sizeof(val));
	cr_assert_eq(val, 1);
	for (i = 1; i < UART_RX_RING; i++)
		cr_assert_eq(in8(RBR), buf[i], "byte %zu out of order", i);
	cr_assert_eq(in8(LSR) & 0x01, 0);
	cr_assert_eq(uart_rx_room(u), UART_RX_RING);
	close(efd);
}

Test(uart, loopback_thr_to_rbr_not_to_output)
{
	char buf[8];

	out8(MCR, 0x10);
	out8(RBR, 'z');
	cr_assert_eq(in8(LSR) & 0x01, 1);
	cr_assert_eq(in8(RBR), 'z');
	cr_assert_eq(drain(buf, sizeof(buf)), 0);
	out8(MCR, 0x00);
	out8(RBR, 'q');
	cr_assert_eq(drain(buf, sizeof(buf)), 1);
	cr_assert_eq(buf[0], 'q');
}

Test(uart, dropped_output_with_fd_minus_one)
{
	struct uart *u2;

	cr_assert_eq(uart_create(&vm.port, 0x2f8, 3, -1, &u2), 0);
	cr_assert_eq(bus_access(&vm.pio_bus, 0x2f8, &(uint8_t){ 'a' }, 1, true), 0);
	uart_destroy(u2);
	cr_assert_null(bus_name_at(&vm.pio_bus, 0x2f8));
}

Test(uart, overlapping_create_fails)
{
	struct uart *u2 = NULL;

	cr_assert_eq(uart_create(&vm.port, PORT_COM1 + 4, GSI_COM1, -1, &u2), -EEXIST);
	cr_assert_null(u2);
}

Test(uart, hostile_sweep_all_offsets_and_widths)
{
	static const unsigned int widths[] = { 1, 2, 4, 8 };
	unsigned int off, w, iter;
	char buf[4096];
	uint64_t v;

	srand(1234);
	for (iter = 0; iter < 200; iter++) {
		for (off = 0; off < UART_NR_PORTS; off++) {
			for (w = 0; w < 4; w++) {
				v = (uint64_t)rand() << 32 | (uint64_t)rand();
				bus_access(&vm.pio_bus, PORT_COM1 + off, &v, widths[w], true);
				bus_access(&vm.pio_bus, PORT_COM1 + off, &v, widths[w], false);
			}
		}
		uart_receive(u, (const uint8_t *)"junk", 4);
		while (drain(buf, sizeof(buf)) > 0)
			;
	}
	/* still a UART afterwards */
	out8(LCR, 0x03);
	out8(MCR, 0x00);
	out8(SCR, 0x42);
	cr_assert_eq(in8(SCR), 0x42);
	cr_assert_eq(in8(LSR) & 0x60, 0x60);
}

static void *vcpu_hammer(void *arg)
{
	unsigned int i, seed = (unsigned int)(uintptr_t)arg;
	uint8_t v;

	for (i = 0; i < 20000; i++) {
		unsigned int reg = rand_r(&seed) % UART_NR_PORTS;

		v = (uint8_t)rand_r(&seed);
		if (reg == LCR || reg == MCR)
			v &= 0x0b;	/* keep DLAB and loopback off */
		if (i & 1)
			bus_access(&vm.pio_bus, PORT_COM1 + reg, &v, 1, true);
		else
			bus_access(&vm.pio_bus, PORT_COM1 + reg, &v, 1, false);
	}
	return NULL;
}

Test(uart, concurrent_vcpus_and_host_input)
{
	pthread_t t[2];
	char buf[4096];
	unsigned int i;
	int efd = eventfd(0, EFD_NONBLOCK);

	uart_set_rx_notify(u, efd);
	cr_assert_eq(pthread_create(&t[0], NULL, vcpu_hammer, (void *)1), 0);
	cr_assert_eq(pthread_create(&t[1], NULL, vcpu_hammer, (void *)2), 0);
	for (i = 0; i < 20000; i++) {
		uart_receive(u, (const uint8_t *)"abcdefgh", 8);
		if (!(i % 64))
			while (drain(buf, sizeof(buf)) > 0)
				;
	}
	pthread_join(t[0], NULL);
	pthread_join(t[1], NULL);
	out8(LCR, 0x03);
	out8(MCR, 0x00);
	out8(SCR, 0x11);
	cr_assert_eq(in8(SCR), 0x11);
	close(efd);
}
