/* sigtest: Linux signals with user handlers, through musl as a program
 * uses them: sigaction (musl adds SA_RESTORER and its __restore_rt),
 * raise, kill of oneself, the handler's arguments (signal, siginfo,
 * ucontext), registers and an SSE value intact after rt_sigreturn,
 * sigprocmask blocking then unblocking, SA_RESETHAND, SA_NODEFER, a pipe
 * read interrupted by a child's kill (-EINTR, or restarted with
 * SA_RESTART), wait4 and nanosleep interrupted, SIGCHLD, sigaltstack,
 * abort(), a SIGSEGV handler recovering with siglongjmp, SIGILL, and
 * hostile rt_sigreturn frames (the child dies of SIGSEGV, or returns with
 * its rflags sanitised; the parent goes on).  Ends "sigtest: N passed,
 * M failed" and exits 0 only if nothing failed. */
#define _GNU_SOURCE /* REG_RSP */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHECK_PROG "sigtest"
#include "check.h"

static volatile int hits, last_sig, last_code, last_pid, last_status, depth, max_depth;
static volatile uintptr_t last_addr;
static volatile int ctx_ok;

static void on_info(int sig, siginfo_t *si, void *uc)
{
	ucontext_t *u = uc;

	hits++;
	last_sig = sig;
	last_code = si->si_code;
	last_pid = si->si_pid;
	last_status = si->si_status;
	last_addr = (uintptr_t)si->si_addr;
	/* The ucontext is ours: the saved rsp lies above the frame. */
	ctx_ok = u && (uintptr_t)u->uc_mcontext.gregs[REG_RSP] > (uintptr_t)uc;
}

static void catch (int sig, void (*fn)(int, siginfo_t *, void *), int flags)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = fn;
	sa.sa_flags = SA_SIGINFO | flags;
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

static void test_basic(void)
{
	catch (SIGUSR1, on_info, 0);
	hits = 0;
	expect("raise returns 0", raise(SIGUSR1), 0);
	expect("raise: handler ran before raise returned", hits, 1);
	expect("raise: signal number", last_sig, SIGUSR1);
	expect("raise: ucontext", ctx_ok, 1);
	expect("kill(getpid()) returns 0", kill(getpid(), SIGUSR1), 0);
	expect("kill self: handler ran before kill returned", hits, 2);
	expect("kill self: si_code SI_USER", last_code, SI_USER);
	expect("kill self: si_pid", last_pid, getpid());
}

/* A handler in assembly that clobbers every callee-saved register and
 * xmm0/xmm15, counts itself and checks the stack alignment at entry
 * (rsp + 8 must be 16-aligned, as after a call); rt_sigreturn must give
 * the interrupted code its registers back. */
volatile long asm_hits, asm_aligned;
void clobber_handler(int);
__asm__(".text\n"
        ".globl clobber_handler\n"
        "clobber_handler:\n"
        "  incq asm_hits(%rip)\n"
        "  lea 8(%rsp), %rax\n"
        "  test $15, %rax\n"
        "  jnz 1f\n"
        "  incq asm_aligned(%rip)\n"
        "1:\n"
        "  mov $-1, %rbx\n"
        "  mov $-1, %rbp\n"
        "  mov $-1, %r12\n"
        "  mov $-1, %r13\n"
        "  mov $-1, %r14\n"
        "  mov $-1, %r15\n"
        "  pcmpeqd %xmm0, %xmm0\n"
        "  pcmpeqd %xmm15, %xmm15\n"
        "  ret\n");

static void test_registers(void)
{
	struct sigaction sa;
	uint64_t out[10];
	double d = 2.718281828;
	long pid = getpid();

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = clobber_handler;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR2, &sa, NULL);
	/* out in r9 (kept by the call and, if sigreturn works, by the
	 * handler's clobbering); rbp is saved in out[9] and put back. */
	register uint64_t *o __asm__("r9") = out;

	__asm__ volatile("mov %%rbp, 72(%%r9)\n"
	                 "mov $0x1111, %%rbx\n"
	                 "mov $0x2222, %%rbp\n"
	                 "mov $0x3333, %%r12\n"
	                 "mov $0x4444, %%r13\n"
	                 "mov $0x5555, %%r14\n"
	                 "mov $0x6666, %%r15\n"
	                 "movq %[d], %%xmm0\n"
	                 "movq %[d], %%xmm15\n"
	                 "mov $62, %%eax\n" /* kill(pid, SIGUSR2) */
	                 "mov $12, %%esi\n"
	                 "syscall\n"
	                 "mov %%rax, 0(%%r9)\n"
	                 "mov %%rbx, 8(%%r9)\n"
	                 "mov %%rbp, 16(%%r9)\n"
	                 "mov %%r12, 24(%%r9)\n"
	                 "mov %%r13, 32(%%r9)\n"
	                 "mov %%r14, 40(%%r9)\n"
	                 "mov %%r15, 48(%%r9)\n"
	                 "movq %%xmm0, 56(%%r9)\n"
	                 "movq %%xmm15, 64(%%r9)\n"
	                 "mov 72(%%r9), %%rbp\n"
	                 : "+r"(o)
	                 : "D"(pid), [d] "m"(d)
	                 : "rax", "rbx", "rcx", "rdx", "rsi", "r8", "r10", "r11", "r12", "r13",
	                   "r14", "r15", "xmm0", "xmm15", "memory");
	expect("asm handler ran", asm_hits, 1);
	expect("handler entered with rsp+8 16-aligned", asm_aligned, 1);
	expect("kill's result after sigreturn", (long)out[0], 0);
	expect("rbx intact", (long)out[1], 0x1111);
	expect("rbp intact", (long)out[2], 0x2222);
	expect("r12 intact", (long)out[3], 0x3333);
	expect("r13 intact", (long)out[4], 0x4444);
	expect("r14 intact", (long)out[5], 0x5555);
	expect("r15 intact", (long)out[6], 0x6666);
	expect("xmm0 intact", memcmp(&out[7], &d, 8), 0);
	expect("xmm15 intact", memcmp(&out[8], &d, 8), 0);
}

static void test_mask(void)
{
	sigset_t set, old;

	catch (SIGUSR1, on_info, 0);
	hits = 0;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, &old);
	kill(getpid(), SIGUSR1);
	expect("blocked: handler not run", hits, 0);
	sigprocmask(SIG_SETMASK, &old, NULL);
	expect("unblocked: handler ran before sigprocmask returned", hits, 1);
	/* The mask inside a handler: the signal itself is blocked. */
	sigprocmask(SIG_SETMASK, NULL, &old);
	expect("mask restored after the handler", sigismember(&old, SIGUSR1), 0);
}

static void on_nested(int sig, siginfo_t *si, void *uc)
{
	(void)si, (void)uc;
	hits++;
	depth++;
	if (depth > max_depth)
		max_depth = depth;
	if (hits == 1)
		raise(sig); /* NODEFER: runs now, nested; else after this returns */
	depth--;
}

static void test_nodefer(void)
{
	catch (SIGUSR1, on_nested, 0);
	hits = depth = max_depth = 0;
	raise(SIGUSR1);
	expect("deferred: both ran", hits, 2);
	expect("deferred: never nested", max_depth, 1);
	catch (SIGUSR1, on_nested, SA_NODEFER);
	hits = depth = max_depth = 0;
	raise(SIGUSR1);
	expect("SA_NODEFER: both ran", hits, 2);
	expect("SA_NODEFER: nested", max_depth, 2);
}

static int wait_child(pid_t pid)
{
	int st = -1;

	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return st;
}

static void test_resethand(void)
{
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		hits = 0;
		catch (SIGUSR1, on_info, SA_RESETHAND);
		raise(SIGUSR1);
		if (hits != 1)
			_exit(1);
		raise(SIGUSR1); /* default action now: killed */
		_exit(2);
	}
	st = wait_child(pid);
	expect("SA_RESETHAND: second raise kills", WIFSIGNALED(st) ? WTERMSIG(st) : -st, SIGUSR1);
}

static void msleep(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};

	nanosleep(&ts, NULL);
}

/* A child that kills the parent with sig after ms, then (if byte) writes
 * a byte to fd. */
static pid_t killer(int sig, long ms, int fd)
{
	pid_t pid = fork();

	if (pid == 0) {
		msleep(ms);
		kill(getppid(), sig);
		if (fd >= 0) {
			msleep(ms);
			(void)!write(fd, "k", 1);
		}
		_exit(0);
	}
	return pid;
}

static void test_interrupt(void)
{
	int p[2];
	char c;
	long r;
	pid_t k;
	struct timespec req = {5, 0}, rem = {0, 0};

	/* A blocked pipe read, no SA_RESTART: -EINTR, the handler ran. */
	catch (SIGUSR1, on_info, 0);
	hits = 0;
	pipe(p);
	k = killer(SIGUSR1, 100, -1);
	r = read(p[0], &c, 1);
	expect("pipe read interrupted: -1", r, -1);
	expect("pipe read interrupted: EINTR", errno, EINTR);
	expect("pipe read interrupted: handler ran", hits, 1);
	expect("pipe read interrupted: sender's pid", last_pid, k);
	wait_child(k);
	/* With SA_RESTART the read goes on and gets the killer's byte. */
	catch (SIGUSR1, on_info, SA_RESTART);
	hits = 0;
	k = killer(SIGUSR1, 100, p[1]);
	r = read(p[0], &c, 1);
	expect("SA_RESTART: read restarted and got the byte", r, 1);
	expect("SA_RESTART: handler ran", hits, 1);
	wait_child(k);
	close(p[0]);
	close(p[1]);
	/* nanosleep: -EINTR with the time left. */
	catch (SIGUSR1, on_info, 0);
	hits = 0;
	k = killer(SIGUSR1, 100, -1);
	r = nanosleep(&req, &rem);
	expect("nanosleep interrupted: EINTR", r == -1 && errno == EINTR, 1);
	expect("nanosleep interrupted: time left", rem.tv_sec >= 3, 1);
	expect("nanosleep interrupted: handler ran", hits, 1);
	wait_child(k);
	/* wait4 for a child that does not end: -EINTR (no SA_RESTART). */
	{
		pid_t slow = fork();
		int st;

		if (slow == 0) {
			msleep(300);
			_exit(7);
		}
		hits = 0;
		k = killer(SIGUSR1, 100, -1);
		r = waitpid(slow, &st, 0);
		expect("wait4 interrupted: EINTR", r == -1 && errno == EINTR, 1);
		expect("wait4 interrupted: handler ran", hits >= 1, 1);
		wait_child(k);
		st = wait_child(slow);
		expect("slow child's status", WIFEXITED(st) ? WEXITSTATUS(st) : -1, 7);
	}
}

static void test_sigchld(void)
{
	pid_t pid;
	int st;

	catch (SIGCHLD, on_info, SA_RESTART);
	hits = 0;
	pid = fork();
	if (pid == 0)
		_exit(3);
	st = wait_child(pid);
	expect("child's status", WEXITSTATUS(st), 3);
	expect("SIGCHLD handled", hits, 1);
	expect("SIGCHLD: signal", last_sig, SIGCHLD);
	expect("SIGCHLD: CLD_EXITED", last_code, CLD_EXITED);
	expect("SIGCHLD: si_pid", last_pid, pid);
	expect("SIGCHLD: si_status", last_status, 3);
	signal(SIGCHLD, SIG_DFL);
}

static char altstack[16384] __attribute__((aligned(16)));
static volatile int on_alt, alt_flags;

static void on_alt_handler(int sig, siginfo_t *si, void *uc)
{
	stack_t cur;
	char here;

	(void)sig, (void)si, (void)uc;
	on_alt = &here >= altstack && &here < altstack + sizeof(altstack);
	sigaltstack(NULL, &cur);
	alt_flags = cur.ss_flags;
}

static void test_altstack(void)
{
	stack_t ss, old;

	memset(&ss, 0, sizeof(ss));
	ss.ss_sp = altstack;
	ss.ss_size = 1024;
	expect("sigaltstack too small: ENOMEM", sigaltstack(&ss, NULL) == -1 && errno == ENOMEM, 1);
	ss.ss_flags = 0x1234;
	ss.ss_size = sizeof(altstack);
	expect("sigaltstack bad flags: EINVAL", sigaltstack(&ss, NULL) == -1 && errno == EINVAL, 1);
	ss.ss_flags = 0;
	expect("sigaltstack set", sigaltstack(&ss, &old), 0);
	expect("no stack before: SS_DISABLE", old.ss_flags, SS_DISABLE);
	catch (SIGUSR2, on_alt_handler, SA_ONSTACK);
	raise(SIGUSR2);
	expect("SA_ONSTACK: handler on the alternate stack", on_alt, 1);
	expect("SA_ONSTACK: sigaltstack says SS_ONSTACK", alt_flags, SS_ONSTACK);
	ss.ss_flags = SS_DISABLE;
	expect("sigaltstack disable", sigaltstack(&ss, NULL), 0);
	raise(SIGUSR2);
	expect("disabled: handler on the normal stack", on_alt, 0);
	signal(SIGUSR2, SIG_DFL);
}

static sigjmp_buf jb;
/* Addresses the compiler cannot see through. */
static volatile int *volatile page0_16 = (volatile int *)16, *volatile page0_8 = (volatile int *)8;

static void on_fault(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	last_sig = sig;
	last_code = si->si_code;
	last_addr = (uintptr_t)si->si_addr;
	siglongjmp(jb, 1);
}

static volatile int not_reached;

static void test_faults(void)
{
	catch (SIGSEGV, on_fault, 0);
	last_sig = 0;
	if (sigsetjmp(jb, 1) == 0) {
		*page0_16 = 1;
		not_reached = 1; /* volatile: stays after the faulting store */
	}
	expect("the write to page 0 did not complete", not_reached, 0);
	expect("SIGSEGV handler ran", last_sig, SIGSEGV);
	expect("SIGSEGV: SEGV_MAPERR", last_code, SEGV_MAPERR);
	expect("SIGSEGV: si_addr", (long)last_addr, 16);
	/* Again: siglongjmp restored the mask, so the handler runs again. */
	last_sig = 0;
	if (sigsetjmp(jb, 1) == 0)
		*(volatile int *)0x400000 = 1; /* the image's text: read-only */
	expect("second SIGSEGV handled", last_sig, SIGSEGV);
	expect("SIGSEGV: SEGV_ACCERR", last_code, SEGV_ACCERR);
	catch (SIGILL, on_fault, 0);
	last_sig = 0;
	if (sigsetjmp(jb, 1) == 0)
		__asm__ volatile("ud2");
	expect("SIGILL handler ran", last_sig, SIGILL);
	signal(SIGSEGV, SIG_DFL);
	signal(SIGILL, SIG_DFL);
	/* A fault whose signal is blocked kills, handler or not (Linux). */
	{
		pid_t pid = fork();
		int st;

		if (pid == 0) {
			sigset_t set;

			catch (SIGSEGV, on_fault, 0);
			sigemptyset(&set);
			sigaddset(&set, SIGSEGV);
			sigprocmask(SIG_BLOCK, &set, NULL);
			*page0_8 = 1;
			_exit(9);
		}
		st = wait_child(pid);
		expect("blocked SIGSEGV fault kills", WIFSIGNALED(st) ? WTERMSIG(st) : -st,
		       SIGSEGV);
	}
}

/* A SIGSEGV handler that repairs the fault (the page made writable) and
 * returns: the faulting store runs again and the code around it finds
 * every register as it left it - rcx and r11 too, which a return through
 * sysret would replace with rip and rflags - and its flags (CF PF AF ZF SF
 * DF OF), though the handler ran with DF clear and called mprotect.
 * regs_probe(page) sets all fifteen registers to known values, stores to
 * page, then records them in probe_out[] (rsp last) and rflags. */
#define PROBE(n) (0x5a5a5a5a00000000ull | (n))
uint64_t probe_out[16], probe_flags, probe_rsp;
void *volatile probe_page;
static volatile int fix_hits, fix_ctx_ok;
void regs_probe(void *page);
extern char regs_probe_store[];
__asm__(".text\n"
        ".globl regs_probe\n"
        "regs_probe:\n"
        "  push %rbx; push %rbp; push %r12; push %r13; push %r14; push %r15\n"
        "  mov %rsp, probe_rsp(%rip)\n"
        "  pushq $0xcd7\n" /* CF PF AF ZF SF DF OF */
        "  popfq\n"
        "  movabs $0x5a5a5a5a00000000, %rax\n"
        "  movabs $0x5a5a5a5a00000001, %rbx\n"
        "  movabs $0x5a5a5a5a00000002, %rcx\n"
        "  movabs $0x5a5a5a5a00000003, %rdx\n"
        "  movabs $0x5a5a5a5a00000004, %rsi\n"
        "  movabs $0x5a5a5a5a00000005, %rbp\n"
        "  movabs $0x5a5a5a5a00000008, %r8\n"
        "  movabs $0x5a5a5a5a00000009, %r9\n"
        "  movabs $0x5a5a5a5a0000000a, %r10\n"
        "  movabs $0x5a5a5a5a0000000b, %r11\n"
        "  movabs $0x5a5a5a5a0000000c, %r12\n"
        "  movabs $0x5a5a5a5a0000000d, %r13\n"
        "  movabs $0x5a5a5a5a0000000e, %r14\n"
        "  movabs $0x5a5a5a5a0000000f, %r15\n"
        ".globl regs_probe_store\n"
        "regs_probe_store:\n"
        "  mov %rax, (%rdi)\n" /* faults: the page is read-only */
        "  mov %rax, probe_out+0(%rip)\n"
        "  mov %rbx, probe_out+8(%rip)\n"
        "  mov %rcx, probe_out+16(%rip)\n"
        "  mov %rdx, probe_out+24(%rip)\n"
        "  mov %rsi, probe_out+32(%rip)\n"
        "  mov %rbp, probe_out+40(%rip)\n"
        "  mov %rdi, probe_out+48(%rip)\n"
        "  mov %r8, probe_out+64(%rip)\n"
        "  mov %r9, probe_out+72(%rip)\n"
        "  mov %r10, probe_out+80(%rip)\n"
        "  mov %r11, probe_out+88(%rip)\n"
        "  mov %r12, probe_out+96(%rip)\n"
        "  mov %r13, probe_out+104(%rip)\n"
        "  mov %r14, probe_out+112(%rip)\n"
        "  mov %r15, probe_out+120(%rip)\n"
        "  mov %rsp, probe_out+56(%rip)\n"
        "  pushfq\n"
        "  popq probe_flags(%rip)\n"
        "  cld\n"
        "  pop %r15; pop %r14; pop %r13; pop %r12; pop %rbp; pop %rbx\n"
        "  ret\n");

static void on_fault_fix(int sig, siginfo_t *si, void *uc)
{
	ucontext_t *u = uc;
	greg_t *g = u->uc_mcontext.gregs;

	(void)sig;
	fix_hits++;
	fix_ctx_ok = si->si_addr == probe_page && g[REG_RCX] == (greg_t)PROBE(2) &&
	             g[REG_R11] == (greg_t)PROBE(11) && g[REG_RIP] == (greg_t)regs_probe_store;
	if (fix_hits == 1)
		mprotect(probe_page, 4096, PROT_READ | PROT_WRITE);
}

static void test_fault_return(void)
{
	static const int idx[] = {0, 1, 2, 3, 4, 5, 8, 9, 10, 11, 12, 13, 14, 15};
	void *page = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int intact = 1;

	expect("fault return: page mapped", page != MAP_FAILED, 1);
	if (page == MAP_FAILED)
		return;
	probe_page = page;
	catch (SIGSEGV, on_fault_fix, 0);
	fix_hits = 0;
	regs_probe(page);
	signal(SIGSEGV, SIG_DFL);
	expect("fault return: the handler ran once", fix_hits, 1);
	expect("fault return: ucontext had rcx, r11, rip of the fault", fix_ctx_ok, 1);
	expect("fault return: the store completed", *(volatile uint64_t *)page == PROBE(0), 1);
	for (unsigned i = 0; i < sizeof(idx) / sizeof(idx[0]); i++)
		if (probe_out[idx[i]] != PROBE((uint64_t)idx[i])) {
			printf("sigtest: register slot %d: %#lx\n", idx[i],
			       (unsigned long)probe_out[idx[i]]);
			intact = 0;
		}
	expect("fault return: every general register intact", intact, 1);
	expect("fault return: rcx intact", (long)probe_out[2], (long)PROBE(2));
	expect("fault return: r11 intact", (long)probe_out[11], (long)PROBE(11));
	expect("fault return: rdi (the page) intact", probe_out[6] == (uint64_t)page, 1);
	expect("fault return: rsp intact", probe_out[7] == probe_rsp, 1);
	expect("fault return: flags intact (CF PF AF ZF SF DF OF)", (long)(probe_flags & 0xcd5),
	       0xcd5);
	munmap(page, 4096);
}

static long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static volatile int mask_in_handler_usr2;

static void on_mask(int sig, siginfo_t *si, void *uc)
{
	sigset_t cur;

	(void)si, (void)uc;
	hits++;
	last_sig = sig;
	sigprocmask(SIG_SETMASK, NULL, &cur);
	mask_in_handler_usr2 = sigismember(&cur, SIGUSR2);
}

/* rt_sigpending, rt_sigtimedwait (musl's sigtimedwait, sigwaitinfo),
 * rt_sigsuspend, and their refusals through raw system calls. */
static void test_wait_calls(void)
{
	sigset_t usr1, none, pend, old, cur;
	siginfo_t si;
	struct timespec zero = {0, 0}, t50 = {0, 50000000}, t5 = {5, 0};
	long t0, r;
	pid_t k;

	sigemptyset(&none);
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	catch (SIGUSR1, on_info, 0);
	hits = 0;
	sigprocmask(SIG_BLOCK, &usr1, &old);
	/* sigpending: the blocked pending signals. */
	expect("sigpending: none", sigpending(&pend) == 0 && !sigismember(&pend, SIGUSR1), 1);
	raise(SIGUSR1);
	expect("sigpending: the blocked one", sigpending(&pend) == 0 && sigismember(&pend, SIGUSR1),
	       1);
	expect("blocked: handler not run", hits, 0);
	/* sigtimedwait takes it; its handler never runs. */
	memset(&si, 0, sizeof(si));
	expect("sigtimedwait: takes the pending signal", sigtimedwait(&usr1, &si, &zero), SIGUSR1);
	expect("sigtimedwait: si_signo", si.si_signo, SIGUSR1);
	expect("sigtimedwait: si_code SI_USER", si.si_code, SI_USER);
	expect("sigtimedwait: si_pid", si.si_pid, getpid());
	expect("sigtimedwait: no handler ran", hits, 0);
	expect("sigtimedwait: no longer pending",
	       sigpending(&pend) == 0 && !sigismember(&pend, SIGUSR1), 1);
	/* A poll with nothing pending, and a timeout that elapses. */
	expect("sigtimedwait poll: EAGAIN",
	       sigtimedwait(&usr1, &si, &zero) == -1 && errno == EAGAIN, 1);
	t0 = now_ms();
	r = sigtimedwait(&usr1, &si, &t50);
	expect("sigtimedwait 50 ms: EAGAIN", r == -1 && errno == EAGAIN, 1);
	r = now_ms() - t0;
	expect("sigtimedwait 50 ms: waited 40..2000 ms", r >= 40 && r < 2000, 1);
	/* Woken by another process's kill: without a timeout, and with one. */
	k = killer(SIGUSR1, 100, -1);
	memset(&si, 0, sizeof(si));
	expect("sigwaitinfo: woken by a kill", sigwaitinfo(&usr1, &si), SIGUSR1);
	expect("sigwaitinfo: the sender's pid", si.si_pid, k);
	wait_child(k);
	k = killer(SIGUSR1, 100, -1);
	t0 = now_ms();
	expect("sigtimedwait 5 s: woken by a kill", sigtimedwait(&usr1, &si, &t5), SIGUSR1);
	expect("sigtimedwait 5 s: well before the timeout", now_ms() - t0 < 4000, 1);
	wait_child(k);
	expect("waited signals: no handler ran", hits, 0);
	/* A blocked signal of the set is taken even when ignored. */
	{
		sigset_t usr2;

		sigemptyset(&usr2);
		sigaddset(&usr2, SIGUSR2);
		signal(SIGUSR2, SIG_IGN);
		sigprocmask(SIG_BLOCK, &usr2, NULL);
		k = killer(SIGUSR2, 100, -1);
		expect("sigwaitinfo: a blocked ignored signal is taken", sigwaitinfo(&usr2, NULL),
		       SIGUSR2);
		wait_child(k);
		sigprocmask(SIG_UNBLOCK, &usr2, NULL);
		signal(SIGUSR2, SIG_DFL);
	}
	/* A caught signal outside the set ends the wait with EINTR and runs
	 * (musl's sigtimedwait retries on EINTR: the raw call). */
	catch (SIGUSR2, on_info, 0);
	k = killer(SIGUSR2, 100, -1);
	r = syscall(SYS_rt_sigtimedwait, &usr1, &si, NULL, 8);
	expect("rt_sigtimedwait: a handler's signal: EINTR", r == -1 && errno == EINTR, 1);
	expect("rt_sigtimedwait: that handler ran", hits == 1 && last_sig == SIGUSR2, 1);
	wait_child(k);
	/* sigsuspend: the call's mask until a handler ran, then the old one;
	 * the handler runs with the call's mask (SIGUSR2 blocked here). */
	catch (SIGUSR1, on_mask, 0);
	hits = 0;
	{
		sigset_t only2;

		sigemptyset(&only2);
		sigaddset(&only2, SIGUSR2);
		k = killer(SIGUSR1, 100, -1);
		r = sigsuspend(&only2);
		expect("sigsuspend: EINTR", r == -1 && errno == EINTR, 1);
		expect("sigsuspend: the handler ran", hits == 1 && last_sig == SIGUSR1, 1);
		expect("sigsuspend: handler ran under the call's mask", mask_in_handler_usr2, 1);
		sigprocmask(SIG_SETMASK, NULL, &cur);
		expect("sigsuspend: old mask back (SIGUSR1 blocked)", sigismember(&cur, SIGUSR1),
		       1);
		expect("sigsuspend: old mask back (SIGUSR2 not)", sigismember(&cur, SIGUSR2), 0);
		wait_child(k);
		/* Already pending: returns at once. */
		raise(SIGUSR1);
		expect("sigsuspend, pending: EINTR", sigsuspend(&none) == -1 && errno == EINTR, 1);
		expect("sigsuspend, pending: the handler ran", hits, 2);
	}
	/* Refusals: sigsetsize, wild pointers, a bad timeout. */
	{
		const long kptr = (long)0xffff800000001000ull;
		struct timespec bad = {0, 1000000000};

		errno = 0;
		expect("rt_sigpending size 16: EINVAL",
		       syscall(SYS_rt_sigpending, &pend, 16) == -1 && errno == EINVAL, 1);
		expect("rt_sigpending kernel pointer: EFAULT",
		       syscall(SYS_rt_sigpending, kptr, 8) == -1 && errno == EFAULT, 1);
		expect("rt_sigsuspend size 4: EINVAL",
		       syscall(SYS_rt_sigsuspend, &none, 4) == -1 && errno == EINVAL, 1);
		expect("rt_sigsuspend kernel pointer: EFAULT",
		       syscall(SYS_rt_sigsuspend, kptr, 8) == -1 && errno == EFAULT, 1);
		expect("rt_sigtimedwait size 4: EINVAL",
		       syscall(SYS_rt_sigtimedwait, &usr1, NULL, &zero, 4) == -1 && errno == EINVAL,
		       1);
		expect("rt_sigtimedwait wild set: EFAULT",
		       syscall(SYS_rt_sigtimedwait, kptr, NULL, &zero, 8) == -1 && errno == EFAULT,
		       1);
		expect("rt_sigtimedwait wild siginfo: EFAULT",
		       syscall(SYS_rt_sigtimedwait, &usr1, kptr, &zero, 8) == -1 && errno == EFAULT,
		       1);
		expect("rt_sigtimedwait wild timeout: EFAULT",
		       syscall(SYS_rt_sigtimedwait, &usr1, NULL, kptr, 8) == -1 && errno == EFAULT,
		       1);
		expect("rt_sigtimedwait tv_nsec 1e9: EINVAL",
		       syscall(SYS_rt_sigtimedwait, &usr1, NULL, &bad, 8) == -1 && errno == EINVAL,
		       1);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	signal(SIGUSR1, SIG_DFL);
	signal(SIGUSR2, SIG_DFL);
}

/* A process spinning in user mode, making no system call, gets a kill's
 * signal when an interrupt (the timer's) returns to it.  The child tells
 * the parent through a pipe that it is about to spin - its last system
 * call - and spins for at most SPIN_CYCLES of the time-stamp counter (no
 * kernel entry either; several seconds), then exits 99: a signal that
 * never reaches a spinning process fails the check instead of hanging the
 * suite.  (The exit's own system call would let a kill act then: so the
 * child must also end within SPIN_MAX_MS of the kill.) */
#define SPIN_CYCLES 20000000000ull
#define SPIN_MAX_MS 2000
static volatile int spin_flag;
static long spin_ms; /* from the kill to the child's end */

static uint64_t tsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

static void on_spin(int sig)
{
	(void)sig;
	spin_flag = 1;
}

/* Fork a child that (with a SIGUSR1 handler if catch_it) spins; kill it
 * with sig once it spins; its wait status. */
static int spin_and_kill(int sig, int catch_it)
{
	int p[2], st;
	char c;
	pid_t pid;

	if (pipe(p))
		return -1;
	pid = fork();
	if (pid == 0) {
		uint64_t t0;

		if (catch_it)
			signal(SIGUSR1, on_spin);
		spin_flag = 0;
		t0 = tsc();
		(void)!write(p[1], "s", 1); /* the last system call before the loop */
		while (!spin_flag && tsc() - t0 < SPIN_CYCLES)
			;
		_exit(spin_flag ? 5 : 99);
	}
	(void)!read(p[0], &c, 1);
	msleep(50); /* it is in its loop now */
	spin_ms = now_ms();
	kill(pid, sig);
	st = wait_child(pid);
	spin_ms = now_ms() - spin_ms;
	close(p[0]);
	close(p[1]);
	return st;
}

static void test_spinning(void)
{
	int st;

	st = spin_and_kill(SIGTERM, 0);
	expect("spinning child: SIGTERM kills it", WIFSIGNALED(st) ? WTERMSIG(st) : -st, SIGTERM);
	expect("spinning child: SIGTERM acts while it spins", spin_ms < SPIN_MAX_MS, 1);
	st = spin_and_kill(SIGKILL, 0);
	expect("spinning child: SIGKILL kills it", WIFSIGNALED(st) ? WTERMSIG(st) : -st, SIGKILL);
	expect("spinning child: SIGKILL acts while it spins", spin_ms < SPIN_MAX_MS, 1);
	st = spin_and_kill(SIGUSR1, 1);
	expect("spinning child: its SIGUSR1 handler ran and it left its loop",
	       WIFEXITED(st) ? WEXITSTATUS(st) : -st, 5);
	expect("spinning child: the handler ran while it spins", spin_ms < SPIN_MAX_MS, 1);
}

static void test_abort(void)
{
	pid_t pid = fork();
	int st;

	if (pid == 0)
		abort();
	st = wait_child(pid);
	expect("abort: killed by SIGABRT", WIFSIGNALED(st) ? WTERMSIG(st) : -st, SIGABRT);
}

/* rt_sigreturn with rsp at frame + 8, from a child.  The frame words at
 * uc_mcontext: gregs[REG_RIP] = 16, REG_EFL = 17, REG_RSP = 15. */
static __attribute__((noreturn)) void sigreturn_at(void *sp)
{
	__asm__ volatile("mov %0, %%rsp\n"
	                 "mov $15, %%eax\n"
	                 "syscall\n"
	                 "ud2\n"
	                 :
	                 : "r"(sp)
	                 : "memory");
	__builtin_unreachable();
}

static volatile uint64_t landed_flags;
static char landing_stack[8192] __attribute__((aligned(16)));

void landed(void)
{
	uint64_t fl;

	__asm__ volatile("pushfq; pop %0" : "=r"(fl));
	landed_flags = fl;
	/* IOPL (bits 12-13) and NT (14) must be 0, IF (9) set. */
	_exit((fl & 0x7000) == 0 && (fl & 0x200) ? 42 : 43);
}

static void test_hostile_sigreturn(void)
{
	static uint64_t frame[128];
	pid_t pid;
	int st;

	/* Garbage: rip 0x4141... is no user address. */
	pid = fork();
	if (pid == 0) {
		memset(frame, 0x41, sizeof(frame));
		sigreturn_at(&frame[64]);
	}
	st = wait_child(pid);
	expect("garbage frame: SIGSEGV", WIFSIGNALED(st) ? WTERMSIG(st) : -st, SIGSEGV);
	/* A frame pointer in the kernel half. */
	pid = fork();
	if (pid == 0)
		sigreturn_at((void *)0xffff800000001000ull);
	st = wait_child(pid);
	expect("kernel frame pointer: SIGSEGV", WIFSIGNALED(st) ? WTERMSIG(st) : -st, SIGSEGV);
	/* Unmapped. */
	pid = fork();
	if (pid == 0)
		sigreturn_at((void *)0x1000);
	st = wait_child(pid);
	expect("unmapped frame: SIGSEGV", WIFSIGNALED(st) ? WTERMSIG(st) : -st, SIGSEGV);
	/* A plausible frame with every rflags bit set but TF (below),
	 * garbage selectors, a garbage MXCSR: the process lands at rip with
	 * sane rflags. */
	pid = fork();
	if (pid == 0) {
		/* frame[0] = pretcode; ucontext at frame[1]: flags, link,
		 * stack (3 words), then gregs at frame[6]. */
		static uint8_t fx[512] __attribute__((aligned(64)));
		uint64_t *g = &frame[6];

		memset(frame, 0, sizeof(frame));
		memset(fx, 0xff, sizeof(fx));
		g[15] = (uint64_t)(landing_stack + sizeof(landing_stack) - 8); /* rsp */
		g[16] = (uint64_t)landed;                                      /* rip */
		g[17] = ~0ull & ~0x100ull;                                     /* eflags */
		g[18] = 0x0000000000080008ull; /* cs = kernel code, ss = 0 */
		g[23] = (uint64_t)fx;          /* fpstate: MXCSR all ones */
		sigreturn_at(&frame[1]);
	}
	st = wait_child(pid);
	expect("hostile rflags/cs/mxcsr: landed with sane rflags",
	       WIFEXITED(st) ? WEXITSTATUS(st) : -st, 42);
	/* TF from a frame is honoured, as on Linux: one instruction, then a
	 * debug trap - SIGTRAP, which kills without a handler. */
	pid = fork();
	if (pid == 0) {
		uint64_t *g = &frame[6];

		memset(frame, 0, sizeof(frame));
		g[15] = (uint64_t)(landing_stack + sizeof(landing_stack) - 8);
		g[16] = (uint64_t)landed;
		g[17] = 0x302; /* IF, TF */
		sigreturn_at(&frame[1]);
	}
	st = wait_child(pid);
	expect("TF in the frame: single-step SIGTRAP", WIFSIGNALED(st) ? WTERMSIG(st) : -st,
	       SIGTRAP);
}

int main(void)
{
	test_basic();
	test_registers();
	test_mask();
	test_nodefer();
	test_resethand();
	test_interrupt();
	test_sigchld();
	test_altstack();
	test_faults();
	test_fault_return();
	test_wait_calls();
	test_spinning();
	test_abort();
	test_hostile_sigreturn();
	printf("sigtest: %s: %d passed, %d failed\n", failed ? "FAILED" : "ok", passed, failed);
	return failed ? 1 : 0;
}
