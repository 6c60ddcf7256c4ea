/*
 * kernel/kprintf.h: formatted output on the kernel console.
 *
 * Owns the console output path above <arch/console.h>.  Callable from any
 * kernel context including exception handlers (output is polled, never
 * buffered, never allocates).  Formats are those of kernel/fmt.h (printf
 * style).  One message (a kprintf, a kputs, a console write of a process)
 * reaches the wire whole: CPUs take turns on the console (kprintf_lock), so
 * lines of two CPUs do not interleave character by character.  The turn is
 * never a deadlock: a CPU that waits too long (an NMI or a fault report
 * while its own CPU held the turn) prints anyway.
 */
#ifndef KERNEL_KPRINTF_H
#define KERNEL_KPRINTF_H

#include <stdarg.h>

__attribute__((format(printf, 1, 2))) int kprintf(const char *fmt, ...);
int kvprintf(const char *fmt, va_list ap);
/* Write a string as is. */
void kputs(const char *s);
/* Take / give back the console for one message (interrupts off between). */
unsigned long kprintf_lock(void);
void kprintf_unlock(unsigned long flags);

#endif
