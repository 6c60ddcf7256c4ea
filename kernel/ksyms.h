/*
 * kernel/ksyms.h: the kernel's own symbol table, for backtraces.
 *
 * Owns nothing at run time: the table (sorted text symbols, names) is
 * generated at build time by tools/gen-ksyms between two link passes and
 * linked into .rodata.  Callable from any context, including fault handlers;
 * never allocates.  Lookups of addresses outside kernel text return NULL.
 */
#ifndef KERNEL_KSYMS_H
#define KERNEL_KSYMS_H

#include <stddef.h>
#include <stdint.h>

/* Name of the function containing addr, its offset and size; NULL if none. */
const char *ksyms_lookup(uintptr_t addr, uintptr_t *offset, uintptr_t *size);
/* Address of a text symbol by exact name; 0 if absent. */
uintptr_t ksyms_address(const char *name);
/* Number of symbols in the table (0 in the first link pass). */
size_t ksyms_count_get(void);

#endif
