# JIT testing: the JIT's unit test, and the libFuzzer targets.
#
#   build/host/tests/jit   tests/unit/jit_test.c (suite "unit", mk/unit.mk):
#                          hand-written programs and the interpreter-vs-JIT
#                          differential test over the conformance suite and
#                          the verifier corpus
#   build/fuzz/NAME        fuzz/fuzz_NAME.c, clang-19 -fsanitize=fuzzer,
#                          address,undefined, for NAME in $(FUZZ_TARGETS):
#                            loader    arbitrary bytes as an ELF object
#                            verifier  arbitrary bytecode through load + link +
#                                      verify (+ the JIT must take what passes)
#                            diff      accepted programs on the interpreter in
#                                      checking mode and on the JIT, compared
#   make fuzz FUZZ_SECONDS=N   fuzz each target for N seconds (default 60),
#                          starting from its committed seed corpus
#                          fuzz/corpus/NAME/; new inputs go to
#                          build/fuzz/corpus/NAME/, crashes to
#                          build/fuzz/crashes/ (copy a reproducer worth keeping
#                          to fuzz/crashes/)
#   make test-fuzz         suite "fuzz": every target replays its committed
#                          corpus, then fuzzes for FUZZ_TEST_SECONDS (5) each
#
# The fuzzers need their own build of the runtime: every object compiled by
# clang with coverage instrumentation (-fsanitize=fuzzer-no-link).  The
# libFuzzer runtime comes from libclang-rt-19-dev.

FUZZ_TARGETS := loader verifier diff
FUZZ_DIR := $(BUILD)/fuzz
FUZZ_SECONDS ?= 60
FUZZ_TEST_SECONDS ?= 5
# -fno-sanitize=function: clang's check of indirect calls reads a type hash in
# front of the callee, which JIT-compiled code does not have.
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-sanitize=function
FUZZ_CFLAGS := -std=gnu11 -O1 -g -fno-omit-frame-pointer -I. -Iinclude $(FUZZ_SAN) \
               -fsanitize=fuzzer-no-link -Wall -Wextra
# mk/*.mk fragments are read in name order, so this one is read before
# runtime.mk and verifier.mk: their variables are used only inside recipes,
# and prerequisites name the documented paths (the hosted library is every
# runtime/*.c, host_env.c included, plus arch/x86_64/jit*.c).
FUZZ_LIB_SRCS := $(sort $(wildcard runtime/*.c)) $(sort $(wildcard arch/x86_64/jit*.c)) \
                 tests/ext/ext_env.c
FUZZ_LIB_OBJS := $(FUZZ_LIB_SRCS:%.c=$(FUZZ_DIR)/obj/%.o)
FUZZ_BINS := $(FUZZ_TARGETS:%=$(FUZZ_DIR)/%)

ALL_TARGETS += $(FUZZ_BINS)
TEST_SUITES += fuzz

# The JIT unit test: the runtime library plus the sample embedder and the
# hosted tools' shared code.
$(BUILD)/host/tests/jit: $(BUILD)/host/libspinrt.a
UNIT_SRCS_jit += tests/ext/ext_env.c tools/toolkit.c
UNIT_LDFLAGS_jit += $(RT_HOST_LIB)

.PHONY: fuzz test-fuzz fuzz-bins

$(FUZZ_DIR)/obj/%.o: %.c mk/fuzz.mk
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -MMD -MP -c $< -o $@

$(FUZZ_BINS): $(FUZZ_DIR)/%: fuzz/fuzz_%.c fuzz/fuzz_env.h $(FUZZ_LIB_OBJS) mk/fuzz.mk
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Werror -fsanitize=fuzzer $< $(FUZZ_LIB_OBJS) -o $@

fuzz-bins: $(FUZZ_BINS)

fuzz: $(FUZZ_BINS)
	@for t in $(FUZZ_TARGETS); do \
		mkdir -p $(FUZZ_DIR)/corpus/$$t $(FUZZ_DIR)/crashes; \
		echo "fuzz: $$t for $(FUZZ_SECONDS) s"; \
		$(FUZZ_DIR)/$$t -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 \
			-artifact_prefix=$(FUZZ_DIR)/crashes/$$t- -print_final_stats=1 \
			$(FUZZ_DIR)/corpus/$$t fuzz/corpus/$$t || exit 1; \
	done

test-fuzz: $(FUZZ_BINS)
	@sh fuzz/run-tests.sh $(FUZZ_DIR) $(FUZZ_TEST_SECONDS) $(FUZZ_TARGETS)

-include $(shell find $(FUZZ_DIR)/obj -name '*.d' 2>/dev/null)

# Regenerate the committed seed corpora (run by hand; the output is
# committed): bytecode seeds from the conformance suite and the verifier
# corpus, ELF seeds from the clang objects the other suites build and the
# loader's malformed-object collection.
FUZZ_GEN := $(FUZZ_DIR)/gen_corpus
$(FUZZ_GEN): fuzz/gen_corpus.c tools/toolkit.c tools/toolkit.h $(BUILD)/host/libspinrt.a
	@mkdir -p $(@D)
	$(HOST_CC) $(HOST_CFLAGS) $< tools/toolkit.c $(RT_HOST_LIB) $(HOST_LDFLAGS) -o $@

.PHONY: fuzz-corpus
fuzz-corpus: $(FUZZ_GEN) $(BENCH_NATIVE_BPF)
	@$(MAKE) --no-print-directory $(EXT_OBJS)
	@mkdir -p fuzz/corpus/loader fuzz/corpus/verifier fuzz/corpus/diff
	$(FUZZ_GEN) fuzz/corpus/verifier $(CONFORMANCE_DIR)/*.data tests/verifier/*.data
	cp fuzz/corpus/verifier/*.bin fuzz/corpus/diff/
# (fuzz/corpus/diff also holds inputs a longer `make fuzz` run found that add
# coverage, merged in with build/fuzz/diff -merge=1 fuzz/corpus/diff NEW_DIR.)
	cp $(BENCH_NATIVE_BPF) $(EXT_OBJS) fuzz/corpus/loader/
	cp tests/loader/*.elf tests/loader/bad/*.elf fuzz/corpus/loader/
