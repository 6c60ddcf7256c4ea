/*
 * bench_tpkg.c: SPIN Table 3's user (integrated) column through a thread
 * package that is an extension - fork-join and ping-pong of threads of a
 * virtual processor scheduled by the round-robin package
 * tests/kernel-ext/pkg_rr.c (ids forkjoin_pkg and pingpong_pkg of
 * bench/benchmarks.def; suite "tpkg", command line bench=tpkg).
 *
 * Each benchmark makes a virtual processor of two threads (kernel/vproc.h),
 * loads pkg_rr against SpinPublic under the name its capability was granted
 * to, and starts it; thread 0 takes the samples and thread 1 is the other
 * party.  Every switch between the two goes through the package: the
 * virtual processor raises VProc.Pick and pkg_rr's JIT-compiled handler
 * chooses, and Strand.Block / Strand.Unblock reach its handlers whenever a
 * thread blocks, ends, is forked or unblocked.
 *
 * forkjoin_pkg: one sample is vproc_fork of thread 1 (an empty body) plus
 * vproc_join of it from thread 0: create (Unblock), schedule (thread 0
 * blocks, Pick picks thread 1), terminate (Block), join (Unblock of thread
 * 0, Pick picks it).
 *
 * pingpong_pkg: one sample is a round trip, as pingpong_kernel's: thread 0
 * unblocks thread 1 and blocks; thread 1 runs, unblocks thread 0 and
 * blocks; thread 0 runs again.
 *
 * The kernel strand that runs the suite waits on a semaphore that thread
 * 0 raises when it is done, then stops the virtual processor and unloads
 * the package.  A failure prints BENCHERROR and no figure.
 */
#include <arch/cpu.h>

#include "kernel/bench.h"
#include "kernel/domain.h"
#include "kernel/extension.h"
#include "kernel/heap.h"
#include "kernel/kext.h"
#include "kernel/kprintf.h"
#include "kernel/sched.h"
#include "kernel/string.h"
#include "kernel/sync.h"
#include "kernel/vproc.h"

static const struct module bench_tpkg_module = {"BenchTpkg", MODULE_TRUSTED};

struct bench_tpkg {
	uint64_t *s;
	int n, w;
	int err;
	volatile bool ready; /* pingpong_pkg: thread 1 has blocked once */
	volatile bool stop;  /* pingpong_pkg: thread 1 returns when woken */
	struct sem done;     /* thread 0 has finished */
};

/* forkjoin_pkg: thread 1 is the forked thread and does nothing. */
static void bench_tpkg_forkjoin(struct VProc_T *vp, uint32_t i, void *arg)
{
	struct bench_tpkg *b = arg;
	int err;

	if (i != 0)
		return;
	/* Thread 1 started runnable with the virtual processor: let it end. */
	err = vproc_join(1);
	for (int k = -b->w; k < b->n && !err; k++) {
		uint64_t t0 = arch_cycles();

		err = vproc_fork(vp, 1);
		if (!err)
			err = vproc_join(1);
		uint64_t t1 = arch_cycles();

		if (k >= 0)
			b->s[k] = t1 - t0;
	}
	b->err = err;
	sem_up(&b->done);
}

static void bench_tpkg_pingpong(struct VProc_T *vp, uint32_t i, void *arg)
{
	struct bench_tpkg *b = arg;
	int err = 0;

	if (i == 1) {
		b->ready = true;
		for (;;) {
			vproc_block();
			if (b->stop)
				return;
			if (vproc_unblock(vp, 0))
				b->err = -EINVAL;
		}
	}
	/* Round-robin picks thread 0 first: wait until thread 1 has blocked. */
	while (!b->ready)
		vproc_yield();
	for (int k = -b->w; k < b->n && !err; k++) {
		uint64_t t0 = arch_cycles();

		err = vproc_unblock(vp, 1);
		if (!err)
			err = vproc_block();
		uint64_t t1 = arch_cycles();

		if (k >= 0)
			b->s[k] = t1 - t0;
	}
	b->stop = true;
	if (!err)
		err = vproc_unblock(vp, 1);
	if (!err)
		err = vproc_join(1);
	if (!b->err)
		b->err = err;
	sem_up(&b->done);
}

/* One benchmark on a fresh virtual processor and a fresh load of pkg_rr. */
static int bench_tpkg_one(const char *holder, vproc_thread_fn fn, struct bench_tpkg *b)
{
	struct vproc_attr a = {holder, holder, SCHED_PRIO_DEFAULT, 2, fn, b, false, 0};
	const struct kext_image *im = kext_find("pkg_rr");
	struct domain *doms[1] = {domain_spin_public};
	struct VProc_T *vp = NULL;
	struct ext *x = NULL;
	char msg[160];
	int err;

	if (!im)
		return -ENOENT;
	if ((err = vproc_create(&a, &vp)))
		return err;
	err = ext_load(im->data, (size_t)im->size, holder, &bench_tpkg_module, doms, 1, &x, msg,
	               sizeof(msg));
	if (err) {
		kprintf("BENCHERROR pkg_rr did not load as %s (%d): %s\n", holder, err, msg);
		goto out_stop;
	}
	if ((err = vproc_start(vp)))
		goto out_stop;
	sem_down(&b->done);
	err = b->err;

out_stop:
	vproc_stop(vp);
	if (x && ext_unload(x, msg, sizeof(msg)) && !err)
		err = -EBUSY;
	return err;
}

void bench_tpkg_run(uint64_t tsc_pair)
{
	static const struct {
		const char *id;
		vproc_thread_fn fn;
	} t[] = {
	    {"forkjoin_pkg", bench_tpkg_forkjoin},
	    {"pingpong_pkg", bench_tpkg_pingpong},
	};

	for (unsigned i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		static struct bench_tpkg b;
		int n = bench_samples(t[i].id);
		int err;

		memset(&b, 0, sizeof(b));
		b.s = n > 0 ? kmalloc(n * sizeof(*b.s)) : 0;
		if (!b.s) {
			kprintf("BENCHERROR %s: no samples defined or no memory\n", t[i].id);
			continue;
		}
		b.n = n;
		b.w = bench_warmup(n);
		sem_init(&b.done, "bench-tpkg", 0);
		err = bench_tpkg_one(t[i].id, t[i].fn, &b);
		if (err)
			kprintf("BENCHERROR %s: error %d\n", t[i].id, err);
		else
			bench_report(t[i].id, b.s, n, tsc_pair);
		sem_destroy(&b.done);
		kfree(b.s);
	}
}
