/*
 * arch/irq.h: interrupt vectors and acknowledgement on x86-64.
 *
 * Vectors 0-31 are exceptions (<arch/trap.h>).  32-47 are the legacy ISA
 * lines 0-15 (the 8259 PICs are remapped there and masked: a stray legacy
 * interrupt lands on a known vector instead of an exception's).  The local
 * APIC timer uses ARCH_IRQ_TIMER; 0xff is the APIC spurious vector.  The
 * vectors in between are free for drivers through irq_register().
 * arch_irq_eoi() is called by irq_dispatch() after the handler ran.
 */
#ifndef ARCH_IRQ_H
#define ARCH_IRQ_H

#include <stdbool.h>

#define ARCH_IRQ_VECTOR_FIRST 32
#define ARCH_IRQ_VECTOR_LAST  255
#define ARCH_IRQ_LEGACY_BASE  32
#define ARCH_IRQ_LEGACY_LINES 16
#define ARCH_IRQ_TIMER        0xec
#define ARCH_IRQ_SPURIOUS     0xff

/* Acknowledge vector at the interrupt controller (no-op for spurious ones). */
void arch_irq_eoi(unsigned vector);
/* True for vectors that must not be acknowledged (spurious). */
bool arch_irq_spurious(unsigned vector);

#endif
