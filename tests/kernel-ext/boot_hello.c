/*
 * boot_hello.c: loaded at boot from the manifest.  Its initialiser greets
 * through the Console capability, and it exports Package_Stat so the
 * lifecycle test can call into it before and after a reload.
 */
#include <spindle/console.h>
#include <spindle/package.h>

SPINDLE_LICENSE("GPL");

u64 inits;

SPINDLE_EXPORT
u64 Package_Stat(u64 what)
{
	return what == 99 ? inits : 0;
}

SPINDLE_INIT
u64 init(void)
{
	static const char msg[] = "boot_hello: loaded from the boot manifest";
	struct Console_T *c = Console_Open();

	if (!c)
		return 1;
	Console_Write(c, msg, sizeof(msg) - 1);
	Console_Close(c);
	inits++;
	return 0;
}
