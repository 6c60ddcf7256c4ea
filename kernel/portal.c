/*
 * portal.c: portals - protected procedure calls between processes
 * (kernel/portal.h for the model, interfaces/portal.idl for the calls).
 *
 * The Portal procedures run inside MachineTrap.Syscall (an extension's
 * handler calls them), where nothing may block: they check their
 * arguments against the calling process (handle in range and present, a
 * user range for every pointer), note the operation in the process and ask
 * the process layer to finish it once the raise has returned
 * (process_defer).  portal_finish then does the work:
 *
 *   Call: the server waits in Return -> it becomes the portal's caller,
 *     the argument goes to the server, and the processor is handed to the
 *     server's strand; otherwise the client joins the portal's queue and
 *     blocks.  Woken, it takes the result (rdx; `out`).
 *   Return: the pending caller (if any) gets the result; with wait, the
 *     server takes the next queued caller at once, or waits - handing the
 *     processor back to the caller it just answered.  Woken by a call, it
 *     gets the argument in rdx (and at argp, in its own address space).
 *
 * The value passed each way lands in the receiver's saved rdx (its
 * system call's second result register), so a round trip copies no user
 * memory unless the caller asks for it with a pointer.
 *
 * Blocking is by continuation (kernel/handoff.h): a waiting client or
 * server keeps only its system call's trap frame; its call chain is given
 * up, and when it runs again it starts in portal_call_resume or
 * portal_return_resume right under that frame, finishes the call and
 * returns to user space.  So the fast path is: the client's system call,
 * one switch (sched_handoff_cont: straight to the server when it waits on
 * this CPU, without the run queue), the server's return to user space -
 * and no unwinding on either side.  Strand.Checkpoint saves the client's
 * FPU state and Strand.Resume loads the server's Translation context
 * (CR3), kernel stack, FS base and FPU state (kernel/process.c).
 *
 * Lifetime: a portal lives while handles name it (refs); its server
 * pointer is cleared when the server ends, and everything waiting on it
 * is woken with -EPIPE.  A process's handles are dropped when it ends.
 * Portal state, including the portal fields of every process, is under
 * portal_lock, except what the borrowing fast path changes without it: the
 * server's state word (compare-and-swap: see PO_* below), and the fields
 * a successful swap hands to one strand (the caller, the two processes'
 * frames).  Strands are woken after the lock is dropped.
 */
#include <arch/cpu.h>
#include <arch/uspace.h>
#include <spindle/errno.h>

#include "kernel/dispatch.h"
#include "kernel/domain.h"
#include "kernel/handoff.h"
#include "kernel/heap.h"
#include "kernel/nameserver.h"
#include "kernel/portal.h"
#include "kernel/process.h"
#include "kernel/process_switch.h"
#include "kernel/sched.h"
#include "kernel/sync.h"
#include "kernel/uaccess.h"
#include "kernel/uerrno.h"
#include "spindle_interfaces.h"

enum { PORTAL_OP_CALL = 1, PORTAL_OP_RETURN, PORTAL_OP_RETURN_WAIT };

/* Where the server is (po->state).  WAITING: blocked in Return, ready to
 * be called or borrowed; no caller is queued.  BUSY: running a call (or
 * gone); BUSY_Q: the same, and a caller has queued since.  LEAVING: it
 * answered a borrowed call and waits again, but the lent strand is still
 * on its kernel stack; LEAVING_Q: the same, but it must not simply wait - a
 * caller queued meanwhile (or it asked for no wait).
 *
 * The borrowing fast path changes the state without the lock: a lender
 * takes the server WAITING -> BUSY, its Return gives it back BUSY ->
 * LEAVING (or LEAVING_Q), and once the strand is off the server's stack
 * LEAVING -> WAITING (portal_stack_left); everything else is settled under
 * the lock.  So every change away from WAITING, BUSY or LEAVING is a
 * compare-and-swap, under the lock or not: a caller queueing under the
 * lock marks BUSY as BUSY_Q and LEAVING as LEAVING_Q, which the lock-free
 * steps then see.  A queue is never left behind a WAITING server. */
enum { PO_BUSY = 0, PO_WAITING, PO_LEAVING, PO_LEAVING_Q, PO_BUSY_Q };

struct portal {
	struct process *server;        /* NULL once the server ended */
	struct strand *server_strand;  /* the server's strand while it waits */
	uint32_t state;                /* PO_* (above) */
	struct process *caller;        /* the call the server is running */
	struct process *qhead, *qtail; /* callers waiting for the server */
	uint32_t refs;                 /* handles naming this portal */
};

static const struct module portal_module = {"Portal", MODULE_TRUSTED};
static struct spinlock portal_lock = SPINLOCK_INIT("portal", SYNC_RANK_OBJ + 1);

static inline bool portal_handle_ok(const struct process *p, uint64_t h)
{
	return h < PROCESS_PORTALS && p->portal_h[h] != NULL;
}

static inline bool portal_owned(const struct process *p, uint64_t h)
{
	return (p->portal_owned >> h) & 1;
}

static int portal_free_slot(const struct process *p)
{
	for (int h = 0; h < PROCESS_PORTALS; h++)
		if (!p->portal_h[h])
			return h;
	return -EMFILE;
}

/* ---- the procedures (inside the raise: check, note, defer) ---- */

int64_t Portal_Register(void)
{
	struct process *p = process_current();
	struct portal *po;
	unsigned long fl;
	int h;

	if (!p)
		return -EPERM;
	po = kzalloc(sizeof(*po));
	if (!po)
		return -ENOMEM;
	fl = spin_lock_irqsave(&portal_lock);
	h = p->portal_closed ? -EPERM : portal_free_slot(p);
	if (h >= 0) {
		po->server = p;
		po->refs = 1;
		p->portal_h[h] = po;
		p->portal_owned |= 1u << h;
	}
	spin_unlock_irqrestore(&portal_lock, fl);
	if (h < 0)
		kfree(po);
	return h;
}

static int portal_grant_to(struct process *t, void *arg)
{
	struct portal *po = arg;
	int h;

	if (t->portal_closed || t->state != PROCESS_RUNNING)
		return -ESRCH;
	for (h = 0; h < PROCESS_PORTALS; h++)
		if (t->portal_h[h] == po)
			return h; /* already holds one: the same handle */
	if ((h = portal_free_slot(t)) < 0)
		return h;
	t->portal_h[h] = po;
	po->refs++;
	return h;
}

int64_t Portal_Grant(uint64_t handle, uint64_t pid)
{
	struct process *p = process_current();
	unsigned long fl;
	int rc;

	if (!p)
		return -EPERM;
	if (pid == 0 || pid > 0x7fffffff)
		return -ESRCH;
	if (pid == (uint64_t)p->pid)
		return -EINVAL;
	fl = spin_lock_irqsave(&portal_lock);
	if (!portal_handle_ok(p, handle))
		rc = -EBADF;
	else if (!portal_owned(p, handle))
		rc = -EPERM; /* only the server hands out its portal */
	else
		rc = process_with_pid((int)pid, portal_grant_to, p->portal_h[handle]);
	spin_unlock_irqrestore(&portal_lock, fl);
	return rc;
}

static int64_t portal_finish(struct process *p, struct trap_frame *f, uint64_t nr);
static bool portal_call_lend(struct strand *cur, struct process *p, struct portal *po,
                             uint64_t arg);
static int64_t portal_return_lent(struct strand *cur, struct process *s, struct process *o,
                                  uint64_t h, uint64_t result);

/* No frame pointer: half of each round trip (backtraces skip this frame). */
__attribute__((optimize("omit-frame-pointer"))) int64_t Portal_Call(uint64_t handle, uint64_t arg,
                                                                    uint64_t out)
{
	struct strand *cur = arch_percpu_current();
	struct process *o, *p;

	/* A process strand (owner and acting process: kernel/strand.h). */
	if (!cur || !(o = cur->proc_owner))
		return -EPERM;
	p = cur->proc_acting;
	/* Only this strand and the process's end change its own slots, so
	 * the table can be read without the lock here. */
	if (!portal_handle_ok(p, handle))
		return -EBADF;
	if (portal_owned(p, handle))
		return -EDEADLK; /* the server would wait for itself */
	if (out && !uaccess_range_ok(out, sizeof(uint64_t)))
		return -EFAULT;
	p->portal_a[2] = out; /* both paths answer there */
	if (o == p && portal_call_lend(cur, p, p->portal_h[handle], arg))
		return 0;
	p->portal_op = PORTAL_OP_CALL;
	p->portal_a[0] = handle, p->portal_a[1] = arg;
	process_defer(p, portal_finish, 0);
	return 0;
}

/* No frame pointer: half of each round trip (backtraces skip this frame). */
__attribute__((optimize("omit-frame-pointer"))) int64_t
Portal_Return(uint64_t handle, uint64_t result, uint64_t argp, uint64_t wait)
{
	struct strand *cur = arch_percpu_current();
	struct process *o, *p;

	if (!cur || !(o = cur->proc_owner))
		return -EPERM;
	p = cur->proc_acting;
	if (!portal_handle_ok(p, handle))
		return -EBADF;
	if (!portal_owned(p, handle))
		return -EPERM; /* only the server answers */
	if (argp && (!wait || !uaccess_range_ok(argp, sizeof(uint64_t))))
		return argp && !wait ? -EINVAL : -EFAULT;
	/* The op and argp outlive the call: the stack-left step and the next
	 * borrower read them. */
	p->portal_op = wait ? PORTAL_OP_RETURN_WAIT : PORTAL_OP_RETURN;
	p->portal_a[2] = argp;
	if (o != p)
		return portal_return_lent(cur, p, o, handle, result);
	p->portal_a[0] = handle, p->portal_a[1] = result;
	process_defer(p, portal_finish, 0);
	return 0;
}

/* ---- after the raise: block, hand over, wake ---- */

/* Until someone sets p->portal_done (a continuation's re-check: a strand
 * woken for another reason blocks again, on its fresh stack). */
static void portal_wait_done(struct process *p)
{
	while (!__atomic_load_n(&p->portal_done, __ATOMIC_ACQUIRE)) {
		unsigned long fl = spin_lock_irqsave(&portal_lock);

		if (p->portal_done) {
			spin_unlock_irqrestore(&portal_lock, fl);
			break;
		}
		sched_prepare_block();
		spin_unlock_irqrestore(&portal_lock, fl);
		sched_block();
	}
}

/* The first queued caller becomes the one the server serves (lock held,
 * queue not empty). */
static struct process *portal_serve_next(struct portal *po)
{
	struct process *n = po->qhead;

	po->qhead = n->portal_next;
	if (!po->qhead)
		po->qtail = NULL;
	po->caller = n;
	return n;
}

/* Answer c with status/result (lock held); the caller wakes it. */
static inline void portal_answer(struct process *c, int status, uint64_t result)
{
	c->portal_status = status;
	c->portal_result = result;
	__atomic_store_n(&c->portal_done, true, __ATOMIC_RELEASE);
}

/* Block p (prepared, lock held as fl) and hand the processor to `to`; p
 * starts again in resume(p) on the stack right under its trap frame. */
static __attribute__((noreturn)) void portal_block(struct process *p, struct strand *to,
                                                   unsigned long fl, void (*resume)(void *))
{
	sched_handoff_cont(to, 0, (uintptr_t)p->portal_frame, resume, p, &portal_lock, fl);
}

/* A call's answer in o's frame (rax status, rdx result, and at `out` -
 * in o's address space, the current one); back to user space. */
static __attribute__((noreturn)) void portal_call_return(struct process *o, struct trap_frame *f)
{
	uint64_t out = o->portal_a[2];

	f->rax = (uint64_t)(int64_t)o->portal_status;
	f->rdx = 0;
	if (!o->portal_status) {
		f->rdx = o->portal_result;
		if (out && copy_to_user(out, &o->portal_result, sizeof(uint64_t)))
			f->rax = (uint64_t)(int64_t)-EFAULT;
	}
	uspace_return(f);
}

/* A client's call, answered: the result (rax 0, rdx, and at `out`) or the
 * failure; back to user space from the system call's frame. */
static void portal_call_resume(void *arg)
{
	struct process *p = arg;

	portal_wait_done(p);
	portal_call_return(p, p->portal_frame);
}

/* A server's Return that waited: the next call's argument (rdx, and at
 * `argp`); back to user space. */
static void portal_return_resume(void *arg)
{
	struct process *p = arg;
	struct trap_frame *f = p->portal_frame;
	uint64_t argp = p->portal_a[2];

	portal_wait_done(p);
	if (p->portal_end_state) /* it ended while running on a client's strand */
		process_end_current(p->portal_end_code, p->portal_end_state);
	f->rax = 0;
	f->rdx = p->portal_result;
	if (argp && copy_to_user(argp, &p->portal_result, sizeof(uint64_t)))
		f->rax = (uint64_t)(int64_t)-EFAULT;
	uspace_return(f);
}

/*
 * Borrowing (the fast path), inside the raise of client p's Call: the
 * server s waits in Return, so p's strand itself runs s - s's address
 * space, FPU state and FS base, s's kernel stack for its system calls and
 * traps (process_switch_acting) - and returns to ring 3 through the frame
 * s waits in, with the argument in rdx (process_return_through): no strand
 * is blocked or woken, no scheduler switch, nothing left for after the
 * raise.  s's own strand stays blocked meanwhile (it is woken only by this
 * file, only while no strand runs s).  p's own frame stays on top of its
 * kernel stack; s's Return on p's strand (portal_return_lent) switches back
 * and returns there.  p runs on its own strand (a nested call from a lent
 * one takes the strand path).  false: the strand path after the raise
 * instead (the server is busy, gone, or its strand still leaving its CPU).
 */
static bool portal_call_lend(struct strand *cur, struct process *p, struct portal *po, uint64_t arg)
{
	uint32_t waiting = PO_WAITING;
	unsigned long fl;
	struct process *s;
	struct trap_frame *sf;
	struct strand *ss;
	uint64_t argp;

	/* po is p's handle's portal (p's own slots change only on this
	 * strand or at p's end), alive while the handle names it.  Taking
	 * the server WAITING -> BUSY makes this strand the only one that may
	 * run it or wake it (the acquire pairs with the release that
	 * published WAITING, after its frame, argp and strand). */
	fl = arch_irq_save();
	if (!__atomic_compare_exchange_n(&po->state, &waiting, PO_BUSY, false, __ATOMIC_ACQUIRE,
	                                 __ATOMIC_RELAXED)) {
		arch_irq_restore(fl);
		return false;
	}
	s = po->server; /* alive: it waits in Return */
	ss = po->server_strand;
	/* A server that has just published itself waiting is still on its
	 * CPU until its switch away completes (sched_handoff_cont; its FPU
	 * state is saved there too), on the kernel stack this strand is about
	 * to use: wait for that (on_cpu is cleared after the switch; nobody
	 * else can put it back on a CPU now). */
	while (__builtin_expect(__atomic_load_n(&ss->on_cpu, __ATOMIC_ACQUIRE), 0))
		arch_cpu_relax();
	sf = s->portal_frame;
	argp = s->portal_a[2];
	/* Never blocks on this path (portal_done is for the strand path),
	 * but stays the strand a failing server would wake (portal_fail). */
	p->portal_self = cur;
	p->portal_frame = process_frame(p);
	p->portal_in = po;
	po->caller = p;
	sf->rax = 0;
	sf->rdx = arg;
	process_switch_acting(cur, p, s);
	arch_irq_restore(fl);
	if (argp && copy_to_user(argp, &arg, sizeof(arg))) /* in s's address space now */
		sf->rax = (uint64_t)(int64_t)-EFAULT;
	process_return_through(p, sf, false);
	return true;
}

/* s's Return on the strand of o, whose call it serves, inside the raise:
 * o's frame gets the result (rdx, and at o's `out`), the strand switches
 * back to o and returns through o's frame; once it is off s's kernel stack
 * portal_stack_left settles s.  Only that call can be answered here:
 * another portal s serves -> -EBUSY. */
static int64_t portal_return_lent(struct strand *cur, struct process *s, struct process *o,
                                  uint64_t h, uint64_t result)
{
	struct portal *po = s->portal_h[h];
	struct trap_frame *of = o->portal_frame;
	uint64_t out = o->portal_a[2];
	uint32_t busy = PO_BUSY;
	unsigned long fl;

	/* caller is o's (set by its lend, cleared here or when s ends on
	 * this strand): no lock needed to read it. */
	if (po->caller != o)
		return -EBUSY;
	fl = arch_irq_save();
	po->caller = NULL;
	s->portal_frame = process_frame(s); /* where it waits again */
	/* It waits again once this strand is off its stack (portal_stack_left)
	 * - unless a caller queued meanwhile (BUSY_Q) or it asked for no
	 * wait: then it must be settled there under the lock.  Release: its
	 * frame and op are published with it. */
	if (s->portal_op != PORTAL_OP_RETURN_WAIT ||
	    !__atomic_compare_exchange_n(&po->state, &busy, PO_LEAVING, false, __ATOMIC_RELEASE,
	                                 __ATOMIC_RELAXED))
		__atomic_store_n(&po->state, PO_LEAVING_Q, __ATOMIC_RELEASE);
	of->rax = 0;
	of->rdx = result;
	process_switch_acting(cur, s, o);
	arch_irq_restore(fl);
	if (out && copy_to_user(out, &result, sizeof(result))) /* in o's address space */
		of->rax = (uint64_t)(int64_t)-EFAULT;
	process_return_through(s, of, true);
	return 0;
}

/* Back on owner o's own stack and address space after its strand ran the
 * server: settle the server - waiting again (its strand still waits in its
 * continuation), or its own strand woken to go on: after a Reply, to serve
 * a queued caller, or to end.  Interrupts off. */
static void portal_settle(struct process *o)
{
	struct portal *po = o->portal_in;
	struct process *s = po->server, *n; /* s cannot end while this runs */
	bool wait;
	struct strand *ss;

	spin_lock_irqsoff(&portal_lock);
	wait = s->portal_op == PORTAL_OP_RETURN_WAIT && !s->portal_end_state;
	ss = po->server_strand; /* read under the lock */
	if (wait && !po->qhead) {
		__atomic_store_n(&po->state, PO_WAITING, __ATOMIC_RELEASE);
		spin_unlock_irqsoff(&portal_lock);
		return;
	}
	__atomic_store_n(&po->state, PO_BUSY, __ATOMIC_RELAXED);
	if (wait) {
		n = portal_serve_next(po);
		portal_answer(s, 0, n->portal_a[1]);
	} else {
		portal_answer(s, 0, 0); /* a Reply returns 0; an end ends */
	}
	spin_unlock_irqsoff(&portal_lock);
	sched_unblock(ss, 0);
}

/* The entry code's hook once a lent strand is off a server's stack
 * (USPACE_FRAME_LEFT, after portal_return_lent): the strand is o's own, a
 * process strand by construction.  The common case - the server waits
 * again and nobody queued - is one compare-and-swap; the rest is settled
 * under the lock. */
void portal_stack_left(void)
{
	struct process *o = ((struct strand *)arch_percpu_current())->proc_owner;
	uint32_t leaving = PO_LEAVING;

	if (__builtin_expect(__atomic_compare_exchange_n(&o->portal_in->state, &leaving, PO_WAITING,
	                                                 false, __ATOMIC_RELEASE, __ATOMIC_RELAXED),
	                     1))
		return;
	portal_settle(o);
}

/* After a server ended on o's strand: settle it, then o's call returns. */
static void portal_borrow_done(void *arg)
{
	struct process *o = arg;
	unsigned long fl = arch_irq_save();

	portal_settle(o);
	arch_irq_restore(fl);
	portal_call_return(o, o->portal_frame);
}

/* s ended (exit or fault) while running on o's strand: o's call fails
 * with -EPIPE, o's strand switches back and finishes on o's stack - s's
 * kernel stack, where this runs, must be left before s's own strand may
 * run again to end s (portal_settle wakes it: no wait, an end). */
void portal_borrowed_end(struct process *o, struct process *s, int code, int state)
{
	unsigned long fl = spin_lock_irqsave(&portal_lock);

	s->portal_end_code = code;
	s->portal_end_state = state;
	o->portal_in->caller = NULL;
	o->portal_status = -EPIPE;
	o->portal_result = 0;
	spin_unlock_irqsoff(&portal_lock);
	process_switch_acting(arch_percpu_current(), s, o);
	arch_irq_restore(fl);
	arch_call_on_stack((uintptr_t)o->portal_frame, portal_borrow_done, o);
}

static int64_t portal_do_call(struct process *p, struct trap_frame *f)
{
	uint64_t h = p->portal_a[0];
	unsigned long fl = spin_lock_irqsave(&portal_lock);
	struct portal *po = p->portal_h[h];
	struct process *s;
	struct strand *to = NULL;

	if (!po || !(s = po->server)) {
		spin_unlock_irqrestore(&portal_lock, fl);
		return -EPIPE;
	}
	p->portal_done = false;
	p->portal_self = arch_percpu_current();
	p->portal_frame = f;
	/* Take a waiting server, or queue and mark the state so that the
	 * lock-free steps see the queue: a lent strand still leaving the
	 * server's stack (LEAVING) must make its stack-left step serve it, a
	 * borrowed run's Return (BUSY) must not simply wait again.  Each a
	 * compare-and-swap against those steps (a failed one looks again). */
	uint32_t st = __atomic_load_n(&po->state, __ATOMIC_ACQUIRE), want;

	do {
		want = st == PO_WAITING   ? PO_BUSY
		       : st == PO_LEAVING ? PO_LEAVING_Q
		       : st == PO_BUSY    ? PO_BUSY_Q
		                          : st;
	} while (want != st && !__atomic_compare_exchange_n(&po->state, &st, want, false,
	                                                    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE));
	if (st == PO_WAITING) {
		/* The server waits but was not borrowed in the raise
		 * (portal_call_lend): this strand runs a server itself (a
		 * nested call), or a lent strand was still leaving it then:
		 * wake the server's strand and hand it the CPU. */
		po->caller = p;
		to = po->server_strand;
		portal_answer(s, 0, p->portal_a[1]);
	} else {
		p->portal_next = NULL;
		if (po->qtail)
			po->qtail->portal_next = p;
		else
			po->qhead = p;
		po->qtail = p;
	}
	sched_prepare_block();
	portal_block(p, to, fl, portal_call_resume);
}

static int64_t portal_do_return(struct process *p, struct trap_frame *f, bool wait)
{
	uint64_t h = p->portal_a[0], argp = p->portal_a[2];
	unsigned long fl = spin_lock_irqsave(&portal_lock);
	struct portal *po = p->portal_h[h];
	struct process *c = po->caller, *n;
	struct strand *answered = c ? c->portal_self : NULL;
	uint64_t arg;

	/* p runs on its own strand (a Return on a lent one was done in the
	 * raise: portal_return_lent). */
	if (c) {
		po->caller = NULL;
		portal_answer(c, 0, p->portal_a[1]);
	}
	if (wait && !po->qhead) {
		/* Nobody else calls: wait for the next call, handing the
		 * processor back to the caller just answered. */
		po->server_strand = sched_current();
		p->portal_done = false;
		p->portal_frame = f;
		/* Last, with release: a lender (portal_call_lend, no lock)
		 * reads the strand, frame and argp once it sees WAITING. */
		__atomic_store_n(&po->state, PO_WAITING, __ATOMIC_RELEASE);
		sched_prepare_block();
		portal_block(p, answered, fl, portal_return_resume);
	}
	arg = 0;
	if (wait) {
		/* A caller is queued: serve it without blocking. */
		n = portal_serve_next(po);
		arg = n->portal_a[1];
	}
	spin_unlock_irqrestore(&portal_lock, fl);
	if (answered)
		sched_unblock(answered, 0);
	if (!wait)
		return 0;
	f->rdx = arg;
	return argp && copy_to_user(argp, &arg, sizeof(arg)) ? -EFAULT : 0;
}

static int64_t portal_finish(struct process *p, struct trap_frame *f, uint64_t nr)
{
	(void)nr;
	f->rdx = 0;
	if (p->portal_op == PORTAL_OP_CALL)
		return portal_do_call(p, f);
	return portal_do_return(p, f, p->portal_op == PORTAL_OP_RETURN_WAIT);
}

static void portal_fail(struct process *c)
{
	portal_answer(c, -EPIPE, 0);
	c->portal_next = NULL;
	sched_unblock(c->portal_self, 0);
}

void portal_process_exit(struct process *p)
{
	struct portal *dead[PROCESS_PORTALS];
	unsigned ndead = 0;
	unsigned long fl = spin_lock_irqsave(&portal_lock);

	if (p->portal_closed) {
		spin_unlock_irqrestore(&portal_lock, fl);
		return;
	}
	p->portal_closed = true;
	for (unsigned h = 0; h < PROCESS_PORTALS; h++) {
		struct portal *po = p->portal_h[h];

		if (!po)
			continue;
		if (portal_owned(p, h)) {
			/* The server is gone: its caller and queue fail (woken
			 * under the lock: the scheduler's locks rank above it). */
			if (po->caller)
				portal_fail(po->caller);
			for (struct process *c = po->qhead, *nx; c; c = nx) {
				nx = c->portal_next;
				portal_fail(c);
			}
			po->server = NULL;
			po->server_strand = NULL;
			__atomic_store_n(&po->state, PO_BUSY, __ATOMIC_RELAXED);
			po->caller = NULL;
			po->qhead = po->qtail = NULL;
		}
		p->portal_h[h] = NULL;
		if (--po->refs == 0)
			dead[ndead++] = po;
	}
	p->portal_owned = 0;
	spin_unlock_irqrestore(&portal_lock, fl);
	for (unsigned i = 0; i < ndead; i++)
		kfree(dead[i]);
}

int portal_init(void)
{
	struct domain *d = NULL;
	int err;

	if (!domain_spin_public)
		return -ENODEV; /* no extension model: nothing could call it */
	if ((err = domain_create_from_interface(&iface_Portal, &portal_module, &d)))
		return err;
	err = domain_publish(d);
	if (!err)
		err = nameserver_export_interface(&iface_Portal, d, NULL, NULL, &portal_module);
	domain_release(d);
	return err;
}
