/*
 * rt.h - what the extension runtime needs from whoever embeds it.
 *
 * The runtime (loader, verifier, interpreter, JIT) is one portable library
 * compiled freestanding into the kernel and hosted into tools, tests and
 * fuzzers.  It never calls libc directly: everything it needs from its
 * environment goes through the functions declared here, which the kernel
 * implements in kernel/ and the hosted build implements in runtime/host_env.c.
 *
 * Memory: rt_alloc/rt_free for ordinary data (may return NULL: every caller
 * handles exhaustion with -RT_ENOMEM).  Code memory is W^X: rt_code_alloc
 * returns writable, non-executable memory; rt_code_seal makes it read+execute
 * and never writable again; rt_code_free releases it.
 *
 * Errors: every runtime command returns 0 or a negative RT_E* code.
 */
#ifndef RUNTIME_RT_H
#define RUNTIME_RT_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdarg.h>

#ifdef SPINDLE_KERNEL
#include "kernel/string.h"
#else
#include <string.h>
#endif

void *rt_alloc(size_t size); /* zeroed */
void rt_free(void *p);
void *rt_code_alloc(size_t size);       /* RW, not executable */
int rt_code_seal(void *p, size_t size); /* -> RX; 0 or -RT_ENOMEM */
void rt_code_free(void *p, size_t size);

/* Formatting for diagnostics: snprintf semantics (always NUL-terminates when
 * size > 0, returns the length the full output would have).  Hosted it is
 * vsnprintf; in the kernel, fmt_vsnprintf (kernel/fmt.h).  runtime/rt.c. */
int rt_snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int rt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/* Error codes (returned negated). */
enum {
	RT_OK = 0,
	RT_ENOMEM = 1,     /* allocation failed */
	RT_EINVAL = 2,     /* bad argument from the caller */
	RT_EMALFORMED = 3, /* the object or bytecode is malformed (loader) */
	RT_EUNSUPP = 4,    /* well-formed but uses something Spindle refuses */
	RT_EREJECT = 5,    /* the verifier refused the program */
	RT_ENOENT = 6,     /* unknown import, entry or name */
	RT_E2BIG = 7,      /* over a size limit */
};

/* Run status of an invocation (interpreter or JIT), distinct from errors. */
enum rt_status {
	RT_RUN_OK = 0,
	RT_RUN_FUEL = 1,    /* the fuel budget ran out: aborted at a back-edge or call */
	RT_RUN_FAULT = 2,   /* interpreter checking mode: access outside allowed regions */
	RT_RUN_DEPTH = 3,   /* call depth exceeded (interpreter on unverified code) */
	RT_RUN_BADINSN = 4, /* interpreter met an instruction it cannot run */
	RT_RUN_HELPER = 5,  /* a called interface procedure asked to abort the program */
};

#endif
