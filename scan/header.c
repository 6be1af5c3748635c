/* scan/header.c - header block and RFC 2047 decoding; MIME parameters are
 * scan/mime_param.c (see mime.h for the contract, mime_int.h for the
 * shared helpers). */
#include "scan/mime_int.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "scan/charset.h"

void mime_limits_resolve(const struct mime_limits *in, struct mime_limits *out)
{
	struct mime_limits l = { 0 };
	if (in != NULL)
		l = *in;
	if (l.header_bytes == 0)
		l.header_bytes = MIME_DEFAULT_HEADER_BYTES;
	if (l.header_count == 0)
		l.header_count = MIME_DEFAULT_HEADER_COUNT;
	if (l.parts == 0)
		l.parts = MIME_DEFAULT_PARTS;
	if (l.depth == 0)
		l.depth = MIME_DEFAULT_DEPTH;
	if (l.depth > MIME_DEPTH_MAX)
		l.depth = MIME_DEPTH_MAX;
	*out = l;
}

int mime_ieq(const char *s, size_t n, const char *lit)
{
	size_t l = strlen(lit);
	if (l != n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (to_lower((uint8_t)s[i]) != to_lower((uint8_t)lit[i]))
			return 0;
	return 1;
}

char *mime_lower_dup(struct scan_arena *a, const char *s, size_t n)
{
	char *d = scan_arena_alloc(a, n + 1);
	if (d == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++)
		d[i] = (char)to_lower((uint8_t)s[i]);
	d[n] = '\0';
	return d;
}

int mime_has_encoded_word(const char *s, size_t n)
{
	return memmem(s, n, "=?", 2) != NULL;
}

char *mime_nul_to_fffd(struct scan_arena *a, const char *s, size_t n,
		       int *had_nul)
{
	size_t nul = 0;
	for (const char *p = s; (p = memchr(p, 0, n - (size_t)(p - s)));
	     p++)
		nul++;
	if (had_nul != NULL)
		*had_nul = nul > 0;
	if (nul == 0)
		return scan_arena_strndup(a, s, n);
	char *d = scan_arena_alloc(a, n + 2 * nul + 1);
	if (d == NULL)
		return NULL;
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\0') {
			memcpy(d + o, "\xEF\xBF\xBD", 3);
			o += 3;
		} else {
			d[o++] = s[i];
		}
	}
	d[o] = '\0';
	return d;
}

/* ---- header block ------------------------------------------------ */

/* Is the line [p, e) a field "name WSP* :"? Sets *colon. */
static int field_line(const uint8_t *p, const uint8_t *e,
		      const uint8_t **colon)
{
	const uint8_t *q = p;
	while (q < e && *q > 32 && *q < 127 && *q != ':')
		q++;
	if (q == p)
		return 0;
	while (q < e && is_wsp(*q))
		q++;
	if (q < e && *q == ':') {
		*colon = q;
		return 1;
	}
	return 0;
}

struct hscan {
	size_t block_len; /* header_raw_len */
	size_t body_off;
	unsigned nfields; /* fields seen, stored or not */
	unsigned nocolon, badname, orphan, wsonly;
	int truncated, from_line;
};

enum { ST_NONE, ST_FIELD, ST_BAD };

/* One pass over the header block. With fill != NULL the first maxfill
 * fields are stored there. Linear in the block; never reads past
 * header_bytes + 1 bytes looking for a line end. */
static void hdr_scan(const uint8_t *s, size_t len, size_t limit,
		     int allow_from, struct mime_header *fill,
		     unsigned maxfill, struct hscan *r)
{
	memset(r, 0, sizeof(*r));
	size_t pos = 0;
	struct mime_header *cur = NULL;
	unsigned nstored = 0;
	int state = ST_NONE, first = 1;

	for (;;) {
		if (pos >= len) { /* end without a blank line */
			r->block_len = len;
			r->body_off = len;
			return;
		}
		/* pos <= limit holds here; look 2 bytes further so that the
		 * blank line ending a block of exactly `limit` bytes is seen */
		size_t room = limit - pos;
		size_t scan = len - pos < room + 2 ? len - pos : room + 2;
		const uint8_t *nl = memchr(s + pos, '\n', scan);
		size_t lend, next;
		if (nl != NULL) {
			lend = (size_t)(nl - s);
			next = lend + 1;
		} else if (len - pos <= room) {
			lend = len;
			next = len;
		} else { /* this line would cross header_bytes */
			r->truncated = 1;
			r->block_len = pos;
			r->body_off = pos;
			return;
		}
		if (lend > pos && s[lend - 1] == '\r')
			lend--;

		if (lend == pos) { /* blank line: end of the block */
			r->block_len = pos;
			r->body_off = next;
			return;
		}
		if (next > limit) { /* this line would cross header_bytes */
			r->truncated = 1;
			r->block_len = pos;
			r->body_off = pos;
			return;
		}
		const uint8_t *colon;
		if (is_wsp(s[pos])) {
			if (first) { /* body starting with indented text */
				r->block_len = 0;
				r->body_off = 0;
				return;
			}
			size_t k = pos;
			while (k < lend && is_wsp(s[k]))
				k++;
			if (k == lend)
				r->wsonly++;
			if (state == ST_FIELD && cur != NULL)
				cur->value_len =
					(size_t)(s + lend -
						 (const uint8_t *)cur->value);
			else if (state == ST_NONE)
				r->orphan++;
		} else if (field_line(s + pos, s + lend, &colon)) {
			r->nfields++;
			state = ST_FIELD;
			cur = NULL;
			if (fill != NULL && nstored < maxfill) {
				cur = &fill[nstored++];
				size_t nl_ = 0;
				while (s[pos + nl_] > 32 && s[pos + nl_] < 127 &&
				       s[pos + nl_] != ':')
					nl_++;
				cur->name = (const char *)s + pos;
				cur->name_len = nl_;
				cur->value = (const char *)colon + 1;
				cur->value_len =
					(size_t)(s + lend - (colon + 1));
			}
		} else {
			if (first) {
				if (!(allow_from && lend - pos >= 5 &&
				      memcmp(s + pos, "From ", 5) == 0)) {
					r->block_len = 0; /* no header block */
					r->body_off = 0;
					return;
				}
				r->from_line = 1;
				state = ST_NONE;
			} else {
				if (memchr(s + pos, ':', lend - pos) != NULL)
					r->badname++;
				else
					r->nocolon++;
				state = ST_BAD;
			}
			cur = NULL;
		}
		first = 0;
		pos = next;
	}
}

int mime_headers_parse(struct mime_part *p, const uint8_t *s, size_t len,
		       const struct mime_limits *lim, int allow_from,
		       struct scan_arena *a, struct scan_verdict *v)
{
	struct hscan r;
	hdr_scan(s, len, lim->header_bytes, allow_from, NULL, 0, &r);

	unsigned nstore = r.nfields < lim->header_count ? r.nfields
							: lim->header_count;
	p->headers = NULL;
	p->nheaders = 0;
	p->header_raw = s;
	p->header_raw_len = r.block_len;
	p->body = s + r.body_off;
	p->body_len = len - r.body_off;
	if (r.nfields == 0)
		p->flags |= MIME_F_NO_HEADERS;
	if (r.truncated)
		p->flags |= MIME_F_TRUNCATED;
	if (nstore > 0) {
		struct hscan r2;
		p->headers = scan_arena_alloc(a, nstore * sizeof(*p->headers));
		if (p->headers == NULL)
			return -ENOMEM;
		hdr_scan(s, len, lim->header_bytes, allow_from, p->headers,
			 nstore, &r2);
		p->nheaders = nstore;
	}

	int id = p->id;
	if (r.truncated)
		scan_verdict_add(v, SCAN_F_LIMIT, id, "header-bytes",
				 "header block of part %d exceeds %zu bytes; "
				 "the rest is scanned as body", id,
				 lim->header_bytes);
	if (r.nfields > lim->header_count)
		scan_verdict_add(v, SCAN_F_LIMIT, id, "header-count",
				 "part %d has %u header fields, limit %u", id,
				 r.nfields, lim->header_count);
	if (r.nocolon)
		scan_verdict_add(v, SCAN_F_MALFORMED, id,
				 "header-without-colon",
				 "%u header line(s) without a colon skipped",
				 r.nocolon);
	if (r.badname)
		scan_verdict_add(v, SCAN_F_MALFORMED, id, "header-bad-name",
				 "%u header line(s) with an invalid field "
				 "name skipped", r.badname);
	if (r.orphan)
		scan_verdict_add(v, SCAN_F_MALFORMED, id,
				 "orphan-continuation",
				 "%u continuation line(s) before any field",
				 r.orphan);
	if (r.wsonly)
		scan_verdict_add(v, SCAN_F_MALFORMED, id,
				 "whitespace-only-line",
				 "%u whitespace-only line(s) read as folding, "
				 "not as the end of the header block",
				 r.wsonly);
	if (r.from_line)
		scan_verdict_add(v, SCAN_F_MALFORMED, id, "mbox-from-line",
				 "leading mbox \"From \" line skipped");
	if (r.block_len > 0 && memchr(s, 0, r.block_len) != NULL)
		scan_verdict_add(v, SCAN_F_MALFORMED, id, "nul-in-header",
				 "NUL byte in the header block of part %d",
				 id);
	return 0;
}

const struct mime_header *mime_header_next(const struct mime_part *p,
					   const char *name,
					   const struct mime_header *prev)
{
	unsigned i = prev != NULL ? (unsigned)(prev - p->headers) + 1 : 0;
	for (; i < p->nheaders; i++)
		if (mime_ieq(p->headers[i].name, p->headers[i].name_len, name))
			return &p->headers[i];
	return NULL;
}

const struct mime_header *mime_header_get(const struct mime_part *p,
					  const char *name)
{
	return mime_header_next(p, name, NULL);
}

/* ---- output buffer in the arena ---------------------------------- */

struct obuf {
	struct scan_arena *a;
	uint8_t *p;
	size_t len, cap;
};

static int ob_reserve(struct obuf *b, size_t n)
{
	if (b->cap - b->len >= n)
		return 0;
	size_t nc = b->cap ? b->cap : 64;
	while (nc - b->len < n) {
		if (nc > SIZE_MAX / 4)
			return -ENOMEM;
		nc *= 2;
	}
	uint8_t *np = scan_arena_alloc(b->a, nc + 1);
	if (np == NULL)
		return -ENOMEM;
	if (b->len > 0)
		memcpy(np, b->p, b->len);
	b->p = np;
	b->cap = nc;
	return 0;
}

/* Append text, NUL bytes as U+FFFD. */
static int ob_text(struct obuf *b, const uint8_t *s, size_t n)
{
	if (ob_reserve(b, n) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if (s[i] != 0) {
			b->p[b->len++] = s[i];
			continue;
		}
		if (ob_reserve(b, 3 + (n - i - 1)) < 0)
			return -ENOMEM;
		memcpy(b->p + b->len, "\xEF\xBF\xBD", 3);
		b->len += 3;
	}
	return 0;
}

static char *ob_finish(struct obuf *b)
{
	if (ob_reserve(b, 1) < 0)
		return NULL;
	b->p[b->len] = '\0';
	return (char *)b->p;
}

/* ---- RFC 2047 ---------------------------------------------------- */

static int hexval(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = to_lower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static int b64val(uint8_t c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Lenient base64: skips invalid bytes, stops at '='. out: room for n. */
static size_t b64_word(const uint8_t *s, size_t n, uint8_t *out)
{
	uint32_t acc = 0;
	int bits = 0;
	size_t o = 0;
	for (size_t i = 0; i < n && s[i] != '='; i++) {
		int v = b64val(s[i]);
		if (v < 0)
			continue;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (uint8_t)(acc >> bits);
		}
	}
	return o;
}

size_t mime_hex_unescape(const uint8_t *s, size_t n, uint8_t *out,
			 uint8_t esc, int underscore_is_space)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		if (underscore_is_space && s[i] == '_') {
			out[o++] = ' ';
		} else if (s[i] == esc && i + 2 < n && hexval(s[i + 1]) >= 0 &&
			   hexval(s[i + 2]) >= 0) {
			out[o++] = (uint8_t)(hexval(s[i + 1]) << 4 |
					     hexval(s[i + 2]));
			i += 2;
		} else {
			out[o++] = s[i];
		}
	}
	return o;
}

static size_t q_word(const uint8_t *s, size_t n, uint8_t *out)
{
	return mime_hex_unescape(s, n, out, '=', 1);
}

struct eword {
	const uint8_t *cs; /* charset, without a 2231 "*lang" */
	size_t cs_len;
	uint8_t enc;       /* 'b' or 'q' */
	const uint8_t *text;
	size_t text_len;
	size_t end;        /* offset just past "?=" */
};

/* Parse an encoded word at u[k] ("=?"). Returns 1 on success, 0 if it is
 * not one, -1 if no encoded word can end anywhere after k. */
static int parse_eword(const uint8_t *u, size_t n, size_t k, struct eword *w)
{
	size_t j = k + 2, cs = j;
	while (j < n && j - cs < CHARSET_NAME_MAX - 1 && u[j] != '?' &&
	       !is_fws(u[j]))
		j++;
	if (j >= n || u[j] != '?' || j == cs)
		return 0;
	if (j + 2 >= n || u[j + 2] != '?')
		return 0;
	uint8_t enc = to_lower(u[j + 1]);
	if (enc != 'b' && enc != 'q')
		return 0;
	size_t t = j + 3;
	const uint8_t *e = t < n ? memchr(u + t, '?', n - t) : NULL;
	if (e == NULL)
		return -1;
	size_t ei = (size_t)(e - u);
	if (ei + 1 >= n || u[ei + 1] != '=')
		return 0;
	const uint8_t *star = memchr(u + cs, '*', j - cs);
	w->cs = u + cs;
	w->cs_len = star != NULL ? (size_t)(star - (u + cs)) : j - cs;
	w->enc = enc;
	w->text = u + t;
	w->text_len = ei - t;
	w->end = ei + 2;
	return w->cs_len > 0;
}

/* Convert run bytes in charset cs[0..cs_len) and append. */
static int flush_run(struct obuf *ob, const uint8_t *cs, size_t cs_len,
		     const uint8_t *bytes, size_t n)
{
	char name[CHARSET_NAME_MAX];
	uint8_t *conv;
	size_t clen;
	memcpy(name, cs, cs_len);
	name[cs_len] = '\0';
	int rc = scan_charset_to_utf8(name, bytes, n, ob->a, &conv, &clen);
	if (rc == -EINVAL) /* unknown charset: keep bytes, valid UTF-8 */
		rc = scan_charset_to_utf8(NULL, bytes, n, ob->a, &conv, &clen);
	if (rc < 0)
		return -ENOMEM;
	return ob_text(ob, conv, clen);
}

static int only_wsp(const uint8_t *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!is_wsp(s[i]))
			return 0;
	return 1;
}

char *mime_header_decode(const char *value, size_t len, struct scan_arena *a)
{
	/* Unfold: drop CR and LF, trim the ends. */
	uint8_t *u = scan_arena_alloc(a, len + 1);
	if (u == NULL)
		return NULL;
	size_t n = 0;
	for (size_t i = 0; i < len; i++)
		if (value[i] != '\r' && value[i] != '\n')
			u[n++] = (uint8_t)value[i];
	size_t b = 0;
	while (b < n && is_wsp(u[b]))
		b++;
	while (n > b && is_wsp(u[n - 1]))
		n--;
	u += b;
	n -= b;

	struct obuf ob = { .a = a };
	uint8_t *run = NULL; /* decoded bytes of adjacent same-charset words */
	size_t rlen = 0;
	const uint8_t *rcs = NULL;
	size_t rcs_len = 0;
	size_t i = 0, plain = 0;
	int after_word = 0;

	if (mime_has_encoded_word((const char *)u, n)) {
		run = scan_arena_alloc(a, n + 1);
		if (run == NULL)
			return NULL;
	}
	while (run != NULL && i + 1 < n) {
		const uint8_t *k = memchr(u + i, '=', n - i);
		if (k == NULL)
			break;
		if (k + 1 >= u + n || k[1] != '?') {
			i = (size_t)(k - u) + 1;
			continue;
		}
		struct eword w;
		int pr = parse_eword(u, n, (size_t)(k - u), &w);
		if (pr < 0)
			break;
		if (pr == 0) {
			i = (size_t)(k - u) + 1;
			continue;
		}
		size_t ks = (size_t)(k - u);
		int same = rcs != NULL && after_word &&
			   only_wsp(u + plain, ks - plain) &&
			   w.cs_len == rcs_len &&
			   strncasecmp((const char *)w.cs, (const char *)rcs,
					rcs_len) == 0;
		if (!same) {
			if (rcs != NULL &&
			    flush_run(&ob, rcs, rcs_len, run, rlen) < 0)
				return NULL;
			rcs = NULL;
			rlen = 0;
			if (!(after_word && only_wsp(u + plain, ks - plain)) &&
			    ob_text(&ob, u + plain, ks - plain) < 0)
				return NULL;
			rcs = w.cs;
			rcs_len = w.cs_len;
		}
		rlen += w.enc == 'b' ? b64_word(w.text, w.text_len, run + rlen)
				     : q_word(w.text, w.text_len, run + rlen);
		after_word = 1;
		plain = i = w.end;
	}
	if (rcs != NULL && flush_run(&ob, rcs, rcs_len, run, rlen) < 0)
		return NULL;
	if (ob_text(&ob, u + plain, n - plain) < 0)
		return NULL;
	return ob_finish(&ob);
}
