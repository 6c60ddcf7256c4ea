/*
 * trap.c: what happens after entry.S saved a trap frame.
 *
 * Vectors 32-255 are interrupts and go to irq_dispatch() (kernel/irq.c).
 * Vectors 0-31 are exceptions.  The kernel does not expect any, except when
 * a test armed a fault catch (<arch/fault.h>) for that vector: then the
 * exception is recorded and execution resumes at the catch's arm point.
 * Anything else is reported in full - name, error code decoded, every
 * register, CR2 for a page fault, a symbolized backtrace - and the machine
 * stops with a failure status.  A fault while reporting is detected and cut
 * short, so a broken kernel still ends with a failure exit, never a reboot.
 */
#include <stdbool.h>

#include <arch/cpu.h>
#include <arch/fault.h>
#include <arch/layout.h>
#include <arch/mmu.h>
#include <arch/percpu.h>
#include <arch/smp.h>
#include <arch/trap.h>
#include <arch/uspace.h>
#include <arch/x86.h>

#include "kernel/irq.h"
#include "kernel/kprintf.h"
#include "kernel/panic.h"
#include "kernel/sched.h"

struct fault_catch *fault_catch_current;
bool (*trap_pf_hook)(struct trap_frame *f);
struct trap_nmi_probe *volatile trap_nmi_probe;
static int trap_fatal_depth;

static const char *const trap_names[32][2] = {
    {"#DE", "divide error"},
    {"#DB", "debug"},
    {"NMI", "non-maskable interrupt"},
    {"#BP", "breakpoint"},
    {"#OF", "overflow"},
    {"#BR", "bound range exceeded"},
    {"#UD", "invalid opcode"},
    {"#NM", "device not available"},
    {"#DF", "double fault"},
    {"#CSO", "coprocessor segment overrun"},
    {"#TS", "invalid TSS"},
    {"#NP", "segment not present"},
    {"#SS", "stack-segment fault"},
    {"#GP", "general protection fault"},
    {"#PF", "page fault"},
    {"#15", "reserved vector 15"},
    {"#MF", "x87 floating-point error"},
    {"#AC", "alignment check"},
    {"#MC", "machine check"},
    {"#XM", "SIMD floating-point error"},
    {"#VE", "virtualization exception"},
    {"#CP", "control protection"},
    {"#22", "reserved vector 22"},
    {"#23", "reserved vector 23"},
    {"#24", "reserved vector 24"},
    {"#25", "reserved vector 25"},
    {"#26", "reserved vector 26"},
    {"#27", "reserved vector 27"},
    {"#HV", "hypervisor injection"},
    {"#VC", "VMM communication"},
    {"#SX", "security exception"},
    {"#31", "reserved vector 31"},
};

const char *trap_mnemonic(unsigned vector)
{
	return vector < 32 ? trap_names[vector][0] : "IRQ";
}

const char *trap_name(unsigned vector)
{
	return vector < 32 ? trap_names[vector][1] : "interrupt";
}

void fault_catch_disarm(struct fault_catch *fc)
{
	if (fault_catch_current == fc)
		fault_catch_current = 0;
}

void fault_catch_reset(void)
{
	fault_catch_current = 0;
}

/* The longjmp half of fault_catch_arm (fault.S). */
static bool fault_catch_take(struct trap_frame *f)
{
	struct fault_catch *fc = fault_catch_current;

	if (!fc || (fc->vector != FAULT_ANY && fc->vector != (int)f->vector) || (f->cs & 3) ||
	    fc->owner != arch_percpu_current())
		return false;
	fault_catch_current = 0;
	fc->caught_vector = (int)f->vector;
	fc->error = f->error;
	fc->addr = f->vector == TRAP_PF ? read_cr2() : 0;
	fc->pc = f->rip;
	f->rbx = fc->ctx[0];
	f->rbp = fc->ctx[1];
	f->r12 = fc->ctx[2];
	f->r13 = fc->ctx[3];
	f->r14 = fc->ctx[4];
	f->r15 = fc->ctx[5];
	f->rsp = fc->ctx[6];
	f->rip = fc->ctx[7];
	f->rax = 1;
	return true;
}

static void trap_decode_pf(uint64_t err)
{
	kprintf(" [%s, %s, %s%s%s%s]", (err & 1) ? "protection violation" : "not present",
	        (err & 2) ? "write" : "read", (err & 4) ? "user" : "kernel",
	        (err & 8) ? ", reserved bit set" : "", (err & 16) ? ", instruction fetch" : "",
	        (err & 32) ? ", protection key" : "");
}

/* Name the stack whose guard page RSP or CR2 is in: a stack overflow. */
static void trap_explain_overflow(struct trap_frame *f)
{
	const struct mmu_stack *s;
	size_t n = mmu_stacks(&s);
	uint64_t cr2 = f->vector == TRAP_PF ? read_cr2() : 0;

	for (size_t i = 0; i < n; i++) {
		uintptr_t guard = s[i].bottom - MMU_PAGE_SIZE;

		if ((f->rsp >= guard && f->rsp < s[i].bottom + 64) ||
		    (cr2 >= guard && cr2 < s[i].bottom))
			kprintf(
			    "  stack overflow: %s at the guard page below the %s stack [%lx-%lx)\n",
			    cr2 >= guard && cr2 < s[i].bottom ? "CR2" : "RSP", s[i].name,
			    (unsigned long)s[i].bottom, (unsigned long)s[i].top);
	}
}

static __attribute__((noreturn)) void trap_fatal(struct trap_frame *f)
{
	unsigned v = (unsigned)f->vector;

	if (++trap_fatal_depth > 1) {
		kprintf("\n*** nested %s (vector %u) at %lx while reporting a fault; stopping\n",
		        trap_mnemonic(v), v, f->rip);
		arch_exit(EXIT_CODE_PANIC);
	}
	kprintf("\n*** unexpected exception %s (%s, vector %u), error code 0x%lx", trap_mnemonic(v),
	        trap_name(v), v, f->error);
	if (v == TRAP_PF)
		trap_decode_pf(f->error);
	kprintf("\n");
	if (v == TRAP_PF)
		kprintf("  CR2 %016lx  (faulting address)\n", read_cr2());
	kprintf("  RIP %016lx  ", f->rip);
	panic_print_symbol(f->rip);
	kprintf("\n  CS  %04lx  SS %04lx  RFLAGS %016lx\n", f->cs, f->ss, f->rflags);
	kprintf("  RAX %016lx  RBX %016lx  RCX %016lx\n", f->rax, f->rbx, f->rcx);
	kprintf("  RDX %016lx  RSI %016lx  RDI %016lx\n", f->rdx, f->rsi, f->rdi);
	kprintf("  RBP %016lx  RSP %016lx  R8  %016lx\n", f->rbp, f->rsp, f->r8);
	kprintf("  R9  %016lx  R10 %016lx  R11 %016lx\n", f->r9, f->r10, f->r11);
	kprintf("  R12 %016lx  R13 %016lx  R14 %016lx\n", f->r12, f->r13, f->r14);
	kprintf("  R15 %016lx  CR0 %016lx  CR3 %016lx\n", f->r15, read_cr0(), read_cr3());
	kprintf("  CR4 %016lx\n", read_cr4());
	trap_explain_overflow(f);
	if (fault_catch_current)
		kprintf("  (a fault catch was armed for vector %d)\n", fault_catch_current->vector);
	panic_backtrace(f->rip, f->rbp);
	kprintf("*** stopping: unexpected exception\n");
	arch_exit(EXIT_CODE_PANIC);
}

/* this_cpu() is the point: it reads the GS base the entry path chose. */
static bool trap_nmi_probe_take(void)
{
	struct trap_nmi_probe *p = trap_nmi_probe;

	if (!p)
		return false;
	p->percpu = this_cpu();
	p->count++;
	return true;
}

void trap_dispatch(struct trap_frame *f)
{
	if (f->vector >= 32) {
		irq_dispatch((unsigned)f->vector);
		sched_irq_exit(); /* may switch strands: the frame stays on this stack */
		if (f->cs & 3)
			uspace_interrupted(f); /* back to a program: a signal may act */
		return;
	}
	if (f->vector == TRAP_NMI && smp_nmi_halt()) /* another CPU panicked */
		return;
	if (f->vector == TRAP_NMI && trap_nmi_probe_take())
		return;
	if (f->vector == TRAP_PF && trap_pf_hook && trap_pf_hook(f))
		return;
	if (uspace_trap(f)) /* user-copy fixups; exceptions of user processes */
		return;
	if (fault_catch_take(f))
		return;
	trap_fatal(f);
}
