/*
 * arch/timer.h: the cycle counter's rate and the periodic timer interrupt.
 *
 * x86: the TSC is calibrated against PIT channel 2 (polled, no interrupt);
 * the periodic tick is the local APIC timer (xAPIC MMIO, or x2APIC MSRs when
 * CPUID has them), calibrated against the TSC.  The legacy 8259 PICs are
 * remapped to ARCH_IRQ_LEGACY_BASE and masked.  Called by kernel/clock.c
 * at boot; not reentrant.
 *
 * Errors: arch_timer_init() returns 0 or -ENODEV (no local APIC) or the
 * error of mapping its registers.
 */
#ifndef ARCH_TIMER_H
#define ARCH_TIMER_H

#include <stdbool.h>
#include <stdint.h>

/* Cycle-counter (TSC) ticks per second, measured over ms milliseconds of the PIT. */
uint64_t arch_cycles_calibrate(unsigned ms);
/* Busy-wait ms milliseconds on the PIT (an independent reference for tests). */
void arch_pit_wait_ms(unsigned ms);

/* Mask the legacy PIC, enable the local APIC. */
int arch_timer_init(void);
/* Start the periodic tick at hz on vector ARCH_IRQ_TIMER (cycles_hz from above). */
int arch_timer_start(unsigned hz, uint64_t cycles_hz);
/* "x2APIC" or "xAPIC" (or "none"). */
const char *arch_timer_kind(void);

#endif
