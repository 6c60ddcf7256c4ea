/*
 * process_fork.c: fork, exec and the parent/child relation of processes
 * (see kernel/process.h for the model).
 *
 * fork: the child is a new process (process_alloc: pid, Translation
 * context, VirtAddr range) sharing every page the parent has mapped
 * copy-on-write (translation_cow_share: the same PhysAddr objects mapped
 * in both contexts with W withheld, the parent's writable TLB entries
 * flushed; the first write on either side copies the page, or gives W
 * back to the last sharer - kernel/translation.c), the parent's FPU state
 * (still in the registers: the kernel never touches them), FS base, the
 * personality's copy of its state (fd table, areas, brk, signals), and the
 * parent's saved registers with rax = 0, which its strand enters ring 3
 * with.  Nothing is copied at fork: a fork of busybox maps ~600 pages and
 * copies none.
 *
 * exec: everything that can fail happens on a new address space (lookup,
 * elf_exec_parse, the image, the stack with argv/envp); only then, the
 * point of no return: the process's extensions are unloaded (they served
 * the old image's context), the new context replaces the old one (CR3 and
 * the process's fields), the old one and its pages are freed, the FPU
 * state and FS base start clean, the personality resets its state, and the
 * saved registers become the new program's entry state.  A failed exec
 * leaves the caller as it was.
 *
 * Parent and children: under process_tree_lock.  An ended child stays a
 * zombie (its struct, exit status and strand) until its parent takes it
 * (process_child_ended) and reaps it with process_wait.  When a process
 * ends, its children become orphans: parent NULL, and the reaper - a
 * kernel strand started with the first fork - reaps each one when it ends
 * (no init process adopts them: nobody would ask for their status).
 * Processes the kernel started (process_spawn) have no parent and are
 * reaped by their starter, as before.
 */
#include <spindle/errno.h>

#include <arch/mmu.h>
#include <arch/switch.h>
#include <arch/uspace.h>

#include "kernel/elf_exec.h"
#include "kernel/heap.h"
#include "kernel/physaddr.h"
#include "kernel/process.h"
#include "kernel/sched.h"
#include "kernel/string.h"
#include "kernel/sync.h"
#include "kernel/translation.h"
#include "kernel/uaccess.h"
#include "kernel/uerrno.h"

#define PROCESS_PAGE 4096ull

static struct spinlock process_tree_lock = SPINLOCK_INIT("process tree", SYNC_RANK_OBJ + 3);

/* ---- the reaper of orphans ---- */

static struct waitq process_reap_wq; /* its lock guards process_reap_list */
static struct process *process_reap_list;
static int process_reaper_state; /* 0 none, 1 starting, 2 running */

static void process_reaper(void *arg)
{
	(void)arg;
	for (;;) {
		unsigned long fl = spin_lock_irqsave(&process_reap_wq.lock);
		struct process *p;

		while (!process_reap_list) {
			waitq_wait_locked(&process_reap_wq, fl);
			fl = spin_lock_irqsave(&process_reap_wq.lock);
		}
		p = process_reap_list;
		process_reap_list = p->reap_next;
		spin_unlock_irqrestore(&process_reap_wq.lock, fl);
		process_wait(p, NULL); /* joins its strand (it may still be ending), frees */
	}
}

static int process_reaper_start(void)
{
	int expect = 0;
	strand_t h;
	int err;

	if (__atomic_load_n(&process_reaper_state, __ATOMIC_ACQUIRE) == 2)
		return 0;
	if (!__atomic_compare_exchange_n(&process_reaper_state, &expect, 1, false, __ATOMIC_ACQ_REL,
	                                 __ATOMIC_ACQUIRE)) {
		while (__atomic_load_n(&process_reaper_state, __ATOMIC_ACQUIRE) == 1)
			sched_yield();
		return __atomic_load_n(&process_reaper_state, __ATOMIC_ACQUIRE) == 2 ? 0 : -EAGAIN;
	}
	waitq_init(&process_reap_wq, "process reaper");
	err = strand_create(process_reaper, NULL, SCHED_PRIO_DEFAULT, "reaper", &h);
	if (!err)
		err = strand_detach(h);
	__atomic_store_n(&process_reaper_state, err ? 0 : 2, __ATOMIC_RELEASE);
	return err;
}

static void process_reap_later(struct process *list)
{
	unsigned long fl;
	struct process *last = list;

	if (!list)
		return;
	while (last->reap_next)
		last = last->reap_next;
	fl = spin_lock_irqsave(&process_reap_wq.lock);
	last->reap_next = process_reap_list;
	process_reap_list = list;
	spin_unlock_irqrestore(&process_reap_wq.lock, fl);
	waitq_wake_all(&process_reap_wq);
}

/* ---- the relation ---- */

void process_ended(struct process *p)
{
	const struct process_personality *pers = process_personality_get();
	struct process *reap = NULL, *c, *next;
	unsigned long fl = spin_lock_irqsave(&process_tree_lock);

	for (c = p->children; c; c = next) {
		next = c->sibling;
		c->parent = NULL;
		c->sibling = NULL;
		if (c->state != PROCESS_RUNNING) {
			c->reap_next = reap; /* a zombie nobody will wait for */
			reap = c;
		} else {
			c->orphan = true; /* reaped when it ends */
		}
	}
	p->children = NULL;
	if (p->orphan) {
		p->reap_next = reap;
		reap = p;
	}
	spin_unlock_irqrestore(&process_tree_lock, fl);
	/* Orphans exist only once a fork happened, so the reaper runs. */
	process_reap_later(reap);
	if (p->personality && pers && pers->exit)
		pers->exit(p); /* closes its files, wakes a waiting parent */
}

int process_child_ended(struct process *p, int pid, struct process **out)
{
	unsigned long fl = spin_lock_irqsave(&process_tree_lock);
	bool any = false;

	*out = NULL;
	for (struct process **pp = &p->children; *pp; pp = &(*pp)->sibling) {
		struct process *c = *pp;

		if (pid > 0 && c->pid != pid)
			continue;
		any = true;
		if (c->state != PROCESS_RUNNING) {
			*pp = c->sibling;
			c->sibling = NULL;
			c->parent = NULL;
			*out = c;
			break;
		}
	}
	spin_unlock_irqrestore(&process_tree_lock, fl);
	return any ? 0 : -ECHILD;
}

static void process_unlink_child(struct process *p, struct process *c)
{
	unsigned long fl = spin_lock_irqsave(&process_tree_lock);

	for (struct process **pp = &p->children; *pp; pp = &(*pp)->sibling)
		if (*pp == c) {
			*pp = c->sibling;
			break;
		}
	c->parent = NULL;
	spin_unlock_irqrestore(&process_tree_lock, fl);
}

/* ---- address spaces ---- */

/* Write 4 bytes at user address va of p's (not loaded) context, which
 * shares its pages copy-on-write with its parent: each page written is
 * made p's own first (a write through the direct map bypasses the COW
 * mark), and a page p may not write is left alone, as the user's own
 * write would fault. */
static void process_poke32(struct process *p, uint64_t va, uint32_t v)
{
	for (unsigned i = 0; i < 4; i++, va++, v >>= 8) {
		uint64_t page = va & ~(PROCESS_PAGE - 1);
		struct physaddr *obj;
		unsigned prot;
		uint32_t pg;

		translation_cow_fault(p->ctx, page); /* -EACCES if not COW: checked below */
		if (translation_lookup(p->ctx, page, &obj, &pg, &prot) || !(prot & PAGETABLE_W) ||
		    __atomic_load_n(&obj->maps.count, __ATOMIC_RELAXED) != 1)
			return;
		*((uint8_t *)phys_to_virt(obj->pa[pg]) + (va & (PROCESS_PAGE - 1))) = (uint8_t)v;
	}
}

/* ---- fork ---- */

static void process_fork_main(void *arg)
{
	struct process *p = arg;
	struct trap_frame f = *p->fork_frame;

	process_bind_strand(p);
	kfree(p->fork_frame);
	p->fork_frame = NULL;
	uspace_enter(&f); /* returns from fork with rax = 0 */
}

int process_fork(struct process *p, const struct trap_frame *f, uint64_t newsp, uint64_t child_tid,
                 struct process **out)
{
	const struct process_personality *pers = process_personality_get();
	struct strand_attr attr;
	struct process *c;
	unsigned long fl;
	int err;

	err = process_reaper_start();
	if (err)
		return -EAGAIN;
	c = process_alloc(p->name);
	if (!c)
		return -ENOMEM;
	c->fork_frame = kmalloc(sizeof(*c->fork_frame));
	if (!c->fork_frame) {
		err = -ENOMEM;
		goto err_free;
	}
	*c->fork_frame = *f;
	c->fork_frame->rax = 0;
	if (newsp)
		c->fork_frame->rsp = newsp;
	c->ppid = p->pid;
	strlcpy(c->exe, p->exe, sizeof(c->exe));
	c->brk_start = p->brk_start;
	c->image_lo = p->image_lo;
	c->image_hi = p->image_hi;
	c->fs_base = p->fs_base;
	uspace_fpu_save(c->fpu); /* the parent's user FPU state, still live */
	/* Every page shared copy-on-write (the parent's TLB entries flushed);
	 * on failure destroying the child drops the shares made so far. */
	err = translation_cow_share(p->ctx, c->ctx);
	if (err)
		goto err_free;
	if (child_tid && uaccess_range_ok(child_tid, 4))
		process_poke32(c, child_tid, (uint32_t)c->pid); /* CLONE_CHILD_SETTID */
	if (p->personality && pers && pers->fork) {
		c->personality_id = p->personality_id;
		err = pers->fork(p, c);
		if (err)
			goto err_free;
	}
	fl = spin_lock_irqsave(&process_tree_lock);
	c->parent = p;
	c->sibling = p->children;
	p->children = c;
	spin_unlock_irqrestore(&process_tree_lock, fl);
	process_publish(c);
	attr = (struct strand_attr){c->name, SCHED_PRIO_DEFAULT, false, &c->pkg};
	err = strand_create_attr(&attr, process_fork_main, c, &c->strand);
	if (err) {
		process_unlink_child(p, c);
		goto err_free;
	}
	*out = c;
	return 0;
err_free:
	kfree(c->fork_frame);
	c->fork_frame = NULL;
	process_destroy(c);
	return err;
}

/* ---- exec ---- */

int process_exec(struct process *p, struct trap_frame *f, const char *path, const char *const *argv,
                 const char *const *envp)
{
	const struct process_personality *pers = process_personality_get();
	const struct rootfs *fs = process_rootfs();
	const struct rootfs_node *file;
	struct elf_exec_info *info;
	struct process *img;
	struct translation_ctx *old;
	cap_t old_cap;
	unsigned long fl;
	uint64_t sp;
	int err;

	if (!fs)
		return -ENOENT;
	if (strlen(path) >= sizeof(p->exe))
		return -ENAMETOOLONG;
	err = rootfs_lookup(fs, NULL, path, 0, &file);
	if (err)
		return err;
	if (rootfs_is_dir(file))
		return -EACCES;
	info = kmalloc(sizeof(*info));
	img = kzalloc(sizeof(*img)); /* holds the new context while it is built */
	if (!info || !img) {
		err = -ENOMEM;
		goto out;
	}
	err = elf_exec_parse(file->data, file->size, PROCESS_IMAGE_LIMIT, info);
	if (err)
		goto out;
	err = translation_create(p->name, &img->ctx_cap);
	if (err)
		goto out;
	img->ctx = translation_get(img->ctx_cap, &err);
	err = virtaddr_alloc(&img->ctx->space, ELF_EXEC_USER_MIN, USER_TOP - ELF_EXEC_USER_MIN,
	                     &img->vrange);
	if (!err)
		err = process_image_build(img, file, info, argv, envp, &sp);
	if (err) {
		process_space_free(img->ctx, img->ctx_cap);
		goto out;
	}

	/* The point of no return. */
	spin_sys_process_gone(p); /* its extensions served the old context */
	old = p->ctx;
	old_cap = p->ctx_cap;
	p->ctx = img->ctx;
	p->ctx_cap = img->ctx_cap;
	p->vrange = img->vrange;
	translation_switch(p->ctx);
	process_space_free(old, old_cap);
	strlcpy(p->exe, path, sizeof(p->exe));
	strlcpy(p->name, process_basename(path), sizeof(p->name));
	p->brk_start = info->highest;
	p->image_lo = info->lowest;
	p->image_hi = info->highest;
	process_set_fs_base(p, 0);
	/* Interrupts off: a preemption between the two would checkpoint the
	 * old program's live registers over the clean state. */
	fl = arch_irq_save();
	uspace_fpu_init(p->fpu);
	uspace_fpu_restore(p->fpu);
	arch_irq_restore(fl);
	if (p->personality && pers && pers->exec)
		pers->exec(p);
	memset(f, 0, __builtin_offsetof(struct trap_frame, vector)); /* every GPR 0 */
	f->rip = info->entry;
	f->rsp = sp;
	f->rflags = 0x202;
	err = 0;
out:
	kfree(info);
	kfree(img);
	return err;
}
