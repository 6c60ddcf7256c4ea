/*
 * arch/pagetable.h: the page-table format of address-space contexts (x86-64).
 *
 * Owns the hardware half of Translation (kernel/translation.h): 4-level page
 * tables for contexts other than the kernel's own tables (<arch/mmu.h>), the
 * TLB, the CR3 switch and the decoding of a page fault.
 *
 * A struct pagetable is one PML4.  Its upper half (entries 256-511) is a copy
 * of the kernel PML4's upper half, so every context shares the kernel's
 * mappings; the lower half (user half, [0, PAGETABLE_USER_TOP)) belongs to
 * the context.  Leaves are 4 KiB.  Intermediate entries grant everything
 * (P|W|U, no NX); leaves restrict.  The kernel half is re-synchronised from
 * the kernel PML4 on every pagetable_activate(), so a PML4 slot the kernel
 * fills later (a new MMIO window, a stack) is seen by every context.
 *
 * Protection: PAGETABLE_R, _W, _X, _U; W or X imply R (x86 cannot express
 * write-only).  W and X together are refused (W^X, as in mmu.c).  Every
 * present x86 PTE is readable, so a mapping with no access (prot 0 or U
 * alone) is kept with P clear and a software bit set: the mapping still
 * exists (query reports it with prot 0, a fault on it is decoded as a
 * protection fault, not a missing page).
 *
 * TLB rules: pagetable_protect/unmap return whether the old PTE may be
 * cached (it was present).  The caller (Translation) decides: on every CPU
 * that has the context loaded (pt->cpus), invlpg each page or, above
 * PAGETABLE_FLUSH_THRESHOLD pages, reload CR3 (the other CPUs by a
 * shootdown IPI, awaited); CPUs that do not have it loaded get their bit
 * in pt->stale, and their next pagetable_activate(pt, true) flushes.
 * Without PCID every load flushes anyway; with PCID the flushing load
 * omits the no-flush bit.  The flush primitives act on the calling CPU's
 * loaded context only.
 *
 * PCID: used when CPUID says so (not under TCG); contexts get PCIDs 1..4095
 * round robin, the kernel keeps 0.  A new context is stale on every CPU
 * (its PCID may be recycled and still tag another context's entries).
 * Without PCID, pcid is 0 and loads always flush.
 *
 * Who calls it: kernel/translation.c only (and tests), with the context's
 * owner serialising changes to its tables (Translation's rule); cpus and
 * stale are changed with atomics by any CPU.
 * Errors: 0 or -EINVAL (alignment, W+X, kernel-half address), -ENOMEM (no
 * frame for a table), -EEXIST (already mapped), -ENOENT (nothing mapped).
 */
#ifndef ARCH_PAGETABLE_H
#define ARCH_PAGETABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <arch/x86.h>

#define PAGETABLE_PAGE_SIZE 4096ul
#define PAGETABLE_USER_TOP  0x0000800000000000ul /* end of the lower (context) half */
/* Above this many pages a range invalidation reloads CR3 instead of invlpg. */
#define PAGETABLE_FLUSH_THRESHOLD 32u

/* Protection (same values as TRANSLATION_PROT_*). */
#define PAGETABLE_R         0x1u
#define PAGETABLE_W         0x2u
#define PAGETABLE_X         0x4u
#define PAGETABLE_U         0x8u
#define PAGETABLE_PROT_MASK 0xfu

/* State bits reported by pagetable_query. */
#define PAGETABLE_DIRTY    0x1u
#define PAGETABLE_ACCESSED 0x2u

struct pagetable {
	uint64_t *root;      /* PML4, through the direct map */
	uint64_t root_pa;    /* its physical address */
	uint16_t pcid;       /* 0 without PCID */
	uint32_t kernel_gen; /* generation of its kernel-half copy (0: none yet) */
	/* What a load writes to CR3, worked out once (pagetable_create):
	 * [0] keeps this PCID's TLB entries (bit 63), [1] drops them; both
	 * root_pa without PCID. */
	uint64_t cr3[2];
	/* Bit c = CPU c (dense ids, <arch/percpu.h>).  cpus: has it loaded now;
	 * stale: its TLB may hold old entries of it, flush at its next load. */
	uint64_t cpus, stale;
	/* Some leaf has ever been copy-on-write (pagetable_share_cow):
	 * pagetable_protect then keeps the COW marks (a slower loop, which
	 * contexts that never shared a page do not pay for). */
	bool cow;
};

/* A decoded page fault. */
#define PAGETABLE_ACCESS_READ    0x1u
#define PAGETABLE_ACCESS_WRITE   0x2u
#define PAGETABLE_ACCESS_EXEC    0x4u
#define PAGETABLE_ACCESS_USER    0x8u  /* from ring 3 */
#define PAGETABLE_ACCESS_PRESENT 0x10u /* the PTE was present (a protection fault) */

/* Probe the CPU (PCID) and install the page-fault hook fn in the trap path:
 * fn(va, access, pc) returns true when the fault was resolved (the access is
 * restarted) and false to let the trap path report it. */
typedef bool (*pagetable_fault_fn)(uintptr_t va, unsigned access, uintptr_t pc);
void pagetable_init(pagetable_fault_fn fn);
bool pagetable_has_pcid(void);

int pagetable_create(struct pagetable *pt);
/* Free every table of the lower half and the PML4 (leaves are not freed:
 * the frames belong to PhysAddr). */
void pagetable_destroy(struct pagetable *pt);
/* A pagetable describing the kernel's own live tables (never destroyed). */
void pagetable_kernel(struct pagetable *pt);

/* Make sure the tables down to va's PTE exist (the only step that allocates). */
int pagetable_prepare(struct pagetable *pt, uintptr_t va);
/* Map one page; the tables must exist or be creatable.  -EEXIST if mapped. */
int pagetable_map(struct pagetable *pt, uintptr_t va, uint64_t pa, unsigned prot);
/* Unmap one page: 0 and *pa (optional), or -ENOENT.  *was_cached (optional)
 * tells whether the TLB may hold the old entry. */
int pagetable_unmap(struct pagetable *pt, uintptr_t va, uint64_t *pa, bool *was_cached);
/* Translate: 0 with pa, prot and state (PAGETABLE_DIRTY|ACCESSED), or -ENOENT. */
int pagetable_query(const struct pagetable *pt, uintptr_t va, uint64_t *pa, unsigned *prot,
                    unsigned *state);
/* Change the protection of npages mapped pages from va.  Pages not mapped are
 * skipped; *changed (optional) counts those that had a mapping.  Returns
 * whether any changed PTE may be cached in the TLB. */
bool pagetable_protect(struct pagetable *pt, uintptr_t va, size_t npages, unsigned prot,
                       size_t *changed);
/* Clear the dirty and accessed bits of a mapped page (0 or -ENOENT). */
int pagetable_clear_state(struct pagetable *pt, uintptr_t va, unsigned bits);

/*
 * Copy-on-write marks (software bits of the leaf).  A COW leaf maps a frame
 * that may be shared with other contexts: the hardware W bit is withheld
 * whatever the protection says, and whether the protection includes W is
 * kept beside it, so a write faults and Translation decides (copy the
 * frame, or make it writable when this is its last mapping).  Query and
 * protect report and change the protection as if the mark were not there
 * (a COW page asked to be RW reads back RW); pagetable_protect keeps the
 * mark (mprotect of a COW range stays COW).
 */
#define PAGETABLE_COW   0x1u /* the leaf is copy-on-write */
#define PAGETABLE_COW_W 0x2u /* ... and its protection includes W */
/* fork's step, one walk on each side: mark from's page at va COW and map
 * the same frame with the same protection at va in to, COW too.  to's
 * tables must be prepared (pagetable_prepare).  0 and *cached (from's old
 * entry may be cached writable: the caller flushes), -ENOENT (nothing
 * mapped in from), -EEXIST (to has a mapping there), -ENOMEM (not
 * prepared).  Sets both tables' cow. */
int pagetable_share_cow(struct pagetable *from, struct pagetable *to, uintptr_t va, bool *cached);
/* The COW marks of the mapped page at va (0 or -ENOENT). */
int pagetable_cow_query(const struct pagetable *pt, uintptr_t va, unsigned *cow);
/* End the COW state of the mapped page at va: map pa there (the same frame
 * or a private copy) with the protection the leaf had (W given back if it
 * was withheld).  Returns whether the old entry may be cached (the caller
 * flushes).  The page must be mapped and COW. */
bool pagetable_cow_break(struct pagetable *pt, uintptr_t va, uint64_t pa);

/* TLB: the loaded context only (see the rules above). */
void pagetable_flush_page(uintptr_t va);
void pagetable_flush_range(uintptr_t va, size_t npages);
void pagetable_flush_all(void);

/* pagetable.c's state that pagetable_activate reads in line (every
 * process switch loads a context). */
extern uint64_t *pagetable_kernel_root;
extern uint32_t pagetable_kernel_gen;
/* pt's copy of the kernel half is older than generation gen: re-copy. */
void pagetable_sync_kernel(struct pagetable *pt, uint32_t gen);
/* Load pt into CR3 on this CPU (kernel half synchronised first).  flush:
 * drop the TLB entries this CPU may hold for pt (with PCID, omit the
 * no-flush bit; without PCID every load drops them).  Translation keeps
 * pt->cpus and pt->stale; this only loads. */
static inline void pagetable_activate(struct pagetable *pt, bool flush)
{
	uint32_t gen = __atomic_load_n(&pagetable_kernel_gen, __ATOMIC_ACQUIRE);

	if (__builtin_expect(pt->kernel_gen != gen, 0) && pt->root != pagetable_kernel_root)
		pagetable_sync_kernel(pt, gen); /* the kernel half gained a PML4 slot */
	write_cr3(pt->cr3[flush]);
}
/* Physical address of the root the CPU uses now. */
uint64_t pagetable_current_root(void);

/* Bracket a deliberate kernel access to user (U) pages: stac/clac under SMAP. */
void pagetable_user_access_begin(void);
void pagetable_user_access_end(void);

/* Direct-map address of a physical page (for zeroing and copying frames). */
void *pagetable_phys_to_virt(uint64_t pa);

#endif
