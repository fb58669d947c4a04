/*
 * ctype.c - character classes of the "C" locale: ASCII, and nothing above
 * 127 belongs to any class.  Comparisons rather than a table: smaller, and
 * EOF or a stray negative char needs no special index.
 */
#include "rtlibc.h"

int
rtl_isdigit(int c)
{
	return c >= '0' && c <= '9';
}

int
rtl_isupper(int c)
{
	return c >= 'A' && c <= 'Z';
}

int
rtl_islower(int c)
{
	return c >= 'a' && c <= 'z';
}

int
rtl_isalpha(int c)
{
	return rtl_isupper(c) || rtl_islower(c);
}

int
rtl_isalnum(int c)
{
	return rtl_isalpha(c) || rtl_isdigit(c);
}

int
rtl_isxdigit(int c)
{
	return rtl_isdigit(c) || (c >= 'a' && c <= 'f') ||
	    (c >= 'A' && c <= 'F');
}

/* Space, and \t \n \v \f \r. */
int
rtl_isspace(int c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

int
rtl_iscntrl(int c)
{
	return (c >= 0 && c < ' ') || c == 0x7f;
}

int
rtl_isprint(int c)
{
	return c >= ' ' && c < 0x7f;
}

int
rtl_isgraph(int c)
{
	return c > ' ' && c < 0x7f;
}

int
rtl_ispunct(int c)
{
	return rtl_isgraph(c) && !rtl_isalnum(c);
}

int
rtl_tolower(int c)
{
	return rtl_isupper(c) ? c - 'A' + 'a' : c;
}

int
rtl_toupper(int c)
{
	return rtl_islower(c) ? c - 'a' + 'A' : c;
}
