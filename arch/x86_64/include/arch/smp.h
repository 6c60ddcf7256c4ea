/*
 * arch/smp.h: starting the other CPUs and interrupting them (x86-64).
 *
 * Owns the application-processor bring-up (ACPI MADT, INIT-SIPI-SIPI
 * through the local APIC, the real-mode trampoline) and the inter-processor
 * interrupts: reschedule, call-function and halt.  CPU numbers here are the
 * dense ids of <arch/percpu.h>, never APIC ids.
 *
 *   smp_init()          once, from kmain after the scheduler and the memory
 *                       services: finds the CPUs, starts each AP (its own
 *                       GDT/TSS/IST stacks, IDT, kernel CR3, APIC timer,
 *                       per-CPU area and idle strand) and waits for it to
 *                       join the scheduler, at most SMP_AP_TIMEOUT_MS each.
 *                       An AP that does not come up is reported and the
 *                       boot continues with the CPUs that did; a failure
 *                       before any AP starts leaves one CPU (nothing changes
 *                       for -smp 1).  Returns the number of CPUs online.
 *   smp_send_resched()  fixed IPI SMP_IPI_RESCHED: the target re-runs its
 *                       scheduler on interrupt exit.  From any context.
 *   smp_call_all()      runs fn(arg) on every online CPU (the caller's
 *                       included, directly) and returns when all have
 *                       finished (smp_call_mask: the CPUs of a mask, the
 *                       one Translation's shootdowns use).  From a strand
 *                       with interrupts enabled (the targets must be able to
 *                       answer); one call at a time (a spinlock serializes
 *                       callers).  fn runs in interrupt context on the other
 *                       CPUs: it must not block.  Returns 0 or -EINVAL.
 *   smp_halt_others()   NMI to every other CPU, which stops for good; for
 *                       panic and the fatal-exception path.  Never fails.
 *
 * Who may call: core only.  Locking: smp_call_all takes smp_call_lock
 * (SYNC-independent, a raw spinlock inside; not with a run-queue lock held).
 */
#ifndef ARCH_SMP_H
#define ARCH_SMP_H

#define SMP_TRAMP_PHYS    0x8000 /* real-mode trampoline page (SIPI vector 0x08) */
#define SMP_AP_TIMEOUT_MS 1000
#define SMP_IPI_RESCHED   0xf0
#define SMP_IPI_CALL      0xf1
#define SMP_IRQ_AP_TICK   0xeb /* the APs' periodic timer (CPU 0 keeps ARCH_IRQ_TIMER) */

#ifndef __ASSEMBLY__
#include <stdbool.h>
#include <stdint.h>

struct percpu;

unsigned smp_init(void);
void smp_send_resched(unsigned cpu);
int smp_call_all(void (*fn)(void *arg), void *arg);
/* Run fn(arg) on the online CPUs in mask (bit c = CPU c; the caller's own
 * bit runs it directly) and return when all have finished.  Unlike
 * smp_call_all it may be called with interrupts off (the page-fault path):
 * while it waits for another caller's request to finish it runs any request
 * addressed to itself.  The caller must hold no lock that a target may be
 * spinning on with interrupts off.  Not from an interrupt handler.  fn runs
 * with interrupts off everywhere.  Returns 0 or -EINVAL (fn NULL). */
int smp_call_mask(uint64_t mask, void (*fn)(void *arg), void *arg);
void smp_halt_others(void);
/* NMI path (trap.c): if a halt is under way, stop this CPU for good (does
 * not return); false otherwise. */
bool smp_nmi_halt(void);
/* The TLB-shootdown seam: invalidate [va, va+len) on every online CPU
 * (smp_call_all's rules; on one CPU a local invlpg loop).  For a range no
 * CPU touches any more, call it BEFORE unmapping: no CPU can then refill
 * the entry, and the unmapping CPU's own invlpg covers itself. */
void smp_tlb_flush_all(uintptr_t va, uint64_t len);
/* Times this CPU took an IPI of each kind (tests). */
uint64_t smp_ipi_count(unsigned cpu, unsigned vector);
/* Hooks run on every AP during its bring-up, before it schedules (per-CPU
 * MSRs of other services, e.g. the syscall MSRs).  Register before smp_init;
 * at most 4.  Returns 0 or -ENOSPC. */
int smp_register_ap_init(void (*fn)(void));

/* ---- arch internals shared by cpu.c, apic.c and smp.c ---- */
int arch_cpu_prepare_ap(struct percpu *p);
void arch_cpu_init_ap(struct percpu *p);
uint32_t apic_self_id(void);
/* icr: vector | delivery mode | level/trigger bits of the ICR low word. */
void apic_send_icr(uint32_t apic_id, uint32_t icr);
#define APIC_ICR_FIXED  0x0000u
#define APIC_ICR_NMI    0x0400u
#define APIC_ICR_INIT   0x0500u
#define APIC_ICR_SIPI   0x0600u
#define APIC_ICR_ASSERT 0x4000u
#define APIC_ICR_LEVEL  0x8000u
/* Enable this AP's local APIC and start its periodic tick (the boot CPU's
 * rate) on vector.  Returns 0 or -ENODEV. */
int apic_init_ap(unsigned vector);
#endif

#endif
