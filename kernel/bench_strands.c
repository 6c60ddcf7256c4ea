/*
 * bench_strands.c: SPIN Table 3 in the kernel - strand fork-join and
 * ping-pong (ids forkjoin_kernel and pingpong_kernel of
 * bench/benchmarks.def).
 *
 * forkjoin_kernel: one sample is strand_create() of an empty strand at the
 * creator's priority plus strand_join() of it: create, schedule (the join
 * blocks and the new strand runs), terminate, and synchronise with its end.
 *
 * pingpong_kernel: two strands share a mutex and two condition variables,
 * as SPIN's kernel figure used locks with condition variables.  One sample
 * is a round trip: the first signals the second and blocks, the second
 * signals back and blocks.
 */
#include <arch/cpu.h>

#include "kernel/bench.h"
#include "kernel/heap.h"
#include "kernel/kprintf.h"
#include "kernel/sched.h"
#include "kernel/strand.h"
#include "kernel/sync.h"

static void bench_strand_empty(void *arg)
{
	(void)arg;
}

static int bench_forkjoin(uint64_t *s, int n, int w)
{
	for (int i = -w; i < n; i++) {
		strand_t h;
		uint64_t t0 = arch_cycles();
		int err = strand_create(bench_strand_empty, 0, SCHED_PRIO_DEFAULT, "fj", &h);

		if (!err)
			err = strand_join(h, 0);
		uint64_t t1 = arch_cycles();

		if (err)
			return err;
		if (i >= 0)
			s[i] = t1 - t0;
	}
	return 0;
}

struct bench_pp {
	struct mutex m;
	struct cond c[2];
	int turn;
	bool stop;
};

static void bench_pp_partner(void *arg)
{
	struct bench_pp *pp = arg;

	mutex_lock(&pp->m);
	for (;;) {
		while (pp->turn != 1 && !pp->stop)
			cond_wait(&pp->c[1], &pp->m);
		if (pp->stop)
			break;
		pp->turn = 0;
		cond_signal(&pp->c[0]);
	}
	mutex_unlock(&pp->m);
}

static int bench_pingpong(uint64_t *s, int n, int w)
{
	struct bench_pp pp;
	strand_t h;
	int err;

	mutex_init(&pp.m, "bench-pp");
	cond_init(&pp.c[0], "bench-ping");
	cond_init(&pp.c[1], "bench-pong");
	pp.turn = 0;
	pp.stop = false;
	err = strand_create(bench_pp_partner, &pp, SCHED_PRIO_DEFAULT, "pong", &h);
	if (err)
		return err;
	mutex_lock(&pp.m);
	for (int i = -w; i < n; i++) {
		uint64_t t0 = arch_cycles();

		pp.turn = 1;
		cond_signal(&pp.c[1]);
		while (pp.turn != 0)
			cond_wait(&pp.c[0], &pp.m);
		uint64_t t1 = arch_cycles();

		if (i >= 0)
			s[i] = t1 - t0;
	}
	pp.stop = true;
	cond_signal(&pp.c[1]);
	mutex_unlock(&pp.m);
	err = strand_join(h, 0);
	mutex_destroy(&pp.m);
	cond_destroy(&pp.c[0]);
	cond_destroy(&pp.c[1]);
	return err;
}

void bench_strands_run(uint64_t tsc_pair)
{
	static const struct {
		const char *id;
		int (*fn)(uint64_t *, int, int);
	} b[] = {
	    {"forkjoin_kernel", bench_forkjoin},
	    {"pingpong_kernel", bench_pingpong},
	};

	for (unsigned i = 0; i < sizeof(b) / sizeof(b[0]); i++) {
		int n = bench_samples(b[i].id);
		uint64_t *s = n > 0 ? kmalloc(n * sizeof(*s)) : 0;
		int err;

		if (!s) {
			kprintf("BENCHERROR %s: no samples defined or no memory\n", b[i].id);
			continue;
		}
		err = b[i].fn(s, n, bench_warmup(n));
		if (err)
			kprintf("BENCHERROR %s: error %d\n", b[i].id, err);
		else
			bench_report(b[i].id, s, n, tsc_pair);
		kfree(s);
	}
}
