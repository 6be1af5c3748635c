/*
 * scan/sig_clamav.c - ClamAV .ndb/.hdb/.hsb lines to Hyperscan expressions
 * and hash records. Contract and translation table in scan/sig_clamav.h.
 */
#include "scan/sig_clamav.h"

#include <errno.h>
#include <string.h>

#include <hs.h>

#define SIG_MAX_TARGET 14u

/* Output buffer that remembers overflow instead of failing each call. */
struct ebuf {
	char *p;
	size_t n, cap;
	int full;
};

static void eput(struct ebuf *b, const char *s, size_t n)
{
	if (b->full || b->cap - b->n <= n) {
		b->full = 1;
		return;
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = '\0';
}

static void eputs(struct ebuf *b, const char *s)
{
	eput(b, s, strlen(s));
}

static void ebyte(struct ebuf *b, unsigned c)
{
	static const char hex[] = "0123456789abcdef";
	char t[4] = { '\\', 'x', hex[(c >> 4) & 15], hex[c & 15] };

	eput(b, t, 4);
}

static void enum64(struct ebuf *b, uint64_t v)
{
	char t[24];
	size_t i = sizeof t;

	do {
		t[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	eput(b, t + i, sizeof t - i);
}

/* ".{lo}", ".{lo,hi}", ".{lo,}" (hi == UINT64_MAX), "." for {1} */
static void egap(struct ebuf *b, uint64_t lo, uint64_t hi)
{
	if (lo == 1 && hi == 1) {
		eputs(b, ".");
		return;
	}
	if (lo == 0 && hi == UINT64_MAX) {
		eputs(b, ".*");
		return;
	}
	eputs(b, ".{");
	enum64(b, lo);
	if (hi != lo) {
		eputs(b, ",");
		if (hi != UINT64_MAX)
			enum64(b, hi);
	}
	eputs(b, "}");
}

/* A set of byte values. */
struct bset {
	uint64_t w[4];
};

static int bs_has(const struct bset *s, unsigned c)
{
	return (int)((s->w[c >> 6] >> (c & 63)) & 1);
}

static void bs_add(struct bset *s, unsigned c)
{
	s->w[c >> 6] |= 1ull << (c & 63);
}

static unsigned bs_count(const struct bset *s)
{
	unsigned n = 0;

	for (int i = 0; i < 4; i++)
		n += (unsigned)__builtin_popcountll(s->w[i]);
	return n;
}

static void eset(struct ebuf *b, const struct bset *s)
{
	unsigned n = bs_count(s);

	if (n == 256) {
		eputs(b, ".");
		return;
	}
	if (n == 1) {
		for (unsigned i = 0; i < 4; i++)
			if (s->w[i] != 0)
				ebyte(b, i * 64 + (unsigned)__builtin_ctzll(s->w[i]));
		return;
	}
	eputs(b, "[");
	for (unsigned c = 0; c < 256;) {
		if (!bs_has(s, c)) {
			c++;
			continue;
		}
		unsigned e = c;
		while (e + 1 < 256 && bs_has(s, e + 1))
			e++;
		ebyte(b, c);
		if (e >= c + 2)
			eputs(b, "-");
		if (e >= c + 1)
			ebyte(b, e);
		c = e + 1;
	}
	eputs(b, "]");
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int is_pos_char(char c)
{
	return c == '?' || hexval(c) >= 0;
}

/* One byte position from two characters (hex or '?'). Adds its bytes to
 * *s; returns 1 if fully fixed, 0 if it has a wildcard nibble, -1 if
 * malformed. */
static int pos_set(char a, char b, struct bset *s)
{
	int hi = hexval(a), lo = hexval(b);

	if ((hi < 0 && a != '?') || (lo < 0 && b != '?'))
		return -1;
	if (hi >= 0 && lo >= 0) {
		bs_add(s, (unsigned)(hi << 4 | lo));
		return 1;
	}
	if (hi >= 0) { /* 16 consecutive values */
		s->w[hi >> 2] |= 0xffffull << ((hi & 3) * 16);
		return 0;
	}
	for (unsigned h = 0; h < 16; h++)
		if (lo < 0)
			s->w[h >> 2] |= 0xffffull << ((h & 3) * 16);
		else
			bs_add(s, h << 4 | (unsigned)lo);
	return 0;
}

static int parse_num(const char *s, size_t len, size_t *i, uint64_t max,
		     uint64_t *v)
{
	uint64_t x = 0;
	size_t start = *i;

	while (*i < len && s[*i] >= '0' && s[*i] <= '9') {
		x = x * 10 + (uint64_t)(s[*i] - '0');
		if (x > max)
			return -1;
		(*i)++;
	}
	if (*i == start)
		return -1;
	*v = x;
	return 0;
}

#define FAIL(err, reason)                                                 \
	do {                                                              \
		*why = (reason);                                          \
		return (err);                                             \
	} while (0)

/* Translate the alternation at hex[*i] (just after '('). */
static int xlat_group(const char *hex, size_t len, size_t *i, int negated,
		      struct ebuf *b, uint64_t *minl, uint64_t *maxl,
		      int *fixed, const char **why)
{
	size_t j = *i, end;
	uint64_t amin = UINT64_MAX, amax = 0, alen = 0;
	int all_single = 1, all_fixed = 1;

	/* pass 1: shape and syntax */
	for (;; j += 2) {
		if (j >= len)
			FAIL(-EINVAL, "unclosed alternation");
		if (hex[j] == '|' || hex[j] == ')') {
			if (alen == 0)
				FAIL(-EINVAL, "empty alternative");
			if (alen != 1)
				all_single = 0;
			amin = alen < amin ? alen : amin;
			amax = alen > amax ? alen : amax;
			alen = 0;
			if (hex[j] == ')')
				break;
			j--; /* step over '|' only */
			continue;
		}
		if (!is_pos_char(hex[j]))
			FAIL(-EINVAL, "unexpected character in alternation");
		if (j + 1 >= len || !is_pos_char(hex[j + 1]))
			FAIL(-EINVAL, "odd number of hex digits in alternation");
		if (hex[j] == '?' || hex[j + 1] == '?')
			all_fixed = 0;
		alen++;
	}
	end = j;

	if (all_single) {
		struct bset s = { { 0 } };

		for (j = *i; j < end; j += 3)
			(void)pos_set(hex[j], hex[j + 1], &s);
		if (negated) {
			struct bset c = { { ~s.w[0], ~s.w[1], ~s.w[2], ~s.w[3] } };

			if (bs_count(&c) == 0)
				FAIL(-EINVAL, "negation excludes every byte");
			eset(b, &c);
			all_fixed = 0;
		} else {
			eset(b, &s);
		}
	} else {
		if (negated)
			FAIL(-ENOTSUP, "multi-byte negated alternation");
		eputs(b, "(?:");
		for (j = *i; j < end; j++) {
			if (hex[j] == '|') {
				eputs(b, "|");
				continue;
			}
			struct bset s = { { 0 } };
			(void)pos_set(hex[j], hex[j + 1], &s);
			eset(b, &s);
			j++;
		}
		eputs(b, ")");
	}
	*minl += amin;
	*maxl = *maxl == UINT64_MAX ? UINT64_MAX : *maxl + amax;
	*fixed = all_fixed;
	*i = end + 1;
	return 0;
}

size_t scan_sig_expr_bound(size_t hexlen)
{
	/* Worst case per input character is a low-nibble class: "?a" (2
	 * chars) -> 16 escaped bytes in brackets (66 chars). Groups add
	 * "(?:" per '('. The anchoring prefix adds < 64. */
	return hexlen * 34 + 96;
}

int scan_sig_hex_translate(const char *hex, size_t len, char *out,
			   size_t outsz, uint32_t *min_len, uint32_t *max_len,
			   const char **why)
{
	struct ebuf b = { out, 0, outsz, outsz == 0 };
	uint64_t minl = 0, maxl = 0, anyrun = 0;
	unsigned nfixed = 0;
	int last_gap = 0, nelem = 0;
	size_t i = 0;

	if (outsz > 0)
		out[0] = '\0';
	if (len == 0)
		FAIL(-EINVAL, "empty signature");
	while (i < len || anyrun > 0) {
		char c = i < len ? hex[i] : '\0';

		/* a run of ?? becomes one .{k} */
		if (c == '?' && i + 1 < len && hex[i + 1] == '?') {
			anyrun++;
			i += 2;
			continue;
		}
		if (anyrun > 0) {
			egap(&b, anyrun, anyrun);
			minl += anyrun;
			maxl = maxl == UINT64_MAX ? maxl : maxl + anyrun;
			anyrun = 0;
			last_gap = 0;
			nelem++;
			continue;
		}
		if (is_pos_char(c)) {
			struct bset s = { { 0 } };
			int f;

			if (i + 1 >= len)
				FAIL(-EINVAL, "odd number of hex digits");
			f = pos_set(c, hex[i + 1], &s);
			if (f < 0)
				FAIL(-EINVAL, "odd number of hex digits");
			eset(&b, &s);
			nfixed += (unsigned)f;
			minl++;
			maxl = maxl == UINT64_MAX ? maxl : maxl + 1;
			i += 2;
			last_gap = 0;
		} else if (c == '*' || c == '{' || c == '[') {
			uint64_t lo = 0, hi = UINT64_MAX;

			if (nelem == 0)
				FAIL(-EINVAL, "signature starts with a gap");
			if (last_gap)
				FAIL(-EINVAL, "two gaps in a row");
			i++;
			if (c == '{') {
				if (i < len && hex[i] == '-') {
					i++;
					if (parse_num(hex, len, &i, 0xffffff, &hi))
						FAIL(-EINVAL, "bad {-n} gap");
				} else {
					if (parse_num(hex, len, &i, 0xffffff, &lo))
						FAIL(-EINVAL, "bad {n} gap");
					hi = lo;
					if (i < len && hex[i] == '-') {
						i++;
						hi = UINT64_MAX;
						if (i < len && hex[i] != '}' &&
						    parse_num(hex, len, &i, 0xffffff,
							      &hi))
							FAIL(-EINVAL, "bad {n-m} gap");
					}
				}
				if (i >= len || hex[i] != '}')
					FAIL(-EINVAL, "unclosed {} gap");
				i++;
			} else if (c == '[') {
				if (parse_num(hex, len, &i, 0xffffff, &lo) ||
				    i >= len || hex[i] != '-')
					FAIL(-EINVAL, "bad [n-m] gap");
				i++;
				if (parse_num(hex, len, &i, 0xffffff, &hi) ||
				    i >= len || hex[i] != ']')
					FAIL(-EINVAL, "bad [n-m] gap");
				i++;
			} else {
				lo = 0;
			}
			if (hi < lo)
				FAIL(-EINVAL, "gap range with n > m");
			if (hi == 0)
				FAIL(-EINVAL, "empty gap");
			egap(&b, lo, hi);
			minl += lo;
			maxl = (maxl == UINT64_MAX || hi == UINT64_MAX)
				       ? UINT64_MAX
				       : maxl + hi;
			last_gap = 1;
		} else if (c == '(' || c == '!') {
			int negated = c == '!', f = 0, rc;

			if (negated && (i + 1 >= len || hex[i + 1] != '('))
				FAIL(-EINVAL, "'!' not followed by '('");
			i += negated ? 2 : 1;
			if (!negated && i + 1 < len && hex[i + 1] == ')' &&
			    (hex[i] == 'B' || hex[i] == 'L' || hex[i] == 'W'))
				FAIL(-ENOTSUP,
				     "(B)/(L)/(W) boundary not supported");
			rc = xlat_group(hex, len, &i, negated, &b, &minl,
					&maxl, &f, why);
			if (rc != 0)
				return rc;
			nfixed += (unsigned)f;
			last_gap = 0;
		} else {
			FAIL(-EINVAL, "unexpected character");
		}
		nelem++;
	}
	if (last_gap)
		FAIL(-EINVAL, "signature ends with a gap");
	if (nfixed == 0)
		FAIL(-EINVAL, "no fixed byte in signature");
	if (minl >= SCAN_SIG_UNBOUNDED)
		FAIL(-EINVAL, "signature too long");
	if (b.full)
		FAIL(-ENOSPC, "expression too long");
	*min_len = (uint32_t)minl;
	*max_len = maxl >= SCAN_SIG_UNBOUNDED ? SCAN_SIG_UNBOUNDED
					       : (uint32_t)maxl;
	return 0;
}

/* Split line[0..len) on ':' into at most max fields; returns the count
 * or -1 when there are more. */
static int split(const char *line, size_t len, const char **f, size_t *fl,
		 int max)
{
	int n = 0;
	size_t start = 0;

	for (size_t i = 0; i <= len; i++) {
		if (i < len && line[i] != ':')
			continue;
		if (n == max)
			return -1;
		f[n] = line + start;
		fl[n] = i - start;
		n++;
		start = i + 1;
	}
	return n;
}

static int field_num(const char *f, size_t fl, uint64_t max, uint64_t *v)
{
	size_t i = 0;

	return parse_num(f, fl, &i, max, v) == 0 && i == fl ? 0 : -1;
}

static int has_prefix(const char *f, size_t fl, const char *p)
{
	size_t n = strlen(p);

	return fl >= n && memcmp(f, p, n) == 0;
}

static int parse_offset(const char *f, size_t fl, struct scan_sig_ndb *sig,
			const char **why)
{
	size_t i = 0;

	sig->off = sig->shift = 0;
	if (fl == 1 && f[0] == '*') {
		sig->off_kind = SCAN_SIG_OFF_ANY;
		return 0;
	}
	if (has_prefix(f, fl, "EOF-")) {
		sig->off_kind = SCAN_SIG_OFF_EOF;
		i = 4;
	} else if (fl > 0 && f[0] >= '0' && f[0] <= '9') {
		sig->off_kind = SCAN_SIG_OFF_ABS;
	} else if (has_prefix(f, fl, "EP+") || has_prefix(f, fl, "EP-")) {
		FAIL(-ENOTSUP, "entry-point offset (EP) not supported");
	} else if (has_prefix(f, fl, "SL+") || has_prefix(f, fl, "SE") ||
		   (fl > 1 && f[0] == 'S' && f[1] >= '0' && f[1] <= '9')) {
		FAIL(-ENOTSUP, "PE section offset (Sx+n/SEx/SL+n) not supported");
	} else if (has_prefix(f, fl, "VI")) {
		FAIL(-ENOTSUP, "version-info offset (VI) not supported");
	} else if (fl > 0 && f[0] == '$') {
		FAIL(-ENOTSUP, "macro offset ($n$) not supported");
	} else {
		FAIL(-EINVAL, "bad offset");
	}
	if (parse_num(f, fl, &i, SCAN_SIG_MAX_OFFSET, &sig->off))
		FAIL(-EINVAL, "bad offset");
	if (i < fl && f[i] == ',') {
		i++;
		if (parse_num(f, fl, &i, SCAN_SIG_MAX_OFFSET, &sig->shift))
			FAIL(-EINVAL, "bad offset shift (n,m)");
	}
	if (i != fl)
		FAIL(-EINVAL, "bad offset");
	return 0;
}

int scan_sig_ndb_parse(const char *line, size_t len, struct scan_sig_ndb *sig,
		       char *out, size_t outsz, const char **why)
{
	const char *f[6];
	size_t fl[6];
	uint64_t v;
	int n, rc;

	memset(sig, 0, sizeof *sig);
	n = split(line, len, f, fl, 6);
	if (n < 4)
		FAIL(-EINVAL, n < 0 ? "too many fields" : "too few fields");
	if (fl[0] == 0)
		FAIL(-EINVAL, "empty name");
	sig->name = f[0];
	sig->name_len = fl[0];
	if (field_num(f[1], fl[1], 1000, &v))
		FAIL(-EINVAL, "bad target type");
	if (v > SIG_MAX_TARGET)
		FAIL(-ENOTSUP, "unknown target type");
	sig->target = (unsigned)v;
	rc = parse_offset(f[2], fl[2], sig, why);
	if (rc != 0)
		return rc;
	if (n >= 5 && fl[4] > 0) {
		if (field_num(f[4], fl[4], 100000, &v))
			FAIL(-EINVAL, "bad min_flevel");
		sig->min_flevel = (unsigned)v;
	}
	if (n >= 6 && fl[5] > 0) {
		if (field_num(f[5], fl[5], 100000, &v))
			FAIL(-EINVAL, "bad max_flevel");
		sig->max_flevel = (unsigned)v;
	}

	rc = scan_sig_hex_translate(f[3], fl[3], out, outsz, &sig->min_len,
				    &sig->max_len, why);
	if (rc != 0)
		return rc;

	int fixed = sig->min_len == sig->max_len;
	sig->hs_flags = HS_FLAG_DOTALL;
	sig->check = SCAN_SIG_CHECK_NONE;
	switch (sig->off_kind) {
	case SCAN_SIG_OFF_ANY:
		sig->hs_flags |= HS_FLAG_SINGLEMATCH;
		break;
	case SCAN_SIG_OFF_ABS:
		if (fixed) {
			sig->check = SCAN_SIG_CHECK_FIXED;
			break;
		}
		if (sig->off == 0) {
			sig->hs_flags |= HS_FLAG_SOM_LEFTMOST;
			sig->check = SCAN_SIG_CHECK_SOM;
			break;
		}
		sig->hs_flags |= HS_FLAG_SINGLEMATCH;
		{
			/* "^.{n,n+m}(?:" body ")" : shift the body right */
			char pre[64];
			struct ebuf pb = { pre, 0, sizeof pre, 0 };
			size_t bl = strlen(out);

			eputs(&pb, "^");
			egap(&pb, sig->off, sig->off + sig->shift);
			eputs(&pb, "(?:");
			if (pb.n + bl + 2 > outsz - 1)
				FAIL(-ENOSPC, "expression too long");
			memmove(out + pb.n, out, bl);
			memcpy(out, pre, pb.n);
			memcpy(out + pb.n + bl, ")", 2);
		}
		break;
	case SCAN_SIG_OFF_EOF:
		if (fixed) {
			sig->check = SCAN_SIG_CHECK_FIXED;
		} else {
			sig->hs_flags |= HS_FLAG_SOM_LEFTMOST;
			sig->check = SCAN_SIG_CHECK_SOM;
		}
		break;
	}
	return 0;
}

int scan_sig_hash_parse(const char *line, size_t len,
			struct scan_sig_hash *sig, const char **why)
{
	const char *f[5];
	size_t fl[5];
	uint64_t v;
	int n;

	memset(sig, 0, sizeof *sig);
	n = split(line, len, f, fl, 5);
	if (n < 3)
		FAIL(-EINVAL, n < 0 ? "too many fields" : "too few fields");
	switch (fl[0]) {
	case 32: sig->type = SCAN_SIG_MD5; break;
	case 40: sig->type = SCAN_SIG_SHA1; break;
	case 64: sig->type = SCAN_SIG_SHA256; break;
	default: FAIL(-EINVAL, "hash is not 32, 40 or 64 hex digits");
	}
	for (size_t i = 0; i < fl[0]; i += 2) {
		int hi = hexval(f[0][i]), lo = hexval(f[0][i + 1]);

		if (hi < 0 || lo < 0)
			FAIL(-EINVAL, "non-hex digit in hash");
		sig->digest[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	if (fl[1] == 1 && f[1][0] == '*')
		sig->size = SCAN_SIG_SIZE_ANY;
	else if (field_num(f[1], fl[1], UINT64_MAX / 16, &sig->size))
		FAIL(-EINVAL, "bad size");
	if (fl[2] == 0)
		FAIL(-EINVAL, "empty name");
	sig->name = f[2];
	sig->name_len = fl[2];
	for (int k = 3; k < n; k++)
		if (fl[k] > 0 && field_num(f[k], fl[k], 100000, &v))
			FAIL(-EINVAL, "bad flevel");
	return 0;
}
