/*
 * xas.c: the cross-address-space call as an extension (SPIN Table 2: the
 * protected procedure call is built from system calls into and out of the
 * kernel plus in-kernel calls).  It handles MachineTrap.Syscall for the
 * numbers SPIN_XAS_* only (its guards) and turns each into a call on the
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

/*
 * One handler per call, each guarded by its own numbers: the dispatcher
 * tests the guards in line (each is one range test of the system-call
 * number: runtime/guard_range.c) and calls only the handler whose guard
 * accepts, so a handler neither decodes the number again nor searches.
 * (One number per guard: clang may turn a range of two into a mask test,
 * which the dispatcher does not test in line.)
 * The round trip's two calls are installed first.
 */
SPINDLE_GUARD(MachineTrap_Syscall)
u64 is_call(struct MachineTrap_Process *p, struct MachineTrap_SavedState *ss)
{
	return MachineTrap_Number(ss) == SPIN_XAS_CALL;
}

SPINDLE_HANDLER(MachineTrap_Syscall)
s64 on_call(struct MachineTrap_Process *p, struct MachineTrap_SavedState *ss)
{
	return Portal_Call(MachineTrap_Arg(ss, 0), MachineTrap_Arg(ss, 1), MachineTrap_Arg(ss, 2));
}

SPINDLE_GUARD(MachineTrap_Syscall)
u64 is_return(struct MachineTrap_Process *p, struct MachineTrap_SavedState *ss)
{
	return MachineTrap_Number(ss) == SPIN_XAS_RETURN;
}

SPINDLE_HANDLER(MachineTrap_Syscall)
s64 on_return(struct MachineTrap_Process *p, struct MachineTrap_SavedState *ss)
{
	return Portal_Return(MachineTrap_Arg(ss, 0), MachineTrap_Arg(ss, 1), MachineTrap_Arg(ss, 2),
	                     1);
}

SPINDLE_GUARD(MachineTrap_Syscall)
u64 is_reply(struct MachineTrap_Process *p, struct MachineTrap_SavedState *ss)
{
	return MachineTrap_Number(ss) == SPIN_XAS_REPLY;
}

SPINDLE_HANDLER(MachineTrap_Syscall)
s64 on_reply(struct MachineTrap_Process *p, struct MachineTrap_SavedState *ss)
{
	return Portal_Return(MachineTrap_Arg(ss, 0), MachineTrap_Arg(ss, 1), 0, 0);
}

SPINDLE_GUARD(MachineTrap_Syscall)
u64 is_register(struct MachineTrap_Process *p, struct MachineTrap_SavedState *ss)
{
	return MachineTrap_Number(ss) == SPIN_XAS_REGISTER;
}

SPINDLE_HANDLER(MachineTrap_Syscall)
s64 on_register(struct MachineTrap_Process *p, struct MachineTrap_SavedState *ss)
{
	return Portal_Register();
}

SPINDLE_GUARD(MachineTrap_Syscall)
u64 is_grant(struct MachineTrap_Process *p, struct MachineTrap_SavedState *ss)
{
	return MachineTrap_Number(ss) == SPIN_XAS_GRANT;
}

SPINDLE_HANDLER(MachineTrap_Syscall)
s64 on_grant(struct MachineTrap_Process *p, struct MachineTrap_SavedState *ss)
{
	return Portal_Grant(MachineTrap_Arg(ss, 0), MachineTrap_Arg(ss, 1));
}

SPINDLE_INIT
u64 init(void)
{
	long long b = SPINDLE_INSTALL("on_call,is_call", 0);

	if (b >= 0)
		b = SPINDLE_INSTALL("on_return,is_return", 0);
	if (b >= 0)
		b = SPINDLE_INSTALL("on_reply,is_reply", 0);
	if (b >= 0)
		b = SPINDLE_INSTALL("on_register,is_register", 0);
	if (b >= 0)
		b = SPINDLE_INSTALL("on_grant,is_grant", 0);
	return b < 0 ? (u64)-b : 0;
}
