/* cap_test.c: capabilities are O(1)-checked, typed and revocable. */
#include "tests/unit/check.h"

#include "kernel/cap.h"
#include "kernel/interface.h"

void cap_test_set_generation(struct cap_table *t, uint32_t index, uint32_t gen);

enum { T_PAGE = CAP_TYPE_FIRST_FREE, T_FILE };

static void create_check_roundtrip(void)
{
	struct cap_table *t = cap_table_create(1024);
	int page = 1, file = 2;
	cap_t a = 0, b = 0;
	void *o = NULL;

	CHECK(t != NULL);
	CHECK_EQ(cap_create(t, T_PAGE, &page, &a), 0);
	CHECK_EQ(cap_create(t, T_FILE, &file, &b), 0);
	CHECK(a != CAP_NULL && b != CAP_NULL && a != b);
	CHECK_EQ(cap_check(t, a, T_PAGE, &o), 0);
	CHECK(o == &page);
	CHECK(cap_lookup(t, b, T_FILE) == &file);
	CHECK_EQ(cap_type_of(a), T_PAGE);
	CHECK_EQ(cap_count(t), 2);
	cap_table_destroy(t);
}

static void wrong_type_never_resolves(void)
{
	struct cap_table *t = cap_table_create(64);
	int page = 1;
	cap_t a = 0;
	CHECK_EQ(cap_create(t, T_PAGE, &page, &a), 0);
	CHECK_EQ(cap_check(t, a, T_FILE, NULL), -ECAPTYPE);
	CHECK(cap_lookup(t, a, T_FILE) == NULL);
	/* Forging the type byte does not help: the slot knows its type. */
	CHECK_EQ(cap_check(t, (a & ~(cap_t)0xff) | T_FILE, T_FILE, NULL), -EBADF);
	cap_table_destroy(t);
}

static void revoked_handle_is_stale(void)
{
	struct cap_table *t = cap_table_create(64);
	int page = 1, other = 2;
	cap_t a = 0, copy, b = 0;
	void *o = NULL;

	CHECK_EQ(cap_create(t, T_PAGE, &page, &a), 0);
	copy = a;
	CHECK_EQ(cap_revoke(t, a, T_PAGE, &o), 0);
	CHECK(o == &page);
	CHECK_EQ(cap_check(t, copy, T_PAGE, NULL), -ESTALE);
	CHECK_EQ(cap_revoke(t, copy, T_PAGE, NULL), -ESTALE);
	/* The slot is reused with a new generation; the old value stays dead. */
	CHECK_EQ(cap_create(t, T_PAGE, &other, &b), 0);
	CHECK_EQ(cap_index_of(b), cap_index_of(a));
	CHECK(b != a);
	CHECK_EQ(cap_check(t, copy, T_PAGE, NULL), -ESTALE);
	CHECK(cap_lookup(t, b, T_PAGE) == &other);
	CHECK_EQ(cap_count(t), 1);
	cap_table_destroy(t);
}

static void forged_and_null_handles_fail(void)
{
	struct cap_table *t = cap_table_create(64);
	int x = 0;
	cap_t a = 0;
	CHECK_EQ(cap_check(t, CAP_NULL, T_PAGE, NULL), -EBADF);
	CHECK_EQ(cap_create(t, T_PAGE, &x, &a), 0);
	/* An index beyond the table, and a generation never issued. */
	CHECK_EQ(cap_check(t, ((cap_t)1 << 32) | ((cap_t)5000 << 8) | T_PAGE, T_PAGE, NULL),
	         -EBADF);
	CHECK_EQ(cap_check(t, a + ((cap_t)7 << 32), T_PAGE, NULL), -EBADF);
	/* A free slot that was never handed out. */
	CHECK_EQ(cap_check(t, ((cap_t)1 << 32) | ((cap_t)3 << 8) | T_PAGE, T_PAGE, NULL), -EBADF);
	CHECK_EQ(cap_create(t, CAP_TYPE_NONE, &x, &a), -EINVAL);
	CHECK_EQ(cap_create(t, T_PAGE, NULL, &a), -EINVAL);
	cap_table_destroy(t);
}

static void table_grows_and_fills(void)
{
	struct cap_table *t = cap_table_create(2 * CAP_CHUNK);
	static int objs[2 * CAP_CHUNK];
	cap_t c[2 * CAP_CHUNK], extra;
	int bad = 0;
	for (uint32_t i = 0; i < 2 * CAP_CHUNK; i++)
		bad += cap_create(t, T_PAGE, &objs[i], &c[i]) != 0;
	CHECK_EQ(bad, 0);
	CHECK_EQ(cap_create(t, T_PAGE, &objs[0], &extra), -ENOSPC);
	for (uint32_t i = 0; i < 2 * CAP_CHUNK; i++)
		bad += cap_lookup(t, c[i], T_PAGE) != &objs[i];
	CHECK_EQ(bad, 0);
	CHECK_EQ(cap_revoke(t, c[300], T_PAGE, NULL), 0);
	CHECK_EQ(cap_create(t, T_PAGE, &objs[1], &extra), 0);
	CHECK_EQ(cap_index_of(extra), 300);
	cap_table_destroy(t);
}

static void exhausted_generation_retires_slot(void)
{
	struct cap_table *t = cap_table_create(CAP_CHUNK);
	int x = 0;
	cap_t a = 0, b = 0;
	CHECK_EQ(cap_create(t, T_PAGE, &x, &a), 0);
	CHECK_EQ(cap_revoke(t, a, T_PAGE, NULL), 0);
	/* Slot 0 is on top of the free list: age it to the last generation. */
	cap_test_set_generation(t, 0, UINT32_MAX);
	CHECK_EQ(cap_create(t, T_PAGE, &x, &a), 0);
	CHECK_EQ(cap_index_of(a), 0);
	CHECK_EQ(cap_gen_of(a), UINT32_MAX);
	CHECK_EQ(cap_revoke(t, a, T_PAGE, NULL), 0);
	CHECK_EQ(cap_check(t, a, T_PAGE, NULL), -ESTALE);
	CHECK_EQ(cap_create(t, T_PAGE, &x, &b), 0);
	CHECK(cap_index_of(b) != 0); /* never reused */
	cap_table_destroy(t);
}

static void generations_are_unpredictable(void)
{
	struct cap_table *t = cap_table_create(CAP_CHUNK);
	static int objs[64];
	cap_t c[64], d = 0;
	uint32_t low = 0, dup = 0;

	for (uint32_t i = 0; i < 64; i++) {
		CHECK_EQ(cap_create(t, T_PAGE, &objs[i], &c[i]), 0);
		CHECK(cap_gen_of(c[i]) >= 1 && cap_gen_of(c[i]) <= (1u << 31));
		low += cap_gen_of(c[i]) <= 64; /* a guesser's first tries */
		for (uint32_t j = 0; j < i; j++)
			dup += cap_gen_of(c[j]) == cap_gen_of(c[i]);
	}
	/* Each is drawn from 2^31 values: 64 of them all differing and none
	 * among the 64 smallest fails by chance with probability < 2^-18. */
	CHECK_EQ(low, 0);
	CHECK_EQ(dup, 0);
	/* Revocation still moves the slot to the next generation; a value
	 * between the slot's first and current generation is stale, any other
	 * one was never issued. */
	CHECK_EQ(cap_revoke(t, c[63], T_PAGE, NULL), 0);
	CHECK_EQ(cap_create(t, T_PAGE, &objs[63], &d), 0);
	CHECK_EQ(cap_index_of(d), cap_index_of(c[63]));
	CHECK_EQ(cap_gen_of(d), cap_gen_of(c[63]) + 1);
	CHECK_EQ(cap_check(t, c[63], T_PAGE, NULL), -ESTALE);
	CHECK_EQ(cap_check(t, c[63] - ((cap_t)1 << 32), T_PAGE, NULL), -EBADF);
	CHECK_EQ(cap_check(t, d + ((cap_t)1 << 32), T_PAGE, NULL), -EBADF);
	cap_table_destroy(t);
}

int main(void)
{
	RUN(create_check_roundtrip);
	RUN(wrong_type_never_resolves);
	RUN(revoked_handle_is_stale);
	RUN(forged_and_null_handles_fail);
	RUN(table_grows_and_fills);
	RUN(exhausted_generation_retires_slot);
	RUN(generations_are_unpredictable);
	return check_done();
}
