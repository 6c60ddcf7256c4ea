/*
 * dispatch.c: the event dispatcher.
 *
 * Design.  Every event owns a slot in a static table.  The mutable state an
 * installer changes (the ordered list of bindings, the authorizer, the
 * result and default handlers) lives in the event and is touched only with
 * dispatch_lock held.  What a raiser needs is compiled, on every change,
 * into an immutable struct dispatch_set: the handlers that can run, in
 * order, flattened into an array of entries (handler address, closure,
 * guards, fuel), plus the result and default handlers.  The new set is
 * published with one release store into ev->set; then ev->fast is pointed
 * either at the sole handler (direct call) or at the slot's trampoline,
 * which walks the set.  The set walk is chosen when the set is built:
 * dispatch_walk_simple for native, unguarded, closure-free synchronous
 * handlers without a result handler, dispatch_walk_native for other sets
 * of native code only, dispatch_walk_general otherwise (the last two are
 * one definition, dispatch_walk_entries, compiled for each).  Each
 * non-direct set also gets a routine generated for it (dispatch_generate ->
 * dispatch_gen_build, kernel/dispatch_gen.h), which becomes ev->fast; the
 * walk stays the reference (dispatch_raise, the equivalence tests) and the
 * fallback when no code memory is left.  A set's routine is freed with the
 * set, after quiescence.
 *
 * Reclamation.  The old set, and any binding removed with it, goes to a
 * limbo list tagged with the grace-period counter (dispatch_gp) incremented
 * at retirement.  Each CPU records the counter it saw when it last left its
 * outermost raise (or passed any other quiescent point); an object is freed
 * when every CPU's record has reached its tag, or, for the calling CPU, when
 * it is not inside a raise.  The raise path writes only its own CPU's
 * counters, so it never waits and needs no fence.
 *
 * Extension handlers are called through the JIT ABI with a fuel budget,
 * unless the installer offered a native form that the binding's fuel covers
 * (dispatch_install_req: plain, unmetered, an inline guard test): then as
 * native code, which cannot abort (dispatch_guard_forms, dispatch_handler_
 * form; an unmetered one that calls imports keeps the set ephemeral).  An
 * aborted run (rt_status != RT_RUN_OK) does not count as fired; the
 * references it acquired through interfaces are released from the
 * invocation's ledger (dispatch_note_acquire) and the binding's abort policy
 * applies: DISABLE sets a flag every later raise checks, REPORT calls the
 * authority's abort hook, which may decide to unload the extension.
 */
#include "kernel/dispatch.h"
#include "kernel/dispatch_gen.h"

#ifdef SPINDLE_KERNEL
#include <arch/percpu.h>

#include "kernel/sched.h"
#endif

/* ---------------------------------------------------------------- types */

struct dispatch_limbo {
	struct dispatch_limbo *next;
	uint64_t tag;
	bool is_set; /* a struct dispatch_set: its generated routine goes too */
};

struct dispatch_binding {
	struct dispatch_limbo limbo; /* first: the limbo list links bindings too */
	struct dispatch_binding *next, *prev;
	struct dispatch_event *ev;
	const struct module *owner;
	struct dispatch_proc handler;
	/* handler.jit's native form (install_req: plain or unmetered, and the
	 * binding's fuel covers its worst case), or NULL; pcalls: it calls
	 * interface procedures (unmetered), so it runs with preemption off. */
	rt_import_fn plain;
	bool pcalls;
	void *closure;
	uint32_t options;
	uint64_t fuel;
	enum dispatch_abort_policy policy;
	struct dispatch_guard guards[DISPATCH_MAX_GUARDS];
	rt_import_fn gplain[DISPATCH_MAX_GUARDS]; /* their native forms, or NULL */
	bool gcalls[DISPATCH_MAX_GUARDS];         /* ... that call interface procedures */
	/* The installer's extension guard as an inline test (install_req's
	 * guard_test), at index gtest_at (DISPATCH_MAX_GUARDS: none). */
	struct dispatch_test gtest;
	uint32_t gtest_at;
	uint32_t nguards;
	bool installed;
	bool disabled;   /* atomic: set by the raise path on abort */
	uint32_t aborts; /* atomic */
};

struct dispatch_gentry {
	dispatch_fn native;
	rt_jit_fn jit;
	void *closure;
	bool has_closure;
	bool calls; /* native is extension code that calls imports: preemption off */
};

struct dispatch_entry {
	dispatch_fn native;
	rt_jit_fn jit;
	void *closure;
	bool has_closure;
	bool calls; /* as in dispatch_gentry */
	bool async; /* handed to the async runner, not run by the raise */
	uint8_t nguards;
	uint64_t fuel;
	struct dispatch_binding *b;
	struct dispatch_gentry g[DISPATCH_MAX_GUARDS];
};

struct dispatch_set;
typedef int (*dispatch_walk_fn)(const struct dispatch_set *s, const uint64_t a[5],
                                struct dispatch_outcome *o);

struct dispatch_set {
	struct dispatch_limbo limbo;
	dispatch_walk_fn walk;
	dispatch_result_fn result_fn;
	void *result_arg;
	uint64_t default_result;
	struct dispatch_entry def; /* default handler; def.native or def.jit set if any */
	bool has_default;
	struct dispatch_event *ev;
	struct dispatch_gen_code code; /* its generated routine (code.fn NULL: the walk) */
	bool direct;                   /* n == 1, native, unguarded, no closure */
	bool ephemeral;                /* runs extension code: preemption off throughout */
	bool exclusive;                /* the first handler that fires ends the raise */
	uint32_t n;
	struct dispatch_entry e[];
};

struct dispatch_frame {
	struct dispatch_frame *up;
	uint32_t n;
	bool overflow;
	struct {
		void *ref;
		void (*release)(void *ref);
	} held[DISPATCH_MAX_HELD];
};

struct dispatch_cpu {
	uint32_t nest;                /* depth of raises on this CPU */
	uint64_t seen;                /* dispatch_gp at its last quiescent point */
	struct dispatch_frame *frame; /* innermost extension invocation */
} __attribute__((aligned(64)));

/* ---------------------------------------------------------------- state */

static struct dispatch_event dispatch_events[DISPATCH_MAX_EVENTS];
static struct dispatch_cpu dispatch_cpus[DISPATCH_MAX_CPUS];
#ifndef SPINDLE_KERNEL
static uint32_t dispatch_ncpus = 1; /* hosted tests: one simulated CPU */
#endif
static uint64_t dispatch_gp = 1; /* grace-period counter */
static struct dispatch_limbo *dispatch_limbo_head;
static uint32_t dispatch_lock_owner;            /* 0 free, else cpu + 1 */
static bool dispatch_codegen = true;            /* generate routines (tests may turn it off) */
static dispatch_async_fn dispatch_async_run_fn; /* queues an async binding's run */
static dispatch_async_cancel_fn dispatch_async_cancel;
#ifndef SPINDLE_KERNEL
static uint32_t dispatch_host_preempt; /* hosted: stands in for the CPU's depth */
#endif

/* Preemption (dispatch.h): one %gs-relative inc/dec in the kernel. */
static inline void dispatch_preempt_inc(void)
{
#ifdef SPINDLE_KERNEL
	arch_preempt_inc();
#else
	dispatch_host_preempt++;
#endif
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
}

/* Lower the depth without rescheduling (a native set, right after entry). */
static inline void dispatch_preempt_dec(void)
{
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
#ifdef SPINDLE_KERNEL
	arch_preempt_dec();
#else
	dispatch_host_preempt--;
#endif
}

/* Leave a non-preemptible stretch: at depth 0, reschedule if asked to. */
static inline void dispatch_preempt_leave(void)
{
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
#ifdef SPINDLE_KERNEL
	if (arch_preempt_dec_resched()) /* sched_preempt_enable without the call */
		sched_preempt_check();
#else
	dispatch_host_preempt--;
#endif
}

uint32_t dispatch_preempt_depth(void)
{
#ifdef SPINDLE_KERNEL
	return arch_preempt_count();
#else
	return dispatch_host_preempt;
#endif
}

/* In the kernel the CPU id and count come from the per-CPU areas (one
 * %gs-relative load); hosted tests run on one simulated CPU. */
uint32_t dispatch_cpu_self(void)
{
#ifdef SPINDLE_KERNEL
	return cpu_id();
#else
	return 0;
#endif
}

static uint32_t dispatch_cpu_count(void)
{
#ifdef SPINDLE_KERNEL
	uint32_t n = percpu_count();
	return n < DISPATCH_MAX_CPUS ? n : DISPATCH_MAX_CPUS;
#else
	return dispatch_ncpus;
#endif
}

#ifdef SPINDLE_KERNEL
/* The scheduler's quiescent point (idle loop, yield): a CPU outside every
 * raise has finished with any set retired before now.  Cheap on purpose: it
 * runs on every yield and only records, never reclaims. */
static void dispatch_quiescent(void)
{
	struct dispatch_cpu *cpu = &dispatch_cpus[dispatch_cpu_self()];

	if (cpu->nest == 0)
		__atomic_store_n(&cpu->seen, __atomic_load_n(&dispatch_gp, __ATOMIC_ACQUIRE),
		                 __ATOMIC_RELEASE);
}
#endif

static int dispatch_lock(void)
{
	uint32_t me = dispatch_cpu_self() + 1, expect = 0;
	while (!__atomic_compare_exchange_n(&dispatch_lock_owner, &expect, me, false,
	                                    __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
		if (expect == me)
			return -EBUSY; /* re-entered from an authorizer: would deadlock */
		expect = 0;
	}
	return 0;
}

static void dispatch_unlock(void)
{
	__atomic_store_n(&dispatch_lock_owner, 0, __ATOMIC_RELEASE);
}

/* ---------------------------------------------------------- trampolines */

static uint64_t dispatch_slot_run(uint32_t slot, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
                                  uint64_t a5);

/* clang-format off */
/* M(hi, lo) for every event slot hi * 16 + lo: one function (or one table
 * entry) per slot, with the slot's number compiled into it. */
#define DISPATCH_SLOTS16(M, hi)                                                         \
	M(hi, 0) M(hi, 1) M(hi, 2) M(hi, 3) M(hi, 4) M(hi, 5) M(hi, 6) M(hi, 7)         \
	M(hi, 8) M(hi, 9) M(hi, 10) M(hi, 11) M(hi, 12) M(hi, 13) M(hi, 14) M(hi, 15)
#define DISPATCH_SLOTS(M)                                                               \
	DISPATCH_SLOTS16(M, 0) DISPATCH_SLOTS16(M, 1) DISPATCH_SLOTS16(M, 2)            \
	DISPATCH_SLOTS16(M, 3) DISPATCH_SLOTS16(M, 4) DISPATCH_SLOTS16(M, 5)            \
	DISPATCH_SLOTS16(M, 6) DISPATCH_SLOTS16(M, 7) DISPATCH_SLOTS16(M, 8)            \
	DISPATCH_SLOTS16(M, 9) DISPATCH_SLOTS16(M, 10) DISPATCH_SLOTS16(M, 11)          \
	DISPATCH_SLOTS16(M, 12) DISPATCH_SLOTS16(M, 13) DISPATCH_SLOTS16(M, 14)         \
	DISPATCH_SLOTS16(M, 15)

#define DISPATCH_TRAMP(hi, lo)                                                          \
	static uint64_t dispatch_tramp_##hi##_##lo(uint64_t a1, uint64_t a2, uint64_t a3, \
						   uint64_t a4, uint64_t a5)              \
	{                                                                               \
		return dispatch_slot_run((hi) * 16 + (lo), a1, a2, a3, a4, a5);         \
	}
#define DISPATCH_TRAMP_REF(hi, lo) dispatch_tramp_##hi##_##lo,
DISPATCH_SLOTS(DISPATCH_TRAMP)
static const dispatch_fn dispatch_tramps[DISPATCH_MAX_EVENTS] = {
	DISPATCH_SLOTS(DISPATCH_TRAMP_REF)
};

/* The slot's entry: what ev->fast is whenever the raise is not a direct
 * call.  Static code, so a raiser holding a stale ev->fast is harmless; it
 * disables preemption before it loads the set's routine (or the walk's
 * trampoline), which therefore cannot be reclaimed before it runs, and
 * which re-enables it (kernel/dispatch_gen.h). */
#define DISPATCH_ENTRY(hi, lo)                                                          \
	static uint64_t dispatch_entry_##hi##_##lo(uint64_t a1, uint64_t a2, uint64_t a3, \
						   uint64_t a4, uint64_t a5)              \
	{                                                                               \
		dispatch_preempt_inc();                                                 \
		return __atomic_load_n(&dispatch_events[(hi) * 16 + (lo)].code,         \
				       __ATOMIC_ACQUIRE)(a1, a2, a3, a4, a5);           \
	}
#define DISPATCH_ENTRY_REF(hi, lo) dispatch_entry_##hi##_##lo,
DISPATCH_SLOTS(DISPATCH_ENTRY)
static const dispatch_fn dispatch_entries[DISPATCH_MAX_EVENTS] = {
	DISPATCH_SLOTS(DISPATCH_ENTRY_REF)
};
/* clang-format on */
_Static_assert(DISPATCH_MAX_EVENTS == 256, "one trampoline per event slot");

/* ------------------------------------------------------------ quiescence */

static void dispatch_retire(struct dispatch_limbo *l)
{
	/* Tag with the next grace period: only CPUs that pass a quiescent point
	 * after this increment are known not to hold l. */
	l->tag = __atomic_add_fetch(&dispatch_gp, 1, __ATOMIC_ACQ_REL);
	l->next = dispatch_limbo_head;
	dispatch_limbo_head = l;
}

static bool dispatch_quiet_since(uint64_t tag)
{
	uint32_t self = dispatch_cpu_self(), ncpus = dispatch_cpu_count();
	for (uint32_t c = 0; c < ncpus; c++) {
		if (c == self && dispatch_cpus[c].nest == 0)
			continue;
		if (__atomic_load_n(&dispatch_cpus[c].seen, __ATOMIC_ACQUIRE) < tag)
			return false;
	}
	return true;
}

/* Called with the lock held. */
static uint32_t dispatch_reclaim_locked(void)
{
	struct dispatch_limbo **pp = &dispatch_limbo_head;
	uint32_t waiting = 0;
	while (*pp) {
		struct dispatch_limbo *l = *pp;
		if (dispatch_quiet_since(l->tag)) {
			*pp = l->next;
			if (l->is_set)
				dispatch_gen_free(&((struct dispatch_set *)l)->code);
			model_free(l);
		} else {
			pp = &l->next;
			waiting++;
		}
	}
	return waiting;
}

uint32_t dispatch_reclaim(void)
{
	uint32_t waiting;
	struct dispatch_cpu *cpu = &dispatch_cpus[dispatch_cpu_self()];
	if (cpu->nest == 0)
		__atomic_store_n(&cpu->seen, __atomic_load_n(&dispatch_gp, __ATOMIC_ACQUIRE),
		                 __ATOMIC_RELEASE);
	if (dispatch_lock())
		return UINT32_MAX;
	waiting = dispatch_reclaim_locked();
	dispatch_unlock();
	return waiting;
}

bool dispatch_inside_raise(void)
{
	return dispatch_cpus[dispatch_cpu_self()].nest != 0;
}

int dispatch_synchronize(void)
{
	struct dispatch_cpu *cpu = &dispatch_cpus[dispatch_cpu_self()];
	uint64_t tag;

	if (cpu->nest)
		return -EBUSY;
	tag = __atomic_add_fetch(&dispatch_gp, 1, __ATOMIC_ACQ_REL);
	__atomic_store_n(&cpu->seen, tag, __ATOMIC_RELEASE);
	/* Other CPUs record the new grace period when they leave their
	 * outermost raise or pass a quiescent point (dispatch_reclaim). */
	while (!dispatch_quiet_since(tag))
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
	dispatch_reclaim();
	return 0;
}

/* -------------------------------------------------------------- ledger */

void dispatch_note_acquire(void *ref, void (*release)(void *ref))
{
	struct dispatch_frame *f = dispatch_cpus[dispatch_cpu_self()].frame;
	if (!f || !ref)
		return;
	if (f->n == DISPATCH_MAX_HELD) {
		f->overflow = true;
		return;
	}
	f->held[f->n].ref = ref;
	f->held[f->n].release = release;
	f->n++;
}

void dispatch_note_release(void *ref)
{
	struct dispatch_frame *f = dispatch_cpus[dispatch_cpu_self()].frame;
	if (!f)
		return;
	for (uint32_t i = f->n; i-- > 0;) {
		if (f->held[i].ref == ref) {
			for (uint32_t j = i; j + 1 < f->n; j++)
				f->held[j] = f->held[j + 1];
			f->n--;
			return;
		}
	}
}

/* ------------------------------------------------------------ raising */

/* The inline-test guard (dispatch.h): its reference evaluation. */
uint64_t dispatch_test_eval(uint64_t test, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4)
{
	const struct dispatch_test *x = (const struct dispatch_test *)(uintptr_t)test;
	const uint64_t a[4] = {a1, a2, a3, a4};

	for (uint32_t i = 0; i < x->n; i++) {
		uint64_t v = a[x->t[i].arg];

		if (x->t[i].off != DISPATCH_TEST_VALUE)
			v = *(const uint64_t *)(uintptr_t)(v + x->t[i].off);
		if (v - x->t[i].lo > x->t[i].hi - x->t[i].lo)
			return 0;
	}
	return 1;
}

const struct rt_sig dispatch_test_sig = {
    "dispatch_test", (void *)dispatch_test_eval, 0, {{0}}, {RT_RET_SCALAR, NULL, 0, false, false},
    RT_SIG_PURE};

/* A test guard: well formed for ev, from a native installer. */
static int dispatch_check_test(const struct rt_sig *ev, const struct dispatch_guard *g)
{
	const struct dispatch_test *x = g->closure;

	if (g->proc.jit || !g->has_closure || !x || x->n == 0 || x->n > DISPATCH_TEST_TERMS)
		return -EINVAL;
	for (uint32_t i = 0; i < x->n; i++) {
		uint32_t arg = x->t[i].arg;

		if (arg >= ev->nargs || arg >= 4 || x->t[i].lo > x->t[i].hi)
			return -EINVAL;
		if (x->t[i].off != DISPATCH_TEST_VALUE &&
		    (ev->args[arg].kind != RT_ARG_REF ||
		     (ev->args[arg].size && (uint64_t)x->t[i].off + 8 > ev->args[arg].size)))
			return -EINVAL;
	}
	return 0;
}

/* Release what an extension invocation still holds in its ledger frame. */
static void dispatch_frame_release(struct dispatch_frame *fr)
{
	for (uint32_t i = fr->n; i-- > 0;)
		if (fr->held[i].release)
			fr->held[i].release(fr->held[i].ref);
	fr->n = 0;
}

/* Run an extension procedure with the invocation ledger in place.  Returns
 * false if the run was aborted (everything it held has been released). */
static bool dispatch_run_ext(rt_jit_fn fn, bool has_closure, void *closure, const uint64_t a[5],
                             uint64_t fuel, uint64_t *r0, uint32_t *status)
{
	struct dispatch_cpu *cpu = &dispatch_cpus[dispatch_cpu_self()];
	struct dispatch_frame fr;
	struct rt_jit_ret r;

	fr.up = cpu->frame;
	fr.n = 0;
	fr.overflow = false;
	cpu->frame = &fr;
	if (has_closure)
		r = fn((uint64_t)(uintptr_t)closure, a[0], a[1], a[2], a[3], fuel);
	else
		r = fn(a[0], a[1], a[2], a[3], a[4], fuel);
	cpu->frame = fr.up;
	/* A normal exit holds nothing (the verifier proves it); an abort may. */
	dispatch_frame_release(&fr);
	*r0 = r.r0;
	*status = (uint32_t)r.status;
	return r.status == RT_RUN_OK;
}

static uint64_t dispatch_call_native(dispatch_fn fn, bool has_closure, void *closure,
                                     const uint64_t a[5])
{
	if (has_closure)
		return fn((uint64_t)(uintptr_t)closure, a[0], a[1], a[2], a[3]);
	return fn(a[0], a[1], a[2], a[3], a[4]);
}

/* b's extension handler was aborted: apply its abort policy. */
static void dispatch_aborted(struct dispatch_binding *b, uint32_t status)
{
	__atomic_add_fetch(&b->aborts, 1, __ATOMIC_RELAXED);
	if (b->policy == DISPATCH_ABORT_DISABLE)
		__atomic_store_n(&b->disabled, true, __ATOMIC_RELEASE);
	if (b->ev->on_abort)
		b->ev->on_abort(b->ev->on_abort_arg, b, status);
}

/* Inlined at every call site, so that its native argument (a constant there)
 * folds: with native true the extension-only tests compile away. */
#define DISPATCH_INLINE static inline __attribute__((always_inline))

DISPATCH_INLINE bool dispatch_guards_hold(const struct dispatch_entry *e, const uint64_t a[5],
                                          const bool native)
{
	for (uint32_t i = 0; i < e->nguards; i++) {
		const struct dispatch_gentry *g = &e->g[i];
		uint64_t r;
		uint32_t st;
		if (!native && g->jit) {
			if (!dispatch_run_ext(g->jit, g->has_closure, g->closure, a, e->fuel, &r,
			                      &st))
				return false; /* an aborted guard is false */
		} else {
			r = dispatch_call_native(g->native, g->has_closure, g->closure, a);
		}
		if (!r)
			return false;
	}
	return true;
}

/* Native, unguarded, closure-free handlers and no result handler. */
static int dispatch_walk_simple(const struct dispatch_set *s, const uint64_t a[5],
                                struct dispatch_outcome *o)
{
	uint64_t r = 0;
	uint32_t n = s->exclusive && s->n > 1 ? 1 : s->n;
	for (uint32_t i = 0; i < n; i++)
		r = s->e[i].native(a[0], a[1], a[2], a[3], a[4]);
	o->result = r;
	o->fired = n;
	return DISPATCH_HANDLED;
}

/* The walk: guards, handlers, the result handler, exclusivity.  One
 * definition, compiled twice (dispatch_walk_native, dispatch_walk_general):
 * with native true, for a set of native handlers and guards only, the tests
 * that only extension or async entries can pass (disabled flag, async
 * hand-off, fuel and ledger) are constant-folded away.  In such a set
 * nothing can be disabled (only an aborted extension handler disables its
 * binding) and nothing is async, so both copies give the same results. */
DISPATCH_INLINE int dispatch_walk_entries(const struct dispatch_set *s, const uint64_t a[5],
                                          struct dispatch_outcome *o, const bool native)
{
	uint64_t acc = s->default_result, last = 0, r;
	uint32_t st;

	for (uint32_t i = 0; i < s->n; i++) {
		const struct dispatch_entry *e = &s->e[i];
		if (!native && __atomic_load_n(&e->b->disabled, __ATOMIC_ACQUIRE))
			continue;
		if (!native && e->async) {
			/* Its guards and handler run later on the runner's strand;
			 * its result does not reach this raise. */
			dispatch_async_run_fn(e->b, a);
			continue;
		}
		if (e->nguards && !dispatch_guards_hold(e, a, native))
			continue;
		if (!native && e->jit) {
			if (!dispatch_run_ext(e->jit, e->has_closure, e->closure, a, e->fuel, &r,
			                      &st)) {
				o->aborted++;
				dispatch_aborted(e->b, st);
				continue;
			}
		} else {
			r = dispatch_call_native(e->native, e->has_closure, e->closure, a);
		}
		if (s->result_fn)
			acc = s->result_fn(s->result_arg, acc, r, o->fired);
		last = r;
		o->fired++;
		if (s->exclusive)
			break; /* the first accepting handler wins */
	}
	if (o->fired == 0) {
		o->result = s->default_result;
		return DISPATCH_UNHANDLED;
	}
	/* One result is returned as a procedure call's would be; several are
	 * combined by the result handler (default: the last one). */
	o->result = (o->fired == 1 || !s->result_fn) ? last : acc;
	return DISPATCH_HANDLED;
}

/* Native handlers and guards (closures and a result handler allowed). */
static int dispatch_walk_native(const struct dispatch_set *s, const uint64_t a[5],
                                struct dispatch_outcome *o)
{
	return dispatch_walk_entries(s, a, o, true);
}

/* Anything: extension handlers and guards, disabled bindings, async. */
static int dispatch_walk_general(const struct dispatch_set *s, const uint64_t a[5],
                                 struct dispatch_outcome *o)
{
	return dispatch_walk_entries(s, a, o, false);
}

/* Nothing fired: run the default handler if there is one. */
static int dispatch_run_default(const struct dispatch_set *s, const uint64_t a[5],
                                struct dispatch_outcome *o)
{
	const struct dispatch_entry *d = &s->def;
	uint64_t r;
	uint32_t rs;

	if (!s->has_default)
		return DISPATCH_UNHANDLED;
	if (d->jit) {
		if (!dispatch_run_ext(d->jit, d->has_closure, d->closure, a, d->fuel, &r, &rs)) {
			o->aborted++;
			return DISPATCH_UNHANDLED;
		}
	} else {
		r = dispatch_call_native(d->native, d->has_closure, d->closure, a);
	}
	o->result = r;
	o->fired++;
	o->defaulted = true;
	return DISPATCH_HANDLED;
}

static int dispatch_run_set(const struct dispatch_set *s, const uint64_t a[5],
                            struct dispatch_outcome *o)
{
	int st = s->n ? s->walk(s, a, o) : (o->result = s->default_result, DISPATCH_UNHANDLED);
	if (st == DISPATCH_UNHANDLED)
		st = dispatch_run_default(s, a, o);
	return st;
}

/* Slow paths of the generated routines (kernel/dispatch_gen.h). */

/* Extension handler i ended with a status, or with references still in its
 * ledger frame: release them; on a status, apply the abort policy.  Returns
 * non-zero when the run was aborted (it does not count as fired). */
static int dispatch_gen_ext_slow(const void *set, uint32_t i, uint64_t status, void *frame)
{
	const struct dispatch_set *s = set;

	dispatch_frame_release(frame);
	if (status == RT_RUN_OK)
		return 0;
	dispatch_aborted(s->e[i].b, (uint32_t)status);
	return 1;
}

/* Nothing fired and there is no native default handler to call in line. */
static uint64_t dispatch_gen_unhandled(const void *set, const uint64_t a[5])
{
	const struct dispatch_set *s = set;
	struct dispatch_outcome o = {0};

	o.result = s->default_result;
	if (dispatch_run_default(s, a, &o) == DISPATCH_UNHANDLED)
		__atomic_add_fetch(&s->ev->unhandled, 1, __ATOMIC_RELAXED);
	return o.result;
}

/* Count a raise in this CPU's nesting (preemption off: the CPU cannot
 * change under it).  While the count is non-zero this CPU records no
 * quiescent point, so nothing the raise can see is reclaimed. */
static struct dispatch_cpu *dispatch_nest_enter(void)
{
	struct dispatch_cpu *cpu = &dispatch_cpus[dispatch_cpu_self()];

	cpu->nest++;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	return cpu;
}

/* Leave it; the outermost raise's exit is a quiescent point.  One locked
 * decrement: a native set's raise gets here preemptible (another raise on
 * this CPU may interleave) and possibly on another CPU than it counted
 * itself on.  A quiescent point recorded late or out of order only delays
 * reclaiming. */
static inline __attribute__((always_inline)) void dispatch_nest_leave(struct dispatch_cpu *cpu)
{
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	if (__builtin_expect(__atomic_sub_fetch(&cpu->nest, 1, __ATOMIC_RELEASE) == 0, 1))
		__atomic_store_n(&cpu->seen, __atomic_load_n(&dispatch_gp, __ATOMIC_ACQUIRE),
		                 __ATOMIC_RELEASE);
}

/* The generated routines' last step (dispatch_gen.h, leave), entered by a
 * jump once the routine has restored its registers: from the nesting's
 * decrement on this CPU may count as quiescent and the routine may be
 * reclaimed, so what follows it - the reschedule of an ephemeral set, the
 * return - must not run in the routine's own code. */
__attribute__((optimize("omit-frame-pointer"))) static uint64_t dispatch_gen_leave(uint64_t result,
                                                                                   void *cpu)
{
	dispatch_nest_leave(cpu);
	return result;
}

/* An ephemeral set's, back at preemption depth 0 with a reschedule asked
 * for (out of line: the common way out keeps the result in rdi/rax). */
#ifdef SPINDLE_KERNEL
static __attribute__((noinline)) uint64_t dispatch_gen_leave_resched(uint64_t result)
{
	sched_preempt_check();
	return result;
}
#endif

__attribute__((optimize("omit-frame-pointer"))) static uint64_t
dispatch_gen_leave_ephemeral(uint64_t result, void *cpu)
{
	dispatch_nest_leave(cpu);
#ifdef SPINDLE_KERNEL
	if (__builtin_expect(arch_preempt_dec_resched(), 0))
		return dispatch_gen_leave_resched(result);
#else
	dispatch_preempt_leave();
#endif
	return result;
}

/* The walk's raise, as the generated routines do it: held says the
 * caller (the slot's entry) has already disabled preemption once. */
static int dispatch_enter_run(struct dispatch_event *ev, const uint64_t a[5],
                              struct dispatch_outcome *o, bool held)
{
	struct dispatch_cpu *cpu;
	const struct dispatch_set *s;
	bool ephemeral;
	int st;

	if (!held)
		dispatch_preempt_inc();
	cpu = dispatch_nest_enter();
	s = __atomic_load_n(&ev->set, __ATOMIC_ACQUIRE);
	ephemeral = s->ephemeral;
	if (!ephemeral)
		dispatch_preempt_dec(); /* native handlers may block */
	st = dispatch_run_set(s, a, o);
	dispatch_nest_leave(cpu);
	if (ephemeral)
		dispatch_preempt_leave();
	return st;
}

static uint64_t dispatch_slot_run(uint32_t slot, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
                                  uint64_t a5)
{
	struct dispatch_event *ev = &dispatch_events[slot];
	uint64_t a[5] = {a1, a2, a3, a4, a5};
	struct dispatch_outcome o = {0};
	if (dispatch_enter_run(ev, a, &o, true) == DISPATCH_UNHANDLED)
		__atomic_add_fetch(&ev->unhandled, 1, __ATOMIC_RELAXED);
	return o.result;
}

static bool dispatch_event_valid(const struct dispatch_event *ev)
{
	uintptr_t p = (uintptr_t)ev, base = (uintptr_t)dispatch_events;
	if (p < base || p >= base + sizeof(dispatch_events))
		return false;
	if ((p - base) % sizeof(*ev) != 0)
		return false;
	return __atomic_load_n(&ev->live, __ATOMIC_ACQUIRE);
}

int dispatch_raise(struct dispatch_event *ev, const uint64_t args[5], struct dispatch_outcome *out)
{
	struct dispatch_outcome o = {0};
	uint64_t zero[5] = {0};
	int st;

	if (!dispatch_event_valid(ev))
		return -ENOENT;
	st = dispatch_enter_run(ev, args ? args : zero, &o, false);
	if (out)
		*out = o;
	return st;
}

/* ------------------------------------------------------------ set build */

/* An extension entry with a native form (plain or unmetered, and within
 * the binding's fuel) is called as the C function it is. */
static void dispatch_fill_entry(struct dispatch_entry *e, const struct dispatch_proc *p,
                                rt_import_fn plain, bool calls, void *closure, bool has_closure,
                                uint64_t fuel)
{
	e->jit = plain ? NULL : p->jit;
	e->native = plain ? (dispatch_fn)plain : p->jit ? NULL : (dispatch_fn)p->sig->fn;
	e->calls = plain && calls;
	e->closure = closure;
	e->has_closure = has_closure;
	e->fuel = fuel;
}

static void dispatch_fill_guard(struct dispatch_gentry *x, const struct dispatch_binding *b,
                                uint32_t g)
{
	const struct dispatch_guard *bg = &b->guards[g];
	rt_import_fn plain = b->gplain[g];

	if (g == b->gtest_at) {
		/* The extension guard's meaning, tested instead of run: the
		 * routine compares in line (dispatch_generate). */
		*x = (struct dispatch_gentry){dispatch_test_eval, NULL, (void *)&b->gtest, true,
		                              false};
		return;
	}
	x->jit = plain ? NULL : bg->proc.jit;
	x->native = plain          ? (dispatch_fn)plain
	            : bg->proc.jit ? NULL
	                           : (dispatch_fn)bg->proc.sig->fn;
	x->calls = plain && b->gcalls[g];
	x->closure = bg->closure;
	x->has_closure = bg->has_closure;
}

static bool dispatch_runnable(const struct dispatch_binding *b)
{
	return b->installed && (!(b->options & DISPATCH_ASYNC) || dispatch_async_run_fn) &&
	       !__atomic_load_n(&b->disabled, __ATOMIC_ACQUIRE);
}

/* What a generated routine calls on entry: the raising CPU's bookkeeping. */
static void *dispatch_gen_cpu(void)
{
	return &dispatch_cpus[dispatch_cpu_self()];
}

/* Generate s's dispatch routine (lock held).  Failure (no code memory)
 * leaves s->code empty and the trampoline walks the set instead. */
static void dispatch_generate(struct dispatch_set *s)
{
	struct dispatch_gen_desc d = {0};
	struct dispatch_gen_entry *ge;

	ge = model_zalloc(sizeof(*ge) * (s->n ? s->n : 1));
	if (!ge)
		return;
	for (uint32_t i = 0; i < s->n; i++) {
		const struct dispatch_entry *e = &s->e[i];
		ge[i].h.fn = e->jit ? (const void *)e->jit : (const void *)e->native;
		ge[i].h.jit = e->jit != NULL;
		ge[i].h.closure = (uint64_t)(uintptr_t)e->closure;
		ge[i].h.has_closure = e->has_closure;
		ge[i].nguards = e->nguards;
		ge[i].fuel = e->fuel;
		ge[i].disabled = &e->b->disabled;
		for (uint32_t g = 0; g < e->nguards; g++) {
			const struct dispatch_gentry *x = &e->g[g];
			ge[i].g[g].fn = x->jit ? (const void *)x->jit : (const void *)x->native;
			ge[i].g[g].jit = x->jit != NULL;
			ge[i].g[g].closure = (uint64_t)(uintptr_t)x->closure;
			ge[i].g[g].has_closure = x->has_closure;
			if (x->native == dispatch_test_eval)
				ge[i].g[g].test = x->closure;
		}
	}
	d.e = ge;
	d.n = s->n;
	d.nargs = s->ev->sig->nargs;
	d.exclusive = s->exclusive;
	d.result_fn = s->result_fn;
	d.result_arg = s->result_arg;
	d.default_result = s->default_result;
	if (s->has_default && !s->def.jit) {
		d.native_default = true;
		d.def.fn = (const void *)s->def.native;
		d.def.closure = (uint64_t)(uintptr_t)s->def.closure;
		d.def.has_closure = s->def.has_closure;
	}
	d.set = s;
	d.cpu_self = dispatch_gen_cpu;
	d.cpu_base = dispatch_cpus;
	d.cpu_size = sizeof(dispatch_cpus[0]);
	d.nest_off = offsetof(struct dispatch_cpu, nest);
	d.frame_slot_off = offsetof(struct dispatch_cpu, frame);
	d.leave = s->ephemeral ? dispatch_gen_leave_ephemeral : dispatch_gen_leave;
#ifndef SPINDLE_KERNEL
	d.cpu_fixed = &dispatch_cpus[0]; /* dispatch_cpu_self() is 0 */
	d.preempt = &dispatch_host_preempt;
#endif
	d.ephemeral = s->ephemeral;
	d.frame_size = sizeof(struct dispatch_frame);
	d.frame_up_off = offsetof(struct dispatch_frame, up);
	d.frame_n_off = offsetof(struct dispatch_frame, n);
	d.frame_overflow_off = offsetof(struct dispatch_frame, overflow);
	d.ext_slow = dispatch_gen_ext_slow;
	d.unhandled = dispatch_gen_unhandled;
	(void)dispatch_gen_build(&d, &s->code);
	model_free(ge);
}

/* Build the set for ev's current state (lock held).  NULL on ENOMEM. */
static struct dispatch_set *dispatch_build(struct dispatch_event *ev)
{
	struct dispatch_set *s;
	uint32_t n = 0, i = 0;
	bool simple = !ev->result_fn, native = true, async = false;

	for (struct dispatch_binding *b = ev->bindings; b; b = b->next)
		n += dispatch_runnable(b);
	s = model_zalloc(sizeof(*s) + n * sizeof(s->e[0]));
	if (!s)
		return NULL;
	s->ev = ev;
	s->n = n;
	s->result_fn = ev->result_fn;
	s->result_arg = ev->result_arg;
	s->default_result = ev->default_result;
	s->exclusive = ev->exclusive;
	if (ev->has_default) {
		s->has_default = true;
		dispatch_fill_entry(&s->def, &ev->default_handler, NULL, false, ev->default_closure,
		                    ev->default_has_closure, ev->default_fuel);
	}
	for (struct dispatch_binding *b = ev->bindings; b; b = b->next) {
		struct dispatch_entry *e;
		if (!dispatch_runnable(b))
			continue;
		e = &s->e[i++];
		dispatch_fill_entry(e, &b->handler, b->plain, b->pcalls, b->closure,
		                    b->options & DISPATCH_CLOSURE, b->fuel);
		e->b = b;
		e->nguards = (uint8_t)b->nguards;
		for (uint32_t g = 0; g < b->nguards; g++) {
			dispatch_fill_guard(&e->g[g], b, g);
			if (e->g[g].jit)
				native = false;
		}
		e->async = b->options & DISPATCH_ASYNC;
		async |= e->async;
		/* Extension code runs with preemption off: metered entries and
		 * native forms that call interface procedures. */
		if (e->jit || e->calls)
			s->ephemeral = true;
		for (uint32_t g = 0; g < e->nguards; g++)
			s->ephemeral |= e->g[g].jit || e->g[g].calls;
		if (e->jit || e->async)
			native = false;
		if (e->jit || e->has_closure || e->nguards || e->async)
			simple = false;
	}
	s->walk = simple   ? dispatch_walk_simple
	          : native ? dispatch_walk_native
	                   : dispatch_walk_general;
	s->ephemeral |= s->has_default && s->def.jit;
	s->limbo.is_set = true;
	s->direct = n == 1 && !s->e[0].jit && !s->e[0].calls && !s->e[0].has_closure &&
	            !s->e[0].nguards && !s->e[0].async;
	if (s->direct)
		s->ephemeral = false; /* its default never runs: the one handler always fires */
	if (!s->direct && dispatch_codegen && !async)
		dispatch_generate(s); /* on failure the walk serves; async sets walk */
	return s;
}

/* Publish s as ev's set (lock held); the old one goes to limbo. */
static void dispatch_publish(struct dispatch_event *ev, struct dispatch_set *s)
{
	struct dispatch_set *old = ev->set;
	dispatch_fn fast = dispatch_entries[ev->slot];
	dispatch_fn code = s->code.fn ? s->code.fn : dispatch_tramps[ev->slot];

	__atomic_store_n(&ev->set, s, __ATOMIC_RELEASE);
	/* The routine first: the entry may already be the call site. */
	__atomic_store_n(&ev->code, code, __ATOMIC_RELEASE);
	if (s->direct)
		fast = s->e[0].native; /* the raise is now a direct call */
	__atomic_store_n(&ev->fast, fast, __ATOMIC_RELEASE);
	if (old)
		dispatch_retire(&old->limbo);
}

/* ---------------------------------------------------------- type checks */

static bool dispatch_arg_equal(const struct rt_arg *x, const struct rt_arg *y)
{
	return x->kind == y->kind && x->type == y->type && x->size == y->size &&
	       x->release == y->release;
}

/* A handler (or, with guard, a guard) of event sig `ev`. */
static int dispatch_check_proc(const struct rt_sig *ev, const struct dispatch_proc *p, bool closure,
                               bool guard)
{
	const struct rt_sig *s = p->sig;
	uint32_t skip = closure ? 1 : 0;

	if (!s || (!p->jit && !s->fn))
		return -EINVAL;
	if (closure && ev->nargs > 4)
		return -ESIG; /* no register left for the closure */
	if (s->nargs != ev->nargs + skip)
		return -ESIG;
	if (closure && s->args[0].kind != RT_ARG_SCALAR && s->args[0].kind != RT_ARG_REF &&
	    s->args[0].kind != RT_ARG_REF_OR_NULL)
		return -ESIG;
	for (uint32_t i = 0; i < ev->nargs; i++)
		if (!dispatch_arg_equal(&s->args[i + skip], &ev->args[i]))
			return -ESIG;
	if (guard) {
		if (s->ret.kind != RT_RET_SCALAR)
			return -ESIG;
		if (!(s->flags & RT_SIG_PURE))
			return -EIMPURE;
		return 0;
	}
	if (s->ret.kind != ev->ret.kind || s->ret.type != ev->ret.type ||
	    s->ret.acquire != ev->ret.acquire)
		return -ESIG;
	return 0;
}

static bool dispatch_same_proc(const struct dispatch_proc *x, const struct dispatch_proc *y)
{
	if (x->jit || y->jit)
		return x->jit == y->jit;
	return x->sig->fn == y->sig->fn;
}

/* --------------------------------------------------------------- events */

int dispatch_init(void)
{
	for (uint32_t c = 0; c < DISPATCH_MAX_CPUS; c++)
		dispatch_cpus[c].seen = dispatch_gp;
#ifdef SPINDLE_KERNEL
	sched_set_quiescent_hook(dispatch_quiescent);
#endif
	return 0;
}

struct dispatch_event *dispatch_event_lookup(const char *name)
{
	if (!name)
		return NULL;
	for (uint32_t i = 0; i < DISPATCH_MAX_EVENTS; i++)
		if (dispatch_events[i].live && strcmp(dispatch_events[i].name, name) == 0)
			return &dispatch_events[i];
	return NULL;
}

static struct dispatch_binding *dispatch_new_binding(struct dispatch_event *ev,
                                                     const struct module *owner,
                                                     const struct dispatch_proc *h)
{
	struct dispatch_binding *b = model_zalloc(sizeof(*b));
	if (!b)
		return NULL;
	b->ev = ev;
	b->owner = owner;
	b->handler = *h;
	b->fuel = ev->default_fuel;
	b->gtest_at = DISPATCH_MAX_GUARDS;
	return b;
}

int dispatch_event_create(const char *name, const struct rt_sig *sig,
                          const struct module *authority, const struct dispatch_proc *intrinsic,
                          struct dispatch_event **out)
{
	struct dispatch_event *ev = NULL;
	struct dispatch_binding *b = NULL;
	struct dispatch_set *s = NULL;
	int err;

	if (!name || !sig || !authority || !out || sig->nargs > 5)
		return -EINVAL;
	if (intrinsic && (err = dispatch_check_proc(sig, intrinsic, false, false)))
		return err;
	if ((err = dispatch_lock()))
		return err;
	if (dispatch_event_lookup(name)) {
		err = -EEXIST;
		goto out_unlock;
	}
	for (uint32_t i = 0; i < DISPATCH_MAX_EVENTS && !ev; i++)
		if (!dispatch_events[i].live)
			ev = &dispatch_events[i];
	if (!ev) {
		err = -ENOSPC;
		goto out_unlock;
	}
	{
		/* A reused slot still holds its last set: retire it via publish. */
		struct dispatch_set *last = ev->set;
		dispatch_fn code = ev->code, fast = ev->fast;
		memset(ev, 0, sizeof(*ev));
		ev->set = last;
		ev->code = code; /* a stale raiser may still reach the slot's entry */
		ev->fast = fast;
	}
	ev->slot = (uint32_t)(ev - dispatch_events);
	ev->name = name;
	ev->sig = sig;
	ev->authority = authority;
	ev->default_fuel = DISPATCH_DEFAULT_FUEL;
	if (intrinsic) {
		b = dispatch_new_binding(ev, authority, intrinsic);
		if (!b) {
			err = -ENOMEM;
			goto out_unlock;
		}
		b->installed = true;
		ev->bindings = b;
		ev->intrinsic = b;
	}
	s = dispatch_build(ev);
	if (!s) {
		err = -ENOMEM;
		goto err_free_binding;
	}
	dispatch_publish(ev, s);
	__atomic_store_n(&ev->live, true, __ATOMIC_RELEASE);
	*out = ev;
	dispatch_unlock();
	return 0;

err_free_binding:
	model_free(b);
	ev->bindings = NULL;
	ev->intrinsic = NULL;
out_unlock:
	dispatch_unlock();
	return err;
}

int dispatch_event_destroy(struct dispatch_event *ev, const struct module *requester)
{
	struct dispatch_binding *b, *next;
	struct dispatch_set *empty;
	int err;

	if ((err = dispatch_lock()))
		return err;
	if (!dispatch_event_valid(ev)) {
		err = -ENOENT;
		goto out_unlock;
	}
	if (requester != ev->authority) {
		err = -EPERM;
		goto out_unlock;
	}
	for (b = ev->bindings; b; b = b->next)
		if (b->owner != ev->authority) {
			err = -EBUSY;
			goto out_unlock;
		}
	/* Raisers still holding ev->fast reach the trampoline, which finds an
	 * empty set: nothing handles it.  That set stays until the slot is
	 * reused. */
	empty = model_zalloc(sizeof(*empty));
	if (!empty) {
		err = -ENOMEM;
		goto out_unlock;
	}
	empty->ev = ev;
	empty->walk = dispatch_walk_general;
	__atomic_store_n(&ev->live, false, __ATOMIC_RELEASE);
	dispatch_publish(ev, empty);
	for (b = ev->bindings; b; b = next) {
		next = b->next;
		b->installed = false;
		dispatch_retire(&b->limbo);
	}
	ev->bindings = NULL;
	ev->intrinsic = NULL;
	dispatch_reclaim_locked();
	err = 0;
out_unlock:
	dispatch_unlock();
	return err;
}

/* Compile ev's changed state into a new set and publish it (lock held).
 * -ENOMEM leaves the old set published: the caller puts back what it
 * changed, so the event's state and its set still agree. */
static int dispatch_rebuild(struct dispatch_event *ev)
{
	struct dispatch_set *s = dispatch_build(ev);

	if (!s)
		return -ENOMEM;
	dispatch_publish(ev, s);
	dispatch_reclaim_locked();
	return 0;
}

static int dispatch_authority_only(struct dispatch_event *ev, const struct module *requester)
{
	if (!dispatch_event_valid(ev))
		return -ENOENT;
	if (requester != ev->authority)
		return -EPERM;
	return 0;
}

int dispatch_set_authorizer(struct dispatch_event *ev, dispatch_authorizer_fn fn, void *arg,
                            const struct module *requester)
{
	int err;
	if ((err = dispatch_lock()))
		return err;
	err = dispatch_authority_only(ev, requester);
	if (!err) {
		ev->authorizer = fn;
		ev->authorizer_arg = arg;
	}
	dispatch_unlock();
	return err;
}

int dispatch_set_exclusive(struct dispatch_event *ev, bool exclusive,
                           const struct module *requester)
{
	int err;

	if ((err = dispatch_lock()))
		return err;
	if ((err = dispatch_authority_only(ev, requester)))
		goto out_unlock;
	ev->exclusive = exclusive;
	if ((err = dispatch_rebuild(ev)))
		ev->exclusive = !exclusive;
out_unlock:
	dispatch_unlock();
	return err;
}

int dispatch_set_abort_hook(struct dispatch_event *ev, dispatch_abort_fn fn, void *arg,
                            const struct module *requester)
{
	int err;
	if ((err = dispatch_lock()))
		return err;
	err = dispatch_authority_only(ev, requester);
	if (!err) {
		ev->on_abort_arg = arg;
		__atomic_store_n(&ev->on_abort, fn, __ATOMIC_RELEASE);
	}
	dispatch_unlock();
	return err;
}

/* Ask the authority about op (lock held).  0 to go ahead. */
static int dispatch_authorize(struct dispatch_event *ev, struct dispatch_decision *d)
{
	if (d->requester == ev->authority)
		return 0;
	if (!ev->authorizer)
		return d->op == DISPATCH_OP_INSTALL ? 0 : -EPERM;
	return ev->authorizer(ev->authorizer_arg, d);
}

/* Ask the authority whether requester may change ev's op setting (a
 * decision with nothing to impose: SET_RESULT, SET_DEFAULT; lock held). */
static int dispatch_authorize_set(struct dispatch_event *ev, enum dispatch_op op,
                                  const struct module *requester)
{
	struct dispatch_decision d = {0};

	d.op = op;
	d.event = ev;
	d.requester = requester;
	return dispatch_authorize(ev, &d);
}

int dispatch_impose_guard(struct dispatch_decision *d, const struct dispatch_guard *g)
{
	if (!d || !g)
		return -EINVAL;
	if (d->nimposed == DISPATCH_MAX_GUARDS)
		return -ENOSPC;
	d->imposed[d->nimposed++] = *g;
	return 0;
}

int dispatch_set_result(struct dispatch_event *ev, dispatch_result_fn fn, void *arg,
                        uint64_t default_result, const struct module *requester)
{
	dispatch_result_fn old_fn;
	void *old_arg;
	uint64_t old_def;
	int err;

	if ((err = dispatch_lock()))
		return err;
	err = dispatch_event_valid(ev) ? 0 : -ENOENT;
	if (err || (err = dispatch_authorize_set(ev, DISPATCH_OP_SET_RESULT, requester)))
		goto out_unlock;
	old_fn = ev->result_fn;
	old_arg = ev->result_arg;
	old_def = ev->default_result;
	ev->result_fn = fn;
	ev->result_arg = arg;
	ev->default_result = default_result;
	if ((err = dispatch_rebuild(ev))) {
		ev->result_fn = old_fn;
		ev->result_arg = old_arg;
		ev->default_result = old_def;
	}
out_unlock:
	dispatch_unlock();
	return err;
}

int dispatch_set_default(struct dispatch_event *ev, const struct dispatch_proc *handler,
                         void *closure, bool has_closure, const struct module *requester)
{
	struct dispatch_proc old_h;
	void *old_c;
	bool old_has, old_hc;
	int err;

	if ((err = dispatch_lock()))
		return err;
	err = dispatch_event_valid(ev) ? 0 : -ENOENT;
	if (err || (handler && (err = dispatch_check_proc(ev->sig, handler, has_closure, false))) ||
	    (err = dispatch_authorize_set(ev, DISPATCH_OP_SET_DEFAULT, requester)))
		goto out_unlock;
	old_h = ev->default_handler;
	old_c = ev->default_closure;
	old_has = ev->has_default;
	old_hc = ev->default_has_closure;
	ev->has_default = handler != NULL;
	if (handler)
		ev->default_handler = *handler;
	ev->default_closure = closure;
	ev->default_has_closure = has_closure;
	if ((err = dispatch_rebuild(ev))) {
		ev->default_handler = old_h;
		ev->default_closure = old_c;
		ev->has_default = old_has;
		ev->default_has_closure = old_hc;
	}
out_unlock:
	dispatch_unlock();
	return err;
}

/* ----------------------------------------------------------- bindings */

static bool dispatch_async_allowed(const struct rt_sig *sig);

static int dispatch_check_order(struct dispatch_event *ev, uint32_t options,
                                const struct dispatch_binding *anchor)
{
	uint32_t order = options & DISPATCH_ORDER_MASK;
	if (options & ~(DISPATCH_ORDER_MASK | DISPATCH_CLOSURE | DISPATCH_ASYNC))
		return -EINVAL;
	if (order & (order - 1))
		return -EINVAL; /* at most one ordering constraint */
	if (order & (DISPATCH_BEFORE | DISPATCH_AFTER)) {
		if (!anchor || anchor->ev != ev || !anchor->installed)
			return -EINVAL;
	}
	return 0;
}

/* Link b into ev's ordered list (lock held, cannot fail).  Groups: FIRST
 * bindings, then unconstrained ones, then LAST ones, each group in install
 * order; BEFORE/AFTER place b next to its anchor and in its anchor's group. */
static void dispatch_link(struct dispatch_event *ev, struct dispatch_binding *b,
                          struct dispatch_binding *anchor)
{
	struct dispatch_binding *pos = NULL, *prev = NULL; /* insert between prev and pos */
	uint32_t order = b->options & DISPATCH_ORDER_MASK;

	if (order == DISPATCH_BEFORE) {
		pos = anchor;
		prev = anchor->prev;
		b->options |= anchor->options & (DISPATCH_FIRST | DISPATCH_LAST);
	} else if (order == DISPATCH_AFTER) {
		prev = anchor;
		pos = anchor->next;
		b->options |= anchor->options & (DISPATCH_FIRST | DISPATCH_LAST);
	} else {
		/* Walk to the end of b's group. */
		for (pos = ev->bindings; pos; prev = pos, pos = pos->next) {
			bool pos_first = pos->options & DISPATCH_FIRST;
			bool pos_last = pos->options & DISPATCH_LAST;
			if (order == DISPATCH_FIRST && !pos_first)
				break;
			if (order == 0 && pos_last)
				break;
		}
	}
	b->prev = prev;
	b->next = pos;
	if (prev)
		prev->next = b;
	else
		ev->bindings = b;
	if (pos)
		pos->prev = b;
}

static void dispatch_unlink(struct dispatch_event *ev, struct dispatch_binding *b)
{
	if (b->prev)
		b->prev->next = b->next;
	else
		ev->bindings = b->next;
	if (b->next)
		b->next->prev = b->prev;
	b->next = b->prev = NULL;
}

/* The native forms an installer offers for an extension handler or guard
 * (install_req: plain, unmetered, guard_test) are for extension entries
 * only, one per procedure, and a guard test must be well formed for ev. */
static int dispatch_check_native_forms(const struct rt_sig *ev,
                                       const struct dispatch_install_req *req)
{
	bool gext = req->guard && req->guard->proc.jit;

	if ((req->plain && req->unmetered) || (req->guard_plain && req->guard_unmetered))
		return -EINVAL;
	if ((req->plain || req->unmetered) && !req->handler.jit)
		return -EINVAL;
	if ((req->guard_plain || req->guard_unmetered || req->guard_test) && !gext)
		return -EINVAL;
	if (req->guard_test) {
		struct dispatch_guard t = {
		    {&dispatch_test_sig, NULL, NULL}, (void *)req->guard_test, true};

		return dispatch_check_test(ev, &t);
	}
	return 0;
}

/* The installer's extension guard (at index b->nguards, about to be added):
 * its inline test or native form when b's fuel covers its worst case. */
static void dispatch_guard_forms(struct dispatch_binding *b, const struct dispatch_install_req *req)
{
	uint32_t g = b->nguards;

	if (!req->guard->proc.jit || b->fuel < req->guard_worst)
		return;
	if (req->guard_test) {
		b->gtest = *req->guard_test;
		b->gtest_at = g;
		return;
	}
	b->gplain[g] = req->guard_plain ? req->guard_plain : req->guard_unmetered;
	b->gcalls[g] = req->guard_unmetered != NULL;
}

/* The same for the handler. */
static void dispatch_handler_form(struct dispatch_binding *b,
                                  const struct dispatch_install_req *req)
{
	if (!req->handler.jit || b->fuel < req->worst)
		return;
	b->plain = req->plain ? req->plain : req->unmetered;
	b->pcalls = req->unmetered != NULL;
}

int dispatch_install(struct dispatch_event *ev, const struct dispatch_install_req *req,
                     const struct module *requester, struct dispatch_binding **out)
{
	struct dispatch_decision d = {0};
	struct dispatch_binding *b = NULL;
	bool closure;
	int err;

	if (!req || !requester || !out)
		return -EINVAL;
	if ((err = dispatch_lock()))
		return err;
	if (!dispatch_event_valid(ev)) {
		err = -ENOENT;
		goto out_unlock;
	}
	if ((err = dispatch_check_order(ev, req->options, req->anchor)))
		goto out_unlock;
	closure = req->options & DISPATCH_CLOSURE;
	if ((err = dispatch_check_proc(ev->sig, &req->handler, closure, false)))
		goto out_unlock;
	if (req->guard && req->guard->proc.sig == &dispatch_test_sig) {
		/* An inline test reads kernel objects: native installers only. */
		if (!(requester->flags & MODULE_TRUSTED) || req->guard->proc.ext) {
			err = -EPERM;
			goto out_unlock;
		}
		if ((err = dispatch_check_test(ev->sig, req->guard)))
			goto out_unlock;
	} else if (req->guard && (err = dispatch_check_proc(ev->sig, &req->guard->proc,
	                                                    req->guard->has_closure, true))) {
		goto out_unlock;
	}
	if ((err = dispatch_check_native_forms(ev->sig, req)))
		goto out_unlock;
	for (struct dispatch_binding *x = ev->bindings; x; x = x->next)
		if (x->owner == requester && dispatch_same_proc(&x->handler, &req->handler) &&
		    x->closure == (closure ? req->closure : NULL)) {
			err = -EEXIST;
			goto out_unlock;
		}

	/* Ask the authority; it may add constraints and impose guards. */
	d.op = DISPATCH_OP_INSTALL;
	d.event = ev;
	d.requester = requester;
	d.req = req;
	d.options = req->options;
	d.fuel = req->fuel ? req->fuel : ev->default_fuel;
	d.policy = DISPATCH_ABORT_DISABLE;
	if ((err = dispatch_authorize(ev, &d)))
		goto out_unlock;
	if ((d.options & DISPATCH_CLOSURE) != (req->options & DISPATCH_CLOSURE) || d.fuel == 0) {
		err = -EINVAL;
		goto out_unlock;
	}
	/* An ordering constraint the authority added replaces the installer's. */
	{
		uint32_t added = d.options & ~req->options & DISPATCH_ORDER_MASK;
		if (added)
			d.options = (d.options & ~DISPATCH_ORDER_MASK) | added;
	}
	if ((err = dispatch_check_order(ev, d.options, req->anchor)))
		goto out_unlock;
	if ((d.options & DISPATCH_ASYNC) && !dispatch_async_allowed(ev->sig)) {
		err = -EINVAL; /* arguments that live on the raiser's stack */
		goto out_unlock;
	}
	if (d.nimposed + (req->guard ? 1 : 0) > DISPATCH_MAX_GUARDS) {
		err = -EINVAL;
		goto out_unlock;
	}
	for (uint32_t i = 0; i < d.nimposed; i++)
		if ((err = d.imposed[i].proc.sig == &dispatch_test_sig
		               ? dispatch_check_test(ev->sig, &d.imposed[i])
		               : dispatch_check_proc(ev->sig, &d.imposed[i].proc,
		                                     d.imposed[i].has_closure, true)))
			goto out_unlock;

	b = dispatch_new_binding(ev, requester, &req->handler);
	if (!b) {
		err = -ENOMEM;
		goto out_unlock;
	}
	b->closure = closure ? req->closure : NULL;
	b->options = d.options;
	b->fuel = d.fuel;
	b->policy = d.policy;
	/* Imposed guards first: the authority's checks run before the
	 * installer's own. */
	for (uint32_t i = 0; i < d.nimposed; i++)
		b->guards[b->nguards++] = d.imposed[i];
	if (req->guard) {
		dispatch_guard_forms(b, req);
		b->guards[b->nguards++] = *req->guard;
	}
	dispatch_handler_form(b, req);
	b->installed = true;
	dispatch_link(ev, b, req->anchor);
	if ((err = dispatch_rebuild(ev))) {
		dispatch_unlink(ev, b);
		model_free(b);
		goto out_unlock;
	}
	*out = b;
out_unlock:
	dispatch_unlock();
	return err;
}

/* Find b among the installed bindings of the live events (lock held). */
static bool dispatch_binding_known(const struct dispatch_binding *b)
{
	for (uint32_t i = 0; i < DISPATCH_MAX_EVENTS; i++) {
		if (!dispatch_events[i].live)
			continue;
		for (struct dispatch_binding *x = dispatch_events[i].bindings; x; x = x->next)
			if (x == b)
				return true;
	}
	return false;
}

static int dispatch_uninstall_locked(struct dispatch_binding *b, const struct module *requester)
{
	struct dispatch_event *ev;
	struct dispatch_set *s;
	int err;

	if (!b || !dispatch_binding_known(b))
		return -ENOENT;
	ev = b->ev;
	if (requester != b->owner && requester != ev->authority) {
		/* Only the intrinsic handler may be removed by a third party, and
		 * only with the authority's consent. */
		struct dispatch_decision d = {0};
		if (b != ev->intrinsic)
			return -EPERM;
		d.op = DISPATCH_OP_UNINSTALL;
		d.event = ev;
		d.requester = requester;
		d.binding = b;
		if ((err = dispatch_authorize(ev, &d)))
			return err;
	}
	b->installed = false;
	s = dispatch_build(ev);
	if (!s) {
		b->installed = true;
		return -ENOMEM;
	}
	dispatch_unlink(ev, b);
	if (ev->intrinsic == b)
		ev->intrinsic = NULL;
	dispatch_publish(ev, s);
	if ((b->options & DISPATCH_ASYNC) && dispatch_async_cancel)
		dispatch_async_cancel(b); /* drop its queued runs before b can be freed */
	dispatch_retire(&b->limbo);
	return 0;
}

int dispatch_uninstall(struct dispatch_binding *b, const struct module *requester)
{
	int err;
	if (!requester)
		return -EINVAL;
	if ((err = dispatch_lock()))
		return err;
	err = dispatch_uninstall_locked(b, requester);
	dispatch_reclaim_locked();
	dispatch_unlock();
	return err;
}

int dispatch_uninstall_all(const struct module *m)
{
	int err = 0;
	if (!m)
		return -EINVAL;
	if ((err = dispatch_lock()))
		return err;
	for (uint32_t i = 0; i < DISPATCH_MAX_EVENTS && !err; i++) {
		struct dispatch_event *ev = &dispatch_events[i];
		struct dispatch_binding *b, *next;
		if (!ev->live)
			continue;
		for (b = ev->bindings; b && !err; b = next) {
			next = b->next;
			if (b->owner == m)
				err = dispatch_uninstall_locked(b, m);
		}
	}
	dispatch_reclaim_locked();
	dispatch_unlock();
	return err;
}

/* ---------------------------------------------------------- asynchrony */

/* Only scalar arguments can be copied for a later run (SPIN: asynchrony is
 * illegal for events with by-reference arguments). */
static bool dispatch_async_allowed(const struct rt_sig *sig)
{
	for (uint32_t i = 0; i < sig->nargs; i++)
		if (sig->args[i].kind != RT_ARG_SCALAR)
			return false;
	return true;
}

int dispatch_set_async_runner(dispatch_async_fn run, dispatch_async_cancel_fn cancel)
{
	if (!run || !cancel)
		return -EINVAL;
	if (dispatch_async_run_fn)
		return -EEXIST;
	dispatch_async_cancel = cancel;
	__atomic_store_n(&dispatch_async_run_fn, run, __ATOMIC_RELEASE);
	return 0;
}

int dispatch_run_async(struct dispatch_binding *b, const uint64_t a[5], uint64_t *result)
{
	struct dispatch_cpu *cpu;
	struct dispatch_entry e = {0};
	uint64_t r = 0;
	uint32_t st;
	int ran = 0;

	/* The caller has had preemption off since it took b from its queue
	 * (dispatch.h): that alone keeps b from being reclaimed before the
	 * nesting count below covers it, and it keeps this run's ledger frame
	 * and nesting from interleaving with another strand's, as an
	 * ephemeral raise's are.  So there is nothing to disable here. */
	if (!b || !a || dispatch_preempt_depth() == 0)
		return -EINVAL;
	cpu = dispatch_nest_enter();
	if (!b->installed || __atomic_load_n(&b->disabled, __ATOMIC_ACQUIRE)) {
		ran = -ENOENT;
		goto out;
	}
	dispatch_fill_entry(&e, &b->handler, b->plain, b->pcalls, b->closure,
	                    b->options & DISPATCH_CLOSURE, b->fuel);
	e.b = b;
	e.nguards = (uint8_t)b->nguards;
	for (uint32_t g = 0; g < b->nguards; g++)
		dispatch_fill_guard(&e.g[g], b, g);
	if (e.nguards && !dispatch_guards_hold(&e, a, false))
		goto out;
	if (e.jit) {
		if (!dispatch_run_ext(e.jit, e.has_closure, e.closure, a, e.fuel, &r, &st)) {
			dispatch_aborted(b, st);
			ran = DISPATCH_ASYNC_ABORTED;
			goto out;
		}
	} else {
		r = dispatch_call_native(e.native, e.has_closure, e.closure, a);
	}
	ran = 1;
	if (result)
		*result = r;
out:
	dispatch_nest_leave(cpu);
	return ran;
}

/* -------------------------------------------------------- introspection */

bool dispatch_is_direct(const struct dispatch_event *ev)
{
	const struct dispatch_set *s = ev ? __atomic_load_n(&ev->set, __ATOMIC_ACQUIRE) : NULL;
	return s && s->direct;
}

bool dispatch_is_generated(const struct dispatch_event *ev)
{
	const struct dispatch_set *s = ev ? __atomic_load_n(&ev->set, __ATOMIC_ACQUIRE) : NULL;
	return s && !s->direct && s->code.fn && ev->code == s->code.fn &&
	       ev->fast == dispatch_entries[ev->slot];
}

bool dispatch_set_codegen(bool on)
{
	bool old = dispatch_codegen;
	dispatch_codegen = on;
	return old;
}

uint32_t dispatch_handler_count(const struct dispatch_event *ev)
{
	uint32_t n = 0;
	if (!ev)
		return 0;
	for (struct dispatch_binding *b = ev->bindings; b; b = b->next)
		n++;
	return n;
}

uint32_t dispatch_foreign_bindings(const struct dispatch_event *ev)
{
	uint32_t n = 0;
	if (!ev)
		return 0;
	for (struct dispatch_binding *b = ev->bindings; b; b = b->next)
		n += b->owner != ev->authority;
	return n;
}

bool dispatch_binding_disabled(const struct dispatch_binding *b)
{
	return __atomic_load_n(&b->disabled, __ATOMIC_ACQUIRE);
}

uint32_t dispatch_binding_aborts(const struct dispatch_binding *b)
{
	return __atomic_load_n(&b->aborts, __ATOMIC_RELAXED);
}

uint32_t dispatch_binding_forms(const struct dispatch_binding *b)
{
	uint32_t f = 0;

	if (!b)
		return 0;
	if (b->plain)
		f |= DISPATCH_FORM_NATIVE_HANDLER;
	for (uint32_t g = 0; g < b->nguards; g++)
		if (b->gplain[g])
			f |= DISPATCH_FORM_NATIVE_GUARD;
	if (b->gtest_at < b->nguards)
		f |= DISPATCH_FORM_INLINE_GUARD;
	return f;
}

const struct module *dispatch_binding_owner(const struct dispatch_binding *b)
{
	return b->owner;
}
