# Host-native benchmarks of the extension runtime (bench part "native").
#
#   make bench-native   runs $(BENCH_NATIVE_BIN) and writes
#                       build/bench/parts/native.json (section "host")
#
# bench/native/kernels.c is compiled twice: by gcc -O2 into the driver (the
# baseline) and by $(BPF_CC) into an extension object the driver loads,
# verifies and JIT-compiles.  The driver links the optimised, unsanitised
# runtime library ($(RT_HOST_OPT_LIB)); figures are real cycles (rdtsc) and
# ratios measured in the same run.  Nothing here asserts a timing.

BENCH_NATIVE_DIR := $(BUILD)/bench/native
BENCH_NATIVE_BIN := $(BENCH_NATIVE_DIR)/bench-native
BENCH_NATIVE_BPF := $(BENCH_NATIVE_DIR)/kernels.bpf.o
BENCH_NATIVE_BPF_CFLAGS := -O2 -g -target bpf -mcpu=v3 -ffreestanding -Wall -Werror -I.

ALL_TARGETS += $(BENCH_NATIVE_BIN) $(BENCH_NATIVE_BPF)
BENCH_PARTS += native

.PHONY: bench-native

$(BENCH_NATIVE_BPF): bench/native/kernels.c bench/native/kernels.h
	@mkdir -p $(@D)
	$(BPF_CC) $(BENCH_NATIVE_BPF_CFLAGS) -c $< -o $@

# (Read before runtime.mk: the prerequisites name the library's and the
# toolkit's documented paths rather than $(RT_HOST_OPT_LIB) and
# $(TK_HOST_OPT_OBJ), which are not defined yet.)
$(BENCH_NATIVE_BIN): bench/native/bench.c bench/native/kernels.c bench/native/kernels.h \
		     $(BUILD)/host-opt/obj/tools/toolkit.o $(BUILD)/host-opt/libspinrt.a
	@mkdir -p $(@D)
	$(HOST_CC) $(HOST_OPT_CFLAGS) bench/native/bench.c bench/native/kernels.c \
		$(TK_HOST_OPT_OBJ) $(RT_HOST_OPT_LIB) -o $@

bench-native: $(BENCH_NATIVE_BIN) $(BENCH_NATIVE_BPF)
	@mkdir -p $(BUILD)/bench/parts
	$(BENCH_NATIVE_BIN) $(BENCH_NATIVE_BPF) $(BUILD)/bench/parts/native.json
