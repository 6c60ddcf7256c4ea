/*
 * percpu.c: the per-CPU areas and the GS base (<arch/percpu.h>).
 *
 * The areas are a static array, so CPU 0's exists before any allocator:
 * arch_cpu_init() calls percpu_init_boot() as its first step, and from
 * then on every cpu_id() / this_cpu() is a %gs-relative load.  APs get the
 * next dense id from percpu_claim() when the bring-up (smp.c) starts them,
 * load GS base themselves, and are counted by percpu_count() once
 * percpu_set_online() published them.
 */
#include <arch/percpu.h>
#include <arch/x86.h>

static struct percpu percpu_areas[PERCPU_MAX];
static unsigned percpu_nclaimed = 1;
static volatile unsigned percpu_nonline = 1;

void percpu_load(struct percpu *p)
{
	p->self = p;
	wrmsr(MSR_GS_BASE, (uint64_t)(uintptr_t)p);
	wrmsr(MSR_KERNEL_GS_BASE, 0); /* the user's GS base, swapped in on return to ring 3 */
}

void percpu_init_boot(void)
{
	struct percpu *p = &percpu_areas[0];

	p->id = 0;
	p->online = 1;
	percpu_load(p);
}

struct percpu *percpu_of(unsigned id)
{
	return &percpu_areas[id < PERCPU_MAX ? id : 0];
}

unsigned percpu_count(void)
{
	return __atomic_load_n(&percpu_nonline, __ATOMIC_ACQUIRE);
}

struct percpu *percpu_claim(uint32_t apic_id)
{
	struct percpu *p;

	if (percpu_nclaimed >= PERCPU_MAX)
		return 0;
	p = &percpu_areas[percpu_nclaimed];
	p->id = percpu_nclaimed++;
	p->apic_id = apic_id;
	p->self = p;
	return p;
}

void percpu_set_online(struct percpu *p)
{
	__atomic_store_n(&p->online, 1, __ATOMIC_RELEASE);
	if (p->id == percpu_nonline)
		__atomic_store_n(&percpu_nonline, p->id + 1, __ATOMIC_RELEASE);
}
