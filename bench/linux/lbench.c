/*
 * lbench: the Linux side of Spindle's guest benchmarks.
 *
 * A static (musl) program that the Linux baseline initramfs runs as its
 * only workload.  For every entry of bench/benchmarks.def that has a Linux
 * counterpart it runs a warm-up, then the defined number of samples, each
 * timed with an lfence-serialised rdtsc pair, and prints one line
 *
 *     BENCH <id> <median> <p10> <p90> <min> <max> <n>
 *
 * on stdout (the serial console).  Under QEMU's -icount shift=0 the guest
 * TSC advances by one per executed guest instruction, so each figure is a
 * count of guest instructions (on -smp 2: of instructions executed by
 * either virtual CPU, since icount runs them round-robin on one clock).
 * The cost of the timestamp pair itself is measured first and subtracted.
 *
 * Usage: lbench [-n SAMPLES] [id ...]     run all (or the named) benchmarks
 *        lbench -x CODE                   write CODE to isa-debug-exit (0xf4)
 *        lbench -c ID N FD                (internal) N samples of ID -> FD
 * -n overrides every benchmark's sample count (the repeatability test uses a
 * tiny one).  Ids without a Linux counterpart are skipped silently.  The
 * samples of each benchmark are taken in LAYOUTS fresh processes (see
 * run_in_layouts) and pooled.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGE 4096UL

/* From <linux/futex.h>, which musl-gcc does not see. */
#define FUTEX_WAIT         0
#define FUTEX_WAKE         1
#define FUTEX_PRIVATE_FLAG 128

/* ---- timing ---------------------------------------------------------- */

static inline uint64_t tsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("lfence\n\trdtsc\n\tlfence" : "=a"(lo), "=d"(hi)::"memory");
	return ((uint64_t)hi << 32) | lo;
}

static uint64_t tsc_overhead;
static uint64_t *samples;
static int nsamples_override;

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Sorts s[0..n) and prints the BENCH line.  Samples are corrected for the
 * timestamp pair's own cost (never below zero). */
static void bench_stats(const char *id, uint64_t *s, int n, uint64_t correction)
{
	for (int i = 0; i < n; i++)
		s[i] = s[i] > correction ? s[i] - correction : 0;
	qsort(s, n, sizeof *s, cmp_u64);
	printf("BENCH %s %llu %llu %llu %llu %llu %d\n", id, (unsigned long long)s[n / 2],
	       (unsigned long long)s[n / 10], (unsigned long long)s[(9 * n) / 10],
	       (unsigned long long)s[0], (unsigned long long)s[n - 1], n);
	fflush(stdout);
}

static void die(const char *what)
{
	printf("BENCHERROR %s: %s\n", what, strerror(errno));
	fflush(stdout);
	exit(1);
}

static long futex(volatile int *uaddr, int op, int val)
{
	return syscall(SYS_futex, uaddr, op, val, NULL, NULL, 0);
}

/* Waits until *w == want (futex op flavour: private or shared). */
static void futex_wait_for(volatile int *w, int want, int priv)
{
	int v;
	while ((v = __atomic_load_n(w, __ATOMIC_ACQUIRE)) != want)
		futex(w, FUTEX_WAIT | priv, v);
}

static void futex_set_wake(volatile int *w, int val, int priv)
{
	__atomic_store_n(w, val, __ATOMIC_RELEASE);
	futex(w, FUTEX_WAKE | priv, 1);
}

/* ---- benchmarks ------------------------------------------------------ */
/* Each fills s[0..n) after w warm-up rounds. */

static void b_tsc_pair(uint64_t *s, int n, int w)
{
	for (int i = -w; i < n; i++) {
		uint64_t t0 = tsc();
		uint64_t t1 = tsc();
		if (i >= 0)
			s[i] = t1 - t0;
	}
}

static void b_null_syscall(uint64_t *s, int n, int w)
{
	for (int i = -w; i < n; i++) {
		long r;
		uint64_t t0 = tsc();
		__asm__ volatile("syscall"
		                 : "=a"(r)
		                 : "0"((long)SYS_getppid)
		                 : "rcx", "r11", "memory");
		uint64_t t1 = tsc();
		if (i >= 0)
			s[i] = t1 - t0;
	}
}

static void b_xas_call(uint64_t *s, int n, int w)
{
	/* seq odd: the parent's call is pending; even: the child answered. */
	volatile int *seq =
	    mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (seq == MAP_FAILED)
		die("mmap");
	*seq = 0;
	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		for (int k = 0; k < n + w; k++) {
			futex_wait_for(seq, 2 * k + 1, 0);
			futex_set_wake(seq, 2 * k + 2, 0);
		}
		_exit(0);
	}
	for (int i = -w, k = 0; i < n; i++, k++) {
		uint64_t t0 = tsc();
		futex_set_wake(seq, 2 * k + 1, 0);
		futex_wait_for(seq, 2 * k + 2, 0);
		uint64_t t1 = tsc();
		if (i >= 0)
			s[i] = t1 - t0;
	}
	waitpid(pid, NULL, 0);
	munmap((void *)seq, PAGE);
}

static void b_xas_pipe(uint64_t *s, int n, int w)
{
	int a[2], b[2];
	char c = 'x';
	if (pipe(a) || pipe(b))
		die("pipe");
	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		close(a[1]);
		close(b[0]);
		while (read(a[0], &c, 1) == 1)
			if (write(b[1], &c, 1) != 1)
				break;
		_exit(0);
	}
	close(a[0]);
	close(b[1]);
	for (int i = -w; i < n; i++) {
		uint64_t t0 = tsc();
		if (write(a[1], &c, 1) != 1 || read(b[0], &c, 1) != 1)
			die("pipe round trip");
		uint64_t t1 = tsc();
		if (i >= 0)
			s[i] = t1 - t0;
	}
	close(a[1]);
	close(b[0]);
	waitpid(pid, NULL, 0);
}

static void *empty_thread(void *arg)
{
	return arg;
}

static void b_forkjoin_user(uint64_t *s, int n, int w)
{
	for (int i = -w; i < n; i++) {
		pthread_t t;
		uint64_t t0 = tsc();
		if (pthread_create(&t, NULL, empty_thread, NULL))
			die("pthread_create");
		pthread_join(t, NULL);
		uint64_t t1 = tsc();
		if (i >= 0)
			s[i] = t1 - t0;
	}
}

/* The child runs on its own stack with the parent's TLS pointer, so it
 * must touch nothing thread-local: it only returns, and musl's clone
 * trampoline then makes the exit system call. */
static int empty_clone(void *arg)
{
	(void)arg;
	return 0;
}

static void b_forkjoin_clone(uint64_t *s, int n, int w)
{
	const size_t stk_size = 64 * 1024;
	char *stk =
	    mmap(NULL, stk_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (stk == MAP_FAILED)
		die("mmap");
	static volatile int ctid;
	const int flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD |
	                  CLONE_SYSVSEM | CLONE_CHILD_CLEARTID;
	for (int i = -w; i < n; i++) {
		ctid = 1;
		uint64_t t0 = tsc();
		if (clone(empty_clone, stk + stk_size, flags, NULL, NULL, NULL, &ctid) < 0)
			die("clone");
		futex_wait_for(&ctid, 0, 0);
		uint64_t t1 = tsc();
		if (i >= 0)
			s[i] = t1 - t0;
	}
	munmap(stk, stk_size);
}

/* Ping-pong state.  The condition-variable version uses one condition per
 * direction and signals after unlocking, so the woken thread never blocks
 * again on the mutex its waker still holds (signalling under the lock with
 * one shared condition costs an extra switch: about 15,500 instead of
 * 6,900 instructions per round trip on -smp 1). */
static struct {
	pthread_mutex_t m;
	pthread_cond_t c[2]; /* c[k]: it is thread k's turn (0: main thread) */
	int turn;
	int rounds;
	volatile int seq;
} pp = {PTHREAD_MUTEX_INITIALIZER, {PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER}, 0, 0, 0};

/* Waits for our turn, then hands the turn to the other thread. */
static void condvar_step(int me)
{
	pthread_mutex_lock(&pp.m);
	while (pp.turn != me)
		pthread_cond_wait(&pp.c[me], &pp.m);
	pp.turn = !me;
	pthread_mutex_unlock(&pp.m);
	pthread_cond_signal(&pp.c[!me]);
}

static void *condvar_partner(void *arg)
{
	(void)arg;
	for (int k = 0; k < pp.rounds; k++)
		condvar_step(1);
	return NULL;
}

static void b_pingpong_user(uint64_t *s, int n, int w)
{
	pthread_t t;
	pp.turn = 0;
	pp.rounds = n + w;
	if (pthread_create(&t, NULL, condvar_partner, NULL))
		die("pthread_create");
	for (int i = -w; i < n; i++) {
		uint64_t t0 = tsc();
		condvar_step(0);           /* signal the partner ... */
		pthread_mutex_lock(&pp.m); /* ... and block until it signals back */
		while (pp.turn != 0)
			pthread_cond_wait(&pp.c[0], &pp.m);
		pthread_mutex_unlock(&pp.m);
		uint64_t t1 = tsc();
		if (i >= 0)
			s[i] = t1 - t0;
	}
	pthread_join(t, NULL);
}

static void *futex_partner(void *arg)
{
	(void)arg;
	for (int k = 0; k < pp.rounds; k++) {
		futex_wait_for(&pp.seq, 2 * k + 1, FUTEX_PRIVATE_FLAG);
		futex_set_wake(&pp.seq, 2 * k + 2, FUTEX_PRIVATE_FLAG);
	}
	return NULL;
}

static void b_pingpong_futex(uint64_t *s, int n, int w)
{
	pthread_t t;
	pp.seq = 0;
	pp.rounds = n + w;
	if (pthread_create(&t, NULL, futex_partner, NULL))
		die("pthread_create");
	for (int i = -w, k = 0; i < n; i++, k++) {
		uint64_t t0 = tsc();
		futex_set_wake(&pp.seq, 2 * k + 1, FUTEX_PRIVATE_FLAG);
		futex_wait_for(&pp.seq, 2 * k + 2, FUTEX_PRIVATE_FLAG);
		uint64_t t1 = tsc();
		if (i >= 0)
			s[i] = t1 - t0;
	}
	pthread_join(t, NULL);
}

/* ---- virtual memory -------------------------------------------------- */

/* A region of VM_PAGES pages, mapped and dirtied once. */
#define VM_PAGES 128
static char *vm;

static void vm_touch(char *p, size_t pages)
{
	for (size_t i = 0; i < pages; i++)
		((volatile char *)p)[i * PAGE] = 1;
}

static void xmprotect(void *p, size_t len, int prot)
{
	if (mprotect(p, len, prot))
		die("mprotect");
}

enum segv_mode { SEGV_TRAP, SEGV_FAULT, SEGV_APPEL1, SEGV_APPEL2 };
static volatile enum segv_mode segv_mode;
static volatile uint64_t segv_t1;
static char *volatile appel_other;

static void segv_handler(int sig, siginfo_t *si, void *uc)
{
	uint64_t t = tsc();
	char *page = (char *)((uintptr_t)si->si_addr & ~(PAGE - 1));
	(void)sig;
	(void)uc;
	segv_t1 = t;
	switch (segv_mode) {
	case SEGV_TRAP:
	case SEGV_FAULT:
	case SEGV_APPEL2:
		mprotect(page, PAGE, PROT_READ | PROT_WRITE);
		break;
	case SEGV_APPEL1:
		mprotect(page, PAGE, PROT_READ | PROT_WRITE);
		mprotect(appel_other, PAGE, PROT_READ);
		break;
	}
}

static void b_vm_dirty(uint64_t *s, int n, int w)
{
	unsigned char vec;
	for (int i = -w; i < n; i++) {
		uint64_t t0 = tsc();
		if (mincore(vm, PAGE, &vec))
			die("mincore");
		uint64_t t1 = tsc();
		if (i >= 0)
			s[i] = t1 - t0;
	}
}

/* Trap and Fault: the same protected-page write; Trap stops the clock at
 * the handler's entry, Fault when the write has completed. */
static void trap_or_fault(uint64_t *s, int n, int w, int trap)
{
	char *p = vm;
	segv_mode = trap ? SEGV_TRAP : SEGV_FAULT;
	for (int i = -w; i < n; i++) {
		xmprotect(p, PAGE, PROT_READ);
		uint64_t t0 = tsc();
		((volatile char *)p)[0] = 2;
		uint64_t t1 = tsc();
		if (i >= 0)
			s[i] = (trap ? segv_t1 : t1) - t0;
	}
}

static void b_vm_trap(uint64_t *s, int n, int w)
{
	trap_or_fault(s, n, w, 1);
}

static void b_vm_fault(uint64_t *s, int n, int w)
{
	trap_or_fault(s, n, w, 0);
}

static void prot_n(uint64_t *s, int n, int w, size_t pages, int increase)
{
	char *p = vm + PAGE;
	for (int i = -w; i < n; i++) {
		/* untimed: put the pages in the opposite state (dirty if writable) */
		if (increase) {
			xmprotect(p, pages * PAGE, PROT_READ | PROT_WRITE);
			vm_touch(p, pages);
		} else {
			xmprotect(p, pages * PAGE, PROT_READ);
		}
		uint64_t t0 = tsc();
		xmprotect(p, pages * PAGE, increase ? PROT_READ : PROT_READ | PROT_WRITE);
		uint64_t t1 = tsc();
		if (i >= 0)
			s[i] = t1 - t0;
	}
	xmprotect(p, pages * PAGE, PROT_READ | PROT_WRITE);
}

static void b_vm_prot1(uint64_t *s, int n, int w)
{
	prot_n(s, n, w, 1, 1);
}

static void b_vm_unprot1(uint64_t *s, int n, int w)
{
	prot_n(s, n, w, 1, 0);
}

static void b_vm_prot100(uint64_t *s, int n, int w)
{
	prot_n(s, n, w, 100, 1);
}

static void b_vm_unprot100(uint64_t *s, int n, int w)
{
	prot_n(s, n, w, 100, 0);
}

/* Two pages take turns: the one written to is protected, its handler
 * unprotects it and protects the other, which is written next. */
static void b_vm_appel1(uint64_t *s, int n, int w)
{
	char *pg[2] = {vm, vm + PAGE};
	xmprotect(vm, 2 * PAGE, PROT_READ | PROT_WRITE);
	vm_touch(vm, 2);
	xmprotect(pg[0], PAGE, PROT_READ);
	segv_mode = SEGV_APPEL1;
	for (int i = -w, k = 0; i < n; i++, k ^= 1) {
		appel_other = pg[k ^ 1];
		uint64_t t0 = tsc();
		((volatile char *)pg[k])[0] = 3;
		uint64_t t1 = tsc();
		if (i >= 0)
			s[i] = t1 - t0;
	}
	xmprotect(vm, 2 * PAGE, PROT_READ | PROT_WRITE);
}

static void b_vm_appel2(uint64_t *s, int n, int w)
{
	char *p = vm;
	segv_mode = SEGV_APPEL2;
	for (int i = -w; i < n; i++) {
		uint64_t t0 = tsc();
		xmprotect(p, 100 * PAGE, PROT_READ);
		for (int j = 0; j < 100; j++)
			((volatile char *)p)[j * PAGE] = 4;
		uint64_t t1 = tsc();
		if (i >= 0)
			s[i] = (t1 - t0) / 100;
	}
}

static void b_vm_anon_fault(uint64_t *s, int n, int w)
{
	size_t pages = (size_t)(n + w);
	char *p =
	    mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		die("mmap");
	/* One page apart would let fault-around or THP hide the cost: use
	 * every page once, in order, in a region too small for a huge page. */
	madvise(p, pages * PAGE, MADV_NOHUGEPAGE);
	for (int i = -w; i < n; i++) {
		char *q = p + (size_t)(i + w) * PAGE;
		uint64_t t0 = tsc();
		((volatile char *)q)[0] = 5;
		uint64_t t1 = tsc();
		if (i >= 0)
			s[i] = t1 - t0;
	}
	munmap(p, pages * PAGE);
}

static void b_fork_exit_wait(uint64_t *s, int n, int w)
{
	for (int i = -w; i < n; i++) {
		uint64_t t0 = tsc();
		pid_t pid = fork();
		if (pid == 0)
			_exit(0);
		if (pid < 0)
			die("fork");
		waitpid(pid, NULL, 0);
		uint64_t t1 = tsc();
		if (i >= 0)
			s[i] = t1 - t0;
	}
}

static uint64_t start_tsc;

static void b_boot_to_init(uint64_t *s, int n, int w)
{
	(void)w;
	for (int i = 0; i < n; i++)
		s[i] = start_tsc;
}

/* ---- the table ------------------------------------------------------- */

typedef void (*bench_fn)(uint64_t *, int, int);

/* Linux implementations by id; ids of benchmarks.def without one here
 * (an empty "linux" field there) are not run. */
static const struct {
	const char *id;
	bench_fn fn;
} impls[] = {
    {"null_syscall", b_null_syscall},
    {"xas_call", b_xas_call},
    {"xas_pipe", b_xas_pipe},
    {"forkjoin_user", b_forkjoin_user},
    {"forkjoin_clone", b_forkjoin_clone},
    {"pingpong_user", b_pingpong_user},
    {"pingpong_futex", b_pingpong_futex},
    {"vm_dirty", b_vm_dirty},
    {"vm_trap", b_vm_trap},
    {"vm_fault", b_vm_fault},
    {"vm_prot1", b_vm_prot1},
    {"vm_unprot1", b_vm_unprot1},
    {"vm_prot100", b_vm_prot100},
    {"vm_unprot100", b_vm_unprot100},
    {"vm_appel1", b_vm_appel1},
    {"vm_appel2", b_vm_appel2},
    {"vm_anon_fault", b_vm_anon_fault},
    {"fork_exit_wait", b_fork_exit_wait},
    {"boot_to_init", b_boot_to_init},
};

static const struct def {
	const char *id;
	const char *unit;
	int samples;
	const char *linux_impl;
} defs[] = {
#define BENCH_DEF(id, unit, samples, table, op, us, linux, what) {#id, unit, samples, linux},
#include "../benchmarks.def"
#undef BENCH_DEF
};

static bench_fn find_impl(const char *id)
{
	for (size_t i = 0; i < sizeof impls / sizeof impls[0]; i++)
		if (!strcmp(impls[i].id, id))
			return impls[i].fn;
	return NULL;
}

static int selected(const char *id, int argc, char **argv, int first)
{
	if (first >= argc)
		return 1;
	for (int i = first; i < argc; i++)
		if (!strcmp(argv[i], id))
			return 1;
	return 0;
}

/* Process setup every benchmark relies on: the SIGSEGV handler and the
 * dirtied VM region. */
static void setup_process(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = segv_handler;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSEGV, &sa, NULL))
		die("sigaction");
	vm =
	    mmap(NULL, VM_PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (vm == MAP_FAILED)
		die("mmap");
	madvise(vm, VM_PAGES * PAGE, MADV_NOHUGEPAGE);
	vm_touch(vm, VM_PAGES);
}

/* Child mode (lbench -c ID N FD): run N samples of one benchmark in this
 * fresh process and write the raw samples to FD. */
static int child_main(const char *id, int n, int fd)
{
	bench_fn fn = find_impl(id);
	if (!fn)
		return 2;
	setup_process();
	fn(samples, n, n / 10 < 2 ? 2 : n / 10);
	size_t len = (size_t)n * sizeof *samples;
	for (char *p = (char *)samples; len > 0;) {
		ssize_t r = write(fd, p, len);
		if (r <= 0)
			die("write samples");
		p += r;
		len -= (size_t)r;
	}
	return 0;
}

/* Runs n samples split over LAYOUTS fresh processes (fork + exec of this
 * program, so each has its own randomised address-space layout) and
 * collects them in samples[0..n).  Linux's mprotect and fault paths cost
 * up to ~20% more or less depending on where the kernel placed the
 * mappings; pooling several layouts keeps one lucky or unlucky layout from
 * deciding the figure.  Returns the number of samples collected. */
#define LAYOUTS 5
static int run_in_layouts(const char *id, int n, const char *self)
{
	int per = (n + LAYOUTS - 1) / LAYOUTS, got = 0;
	for (int l = 0; l < LAYOUTS; l++) {
		int fds[2];
		if (pipe(fds))
			die("pipe");
		pid_t pid = fork();
		if (pid < 0)
			die("fork");
		if (pid == 0) {
			char nbuf[16], fdbuf[16];
			close(fds[0]);
			snprintf(nbuf, sizeof nbuf, "%d", per);
			snprintf(fdbuf, sizeof fdbuf, "%d", fds[1]);
			execl(self, self, "-c", id, nbuf, fdbuf, (char *)NULL);
			die("exec");
		}
		close(fds[1]);
		size_t want = (size_t)per * sizeof *samples, have = 0;
		char *dst = (char *)(samples + got);
		while (have < want) {
			ssize_t r = read(fds[0], dst + have, want - have);
			if (r <= 0)
				break;
			have += (size_t)r;
		}
		close(fds[0]);
		int status;
		waitpid(pid, &status, 0);
		if (have != want || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			errno = EIO;
			die(id);
		}
		got += per;
	}
	return got;
}

int main(int argc, char **argv)
{
	start_tsc = tsc();
	int first = 1, lines = 0;
	const int maxn = 1000;
	samples = calloc(maxn + LAYOUTS, sizeof *samples);

	if (argc == 3 && !strcmp(argv[1], "-x")) {
		if (ioperm(0xf4, 4, 1))
			die("ioperm");
		outb((unsigned char)atoi(argv[2]), 0xf4);
		return 1; /* only reached without an isa-debug-exit device */
	}
	if (argc == 5 && !strcmp(argv[1], "-c"))
		return child_main(argv[2], atoi(argv[3]), atoi(argv[4]));
	if (argc >= 3 && !strcmp(argv[1], "-n")) {
		nsamples_override = atoi(argv[2]);
		first = 3;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	const char *self = access("/proc/self/exe", X_OK) == 0 ? "/proc/self/exe" : argv[0];

	struct utsname u;
	if (!uname(&u))
		printf("BENCHINFO kernel %s %s %s\n", u.sysname, u.release, u.version);
	printf("BENCHINFO cpus %ld\n", sysconf(_SC_NPROCESSORS_ONLN));
	printf("BENCHINFO layouts %d\n", LAYOUTS);

	/* The timestamp pair's own cost, subtracted from every other figure. */
	b_tsc_pair(samples, 101, 10);
	qsort(samples, 101, sizeof *samples, cmp_u64);
	tsc_overhead = samples[50];
	printf("BENCHINFO tsc_pair %llu\n", (unsigned long long)tsc_overhead);

	for (size_t d = 0; d < sizeof defs / sizeof defs[0]; d++) {
		bench_fn fn = find_impl(defs[d].id);
		if (!fn || !defs[d].linux_impl[0] || !selected(defs[d].id, argc, argv, first))
			continue;
		int n = nsamples_override > 0 ? nsamples_override : defs[d].samples;
		if (n > maxn)
			n = maxn;
		if (!strcmp(defs[d].id, "boot_to_init")) {
			n = 1;
			fn(samples, n, 0);
		} else {
			n = run_in_layouts(defs[d].id, n, self);
		}
		bench_stats(defs[d].id, samples, n,
		            strcmp(defs[d].unit, "insns") ? 0 : tsc_overhead);
		lines++;
	}
	printf("BENCHEND %d\n", lines);
	return 0;
}
