/*
 * xas.c: the cross-address-space call as an extension (SPIN Table 2: the
 * protected procedure call is built from system calls into and out of the
 * kernel plus in-kernel calls).  It handles MachineTrap.Syscall for the
 * numbers SPIN_XAS_* only (its guard) and turns each into a call on the
 * native Portal interface (kernel/portal.c), which keeps portals and
 * handles, blocks the client and hands the processor to the server and
 * back.  The kernel loads it from the root file system at boot
 * (exts=/ext/xas.o), linked against SpinPrivate: MachineTrap and Portal
 * are private interfaces.
 */
#include <spindle/dispatcher.h>
#include <spindle/machinetrap.h>
#include <spindle/portal.h>
#include <spindle/spin_syscall.h>

SPINDLE_LICENSE("GPL");

SPINDLE_GUARD(MachineTrap_Syscall)
u64 is_xas(struct MachineTrap_Process *p, struct MachineTrap_SavedState *ss)
{
	return MachineTrap_Number(ss) - SPIN_XAS_BASE < SPIN_XAS_COUNT;
}

SPINDLE_HANDLER(MachineTrap_Syscall)
s64 on_xas(struct MachineTrap_Process *p, struct MachineTrap_SavedState *ss)
{
	u64 nr = MachineTrap_Number(ss);

	/* The round trip's two calls first, each reading only its own
	 * arguments (MachineTrap's accessors are single loads in the JIT);
	 * expected, so that the compiler keeps the test order instead of a
	 * search on the numbers' values. */
	if (__builtin_expect(nr == SPIN_XAS_CALL, 1))
		return Portal_Call(MachineTrap_Arg(ss, 0), MachineTrap_Arg(ss, 1),
		                   MachineTrap_Arg(ss, 2));
	if (__builtin_expect(nr == SPIN_XAS_RETURN, 1))
		return Portal_Return(MachineTrap_Arg(ss, 0), MachineTrap_Arg(ss, 1),
		                     MachineTrap_Arg(ss, 2), 1);
	if (nr == SPIN_XAS_REPLY)
		return Portal_Return(MachineTrap_Arg(ss, 0), MachineTrap_Arg(ss, 1), 0, 0);
	if (nr == SPIN_XAS_REGISTER)
		return Portal_Register();
	if (nr == SPIN_XAS_GRANT)
		return Portal_Grant(MachineTrap_Arg(ss, 0), MachineTrap_Arg(ss, 1));
	return -38; /* -ENOSYS: the guard admits nothing else */
}

SPINDLE_INIT
u64 init(void)
{
	long long b = SPINDLE_INSTALL("on_xas,is_xas", 0);

	return b < 0 ? (u64)-b : 0;
}
