/*
 * extension: the lifecycle of a verified extension (DESIGN.md §3): load,
 * initialise, list, unload; and the boot image's manifest of extensions.
 *
 * ext_load(bytes) runs the whole pipeline and either ends with a running
 * extension or changes nothing:
 *   1. parse the clang BPF object (rt_prog_load_elf);
 *   2. make its domain (domain_create_from_prog): declared procedures it
 *      defines become its exports, its imports stay unresolved;
 *   3. resolve the imports against the domains the requester lets it use
 *      (a private domain only for a privileged requester), in order, and
 *      require every import resolved (the first one left is named);
 *   4. give each entry its argument description, from the one declaration:
 *      handler/EVENT and guard/EVENT from the event's rt_sig (guards with
 *      rt_entry.guard, and only once verified as guards is their signature
 *      marked RT_SIG_PURE), exports from their declared rt_sig, the
 *      initialiser (section init, or a function named init) with none;
 *   5. verify every entry (rt_verify; the message names the function, the
 *      instruction and the source line) and JIT-compile the program;
 *   6. publish exports with cross-domain adapters (their native address
 *      calls the JIT'd entry with a fuel budget and returns its status, so
 *      an importing extension is aborted if its callee is: RT_SIG_MAYABORT);
 *   7. run the initialiser, which installs the extension's own handlers
 *      through the Dispatcher interface (Dispatcher_Install, by function
 *      name: an extension can name only its own entries);
 *   8. export its domain in the nameserver under the extension's name, so
 *      other extensions can import it.
 *
 * ext_unload removes its handlers, refuses (-EBUSY) while other domains are
 * resolved against it (they must be unloaded first), withdraws its name,
 * waits until no CPU is inside a raise that could still run its code
 * (dispatch_synchronize), then frees adapters, code, program and domain.
 *
 * Owns: the list of loaded extensions, each one's module descriptor (its
 * identity as installer and exporter), program, domain, JIT code, adapters,
 * bindings, capability space, import thunks and handler shims.
 *
 * Invariants: a listed extension is fully linked, verified, compiled and
 * initialised; its bindings are all owned by its module; nothing outside
 * it points to its code once it is unloaded.
 *
 * Callers: the kernel's loader paths (boot manifest, system call, control
 * channel) and tests.  Extensions reach it only through Dispatcher_*.
 *
 * Locking: one loader at a time (like domains and the nameserver); raisers
 * never wait for it.
 *
 * Errors: -EINVAL (bad arguments or manifest), -ENOMEM, -EEXIST (name
 * taken, double install), -ENOENT (unknown event, entry or extension),
 * -EPERM (a domain the requester may not hand out; Dispatcher calls outside
 * an initialiser), -EUNRESOLVED, -ESIG (a type differs from its
 * declaration), -EACCES (an authority refused), -EBUSY (in use), and for
 * the runtime's refusals -EINVAL with the loader's or verifier's message in
 * err (the runtime's own code is in ext_load_status()).
 */
#ifndef SPINDLE_KERNEL_EXTENSION_H
#define SPINDLE_KERNEL_EXTENSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/cap.h"
#include "kernel/domain.h"

#define EXT_NAME_MAX     48
#define EXT_MAX_BINDINGS 32
#define EXT_MAX_DOMAINS  8
#define EXT_INIT_FUEL    1000000u /* the initialiser's budget */
#define EXT_CALL_FUEL    100000u  /* an export's budget per cross-domain call */
#define EXT_CAP_SLOTS    1024u    /* handles in one extension's capability space */
/* Dispatcher_Install options: SPINDLE_FIRST / SPINDLE_LAST of
 * include/spindle/ext.h (which only extensions can include). */
#define EXT_OPT_FIRST 0x1
#define EXT_OPT_LAST  0x2

struct ext;

/* Called by ext_init() after domain_init(): declares the Dispatcher
 * interface and publishes it in SpinPublic. */
int ext_init(void);

int ext_load(const void *bytes, size_t len, const char *name, const struct module *requester,
             struct domain *const *domains, uint32_t ndomains, struct ext **out, char *err,
             size_t errlen);
int ext_unload(struct ext *x, char *err, size_t errlen);

struct ext_info {
	const char *name;
	const struct module *module;
	struct domain *domain;
	uint32_t nbindings;
	uint32_t nexports;
	size_t code_size;
};
/* Fill up to max entries; returns how many extensions are loaded. */
uint32_t ext_list(struct ext_info *out, uint32_t max);
struct ext *ext_find(const char *name);
const struct module *ext_module(const struct ext *x);
struct domain *ext_domain(const struct ext *x);
/* The extension's n-th binding (as Dispatcher_Install numbered it). */
struct dispatch_binding *ext_binding(const struct ext *x, uint32_t n);
/* The runtime's code (-RT_E*) behind the last ext_load failure, or 0. */
int ext_load_status(void);

/*
 * Capability spaces (docs/capabilities.md).  An extension never holds a
 * kernel capability value: it holds handles into its own space, and the
 * interfaces resolve them there.  The kernel hands it a capability with
 * ext_cap_give (the same capability always gets the same handle; -ESTALE or
 * -EBADF if c does not check, -ENOSPC when the space is full of live
 * entries) and reads one back with ext_cap_resolve (no kernel-table check:
 * check the result as usual).  ext_module_caps is the space of the
 * extension whose module is m (while it initialises, too), or NULL for a
 * native module: for authorizers that hand a capability to the requester.
 */
struct extref_table;
int ext_cap_give(struct ext *x, cap_t c, uint64_t *handle);
int ext_cap_resolve(const struct ext *x, uint64_t handle, cap_t *c);
struct extref_table *ext_module_caps(const struct module *m);

/*
 * Boot manifest: one extension per line, `#` comments:
 *
 *     NAME OBJECT DOMAIN[,DOMAIN...] [privileged]
 *
 * NAME is the extension's name, OBJECT the name of its object in the boot
 * image (looked up through `object`), DOMAIN a domain to resolve against:
 * SpinPublic, SpinPrivate (only with `privileged`, and only if the
 * requester is privileged), or a name in the nameserver (another
 * extension loaded earlier in the manifest, say).  Lines are loaded in
 * order; the first failure stops and names its line (earlier lines stay
 * loaded).  Returns the number loaded (>= 0) or a negative code.
 */
typedef int (*ext_object_fn)(void *arg, const char *object, const void **bytes, size_t *len);
int ext_load_manifest(const char *text, size_t len, ext_object_fn object, void *arg,
                      const struct module *requester, char *err, size_t errlen);

#endif /* SPINDLE_KERNEL_EXTENSION_H */
