/*
 * machinetrap.c: MachineTrap.Number and MachineTrap.Arg (interfaces/
 * machinetrap.idl) - the saved registers of a system call, read for
 * handlers and guards (extensions among them), which may pass the opaque
 * saved state on but never dereference it.  Pure reads of the frame the
 * trap path built; portable (the frame's layout is the arch contract
 * <arch/trap.h>), so the host tests link it too.
 */
#include <arch/trap.h>

#include "spindle_interfaces.h"

uint64_t MachineTrap_Number(struct MachineTrap_SavedState *ss)
{
	return ((const struct trap_frame *)ss)->rax;
}

uint64_t MachineTrap_Arg(struct MachineTrap_SavedState *ss, uint64_t i)
{
	const struct trap_frame *f = (const struct trap_frame *)ss;

	switch (i) {
	case 0:
		return f->rdi;
	case 1:
		return f->rsi;
	case 2:
		return f->rdx;
	case 3:
		return f->r10;
	case 4:
		return f->r8;
	case 5:
		return f->r9;
	default:
		return 0;
	}
}

/* The same reads for the JIT to emit in line (runtime/embed.h, struct
 * rt_inline): the call costs more than the load it makes. */
#define MT_OFF(r) ((uint16_t) __builtin_offsetof(struct trap_frame, r))
static const struct rt_inline machinetrap_number_inline = {
    &MachineTrap_Number_sig, 1, {MT_OFF(rax)}};
static const struct rt_inline machinetrap_arg_inline = {
    &MachineTrap_Arg_sig,
    6,
    {MT_OFF(rdi), MT_OFF(rsi), MT_OFF(rdx), MT_OFF(r10), MT_OFF(r8), MT_OFF(r9)}};

int machinetrap_inline_init(void)
{
	int err = rt_inline_register(&machinetrap_number_inline);

	return err ? err : rt_inline_register(&machinetrap_arg_inline);
}
