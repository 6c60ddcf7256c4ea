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
#include <arch/cpu.h>
#include <arch/switch.h>

/* Whose turn it is on the console (kernel/kprintf.h).  A bounded wait: a
 * holder interrupted on its own CPU by something that prints (an NMI, a
 * fault report) must not hang it, so after KPRINTF_PATIENCE polls the
 * waiter prints without the turn (and leaves the holder's turn alone). */
#define KPRINTF_PATIENCE (1u << 22)
#define KPRINTF_HELD     0x8ul /* in the saved flags: RFLAGS bit 3, always 0 */
static int kprintf_busy;

unsigned long kprintf_lock(void)
{
	unsigned long f = arch_irq_save();

	for (unsigned n = 0; n < KPRINTF_PATIENCE; n++) {
		if (!__atomic_exchange_n(&kprintf_busy, 1, __ATOMIC_ACQUIRE))
			return f | KPRINTF_HELD;
		arch_cpu_relax();
	}
	return f;
}

void kprintf_unlock(unsigned long f)
{
	if (f & KPRINTF_HELD)
		__atomic_store_n(&kprintf_busy, 0, __ATOMIC_RELEASE);
	arch_irq_restore(f & ~KPRINTF_HELD);
}

static void kprintf_put(char c, void *arg)
{
	(void)arg;
	arch_console_putc(c);
}

int kvprintf(const char *fmt, va_list ap)
{
	unsigned long f = kprintf_lock();
	int n = fmt_vformat(kprintf_put, NULL, fmt, ap);

	kprintf_unlock(f);
	return n;
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
	unsigned long f = kprintf_lock();

	while (*s)
		arch_console_putc(*s++);
	kprintf_unlock(f);
}
