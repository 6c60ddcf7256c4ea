/*
 * embed.h - the embedder interface: what a program may call and what it is
 * given at entry.
 *
 * The runtime knows nothing of domains, events or kernel objects.  The
 * embedder (the kernel's domain/linker layer, a test, bpf-run) describes
 *   - each procedure a program may import: its native address and a typed
 *     signature (struct rt_sig), found by name (rt_embed.lookup) or, for the
 *     conformance suite's numbered helpers, by number (rt_embed.helper);
 *   - each entry point's arguments (struct rt_entry): r1..r5 kinds;
 *   - the opaque types of typed references (struct rt_type).
 * The verifier checks every call against the signature, the loader/linker
 * uses the address, the JIT emits a direct call to it, and the interpreter
 * calls it through rt_sig.fn.  Native procedures follow the SysV ABI with up
 * to five uint64_t arguments and a uint64_t result.
 *
 * These descriptions are immutable and owned by the embedder; the runtime
 * keeps pointers to them for the life of the program.
 */
#ifndef RUNTIME_EMBED_H
#define RUNTIME_EMBED_H

#include <stdint.h>
#include <stdbool.h>

/* A field range of a typed reference that a program may read (and write). */
struct rt_field {
	const char *name;
	uint32_t off, size;
	bool writable;
};

/* An opaque kernel type handed to programs as a typed reference.  With no
 * fields, the program can only pass the reference on to calls that declare
 * this type (Console.T in the paper's Gatekeeper example). */
struct rt_type {
	const char *name;
	uint32_t size;
	const struct rt_field *fields;
	uint32_t nfields;
};

enum rt_arg_kind {
	RT_ARG_NONE = 0,     /* no argument in this position */
	RT_ARG_SCALAR,       /* any initialised number; pointers refused (no leaks) */
	RT_ARG_MEM,          /* pointer to readable memory; its size is the next arg */
	RT_ARG_MEM_RW,       /* pointer to writable memory; its size is the next arg */
	RT_ARG_MEM_OR_NULL,  /* like RT_ARG_MEM, or the constant 0 */
	RT_ARG_SIZE,         /* size of the previous MEM arg; proven in bounds */
	RT_ARG_CONST_MEM,    /* pointer to readable memory of exactly .size bytes */
	RT_ARG_CONST_MEM_RW, /* pointer to writable memory of exactly .size bytes (out-param) */
	RT_ARG_REF,          /* typed reference of .type, non-null */
	RT_ARG_REF_OR_NULL,  /* typed reference of .type, or 0 */
	RT_ARG_CTX,          /* the entry context pointer (r1 at entry), unmodified */
};

struct rt_arg {
	enum rt_arg_kind kind;
	const struct rt_type *type; /* RT_ARG_REF*, else NULL */
	uint32_t size;              /* RT_ARG_CONST_MEM* */
	bool release;               /* RT_ARG_REF: the call releases this reference */
};

enum rt_ret_kind {
	RT_RET_VOID = 0, /* r0 is left uninitialised for the program */
	RT_RET_SCALAR,
	RT_RET_REF,         /* typed reference of .type, non-null */
	RT_RET_REF_OR_NULL, /* must be tested against 0 before use */
	RT_RET_MEM_OR_NULL, /* pointer to .size bytes (writable if .writable), or 0 */
};

struct rt_ret {
	enum rt_ret_kind kind;
	const struct rt_type *type;
	uint32_t size;
	bool writable;
	bool acquire; /* the reference must be released before exit */
};

/* Signature flags. */
#define RT_SIG_PURE     0x1 /* no side effects: callable from guards */
#define RT_SIG_MAYABORT 0x2 /* may end the program with RT_RUN_HELPER */
/* The procedure is itself metered code with the JIT's entry convention
 * (runtime/exec.h, "Shared budgets"): the JIT passes the caller's remaining
 * budget in r9 and takes back what is left from r9, so one invocation has
 * one budget across domains.  JIT only: the interpreter does not yet honour
 * it, so only a program run by the JIT may import such a procedure. */
#define RT_SIG_FUEL 0x4

/* A procedure that is one 64-bit read of its first argument's object: the
 * JIT may emit `r0 = *(u64 *)(r1 + off[k])` instead of the call, with k 0
 * for a procedure of one argument and, for two, the constant the program
 * passes in r2 when the JIT sees it set in the same straight-line code and
 * it is below n (else the call, which must answer the same).  The embedder
 * vouches for the equivalence (MachineTrap.Number and .Arg: fields of the
 * saved registers) and registers the form once, before any program that
 * imports the procedure is compiled (rt_inline_register);
 * fuel is charged as for the call. */
struct rt_inline {
	const struct rt_sig *sig;
	uint8_t n; /* 1..8 */
	uint16_t off[8];
};

/* Register inl (kept; at most RT_INLINE_MAX, -RT_E2BIG past that) and
 * find the form registered for sig (NULL: none).  Registration is done at
 * start-up, before any compile; lookups only read. */
#define RT_INLINE_MAX 16
int rt_inline_register(const struct rt_inline *inl);
const struct rt_inline *rt_inline_find(const struct rt_sig *sig);

struct rt_sig {
	const char *name;
	void *fn;      /* native address */
	uint8_t nargs; /* 0..5 */
	struct rt_arg args[5];
	struct rt_ret ret;
	uint32_t flags; /* RT_SIG_* */
};

/* What r1..r5 hold when an entry point starts.  RT_ARG_CONST_MEM[_RW] with
 * .size gives a pointer to a context of that size; RT_ARG_REF a typed
 * reference; RT_ARG_SCALAR a number; RT_ARG_NONE leaves the register
 * uninitialised.  `guard` marks a guard: only RT_SIG_PURE calls and no stores
 * outside the program's own stack. */
struct rt_entry {
	struct rt_arg args[5];
	bool guard;
};

struct rt_embed {
	/* Look up an import by name; NULL if the program may not see it. */
	const struct rt_sig *(*lookup)(void *arg, const char *name);
	/* Look up a numbered helper (conformance suite only); NULL if none. */
	const struct rt_sig *(*helper)(void *arg, int32_t id);
	void *arg;
};

#endif
