# Benchmark harness (docs/benchmarks.md).
#
#   make bench              run every BENCH_PARTS target (bench-X writes
#                           build/bench/parts/X.json), load the Linux
#                           baseline (built and run once, then cached) and
#                           print ONE table; writes build/bench/results.json
#                           and build/bench/results.png
#   make bench-linux        only the Linux baseline (-smp 1 and -smp 2)
#   make test-bench-repeat  two short runs must give identical figures
#
# The Linux baseline lives in build/bench/linux/: the kernel .deb and its
# vmlinuz (fetched once; rm -r build/bench/linux to move to a newer Debian
# kernel), the initramfs, and per mode (icount/, or kvm/ with ACCEL=kvm)
# the serial logs smpN.log and the figures smpN.json.
#
# Guest parts that want their figures checked for repeatability add a name
# X to BENCH_REPEAT and a phony target bench-quick-X that prints a short
# run's BENCH lines (bench/benchmarks.def format) on stdout; if two such
# runs may run at once, also add X to BENCH_REPEAT_PARALLEL.

# THE GUEST BENCHMARK MACHINE, for the Linux baseline and for Spindle's
# guest parts alike (add -smp N, -kernel/-initrd or a boot image, and run it
# under timeout).  -seed and -rtc do not change the virtual hardware: they
# fix what the host would otherwise feed in (the random numbers behind
# RDRAND/RDSEED, the RTC's start time), which makes a run bit-for-bit
# repeatable.  With ACCEL=kvm there is no icount: figures are then TSC
# cycles of the host, in $(BENCH_OUT)/linux/kvm/.
ifeq ($(ACCEL),kvm)
BENCH_ICOUNT :=
BENCH_MODE   := kvm
BENCH_GUEST_UNIT := cycles
else
BENCH_ICOUNT := -icount shift=0,sleep=off
BENCH_MODE   := icount
BENCH_GUEST_UNIT :=
endif
BENCH_FIXED_INPUTS := -seed 1 -rtc base=2024-01-01T00:00:00,clock=vm
BENCH_GUEST_QEMU := $(QEMU_ACCEL) $(BENCH_ICOUNT) $(BENCH_FIXED_INPUTS) -m 512M \
	-nodefaults -bios /usr/share/qemu/qboot.rom -no-reboot -display none \
	-serial stdio -device isa-debug-exit,iobase=0xf4,iosize=0x04
export BENCH_GUEST_QEMU

BENCH_OUT   := $(BUILD)/bench
BENCH_PARTS_DIR := $(BENCH_OUT)/parts
LINUX_DIR   := $(BENCH_OUT)/linux
# Logs and figures of the baseline runs: build/bench/linux/icount/smpN.json
LINUX_RES   := $(LINUX_DIR)/$(BENCH_MODE)
LINUX_SMPS  := 1 2
BENCH_REPEAT += linux
# The report and the test scripts use Debian's python3 (standard library
# only); an absolute PYTHON from config.mk is used as it is.
BENCH_PYTHON := $(if $(filter /%,$(PYTHON)),$(PYTHON),/usr/bin/$(PYTHON))
BENCH_REPORT := $(BENCH_PYTHON) bench/report.py
MUSL_CC     := musl-gcc
LBENCH_CFLAGS := -static -O2 -std=gnu11 -Wall -Wextra -Werror

ALL_TARGETS += $(LINUX_DIR)/lbench
TEST_SUITES += bench-repeat

.PHONY: bench bench-linux bench-quick-linux test-bench-repeat

$(LINUX_DIR)/lbench: bench/linux/lbench.c bench/benchmarks.def
	@mkdir -p $(@D)
	$(MUSL_CC) $(LBENCH_CFLAGS) -o $@ bench/linux/lbench.c

# No prerequisites on purpose: fetched once, never again.
$(LINUX_DIR)/vmlinuz:
	sh bench/linux/fetch-kernel.sh $(LINUX_DIR)

$(LINUX_DIR)/initramfs.cpio: $(LINUX_DIR)/lbench bench/linux/init bench/linux/mkinitramfs.sh
	sh bench/linux/mkinitramfs.sh $@ $(LINUX_DIR)/lbench bench/linux/init

# One boot per smp configuration; its serial log is kept next to the JSON.
# The log also depends on mk/bench.mk, which holds the machine options.
.PRECIOUS: $(LINUX_RES)/smp%.log
$(LINUX_RES)/smp%.log: $(LINUX_DIR)/vmlinuz $(LINUX_DIR)/initramfs.cpio bench/linux/run.sh mk/bench.mk
	@mkdir -p $(@D)
	LINUX_DIR=$(LINUX_DIR) QEMU=$(QEMU) sh bench/linux/run.sh $* $@

$(LINUX_RES)/smp%.json: $(LINUX_RES)/smp%.log bench/report.py bench/benchmarks.def
	$(BENCH_REPORT) serial2part --side linux --smp $* \
		$(if $(BENCH_GUEST_UNIT),--unit-override $(BENCH_GUEST_UNIT)) -o $@ $<

bench-linux: $(foreach s,$(LINUX_SMPS),$(LINUX_RES)/smp$(s).json)

# Each part runs in its own make; one that fails is reported, not fatal,
# and leaves no stale figures behind.
bench: bench-linux
	@mkdir -p $(BENCH_PARTS_DIR)
	@failed=""; for p in $(BENCH_PARTS); do \
		rm -f $(BENCH_PARTS_DIR)/$$p.json; \
		echo "bench: part $$p"; \
		if ! $(MAKE) --no-print-directory bench-$$p >$(BENCH_PARTS_DIR)/$$p.log 2>&1; then \
			echo "bench: part $$p FAILED; see $(BENCH_PARTS_DIR)/$$p.log"; \
			rm -f $(BENCH_PARTS_DIR)/$$p.json; failed="$$failed $$p"; \
		fi; \
	done; \
	for f in $(BENCH_PARTS_DIR)/*.json; do \
		[ -e "$$f" ] || continue; n=$$(basename $$f .json); \
		case " $(BENCH_PARTS) " in *" $$n "*) ;; *) echo "bench: removing stale part $$n"; rm -f $$f;; esac; \
	done; \
	$(BENCH_REPORT) table $(foreach s,$(LINUX_SMPS),--linux $(LINUX_RES)/smp$(s).json) \
		--parts $(BENCH_PARTS_DIR) --out $(BENCH_OUT) \
		--expected $(BENCH_PARTS) --failed $$failed

# A short Linux run for the repeatability test: every benchmark with 21
# samples (the boot dominates: ~10 s), BENCH lines on stdout.  The
# repeatability test also compares boot_to_init: with the fixed inputs
# above the whole run repeats exactly.
bench-quick-linux: $(LINUX_DIR)/vmlinuz $(LINUX_DIR)/initramfs.cpio
	@log=$$(mktemp); \
	LINUX_DIR=$(LINUX_DIR) QEMU=$(QEMU) TIMEOUT=120 sh bench/linux/run.sh 1 $$log -n 21 \
		|| { rm -f $$log $$log.failed; exit 1; }; \
	grep '^BENCH ' $$log; rm -f $$log

# Parts whose two quick runs may run at the same time (they only read files
# built beforehand): the test's wall time is then one run, not two.
BENCH_REPEAT_PARALLEL += linux
test-bench-repeat: $(LINUX_DIR)/vmlinuz $(LINUX_DIR)/initramfs.cpio
	@BENCH_PYTHON=$(BENCH_PYTHON) BENCH_REPEAT_PARALLEL="$(BENCH_REPEAT_PARALLEL)" \
		BENCH_REPEAT_DIR=$(BENCH_OUT)/repeat \
		sh bench/repeat.sh $(BENCH_REPEAT)

# $(call bench_guest_boot,LOG,QEMU ARGUMENTS[,CPUS]): one boot of the shared
# guest machine (-smp CPUS, 1 if not given; the arguments add -kernel,
# -initrd, -append), under timeout, its serial log in LOG; a recipe line that
# fails, showing the log's tail, unless the guest left through isa-debug-exit
# with 33.  bench-NAME and bench-quick-NAME of bench_guest_part below boot
# with bench=NAME; mk/user.mk's bench-user with its own command lines,
# mk/strands.mk's bench-strands-smp2 with two CPUs.
bench_guest_boot = timeout -k 5 120 $(QEMU) $(BENCH_GUEST_QEMU) -smp $(or $(3),1) -monitor none $(2) \
	</dev/null >$(1) 2>&1; rc=$$?; if [ $$rc -ne 33 ]; then \
	echo "bench: guest run failed (status $$rc); see $(1)" >&2; tail -n 20 $(1) >&2; exit 1; fi

# $(call bench_guest_part,NAME): a guest benchmark part whose kernel code is
# registered in kernel/bench.c as "NAME".  Defines bench-NAME (boots the
# kernel on the shared guest machine with bench=NAME, keeps the serial log in
# build/bench/NAME.log, converts it into build/bench/parts/NAME.json) and
# bench-quick-NAME (BENCH lines on stdout, for bench/repeat.sh), and adds NAME
# to BENCH_PARTS and BENCH_REPEAT.  Use it from a fragment read after
# mk/kernel.mk (KERNEL_ELF must be defined when the rule is read).
define bench_guest_part
BENCH_PARTS += $(1)
BENCH_REPEAT += $(1)
.PHONY: bench-$(1) bench-quick-$(1)
bench-$(1): $$(KERNEL_ELF) bench/report.py bench/benchmarks.def
	@mkdir -p $$(BUILD)/bench/parts
	@$$(call bench_guest_boot,$$(BUILD)/bench/$(1).log,-kernel $$(KERNEL_ELF) -append "bench=$(1)")
	@grep -E '^BENCH' $$(BUILD)/bench/$(1).log
	$$(BENCH_REPORT) serial2part -o $$(BUILD)/bench/parts/$(1).json $$(BUILD)/bench/$(1).log
bench-quick-$(1): $$(KERNEL_ELF)
	@log=$$$$(mktemp); trap 'rm -f $$$$log' EXIT; \
	$$(call bench_guest_boot,$$$$log,-kernel $$(KERNEL_ELF) -append "bench=$(1)"); \
	grep '^BENCH' $$$$log
endef
