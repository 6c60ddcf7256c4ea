/*
 * apic.c: the local APIC (periodic timer, EOI) and the legacy PIC.
 *
 * The 8259 pair is remapped to vectors 32-47 and fully masked: Spindle takes
 * its tick from the local APIC, and masking (after remapping) keeps a stray
 * legacy interrupt off the exception vectors.  The local APIC is driven
 * through x2APIC MSRs when CPUID reports x2APIC (KVM), else through the xAPIC
 * MMIO page (TCG has no x2APIC), mapped uncached in the direct map.  The
 * timer divides by 16 and is calibrated against the TSC (apic_timer_rate).
 *
 * SMP (arch/smp.h): apic_send_icr() sends INIT, SIPI, NMI and fixed IPIs;
 * apic_init_ap() enables an AP's own local APIC (same mode as the boot CPU)
 * and starts its tick with the boot CPU's calibrated count, no
 * recalibration.
 */
#include <spindle/errno.h>

#include <arch/cpu.h>
#include <arch/irq.h>
#include <arch/mmu.h>
#include <arch/smp.h>
#include <arch/timer.h>
#include <arch/x86.h>

#define APIC_ID        0x020
#define APIC_EOI       0x0b0
#define APIC_SVR       0x0f0
#define APIC_LVT_TMR   0x320
#define APIC_LVT_LINT0 0x350
#define APIC_LVT_LINT1 0x360
#define APIC_TMR_INIT  0x380
#define APIC_TMR_CUR   0x390
#define APIC_TMR_DIV   0x3e0
#define APIC_ICR_LO    0x300
#define APIC_ICR_HI    0x310
#define APIC_ICR_BUSY  (1u << 12)

#define APIC_BASE_ENABLE (1u << 11)
#define APIC_BASE_X2     (1u << 10)
#define LVT_MASKED       (1u << 16)
#define LVT_PERIODIC     (1u << 17)

static volatile uint32_t *apic_mmio;
static bool apic_x2;
static bool apic_ready;
static uint32_t apic_timer_count; /* initial count of the periodic tick */

static uint32_t apic_read(unsigned reg)
{
	if (apic_x2)
		return (uint32_t)rdmsr(MSR_X2APIC_REG0 + (reg >> 4));
	return apic_mmio[reg / 4];
}

static void apic_write(unsigned reg, uint32_t v)
{
	if (apic_x2)
		wrmsr(MSR_X2APIC_REG0 + (reg >> 4), v);
	else
		apic_mmio[reg / 4] = v;
}

static void pic_mask_all(void)
{
	/* ICW1-4: cascade, vectors 32-39 and 40-47, 8086 mode; then mask. */
	outb(0x20, 0x11);
	outb(0xa0, 0x11);
	outb(0x21, ARCH_IRQ_LEGACY_BASE);
	outb(0xa1, ARCH_IRQ_LEGACY_BASE + 8);
	outb(0x21, 4);
	outb(0xa1, 2);
	outb(0x21, 1);
	outb(0xa1, 1);
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
}

bool arch_irq_spurious(unsigned vector)
{
	return vector == ARCH_IRQ_SPURIOUS || vector == ARCH_IRQ_LEGACY_BASE + 7 ||
	       vector == ARCH_IRQ_LEGACY_BASE + 15;
}

void arch_irq_eoi(unsigned vector)
{
	if (vector >= ARCH_IRQ_LEGACY_BASE &&
	    vector < ARCH_IRQ_LEGACY_BASE + ARCH_IRQ_LEGACY_LINES) {
		if (vector >= ARCH_IRQ_LEGACY_BASE + 8)
			outb(0xa0, 0x20);
		outb(0x20, 0x20);
		return;
	}
	if (apic_ready)
		apic_write(APIC_EOI, 0);
}

int arch_timer_init(void)
{
	uint32_t a, b, c, d;
	uint64_t base;
	int err;

	pic_mask_all();
	cpuid(1, 0, &a, &b, &c, &d);
	if (!(d & (1u << 9)))
		return -ENODEV;
	base = rdmsr(MSR_APIC_BASE);
	if (c & (1u << 21)) {
		apic_x2 = true;
		wrmsr(MSR_APIC_BASE, base | APIC_BASE_ENABLE | APIC_BASE_X2);
	} else {
		uint64_t pa = base & 0xffffff000ull;

		wrmsr(MSR_APIC_BASE, base | APIC_BASE_ENABLE);
		err = mmu_map(DIRECT_MAP_BASE + pa, pa, MMU_PAGE_SIZE, MMU_W | MMU_NOCACHE);
		if (err && err != -EEXIST)
			return err;
		apic_mmio = phys_to_virt(pa);
	}
	apic_write(APIC_SVR, 0x100 | ARCH_IRQ_SPURIOUS); /* software enable */
	apic_write(APIC_LVT_TMR, LVT_MASKED);
	apic_write(APIC_LVT_LINT0, LVT_MASKED);
	apic_write(APIC_LVT_LINT1, LVT_MASKED);
	apic_ready = true;
	return 0;
}

/*
 * APIC timer counts per second.  The cycle counter is read again right after
 * the APIC count, so a vCPU descheduled between the end of the wait and the
 * read (TCG on a busy host) stretches both sides of the ratio alike.  The
 * median of three runs absorbs the rest.
 */
static uint64_t apic_timer_rate(uint64_t cycles_hz)
{
	uint64_t r[3];

	for (int i = 0; i < 3; i++) {
		/* 1 ms: 62,500 counts of a 1 GHz bus / 16, against a TSC that is
		 * already calibrated; three windows, the median. */
		uint64_t t0, t1, ns, wait = cycles_hz / 1000;
		uint32_t elapsed;

		apic_write(APIC_TMR_INIT, 0xffffffff);
		t0 = rdtsc();
		while (rdtsc() - t0 < wait)
			arch_cpu_relax();
		elapsed = 0xffffffff - apic_read(APIC_TMR_CUR);
		t1 = rdtsc();
		/* In 64 bits: a window of ns < 18 s, elapsed < 2^32. */
		ns = (t1 - t0) * 1000000000ull / cycles_hz;
		r[i] = ns ? (uint64_t)elapsed * 1000000000ull / ns : 0;
	}
	if (r[0] > r[1]) {
		uint64_t t = r[0];
		r[0] = r[1];
		r[1] = t;
	}
	if (r[1] > r[2]) {
		uint64_t t = r[1];
		r[1] = r[2];
		r[2] = t;
	}
	if (r[0] > r[1]) {
		uint64_t t = r[0];
		r[0] = r[1];
		r[1] = t;
	}
	return r[1];
}

int arch_timer_start(unsigned hz, uint64_t cycles_hz)
{
	uint64_t per_sec;

	if (!apic_ready || hz == 0 || cycles_hz == 0)
		return -EINVAL;
	apic_write(APIC_TMR_DIV, 0x3); /* divide by 16 */
	apic_write(APIC_LVT_TMR, LVT_MASKED);
	per_sec = apic_timer_rate(cycles_hz);
	if (per_sec / hz == 0 || per_sec / hz > 0xffffffff)
		return -EINVAL;
	apic_write(APIC_TMR_INIT, 0);
	apic_write(APIC_LVT_TMR, LVT_PERIODIC | ARCH_IRQ_TIMER);
	apic_timer_count = (uint32_t)(per_sec / hz);
	apic_write(APIC_TMR_INIT, apic_timer_count);
	return 0;
}

uint32_t apic_self_id(void)
{
	if (!apic_ready)
		return 0;
	return apic_x2 ? apic_read(APIC_ID) : apic_read(APIC_ID) >> 24;
}

void apic_send_icr(uint32_t apic_id, uint32_t icr)
{
	unsigned long f;

	if (!apic_ready)
		return;
	__asm__ volatile("pushfq; popq %0; cli" : "=r"(f) : : "memory");
	if (apic_x2) {
		/* x2APIC: one 64-bit MSR write, no busy bit to wait for. */
		wrmsr(MSR_X2APIC_ICR, ((uint64_t)apic_id << 32) | icr);
	} else {
		while (apic_read(APIC_ICR_LO) & APIC_ICR_BUSY)
			arch_cpu_relax();
		apic_write(APIC_ICR_HI, apic_id << 24);
		apic_write(APIC_ICR_LO, icr);
	}
	if (f & (1u << 9))
		__asm__ volatile("sti" : : : "memory");
}

int apic_init_ap(unsigned vector)
{
	uint64_t base = rdmsr(MSR_APIC_BASE);

	if (!apic_ready)
		return -ENODEV;
	wrmsr(MSR_APIC_BASE, base | APIC_BASE_ENABLE | (apic_x2 ? APIC_BASE_X2 : 0));
	apic_write(APIC_SVR, 0x100 | ARCH_IRQ_SPURIOUS);
	apic_write(APIC_LVT_TMR, LVT_MASKED);
	apic_write(APIC_LVT_LINT0, LVT_MASKED);
	apic_write(APIC_LVT_LINT1, LVT_MASKED);
	if (apic_timer_count) {
		apic_write(APIC_TMR_DIV, 0x3);
		apic_write(APIC_TMR_INIT, 0);
		apic_write(APIC_LVT_TMR, LVT_PERIODIC | vector);
		apic_write(APIC_TMR_INIT, apic_timer_count);
	}
	return 0;
}

const char *arch_timer_kind(void)
{
	return !apic_ready ? "none" : apic_x2 ? "x2APIC" : "xAPIC";
}
