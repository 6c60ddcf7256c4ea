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
TPKG_BENCH_OBJ := $(KBUILD)/obj/kernel/bench_tpkg.c.o
KERNEL_EXTRA_OBJS += $(TPKG_BENCH_OBJ)
$(KERNEL_ELF): $(TPKG_BENCH_OBJ)
$(TPKG_BENCH_OBJ): | $(GEN_DIR)/spindle_interfaces.h
-include $(TPKG_BENCH_OBJ:.o=.d)

# bench-tpkg and bench-quick-tpkg (mk/bench.mk).  A quick run may have to
# relink the kernel, so tpkg is not in BENCH_REPEAT_PARALLEL.
$(eval $(call bench_guest_part,tpkg))
