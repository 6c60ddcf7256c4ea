# Spindle top-level build.  Every component keeps its rules in a fragment
# under mk/; this file only fixes the conventions they share:
#   ALL_TARGETS   files `make all` builds
#   TEST_SUITES   names X with a phony target test-X; tools/run-suites runs
#                 each one and reads its last "N passed, M failed" line
#   BENCH_PARTS   names X with a phony target bench-X writing
#                 build/bench/parts/X.json (a JSON array of result objects)
BUILD ?= build
.DEFAULT_GOAL := all
ALL_TARGETS :=
TEST_SUITES :=
BENCH_PARTS :=

include mk/config.mk
include $(filter-out mk/config.mk,$(sort $(wildcard mk/*.mk)))

.PHONY: all deps test bench clean
all: $(ALL_TARGETS)

deps:
	@sh mk/deps.sh

# One total across all suites; a suite that fails to run counts as a failure.
test: deps
	@$(MAKE) --no-print-directory all
	@tools/run-suites $(TEST_SUITES)

clean:
	rm -rf $(BUILD)
