/*
 * scan/sig_clamav.c - ClamAV .ndb/.hdb/.hsb lines to Hyperscan expressions
 * and hash records. Contract and translation table in scan/sig_clamav.h.
 */
#include "scan/sig_clamav.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

#include <hs.h>

#include "scan/filetype.h"

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

/* The translation; wide: every byte position followed by a 0x00 byte
 * (the ::w subsignature modifier; positions only, no gaps or groups). */
static int xlat(const char *hex, size_t len, char *out, size_t outsz,
		int wide, uint32_t *min_len, uint32_t *max_len,
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
			if (wide)
				FAIL(-ENOTSUP, "wide (::w) with ?? wildcards");
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
			if (wide)
				ebyte(&b, 0);
			nfixed += (unsigned)f;
			minl += 1u + (wide != 0);
			maxl = maxl == UINT64_MAX ? maxl : maxl + 1 + (wide != 0);
			i += 2;
			last_gap = 0;
		} else if (wide && (c == '*' || c == '{' || c == '[' ||
				    c == '(' || c == '!')) {
			FAIL(-ENOTSUP, "wide (::w) with gaps or alternations");
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

int scan_sig_hex_translate(const char *hex, size_t len, char *out,
			   size_t outsz, uint32_t *min_len, uint32_t *max_len,
			   const char **why)
{
	return xlat(hex, len, out, outsz, 0, min_len, max_len, why);
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

/* How a translated body (out) with offset kind/off/shift and length
 * range [minl, maxl] is compiled and checked: the table in the header.
 * May rewrite out (the anchored form). 0 or -ENOSPC. */
static int body_plan(enum scan_sig_off kind, uint64_t off, uint64_t shift,
		     uint32_t minl, uint32_t maxl, char *out, size_t outsz,
		     unsigned *hs_flags, enum scan_sig_check *check,
		     const char **why)
{
	int fixed = minl == maxl;

	*hs_flags = HS_FLAG_DOTALL;
	*check = SCAN_SIG_CHECK_NONE;
	switch (kind) {
	case SCAN_SIG_OFF_ANY:
		*hs_flags |= HS_FLAG_SINGLEMATCH;
		break;
	case SCAN_SIG_OFF_ABS:
		if (fixed) {
			*check = SCAN_SIG_CHECK_FIXED;
			break;
		}
		if (off == 0) {
			*hs_flags |= HS_FLAG_SOM_LEFTMOST;
			*check = SCAN_SIG_CHECK_SOM;
			break;
		}
		*hs_flags |= HS_FLAG_SINGLEMATCH;
		{
			/* "^.{n,n+m}(?:" body ")" : shift the body right */
			char pre[64];
			struct ebuf pb = { pre, 0, sizeof pre, 0 };
			size_t bl = strlen(out);

			eputs(&pb, "^");
			egap(&pb, off, off + shift);
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
			*check = SCAN_SIG_CHECK_FIXED;
		} else {
			*hs_flags |= HS_FLAG_SOM_LEFTMOST;
			*check = SCAN_SIG_CHECK_SOM;
		}
		break;
	}
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

	rc = body_plan(sig->off_kind, sig->off, sig->shift, sig->min_len,
		       sig->max_len, out, outsz, &sig->hs_flags, &sig->check,
		       why);
	if (rc != 0)
		return rc;
	/* last, so that a malformed line is rejected whatever its target */
	if (sig->target == 3 || sig->target == 4 || sig->target == 7)
		FAIL(-ENOTSUP, "target type 3/4/7 is matched on normalised "
			       "HTML/mail/text");
	if (sig->target == 8 || sig->target > SIG_MAX_TARGET - 2)
		FAIL(-ENOTSUP, "unknown or internal target type");
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

/* ---- .ldb logical signatures ------------------------------------------ */

struct lparse {
	const char *s;
	size_t len, i;
	unsigned nsub, depth;
	struct scan_sig_lexpr *x;
	const char *why;
};

static int lp_node(struct lparse *p)
{
	if (p->x->nnodes >= SCAN_SIG_LEXPR_MAX_NODES) {
		p->why = "logical expression too long";
		return -1;
	}
	memset(&p->x->nodes[p->x->nnodes], 0, sizeof p->x->nodes[0]);
	return (int)p->x->nnodes++;
}

static int lp_num(struct lparse *p, uint64_t max, uint64_t *v)
{
	if (parse_num(p->s, p->len, &p->i, max, v)) {
		p->why = "number expected in logical expression";
		return -1;
	}
	return 0;
}

/* Optional =X, <X, >X, =X,Y ... after a unary; fills n. */
static int lp_mod(struct lparse *p, struct scan_sig_lnode *n)
{
	uint64_t v;

	if (p->i >= p->len ||
	    (p->s[p->i] != '=' && p->s[p->i] != '<' && p->s[p->i] != '>'))
		return 0;
	n->mod = (uint8_t)p->s[p->i++];
	if (lp_num(p, UINT32_MAX, &v))
		return -1;
	n->x = (uint32_t)v;
	if (p->i < p->len && p->s[p->i] == ',') {
		p->i++;
		if (lp_num(p, UINT32_MAX, &v))
			return -1;
		n->y = (uint32_t)v;
	}
	p->x->has_mod = 1;
	return 0;
}

static int lp_expr(struct lparse *p);

static uint64_t lp_subs(const struct scan_sig_lexpr *x, unsigned i,
			unsigned depth)
{
	const struct scan_sig_lnode *n = &x->nodes[i];

	if (depth > SCAN_SIG_LEXPR_MAX_NODES)
		return 0;
	if (n->kind == SCAN_SIG_LN_SUB)
		return 1ull << n->sub;
	if (n->kind == SCAN_SIG_LN_BLOCK)
		return lp_subs(x, n->a, depth + 1);
	return lp_subs(x, n->a, depth + 1) | lp_subs(x, n->b, depth + 1);
}

static int lp_unary(struct lparse *p)
{
	int k;

	if (p->i >= p->len) {
		p->why = "logical expression ends too early";
		return -1;
	}
	if (p->s[p->i] == '(') {
		int inner;

		p->i++;
		inner = lp_expr(p);
		if (inner < 0)
			return -1;
		if (p->i >= p->len || p->s[p->i] != ')') {
			p->why = "missing ')' in logical expression";
			return -1;
		}
		p->i++;
		if (p->i >= p->len || (p->s[p->i] != '=' && p->s[p->i] != '<' &&
				       p->s[p->i] != '>'))
			return inner;
		if ((k = lp_node(p)) < 0)
			return -1;
		p->x->nodes[k].kind = SCAN_SIG_LN_BLOCK;
		p->x->nodes[k].a = (uint16_t)inner;
		if (lp_mod(p, &p->x->nodes[k]))
			return -1;
		p->x->counted |= lp_subs(p->x, (unsigned)inner, 0);
		return k;
	}
	uint64_t v;

	if (lp_num(p, 1000, &v))
		return -1;
	if (v >= p->nsub) {
		p->why = "logical expression names a missing subsignature";
		return -1;
	}
	if ((k = lp_node(p)) < 0)
		return -1;
	p->x->nodes[k].kind = SCAN_SIG_LN_SUB;
	p->x->nodes[k].sub = (uint8_t)v;
	p->x->used |= 1ull << v;
	if (lp_mod(p, &p->x->nodes[k]))
		return -1;
	if (p->x->nodes[k].mod)
		p->x->counted |= 1ull << v;
	return k;
}

static int lp_expr(struct lparse *p)
{
	int l, r, k;
	char op;

	if (++p->depth > SCAN_SIG_LEXPR_MAX_NODES) {
		p->why = "logical expression nested too deep";
		return -1;
	}
	l = lp_unary(p);
	if (l < 0)
		return -1;
	if (p->i >= p->len || (p->s[p->i] != '&' && p->s[p->i] != '|')) {
		p->depth--;
		return l;
	}
	op = p->s[p->i++];
	r = lp_expr(p);
	if (r < 0)
		return -1;
	if ((k = lp_node(p)) < 0)
		return -1;
	p->x->nodes[k].kind = op == '&' ? SCAN_SIG_LN_AND : SCAN_SIG_LN_OR;
	p->x->nodes[k].a = (uint16_t)l;
	p->x->nodes[k].b = (uint16_t)r;
	p->depth--;
	return k;
}

int scan_sig_lexpr_compile(const char *s, size_t len, unsigned nsub,
			   struct scan_sig_lexpr *x, const char **why)
{
	struct lparse p = { s, len, 0, nsub, 0, x, NULL };
	int root;

	x->nnodes = 0;
	x->root = 0;
	x->used = x->counted = 0;
	x->has_mod = 0;
	if (nsub > SCAN_SIG_LDB_MAX_SUBSIGS)
		FAIL(-EINVAL, "more than 64 subsignatures");
	root = lp_expr(&p);
	if (root < 0)
		FAIL(-EINVAL, p.why);
	if (p.i != len)
		FAIL(-EINVAL, "unexpected character in logical expression");
	x->root = (unsigned)root;
	return 0;
}

static int mod_holds(uint8_t mod, uint64_t v, uint32_t x)
{
	switch (mod) {
	case '=': return v == x;
	case '<': return v < x;
	case '>': return v > x;
	default: return 0;
	}
}

/* As libclamav's cli_ac_chklsig: *cnt and *ids collect the counts and
 * the subsignatures that made a true subexpression true. */
static int ln_eval(const struct scan_sig_lnode *nodes, unsigned n, unsigned i,
		   const uint32_t *counts, uint64_t *cnt, uint64_t *ids,
		   unsigned depth)
{
	const struct scan_sig_lnode *d;
	uint64_t lc = 0, rc = 0, li = 0, ri = 0;
	int l, r;

	if (i >= n || depth > n)
		return 0; /* only a forged node array gets here */
	d = &nodes[i];
	switch (d->kind) {
	case SCAN_SIG_LN_SUB: {
		uint64_t v = counts[d->sub];

		if (d->mod ? !mod_holds(d->mod, v, d->x) : v == 0)
			return 0;
		*cnt += v;
		*ids |= 1ull << (d->sub & 63);
		return 1;
	}
	case SCAN_SIG_LN_AND:
	case SCAN_SIG_LN_OR:
		l = ln_eval(nodes, n, d->a, counts, &lc, &li, depth + 1);
		r = ln_eval(nodes, n, d->b, counts, &rc, &ri, depth + 1);
		if (!(d->kind == SCAN_SIG_LN_AND ? l && r : l || r))
			return 0;
		*cnt += lc + rc;
		*ids |= li | ri;
		return 1;
	case SCAN_SIG_LN_BLOCK:
		l = ln_eval(nodes, n, d->a, counts, &lc, &li, depth + 1);
		if (!l)
			lc = li = 0;
		if (!mod_holds(d->mod, lc, d->x))
			return 0;
		if (d->y != 0 && (unsigned)__builtin_popcountll(li) < d->y)
			return 0;
		*cnt += lc;
		return 1;
	default:
		return 0;
	}
}

int scan_sig_lnodes_eval(const struct scan_sig_lnode *nodes, unsigned n,
			 unsigned root, const uint32_t *counts)
{
	uint64_t cnt = 0, ids = 0;

	return ln_eval(nodes, n, root, counts, &cnt, &ids, 0);
}

int scan_sig_lexpr_eval(const struct scan_sig_lexpr *x,
			const uint32_t *counts)
{
	return scan_sig_lnodes_eval(x->nodes, x->nnodes, x->root, counts);
}

/* Split on sep into at most max fields; the count or -1 when more. */
static int split_on(const char *line, size_t len, char sep, const char **f,
		    size_t *fl, int max)
{
	int n = 0;
	size_t start = 0;

	for (size_t i = 0; i <= len; i++) {
		if (i < len && line[i] != sep)
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

/* "a-b" or "a" into [lo, hi]. */
static int parse_range(const char *v, size_t vl, uint64_t max, uint64_t *lo,
		       uint64_t *hi)
{
	size_t i = 0;

	if (parse_num(v, vl, &i, max, lo))
		return -1;
	*hi = *lo;
	if (i < vl && v[i] == '-') {
		i++;
		if (parse_num(v, vl, &i, max, hi))
			return -1;
	}
	return i == vl && *lo <= *hi ? 0 : -1;
}

static int parse_tdb(const char *t, size_t tl, struct scan_sig_ldb *sig,
		     const char **why)
{
	const char *f[32];
	size_t fl[32];
	int n = split_on(t, tl, ',', f, fl, 32);
	uint64_t lo, hi;

	sig->size_min = 0;
	sig->size_max = UINT64_MAX;
	if (n < 0)
		FAIL(-EINVAL, "too many target description keys");
	for (int k = 0; k < n; k++) {
		const char *colon = memchr(f[k], ':', fl[k]);
		size_t kl, vl;
		const char *v;

		if (colon == NULL)
			FAIL(-EINVAL, "target description key without ':'");
		kl = (size_t)(colon - f[k]);
		v = colon + 1;
		vl = fl[k] - kl - 1;
		if (kl == 6 && memcmp(f[k], "Engine", 6) == 0) {
			if (parse_range(v, vl, 100000, &lo, &hi))
				FAIL(-EINVAL, "bad Engine range");
			sig->eng_min = (unsigned)lo;
			sig->eng_max = (unsigned)hi;
		} else if (kl == 6 && memcmp(f[k], "Target", 6) == 0) {
			size_t i = 0;

			if (parse_num(v, vl, &i, 1000, &lo) || i != vl)
				FAIL(-EINVAL, "bad Target");
			if (lo == 3 || lo == 4 || lo == 7)
				FAIL(-ENOTSUP, "target type 3/4/7 is matched on "
					       "normalised HTML/mail/text");
			if (lo == 8 || lo > SIG_MAX_TARGET - 2)
				FAIL(-ENOTSUP, "unknown or internal target type");
			sig->target = (unsigned)lo;
		} else if (kl == 8 && memcmp(f[k], "FileSize", 8) == 0) {
			if (parse_range(v, vl, UINT64_MAX / 16, &lo, &hi))
				FAIL(-EINVAL, "bad FileSize range");
			sig->size_min = lo;
			sig->size_max = hi;
		} else {
			static const char *const known[] = {
				"EntryPoint", "NumberOfSections", "Container",
				"Intermediates", "IconGroup1", "IconGroup2",
				"HandlerType",
			};
			for (size_t j = 0; j < sizeof known / sizeof known[0];
			     j++)
				if (kl == strlen(known[j]) &&
				    memcmp(f[k], known[j], kl) == 0)
					FAIL(-ENOTSUP, "target description key "
						       "not supported (EntryPoint, "
						       "NumberOfSections, Container, "
						       "Intermediates, IconGroup, "
						       "HandlerType)");
			FAIL(-EINVAL, "unknown target description key");
		}
	}
	return 0;
}

int scan_sig_ldb_parse(const char *line, size_t len, struct scan_sig_ldb *sig,
		       const char **why)
{
	const char *f[SCAN_SIG_LDB_MAX_SUBSIGS + 3];
	size_t fl[SCAN_SIG_LDB_MAX_SUBSIGS + 3];
	int n, rc;

	memset(sig, 0, offsetof(struct scan_sig_ldb, lexpr));
	n = split_on(line, len, ';', f, fl, SCAN_SIG_LDB_MAX_SUBSIGS + 3);
	if (n < 0)
		FAIL(-EINVAL, "more than 64 subsignatures");
	if (n < 4)
		FAIL(-EINVAL, "too few fields (name;target;expression;subsig)");
	if (fl[0] == 0)
		FAIL(-EINVAL, "empty name");
	sig->name = f[0];
	sig->name_len = fl[0];
	rc = parse_tdb(f[1], fl[1], sig, why);
	if (rc != 0)
		return rc;
	sig->nsub = (unsigned)n - 3;
	for (unsigned k = 0; k < sig->nsub; k++) {
		if (fl[3 + k] == 0)
			FAIL(-EINVAL, "empty subsignature");
		sig->sub[k] = f[3 + k];
		sig->sub_len[k] = fl[3 + k];
	}
	sig->expr = f[2];
	sig->expr_len = fl[2];
	rc = scan_sig_lexpr_compile(f[2], fl[2], sig->nsub, &sig->lexpr, why);
	if (rc != 0)
		return rc;
	sig->counted = sig->lexpr.counted;
	/* a PCRE trigger may count other subsignatures too ("0>2/re/") */
	for (unsigned k = 0; k < sig->nsub; k++) {
		const char *s = sig->sub[k], *slash, *t;
		struct scan_sig_lexpr tx;
		const char *twhy;

		slash = memchr(s, '/', sig->sub_len[k]);
		if (slash == NULL)
			continue;
		t = memchr(s, ':', (size_t)(slash - s));
		t = t != NULL ? t + 1 : s;
		if (scan_sig_lexpr_compile(t, (size_t)(slash - t), sig->nsub, &tx,
					   &twhy) == 0) /* errors: sub_parse */
			sig->counted |= tx.counted;
	}
	return 0;
}

static const char *memstr(const char *s, size_t len, const char *pat)
{
	size_t pl = strlen(pat);

	for (size_t i = 0; i + pl <= len; i++)
		if (memcmp(s + i, pat, pl) == 0)
			return s + i;
	return NULL;
}

/* PCRE subsignature "[Offset:]Trigger/Regex/Flags". */
static int sub_pcre(const struct scan_sig_ldb *sig, unsigned k,
		    const char *s, size_t len, int counted,
		    struct scan_sig_sub *sub, char *out, size_t outsz,
		    const char **why)
{
	const char *slash = memchr(s, '/', len), *last = s + len - 1;
	const char *pre = s, *colon;
	struct ebuf b = { out, 0, outsz, outsz == 0 };
	struct scan_sig_lexpr tx;
	int anchored = 0, rc;

	while (last > slash && *last != '/')
		last--;
	if (last == slash)
		FAIL(-EINVAL, "PCRE subsignature without closing '/'");
	if (last == slash + 1)
		FAIL(-EINVAL, "empty PCRE");
	colon = memchr(pre, ':', (size_t)(slash - pre));
	struct scan_sig_ndb off = { 0 };
	off.off_kind = SCAN_SIG_OFF_ANY;
	if (colon != NULL) {
		rc = parse_offset(pre, (size_t)(colon - pre), &off, why);
		if (rc != 0)
			return rc;
		if (off.off_kind == SCAN_SIG_OFF_EOF)
			FAIL(-ENOTSUP, "PCRE offset EOF-n not supported");
		pre = colon + 1;
	}
	sub->pcre = 1;
	sub->trigger = pre;
	sub->trigger_len = (size_t)(slash - pre);
	if (sub->trigger_len == 0)
		FAIL(-EINVAL, "PCRE subsignature without a trigger");
	if (sub->trigger_len == 30 &&
	    memcmp(pre, "7374756c747a676574737265676578", 30) == 0)
		FAIL(-ENOTSUP, "PCRE bypass trigger (regex on every file)");
	rc = scan_sig_lexpr_compile(pre, sub->trigger_len, sig->nsub, &tx, why);
	if (rc != 0)
		return rc;
	if (tx.used & (1ull << k))
		FAIL(-EINVAL, "PCRE trigger names its own subsignature");
	sub->hs_flags = HS_FLAG_SINGLEMATCH;
	for (const char *p = last + 1; p < s + len; p++) {
		switch (*p) {
		case 'i': sub->hs_flags |= HS_FLAG_CASELESS; break;
		case 's': sub->hs_flags |= HS_FLAG_DOTALL; break;
		case 'm': sub->hs_flags |= HS_FLAG_MULTILINE; break;
		case 'x': eputs(&b, "(?x)"); break;
		case 'A': anchored = 1; break;
		case 'g': counted = 1; break; /* every match counts */
		case 'e':
			if (off.off_kind != SCAN_SIG_OFF_ANY)
				FAIL(-ENOTSUP, "PCRE flag e (encompass) with "
					       "an offset not supported");
			break;
		case 'r': case 'U': break; /* no effect on whether and how
					      often it matches */
		case 'E':
			FAIL(-ENOTSUP, "PCRE flag E (dollar end-only) not "
				       "supported");
		default:
			FAIL(-EINVAL, "unknown PCRE flag");
		}
	}
	/* offset n[,m]: the match starts in [n, n+m], as libclamav */
	if (off.off_kind == SCAN_SIG_OFF_ABS) {
		if (anchored && off.shift > 0)
			FAIL(-ENOTSUP, "PCRE flag A with an offset shift");
		eputs(&b, "^");
		if (off.off + off.shift > 0) {
			eputs(&b, "[\\x00-\\xff]{");
			enum64(&b, off.off);
			if (off.shift > 0) {
				eputs(&b, ",");
				enum64(&b, off.off + off.shift);
			}
			eputs(&b, "}");
		}
		anchored = 0;
	}
	eputs(&b, anchored ? "^(?:" : "(?:");
	eput(&b, slash + 1, (size_t)(last - slash - 1));
	eputs(&b, ")");
	if (b.full)
		FAIL(-ENOSPC, "expression too long");
	if (memchr(out, '\0', b.n) != NULL)
		FAIL(-EINVAL, "NUL byte in PCRE");
	sub->off_kind = SCAN_SIG_OFF_ANY;
	sub->min_len = 0;
	sub->max_len = SCAN_SIG_UNBOUNDED;
	sub->check = SCAN_SIG_CHECK_NONE;
	if (counted)
		sub->hs_flags &= ~(unsigned)HS_FLAG_SINGLEMATCH;
	return 0;
}

int scan_sig_ldb_sub_parse(const struct scan_sig_ldb *sig, unsigned k,
			   int counted, struct scan_sig_sub *sub, char *out,
			   size_t outsz, const char **why)
{
	const char *s = sig->sub[k], *hex, *mods, *colon;
	size_t len = sig->sub_len[k], hl, ml = 0;
	struct scan_sig_ndb off = { 0 };
	int nocase = 0, wide = 0, ascii = 0, full = 0, rc;

	memset(sub, 0, sizeof *sub);
	if (outsz > 0)
		out[0] = '\0';
	if (memchr(s, '/', len) != NULL)
		return sub_pcre(sig, k, s, len, counted, sub, out, outsz, why);
	if (len > 0 && (s[0] == '$' || memchr(s, '#', len) != NULL))
		FAIL(-ENOTSUP, "macro, byte-compare or fuzzy-hash subsignature");
	mods = memstr(s, len, "::");
	hl = mods ? (size_t)(mods - s) : len;
	if (mods != NULL) {
		mods += 2;
		ml = len - hl - 2;
	}
	colon = memchr(s, ':', hl);
	hex = s;
	off.off_kind = SCAN_SIG_OFF_ANY;
	if (colon != NULL) {
		rc = parse_offset(s, (size_t)(colon - s), &off, why);
		if (rc != 0)
			return rc;
		hex = colon + 1;
		hl -= (size_t)(colon - s) + 1;
	}
	for (size_t i = 0; i < ml; i++) {
		switch (mods[i]) {
		case 'i': nocase = 1; break;
		case 'w': wide = 1; break;
		case 'a': ascii = 1; break;
		case 'f': full = 1; break;
		default: FAIL(-EINVAL, "unknown subsignature modifier");
		}
	}
	if (full && off.off_kind != SCAN_SIG_OFF_ANY)
		FAIL(-ENOTSUP, "::f with an offset other than '*'");
	if (!wide) {
		rc = xlat(hex, hl, out, outsz, 0, &sub->min_len, &sub->max_len,
			  why);
		if (rc != 0)
			return rc;
	} else {
		/* wide, or "(?:ascii|wide)" with ::wa */
		struct ebuf b = { out, 0, outsz, outsz == 0 };
		uint32_t amin = UINT32_MAX, amax = 0, wmin, wmax;

		if (ascii) {
			eputs(&b, "(?:");
			if (b.full)
				FAIL(-ENOSPC, "expression too long");
			rc = xlat(hex, hl, out + b.n, outsz - b.n, 0, &amin,
				  &amax, why);
			if (rc != 0)
				return rc;
			b.n += strlen(out + b.n);
			eputs(&b, "|");
			if (b.full)
				FAIL(-ENOSPC, "expression too long");
		}
		rc = xlat(hex, hl, out + b.n, outsz - b.n, 1, &wmin, &wmax, why);
		if (rc != 0)
			return rc;
		b.n += strlen(out + b.n);
		if (ascii)
			eputs(&b, ")");
		if (b.full)
			FAIL(-ENOSPC, "expression too long");
		sub->min_len = amin < wmin ? amin : wmin;
		sub->max_len = amax > wmax ? amax : wmax;
	}
	if (full) {
		size_t bl = strlen(out);
		/* a delimiter byte or the file's start/end on each side */
		static const char pre[] = "(?:^|[^A-Za-z0-9])(?:";
		static const char post[] = ")(?:[^A-Za-z0-9]|$)";

		if (bl + sizeof pre + sizeof post > outsz)
			FAIL(-ENOSPC, "expression too long");
		memmove(out + sizeof pre - 1, out, bl);
		memcpy(out, pre, sizeof pre - 1);
		memcpy(out + sizeof pre - 1 + bl, post, sizeof post);
		sub->max_len = sub->max_len >= SCAN_SIG_UNBOUNDED - 2
				       ? SCAN_SIG_UNBOUNDED
				       : sub->max_len + 2;
	}
	sub->off_kind = off.off_kind;
	sub->off = off.off;
	sub->shift = off.shift;
	rc = body_plan(sub->off_kind, sub->off, sub->shift, sub->min_len,
		       sub->max_len, out, outsz, &sub->hs_flags, &sub->check,
		       why);
	if (rc != 0)
		return rc;
	if (nocase)
		sub->hs_flags |= HS_FLAG_CASELESS;
	if (counted && sub->off_kind == SCAN_SIG_OFF_ANY)
		sub->hs_flags &= ~(unsigned)HS_FLAG_SINGLEMATCH;
	return 0;
}

unsigned scan_sig_target_of_ftype(int ftype)
{
	switch ((enum scan_ftype)ftype) {
	case SCAN_FT_PE:
	case SCAN_FT_MSDOS: /* libclamav's MSEXE type: any "MZ" file */
		return 1;
	case SCAN_FT_OLE2: return 2;
	case SCAN_FT_HTML: return 3;
	case SCAN_FT_PNG: case SCAN_FT_JPEG: case SCAN_FT_GIF:
	case SCAN_FT_BMP: case SCAN_FT_TIFF: case SCAN_FT_WEBP:
	case SCAN_FT_ICO:
		return 5;
	case SCAN_FT_ELF: return 6;
	case SCAN_FT_TEXT: return 7;
	case SCAN_FT_MACHO: return 9;
	case SCAN_FT_PDF: return 10;
	case SCAN_FT_SWF: return 11;
	case SCAN_FT_CLASS: return 12;
	default: return 0;
	}
}
