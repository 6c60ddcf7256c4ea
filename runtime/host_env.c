/*
 * host_env.c - the hosted implementation of the runtime's environment hooks
 * (runtime/rt.h) for tools, unit tests and fuzzers.
 *
 * Ordinary memory comes from calloc/free.  Code memory follows the same W^X
 * discipline as the kernel: rt_code_alloc maps fresh anonymous pages
 * read+write, rt_code_seal turns them read+execute (never writable again),
 * rt_code_free unmaps them.  The kernel provides its own versions of these
 * five functions in kernel/; this file is excluded from the freestanding
 * build (mk/runtime.mk).
 */
#ifdef SPINDLE_KERNEL
#error "host_env.c is the hosted environment; the kernel supplies its own hooks"
#endif

#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "runtime/rt.h"

void *rt_alloc(size_t size)
{
	/* calloc(0) may return NULL, which callers would read as exhaustion. */
	return calloc(1, size ? size : 1);
}

void rt_free(void *p)
{
	free(p);
}

static size_t host_page_round(size_t size)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);

	return (size + pg - 1) & ~(pg - 1);
}

/*
 * Code goes just below the executable's text when the kernel lets it, as
 * the kernel's code area sits next to the kernel image: then the JIT can
 * reach imports in the executable with `call rel32`, and host benchmarks
 * measure the code the kernel runs.  The address is only a hint; where it
 * is taken the block lands anywhere and the JIT calls through literals.
 * A cursor walks down so that consecutive blocks do not ask for the same
 * place.  (Not thread-safe, like the rest of the hosted runtime.)
 */
static uintptr_t host_code_next;

void *rt_code_alloc(size_t size)
{
	size_t len;
	void *p;

	if (size == 0 || size > ((size_t)1 << 30))
		return NULL;
	len = host_page_round(size);
	if (!host_code_next)
		host_code_next =
		    ((uintptr_t)(void *)rt_code_alloc & ~(uintptr_t)0xfffff) - ((uintptr_t)1 << 24);
	if (host_code_next > len + ((uintptr_t)1 << 32))
		host_code_next -= len;
	p = mmap((void *)host_code_next, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
	         -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

int rt_code_seal(void *p, size_t size)
{
	if (mprotect(p, host_page_round(size), PROT_READ | PROT_EXEC) != 0)
		return -RT_ENOMEM;
	return 0;
}

void rt_code_free(void *p, size_t size)
{
	if (p)
		munmap(p, host_page_round(size));
}
