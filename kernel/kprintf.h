/*
 * kernel/kprintf.h: formatted output on the kernel console.
 *
 * Owns the console output path above <arch/console.h>.  Callable from any
 * kernel context including exception handlers (output is polled, never
 * buffered, never allocates).  Formats are those of kernel/fmt.h (printf
 * style).  Output of concurrent callers may interleave (single CPU today).
 */
#ifndef KERNEL_KPRINTF_H
#define KERNEL_KPRINTF_H

#include <stdarg.h>

__attribute__((format(printf, 1, 2))) int kprintf(const char *fmt, ...);
int kvprintf(const char *fmt, va_list ap);
/* Write a string as is. */
void kputs(const char *s);

#endif
