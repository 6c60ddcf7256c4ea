# The extension runtime (loader, linker, verifier, interpreter, JIT,
# assembler) and the host tools built on it.
#
#   $(RT_HOST_LIB)      build/host/libspinrt.a      hosted, ASan + UBSan
#   $(RT_HOST_OPT_LIB)  build/host-opt/libspinrt.a  hosted, -O2, no sanitizers
#   $(RT_KERNEL_OBJS)   build/kernel/runtime/*.o    freestanding, for the kernel
#   build/bin/NAME      every tools/NAME.c that includes "runtime/..." headers,
#                       linked with $(RT_HOST_LIB); build/host-opt/bin/NAME is
#                       the same tool against $(RT_HOST_OPT_LIB), for benchmarks;
#                       every tool also links tools/toolkit.c ($(TK_HOST_OBJ),
#                       $(TK_HOST_OPT_OBJ)), the code the hosted tools share
#
# The library is every runtime/*.c plus arch/x86_64/jit*.c, found by
# wildcard, so new passes join it without touching this file.
# runtime/host_env.c (the hosted rt.h hooks) is in the host libraries only;
# the kernel supplies those hooks itself.  The freestanding objects are
# checked as part of `make all`: together they may reference only the rt.h
# hooks and the kernel's string/fmt functions (see RT_KERNEL_ALLOWED).
#
# A unit test linked against the library (rather than a source list):
#   $(BUILD)/host/tests/NAME: $(RT_HOST_LIB)
#   UNIT_LDFLAGS_NAME += $(RT_HOST_LIB)
#
# Suites: test-conformance (bpf-conformance --both over CONFORMANCE_DIR).

CONFORMANCE_DIR ?= tests/bpf-conformance/tests

RT_SRCS := $(sort $(filter-out runtime/host_env.c,$(wildcard runtime/*.c))) \
           $(sort $(wildcard arch/x86_64/jit*.c))
RT_HOST_SRCS := $(RT_SRCS) runtime/host_env.c
RT_HOST_LIB := $(BUILD)/host/libspinrt.a
RT_HOST_OPT_LIB := $(BUILD)/host-opt/libspinrt.a
RT_HOST_OBJS := $(RT_HOST_SRCS:%.c=$(BUILD)/host/obj/%.o)
RT_HOST_OPT_OBJS := $(RT_HOST_SRCS:%.c=$(BUILD)/host-opt/obj/%.o)
RT_KERNEL_OBJS := $(patsubst runtime/%.c,$(BUILD)/kernel/runtime/%.o,\
                  $(patsubst arch/x86_64/%.c,$(BUILD)/kernel/runtime/arch/%.o,$(RT_SRCS)))
RT_KERNEL_CHECK := $(BUILD)/kernel/runtime/check.ok
RT_KERNEL_ALLOWED := rt_alloc rt_free rt_code_alloc rt_code_seal rt_code_free \
                     memcpy memmove memset memcmp strlen strnlen strcmp strncmp strchr \
                     strlcpy fmt_vsnprintf

RT_TOOLS := $(filter-out toolkit,\
            $(patsubst tools/%.c,%,$(shell grep -l '^\#include "runtime/' tools/*.c 2>/dev/null)))
TK_HOST_OBJ := $(BUILD)/host/obj/tools/toolkit.o
TK_HOST_OPT_OBJ := $(BUILD)/host-opt/obj/tools/toolkit.o
RT_TOOL_BINS := $(RT_TOOLS:%=$(BUILD)/bin/%)
RT_TOOL_OPT_BINS := $(RT_TOOLS:%=$(BUILD)/host-opt/bin/%)

ALL_TARGETS += $(RT_HOST_LIB) $(RT_HOST_OPT_LIB) $(RT_TOOL_BINS) $(RT_KERNEL_CHECK)
TEST_SUITES += conformance

.PHONY: runtime runtime-tools test-conformance
runtime: $(RT_HOST_LIB) $(RT_HOST_OPT_LIB) $(RT_KERNEL_CHECK)
runtime-tools: $(RT_TOOL_BINS)

$(BUILD)/host/obj/%.o: %.c
	@mkdir -p $(@D)
	$(HOST_CC) $(HOST_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/host-opt/obj/%.o: %.c
	@mkdir -p $(@D)
	$(HOST_CC) $(HOST_OPT_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/kernel/runtime/%.o: runtime/%.c
	@mkdir -p $(@D)
	$(KERNEL_CC) $(KERNEL_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/kernel/runtime/arch/%.o: arch/x86_64/%.c
	@mkdir -p $(@D)
	$(KERNEL_CC) $(KERNEL_CFLAGS) -MMD -MP -c $< -o $@

$(RT_HOST_LIB): $(RT_HOST_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(RT_HOST_OPT_LIB): $(RT_HOST_OPT_OBJS)
	@rm -f $@
	ar rcs $@ $^

# Freestanding proof: the objects build with KERNEL_CFLAGS and need nothing
# from outside but the environment hooks and the kernel's string/fmt.
$(RT_KERNEL_CHECK): $(RT_KERNEL_OBJS)
	@nm -u $^ | awk 'NF==2 {print $$2}' | sort -u >$@.need
	@nm --defined-only $^ | awk 'NF==3 {print $$3}' | sort -u >$@.have
	@printf '%s\n' $(RT_KERNEL_ALLOWED) | sort -u >$@.allowed
	@bad=$$(comm -23 $@.need $@.have | comm -23 - $@.allowed); \
	if [ -n "$$bad" ]; then \
		echo "runtime: freestanding objects reference symbols outside the runtime's"; \
		echo "environment (rt.h hooks, kernel/string.h, kernel/fmt.h):"; echo "$$bad"; exit 1; \
	fi
	@touch $@

$(BUILD)/bin/%: tools/%.c $(TK_HOST_OBJ) $(RT_HOST_LIB)
	@mkdir -p $(@D) $(BUILD)/host/obj/tools
	$(HOST_CC) $(HOST_CFLAGS) -MMD -MP -MF $(BUILD)/host/obj/tools/$*.d -MT $@ $< \
		$(TK_HOST_OBJ) $(RT_HOST_LIB) $(HOST_LDFLAGS) -o $@

$(BUILD)/host-opt/bin/%: tools/%.c $(TK_HOST_OPT_OBJ) $(RT_HOST_OPT_LIB)
	@mkdir -p $(@D)
	$(HOST_CC) $(HOST_OPT_CFLAGS) $< $(TK_HOST_OPT_OBJ) $(RT_HOST_OPT_LIB) -o $@

# ---- unit tests linked against the library (mk/unit.mk builds them) ----
RT_UNIT_TESTS := loader interp asm
$(RT_UNIT_TESTS:%=$(BUILD)/host/tests/%): $(RT_HOST_LIB)
UNIT_LDFLAGS_loader += $(RT_HOST_LIB)
UNIT_SRCS_loader += tools/toolkit.c
UNIT_LDFLAGS_interp += $(RT_HOST_LIB)
UNIT_LDFLAGS_asm += $(RT_HOST_LIB)

# The loader tests' committed inputs: clang output of tests/loader/ext.c and
# tests/loader/src/*.c, and the corruption corpus tests/loader/bad/ generated
# from ext.elf.  Named .elf, not .o, because .gitignore drops *.o.  Only
# needed when those sources change: the objects are committed so that the
# tests do not depend on the installed clang.
.PHONY: loader-objects
loader-objects: $(BUILD)/host/tests/loader
	$(BPF_CC) -O2 -g -target bpf -mcpu=v3 -c tests/loader/ext.c -o tests/loader/ext.elf
	for f in tests/loader/src/*.c; do \
		$(BPF_CC) -O2 -g -target bpf -mcpu=v3 -c $$f -o tests/loader/$$(basename $$f .c).elf \
			|| exit 1; done
	rm -f tests/loader/bad/*
	$(BUILD)/host/tests/loader --write-corpus tests/loader/bad

# ---- suites ----
test-conformance: $(BUILD)/bin/bpf-conformance
	@$(BUILD)/bin/bpf-conformance --both --skip-list tests/conformance-skips.txt \
		$(CONFORMANCE_DIR)

-include $(shell find $(BUILD)/host/obj $(BUILD)/host-opt/obj $(BUILD)/kernel/runtime \
	-name '*.d' 2>/dev/null)
