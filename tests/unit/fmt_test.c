/*
 * fmt_test: kernel/fmt against fixed expectations and, for the parts where
 * C99 fully defines the result, against the host C library on thousands of
 * random conversion specifications.
 */
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "check.h"
#include <kernel/fmt.h>

/* Format with fmt_vsnprintf into a fresh buffer and compare. */
static char outbuf[8192];

static int kfmt(const char *f, ...)
{
	va_list ap;
	int n;
	va_start(ap, f);
	n = fmt_vsnprintf(outbuf, sizeof(outbuf), f, ap);
	va_end(ap);
	return n;
}

/* Runtime format strings keep -Wformat away from deliberately odd formats. */
static const char *volatile dyn;

#define EXPECT(want, ...)                                                                          \
	do {                                                                                       \
		int n_ = kfmt(__VA_ARGS__);                                                        \
		CHECK_STR(outbuf, want);                                                           \
		CHECK_EQ(n_, (int)strlen(want));                                                   \
	} while (0)

static void integers(void)
{
	EXPECT("0", "%d", 0);
	EXPECT("-1", "%d", -1);
	EXPECT("2147483647 -2147483648", "%d %i", INT_MAX, INT_MIN);
	EXPECT("4294967295", "%u", UINT_MAX);
	EXPECT("-9223372036854775808", "%lld", LLONG_MIN);
	EXPECT("18446744073709551615", "%llu", ULLONG_MAX);
	EXPECT("-9223372036854775808", "%jd", INTMAX_MIN);
	EXPECT("deadbeef DEADBEEF", "%x %X", 0xdeadbeefu, 0xdeadbeefu);
	EXPECT("777", "%o", 0777);
	EXPECT("-1 255", "%hhd %hhu", 255, 255);
	EXPECT("-1 65535", "%hd %hu", 65535, 65535);
	EXPECT("18446744073709551615", "%zu", SIZE_MAX);
	EXPECT("-5", "%td", (ptrdiff_t)-5);
	EXPECT("-1", "%zd", SIZE_MAX);
}

static void flags_width_precision(void)
{
	EXPECT("   42", "%5d", 42);
	EXPECT("42   |", "%-5d|", 42);
	EXPECT("00042", "%05d", 42);
	EXPECT("-0042", "%05d", -42);
	EXPECT("+42| 42", "%+d|% d", 42, 42);
	EXPECT("  007", "%5.3d", 7);
	EXPECT("", "%.0d", 0);
	EXPECT("    ", "%4.0d", 0);
	EXPECT("0x0000ff", "%#08x", 255);
	EXPECT("0XFF", "%#X", 255);
	EXPECT("0", "%#x", 0);
	EXPECT("0", "%#o", 0);
	EXPECT("0", "%#.0o", 0);
	EXPECT("010", "%#o", 8);
	EXPECT("   42", "%0*.*d", 5, 0, 42); /* precision turns '0' off */
	EXPECT("42   |", "%*d|", -5, 42);    /* negative '*' width means '-' */
	EXPECT("42", "%.*d", -3, 42);        /* negative '*' precision: none */
	EXPECT("+42  ", "%-+5d", 42);
}

static void strings_chars_pointers(void)
{
	char unterminated[3] = {'a', 'b', 'c'};

	EXPECT("hi", "%s", "hi");
	EXPECT("   hi|hi   ", "%5s|%-5s", "hi", "hi");
	EXPECT("he", "%.2s", "hello");
	/* Precision bounds the read: ASan fails the test if we read past abc. */
	EXPECT("abc", "%.3s", unterminated);
	EXPECT("(null)", "%s", (char *)NULL);
	EXPECT("x  |  y", "%-3c|%3c", 'x', 'y');
	EXPECT("100%", "100%%");
	EXPECT("0x1234", "%p", (void *)0x1234);
	EXPECT("(nil)", "%p", (void *)NULL);
	EXPECT("    0xabc", "%9p", (void *)0xabc);
	EXPECT("0xffffffffffffffff", "%p", (void *)UINTPTR_MAX);
}

static void odd_formats(void)
{
	dyn = "%y%d";
	kfmt(dyn, 5);
	CHECK_STR(outbuf, "%y5"); /* unknown conversion copied, args not eaten */
	dyn = "abc%";
	CHECK_EQ(kfmt(dyn), 4);
	CHECK_STR(outbuf, "abc%");
	dyn = "x%-05";
	kfmt(dyn);
	CHECK_STR(outbuf, "x%-05");
	dyn = "%99999999999999d";
	CHECK_EQ(kfmt(dyn, 1), FMT_WIDTH_MAX); /* width clamped */
	dyn = "%*d";
	CHECK_EQ(kfmt(dyn, INT_MIN, 1), FMT_WIDTH_MAX);
	dyn = "%.99999d";
	CHECK_EQ(kfmt(dyn, 1), FMT_WIDTH_MAX);
	dyn = NULL;
	CHECK_EQ(kfmt(dyn), FMT_EINVAL);
	CHECK_EQ(fmt_format(NULL, NULL, "x"), FMT_EINVAL);
}

static void truncation(void)
{
	char buf[8];
	memset(buf, 'Z', sizeof(buf));
	CHECK_EQ(fmt_snprintf(buf, 4, "%s", "hello"), 5);
	CHECK_STR(buf, "hel");
	CHECK_EQ(buf[4], 'Z'); /* nothing past the size */
	CHECK_EQ(fmt_snprintf(buf, 1, "%d", 12345), 5);
	CHECK_EQ(buf[0], '\0');
	CHECK_EQ(fmt_snprintf(NULL, 0, "%d", -12345), 6);
	CHECK_EQ(fmt_snprintf(NULL, 5, "x"), FMT_EINVAL);
	CHECK_EQ(fmt_snprintf(buf, sizeof(buf), "%s", "1234567"), 7);
	CHECK_STR(buf, "1234567");
	CHECK_EQ(fmt_snprintf(buf, sizeof(buf), "%s", "12345678"), 8);
	CHECK_STR(buf, "1234567");
}

struct sink_state {
	char text[64];
	size_t n;
};

static void sink(char c, void *arg)
{
	struct sink_state *s = arg;
	if (s->n < sizeof(s->text) - 1)
		s->text[s->n++] = c;
}

static void callback_sink(void)
{
	struct sink_state s = {.n = 0};
	int n = fmt_format(sink, &s, "[%s:%d]", "cpu", 3);
	CHECK_EQ(n, 7);
	CHECK_STR(s.text, "[cpu:3]");
}

/* Differential: random integer specifications against the C library. */
static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void differential_integers(void)
{
	static const char convs[] = "diuxXo";
	static const char *const lens[] = {"", "hh", "h", "l", "ll", "z", "t", "j"};
	char spec[64], want[512], got[512];
	int mismatches = 0;

	for (int i = 0; i < 20000; i++) {
		char *p = spec;
		const char *len = lens[rnd() % 8];
		char conv = convs[rnd() % 6];
		uint64_t v = rnd();
		int width = (int)(rnd() % 30) - 5, prec = (int)(rnd() % 30) - 5;
		int n1, n2;

		/* Bias towards small and boundary values. */
		switch (rnd() % 4) {
		case 0:
			v &= 0xff;
			break;
		case 1:
			v = (uint64_t)(int64_t)(int8_t)v;
			break;
		case 2:
			v = rnd() % 2 ? 0 : (uint64_t)INT64_MIN;
			break;
		default:
			break;
		}
		*p++ = '%';
		if (rnd() % 3 == 0)
			*p++ = '-';
		if (rnd() % 3 == 0)
			*p++ = '0';
		if (rnd() % 3 == 0)
			*p++ = '+';
		if (rnd() % 3 == 0)
			*p++ = ' ';
		if (rnd() % 3 == 0)
			*p++ = '#';
		p += sprintf(p, "*.*%s%c|", len, conv);
		/* Unsigned conversions with '+'/' ' flags or '#' with d are undefined. */
		if (conv == 'd' || conv == 'i') {
			for (char *q = spec; *q; q++)
				if (*q == '#')
					*q = '-';
		}

		dyn = spec;
		/* Pass the value in the width the length modifier names. */
		if (len[0] == 'l' || len[0] == 'z' || len[0] == 't' || len[0] == 'j') {
			n1 = snprintf(want, sizeof(want), dyn, width, prec, (long long)v);
			n2 = fmt_snprintf(got, sizeof(got), dyn, width, prec, (long long)v);
		} else {
			n1 = snprintf(want, sizeof(want), dyn, width, prec, (int)v);
			n2 = fmt_snprintf(got, sizeof(got), dyn, width, prec, (int)v);
		}
		if (n1 != n2 || strcmp(want, got) != 0) {
			if (mismatches++ < 5)
				printf("  spec \"%s\" w=%d p=%d v=%#llx: libc \"%s\" fmt \"%s\"\n",
				       spec, width, prec, (unsigned long long)v, want, got);
		}
	}
	CHECK_EQ(mismatches, 0);
}

static void differential_strings(void)
{
	static const char *const words[] = {"", "a", "kernel", "spindle extension"};
	char spec[64], want[256], got[256];
	int mismatches = 0;

	for (int i = 0; i < 5000; i++) {
		const char *w = words[rnd() % 4];
		int width = (int)(rnd() % 24) - 4, prec = (int)(rnd() % 24) - 4;
		snprintf(spec, sizeof(spec), "<%%%s*.*s|%%%s*c>", rnd() % 2 ? "-" : "",
		         rnd() % 2 ? "-" : "");
		dyn = spec;
		int n1 = snprintf(want, sizeof(want), dyn, width, prec, w, width, 'q');
		int n2 = fmt_snprintf(got, sizeof(got), dyn, width, prec, w, width, 'q');
		if (n1 != n2 || strcmp(want, got) != 0) {
			if (mismatches++ < 5)
				printf("  spec \"%s\": libc \"%s\" fmt \"%s\"\n", spec, want, got);
		}
	}
	CHECK_EQ(mismatches, 0);
}

int main(void)
{
	RUN(integers);
	RUN(flags_width_precision);
	RUN(strings_chars_pointers);
	RUN(odd_formats);
	RUN(truncation);
	RUN(callback_sink);
	RUN(differential_integers);
	RUN(differential_strings);
	return check_done();
}
