/*
 * bench_ext.c: the extension side of bench-dispatch.  add2 is the callee of
 * a kernel->extension call; call_level calls the kernel's Gatekeeper.Level
 * n times (extension->kernel calls); nop_handler is an event handler.
 */
#include <spindle/gatekeeper.h>

SPINDLE_LICENSE("GPL");

SPINDLE_HANDLER(Gatekeeper_IntruderAlert)
u64 add2(u64 a, u64 b)
{
	return a + b;
}

SPINDLE_HANDLER(Gatekeeper_IntruderAlert)
u64 call_level(u64 n, u64 unused)
{
	u64 s = 0;
	(void)unused;
	for (u64 i = 0; i < n && i < 100000; i++)
		s += Gatekeeper_Level();
	return s;
}
