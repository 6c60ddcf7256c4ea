/*
 * kernel/portal.h: portals, the native half of the cross-address-space
 * call (interfaces/portal.idl; SPIN Table 2's "cross-address-space call",
 * which SPIN builds as an extension on system calls and in-kernel calls).
 *
 * Owns every portal (its server process, the caller it serves, a FIFO of
 * callers waiting for it, a count of the handles naming it) and the portal
 * fields of struct process (its handle table and the call in flight).  A
 * portal is named only through handles: the server gets one from Register,
 * and Grant gives one to a process the server names; a process holding no
 * handle for a portal cannot reach it.  Calls are synchronous: the client
 * waits, the server (waiting in Return) runs with the argument in its own
 * address space, and its next Return gives the client the result.  When
 * the server waits, the call borrows: the client's strand runs the server
 * (its address space, FPU state, kernel stack; process_switch_acting) until
 * it returns - no scheduler switch either way.  Otherwise the client
 * blocks and the processor goes from one strand to the other with
 * sched_handoff_cont (kernel/handoff.h).  When a server ends, its calls in
 * flight and its queue fail with -EPIPE and later calls through its
 * portals too.
 *
 * Who calls: the Portal procedures, from MachineTrap.Syscall handlers (the
 * xas extension) on the calling process's strand; they validate there and
 * do the rest after the raise (process_defer), where blocking is allowed.
 * portal_process_exit: the process layer, when a process ends (idempotent).
 * Locking: one spinlock (rank SYNC_RANK_OBJ + 1) over all portal state;
 * strands are woken with it dropped.  Errors: negated errnos (-EBADF,
 * -EFAULT, -EDEADLK, -EPIPE, -ESRCH, -EMFILE, -ENOMEM, -EPERM, -EINVAL).
 */
#ifndef KERNEL_PORTAL_H
#define KERNEL_PORTAL_H

struct process;

/* Declare the Portal interface (a private domain published in SpinPrivate). */
int portal_init(void);
/* p ended: its portals fail their callers, its handles are dropped. */
void portal_process_exit(struct process *p);
/* Server s, running on client o's strand, ends (exit, or killed with
 * state PROCESS_KILLED): o's call fails with -EPIPE and o's strand returns
 * to o; s's own strand is woken to end s (status code).  Never returns. */
__attribute__((noreturn)) void portal_borrowed_end(struct process *o, struct process *s, int code,
                                                   int state);
/* The system-call entry's hook (<arch/uspace.h> uspace_left_fn): the
 * current strand, which ran a portal's server, has returned to its own
 * process's stack after the server's Return: the server is settled
 * (waiting again, or its own strand woken).  Interrupts off. */
void portal_stack_left(void);

#endif
