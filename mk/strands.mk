# Strand benchmarks (SPIN Table 3, kernel column): fork-join and ping-pong
# of in-kernel strands, measured in guest instructions under -icount.
#
#   make bench-strands   boots the kernel on the shared guest machine with
#                        "bench=strands", keeps the serial log in
#                        build/bench/strands.log and converts it with
#                        bench/report.py into build/bench/parts/strands.json
#   make bench-strands-smp2   the same on the shared guest machine
#                        ($(BENCH_GUEST_QEMU), mk/bench.mk) with -smp 2: rows
#                        with smp 2 in build/bench/parts/strands-smp2.json
BENCH_PARTS += strands-smp2

# bench-strands and bench-quick-strands (mk/bench.mk).
$(eval $(call bench_guest_part,strands))

STRANDS_SMP2_LOG := $(BUILD)/bench/strands-smp2.log

.PHONY: bench-strands-smp2
bench-strands-smp2: $(KERNEL_ELF) bench/report.py bench/benchmarks.def
	@mkdir -p $(BUILD)/bench/parts
	@$(call bench_guest_boot,$(STRANDS_SMP2_LOG),-kernel $(KERNEL_ELF) -append "bench=strands",2)
	@grep -E '^BENCH' $(STRANDS_SMP2_LOG)
	$(BENCH_REPORT) serial2part --smp 2 -o $(BUILD)/bench/parts/strands-smp2.json $(STRANDS_SMP2_LOG)
