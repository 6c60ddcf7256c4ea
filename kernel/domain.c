/*
 * domain.c: protection domains and the dynamic linker's symbol side.
 *
 * Symbols are kept in a flat array per domain and looked up linearly (the
 * tables are tens of entries; link time only).  Aggregates hold no symbols
 * of their own: a lookup walks their members depth-first, in order.
 * Resolution patches rt_prog.imports[i].sig, which is what the verifier
 * checks calls against and what the JIT turns into a direct call.
 */
#include "kernel/domain.h"
#include "runtime/btf.h"

#define DOMAIN_MAX_DEPTH 8

struct domain *domain_spin_public;
struct domain *domain_spin_private;

static bool domain_sig_declared(const struct rt_sig *declared, const struct rt_sig *sig);

static void domain_err(char *err, size_t errlen, const char *a, const char *b, const char *c)
{
	size_t n = 0;
	const char *parts[3] = {a, b, c};
	if (!err || errlen == 0)
		return;
	for (int i = 0; i < 3; i++)
		for (const char *s = parts[i]; s && *s && n + 1 < errlen; s++)
			err[n++] = *s;
	err[n] = 0;
}

struct domain *domain_create(const char *name, uint32_t flags)
{
	struct domain *d;
	if (!name)
		return NULL;
	d = model_zalloc(sizeof(*d));
	if (!d)
		return NULL;
	if (!model_copy_name(d->name, sizeof(d->name), name)) {
		model_free(d);
		return NULL;
	}
	d->flags = flags;
	d->refs = 1;
	return d;
}

static int domain_grow_syms(struct domain *d, uint32_t more)
{
	struct domain_sym *s;
	uint32_t cap = d->symcap ? d->symcap : 8;
	if (d->nsyms + more <= d->symcap)
		return 0;
	while (cap < d->nsyms + more)
		cap *= 2;
	s = model_zalloc(sizeof(*s) * cap);
	if (!s)
		return -ENOMEM;
	if (d->nsyms)
		memcpy(s, d->syms, sizeof(*s) * d->nsyms);
	model_free(d->syms);
	d->syms = s;
	d->symcap = cap;
	return 0;
}

static const struct domain_sym *domain_lookup_depth(const struct domain *d, const char *name,
                                                    uint32_t depth)
{
	if (!d || depth > DOMAIN_MAX_DEPTH)
		return NULL;
	for (uint32_t i = 0; i < d->nsyms; i++)
		if (strcmp(d->syms[i].name, name) == 0)
			return &d->syms[i];
	for (uint32_t i = 0; i < d->nmembers; i++) {
		const struct domain_sym *s = domain_lookup_depth(d->members[i], name, depth + 1);
		if (s)
			return s;
	}
	return NULL;
}

const struct domain_sym *domain_lookup(const struct domain *d, const char *name)
{
	return name ? domain_lookup_depth(d, name, 0) : NULL;
}

/* Symbols are declared in an interface and carry exactly its signature. */
static int domain_check_declared(const struct rt_sig *sig, const struct iface_item **item)
{
	const struct iface_item *it = iface_find_item(sig->name, NULL);
	if (!it)
		return -ENOENT;
	if (!iface_sig_equal(it->sig, sig))
		return -ESIG;
	if (item)
		*item = it;
	return 0;
}

int domain_create_from_interface(const struct iface_desc *iface, const struct module *m,
                                 struct domain **out)
{
	struct domain *d;
	int err;

	if (!iface || !m || !out)
		return -EINVAL;
	if (strcmp(iface->authority, m->name) != 0)
		return -EPERM; /* only the interface's own module exports it */
	for (uint32_t i = 0; i < iface->nitems; i++) {
		const struct iface_item *it = &iface->items[i];
		if (!(it->flags & IFACE_EVENT) && !it->impl)
			return -ENOENT; /* a procedure this image does not implement */
		if ((it->flags & IFACE_EVENT) && *it->event)
			return -EEXIST; /* already declared by an earlier create */
	}
	d = domain_create(iface->name,
	                  DOMAIN_MODULE | ((iface->flags & IFACE_PRIVATE) ? DOMAIN_PRIVATE : 0));
	if (!d)
		return -ENOMEM;
	d->module = m;
	if ((err = domain_grow_syms(d, iface->nitems)))
		goto err_free;
	/* Events: declare each with its intrinsic handler (if linked in). */
	for (uint32_t i = 0; i < iface->nitems; i++) {
		const struct iface_item *it = &iface->items[i];
		struct dispatch_proc intrinsic;
		struct rt_sig *isig;
		if (!(it->flags & IFACE_EVENT))
			continue;
		/* The intrinsic's own signature: the event's type at its address. */
		isig = it->impl ? model_zalloc(sizeof(*isig)) : NULL;
		if (it->impl && !isig) {
			err = -ENOMEM;
			goto err_events;
		}
		if (isig) {
			*isig = *it->sig;
			isig->fn = it->impl;
		}
		intrinsic = (struct dispatch_proc){isig, NULL, NULL};
		err = dispatch_event_create(it->name, it->sig, m, isig ? &intrinsic : NULL,
		                            it->event);
		if (err) {
			model_free(isig);
			goto err_events;
		}
		d->syms[d->nsyms].proc = intrinsic; /* keeps isig for domain_release */
		d->syms[d->nsyms].name = it->name;
		d->syms[d->nsyms].sig = it->sig;
		d->nsyms++;
	}
	for (uint32_t i = 0; i < iface->nitems; i++) {
		const struct iface_item *it = &iface->items[i];
		if (it->flags & IFACE_EVENT)
			continue;
		d->syms[d->nsyms].name = it->name;
		d->syms[d->nsyms].sig = it->sig;
		d->syms[d->nsyms].proc = (struct dispatch_proc){it->sig, NULL, NULL};
		d->nsyms++;
	}
	*out = d;
	return 0;

err_events:
	for (uint32_t i = 0; i < d->nsyms; i++) {
		const struct iface_item *it = iface_find_item(d->syms[i].name, NULL);
		dispatch_event_destroy(*it->event, m);
		*it->event = NULL;
		model_free((void *)d->syms[i].proc.sig);
	}
err_free:
	model_free(d->syms);
	model_free(d);
	return err;
}

int domain_create_from_module(const struct module *m, const struct rt_sig *const *exports,
                              uint32_t n, struct domain **out)
{
	struct domain *d;
	int err;

	if (!m || !out || (n && !exports))
		return -EINVAL;
	for (uint32_t i = 0; i < n; i++) {
		if (!exports[i] || !exports[i]->fn)
			return -EINVAL;
		if ((err = domain_check_declared(exports[i], NULL)))
			return err;
		for (uint32_t k = 0; k < i; k++)
			if (strcmp(exports[k]->name, exports[i]->name) == 0)
				return -EEXIST;
	}
	d = domain_create(m->name, DOMAIN_MODULE);
	if (!d)
		return -ENOMEM;
	d->module = m;
	if ((err = domain_grow_syms(d, n))) {
		model_free(d);
		return err;
	}
	for (uint32_t i = 0; i < n; i++) {
		d->syms[i].name = exports[i]->name;
		d->syms[i].sig = exports[i];
		d->syms[i].proc = (struct dispatch_proc){exports[i], NULL, NULL};
	}
	d->nsyms = n;
	*out = d;
	return 0;
}

int domain_create_from_prog(const char *name, struct rt_prog *p, const struct module *ext,
                            struct domain **out)
{
	struct domain *d;
	int err = -ENOMEM;

	if (!name || !p || !ext || !out)
		return -EINVAL;
	d = domain_create(name, DOMAIN_EXTENSION);
	if (!d)
		return -ENOMEM;
	d->module = ext;
	d->prog = p;
	if (p->nimports) {
		d->import_src = model_zalloc(sizeof(*d->import_src) * p->nimports);
		if (!d->import_src)
			goto err_free;
	}
	/* Exported: global functions whose names an interface declares. */
	for (uint32_t i = 0; i < p->nfuncs; i++) {
		const struct rt_func *f = &p->funcs[i];
		const struct iface_item *it;
		if (!f->global || !(it = iface_find_item(f->name, NULL)) ||
		    (it->flags & IFACE_EVENT))
			continue;
		if ((err = domain_grow_syms(d, 1)))
			goto err_free;
		d->syms[d->nsyms].name = it->name;
		d->syms[d->nsyms].sig = it->sig;
		d->syms[d->nsyms].proc = (struct dispatch_proc){it->sig, NULL, ext};
		d->syms[d->nsyms].func = i;
		d->nsyms++;
	}
	*out = d;
	return 0;

err_free:
	model_free(d->import_src);
	model_free(d->syms);
	model_free(d);
	return err;
}

int domain_set_entry(struct domain *d, const char *name, rt_jit_fn fn)
{
	return domain_set_export(d, name, fn, NULL);
}

int domain_set_export(struct domain *d, const char *name, rt_jit_fn fn, const struct rt_sig *sig)
{
	if (!d || !name || !fn || !(d->flags & DOMAIN_EXTENSION))
		return -EINVAL;
	for (uint32_t i = 0; i < d->nsyms; i++) {
		if (strcmp(d->syms[i].name, name) == 0) {
			if (sig && (!sig->fn || !domain_sig_declared(d->syms[i].sig, sig)))
				return -ESIG;
			if (d->resolvers)
				return -EBUSY; /* importers hold the old address */
			d->syms[i].proc.jit = fn;
			if (sig)
				d->syms[i].sig = sig;
			return 0;
		}
	}
	return -ENOENT;
}

void domain_get(struct domain *d)
{
	if (d)
		d->refs++;
}

static void domain_put(struct domain *d);

static void domain_free(struct domain *d)
{
	/* Drop our own resolutions. */
	if (d->prog)
		for (uint32_t i = 0; i < d->prog->nimports; i++)
			if (d->import_src[i]) {
				struct domain *src = d->import_src[i];
				d->prog->imports[i].sig = NULL;
				d->import_src[i] = NULL;
				src->resolvers--;
				domain_put(src);
			}
	for (uint32_t i = 0; i < d->nmembers; i++)
		domain_put(d->members[i]);
	/* Events this module declared go with it (their intrinsic sigs too). */
	if (d->flags & DOMAIN_MODULE)
		for (uint32_t i = 0; i < d->nsyms; i++) {
			const struct iface_item *it = iface_find_item(d->syms[i].name, NULL);
			if (it && (it->flags & IFACE_EVENT) && *it->event) {
				/* domain_release refused while foreign handlers
				 * remained; if an aggregate's last reference got here
				 * anyway, keep the intrinsic's signature (a leak,
				 * never a dangling pointer). */
				if (dispatch_event_destroy(*it->event, d->module) != 0)
					continue;
				*it->event = NULL;
				model_free((void *)d->syms[i].proc.sig);
			}
		}
	model_free(d->import_src);
	model_free(d->members);
	model_free(d->syms);
	model_free(d);
}

static void domain_put(struct domain *d)
{
	if (d && --d->refs == 0)
		domain_free(d);
}

int domain_release(struct domain *d)
{
	if (!d)
		return -EINVAL;
	if (d->resolvers)
		return -EBUSY;
	/* The last reference to a module's domain takes its events with it:
	 * refuse while other modules have handlers on them. */
	if (d->refs == 1 && (d->flags & DOMAIN_MODULE))
		for (uint32_t i = 0; i < d->nsyms; i++) {
			const struct iface_item *it = iface_find_item(d->syms[i].name, NULL);
			if (it && (it->flags & IFACE_EVENT) && *it->event &&
			    dispatch_foreign_bindings(*it->event))
				return -EBUSY;
		}
	domain_put(d);
	return 0;
}

int domain_drop(struct domain *d)
{
	if (!d)
		return -EINVAL;
	/* Resolutions hold references of their own, so this one is never the
	 * last while others are resolved against d. */
	if (d->refs == 1 && d->resolvers)
		return -EBUSY;
	domain_put(d);
	return 0;
}

/* Does the importer's BTF prototype (when the object has one) take as many
 * arguments as sig, and return something exactly when sig does? */
static bool domain_btf_agrees(const struct rt_prog *p, const struct rt_import *imp,
                              const struct rt_sig *sig)
{
	const struct rt_btf *b = p->btf;
	const struct rt_btf_type *t;
	if (!b || imp->btf_proto == 0)
		return true;
	if (imp->btf_proto >= b->ntypes)
		return false;
	t = &b->type[imp->btf_proto];
	if (rt_btf_kind(t) != RT_BTF_FUNC_PROTO || rt_btf_vlen(t) != sig->nargs)
		return false;
	return (t->size_type == 0) == (sig->ret.kind == RT_RET_VOID);
}

/* Is sig the declared type?  An extension's export may add RT_SIG_MAYABORT:
 * its native address is an adapter that returns the callee's run status,
 * which ends the calling extension if the callee was aborted. */
static bool domain_sig_declared(const struct rt_sig *declared, const struct rt_sig *sig)
{
	struct rt_sig s = *sig;
	s.flags = (s.flags & ~(uint32_t)RT_SIG_MAYABORT) | (declared->flags & RT_SIG_MAYABORT);
	return iface_sig_equal(declared, &s);
}

int domain_resolve(struct domain *source, struct domain *target)
{
	struct rt_prog *p;
	uint32_t patched = 0;

	if (!source || !target || source == target)
		return -EINVAL;
	p = target->prog;
	if (!p)
		return 0; /* nothing imported */
	/* Check everything first: a type conflict patches nothing. */
	for (uint32_t i = 0; i < p->nimports; i++) {
		const struct domain_sym *s;
		const struct iface_item *it;
		if (p->imports[i].sig)
			continue;
		s = domain_lookup(source, p->imports[i].name);
		if (!s)
			continue;
		/* The exporter's symbol must have the declared type, and the
		 * importer's own prototype (from its BTF) must agree with it. */
		it = iface_find_item(s->name, NULL);
		if (!it || !domain_sig_declared(it->sig, s->sig))
			return -ESIG;
		if (!domain_btf_agrees(p, &p->imports[i], s->sig))
			return -ESIG;
		if (!s->sig->fn)
			return -ESIG; /* an extension export with no native entry yet */
	}
	for (uint32_t i = 0; i < p->nimports; i++) {
		const struct domain_sym *s;
		if (p->imports[i].sig)
			continue;
		s = domain_lookup(source, p->imports[i].name);
		if (!s)
			continue;
		p->imports[i].sig = s->sig;
		target->import_src[i] = source;
		source->resolvers++;
		source->refs++;
		patched++;
	}
	return (int)patched;
}

int domain_unresolve(struct domain *source, struct domain *target)
{
	uint32_t undone = 0;
	if (!source || !target)
		return -EINVAL;
	if (!target->prog)
		return 0;
	for (uint32_t i = 0; i < target->prog->nimports; i++) {
		if (target->import_src[i] != source)
			continue;
		target->prog->imports[i].sig = NULL;
		target->import_src[i] = NULL;
		source->resolvers--;
		undone++;
		domain_put(source); /* cannot free: the caller holds source */
	}
	return (int)undone;
}

/* Would adding e to agg define one name twice, differently? */
static bool domain_conflicts(const struct domain *agg, const struct domain *e, uint32_t depth)
{
	if (depth > DOMAIN_MAX_DEPTH)
		return true;
	for (uint32_t i = 0; i < e->nsyms; i++) {
		const struct domain_sym *s = domain_lookup(agg, e->syms[i].name);
		if (s && s->sig != e->syms[i].sig)
			return true;
	}
	for (uint32_t i = 0; i < e->nmembers; i++)
		if (domain_conflicts(agg, e->members[i], depth + 1))
			return true;
	return false;
}

static bool domain_contains(const struct domain *agg, const struct domain *e, uint32_t depth)
{
	if (agg == e)
		return true;
	if (depth > DOMAIN_MAX_DEPTH)
		return true;
	for (uint32_t i = 0; i < agg->nmembers; i++)
		if (domain_contains(agg->members[i], e, depth + 1))
			return true;
	return false;
}

int domain_add(struct domain *agg, struct domain *e)
{
	if (!agg || !e || !(agg->flags & DOMAIN_AGGREGATE))
		return -EINVAL;
	if (domain_contains(agg, e, 0) || domain_contains(e, agg, 0))
		return -EEXIST; /* already in it, or a cycle */
	if (domain_conflicts(agg, e, 0))
		return -EEXIST;
	if (agg->nmembers == agg->memcap) {
		uint32_t cap = agg->memcap ? agg->memcap * 2 : 4;
		struct domain **m = model_zalloc(sizeof(*m) * cap);
		if (!m)
			return -ENOMEM;
		if (agg->nmembers)
			memcpy(m, agg->members, sizeof(*m) * agg->nmembers);
		model_free(agg->members);
		agg->members = m;
		agg->memcap = cap;
	}
	agg->members[agg->nmembers++] = e;
	e->refs++;
	if (e->flags & DOMAIN_PRIVATE)
		agg->flags |= DOMAIN_PRIVATE;
	return 0;
}

int domain_combine(const char *name, struct domain *d1, struct domain *d2, struct domain **out)
{
	struct domain *agg;
	int err;

	if (!name || !d1 || !d2 || !out || d1 == d2)
		return -EINVAL;
	if (domain_conflicts(d1, d2, 0))
		return -EEXIST;
	agg = domain_create(name, DOMAIN_AGGREGATE);
	if (!agg)
		return -ENOMEM;
	if ((err = domain_add(agg, d1)) || (err = domain_add(agg, d2))) {
		domain_put(agg);
		return err;
	}
	*out = agg;
	return 0;
}

int domain_check_resolved(const struct domain *d, char *err, size_t errlen)
{
	if (!d)
		return -EINVAL;
	if (!d->prog)
		return 0;
	for (uint32_t i = 0; i < d->prog->nimports; i++) {
		if (!d->prog->imports[i].sig) {
			domain_err(err, errlen, "unresolved import '", d->prog->imports[i].name,
			           "': not exported by any domain it was linked against");
			return -EUNRESOLVED;
		}
	}
	return 0;
}

int domain_link(struct domain *target, struct domain *source, char *err, size_t errlen)
{
	int r = domain_resolve(source, target);
	if (r < 0) {
		domain_err(err, errlen, "cannot link against domain '", source ? source->name : "?",
		           "': a symbol's type differs from its declaration");
		return r;
	}
	return domain_check_resolved(target, err, errlen);
}

static const struct rt_sig *domain_embed_lookup(void *arg, const char *name)
{
	const struct domain_sym *s = domain_lookup(arg, name);
	return s ? s->sig : NULL;
}

void domain_embed(struct domain *d, struct rt_embed *out)
{
	out->lookup = domain_embed_lookup;
	out->helper = NULL;
	out->arg = d;
}

int domain_init(void)
{
	if (domain_spin_public)
		return -EEXIST;
	domain_spin_public = domain_create("SpinPublic", DOMAIN_AGGREGATE);
	domain_spin_private = domain_create("SpinPrivate", DOMAIN_AGGREGATE);
	if (!domain_spin_public || !domain_spin_private) {
		domain_put(domain_spin_public);
		domain_put(domain_spin_private);
		domain_spin_public = domain_spin_private = NULL;
		return -ENOMEM;
	}
	return 0;
}

int domain_publish(struct domain *d)
{
	int err;
	if (!d || !domain_spin_private || !(d->flags & DOMAIN_MODULE))
		return -EINVAL;
	if ((err = domain_add(domain_spin_private, d)))
		return err;
	if (!(d->flags & DOMAIN_PRIVATE) && (err = domain_add(domain_spin_public, d))) {
		/* Undo the first add: it was the last member appended. */
		domain_spin_private->nmembers--;
		domain_put(d);
		return err;
	}
	return 0;
}
