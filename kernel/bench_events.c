/*
 * bench_events.c: event dispatch measured in the guest (suite "events",
 * command line bench=events; ids raise_* and direct_* of
 * bench/benchmarks.def).  The host-native version of the same table is
 * tests/ext-model/bench/dispatch_bench.c (make bench-dispatch); this one
 * counts guest instructions under -icount, so it is exact and repeatable.
 *
 *   raise_Nh        an event with N native handlers that do nothing, raised
 *                   through its call site (dispatch_call, as the generated
 *                   stubs do): one handler unguarded is a direct call, more
 *                   go through the routine generated for the handler set
 *   raise_Nh_guard  the same, each handler behind a guard that compares a
 *                   global with a constant (true)
 *   direct_Nh[_guard]  the baseline: the same N handler (and guard) calls
 *                   made directly from C, written out (no loop), from one
 *                   noinline function, as the generated routine is one call
 *
 * One sample is one raise (or one round of N direct calls), corrected for
 * the timestamp pair.  Nothing here asserts a figure.
 */
#include <arch/cpu.h>

#include "kernel/bench.h"
#include "kernel/dispatch.h"
#include "kernel/fmt.h"
#include "kernel/kprintf.h"

#define BENCH_EV_MAX_SAMPLES  1000
#define BENCH_EV_MAX_HANDLERS 50

static uint64_t bench_ev_s[BENCH_EV_MAX_SAMPLES];
static volatile uint64_t bench_ev_guard_global = 1;
static volatile uint64_t bench_ev_sink;

/* noipa: the baselines must really call these, as the dispatcher does.
 * Both take the event's two declared arguments (the dispatcher's native
 * calling convention passes up to five; a two-argument callee ignores the
 * rest, so the baseline does not pay for argument setup the raise skips). */
__attribute__((noipa)) static uint64_t bench_ev_nop(uint64_t a, uint64_t b)
{
	(void)b;
	__asm__ volatile("");
	return a;
}

__attribute__((noipa)) static uint64_t bench_ev_guard(uint64_t a, uint64_t b)
{
	(void)a, (void)b;
	return bench_ev_guard_global == 1;
}

/* The baseline is straight-line code, N calls written out, as the
 * dispatcher's generated routine is: no loop overhead on either side. */
#define BENCH_EV_CALL(r, i)   ((r) = bench_ev_nop((i), 2))
#define BENCH_EV_GCALL(r, i)  ((r) = bench_ev_guard((i), 2) ? bench_ev_nop((i), 2) : (r))
#define BENCH_EV_X5(m, r, i)  (m(r, i), m(r, i), m(r, i), m(r, i), m(r, i))
#define BENCH_EV_X10(m, r, i) (BENCH_EV_X5(m, r, i), BENCH_EV_X5(m, r, i))
#define BENCH_EV_X50(m, r, i)                                                                      \
	(BENCH_EV_X10(m, r, i), BENCH_EV_X10(m, r, i), BENCH_EV_X10(m, r, i),                      \
	 BENCH_EV_X10(m, r, i), BENCH_EV_X10(m, r, i))

static __attribute__((noinline)) uint64_t bench_ev_calls(int nh, bool guarded, uint64_t i)
{
	uint64_t r = 0;

	switch (nh * 2 + guarded) {
	case 2:
		BENCH_EV_CALL(r, i);
		break;
	case 3:
		BENCH_EV_GCALL(r, i);
		break;
	case 10:
		BENCH_EV_X5(BENCH_EV_CALL, r, i);
		break;
	case 11:
		BENCH_EV_X5(BENCH_EV_GCALL, r, i);
		break;
	case 20:
		BENCH_EV_X10(BENCH_EV_CALL, r, i);
		break;
	case 21:
		BENCH_EV_X10(BENCH_EV_GCALL, r, i);
		break;
	case 100:
		BENCH_EV_X50(BENCH_EV_CALL, r, i);
		break;
	case 101:
		BENCH_EV_X50(BENCH_EV_GCALL, r, i);
		break;
	}
	return r;
}

static const struct module bench_ev_mod = {"BenchEvents", MODULE_TRUSTED};
/* The dispatcher refuses a second install of one procedure by one module,
 * so each binding of bench_ev_nop has its own owner. */
static struct module bench_ev_owners[BENCH_EV_MAX_HANDLERS];

#define BENCH_EV_SC                                                                                \
	{                                                                                          \
		RT_ARG_SCALAR, NULL, 0, false                                                      \
	}
static const struct rt_sig bench_ev_sig = {"BenchEvents_Event",
                                           NULL,
                                           2,
                                           {BENCH_EV_SC, BENCH_EV_SC},
                                           {RT_RET_SCALAR, NULL, 0, false, false},
                                           0};
static const struct rt_sig bench_ev_hsig = {"bench_ev_nop",
                                            (void *)bench_ev_nop,
                                            2,
                                            {BENCH_EV_SC, BENCH_EV_SC},
                                            {RT_RET_SCALAR, NULL, 0, false, false},
                                            0};
static const struct rt_sig bench_ev_gsig = {"bench_ev_guard",
                                            (void *)bench_ev_guard,
                                            2,
                                            {BENCH_EV_SC, BENCH_EV_SC},
                                            {RT_RET_SCALAR, NULL, 0, false, false},
                                            RT_SIG_PURE};

static int bench_ev_n(const char *id)
{
	int n = bench_samples(id);

	return n > BENCH_EV_MAX_SAMPLES ? BENCH_EV_MAX_SAMPLES : n;
}

static void bench_ev_direct(int nh, bool guarded, uint64_t pair)
{
	char id[32];
	int n;

	fmt_snprintf(id, sizeof(id), "direct_%dh%s", nh, guarded ? "_guard" : "");
	n = bench_ev_n(id);
	for (int i = -bench_warmup(n); i < n; i++) {
		uint64_t t0 = arch_cycles();
		uint64_t r = bench_ev_calls(nh, guarded, (uint64_t)i);
		uint64_t t1 = arch_cycles();

		bench_ev_sink = r;
		if (i >= 0)
			bench_ev_s[i] = t1 - t0;
	}
	bench_report(id, bench_ev_s, n, pair);
}

static void bench_ev_raise(int nh, bool guarded, uint64_t pair)
{
	const struct dispatch_guard g = {{&bench_ev_gsig, NULL, NULL}, NULL, false};
	struct dispatch_binding *b[BENCH_EV_MAX_HANDLERS];
	struct dispatch_event *ev = NULL;
	char id[32];
	int n, k, err;

	fmt_snprintf(id, sizeof(id), "raise_%dh%s", nh, guarded ? "_guard" : "");
	err = dispatch_event_create("BenchEvents.Event", &bench_ev_sig, &bench_ev_mod, NULL, &ev);
	if (err) {
		kprintf("bench-events: cannot create the event (%d)\n", err);
		return;
	}
	for (k = 0; k < nh; k++) {
		struct dispatch_install_req r = {0};

		bench_ev_owners[k] = (struct module){"BenchEventsOwner", MODULE_TRUSTED};
		r.handler = (struct dispatch_proc){&bench_ev_hsig, NULL, NULL};
		r.guard = guarded ? &g : NULL;
		err = dispatch_install(ev, &r, &bench_ev_owners[k], &b[k]);
		if (err) {
			kprintf("bench-events: install %d of %d failed (%d)\n", k + 1, nh, err);
			goto out;
		}
	}
	n = bench_ev_n(id);
	for (int i = -bench_warmup(n); i < n; i++) {
		uint64_t t0 = arch_cycles();
		uint64_t r = dispatch_call(ev, (uint64_t)i, 2, 0, 0, 0);
		uint64_t t1 = arch_cycles();

		if (r != (uint64_t)i) {
			kprintf("bench-events: %s returned %lu, not %d\n", id, (unsigned long)r, i);
			goto out;
		}
		if (i >= 0)
			bench_ev_s[i] = t1 - t0;
	}
	bench_report(id, bench_ev_s, n, pair);
out:
	while (k-- > 0)
		dispatch_uninstall(b[k], &bench_ev_owners[k]);
	dispatch_event_destroy(ev, &bench_ev_mod);
	dispatch_reclaim();
}

void bench_events_run(uint64_t pair)
{
	static const int counts[] = {1, 5, 10, 50};

	for (unsigned c = 0; c < sizeof(counts) / sizeof(counts[0]); c++)
		for (int guarded = 0; guarded < 2; guarded++) {
			bench_ev_direct(counts[c], guarded, pair);
			bench_ev_raise(counts[c], guarded, pair);
		}
}
