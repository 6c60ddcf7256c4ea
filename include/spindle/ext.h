/*
 * spindle/ext.h: what every extension includes (hand-written; the
 * per-interface headers next to it are generated).
 *
 * Extensions are C compiled with `clang-19 -O2 -g -target bpf -c` and
 * include <spindle/INTERFACE.h> for each interface they call.  Calls to
 * those `extern` procedures are imports: the loader records them and the
 * kernel resolves them against the extension's domain at link time, so an
 * extension that calls a procedure its domain does not offer (a private
 * one, say) fails to link with a message naming it.
 *
 * Markers:
 *   SPINDLE_HANDLER(Interface_Event)  a handler for that event; it takes
 *                                     the event's arguments and returns its
 *                                     result type (section handler/EVENT)
 *   SPINDLE_GUARD(Interface_Event)    a guard for that event: the same
 *                                     arguments, returns nonzero to let the
 *                                     handler run; it may call only [pure]
 *                                     procedures and store only to its own
 *                                     stack (the verifier checks it)
 *   SPINDLE_EXPORT                    a procedure the extension exports;
 *                                     its name must be declared in an
 *                                     interface (Interface_Proc) and its
 *                                     type is the declared one
 *   SPINDLE_INIT                      the initialiser: u64 init(void), run
 *                                     once after load (section initcall); it
 *                                     installs the extension's handlers
 *                                     with Dispatcher_Install
 *                                     (<spindle/dispatcher.h>) and returns
 *                                     0, or non-zero to refuse the load
 *   SPINDLE_LICENSE("...")            the license string of the object
 *
 * See docs/extensions.md for the whole story (load, verify, JIT, link,
 * install, unload) and docs/interfaces.md for what can be imported.
 */
#ifndef SPINDLE_PUBLIC_EXT_H
#define SPINDLE_PUBLIC_EXT_H

#ifndef __bpf__
#error "spindle/ext.h is for extensions: compile with clang -target bpf"
/* Dispatcher_Install options. */
#define SPINDLE_FIRST 0x1 /* run before the handlers not marked FIRST */
#define SPINDLE_LAST  0x2 /* run after the handlers not marked LAST */

/* Install "handler" or "handler,guard" from a string literal. */
#define SPINDLE_INSTALL(spec, options) Dispatcher_Install(spec, sizeof(spec) - 1, options)

#endif

typedef unsigned long long u64;
typedef long long s64;
typedef unsigned int u32;
typedef unsigned char u8;

#define SPINDLE_HANDLER(event) __attribute__((section("handler/" #event), used))
#define SPINDLE_GUARD(event)   __attribute__((section("guard/" #event), used))
#define SPINDLE_EXPORT         __attribute__((section(".text"), used))
#define SPINDLE_INIT           __attribute__((section("initcall"), used))
#define SPINDLE_LICENSE(text)  char _license[] __attribute__((section("license"), used)) = text

/* Dispatcher_Install options. */
#define SPINDLE_FIRST 0x1 /* run before the handlers not marked FIRST */
#define SPINDLE_LAST  0x2 /* run after the handlers not marked LAST */

/* Install "handler" or "handler,guard" from a string literal. */
#define SPINDLE_INSTALL(spec, options) Dispatcher_Install(spec, sizeof(spec) - 1, options)

#endif
