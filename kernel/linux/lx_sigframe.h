/*
 * kernel/linux/lx_sigframe.h: the x86-64 Linux signal frame, byte for byte
 * as Linux builds it (arch/x86/include/uapi/asm/sigcontext.h, ucontext.h,
 * arch/x86/kernel/signal.c) and as musl's ucontext_t and mcontext_t read
 * it.  Private to kernel/linux/lx_signal.c and its host test, which checks
 * every offset below against the numbers musl and Linux use.
 *
 * On the user stack, from high to low addresses: the 128-byte red zone of
 * the interrupted code (skipped), the fxsave image of its FPU/SSE state
 * (512 bytes, 64-aligned, what sigcontext.fpstate points to), then struct
 * lx_rt_sigframe, placed so that the handler starts with rsp + 8 16-byte
 * aligned, as after a call: rsp points at pretcode, the return address
 * (sa_restorer, which makes the rt_sigreturn system call).
 */
#ifndef KERNEL_LINUX_LX_SIGFRAME_H
#define KERNEL_LINUX_LX_SIGFRAME_H

#include <stdint.h>

/* struct sigcontext (uapi, x86-64): 256 bytes, musl's gregs[] order
 * (REG_R8 = 0 ... REG_RIP = 16, REG_EFL = 17, REG_CSGSFS = 18, REG_ERR,
 * REG_TRAPNO, REG_OLDMASK, REG_CR2 = 22), then fpregs, reserved. */
struct lx_sigcontext {
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, eflags;
	uint16_t cs, gs, fs, ss;
	uint64_t err, trapno, oldmask, cr2;
	uint64_t fpstate; /* user address of the fxsave image, or 0 */
	uint64_t reserved1[8];
};

/* stack_t */
struct lx_stack {
	uint64_t sp;
	int32_t flags;
	int32_t pad;
	uint64_t size;
};

/* The kernel's struct ucontext (the sigmask is the kernel's 8-byte set). */
struct lx_ucontext {
	uint64_t flags, link;
	struct lx_stack stack;
	struct lx_sigcontext mcontext;
	uint64_t sigmask;
};

/* siginfo_t: 128 bytes; the fields this kernel fills. */
struct lx_siginfo_rec {
	int32_t signo, errnum, code, pad;
	union {
		struct {
			int32_t pid, uid, status, pad2;
		} kill;        /* kill: pid, uid; SIGCHLD: and status */
		uint64_t addr; /* SIGSEGV, SIGILL, SIGFPE, SIGBUS */
		uint8_t bytes[112];
	} u;
};

struct lx_rt_sigframe {
	uint64_t pretcode;
	struct lx_ucontext uc;
	struct lx_siginfo_rec info;
};

#define LX_FXSAVE_SIZE      512
#define LX_REDZONE          128
#define LX_UC_SIGCONTEXT_SS 0x2ull
#define LX_SS_ONSTACK       1
#define LX_SS_DISABLE       2
#define LX_MINSIGSTKSZ      2048
/* rflags a sigreturn may set (Linux's FIX_EFLAGS: AC OF DF TF SF ZF AF PF
 * CF RF); the return path masks again to what a user may have. */
#define LX_FIX_EFLAGS 0x50dd5ull
/* Cleared for the handler: TF DF RF. */
#define LX_HANDLER_EFLAGS_CLEAR 0x10500ull
/* MXCSR bits fxrstor accepts on every CPU with SSE2 (DAZ may be missing:
 * a reserved bit set makes fxrstor fault in the kernel). */
#define LX_MXCSR_MASK 0xffbfu

_Static_assert(sizeof(struct lx_sigcontext) == 256, "sigcontext");
_Static_assert(sizeof(struct lx_stack) == 24, "stack_t");
_Static_assert(sizeof(struct lx_ucontext) == 304, "ucontext");
_Static_assert(sizeof(struct lx_siginfo_rec) == 128, "siginfo");
_Static_assert(sizeof(struct lx_rt_sigframe) == 440, "rt_sigframe");

#endif
