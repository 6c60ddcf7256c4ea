/*
 * fake_umem.c: kernel/uaccess.h over a simulated user address space, for
 * host tests of code that copies to and from user memory.
 *
 * The fake user memory is FAKE_UMEM_SIZE bytes at user address
 * FAKE_UMEM_BASE, with the last page "read-only" (copy_to_user into it
 * fails, as for a text page).  Anything outside, a range that wraps or
 * leaves the user half, fails with -EFAULT exactly like the kernel's
 * implementation; a copy that runs off the end copies the prefix first,
 * as a real faulting copy would.
 */
#include <string.h>

#include "kernel/uaccess.h"
#include "kernel/uerrno.h"
#include "tests/unit/fake_umem.h"

uint8_t fake_umem[FAKE_UMEM_SIZE];

static size_t fake_umem_ok(uint64_t a, size_t n, bool write)
{
	uint64_t limit = FAKE_UMEM_BASE + FAKE_UMEM_SIZE - (write ? FAKE_UMEM_RO : 0);

	if (a < FAKE_UMEM_BASE || a >= limit)
		return 0;
	return n < limit - a ? n : (size_t)(limit - a);
}

int copy_from_user(void *dst, uint64_t usrc, size_t n)
{
	size_t ok;

	if (!uaccess_range_ok(usrc, n))
		return -EFAULT;
	if (n == 0)
		return 0;
	ok = fake_umem_ok(usrc, n, false);
	memcpy(dst, fake_umem + (usrc - FAKE_UMEM_BASE) * (ok != 0), ok);
	return ok == n ? 0 : -EFAULT;
}

int copy_to_user(uint64_t udst, const void *src, size_t n)
{
	size_t ok;

	if (!uaccess_range_ok(udst, n))
		return -EFAULT;
	if (n == 0)
		return 0;
	ok = fake_umem_ok(udst, n, true);
	if (ok)
		memcpy(fake_umem + (udst - FAKE_UMEM_BASE), src, ok);
	return ok == n ? 0 : -EFAULT;
}

long strncpy_from_user(char *dst, uint64_t usrc, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (usrc + i < usrc || !uaccess_range_ok(usrc + i, 1) ||
		    !fake_umem_ok(usrc + i, 1, false))
			return -EFAULT;
		dst[i] = (char)fake_umem[usrc + i - FAKE_UMEM_BASE];
		if (dst[i] == 0)
			return (long)i;
	}
	return (long)n;
}
