/*
 * ext_misuse.c: misuses the Dispatcher from its initialiser; every call
 * must fail cleanly.  init returns 0 only if each failed with the expected
 * error (so the load succeeds and exactly one binding exists).
 */
#include <spindle/dispatcher.h>
#include <spindle/gatekeeper.h>

SPINDLE_LICENSE("GPL");

SPINDLE_HANDLER(Gatekeeper_IntruderAlert)
u64 mine(u64 level, u64 code)
{
	return level + 1;
}

SPINDLE_GUARD(Gatekeeper_IntruderAlert)
u64 always(u64 level, u64 code)
{
	return 1;
}

SPINDLE_INIT
u64 init(void)
{
	if (SPINDLE_INSTALL("mine", 0) != 0)
		return 1;
	if (SPINDLE_INSTALL("mine", 0) != -17) /* double install: EEXIST */
		return 2;
	if (SPINDLE_INSTALL("log_alert", 0) != -2) /* another extension's: ENOENT */
		return 3;
	if (SPINDLE_INSTALL("always", 0) != -2) /* a guard is not a handler */
		return 4;
	if (SPINDLE_INSTALL("mine,mine", 0) != -2) /* a handler is not a guard */
		return 5;
	if (SPINDLE_INSTALL("mine", 3) != -22) /* FIRST and LAST: EINVAL */
		return 6;
	if (Dispatcher_Uninstall(7) != -2) /* not one of its bindings */
		return 7;
	return 0;
}
