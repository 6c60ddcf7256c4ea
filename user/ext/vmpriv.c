/*
 * vmpriv.c: an extension no process may load.  It reads the public clock
 * (Clock.Cycles, fine) and the benchmarks' private Bench.Mark, which is in
 * no domain a process's extension is linked against (SpinPublic and
 * MachineTrap's), so SPIN_SYS_EXT_LOAD must refuse it at link time, naming
 * Bench_Mark (user/vmuser.c checks the refusal and the message).  Making
 * Clock public must not have made anything private reachable.
 */
#include <spindle/bench.h>
#include <spindle/clock.h>

SPINDLE_LICENSE("GPL");

SPINDLE_INIT
u64 init(void)
{
	return Bench_Mark() < Clock_Cycles() ? 0 : 1;
}
