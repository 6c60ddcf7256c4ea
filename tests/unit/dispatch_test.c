/*
 * dispatch_test.c: events, handlers, guards, authorizers, ordering, results,
 * default handlers, extension-style handlers with fuel, and bad input.
 *
 * The running example is the paper's: module Console provides Console.Write
 * and is the authority over the event Console.Write; module Gatekeeper
 * installs handlers on it.  Signatures are written out here because this
 * test is about the dispatcher alone; domain_test uses the generated ones.
 */
#include "tests/unit/check.h"

#include "kernel/dispatch.h"

static const struct module console_mod = {"Console", MODULE_TRUSTED};
static const struct module gatekeeper_mod = {"Gatekeeper", MODULE_TRUSTED};
static const struct module intruder_mod = {"Intruder", MODULE_EXTENSION};

/* A log of which procedures ran, in order. */
static char order_log[64];
static int order_len;
static void note(char c)
{
	if (order_len < 63)
		order_log[order_len++] = c;
	order_log[order_len] = 0;
}
static void log_reset(void)
{
	order_len = 0;
	order_log[0] = 0;
}

/* Event type: uint64 Console.Write(uint64 level, uint64 code). */
#define SCALAR2                                                                                    \
	{                                                                                          \
		{RT_ARG_SCALAR, NULL, 0, false},                                                   \
		{                                                                                  \
			RT_ARG_SCALAR, NULL, 0, false                                              \
		}                                                                                  \
	}
#define SCALAR3                                                                                    \
	{                                                                                          \
		{RT_ARG_SCALAR, NULL, 0, false}, {RT_ARG_SCALAR, NULL, 0, false},                  \
		{                                                                                  \
			RT_ARG_SCALAR, NULL, 0, false                                              \
		}                                                                                  \
	}

static uint64_t h_intrinsic(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e)
{
	(void)b, (void)c, (void)d, (void)e;
	note('I');
	return 100 + a;
}
static uint64_t h_a(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e)
{
	(void)a, (void)b, (void)c, (void)d, (void)e;
	note('A');
	return 1;
}
static uint64_t h_b(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e)
{
	(void)a, (void)b, (void)c, (void)d, (void)e;
	note('B');
	return 2;
}
static uint64_t h_c(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e)
{
	(void)a, (void)b, (void)c, (void)d, (void)e;
	note('C');
	return 4;
}
static uint64_t h_d(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e)
{
	(void)a, (void)b, (void)c, (void)d, (void)e;
	note('D');
	return 8;
}
static uint64_t h_default(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e)
{
	(void)a, (void)b, (void)c, (void)d, (void)e;
	note('Z');
	return 77;
}
/* With a closure: (closure, level, code). */
static uint64_t h_closure(uint64_t clo, uint64_t a, uint64_t b, uint64_t c, uint64_t d)
{
	(void)c, (void)d;
	note('K');
	return *(uint64_t *)(uintptr_t)clo + a + b;
}
/* Guards. */
static uint64_t g_level_high(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e)
{
	(void)b, (void)c, (void)d, (void)e;
	note('g');
	return a >= 5;
}
static uint64_t g_code_is(uint64_t clo, uint64_t a, uint64_t b, uint64_t c, uint64_t d)
{
	(void)a, (void)c, (void)d;
	note('h');
	return b == *(uint64_t *)(uintptr_t)clo;
}

static const struct rt_sig write_sig = {
    "Console_Write", (void *)h_intrinsic, 2, SCALAR2, {RT_RET_SCALAR, NULL, 0, false, false}, 0};
#define HSIG(fn)                                                                                   \
	{                                                                                          \
#fn, (void *)fn, 2, SCALAR2, {RT_RET_SCALAR, NULL, 0, false, false }, 0            \
	}
static const struct rt_sig sig_a = HSIG(h_a), sig_b = HSIG(h_b), sig_c = HSIG(h_c),
                           sig_d = HSIG(h_d), sig_default = HSIG(h_default);
static const struct rt_sig sig_closure = {
    "h_closure", (void *)h_closure, 3, SCALAR3, {RT_RET_SCALAR, NULL, 0, false, false}, 0};
static const struct rt_sig sig_g_level = {
    "g_level_high", (void *)g_level_high, 2, SCALAR2, {RT_RET_SCALAR, NULL, 0, false, false},
    RT_SIG_PURE};
static const struct rt_sig sig_g_level_impure = {
    "g_level_high", (void *)g_level_high, 2, SCALAR2, {RT_RET_SCALAR, NULL, 0, false, false}, 0};
static const struct rt_sig sig_g_code = {
    "g_code_is", (void *)g_code_is, 3, SCALAR3, {RT_RET_SCALAR, NULL, 0, false, false},
    RT_SIG_PURE};
/* Wrong types: one argument too few; a void result; a pointer argument. */
static const struct rt_sig sig_bad_nargs = {"h_a",
                                            (void *)h_a,
                                            1,
                                            {{RT_ARG_SCALAR, NULL, 0, false}},
                                            {RT_RET_SCALAR, NULL, 0, false, false},
                                            0};
static const struct rt_sig sig_bad_ret = {
    "h_a", (void *)h_a, 2, SCALAR2, {RT_RET_VOID, NULL, 0, false, false}, 0};
static const struct rt_sig sig_bad_arg = {
    "h_a",
    (void *)h_a,
    2,
    {{RT_ARG_SCALAR, NULL, 0, false}, {RT_ARG_MEM, NULL, 0, false}},
    {RT_RET_SCALAR, NULL, 0, false, false},
    0};

#define NATIVE(s) ((struct dispatch_proc){&(s), NULL, NULL})

static struct dispatch_event *make_event(const char *name)
{
	struct dispatch_event *ev = NULL;
	struct dispatch_proc intr = NATIVE(write_sig);
	CHECK_EQ(dispatch_event_create(name, &write_sig, &console_mod, &intr, &ev), 0);
	log_reset();
	return ev;
}

static void drop_event(struct dispatch_event *ev)
{
	CHECK_EQ(dispatch_uninstall_all(&gatekeeper_mod), 0);
	CHECK_EQ(dispatch_uninstall_all(&intruder_mod), 0);
	CHECK_EQ(dispatch_event_destroy(ev, &console_mod), 0);
	CHECK_EQ(dispatch_reclaim(), 0);
}

static struct dispatch_install_req req_of(const struct rt_sig *s, uint32_t options)
{
	struct dispatch_install_req r = {0};
	r.handler = NATIVE(*s);
	r.options = options;
	return r;
}

static void intrinsic_only_is_direct_call(void)
{
	struct dispatch_event *ev = make_event("Console.Write.direct");
	struct dispatch_outcome o;
	CHECK(dispatch_is_direct(ev));
	CHECK(ev->fast == (dispatch_fn)h_intrinsic);
	CHECK_EQ(dispatch_call(ev, 3, 0, 0, 0, 0), 103);
	CHECK_EQ(dispatch_raise(ev, (uint64_t[5]){4}, &o), DISPATCH_HANDLED);
	CHECK_EQ(o.result, 104);
	CHECK_EQ(o.fired, 1);
	CHECK_STR(order_log, "II");
	drop_event(ev);
}

static void install_runs_all_last_result_wins(void)
{
	struct dispatch_event *ev = make_event("Console.Write.install");
	struct dispatch_install_req r = req_of(&sig_a, 0);
	struct dispatch_binding *b = NULL;
	struct dispatch_outcome o;

	CHECK_EQ(dispatch_install(ev, &r, &gatekeeper_mod, &b), 0);
	CHECK(!dispatch_is_direct(ev));
	CHECK_EQ(dispatch_handler_count(ev), 2);
	CHECK_EQ(dispatch_call(ev, 1, 0, 0, 0, 0), 1); /* default: the last handler's result */
	CHECK_STR(order_log, "IA");
	CHECK_EQ(dispatch_raise(ev, (uint64_t[5]){1}, &o), DISPATCH_HANDLED);
	CHECK_EQ(o.fired, 2);
	CHECK_EQ(dispatch_uninstall(b, &gatekeeper_mod), 0);
	CHECK(dispatch_is_direct(ev));
	CHECK_EQ(dispatch_handler_count(ev), 1);
	drop_event(ev);
}

static void ordering_first_last_before_after(void)
{
	struct dispatch_event *ev = make_event("Console.Write.order");
	struct dispatch_binding *ba = NULL, *bb = NULL, *bc = NULL, *bd = NULL, *bz = NULL;
	struct dispatch_install_req r;

	r = req_of(&sig_a, DISPATCH_LAST);
	CHECK_EQ(dispatch_install(ev, &r, &gatekeeper_mod, &ba), 0);
	r = req_of(&sig_b, DISPATCH_FIRST);
	CHECK_EQ(dispatch_install(ev, &r, &gatekeeper_mod, &bb), 0);
	r = req_of(&sig_c, 0);
	CHECK_EQ(dispatch_install(ev, &r, &gatekeeper_mod, &bc), 0);
	r = req_of(&sig_d, DISPATCH_BEFORE);
	r.anchor = ba;
	CHECK_EQ(dispatch_install(ev, &r, &gatekeeper_mod, &bd), 0);
	/* B (first), I (intrinsic), C, D (before A, so in the last group), A. */
	dispatch_call(ev, 0, 0, 0, 0, 0);
	CHECK_STR(order_log, "BICDA");
	log_reset();
	r = req_of(&sig_default, DISPATCH_AFTER);
	r.anchor = bb;
	CHECK_EQ(dispatch_install(ev, &r, &intruder_mod, &bz), 0);
	dispatch_call(ev, 0, 0, 0, 0, 0);
	CHECK_STR(order_log, "BZICDA");
	log_reset();
	CHECK_EQ(dispatch_uninstall(bc, &gatekeeper_mod), 0);
	dispatch_call(ev, 0, 0, 0, 0, 0);
	CHECK_STR(order_log, "BZIDA");
	drop_event(ev);
}

static void guards_all_must_hold(void)
{
	struct dispatch_event *ev = make_event("Console.Write.guard");
	struct dispatch_guard g = {NATIVE(sig_g_level), NULL, false};
	struct dispatch_install_req r = req_of(&sig_a, 0);
	struct dispatch_binding *b = NULL;
	struct dispatch_outcome o;

	r.guard = &g;
	CHECK_EQ(dispatch_install(ev, &r, &gatekeeper_mod, &b), 0);
	CHECK(!dispatch_is_direct(ev));
	CHECK_EQ(dispatch_raise(ev, (uint64_t[5]){2, 0}, &o), DISPATCH_HANDLED);
	CHECK_EQ(o.fired, 1);
	CHECK_EQ(o.result, 102);
	CHECK_STR(order_log, "Ig");
	log_reset();
	CHECK_EQ(dispatch_raise(ev, (uint64_t[5]){7, 0}, &o), DISPATCH_HANDLED);
	CHECK_EQ(o.fired, 2);
	CHECK_EQ(o.result, 1);
	CHECK_STR(order_log, "IgA");
	drop_event(ev);
}

/* Console's authorizer: Intruder may not install; Gatekeeper may, but only
 * sees writes whose code equals the one it was granted (an imposed guard
 * with a closure, like OSDI'96's ImposedSyscallGuard), and runs last. */
static uint64_t granted_code = 42;
static int authorizer_calls;
static int console_authorizer(void *arg, struct dispatch_decision *d)
{
	struct dispatch_guard g = {NATIVE(sig_g_code), arg, true};
	authorizer_calls++;
	if (d->requester == &intruder_mod)
		return -EACCES;
	if (d->op == DISPATCH_OP_INSTALL) {
		d->options |= DISPATCH_LAST;
		return dispatch_impose_guard(d, &g);
	}
	return 0;
}

static void authorizer_denies_and_imposes(void)
{
	struct dispatch_event *ev = make_event("Console.Write.auth");
	struct dispatch_install_req r = req_of(&sig_a, 0);
	struct dispatch_binding *b = NULL, *bi = NULL;
	struct dispatch_guard own = {NATIVE(sig_g_level), NULL, false};
	struct dispatch_outcome o;
	dispatch_fn fast_before;

	CHECK_EQ(dispatch_set_authorizer(ev, console_authorizer, &granted_code, &gatekeeper_mod),
	         -EPERM); /* only the authority */
	CHECK_EQ(dispatch_set_authorizer(ev, console_authorizer, &granted_code, &console_mod), 0);
	fast_before = ev->fast;
	authorizer_calls = 0;
	CHECK_EQ(dispatch_install(ev, &r, &intruder_mod, &bi), -EACCES);
	CHECK_EQ(authorizer_calls, 1);
	CHECK(bi == NULL);
	CHECK(ev->fast == fast_before);
	CHECK_EQ(dispatch_handler_count(ev), 1);

	/* Gatekeeper's own guard stacks on the imposed one. */
	r.guard = &own;
	CHECK_EQ(dispatch_install(ev, &r, &gatekeeper_mod, &b), 0);
	CHECK_EQ(dispatch_raise(ev, (uint64_t[5]){9, 41}, &o), DISPATCH_HANDLED);
	CHECK_EQ(o.fired, 1); /* imposed guard false: A skipped */
	CHECK_STR(order_log, "Ih");
	log_reset();
	CHECK_EQ(dispatch_raise(ev, (uint64_t[5]){1, 42}, &o), DISPATCH_HANDLED);
	CHECK_EQ(o.fired, 1); /* own guard false */
	CHECK_STR(order_log, "Ihg");
	log_reset();
	CHECK_EQ(dispatch_raise(ev, (uint64_t[5]){9, 42}, &o), DISPATCH_HANDLED);
	CHECK_EQ(o.fired, 2);
	CHECK_STR(order_log, "IhgA");
	/* The authority installs without asking. */
	authorizer_calls = 0;
	r = req_of(&sig_b, 0);
	CHECK_EQ(dispatch_install(ev, &r, &console_mod, &b), 0);
	CHECK_EQ(authorizer_calls, 0);
	log_reset();
	dispatch_call(ev, 9, 42, 0, 0, 0);
	CHECK_STR(order_log, "IBhgA"); /* A was made LAST by the authorizer */
	/* The authority's LAST replaces the installer's FIRST. */
	r = req_of(&sig_c, DISPATCH_FIRST);
	CHECK_EQ(dispatch_install(ev, &r, &gatekeeper_mod, &b), 0);
	log_reset();
	dispatch_call(ev, 9, 42, 0, 0, 0);
	CHECK_STR(order_log, "IBhgAhC");
	drop_event(ev);
}

static uint64_t or_results(void *arg, uint64_t acc, uint64_t r, uint32_t index)
{
	(void)arg, (void)index;
	return acc | r;
}

static void result_handler_combines(void)
{
	struct dispatch_event *ev = make_event("Console.Write.result");
	struct dispatch_install_req r;
	struct dispatch_binding *b = NULL;
	struct dispatch_guard g = {NATIVE(sig_g_level), NULL, false};
	struct dispatch_outcome o;

	CHECK_EQ(dispatch_set_result(ev, or_results, NULL, 0, &console_mod), 0);
	r = req_of(&sig_a, 0);
	CHECK_EQ(dispatch_install(ev, &r, &gatekeeper_mod, &b), 0);
	r = req_of(&sig_b, 0);
	CHECK_EQ(dispatch_install(ev, &r, &gatekeeper_mod, &b), 0);
	r = req_of(&sig_c, 0);
	r.guard = &g;
	CHECK_EQ(dispatch_install(ev, &r, &gatekeeper_mod, &b), 0);
	CHECK_EQ(dispatch_raise(ev, (uint64_t[5]){8}, &o), DISPATCH_HANDLED);
	CHECK_EQ(o.fired, 4);
	CHECK_EQ(o.result, (108 | 1 | 2 | 4));
	CHECK_EQ(dispatch_call(ev, 0, 0, 0, 0, 0), (100 | 1 | 2));
	drop_event(ev);
}

static void default_handler_and_nothing_handled(void)
{
	struct dispatch_event *ev = NULL;
	struct dispatch_guard g = {NATIVE(sig_g_level), NULL, false};
	struct dispatch_install_req r = req_of(&sig_a, 0);
	struct dispatch_proc def = NATIVE(sig_default);
	struct dispatch_binding *b = NULL;
	struct dispatch_outcome o;

	/* An event without an intrinsic handler. */
	CHECK_EQ(
	    dispatch_event_create("Console.Write.default", &write_sig, &console_mod, NULL, &ev), 0);
	log_reset();
	CHECK(!dispatch_is_direct(ev));
	CHECK_EQ(dispatch_raise(ev, NULL, &o), DISPATCH_UNHANDLED);
	CHECK_EQ(o.fired, 0);
	CHECK_EQ(dispatch_call(ev, 0, 0, 0, 0, 0), 0);
	CHECK_EQ(ev->unhandled, 1);
	r.guard = &g;
	CHECK_EQ(dispatch_install(ev, &r, &gatekeeper_mod, &b), 0);
	CHECK_EQ(dispatch_raise(ev, (uint64_t[5]){1}, &o), DISPATCH_UNHANDLED);
	/* Event-wide policy: the authority's, or whom its authorizer allows. */
	CHECK_EQ(dispatch_set_default(ev, &def, NULL, false, &intruder_mod), -EPERM);
	CHECK_EQ(dispatch_set_result(ev, or_results, NULL, 0, &intruder_mod), -EPERM);
	CHECK_EQ(dispatch_set_default(ev, &def, NULL, false, &console_mod), 0);
	log_reset();
	CHECK_EQ(dispatch_raise(ev, (uint64_t[5]){1}, &o), DISPATCH_HANDLED);
	CHECK(o.defaulted);
	CHECK_EQ(o.result, 77);
	CHECK_STR(order_log, "gZ");
	log_reset();
	/* The default does not run when another handler fires. */
	CHECK_EQ(dispatch_raise(ev, (uint64_t[5]){6}, &o), DISPATCH_HANDLED);
	CHECK(!o.defaulted);
	CHECK_EQ(o.result, 1);
	CHECK_STR(order_log, "gA");
	CHECK_EQ(dispatch_set_default(ev, NULL, NULL, false, &console_mod), 0);
	CHECK_EQ(dispatch_raise(ev, (uint64_t[5]){1}, &o), DISPATCH_UNHANDLED);
	drop_event(ev);
}

static void closures_are_passed(void)
{
	struct dispatch_event *ev = make_event("Console.Write.closure");
	static uint64_t ctx1 = 1000, ctx2 = 2000;
	struct dispatch_install_req r = req_of(&sig_closure, DISPATCH_CLOSURE);
	struct dispatch_binding *b1 = NULL, *b2 = NULL, *b3 = NULL;
	struct dispatch_outcome o;

	r.closure = &ctx1;
	CHECK_EQ(dispatch_install(ev, &r, &gatekeeper_mod, &b1), 0);
	CHECK_EQ(dispatch_raise(ev, (uint64_t[5]){1, 2}, &o), DISPATCH_HANDLED);
	CHECK_EQ(o.result, 1003);
	/* The same handler with another closure is a different binding ... */
	r.closure = &ctx2;
	CHECK_EQ(dispatch_install(ev, &r, &gatekeeper_mod, &b2), 0);
	CHECK_EQ(dispatch_raise(ev, (uint64_t[5]){1, 2}, &o), DISPATCH_HANDLED);
	CHECK_EQ(o.result, 2003);
	/* ... but the same closure again is a double install. */
	CHECK_EQ(dispatch_install(ev, &r, &gatekeeper_mod, &b3), -EEXIST);
	/* A closure handler alone is still not a direct call. */
	CHECK_EQ(dispatch_uninstall(ev->intrinsic, &console_mod), 0);
	CHECK_EQ(dispatch_uninstall(b2, &gatekeeper_mod), 0);
	CHECK(!dispatch_is_direct(ev));
	CHECK_EQ(dispatch_call(ev, 5, 5, 0, 0, 0), 1010);
	drop_event(ev);
}

static void bad_inputs_leave_state_unchanged(void)
{
	struct dispatch_event *ev = make_event("Console.Write.bad");
	struct dispatch_event fake = {0};
	struct dispatch_guard impure = {NATIVE(sig_g_level_impure), NULL, false};
	struct dispatch_guard wrong = {NATIVE(sig_a), NULL, false}; /* not pure */
	struct dispatch_guard wrong_type = {NATIVE(sig_bad_nargs), NULL, false};
	struct dispatch_install_req r = req_of(&sig_a, 0);
	struct dispatch_binding *b = NULL, *out = NULL;
	dispatch_fn fast;
	uint32_t count;

	CHECK_EQ(dispatch_install(ev, &r, &gatekeeper_mod, &b), 0);
	fast = ev->fast;
	count = dispatch_handler_count(ev);

	CHECK_EQ(dispatch_install(&fake, &r, &gatekeeper_mod, &out), -ENOENT);
	CHECK_EQ(dispatch_install(ev, &r, &gatekeeper_mod, &out), -EEXIST);
	r = req_of(&sig_bad_nargs, 0);
	CHECK_EQ(dispatch_install(ev, &r, &gatekeeper_mod, &out), -ESIG);
	r = req_of(&sig_bad_ret, 0);
	CHECK_EQ(dispatch_install(ev, &r, &gatekeeper_mod, &out), -ESIG);
	r = req_of(&sig_bad_arg, 0);
	CHECK_EQ(dispatch_install(ev, &r, &gatekeeper_mod, &out), -ESIG);
	r = req_of(&sig_a, DISPATCH_CLOSURE); /* closure but a 2-argument handler */
	CHECK_EQ(dispatch_install(ev, &r, &intruder_mod, &out), -ESIG);
	r = req_of(&sig_b, 0);
	r.guard = &impure;
	CHECK_EQ(dispatch_install(ev, &r, &gatekeeper_mod, &out), -EIMPURE);
	r.guard = &wrong;
	CHECK_EQ(dispatch_install(ev, &r, &gatekeeper_mod, &out), -EIMPURE);
	r.guard = &wrong_type;
	CHECK_EQ(dispatch_install(ev, &r, &gatekeeper_mod, &out), -ESIG);
	r = req_of(&sig_b, DISPATCH_FIRST | DISPATCH_LAST);
	CHECK_EQ(dispatch_install(ev, &r, &gatekeeper_mod, &out), -EINVAL);
	r = req_of(&sig_b, DISPATCH_BEFORE); /* no anchor */
	CHECK_EQ(dispatch_install(ev, &r, &gatekeeper_mod, &out), -EINVAL);
	r = req_of(&sig_b, 0x8000);
	CHECK_EQ(dispatch_install(ev, &r, &gatekeeper_mod, &out), -EINVAL);
	CHECK(out == NULL);
	CHECK(ev->fast == fast);
	CHECK_EQ(dispatch_handler_count(ev), count);

	/* Someone else's binding; the intrinsic without an authorizer. */
	CHECK_EQ(dispatch_uninstall(b, &intruder_mod), -EPERM);
	CHECK_EQ(dispatch_uninstall(ev->intrinsic, &gatekeeper_mod), -EPERM);
	CHECK_EQ(dispatch_uninstall(NULL, &gatekeeper_mod), -ENOENT);
	CHECK_EQ(dispatch_handler_count(ev), count);
	/* The authority can remove any binding on its event. */
	CHECK_EQ(dispatch_uninstall(b, &console_mod), 0);
	CHECK_EQ(dispatch_uninstall(b, &gatekeeper_mod), -ENOENT); /* already gone */
	/* Duplicate event names; destroying someone else's event. */
	{
		struct dispatch_event *dup = NULL;
		CHECK_EQ(dispatch_event_create("Console.Write.bad", &write_sig, &console_mod, NULL,
		                               &dup),
		         -EEXIST);
		CHECK_EQ(dispatch_event_destroy(ev, &gatekeeper_mod), -EPERM);
	}
	CHECK(dispatch_event_lookup("Console.Write.bad") == ev);
	CHECK(dispatch_event_lookup("Nope.Nope") == NULL);
	drop_event(ev);
	CHECK_EQ(dispatch_install(ev, &r, &gatekeeper_mod, &out), -ENOENT); /* destroyed */
}

static int intrinsic_removal_authorizer(void *arg, struct dispatch_decision *d)
{
	(void)arg;
	return (d->op == DISPATCH_OP_UNINSTALL && d->requester == &gatekeeper_mod) ? 0 : -EACCES;
}

static void replace_intrinsic_with_consent(void)
{
	struct dispatch_event *ev = make_event("Console.Write.replace");
	struct dispatch_install_req r = req_of(&sig_b, 0);
	struct dispatch_binding *b = NULL;

	CHECK_EQ(dispatch_set_authorizer(ev, intrinsic_removal_authorizer, NULL, &console_mod), 0);
	CHECK_EQ(dispatch_uninstall(ev->intrinsic, &intruder_mod), -EACCES);
	CHECK_EQ(dispatch_install(ev, &r, &gatekeeper_mod, &b), -EACCES);
	CHECK_EQ(dispatch_set_authorizer(ev, NULL, NULL, &console_mod), 0);
	CHECK_EQ(dispatch_install(ev, &r, &gatekeeper_mod, &b), 0);
	CHECK_EQ(dispatch_set_authorizer(ev, intrinsic_removal_authorizer, NULL, &console_mod), 0);
	CHECK_EQ(dispatch_uninstall(ev->intrinsic, &gatekeeper_mod), 0);
	CHECK(ev->intrinsic == NULL);
	/* Gatekeeper's handler is now the only one: a direct call to it. */
	CHECK(dispatch_is_direct(ev));
	CHECK(ev->fast == (dispatch_fn)h_b);
	CHECK_EQ(dispatch_call(ev, 0, 0, 0, 0, 0), 2);
	CHECK_EQ(dispatch_event_destroy(ev, &console_mod), -EBUSY); /* Gatekeeper still bound */
	drop_event(ev);
}

/* An authorizer that tries to change the handler set: refused, no deadlock. */
static struct dispatch_event *reentrant_ev;
static int reentrant_result;
static int reentrant_authorizer(void *arg, struct dispatch_decision *d)
{
	struct dispatch_install_req r = req_of(&sig_c, 0);
	struct dispatch_binding *b = NULL;
	(void)arg, (void)d;
	reentrant_result = dispatch_install(reentrant_ev, &r, &console_mod, &b);
	return 0;
}

static void authorizer_cannot_reenter(void)
{
	struct dispatch_event *ev = make_event("Console.Write.reenter");
	struct dispatch_install_req r = req_of(&sig_b, 0);
	struct dispatch_binding *b = NULL;
	reentrant_ev = ev;
	CHECK_EQ(dispatch_set_authorizer(ev, reentrant_authorizer, NULL, &console_mod), 0);
	CHECK_EQ(dispatch_install(ev, &r, &gatekeeper_mod, &b), 0);
	CHECK_EQ(reentrant_result, -EBUSY);
	CHECK_EQ(dispatch_handler_count(ev), 2);
	drop_event(ev);
}

/* A handler that changes its own event's handler set while it runs: the
 * raise in progress keeps the set it started with, and that set is freed
 * only after the raise is over. */
static struct dispatch_event *self_ev;
static struct dispatch_binding *self_added;
static uint64_t h_installer(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e)
{
	struct dispatch_install_req r = req_of(&sig_d, 0);
	(void)a, (void)b, (void)c, (void)d, (void)e;
	note('X');
	if (!self_added) {
		CHECK_EQ(dispatch_install(self_ev, &r, &gatekeeper_mod, &self_added), 0);
		/* The old set is still in use by this raise. */
		CHECK_EQ(dispatch_reclaim(), 1);
	}
	return 5;
}
static const struct rt_sig sig_installer = HSIG(h_installer);

static void mutation_during_raise(void)
{
	struct dispatch_event *ev = make_event("Console.Write.mutate");
	struct dispatch_install_req r = req_of(&sig_installer, 0);
	struct dispatch_binding *b = NULL;
	self_ev = ev;
	self_added = NULL;
	CHECK_EQ(dispatch_install(ev, &r, &gatekeeper_mod, &b), 0);
	dispatch_call(ev, 0, 0, 0, 0, 0);
	CHECK_STR(order_log, "IX"); /* D was installed mid-raise: not in this raise */
	CHECK_EQ(dispatch_reclaim(), 0);
	log_reset();
	dispatch_call(ev, 0, 0, 0, 0, 0);
	CHECK_STR(order_log, "IXD");
	drop_event(ev);
}

/*
 * Extension-style handlers.  These stand in for JIT-compiled entries: they
 * have the JIT's ABI (r1..r5, fuel) -> {r0, status}.  The runaway one
 * "acquires" a console through the ledger, as the generated import wrapper
 * of Console.Open would, and then runs out of fuel.
 */
static int consoles_open;
static int console_token;
static void console_release(void *ref)
{
	CHECK(ref == &console_token);
	consoles_open--;
}
static struct rt_jit_ret ext_runaway(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
                                     uint64_t r5, uint64_t fuel)
{
	(void)r1, (void)r2, (void)r3, (void)r4, (void)r5;
	consoles_open++;
	dispatch_note_acquire(&console_token, console_release);
	while (fuel > 0)
		fuel--; /* the endless loop, metered */
	note('R');
	return (struct rt_jit_ret){0, RT_RUN_FUEL};
}
static struct rt_jit_ret ext_polite(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
                                    uint64_t fuel)
{
	(void)r2, (void)r3, (void)r4, (void)r5, (void)fuel;
	consoles_open++;
	dispatch_note_acquire(&console_token, console_release);
	consoles_open--;
	dispatch_note_release(&console_token);
	note('P');
	return (struct rt_jit_ret){r1 * 2, RT_RUN_OK};
}
static uint64_t abort_reports;
static void on_abort(void *arg, struct dispatch_binding *b, uint32_t status)
{
	(void)arg, (void)b;
	if (status == RT_RUN_FUEL)
		abort_reports++;
}
static uint64_t fuel_seen;
static int fuel_authorizer(void *arg, struct dispatch_decision *d)
{
	(void)arg;
	fuel_seen = d->fuel;
	d->fuel = 500; /* the authority's time bound */
	d->policy = d->requester == &intruder_mod ? DISPATCH_ABORT_DISABLE : DISPATCH_ABORT_REPORT;
	return 0;
}

static void runaway_extension_is_aborted(void)
{
	struct dispatch_event *ev = make_event("Console.Write.ext");
	static const struct rt_sig ext_sig = {
	    "ext", NULL, 2, SCALAR2, {RT_RET_SCALAR, NULL, 0, false, false}, 0};
	struct dispatch_install_req r = {0};
	struct dispatch_binding *run = NULL, *pol = NULL;
	struct dispatch_outcome o;

	CHECK_EQ(dispatch_set_authorizer(ev, fuel_authorizer, NULL, &console_mod), 0);
	CHECK_EQ(dispatch_set_abort_hook(ev, on_abort, NULL, &console_mod), 0);
	r.handler = (struct dispatch_proc){&ext_sig, ext_runaway, &intruder_mod};
	r.fuel = 1u << 30;
	CHECK_EQ(dispatch_install(ev, &r, &intruder_mod, &run), 0);
	CHECK_EQ(fuel_seen, 1u << 30);
	r.handler = (struct dispatch_proc){&ext_sig, ext_polite, &gatekeeper_mod};
	CHECK_EQ(dispatch_install(ev, &r, &gatekeeper_mod, &pol), 0);
	abort_reports = 0;
	consoles_open = 0;

	CHECK_EQ(dispatch_raise(ev, (uint64_t[5]){21}, &o), DISPATCH_HANDLED);
	CHECK_STR(order_log, "IRP");
	CHECK_EQ(o.aborted, 1);
	CHECK_EQ(o.fired, 2);
	CHECK_EQ(o.result, 42);
	CHECK_EQ(consoles_open, 0); /* the ledger released what it held */
	CHECK_EQ(abort_reports, 1);
	CHECK(dispatch_binding_disabled(run));
	CHECK_EQ(dispatch_binding_aborts(run), 1);
	log_reset();
	/* Disabled: no longer runs; its owner can still uninstall it. */
	CHECK_EQ(dispatch_raise(ev, (uint64_t[5]){1}, &o), DISPATCH_HANDLED);
	CHECK_STR(order_log, "IP");
	CHECK_EQ(o.aborted, 0);
	CHECK_EQ(dispatch_uninstall(run, &intruder_mod), 0);
	drop_event(ev);
}

static void async_handlers_recorded_not_run(void)
{
	struct dispatch_event *ev = make_event("Console.Write.async");
	struct dispatch_install_req r = req_of(&sig_a, DISPATCH_ASYNC);
	struct dispatch_binding *b = NULL;
	CHECK_EQ(dispatch_install(ev, &r, &gatekeeper_mod, &b), 0);
	CHECK_EQ(dispatch_handler_count(ev), 2);
	CHECK(dispatch_is_direct(ev)); /* the async one is not in the synchronous set */
	dispatch_call(ev, 0, 0, 0, 0, 0);
	CHECK_STR(order_log, "I");
	drop_event(ev);
}

/* The async runner keeps preemption off from taking a binding off its
 * queue to the end of its run; dispatch_run_async relies on that instead of
 * disabling it again, and refuses a caller that has not. */
static void run_async_refuses_preemptible_caller(void)
{
	struct dispatch_event *ev = make_event("Console.Write.async2");
	struct dispatch_install_req r = req_of(&sig_a, DISPATCH_ASYNC);
	struct dispatch_binding *b = NULL;
	uint64_t a[5] = {0}, res = 7;
	CHECK_EQ(dispatch_install(ev, &r, &gatekeeper_mod, &b), 0);
	CHECK_EQ(dispatch_preempt_depth(), 0);
	log_reset();
	CHECK_EQ(dispatch_run_async(b, a, &res), -EINVAL);
	CHECK_STR(order_log, ""); /* the handler did not run */
	CHECK_EQ(res, 7);
	CHECK_EQ(dispatch_run_async(NULL, a, &res), -EINVAL);
	drop_event(ev);
}

/* tests/ext-model/kheap_shim.c: allocations fail once this reaches 0. */
extern long kheap_shim_fail_after;

/* A change whose new set cannot be allocated is undone: the event's state
 * stays what its published set says (dispatch_rebuild's callers). */
static void rebuild_failure_leaves_event_unchanged(void)
{
	struct dispatch_event *ev = make_event("Console.Write.oom");
	struct dispatch_install_req r = req_of(&sig_a, 0);
	struct dispatch_proc def = NATIVE(sig_default);
	struct dispatch_binding *b = NULL;
	struct dispatch_outcome o;

	CHECK_EQ(dispatch_install(ev, &r, &gatekeeper_mod, &b), 0);
	kheap_shim_fail_after = 0;
	CHECK_EQ(dispatch_set_result(ev, or_results, NULL, 0, &console_mod), -ENOMEM);
	CHECK_EQ(dispatch_set_default(ev, &def, NULL, false, &console_mod), -ENOMEM);
	CHECK_EQ(dispatch_set_exclusive(ev, true, &console_mod), -ENOMEM);
	kheap_shim_fail_after = 1; /* the binding, not its set */
	r = req_of(&sig_b, 0);
	CHECK_EQ(dispatch_install(ev, &r, &gatekeeper_mod, &b), -ENOMEM);
	kheap_shim_fail_after = -1;
	CHECK(ev->result_fn == NULL);
	CHECK(!ev->has_default);
	CHECK(!ev->exclusive);
	CHECK_EQ(dispatch_handler_count(ev), 2);
	/* The next set is built from that state: a change left behind would
	 * show as a combined result, one handler only, or B running. */
	r = req_of(&sig_c, 0);
	CHECK_EQ(dispatch_install(ev, &r, &gatekeeper_mod, &b), 0);
	log_reset();
	CHECK_EQ(dispatch_raise(ev, (uint64_t[5]){0}, &o), DISPATCH_HANDLED);
	CHECK_STR(order_log, "IAC");
	CHECK_EQ(o.fired, 3);
	CHECK_EQ(o.result, 4);
	drop_event(ev);
}

static void many_events_and_slot_reuse(void)
{
	static char names[DISPATCH_MAX_EVENTS + 1][24];
	struct dispatch_event *evs[DISPATCH_MAX_EVENTS + 1];
	struct dispatch_proc intr = NATIVE(write_sig);
	int bad = 0, made = 0;
	for (int i = 0; i <= DISPATCH_MAX_EVENTS; i++) {
		snprintf(names[i], sizeof(names[i]), "Ev.%d", i);
		int err = dispatch_event_create(names[i], &write_sig, &console_mod, &intr, &evs[i]);
		if (i < DISPATCH_MAX_EVENTS)
			bad += err != 0, made += err == 0;
		else
			CHECK_EQ(err, -ENOSPC);
	}
	CHECK_EQ(bad, 0);
	for (int i = 0; i < made; i++) {
		struct dispatch_install_req r = req_of(&sig_a, 0);
		struct dispatch_binding *b = NULL;
		bad += dispatch_install(evs[i], &r, &gatekeeper_mod, &b) != 0;
		log_reset();
		bad += dispatch_call(evs[i], 0, 0, 0, 0, 0) != 1 || strcmp(order_log, "IA") != 0;
		bad += dispatch_uninstall(b, &gatekeeper_mod) != 0;
		bad += dispatch_event_destroy(evs[i], &console_mod) != 0;
	}
	CHECK_EQ(bad, 0);
	CHECK_EQ(dispatch_reclaim(), 0);
}

int main(void)
{
	CHECK_EQ(dispatch_init(), 0);
	RUN(intrinsic_only_is_direct_call);
	RUN(install_runs_all_last_result_wins);
	RUN(ordering_first_last_before_after);
	RUN(guards_all_must_hold);
	RUN(authorizer_denies_and_imposes);
	RUN(result_handler_combines);
	RUN(default_handler_and_nothing_handled);
	RUN(closures_are_passed);
	RUN(bad_inputs_leave_state_unchanged);
	RUN(replace_intrinsic_with_consent);
	RUN(authorizer_cannot_reenter);
	RUN(mutation_during_raise);
	RUN(runaway_extension_is_aborted);
	RUN(async_handlers_recorded_not_run);
	RUN(run_async_refuses_preemptible_caller);
	RUN(rebuild_failure_leaves_event_unchanged);
	RUN(many_events_and_slot_reuse);
	return check_done();
}
