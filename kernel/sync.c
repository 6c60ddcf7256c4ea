/*
 * sync.c: spinlocks, wait queues, mutexes, condition variables, semaphores
 * (kernel/sync.h), and the debug lock-order checker.
 *
 * Everything that blocks goes through one pattern with the scheduler
 * (kernel/sched.h): take the object's spinlock, queue the current strand,
 * sched_prepare_block(), drop the lock, sched_block().  Wakers pop a strand
 * under the same lock and call sched_unblock() with the result the waiter
 * will see; ownership (mutex) or a unit (semaphore) is handed to the woken
 * strand before it runs, so it never has to retry and cannot be overtaken.
 *
 * The checker keeps, per CPU, the spinlocks held (interrupts are off while
 * one is held, so they cannot migrate), and per strand the mutexes held
 * (they are held across blocking).  Both are short lists scanned linearly.
 * Per-CPU state is only looked at with interrupts off: a strand with
 * interrupts on holds no spinlock, and could otherwise migrate between
 * reading its CPU id and using it.
 *
 * SMP: spinlocks spin with test-and-test-and-set (a plain load and pause
 * until the lock looks free, then one xchg), so waiting CPUs do not fight
 * over the cache line.  Interrupts are disabled before spinning and stay
 * disabled while the lock is held, as on one CPU.
 *
 * The uncontended lock and unlock are inline in sync.h; this file has the
 * checker's bookkeeping and the contended wait.  sync_checking starts as
 * SYNC_DEBUG and may only go from on to off (sync_lockorder_disable), so
 * a held list that a CPU leaves stale while the switch happens is never
 * read again.
 */
#include <arch/cpu.h>
#include <arch/percpu.h>
#include <arch/switch.h>

#include "kernel/kprintf.h"
#include "kernel/panic.h"
#include "kernel/sched.h"
#include "kernel/strand.h"
#include "kernel/sync.h"

#define SYNC_MAX_HELD 8

struct sync_cpu {
	const struct spinlock *held[SYNC_MAX_HELD];
	unsigned nheld;
};

static struct sync_cpu sync_cpus[SCHED_MAX_CPUS];
static bool sync_fatal = true;
static uint64_t sync_violations;
bool sync_checking = SYNC_DEBUG;

static inline struct sync_cpu *sync_cpu(void)
{
	return &sync_cpus[arch_cpu_id()];
}

void sync_lockorder_set_fatal(bool fatal)
{
	sync_fatal = fatal;
}

uint64_t sync_lockorder_violations(void)
{
	return sync_violations;
}

void sync_lockorder_disable(void)
{
	__atomic_store_n(&sync_checking, false, __ATOMIC_RELAXED);
}

static void sync_violation(const char *what, const char *name, unsigned rank, const char *held,
                           unsigned held_rank)
{
	struct strand *cur = sched_current();

	__atomic_add_fetch(&sync_violations, 1, __ATOMIC_RELAXED);
	kprintf("lockorder: %s: acquiring %s (rank %u) while holding %s (rank %u), strand %s\n",
	        what, name, rank, held, held_rank, cur ? cur->name : "(boot)");
	if (sync_fatal)
		panic("lock order violation: %s after %s", name, held);
}

/* ---- spinlocks ---- */

void spin_init(struct spinlock *l, const char *name, unsigned rank)
{
	*l = (struct spinlock)SPINLOCK_INIT(name, rank);
}

/* Checker, before the lock is taken (interrupts off): order, recursion, note it held. */
void sync_track_acquire(struct spinlock *l)
{
	struct sync_cpu *c = sync_cpu();

	for (unsigned i = 0; i < c->nheld; i++) {
		if (c->held[i] == l)
			panic("spinlock %s: recursive acquisition (self-deadlock)", l->name);
		if (c->held[i]->rank >= l->rank)
			sync_violation("spinlock", l->name, l->rank, c->held[i]->name,
			               c->held[i]->rank);
	}
	if (c->nheld == SYNC_MAX_HELD)
		panic("spinlock %s: more than %d spinlocks held", l->name, SYNC_MAX_HELD);
	c->held[c->nheld++] = l;
}

void sync_track_release(struct spinlock *l)
{
	struct sync_cpu *c = sync_cpu();
	unsigned i = c->nheld;

	/* Usually the last one taken; the run-queue lock may be released out of order. */
	while (i > 0 && c->held[i - 1] != l)
		i--;
	if (i == 0)
		panic("spinlock %s: released but not held on this CPU", l->name);
	for (; i < c->nheld; i++)
		c->held[i - 1] = c->held[i];
	c->nheld--;
}

void spin_lock_wait(struct spinlock *l)
{
	do {
		while (__atomic_load_n(&l->locked, __ATOMIC_RELAXED))
			arch_cpu_relax();
	} while (arch_xchg32(&l->locked, 1));
}

bool spin_held(const struct spinlock *l)
{
	unsigned long f = arch_irq_save();
	bool held = l->locked != 0;

	/* Only the checker records holders (the fast path stores no owner). */
	if (held && sync_checking) {
		const struct sync_cpu *c = sync_cpu();
		unsigned i = 0;

		while (i < c->nheld && c->held[i] != l)
			i++;
		held = i < c->nheld;
	}
	arch_irq_restore(f);
	return held;
}

unsigned sync_spin_depth(void)
{
	unsigned long f = arch_irq_save();
	unsigned n = sync_cpu()->nheld;

	arch_irq_restore(f);
	return n;
}

void spin_lock_hook(void *lock)
{
	struct spinlock *l = lock;
	unsigned long f = spin_lock_irqsave(l);

	l->hook_flags = f;
}

void spin_unlock_hook(void *lock)
{
	struct spinlock *l = lock;

	spin_unlock_irqrestore(l, l->hook_flags);
}

/* ---- wait queues ---- */

void waitq_init(struct waitq *wq, const char *name)
{
	spin_init(&wq->lock, name, SYNC_RANK_OBJ);
	wq->head = wq->tail = 0;
	wq->waiters = 0;
	wq->dead = false;
}

static void waitq_push(struct waitq *wq, struct strand *s)
{
	s->next = 0;
	if (wq->tail)
		wq->tail->next = s;
	else
		wq->head = s;
	wq->tail = s;
	wq->waiters++;
}

static struct strand *waitq_pop(struct waitq *wq)
{
	struct strand *s = wq->head;

	if (s) {
		wq->head = s->next;
		if (!wq->head)
			wq->tail = 0;
		s->next = 0;
		wq->waiters--;
	}
	return s;
}

int waitq_wait_locked(struct waitq *wq, unsigned long flags)
{
	if (wq->dead) {
		spin_unlock_irqrestore(&wq->lock, flags);
		return -EIDRM;
	}
	waitq_push(wq, sched_current());
	sched_prepare_block();
	spin_unlock_irqrestore(&wq->lock, flags);
	return sched_block();
}

/* Wake up to n waiters with result; wq->lock held.  Returns how many. */
static unsigned waitq_wake_locked(struct waitq *wq, unsigned n, int result)
{
	unsigned woken = 0;
	struct strand *s;

	while (woken < n && (s = waitq_pop(wq)))
		if (sched_unblock(s, result))
			woken++;
	return woken;
}

/* Wake up to n waiters (dead or alive: a destroyed queue has none). */
static unsigned waitq_wake_n(struct waitq *wq, unsigned n)
{
	unsigned long f = spin_lock_irqsave(&wq->lock);
	unsigned woken = waitq_wake_locked(wq, n, 0);

	spin_unlock_irqrestore(&wq->lock, f);
	sched_preempt_check();
	return woken;
}

unsigned waitq_wake_one(struct waitq *wq)
{
	return waitq_wake_n(wq, 1);
}

unsigned waitq_wake_all(struct waitq *wq)
{
	return waitq_wake_n(wq, ~0u);
}

/* Take wq's lock if wq is live: 0 with the lock held (*f gets the saved
 * flags), or -EIDRM, lock not held, once it has been destroyed.  Every
 * object operation but a wait (which checks under the lock it already
 * holds, waitq_wait_locked) starts here. */
static inline __attribute__((always_inline)) int waitq_lock_live(struct waitq *wq, unsigned long *f)
{
	*f = spin_lock_irqsave(&wq->lock);
	if (wq->dead) {
		spin_unlock_irqrestore(&wq->lock, *f);
		return -EIDRM;
	}
	return 0;
}

/* Wake up to n waiters of a live wq: 0, or -EIDRM once it is destroyed.
 * unit, when not NULL, is a semaphore's count: a unit nobody was waiting
 * for is added to it, under the same lock, for the next sem_down. */
static inline __attribute__((always_inline)) int waitq_wake_live(struct waitq *wq, unsigned n,
                                                                 uint64_t *unit)
{
	unsigned long f;
	unsigned woken;
	int err = waitq_lock_live(wq, &f);

	if (err)
		return err;
	woken = waitq_wake_locked(wq, n, 0);
	if (!woken && unit)
		(*unit)++;
	spin_unlock_irqrestore(&wq->lock, f);
	if (woken)
		sched_preempt_check();
	return 0;
}

int waitq_destroy(struct waitq *wq)
{
	unsigned long f;

	if (!wq)
		return -EINVAL;
	if (waitq_lock_live(wq, &f))
		return -EIDRM;
	wq->dead = true;
	waitq_wake_locked(wq, ~0u, -EIDRM);
	spin_unlock_irqrestore(&wq->lock, f);
	sched_preempt_check();
	return 0;
}

/* ---- mutexes ---- */

void mutex_init_rank(struct mutex *m, const char *name, unsigned rank)
{
	waitq_init(&m->wq, name);
	m->owner = 0;
	m->held_next = 0;
	m->rank = (uint16_t)(rank >= 1 && rank < SYNC_RANK_OBJ ? rank : SYNC_RANK_MUTEX);
	m->name = name;
}

void mutex_init(struct mutex *m, const char *name)
{
	mutex_init_rank(m, name, SYNC_RANK_MUTEX);
}

/* Lock-order check before blocking on m: 0 or -EDEADLK. */
static int mutex_check_order(struct mutex *m, struct strand *cur)
{
	const struct spinlock *top = 0;
	unsigned long f;

	if (m->owner == cur)
		return -EDEADLK;
	if (!SYNC_DEBUG || !sync_checking)
		return 0;
	f = arch_irq_save();
	if (sync_cpu()->nheld)
		top = sync_cpu()->held[sync_cpu()->nheld - 1];
	arch_irq_restore(f);
	if (top) {
		sync_violation("mutex", m->name, m->rank, top->name, top->rank);
		return -EDEADLK;
	}
	for (struct mutex *h = cur->held_mutexes; h; h = h->held_next) {
		if (h == m)
			return -EDEADLK; /* recursive: an error, not an order problem */
		if (h->rank >= m->rank) {
			sync_violation("mutex", m->name, m->rank, h->name, h->rank);
			return -EDEADLK;
		}
	}
	return 0;
}

static void mutex_note_held(struct mutex *m, struct strand *s)
{
	m->held_next = s->held_mutexes;
	s->held_mutexes = m;
}

static void mutex_note_released(struct mutex *m, struct strand *s)
{
	for (struct mutex **p = &s->held_mutexes; *p; p = &(*p)->held_next) {
		if (*p == m) {
			*p = m->held_next;
			break;
		}
	}
	m->held_next = 0;
}

int mutex_lock(struct mutex *m)
{
	struct strand *cur = sched_current();
	unsigned long f;
	int err;

	if (!m)
		return -EINVAL;
	err = mutex_check_order(m, cur);
	if (err)
		return err;
	if (waitq_lock_live(&m->wq, &f))
		return -EIDRM;
	if (!m->owner) {
		m->owner = cur;
		mutex_note_held(m, cur);
		spin_unlock_irqrestore(&m->wq.lock, f);
		return 0;
	}
	/* Contended: mutex_unlock hands m over (owner = us) before waking us. */
	return waitq_wait_locked(&m->wq, f);
}

int mutex_trylock(struct mutex *m)
{
	struct strand *cur = sched_current();
	unsigned long f;
	int err = 0;

	if (!m)
		return -EINVAL;
	f = spin_lock_irqsave(&m->wq.lock);
	if (m->wq.dead)
		err = -EIDRM;
	else if (m->owner == cur)
		err = -EDEADLK;
	else if (m->owner)
		err = -EBUSY;
	else {
		m->owner = cur;
		mutex_note_held(m, cur);
	}
	spin_unlock_irqrestore(&m->wq.lock, f);
	return err;
}

int mutex_unlock(struct mutex *m)
{
	struct strand *cur = sched_current(), *next;
	unsigned long f;

	if (!m)
		return -EINVAL;
	f = spin_lock_irqsave(&m->wq.lock);
	if (m->wq.dead || m->owner != cur) {
		spin_unlock_irqrestore(&m->wq.lock, f);
		return m->wq.dead ? -EIDRM : -EPERM;
	}
	mutex_note_released(m, cur);
	m->owner = 0;
	while ((next = waitq_pop(&m->wq))) {
		m->owner = next;
		mutex_note_held(m, next);
		if (sched_unblock(next, 0))
			break;
		mutex_note_released(m, next);
		m->owner = 0;
	}
	spin_unlock_irqrestore(&m->wq.lock, f);
	if (next)
		sched_preempt_check();
	return 0;
}

bool mutex_held(const struct mutex *m)
{
	return m && m->owner == sched_current();
}

int mutex_destroy(struct mutex *m)
{
	unsigned long f;

	if (!m)
		return -EINVAL;
	if (waitq_lock_live(&m->wq, &f))
		return -EIDRM;
	if (m->owner)
		mutex_note_released(m, m->owner);
	m->owner = 0;
	m->wq.dead = true;
	waitq_wake_locked(&m->wq, ~0u, -EIDRM);
	spin_unlock_irqrestore(&m->wq.lock, f);
	sched_preempt_check();
	return 0;
}

/* ---- condition variables ---- */

void cond_init(struct cond *c, const char *name)
{
	waitq_init(&c->wq, name);
}

int cond_wait(struct cond *c, struct mutex *m)
{
	unsigned long f;
	int err, err2;

	if (!c || !m)
		return -EINVAL;
	if (m->owner != sched_current())
		return -EPERM;
	if (waitq_lock_live(&c->wq, &f))
		return -EIDRM;
	waitq_push(&c->wq, sched_current());
	sched_prepare_block(); /* no preemption until sched_block */
	spin_unlock_irqrestore(&c->wq.lock, f);
	mutex_unlock(m); /* a signal from here on cancels the block */
	err = sched_block();
	err2 = mutex_lock(m);
	return err ? err : err2;
}

int cond_signal(struct cond *c)
{
	return c ? waitq_wake_live(&c->wq, 1, NULL) : -EINVAL;
}

int cond_broadcast(struct cond *c)
{
	return c ? waitq_wake_live(&c->wq, ~0u, NULL) : -EINVAL;
}

int cond_destroy(struct cond *c)
{
	return c ? waitq_destroy(&c->wq) : -EINVAL;
}

/* ---- semaphores ---- */

void sem_init(struct sem *s, const char *name, uint64_t count)
{
	waitq_init(&s->wq, name);
	s->count = count;
}

int sem_down(struct sem *s)
{
	unsigned long f;

	if (!s)
		return -EINVAL;
	f = spin_lock_irqsave(&s->wq.lock);
	if (!s->wq.dead && s->count > 0) {
		s->count--;
		spin_unlock_irqrestore(&s->wq.lock, f);
		return 0;
	}
	/* sem_up hands its unit straight to us (the count is not raised). */
	return waitq_wait_locked(&s->wq, f);
}

int sem_trydown(struct sem *s)
{
	unsigned long f;
	int err = 0;

	if (!s)
		return -EINVAL;
	f = spin_lock_irqsave(&s->wq.lock);
	if (s->wq.dead)
		err = -EIDRM;
	else if (s->count == 0)
		err = -EAGAIN;
	else
		s->count--;
	spin_unlock_irqrestore(&s->wq.lock, f);
	return err;
}

int sem_up(struct sem *s)
{
	/* A woken waiter takes the unit directly (the count is not raised). */
	return s ? waitq_wake_live(&s->wq, 1, &s->count) : -EINVAL;
}

int sem_destroy(struct sem *s)
{
	return s ? waitq_destroy(&s->wq) : -EINVAL;
}
