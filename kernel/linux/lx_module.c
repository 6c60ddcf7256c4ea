/*
 * lx_module.c: the Linux personality as a trusted kernel module - the
 * glue between the portable personality (lx_syscall.c, lx_fs.c, lx_mm.c)
 * and the kernel's process layer.
 *
 * At boot lx_module_init() registers the personality (attach/detach: the
 * per-process struct lx_proc) and installs its MachineTrap.Syscall handler
 * with a guard that accepts exactly the processes it attached, so another
 * personality or an extension can serve other processes, or interpose on
 * these by installing before it.  The handler decodes the Linux register
 * convention (rax = number; rdi, rsi, rdx, r10, r8, r9 = arguments) from
 * the saved state and, after exit/exit_group, asks the process layer to
 * end the process (it does once the raise has returned).
 *
 * The host operations map the personality's needs onto the core services:
 * pages from PhysAddr mapped through Translation (process_map_anon),
 * the console, clock_ns and the scheduler's sleep.
 */
#include <arch/console.h>

#include <stddef.h>

#include "kernel/clock.h"
#include "kernel/dispatch.h"
#include "kernel/heap.h"
#include "kernel/interface.h"
#include "kernel/kprintf.h"
#include "kernel/linux/lx.h"
#include "kernel/process.h"
#include "kernel/sched.h"
#include "kernel/uerrno.h"

void lx_module_init(void);

static const char lx_module_id[] = "linux";
static const struct module lx_module = {"Linux", MODULE_TRUSTED};

static int lx_host_map(void *ctx, uint64_t va, uint64_t len, uint32_t prot)
{
	return process_map_anon(ctx, va, len, prot);
}

static void lx_host_unmap(void *ctx, uint64_t va, uint64_t len)
{
	process_unmap(ctx, va, len);
}

static int lx_host_protect(void *ctx, uint64_t va, uint64_t len, uint32_t prot)
{
	return process_protect(ctx, va, len, prot);
}

static void lx_host_set_fs(void *ctx, uint64_t base)
{
	process_set_fs_base(ctx, base);
}

static long lx_host_console(void *ctx, const char *buf, size_t len)
{
	(void)ctx;
	for (size_t i = 0; i < len; i++) {
		if (buf[i] == '\n')
			arch_console_putc('\r');
		arch_console_putc(buf[i]);
	}
	return (long)len;
}

static uint64_t lx_host_now(void *ctx)
{
	(void)ctx;
	return clock_ns();
}

static int64_t lx_after_sleep(struct process *p, struct trap_frame *f, uint64_t ns)
{
	(void)p, (void)f;
	if (sched_sleep_ns(ns))
		clock_delay_ns(ns);
	return 0; /* nanosleep's result */
}

/* The strand may not block inside the raise (the dispatcher counts raises
 * per CPU, and quiescence waits for them): sleep once it has returned. */
static void lx_host_sleep(void *ctx, uint64_t ns)
{
	process_defer((struct process *)ctx, lx_after_sleep, ns);
}

static const struct lx_host_ops lx_host = {
    lx_host_map,     lx_host_unmap, lx_host_protect, lx_host_set_fs,
    lx_host_console, lx_host_now,   lx_host_sleep,
};

static int lx_attach(struct process *p, uint64_t brk_start)
{
	struct lx_proc *lx = kmalloc(sizeof(*lx));
	int err;

	if (!lx)
		return -ENOMEM;
	err = lx_proc_init(lx, &lx_host, p, process_rootfs(), p->pid, p->ppid, brk_start,
	                   PROCESS_MMAP_MIN, PROCESS_STACK_TOP - PROCESS_STACK_SIZE - (1ull << 20));
	if (!err)
		err = lx_vma_add(lx, PROCESS_STACK_TOP - PROCESS_STACK_SIZE, PROCESS_STACK_TOP,
		                 LX_PROT_READ | LX_PROT_WRITE, LX_VMA_STACK);
	/* The image as one area (its pages keep their own rights), so that
	 * mprotect of a part of it (a C library's RELRO) is accepted. */
	if (!err)
		err = lx_vma_add(lx, p->image_lo, p->image_hi, LX_PROT_READ, LX_VMA_IMAGE);
	if (err) {
		kfree(lx);
		return err;
	}
	p->personality = lx;
	return 0;
}

static void lx_detach(struct process *p)
{
	lx_proc_fini(p->personality);
	kfree(p->personality);
	p->personality = NULL;
}

static const struct process_personality lx_personality = {lx_module_id, lx_attach, lx_detach};

/* The guard, tested in line by the dispatch routine: the processes this
 * personality attached, and Linux's numbers only (the others, Spindle's own
 * system calls, are for other handlers, or answered -ENOSYS by the default). */
static struct dispatch_test lx_guard = {
    2,
    {{0, offsetof(struct process, personality_id), 0, 0},
     {1, offsetof(struct trap_frame, rax), 0, LX_NR_LIMIT - 1}}};

/* The saved frame is the personality's register block (lx.h): the same
 * registers at the same offsets. */
#define LX_REGS_AT(reg)                                                                            \
	_Static_assert(offsetof(struct trap_frame, reg) == offsetof(struct lx_regs, reg),          \
	               "struct lx_regs mirrors struct trap_frame: " #reg)
LX_REGS_AT(rax);
LX_REGS_AT(rdi);
LX_REGS_AT(rsi);
LX_REGS_AT(rdx);
LX_REGS_AT(r10);
LX_REGS_AT(r8);
LX_REGS_AT(r9);

/* The handler of every Linux system call: no frame pointer (the null
 * system call's path; see docs/userspace.md), and the saved registers go
 * to the personality as they are, not copied. */
__attribute__((optimize("omit-frame-pointer"))) static int64_t lx_handler(struct process *p,
                                                                          struct trap_frame *f)
{
	struct lx_proc *lx = p->personality;
	long r;

	r = lx_syscall_regs(lx, (const struct lx_regs *)f);
	if (lx->exited)
		process_exit_request(p, lx->exit_code);
	return r;
}

void lx_module_init(void)
{
	static bool done;

	if (done)
		return;
	done = true;
	process_set_personality(&lx_personality);
	lx_guard.t[0].lo = lx_guard.t[0].hi = (uint64_t)(uintptr_t)lx_module_id;
	if (process_syscall_install(lx_handler, NULL, &lx_guard, &lx_module))
		kprintf("linux: cannot install the system-call handler\n");
}
