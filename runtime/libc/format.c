/*
 * format.c - printf-style formatting into a caller's sink, and snprintf
 * on top of it.  The sink lets the runtime core print to its console with
 * no buffer of its own, and keeps this file free of any output device.
 */
#include "rtlibc.h"

#define INT_MAX_	__INT_MAX__

#define F_MINUS		0x01
#define F_PLUS		0x02
#define F_SPACE		0x04
#define F_ZERO		0x08
#define F_HASH		0x10

enum length { L_NONE, L_HH, L_H, L_L, L_LL, L_Z, L_J, L_T };

/* One directive: %[flags][width][.precision][length]conversion */
struct spec {
	unsigned	flags;
	int		width;		/* 0 when not given */
	int		prec;		/* -1 when not given */
	enum length	len;
	char		conv;
};

struct out {
	void		(*put)(void *, const char *, size_t);
	void		*arg;
	size_t		total;		/* bytes produced so far */
};

static void
emit(struct out *o, const char *s, size_t n)
{
	if (n == 0)
		return;
	o->put(o->arg, s, n);
	o->total += n;
}

/* (n) copies of (c), a space or '0', in chunks rather than one by one. */
static void
pad(struct out *o, char c, size_t n)
{
	static const char spaces[] =
	    "                                                                ";
	static const char zeros[] =
	    "0000000000000000000000000000000000000000000000000000000000000000";
	const char *fill = c == '0' ? zeros : spaces;
	size_t k;

	for (; n > 0; n -= k) {
		k = n < sizeof(spaces) - 1 ? n : sizeof(spaces) - 1;
		emit(o, fill, k);
	}
}

static unsigned
flag(char c)
{
	switch (c) {
	case '-':
		return F_MINUS;
	case '+':
		return F_PLUS;
	case ' ':
		return F_SPACE;
	case '0':
		return F_ZERO;
	case '#':
		return F_HASH;
	default:
		return 0;
	}
}

/* A decimal number at (*p) into (*v); -1 if it exceeds INT_MAX. */
static int
number(const char **p, int *v)
{
	const char *s = *p;
	int n = 0, d;

	for (; rtl_isdigit(*s); s++) {
		d = *s - '0';
		if (n > (INT_MAX_ - d) / 10)
			return -1;
		n = n * 10 + d;
	}
	*p = s;
	*v = n;
	return 0;
}

/* The length modifier at (*p), if any, stepping over it. */
static enum length
length(const char **p)
{
	const char *s = *p;
	enum length len;

	switch (*s) {
	case 'h':
		len = s[1] == 'h' ? L_HH : L_H;
		break;
	case 'l':
		len = s[1] == 'l' ? L_LL : L_L;
		break;
	case 'z':
		len = L_Z;
		break;
	case 'j':
		len = L_J;
		break;
	case 't':
		len = L_T;
		break;
	default:
		return L_NONE;
	}
	*p = s + (len == L_HH || len == L_LL ? 2 : 1);
	return len;
}

/*
 * Parse the directive after its '%' at (*p), taking '*' arguments from
 * (ap); leaves (*p) at the conversion character.  -1 on a width or
 * precision beyond INT_MAX.
 */
static int
parse_spec(const char **p, struct spec *sp, va_list *ap)
{
	const char *s = *p;
	unsigned f;

	sp->flags = 0;
	sp->width = 0;
	sp->prec = -1;
	for (; (f = flag(*s)) != 0; s++)
		sp->flags |= f;
	if (*s == '*') {
		s++;
		sp->width = va_arg(*ap, int);
		if (sp->width < 0) {	/* ISO C: a '-' flag and a width */
			if (sp->width < -INT_MAX_)
				return -1;
			sp->flags |= F_MINUS;
			sp->width = -sp->width;
		}
	} else if (number(&s, &sp->width) == -1)
		return -1;
	if (*s == '.') {
		s++;
		if (*s == '*') {
			s++;
			sp->prec = va_arg(*ap, int);
			if (sp->prec < 0)	/* ISO C: as if none were given */
				sp->prec = -1;
		} else if (number(&s, &sp->prec) == -1)
			return -1;
	}
	sp->len = length(&s);
	sp->conv = *s;
	*p = s;
	return 0;
}

static intmax_t
arg_signed(enum length len, va_list *ap)
{
	switch (len) {
	case L_HH:
		return (signed char)va_arg(*ap, int);
	case L_H:
		return (short)va_arg(*ap, int);
	case L_L:
		return va_arg(*ap, long);
	case L_LL:
		return va_arg(*ap, long long);
	case L_Z:	/* the signed type of size_t's width */
	case L_T:
		return va_arg(*ap, ptrdiff_t);
	case L_J:
		return va_arg(*ap, intmax_t);
	default:
		return va_arg(*ap, int);
	}
}

static uintmax_t
arg_unsigned(enum length len, va_list *ap)
{
	switch (len) {
	case L_HH:
		return (unsigned char)va_arg(*ap, unsigned);
	case L_H:
		return (unsigned short)va_arg(*ap, unsigned);
	case L_L:
		return va_arg(*ap, unsigned long);
	case L_LL:
		return va_arg(*ap, unsigned long long);
	case L_Z:
		return va_arg(*ap, size_t);
	case L_T:	/* the unsigned type of ptrdiff_t's width */
		return (size_t)va_arg(*ap, ptrdiff_t);
	case L_J:
		return va_arg(*ap, uintmax_t);
	default:
		return va_arg(*ap, unsigned);
	}
}

/*
 * An integer conversion (d i u o x X p) of magnitude (v), negative if
 * (neg): [spaces][sign or 0x][zeros]digits[spaces].
 */
static void
fmt_int(struct out *o, const struct spec *sp, uintmax_t v, int neg)
{
	char digits[3 * sizeof(uintmax_t)], prefix[2];
	const char *set = sp->conv == 'X' ? "0123456789ABCDEF" :
	    "0123456789abcdef";
	unsigned base = sp->conv == 'o' ? 8 : sp->conv == 'u' ||
	    sp->conv == 'd' || sp->conv == 'i' ? 10 : 16;
	char *d = digits + sizeof(digits);
	size_t nd, np = 0, zeros = 0, body, width = (size_t)sp->width;
	size_t prec = sp->prec < 0 ? 1 : (size_t)sp->prec;
	uintmax_t rest;

	for (rest = v; rest != 0; rest /= base)
		*--d = set[rest % base];
	nd = (size_t)(digits + sizeof(digits) - d);
	if (prec > nd)
		zeros = prec - nd;
	if (sp->conv == 'o' && (sp->flags & F_HASH) && zeros == 0)
		zeros = 1;	/* '#': the first digit is a 0 */
	if (sp->conv == 'd' || sp->conv == 'i') {
		if (neg)
			prefix[np++] = '-';
		else if (sp->flags & F_PLUS)
			prefix[np++] = '+';
		else if (sp->flags & F_SPACE)
			prefix[np++] = ' ';
	}
	if (sp->conv == 'p' || (v != 0 && (sp->flags & F_HASH) &&
	    (sp->conv == 'x' || sp->conv == 'X'))) {
		prefix[np++] = '0';
		prefix[np++] = sp->conv == 'X' ? 'X' : 'x';
	}
	body = np + zeros + nd;
	/* '0' pads after the sign, unless '-' or a precision says otherwise. */
	if (width > body && !(sp->flags & F_MINUS)) {
		if ((sp->flags & F_ZERO) && sp->prec < 0)
			zeros += width - body;
		else
			pad(o, ' ', width - body);
	}
	emit(o, prefix, np);
	pad(o, '0', zeros);
	emit(o, d, nd);
	if (width > body && (sp->flags & F_MINUS))
		pad(o, ' ', width - body);
}

/* (n) bytes of (s) in the field: %c and %s.  '0' pads with spaces here. */
static void
fmt_str(struct out *o, const struct spec *sp, const char *s, size_t n)
{
	size_t width = (size_t)sp->width;

	if (width > n && !(sp->flags & F_MINUS))
		pad(o, ' ', width - n);
	emit(o, s, n);
	if (width > n && (sp->flags & F_MINUS))
		pad(o, ' ', width - n);
}

/* Convert one parsed directive; -1 if this code does not handle it. */
static int
convert(struct out *o, const struct spec *sp, va_list *ap)
{
	const char *s;
	intmax_t sv;
	char c;

	switch (sp->conv) {
	case 'd':
	case 'i':
		sv = arg_signed(sp->len, ap);
		/* The magnitude through uintmax_t, so INTMAX_MIN cannot trap. */
		fmt_int(o, sp, sv < 0 ? 0 - (uintmax_t)sv : (uintmax_t)sv,
		    sv < 0);
		return 0;
	case 'u':
	case 'o':
	case 'x':
	case 'X':
		fmt_int(o, sp, arg_unsigned(sp->len, ap), 0);
		return 0;
	case 'p':
		if (sp->len != L_NONE)
			return -1;
		fmt_int(o, sp, (uintptr_t)va_arg(*ap, void *), 0);
		return 0;
	case 'c':	/* with 'l', a wide character: not handled */
		if (sp->len != L_NONE)
			return -1;
		c = (char)va_arg(*ap, int);
		fmt_str(o, sp, &c, 1);
		return 0;
	case 's':
		if (sp->len != L_NONE)
			return -1;
		if ((s = va_arg(*ap, const char *)) == NULL)
			s = "(null)";
		/* With a precision, s need not be NUL-terminated: strnlen. */
		fmt_str(o, sp, s, sp->prec < 0 ? rtl_strlen(s) :
		    rtl_strnlen(s, (size_t)sp->prec));
		return 0;
	case '%':
		emit(o, "%", 1);
		return 0;
	default:
		return -1;
	}
}

int
rtl_vformat(void (*put)(void *arg, const char *s, size_t n), void *arg,
    const char *fmt, va_list ap0)
{
	struct out o = { put, arg, 0 };
	struct spec sp;
	const char *p, *start, *end = fmt + rtl_strlen(fmt);
	va_list ap;
	int r = 0;

	/* A copy, so that helpers can share it through a pointer portably. */
	va_copy(ap, ap0);
	while (fmt < end) {
		/* rtl_memchr, not a loop: see string.c. */
		if ((p = rtl_memchr(fmt, '%', (size_t)(end - fmt))) == NULL)
			p = end;
		emit(&o, fmt, (size_t)(p - fmt));
		if (p == end)
			break;
		start = p++;
		if ((r = parse_spec(&p, &sp, &ap)) == -1)
			break;
		if (convert(&o, &sp, &ap) == -1) {
			/* See rtlibc.h: the rest goes out untouched. */
			emit(&o, start, rtl_strlen(start));
			break;
		}
		fmt = p + 1;
	}
	va_end(ap);
	if (r == -1 || o.total > INT_MAX_) {
		rtl_errno = RTL_EOVERFLOW;
		return -1;
	}
	return (int)o.total;
}

int
rtl_format(void (*put)(void *arg, const char *s, size_t n), void *arg,
    const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = rtl_vformat(put, arg, fmt, ap);
	va_end(ap);
	return r;
}

struct buf {
	char	*p;
	size_t	 size;
	size_t	 len;		/* bytes stored, at most size - 1 */
};

/* Keeps what fits, one byte short of the end for the NUL. */
static void
buf_put(void *arg, const char *s, size_t n)
{
	struct buf *b = arg;
	size_t room;

	if (b->len + 1 >= b->size)
		return;
	room = b->size - 1 - b->len;
	if (n > room)
		n = room;
	rtl_memcpy(b->p + b->len, s, n);
	b->len += n;
}

int
rtl_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct buf b = { buf, size, 0 };
	int r;

	r = rtl_vformat(buf_put, &b, fmt, ap);
	if (size > 0)
		buf[b.len] = '\0';
	return r;
}

int
rtl_snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = rtl_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return r;
}
