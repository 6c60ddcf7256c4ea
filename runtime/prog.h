/*
 * prog.h - a loaded eBPF program, the object every runtime pass shares.
 *
 * The loader (runtime/loader.c) builds a struct rt_prog from a clang BPF
 * relocatable object, or rt_prog_from_raw() from bare bytecode.  All code
 * sections are concatenated into one instruction array; every function
 * symbol becomes an rt_func with its start index.  Relocations are applied
 * into the pseudo forms described in bpf.h, so after loading:
 *   - every local call is pc-relative inside insns[];
 *   - every import call names an entry of imports[] (resolved later against
 *     the embedder by rt_prog_link(); until then imports[i].sig is NULL);
 *   - every global address names a region of globals[] plus an offset.
 * The verifier then checks an entry function against an rt_entry and fills
 * aux[]; the interpreter runs insns[] directly; the JIT compiles insns[].
 *
 * Ownership: rt_prog_free() releases everything the prog owns, including the
 * global regions' memory.  Not thread-safe; a prog is built and verified by
 * one thread, then run concurrently (runs only read it, except that programs
 * may write their own .data/.bss regions).
 */
#ifndef RUNTIME_PROG_H
#define RUNTIME_PROG_H

#include "runtime/bpf.h"
#include "runtime/embed.h"
#include "runtime/rt.h"

#define RT_MAX_INSNS   (1u << 20)
#define RT_MAX_FUNCS   1024
#define RT_MAX_IMPORTS 256
#define RT_MAX_GLOBALS 16

enum rt_global_kind { RT_GLOBAL_DATA, RT_GLOBAL_RODATA, RT_GLOBAL_BSS };

/* One global data region: .data, .rodata (read-only to the program), .bss. */
struct rt_global {
	char name[32]; /* section name, e.g. ".data", ".rodata.str1.1" */
	enum rt_global_kind kind;
	uint8_t *data; /* rt_alloc'd, size bytes, 8-byte aligned */
	uint32_t size;
};

struct rt_func {
	char name[64];
	char section[64];    /* e.g. "handler/net.udp", ".text" */
	uint32_t start, end; /* insn index range [start, end) */
	bool global;         /* exported (STB_GLOBAL) */
	bool entry;          /* may be an entry point (global, or in a non-.text section) */
};

struct rt_import {
	char name[64];
	const struct rt_sig *sig; /* NULL until linked */
	uint32_t btf_proto;       /* BTF type id of its FUNC_PROTO, 0 if unknown */
};

/* Source position of an instruction, from .BTF.ext line info. */
struct rt_line {
	uint32_t insn;
	const char *file; /* points into the prog's string storage */
	const char *text; /* the source line itself, may be NULL */
	uint32_t line, col;
};

/* Per-instruction facts the verifier hands to later passes. */
struct rt_aux {
	uint8_t flags;
};
#define RT_AUX_SEEN     0x01 /* reached by the verifier */
#define RT_AUX_BACKEDGE 0x02 /* a jump to an earlier or equal index: fuel is metered */
#define RT_AUX_LDDW2    0x04 /* second slot of an lddw */

struct rt_prog {
	struct bpf_insn *insns;
	uint32_t ninsns;
	struct rt_func *funcs;
	uint32_t nfuncs;
	struct rt_import *imports;
	uint32_t nimports;
	struct rt_global globals[RT_MAX_GLOBALS];
	uint32_t nglobals;
	struct rt_line *lines; /* sorted by insn */
	uint32_t nlines;
	struct rt_aux *aux; /* ninsns entries, filled by the verifier */
	char *strings;      /* storage for names and source text */
	void *btf;          /* parsed BTF (runtime/btf.h), NULL without -g */
	char license[64];
};

/* Build a program from a clang BPF object.  On error, returns -RT_E* and, if
 * err is non-NULL, writes one readable line naming the problem. */
int rt_prog_load_elf(const void *image, size_t size, struct rt_prog **out, char *err,
                     size_t errlen);
/* Build a program with a single entry function from bare bytecode. */
int rt_prog_from_raw(const struct bpf_insn *insns, uint32_t n, struct rt_prog **out, char *err,
                     size_t errlen);
/* Resolve every import against the embedder; fails naming the first import
 * the embedder does not offer. */
int rt_prog_link(struct rt_prog *p, const struct rt_embed *env, char *err, size_t errlen);
void rt_prog_free(struct rt_prog *p);

const struct rt_func *rt_prog_find_func(const struct rt_prog *p, const char *name);
/* Source position of insn, or NULL when the object has no line info. */
const struct rt_line *rt_prog_line(const struct rt_prog *p, uint32_t insn);

#endif
