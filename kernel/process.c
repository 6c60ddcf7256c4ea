/*
 * process.c: user processes (see kernel/process.h for the model).
 *
 * Life of a process:
 *   process_spawn: look the program up, validate it (elf_exec_parse), make
 *     a Translation context with one VirtAddr range over the user half,
 *     map and fill the PT_LOADs, map the stack and build argv/envp/auxv on
 *     it, attach the personality, create the strand (detached = no: the
 *     waiter joins it) whose package is the process.
 *   process_strand_main (on the new strand): enter ring 3 with iretq.
 *   system calls: arch entry -> process_syscall -> MachineTrap.Syscall raise.
 *   exit or fault: the strand ends (strand_exit); process_wait joins it,
 *     unloads the context if it is still in CR3, detaches the personality,
 *     frees every page and the context.
 *
 * Validate-then-act: everything that can fail in spawn happens before the
 * strand exists; each failure unwinds what was built (goto labels).
 */
#include <spindle/errno.h>

#include <arch/cpu.h>
#include <arch/mmu.h>
#include <arch/percpu.h>
#include <arch/uspace.h>

#include "kernel/bootmod.h"
#include "kernel/clock.h"
#include "kernel/cmdline.h"
#include "kernel/dispatch.h"
#include "kernel/domain.h"
#include "kernel/elf_exec.h"
#include "kernel/extension.h"
#include "kernel/heap.h"
#include "kernel/kprintf.h"
#include "kernel/nameserver.h"
#include "kernel/physaddr.h"
#include "kernel/portal.h"
#include "kernel/process.h"
#include "kernel/process_switch.h"
#include "kernel/sched.h"
#include "kernel/string.h"
#include "kernel/sync.h"
#include "kernel/translation.h"
#include "kernel/uaccess.h"
#include "kernel/uerrno.h"
#include "kernel/ustack.h"
#include "spindle_interfaces.h"

#define PROCESS_PAGE 4096ull

struct process_handler {
	process_syscall_fn fn;
	process_guard_fn guard;
	const struct dispatch_test *test;
};

static struct process_handler process_handlers[PROCESS_MAX_HANDLERS];
static unsigned process_nhandlers;
static const struct module *process_handler_owner[PROCESS_MAX_HANDLERS];
static const struct module process_module = {"Process", MODULE_TRUSTED};
static uint32_t process_handlers_gen = 1; /* bumped by every install */
static const struct rootfs *process_fs;
static const struct process_personality *process_pers;
static int process_next_pid = 1;
/* Every live process, for process_with_pid (portal grants). */
static struct process *process_list;
static struct spinlock process_list_lock = SPINLOCK_INIT("process list", SYNC_RANK_OBJ + 2);
/* MachineTrap's domain (private), for the extensions processes load. */
static struct domain *process_syscall_dom;

struct domain *process_syscall_domain(void)
{
	return process_syscall_dom;
}
static uint64_t process_random_state = 0x9e3779b97f4a7c15ull;

static void process_checkpoint(struct strand_package *pkg, struct strand *s);
static void process_resume(struct strand_package *pkg, struct strand *s);
const struct strand_package_ops process_pkg_ops = {process_checkpoint, process_resume};

/* ---- Strand.Checkpoint / Strand.Resume for process strands ---- */

/* The scheduler calls these with the strand's package, which is a
 * process's own (these are its ops): process_of_package. */
/* The user state is the acting process's: the strand's own process, or
 * the server a portal call lent the strand to (kernel/portal.c), whose
 * system calls and traps then land on the server's own kernel stack.
 * (Until the strand is bound, on its first run, it is its own.) */
static inline struct process *process_acting_of(struct strand_package *pkg, struct strand *s)
{
	return s->proc_acting ? s->proc_acting : process_of_package(pkg);
}

__attribute__((optimize("omit-frame-pointer"))) static void
process_checkpoint(struct strand_package *pkg, struct strand *s)
{
	uspace_fpu_save(process_acting_of(pkg, s)->fpu);
}

__attribute__((optimize("omit-frame-pointer"))) static void
process_resume(struct strand_package *pkg, struct strand *s)
{
	struct process *p = process_of_package(pkg), *a = process_acting_of(pkg, s);

	p->kstack_top = s->stack.top;
	translation_switch(a->ctx);
	uspace_set_kernel_stack(a->kstack_top);
	uspace_set_fs_base(a->fs_base);
	uspace_fpu_restore(a->fpu);
}

/* ---- memory of a process ---- */

static unsigned process_tl_prot(unsigned prot)
{
	/* Linux PROT_READ/WRITE/EXEC have Translation's R/W/X values. */
	return (prot & (TRANSLATION_PROT_R | TRANSLATION_PROT_W | TRANSLATION_PROT_X)) |
	       TRANSLATION_PROT_U;
}

void process_unmap(struct process *p, uint64_t va, uint64_t len)
{
	for (uint64_t a = va; a < va + len; a += PROCESS_PAGE) {
		/* Drops the page's share: freed if no other process maps it
		 * (pages are shared copy-on-write after a fork). */
		translation_unmap_release(p->ctx, a);
	}
}

int process_map_anon(struct process *p, uint64_t va, uint64_t len, unsigned prot)
{
	unsigned tprot = process_tl_prot(prot);

	if ((va | len) & (PROCESS_PAGE - 1) || !uaccess_range_ok(va, len))
		return -EINVAL;
	if ((tprot & TRANSLATION_PROT_W) && (tprot & TRANSLATION_PROT_X))
		return -EACCES; /* W^X for user pages too */
	for (uint64_t a = va; a < va + len; a += PROCESS_PAGE) {
		cap_t pc;
		uint64_t pa;
		int err = physaddr_alloc(PROCESS_PAGE, NULL, &pc);

		if (!err) {
			physaddr_page(pc, 0, &pa);
			memset(phys_to_virt(pa), 0, PROCESS_PAGE);
			err = translation_map_page(p->ctx, a, pc, 0, tprot);
			if (err)
				physaddr_free(pc);
		}
		if (err) {
			process_unmap(p, va, a - va);
			return err == -EEXIST ? -EEXIST : -ENOMEM;
		}
	}
	return 0;
}

int process_protect(struct process *p, uint64_t va, uint64_t len, unsigned prot)
{
	unsigned tprot = process_tl_prot(prot);

	if ((tprot & TRANSLATION_PROT_W) && (tprot & TRANSLATION_PROT_X))
		return -EACCES;
	return translation_protect(p->ctx, va, len / PROCESS_PAGE, tprot);
}

void process_set_fs_base(struct process *p, uint64_t base)
{
	p->fs_base = base;
	if (process_current() == p)
		uspace_set_fs_base(base);
}

/* The kernel-visible bytes of the user page at va (mapped in p). */
static uint8_t *process_page_ptr(struct process *p, uint64_t va)
{
	struct physaddr *obj;
	uint32_t page;
	unsigned prot;

	if (translation_lookup(p->ctx, va & ~(PROCESS_PAGE - 1), &obj, &page, &prot))
		return NULL;
	return (uint8_t *)phys_to_virt(obj->pa[page]) + (va & (PROCESS_PAGE - 1));
}

/* Copy n kernel bytes to user address va of p (mapped), page by page. */
static void process_poke(struct process *p, uint64_t va, const uint8_t *src, uint64_t n)
{
	while (n) {
		uint64_t chunk = PROCESS_PAGE - (va & (PROCESS_PAGE - 1));
		uint8_t *dst = process_page_ptr(p, va);

		if (chunk > n)
			chunk = n;
		if (dst)
			memcpy(dst, src, chunk);
		va += chunk, src += chunk, n -= chunk;
	}
}

static int process_load_image(struct process *p, const struct rootfs_node *file,
                              const struct elf_exec_info *info)
{
	uint64_t mapped_end = 0;

	for (uint32_t i = 0; i < info->nsegs; i++) {
		const struct elf_exec_seg *s = &info->seg[i];
		uint64_t start = s->vaddr & ~(PROCESS_PAGE - 1);
		uint64_t end = (s->vaddr + s->memsz + PROCESS_PAGE - 1) & ~(PROCESS_PAGE - 1);
		unsigned prot = ((s->flags & ELF_EXEC_R) ? 1 : 0) |
		                ((s->flags & ELF_EXEC_W) ? 2 : 0) |
		                ((s->flags & ELF_EXEC_X) ? 4 : 0);
		int err;

		/* A page shared with the previous segment is already mapped:
		 * it gets the union of both segments' rights (W^X permitting).
		 * The kernel fills pages through the direct map, so the final
		 * rights go on at once. */
		if (start < mapped_end) {
			struct physaddr *obj;
			uint32_t pg;
			unsigned old;

			if (translation_lookup(p->ctx, start, &obj, &pg, &old) == 0 &&
			    process_protect(p, start, PROCESS_PAGE, (old & 7) | prot))
				return -ENOEXEC;
			start = mapped_end;
		}
		if (start < end) {
			err = process_map_anon(p, start, end - start, prot);
			if (err)
				return err == -EACCES ? -ENOEXEC : err;
		}
		process_poke(p, s->vaddr, file->data + s->offset, s->filesz);
		mapped_end = end;
	}
	return 0;
}

static uint64_t process_random(void)
{
	/* xorshift64*, stirred with the cycle counter: AT_RANDOM only seeds
	 * the C library's stack protector here. */
	process_random_state ^= arch_cycles();
	process_random_state ^= process_random_state >> 12;
	process_random_state ^= process_random_state << 25;
	process_random_state ^= process_random_state >> 27;
	return process_random_state * 0x2545f4914f6cdd1dull;
}

static int process_build_stack(struct process *p, const struct elf_exec_info *info,
                               const char *const *argv, const char *const *envp, uint64_t *sp)
{
	const uint64_t size = 16 * PROCESS_PAGE; /* argument area: 64 KiB at most */
	struct ustack_aux aux = {info->phdr_vaddr, info->phent, info->phnum, info->entry, {0}};
	uint8_t *buf;
	uint64_t r[2] = {process_random(), process_random()};
	int err;

	memcpy(aux.random, r, sizeof(r));
	err =
	    process_map_anon(p, PROCESS_STACK_TOP - PROCESS_STACK_SIZE, PROCESS_STACK_SIZE, 1 | 2);
	if (err)
		return err;
	buf = kmalloc(size);
	if (!buf)
		return -ENOMEM;
	err = ustack_build(buf, size, PROCESS_STACK_TOP, argv, envp, &aux, sp);
	if (!err)
		process_poke(p, PROCESS_STACK_TOP - size, buf, size);
	kfree(buf);
	return err;
}

/* ---- the strand of a process ---- */

static void process_strand_main(void *arg)
{
	struct process *p = arg;
	struct trap_frame f;

	process_bind_strand(p);
	memset(&f, 0, sizeof(f));
	f.rip = p->start_rip;
	f.rsp = p->start_rsp;
	f.rflags = 0x202;
	uspace_enter(&f);
}

/* The handler serving p: the first installed one whose guard accepts it.
 * Guards are pure, so the choice is cached in the process until the
 * handler set changes (like a dispatch routine specialised for the set). */
static const struct process_handler *process_pick(struct process *p, struct trap_frame *f)
{
	if (p->handler_gen != process_handlers_gen) {
		p->handler = NULL;
		for (unsigned i = 0; i < process_nhandlers; i++) {
			const struct process_handler *h = &process_handlers[i];

			if (h->test ? dispatch_test_eval((uint64_t)(uintptr_t)h->test,
			                                 (uint64_t)(uintptr_t)p,
			                                 (uint64_t)(uintptr_t)f, 0, 0)
			            : !h->guard || h->guard(p, f)) {
				p->handler = h;
				break;
			}
		}
		p->handler_gen = process_handlers_gen;
	}
	return p->handler;
}

/* The raise before the event exists: the boot-time table. */
static __attribute__((noinline)) int64_t process_syscall_table(struct process *p,
                                                               struct trap_frame *f)
{
	const struct process_handler *h = process_pick(p, f);

	return h ? h->fn(p, f) : -ENOSYS;
}

/* The marker process_return_through leaves in p->after
 * (process_syscall_after tests for it and returns the frame it names):
 * never called. */
_Static_assert(USPACE_FRAME_LEFT == 1, "process_return_through's tag (process.h)");
int64_t process_after_through(struct process *p, struct trap_frame *f, uint64_t nr)
{
	(void)p, (void)f, (void)nr;
	return -EINVAL;
}

/* Work a handler may not do inside the raise (end the process, load or
 * unload an extension: the dispatcher's raise must be left normally
 * first). */
static __attribute__((noinline)) uintptr_t process_syscall_after(struct process *p,
                                                                 struct trap_frame *f)
{
	process_after_fn fn = p->after;

	p->after = NULL;
	if (fn == process_after_through) /* a portal switched processes */
		return p->after_nr;
	f->rax = (uint64_t)fn(p, f, p->after_nr);
	return (uintptr_t)f;
}

/* The boot-time table as a raise (the call site before the event exists). */
static uint64_t process_syscall_table_raise(uint64_t p, uint64_t f, uint64_t a3, uint64_t a4,
                                            uint64_t a5)
{
	(void)a3, (void)a4, (void)a5;
	return (uint64_t)process_syscall_table((struct process *)(uintptr_t)p,
	                                       (struct trap_frame *)(uintptr_t)f);
}
static dispatch_fn process_syscall_table_site = process_syscall_table_raise;
/* Where the raise's code address is read: the table's site until
 * process_events_init has declared the event and bound the handlers, then
 * the event's call site (ev->fast: the generated routine's slot entry, or
 * a direct handler).  Never NULL, so the system call does not test. */
static dispatch_fn *process_syscall_site = &process_syscall_table_site;

/* MachineTrap.Syscall(process, saved state), raised by the trap path (the
 * syscall stub calls this directly): through the dispatcher once the event
 * is declared (process_events_init), before that through the table above.
 * This is the null system call's path: nothing here that is not needed
 * (no frame pointer either: backtraces from handlers skip this frame; the
 * current strand read in line, as sched_current() does). */
__attribute__((optimize("omit-frame-pointer"))) static uintptr_t
process_syscall(struct trap_frame *f)
{
	/* Only a process strand enters from ring 3, and it is bound
	 * (process_bind_strand) before it first gets there: p is never NULL. */
	struct process *p = ((struct strand *)arch_percpu_current())->proc_acting;
	dispatch_fn raise;

	/* p: itself, or a portal's server it was lent to (kernel/portal.c).
	 * The raise: the event's call site (MachineTrap_Syscall() without
	 * its extra hop), i.e. the dispatch routine generated for the set. */
	raise = __atomic_load_n(__atomic_load_n(&process_syscall_site, __ATOMIC_ACQUIRE),
	                        __ATOMIC_ACQUIRE);
	/* Two arguments, no zeros for the unused three: the event has two,
	 * and the routine and handlers read only the event's (dispatch_gen.h);
	 * the boot table's site ignores them too. */
	f->rax = ((uint64_t(*)(uint64_t, uint64_t))(uintptr_t)raise)((uint64_t)(uintptr_t)p,
	                                                             (uint64_t)(uintptr_t)f);
	if (__builtin_expect(p->after != NULL, 0))
		return process_syscall_after(p, f); /* a tail call */
	return (uintptr_t)f;
}

void process_after_raise(struct process *p, const struct trap_frame *f, process_after_fn fn)
{
	p->after_nr = f->rax;
	p->after = fn;
}

static int64_t process_after_exit(struct process *p, struct trap_frame *f, uint64_t nr)
{
	(void)f, (void)nr;
	process_exit_current(p->exit_code);
}

void process_defer(struct process *p, process_after_fn fn, uint64_t value)
{
	p->after_nr = value;
	p->after = fn;
}

void process_exit_request(struct process *p, int code)
{
	p->exit_code = code;
	p->after_nr = 0;
	p->after = process_after_exit;
}

void process_end_current(int code, int state)
{
	struct process *p = process_current(), *o = process_owner();

	if (p && p != o)
		portal_borrowed_end(o, p, code, state); /* ends p on its own strand */
	if (p) {
		p->exit_code = code;
		p->state = (enum process_state)state;
		portal_process_exit(p);
		process_ended(p); /* orphans its children, tells its parent */
	}
	strand_exit(code);
}

void process_exit_current(int code)
{
	process_end_current(code, PROCESS_EXITED);
}

static bool process_fault_personality(struct process *p, struct trap_frame *f);

static void process_fault(struct trap_frame *f)
{
	struct process *p = process_current();

	if (!p) {
		kprintf("process: ring-3 fault without a process (vector %lu)\n",
		        (unsigned long)f->vector);
		arch_exit(EXIT_CODE_PANIC);
	}
	if (process_fault_personality(p, f))
		return; /* a signal handler runs instead (the trap returns to it) */
	kprintf("process %d (%s) killed: %s (%s) at rip %lx", p->pid, p->name,
	        trap_mnemonic((unsigned)f->vector), trap_name((unsigned)f->vector),
	        (unsigned long)f->rip);
	if (f->vector == TRAP_PF) {
		uint64_t cr2;

		unsigned cow = 0;

		cr2 = read_cr2();
		kprintf(", address %lx, error %lx", (unsigned long)cr2, (unsigned long)f->error);
		/* A write to a copy-on-write page is refused only when no page
		 * was free for the copy (translation_cow_fault). */
		if ((f->error & 2) && cr2 < USER_TOP &&
		    !pagetable_cow_query(&p->ctx->pt, cr2 & ~(PROCESS_PAGE - 1), &cow) &&
		    (cow & PAGETABLE_COW_W))
			kprintf(" (copy-on-write: out of memory)");
	}
	kprintf("\n");
	process_end_current(128 + (int)(f->vector & 0x7f), PROCESS_KILLED);
}

/* ---- MachineTrap.Syscall's authorizer ---- */

#define PROCESS_EXT_CLAIMS 32

/* Extensions claimed for a process: name -> the test imposed on their
 * handlers.  The test is allocated per claim and freed at release (after
 * the extension's unload, which waits for raises that could read it). */
static struct {
	char name[EXT_NAME_MAX];
	struct dispatch_test *test;
} process_claims[PROCESS_EXT_CLAIMS];
static struct spinlock process_claims_lock = SPINLOCK_INIT("process claims", SYNC_RANK_OBJ + 3);

int process_ext_claim(const char *name, const struct process *p)
{
	struct dispatch_test *t;
	unsigned long fl;
	int slot = -1;

	if (!name || !name[0] || strlen(name) >= EXT_NAME_MAX || !p)
		return -EINVAL;
	t = kzalloc(sizeof(*t));
	if (!t)
		return -ENOMEM;
	*t = (struct dispatch_test){1, {{0, __builtin_offsetof(struct process, id), p->id, p->id}}};
	fl = spin_lock_irqsave(&process_claims_lock);
	for (int i = 0; i < PROCESS_EXT_CLAIMS; i++) {
		if (process_claims[i].test && strcmp(process_claims[i].name, name) == 0) {
			slot = -EEXIST;
			break;
		}
		if (!process_claims[i].test && slot == -1)
			slot = i;
	}
	if (slot >= 0) {
		strlcpy(process_claims[slot].name, name, EXT_NAME_MAX);
		process_claims[slot].test = t;
	}
	spin_unlock_irqrestore(&process_claims_lock, fl);
	if (slot < 0)
		kfree(t);
	return slot == -1 ? -ENOSPC : slot < 0 ? slot : 0;
}

void process_ext_release(const char *name)
{
	struct dispatch_test *t = NULL;
	unsigned long fl = spin_lock_irqsave(&process_claims_lock);

	for (int i = 0; i < PROCESS_EXT_CLAIMS; i++)
		if (process_claims[i].test && strcmp(process_claims[i].name, name) == 0) {
			t = process_claims[i].test;
			process_claims[i].test = NULL;
			break;
		}
	spin_unlock_irqrestore(&process_claims_lock, fl);
	kfree(t);
}

static int process_authorize(void *arg, struct dispatch_decision *d)
{
	const struct module *m = d->requester;
	struct dispatch_guard g;
	const struct dispatch_test *t = NULL;
	unsigned long fl;

	(void)arg;
	if (m == d->event->authority ||
	    ((m->flags & MODULE_TRUSTED) && !(m->flags & MODULE_EXTENSION)))
		return 0;
	if (d->op != DISPATCH_OP_INSTALL)
		return -EACCES; /* defaults, results, others' handlers: the process layer's */
	if (m->flags & MODULE_EXTENSION) {
		fl = spin_lock_irqsave(&process_claims_lock);
		for (int i = 0; i < PROCESS_EXT_CLAIMS; i++)
			if (process_claims[i].test && strcmp(process_claims[i].name, m->name) == 0)
				t = process_claims[i].test;
		spin_unlock_irqrestore(&process_claims_lock, fl);
	}
	if (t) {
		g = (struct dispatch_guard){{&dispatch_test_sig, NULL, NULL}, (void *)t, true};
		return dispatch_impose_guard(d, &g);
	}
	/* Loaded by the kernel with SpinPrivate (exts=, the manifest): it may
	 * serve every process.  Process loads are always claimed first
	 * (spin_sys.c), so they never get here. */
	return (m->flags & MODULE_PRIVILEGED) ? 0 : -EACCES;
}

static int64_t process_enosys(struct MachineTrap_Process *p, struct MachineTrap_SavedState *ss)
{
	(void)p, (void)ss;
	return -ENOSYS;
}

/* Signatures of native handlers and guards: the event's, at fn. */
static struct rt_sig *process_sig(void *fn, bool pure)
{
	struct rt_sig *s = kmalloc(sizeof(*s));

	if (s) {
		*s = MachineTrap_Syscall_sig;
		s->fn = fn;
		s->flags = pure ? RT_SIG_PURE : 0;
	}
	return s;
}

/* Install h on MachineTrap.Syscall for owner (guard: h's own). */
static int process_syscall_bind(const struct process_handler *h, const struct module *owner)
{
	struct dispatch_install_req req;
	struct dispatch_guard g;
	struct dispatch_binding *b;

	memset(&req, 0, sizeof(req));
	req.handler = (struct dispatch_proc){process_sig((void *)h->fn, false), NULL, NULL};
	if (!req.handler.sig)
		return -ENOMEM;
	if (h->test) {
		g = (struct dispatch_guard){
		    {&dispatch_test_sig, NULL, NULL}, (void *)h->test, true};
		req.guard = &g;
	} else if (h->guard) {
		g = (struct dispatch_guard){
		    {process_sig((void *)h->guard, true), NULL, NULL}, NULL, false};
		if (!g.proc.sig)
			return -ENOMEM;
		req.guard = &g;
	}
	return dispatch_install(MachineTrap_Syscall_event, &req, owner, &b);
}

int process_events_init(void)
{
	struct domain *d;
	struct dispatch_proc def;
	int err;

	if (MachineTrap_Syscall_event)
		return 0;
	if (!domain_spin_public)
		return -ENODEV; /* the extension model is not running */
	if ((err = machinetrap_inline_init()))
		return -ENOMEM;
	if ((err = domain_create_from_interface(&iface_MachineTrap, &process_module, &d)))
		return err;
	err = domain_publish(d);
	if (!err)
		err =
		    nameserver_export_interface(&iface_MachineTrap, d, NULL, NULL, &process_module);
	if (err) {
		domain_release(d);
		return err;
	}
	process_syscall_dom = d; /* our reference: extensions processes load link it */
	def = (struct dispatch_proc){process_sig((void *)process_enosys, false), NULL, NULL};
	if (!def.sig)
		return -ENOMEM;
	err = dispatch_set_default(MachineTrap_Syscall_event, &def, NULL, false, &process_module);
	/* A system call has one server: handlers' guards partition the calls
	 * (personality by process, Spindle's own by number), and the first
	 * whose guard accepts is the only one run.  The dispatcher then
	 * generates its lean routine (no result fold, stops at the first). */
	if (!err)
		err = dispatch_set_exclusive(MachineTrap_Syscall_event, true, &process_module);
	if (!err)
		err = dispatch_set_authorizer(MachineTrap_Syscall_event, process_authorize, NULL,
		                              &process_module);
	if (err)
		return err;
	/* Handlers installed before the event existed move onto it. */
	for (unsigned i = 0; i < process_nhandlers; i++)
		if ((err = process_syscall_bind(&process_handlers[i], process_handler_owner[i])))
			return err;
	/* From now on system calls raise the event. */
	__atomic_store_n(&process_syscall_site, &MachineTrap_Syscall_event->fast, __ATOMIC_RELEASE);
	return 0;
}

int process_syscall_install(process_syscall_fn handler, process_guard_fn guard,
                            const struct dispatch_test *test, const struct module *owner)
{
	if (!handler || !owner || (guard && test))
		return -EINVAL;
	if (process_nhandlers == PROCESS_MAX_HANDLERS)
		return -ENOSPC;
	process_handlers[process_nhandlers] = (struct process_handler){handler, guard, test};
	process_handler_owner[process_nhandlers] = owner;
	if (MachineTrap_Syscall_event) {
		int err = process_syscall_bind(&process_handlers[process_nhandlers], owner);

		if (err)
			return err;
	}
	process_nhandlers++;
	process_handlers_gen++;
	return 0;
}

int process_set_personality(const struct process_personality *pers)
{
	process_pers = pers;
	return 0;
}

const struct rootfs *process_rootfs(void)
{
	return process_fs;
}

int process_set_rootfs(const struct rootfs *fs)
{
	process_fs = fs;
	return 0;
}

static void process_interrupted(struct trap_frame *f);

int process_init(void)
{
	uspace_init(process_syscall, process_fault, portal_stack_left, process_interrupted);
	return 0;
}

int process_with_pid(int pid, int (*fn)(struct process *p, void *arg), void *arg)
{
	unsigned long fl = spin_lock_irqsave(&process_list_lock);
	int rc = -ESRCH;

	for (struct process *q = process_list; q; q = q->list_next)
		if (q->pid == pid) {
			rc = fn(q, arg);
			break;
		}
	spin_unlock_irqrestore(&process_list_lock, fl);
	return rc;
}

static void process_list_remove(struct process *p)
{
	unsigned long fl = spin_lock_irqsave(&process_list_lock);

	for (struct process **pp = &process_list; *pp; pp = &(*pp)->list_next)
		if (*pp == p) {
			*pp = p->list_next;
			break;
		}
	spin_unlock_irqrestore(&process_list_lock, fl);
}

/* Unmap every page mapped in ctx and then free the context: every page
 * mapped in a process's context was allocated for it, maybe shared
 * copy-on-write since (the context's reverse map lists them); each is
 * freed with its last mapping.  Unloads ctx first if this CPU has it in
 * CR3. */
void process_space_free(struct translation_ctx *ctx, cap_t cap)
{
	if (translation_current() == ctx)
		translation_switch(translation_kernel_ctx());
	translation_release_all(ctx); /* each page freed if no other process maps it */
	translation_destroy(cap);
}

/* The last component of path, the process's name ("/bin/sh" -> "sh"). */
const char *process_basename(const char *path)
{
	const char *base = path;

	for (const char *c = path; *c; c++)
		if (*c == '/' && c[1])
			base = c + 1;
	return base;
}

static void process_free(struct process *p)
{
	portal_process_exit(p);
	spin_sys_process_gone(p); /* its extensions, while its context lives */
	process_list_remove(p);
	if (p->personality && process_pers && process_pers->detach)
		process_pers->detach(p);
	if (p->ctx)
		process_space_free(p->ctx, p->ctx_cap);
	kfree(p);
}

int process_spawn(const char *path, const char *const *argv, const char *const *envp,
                  struct process **out)
{
	const struct rootfs_node *file;
	struct elf_exec_info *info;
	struct process *p = NULL;
	struct strand_attr attr;
	uint64_t sp;
	int err;

	if (!path || !argv || !envp || !out)
		return -EINVAL;
	if (!process_fs)
		return -ENOENT;
	err = rootfs_lookup(process_fs, NULL, path, 0, &file);
	if (err)
		return err;
	if (rootfs_is_dir(file))
		return -EACCES;
	info = kmalloc(sizeof(*info));
	if (!info)
		return -ENOMEM;
	err = elf_exec_parse(file->data, file->size, PROCESS_IMAGE_LIMIT, info);
	if (err)
		goto err_free;
	p = process_alloc(process_basename(path));
	if (!p) {
		err = -ENOMEM;
		goto err_free;
	}
	strlcpy(p->exe, path, sizeof(p->exe));
	err = process_image_build(p, file, info, argv, envp, &sp);
	if (err)
		goto err_free;
	p->brk_start = info->highest;
	p->image_lo = info->lowest;
	p->image_hi = info->highest;
	if (process_pers) {
		p->personality_id = process_pers->id;
		err = process_pers->attach(p, info->highest);
		if (err)
			goto err_free;
	}
	p->start_rip = info->entry;
	p->start_rsp = sp;
	attr = (struct strand_attr){p->name, SCHED_PRIO_DEFAULT, false, &p->pkg};
	process_publish(p);
	err = strand_create_attr(&attr, process_strand_main, p, &p->strand);
	if (err)
		goto err_free;
	kfree(info);
	*out = p;
	return 0;
err_free:
	kfree(info);
	if (p)
		process_free(p);
	return err;
}

int process_wait(struct process *p, int *status)
{
	int code = 0, err;

	if (!p)
		return -EINVAL;
	err = strand_join(p->strand, &code);
	if (err)
		return err;
	if (status)
		*status = p->exit_code;
	process_free(p);
	return 0;
}

/* ---- boot: the root file system and the first programs ---- */

#define PROCESS_BOOT_ARGS 16

/* Split the command line after "key=" into argv: the value and every
 * word after it; a word in single quotes may hold spaces ('ls /bin | wc -l'
 * for sh -c), the quotes dropped.  Returns argc (0 if the key is absent). */
static int process_boot_args(const char *key, char *buf, size_t size, const char **argv)
{
	const char *all = cmdline_get_all(), *s = NULL;
	size_t klen = strlen(key), n = 0;
	int argc = 0;

	for (const char *c = all; *c; c++)
		if ((c == all || c[-1] == ' ') && strncmp(c, key, klen) == 0 && c[klen] == '=') {
			s = c + klen + 1;
			break;
		}
	if (!s)
		return 0;
	while (*s && argc < PROCESS_BOOT_ARGS) {
		while (*s == ' ')
			s++;
		if (!*s)
			break;
		argv[argc++] = buf + n;
		if (*s == '\'') {
			for (s++; *s && *s != '\'' && n + 1 < size;)
				buf[n++] = *s++;
			if (*s == '\'')
				s++;
		}
		while (*s && *s != ' ' && n + 1 < size)
			buf[n++] = *s++;
		if (n + 1 >= size)
			break;
		buf[n++] = 0;
	}
	buf[n < size ? n : size - 1] = 0;
	argv[argc] = NULL;
	return argc;
}

/* "exts=/ext/a.o,/ext/b.o": extensions the kernel loads from the root file
 * system before the first program runs, named after their files (a.o: a)
 * and linked against SpinPrivate - the operator's decision, like the boot
 * manifest's privileged lines.  The cross-address-space call (/ext/xas.o)
 * is loaded this way: it serves every process's portal calls. */
static const struct module process_loader = {"ProcessBoot", MODULE_TRUSTED | MODULE_PRIVILEGED};

static void process_boot_exts(void)
{
	char list[256], name[EXT_NAME_MAX], err[256];
	char *c, *start;

	if (!cmdline_value("exts", list, sizeof(list)))
		return;
	for (start = c = list;; c++) {
		bool end = *c == 0;
		const struct rootfs_node *file;
		const char *base;
		struct ext *x;
		void *obj;
		size_t n;
		int rc;

		if (*c != ',' && !end)
			continue;
		*c = 0;
		base = start;
		for (const char *b = start; *b; b++)
			if (*b == '/' && b[1])
				base = b + 1;
		n = strlen(base);
		if (n > 2 && strcmp(base + n - 2, ".o") == 0)
			n -= 2;
		if (n == 0 || n >= sizeof(name)) {
			kprintf("exts: %s: bad name\n", start);
			goto next;
		}
		memcpy(name, base, n);
		name[n] = 0;
		if ((rc = rootfs_lookup(process_fs, NULL, start, 0, &file)) ||
		    rootfs_is_dir(file)) {
			kprintf("exts: %s: not found (%d)\n", start, rc);
			goto next;
		}
		obj = kmalloc(file->size); /* the loader wants an aligned, private copy */
		if (!obj) {
			kprintf("exts: %s: out of memory\n", start);
			goto next;
		}
		memcpy(obj, file->data, file->size);
		rc = ext_load(obj, file->size, name, &process_loader, &domain_spin_private, 1, &x,
		              err, sizeof(err));
		kfree(obj);
		if (rc)
			kprintf("exts: %s refused (%d): %s\n", start, rc, err);
		else
			kprintf("exts: loaded %s from %s\n", name, start);
	next:
		if (end)
			break;
		start = c + 1;
	}
}

static const char *const process_boot_envp[] = {"PATH=/bin", "HOME=/", "TERM=dumb", NULL};

/* "procs=/bin/a,/bin/b": start them all at once, wait for each. */
static void process_boot_procs(void)
{
	char list[256], *c, *start;
	struct process *ps[8];
	const char *names[8];
	int n = 0, status = -1;

	if (!cmdline_value("procs", list, sizeof(list)))
		return;
	for (start = c = list;; c++) {
		if (*c == ',' || *c == 0) {
			bool end = *c == 0;
			const char *argv[2] = {start, NULL};
			int err;

			*c = 0;
			if (n < 8) {
				err = process_spawn(start, argv, process_boot_envp, &ps[n]);
				if (err)
					kprintf("procs: %s: cannot start (%d)\n", start, err);
				else
					names[n++] = start;
			}
			if (end)
				break;
			start = c + 1;
		}
	}
	for (int i = 0; i < n; i++) {
		process_wait(ps[i], &status);
		kprintf("procs: %s exited with status %d\n", names[i], status);
	}
	kprintf("procs: all %d ended\n", n);
	arch_exit(n > 0 ? EXIT_CODE_SUCCESS : EXIT_CODE_TEST_FAIL);
}

void process_boot(void)
{
	const struct boot_module *m = bootmod_get(0);
	char buf[256];
	const char *argv[PROCESS_BOOT_ARGS + 1];
	struct rootfs *fs;
	struct process *p;
	int argc, err, status = -1;

	argc = process_boot_args("init", buf, sizeof(buf), argv);
	/* User-level benchmark boots measure what a production kernel runs:
	 * without the lock-order checker (kernel/sync.h), as bench= does. */
	if (cmdline_has("nolockcheck")) {
		sync_lockorder_disable();
		kprintf("BENCHINFO lockcheck off\n");
	}
	if (!m) {
		if (argc || cmdline_has("procs"))
			kprintf("init: no root file system: boot with a cpio archive as module "
			        "(qemu -initrd)\n");
		return;
	}
	err = rootfs_create(phys_to_virt(m->base), m->size, &fs);
	if (err) {
		kprintf("rootfs: the boot module is not a usable cpio archive (%d)\n", err);
		return;
	}
	process_set_rootfs(fs);
	kprintf("rootfs: %u files and directories from a %lu-byte cpio archive\n", fs->nnodes,
	        (unsigned long)m->size);
	err = process_events_init();
	if (err)
		kprintf("process: MachineTrap.Syscall not declared (%d); system calls use the "
		        "boot-time handler table\n",
		        err);
	lx_module_init();
	spin_sys_init();
	if ((err = portal_init()))
		kprintf("portal: not available (%d)\n", err);
	process_boot_exts();
	process_boot_procs();
	if (!argc)
		return;
	err = process_spawn(argv[0], argv, process_boot_envp, &p);
	if (err) {
		kprintf("init: cannot start %s (%d)\n", argv[0], err);
		arch_exit(EXIT_CODE_TEST_FAIL);
	}
	process_wait(p, &status);
	kprintf("init: %s exited with status %d\n", argv[0], status);
	arch_exit(status == 0 ? EXIT_CODE_SUCCESS : EXIT_CODE_TEST_FAIL);
}

/* ---- for kernel/process_fork.c: fork and exec build processes and
 * images with the same steps as process_spawn ---- */

int process_pid_alloc(void)
{
	return __atomic_fetch_add(&process_next_pid, 1, __ATOMIC_RELAXED);
}

/* A process with a pid, an empty address space (one VirtAddr range over
 * the user half) and a clean FPU state; not on the process list. */
struct process *process_alloc(const char *name)
{
	struct process *p = kzalloc(sizeof(*p));
	int err;

	if (!p)
		return NULL;
	p->pid = process_pid_alloc();
	p->id = (uint64_t)p->pid;
	strlcpy(p->name, name, sizeof(p->name));
	p->state = PROCESS_RUNNING;
	p->pkg.ops = &process_pkg_ops;
	p->pkg.name = "process";
	uspace_fpu_init(p->fpu);
	err = translation_create(p->name, &p->ctx_cap);
	if (!err) {
		p->ctx = translation_get(p->ctx_cap, &err);
		err = virtaddr_alloc(&p->ctx->space, ELF_EXEC_USER_MIN,
		                     USER_TOP - ELF_EXEC_USER_MIN, &p->vrange);
	}
	if (err) {
		process_free(p);
		return NULL;
	}
	return p;
}

int process_image_build(struct process *p, const struct rootfs_node *file,
                        const struct elf_exec_info *info, const char *const *argv,
                        const char *const *envp, uint64_t *sp)
{
	int err = process_load_image(p, file, info);

	return err ? err : process_build_stack(p, info, argv, envp, sp);
}

void process_publish(struct process *p)
{
	unsigned long fl = spin_lock_irqsave(&process_list_lock);

	p->list_next = process_list;
	process_list = p;
	spin_unlock_irqrestore(&process_list_lock, fl);
}

void process_destroy(struct process *p)
{
	process_free(p);
}

const struct process_personality *process_personality_get(void)
{
	return process_pers;
}

/* A ring-3 fault offered to the process's personality first (a Linux
 * process with a handler for the fault's signal gets it run): true if it
 * took it, and the trap returns to the frame it rewrote. */
static bool process_fault_personality(struct process *p, struct trap_frame *f)
{
	const struct process_personality *pers = process_personality_get();
	uint64_t cr2 = 0;

	if (!pers || !pers->fault || !p->personality || p->personality_id != pers->id)
		return false;
	if (f->vector == TRAP_PF)
		cr2 = read_cr2(); /* before any other fault */
	return pers->fault(p, f, cr2);
}

/* An interrupt returns to a process in ring 3 (the arch trap path, after
 * the scheduler's turn, interrupts off): offered to its personality, which
 * may act on what arrived while the process ran in user mode - a kill's
 * signal for a process that makes no system call.  Costs the system-call
 * path nothing: only interrupts from ring 3 come here. */
static void process_interrupted(struct trap_frame *f)
{
	const struct process_personality *pers = process_personality_get();
	struct process *p = process_current();

	if (!p || !pers || !pers->interrupted || !p->personality || p->personality_id != pers->id)
		return;
	pers->interrupted(p, f);
}
