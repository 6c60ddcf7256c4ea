/*
 * irq.c: the vector -> handler table and interrupt dispatch.
 *
 * Deliberately small: one handler per vector, a per-vector counter, and the
 * end-of-interrupt after the handler.  Anything richer (several handlers,
 * guards, ordering) is the event dispatcher's job, built on top of this.
 */
#include <stdbool.h>

#include <spindle/errno.h>

#include <arch/cpu.h>
#include <arch/irq.h>

#include "kernel/irq.h"
#include "kernel/kprintf.h"

struct irq_slot {
	irq_handler_fn handler;
	void *arg;
	uint64_t count;
	bool warned;
};

static struct irq_slot irq_table[256];

static bool irq_vector_ok(unsigned vector)
{
	return vector >= ARCH_IRQ_VECTOR_FIRST && vector <= ARCH_IRQ_VECTOR_LAST;
}

int irq_register(unsigned vector, irq_handler_fn handler, void *arg)
{
	bool on = arch_irq_enabled();
	int err = 0;

	if (!irq_vector_ok(vector) || !handler || arch_irq_spurious(vector))
		return -EINVAL;
	arch_irq_disable();
	if (irq_table[vector].handler) {
		err = -EBUSY;
	} else {
		irq_table[vector].arg = arg;
		irq_table[vector].handler = handler;
	}
	if (on)
		arch_irq_enable();
	return err;
}

int irq_unregister(unsigned vector, irq_handler_fn handler)
{
	bool on = arch_irq_enabled();
	int err = 0;

	if (!irq_vector_ok(vector) || !handler)
		return -EINVAL;
	arch_irq_disable();
	if (irq_table[vector].handler != handler) {
		err = -ENOENT;
	} else {
		irq_table[vector].handler = 0;
		irq_table[vector].arg = 0;
	}
	if (on)
		arch_irq_enable();
	return err;
}

uint64_t irq_count(unsigned vector)
{
	return vector < 256 ? irq_table[vector].count : 0;
}

void irq_dispatch(unsigned vector)
{
	struct irq_slot *s = &irq_table[vector & 255];

	s->count++;
	if (arch_irq_spurious(vector))
		return;
	if (s->handler) {
		s->handler(vector, s->arg);
	} else if (!s->warned) {
		s->warned = true;
		kprintf("irq: vector %u fired with no handler (ignored)\n", vector);
	}
	arch_irq_eoi(vector);
}
