/*
 * kernel/strand_events.h: the Strand interface's events (interfaces/
 * strand.idl, SPIN Figure 4) and the capabilities that decide who may
 * handle them.
 *
 * The global scheduler raises Strand.Block, Unblock, Checkpoint and Resume
 * at its four EVENT seams (kernel/sched.c) by calling the generated raise
 * stubs; virtual processors (kernel/vproc.c) raise Block and Unblock on
 * their user-level threads.  This module is the events' authority:
 *   - intrinsic handlers: Checkpoint/Resume call the owning thread
 *     package's callbacks (struct strand_package) of a kernel strand;
 *     Block/Unblock have no default work (the scheduler has done it at the
 *     seam).  While they are the only handlers a raise is a direct call;
 *   - an authorizer on each event (and on VProc.Pick, which vproc.c
 *     declares): a module may install a handler only if it holds a strand
 *     capability, and the handler gets an imposed guard that lets it run
 *     only for the strands that capability covers (the paper's "ensure that
 *     extensions do not install handlers on strands for which they do not
 *     possess a capability").  A revoked capability's guard is false.
 *
 * Capabilities: strandev_grant() issues one (STRANDEV_CAP_TYPE in
 * cap_kernel) to a holder named by module name: the kernel grants it
 * before loading the extension of that name, and the first module of that
 * name to install binds it (later installs must come from the same module
 * object, so an unloaded and reloaded extension needs a new grant).  What
 * the capability covers is the granter's predicate (a virtual processor:
 * its strand and its threads).
 *
 * Callers: kmain (init), the scheduler (raises), vproc.c (grants, raises),
 * tests.  Extensions only install handlers (Dispatcher_Install) and call
 * Strand_Thread.  Locking: the grant table is changed by one loader at a
 * time; the authorizer runs under the dispatcher's lock; the guard reads a
 * grant and checks its capability (no lock, O(1)).
 * Errors: -EINVAL, -ENOSPC (grant table full), -ENOENT (no such grant),
 * -EACCES (installer holds no strand capability: strandev_refusal() has
 * the sentence).
 */
#ifndef KERNEL_STRAND_EVENTS_H
#define KERNEL_STRAND_EVENTS_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/cap.h"
#include "kernel/dispatch.h"
#include "spindle_interfaces.h"

#define STRANDEV_CAP_TYPE   81u
#define STRANDEV_MAX_GRANTS 256 /* slots are never reused (guards name them) */
#define STRANDEV_HOLDER_MAX 48

/* Does the capability cover obj (a Strand.T or VProc.T reference)?  Pure:
 * it runs as a guard on every raise. */
typedef bool (*strandev_covers_fn)(void *arg, const void *obj);

int strandev_init(void);
/* Grant holder (an extension name) a capability covering what covers says. */
int strandev_grant(const char *holder, strandev_covers_fn covers, void *arg, cap_t *out);
int strandev_revoke(cap_t cap);
/* The authorizer for capability-guarded events (the four Strand events and
 * VProc.Pick).  arg: the event's guard signature (strandev_guard_sig). */
int strandev_authorize(void *arg, struct dispatch_decision *d);
/* Build the guard signature for an event whose first argument is the
 * guarded reference: (closure, the event's arguments) -> scalar, pure. */
void strandev_guard_sig(const struct rt_sig *event, struct rt_sig *out);
/* The last refusal, as one sentence (tests, the console). */
const char *strandev_refusal(void);
uint64_t strandev_refusals(void);

#endif /* KERNEL_STRAND_EVENTS_H */
