/*
 * m_order.c: two handlers with ordering constraints and results for the
 * event's result handler to combine.  Each writes its letter to the console,
 * so the order they ran in is visible.
 */
#include <spindle/console.h>
#include <spindle/dispatcher.h>
#include <spindle/gatekeeper.h>

SPINDLE_LICENSE("GPL");

static u64 mark(const char *m, u64 r)
{
	struct Console_T *c = Console_Open();
	if (!c)
		return 0;
	Console_Write(c, m, 1);
	Console_Close(c);
	return r;
}

SPINDLE_HANDLER(Gatekeeper_IntruderAlert)
u64 last(u64 level, u64 code)
{
	return mark("L", level + 200);
}

SPINDLE_HANDLER(Gatekeeper_IntruderAlert)
u64 first(u64 level, u64 code)
{
	return mark("F", level + 100);
}

SPINDLE_INIT
u64 init(void)
{
	/* Installed LAST first: the constraint, not install order, decides. */
	if (SPINDLE_INSTALL("last", SPINDLE_LAST) < 0)
		return 1;
	if (SPINDLE_INSTALL("first", SPINDLE_FIRST) < 0)
		return 2;
	return 0;
}
