/*
 * strand_test.c: strand life cycle - create/join many, exit codes, join
 * errors (unknown, twice, stale, self, detached), detached reaping, a
 * stack overflow caught on the guard page, and memory exhaustion that fails
 * cleanly and gives everything back.
 */
#include <arch/cpu.h>
#include <arch/fault.h>
#include <arch/kstack.h>
#include <arch/trap.h>
#include <arch/x86.h>

#include "kernel/heap.h"
#include "kernel/ktest.h"
#include "kernel/pmm.h"
#include "kernel/sched.h"
#include "kernel/strand.h"

static void st_add(void *arg)
{
	__atomic_fetch_add((volatile int *)arg, 1, __ATOMIC_RELAXED);
}

static void st_exit_code(void *arg)
{
	strand_exit((int)(uintptr_t)arg);
}

KTEST(strand_create_join_many)
{
	static strand_t h[200];
	volatile int count = 0;
	unsigned live = strand_count();

	for (int i = 0; i < 200; i++)
		KT_ASSERT_EQ(
		    strand_create(st_add, (void *)&count, SCHED_PRIO_DEFAULT, "many", &h[i]), 0);
	KT_ASSERT_EQ(strand_count(), live + 200);
	for (int i = 0; i < 200; i++)
		KT_ASSERT_EQ(strand_join(h[i], 0), 0);
	KT_ASSERT_EQ(count, 200);
	KT_ASSERT_EQ(strand_count(), live);
}

KTEST(strand_exit_code_and_name)
{
	strand_t h;
	char name[STRAND_NAME_MAX];
	int code = 0;

	KT_ASSERT_EQ(strand_create(st_exit_code, (void *)42, SCHED_PRIO_MIN,
	                           "exit-42-with-a-name-longer-than-32", &h),
	             0);
	KT_ASSERT_EQ(strand_name(h, name, sizeof(name)), 0);
	KT_ASSERT_EQ(name[STRAND_NAME_MAX - 2], 'n'); /* truncated ... */
	KT_ASSERT_EQ(name[STRAND_NAME_MAX - 1], 0);   /* ... and terminated */
	KT_ASSERT_EQ(strand_join(h, &code), 0);
	KT_ASSERT_EQ(code, 42);
	KT_ASSERT_EQ(strand_name(h, name, sizeof(name)), -ESRCH);
}

KTEST(strand_join_errors)
{
	strand_t h1, h2;
	volatile int n = 0;

	KT_ASSERT_EQ(strand_join(0, 0), -ESRCH);
	KT_ASSERT_EQ(strand_join(0xdeadbeef00001234ull, 0), -ESRCH);
	KT_ASSERT_EQ(strand_join(((uint64_t)1 << 32) | (STRAND_MAX + 7), 0), -ESRCH);
	KT_ASSERT_EQ(strand_join(strand_self(), 0), -EDEADLK);
	KT_ASSERT_EQ(strand_create(st_add, (void *)&n, SCHED_PRIO_DEFAULT, "j1", &h1), 0);
	KT_ASSERT_EQ(strand_join(h1, 0), 0);
	KT_ASSERT_EQ(strand_join(h1, 0), -ESRCH); /* joined twice */
	/* The slot is reused (LIFO) with a new generation: the old handle stays dead. */
	KT_ASSERT_EQ(strand_create(st_add, (void *)&n, SCHED_PRIO_DEFAULT, "j2", &h2), 0);
	KT_ASSERT_EQ(h2 & 0xffffffffu, h1 & 0xffffffffu);
	KT_ASSERT(h2 != h1);
	KT_ASSERT_EQ(strand_join(h1, 0), -ESRCH); /* stale */
	KT_ASSERT_EQ(strand_detach(h1), -ESRCH);
	KT_ASSERT_EQ(strand_join(h2, 0), 0);
	KT_ASSERT_EQ(n, 2);
	KT_ASSERT_EQ(strand_create(0, 0, SCHED_PRIO_DEFAULT, "x", &h1), -EINVAL);
	KT_ASSERT_EQ(strand_create(st_add, (void *)&n, SCHED_PRIO_MAX + 1, "x", &h1), -EINVAL);
	KT_ASSERT_EQ(strand_create(st_add, (void *)&n, SCHED_PRIO_IDLE, "x", &h1), -EINVAL);
}

KTEST(strand_detached_reaped)
{
	strand_t h;
	volatile int n = 0;
	unsigned live = strand_count();

	struct strand_attr a = {.name = "det", .prio = SCHED_PRIO_MIN};

	/* On this strand's CPU, below it: it cannot end before the checks below. */
	KT_ASSERT_EQ(sched_pin_current(0), 0);
	KT_ASSERT_EQ(strand_create_pinned(&a, 0, st_add, (void *)&n, &h), 0);
	KT_ASSERT_EQ(strand_detach(h), 0);
	KT_ASSERT_EQ(strand_join(h, 0), -EINVAL);
	/* Sleeping lets it run and end (a tick at most); 1 s at most. */
	for (int i = 0; i < 1000 && (n != 1 || strand_count() != live); i++)
		KT_ASSERT_EQ(sched_sleep_ns(1000 * 1000), 0);
	KT_ASSERT_EQ(n, 1);
	KT_ASSERT_EQ(strand_join(h, 0), -ESRCH);
	KT_ASSERT_EQ(strand_count(), live);
	KT_ASSERT_EQ(sched_pin_current(-1), 0);
}

/* ---- stack overflow ---- */

struct st_overflow {
	int vector;
	uint64_t cr2;
	bool in_guard;
};

static volatile int st_depth_limit = 1 << 30;

static __attribute__((noinline)) int st_recurse(int depth)
{
	volatile char pad[512];

	pad[0] = (char)depth;
	if (depth > st_depth_limit)
		return 0;
	return st_recurse(depth + 1) + pad[0];
}

static void st_overflow_main(void *arg)
{
	struct st_overflow *o = arg;
	struct fault_catch fc = {.vector = FAULT_ANY};

	/* Interrupts off: an interrupt taken at the guard would never see its EOI. */
	arch_irq_disable();
	if (fault_catch_arm(&fc) == 0) {
		st_recurse(0);
		fault_catch_disarm(&fc);
	}
	o->vector = fc.caught_vector;
	o->cr2 = read_cr2();
	o->in_guard = kstack_in_guard(&strand_current()->stack, o->cr2);
	arch_irq_enable();
}

KTEST(strand_stack_overflow_hits_guard)
{
	struct st_overflow o = {-1, 0, false};
	strand_t h;

	KT_ASSERT_EQ(strand_create(st_overflow_main, &o, SCHED_PRIO_DEFAULT, "overflow", &h), 0);
	KT_ASSERT_EQ(strand_join(h, 0), 0);
	/* The #PF on the guard cannot push its frame there: #DF on its IST stack. */
	KT_ASSERT_EQ(o.vector, TRAP_DF);
	if (!o.in_guard)
		KT_FAIL("CR2 %lx is not in the strand's guard page", (unsigned long)o.cr2);
	KT_ASSERT(kstack_guard_slot(o.cr2) >= 0);
}

/* ---- exhaustion ---- */

/*
 * Hold all free memory but ST_EXHAUST_KEEP pages in 2 MiB blocks that are
 * never touched.  Exhausting the whole of a 256 MiB guest with strands
 * touches a fresh stack page per strand, and the first touch of guest RAM
 * is a host page fault that costs tens of microseconds on these machines:
 * most of a second of boot.  Running out of the rest fails the same way.
 */
#define ST_EXHAUST_KEEP   6144u /* 24 MiB: some 1,400 strands */
#define ST_EXHAUST_BLOCK  512u  /* pages: 2 MiB */
#define ST_EXHAUST_BLOCKS 512u

static unsigned st_reserve(uint64_t *blocks)
{
	struct pmm_stats ps;
	uint64_t free;
	unsigned n = 0;

	pmm_get_stats(&ps); /* once: it walks the pmm's metadata */
	for (free = ps.free_pages;
	     n < ST_EXHAUST_BLOCKS && free > ST_EXHAUST_KEEP + ST_EXHAUST_BLOCK;
	     free -= ST_EXHAUST_BLOCK) {
		if (pmm_alloc(ST_EXHAUST_BLOCK, 1, 0, &blocks[n]) != 0)
			break;
		n++;
	}
	return n;
}

KTEST(strand_exhaustion_fails_cleanly)
{
	struct pmm_stats p0, p1;
	struct heap_stats h0, h1;
	unsigned live = strand_count(), made = 0, held;
	volatile int ran = 0;
	size_t stacks0;
	strand_t after;
	strand_t *h;
	uint64_t *blocks;
	int err = 0;

	strand_cache_flush();
	h = kmalloc(STRAND_MAX * sizeof(*h));
	KT_ASSERT(h != NULL);
	blocks = kmalloc(ST_EXHAUST_BLOCKS * sizeof(*blocks));
	KT_ASSERT(blocks != NULL);
	pmm_get_stats(&p0);
	heap_get_stats(&h0);
	stacks0 = kstack_count();
	held = st_reserve(blocks);
	/* Lower priority than us: none runs until we join. */
	while (made < STRAND_MAX) {
		err = strand_create(st_add, (void *)&ran, SCHED_PRIO_MIN, "hog", &h[made]);
		if (err)
			break;
		made++;
	}
	for (unsigned i = 0; i < held; i++)
		KT_ASSERT_EQ(pmm_free(blocks[i], ST_EXHAUST_BLOCK), 0);
	KT_ASSERT(err == -ENOMEM || err == -EAGAIN);
	KT_ASSERT(made > 1000);
	for (unsigned i = 0; i < made; i++)
		KT_ASSERT_EQ(strand_join(h[i], 0), 0);
	strand_cache_flush();
	kfree(h);
	kfree(blocks);
	KT_ASSERT_EQ(strand_count(), live);
	KT_ASSERT_EQ(kstack_count(), stacks0);
	pmm_get_stats(&p1);
	heap_get_stats(&h1);
	KT_ASSERT_EQ(h1.live_objects, h0.live_objects - 2); /* the handle and block arrays */
	/* Everything back, but for page tables of new stack slots (one per 2 MiB
	 * of slots) and pages the heap keeps for reuse. */
	uint64_t slack = (uint64_t)made * KSTACK_SLOT_SIZE / (2u << 20) + 8 +
	                 (h1.pages_held > h0.pages_held ? h1.pages_held - h0.pages_held : 0);
	if (p1.free_pages + slack < p0.free_pages)
		KT_FAIL("%lu pages not returned after %u strands",
		        (unsigned long)(p0.free_pages - p1.free_pages), made);
	/* And the system still works. */
	KT_ASSERT_EQ(ran, (int)made);
	KT_ASSERT_EQ(strand_create(st_add, (void *)&ran, SCHED_PRIO_DEFAULT, "after", &after), 0);
	KT_ASSERT_EQ(strand_join(after, 0), 0);
}
