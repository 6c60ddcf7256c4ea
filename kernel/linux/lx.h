/*
 * kernel/linux/lx.h: the Linux-ABI personality (SPIN's UNIX server, §2.7,
 * as a trusted in-kernel module).
 *
 * The personality implements the subset of Linux x86-64 system calls that
 * static musl programs (and simple busybox applets) make, on a per-process
 * state, struct lx_proc: the file-descriptor table (the console as fds 0,
 * 1 and 2; files and directories of the read-only root file system), the
 * memory areas (ELF image, stack, brk heap, anonymous mmaps), identity and
 * exit status.  lx_syscall_regs(proc, regs) is the whole entry: the
 * personality's MachineTrap.Syscall handler (lx_module.c) calls it with the
 * saved registers and puts the result in rax.  Unknown numbers
 * return -ENOSYS.
 *
 * Everything machine- or kernel-specific is behind struct lx_host_ops
 * (mapping pages, the FS base, the console, time, exit), and user memory is
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
 * at a time per process, so no lock).  Errors: Linux errno values, negated.
 */
#ifndef KERNEL_LINUX_LX_H
#define KERNEL_LINUX_LX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/rootfs.h"

#define LX_MAX_FD   64
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

enum lx_file_kind { LX_FILE_CONSOLE = 1, LX_FILE_ROOTFS };

struct lx_file {
	enum lx_file_kind kind;
	uint32_t refs;  /* fds sharing it (dup is not offered yet: 1) */
	uint32_t flags; /* open flags */
	const struct rootfs_node *node;
	uint64_t pos; /* byte offset; directories: getdents position */
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
	/* Sleep (or spin) ns nanoseconds. */
	void (*sleep_ns)(void *ctx, uint64_t ns);
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
	bool exited;
	int exit_code;
	uint64_t syscalls, unknown_syscalls;
};

/* Set up p: console on fds 0-2, no memory areas. brk_start must be page
 * aligned; mmaps go in [mmap_min, mmap_top). */
int lx_proc_init(struct lx_proc *p, const struct lx_host_ops *ops, void *ctx,
                 const struct rootfs *fs, int pid, int ppid, uint64_t brk_start, uint64_t mmap_min,
                 uint64_t mmap_top);
/* Close every fd (memory areas are the process layer's to free). */
void lx_proc_fini(struct lx_proc *p);

/* Record an area mapped by the loader (image, stack): page aligned,
 * disjoint from every other.  0, -EINVAL, -ENOMEM (table full). */
int lx_vma_add(struct lx_proc *p, uint64_t start, uint64_t end, uint32_t prot,
               enum lx_vma_kind kind);

/* The general registers of a Linux x86-64 system call (rax = number; rdi,
 * rsi, rdx, r10, r8, r9 = arguments), in the order the kernel saves them
 * (struct trap_frame's r15 .. rax), so the kernel glue passes its saved
 * frame as it is (lx_module.c checks the offsets) and no argument is
 * copied.  Only rax and the six argument registers are read. */
struct lx_regs {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
};

/* One system call; the value for rax.  After exit/exit_group p->exited is
 * set and the process layer must not return to user mode.  lx_syscall
 * takes the number and the six arguments as values (host tests). */
long lx_syscall_regs(struct lx_proc *p, const struct lx_regs *r);
long lx_syscall(struct lx_proc *p, uint64_t nr, const uint64_t a[6]);

/* Internal to kernel/linux/: one file per group of calls. */
long lx_sys_read(struct lx_proc *p, uint64_t fd, uint64_t buf, uint64_t count);
long lx_sys_write(struct lx_proc *p, uint64_t fd, uint64_t buf, uint64_t count);
long lx_sys_writev(struct lx_proc *p, uint64_t fd, uint64_t iov, uint64_t cnt);
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

#endif
