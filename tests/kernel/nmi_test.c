/*
 * nmi_test.c: the NMI entry finds the kernel's per-CPU area whatever the GS
 * base was when the NMI arrived (entry.S's trap_paranoid).
 *
 * An NMI can land between a return path's swapgs and its sysretq/iretq:
 * CS is the kernel's there, but MSR_GS_BASE already holds the user's GS base
 * (0 in Spindle).  The test recreates that window on purpose: interrupts
 * off, the user's GS base (0) parked in MSR_KERNEL_GS_BASE, swapgs, an NMI
 * to this CPU through the local APIC, then swapgs back.  trap.c's NMI probe
 * records this_cpu() as the handler saw it.  An entry that trusted the saved
 * CS would run the handler with GS base 0: this_cpu() would read address
 * 0x10 and the nested #PF would stop the run (a failure of the whole suite,
 * the only way such a bug can show).  Between the two swapgs the test calls
 * nothing that uses %gs: apic_send_icr writes the APIC through a global
 * mapping or an MSR, and the wait is a loop on a volatile counter.
 */
#include <stddef.h>
#include <stdint.h>

#include <arch/cpu.h>
#include <arch/percpu.h>
#include <arch/smp.h>
#include <arch/trap.h>
#include <arch/x86.h>

#include "kernel/ktest.h"

#define NMI_TEST_SPIN 100000000u /* far longer than delivery takes */

struct nmi_test_result {
	uint32_t count;     /* NMIs the probe saw */
	void *percpu;       /* this_cpu() inside the handler */
	uint64_t gs_window; /* MSR_GS_BASE in the window after the NMI returned */
	struct percpu *expected;
};

static void nmi_test_send(bool user_gs, struct nmi_test_result *r)
{
	struct trap_nmi_probe probe = {0};
	bool irq = arch_irq_enabled();
	uint32_t apic = apic_self_id();
	uint64_t saved_kgs;

	arch_irq_disable(); /* no preemption, no migration: one CPU throughout */
	r->expected = this_cpu();
	saved_kgs = rdmsr(MSR_KERNEL_GS_BASE);
	trap_nmi_probe = &probe;
	if (user_gs) {
		wrmsr(MSR_KERNEL_GS_BASE, 0); /* the user's GS base */
		__asm__ volatile("swapgs" : : : "memory");
	}
	apic_send_icr(apic, APIC_ICR_NMI | APIC_ICR_ASSERT);
	for (uint32_t i = 0; i < NMI_TEST_SPIN && probe.count == 0; i++)
		arch_cpu_relax();
	r->gs_window = rdmsr(MSR_GS_BASE);
	if (user_gs)
		__asm__ volatile("swapgs" : : : "memory");
	trap_nmi_probe = NULL;
	wrmsr(MSR_KERNEL_GS_BASE, saved_kgs);
	if (irq)
		arch_irq_enable();
	r->count = probe.count;
	r->percpu = probe.percpu;
}

KTEST(trap_nmi_kernel_gs)
{
	struct nmi_test_result r;

	nmi_test_send(false, &r);
	KT_ASSERT_EQ(r.count, 1);
	KT_ASSERT(r.percpu == r.expected);
	KT_ASSERT_EQ(r.gs_window, (uint64_t)(uintptr_t)r.expected); /* untouched */
}

KTEST(trap_nmi_user_gs_window)
{
	struct nmi_test_result r;

	nmi_test_send(true, &r);
	KT_ASSERT_EQ(r.count, 1);
	/* The handler ran on the kernel's per-CPU area ... */
	KT_ASSERT(r.percpu == r.expected);
	/* ... and the exit gave the interrupted code its GS base back. */
	KT_ASSERT_EQ(r.gs_window, 0);
	KT_ASSERT(this_cpu() == r.expected);
}
