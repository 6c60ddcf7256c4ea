/*
 * ktest.c: run the KTEST cases linked into the image and report each.
 *
 * The cases are an array of struct ktest between __ktest_start and
 * __ktest_end (arch linker script).  Every case runs with interrupts on; the
 * runner restores that state afterwards and disarms a fault catch a test
 * left armed, so one test's leftovers cannot make the next one misbehave.
 */
#include <stdarg.h>

#include <arch/cpu.h>
#include <arch/fault.h>

#include "kernel/fmt.h"
#include "kernel/kprintf.h"
#include "kernel/ktest.h"
#include "kernel/string.h"

extern const struct ktest __ktest_start[], __ktest_end[];

static char ktest_reason[200];

void ktest_fail(struct ktest_ctx *kt, const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (kt->failed)
		return;
	kt->failed = true;
	va_start(ap, fmt);
	n = fmt_vsnprintf(ktest_reason, sizeof(ktest_reason), fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < sizeof(ktest_reason))
		fmt_snprintf(ktest_reason + n, sizeof(ktest_reason) - n, " (%s:%d)", file, line);
}

static bool ktest_glob(const char *p, const char *s)
{
	for (; *p; p++, s++) {
		if (*p == '*') {
			for (;; s++) {
				if (ktest_glob(p + 1, s))
					return true;
				if (!*s)
					return false;
			}
		}
		if (!*s || (*p != '?' && *p != *s))
			return false;
	}
	return *s == 0;
}

bool ktest_match(const char *pattern, const char *name)
{
	if (!pattern || !*pattern)
		return true;
	if (strchr(pattern, '*') || strchr(pattern, '?'))
		return ktest_glob(pattern, name);
	for (size_t n = strlen(pattern); *name; name++)
		if (strncmp(name, pattern, n) == 0)
			return true;
	return false;
}

/* Any of the comma-separated patterns matches. */
static bool ktest_selected(const char *patterns, const char *name)
{
	char one[64];

	if (!patterns || !*patterns)
		return true;
	while (*patterns) {
		size_t n = 0;

		while (patterns[n] && patterns[n] != ',')
			n++;
		if (n && n < sizeof(one)) {
			memcpy(one, patterns, n);
			one[n] = 0;
			if (ktest_match(one, name))
				return true;
		}
		patterns += n;
		if (*patterns == ',')
			patterns++;
	}
	return false;
}

int ktest_run(const char *patterns, int *passed)
{
	int pass = 0, fail = 0;

	for (const struct ktest *t = __ktest_start; t < __ktest_end; t++) {
		struct ktest_ctx kt = {t->name, false};

		if (!ktest_selected(patterns, t->name))
			continue;
		arch_irq_enable();
		t->fn(&kt);
		fault_catch_reset();
		arch_irq_enable();
		if (kt.failed) {
			kprintf("FAIL %s: %s\n", t->name, ktest_reason);
			fail++;
		} else {
			kprintf("ok %s\n", t->name);
			pass++;
		}
	}
	*passed = pass;
	return fail;
}
