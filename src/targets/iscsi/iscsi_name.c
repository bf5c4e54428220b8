/* iSCSI names: see iscsi_name.h for the forms and the choices made. */
#include "targets/iscsi/iscsi_name.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static bool refuse(char *why, size_t whylen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static bool refuse(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (why && whylen) {
		va_start(ap, fmt);
		vsnprintf(why, whylen, fmt, ap);
		va_end(ap);
	}
	return false;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_lower(char c)
{
	return c >= 'a' && c <= 'z';
}

static bool is_hex(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f');
}

static bool is_wildcard(char c)
{
	return c == '*' || c == '?';
}

/* The character set, the length; sets *@wild when a wildcard was seen. */
static bool check_characters(const char *name, unsigned flags, bool *wild, char *why,
			     size_t whylen)
{
	size_t len = strlen(name);

	*wild = false;
	if (len == 0)
		return refuse(why, whylen, "empty");
	if (len > ISCSI_NAME_MAX)
		return refuse(why, whylen, "longer than %d bytes", ISCSI_NAME_MAX);
	for (const char *c = name; *c; c++) {
		if (is_lower(*c) || is_digit(*c) || *c == '-' || *c == '.' || *c == ':')
			continue;
		if ((flags & ISCSI_NAME_PATTERN) && is_wildcard(*c)) {
			*wild = true;
			continue;
		}
		if (*c >= 'A' && *c <= 'Z')
			return refuse(why, whylen,
				      "upper-case '%c': iSCSI names are compared in lower case "
				      "(RFC 3722), write them in lower case",
				      *c);
		if (*c > ' ' && *c < 0x7f)
			return refuse(why, whylen,
				      "'%c' is not allowed, only a-z, 0-9, '-', '.' and ':'", *c);
		return refuse(why, whylen,
			      "byte 0x%02x is not allowed, only a-z, 0-9, '-', '.' and ':'",
			      (unsigned char)*c);
	}
	return true;
}

/* "eui." and "naa.": hex digits, @n1 or @n2 of them. */
static bool check_hex_form(const char *digits, const char *prefix, size_t n1, size_t n2,
			   char *why, size_t whylen)
{
	size_t n = strlen(digits);

	for (const char *c = digits; *c; c++)
		if (!is_hex(*c))
			goto bad;
	if (n == n1 || n == n2)
		return true;
bad:
	if (n1 == n2)
		return refuse(why, whylen, "%s must be followed by %zu hex digits", prefix, n1);
	return refuse(why, whylen, "%s must be followed by %zu or %zu hex digits", prefix, n1,
		      n2);
}

/* "iqn." yyyy-mm "." reversed.domain [":" anything]. */
static bool check_iqn(const char *s, char *why, size_t whylen)
{
	const char *authority, *end;

	if (!(is_digit(s[0]) && is_digit(s[1]) && is_digit(s[2]) && is_digit(s[3]) &&
	      s[4] == '-' && is_digit(s[5]) && is_digit(s[6])))
		return refuse(why, whylen, "iqn. must be followed by a date yyyy-mm");
	if ((s[5] - '0') * 10 + (s[6] - '0') < 1 || (s[5] - '0') * 10 + (s[6] - '0') > 12)
		return refuse(why, whylen, "month %c%c is not 01 to 12", s[5], s[6]);
	if (s[7] != '.')
		return refuse(why, whylen, "the date must be followed by '.' and a domain name");
	authority = s + 8;
	end = strchr(authority, ':');
	if (!end)
		end = authority + strlen(authority);
	if (end == authority)
		return refuse(why, whylen, "no domain name after the date");
	/* Labels of a reversed domain name: none empty, none with ':'. */
	for (const char *c = authority; c < end; c++)
		if (*c == '.' && (c == authority || c + 1 == end || c[1] == '.'))
			return refuse(why, whylen, "empty label in the domain name");
	if (*end == ':' && end[1] == '\0')
		return refuse(why, whylen, "nothing after ':'");
	return true;
}

bool iscsi_name_check(const char *name, unsigned flags, char *why, size_t whylen)
{
	bool wild;

	if (!check_characters(name, flags, &wild, why, whylen))
		return false;
	if (wild)
		return true; /* a pattern: the form is the matching's business */
	if (strncmp(name, "iqn.", 4) == 0)
		return check_iqn(name + 4, why, whylen);
	if (strncmp(name, "eui.", 4) == 0)
		return check_hex_form(name + 4, "eui.", 16, 16, why, whylen);
	if (strncmp(name, "naa.", 4) == 0)
		return check_hex_form(name + 4, "naa.", 16, 32, why, whylen);
	return refuse(why, whylen, "no iqn., eui. or naa. prefix");
}
