/*
 * uses_spl.c: raises the interrupt level through SPL, a private interface.
 * Linked against SpinPrivate (the boot manifest marks it privileged) it
 * loads; against SpinPublic the link fails naming SPL_High.
 */
#include <spindle/spl.h>

SPINDLE_LICENSE("GPL");

u64 rounds;

SPINDLE_INIT
u64 init(void)
{
	u64 old = SPL_High();
	rounds++;
	SPL_Restore(old);
	return 0;
}
