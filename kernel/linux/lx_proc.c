/*
 * lx_proc.c: the Linux personality's process calls - fork (fork, vfork,
 * clone with fork's flags), execve, wait4, kill, tkill, tgkill, the signal
 * state (rt_sigaction, rt_sigprocmask) and process groups and sessions -
 * and what they do to the per-process state: the copy a child gets, the
 * reset at execve's point of no return, the Linux wait status.
 *
 * The address space, the strand and the parent/child bookkeeping are the
 * process layer's (kernel/process_fork.c): these calls validate every
 * argument here (clone flags, each user pointer probed, execve's strings
 * copied into one bounded kernel block) and hand the rest to the host
 * (ops->fork, exec, wait, kill), which finishes once the system call's
 * raise has returned, where blocking is allowed.
 *
 * Signals, honestly scoped: dispositions and the mask are kept and
 * reported as Linux does, and a kill takes the default action: the
 * terminating signals end the process (wait status = the signal), the
 * ignored-by-default ones (SIGCHLD, SIGCONT, SIGURG, SIGWINCH) and the stop
 * signals (no job control) are dropped, SIG_IGN drops.  A signal whose
 * disposition is a handler, or which is blocked, is recorded as pending:
 * user handlers are never run (rt_sigreturn is -ENOSYS), and a blocked
 * default-action signal takes effect when it is unblocked.
 */
#include "kernel/heap.h"
#include "kernel/linux/lx.h"
#include "kernel/string.h"
#include "kernel/uaccess.h"
#include "kernel/uerrno.h"
#include "kernel/ustack.h"

#define LX_CSIGNAL 0x000000ffull
#define LX_CLONE_FORK_FLAGS                                                                        \
	(LX_CSIGNAL | LX_CLONE_PARENT_SETTID | LX_CLONE_CHILD_CLEARTID | LX_CLONE_CHILD_SETTID)
#define LX_WAIT_OPTIONS (1ull | 2ull | 8ull | 0x20000000ull | 0x40000000ull | 0x80000000ull)
#define LX_RUSAGE_SIZE  144
#define LX_SIG_BLOCK    0
#define LX_SIG_UNBLOCK  1
#define LX_SIG_SETMASK  2
#define LX_SIGBIT(s)    (1ull << ((s)-1))
#define LX_UNBLOCKABLE  (LX_SIGBIT(LX_SIGKILL) | LX_SIGBIT(LX_SIGSTOP))
/* Signals whose default action is not to terminate: ignored by default
 * (SIGCHLD 17, SIGCONT 18, SIGURG 23, SIGWINCH 28) or stop (19-22; no job
 * control here, so dropped). */
#define LX_SIG_NOT_FATAL                                                                           \
	(LX_SIGBIT(17) | LX_SIGBIT(18) | LX_SIGBIT(19) | LX_SIGBIT(20) | LX_SIGBIT(21) |           \
	 LX_SIGBIT(22) | LX_SIGBIT(23) | LX_SIGBIT(28))
/* execve's arguments: USTACK_MAX_ARGS pointers and LX_EXEC_STRINGS bytes of
 * strings at most (the initial stack has a 64 KiB argument area). */
#define LX_EXEC_STRINGS (48u << 10)

/* ---- per-process state: fork, exec, exit status ---- */

void lx_proc_fork(struct lx_proc *child, const struct lx_proc *parent, void *ctx, int pid)
{
	memcpy(child, parent, sizeof(*child));
	child->ctx = ctx;
	child->pid = pid;
	child->ppid = parent->pid;
	child->exited = false;
	child->exit_code = child->kill_sig = 0;
	child->syscalls = child->unknown_syscalls = 0;
	child->sigpending = 0; /* pending signals are the parent's (POSIX) */
	child->in_retry = false;
	child->exec = NULL;
	parent->ops->lock(parent->ctx);
	for (int i = 0; i < LX_MAX_FD; i++)
		if (child->fd[i])
			child->fd[i]->refs++;
	parent->ops->unlock(parent->ctx);
}

void lx_proc_exec(struct lx_proc *p, const char *exe, uint64_t brk_start, uint64_t image_lo,
                  uint64_t image_hi, uint64_t stack_lo, uint64_t stack_hi)
{
	for (uint64_t i = 0; i < LX_MAX_FD; i++)
		if (p->fd[i] && (p->cloexec >> i) & 1)
			lx_sys_close(p, i);
	/* The old image's areas went with its address space. */
	p->nvma = 0;
	lx_vma_add(p, stack_lo, stack_hi, LX_PROT_READ | LX_PROT_WRITE, LX_VMA_STACK);
	lx_vma_add(p, image_lo, image_hi, LX_PROT_READ, LX_VMA_IMAGE);
	p->brk_start = p->brk_cur = brk_start;
	p->fs_base = p->clear_tid = 0;
	for (int s = 0; s < LX_NSIG; s++)
		if (p->sig[s].handler != LX_SIG_IGN)
			memset(&p->sig[s], 0, sizeof(p->sig[s])); /* caught: back to default */
	{
		size_t n = strlen(exe);

		if (n >= sizeof(p->exe))
			n = sizeof(p->exe) - 1; /* the process layer's paths fit */
		memcpy(p->exe, exe, n);
		p->exe[n] = 0;
	}
}

void lx_exec_args_free(struct lx_exec_args *a)
{
	kfree(a);
}

int lx_wait_status(int code, int sig)
{
	return sig ? (sig & 0x7f) : (code & 0xff) << 8;
}

int lx_signal_of_vector(unsigned vector)
{
	switch (vector) {
	case 0:           /* #DE */
	case 16:          /* #MF */
	case 19:          /* #XM */
		return 8; /* SIGFPE */
	case 1:           /* #DB */
	case 3:           /* #BP */
		return 5; /* SIGTRAP */
	case 6:           /* #UD */
		return 4; /* SIGILL */
	case 17:          /* #AC */
		return 7; /* SIGBUS */
	default:
		return 11; /* SIGSEGV: #GP, #PF, #SS and the rest */
	}
}

/* A user word (n bytes at a) that the call will write later: readable
 * and writable now, checked without changing it. */
static int lx_probe_rw(uint64_t a, size_t n)
{
	uint8_t tmp[LX_RUSAGE_SIZE];

	if (n > sizeof(tmp) || copy_from_user(tmp, a, n) || copy_to_user(a, tmp, n))
		return -EFAULT;
	return 0;
}

/* ---- fork, execve, wait4 ---- */

long lx_sys_clone(struct lx_proc *p, uint64_t flags, uint64_t newsp, uint64_t ptid, uint64_t ctid)
{
	/* Only fork's flag sets: anything sharing the address space, files,
	 * handlers or the thread group (threads, CLONE_VM vfork) is refused. */
	if ((flags & ~LX_CLONE_FORK_FLAGS) || (flags & LX_CSIGNAL) > LX_NSIG)
		return -EINVAL;
	if (newsp && !uaccess_range_ok(newsp, 0))
		return -EINVAL;
	if ((flags & LX_CLONE_PARENT_SETTID) && lx_probe_rw(ptid, 4))
		return -EFAULT;
	if ((flags & (LX_CLONE_CHILD_SETTID | LX_CLONE_CHILD_CLEARTID)) && lx_probe_rw(ctid, 4))
		return -EFAULT;
	return p->ops->fork(p->ctx, flags, ptid, ctid, newsp);
}

/* Copy the NULL-terminated user vector uv into a: pointers at *out (room
 * for max + 1), strings at a's string area from *used.  Its count or -errno. */
static long lx_exec_vec(uint64_t uv, const char **out, uint32_t max, char *strs, uint64_t *used)
{
	uint32_t n = 0;

	if (!uv) {
		out[0] = NULL; /* Linux takes a NULL vector as empty */
		return 0;
	}
	for (;; n++) {
		uint64_t s;
		long len;

		if (copy_from_user(&s, uv + (uint64_t)n * 8, 8))
			return -EFAULT;
		if (!s)
			break;
		if (n == max)
			return -E2BIG;
		len = strncpy_from_user(strs + *used, s, LX_EXEC_STRINGS - *used);
		if (len < 0)
			return len;
		if ((uint64_t)len >= LX_EXEC_STRINGS - *used)
			return -E2BIG;
		out[n] = strs + *used;
		*used += (uint64_t)len + 1;
	}
	out[n] = NULL;
	return n;
}

long lx_sys_execve(struct lx_proc *p, uint64_t upath, uint64_t uargv, uint64_t uenvp)
{
	const size_t ptrs = 2 * (USTACK_MAX_ARGS + 1) * sizeof(char *);
	struct lx_exec_args *a;
	char *path, *strs;
	uint64_t used = 0;
	long n;

	path = kmalloc(ROOTFS_PATH_MAX);
	a = kmalloc(sizeof(*a) + ptrs + LX_EXEC_STRINGS);
	if (!path || !a) {
		n = -ENOMEM;
		goto err;
	}
	n = lx_path_get(p, path, upath);
	if (n < 0)
		goto err;
	if (n == 0 || n >= LX_EXE_MAX) {
		n = n ? -ENAMETOOLONG : -ENOENT;
		goto err;
	}
	memcpy(a->path, path, (size_t)n + 1);
	a->argv = (const char **)(a + 1);
	a->envp = a->argv + USTACK_MAX_ARGS + 1;
	strs = (char *)(a->envp + USTACK_MAX_ARGS + 1);
	n = lx_exec_vec(uargv, a->argv, USTACK_MAX_ARGS, strs, &used);
	if (n < 0)
		goto err;
	a->argc = (uint32_t)n;
	n = lx_exec_vec(uenvp, a->envp, USTACK_MAX_ARGS - a->argc, strs, &used);
	if (n < 0)
		goto err;
	a->envc = (uint32_t)n;
	a->bytes = used;
	kfree(path);
	lx_exec_args_free(p->exec);
	p->exec = a;
	return p->ops->exec(p->ctx);
err:
	kfree(path);
	kfree(a);
	return n;
}

long lx_sys_wait4(struct lx_proc *p, int64_t pid, uint64_t status, uint64_t options,
                  uint64_t rusage)
{
	if (options & ~LX_WAIT_OPTIONS)
		return -EINVAL;
	if ((int32_t)pid == INT32_MIN)
		return -ESRCH; /* -INT_MIN does not exist, as in Linux */
	if (status && lx_probe_rw(status, 4))
		return -EFAULT;
	if (rusage && lx_probe_rw(rusage, LX_RUSAGE_SIZE))
		return -EFAULT;
	return p->ops->wait(p->ctx);
}

/* ---- signals ---- */

/* Called with the host's lock held. */
bool lx_signal_post(struct lx_proc *p, int sig)
{
	uint64_t handler;

	if (sig <= 0 || sig > LX_NSIG)
		return false;
	handler = p->sig[sig - 1].handler;
	if (sig != LX_SIGKILL) {
		if (handler == LX_SIG_IGN)
			return false;
		if (handler != LX_SIG_DFL || (p->sigmask & LX_SIGBIT(sig))) {
			p->sigpending |= LX_SIGBIT(sig); /* no handlers run: kept */
			return false;
		}
		if (LX_SIG_NOT_FATAL & LX_SIGBIT(sig))
			return false;
	}
	if (!p->exited) {
		p->kill_sig = sig;
		p->exit_code = 128 + sig;
	}
	__atomic_store_n(&p->exited, true, __ATOMIC_RELEASE);
	return true;
}

/* After the mask or a disposition changed (the host's lock held: a kill
 * from another process may be posting): a pending signal that is now
 * unblocked with its default action takes it. */
static void lx_signal_recheck(struct lx_proc *p)
{
	uint64_t ready = p->sigpending & ~p->sigmask;

	for (int s = 1; ready && s <= LX_NSIG; s++)
		if ((ready & LX_SIGBIT(s)) && p->sig[s - 1].handler == LX_SIG_DFL) {
			p->sigpending &= ~LX_SIGBIT(s);
			lx_signal_post(p, s);
		}
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
			p->sigmask |= ns;
		else if (how == LX_SIG_UNBLOCK)
			p->sigmask &= ~ns;
		else
			p->sigmask = ns;
		p->sigmask &= ~LX_UNBLOCKABLE;
		lx_signal_recheck(p);
		p->ops->unlock(p->ctx);
	}
	return 0;
}

/* ---- process groups and sessions: the caller's own ---- */

long lx_sys_setpgid(struct lx_proc *p, int64_t pid, int64_t pgid)
{
	int32_t tp = (int32_t)pid, g = (int32_t)pgid;

	if (g < 0)
		return -EINVAL;
	if (tp != 0 && tp != p->pid)
		return -ESRCH; /* another process's group: not offered */
	if (g == 0)
		g = p->pid;
	if (p->sid == p->pid)
		return g == p->pgid ? 0 : -EPERM; /* a session leader stays */
	if (g != p->pid && g != p->pgid)
		return -EPERM; /* only groups known to exist in the session */
	p->pgid = g;
	return 0;
}

long lx_sys_getpgid(struct lx_proc *p, int64_t pid)
{
	int32_t tp = (int32_t)pid;

	return tp == 0 || tp == p->pid ? p->pgid : -ESRCH;
}

long lx_sys_setsid(struct lx_proc *p)
{
	if (p->pgid == p->pid)
		return -EPERM; /* a group leader cannot start a session */
	p->sid = p->pgid = p->pid;
	return p->pid;
}

long lx_sys_getsid(struct lx_proc *p, int64_t pid)
{
	int32_t tp = (int32_t)pid;

	return tp == 0 || tp == p->pid ? p->sid : -ESRCH;
}
