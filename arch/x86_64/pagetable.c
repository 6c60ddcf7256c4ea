/*
 * pagetable.c: x86-64 4-level page tables for address-space contexts.
 *
 * The hardware half of Translation (contract and rules in <arch/pagetable.h>).
 * The kernel's own tables stay in mmu.c; this file builds one PML4 per
 * context whose upper half mirrors the kernel's, fills the lower half with
 * 4 KiB leaves, keeps the TLB honest and decodes page faults for
 * kernel/translation.c.
 *
 * PTE use: P, W, U, A, D, NX as the CPU defines them; bit 9 (available to
 * software) marks "mapped, no access" in an entry whose P is clear, so a
 * mapping can exist with no rights at all (x86 has no present-but-unreadable
 * PTE); bits 10 and 11 mark a copy-on-write leaf (W withheld) and whether
 * its protection has W.  Table pages come from the pmm, zeroed through the
 * direct map.
 *
 * The fault path (trap_pf_hook): read CR2 and the error code, turn them into
 * an access mask, and for a not-present fault look at the PTE once to tell
 * "no mapping" from "mapped with no access".  Then one call into Translation.
 */
#include <spindle/errno.h>

#include <arch/cpu.h>
#include <arch/mmu.h>
#include <arch/pagetable.h>
#include <arch/trap.h>
#include <arch/x86.h>

#include "kernel/pmm.h"
#include "kernel/string.h"

#define PTE_P      (1ull << 0)
#define PTE_W      (1ull << 1)
#define PTE_U      (1ull << 2)
#define PTE_A      (1ull << 5)
#define PTE_D      (1ull << 6)
#define PTE_PS     (1ull << 7)
#define PTE_NOACC  (1ull << 9)  /* software: mapped, no access (P clear) */
#define PTE_COW    (1ull << 10) /* software: copy-on-write, W withheld */
#define PTE_COW_W  (1ull << 11) /* software: ... and the protection has W */
#define PTE_NX     (1ull << 63)
#define PTE_ADDR   0x000ffffffffff000ull
#define PTE_TABLE  (PTE_P | PTE_W | PTE_U) /* intermediate levels grant all */
#define PTE_MAPPED (PTE_P | PTE_NOACC)

#define CR4_PCIDE      (1ull << 17)
#define CR3_NOFLUSH    (1ull << 63)
#define PCID_MAX       4095u
#define PML4_KERNEL_LO 256u

uint64_t *pagetable_kernel_root; /* the kernel PML4 (direct map) */
/* Bumped whenever the kernel PML4 gains a slot: a context whose copy of the
 * kernel half is of this generation needs no re-copy when loaded. */
uint32_t pagetable_kernel_gen = 1;
static uint64_t pagetable_kernel_pa;
static uint64_t pagetable_nx; /* PTE_NX when EFER.NXE is on */
static bool pagetable_pcid;   /* CR4.PCIDE is on */
/* PCIDs are handed out round robin, 1..PCID_MAX; an atomic counter, as
 * two CPUs may create contexts at once (a fork beside an exec) and must
 * not get the same PCID. */
static uint32_t pagetable_pcid_seq;
static pagetable_fault_fn pagetable_fault;

static unsigned pt_index(uintptr_t va, int level)
{
	return (va >> (12 + 9 * level)) & 511;
}

void *pagetable_phys_to_virt(uint64_t pa)
{
	return phys_to_virt(pa);
}

static uint64_t *pt_alloc_table(uint64_t *pa)
{
	if (pmm_alloc(1, 1, 0, pa) != 0)
		return NULL;
	memset(phys_to_virt(*pa), 0, PAGETABLE_PAGE_SIZE);
	return phys_to_virt(*pa);
}

/* The PT page (level 0 table) covering va, created when create is set. */
static uint64_t *pt_leaf_table(uint64_t *root, uintptr_t va, bool create)
{
	uint64_t *t = root;

	for (int level = 3; level > 0; level--) {
		uint64_t *e = &t[pt_index(va, level)];

		if (!(*e & PTE_P)) {
			uint64_t pa;

			if (!create || !pt_alloc_table(&pa))
				return NULL;
			*e = pa | PTE_TABLE;
			if (t == pagetable_kernel_root && level == 3)
				__atomic_add_fetch(&pagetable_kernel_gen, 1, __ATOMIC_RELEASE);
		} else if (*e & PTE_PS) {
			return NULL; /* large pages are not used in the lower half */
		}
		t = phys_to_virt(*e & PTE_ADDR);
	}
	return t;
}

/* The PT page covering va if the walk exists (the non-allocating walk of
 * the hot paths, unrolled: protect, query, unmap, the fault decode). */
static inline uint64_t *pt_find_table(const uint64_t *root, uintptr_t va)
{
	uint64_t e = root[(va >> 39) & 511];

	if ((e & (PTE_P | PTE_PS)) != PTE_P)
		return NULL;
	e = ((const uint64_t *)phys_to_virt(e & PTE_ADDR))[(va >> 30) & 511];
	if ((e & (PTE_P | PTE_PS)) != PTE_P)
		return NULL;
	e = ((const uint64_t *)phys_to_virt(e & PTE_ADDR))[(va >> 21) & 511];
	if ((e & (PTE_P | PTE_PS)) != PTE_P)
		return NULL;
	return phys_to_virt(e & PTE_ADDR);
}

static uint64_t pt_leaf_bits(unsigned prot)
{
	uint64_t b;

	if (!(prot & (PAGETABLE_R | PAGETABLE_W | PAGETABLE_X)))
		return PTE_NOACC;
	b = PTE_P;
	if (prot & PAGETABLE_W)
		b |= PTE_W;
	if (prot & PAGETABLE_U)
		b |= PTE_U;
	if (!(prot & PAGETABLE_X))
		b |= pagetable_nx;
	return b;
}

static unsigned pt_prot_of(uint64_t e)
{
	unsigned p;

	if (!(e & PTE_P))
		return 0;
	p = PAGETABLE_R;
	if (e & (PTE_W | PTE_COW_W)) /* a COW leaf reports the W it withholds */
		p |= PAGETABLE_W;
	if (e & PTE_U)
		p |= PAGETABLE_U;
	if (!(e & PTE_NX & pagetable_nx))
		p |= PAGETABLE_X;
	return p;
}

static bool pt_bad(uintptr_t va, unsigned prot)
{
	return (va & (PAGETABLE_PAGE_SIZE - 1)) || va >= PAGETABLE_USER_TOP ||
	       (prot & ~PAGETABLE_PROT_MASK) ||
	       (prot & (PAGETABLE_W | PAGETABLE_X)) == (PAGETABLE_W | PAGETABLE_X);
}

/* ---- contexts ---- */

/* pt's two CR3 values (struct pagetable): with PCID, its PCID in bits
 * 11:0 and, to keep the PCID's entries, bit 63. */
static void pt_set_cr3(struct pagetable *pt)
{
	pt->cr3[0] = pt->cr3[1] = pt->root_pa;
	if (pagetable_pcid) {
		pt->cr3[1] |= pt->pcid;
		pt->cr3[0] |= pt->pcid | 1ull << 63;
	}
}

int pagetable_create(struct pagetable *pt)
{
	uint64_t pa;
	uint64_t *root = pt_alloc_table(&pa);

	if (!root)
		return -ENOMEM;
	for (unsigned i = PML4_KERNEL_LO; i < 512; i++)
		root[i] = pagetable_kernel_root[i];
	pt->root = root;
	pt->root_pa = pa;
	pt->cpus = 0;
	pt->stale = 0;
	pt->kernel_gen = 0; /* re-checked at the first load */
	pt->pcid = 0;
	pt->cow = false;
	if (pagetable_pcid) {
		uint32_t n = __atomic_fetch_add(&pagetable_pcid_seq, 1, __ATOMIC_RELAXED);

		pt->pcid = (uint16_t)(n % PCID_MAX + 1);
		/* A recycled PCID may still tag another context's entries, on
		 * any CPU. */
		pt->stale = ~0ull;
	}
	pt_set_cr3(pt);
	return 0;
}

static void pt_free_level(uint64_t *t, int level)
{
	for (unsigned i = 0; i < 512; i++) {
		if (!(t[i] & PTE_P) || (t[i] & PTE_PS))
			continue;
		if (level > 1)
			pt_free_level(phys_to_virt(t[i] & PTE_ADDR), level - 1);
		pmm_free(t[i] & PTE_ADDR, 1);
	}
}

void pagetable_destroy(struct pagetable *pt)
{
	if (!pt->root || pt->root == pagetable_kernel_root)
		return;
	for (unsigned i = 0; i < PML4_KERNEL_LO; i++) {
		if (!(pt->root[i] & PTE_P))
			continue;
		pt_free_level(phys_to_virt(pt->root[i] & PTE_ADDR), 2);
		pmm_free(pt->root[i] & PTE_ADDR, 1);
	}
	pmm_free(pt->root_pa, 1);
	pt->root = NULL;
	pt->root_pa = 0;
	pt->cr3[0] = pt->cr3[1] = 0;
}

void pagetable_kernel(struct pagetable *pt)
{
	pt->root = pagetable_kernel_root;
	pt->root_pa = pagetable_kernel_pa;
	pt->pcid = 0;
	pt_set_cr3(pt);
	pt->cpus = 0;
	pt->stale = 0;
}

/* ---- mappings ---- */

int pagetable_prepare(struct pagetable *pt, uintptr_t va)
{
	if (pt_bad(va, 0))
		return -EINVAL;
	return pt_leaf_table(pt->root, va, true) ? 0 : -ENOMEM;
}

int pagetable_map(struct pagetable *pt, uintptr_t va, uint64_t pa, unsigned prot)
{
	uint64_t *t;

	if (pt_bad(va, prot) || (pa & ~PTE_ADDR))
		return -EINVAL;
	t = pt_leaf_table(pt->root, va, true);
	if (!t)
		return -ENOMEM;
	if (t[pt_index(va, 0)] & PTE_MAPPED)
		return -EEXIST;
	t[pt_index(va, 0)] = pa | pt_leaf_bits(prot);
	return 0;
}

int pagetable_unmap(struct pagetable *pt, uintptr_t va, uint64_t *pa, bool *was_cached)
{
	uint64_t *t, e;

	if (pt_bad(va, 0))
		return -EINVAL;
	t = pt_find_table(pt->root, va);
	if (!t || !((e = t[pt_index(va, 0)]) & PTE_MAPPED))
		return -ENOENT;
	t[pt_index(va, 0)] = 0;
	if (pa)
		*pa = e & PTE_ADDR;
	if (was_cached)
		*was_cached = (e & PTE_P) != 0;
	return 0;
}

int pagetable_query(const struct pagetable *pt, uintptr_t va, uint64_t *pa, unsigned *prot,
                    unsigned *state)
{
	uint64_t *t, e;

	if (va >= PAGETABLE_USER_TOP)
		return -EINVAL;
	t = pt_find_table(pt->root, va);
	if (!t || !((e = t[pt_index(va, 0)]) & PTE_MAPPED))
		return -ENOENT;
	if (pa)
		*pa = e & PTE_ADDR;
	if (prot)
		*prot = pt_prot_of(e);
	if (state)
		*state =
		    ((e & PTE_D) ? PAGETABLE_DIRTY : 0) | ((e & PTE_A) ? PAGETABLE_ACCESSED : 0);
	return 0;
}

/* The leaf bits of prot on a COW leaf: W withheld, remembered in PTE_COW_W. */
static uint64_t pt_cow_bits(uint64_t bits)
{
	return (bits & PTE_W) ? (bits & ~PTE_W) | PTE_COW_W | PTE_COW : bits | PTE_COW;
}

/* Set the leaf bits of npages mapped pages from va: `bits`, or `cbits` on
 * a COW leaf when cow (a shared frame must never become writable here).
 * In line twice, so the loop of a context that never shared a page - the
 * hot loop of Prot100, a few instructions a page - has no COW test. */
static inline __attribute__((always_inline)) bool pt_protect_leaves(struct pagetable *pt,
                                                                    uintptr_t va, size_t npages,
                                                                    uint64_t bits, uint64_t cbits,
                                                                    bool cow, size_t *changed)
{
	bool cached = false;
	size_t n = 0;

	while (npages) {
		unsigned idx = pt_index(va, 0);
		size_t run = 512 - idx;
		uint64_t *t = pt_find_table(pt->root, va);

		if (run > npages)
			run = npages;
		if (t) {
			for (uint64_t *e = &t[idx], *end = e + run; e < end; e++) {
				uint64_t old = *e;

				if (!(old & PTE_MAPPED))
					continue;
				cached |= (old & PTE_P) != 0;
				*e = (old & (PTE_ADDR | PTE_A | PTE_D)) |
				     ((cow && (old & PTE_COW)) ? cbits : bits);
				n++;
			}
		}
		va += run * PAGETABLE_PAGE_SIZE;
		npages -= run;
	}
	if (changed)
		*changed = n;
	return cached;
}

bool pagetable_protect(struct pagetable *pt, uintptr_t va, size_t npages, unsigned prot,
                       size_t *changed)
{
	uint64_t bits = pt_leaf_bits(prot);

	if (pt->cow) /* some leaf has been COW: keep the marks (a COW leaf stays COW) */
		return pt_protect_leaves(pt, va, npages, bits, pt_cow_bits(bits), true, changed);
	return pt_protect_leaves(pt, va, npages, bits, bits, false, changed);
}

/* ---- copy-on-write leaves ---- */

/* The leaf of a mapped page at va, or NULL. */
static uint64_t *pt_mapped_leaf(const struct pagetable *pt, uintptr_t va)
{
	uint64_t *t;

	if (pt_bad(va, 0) || !(t = pt_find_table(pt->root, va)) ||
	    !(t[pt_index(va, 0)] & PTE_MAPPED))
		return NULL;
	return &t[pt_index(va, 0)];
}

int pagetable_share_cow(struct pagetable *from, struct pagetable *to, uintptr_t va, bool *cached)
{
	uint64_t *e = pt_mapped_leaf(from, va), *t, old, cow;

	if (!e)
		return -ENOENT;
	t = pt_find_table(to->root, va);
	if (!t)
		return -ENOMEM; /* not prepared */
	if (t[pt_index(va, 0)] & PTE_MAPPED)
		return -EEXIST;
	from->cow = to->cow = true;
	old = *e;
	cow = (old & PTE_W) ? (old & ~PTE_W) | PTE_COW | PTE_COW_W : old | PTE_COW;
	*e = cow;
	t[pt_index(va, 0)] = cow & ~(PTE_A | PTE_D);
	*cached = (old & PTE_W) != 0;
	return 0;
}

int pagetable_cow_query(const struct pagetable *pt, uintptr_t va, unsigned *cow)
{
	uint64_t *e = pt_mapped_leaf(pt, va);

	if (!e)
		return -ENOENT;
	*cow = ((*e & PTE_COW) ? PAGETABLE_COW : 0) | ((*e & PTE_COW_W) ? PAGETABLE_COW_W : 0);
	return 0;
}

bool pagetable_cow_break(struct pagetable *pt, uintptr_t va, uint64_t pa)
{
	uint64_t *e = pt_mapped_leaf(pt, va), old;

	if (!e || (pa & ~PTE_ADDR))
		return false;
	old = *e;
	*e = (old & ~(PTE_ADDR | PTE_COW | PTE_COW_W)) | pa | ((old & PTE_COW_W) ? PTE_W : 0);
	return (old & PTE_P) != 0;
}

int pagetable_clear_state(struct pagetable *pt, uintptr_t va, unsigned bits)
{
	uint64_t *t, *e;

	if (pt_bad(va, 0))
		return -EINVAL;
	t = pt_find_table(pt->root, va);
	if (!t || !(*(e = &t[pt_index(va, 0)]) & PTE_MAPPED))
		return -ENOENT;
	*e &= ~(((bits & PAGETABLE_DIRTY) ? PTE_D : 0) | ((bits & PAGETABLE_ACCESSED) ? PTE_A : 0));
	return 0;
}

/* ---- TLB and CR3 ---- */

void pagetable_flush_page(uintptr_t va)
{
	invlpg(va);
}

void pagetable_flush_all(void)
{
	/* CR4.PGE is off and context pages are never global: a CR3 reload drops
	 * every entry of the current PCID. */
	uint64_t cr3 = read_cr3();

	write_cr3(cr3 & ~CR3_NOFLUSH);
}

void pagetable_flush_range(uintptr_t va, size_t npages)
{
	if (npages > PAGETABLE_FLUSH_THRESHOLD) {
		pagetable_flush_all();
		return;
	}
	for (; npages; npages--, va += PAGETABLE_PAGE_SIZE)
		invlpg(va);
}

void pagetable_sync_kernel(struct pagetable *pt, uint32_t gen)
{
	for (unsigned i = PML4_KERNEL_LO; i < 512; i++)
		if (pt->root[i] != pagetable_kernel_root[i])
			pt->root[i] = pagetable_kernel_root[i];
	pt->kernel_gen = gen;
}

uint64_t pagetable_current_root(void)
{
	return read_cr3() & PTE_ADDR;
}

void pagetable_user_access_begin(void)
{
	if (arch_cpu_features() & ARCH_FEAT_SMAP)
		__asm__ volatile("stac" ::: "memory", "cc");
}

void pagetable_user_access_end(void)
{
	if (arch_cpu_features() & ARCH_FEAT_SMAP)
		__asm__ volatile("clac" ::: "memory", "cc");
}

/* ---- the page-fault hook ---- */

#define PF_P (1u << 0)
#define PF_W (1u << 1)
#define PF_U (1u << 2)
#define PF_I (1u << 4)

static bool pagetable_page_fault(struct trap_frame *f)
{
	uintptr_t va = read_cr2();
	unsigned err = (unsigned)f->error;
	unsigned access;

	access = (err & PF_W)   ? PAGETABLE_ACCESS_WRITE
	         : (err & PF_I) ? PAGETABLE_ACCESS_EXEC
	                        : PAGETABLE_ACCESS_READ;
	if (err & PF_U)
		access |= PAGETABLE_ACCESS_USER;
	if (err & PF_P) {
		access |= PAGETABLE_ACCESS_PRESENT;
	} else if (va < PAGETABLE_USER_TOP) {
		uint64_t *t = pt_find_table(phys_to_virt(read_cr3() & PTE_ADDR), va);

		if (t && (t[pt_index(va, 0)] & PTE_NOACC))
			access |= PAGETABLE_ACCESS_PRESENT;
	}
	return pagetable_fault(va, access, f->rip);
}

bool pagetable_has_pcid(void)
{
	return pagetable_pcid;
}

void pagetable_init(pagetable_fault_fn fn)
{
	uint32_t a, b, c, d;

	pagetable_kernel_pa = read_cr3() & PTE_ADDR;
	pagetable_kernel_root = phys_to_virt(pagetable_kernel_pa);
	pagetable_nx = (rdmsr(MSR_EFER) & EFER_NXE) ? PTE_NX : 0;
	cpuid(1, 0, &a, &b, &c, &d);
	/* PCIDE may only be set with CR3[11:0] = 0, which the kernel's CR3 is. */
	if ((c & (1u << 17)) && !pagetable_pcid) {
		write_cr4(read_cr4() | CR4_PCIDE);
		pagetable_pcid = true;
	}
	pagetable_fault = fn;
	trap_pf_hook = pagetable_page_fault;
}
