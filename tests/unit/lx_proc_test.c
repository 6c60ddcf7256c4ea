/*
 * lx_proc_test.c: the Linux personality's process side (kernel/linux/
 * lx_fd.c, lx_pipe.c, lx_proc.c) over a fake host that records what the
 * process layer is asked (block, fork, exec, wait, kill), checks that the
 * shared lock is balanced and never nested, and counts wake-ups; user
 * memory is tests/unit/fake_umem.c.  Two lx_procs stand for a parent and
 * its forked child sharing files and pipes.  ASan/UBSan watch every
 * reference count: a file freed too early or never freed is reported.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "kernel/linux/lx.h"
#include "kernel/linux/lx_sigframe.h"
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

static int lock_depth, lock_nested, wakes, blocks, exec_calls, wait_calls, blocks_prepared, sleeps;
static uint64_t block_nr, fork_flags, fork_ptid, fork_ctid;
static void *last_woken;
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
static uint64_t fake_now;
static uint64_t h_now(void *c)
{
	(void)c;
	return fake_now;
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
/* Waiting on a pipe: the token is the waiter's address; unblock is
 * called under the lock (no lost wake-up) and counted; the fake sleep runs
 * what "another process" does meanwhile (sleep_hook), once. */
static void *h_prepare_block(void *c)
{
	CHECK_EQ(lock_depth, 1);
	blocks_prepared++;
	return c;
}
static void h_unblock(void *token)
{
	CHECK_EQ(lock_depth, 1);
	wakes++;
	last_woken = token;
}
static void (*sleep_hook)(void);
static void h_sleep_blocked(void *c)
{
	void (*hook)(void) = sleep_hook;

	(void)c;
	CHECK_EQ(lock_depth, 0);
	sleeps++;
	sleep_hook = NULL;
	if (hook)
		hook();
}
static uint8_t fpu_image[512];
static void h_fpu_save(void *c, void *area)
{
	(void)c;
	memcpy(area, fpu_image, 464); /* fxsave leaves 464..511 alone */
}
static void h_fpu_load(void *c, const void *area)
{
	(void)c;
	memcpy(fpu_image, area, sizeof(fpu_image));
}
static int exact_returns, sigwaits;
static uint64_t exact_rax, sigwait_nr, sigwait_deadline;
static void h_exact_return(void *c, uint64_t rax)
{
	(void)c;
	exact_returns++;
	exact_rax = rax;
}
static void h_sigwait(void *c, uint64_t nr, uint64_t deadline)
{
	(void)c;
	sigwaits++;
	sigwait_nr = nr;
	sigwait_deadline = deadline;
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
static const struct lx_host_ops ops = {
    .vm_map = h_map,
    .vm_unmap = h_unmap,
    .vm_protect = h_protect,
    .set_fs_base = h_set_fs,
    .console_write = h_write,
    .now_ns = h_now,
    .sleep_ns = h_sleep,
    .lock = h_lock,
    .unlock = h_unlock,
    .block = h_block,
    .fork = h_fork,
    .exec = h_exec,
    .wait = h_wait,
    .kill = h_kill,
    .prepare_block = h_prepare_block,
    .unblock = h_unblock,
    .sleep = h_sleep_blocked,
    .fpu_save = h_fpu_save,
    .fpu_load = h_fpu_load,
    .exact_return = h_exact_return,
    .sigwait = h_sigwait,
};

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
	blocks_prepared = sleeps = 0;
	exact_returns = sigwaits = 0;
	exact_rax = sigwait_nr = sigwait_deadline = fake_now = 0;
	last_woken = NULL;
	sleep_hook = NULL;
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
	struct lx_pipe pp = {.readers = 1, .writers = 1, .buf = buf};
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
	/* Empty: a blocking read asks the host to block, on this pipe. */
	CHECK_EQ(S(LX_SYS_read, (uint64_t)r, U(64), 10, 0), -LX_EBLOCK);
	CHECK_EQ(blocks, 1);
	CHECK_EQ(block_nr, (uint64_t)LX_SYS_read);
	CHECK(parent.wait_pipe == parent.fd[r]->pipe);
	CHECK_EQ(parent.wait_gen, parent.fd[r]->pipe->gen);
	/* Data moves the pipe's gen (what a sleeper waits for). */
	{
		uint32_t gen = parent.fd[r]->pipe->gen;

		CHECK_EQ(S(LX_SYS_write, (uint64_t)w, ustr(64, "hello"), 5, 0), 5);
		CHECK(parent.fd[r]->pipe->gen != gen);
		CHECK_EQ(wakes, 0); /* nobody asleep: nobody woken */
	}
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
	/* The write end closes (the gen moves): the reader drains, then end
	 * of file. */
	{
		uint32_t gen = parent.fd[r]->pipe->gen;

		CHECK_EQ(S(LX_SYS_close, (uint64_t)w, 0, 0, 0), 0);
		CHECK(parent.fd[r]->pipe->gen != gen);
	}
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
	lx_proc_fini(&child);
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

/* ---- waiting on a pipe: only its own changes wake, none is lost ---- */
static int wait_rfd, wait_wfd;
static void child_writes(void)
{
	CHECK_EQ(sysc(&child, LX_SYS_write, (uint64_t)wait_wfd, ustr(64, "z"), 1, 0), 1);
}
static void pipe_waits(void)
{
	struct lx_pipe *pp;
	int r2, w2;

	setup();
	CHECK_EQ(S(LX_SYS_pipe2, U(0), 0, 0, 0), 0);
	wait_rfd = fd_at(0, 0), wait_wfd = fd_at(0, 1);
	CHECK_EQ(S(LX_SYS_pipe2, U(0), 0, 0, 0), 0);
	r2 = fd_at(0, 0), w2 = fd_at(0, 1);
	pp = parent.fd[wait_rfd]->pipe;
	lx_proc_fork(&child, &parent, (void *)&child, 6);
	/* The pipe changed between the decision and the wait: no sleep. */
	CHECK_EQ(S(LX_SYS_read, (uint64_t)wait_rfd, U(128), 1, 0), -LX_EBLOCK);
	child_writes();
	lx_pipe_wait(&parent);
	CHECK_EQ(sleeps, 0);
	CHECK_EQ(blocks_prepared, 0);
	CHECK_EQ(S(LX_SYS_read, (uint64_t)wait_rfd, U(128), 1, 0), 1);
	/* Asleep on the pipe: the writer wakes exactly this process, under
	 * the lock; a change to another pipe does not. */
	CHECK_EQ(S(LX_SYS_read, (uint64_t)wait_rfd, U(128), 1, 0), -LX_EBLOCK);
	CHECK_EQ(sysc(&child, LX_SYS_write, (uint64_t)w2, ustr(64, "y"), 1, 0), 1);
	CHECK_EQ(wakes, 0);
	sleep_hook = child_writes;
	lx_pipe_wait(&parent);
	CHECK_EQ(sleeps, 1);
	CHECK_EQ(blocks_prepared, 1);
	CHECK_EQ(wakes, 1);
	CHECK(last_woken == NULL); /* parent's ctx (the token) is NULL here */
	CHECK(pp->waiters == NULL);
	CHECK(parent.wait_list == NULL);
	CHECK_EQ(S(LX_SYS_read, (uint64_t)wait_rfd, U(128), 1, 0), 1);
	/* A caught signal wakes a sleeper and makes the call -LX_ERESTART. */
	{
		uint64_t act[4] = {0x401000, LX_SA_RESTORER, 0x401100, 0};

		memcpy(fake_umem + 300, act, sizeof(act));
		CHECK_EQ(S(LX_SYS_rt_sigaction, 10, U(300), 0, 8), 0);
	}
	CHECK_EQ(S(LX_SYS_read, (uint64_t)wait_rfd, U(128), 1, 0), -LX_EBLOCK);
	wakes = 0;
	parent.wait_token = &parent; /* as if asleep: put it on the list */
	parent.wait_list = &pp->waiters;
	pp->waiters = &parent;
	h_lock(NULL);
	CHECK(!lx_signal_post(&parent, 10));
	h_unlock(NULL);
	CHECK_EQ(wakes, 1);
	CHECK(last_woken == &parent);
	CHECK(pp->waiters == NULL);
	CHECK(parent.sig_ready);
	CHECK_EQ(S(LX_SYS_read, (uint64_t)wait_rfd, U(128), 1, 0), -LX_ERESTART);
	CHECK_EQ(S(LX_SYS_write, (uint64_t)w2, U(0), 1, 0), 1); /* room: no wait, no EINTR */
	/* A fatal signal wakes it too. */
	parent.sigpending = 0, parent.sig_ready = false;
	wakes = 0;
	parent.wait_list = &pp->waiters;
	pp->waiters = &parent;
	h_lock(NULL);
	CHECK(lx_signal_post(&parent, LX_SIGKILL));
	h_unlock(NULL);
	CHECK_EQ(wakes, 1);
	CHECK(pp->waiters == NULL);
	(void)r2;
	lx_proc_fini(&child);
	teardown();
}

/* ---- the signal frame: layout, delivery, rt_sigreturn ---- */
static void frame_layout(void)
{
	/* musl's mcontext gregs[] indices and Linux's uapi offsets. */
	CHECK_EQ(offsetof(struct lx_ucontext, mcontext), 40u);
	CHECK_EQ(offsetof(struct lx_ucontext, sigmask), 296u);
	CHECK_EQ(offsetof(struct lx_sigcontext, r8), 0u);
	CHECK_EQ(offsetof(struct lx_sigcontext, rdi), 8 * 8u);
	CHECK_EQ(offsetof(struct lx_sigcontext, rax), 13 * 8u);
	CHECK_EQ(offsetof(struct lx_sigcontext, rsp), 15 * 8u);
	CHECK_EQ(offsetof(struct lx_sigcontext, rip), 16 * 8u);
	CHECK_EQ(offsetof(struct lx_sigcontext, eflags), 17 * 8u);
	CHECK_EQ(offsetof(struct lx_sigcontext, err), 19 * 8u);
	CHECK_EQ(offsetof(struct lx_sigcontext, trapno), 20 * 8u);
	CHECK_EQ(offsetof(struct lx_sigcontext, oldmask), 21 * 8u);
	CHECK_EQ(offsetof(struct lx_sigcontext, cr2), 22 * 8u);
	CHECK_EQ(offsetof(struct lx_sigcontext, fpstate), 23 * 8u);
	CHECK_EQ(offsetof(struct lx_rt_sigframe, uc), 8u);
	CHECK_EQ(offsetof(struct lx_rt_sigframe, info), 312u);
	CHECK_EQ(offsetof(struct lx_siginfo_rec, u.addr), 16u);
	CHECK_EQ(offsetof(struct lx_siginfo_rec, u.kill.pid), 16u);
	CHECK_EQ(offsetof(struct lx_siginfo_rec, u.kill.status), 24u);
}

#define SIGUSR1 10
#define SIGUSR2 12
#define STACK0  0x80000u /* the fake user stack pointer's offset */

static void set_action(int sig, uint64_t flags, uint64_t mask)
{
	uint64_t act[4] = {0x401000, flags, 0x401100, mask};

	memcpy(fake_umem + 300, act, sizeof(act));
	CHECK_EQ(S(LX_SYS_rt_sigaction, (uint64_t)sig, U(300), 0, 8), 0);
}

static void fill_regs(struct lx_regs *r)
{
	memset(r, 0, sizeof(*r));
	r->r15 = 15, r->r14 = 14, r->r13 = 13, r->r12 = 12, r->r11 = 0x246, r->r10 = 10;
	r->r9 = 9, r->r8 = 8, r->rbp = 0xbb, r->rdi = 0xd1, r->rsi = 0x51, r->rdx = 0xd0;
	r->rcx = 0x402002, r->rbx = 0xb0, r->rax = 39;
	r->vector = 0x100, r->rip = 0x402002, r->cs = 0x23, r->rflags = 0x246 | 0x400 | 0x100;
	r->rsp = U(STACK0), r->ss = 0x1b;
}

static void post(int sig)
{
	h_lock(NULL);
	lx_signal_post_info(&parent, sig, &(struct lx_siginfo){LX_SI_USER, 77, 0, 0});
	h_unlock(NULL);
}

static void signal_delivery(void)
{
	struct lx_regs r, saved;
	struct lx_rt_sigframe f;
	uint64_t frame, fp;
	long ret;

	setup();
	for (unsigned i = 0; i < sizeof(fpu_image); i++)
		fpu_image[i] = (uint8_t)i;
	memset(fpu_image + 464, 0xee, 48); /* what fxsave leaves alone must not leak */
	set_action(SIGUSR1, LX_SA_SIGINFO | LX_SA_RESTORER, 1ull << (SIGUSR2 - 1));
	parent.sigmask = 1ull << 2; /* SIGQUIT blocked before */
	post(SIGUSR1);
	CHECK(parent.sig_ready);
	fill_regs(&r);
	saved = r;
	ret = lx_signal_deliver(&parent, &r, 39, LX_SYS_getpid);
	CHECK_EQ(ret, 0);
	CHECK(!parent.exited);
	CHECK(!parent.sig_ready);
	CHECK_EQ(r.rip, 0x401000ull);
	CHECK_EQ(r.rdi, (uint64_t)SIGUSR1);
	frame = r.rsp;
	CHECK_EQ((frame + 8) % 16, 0ull); /* as after a call */
	CHECK(frame + sizeof(f) + LX_FXSAVE_SIZE + LX_REDZONE <= saved.rsp);
	CHECK_EQ(r.rsi, frame + 312);
	CHECK_EQ(r.rdx, frame + 8);
	CHECK_EQ(r.rflags & (0x400 | 0x100), 0ull); /* DF, TF cleared */
	memcpy(&f, P(frame), sizeof(f));
	CHECK_EQ(f.pretcode, 0x401100ull);
	CHECK_EQ(f.uc.mcontext.rax, 39ull);
	CHECK_EQ(f.uc.mcontext.rip, 0x402002ull);
	CHECK_EQ(f.uc.mcontext.rsp, saved.rsp);
	CHECK_EQ(f.uc.mcontext.r12, 12ull);
	CHECK_EQ(f.uc.mcontext.rbp, 0xbbull);
	CHECK_EQ(f.uc.mcontext.eflags, saved.rflags);
	CHECK_EQ(f.uc.sigmask, 1ull << 2);
	CHECK_EQ(f.uc.stack.flags, LX_SS_DISABLE);
	CHECK_EQ(f.info.signo, SIGUSR1);
	CHECK_EQ(f.info.code, LX_SI_USER);
	CHECK_EQ(f.info.u.kill.pid, 77);
	fp = f.uc.mcontext.fpstate;
	CHECK_EQ(fp % 64, 0ull);
	CHECK(fp >= frame + sizeof(f) && fp + LX_FXSAVE_SIZE <= saved.rsp - LX_REDZONE);
	{
		static const uint8_t zero[48];
		int same = 1;

		for (unsigned i = 0; i < 464; i++)
			same &= ((uint8_t *)P(fp))[i] == (uint8_t)i; /* the live state, saved */
		CHECK(same);

		CHECK(memcmp((uint8_t *)P(fp) + 464, zero, 48) == 0);
	}
	/* The handler runs with a clean FPU state, sa_mask and the signal blocked. */
	CHECK_EQ(fpu_image[0], 0x7f);
	CHECK_EQ(parent.sigmask, (1ull << 2) | (1ull << (SIGUSR1 - 1)) | (1ull << (SIGUSR2 - 1)));
	/* Its ret pops pretcode; rt_sigreturn restores all of it. */
	r.rsp += 8;
	r.rax = LX_SYS_rt_sigreturn;
	r.r12 = r.rbx = r.rbp = 0xdead;
	ret = lx_syscall_regs(&parent, &r);
	CHECK_EQ(ret, 39);
	CHECK(!parent.exited);
	CHECK_EQ(exact_returns, 1); /* every register back: rcx, r11 too */
	CHECK_EQ(exact_rax, 39ull);
	CHECK_EQ(r.rcx, saved.rcx);
	CHECK_EQ(r.r11, saved.r11);
	CHECK_EQ(r.rip, saved.rip);
	CHECK_EQ(r.rsp, saved.rsp);
	CHECK_EQ(r.r12, 12ull);
	CHECK_EQ(r.rbx, 0xb0ull);
	CHECK_EQ(r.rbp, 0xbbull);
	CHECK_EQ(r.rflags, saved.rflags);
	CHECK_EQ(parent.sigmask, 1ull << 2);
	CHECK_EQ(fpu_image[0], 0); /* the saved image loaded back */
	CHECK_EQ(fpu_image[100], 100);

	/* Blocked: pending, not ready; unblocking makes it ready. */
	parent.sigmask |= 1ull << (SIGUSR1 - 1);
	post(SIGUSR1);
	CHECK(!parent.sig_ready);
	{
		uint64_t m = 1ull << (SIGUSR1 - 1);

		memcpy(fake_umem + 400, &m, 8);
		CHECK_EQ(S(LX_SYS_rt_sigprocmask, 1, U(400), 0, 8), 0);
		CHECK(parent.sig_ready);
	}
	/* An interrupted blocking call: -EINTR without SA_RESTART ... */
	fill_regs(&r);
	CHECK_EQ(lx_signal_deliver(&parent, &r, -LX_ERESTART, LX_SYS_read), 0);
	memcpy(&f, P(r.rsp), sizeof(f));
	CHECK_EQ((int64_t)f.uc.mcontext.rax, -EINTR);
	CHECK_EQ(f.uc.mcontext.rip, 0x402002ull);
	parent.sigmask = 0;
	/* ... restarted (rip back on the syscall, rax the number) with it. */
	set_action(SIGUSR1, LX_SA_RESTORER | LX_SA_RESTART, 0);
	post(SIGUSR1);
	fill_regs(&r);
	CHECK_EQ(lx_signal_deliver(&parent, &r, -LX_ERESTART, LX_SYS_read), 0);
	memcpy(&f, P(r.rsp), sizeof(f));
	CHECK_EQ(f.uc.mcontext.rax, (uint64_t)LX_SYS_read);
	CHECK_EQ(f.uc.mcontext.rip, 0x402000ull);
	/* Nothing to deliver: the result stays (and the internal code never
	 * reaches user space). */
	parent.sigmask = 0;
	fill_regs(&r);
	CHECK_EQ(lx_signal_deliver(&parent, &r, 5, LX_SYS_read), 5);
	CHECK_EQ(lx_signal_deliver(&parent, &r, -LX_ERESTART, LX_SYS_read), -EINTR);
	CHECK_EQ(r.rip, 0x402002ull);
	/* SA_NODEFER: the signal stays unblocked; SA_RESETHAND: default after. */
	set_action(SIGUSR1, LX_SA_RESTORER | LX_SA_NODEFER | LX_SA_RESETHAND, 0);
	post(SIGUSR1);
	fill_regs(&r);
	CHECK_EQ(lx_signal_deliver(&parent, &r, 0, LX_SYS_getpid), 0);
	CHECK_EQ(parent.sigmask, 0ull);
	CHECK_EQ(parent.sig[SIGUSR1 - 1].handler, (uint64_t)LX_SIG_DFL);
	teardown();
}

static void signal_hostile(void)
{
	struct lx_regs r;
	struct lx_rt_sigframe f;
	uint64_t frame;

	/* No SA_RESTORER: no way back; a stack pointer with no room below it,
	 * or one that wraps below zero: SIGSEGV each (as Linux on x86-64). */
	{
		const struct {
			uint64_t flags;
			uint64_t rsp; /* 0: fill_regs's */
		} bad[] = {{0, 0}, {LX_SA_RESTORER, U(256)}, {LX_SA_RESTORER, 600}};

		for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			setup();
			set_action(SIGUSR1, bad[i].flags, 0);
			post(SIGUSR1);
			fill_regs(&r);
			if (bad[i].rsp)
				r.rsp = bad[i].rsp;
			lx_signal_deliver(&parent, &r, 0, LX_SYS_getpid);
			CHECK(parent.exited);
			CHECK_EQ(parent.kill_sig, 11);
			teardown();
		}
	}
	/* rt_sigreturn: unreadable frames, a kernel rip: SIGSEGV. */
	{
		const uint64_t sps[] = {0, 4, KPTR, U(FAKE_UMEM_SIZE - 64), 0x0000800000000000ull};

		for (unsigned i = 0; i < sizeof(sps) / sizeof(sps[0]); i++) {
			setup();
			fill_regs(&r);
			r.rsp = sps[i];
			r.rax = LX_SYS_rt_sigreturn;
			lx_syscall_regs(&parent, &r);
			CHECK(parent.exited);
			CHECK_EQ(parent.kill_sig, 11);
			CHECK_EQ(exact_returns, 0); /* nothing to return to */
			teardown();
		}
	}
	/* A hand-made frame: a kernel rip is refused; every rflags bit, a
	 * reserved MXCSR bit, SIGKILL in the mask, a kernel cs are cleaned. */
	setup();
	frame = U(0x1000);
	memset(&f, 0, sizeof(f));
	f.uc.mcontext.rip = KPTR;
	memcpy(P(frame), &f, sizeof(f));
	fill_regs(&r);
	r.rsp = frame + 8;
	r.rax = LX_SYS_rt_sigreturn;
	lx_syscall_regs(&parent, &r);
	CHECK_EQ(parent.kill_sig, 11);
	teardown();
	setup();
	memset(&f, 0, sizeof(f));
	f.uc.mcontext.rip = 0x401234;
	f.uc.mcontext.rsp = U(0x8000);
	f.uc.mcontext.eflags = ~0ull;
	f.uc.mcontext.cs = 0x08;
	f.uc.mcontext.ss = 0;
	f.uc.mcontext.rax = 123;
	f.uc.mcontext.fpstate = U(0x2000);
	f.uc.sigmask = ~0ull;
	memcpy(P(frame), &f, sizeof(f));
	memset(P(U(0x2000)), 0xff, LX_FXSAVE_SIZE);
	fill_regs(&r);
	r.rsp = frame + 8;
	r.rax = LX_SYS_rt_sigreturn;
	CHECK_EQ(lx_syscall_regs(&parent, &r), 123);
	CHECK(!parent.exited);
	CHECK_EQ(r.rip, 0x401234ull);
	CHECK_EQ(r.cs, 0x23ull); /* the system call's, not the frame's */
	CHECK_EQ(r.ss, 0x1bull);
	CHECK_EQ(r.rflags, 0x202 | LX_FIX_EFLAGS); /* only the FIX bits from the frame */
	CHECK_EQ(r.rflags & 0x3000, 0ull);         /* no IOPL */
	{
		uint32_t mxcsr;

		memcpy(&mxcsr, fpu_image + 24, 4);
		CHECK_EQ(mxcsr, LX_MXCSR_MASK);
	}
	CHECK_EQ(parent.sigmask & ((1ull << 8) | (1ull << 18)), 0ull); /* KILL, STOP */
	teardown();
}

static void altstack(void)
{
	struct lx_regs r;
	uint64_t ss[3] = {U(0x40000), 0, 1024};

	setup();
	memcpy(fake_umem + 500, ss, sizeof(ss));
	CHECK_EQ(S(LX_SYS_sigaltstack, U(500), 0, 0, 0), -ENOMEM);
	ss[1] = 0x80000000ull; /* SS_AUTODISARM: not offered */
	ss[2] = 0x10000;
	memcpy(fake_umem + 500, ss, sizeof(ss));
	CHECK_EQ(S(LX_SYS_sigaltstack, U(500), 0, 0, 0), -EINVAL);
	ss[1] = 0;
	memcpy(fake_umem + 500, ss, sizeof(ss));
	CHECK_EQ(S(LX_SYS_sigaltstack, KPTR, 0, 0, 0), -EFAULT);
	CHECK_EQ(S(LX_SYS_sigaltstack, U(500), KPTR, 0, 0), -EFAULT);
	CHECK_EQ(parent.altstack_size, 0ull); /* a bad oss changed nothing */
	CHECK_EQ(S(LX_SYS_sigaltstack, U(500), U(600), 0, 0), 0);
	CHECK_EQ(parent.altstack_size, 0x10000ull);
	{
		int32_t fl;

		memcpy(&fl, fake_umem + 608, 4);
		CHECK_EQ(fl, LX_SS_DISABLE);
	}
	/* SA_ONSTACK: the frame at the top of the alternate stack. */
	set_action(SIGUSR1, LX_SA_RESTORER | LX_SA_ONSTACK, 0);
	post(SIGUSR1);
	fill_regs(&r);
	CHECK_EQ(lx_signal_deliver(&parent, &r, 0, LX_SYS_getpid), 0);
	CHECK(r.rsp > U(0x40000) && r.rsp < U(0x50000));
	/* On it, it cannot change (sigaltstack sees rsp). */
	memset(fake_umem + 700, 0, 24);
	r.rax = LX_SYS_sigaltstack, r.rdi = U(500), r.rsi = U(700);
	CHECK_EQ(lx_syscall_regs(&parent, &r), -EPERM);
	r.rdi = 0;
	CHECK_EQ(lx_syscall_regs(&parent, &r), 0);
	{
		int32_t fl;

		memcpy(&fl, fake_umem + 708, 4);
		CHECK_EQ(fl, LX_SS_ONSTACK);
	}
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

/* ---- rt_sigpending, rt_sigsuspend, rt_sigtimedwait ---- */
#define BIT(s) (1ull << ((s)-1))

/* A frame's registers as a fault left them: rcx and r11 are not rip and
 * rflags; rt_sigreturn must hand back every one (the host's exact return). */
static void sigreturn_fault_frame(void)
{
	struct lx_regs r, saved;

	setup();
	set_action(11, LX_SA_RESTORER | LX_SA_SIGINFO, 0);
	CHECK(lx_signal_fault(&parent, 11, LX_SEGV_ACCERR, 0x5000));
	fill_regs(&r);
	r.vector = 14, r.error = 7;
	r.rcx = 0xc0c0c0c0c0c0c0c0ull, r.r11 = 0x1111111111111111ull, r.rax = 0xa0;
	saved = r;
	CHECK_EQ(lx_signal_deliver(&parent, &r, (long)r.rax, ~0ull), 0);
	r.rsp += 8;
	r.rax = LX_SYS_rt_sigreturn;
	r.rcx = r.rip = 0x401100, r.r11 = 0x246, r.vector = 0x100;
	CHECK_EQ(lx_syscall_regs(&parent, &r), 0xa0);
	CHECK_EQ(exact_returns, 1);
	CHECK_EQ(exact_rax, 0xa0ull);
	CHECK_EQ(r.rcx, saved.rcx);
	CHECK_EQ(r.r11, saved.r11);
	CHECK_EQ(r.rip, saved.rip);
	CHECK_EQ(r.rflags, saved.rflags);
	teardown();
}

static void sigpending_calls(void)
{
	uint64_t set = ~0ull;

	setup();
	CHECK_EQ(S(LX_SYS_rt_sigpending, U(64), 9, 0, 0), -EINVAL);
	CHECK_EQ(S(LX_SYS_rt_sigpending, KPTR, 8, 0, 0), -EFAULT);
	CHECK_EQ(S(LX_SYS_rt_sigpending, 0, 8, 0, 0), -EFAULT);
	CHECK_EQ(S(LX_SYS_rt_sigpending, U(FAKE_UMEM_SIZE - 8), 8, 0, 0), -EFAULT); /* read-only */
	memcpy(fake_umem + 64, &set, 8);
	CHECK_EQ(S(LX_SYS_rt_sigpending, U(64), 8, 0, 0), 0);
	memcpy(&set, fake_umem + 64, 8);
	CHECK_EQ(set, 0ull);
	/* Blocked pending signals only: a caught unblocked one is delivered. */
	parent.sigmask = BIT(SIGUSR1) | BIT(2);
	set_action(SIGUSR2, LX_SA_RESTORER, 0);
	post(SIGUSR1);
	post(2);
	post(SIGUSR2);
	CHECK_EQ(S(LX_SYS_rt_sigpending, U(64), 8, 0, 0), 0);
	memcpy(&set, fake_umem + 64, 8);
	CHECK_EQ(set, BIT(SIGUSR1) | BIT(2));
	/* Linux copies sigsetsize bytes (fewer than 8 too). */
	memset(fake_umem + 64, 0xee, 8);
	CHECK_EQ(S(LX_SYS_rt_sigpending, U(64), 1, 0, 0), 0);
	CHECK_EQ(fake_umem[64], (uint8_t)(BIT(2) | BIT(SIGUSR1)));
	CHECK_EQ(fake_umem[65], 0xee);
	teardown();
}

static void sigsuspend_calls(void)
{
	struct lx_regs r;
	struct lx_rt_sigframe f;
	uint64_t m = BIT(SIGUSR2);

	setup();
	memcpy(fake_umem + 64, &m, 8);
	CHECK_EQ(S(LX_SYS_rt_sigsuspend, U(64), 4, 0, 0), -EINVAL);
	CHECK_EQ(S(LX_SYS_rt_sigsuspend, U(64), 16, 0, 0), -EINVAL);
	CHECK_EQ(S(LX_SYS_rt_sigsuspend, KPTR, 8, 0, 0), -EFAULT);
	CHECK_EQ(S(LX_SYS_rt_sigsuspend, 0, 8, 0, 0), -EFAULT);
	CHECK_EQ(sigwaits, 0);
	CHECK(!parent.restore_mask);
	/* SIGUSR1 blocked before; the call's mask blocks only SIGUSR2. */
	set_action(SIGUSR1, LX_SA_RESTORER, 0);
	parent.sigmask = BIT(SIGUSR1) | BIT(3);
	CHECK_EQ(S(LX_SYS_rt_sigsuspend, U(64), 8, 0, 0), 0);
	CHECK_EQ(sigwaits, 1);
	CHECK_EQ(sigwait_nr, (uint64_t)LX_SYS_rt_sigsuspend);
	CHECK_EQ(sigwait_deadline, ~0ull);
	CHECK_EQ(parent.sigmask, BIT(SIGUSR2));
	CHECK(parent.restore_mask);
	CHECK(!parent.sig_ready);
	post(SIGUSR1);
	CHECK(parent.sig_ready);
	/* The host's wait ends; the handler runs with the call's mask plus the
	 * signal, and its frame records the mask from before the call. */
	fill_regs(&r);
	CHECK_EQ(lx_signal_deliver(&parent, &r, -EINTR, LX_SYS_rt_sigsuspend), 0);
	memcpy(&f, P(r.rsp), sizeof(f));
	CHECK_EQ((int64_t)f.uc.mcontext.rax, -EINTR);
	CHECK_EQ(f.uc.sigmask, BIT(SIGUSR1) | BIT(3));
	CHECK_EQ(parent.sigmask, BIT(SIGUSR2) | BIT(SIGUSR1));
	CHECK(!parent.restore_mask);
	r.rsp += 8;
	r.rax = LX_SYS_rt_sigreturn;
	CHECK_EQ(lx_syscall_regs(&parent, &r), -EINTR);
	CHECK_EQ(parent.sigmask, BIT(SIGUSR1) | BIT(3));
	/* No handler to run (the process ends otherwise): the mask goes back
	 * at the return all the same. */
	CHECK_EQ(S(LX_SYS_rt_sigsuspend, U(64), 8, 0, 0), 0);
	fill_regs(&r);
	CHECK_EQ(lx_signal_deliver(&parent, &r, -EINTR, LX_SYS_rt_sigsuspend), -EINTR);
	CHECK(!parent.restore_mask);
	CHECK_EQ(parent.sigmask, BIT(SIGUSR1) | BIT(3));
	/* A pending default-fatal signal the call's mask unblocks acts now. */
	post(3); /* SIGQUIT, blocked */
	CHECK(!parent.exited);
	CHECK_EQ(S(LX_SYS_rt_sigsuspend, U(64), 8, 0, 0), 0);
	CHECK(parent.exited);
	CHECK_EQ(parent.kill_sig, 3);
	teardown();
}

static void sigtimedwait_calls(void)
{
	struct lx_siginfo_rec rec;
	uint64_t set = BIT(SIGUSR1) | BIT(SIGUSR2) | BIT(LX_SIGKILL) | BIT(LX_SIGCHLD);
	int64_t ts[2] = {0, 0};

	setup();
	memcpy(fake_umem + 64, &set, 8);
	memcpy(fake_umem + 80, ts, sizeof(ts));
	/* Refusals, each before anything is waited for or taken. */
	CHECK_EQ(S(LX_SYS_rt_sigtimedwait, U(64), U(200), U(80), 4), -EINVAL);
	CHECK_EQ(S(LX_SYS_rt_sigtimedwait, KPTR, U(200), U(80), 8), -EFAULT);
	CHECK_EQ(S(LX_SYS_rt_sigtimedwait, 0, U(200), U(80), 8), -EFAULT);
	CHECK_EQ(S(LX_SYS_rt_sigtimedwait, U(64), U(200), KPTR, 8), -EFAULT);
	CHECK_EQ(S(LX_SYS_rt_sigtimedwait, U(64), KPTR, U(80), 8), -EFAULT);
	CHECK_EQ(S(LX_SYS_rt_sigtimedwait, U(64), 0x0000800000000000ull, U(80), 8), -EFAULT);
	{
		const int64_t bad[][2] = {{0, 1000000000}, {0, -1}, {-1, 0}};

		for (unsigned i = 0; i < 3; i++) {
			memcpy(fake_umem + 96, bad[i], 16);
			CHECK_EQ(S(LX_SYS_rt_sigtimedwait, U(64), U(200), U(96), 8), -EINVAL);
		}
	}
	CHECK_EQ(sigwaits, 0);
	/* A zero timeout polls: -EAGAIN, no wait, the set forgotten. */
	CHECK_EQ(S(LX_SYS_rt_sigtimedwait, U(64), U(200), U(80), 8), -EAGAIN);
	CHECK_EQ(sigwaits, 0);
	CHECK_EQ(parent.sigwait, 0ull);
	/* A blocked pending signal of the set: taken, no handler, siginfo. */
	parent.sigmask = BIT(SIGUSR1) | BIT(SIGUSR2);
	set_action(SIGUSR1, LX_SA_RESTORER, 0);
	post(SIGUSR2);
	post(SIGUSR1);
	memset(fake_umem + 200, 0xee, 128);
	CHECK_EQ(S(LX_SYS_rt_sigtimedwait, U(64), U(200), U(80), 8), SIGUSR1);
	memcpy(&rec, fake_umem + 200, sizeof(rec));
	CHECK_EQ(rec.signo, SIGUSR1);
	CHECK_EQ(rec.code, LX_SI_USER);
	CHECK_EQ(rec.u.kill.pid, 77);
	CHECK_EQ(rec.errnum, 0);
	CHECK_EQ(rec.u.bytes[111], 0); /* every byte written */
	CHECK_EQ(parent.sigpending, BIT(SIGUSR2));
	CHECK_EQ(parent.sigmask, BIT(SIGUSR1) | BIT(SIGUSR2)); /* the mask untouched */
	/* A siginfo that cannot be written: -EFAULT, the signal stays. */
	CHECK_EQ(S(LX_SYS_rt_sigtimedwait, U(64), U(FAKE_UMEM_SIZE - 128), U(80), 8), -EFAULT);
	CHECK_EQ(parent.sigpending, BIT(SIGUSR2));
	CHECK_EQ(S(LX_SYS_rt_sigtimedwait, U(64), 0, U(80), 8), SIGUSR2); /* no siginfo */
	CHECK_EQ(parent.sigpending, 0ull);
	/* A caught, unblocked pending signal of the set is taken too. */
	parent.sigmask = 0;
	parent.sigpending = BIT(SIGUSR1);
	parent.sig_ready = true;
	CHECK_EQ(S(LX_SYS_rt_sigtimedwait, U(64), U(200), U(80), 8), SIGUSR1);
	CHECK(!parent.sig_ready);
	/* Nothing pending: the host waits - for ever without a timeout, until
	 * now + the timeout with one. */
	fake_now = 1000;
	CHECK_EQ(S(LX_SYS_rt_sigtimedwait, U(64), U(200), 0, 8), 0);
	CHECK_EQ(sigwaits, 1);
	CHECK_EQ(sigwait_nr, (uint64_t)LX_SYS_rt_sigtimedwait);
	CHECK_EQ(sigwait_deadline, ~0ull);
	CHECK_EQ(parent.sigwait, set & ~BIT(LX_SIGKILL)); /* SIGKILL is never waited for */
	lx_sigwait_end(&parent);
	ts[0] = 2, ts[1] = 5;
	memcpy(fake_umem + 80, ts, sizeof(ts));
	CHECK_EQ(S(LX_SYS_rt_sigtimedwait, U(64), U(200), U(80), 8), 0);
	CHECK_EQ(sigwait_deadline, 1000 + 2000000000ull + 5);
	/* While it waits: a blocked signal of the set is recorded even if
	 * ignored, and its sender must wake the waiter; an unblocked ignored
	 * one is dropped; one outside the set is as ever. */
	parent.sigmask = BIT(SIGUSR2);
	set_action(SIGUSR1, LX_SA_RESTORER, 0);
	{
		uint64_t ign[4] = {LX_SIG_IGN, 0, 0, 0};

		memcpy(fake_umem + 300, ign, sizeof(ign));
		CHECK_EQ(S(LX_SYS_rt_sigaction, SIGUSR2, U(300), 0, 8), 0);
		CHECK_EQ(S(LX_SYS_rt_sigaction, LX_SIGCHLD, U(300), 0, 8), 0);
	}
	post(LX_SIGCHLD);
	CHECK(!lx_sigwait_pending(&parent));
	post(SIGUSR2);
	CHECK(lx_sigwait_pending(&parent));
	CHECK(!parent.sig_ready);
	CHECK_EQ(lx_sigwait_take(&parent, U(200)), SIGUSR2);
	CHECK(!lx_sigwait_pending(&parent));
	CHECK_EQ(lx_sigwait_take(&parent, U(200)), -EAGAIN);
	lx_sigwait_end(&parent);
	CHECK_EQ(parent.sigwait, 0ull);
	/* Not waiting: the blocked ignored signal is dropped again. */
	post(SIGUSR2);
	CHECK_EQ(parent.sigpending, 0ull);
	/* A default-fatal signal of the set that was not blocked kills. */
	parent.sigmask = 0;
	set = BIT(LX_SIGTERM);
	memcpy(fake_umem + 64, &set, 8);
	CHECK_EQ(S(LX_SYS_rt_sigtimedwait, U(64), U(200), 0, 8), 0);
	post(LX_SIGTERM);
	CHECK(parent.exited);
	CHECK_EQ(parent.kill_sig, LX_SIGTERM);
	lx_sigwait_end(&parent);
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
	RUN(pipe_waits);
	RUN(frame_layout);
	RUN(signal_delivery);
	RUN(signal_hostile);
	RUN(altstack);
	RUN(sigreturn_fault_frame);
	RUN(sigpending_calls);
	RUN(sigsuspend_calls);
	RUN(sigtimedwait_calls);
	rootfs_destroy(fs);
	return check_done();
}
