/*
 * string: memory and string primitives for the freestanding kernel.
 *
 * gcc emits calls to memcpy, memmove, memset and memcmp on its own (structure
 * assignment, large initialisers), so the kernel must define them under their
 * standard names; the string functions are here because every kernel needs
 * them and the C library is not linked in.
 *
 * The memory functions move eight bytes at a time when both pointers allow
 * it and fall back to bytes otherwise: simple, portable (no SSE: the kernel
 * is built -mgeneral-regs-only) and fast enough for boot-time and
 * control-path copies.  Word access goes through a may_alias type so the
 * compiler's aliasing rules hold for any object type.
 *
 * The loops must not be recognised and replaced by calls to memcpy/memset
 * (that would make memset call itself).  gcc does not do that inside
 * functions bearing those very names, and the freestanding check in
 * mk/unit.mk fails the build if this object ever has an undefined symbol.
 * The host test renames the functions, so it builds this file with
 * -fno-tree-loop-distribute-patterns to be sure it tests these loops and
 * not the C library's.
 */
#include <stdint.h>

#include <kernel/string.h>

typedef uint64_t __attribute__((may_alias)) kstring_word;

#define WORD sizeof(kstring_word)

static int both_aligned(const void *a, const void *b)
{
	return (((uintptr_t)a | (uintptr_t)b) & (WORD - 1)) == 0;
}

void *memcpy(void *restrict dst, const void *restrict src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	if (both_aligned(d, s)) {
		for (; n >= WORD; n -= WORD, d += WORD, s += WORD)
			*(kstring_word *)d = *(const kstring_word *)s;
	}
	while (n--)
		*d++ = *s++;
	return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	if (d == s || n == 0)
		return dst;
	/*
	 * Copy forwards when the destination starts below the source (or the
	 * two do not overlap), backwards otherwise, so that no byte is
	 * overwritten before it has been read.  Compare as integers: relational
	 * comparison of pointers into different objects is undefined in C.
	 */
	if ((uintptr_t)d < (uintptr_t)s) {
		if (both_aligned(d, s)) {
			for (; n >= WORD; n -= WORD, d += WORD, s += WORD)
				*(kstring_word *)d = *(const kstring_word *)s;
		}
		while (n--)
			*d++ = *s++;
	} else {
		d += n;
		s += n;
		if (both_aligned(d, s)) {
			for (; n >= WORD; n -= WORD) {
				d -= WORD;
				s -= WORD;
				*(kstring_word *)d = *(const kstring_word *)s;
			}
		}
		while (n--)
			*--d = *--s;
	}
	return dst;
}

void *memset(void *dst, int c, size_t n)
{
	unsigned char *d = dst;
	unsigned char byte = (unsigned char)c;

	/* Bytes until d is word aligned, then words, then the tail. */
	while (n > 0 && ((uintptr_t)d & (WORD - 1)) != 0) {
		*d++ = byte;
		n--;
	}
	if (n >= WORD) {
		kstring_word w = 0x0101010101010101ull * byte;
		for (; n >= WORD; n -= WORD, d += WORD)
			*(kstring_word *)d = w;
	}
	while (n--)
		*d++ = byte;
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *p = a, *q = b;

	for (; n > 0; n--, p++, q++) {
		if (*p != *q)
			return *p < *q ? -1 : 1;
	}
	return 0;
}

size_t strlen(const char *s)
{
	const char *p = s;

	while (*p)
		p++;
	return (size_t)(p - s);
}

size_t strnlen(const char *s, size_t maxlen)
{
	size_t n = 0;

	/* Test the bound first: s may not be terminated within maxlen bytes. */
	while (n < maxlen && s[n])
		n++;
	return n;
}

int strcmp(const char *a, const char *b)
{
	const unsigned char *p = (const unsigned char *)a;
	const unsigned char *q = (const unsigned char *)b;

	while (*p && *p == *q) {
		p++;
		q++;
	}
	return *p == *q ? 0 : (*p < *q ? -1 : 1);
}

int strncmp(const char *a, const char *b, size_t n)
{
	const unsigned char *p = (const unsigned char *)a;
	const unsigned char *q = (const unsigned char *)b;

	for (; n > 0; n--, p++, q++) {
		if (*p != *q)
			return *p < *q ? -1 : 1;
		if (*p == '\0')
			return 0;
	}
	return 0;
}

char *strchr(const char *s, int c)
{
	char ch = (char)c;

	/* The terminator is part of the string: strchr(s, 0) finds it. */
	for (;; s++) {
		if (*s == ch)
			return (char *)s;
		if (*s == '\0')
			return NULL;
	}
}

size_t strlcpy(char *restrict dst, const char *restrict src, size_t size)
{
	size_t len = strlen(src);

	if (size > 0) {
		size_t n = len < size - 1 ? len : size - 1;
		memcpy(dst, src, n);
		dst[n] = '\0';
	}
	return len;
}
