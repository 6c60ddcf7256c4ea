/*
 * check.h: the host unit tests' harness, header only.
 *
 * A test is a function `static void name(void)` run by RUN(name) from main;
 * inside it, CHECK(cond) and friends record a failure (and carry on, so one
 * run shows every broken expectation).  After each test RUN prints
 *     ok name
 * or, for each failed check,
 *     FAIL name: file:line expr [details]
 * and main ends with `return check_done();`, which prints the final
 *     N passed, M failed
 * line (counting tests, not checks) that mk/unit.mk sums across binaries,
 * and returns non-zero if anything failed.
 *
 * Tests print nothing else on lines starting with "ok " or "FAIL"; other
 * diagnostic output is free-form.
 */
#ifndef SPINDLE_TESTS_UNIT_CHECK_H
#define SPINDLE_TESTS_UNIT_CHECK_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *check_current = "?";
static int check_current_failed;
static int check_passed, check_failed;

static inline void check_fail(const char *file, int line, const char *expr)
{
	printf("FAIL %s: %s:%d %s\n", check_current, file, line, expr);
	fflush(stdout);
	check_current_failed = 1;
}

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond))                                                                       \
			check_fail(__FILE__, __LINE__, #cond);                                     \
	} while (0)

/* Compare two integers (any integer type) and print both on failure. */
#define CHECK_EQ(a, b)                                                                             \
	do {                                                                                       \
		intmax_t check_a_ = (intmax_t)(a), check_b_ = (intmax_t)(b);                       \
		if (check_a_ != check_b_) {                                                        \
			char check_m_[512];                                                        \
			snprintf(check_m_, sizeof(check_m_),                                       \
			         "%.150s == %.150s (got %jd / %#jx, want %jd / %#jx)", #a, #b,     \
			         check_a_, (uintmax_t)check_a_, check_b_, (uintmax_t)check_b_);    \
			check_fail(__FILE__, __LINE__, check_m_);                                  \
		}                                                                                  \
	} while (0)

/* Compare two C strings and print both on failure. */
#define CHECK_STR(a, b)                                                                            \
	do {                                                                                       \
		const char *check_a_ = (a), *check_b_ = (b);                                       \
		if (check_a_ == NULL || check_b_ == NULL || strcmp(check_a_, check_b_) != 0) {     \
			char check_m_[1024];                                                       \
			snprintf(check_m_, sizeof(check_m_),                                       \
			         "%.80s == %.80s (got \"%.400s\", want \"%.400s\")", #a, #b,       \
			         check_a_ ? check_a_ : "(null)", check_b_ ? check_b_ : "(null)");  \
			check_fail(__FILE__, __LINE__, check_m_);                                  \
		}                                                                                  \
	} while (0)

#define RUN(fn)                                                                                    \
	do {                                                                                       \
		check_current = #fn;                                                               \
		check_current_failed = 0;                                                          \
		fn();                                                                              \
		if (check_current_failed) {                                                        \
			check_failed++;                                                            \
		} else {                                                                           \
			check_passed++;                                                            \
			printf("ok %s\n", #fn);                                                    \
		}                                                                                  \
		fflush(stdout);                                                                    \
	} while (0)

static inline int check_done(void)
{
	printf("%d passed, %d failed\n", check_passed, check_failed);
	fflush(stdout);
	return check_failed ? 1 : 0;
}

#endif /* SPINDLE_TESTS_UNIT_CHECK_H */
