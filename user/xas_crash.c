/* xas_crash: a client whose call makes xas_server fault while it serves
 * it.  With borrowing (kernel/portal.c) the server runs on this process's
 * strand when it faults: the fault must kill the server alone, and this
 * call must fail with -EPIPE (no hang), as must the next.  Meanwhile a few
 * ordinary round trips check the answers before and the state after. */
#include <stdint.h>
#include <stdio.h>

#include "xas.h"

int main(void)
{
	uint64_t res = 0, rdx = 0;
	long r = xas_wait_handle();
	int bad = 0;

	if (r) {
		printf("xas_crash: no handle (%ld)\n", r);
		return 1;
	}
	for (int i = 0; i < 10; i++) {
		r = xas_raw2(SPIN_XAS_CALL, 0, (uint64_t)i, 0, &rdx);
		if (r || rdx != 3 * (uint64_t)i + XAS_SECRET)
			bad++;
	}
	r = xas_raw(SPIN_XAS_CALL, 0, XAS_CRASH, (long)&res);
	if (r != -32)
		bad++;
	printf("xas_crash: call into the faulting server: %ld\n", r);
	r = xas_raw(SPIN_XAS_CALL, 0, 1, (long)&res);
	if (r != -32)
		bad++;
	printf("xas_crash: %s\n", bad ? "FAIL" : "ok");
	return bad != 0;
}
