/*
 * extension.c: load, initialise, list and unload verified extensions, and
 * the Dispatcher interface their initialisers call (kernel/extension.h).
 *
 * ext_load validates and builds everything before anything becomes visible
 * to others: the domain is private to the load until the initialiser runs,
 * the initialiser's installs are the first externally visible change, and a
 * failure from there on removes them again (dispatch_uninstall_all on the
 * extension's module) before freeing.  The only state an initialiser can
 * reach is its own extension's entries: Dispatcher_Install looks names up
 * in the extension being initialised (ext_initialising), never elsewhere.
 *
 * Capability spaces (docs/capabilities.md).  Each extension has its own
 * table of handles (an extref table over cap_kernel).  Before verification,
 * every import of an item that takes, writes or returns capabilities
 * (iface_capinfo_of) is bound to a per-extension thunk: a private copy of
 * its rt_sig whose native address is a three-instruction stub (the
 * cross-domain adapter's shape: mov r9, space; movabs rax, wrapper; jmp rax)
 * that tail-calls the generated Item_capx wrapper with the extension's
 * space as the sixth argument.  The identity is thus fixed at link time by
 * the code that calls, costs no lookup, and cannot be confused by nesting,
 * cross-domain calls or asynchronous runs.  Handlers and guards of events
 * with capability arguments are installed behind a shim (a native
 * procedure with the JIT's calling convention, the binding's closure naming
 * the real entry and the space) that enters each capability argument into
 * the space and passes the handle, and turns a capability result back.
 */
#include "kernel/extension.h"

#include "kernel/dispatch_gen.h"
#include "kernel/extref.h"
#include "kernel/nameserver.h"
#include "runtime/exec.h"
#include "runtime/guard_range.h"
#include "runtime/verify.h"
#include "spindle_interfaces.h"

enum ext_kind { EXT_HANDLER = 1, EXT_GUARD, EXT_EXPORT, EXT_INIT };

struct ext_entry {
	uint32_t func;
	enum ext_kind kind;
	const struct iface_item *item; /* handlers, guards: the event; exports: the proc */
	struct rt_sig sig;             /* guards: the event's, RT_SIG_PURE; exports: adapter */
	rt_jit_fn fn;
	struct dispatch_gen_code adapter;
};

/* An extension handler or guard of an event with capability arguments: the
 * binding's closure, passed to ext_cap_shim. */
struct ext_shim {
	rt_jit_fn fn;              /* the JIT-compiled entry */
	struct extref_table *caps; /* the extension's space */
	const struct iface_capinfo *ci;
	struct rt_sig sig; /* the event's, with a leading closure argument */
	uint64_t hint[4];  /* per argument: the handle it had last time (atomic) */
};

struct ext {
	struct ext *next;
	char name[EXT_NAME_MAX];
	struct module mod;
	struct rt_prog *prog;
	struct domain *dom;
	struct rt_jit *jit;
	struct ext_entry *e;
	uint32_t ne;
	struct dispatch_binding *bindings[EXT_MAX_BINDINGS];
	uint32_t nbindings;
	uint32_t nexports;
	bool exported;
	struct extref_table *caps;        /* its capability space */
	struct rt_sig *capsigs;           /* per import: its bound copy (if bound) */
	struct dispatch_gen_code *thunks; /* per import: the thunk (if bound) */
	struct ext_shim *shims[2 * EXT_MAX_BINDINGS];
	uint32_t nshims;
};

static struct ext *ext_head;
static struct ext *ext_initialising; /* whose initialiser is running */
static int ext_last_rt;
static const struct module ext_dispatcher_module = {"Dispatcher", MODULE_TRUSTED};

#define ext_err(err, errlen, ...)                                                                  \
	do {                                                                                       \
		if ((err) && (errlen))                                                             \
			rt_snprintf((err), (errlen), __VA_ARGS__);                                 \
	} while (0)

int ext_init(void)
{
	struct domain *d = NULL;
	int err;

	if (!domain_spin_public)
		return -EINVAL;
	if (!cap_kernel && (err = cap_init())) /* extensions' spaces name its capabilities */
		return err;
	if ((err = domain_create_from_interface(&iface_Dispatcher, &ext_dispatcher_module, &d)))
		return err;
	err = domain_publish(d);
	domain_release(d); /* SpinPublic and SpinPrivate hold it now */
	return err;
}

int ext_load_status(void)
{
	return ext_last_rt;
}

/* ---------------------------------------------------------- lookups */

struct ext *ext_find(const char *name)
{
	for (struct ext *x = ext_head; x && name; x = x->next)
		if (strcmp(x->name, name) == 0)
			return x;
	return NULL;
}

static bool ext_listed(const struct ext *x)
{
	for (struct ext *y = ext_head; y; y = y->next)
		if (y == x)
			return true;
	return false;
}

const struct module *ext_module(const struct ext *x)
{
	return x ? &x->mod : NULL;
}

struct domain *ext_domain(const struct ext *x)
{
	return x ? x->dom : NULL;
}

struct dispatch_binding *ext_binding(const struct ext *x, uint32_t n)
{
	return x && n < x->nbindings ? x->bindings[n] : NULL;
}

uint32_t ext_list(struct ext_info *out, uint32_t max)
{
	uint32_t n = 0;
	for (struct ext *x = ext_head; x; x = x->next, n++) {
		if (!out || n >= max)
			continue;
		out[n].name = x->name;
		out[n].module = &x->mod;
		out[n].domain = x->dom;
		out[n].nbindings = x->nbindings;
		out[n].nexports = x->nexports;
		out[n].code_size = x->jit ? rt_jit_code_size(x->jit) : 0;
	}
	return n;
}

/* ------------------------------------------------- capability spaces */

struct extref_table *ext_module_caps(const struct module *m)
{
	if (ext_initialising && &ext_initialising->mod == m)
		return ext_initialising->caps;
	for (struct ext *x = ext_head; x && m; x = x->next)
		if (&x->mod == m)
			return x->caps;
	return NULL;
}

int ext_cap_give(struct ext *x, cap_t c, uint64_t *handle)
{
	if (!x || !handle)
		return -EINVAL;
	return extref_enter(x->caps, c, handle);
}

int ext_cap_resolve(const struct ext *x, uint64_t handle, cap_t *c)
{
	if (!x || !c)
		return -EINVAL;
	return extref_resolve(x->caps, handle, c);
}

/* The JIT entry convention (runtime/exec.h): what the dispatcher calls for
 * a binding whose closure is an ext_shim.  Capability arguments become
 * handles in the extension's space (0 if the space is full or the value is
 * no live capability), and a capability result becomes the capability its
 * handle names (0 for anything else). */
static struct rt_jit_ret ext_cap_shim(uint64_t closure, uint64_t a1, uint64_t a2, uint64_t a3,
                                      uint64_t a4, uint64_t fuel)
{
	const struct ext_shim *sh = (const struct ext_shim *)(uintptr_t)closure;
	uint64_t a[4] = {a1, a2, a3, a4};
	struct rt_jit_ret r;

	for (uint32_t m = sh->ci->cap_args & 0xf; m; m &= m - 1) {
		uint32_t k = (uint32_t)__builtin_ctz(m);
		uint64_t h;
		cap_t c = CAP_NULL;
		/* Usually the capability it was given last time (the granted
		 * context): the hint, if its entry still holds that value. */
		h = __atomic_load_n(&((struct ext_shim *)sh)->hint[k], __ATOMIC_RELAXED);
		if (a[k] != CAP_NULL && h && extref_resolve(sh->caps, h, &c) == 0 && c == a[k]) {
			a[k] = h;
			continue;
		}
		if (a[k] == CAP_NULL || extref_enter(sh->caps, a[k], &h))
			h = 0;
		else
			__atomic_store_n(&((struct ext_shim *)sh)->hint[k], h, __ATOMIC_RELAXED);
		a[k] = h;
	}
	r = sh->fn(a[0], a[1], a[2], a[3], 0, fuel);
	if (r.status == RT_RUN_OK && sh->ci->cap_ret) {
		cap_t c = CAP_NULL;
		if (r.r0 == 0 || extref_resolve(sh->caps, r.r0, &c))
			c = CAP_NULL;
		r.r0 = c;
	}
	return r;
}

/* Does function func of x call a procedure that acquires or releases
 * references?  Its runs then need a ledger frame (kernel/dispatch.h), which
 * only the metered entry gets.  (Only its own instructions: a function with
 * an unmetered form makes no local call.) */
static bool ext_calls_refs(const struct ext *x, uint32_t func)
{
	const struct rt_prog *p = x->prog;
	const struct rt_func *f = &p->funcs[func];

	for (uint32_t pc = f->start; pc < f->end; pc++) {
		const struct bpf_insn *in = &p->insns[pc];
		const struct rt_sig *s;

		if (in->code != (BPF_JMP | BPF_CALL) || in->src != BPF_PSEUDO_IMPORT)
			continue;
		s = (uint32_t)in->imm < p->nimports ? p->imports[in->imm].sig : NULL;
		if (!s || s->ret.acquire)
			return true;
		for (uint32_t a = 0; a < s->nargs && a < 5; a++)
			if (s->args[a].release)
				return true;
	}
	return false;
}

/* The native forms of entry func for the dispatcher (install_req): plain
 * (calls nothing) or unmetered (calls imports that cannot abort), with the
 * most fuel the metered entry can charge; no unmetered form for a function
 * whose runs need a ledger frame. */
struct ext_forms {
	rt_import_fn plain, unmetered;
	uint64_t worst;
};

static void ext_forms_of(const struct ext *x, uint32_t func, struct ext_forms *f)
{
	uint64_t worst = 0;
	rt_import_fn u = rt_jit_unmetered(x->jit, func, &worst);

	*f = (struct ext_forms){rt_jit_plain(x->jit, func), NULL, 0};
	if (f->plain)
		f->worst = u ? worst : 0; /* no call at all when u is NULL */
	else if (u && !ext_calls_refs(x, func))
		f->unmetered = u, f->worst = worst;
}

/* The proc the dispatcher installs for entry func of x on the event ev: its
 * JIT entry (with its native forms when it has them), or, for an event with
 * capability arguments or result, a shim (recorded in x, freed with it). */
static int ext_proc_for(struct ext *x, const struct rt_sig *ev, const struct rt_sig *sig,
                        uint32_t func, rt_jit_fn fn, struct dispatch_proc *p,
                        struct ext_forms *forms, void **closure, bool *has_closure)
{
	const struct iface_capinfo *ci = iface_capinfo_of(ev);
	struct ext_shim *sh;

	*p = (struct dispatch_proc){sig, fn, &x->mod};
	ext_forms_of(x, func, forms);
	*closure = NULL;
	*has_closure = false;
	if (!ci)
		return 0;
	if (ev->nargs > 4 || x->nshims == 2 * EXT_MAX_BINDINGS)
		return ev->nargs > 4 ? -ESIG : -ENOSPC; /* no register left for the closure */
	sh = model_zalloc(sizeof(*sh));
	if (!sh)
		return -ENOMEM;
	sh->fn = fn;
	sh->caps = x->caps;
	sh->ci = ci;
	sh->sig = *sig;
	sh->sig.nargs = (uint8_t)(ev->nargs + 1);
	sh->sig.args[0] = (struct rt_arg){RT_ARG_SCALAR, NULL, 0, false};
	for (uint32_t i = 0; i < ev->nargs; i++)
		sh->sig.args[i + 1] = ev->args[i];
	x->shims[x->nshims++] = sh;
	*p = (struct dispatch_proc){&sh->sig, (rt_jit_fn)ext_cap_shim, &x->mod};
	*forms = (struct ext_forms){NULL, NULL, 0};
	*closure = sh;
	*has_closure = true;
	return 0;
}

/* Drop the shims made since n (an install that failed). */
static void ext_drop_shims(struct ext *x, uint32_t n)
{
	while (x->nshims > n)
		model_free(x->shims[--x->nshims]);
}

/* Bind every import of a capability-bearing item to x's space. */
static int ext_bind_caps(struct ext *x, char *err, size_t errlen)
{
	struct rt_prog *p = x->prog;
	uint32_t n = p->nimports ? p->nimports : 1;
	int rc;

	x->capsigs = model_zalloc(sizeof(*x->capsigs) * n);
	x->thunks = model_zalloc(sizeof(*x->thunks) * n);
	if (!x->capsigs || !x->thunks)
		return -ENOMEM;
	for (uint32_t i = 0; i < p->nimports; i++) {
		const struct iface_capinfo *ci = iface_capinfo_of(p->imports[i].sig);
		if (!ci)
			continue;
		/* The adapter's shape is exactly the thunk: its "fuel" register is
		 * the wrapper's sixth argument, here the space. */
		rc = dispatch_gen_adapter((rt_jit_fn)ci->wrapper, (uint64_t)(uintptr_t)x->caps,
		                          &x->thunks[i]);
		if (rc) {
			ext_err(err, errlen, "%s: cannot bind %s to its capability space (%d)",
			        x->name, p->imports[i].name, rc);
			return rc;
		}
		x->capsigs[i] = *p->imports[i].sig;
		x->capsigs[i].fn = (void *)x->thunks[i].fn;
		p->imports[i].sig = &x->capsigs[i];
	}
	return 0;
}

static struct ext_entry *ext_entry_named(struct ext *x, const char *name, enum ext_kind kind)
{
	for (uint32_t i = 0; i < x->ne; i++)
		if (x->e[i].kind == kind && strcmp(x->prog->funcs[x->e[i].func].name, name) == 0)
			return &x->e[i];
	return NULL;
}

/* A guard whose code is a range test of one field of an argument (runtime/
 * guard_range.h: exact, from the verified code) as the dispatcher's inline
 * test, so that the dispatch routine compares in line instead of calling
 * it.  false: it is not one (the guard is called). */
static int ext_entry_args(const struct rt_sig *sig, uint32_t skip, struct rt_entry *e);

static bool ext_guard_test(const struct ext *x, const struct ext_entry *ge, struct dispatch_test *t)
{
	struct rt_entry entry;
	struct rt_guard_range r;

	if (ext_entry_args(ge->item->sig, 0, &entry) ||
	    rt_guard_range(x->prog, ge->func, &entry, &r, NULL) || r.arg >= 4)
		return false;
	*t = (struct dispatch_test){
	    1, {{r.arg, r.off == RT_GUARD_VALUE ? DISPATCH_TEST_VALUE : r.off, r.lo, r.hi}}};
	return true;
}

/* -------------------------------------------------- the Dispatcher API */

int64_t Dispatcher_Install(const void *spec, uint64_t len, uint64_t options)
{
	struct ext *x = ext_initialising;
	struct dispatch_install_req req = {0};
	struct dispatch_guard g;
	struct dispatch_test test;
	struct ext_forms hf, gf;
	struct ext_entry *h, *ge = NULL;
	struct dispatch_binding *b = NULL;
	struct dispatch_event *ev;
	char buf[2 * 64 + 2], *comma;
	size_t n = 0;
	uint32_t nshims;
	bool hc = false;
	int err;

	if (!x)
		return -EPERM; /* only an initialiser installs, and only its own code */
	if (!spec || len == 0 || len >= sizeof(buf))
		return -EINVAL;
	if (options & ~(uint64_t)(EXT_OPT_FIRST | EXT_OPT_LAST) ||
	    options == (EXT_OPT_FIRST | EXT_OPT_LAST))
		return -EINVAL;
	while (n < len && ((const char *)spec)[n]) {
		buf[n] = ((const char *)spec)[n];
		n++;
	}
	buf[n] = 0;
	comma = strchr(buf, ',');
	if (comma)
		*comma++ = 0;
	h = ext_entry_named(x, buf, EXT_HANDLER);
	if (!h)
		return -ENOENT;
	if (comma) {
		ge = ext_entry_named(x, comma, EXT_GUARD);
		if (!ge)
			return -ENOENT;
		if (ge->item != h->item)
			return -ESIG; /* a guard for another event */
	}
	if (x->nbindings == EXT_MAX_BINDINGS)
		return -ENOSPC;
	ev = *h->item->event;
	if (!ev)
		return -ENOENT; /* its authority has not declared it (yet) */
	nshims = x->nshims;
	err = ext_proc_for(x, h->item->sig, h->item->sig, h->func, h->fn, &req.handler, &hf,
	                   &req.closure, &hc);
	req.plain = hf.plain, req.unmetered = hf.unmetered, req.worst = hf.worst;
	if (!err && hc)
		req.options |= DISPATCH_CLOSURE;
	if (!err && ge) {
		err = ext_proc_for(x, ge->item->sig, &ge->sig, ge->func, ge->fn, &g.proc, &gf,
		                   &g.closure, &g.has_closure);
		req.guard = &g;
		req.guard_plain = gf.plain, req.guard_unmetered = gf.unmetered;
		req.guard_worst = gf.worst;
		if (!err && !g.has_closure && (gf.plain || gf.unmetered) &&
		    ext_guard_test(x, ge, &test))
			req.guard_test = &test;
	}
	if (err) {
		ext_drop_shims(x, nshims);
		return err;
	}
	req.options |= (options & EXT_OPT_FIRST ? DISPATCH_FIRST : 0) |
	               (options & EXT_OPT_LAST ? DISPATCH_LAST : 0);
	if ((err = dispatch_install(ev, &req, &x->mod, &b))) {
		ext_drop_shims(x, nshims);
		return err;
	}
	x->bindings[x->nbindings] = b;
	return x->nbindings++;
}

int64_t Dispatcher_Uninstall(uint64_t binding)
{
	struct ext *x = ext_initialising;
	int err;

	if (!x)
		return -EPERM;
	if (binding >= x->nbindings || !x->bindings[binding])
		return -ENOENT;
	if ((err = dispatch_uninstall(x->bindings[binding], &x->mod)))
		return err;
	x->bindings[binding] = NULL;
	return 0;
}

/* ----------------------------------------------------------- loading */

/* What r1..r5 hold at entry, from a declared signature. */
static int ext_entry_args(const struct rt_sig *sig, uint32_t skip, struct rt_entry *e)
{
	memset(e, 0, sizeof(*e));
	for (uint32_t i = skip; i < sig->nargs; i++) {
		switch (sig->args[i].kind) {
		case RT_ARG_SCALAR:
		case RT_ARG_REF:
		case RT_ARG_REF_OR_NULL:
		case RT_ARG_CONST_MEM:
		case RT_ARG_CONST_MEM_RW:
			e->args[i - skip] = sig->args[i];
			break;
		default:
			return -ESIG; /* memory+size pairs cannot be described at entry */
		}
	}
	return 0;
}

/* Sort the program's functions into entries.  Returns the count or an error. */
static int ext_classify(struct ext *x, char *err, size_t errlen)
{
	const struct rt_prog *p = x->prog;
	uint32_t n = 0;

	x->e = model_zalloc(sizeof(*x->e) * (p->nfuncs ? p->nfuncs : 1));
	if (!x->e)
		return -ENOMEM;
	for (uint32_t i = 0; i < p->nfuncs; i++) {
		const struct rt_func *f = &p->funcs[i];
		struct ext_entry *e = &x->e[n];
		const char *ev = NULL;
		if (strncmp(f->section, "handler/", 8) == 0) {
			e->kind = EXT_HANDLER;
			ev = f->section + 8;
		} else if (strncmp(f->section, "guard/", 6) == 0) {
			e->kind = EXT_GUARD;
			ev = f->section + 6;
		} else if (strcmp(f->section, "initcall") == 0 ||
		           (f->global && strcmp(f->name, "init") == 0)) {
			e->kind = EXT_INIT;
		} else if (f->global && domain_lookup(x->dom, f->name)) {
			e->kind = EXT_EXPORT;
			e->item = iface_find_item(f->name, NULL);
		} else {
			continue; /* a local function: reached only by calls */
		}
		if (ev) {
			e->item = iface_find_item(ev, NULL);
			if (!e->item || !(e->item->flags & IFACE_EVENT)) {
				ext_err(err, errlen,
				        "%s: '%s' in section %s is not a declared event", f->name,
				        ev, f->section);
				return -ENOENT;
			}
		}
		if (e->kind == EXT_INIT)
			for (uint32_t k = 0; k < n; k++)
				if (x->e[k].kind == EXT_INIT) {
					ext_err(err, errlen, "%s: a second initialiser", f->name);
					return -EEXIST;
				}
		e->func = i;
		n++;
	}
	x->ne = n;
	return 0;
}

static int ext_verify_all(struct ext *x, char *err, size_t errlen)
{
	for (uint32_t i = 0; i < x->ne; i++) {
		struct ext_entry *e = &x->e[i];
		const struct rt_func *f = &x->prog->funcs[e->func];
		struct rt_verify_result res;
		struct rt_entry entry = {0};
		int rc = 0;

		if (e->kind != EXT_INIT)
			rc = ext_entry_args(e->item->sig, 0, &entry);
		if (rc) {
			ext_err(err, errlen, "%s: %s takes an argument an entry cannot receive",
			        f->name, e->item->name);
			return rc;
		}
		if (e->kind == EXT_EXPORT && e->item->sig->ret.kind != RT_RET_SCALAR &&
		    e->item->sig->ret.kind != RT_RET_VOID) {
			ext_err(err, errlen, "%s: exported procedures return numbers only",
			        f->name);
			return -ESIG;
		}
		entry.guard = e->kind == EXT_GUARD;
		memset(&res, 0, sizeof(res));
		rc = rt_verify(x->prog, e->func, &entry, NULL, &res);
		if (rc) {
			ext_last_rt = rc;
			ext_err(err, errlen, "%s: %s", f->name, res.msg);
			return -EINVAL;
		}
		if (e->kind == EXT_GUARD) {
			/* Verified as a guard: only now is it known to be pure. */
			e->sig = *e->item->sig;
			e->sig.flags |= RT_SIG_PURE;
		}
	}
	return 0;
}

static int ext_compile(struct ext *x, char *err, size_t errlen)
{
	int rc = rt_jit_compile(x->prog, &x->jit, err, errlen);
	if (rc) {
		ext_last_rt = rc;
		x->jit = NULL;
		return rc == -RT_ENOMEM ? -ENOMEM : -EINVAL;
	}
	for (uint32_t i = 0; i < x->ne; i++) {
		x->e[i].fn = rt_jit_entry(x->jit, x->e[i].func);
		if (!x->e[i].fn) {
			ext_err(err, errlen, "%s: no compiled entry",
			        x->prog->funcs[x->e[i].func].name);
			return -EINVAL;
		}
	}
	return 0;
}

/* Exports: an adapter each, published with the declared type plus
 * RT_SIG_MAYABORT (a callee's abort ends its caller). */
static int ext_publish_exports(struct ext *x, char *err, size_t errlen)
{
	for (uint32_t i = 0; i < x->ne; i++) {
		struct ext_entry *e = &x->e[i];
		int rc;
		if (e->kind != EXT_EXPORT)
			continue;
		if ((rc = dispatch_gen_adapter(e->fn, EXT_CALL_FUEL, &e->adapter)))
			return rc;
		e->sig = *e->item->sig;
		e->sig.fn = (void *)e->adapter.fn;
		e->sig.flags |= RT_SIG_MAYABORT;
		if ((rc = domain_set_export(x->dom, e->item->name, e->fn, &e->sig))) {
			ext_err(err, errlen, "%s: cannot export it (%d)", e->item->name, rc);
			return rc;
		}
		x->nexports++;
	}
	return 0;
}

static int ext_run_init(struct ext *x, char *err, size_t errlen)
{
	struct rt_jit_ret r;

	for (uint32_t i = 0; i < x->ne; i++) {
		if (x->e[i].kind != EXT_INIT)
			continue;
		ext_initialising = x;
		r = x->e[i].fn(0, 0, 0, 0, 0, EXT_INIT_FUEL);
		ext_initialising = NULL;
		if (r.status != RT_RUN_OK) {
			ext_err(err, errlen, "%s: initialiser aborted (run status %u)", x->name,
			        (unsigned)r.status);
			return -EINVAL;
		}
		if (r.r0 != 0) {
			ext_err(err, errlen, "%s: initialiser refused the load (returned %lld)",
			        x->name, (long long)r.r0);
			return -EINVAL;
		}
	}
	return 0;
}

/* Free everything x owns (nothing may run its code any more). */
static void ext_free(struct ext *x)
{
	if (x->e)
		for (uint32_t i = 0; i < x->ne; i++)
			dispatch_gen_free(&x->e[i].adapter);
	if (x->thunks && x->prog)
		for (uint32_t i = 0; i < x->prog->nimports; i++)
			dispatch_gen_free(&x->thunks[i]);
	ext_drop_shims(x, 0);
	if (x->dom)
		domain_release(x->dom);
	if (x->jit)
		rt_jit_free(x->jit);
	if (x->prog)
		rt_prog_free(x->prog);
	model_free(x->e);
	model_free(x->thunks);
	model_free(x->capsigs);
	extref_table_destroy(x->caps);
	model_free(x);
}

int ext_load(const void *bytes, size_t len, const char *name, const struct module *requester,
             struct domain *const *domains, uint32_t ndomains, struct ext **out, char *err,
             size_t errlen)
{
	struct ext *x;
	bool privileged = false;
	int rc;

	ext_last_rt = 0;
	if (err && errlen)
		err[0] = 0;
	if (!bytes || !len || !name || !requester || !out || (ndomains && !domains) ||
	    ndomains > EXT_MAX_DOMAINS) {
		ext_err(err, errlen, "ext_load: bad arguments");
		return -EINVAL;
	}
	if (ext_initialising || dispatch_inside_raise()) {
		ext_err(err, errlen, "ext_load: not from inside an extension");
		return -EBUSY;
	}
	if (ext_find(name)) {
		ext_err(err, errlen, "%s: an extension of that name is loaded", name);
		return -EEXIST;
	}
	for (uint32_t i = 0; i < ndomains; i++) {
		if (!domains[i]) {
			ext_err(err, errlen, "ext_load: bad arguments");
			return -EINVAL;
		}
		if (domains[i] == domain_spin_private || (domains[i]->flags & DOMAIN_PRIVATE)) {
			if (!(requester->flags & MODULE_PRIVILEGED)) {
				ext_err(err, errlen, "%s: %s cannot hand out the private domain %s",
				        name, requester->name, domains[i]->name);
				return -EPERM;
			}
			privileged = true;
		}
	}
	x = model_zalloc(sizeof(*x));
	if (!x)
		return -ENOMEM;
	if (!model_copy_name(x->name, sizeof(x->name), name)) {
		model_free(x);
		ext_err(err, errlen, "ext_load: bad name");
		return -EINVAL;
	}
	x->mod.name = x->name;
	x->mod.flags = MODULE_EXTENSION | (privileged ? MODULE_PRIVILEGED : 0);
	x->caps = cap_kernel ? extref_table_create(cap_kernel, EXT_CAP_SLOTS) : NULL;
	if (!x->caps) {
		model_free(x);
		ext_err(err, errlen, "%s: no capability space (%s)", name,
		        cap_kernel ? "out of memory" : "no capability table");
		return cap_kernel ? -ENOMEM : -EINVAL;
	}

	rc = rt_prog_load_elf(bytes, len, &x->prog, err, errlen);
	if (rc) {
		ext_last_rt = rc;
		x->prog = NULL;
		rc = rc == -RT_ENOMEM ? -ENOMEM : -EINVAL;
		goto err_free;
	}
	if ((rc = domain_create_from_prog(x->name, x->prog, &x->mod, &x->dom))) {
		x->dom = NULL;
		goto err_free;
	}
	for (uint32_t i = 0; i < ndomains; i++) {
		int r = domain_resolve(domains[i], x->dom);
		if (r < 0) {
			ext_err(err, errlen,
			        "%s: cannot link against domain '%s': a symbol's type differs from "
			        "its declaration",
			        name, domains[i]->name);
			rc = r;
			goto err_free;
		}
	}
	if ((rc = domain_check_resolved(x->dom, err, errlen)))
		goto err_free;
	if ((rc = ext_bind_caps(x, err, errlen)))
		goto err_free;
	if ((rc = ext_classify(x, err, errlen)))
		goto err_free;
	if ((rc = ext_verify_all(x, err, errlen)))
		goto err_free;
	if ((rc = ext_compile(x, err, errlen)))
		goto err_free;
	if ((rc = ext_publish_exports(x, err, errlen)))
		goto err_free;
	if ((rc = ext_run_init(x, err, errlen)))
		goto err_uninstall;
	if (x->nexports) {
		rc = nameserver_export(x->name, x->dom, NULL, NULL, &x->mod);
		if (rc) {
			ext_err(err, errlen, "%s: cannot export its domain (%d)", name, rc);
			goto err_uninstall;
		}
		x->exported = true;
	}
	x->next = ext_head;
	ext_head = x;
	*out = x;
	return 0;

err_uninstall:
	dispatch_uninstall_all(&x->mod);
	dispatch_synchronize();
err_free:
	ext_free(x);
	return rc;
}

int ext_unload(struct ext *x, char *err, size_t errlen)
{
	struct ext **pp;
	int rc;

	if (err && errlen)
		err[0] = 0;
	if (!x || !ext_listed(x)) {
		ext_err(err, errlen, "ext_unload: no such extension");
		return -ENOENT;
	}
	if (x->dom->resolvers) {
		ext_err(err, errlen, "%s: %u import(s) of other extensions are resolved against it",
		        x->name, x->dom->resolvers);
		return -EBUSY;
	}
	if (ext_initialising || dispatch_inside_raise()) {
		ext_err(err, errlen, "%s: cannot unload from inside a raise; defer it", x->name);
		return -EBUSY;
	}
	/* From here on nothing can fail for the caller's reasons. */
	if ((rc = dispatch_uninstall_all(&x->mod)))
		return rc;
	if (x->exported)
		nameserver_unexport(x->name, &x->mod);
	if ((rc = dispatch_synchronize()))
		return rc;
	for (pp = &ext_head; *pp != x; pp = &(*pp)->next)
		;
	*pp = x->next;
	ext_free(x);
	return 0;
}

/* ---------------------------------------------------------- manifest */

static bool ext_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* Split line into at most max words (in place); returns the count. */
static uint32_t ext_words(char *line, char **w, uint32_t max)
{
	uint32_t n = 0;
	char *p = line;
	while (*p) {
		while (ext_space(*p))
			*p++ = 0;
		if (!*p || *p == '#')
			break;
		if (n == max)
			return max + 1;
		w[n++] = p;
		while (*p && !ext_space(*p))
			p++;
	}
	if (*p == '#')
		*p = 0;
	return n;
}

static int ext_manifest_line(char *line, uint32_t lineno, ext_object_fn object, void *arg,
                             const struct module *requester, char *err, size_t errlen)
{
	char *w[5], *d, *next;
	struct domain *doms[EXT_MAX_DOMAINS];
	bool imported[EXT_MAX_DOMAINS] = {false};
	uint32_t nw = ext_words(line, w, 4), nd = 0;
	const void *bytes = NULL;
	size_t len = 0;
	bool privileged;
	struct ext *x = NULL;
	int rc = 0;

	if (nw == 0)
		return 0; /* blank or comment */
	privileged = nw == 4 && strcmp(w[3], "privileged") == 0;
	if (nw < 3 || nw > 4 || (nw == 4 && !privileged)) {
		ext_err(err, errlen, "manifest line %u: expected NAME OBJECT DOMAINS [privileged]",
		        lineno);
		return -EINVAL;
	}
	for (d = w[2]; d && *d; d = next) {
		next = strchr(d, ',');
		if (next)
			*next++ = 0;
		if (nd == EXT_MAX_DOMAINS) {
			ext_err(err, errlen, "manifest line %u: too many domains", lineno);
			rc = -EINVAL;
			goto out;
		}
		if (strcmp(d, "SpinPublic") == 0) {
			doms[nd] = domain_spin_public;
		} else if (strcmp(d, "SpinPrivate") == 0) {
			if (!privileged) {
				ext_err(err, errlen,
				        "manifest line %u: SpinPrivate needs the 'privileged' flag",
				        lineno);
				rc = -EPERM;
				goto out;
			}
			doms[nd] = domain_spin_private;
		} else if ((rc = nameserver_import(d, requester, &doms[nd]))) {
			ext_err(err, errlen, "manifest line %u: no domain '%s' (%d)", lineno, d,
			        rc);
			goto out;
		} else {
			imported[nd] = true;
		}
		if (!doms[nd]) {
			ext_err(err, errlen, "manifest line %u: domain '%s' not built", lineno, d);
			rc = -ENOENT;
			goto out;
		}
		nd++;
	}
	if ((rc = object(arg, w[1], &bytes, &len))) {
		ext_err(err, errlen, "manifest line %u: no object '%s' in the image", lineno, w[1]);
		goto out;
	}
	rc = ext_load(bytes, len, w[0], requester, doms, nd, &x, err, errlen);
	if (rc && err && errlen) {
		char msg[256];
		rt_snprintf(msg, sizeof(msg), "%s", err);
		ext_err(err, errlen, "manifest line %u: %s", lineno, msg);
	}
out:
	for (uint32_t i = 0; i < nd; i++)
		if (imported[i])
			domain_drop(doms[i]);
	return rc ? rc : 1;
}

int ext_load_manifest(const char *text, size_t len, ext_object_fn object, void *arg,
                      const struct module *requester, char *err, size_t errlen)
{
	char line[256];
	uint32_t lineno = 0;
	int loaded = 0;
	size_t i = 0;

	if (!text || !object || !requester)
		return -EINVAL;
	while (i < len) {
		size_t n = 0;
		int rc;
		lineno++;
		while (i < len && text[i] != '\n') {
			if (n + 1 >= sizeof(line)) {
				ext_err(err, errlen, "manifest line %u: too long", lineno);
				return -EINVAL;
			}
			line[n++] = text[i++];
		}
		line[n] = 0;
		i++; /* the newline */
		rc = ext_manifest_line(line, lineno, object, arg, requester, err, errlen);
		if (rc < 0)
			return rc; /* earlier lines stay loaded */
		loaded += rc;
	}
	return loaded;
}
