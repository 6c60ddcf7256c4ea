/*
 * kernel/vproc.h: virtual processors, the VProc interface
 * (interfaces/vproc.idl) through which thread packages and application
 * schedulers - extensions - sit above the global scheduler (SPIN §4.2).
 *
 * A virtual processor (struct VProc_T) is one kernel strand, scheduled by
 * the global scheduler like any other, plus up to VPROC_MAX_THREADS
 * user-level threads: lightweight contexts with their own stacks that run
 * only on the virtual processor's strand, switched by this module when the
 * package says so.  So a package multiplexes its threads inside the CPU
 * share the global scheduler gives its virtual processor, and never more:
 * its threads have no other way onto a processor.
 *
 * The package (the extension that holds the virtual processor's strand
 * capability, granted to it by name by vproc_create) learns and decides
 * through events, each guarded so that it sees only its own:
 *   VProc.Pick(vp, prev, n)  raised by the virtual processor whenever it
 *                            needs a thread; the handler returns the index
 *                            of a thread to run (or < 0: idle for a tick);
 *   Strand.Resume/Checkpoint(vp's strand)  from the global scheduler's
 *                            switch: the package's share starts and ends;
 *   Strand.Block/Unblock(thread)  a thread blocked (vproc_block,
 *                            vproc_join) or ended, or was made runnable
 *                            (vproc_unblock, vproc_fork).  A package
 *                            that ignores Unblock never picks the thread
 *                            again: only its own threads suffer.
 * Picks are validated (a thread that is not runnable, or out of range, is
 * refused and counted); a Pick handler that runs away is aborted by its
 * fuel and disabled by the dispatcher, after which the virtual processor
 * idles.  Either way the global scheduler keeps running every other strand.
 *
 * Every thread starts runnable.  A thread whose function has returned is
 * done; vproc_fork starts its slot again (fn from the top, the same index)
 * and vproc_join waits, from another thread of the same virtual processor,
 * for a thread to be done: the package's fork and join.
 *
 * Threads are cooperative within their package: a thread runs until it
 * calls vproc_yield, vproc_block, vproc_join or returns (preemption by the global
 * scheduler takes the whole virtual processor off the CPU and brings it
 * back where it was).  A thread that blocks on a kernel object blocks its
 * whole virtual processor (the many-to-one model).
 *
 * Owns: the pool of virtual processors (VPROC_MAX), their threads, stacks
 * and grants.  Callers: trusted modules and tests create, start, stop;
 * thread code calls vproc_yield/vproc_block/vproc_join; anyone calls
 * vproc_unblock and vproc_fork;
 * extensions call the VProc procedures (pure queries).
 * Locking: one creator/stopper at a time (loader context); a virtual
 * processor's thread states are changed with interrupts off.
 * Errors: -EINVAL (bad attribute), -ENOSPC (pool full), -ENOMEM, -EBUSY
 * (already started; forking a thread that is not done; a second joiner),
 * -ESRCH (no such thread), -EDEADLK (joining oneself), -EPERM (vproc_yield,
 * vproc_block or vproc_join outside a user-level thread).
 */
#ifndef KERNEL_VPROC_H
#define KERNEL_VPROC_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/cap.h"
#include "kernel/strand.h"
#include "spindle_interfaces.h"

#define VPROC_MAX         8
#define VPROC_MAX_THREADS 8
#define VPROC_TRACE       64 /* the last picks, for tests */

typedef void (*vproc_thread_fn)(struct VProc_T *vp, uint32_t index, void *arg);

struct vproc_attr {
	const char *name;   /* the virtual processor's strand name */
	const char *holder; /* the extension granted its capability */
	int prio;           /* for the global scheduler */
	uint32_t nthreads;  /* 1..VPROC_MAX_THREADS */
	vproc_thread_fn fn; /* every thread runs fn(vp, index, arg) */
	void *arg;
	bool pinned; /* its strand runs only on CPU cpu */
	unsigned cpu;
};

struct vproc_stats {
	uint64_t picks;     /* Pick raises */
	uint64_t unhandled; /* ... that no handler answered */
	uint64_t refused;   /* ... answered with a thread that cannot run */
	uint64_t idles;     /* ticks given back for want of a thread */
	uint64_t runs[VPROC_MAX_THREADS];
	uint64_t resumes, checkpoints; /* Strand.Resume / Checkpoint intrinsics */
	uint64_t ticks;                /* charged to its strand by the global scheduler */
	uint8_t trace[VPROC_TRACE];    /* indices picked, oldest first once full */
	uint32_t ntrace;
};

int vproc_init(void);
int vproc_create(const struct vproc_attr *a, struct VProc_T **out);
/* Start its strand (after the package is loaded). */
int vproc_start(struct VProc_T *vp);
/* Stop it: its strand ends at its next pick, is joined, and the threads'
 * contexts are discarded (their stacks stay with the pool slot for its next
 * virtual processor); the grant is revoked. */
int vproc_stop(struct VProc_T *vp);
/* A consistent snapshot of its statistics, also while it runs (ticks and
 * the Resume/Checkpoint counts are read live beside it). */
void vproc_get_stats(const struct VProc_T *vp, struct vproc_stats *out);
/* The capability granted to the holder. */
cap_t vproc_cap(const struct VProc_T *vp);

/* From a user-level thread: give the virtual processor back to the package. */
int vproc_yield(void);
/* From a user-level thread: block (raises Strand.Block on it) until
 * vproc_unblock. */
int vproc_block(void);
/* Make thread index runnable again and raise Strand.Unblock on it. */
int vproc_unblock(struct VProc_T *vp, uint32_t index);
/* Start thread index, which must be done, afresh (fn(vp, index, arg) on
 * a new context) and raise Strand.Unblock on it. */
int vproc_fork(struct VProc_T *vp, uint32_t index);
/* From a user-level thread: wait until thread index of the same virtual
 * processor is done, blocking (Strand.Block) if it is not yet. */
int vproc_join(uint32_t index);
/* The thread's index if s is a user-level thread, else -1. */
int64_t vproc_thread_index(const void *s);

#endif /* KERNEL_VPROC_H */
