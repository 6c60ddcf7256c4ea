/* xas.h: the cross-address-space call from user programs (the numbers of
 * <spindle/spin_syscall.h>, served by the xas extension, user/ext/xas.c):
 * raw system calls and the protocol of the test and benchmark programs. */
#ifndef USER_XAS_H
#define USER_XAS_H

#include <stdint.h>
#include <time.h>

#include <spindle/spin_syscall.h>

/* Arguments the server treats specially (user/xas_server.c). */
/* Arguments from XAS_CONTROL up are requests to the test server, not calls
 * (one compare on its loop's path). */
#define XAS_CONTROL 0x5350000000000000ul
#define XAS_STOP    (XAS_CONTROL + 1) /* answer the number of calls served, then exit */
#define XAS_DIE     (XAS_CONTROL + 2) /* exit without answering */
#define XAS_CRASH   (XAS_CONTROL + 3) /* fault without answering */
#define XAS_SECRET  1000ul            /* the server answers 3 * arg + XAS_SECRET */

static inline long xas_raw(long n, long a, long b, long c)
{
	long r;
	register long d __asm__("rdx") = c;

	/* rdx is an output too: a call or return leaves the value passed in
	 * it (and 0 otherwise). */
	__asm__ volatile("syscall"
	                 : "=a"(r), "+r"(d)
	                 : "0"(n), "D"(a), "S"(b)
	                 : "rcx", "r11", "memory");
	return r;
}

/* The same, also returning rdx (the value a portal call or return passes). */
static inline long xas_raw2(long n, long a, long b, long c, uint64_t *rdx)
{
	long r;
	register long d __asm__("rdx") = c;

	__asm__ volatile("syscall"
	                 : "=a"(r), "+r"(d)
	                 : "0"(n), "D"(a), "S"(b)
	                 : "rcx", "r11", "memory");
	*rdx = (uint64_t)d;
	return r;
}

/* The client's handle: the server grants it to the next pid (procs= starts
 * programs in order, with consecutive pids) and it is the client's first
 * handle.  Wait for it (up to about two seconds): -EBADF until granted. */

static inline long xas_wait_handle(void)
{
	struct timespec ms = {0, 1000000};
	long r = 0;

	for (int i = 0; i < 2000; i++) {
		uint64_t res;

		r = xas_raw(SPIN_XAS_CALL, 0, 0, (long)&res);
		if (r != -9)
			return r < 0 ? r : 0;
		nanosleep(&ms, 0);
	}
	return r;
}

#endif
