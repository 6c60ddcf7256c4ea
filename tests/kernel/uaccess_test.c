/*
 * uaccess_test.c: the user-copy routines in a real address-space context:
 * a round trip through a user page (so stac/clac must open the SMAP
 * window), -EFAULT for unmapped, read-only, kernel-half, non-canonical and
 * wrapping addresses (the #PF fixup path), string copies that stop at a
 * NUL, at the limit, or fault.  Each case builds and destroys its own
 * context.
 */
#include <spindle/errno.h>

#include <arch/pagetable.h>

#include "kernel/ktest.h"
#include "kernel/physaddr.h"
#include "kernel/string.h"
#include "kernel/translation.h"
#include "kernel/uaccess.h"

#define UA_VA 0x00000000400000ull

struct ua_ctx {
	cap_t ctx_cap, range, page_rw, page_ro;
	struct translation_ctx *ctx, *prev;
};

/* Context with [UA_VA, +4K) RW and [UA_VA+4K, +8K) read-only, user pages;
 * [UA_VA+8K, ...) unmapped.  Loaded on return. */
static int ua_setup(struct ua_ctx *u)
{
	uint64_t pa;
	int err;

	memset(u, 0, sizeof(*u));
	if ((err = translation_create("uaccess-test", &u->ctx_cap)))
		return err;
	u->ctx = translation_get(u->ctx_cap, &err);
	if ((err = virtaddr_alloc(&u->ctx->space, UA_VA, 16 * 4096, &u->range)) ||
	    (err = physaddr_alloc(4096, NULL, &u->page_rw)) ||
	    (err = physaddr_alloc(4096, NULL, &u->page_ro)) ||
	    (err = translation_map_page(u->ctx, UA_VA, u->page_rw, 0,
	                                TRANSLATION_PROT_RW | TRANSLATION_PROT_U)) ||
	    (err = translation_map_page(u->ctx, UA_VA + 4096, u->page_ro, 0,
	                                TRANSLATION_PROT_R | TRANSLATION_PROT_U)))
		return err;
	/* physaddr frames are not zeroed (physaddr.h); the cases expect the
	 * read-only page to read as zeros. */
	if ((err = physaddr_page(u->page_ro, 0, &pa)))
		return err;
	memset(pagetable_phys_to_virt(pa), 0, 4096);
	u->prev = translation_switch(u->ctx);
	return 0;
}

static void ua_teardown(struct ua_ctx *u)
{
	if (u->prev)
		translation_switch(u->prev);
	if (u->ctx) {
		translation_unmap_page(u->ctx, UA_VA, NULL, NULL);
		translation_unmap_page(u->ctx, UA_VA + 4096, NULL, NULL);
		translation_destroy(u->ctx_cap);
	}
	if (u->page_rw)
		physaddr_free(u->page_rw);
	if (u->page_ro)
		physaddr_free(u->page_ro);
}

KTEST(uaccess_roundtrip)
{
	struct ua_ctx u;
	char in[64], out[64];
	int err = ua_setup(&u);

	if (err) {
		ua_teardown(&u);
		KT_FAIL("setup: %d", err);
	}
	for (int i = 0; i < 64; i++)
		in[i] = (char)(i * 7 + 1);
	err = copy_to_user(UA_VA + 100, in, sizeof(in));
	if (!err)
		err = copy_from_user(out, UA_VA + 100, sizeof(out));
	if (!err && memcmp(in, out, sizeof(in)) != 0)
		err = -1;
	/* Across the RW -> RO page boundary: reading works. */
	if (!err)
		err = copy_from_user(out, UA_VA + 4096 - 8, 16);
	ua_teardown(&u);
	KT_ASSERT_EQ(err, 0);
}

KTEST(uaccess_faults)
{
	struct ua_ctx u;
	char buf[32] = "x";
	int r[10], err = ua_setup(&u);

	if (err) {
		ua_teardown(&u);
		KT_FAIL("setup: %d", err);
	}
	r[0] = copy_to_user(UA_VA + 4096, buf, 8);            /* read-only page */
	r[1] = copy_to_user(UA_VA + 4096 - 4, buf, 8);        /* runs into it */
	r[2] = copy_from_user(buf, UA_VA + 8192, 8);          /* unmapped */
	r[3] = copy_from_user(buf, UA_VA + 8192 - 4, 8);      /* runs into it */
	r[4] = copy_from_user(buf, 0xffff888000000000ull, 8); /* kernel half */
	r[5] = copy_to_user(0xffffffff80100000ull, buf, 8);   /* kernel text */
	r[6] = copy_from_user(buf, 0x0000800000000000ull, 8); /* non-canonical */
	r[7] = copy_from_user(buf, ~0ull - 3, 8);             /* wraps */
	r[8] = copy_from_user(buf, 0, 8);                     /* NULL */
	r[9] = copy_to_user(USER_TOP - 4, buf, 8);            /* past the user half */
	ua_teardown(&u);
	for (int i = 0; i < 10; i++)
		if (r[i] != -EFAULT)
			KT_FAIL("case %d: %d, want -EFAULT", i, r[i]);
}

KTEST(uaccess_strings)
{
	struct ua_ctx u;
	char s[16];
	long r[5];
	int err = ua_setup(&u);

	if (err) {
		ua_teardown(&u);
		KT_FAIL("setup: %d", err);
	}
	copy_to_user(UA_VA, "hello", 6);
	r[0] = strncpy_from_user(s, UA_VA, sizeof(s));            /* 5 */
	r[1] = strncpy_from_user(s, UA_VA, 3);                    /* 3: no NUL within 3 */
	copy_to_user(UA_VA + 4096 - 4, "abcd", 4);                /* then the RO page (zeroed) */
	r[2] = strncpy_from_user(s, UA_VA + 4096 - 4, sizeof(s)); /* 4 */
	r[3] = strncpy_from_user(s, UA_VA + 8192, sizeof(s));     /* unmapped */
	r[4] = strncpy_from_user(s, USER_TOP - 2, sizeof(s));     /* past the top */
	ua_teardown(&u);
	KT_ASSERT_EQ(r[0], 5);
	KT_ASSERT_EQ(r[1], 3);
	KT_ASSERT_EQ(r[2], 4);
	KT_ASSERT_EQ(r[3], -EFAULT);
	KT_ASSERT_EQ(r[4], -EFAULT);
}
