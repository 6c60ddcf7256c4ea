# Host unit tests (suite "unit") and the freestanding build check of the
# portable kernel services they test.
#
# Convention for adding a test program:
#   - every tests/unit/NAME_test.c is one program, built as
#     $(BUILD)/host/tests/NAME with HOST_CFLAGS/HOST_LDFLAGS (ASan + UBSan);
#   - it is linked with the sources listed in UNIT_SRCS_NAME (paths of .c
#     files relative to the top, e.g. `UNIT_SRCS_verifier := kernel/verifier.c
#     kernel/fmt.c`); extra compile flags for all of that program's sources go
#     in UNIT_CFLAGS_NAME, extra link flags in UNIT_LDFLAGS_NAME;
#   - those variables may be set in any mk/*.mk fragment, before or after
#     this one: they are read when the rules run (.SECONDEXPANSION below);
#   - each source is compiled once per program, into
#     $(BUILD)/host/unit-obj/NAME/, so one program's flags never leak into
#     another's objects;
#   - the program uses tests/unit/check.h and ends with `return check_done();`
#     so its last line is "N passed, M failed".
#
# make test-unit builds every program (carrying on past ones that fail to
# build), runs each, and ends with one combined "N passed, M failed" line: the
# sum of the programs' own counts, plus one failure for each program that did
# not build, crashed, exited non-zero without reporting a failure, or printed
# no count.
#
# The freestanding check compiles UNIT_KERNEL_SRCS with KERNEL_CFLAGS as part
# of `make all`, and fails if kernel/string.c references any symbol (it must
# not call itself) or if the objects together reference anything but each
# other: they are proven to build and link freestanding.

UNIT_TESTS := $(patsubst tests/unit/%_test.c,%,$(sort $(wildcard tests/unit/*_test.c)))
UNIT_BINS := $(UNIT_TESTS:%=$(BUILD)/host/tests/%)
# UNIT_OBJDIR is set in mk/config.mk so fragments read before this one can use it.

# The services owned here and what each test links.
UNIT_SRCS_fmt += kernel/fmt.c
UNIT_SRCS_string += kernel/string.c
# Built renamed (kstring_memcpy, ...) so it does not clash with libc; no loop
# distribution, so the test exercises these loops rather than libc calls.
UNIT_CFLAGS_string += -DKSTRING_RENAME -fno-builtin -fno-tree-loop-distribute-patterns
UNIT_SRCS_memmap += kernel/memmap.c kernel/fmt.c
UNIT_SRCS_pmm += kernel/pmm.c kernel/memmap.c kernel/fmt.c
UNIT_SRCS_heap += kernel/heap.c kernel/fmt.c

UNIT_KERNEL_SRCS := kernel/fmt.c kernel/string.c kernel/memmap.c kernel/pmm.c kernel/heap.c
UNIT_KERNEL_OBJS := $(UNIT_KERNEL_SRCS:%.c=$(BUILD)/unit-freestanding/%.o)
UNIT_FREESTANDING_OK := $(BUILD)/unit-freestanding/check.ok
ALL_TARGETS += $(UNIT_FREESTANDING_OK)
TEST_SUITES += unit

.SECONDEXPANSION:

# NAME's objects: its test file and UNIT_SRCS_NAME, under UNIT_OBJDIR/NAME/.
unit_objs = $(patsubst %.c,$(UNIT_OBJDIR)/$1/%.o,tests/unit/$1_test.c $(UNIT_SRCS_$1))
# Object path NAME/dir/file -> NAME and dir/file.c
unit_prog = $(firstword $(subst /, ,$1))
unit_src = $(patsubst $(call unit_prog,$1)/%,%,$1).c

$(UNIT_OBJDIR)/%.o: $$(call unit_src,$$*)
	@mkdir -p $(@D)
	$(HOST_CC) $(HOST_CFLAGS) $(UNIT_CFLAGS_$(call unit_prog,$*)) -MMD -MP -c $< -o $@

$(UNIT_BINS): $(BUILD)/host/tests/%: $$(call unit_objs,$$*)
	@mkdir -p $(@D)
	$(HOST_CC) $^ $(HOST_LDFLAGS) $(UNIT_LDFLAGS_$*) -o $@

$(BUILD)/unit-freestanding/%.o: %.c
	@mkdir -p $(@D)
	$(KERNEL_CC) $(KERNEL_CFLAGS) -MMD -MP -c $< -o $@

$(UNIT_FREESTANDING_OK): $(UNIT_KERNEL_OBJS)
	@undef=$$(nm -u $(BUILD)/unit-freestanding/kernel/string.o); \
	if [ -n "$$undef" ]; then \
		echo "kernel/string.o must reference nothing, but needs:"; echo "$$undef"; exit 1; \
	fi
	@nm -u $^ | awk 'NF==2 {print $$2}' | sort -u >$@.need
	@nm --defined-only $^ | awk 'NF==3 {print $$3}' | sort -u >$@.have
	@missing=$$(comm -23 $@.need $@.have); \
	if [ -n "$$missing" ]; then \
		echo "freestanding objects reference symbols nobody defines:"; echo "$$missing"; exit 1; \
	fi
	@touch $@

.PHONY: unit-bins test-unit
unit-bins: $(UNIT_BINS)

# Build with -k so one broken program does not hide the others' results,
# then ask make which programs are still out of date: those did not build.
test-unit:
	@$(MAKE) --no-print-directory -k unit-bins || true
	@stale=""; for b in $(UNIT_BINS); do \
		$(MAKE) --no-print-directory -q $$b 2>/dev/null || stale="$$stale $$b"; \
	done; \
	sh tests/unit/run-unit.sh "$$stale" $(UNIT_BINS)

-include $(shell find $(UNIT_OBJDIR) $(BUILD)/unit-freestanding -name '*.d' 2>/dev/null)
