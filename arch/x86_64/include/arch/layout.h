/*
 * arch/layout.h: the x86-64 kernel's fixed virtual layout and exit codes.
 *
 * Owns the constants that boot.S, the linker script and C code must agree on:
 * where the kernel is linked (KERNEL_VMA + KERNEL_PHYS), where the direct map
 * of physical memory starts, where mapped kernel stacks live, and the values
 * written to QEMU's isa-debug-exit port.  Included from assembly and from the
 * linker script, so it holds only #defines.
 *
 * Invariants: KERNEL_VMA is the top 2 GiB (-mcmodel=kernel); the direct map
 * and the stack area never overlap the kernel window.
 */
#ifndef ARCH_LAYOUT_H
#define ARCH_LAYOUT_H

#define KERNEL_VMA  0xffffffff80000000
#define KERNEL_PHYS 0x100000
/*
 * Size budget of the loaded image (__kernel_end - __kernel_start, bss
 * included), checked by an ASSERT in kernel.ld.  It is a budget, not a
 * hardware limit: boot.S maps BOOT_KERNEL_WINDOW bytes of the kernel window
 * (kernel.ld asserts the image lies inside it), and boot.S refuses, with a
 * clear message, a machine whose RAM does not cover the image.  16 MiB keeps
 * growth a deliberate decision while leaving room for tests and extensions.
 * The constants below are plain hex: the linker script reads them too.
 */
#define KERNEL_IMAGE_MAX   0x1000000  /* 16 MiB */
#define BOOT_KERNEL_WINDOW 0x80000000 /* boot.S: KERNEL_VMA -> physical 0-2 GiB */
/* The 32-bit entry and its RAM check (.boot.text) must run before anything
 * beyond them is known to be RAM: they stay in the image's first 64 KiB,
 * which any machine with RAM above 1 MiB has. */
#define BOOT_EARLY_MAX 0x10000
/* All physical memory is mapped here, read/write, never executable. */
#define DIRECT_MAP_BASE 0xffff888000000000
#define DIRECT_MAP_MAX  (1ULL << 42) /* 4 TiB of physical address space */
/* Kernel stacks allocated at run time (IST stacks, later strands), each with
 * an unmapped guard page below it. */
#define KSTACK_AREA_BASE 0xffffc90000000000
#define KSTACK_AREA_SIZE (1ULL << 30)

#define BOOT_STACK_SIZE (16 * 1024)
#define IST_STACK_SIZE  (16 * 1024)

/* Boot protocol seen by the 32-bit entry (boot_proto_raw). */
#define BOOT_PROTO_NONE 0
#define BOOT_PROTO_PVH  1
#define BOOT_PROTO_MB2  2

/* Values for isa-debug-exit: QEMU exits with (value << 1) | 1. */
#define EXIT_CODE_SUCCESS    0x10 /* status 33: all tests passed */
#define EXIT_CODE_TEST_FAIL  0x11 /* status 35: some test failed */
#define EXIT_CODE_PANIC      0x12 /* status 37: panic or unexpected exception */
#define EXIT_CODE_BOOT_ERROR 0x13 /* status 39: unusable boot input */

#endif
