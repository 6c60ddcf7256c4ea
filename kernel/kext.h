/*
 * kernel/kext.h: extension objects packed into the kernel image.
 *
 * Owns: the read-only table of clang BPF objects built from
 * tests/kernel-ext/NAME.c (mk/kext.mk compiles each with $(BPF_CC) and
 * .incbin's the bytes into a generated assembly file,
 * build/kernel/kext/kext_images.S).  Each entry is (name, bytes, size): the
 * unmodified ELF object, 8-byte aligned, in .rodata.  The kernel loads them
 * with rt_prog_load_elf() like any other extension object.
 *
 * Invariants: the table and the bytes are immutable; names are unique (file
 * names).  Who may call: core, tests and benchmarks.  No locking (read-only).
 * Errors: lookups return NULL when there is no such entry.
 */
#ifndef KERNEL_KEXT_H
#define KERNEL_KEXT_H

#include <stddef.h>
#include <stdint.h>

struct kext_image {
	const char *name;     /* file name without .c */
	const uint8_t *data;  /* the object's bytes */
	uint64_t size;
};

size_t kext_count(void);
/* The i-th image, in file-name order; NULL past the end. */
const struct kext_image *kext_get(size_t i);
/* The image called name; NULL if none. */
const struct kext_image *kext_find(const char *name);

#endif
