/* scan/charset.c - see charset.h. */
#include "scan/charset.h"

#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define CS_NAME_MAX 64
#define CS_CACHE_SIZE 8

/* Labels iconv does not know, or that must be read another way. The
 * canonical names "us-ascii" and "utf-8" select the direct paths. */
static const struct cs_alias {
	const char *label;
	const char *canon;
} cs_aliases[] = {
	{ "us-ascii", "us-ascii" },
	{ "ascii", "us-ascii" },
	{ "us", "us-ascii" },
	{ "ansi_x3.4-1968", "us-ascii" },
	{ "iso646-us", "us-ascii" },
	{ "iso-ir-6", "us-ascii" },
	{ "646", "us-ascii" },
	{ "7bit", "us-ascii" },
	{ "unknown", "us-ascii" },
	{ "unknown-8bit", "us-ascii" },
	{ "x-unknown", "us-ascii" },
	{ "x-user-defined", "us-ascii" },
	{ "default", "us-ascii" },
	{ "utf-8", "utf-8" },
	{ "utf8", "utf-8" },
	{ "x-utf8", "utf-8" },
	{ "x-utf-8", "utf-8" },
	{ "unicode-1-1-utf-8", "utf-8" },
	{ "latin1", "iso-8859-1" },
	{ "latin-1", "iso-8859-1" },
	{ "l1", "iso-8859-1" },
	{ "iso8859-1", "iso-8859-1" },
	{ "iso_8859-1", "iso-8859-1" },
	{ "iso-8859-1", "iso-8859-1" },
	{ "latin2", "iso-8859-2" },
	{ "latin9", "iso-8859-15" },
	{ "latin-9", "iso-8859-15" },
	{ "cp1252", "windows-1252" },
	{ "x-cp1252", "windows-1252" },
	{ "win-1252", "windows-1252" },
	{ "windows-1252", "windows-1252" },
	{ "x-cp1250", "windows-1250" },
	{ "x-cp1251", "windows-1251" },
	{ "gb2312", "gbk" }, /* mail labelled gb2312 is GBK in practice */
	{ "x-gbk", "gbk" },
	{ "ks_c_5601-1987", "cp949" },
	{ "ks_c_5601", "cp949" },
	{ "x-sjis", "shift_jis" },
	{ "shift-jis", "shift_jis" },
	{ "ms_kanji", "shift_jis" },
	{ "windows-31j", "cp932" },
	{ "iso-8859-8-i", "iso-8859-8" },
	{ "iso-8859-6-i", "iso-8859-6" },
	{ "x-mac-roman", "macintosh" },
	{ "mac", "macintosh" },
	{ "tis620", "tis-620" },
	{ "windows-874", "cp874" },
	{ "x-euc-jp", "euc-jp" },
	{ "big5-hkscs", "big5-hkscs" },
	{ "utf7", "utf-7" },
};

/* Charsets whose bytes below 0x80 are ASCII: all-ASCII input is copied.
 * A positive list: EBCDIC, UTF-7, UTF-16 and ISO-2022 must go to iconv. */
static const char *const cs_ascii_compat[] = {
	"iso-8859-", "iso8859", "windows-", "cp125", "cp874", "koi8",
	"gbk", "gb18030", "big5", "euc-", "shift_jis", "sjis", "cp932",
	"cp936", "cp949", "cp950", "uhc", "tis-620", "macintosh",
};

struct cs_cache_ent {
	char name[CS_NAME_MAX];
	iconv_t cd;           /* (iconv_t)-1: unknown to iconv */
	unsigned long stamp;  /* LRU; 0 = empty slot */
};

static __thread struct cs_cache_ent cs_cache[CS_CACHE_SIZE];
static __thread unsigned long cs_clock;

static int cs_safe_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
	       c == '_' || c == '.' || c == ':' || c == '(' || c == ')' ||
	       c == '+';
}

int scan_charset_normalize(const char *charset, char *buf, size_t bufsz)
{
	if (bufsz == 0)
		return -EINVAL;
	buf[0] = '\0';
	if (charset == NULL)
		return -EINVAL;
	const char *s = charset;
	size_t n = strlen(s);
	while (n > 0 && (*s == ' ' || *s == '\t' || *s == '"' || *s == '\''))
		s++, n--;
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' ||
			 s[n - 1] == '"' || s[n - 1] == '\''))
		n--;
	if (n == 0 || n >= bufsz || n >= CS_NAME_MAX)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		if (!cs_safe_char(c)) {
			buf[0] = '\0';
			return -EINVAL;
		}
		buf[i] = (char)c;
	}
	buf[n] = '\0';
	for (size_t i = 0; i < sizeof(cs_aliases) / sizeof(cs_aliases[0]); i++)
		if (strcmp(buf, cs_aliases[i].label) == 0) {
			size_t l = strlen(cs_aliases[i].canon);
			if (l >= bufsz)
				return -EINVAL;
			memcpy(buf, cs_aliases[i].canon, l + 1);
			break;
		}
	return 0;
}

static int cs_is_ascii_compat(const char *canon)
{
	for (size_t i = 0;
	     i < sizeof(cs_ascii_compat) / sizeof(cs_ascii_compat[0]); i++)
		if (strncmp(canon, cs_ascii_compat[i],
			    strlen(cs_ascii_compat[i])) == 0)
			return 1;
	return 0;
}

static int all_ascii(const uint8_t *p, size_t n)
{
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t w;
		memcpy(&w, p + i, 8);
		if (w & 0x8080808080808080ull)
			return 0;
	}
	for (; i < n; i++)
		if (p[i] & 0x80)
			return 0;
	return 1;
}

static size_t put_fffd(uint8_t *o)
{
	o[0] = 0xEF;
	o[1] = 0xBF;
	o[2] = 0xBD;
	return 3;
}

size_t scan_utf8_seq_len(const uint8_t *p, size_t n)
{
	uint8_t c = p[0];
	if (c < 0x80)
		return 1;
	if (c < 0xC2)
		return 0;
	if (c < 0xE0)
		return n >= 2 && (p[1] & 0xC0) == 0x80 ? 2 : 0;
	if (c < 0xF0) {
		if (n < 3 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80)
			return 0;
		if (c == 0xE0 && p[1] < 0xA0)
			return 0; /* overlong */
		if (c == 0xED && p[1] >= 0xA0)
			return 0; /* surrogate */
		return 3;
	}
	if (c < 0xF5) {
		if (n < 4 || (p[1] & 0xC0) != 0x80 ||
		    (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80)
			return 0;
		if (c == 0xF0 && p[1] < 0x90)
			return 0; /* overlong */
		if (c == 0xF4 && p[1] >= 0x90)
			return 0; /* > U+10FFFF */
		return 4;
	}
	return 0;
}

/* Copy valid UTF-8, one U+FFFD per invalid byte. out has room for 3n. */
static size_t utf8_sanitize(const uint8_t *in, size_t n, uint8_t *out)
{
	size_t o = 0, i = 0;
	while (i < n) {
		if (in[i] < 0x80) {
			out[o++] = in[i++];
			continue;
		}
		size_t l = scan_utf8_seq_len(in + i, n - i);
		if (l == 0) {
			o += put_fffd(out + o);
			i++;
		} else {
			memcpy(out + o, in + i, l);
			o += l;
			i += l;
		}
	}
	return o;
}

static int utf8_valid(const uint8_t *p, size_t n)
{
	size_t i = 0;
	while (i < n) {
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		size_t l = scan_utf8_seq_len(p + i, n - i);
		if (l == 0)
			return 0;
		i += l;
	}
	return 1;
}

static int copy_out(const uint8_t *in, size_t n, struct scan_arena *a,
		    uint8_t **out, size_t *outlen)
{
	uint8_t *b = scan_arena_alloc(a, n + 1);
	if (b == NULL)
		return -ENOMEM;
	if (n > 0)
		memcpy(b, in, n);
	b[n] = '\0';
	*out = b;
	*outlen = n;
	return 0;
}

static int utf8_out(const uint8_t *in, size_t n, struct scan_arena *a,
		    uint8_t **out, size_t *outlen)
{
	if (all_ascii(in, n))
		return copy_out(in, n, a, out, outlen);
	if (n > (SIZE_MAX - 1) / 3)
		return -ENOMEM;
	uint8_t *b = scan_arena_alloc(a, 3 * n + 1);
	if (b == NULL)
		return -ENOMEM;
	size_t o = utf8_sanitize(in, n, b);
	b[o] = '\0';
	scan_arena_shrink_last(a, b, o + 1);
	*out = b;
	*outlen = o;
	return 0;
}

/* Open (or find) the descriptor for canon in this thread's cache. */
static iconv_t cs_cache_get(const char *canon)
{
	struct cs_cache_ent *victim = &cs_cache[0];
	cs_clock++;
	for (int i = 0; i < CS_CACHE_SIZE; i++) {
		struct cs_cache_ent *e = &cs_cache[i];
		if (e->stamp != 0 && strcmp(e->name, canon) == 0) {
			e->stamp = cs_clock;
			return e->cd;
		}
		if (e->stamp < victim->stamp)
			victim = e;
	}
	if (victim->stamp != 0 && victim->cd != (iconv_t)-1)
		iconv_close(victim->cd);
	snprintf(victim->name, sizeof(victim->name), "%s", canon);
	victim->cd = iconv_open("UTF-8", canon);
	victim->stamp = cs_clock;
	return victim->cd;
}

void scan_charset_thread_fini(void)
{
	for (int i = 0; i < CS_CACHE_SIZE; i++) {
		struct cs_cache_ent *e = &cs_cache[i];
		if (e->stamp != 0 && e->cd != (iconv_t)-1)
			iconv_close(e->cd);
		e->stamp = 0;
		e->cd = (iconv_t)-1;
		e->name[0] = '\0';
	}
	cs_clock = 0;
}

/* Bytes to skip after an invalid sequence: a whole code unit for the
 * UTF-16/32 family, so one bad unit does not misalign the rest. */
static size_t cs_unit(const char *canon)
{
	if (strncmp(canon, "utf-16", 6) == 0 || strncmp(canon, "utf16", 5) == 0 ||
	    strncmp(canon, "ucs-2", 5) == 0 || strncmp(canon, "ucs2", 4) == 0 ||
	    strcmp(canon, "unicode") == 0)
		return 2;
	if (strncmp(canon, "utf-32", 6) == 0 || strncmp(canon, "utf32", 5) == 0 ||
	    strncmp(canon, "ucs-4", 5) == 0 || strncmp(canon, "ucs4", 4) == 0)
		return 4;
	return 1;
}

/* One attempt into buf[0..cap). Returns bytes written, or (size_t)-1 when
 * the buffer was too small. Resuming after E2BIG is not used: glibc's
 * stateful converters (TSCII ...) lose output when they do. */
static size_t iconv_try(iconv_t cd, const uint8_t *in, size_t n, size_t unit,
			uint8_t *buf, size_t cap)
{
	char *inp = (char *)in, *outp = (char *)buf;
	size_t inleft = n, outleft = cap;

	iconv(cd, NULL, NULL, NULL, NULL); /* reset shift state */
	while (inleft > 0) {
		size_t r = iconv(cd, &inp, &inleft, &outp, &outleft);
		if (r != (size_t)-1)
			break;
		int err = errno;
		if (err == E2BIG || outleft < 3)
			return (size_t)-1;
		outp += put_fffd((uint8_t *)outp);
		outleft -= 3;
		if (err == EINVAL) /* incomplete sequence at the end */
			break;
		size_t skip = unit < inleft ? unit : inleft;
		inp += skip; /* EILSEQ (or anything else) */
		inleft -= skip;
	}
	size_t r = iconv(cd, NULL, NULL, &outp, &outleft); /* flush */
	if (r == (size_t)-1 && errno == E2BIG)
		return (size_t)-1;
	return cap - outleft;
}

static int iconv_out(iconv_t cd, size_t unit, const uint8_t *in, size_t n,
		     struct scan_arena *a, uint8_t **out, size_t *outlen)
{
	if (n > (SIZE_MAX - 64) / 4)
		return -ENOMEM;
	size_t cap = 3 * n + 16;
	for (;;) {
		uint8_t *buf = scan_arena_alloc(a, cap + 1);
		if (buf == NULL)
			return -ENOMEM;
		size_t o = iconv_try(cd, in, n, unit, buf, cap);
		if (o != (size_t)-1) {
			buf[o] = '\0';
			scan_arena_shrink_last(a, buf, o + 1);
			*out = buf;
			*outlen = o;
			/* Some glibc decoders (UCS-4 ...) pass code points
			 * that are not Unicode through as UTF-8-like bytes. */
			if (!utf8_valid(buf, o))
				return utf8_out(buf, o, a, out, outlen);
			return 0;
		}
		scan_arena_shrink_last(a, buf, 0); /* give the attempt back */
		if (cap > SIZE_MAX / 8)
			return -ENOMEM;
		cap *= 4;
	}
}

int scan_charset_to_utf8(const char *charset, const uint8_t *in, size_t n,
			 struct scan_arena *a, uint8_t **out, size_t *outlen)
{
	char canon[CS_NAME_MAX];
	*out = NULL;
	*outlen = 0;
	if (charset == NULL || charset[0] == '\0')
		return utf8_out(in, n, a, out, outlen);
	if (scan_charset_normalize(charset, canon, sizeof(canon)) < 0) {
		int rc = copy_out(in, n, a, out, outlen);
		return rc < 0 ? rc : -EINVAL;
	}
	if (strcmp(canon, "us-ascii") == 0 || strcmp(canon, "utf-8") == 0)
		return utf8_out(in, n, a, out, outlen);
	if (cs_is_ascii_compat(canon) && all_ascii(in, n))
		return copy_out(in, n, a, out, outlen);
	iconv_t cd = cs_cache_get(canon);
	if (cd == (iconv_t)-1) {
		int rc = copy_out(in, n, a, out, outlen);
		return rc < 0 ? rc : -EINVAL;
	}
	return iconv_out(cd, cs_unit(canon), in, n, a, out, outlen);
}
