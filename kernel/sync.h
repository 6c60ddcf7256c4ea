/*
 * kernel/sync.h: spinlocks, wait queues, mutexes, condition variables and
 * semaphores for strands.
 *
 * Owns nothing global but the lock-order checker's state.  Each object
 * below is owned by whoever embeds it.
 *
 *   spinlock   busy-wait lock that also disables interrupts on its CPU
 *              (spin_lock_irqsave returns the previous state, restored by
 *              spin_unlock_irqrestore).  Never held across a block or a
 *              switch (the scheduler's own run-queue lock excepted).
 *   waitq      FIFO of blocked strands, the building block of the rest.
 *   mutex      sleeping lock with an owner; unlock hands it directly to
 *              the first waiter (FIFO, no barging).
 *   cond       condition variable used with a mutex (Mesa semantics: a
 *              woken waiter re-checks its predicate).
 *   sem        counting semaphore; sem_up hands the unit to a waiter.
 *
 * Lock order (SYNC_DEBUG, compiled in by default): every lock has a rank.  A strand
 * or CPU may only acquire a lock whose rank is strictly greater than every
 * lock it holds; sleeping locks take ranks 1..99 (SYNC_RANK_MUTEX by
 * default), spinlocks 100 and up (table below), so no sleeping lock can be
 * taken while a spinlock is held.  A violation is printed ("lockorder: ...")
 * and counted; it panics unless sync_lockorder_set_fatal(false) (tests).  A
 * spinlock acquisition still proceeds after a non-fatal report; a mutex
 * acquisition fails with -EDEADLK.  The checker costs a per-CPU list walk
 * on every spinlock operation, so it can be turned off once at boot
 * (sync_lockorder_disable(); benchmark boots do, kernel/bench.c): the
 * fast paths then pay one predictable branch for it.  It is never turned
 * back on, so lists left stale by the switch are never read again.
 *
 * Destroying: waitq_destroy / mutex_destroy / cond_destroy / sem_destroy
 * wake every waiter with -EIDRM and make later waits fail with -EIDRM at
 * once.  A woken waiter does not touch the object again, so the destroyer
 * may free it right after destroy returns (single CPU; on SMP the destroyer
 * must also wait for waiters still inside the object's lock).
 *
 * Who may call: core and trusted modules, from strands (not from interrupt
 * handlers, except spin_* and the wake/up operations, which never block).
 * Errors: 0 or -EIDRM (destroyed), -EPERM (unlock/wait by a non-owner),
 * -EDEADLK (recursive lock or lock-order violation), -EINVAL (NULL).
 */
#ifndef KERNEL_SYNC_H
#define KERNEL_SYNC_H

#include <stdbool.h>
#include <stdint.h>

#include <arch/percpu.h>
#include <arch/switch.h>
#include <spindle/errno.h>

/* Not yet in <spindle/errno.h> (Linux values). */
#ifndef ESRCH
#define ESRCH 3
#endif
#ifndef EAGAIN
#define EAGAIN 11
#endif
#ifndef EDEADLK
#define EDEADLK 35
#endif
#ifndef EIDRM
#define EIDRM 43
#endif

#ifndef SYNC_DEBUG
#define SYNC_DEBUG 1
#endif

/* Ranks: acquire in increasing order. */
#define SYNC_RANK_MUTEX   50  /* default for sleeping locks (1..99) */
#define SYNC_RANK_OBJ     100 /* inner lock of a waitq/mutex/cond/sem */
#define SYNC_RANK_STRANDS 105 /* strand handle table, join/exit */
#define SYNC_RANK_SCHED   110 /* per-CPU run queue, timer queue */
#define SYNC_RANK_HEAP    120
#define SYNC_RANK_KSTACK  125
#define SYNC_RANK_PMM     130
#define SYNC_RANK_TEST    200 /* 200..255: free for tests */

struct strand;

struct spinlock {
	volatile uint32_t locked;
	uint16_t rank;
	const char *name;
	unsigned long hook_flags; /* saved by spin_lock_hook() */
};

#define SPINLOCK_INIT(n, r)                                                                        \
	{                                                                                          \
		0, (r), (n), 0                                                                     \
	}

/* True while the lock-order checker runs (read on every lock operation). */
extern bool sync_checking;
/* The checker's halves and the contended wait: sync.c, out of line. */
void sync_track_acquire(struct spinlock *l);
void sync_track_release(struct spinlock *l);
void spin_lock_wait(struct spinlock *l);

void spin_init(struct spinlock *l, const char *name, unsigned rank);

/*
 * The lock and unlock fast paths are inline: in the strand benchmarks a
 * round trip takes a dozen spinlocks, and a call with its frame cost as
 * much as the lock itself.  Uncontended, a lock is pushf/cli and one xchg
 * (the holder is recorded only by the checker: spin_held); the checker
 * (before spinning, so that a recursive acquisition is reported instead of
 * deadlocking) and the wait are calls.
 */
/* With interrupts already off (the caller disabled them and restores
 * them itself): hand-over-hand locking on a path that must not open an
 * interrupt window between two locks. */
static inline __attribute__((always_inline)) void spin_lock_irqsoff(struct spinlock *l)
{
	if (SYNC_DEBUG && __builtin_expect(sync_checking, 0))
		sync_track_acquire(l);
	if (__builtin_expect(arch_xchg32(&l->locked, 1) != 0, 0))
		spin_lock_wait(l);
}

static inline __attribute__((always_inline)) void spin_unlock_irqsoff(struct spinlock *l)
{
	if (SYNC_DEBUG && __builtin_expect(sync_checking, 0))
		sync_track_release(l);
	__atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE);
}

static inline __attribute__((always_inline)) unsigned long spin_lock_irqsave(struct spinlock *l)
{
	unsigned long f = arch_irq_save();

	spin_lock_irqsoff(l);
	return f;
}

static inline __attribute__((always_inline)) void spin_unlock_irqrestore(struct spinlock *l,
                                                                         unsigned long flags)
{
	spin_unlock_irqsoff(l);
	arch_irq_restore(flags);
}

/* Held by this CPU - exact while the checker runs (its list of the locks
 * each CPU holds); without it, only whether some CPU holds l. */
bool spin_held(const struct spinlock *l);
/* lock(arg)/unlock(arg) callbacks for services with lock hooks (pmm, heap). */
void spin_lock_hook(void *lock);
void spin_unlock_hook(void *lock);
/* Spinlocks held on this CPU right now (counted only while sync_checking). */
unsigned sync_spin_depth(void);

struct waitq {
	struct spinlock lock;
	struct strand *head, *tail;
	uint32_t waiters;
	bool dead;
};

void waitq_init(struct waitq *wq, const char *name);
/* Block the current strand on wq; wq->lock must be held (flags from its
 * spin_lock_irqsave) and is released.  Returns the waker's result: 0, or
 * -EIDRM when wq was destroyed. */
int waitq_wait_locked(struct waitq *wq, unsigned long flags);
/* Wake one / all waiters with result 0; return how many were woken.
 * wq->lock must NOT be held; may be called from interrupt handlers. */
unsigned waitq_wake_one(struct waitq *wq);
unsigned waitq_wake_all(struct waitq *wq);
int waitq_destroy(struct waitq *wq);

struct mutex {
	struct waitq wq; /* wq.lock guards owner too */
	struct strand *owner;
	struct mutex *held_next; /* owner's list of held mutexes (lock order) */
	uint16_t rank;
	const char *name;
};

void mutex_init(struct mutex *m, const char *name);
void mutex_init_rank(struct mutex *m, const char *name, unsigned rank);
int mutex_lock(struct mutex *m);
int mutex_trylock(struct mutex *m); /* -EBUSY if held */
int mutex_unlock(struct mutex *m);
bool mutex_held(const struct mutex *m); /* by the current strand */
int mutex_destroy(struct mutex *m);

struct cond {
	struct waitq wq;
};

void cond_init(struct cond *c, const char *name);
/* Atomically release m and block; reacquire m before returning (also on
 * -EIDRM when c was destroyed; if m was destroyed meanwhile, its error). */
int cond_wait(struct cond *c, struct mutex *m);
int cond_signal(struct cond *c);
int cond_broadcast(struct cond *c);
int cond_destroy(struct cond *c);

struct sem {
	struct waitq wq;
	uint64_t count;
};

void sem_init(struct sem *s, const char *name, uint64_t count);
int sem_down(struct sem *s);
int sem_trydown(struct sem *s); /* -EAGAIN if zero */
int sem_up(struct sem *s);
int sem_destroy(struct sem *s);

/* Lock-order checker controls and counters (tests). */
void sync_lockorder_set_fatal(bool fatal);
/* Turn the checker off for good (benchmark boots); idempotent. */
void sync_lockorder_disable(void);
uint64_t sync_lockorder_violations(void);

#endif
