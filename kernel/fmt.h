/*
 * fmt: the kernel's printf-style formatting engine.
 *
 * Owns: nothing but code.  fmt_vformat() turns a format string and its
 * arguments into a stream of characters handed one at a time to a caller's
 * sink; fmt_snprintf()/fmt_vsnprintf() are that engine writing into a buffer.
 * kprintf, panic messages and every diagnostic string in the kernel go
 * through here.
 *
 * Supported: %d %i %u %x %X %o %p %s %c %%; length modifiers hh h l ll z t j;
 * flags '-' '0' '+' ' ' '#'; width and precision, both also as '*'.  The
 * semantics are C99's, checked against glibc by the unit test, with these
 * deliberate differences:
 *   - no floating point, no %n (a kernel has no use for writing through a
 *     format argument), no wide characters (length modifiers on %c, %s and
 *     %p are accepted and ignored);
 *   - an unknown conversion is copied to the output literally ("%y" prints
 *     "%y") so a bad format shows up in the log instead of silently eating
 *     arguments; a lone '%' at the end of the string prints '%';
 *   - %s of NULL prints "(null)"; %p prints "0x" and lowercase hex, and NULL
 *     as "(nil)", as glibc does;
 *   - widths and integer precisions above FMT_WIDTH_MAX are clamped to it,
 *     so a corrupted '*' argument cannot make the console spin for minutes.
 *     (%s precision is not clamped: it bounds how far the string is read.)
 *
 * Invariants: the engine never reads a %s string past its precision, never
 * writes outside the buffer given to fmt_vsnprintf, and never allocates.
 *
 * Callers: anyone (core, trusted modules); it is reentrant, keeps no state
 * and takes no locks.  The sink is called with whatever locks the caller
 * holds.
 *
 * Errors: the functions return the number of characters produced (for the
 * snprintf pair: that would have been produced with unlimited space, C99
 * truncation semantics), or FMT_EOVERFLOW if that count exceeds INT_MAX, or
 * FMT_EINVAL for a NULL format or sink.
 */
#ifndef SPINDLE_KERNEL_FMT_H
#define SPINDLE_KERNEL_FMT_H

#include <stdarg.h>
#include <stddef.h>

#define FMT_WIDTH_MAX 4096

enum fmt_error {
	FMT_EINVAL = -1,    /* NULL format string or sink */
	FMT_EOVERFLOW = -2, /* output longer than INT_MAX characters */
};

/* The sink: receives each output character in order. */
typedef void (*fmt_put_fn)(char c, void *arg);

int fmt_vformat(fmt_put_fn put, void *arg, const char *fmt, va_list ap);
int fmt_format(fmt_put_fn put, void *arg, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Write at most size-1 characters and a terminating NUL into buf (nothing at
 * all when size is 0, in which case buf may be NULL).
 */
int fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int fmt_snprintf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif /* SPINDLE_KERNEL_FMT_H */
