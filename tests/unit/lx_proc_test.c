/*
 * lx_proc_test.c: the Linux personality's process side (kernel/linux/
 * lx_fd.c, lx_pipe.c, lx_proc.c) over a fake host that records what the
 * process layer is asked (block, fork, exec, wait, kill), checks that the
 * shared lock is balanced and never nested, and counts wake-ups; user
 * memory is tests/unit/fake_umem.c.  Two lx_procs stand for a parent and
 * its forked child sharing files and pipes.  ASan/UBSan watch every
 * reference count: a file freed too early or never freed is reported.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "kernel/linux/lx.h"
#include "kernel/rootfs.h"
#include "kernel/uaccess.h"
#include "kernel/uerrno.h"
#include "tests/unit/check.h"
#include "tests/unit/cpio_ar.h"
#include "tests/unit/fake_umem.h"

#define BRK0     0x01000000ull
#define MMAP_MIN 0x40000000ull
#define MMAP_TOP 0x40100000ull
#define KPTR     0xffff888000001000ull

static int lock_depth, lock_nested, wakes, blocks, exec_calls, wait_calls;
static uint64_t events, block_nr, fork_flags, fork_ptid, fork_ctid;
static int kill_pid, kill_sig;

static int h_map(void *c, uint64_t va, uint64_t len, uint32_t prot)
{
	(void)c, (void)va, (void)len, (void)prot;
	return 0;
}
static void h_unmap(void *c, uint64_t va, uint64_t len)
{
	(void)c, (void)va, (void)len;
}
static int h_protect(void *c, uint64_t va, uint64_t len, uint32_t prot)
{
	(void)c, (void)va, (void)len, (void)prot;
	return 0;
}
static void h_set_fs(void *c, uint64_t base)
{
	(void)c, (void)base;
}
static long h_write(void *c, const char *b, size_t n)
{
	(void)c, (void)b;
	return (long)n;
}
static uint64_t h_now(void *c)
{
	(void)c;
	return 0;
}
static void h_sleep(void *c, uint64_t ns)
{
	(void)c, (void)ns;
}
static void h_lock(void *c)
{
	(void)c;
	if (lock_depth)
		lock_nested++;
	lock_depth++;
}
static void h_unlock(void *c)
{
	(void)c;
	lock_depth--;
}
static void h_wake(void *c)
{
	(void)c;
	CHECK_EQ(lock_depth, 0); /* never under the lock */
	events++;
	wakes++;
}
static uint64_t h_events(void *c)
{
	(void)c;
	CHECK_EQ(lock_depth, 1); /* read under the lock */
	return events;
}
static void h_block(void *c, uint64_t nr)
{
	(void)c;
	blocks++;
	block_nr = nr;
}
static long h_fork(void *c, uint64_t flags, uint64_t ptid, uint64_t ctid, uint64_t sp)
{
	(void)c, (void)sp;
	fork_flags = flags, fork_ptid = ptid, fork_ctid = ctid;
	return 0;
}
static long h_exec(void *c)
{
	(void)c;
	exec_calls++;
	return 0;
}
static long h_wait(void *c)
{
	(void)c;
	wait_calls++;
	return 0;
}
static long h_kill(void *c, int pid, int sig)
{
	(void)c;
	kill_pid = pid, kill_sig = sig;
	return 0;
}
static const struct lx_host_ops ops = {h_map,   h_unmap, h_protect, h_set_fs, h_write,  h_now,
                                       h_sleep, h_lock,  h_unlock,  h_wake,   h_events, h_block,
                                       h_fork,  h_exec,  h_wait,    h_kill};

static uint8_t ar[4096];
static size_t arlen;
static void ar_add(const char *name, uint32_t mode, const char *data)
{
	cpio_ar_add(ar, &arlen, name, mode, data);
}

static struct rootfs *fs;
static struct lx_proc parent, child;

static void setup(void)
{
	memset(fake_umem, 0, sizeof(fake_umem));
	lock_depth = lock_nested = wakes = blocks = exec_calls = wait_calls = 0;
	events = 100;
	if (!fs) {
		ar_add("bin/busybox", 0100755, "ELF");
		ar_add("etc/motd", 0100644, "motd\n");
		ar_add("TRAILER!!!", 0, NULL);
		CHECK_EQ(rootfs_create(ar, arlen, &fs), 0);
	}
	CHECK_EQ(lx_proc_init(&parent, &ops, NULL, fs, 5, 1, BRK0, MMAP_MIN, MMAP_TOP), 0);
	strcpy(parent.exe, "/bin/busybox");
}

static void teardown(void)
{
	lx_proc_fini(&parent);
	CHECK_EQ(lock_depth, 0);
	CHECK_EQ(lock_nested, 0);
}

static long sysc(struct lx_proc *p, uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3)
{
	const uint64_t a[6] = {a0, a1, a2, a3, 0, 0};
	long r = lx_syscall(p, nr, a);

	CHECK_EQ(lock_depth, 0);
	return r;
}
#define S(nr, ...) sysc(&parent, nr, __VA_ARGS__)

static uint64_t ustr(uint64_t off, const char *s)
{
	memcpy(fake_umem + off, s, strlen(s) + 1);
	return U(off);
}

static int32_t fd_at(uint64_t off, int i)
{
	int32_t v;

	memcpy(&v, fake_umem + off + 4 * (uint64_t)i, 4);
	return v;
}

/* ---- the ring itself ---- */
static void pipe_ring(void)
{
	static uint8_t buf[LX_PIPE_SIZE];
	struct lx_pipe pp = {0, 0, 1, 1, buf};
	uint8_t in[6000], out[6000];

	for (unsigned i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i * 7);
	CHECK_EQ(lx_pipe_put(&pp, in, 6000), 6000u);
	CHECK_EQ(lx_pipe_put(&pp, in, 6000), 6000u);
	CHECK_EQ(lx_pipe_put(&pp, in, 6000), LX_PIPE_SIZE - 12000); /* only what fits */
	CHECK_EQ(pp.len, LX_PIPE_SIZE);
	CHECK_EQ(lx_pipe_get(&pp, out, 6000), 6000u);
	CHECK(memcmp(in, out, 6000) == 0);
	/* Wrap around the end of the ring. */
	CHECK_EQ(lx_pipe_put(&pp, in, 6000), 6000u);
	CHECK_EQ(lx_pipe_get(&pp, out, 6000), 6000u);
	CHECK(memcmp(in, out, 6000) == 0);
	CHECK_EQ(lx_pipe_get(&pp, out, LX_PIPE_SIZE - 12000), LX_PIPE_SIZE - 12000);
	CHECK(memcmp(in, out, LX_PIPE_SIZE - 12000) == 0);
	CHECK_EQ(lx_pipe_get(&pp, out, 6000), 6000u);
	CHECK(memcmp(in, out, 6000) == 0);
	CHECK_EQ(pp.len, 0u);
	CHECK_EQ(lx_pipe_get(&pp, out, 10), 0u);
}

/* ---- the fd table ---- */
static void fd_table(void)
{
	setup();
	CHECK_EQ(parent.fd[0]->refs, 3u);
	CHECK_EQ(S(LX_SYS_dup, 1, 0, 0, 0), 3);
	CHECK_EQ(parent.fd[0]->refs, 4u);
	CHECK_EQ(S(LX_SYS_dup, 40, 0, 0, 0), -EBADF);
	CHECK_EQ(S(LX_SYS_dup2, 0, 9, 0, 0), 9);
	CHECK_EQ(S(LX_SYS_dup2, 9, 9, 0, 0), 9);
	CHECK_EQ(S(LX_SYS_dup2, 8, 9, 0, 0), -EBADF); /* old not open */
	CHECK_EQ(S(LX_SYS_dup2, 0, LX_MAX_FD, 0, 0), -EBADF);
	CHECK_EQ(S(LX_SYS_dup3, 0, 9, 0, 0), 9); /* over an open fd */
	CHECK_EQ(S(LX_SYS_dup3, 9, 9, 0, 0), -EINVAL);
	CHECK_EQ(S(LX_SYS_dup3, 0, 11, 1, 0), -EINVAL);
	CHECK_EQ(S(LX_SYS_dup3, 0, 11, LX_O_CLOEXEC, 0), 11);
	CHECK_EQ(S(LX_SYS_fcntl, 11, 1, 0, 0), 1); /* F_GETFD: FD_CLOEXEC */
	CHECK_EQ(S(LX_SYS_fcntl, 9, 1, 0, 0), 0);
	CHECK_EQ(S(LX_SYS_fcntl, 9, 2, 1, 0), 0); /* F_SETFD */
	CHECK_EQ(S(LX_SYS_fcntl, 9, 1, 0, 0), 1);
	CHECK_EQ(S(LX_SYS_fcntl, 0, 0, 5, 0), 5);    /* F_DUPFD from 5 */
	CHECK_EQ(S(LX_SYS_fcntl, 0, 1030, 5, 0), 6); /* F_DUPFD_CLOEXEC */
	CHECK_EQ(S(LX_SYS_fcntl, 6, 1, 0, 0), 1);
	CHECK_EQ(S(LX_SYS_fcntl, 0, 0, LX_MAX_FD, 0), -EINVAL);
	CHECK_EQ(S(LX_SYS_fcntl, 0, 0, (uint64_t)-3, 0), -EINVAL);
	CHECK_EQ(S(LX_SYS_fcntl, 0, 3, 0, 0), 2); /* F_GETFL: O_RDWR */
	CHECK_EQ(S(LX_SYS_fcntl, 0, 4, LX_O_NONBLOCK | 1, 0), 0);
	CHECK_EQ(S(LX_SYS_fcntl, 5, 3, 0, 0), 2 | LX_O_NONBLOCK); /* shared by dups */
	CHECK_EQ(S(LX_SYS_fcntl, 0, 77, 0, 0), -EINVAL);
	CHECK_EQ(S(LX_SYS_fcntl, 50, 1, 0, 0), -EBADF);
	CHECK_EQ(parent.fd[0]->refs, 8u);
	CHECK_EQ(S(LX_SYS_close, 11, 0, 0, 0), 0);
	CHECK_EQ(parent.cloexec & (1ull << 11), 0ull); /* the flag goes with the fd */
	CHECK_EQ(parent.fd[0]->refs, 7u);
	/* Fill the table: EMFILE, and nothing leaks. */
	for (int i = 0; i < LX_MAX_FD; i++)
		S(LX_SYS_dup, 0, 0, 0, 0);
	CHECK_EQ(S(LX_SYS_dup, 0, 0, 0, 0), -EMFILE);
	CHECK_EQ(S(LX_SYS_pipe2, U(0), 0, 0, 0), -EMFILE);
	CHECK_EQ(parent.fd[0]->refs, (uint32_t)LX_MAX_FD);
	teardown();
}

/* ---- pipes ---- */
static void pipes(void)
{
	int r, w;

	setup();
	CHECK_EQ(S(LX_SYS_pipe2, U(0), 0, 0, 0), 0);
	r = fd_at(0, 0), w = fd_at(0, 1);
	CHECK_EQ(r, 3);
	CHECK_EQ(w, 4);
	CHECK_EQ(S(LX_SYS_write, (uint64_t)r, ustr(64, "x"), 1, 0), -EBADF); /* read end */
	CHECK_EQ(S(LX_SYS_read, (uint64_t)w, U(64), 1, 0), -EBADF);          /* write end */
	CHECK_EQ(S(LX_SYS_lseek, (uint64_t)r, 0, 0, 0), -ESPIPE);
	CHECK_EQ(S(LX_SYS_ioctl, (uint64_t)r, 0x5401, U(64), 0), -ENOTTY);
	CHECK_EQ(S(LX_SYS_fstat, (uint64_t)r, U(512), 0, 0), 0);
	{
		uint32_t mode;

		memcpy(&mode, fake_umem + 512 + 24, 4);
		CHECK_EQ(mode & 0170000u, 0010000u); /* S_IFIFO */
	}
	/* Empty: a blocking read asks the host to block, with the event count. */
	CHECK_EQ(S(LX_SYS_read, (uint64_t)r, U(64), 10, 0), -LX_EBLOCK);
	CHECK_EQ(blocks, 1);
	CHECK_EQ(block_nr, (uint64_t)LX_SYS_read);
	CHECK_EQ(parent.block_gen, 100ull);
	/* Data, then the read takes it and wakes a writer. */
	wakes = 0;
	CHECK_EQ(S(LX_SYS_write, (uint64_t)w, ustr(64, "hello"), 5, 0), 5);
	CHECK_EQ(wakes, 1);
	CHECK_EQ(S(LX_SYS_read, (uint64_t)r, U(128), 3, 0), 3);
	CHECK(memcmp(fake_umem + 128, "hel", 3) == 0);
	CHECK_EQ(S(LX_SYS_read, (uint64_t)r, U(128), 10, 0), 2);
	CHECK(memcmp(fake_umem + 128, "lo", 2) == 0);
	CHECK_EQ(S(LX_SYS_read, (uint64_t)r, U(128), 0, 0), 0);
	/* Hostile buffers: nothing consumed by a refused write. */
	CHECK_EQ(S(LX_SYS_write, (uint64_t)w, KPTR, 5, 0), -EFAULT);
	CHECK_EQ(S(LX_SYS_write, (uint64_t)w, U(FAKE_UMEM_SIZE - 2), 5, 0), -EFAULT);
	CHECK_EQ(S(LX_SYS_read, (uint64_t)r, KPTR, 5, 0), -EFAULT);
	CHECK_EQ(S(LX_SYS_read, (uint64_t)r, U(64), 10, 0), -LX_EBLOCK); /* still empty */
	/* writev into a pipe. */
	{
		uint64_t iov[4] = {U(64), 2, U(70), 3};

		ustr(64, "ab");
		ustr(70, "cde");
		memcpy(fake_umem + 256, iov, sizeof(iov));
		CHECK_EQ(S(LX_SYS_writev, (uint64_t)w, U(256), 2, 0), 5);
		CHECK_EQ(S(LX_SYS_read, (uint64_t)r, U(128), 10, 0), 5);
		CHECK(memcmp(fake_umem + 128, "abcde", 5) == 0);
	}
	/* readv: fills the first buffer, the rest of the data in the second,
	 * stops short; on an empty pipe it blocks as readv. */
	{
		uint64_t iov[6] = {U(600), 3, U(700), 10, U(800), 10};

		memcpy(fake_umem + 256, iov, sizeof(iov));
		CHECK_EQ(S(LX_SYS_write, (uint64_t)w, ustr(64, "vector"), 6, 0), 6);
		CHECK_EQ(S(LX_SYS_readv, (uint64_t)r, U(256), 3, 0), 6);
		CHECK(memcmp(fake_umem + 600, "vec", 3) == 0 &&
		      memcmp(fake_umem + 700, "tor", 3) == 0);
		blocks = 0;
		CHECK_EQ(S(LX_SYS_readv, (uint64_t)r, U(256), 3, 0), -LX_EBLOCK);
		CHECK_EQ(blocks, 1);
		CHECK_EQ(block_nr, (uint64_t)LX_SYS_readv);
		iov[2] = KPTR;
		memcpy(fake_umem + 256, iov, sizeof(iov));
		CHECK_EQ(S(LX_SYS_readv, (uint64_t)r, U(256), 3, 0), -EFAULT);
		CHECK_EQ(S(LX_SYS_readv, (uint64_t)r, KPTR, 1, 0), -EFAULT);
		CHECK_EQ(S(LX_SYS_readv, (uint64_t)r, U(256), 5000, 0), -EINVAL);
		CHECK_EQ(S(LX_SYS_readv, (uint64_t)w, U(256), 1, 0), -EBADF);
	}
	/* Fill it: an atomic write that does not fit blocks; a big one is short. */
	blocks = 0;
	for (int i = 0; i < 4; i++)
		CHECK_EQ(S(LX_SYS_write, (uint64_t)w, U(0), 4000, 0), 4000);
	CHECK_EQ(S(LX_SYS_write, (uint64_t)w, U(0), 1000, 0), -LX_EBLOCK); /* 384 left */
	CHECK_EQ(blocks, 1);
	CHECK_EQ(block_nr, (uint64_t)LX_SYS_write);
	CHECK_EQ(S(LX_SYS_write, (uint64_t)w, U(0), 10000, 0), 384);    /* not atomic: partial */
	CHECK_EQ(S(LX_SYS_write, (uint64_t)w, U(0), 1, 0), -LX_EBLOCK); /* full */
	/* O_NONBLOCK instead of blocking. */
	CHECK_EQ(S(LX_SYS_fcntl, (uint64_t)w, 4, LX_O_NONBLOCK, 0), 0);
	CHECK_EQ(S(LX_SYS_write, (uint64_t)w, U(0), 1, 0), -EAGAIN);
	/* The write end closes: the reader drains, then end of file. */
	wakes = 0;
	CHECK_EQ(S(LX_SYS_close, (uint64_t)w, 0, 0, 0), 0);
	CHECK_EQ(wakes, 1);
	{
		long total = 0, n;

		while ((n = S(LX_SYS_read, (uint64_t)r, U(0), 4096, 0)) > 0)
			total += n;
		CHECK_EQ(n, 0);
		CHECK_EQ(total, (long)LX_PIPE_SIZE);
	}
	CHECK_EQ(S(LX_SYS_close, (uint64_t)r, 0, 0, 0), 0); /* frees the pipe (ASan) */

	/* No reader: -EPIPE; with SIGPIPE's default action the writer ends. */
	CHECK_EQ(S(LX_SYS_pipe2, U(0), LX_O_CLOEXEC | LX_O_NONBLOCK, 0, 0), 0);
	r = fd_at(0, 0), w = fd_at(0, 1);
	CHECK_EQ(parent.cloexec, (1ull << r) | (1ull << w));
	CHECK_EQ(S(LX_SYS_read, (uint64_t)r, U(64), 1, 0), -EAGAIN);
	CHECK_EQ(S(LX_SYS_close, (uint64_t)r, 0, 0, 0), 0);
	{
		uint64_t act[4] = {LX_SIG_IGN, 0, 0, 0};

		memcpy(fake_umem + 300, act, sizeof(act));
		CHECK_EQ(S(LX_SYS_rt_sigaction, LX_SIGPIPE, U(300), 0, 8), 0);
		CHECK_EQ(S(LX_SYS_write, (uint64_t)w, U(0), 1, 0), -EPIPE);
		CHECK(!parent.exited);
		act[0] = LX_SIG_DFL;
		memcpy(fake_umem + 300, act, sizeof(act));
		CHECK_EQ(S(LX_SYS_rt_sigaction, LX_SIGPIPE, U(300), 0, 8), 0);
		CHECK_EQ(S(LX_SYS_write, (uint64_t)w, U(0), 1, 0), -EPIPE);
		CHECK(parent.exited);
		CHECK_EQ(parent.kill_sig, LX_SIGPIPE);
		CHECK_EQ(lx_wait_status(parent.exit_code, parent.kill_sig), LX_SIGPIPE);
	}
	/* Bad arguments. */
	CHECK_EQ(S(LX_SYS_pipe2, U(0), 0x4000 /* O_DIRECT */, 0, 0), -EINVAL);
	CHECK_EQ(S(LX_SYS_pipe2, KPTR, 0, 0, 0), -EFAULT);
	CHECK_EQ(S(LX_SYS_pipe, 0, 0, 0, 0), -EFAULT);
	CHECK_EQ(S(LX_SYS_pipe, U(FAKE_UMEM_SIZE - 4), 0, 0, 0), -EFAULT); /* read-only page */
	CHECK(parent.fd[5] == NULL); /* a failed pipe leaves no fd behind */
	teardown();
}

/* ---- fork: shared files, private tables; exec; exit closes ---- */
static void fork_exec(void)
{
	int r, w;

	setup();
	CHECK_EQ(S(LX_SYS_pipe2, U(0), 0, 0, 0), 0);
	r = fd_at(0, 0), w = fd_at(0, 1);
	CHECK_EQ(S(LX_SYS_dup3, 1, 20, LX_O_CLOEXEC, 0), 20);
	parent.sig[LX_SIGTERM - 1].handler = 0x401000; /* caught */
	parent.sig[LX_SIGCHLD - 1].handler = LX_SIG_IGN;
	lx_proc_fork(&child, &parent, (void *)&child, 6);
	CHECK_EQ(child.pid, 6);
	CHECK_EQ(child.ppid, 5);
	CHECK_EQ(child.pgid, parent.pgid);
	CHECK(child.fd[r] == parent.fd[r]);
	CHECK_EQ(parent.fd[r]->refs, 2u);
	CHECK_EQ(parent.fd[1]->refs, 8u); /* console: 3 + dup, in two processes */
	/* The child writes, the parent reads; closing in one leaves the other. */
	CHECK_EQ(sysc(&child, LX_SYS_close, (uint64_t)r, 0, 0, 0), 0);
	CHECK_EQ(parent.fd[r]->refs, 1u);
	CHECK_EQ(sysc(&child, LX_SYS_write, (uint64_t)w, ustr(64, "kid"), 3, 0), 3);
	CHECK_EQ(S(LX_SYS_close, (uint64_t)w, 0, 0, 0), 0);
	CHECK_EQ(S(LX_SYS_read, (uint64_t)r, U(128), 10, 0), 3);
	CHECK_EQ(S(LX_SYS_read, (uint64_t)r, U(128), 10, 0), -LX_EBLOCK); /* child's end open */
	/* execve's point of no return in the child: cloexec fds close, caught
	 * handlers reset, ignored stay, areas are the new image's. */
	lx_proc_exec(&child, "/bin/hello", 0x600000, 0x400000, 0x600000, 0x7fffffbe000,
	             0x7fffffffe000);
	CHECK(child.fd[20] == NULL);
	CHECK(child.fd[w] != NULL);
	CHECK_EQ(child.sig[LX_SIGTERM - 1].handler, (uint64_t)LX_SIG_DFL);
	CHECK_EQ(child.sig[LX_SIGCHLD - 1].handler, (uint64_t)LX_SIG_IGN);
	CHECK_EQ(child.nvma, 2u);
	CHECK_EQ(child.brk_cur, 0x600000ull);
	CHECK(strcmp(child.exe, "/bin/hello") == 0);
	/* The child ends: its files close, the reader sees end of file. */
	wakes = 0;
	lx_proc_fini(&child);
	CHECK(wakes >= 1);
	CHECK_EQ(S(LX_SYS_read, (uint64_t)r, U(128), 10, 0), 0);
	CHECK_EQ(parent.fd[1]->refs, 4u);
	teardown();
}

/* ---- execve, clone, wait4, kill: validation before the host ---- */
static void process_calls(void)
{
	struct lx_exec_args *a;
	uint64_t vec[4];

	setup();
	/* execve copies path, argv and envp into one block for the host. */
	vec[0] = ustr(1000, "sh"), vec[1] = ustr(1010, "-c"), vec[2] = ustr(1020, "ls"), vec[3] = 0;
	memcpy(fake_umem + 2000, vec, sizeof(vec));
	vec[0] = ustr(1100, "PATH=/bin"), vec[1] = 0;
	memcpy(fake_umem + 2100, vec, 16);
	CHECK_EQ(S(LX_SYS_execve, ustr(900, "/proc/self/exe"), U(2000), U(2100), 0), 0);
	CHECK_EQ(exec_calls, 1);
	a = parent.exec;
	CHECK(a != NULL);
	if (a) {
		CHECK(strcmp(a->path, "/bin/busybox") == 0); /* /proc/self/exe resolved */
		CHECK_EQ(a->argc, 3u);
		CHECK_EQ(a->envc, 1u);
		CHECK(strcmp(a->argv[2], "ls") == 0 && a->argv[3] == NULL);
		CHECK(strcmp(a->envp[0], "PATH=/bin") == 0 && a->envp[1] == NULL);
	}
	/* NULL vectors are empty; the previous block is freed (ASan). */
	CHECK_EQ(S(LX_SYS_execve, ustr(900, "/bin/x"), 0, 0, 0), 0);
	CHECK(parent.exec && parent.exec->argc == 0 && parent.exec->argv[0] == NULL);
	/* Hostile: nothing reaches the host. */
	exec_calls = 0;
	CHECK_EQ(S(LX_SYS_execve, KPTR, U(2000), 0, 0), -EFAULT);
	CHECK_EQ(S(LX_SYS_execve, 0, U(2000), 0, 0), -EFAULT);
	CHECK_EQ(S(LX_SYS_execve, ustr(900, ""), U(2000), 0, 0), -ENOENT);
	CHECK_EQ(S(LX_SYS_execve, ustr(900, "/bin/x"), KPTR, 0, 0), -EFAULT);
	CHECK_EQ(S(LX_SYS_execve, ustr(900, "/bin/x"), U(2000), KPTR, 0), -EFAULT);
	vec[0] = ustr(1000, "sh"), vec[1] = KPTR, vec[2] = 0;
	memcpy(fake_umem + 2000, vec, 24);
	CHECK_EQ(S(LX_SYS_execve, ustr(900, "/bin/x"), U(2000), 0, 0), -EFAULT);
	/* A vector running off the end of user memory, unterminated. */
	memset(fake_umem + FAKE_UMEM_SIZE - 64, 0x11, 64);
	CHECK_EQ(S(LX_SYS_execve, ustr(900, "/bin/x"), U(FAKE_UMEM_SIZE - 64), 0, 0), -EFAULT);
	/* Too many pointers, too many bytes, too long a path. */
	for (int i = 0; i < 300; i++) {
		uint64_t v = ustr(1000, "a");

		memcpy(fake_umem + 4096 + 8 * (uint64_t)i, &v, 8);
	}
	memset(fake_umem + 4096 + 8 * 300, 0, 8);
	CHECK_EQ(S(LX_SYS_execve, ustr(900, "/bin/x"), U(4096), 0, 0), -E2BIG);
	memset(fake_umem + 0x10000, 'b', 60000);
	fake_umem[0x10000 + 60000] = 0;
	vec[0] = U(0x10000), vec[1] = 0;
	memcpy(fake_umem + 2000, vec, 16);
	CHECK_EQ(S(LX_SYS_execve, ustr(900, "/bin/x"), U(2000), 0, 0), -E2BIG);
	memset(fake_umem + 0x30000, 'c', 300);
	fake_umem[0x30000] = '/';
	fake_umem[0x30000 + 300] = 0;
	CHECK_EQ(S(LX_SYS_execve, U(0x30000), 0, 0, 0), -ENAMETOOLONG);
	CHECK_EQ(exec_calls, 0);

	/* clone: fork's flags only; tid pointers probed. */
	CHECK_EQ(S(LX_SYS_clone, 0x100 | LX_SIGCHLD, 0, 0, 0), -EINVAL);      /* CLONE_VM */
	CHECK_EQ(S(LX_SYS_clone, 0x10000 | 0x800 | 0x100, 0, 0, 0), -EINVAL); /* a thread */
	CHECK_EQ(S(LX_SYS_clone, 65, 0, 0, 0), -EINVAL);                      /* no signal 65 */
	CHECK_EQ(S(LX_SYS_clone, LX_SIGCHLD | 0x00100000, 0, KPTR, 0), -EFAULT);
	CHECK_EQ(S(LX_SYS_clone, LX_SIGCHLD | 0x01000000, 0, 0, U(FAKE_UMEM_SIZE - 8)), -EFAULT);
	CHECK_EQ(S(LX_SYS_clone, LX_SIGCHLD | 0x01200000, 0, 0, U(40)), 0);
	CHECK_EQ(fork_flags, LX_SIGCHLD | 0x01200000ull);
	CHECK_EQ(fork_ctid, U(40));
	CHECK_EQ(S(LX_SYS_fork, 0, 0, 0, 0), 0);
	CHECK_EQ(fork_flags, (uint64_t)LX_SIGCHLD);

	/* wait4 */
	CHECK_EQ(S(LX_SYS_wait4, (uint64_t)-1, 0, 0x100, 0), -EINVAL);
	CHECK_EQ(S(LX_SYS_wait4, (uint64_t)-1, KPTR, 0, 0), -EFAULT);
	CHECK_EQ(S(LX_SYS_wait4, (uint64_t)-1, U(FAKE_UMEM_SIZE - 2), 0, 0), -EFAULT);
	CHECK_EQ(S(LX_SYS_wait4, (uint64_t)-1, 0, 0, U(FAKE_UMEM_SIZE - 100)), -EFAULT);
	CHECK_EQ(S(LX_SYS_wait4, 0x80000000ull, 0, 0, 0), -ESRCH);
	CHECK_EQ(wait_calls, 0);
	CHECK_EQ(S(LX_SYS_wait4, (uint64_t)-1, U(64), LX_WNOHANG, 0), 0);
	CHECK_EQ(wait_calls, 1);

	/* kill, tkill, tgkill */
	CHECK_EQ(S(LX_SYS_kill, 9, 65, 0, 0), -EINVAL);
	CHECK_EQ(S(LX_SYS_kill, 9, (uint64_t)-1, 0, 0), -EINVAL);
	CHECK_EQ(S(LX_SYS_kill, 0, 15, 0, 0), -ENOSYS); /* groups: not offered */
	CHECK_EQ(S(LX_SYS_kill, 9, 15, 0, 0), 0);
	CHECK_EQ(kill_pid, 9);
	CHECK_EQ(kill_sig, 15);
	CHECK_EQ(S(LX_SYS_tgkill, 4, 5, 9, 0), -ESRCH);
	CHECK_EQ(S(LX_SYS_tgkill, 0, 0, 9, 0), -EINVAL);
	CHECK_EQ(S(LX_SYS_tgkill, 7, 7, 2, 0), 0);
	CHECK_EQ(kill_pid, 7);
	CHECK_EQ(S(LX_SYS_tkill, 0, 9, 0, 0), -EINVAL);
	teardown();
}

/* ---- signals: dispositions, mask, default actions; wait status ---- */
static void signals(void)
{
	uint64_t act[4] = {0x401000, 0x04000000, 0x401000, ~0ull}, old[4], mask;

	setup();
	memcpy(fake_umem + 64, act, sizeof(act));
	CHECK_EQ(S(LX_SYS_rt_sigaction, LX_SIGTERM, U(64), 0, 4), -EINVAL);
	CHECK_EQ(S(LX_SYS_rt_sigaction, 0, U(64), 0, 8), -EINVAL);
	CHECK_EQ(S(LX_SYS_rt_sigaction, 65, U(64), 0, 8), -EINVAL);
	CHECK_EQ(S(LX_SYS_rt_sigaction, LX_SIGKILL, U(64), 0, 8), -EINVAL);
	CHECK_EQ(S(LX_SYS_rt_sigaction, LX_SIGSTOP, U(64), 0, 8), -EINVAL);
	CHECK_EQ(S(LX_SYS_rt_sigaction, LX_SIGKILL, 0, U(128), 8), 0); /* reading is fine */
	CHECK_EQ(S(LX_SYS_rt_sigaction, LX_SIGTERM, KPTR, 0, 8), -EFAULT);
	/* A failed oact write changes nothing (validate, then act). */
	CHECK_EQ(S(LX_SYS_rt_sigaction, LX_SIGTERM, U(64), U(FAKE_UMEM_SIZE - 8), 8), -EFAULT);
	CHECK_EQ(parent.sig[LX_SIGTERM - 1].handler, (uint64_t)LX_SIG_DFL);
	CHECK_EQ(S(LX_SYS_rt_sigaction, LX_SIGTERM, U(64), 0, 8), 0);
	CHECK_EQ(S(LX_SYS_rt_sigaction, LX_SIGTERM, 0, U(128), 8), 0);
	memcpy(old, fake_umem + 128, sizeof(old));
	CHECK_EQ(old[0], 0x401000ull);
	CHECK_EQ(old[3], ~0ull & ~((1ull << 8) | (1ull << 18))); /* KILL, STOP not maskable */
	/* Caught: recorded, not run, the process goes on. */
	memset(fake_umem + 300, 0, 64);
	CHECK(!lx_signal_post(&parent, LX_SIGTERM));
	CHECK(!parent.exited);
	CHECK_EQ(parent.sigpending, 1ull << (LX_SIGTERM - 1));
	/* Default-ignored and ignored. */
	CHECK(!lx_signal_post(&parent, LX_SIGCHLD));
	CHECK(!lx_signal_post(&parent, 28)); /* SIGWINCH */
	CHECK(!parent.exited);
	/* Blocked default-action signal: pending until unblocked. */
	mask = 1ull << (2 - 1); /* SIGINT */
	memcpy(fake_umem + 400, &mask, 8);
	CHECK_EQ(S(LX_SYS_rt_sigprocmask, 9, U(400), 0, 8), -EINVAL);
	CHECK_EQ(S(LX_SYS_rt_sigprocmask, 0, U(400), 0, 4), -EINVAL);
	CHECK_EQ(S(LX_SYS_rt_sigprocmask, 0, KPTR, 0, 8), -EFAULT);
	CHECK_EQ(S(LX_SYS_rt_sigprocmask, 0, 0, KPTR, 8), -EFAULT);
	CHECK_EQ(S(LX_SYS_rt_sigprocmask, 0, U(400), 0, 8), 0);
	CHECK(!lx_signal_post(&parent, 2));
	CHECK(!parent.exited);
	CHECK_EQ(S(LX_SYS_rt_sigprocmask, 1, U(400), U(408), 8), 0); /* unblock */
	memcpy(&mask, fake_umem + 408, 8);
	CHECK_EQ(mask, 1ull << 1);
	CHECK(parent.exited); /* SIGINT's default action, now */
	CHECK_EQ(parent.kill_sig, 2);
	CHECK_EQ(parent.exit_code, 130);
	/* SIGKILL cannot be blocked or caught. */
	mask = ~0ull;
	memcpy(fake_umem + 400, &mask, 8);
	CHECK_EQ(S(LX_SYS_rt_sigprocmask, 2, U(400), 0, 8), 0);
	CHECK_EQ(parent.sigmask & (1ull << 8), 0ull);
	CHECK(lx_signal_post(&parent, LX_SIGKILL));
	CHECK_EQ(S(LX_SYS_rt_sigreturn, 0, 0, 0, 0), -ENOSYS);
	/* Wait statuses as Linux encodes them. */
	CHECK_EQ(lx_wait_status(3, 0), 0x300);
	CHECK_EQ(lx_wait_status(256 + 7, 0), 0x700);
	CHECK_EQ(lx_wait_status(0, 9), 9);
	CHECK_EQ(lx_signal_of_vector(14), 11); /* #PF: SIGSEGV */
	CHECK_EQ(lx_signal_of_vector(13), 11); /* #GP */
	CHECK_EQ(lx_signal_of_vector(6), 4);   /* #UD: SIGILL */
	CHECK_EQ(lx_signal_of_vector(0), 8);   /* #DE: SIGFPE */
	CHECK_EQ(lx_signal_of_vector(3), 5);   /* #BP: SIGTRAP */
	teardown();
}

static void groups_and_self_exe(void)
{
	setup();
	CHECK_EQ(S(LX_SYS_getpgrp, 0, 0, 0, 0), 5);
	CHECK_EQ(S(LX_SYS_getpgid, 0, 0, 0, 0), 5);
	CHECK_EQ(S(LX_SYS_getpgid, 77, 0, 0, 0), -ESRCH);
	CHECK_EQ(S(LX_SYS_getsid, 0, 0, 0, 0), 5);
	CHECK_EQ(S(LX_SYS_setsid, 0, 0, 0, 0), -EPERM); /* a group leader */
	CHECK_EQ(S(LX_SYS_setpgid, 0, (uint64_t)-1, 0, 0), -EINVAL);
	CHECK_EQ(S(LX_SYS_setpgid, 77, 0, 0, 0), -ESRCH);
	lx_proc_fork(&child, &parent, &child, 6);
	CHECK_EQ(sysc(&child, LX_SYS_setpgid, 0, 0, 0, 0), 0); /* its own group */
	CHECK_EQ(child.pgid, 6);
	CHECK_EQ(sysc(&child, LX_SYS_setpgid, 0, 99, 0, 0), -EPERM);
	lx_proc_fini(&child);
	lx_proc_fork(&child, &parent, &child, 7);
	CHECK_EQ(sysc(&child, LX_SYS_setsid, 0, 0, 0, 0), 7);
	CHECK_EQ(child.sid, 7);
	CHECK_EQ(child.pgid, 7);
	lx_proc_fini(&child);
	/* /proc/self/exe: readlink, open and stat name the image. */
	CHECK_EQ(S(LX_SYS_readlink, ustr(0, "/proc/self/exe"), U(100), 64, 0), 12);
	CHECK(memcmp(fake_umem + 100, "/bin/busybox", 12) == 0);
	CHECK_EQ(S(LX_SYS_readlink, ustr(0, "/proc/self/exe"), U(100), 4, 0), 4);
	CHECK_EQ(S(LX_SYS_readlink, ustr(0, "/proc/self/exe"), KPTR, 64, 0), -EFAULT);
	CHECK_EQ(S(LX_SYS_open, ustr(0, "/proc/self/exe"), 0, 0, 0), 3);
	CHECK_EQ(S(LX_SYS_read, 3, U(100), 8, 0), 3);
	CHECK(memcmp(fake_umem + 100, "ELF", 3) == 0);
	CHECK_EQ(S(LX_SYS_stat, ustr(0, "/proc/self/exe"), U(512), 0, 0), 0);
	CHECK_EQ(S(LX_SYS_open, ustr(0, "/proc/self/cwd"), 0, 0, 0), -ENOENT);
	teardown();
}

int main(void)
{
	RUN(pipe_ring);
	RUN(fd_table);
	RUN(pipes);
	RUN(fork_exec);
	RUN(process_calls);
	RUN(signals);
	RUN(groups_and_self_exe);
	rootfs_destroy(fs);
	return check_done();
}
