/*
 * kernel/linux/lx.h: the Linux-ABI personality (SPIN's UNIX server, §2.7,
 * as a trusted in-kernel module).
 *
 * The personality implements the subset of Linux x86-64 system calls that
 * static musl programs and busybox (its shell pipelines included) make, on a
 * per-process state, struct lx_proc: the file-descriptor table (the console
 * as fds 0, 1 and 2; files and directories of the read-only root file
 * system; pipe ends), the memory areas (ELF image, stack, brk heap,
 * anonymous mmaps), identity, signal state and exit status.
 * lx_syscall_regs(proc, regs) is the whole entry: the personality's
 * MachineTrap.Syscall handler (lx_module.c) calls it with the saved
 * registers and puts the result in rax.  Unknown numbers return -ENOSYS.
 *
 * Everything machine- or kernel-specific is behind struct lx_host_ops
 * (mapping pages, the FS base, the console, time, the shared lock, blocking,
 * fork/exec/wait/kill, which the process layer finishes), and user memory is
 * reached only through kernel/uaccess.h, so the logic is host-testable with
 * fakes.  Every argument is hostile: bad pointers give -EFAULT, bad values
 * the errno Linux gives, and no kernel memory reaches user space (every
 * structure copied out is fully initialised).
 *
 * Memory areas: sorted, disjoint, page-aligned [start, end) ranges with
 * Linux prot bits.  brk grows its area in [brk_start, brk_start +
 * LX_BRK_MAX); mmap without MAP_FIXED picks the highest gap in
 * [mmap_min, mmap_top).  Pages are mapped eagerly by ops->vm_map (zeroed).
 *
 * Callers: the process layer, on the process's own strand (one system call
 * at a time per process, so its own state needs no lock).  What processes
 * share since fork - open files' reference counts and status flags, pipes,
 * another process's pending signals - is changed under ops->lock only.
 * Errors: Linux errno values, negated.
 */
#ifndef KERNEL_LINUX_LX_H
#define KERNEL_LINUX_LX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/rootfs.h"

#define LX_MAX_FD   64 /* the cloexec bitmap is one 64-bit word */
#define LX_MAX_VMAS 128
#define LX_BRK_MAX  (64ull << 20)
#define LX_MMAP_MAX (256ull << 20) /* largest single mmap */
#define LX_PAGE     4096ull

#define LX_PROT_READ  0x1u
#define LX_PROT_WRITE 0x2u
#define LX_PROT_EXEC  0x4u

/* System call numbers (x86-64); the personality serves those below
 * LX_NR_LIMIT (Linux has about 460). */
#define LX_NR_LIMIT            1024
#define LX_SYS_read            0
#define LX_SYS_write           1
#define LX_SYS_open            2
#define LX_SYS_close           3
#define LX_SYS_stat            4
#define LX_SYS_fstat           5
#define LX_SYS_lstat           6
#define LX_SYS_lseek           8
#define LX_SYS_mmap            9
#define LX_SYS_mprotect        10
#define LX_SYS_munmap          11
#define LX_SYS_brk             12
#define LX_SYS_ioctl           16
#define LX_SYS_writev          20
#define LX_SYS_readv           19
#define LX_SYS_nanosleep       35
#define LX_SYS_getpid          39
#define LX_SYS_exit            60
#define LX_SYS_uname           63
#define LX_SYS_readlink        89
#define LX_SYS_getuid          102
#define LX_SYS_getgid          104
#define LX_SYS_geteuid         107
#define LX_SYS_getegid         108
#define LX_SYS_getppid         110
#define LX_SYS_arch_prctl      158
#define LX_SYS_gettid          186
#define LX_SYS_getdents64      217
#define LX_SYS_set_tid_address 218
#define LX_SYS_clock_gettime   228
#define LX_SYS_exit_group      231
#define LX_SYS_openat          257
#define LX_SYS_newfstatat      262
#define LX_SYS_readlinkat      267
#define LX_SYS_rt_sigaction    13
#define LX_SYS_rt_sigprocmask  14
#define LX_SYS_rt_sigreturn    15
#define LX_SYS_pipe            22
#define LX_SYS_dup             32
#define LX_SYS_dup2            33
#define LX_SYS_clone           56
#define LX_SYS_fork            57
#define LX_SYS_vfork           58
#define LX_SYS_execve          59
#define LX_SYS_wait4           61
#define LX_SYS_kill            62
#define LX_SYS_fcntl           72
#define LX_SYS_setpgid         109
#define LX_SYS_getpgrp         111
#define LX_SYS_setsid          112
#define LX_SYS_getpgid         121
#define LX_SYS_getsid          124
#define LX_SYS_tkill           200
#define LX_SYS_tgkill          234
#define LX_SYS_dup3            292
#define LX_SYS_pipe2           293
#define LX_SYS_sigaltstack     131
#define LX_SYS_rt_sigpending   127
#define LX_SYS_rt_sigtimedwait 128
#define LX_SYS_rt_sigsuspend   130

/* Internal only, never returned to a program: the call would block (an
 * empty or full pipe, a wait for a child that has not ended).  The call
 * asked the host to block (ops->block) and is run again once something
 * that might unblock it happened (Linux's ERESTARTSYS number). */
#define LX_EBLOCK 512
/* Internal only: a blocking call (pipe read or write, wait4) was
 * interrupted by a signal whose handler is to run.  Signal delivery turns
 * it into -EINTR, or restarts the call if the handler has SA_RESTART
 * (Linux's ERESTARTSYS, which user space never sees either). */
#define LX_ERESTART 513

#define LX_O_NONBLOCK 04000
#define LX_O_CLOEXEC  02000000
#define LX_NSIG       64
#define LX_SIGKILL    9
#define LX_SIGPIPE    13
#define LX_SIGTERM    15
#define LX_SIGCHLD    17
#define LX_SIGSTOP    19
#define LX_SIGSEGV    11
#define LX_SIGABRT    6
#define LX_SIG_DFL    0
#define LX_SIG_IGN    1
/* sa_flags (x86-64 values) */
#define LX_SA_SIGINFO   0x00000004ull
#define LX_SA_ONSTACK   0x08000000ull
#define LX_SA_RESTART   0x10000000ull
#define LX_SA_NODEFER   0x40000000ull
#define LX_SA_RESETHAND 0x80000000ull
#define LX_SA_RESTORER  0x04000000ull
/* siginfo si_code values used here */
#define LX_SI_USER     0
#define LX_SI_KERNEL   0x80
#define LX_SI_TKILL    (-6)
#define LX_CLD_EXITED  1
#define LX_CLD_KILLED  2
#define LX_SEGV_MAPERR 1
#define LX_SEGV_ACCERR 2
#define LX_WNOHANG     1
#define LX_PIPE_SIZE   16384u /* bytes a pipe holds */
#define LX_PIPE_BUF    4096u  /* writes up to this size are atomic */
#define LX_EXE_MAX     256    /* longest program path (execve, /proc/self/exe) */

/* clone's flags for a fork (lx_proc.c validates, lx_module.c carries out). */
#define LX_CLONE_PARENT_SETTID  0x00100000ull
#define LX_CLONE_CHILD_CLEARTID 0x00200000ull
#define LX_CLONE_CHILD_SETTID   0x01000000ull

enum lx_file_kind { LX_FILE_CONSOLE = 1, LX_FILE_ROOTFS, LX_FILE_PIPE_R, LX_FILE_PIPE_W };

/* A pipe (lx_pipe.c): a ring of LX_PIPE_SIZE bytes shared by its two open
 * files.  readers/writers count the open files of each end (0 or 1: dup
 * and fork share the file, not the end); the pipe is freed with the last.
 * Every field is under the host's lock (ops->lock). */
struct lx_proc;
struct lx_regs;
struct lx_pipe {
	uint32_t head, len; /* first unread byte, bytes held */
	uint32_t readers, writers;
	uint8_t *buf;
	uint32_t gen;            /* bumped by every change a waiter may want */
	struct lx_proc *waiters; /* processes asleep on this pipe (wait_next) */
};

/* An open file.  Shared by every fd that names it, in this process (dup)
 * and in others (fork): refs counts those fds, under the host's lock; the
 * last close frees it (and a pipe end closes). */
struct lx_file {
	enum lx_file_kind kind;
	uint32_t refs;  /* fds naming it, in every process */
	uint32_t flags; /* open flags (O_NONBLOCK changes with F_SETFL) */
	const struct rootfs_node *node;
	uint64_t pos; /* byte offset; directories: getdents position */
	struct lx_pipe *pipe;
};

enum lx_vma_kind { LX_VMA_IMAGE = 1, LX_VMA_STACK, LX_VMA_BRK, LX_VMA_ANON };

struct lx_vma {
	uint64_t start, end;
	uint32_t prot;
	enum lx_vma_kind kind;
};

/* What the process layer provides.  ctx is passed back to every call. */
struct lx_host_ops {
	/* Map [va, va+len) to fresh zeroed pages with prot; page aligned. */
	int (*vm_map)(void *ctx, uint64_t va, uint64_t len, uint32_t prot);
	/* Remove mappings in [va, va+len) and free their pages; unmapped
	 * pages in the range are fine. */
	void (*vm_unmap)(void *ctx, uint64_t va, uint64_t len);
	/* Change the rights of mapped pages in [va, va+len). */
	int (*vm_protect)(void *ctx, uint64_t va, uint64_t len, uint32_t prot);
	/* The user FS base (TLS) for this process from now on. */
	void (*set_fs_base)(void *ctx, uint64_t base);
	/* Write to the console; returns bytes written. */
	long (*console_write)(void *ctx, const char *buf, size_t len);
	uint64_t (*now_ns)(void *ctx);
	/* Sleep ns nanoseconds once the raise is over (nanosleep: a signal to
	 * be handled ends it early with -EINTR). */
	void (*sleep_ns)(void *ctx, uint64_t ns);
	/* One lock for what processes share (open files' counts, pipes); it
	 * is a spinlock: nothing under it may block or touch user memory. */
	void (*lock)(void *ctx);
	void (*unlock)(void *ctx);
	/* The current call (number nr) would block on p->wait_pipe: once the
	 * system call's raise is over, lx_pipe_wait, then run the call again
	 * (the result of the last run is the call's). */
	void (*block)(void *ctx, uint64_t nr);
	/* The process calls the process layer finishes after the raise (their
	 * result replaces this call's): fork with clone flags (validated), the
	 * parent and child tid pointers; execve of p->exec (owned by the host
	 * from now on); wait4 (arguments validated, re-read from the saved
	 * registers).  kill: deliver sig to process pid (> 0); 0, -ESRCH, -EPERM. */
	long (*fork)(void *ctx, uint64_t flags, uint64_t ptid, uint64_t ctid, uint64_t newsp);
	long (*exec)(void *ctx);
	long (*wait)(void *ctx);
	long (*kill)(void *ctx, int pid, int sig);
	/* Waiting on one object (a pipe), lx_pipe.c: under the lock, the
	 * caller marks itself about to sleep (the strand keeps its CPU) and
	 * gets a token; unblock(token), also under the lock, wakes it (before
	 * or after it slept: never lost); sleep() then sleeps, lock released. */
	void *(*prepare_block)(void *ctx);
	void (*unblock)(void *token);
	void (*sleep)(void *ctx);
	/* The user FPU/SSE state as an fxsave image (512 bytes, 16-aligned):
	 * save the live state into area, or make area the live state. */
	void (*fpu_save)(void *ctx, void *area);
	void (*fpu_load)(void *ctx, const void *area);
	/* rt_sigreturn restored the registers from a signal frame: return to
	 * user mode giving back every one of them, rcx and r11 included (the
	 * system-call return reloads those with rip and rflags), with rax =
	 * the call's result rax.  The host delivers a signal first if one is
	 * ready, as at the end of any call. */
	void (*exact_return)(void *ctx, uint64_t rax);
	/* Once the raise is over, wait (nr: rt_sigsuspend or rt_sigtimedwait)
	 * until a signal is to be handled (sig_ready), p is to end, a signal
	 * of p->sigwait is pending, or the clock passes deadline_ns (~0: no
	 * deadline); then finish: rt_sigsuspend returns -EINTR (its handler
	 * runs), rt_sigtimedwait takes a waited signal (lx_sigwait_take) or
	 * returns -EINTR or -EAGAIN, and ends its wait (lx_sigwait_end). */
	void (*sigwait)(void *ctx, uint64_t nr, uint64_t deadline_ns);
};

/* A rt_sigaction record (the kernel's struct sigaction on x86-64). */
struct lx_sigaction {
	uint64_t handler, flags, restorer, mask;
};

/* What a pending signal's siginfo says (lx_signal.c builds the 128-byte
 * Linux record from it): si_code, the sender's pid (kill, SIGCHLD), a
 * child's status (SIGCHLD), the fault address (SIGSEGV...). */
struct lx_siginfo {
	int32_t code, pid, status;
	uint64_t addr;
};

/* What execve copied in from user space: the resolved program path and
 * NULL-terminated argv and envp, all in one allocation (lx_exec_args_free). */
struct lx_exec_args {
	char path[LX_EXE_MAX];
	const char **argv, **envp;
	uint32_t argc, envc;
	uint64_t bytes; /* the strings' total size */
};

struct lx_proc {
	const struct lx_host_ops *ops;
	void *ctx;
	const struct rootfs *fs;
	const struct rootfs_node *cwd;
	struct lx_file *fd[LX_MAX_FD];
	int pid, ppid;
	uint64_t brk_start, brk_cur;
	uint64_t mmap_min, mmap_top;
	struct lx_vma vma[LX_MAX_VMAS];
	uint32_t nvma;
	uint64_t fs_base, clear_tid;
	bool exited;   /* exit, exit_group or a fatal signal: end after this call */
	int exit_code; /* exit status, or 128 + signal */
	int kill_sig;  /* ended by this signal (0: exited) */
	uint64_t syscalls, unknown_syscalls;
	uint64_t cloexec; /* bit n: fd n closes on execve */
	int pgid, sid;
	uint64_t sigmask;    /* blocked signals (bit sig - 1) */
	uint64_t sigpending; /* caught or blocked signals not delivered yet */
	struct lx_sigaction sig[LX_NSIG];
	struct lx_siginfo siginfo[LX_NSIG]; /* of each pending signal */
	/* sigpending & ~sigmask != 0: a handler is to run before the return to
	 * user mode (set and cleared under the lock; read without it by the
	 * system-call path, which at worst delivers at the next call). */
	bool sig_ready;
	uint64_t altstack_sp, altstack_size; /* sigaltstack; size 0: disabled */
	/* rt_sigsuspend: the mask to put back once its handler's frame has
	 * recorded it (the frame's mask is saved_mask, not the temporary one),
	 * or, if no handler runs, at the return (Linux's saved_sigmask). */
	uint64_t saved_mask;
	bool restore_mask;
	/* rt_sigtimedwait (under the lock): the signals it waits for.  One of
	 * them that is blocked is recorded as pending whatever its disposition
	 * (Linux's real_blocked), and its arrival wakes the waiter. */
	uint64_t sigwait;
	/* Waiting on a pipe (lx_pipe.c, under the lock): the pipe and its gen
	 * when the call decided to block; while asleep, the list it is on and
	 * the host's token. */
	struct lx_pipe *wait_pipe;
	uint32_t wait_gen;
	struct lx_proc *wait_next, **wait_list;
	void *wait_token;
	bool in_retry;             /* the host is running a blocked call again */
	struct lx_exec_args *exec; /* execve's arguments, for ops->exec */
	char exe[LX_EXE_MAX];      /* the running image (/proc/self/exe) */
};

/* Set up p: console on fds 0-2, no memory areas. brk_start must be page
 * aligned; mmaps go in [mmap_min, mmap_top). */
int lx_proc_init(struct lx_proc *p, const struct lx_host_ops *ops, void *ctx,
                 const struct rootfs *fs, int pid, int ppid, uint64_t brk_start, uint64_t mmap_min,
                 uint64_t mmap_top);
/* Close every fd (memory areas are the process layer's to free). */
void lx_proc_fini(struct lx_proc *p);
/* fork: child gets a copy of parent (fds share the parent's files, areas,
 * brk, FS base, signal state, groups) with its own pid, ppid = parent's
 * pid, and ctx.  Cannot fail. */
void lx_proc_fork(struct lx_proc *child, const struct lx_proc *parent, void *ctx, int pid);
/* execve's point of no return (the image was replaced): close the
 * O_CLOEXEC fds, forget every area and add the new stack and image, reset
 * brk, the FS base and caught signals (ignored ones stay ignored). */
void lx_proc_exec(struct lx_proc *p, const char *exe, uint64_t brk_start, uint64_t image_lo,
                  uint64_t image_hi, uint64_t stack_lo, uint64_t stack_hi);
void lx_exec_args_free(struct lx_exec_args *a);
/* Deliver sig to p as a kill would (p may run on another CPU; call with
 * the host's lock held): the default action of the terminating signals
 * ends p after its current call or wait; ignored ones are dropped; a
 * signal with a handler, or a blocked one, is recorded as pending with its
 * siginfo (info NULL: sent by the kernel) and, when it can be delivered,
 * p->sig_ready is set and p is woken from a pipe wait.  True if p is to
 * end.  (lx_signal.c) */
bool lx_signal_post(struct lx_proc *p, int sig);
bool lx_signal_post_info(struct lx_proc *p, int sig, const struct lx_siginfo *info);
/* Before returning to user mode from a call (nr, its result res) or a
 * fault (nr = -1): if a caught signal can be delivered, build its frame on
 * the user stack and point the registers at its handler; the value for rax
 * (0 for a handler; else res, with -LX_ERESTART made -EINTR or a restart).
 * A frame that cannot be written, or a handler without SA_RESTORER, ends p
 * with SIGSEGV (p->exited).  Without the lock. */
long lx_signal_deliver(struct lx_proc *p, struct lx_regs *r, long res, uint64_t nr);
/* A fault's signal with a handler that can run (caught, not blocked):
 * made pending with its siginfo; true if so (else the fault kills). */
bool lx_signal_fault(struct lx_proc *p, int sig, int code, uint64_t addr);
/* After the mask or a disposition changed (lock held): a pending signal
 * now unblocked with its default action takes it; sig_ready recomputed. */
void lx_signal_recheck(struct lx_proc *p);
/* A waited-for signal of rt_sigtimedwait (p->sigwait) is pending: its
 * sender must wake p (lock held). */
bool lx_sigwait_pending(const struct lx_proc *p);
/* rt_sigtimedwait's work: take the next pending signal of p->sigwait
 * without running its handler, write its siginfo to uinfo (if not 0):
 * the signal's number; -EAGAIN if none is pending; -EFAULT if uinfo
 * cannot be written (the signal stays pending).  Without the lock. */
long lx_sigwait_take(struct lx_proc *p, uint64_t uinfo);
/* rt_sigtimedwait's wait is over (p->sigwait cleared).  Without the lock. */
void lx_sigwait_end(struct lx_proc *p);
/* Wake p from a pipe wait, under the lock (a signal, its end). */
void lx_wait_cancel(struct lx_proc *p);
/* After the raise of a call that returned -LX_EBLOCK for a pipe: sleep
 * until the pipe changes or a signal comes (no lost wake-up: decided under
 * the lock against the pipe's gen). */
void lx_pipe_wait(struct lx_proc *p);
/* pp changed (lock held): bump its gen, wake who sleeps on it. */
void lx_pipe_changed(struct lx_proc *p, struct lx_pipe *pp);
/* Linux wait status: exited with code, killed by sig; the signal of a
 * CPU exception vector (14 -> SIGSEGV...). */
int lx_wait_status(int code, int sig);
int lx_signal_of_vector(unsigned vector);
/* Path of a *at call, /proc/self/exe resolved: copied into buf
 * (ROOTFS_PATH_MAX); its length or -errno. */
long lx_path_get(struct lx_proc *p, char *buf, uint64_t upath);
/* The pipe ring (caller holds the lock): copy in / out at most n bytes,
 * the count moved. */
uint32_t lx_pipe_put(struct lx_pipe *pp, const uint8_t *src, uint32_t n);
uint32_t lx_pipe_get(struct lx_pipe *pp, uint8_t *dst, uint32_t n);
/* Drop one fd's reference to f (close, dup2 over, exec, exit). */
void lx_file_put(struct lx_proc *p, struct lx_file *f);

/* Record an area mapped by the loader (image, stack): page aligned,
 * disjoint from every other.  0, -EINVAL, -ENOMEM (table full). */
int lx_vma_add(struct lx_proc *p, uint64_t start, uint64_t end, uint32_t prot,
               enum lx_vma_kind kind);

/* The saved user registers of a Linux x86-64 system call (rax = number;
 * rdi, rsi, rdx, r10, r8, r9 = arguments) in the order the kernel saves
 * them (struct trap_frame: r15 .. rax, vector, error, then the CPU's rip,
 * cs, rflags, rsp, ss), so the kernel glue passes its saved frame as it is
 * (lx_module.c checks the offsets) and no argument is copied.  Signal
 * delivery and rt_sigreturn (lx_signal.c) read and write all of them;
 * the rest of the personality reads rax and the six arguments. */
struct lx_regs {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss;
};

/* One system call; the value for rax.  After exit/exit_group p->exited is
 * set and the process layer must not return to user mode.  lx_syscall
 * takes the number and the six arguments as values (host tests). */
long lx_syscall_regs(struct lx_proc *p, struct lx_regs *r);
long lx_syscall(struct lx_proc *p, uint64_t nr, const uint64_t a[6]);

/* Internal to kernel/linux/: one file per group of calls. */
long lx_sys_read(struct lx_proc *p, uint64_t fd, uint64_t buf, uint64_t count);
long lx_sys_write(struct lx_proc *p, uint64_t fd, uint64_t buf, uint64_t count);
long lx_sys_writev(struct lx_proc *p, uint64_t fd, uint64_t iov, uint64_t cnt);
long lx_sys_readv(struct lx_proc *p, uint64_t fd, uint64_t iov, uint64_t cnt);
long lx_sys_openat(struct lx_proc *p, int64_t dirfd, uint64_t path, uint64_t flags, uint64_t mode);
long lx_sys_close(struct lx_proc *p, uint64_t fd);
long lx_sys_lseek(struct lx_proc *p, uint64_t fd, int64_t off, uint64_t whence);
long lx_sys_fstat(struct lx_proc *p, uint64_t fd, uint64_t statbuf);
long lx_sys_newfstatat(struct lx_proc *p, int64_t dirfd, uint64_t path, uint64_t statbuf,
                       uint64_t flags);
long lx_sys_readlinkat(struct lx_proc *p, int64_t dirfd, uint64_t path, uint64_t buf,
                       uint64_t bufsiz);
long lx_sys_getdents64(struct lx_proc *p, uint64_t fd, uint64_t dirp, uint64_t count);
long lx_sys_ioctl(struct lx_proc *p, uint64_t fd, uint64_t req, uint64_t arg);
long lx_sys_brk(struct lx_proc *p, uint64_t addr);
long lx_sys_mmap(struct lx_proc *p, uint64_t addr, uint64_t len, uint64_t prot, uint64_t flags,
                 uint64_t fd, uint64_t off);
long lx_sys_munmap(struct lx_proc *p, uint64_t addr, uint64_t len);
long lx_sys_mprotect(struct lx_proc *p, uint64_t addr, uint64_t len, uint64_t prot);
long lx_sys_pipe2(struct lx_proc *p, uint64_t fds, uint64_t flags);
long lx_pipe_read(struct lx_proc *p, struct lx_file *f, uint64_t buf, uint64_t count);
long lx_pipe_write(struct lx_proc *p, struct lx_file *f, uint64_t buf, uint64_t count);
long lx_sys_dup(struct lx_proc *p, uint64_t fd);
long lx_sys_dup3(struct lx_proc *p, uint64_t oldfd, uint64_t newfd, uint64_t flags, bool dup2);
long lx_sys_fcntl(struct lx_proc *p, uint64_t fd, uint64_t cmd, uint64_t arg);
int lx_fd_install(struct lx_proc *p, struct lx_file *f, uint64_t min, bool cloexec);
long lx_sys_clone(struct lx_proc *p, uint64_t flags, uint64_t newsp, uint64_t ptid, uint64_t ctid);
long lx_sys_execve(struct lx_proc *p, uint64_t path, uint64_t argv, uint64_t envp);
long lx_sys_wait4(struct lx_proc *p, int64_t pid, uint64_t status, uint64_t options,
                  uint64_t rusage);
long lx_sys_kill(struct lx_proc *p, int64_t pid, int64_t sig);
long lx_sys_rt_sigaction(struct lx_proc *p, uint64_t sig, uint64_t act, uint64_t oact,
                         uint64_t size);
long lx_sys_rt_sigprocmask(struct lx_proc *p, uint64_t how, uint64_t set, uint64_t oset,
                           uint64_t size);
long lx_sys_rt_sigreturn(struct lx_proc *p, struct lx_regs *r);
long lx_sys_rt_sigpending(struct lx_proc *p, uint64_t set, uint64_t size);
long lx_sys_rt_sigsuspend(struct lx_proc *p, uint64_t mask, uint64_t size);
long lx_sys_rt_sigtimedwait(struct lx_proc *p, uint64_t set, uint64_t info, uint64_t ts,
                            uint64_t size);
long lx_sys_sigaltstack(struct lx_proc *p, uint64_t ss, uint64_t oss, uint64_t sp);
long lx_sys_setpgid(struct lx_proc *p, int64_t pid, int64_t pgid);
long lx_sys_getpgid(struct lx_proc *p, int64_t pid);
long lx_sys_setsid(struct lx_proc *p);
long lx_sys_getsid(struct lx_proc *p, int64_t pid);

#endif
