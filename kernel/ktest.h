/*
 * kernel/ktest.h: the in-kernel test runner.
 *
 * A test is a named function registered at build time into the .ktest
 * linker section:
 *
 *     KTEST(heap_smoke)
 *     {
 *             void *p = kmalloc(32);
 *             KT_ASSERT(p != NULL);
 *             KT_ASSERT_EQ(kfree(p), 0);
 *     }
 *
 * Tests live in tests/kernel/ (one file per area) and are linked into the one kernel image.
 * They run when the command line has "test" (all) or "test=PATTERN[,...]"
 * (a glob with * and ?; a pattern without wildcards matches names that
 * contain it), in link order, one at a time, with interrupts enabled.  Each
 * prints exactly one line on the console: "ok NAME" or "FAIL NAME: reason
 * (file:line)".  The run ends with "N passed, M failed" and the machine
 * exits with EXIT_CODE_SUCCESS only if M is 0 and N > 0.  A test that
 * faults unexpectedly takes the whole run down through the fatal-exception
 * path (the host harness counts that as a failure).
 *
 * Assertions return from the test on failure (so cleanup after a failed
 * assertion is skipped; keep tests free of state that outlives them).
 */
#ifndef KERNEL_KTEST_H
#define KERNEL_KTEST_H

#include <stdbool.h>
#include <stdint.h>

struct ktest_ctx {
	const char *name;
	bool failed;
};

struct ktest {
	const char *name;
	void (*fn)(struct ktest_ctx *kt);
};

#define KTEST(n)                                                                                   \
	static void ktest_fn_##n(struct ktest_ctx *kt);                                            \
	static const struct ktest ktest_desc_##n                                                   \
	    __attribute__((used, section(".ktest"), aligned(8))) = {#n, ktest_fn_##n};             \
	static void ktest_fn_##n(__attribute__((unused)) struct ktest_ctx *kt)

/* Record a failure with a reason; the first failure's reason is printed. */
__attribute__((format(printf, 4, 5))) void ktest_fail(struct ktest_ctx *kt, const char *file,
                                                      int line, const char *fmt, ...);

#define KT_FAIL(...)                                                                               \
	do {                                                                                       \
		ktest_fail(kt, __FILE__, __LINE__, __VA_ARGS__);                                   \
		return;                                                                            \
	} while (0)
#define KT_ASSERT(cond)                                                                            \
	do {                                                                                       \
		if (!(cond))                                                                       \
			KT_FAIL("assertion %s failed", #cond);                                     \
	} while (0)
#define KT_ASSERT_EQ(a, b)                                                                         \
	do {                                                                                       \
		uint64_t ka_ = (uint64_t)(a), kb_ = (uint64_t)(b);                                 \
		if (ka_ != kb_)                                                                    \
			KT_FAIL("%s == %s failed: 0x%lx != 0x%lx", #a, #b, (unsigned long)ka_,     \
			        (unsigned long)kb_);                                               \
	} while (0)

/* Run the tests selected by patterns (NULL or "" = all); returns failures.
 * *passed receives the number that passed. */
int ktest_run(const char *patterns, int *passed);
/* Glob match used for patterns (exported for its own test). */
bool ktest_match(const char *pattern, const char *name);

#endif
