/* rawsys.h: a raw `syscall` instruction for the user/ programs that must
 * see the kernel's answer unchanged (-errno in rax, no libc wrapper
 * setting errno or retrying): forktest, hostile, extload, vmuser and
 * vmother. */
#ifndef USER_RAWSYS_H
#define USER_RAWSYS_H

static inline long raw(long n, long a, long b, long c, long d, long e, long f)
{
	long r;
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;

	__asm__ volatile("syscall"
	                 : "=a"(r)
	                 : "0"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
	                 : "rcx", "r11", "memory");
	return r;
}
#define R0(n)             raw(n, 0, 0, 0, 0, 0, 0)
#define R1(n, a)          raw(n, (long)(a), 0, 0, 0, 0, 0)
#define R2(n, a, b)       raw(n, (long)(a), (long)(b), 0, 0, 0, 0)
#define R3(n, a, b, c)    raw(n, (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define R4(n, a, b, c, d) raw(n, (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)

#endif
