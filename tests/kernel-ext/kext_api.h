/*
 * kext_api.h - what the in-kernel test extensions (tests/kernel-ext/NAME.c) see
 * of the kernel test embedder (tests/kernel/rt_kembed.c): its procedures as
 * extern functions and the SEC() macro for entry sections.  BPF side only.
 *
 * Entry convention: every function in a section "kext/..." is an entry with
 * r1, r2 = scalars.
 */
#ifndef TESTS_KERNEL_EXT_KEXT_API_H
#define TESTS_KERNEL_EXT_KEXT_API_H

#define SEC(name) __attribute__((section(name), used))

typedef unsigned char u8;
typedef unsigned int u32;
typedef unsigned long long u64;

/* Write size bytes at mem to the kernel console; returns size. */
extern long kx_log(const void *mem, unsigned long size);
/* Pure getter: the kernel's current test value. */
extern long kx_get(void);

#endif
