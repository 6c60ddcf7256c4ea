/*
 * vm_bench_ext.c: the "application-specific system calls" of the paper's
 * Table 4 (spin-paper.md §3.4), as an extension.  The kernel's VM benchmark
 * (kernel/bench_vm.c, ids vm_*_ext) grants it one translation context
 * before loading it, so its Translation.ProtectionFault handler is
 * installed with the memory module's imposed guard and sees only that
 * context's faults.  VMApp_Setup hands it the context and range
 * capabilities and the range's base address; VMApp_Run performs one
 * operation through the Translation procedures it imports, between two
 * Bench_Mark timestamps, and returns the elapsed count (so the figure is
 * the extension invoking the VM system, as the paper measures Dirty).
 *
 * The handler resolves a fault by making the page read-write; in Appel1
 * mode it also protects another page (read-only); in Trap mode it first
 * marks the time of its entry.
 */
#include <spindle/bench.h>
#include <spindle/dispatcher.h>
#include <spindle/translation.h>
#include <spindle/vmapp.h>

SPINDLE_LICENSE("GPL");

#define PAGE    4096ull
#define PROT_R  1ull
#define PROT_RW 3ull

/* VMApp_Run operations. */
#define OP_MODE    0 /* x: handler mode, y: Appel1's other page offset */
#define OP_PROTECT 1 /* read-only: x offset, y pages */
#define OP_UNPROT  2 /* read-write: x offset, y pages */
#define OP_DIRTY   3 /* state of the page at offset x */
#define OP_PAIR    4 /* two marks and nothing between: the correction */

#define MODE_FAULT  0
#define MODE_TRAP   1
#define MODE_APPEL1 2

u64 ctx, range, base, mode, other, faults;

SPINDLE_HANDLER(Translation_ProtectionFault)
u64 on_protection_fault(u64 context, u64 address, u64 access, u64 pc)
{
	u64 off;

	if (mode == MODE_TRAP)
		Bench_Mark();
	if (address < base)
		return 0;
	off = (address & ~(PAGE - 1)) - base;
	if (Translation_ChangeMapping(context, range, off, 1, PROT_RW) < 0)
		return 0;
	if (mode == MODE_APPEL1)
		Translation_ChangeMapping(context, range, other, 1, PROT_R);
	faults++;
	return 1;
}

SPINDLE_EXPORT
s64 VMApp_Setup(u64 c, u64 v, u64 b)
{
	ctx = c;
	range = v;
	base = b;
	return 0;
}

SPINDLE_EXPORT
s64 VMApp_Run(u64 op, u64 x, u64 y)
{
	u64 t0, t1;
	s64 r = 0;

	if (op == OP_MODE) {
		mode = x;
		other = y;
		return (s64)faults;
	}
	t0 = Bench_Mark();
	if (op == OP_PROTECT)
		r = Translation_ChangeMapping(ctx, range, x, y, PROT_R);
	else if (op == OP_UNPROT)
		r = Translation_ChangeMapping(ctx, range, x, y, PROT_RW);
	else if (op == OP_DIRTY)
		r = Translation_Dirty(ctx, base + x);
	t1 = Bench_Mark();
	if (r < 0)
		return r;
	return (s64)(t1 - t0);
}

SPINDLE_INIT
u64 init(void)
{
	long long b = SPINDLE_INSTALL("on_protection_fault", 0);

	return b < 0 ? (u64)-b : 0;
}
