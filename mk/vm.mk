# Memory services (PhysAddr, VirtAddr, Translation and the VM policies;
# docs/memory.md): their host unit test and the guest VM benchmark.
#
#   make test-unit     includes tests/unit/vmcore_test.c (range allocator,
#                      reverse map, PhysAddr over a made-up pmm)
#   make bench-vm      boots the kernel with bench=vm on the shared guest
#                      machine (mk/bench.mk) and converts its BENCH lines
#                      into build/bench/parts/vm.json
# The kernel sources are listed in mk/kernel.mk (KERNEL_PORTABLE/KERNEL_ARCH).

UNIT_SRCS_vmcore += kernel/virtaddr.c kernel/rmap.c kernel/physaddr.c kernel/pmm.c \
                    kernel/memmap.c kernel/fmt.c kernel/cap.c tests/ext-model/kheap_shim.c
# physaddr.c raises PhysAddr.Reclaim through the generated stub (the test
# supplies its own PhysAddr_Reclaim in place of the dispatcher).
UNIT_CFLAGS_vmcore += -I$(GEN_DIR)
$(UNIT_OBJDIR)/vmcore/kernel/physaddr.o: $(GEN_DIR)/spindle_interfaces.h

# bench-vm and bench-quick-vm (mk/bench.mk).
$(eval $(call bench_guest_part,vm))
