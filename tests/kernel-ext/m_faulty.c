/*
 * m_faulty.c: fails in every way the runtime detects while it runs.
 *   code 1: an endless loop (fuel runs out);
 *   code 2: the same while holding a console (the ledger releases it);
 *   code 3: its callee, another extension's Stats_Scale, runs away (the
 *           callee's abort ends the caller: RT_RUN_HELPER);
 *   otherwise it returns level + 1.
 */
#include <spindle/console.h>
#include <spindle/dispatcher.h>
#include <spindle/gatekeeper.h>
#include <spindle/stats.h>

SPINDLE_LICENSE("GPL");

SPINDLE_HANDLER(Gatekeeper_IntruderAlert)
u64 faulty(u64 level, u64 code)
{
	volatile u64 n = level;

	if (code == 1) {
		while (n != 1000000007ull)
			n = n * 3 + 1;
	} else if (code == 2) {
		struct Console_T *c = Console_Open();
		if (!c)
			return 0;
		while (n != 1000000007ull)
			n = n * 3 + 1;
		Console_Close(c);
	} else if (code == 3) {
		return Stats_Scale(level, 0xdead);
	}
	return n + 1;
}

SPINDLE_INIT
u64 init(void)
{
	return SPINDLE_INSTALL("faulty", 0) < 0;
}
