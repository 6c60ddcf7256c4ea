/*
 * string: the freestanding kernel's memory and string primitives.
 *
 * Owns: the standard names memcpy, memmove, memset, memcmp, strlen, strnlen,
 * strcmp, strncmp, strchr and strlcpy inside the kernel image.  They keep the
 * standard names (not a string_ prefix) because gcc itself emits calls to
 * memcpy, memmove, memset and memcmp for structure copies and
 * initialisations even under -ffreestanding -fno-builtin.
 *
 * Invariants: these functions call nothing (kernel/string.c is built so that
 * gcc cannot turn its loops back into calls to themselves; the freestanding
 * check in mk/unit.mk fails the build if the object has any undefined
 * symbol).  memcpy and strlcpy require non-overlapping buffers, as in C.
 *
 * Callers: anyone; reentrant, no locks, no state.
 *
 * Errors: none reported; the usual C contracts (valid pointers, NUL-terminated
 * strings).  strlcpy returns strlen(src) so callers detect truncation by
 * comparing the result with the buffer size.
 *
 * Host tests: kernel code built hosted (unit tests) normally links against
 * the C library's versions of these names.  To test *these* implementations
 * without clashing with libc, build kernel/string.c and the test with
 * -DKSTRING_RENAME -fno-builtin: every name below then becomes kstring_NAME.
 * A file compiled that way must include this header after any system header.
 */
#ifndef SPINDLE_KERNEL_STRING_H
#define SPINDLE_KERNEL_STRING_H

#include <stddef.h>

#ifdef KSTRING_RENAME
#define memcpy  kstring_memcpy
#define memmove kstring_memmove
#define memset  kstring_memset
#define memcmp  kstring_memcmp
#define strlen  kstring_strlen
#define strnlen kstring_strnlen
#define strcmp  kstring_strcmp
#define strncmp kstring_strncmp
#define strchr  kstring_strchr
#define strlcpy kstring_strlcpy
#endif

void *memcpy(void *restrict dst, const void *restrict src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t maxlen);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);
/* Copy src into dst (size bytes, always NUL-terminated if size > 0). */
size_t strlcpy(char *restrict dst, const char *restrict src, size_t size);

#endif /* SPINDLE_KERNEL_STRING_H */
