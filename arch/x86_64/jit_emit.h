/*
 * jit_emit.h - the x86-64 instruction encoder used by the eBPF JIT
 * (arch/x86_64/jit.c).
 *
 * One small inline function per instruction form, with the mnemonic beside
 * the bytes it emits.  Nothing here knows about eBPF: operands are x86
 * register numbers (X86_RAX .. X86_R15) and plain integers.  Every function
 * appends to a struct jit_buf; with buf->code == NULL the bytes are only
 * counted, which is how the compiler sizes code before it has memory for
 * it.  A write past buf->cap is counted but not stored; the caller compares
 * len with cap after the final pass.
 *
 * Encoding reminders.  REX = 0100WRXB: W selects 64-bit operands, R extends
 * ModRM.reg, X the SIB index, B ModRM.rm / SIB base / opcode register.
 * ModRM = mod(2) reg(3) rm(3).  A memory operand whose base is rsp or r12
 * needs a SIB byte (0x24); one whose base is rbp or r13 cannot use mod=00
 * (that means rip-relative), so it gets a zero disp8.  Byte operations on
 * spl/bpl/sil/dil need a REX prefix, even an empty one (0x40), or the CPU
 * reads ah/ch/dh/bh instead.
 */
#ifndef ARCH_X86_64_JIT_EMIT_H
#define ARCH_X86_64_JIT_EMIT_H

#include <stdbool.h>
#include <stdint.h>

enum {
	X86_RAX = 0,
	X86_RCX = 1,
	X86_RDX = 2,
	X86_RBX = 3,
	X86_RSP = 4,
	X86_RBP = 5,
	X86_RSI = 6,
	X86_RDI = 7,
	X86_R8 = 8,
	X86_R9 = 9,
	X86_R10 = 10,
	X86_R11 = 11,
	X86_R12 = 12,
	X86_R13 = 13,
	X86_R14 = 14,
	X86_R15 = 15,
};

/* Condition codes (the low nibble of Jcc / SETcc / CMOVcc).  cc ^ 1 is the
 * inverse condition. */
enum {
	X86_CC_B = 0x2,  /* below (unsigned <) */
	X86_CC_AE = 0x3, /* above or equal (unsigned >=) */
	X86_CC_E = 0x4,
	X86_CC_NE = 0x5,
	X86_CC_BE = 0x6, /* unsigned <= */
	X86_CC_A = 0x7,  /* unsigned > */
	X86_CC_L = 0xc,  /* signed < */
	X86_CC_GE = 0xd,
	X86_CC_LE = 0xe,
	X86_CC_G = 0xf,
};

/* Opcodes of the "op r/m, reg" ALU forms. */
enum {
	X86_OP_ADD = 0x01,
	X86_OP_OR = 0x09,
	X86_OP_AND = 0x21,
	X86_OP_SUB = 0x29,
	X86_OP_XOR = 0x31,
	X86_OP_CMP = 0x39,
	X86_OP_TEST = 0x85,
	X86_OP_MOV = 0x89,
};

/* ModRM.reg extensions of the group-1 immediate forms (0x81 / 0x83). */
enum {
	X86_EXT_ADD = 0,
	X86_EXT_OR = 1,
	X86_EXT_AND = 4,
	X86_EXT_SUB = 5,
	X86_EXT_XOR = 6,
	X86_EXT_CMP = 7,
};

/* ModRM.reg extensions of the shift group (0xc1 / 0xd3). */
enum { X86_SH_ROL = 0, X86_SH_SHL = 4, X86_SH_SHR = 5, X86_SH_SAR = 7 };

struct jit_buf {
	uint8_t *code; /* NULL while sizing */
	uint32_t len;
	uint32_t cap;
	bool bad; /* a patched short displacement did not fit */
};

static inline void x86_byte(struct jit_buf *b, uint8_t v)
{
	if (b->code && b->len < b->cap)
		b->code[b->len] = v;
	b->len++;
}

static inline void x86_imm16(struct jit_buf *b, uint16_t v)
{
	x86_byte(b, (uint8_t)v);
	x86_byte(b, (uint8_t)(v >> 8));
}

static inline void x86_imm32(struct jit_buf *b, uint32_t v)
{
	x86_imm16(b, (uint16_t)v);
	x86_imm16(b, (uint16_t)(v >> 16));
}

static inline void x86_imm64(struct jit_buf *b, uint64_t v)
{
	x86_imm32(b, (uint32_t)v);
	x86_imm32(b, (uint32_t)(v >> 32));
}

static inline bool x86_is_imm8(int64_t v)
{
	return v >= -128 && v <= 127;
}

static inline bool x86_is_simm32(int64_t v)
{
	return v >= INT32_MIN && v <= INT32_MAX;
}

/* REX prefix for reg (ModRM.reg) and rm (ModRM.rm or opcode register);
 * omitted when it would be the empty 0x40 unless `force` (byte registers). */
static inline void x86_rex(struct jit_buf *b, bool w, unsigned reg, unsigned rm, bool force)
{
	uint8_t rex = (uint8_t)(0x40 | (w ? 8 : 0) | ((reg >> 3) << 2) | (rm >> 3));

	if (rex != 0x40 || force)
		x86_byte(b, rex);
}

/* Does a byte operand in this register need a REX prefix (spl..dil)? */
static inline bool x86_byte_needs_rex(unsigned r)
{
	return r >= 4 && r <= 7;
}

static inline void x86_modrm_rr(struct jit_buf *b, unsigned reg, unsigned rm)
{
	x86_byte(b, (uint8_t)(0xc0 | ((reg & 7) << 3) | (rm & 7)));
}

/* ModRM (+SIB, +disp) for the memory operand [base + disp]. */
static inline void x86_modrm_mem(struct jit_buf *b, unsigned reg, unsigned base, int32_t disp)
{
	uint8_t mod;

	if (disp == 0 && (base & 7) != X86_RBP)
		mod = 0;
	else if (x86_is_imm8(disp))
		mod = 1;
	else
		mod = 2;
	x86_byte(b, (uint8_t)((mod << 6) | ((reg & 7) << 3) | (base & 7)));
	if ((base & 7) == X86_RSP)
		x86_byte(b, 0x24); /* SIB: base only, no index */
	if (mod == 1)
		x86_byte(b, (uint8_t)disp);
	else if (mod == 2)
		x86_imm32(b, (uint32_t)disp);
}

/* op r/m, reg  (add/or/and/sub/xor/cmp/test/mov), register form. */
static inline void x86_alu_rr(struct jit_buf *b, bool w, uint8_t op, unsigned dst, unsigned src)
{
	x86_rex(b, w, src, dst, false);
	x86_byte(b, op);
	x86_modrm_rr(b, src, dst);
}

/* op [base+disp], reg  (memory destination, e.g. cmp [rbp+8], r11). */
static inline void x86_alu_mr(struct jit_buf *b, bool w, uint8_t op, unsigned base, int32_t disp,
                              unsigned src)
{
	x86_rex(b, w, src, base, false);
	x86_byte(b, op);
	x86_modrm_mem(b, src, base, disp);
}

/* Opcode, ModRM and immediate of an instruction with a short form taking a
 * sign-extended imm8 (op_ib) and a long form taking an imm32 (op_id); the
 * caller has emitted the prefixes. */
static inline void x86_op_rr_imm(struct jit_buf *b, uint8_t op_ib, uint8_t op_id, unsigned reg,
                                 unsigned rm, int32_t imm)
{
	bool short_form = x86_is_imm8(imm);

	x86_byte(b, short_form ? op_ib : op_id);
	x86_modrm_rr(b, reg, rm);
	if (short_form)
		x86_byte(b, (uint8_t)imm);
	else
		x86_imm32(b, (uint32_t)imm);
}

/* add/or/and/sub/xor/cmp r/m, imm: 83 /ext ib or 81 /ext id. */
static inline void x86_alu_ri(struct jit_buf *b, bool w, unsigned ext, unsigned dst, int32_t imm)
{
	x86_rex(b, w, 0, dst, false);
	x86_op_rr_imm(b, 0x83, 0x81, ext, dst, imm);
}

/* op r/m, imm32 for an opcode with a ModRM extension: [REX] op /ext id. */
static inline void x86_op_ext_ri32(struct jit_buf *b, bool w, uint8_t op, unsigned ext,
                                   unsigned dst, int32_t imm)
{
	x86_rex(b, w, 0, dst, false);
	x86_byte(b, op);
	x86_modrm_rr(b, ext, dst);
	x86_imm32(b, (uint32_t)imm);
}

/* test r/m, imm32: F7 /0 id. */
static inline void x86_test_ri(struct jit_buf *b, bool w, unsigned dst, int32_t imm)
{
	x86_op_ext_ri32(b, w, 0xf7, 0, dst, imm);
}

/* mov r32, imm32: B8+r id (zero-extends into the 64-bit register). */
static inline void x86_mov_ri32(struct jit_buf *b, unsigned dst, uint32_t imm)
{
	x86_rex(b, false, 0, dst, false);
	x86_byte(b, (uint8_t)(0xb8 | (dst & 7)));
	x86_imm32(b, imm);
}

/* mov r64, simm32: REX.W C7 /0 id (sign-extends). */
static inline void x86_mov_ri_sx(struct jit_buf *b, unsigned dst, int32_t imm)
{
	x86_op_ext_ri32(b, true, 0xc7, 0, dst, imm);
}

/* movabs r64, imm64: REX.W B8+r io. */
static inline void x86_movabs(struct jit_buf *b, unsigned dst, uint64_t imm)
{
	x86_rex(b, true, 0, dst, false);
	x86_byte(b, (uint8_t)(0xb8 | (dst & 7)));
	x86_imm64(b, imm);
}

/* The shortest load of a 64-bit constant.  Zero uses xor, which clobbers
 * flags: callers never keep flags live across an eBPF instruction. */
static inline void x86_load_imm64(struct jit_buf *b, unsigned dst, uint64_t v)
{
	if (v == 0)
		x86_alu_rr(b, false, X86_OP_XOR, dst, dst); /* xor r32, r32 */
	else if (v <= UINT32_MAX)
		x86_mov_ri32(b, dst, (uint32_t)v); /* mov r32, imm32 */
	else if (x86_is_simm32((int64_t)v))
		x86_mov_ri_sx(b, dst, (int32_t)v); /* mov r64, simm32 */
	else
		x86_movabs(b, dst, v); /* movabs r64, imm64 */
}

/* imul reg, r/m: [REX] 0F AF /r. */
static inline void x86_imul_rr(struct jit_buf *b, bool w, unsigned dst, unsigned src)
{
	x86_rex(b, w, dst, src, false);
	x86_byte(b, 0x0f);
	x86_byte(b, 0xaf);
	x86_modrm_rr(b, dst, src);
}

/* imul reg, r/m, imm: 6B /r ib or 69 /r id. */
static inline void x86_imul_rri(struct jit_buf *b, bool w, unsigned dst, unsigned src, int32_t imm)
{
	x86_rex(b, w, dst, src, false);
	x86_op_rr_imm(b, 0x6b, 0x69, dst, src, imm);
}

/* shl/shr/sar/rol r/m, cl: D3 /ext. */
static inline void x86_shift_cl(struct jit_buf *b, bool w, unsigned ext, unsigned dst)
{
	x86_rex(b, w, 0, dst, false);
	x86_byte(b, 0xd3);
	x86_modrm_rr(b, ext, dst);
}

/* shl/shr/sar/rol r/m, imm8: C1 /ext ib. */
static inline void x86_shift_ri(struct jit_buf *b, bool w, unsigned ext, unsigned dst, uint8_t n)
{
	x86_rex(b, w, 0, dst, false);
	x86_byte(b, 0xc1);
	x86_modrm_rr(b, ext, dst);
	x86_byte(b, n);
}

/* rol r16, 8: 66 [REX] C1 /0 08 (swaps the two low bytes). */
static inline void x86_rol16_8(struct jit_buf *b, unsigned dst)
{
	x86_byte(b, 0x66);
	x86_rex(b, false, 0, dst, false);
	x86_byte(b, 0xc1);
	x86_modrm_rr(b, X86_SH_ROL, dst);
	x86_byte(b, 8);
}

/* neg r/m: F7 /3. */
static inline void x86_neg(struct jit_buf *b, bool w, unsigned dst)
{
	x86_rex(b, w, 0, dst, false);
	x86_byte(b, 0xf7);
	x86_modrm_rr(b, 3, dst);
}

/* div r/m (F7 /6) or idiv r/m (F7 /7): rdx:rax / src. */
static inline void x86_div(struct jit_buf *b, bool w, bool is_signed, unsigned src)
{
	x86_rex(b, w, 0, src, false);
	x86_byte(b, 0xf7);
	x86_modrm_rr(b, is_signed ? 7 : 6, src);
}

/* cqo (48 99): rdx = sign of rax;  cdq (99): edx = sign of eax. */
static inline void x86_cqo(struct jit_buf *b, bool w)
{
	if (w)
		x86_byte(b, 0x48);
	x86_byte(b, 0x99);
}

/* bswap r32/r64: [REX] 0F C8+r. */
static inline void x86_bswap(struct jit_buf *b, bool w, unsigned dst)
{
	x86_rex(b, w, 0, dst, false);
	x86_byte(b, 0x0f);
	x86_byte(b, (uint8_t)(0xc8 | (dst & 7)));
}

/* movzx r32, r8 (0F B6) / movzx r32, r16 (0F B7), register source. */
static inline void x86_movzx_rr(struct jit_buf *b, unsigned size, unsigned dst, unsigned src)
{
	x86_rex(b, false, dst, src, size == 1 && x86_byte_needs_rex(src));
	x86_byte(b, 0x0f);
	x86_byte(b, size == 1 ? 0xb6 : 0xb7);
	x86_modrm_rr(b, dst, src);
}

/* movsx r32/r64, r8 (0F BE) / r16 (0F BF); movsxd r64, r32 (REX.W 63). */
static inline void x86_movsx_rr(struct jit_buf *b, bool w, unsigned size, unsigned dst,
                                unsigned src)
{
	x86_rex(b, w, dst, src, size == 1 && x86_byte_needs_rex(src));
	if (size == 4) {
		x86_byte(b, 0x63);
	} else {
		x86_byte(b, 0x0f);
		x86_byte(b, size == 1 ? 0xbe : 0xbf);
	}
	x86_modrm_rr(b, dst, src);
}

/* The opcode of a zero-extending load of size 1/2/4/8 bytes (the REX
 * before it sets W for 8): movzx r32, byte (0F B6) / movzx r32, word
 * (0F B7) / mov r32 or r64 (8B).  x86_load and x86_load_idx share it. */
static inline void x86_load_opcode(struct jit_buf *b, unsigned size)
{
	if (size == 1) {
		x86_byte(b, 0x0f);
		x86_byte(b, 0xb6); /* movzx r32, r/m8 */
	} else if (size == 2) {
		x86_byte(b, 0x0f);
		x86_byte(b, 0xb7); /* movzx r32, r/m16 */
	} else {
		x86_byte(b, 0x8b); /* mov r, r/m */
	}
}

/* Zero-extending load of size 1/2/4/8 bytes:
 * movzx r32, byte [m] (0F B6) / movzx r32, word [m] (0F B7) /
 * mov r32, [m] (8B) / mov r64, [m] (REX.W 8B). */
static inline void x86_load(struct jit_buf *b, unsigned size, unsigned dst, unsigned base,
                            int32_t disp)
{
	x86_rex(b, size == 8, dst, base, false);
	x86_load_opcode(b, size);
	x86_modrm_mem(b, dst, base, disp);
}

/* ModRM + SIB (+disp) for [base + index + disp], scale 1.  index must
 * not be rsp; a base of rbp/r13 cannot use mod=00, so it gets a disp8. */
static inline void x86_modrm_sib(struct jit_buf *b, unsigned reg, unsigned base, unsigned index,
                                 int32_t disp)
{
	uint8_t mod;

	if (disp == 0 && (base & 7) != X86_RBP)
		mod = 0;
	else if (x86_is_imm8(disp))
		mod = 1;
	else
		mod = 2;
	x86_byte(b, (uint8_t)((mod << 6) | ((reg & 7) << 3) | 4)); /* ModRM: SIB follows */
	x86_byte(b, (uint8_t)(((index & 7) << 3) | (base & 7)));   /* SIB: scale 1 */
	if (mod == 1)
		x86_byte(b, (uint8_t)disp);
	else if (mod == 2)
		x86_imm32(b, (uint32_t)disp);
}

/* REX for a SIB operand (R = reg, X = index, B = base), omitted if empty. */
static inline void x86_rex_sib(struct jit_buf *b, bool w, unsigned reg, unsigned base,
                               unsigned index)
{
	uint8_t rex =
	    (uint8_t)(0x40 | (w ? 8 : 0) | ((reg >> 3) << 2) | ((index >> 3) << 1) | (base >> 3));

	if (rex != 0x40)
		x86_byte(b, rex);
}

/* Zero-extending load from [base + index + disp], the forms of x86_load:
 * movzx r32, byte/word [m] (0F B6 / 0F B7), mov r32/r64, [m] ([REX.W] 8B). */
static inline void x86_load_idx(struct jit_buf *b, unsigned size, unsigned dst, unsigned base,
                                unsigned index, int32_t disp)
{
	x86_rex_sib(b, size == 8, dst, base, index);
	x86_load_opcode(b, size);
	x86_modrm_sib(b, dst, base, index, disp);
}

/* lea r64/r32, [base + index]: [REX] 8D /r with a SIB byte. */
static inline void x86_lea_idx(struct jit_buf *b, bool w, unsigned dst, unsigned base,
                               unsigned index)
{
	x86_rex_sib(b, w, dst, base, index);
	x86_byte(b, 0x8d);
	x86_modrm_sib(b, dst, base, index, 0);
}

/* Sign-extending load to 64 bits: movsx r64, byte [m] (REX.W 0F BE) /
 * movsx r64, word [m] (REX.W 0F BF) / movsxd r64, dword [m] (REX.W 63). */
static inline void x86_load_sx(struct jit_buf *b, unsigned size, unsigned dst, unsigned base,
                               int32_t disp)
{
	x86_rex(b, true, dst, base, false);
	if (size == 4) {
		x86_byte(b, 0x63);
	} else {
		x86_byte(b, 0x0f);
		x86_byte(b, size == 1 ? 0xbe : 0xbf);
	}
	x86_modrm_mem(b, dst, base, disp);
}

/* Store of the low 1/2/4/8 bytes of src: mov [m], r8 (88) / mov [m], r16
 * (66 89) / mov [m], r32 (89) / mov [m], r64 (REX.W 89). */
static inline void x86_store(struct jit_buf *b, unsigned size, unsigned base, int32_t disp,
                             unsigned src)
{
	if (size == 2)
		x86_byte(b, 0x66);
	x86_rex(b, size == 8, src, base, size == 1 && x86_byte_needs_rex(src));
	x86_byte(b, size == 1 ? 0x88 : 0x89);
	x86_modrm_mem(b, src, base, disp);
}

/* Store of an immediate: mov byte [m], imm8 (C6 /0 ib) / mov word [m],
 * imm16 (66 C7 /0 iw) / mov dword [m], imm32 (C7 /0 id) / mov qword [m],
 * simm32 (REX.W C7 /0 id, sign-extended as eBPF's ST DW is). */
static inline void x86_store_imm(struct jit_buf *b, unsigned size, unsigned base, int32_t disp,
                                 int32_t imm)
{
	if (size == 2)
		x86_byte(b, 0x66);
	x86_rex(b, size == 8, 0, base, false);
	x86_byte(b, size == 1 ? 0xc6 : 0xc7);
	x86_modrm_mem(b, 0, base, disp);
	if (size == 1)
		x86_byte(b, (uint8_t)imm);
	else if (size == 2)
		x86_imm16(b, (uint16_t)imm);
	else
		x86_imm32(b, (uint32_t)imm);
}

/* lock add/or/and/xor [m], reg: F0 [REX] op /r. */
static inline void x86_lock_alu_mr(struct jit_buf *b, bool w, uint8_t op, unsigned base,
                                   int32_t disp, unsigned src)
{
	x86_byte(b, 0xf0);
	x86_alu_mr(b, w, op, base, disp, src);
}

/* lock <op> [m], reg for a two-byte opcode 0F op: F0 [REX] 0F op /r. */
static inline void x86_lock_0f_mr(struct jit_buf *b, bool w, uint8_t op, unsigned base,
                                  int32_t disp, unsigned src)
{
	x86_byte(b, 0xf0);
	x86_rex(b, w, src, base, false);
	x86_byte(b, 0x0f);
	x86_byte(b, op);
	x86_modrm_mem(b, src, base, disp);
}

/* lock xadd [m], reg: F0 [REX] 0F C1 /r. */
static inline void x86_lock_xadd(struct jit_buf *b, bool w, unsigned base, int32_t disp,
                                 unsigned src)
{
	x86_lock_0f_mr(b, w, 0xc1, base, disp, src);
}

/* xchg [m], reg: [REX] 87 /r (locked implicitly). */
static inline void x86_xchg_mr(struct jit_buf *b, bool w, unsigned base, int32_t disp, unsigned src)
{
	x86_rex(b, w, src, base, false);
	x86_byte(b, 0x87);
	x86_modrm_mem(b, src, base, disp);
}

/* lock cmpxchg [m], reg: F0 [REX] 0F B1 /r (compares with rax/eax). */
static inline void x86_lock_cmpxchg(struct jit_buf *b, bool w, unsigned base, int32_t disp,
                                    unsigned src)
{
	x86_lock_0f_mr(b, w, 0xb1, base, disp, src);
}

/* lea r64, [base + disp]: REX.W 8D /r;  lea r32, [base + disp]: [REX] 8D /r
 * (the 64-bit sum truncated and zero-extended). */
static inline void x86_lea_w(struct jit_buf *b, bool w, unsigned dst, unsigned base, int32_t disp)
{
	x86_rex(b, w, dst, base, false);
	x86_byte(b, 0x8d);
	x86_modrm_mem(b, dst, base, disp);
}

static inline void x86_lea(struct jit_buf *b, unsigned dst, unsigned base, int32_t disp)
{
	x86_lea_w(b, true, dst, base, disp);
}

/* lea r64, [rip + rel32]: REX.W 8D /r, mod=00 rm=101.  7 bytes; rel32 is
 * relative to the end of the instruction. */
static inline void x86_lea_rip(struct jit_buf *b, unsigned dst, int32_t rel)
{
	x86_rex(b, true, dst, 0, false);
	x86_byte(b, 0x8d);
	x86_byte(b, (uint8_t)(((dst & 7) << 3) | 5));
	x86_imm32(b, (uint32_t)rel);
}
#define X86_LEA_RIP_LEN 7

/* push r64: [41] 50+r;  pop r64: [41] 58+r. */
static inline void x86_push(struct jit_buf *b, unsigned r)
{
	x86_rex(b, false, 0, r, false);
	x86_byte(b, (uint8_t)(0x50 | (r & 7)));
}

static inline void x86_pop(struct jit_buf *b, unsigned r)
{
	x86_rex(b, false, 0, r, false);
	x86_byte(b, (uint8_t)(0x58 | (r & 7)));
}

static inline void x86_ret(struct jit_buf *b)
{
	x86_byte(b, 0xc3); /* ret */
}

static inline void x86_leave(struct jit_buf *b)
{
	x86_byte(b, 0xc9); /* leave: mov rsp, rbp; pop rbp */
}

static inline void x86_int3(struct jit_buf *b)
{
	x86_byte(b, 0xcc); /* int3 */
}

/* call rel32: E8 cd (5 bytes, relative to the end). */
static inline void x86_call_rel32(struct jit_buf *b, int32_t rel)
{
	x86_byte(b, 0xe8);
	x86_imm32(b, (uint32_t)rel);
}
#define X86_CALL_REL32_LEN 5

/* call qword [rip + rel32]: FF /2, mod=00 rm=101 (6 bytes; rel32 is
 * relative to the end).  Calls through a literal in the code block. */
static inline void x86_call_rip(struct jit_buf *b, int32_t rel)
{
	x86_byte(b, 0xff);
	x86_byte(b, 0x15);
	x86_imm32(b, (uint32_t)rel);
}
#define X86_CALL_RIP_LEN 6

/* call r64: [41] FF /2. */
static inline void x86_call_r(struct jit_buf *b, unsigned r)
{
	x86_rex(b, false, 0, r, false);
	x86_byte(b, 0xff);
	x86_modrm_rr(b, 2, r);
}

/* jmp r64: [41] FF /4. */
static inline void x86_jmp_r(struct jit_buf *b, unsigned r)
{
	x86_rex(b, false, 0, r, false);
	x86_byte(b, 0xff);
	x86_modrm_rr(b, 4, r);
}

/* jmp rel8 (EB cb) / jmp rel32 (E9 cd). */
static inline void x86_jmp_rel8(struct jit_buf *b, int8_t rel)
{
	x86_byte(b, 0xeb);
	x86_byte(b, (uint8_t)rel);
}

static inline void x86_jmp_rel32(struct jit_buf *b, int32_t rel)
{
	x86_byte(b, 0xe9);
	x86_imm32(b, (uint32_t)rel);
}

/* jcc rel8 (70+cc cb) / jcc rel32 (0F 80+cc cd). */
static inline void x86_jcc_rel8(struct jit_buf *b, unsigned cc, int8_t rel)
{
	x86_byte(b, (uint8_t)(0x70 | cc));
	x86_byte(b, (uint8_t)rel);
}

static inline void x86_jcc_rel32(struct jit_buf *b, unsigned cc, int32_t rel)
{
	x86_byte(b, 0x0f);
	x86_byte(b, (uint8_t)(0x80 | cc));
	x86_imm32(b, (uint32_t)rel);
}

#endif
