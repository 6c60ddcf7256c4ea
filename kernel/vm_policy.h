/*
 * vm_policy: address-space policies built on PhysAddr, VirtAddr and
 * Translation - the trusted modules the paper describes as extensions.
 *
 * Owns: struct vm_region, one policy attached to one VirtAddr range of one
 * context, and the event bindings it installed (filtered on that context
 * and range, so regions never see each other's faults).
 *
 *   anonymous (demand zero)  PageNotPresent: allocate a page, zero it
 *                            through the direct map, map it with the
 *                            region's protection.
 *   copy-on-write            vm_cow_duplicate gives a second context the
 *                            same pages at the same addresses, both sides
 *                            read-only; a write fault copies the page (or,
 *                            when it is the last mapping, just re-enables
 *                            write).  Unmapped pages of the copy are demand
 *                            zero.
 *   pager                    PageNotPresent: the pager function supplies a
 *                            PhysAddr capability (its own page) to map.
 *
 * Page ownership: anonymous and copy-on-write regions own the pages they
 * map; vm_region_detach unmaps every page of the range and frees each
 * object whose last mapping that was.  A pager region never frees: the
 * pager owns its pages.  Pages are allocated not reclaimable (there is no
 * backing store to page them out to; a pager may supply reclaimable ones).
 *
 * Who calls it: core and trusted modules.  Locking: single CPU, as
 * Translation.  Errors: 0 or a Translation / VirtAddr / PhysAddr error;
 * a fault handler that cannot get memory returns "unhandled", so the
 * context's policy decides (it never panics by itself).
 */
#ifndef SPINDLE_KERNEL_VM_POLICY_H
#define SPINDLE_KERNEL_VM_POLICY_H

#include <stdint.h>

#include "kernel/translation.h"

struct vm_region;

/* A pager: supply the page for va (its object and page index, and the
 * protection to map it with); 0 or an error (the fault stays unhandled). */
typedef int (*vm_pager_fn)(void *closure, struct translation_ctx *ctx, uintptr_t va, cap_t *p,
                           uint32_t *page, unsigned *prot);

int vm_anon_attach(struct translation_ctx *ctx, cap_t range, unsigned prot, struct vm_region **out);
int vm_pager_attach(struct translation_ctx *ctx, cap_t range, vm_pager_fn fn, void *closure,
                    struct vm_region **out);
/* Duplicate src's range into dst (same addresses) copy-on-write; prot is
 * the protection the pages have when written (normally RW).  *dst_range
 * receives the new range's capability; *src_out / *dst_out the regions. */
int vm_cow_duplicate(struct translation_ctx *src, cap_t src_range, struct translation_ctx *dst,
                     unsigned prot, cap_t *dst_range, struct vm_region **src_out,
                     struct vm_region **dst_out);
/* Uninstall the region's handlers and unmap its range (freeing owned pages). */
int vm_region_detach(struct vm_region *r);
/* Faults the region resolved. */
uint64_t vm_region_faults(const struct vm_region *r);

#endif
