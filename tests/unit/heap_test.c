/*
 * heap_test: the kernel heap over aligned_alloc pages: size classes, large
 * objects, alignment, krealloc, and the debug machinery against hostile
 * callers (overflows, underflows, writes after free, double, interior and
 * foreign frees), which must be reported and refused without corrupting
 * the heap or crashing the test.
 */
#include <stdint.h>

#include "check.h"
#include <kernel/heap.h>

static long pages_out;
static int fail_after = -1; /* page_alloc fails once this reaches 0 */

static void *page_alloc(size_t n, void *arg)
{
	(void)arg;
	if (fail_after == 0)
		return NULL;
	if (fail_after > 0)
		fail_after--;
	pages_out += (long)n;
	return aligned_alloc(HEAP_PAGE_SIZE, n * HEAP_PAGE_SIZE);
}

static void page_free(void *p, size_t n, void *arg)
{
	(void)arg;
	pages_out -= (long)n;
	free(p);
}

static int last_code, nreports;
static const void *last_ptr;
static char last_msg[200];

static void on_report(int code, const void *ptr, const char *msg, void *arg)
{
	(void)arg;
	last_code = code;
	last_ptr = ptr;
	nreports++;
	snprintf(last_msg, sizeof(last_msg), "%s", msg);
}

static const struct heap_ops ops = {page_alloc, page_free, on_report, NULL, NULL, NULL};

static void fresh(void)
{
	heap_fini(true);
	fail_after = -1;
	CHECK_EQ(heap_init(&ops), 0);
	nreports = 0;
	last_code = 0;
}

static void basic_classes_and_alignment(void)
{
	void *p[64];
	fresh();
	for (int i = 0; i < 64; i++) {
		size_t sz = (size_t)1 << (i % 14); /* 1 .. 8192 */
		p[i] = kmalloc(sz);
		CHECK(p[i] != NULL);
		CHECK((uintptr_t)p[i] % HEAP_ALIGN == 0);
		CHECK(HEAP_DEBUG ? heap_usable_size(p[i]) == sz : heap_usable_size(p[i]) >= sz);
		memset(p[i], i, sz); /* ASan: the whole size is ours */
	}
	CHECK_EQ(heap_check(), 0);
	for (int i = 0; i < 64; i++) {
		size_t sz = (size_t)1 << (i % 14);
		CHECK_EQ(((unsigned char *)p[i])[sz - 1], i);
		CHECK_EQ(kfree(p[i]), 0);
	}
	CHECK_EQ(kfree(NULL), 0);
	CHECK_EQ(heap_check(), 0);
	CHECK_EQ(nreports, 0);
	struct heap_stats st;
	heap_get_stats(&st);
	CHECK_EQ(st.live_objects, 0);
	CHECK_EQ(st.bytes_requested, 0);
	CHECK_EQ(st.large_objects, 0);
	CHECK_EQ(heap_fini(false), 0);
	CHECK_EQ(pages_out, 0);
}

static void many_objects_distinct(void)
{
	enum { N = 5000 };
	static unsigned char *p[N];
	fresh();
	for (int i = 0; i < N; i++) {
		size_t sz = 1 + (size_t)(i * 7919) % 3000;
		p[i] = kmalloc(sz);
		CHECK(p[i] != NULL);
		memset(p[i], (int)(i & 0xff), sz);
	}
	CHECK_EQ(heap_check(), 0);
	for (int i = 0; i < N; i += 2)
		CHECK_EQ(kfree(p[i]), 0);
	CHECK_EQ(heap_check(), 0);
	for (int i = 1; i < N; i += 2) {
		size_t sz = 1 + (size_t)(i * 7919) % 3000;
		CHECK_EQ(p[i][sz / 2], i & 0xff); /* nobody scribbled on it */
		CHECK_EQ(kfree(p[i]), 0);
	}
	CHECK_EQ(heap_check(), 0);
	CHECK_EQ(nreports, 0);
	CHECK_EQ(heap_fini(false), 0);
	CHECK_EQ(pages_out, 0);
}

static void zalloc_calloc_realloc(void)
{
	fresh();
	unsigned char *z = kzalloc(100);
	CHECK(z != NULL);
	for (int i = 0; i < 100; i++)
		CHECK_EQ(z[i], 0);
	CHECK(kcalloc(SIZE_MAX / 2, 3) == NULL);
	int *c = kcalloc(10, sizeof(int));
	CHECK(c != NULL && c[9] == 0);
	unsigned char *m = kmalloc(10);
	CHECK_EQ(m[0], HEAP_POISON_ALLOC);
	memcpy(m, "abcdefghij", 10);
	unsigned char *r = krealloc(m, 5000);
	CHECK(r != NULL);
	CHECK(memcmp(r, "abcdefghij", 10) == 0);
	CHECK_EQ(heap_usable_size(r), 5000);
	CHECK_EQ(heap_usable_size(m), 0); /* the old one is gone */
	r = krealloc(r, 3);
	CHECK(r != NULL && memcmp(r, "abc", 3) == 0);
	CHECK(krealloc(r, 0) == NULL);
	CHECK(krealloc((void *)&z, 8) == NULL); /* foreign: refused, reported */
	CHECK_EQ(last_code, HEAP_E_NOT_HEAP);
	void *k = krealloc(NULL, 8);
	CHECK(k != NULL);
	CHECK(kmalloc(HEAP_MAX_ALLOC + 1) == NULL);
	void *zero = kmalloc(0);
	CHECK(zero != NULL);
	CHECK_EQ(kfree(zero), 0);
	CHECK_EQ(kfree(k), 0);
	CHECK_EQ(kfree(z), 0);
	CHECK_EQ(kfree(c), 0);
	CHECK_EQ(heap_check(), 0);
	CHECK_EQ(heap_fini(false), 0);
}

static void overflow_detected(void)
{
	fresh();
	char *a = kmalloc(24);
	char *b = kmalloc(24);
	a[24] = 'X'; /* one byte past the end: into the red zone */
	CHECK_EQ(heap_check(), HEAP_E_OVERFLOW);
	nreports = 0;
	CHECK_EQ(kfree(a), HEAP_E_OVERFLOW);
	CHECK_EQ(nreports, 1);
	CHECK(last_ptr == a);
	CHECK(strstr(last_msg, "0 bytes past the end of the 24-byte object") != NULL);
	/* Refused: the object stays allocated and the heap stays consistent. */
	CHECK_EQ(heap_usable_size(a), 24);
	CHECK_EQ(kfree(b), 0);
	a[24] = (char)HEAP_REDZONE; /* repair it: now it frees */
	CHECK_EQ(kfree(a), 0);
	CHECK_EQ(heap_check(), 0);

	/* Large object overflow. */
	char *big = kmalloc(10000);
	big[10000 + 5] = 1;
	CHECK_EQ(kfree(big), HEAP_E_OVERFLOW);
	big[10000 + 5] = (char)HEAP_REDZONE;
	CHECK_EQ(kfree(big), 0);
	CHECK_EQ(heap_fini(false), 0);
}

static void underflow_detected(void)
{
	fresh();
	char *a = kmalloc(100);
	a[-1] = 0; /* front canary */
	CHECK_EQ(kfree(a), HEAP_E_UNDERFLOW);
	CHECK_EQ(last_code, HEAP_E_UNDERFLOW);
	a[-1] = (char)HEAP_REDZONE;
	((uint32_t *)(a - 16))[0] = 5; /* the size field */
	CHECK_EQ(kfree(a), HEAP_E_UNDERFLOW);
	CHECK_EQ(heap_check(), HEAP_E_UNDERFLOW);
	((uint32_t *)(a - 16))[0] = 100;
	CHECK_EQ(kfree(a), 0);
	CHECK_EQ(heap_check(), 0);
	CHECK_EQ(heap_fini(false), 0);
}

static void use_after_free_detected(void)
{
	fresh();
	char *keep = kmalloc(48); /* keeps the slab alive */
	char *a = kmalloc(48);
	CHECK_EQ(kfree(a), 0);
	CHECK_EQ((unsigned char)a[0], HEAP_POISON_FREE);
	a[3] = 7; /* write after free */
	CHECK_EQ(heap_check(), HEAP_E_USE_AFTER_FREE);
	nreports = 0;
	char *b = kmalloc(48); /* reuses the slot: reported, then re-initialised */
	CHECK(b == a);
	CHECK_EQ(nreports, 1);
	CHECK_EQ(last_code, HEAP_E_USE_AFTER_FREE);
	CHECK_EQ(heap_check(), 0);
	CHECK_EQ(kfree(b), 0);
	CHECK_EQ(kfree(keep), 0);
	CHECK_EQ(heap_fini(false), 0);
}

static void bad_frees_refused(void)
{
	int on_stack;
	fresh();
	char *a = kmalloc(64);
	char *keep = kmalloc(64);
	char *big = kmalloc(9000);
	struct heap_stats before, after;
	heap_get_stats(&before);

	CHECK_EQ(kfree(&on_stack), HEAP_E_NOT_HEAP);
	CHECK_EQ(kfree((void *)0x10), HEAP_E_NOT_HEAP);
	CHECK_EQ(kfree(a + 1), HEAP_E_MISALIGNED);
	CHECK_EQ(kfree(a + 16), HEAP_E_MISALIGNED);
	/* The header; without HEAP_DEBUG, a may be its slab's first slot. */
	CHECK(HEAP_DEBUG ? kfree(a - 16) == HEAP_E_MISALIGNED : kfree(a - 16) < 0);
	CHECK_EQ(kfree(big + 4096), HEAP_E_MISALIGNED);
	heap_get_stats(&after);
	CHECK_EQ(after.live_objects, before.live_objects);
	CHECK_EQ(after.errors_detected, before.errors_detected + 6);
	CHECK_EQ(kfree(a), 0);
	CHECK_EQ(kfree(a), HEAP_E_DOUBLE_FREE);
	CHECK(strstr(last_msg, "already free") != NULL);
	CHECK_EQ(kfree(big), 0);
	CHECK_EQ(kfree(big), HEAP_E_NOT_HEAP); /* its pages went back */
	CHECK_EQ(heap_check(), 0);
	CHECK_EQ(kfree(keep), 0);
	CHECK_EQ(heap_fini(false), 0);
	CHECK(heap_strerror(HEAP_E_DOUBLE_FREE)[0] != '\0');
}

static void page_source_exhaustion(void)
{
	fresh();
	void *p[200];
	int n = 0;
	fail_after = 20;
	while (n < 200 && (p[n] = kmalloc(3000)) != NULL)
		n++;
	CHECK(n > 0 && n < 200);
	CHECK(kmalloc(100000) == NULL);
	struct heap_stats st;
	heap_get_stats(&st);
	CHECK(st.failed_allocs >= 2);
	CHECK_EQ(heap_check(), 0);
	fail_after = -1;
	for (int i = 0; i < n; i++)
		CHECK_EQ(kfree(p[i]), 0);
	CHECK_EQ(heap_check(), 0);
	CHECK_EQ(heap_fini(false), 0);
	CHECK_EQ(pages_out, 0);
}

static void init_and_fini_rules(void)
{
	struct heap_ops bad = {NULL, page_free, NULL, NULL, NULL, NULL};
	fresh();
	CHECK_EQ(heap_init(&bad), HEAP_E_INVAL);
	CHECK_EQ(heap_init(NULL), HEAP_E_INVAL);
	void *p = kmalloc(10);
	CHECK_EQ(heap_init(&ops), HEAP_E_BUSY); /* objects live */
	CHECK_EQ(heap_fini(false), HEAP_E_BUSY);
	CHECK_EQ(kfree(p), 0);
	CHECK_EQ(heap_fini(false), 0);
	CHECK_EQ(heap_fini(false), HEAP_E_NOT_READY);
	CHECK(kmalloc(10) == NULL);
	CHECK_EQ(kfree((void *)0x1000), HEAP_E_NOT_READY);
	CHECK_EQ(pages_out, 0);
}

/* Random alloc/free/realloc with content checks and periodic heap_check. */
static uint64_t rng = 0x1234567887654321ull;
static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void randomized(void)
{
	enum { SLOTS = 300 };
	static unsigned char *p[SLOTS];
	static size_t sz[SLOTS];
	int errors = 0;
	fresh();
	for (int step = 0; step < 30000; step++) {
		int k = (int)(rnd() % SLOTS);
		if (p[k] == NULL) {
			sz[k] = rnd() % 8 == 0 ? rnd() % 20000 : rnd() % 700;
			p[k] = kmalloc(sz[k]);
			if (p[k] == NULL)
				errors++;
			else
				memset(p[k], k & 0xff, sz[k]);
		} else if (rnd() % 4 == 0) {
			size_t nsz = 1 + rnd() % 5000;
			unsigned char *q = krealloc(p[k], nsz);
			if (q == NULL) {
				errors++;
				continue;
			}
			for (size_t i = sz[k] < nsz ? sz[k] : nsz; i-- > 0;)
				if (q[i] != (k & 0xff)) {
					errors++;
					break;
				}
			memset(q, k & 0xff, nsz);
			p[k] = q;
			sz[k] = nsz;
		} else {
			for (size_t i = 0; i < sz[k]; i++)
				if (p[k][i] != (k & 0xff)) {
					errors++;
					break;
				}
			if (kfree(p[k]) != 0)
				errors++;
			p[k] = NULL;
		}
		if (step % 1000 == 0 && heap_check() != 0)
			errors++;
	}
	for (int k = 0; k < SLOTS; k++) {
		if (p[k] && kfree(p[k]) != 0)
			errors++;
		p[k] = NULL;
	}
	CHECK_EQ(errors, 0);
	CHECK_EQ(nreports, 0);
	CHECK_EQ(heap_check(), 0);
	CHECK_EQ(heap_fini(false), 0);
	CHECK_EQ(pages_out, 0);
}

int main(void)
{
	RUN(basic_classes_and_alignment);
	RUN(many_objects_distinct);
#if HEAP_DEBUG
	/* Checks poison and exact usable sizes: debug-build behaviour. */
	RUN(zalloc_calloc_realloc);
#endif
#if HEAP_DEBUG
	RUN(overflow_detected);
	RUN(underflow_detected);
	RUN(use_after_free_detected);
#else
	(void)overflow_detected, (void)underflow_detected, (void)use_after_free_detected;
	(void)zalloc_calloc_realloc;
#endif
	RUN(bad_frees_refused);
	RUN(page_source_exhaustion);
	RUN(init_and_fini_rules);
	RUN(randomized);
	heap_fini(true);
	return check_done();
}
