/*
 * asm.h - an assembler for the bpf_conformance suite's eBPF syntax, and a
 * parser for the suite's `.data` test files.
 *
 * Owns nothing persistent.  Used by tools (bpf-conformance, the JIT's
 * differential test, the verifier's corpus runner) and unit tests; it is
 * portable and freestanding-clean but nothing in the kernel needs it.
 *
 * Syntax (one instruction per line, `#` starts a comment, `name:` defines a
 * label; "exit" is also an implicit label for the first `exit` instruction,
 * as in the suite's reference assembler):
 *   ALU    add sub mul div sdiv mod smod or and xor lsh rsh arsh mov [32]
 *            %rD, %rS | imm        neg[32] %rD
 *          movsx{8,16,32}{32,64} %rD, %rS   (e.g. movsx832, movsx3264)
 *          le16/32/64, be16/32/64, swap16/32/64 (= bswap16/32/64) %rD
 *   JMP    ja TARGET   ja32 TARGET (gotol: 32-bit offset in imm)
 *          j{eq,ne,gt,ge,lt,le,set,sgt,sge,slt,sle}[32] %rD, %rS | imm, TARGET
 *          (TARGET is +N, -N or a label), exit
 *          call N (numbered helper), call local LABEL, call %rN (callx,
 *          encoded as clang-19 does: 0x8d with the register in dst)
 *   LD/ST  lddw %rD, imm64; ldx{b,h,w,dw} %rD, [%rS+off]; ldxs{b,h,w} (sign-
 *          extending); st{b,h,w,dw} [%rD+off], imm; stx{b,h,w,dw} [%rD+off], %rS
 *   ATOMIC lock [fetch] {add,or,and,xor}[32] [%rD+off], %rS;
 *          lock {xchg,cmpxchg}[32] [%rD+off], %rS
 * Numbers are decimal or 0x hex, optionally signed.  Registers %r0..%r15 (or
 * r0..r15) are accepted, because the suite encodes invalid register numbers
 * in negative tests; the interpreter and verifier refuse r11..r15.
 *
 * Errors: -RT_EINVAL with one line "line N: <reason>" in err; -RT_ENOMEM.
 */
#ifndef RUNTIME_ASM_H
#define RUNTIME_ASM_H

#include "runtime/bpf.h"
#include "runtime/rt.h"

#define RT_ASM_MAX_INSNS 65536

/* Assemble len bytes of text.  On success *out is an rt_alloc'd array of *n
 * instructions (the caller rt_free()s it). */
int rt_asm(const char *text, size_t len, struct bpf_insn **out, uint32_t *n, char *err,
           size_t errlen);

/* One `.data` test: its sections, pointing into the caller's text where
 * they are text, decoded where they are data. */
struct rt_asm_test {
	const char *asm_text; /* "-- asm" body, NULL if absent */
	size_t asm_len;
	struct bpf_insn *raw; /* "-- raw" words, rt_alloc'd, NULL if absent */
	uint32_t nraw;
	uint8_t *mem; /* "-- mem" bytes, rt_alloc'd, NULL if absent */
	uint32_t memlen;
	bool has_mem;
	bool has_result; /* "-- result" */
	uint64_t result;
	bool expect_error;      /* "-- error": the program must be refused */
	const char *error_text; /* its body (the reference's message) */
	size_t error_len;
};

/* Split a `.data` file into sections and decode mem/raw/result.  Unknown
 * sections ("-- c", "-- no register offset", ...) are ignored. */
int rt_asm_parse_test(const char *text, size_t len, struct rt_asm_test *t, char *err,
                      size_t errlen);
void rt_asm_test_free(struct rt_asm_test *t);

#endif
