# The extension model inside the kernel image (docs/extensions.md, "In the
# kernel"): the portable core that mk/model.mk host-tests (capabilities,
# externalized references, the dispatcher and its x86-64 routine generator,
# domains, the nameserver, interface lookups, the extension lifecycle), the
# tables generated from interfaces/*.idl, and the trusted modules that
# implement the declared interfaces in the kernel.
#
# Read after mk/kernel.mk and mk/model.mk (fragments are included in name
# order): it uses KBUILD, KERNEL_OBJS and GEN_DIR.  Objects go through
# mk/kernel.mk's pattern rules; the generated C lives in $(GEN_DIR), so its
# object is $(KBUILD)/obj/$(GEN_DIR)/spindle_interfaces.c.o.  The list is
# appended to KERNEL_EXTRA_OBJS (only ever with +=).
#
# Every kernel object may include the generated header, so the kernel's
# compiler flags gain -I$(GEN_DIR) and every kernel object waits for the
# header (order-only: -MMD records the real dependency after the first build).

MODEL_KERNEL_CORE := kernel/extref.c kernel/dispatch.c arch/x86_64/dispatch_gen.c \
                     kernel/domain.c kernel/nameserver.c kernel/interface.c kernel/extension.c
# Trusted modules: one file per interface they implement, plus the boot-time
# publication of SpinPublic / SpinPrivate and the boot manifest (modules.c).
MODEL_KERNEL_MODULES := kernel/console.c kernel/spl.c kernel/gatekeeper.c \
                        kernel/strand_events.c kernel/vproc.c kernel/dispatch_async.c \
                        kernel/clock_iface.c kernel/modules.c
MODEL_KERNEL_SRCS := $(MODEL_KERNEL_CORE) $(MODEL_KERNEL_MODULES) $(GEN_DIR)/spindle_interfaces.c
MODEL_KERNEL_OBJS := $(patsubst %,$(KBUILD)/obj/%.o,$(MODEL_KERNEL_SRCS))

KERNEL_CFLAGS += -I$(GEN_DIR)
KERNEL_EXTRA_OBJS += $(MODEL_KERNEL_OBJS)
$(KERNEL_ELF): $(MODEL_KERNEL_OBJS)
$(KERNEL_OBJS) $(MODEL_KERNEL_OBJS): | $(GEN_DIR)/spindle_interfaces.h
-include $(MODEL_KERNEL_OBJS:.o=.d)
