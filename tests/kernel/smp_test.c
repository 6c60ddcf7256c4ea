/*
 * smp_test.c: several CPUs - strands really run at the same time, pinning
 * and migration, IPI round trip, smp_call_all on every CPU, a mutex and a
 * spinlock contended from both CPUs guarding a plain counter, ping-pong
 * across CPUs, an idle CPU pulling work.  With one CPU online each case
 * checks what still applies (smp_call_all, pinning to CPU 0, the counters)
 * and skips the cross-CPU part.  Every wait has a deadline: a broken IPI
 * fails the case, it never hangs the run.
 */
#include <arch/cpu.h>
#include <arch/percpu.h>
#include <arch/smp.h>
#include <arch/switch.h>

#include "kernel/clock.h"
#include "kernel/ktest.h"
#include "kernel/sched.h"
#include "kernel/strand.h"
#include "kernel/sync.h"

#define MS 1000000ull

static int smp_create_on(unsigned cpu, strand_entry_fn fn, void *arg, int prio, const char *name,
                         strand_t *h)
{
	struct strand_attr a = {.name = name, .prio = prio};

	return strand_create_pinned(&a, cpu, fn, arg, h);
}

static unsigned smp_here(void)
{
	unsigned long f = arch_irq_save();
	unsigned c = cpu_id();

	arch_irq_restore(f);
	return c;
}

/* ---- concurrency: both counters move while neither strand can be switched ---- */

#define SMP_MOVES 20

struct smp_spin {
	volatile uint64_t count;
	volatile uint64_t *other;
	volatile uint64_t saw_other_move;
	volatile uint64_t *other_saw;
	uint64_t deadline;
	unsigned cpu;
};

static void smp_spinner(void *p)
{
	struct smp_spin *s = p;
	uint64_t last;

	sched_preempt_disable(); /* from here on this strand cannot leave its CPU */
	s->cpu = cpu_id();
	last = *s->other;
	/* Until both saw the other move SMP_MOVES times (each keeps counting for
	 * the other).  With preemption off the other counter can only move on
	 * another CPU, so a handful of moves proves concurrency; more would only
	 * measure how often TCG switches vCPUs on a busy host. */
	while ((s->saw_other_move < SMP_MOVES || *s->other_saw < SMP_MOVES) &&
	       clock_ns() < s->deadline) {
		s->count++;
		if (*s->other != last) {
			last = *s->other;
			s->saw_other_move++;
		}
	}
	sched_preempt_enable();
}

KTEST(smp_cpus_run_strands_concurrently)
{
	struct smp_spin a = {0}, b = {0};
	strand_t ha, hb;

	if (percpu_count() < 2)
		return;
	a.other = &b.count;
	b.other = &a.count;
	a.other_saw = &b.saw_other_move;
	b.other_saw = &a.saw_other_move;
	a.deadline = b.deadline = clock_ns() + 3000 * MS;
	KT_ASSERT_EQ(smp_create_on(0, smp_spinner, &a, SCHED_PRIO_DEFAULT, "conc-0", &ha), 0);
	KT_ASSERT_EQ(smp_create_on(1, smp_spinner, &b, SCHED_PRIO_DEFAULT, "conc-1", &hb), 0);
	KT_ASSERT_EQ(strand_join(ha, 0), 0);
	KT_ASSERT_EQ(strand_join(hb, 0), 0);
	KT_ASSERT_EQ(a.cpu, 0);
	KT_ASSERT_EQ(b.cpu, 1);
	/* With preemption off, the other counter can only move on another CPU. */
	if (a.saw_other_move < SMP_MOVES || b.saw_other_move < SMP_MOVES)
		KT_FAIL("counters moved %lu / %lu times under each other, want %d",
		        (unsigned long)a.saw_other_move, (unsigned long)b.saw_other_move,
		        SMP_MOVES);
}

/* ---- pinning and migration ---- */

static void smp_where(void *p)
{
	*(volatile unsigned *)p = smp_here();
}

KTEST(smp_pin_and_migrate)
{
	unsigned n = percpu_count(), where = 99;
	strand_t h;

	KT_ASSERT_EQ(sched_pin_current((int)n), -EINVAL);
	for (unsigned c = 0; c < n; c++) {
		KT_ASSERT_EQ(sched_pin_current((int)c), 0);
		KT_ASSERT_EQ(smp_here(), c);
		KT_ASSERT_EQ(sched_strand_cpu(strand_current()), (int)c);
		KT_ASSERT_EQ(
		    smp_create_on(c, smp_where, (void *)&where, SCHED_PRIO_MIN, "where", &h), 0);
		KT_ASSERT_EQ(strand_join(h, 0), 0);
		KT_ASSERT_EQ(where, c);
	}
	KT_ASSERT_EQ(sched_pin_current(0), 0);
	KT_ASSERT_EQ(smp_here(), 0);
	KT_ASSERT_EQ(sched_pin_current(-1), 0);
	{
		struct strand_attr a = {.name = "bad", .prio = SCHED_PRIO_MIN};

		KT_ASSERT_EQ(strand_create_pinned(&a, n, smp_where, (void *)&where, &h), -EINVAL);
	}
}

/* ---- IPIs ---- */

KTEST(smp_ipi_round_trip)
{
	unsigned other;
	uint64_t before, t0;

	if (percpu_count() < 2)
		return;
	KT_ASSERT_EQ(sched_pin_current(0), 0);
	other = 1;
	before = smp_ipi_count(other, SMP_IPI_RESCHED);
	t0 = clock_ns();
	smp_send_resched(other);
	while (smp_ipi_count(other, SMP_IPI_RESCHED) == before && clock_ns() - t0 < 1000 * MS)
		arch_cpu_relax();
	KT_ASSERT(smp_ipi_count(other, SMP_IPI_RESCHED) > before);
	KT_ASSERT_EQ(sched_pin_current(-1), 0);
}

static void smp_mark(void *p)
{
	__atomic_or_fetch((volatile uint32_t *)p, 1u << cpu_id(), __ATOMIC_RELAXED);
}

KTEST(smp_call_all_runs_on_every_cpu)
{
	volatile uint32_t mask = 0;
	unsigned n = percpu_count();

	KT_ASSERT_EQ(smp_call_all(0, 0), -EINVAL);
	for (int round = 0; round < 20; round++) {
		mask = 0;
		KT_ASSERT_EQ(smp_call_all(smp_mark, (void *)&mask), 0);
		/* smp_call_all returns only once every CPU ran it. */
		KT_ASSERT_EQ(mask, (1u << n) - 1);
	}
}

/* ---- contention ---- */

#define SMP_ITERS 3000

struct smp_shared {
	struct mutex m;
	struct spinlock sl;
	volatile uint64_t by_mutex, by_spin;
	unsigned cpus_seen;
};

static void smp_incrementer(void *p)
{
	struct smp_shared *sh = p;

	__atomic_or_fetch(&sh->cpus_seen, 1u << smp_here(), __ATOMIC_RELAXED);
	for (int i = 0; i < SMP_ITERS; i++) {
		unsigned long f;
		uint64_t v;

		mutex_lock(&sh->m);
		v = sh->by_mutex; /* a plain read-modify-write, widened on purpose */
		arch_cpu_relax();
		sh->by_mutex = v + 1;
		mutex_unlock(&sh->m);

		f = spin_lock_irqsave(&sh->sl);
		v = sh->by_spin;
		arch_cpu_relax();
		sh->by_spin = v + 1;
		spin_unlock_irqrestore(&sh->sl, f);
	}
}

KTEST(smp_mutex_and_spinlock_contention_exact_total)
{
	static struct smp_shared sh;
	unsigned n = percpu_count();
	strand_t h[4];

	mutex_init(&sh.m, "smp-counter");
	spin_init(&sh.sl, "smp-counter", SYNC_RANK_TEST);
	sh.by_mutex = sh.by_spin = 0;
	sh.cpus_seen = 0;
	for (unsigned i = 0; i < 4; i++)
		KT_ASSERT_EQ(
		    smp_create_on(i % n, smp_incrementer, &sh, SCHED_PRIO_DEFAULT, "inc", &h[i]),
		    0);
	for (unsigned i = 0; i < 4; i++)
		KT_ASSERT_EQ(strand_join(h[i], 0), 0);
	KT_ASSERT_EQ(sh.by_mutex, 4ull * SMP_ITERS);
	KT_ASSERT_EQ(sh.by_spin, 4ull * SMP_ITERS);
	KT_ASSERT_EQ(sh.cpus_seen, n >= 2 ? 3u : 1u);
	KT_ASSERT_EQ(mutex_destroy(&sh.m), 0);
}

/* ---- ping-pong across CPUs ---- */

#define SMP_ROUNDS 500

struct smp_pp {
	struct sem ping, pong;
	volatile int rounds[2];
	unsigned cpu[2];
};

static void smp_pinger(void *p)
{
	struct smp_pp *pp = p;

	pp->cpu[0] = smp_here();
	for (int i = 0; i < SMP_ROUNDS; i++) {
		sem_up(&pp->ping);
		sem_down(&pp->pong);
		pp->rounds[0]++;
	}
}

static void smp_ponger(void *p)
{
	struct smp_pp *pp = p;

	pp->cpu[1] = smp_here();
	for (int i = 0; i < SMP_ROUNDS; i++) {
		sem_down(&pp->ping);
		pp->rounds[1]++;
		sem_up(&pp->pong);
	}
}

KTEST(smp_ping_pong_across_cpus)
{
	static struct smp_pp pp;
	unsigned n = percpu_count();
	strand_t a, b;

	sem_init(&pp.ping, "smp-ping", 0);
	sem_init(&pp.pong, "smp-pong", 0);
	pp.rounds[0] = pp.rounds[1] = 0;
	KT_ASSERT_EQ(smp_create_on(0, smp_pinger, &pp, SCHED_PRIO_DEFAULT, "pinger", &a), 0);
	KT_ASSERT_EQ(smp_create_on(n - 1, smp_ponger, &pp, SCHED_PRIO_DEFAULT, "ponger", &b), 0);
	KT_ASSERT_EQ(strand_join(a, 0), 0);
	KT_ASSERT_EQ(strand_join(b, 0), 0);
	KT_ASSERT_EQ(pp.rounds[0], SMP_ROUNDS);
	KT_ASSERT_EQ(pp.rounds[1], SMP_ROUNDS);
	KT_ASSERT_EQ(pp.cpu[0], 0);
	KT_ASSERT_EQ(pp.cpu[1], n - 1);
	sem_destroy(&pp.ping);
	sem_destroy(&pp.pong);
}

/* ---- balancing: unpinned CPU-bound strands spread over the CPUs ---- */

struct smp_bal {
	volatile bool stop;
	volatile uint32_t cpus;
	uint64_t deadline;
};

static void smp_busy(void *p)
{
	struct smp_bal *b = p;

	while (!b->stop && clock_ns() < b->deadline) {
		unsigned long f = arch_irq_save();

		b->cpus |= 1u << cpu_id();
		arch_irq_restore(f);
	}
}

KTEST(smp_idle_cpu_takes_work)
{
	struct smp_bal b = {.stop = false, .cpus = 0};
	unsigned n = percpu_count();
	strand_t h[4];

	b.deadline = clock_ns() + 3000 * MS;
	KT_ASSERT_EQ(sched_pin_current(0), 0);
	for (int i = 0; i < 4; i++)
		KT_ASSERT_EQ(strand_create(smp_busy, &b, SCHED_PRIO_DEFAULT - 1, "busy", &h[i]), 0);
	/* Until every CPU ran one of them (3 s at most, the deadline). */
	for (int i = 0; i < 600 && b.cpus != (1u << n) - 1; i++)
		KT_ASSERT_EQ(sched_sleep_ns(5 * MS), 0);
	b.stop = true;
	for (int i = 0; i < 4; i++)
		KT_ASSERT_EQ(strand_join(h[i], 0), 0);
	KT_ASSERT_EQ(sched_pin_current(-1), 0);
	KT_ASSERT_EQ(b.cpus, (1u << n) - 1);
}
