/*
 * dispatch: events, handlers, guards and the dispatcher (SPIN §3.2, OSDI'96).
 *
 * An event is a declared interface procedure (interfaces/ *.idl, `event`).
 * Its authority is the module that declares it and provides its intrinsic
 * handler.  Raising the event is calling the procedure: the generated raise
 * stub Interface_Event() calls through one pointer, dispatch_event.fast.
 *
 *   - With exactly one handler that is native, unguarded, synchronous and
 *     takes no closure, `fast` IS that handler: a raise is a direct call.
 *   - Otherwise `fast` is the event's dispatch routine: one generated for
 *     the current handler set (kernel/dispatch_gen.h, arch/x86_64/
 *     dispatch_gen.c: unrolled direct calls, inline guard tests), or, when
 *     code memory is exhausted or generation is off, the slot's trampoline
 *     that walks the set (the reference semantics; dispatch_raise too).
 *
 * Owns: the event table (DISPATCH_MAX_EVENTS slots), every binding (one
 * installed handler with its guards, closure and constraints), each event's
 * immutable handler set, and the retired sets waiting for quiescence.
 *
 * Invariants:
 *   - a handler set is immutable once published; install and uninstall build
 *     a new one and publish it with one atomic pointer store, so a raiser
 *     sees either the old set or the new one, never a mixture;
 *   - a retired set (and a binding uninstalled with it) is freed only after
 *     every CPU has passed a quiescent state since it was retired (epochs,
 *     below), so no raiser can be reading it;
 *   - a handler's type equals the event's (plus a leading closure argument
 *     when it takes one); a guard takes the same arguments (and closure) and
 *     returns a boolean and is declared pure (RT_SIG_PURE; for extension
 *     guards the verifier enforces it through rt_entry.guard);
 *   - every change to an event's handlers is approved by the authority's
 *     authorizer, which may deny, allow, impose guards or add constraints;
 *   - a failing call changes nothing.
 *
 * Quiescence: each CPU counts how deeply it is inside raises (nest) and
 * records the grace-period counter it saw when it last left its outermost
 * raise or passed a quiescent point (seen).  A set retired at time T is
 * tagged with the counter incremented at T; it may be freed when every
 * CPU's record has reached that tag (kernel/dispatch.c).  Raisers only
 * touch their own CPU's counters (no shared writes, no fences on the raise
 * path); the reclaimer reads the others' with acquire loads, and the
 * raiser's stores are release stores.  A raise must stay on the CPU whose
 * counters it took (Preemption, below).
 *
 * Preemption.  A direct call (one native, unguarded, closure-free handler)
 * is just that: the handler runs preemptibly and owns its own safety (it
 * may block).  Every other raise goes through the event slot's entry, a
 * static function that disables preemption (arch_preempt_inc, one
 * instruction) before it loads the routine and jumps to it, so nothing can
 * reclaim the routine between the load and its first instruction.  A set
 * with extension code (a metered extension handler, guard or default, or
 * the unmetered form of one that calls interface procedures) runs
 * entirely with preemption disabled: its ledger frames and the CPU's raise
 * nesting are never interleaved with another strand's, and the strand does
 * not migrate (bounded: extension code runs on fuel, SPIN's EPHEMERAL
 * handlers); it re-enables on the way out and reschedules if an interrupt
 * asked for it.  A set of native code only (plain extension entries and
 * inline tests count as native) re-enables preemption as soon as it has counted itself in the
 * CPU's nesting, because its native handlers may block (a system call that
 * sleeps): such handlers must not migrate while inside the raise (pin the
 * strand) on SMP.  dispatch_preempt_depth() is this CPU's depth (hosted
 * builds: a plain counter standing in for it).
 *
 * Callers: core and trusted modules call everything here; extensions reach
 * installation through the Dispatcher interface with their module identity.
 *
 * Locking: mutations (create, install, uninstall, set_*) are serialised by
 * one spinlock; raises take no lock and never wait for a mutation.
 *
 * Errors: -EINVAL (bad option, anchor on another event, too many guards or
 * arguments), -ENOENT (unknown event), -ESIG (handler or guard of the wrong
 * type), -EIMPURE (guard not side-effect free), -EEXIST (double install),
 * -EPERM (not the binding's owner nor the authority), -EACCES (authorizer
 * denied), -ENOMEM, -ENOSPC.  dispatch_raise() returns DISPATCH_HANDLED or
 * DISPATCH_UNHANDLED (nothing handled it), or -ENOENT.
 */
#ifndef SPINDLE_KERNEL_DISPATCH_H
#define SPINDLE_KERNEL_DISPATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/interface.h"
#include "runtime/exec.h"

#define DISPATCH_MAX_EVENTS   256
#define DISPATCH_MAX_GUARDS   4 /* per binding: the installer's plus imposed ones */
#define DISPATCH_MAX_HELD     8 /* references one extension invocation may hold */
#define DISPATCH_MAX_CPUS     64
#define DISPATCH_DEFAULT_FUEL 100000u

/* Native handlers and guards: up to five 64-bit arguments (SysV). */
typedef uint64_t (*dispatch_fn)(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t);

/* A handler or guard procedure: native C (sig->fn) or a JIT-compiled
 * extension entry (jit, called with a fuel budget). */
struct dispatch_proc {
	const struct rt_sig *sig; /* its declared type */
	rt_jit_fn jit;            /* non-NULL: extension entry; sig->fn is ignored */
	const struct module *ext; /* the extension it belongs to (abort reports) */
};

/* Install options. */
#define DISPATCH_FIRST      0x01 /* run before every handler not marked FIRST */
#define DISPATCH_LAST       0x02 /* run after every handler not marked LAST */
#define DISPATCH_BEFORE     0x04 /* run immediately before `anchor` */
#define DISPATCH_AFTER      0x08 /* run immediately after `anchor` */
#define DISPATCH_CLOSURE    0x10 /* pass `closure` as a leading argument */
#define DISPATCH_ASYNC      0x20 /* asynchronous: runs on the async runner's strand */
#define DISPATCH_ORDER_MASK (DISPATCH_FIRST | DISPATCH_LAST | DISPATCH_BEFORE | DISPATCH_AFTER)

/* What happens to an extension handler whose run was aborted (fuel, fault). */
enum dispatch_abort_policy {
	DISPATCH_ABORT_DISABLE = 0, /* disable the binding; it stays until uninstalled */
	DISPATCH_ABORT_REPORT,      /* keep it and tell the authority (it may unload) */
};

struct dispatch_binding;
struct dispatch_event;

/* A guard: all of a binding's guards must hold for its handler to run. */
struct dispatch_guard {
	struct dispatch_proc proc;
	void *closure;
	bool has_closure;
};

/* A guard the dispatch routine tests inline instead of calling (native
 * installers and authorizers only): a conjunction of up to
 * DISPATCH_TEST_TERMS terms, each holding when lo <= v <= hi (unsigned),
 * where v is the raise's argument `arg` itself (off == DISPATCH_TEST_VALUE)
 * or the 64-bit field at byte `off` of the object that argument refers to
 * (the event must declare it a non-null reference).  Install it as
 *     (struct dispatch_guard){{&dispatch_test_sig, NULL, NULL}, &test, true}
 * with a test that never changes and outlives the binding.  The walk calls
 * dispatch_test_eval (the reference); generated routines compare in line,
 * so a guard such as "this process's personality, numbers below 1024" costs
 * a few instructions and no call.  Only the first four arguments. */
#define DISPATCH_TEST_TERMS 2
#define DISPATCH_TEST_VALUE 0xffffffffu
struct dispatch_test {
	uint32_t n;
	struct {
		uint32_t arg, off;
		uint64_t lo, hi;
	} t[DISPATCH_TEST_TERMS];
};
extern const struct rt_sig dispatch_test_sig;
uint64_t dispatch_test_eval(uint64_t test, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4);

/* What an installer asks for. */
struct dispatch_install_req {
	struct dispatch_proc handler;
	const struct dispatch_guard *guard; /* optional */
	void *closure;                      /* with DISPATCH_CLOSURE */
	uint32_t options;                   /* DISPATCH_* */
	struct dispatch_binding *anchor;    /* with BEFORE / AFTER */
	uint64_t fuel;                      /* extension handlers: time bound (0: event's) */
	const void *key;                    /* opaque token for the authorizer (passwords) */
	/* Optional, for extension handlers and guards: the same entry as an
	 * ordinary C function (rt_jit_plain: no loop and no call, so it can
	 * neither run out of fuel nor abort nor acquire anything).  The
	 * dispatcher then calls it as it calls native code. */
	rt_import_fn plain, guard_plain;
	/* Optional, the same for entries that call interface procedures
	 * (rt_jit_unmetered: loop-free, no import that may abort or that
	 * meters): a native entry that charges no fuel and cannot abort.
	 * Called with no budget, no status test and no ledger frame, so the
	 * installer must not offer one for a program that imports procedures
	 * that acquire or release references (the metered entry keeps its
	 * frame).  Unlike a plain entry it runs with preemption disabled, as
	 * metered code does: the procedures it calls expect that. */
	rt_import_fn unmetered, guard_unmetered;
	/* The most fuel the metered entry can charge (0 for a plain entry
	 * that calls nothing).  A native form (plain, unmetered or the inline
	 * test) is used only when the binding's fuel, after the authorizer,
	 * is at least this: then the metered run could not have stopped
	 * either, and both behave the same. */
	uint64_t worst, guard_worst;
	/* Optional, for an extension guard: its meaning as an inline test
	 * (struct dispatch_test, one term), which the routine then tests in
	 * line instead of calling the guard.  The installer vouches that it is
	 * exactly the guard's result (kernel/extension.c derives it from the
	 * verified code: runtime/guard_range.h); the dispatcher checks it is
	 * well formed for the event and keeps a copy. */
	const struct dispatch_test *guard_test;
};

enum dispatch_op {
	DISPATCH_OP_INSTALL = 1,
	DISPATCH_OP_UNINSTALL, /* someone other than the owner removes a binding */
	DISPATCH_OP_SET_DEFAULT,
	DISPATCH_OP_SET_RESULT,
};

/* What the authorizer sees and may change.  On entry `options`, `fuel` and
 * `policy` hold the request; the authorizer may add constraints (order,
 * async, a smaller fuel bound, the abort policy) and impose guards with
 * dispatch_impose_guard().  An ordering constraint it adds replaces the
 * installer's.  It returns 0 to allow or a negative code (normally -EACCES)
 * to deny.  Authorizers run with the dispatcher's lock held: they must not
 * install or uninstall (that returns -EBUSY). */
struct dispatch_decision {
	enum dispatch_op op;
	const struct dispatch_event *event;
	const struct module *requester;
	const struct dispatch_install_req *req; /* INSTALL: the request */
	const struct dispatch_binding *binding; /* UNINSTALL: the victim */
	uint32_t options;
	uint64_t fuel;
	enum dispatch_abort_policy policy;
	struct dispatch_guard imposed[DISPATCH_MAX_GUARDS];
	uint32_t nimposed;
};
typedef int (*dispatch_authorizer_fn)(void *arg, struct dispatch_decision *d);
int dispatch_impose_guard(struct dispatch_decision *d, const struct dispatch_guard *g);

/* Result handler: called once per handler result, in order; returns the new
 * accumulated result.  index is 0 for the first result (acc is then the
 * event's default result). */
typedef uint64_t (*dispatch_result_fn)(void *arg, uint64_t acc, uint64_t result, uint32_t index);

/* Told when an extension handler was aborted (status is an rt_status). */
typedef void (*dispatch_abort_fn)(void *arg, struct dispatch_binding *b, uint32_t status);

/* An event.  Only `fast` is for raisers; the rest is the dispatcher's. */
struct dispatch_event {
	dispatch_fn fast; /* call site: the direct handler or the slot's entry */
	dispatch_fn code; /* what the slot's entry runs: the routine or the walk */
	const char *name;
	const struct rt_sig *sig;
	const struct module *authority;
	struct dispatch_set *set;          /* current handler set (atomic) */
	struct dispatch_binding *bindings; /* installed, in order (mutators only) */
	struct dispatch_binding *intrinsic;
	dispatch_authorizer_fn authorizer;
	void *authorizer_arg;
	dispatch_result_fn result_fn;
	void *result_arg;
	uint64_t default_result;
	struct dispatch_proc default_handler;
	void *default_closure;
	bool has_default, default_has_closure;
	dispatch_abort_fn on_abort;
	void *on_abort_arg;
	uint64_t default_fuel;
	uint64_t unhandled; /* raises through `fast` that nothing handled */
	bool exclusive;     /* dispatch_set_exclusive */
	uint32_t slot;
	bool live;
};

/* How one raise went. */
#define DISPATCH_HANDLED   0
#define DISPATCH_UNHANDLED 1

struct dispatch_outcome {
	uint64_t result;
	uint32_t fired;   /* handlers that ran to completion (default included) */
	uint32_t aborted; /* extension handlers aborted */
	bool defaulted;   /* the default handler ran */
};

int dispatch_init(void);

/* Declare an event.  intrinsic (optional) is the authority's own handler,
 * installed as the first binding and owned by the authority. */
int dispatch_event_create(const char *name, const struct rt_sig *sig,
                          const struct module *authority, const struct dispatch_proc *intrinsic,
                          struct dispatch_event **out);
/* Remove an event: authority only, and only with no other module's bindings. */
int dispatch_event_destroy(struct dispatch_event *ev, const struct module *requester);
struct dispatch_event *dispatch_event_lookup(const char *name);

/* Authority only. */
int dispatch_set_authorizer(struct dispatch_event *ev, dispatch_authorizer_fn fn, void *arg,
                            const struct module *requester);
int dispatch_set_abort_hook(struct dispatch_event *ev, dispatch_abort_fn fn, void *arg,
                            const struct module *requester);
/* Exclusive dispatch (SPIN's Opt.Cancel applied to every handler): handlers
 * are tried in order and the first whose guards hold (and that is not
 * disabled or aborted) is the only one that runs; its result is the raise's.
 * For events whose handlers' guards partition the arguments (a system call
 * served by one personality): the routine stops at the first acceptance.
 * Authority only. */
int dispatch_set_exclusive(struct dispatch_event *ev, bool exclusive,
                           const struct module *requester);
/* The authority, or anyone its authorizer allows. */
int dispatch_set_result(struct dispatch_event *ev, dispatch_result_fn fn, void *arg,
                        uint64_t default_result, const struct module *requester);
int dispatch_set_default(struct dispatch_event *ev, const struct dispatch_proc *handler,
                         void *closure, bool has_closure, const struct module *requester);

int dispatch_install(struct dispatch_event *ev, const struct dispatch_install_req *req,
                     const struct module *requester, struct dispatch_binding **out);
int dispatch_uninstall(struct dispatch_binding *b, const struct module *requester);
/* Drop every binding owned by m (extension unload). */
int dispatch_uninstall_all(const struct module *m);

/* Raise with an explicit status; out (optional) tells what ran. */
int dispatch_raise(struct dispatch_event *ev, const uint64_t args[5], struct dispatch_outcome *out);

/* Raise as a call (what the generated stubs do): a direct call when the set
 * allows it.  Nothing handled it: returns the default result and counts. */
static inline uint64_t dispatch_call(const struct dispatch_event *ev, uint64_t a1, uint64_t a2,
                                     uint64_t a3, uint64_t a4, uint64_t a5)
{
	dispatch_fn f = __atomic_load_n(&ev->fast, __ATOMIC_ACQUIRE);
	return f(a1, a2, a3, a4, a5);
}

/*
 * Asynchronous bindings (DISPATCH_ASYNC, asked by the installer or added by
 * the authority's authorizer).  A raise hands each one, with a copy of the
 * arguments, to the runner registered here and goes on without it: its
 * guards and handler run later on the runner's strand (kernel/
 * dispatch_async.c), with the same fuel, ledger and abort policy as a
 * synchronous one, and its result does not reach the raiser.  Only events
 * whose arguments are all scalars may have asynchronous bindings (-EINVAL
 * at install): anything else would point into the raiser's stack.  Until a
 * runner is registered asynchronous bindings are recorded and never run.
 * The runner's queue must not block (raises come from any context); cancel
 * is called, with the dispatcher's lock held, when an asynchronous binding
 * is uninstalled, so no queued run outlives it.
 */
typedef bool (*dispatch_async_fn)(struct dispatch_binding *b, const uint64_t a[5]);
typedef void (*dispatch_async_cancel_fn)(struct dispatch_binding *b);
int dispatch_set_async_runner(dispatch_async_fn run, dispatch_async_cancel_fn cancel);
/* The runner's half: run b's guards and handler now.  The caller must have
 * disabled preemption before it took b from its queue and keep it disabled
 * until this returns (b is reclaimable as soon as this CPU passes a
 * quiescent point; -EINVAL if preemption is on).  Returns 1 if the
 * handler ran (*result, if non-NULL, gets its result), 0 if a guard said
 * no, DISPATCH_ASYNC_ABORTED if it was aborted (its policy applied), or
 * -ENOENT if b is no longer installed or is disabled. */
#define DISPATCH_ASYNC_ABORTED 2
int dispatch_run_async(struct dispatch_binding *b, const uint64_t a[5], uint64_t *result);

/* This CPU's preemption-disable depth as the dispatcher sees it (kernel:
 * arch_preempt_count; hosted: the counter the routines increment). */
uint32_t dispatch_preempt_depth(void);

/* Introspection (tests, the shell). */
bool dispatch_is_direct(const struct dispatch_event *ev);
/* The call site is a routine generated for the current set (not the walk). */
bool dispatch_is_generated(const struct dispatch_event *ev);
/* Generate routines for sets built from now on (default on); off, every
 * non-direct event walks its set.  Returns the previous setting.  Tests and
 * the benchmark compare the two. */
bool dispatch_set_codegen(bool on);
uint32_t dispatch_handler_count(const struct dispatch_event *ev);
/* Bindings on ev owned by modules other than its authority. */
uint32_t dispatch_foreign_bindings(const struct dispatch_event *ev);
bool dispatch_binding_disabled(const struct dispatch_binding *b);
uint32_t dispatch_binding_aborts(const struct dispatch_binding *b);
const struct module *dispatch_binding_owner(const struct dispatch_binding *b);
/* How b's extension code is called (install_req's native forms in use). */
#define DISPATCH_FORM_NATIVE_HANDLER 0x1 /* the handler's plain or unmetered form */
#define DISPATCH_FORM_NATIVE_GUARD   0x2 /* a guard's plain or unmetered form */
#define DISPATCH_FORM_INLINE_GUARD   0x4 /* the guard as an inline test (guard_test) */
uint32_t dispatch_binding_forms(const struct dispatch_binding *b);

/*
 * Acquisition ledger.  While an extension handler runs, interface
 * procedures that hand it a reference it must release (`acquire` in the
 * IDL) note it here, and those that take one back (`release`) strike it
 * out.  If the handler is aborted, the dispatcher calls each release hook
 * still noted, so nothing it acquired leaks.  Outside an extension
 * invocation these are no-ops.  The generated wrappers for extension
 * imports call them; kernel code never needs to.
 */
void dispatch_note_acquire(void *ref, void (*release)(void *ref));
void dispatch_note_release(void *ref);

/* Quiescence: free what no raiser can still see.  Returns how many objects
 * are still waiting.  The scheduler calls it at quiescent points. */
uint32_t dispatch_reclaim(void);
uint32_t dispatch_cpu_self(void);
/* Is this CPU inside a raise (a handler, guard or authorizer hook runs)? */
bool dispatch_inside_raise(void);
/* Wait until every CPU has left every raise it was in when this was called,
 * so code that no current handler set names can be freed (extension
 * unload).  -EBUSY, without waiting, when called from inside a raise on
 * this CPU (it would wait for itself). */
int dispatch_synchronize(void);

#endif /* SPINDLE_KERNEL_DISPATCH_H */
