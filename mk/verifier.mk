# The verifier's tools and suite.
#
#   build/bin/spin-verify        verify a clang BPF object against the sample
#                                embedder (tests/ext/ext_env.h)
#   build/bin/redteam-diff       every accepted program of tests/verifier
#                                (recursively, minus *-pending/) and
#                                build/ext/*.o on the interpreter in checking
#                                mode and the JIT, at every fuel budget up to
#                                its need: r0, status, fuel left, memory,
#                                globals must agree, and no run, however it
#                                ended, may leave a reference held
#                                (--strict-refs; tools/redteam-diff.c)
#   build/bin/verifier-corpus    run tests/verifier/*.data (accept/refuse with
#                                rejection codes, accepted ones run on the
#                                interpreter and the JIT) and the C extensions
#                                tests/ext/NAME.c (compiled by $(BPF_CC) into
#                                build/ext/NAME.o, verdicts in tests/ext/expect.txt)
# Suite "verifier": the verifier's unit tests (tests/unit/verify_test.c, built
# by mk/unit.mk, so also part of test-unit), the .data corpus and the C
# extensions, with one combined count.
#
# Both tools need the sample embedder, so they get explicit rules that
# override runtime.mk's generic tools/NAME.c rule.

EXT_ENV_SRC := tests/ext/ext_env.c
VERIFIER_TOOLS := spin-verify verifier-corpus verifier-bench redteam-diff
EXT_PROGS := $(filter-out $(EXT_ENV_SRC),$(sort $(wildcard tests/ext/*.c)))
EXT_OBJS := $(EXT_PROGS:tests/ext/%.c=$(BUILD)/ext/%.o)
BPF_EXT_CFLAGS := -O2 -g -target bpf -mcpu=v3 -Wall -Wno-unused-function

$(VERIFIER_TOOLS:%=$(BUILD)/bin/%): $(BUILD)/bin/%: tools/%.c $(EXT_ENV_SRC) tests/ext/ext_env.h $(TK_HOST_OBJ) $(RT_HOST_LIB)
	@mkdir -p $(@D) $(BUILD)/host/obj/tools
	$(HOST_CC) $(HOST_CFLAGS) -MMD -MP -MF $(BUILD)/host/obj/tools/$*.d -MT $@ $< $(EXT_ENV_SRC) \
		$(TK_HOST_OBJ) $(RT_HOST_LIB) $(HOST_LDFLAGS) -o $@

$(VERIFIER_TOOLS:%=$(BUILD)/host-opt/bin/%): $(BUILD)/host-opt/bin/%: tools/%.c $(EXT_ENV_SRC) $(TK_HOST_OPT_OBJ) $(RT_HOST_OPT_LIB)
	@mkdir -p $(@D)
	$(HOST_CC) $(HOST_OPT_CFLAGS) $< $(EXT_ENV_SRC) $(TK_HOST_OPT_OBJ) $(RT_HOST_OPT_LIB) -o $@

$(BUILD)/ext/%.o: tests/ext/%.c tests/ext/ext_api.h
	@mkdir -p $(@D)
	$(BPF_CC) $(BPF_EXT_CFLAGS) -c $< -o $@

# The unit test links the library and the sample embedder.
$(BUILD)/host/tests/verify: $(RT_HOST_LIB)
UNIT_SRCS_verify += $(EXT_ENV_SRC)
UNIT_LDFLAGS_verify += $(RT_HOST_LIB)

ALL_TARGETS += $(VERIFIER_TOOLS:%=$(BUILD)/bin/%)
TEST_SUITES += verifier

.PHONY: test-verifier ext-objs bench-verifier
ext-objs: $(EXT_OBJS)

bench-verifier: $(BUILD)/host-opt/bin/verifier-bench $(EXT_OBJS)
	$(BUILD)/host-opt/bin/verifier-bench
	$(BUILD)/host-opt/bin/verifier-bench $(filter-out $(BUILD)/ext/bad_%,$(EXT_OBJS))

test-verifier: $(VERIFIER_TOOLS:%=$(BUILD)/bin/%) $(EXT_OBJS) $(BUILD)/host/tests/verify
	@mkdir -p $(BUILD)/test
	@$(BUILD)/host/tests/verify >$(BUILD)/test/verify-unit.out 2>&1; \
	cat $(BUILD)/test/verify-unit.out; \
	$(BUILD)/bin/verifier-corpus --ext tests/ext/expect.txt $(BUILD)/ext tests/verifier \
		>$(BUILD)/test/verifier-corpus.out 2>&1; \
	cat $(BUILD)/test/verifier-corpus.out; \
	$(BUILD)/bin/redteam-diff --strict-refs tests/verifier $(BUILD)/ext >$(BUILD)/test/redteam-diff.out 2>&1; \
	cat $(BUILD)/test/redteam-diff.out; \
	set -- $$(grep -E '^[0-9]+ passed, [0-9]+ failed' $(BUILD)/test/verify-unit.out | tail -n 1); \
	u1=$${1:-0}; u2=$${3:-1}; \
	set -- $$(grep -E '^[0-9]+ passed, [0-9]+ failed' $(BUILD)/test/verifier-corpus.out | tail -n 1); \
	c1=$${1:-0}; c2=$${3:-1}; \
	set -- $$(grep -E '^[0-9]+ passed, [0-9]+ failed' $(BUILD)/test/redteam-diff.out | tail -n 1); \
	d1=$${1:-0}; d2=$${3:-1}; \
	echo "$$((u1 + c1 + d1)) passed, $$((u2 + c2 + d2)) failed"; [ $$((u2 + c2 + d2)) -eq 0 ]
