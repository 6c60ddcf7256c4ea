# The extension model's portable core: capabilities, externalized
# references, domains, the nameserver and the dispatcher (kernel/), the
# interface generator (tools/gen-interfaces.py), their host unit tests
# (suite "unit", see mk/unit.mk) and the host-native dispatch benchmark.

MODEL_SHIM := tests/ext-model/kheap_shim.c
UNIT_SRCS_cap += kernel/cap.c $(MODEL_SHIM)
UNIT_SRCS_extref += kernel/extref.c kernel/cap.c $(MODEL_SHIM)
# The dispatcher generates its routines with the JIT's encoder: the x86-64
# backend is arch/x86_64/dispatch_gen.c, code memory comes from the runtime.
DISPATCH_SRCS := kernel/dispatch.c arch/x86_64/dispatch_gen.c
UNIT_SRCS_dispatch += $(DISPATCH_SRCS) $(MODEL_SHIM)
UNIT_LDFLAGS_dispatch += $(RT_HOST_LIB)
$(BUILD)/host/tests/dispatch: $(RT_HOST_LIB)

# Interfaces: one declaration in interfaces/*.idl, everything else generated.
GEN_IDL := $(sort $(wildcard interfaces/*.idl))
GEN_DIR := $(BUILD)/gen
GEN_OUT := $(GEN_DIR)/spindle_interfaces.h $(GEN_DIR)/spindle_interfaces.c
GEN_TOOL := tools/gen-interfaces.py

# One invocation writes every output (committed ones only if changed).
# The tool leaves unchanged files alone; touch the targets so make sees them
# as current.
$(GEN_DIR)/spindle_interfaces.c: $(GEN_IDL) $(GEN_TOOL)
	$(PYTHON) $(GEN_TOOL) --gen $(GEN_DIR)
	@touch $(GEN_DIR)/spindle_interfaces.h $@
$(GEN_DIR)/spindle_interfaces.h: $(GEN_DIR)/spindle_interfaces.c

.PHONY: interfaces lint-interfaces
interfaces: $(GEN_OUT)
lint-interfaces:
	$(PYTHON) $(GEN_TOOL) --gen $(GEN_DIR) --check
lint: lint-interfaces

MODEL_GEN_SRCS := kernel/domain.c kernel/interface.c kernel/extref.c kernel/cap.c $(DISPATCH_SRCS) \
                  $(GEN_DIR)/spindle_interfaces.c
UNIT_SRCS_domain += $(MODEL_GEN_SRCS) $(MODEL_SHIM)
UNIT_CFLAGS_domain += -I$(GEN_DIR)
UNIT_SRCS_nameserver += kernel/nameserver.c $(MODEL_GEN_SRCS) $(MODEL_SHIM)
UNIT_CFLAGS_nameserver += -I$(GEN_DIR)
UNIT_LDFLAGS_nameserver += $(RT_HOST_LIB)
$(BUILD)/host/tests/nameserver: $(RT_HOST_LIB)
# Their test programs include the generated header before make has seen it.
$(UNIT_OBJDIR)/domain/tests/unit/domain_test.o: $(GEN_DIR)/spindle_interfaces.h
$(UNIT_OBJDIR)/nameserver/tests/unit/nameserver_test.o: $(GEN_DIR)/spindle_interfaces.h

# Freestanding check (part of `make all`): the model's services and the
# generated tables compile with KERNEL_CFLAGS and need nothing but each other,
# kernel/string, the kernel heap and spinlocks (kernel/sync.c).  (Weak references to interface
# implementations are allowed to stay undefined.)
MODEL_KERNEL_SRCS := kernel/cap.c kernel/extref.c $(DISPATCH_SRCS) kernel/domain.c kernel/extension.c \
                     kernel/nameserver.c kernel/interface.c $(GEN_DIR)/spindle_interfaces.c
MODEL_KOBJ_DIR := $(BUILD)/model-freestanding
MODEL_KOBJS := $(patsubst %.c,$(MODEL_KOBJ_DIR)/%.o,$(patsubst $(GEN_DIR)/%,gen/%,$(MODEL_KERNEL_SRCS)))
MODEL_FREESTANDING_OK := $(MODEL_KOBJ_DIR)/check.ok
MODEL_ALLOWED_UNDEF := kzalloc kfree memcpy memset memcmp memmove strcmp strncmp strlen strnlen strchr \
                       rt_alloc rt_free rt_code_alloc rt_code_seal rt_code_free rt_snprintf \
                       rt_prog_load_elf rt_prog_free rt_verify rt_jit_compile rt_jit_entry \
                       rt_jit_free rt_jit_code_size rt_jit_plain rt_jit_unmetered rt_guard_range \
                       percpu_count sched_set_quiescent_hook \
                       sched_preempt_check sched_preempt_enable \
                       spin_init spin_lock_wait sync_checking sync_track_acquire sync_track_release
ALL_TARGETS += $(MODEL_FREESTANDING_OK)

$(MODEL_KOBJ_DIR)/kernel/%.o: kernel/%.c $(GEN_DIR)/spindle_interfaces.h
	@mkdir -p $(@D)
	$(KERNEL_CC) $(KERNEL_CFLAGS) -I$(GEN_DIR) -MMD -MP -c $< -o $@
$(MODEL_KOBJ_DIR)/arch/%.o: arch/%.c $(GEN_DIR)/spindle_interfaces.h
	@mkdir -p $(@D)
	$(KERNEL_CC) $(KERNEL_CFLAGS) -I$(GEN_DIR) -MMD -MP -c $< -o $@
$(MODEL_KOBJ_DIR)/gen/%.o: $(GEN_DIR)/%.c $(GEN_DIR)/spindle_interfaces.h
	@mkdir -p $(@D)
	$(KERNEL_CC) $(KERNEL_CFLAGS) -I$(GEN_DIR) -MMD -MP -c $< -o $@

$(MODEL_FREESTANDING_OK): $(MODEL_KOBJS)
	@nm $^ | awk '$$1 == "U" {print $$2}' | sort -u >$@.need
	@nm --defined-only $^ | awk 'NF==3 {print $$3}' | sort -u >$@.have
	@missing=$$(comm -23 $@.need $@.have | grep -vxF $(MODEL_ALLOWED_UNDEF:%=-e %)); \
	if [ -n "$$missing" ]; then \
		echo "model objects reference symbols outside the model, kernel/string and the heap:"; \
		echo "$$missing"; exit 1; \
	fi
	@touch $@

-include $(shell find $(MODEL_KOBJ_DIR) -name '*.d' 2>/dev/null)

# Extensions the model's tests load: tests/ext-model/*.c -> $(BUILD)/ext-model/*.o
MODEL_EXT_SRCS := $(sort $(wildcard tests/ext-model/*.c))
MODEL_EXT_SRCS := $(filter-out $(MODEL_SHIM),$(MODEL_EXT_SRCS))
MODEL_EXT_OBJS := $(patsubst tests/ext-model/%.c,$(BUILD)/ext-model/%.o,$(MODEL_EXT_SRCS))
$(BUILD)/ext-model/%.o: tests/ext-model/%.c include/spindle/ext.h $(GEN_DIR)/spindle_interfaces.c
	@mkdir -p $(@D)
	$(BPF_CC) -O2 -g -target bpf -Iinclude -Wall -Werror -c $< -o $@

# domain_test also runs real extensions: it links the runtime library.
UNIT_CFLAGS_domain += -DMODEL_EXT_DIR='"$(BUILD)/ext-model"'
UNIT_LDFLAGS_domain += $(RT_HOST_LIB)
$(BUILD)/host/tests/domain: $(RT_HOST_LIB)
# The extension objects are read at run time, not linked: hang them on the
# test's object so they are rebuilt whenever they are out of date.
$(UNIT_OBJDIR)/domain/tests/unit/domain_test.o: $(MODEL_EXT_OBJS)

# bench-dispatch: host-native, -O2 without sanitizers (HOST_OPT_CFLAGS).
MODEL_BENCH := $(BUILD)/host-opt/bin/dispatch_bench
MODEL_BENCH_SRCS := tests/ext-model/bench/dispatch_bench.c $(MODEL_GEN_SRCS) $(MODEL_SHIM)
BENCH_PARTS += dispatch
$(MODEL_BENCH): $(MODEL_BENCH_SRCS) $(GEN_DIR)/spindle_interfaces.h $(RT_HOST_OPT_LIB) \
		kernel/*.h runtime/*.h
	@mkdir -p $(@D)
	$(HOST_CC) $(HOST_OPT_CFLAGS) -I$(GEN_DIR) $(MODEL_BENCH_SRCS) $(RT_HOST_OPT_LIB) -o $@

.PHONY: bench-dispatch
bench-dispatch: $(MODEL_BENCH) $(BUILD)/ext-model/bench_ext.o
	@mkdir -p $(BUILD)/bench/parts
	$(MODEL_BENCH) $(BUILD)/ext-model/bench_ext.o >$(BUILD)/bench/parts/dispatch.json.tmp
	@mv $(BUILD)/bench/parts/dispatch.json.tmp $(BUILD)/bench/parts/dispatch.json
	@cat $(BUILD)/bench/parts/dispatch.json

# dispatch_gen_test: the generated routines against the walk.
UNIT_SRCS_dispatch_gen += $(DISPATCH_SRCS) $(MODEL_SHIM)
UNIT_LDFLAGS_dispatch_gen += $(RT_HOST_LIB)
$(BUILD)/host/tests/dispatch_gen: $(RT_HOST_LIB)

# dispatch_guard_test: extension guards recognised as inline tests
# (runtime/guard_range.c) against the interpreter.
UNIT_LDFLAGS_dispatch_guard += $(RT_HOST_LIB)
$(BUILD)/host/tests/dispatch_guard: $(RT_HOST_LIB)

# extension_test: the lifecycle with real extensions (kernel/extension.c).
UNIT_SRCS_extension += kernel/extension.c kernel/nameserver.c $(MODEL_GEN_SRCS) $(MODEL_SHIM)
UNIT_CFLAGS_extension += -I$(GEN_DIR) -DMODEL_EXT_DIR='"$(BUILD)/ext-model"'
UNIT_LDFLAGS_extension += $(RT_HOST_LIB)
$(BUILD)/host/tests/extension: $(RT_HOST_LIB)
$(UNIT_OBJDIR)/extension/tests/unit/extension_test.o: $(GEN_DIR)/spindle_interfaces.h $(MODEL_EXT_OBJS)
$(UNIT_OBJDIR)/extension/kernel/extension.o: $(GEN_DIR)/spindle_interfaces.h
