# Thread-package benchmarks (SPIN Table 3, user/integrated column through an
# extension): fork-join and ping-pong of threads scheduled by the
# round-robin package tests/kernel-ext/pkg_rr.c (kernel/bench_tpkg.c, ids
# forkjoin_pkg and pingpong_pkg), in guest instructions under -icount.
#
#   make bench-tpkg        boots the kernel on the shared guest machine
#                          ($(BENCH_GUEST_QEMU), mk/bench.mk) with
#                          "bench=tpkg", keeps the serial log in
#                          build/bench/tpkg.log and converts it with
#                          bench/report.py into build/bench/parts/tpkg.json
#   make bench-quick-tpkg  the same run, BENCH lines on stdout
#                          (make test-bench-repeat runs it twice)
#
# Read after mk/kernel.mk and mk/model_kernel.mk (fragments are included in
# name order): bench_tpkg.c includes the generated interface header, so its
# object joins the kernel link the way the model's trusted modules do.
BENCH_PARTS += tpkg

TPKG_BENCH_OBJ := $(KBUILD)/obj/kernel/bench_tpkg.c.o
KERNEL_EXTRA_OBJS += $(TPKG_BENCH_OBJ)
$(KERNEL_ELF): $(TPKG_BENCH_OBJ)
$(TPKG_BENCH_OBJ): | $(GEN_DIR)/spindle_interfaces.h
-include $(TPKG_BENCH_OBJ:.o=.d)

TPKG_BENCH_LOG := $(BUILD)/bench/tpkg.log

.PHONY: bench-tpkg bench-quick-tpkg
bench-tpkg: $(KERNEL_ELF) bench/report.py bench/benchmarks.def
	@mkdir -p $(BUILD)/bench/parts
	@timeout -k 5 120 $(QEMU) $(BENCH_GUEST_QEMU) -monitor none \
		-kernel $(KERNEL_ELF) -append "bench=tpkg" >$(TPKG_BENCH_LOG) 2>&1; \
	rc=$$?; if [ $$rc -ne 33 ]; then \
		echo "bench-tpkg: guest run failed (status $$rc); see $(TPKG_BENCH_LOG)"; \
		tail -n 20 $(TPKG_BENCH_LOG); exit 1; fi
	@grep -E '^BENCH' $(TPKG_BENCH_LOG)
	$(BENCH_REPORT) serial2part -o $(BUILD)/bench/parts/tpkg.json $(TPKG_BENCH_LOG)

# Repeatability (mk/bench.mk, bench/repeat.sh).  Not in BENCH_REPEAT_PARALLEL:
# a run may have to relink the kernel.
BENCH_REPEAT += tpkg
bench-quick-tpkg: $(KERNEL_ELF)
	@log=$$(mktemp); timeout -k 5 120 $(QEMU) $(BENCH_GUEST_QEMU) -monitor none \
		-kernel $(KERNEL_ELF) -append "bench=tpkg" >$$log 2>&1; \
	rc=$$?; grep '^BENCH' $$log; rm -f $$log; [ $$rc -eq 33 ]
