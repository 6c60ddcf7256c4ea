/*
 * sync_test.c: spinlocks restore interrupt state, mutex/condvar
 * producer-consumer, ping-pong, mutex hand-off order, semaphores, the
 * lock-order checker, and waiting on destroyed objects (an error, no hang).
 */
#include <arch/cpu.h>

#include "kernel/ktest.h"
#include "kernel/sched.h"
#include "kernel/strand.h"
#include "kernel/sync.h"

KTEST(sync_spinlock_irq_state)
{
	struct spinlock a, b;
	unsigned long fa, fb;

	spin_init(&a, "test-a", SYNC_RANK_TEST);
	spin_init(&b, "test-b", SYNC_RANK_TEST + 1);
	KT_ASSERT(arch_irq_enabled());
	fa = spin_lock_irqsave(&a);
	KT_ASSERT(!arch_irq_enabled());
	KT_ASSERT(spin_held(&a));
	fb = spin_lock_irqsave(&b);
	spin_unlock_irqrestore(&b, fb);
	KT_ASSERT(!arch_irq_enabled()); /* inner restore keeps them off */
	spin_unlock_irqrestore(&a, fa);
	KT_ASSERT(arch_irq_enabled());
	KT_ASSERT(!spin_held(&a));
}

/* ---- producer / consumer ---- */

#define PC_SLOTS 4
#define PC_ITEMS 500

struct pc {
	struct mutex m;
	struct cond not_full, not_empty;
	int buf[PC_SLOTS];
	int head, count, produced_done;
	uint64_t sum;
	int consumed;
};

static void pc_producer(void *p)
{
	struct pc *pc = p;

	for (int i = 1; i <= PC_ITEMS; i++) {
		mutex_lock(&pc->m);
		while (pc->count == PC_SLOTS)
			cond_wait(&pc->not_full, &pc->m);
		pc->buf[(pc->head + pc->count++) % PC_SLOTS] = i;
		cond_signal(&pc->not_empty);
		mutex_unlock(&pc->m);
		if (i % 64 == 0)
			sched_yield();
	}
	mutex_lock(&pc->m);
	pc->produced_done++;
	cond_broadcast(&pc->not_empty);
	mutex_unlock(&pc->m);
}

static void pc_consumer(void *p)
{
	struct pc *pc = p;

	mutex_lock(&pc->m);
	for (;;) {
		while (pc->count == 0 && pc->produced_done < 2)
			cond_wait(&pc->not_empty, &pc->m);
		if (pc->count == 0)
			break;
		pc->sum += pc->buf[pc->head];
		pc->head = (pc->head + 1) % PC_SLOTS;
		pc->count--;
		pc->consumed++;
		cond_signal(&pc->not_full);
	}
	mutex_unlock(&pc->m);
}

KTEST(sync_producer_consumer)
{
	static struct pc pc;
	strand_t h[4];

	pc = (struct pc){.head = 0};
	mutex_init(&pc.m, "pc");
	cond_init(&pc.not_full, "pc-not-full");
	cond_init(&pc.not_empty, "pc-not-empty");
	KT_ASSERT_EQ(strand_create(pc_producer, &pc, SCHED_PRIO_DEFAULT, "prod1", &h[0]), 0);
	KT_ASSERT_EQ(strand_create(pc_producer, &pc, SCHED_PRIO_DEFAULT, "prod2", &h[1]), 0);
	KT_ASSERT_EQ(strand_create(pc_consumer, &pc, SCHED_PRIO_DEFAULT, "cons1", &h[2]), 0);
	KT_ASSERT_EQ(strand_create(pc_consumer, &pc, SCHED_PRIO_DEFAULT - 1, "cons2", &h[3]), 0);
	for (int i = 0; i < 4; i++)
		KT_ASSERT_EQ(strand_join(h[i], 0), 0);
	KT_ASSERT_EQ(pc.consumed, 2 * PC_ITEMS);
	KT_ASSERT_EQ(pc.sum, 2ull * PC_ITEMS * (PC_ITEMS + 1) / 2);
	KT_ASSERT_EQ(mutex_destroy(&pc.m), 0);
	KT_ASSERT_EQ(cond_destroy(&pc.not_full), 0);
	KT_ASSERT_EQ(cond_destroy(&pc.not_empty), 0);
}

/* ---- ping-pong ---- */

struct pp {
	struct mutex m;
	struct cond c[2];
	int turn, rounds;
	int seen[2];
};

static void pp_side(void *p)
{
	struct pp *pp = p;
	int me = pp->seen[1] ? 1 : 0; /* the partner was created second */

	(void)me;
	mutex_lock(&pp->m);
	for (int i = 0; i < pp->rounds; i++) {
		while (pp->turn != 1)
			cond_wait(&pp->c[1], &pp->m);
		pp->seen[1]++;
		pp->turn = 0;
		cond_signal(&pp->c[0]);
	}
	mutex_unlock(&pp->m);
}

KTEST(sync_ping_pong)
{
	static struct pp pp;
	strand_t h;

	pp = (struct pp){.rounds = 1000};
	mutex_init(&pp.m, "pp");
	cond_init(&pp.c[0], "ping");
	cond_init(&pp.c[1], "pong");
	KT_ASSERT_EQ(strand_create(pp_side, &pp, SCHED_PRIO_DEFAULT, "pong", &h), 0);
	KT_ASSERT_EQ(mutex_lock(&pp.m), 0);
	for (int i = 0; i < pp.rounds; i++) {
		pp.turn = 1;
		cond_signal(&pp.c[1]);
		while (pp.turn != 0)
			KT_ASSERT_EQ(cond_wait(&pp.c[0], &pp.m), 0);
		pp.seen[0]++;
	}
	KT_ASSERT_EQ(mutex_unlock(&pp.m), 0);
	KT_ASSERT_EQ(strand_join(h, 0), 0);
	KT_ASSERT_EQ(pp.seen[0], 1000);
	KT_ASSERT_EQ(pp.seen[1], 1000);
}

/* ---- mutex semantics ---- */

struct mx {
	struct mutex m;
	int result;
	char order[8];
	volatile int n;
};

static void mx_locker(void *p)
{
	struct mx *x = p;

	x->result = mutex_lock(&x->m);
	if (x->result == 0) {
		x->order[x->n++] = 'w';
		mutex_unlock(&x->m);
	}
}

KTEST(sync_mutex_handoff_and_errors)
{
	static struct mx x;
	strand_t h;

	x = (struct mx){.n = 0};
	mutex_init(&x.m, "mx");
	KT_ASSERT_EQ(mutex_unlock(&x.m), -EPERM); /* not the owner */
	KT_ASSERT_EQ(mutex_lock(&x.m), 0);
	KT_ASSERT(mutex_held(&x.m));
	KT_ASSERT_EQ(mutex_lock(&x.m), -EDEADLK); /* recursive */
	KT_ASSERT_EQ(mutex_trylock(&x.m), -EDEADLK);
	/* A higher-priority waiter blocks on it, and gets it the moment we let go. */
	KT_ASSERT_EQ(strand_create(mx_locker, &x, SCHED_PRIO_MAX, "waiter", &h), 0);
	KT_ASSERT_EQ(x.n, 0);
	KT_ASSERT_EQ(x.m.wq.waiters, 1);
	x.order[x.n++] = 'o';
	KT_ASSERT_EQ(mutex_unlock(&x.m), 0);
	KT_ASSERT_EQ(x.n, 2); /* it ran already */
	KT_ASSERT_EQ(x.order[1], 'w');
	KT_ASSERT_EQ(strand_join(h, 0), 0);
	KT_ASSERT_EQ(x.result, 0);
	KT_ASSERT_EQ(mutex_trylock(&x.m), 0);
	KT_ASSERT_EQ(mutex_unlock(&x.m), 0);
	KT_ASSERT_EQ(mutex_destroy(&x.m), 0);
}

/* ---- destroyed objects ---- */

KTEST(sync_destroy_wakes_waiters_with_error)
{
	static struct mx x;
	static struct cond c;
	strand_t h;

	x = (struct mx){.n = 0};
	mutex_init(&x.m, "doomed");
	KT_ASSERT_EQ(mutex_lock(&x.m), 0);
	KT_ASSERT_EQ(strand_create(mx_locker, &x, SCHED_PRIO_MAX, "victim", &h), 0);
	KT_ASSERT_EQ(x.m.wq.waiters, 1); /* blocked on it */
	KT_ASSERT_EQ(mutex_destroy(&x.m), 0);
	KT_ASSERT_EQ(strand_join(h, 0), 0);
	KT_ASSERT_EQ(x.result, -EIDRM);
	KT_ASSERT_EQ(mutex_lock(&x.m), -EIDRM); /* later waits fail at once */
	KT_ASSERT_EQ(mutex_unlock(&x.m), -EIDRM);
	KT_ASSERT_EQ(mutex_destroy(&x.m), -EIDRM);

	mutex_init(&x.m, "cv-mutex");
	cond_init(&c, "doomed-cv");
	KT_ASSERT_EQ(cond_destroy(&c), 0);
	KT_ASSERT_EQ(mutex_lock(&x.m), 0);
	KT_ASSERT_EQ(cond_wait(&c, &x.m), -EIDRM);
	KT_ASSERT(mutex_held(&x.m));
	KT_ASSERT_EQ(cond_signal(&c), -EIDRM);
	KT_ASSERT_EQ(mutex_unlock(&x.m), 0);
	KT_ASSERT_EQ(cond_wait(&c, &x.m), -EPERM); /* mutex not held */
}

struct cw {
	struct mutex m;
	struct cond c;
	int result;
};

static void cw_waiter(void *p)
{
	struct cw *w = p;

	mutex_lock(&w->m);
	w->result = cond_wait(&w->c, &w->m);
	mutex_unlock(&w->m);
}

KTEST(sync_cond_destroy_wakes_waiter)
{
	static struct cw w;
	strand_t h;

	mutex_init(&w.m, "cw");
	cond_init(&w.c, "cw-cond");
	w.result = 1;
	KT_ASSERT_EQ(strand_create(cw_waiter, &w, SCHED_PRIO_MAX, "cw", &h), 0);
	KT_ASSERT_EQ(w.c.wq.waiters, 1);
	KT_ASSERT_EQ(cond_destroy(&w.c), 0);
	KT_ASSERT_EQ(strand_join(h, 0), 0);
	KT_ASSERT_EQ(w.result, -EIDRM);
}

/* ---- semaphores ---- */

struct sm {
	struct sem s;
	volatile int got;
	int result;
};

static void sm_down(void *p)
{
	struct sm *x = p;

	x->result = sem_down(&x->s);
	if (x->result == 0)
		x->got++;
}

KTEST(sync_semaphore)
{
	static struct sm x;
	strand_t h[2];

	struct strand_attr a = {.name = "sem", .prio = SCHED_PRIO_MAX};
	unsigned cpu = (unsigned)sched_strand_cpu(strand_current());

	/* All on this CPU, so the woken waiter has run when sem_up returns
	 * (on SMP it could otherwise be woken on an idle CPU and lag). */
	x = (struct sm){.got = 0};
	sem_init(&x.s, "sem", 1);
	KT_ASSERT_EQ(sem_trydown(&x.s), 0);
	KT_ASSERT_EQ(sem_trydown(&x.s), -EAGAIN);
	KT_ASSERT_EQ(sched_pin_current((int)cpu), 0);
	KT_ASSERT_EQ(strand_create_pinned(&a, cpu, sm_down, &x, &h[0]), 0);
	KT_ASSERT_EQ(strand_create_pinned(&a, cpu, sm_down, &x, &h[1]), 0);
	KT_ASSERT_EQ(x.got, 0);
	KT_ASSERT_EQ(sem_up(&x.s), 0);
	KT_ASSERT_EQ(x.got, 1);
	sched_pin_current(-1);
	KT_ASSERT_EQ(sem_destroy(&x.s), 0); /* the other one errors out */
	KT_ASSERT_EQ(strand_join(h[0], 0), 0);
	KT_ASSERT_EQ(strand_join(h[1], 0), 0);
	KT_ASSERT_EQ(x.result, -EIDRM);
	KT_ASSERT_EQ(sem_down(&x.s), -EIDRM);
}

/* ---- lock order ---- */

KTEST(sync_lock_order_violation_reported)
{
	struct spinlock lo, hi;
	struct mutex m_lo, m_hi;
	uint64_t v0 = sync_lockorder_violations();
	unsigned long f1, f2;

	spin_init(&lo, "order-low", SYNC_RANK_TEST);
	spin_init(&hi, "order-high", SYNC_RANK_TEST + 5);
	mutex_init_rank(&m_lo, "order-mutex-low", 10);
	mutex_init_rank(&m_hi, "order-mutex-high", 20);
	sync_lockorder_set_fatal(false);

	f1 = spin_lock_irqsave(&lo); /* right order: no report */
	f2 = spin_lock_irqsave(&hi);
	spin_unlock_irqrestore(&hi, f2);
	spin_unlock_irqrestore(&lo, f1);
	bool clean = sync_lockorder_violations() == v0;

	f1 = spin_lock_irqsave(&hi); /* wrong order: reported */
	f2 = spin_lock_irqsave(&lo);
	spin_unlock_irqrestore(&lo, f2);
	spin_unlock_irqrestore(&hi, f1);
	uint64_t after_spin = sync_lockorder_violations();

	int e1 = mutex_lock(&m_hi);
	int e2 = mutex_lock(&m_lo); /* wrong order: refused */
	mutex_unlock(&m_hi);
	int e3 = mutex_lock(&m_lo);
	int e4 = mutex_lock(&m_hi); /* right order */
	mutex_unlock(&m_hi);
	mutex_unlock(&m_lo);

	f1 = spin_lock_irqsave(&lo); /* sleeping lock under a spinlock: refused */
	int e5 = mutex_lock(&m_lo);
	spin_unlock_irqrestore(&lo, f1);
	sync_lockorder_set_fatal(true);

	KT_ASSERT(clean);
	KT_ASSERT_EQ(after_spin, v0 + 1);
	KT_ASSERT_EQ(e1, 0);
	KT_ASSERT_EQ(e2, -EDEADLK);
	KT_ASSERT_EQ(e3, 0);
	KT_ASSERT_EQ(e4, 0);
	KT_ASSERT_EQ(e5, -EDEADLK);
	KT_ASSERT_EQ(sync_lockorder_violations(), v0 + 3);
}
