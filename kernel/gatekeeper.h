/*
 * kernel/gatekeeper.h: the Gatekeeper module (interfaces/gatekeeper.idl),
 * authority of the Gatekeeper.IntruderAlert event: the paper's example of an
 * event other modules handle.
 *
 * Owns: the alert threshold (Gatekeeper.Level), the event's intrinsic
 * handler (returns the level when it reaches the threshold, else 0), its
 * result handler (the most severe result wins: max) and its authorizer,
 * whose policy the kernel sets:
 *   GATEKEEPER_ALLOW  every install is allowed as asked;
 *   GATEKEEPER_DENY   every install by another module is refused (-EACCES);
 *   GATEKEEPER_GUARD  allowed, with an imposed guard: the handler sees only
 *                     alerts whose code equals the policy's argument;
 *   GATEKEEPER_ASYNC  allowed, constrained to run asynchronously (on the
 *                     async worker strand, kernel/dispatch_async.h).
 * Extensions install handlers from their initialiser; the authorizer sees
 * each request with the installer's module.  Aborted extension handlers
 * are disabled (the dispatcher's default) or, in report mode, kept and
 * counted by the event's abort hook.
 *
 * Callers: trusted modules and tests (policy, level); extensions through
 * SpinPublic (Level, IntruderAlert).  Locking: plain words (single CPU);
 * the authorizer runs under the dispatcher's lock.  Errors: 0 or -EINVAL.
 */
#ifndef KERNEL_GATEKEEPER_H
#define KERNEL_GATEKEEPER_H

#include <stdbool.h>
#include <stdint.h>

enum gatekeeper_policy {
	GATEKEEPER_ALLOW = 0,
	GATEKEEPER_DENY,
	GATEKEEPER_GUARD,
	GATEKEEPER_ASYNC,
};

int gatekeeper_init(void);
/* Installs from now on: an aborted extension handler keeps its binding and
 * is reported to the hook below (DISPATCH_ABORT_REPORT) instead of being
 * disabled (the default). */
void gatekeeper_set_abort_report(bool report);
/* Aborts reported since boot, and the last one's run status. */
uint64_t gatekeeper_aborts(uint32_t *last_status);
int gatekeeper_set_policy(enum gatekeeper_policy p, uint64_t code);
void gatekeeper_set_level(uint64_t level);
/* Installs the authorizer refused since boot. */
uint64_t gatekeeper_denied(void);

#endif /* KERNEL_GATEKEEPER_H */
