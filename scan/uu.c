/* scan/uu.c - uuencode (and begin-base64) extractor (see decode.h).
 *
 * A block is a "begin <mode> <name>" line (mode: 1-6 octal digits), data
 * lines, and an "end" line. A data line is a length character L (' '..'`',
 * '`' and ' ' meaning 0) followed by characters in ' '..'`'; it carries L
 * bytes in ceil(L/3)*4 characters. Encoders that strip trailing spaces
 * leave lines short: missing characters count as ' ' (zero). A line with
 * more than two characters beyond what L needs, or any character outside
 * ' '..'`', is not a data line: it is skipped and its bytes counted as
 * garbage. Blank lines are skipped. After a zero-length line no more data
 * is taken; only "end" is looked for.
 *
 * A block ends at "end", at the next begin line or at the end of the text
 * (then st->truncated is set). "begin-base64 <mode> <name>" blocks end at
 * a "====" line and are decoded with scan_b64_decode().
 *
 * Each block is walked twice: once to count its bytes (so the arena gives
 * exactly what the file needs, never more than 63 bytes per line), once to
 * decode.
 */
#include "scan/deadline.h"
#include "scan/decode.h"

#include <errno.h>
#include <string.h>

struct uu_line {
	const uint8_t *s;    /* line start */
	size_t len;          /* without CR LF */
	const uint8_t *next; /* start of the next line (or end) */
};

static int uu_next_line(const uint8_t *p, const uint8_t *end,
			struct uu_line *l)
{
	if (p >= end)
		return 0;
	const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
	const uint8_t *e = nl ? nl : end;
	l->s = p;
	l->next = nl ? nl + 1 : end;
	if (e > p && e[-1] == '\r')
		e--;
	l->len = (size_t)(e - p);
	return 1;
}

static int uu_is_ws(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* Line equals word, give or take trailing whitespace. */
static int uu_line_is(const struct uu_line *l, const char *word)
{
	size_t n = strlen(word), len = l->len;
	while (len > n && uu_is_ws(l->s[len - 1]))
		len--;
	return len == n && memcmp(l->s, word, n) == 0;
}

/* "begin[-base64] <mode> <name>": sets *b64, name and its length. */
static int uu_begin(const struct uu_line *l, int *b64, const uint8_t **name,
		    size_t *namelen)
{
	const uint8_t *s = l->s, *e = l->s + l->len;
	if (l->len >= 6 && memcmp(s, "begin ", 6) == 0) {
		*b64 = 0;
		s += 6;
	} else if (l->len >= 13 && memcmp(s, "begin-base64 ", 13) == 0) {
		*b64 = 1;
		s += 13;
	} else {
		return 0;
	}
	while (s < e && *s == ' ')
		s++;
	int digits = 0;
	while (s < e && *s >= '0' && *s <= '7' && digits <= 6) {
		s++;
		digits++;
	}
	if (digits == 0 || digits > 6 || (s < e && *s != ' '))
		return 0;
	while (s < e && *s == ' ')
		s++;
	while (e > s && uu_is_ws(e[-1]))
		e--;
	*name = s;
	*namelen = (size_t)(e - s);
	return 1;
}

/* Bytes a data line carries, or -1 when it is not a data line. */
static int uu_data_len(const struct uu_line *l)
{
	if (l->len == 0 || l->s[0] < 0x20 || l->s[0] > 0x60)
		return -1;
	int n = (l->s[0] - 0x20) & 0x3f;
	size_t need = (size_t)(n + 2) / 3 * 4;
	if (l->len - 1 > need + 2)
		return -1;
	for (size_t i = 1; i < l->len; i++)
		if (l->s[i] < 0x20 || l->s[i] > 0x60)
			return -1;
	return n;
}

/* Decode one data line of n bytes into out (missing chars are zero). */
static void uu_decode_line(const struct uu_line *l, int n, uint8_t *out)
{
	const uint8_t *s = l->s + 1;
	size_t avail = l->len - 1, k = 0;
	for (int i = 0; i < n; i += 3, k += 4) {
		uint32_t v = 0;
		for (size_t j = 0; j < 4; j++)
			v = v << 6 | (k + j < avail ? (uint32_t)(s[k + j] - 0x20) & 63 : 0);
		out[i] = (uint8_t)(v >> 16);
		if (i + 1 < n)
			out[i + 1] = (uint8_t)(v >> 8);
		if (i + 2 < n)
			out[i + 2] = (uint8_t)v;
	}
}

/* Walk the uuencoded lines from p: count (out == NULL) or decode. Stops
 * after "end" (returns 1), before a begin line or at the end (returns 0).
 * *next gets where scanning continues. */
static int uu_walk(const uint8_t *p, const uint8_t *end, uint8_t *out,
		   size_t *len, size_t *garbage, const uint8_t **next)
{
	struct uu_line l;
	int done = 0, b64;
	const uint8_t *nm;
	size_t nl, total = 0;

	while (uu_next_line(p, end, &l)) {
		if (uu_line_is(&l, "end")) {
			*next = l.next;
			*len = total;
			return 1;
		}
		if (uu_begin(&l, &b64, &nm, &nl))
			break;
		p = l.next;
		if (l.len == 0)
			continue;
		int n = done ? -1 : uu_data_len(&l);
		if (n < 0) {
			*garbage += l.len;
			continue;
		}
		if (n == 0) {
			done = 1;
			continue;
		}
		if (out != NULL)
			uu_decode_line(&l, n, out + total);
		total += (size_t)n;
	}
	*next = p;
	*len = total;
	return 0;
}

/* Extent of a begin-base64 body: up to a "====" line. */
static int uu_b64_extent(const uint8_t *p, const uint8_t *end,
			 const uint8_t **dend, const uint8_t **next)
{
	struct uu_line l;
	int b64;
	const uint8_t *nm;
	size_t nl;
	while (uu_next_line(p, end, &l)) {
		if (uu_line_is(&l, "====")) {
			*dend = l.s;
			*next = l.next;
			return 1;
		}
		if (uu_begin(&l, &b64, &nm, &nl))
			break;
		p = l.next;
	}
	*dend = p;
	*next = p;
	return 0;
}

struct uu_ctx {
	struct scan_arena *a;
	scan_extract_fn fn;
	void *ctx;
	struct scan_decode_stats st;
	int files;
};

/* Decode the block whose data starts at p; returns 0, 1 to stop (callback
 * said so) or -ENOMEM. *next: where to go on. */
static int uu_block(struct uu_ctx *c, const uint8_t *p, const uint8_t *end,
		    int b64, const uint8_t *name, size_t namelen,
		    const uint8_t **next)
{
	uint8_t *buf;
	size_t len;
	int ended;

	if (b64) {
		const uint8_t *dend;
		struct scan_decode_stats bs;
		ended = uu_b64_extent(p, end, &dend, next);
		size_t n = (size_t)(dend - p);
		buf = scan_arena_alloc(c->a, scan_b64_decoded_max(n));
		if (buf == NULL)
			return -ENOMEM;
		len = scan_b64_decode(p, n, buf, &bs);
		scan_arena_shrink_last(c->a, buf, len);
		c->st.garbage += bs.garbage;
		c->st.truncated |= bs.truncated;
		c->st.bad_padding |= bs.bad_padding;
	} else {
		size_t g = 0;
		ended = uu_walk(p, end, NULL, &len, &g, next);
		c->st.garbage += g;
		buf = scan_arena_alloc(c->a, len);
		if (buf == NULL)
			return -ENOMEM;
		uu_walk(p, end, buf, &len, &g, next);
	}
	if (!ended)
		c->st.truncated = 1;
	char *nm = scan_arena_strndup(c->a, (const char *)name, namelen);
	if (nm == NULL)
		return -ENOMEM;
	c->files++;
	return c->fn(c->ctx, nm, buf, len) != 0;
}

/* Extract every block from p; headless: decode from p even without a
 * begin line (x-uuencode bodies). */
static int uu_run(const uint8_t *text, size_t n, struct scan_arena *a,
		  scan_extract_fn fn, void *ctx, struct scan_decode_stats *st,
		  int headless)
{
	struct uu_ctx c = { .a = a, .fn = fn, .ctx = ctx };
	const uint8_t *p = text, *end = text + n;
	struct uu_line l;
	int rc = 0, found = 0;
	size_t check = SCAN_DEADLINE_STRIDE; /* offset of the next check */

	while (rc == 0 && uu_next_line(p, end, &l)) {
		if ((size_t)(p - text) >= check) {
			if (scan_deadline_check())
				break; /* the pipeline drops the result */
			check = (size_t)(p - text) + SCAN_DEADLINE_STRIDE;
		}
		int b64;
		const uint8_t *name, *next;
		size_t namelen;
		if (!uu_begin(&l, &b64, &name, &namelen)) {
			p = l.next;
			continue;
		}
		found = 1;
		rc = uu_block(&c, l.next, end, b64, name, namelen, &next);
		p = next;
	}
	if (rc == 0 && headless && !found) {
		size_t len, g = 0;
		const uint8_t *next;
		uu_walk(text, end, NULL, &len, &g, &next);
		if (len > 0)
			rc = uu_block(&c, text, end, 0, (const uint8_t *)"", 0,
				      &next);
	}
	if (st != NULL)
		*st = c.st;
	return rc < 0 ? rc : c.files;
}

int scan_uu_extract(const uint8_t *text, size_t n, struct scan_arena *a,
		    scan_extract_fn fn, void *ctx, struct scan_decode_stats *st)
{
	return uu_run(text, n, a, fn, ctx, st, 0);
}

int scan_uu_decode_body(const uint8_t *in, size_t n, struct scan_arena *a,
			scan_extract_fn fn, void *ctx,
			struct scan_decode_stats *st)
{
	return uu_run(in, n, a, fn, ctx, st, 1);
}
