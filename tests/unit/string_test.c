/*
 * string_test: the kernel's memory and string primitives, built renamed
 * (kstring_memcpy, ...; see kernel/string.h) and compared exhaustively
 * over small sizes and every alignment against obvious byte-wise models.
 * ASan watches every access: a copy that strays one byte outside its
 * buffers fails the test.
 */
#include <stdint.h>

#include "check.h"
/* After every system header: from here on memcpy means kstring_memcpy. */
#include <kernel/string.h>

#define N 96

static unsigned char src[N + 16], dst[N + 16], ref[N + 16];

static void fill(unsigned char *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)(seed * 31 + i * 7 + 1);
}

static int same(const unsigned char *a, const unsigned char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i] != b[i])
			return 0;
	return 1;
}

static void memcpy_all_alignments(void)
{
	int bad = 0;
	for (size_t so = 0; so < 8; so++)
		for (size_t d = 0; d < 8; d++)
			for (size_t n = 0; n <= N; n++) {
				fill(src, sizeof(src), (unsigned)(so + n));
				fill(dst, sizeof(dst), 99);
				fill(ref, sizeof(ref), 99);
				for (size_t i = 0; i < n; i++)
					ref[d + i] = src[so + i];
				if (memcpy(dst + d, src + so, n) != dst + d ||
				    !same(dst, ref, sizeof(dst)))
					bad++;
			}
	CHECK_EQ(bad, 0);
}

static void memmove_overlaps(void)
{
	static unsigned char buf[N + 32], model[N + 32];
	int bad = 0;
	for (size_t from = 0; from < 24; from++)
		for (size_t to = 0; to < 24; to++)
			for (size_t n = 0; n <= N; n++) {
				unsigned char tmp[N];
				fill(buf, sizeof(buf), (unsigned)n);
				fill(model, sizeof(model), (unsigned)n);
				for (size_t i = 0; i < n; i++)
					tmp[i] = model[from + i];
				for (size_t i = 0; i < n; i++)
					model[to + i] = tmp[i];
				if (memmove(buf + to, buf + from, n) != buf + to ||
				    !same(buf, model, sizeof(buf)))
					bad++;
			}
	CHECK_EQ(bad, 0);
}

static void memset_and_memcmp(void)
{
	int bad = 0;
	for (size_t d = 0; d < 8; d++)
		for (size_t n = 0; n <= N; n++) {
			fill(dst, sizeof(dst), 5);
			fill(ref, sizeof(ref), 5);
			for (size_t i = 0; i < n; i++)
				ref[d + i] = 0xab;
			/* The int argument is converted to unsigned char. */
			if (memset(dst + d, 0x1ab, n) != dst + d || !same(dst, ref, sizeof(dst)))
				bad++;
		}
	CHECK_EQ(bad, 0);

	unsigned char a[4] = {1, 2, 3, 4}, b[4] = {1, 2, 3, 5}, c[4] = {1, 2, 0x80, 4};
	CHECK_EQ(memcmp(a, b, 4), -1);
	CHECK_EQ(memcmp(b, a, 4), 1);
	CHECK_EQ(memcmp(a, b, 3), 0);
	CHECK_EQ(memcmp(a, c, 4), -1); /* bytes compare as unsigned */
	CHECK_EQ(memcmp(a, b, 0), 0);
}

static void string_functions(void)
{
	char unterminated[4] = {'a', 'b', 'c', 'd'};
	char buf[8];

	CHECK_EQ(strlen(""), 0);
	CHECK_EQ(strlen("spindle"), 7);
	CHECK_EQ(strnlen("spindle", 3), 3);
	CHECK_EQ(strnlen("sp", 10), 2);
	CHECK_EQ(strnlen(unterminated, 4), 4); /* must not read past 4 */
	CHECK_EQ(strnlen(unterminated, 0), 0);

	CHECK_EQ(strcmp("abc", "abc"), 0);
	CHECK(strcmp("abc", "abd") < 0);
	CHECK(strcmp("abd", "abc") > 0);
	CHECK(strcmp("ab", "abc") < 0);
	CHECK(strcmp("abc", "ab") > 0);
	CHECK(strcmp("a\x80", "a\x01") > 0); /* unsigned char ordering */
	CHECK_EQ(strncmp("abcX", "abcY", 3), 0);
	CHECK(strncmp("abcX", "abcY", 4) < 0);
	CHECK_EQ(strncmp("ab", "ab", 100), 0);
	CHECK_EQ(strncmp("x", "y", 0), 0);

	const char *s = "kernel";
	CHECK(strchr(s, 'r') == s + 2);
	CHECK(strchr(s, 'z') == NULL);
	CHECK(strchr(s, '\0') == s + 6);
	CHECK(strchr(s, 'k' + 256) == s); /* converted to char */

	memset(buf, 'Z', sizeof(buf));
	CHECK_EQ(strlcpy(buf, "hello world", sizeof(buf)), 11);
	CHECK_EQ(strcmp(buf, "hello w"), 0);
	CHECK_EQ(strlcpy(buf, "hi", sizeof(buf)), 2);
	CHECK_EQ(strcmp(buf, "hi"), 0);
	buf[0] = 'Q';
	CHECK_EQ(strlcpy(buf, "abc", 0), 3);
	CHECK_EQ(buf[0], 'Q'); /* size 0: nothing written */
	CHECK_EQ(strlcpy(buf, "abc", 1), 3);
	CHECK_EQ(buf[0], '\0');
}

/* The rename really happened: these are not the C library's functions. */
static void renamed_not_libc(void)
{
	void *(*mine)(void *restrict, const void *restrict, size_t) = memcpy;
	CHECK(mine == kstring_memcpy);
	CHECK(strlen == kstring_strlen);
}

int main(void)
{
	RUN(memcpy_all_alignments);
	RUN(memmove_overlaps);
	RUN(memset_and_memcmp);
	RUN(string_functions);
	RUN(renamed_not_libc);
	return check_done();
}
