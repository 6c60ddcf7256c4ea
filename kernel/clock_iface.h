/*
 * kernel/clock_iface.h: the Clock interface (interfaces/clock.idl), a
 * read-only cycle counter for extensions.
 *
 * Owns nothing: Clock.Cycles reads the CPU's time-stamp counter and
 * returns it.  Public (SpinPublic, "ClockService" in the nameserver), so
 * an extension a process loads for itself may import it; it gives such an
 * extension exactly what its process can read in ring 3 (rdtsc is not
 * restricted to ring 0 here), no kernel state.
 *
 * Callers: clock_iface_init() once, from modules_init().  Clock_Cycles from
 * any context.  Locking: none.  Errors: none.
 */
#ifndef KERNEL_CLOCK_IFACE_H
#define KERNEL_CLOCK_IFACE_H

/* Publish Clock (SpinPublic and SpinPrivate, "ClockService"). */
int clock_iface_init(void);

#endif /* KERNEL_CLOCK_IFACE_H */
