/*
 * uses_spl.c: an extension that raises the interrupt level.  SPL is a
 * private interface: this links against SpinPrivate and fails against
 * SpinPublic, naming SPL_High.
 */
#include <spindle/spl.h>

SPINDLE_LICENSE("GPL");

SPINDLE_EXPORT
u64 critical_section(u64 x)
{
	u64 old = SPL_High();
	x = x * 2 + 1;
	SPL_Restore(old);
	return x;
}
