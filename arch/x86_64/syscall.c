/*
 * syscall.c: x86-64 user-space plumbing - the syscall MSRs (on every CPU),
 * the kernel stack the entry switches to (in the per-CPU area, with
 * TSS.rsp0: <arch/percpu.h>), entering ring 3, the FS base, FPU/SSE control
 * and state, and the trap-path hook that turns faults in user-copy
 * routines into -EFAULT and ring-3 exceptions into the process layer's
 * fault handler.  The contract is <arch/uspace.h>.
 *
 * GDT layout relied on (cpu.c): kernel code 0x08, kernel data 0x10, user
 * data 0x18, user code 0x20 - the order STAR requires (sysret loads
 * CS = base + 16, SS = base + 8 with base 0x10; syscall loads CS = 0x08,
 * SS = 0x10).
 */
#include <arch/cpu.h>
#include <arch/percpu.h>
#include <arch/smp.h>
#include <arch/trap.h>
#include <arch/uspace.h>
#include <arch/x86.h>

#include "kernel/kprintf.h"
#include "kernel/uaccess.h"

#define CR0_MP         (1u << 1)
#define CR0_EM         (1u << 2)
#define CR0_TS         (1u << 3)
#define CR4_OSFXSR     (1u << 9)
#define CR4_OSXMMEXCPT (1u << 10)

/* RFLAGS cleared on syscall entry: TF DF IF IOPL AC NT. */
#define USPACE_FMASK 0x47700ull
/* RFLAGS bits a user program may have: CF PF AF ZF SF TF DF OF AC ID. */
#define USPACE_RFLAGS_USER  0x2408d5ull
#define USPACE_RFLAGS_FIXED 0x202ull /* bit 1, IF */

uspace_syscall_fn uspace_syscall_handler; /* called by syscall.S */
uspace_left_fn uspace_left_handler;       /* called by syscall.S */
static uspace_fault_fn uspace_fault_handler;
static uspace_intr_fn uspace_intr_handler;
uint8_t uspace_smap; /* read by usercopy.S */

extern char uspace_syscall_entry[], uspace_copy_begin[], uspace_copy_end[], uspace_copy_fault[];
void uspace_return_slow(struct trap_frame *f);

/* This CPU's part: the syscall MSRs and SSE for user programs.  The boot
 * CPU runs it from uspace_init, every other CPU during its bring-up. */
static void uspace_init_cpu(void)
{
	wrmsr(MSR_STAR, (0x10ull << 48) | (0x08ull << 32));
	wrmsr(MSR_LSTAR, (uint64_t)(uintptr_t)uspace_syscall_entry);
	wrmsr(MSR_FMASK, USPACE_FMASK);
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE);
	/* SSE for user programs: no emulation, no lazy switching trap. */
	write_cr0((read_cr0() & ~(uint64_t)(CR0_EM | CR0_TS)) | CR0_MP);
	write_cr4(read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT);
}

void uspace_init(uspace_syscall_fn syscall, uspace_fault_fn fault, uspace_left_fn left,
                 uspace_intr_fn intr)
{
	uspace_syscall_handler = syscall;
	uspace_left_handler = left;
	uspace_fault_handler = fault;
	uspace_intr_handler = intr;
	uspace_smap = (arch_cpu_features() & ARCH_FEAT_SMAP) ? 1 : 0;
	uspace_init_cpu();
	if (smp_register_ap_init(uspace_init_cpu))
		kprintf("uspace: no room for the AP hook; user programs on CPU 0 only\n");
}

void uspace_fpu_init(void *area)
{
	uint8_t *a = area;
	uint16_t fcw = 0x37f;
	uint32_t mxcsr = 0x1f80;

	for (unsigned i = 0; i < USPACE_FPU_AREA; i++)
		a[i] = 0;
	__builtin_memcpy(a, &fcw, 2);
	__builtin_memcpy(a + 24, &mxcsr, 4);
}

/* The frame's rflags as a user program may have them. */
static void uspace_sanitise(struct trap_frame *f)
{
	f->rflags = (f->rflags & USPACE_RFLAGS_USER) | USPACE_RFLAGS_FIXED;
	f->cs = USPACE_USER_CS;
	f->ss = USPACE_USER_DS;
}

/* A non-canonical rip can be returned to by neither sysret nor iret
 * (both fault in ring 0): the program asked for an impossible jump. */
static bool uspace_returnable(const struct trap_frame *f)
{
	return f->rip < 0x0000800000000000ull;
}

/* The iretq return (syscall.S): a frame whose rip is at or above USER_TOP. */
void uspace_return_slow(struct trap_frame *f)
{
	uspace_sanitise(f);
	if (!uspace_returnable(f))
		uspace_fault_handler(f);
}

void uspace_enter(struct trap_frame *f)
{
	uspace_sanitise(f);
	if (!uspace_returnable(f))
		uspace_fault_handler(f);
	uspace_return(f);
}

void uspace_interrupted(struct trap_frame *f)
{
	if (uspace_intr_handler)
		uspace_intr_handler(f);
}

bool uspace_trap(struct trap_frame *f)
{
	if (f->cs & 3) {
		if (!uspace_fault_handler || f->vector >= 32)
			return false;
		uspace_fault_handler(f); /* ends the process; does not return */
		return true;
	}
	if (f->vector == TRAP_PF && f->rip >= (uint64_t)(uintptr_t)uspace_copy_begin &&
	    f->rip < (uint64_t)(uintptr_t)uspace_copy_end) {
		f->rip = (uint64_t)(uintptr_t)uspace_copy_fault;
		return true;
	}
	return false;
}
