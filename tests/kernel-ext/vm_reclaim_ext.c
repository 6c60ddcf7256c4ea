/*
 * vm_reclaim_ext.c: a PhysAddr.Reclaim handler in an extension
 * (tests/kernel/vm_test.c, physaddr_reclaim_extension_nominates).  The test
 * tells it, through VMApp_Setup, which object to volunteer; the first time
 * Reclaim is raised with another candidate it nominates that object instead,
 * then it agrees with every candidate.  VMApp_Run(0) says how many times it
 * was asked, VMApp_Run(1) the last candidate it saw.
 */
#include <spindle/dispatcher.h>
#include <spindle/physaddr.h>
#include <spindle/vmapp.h>

SPINDLE_LICENSE("GPL");

u64 nominee, calls, last;

SPINDLE_HANDLER(PhysAddr_Reclaim)
u64 on_reclaim(u64 candidate)
{
	u64 n = nominee;

	calls++;
	last = candidate;
	if (n && n != candidate) {
		nominee = 0;
		return n;
	}
	return candidate;
}

SPINDLE_EXPORT
s64 VMApp_Setup(u64 a, u64 b, u64 c)
{
	nominee = a;
	return 0;
}

SPINDLE_EXPORT
s64 VMApp_Run(u64 op, u64 x, u64 y)
{
	return op == 0 ? (s64)calls : op == 1 ? (s64)last : -22;
}

SPINDLE_INIT
u64 init(void)
{
	long long b = SPINDLE_INSTALL("on_reclaim", 0);

	return b < 0 ? (u64)-b : 0;
}
