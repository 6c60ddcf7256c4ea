# Kernel image, boot ISO, QEMU runs and the kernel's test suites.
#
#   make kernel        build/kernel/spindle.elf (PVH note + multiboot2 header)
#   make run           boot it, serial on the terminal (quit: Ctrl-A X);
#                      CMDLINE="test" etc. sets the kernel command line
#   make debug         same, stopped at reset with a gdb stub on :1234
#   make iso           build/spindle.iso (GRUB, BIOS + UEFI)
#   make test-kernel / test-iso / test-badboot, make bench-boot
# ACCEL=kvm (mk/config.mk) switches QEMU from TCG to KVM; opt-in only.

KBUILD      := $(BUILD)/kernel
KERNEL_ELF  := $(KBUILD)/spindle.elf
KERNEL_ISO  := $(BUILD)/spindle.iso
KERNEL_TEST_ISO := $(KBUILD)/spindle-test.iso

# Arch and portable kernel sources are listed, not globbed: files appear in
# these folders from several engineers and each must be wired in on purpose.
KERNEL_PORTABLE := kmain kprintf panic ksyms ktest irq clock cmdline mem \
                   fmt string memmap pmm heap \
                   sync strand sched bench bench_strands \
                   rt_env kext bench_kext \
                   cap physaddr virtaddr rmap translation vm_policy bench_vm \
                   elf_exec ustack cpio rootfs process spin_sys \
                   linux/lx_syscall linux/lx_fs linux/lx_mm linux/lx_module portal machinetrap
# Linux processes: fork/exec/wait (process layer), fd table, pipes, process calls.
KERNEL_PORTABLE += process_fork linux/lx_fd linux/lx_pipe linux/lx_proc linux/lx_signal
KERNEL_ARCH := boot.S entry.S cpu.c trap.c fault.S serial.c mmu.c bootinfo.c pit.c apic.c \
               switch.S kstack.c mmu_prot.c pagetable.c \
               syscall.S syscall.c usercopy.S uaccess.c bootmod.c \
               percpu.c smp.c smp_trampoline.S
# The exact return to ring 3 (iretq) for rt_sigreturn of a fault's signal frame.
KERNEL_ARCH += uspace_iret.S
KERNEL_SRCS := $(addprefix arch/x86_64/,$(KERNEL_ARCH)) \
               $(patsubst %,kernel/%.c,$(KERNEL_PORTABLE)) \
               $(wildcard tests/kernel/*.c)
KERNEL_OBJS := $(patsubst %,$(KBUILD)/obj/%.o,$(KERNEL_SRCS))
KERNEL_LDS  := $(KBUILD)/kernel.ld
KERNEL_LDFLAGS := -nostdlib -static -no-pie -Wl,--build-id=none -Wl,-z,max-page-size=0x1000 \
                  -Wl,-z,noexecstack -Wl,-T,$(KERNEL_LDS)

ALL_TARGETS += $(KERNEL_ELF)
TEST_SUITES += kernel iso badboot
BENCH_PARTS += boot

.PHONY: kernel iso run debug test-kernel test-iso test-badboot bench-boot
kernel: $(KERNEL_ELF)

# V=1 shows the compiler command lines.
KQ := $(if $(V),,@)
$(KBUILD)/obj/%.c.o: %.c
	@mkdir -p $(@D)
	@$(if $(V),:,echo "  CC      $<")
	$(KQ)$(KERNEL_CC) $(KERNEL_CFLAGS) -MMD -MP -c $< -o $@
$(KBUILD)/obj/%.S.o: %.S
	@mkdir -p $(@D)
	@$(if $(V),:,echo "  AS      $<")
	$(KQ)$(KERNEL_CC) $(KERNEL_CFLAGS) -D__ASSEMBLY__ -MMD -MP -c $< -o $@
-include $(KERNEL_OBJS:.o=.d)

$(KERNEL_LDS): arch/x86_64/kernel.ld arch/x86_64/include/arch/layout.h
	@mkdir -p $(@D)
	$(KERNEL_CC) -E -P -x c -D__ASSEMBLY__ -Iarch/x86_64/include $< -o $@

# Two-pass link (kallsyms-style): link with an empty symbol table, extract
# the text symbols with nm into a generated table, link again.  The table is
# at the end of .rodata, so text addresses are the same in both passes; the
# recipe checks that.  The image's size rules (KERNEL_IMAGE_MAX, the boot
# mapping covers it) are ASSERTs in arch/x86_64/kernel.ld, checked by ld.
# (Both passes are one recipe so that the object list can never differ.)
$(KERNEL_ELF): $(KERNEL_OBJS) $(KERNEL_LDS) tools/gen-ksyms
	@$(if $(V),:,echo "  LD      $@ (two passes, symbol table from nm)")
	$(KQ)tools/gen-ksyms --empty $(KBUILD)/ksyms0.S
	$(KQ)$(KERNEL_CC) $(KERNEL_CFLAGS) -c $(KBUILD)/ksyms0.S -o $(KBUILD)/ksyms0.o
	$(KQ)$(KERNEL_CC) $(KERNEL_LDFLAGS) -o $(KBUILD)/spindle.pass1.elf $(KERNEL_OBJS) $(KERNEL_EXTRA_OBJS) $(KBUILD)/ksyms0.o
	$(KQ)tools/gen-ksyms $(KBUILD)/spindle.pass1.elf $(KBUILD)/ksyms1.S
	$(KQ)$(KERNEL_CC) $(KERNEL_CFLAGS) -c $(KBUILD)/ksyms1.S -o $(KBUILD)/ksyms1.o
	$(KQ)$(KERNEL_CC) $(KERNEL_LDFLAGS) -o $@.tmp $(KERNEL_OBJS) $(KERNEL_EXTRA_OBJS) $(KBUILD)/ksyms1.o
	@tools/gen-ksyms $@.tmp $(KBUILD)/ksyms.check.S
	@cmp -s $(KBUILD)/ksyms1.S $(KBUILD)/ksyms.check.S || \
		{ echo "kernel: symbol table moved between link passes" >&2; exit 1; }
	$(KQ)mv $@.tmp $@

# ---- running ----
QEMU_FIRMWARE := -bios /usr/share/qemu/qboot.rom -nodefaults
QEMU_COMMON   := $(QEMU_ACCEL) -m $(QEMU_MEM) -no-reboot -display none \
                 -device isa-debug-exit,iobase=0xf4,iosize=0x04
RUN_TIMEOUT   ?= 86400
CMDLINE       ?=

run: deps $(KERNEL_ELF)
	@echo "spindle: serial console below; quit QEMU with Ctrl-A X"
	@# The kernel powers off through isa-debug-exit: status 33 is its success
	@# code (the init program or the tests passed), so make reports only the rest.
	@timeout --foreground $(RUN_TIMEOUT) $(QEMU) $(QEMU_FIRMWARE) $(QEMU_COMMON) \
		-serial mon:stdio -kernel $(KERNEL_ELF) $(RUN_INITRD) -append "$(CMDLINE)"; \
	rc=$$?; if [ $$rc -ne 0 ] && [ $$rc -ne 33 ]; then \
		echo "spindle: QEMU exited with status $$rc"; exit $$rc; fi

debug: deps $(KERNEL_ELF)
	@echo "spindle: QEMU waits for gdb on :1234; in another terminal run:"
	@echo "  gdb -q $(abspath $(KERNEL_ELF)) -ex 'target remote localhost:1234' -ex 'hbreak kmain' -ex continue"
	@echo "quit QEMU with Ctrl-A X"
	timeout --foreground $(RUN_TIMEOUT) $(QEMU) $(QEMU_FIRMWARE) $(QEMU_COMMON) \
		-serial mon:stdio -s -S -kernel $(KERNEL_ELF) $(RUN_INITRD) -append "$(CMDLINE)"

# ---- GRUB ISOs (multiboot2): the normal one, and one that runs the tests ----
define kernel_iso
	rm -rf $(KBUILD)/$(1) && mkdir -p $(KBUILD)/$(1)/boot/grub
	cp $(KERNEL_ELF) $(KBUILD)/$(1)/boot/spindle.elf
	printf 'set timeout=0\nset default=0\nmenuentry "Spindle" {\n  multiboot2 /boot/spindle.elf %s\n  boot\n}\n' "$(2)" \
		> $(KBUILD)/$(1)/boot/grub/grub.cfg
	grub-mkrescue -o $@ $(KBUILD)/$(1) >$(KBUILD)/$(1).log 2>&1 || { cat $(KBUILD)/$(1).log; exit 1; }
endef
iso: $(KERNEL_ISO)
$(KERNEL_ISO): $(KERNEL_ELF)
	$(call kernel_iso,isoroot,)
$(KERNEL_TEST_ISO): $(KERNEL_ELF)
	$(call kernel_iso,isoroot-test,test)

# ---- test suites and the boot benchmark (tools/qemu-test does the work) ----
QEMU_TEST := QEMU="$(QEMU)" QEMU_ACCEL="$(QEMU_ACCEL)" tools/qemu-test

test-kernel: $(KERNEL_ELF)
	@$(QEMU_TEST) kernel $(KERNEL_ELF)
test-iso: $(KERNEL_TEST_ISO)
	@$(QEMU_TEST) iso $(KERNEL_TEST_ISO)
test-badboot: $(KERNEL_ELF)
	@$(QEMU_TEST) badboot $(KERNEL_ELF)
bench-boot: $(KERNEL_ELF)
	@mkdir -p $(BUILD)/bench/parts
	@$(QEMU_TEST) bench $(KERNEL_ELF) $(BUILD)/bench/parts/boot.json
