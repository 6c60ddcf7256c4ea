/*
 * lx_signal.c: Linux signals for the personality - dispositions and the
 * mask (rt_sigaction, rt_sigprocmask, sigaltstack), sending (kill, tkill,
 * tgkill, and the kernel's own: SIGPIPE, SIGCHLD, fault signals), and
 * running user handlers: the rt_sigframe built on the user stack and
 * rt_sigreturn, which takes it apart again.
 *
 * A signal sent to a process either acts at once (SIGKILL, and the default
 * action of the terminating signals: the process ends after its current
 * call or wait), is dropped (SIG_IGN, the ignored-by-default ones, the stop
 * signals: no job control), or is made pending with its siginfo (a caught
 * signal, or a blocked one).  p->sig_ready says that a pending signal is
 * not blocked: the process layer then calls lx_signal_deliver before the
 * return to user mode - after the system call, after a blocked call's
 * wait, or for a fault (lx_module.c) - and a process asleep on a pipe is
 * woken so that its call returns -EINTR (or restarts, with SA_RESTART).
 *
 * Delivery is Linux's x86-64 ABI (lx_sigframe.h): below the red zone, or
 * at the top of the alternate stack for SA_ONSTACK, the fxsave image of
 * the FPU state, then the frame: return address = sa_restorer (required:
 * without SA_RESTORER the process ends with SIGSEGV, as on Linux), the
 * ucontext (every register, the mask to restore, the alternate stack) and
 * the siginfo; rdi = signal, rsi = &siginfo, rdx = &ucontext, rip = the
 * handler, and the handler runs with its FPU state reset, sa_mask and the
 * signal itself (unless SA_NODEFER) blocked; SA_RESETHAND resets the
 * disposition.  rt_sigreturn reads the frame back at rsp - 8 and trusts
 * none of it: rip must be a user address, rflags keep only what a program
 * may set, cs and ss stay the kernel's, MXCSR's reserved bits are cleared
 * before the fxsave image is loaded, SIGKILL and SIGSTOP cannot become
 * blocked; a frame that cannot be read ends the process with SIGSEGV.
 *
 * rt_sigreturn hands the restored registers to the host's exact return
 * (ops->exact_return): a frame built at a fault holds the faulting code's
 * rcx and r11, which the system-call return would overwrite.
 *
 * Waiting for signals (Linux's semantics): rt_sigsuspend replaces the mask
 * until a handler has run and always returns -EINTR; the handler's frame
 * records the mask from before the call (saved_mask), so its rt_sigreturn
 * puts that back.  rt_sigtimedwait takes a pending signal of its set
 * without running its handler; while it waits, a signal of the set that
 * the mask blocks is recorded whatever its disposition and wakes it, one
 * the mask does not block acts as usual (a handler's signal is taken, a
 * default-fatal one kills); a handler's signal outside the set ends the
 * wait with -EINTR and runs.  rt_sigpending reports the blocked pending
 * signals.
 *
 * Locking: what another process may change (pending signals, sig_ready, a
 * pipe wait, the set a sigtimedwait waits for) is under ops->lock; user
 * memory is touched without it.
 */
#include "kernel/linux/lx.h"
#include "kernel/linux/lx_sigframe.h"
#include "kernel/string.h"
#include "kernel/uaccess.h"
#include "kernel/uerrno.h"

#define LX_SIG_BLOCK   0
#define LX_SIG_UNBLOCK 1
#define LX_SIG_SETMASK 2
#define LX_SIGBIT(s)   (1ull << ((s)-1))
#define LX_UNBLOCKABLE (LX_SIGBIT(LX_SIGKILL) | LX_SIGBIT(LX_SIGSTOP))
/* Signals whose default action is not to terminate: ignored by default
 * (SIGCHLD 17, SIGCONT 18, SIGURG 23, SIGWINCH 28) or stop (19-22; no job
 * control here, so dropped). */
#define LX_SIG_NOT_FATAL                                                                           \
	(LX_SIGBIT(17) | LX_SIGBIT(18) | LX_SIGBIT(19) | LX_SIGBIT(20) | LX_SIGBIT(21) |           \
	 LX_SIGBIT(22) | LX_SIGBIT(23) | LX_SIGBIT(28))
/* Delivered first when several are ready (Linux's SYNCHRONOUS_MASK):
 * SIGILL 4, SIGTRAP 5, SIGBUS 7, SIGFPE 8, SIGSEGV 11, SIGSYS 31. */
#define LX_SIG_SYNC                                                                                \
	(LX_SIGBIT(4) | LX_SIGBIT(5) | LX_SIGBIT(7) | LX_SIGBIT(8) | LX_SIGBIT(11) | LX_SIGBIT(31))

/* ---- sending ---- */

/* p's pending set or mask changed (lock held): is a handler to run? */
static void lx_signal_update(struct lx_proc *p)
{
	p->sig_ready = (p->sigpending & ~p->sigmask) != 0;
	if (p->sig_ready)
		lx_wait_cancel(p); /* a blocked pipe call returns -EINTR */
}

/* End p by sig (lock held). */
static void lx_signal_kill(struct lx_proc *p, int sig)
{
	if (!p->exited) {
		p->kill_sig = sig;
		p->exit_code = 128 + sig;
	}
	__atomic_store_n(&p->exited, true, __ATOMIC_RELEASE);
	lx_wait_cancel(p);
}

bool lx_signal_post_info(struct lx_proc *p, int sig, const struct lx_siginfo *info)
{
	uint64_t handler;

	if (sig <= 0 || sig > LX_NSIG)
		return false;
	handler = p->sig[sig - 1].handler;
	if (sig != LX_SIGKILL) {
		/* Awaited by rt_sigtimedwait while blocked: never ignored. */
		bool awaited = (p->sigwait & p->sigmask & LX_SIGBIT(sig)) != 0;

		if (handler == LX_SIG_IGN && !awaited)
			return false;
		if (handler != LX_SIG_DFL || (p->sigmask & LX_SIGBIT(sig))) {
			/* Standard signals do not queue: the first one's info stays. */
			if (!(p->sigpending & LX_SIGBIT(sig))) {
				struct lx_siginfo k = {LX_SI_KERNEL, 0, 0, 0};

				p->siginfo[sig - 1] = info ? *info : k;
				p->sigpending |= LX_SIGBIT(sig);
			}
			lx_signal_update(p);
			return false;
		}
		if (LX_SIG_NOT_FATAL & LX_SIGBIT(sig))
			return false;
	}
	lx_signal_kill(p, sig);
	return true;
}

bool lx_signal_post(struct lx_proc *p, int sig)
{
	return lx_signal_post_info(p, sig, NULL);
}

void lx_signal_recheck(struct lx_proc *p)
{
	uint64_t ready = p->sigpending & ~p->sigmask;

	for (int s = 1; ready && s <= LX_NSIG; s++)
		if ((ready & LX_SIGBIT(s)) && p->sig[s - 1].handler == LX_SIG_DFL) {
			p->sigpending &= ~LX_SIGBIT(s);
			lx_signal_post(p, s);
		}
	lx_signal_update(p);
}

bool lx_signal_fault(struct lx_proc *p, int sig, int code, uint64_t addr)
{
	struct lx_siginfo si = {code, 0, 0, addr};
	uint64_t h;
	bool ok;

	if (sig <= 0 || sig > LX_NSIG)
		return false;
	p->ops->lock(p->ctx);
	h = p->sig[sig - 1].handler;
	/* Linux forces a fault's signal: blocked or not caught, it kills. */
	ok = h != LX_SIG_DFL && h != LX_SIG_IGN && !(p->sigmask & LX_SIGBIT(sig));
	if (ok) {
		p->siginfo[sig - 1] = si;
		p->sigpending |= LX_SIGBIT(sig);
		lx_signal_update(p);
	}
	p->ops->unlock(p->ctx);
	return ok;
}

long lx_sys_kill(struct lx_proc *p, int64_t pid, int64_t sig)
{
	int32_t tpid = (int32_t)pid, tsig = (int32_t)sig;

	if (tsig < 0 || tsig > LX_NSIG)
		return -EINVAL;
	if (tpid <= 0)
		return -ENOSYS; /* process groups and "everyone": not offered */
	return p->ops->kill(p->ctx, tpid, tsig);
}

/* ---- dispositions, mask, alternate stack ---- */

long lx_sys_rt_sigaction(struct lx_proc *p, uint64_t sig, uint64_t act, uint64_t oact,
                         uint64_t size)
{
	struct lx_sigaction na;

	if (size != 8 || sig < 1 || sig > LX_NSIG)
		return -EINVAL;
	if (act && (sig == LX_SIGKILL || sig == LX_SIGSTOP))
		return -EINVAL;
	if (act && copy_from_user(&na, act, sizeof(na)))
		return -EFAULT;
	if (oact && copy_to_user(oact, &p->sig[sig - 1], sizeof(na)))
		return -EFAULT;
	if (act) {
		na.mask &= ~LX_UNBLOCKABLE;
		p->ops->lock(p->ctx);
		p->sig[sig - 1] = na;
		if (na.handler == LX_SIG_IGN)
			p->sigpending &= ~LX_SIGBIT(sig); /* POSIX: discarded */
		lx_signal_recheck(p);
		p->ops->unlock(p->ctx);
	}
	return 0;
}

/* Set the mask (lock held): SIGKILL and SIGSTOP are never blocked. */
static void lx_signal_setmask(struct lx_proc *p, uint64_t mask)
{
	p->sigmask = mask & ~LX_UNBLOCKABLE;
	lx_signal_recheck(p);
}

long lx_sys_rt_sigprocmask(struct lx_proc *p, uint64_t how, uint64_t set, uint64_t oset,
                           uint64_t size)
{
	uint64_t ns = 0;

	if (size != 8)
		return -EINVAL;
	if (set) {
		if (how > LX_SIG_SETMASK)
			return -EINVAL;
		if (copy_from_user(&ns, set, sizeof(ns)))
			return -EFAULT;
	}
	if (oset && copy_to_user(oset, &p->sigmask, sizeof(p->sigmask)))
		return -EFAULT;
	if (set) {
		p->ops->lock(p->ctx);
		if (how == LX_SIG_BLOCK)
			ns |= p->sigmask;
		else if (how == LX_SIG_UNBLOCK)
			ns = p->sigmask & ~ns;
		lx_signal_setmask(p, ns);
		p->ops->unlock(p->ctx);
	}
	return 0;
}

/* Is sp on p's alternate stack?  (Linux's on_sig_stack.) */
static bool lx_on_altstack(const struct lx_proc *p, uint64_t sp)
{
	return p->altstack_size && sp > p->altstack_sp && sp - p->altstack_sp <= p->altstack_size;
}

static struct lx_stack lx_altstack_get(const struct lx_proc *p, uint64_t sp)
{
	struct lx_stack s = {p->altstack_sp, 0, 0, p->altstack_size};

	if (lx_on_altstack(p, sp))
		s.flags = LX_SS_ONSTACK;
	else if (!p->altstack_size)
		s.flags = LX_SS_DISABLE;
	return s;
}

/* Check a new alternate stack: 0, or -EINVAL (flags), -ENOMEM (too small). */
static int lx_altstack_check(const struct lx_stack *s)
{
	if (s->flags != 0 && s->flags != LX_SS_ONSTACK && s->flags != LX_SS_DISABLE)
		return -EINVAL; /* SS_AUTODISARM included: not offered */
	if (s->flags != LX_SS_DISABLE && s->size < LX_MINSIGSTKSZ)
		return -ENOMEM;
	return 0;
}

static void lx_altstack_set(struct lx_proc *p, const struct lx_stack *s)
{
	if (s->flags == LX_SS_DISABLE) {
		p->altstack_sp = p->altstack_size = 0;
	} else {
		p->altstack_sp = s->sp;
		p->altstack_size = s->size;
	}
}

long lx_sys_sigaltstack(struct lx_proc *p, uint64_t uss, uint64_t uoss, uint64_t sp)
{
	struct lx_stack ns, os = lx_altstack_get(p, sp);
	int err;

	if (uss) {
		if (copy_from_user(&ns, uss, sizeof(ns)))
			return -EFAULT;
		if (lx_on_altstack(p, sp))
			return -EPERM; /* running on it: it cannot change */
		err = lx_altstack_check(&ns);
		if (err)
			return err;
	}
	/* The old one goes out before anything changes: a bad oss leaves the
	 * stack as it was. */
	if (uoss && copy_to_user(uoss, &os, sizeof(os)))
		return -EFAULT;
	if (uss)
		lx_altstack_set(p, &ns);
	return 0;
}

/* ---- delivery ---- */

/* The signal of set taken first: the synchronous ones, then the lowest. */
static int lx_signal_pick(uint64_t set)
{
	if (set & LX_SIG_SYNC)
		set &= LX_SIG_SYNC;
	return set ? __builtin_ctzll(set) + 1 : 0;
}

/* The next signal to deliver (lock held), 0 if none. */
static int lx_signal_next(const struct lx_proc *p)
{
	return lx_signal_pick(p->sigpending & ~p->sigmask);
}

/* The 128-byte Linux siginfo of sig (info si), every byte set. */
static void lx_siginfo_fill(struct lx_siginfo_rec *rec, int sig, const struct lx_siginfo *si)
{
	memset(rec, 0, sizeof(*rec));
	rec->signo = sig;
	rec->code = si->code;
	if (sig == 4 || sig == 7 || sig == 8 || sig == 11) {
		rec->u.addr = si->addr;
	} else {
		rec->u.kill.pid = si->pid;
		rec->u.kill.status = si->status;
	}
}

/* rt_sigsuspend's mask goes back (lock held): no handler recorded it. */
static void lx_signal_restore_saved(struct lx_proc *p)
{
	if (p->restore_mask) {
		p->restore_mask = false;
		lx_signal_setmask(p, p->saved_mask);
	}
}

/* A clean FPU/SSE state (what a handler starts with): FCW 0x37f, MXCSR
 * 0x1f80, everything else zero. */
static void lx_fpu_clean(uint8_t *fx)
{
	uint16_t fcw = 0x37f;
	uint32_t mxcsr = 0x1f80;

	memset(fx, 0, LX_FXSAVE_SIZE);
	memcpy(fx, &fcw, sizeof(fcw));
	memcpy(fx + 24, &mxcsr, sizeof(mxcsr));
}

/* Build sig's frame (the handler act, its info) for the registers r
 * (saved rax = rax) and point r at the handler.  0, or -EFAULT. */
static int lx_signal_frame(struct lx_proc *p, struct lx_regs *r, int sig,
                           const struct lx_sigaction *act, const struct lx_siginfo *si,
                           uint64_t oldmask, uint64_t rax, uint64_t rip)
{
	uint8_t fx[LX_FXSAVE_SIZE] __attribute__((aligned(16)));
	struct lx_rt_sigframe f;
	struct lx_sigcontext *sc = &f.uc.mcontext;
	uint64_t sp = r->rsp, fp, frame;

	if ((act->flags & LX_SA_ONSTACK) && p->altstack_size && !lx_on_altstack(p, sp))
		sp = p->altstack_sp + p->altstack_size;
	else
		sp -= LX_REDZONE;
	fp = (sp - LX_FXSAVE_SIZE) & ~63ull;
	frame = ((fp - sizeof(f)) & ~15ull) - 8;
	if (frame > sp || !uaccess_range_ok(frame, sp - frame))
		return -EFAULT; /* the stack wrapped, or left the user half */

	memset(&f, 0, sizeof(f)); /* no kernel bytes in padding or reserved words */
	f.pretcode = act->restorer;
	f.uc.flags = LX_UC_SIGCONTEXT_SS;
	f.uc.stack = lx_altstack_get(p, r->rsp);
	*sc = (struct lx_sigcontext){
	    .r8 = r->r8,
	    .r9 = r->r9,
	    .r10 = r->r10,
	    .r11 = r->r11,
	    .r12 = r->r12,
	    .r13 = r->r13,
	    .r14 = r->r14,
	    .r15 = r->r15,
	    .rdi = r->rdi,
	    .rsi = r->rsi,
	    .rbp = r->rbp,
	    .rbx = r->rbx,
	    .rdx = r->rdx,
	    .rax = rax,
	    .rcx = r->rcx,
	    .rsp = r->rsp,
	    .rip = rip,
	    .eflags = r->rflags,
	    .cs = (uint16_t)r->cs,
	    .ss = (uint16_t)r->ss,
	    .oldmask = oldmask,
	    .fpstate = fp,
	};
	if (r->vector < 32) { /* a fault: what Linux reports of it */
		sc->err = r->error;
		sc->trapno = r->vector;
		sc->cr2 = si->addr;
	}
	f.uc.sigmask = oldmask;
	lx_siginfo_fill(&f.info, sig, si);

	memset(fx, 0, sizeof(fx)); /* fxsave leaves bytes 464..511 alone */
	p->ops->fpu_save(p->ctx, fx);
	memset(fx + 464, 0, LX_FXSAVE_SIZE - 464);
	if (copy_to_user(fp, fx, sizeof(fx)) || copy_to_user(frame, &f, sizeof(f)))
		return -EFAULT;

	lx_fpu_clean(fx);
	p->ops->fpu_load(p->ctx, fx);
	r->rdi = (uint64_t)sig;
	r->rsi = frame + offsetof(struct lx_rt_sigframe, info);
	r->rdx = frame + offsetof(struct lx_rt_sigframe, uc);
	r->rsp = frame;
	r->rip = act->handler;
	r->rflags &= ~LX_HANDLER_EFLAGS_CLEAR;
	return 0;
}

long lx_signal_deliver(struct lx_proc *p, struct lx_regs *r, long res, uint64_t nr)
{
	struct lx_sigaction act;
	struct lx_siginfo si;
	uint64_t bit, oldmask, rax = (uint64_t)res, rip = r->rip;
	/* Only a call's own result can be the internal restart code (not a
	 * fault's rax, nor the rax rt_sigreturn restored). */
	bool restart = res == -LX_ERESTART && nr < LX_NR_LIMIT && nr != LX_SYS_rt_sigreturn;
	int sig;

	if (restart)
		rax = (uint64_t)-EINTR; /* unless a handler with SA_RESTART runs */
	p->ops->lock(p->ctx);
	sig = p->exited ? 0 : lx_signal_next(p);
	if (!sig) {
		lx_signal_restore_saved(p);
		lx_signal_update(p);
		p->ops->unlock(p->ctx);
		return (long)rax;
	}
	bit = LX_SIGBIT(sig);
	p->sigpending &= ~bit;
	act = p->sig[sig - 1];
	si = p->siginfo[sig - 1];
	/* After rt_sigsuspend the frame records the mask from before it. */
	oldmask = p->restore_mask ? p->saved_mask : p->sigmask;
	if (act.handler == LX_SIG_IGN || act.handler == LX_SIG_DFL) {
		/* Its disposition changed while it was pending: act on it now. */
		if (act.handler == LX_SIG_DFL && !(LX_SIG_NOT_FATAL & bit))
			lx_signal_kill(p, sig);
		lx_signal_restore_saved(p);
		lx_signal_update(p);
		p->ops->unlock(p->ctx);
		return (long)rax;
	}
	if (!(act.flags & LX_SA_RESTORER) || act.handler >= USER_TOP) {
		/* No way back from the handler, or a handler no return can
		 * reach: Linux forces SIGSEGV. */
		lx_signal_kill(p, LX_SIGSEGV);
		p->ops->unlock(p->ctx);
		return (long)rax;
	}
	if (act.flags & LX_SA_RESETHAND)
		p->sig[sig - 1].handler = LX_SIG_DFL;
	p->restore_mask = false; /* the frame has it: rt_sigreturn restores it */
	p->sigmask =
	    (p->sigmask | act.mask | ((act.flags & LX_SA_NODEFER) ? 0 : bit)) & ~LX_UNBLOCKABLE;
	lx_signal_update(p);
	p->ops->unlock(p->ctx);

	if (restart && (act.flags & LX_SA_RESTART)) {
		rax = nr; /* the handler returns to the syscall instruction */
		rip -= 2;
	}
	if (lx_signal_frame(p, r, sig, &act, &si, oldmask, rax, rip)) {
		p->ops->lock(p->ctx);
		lx_signal_kill(p, LX_SIGSEGV);
		p->ops->unlock(p->ctx);
		return (long)rax;
	}
	return 0; /* rax for the handler, as Linux sets it */
}

/* ---- rt_sigreturn ---- */

long lx_sys_rt_sigreturn(struct lx_proc *p, struct lx_regs *r)
{
	uint8_t fx[LX_FXSAVE_SIZE] __attribute__((aligned(16)));
	struct lx_ucontext uc;
	const struct lx_sigcontext *sc = &uc.mcontext;
	uint32_t mxcsr;

	/* The handler's ret popped pretcode: the frame is at rsp - 8. */
	if (r->rsp < 8 ||
	    copy_from_user(&uc, r->rsp - 8 + offsetof(struct lx_rt_sigframe, uc), sizeof(uc)))
		goto bad;
	if (sc->rip >= USER_TOP)
		goto bad; /* no return to the kernel half or a non-canonical address */
	if (sc->fpstate) {
		if (copy_from_user(fx, sc->fpstate, sizeof(fx)))
			goto bad;
		memcpy(&mxcsr, fx + 24, sizeof(mxcsr));
		mxcsr &= LX_MXCSR_MASK; /* a reserved bit would fault in fxrstor */
		memcpy(fx + 24, &mxcsr, sizeof(mxcsr));
	} else {
		lx_fpu_clean(fx);
	}

	/* Everything read and checked: from here nothing fails. */
	p->ops->fpu_load(p->ctx, fx);
	r->r8 = sc->r8, r->r9 = sc->r9, r->r10 = sc->r10, r->r11 = sc->r11;
	r->r12 = sc->r12, r->r13 = sc->r13, r->r14 = sc->r14, r->r15 = sc->r15;
	r->rdi = sc->rdi, r->rsi = sc->rsi, r->rbp = sc->rbp, r->rbx = sc->rbx;
	r->rdx = sc->rdx, r->rcx = sc->rcx, r->rsp = sc->rsp, r->rip = sc->rip;
	r->rflags = (r->rflags & ~LX_FIX_EFLAGS) | (sc->eflags & LX_FIX_EFLAGS);
	/* cs and ss stay the system call's (the user selectors). */
	if (!lx_on_altstack(p, r->rsp) && !lx_altstack_check(&uc.stack))
		lx_altstack_set(p, &uc.stack); /* Linux's restore_altstack */
	p->ops->lock(p->ctx);
	lx_signal_setmask(p, uc.sigmask);
	p->ops->unlock(p->ctx);
	/* rcx and r11 are the frame's, not rip and rflags (a fault's frame):
	 * the return must give back every register. */
	p->ops->exact_return(p->ctx, sc->rax);
	return (long)sc->rax;
bad:
	p->ops->lock(p->ctx);
	lx_signal_kill(p, LX_SIGSEGV);
	p->ops->unlock(p->ctx);
	return -EFAULT;
}

/* ---- waiting for signals: rt_sigpending, rt_sigsuspend, rt_sigtimedwait ---- */

long lx_sys_rt_sigpending(struct lx_proc *p, uint64_t uset, uint64_t size)
{
	uint64_t set;

	/* Linux copies sigsetsize bytes and refuses only more than its set. */
	if (size > sizeof(set))
		return -EINVAL;
	p->ops->lock(p->ctx);
	set = p->sigpending & p->sigmask; /* the others are delivered already */
	p->ops->unlock(p->ctx);
	if (copy_to_user(uset, &set, size))
		return -EFAULT;
	return 0;
}

long lx_sys_rt_sigsuspend(struct lx_proc *p, uint64_t umask, uint64_t size)
{
	uint64_t mask;

	if (size != sizeof(mask))
		return -EINVAL;
	if (copy_from_user(&mask, umask, sizeof(mask)))
		return -EFAULT;
	p->ops->lock(p->ctx);
	if (!p->restore_mask) {
		p->saved_mask = p->sigmask;
		p->restore_mask = true;
	}
	lx_signal_setmask(p, mask); /* a pending default-fatal one acts now */
	p->ops->unlock(p->ctx);
	p->ops->sigwait(p->ctx, LX_SYS_rt_sigsuspend, ~0ull);
	return 0; /* the host's wait gives the result: -EINTR */
}

bool lx_sigwait_pending(const struct lx_proc *p)
{
	return (p->sigwait & p->sigpending) != 0;
}

long lx_sigwait_take(struct lx_proc *p, uint64_t uinfo)
{
	struct lx_siginfo_rec rec;
	struct lx_siginfo si = {0, 0, 0, 0};
	int sig;

	p->ops->lock(p->ctx);
	sig = lx_signal_pick(p->sigpending & p->sigwait);
	if (sig)
		si = p->siginfo[sig - 1];
	p->ops->unlock(p->ctx);
	if (!sig)
		return -EAGAIN;
	/* Written before it is taken: a bad uinfo leaves it pending.  (Only
	 * this process takes its signals, and a second one merges into it.) */
	lx_siginfo_fill(&rec, sig, &si);
	if (uinfo && copy_to_user(uinfo, &rec, sizeof(rec)))
		return -EFAULT;
	p->ops->lock(p->ctx);
	p->sigpending &= ~LX_SIGBIT(sig);
	lx_signal_update(p);
	p->ops->unlock(p->ctx);
	return sig;
}

void lx_sigwait_end(struct lx_proc *p)
{
	p->ops->lock(p->ctx);
	p->sigwait = 0;
	p->ops->unlock(p->ctx);
}

#define LX_NSEC       1000000000ll
#define LX_TS_FOREVER 10000000000ll /* seconds (317 years): no deadline */

long lx_sys_rt_sigtimedwait(struct lx_proc *p, uint64_t uset, uint64_t uinfo, uint64_t uts,
                            uint64_t size)
{
	struct {
		int64_t sec, nsec;
	} ts = {0, 0};
	uint64_t set, deadline = ~0ull;
	long r;

	if (size != sizeof(set))
		return -EINVAL;
	if (copy_from_user(&set, uset, sizeof(set)))
		return -EFAULT;
	if (uts && copy_from_user(&ts, uts, sizeof(ts)))
		return -EFAULT;
	if (uts && (ts.sec < 0 || ts.nsec < 0 || ts.nsec >= LX_NSEC))
		return -EINVAL;
	/* Refused before anything is taken or waited for (Linux finds out
	 * only when it writes the siginfo, after taking the signal). */
	if (uinfo && !uaccess_range_ok(uinfo, sizeof(struct lx_siginfo_rec)))
		return -EFAULT;
	p->ops->lock(p->ctx);
	p->sigwait = set & ~LX_UNBLOCKABLE;
	p->ops->unlock(p->ctx);
	r = lx_sigwait_take(p, uinfo);
	if (r != -EAGAIN || (uts && ts.sec == 0 && ts.nsec == 0)) {
		lx_sigwait_end(p); /* taken, a bad uinfo, or a poll */
		return r;
	}
	if (uts && ts.sec < LX_TS_FOREVER)
		deadline = p->ops->now_ns(p->ctx) + (uint64_t)ts.sec * LX_NSEC + (uint64_t)ts.nsec;
	p->ops->sigwait(p->ctx, LX_SYS_rt_sigtimedwait, deadline);
	return 0; /* the host's wait gives the result */
}
