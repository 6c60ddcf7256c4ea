/* extref_test.c: per-process externalized references. */
#include "tests/unit/check.h"

#include "kernel/extref.h"
#include "kernel/interface.h"

enum { T_FILE = CAP_TYPE_FIRST_FREE, T_PAGE };

static void externalize_is_idempotent(void)
{
	struct cap_table *caps = cap_table_create(256);
	struct extref_table *t = extref_table_create(caps, 16);
	int f1 = 1, f2 = 2;
	cap_t c1 = 0, c2 = 0;
	int32_t x1 = 0, x1b = 0, x2 = 0;
	void *o = NULL;

	CHECK_EQ(cap_create(caps, T_FILE, &f1, &c1), 0);
	CHECK_EQ(cap_create(caps, T_FILE, &f2, &c2), 0);
	CHECK_EQ(extref_externalize(t, c1, &x1), 0);
	CHECK_EQ(extref_externalize(t, c1, &x1b), 0);
	CHECK_EQ(x1, x1b);
	CHECK_EQ(extref_externalize(t, c2, &x2), 0);
	CHECK(x1 != x2 && x1 > 0 && x2 > 0);
	CHECK_EQ(extref_count(t), 2);
	CHECK_EQ(extref_internalize(t, x1, T_FILE, &o), 0);
	CHECK(o == &f1);
	CHECK_EQ(extref_internalize(t, x2, T_FILE, &o), 0);
	CHECK(o == &f2);
	/* Small integers, not addresses. */
	CHECK(x1 > 0 && (uintptr_t)x1 != (uintptr_t)&f1);
	extref_table_destroy(t);
	cap_table_destroy(caps);
}

static void bad_and_stale_integers(void)
{
	struct cap_table *caps = cap_table_create(256);
	struct extref_table *t = extref_table_create(caps, 4);
	int f = 1;
	cap_t c = 0;
	int32_t x = 0, y = 0;
	void *o = NULL;

	CHECK_EQ(cap_create(caps, T_FILE, &f, &c), 0);
	CHECK_EQ(extref_externalize(t, c, &x), 0);
	CHECK_EQ(extref_internalize(t, EXTREF_NIL, T_FILE, &o), -EBADF);
	CHECK_EQ(extref_internalize(t, -5, T_FILE, &o), -EBADF);
	CHECK_EQ(extref_internalize(t, x + 1, T_FILE, &o), -EBADF); /* never issued */
	CHECK_EQ(extref_internalize(t, x, T_PAGE, &o), -ECAPTYPE);  /* wrong type */
	CHECK_EQ(extref_delete(t, x), 0);
	CHECK_EQ(extref_internalize(t, x, T_FILE, &o), -ESTALE);
	CHECK_EQ(extref_delete(t, x), -ESTALE);
	/* The slot comes back with a new generation: the old integer stays dead. */
	CHECK_EQ(extref_externalize(t, c, &y), 0);
	CHECK(y != x);
	CHECK_EQ(extref_internalize(t, x, T_FILE, &o), -ESTALE);
	CHECK_EQ(extref_internalize(t, y, T_FILE, &o), 0);
	extref_table_destroy(t);
	cap_table_destroy(caps);
}

static void kernel_revocation_reaches_user(void)
{
	struct cap_table *caps = cap_table_create(256);
	struct extref_table *t = extref_table_create(caps, 4);
	int f = 1;
	cap_t c = 0;
	int32_t x = 0;
	void *o = NULL;

	CHECK_EQ(cap_create(caps, T_FILE, &f, &c), 0);
	CHECK_EQ(extref_externalize(t, c, &x), 0);
	CHECK_EQ(cap_revoke(caps, c, T_FILE, NULL), 0);
	CHECK_EQ(extref_internalize(t, x, T_FILE, &o), -ESTALE);
	/* A revoked capability cannot be externalized either. */
	CHECK_EQ(extref_externalize(t, c, &x), -ESTALE);
	extref_table_destroy(t);
	cap_table_destroy(caps);
}

static void full_table_and_churn(void)
{
	struct cap_table *caps = cap_table_create(1024);
	struct extref_table *t = extref_table_create(caps, 8);
	static int objs[600];
	cap_t c[600];
	int32_t x[8], extra;
	int bad = 0;

	for (int i = 0; i < 600; i++)
		bad += cap_create(caps, T_FILE, &objs[i], &c[i]) != 0;
	for (int i = 0; i < 8; i++)
		bad += extref_externalize(t, c[i], &x[i]) != 0;
	CHECK_EQ(bad, 0);
	CHECK_EQ(extref_externalize(t, c[8], &extra), -ENOSPC);
	/* Churn through many delete/externalize cycles (tombstone rebuilds). */
	for (int i = 8; i < 600; i++) {
		int k = i % 8;
		void *o = NULL;
		bad += extref_delete(t, x[k]) != 0;
		bad += extref_externalize(t, c[i], &x[k]) != 0;
		bad += extref_internalize(t, x[k], T_FILE, &o) != 0 || o != &objs[i];
	}
	CHECK_EQ(bad, 0);
	CHECK_EQ(extref_count(t), 8);
	/* Still no duplicates after the churn. */
	CHECK_EQ(extref_externalize(t, c[599], &extra), 0);
	CHECK_EQ(extra, x[599 % 8]);
	extref_table_destroy(t);
	cap_table_destroy(caps);
}

static void copy_keeps_integers(void)
{
	struct cap_table *caps = cap_table_create(256);
	struct extref_table *p = extref_table_create(caps, 8),
	                    *child = extref_table_create(caps, 8);
	int f = 1, g = 2;
	cap_t cf = 0, cg = 0;
	int32_t xf = 0, xg = 0, again = 0;
	void *o = NULL;

	CHECK_EQ(cap_create(caps, T_FILE, &f, &cf), 0);
	CHECK_EQ(cap_create(caps, T_FILE, &g, &cg), 0);
	CHECK_EQ(extref_externalize(p, cf, &xf), 0);
	CHECK_EQ(extref_externalize(p, cg, &xg), 0);
	CHECK_EQ(extref_delete(p, xf), 0);
	CHECK_EQ(extref_copy(p, child), 0);
	CHECK_EQ(extref_internalize(child, xg, T_FILE, &o), 0);
	CHECK(o == &g);
	CHECK_EQ(extref_internalize(child, xf, T_FILE, &o), -ESTALE);
	CHECK_EQ(extref_externalize(child, cg, &again), 0);
	CHECK_EQ(again, xg);
	CHECK_EQ(extref_copy(p, child), -EINVAL); /* child is not empty */
	extref_table_destroy(p);
	extref_table_destroy(child);
	cap_table_destroy(caps);
}

/* The capability-space calls the generated wrappers use. */
static void capability_space_calls(void)
{
	struct cap_table *caps = cap_table_create(256);
	struct extref_table *t = extref_table_create(caps, 2);
	int f[3] = {0};
	cap_t c[3] = {0}, out = 0;
	uint64_t h0 = 0, h1 = 0, h2 = 0, again = 0;

	for (int i = 0; i < 3; i++)
		CHECK_EQ(cap_create(caps, T_FILE, &f[i], &c[i]), 0);
	CHECK_EQ(extref_enter(t, c[0], &h0), 0);
	CHECK_EQ(extref_enter(t, c[0], &again), 0);
	CHECK_EQ(again, h0);
	CHECK_EQ(extref_resolve(t, h0, &out), 0);
	CHECK_EQ(out, c[0]);
	/* A raw capability value, 0 and values beyond int32 are no handles. */
	CHECK_EQ(extref_resolve(t, c[0], &out), -EBADF);
	CHECK_EQ(extref_resolve(t, 0, &out), -EBADF);
	CHECK_EQ(extref_resolve(t, h0 | ((uint64_t)1 << 32), &out), -EBADF);
	CHECK_EQ(extref_enter(t, c[1], &h1), 0);
	/* Full of live entries: no room, and entering fails. */
	CHECK(!extref_room(t));
	CHECK_EQ(extref_enter(t, c[2], &h2), -ENOSPC);
	/* The kernel revokes c[0]: its handle resolves to the old value (the
	 * callee's check says -ESTALE), and the dead entry makes room. */
	CHECK_EQ(cap_revoke(caps, c[0], T_FILE, NULL), 0);
	CHECK_EQ(extref_resolve(t, h0, &out), 0);
	CHECK_EQ(cap_check(caps, out, T_FILE, NULL), -ESTALE);
	CHECK(extref_room(t));
	CHECK_EQ(extref_count(t), 1);
	CHECK_EQ(extref_resolve(t, h0, &out), -ESTALE);
	CHECK_EQ(extref_enter(t, c[2], &h2), 0);
	CHECK(h2 != h0); /* the slot's generation moved on */
	CHECK_EQ(extref_resolve(t, h2, &out), 0);
	CHECK_EQ(out, c[2]);
	CHECK_EQ(extref_sweep(t), 0);
	extref_table_destroy(t);
	cap_table_destroy(caps);
}

int main(void)
{
	RUN(externalize_is_idempotent);
	RUN(bad_and_stale_integers);
	RUN(kernel_revocation_reaches_user);
	RUN(full_table_and_churn);
	RUN(copy_keeps_integers);
	RUN(capability_space_calls);
	return check_done();
}
