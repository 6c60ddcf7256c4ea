# User space (docs/userspace.md): the portable pieces' host unit tests,
# the user programs and their root file system archive, the test-user
# suite and the bench-user benchmark part.

UNIT_SRCS_elf_exec += kernel/elf_exec.c kernel/string.c
UNIT_CFLAGS_elf_exec += -DKSTRING_RENAME
UNIT_SRCS_ustack += kernel/ustack.c
UNIT_SRCS_rootfs += kernel/cpio.c kernel/rootfs.c tests/ext-model/kheap_shim.c
LX_SRCS := kernel/linux/lx_syscall.c kernel/linux/lx_fs.c kernel/linux/lx_mm.c \
           kernel/linux/lx_fd.c kernel/linux/lx_pipe.c kernel/linux/lx_proc.c \
           kernel/linux/lx_signal.c
# MachineTrap's procedures (kernel/machinetrap.c): the domain test declares
# the interface, so it links them.
UNIT_SRCS_domain += kernel/machinetrap.c
UNIT_CFLAGS_domain += -Iarch/x86_64/include
UNIT_SRCS_lx += $(LX_SRCS) kernel/cpio.c kernel/rootfs.c tests/unit/fake_umem.c \
                tests/ext-model/kheap_shim.c
UNIT_SRCS_lx_proc += $(LX_SRCS) kernel/cpio.c kernel/rootfs.c tests/unit/fake_umem.c \
                     tests/ext-model/kheap_shim.c

# ---- user programs and the root file system archive ----
# Each user/NAME.c is one static musl program, /bin/NAME in the archive.
# The archive (newc, fixed owners and times: same inputs, same bytes) also
# holds /etc/motd, a symbolic link and an empty directory, for the file tests.
USER_CC      := musl-gcc
USER_CFLAGS  := -static -O2 -std=gnu11 -Wall -Wextra -Werror -Iinclude
USER_OUT     := $(BUILD)/user
USER_PROGS   := $(patsubst user/%.c,%,$(sort $(wildcard user/*.c)))
USER_BINS    := $(USER_PROGS:%=$(USER_OUT)/bin/%)
USER_EXTS    := $(patsubst user/ext/%.c,$(USER_OUT)/ext/%.o,$(sort $(wildcard user/ext/*.c)))
USER_BPF_CFLAGS := -O2 -g -target bpf -mcpu=v3 -Wall -Werror -I. -Iinclude
USER_CPIO    := $(USER_OUT)/rootfs.cpio
ALL_TARGETS  += $(USER_CPIO)
TEST_SUITES  += user
BENCH_PARTS  += user

$(USER_OUT)/bin/%: user/%.c
	@mkdir -p $(@D)
	$(USER_CC) $(USER_CFLAGS) -o $@ $<
# The programs' shared headers (bench.h, check.h, rawsys.h, xas.h, vmsys.h).
$(USER_BINS): $(wildcard user/*.h)

# Extensions a user program loads (Spindle's own system calls): /ext/NAME.o.
$(USER_OUT)/ext/%.o: user/ext/%.c
	@mkdir -p $(@D)
	$(BPF_CC) $(USER_BPF_CFLAGS) -c $< -o $@

$(USER_CPIO): $(USER_BINS) $(USER_EXTS) tests/user/mkrootfs.sh $(wildcard /bin/busybox)
	sh tests/user/mkrootfs.sh $@ $(USER_BINS) $(USER_EXTS)

.PHONY: user test-user bench-user
user: $(USER_CPIO)

test-user: $(KERNEL_ELF) $(USER_CPIO)
	@QEMU="$(QEMU)" QEMU_ACCEL="$(QEMU_ACCEL)" USER_LOG_DIR=$(BUILD)/test/user \
	    sh tests/user/run-user.sh $(KERNEL_ELF) $(USER_CPIO)

# From ring 3 under -icount (guest instructions), one boot each on the
# shared guest machine (BENCH_GUEST_QEMU, mk/bench.mk): the null system call
# (/bin/nullsys); the cross-address-space call (/bin/xas_bench calling
# /bin/xas_server's portal through the xas extension); Table 4 through the
# process's own VM extension (/bin/vmuser table4); a pipe round trip between
# two Linux processes (/bin/forktest cost: xas_pipe, Linux's own row).  The later boots run
# without the lock-order checker, as bench= boots do.  bench-quick-user
# prints the same boots' BENCH lines for the repeatability test.
BENCH_USER_BOOTS := null xas vm pipe
BENCH_USER_ARGS_null := init=/bin/nullsys
BENCH_USER_ARGS_xas := nolockcheck exts=/ext/xas.o procs=/bin/xas_server,/bin/xas_bench
BENCH_USER_ARGS_vm := nolockcheck init=/bin/vmuser table4
BENCH_USER_ARGS_pipe := nolockcheck init=/bin/forktest cost
bench_user_boot = $(call bench_guest_boot,$(1),-kernel $(KERNEL_ELF) -initrd $(USER_CPIO) \
	-append "$(BENCH_USER_ARGS_$(2))")
BENCH_REPEAT += user
BENCH_REPEAT_PARALLEL += user
.PHONY: bench-quick-user
bench-user: $(KERNEL_ELF) $(USER_CPIO) bench/report.py bench/benchmarks.def
	@mkdir -p $(BUILD)/bench/parts
	@rm -f $(BUILD)/bench/parts/user-all.log
	@$(foreach b,$(BENCH_USER_BOOTS),$(call bench_user_boot,$(BUILD)/bench/parts/user-$(b).log,$(b)); \
		grep -v '^BENCHEND' $(BUILD)/bench/parts/user-$(b).log >>$(BUILD)/bench/parts/user-all.log;)
	@echo "BENCHEND $$(grep -c '^BENCH ' $(BUILD)/bench/parts/user-all.log)" \
		>>$(BUILD)/bench/parts/user-all.log
	$(BENCH_REPORT) serial2part --side spindle -o $(BUILD)/bench/parts/user.json \
		$(BUILD)/bench/parts/user-all.log
	@grep -E '^BENCH(ERROR)? ' $(BUILD)/bench/parts/user-all.log
bench-quick-user: $(KERNEL_ELF) $(USER_CPIO)
	@log=$$(mktemp); trap 'rm -f $$log' EXIT; $(foreach b,$(BENCH_USER_BOOTS),$(call bench_user_boot,$$log,$(b)); \
		grep -E '^BENCH(INFO|ERROR)? ' $$log;) true

# `make run CMDLINE="init=/bin/hello a b"` (and `make debug`) boot with the
# root file system as the boot module; mk/kernel.mk's recipes use RUN_INITRD.
RUN_INITRD := -initrd $(USER_CPIO)
run debug: $(USER_CPIO)
