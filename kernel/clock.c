/*
 * clock.c: nanoseconds from the cycle counter, and the timer tick.
 *
 * ns = (cycles - cycles_at_boot) * mult >> 32, with mult = 1e9 * 2^32 / hz,
 * computed with a 128-bit product so it neither overflows nor loses
 * precision for centuries of uptime.  The rate comes from 2 ms PIT
 * windows, taken until two of them agree (see clock_calibrate).
 */
#include <spindle/errno.h>

#include <arch/cpu.h>
#include <arch/irq.h>
#include <arch/timer.h>

#include "kernel/clock.h"
#include "kernel/irq.h"
#include "kernel/kprintf.h"

static uint64_t clock_base;
static uint64_t clock_mult;
static uint64_t clock_hz;
static volatile uint64_t clock_tick_count;

static void clock_tick(unsigned vector, void *arg)
{
	(void)vector;
	(void)arg;
	clock_tick_count++;
}

#define CLOCK_CAL_MS    2
#define CLOCK_CAL_MAX   16   /* windows at most */
#define CLOCK_CAL_AGREE 1000 /* two windows within 1/1000 of each other */

/*
 * A window can only come out too long, never too short: the cycle count
 * brackets the PIT countdown, and a descheduled vCPU (TCG on a busy host)
 * or an SMI only delays noticing that it ended.  Stalls are milliseconds of
 * random length, so two windows that agree to 0.1% (2 us in 2 ms; noticing
 * the end costs about a microsecond under TCG) were both undisturbed: take
 * windows until one agrees with the smallest so far.  On a quiet machine
 * that is two windows, 4 ms of boot; the smallest of all is the fallback.
 */
static uint64_t clock_calibrate(void)
{
	uint64_t best = 0;

	for (int i = 0; i < CLOCK_CAL_MAX; i++) {
		uint64_t v = arch_cycles_calibrate(CLOCK_CAL_MS);

		if (best && (v > best ? v - best : best - v) <= best / CLOCK_CAL_AGREE)
			return v < best ? v : best;
		if (v && (!best || v < best))
			best = v;
	}
	return best;
}

int clock_init(void)
{
	int err;

	clock_hz = clock_calibrate();
	if (clock_hz == 0)
		return -EIO;
	clock_mult = (1000000000ull << 32) / clock_hz; /* 4.3e18: fits in 64 bits */
	clock_base = arch_cycles();
	err = arch_timer_init();
	if (!err)
		err = irq_register(ARCH_IRQ_TIMER, clock_tick, 0);
	if (!err)
		err = arch_timer_start(CLOCK_HZ, clock_hz);
	return err;
}

uint64_t clock_ns(void)
{
	if (!clock_mult)
		return 0;
	return (uint64_t)(((unsigned __int128)(arch_cycles() - clock_base) * clock_mult) >> 32);
}

uint64_t clock_ticks(void)
{
	return clock_tick_count;
}

uint64_t clock_cycles_hz(void)
{
	return clock_hz;
}

void clock_delay_ns(uint64_t ns)
{
	uint64_t end = clock_ns() + ns;

	while (clock_ns() < end)
		arch_cpu_relax();
}
