/*
 * kernel/panic.h: stopping the kernel when a core invariant is broken.
 *
 * panic() prints "PANIC: <message>", the caller's backtrace with symbol
 * names, and stops the machine with a failure status (EXIT_CODE_PANIC under
 * QEMU).  It is for broken kernel invariants only: errors caused by
 * extensions, user programs or bad input are returned, never panicked on.
 * boot_fail() is for unusable boot input (no memory map, too little memory):
 * a clear message and EXIT_CODE_BOOT_ERROR.  Both work from any context,
 * before memory management and from exception handlers.
 */
#ifndef KERNEL_PANIC_H
#define KERNEL_PANIC_H

#include <stdint.h>

__attribute__((noreturn, format(printf, 1, 2))) void panic(const char *fmt, ...);
__attribute__((noreturn, format(printf, 1, 2))) void boot_fail(const char *fmt, ...);

/* Print "  #n <addr> func+off/size" lines: pc first (exact, e.g. a faulting
 * instruction; 0 to omit), then the return addresses of the frame-pointer
 * chain from fp. */
void panic_backtrace(uintptr_t pc, uintptr_t fp);
/* Print "func+0x1c/0x80" (or "?") for an address. */
void panic_print_symbol(uintptr_t pc);

#endif
