/*
 * ext_unmetered.c: extension code the dispatcher need not meter.  The
 * handler is loop-free and calls an interface procedure that can neither
 * abort nor hand out a reference, so it runs as native code (its unmetered
 * entry); the guard is a range test of one argument, so the dispatcher
 * tests it in line and never calls it.
 */
#include <spindle/dispatcher.h>
#include <spindle/gatekeeper.h>

SPINDLE_LICENSE("GPL");

SPINDLE_GUARD(Gatekeeper_IntruderAlert)
u64 middling(u64 level, u64 code)
{
	return level - 3 < 4; /* 3 <= level <= 6 */
}

SPINDLE_HANDLER(Gatekeeper_IntruderAlert)
u64 scaled(u64 level, u64 code)
{
	return level * 3 + code + Gatekeeper_Level();
}

SPINDLE_INIT
u64 init(void)
{
	long long b = SPINDLE_INSTALL("scaled,middling", 0);
	return b < 0 ? (u64)-b : 0;
}
