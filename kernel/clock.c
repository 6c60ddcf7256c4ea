/*
 * clock.c: nanoseconds from the cycle counter, and the timer tick.
 *
 * ns = (cycles - cycles_at_boot) * mult >> 32, with mult = 1e9 * 2^32 / hz,
 * computed with a 128-bit product so it neither overflows nor loses
 * precision for centuries of uptime.  The rate is the smallest of three
 * 2 ms PIT measurements (see clock_calibrate).
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

#define CLOCK_CAL_RUNS 3
#define CLOCK_CAL_MS   2

/*
 * The smallest of the runs.  A window can only come out too long, never too
 * short: the cycle count brackets the PIT countdown, and a descheduled vCPU
 * (TCG on a busy host) or an SMI only delays noticing that it ended.  So a
 * few short windows do as well as long ones: 2 ms is 2,386 PIT periods, and
 * noticing the end costs one port read (about a microsecond under TCG),
 * 0.05%; the whole calibration is 6 ms of boot instead of 40.
 */
static uint64_t clock_calibrate(void)
{
	uint64_t r[CLOCK_CAL_RUNS];

	for (int i = 0; i < CLOCK_CAL_RUNS; i++) {
		uint64_t v = arch_cycles_calibrate(CLOCK_CAL_MS);
		int j = i;

		for (; j > 0 && r[j - 1] > v; j--)
			r[j] = r[j - 1];
		r[j] = v;
	}
	return r[0];
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
