/*
 * kernel/sched.h: the global scheduler (SPIN §4.2): preemptive, round-robin
 * within priority, highest runnable priority first.
 *
 * Owns the per-CPU scheduling state: the current strand, the idle strand,
 * one FIFO run queue per priority with a bitmap of non-empty ones, the
 * sleep queue, need_resched and the preemption-disable depth, for every
 * CPU (struct sched_cpu, a lock each; CPU ids are <arch/percpu.h>'s dense
 * ones).  New strands go to the least loaded CPU (or stay here when they
 * outrank the running strand), woken strands to their own CPU with a
 * reschedule IPI when needed, and an idle CPU pulls work from the busiest.
 * A strand may be pinned to one CPU (strand_create_pinned, sched_pin_current).
 *
 * Invariants: a READY strand is on exactly one run queue, that of s->cpu;
 * the current strand is on none; a MIGRATING strand is on none and owned by
 * the CPU moving it; the idle strand is never queued and runs only when its
 * CPU's run queues are empty; switches happen only with the run-queue lock
 * held and interrupts off, with no other spinlock held and preemption
 * enabled; a strand is queued on another CPU only after its context is
 * saved (on_cpu clear); no code holds two run-queue locks at once.
 *
 * Preemption points: return from an interrupt (trap path calls
 * sched_irq_exit()), sched_preempt_check() after waking a strand, and
 * sched_preempt_enable().  The timer tick charges the running strand; when
 * its SCHED_QUANTUM_TICKS run out and another strand of at least its
 * priority is ready, it goes to the back of its queue.  A woken strand of
 * higher priority preempts at once and the preempted one keeps its place at
 * the head of its queue.
 *
 * Block protocol (what waitq/mutex/cond/join use, and what SPIN's
 * Strand.Block / Strand.Unblock events will wrap):
 *     lock the object; queue yourself; sched_prepare_block(); unlock;
 *     err = sched_block();
 * sched_prepare_block() disables preemption and marks the strand BLOCKING,
 * so a waker that runs before sched_block() simply cancels the block
 * (sched_unblock() returns true either way) and no wakeup is lost.
 *
 * Who may call: core and trusted modules from strands; sched_unblock() and
 * sched_irq_exit() also from interrupt context.  Errors: -EINVAL (bad
 * priority), -ENODEV (sleep without a running timer tick).
 */
#ifndef KERNEL_SCHED_H
#define KERNEL_SCHED_H

#include <stdbool.h>
#include <stdint.h>

#include <arch/percpu.h>

#include "kernel/strand.h"

#define SCHED_MAX_CPUS      PERCPU_MAX
#define SCHED_NPRIO         8
#define SCHED_PRIO_IDLE     0 /* the idle strand only */
#define SCHED_PRIO_MIN      1
#define SCHED_PRIO_DEFAULT  4
#define SCHED_PRIO_MAX      7
#define SCHED_QUANTUM_TICKS 2

/* This CPU's dense id (stable only while the caller cannot migrate). */
static inline unsigned sched_cpu_id(void)
{
	return arch_cpu_id();
}

/* Adopt the boot context as strand "main", create the idle strand, install
 * the allocators' locks and start scheduling.  Once, from kmain, after the
 * heap and the clock.  Returns 0 or -ENOMEM. */
int sched_init(void);
bool sched_running(void);
struct strand *sched_current(void);

void sched_yield(void);
void sched_prepare_block(void);
int sched_block(void);
bool sched_unblock(struct strand *s, int result);
/* Make a new strand runnable (strand.c). */
void sched_make_ready(struct strand *s);
/* The current strand is DEAD: switch away for good (strand.c). reap: put it
 * on the reap list (detached). */
__attribute__((noreturn)) void sched_exit_current(bool reap);
/* Take one reaped (dead, detached, off-CPU) strand, or NULL. */
struct strand *sched_reap_take(void);
/* Change s's priority (requeueing it if ready); the caller then calls
 * sched_preempt_check() once it holds no lock. */
int sched_set_priority(struct strand *s, int prio);
/* First call of every new strand, on its own stack (strand.c trampoline):
 * finishes the switch that started it and enables interrupts. */
void sched_strand_started(void);

/* Block for at least ns nanoseconds (woken on the first tick after). */
int sched_sleep_ns(uint64_t ns);

void sched_preempt_disable(void);
void sched_preempt_enable(void);
void sched_preempt_check(void);

/* Interrupt-exit hook (arch trap path, interrupts off): account timer ticks,
 * wake sleepers, preempt when needed. */
void sched_irq_exit(void);

struct sched_stats {
	uint64_t switches, preemptions, ticks, idle_ticks, wakeups, migrations;
};
/* Summed over the online CPUs / of one CPU. */
void sched_get_stats(struct sched_stats *out);
void sched_get_cpu_stats(unsigned cpu, struct sched_stats *out);

/* Pin the current strand to cpu (moving it there now) or, with -1, let it
 * run anywhere again.  -EINVAL: no such CPU, the idle strand, or called
 * with preemption disabled. */
int sched_pin_current(int cpu);
/* The CPU s is queued on, runs on or last ran on (a hint once it returns). */
int sched_strand_cpu(const struct strand *s);

/* Quiescent points (the dispatcher's epochs): switches seen by cpu so far,
 * and a hook called with no lock held from the idle loop and after
 * sched_yield() (it must not block). */
uint64_t sched_quiescent_count(unsigned cpu);
void sched_set_quiescent_hook(void (*fn)(void));

/* SMP bring-up (arch/x86_64/smp.c): on the boot CPU, create CPU cpu's idle
 * strand and return the stack the AP must start on (0, -EINVAL, -ENOMEM);
 * on the AP, adopt that stack as the idle strand, go online and schedule. */
int sched_prepare_cpu(unsigned cpu, uintptr_t *stack_top);
__attribute__((noreturn)) void sched_start_cpu(void);

#endif
