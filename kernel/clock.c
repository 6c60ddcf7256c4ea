/*
 * clock.c: nanoseconds from the cycle counter, and the timer tick.
 *
 * ns = (cycles - cycles_at_boot) * mult >> 32, with mult = 1e9 * 2^32 / hz,
 * computed with a 128-bit product so it neither overflows nor loses
 * precision for centuries of uptime.  The rate is the median of three 10 ms
 * PIT measurements, which keeps one preempted window on a busy host from
 * skewing it.
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

static uint64_t clock_median3(uint64_t a, uint64_t b, uint64_t c)
{
	if (a > b) { uint64_t t = a; a = b; b = t; }
	if (b > c) { uint64_t t = b; b = c; c = t; }
	if (a > b) { uint64_t t = a; a = b; b = t; }
	return b;
}

int clock_init(void)
{
	uint64_t a = arch_cycles_calibrate(10);
	uint64_t b = arch_cycles_calibrate(10);
	uint64_t c = arch_cycles_calibrate(10);
	int err;

	clock_hz = clock_median3(a, b, c);
	if (clock_hz == 0)
		return -EIO;
	clock_mult = (1000000000ull << 32) / clock_hz;     /* 4.3e18: fits in 64 bits */
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
