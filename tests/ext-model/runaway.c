/*
 * runaway.c: a handler that acquires a console and then never returns.
 * The verifier accepts the loop (it is metered); the JIT's fuel aborts it,
 * and the dispatcher must release the console it still holds.
 */
#include <spindle/console.h>
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
