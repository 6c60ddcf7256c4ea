/*
 * kernel/spl.h: the SPL interface (interfaces/spl.idl): raise and restore
 * the interrupt priority level.  Private: its domain is only in
 * SpinPrivate, so an unprivileged extension that calls SPL_High compiles
 * but fails at link time, naming the symbol (LINK96's example of link-time
 * authorization replacing call-time checks).
 *
 * Levels: SPL_LOW (0, interrupts on) and SPL_HIGH (7, interrupts off): the
 * only two an x86 CPU without a priority-programmed APIC has.
 *
 * Callers: privileged extensions and trusted modules.  A privileged
 * extension aborted between High and Restore leaves the level high until
 * the strand next enables interrupts; privileged extensions are trusted not
 * to (that is what SpinPrivate means).
 * Locking: none (per-CPU state).  Errors: none.
 */
#ifndef KERNEL_SPL_H
#define KERNEL_SPL_H

#include <stdint.h>

#define SPL_LOW  0u
#define SPL_HIGH 7u

/* Publish SPL (SpinPrivate only, "SPL" in the nameserver). */
int spl_init(void);

#endif /* KERNEL_SPL_H */
