/*
 * rt.c - the runtime's one formatting entry point.
 *
 * Diagnostics (loader errors, verifier messages, assembler errors) are
 * formatted into caller buffers.  The runtime may not call libc in the
 * kernel, so every file formats through rt_snprintf, which picks the
 * environment's engine at compile time: the kernel's fmt_vsnprintf
 * (kernel/fmt.h) when built with SPINDLE_KERNEL, vsnprintf otherwise.  Both
 * have C99 snprintf semantics for the conversions the runtime uses
 * (%d %u %x %s %c, with l/ll/z modifiers).
 */
#include <stdarg.h>

#include "runtime/rt.h"

#ifdef SPINDLE_KERNEL
#include "kernel/fmt.h"
#define RT_VSNPRINTF fmt_vsnprintf
#else
#include <stdio.h>
#define RT_VSNPRINTF vsnprintf
#endif

int rt_snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = RT_VSNPRINTF(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

int rt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	return RT_VSNPRINTF(buf, size, fmt, ap);
}
