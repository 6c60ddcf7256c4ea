/*
 * kernel/strand.h: strands, SPIN's unit of scheduling (Strand interface).
 *
 * A strand is a kernel execution context with a name and nothing more
 * required: its own kernel stack (KSTACK_SIZE, above an unmapped guard
 * page), a priority for the global scheduler, and an optional owning thread
 * package (struct strand_package) through which a package will later get the
 * Checkpoint / Resume events for its strands.
 *
 * Owns: every struct strand and the handle table.  Strands are named
 * outside the core by strand_t handles, (generation << 32 | index + 1):
 * a handle whose strand was joined (or reaped after detaching) fails every
 * check with -ESRCH, even after its slot is reused, so a stale handle can
 * never reach another strand.  0 is never a valid handle.
 *
 * Life cycle: strand_create() -> READY -> RUNNING <-> READY / BLOCKED ->
 * strand_exit() (or return from entry) -> DEAD.  A joinable strand's object
 * and stack live until strand_join() collects its exit code; a detached
 * strand is reaped by the scheduler after its last switch.  Dead strands'
 * objects and stacks are cached (STRAND_CACHE_MAX) for the next create.
 *
 * Invariants: exactly one strand is RUNNING (or BLOCKING) per CPU (the idle strand when
 * nothing else is); a strand is on at most one queue (run queue, wait queue,
 * reap list) through next; the boot strand ("main") and the idle strand
 * never exit.
 *
 * Who may call: core and trusted modules (thread packages build on this).
 * Locking: the handle table has one spinlock (SYNC_RANK_STRANDS); creation
 * and join take it briefly; no call here may be made from an interrupt
 * handler.  Errors: 0 or -EINVAL (bad argument, joining a detached strand),
 * -ENOMEM (no memory for the object or stack), -EAGAIN (handle table or
 * stack slots full), -ESRCH (unknown, stale or already joined handle),
 * -EDEADLK (joining oneself), -EBUSY (another strand is already joining);
 * strand_create_pinned also -EINVAL for a CPU that is not online.
 */
#ifndef KERNEL_STRAND_H
#define KERNEL_STRAND_H

#include <stdbool.h>
#include <stdint.h>

#include <arch/kstack.h>

#include "kernel/sync.h"

#define STRAND_NAME_MAX  32
#define STRAND_MAX       32768 /* handle table slots */
#define STRAND_CACHE_MAX 32    /* dead strands kept for reuse */

typedef uint64_t strand_t;
typedef void (*strand_entry_fn)(void *arg);

enum strand_state {
	STRAND_FREE,      /* in the cache, or being built */
	STRAND_READY,     /* on a run queue */
	STRAND_RUNNING,   /* on a CPU */
	STRAND_BLOCKING,  /* on a CPU, announced it will block (preemption off) */
	STRAND_BLOCKED,   /* off CPU, waiting for sched_unblock */
	STRAND_DEAD,      /* exited; waiting to be joined or reaped */
	STRAND_MIGRATING, /* between two CPUs' run queues, owned by the mover */
};

#define STRAND_F_BOOT     0x1u /* the boot context (boot stack, never exits) */
#define STRAND_F_IDLE     0x2u /* a CPU's idle strand */
#define STRAND_F_DETACHED 0x4u
#define STRAND_F_EXITED   0x8u /* strand_exit passed the point of no return */

/*
 * The thread-package seam (SPIN Figure 4).  A package that owns a strand is
 * told when its strand leaves a CPU (checkpoint) and gets one (resume), and
 * will handle Block/Unblock raised on it once the dispatcher routes the
 * Strand events (see sched.c).  Both callbacks run with interrupts off on
 * the switch path: they must be short and must not block.
 */
struct strand_package;
struct process;
struct strand_package_ops {
	void (*checkpoint)(struct strand_package *pkg, struct strand *s);
	void (*resume)(struct strand_package *pkg, struct strand *s);
};
struct strand_package {
	const struct strand_package_ops *ops;
	const char *name;
};

struct strand {
	uintptr_t rsp; /* saved stack pointer while off CPU */
	volatile enum strand_state state;
	uint8_t prio;
	uint8_t quantum;      /* ticks left in the current slice */
	volatile bool on_cpu; /* its stack is in use by a CPU */
	uint16_t cpu;         /* run queue / CPU it belongs to (sched.c) */
	int16_t pin;          /* the only CPU it may run on, or -1 */
	uint32_t flags;
	int wait_result;           /* what the waker passed to sched_unblock */
	struct strand *next;       /* run queue, wait queue or reap list */
	struct strand *timer_next; /* sleep queue */
	uint64_t wake_ns;          /* sleep deadline (clock_ns) */
	strand_entry_fn entry;
	void *arg;
	/* Where a strand blocked with a continuation (sched_handoff_cont)
	 * starts again: cont(cont_arg) on a fresh stack. */
	void (*cont)(void *);
	void *cont_arg;
	uintptr_t cont_frame[7]; /* its saved context meanwhile (arch_cont_init) */
	int exit_code;
	struct strand *joiner; /* strand blocked in strand_join */
	uint32_t index, gen;   /* handle */
	struct kstack stack;   /* unused for the boot strand */
	struct strand_package *package;
	/* A process strand's own process and the one whose code it runs (its
	 * own, or a portal server it is lent to: process_switch_acting
	 * changes it): kernel/process.h's process_owner and process_current,
	 * read first thing on every system call - one load from the current
	 * strand.  Set on the strand itself before it first enters ring 3
	 * (process_bind_strand); NULL for a kernel strand. */
	struct process *proc_owner, *proc_acting;
	struct mutex *held_mutexes; /* lock-order checking */
	uint64_t switches_in;       /* times put on a CPU */
	uint64_t ticks;             /* timer ticks charged to it */
	char name[STRAND_NAME_MAX];
};

struct strand_attr {
	const char *name; /* copied; truncated to STRAND_NAME_MAX-1 */
	int prio;         /* SCHED_PRIO_MIN..SCHED_PRIO_MAX */
	bool detached;
	struct strand_package *package; /* NULL: the kernel's own strand */
};

int strand_create(strand_entry_fn entry, void *arg, int prio, const char *name, strand_t *out);
int strand_create_attr(const struct strand_attr *attr, strand_entry_fn entry, void *arg,
                       strand_t *out);
/* The same, but the strand only ever runs on CPU cpu (-EINVAL if offline). */
int strand_create_pinned(const struct strand_attr *attr, unsigned cpu, strand_entry_fn entry,
                         void *arg, strand_t *out);
/* End the current strand; its exit code goes to the joiner. */
__attribute__((noreturn)) void strand_exit(int code);
/* Wait for h to end and release it; *code (if non-NULL) gets its exit code. */
int strand_join(strand_t h, int *code);
/* h is released by itself when it ends; it can no longer be joined. */
int strand_detach(strand_t h);
strand_t strand_self(void);
struct strand *strand_current(void);
/* Copy h's name into buf (NUL-terminated); -ESRCH if h is stale. */
int strand_name(strand_t h, char *buf, unsigned len);
int strand_set_priority(strand_t h, int prio);

/* Live strands (created and not yet joined or reaped), boot and idle included. */
unsigned strand_count(void);
/* Free the cache of dead strands (objects and stacks); returns how many. */
unsigned strand_cache_flush(void);

/* For sched.c: set up the handle table and adopt the boot context. */
struct strand *strand_init(void);
/* For sched.c: a strand object with no handle and no stack of its own use
 * (the idle strand), started at fn(arg). */
struct strand *strand_create_idle(void (*fn)(void *), void *arg, const char *name);
/* For sched.c: give a dead strand's object and stack back (cache or free). */
void strand_recycle(struct strand *s);

#endif
