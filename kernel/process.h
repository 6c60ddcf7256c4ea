/*
 * kernel/process.h: user processes - an address space (a Translation
 * context) plus a strand that runs a program in ring 3.
 *
 * A process is created from an executable of the root file system
 * (process_spawn): a new Translation context gets the program's PT_LOAD
 * segments (pages from PhysAddr, file bytes copied through the direct map),
 * a stack with argc/argv/envp/auxv (kernel/ustack.c), and the personality's
 * per-process state; then a strand is created whose package (SPIN's thread
 * package seam, Strand.Checkpoint / Strand.Resume) loads the context, the
 * kernel entry stack, the FS base and the FPU state whenever the strand is
 * put on the CPU, and saves the FPU state when it leaves.  The strand
 * enters ring 3 and comes back only through system calls, interrupts and
 * exceptions.
 *
 * System calls: the trap path raises MachineTrap.Syscall(process, saved
 * state) (interfaces/machinetrap.idl; SPIN's Trap.SystemCall with the
 * saved state) through the dispatcher.  There is no system-call table in
 * the core: handlers are installed with process_syscall_install (handler +
 * guard); the result of the handler that runs goes to rax; none: -ENOSYS.
 * Until the extension model is up (process_events_init), a boot-time table
 * plays the event: the first handler whose guard accepts runs.  The Linux personality
 * (kernel/linux/lx_module.c) is one such trusted handler, with a guard
 * selecting the processes it serves.
 *
 * fork, exec and waiting (kernel/process_fork.c): a child shares every
 * page copy-on-write (Translation copies a page at its first write), the
 * FPU state and the saved registers (rax = 0); exec builds
 * the new image on a new context and swaps it in only once nothing can
 * fail; an ended child is a zombie until its parent reaps it, and the
 * children of an ended process are orphans a reaper strand frees.
 *
 * Faults: an exception in ring 3 that nothing resolved kills the process:
 * a line names it, the address and the instruction; its strand ends, and
 * process_wait frees the context, its pages and the personality state.
 * Other processes and the kernel continue.
 *
 * Layout of a process's user half: the image where the ELF says (below
 * PROCESS_IMAGE_LIMIT), the brk heap right above it, anonymous mmaps in
 * [PROCESS_MMAP_MIN, stack - 1 MiB), the stack (PROCESS_STACK_SIZE) ending
 * at PROCESS_STACK_TOP.
 *
 * Who calls it: kmain (process_boot), tests, the personality.  Errors:
 * 0 or -ENOENT/-ENOEXEC/-EINVAL/-E2BIG (bad program or arguments),
 * -ENOMEM, -EAGAIN (no strand), -ENOSPC (handler table full).
 */
#ifndef KERNEL_PROCESS_H
#define KERNEL_PROCESS_H

#include <stdbool.h>
#include <stdint.h>

#include <arch/percpu.h>
#include <arch/trap.h>

#include "kernel/cap.h"
#include "kernel/rootfs.h"
#include "kernel/strand.h"

#define PROCESS_STACK_TOP    0x00007fffffffe000ull
#define PROCESS_STACK_SIZE   (256ull << 10)
#define PROCESS_MMAP_MIN     0x0000100000000000ull
#define PROCESS_IMAGE_LIMIT  (PROCESS_MMAP_MIN - (1ull << 32))
#define PROCESS_NAME_MAX     32
#define PROCESS_MAX_HANDLERS 4
#define PROCESS_PORTALS      8 /* portal handles per process (kernel/portal.c) */

#define PROCESS_EXE_MAX 256 /* longest program path kept (execve) */

struct translation_ctx;
struct process_handler;
struct portal;

enum process_state { PROCESS_RUNNING = 1, PROCESS_EXITED, PROCESS_KILLED };

struct process {
	int pid, ppid;
	uint64_t id; /* the pid as a 64-bit field: what imposed inline guards test */
	char name[PROCESS_NAME_MAX];
	struct translation_ctx *ctx;
	cap_t ctx_cap, vrange;
	strand_t strand;
	struct strand_package pkg; /* this process's "thread package" */
	uint64_t fs_base;
	uint8_t fpu[512] __attribute__((aligned(16)));
	int64_t (*after)(struct process *p, struct trap_frame *f, uint64_t nr); /* see below */
	uint64_t after_nr;             /* the number of the call that asked for it */
	uint64_t start_rip, start_rsp; /* where the program starts */
	volatile enum process_state state;
	int exit_code;     /* exit status, or 128 + vector when killed */
	void *personality; /* the serving personality's per-process state */
	const void *personality_id;
	const struct process_handler *handler; /* boot-time table: cached choice */
	uint32_t handler_gen;
	uint64_t brk_start;
	uint64_t image_lo, image_hi; /* page-rounded extent of the PT_LOADs */
	struct process *list_next;   /* every live process (process_with_pid) */
	/* Portals (kernel/portal.c, under its lock): the handle table (bit h of
	 * portal_owned: handle h names a portal this process serves), the call
	 * or return being performed, and what a waker hands over. */
	struct portal *portal_h[PROCESS_PORTALS];
	uint32_t portal_owned;
	bool portal_closed;        /* ended: no handle may be added */
	volatile bool portal_done; /* the call was answered (or failed) */
	uint32_t portal_op;
	uint64_t portal_a[3];
	uint64_t portal_result;
	int portal_status;
	struct strand *portal_self;      /* this process's strand while it waits */
	struct trap_frame *portal_frame; /* its system call's frame while it waits */
	/* Borrowing (kernel/portal.c): while this process's strand runs the
	 * server of the portal it called, the strand's proc_acting is that
	 * server (process_current() answers it; kernel/strand.h), itself
	 * while it runs its own code.  (The process whose strand runs the
	 * current one is process_owner().)  kstack_top: its own strand's
	 * kernel stack, where its system calls' frames are whichever strand
	 * runs it. */
	uint64_t kstack_top;
	struct portal *portal_in;    /* the portal whose server its strand runs */
	int portal_end_code;         /* a borrowed run ended the server: its status */
	int portal_end_state;        /* ... and PROCESS_EXITED or PROCESS_KILLED; 0: none */
	struct process *portal_next; /* a portal's queue of callers, wake lists */
	/* Parent and children (kernel/process_fork.c, under its tree lock).
	 * parent NULL: started by the kernel (process_spawn: its starter
	 * waits with process_wait) or orphaned (then orphan: the reaper
	 * frees it when it ends). */
	char exe[PROCESS_EXE_MAX]; /* the image's path (/proc/self/exe) */
	struct process *parent, *children, *sibling;
	bool orphan;
	struct process *reap_next;     /* the reaper's list */
	struct trap_frame *fork_frame; /* a fork child's first return to ring 3 */
};

/* A MachineTrap.Syscall handler (returns the value for rax) and its guard
 * (pure: true if the handler serves p).  The event's own types. */
typedef int64_t (*process_syscall_fn)(struct process *p, struct trap_frame *f);
typedef uint64_t (*process_guard_fn)(struct process *p, struct trap_frame *f);
struct module;

int process_init(void);
/* The root file system built from the boot module (NULL if none). */
const struct rootfs *process_rootfs(void);
int process_set_rootfs(const struct rootfs *fs);

/* Declare MachineTrap.Syscall (the process layer is its authority) with
 * the dispatcher; 0, or an error if the extension model is not running
 * (then the boot-time handler table serves). */
int process_events_init(void);
/* MachineTrap.Number and .Arg as loads the JIT emits in line
 * (kernel/machinetrap.c; rt_inline_register). */
int machinetrap_inline_init(void);
/* Install a system-call handler for owner (a trusted module), guarded by
 * guard (a pure procedure) or by test (the dispatcher's inline test on the
 * process and saved-state fields, kernel/dispatch.h: a few compares in the
 * generated routine, no call; it must outlive the handler) or neither.
 * The event is exclusive: the first handler whose guard accepts is the only
 * one that runs, so the guards of handlers should not overlap. */
struct dispatch_test;
int process_syscall_install(process_syscall_fn handler, process_guard_fn guard,
                            const struct dispatch_test *test, const struct module *owner);

/* MachineTrap.Syscall's authorizer lets trusted native modules install as
 * they ask and extensions the kernel loaded with SpinPrivate too (the xas
 * extension); an extension a process loads (kernel/spin_sys.c) may install
 * only if claimed for that process here, by name, before it is loaded: its
 * handlers then get the imposed inline test "the calling process is p"
 * (two instructions in the generated routine), so they never see another
 * process's system calls.  Any other installer is refused (-EACCES).
 * claim: -EEXIST (name claimed), -ENOSPC, -EINVAL; release: after unload. */
int process_ext_claim(const char *name, const struct process *p);
void process_ext_release(const char *name);
/* MachineTrap's (private) domain, which extensions loaded by processes
 * link against beside SpinPublic; NULL before process_events_init. */
struct domain;
struct domain *process_syscall_domain(void);

/* The modules the process layer starts (kernel/linux/lx_module.c,
 * kernel/spin_sys.c) and spin_sys's part of a process's end: unload the
 * extensions it loaded (they serve its calls and its context). */
void lx_module_init(void);
void spin_sys_init(void);
void spin_sys_process_gone(struct process *p);

/* What a personality provides when a process is created and destroyed. */
struct process_personality {
	const void *id;
	int (*attach)(struct process *p, uint64_t brk_start);
	void (*detach)(struct process *p);
	/* fork: child's state, a copy of parent's (0 or -ENOMEM); exec: the
	 * image was replaced (p->exe, brk_start and image_lo/hi are the new
	 * one's), cannot fail; exit: p ended (state set; before its parent
	 * may reap it): close its files, wake whoever waits.  Optional. */
	int (*fork)(struct process *parent, struct process *child);
	void (*exec)(struct process *p);
	void (*exit)(struct process *p);
	/* fault: a ring-3 exception nothing resolved (addr: CR2 of a #PF);
	 * true if the personality redirected f to a user handler (a signal
	 * frame), which the trap then returns to; false: p is killed. */
	bool (*fault)(struct process *p, struct trap_frame *f, uint64_t addr);
	/* interrupted: an interrupt is about to return to p in ring 3 through
	 * f (p made no system call: it may be spinning in user mode); the
	 * personality may point f at a signal handler, or end p (then it does
	 * not return).  Interrupts off.  Optional. */
	void (*interrupted)(struct process *p, struct trap_frame *f);
};
int process_set_personality(const struct process_personality *pers);

/* Start path (in the root file system) with argv/envp (NULL-terminated). */
int process_spawn(const char *path, const char *const *argv, const char *const *envp,
                  struct process **out);
/* Wait for p to end, free it; *status gets its exit status. */
int process_wait(struct process *p, int *status);
/* The package operations every process strand has (how a strand is known
 * to be a process's). */
extern const struct strand_package_ops process_pkg_ops;
/* The process a process strand's package is part of (no test: the caller
 * knows it is one of process_pkg_ops). */
static inline struct process *process_of_package(struct strand_package *pkg)
{
	return (struct process *)((char *)pkg - __builtin_offsetof(struct process, pkg));
}
/* The process the current strand belongs to, or NULL (kernel/strand.h,
 * proc_owner). */
static inline struct process *process_owner(void)
{
	struct strand *s = arch_percpu_current();

	return s ? s->proc_owner : NULL;
}
/* The process whose code the current strand runs, or NULL: its own, or
 * the portal server it was lent to (kernel/portal.c; kernel/strand.h,
 * proc_acting). */
static inline struct process *process_current(void)
{
	struct strand *s = arch_percpu_current();

	return s ? s->proc_acting : NULL;
}
/* On p's own new strand, before it first enters ring 3: its owner and
 * acting process (both p). */
static inline void process_bind_strand(struct process *p)
{
	struct strand *s = arch_percpu_current();

	s->proc_owner = s->proc_acting = p;
}
/* process_switch_acting (o's strand runs another process): in
 * kernel/process_switch.h, in line for the portal path. */
/* From a system-call handler: run fn(p, saved state, number) once the
 * system call's raise has returned (work that may not run inside a raise:
 * loading an extension, ending the process); its result becomes rax. */
typedef int64_t (*process_after_fn)(struct process *p, struct trap_frame *f, uint64_t nr);
void process_after_raise(struct process *p, const struct trap_frame *f, process_after_fn fn);
/* From a system-call handler that has switched the strand to another
 * process (process_switch_acting): return to ring 3 through that process's
 * system-call frame `to` (at the top of its kernel stack) instead of p's
 * own; with left, portal_stack_left runs first, on to's stack, when the
 * stack the call ran on is no longer in use.  p: the process whose system
 * call it is (process_current() when the raise began). */
int64_t process_after_through(struct process *p, struct trap_frame *f, uint64_t nr);
static inline void process_return_through(struct process *p, struct trap_frame *to, bool left)
{
	p->after_nr = (uintptr_t)to | (left ? 1u : 0u); /* USPACE_FRAME_LEFT */
	p->after = process_after_through;
}
/* The frame of p's system call in progress: at the top of its kernel
 * stack, where the entry from ring 3 builds it whichever strand runs p. */
static inline struct trap_frame *process_frame(const struct process *p)
{
	return (struct trap_frame *)(uintptr_t)p->kstack_top - 1;
}
/* From a system-call handler: run fn(p, saved state, value) once the raise
 * has returned (for trusted modules that do not see the saved state);
 * what may block - sleeping, waiting for a portal - runs there. */
void process_defer(struct process *p, process_after_fn fn, uint64_t value);
/* Call fn(p, arg) with the live process pid (the process list's lock held:
 * fn must not block or take a lock of rank <= 102); -ESRCH if none. */
int process_with_pid(int pid, int (*fn)(struct process *p, void *arg), void *arg);
/* From a system-call handler: end p with code once the raise has returned
 * (exit, exit_group). */
void process_exit_request(struct process *p, int code);
/* End the current process now (not from inside a raise). */
__attribute__((noreturn)) void process_exit_current(int code);
/* The same with its end state (PROCESS_EXITED, or PROCESS_KILLED by a
 * fault); a process running on a client's strand (kernel/portal.c) is
 * ended on its own strand and the client's call fails with -EPIPE. */
__attribute__((noreturn)) void process_end_current(int code, int state);

/* Map len bytes of fresh zeroed pages at va in p (page aligned). */
int process_map_anon(struct process *p, uint64_t va, uint64_t len, unsigned prot);
void process_unmap(struct process *p, uint64_t va, uint64_t len);
int process_protect(struct process *p, uint64_t va, uint64_t len, unsigned prot);
void process_set_fs_base(struct process *p, uint64_t base);

/* ---- fork, exec, wait (kernel/process_fork.c) ----
 * Called on p's own strand after the system call's raise (process_defer),
 * with its saved registers f.  Errors as process_spawn's, and -ECHILD. */

/* A child of p: its address space shared copy-on-write, FPU
 * state, FS base, personality state, and f with rax = 0 (rsp = newsp if
 * not 0); if child_tid, the child's pid is written there in the child's
 * memory before it runs.  *out: the child (already running). */
int process_fork(struct process *p, const struct trap_frame *f, uint64_t newsp, uint64_t child_tid,
                 struct process **out);
/* Replace p's image with path's (argv, envp NULL-terminated).  Everything
 * that can fail happens first, on a new address space; on failure p is
 * untouched.  On success f is the new program's entry state. */
int process_exec(struct process *p, struct trap_frame *f, const char *path, const char *const *argv,
                 const char *const *envp);
/* The children of p that pid selects (-1: any, > 0: that one; others: as
 * -1, no groups here): 0 and *out = an ended one, unlinked (the caller
 * reaps it with process_wait), or 0 and *out = NULL if some are still
 * running, or -ECHILD if none. */
int process_child_ended(struct process *p, int pid, struct process **out);
/* The end of p (exit or fault), on its strand before strand_exit: its
 * children become orphans (the reaper frees them), the personality's exit. */
void process_ended(struct process *p);
/* A fresh pid (never reused). */
int process_pid_alloc(void);
/* Internal to process.c and process_fork.c. */
struct elf_exec_info;
struct process *process_alloc(const char *name);
int process_image_build(struct process *p, const struct rootfs_node *file,
                        const struct elf_exec_info *info, const char *const *argv,
                        const char *const *envp, uint64_t *sp);
void process_publish(struct process *p);
void process_destroy(struct process *p);
void process_space_free(struct translation_ctx *ctx, cap_t cap);
const char *process_basename(const char *path);
const struct process_personality *process_personality_get(void);

/* kmain: build the root file system from the first boot module and run
 * what the command line asks for ("init=PATH args...", "procs=A,B,...");
 * returns only if it asks for nothing. */
void process_boot(void);

#endif
