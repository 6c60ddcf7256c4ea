/*
 * nameserver: the in-kernel map from service names to domains (SPIN §3.1).
 *
 * A module that exports an interface makes a domain for it and exports the
 * domain here under a name (Console's "ConsoleService"), which identifies a
 * particular version of the service.  An importer asks for the name and
 * gets the domain, which it then resolves against.  The nameserver is not
 * the linker: it only hands out domains.
 *
 * Import-time authorization: an exporter may register an authorizer; it is
 * called with the importer's identity (its module descriptor) on every
 * import and may refuse.  Importer, exporter and authorizer talk through
 * direct calls.
 *
 * Owns: the name table and one reference on each exported domain.
 *
 * Invariants: names are unique; only the exporter can withdraw its name;
 * an imported domain carries a reference the importer must release.
 *
 * Callers: core services, trusted modules, the extension loader.
 *
 * Locking: load/unload time only; callers serialise (as for domains).
 *
 * Errors: -EINVAL, -ENOMEM, -ENOENT (no such name), -EEXIST (name taken),
 * -EPERM (not the exporter), -EACCES (the authorizer refused).
 */
#ifndef SPINDLE_KERNEL_NAMESERVER_H
#define SPINDLE_KERNEL_NAMESERVER_H

#include "kernel/domain.h"

#define NAMESERVER_NAME_MAX 64

/* Return 0 to allow the import, a negative code (normally -EACCES) to refuse. */
typedef int (*nameserver_authorizer_fn)(void *arg, const char *name, const struct module *importer);

int nameserver_export(const char *name, struct domain *d, nameserver_authorizer_fn auth, void *arg,
                      const struct module *exporter);
int nameserver_unexport(const char *name, const struct module *exporter);
/* On success *out holds a new reference (domain_release it). */
int nameserver_import(const char *name, const struct module *importer, struct domain **out);
/* Export a trusted module's interface under the name its IDL gives. */
int nameserver_export_interface(const struct iface_desc *iface, struct domain *d,
                                nameserver_authorizer_fn auth, void *arg,
                                const struct module *exporter);
uint32_t nameserver_count(void);

#endif /* SPINDLE_KERNEL_NAMESERVER_H */
