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
 *
 * Blocking and the process calls.  A handler never blocks inside the
 * raise: a call that would block (a pipe, wait4, nanosleep) or that
 * replaces or copies the process (execve, fork) asks for work after the
 * raise (process_defer), where these run on the process's own strand.
 * A pipe call sleeps on its pipe alone (lx_pipe_wait: the strand is
 * marked blocking under the shared lock and woken by the pipe's next
 * change, sched_prepare_block/sched_unblock), then runs again.  wait4
 * waits on one counter, lx_events, bumped by every child's end and every
 * kill (lx_host_wake), and sleeps on lx_waitq until it moves past what it
 * saw before looking; nanosleep sleeps in slices.  A kill of a blocked
 * process wakes it: it ends there, or its call returns -EINTR (or
 * restarts) and the handler runs.
 *
 * Signals (lx_signal.c has the portable half): a caught signal is
 * delivered before the return to user mode - at the end of the system
 * call (lx_handler, when sig_ready is set), at the end of a call finished
 * after the raise (lx_after_return), and for a ring-3 fault the process
 * layer offers the personality first (lx_fault).  The FPU state saved in
 * the frame is the live user state (the kernel never touches the FPU
 * registers): fxsave into a buffer on the kernel stack, copied out, and
 * fxrstor of the frame's image at rt_sigreturn.  A process running in user
 * mode without making system calls gets its signal when an interrupt (the
 * timer's, at the latest) returns to it: the process layer offers the
 * personality that return (lx_interrupted), which delivers a caught
 * signal or ends the process, as after a system call.
 *
 * rt_sigreturn returns through iretq (uspace_return_iret, after the raise),
 * not the system-call return's sysretq, which would load rcx and r11 with
 * rip and rflags: a handler that returns from a fault gives the faulting
 * code back every register.  rt_sigsuspend and rt_sigtimedwait wait after
 * the raise as wait4 does (lx_events), a timed rt_sigtimedwait in slices
 * as nanosleep.
 */
#include <arch/console.h>
#include <arch/uspace.h>

#include <stddef.h>

#include "kernel/clock.h"
#include "kernel/dispatch.h"
#include "kernel/heap.h"
#include "kernel/interface.h"
#include "kernel/kprintf.h"
#include "kernel/linux/lx.h"
#include "kernel/process.h"
#include "kernel/sched.h"
#include "kernel/string.h"
#include "kernel/sync.h"
#include "kernel/uaccess.h"
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
	unsigned long f = kprintf_lock(); /* one write, one piece on the wire */

	(void)ctx;
	for (size_t i = 0; i < len; i++) {
		if (buf[i] == '\n')
			arch_console_putc('\r');
		arch_console_putc(buf[i]);
	}
	kprintf_unlock(f);
	return (long)len;
}

static uint64_t lx_host_now(void *ctx)
{
	(void)ctx;
	return clock_ns();
}

static int64_t lx_after_return(struct process *p, struct trap_frame *f, long r, uint64_t nr);
static void lx_end_if_asked(struct process *p, struct lx_proc *lx);

/* nanosleep sleeps in slices so that a signal or a kill ends it within
 * one (the scheduler's sleep cannot be cut short). */
#define LX_SLEEP_SLICE_NS 20000000ull

static int64_t lx_after_sleep(struct process *p, struct trap_frame *f, uint64_t ns)
{
	struct lx_proc *lx = p->personality;
	uint64_t end = clock_ns() + ns, now;
	long r = 0;

	if (ns == 0 && sched_sleep_ns(0))
		clock_delay_ns(0);
	while ((now = clock_ns()) < end) {
		uint64_t left = end - now,
		         chunk = left < LX_SLEEP_SLICE_NS ? left : LX_SLEEP_SLICE_NS;

		if (__atomic_load_n(&lx->sig_ready, __ATOMIC_ACQUIRE)) {
			uint64_t rem[2] = {left / 1000000000ull, left % 1000000000ull};

			r = -EINTR; /* Linux: a handler ends nanosleep, SA_RESTART or not */
			if (f->rsi && copy_to_user(f->rsi, rem, sizeof(rem)))
				r = -EFAULT;
			break;
		}
		if (sched_sleep_ns(chunk))
			clock_delay_ns(chunk);
		lx_end_if_asked(p, lx);
	}
	return lx_after_return(p, f, r, LX_SYS_nanosleep);
}

/* The strand may not block inside the raise (the dispatcher counts raises
 * per CPU, and quiescence waits for them): sleep once it has returned. */
static void lx_host_sleep(void *ctx, uint64_t ns)
{
	process_defer((struct process *)ctx, lx_after_sleep, ns);
}

/* The user FPU/SSE registers are live while the kernel runs for the
 * process (the kernel never touches them). */
static void lx_host_fpu_save(void *ctx, void *area)
{
	(void)ctx;
	uspace_fpu_save(area);
}

static void lx_host_fpu_load(void *ctx, const void *area)
{
	(void)ctx;
	uspace_fpu_restore(area);
}

/* ---- what processes share: the lock, the event count, waiting ---- */

static struct spinlock lx_shared_lock = SPINLOCK_INIT("linux shared", SYNC_RANK_OBJ + 4);
static unsigned long lx_shared_flags; /* the holder's saved interrupt state */
static uint64_t lx_events;
static struct waitq lx_waitq;

static void lx_host_lock(void *ctx)
{
	unsigned long fl = spin_lock_irqsave(&lx_shared_lock);

	(void)ctx;
	lx_shared_flags = fl;
}

static void lx_host_unlock(void *ctx)
{
	(void)ctx;
	spin_unlock_irqrestore(&lx_shared_lock, lx_shared_flags);
}

static uint64_t lx_host_events(void)
{
	return __atomic_load_n(&lx_events, __ATOMIC_ACQUIRE);
}

static void lx_host_wake(void *ctx)
{
	(void)ctx;
	__atomic_add_fetch(&lx_events, 1, __ATOMIC_ACQ_REL);
	waitq_wake_all(&lx_waitq);
}

/* Waiting on one pipe (lx_pipe_wait): the strand stays on its CPU from
 * the decision, under the shared lock, to the sleep. */
static void *lx_host_prepare_block(void *ctx)
{
	(void)ctx;
	sched_prepare_block();
	return sched_current();
}

static void lx_host_unblock(void *token)
{
	sched_unblock(token, 0);
}

static void lx_host_sleep_blocked(void *ctx)
{
	(void)ctx;
	sched_block();
}

/* Sleep until the event count is no longer gen, or lx is to end or to
 * handle a signal.  The count is read under the waitq's lock, which a
 * waker takes after bumping it: either we see the new count or we are on
 * the queue when it wakes. */
static void lx_wait_events(struct lx_proc *lx, uint64_t gen)
{
	unsigned long fl = spin_lock_irqsave(&lx_waitq.lock);

	while (__atomic_load_n(&lx_events, __ATOMIC_ACQUIRE) == gen &&
	       !__atomic_load_n(&lx->exited, __ATOMIC_ACQUIRE) &&
	       !__atomic_load_n(&lx->sig_ready, __ATOMIC_ACQUIRE) &&
	       !(__atomic_load_n(&lx->sigwait, __ATOMIC_ACQUIRE) &
	         __atomic_load_n(&lx->sigpending, __ATOMIC_ACQUIRE))) {
		waitq_wait_locked(&lx_waitq, fl);
		fl = spin_lock_irqsave(&lx_waitq.lock);
	}
	spin_unlock_irqrestore(&lx_waitq.lock, fl);
}

/* After the raise: the process was killed (or exited) while blocked. */
static void lx_end_if_asked(struct process *p, struct lx_proc *lx)
{
	(void)p; /* process_exit_current ends the current one, which p is */
	if (__atomic_load_n(&lx->exited, __ATOMIC_ACQUIRE))
		process_exit_current(lx->exit_code);
}

/* The end of every call finished after the raise (its result r): the
 * process ends if it was asked to, else a signal to be handled is
 * delivered (rax = 0 for the handler; the result goes into the frame). */
static int64_t lx_after_return(struct process *p, struct trap_frame *f, long r, uint64_t nr)
{
	struct lx_proc *lx = p->personality;

	lx_end_if_asked(p, lx);
	if (__atomic_load_n(&lx->sig_ready, __ATOMIC_ACQUIRE) || r == -LX_ERESTART) {
		r = lx_signal_deliver(lx, (struct lx_regs *)f, r, nr);
		lx_end_if_asked(p, lx); /* no stack for the frame: SIGSEGV */
	}
	return r;
}

/* A blocked pipe call, after the raise: sleep on the pipe, run it again,
 * until it is done.  (The raise left -LX_EBLOCK in rax: the number goes
 * back.) */
static int64_t lx_after_block(struct process *p, struct trap_frame *f, uint64_t nr)
{
	struct lx_proc *lx = p->personality;
	long r;

	do {
		lx_pipe_wait(lx);
		lx_end_if_asked(p, lx);
		f->rax = nr;
		lx->in_retry = true;
		r = lx_syscall_regs(lx, (struct lx_regs *)f);
		lx->in_retry = false;
	} while (r == -LX_EBLOCK);
	return lx_after_return(p, f, r, nr); /* SIGPIPE's default action, handlers */
}

static void lx_host_block(void *ctx, uint64_t nr)
{
	struct process *p = ctx;
	struct lx_proc *lx = p->personality;

	if (!lx->in_retry) /* the retry loop already runs after the raise */
		process_defer(p, lx_after_block, nr);
}

/* ---- fork, execve, wait4, kill ---- */

struct lx_fork_req {
	uint64_t flags, ptid, ctid, newsp;
};

static int64_t lx_after_fork(struct process *p, struct trap_frame *f, uint64_t arg)
{
	struct lx_fork_req req = *(struct lx_fork_req *)(uintptr_t)arg;
	struct process *c;
	int err;

	kfree((void *)(uintptr_t)arg);
	err = process_fork(p, f, req.newsp, (req.flags & LX_CLONE_CHILD_SETTID) ? req.ctid : 0, &c);
	if (err)
		return lx_after_return(p, f, err, LX_SYS_clone);
	if (req.flags & LX_CLONE_PARENT_SETTID) {
		int32_t pid = c->pid;

		(void)copy_to_user(req.ptid, &pid, sizeof(pid)); /* probed before */
	}
	return lx_after_return(p, f, c->pid, LX_SYS_clone);
}

static long lx_host_fork(void *ctx, uint64_t flags, uint64_t ptid, uint64_t ctid, uint64_t newsp)
{
	struct lx_fork_req *req = kmalloc(sizeof(*req));

	if (!req)
		return -ENOMEM;
	*req = (struct lx_fork_req){flags, ptid, ctid, newsp};
	process_defer(ctx, lx_after_fork, (uint64_t)(uintptr_t)req);
	return 0;
}

static int64_t lx_after_exec(struct process *p, struct trap_frame *f, uint64_t unused)
{
	struct lx_proc *lx = p->personality;
	struct lx_exec_args *a = lx->exec;
	int err;

	(void)unused;
	if (!a)
		return -EFAULT; /* cannot happen: execve set it before asking */
	lx->exec = NULL;
	err = process_exec(p, f, a->path, a->argv, a->envp);
	lx_exec_args_free(a);
	/* 0: the new program starts with rax = 0 (its handlers are all
	 * default: nothing to deliver) */
	return err ? lx_after_return(p, f, err, LX_SYS_execve) : 0;
}

static long lx_host_exec(void *ctx)
{
	process_defer(ctx, lx_after_exec, 0);
	return 0;
}

/* Linux's wait status of an ended child (read before it is freed). */
static int lx_child_status(const struct process *c)
{
	const struct lx_proc *clx = c->personality_id == lx_module_id ? c->personality : NULL;

	if (c->state == PROCESS_KILLED) /* a fault: 128 + vector */
		return lx_wait_status(0, lx_signal_of_vector((unsigned)(c->exit_code - 128)));
	if (clx && clx->kill_sig)
		return lx_wait_status(0, clx->kill_sig);
	return lx_wait_status(c->exit_code, 0);
}

/* wait4(pid, status, options, rusage), its arguments validated. */
static int64_t lx_after_wait(struct process *p, struct trap_frame *f, uint64_t unused)
{
	struct lx_proc *lx = p->personality;
	int pid = (int32_t)f->rdi, status, cpid, err;
	uint64_t ustatus = f->rsi, options = f->rdx, rusage = f->r10;
	struct process *c;

	(void)unused;
	for (;;) {
		uint64_t gen = lx_host_events(); /* before looking: no lost end */

		err = process_child_ended(p, pid, &c);
		if (err)
			return lx_after_return(p, f, err, LX_SYS_wait4); /* -ECHILD */
		if (c)
			break;
		if (options & LX_WNOHANG)
			return lx_after_return(p, f, 0, LX_SYS_wait4);
		if (__atomic_load_n(&lx->sig_ready, __ATOMIC_ACQUIRE))
			return lx_after_return(p, f, -LX_ERESTART, LX_SYS_wait4);
		lx_wait_events(lx, gen);
		lx_end_if_asked(p, lx);
	}
	status = lx_child_status(c);
	cpid = c->pid;
	process_wait(c, NULL); /* the zombie's strand is gone or going: join, free */
	if (ustatus && copy_to_user(ustatus, &status, sizeof(status)))
		return lx_after_return(p, f, -EFAULT, LX_SYS_wait4);
	if (rusage) {
		uint64_t ru[18] = {0}; /* no accounting: all zero */

		if (copy_to_user(rusage, ru, sizeof(ru)))
			return lx_after_return(p, f, -EFAULT, LX_SYS_wait4);
	}
	return lx_after_return(p, f, cpid, LX_SYS_wait4);
}

static long lx_host_wait(void *ctx)
{
	process_defer(ctx, lx_after_wait, 0);
	return 0;
}

struct lx_kill_req {
	int sig;
	struct lx_siginfo info;
	bool wake;
};

/* Under the process list's lock (it cannot be freed meanwhile). */
static int lx_kill_one(struct process *t, void *arg)
{
	struct lx_kill_req *k = arg;
	struct lx_proc *tl = t->personality;

	if (t->personality_id != lx_module_id || !tl)
		return -EPERM; /* not a Linux process */
	if (t->state != PROCESS_RUNNING || k->sig == 0)
		return 0; /* a zombie, or only asking whether it exists */
	lx_host_lock(NULL);
	/* A pipe sleeper is woken by the post itself; wait4, rt_sigsuspend
	 * and rt_sigtimedwait look at the shared count. */
	k->wake =
	    lx_signal_post_info(tl, k->sig, &k->info) || tl->sig_ready || lx_sigwait_pending(tl);
	lx_host_unlock(NULL);
	return 0;
}

/* Send sig with info to pid; 0, -ESRCH, -EPERM. */
static int lx_send(int pid, int sig, const struct lx_siginfo *info)
{
	struct lx_kill_req k = {sig, *info, false};
	int err;

	err = process_with_pid(pid, lx_kill_one, &k);
	if (!err && k.wake)
		lx_host_wake(NULL); /* if it waits for a child, it ends or handles it */
	return err;
}

static long lx_host_kill(void *ctx, int pid, int sig)
{
	struct lx_siginfo info = {LX_SI_USER, ((struct process *)ctx)->pid, 0, 0};

	return lx_send(pid, sig, &info);
}

/* ---- rt_sigreturn's exact return; rt_sigsuspend, rt_sigtimedwait ---- */

/* After rt_sigreturn's raise: a signal now unblocked is delivered (its
 * frame saves these registers), then the return gives back every one of
 * them.  Never returns: the call chain is left for the frame, as a
 * continuation's return does. */
static int64_t lx_after_sigreturn(struct process *p, struct trap_frame *f, uint64_t rax)
{
	f->rax = (uint64_t)lx_after_return(p, f, (long)rax, LX_SYS_rt_sigreturn);
	uspace_return_iret(f);
}

static void lx_host_exact_return(void *ctx, uint64_t rax)
{
	process_defer((struct process *)ctx, lx_after_sigreturn, rax);
}

/* rt_sigsuspend, after the raise: sleep until a handler is to run (or the
 * process ends); -EINTR, and the handler's frame records the mask from
 * before the call. */
static int64_t lx_after_sigsuspend(struct process *p, struct trap_frame *f, uint64_t unused)
{
	struct lx_proc *lx = p->personality;
	long r;

	(void)unused;
	for (;;) {
		uint64_t gen = lx_host_events(); /* before looking: no lost kill */

		lx_end_if_asked(p, lx);
		if (__atomic_load_n(&lx->sig_ready, __ATOMIC_ACQUIRE))
			break;
		lx_wait_events(lx, gen);
	}
	r = lx_signal_deliver(lx, (struct lx_regs *)f, -EINTR, LX_SYS_rt_sigsuspend);
	lx_end_if_asked(p, lx); /* no stack for the frame: SIGSEGV */
	return r;
}

/* rt_sigtimedwait, after the raise: until a signal of its set is pending
 * (taken: its number), a handler is to run (-EINTR), or the deadline
 * passes (-EAGAIN).  Without a deadline it sleeps on the shared count,
 * which a kill bumps; with one, in slices as nanosleep. */
static int64_t lx_after_sigtimedwait(struct process *p, struct trap_frame *f, uint64_t deadline)
{
	struct lx_proc *lx = p->personality;
	long r;

	for (;;) {
		uint64_t gen = lx_host_events(), now;

		lx_end_if_asked(p, lx);
		r = lx_sigwait_take(lx, f->rsi); /* rsi: the siginfo pointer, validated */
		if (r != -EAGAIN)
			break;
		if (__atomic_load_n(&lx->sig_ready, __ATOMIC_ACQUIRE)) {
			r = -EINTR; /* never restarted (Linux) */
			break;
		}
		now = clock_ns();
		if (now >= deadline)
			break; /* -EAGAIN */
		if (deadline == ~0ull) {
			lx_wait_events(lx, gen);
		} else {
			uint64_t left = deadline - now;
			uint64_t chunk = left < LX_SLEEP_SLICE_NS ? left : LX_SLEEP_SLICE_NS;

			if (sched_sleep_ns(chunk))
				clock_delay_ns(chunk);
		}
	}
	lx_sigwait_end(lx);
	return lx_after_return(p, f, r, LX_SYS_rt_sigtimedwait);
}

static void lx_host_sigwait(void *ctx, uint64_t nr, uint64_t deadline)
{
	process_defer((struct process *)ctx,
	              nr == LX_SYS_rt_sigsuspend ? lx_after_sigsuspend : lx_after_sigtimedwait,
	              deadline);
}

/* ---- the host ---- */

static const struct lx_host_ops lx_host = {
    .vm_map = lx_host_map,
    .vm_unmap = lx_host_unmap,
    .vm_protect = lx_host_protect,
    .set_fs_base = lx_host_set_fs,
    .console_write = lx_host_console,
    .now_ns = lx_host_now,
    .sleep_ns = lx_host_sleep,
    .lock = lx_host_lock,
    .unlock = lx_host_unlock,
    .block = lx_host_block,
    .fork = lx_host_fork,
    .exec = lx_host_exec,
    .wait = lx_host_wait,
    .kill = lx_host_kill,
    .prepare_block = lx_host_prepare_block,
    .unblock = lx_host_unblock,
    .sleep = lx_host_sleep_blocked,
    .fpu_save = lx_host_fpu_save,
    .fpu_load = lx_host_fpu_load,
    .exact_return = lx_host_exact_return,
    .sigwait = lx_host_sigwait,
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
	strlcpy(lx->exe, p->exe, sizeof(lx->exe));
	p->personality = lx;
	return 0;
}

static int lx_fork(struct process *parent, struct process *child)
{
	struct lx_proc *lx = kmalloc(sizeof(*lx));

	if (!lx)
		return -ENOMEM;
	lx_proc_fork(lx, parent->personality, child, child->pid);
	child->personality = lx;
	return 0;
}

static void lx_exec(struct process *p)
{
	lx_proc_exec(p->personality, p->exe, p->brk_start, p->image_lo, p->image_hi,
	             PROCESS_STACK_TOP - PROCESS_STACK_SIZE, PROCESS_STACK_TOP);
}

/* The process ended: its files close now (a pipe's reader sees the end
 * of file without waiting for the parent to reap it), the parent gets
 * SIGCHLD (ignored unless it catches it), and a parent waiting in wait4
 * wakes. */
static void lx_exit(struct process *p)
{
	int st = lx_child_status(p);
	struct lx_siginfo info = {(st & 0x7f) ? LX_CLD_KILLED : LX_CLD_EXITED, p->pid,
	                          (st & 0x7f) ? (st & 0x7f) : (st >> 8) & 0xff, 0};

	lx_proc_fini(p->personality);
	if (p->ppid > 0)
		(void)lx_send(p->ppid, LX_SIGCHLD, &info); /* -ESRCH: the parent is gone */
	lx_host_wake(NULL);
}

/* A ring-3 exception the memory system did not resolve (addr: the fault
 * address of a #PF): if the process handles the signal it maps to, the
 * handler's frame is built on its stack and the trap returns to the
 * handler (true); otherwise the process layer kills it (false). */
static bool lx_fault(struct process *p, struct trap_frame *f, uint64_t addr)
{
	struct lx_proc *lx = p->personality;
	unsigned v = (unsigned)f->vector;
	int sig, code = LX_SI_KERNEL;

	/* Only a real exception at a user address: not the check of an
	 * impossible return (the syscall vector, a non-canonical rip). */
	if (v >= 32 || f->rip >= USER_TOP || lx->exited)
		return false;
	sig = lx_signal_of_vector(v);
	if (v == TRAP_PF)
		code = (f->error & 1) ? LX_SEGV_ACCERR : LX_SEGV_MAPERR;
	else if (sig == 4)
		code = 2, addr = f->rip; /* ILL_ILLOPN */
	else if (sig == 8)
		code = 1, addr = f->rip; /* FPE_INTDIV */
	else
		addr = 0; /* #GP and the rest: SI_KERNEL, as Linux reports them */
	if (!lx_signal_fault(lx, sig, code, addr))
		return false;
	f->rax = (uint64_t)lx_signal_deliver(lx, (struct lx_regs *)f, (long)f->rax, ~0ull);
	return !lx->exited; /* no room for the frame: killed as before */
}

/* An interrupt returns to the process in user mode, where it may spin
 * without a system call: a signal sent meanwhile acts now - a handler's
 * frame is built on the interrupted registers (the interrupt's own iretq
 * returns to it, every register exact), or the process ends (the default
 * action of a kill, or no room for the frame). */
static void lx_interrupted(struct process *p, struct trap_frame *f)
{
	struct lx_proc *lx = p->personality;

	if (!(__atomic_load_n(&lx->exited, __ATOMIC_ACQUIRE) |
	      __atomic_load_n(&lx->sig_ready, __ATOMIC_ACQUIRE)))
		return;
	if (!lx->exited)
		f->rax = (uint64_t)lx_signal_deliver(lx, (struct lx_regs *)f, (long)f->rax, ~0ull);
	lx_end_if_asked(p, lx);
}

static void lx_detach(struct process *p)
{
	lx_proc_fini(p->personality);
	kfree(p->personality);
	p->personality = NULL;
}

static const struct process_personality lx_personality = {
    lx_module_id, lx_attach, lx_detach, lx_fork, lx_exec, lx_exit, lx_fault, lx_interrupted,
};

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
LX_REGS_AT(r15);
LX_REGS_AT(r14);
LX_REGS_AT(r13);
LX_REGS_AT(r12);
LX_REGS_AT(r11);
LX_REGS_AT(r10);
LX_REGS_AT(r9);
LX_REGS_AT(r8);
LX_REGS_AT(rbp);
LX_REGS_AT(rdi);
LX_REGS_AT(rsi);
LX_REGS_AT(rdx);
LX_REGS_AT(rcx);
LX_REGS_AT(rbx);
LX_REGS_AT(rax);
LX_REGS_AT(vector);
LX_REGS_AT(error);
LX_REGS_AT(rip);
LX_REGS_AT(cs);
LX_REGS_AT(rflags);
LX_REGS_AT(rsp);
LX_REGS_AT(ss);
_Static_assert(sizeof(struct lx_regs) == sizeof(struct trap_frame), "lx_regs = trap_frame");

/* The rare end of a call: the process is to end, or a signal is to be
 * handled before the return (unless the call finishes after the raise:
 * lx_after_return delivers then).  f->rax is still the number. */
static __attribute__((noinline)) long lx_handler_slow(struct process *p, struct trap_frame *f,
                                                      long r)
{
	struct lx_proc *lx = p->personality;

	if (!lx->exited && !p->after)
		r = lx_signal_deliver(lx, (struct lx_regs *)f, r, f->rax);
	if (lx->exited)
		process_exit_request(p, lx->exit_code);
	return r;
}

/* The handler of every Linux system call: no frame pointer (the null
 * system call's path; see docs/userspace.md), and the saved registers go
 * to the personality as they are, not copied. */
__attribute__((optimize("omit-frame-pointer"))) static int64_t lx_handler(struct process *p,
                                                                          struct trap_frame *f)
{
	struct lx_proc *lx = p->personality;
	long r;

	r = lx_syscall_regs(lx, (struct lx_regs *)f);
	if (__builtin_expect(lx->exited | lx->sig_ready, 0))
		r = lx_handler_slow(p, f, r);
	return r;
}

void lx_module_init(void)
{
	static bool done;

	if (done)
		return;
	done = true;
	waitq_init(&lx_waitq, "linux waits");
	process_set_personality(&lx_personality);
	lx_guard.t[0].lo = lx_guard.t[0].hi = (uint64_t)(uintptr_t)lx_module_id;
	if (process_syscall_install(lx_handler, NULL, &lx_guard, &lx_module))
		kprintf("linux: cannot install the system-call handler\n");
}
