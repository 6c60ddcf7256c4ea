/*
 * handoff_test.c: blocking with a continuation (sched_handoff_cont,
 * kernel/handoff.h) - the strand starts again in its continuation on the
 * stack it kept, with its wake result; it can hand the CPU straight to a
 * given blocked strand; woken before it blocks, it runs the continuation
 * at once.  Every strand is pinned to the test's CPU and outranks the
 * test, so the order of events is the scheduler's, not the host's.
 */
#include <arch/cpu.h>

#include "kernel/handoff.h"
#include "kernel/ktest.h"
#include "kernel/sched.h"
#include "kernel/strand.h"
#include "kernel/sync.h"

struct ho_ctx {
	struct spinlock lock;
	struct strand *self;    /* the strand that blocks with a continuation */
	struct strand *to;      /* the strand it hands the CPU to, or NULL */
	bool wake_early;        /* wake itself before blocking */
	uintptr_t sp;           /* the stack it keeps */
	volatile int cont_ran;  /* the continuation ran (once) */
	volatile int result;    /* its wait result, seen there */
	volatile bool stack_ok; /* the continuation ran just under sp */
	volatile bool irq_on;   /* ... with interrupts enabled */
	char log[8];
	volatile int n;
};

static void ho_log(struct ho_ctx *c, char ch)
{
	unsigned long f = arch_irq_save();

	if (c->n < (int)sizeof(c->log) - 1)
		c->log[c->n++] = ch;
	arch_irq_restore(f);
}

static void ho_cont(void *arg)
{
	struct ho_ctx *c = arg;
	uintptr_t here = (uintptr_t)__builtin_frame_address(0);

	c->stack_ok = here < c->sp && here > c->sp - 1024;
	c->irq_on = arch_irq_enabled();
	c->result = strand_current()->wait_result;
	c->cont_ran++;
	ho_log(c, 'c');
	strand_exit(0);
}

static void ho_blocker(void *arg)
{
	struct ho_ctx *c = arg;
	unsigned long fl;

	c->self = strand_current();
	c->sp = c->self->stack.top - 512;
	fl = spin_lock_irqsave(&c->lock);
	sched_prepare_block();
	if (c->wake_early)
		sched_unblock(c->self, 5); /* BLOCKING -> RUNNING: the wakeup came first */
	ho_log(c, 'a');
	sched_handoff_cont(c->to, 0, c->sp, ho_cont, c, &c->lock, fl);
}

/* Blocks plainly; logs when it runs again. */
static void ho_plain(void *arg)
{
	struct ho_ctx *c = arg;

	c->to = strand_current();
	sched_prepare_block();
	sched_block();
	ho_log(c, 'B');
}

static int ho_create(strand_entry_fn fn, void *arg, strand_t *h)
{
	struct strand_attr a = {.name = "handoff", .prio = SCHED_PRIO_DEFAULT + 1};

	return strand_create_pinned(&a, (unsigned)sched_strand_cpu(strand_current()), fn, arg, h);
}

static void ho_init(struct ho_ctx *c)
{
	*c = (struct ho_ctx){0};
	spin_init(&c->lock, "handoff test", SYNC_RANK_OBJ);
}

KTEST(handoff_cont_resumes_on_its_kept_stack)
{
	static struct ho_ctx c;
	strand_t h;

	ho_init(&c);
	KT_ASSERT_EQ(ho_create(ho_blocker, &c, &h), 0);
	/* It outranks us: it ran and blocked before strand_create returned. */
	KT_ASSERT(c.self && c.self->state == STRAND_BLOCKED);
	KT_ASSERT_EQ(c.cont_ran, 0);
	KT_ASSERT(sched_unblock(c.self, 7));
	KT_ASSERT_EQ(strand_join(h, 0), 0);
	KT_ASSERT_EQ(c.cont_ran, 1);
	KT_ASSERT_EQ(c.result, 7);
	KT_ASSERT(c.stack_ok);
	KT_ASSERT(c.irq_on);
	KT_ASSERT(!spin_held(&c.lock));
}

KTEST(handoff_cont_hands_the_cpu_to_the_given_strand)
{
	static struct ho_ctx c;
	strand_t hb, ha;

	ho_init(&c);
	KT_ASSERT_EQ(ho_create(ho_plain, &c, &hb), 0);
	KT_ASSERT(c.to && c.to->state == STRAND_BLOCKED);
	KT_ASSERT_EQ(ho_create(ho_blocker, &c, &ha), 0);
	/* The blocker handed the CPU to B, which ran before we got it back. */
	KT_ASSERT_EQ(strand_join(hb, 0), 0);
	KT_ASSERT_EQ(c.n, 2);
	KT_ASSERT(c.log[0] == 'a' && c.log[1] == 'B');
	KT_ASSERT(c.self->state == STRAND_BLOCKED);
	KT_ASSERT(sched_unblock(c.self, 0));
	KT_ASSERT_EQ(strand_join(ha, 0), 0);
	KT_ASSERT(c.n == 3 && c.log[2] == 'c');
}

KTEST(handoff_cont_woken_first_runs_the_continuation_at_once)
{
	static struct ho_ctx c;
	strand_t h;

	ho_init(&c);
	c.wake_early = true;
	KT_ASSERT_EQ(ho_create(ho_blocker, &c, &h), 0);
	/* It never blocked: the continuation ran and the strand ended. */
	KT_ASSERT_EQ(strand_join(h, 0), 0);
	KT_ASSERT_EQ(c.cont_ran, 1);
	KT_ASSERT_EQ(c.result, 5);
	KT_ASSERT(c.stack_ok);
	KT_ASSERT(c.irq_on);
	KT_ASSERT(!spin_held(&c.lock));
}

/* Woken before it blocked, it hands the CPU to nobody: the strand it
 * named must still be woken (it was once left blocked for good). */
KTEST(handoff_cont_woken_first_still_wakes_the_given_strand)
{
	static struct ho_ctx c;
	strand_t hb, ha;

	ho_init(&c);
	c.wake_early = true;
	KT_ASSERT_EQ(ho_create(ho_plain, &c, &hb), 0);
	KT_ASSERT(c.to && c.to->state == STRAND_BLOCKED);
	KT_ASSERT_EQ(ho_create(ho_blocker, &c, &ha), 0);
	KT_ASSERT_EQ(strand_join(ha, 0), 0);
	KT_ASSERT_EQ(c.cont_ran, 1);
	KT_ASSERT_EQ(c.result, 5);
	KT_ASSERT_EQ(strand_join(hb, 0), 0);
	KT_ASSERT(c.n == 3 && c.log[0] == 'a' && c.log[1] == 'c' && c.log[2] == 'B');
}
