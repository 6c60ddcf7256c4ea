# Toolchains and flags shared by every fragment.
CC        ?= gcc
HOST_CC   := gcc
KERNEL_CC := gcc
BPF_CC    := clang-19
FUZZ_CC   := clang-19
PYTHON    := /usr/bin/python3

# Hosted builds (tools, unit tests): sanitizers on, warnings are errors.
HOST_CFLAGS := -std=gnu11 -O1 -g -Wall -Wextra -Werror -fno-omit-frame-pointer \
               -fsanitize=address,undefined -fno-sanitize-recover=undefined \
               -I. -Iinclude
HOST_LDFLAGS := -fsanitize=address,undefined
# Tools that are benchmarked are built a second time without sanitizers.
HOST_OPT_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -I. -Iinclude

# Freestanding kernel code (see TOOLCHAIN.md: no SSE, no -march=native).
KERNEL_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -ffreestanding -fno-pie -fno-pic \
                 -fno-stack-protector -fno-asynchronous-unwind-tables -mno-red-zone \
                 -mgeneral-regs-only -mcmodel=kernel -fno-builtin -fno-omit-frame-pointer \
                 -m64 -I. -Iinclude -Iarch/x86_64/include -DSPINDLE_KERNEL

QEMU      := qemu-system-x86_64
ACCEL     ?= tcg
ifeq ($(ACCEL),kvm)
QEMU_ACCEL := -enable-kvm -cpu host,-arch-capabilities
else
QEMU_ACCEL := -accel tcg -cpu max
endif
QEMU_MEM  ?= 256

# Where host unit-test objects go (mk/unit.mk); defined here because fragments
# included before unit.mk name these objects in extra dependency rules.
UNIT_OBJDIR := $(BUILD)/host/unit-obj
