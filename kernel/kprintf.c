/*
 * kprintf.c: printf on the kernel console.
 *
 * The formatting is kernel/fmt.c's engine; this file only supplies the sink,
 * which hands each character to the arch console (COM1 on x86).  Nothing is
 * buffered, so a message is on the wire before kprintf returns: that is what
 * a panic or a triple-fault investigation needs.
 */
#include "kernel/kprintf.h"
#include "kernel/fmt.h"

#include <arch/console.h>

static void kprintf_put(char c, void *arg)
{
	(void)arg;
	arch_console_putc(c);
}

int kvprintf(const char *fmt, va_list ap)
{
	return fmt_vformat(kprintf_put, NULL, fmt, ap);
}

int kprintf(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = kvprintf(fmt, ap);
	va_end(ap);
	return n;
}

void kputs(const char *s)
{
	while (*s)
		arch_console_putc(*s++);
}
