/*
 * lx_syscall.c: the Linux personality's entry (lx_syscall: number to
 * call), its per-process state, and the calls that touch neither files
 * nor memory areas: identity, uname, time, arch_prctl, set_tid_address,
 * exit and exit_group.  (Process calls and signals: lx_proc.c; the fd
 * table: lx_fd.c; pipes: lx_pipe.c.)
 *
 * The table is a switch on the number: every number not listed returns
 * -ENOSYS (glibc and musl handle that for the calls they probe), and
 * numbers are 64-bit, so rax = 2^32 + 1 is not "write".  As in Linux, fd
 * arguments are C ints: only their low 32 bits count.
 */
#include "kernel/heap.h"
#include "kernel/linux/lx.h"
#include "kernel/string.h"
#include "kernel/uaccess.h"
#include "kernel/uerrno.h"

#define LX_ARCH_SET_GS 0x1001
#define LX_ARCH_SET_FS 0x1002
#define LX_ARCH_GET_FS 0x1003
#define LX_ARCH_GET_GS 0x1004

static const struct lx_file lx_console_template = {
    LX_FILE_CONSOLE, 3, 2 /* O_RDWR */, NULL, 0, NULL};

int lx_proc_init(struct lx_proc *p, const struct lx_host_ops *ops, void *ctx,
                 const struct rootfs *fs, int pid, int ppid, uint64_t brk_start, uint64_t mmap_min,
                 uint64_t mmap_top)
{
	struct lx_file *con;

	if (!p || !ops || !fs || (brk_start & (LX_PAGE - 1)) || (mmap_min & (LX_PAGE - 1)) ||
	    (mmap_top & (LX_PAGE - 1)) || mmap_min >= mmap_top || mmap_top > USER_TOP)
		return -EINVAL;
	memset(p, 0, sizeof(*p));
	con = kmalloc(sizeof(*con));
	if (!con)
		return -ENOMEM;
	*con = lx_console_template;
	p->ops = ops;
	p->ctx = ctx;
	p->fs = fs;
	p->cwd = fs->root;
	p->pid = pid;
	p->ppid = ppid;
	p->pgid = p->sid = pid; /* every first process leads its own session */
	p->brk_start = p->brk_cur = brk_start;
	p->mmap_min = mmap_min;
	p->mmap_top = mmap_top;
	p->fd[0] = p->fd[1] = p->fd[2] = con;
	return 0;
}

void lx_proc_fini(struct lx_proc *p)
{
	for (uint64_t i = 0; i < LX_MAX_FD; i++)
		if (p->fd[i])
			lx_sys_close(p, i);
	lx_exec_args_free(p->exec);
	p->exec = NULL;
}

static long lx_sys_uname(uint64_t buf)
{
	static const char *const fields[6] = {"Spindle",       "spindle",
	                                      "6.1.0-spindle", "#1 SPIN-style extensible kernel",
	                                      "x86_64",        "(none)"};
	char u[6][65];

	memset(u, 0, sizeof(u));
	for (int i = 0; i < 6; i++)
		memcpy(u[i], fields[i], strlen(fields[i])); /* each is < 65 */
	return copy_to_user(buf, u, sizeof(u)) ? -EFAULT : 0;
}

static long lx_sys_clock_gettime(struct lx_proc *p, uint64_t clk, uint64_t tp)
{
	uint64_t ns, ts[2];

	/* REALTIME, MONOTONIC, the CPU-time clocks, RAW, the COARSE ones,
	 * BOOTTIME: all read the one clock (no wall-clock source yet). */
	if (clk > 7)
		return -EINVAL;
	ns = p->ops->now_ns(p->ctx);
	ts[0] = ns / 1000000000ull;
	ts[1] = ns % 1000000000ull;
	return copy_to_user(tp, ts, sizeof(ts)) ? -EFAULT : 0;
}

static long lx_sys_nanosleep(struct lx_proc *p, uint64_t req, uint64_t rem)
{
	int64_t ts[2];

	/* rem is written by the host if a signal interrupts the sleep. */
	(void)rem;
	if (copy_from_user(ts, req, sizeof(ts)))
		return -EFAULT;
	if (ts[0] < 0 || ts[1] < 0 || ts[1] >= 1000000000)
		return -EINVAL;
	/* Cap at about 30 years' worth of ns that fits 64 bits. */
	if ((uint64_t)ts[0] > 18000000000ull)
		ts[0] = 18000000000;
	p->ops->sleep_ns(p->ctx, (uint64_t)ts[0] * 1000000000ull + (uint64_t)ts[1]);
	return 0;
}

static long lx_sys_arch_prctl(struct lx_proc *p, uint64_t code, uint64_t addr)
{
	switch (code) {
	case LX_ARCH_SET_FS:
		if (addr >= USER_TOP)
			return -EPERM;
		p->fs_base = addr;
		p->ops->set_fs_base(p->ctx, addr);
		return 0;
	case LX_ARCH_GET_FS:
		return copy_to_user(addr, &p->fs_base, sizeof(p->fs_base)) ? -EFAULT : 0;
	case LX_ARCH_SET_GS:
	case LX_ARCH_GET_GS:
		return -EINVAL; /* the kernel owns GS (swapgs); no user GS base */
	default:
		return -EINVAL;
	}
}

static long lx_sys_exit(struct lx_proc *p, uint64_t code)
{
	p->exited = true;
	p->exit_code = (int)(code & 0xff);
	return 0;
}

/* The null system call's path: no frame pointer (docs/userspace.md).  Each
 * case reads the argument registers it needs from the saved state. */
__attribute__((optimize("omit-frame-pointer"))) long lx_syscall_regs(struct lx_proc *p,
                                                                     struct lx_regs *r)
{
	uint64_t nr = r->rax;

	p->syscalls++;
	switch (nr) {
	case LX_SYS_read:
		return lx_sys_read(p, (uint32_t)r->rdi, r->rsi, r->rdx);
	case LX_SYS_write:
		return lx_sys_write(p, (uint32_t)r->rdi, r->rsi, r->rdx);
	case LX_SYS_open:
		return lx_sys_openat(p, -100, r->rdi, r->rsi, r->rdx);
	case LX_SYS_close:
		return lx_sys_close(p, (uint32_t)r->rdi);
	case LX_SYS_stat:
		return lx_sys_newfstatat(p, -100, r->rdi, r->rsi, 0);
	case LX_SYS_fstat:
		return lx_sys_fstat(p, (uint32_t)r->rdi, r->rsi);
	case LX_SYS_lstat:
		return lx_sys_newfstatat(p, -100, r->rdi, r->rsi, 0x100);
	case LX_SYS_lseek:
		return lx_sys_lseek(p, (uint32_t)r->rdi, (int64_t)r->rsi, r->rdx);
	case LX_SYS_mmap:
		return lx_sys_mmap(p, r->rdi, r->rsi, r->rdx, r->r10, r->r8, r->r9);
	case LX_SYS_mprotect:
		return lx_sys_mprotect(p, r->rdi, r->rsi, r->rdx);
	case LX_SYS_munmap:
		return lx_sys_munmap(p, r->rdi, r->rsi);
	case LX_SYS_brk:
		return lx_sys_brk(p, r->rdi);
	case LX_SYS_ioctl:
		return lx_sys_ioctl(p, (uint32_t)r->rdi, r->rsi, r->rdx);
	case LX_SYS_writev:
		return lx_sys_writev(p, (uint32_t)r->rdi, r->rsi, r->rdx);
	case LX_SYS_readv:
		return lx_sys_readv(p, (uint32_t)r->rdi, r->rsi, r->rdx);
	case LX_SYS_nanosleep:
		return lx_sys_nanosleep(p, r->rdi, r->rsi);
	case LX_SYS_getpid:
	case LX_SYS_gettid:
		return p->pid;
	case LX_SYS_getppid:
		return p->ppid;
	case LX_SYS_getuid:
	case LX_SYS_geteuid:
	case LX_SYS_getgid:
	case LX_SYS_getegid:
		return 0;
	case LX_SYS_exit:
	case LX_SYS_exit_group: /* one thread per process: the same */
		return lx_sys_exit(p, r->rdi);
	case LX_SYS_uname:
		return lx_sys_uname(r->rdi);
	case LX_SYS_arch_prctl:
		return lx_sys_arch_prctl(p, r->rdi, r->rsi);
	case LX_SYS_set_tid_address:
		p->clear_tid = r->rdi;
		return p->pid;
	case LX_SYS_getdents64:
		return lx_sys_getdents64(p, (uint32_t)r->rdi, r->rsi, r->rdx);
	case LX_SYS_clock_gettime:
		return lx_sys_clock_gettime(p, r->rdi, r->rsi);
	case LX_SYS_openat:
		return lx_sys_openat(p, (int32_t)r->rdi, r->rsi, r->rdx, r->r10);
	case LX_SYS_readlink:
		return lx_sys_readlinkat(p, -100, r->rdi, r->rsi, r->rdx);
	case LX_SYS_readlinkat:
		return lx_sys_readlinkat(p, (int32_t)r->rdi, r->rsi, r->rdx, r->r10);
	case LX_SYS_newfstatat:
		return lx_sys_newfstatat(p, (int32_t)r->rdi, r->rsi, r->rdx, r->r10);
	case LX_SYS_pipe:
		return lx_sys_pipe2(p, r->rdi, 0);
	case LX_SYS_pipe2:
		return lx_sys_pipe2(p, r->rdi, r->rsi);
	case LX_SYS_dup:
		return lx_sys_dup(p, (uint32_t)r->rdi);
	case LX_SYS_dup2:
		return lx_sys_dup3(p, (uint32_t)r->rdi, (uint32_t)r->rsi, 0, true);
	case LX_SYS_dup3:
		return lx_sys_dup3(p, (uint32_t)r->rdi, (uint32_t)r->rsi, r->rdx, false);
	case LX_SYS_fcntl:
		return lx_sys_fcntl(p, (uint32_t)r->rdi, r->rsi, r->rdx);
	case LX_SYS_fork:
	case LX_SYS_vfork: /* a copy, not a shared address space: fork */
		return lx_sys_clone(p, LX_SIGCHLD, 0, 0, 0);
	case LX_SYS_clone: /* flags, newsp, parent tid, child tid, tls */
		return lx_sys_clone(p, r->rdi, r->rsi, r->rdx, r->r10);
	case LX_SYS_execve:
		return lx_sys_execve(p, r->rdi, r->rsi, r->rdx);
	case LX_SYS_wait4:
		return lx_sys_wait4(p, (int64_t)r->rdi, r->rsi, r->rdx, r->r10);
	case LX_SYS_kill:
		return lx_sys_kill(p, (int64_t)r->rdi, (int64_t)r->rsi);
	case LX_SYS_tkill:
		return (int32_t)r->rdi <= 0 ? -EINVAL
		                            : lx_sys_kill(p, (int64_t)r->rdi, (int64_t)r->rsi);
	case LX_SYS_tgkill: /* one thread per process: tgid = tid */
		if ((int32_t)r->rdi <= 0 || (int32_t)r->rsi <= 0)
			return -EINVAL;
		if ((int32_t)r->rdi != (int32_t)r->rsi)
			return -ESRCH;
		return lx_sys_kill(p, (int64_t)r->rsi, (int64_t)r->rdx);
	case LX_SYS_rt_sigaction:
		return lx_sys_rt_sigaction(p, r->rdi, r->rsi, r->rdx, r->r10);
	case LX_SYS_rt_sigprocmask:
		return lx_sys_rt_sigprocmask(p, r->rdi, r->rsi, r->rdx, r->r10);
	case LX_SYS_setpgid:
		return lx_sys_setpgid(p, (int64_t)r->rdi, (int64_t)r->rsi);
	case LX_SYS_getpgrp:
		return p->pgid;
	case LX_SYS_getpgid:
		return lx_sys_getpgid(p, (int64_t)r->rdi);
	case LX_SYS_setsid:
		return lx_sys_setsid(p);
	case LX_SYS_getsid:
		return lx_sys_getsid(p, (int64_t)r->rdi);
	case LX_SYS_rt_sigreturn:
		return lx_sys_rt_sigreturn(p, r);
	case LX_SYS_sigaltstack:
		return lx_sys_sigaltstack(p, r->rdi, r->rsi, r->rsp);
	case LX_SYS_rt_sigpending:
		return lx_sys_rt_sigpending(p, r->rdi, r->rsi);
	case LX_SYS_rt_sigsuspend:
		return lx_sys_rt_sigsuspend(p, r->rdi, r->rsi);
	case LX_SYS_rt_sigtimedwait:
		return lx_sys_rt_sigtimedwait(p, r->rdi, r->rsi, r->rdx, r->r10);
	default:
		p->unknown_syscalls++;
		return -ENOSYS;
	}
}

long lx_syscall(struct lx_proc *p, uint64_t nr, const uint64_t a[6])
{
	struct lx_regs r = {0};

	r.rax = nr;
	r.rdi = a[0], r.rsi = a[1], r.rdx = a[2];
	r.r10 = a[3], r.r8 = a[4], r.r9 = a[5];
	return lx_syscall_regs(p, &r);
}
