/*
 * lx_proc.c: the Linux personality's process calls - fork (fork, vfork,
 * clone with fork's flags), execve, wait4 and process groups and sessions -
 * and what they do to the per-process state: the copy a child gets, the
 * reset at execve's point of no return, the Linux wait status.  (Signals:
 * lx_signal.c.)
 *
 * The address space, the strand and the parent/child bookkeeping are the
 * process layer's (kernel/process_fork.c): these calls validate every
 * argument here (clone flags, each user pointer probed, execve's strings
 * copied into one bounded kernel block) and hand the rest to the host
 * (ops->fork, exec, wait, kill), which finishes once the system call's
 * raise has returned, where blocking is allowed.
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
	child->sig_ready = false;
	child->restore_mask = false; /* (a parent forks from no signal wait) */
	child->sigwait = 0;
	child->wait_pipe = NULL;
	child->wait_next = NULL;
	child->wait_list = NULL;
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
	p->altstack_sp = p->altstack_size = 0;
	p->ops->lock(p->ctx);
	for (int s = 0; s < LX_NSIG; s++)
		if (p->sig[s].handler != LX_SIG_IGN)
			memset(&p->sig[s], 0, sizeof(p->sig[s])); /* caught: back to default */
	lx_signal_recheck(p); /* a pending one now at its default action acts */
	p->ops->unlock(p->ctx);
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
