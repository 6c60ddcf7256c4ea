/* check.h: expect() for the user/ test programs (forktest, hostile,
 * extload, vmuser, vmother, xas_client, xas_server), header only.  A
 * program defines CHECK_PROG, its name, before including it.  expect()
 * counts each check in `passed` or `failed` and prints a failed one as
 *     PROG: FAIL what: got G, want W
 * (tests/user/run-user.sh fails a case whose log holds "FAIL"), flushed at
 * once so that a fork cannot print it twice.  The program reports the counts
 * and picks its exit status itself. */
#ifndef USER_CHECK_H
#define USER_CHECK_H

#include <stdio.h>

#ifndef CHECK_PROG
#error "define CHECK_PROG (the program's name) before including check.h"
#endif

static int passed, failed;

static inline void expect(const char *what, long got, long want)
{
	if (got == want) {
		passed++;
	} else {
		failed++;
		printf(CHECK_PROG ": FAIL %s: got %ld, want %ld\n", what, got, want);
		fflush(stdout);
	}
}

#endif
