# Linux boot tests and boot benchmark (guest-tests/testhost/, docs/testhost.md).
# Included by the top Makefile.
#   make test-linux       Linux tests of $(BUILD)/vmm (in the testhost unless
#                         /dev/kvm is hardware KVM)
#   make testhost-shell   boot the testhost with a shell on this terminal
#   make bench-boot       boot-time benchmark, vmm vs QEMU (docs/performance.md)
#   make bench-blk        virtio-blk benchmark: fio on the host, in a vmm guest
#                         and in a QEMU guest (docs/performance.md)
#   make test-linux-harness   the same cases with QEMU as the VMM (tests the harness)
# Variables: VMM_CMD=qemu (harness self-test with QEMU as the VMM),
# LINUX_CASES="boot stdin" (a subset), BENCH_N=5.

.PHONY: test-linux testhost-shell bench-boot bench-blk

test-linux: $(BUILD)/vmm $(BUILD)/vmm-img $(BUILD)/vmmctl guest-tests
	$(Q)BUILD=$(BUILD) VMM=$(BUILD)/vmm ./guest-tests/testhost/run.sh $(LINUX_CASES)

testhost-shell:
	$(Q)BUILD=$(BUILD) VMM=$(BUILD)/vmm ./guest-tests/testhost/run.sh --shell

bench-boot: $(BUILD)/vmm
	$(Q)BUILD=$(BUILD) VMM=$(BUILD)/vmm ./bench/boot/run.sh $(BENCH_N)

bench-blk: $(BUILD)/vmm
	$(Q)BUILD=$(BUILD) VMM=$(BUILD)/vmm ./bench/blk/run.sh

# the harness itself, with QEMU standing in for vmm (needs no vmm build)
.PHONY: test-linux-harness
test-linux-harness:
	$(Q)BUILD=$(BUILD) VMM_CMD=qemu ./guest-tests/testhost/run.sh $(LINUX_CASES)
