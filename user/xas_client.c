/* xas_client: the cross-address-space call from the client side - round
 * trips through the server's portal (the result proves the procedure ran
 * in the server), hostile arguments (bad handles, wild result pointers,
 * server-only calls), then XAS_DIE: the server exits with the call
 * pending, which must fail with -EPIPE (no hang), as must later calls. */
#include <stdint.h>
#include <stdio.h>

#define CHECK_PROG "xas_client"
#include "check.h"
#include "xas.h"

int main(void)
{
	uint64_t res = 0;
	long r = xas_wait_handle();
	int ok = 0;

	if (r) {
		printf("xas_client: FAIL no handle (%ld)\n", r);
		return 1;
	}
	/* Odd calls pass a result pointer, even ones take rdx alone. */
	for (uint64_t i = 0; i < 1000; i++) {
		uint64_t rdx = 0;

		res = 0;
		r = xas_raw2(SPIN_XAS_CALL, 0, (long)i, i & 1 ? (long)&res : 0, &rdx);
		if (r == 0 && rdx == 3 * i + XAS_SECRET && res == (i & 1 ? rdx : 0))
			ok++;
	}
	res = 3 * 999 + XAS_SECRET;
	expect("round trips right", ok, 1000);
	printf("xas_client: %d round trips, last result %llu\n", ok, (unsigned long long)res);
	expect("call, no result pointer", xas_raw(SPIN_XAS_CALL, 0, 7, 0), 0);
	expect("call, kernel out", xas_raw(SPIN_XAS_CALL, 0, 7, (long)0xffff800000000000l), -14);
	expect("call, non-canonical out", xas_raw(SPIN_XAS_CALL, 0, 7, (long)0x800000000000l), -14);
	expect("call, wrapping out", xas_raw(SPIN_XAS_CALL, 0, 7, -4l), -14);
	/* In range but unmapped: the call runs, storing the result fails. */
	expect("call, unmapped out", xas_raw(SPIN_XAS_CALL, 0, 7, 8), -14);
	expect("call, read-only out", xas_raw(SPIN_XAS_CALL, 0, 7, (long)&main), -14);
	expect("call handle 1", xas_raw(SPIN_XAS_CALL, 1, 7, (long)&res), -9);
	expect("call handle 8", xas_raw(SPIN_XAS_CALL, 8, 7, (long)&res), -9);
	expect("call handle -1", xas_raw(SPIN_XAS_CALL, -1, 7, (long)&res), -9);
	expect("return on a granted handle", xas_raw(SPIN_XAS_RETURN, 0, 0, 0), -1);
	expect("reply on a granted handle", xas_raw(SPIN_XAS_REPLY, 0, 0, 0), -1);
	expect("grant a granted handle", xas_raw(SPIN_XAS_GRANT, 0, 1, 0), -1);
	expect("still works", xas_raw(SPIN_XAS_CALL, 0, 5, (long)&res) == 0 && res == 1015, 1);
	expect("server dies", xas_raw(SPIN_XAS_CALL, 0, XAS_DIE, (long)&res), -32);
	expect("server gone", xas_raw(SPIN_XAS_CALL, 0, 1, (long)&res), -32);
	printf("xas_client: %s\n", failed ? "FAIL" : "ok");
	return failed != 0;
}
