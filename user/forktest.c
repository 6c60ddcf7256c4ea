/* forktest: the process calls a shell needs, checked from ring 3 with raw
 * `syscall` instructions (the kernel's answer unchanged): fork and wait4
 * statuses, memory copied not shared, pipes (data, end of file, EPIPE,
 * O_NONBLOCK, a transfer larger than the pipe), dup/dup2/dup3/fcntl,
 * execve (of /bin/hello with its output through a pipe; of /proc/self/exe
 * with a close-on-exec fd; failures leave the caller intact), WNOHANG and
 * ECHILD, a child killed by a fault and by kill, and every new
 * pointer-taking call fed hostile pointers.  Ends "forktest: N passed, M
 * failed" and exits 0 only if nothing failed. */
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>

#define CHECK_PROG "forktest"
#include "bench.h"
#include "check.h"
#include "rawsys.h"

#define EPERM   1
#define ENOENT  2
#define ESRCH   3
#define E2BIG   7
#define ENOEXEC 8
#define EBADF   9
#define ECHILD  10
#define EAGAIN  11
#define EFAULT  14
#define EINVAL  22
#define EPIPE   32
#define ENOSYS  38

#define O_NONBLOCK 04000
#define O_CLOEXEC  02000000
#define WNOHANG    1
#define SIGKILL    9
#define SIGSEGV    11
#define SIGPIPE    13
#define SIGTERM    15
#define SIGCHLD    17

static __attribute__((noreturn)) void child_exit(int code)
{
	R1(SYS_exit_group, code);
	for (;;)
		;
}

static long fork_raw(void)
{
	return R0(SYS_fork);
}

/* wait4(pid) -> status, or the error. */
static long wait_status(long pid, int *status)
{
	return R4(SYS_wait4, pid, status, 0, 0);
}

static const long bad[] = {
    0, 8, 0xffff800000000000l, 0xffffffff80100000l, 0x0000800000000000l, -1l, 0x123456789l};
#define NBAD (sizeof(bad) / sizeof(bad[0]))

static volatile int shared_word = 1;

static void test_fork_wait(void)
{
	int status = -1;
	long me = R0(SYS_getpid), pid;

	pid = fork_raw();
	if (pid == 0) {
		/* The child: a copy, its own pid, the parent as ppid. */
		if (R0(SYS_getppid) != me || R0(SYS_getpid) == me || shared_word != 1)
			child_exit(99);
		shared_word = 2; /* not seen by the parent */
		child_exit(7);
	}
	expect("fork returns the child's pid", pid > me, 1);
	expect("wait4(pid) returns it", wait_status(pid, &status), pid);
	expect("exit status 7 (status 0x700)", status, 7 << 8);
	expect("the child's write stayed in the child", shared_word, 1);
	expect("no more children: ECHILD", wait_status(-1, &status), -ECHILD);
	expect("WNOHANG without children: ECHILD", R4(SYS_wait4, -1, &status, WNOHANG, 0), -ECHILD);

	/* WNOHANG with a child that is still running (blocked on a pipe). */
	{
		int fds[2];
		char c = 'x';

		expect("pipe", R1(SYS_pipe, fds), 0);
		pid = fork_raw();
		if (pid == 0) {
			char b;

			R1(SYS_close, fds[1]);
			child_exit(R3(SYS_read, fds[0], &b, 1) == 1 && b == 'x' ? 0 : 1);
		}
		expect("WNOHANG, child running: 0", R4(SYS_wait4, pid, &status, WNOHANG, 0), 0);
		expect("wait4 of a pid that is not a child: ECHILD",
		       wait_status(pid + 1000, &status), -ECHILD);
		expect("write wakes the reader", R3(SYS_write, fds[1], &c, 1), 1);
		expect("then wait4 reaps it", wait_status(pid, &status), pid);
		expect("its status 0", status, 0);
		R1(SYS_close, fds[0]);
		R1(SYS_close, fds[1]);
	}

	/* fork via clone with busybox's flags, tid pointers filled. */
	{
		int ptid = 0, ctid = 0;

		pid = raw(SYS_clone, SIGCHLD | 0x01000000 | 0x00200000 | 0x00100000, 0, (long)&ptid,
		          (long)&ctid, 0, 0);
		if (pid == 0)
			child_exit(ctid == R0(SYS_getpid) ? 5 : 6);
		expect("clone(fork flags) returns the pid", pid > 0, 1);
		expect("CLONE_PARENT_SETTID", ptid, pid);
		expect("clone child: CLONE_CHILD_SETTID in its memory", wait_status(pid, &status),
		       pid);
		expect("clone child status 5", status, 5 << 8);
		expect("CLONE_CHILD_SETTID not in the parent's", ctid, 0);
	}
}

static void test_pipes(void)
{
	int fds[2], status;
	char buf[4096];
	long pid, total = 0, sum = 0, r;

	/* 100 KiB from child to parent: more than the pipe holds, so both
	 * sides block; then end of file. */
	expect("pipe2(0)", R2(SYS_pipe2, fds, 0), 0);
	pid = fork_raw();
	if (pid == 0) {
		R1(SYS_close, fds[0]);
		for (int i = 0; i < 100; i++) {
			char chunk[1024];

			for (int j = 0; j < 1024; j++)
				chunk[j] = (char)(i + j);
			for (long off = 0; off < 1024;) {
				long w = R3(SYS_write, fds[1], chunk + off, 1024 - off);

				if (w <= 0)
					child_exit(3);
				off += w;
			}
		}
		child_exit(0);
	}
	R1(SYS_close, fds[1]);
	while ((r = R3(SYS_read, fds[0], buf, sizeof(buf))) > 0) {
		for (long i = 0; i < r; i++)
			sum += (unsigned char)buf[i];
		total += r;
	}
	expect("read to end of file: 0", r, 0);
	expect("102400 bytes through the pipe", total, 102400);
	{
		long want = 0;

		for (int i = 0; i < 100; i++)
			for (int j = 0; j < 1024; j++)
				want += (unsigned char)(char)(i + j);
		expect("the bytes are the child's", sum, want);
	}
	expect("writer reaped", wait_status(pid, &status), pid);
	expect("writer status 0", status, 0);
	R1(SYS_close, fds[0]);

	/* The C library's stdio over a pipe (musl reads with readv). */
	expect("pipe", R1(SYS_pipe, fds), 0);
	pid = fork_raw();
	if (pid == 0) {
		R1(SYS_close, fds[0]);
		R3(SYS_write, fds[1], "line one\nline two\n", 18);
		child_exit(0);
	}
	R1(SYS_close, fds[1]);
	{
		FILE *in = fdopen(fds[0], "r");
		char line[64];
		int lines = 0;

		while (in && fgets(line, sizeof(line), in))
			lines += strncmp(line, "line ", 5) == 0;
		expect("fgets reads both lines from the pipe", lines, 2);
		if (in)
			fclose(in);
	}
	expect("stdio writer reaped", wait_status(pid, &status), pid);

	/* O_NONBLOCK: empty read -EAGAIN; fill to the pipe's size. */
	expect("pipe2(O_NONBLOCK|O_CLOEXEC)", R2(SYS_pipe2, fds, O_NONBLOCK | O_CLOEXEC), 0);
	expect("empty, nonblocking: EAGAIN", R3(SYS_read, fds[0], buf, 1), -EAGAIN);
	expect("F_GETFD: close-on-exec", R2(SYS_fcntl, fds[0], 1), 1);
	expect("F_GETFL: O_NONBLOCK|O_RDONLY", R2(SYS_fcntl, fds[0], 3), O_NONBLOCK);
	memset(buf, 'a', sizeof(buf));
	total = 0;
	while ((r = R3(SYS_write, fds[1], buf, 1000)) > 0)
		total += r;
	expect("full, nonblocking: EAGAIN", r, -EAGAIN);
	expect("a pipe holds 16384 bytes", total >= 15000 && total <= 16384, 1);
	expect("F_SETFL clears O_NONBLOCK", R3(SYS_fcntl, fds[0], 4, 0), 0);
	expect("F_GETFL after", R2(SYS_fcntl, fds[0], 3), 0);
	/* No reader: EPIPE (SIGPIPE ignored here, so no signal ends us). */
	{
		long act[4] = {1 /* SIG_IGN */, 0, 0, 0};

		expect("ignore SIGPIPE", R4(SYS_rt_sigaction, SIGPIPE, act, 0, 8), 0);
	}
	R1(SYS_close, fds[0]);
	expect("no reader: EPIPE", R3(SYS_write, fds[1], buf, 1), -EPIPE);
	R1(SYS_close, fds[1]);
	/* With SIGPIPE's default action, the writer dies of it. */
	{
		long act[4] = {0 /* SIG_DFL */, 0, 0, 0};

		expect("pipe", R1(SYS_pipe, fds), 0);
		R1(SYS_close, fds[0]);
		pid = fork_raw();
		if (pid == 0) {
			R4(SYS_rt_sigaction, SIGPIPE, act, 0, 8);
			R3(SYS_write, fds[1], buf, 1);
			child_exit(0); /* not reached */
		}
		expect("SIGPIPE child reaped", wait_status(pid, &status), pid);
		expect("killed by SIGPIPE (status 13)", status, SIGPIPE);
		R1(SYS_close, fds[1]);
	}
}

static void test_dup(void)
{
	int fds[2], status;
	char buf[64];
	long pid, r;

	expect("dup of a bad fd: EBADF", R1(SYS_dup, 63), -EBADF);
	expect("dup2 past the table: EBADF", R2(SYS_dup2, 1, 100000), -EBADF);
	expect("dup2 of an fd to itself", R2(SYS_dup2, 1, 1), 1);
	expect("dup3 of an fd to itself: EINVAL", R3(SYS_dup3, 1, 1, 0), -EINVAL);
	expect("dup3 bad flags: EINVAL", R3(SYS_dup3, 1, 20, 1), -EINVAL);
	expect("fcntl of a bad fd: EBADF", R2(SYS_fcntl, 60, 1), -EBADF);
	expect("fcntl unknown command: EINVAL", R2(SYS_fcntl, 1, 9999), -EINVAL);
	expect("F_DUPFD_CLOEXEC from 10", R3(SYS_fcntl, 1, 1030, 10), 10);
	expect("F_GETFD of it", R2(SYS_fcntl, 10, 1), 1);
	expect("F_DUPFD negative: EINVAL", R3(SYS_fcntl, 1, 0, -1), -EINVAL);
	expect("close it", R1(SYS_close, 10), 0);
	expect("close again: EBADF", R1(SYS_close, 10), -EBADF);

	/* A child's stdout through dup2 onto a pipe. */
	expect("pipe", R1(SYS_pipe, fds), 0);
	pid = fork_raw();
	if (pid == 0) {
		R2(SYS_dup2, fds[1], 1);
		R1(SYS_close, fds[0]);
		R1(SYS_close, fds[1]);
		R3(SYS_write, 1, "via dup2\n", 9);
		child_exit(0);
	}
	R1(SYS_close, fds[1]);
	r = R3(SYS_read, fds[0], buf, sizeof(buf));
	expect("the child's stdout arrives", r, 9);
	expect("its text", r == 9 && memcmp(buf, "via dup2\n", 9) == 0, 1);
	expect("then end of file", R3(SYS_read, fds[0], buf, sizeof(buf)), 0);
	expect("dup2 child reaped", wait_status(pid, &status), pid);
	R1(SYS_close, fds[0]);
}

static void test_exec(const char *self)
{
	int fds[2], status;
	char buf[512];
	long pid, n = 0, r;

	/* Failures leave us as we were. */
	{
		const char *argv[] = {"x", NULL};

		expect("execve missing file: ENOENT", R3(SYS_execve, "/bin/nope", argv, 0),
		       -ENOENT);
		expect("execve a text file: ENOEXEC", R3(SYS_execve, "/etc/motd", argv, 0),
		       -ENOEXEC);
		expect("execve a directory: EACCES", R3(SYS_execve, "/bin", argv, 0), -13);
		for (unsigned i = 0; i < NBAD; i++) {
			const long argvbad[] = {(long)"x", bad[i], 0};

			expect("execve hostile path", R3(SYS_execve, bad[i], argv, 0), -EFAULT);
			if (bad[i])
				expect("execve hostile argv",
				       R3(SYS_execve, "/bin/hello", bad[i], 0), -EFAULT);
			if (bad[i])
				expect("execve hostile envp",
				       R3(SYS_execve, "/bin/hello", argv, bad[i]), -EFAULT);
			if (bad[i])
				expect("execve hostile argv[1]",
				       R3(SYS_execve, "/bin/hello", argvbad, 0), -EFAULT);
		}
		{
			static const char *many[400];

			for (int i = 0; i < 399; i++)
				many[i] = "a";
			expect("execve 399 arguments: E2BIG", R3(SYS_execve, "/bin/hello", many, 0),
			       -E2BIG);
		}
		{
			static char big[70000];
			const char *argv2[] = {big, NULL};

			memset(big, 'b', sizeof(big) - 1);
			expect("execve a 70000-byte argument: E2BIG",
			       R3(SYS_execve, "/bin/hello", argv2, 0), -E2BIG);
		}
		expect("still here after failed execs", R0(SYS_getpid) > 0, 1);
	}
	/* /proc/self/exe is this image. */
	r = R3(SYS_readlink, "/proc/self/exe", buf, sizeof(buf));
	expect("readlink /proc/self/exe", r, (long)strlen(self));
	expect("... names this program", r > 0 && memcmp(buf, self, (size_t)r) == 0, 1);

	/* A child execs /bin/hello with its output into our pipe. */
	expect("pipe", R1(SYS_pipe, fds), 0);
	pid = fork_raw();
	if (pid == 0) {
		const char *argv[] = {"/bin/hello", "from", "exec", NULL};
		const char *envp[] = {"FORKTEST=1", NULL};

		R2(SYS_dup2, fds[1], 1);
		R1(SYS_close, fds[0]);
		R1(SYS_close, fds[1]);
		R3(SYS_execve, "/bin/hello", argv, envp);
		child_exit(42); /* exec failed */
	}
	R1(SYS_close, fds[1]);
	while ((r = R3(SYS_read, fds[0], buf + n, sizeof(buf) - 1 - n)) > 0)
		n += r;
	buf[n] = 0;
	expect("exec'd child's output ends", r, 0);
	expect("hello ran with our argv", strstr(buf, "argv[2]=exec") != NULL, 1);
	expect("... and our envp", strstr(buf, "envp[0]=FORKTEST=1") != NULL, 1);
	expect("exec'd child reaped", wait_status(pid, &status), pid);
	expect("hello's status 0", status, 0);
	R1(SYS_close, fds[0]);

	/* execve("/proc/self/exe"): this program again, checking that fd 20
	 * (close-on-exec) is gone and fd 21 (not) is kept. */
	pid = fork_raw();
	if (pid == 0) {
		const char *argv[] = {self, "fdcheck", NULL};

		R3(SYS_dup3, 1, 20, O_CLOEXEC);
		R2(SYS_dup2, 1, 21);
		R3(SYS_execve, "/proc/self/exe", argv, 0);
		child_exit(42);
	}
	expect("re-exec child reaped", wait_status(pid, &status), pid);
	expect("re-exec: cloexec fd closed, other kept (status 0)", status, 0);
}

static void test_kill_and_faults(void)
{
	int fds[2], status;
	long pid;

	/* A fault in the child: the parent sees SIGSEGV. */
	pid = fork_raw();
	if (pid == 0) {
		*(volatile int *)0 = 1;
		child_exit(0);
	}
	expect("faulting child reaped", wait_status(pid, &status), pid);
	expect("killed by SIGSEGV (status 11)", status, SIGSEGV);

	/* SIGTERM to a child blocked reading a pipe. */
	expect("pipe", R1(SYS_pipe, fds), 0);
	pid = fork_raw();
	if (pid == 0) {
		char b;

		R3(SYS_read, fds[0], &b, 1); /* blocks: we hold the write end */
		child_exit(0);
	}
	expect("kill(child, SIGTERM)", R2(SYS_kill, pid, SIGTERM), 0);
	expect("killed child reaped", wait_status(pid, &status), pid);
	expect("killed by SIGTERM (status 15)", status, SIGTERM);
	/* SIGCHLD's default is to ignore; signal 0 checks existence. */
	expect("kill(self, SIGCHLD): ignored", R2(SYS_kill, R0(SYS_getpid), SIGCHLD), 0);
	expect("kill(self, 0)", R2(SYS_kill, R0(SYS_getpid), 0), 0);
	expect("kill(no such pid): ESRCH", R2(SYS_kill, 99999, SIGTERM), -ESRCH);
	expect("kill bad signal: EINVAL", R2(SYS_kill, R0(SYS_getpid), 65), -EINVAL);
	expect("tgkill tgid != tid: ESRCH", R3(SYS_tgkill, 1, 2, 0), -ESRCH);
	R1(SYS_close, fds[0]);
	R1(SYS_close, fds[1]);
	/* A child that forks a grandchild and exits at once: the grandchild
	 * is an orphan that the kernel reaps. */
	pid = fork_raw();
	if (pid == 0) {
		if (fork_raw() == 0) {
			long ts[2] = {0, 20000000};

			R2(SYS_nanosleep, ts, 0);
			child_exit(0);
		}
		child_exit(4);
	}
	expect("parent of an orphan reaped", wait_status(pid, &status), pid);
	expect("its status 4", status, 4 << 8);
	expect("the grandchild is not ours: ECHILD", wait_status(-1, &status), -ECHILD);
}

static void test_signals_groups(void)
{
	long act[4], old[4], mask = 0;

	expect("rt_sigaction bad size: EINVAL", R4(SYS_rt_sigaction, SIGTERM, 0, 0, 4), -EINVAL);
	expect("rt_sigaction signal 0: EINVAL", R4(SYS_rt_sigaction, 0, 0, old, 8), -EINVAL);
	expect("rt_sigaction signal 65: EINVAL", R4(SYS_rt_sigaction, 65, 0, old, 8), -EINVAL);
	act[0] = 0x401000, act[1] = 0x04000000, act[2] = 0x401000, act[3] = 0;
	expect("rt_sigaction SIGKILL: EINVAL", R4(SYS_rt_sigaction, SIGKILL, act, 0, 8), -EINVAL);
	expect("rt_sigaction set", R4(SYS_rt_sigaction, SIGTERM, act, 0, 8), 0);
	expect("rt_sigaction get", R4(SYS_rt_sigaction, SIGTERM, 0, old, 8), 0);
	expect("... the handler we set", old[0], 0x401000);
	act[0] = 0;
	R4(SYS_rt_sigaction, SIGTERM, act, 0, 8);
	expect("rt_sigprocmask bad how: EINVAL", R4(SYS_rt_sigprocmask, 7, &mask, 0, 8), -EINVAL);
	mask = 1l << (SIGTERM - 1);
	expect("block SIGTERM", R4(SYS_rt_sigprocmask, 0, &mask, 0, 8), 0);
	expect("read the mask", R4(SYS_rt_sigprocmask, 0, 0, &mask, 8), 0);
	expect("... SIGTERM blocked", mask, 1l << (SIGTERM - 1));
	mask = 0;
	expect("unblock all", R4(SYS_rt_sigprocmask, 2, &mask, 0, 8), 0);
	/* rt_sigreturn now takes a frame apart: /bin/sigtest checks it. */
	for (unsigned i = 0; i < NBAD; i++) {
		if (!bad[i])
			continue;
		expect("rt_sigaction hostile act", R4(SYS_rt_sigaction, SIGTERM, bad[i], 0, 8),
		       -EFAULT);
		expect("rt_sigaction hostile oact", R4(SYS_rt_sigaction, SIGTERM, 0, bad[i], 8),
		       -EFAULT);
		expect("rt_sigprocmask hostile set", R4(SYS_rt_sigprocmask, 0, bad[i], 0, 8),
		       -EFAULT);
		expect("rt_sigprocmask hostile oset", R4(SYS_rt_sigprocmask, 0, 0, bad[i], 8),
		       -EFAULT);
		expect("pipe hostile", R1(SYS_pipe, bad[i]), -EFAULT);
		expect("pipe2 hostile", R2(SYS_pipe2, bad[i], 0), -EFAULT);
		expect("wait4 hostile status", R4(SYS_wait4, -1, bad[i], 0, 0), -EFAULT);
		expect("wait4 hostile rusage", R4(SYS_wait4, -1, 0, 0, bad[i]), -EFAULT);
		expect("clone hostile parent tid",
		       raw(SYS_clone, SIGCHLD | 0x00100000, 0, bad[i], 0, 0, 0), -EFAULT);
		expect("clone hostile child tid",
		       raw(SYS_clone, SIGCHLD | 0x01000000, 0, 0, bad[i], 0, 0), -EFAULT);
	}
	expect("pipe to read-only memory: EFAULT", R1(SYS_pipe, (long)"rodata"), -EFAULT);
	expect("pipe2 bad flags: EINVAL", R2(SYS_pipe2, act, 1), -EINVAL);
	expect("wait4 bad options: EINVAL", R4(SYS_wait4, -1, 0, 0x100, 0), -EINVAL);
	expect("clone(CLONE_VM): EINVAL", raw(SYS_clone, SIGCHLD | 0x100, 0, 0, 0, 0, 0), -EINVAL);
	expect("clone(CLONE_THREAD): EINVAL",
	       raw(SYS_clone, 0x10000 | 0x800 | 0x100, 0, 0, 0, 0, 0), -EINVAL);
	expect("getpgrp is our pid's group", R0(SYS_getpgrp), R1(SYS_getpgid, 0));
	expect("getsid(0)", R1(SYS_getsid, 0) > 0, 1);
	expect("getpgid of another pid: ESRCH", R1(SYS_getpgid, 99999), -ESRCH);
}

static unsigned long long cycles(void)
{
	unsigned lo, hi;

	__asm__ volatile("lfence; rdtsc; lfence" : "=a"(lo), "=d"(hi));
	return ((unsigned long long)hi << 32) | lo;
}

/* "forktest cost": cycles (guest instructions under -icount) of one
 * fork + child exit + wait4 (a plain line), and of one 1-byte pipe round
 * trip between two processes as the BENCH line xas_pipe (Linux's xas_pipe
 * measures the same ping-pong; make bench-user runs this). */
/* ---- copy-on-write (the kernel shares every page at fork) ---- */

#define PAGE      4096
#define COW_PAGES 8
#define ENOMEM    12
#define NOHOG     100

static unsigned char cow_data[COW_PAGES * PAGE]; /* bss: shared at every fork */
static long hog_addr[NOHOG], hog_len[NOHOG];

static long map_anon(long len)
{
	return raw(SYS_mmap, 0, len, 3, 0x22, -1, 0); /* RW, private anonymous */
}

/* 1 if every byte of b[0..n) is v. */
static int all_are(const volatile unsigned char *b, long n, unsigned char v)
{
	for (long i = 0; i < n; i++)
		if (b[i] != v)
			return 0;
	return 1;
}

/* Map memory until nothing is left (the kernel maps eagerly, so each mmap
 * takes its pages now); how many pages that was.  cow_unhog gives it back. */
static long cow_hog(void)
{
	static const long chunks[] = {64l << 20, 4l << 20, 256l << 10, 16l << 10, PAGE};
	long pages = 0;
	int n = 0;

	for (unsigned c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++)
		for (long a; n < NOHOG && (a = map_anon(chunks[c])) > 0; n++) {
			hog_addr[n] = a;
			hog_len[n] = chunks[c];
			pages += chunks[c] / PAGE;
		}
	for (; n < NOHOG; n++)
		hog_len[n] = 0;
	return pages;
}

static void cow_unhog(void)
{
	for (int i = 0; i < NOHOG; i++)
		if (hog_len[i])
			R2(SYS_munmap, hog_addr[i], hog_len[i]);
}

/* Write (so break COW of) the pages this process writes next: the check
 * counters and the stack below the caller, 12 KiB deep. */
static __attribute__((noinline)) void cow_own_pages(void)
{
	volatile unsigned char deeper[3 * PAGE];

	for (unsigned i = 0; i < sizeof(deeper); i += 512)
		deeper[i] = 1;
	*(volatile int *)&passed = passed;
	*(volatile int *)&failed = failed;
}

/* fork of a fork of a fork: each generation writes its mark, and sees its
 * ancestors' marks as they were when it was forked, never its
 * descendants'.  Returns 0 if all of that held down the chain. */
static int cow_generation(int depth)
{
	int status, bad = 0;
	long pid;

	cow_data[depth * PAGE] = (unsigned char)(0xa0 + depth);
	for (int d = 0; d <= depth; d++)
		bad |= cow_data[d * PAGE] != (unsigned char)(0xa0 + d);
	if (depth == 3)
		return bad;
	pid = fork_raw();
	if (pid == 0)
		child_exit(cow_generation(depth + 1) | bad);
	if (pid < 0 || wait_status(pid, &status) != pid || status != 0)
		bad = 1;
	/* The descendants' marks stayed theirs. */
	for (int d = depth + 1; d < 4; d++)
		bad |= cow_data[d * PAGE] != 0x5a;
	return bad;
}

static void test_cow(void)
{
	unsigned char stackbuf[2 * PAGE];
	unsigned char *heap = (unsigned char *)map_anon(COW_PAGES * PAGE);
	int status, p[2], q[2], wrong = 0;
	long pid, n1, n2;
	char c = 0;

	expect("cow: mmap", (long)heap > 0, 1);
	/* Many forks: each child sees the parent's bytes of that moment (bss,
	 * heap, stack), and its writes stay its own. */
	for (int round = 0; round < 16; round++) {
		memset(cow_data, round, sizeof(cow_data));
		memset(heap, round + 1, COW_PAGES * PAGE);
		memset(stackbuf, round + 2, sizeof(stackbuf));
		pid = fork_raw();
		if (pid == 0) {
			int bad = !all_are(cow_data, sizeof(cow_data), round) ||
			          !all_are(heap, COW_PAGES * PAGE, round + 1) ||
			          !all_are(stackbuf, sizeof(stackbuf), round + 2);

			memset(cow_data, 0xee, sizeof(cow_data));
			memset(heap, 0xee, COW_PAGES * PAGE);
			memset(stackbuf, 0xee, sizeof(stackbuf));
			bad |= !all_are(cow_data, sizeof(cow_data), 0xee);
			child_exit(bad);
		}
		if (wait_status(pid, &status) != pid || status != 0)
			wrong++;
		if (!all_are(cow_data, sizeof(cow_data), round) ||
		    !all_are(heap, COW_PAGES * PAGE, round + 1) ||
		    !all_are(stackbuf, sizeof(stackbuf), round + 2))
			wrong++;
	}
	expect("cow: 16 forks, the child's writes never seen by the parent", wrong, 0);

	/* The parent writes while the child lives: the child keeps the old. */
	expect("cow: pipes", R1(SYS_pipe, p) | R1(SYS_pipe, q), 0);
	memset(cow_data, 0x11, sizeof(cow_data));
	pid = fork_raw();
	if (pid == 0) {
		R3(SYS_read, p[0], &c, 1); /* after the parent's writes */
		child_exit(!all_are(cow_data, sizeof(cow_data), 0x11));
	}
	memset(cow_data, 0x22, sizeof(cow_data));
	R3(SYS_write, p[1], &c, 1);
	expect("cow: parent's writes not seen by the child", wait_status(pid, &status), pid);
	expect("cow: ... (child status 0)", status, 0);
	expect("cow: parent sees its own writes", all_are(cow_data, sizeof(cow_data), 0x22), 1);

	/* The child writes and exits while the parent reads (on two CPUs at
	 * once): the parent's bytes never move. */
	pid = fork_raw();
	if (pid == 0) {
		for (int i = 0; i < 64; i++)
			memset(cow_data, i, sizeof(cow_data));
		child_exit(0);
	}
	wrong = 0;
	for (long got = 0; got == 0;) {
		got = R4(SYS_wait4, pid, &status, WNOHANG, 0);
		wrong += !all_are(cow_data, sizeof(cow_data), 0x22);
	}
	expect("cow: parent reads stable bytes while the child writes and exits", wrong, 0);

	/* read() into a buffer shared with the parent: the kernel's write
	 * (copy_to_user) breaks COW, across a page boundary too. */
	pid = fork_raw();
	if (pid == 0) {
		int bad = R3(SYS_write, q[1], "fresh", 5) != 5 ||
		          R3(SYS_read, q[0], cow_data + PAGE - 2, 5) != 5 ||
		          memcmp(cow_data + PAGE - 2, "fresh", 5) != 0;

		child_exit(bad);
	}
	expect("cow: child read() into a shared buffer", wait_status(pid, &status), pid);
	expect("cow: ... got the bytes (status 0)", status, 0);
	expect("cow: ... the parent's copy untouched", all_are(cow_data, sizeof(cow_data), 0x22),
	       1);
	pid = fork_raw();
	if (pid == 0) {
		R3(SYS_read, p[0], &c, 1); /* after the parent's read() */
		child_exit(!all_are(cow_data, sizeof(cow_data), 0x22));
	}
	R3(SYS_write, q[1], "PARENT", 6);
	expect("cow: parent read() into a shared buffer", R3(SYS_read, q[0], cow_data + 100, 6), 6);
	R3(SYS_write, p[1], &c, 1);
	expect("cow: ... the child's copy untouched", wait_status(pid, &status), pid);
	expect("cow: ... (child status 0)", status, 0);
	expect("cow: ... the parent has the bytes", memcmp(cow_data + 100, "PARENT", 6), 0);

	/* fork of a fork of a fork. */
	memset(cow_data, 0x5a, sizeof(cow_data));
	expect("cow: fork of a fork of a fork, each generation's writes its own", cow_generation(0),
	       0);

	/* Out of memory.  A child takes every free page (its own mmaps; the
	 * pages it writes meanwhile made its own first), tells how many, and
	 * that a fork now fails cleanly; then it writes to a page it still
	 * shares with us, which needs a page for the copy: it is killed
	 * (SIGSEGV; the kernel's line says why) and the kernel goes on.  Its
	 * memory comes back when it is reaped: we can take as many pages
	 * again (nothing leaked). */
	memset(cow_data, 0x33, sizeof(cow_data));
	pid = fork_raw();
	if (pid == 0) {
		long msg[2];

		cow_own_pages();
		memset(hog_addr, 0, sizeof(hog_addr));
		memset(hog_len, 0, sizeof(hog_len));
		R3(SYS_read, p[0], &c, 1);
		msg[0] = cow_hog();
		msg[1] = fork_raw();
		if (msg[1] == 0)
			child_exit(0);
		R3(SYS_write, q[1], msg, sizeof(msg));
		/* Pages shared with us: each write needs a page for its copy.
		 * The hog leaves fewer free frames than a 4 KiB mmap needs
		 * (frame, page tables, bookkeeping): far fewer than 16. */
		memset(cow_data, 0x44, sizeof(cow_data));
		memset(heap, 0x44, COW_PAGES * PAGE);
		child_exit(0);
	}
	/* Nor may we write a shared page while it holds everything: make
	 * ours what we write until it is reaped, then let it go. */
	cow_own_pages();
	R3(SYS_write, p[1], &c, 1);
	{
		long msg[2] = {0, 0}, got = wait_status(pid, &status);

		expect("cow: child out of memory reaped", got, pid);
		expect("cow: ... killed by SIGSEGV (its COW fault found no page)", status, SIGSEGV);
		expect("cow: the hogging child reported", R3(SYS_read, q[0], msg, sizeof(msg)),
		       sizeof(msg));
		n1 = msg[0];
		expect("cow: fork with no memory: ENOMEM", msg[1], -ENOMEM);
	}
	expect("cow: ... our copy untouched", all_are(cow_data, sizeof(cow_data), 0x33), 1);
	n2 = cow_hog();
	/* The last sharer of every page now: our writes need no page. */
	memset(cow_data, 0x55, sizeof(cow_data));
	expect("cow: writes with memory exhausted, as the last sharer",
	       all_are(cow_data, sizeof(cow_data), 0x55), 1);
	cow_unhog();
	printf("forktest: %ld pages free with the hogging child, %ld after it\n", n1, n2);
	expect("cow: nothing leaked (as many pages free after as before)", n1 > 1000 && n2 >= n1,
	       1);
	R1(SYS_close, p[0]);
	R1(SYS_close, p[1]);
	R1(SYS_close, q[0]);
	R1(SYS_close, q[1]);
	R2(SYS_munmap, heap, COW_PAGES * PAGE);
}

/* cycles of one fork + exit + wait4. */
static unsigned long long fork_cycles(void)
{
	unsigned long long t0 = cycles();
	int status;
	long pid = fork_raw();

	if (pid == 0)
		child_exit(0);
	wait_status(pid, &status);
	return cycles() - t0;
}

/* A fork of a process with a 16 MiB touched heap: its cost against the
 * copies it avoids (the parent writing once to each page while a child
 * shares them, which copies each one - the old eager fork's work). */
static void test_cow_big(void)
{
	long len = 16l << 20, pid;
	unsigned char *big = (unsigned char *)map_anon(len);
	unsigned long long tf, tc, t0;
	int p[2], status;
	char c = 0;

	expect("cow: mmap 16 MiB", (long)big > 0, 1);
	if ((long)big <= 0)
		return;
	for (long i = 0; i < len; i += PAGE)
		big[i] = 1;
	tf = fork_cycles();
	R1(SYS_pipe, p);
	pid = fork_raw();
	if (pid == 0) {
		R3(SYS_read, p[0], &c, 1);
		child_exit(big[0] != 1 || big[len / 2] != 1 || big[len - PAGE] != 1);
	}
	t0 = cycles();
	for (long i = 0; i < len; i += PAGE)
		big[i] = 2;
	tc = cycles() - t0;
	R3(SYS_write, p[1], &c, 1);
	wait_status(pid, &status);
	expect("cow: the 16 MiB child kept its bytes", status, 0);
	/* Figures, not a check: timing belongs to make bench (the copy-on-
	 * write itself is checked above and by the kernel's cow tests). */
	printf("forktest: 16 MiB touched: fork+exit+wait4 %llu cycles, copying its pages %llu\n",
	       tf, tc);
	R1(SYS_close, p[0]);
	R1(SYS_close, p[1]);
	R2(SYS_munmap, big, len);
}

static void bench(void)
{
	enum { FORKS = 20, TRIPS = 400, TRIPS_WARM = 40 };
	static uint64_t samples[TRIPS];
	uint64_t overhead;
	unsigned long long t0, t1;
	int status, to[2], from[2];
	char c = 0;
	long pid;

	t0 = cycles();
	for (int i = 0; i < FORKS; i++) {
		pid = fork_raw();
		if (pid == 0)
			child_exit(0);
		wait_status(pid, &status);
	}
	t1 = cycles();
	printf("forktest: fork+exit+wait4 %llu cycles\n", (t1 - t0) / FORKS);
	R1(SYS_pipe, to);
	R1(SYS_pipe, from);
	pid = fork_raw();
	if (pid == 0) {
		R1(SYS_close, to[1]); /* else its read never sees the end */
		R1(SYS_close, from[0]);
		while (R3(SYS_read, to[0], &c, 1) == 1)
			R3(SYS_write, from[1], &c, 1);
		child_exit(0);
	}
	/* One sample per round trip, in bench/benchmarks.def's format under
	 * Linux's id for the same ping-pong (xas_pipe), so make bench puts
	 * the two side by side. */
	overhead = bench_tsc_pair(samples, 101);
	for (int i = -TRIPS_WARM; i < TRIPS; i++) {
		uint64_t a = bench_tsc(), b;

		R3(SYS_write, to[1], &c, 1);
		R3(SYS_read, from[0], &c, 1);
		b = bench_tsc();
		if (i >= 0)
			samples[i] = b - a;
	}
	bench_report("xas_pipe", samples, TRIPS, overhead, 1);
	R1(SYS_close, to[1]);
	wait_status(pid, &status);
	printf("BENCHEND 1\n");
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "cost") == 0) {
		bench();
		test_cow_big(); /* a plain line: the 16 MiB fork beside its copy */
		return 0;
	}
	if (argc > 1 && strcmp(argv[1], "fdcheck") == 0) {
		/* Run by execve("/proc/self/exe") with fd 20 close-on-exec. */
		if (R2(SYS_fcntl, 20, 1) != -EBADF || R2(SYS_fcntl, 21, 1) != 0)
			return 1;
		return 0;
	}
	test_fork_wait();
	test_pipes();
	test_dup();
	test_exec(argv[0]);
	test_kill_and_faults();
	test_signals_groups();
	test_cow();
	test_cow_big();
	printf("forktest: %d passed, %d failed\n", passed, failed);
	if (!failed)
		printf("forktest: ok\n");
	return failed ? 1 : 0;
}
