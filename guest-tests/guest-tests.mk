# Test guests for vmm (included by the top Makefile; see docs/guest-tests.md).
#
#   guest-tests/NAME.c          a multiboot guest -> $(BUILD)/guest-tests/NAME.elf,
#                               linked with guest-tests/NAME_*.S (if any) and lib/,
#                               by guest-tests/NAME.ld if there is one, else lib/guest.ld
#   guest-tests/NAME.flat.S     a raw real-mode binary -> $(BUILD)/guest-tests/NAME.bin
#                               (loaded at 0x7c00 by vmm --flat)
#   guest-tests/tests.list      the cases run.sh runs
#
#   make guest-tests            build them
#   make test-guests            build vmm and the guests, run guest-tests/run.sh

GT_OUT     := $(BUILD)/guest-tests
GT_CC      := gcc
GT_CFLAGS  := -m32 -march=i686 -std=gnu11 -O2 -g -ffreestanding -nostdlib -fno-pic \
	-fno-pie -fno-stack-protector -fno-builtin -fno-asynchronous-unwind-tables \
	-mgeneral-regs-only -Wall -Wextra -Wmissing-prototypes -Wstrict-prototypes \
	-Wno-unused-parameter -Werror -Iguest-tests/lib
GT_LDFLAGS := -m elf_i386 -nostdlib -z max-page-size=0x1000 --build-id=none \
	-z noexecstack --no-warn-rwx-segments

GT_LIB_SRCS := $(sort $(wildcard guest-tests/lib/*.c guest-tests/lib/*.S))
GT_LIB_OBJS := $(patsubst guest-tests/%,$(GT_OUT)/%.o,$(GT_LIB_SRCS))
GT_NAMES    := $(patsubst guest-tests/%.c,%,$(wildcard guest-tests/*.c))
GT_FLATS    := $(patsubst guest-tests/%.flat.S,%,$(wildcard guest-tests/*.flat.S))
GT_ELFS     := $(GT_NAMES:%=$(GT_OUT)/%.elf)
GT_BINS     := $(GT_FLATS:%=$(GT_OUT)/%.bin)

.PHONY: guest-tests test-guests
guest-tests: $(GT_ELFS) $(GT_BINS)

test-guests: $(BUILD)/vmm guest-tests
	$(Q)./guest-tests/run.sh $(BUILD)/vmm $(GT_OUT)

$(GT_OUT)/%.c.o: guest-tests/%.c
	@mkdir -p $(dir $@)
	@echo "  GCC32   $<"
	$(Q)$(GT_CC) $(GT_CFLAGS) -MMD -MP -c -o $@ $<

$(GT_OUT)/%.S.o: guest-tests/%.S
	@mkdir -p $(dir $@)
	@echo "  AS32    $<"
	$(Q)$(GT_CC) $(GT_CFLAGS) -MMD -MP -c -o $@ $<

GT_LDS = $(firstword $(wildcard guest-tests/$(1).ld) guest-tests/lib/guest.ld)
define GT_ELF_RULE
$(GT_OUT)/$(1).elf: $(GT_OUT)/$(1).c.o \
		$(patsubst guest-tests/%,$(GT_OUT)/%.o,$(wildcard guest-tests/$(1)_*.S)) \
		$(GT_LIB_OBJS) $(call GT_LDS,$(1))
	@echo "  LD32    $$@"
	$(Q)ld $(GT_LDFLAGS) -T $(call GT_LDS,$(1)) -o $$@ \
		$$(filter %.o,$$^)
endef
$(foreach g,$(GT_NAMES),$(eval $(call GT_ELF_RULE,$(g))))

$(GT_OUT)/%.flat.elf: $(GT_OUT)/%.flat.S.o guest-tests/lib/flat.ld
	@echo "  LD16    $@"
	$(Q)ld $(GT_LDFLAGS) -T guest-tests/lib/flat.ld -o $@ $<

$(GT_OUT)/%.bin: $(GT_OUT)/%.flat.elf
	$(Q)objcopy -O binary $< $@

.SECONDARY: $(GT_FLATS:%=$(GT_OUT)/%.flat.elf) $(GT_FLATS:%=$(GT_OUT)/%.flat.S.o)
