/*
 * m_async.c: an IntruderAlert handler that its authority constrains to run
 * asynchronously.  It writes through the console, so the test can see when
 * (and that) it ran, and returns 2000 + code, a result no raiser receives.
 */
#include <spindle/console.h>
#include <spindle/dispatcher.h>
#include <spindle/gatekeeper.h>

SPINDLE_LICENSE("GPL");

SPINDLE_HANDLER(Gatekeeper_IntruderAlert)
u64 later(u64 level, u64 code)
{
	static const char msg[] = "async handler ran";
	struct Console_T *c = Console_Open();

	if (c) {
		Console_Write(c, msg, sizeof(msg) - 1);
		Console_Close(c);
	}
	return 2000 + code;
}

SPINDLE_INIT
u64 init(void)
{
	long long r = SPINDLE_INSTALL("later", 0);
	return r < 0 ? (u64)-r : 0;
}
