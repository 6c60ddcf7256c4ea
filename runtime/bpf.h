/*
 * bpf.h - the eBPF instruction set (RFC 9669) as Spindle's runtime sees it.
 *
 * Owns: the instruction encoding shared by the loader, verifier, interpreter
 * and JIT.  Nothing here allocates or has state.  The runtime assumes a
 * little-endian host (x86-64 in the kernel and in the hosted tools), so the
 * bit-field order of struct bpf_insn matches the wire format: dst_reg is the
 * low nibble of byte 1.
 *
 * Pseudo forms produced by the loader (never by clang directly):
 *   - CALL with src = BPF_PSEUDO_CALL:   local call, imm = pc-relative delta
 *                                        (target = pc + imm + 1)
 *   - CALL with src = BPF_PSEUDO_IMPORT: call of import imm, an index into
 *                                        rt_prog.imports[]
 *   - CALL with src = 0:                 call of a numbered helper (used only
 *                                        by the conformance suite), imm = id
 *   - LDDW with src = BPF_PSEUDO_GLOBAL: address of global region imm (index
 *                                        into rt_prog.globals[]) plus offset
 *                                        held in the second slot's imm
 */
#ifndef RUNTIME_BPF_H
#define RUNTIME_BPF_H

#include <stdint.h>

struct bpf_insn {
	uint8_t code;
	uint8_t dst : 4;
	uint8_t src : 4;
	int16_t off;
	int32_t imm;
};

#define BPF_INSN_SIZE      8
#define BPF_NREGS          11  /* r0..r10 */
#define BPF_REG_FP         10  /* read-only frame pointer */
#define BPF_STACK_SIZE     512 /* bytes per function frame */
#define BPF_MAX_CALL_DEPTH 8

/* Instruction classes (low 3 bits of code). */
#define BPF_CLASS(code) ((code)&0x07)
#define BPF_LD          0x00
#define BPF_LDX         0x01
#define BPF_ST          0x02
#define BPF_STX         0x03
#define BPF_ALU         0x04
#define BPF_JMP         0x05
#define BPF_JMP32       0x06
#define BPF_ALU64       0x07

/* Load/store: size and mode. */
#define BPF_SIZE(code) ((code)&0x18)
#define BPF_W          0x00
#define BPF_H          0x08
#define BPF_B          0x10
#define BPF_DW         0x18
#define BPF_MODE(code) ((code)&0xe0)
#define BPF_IMM        0x00
#define BPF_ABS        0x20
#define BPF_IND        0x40
#define BPF_MEM        0x60
#define BPF_MEMSX      0x80
#define BPF_ATOMIC     0xc0

/* ALU and jump: operation and source. */
#define BPF_OP(code)  ((code)&0xf0)
#define BPF_SRC(code) ((code)&0x08)
#define BPF_K         0x00
#define BPF_X         0x08

#define BPF_ADD  0x00
#define BPF_SUB  0x10
#define BPF_MUL  0x20
#define BPF_DIV  0x30
#define BPF_OR   0x40
#define BPF_AND  0x50
#define BPF_LSH  0x60
#define BPF_RSH  0x70
#define BPF_NEG  0x80
#define BPF_MOD  0x90
#define BPF_XOR  0xa0
#define BPF_MOV  0xb0
#define BPF_ARSH 0xc0
#define BPF_END  0xd0
/* BPF_END: BPF_K = to little endian, BPF_X = to big endian (in ALU);
 * in ALU64 with BPF_K it is the unconditional byte swap (bswap). */
#define BPF_TO_LE 0x00
#define BPF_TO_BE 0x08

#define BPF_JA   0x00
#define BPF_JEQ  0x10
#define BPF_JGT  0x20
#define BPF_JGE  0x30
#define BPF_JSET 0x40
#define BPF_JNE  0x50
#define BPF_JSGT 0x60
#define BPF_JSGE 0x70
#define BPF_CALL 0x80
#define BPF_EXIT 0x90
#define BPF_JLT  0xa0
#define BPF_JLE  0xb0
#define BPF_JSLT 0xc0
#define BPF_JSLE 0xd0

/* Atomic operations (imm of a BPF_STX | BPF_ATOMIC instruction). */
#define BPF_FETCH   0x01
#define BPF_XCHG    (0xe0 | BPF_FETCH)
#define BPF_CMPXCHG (0xf0 | BPF_FETCH)

/* Pseudo source registers (see the comment at the top). */
#define BPF_PSEUDO_CALL   1
#define BPF_PSEUDO_IMPORT 2
#define BPF_PSEUDO_GLOBAL 2

/* Opcodes that are refused everywhere with a named reason. */
#define BPF_OPCODE_CALLX 0x8d /* indirect call: clang emits it for function pointers */

static inline int bpf_is_lddw(const struct bpf_insn *i)
{
	return i->code == (BPF_LD | BPF_IMM | BPF_DW);
}

/* Bytes moved by a load, store or atomic of this opcode's BPF_SIZE. */
static inline uint32_t bpf_size_bytes(uint8_t code)
{
	switch (BPF_SIZE(code)) {
	case BPF_B:
		return 1;
	case BPF_H:
		return 2;
	case BPF_W:
		return 4;
	default:
		return 8;
	}
}

#endif
