/*
 * kernel/clock.h: monotonic nanosecond clock and the periodic tick.
 *
 * Owns the conversion cycles -> nanoseconds (the cycle counter's rate is
 * measured once at boot against the PIT) and the tick counter incremented
 * by the timer interrupt at CLOCK_HZ.  clock_ns() is monotonic, starts near
 * zero at clock_init(), and is callable from any context once clock_init()
 * returned (before that it returns 0).
 *
 * Callers: core.  clock_init() once from kmain, after irq and memory setup;
 * returns 0 or the error of the arch timer (the kernel then runs without a
 * tick and reports it).
 */
#ifndef KERNEL_CLOCK_H
#define KERNEL_CLOCK_H

#include <stdint.h>

#define CLOCK_HZ 100

int clock_init(void);
uint64_t clock_ns(void);
/* Timer interrupts since clock_init(). */
uint64_t clock_ticks(void);
/* The measured cycle-counter rate (Hz). */
uint64_t clock_cycles_hz(void);
/* Spin for at least ns nanoseconds. */
void clock_delay_ns(uint64_t ns);

#endif
