/*
 * panic.c: panic(), boot_fail() and the symbolized backtrace.
 *
 * The kernel is built with frame pointers, so every frame starts with the
 * record {saved rbp, return address}; entry.S adds such a record for the
 * interrupted context too.  The walk checks each record is mapped before
 * reading it and stops after PANIC_MAX_FRAMES, so a corrupt stack ends the
 * backtrace instead of faulting inside the panic path.
 */
#include <stdarg.h>
#include <stdbool.h>

#include <arch/cpu.h>
#include <arch/layout.h>
#include <arch/mmu.h>

#include "kernel/kprintf.h"
#include "kernel/ksyms.h"
#include "kernel/panic.h"

#define PANIC_MAX_FRAMES 32   /* lines printed */
#define PANIC_MAX_WALK   4096 /* records followed (recursion is folded) */

static int panic_depth;

void panic_print_symbol(uintptr_t pc)
{
	uintptr_t off, size;
	const char *name = ksyms_lookup(pc, &off, &size);

	if (name)
		kprintf("%s+0x%lx/0x%lx", name, (unsigned long)off, (unsigned long)size);
	else
		kprintf("?");
}

void panic_backtrace(uintptr_t pc, uintptr_t fp)
{
	int i = 0;

	kprintf("backtrace:\n");
	if (pc) {
		kprintf("  #%-2d %016lx  ", i++, (unsigned long)pc);
		panic_print_symbol(pc);
		kprintf("\n");
	}
	uintptr_t last = 0;
	int repeats = 0;

	for (int depth = 0; i < PANIC_MAX_FRAMES && fp && depth < PANIC_MAX_WALK; depth++) {
		uintptr_t ret;

		if ((fp & 7) || !mmu_readable(fp, 16)) {
			kprintf("  (frame pointer %016lx is not readable; stopping)\n",
			        (unsigned long)fp);
			break;
		}
		ret = ((uintptr_t *)fp)[1];
		fp = ((uintptr_t *)fp)[0];
		if (!ret)
			break;
		if (ret == last) { /* deep recursion: say it once */
			repeats++;
			continue;
		}
		if (repeats)
			kprintf("  ... previous frame repeated %d more times\n", repeats);
		repeats = 0;
		last = ret;
		kprintf("  #%-2d %016lx  ", i++, (unsigned long)ret);
		/* A return address points after the call; name the call. */
		panic_print_symbol(ret - 1);
		kprintf("\n");
	}
	if (repeats)
		kprintf("  ... previous frame repeated %d%s more times\n", repeats, fp ? "+" : "");
}

void panic(const char *fmt, ...)
{
	va_list ap;

	arch_irq_disable();
	if (++panic_depth > 1) {
		kprintf("\nPANIC (nested): stopping\n");
		arch_exit(EXIT_CODE_PANIC);
	}
	kprintf("\nPANIC: ");
	va_start(ap, fmt);
	kvprintf(fmt, ap);
	va_end(ap);
	kprintf("\n");
	/* From panic's own frame record: the first line is its caller. */
	panic_backtrace(0, arch_frame_pointer());
	kprintf("*** stopping: panic\n");
	arch_exit(EXIT_CODE_PANIC);
}

void boot_fail(const char *fmt, ...)
{
	va_list ap;

	arch_irq_disable();
	kprintf("\nSpindle: boot error: ");
	va_start(ap, fmt);
	kvprintf(fmt, ap);
	va_end(ap);
	kprintf("\n*** stopping: the kernel cannot run with this boot input\n");
	arch_exit(EXIT_CODE_BOOT_ERROR);
}
