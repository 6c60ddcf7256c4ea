/*
 * vproc.c: virtual processors for thread packages (kernel/vproc.h).
 *
 * The virtual processor's strand runs vproc_main: ask the package for a
 * thread (VProc.Pick), check the answer, switch to that thread's stack
 * (arch_switch, as the scheduler does, but between contexts of one strand)
 * and come back when the thread yields, blocks or ends.  The global
 * scheduler never sees the threads: when it preempts the virtual processor
 * in the middle of a thread, the thread's stack simply stays where it is
 * until the strand runs again.
 *
 * Pick, and Block/Unblock on threads, run the package's extension handlers
 * with preemption disabled: the dispatcher does that for every raise that
 * runs extension code (kernel/dispatch.h), so they need nothing here.
 *
 * vproc_get_stats may be called while the virtual processor runs (on
 * another CPU, or preempted in the middle of its loop on this one), so the
 * loop writes its statistics under a sequence count: one short section per
 * pick, with interrupts off so that it is never preempted halfway (a reader
 * on the same CPU would otherwise wait for it).  The reader copies until it
 * saw no section begin or end meanwhile.  The Strand.Resume / Checkpoint
 * counts have their own writer (the switch path, which may raise Resume on
 * one CPU while the strand is still leaving another) and are read apart.
 */
#include <arch/cpu.h>
#include <arch/kstack.h>
#include <arch/switch.h>

#include "kernel/clock.h"
#include "kernel/domain.h"
#include "kernel/nameserver.h"
#include "kernel/sched.h"
#include "kernel/strand_events.h"
#include "kernel/string.h"
#include "kernel/vproc.h"

/* A thread is READY or BLOCKED while it exists; its body's return makes it
 * EXITING until the loop, back on its own stack, reaps it (DONE); a DONE
 * slot can be forked again. */
enum vproc_tstate { VT_READY, VT_BLOCKED, VT_EXITING, VT_DONE };

struct vproc_thread {
	struct VProc_T *vp;
	uint32_t index;
	volatile enum vproc_tstate state;
	uintptr_t rsp;
	struct kstack *stack;        /* vproc_stacks[pool slot][index] */
	struct vproc_thread *joiner; /* blocked in vproc_join on this one */
};

struct VProc_T {
	bool used, started;
	char name[STRAND_NAME_MAX];
	struct vproc_attr attr;
	strand_t handle;
	struct strand *volatile strand; /* set by the strand itself when it starts */
	struct strand_package pkg;
	cap_t cap;
	uint32_t nthreads;
	struct vproc_thread th[VPROC_MAX_THREADS];
	struct vproc_thread *cur; /* running thread, or NULL on the loop */
	uintptr_t loop_rsp;
	volatile bool stop;
	/* The loop's statistics, written in vproc_st_begin/end sections (st_seq
	 * odd while one is open); resumes and checkpoints are written by the
	 * switch path alone, outside them. */
	uint32_t st_seq;
	struct vproc_stats st;
};

static const struct module vproc_module = {"VProc", MODULE_TRUSTED};
static struct VProc_T vproc_pool[VPROC_MAX];
/* Thread stacks stay with their pool slot once allocated and are reused by
 * the slot's next virtual processor: never freeing them keeps vproc off
 * kstack_free, whose unmapping invalidates only this CPU's TLB (a stale
 * entry on another CPU would then reach the old frames). */
static struct kstack vproc_stacks[VPROC_MAX][VPROC_MAX_THREADS];
static struct rt_sig vproc_pick_guard_sig;

/* vp is a virtual processor of the pool, in use: a pointer from a caller
 * is checked against the pool's bounds and element boundaries before it
 * is read. */
static bool vproc_valid(const struct VProc_T *vp)
{
	uintptr_t a = (uintptr_t)vp, base = (uintptr_t)vproc_pool;

	return a >= base && a < base + sizeof(vproc_pool) && (a - base) % sizeof(*vp) == 0 &&
	       vp->used;
}

/* ---- what the package may ask ---- */

uint64_t VProc_Threads(struct VProc_T *vp)
{
	return vp->nthreads;
}

uint64_t VProc_Ticks(void)
{
	return clock_ticks();
}

uint64_t VProc_Charged(struct VProc_T *vp)
{
	struct strand *s = vp->strand;
	return s ? s->ticks : 0;
}

int64_t vproc_thread_index(const void *p)
{
	uintptr_t a = (uintptr_t)p, base = (uintptr_t)vproc_pool;

	if (a < base || a >= base + sizeof(vproc_pool))
		return -1;
	for (uint32_t i = 0; i < VPROC_MAX; i++)
		for (uint32_t t = 0; t < vproc_pool[i].nthreads; t++)
			if (p == &vproc_pool[i].th[t])
				return t;
	return -1;
}

/* ---- the package's view through the strand capability ---- */

static bool vproc_covers(void *arg, const void *obj)
{
	const struct VProc_T *vp = arg;
	uintptr_t a = (uintptr_t)obj, t0 = (uintptr_t)&vp->th[0];

	if (obj == vp)
		return true; /* VProc.Pick */
	if (a >= t0 && a < t0 + vp->nthreads * sizeof(vp->th[0]))
		return (a - t0) % sizeof(vp->th[0]) == 0; /* one of its threads */
	if (vproc_thread_index(obj) >= 0)
		return false; /* another virtual processor's thread */
	/* A kernel strand: the virtual processor's own, known by its package
	 * (set when the strand is made, so even its first Resume is covered). */
	return ((const struct strand *)obj)->package == &vp->pkg;
}

/* ---- statistics ---- */

/* Open a section of the loop's statistics writes (see the top of the file). */
static unsigned long vproc_st_begin(struct VProc_T *vp)
{
	unsigned long f = arch_irq_save();

	__atomic_store_n(&vp->st_seq, vp->st_seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	return f;
}

static void vproc_st_end(struct VProc_T *vp, unsigned long f)
{
	__atomic_store_n(&vp->st_seq, vp->st_seq + 1, __ATOMIC_RELEASE);
	arch_irq_restore(f);
}

/* Strand.Checkpoint / Resume intrinsics call these for the vp's strand. */
static void vproc_checkpoint(struct strand_package *pkg, struct strand *s)
{
	struct VProc_T *vp = (struct VProc_T *)((char *)pkg - offsetof(struct VProc_T, pkg));
	(void)s;
	__atomic_store_n(&vp->st.checkpoints, vp->st.checkpoints + 1, __ATOMIC_RELAXED);
}

static void vproc_resume(struct strand_package *pkg, struct strand *s)
{
	struct VProc_T *vp = (struct VProc_T *)((char *)pkg - offsetof(struct VProc_T, pkg));
	(void)s;
	__atomic_store_n(&vp->st.resumes, vp->st.resumes + 1, __ATOMIC_RELAXED);
}

static const struct strand_package_ops vproc_pkg_ops = {vproc_checkpoint, vproc_resume};

/* ---- contexts ---- */

static void vproc_switch(uintptr_t *save, uintptr_t next)
{
	bool on = arch_irq_enabled();

	arch_irq_disable();
	arch_switch(save, next);
	if (on)
		arch_irq_enable();
}

static struct vproc_thread *vproc_self(void)
{
	struct strand *me = strand_current();

	for (uint32_t i = 0; i < VPROC_MAX; i++)
		if (vproc_pool[i].used && vproc_pool[i].strand == me)
			return vproc_pool[i].cur;
	return NULL;
}

static __attribute__((noreturn)) void vproc_thread_start(void *p)
{
	struct vproc_thread *th = p;
	struct VProc_T *vp = th->vp;

	arch_irq_enable(); /* the loop switched here with interrupts off */
	vp->attr.fn(vp, th->index, vp->attr.arg);
	/* The loop reaps it (vproc_reap): not here, because a fork may reuse
	 * this stack as soon as the thread is DONE. */
	th->state = VT_EXITING;
	for (;;)
		vproc_switch(&th->rsp, vp->loop_rsp); /* never picked again */
}

int vproc_yield(void)
{
	struct vproc_thread *th = vproc_self();

	if (!th)
		return -EPERM;
	vproc_switch(&th->rsp, th->vp->loop_rsp);
	return 0;
}

static void vproc_block_thread(struct vproc_thread *th)
{
	th->state = VT_BLOCKED;
	Strand_Block((struct Strand_T *)th);
	vproc_switch(&th->rsp, th->vp->loop_rsp);
}

int vproc_block(void)
{
	struct vproc_thread *th = vproc_self();

	if (!th)
		return -EPERM;
	vproc_block_thread(th);
	return 0;
}

int vproc_join(uint32_t index)
{
	struct vproc_thread *me = vproc_self(), *t;

	if (!me)
		return -EPERM;
	if (index >= me->vp->nthreads)
		return -ESRCH;
	t = &me->vp->th[index];
	if (t == me)
		return -EDEADLK;
	if (t->joiner && t->joiner != me)
		return -EBUSY;
	/* Threads of one virtual processor never run at once, so nothing
	 * comes between this check and the block; a stray vproc_unblock only
	 * makes the loop go round again. */
	while (t->state != VT_DONE) {
		t->joiner = me;
		vproc_block_thread(me);
	}
	return 0;
}

/* Make thread index of vp READY if it is in state from (else return
 * wrong), then tell its package (Strand.Unblock).  The state changes with
 * interrupts off, as every thread state does.  A DONE thread gets a fresh
 * context first: its old one was saved by the loop's switch and is never
 * resumed, so the stack is free for it. */
static int vproc_make_ready(struct VProc_T *vp, uint32_t index, enum vproc_tstate from, int wrong)
{
	struct vproc_thread *th;
	bool on;

	if (!vproc_valid(vp))
		return -EINVAL;
	if (index >= vp->nthreads)
		return -ESRCH;
	th = &vp->th[index];
	on = arch_irq_enabled();
	arch_irq_disable();
	if (th->state != from) {
		if (on)
			arch_irq_enable();
		return wrong;
	}
	if (from == VT_DONE) {
		th->rsp = arch_context_init(th->stack->top, vproc_thread_start, th);
		th->joiner = NULL;
	}
	__atomic_store_n(&th->state, VT_READY, __ATOMIC_RELEASE);
	if (on)
		arch_irq_enable();
	Strand_Unblock((struct Strand_T *)th);
	return 0;
}

int vproc_fork(struct VProc_T *vp, uint32_t index)
{
	return vproc_make_ready(vp, index, VT_DONE, -EBUSY);
}

int vproc_unblock(struct VProc_T *vp, uint32_t index)
{
	return vproc_make_ready(vp, index, VT_BLOCKED, -EINVAL);
}

/* ---- the virtual processor ---- */

static void vproc_idle(void)
{
	if (sched_sleep_ns(1000000000ull / CLOCK_HZ) < 0)
		sched_yield();
}

/* A thread's body returned (it is EXITING): it is DONE, no longer runnable
 * (Strand.Block on it), and its joiner, if any, runs again. */
static void vproc_reap(struct VProc_T *vp, struct vproc_thread *th)
{
	struct vproc_thread *j = th->joiner;

	th->joiner = NULL;
	th->state = VT_DONE;
	Strand_Block((struct Strand_T *)th);
	if (j && j->state == VT_BLOCKED)
		vproc_unblock(vp, j->index);
}

static void vproc_main(void *p)
{
	struct VProc_T *vp = p;
	uint64_t prev = ~0ull;

	vp->strand = strand_current();
	while (!vp->stop) {
		struct dispatch_outcome o = {0};
		uint64_t a[5] = {(uint64_t)(uintptr_t)vp, prev, vp->nthreads, 0, 0};
		struct vproc_thread *th = NULL;
		unsigned long f;
		int64_t pick;
		int st;

		st = dispatch_raise(VProc_Pick_event, a, &o);
		pick = (int64_t)o.result;
		if (st == DISPATCH_HANDLED && pick >= 0 && (uint64_t)pick < vp->nthreads &&
		    vp->th[pick].state == VT_READY)
			th = &vp->th[pick];
		f = vproc_st_begin(vp);
		vp->st.picks++;
		if (th) {
			vp->st.runs[pick]++;
			vp->st.trace[vp->st.ntrace++ % VPROC_TRACE] = (uint8_t)pick;
		} else {
			if (st != DISPATCH_HANDLED)
				vp->st.unhandled++;
			else if (pick >= 0)
				vp->st.refused++;
			vp->st.idles++;
		}
		vproc_st_end(vp, f);
		if (!th) {
			vproc_idle();
			continue;
		}
		vp->cur = th;
		vproc_switch(&vp->loop_rsp, th->rsp);
		vp->cur = NULL;
		if (th->state == VT_EXITING)
			vproc_reap(vp, th);
		prev = (uint64_t)pick;
	}
	if (vp->strand) {
		unsigned long f = vproc_st_begin(vp);
		vp->st.ticks = vp->strand->ticks;
		vproc_st_end(vp, f);
	}
}

int vproc_create(const struct vproc_attr *a, struct VProc_T **out)
{
	struct VProc_T *vp = NULL;
	uint32_t i;
	int err;

	if (!a || !a->name || !a->holder || !a->fn || !out || a->nthreads == 0 ||
	    a->nthreads > VPROC_MAX_THREADS || a->prio < SCHED_PRIO_MIN || a->prio > SCHED_PRIO_MAX)
		return -EINVAL;
	for (i = 0; i < VPROC_MAX && !vp; i++)
		if (!vproc_pool[i].used)
			vp = &vproc_pool[i];
	if (!vp)
		return -ENOSPC;
	memset(vp, 0, sizeof(*vp));
	vp->attr = *a;
	model_copy_name(vp->name, sizeof(vp->name), a->name);
	vp->attr.name = vp->name;
	vp->pkg.ops = &vproc_pkg_ops;
	vp->pkg.name = vp->name;
	for (i = 0; i < a->nthreads; i++) {
		struct vproc_thread *th = &vp->th[i];
		struct kstack *ks = &vproc_stacks[vp - vproc_pool][i];
		if (!ks->top && (err = kstack_alloc(ks)))
			goto err_clear;
		th->stack = ks;
		th->vp = vp;
		th->index = i;
		th->state = VT_READY;
		th->rsp = arch_context_init(ks->top, vproc_thread_start, th);
		vp->nthreads = i + 1;
	}
	if ((err = strandev_grant(a->holder, vproc_covers, vp, &vp->cap)))
		goto err_clear;
	vp->used = true;
	*out = vp;
	return 0;

err_clear: /* stacks already allocated stay with the slot */
	memset(vp, 0, sizeof(*vp));
	return err == -ENOSPC ? -ENOSPC : err < 0 ? err : -ENOMEM;
}

int vproc_start(struct VProc_T *vp)
{
	struct strand_attr sa = {0};
	int err;

	if (!vproc_valid(vp))
		return -EINVAL;
	if (vp->started)
		return -EBUSY;
	vp->started = true;
	sa.name = vp->name;
	sa.prio = vp->attr.prio;
	sa.package = &vp->pkg;
	if (vp->attr.pinned)
		err = strand_create_pinned(&sa, vp->attr.cpu, vproc_main, vp, &vp->handle);
	else
		err = strand_create_attr(&sa, vproc_main, vp, &vp->handle);
	if (err)
		vp->started = false;
	return err;
}

int vproc_stop(struct VProc_T *vp)
{
	if (!vproc_valid(vp))
		return -EINVAL;
	vp->stop = true;
	if (vp->started)
		strand_join(vp->handle, NULL);
	strandev_revoke(vp->cap);
	vp->used = false;
	vp->strand = NULL;
	vp->nthreads = 0;
	return 0;
}

void vproc_get_stats(const struct VProc_T *vp, struct vproc_stats *out)
{
	struct strand *s = vp->strand;
	uint32_t seq;

	do {
		while ((seq = __atomic_load_n(&vp->st_seq, __ATOMIC_ACQUIRE)) & 1)
			arch_cpu_relax(); /* a section is open on another CPU: a few stores */
		*out = vp->st;
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
	} while (__atomic_load_n(&vp->st_seq, __ATOMIC_RELAXED) != seq);
	out->resumes = __atomic_load_n(&vp->st.resumes, __ATOMIC_RELAXED);
	out->checkpoints = __atomic_load_n(&vp->st.checkpoints, __ATOMIC_RELAXED);
	if (s)
		out->ticks = __atomic_load_n(&s->ticks, __ATOMIC_RELAXED);
}

cap_t vproc_cap(const struct VProc_T *vp)
{
	return vp->cap;
}

int vproc_init(void)
{
	struct domain *d = NULL;
	int err;

	if ((err = domain_create_from_interface(&iface_VProc, &vproc_module, &d)))
		return err;
	strandev_guard_sig(VProc_Pick_event->sig, &vproc_pick_guard_sig);
	err = dispatch_set_authorizer(VProc_Pick_event, strandev_authorize, &vproc_pick_guard_sig,
	                              &vproc_module);
	if (!err)
		err = domain_publish(d);
	if (!err)
		err = nameserver_export_interface(&iface_VProc, d, NULL, NULL, &vproc_module);
	domain_release(d);
	return err;
}
