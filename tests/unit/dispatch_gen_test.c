/*
 * dispatch_gen_test.c: the generated dispatch routines against the walk.
 *
 * For random handler sets (native and extension-style handlers and guards,
 * closures, imposed guards, ordering constraints, result and default
 * handlers, runs that abort and runs that leave references in their
 * ledger), every raise through the call site (the generated routine) must
 * give the same result, the same side effects in the same order, the same
 * aborts and the same "unhandled" verdict as dispatch_raise (the walk, the
 * reference).  Every procedure also records the preemption depth it runs
 * at, so the two must agree on it too (extension code: disabled; native-
 * only sets: preemptible); plain extension entries must be called as C
 * functions.  Then the routine's own duties: disabling per the abort
 * policy, releasing an aborted run's references, surviving its own set
 * being replaced while it runs (quiescence), and falling back to the walk.
 *
 * "Extension" procedures here are C functions with the JIT's ABI (fuel in
 * the sixth argument, {r0, status} returned in rax:rdx); domain_test and
 * extension_test run real JIT-compiled ones through the same routines.
 */
#include "tests/unit/check.h"

#include "kernel/dispatch.h"
#include "kernel/dispatch_gen.h"

static const struct module auth_mod = {"Auth", MODULE_TRUSTED};
static const struct module inst_mod = {"Installer", MODULE_TRUSTED};

/* ------------------------------------------------------------ the trace */

static uint64_t trace[512];
static uint32_t ntrace;

static void tr(uint64_t kind, uint64_t id, uint64_t a, uint64_t b, uint64_t c)
{
	uint64_t h = (id << 40) ^ (a * 1000003u) ^ (b * 10007u) ^ (c * 101u) ^
	             ((uint64_t)dispatch_preempt_depth() << 32);
	uint64_t v = (kind << 56) | (h & ((1ull << 56) - 1));
	if (ntrace < 512)
		trace[ntrace++] = v;
}

/* ----------------------------------------------------- the procedures */

#define SC                                                                                         \
	{                                                                                          \
		RT_ARG_SCALAR, NULL, 0, false                                                      \
	}
#define RET                                                                                        \
	{                                                                                          \
		RT_RET_SCALAR, NULL, 0, false, false                                               \
	}
/* The event: u64 E(a, b, c, d) (four, so closures fit). */
static const struct rt_sig ev_sig = {"Gen_Event", NULL, 4, {SC, SC, SC, SC}, RET, 0};

#define NPROC 8

#define NATIVE_H(k)                                                                                \
	static uint64_t nh##k(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e)          \
	{                                                                                          \
		(void)e; /* unspecified: the event declares four */                                \
		tr(1, k, a, b, c + d);                                                             \
		return (k)*1000 + a + b * 3 + d;                                                   \
	}
#define NATIVE_G(k)                                                                                \
	static uint64_t ng##k(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e)          \
	{                                                                                          \
		(void)e;                                                                           \
		tr(2, k, a, b, c + d);                                                             \
		return (a + b + (k)) % 3 != 0;                                                     \
	}
#define CLOSURE_H(k)                                                                               \
	static uint64_t ch##k(uint64_t cl, uint64_t a, uint64_t b, uint64_t c, uint64_t d)         \
	{                                                                                          \
		tr(3, k, cl, a, b + c + d);                                                        \
		return cl * 7 + a + (k);                                                           \
	}
#define CLOSURE_G(k)                                                                               \
	static uint64_t cg##k(uint64_t cl, uint64_t a, uint64_t b, uint64_t c, uint64_t d)         \
	{                                                                                          \
		tr(4, k, cl, a, b + c + d);                                                        \
		return (cl + a + (k)) % 4 != 0;                                                    \
	}

static void rel_note(void *ref)
{
	tr(9, 0, (uint64_t)(uintptr_t)ref, 0, 0);
}
static char refs[NPROC];

/* Extension-style handlers: abort (fuel) on some inputs, leave a reference
 * noted in the ledger on others (released by the dispatcher either way). */
#define JIT_H(k)                                                                                   \
	static struct rt_jit_ret jh##k(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e, \
	                               uint64_t fuel)                                              \
	{                                                                                          \
		(void)e;                                                                           \
		tr(5, k, a, b, c + d + fuel);                                                      \
		if ((a + (k)) % 4 == 1)                                                            \
			dispatch_note_acquire(&refs[k], rel_note);                                 \
		if ((a + b + (k)) % 5 == 0)                                                        \
			return (struct rt_jit_ret){0, RT_RUN_FUEL};                                \
		return (struct rt_jit_ret){(k)*77 + a * b, RT_RUN_OK};                             \
	}
#define JIT_G(k)                                                                                   \
	static struct rt_jit_ret jg##k(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e, \
	                               uint64_t fuel)                                              \
	{                                                                                          \
		(void)e;                                                                           \
		tr(6, k, a, b, c + d + fuel);                                                      \
		return (struct rt_jit_ret){(a + (k)) % 3 != 1,                                     \
		                           (b + (k)) % 7 == 0 ? RT_RUN_FUEL : RT_RUN_OK};          \
	}
#define JIT_CH(k)                                                                                  \
	static struct rt_jit_ret jc##k(uint64_t cl, uint64_t a, uint64_t b, uint64_t c,            \
	                               uint64_t d, uint64_t fuel)                                  \
	{                                                                                          \
		tr(7, k, cl, a, b + c + d + fuel);                                                 \
		if ((a + (k)) % 6 == 2)                                                            \
			return (struct rt_jit_ret){0, RT_RUN_FAULT};                               \
		return (struct rt_jit_ret){cl + a * (k), RT_RUN_OK};                               \
	}
/* Plain extension entries (rt_jit_plain): C functions of their arguments,
 * installed beside a JIT entry the dispatcher must then not call. */
#define PLAIN_H(k)                                                                                 \
	static uint64_t ph##k(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e)          \
	{                                                                                          \
		(void)e;                                                                           \
		tr(10, k, a, b, c + d);                                                            \
		return (k)*31 + a * 5 + b;                                                         \
	}
#define PLAIN_G(k)                                                                                 \
	static uint64_t pg##k(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e)          \
	{                                                                                          \
		(void)e;                                                                           \
		tr(11, k, a, b, c + d);                                                            \
		return (a * 3 + b + (k)) % 4 != 0;                                                 \
	}
/* Unmetered extension entries (rt_jit_unmetered): C functions that may
 * call interface procedures, so they run with preemption disabled (the
 * trace records the depth); used only when the binding's fuel covers their
 * worst case, else the JIT entry beside them runs. */
#define UNM_H(k)                                                                                   \
	static uint64_t uh##k(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e)          \
	{                                                                                          \
		(void)e;                                                                           \
		tr(12, k, a, b, c + d);                                                            \
		return (k)*41 + a * 7 + b;                                                         \
	}
#define UNM_G(k)                                                                                   \
	static uint64_t ug##k(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e)          \
	{                                                                                          \
		(void)e;                                                                           \
		tr(13, k, a, b, c + d);                                                            \
		return (a * 5 + b + (k)) % 3 != 0;                                                 \
	}
#define ALL(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)
ALL(PLAIN_H)
ALL(PLAIN_G)
ALL(UNM_H)
ALL(UNM_G)
ALL(NATIVE_H)
ALL(NATIVE_G)
ALL(CLOSURE_H)
ALL(CLOSURE_G)
ALL(JIT_H)
ALL(JIT_G)
ALL(JIT_CH)
#define REF_NH(k) nh##k,
#define REF_NG(k) ng##k,
#define REF_CH(k) ch##k,
#define REF_CG(k) cg##k,
#define REF_JH(k) jh##k,
#define REF_JG(k) jg##k,
#define REF_JC(k) jc##k,
static const dispatch_fn nhs[NPROC] = {ALL(REF_NH)};
static const dispatch_fn ngs[NPROC] = {ALL(REF_NG)};
static const dispatch_fn chs[NPROC] = {ALL(REF_CH)};
static const dispatch_fn cgs[NPROC] = {ALL(REF_CG)};
static const rt_jit_fn jhs[NPROC] = {ALL(REF_JH)};
static const rt_jit_fn jgs[NPROC] = {ALL(REF_JG)};
static const rt_jit_fn jcs[NPROC] = {ALL(REF_JC)};
#define REF_PH(k) ph##k,
#define REF_PG(k) pg##k,
static const rt_import_fn phs[NPROC] = {ALL(REF_PH)};
static const rt_import_fn pgs[NPROC] = {ALL(REF_PG)};
#define REF_UH(k) uh##k,
#define REF_UG(k) ug##k,
static const rt_import_fn uhs[NPROC] = {ALL(REF_UH)};
static const rt_import_fn ugs[NPROC] = {ALL(REF_UG)};

/* One signature per procedure (sig->fn is its native address). */
static struct rt_sig s_nh[NPROC], s_ng[NPROC], s_ch[NPROC], s_cg[NPROC], s_j, s_jg, s_jc;

static void sigs_init(void)
{
	for (int k = 0; k < NPROC; k++) {
		s_nh[k] = ev_sig;
		s_nh[k].fn = (void *)nhs[k];
		s_ng[k] = ev_sig;
		s_ng[k].fn = (void *)ngs[k];
		s_ng[k].flags = RT_SIG_PURE;
		s_ch[k] = (struct rt_sig){"c", (void *)chs[k], 5, {SC, SC, SC, SC, SC}, RET, 0};
		s_cg[k] = s_ch[k];
		s_cg[k].fn = (void *)cgs[k];
		s_cg[k].flags = RT_SIG_PURE;
	}
	s_j = ev_sig;
	s_jg = ev_sig;
	s_jg.flags = RT_SIG_PURE;
	s_jc = (struct rt_sig){"jc", NULL, 5, {SC, SC, SC, SC, SC}, RET, 0};
}

static uint64_t result_fold(void *arg, uint64_t acc, uint64_t r, uint32_t index)
{
	tr(8, index, acc, r, (uint64_t)(uintptr_t)arg);
	return acc * 31 + r + index;
}

static void on_abort(void *arg, struct dispatch_binding *b, uint32_t status)
{
	(void)arg, (void)b;
	tr(10, status, 0, 0, 0);
}

/* ------------------------------------------------------------ random */

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

/* The authorizer: report aborts (so one raise cannot change the set the
 * next one sees), sometimes impose a guard. */
static struct dispatch_guard imposed;
static bool impose_next;
static int authorize(void *arg, struct dispatch_decision *d)
{
	(void)arg;
	d->policy = DISPATCH_ABORT_REPORT;
	if (impose_next)
		return dispatch_impose_guard(d, &imposed);
	return 0;
}

/* Inline tests on the (scalar) arguments' values: a pool, never changed
 * while a binding uses one. */
static struct dispatch_test tests[16];
static void random_test(struct dispatch_test *t)
{
	t->n = 1 + rnd(DISPATCH_TEST_TERMS);
	for (uint32_t i = 0; i < t->n; i++) {
		t->t[i].arg = rnd(4);
		t->t[i].off = DISPATCH_TEST_VALUE;
		switch (rnd(4)) {
		case 0: /* equality */
			t->t[i].lo = t->t[i].hi = rnd(40);
			break;
		case 1: /* wide: immediates do not fit */
			t->t[i].lo = 0;
			t->t[i].hi = 0x1ffffffffull;
			break;
		case 2: /* a large lower bound */
			t->t[i].lo = 0xffffffff80000000ull + rnd(4);
			t->t[i].hi = ~0ull;
			break;
		default:
			t->t[i].lo = rnd(30);
			t->t[i].hi = t->t[i].lo + rnd(500);
			break;
		}
	}
}

static void random_guard(struct dispatch_guard *g, struct dispatch_install_req *req)
{
	uint32_t k = rnd(NPROC);
	if (req && rnd(4) == 0) {
		/* An extension guard with a native form: plain (its JIT entry
		 * must not run), unmetered or an inline test (either only when
		 * the fuel covers its worst case). */
		*g = (struct dispatch_guard){{&s_jg, jgs[k], &inst_mod}, NULL, false};
		switch (rnd(3)) {
		case 0:
			req->guard_plain = pgs[k];
			break;
		case 1:
			req->guard_unmetered = ugs[k];
			req->guard_worst = rnd(1200);
			break;
		default:
			req->guard_test = &tests[rnd(16)];
			req->guard_worst = rnd(1200);
			break;
		}
		return;
	}
	if (rnd(4) == 0) {
		struct dispatch_test *t = &tests[rnd(16)];
		*g = (struct dispatch_guard){{&dispatch_test_sig, NULL, NULL}, t, true};
		return;
	}
	switch (rnd(3)) {
	case 0:
		*g = (struct dispatch_guard){{&s_ng[k], NULL, NULL}, NULL, false};
		break;
	case 1:
		*g = (struct dispatch_guard){
		    {&s_cg[k], NULL, NULL}, (void *)(uintptr_t)(k + 11), true};
		break;
	default:
		*g = (struct dispatch_guard){{&s_jg, jgs[k], &inst_mod}, NULL, false};
		break;
	}
}

static uint32_t compare_raises(struct dispatch_event *ev, uint32_t rounds)
{
	uint64_t t1[512];
	uint32_t n1, bad = 0;

	for (uint32_t r = 0; r < rounds; r++) {
		uint64_t a[5] = {rnd(40), rnd(40), rnd(1000), rnd(1000), rnd(1000)};
		uint64_t u0 = ev->unhandled, got;
		struct dispatch_outcome o;
		int st;

		ntrace = 0;
		got = dispatch_call(ev, a[0], a[1], a[2], a[3], a[4]);
		CHECK_EQ(dispatch_preempt_depth(), 0);
		memcpy(t1, trace, sizeof(trace));
		n1 = ntrace;
		ntrace = 0;
		st = dispatch_raise(ev, a, &o);
		/* A direct call does not consult the result handler (its one
		 * result is returned as is); the walk folds it anyway. */
		if (dispatch_is_direct(ev)) {
			uint32_t m = 0;
			for (uint32_t k = 0; k < ntrace; k++)
				if (trace[k] >> 56 != 8)
					trace[m++] = trace[k];
			ntrace = m;
		}
		if (got != o.result || n1 != ntrace || memcmp(t1, trace, n1 * sizeof(t1[0])) != 0 ||
		    (ev->unhandled != u0) != (st == DISPATCH_UNHANDLED && !o.defaulted)) {
			if (!bad)
				printf("  mismatch: args %" PRIu64 ",%" PRIu64 ": gen %" PRIu64
				       " (%u events) walk %" PRIu64 " (%u events, st %d)\n",
				       a[0], a[1], got, n1, o.result, ntrace, st);
			if (!bad)
				for (uint32_t k = 0; k < n1 || k < ntrace; k++)
					printf("   %u: %" PRIu64 " %" PRIu64 "\n", k,
					       k < n1 ? t1[k] >> 56 : 99,
					       k < ntrace ? trace[k] >> 56 : 99);
			bad++;
		}
	}
	return bad;
}

static void random_sets_match_the_walk(void)
{
	uint32_t bad = 0, generated = 0, sets = 400;

	sigs_init();
	for (uint32_t i = 0; i < 16; i++)
		random_test(&tests[i]);
	for (uint32_t round = 0; round < sets; round++) {
		struct dispatch_event *ev = NULL;
		struct dispatch_binding *bs[10];
		uint32_t nb = 0, want = rnd(9);
		struct dispatch_proc intr = {&s_nh[rnd(NPROC)], NULL, NULL};

		if (dispatch_event_create("Gen_Event", &ev_sig, &auth_mod, rnd(2) ? &intr : NULL,
		                          &ev) != 0) {
			CHECK(0);
			return;
		}
		CHECK_EQ(dispatch_set_authorizer(ev, authorize, NULL, &auth_mod), 0);
		CHECK_EQ(dispatch_set_abort_hook(ev, on_abort, NULL, &auth_mod), 0);
		if (rnd(2))
			CHECK_EQ(dispatch_set_result(ev, result_fold, (void *)(uintptr_t)round,
			                             rnd(5), &auth_mod),
			         0);
		if (rnd(3) == 0)
			CHECK_EQ(dispatch_set_exclusive(ev, true, &auth_mod), 0);
		switch (rnd(3)) {
		case 0: {
			struct dispatch_proc d = {&s_nh[rnd(NPROC)], NULL, NULL};
			CHECK_EQ(dispatch_set_default(ev, &d, NULL, false, &auth_mod), 0);
			break;
		}
		case 1: {
			struct dispatch_proc d = {&s_j, jhs[rnd(NPROC)], &inst_mod};
			CHECK_EQ(dispatch_set_default(ev, &d, NULL, false, &auth_mod), 0);
			break;
		}
		default:
			break;
		}
		for (uint32_t i = 0; i < want; i++) {
			struct dispatch_install_req req = {0};
			struct dispatch_guard g;
			uint32_t k = (round * 3 + i) % NPROC;
			switch (rnd(6)) {
			case 0:
				req.handler = (struct dispatch_proc){&s_nh[k], NULL, NULL};
				break;
			case 5:
				/* An unmetered extension handler (rt_jit_unmetered):
				 * used only when the fuel covers its worst case. */
				req.handler = (struct dispatch_proc){&s_j, jhs[k], &inst_mod};
				req.unmetered = uhs[k];
				req.worst = rnd(1200);
				break;
			case 4:
				/* A plain extension handler (rt_jit_plain). */
				req.handler = (struct dispatch_proc){&s_j, jhs[k], &inst_mod};
				req.plain = phs[k];
				break;
			case 1:
				req.handler = (struct dispatch_proc){&s_ch[k], NULL, NULL};
				req.options |= DISPATCH_CLOSURE;
				req.closure = (void *)(uintptr_t)(round + i);
				break;
			case 2:
				req.handler = (struct dispatch_proc){&s_j, jhs[k], &inst_mod};
				break;
			default:
				req.handler = (struct dispatch_proc){&s_jc, jcs[k], &inst_mod};
				req.options |= DISPATCH_CLOSURE;
				req.closure = (void *)(uintptr_t)(round * 5 + i);
				break;
			}
			if (rnd(2)) {
				random_guard(&g, &req);
				req.guard = &g;
			}
			switch (rnd(6)) {
			case 0:
				req.options |= DISPATCH_FIRST;
				break;
			case 1:
				req.options |= DISPATCH_LAST;
				break;
			case 2:
				if (nb) {
					req.options |= rnd(2) ? DISPATCH_BEFORE : DISPATCH_AFTER;
					req.anchor = bs[rnd(nb)];
				}
				break;
			default:
				break;
			}
			req.fuel = 100 + rnd(1000);
			impose_next = rnd(4) == 0;
			if (impose_next)
				random_guard(&imposed, NULL);
			if (dispatch_install(ev, &req, &inst_mod, &bs[nb]) == 0)
				nb++;
		}
		impose_next = false;
		generated += dispatch_is_generated(ev);
		if (!dispatch_is_direct(ev))
			CHECK(dispatch_is_generated(ev));
		bad += compare_raises(ev, 24);
		CHECK_EQ(dispatch_uninstall_all(&inst_mod), 0);
		CHECK_EQ(dispatch_event_destroy(ev, &auth_mod), 0);
	}
	CHECK_EQ(bad, 0);
	CHECK(generated > sets / 2);
	printf("  %u sets, %u with generated routines, %u mismatches\n", sets, generated, bad);
	CHECK_EQ(dispatch_reclaim(), 0);
}

/* --------------------------------------------------- the routine's duties */

static int aborts_seen;
static void count_abort(void *arg, struct dispatch_binding *b, uint32_t status)
{
	(void)arg, (void)b, (void)status;
	aborts_seen++;
}

static void abort_disables_and_releases(void)
{
	struct dispatch_event *ev = NULL;
	struct dispatch_binding *b = NULL, *b2 = NULL;
	struct dispatch_install_req req = {0};
	struct dispatch_proc intr = {&s_nh[0], NULL, NULL};

	sigs_init();
	CHECK_EQ(dispatch_event_create("Gen_Event", &ev_sig, &auth_mod, &intr, &ev), 0);
	CHECK_EQ(dispatch_set_abort_hook(ev, count_abort, NULL, &auth_mod), 0);
	req.handler = (struct dispatch_proc){&s_j, jhs[1], &inst_mod};
	CHECK_EQ(dispatch_install(ev, &req, &inst_mod, &b), 0);
	req.handler = (struct dispatch_proc){&s_nh[2], NULL, NULL};
	CHECK_EQ(dispatch_install(ev, &req, &inst_mod, &b2), 0);
	CHECK(dispatch_is_generated(ev));
	/* a = 4: jh1 notes a reference ((4+1)%4 == 1) and aborts ((4+0+1)%5 == 0). */
	ntrace = 0;
	aborts_seen = 0;
	CHECK_EQ(dispatch_call(ev, 4, 0, 0, 0, 0), 2000 + 4);
	CHECK_EQ(aborts_seen, 1);
	CHECK(dispatch_binding_disabled(b));
	CHECK_EQ(dispatch_binding_aborts(b), 1);
	CHECK_EQ(ntrace, 4); /* nh0, jh1, its release, nh2 */
	CHECK_EQ(trace[2] >> 56, 9);
	/* Disabled: the same routine (the set was not rebuilt) skips it. */
	ntrace = 0;
	CHECK_EQ(dispatch_call(ev, 4, 0, 0, 0, 0), 2004);
	CHECK_EQ(ntrace, 2);
	CHECK_EQ(aborts_seen, 1);
	/* A normal return that leaves a reference noted: released, result kept. */
	CHECK_EQ(dispatch_uninstall(b2, &inst_mod), 0);
	CHECK_EQ(dispatch_uninstall(b, &inst_mod), 0);
	req.handler = (struct dispatch_proc){&s_j, jhs[4], &inst_mod};
	CHECK_EQ(dispatch_install(ev, &req, &inst_mod, &b), 0);
	ntrace = 0;
	/* a = 1, b = 1: (1+4)%4 == 1 notes; (1+1+4)%5 != 0 returns 4*77 + 1. */
	CHECK_EQ(dispatch_call(ev, 1, 1, 0, 0, 0), 4 * 77 + 1);
	CHECK_EQ(ntrace, 3);
	CHECK_EQ(trace[2] >> 56, 9);
	CHECK_EQ(dispatch_uninstall_all(&inst_mod), 0);
	CHECK_EQ(dispatch_event_destroy(ev, &auth_mod), 0);
	CHECK_EQ(dispatch_reclaim(), 0);
}

/* A handler that replaces the set it is running in: the routine executing
 * it must stay mapped until the raise is over (quiescence). */
static struct dispatch_event *self_ev;
static struct dispatch_binding *self_b[3];
static int self_calls;
static uint64_t self_remover(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e)
{
	(void)b, (void)c, (void)d, (void)e;
	self_calls++;
	if (self_b[2]) {
		CHECK_EQ(dispatch_uninstall(self_b[2], &inst_mod), 0);
		self_b[2] = NULL;
		CHECK(dispatch_reclaim() > 0); /* the running routine is still held */
	}
	return a + 1;
}

static void routine_survives_its_own_retirement(void)
{
	struct dispatch_install_req req = {0};
	static struct rt_sig s_rm;

	sigs_init();
	s_rm = ev_sig;
	s_rm.fn = (void *)self_remover;
	CHECK_EQ(dispatch_event_create("Gen_Event", &ev_sig, &auth_mod, NULL, &self_ev), 0);
	req.handler = (struct dispatch_proc){&s_rm, NULL, NULL};
	CHECK_EQ(dispatch_install(self_ev, &req, &inst_mod, &self_b[0]), 0);
	req.handler = (struct dispatch_proc){&s_nh[3], NULL, NULL};
	CHECK_EQ(dispatch_install(self_ev, &req, &inst_mod, &self_b[1]), 0);
	req.handler = (struct dispatch_proc){&s_nh[5], NULL, NULL};
	CHECK_EQ(dispatch_install(self_ev, &req, &inst_mod, &self_b[2]), 0);
	CHECK(dispatch_is_generated(self_ev));
	ntrace = 0;
	/* The old set (and routine) still runs nh3 and nh5 after the removal. */
	CHECK_EQ(dispatch_call(self_ev, 2, 0, 0, 0, 0), 5000 + 2);
	CHECK_EQ(ntrace, 2);
	CHECK_EQ(dispatch_reclaim(), 0); /* now it can go */
	ntrace = 0;
	CHECK_EQ(dispatch_call(self_ev, 2, 0, 0, 0, 0), 3000 + 2);
	CHECK_EQ(self_calls, 2);
	CHECK_EQ(dispatch_uninstall_all(&inst_mod), 0);
	CHECK_EQ(dispatch_event_destroy(self_ev, &auth_mod), 0);
	CHECK_EQ(dispatch_reclaim(), 0);
}

static void walk_is_the_fallback(void)
{
	struct dispatch_event *ev = NULL;
	struct dispatch_binding *b = NULL;
	struct dispatch_install_req req = {0};
	struct dispatch_guard g = {{&s_ng[1], NULL, NULL}, NULL, false};

	sigs_init();
	CHECK(dispatch_set_codegen(false));
	CHECK_EQ(dispatch_event_create("Gen_Event", &ev_sig, &auth_mod, NULL, &ev), 0);
	req.handler = (struct dispatch_proc){&s_nh[6], NULL, NULL};
	req.guard = &g;
	CHECK_EQ(dispatch_install(ev, &req, &inst_mod, &b), 0);
	CHECK(!dispatch_is_generated(ev));
	CHECK(!dispatch_is_direct(ev));
	CHECK_EQ(dispatch_call(ev, 1, 0, 0, 0, 0), 6001); /* (1+0+1)%3 != 0 */
	CHECK_EQ(dispatch_call(ev, 2, 0, 0, 0, 0), 0);    /* guard false: unhandled */
	CHECK_EQ(ev->unhandled, 1);
	CHECK(!dispatch_set_codegen(true));
	/* The next change generates again. */
	CHECK_EQ(dispatch_set_result(ev, NULL, NULL, 0, &auth_mod), 0);
	CHECK(dispatch_is_generated(ev));
	CHECK_EQ(dispatch_call(ev, 2, 0, 0, 0, 0), 0);
	CHECK_EQ(ev->unhandled, 2);
	CHECK_EQ(dispatch_uninstall_all(&inst_mod), 0);
	CHECK_EQ(dispatch_event_destroy(ev, &auth_mod), 0);
	CHECK_EQ(dispatch_reclaim(), 0);
}

/* Exclusive events of native handlers and guards with a native default get
 * the lean routine (no locals, no fold): it must agree with the walk, and at
 * most one handler may run per raise. */
static void exclusive_native_sets_match_the_walk(void)
{
	uint32_t bad = 0, sets = 300, multi = 0;

	sigs_init();
	for (uint32_t round = 0; round < sets; round++) {
		struct dispatch_event *ev = NULL;
		struct dispatch_proc def = {&s_nh[rnd(NPROC)], NULL, NULL};
		uint32_t want = 1 + rnd(6);
		/* A third of the sets: only inline tests and no closures (the
		 * routine's bare form, as for system calls). */
		bool bare = rnd(3) == 0;

		CHECK_EQ(dispatch_event_create("Gen_Event", &ev_sig, &auth_mod, NULL, &ev), 0);
		if (!ev)
			return;
		CHECK_EQ(dispatch_set_exclusive(ev, true, &inst_mod), -EPERM); /* authority only */
		CHECK_EQ(dispatch_set_exclusive(ev, true, &auth_mod), 0);
		CHECK_EQ(dispatch_set_default(ev, &def, NULL, false, &auth_mod), 0);
		for (uint32_t i = 0; i < want; i++) {
			struct dispatch_install_req req = {0};
			struct dispatch_guard g;
			struct dispatch_binding *b;
			uint32_t k = (round + i) % NPROC; /* distinct: a handler installs once */

			switch (bare ? 2 * rnd(2) : rnd(3)) {
			case 0:
				req.handler = (struct dispatch_proc){&s_nh[k], NULL, NULL};
				break;
			case 1:
				req.handler = (struct dispatch_proc){&s_ch[k], NULL, NULL};
				req.options |= DISPATCH_CLOSURE;
				req.closure = (void *)(uintptr_t)(round + i);
				break;
			default:
				/* An unmetered extension handler within its fuel: the
				 * set stays lean, with preemption off throughout. */
				req.handler = (struct dispatch_proc){&s_j, jhs[k], &inst_mod};
				req.unmetered = uhs[k];
				req.worst = rnd(50);
				req.fuel = 50;
				break;
			}
			if (rnd(4)) {
				k = rnd(NPROC);
				switch (bare ? 2 + rnd(2) : rnd(4)) {
				case 3:
					/* An extension guard the routine tests in line. */
					g = (struct dispatch_guard){
					    {&s_jg, jgs[k], &inst_mod}, NULL, false};
					req.guard_test = &tests[rnd(16)];
					break;
				case 0:
					g = (struct dispatch_guard){
					    {&s_ng[k], NULL, NULL}, NULL, false};
					break;
				case 1:
					g = (struct dispatch_guard){{&s_cg[k], NULL, NULL},
					                            (void *)(uintptr_t)(k + 11),
					                            true};
					break;
				default:
					g = (struct dispatch_guard){
					    {&dispatch_test_sig, NULL, NULL},
					    &tests[rnd(16)],
					    true};
					break;
				}
				req.guard = &g;
			}
			CHECK_EQ(dispatch_install(ev, &req, &inst_mod, &b), 0);
		}
		if (want > 1)
			CHECK(dispatch_is_generated(ev));
		bad += compare_raises(ev, 24);
		/* One raise runs at most one handler (trace kinds 1 and 3). */
		for (uint32_t r = 0; r < 8; r++) {
			uint32_t ran = 0;

			ntrace = 0;
			(void)dispatch_call(ev, rnd(40), rnd(40), rnd(9), rnd(9), 0);
			for (uint32_t t = 0; t < ntrace; t++)
				ran += (trace[t] >> 56) == 1 || (trace[t] >> 56) == 3 ||
				       (trace[t] >> 56) == 12;
			multi += ran > 1;
		}
		CHECK_EQ(dispatch_uninstall_all(&inst_mod), 0);
		CHECK_EQ(dispatch_event_destroy(ev, &auth_mod), 0);
	}
	CHECK_EQ(bad, 0);
	CHECK_EQ(multi, 0);
	printf("  %u exclusive sets, %u mismatches, %u raises ran two handlers\n", sets, bad,
	       multi);
	CHECK_EQ(dispatch_reclaim(), 0);
}

/* Native forms of extension entries follow the binding's final fuel: an
 * unmetered handler or an inline guard test replaces the JIT entry only
 * when the fuel (after the authorizer) covers its worst case; the
 * unmetered one runs with preemption disabled, inside the raise, without a
 * ledger frame; malformed offers are refused. */
static uint32_t unm_depth;
static bool unm_inside;
static uint64_t unm_probe(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e)
{
	(void)b, (void)c, (void)d, (void)e;
	unm_depth = dispatch_preempt_depth();
	unm_inside = dispatch_inside_raise();
	tr(12, 50, a, 0, 0);
	return a * 2;
}

static uint64_t lower_to;
static int lower_fuel(void *arg, struct dispatch_decision *d)
{
	(void)arg;
	if (lower_to)
		d->fuel = lower_to;
	return 0;
}

static uint32_t count_kind(uint64_t kind)
{
	uint32_t n = 0;

	for (uint32_t t = 0; t < ntrace; t++)
		n += (trace[t] >> 56) == kind;
	return n;
}

static void native_forms_follow_the_fuel(void)
{
	static const struct dispatch_test in_10_20 = {1, {{0, DISPATCH_TEST_VALUE, 10, 20}}};
	static const struct dispatch_test bad_order = {1, {{0, DISPATCH_TEST_VALUE, 20, 10}}};
	static const struct dispatch_test bad_arg = {1, {{4, DISPATCH_TEST_VALUE, 0, 1}}};
	static const struct dispatch_test bad_field = {1, {{0, 8, 0, 1}}};
	struct dispatch_proc def = {&s_nh[7], NULL, NULL};
	struct dispatch_event *ev = NULL;
	struct dispatch_binding *b = NULL;
	struct dispatch_install_req req;
	struct dispatch_guard g = {{&s_jg, jgs[3], &inst_mod}, NULL, false};
	struct dispatch_outcome o;
	uint64_t a[5] = {15, 1, 0, 0, 0};

	sigs_init();
	CHECK_EQ(dispatch_event_create("Gen_Event", &ev_sig, &auth_mod, NULL, &ev), 0);
	if (!ev)
		return;
	CHECK_EQ(dispatch_set_exclusive(ev, true, &auth_mod), 0);
	CHECK_EQ(dispatch_set_default(ev, &def, NULL, false, &auth_mod), 0);
	CHECK_EQ(dispatch_set_authorizer(ev, lower_fuel, NULL, &auth_mod), 0);
	for (int pass = 0; pass < 4; pass++) {
		/* 0: fuel covers both; 1: the handler's worst is one more than
		 * the fuel; 2: the guard's; 3: the authorizer lowers the fuel. */
		memset(&req, 0, sizeof(req));
		req.handler = (struct dispatch_proc){&s_j, jhs[2], &inst_mod};
		req.unmetered = unm_probe;
		req.worst = pass == 1 ? 101 : 100;
		req.guard = &g;
		req.guard_test = &in_10_20;
		req.guard_worst = pass == 2 ? 101 : 1;
		req.fuel = 100;
		lower_to = pass == 3 ? 99 : 0;
		CHECK_EQ(dispatch_install(ev, &req, &inst_mod, &b), 0);
		CHECK(dispatch_is_generated(ev));
		for (int walk = 0; walk < 2; walk++) {
			uint64_t r;

			ntrace = 0;
			unm_depth = 99;
			if (walk) {
				CHECK_EQ(dispatch_raise(ev, a, &o), DISPATCH_HANDLED);
				r = o.result;
			} else {
				r = dispatch_call(ev, a[0], a[1], a[2], a[3], a[4]);
			}
			if (pass == 0) {
				CHECK_EQ(r, 30);
				CHECK_EQ(count_kind(12), 1);
				CHECK_EQ(unm_depth, 1); /* extension code: preemption off */
				CHECK(unm_inside);
			} else {
				CHECK_EQ(count_kind(12), pass == 2 ? 1 : 0);
				CHECK_EQ(count_kind(5), pass == 2 ? 0 : 1); /* the JIT entry */
			}
			/* The guard: tested in line unless its worst case is not
			 * covered (pass 2: then its JIT entry runs). */
			CHECK_EQ(count_kind(6), pass == 2 ? 1 : 0);
			CHECK_EQ(dispatch_preempt_depth(), 0);
		}
		/* Outside [10, 20]: the default (native).  (Pass 2 runs the
		 * guard's JIT entry, a stand-in that accepts 5.) */
		ntrace = 0;
		if (pass != 2) {
			CHECK_EQ(dispatch_call(ev, 5, 1, 0, 0, 0), 7 * 1000 + 5 + 3);
			CHECK_EQ(count_kind(12) + count_kind(5), 0);
		}
		CHECK_EQ(dispatch_uninstall(b, &inst_mod), 0);
	}
	lower_to = 0;
	/* Malformed offers. */
	memset(&req, 0, sizeof(req));
	req.handler = (struct dispatch_proc){&s_nh[1], NULL, NULL};
	req.unmetered = unm_probe; /* for a native handler */
	CHECK_EQ(dispatch_install(ev, &req, &inst_mod, &b), -EINVAL);
	req.handler = (struct dispatch_proc){&s_j, jhs[1], &inst_mod};
	req.plain = phs[1]; /* two native forms */
	CHECK_EQ(dispatch_install(ev, &req, &inst_mod, &b), -EINVAL);
	req.plain = NULL;
	req.guard_test = &in_10_20; /* no extension guard */
	CHECK_EQ(dispatch_install(ev, &req, &inst_mod, &b), -EINVAL);
	req.guard = &g;
	req.guard_test = &bad_order;
	CHECK_EQ(dispatch_install(ev, &req, &inst_mod, &b), -EINVAL);
	req.guard_test = &bad_arg;
	CHECK_EQ(dispatch_install(ev, &req, &inst_mod, &b), -EINVAL);
	req.guard_test = &bad_field; /* a field of a scalar */
	CHECK_EQ(dispatch_install(ev, &req, &inst_mod, &b), -EINVAL);
	req.guard_test = NULL;
	req.guard_plain = pgs[1];
	req.guard_unmetered = ugs[1];
	CHECK_EQ(dispatch_install(ev, &req, &inst_mod, &b), -EINVAL);
	CHECK_EQ(dispatch_handler_count(ev), 0);
	CHECK_EQ(dispatch_uninstall_all(&inst_mod), 0);
	CHECK_EQ(dispatch_event_destroy(ev, &auth_mod), 0);
	CHECK_EQ(dispatch_reclaim(), 0);
}

/* Field tests: an event of two references, guards on their fields; the
 * routine's inline compares against the walk's dispatch_test_eval, and the
 * refusals (scalar argument, field past the object, untrusted installer,
 * bad bounds). */
#define REF16                                                                                      \
	{                                                                                          \
		RT_ARG_REF, NULL, 16, false                                                        \
	}
static const struct rt_sig ref_ev_sig = {"Gen_Ref", NULL, 2, {REF16, REF16}, RET, 0};
static uint64_t ref_h(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e)
{
	const uint64_t *x = (const uint64_t *)(uintptr_t)a, *y = (const uint64_t *)(uintptr_t)b;

	(void)c, (void)d, (void)e;
	tr(5, 1, x[0], x[1], y[0]);
	return x[0] + 2 * y[1] + 1;
}
static uint64_t ref_h2(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e)
{
	const uint64_t *y = (const uint64_t *)(uintptr_t)b;

	(void)a, (void)c, (void)d, (void)e;
	tr(5, 2, y[0], y[1], 0);
	return 7000 + y[0];
}
static uint64_t ref_def(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e)
{
	(void)a, (void)b, (void)c, (void)d, (void)e;
	tr(5, 3, 0, 0, 0);
	return 99;
}
static const struct rt_sig ref_h_sig = {"ref_h", (void *)ref_h, 2, {REF16, REF16}, RET, 0};
static const struct rt_sig ref_h2_sig = {"ref_h2", (void *)ref_h2, 2, {REF16, REF16}, RET, 0};
static const struct rt_sig ref_def_sig = {"ref_def", (void *)ref_def, 2, {REF16, REF16}, RET, 0};

static void field_tests_match_the_walk(void)
{
	static const struct dispatch_test t1 = {2, {{0, 8, 0x1234, 0x1234}, {1, 0, 0, 1023}}};
	static const struct dispatch_test t2 = {1, {{1, 0, 0x53500000, 0x53500002}}};
	static const struct dispatch_test past = {1, {{0, 12, 0, 1}}};
	static const struct dispatch_test scalar = {1, {{0, 0, 0, 1}}};
	static const struct dispatch_test third = {1, {{2, DISPATCH_TEST_VALUE, 0, 1}}};
	static const struct dispatch_test inverted = {1, {{0, 0, 5, 4}}};
	static const struct module ext = {"Ext", 0};
	struct dispatch_event *ev = NULL, *sev = NULL;
	struct dispatch_binding *b;
	struct dispatch_install_req req = {0};
	struct dispatch_guard g = {{&dispatch_test_sig, NULL, NULL}, (void *)&t1, true};
	struct dispatch_proc def = {&ref_def_sig, NULL, NULL};
	uint32_t bad = 0, hits[4] = {0};

	CHECK_EQ(dispatch_event_create("Gen_Ref", &ref_ev_sig, &auth_mod, NULL, &ev), 0);
	CHECK_EQ(dispatch_event_create("Gen_Event", &ev_sig, &auth_mod, NULL, &sev), 0);
	if (!ev || !sev)
		return;
	CHECK_EQ(dispatch_set_exclusive(ev, true, &auth_mod), 0);
	CHECK_EQ(dispatch_set_default(ev, &def, NULL, false, &auth_mod), 0);
	req.handler = (struct dispatch_proc){&ref_h_sig, NULL, NULL};
	req.guard = &g;
	CHECK_EQ(dispatch_install(ev, &req, &ext, &b), -EPERM); /* untrusted */
	g.closure = (void *)&past;
	CHECK_EQ(dispatch_install(ev, &req, &inst_mod, &b), -EINVAL);
	g.closure = (void *)&inverted;
	CHECK_EQ(dispatch_install(ev, &req, &inst_mod, &b), -EINVAL);
	g.closure = (void *)&third;
	CHECK_EQ(dispatch_install(ev, &req, &inst_mod, &b), -EINVAL); /* two arguments */
	g.closure = (void *)&scalar;
	req.handler = (struct dispatch_proc){&s_nh[0], NULL, NULL};
	CHECK_EQ(dispatch_install(sev, &req, &inst_mod, &b), -EINVAL); /* field of a scalar */
	req.handler = (struct dispatch_proc){&ref_h_sig, NULL, NULL};
	g.closure = (void *)&t1;
	CHECK_EQ(dispatch_install(ev, &req, &inst_mod, &b), 0);
	req.handler = (struct dispatch_proc){&ref_h2_sig, NULL, NULL};
	g.closure = (void *)&t2;
	CHECK_EQ(dispatch_install(ev, &req, &inst_mod, &b), 0);
	CHECK(dispatch_is_generated(ev));
	for (uint32_t r = 0; r < 400; r++) {
		static const uint64_t pick[] = {0x1234,     0x1235,     0x1233,     0,
		                                1023,       1024,       0x53500000, 0x53500002,
		                                0x53500003, 0x534fffff, ~0ull};
		uint64_t x[2] = {rnd(5), pick[rnd(11)]}, y[2] = {pick[rnd(11)], rnd(9)};
		uint64_t a[5] = {(uint64_t)(uintptr_t)x, (uint64_t)(uintptr_t)y, 0, 0, 0}, got,
		         t1v[8];
		uint32_t n1;
		struct dispatch_outcome o;

		ntrace = 0;
		got = dispatch_call(ev, a[0], a[1], 0, 0, 0);
		memcpy(t1v, trace, sizeof(t1v));
		n1 = ntrace;
		ntrace = 0;
		(void)dispatch_raise(ev, a, &o);
		if (got != o.result || n1 != ntrace || n1 != 1 || memcmp(t1v, trace, 8 * n1))
			bad++;
		hits[got == 99 ? 3 : got >= 7000 ? 2 : 1]++; /* h1 returns at most 21 */
	}
	CHECK_EQ(bad, 0);
	/* Every path taken: the first handler, the second, the default. */
	CHECK(hits[1] > 0 && hits[2] > 0 && hits[3] > 0);
	printf("  field tests: %u/%u/%u raises to h1/h2/default, %u mismatches\n", hits[1], hits[2],
	       hits[3], bad);
	CHECK_EQ(dispatch_uninstall_all(&inst_mod), 0);
	CHECK_EQ(dispatch_event_destroy(ev, &auth_mod), 0);
	CHECK_EQ(dispatch_event_destroy(sev, &auth_mod), 0);
	CHECK_EQ(dispatch_reclaim(), 0);
}

/* ------------------------------------------------------ the keyed search */

/* Exclusive sets whose entries all test one key (an argument's value, or a
 * field of the object an argument refers to): with pairwise disjoint
 * intervals the routine searches them instead of testing the chain
 * (arch/x86_64/dispatch_gen.c); with overlapping ones, or a called guard
 * before the key's test, it keeps the chain.  Either way every raise must
 * match the walk: result, calls and their order, the default.  The key's
 * values are drawn from the intervals' edges (lo - 1, lo, hi, hi + 1), 0
 * and UINT64_MAX; intervals are adjacent or apart, single values or wide,
 * start at 0, end at UINT64_MAX, and straddle the bounds an x86 immediate
 * can hold (2^31, 2^32, 2^64 - 2^31). */
#define REF_H(k)                                                                                   \
	static uint64_t rh##k(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e)          \
	{                                                                                          \
		const uint64_t *x = (const uint64_t *)(uintptr_t)a;                                \
		const uint64_t *y = (const uint64_t *)(uintptr_t)b;                                \
		(void)c, (void)d, (void)e;                                                         \
		tr(13, k, x[0] ^ x[1], y[0], y[1]);                                                \
		return (k)*100 + (x[1] & 0xff);                                                    \
	}
ALL(REF_H)
#define REF_RH(k) rh##k,
static const dispatch_fn rhs[NPROC] = {ALL(REF_RH)};
static struct rt_sig s_rh[NPROC];

static struct dispatch_test key_tests[NPROC], key_extra[NPROC];
static struct dispatch_guard key_imposed[NPROC];
static uint32_t key_installing;
static bool key_impose;
static int key_authorize(void *arg, struct dispatch_decision *d)
{
	(void)arg;
	if (key_impose)
		return dispatch_impose_guard(d, &key_imposed[key_installing]);
	return 0;
}

/* m sorted, pairwise disjoint intervals into lo[], hi[]. */
static void key_intervals(uint32_t m, uint64_t *lo, uint64_t *hi)
{
	static const uint64_t bases[] = {
	    0, 0x7fffffe0ull, 0xffffffe0ull, 0xffffffff7fffffe0ull, ~0ull - 8 * 40, 1000};
	uint64_t at = bases[rnd(6)];

	if (rnd(3) == 0)
		at = 0; /* the first starts at 0 */
	for (uint32_t j = 0; j < m; j++) {
		uint64_t w = rnd(3) == 0 ? 0 : rnd(3) == 0 ? rnd(20) : 3 + rnd(5);

		if (j && rnd(3))
			at += rnd(3) == 0 ? 1 + rnd(4) : 0; /* adjacent or apart */
		lo[j] = at;
		hi[j] = at + w < at ? ~0ull : at + w;
		if (j + 1 == m && rnd(4) == 0)
			hi[j] = ~0ull; /* the last ends at UINT64_MAX */
		if (hi[j] == ~0ull) {
			m = j + 1;
			for (uint32_t k = j + 1; k < NPROC; k++)
				lo[k] = 1, hi[k] = 0; /* none: the caller stops at m */
			return;
		}
		at = hi[j] + 1;
	}
}

static uint64_t key_value(uint32_t m, const uint64_t *lo, const uint64_t *hi)
{
	uint32_t j = rnd(m);

	switch (rnd(7)) {
	case 0:
		return lo[j] - 1;
	case 1:
		return lo[j];
	case 2:
		return hi[j];
	case 3:
		return hi[j] + 1;
	case 4:
		return lo[j] + rnd((uint32_t)(hi[j] - lo[j] < 100 ? hi[j] - lo[j] + 1 : 100));
	case 5:
		return rnd(2) ? 0 : ~0ull;
	default:
		return rnd(50);
	}
}

static void keyed_sets_match_the_walk(void)
{
	uint32_t bad = 0, sets = 600, keyed = 0, chained = 0, hits = 0, raises = 0;

	sigs_init();
	for (uint32_t k = 0; k < NPROC; k++)
		s_rh[k] = (struct rt_sig){"rh", (void *)rhs[k], 2, {REF16, REF16}, RET, 0};
	for (uint32_t round = 0; round < sets; round++) {
		/* Half the sets key on a field of a referenced object (the
		 * system call's number in its saved frame), half on a value. */
		bool field = round % 2, lean = !field && rnd(3) == 0;
		uint32_t m = round < 8 ? 1 + round : 1 + rnd(NPROC), n = 0;
		uint32_t karg = field ? rnd(2) : rnd(4),
		         koff = field ? 8 * rnd(2) : DISPATCH_TEST_VALUE;
		bool overlap = m > 1 && rnd(5) == 0, called_first = lean && rnd(4) == 0;
		uint64_t lo[NPROC], hi[NPROC], built;
		uint32_t perm[NPROC];
		struct dispatch_event *ev = NULL;
		struct dispatch_proc def = {field ? &ref_def_sig : &s_nh[rnd(NPROC)], NULL, NULL};

		key_intervals(m, lo, hi);
		while (m > 1 && lo[m - 1] > hi[m - 1])
			m--;
		if (overlap) {
			uint32_t j = 1 + rnd(m - 1);
			lo[j] = lo[j - 1] + rnd((uint32_t)(hi[j - 1] - lo[j - 1] < 4 ? 1 : 4));
			if (hi[j] < lo[j])
				hi[j] = lo[j];
		}
		/* Binding order: a random permutation of the sorted intervals. */
		for (uint32_t j = 0; j < m; j++) {
			uint32_t r = rnd(j + 1);
			perm[j] = perm[r];
			perm[r] = j;
		}
		CHECK_EQ(dispatch_event_create(field ? "Gen_Ref" : "Gen_Event",
		                               field ? &ref_ev_sig : &ev_sig, &auth_mod, NULL, &ev),
		         0);
		if (!ev)
			return;
		CHECK_EQ(dispatch_set_exclusive(ev, true, &auth_mod), 0);
		CHECK_EQ(dispatch_set_default(ev, &def, NULL, false, &auth_mod), 0);
		CHECK_EQ(dispatch_set_authorizer(ev, key_authorize, NULL, &auth_mod), 0);
		for (uint32_t i = 0; i < m; i++) {
			struct dispatch_install_req req = {0};
			struct dispatch_guard g;
			struct dispatch_binding *b;
			struct dispatch_test *t = &key_tests[i];
			uint32_t j = perm[i], kt = 0;

			/* The key's term, alone or beside another (before or
			 * after it) on another argument or on the same key. */
			t->n = 1 + rnd(2);
			if (t->n == 2) {
				uint32_t oarg = field ? rnd(2) : rnd(4);
				uint32_t ooff = field ? 8 * rnd(2) : DISPATCH_TEST_VALUE;
				uint64_t olo = field ? 0 : rnd(10);
				kt = rnd(2);
				t->t[1 - kt].arg = oarg;
				t->t[1 - kt].off = ooff;
				t->t[1 - kt].lo = olo;
				t->t[1 - kt].hi = rnd(4) == 0 ? ~0ull : olo + rnd(40);
			}
			t->t[kt].arg = karg;
			t->t[kt].off = koff;
			t->t[kt].lo = lo[j];
			t->t[kt].hi = hi[j];
			if (t->n == 2 && t->t[1 - kt].arg == karg && t->t[1 - kt].off == koff) {
				/* A second term on the key: wider, so the interval is
				 * still [lo, hi]. */
				t->t[1 - kt].lo = lo[j] - (lo[j] < 3 ? lo[j] : rnd(3));
				t->t[1 - kt].hi = hi[j] > ~0ull - 3 ? hi[j] : hi[j] + rnd(3);
			}
			g = (struct dispatch_guard){{&dispatch_test_sig, NULL, NULL}, t, true};
			req.guard = &g;
			/* Sometimes a second guard imposed before it: a test, or
			 * (lean sets) a called guard. */
			key_impose = called_first || rnd(4) == 0;
			key_installing = i;
			if (called_first && i == m - 1) {
				key_imposed[i] = (struct dispatch_guard){
				    {&s_ng[rnd(NPROC)], NULL, NULL}, NULL, false};
			} else {
				struct dispatch_test *x = &key_extra[i];
				/* On another argument than the key's. */
				*x = (struct dispatch_test){
				    1,
				    {{field ? 1 - karg : (karg + 1 + rnd(3)) % 4,
				      field ? 8 * rnd(2) : DISPATCH_TEST_VALUE, 0,
				      field ? ~0ull >> rnd(2) : 20 + rnd(40)}}};
				key_imposed[i] = (struct dispatch_guard){
				    {&dispatch_test_sig, NULL, NULL}, x, true};
			}
			if (field) {
				req.handler = (struct dispatch_proc){&s_rh[i], NULL, NULL};
			} else if (lean && rnd(2)) {
				req.handler = (struct dispatch_proc){&s_ch[i], NULL, NULL};
				req.options |= DISPATCH_CLOSURE;
				req.closure = (void *)(uintptr_t)(round + i);
			} else {
				req.handler = (struct dispatch_proc){&s_nh[i], NULL, NULL};
			}
			built = dispatch_gen_keyed_built;
			if (dispatch_install(ev, &req, &inst_mod, &b) == 0)
				n++;
		}
		key_impose = false;
		/* The last set built: keyed exactly when it may be. */
		if (n == m && m > 0) {
			bool want = !overlap && !called_first;
			CHECK(dispatch_is_generated(ev) || m == 1);
			if (dispatch_is_generated(ev))
				CHECK_EQ(dispatch_gen_keyed_built - built, want ? 1u : 0u);
			keyed += want && dispatch_is_generated(ev);
			chained += !want;
		}
		CHECK_EQ(n, m);
		for (uint32_t r = 0; r < 64; r++) {
			uint64_t x[2], y[2], a[5] = {0}, got, t1v[8];
			uint32_t n1;
			struct dispatch_outcome o;
			int st;

			if (field) {
				x[0] = rnd(2) ? key_value(m, lo, hi) : rnd(30);
				x[1] = rnd(2) ? key_value(m, lo, hi) : rnd(30);
				y[0] = rnd(2) ? key_value(m, lo, hi) : rnd(30);
				y[1] = rnd(2) ? key_value(m, lo, hi) : rnd(30);
				a[0] = (uint64_t)(uintptr_t)x;
				a[1] = (uint64_t)(uintptr_t)y;
			} else {
				for (uint32_t k = 0; k < 4; k++)
					a[k] = rnd(3) ? key_value(m, lo, hi) : rnd(60);
			}
			ntrace = 0;
			got = dispatch_call(ev, a[0], a[1], a[2], a[3], a[4]);
			memcpy(t1v, trace, sizeof(t1v));
			n1 = ntrace;
			ntrace = 0;
			st = dispatch_raise(ev, a, &o);
			if (got != o.result || n1 != ntrace || n1 > 8 ||
			    memcmp(t1v, trace, 8 * n1)) {
				if (!bad)
					printf("  mismatch: set %u (m %u, field %d): gen %" PRIu64
					       " walk %" PRIu64 " (st %d)\n",
					       round, m, field, got, o.result, st);
				bad++;
			}
			hits += !o.defaulted;
			raises++;
		}
		CHECK_EQ(dispatch_uninstall_all(&inst_mod), 0);
		CHECK_EQ(dispatch_event_destroy(ev, &auth_mod), 0);
	}
	CHECK_EQ(bad, 0);
	/* Both forms ran, and handlers as well as defaults answered. */
	CHECK(keyed > sets / 2 && chained > 20);
	CHECK(hits > raises / 8 && hits < raises - raises / 8);
	printf("  %u sets (%u searched, %u chained), %u raises (%u handled), %u mismatches\n", sets,
	       keyed, chained, raises, hits, bad);
	CHECK_EQ(dispatch_reclaim(), 0);
}

/* ------------------------------------------------- simulated preemption */

/* A "timer tick" the handlers call: when the dispatcher lets the raise be
 * preempted (depth 0), another strand on the same CPU raises ev_b, whose
 * extension handler leaves a reference in its own ledger frame. */
static struct dispatch_event *ev_a, *ev_b, *ev_c;
static char ref_a, ref_b;
static uint32_t interleaved, released_a, released_b;
static void rel_a(void *ref)
{
	(void)ref;
	released_a++;
}
static void rel_b(void *ref)
{
	(void)ref;
	released_b++;
}
static void sim_tick(void)
{
	if (dispatch_preempt_depth() == 0) {
		interleaved++;
		(void)dispatch_call(ev_b, 1, 0, 0, 0, 0);
	}
}
static struct rt_jit_ret pre_jb(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e,
                                uint64_t fuel)
{
	(void)a, (void)b, (void)c, (void)d, (void)e, (void)fuel;
	dispatch_note_acquire(&ref_b, rel_b);
	return (struct rt_jit_ret){2, RT_RUN_OK}; /* leaves ref_b: the routine releases it */
}
/* A's extension handler: holds ref_a, is "interrupted", then re-enters a
 * raise itself (nesting on the same CPU), then returns still holding it:
 * only ref_a may be released for it, and only once. */
static struct rt_jit_ret pre_ja(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e,
                                uint64_t fuel)
{
	(void)b, (void)c, (void)d, (void)e, (void)fuel;
	dispatch_note_acquire(&ref_a, rel_a);
	sim_tick();
	if (a == 1)
		(void)dispatch_call(ev_b, 1, 0, 0, 0, 0);
	return (struct rt_jit_ret){5, RT_RUN_OK};
}
static uint64_t pre_nc(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e)
{
	(void)a, (void)b, (void)c, (void)d, (void)e;
	sim_tick(); /* native-only set: preemptible */
	return 3;
}
static uint64_t pre_nop(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e)
{
	(void)a, (void)b, (void)c, (void)d, (void)e;
	return 4;
}

static void preempted_raise_keeps_ledgers_apart(void)
{
	static const struct rt_sig sig1 = {"Gen_Pre", NULL, 1, {SC}, RET, 0};
	static const struct rt_sig jsig = {"pre_j", NULL, 1, {SC}, RET, 0};
	static const struct rt_sig csig = {"pre_nc", (void *)pre_nc, 1, {SC}, RET, 0};
	static const struct rt_sig nsig = {"pre_nop", (void *)pre_nop, 1, {SC}, RET, 0};
	struct dispatch_binding *b;

	for (int codegen = 1; codegen >= 0; codegen--) {
		struct dispatch_install_req r = {0};
		bool was = dispatch_set_codegen(codegen);

		CHECK_EQ(dispatch_event_create("Gen_PreA", &sig1, &auth_mod, NULL, &ev_a), 0);
		CHECK_EQ(dispatch_event_create("Gen_PreB", &sig1, &auth_mod, NULL, &ev_b), 0);
		CHECK_EQ(dispatch_event_create("Gen_PreC", &sig1, &auth_mod, NULL, &ev_c), 0);
		r.handler = (struct dispatch_proc){&jsig, pre_ja, &inst_mod};
		r.options = DISPATCH_LAST;
		CHECK_EQ(dispatch_install(ev_a, &r, &inst_mod, &b), 0);
		r.handler = (struct dispatch_proc){&nsig, NULL, NULL}; /* a native one beside it */
		r.options = 0;
		CHECK_EQ(dispatch_install(ev_a, &r, &inst_mod, &b), 0);
		r.handler = (struct dispatch_proc){&jsig, pre_jb, &inst_mod};
		CHECK_EQ(dispatch_install(ev_b, &r, &inst_mod, &b), 0);
		r.handler = (struct dispatch_proc){&csig, NULL, NULL};
		CHECK_EQ(dispatch_install(ev_c, &r, &inst_mod, &b), 0);
		r.handler = (struct dispatch_proc){&nsig, NULL, NULL};
		CHECK_EQ(dispatch_install(ev_c, &r, &inst_mod, &b), 0);
		CHECK_EQ(dispatch_is_generated(ev_a), codegen);

		/* A raise that runs extension code is never preempted... */
		interleaved = released_a = released_b = 0;
		CHECK_EQ(dispatch_call(ev_a, 0, 0, 0, 0, 0), 5);
		CHECK_EQ(interleaved, 0);
		CHECK_EQ(released_a, 1);
		CHECK_EQ(released_b, 0);
		/* ...but may nest a raise on its own CPU: frames stay apart. */
		CHECK_EQ(dispatch_call(ev_a, 1, 0, 0, 0, 0), 5);
		CHECK_EQ(released_a, 2);
		CHECK_EQ(released_b, 1);
		/* A native-only set runs preemptibly: the other strand gets in. */
		CHECK_EQ(dispatch_call(ev_c, 0, 0, 0, 0, 0), 4);
		CHECK_EQ(interleaved, 1);
		CHECK_EQ(released_b, 2);
		CHECK_EQ(released_a, 2);
		CHECK_EQ(dispatch_preempt_depth(), 0);
		CHECK(!dispatch_inside_raise());
		CHECK_EQ(dispatch_uninstall_all(&inst_mod), 0);
		CHECK_EQ(dispatch_event_destroy(ev_a, &auth_mod), 0);
		CHECK_EQ(dispatch_event_destroy(ev_b, &auth_mod), 0);
		CHECK_EQ(dispatch_event_destroy(ev_c, &auth_mod), 0);
		dispatch_set_codegen(was);
	}
	CHECK_EQ(dispatch_reclaim(), 0);
}

int main(void)
{
	CHECK_EQ(dispatch_init(), 0);
	RUN(random_sets_match_the_walk);
	RUN(exclusive_native_sets_match_the_walk);
	RUN(field_tests_match_the_walk);
	RUN(keyed_sets_match_the_walk);
	RUN(native_forms_follow_the_fuel);
	RUN(abort_disables_and_releases);
	RUN(routine_survives_its_own_retirement);
	RUN(walk_is_the_fallback);
	RUN(preempted_raise_keeps_ledgers_apart);
	return check_done();
}
