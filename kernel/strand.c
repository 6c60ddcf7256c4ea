/*
 * strand.c: strand objects, their handles, creation, exit and join
 * (kernel/strand.h).  Scheduling decisions are sched.c's; this file owns
 * the objects and their life cycle.
 *
 * Handles.  The table is STRAND_MAX slots of {strand, generation}, taken
 * from the pmm at boot (one block, never freed).  Free slots form a LIFO
 * list; freeing a slot bumps its generation, so every handle ever given out
 * for the slot's previous strand stops matching.  Lookups are O(1).
 *
 * Objects and stacks.  A strand's object (kmalloc) and stack (arch kstack,
 * guard page below) are allocated together and recycled together: a dead
 * strand goes back to a small cache, so the fork-join path of a warm system
 * allocates nothing.  The cache is emptied by strand_cache_flush().
 *
 * Exit and join.  strand_exit() runs with interrupts off from the moment it
 * marks the strand EXITED until the scheduler has switched away, so the
 * joiner (woken by exit) can never observe an exited strand that is still
 * queued to run.  The joiner additionally waits for on_cpu to clear - the
 * moment the stack is no longer in use - before recycling (immediate on one
 * CPU; on SMP the exiting strand may still be switching away on another
 * CPU).  Detached strands free their slot at exit and are
 * handed to the scheduler's reap list, emptied by strand_create() and the
 * idle strand.
 */
#include <arch/cpu.h>
#include <arch/kstack.h>
#include <arch/percpu.h>
#include <arch/smp.h>
#include <arch/switch.h>

#include "kernel/heap.h"
#include "kernel/kprintf.h"
#include "kernel/mem.h"
#include "kernel/panic.h"
#include "kernel/sched.h"
#include "kernel/string.h"
#include "kernel/strand.h"

struct strand_slot {
	struct strand *s;
	uint32_t gen;
	uint32_t next_free;
};

#define STRAND_NIL         UINT32_MAX
#define STRAND_TABLE_PAGES ((STRAND_MAX * sizeof(struct strand_slot) + 4095) / 4096)

static struct strand_slot *strand_table;
static uint32_t strand_free_head = STRAND_NIL;
static unsigned strand_live;
static struct strand *strand_cache[STRAND_CACHE_MAX];
static unsigned strand_ncache;
static struct spinlock strand_lock = SPINLOCK_INIT("strands", SYNC_RANK_STRANDS);

static inline strand_t strand_handle(const struct strand *s)
{
	return ((uint64_t)s->gen << 32) | (s->index + 1);
}

/* The live strand h names, or NULL; strand_lock held. */
static struct strand *strand_lookup_locked(strand_t h)
{
	uint64_t idx = (h & 0xffffffffu) - 1;
	struct strand_slot *e;

	if (!strand_table || idx >= STRAND_MAX)
		return 0;
	e = &strand_table[idx];
	if (e->gen != (uint32_t)(h >> 32) || !e->s)
		return 0;
	return e->s;
}

static bool strand_slot_alloc_locked(struct strand *s)
{
	struct strand_slot *e;
	uint32_t idx = strand_free_head;

	if (idx == STRAND_NIL)
		return false;
	e = &strand_table[idx];
	strand_free_head = e->next_free;
	e->s = s;
	s->index = idx;
	s->gen = e->gen;
	strand_live++;
	return true;
}

static void strand_slot_free_locked(struct strand *s)
{
	struct strand_slot *e = &strand_table[s->index];

	e->s = 0;
	if (++e->gen == 0)
		e->gen = 1;
	e->next_free = strand_free_head;
	strand_free_head = s->index;
	strand_live--;
}

/* A new object with a stack, or NULL. */
static struct strand *strand_shell_new(void)
{
	struct strand *s = kzalloc(sizeof(*s));

	if (!s)
		return 0;
	if (kstack_alloc(&s->stack) != 0) {
		kfree(s);
		return 0;
	}
	return s;
}

static void strand_shell_free(struct strand *s)
{
	int err;

	/* Other CPUs may still cache the stack's translations; the slot and
	 * its frames are reused at once.  Nobody touches a dead strand's
	 * stack, so a shootdown before the unmapping is enough. */
	if (percpu_count() > 1)
		smp_tlb_flush_all(s->stack.bottom, s->stack.top - s->stack.bottom);
	err = kstack_free(&s->stack);

	if (err)
		panic("strand %s: freeing its stack failed (%d)", s->name, err);
	kfree(s);
}

void strand_recycle(struct strand *s)
{
	unsigned long f;

	if (!s || (s->flags & (STRAND_F_BOOT | STRAND_F_IDLE)))
		return;
	s->state = STRAND_FREE;
	f = spin_lock_irqsave(&strand_lock);
	if (strand_ncache < STRAND_CACHE_MAX) {
		strand_cache[strand_ncache++] = s;
		spin_unlock_irqrestore(&strand_lock, f);
		return;
	}
	spin_unlock_irqrestore(&strand_lock, f);
	strand_shell_free(s);
}

unsigned strand_cache_flush(void)
{
	unsigned n = 0;

	for (;;) {
		unsigned long f = spin_lock_irqsave(&strand_lock);
		struct strand *s = strand_ncache ? strand_cache[--strand_ncache] : 0;

		spin_unlock_irqrestore(&strand_lock, f);
		if (!s)
			return n;
		strand_shell_free(s);
		n++;
	}
}

/* Every strand starts here, on its own stack (arch_strand_start calls it). */
static void strand_start(void *p)
{
	struct strand *s = p;

	sched_strand_started();
	s->entry(s->arg);
	strand_exit(0);
}

static void strand_prepare(struct strand *s, const char *name, int prio, uint32_t flags,
                           strand_entry_fn entry, void *arg, struct strand_package *pkg)
{
	size_t i = 0;

	for (; name && name[i] && i < STRAND_NAME_MAX - 1; i++)
		s->name[i] = name[i];
	s->name[i] = 0;
	s->state = STRAND_FREE;
	s->prio = (uint8_t)prio;
	s->quantum = SCHED_QUANTUM_TICKS;
	s->on_cpu = false;
	s->cpu = 0;
	s->pin = -1;
	s->flags = flags;
	s->wait_result = 0;
	s->next = s->timer_next = 0;
	s->entry = entry;
	s->arg = arg;
	s->exit_code = 0;
	s->joiner = 0;
	s->package = pkg;
	s->proc_owner = s->proc_acting = 0;
	s->held_mutexes = 0;
	s->switches_in = 0;
	s->ticks = 0;
	if (s->stack.top)
		s->rsp = arch_context_init(s->stack.top, strand_start, s);
}

static int strand_create_common(const struct strand_attr *attr, int pin, strand_entry_fn entry,
                                void *arg, strand_t *out)
{
	struct strand *s;
	unsigned long f;
	strand_t h;

	if (!attr || !entry || !out || attr->prio < SCHED_PRIO_MIN || attr->prio > SCHED_PRIO_MAX ||
	    !sched_running() || (pin >= 0 && !percpu_online((unsigned)pin)))
		return -EINVAL;
	while ((s = sched_reap_take()))
		strand_recycle(s);

	f = spin_lock_irqsave(&strand_lock);
	s = strand_ncache ? strand_cache[--strand_ncache] : 0;
	if (!s) {
		spin_unlock_irqrestore(&strand_lock, f);
		s = strand_shell_new();
		if (!s)
			return -ENOMEM;
		f = spin_lock_irqsave(&strand_lock);
	}
	if (!strand_slot_alloc_locked(s)) {
		spin_unlock_irqrestore(&strand_lock, f);
		strand_recycle(s);
		return -EAGAIN;
	}
	spin_unlock_irqrestore(&strand_lock, f);

	strand_prepare(s, attr->name ? attr->name : "strand", attr->prio,
	               attr->detached ? STRAND_F_DETACHED : 0, entry, arg, attr->package);
	s->pin = (int16_t)pin;
	h = strand_handle(s);
	*out = h;
	sched_make_ready(s); /* may run it at once if it outranks us */
	return 0;
}

int strand_create_attr(const struct strand_attr *attr, strand_entry_fn entry, void *arg,
                       strand_t *out)
{
	return strand_create_common(attr, -1, entry, arg, out);
}

int strand_create_pinned(const struct strand_attr *attr, unsigned cpu, strand_entry_fn entry,
                         void *arg, strand_t *out)
{
	return strand_create_common(attr, cpu < PERCPU_MAX ? (int)cpu : PERCPU_MAX, entry, arg,
	                            out);
}

int strand_create(strand_entry_fn entry, void *arg, int prio, const char *name, strand_t *out)
{
	struct strand_attr a = {.name = name, .prio = prio};

	return strand_create_attr(&a, entry, arg, out);
}

void strand_exit(int code)
{
	struct strand *cur = sched_current();
	unsigned long f;
	bool reap;

	if (!cur || (cur->flags & (STRAND_F_BOOT | STRAND_F_IDLE)))
		panic("strand_exit from %s, which must never exit", cur ? cur->name : "boot code");
	for (struct mutex *m = cur->held_mutexes; m; m = m->held_next)
		kprintf("strand: %s exits holding mutex %s\n", cur->name, m->name);
	(void)arch_irq_save(); /* off until we are off the CPU for good */
	f = spin_lock_irqsave(&strand_lock);
	cur->exit_code = code;
	cur->flags |= STRAND_F_EXITED;
	reap = cur->flags & STRAND_F_DETACHED;
	if (reap)
		strand_slot_free_locked(cur);
	else if (cur->joiner)
		sched_unblock(cur->joiner, 0);
	spin_unlock_irqrestore(&strand_lock, f);
	sched_exit_current(reap);
}

int strand_join(strand_t h, int *code)
{
	struct strand *cur = sched_current(), *s;
	unsigned long f;
	int err = 0;

	f = spin_lock_irqsave(&strand_lock);
	s = strand_lookup_locked(h);
	if (!s)
		err = -ESRCH;
	else if (s == cur)
		err = -EDEADLK;
	else if (s->flags & (STRAND_F_DETACHED | STRAND_F_BOOT))
		err = -EINVAL;
	else if (s->joiner)
		err = -EBUSY;
	if (err) {
		spin_unlock_irqrestore(&strand_lock, f);
		return err;
	}
	while (!(s->flags & STRAND_F_EXITED)) {
		s->joiner = cur;
		sched_prepare_block();
		spin_unlock_irqrestore(&strand_lock, f);
		sched_block();
		f = spin_lock_irqsave(&strand_lock);
	}
	s->joiner = 0;
	if (code)
		*code = s->exit_code;
	strand_slot_free_locked(s);
	spin_unlock_irqrestore(&strand_lock, f);
	while (__atomic_load_n(&s->on_cpu, __ATOMIC_ACQUIRE))
		arch_cpu_relax();
	strand_recycle(s);
	return 0;
}

int strand_detach(strand_t h)
{
	struct strand *s;
	unsigned long f;
	bool dead = false;
	int err = 0;

	f = spin_lock_irqsave(&strand_lock);
	s = strand_lookup_locked(h);
	if (!s)
		err = -ESRCH;
	else if (s->flags & (STRAND_F_DETACHED | STRAND_F_BOOT))
		err = -EINVAL;
	else if (s->joiner)
		err = -EBUSY;
	else if (s->flags & STRAND_F_EXITED) {
		strand_slot_free_locked(s); /* already dead: release it now */
		dead = true;
	} else {
		s->flags |= STRAND_F_DETACHED;
	}
	spin_unlock_irqrestore(&strand_lock, f);
	if (dead) {
		while (__atomic_load_n(&s->on_cpu, __ATOMIC_ACQUIRE))
			arch_cpu_relax();
		strand_recycle(s);
	}
	return err;
}

struct strand *strand_current(void)
{
	return sched_current();
}

strand_t strand_self(void)
{
	struct strand *s = sched_current();

	return s && !(s->flags & STRAND_F_IDLE) ? strand_handle(s) : 0;
}

int strand_name(strand_t h, char *buf, unsigned len)
{
	struct strand *s;
	unsigned long f;
	unsigned i = 0;

	if (!buf || !len)
		return -EINVAL;
	f = spin_lock_irqsave(&strand_lock);
	s = strand_lookup_locked(h);
	if (s)
		for (; s->name[i] && i + 1 < len; i++)
			buf[i] = s->name[i];
	buf[i] = 0;
	spin_unlock_irqrestore(&strand_lock, f);
	return s ? 0 : -ESRCH;
}

int strand_set_priority(strand_t h, int prio)
{
	struct strand *s;
	unsigned long f;
	int err;

	f = spin_lock_irqsave(&strand_lock);
	s = strand_lookup_locked(h);
	err = s && !(s->flags & STRAND_F_EXITED) ? sched_set_priority(s, prio) : -ESRCH;
	spin_unlock_irqrestore(&strand_lock, f);
	sched_preempt_check();
	return err;
}

unsigned strand_count(void)
{
	return strand_live;
}

struct strand *strand_init(void)
{
	struct strand *boot;

	strand_table = mem_page_alloc(STRAND_TABLE_PAGES);
	boot = kzalloc(sizeof(*boot));
	if (!strand_table || !boot)
		return 0;
	for (uint32_t i = STRAND_MAX; i-- > 0;) {
		strand_table[i].gen = 1;
		strand_table[i].next_free = strand_free_head;
		strand_free_head = i;
	}
	strand_prepare(boot, "main", SCHED_PRIO_DEFAULT, STRAND_F_BOOT, 0, 0, 0);
	strand_slot_alloc_locked(boot);
	return boot;
}

struct strand *strand_create_idle(void (*fn)(void *), void *arg, const char *name)
{
	struct strand *s = strand_shell_new();

	if (!s)
		return 0;
	strand_prepare(s, name, SCHED_PRIO_IDLE, STRAND_F_IDLE, fn, arg, 0);
	s->index = STRAND_NIL;
	s->state = STRAND_READY; /* never queued: sched_pick's fallback */
	strand_live++;
	return s;
}
