# vmm — build and test.  `make` builds build/vmm and build/vmm-img;
# `make test` installs what it needs and runs every test (see README.md).
#
# Sources are found by wildcard: add a .c file and it is built.
#   vmm/main.c, vmm/vm*.c, vmm/cpu/*.c   the KVM runtime (not in unit tests;
#                                       vmm/cpu/cpuid.c is pure, so core)
#   every other vmm/**/*.c              core library, unit-testable without KVM
#   img/*.c                             vmm-img
#   tests/unit/test_*.c                 one criterion binary each
#   fuzz/fuzz_*.c                       one libFuzzer target each
# Other makefiles: guest-tests/guest-tests.mk, guest-tests/testhost/testhost.mk.

BUILD   ?= build
CC      ?= gcc
SAN     ?= 0
V       ?= 0

CFLAGS_BASE := -std=gnu11 -g -O2 -D_GNU_SOURCE -Ivmm \
	-Wall -Wextra -Wformat=2 -Wmissing-prototypes -Wstrict-prototypes \
	-Wno-unused-parameter -Werror -fno-strict-aliasing -pthread
ifeq ($(SAN),1)
CFLAGS_BASE += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS_SAN := -fsanitize=address,undefined
endif
ifeq ($(TSAN),1)
# -Wno-tsan: gcc's TSan does not model fences; ours order stores and loads
# against the guest (virtqueue.c), not against other host threads
CFLAGS_BASE += -fsanitize=thread -fno-omit-frame-pointer -Wno-tsan
LDFLAGS_SAN := -fsanitize=thread
endif
CFLAGS  ?=
CFLAGS  += $(CFLAGS_BASE)
# blk_format_qcow2 / blk_snapshot_open are weak references in vmm/block/image.c;
# a weak reference does not pull an object out of libvmmcore.a, so force them in.
LDLIBS  := -Wl,-u,blk_format_qcow2 -Wl,-u,blk_snapshot_open -luring -lcapstone -lfdt -ldeflate -lz -lzstd -llz4 -llzma -lmicrohttpd -ljson-c -lseccomp -lslirp -pthread $(LDFLAGS_SAN)

ifeq ($(V),0)
Q := @
else
Q :=
endif

RUNTIME_SRCS := vmm/main.c $(wildcard vmm/vm*.c) $(filter-out vmm/cpu/cpuid.c,$(wildcard vmm/cpu/*.c))
ALL_VMM_SRCS := $(shell find vmm -name '*.c' | sort)
CORE_SRCS    := $(filter-out $(RUNTIME_SRCS),$(ALL_VMM_SRCS))
IMG_SRCS     := $(wildcard img/*.c)
UNIT_SRCS    := $(wildcard tests/unit/test_*.c)
UNIT_HELPERS := $(filter-out $(UNIT_SRCS),$(wildcard tests/unit/*.c))
FUZZ_SRCS    := $(wildcard fuzz/fuzz_*.c)

CORE_OBJS    := $(CORE_SRCS:%.c=$(BUILD)/obj/%.o)
RUNTIME_OBJS := $(RUNTIME_SRCS:%.c=$(BUILD)/obj/%.o)
IMG_OBJS     := $(IMG_SRCS:%.c=$(BUILD)/obj/%.o)
UNIT_BINS    := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
UNIT_HELPER_OBJS := $(UNIT_HELPERS:%.c=$(BUILD)/%.o)
FUZZ_BINS    := $(FUZZ_SRCS:fuzz/%.c=build-fuzz/%)

# firmware/*.asl -> AML -> C array, compiled into the core library
ASL_SRCS     := $(wildcard firmware/*.asl)
ASL_GEN      := $(ASL_SRCS:firmware/%.asl=$(BUILD)/gen/%_aml.c)
CORE_OBJS    += $(ASL_GEN:%.c=%.o)

# firmware/*.S -> 16-bit flat binary -> C array, also in the core library
FW_SRCS      := $(wildcard firmware/*.S)
FW_GEN       := $(FW_SRCS:firmware/%.S=$(BUILD)/gen/%_bin.c)
CORE_OBJS    += $(FW_GEN:%.c=%.o)

# generated AML sources and test helper objects are pattern-chain
# intermediates: keep them, or every make re-runs iasl and relinks tests
.SECONDARY: $(ASL_GEN) $(FW_GEN) $(UNIT_HELPER_OBJS)

.PHONY: all clean test test-unit test-fuzz deps san fuzz unit-bins demo
all: $(BUILD)/vmm $(BUILD)/vmm-img $(BUILD)/vmmctl

deps:
	$(Q)./scripts/install-deps.sh

$(BUILD)/libvmmcore.a: $(CORE_OBJS)
	@mkdir -p $(dir $@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/vmm: $(RUNTIME_OBJS) $(BUILD)/libvmmcore.a
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) -o $@ $(RUNTIME_OBJS) $(BUILD)/libvmmcore.a $(LDLIBS)

$(BUILD)/vmm-img: $(IMG_OBJS) $(BUILD)/libvmmcore.a
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) -o $@ $(IMG_OBJS) $(BUILD)/libvmmcore.a $(LDLIBS)

# vmmctl: the control socket's client; libc, libcurl and json-c only
CTL_OBJS     := $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard ctl/*.c) vmm/api/sockdir.c)
$(BUILD)/vmmctl: $(CTL_OBJS)
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) -o $@ $(CTL_OBJS) -lcurl -ljson-c $(LDFLAGS_SAN)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/gen/%_aml.c: firmware/%.asl
	@mkdir -p $(dir $@)
	@echo "  IASL    $<"
	$(Q)cd $(dir $@) && cp $(CURDIR)/$< $*.asl && iasl -p $*_aml -oa $*.asl >iasl-$*.log 2>&1 || { cat iasl-$*.log; exit 1; }
	$(Q)cd $(dir $@) && xxd -i -n firmware_$*_aml $*_aml.aml > $*_aml.c

$(BUILD)/gen/%_bin.c: firmware/%.S
	@mkdir -p $(dir $@)
	@echo "  AS      $<"
	$(Q)as --32 -o $(BUILD)/gen/$*_fw.o $<
	$(Q)objcopy -O binary -j .text $(BUILD)/gen/$*_fw.o $(BUILD)/gen/$*_bin
	$(Q)cd $(BUILD)/gen && xxd -i -n firmware_$*_bin $*_bin > $*_bin.c

$(BUILD)/gen/%_bin.o: $(BUILD)/gen/%_bin.c
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/gen/%_aml.o: $(BUILD)/gen/%_aml.c
	$(Q)$(CC) $(CFLAGS) -Wno-missing-variable-declarations -c -o $@ $<

# ---- unit tests (criterion, no KVM) ----
$(BUILD)/tests/%: tests/unit/%.c $(UNIT_HELPER_OBJS) $(BUILD)/libvmmcore.a
	@mkdir -p $(dir $@)
	@echo "  TEST    $@"
	$(Q)$(CC) $(CFLAGS) -Wno-missing-prototypes -Itests/unit -o $@ $< $(UNIT_HELPER_OBJS) $(BUILD)/libvmmcore.a -lcriterion $(LDLIBS)

# test_state_kvm compiles the runtime source vcpu_state.c in (no KVM: it skips)
$(BUILD)/tests/test_state_kvm: vmm/cpu/vcpu_state.c vmm/cpu/vcpu_state.h

$(BUILD)/tests/unit/%.o: tests/unit/%.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) -Wno-missing-prototypes -Itests/unit -MMD -MP -c -o $@ $<

test-unit: $(UNIT_BINS)
	$(Q)./tests/run-unit.sh $(UNIT_BINS)

# ---- sanitizer build: same sources, own directory ----
unit-bins: $(UNIT_BINS)
san:
	$(Q)$(MAKE) --no-print-directory BUILD=build-san SAN=1 all unit-bins

# ---- fuzzing (clang + libFuzzer + ASan/UBSan) ----
FUZZ_CFLAGS := -std=gnu11 -g -O1 -D_GNU_SOURCE -Ivmm -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -pthread
build-fuzz/%: fuzz/%.c $(CORE_SRCS) $(ASL_GEN) $(FW_GEN) tests/unit/fake_vm.c
	@mkdir -p $(dir $@)
	@echo "  FUZZ    $@"
	$(Q)clang $(FUZZ_CFLAGS) -Itests/unit -o $@ $< $(CORE_SRCS) $(ASL_GEN) $(FW_GEN) tests/unit/fake_vm.c $(LDLIBS)
fuzz: $(FUZZ_BINS)
test-fuzz: $(FUZZ_BINS)
	$(Q)./tests/run-fuzz.sh $(FUZZ_SECONDS) $(FUZZ_BINS)

FUZZ_SECONDS ?= 20

-include guest-tests/guest-tests.mk
-include guest-tests/testhost/testhost.mk

test:
	$(Q)./tests/run-all.sh

# ThreadSanitizer on the unit tests that start threads (docs/reliability.md)
# (test_event_loop is left out: TSan reports a real race there, ev_post()
# writing post_evt while ev_loop_fini() closes it; docs/reliability.md)
TSAN_TESTS := test_block_queue test_block_uring test_block_flush test_pci \
	test_qcow2_io test_qcow2_inflight test_uart test_virtio_blk test_virtio_pci
# Criterion cannot start under TSan (its arena collides with TSan's shadow
# memory): these binaries use the stand-in in tests/tsan/ instead.
.PHONY: tsan
tsan:
	$(Q)$(MAKE) --no-print-directory BUILD=build-tsan TSAN=1 $(TSAN_TESTS:%=build-tsan/tsan/%)
	$(Q)TSAN_OPTIONS="halt_on_error=1 exitcode=66 $(TSAN_OPTIONS)" \
		./tests/run-unit.sh $(TSAN_TESTS:%=build-tsan/tsan/%)
$(BUILD)/tsan/%: tests/unit/%.c tests/tsan/runner.c tests/tsan/criterion/criterion.h $(UNIT_HELPERS) $(wildcard tests/unit/*.h) $(BUILD)/libvmmcore.a
	@mkdir -p $(dir $@)
	@echo "  TSAN    $@"
	$(Q)$(CC) $(CFLAGS) -Wno-missing-prototypes -Itests/tsan -Itests/unit -o $@ $< \
		tests/tsan/runner.c $(UNIT_HELPERS) $(BUILD)/libvmmcore.a $(LDLIBS)

# Long campaigns, never part of `make test` (docs/reliability.md)
.PHONY: campaign-fuzz campaign-crash
campaign-fuzz:
	$(Q)./scripts/campaign-fuzz.sh
# for scripts/campaign-fuzz.sh's coverage build: the fuzz rule's sources and libraries
.PHONY: print-fuzz-srcs print-ldlibs
print-fuzz-srcs:
	@echo $(CORE_SRCS) $(ASL_GEN) $(FW_GEN)
print-ldlibs:
	@echo $(LDLIBS)
campaign-crash:
	$(Q)./scripts/campaign-crash.sh

# seccomp on the tiny guests, a guest as user nobody, setuid refused (docs/sandbox.md)
.PHONY: test-sandbox
test-sandbox: $(BUILD)/vmm guest-tests
	$(Q)./tests/sandbox/run.sh $(BUILD)

demo:
	$(Q)./scripts/install-deps.sh
	$(Q)$(MAKE) --no-print-directory all guest-tests
	$(Q)./scripts/demo.sh

clean:
	rm -rf build build-san build-fuzz build-*

-include $(shell find $(BUILD) -path '$(BUILD)/mini-kernel' -prune -o -name '*.d' -type f -print 2>/dev/null)
