/*
 * model_test.c: the extension model inside the kernel, with real
 * extensions compiled from C by clang (tests/kernel-ext/m_*.c, and the
 * tests/ext-model/ sources mk/kext.mk packs as m_*, into the image) and
 * the trusted modules the boot published (kernel/modules.c).
 *
 * The paper's demonstrations: the Gatekeeper writes "Intruder Alert"
 * through its Console capability, and a variant that reads the console's
 * fields is refused by the verifier; an unprivileged extension that
 * imports SPL fails to link, naming the symbol; an authority that denies
 * and one that imposes a guard; ordered handlers and result combination; a
 * runaway handler aborted by fuel (the kernel keeps running, its console
 * is released, its binding disabled); an extension that fails in every way
 * the runtime detects at run time, is unloaded, and the event still works;
 * listing, unloading and reloading a boot-manifest extension; a handler
 * its authority makes asynchronous runs on the worker strand, after the
 * raise has returned.
 *
 * Cases restore the Gatekeeper's policy and unload what they loaded before
 * they assert, so one failure does not cascade.
 */
#include <arch/percpu.h>

#include "kernel/console.h"
#include "kernel/dispatch.h"
#include "kernel/dispatch_async.h"
#include "kernel/domain.h"
#include "kernel/extension.h"
#include "kernel/gatekeeper.h"
#include "kernel/kext.h"
#include "kernel/kprintf.h"
#include "kernel/ktest.h"
#include "kernel/modules.h"
#include "kernel/nameserver.h"
#include "kernel/sched.h"
#include "kernel/string.h"
#include "spindle_interfaces.h"

static const struct module mt_loader = {"model_test", MODULE_TRUSTED};

static bool mt_has(const char *s, const char *sub)
{
	size_t n = strlen(sub);
	for (; s && *s; s++)
		if (strncmp(s, sub, n) == 0)
			return true;
	return false;
}

static int mt_load_in(const char *image, const char *name, const struct module *req,
                      struct domain *const *doms, uint32_t nd, struct ext **out, char *err,
                      size_t n)
{
	const struct kext_image *im = kext_find(image);

	*out = NULL;
	if (!im)
		return -ENOENT;
	return ext_load(im->data, (size_t)im->size, name, req, doms, nd, out, err, n);
}

static int mt_load(const char *image, struct ext **out, char *err, size_t n)
{
	struct domain *doms[1] = {domain_spin_public};
	return mt_load_in(image, image, &mt_loader, doms, 1, out, err, n);
}

static int mt_raise(uint64_t level, uint64_t code, struct dispatch_outcome *o)
{
	uint64_t a[5] = {level, code, 0, 0, 0};
	memset(o, 0, sizeof(*o));
	return dispatch_raise(Gatekeeper_IntruderAlert_event, a, o);
}

KTEST(model_boot_publishes_spin_public_and_private)
{
	struct domain *d = NULL;
	static const struct module unpriv = {"someone", MODULE_EXTENSION};

	KT_ASSERT(domain_spin_public && domain_spin_private);
	KT_ASSERT(domain_lookup(domain_spin_public, "Console_Open") != NULL);
	KT_ASSERT(domain_lookup(domain_spin_public, "Gatekeeper_Level") != NULL);
	KT_ASSERT(domain_lookup(domain_spin_public, "Dispatcher_Install") != NULL);
	KT_ASSERT(domain_lookup(domain_spin_public, "Strand_Thread") != NULL);
	KT_ASSERT(domain_lookup(domain_spin_public, "VProc_Ticks") != NULL);
	KT_ASSERT(domain_lookup(domain_spin_public, "Kext_Log") != NULL);
	KT_ASSERT(domain_lookup(domain_spin_public, "SPL_High") == NULL); /* private */
	KT_ASSERT(domain_lookup(domain_spin_private, "SPL_High") != NULL);
	KT_ASSERT(domain_lookup(domain_spin_private, "Console_Write") != NULL);
	/* The nameserver: by the interface's export name, with SPL's authorizer. */
	KT_ASSERT_EQ(nameserver_import("ConsoleService", &unpriv, &d), 0);
	KT_ASSERT(domain_lookup(d, "Console_Close") != NULL);
	domain_drop(d);
	KT_ASSERT_EQ(nameserver_import("SPL", &unpriv, &d), -EACCES);
	KT_ASSERT_EQ(nameserver_import("SPL", &modules_boot_loader, &d), 0);
	domain_drop(d);
	KT_ASSERT_EQ(nameserver_import("NoSuchService", &unpriv, &d), -ENOENT);
	/* The boot manifest loaded both of its lines. */
	KT_ASSERT_EQ(modules_manifest_result(), 2);
	/* Events declared by their authorities, intrinsic handlers direct. */
	KT_ASSERT(Gatekeeper_IntruderAlert_event != NULL);
	KT_ASSERT(dispatch_is_direct(Strand_Checkpoint_event));
}

KTEST(model_gatekeeper_writes_intruder_alert_through_console)
{
	struct dispatch_outcome o1, o2;
	struct ext *x = NULL;
	char err[200], cap[64];
	int rc, s1, s2;
	uint32_t open_after;

	console_capture_reset();
	rc = mt_load("m_gatekeeper", &x, err, sizeof(err));
	if (rc)
		KT_FAIL("m_gatekeeper did not load (%d): %s", rc, err);
	s1 = mt_raise(5, 1, &o1); /* serious: the guard lets it through */
	s2 = mt_raise(1, 0, &o2); /* below the level: guarded out */
	memcpy(cap, console_capture(), sizeof(cap) - 1);
	cap[sizeof(cap) - 1] = 0;
	open_after = console_open_count();
	KT_ASSERT_EQ(ext_unload(x, err, sizeof(err)), 0);

	KT_ASSERT_EQ(s1, DISPATCH_HANDLED);
	KT_ASSERT(mt_has(cap, "Intruder Alert"));
	KT_ASSERT_EQ(o1.fired, 2);   /* intrinsic and the extension */
	KT_ASSERT_EQ(o1.result, 51); /* max(5, 5 * 10 + 1): Gatekeeper's result handler */
	KT_ASSERT_EQ(s2, DISPATCH_HANDLED);
	KT_ASSERT_EQ(o2.fired, 1); /* the intrinsic alone */
	KT_ASSERT_EQ(o2.result, 0);
	KT_ASSERT_EQ(open_after, 0); /* it closed what it opened */
}

KTEST(model_console_fields_unreachable_verifier_refuses)
{
	struct ext *x = NULL;
	char err[240];
	int rc = mt_load("m_peek", &x, err, sizeof(err));

	if (rc == 0)
		ext_unload(x, NULL, 0);
	kprintf("  m_peek: %s\n", err);
	KT_ASSERT_EQ(rc, -EINVAL);
	KT_ASSERT(mt_has(err, "peek:"));
	KT_ASSERT(mt_has(err, "ext_peek.c:")); /* its source, tests/ext-model/ext_peek.c */
	KT_ASSERT(ext_find("m_peek") == NULL);
}

KTEST(model_private_import_refused_at_link_time)
{
	struct domain *priv[1] = {domain_spin_private};
	struct ext *x = NULL;
	char err[200];
	int rc_pub, rc_perm, rc_priv;

	rc_pub = mt_load_in("uses_spl", "spl_public", &mt_loader, &domain_spin_public, 1, &x, err,
	                    sizeof(err));
	if (rc_pub == 0)
		ext_unload(x, NULL, 0);
	kprintf("  uses_spl against SpinPublic: %s\n", err);
	KT_ASSERT_EQ(rc_pub, -EUNRESOLVED);
	KT_ASSERT(mt_has(err, "'SPL_High'"));
	/* An unprivileged loader cannot hand out SpinPrivate at all. */
	rc_perm = mt_load_in("uses_spl", "spl_perm", &mt_loader, priv, 1, &x, err, sizeof(err));
	if (rc_perm == 0)
		ext_unload(x, NULL, 0);
	KT_ASSERT_EQ(rc_perm, -EPERM);
	/* A privileged one can, and then it links. */
	rc_priv =
	    mt_load_in("uses_spl", "spl_priv", &modules_boot_loader, priv, 1, &x, err, sizeof(err));
	if (rc_priv == 0)
		KT_ASSERT_EQ(ext_unload(x, err, sizeof(err)), 0);
	KT_ASSERT_EQ(rc_priv, 0);
}

KTEST(model_authorizer_denies_install)
{
	struct ext *x = NULL;
	char err[200];
	uint64_t before = gatekeeper_denied();
	int rc;

	gatekeeper_set_policy(GATEKEEPER_DENY, 0);
	rc = mt_load("m_guarded", &x, err, sizeof(err));
	gatekeeper_set_policy(GATEKEEPER_ALLOW, 0);
	if (rc == 0)
		ext_unload(x, NULL, 0);
	KT_ASSERT(rc < 0);
	KT_ASSERT(mt_has(err, "initialiser refused the load (returned 13)")); /* EACCES */
	KT_ASSERT_EQ(gatekeeper_denied(), before + 1);
	KT_ASSERT_EQ(dispatch_handler_count(Gatekeeper_IntruderAlert_event), 1);
}

KTEST(model_authorizer_imposes_guard)
{
	struct dispatch_outcome hit, miss;
	struct ext *x = NULL;
	char err[200];
	int rc;

	gatekeeper_set_policy(GATEKEEPER_GUARD, 7);
	rc = mt_load("m_guarded", &x, err, sizeof(err));
	gatekeeper_set_policy(GATEKEEPER_ALLOW, 0);
	if (rc)
		KT_FAIL("m_guarded did not load (%d): %s", rc, err);
	mt_raise(5, 7, &hit);  /* code 7: the imposed guard holds */
	mt_raise(5, 8, &miss); /* code 8: it does not */
	KT_ASSERT_EQ(ext_unload(x, err, sizeof(err)), 0);

	KT_ASSERT_EQ(hit.fired, 2);
	KT_ASSERT_EQ(hit.result, 1007);
	KT_ASSERT_EQ(miss.fired, 1);
	KT_ASSERT_EQ(miss.result, 5);
}

KTEST(model_ordered_handlers_and_result_combination)
{
	struct dispatch_outcome o;
	struct ext *x = NULL;
	char err[200], cap[64];
	const char *f, *l;
	int rc;

	rc = mt_load("m_order", &x, err, sizeof(err));
	if (rc)
		KT_FAIL("m_order did not load (%d): %s", rc, err);
	console_capture_reset();
	mt_raise(4, 0, &o);
	memcpy(cap, console_capture(), sizeof(cap) - 1);
	cap[sizeof(cap) - 1] = 0;
	KT_ASSERT_EQ(ext_unload(x, err, sizeof(err)), 0);

	f = cap;
	while (*f && *f != 'F')
		f++;
	l = cap;
	while (*l && *l != 'L')
		l++;
	KT_ASSERT(*f == 'F' && *l == 'L' && f < l); /* FIRST ran before LAST */
	KT_ASSERT_EQ(o.fired, 3);
	KT_ASSERT_EQ(o.result, 204); /* max(4, 104, 204) */
}

static volatile int mt_strand_ran;
static void mt_strand(void *p)
{
	(void)p;
	mt_strand_ran = 1;
}

KTEST(model_runaway_handler_aborted_by_fuel)
{
	struct dispatch_outcome o1, o2;
	struct ext *x = NULL;
	char err[200];
	bool disabled;
	uint32_t open_after;
	strand_t h;
	int rc;

	rc = mt_load("m_runaway", &x, err, sizeof(err));
	if (rc)
		KT_FAIL("m_runaway did not load (%d): %s", rc, err);
	mt_raise(5, 0, &o1);
	open_after = console_open_count();
	disabled = dispatch_binding_disabled(ext_binding(x, 0));
	mt_raise(5, 0, &o2);
	KT_ASSERT_EQ(ext_unload(x, err, sizeof(err)), 0);

	KT_ASSERT_EQ(o1.aborted, 1);
	KT_ASSERT_EQ(o1.fired, 1); /* the intrinsic still answered */
	KT_ASSERT_EQ(o1.result, 5);
	KT_ASSERT_EQ(open_after, 0); /* the console it held was released */
	KT_ASSERT(disabled);
	KT_ASSERT_EQ(o2.aborted, 0); /* disabled: not run again */
	/* The kernel keeps running: strands still get scheduled. */
	mt_strand_ran = 0;
	KT_ASSERT_EQ(strand_create(mt_strand, NULL, SCHED_PRIO_DEFAULT, "mt-after", &h), 0);
	KT_ASSERT_EQ(strand_join(h, NULL), 0);
	KT_ASSERT_EQ(mt_strand_ran, 1);
}

KTEST(model_faulty_extension_unloaded_event_survives)
{
	struct dispatch_outcome o[4], after;
	struct ext *stats = NULL, *faulty = NULL;
	struct domain *doms[2] = {domain_spin_public, NULL};
	uint64_t aborts0, aborts;
	uint32_t last = 0, open_after;
	char err[200];
	int rc, rc_unload, rc_busy;

	gatekeeper_set_abort_report(true);
	aborts0 = gatekeeper_aborts(NULL);
	rc = mt_load("m_stats", &stats, err, sizeof(err));
	if (!rc) {
		doms[1] = ext_domain(stats);
		rc = mt_load_in("m_faulty", "m_faulty", &mt_loader, doms, 2, &faulty, err,
		                sizeof(err));
	}
	gatekeeper_set_abort_report(false);
	if (rc) {
		if (stats)
			ext_unload(stats, NULL, 0);
		KT_FAIL("m_stats/m_faulty did not load (%d): %s", rc, err);
	}
	mt_raise(5, 1, &o[0]); /* endless loop: fuel */
	mt_raise(5, 2, &o[1]); /* the same holding a console: released */
	open_after = console_open_count();
	mt_raise(5, 3, &o[2]); /* its callee in another extension runs away */
	aborts = gatekeeper_aborts(&last) - aborts0;
	mt_raise(5, 0, &o[3]);                /* still installed (report policy): returns 6 */
	rc_busy = ext_unload(stats, NULL, 0); /* m_faulty is resolved against it */
	rc_unload = ext_unload(faulty, err, sizeof(err));
	if (ext_unload(stats, NULL, 0))
		KT_FAIL("m_stats would not unload");
	mt_raise(5, 0, &after);

	KT_ASSERT_EQ(o[0].aborted, 1);
	KT_ASSERT_EQ(o[1].aborted, 1);
	KT_ASSERT_EQ(o[2].aborted, 1);
	KT_ASSERT_EQ(open_after, 0);
	KT_ASSERT_EQ(aborts, 3);
	KT_ASSERT_EQ(last, RT_RUN_HELPER); /* the callee's abort ended the caller */
	KT_ASSERT_EQ(o[3].aborted, 0);
	KT_ASSERT_EQ(o[3].result, 6);
	KT_ASSERT_EQ(rc_busy, -EBUSY);
	KT_ASSERT_EQ(rc_unload, 0);
	/* The event works as before: its intrinsic handler alone. */
	KT_ASSERT_EQ(after.fired, 1);
	KT_ASSERT_EQ(after.result, 5);
	KT_ASSERT_EQ(dispatch_handler_count(Gatekeeper_IntruderAlert_event), 1);
	KT_ASSERT(ext_find("m_faulty") == NULL && ext_find("m_stats") == NULL);
}

KTEST(model_bad_input_clear_errors)
{
	struct ext *x = NULL;
	char err[240];
	uint64_t a[5] = {0};
	int rc;

	rc = mt_load("m_bad_event", &x, err, sizeof(err));
	if (rc == 0)
		ext_unload(x, NULL, 0);
	KT_ASSERT_EQ(rc, -ENOENT);
	KT_ASSERT(mt_has(err, "'Gatekeeper_NoSuchEvent'") && mt_has(err, "not a declared event"));
	rc = mt_load("m_wrong_type", &x, err, sizeof(err));
	if (rc == 0)
		ext_unload(x, NULL, 0);
	kprintf("  m_wrong_type: %s\n", err);
	KT_ASSERT_EQ(rc, -EINVAL);
	KT_ASSERT(mt_has(err, "three:"));
	/* Not an event; installing from outside an initialiser; no such extension. */
	KT_ASSERT_EQ(dispatch_raise((struct dispatch_event *)a, a, NULL), -ENOENT);
	KT_ASSERT_EQ(Dispatcher_Install("witness", 7, 0), -EPERM);
	KT_ASSERT_EQ(ext_unload((struct ext *)a, NULL, 0), -ENOENT);
	KT_ASSERT_EQ(mt_load("no_such_image", &x, err, sizeof(err)), -ENOENT);
}

static uint64_t mt_stat(struct ext *x, uint64_t what)
{
	typedef struct rt_jit_ret (*adapter_fn)(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t);
	const struct domain_sym *s = x ? domain_lookup(ext_domain(x), "Package_Stat") : NULL;

	if (!s || !s->sig || !s->sig->fn)
		return ~0ull;
	return ((adapter_fn)s->sig->fn)(what, 0, 0, 0, 0).r0;
}

KTEST(model_lifecycle_list_unload_reload)
{
	struct ext_info info[16];
	struct ext *x = ext_find("boot_hello");
	const struct kext_image *im = kext_find("boot_hello");
	struct domain *doms[1] = {domain_spin_public};
	uint32_t n0, n1, n2;
	bool listed = false, spl = false;
	char err[200];
	int rc;

	KT_ASSERT(x != NULL && im != NULL);
	n0 = ext_list(info, 16);
	for (uint32_t i = 0; i < n0 && i < 16; i++) {
		listed |= strcmp(info[i].name, "boot_hello") == 0;
		spl |= strcmp(info[i].name, "boot_spl") == 0 &&
		       (info[i].module->flags & MODULE_PRIVILEGED);
	}
	KT_ASSERT(listed && spl);
	KT_ASSERT_EQ(mt_stat(x, 99), 1); /* its initialiser ran once */
	KT_ASSERT_EQ(ext_unload(x, err, sizeof(err)), 0);
	KT_ASSERT(ext_find("boot_hello") == NULL);
	n1 = ext_list(NULL, 0);
	KT_ASSERT_EQ(n1, n0 - 1);
	rc = ext_load(im->data, (size_t)im->size, "boot_hello", &modules_boot_loader, doms, 1, &x,
	              err, sizeof(err));
	if (rc)
		KT_FAIL("boot_hello did not reload (%d): %s", rc, err);
	n2 = ext_list(NULL, 0);
	KT_ASSERT_EQ(n2, n0);
	KT_ASSERT(ext_find("boot_hello") == x);
	KT_ASSERT_EQ(mt_stat(x, 99), 1); /* a fresh instance: its own globals */
}

static uint64_t mt_native_ref_handler(uint64_t s, uint64_t a2, uint64_t a3, uint64_t a4,
                                      uint64_t a5)
{
	(void)s, (void)a2, (void)a3, (void)a4, (void)a5;
	return 0;
}

KTEST(model_async_handler_runs_on_worker_strand)
{
	static const struct module authority = {"model_test_async", MODULE_TRUSTED};
	static const struct rt_type ref_type = {"ModelTest.T", 8, NULL, 0};
	static const struct rt_sig ref_sig = {"ModelTest_Ref",
	                                      (void *)mt_native_ref_handler,
	                                      1,
	                                      {{.kind = RT_ARG_REF, .type = &ref_type}},
	                                      {.kind = RT_RET_SCALAR},
	                                      0};
	struct dispatch_async_stats st0, st1;
	struct dispatch_outcome o;
	struct dispatch_event *ev = NULL;
	struct dispatch_binding *b = NULL;
	struct dispatch_install_req req = {0};
	struct ext *x = NULL;
	char err[200];
	bool seen_at_raise, seen_later;
	int rc, rc_ref;

	gatekeeper_set_policy(GATEKEEPER_ASYNC, 0);
	rc = mt_load("m_async", &x, err, sizeof(err));
	gatekeeper_set_policy(GATEKEEPER_ALLOW, 0);
	if (rc)
		KT_FAIL("m_async did not load (%d): %s", rc, err);
	dispatch_async_get_stats(&st0);
	console_capture_reset();
	sched_preempt_disable(); /* nothing else runs between the raise and the look */
	mt_raise(5, 3, &o);
	seen_at_raise = mt_has(console_capture(), "async handler ran");
	sched_preempt_enable();
	sched_sleep_ns(30 * 1000000ull);
	seen_later = mt_has(console_capture(), "async handler ran");
	dispatch_async_get_stats(&st1);
	KT_ASSERT_EQ(ext_unload(x, err, sizeof(err)), 0);

	/* Asynchrony needs copyable arguments: a reference event refuses it. */
	KT_ASSERT_EQ(dispatch_event_create("ModelTest.Ref", &ref_sig, &authority, NULL, &ev), 0);
	req.handler = (struct dispatch_proc){&ref_sig, NULL, NULL};
	req.options = DISPATCH_ASYNC;
	rc_ref = dispatch_install(ev, &req, &authority, &b);
	KT_ASSERT_EQ(dispatch_event_destroy(ev, &authority), 0);

	KT_ASSERT_EQ(o.fired, 1); /* only the intrinsic ran in the raise */
	KT_ASSERT_EQ(o.result, 5);
	/* With one CPU the worker cannot have run before the raiser let it;
	 * with more it may already be running it elsewhere, which is the point. */
	if (percpu_count() == 1)
		KT_ASSERT(!seen_at_raise);
	KT_ASSERT(seen_later);
	KT_ASSERT_EQ(st1.queued - st0.queued, 1);
	KT_ASSERT_EQ(st1.ran - st0.ran, 1);
	KT_ASSERT_EQ(st1.last_result, 2003);
	KT_ASSERT(st1.last_strand != NULL && st1.last_strand != (const void *)strand_current());
	KT_ASSERT_EQ(rc_ref, -EINVAL);
}
