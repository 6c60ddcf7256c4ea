/*
 * sched.c: the global scheduler (kernel/sched.h).
 *
 * Design.
 *
 * SPIN's global scheduler is deliberately plain: "round-robin, preemptive,
 * priority".  Everything richer - application schedulers, thread packages -
 * stacks on top of it through the Strand events Block, Unblock, Checkpoint
 * and Resume, and only subdivides the processor time the global scheduler
 * gives to a strand it owns.  So this file has one job: decide which strand
 * runs on each CPU, and switch to it cheaply and safely.
 *
 * State.  Each CPU has a struct sched_cpu: the running strand, an idle
 * strand, SCHED_NPRIO singly linked FIFO run queues with a bitmap of the
 * non-empty ones (the next strand is the head of the highest set bit: one
 * bsr), a sleep queue sorted by deadline, a reap list and need_resched.
 * One spinlock per CPU guards all of it.  The preemption-disable depth and
 * the current strand are also kept in the arch per-CPU area
 * (<arch/percpu.h>), where one %gs-relative instruction reads or changes
 * them: sched_current() is then right even in a strand that is preempted
 * and migrated between two of its instructions.
 *
 * SMP.  Every strand belongs to one CPU at a time, s->cpu: the run queue
 * it is on, or the CPU it runs or last ran on.  Its state is read and
 * changed under that CPU's lock.  The rules:
 *   - No code path holds two run-queue locks.  Moving a strand between CPUs
 *     is two steps: under the old CPU's lock it leaves the queue and becomes
 *     MIGRATING (owned by the mover, invisible to wakers and to other
 *     movers); the lock is dropped; under the new CPU's lock it is queued
 *     there and s->cpu changes.  So the lock-order checker, which allows one
 *     lock of rank SYNC_RANK_SCHED at a time, keeps the scheduler honest.
 *   - A strand is never put on a queue while its context is still live on a
 *     CPU: a strand that leaves a CPU for another one (pinning itself
 *     elsewhere) is handed over in c->migrate and queued by the strand that
 *     took the CPU, after arch_switch() saved it and on_cpu was cleared (the
 *     classic "on_cpu" rule; sched_switch() also waits for on_cpu of the
 *     strand it switches to, which the rules above make immediate).
 *   - Placement: a new strand goes to this CPU if it outranks what runs here
 *     (it preempts at once, as on one CPU), else to the least loaded CPU
 *     (ready strands + the running one; ties go to this CPU).  A woken
 *     strand goes back to its own CPU; if that CPU must reschedule and is
 *     not this one, it gets a reschedule IPI; if it will not run at once
 *     and some CPU idles, that CPU is kicked and pulls it.
 *   - Balancing: an idle CPU pulls the first unpinned strand of the highest
 *     priority from the busiest CPU before it halts, on every tick it takes
 *     while idle, and when kicked.
 *   - Sleepers sleep on their own CPU's queue and are woken by its tick
 *     (every CPU has a local APIC tick; the tick count is CPU 0's).
 *   - Quiescent points: every switch counts one for its CPU
 *     (sched_quiescent_count), and the idle loop and the return from
 *     sched_yield()/sched_block() call the hook installed with
 *     sched_set_quiescent_hook() (the dispatcher's epoch report).
 *
 * Switching.  A switch happens with the run-queue lock held and interrupts
 * off.  The outgoing strand has already been put where it belongs (back on a
 * run queue, on a wait queue, on the sleep queue, or nowhere because it is
 * dead); sched_switch() picks the next one, records which strand it came
 * from, and calls arch_switch().  The lock is handed over with the CPU: the
 * strand that resumes - in sched_switch() after its own arch_switch(), or in
 * strand_start() the first time - releases it.  That strand also clears the
 * previous one's on_cpu flag, the moment from which the previous strand's
 * stack is no longer in use (joining and reaping wait for that).
 *
 * Preemption.  The timer interrupt is owned by kernel/clock.c; the trap path
 * calls sched_irq_exit() after every interrupt (after the end-of-interrupt),
 * still on the interrupted strand's stack with interrupts off.  It compares
 * clock_ticks() with the last tick it saw, so it needs no timer handler of
 * its own: each new tick wakes expired sleepers and charges the running
 * strand; an expired quantum, or a woken strand of higher priority, sets
 * need_resched; if preemption is enabled the switch happens right there.
 * Being switched out inside the interrupt path is safe because the trap
 * frame stays on that strand's stack: when the strand is chosen again,
 * sched_irq_exit() returns, the trap path restores its registers and irets.
 * Outside interrupts, wakers call sched_preempt_check() after dropping their
 * locks, so a higher-priority strand woken by a strand runs at once.
 *
 * Blocking.  Strands block in two steps (see sched.h) so that an object's
 * lock need not be held across the switch and no wakeup can be lost:
 * sched_prepare_block() marks the strand BLOCKING with preemption disabled;
 * a waker that finds it BLOCKING makes it RUNNING again (the block is
 * cancelled); sched_block() then either switches away (still BLOCKING) or
 * returns at once.
 *
 * Fast paths.  Fork-join and ping-pong are the paper's Table 3.  Creating a
 * strand takes an object+stack from a cache of dead strands (no allocation,
 * no mapping), and its first switch lands in a trampoline.  A wakeup is an
 * append to a FIFO and a bit set; a block is a bsr and a pop; the switch
 * saves six registers.  A woken strand of the same priority simply waits its
 * turn, so the signal-then-block pattern of ping-pong switches directly to
 * the partner when no one else is ready, with no extra preemption.  What
 * made these paths slow was not the scheduler but its locks: a round trip
 * takes a dozen spinlocks, so their fast paths are inline (sync.h) and the
 * lock-order checker, which walked a per-CPU list on each of them, is a
 * boot-time switch that benchmark boots turn off.  On one CPU nothing here
 * does cross-CPU work: placement scans loads only when percpu_count() > 1,
 * and strand_create() peeks at the reap list before locking it.
 *
 * The seam for SPIN's events.  The Strand interface's events are raised at
 * exactly four places, marked "EVENT" below, through the generated raise
 * stubs (interfaces/strand.idl; kernel/strand_events.c is their authority):
 *   Strand.Block(s)      sched_block()    - s leaves the runnable set
 *   Strand.Unblock(s)    sched_unblock()  - s rejoins it
 *   Strand.Checkpoint(s) sched_switch()   - s is taken off the CPU
 *   Strand.Resume(s)     sched_switch()   - s is put on the CPU
 * While only the intrinsic handlers are installed a raise is a direct call;
 * the intrinsic Checkpoint/Resume call the owning thread package's
 * callbacks (struct strand_package).  Extensions (thread packages, see
 * kernel/vproc.h) may add handlers, but only for strands whose capability
 * they hold: the authority imposes a guard.  Handlers run here with the
 * run-queue lock held and interrupts off, bounded by their fuel; they may
 * call only procedures that take no scheduler lock.
 *
 * Locking: sched_cpu.lock (SYNC_RANK_SCHED) is the innermost lock of the
 * scheduling path; object locks (waitq, strand table) are taken before it,
 * and at most one run-queue lock is held at a time.  A strand that switches
 * away on one CPU can resume on another: every function that calls
 * sched_switch() continues with the sched_cpu it returns, never with the one
 * it had before.
 */
#include <arch/cpu.h>
#include <arch/percpu.h>
#include <arch/smp.h>
#include <arch/switch.h>

#include "kernel/clock.h"
#include "kernel/handoff.h"
#include "kernel/kprintf.h"
#include "kernel/panic.h"
#include "kernel/sched.h"
#include "kernel/strand.h"
#include "kernel/sync.h"
#include "spindle_interfaces.h" /* the Strand events' raise stubs */

struct sched_queue {
	struct strand *head, *tail;
};

struct sched_cpu {
	struct spinlock lock;
	unsigned id;
	struct strand *current;
	struct strand *idle;
	struct strand *prev;      /* the strand switched away from */
	struct strand *migrate;   /* prev, to be queued on another CPU */
	uint32_t ready_mask;      /* bit p: ready[p] is not empty */
	volatile uint32_t nready; /* strands on the run queues (the load) */
	struct sched_queue ready[SCHED_NPRIO];
	struct strand *sleepers;        /* by wake_ns, through timer_next */
	struct strand *reap;            /* dead detached strands */
	volatile uint8_t *need_resched; /* in this CPU's arch per-CPU area */
	uint64_t last_tick;
	bool tick_seen;
	volatile uint64_t quiescent; /* switches on this CPU */
	struct sched_stats st;
} __attribute__((aligned(64)));

static struct sched_cpu sched_cpus[SCHED_MAX_CPUS];
static bool sched_on;
static volatile uint32_t sched_idle_mask; /* bit c: CPU c is idle */
static void (*volatile sched_quiescent_fn)(void);

/* This CPU's state; only meaningful while the caller cannot migrate
 * (interrupts off, or preemption disabled). */
static inline struct sched_cpu *sched_cpu(void)
{
	return arch_percpu_sched();
}

bool sched_running(void)
{
	return sched_on;
}

struct strand *sched_current(void)
{
	return arch_percpu_current();
}

/* Interrupts off, then this CPU's lock: the CPU cannot change in between.
 * (The lock's own pushf/cli is then redundant but cheap: three instructions.) */
static inline __attribute__((always_inline)) struct sched_cpu *sched_lock_self(unsigned long *f)
{
	struct sched_cpu *c;

	*f = arch_irq_save();
	c = sched_cpu();
	spin_lock_irqsoff(&c->lock);
	return c;
}

/* The lock of the CPU s belongs to (s->cpu can only change while s is
 * MIGRATING, so a re-check after locking suffices). */
static inline __attribute__((always_inline)) struct sched_cpu *sched_lock_strand(struct strand *s,
                                                                                 unsigned long *f)
{
	for (;;) {
		struct sched_cpu *c = &sched_cpus[s->cpu];

		*f = spin_lock_irqsave(&c->lock);
		if (s->cpu == c->id)
			return c;
		spin_unlock_irqrestore(&c->lock, *f);
	}
}

static inline bool sched_allowed(const struct strand *s, unsigned cpu)
{
	return s->pin < 0 || (unsigned)s->pin == cpu;
}

/* ---- run queues (lock held) ---- */

static void sched_enqueue(struct sched_cpu *c, struct strand *s, bool at_head)
{
	struct sched_queue *q = &c->ready[s->prio];

	s->state = STRAND_READY;
	s->cpu = (uint16_t)c->id;
	if (!q->head) {
		s->next = 0;
		q->head = q->tail = s;
	} else if (at_head) {
		s->next = q->head;
		q->head = s;
	} else {
		s->next = 0;
		q->tail->next = s;
		q->tail = s;
	}
	c->ready_mask |= 1u << s->prio;
	c->nready++;
}

static void sched_dequeue(struct sched_cpu *c, struct strand *s)
{
	struct sched_queue *q = &c->ready[s->prio];
	struct strand *prev = 0;

	for (struct strand *p = q->head; p; prev = p, p = p->next) {
		if (p != s)
			continue;
		if (prev)
			prev->next = s->next;
		else
			q->head = s->next;
		if (q->tail == s)
			q->tail = prev;
		if (!q->head)
			c->ready_mask &= ~(1u << s->prio);
		s->next = 0;
		c->nready--;
		return;
	}
}

static inline int sched_top_prio(const struct sched_cpu *c)
{
	return c->ready_mask ? 31 - __builtin_clz(c->ready_mask) : -1;
}

static struct strand *sched_pick(struct sched_cpu *c)
{
	int p = sched_top_prio(c);
	struct sched_queue *q;
	struct strand *s;

	if (p < 0)
		return c->idle;
	q = &c->ready[p];
	s = q->head;
	q->head = s->next;
	if (!q->head) {
		q->tail = 0;
		c->ready_mask &= ~(1u << p);
	}
	s->next = 0;
	c->nready--;
	return s;
}

/* Some idle CPU other than `not`, or -1. */
static inline int sched_idle_cpu(unsigned not )
{
	uint32_t m = __atomic_load_n(&sched_idle_mask, __ATOMIC_RELAXED) & ~(1u << not );

	return m ? __builtin_ctz(m) : -1;
}

/*
 * s was just queued on c (lock held): make sure it runs soon.  If it should
 * preempt what c runs, c reschedules (an IPI when c is another CPU); if it
 * waits while another CPU idles, that CPU is kicked to pull it.
 */
static void sched_kick(struct sched_cpu *c, struct strand *s)
{
	int idle;

	if (s->prio > c->current->prio || c->current == c->idle) {
		*c->need_resched = true;
		if (c->id != cpu_id())
			smp_send_resched(c->id);
	} else if (s->pin < 0 && (idle = sched_idle_cpu(c->id)) >= 0) {
		smp_send_resched((unsigned)idle);
	}
}

static void sched_quiescent_hook(void)
{
	void (*fn)(void) = sched_quiescent_fn;

	if (fn)
		fn();
}

/* Queue s (MIGRATING or new, on no queue) on cpu, or on the best CPU if cpu
 * is negative.  No run-queue lock held. */
static void sched_place(struct strand *s, int cpu)
{
	struct sched_cpu *c;
	unsigned long f;

	if (cpu < 0) {
		unsigned n = percpu_count(), self = cpu_id(), best = self, load;
		struct sched_cpu *me = &sched_cpus[self];

		if (n > 1 && s->prio <= me->current->prio) {
			load = me->nready + (me->current != me->idle);
			for (unsigned i = 0; i < n && load; i++) {
				struct sched_cpu *o = &sched_cpus[i];
				unsigned l = o->nready + (o->current != o->idle);

				if (l < load) {
					load = l;
					best = i;
				}
			}
		}
		cpu = (int)best;
	}
	c = &sched_cpus[cpu];
	f = spin_lock_irqsave(&c->lock);
	sched_enqueue(c, s, false);
	sched_kick(c, s);
	spin_unlock_irqrestore(&c->lock, f);
}

/* Runs in the strand that just got the CPU, lock held. */
static inline void sched_finish_switch(struct sched_cpu *c)
{
	struct strand *m = c->migrate;

	__atomic_store_n(&c->prev->on_cpu, false, __ATOMIC_RELEASE);
	c->quiescent++;
	if (__builtin_expect(m != 0, 0)) {
		/* m's context is saved: queue it on its CPU (interrupts stay off). */
		c->migrate = 0;
		spin_unlock_irqrestore(&c->lock, 0);
		sched_place(m, m->pin);
		(void)spin_lock_irqsave(&c->lock);
	}
}

/*
 * Switch to the best ready strand (or idle).  Lock held, interrupts off;
 * the current strand is already queued, blocked, dead or handed over in
 * c->migrate.  Returns when the current strand runs again - possibly on
 * another CPU: the result is the sched_cpu it runs on, whose lock is held.
 */
static struct sched_cpu *sched_switch_save(struct sched_cpu *c, struct strand *next,
                                           uintptr_t *save);

static struct sched_cpu *sched_switch(struct sched_cpu *c)
{
	return sched_switch_save(c, sched_pick(c), &c->current->rsp);
}

/* The switch to next (picked, or chosen by the caller and not queued),
 * with the current strand's stack pointer stored at save: its own rsp
 * slot, or a dead word when it blocked with a continuation (its rsp
 * already names the frame it restarts from). */
static struct sched_cpu *sched_switch_save(struct sched_cpu *c, struct strand *next,
                                           uintptr_t *save)
{
	struct strand *prev = c->current;

	*c->need_resched = false;
	if (next == prev) {
		prev->state = STRAND_RUNNING;
		return c;
	}
	if (SYNC_DEBUG && sync_checking && sync_spin_depth() != 1)
		panic("sched: strand %s switches away holding %u spinlocks", prev->name,
		      sync_spin_depth());
	/* EVENT Strand.Checkpoint(prev), Strand.Resume(next): kernel/strand_events.c. */
	Strand_Checkpoint((struct Strand_T *)prev);
	Strand_Resume((struct Strand_T *)next);
	while (__atomic_load_n(&next->on_cpu, __ATOMIC_ACQUIRE))
		arch_cpu_relax(); /* never spins under the rules above; the rule itself */
	next->state = STRAND_RUNNING;
	next->on_cpu = true;
	next->quantum = SCHED_QUANTUM_TICKS;
	next->switches_in++;
	c->current = next;
	arch_percpu_set_current(next);
	c->prev = prev;
	c->st.switches++;
	arch_switch(save, next->rsp);
	c = sched_cpu();
	sched_finish_switch(c);
	return c;
}

void sched_strand_started(void)
{
	struct sched_cpu *c = sched_cpu();

	sched_finish_switch(c);
	spin_unlock_irqrestore(&c->lock, ARCH_RFLAGS_IF);
}

/* ---- operations ---- */

void sched_yield(void)
{
	unsigned long f;
	struct sched_cpu *c = sched_lock_self(&f);
	struct strand *cur = c->current;

	if (cur != c->idle && sched_top_prio(c) >= (int)cur->prio) {
		sched_enqueue(c, cur, false);
		c = sched_switch(c);
	} else if (cur == c->idle && c->ready_mask) {
		c = sched_switch(c);
	}
	spin_unlock_irqrestore(&c->lock, f);
	if (sched_quiescent_fn)
		sched_quiescent_hook();
}

void sched_prepare_block(void)
{
	struct strand *cur;

	arch_preempt_inc(); /* from here on this strand stays on this CPU */
	cur = sched_current();
	cur->wait_result = 0;
	cur->state = STRAND_BLOCKING;
}

int sched_block(void)
{
	unsigned long f;
	struct sched_cpu *c = sched_lock_self(&f);
	struct strand *cur = c->current;

	arch_preempt_dec();
	/* EVENT Strand.Block(cur). */
	if (cur->state == STRAND_BLOCKING) {
		cur->state = STRAND_BLOCKED;
		Strand_Block((struct Strand_T *)cur);
		c = sched_switch(c);
	} else {
		cur->state = STRAND_RUNNING; /* woken before it got here */
	}
	spin_unlock_irqrestore(&c->lock, f);
	return cur->wait_result;
}

bool sched_unblock(struct strand *s, int result)
{
	unsigned long f;
	struct sched_cpu *c = sched_lock_strand(s, &f);
	bool ok = true;

	/* EVENT Strand.Unblock(s). */
	if (s->state == STRAND_BLOCKING) {
		s->wait_result = result;
		s->state = STRAND_RUNNING;
	} else if (s->state == STRAND_BLOCKED) {
		s->wait_result = result;
		c->st.wakeups++;
		if (__builtin_expect(!sched_allowed(s, c->id), 0)) {
			s->state = STRAND_MIGRATING;
			spin_unlock_irqrestore(&c->lock, f);
			sched_place(s, s->pin);
			Strand_Unblock((struct Strand_T *)s); /* EVENT */
			return true;
		}
		sched_enqueue(c, s, false);
		Strand_Unblock((struct Strand_T *)s); /* EVENT */
		sched_kick(c, s);
	} else {
		ok = false;
	}
	spin_unlock_irqrestore(&c->lock, f);
	return ok;
}

/* Where a strand blocked by sched_handoff_cont starts again, on the stack
 * it kept: finish the switch, run the continuation. */
static void sched_cont_start(void *p)
{
	struct strand *s = p;

	sched_strand_started();
	s->cont(s->cont_arg);
	panic("sched: continuation of strand %s returned", s->name);
}

/*
 * Block with a continuation (kernel/handoff.h): the current strand,
 * prepared to block, gives up its call chain.  Its saved context becomes
 * a continuation (arch_cont_init: a frame in the strand, not on a stack),
 * so when it is next switched to - by `to` handing the CPU back, or by any
 * wakeup - it starts in fn(arg) on the stack at sp as a new strand would.
 * The blocked strand keeps nothing on its stack and the switch back
 * unwinds nothing.  If it was woken before it could block, `to` is woken
 * through its run queue and fn(arg) runs at once on that fresh stack.
 */
void sched_handoff_cont(struct strand *to, int result, uintptr_t sp, void (*fn)(void *), void *arg,
                        struct spinlock *held, unsigned long f)
{
	struct sched_cpu *c = sched_cpu(); /* interrupts are off: held was taken with them off */
	struct strand *cur = c->current;
	uintptr_t dead;
	bool direct = false;

	spin_lock_irqsoff(&c->lock); /* hand over hand: no interrupt window */
	spin_unlock_irqsoff(held);
	if (to && (to->state != STRAND_BLOCKED || to->cpu != c->id || !sched_allowed(to, c->id))) {
		/* Not a direct switch (on another CPU, still leaving one, or
		 * not allowed here): wake it through its run queue.  Interrupts
		 * stay off, so this is still c. */
		spin_unlock_irqsoff(&c->lock);
		sched_unblock(to, result);
		to = NULL;
		spin_lock_irqsoff(&c->lock);
	}
	arch_preempt_dec();
	cur->cont = fn;
	cur->cont_arg = arg;
	if (__builtin_expect(cur->state != STRAND_BLOCKING, 0)) {
		cur->state = STRAND_RUNNING; /* woken before it got here */
		spin_unlock_irqrestore(&c->lock, f);
		if (to)
			sched_unblock(to, result); /* handed nothing: wake it */
		arch_call_on_stack(sp, fn, arg);
	}
	_Static_assert(sizeof(cur->cont_frame) == ARCH_CONT_FRAME_WORDS * sizeof(uintptr_t),
	               "frame");
	cur->rsp = arch_cont_init(cur->cont_frame, sp, sched_cont_start, cur);
	if (to) {
		to->wait_result = result;
		c->st.wakeups++;
		direct = sched_top_prio(c) <= (int)to->prio;
		if (direct)
			to->state = STRAND_READY;
		else
			sched_enqueue(c, to, true);
		Strand_Unblock((struct Strand_T *)to); /* EVENT */
	}
	cur->state = STRAND_BLOCKED;
	Strand_Block((struct Strand_T *)cur); /* EVENT */
	(void)sched_switch_save(c, direct ? to : sched_pick(c), &dead);
	panic("sched: strand %s blocked with a continuation came back", cur->name);
}

void sched_make_ready(struct strand *s)
{
	sched_place(s, s->pin);
	sched_preempt_check();
}

void sched_exit_current(bool reap)
{
	unsigned long f;
	struct sched_cpu *c = sched_lock_self(&f); /* never released by this strand */
	struct strand *cur = c->current;

	(void)f;
	cur->state = STRAND_DEAD;
	if (reap) {
		cur->next = c->reap;
		c->reap = cur;
	}
	if (arch_preempt_count())
		panic("sched: strand %s exits with preemption disabled", cur->name);
	sched_switch(c);
	panic("sched: dead strand %s was switched back in", cur->name);
}

struct strand *sched_reap_take(void)
{
	struct strand **pp, *s = 0;
	struct sched_cpu *c;
	unsigned long f;

	if (!sched_on)
		return 0;
	/* Unlocked peek, a hint: only this CPU adds to its reap list, with
	 * interrupts off, and a strand that migrates right after the peek
	 * merely skips one chance to reap (the idle strand reaps too).  It
	 * keeps the lock off strand_create()'s fast path. */
	if (!__atomic_load_n(&sched_cpu()->reap, __ATOMIC_RELAXED))
		return 0;
	c = sched_lock_self(&f);
	for (pp = &c->reap; *pp; pp = &(*pp)->next) {
		if (!(*pp)->on_cpu) {
			s = *pp;
			*pp = s->next;
			s->next = 0;
			break;
		}
	}
	spin_unlock_irqrestore(&c->lock, f);
	return s;
}

int sched_set_priority(struct strand *s, int prio)
{
	struct sched_cpu *c;
	unsigned long f;

	if (!s || prio < SCHED_PRIO_MIN || prio > SCHED_PRIO_MAX || (s->flags & STRAND_F_IDLE))
		return -EINVAL;
	c = sched_lock_strand(s, &f);
	if (s->state == STRAND_READY) {
		sched_dequeue(c, s);
		s->prio = (uint8_t)prio;
		sched_enqueue(c, s, false);
	} else {
		s->prio = (uint8_t)prio;
	}
	if (sched_top_prio(c) > (int)c->current->prio) {
		*c->need_resched = true;
		if (c->id != cpu_id())
			smp_send_resched(c->id);
	}
	spin_unlock_irqrestore(&c->lock, f);
	return 0;
}

int sched_pin_current(int cpu)
{
	unsigned long f;
	struct sched_cpu *c;
	struct strand *cur;

	if (cpu >= (int)percpu_count() || cpu < -1)
		return -EINVAL;
	c = sched_lock_self(&f);
	cur = c->current;
	if (cur == c->idle) {
		spin_unlock_irqrestore(&c->lock, f);
		return -EINVAL;
	}
	if (arch_preempt_count()) {
		spin_unlock_irqrestore(&c->lock, f);
		return -EINVAL;
	}
	cur->pin = (int16_t)cpu;
	if (cpu >= 0 && (unsigned)cpu != c->id) {
		cur->state = STRAND_MIGRATING;
		c->migrate = cur;
		c = sched_switch(c);
	}
	spin_unlock_irqrestore(&c->lock, f);
	return 0;
}

int sched_strand_cpu(const struct strand *s)
{
	return s ? s->cpu : -1;
}

/* ---- time ---- */

static void sched_wake_sleepers(struct sched_cpu *c, uint64_t now)
{
	while (c->sleepers && c->sleepers->wake_ns <= now) {
		struct strand *s = c->sleepers;

		c->sleepers = s->timer_next;
		s->timer_next = 0;
		if (s->state != STRAND_BLOCKED)
			continue;
		s->wait_result = 0;
		sched_enqueue(c, s, false);
		c->st.wakeups++;
		if (s->prio > c->current->prio || c->current == c->idle)
			*c->need_resched = true;
	}
}

int sched_sleep_ns(uint64_t ns)
{
	struct sched_cpu *c;
	struct strand *cur, **pp;
	unsigned long f;

	if (!sched_cpus[0].tick_seen) {
		/* No tick seen yet: give the timer three periods to show up. */
		uint64_t t0 = clock_ticks();

		clock_delay_ns(3 * 1000000000ull / CLOCK_HZ);
		if (clock_ticks() == t0)
			return -ENODEV;
	}
	if (ns == 0) {
		sched_yield();
		return 0;
	}
	c = sched_lock_self(&f);
	cur = c->current;
	cur->wake_ns = clock_ns() + ns;
	for (pp = &c->sleepers; *pp && (*pp)->wake_ns <= cur->wake_ns; pp = &(*pp)->timer_next)
		;
	cur->timer_next = *pp;
	*pp = cur;
	cur->state = STRAND_BLOCKED;
	c = sched_switch(c);
	spin_unlock_irqrestore(&c->lock, f);
	return 0;
}

/* ---- preemption ---- */

/* Give up the CPU because need_resched is set; lock held.  Returns the CPU
 * the strand resumes on. */
static struct sched_cpu *sched_preempt_locked(struct sched_cpu *c)
{
	struct strand *cur = c->current;

	*c->need_resched = false;
	if (cur == c->idle)
		return c->ready_mask ? sched_switch(c) : c;
	if (cur->state != STRAND_RUNNING || sched_top_prio(c) < (int)cur->prio)
		return c;
	c->st.preemptions++;
	/* Quantum used up: back of the queue.  Preempted early: keep its place. */
	sched_enqueue(c, cur, cur->quantum != 0);
	return sched_switch(c);
}

void sched_preempt_disable(void)
{
	arch_preempt_inc();
}

void sched_preempt_enable(void)
{
	arch_preempt_dec();
	sched_preempt_check();
}

void sched_preempt_check(void)
{
	struct sched_cpu *c;
	unsigned long f;

	if (!sched_on || arch_preempt_count())
		return;
	f = arch_irq_save();
	c = sched_cpu();
	if (!*c->need_resched) {
		arch_irq_restore(f);
		return;
	}
	(void)spin_lock_irqsave(&c->lock);
	if (*c->need_resched && !arch_preempt_count())
		c = sched_preempt_locked(c);
	spin_unlock_irqrestore(&c->lock, f);
}

void sched_irq_exit(void)
{
	struct sched_cpu *c;
	uint64_t t;
	unsigned long f;

	if (!sched_on || !(c = sched_cpu()))
		return;
	t = clock_ticks();
	if (t == c->last_tick && !*c->need_resched)
		return;
	f = spin_lock_irqsave(&c->lock);
	if (t != c->last_tick) {
		struct strand *cur = c->current;
		uint64_t n = t - c->last_tick;

		c->last_tick = t;
		c->tick_seen = true;
		c->st.ticks += n;
		cur->ticks += n;
		if (cur == c->idle)
			c->st.idle_ticks += n;
		if (c->sleepers)
			sched_wake_sleepers(c, clock_ns());
		if (cur != c->idle) {
			cur->quantum = cur->quantum > n ? (uint8_t)(cur->quantum - n) : 0;
			if (cur->quantum == 0) {
				if (sched_top_prio(c) >= (int)cur->prio)
					*c->need_resched = true;
				else
					cur->quantum = SCHED_QUANTUM_TICKS;
			}
		}
	}
	if (*c->need_resched && !arch_preempt_count())
		c = sched_preempt_locked(c);
	spin_unlock_irqrestore(&c->lock, f);
}

void sched_get_stats(struct sched_stats *out)
{
	unsigned n = percpu_count();

	*out = (struct sched_stats){0};
	for (unsigned i = 0; i < n; i++) {
		const struct sched_stats *st = &sched_cpus[i].st;

		out->switches += st->switches;
		out->preemptions += st->preemptions;
		out->ticks += st->ticks;
		out->idle_ticks += st->idle_ticks;
		out->wakeups += st->wakeups;
	}
}

void sched_get_cpu_stats(unsigned cpu, struct sched_stats *out)
{
	*out = cpu < percpu_count() ? sched_cpus[cpu].st : (struct sched_stats){0};
}

uint64_t sched_quiescent_count(unsigned cpu)
{
	return cpu < SCHED_MAX_CPUS ? sched_cpus[cpu].quiescent : 0;
}

void sched_set_quiescent_hook(void (*fn)(void))
{
	sched_quiescent_fn = fn;
}

/* ---- balancing ---- */

/*
 * Idle CPU c (interrupts off, no lock held) takes one unpinned ready strand
 * from the busiest other CPU.  Returns true if c's queue got one.
 */
static bool sched_pull(struct sched_cpu *c)
{
	unsigned n = percpu_count(), best_load = 0;
	struct sched_cpu *b = 0;
	struct strand *s = 0;
	unsigned long f;

	for (unsigned i = 0; i < n; i++) {
		struct sched_cpu *o = &sched_cpus[i];
		unsigned l = o->nready;

		/* An idle CPU with one ready strand is about to run it itself. */
		if (o == c || l == 0 || (l == 1 && o->current == o->idle))
			continue;
		if (l > best_load) {
			best_load = l;
			b = o;
		}
	}
	if (!b)
		return false;
	f = spin_lock_irqsave(&b->lock);
	for (int p = sched_top_prio(b); p >= 0 && !s; p--)
		for (struct strand *q = b->ready[p].head; q; q = q->next)
			if (q->pin < 0) {
				s = q;
				break;
			}
	if (s) {
		sched_dequeue(b, s);
		s->state = STRAND_MIGRATING;
		b->st.migrations++;
	}
	spin_unlock_irqrestore(&b->lock, f);
	if (!s)
		return false;
	f = spin_lock_irqsave(&c->lock);
	sched_enqueue(c, s, false);
	spin_unlock_irqrestore(&c->lock, f);
	return true;
}

/* ---- the idle strand and start-up ---- */

static void sched_idle_main(void *arg)
{
	struct sched_cpu *c = arg;
	uint32_t bit = 1u << c->id;

	for (;;) {
		struct strand *dead;

		while ((dead = sched_reap_take()))
			strand_recycle(dead);
		sched_quiescent_hook();
		arch_irq_disable();
		if (!c->ready_mask) {
			/* Idle from the moment the bit is visible: a strand queued
			 * elsewhere after it kicks us; one queued before it is pulled
			 * now.  (One pull, not one before the bit and one after: the
			 * idle loop runs on every cross-CPU wakeup.) */
			__atomic_or_fetch(&sched_idle_mask, bit, __ATOMIC_SEQ_CST);
			if (percpu_count() > 1)
				sched_pull(c);
			if (!c->ready_mask && !*c->need_resched)
				arch_idle_halt(); /* sti; hlt: the wakeup preempts us on irq exit */
			__atomic_and_fetch(&sched_idle_mask, ~bit, __ATOMIC_SEQ_CST);
		}
		arch_irq_enable();
		/* Usually the wakeup already switched away from us in the interrupt
		 * exit; yield only for work that is still waiting (c is ours: the
		 * idle strand never migrates). */
		if (c->ready_mask)
			sched_yield();
	}
}

static const char *const sched_idle_names[SCHED_MAX_CPUS] = {
    "idle",  "idle1", "idle2",  "idle3",  "idle4",  "idle5",  "idle6",  "idle7",
    "idle8", "idle9", "idle10", "idle11", "idle12", "idle13", "idle14", "idle15",
};

int sched_init(void)
{
	struct sched_cpu *c = &sched_cpus[0];
	struct strand *boot, *idle;

	if (sched_on)
		return -EINVAL;
	spin_init(&c->lock, "runqueue", SYNC_RANK_SCHED);
	c->id = 0;
	c->need_resched = &percpu_of(0)->resched;
	boot = strand_init();
	if (!boot)
		return -ENOMEM;
	idle = strand_create_idle(sched_idle_main, c, sched_idle_names[0]);
	if (!idle)
		return -ENOMEM;
	boot->state = STRAND_RUNNING;
	boot->on_cpu = true;
	boot->quantum = SCHED_QUANTUM_TICKS;
	c->current = boot;
	c->idle = idle;
	c->last_tick = clock_ticks();
	c->tick_seen = c->last_tick != 0;
	percpu_of(0)->sched = c;
	arch_percpu_set_current(boot);
	__atomic_store_n(&sched_on, true, __ATOMIC_RELEASE);
	kprintf("sched: %d priorities, quantum %d ticks at %d Hz, strand stacks %d KiB + %d KiB "
	        "guard\n",
	        SCHED_NPRIO, SCHED_QUANTUM_TICKS, CLOCK_HZ, KSTACK_SIZE / 1024,
	        KSTACK_GUARD_SIZE / 1024);
	return 0;
}

int sched_prepare_cpu(unsigned cpu, uintptr_t *stack_top)
{
	struct sched_cpu *c;
	struct strand *idle;

	if (!sched_on || cpu == 0 || cpu >= SCHED_MAX_CPUS || !stack_top)
		return -EINVAL;
	c = &sched_cpus[cpu];
	if (!c->idle) {
		idle = strand_create_idle(sched_idle_main, c, sched_idle_names[cpu]);
		if (!idle)
			return -ENOMEM;
		spin_init(&c->lock, "runqueue", SYNC_RANK_SCHED);
		c->id = cpu;
		c->need_resched = &percpu_of(cpu)->resched;
		c->idle = idle;
		idle->cpu = (uint16_t)cpu;
		idle->pin = (int16_t)cpu;
	}
	*stack_top = c->idle->stack.top;
	return 0;
}

void sched_start_cpu(void)
{
	struct percpu *p = this_cpu();
	struct sched_cpu *c = &sched_cpus[p->id];
	struct strand *idle = c->idle;

	/* This CPU runs on its idle strand's stack already: adopt it. */
	idle->state = STRAND_RUNNING;
	idle->on_cpu = true;
	c->current = idle;
	c->last_tick = clock_ticks();
	c->tick_seen = true;
	p->sched = c;
	arch_percpu_set_current(idle);
	percpu_set_online(p);
	arch_irq_enable();
	sched_idle_main(c);
	panic("sched: idle strand of CPU %u returned", p->id);
}
