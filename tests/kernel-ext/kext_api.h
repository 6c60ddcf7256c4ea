/*
 * kext_api.h - what the in-kernel runtime test extensions
 * (tests/kernel-ext/rt_*.c) see: the Kext interface (interfaces/kext.idl,
 * implemented by kernel/kext.c), which they import like any other
 * interface in SpinPublic, and the SEC() macro for entry sections.  BPF
 * side only.
 *
 * Entry convention: every function in a section "kext/..." is an entry with
 * r1, r2 = scalars.
 */
#ifndef TESTS_KERNEL_EXT_KEXT_API_H
#define TESTS_KERNEL_EXT_KEXT_API_H

#include <spindle/kext.h>

#define SEC(name) __attribute__((section(name), used))

#endif
