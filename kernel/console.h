/*
 * kernel/console.h: the Console interface (interfaces/console.idl, SPIN's
 * Figure 1) implemented over the kernel's serial console.
 *
 * Owns: a small pool of console objects (struct Console_T, CONSOLE_MAX of
 * them), each with the paper's input and output queues, and the capability
 * (CONSOLE_CAP_TYPE in cap_kernel) each open console carries.  Console.T is
 * opaque to extensions: the verifier types the reference Console_Open
 * returns, so an extension can hold it and hand it back but cannot read or
 * write a field (a program that tries is refused at load).
 *
 * Invariants: an open console has a live capability; Close revokes it, so a
 * reference kept past Close fails the check in Write/Close (which then do
 * nothing) instead of reaching a reused object.  Output goes to the serial
 * console a line (or a full queue) at a time and is also kept in a capture
 * ring for tests (console_capture).
 *
 * Callers: extensions (through SpinPublic), trusted modules, tests.
 * Locking: interrupts off around the pool (single CPU; a spinlock with SMP).
 * Errors: Open returns NULL when every console is open; Write returns the
 * number of bytes taken (0 for a closed or stale console).
 */
#ifndef KERNEL_CONSOLE_H
#define KERNEL_CONSOLE_H

#include <stddef.h>
#include <stdint.h>

#include "spindle_interfaces.h"

#define CONSOLE_MAX      8
#define CONSOLE_QSIZE    32 /* the paper's Buf = ARRAY [0..31] OF CHAR */
#define CONSOLE_CAP_TYPE 80u

/* Publish the Console interface (a domain in SpinPublic, "ConsoleService"). */
int console_init(void);
/* Everything written through Console since the last reset (NUL-terminated,
 * the most recent bytes kept when it overflows). */
const char *console_capture(void);
void console_capture_reset(void);
/* Consoles open now. */
uint32_t console_open_count(void);

#endif /* KERNEL_CONSOLE_H */
