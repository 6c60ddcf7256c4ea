/* xas_intruder: a third process beside xas_server and xas_client.  It
 * holds no handle for the server's portal, so it cannot call it, answer
 * for it or hand it out, whatever numbers it guesses; a portal of its own
 * works for it as for anyone. */
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "xas.h"

static int bad;

static void expect(const char *what, long h, long got, long want)
{
	if (got != want) {
		bad++;
		printf("xas_intruder: FAIL %s %ld: got %ld, want %ld\n", what, h, got, want);
	}
}

int main(void)
{
	struct timespec t = {0, 20000000};
	uint64_t res;
	long own;

	nanosleep(&t, 0); /* the server has granted its client's handle by now */
	for (long h = -2; h < 10; h++) {
		expect("call", h, xas_raw(SPIN_XAS_CALL, h, 1, (long)&res), -9);
		expect("return", h, xas_raw(SPIN_XAS_RETURN, h, 1, (long)&res), -9);
		expect("grant", h, xas_raw(SPIN_XAS_GRANT, h, 2, 0), -9);
	}
	own = xas_raw(SPIN_XAS_REGISTER, 0, 0, 0);
	expect("own portal", 0, own, 0);
	expect("call own portal", own, xas_raw(SPIN_XAS_CALL, own, 1, (long)&res), -35);
	expect("still no handle for the server's", 1, xas_raw(SPIN_XAS_CALL, 1, 1, (long)&res), -9);
	printf("xas_intruder: %s\n", bad ? "FAIL" : "ok");
	return bad != 0;
}
