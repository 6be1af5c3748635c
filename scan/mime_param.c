/* scan/mime_param.c - Content-Type / Content-Disposition parameters with
 * RFC 2231 continuations, charsets and %-decoding (see mime.h for the
 * contract, mime_int.h for the shared helpers). */
#include "scan/mime_int.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "scan/charset.h"

#define SECTION_MAX 9999

struct praw {
	char *name;      /* lower-cased base name */
	uint8_t *val;    /* unquoted value bytes (not yet %-decoded) */
	size_t vlen;
	int sect;        /* RFC 2231 section, -1 if none */
	int ext;         /* value is %-encoded (name* or name*N*) */
	int unterminated;
	struct praw *next;
};

/* Skip whitespace, line breaks and (nested) comments. */
static size_t skip_cfws(const uint8_t *s, size_t n, size_t i)
{
	while (i < n) {
		if (is_fws(s[i])) {
			i++;
		} else if (s[i] == '(') {
			int depth = 0;
			for (; i < n; i++) {
				if (s[i] == '\\') {
					i++;
				} else if (s[i] == '(') {
					depth++;
				} else if (s[i] == ')' && --depth == 0) {
					i++;
					break;
				}
			}
		} else {
			break;
		}
	}
	return i < n ? i : n;
}

/* Index of the next ';' outside quoted strings, or n. */
static size_t next_semi(const uint8_t *s, size_t n, size_t i)
{
	int q = 0;
	for (; i < n; i++) {
		if (q && s[i] == '\\')
			i++;
		else if (s[i] == '"')
			q = !q;
		else if (!q && s[i] == ';')
			return i;
	}
	return n;
}

static size_t pct_decode(const uint8_t *s, size_t n, uint8_t *out)
{
	return mime_hex_unescape(s, n, out, '%', 0);
}

/* Stable merge sort of a section list by section number. */
static struct praw *sort_sections(struct praw *h)
{
	if (h == NULL || h->next == NULL)
		return h;
	struct praw *slow = h, *fast = h->next;
	while (fast != NULL && fast->next != NULL) {
		slow = slow->next;
		fast = fast->next->next;
	}
	struct praw *b = slow->next;
	slow->next = NULL;
	struct praw *x = sort_sections(h), *y = sort_sections(b);
	struct praw head, *t = &head;
	while (x != NULL && y != NULL) {
		if (y->sect < x->sect) {
			t->next = y;
			y = y->next;
		} else {
			t->next = x;
			x = x->next;
		}
		t = t->next;
	}
	t->next = x != NULL ? x : y;
	return head.next;
}

/* Join (sorted) sections into one value; decode 2231 encoding. */
static int finish_ext(struct scan_arena *a, struct praw *list,
		      struct mime_param *out)
{
	size_t total = 0;
	for (struct praw *r = list; r != NULL; r = r->next)
		total += r->vlen;
	uint8_t *buf = scan_arena_alloc(a, total + 1);
	if (buf == NULL)
		return -ENOMEM;
	size_t o = 0;
	int expect = 0, prev = -1;
	const uint8_t *cs = NULL;
	size_t cs_len = 0;
	for (struct praw *r = list; r != NULL; r = r->next) {
		int s = r->sect < 0 ? 0 : r->sect;
		if (s == prev) { /* repeated section: keep the first */
			out->flags |= MIME_PARAM_F_GAP;
			continue;
		}
		if (s != expect)
			out->flags |= MIME_PARAM_F_GAP;
		prev = s;
		expect = s + 1;
		if (r->unterminated)
			out->flags |= MIME_PARAM_F_UNTERMINATED;
		const uint8_t *v = r->val;
		size_t vl = r->vlen;
		if (r->ext) {
			out->flags |= MIME_PARAM_F_EXT;
			if (s == 0) {
				const uint8_t *q1 = memchr(v, '\'', vl), *q2;
				q2 = q1 ? memchr(q1 + 1, '\'',
						 vl - (size_t)(q1 + 1 - v))
					: NULL;
				if (q2 != NULL) {
					cs = v;
					cs_len = (size_t)(q1 - v);
					vl -= (size_t)(q2 + 1 - v);
					v = q2 + 1;
				}
			}
			o += pct_decode(v, vl, buf + o);
		} else {
			memcpy(buf + o, v, vl);
			o += vl;
		}
	}
	buf[o] = '\0';
	out->value = (const char *)buf;
	out->value_len = o;
	if (cs_len == 0)
		return 0;
	char name[CHARSET_NAME_MAX];
	if (cs_len >= sizeof(name)) {
		out->flags |= MIME_PARAM_F_BAD_CHARSET;
		return 0;
	}
	memcpy(name, cs, cs_len);
	name[cs_len] = '\0';
	uint8_t *conv;
	size_t clen;
	int rc = scan_charset_to_utf8(name, buf, o, a, &conv, &clen);
	if (rc == -ENOMEM)
		return -ENOMEM;
	if (rc == -EINVAL) {
		out->flags |= MIME_PARAM_F_BAD_CHARSET;
		return 0;
	}
	out->value = (const char *)conv;
	out->value_len = clen;
	return 0;
}

static uint32_t name_hash(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

/* Read one `name = value` starting at s[i] (just after ';'). Returns the
 * index of the next ';' (or n); *r->name NULL when nothing was read. */
static size_t read_param(struct scan_arena *a, const uint8_t *s, size_t n,
			 size_t i, struct praw *r, unsigned *malformed,
			 int *nomem)
{
	memset(r, 0, sizeof(*r));
	r->sect = -1;
	i = skip_cfws(s, n, i);
	size_t ns = i;
	while (i < n && !is_fws(s[i]) && s[i] != '=' && s[i] != ';' &&
	       s[i] != '(' && s[i] != '"')
		i++;
	size_t ne = i;
	if (ne == ns) {
		if (i < n && s[i] != ';')
			(*malformed)++;
		return next_semi(s, n, i);
	}
	i = skip_cfws(s, n, i);
	if (i >= n || s[i] != '=') {
		(*malformed)++;
		return next_semi(s, n, i);
	}
	i = skip_cfws(s, n, i + 1);

	uint8_t *val = scan_arena_alloc(a, n - i + 1);
	if (val == NULL) {
		*nomem = 1;
		return n;
	}
	size_t vl = 0;
	if (i < n && s[i] == '"') {
		i++;
		int closed = 0;
		for (; i < n; i++) {
			if (s[i] == '\\' && i + 1 < n) {
				val[vl++] = s[++i];
			} else if (s[i] == '"') {
				closed = 1;
				i++;
				break;
			} else if (s[i] != '\r' && s[i] != '\n') {
				val[vl++] = s[i];
			}
		}
		r->unterminated = !closed;
		size_t j = skip_cfws(s, n, i);
		if (j < n && s[j] != ';')
			(*malformed)++;
		i = next_semi(s, n, j);
	} else {
		for (; i < n && s[i] != ';'; i++)
			if (s[i] != '\r' && s[i] != '\n')
				val[vl++] = s[i];
		while (vl > 0 && is_wsp(val[vl - 1]))
			vl--;
	}
	val[vl] = '\0';
	scan_arena_shrink_last(a, val, vl + 1);

	/* name, name*, name*N, name*N* */
	const uint8_t *star = memchr(s + ns, '*', ne - ns);
	size_t base_len = ne - ns;
	if (star != NULL) {
		size_t si = (size_t)(star - s) + 1, dig = 0;
		int sect = 0;
		while (si + dig < ne && s[si + dig] >= '0' &&
		       s[si + dig] <= '9' && dig < 5) {
			sect = sect * 10 + (s[si + dig] - '0');
			dig++;
		}
		size_t rest = ne - si - dig;
		if (si == ne) { /* name* */
			base_len = (size_t)(star - (s + ns));
			r->ext = 1;
		} else if (dig > 0 && sect <= SECTION_MAX &&
			   (rest == 0 || (rest == 1 && s[ne - 1] == '*'))) {
			base_len = (size_t)(star - (s + ns));
			r->sect = sect;
			r->ext = rest == 1;
		}
	}
	r->name = mime_lower_dup(a, (const char *)s + ns, base_len);
	if (r->name == NULL) {
		*nomem = 1;
		return n;
	}
	r->val = val;
	r->vlen = vl;
	return i;
}

int mime_params_parse(const char *raw, size_t len, struct scan_arena *a,
		      struct mime_params *out)
{
	const uint8_t *s = (const uint8_t *)raw;
	memset(out, 0, sizeof(*out));
	out->value = "";

	size_t maxp = 1;
	for (const uint8_t *p = s; (p = memchr(p, ';', len - (size_t)(p - s)));
	     p++)
		maxp++;

	/* Leading token: everything before the first ';', minus whitespace
	 * and comments, lower-cased. */
	size_t semi = next_semi(s, len, 0);
	char *tok = scan_arena_alloc(a, semi + 1);
	if (tok == NULL)
		return -ENOMEM;
	size_t tl = 0;
	for (size_t i = skip_cfws(s, semi, 0); i < semi;
	     i = skip_cfws(s, semi, i)) {
		while (i < semi && !is_fws(s[i]) && s[i] != '(') {
			if (s[i] != '"')
				tok[tl++] = (char)to_lower(s[i]);
			i++;
		}
	}
	tok[tl] = '\0';
	out->value = tok;

	struct praw *rp = scan_arena_alloc(a, maxp * sizeof(*rp));
	struct mime_param *pp = scan_arena_zalloc(a, maxp * sizeof(*pp));
	struct praw **ghead = scan_arena_zalloc(a, maxp * sizeof(*ghead));
	if (rp == NULL || pp == NULL || ghead == NULL)
		goto nomem;

	unsigned nraw = 0, nsect = 0;
	int nomem = 0;
	for (size_t i = semi; i < len && s[i] == ';';) {
		struct praw *r = &rp[nraw];
		i = read_param(a, s, len, i + 1, r, &out->malformed, &nomem);
		if (nomem)
			goto nomem;
		if (r->name != NULL) {
			nraw++;
			nsect += r->sect >= 0;
		}
	}

	/* Group sections by base name through an open-addressing table. */
	size_t hsize = 16;
	while (hsize < 2 * (size_t)nsect)
		hsize *= 2;
	unsigned *ht = nsect ? scan_arena_zalloc(a, hsize * sizeof(*ht)) : NULL;
	if (nsect && ht == NULL)
		goto nomem;
	unsigned np = 0;
	for (unsigned k = 0; k < nraw; k++) {
		struct praw *r = &rp[k];
		if (r->sect < 0) {
			struct mime_param *m = &pp[np++];
			m->name = r->name;
			if (r->ext) {
				r->next = NULL;
				if (finish_ext(a, r, m) < 0)
					goto nomem;
			} else {
				m->value = (const char *)r->val;
				m->value_len = r->vlen;
				if (r->unterminated)
					m->flags |= MIME_PARAM_F_UNTERMINATED;
			}
			continue;
		}
		size_t h = name_hash(r->name) & (hsize - 1);
		while (ht[h] != 0 && strcmp(pp[ht[h] - 1].name, r->name) != 0)
			h = (h + 1) & (hsize - 1);
		unsigned slot;
		if (ht[h] == 0) {
			slot = np++;
			ht[h] = slot + 1;
			pp[slot].name = r->name;
			pp[slot].flags = MIME_PARAM_F_EXT;
		} else {
			slot = ht[h] - 1;
		}
		r->next = ghead[slot]; /* reversed; the sort restores order */
		ghead[slot] = r;
	}
	for (unsigned k = 0; k < np; k++) {
		if (ghead[k] == NULL)
			continue;
		/* Reverse to appearance order so the sort keeps the first of
		 * repeated sections. */
		struct praw *rev = NULL, *r = ghead[k];
		while (r != NULL) {
			struct praw *nx = r->next;
			r->next = rev;
			rev = r;
			r = nx;
		}
		if (finish_ext(a, sort_sections(rev), &pp[k]) < 0)
			goto nomem;
	}
	out->params = pp;
	out->nparams = np;
	return 0;
nomem:
	memset(out, 0, sizeof(*out));
	out->value = "";
	return -ENOMEM;
}

const struct mime_param *mime_params_find(const struct mime_params *ps,
					  const char *name,
					  const struct mime_param *prev)
{
	unsigned i = prev != NULL ? (unsigned)(prev - ps->params) + 1 : 0;
	for (; i < ps->nparams; i++)
		if (strcmp(ps->params[i].name, name) == 0)
			return &ps->params[i];
	return NULL;
}
