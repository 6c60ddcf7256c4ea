/*
 * toolkit.h - what the hosted tools share: reading files, the `.data`
 * format's extras, walking directories of test files, the default entry and
 * one run on one engine.
 *
 * Owns nothing but the memory it hands back (the caller frees it, as each
 * function says).  For hosted programs only: the tools (tools/NAME.c), fuzz/gen_corpus.c
 * and tests/unit/jit_test.c; never built into the kernel or the runtime
 * library (mk/runtime.mk links tools/toolkit.c into every tool).  Single
 * threaded; no locking.
 *
 * Errors: functions returning a pointer return NULL with errno set;
 * tk_data_program and tk_run return 0 or a negative code with a message in
 * the caller's buffer; tk_walk returns what its callback returned.
 */
#ifndef TOOLS_TOOLKIT_H
#define TOOLS_TOOLKIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "runtime/asm.h"
#include "runtime/exec.h"
#include "runtime/prog.h"

/* All of f from where it stands to its end, NUL-terminated (*len excludes
 * the NUL); malloc'd.  NULL with errno on a read error or out of memory. */
char *tk_read_fp(FILE *f, size_t *len);

/* All of the file at path, as tk_read_fp. */
char *tk_read_file(const char *path, size_t *len);

/* The last component of path (after the last '/'). */
const char *tk_basename(const char *path);

/* Whether name ends in suffix (and is longer than it). */
bool tk_has_suffix(const char *name, const char *suffix);

/* The argument of the `.data` section "-- NAME" into out: the word after
 * the name on the same line, or else the first word of the next line that
 * is not a `#` comment.  False when there is no such section or it is
 * empty.  (Our own sections: -- entry, -- verifier-error.) */
bool tk_data_section(const char *text, const char *name, char *out, size_t outlen);

/* A parsed `.data` test's program: a copy of its -- raw words when it has
 * them, else its -- asm assembled.  *insns is rt_alloc'd (rt_free it, also
 * on failure).  0, or a negative RT_E* code with the assembler's message
 * (or "no program", "out of memory") in err. */
int tk_data_program(const struct rt_asm_test *t, struct bpf_insn **insns, uint32_t *n, char *err,
                    size_t errlen);

/* The conformance suite's entry convention: r1 = the test memory, writable,
 * of exactly memlen bytes (the scalar 0 when there is none), r2 a scalar
 * (its length). */
void tk_default_entry(struct rt_entry *e, bool has_mem, uint32_t memlen);

/* How the tool's embedder learns the current run's ledger (runtime/exec.h,
 * "References held by one run"), e.g. ext_env_set_ledger; NULL (the
 * default) when its procedures acquire nothing.  Set once by the tool. */
extern void (*tk_set_ledger)(struct rt_ledger *l);

/* Run p's function func once, on the interpreter in checking mode over
 * regs[0..nregs) or on a fresh JIT compilation.  run->fuel is the budget.
 * With tk_set_ledger set, the run has a ledger (run->ledger, or one of
 * tk_run's own when that is NULL) installed for its duration, so a run
 * stopped by the fuel or an aborting procedure releases what it held.
 * 0 with *run filled in (whatever its status), or -1 with why: "jit
 * compile: ..." or "jit|interpreter: error N". */
int tk_run(const struct rt_prog *p, uint32_t func, bool jit, const uint64_t args[5],
           const struct rt_region *regs, uint32_t nregs, struct rt_run *run, char *why,
           size_t whylen);

/* What tk_walk reports for a path. */
enum tk_walk_event {
	TK_WALK_FILE,     /* anything that is not a directory */
	TK_WALK_MISSING,  /* the path given cannot be stat'd (errno says why) */
	TK_WALK_UNOPENED, /* a directory that cannot be read (errno says why) */
};

/* Called for each path; a nonzero return stops the walk. */
typedef int (*tk_walk_fn)(const char *path, enum tk_walk_event ev, void *arg);

#define TK_WALK_RECURSE      0x1u /* descend into subdirectories */
#define TK_WALK_DATA_ONLY    0x2u /* in directories, only the files named *.data */
#define TK_WALK_SKIP_PENDING 0x4u /* in directories, pass over names ending -pending */

/*
 * Call fn for path: for a file, once; for a directory, for each entry in
 * name order (strcmp), skipping names that begin with '.', descending into
 * subdirectories only with TK_WALK_RECURSE (depth first, at their place in
 * the order).  An entry inside a directory that cannot be stat'd is
 * reported as a file (reading it will say why).  0, fn's first nonzero
 * return, or -1 with errno = ENOMEM.
 */
int tk_walk(const char *path, unsigned flags, tk_walk_fn fn, void *arg);

#endif
