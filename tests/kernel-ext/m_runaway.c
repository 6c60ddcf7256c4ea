/*
 * m_runaway.c: a handler that acquires a console and then never returns.
 * The verifier accepts the loop (it is metered); the JIT's fuel aborts it,
 * the dispatcher releases the console it still holds and disables the
 * binding, and the kernel goes on.
 */
#include <spindle/console.h>
#include <spindle/dispatcher.h>
#include <spindle/gatekeeper.h>

SPINDLE_LICENSE("GPL");

SPINDLE_HANDLER(Gatekeeper_IntruderAlert)
u64 spin_forever(u64 level, u64 code)
{
	struct Console_T *c = Console_Open();
	volatile u64 n = level;

	if (!c)
		return 0;
	while (n != code + 1000000007ull)
		n = n * 3 + 1;
	Console_Close(c);
	return n;
}

SPINDLE_INIT
u64 init(void)
{
	long long r = SPINDLE_INSTALL("spin_forever", 0);
	return r < 0 ? (u64)-r : 0;
}
