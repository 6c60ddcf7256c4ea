/*
 * fmt: printf-style formatting for the kernel.
 *
 * One engine, fmt_vformat(), parses a conversion specification at a time
 * into a struct fmt_spec, fetches the argument the length modifier names,
 * and renders it through a sink callback; fmt_vsnprintf() is the engine with
 * a sink that fills a buffer and keeps counting after it is full, which
 * gives C99's "would-be length" result for free.
 *
 * An integer is rendered in the order C99 defines: sign or space, the '#'
 * prefix, zeros required by the precision, then the digits, with the field
 * padded by spaces (left or right) or, for '0' without a precision, by zeros
 * between prefix and digits.  The unit test compares thousands of random
 * specifications against the host C library to hold us to that.
 *
 * No floating point (the kernel is built without SSE registers) and nothing
 * that writes through an argument (%n).
 */
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include <kernel/fmt.h>

/* Length modifiers. */
enum fmt_len { LEN_NONE, LEN_HH, LEN_H, LEN_L, LEN_LL, LEN_Z, LEN_T, LEN_J };

struct fmt_spec {
	bool left;  /* '-' */
	bool zero;  /* '0' */
	bool plus;  /* '+' */
	bool space; /* ' ' */
	bool alt;   /* '#' */
	int width;  /* 0 when absent */
	int prec;   /* -1 when absent */
	enum fmt_len len;
	char conv;
};

struct fmt_out {
	fmt_put_fn put;
	void *arg;
	size_t count;
};

static void out_char(struct fmt_out *o, char c)
{
	o->put(c, o->arg);
	o->count++;
}

static void out_repeat(struct fmt_out *o, char c, int n)
{
	while (n-- > 0)
		out_char(o, c);
}

/* Append one decimal digit to *val, saturating at FMT_WIDTH_MAX + 1. */
static int add_digit(int val, char d)
{
	if (val > FMT_WIDTH_MAX)
		return val;
	return val * 10 + (d - '0');
}

static int clamp_width(int w)
{
	return w > FMT_WIDTH_MAX ? FMT_WIDTH_MAX : w;
}

/*
 * Render a string field: at most maxlen bytes of s (never reading further,
 * s need not be terminated within them), padded to the width.
 */
static void out_string(struct fmt_out *o, const struct fmt_spec *sp, const char *s, size_t maxlen)
{
	size_t n = 0;
	int pad;

	while (n < maxlen && s[n] != '\0')
		n++;
	pad = (size_t)sp->width > n ? sp->width - (int)n : 0;
	if (!sp->left)
		out_repeat(o, ' ', pad);
	for (size_t i = 0; i < n; i++)
		out_char(o, s[i]);
	if (sp->left)
		out_repeat(o, ' ', pad);
}

/*
 * Render an unsigned magnitude with an optional sign character (0 for none)
 * in the given base, following the C99 rules for flags and precision.
 */
static void out_number(struct fmt_out *o, const struct fmt_spec *sp, uintmax_t val, char sign,
                       unsigned base, bool upper, bool force_prefix)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char buf[3 * sizeof(uintmax_t)]; /* octal digits of the widest value */
	int nd = 0, zeros = 0, prefix_len = 0, total, pad;
	const char *prefix = "";
	int prec = sp->prec < 0 ? -1 : clamp_width(sp->prec);

	/* A zero value with precision 0 has no digits at all. */
	if (!(val == 0 && prec == 0)) {
		do {
			buf[nd++] = digits[val % base];
			val /= base;
		} while (val != 0);
	}
	if (prec > nd)
		zeros = prec - nd;

	if (base == 8 && sp->alt) {
		/* '#' with %o: increase the precision so the first digit is 0. */
		if (zeros == 0 && (nd == 0 || buf[nd - 1] != '0'))
			zeros = 1;
	} else if (base == 16 &&
	           (force_prefix || (sp->alt && nd > 0 && !(nd == 1 && buf[0] == '0')))) {
		prefix = upper ? "0X" : "0x";
		prefix_len = 2;
	}

	total = (sign ? 1 : 0) + prefix_len + zeros + nd;
	pad = sp->width > total ? sp->width - total : 0;

	if (!sp->left && !(sp->zero && prec < 0))
		out_repeat(o, ' ', pad);
	if (sign)
		out_char(o, sign);
	for (int i = 0; i < prefix_len; i++)
		out_char(o, prefix[i]);
	if (!sp->left && sp->zero && prec < 0)
		out_repeat(o, '0', pad);
	out_repeat(o, '0', zeros);
	while (nd > 0)
		out_char(o, buf[--nd]);
	if (sp->left)
		out_repeat(o, ' ', pad);
}

static intmax_t fetch_signed(enum fmt_len len, va_list *ap)
{
	switch (len) {
	case LEN_HH:
		return (signed char)va_arg(*ap, int);
	case LEN_H:
		return (short)va_arg(*ap, int);
	case LEN_L:
		return va_arg(*ap, long);
	case LEN_LL:
		return va_arg(*ap, long long);
	case LEN_Z:
		/* The signed type corresponding to size_t has its width. */
		return (intmax_t)(ptrdiff_t)va_arg(*ap, size_t);
	case LEN_T:
		return va_arg(*ap, ptrdiff_t);
	case LEN_J:
		return va_arg(*ap, intmax_t);
	case LEN_NONE:
		break;
	}
	return va_arg(*ap, int);
}

static uintmax_t fetch_unsigned(enum fmt_len len, va_list *ap)
{
	switch (len) {
	case LEN_HH:
		return (unsigned char)va_arg(*ap, unsigned int);
	case LEN_H:
		return (unsigned short)va_arg(*ap, unsigned int);
	case LEN_L:
		return va_arg(*ap, unsigned long);
	case LEN_LL:
		return va_arg(*ap, unsigned long long);
	case LEN_Z:
		return va_arg(*ap, size_t);
	case LEN_T:
		/* The unsigned type corresponding to ptrdiff_t has its width. */
		return (size_t)va_arg(*ap, ptrdiff_t);
	case LEN_J:
		return va_arg(*ap, uintmax_t);
	case LEN_NONE:
		break;
	}
	return va_arg(*ap, unsigned int);
}

/*
 * Parse flags, width, precision and length starting just after a '%'.
 * Returns a pointer to the conversion character (which may be '\0').
 */
static const char *parse_spec(const char *p, struct fmt_spec *sp, va_list *ap)
{
	*sp = (struct fmt_spec){.prec = -1};

	for (;; p++) {
		if (*p == '-')
			sp->left = true;
		else if (*p == '0')
			sp->zero = true;
		else if (*p == '+')
			sp->plus = true;
		else if (*p == ' ')
			sp->space = true;
		else if (*p == '#')
			sp->alt = true;
		else
			break;
	}

	if (*p == '*') {
		int w = va_arg(*ap, int);
		/* A negative '*' width is a '-' flag and a positive width. */
		if (w < 0) {
			sp->left = true;
			w = w == INT_MIN ? INT_MAX : -w;
		}
		sp->width = w;
		p++;
	} else {
		while (*p >= '0' && *p <= '9')
			sp->width = add_digit(sp->width, *p++);
	}
	sp->width = clamp_width(sp->width);

	if (*p == '.') {
		p++;
		if (*p == '*') {
			int pr = va_arg(*ap, int);
			/* A negative '*' precision is taken as if it were omitted. */
			sp->prec = pr < 0 ? -1 : pr;
			p++;
		} else {
			sp->prec = 0;
			while (*p >= '0' && *p <= '9') {
				/* Saturate, but %s precision may legitimately be big. */
				if (sp->prec <= (INT_MAX - 9) / 10)
					sp->prec = sp->prec * 10 + (*p - '0');
				p++;
			}
		}
	}

	switch (*p) {
	case 'h':
		p++;
		sp->len = LEN_H;
		if (*p == 'h') {
			p++;
			sp->len = LEN_HH;
		}
		break;
	case 'l':
		p++;
		sp->len = LEN_L;
		if (*p == 'l') {
			p++;
			sp->len = LEN_LL;
		}
		break;
	case 'z':
		p++;
		sp->len = LEN_Z;
		break;
	case 't':
		p++;
		sp->len = LEN_T;
		break;
	case 'j':
		p++;
		sp->len = LEN_J;
		break;
	default:
		break;
	}
	sp->conv = *p;
	return p;
}

int fmt_vformat(fmt_put_fn put, void *arg, const char *fmt, va_list ap)
{
	struct fmt_out o = {.put = put, .arg = arg, .count = 0};
	struct fmt_spec sp;
	va_list args;
	const char *p;

	if (put == NULL || fmt == NULL)
		return FMT_EINVAL;

	va_copy(args, ap);
	for (p = fmt; *p != '\0'; p++) {
		const char *start = p;
		char sign = 0;

		if (*p != '%') {
			out_char(&o, *p);
			continue;
		}
		p = parse_spec(p + 1, &sp, &args);

		switch (sp.conv) {
		case '%':
			out_char(&o, '%');
			break;
		case 'd':
		case 'i': {
			intmax_t v = fetch_signed(sp.len, &args);
			/* Negate in unsigned arithmetic: -INTMAX_MIN overflows. */
			uintmax_t mag = v < 0 ? 0 - (uintmax_t)v : (uintmax_t)v;
			if (v < 0)
				sign = '-';
			else if (sp.plus)
				sign = '+';
			else if (sp.space)
				sign = ' ';
			out_number(&o, &sp, mag, sign, 10, false, false);
			break;
		}
		case 'u':
			out_number(&o, &sp, fetch_unsigned(sp.len, &args), 0, 10, false, false);
			break;
		case 'x':
		case 'X':
			out_number(&o, &sp, fetch_unsigned(sp.len, &args), 0, 16, sp.conv == 'X',
			           false);
			break;
		case 'o':
			out_number(&o, &sp, fetch_unsigned(sp.len, &args), 0, 8, false, false);
			break;
		case 'p': {
			const void *ptr = va_arg(args, const void *);
			if (ptr == NULL) {
				struct fmt_spec ns = sp;
				ns.prec = -1;
				out_string(&o, &ns, "(nil)", SIZE_MAX);
				break;
			}
			if (sp.plus)
				sign = '+';
			else if (sp.space)
				sign = ' ';
			out_number(&o, &sp, (uintptr_t)ptr, sign, 16, false, true);
			break;
		}
		case 's': {
			const char *s = va_arg(args, const char *);
			size_t max = sp.prec < 0 ? SIZE_MAX : (size_t)sp.prec;
			if (s == NULL) {
				/* Always the whole word: a cut "(nu" helps nobody. */
				s = "(null)";
				max = SIZE_MAX;
			}
			out_string(&o, &sp, s, max);
			break;
		}
		case 'c': {
			char c = (char)va_arg(args, int);
			int pad = sp.width > 1 ? sp.width - 1 : 0;
			if (!sp.left)
				out_repeat(&o, ' ', pad);
			out_char(&o, c);
			if (sp.left)
				out_repeat(&o, ' ', pad);
			break;
		}
		case '\0':
			/* The format ends inside a specification: show it, stop. */
			for (; start < p; start++)
				out_char(&o, *start);
			p--; /* so the loop's p++ lands on the terminator */
			break;
		default:
			/* Unknown conversion: copy the specification literally. */
			for (; start <= p; start++)
				out_char(&o, *start);
			break;
		}
	}
	va_end(args);

	if (o.count > INT_MAX)
		return FMT_EOVERFLOW;
	return (int)o.count;
}

int fmt_format(fmt_put_fn put, void *arg, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = fmt_vformat(put, arg, fmt, ap);
	va_end(ap);
	return n;
}

struct fmt_buf {
	char *buf;
	size_t size;
	size_t pos;
};

/* Store while there is room for the character and the terminator; count always. */
static void buf_put(char c, void *arg)
{
	struct fmt_buf *b = arg;

	if (b->size > 0 && b->pos < b->size - 1)
		b->buf[b->pos] = c;
	b->pos++;
}

int fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct fmt_buf b = {.buf = buf, .size = size, .pos = 0};
	int n;

	if (buf == NULL && size > 0)
		return FMT_EINVAL;
	n = fmt_vformat(buf_put, &b, fmt, ap);
	if (size > 0)
		buf[b.pos < size - 1 ? b.pos : size - 1] = '\0';
	return n;
}

int fmt_snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = fmt_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
