/*
 * kernel/irq.h: registering handlers for interrupt vectors.
 *
 * Owns the table vector -> (handler, argument) for vectors
 * ARCH_IRQ_VECTOR_FIRST..ARCH_IRQ_VECTOR_LAST (<arch/irq.h>); exceptions
 * (vectors below 32) are not registrable, they belong to arch/trap.c.  A
 * legacy ISA line n is vector IRQ_LEGACY_VECTOR(n).  One handler per vector;
 * the future event dispatcher registers itself as that one handler and fans
 * out to its own handler lists (raising Trap/Device events).
 *
 * Handlers run with interrupts disabled, on the interrupted stack (or an IST
 * stack), must not block or allocate, and return quickly.  irq_dispatch()
 * sends the end-of-interrupt after the handler returns.  A vector that fires
 * with no handler is counted and logged once (not fatal).
 *
 * Callers: core and trusted modules (drivers).  Registration may be called
 * with interrupts on; it updates the slot with interrupts disabled so a
 * dispatch sees either the old or the new handler, never a mix.
 *
 * Errors: irq_register() returns 0, -EINVAL (vector out of range or NULL
 * handler) or -EBUSY (vector already has a handler); irq_unregister()
 * returns 0, -EINVAL or -ENOENT (that handler is not registered there).
 */
#ifndef KERNEL_IRQ_H
#define KERNEL_IRQ_H

#include <stdint.h>

#include <arch/irq.h>

#define IRQ_LEGACY_VECTOR(line) (ARCH_IRQ_LEGACY_BASE + (line))

typedef void (*irq_handler_fn)(unsigned vector, void *arg);

int irq_register(unsigned vector, irq_handler_fn handler, void *arg);
int irq_unregister(unsigned vector, irq_handler_fn handler);
/* How many times vector has fired since boot. */
uint64_t irq_count(unsigned vector);

/* Called by the arch trap path for every vector >= ARCH_IRQ_VECTOR_FIRST. */
void irq_dispatch(unsigned vector);

#endif
