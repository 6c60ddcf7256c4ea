/* xas_server: the server of the cross-address-space call tests and
 * benchmark.  Registers a portal, grants a handle to the next process
 * (its client), checks the refusals a server can meet, then serves calls:
 * each runs here, in this address space, and answers 3 * arg + a value
 * only this process holds.  XAS_STOP: answer the count and exit;
 * XAS_DIE: exit with the call unanswered (the client must see -EPIPE);
 * XAS_CRASH: fault with the call unanswered (the same). */
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#define CHECK_PROG "xas_server"
#include "check.h"
#include "xas.h"

static uint64_t secret; /* set at run time: the answer comes from here */

int main(void)
{
	long h = xas_raw(SPIN_XAS_REGISTER, 0, 0, 0), g, r;
	uint64_t arg = 0, result = 0, served = 0;
	int pid = getpid();

	secret = XAS_SECRET;
	if (h < 0) {
		printf("xas_server: cannot register a portal (%ld)\n", h);
		return 1;
	}
	expect("grant to nobody", xas_raw(SPIN_XAS_GRANT, h, 0, 0), -3);
	expect("grant to a huge pid", xas_raw(SPIN_XAS_GRANT, h, 1l << 40, 0), -3);
	expect("grant to itself", xas_raw(SPIN_XAS_GRANT, h, pid, 0), -22);
	expect("grant a bad handle", xas_raw(SPIN_XAS_GRANT, 7, pid + 1, 0), -9);
	expect("grant handle -1", xas_raw(SPIN_XAS_GRANT, -1, pid + 1, 0), -9);
	expect("call its own portal", xas_raw(SPIN_XAS_CALL, h, 1, 0), -35);
	expect("return, kernel argp", xas_raw(SPIN_XAS_RETURN, h, 0, (long)0xffff800000000000l),
	       -14);
	expect("return, wrapping argp", xas_raw(SPIN_XAS_RETURN, h, 0, -4l), -14);
	expect("return, bad handle", xas_raw(SPIN_XAS_RETURN, 5, 0, (long)&arg), -9);
	expect("reply, bad handle", xas_raw(SPIN_XAS_REPLY, 5, 0, 0), -9);
	expect("reply with no call pending", xas_raw(SPIN_XAS_REPLY, h, 0, 0), 0);
	/* The client may not exist yet: procs= starts the programs one by one. */
	for (int i = 0; (g = xas_raw(SPIN_XAS_GRANT, h, pid + 1, 0)) == -3 && i < 2000; i++) {
		struct timespec ms = {0, 1000000};

		nanosleep(&ms, 0);
	}
	printf("xas_server: pid %d, portal %ld, granted handle %ld to pid %d%s\n", pid, h, g,
	       pid + 1, failed ? " (FAIL)" : "");
	if (g < 0)
		return 1;
	/* Serve: the argument arrives in rdx; every 16th call also at &argm
	 * (the pointer form), and both must agree.  A call's path is the
	 * system call and one test of all three exceptions. */
	for (;;) {
		uint64_t argm = ~0ull;
		int check = served % 16 == 0;

		r = xas_raw2(SPIN_XAS_RETURN, h, (long)result, check ? (long)&argm : 0, &arg);
		if (__builtin_expect(r != 0 || arg >= XAS_CONTROL || check, 0)) {
			if (r == 0 && check && argm != arg) {
				printf("xas_server: FAIL argument %llu in rdx, %llu in memory\n",
				       (unsigned long long)arg, (unsigned long long)argm);
				failed++;
			}
			if (r < 0) {
				printf("xas_server: FAIL return: %ld\n", r);
				return 1;
			}
			if (arg == XAS_DIE) {
				printf(
				    "xas_server: exiting with a call unanswered after %llu calls\n",
				    (unsigned long long)served);
				return failed ? 1 : 3;
			}
			if (arg == XAS_CRASH) {
				printf("xas_server: faulting with a call unanswered\n");
				*(volatile uint64_t *)0 = arg;
			}
			if (arg == XAS_STOP) {
				r = xas_raw(SPIN_XAS_REPLY, h, (long)served, 0);
				printf("xas_server: stopped after %llu calls%s\n",
				       (unsigned long long)served, r || failed ? " (FAIL)" : "");
				return r || failed;
			}
		}
		result = 3 * arg + secret;
		served++;
	}
}
