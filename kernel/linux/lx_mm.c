/*
 * lx_mm.c: the Linux personality's memory calls: brk, mmap (anonymous),
 * munmap, mprotect, and the table of memory areas they keep.
 *
 * The areas are a sorted array of disjoint page-aligned ranges.  Every
 * change is validated first (alignment, overflow, room for the splits it
 * will cause) and then applied in a phase that cannot fail for the
 * caller's reasons; only the host's page allocation (ops->vm_map) can still
 * fail, and then nothing was recorded.  Linux semantics kept: brk returns
 * the old break when it cannot move; munmap of unmapped pages succeeds;
 * mprotect of a range with a hole fails with -ENOMEM; mmap without
 * MAP_FIXED ignores the hint.  Deviations: no file mappings (-ENODEV), and
 * MAP_FIXED must lie in [ELF user minimum, mmap_top).
 */
#include "kernel/elf_exec.h"
#include "kernel/linux/lx.h"
#include "kernel/string.h"
#include "kernel/uaccess.h"
#include "kernel/uerrno.h"

#define LX_MAP_SHARED          0x01
#define LX_MAP_PRIVATE         0x02
#define LX_MAP_SHARED_VALIDATE 0x03
#define LX_MAP_TYPE            0x0f
#define LX_MAP_FIXED           0x10
#define LX_MAP_ANONYMOUS       0x20
#define LX_MAP_FIXED_NOREPLACE 0x100000
/* Flags accepted and ignored (no swap, no huge pages, eager mapping). */
#define LX_MAP_IGNORED                                                                             \
	(0x0100 | 0x0800 | 0x1000 | 0x2000 | 0x4000 | 0x8000 | 0x10000 | 0x20000 | 0x40000 |       \
	 0x80000)

static uint64_t lx_page_up(uint64_t x)
{
	return (x + LX_PAGE - 1) & ~(LX_PAGE - 1);
}

/* Number of areas overlapping [s, e) and how many extra slots removing or
 * reprotecting exactly that range would need (a range strictly inside one
 * area splits it in three). */
static uint32_t lx_vma_splits(const struct lx_proc *p, uint64_t s, uint64_t e)
{
	uint32_t extra = 0;

	for (uint32_t i = 0; i < p->nvma; i++) {
		const struct lx_vma *v = &p->vma[i];

		if (v->end <= s || v->start >= e)
			continue;
		extra += (v->start < s) + (v->end > e);
	}
	return extra;
}

static bool lx_vma_overlaps(const struct lx_proc *p, uint64_t s, uint64_t e)
{
	for (uint32_t i = 0; i < p->nvma; i++)
		if (p->vma[i].start < e && p->vma[i].end > s)
			return true;
	return false;
}

/* Insert (caller checked room and disjointness). */
static void lx_vma_insert(struct lx_proc *p, uint64_t s, uint64_t e, uint32_t prot,
                          enum lx_vma_kind kind)
{
	uint32_t i = 0;

	while (i < p->nvma && p->vma[i].start < s)
		i++;
	memmove(&p->vma[i + 1], &p->vma[i], (p->nvma - i) * sizeof(p->vma[0]));
	p->vma[i] = (struct lx_vma){s, e, prot, kind};
	p->nvma++;
}

/* Split the area containing x (strictly inside it) at x. */
static void lx_vma_split_at(struct lx_proc *p, uint64_t x)
{
	for (uint32_t i = 0; i < p->nvma; i++) {
		struct lx_vma v = p->vma[i];

		if (v.start < x && x < v.end) {
			p->vma[i].end = x;
			memmove(&p->vma[i + 2], &p->vma[i + 1], (p->nvma - i - 1) * sizeof(v));
			p->vma[i + 1] = (struct lx_vma){x, v.end, v.prot, v.kind};
			p->nvma++;
			return;
		}
	}
}

/* Forget and unmap everything in [s, e); room for splits was checked. */
static void lx_vma_remove(struct lx_proc *p, uint64_t s, uint64_t e)
{
	lx_vma_split_at(p, s);
	lx_vma_split_at(p, e);
	for (uint32_t i = 0; i < p->nvma;) {
		struct lx_vma *v = &p->vma[i];

		if (v->start >= s && v->end <= e) {
			p->ops->vm_unmap(p->ctx, v->start, v->end - v->start);
			memmove(v, v + 1, (p->nvma - i - 1) * sizeof(*v));
			p->nvma--;
		} else {
			i++;
		}
	}
}

int lx_vma_add(struct lx_proc *p, uint64_t start, uint64_t end, uint32_t prot,
               enum lx_vma_kind kind)
{
	if ((start | end) & (LX_PAGE - 1) || start >= end || end > USER_TOP || (prot & ~7u))
		return -EINVAL;
	if (lx_vma_overlaps(p, start, end))
		return -EINVAL;
	if (p->nvma == LX_MAX_VMAS)
		return -ENOMEM;
	lx_vma_insert(p, start, end, prot, kind);
	return 0;
}

long lx_sys_brk(struct lx_proc *p, uint64_t addr)
{
	uint64_t old_end = lx_page_up(p->brk_cur), new_end;
	struct lx_vma *v = NULL;

	if (addr < p->brk_start || addr - p->brk_start > LX_BRK_MAX)
		return (long)p->brk_cur;
	new_end = lx_page_up(addr);
	for (uint32_t i = 0; i < p->nvma; i++)
		if (p->vma[i].kind == LX_VMA_BRK)
			v = &p->vma[i];
	if (new_end > old_end) {
		if (lx_vma_overlaps(p, old_end, new_end) || (!v && p->nvma == LX_MAX_VMAS))
			return (long)p->brk_cur;
		if (p->ops->vm_map(p->ctx, old_end, new_end - old_end,
		                   LX_PROT_READ | LX_PROT_WRITE))
			return (long)p->brk_cur;
		if (v)
			v->end = new_end;
		else
			lx_vma_insert(p, p->brk_start, new_end, LX_PROT_READ | LX_PROT_WRITE,
			              LX_VMA_BRK);
	} else if (new_end < old_end) {
		p->ops->vm_unmap(p->ctx, new_end, old_end - new_end);
		if (v) {
			if (new_end <= v->start) {
				uint32_t i = (uint32_t)(v - p->vma);

				memmove(v, v + 1, (p->nvma - i - 1) * sizeof(*v));
				p->nvma--;
			} else {
				v->end = new_end;
			}
		}
	}
	p->brk_cur = addr;
	return (long)addr;
}

/* The highest free gap of len bytes in [mmap_min, mmap_top), or 0. */
static uint64_t lx_mmap_find(const struct lx_proc *p, uint64_t len)
{
	uint64_t top = p->mmap_top;

	for (uint32_t i = p->nvma; i-- > 0;) {
		const struct lx_vma *v = &p->vma[i];

		if (v->start >= top)
			continue;
		if (v->end <= top && top - v->end >= len && top - len >= p->mmap_min)
			return top - len;
		if (v->start < top)
			top = v->start;
		if (top < p->mmap_min)
			return 0;
	}
	if (top >= p->mmap_min && top - p->mmap_min >= len)
		return top - len;
	return 0;
}

long lx_sys_mmap(struct lx_proc *p, uint64_t addr, uint64_t len, uint64_t prot, uint64_t flags,
                 uint64_t fd, uint64_t off)
{
	uint64_t type = flags & LX_MAP_TYPE, start;
	bool fixed = flags & (LX_MAP_FIXED | LX_MAP_FIXED_NOREPLACE);

	if (len == 0 || (off & (LX_PAGE - 1)))
		return -EINVAL;
	if (type != LX_MAP_SHARED && type != LX_MAP_PRIVATE && type != LX_MAP_SHARED_VALIDATE)
		return -EINVAL;
	if (prot & ~7ull)
		return -EINVAL;
	if (flags & ~(uint64_t)(LX_MAP_TYPE | LX_MAP_FIXED | LX_MAP_ANONYMOUS |
	                        LX_MAP_FIXED_NOREPLACE | LX_MAP_IGNORED))
		return type == LX_MAP_SHARED_VALIDATE ? -EOPNOTSUPP : -EINVAL;
	if (!(flags & LX_MAP_ANONYMOUS)) {
		if (fd >= LX_MAX_FD || !p->fd[fd])
			return -EBADF;
		return -ENODEV; /* no file mappings */
	}
	if (len > LX_MMAP_MAX)
		return -ENOMEM;
	len = lx_page_up(len);
	if (fixed) {
		if (addr & (LX_PAGE - 1))
			return -EINVAL;
		if (addr < ELF_EXEC_USER_MIN || addr > p->mmap_top || len > p->mmap_top - addr)
			return -ENOMEM;
		if (lx_vma_overlaps(p, addr, addr + len)) {
			if (flags & LX_MAP_FIXED_NOREPLACE)
				return -EEXIST;
			if (p->nvma + lx_vma_splits(p, addr, addr + len) >= LX_MAX_VMAS)
				return -ENOMEM;
			lx_vma_remove(p, addr, addr + len);
		}
		start = addr;
	} else {
		start = lx_mmap_find(p, len);
		if (!start)
			return -ENOMEM;
	}
	if (p->nvma == LX_MAX_VMAS)
		return -ENOMEM;
	{
		int err = p->ops->vm_map(p->ctx, start, len, (uint32_t)prot);

		if (err)
			return err == -EACCES ? -EACCES : -ENOMEM; /* W^X refused, or no memory */
	}
	lx_vma_insert(p, start, start + len, (uint32_t)prot, LX_VMA_ANON);
	return (long)start;
}

long lx_sys_munmap(struct lx_proc *p, uint64_t addr, uint64_t len)
{
	uint64_t end;

	if ((addr & (LX_PAGE - 1)) || len == 0)
		return -EINVAL;
	if (len > USER_TOP)
		return -EINVAL;
	end = addr + lx_page_up(len);
	if (!uaccess_range_ok(addr, end - addr))
		return -EINVAL;
	if (p->nvma + lx_vma_splits(p, addr, end) > LX_MAX_VMAS)
		return -ENOMEM;
	lx_vma_remove(p, addr, end);
	return 0;
}

long lx_sys_mprotect(struct lx_proc *p, uint64_t addr, uint64_t len, uint64_t prot)
{
	uint64_t end, covered;

	if ((addr & (LX_PAGE - 1)) || (prot & ~7ull))
		return -EINVAL;
	if (len == 0)
		return 0;
	if (len > USER_TOP)
		return -ENOMEM;
	end = addr + lx_page_up(len);
	if (!uaccess_range_ok(addr, end - addr))
		return -ENOMEM;
	/* The whole range must be mapped, without a hole. */
	covered = addr;
	for (uint32_t i = 0; i < p->nvma && covered < end; i++) {
		const struct lx_vma *v = &p->vma[i];

		if (v->end <= covered)
			continue;
		if (v->start > covered)
			break;
		covered = v->end;
	}
	if (covered < end)
		return -ENOMEM;
	if (p->nvma + lx_vma_splits(p, addr, end) > LX_MAX_VMAS)
		return -ENOMEM;
	{
		int err = p->ops->vm_protect(p->ctx, addr, end - addr, (uint32_t)prot);

		if (err)
			return err == -EACCES ? -EACCES : -ENOMEM;
	}
	lx_vma_split_at(p, addr);
	lx_vma_split_at(p, end);
	for (uint32_t i = 0; i < p->nvma; i++)
		if (p->vma[i].start >= addr && p->vma[i].end <= end)
			p->vma[i].prot = (uint32_t)prot;
	return 0;
}
