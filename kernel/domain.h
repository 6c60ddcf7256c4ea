/*
 * domain: logical protection domains, the unit of dynamic linking (SPIN
 * §3.1, Figure 2; Unresolve and SpinPublic/SpinPrivate from LINK96).
 *
 * A domain is a named symbol table (name -> struct rt_sig: a typed
 * signature and a native address) plus the code it contains: a trusted
 * module's, an extension's (an rt_prog), or, for an aggregate, the domains
 * it combines.  An extension can call exactly what its imports name, and its
 * imports are resolved only against the domains it was given, so what an
 * extension may reach is decided at link time, not on every call.
 *
 * Operations (Figure 2):
 *   domain_create_from_interface  a trusted module names and exports itself
 *                                 from its generated interface table
 *                                 (CreateFromModule / CreateFromInterface);
 *                                 declares the interface's events too
 *   domain_create_from_module     the same from an explicit export list
 *   domain_create_from_prog       an extension: its declared exports become
 *                                 symbols, its imports stay unresolved (Create)
 *   domain_resolve(src, dst)      patch dst's unresolved imports with src's
 *                                 exports, type-checked; exports nothing new
 *   domain_unresolve(src, dst)    undo it, so a newer src can be linked
 *   domain_combine(d1, d2)        an aggregate exporting both
 *   domain_spin_public/private    built by domain_init(); trusted modules
 *                                 publish into them
 *
 * Invariants:
 *   - every exported symbol has the signature its interface declares; a
 *     symbol nobody declared cannot be exported;
 *   - an import is either unresolved (sig NULL) or resolved against exactly
 *     one source domain, which stays alive (it is counted) until unresolved;
 *   - a domain others resolved against cannot be released (-EBUSY);
 *   - an aggregate never holds two different definitions of one name.
 *
 * Callers: core services, trusted modules, the extension loader.
 *
 * Locking: domains change at load/unload time only; callers serialise them
 * (one loader at a time).  Lookups are read-only.
 *
 * Errors: -EINVAL, -ENOMEM, -ENOENT (undeclared or unimplemented symbol),
 * -EPERM (not the interface's authority), -ESIG (type mismatch), -EEXIST
 * (conflicting definitions), -EBUSY (resolved against), -EUNRESOLVED.
 */
#ifndef SPINDLE_KERNEL_DOMAIN_H
#define SPINDLE_KERNEL_DOMAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/dispatch.h"
#include "kernel/interface.h"
#include "runtime/prog.h"

#define DOMAIN_NAME_MAX 64

#define DOMAIN_MODULE    0x1 /* a trusted module's code */
#define DOMAIN_EXTENSION 0x2 /* an extension's code (an rt_prog) */
#define DOMAIN_AGGREGATE 0x4 /* a combination of other domains */
#define DOMAIN_PRIVATE   0x8 /* holds privileged interfaces: never in SpinPublic */

struct domain_sym {
	const char *name;
	const struct rt_sig *sig;  /* declared type; sig->fn is the native entry */
	struct dispatch_proc proc; /* how to install it as a handler */
	uint32_t func;             /* extension symbols: function index in the prog */
};

struct domain {
	char name[DOMAIN_NAME_MAX];
	uint32_t flags;
	uint32_t refs;      /* creator, aggregates, nameserver, resolutions */
	uint32_t resolvers; /* imports elsewhere resolved against this domain */
	const struct module *module;
	struct domain_sym *syms;
	uint32_t nsyms, symcap;
	struct domain **members; /* aggregates */
	uint32_t nmembers, memcap;
	struct rt_prog *prog;       /* extension domains: not owned */
	struct domain **import_src; /* per import of prog: who resolved it */
};

extern struct domain *domain_spin_public;
extern struct domain *domain_spin_private;

/* Create SpinPublic and SpinPrivate (empty aggregates). */
int domain_init(void);
/* Add a trusted module's domain to SpinPrivate, and to SpinPublic unless
 * it is private. */
int domain_publish(struct domain *d);

struct domain *domain_create(const char *name, uint32_t flags);
int domain_create_from_interface(const struct iface_desc *iface, const struct module *m,
                                 struct domain **out);
int domain_create_from_module(const struct module *m, const struct rt_sig *const *exports,
                              uint32_t n, struct domain **out);
int domain_create_from_prog(const char *name, struct rt_prog *p, const struct module *ext,
                            struct domain **out);
/* Give an extension symbol its JIT-compiled entry (the loader does this). */
int domain_set_entry(struct domain *d, const char *name, rt_jit_fn fn);
/* The same, and publish sig (the declared type, possibly plus
 * RT_SIG_MAYABORT, with sig->fn the native address importers call: a
 * cross-domain adapter).  sig is the caller's and must outlive d's
 * resolutions.  -ESIG if it is not the declared type, -EBUSY once others
 * resolved against it. */
int domain_set_export(struct domain *d, const char *name, rt_jit_fn fn, const struct rt_sig *sig);

/* Returns how many imports were patched (>= 0), or a negative code with
 * nothing patched. */
int domain_resolve(struct domain *source, struct domain *target);
int domain_unresolve(struct domain *source, struct domain *target);
int domain_combine(const char *name, struct domain *d1, struct domain *d2, struct domain **out);
/* Add element to an aggregate (what SpinPublic grows by). */
int domain_add(struct domain *aggregate, struct domain *element);

/* 0 if every import is resolved; else -EUNRESOLVED and a line naming the
 * first missing symbol in err. */
int domain_check_resolved(const struct domain *d, char *err, size_t errlen);
/* Resolve target against source, then require it to be fully resolved:
 * what linking an extension is. */
int domain_link(struct domain *target, struct domain *source, char *err, size_t errlen);

const struct domain_sym *domain_lookup(const struct domain *d, const char *name);
/* An rt_embed whose lookup searches d (for rt_prog_link). */
void domain_embed(struct domain *d, struct rt_embed *out);

void domain_get(struct domain *d);
/* Drop a reference; -EBUSY (nothing done) while others are resolved
 * against d.  The last reference frees d, unresolving its own imports. */
int domain_release(struct domain *d);
/* Drop a borrowed reference (nameserver_import, domain_get) even while
 * others are resolved against d: theirs keep it alive.  A module's domain
 * whose events would go with it must be released with domain_release. */
int domain_drop(struct domain *d);

#endif /* SPINDLE_KERNEL_DOMAIN_H */
