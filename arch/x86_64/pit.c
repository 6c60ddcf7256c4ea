/*
 * pit.c: measure time with the 8254 PIT's channel 2, polled.
 *
 * Channel 2 is gated by port 0x61 bit 0 and its output is readable at port
 * 0x61 bit 5, so a one-shot countdown (mode 0) can be timed without any
 * interrupt.  The PIT runs at 1193182 Hz; a 16-bit count limits one wait
 * to about 54 ms, longer waits are chained.  Used to calibrate the TSC and,
 * in tests, as the independent reference the clock is checked against.
 */
#include <arch/cpu.h>
#include <arch/timer.h>
#include <arch/x86.h>

#define PIT_HZ   1193182u
#define PIT_CH2  0x42
#define PIT_CMD  0x43
#define PIT_GATE 0x61

/* One countdown of at most 50 ms. */
static void pit_countdown(unsigned ms)
{
	uint32_t count = PIT_HZ * ms / 1000;
	uint8_t gate = inb(PIT_GATE);

	outb(PIT_GATE, (gate & ~0x02) | 0x01); /* speaker off, gate on */
	outb(PIT_CMD, 0xb0);                   /* channel 2, lo/hi, mode 0, binary */
	outb(PIT_CH2, count & 0xff);
	outb(PIT_CH2, count >> 8);
	/* Restart the gate so counting starts now. */
	gate = inb(PIT_GATE);
	outb(PIT_GATE, gate & ~0x01);
	outb(PIT_GATE, gate | 0x01);
	while (!(inb(PIT_GATE) & 0x20))
		arch_cpu_relax();
}

void arch_pit_wait_ms(unsigned ms)
{
	while (ms) {
		unsigned step = ms > 50 ? 50 : ms;

		pit_countdown(step);
		ms -= step;
	}
}

uint64_t arch_cycles_calibrate(unsigned ms)
{
	uint64_t t0, t1;

	if (ms == 0 || ms > 50)
		ms = 50;
	t0 = rdtsc();
	pit_countdown(ms);
	t1 = rdtsc();
	return (t1 - t0) * 1000 / ms;
}
