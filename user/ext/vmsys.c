/*
 * vmsys.c: application-specific VM system calls and fault handling, as an
 * extension a user process loads for itself (SPIN Table 4: user-level VM
 * through system calls implemented as kernel extensions plus a
 * Translation.ProtectionFault handler for the application's address
 * space).  Loaded with SPIN_SYS_EXT_LOAD, it is tied to that process: its
 * system-call handler gets an imposed guard "the caller is the loading
 * process" (MachineTrap's authorizer), its fault handler one "the fault is
 * in that process's context" (the memory module's, after the grant), and
 * VMApp_Setup receives handles for the context and the process's range.
 * Its own guard takes the numbers of user/vmsys.h.
 *
 * In trap mode the fault handler reads Clock.Cycles (SpinPublic) before
 * anything else and keeps it for VM_TRAPPED, so the process can time
 * "faulting write -> its own handler's entry" (Table 4's Trap) with the
 * counter it reads itself in ring 3.  Only trap mode pays for the read:
 * the Fault and Appel figures stay the handler's work alone.
 */
#include <spindle/clock.h>
#include <spindle/dispatcher.h>
#include <spindle/machinetrap.h>
#include <spindle/translation.h>
#include <spindle/vmapp.h>

#include "user/vmsys.h"

SPINDLE_LICENSE("GPL");

#define PAGE     4096ull
#define PROT_RU  9ull  /* R | U */
#define PROT_RWU 11ull /* R | W | U */
#define EINVAL   22

u64 ctx, range, base, lo, hi, mode, other, faults, trapped;

SPINDLE_EXPORT
s64 VMApp_Setup(u64 c, u64 v, u64 b)
{
	ctx = c;
	range = v;
	base = b;
	return 0;
}

SPINDLE_GUARD(MachineTrap_Syscall)
u64 is_vm(struct MachineTrap_Process *p, struct MachineTrap_SavedState *ss)
{
	return MachineTrap_Number(ss) - VM_PROTECT < VM_COUNT;
}

SPINDLE_HANDLER(MachineTrap_Syscall)
s64 on_vm(struct MachineTrap_Process *p, struct MachineTrap_SavedState *ss)
{
	u64 nr = MachineTrap_Number(ss);
	u64 a0 = MachineTrap_Arg(ss, 0), a1 = MachineTrap_Arg(ss, 1);

	if (nr == VM_PROTECT || nr == VM_UNPROTECT) {
		if (a0 < base || (a0 & (PAGE - 1)))
			return -EINVAL;
		return Translation_ChangeMapping(ctx, range, a0 - base, a1,
		                                 nr == VM_PROTECT ? PROT_RU : PROT_RWU);
	}
	if (nr == VM_DIRTY)
		return Translation_Dirty(ctx, a0);
	if (nr == VM_PROT)
		return Translation_ExamineMapping(ctx, a0);
	if (nr == VM_REGION) {
		if (a0 < base || (a0 & (PAGE - 1)) || a1 > (1ull << 20))
			return -EINVAL;
		lo = a0;
		hi = a0 + a1 * PAGE;
		return 0;
	}
	if (nr == VM_MODE) {
		if (a0 > VM_MODE_TRAP || (a0 == VM_MODE_APPEL1 && (a1 < base || (a1 & (PAGE - 1)))))
			return -EINVAL;
		mode = a0;
		other = a1;
		return (s64)faults;
	}
	if (nr == VM_PROBE) /* forged handles: its own with bits flipped */
		return Translation_ExamineMapping(ctx ^ a0, a1);
	if (nr == VM_CLOCK)
		return (s64)Clock_Cycles();
	if (nr == VM_TRAPPED)
		return (s64)trapped;
	return -38; /* -ENOSYS: the guard admits nothing else */
}

/* A write to a page of the region that was protected: make it writable
 * (and, in Appel1 mode, protect the other page); the access restarts.  In
 * trap mode the entry time comes first, before any of the handler's work. */
SPINDLE_HANDLER(Translation_ProtectionFault)
u64 on_fault(u64 context, u64 address, u64 access, u64 pc)
{
	u64 m = mode; /* read once: the trap-mode test costs Fault and Appel little */

	if (m == VM_MODE_TRAP)
		trapped = Clock_Cycles();
	if (address < lo || address >= hi)
		return 0;
	if (Translation_ChangeMapping(context, range, (address & ~(PAGE - 1)) - base, 1, PROT_RWU) <
	    0)
		return 0;
	if (m == VM_MODE_APPEL1)
		Translation_ChangeMapping(context, range, other - base, 1, PROT_RU);
	faults++;
	return 1;
}

SPINDLE_INIT
u64 init(void)
{
	long long b = SPINDLE_INSTALL("on_vm,is_vm", 0);

	if (b >= 0)
		b = SPINDLE_INSTALL("on_fault", 0);
	return b < 0 ? (u64)-b : 0;
}
