/*
 * ext_stats_user.c: a handler that calls Stats_Scale, exported by another
 * extension (ext_stats.c) and resolved against that extension's domain.
 */
#include <spindle/dispatcher.h>
#include <spindle/gatekeeper.h>
#include <spindle/stats.h>

SPINDLE_LICENSE("GPL");

SPINDLE_HANDLER(Gatekeeper_IntruderAlert)
u64 scaled(u64 level, u64 code)
{
	return Stats_Scale(level, code) + 5;
}

SPINDLE_INIT
u64 init(void)
{
	return SPINDLE_INSTALL("scaled", 0) < 0;
}
