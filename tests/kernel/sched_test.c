/*
 * sched_test.c: the global scheduler - highest priority first, immediate
 * preemption by a higher-priority strand, round-robin with timer
 * preemption between CPU-bound strands, yield, timed sleep.  Timing checks
 * are lower bounds and orderings only (TCG on a shared host is noisy).
 * These are one-CPU properties: with several CPUs each case pins itself and
 * the strands it makes to the CPU it runs on (sc_here/sc_create), so they
 * hold on any number of CPUs.  SMP behaviour is tests/kernel/smp_test.c's.
 */
#include <arch/cpu.h>

#include "kernel/clock.h"
#include "kernel/ktest.h"
#include "kernel/sched.h"
#include "kernel/strand.h"

#define MS 1000000ull

struct sc_log {
	char buf[16];
	volatile int n;
};

struct sc_arg {
	struct sc_log *log;
	char tag;
	uint64_t sleep_ns;
};

static void sc_log_put(struct sc_log *l, char c)
{
	unsigned long f = arch_irq_enabled();

	arch_irq_disable();
	if (l->n < (int)sizeof(l->buf) - 1)
		l->buf[l->n++] = c;
	if (f)
		arch_irq_enable();
}

static void sc_tag(void *p)
{
	struct sc_arg *a = p;

	if (a->sleep_ns)
		sched_sleep_ns(a->sleep_ns);
	sc_log_put(a->log, a->tag);
}

/* Pin the running test to its CPU (undone by sc_anywhere). */
static int sc_here(void)
{
	return sched_pin_current(sched_strand_cpu(strand_current()));
}

static void sc_anywhere(void)
{
	sched_pin_current(-1);
}

/* A strand on the test's own CPU. */
static int sc_create(strand_entry_fn fn, void *arg, int prio, const char *name, strand_t *h)
{
	struct strand_attr a = {.name = name, .prio = prio};

	return strand_create_pinned(&a, (unsigned)sched_strand_cpu(strand_current()), fn, arg, h);
}

static bool sc_log_is(struct sc_log *l, const char *want)
{
	int i = 0;

	for (; want[i]; i++)
		if (i >= l->n || l->buf[i] != want[i])
			return false;
	return i == l->n;
}

KTEST(sched_priority_order)
{
	struct sc_log log = {.n = 0};
	struct sc_arg lo = {&log, 'L', 0}, mid = {&log, 'M', 0}, hi = {&log, 'H', 0};
	strand_t h[3];

	KT_ASSERT_EQ(sc_here(), 0);
	/* All below us: nothing runs until we block; then highest first. */
	KT_ASSERT_EQ(sc_create(sc_tag, &lo, SCHED_PRIO_MIN, "lo", &h[0]), 0);
	KT_ASSERT_EQ(sc_create(sc_tag, &mid, SCHED_PRIO_DEFAULT - 2, "mid", &h[1]), 0);
	KT_ASSERT_EQ(sc_create(sc_tag, &hi, SCHED_PRIO_DEFAULT - 1, "hi", &h[2]), 0);
	KT_ASSERT_EQ(log.n, 0);
	KT_ASSERT_EQ(strand_join(h[0], 0), 0);
	KT_ASSERT_EQ(strand_join(h[1], 0), 0);
	KT_ASSERT_EQ(strand_join(h[2], 0), 0);
	if (!sc_log_is(&log, "HML"))
		KT_FAIL("ran in order %.*s, want HML", log.n, log.buf);
	sc_anywhere();
}

KTEST(sched_higher_priority_preempts_creator)
{
	struct sc_log log = {.n = 0};
	struct sc_arg top = {&log, 'T', 0};
	strand_t h;

	KT_ASSERT_EQ(sc_here(), 0);
	KT_ASSERT_EQ(sc_create(sc_tag, &top, SCHED_PRIO_MAX, "top", &h), 0);
	/* It outranks us, so it ran before strand_create returned. */
	KT_ASSERT_EQ(log.n, 1);
	sc_log_put(&log, 'm');
	KT_ASSERT_EQ(strand_join(h, 0), 0);
	KT_ASSERT(sc_log_is(&log, "Tm"));
	sc_anywhere();
}

KTEST(sched_yield_round_robin)
{
	struct sc_log log = {.n = 0};
	struct sc_arg a = {&log, 'a', 0};
	strand_t h;

	KT_ASSERT_EQ(sc_here(), 0);
	KT_ASSERT_EQ(sc_create(sc_tag, &a, SCHED_PRIO_DEFAULT, "peer", &h), 0);
	KT_ASSERT_EQ(log.n, 0); /* same priority: waits its turn */
	sched_yield();
	KT_ASSERT_EQ(log.n, 1); /* yield let it run */
	KT_ASSERT_EQ(strand_join(h, 0), 0);
	sc_anywhere();
}

/* ---- fairness under timer preemption ---- */

struct sc_spin {
	volatile uint64_t count;
	volatile uint64_t *other;
	volatile uint64_t saw_other_move; /* the other counter changed under us */
	volatile bool *stop;
	uint64_t deadline;
};

static void sc_spinner(void *p)
{
	struct sc_spin *s = p;
	uint64_t last = *s->other;

	while (!*s->stop && clock_ns() < s->deadline) {
		s->count++;
		if (*s->other != last) {
			last = *s->other;
			s->saw_other_move++;
		}
	}
}

KTEST(sched_preemption_is_fair)
{
	volatile bool stop = false;
	struct sc_spin a = {0}, b = {0};
	struct sched_stats st0, st1;
	strand_t ha, hb;

	KT_ASSERT_EQ(sc_here(), 0);
	a.other = &b.count;
	b.other = &a.count;
	a.stop = b.stop = &stop;
	a.deadline = b.deadline = clock_ns() + 3000 * MS; /* never hang */
	sched_get_stats(&st0);
	/* Both below us, both CPU-bound: only the timer can alternate them. */
	KT_ASSERT_EQ(sc_create(sc_spinner, &a, SCHED_PRIO_DEFAULT - 1, "spin-a", &ha), 0);
	KT_ASSERT_EQ(sc_create(sc_spinner, &b, SCHED_PRIO_DEFAULT - 1, "spin-b", &hb), 0);
	/* Until each has seen the other move and the timer preempted one
	 * (two quanta, about 40 ms, when the host is idle); 3 s at most. */
	for (int i = 0; i < 300; i++) {
		sched_get_stats(&st1);
		if (a.saw_other_move > 0 && b.saw_other_move > 0 &&
		    st1.preemptions > st0.preemptions)
			break;
		KT_ASSERT_EQ(sched_sleep_ns(10 * MS), 0);
	}
	stop = true;
	KT_ASSERT_EQ(strand_join(ha, 0), 0);
	KT_ASSERT_EQ(strand_join(hb, 0), 0);
	sched_get_stats(&st1);
	KT_ASSERT(a.count > 0 && b.count > 0);
	/* Each was switched out at least once while the other ran. */
	KT_ASSERT(a.saw_other_move > 0 && b.saw_other_move > 0);
	KT_ASSERT(st1.preemptions > st0.preemptions);
	sc_anywhere();
}

/* ---- sleep ---- */

KTEST(sched_sleep_lower_bound)
{
	uint64_t t0 = clock_ns();

	KT_ASSERT_EQ(sched_sleep_ns(5 * MS), 0);
	if (clock_ns() - t0 < 5 * MS)
		KT_FAIL("woke after %lu ns, before 5 ms", (unsigned long)(clock_ns() - t0));
	KT_ASSERT_EQ(sched_sleep_ns(0), 0);
}

KTEST(sched_sleep_wake_order)
{
	struct sc_log log = {.n = 0};
	/* One tick apart; the sleep queue is sorted, so the order holds even
	 * if two deadlines expire in the same tick. */
	struct sc_arg a = {&log, '3', 30 * MS}, b = {&log, '1', 10 * MS}, c = {&log, '2', 20 * MS};
	strand_t h[3];

	KT_ASSERT_EQ(sc_here(), 0);
	KT_ASSERT_EQ(sc_create(sc_tag, &a, SCHED_PRIO_DEFAULT + 1, "z60", &h[0]), 0);
	KT_ASSERT_EQ(sc_create(sc_tag, &b, SCHED_PRIO_DEFAULT + 1, "z20", &h[1]), 0);
	KT_ASSERT_EQ(sc_create(sc_tag, &c, SCHED_PRIO_DEFAULT + 1, "z40", &h[2]), 0);
	for (int i = 0; i < 3; i++)
		KT_ASSERT_EQ(strand_join(h[i], 0), 0);
	if (!sc_log_is(&log, "123"))
		KT_FAIL("woke in order %.*s, want 123", log.n, log.buf);
	sc_anywhere();
}

KTEST(sched_set_priority)
{
	struct sc_log log = {.n = 0};
	struct sc_arg a = {&log, 'a', 0};
	strand_t h;

	KT_ASSERT_EQ(sc_here(), 0);
	KT_ASSERT_EQ(sc_create(sc_tag, &a, SCHED_PRIO_MIN, "raise-me", &h), 0);
	KT_ASSERT_EQ(log.n, 0);
	KT_ASSERT_EQ(strand_set_priority(h, SCHED_PRIO_MAX), 0); /* now it outranks us */
	KT_ASSERT_EQ(log.n, 1);
	KT_ASSERT_EQ(strand_set_priority(h, SCHED_PRIO_MAX + 1), -ESRCH);
	KT_ASSERT_EQ(strand_join(h, 0), 0);
	KT_ASSERT_EQ(strand_set_priority(h, SCHED_PRIO_MIN), -ESRCH);
	sc_anywhere();
}
