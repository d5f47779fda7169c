/* SPDX-License-Identifier: MIT */
/*
 * QEMU's pc-testdev (hw/misc/pc-testdev.c), behind --testdev, for test
 * guests written for QEMU's pc machine (kvm-unit-tests and the like):
 *
 *   port 0xe0-0xe3      a 32-bit scratch register, any width at any offset
 *                       (byte lanes: a 16-bit access at 0xe2 is bits 16-31)
 *   port 0xe4-0xe7      "flush page": a 32-bit write of a guest address;
 *                       accepted and ignored (QEMU unmaps and remaps that
 *                       page of guest RAM under the running guest; vmm does
 *                       not), reads 0
 *   port 0xe8-0xeb      the same scratch register, QEMU's byte-wise view
 *   port 0x2000-0x2017  IRQ lines: a byte write of v to 0x2000 + n sets
 *                       GSI n to (v != 0) (KVM_IRQ_LINE: the IOAPIC pin n,
 *                       and for n < 16 the 8259 input n); reads 0
 *   MMIO 0xff000000     64 KiB of scratch memory, any width
 *     - 0xff00ffff
 *
 * Accesses of a width the device does not take (IRQ lines: 1 byte; flush:
 * 4) are ignored, reads of them see 0.  See docs/guest-tests.md.
 */
#ifndef VMM_TESTDEV_H
#define VMM_TESTDEV_H

#include <pthread.h>
#include <stdint.h>

#define TESTDEV_PORT_IOPORT	0xe0
#define TESTDEV_PORT_FLUSH	0xe4
#define TESTDEV_PORT_IOPORT_BYTE 0xe8
#define TESTDEV_PORT_IRQ	0x2000
#define TESTDEV_IRQ_LINES	24
#define TESTDEV_IOMEM		0xff000000ULL
#define TESTDEV_IOMEM_LEN	0x10000u

#define TESTDEV_STATE_VERSION	1

struct vm_port;
struct state_writer;
struct state_reader;

struct testdev {
	const struct vm_port *port;
	pthread_mutex_t lock;
	uint32_t ioport_data;
	uint32_t irq_levels;		/* atomic: lines set to 1, bit n = GSI n */
	uint8_t iomem[TESTDEV_IOMEM_LEN];
};

/* Allocates the device into *out and registers its ranges. 0 or -errno. */
int testdev_create(const struct vm_port *p, struct testdev **out);
/* Unregisters and frees it (NULL is fine). */
void testdev_destroy(struct testdev *t);
/*
 * State: the scratch register, the IRQ lines held at 1 (raised again on
 * restore), the 64 KiB scratch memory.  0 or -errno.
 */
int testdev_save(struct testdev *t, struct state_writer *w);
int testdev_restore(struct testdev *t, struct state_reader *r);

#endif
