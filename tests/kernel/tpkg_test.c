/*
 * tpkg_test.c: thread packages and application schedulers as extensions
 * (kernel/vproc.h, kernel/strand_events.h).  Each package is a clang-built
 * extension in tests/kernel-ext/pkg_*.c, loaded against SpinPublic under
 * the name its virtual processor's capability was granted to.  The cases:
 * round-robin order; the CPU share a virtual processor gets next to an
 * ordinary strand (its threads run only inside it); a lottery policy's
 * proportions; a runaway Pick handler and a package that ignores Unblock
 * starve only their own threads; a module without a strand capability is
 * refused; and the Strand events are direct calls again once no package
 * is installed.
 *
 * Every case stops its virtual processors and unloads its extensions
 * before it asserts, so a failure leaves nothing running for the next.
 *
 * No case sleeps for a fixed time: each polls (vproc_get_stats is a
 * consistent snapshot while the virtual processor runs) until what it
 * asserts has had enough runs, ticks or events to be meaningful, with a
 * ceiling after which it fails saying what it was waiting for.
 */
#include <arch/cpu.h>

#include "kernel/clock.h"
#include "kernel/dispatch.h"
#include "kernel/domain.h"
#include "kernel/extension.h"
#include "kernel/kext.h"
#include "kernel/ktest.h"
#include "kernel/kprintf.h"
#include "kernel/sched.h"
#include "kernel/strand.h"
#include "kernel/strand_events.h"
#include "kernel/string.h"
#include "kernel/vproc.h"

#define MS 1000000ull

#define TP_STEP    (2 * MS)    /* polling step (a sleep ends at a tick, 10 ms) */
#define TP_CEILING (3000 * MS) /* a case gives up waiting after this */

static const struct module tp_loader = {"tpkg_test", MODULE_TRUSTED};

static int tp_load(const char *image, const char *name, struct ext **out, char *err, size_t n)
{
	const struct kext_image *im = kext_find(image);
	struct domain *doms[1] = {domain_spin_public};

	if (!im)
		return -ENOENT;
	return ext_load(im->data, (size_t)im->size, name, &tp_loader, doms, 1, out, err, n);
}

static bool tp_has(const char *s, const char *sub)
{
	size_t n = strlen(sub);
	for (; s && *s; s++)
		if (strncmp(s, sub, n) == 0)
			return true;
	return false;
}

/* Call the package's own Package_Stat (a cross-domain call into it). */
static uint64_t tp_stat(struct ext *x, uint64_t what)
{
	typedef struct rt_jit_ret (*adapter_fn)(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t);
	const struct domain_sym *s = domain_lookup(ext_domain(x), "Package_Stat");

	if (!s || !s->sig || !s->sig->fn)
		return ~0ull;
	return ((adapter_fn)s->sig->fn)(what, 0, 0, 0, 0).r0;
}

/* Sleep a polling step; false once TP_CEILING has passed since t0. */
static bool tp_wait(uint64_t t0)
{
	if (clock_ns() - t0 >= TP_CEILING)
		return false;
	sched_sleep_ns(TP_STEP);
	return true;
}

static unsigned long tp_ms_since(uint64_t t0)
{
	return (unsigned long)((clock_ns() - t0) / MS);
}

/* ---- user-level threads: count, burn a little, yield ---- */

struct tp_work {
	volatile uint64_t count[VPROC_MAX_THREADS];
	volatile int block_at[VPROC_MAX_THREADS]; /* block once when count reaches it */
	volatile bool stop;
};

static void tp_thread(struct VProc_T *vp, uint32_t i, void *arg)
{
	struct tp_work *w = arg;
	(void)vp;

	while (!w->stop) {
		volatile uint64_t x = 0;
		for (int k = 0; k < 2000; k++)
			x += (uint64_t)k;
		w->count[i]++;
		if (w->block_at[i] && w->count[i] == (uint64_t)w->block_at[i])
			vproc_block();
		else
			vproc_yield();
	}
}

/* A kernel strand competing for the CPU at the same priority. */
struct tp_hog {
	volatile uint64_t loops;
	volatile uint64_t ticks; /* charged to it by the global scheduler so far */
	volatile bool stop;
};

static void tp_hog_fn(void *p)
{
	struct tp_hog *h = p;
	const struct strand *me = strand_current();

	while (!h->stop) {
		volatile uint64_t x = 0;
		for (int k = 0; k < 1000; k++)
			x += (uint64_t)k;
		h->loops++;
		h->ticks = __atomic_load_n(&me->ticks, __ATOMIC_RELAXED);
	}
	h->ticks = __atomic_load_n(&me->ticks, __ATOMIC_RELAXED);
}

static int tp_vproc(const char *name, const char *holder, uint32_t n, struct tp_work *w,
                    struct VProc_T **vp)
{
	struct vproc_attr a = {name, holder, SCHED_PRIO_DEFAULT, n, tp_thread, w, false, 0};
	return vproc_create(&a, vp);
}

/* Round-robin: every thread ran this often and the trace of the last
 * VPROC_TRACE picks is full before the case stops (the assertions want
 * more than 3 runs each and check the order over the whole trace). */
#define TP_RR_RUNS 16

static bool tp_rr_enough(const struct VProc_T *vp, struct ext *x)
{
	struct vproc_stats st;

	vproc_get_stats(vp, &st);
	for (uint32_t i = 0; i < 3; i++)
		if (st.runs[i] < TP_RR_RUNS)
			return false;
	return st.ntrace >= VPROC_TRACE && tp_stat(x, 0) >= 1;
}

KTEST(tpkg_round_robin_package)
{
	static struct tp_work w;
	struct VProc_T *vp = NULL;
	struct ext *x = NULL;
	struct vproc_stats st;
	char err[200];
	uint64_t resumes, picks, t0;
	bool cyclic = true, enough;
	int rc;

	memset((void *)&w, 0, sizeof(w));
	KT_ASSERT_EQ(tp_vproc("vp-rr", "pkg_rr", 3, &w, &vp), 0);
	rc = tp_load("pkg_rr", "pkg_rr", &x, err, sizeof(err));
	if (rc) {
		vproc_stop(vp);
		KT_FAIL("pkg_rr did not load (%d): %s", rc, err);
	}
	KT_ASSERT(!dispatch_is_direct(Strand_Resume_event)); /* a package listens now */
	KT_ASSERT_EQ(vproc_start(vp), 0);
	t0 = clock_ns();
	while (!(enough = tp_rr_enough(vp, x)) && tp_wait(t0))
		;
	w.stop = true;
	vproc_stop(vp);
	vproc_get_stats(vp, &st);
	resumes = tp_stat(x, 0);
	picks = tp_stat(x, 4);
	KT_ASSERT_EQ(ext_unload(x, err, sizeof(err)), 0);

	kprintf("  rr: runs %lu %lu %lu, picks %lu, package saw %lu resumes (%lu ms)\n",
	        (unsigned long)st.runs[0], (unsigned long)st.runs[1], (unsigned long)st.runs[2],
	        (unsigned long)picks, (unsigned long)resumes, tp_ms_since(t0));
	if (!enough)
		KT_FAIL("after %lu ms the threads had run %lu %lu %lu times (%u picks traced, %lu "
		        "resumes seen); want %d each, a full trace and a resume",
		        tp_ms_since(t0), (unsigned long)st.runs[0], (unsigned long)st.runs[1],
		        (unsigned long)st.runs[2], st.ntrace, (unsigned long)resumes, TP_RR_RUNS);
	KT_ASSERT(st.runs[0] > 3 && st.runs[1] > 3 && st.runs[2] > 3);
	/* Round-robin: every pick is the successor of the one before. */
	{
		uint32_t n = st.ntrace < VPROC_TRACE ? st.ntrace : VPROC_TRACE;
		uint32_t first = st.ntrace < VPROC_TRACE ? 0 : st.ntrace % VPROC_TRACE;
		for (uint32_t i = 1; i < n; i++)
			if (st.trace[(first + i) % VPROC_TRACE] !=
			    (st.trace[(first + i - 1) % VPROC_TRACE] + 1) % 3)
				cyclic = false;
	}
	KT_ASSERT(cyclic);
	KT_ASSERT(st.runs[0] + 1 >= st.runs[2] && st.runs[2] + 1 >= st.runs[0]);
	KT_ASSERT(picks >= st.runs[0] + st.runs[1] + st.runs[2]);
	KT_ASSERT(resumes >= 1 && resumes <= st.resumes);
	KT_ASSERT_EQ(st.unhandled, 0);
	KT_ASSERT_EQ(st.refused, 0);
}

/* The share: ticks charged to each side before the case stops.  The
 * scheduler alternates them in quanta of SCHED_QUANTUM_TICKS, so either
 * side may be a quantum ahead when the other reaches this; at 8 ticks each
 * the factor-2 bounds below still fail a 3:1 split (24 against 8, or 22
 * against 10 with a quantum's slack) while a fair one (8 against 10 or 12)
 * passes. */
#define TP_SHARE_TICKS 8

static bool tp_share_enough(const struct VProc_T *vp, const struct tp_hog *hog, struct ext *x)
{
	struct vproc_stats st;

	vproc_get_stats(vp, &st);
	return st.ticks >= TP_SHARE_TICKS && hog->ticks >= TP_SHARE_TICKS && tp_stat(x, 1) >= 2;
}

KTEST(tpkg_share_is_bounded_by_the_global_scheduler)
{
	static struct tp_work w;
	static struct tp_hog hog;
	struct vproc_attr va = {"vp-share", "pkg_share", SCHED_PRIO_DEFAULT, 3, tp_thread, &w, true,
	                        0};
	struct strand_attr ha = {"tp-hog", SCHED_PRIO_DEFAULT, false, NULL};
	struct VProc_T *vp = NULL;
	struct ext *x = NULL;
	struct vproc_stats st;
	strand_t h;
	char err[200];
	uint64_t checkpoints, done, t0;
	bool enough;
	int rc;

	/* The virtual processor and one ordinary strand share CPU 0 (both
	 * pinned there), at the same priority, on any number of CPUs. */
	memset((void *)&w, 0, sizeof(w));
	memset((void *)&hog, 0, sizeof(hog));
	KT_ASSERT_EQ(vproc_create(&va, &vp), 0);
	rc = tp_load("pkg_rr", "pkg_share", &x, err, sizeof(err));
	if (rc) {
		vproc_stop(vp);
		KT_FAIL("pkg_rr did not load as pkg_share (%d): %s", rc, err);
	}
	KT_ASSERT_EQ(strand_create_pinned(&ha, 0, tp_hog_fn, &hog, &h), 0);
	KT_ASSERT_EQ(vproc_start(vp), 0);
	t0 = clock_ns();
	while (!(enough = tp_share_enough(vp, &hog, x)) && tp_wait(t0))
		;
	w.stop = true;
	hog.stop = true;
	vproc_stop(vp);
	vproc_get_stats(vp, &st);
	checkpoints = tp_stat(x, 1);
	strand_join(h, NULL);
	KT_ASSERT_EQ(ext_unload(x, err, sizeof(err)), 0);

	done = st.runs[0] + st.runs[1] + st.runs[2];
	kprintf("  share: vp charged %lu ticks (%lu thread runs, %lu checkpoints seen); "
	        "the ordinary strand %lu (%lu ms)\n",
	        (unsigned long)st.ticks, (unsigned long)done, (unsigned long)checkpoints,
	        (unsigned long)hog.ticks, tp_ms_since(t0));
	if (!enough)
		KT_FAIL("after %lu ms the vp was charged %lu ticks, the ordinary strand %lu, the "
		        "package saw %lu checkpoints; want %d ticks each and 2 checkpoints",
		        tp_ms_since(t0), (unsigned long)st.ticks, (unsigned long)hog.ticks,
		        (unsigned long)checkpoints, TP_SHARE_TICKS);
	/* Both made progress: the package's threads never kept the ordinary
	 * strand out, and it never kept the package out. */
	KT_ASSERT(hog.ticks > 0);
	KT_ASSERT(done > 0);
	/* The global scheduler took the CPU back from the package repeatedly
	 * (round-robin between equals), and the package was told. */
	KT_ASSERT(checkpoints >= 2);
	KT_ASSERT(st.checkpoints >= checkpoints);
	/* The virtual processor got an ordinary strand's share and not (much)
	 * more, however many threads it runs: about half of CPU 0 each. */
	KT_ASSERT(st.ticks >= 1);
	KT_ASSERT(st.ticks * 2 >= hog.ticks);
	KT_ASSERT(st.ticks <= hog.ticks * 2);
}

/* Lottery draws before the case stops.  Over n draws runs[1] - runs[0]
 * has mean n/6 and standard deviation sqrt(17n/36), runs[2] - runs[1]
 * mean n/6 and sqrt(29n/36): at 1,200 both orderings hold by more than 6
 * standard deviations, and each share bound below by more than 7. */
#define TP_LOTTERY_RUNS 1200

static uint64_t tp_total_runs(const struct VProc_T *vp)
{
	struct vproc_stats st;

	vproc_get_stats(vp, &st);
	return st.runs[0] + st.runs[1] + st.runs[2];
}

KTEST(tpkg_lottery_package_proportions)
{
	static struct tp_work w;
	struct VProc_T *vp = NULL;
	struct ext *x = NULL;
	struct vproc_stats st;
	char err[200];
	uint64_t total, t0;
	bool enough;
	int rc;

	memset((void *)&w, 0, sizeof(w));
	KT_ASSERT_EQ(tp_vproc("vp-lottery", "pkg_lottery", 3, &w, &vp), 0);
	rc = tp_load("pkg_lottery", "pkg_lottery", &x, err, sizeof(err));
	if (rc) {
		vproc_stop(vp);
		KT_FAIL("pkg_lottery did not load (%d): %s", rc, err);
	}
	KT_ASSERT_EQ(vproc_start(vp), 0);
	t0 = clock_ns();
	while (!(enough = tp_total_runs(vp) >= TP_LOTTERY_RUNS) && tp_wait(t0))
		;
	w.stop = true;
	vproc_stop(vp);
	vproc_get_stats(vp, &st);
	KT_ASSERT_EQ(ext_unload(x, err, sizeof(err)), 0);

	total = st.runs[0] + st.runs[1] + st.runs[2];
	kprintf("  lottery: runs %lu %lu %lu (tickets 1:2:3) (%lu ms)\n", (unsigned long)st.runs[0],
	        (unsigned long)st.runs[1], (unsigned long)st.runs[2], tp_ms_since(t0));
	if (!enough)
		KT_FAIL("after %lu ms the threads had run %lu times in all; want %d",
		        tp_ms_since(t0), (unsigned long)total, TP_LOTTERY_RUNS);
	KT_ASSERT(total >= TP_LOTTERY_RUNS);
	/* Expected shares 1/6, 2/6, 3/6; allow a wide margin. */
	KT_ASSERT(st.runs[0] * 6 >= total / 2 && st.runs[0] * 6 <= total * 2);
	KT_ASSERT(st.runs[2] * 6 >= total * 3 / 2 && st.runs[2] * 6 <= total * 9 / 2);
	KT_ASSERT(st.runs[0] < st.runs[1] && st.runs[1] < st.runs[2]);
	KT_ASSERT_EQ(st.refused, 0);
}

/* The runaway case waits until the abort happened, the virtual processor
 * has idled unanswered since, and the ordinary strand made progress after
 * the abort (hog_at_abort: its loops when the abort was first seen). */
static bool tp_runaway_enough(const struct VProc_T *vp, struct ext *x, const struct tp_hog *hog,
                              uint64_t *hog_at_abort)
{
	const struct dispatch_binding *b = ext_binding(x, 0);
	struct vproc_stats st;

	if (dispatch_binding_aborts(b) < 1 || !dispatch_binding_disabled(b))
		return false;
	if (*hog_at_abort == ~0ull) {
		*hog_at_abort = hog->loops;
		return false;
	}
	vproc_get_stats(vp, &st);
	return st.unhandled >= 1 && hog->loops > *hog_at_abort;
}

KTEST(tpkg_runaway_package_starves_only_itself)
{
	static struct tp_work w;
	static struct tp_hog hog;
	struct VProc_T *vp = NULL;
	struct ext *x = NULL;
	struct vproc_stats st;
	strand_t h;
	char err[200];
	bool disabled, enough;
	uint64_t aborts, hog_loops, hog_at_abort = ~0ull, t0;
	int rc;

	memset((void *)&w, 0, sizeof(w));
	memset((void *)&hog, 0, sizeof(hog));
	KT_ASSERT_EQ(tp_vproc("vp-runaway", "pkg_runaway", 2, &w, &vp), 0);
	rc = tp_load("pkg_runaway", "pkg_runaway", &x, err, sizeof(err));
	if (rc) {
		vproc_stop(vp);
		KT_FAIL("pkg_runaway did not load (%d): %s", rc, err);
	}
	KT_ASSERT_EQ(strand_create(tp_hog_fn, &hog, SCHED_PRIO_DEFAULT, "tp-hog2", &h), 0);
	KT_ASSERT_EQ(vproc_start(vp), 0);
	t0 = clock_ns();
	while (!(enough = tp_runaway_enough(vp, x, &hog, &hog_at_abort)) && tp_wait(t0))
		;
	hog.stop = true;
	w.stop = true;
	strand_join(h, NULL);
	hog_loops = hog.loops;
	vproc_stop(vp);
	vproc_get_stats(vp, &st);
	disabled = dispatch_binding_disabled(ext_binding(x, 0));
	aborts = dispatch_binding_aborts(ext_binding(x, 0));
	KT_ASSERT_EQ(ext_unload(x, err, sizeof(err)), 0);

	kprintf("  runaway: %lu aborts, binding %s, %lu picks unanswered, hog %lu loops (%lu ms)\n",
	        (unsigned long)aborts, disabled ? "disabled" : "live", (unsigned long)st.unhandled,
	        (unsigned long)hog_loops, tp_ms_since(t0));
	if (!enough)
		KT_FAIL(
		    "after %lu ms: %lu aborts, binding %s, %lu picks unanswered, hog at %lu loops "
		    "(%ld at the abort); want the abort, an unanswered pick and the hog going on",
		    tp_ms_since(t0), (unsigned long)aborts, disabled ? "disabled" : "live",
		    (unsigned long)st.unhandled, (unsigned long)hog_loops, (long)hog_at_abort);
	KT_ASSERT_EQ(aborts, 1);
	KT_ASSERT(disabled);
	KT_ASSERT(st.unhandled >= 1);
	KT_ASSERT_EQ(st.runs[0] + st.runs[1], 0); /* its own threads starve ... */
	KT_ASSERT(hog_loops > 0);                 /* ... and nobody else does */
}

/* After the Unblock: the deaf package picked each of its other threads
 * this many more times (so it passed thread 0 over as often) and the good
 * package ran its thread 0 again. */
#define TP_DEAF_ROUNDS 8

static bool tp_deaf_enough(const struct VProc_T *vd, const struct VProc_T *vr,
                           const struct vproc_stats *sd0, const struct vproc_stats *sr0)
{
	struct vproc_stats sd, sr;

	vproc_get_stats(vd, &sd);
	vproc_get_stats(vr, &sr);
	return sd.runs[1] >= sd0->runs[1] + TP_DEAF_ROUNDS &&
	       sd.runs[2] >= sd0->runs[2] + TP_DEAF_ROUNDS && sr.runs[0] > sr0->runs[0];
}

KTEST(tpkg_package_ignoring_unblock_starves_only_its_threads)
{
	static struct tp_work wd, wr;
	struct VProc_T *vd = NULL, *vr = NULL;
	struct ext *xd = NULL, *xr = NULL;
	struct vproc_stats sd, sr, sd0, sr0;
	char err[200];
	uint64_t d_before, r_before, deaf_blocks, rr_blocks, deaf_unblocks, rr_unblocks, t0, t1;
	bool blocked, enough = false;
	int rc, ud = -1, ur = -1;

	memset((void *)&wd, 0, sizeof(wd));
	memset((void *)&wr, 0, sizeof(wr));
	wd.block_at[0] = 3;
	wr.block_at[0] = 3;
	KT_ASSERT_EQ(tp_vproc("vp-deaf", "pkg_deaf", 3, &wd, &vd), 0);
	KT_ASSERT_EQ(tp_vproc("vp-good", "pkg_good", 3, &wr, &vr), 0);
	rc = tp_load("pkg_deaf", "pkg_deaf", &xd, err, sizeof(err));
	if (!rc)
		rc = tp_load("pkg_rr", "pkg_good", &xr, err, sizeof(err));
	if (rc) {
		vproc_stop(vd);
		vproc_stop(vr);
		if (xd)
			ext_unload(xd, NULL, 0);
		KT_FAIL("packages did not load (%d): %s", rc, err);
	}
	KT_ASSERT_EQ(vproc_start(vd), 0);
	KT_ASSERT_EQ(vproc_start(vr), 0);
	/* Until both thread 0s have blocked themselves: each package heard its
	 * Strand.Block (raised after the thread's state became blocked). */
	t0 = clock_ns();
	while (!(blocked = tp_stat(xd, 2) >= 1 && tp_stat(xr, 2) >= 1) && tp_wait(t0))
		;
	vproc_get_stats(vd, &sd0);
	vproc_get_stats(vr, &sr0);
	d_before = sd0.runs[0];
	r_before = sr0.runs[0];
	t1 = clock_ns();
	if (blocked) {
		ud = vproc_unblock(vd, 0);
		ur = vproc_unblock(vr, 0);
		while (!(enough = tp_deaf_enough(vd, vr, &sd0, &sr0)) && tp_wait(t1))
			;
	}
	wd.stop = wr.stop = true;
	vproc_stop(vd);
	vproc_stop(vr);
	vproc_get_stats(vd, &sd);
	vproc_get_stats(vr, &sr);
	deaf_blocks = tp_stat(xd, 2);
	rr_blocks = tp_stat(xr, 2);
	deaf_unblocks = tp_stat(xd, 3);
	rr_unblocks = tp_stat(xr, 3);
	KT_ASSERT_EQ(ext_unload(xd, err, sizeof(err)), 0);
	KT_ASSERT_EQ(ext_unload(xr, err, sizeof(err)), 0);

	kprintf("  deaf: thread 0 ran %lu then %lu times, others %lu %lu; good: %lu then %lu "
	        "(%lu ms to block, %lu after)\n",
	        (unsigned long)d_before, (unsigned long)sd.runs[0], (unsigned long)sd.runs[1],
	        (unsigned long)sd.runs[2], (unsigned long)r_before, (unsigned long)sr.runs[0],
	        (unsigned long)((t1 - t0) / MS), tp_ms_since(t1));
	if (!blocked)
		KT_FAIL("after %lu ms the deaf and good packages had heard %lu and %lu "
		        "Blocks; want thread 0 of each blocked",
		        (unsigned long)((t1 - t0) / MS), (unsigned long)deaf_blocks,
		        (unsigned long)rr_blocks);
	KT_ASSERT_EQ(ud, 0);
	KT_ASSERT_EQ(ur, 0);
	if (!enough)
		KT_FAIL("%lu ms after the Unblocks the deaf package's threads 1 and 2 had run %lu "
		        "and %lu more times and the good package's thread 0 %lu; want %d, %d and 1",
		        tp_ms_since(t1), (unsigned long)(sd.runs[1] - sd0.runs[1]),
		        (unsigned long)(sd.runs[2] - sd0.runs[2]),
		        (unsigned long)(sr.runs[0] - sr0.runs[0]), TP_DEAF_ROUNDS, TP_DEAF_ROUNDS);
	KT_ASSERT_EQ(d_before, 3);
	KT_ASSERT_EQ(sd.runs[0], 3);                 /* never picked again */
	KT_ASSERT(sd.runs[1] > 3 && sd.runs[2] > 3); /* its other threads go on */
	KT_ASSERT_EQ(r_before, 3);
	KT_ASSERT(sr.runs[0] > 3); /* the well-behaved package resumed it */
	/* Each package heard only its own thread's Unblock (the imposed guard). */
	KT_ASSERT_EQ(deaf_unblocks, 1);
	KT_ASSERT_EQ(rr_unblocks, 1);
}

/* vproc_fork and vproc_unblock validate the same way (one helper): a
 * pointer that is not a live pool entry - including one inside the pool
 * but off an entry's start - is refused before it is read. */
KTEST(tpkg_fork_and_unblock_refuse_bad_arguments)
{
	static struct tp_work w;
	struct VProc_T *vp = NULL, *inside;
	uint64_t local[8] = {0};

	memset((void *)&w, 0, sizeof(w));
	KT_ASSERT_EQ(tp_vproc("vp-args", "pkg_args", 2, &w, &vp), 0);
	inside = (struct VProc_T *)((char *)vp + sizeof(uint64_t));
	/* Every thread starts READY: neither DONE (to fork) nor BLOCKED. */
	KT_ASSERT_EQ(vproc_fork(vp, 0), -EBUSY);
	KT_ASSERT_EQ(vproc_unblock(vp, 1), -EINVAL);
	KT_ASSERT_EQ(vproc_fork(vp, 2), -ESRCH);
	KT_ASSERT_EQ(vproc_unblock(vp, ~0u), -ESRCH);
	KT_ASSERT_EQ(vproc_fork(inside, 0), -EINVAL);
	KT_ASSERT_EQ(vproc_unblock(inside, 0), -EINVAL);
	KT_ASSERT_EQ(vproc_fork((struct VProc_T *)local, 0), -EINVAL);
	KT_ASSERT_EQ(vproc_unblock(NULL, 0), -EINVAL);
	KT_ASSERT_EQ(vproc_stop(inside), -EINVAL);
	KT_ASSERT_EQ(vproc_stop(vp), 0);
	KT_ASSERT_EQ(vproc_fork(vp, 0), -EINVAL); /* no longer in use */
	KT_ASSERT_EQ(vproc_stop(vp), -EINVAL);
}

KTEST(tpkg_handler_without_strand_capability_refused)
{
	struct ext *x = NULL;
	char err[200];
	uint64_t before = strandev_refusals();
	int rc = tp_load("pkg_rr", "pkg_nocap", &x, err, sizeof(err));

	if (rc == 0)
		ext_unload(x, NULL, 0);
	KT_ASSERT(rc < 0);
	KT_ASSERT(tp_has(err, "initialiser refused the load (returned 13)"));
	KT_ASSERT(strandev_refusals() == before + 1);
	KT_ASSERT(tp_has(strandev_refusal(), "'pkg_nocap' holds no strand capability"));
	KT_ASSERT(ext_find("pkg_nocap") == NULL);
}

KTEST(tpkg_strand_events_direct_without_packages)
{
	/* With only the intrinsic handlers, every raise at the scheduler's
	 * seams is a direct call (no package is loaded between cases). */
	KT_ASSERT(Strand_Block_event && Strand_Resume_event);
	KT_ASSERT(dispatch_is_direct(Strand_Block_event));
	KT_ASSERT(dispatch_is_direct(Strand_Unblock_event));
	KT_ASSERT(dispatch_is_direct(Strand_Checkpoint_event));
	KT_ASSERT(dispatch_is_direct(Strand_Resume_event));
	KT_ASSERT_EQ(vproc_unblock(NULL, 0), -EINVAL);
	KT_ASSERT_EQ(vproc_yield(), -EPERM);
	KT_ASSERT_EQ(vproc_block(), -EPERM);
	KT_ASSERT_EQ(vproc_thread_index(strand_current()), -1);
}
