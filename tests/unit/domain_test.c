/*
 * domain_test.c: domains built from the generated interface tables, the
 * Console/Gatekeeper example end to end with native modules, SpinPublic and
 * SpinPrivate, resolve/unresolve/combine, and the acquisition ledger
 * through the generated import wrappers.
 */
#include "tests/unit/check.h"

#include "kernel/dispatch.h"
#include "kernel/domain.h"
#include "runtime/exec.h"
#include "runtime/verify.h"
#include "tests/ext-model/model_fixture.h"

/* The authority of MachineTrap (interfaces/machinetrap.idl): the process layer. */
static const struct module process_mod = {"Process", MODULE_TRUSTED};

/* An extension's program as the loader would leave it: imports unresolved. */
static struct rt_import ext_imports[4];
static struct rt_func ext_funcs[2];
static struct rt_prog ext_prog;

static struct rt_prog *fake_prog(const char *const *imports, uint32_t n)
{
	memset(ext_imports, 0, sizeof(ext_imports));
	memset(ext_funcs, 0, sizeof(ext_funcs));
	memset(&ext_prog, 0, sizeof(ext_prog));
	for (uint32_t i = 0; i < n; i++)
		snprintf(ext_imports[i].name, sizeof(ext_imports[i].name), "%s", imports[i]);
	snprintf(ext_funcs[0].name, sizeof(ext_funcs[0].name), "on_alert");
	snprintf(ext_funcs[0].section, sizeof(ext_funcs[0].section),
	         "handler/Gatekeeper_IntruderAlert");
	ext_funcs[0].global = ext_funcs[0].entry = true;
	snprintf(ext_funcs[1].name, sizeof(ext_funcs[1].name), "Gatekeeper_Level");
	snprintf(ext_funcs[1].section, sizeof(ext_funcs[1].section), ".text");
	ext_funcs[1].global = ext_funcs[1].entry = true;
	ext_prog.imports = ext_imports;
	ext_prog.nimports = n;
	ext_prog.funcs = ext_funcs;
	ext_prog.nfuncs = 2;
	return &ext_prog;
}

static void generated_tables(void)
{
	const struct iface_desc *c = iface_find("Console"), *in = NULL;
	const struct iface_item *it;
	CHECK(c != NULL);
	CHECK_STR(c->export_name, "ConsoleService");
	CHECK_EQ(c->nitems, 3);
	CHECK_EQ(Console_Write_sig.nargs, 3);
	CHECK_EQ(Console_Write_sig.args[0].kind, RT_ARG_REF);
	CHECK(Console_Write_sig.args[0].type == &Console_T_type);
	CHECK_EQ(Console_Write_sig.args[1].kind, RT_ARG_MEM);
	CHECK_EQ(Console_Write_sig.args[2].kind, RT_ARG_SIZE);
	CHECK(Console_Open_sig.ret.acquire);
	CHECK(Console_Close_sig.args[0].release);
	CHECK(Gatekeeper_Level_sig.flags & RT_SIG_PURE);
	it = iface_find_item("SPL_High", &in);
	CHECK(it != NULL && in == &iface_SPL);
	CHECK(iface_SPL.flags & IFACE_PRIVATE);
	it = iface_find_item("Gatekeeper_IntruderAlert", NULL);
	CHECK(it && (it->flags & IFACE_EVENT));
	CHECK(it && it->impl == (void *)Gatekeeper_IntruderAlert_intrinsic);
	/* MachineTrap's intrinsic (kernel/process.c) is not linked into this
	 * test: a weak NULL. */
	it = iface_find_item("MachineTrap_Syscall", NULL);
	CHECK(it && it->impl == NULL);
	CHECK(iface_find_item("Console_Nope", NULL) == NULL);
	CHECK(iface_sig_equal(&Console_Write_sig, &Console_Write_sig));
	CHECK(!iface_sig_equal(&Console_Write_sig, &Console_Close_sig));
}

/* Console's handler on Gatekeeper.IntruderAlert: the paper's IntruderAlert. */
static uint64_t console_on_alert(uint64_t level, uint64_t code)
{
	struct Console_T *c = Console_Open();
	(void)code;
	if (!c)
		return 0;
	Console_Write(c, "Intruder Alert", 14);
	Console_Close(c);
	return level * 10;
}

static int gatekeeper_authorizer(void *arg, struct dispatch_decision *d)
{
	(void)arg;
	return d->requester == &ext_mod ? -EACCES : 0;
}

static void gatekeeper_console_native(void)
{
	struct domain *cd = NULL, *gd = NULL, *bad = NULL;
	struct rt_sig hsig = Gatekeeper_IntruderAlert_sig;
	struct dispatch_install_req r = {0};
	struct dispatch_binding *b = NULL;

	console_reset();
	CHECK_EQ(domain_create_from_interface(&iface_Console, &gatekeeper_mod, &bad), -EPERM);
	CHECK_EQ(domain_create_from_interface(&iface_Console, &console_mod, &cd), 0);
	CHECK_EQ(domain_create_from_interface(&iface_Gatekeeper, &gatekeeper_mod, &gd), 0);
	CHECK(Gatekeeper_IntruderAlert_event != NULL);
	CHECK_EQ(domain_create_from_interface(&iface_Gatekeeper, &gatekeeper_mod, &bad), -EEXIST);
	CHECK(domain_lookup(cd, "Console_Write")->sig == &Console_Write_sig);
	CHECK(domain_lookup(gd, "Gatekeeper_IntruderAlert") != NULL);

	/* Only the intrinsic: calling the procedure is a direct call to it. */
	CHECK(dispatch_is_direct(Gatekeeper_IntruderAlert_event));
	CHECK_EQ(Gatekeeper_IntruderAlert(5, 1), 5);
	CHECK_EQ(Gatekeeper_IntruderAlert(1, 1), 0);

	/* Console installs a handler of the event's type. */
	CHECK_EQ(dispatch_set_authorizer(Gatekeeper_IntruderAlert_event, gatekeeper_authorizer,
	                                 NULL, &gatekeeper_mod),
	         0);
	hsig.fn = (void *)console_on_alert;
	r.handler = (struct dispatch_proc){&hsig, NULL, NULL};
	CHECK_EQ(dispatch_install(Gatekeeper_IntruderAlert_event, &r, &ext_mod, &b), -EACCES);
	CHECK_EQ(dispatch_install(Gatekeeper_IntruderAlert_event, &r, &console_mod, &b), 0);
	CHECK_EQ(Gatekeeper_IntruderAlert(5, 1), 50); /* last handler's result */
	CHECK_STR(console_dev.out, "Intruder Alert");
	CHECK_EQ(console_opens, 1);
	CHECK_EQ(console_closes, 1);

	/* Gatekeeper cannot go while Console has a handler on its event. */
	CHECK_EQ(domain_release(gd), -EBUSY);
	CHECK_EQ(dispatch_uninstall(b, &console_mod), 0);
	CHECK_EQ(domain_release(gd), 0);
	CHECK(Gatekeeper_IntruderAlert_event == NULL);
	CHECK_EQ(Gatekeeper_IntruderAlert(5, 1), 0); /* no event: nothing handles it */
	CHECK_EQ(domain_release(cd), 0);
	CHECK_EQ(dispatch_reclaim(), 0);
}

static void spin_public_and_private(void)
{
	static const char *const imports[] = {"Console_Open", "Console_Write", "Console_Close",
	                                      "SPL_High"};
	struct domain *cd = NULL, *sd = NULL, *gd = NULL, *td = NULL, *ed = NULL;
	char err[160] = "";

	CHECK_EQ(domain_init(), 0);
	CHECK_EQ(domain_init(), -EEXIST);
	CHECK_EQ(domain_create_from_interface(&iface_Console, &console_mod, &cd), 0);
	CHECK_EQ(domain_create_from_interface(&iface_SPL, &spl_mod, &sd), 0);
	CHECK_EQ(domain_create_from_interface(&iface_Gatekeeper, &gatekeeper_mod, &gd), 0);
	CHECK_EQ(domain_create_from_interface(&iface_MachineTrap, &process_mod, &td), 0);
	CHECK_EQ(domain_publish(cd), 0);
	CHECK_EQ(domain_publish(sd), 0);
	CHECK_EQ(domain_publish(gd), 0);
	CHECK_EQ(domain_publish(td), 0);
	CHECK_EQ(domain_publish(cd), -EEXIST);
	CHECK(domain_lookup(domain_spin_public, "Console_Write") != NULL);
	CHECK(domain_lookup(domain_spin_public, "SPL_High") == NULL);
	CHECK(domain_lookup(domain_spin_private, "SPL_High") != NULL);
	CHECK(domain_lookup(domain_spin_public, "MachineTrap_Syscall") == NULL); /* private */
	CHECK(domain_lookup(domain_spin_private, "MachineTrap_Syscall") != NULL);

	/* An unprivileged extension that calls SPL.High fails at link time,
	 * and the message names the symbol. */
	CHECK_EQ(domain_create_from_prog("AlertLogger", fake_prog(imports, 4), &ext_mod, &ed), 0);
	CHECK_EQ(domain_link(ed, domain_spin_public, err, sizeof(err)), -EUNRESOLVED);
	CHECK(strstr(err, "'SPL_High'") != NULL);
	CHECK(ext_imports[0].sig == &Console_Open_sig);
	CHECK(ext_imports[1].sig == &Console_Write_sig);
	CHECK(ext_imports[3].sig == NULL);
	/* Its exports: the declared Gatekeeper_Level, not the handler. */
	CHECK(domain_lookup(ed, "Gatekeeper_Level") != NULL);
	CHECK(domain_lookup(ed, "on_alert") == NULL);
	/* Given SpinPrivate, it links. */
	CHECK_EQ(domain_link(ed, domain_spin_private, err, sizeof(err)), 0);
	CHECK(ext_imports[3].sig == &SPL_High_sig);

	/* A published module cannot go while the extension is linked to it
	 * (the extension resolved against the aggregates, which hold it). */
	CHECK_EQ(domain_release(domain_spin_public), -EBUSY);
	CHECK_EQ(domain_unresolve(domain_spin_public, ed), 3);
	CHECK_EQ(domain_unresolve(domain_spin_private, ed), 1);
	CHECK(ext_imports[0].sig == NULL);
	CHECK_EQ(domain_check_resolved(ed, err, sizeof(err)), -EUNRESOLVED);
	CHECK_EQ(domain_release(ed), 0);
	CHECK_EQ(domain_release(cd), 0);
	CHECK_EQ(domain_release(sd), 0);
	CHECK_EQ(domain_release(gd), 0);
	CHECK_EQ(domain_release(td), 0);
	/* SpinPublic and SpinPrivate held the modules: events still declared. */
	CHECK(Gatekeeper_IntruderAlert_event != NULL);
	CHECK_EQ(domain_release(domain_spin_public), 0);
	CHECK_EQ(domain_release(domain_spin_private), 0);
	domain_spin_public = domain_spin_private = NULL;
	CHECK(Gatekeeper_IntruderAlert_event == NULL);
	CHECK(MachineTrap_Syscall_event == NULL);
	CHECK_EQ(dispatch_reclaim(), 0);
}

static uint64_t other_write(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e)
{
	(void)a, (void)b, (void)c, (void)d, (void)e;
	return 0;
}

static void resolve_unresolve_combine(void)
{
	static const char *const imports[] = {"Console_Write", "SPL_Restore"};
	struct domain *cd = NULL, *sd = NULL, *od = NULL, *agg = NULL, *ed = NULL;
	struct rt_sig other = Console_Write_sig, wrong = Console_Write_sig,
	              undeclared = Console_Write_sig;
	const struct rt_sig *exports[1];
	char err[160];

	other.fn = (void *)other_write;
	wrong.nargs = 2;
	undeclared.name = "Console_Nope";
	CHECK_EQ(domain_create_from_interface(&iface_Console, &console_mod, &cd), 0);
	CHECK_EQ(domain_create_from_interface(&iface_SPL, &spl_mod, &sd), 0);

	/* Exports must be declared, with the declared type. */
	exports[0] = &wrong;
	CHECK_EQ(domain_create_from_module(&gatekeeper_mod, exports, 1, &od), -ESIG);
	exports[0] = &undeclared;
	CHECK_EQ(domain_create_from_module(&gatekeeper_mod, exports, 1, &od), -ENOENT);
	exports[0] = &other; /* a second implementation of Console.Write */
	CHECK_EQ(domain_create_from_module(&gatekeeper_mod, exports, 1, &od), 0);
	/* Combining two definitions of one name is refused. */
	CHECK_EQ(domain_combine("Both", cd, od, &agg), -EEXIST);
	CHECK_EQ(domain_combine("ConsoleAndSPL", cd, sd, &agg), 0);
	CHECK(domain_lookup(agg, "SPL_Restore") != NULL);
	CHECK(domain_lookup(agg, "Console_Close") != NULL);

	/* Resolve against one, unresolve, relink against the newer version. */
	CHECK_EQ(domain_create_from_prog("Ext", fake_prog(imports, 2), &ext_mod, &ed), 0);
	CHECK_EQ(domain_resolve(ed, ed), -EINVAL);
	CHECK_EQ(domain_resolve(cd, ed), 1);
	CHECK_EQ(domain_resolve(cd, ed), 0); /* nothing left that cd exports */
	CHECK_EQ(domain_check_resolved(ed, err, sizeof(err)), -EUNRESOLVED);
	CHECK(strstr(err, "'SPL_Restore'") != NULL);
	CHECK_EQ(domain_release(cd), -EBUSY); /* resolved against */
	CHECK_EQ(domain_unresolve(cd, ed), 1);
	CHECK_EQ(domain_resolve(od, ed), 1);
	CHECK(ext_imports[0].sig == &other);
	CHECK_EQ(domain_unresolve(od, ed), 1);
	CHECK_EQ(domain_link(ed, agg, err, sizeof(err)), 0);
	CHECK(ext_imports[0].sig == &Console_Write_sig);
	CHECK_EQ(domain_release(agg), -EBUSY);
	/* Releasing the extension drops its resolutions. */
	CHECK_EQ(domain_release(ed), 0);
	CHECK_EQ(domain_release(agg), 0);
	CHECK_EQ(domain_release(od), 0);
	CHECK_EQ(domain_release(cd), 0);
	CHECK_EQ(domain_release(sd), 0);
}

/* A stand-in for a JIT-compiled handler: it calls Console.Open through the
 * symbol its domain resolved (the generated ledger wrapper) and then runs
 * away.  The dispatcher must close the console for it. */
static const struct rt_sig *ext_open_import;
static struct rt_jit_ret ext_runaway(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
                                     uint64_t r5, uint64_t fuel)
{
	void *(*open_fn)(void) = (void *(*)(void))ext_open_import->fn;
	(void)r1, (void)r2, (void)r3, (void)r4, (void)r5;
	CHECK(open_fn() == &console_dev);
	while (fuel)
		fuel--;
	return (struct rt_jit_ret){0, RT_RUN_FUEL};
}
static struct rt_jit_ret ext_tidy(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
                                  uint64_t fuel)
{
	void *(*open_fn)(void) = (void *(*)(void))Console_Open_sig.fn;
	void (*close_fn)(void *) = (void (*)(void *))Console_Close_sig.fn;
	void *c;
	(void)r2, (void)r3, (void)r4, (void)r5, (void)fuel;
	c = open_fn();
	CHECK(c != NULL);
	close_fn(c);
	return (struct rt_jit_ret){r1 + 1, RT_RUN_OK};
}

static void ledger_releases_aborted_acquisitions(void)
{
	static const char *const imports[] = {"Console_Open", "Console_Close"};
	struct domain *cd = NULL, *gd = NULL, *ed = NULL;
	struct dispatch_install_req r = {0};
	struct dispatch_binding *b1 = NULL, *b2 = NULL;
	struct dispatch_outcome o;
	char err[128];

	console_reset();
	CHECK_EQ(domain_create_from_interface(&iface_Console, &console_mod, &cd), 0);
	CHECK_EQ(domain_create_from_interface(&iface_Gatekeeper, &gatekeeper_mod, &gd), 0);
	CHECK_EQ(domain_create_from_prog("Runaway", fake_prog(imports, 2), &ext_mod, &ed), 0);
	CHECK_EQ(domain_link(ed, cd, err, sizeof(err)), 0);
	ext_open_import = ext_imports[0].sig;

	r.handler = (struct dispatch_proc){&Gatekeeper_IntruderAlert_sig, ext_runaway, &ext_mod};
	r.fuel = 1000;
	CHECK_EQ(dispatch_install(Gatekeeper_IntruderAlert_event, &r, &ext_mod, &b1), 0);
	r.handler = (struct dispatch_proc){&Gatekeeper_IntruderAlert_sig, ext_tidy, &ext_mod};
	CHECK_EQ(dispatch_install(Gatekeeper_IntruderAlert_event, &r, &ext_mod, &b2), 0);
	CHECK_EQ(dispatch_raise(Gatekeeper_IntruderAlert_event, (uint64_t[5]){4, 0}, &o),
	         DISPATCH_HANDLED);
	CHECK_EQ(o.aborted, 1);
	CHECK_EQ(o.fired, 2);
	CHECK_EQ(o.result, 5);
	CHECK_EQ(console_opens, 2);
	CHECK_EQ(console_closes, 2); /* one by the tidy handler, one by the ledger */
	CHECK(!console_dev.open);
	CHECK(dispatch_binding_disabled(b1));
	/* Outside any extension invocation the wrappers note nothing. */
	CHECK(((void *(*)(void))Console_Open_sig.fn)() == &console_dev);
	((void (*)(void *))Console_Close_sig.fn)(&console_dev);

	CHECK_EQ(dispatch_uninstall_all(&ext_mod), 0);
	CHECK_EQ(domain_release(cd), -EBUSY);
	CHECK_EQ(domain_release(ed), 0);
	CHECK_EQ(domain_release(cd), 0);
	CHECK_EQ(domain_release(gd), 0);
	CHECK_EQ(dispatch_reclaim(), 0);
}

static void unimplemented_interface_refused(void)
{
	/* MachineTrap has an event only (no procs), so the test image could
	 * create it; a module claiming an interface it does not own cannot. */
	struct domain *d = NULL;
	CHECK_EQ(domain_create_from_interface(&iface_MachineTrap, &console_mod, &d), -EPERM);
	CHECK_EQ(domain_create_from_interface(NULL, &console_mod, &d), -EINVAL);
	CHECK_EQ(domain_create_from_prog("x", NULL, &ext_mod, &d), -EINVAL);
}

/*
 * Real extensions: C compiled by clang-19 -O2 -g -target bpf
 * (tests/ext-model/), loaded, linked through SpinPublic, verified, JIT
 * compiled and installed as handlers and guards.
 */
struct loaded_ext {
	struct rt_prog *prog;
	struct domain *dom;
	struct rt_jit *jit;
};

static int ext_load(const char *name, struct loaded_ext *x, char *err, size_t errlen)
{
	char path[256];
	FILE *f;
	long size;
	void *image;
	int rc;

	memset(x, 0, sizeof(*x));
	snprintf(path, sizeof(path), "%s/%s.o", MODEL_EXT_DIR, name);
	f = fopen(path, "rb");
	if (!f)
		return snprintf(err, errlen, "cannot open %s", path), -ENOENT;
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	fseek(f, 0, SEEK_SET);
	image = malloc((size_t)size);
	if (!image || fread(image, 1, (size_t)size, f) != (size_t)size) {
		fclose(f);
		free(image);
		return snprintf(err, errlen, "cannot read %s", path), -ENOENT;
	}
	fclose(f);
	rc = rt_prog_load_elf(image, (size_t)size, &x->prog, err, errlen);
	free(image);
	if (rc)
		return rc;
	rc = domain_create_from_prog(name, x->prog, &ext_mod, &x->dom);
	if (rc)
		return rc;
	return domain_link(x->dom, domain_spin_public, err, errlen);
}

static int ext_verify_jit(struct loaded_ext *x, const char *const *entries, const bool *guard,
                          uint32_t n, rt_jit_fn *fns, char *err, size_t errlen)
{
	for (uint32_t i = 0; i < n; i++) {
		const struct rt_func *f = rt_prog_find_func(x->prog, entries[i]);
		struct rt_entry e = {
		    {{RT_ARG_SCALAR, NULL, 0, false}, {RT_ARG_SCALAR, NULL, 0, false}}, guard[i]};
		struct rt_verify_result res;
		int rc;
		if (!f)
			return snprintf(err, errlen, "no function %s", entries[i]), -ENOENT;
		memset(&res, 0, sizeof(res));
		rc = rt_verify(x->prog, (uint32_t)(f - x->prog->funcs), &e, NULL, &res);
		if (rc)
			return snprintf(err, errlen, "%s", res.msg), rc;
	}
	if (rt_jit_compile(x->prog, &x->jit, err, errlen))
		return -EINVAL;
	for (uint32_t i = 0; i < n; i++) {
		const struct rt_func *f = rt_prog_find_func(x->prog, entries[i]);
		fns[i] = rt_jit_entry(x->jit, (uint32_t)(f - x->prog->funcs));
		if (!fns[i])
			return snprintf(err, errlen, "no JIT entry for %s", entries[i]), -ENOENT;
	}
	return 0;
}

static void ext_unload(struct loaded_ext *x)
{
	CHECK_EQ(dispatch_uninstall_all(&ext_mod), 0);
	if (x->dom)
		CHECK_EQ(domain_release(x->dom), 0);
	if (x->jit)
		rt_jit_free(x->jit);
	if (x->prog)
		rt_prog_free(x->prog);
}

static struct domain *pub_console, *pub_gatekeeper, *pub_spl;
static void publish_modules(void)
{
	CHECK_EQ(domain_init(), 0);
	CHECK_EQ(domain_create_from_interface(&iface_Console, &console_mod, &pub_console), 0);
	CHECK_EQ(domain_create_from_interface(&iface_Gatekeeper, &gatekeeper_mod, &pub_gatekeeper),
	         0);
	CHECK_EQ(domain_create_from_interface(&iface_SPL, &spl_mod, &pub_spl), 0);
	CHECK_EQ(domain_publish(pub_console), 0);
	CHECK_EQ(domain_publish(pub_gatekeeper), 0);
	CHECK_EQ(domain_publish(pub_spl), 0);
	CHECK_EQ(domain_release(pub_console), 0);
	CHECK_EQ(domain_release(pub_gatekeeper), 0);
	CHECK_EQ(domain_release(pub_spl), 0);
}
static void unpublish_modules(void)
{
	CHECK_EQ(domain_release(domain_spin_public), 0);
	CHECK_EQ(domain_release(domain_spin_private), 0);
	domain_spin_public = domain_spin_private = NULL;
	CHECK(Gatekeeper_IntruderAlert_event == NULL);
	CHECK_EQ(dispatch_reclaim(), 0);
}

static void real_extension_handler_and_guard(void)
{
	static const char *const entries[] = {"alert_log", "alert_serious"};
	static const bool guard[] = {false, true};
	struct loaded_ext x;
	rt_jit_fn fns[2] = {0};
	struct rt_sig gsig = Gatekeeper_IntruderAlert_sig;
	struct dispatch_guard g;
	struct dispatch_install_req r = {0};
	struct dispatch_binding *b = NULL;
	struct dispatch_outcome o;
	char err[512] = "";

	console_reset();
	publish_modules();
	CHECK_EQ(ext_load("alert_logger", &x, err, sizeof(err)), 0);
	if (err[0])
		printf("alert_logger: %s\n", err);
	CHECK_EQ(ext_verify_jit(&x, entries, guard, 2, fns, err, sizeof(err)), 0);
	if (err[0])
		printf("alert_logger: %s\n", err);
	if (!fns[0] || !fns[1])
		goto out;
	/* A guard verified as one (rt_entry.guard) is side-effect free. */
	gsig.flags |= RT_SIG_PURE;
	g = (struct dispatch_guard){{&gsig, fns[1], &ext_mod}, NULL, false};
	r.handler = (struct dispatch_proc){&Gatekeeper_IntruderAlert_sig, fns[0], &ext_mod};
	r.guard = &g;
	CHECK_EQ(dispatch_install(Gatekeeper_IntruderAlert_event, &r, &ext_mod, &b), 0);
	CHECK_EQ(Gatekeeper_IntruderAlert(5, 2), 52);
	CHECK_STR(console_dev.out, "Intruder Alert");
	CHECK_EQ(console_opens, 1);
	CHECK_EQ(console_closes, 1);
	/* Below Gatekeeper's level the guard says no: only the intrinsic. */
	CHECK_EQ(dispatch_raise(Gatekeeper_IntruderAlert_event, (uint64_t[5]){1, 2}, &o),
	         DISPATCH_HANDLED);
	CHECK_EQ(o.fired, 1);
	CHECK_EQ(o.result, 0);
	CHECK_EQ(console_opens, 1);
out:
	ext_unload(&x);
	unpublish_modules();
}

static void real_extension_needs_private_link(void)
{
	struct rt_prog *p = NULL;
	struct domain *d = NULL;
	char err[512] = "";
	FILE *f = fopen(MODEL_EXT_DIR "/uses_spl.o", "rb");
	static char image[65536];
	size_t n;

	CHECK(f != NULL);
	if (!f)
		return;
	n = fread(image, 1, sizeof(image), f);
	fclose(f);
	publish_modules();
	CHECK_EQ(rt_prog_load_elf(image, n, &p, err, sizeof(err)), 0);
	CHECK_EQ(domain_create_from_prog("UsesSPL", p, &ext_mod, &d), 0);
	CHECK_EQ(domain_link(d, domain_spin_public, err, sizeof(err)), -EUNRESOLVED);
	CHECK(strstr(err, "'SPL_High'") != NULL);
	CHECK_EQ(domain_link(d, domain_spin_private, err, sizeof(err)), 0);
	CHECK_EQ(domain_release(d), 0);
	rt_prog_free(p);
	unpublish_modules();
}

static void real_runaway_handler_aborted_by_fuel(void)
{
	static const char *const entries[] = {"spin_forever"};
	static const bool guard[] = {false};
	struct loaded_ext x;
	rt_jit_fn fn = NULL;
	struct dispatch_install_req r = {0};
	struct dispatch_binding *b = NULL;
	struct dispatch_outcome o;
	char err[512] = "";

	console_reset();
	publish_modules();
	CHECK_EQ(ext_load("runaway", &x, err, sizeof(err)), 0);
	CHECK_EQ(ext_verify_jit(&x, entries, guard, 1, &fn, err, sizeof(err)), 0);
	if (err[0])
		printf("runaway: %s\n", err);
	if (!fn)
		goto out;
	r.handler = (struct dispatch_proc){&Gatekeeper_IntruderAlert_sig, fn, &ext_mod};
	r.fuel = 10000;
	CHECK_EQ(dispatch_install(Gatekeeper_IntruderAlert_event, &r, &ext_mod, &b), 0);
	CHECK_EQ(dispatch_raise(Gatekeeper_IntruderAlert_event, (uint64_t[5]){7, 0}, &o),
	         DISPATCH_HANDLED);
	CHECK_EQ(o.aborted, 1);
	CHECK_EQ(o.fired, 1);  /* the intrinsic */
	CHECK_EQ(o.result, 7); /* the intrinsic's result: the aborted one has none */
	CHECK_EQ(console_opens, 1);
	CHECK_EQ(console_closes, 1); /* released by the dispatcher's ledger */
	CHECK(dispatch_binding_disabled(b));
	CHECK_EQ(dispatch_binding_aborts(b), 1);
	/* Disabled: the next raise does not run it at all. */
	CHECK_EQ(Gatekeeper_IntruderAlert(7, 0), 7);
	CHECK_EQ(console_opens, 1);
out:
	ext_unload(&x);
	unpublish_modules();
}

int main(void)
{
	CHECK_EQ(dispatch_init(), 0);
	RUN(generated_tables);
	RUN(gatekeeper_console_native);
	RUN(spin_public_and_private);
	RUN(resolve_unresolve_combine);
	RUN(ledger_releases_aborted_acquisitions);
	RUN(unimplemented_interface_refused);
	RUN(real_extension_handler_and_guard);
	RUN(real_extension_needs_private_link);
	RUN(real_runaway_handler_aborted_by_fuel);
	return check_done();
}
