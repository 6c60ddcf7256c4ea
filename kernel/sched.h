/*
 * kernel/sched.h: the global scheduler (SPIN §4.2): preemptive, round-robin
 * within priority, highest runnable priority first.
 *
 * Owns the per-CPU scheduling state: the current strand, the idle strand,
 * one FIFO run queue per priority with a bitmap of non-empty ones, the
 * sleep queue, need_resched and the preemption-disable depth.  Shaped for
 * SMP (struct sched_cpu per CPU, a lock each) but only CPU 0 exists yet.
 *
 * Invariants: a READY strand is on exactly one run queue; the current strand
 * is on none; the idle strand is never queued and runs only when every run
 * queue is empty; switches happen only with the run-queue lock held and
 * interrupts off, with no other spinlock held and preemption enabled.
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

#include "kernel/strand.h"

#define SCHED_MAX_CPUS      1
#define SCHED_NPRIO         8
#define SCHED_PRIO_IDLE     0       /* the idle strand only */
#define SCHED_PRIO_MIN      1
#define SCHED_PRIO_DEFAULT  4
#define SCHED_PRIO_MAX      7
#define SCHED_QUANTUM_TICKS 2

static inline unsigned sched_cpu_id(void) { return 0; }

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
	uint64_t switches, preemptions, ticks, idle_ticks, wakeups;
};
void sched_get_stats(struct sched_stats *out);

#endif
