/*
 * greet.c: an extension a user program loads with SPIN_SYS_EXT_LOAD
 * (user/extload.c).  It links against SpinPublic only, like any extension
 * an unprivileged requester loads; its initialiser greets on the console.
 */
#include <spindle/console.h>

SPINDLE_LICENSE("GPL");

SPINDLE_INIT
u64 init(void)
{
	static const char msg[] = "greet: an extension loaded by a user process";
	struct Console_T *c = Console_Open();

	if (!c)
		return 1;
	Console_Write(c, msg, sizeof(msg) - 1);
	Console_Close(c);
	return 0;
}
