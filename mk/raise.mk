# Event dispatch in the guest (kernel/bench_events.c, command line
# bench=events): raises of an event with 1, 5, 10 and 50 native handlers,
# with and without guards, beside the same number of direct C calls, in
# guest instructions under -icount.  `make bench-events`; the host-native
# version of the table is bench-dispatch (mk/model.mk).
# (Named so that it is read after mk/kernel.mk and mk/model_kernel.mk.)
EVENTS_BENCH_OBJ := $(KBUILD)/obj/kernel/bench_events.c.o
KERNEL_EXTRA_OBJS += $(EVENTS_BENCH_OBJ)
$(KERNEL_ELF): $(EVENTS_BENCH_OBJ)
$(EVENTS_BENCH_OBJ): | $(GEN_DIR)/spindle_interfaces.h
-include $(EVENTS_BENCH_OBJ:.o=.d)

$(eval $(call bench_guest_part,events))
