/*
 * verify.h - the verifier's public face.
 *
 * rt_verify() proves one entry function of a linked program safe against the
 * embedder's description of its arguments and of everything it may call
 * (see DESIGN.md §3 and the runtime docs).  It runs in passes: control flow
 * (runtime/verify_cfg.c), then path-sensitive abstract interpretation of
 * registers and stack (verify_state.c, verify_mem.c, verify_call.c), with
 * diagnostics in verify_diag.c.  It fills prog->aux.
 *
 * A rejection returns -RT_EREJECT and fills res: the instruction index, the
 * source position when line info exists, a distinct code per rule, and one
 * readable line "FILE:LINE: error: insn N: <reason> (<state>)".
 */
#ifndef RUNTIME_VERIFY_H
#define RUNTIME_VERIFY_H

#include "runtime/prog.h"

struct rt_verify_opts {
	uint32_t max_states; /* budget on explored states (0: default) */
	char *log;           /* optional verbose log buffer (spin-verify -v) */
	size_t loglen;
};

struct rt_verify_result {
	int code;        /* enum rt_verr, 0 when accepted */
	uint32_t insn;   /* failing instruction */
	char msg[512];   /* the one-line message */
	uint32_t states; /* statistics: states explored */
	uint32_t insns_processed;
	uint32_t max_stack; /* deepest stack use across calls, bytes */
};

/*
 * Rejection codes: one per rule, stable (tests assert on them), named in
 * messages by verify_code_name() (runtime/verify_diag.c).
 */
enum rt_verr {
	RT_VERR_OK = 0,
	/* control flow and encoding (runtime/verify_cfg.c) */
	RT_VERR_BAD_OPCODE = 1, /* unknown or unsupported opcode */
	RT_VERR_CALLX,          /* indirect call (opcode 0x8d) */
	RT_VERR_LEGACY_LD,      /* legacy packet access BPF_ABS/BPF_IND */
	RT_VERR_RESERVED,       /* a reserved field is nonzero */
	RT_VERR_BAD_REG,        /* register number above r10 */
	RT_VERR_WRITE_FP,       /* r10 is read-only */
	RT_VERR_JUMP_RANGE,     /* jump outside the program */
	RT_VERR_JUMP_LDDW,      /* jump into the second slot of lddw */
	RT_VERR_LDDW,           /* malformed lddw (truncated, bad second slot, bad pseudo) */
	RT_VERR_UNREACHABLE,    /* instruction no path reaches */
	RT_VERR_NO_EXIT,        /* a path from here can never reach exit */
	RT_VERR_FALLTHROUGH,    /* execution falls off the end of a function */
	RT_VERR_JUMP_FUNC,      /* jump into another function */
	RT_VERR_CALL_TARGET,    /* local call target outside the program or into lddw */
	RT_VERR_RECURSION,      /* the local call graph has a cycle */
	RT_VERR_CALL_DEPTH,     /* more than BPF_MAX_CALL_DEPTH nested frames */
	RT_VERR_STACK_DEPTH,    /* frames on the deepest call chain exceed 512 bytes */
	RT_VERR_BAD_IMPORT,     /* call of an import that is not linked */
	RT_VERR_BAD_HELPER,     /* call of an unknown numbered helper */
	RT_VERR_BAD_GLOBAL,     /* lddw of a global region that does not exist */
	/* registers and stack (runtime/verify_state.c) */
	RT_VERR_UNINIT_REG = 30, /* read of an uninitialised register */
	RT_VERR_UNINIT_STACK,    /* read of an uninitialised stack byte */
	RT_VERR_EXIT_UNINIT,     /* r0 not initialised at exit */
	RT_VERR_EXIT_PTR,        /* a pointer returned in r0 (leak) */
	RT_VERR_PTR_ALU,         /* arithmetic on a pointer that would leak or forge it */
	RT_VERR_PTR_ALU32,       /* 32-bit ALU on a pointer */
	RT_VERR_REF_ALU,         /* arithmetic on a typed reference */
	RT_VERR_NULL_ALU,        /* arithmetic on a possibly-null pointer */
	RT_VERR_PTR_CMP,         /* pointer compared with a number or a different object */
	RT_VERR_PTR_SUB,         /* difference of pointers into different objects */
	RT_VERR_TOO_COMPLEX,     /* state budget exhausted */
	/* memory access (runtime/verify_mem.c) */
	RT_VERR_NULL_DEREF = 50, /* use of a possibly-null pointer */
	RT_VERR_DEREF_SCALAR,    /* load or store through a number */
	RT_VERR_STACK_OOB,       /* stack access outside [fp-512, fp) */
	RT_VERR_CTX_OOB,         /* context access outside its declared size */
	RT_VERR_GLOBAL_OOB,      /* global access outside its region */
	RT_VERR_MEM_OOB,         /* call-returned memory accessed outside its size */
	RT_VERR_REF_FIELD,       /* typed reference accessed outside a declared field */
	RT_VERR_READONLY,        /* store into read-only memory */
	RT_VERR_MISALIGNED,      /* misaligned access where alignment is required */
	RT_VERR_VAR_OFFSET,      /* variable offset where only a constant one is allowed */
	RT_VERR_PTR_STORE,       /* pointer stored outside the program's own stack */
	RT_VERR_PTR_PARTIAL,     /* partial store or load of a pointer */
	RT_VERR_STACK_ESCAPE,    /* stack pointer stored in or returned to an outer frame */
	RT_VERR_UNBOUNDED,       /* offset of a pointer not bounded */
	RT_VERR_ATOMIC_OP,       /* unknown atomic operation or size */
	RT_VERR_ATOMIC_TARGET,   /* atomic on memory that does not allow it */
	/* calls (runtime/verify_call.c) */
	RT_VERR_ARG_TYPE = 70,  /* argument of the wrong kind */
	RT_VERR_ARG_LEAK,       /* pointer passed where a number is expected */
	RT_VERR_ARG_SIZE,       /* memory+size argument not provably in bounds */
	RT_VERR_ARG_UNINIT,     /* memory argument not initialised */
	RT_VERR_ARG_REF_TYPE,   /* reference of the wrong type */
	RT_VERR_ARG_CTX,        /* not the unmodified entry context */
	RT_VERR_ARG_CONST_SIZE, /* fixed-size memory argument too small */
	RT_VERR_REF_LEAK,       /* acquired reference not released at exit */
	RT_VERR_REF_RELEASE,    /* release of a reference not held */
	RT_VERR_REF_TOO_MANY,   /* too many references held at once */
	RT_VERR_GUARD_CALL,     /* guard calls a procedure that is not pure */
	RT_VERR_GUARD_STORE,    /* guard stores outside its own stack */
	RT_VERR_ARG_PTR_SPILL,  /* memory argument contains a spilled pointer */
};

int rt_verify(struct rt_prog *p, uint32_t func, const struct rt_entry *entry,
              const struct rt_verify_opts *opts, struct rt_verify_result *res);

#endif
