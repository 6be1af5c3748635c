/*
 * smtp/addr.c - RFC 5321 4.1.2 paths (with RFC 6531 UTF-8), xtext and
 * EHLO arguments. Pure functions over the command line; no allocation.
 */
#include "smtp/smtp_int.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>

#define LOCAL_MAX 64
#define DOMAIN_MAX 255
#define PATH_MAX_ 256

static bool atext(unsigned char c)
{
	return isalnum(c) || (c != 0 && strchr("!#$%&'*+-/=?^_`{|}~", c));
}

bool smtp_utf8_ok(const unsigned char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		unsigned char c = s[i];
		size_t k;
		uint32_t cp;
		if (c < 0x80) {
			i++;
			continue;
		} else if (c >= 0xc2 && c <= 0xdf) {
			k = 1, cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			k = 2, cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			k = 3, cp = c & 0x07;
		} else {
			return false;
		}
		if (n - i <= k)
			return false;
		for (size_t j = 1; j <= k; j++) {
			if ((s[i + j] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + j] & 0x3f);
		}
		if ((k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += k + 1;
	}
	return true;
}

bool smtp_xtext_ok(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '+') {
			if (n - i < 3)
				return false;
			for (int j = 1; j <= 2; j++) {
				unsigned char h = (unsigned char)s[i + j];
				if (!isdigit(h) && !(h >= 'A' && h <= 'F'))
					return false;
			}
			i += 2;
		} else if (c < 33 || c > 126 || c == '=') {
			return false;
		}
	}
	return true;
}

/* A domain (sub-domain *("." sub-domain)), or with utf8 U-labels. */
static bool domain_ok(const char *s, size_t n, bool utf8)
{
	size_t lab = 0;
	if (n == 0 || n > DOMAIN_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '.') {
			if (lab == 0 || s[i - 1] == '-')
				return false;
			lab = 0;
			continue;
		}
		if (c == '-') {
			if (lab == 0)
				return false;
		} else if (!isalnum(c) && !(utf8 && c >= 0x80)) {
			return false;
		}
		if (++lab > 63)
			return false;
	}
	if (lab == 0 || s[n - 1] == '-')
		return false;
	return !utf8 || smtp_utf8_ok((const unsigned char *)s, n);
}

/* "[1.2.3.4]", "[IPv6:...]", "[tag:text]" (RFC 5321 4.1.3). */
static bool literal_ok(const char *s, size_t n)
{
	if (n < 3 || s[0] != '[' || s[n - 1] != ']')
		return false;
	s++, n -= 2;
	int dots = 0, digits = 0;
	bool v4 = true;
	for (size_t i = 0; i < n; i++) {
		if (isdigit((unsigned char)s[i])) {
			if (++digits > 3)
				v4 = false;
		} else if (s[i] == '.' && digits > 0) {
			dots++, digits = 0;
		} else {
			v4 = false;
		}
	}
	if (v4 && dots == 3 && digits > 0)
		return true;
	/* General-address-literal: Standardized-tag ":" 1*dcontent */
	const char *colon = memchr(s, ':', n);
	if (colon == NULL || colon == s || (size_t)(colon - s) + 1 >= n)
		return false;
	for (const char *p = s; p < colon; p++)
		if (!isalnum((unsigned char)*p) && *p != '-')
			return false;
	for (const char *p = colon + 1; p < s + n; p++) {
		unsigned char c = (unsigned char)*p;
		if (c < 33 || c > 126 || c == '[' || c == ']' || c == '\\')
			return false;
	}
	return true;
}

bool smtp_helo_ok(const char *s, size_t n)
{
	if (n > 0 && s[0] == '[')
		return literal_ok(s, n);
	/* Lenient about '_' (seen in the wild) but nothing that could break
	 * out of the Received: header. */
	if (n == 0 || n > DOMAIN_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!isalnum(c) && c != '-' && c != '.' && c != '_')
			return false;
	}
	return true;
}

int smtp_parse_path(const char *s, size_t len, bool allow_utf8,
		    struct smtp_path *out, size_t *used)
{
	memset(out, 0, sizeof *out);
	if (len < 2 || s[0] != '<')
		return -EINVAL;

	/* Find the closing '>' outside a quoted string. */
	size_t end = 0;
	bool q = false;
	for (size_t i = 1; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (q && c == '\\') {
			i++;
			continue;
		}
		if (c == '"')
			q = !q;
		else if (!q && c == '>') {
			end = i;
			break;
		}
		if (c >= 0x80)
			out->eightbit = true;
	}
	if (end == 0 || q)
		return -EINVAL;
	*used = end + 1;
	const char *p = s + 1;
	size_t n = end - 1;
	if (n > PATH_MAX_)
		return -EINVAL;
	if (out->eightbit &&
	    (!allow_utf8 || !smtp_utf8_ok((const unsigned char *)p, n)))
		return -EINVAL;
	if (n == 0) {
		out->null = true;
		return 0;
	}

	/* A-d-l ":" (source route): "@a,@b:" */
	if (p[0] == '@') {
		const char *colon = memchr(p, ':', n);
		if (colon == NULL)
			return -EINVAL;
		const char *r = p;
		while (r < colon) {
			if (*r != '@')
				return -EINVAL;
			const char *e = r + 1;
			while (e < colon && *e != ',')
				e++;
			if (!domain_ok(r + 1, (size_t)(e - r - 1), allow_utf8) &&
			    !literal_ok(r + 1, (size_t)(e - r - 1)))
				return -EINVAL;
			r = e < colon ? e + 1 : e;
		}
		out->route = true;
		n -= (size_t)(colon + 1 - p);
		p = colon + 1;
	}
	out->mbox = p;
	out->mbox_len = n;

	/* Local part. */
	size_t i = 0;
	if (n > 0 && p[0] == '"') {
		for (i = 1; i < n && p[i] != '"'; i++) {
			unsigned char c = (unsigned char)p[i];
			if (c == '\\') {
				if (++i >= n || p[i] < 32 || p[i] > 126)
					return -EINVAL;
				c = (unsigned char)p[i];
			} else if (c < 32 || c == 127) {
				return -EINVAL;
			}
			if (c == '@' || c == '%' || c == '!')
				out->special = true;
		}
		if (i >= n)
			return -EINVAL;
		i++;  /* closing quote */
	} else {
		bool dot_ok = false;
		for (; i < n && p[i] != '@'; i++) {
			unsigned char c = (unsigned char)p[i];
			if (c == '.') {
				if (!dot_ok)
					return -EINVAL;
				dot_ok = false;
				continue;
			}
			if (!atext(c) && !(allow_utf8 && c >= 0x80))
				return -EINVAL;
			if (c == '%' || c == '!')
				out->special = true;
			dot_ok = true;
		}
		if (i == 0 || !dot_ok)
			return -EINVAL;
	}
	if (i > LOCAL_MAX)
		return -EINVAL;
	if (i == n)  /* no domain: only "Postmaster" is allowed (caller) */
		return 0;
	if (p[i] != '@')
		return -EINVAL;
	const char *d = p + i + 1;
	size_t dn = n - i - 1;
	if (memchr(d, '@', dn) != NULL) {
		out->extra_at = true;
		return 0;
	}
	if (dn > 0 && d[0] == '[') {
		if (!literal_ok(d, dn))
			return -EINVAL;
		out->literal = true;
	} else if (!domain_ok(d, dn, allow_utf8)) {
		return -EINVAL;
	}
	out->domain = d;
	out->domain_len = dn;
	return 0;
}
