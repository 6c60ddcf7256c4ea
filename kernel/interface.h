/*
 * interface: what every part of the extension model shares.
 *
 * Owns: the model's error codes, the module descriptor (the identity that
 * authorities, exporters, importers and installers present), the compact
 * description of declared interfaces that tools/gen-interfaces.py emits
 * (struct iface_desc / iface_item), and the allocation wrappers the model's
 * services use.
 *
 * Invariants: module descriptors and interface descriptions are static and
 * immutable; a module proves who it is by handing over the address of its
 * own descriptor (SPIN's THIS_MODULE()), which only code linked into the
 * module can name.  Extensions get a descriptor allocated by their loader.
 *
 * Callers: core services and trusted modules.  Not extensions (they see only
 * include/spindle/).
 *
 * Locking: none here (everything is immutable).
 *
 * Errors: commands across the model return 0 or a negated code below: the
 * Linux numbers of include/spindle/errno.h (those it lacks are added here
 * with Linux's values) and four of the model's own from 200 up.
 */
#ifndef SPINDLE_KERNEL_INTERFACE_H
#define SPINDLE_KERNEL_INTERFACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "runtime/embed.h"

#ifdef SPINDLE_KERNEL
#include "kernel/string.h"
#else
#include <string.h>
#endif
#include "kernel/heap.h"

/* Error codes (returned negated): spindle/errno.h's, plus the model's. */
#include "spindle/errno.h"
#ifndef EPERM
#define EPERM 1 /* not the owner or the authority of the object */
#endif
#ifndef ENOENT
#define ENOENT 2 /* no such event, name, symbol or binding */
#endif
#ifndef EBADF
#define EBADF 9 /* handle that names no slot (out of range, never issued) */
#endif
#ifndef ENOMEM
#define ENOMEM 12
#endif
#ifndef EACCES
#define EACCES 13 /* an authorizer said no */
#endif
#ifndef EBUSY
#define EBUSY 16 /* still in use (resolved against, exported, installed) */
#endif
#ifndef EEXIST
#define EEXIST 17 /* already installed / exported / declared */
#endif
#ifndef EINVAL
#define EINVAL 22
#endif
#ifndef ENOSPC
#define ENOSPC 28 /* a fixed-size table is full */
#endif
#ifndef ESTALE
#define ESTALE 116 /* a capability or externalized reference was revoked */
#endif
#define ESIG        200 /* a procedure's type does not match the declared signature */
#define EUNRESOLVED 201 /* a domain still has unresolved imports */
#define ECAPTYPE    202 /* a handle of one type presented as another */
#define EIMPURE     203 /* a guard that is not declared side-effect free */

/* Module flags. */
#define MODULE_TRUSTED    0x1 /* built with the kernel (native C) */
#define MODULE_PRIVILEGED 0x2 /* may import SpinPrivate */
#define MODULE_EXTENSION  0x4 /* verified extension */

/* A module: the unit of identity.  Compare by address, never by name. */
struct module {
	const char *name;
	uint32_t flags;
};

struct dispatch_event;

/* One declared procedure or event, as generated from interfaces/ *.idl. */
#define IFACE_EVENT   0x1 /* an event: raised through the dispatcher */
#define IFACE_PRIVATE 0x2 /* only in SpinPrivate */

struct iface_item {
	const char *name;              /* C and link name: Interface_Proc */
	const struct rt_sig *sig;      /* for events, sig->fn is the raise stub */
	uint32_t flags;                /* IFACE_* */
	const char *authority;         /* module that owns it (events: the intrinsic's module) */
	void *impl;                    /* procs: the implementation; events: the intrinsic
	                                * handler Interface_Proc_intrinsic; NULL if this
	                                * image does not link one in (weak reference) */
	struct dispatch_event **event; /* events: where the raise stub finds its event */
};

struct iface_desc {
	const char *name;        /* interface name, e.g. "Console" */
	const char *export_name; /* nameserver name, e.g. "ConsoleService" */
	const char *authority;
	uint32_t flags; /* IFACE_PRIVATE for a private interface */
	const struct iface_item *items;
	uint32_t nitems;
	const struct rt_type *const *types;
	uint32_t ntypes;
};

/* Every interface the build declared (generated). */
extern const struct iface_desc *const iface_all[];
extern const uint32_t iface_count;

/* Look a declared interface or procedure up by name (NULL if undeclared). */
const struct iface_desc *iface_find(const char *name);
const struct iface_item *iface_find_item(const char *symbol, const struct iface_desc **in);

/* Structural equality of two signatures (names and addresses ignored). */
bool iface_sig_equal(const struct rt_sig *a, const struct rt_sig *b);

/* Zeroed allocation for the model's services; NULL on exhaustion. */
static inline void *model_zalloc(size_t size)
{
	return kzalloc(size);
}

static inline void model_free(void *p)
{
	(void)kfree(p);
}

/* Copy a NUL-terminated name into a fixed buffer; false if it does not fit. */
static inline bool model_copy_name(char *dst, size_t size, const char *src)
{
	size_t n = strnlen(src, size);
	if (n == 0 || n >= size)
		return false;
	memcpy(dst, src, n + 1);
	return true;
}

#endif /* SPINDLE_KERNEL_INTERFACE_H */
