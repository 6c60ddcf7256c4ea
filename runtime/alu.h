/*
 * alu.h - the eBPF ALU semantics (RFC 9669) written once: the interpreter
 * executes them and the verifier folds constants with them, so a folded
 * constant is by construction what the program computes at run time.
 *
 * Owns: pure functions on values; no state.  Callers: the runtime only.
 *
 * Arithmetic is done on uint64_t/uint32_t so that wrap-around is defined C;
 * signed division and modulo test the two RFC special cases (divisor 0, and
 * INT_MIN / -1 which would trap on x86 and is UB in C) before dividing.
 * Division by zero gives 0 and modulo by zero leaves the dividend.
 */
#ifndef RUNTIME_ALU_H
#define RUNTIME_ALU_H

#include "runtime/bpf.h"

#include <stdbool.h>

/*
 * One ALU operation, *d = *d OP s, on a W-bit unsigned type T (ST its
 * signed twin).  Returns false for an encoding the ISA does not define
 * (off is 0, or 1 for signed DIV/MOD).  Both widths come from this one
 * body so that they cannot drift apart.
 */
#define BPF_ALU_DEFINE(name, T, ST, W)                                                             \
	static inline bool name(uint8_t op, int16_t off, T *d, T s)                                \
	{                                                                                          \
		if (off != 0 && !(off == 1 && (op == BPF_DIV || op == BPF_MOD)))                   \
			return false;                                                              \
		switch (op) {                                                                      \
		case BPF_ADD:                                                                      \
			*d += s;                                                                   \
			return true;                                                               \
		case BPF_SUB:                                                                      \
			*d -= s;                                                                   \
			return true;                                                               \
		case BPF_MUL:                                                                      \
			*d *= s;                                                                   \
			return true;                                                               \
		case BPF_OR:                                                                       \
			*d |= s;                                                                   \
			return true;                                                               \
		case BPF_AND:                                                                      \
			*d &= s;                                                                   \
			return true;                                                               \
		case BPF_XOR:                                                                      \
			*d ^= s;                                                                   \
			return true;                                                               \
		case BPF_LSH:                                                                      \
			*d <<= (s & (W - 1));                                                      \
			return true;                                                               \
		case BPF_RSH:                                                                      \
			*d >>= (s & (W - 1));                                                      \
			return true;                                                               \
		case BPF_ARSH:                                                                     \
			/* Arithmetic shift on the two's complement pattern without                \
			 * relying on implementation-defined signed right shift. */                \
			s &= W - 1;                                                                \
			if (s && (*d >> (W - 1)))                                                  \
				*d = (*d >> s) | ~(~(T)0 >> s);                                    \
			else                                                                       \
				*d >>= s;                                                          \
			return true;                                                               \
		case BPF_DIV:                                                                      \
			if (off == 0)                                                              \
				*d = s ? *d / s : 0;                                               \
			else if (s == 0)                                                           \
				*d = 0;                                                            \
			else if (s == ~(T)0)                                                       \
				*d = 0 - *d; /* x / -1 = -x, INT_MIN wraps to itself */            \
			else                                                                       \
				*d = (T)((ST)*d / (ST)s);                                          \
			return true;                                                               \
		case BPF_MOD:                                                                      \
			if (off == 0) {                                                            \
				if (s)                                                             \
					*d %= s;                                                   \
			} else if (s == ~(T)0) {                                                   \
				*d = 0;                                                            \
			} else if (s) {                                                            \
				*d = (T)((ST)*d % (ST)s);                                          \
			}                                                                          \
			return true;                                                               \
		default:                                                                           \
			return false;                                                              \
		}                                                                                  \
	}

BPF_ALU_DEFINE(bpf_alu64, uint64_t, int64_t, 64)
/* The caller zero-extends the 32-bit result into the 64-bit register. */
BPF_ALU_DEFINE(bpf_alu32, uint32_t, int32_t, 32)

#undef BPF_ALU_DEFINE

static inline uint16_t bpf_bswap16(uint16_t v)
{
	return (uint16_t)((v >> 8) | (v << 8));
}

static inline uint32_t bpf_bswap32(uint32_t v)
{
	return ((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >> 8) & 0xff00) | (v >> 24);
}

static inline uint64_t bpf_bswap64(uint64_t v)
{
	return ((uint64_t)bpf_bswap32((uint32_t)v) << 32) | bpf_bswap32((uint32_t)(v >> 32));
}

/*
 * BPF_END on *r: keep the low imm bits (16, 32 or 64), reversing their bytes
 * if `swap`.  False for any other imm.
 */
static inline bool bpf_end(uint64_t *r, int32_t imm, bool swap)
{
	switch (imm) {
	case 16:
		*r = swap ? bpf_bswap16((uint16_t)*r) : (uint16_t)*r;
		return true;
	case 32:
		*r = swap ? bpf_bswap32((uint32_t)*r) : (uint32_t)*r;
		return true;
	case 64:
		*r = swap ? bpf_bswap64(*r) : *r;
		return true;
	default:
		return false;
	}
}

#endif
