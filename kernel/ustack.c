/*
 * ustack.c: build a new program's initial stack in a kernel buffer (the
 * layout is in kernel/ustack.h).  Everything is placed top-down with an
 * explicit cursor that is checked against the bottom of the buffer before
 * each write, so a long argument list fails with -E2BIG instead of writing
 * below the buffer.
 */
#include <stdbool.h>

#include "kernel/string.h"
#include "kernel/uerrno.h"
#include "kernel/ustack.h"

struct ustack_cursor {
	uint8_t *buf;
	size_t size;
	size_t off; /* bytes used from the top */
	uint64_t top;
};

/* Reserve n bytes below the cursor; returns the user address, 0 if full. */
static uint64_t ustack_reserve(struct ustack_cursor *c, size_t n)
{
	if (n > c->size - c->off)
		return 0;
	c->off += n;
	return c->top - c->off;
}

static uint8_t *ustack_at(struct ustack_cursor *c, uint64_t uaddr)
{
	return c->buf + (c->size - (size_t)(c->top - uaddr));
}

static uint64_t ustack_push_bytes(struct ustack_cursor *c, const void *p, size_t n)
{
	uint64_t u = ustack_reserve(c, n);

	if (u)
		memcpy(ustack_at(c, u), p, n);
	return u;
}

static size_t ustack_count(const char *const *v)
{
	size_t n = 0;

	while (v[n] && n <= USTACK_MAX_ARGS)
		n++;
	return n;
}

int ustack_build(uint8_t *buf, size_t size, uint64_t top, const char *const *argv,
                 const char *const *envp, const struct ustack_aux *aux, uint64_t *sp)
{
	struct ustack_cursor c = {buf, size, 0, top};
	uint64_t argp[USTACK_MAX_ARGS], envpp[USTACK_MAX_ARGS];
	uint64_t random_u, platform_u, words;
	size_t argc, envc, nwords;

	if (!buf || !argv || !envp || !aux || !sp || (top & 15) || (size & 15) || size > top)
		return -EINVAL;
	argc = ustack_count(argv);
	envc = ustack_count(envp);
	if (argc + envc > USTACK_MAX_ARGS)
		return -E2BIG;

	/* Strings, highest first: environment, arguments, platform, random. */
	for (size_t i = envc; i-- > 0;)
		if (!(envpp[i] = ustack_push_bytes(&c, envp[i], strlen(envp[i]) + 1)))
			return -E2BIG;
	for (size_t i = argc; i-- > 0;)
		if (!(argp[i] = ustack_push_bytes(&c, argv[i], strlen(argv[i]) + 1)))
			return -E2BIG;
	if (!(platform_u = ustack_push_bytes(&c, "x86_64", 7)))
		return -E2BIG;
	if (!(random_u = ustack_push_bytes(&c, aux->random, sizeof(aux->random))))
		return -E2BIG;

	/* The word area: argc, argv..NULL, envp..NULL, auxv pairs. */
	{
		const uint64_t auxv[][2] = {
		    {AT_PHDR, aux->phdr},
		    {AT_PHENT, aux->phent},
		    {AT_PHNUM, aux->phnum},
		    {AT_PAGESZ, 4096},
		    {AT_ENTRY, aux->entry},
		    {AT_UID, 0},
		    {AT_EUID, 0},
		    {AT_GID, 0},
		    {AT_EGID, 0},
		    {AT_SECURE, 0},
		    {AT_CLKTCK, 100},
		    {AT_HWCAP, 0},
		    {AT_PLATFORM, platform_u},
		    {AT_RANDOM, random_u},
		    {AT_NULL, 0},
		};
		size_t naux = sizeof(auxv) / sizeof(auxv[0]);
		uint8_t *w;
		size_t k = 0;

		nwords = 1 + argc + 1 + envc + 1 + 2 * naux;
		/* Align the cursor so that the word area ends 16-aligned at sp. */
		{
			uint64_t below = c.top - c.off - nwords * 8;
			size_t pad = (size_t)(below & 15);

			if (!ustack_reserve(&c, pad) && pad)
				return -E2BIG;
		}
		if (!(words = ustack_reserve(&c, nwords * 8)))
			return -E2BIG;
		w = ustack_at(&c, words);
		/* buf need not be aligned: write each word with memcpy. */
		{
			uint64_t v = argc;

			memcpy(w + 8 * k++, &v, 8);
			for (size_t i = 0; i < argc; i++)
				memcpy(w + 8 * k++, &argp[i], 8);
			v = 0;
			memcpy(w + 8 * k++, &v, 8);
			for (size_t i = 0; i < envc; i++)
				memcpy(w + 8 * k++, &envpp[i], 8);
			memcpy(w + 8 * k++, &v, 8);
			for (size_t i = 0; i < naux; i++) {
				memcpy(w + 8 * k++, &auxv[i][0], 8);
				memcpy(w + 8 * k++, &auxv[i][1], 8);
			}
		}
	}
	*sp = words;
	return 0;
}
