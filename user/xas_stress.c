/* xas_stress: the cross-address-space call under load and across process
 * changes (run on -smp 2 by tests/user/run-user.sh).
 *
 *   xas_stress many [K [N [W]]]: this process serves a portal; it forks K
 *     clients, each making N calls with arguments no other client uses,
 *     and checks every result (3 * arg + a value only the server holds),
 *     so a result delivered to the wrong client, lost or duplicated
 *     fails.  Both sides keep a pattern in xmm5 across each system call:
 *     the FPU state of the borrowed strand must be the right process's.
 *     The server counts the calls it served; every client's exit status
 *     is checked.  W: a busy loop of W iterations in each call, so that
 *     calls overlap (callers queue and the server's own strand serves
 *     them).
 *   xas_stress life [borrowed]: this process is the client of a server it
 *     forks; while running on the client's strand (a borrowed call) the
 *     server forks a child and waits for it (the answer is the child's
 *     status), gets an unmapped argp (the call still arrives, in rdx, and
 *     Return says -EFAULT), executes a new image which answers the
 *     pending call, and is killed by SIGKILL from another process while
 *     it sleeps in the call: the call fails with -EPIPE, the server's
 *     status is "killed by 9".  With "borrowed" (one CPU: every call
 *     borrows) the server also gets -EBUSY for Reply and Return on its
 *     other portal.
 *   xas_stress die [K [M]]: a server and K clients, all children of this
 *     process; the server exits after M calls with calls running and
 *     queued: every client sees right answers, then -EPIPE.
 *   xas_stress killidle: a server killed by SIGKILL while it waits for
 *     calls must end (it does not yet: docs/userspace.md, known limit).
 *
 * Ends "xas_stress: MODE ok" and exits 0 only if every check passed. */
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "xas.h"

#define EPIPE 32

#define ARG_FORK  0xf0f0ul         /* life: fork a child exiting 7, wait, answer its status */
#define ARG_EXEC  0xe0e0ul         /* life: execute "xas_stress execd" (it answers 0xe8ec) */
#define ARG_SLEEP 0x51eeful        /* life: sleep until killed */
#define ARG_BUSY  0xb5b5ul         /* life: Return and Reply on another portal (-EBUSY) */
#define ARG_ARGP  0xa4a4ul         /* life: the next Return's argp is unmapped */
#define EXECD_HI  0xe8ecul         /* the new image's first answer */
#define UNMAPPED  0x700000000000ul /* a user address no program maps */
#define DONE_LO   0xfffffffful

static int bad;
static volatile uint64_t secret; /* set at run time, in the server's memory */

static void fail(const char *fmt, long a, long b)
{
	bad++;
	printf("xas_stress: FAIL ");
	printf(fmt, a, b);
	printf("\n");
}

/* A Call (nr SPIN_XAS_CALL: rdx its result) or a Return (SPIN_XAS_RETURN,
 * answering a1 and waiting: rdx the next call's argument) with pat in xmm5
 * across it: *after what xmm5 held on return. */
static long xas_fpu(long nr, long h, uint64_t a1, uint64_t *rdx, uint64_t pat, uint64_t *after)
{
	long r;
	register uint64_t d __asm__("rdx") = 0;
	uint64_t a;

	__asm__ volatile("movq %[pat], %%xmm5\n\tsyscall\n\tmovq %%xmm5, %[aft]"
	                 : "=a"(r), "+r"(d), [aft] "=r"(a)
	                 : "0"(nr), "D"(h), "S"(a1), [pat] "r"(pat)
	                 : "rcx", "r11", "xmm5", "memory");
	*rdx = d;
	*after = a;
	return r;
}

static void sleep_ms(long ms)
{
	struct timespec t = {ms / 1000, (ms % 1000) * 1000000};

	nanosleep(&t, 0);
}

/* ---- many ---- */

static int many_client(int idx, long n)
{
	uint64_t pat = 0xc11e000000000000ull | (uint64_t)idx, res, after;
	long h = xas_wait_handle();

	if (h < 0) {
		printf("xas_stress: client %d: no handle (%ld)\n", idx, h);
		return 1;
	}
	for (long i = 0; i <= n; i++) {
		uint64_t arg = ((uint64_t)idx << 32) | (i == n ? DONE_LO : (uint64_t)i);
		long r = xas_fpu(SPIN_XAS_CALL, 0, arg, &res, pat + ((uint64_t)i << 16), &after);

		if (r != 0)
			fail("client call: %ld (i %ld)", r, i);
		else if (res != 3 * arg + XAS_SECRET)
			fail("client result %#lx for arg %#lx", (long)res, (long)arg);
		if (after != pat + ((uint64_t)i << 16))
			fail("client xmm5 %#lx, want %#lx", (long)after,
			     (long)(pat + ((uint64_t)i << 16)));
		if (bad > 5)
			return 1;
	}
	return bad != 0;
}

static int many(int k, long n, long work)
{
	long h = xas_raw(SPIN_XAS_REGISTER, 0, 0, 0);
	uint64_t arg, after, result = 0, served = 0, pat = 0x5e4e000000000000ull;
	pid_t pids[8];
	int dones = 0;

	secret = XAS_SECRET;
	if (h < 0 || k < 1 || k > 8 || n < 1) {
		printf("xas_stress: bad setup (handle %ld, %d clients)\n", h, k);
		return 1;
	}
	for (int i = 0; i < k; i++) {
		pids[i] = fork();
		if (pids[i] == 0)
			_exit(many_client(i + 1, n));
		if (pids[i] < 0) {
			printf("xas_stress: fork: %d\n", (int)pids[i]);
			return 1;
		}
		for (int t = 0; xas_raw(SPIN_XAS_GRANT, h, pids[i], 0) != 0; t++)
			if (t > 2000)
				return printf("xas_stress: cannot grant to %d\n", (int)pids[i]), 1;
			else
				sleep_ms(1);
	}
	for (;;) {
		long r = xas_fpu(SPIN_XAS_RETURN, h, result, &arg, pat + served, &after);

		if (r != 0) {
			fail("server return: %ld after %ld calls", r, (long)served);
			return 1;
		}
		if (after != pat + served)
			fail("server xmm5 %#lx, want %#lx", (long)after, (long)(pat + served));
		result = 3 * arg + secret;
		served++;
		if ((arg & DONE_LO) == DONE_LO && ++dones == k)
			break;
		/* Work in the call, so that calls overlap: queued callers,
		 * served by the server's own strand, whose Return then races
		 * with calls from the other CPU. */
		for (volatile long w = 0; w < work; w++)
			;
	}
	if (xas_raw(SPIN_XAS_REPLY, h, (long)result, 0) != 0)
		fail("server reply failed (%ld %ld)", 0, 0);
	for (int i = 0; i < k; i++) {
		int st = -1;

		if (waitpid(pids[i], &st, 0) != pids[i] || !WIFEXITED(st) || WEXITSTATUS(st))
			fail("client %ld: status %#lx", i + 1, st);
	}
	/* Each client: one call in xas_wait_handle, n calls, the last. */
	if (served != (uint64_t)k * (uint64_t)(n + 2))
		fail("served %ld calls, want %ld", (long)served, (long)k * (n + 2));
	printf("xas_stress: %d clients x %ld calls, %llu served\n", k, n,
	       (unsigned long long)served);
	return bad != 0;
}

/* ---- life ---- */

/* The server of `life`, forked by its client. */
static int life_server(void)
{
	long h = xas_raw(SPIN_XAS_REGISTER, 0, 0, 0), h2 = xas_raw(SPIN_XAS_REGISTER, 0, 0, 0), r;
	uint64_t arg = 0, result = 0, argp = 0;

	secret = XAS_SECRET;
	if (h != 0 || h2 != 1 || xas_raw(SPIN_XAS_GRANT, h, getppid(), 0) < 0)
		return 1;
	for (;;) {
		r = xas_raw2(SPIN_XAS_RETURN, h, (long)result, (long)argp, &arg);
		if (argp) {
			/* The call was delivered (rdx) but not written at argp. */
			argp = 0;
			result = r == -14 ? 1000 + arg : 2000 + (uint64_t)-r;
			continue;
		}
		if (r < 0)
			return 2;
		if (arg == ARG_BUSY) {
			/* Borrowed: only the call being served can be answered. */
			long r1 = xas_raw(SPIN_XAS_REPLY, h2, 1, 0);
			uint64_t a2;
			long r2 = xas_raw2(SPIN_XAS_RETURN, h2, 1, 0, &a2);

			result = (uint64_t)(-r1 * 100 - r2);
		} else if (arg == ARG_ARGP) {
			argp = UNMAPPED;
			result = 1;
		} else if (arg == ARG_FORK) {
			/* On the client's strand: fork, and wait for the child. */
			int st = -1;
			pid_t c = fork();

			if (c == 0)
				_exit(7);
			result = c > 0 && waitpid(c, &st, 0) == c && WIFEXITED(st)
			             ? (uint64_t)WEXITSTATUS(st)
			             : 1000 + (uint64_t)(c < 0 ? -c : 0);
		} else if (arg == ARG_EXEC) {
			char *argv[] = {"/bin/xas_stress", "execd", 0};

			execv(argv[0], argv);
			result = 0xbad; /* the call is answered: the client sees it */
		} else {
			result = 3 * arg + secret;
		}
	}
}

/* The server's new image after ARG_EXEC: its portal (handle 0) survived;
 * the call that asked for the exec is still pending. */
static int execd(void)
{
	uint64_t arg = 0, result = EXECD_HI;

	for (;;) {
		long r = xas_raw2(SPIN_XAS_RETURN, 0, (long)result, 0, &arg);

		if (r < 0)
			return 3;
		if (arg == ARG_SLEEP)
			for (;;)
				sleep_ms(5); /* until killed, on the client's strand */
		result = 5 * arg;
	}
}

static void expect_call(const char *what, uint64_t arg, long want_r, uint64_t want)
{
	uint64_t res = 0;
	long r = xas_raw2(SPIN_XAS_CALL, 0, (long)arg, 0, &res);

	if (r != want_r || (r == 0 && res != want)) {
		printf("xas_stress: FAIL %s: %ld, result %#llx (want %ld, %#llx)\n", what, r,
		       (unsigned long long)res, want_r, (unsigned long long)want);
		bad++;
	}
}

static int life(bool borrowed)
{
	pid_t s = fork(), k;
	int st = -1;
	long h;

	if (s == 0)
		_exit(life_server());
	if (s < 0)
		return printf("xas_stress: fork: %d\n", (int)s), 1;
	h = xas_wait_handle();
	if (h < 0)
		return printf("xas_stress: no handle (%ld)\n", h), 1;
	expect_call("plain call", 5, 0, 15 + XAS_SECRET);
	/* On one CPU every call borrows (the server's strand is off the CPU
	 * when the client runs); on two a call may find it still leaving. */
	if (borrowed)
		expect_call("answer another portal while borrowed", ARG_BUSY, 0, 16 * 100 + 16);
	expect_call("next argp unmapped", ARG_ARGP, 0, 1);
	expect_call("delivered, not written", 9, 0, 1009);
	expect_call("server forks and waits", ARG_FORK, 0, 7);
	expect_call("after the fork", 6, 0, 18 + XAS_SECRET);
	expect_call("server executes", ARG_EXEC, 0, EXECD_HI);
	expect_call("the new image serves", 7, 0, 35);
	k = fork();
	if (k == 0) {
		sleep_ms(100);
		_exit(kill(s, SIGKILL) == 0 ? 0 : 1);
	}
	expect_call("server killed in the call", ARG_SLEEP, -EPIPE, 0);
	expect_call("after the server's end", 8, -EPIPE, 0);
	if (waitpid(s, &st, 0) != s || !WIFSIGNALED(st) || WTERMSIG(st) != SIGKILL)
		fail("server status %#lx (%ld)", st, 0);
	if (k < 0 || waitpid(k, &st, 0) != k || !WIFEXITED(st) || WEXITSTATUS(st))
		fail("killer status %#lx (%ld)", st, 0);
	return bad != 0;
}

/* ---- killidle ---- */

/* A server killed while it waits for calls (its strand blocked in the
 * portal, no call running) must end, and calls then fail with -EPIPE. */
static int killidle(void)
{
	pid_t s = fork();
	int st = -1, t;
	long h;

	if (s == 0)
		_exit(life_server());
	if (s < 0)
		return 1;
	h = xas_wait_handle();
	if (h < 0)
		return printf("xas_stress: no handle (%ld)\n", h), 1;
	sleep_ms(20); /* the server waits in its Return */
	if (kill(s, SIGKILL) != 0)
		fail("kill: %ld (%ld)", -1, 0);
	for (t = 0; t < 2000 && waitpid(s, &st, WNOHANG) == 0; t++)
		sleep_ms(1);
	if (t == 2000) {
		fail("a server killed while waiting has not ended after %ld ms (%ld)", t, 0);
		return 1;
	}
	if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGKILL)
		fail("server status %#lx (%ld)", st, 0);
	expect_call("after the kill", 4, -EPIPE, 0);
	return bad != 0;
}

/* ---- die ---- */

/* Serve m calls from clients with pids s+1..s+k, then exit with the next
 * call unanswered (on whichever strand runs it: often the caller's). */
static int die_server(int k, long m)
{
	long h = xas_raw(SPIN_XAS_REGISTER, 0, 0, 0);
	uint64_t arg = 0, result = 0;
	int me = getpid();

	secret = XAS_SECRET;
	if (h < 0)
		return 1;
	for (int i = 1; i <= k; i++)
		for (int t = 0; xas_raw(SPIN_XAS_GRANT, h, me + i, 0) < 0; t++)
			if (t > 2000)
				return 1;
			else
				sleep_ms(1);
	for (long served = 0;; served++) {
		if (xas_raw2(SPIN_XAS_RETURN, h, (long)result, 0, &arg) < 0)
			return 2;
		if (served == m)
			return 3; /* the pending call and the queue fail: -EPIPE */
		result = 3 * arg + secret;
	}
}

/* Call until -EPIPE; every answer before it must be right. */
static int die_client(int idx)
{
	uint64_t res;
	long r = xas_wait_handle(), i;

	if (r < 0)
		return 1;
	for (i = 0;; i++) {
		uint64_t arg = ((uint64_t)idx << 32) | (uint64_t)i;

		r = xas_raw2(SPIN_XAS_CALL, 0, (long)arg, 0, &res);
		if (r == -EPIPE)
			break;
		if (r != 0 || res != 3 * arg + XAS_SECRET) {
			printf("xas_stress: FAIL client %d call %ld: %ld, %#llx\n", idx, i, r,
			       (unsigned long long)res);
			return 1;
		}
	}
	return xas_raw2(SPIN_XAS_CALL, 0, 1, 0, &res) == -EPIPE ? 0 : 1;
}

static int die(int k, long m)
{
	pid_t s = fork(), c[8];
	int st = -1;

	if (s == 0)
		_exit(die_server(k, m));
	if (s < 0 || k < 1 || k > 8)
		return 1;
	/* pids are handed out in order: the clients are s+1..s+k. */
	for (int i = 0; i < k; i++)
		if ((c[i] = fork()) == 0)
			_exit(die_client(i + 1));
	if (waitpid(s, &st, 0) != s || !WIFEXITED(st) || WEXITSTATUS(st) != 3)
		fail("server status %#lx (%ld)", st, 0);
	for (int i = 0; i < k; i++)
		if (c[i] != s + 1 + i || waitpid(c[i], &st, 0) != c[i] || !WIFEXITED(st) ||
		    WEXITSTATUS(st))
			fail("client status %#lx (pid %ld)", st, c[i]);
	printf("xas_stress: %d clients, server gone after %ld calls\n", k, m);
	return bad != 0;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	int rc;

	if (!strcmp(mode, "execd"))
		return execd();
	if (!strcmp(mode, "many"))
		rc = many(argc > 2 ? atoi(argv[2]) : 3, argc > 3 ? atol(argv[3]) : 2000,
		          argc > 4 ? atol(argv[4]) : 0);
	else if (!strcmp(mode, "life"))
		rc = life(argc > 2 && !strcmp(argv[2], "borrowed"));
	else if (!strcmp(mode, "killidle"))
		rc = killidle();
	else if (!strcmp(mode, "die"))
		rc = die(argc > 2 ? atoi(argv[2]) : 3, argc > 3 ? atol(argv[3]) : 1500);
	else
		return printf(
		           "usage: xas_stress many [K [N [W]]] | life [borrowed] | die [K [M]]\n"),
		       2;
	printf("xas_stress: %s %s\n", mode, rc ? "FAILED" : "ok");
	return rc;
}
