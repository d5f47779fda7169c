// SPDX-License-Identifier: MIT
/*
 * Arbitrary guest accesses to pc-testdev (--testdev): each operation takes
 * 4 input bytes + the value: op (bit 0: write; bits 1-2: width 1/2/4/8;
 * bits 3-4: the scratch register 0xe0, its byte view 0xe8, the flush port
 * 0xe4 or the IRQ lines 0x2000; bit 5: the scratch memory instead), then a
 * 16-bit offset and a spare byte.  Besides no crash or sanitizer report,
 * the register must hold what a byte-lane model says, and each IRQ line
 * the level its last byte write set.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "devices/testdev.h"
#include "fake_vm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint16_t ports[] = {
	TESTDEV_PORT_IOPORT, TESTDEV_PORT_IOPORT_BYTE, TESTDEV_PORT_FLUSH, TESTDEV_PORT_IRQ,
};
static const uint16_t port_len[] = { 4, 4, 4, TESTDEV_IRQ_LINES };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vm vm;
	struct testdev *t;
	uint32_t model = 0, reg = 0;
	int lines[TESTDEV_IRQ_LINES];
	size_t pos = 0;
	unsigned int i;

	memset(lines, 0, sizeof(lines));
	if (fake_vm_init(&vm, 1 << 20))
		return 0;
	if (testdev_create(&vm.port, &t))
		goto out_vm;
	while (pos + 4 <= size) {
		uint8_t op = data[pos];
		unsigned int width = 1u << ((op >> 1) & 3), which = (op >> 3) & 3;
		unsigned int off = (unsigned int)(data[pos + 1] | data[pos + 2] << 8);
		bool wr = op & 1;
		uint64_t v = 0;
		int ret;

		pos += 4;
		memcpy(&v, data + pos, size - pos < width ? size - pos : width);
		pos += size - pos < width ? size - pos : width;
		if (op & 0x20) {
			bus_access(&vm.mmio_bus, TESTDEV_IOMEM + off, &v, width, wr);
			continue;
		}
		off %= port_len[which];
		ret = bus_access(&vm.pio_bus, ports[which] + off, &v, width, wr);
		if (ret || !wr)
			continue;
		if (which <= 1) {
			for (i = 0; i < width && off + i < 4; i++) {
				unsigned int sh = 8 * (off + i);

				model = (model & ~(0xffu << sh)) | (uint32_t)((v >> (8 * i)) & 0xff) << sh;
			}
		} else if (which == 3 && width == 1) {
			lines[off] = (v & 0xff) != 0;
		}
	}
	bus_access(&vm.pio_bus, TESTDEV_PORT_IOPORT, &reg, 4, false);
	if (reg != model)
		__builtin_trap();
	for (i = 0; i < TESTDEV_IRQ_LINES; i++)
		if (fake_vm.irq_level[i] != lines[i])
			__builtin_trap();
	testdev_destroy(t);
out_vm:
	fake_vm_destroy(&vm);
	return 0;
}
