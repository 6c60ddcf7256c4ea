# Memory services (PhysAddr, VirtAddr, Translation and the VM policies;
# docs/memory.md): their host unit test and the guest VM benchmark.
#
#   make test-unit     includes tests/unit/vmcore_test.c (range allocator,
#                      reverse map, PhysAddr over a made-up pmm)
#   make bench-vm      boots the kernel with bench=vm under
#                      -icount shift=0,sleep=off and converts its BENCH
#                      lines into build/bench/parts/vm.json
# The kernel sources are listed in mk/kernel.mk (KERNEL_PORTABLE/KERNEL_ARCH).

UNIT_SRCS_vmcore += kernel/virtaddr.c kernel/rmap.c kernel/physaddr.c kernel/pmm.c \
                    kernel/memmap.c kernel/fmt.c kernel/cap.c tests/ext-model/kheap_shim.c
# physaddr.c raises PhysAddr.Reclaim through the generated stub (the test
# supplies its own PhysAddr_Reclaim in place of the dispatcher).
UNIT_CFLAGS_vmcore += -I$(GEN_DIR)
$(UNIT_OBJDIR)/vmcore/kernel/physaddr.o: $(GEN_DIR)/spindle_interfaces.h

BENCH_PARTS += vm
VM_BENCH_LOG := $(BUILD)/bench/vm.log

.PHONY: bench-vm
bench-vm: $(KERNEL_ELF) bench/report.py bench/benchmarks.def
	@mkdir -p $(BUILD)/bench/parts
	@rm -f $(VM_BENCH_LOG)
	@st=0; timeout -k 5 300 $(QEMU) $(QEMU_FIRMWARE) $(QEMU_COMMON) -icount shift=0,sleep=off \
		-serial file:$(VM_BENCH_LOG) -kernel $(KERNEL_ELF) -append "bench=vm" || st=$$?; \
	if [ $$st -ne 33 ]; then \
		echo "bench-vm: the bench=vm boot ended with status $$st (33 = success)"; \
		tail -20 $(VM_BENCH_LOG); exit 1; fi
	@grep '^BENCH' $(VM_BENCH_LOG)
	$(BENCH_REPORT) serial2part -o $(BUILD)/bench/parts/vm.json $(VM_BENCH_LOG)
