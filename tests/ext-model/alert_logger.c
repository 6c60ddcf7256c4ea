/*
 * alert_logger.c: the paper's Gatekeeper example as a real extension.  Its
 * handler on Gatekeeper.IntruderAlert opens the console through the Console
 * interface (an import resolved against its domain), writes the alert and
 * closes it again; its guard lets only alerts at or above Gatekeeper's
 * current level through.
 */
#include <spindle/console.h>
#include <spindle/gatekeeper.h>

SPINDLE_LICENSE("GPL");

SPINDLE_GUARD(Gatekeeper_IntruderAlert)
u64 alert_serious(u64 level, u64 code)
{
	(void)code;
	return level >= Gatekeeper_Level();
}

SPINDLE_HANDLER(Gatekeeper_IntruderAlert)
u64 alert_log(u64 level, u64 code)
{
	static const char msg[] = "Intruder Alert";
	struct Console_T *c = Console_Open();

	if (!c)
		return 0;
	Console_Write(c, msg, sizeof(msg) - 1);
	Console_Close(c);
	return level * 10 + code;
}
