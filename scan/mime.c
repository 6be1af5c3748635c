/* scan/mime.c - the MIME tree of one message (see mime.h). */
#include "scan/mime_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

struct mctx {
	struct mime_limits lim;
	const uint8_t *msg_end;
	struct scan_arena *a;
	struct scan_verdict *v;
	struct mime_part **parts; /* by id, grows by doubling */
	unsigned nparts, cap;
	int stopped;  /* part limit reached: unwind */
	int nomem;
	int depth_reported;
};

/* One delimiter line: "--boundary" ["--"] WSP* EOL. */
struct delim {
	const uint8_t *start; /* first '-' */
	const uint8_t *after; /* just past the line end */
	int close;
};

const char *mime_cte_name(enum mime_cte cte)
{
	switch (cte) {
	case MIME_CTE_NONE: return "none";
	case MIME_CTE_7BIT: return "7bit";
	case MIME_CTE_8BIT: return "8bit";
	case MIME_CTE_BINARY: return "binary";
	case MIME_CTE_QP: return "quoted-printable";
	case MIME_CTE_BASE64: return "base64";
	case MIME_CTE_UUENCODE: return "x-uuencode";
	case MIME_CTE_UNKNOWN: return "unknown";
	}
	return "unknown";
}

static int is_encoding(enum mime_cte c)
{
	return c == MIME_CTE_QP || c == MIME_CTE_BASE64 ||
	       c == MIME_CTE_UUENCODE;
}

/* ---- parts ------------------------------------------------------- */

static struct mime_part *register_part(struct mctx *c,
				       struct mime_part *parent,
				       const char *label, unsigned flags)
{
	if (c->nparts == c->cap) {
		unsigned ncap = c->cap ? c->cap * 2 : 16;
		struct mime_part **np =
			scan_arena_alloc(c->a, ncap * sizeof(*np));
		if (np == NULL)
			goto nomem;
		if (c->nparts > 0)
			memcpy(np, c->parts, c->nparts * sizeof(*np));
		c->parts = np;
		c->cap = ncap;
	}
	struct mime_part *p = scan_arena_zalloc(c->a, sizeof(*p));
	if (p == NULL)
		goto nomem;
	size_t pl = parent != NULL ? strlen(parent->path) : 0;
	size_t ll = strlen(label);
	char *path = scan_arena_alloc(c->a, pl + 1 + ll + 1);
	if (path == NULL)
		goto nomem;
	if (pl > 0) {
		memcpy(path, parent->path, pl);
		path[pl++] = '.';
	}
	memcpy(path + pl, label, ll + 1);

	p->id = (int)c->nparts;
	p->path = path;
	p->parent = parent;
	p->content_type = "text/plain";
	p->flags = flags;
	if (parent != NULL) {
		p->depth = parent->depth + 1;
		p->flags |= parent->flags & MIME_F_ALT_VIEW;
		if (parent->last_child != NULL)
			parent->last_child->next_sibling = p;
		else
			parent->first_child = p;
		parent->last_child = p;
		parent->nchildren++;
	}
	c->parts[c->nparts++] = p;
	return p;
nomem:
	c->nomem = 1;
	return NULL;
}

static void set_leaf_range(struct mime_part *p, const uint8_t *s,
			   const uint8_t *e)
{
	p->header_raw = s;
	p->header_raw_len = 0;
	p->body = s;
	p->body_len = (size_t)(e - s);
}

/* A new child covering bytes from `from` on. At the part limit, add one
 * leaf holding everything from `from` to the end of the message, stop
 * parsing and return NULL. */
static struct mime_part *new_part(struct mctx *c, struct mime_part *parent,
				  const char *label, unsigned flags,
				  const uint8_t *from)
{
	if (c->nparts < c->lim.parts)
		return register_part(c, parent, label, flags);
	c->stopped = 1;
	scan_verdict_add(c->v, SCAN_F_LIMIT, parent->id, "mime-parts",
			 "more than %u MIME parts; the rest of the message "
			 "is scanned as one leaf", c->lim.parts);
	struct mime_part *rest = register_part(
		c, parent, "rest",
		MIME_F_TRUNCATED | MIME_F_NO_HEADERS);
	if (rest != NULL)
		set_leaf_range(rest, from, c->msg_end);
	return NULL;
}

static void depth_limit(struct mctx *c, struct mime_part *p)
{
	p->flags &= ~(unsigned)(MIME_F_MULTIPART | MIME_F_MESSAGE);
	p->flags |= MIME_F_TRUNCATED;
	if (!c->depth_reported) {
		c->depth_reported = 1;
		scan_verdict_add(c->v, SCAN_F_LIMIT, p->id, "mime-depth",
				 "MIME nesting deeper than %u at part %s; "
				 "scanned as one leaf", c->lim.depth,
				 p->path);
	}
}

/* ---- header interpretation --------------------------------------- */

static enum mime_cte parse_cte(struct scan_arena *a,
			       const struct mime_header *h, int *nomem)
{
	struct mime_params ps;
	if (mime_params_parse(h->value, h->value_len, a, &ps) < 0) {
		*nomem = 1;
		return MIME_CTE_UNKNOWN;
	}
	static const struct {
		const char *name;
		enum mime_cte cte;
	} tab[] = {
		{ "7bit", MIME_CTE_7BIT },
		{ "8bit", MIME_CTE_8BIT },
		{ "binary", MIME_CTE_BINARY },
		{ "quoted-printable", MIME_CTE_QP },
		{ "base64", MIME_CTE_BASE64 },
		{ "x-uuencode", MIME_CTE_UUENCODE },
		{ "x-uue", MIME_CTE_UUENCODE },
		{ "uuencode", MIME_CTE_UUENCODE },
		{ "uue", MIME_CTE_UUENCODE },
	};
	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (strcmp(ps.value, tab[i].name) == 0)
			return tab[i].cte;
	return MIME_CTE_UNKNOWN;
}

static int valid_type(const char *t)
{
	const char *sl = strchr(t, '/');
	return sl != NULL && sl != t && sl[1] != '\0' &&
	       strchr(sl + 1, '/') == NULL;
}

/* Filename-like parameter `name`: the RFC 2231 form wins over the plain
 * one; two different spellings are an ambiguity. Decoded to UTF-8. */
static int pick_name(struct mctx *c, struct mime_part *p,
		     const struct mime_params *ps, const char *name,
		     const char **out)
{
	const struct mime_param *ext = NULL, *plain = NULL;
	for (const struct mime_param *m = mime_params_find(ps, name, NULL);
	     m != NULL; m = mime_params_find(ps, name, m)) {
		if ((m->flags & MIME_PARAM_F_EXT) && ext == NULL)
			ext = m;
		else if (!(m->flags & MIME_PARAM_F_EXT) && plain == NULL)
			plain = m;
	}
	const struct mime_param *m = ext != NULL ? ext : plain;
	*out = NULL;
	if (m == NULL)
		return 0;
	const char *val = m->value;
	size_t vl = m->value_len;
	char *dec = NULL;
	if (!(m->flags & MIME_PARAM_F_EXT) &&
	    mime_has_encoded_word(val, vl)) {
		dec = mime_header_decode(val, vl, c->a);
		if (dec == NULL)
			return -ENOMEM;
		val = dec;
		vl = strlen(dec);
	}
	int had_nul = 0;
	char *fn = mime_nul_to_fffd(c->a, val, vl, &had_nul);
	if (fn == NULL)
		return -ENOMEM;
	if (had_nul)
		scan_verdict_add(c->v, SCAN_F_MALFORMED, p->id,
				 "nul-in-filename",
				 "NUL byte in %s of part %s (shown as U+FFFD)",
				 name, p->path);
	if (ext != NULL && plain != NULL &&
	    (ext->value_len != plain->value_len ||
	     memcmp(ext->value, plain->value, ext->value_len) != 0))
		scan_verdict_add(c->v, SCAN_F_AMBIGUOUS, p->id,
				 "ambiguous-filename",
				 "part %s: %s* and %s differ; using %s*",
				 p->path, name, name, name);
	*out = fn;
	return 0;
}

/* Fill content_type, charset, boundary, cte, disposition, filename and
 * the MULTIPART/MESSAGE/ATTACHMENT flags. *alt_boundary: a second,
 * different boundary parameter, or NULL. */
static int interpret(struct mctx *c, struct mime_part *p,
		     const char **alt_boundary)
{
	struct scan_verdict *v = c->v;
	struct mime_params ct = { .value = "" }, cd = { .value = "" };
	int nomem = 0;
	*alt_boundary = NULL;

	const struct mime_header *h = mime_header_get(p, "content-transfer-encoding");
	if (h != NULL) {
		p->cte = parse_cte(c->a, h, &nomem);
		if (p->cte == MIME_CTE_UNKNOWN)
			scan_verdict_add(v, SCAN_F_MALFORMED, p->id,
					 "unknown-cte",
					 "part %s: unknown Content-Transfer-"
					 "Encoding, read as 8bit", p->path);
		for (const struct mime_header *h2 = mime_header_next(
			     p, "content-transfer-encoding", h);
		     h2 != NULL;
		     h2 = mime_header_next(p, "content-transfer-encoding", h2)) {
			enum mime_cte alt = parse_cte(c->a, h2, &nomem);
			if (alt != p->cte) {
				p->cte_alt = alt;
				scan_verdict_add(v, SCAN_F_AMBIGUOUS, p->id,
						 "conflicting-cte",
						 "part %s: Content-Transfer-"
						 "Encoding %s and %s", p->path,
						 mime_cte_name(p->cte),
						 mime_cte_name(alt));
				break;
			}
		}
		if (nomem)
			return -ENOMEM;
	}

	h = mime_header_get(p, "content-type");
	if (h != NULL) {
		if (mime_header_next(p, "content-type", h) != NULL)
			scan_verdict_add(v, SCAN_F_AMBIGUOUS, p->id,
					 "duplicate-content-type",
					 "part %s has more than one "
					 "Content-Type; the first is used",
					 p->path);
		if (mime_params_parse(h->value, h->value_len, c->a, &ct) < 0)
			return -ENOMEM;
		if (valid_type(ct.value)) {
			p->content_type = ct.value;
		} else {
			char esc[64];
			scan_escape_bytes(esc, sizeof(esc),
					  (const uint8_t *)ct.value,
					  strlen(ct.value), 40);
			scan_verdict_add(v, SCAN_F_MALFORMED, p->id,
					 "invalid-content-type",
					 "part %s: Content-Type \"%s\" read "
					 "as text/plain", p->path, esc);
		}
	} else if (p->parent != NULL &&
		   strcmp(p->parent->content_type, "multipart/digest") == 0) {
		p->content_type = "message/rfc822";
	}
	if (ct.malformed)
		scan_verdict_add(v, SCAN_F_MALFORMED, p->id, "bad-parameters",
				 "part %s: %u malformed Content-Type "
				 "parameter(s)", p->path, ct.malformed);

	const struct mime_param *m = mime_params_find(&ct, "charset", NULL);
	if (m != NULL && m->value_len > 0) {
		p->charset = mime_lower_dup(c->a, m->value, strlen(m->value));
		if (p->charset == NULL)
			return -ENOMEM;
	}

	if (strncmp(p->content_type, "multipart/", 10) == 0) {
		m = mime_params_find(&ct, "boundary", NULL);
		if (m == NULL || m->value[0] == '\0') {
			scan_verdict_add(v, SCAN_F_MALFORMED, p->id,
					 "missing-boundary",
					 "part %s: %s without a boundary; "
					 "scanned as one leaf", p->path,
					 p->content_type);
		} else {
			p->boundary = m->value;
			p->flags |= MIME_F_MULTIPART;
			for (const struct mime_param *m2 =
				     mime_params_find(&ct, "boundary", m);
			     m2 != NULL;
			     m2 = mime_params_find(&ct, "boundary", m2)) {
				if (m2->value[0] == '\0' ||
				    strcmp(m2->value, m->value) == 0)
					continue;
				*alt_boundary = m2->value;
				scan_verdict_add(v, SCAN_F_AMBIGUOUS, p->id,
						 "duplicate-boundary",
						 "part %s has two boundary "
						 "parameters; both readings "
						 "are scanned", p->path);
				break;
			}
			if (is_encoding(p->cte))
				scan_verdict_add(v, SCAN_F_MALFORMED, p->id,
						 "encoded-multipart",
						 "part %s: multipart with "
						 "Content-Transfer-Encoding %s",
						 p->path,
						 mime_cte_name(p->cte));
		}
	} else if (strcmp(p->content_type, "message/rfc822") == 0 ||
		   strcmp(p->content_type, "message/global") == 0) {
		if (is_encoding(p->cte))
			scan_verdict_add(v, SCAN_F_MALFORMED, p->id,
					 "encoded-message",
					 "part %s: %s with Content-Transfer-"
					 "Encoding %s; scanned as a leaf",
					 p->path, p->content_type,
					 mime_cte_name(p->cte));
		else
			p->flags |= MIME_F_MESSAGE;
	}

	h = mime_header_get(p, "content-disposition");
	if (h != NULL) {
		if (mime_params_parse(h->value, h->value_len, c->a, &cd) < 0)
			return -ENOMEM;
		if (strcmp(cd.value, "inline") == 0) {
			p->disposition = "inline";
		} else if (strcmp(cd.value, "attachment") == 0) {
			p->disposition = "attachment";
		} else if (cd.value[0] != '\0' || cd.nparams > 0) {
			/* RFC 2183: unknown types are treated as attachment */
			p->disposition = "attachment";
			char esc[64];
			scan_escape_bytes(esc, sizeof(esc),
					  (const uint8_t *)cd.value,
					  strlen(cd.value), 40);
			scan_verdict_add(v, SCAN_F_MALFORMED, p->id,
					 "unknown-disposition",
					 "part %s: Content-Disposition \"%s\" "
					 "read as attachment", p->path, esc);
		}
	}
	if (pick_name(c, p, &cd, "filename", &p->filename) < 0)
		return -ENOMEM;
	if (p->filename == NULL &&
	    pick_name(c, p, &ct, "name", &p->filename) < 0)
		return -ENOMEM;
	if (p->filename != NULL ||
	    (p->disposition != NULL && strcmp(p->disposition, "attachment") == 0))
		p->flags |= MIME_F_ATTACHMENT;
	return 0;
}

/* ---- multipart --------------------------------------------------- */

/* Is L (a line start) a delimiter line for bnd? */
static int check_delim(const uint8_t *L, const uint8_t *e, const char *bnd,
		       size_t bl, struct delim *d)
{
	if ((size_t)(e - L) < 2 + bl || L[0] != '-' || L[1] != '-' ||
	    memcmp(L + 2, bnd, bl) != 0)
		return 0;
	const uint8_t *k = L + 2 + bl;
	int close = 0;
	if (e - k >= 2 && k[0] == '-' && k[1] == '-') {
		close = 1;
		k += 2;
	}
	while (k < e && (*k == ' ' || *k == '\t')) /* transport padding */
		k++;
	if (k == e)
		d->after = e;
	else if (*k == '\n')
		d->after = k + 1;
	else if (*k == '\r' && (k + 1 == e || k[1] == '\n'))
		d->after = k + 1 == e ? e : k + 2;
	else
		return 0;
	d->start = L;
	d->close = close;
	return 1;
}

/* First delimiter line at or after the line start `from`. One pass over
 * line starts with memchr (not memmem, whose cost - and ASan's check of
 * it - is the whole remaining haystack per call), so each byte is looked
 * at a bounded number of times per multipart. */
static int find_delim(const uint8_t *from, const uint8_t *e, const char *bnd,
		      size_t bl, struct delim *d)
{
	const uint8_t *L = from;
	while (L < e) {
		if (*L == '-' && check_delim(L, e, bnd, bl, d))
			return 1;
		const uint8_t *q = memchr(L, '\n', (size_t)(e - L));
		if (q == NULL)
			return 0;
		L = q + 1;
	}
	return 0;
}

/* End of the content before delimiter line L: the line break before it
 * belongs to the delimiter (RFC 2046). */
static const uint8_t *eol_before(const uint8_t *lo, const uint8_t *L)
{
	if (L > lo && L[-1] == '\n')
		L--;
	if (L > lo && L[-1] == '\r')
		L--;
	return L;
}

static int blank(const uint8_t *s, const uint8_t *e)
{
	for (; s < e; s++)
		if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n')
			return 0;
	return 1;
}

static void parse_entity(struct mctx *c, struct mime_part *p,
			 const uint8_t *s, size_t n, int allow_from);

static void parse_multipart(struct mctx *c, struct mime_part *p,
			    const char *bnd, int alt)
{
	const uint8_t *b = p->body, *e = b + p->body_len;
	size_t bl = strlen(bnd);
	unsigned vf = alt ? MIME_F_ALT_VIEW : 0;
	struct delim d, nd;
	char label[32];

	int found = find_delim(b, e, bnd, bl, &d);
	const uint8_t *pre_end = found ? eol_before(b, d.start) : e;
	if (!blank(b, pre_end)) {
		struct mime_part *pre = new_part(
			c, p, alt ? "alt.preamble" : "preamble",
			vf | MIME_F_PREAMBLE | MIME_F_NO_HEADERS, b);
		if (pre == NULL)
			return;
		set_leaf_range(pre, b, pre_end);
	}
	if (!found) {
		p->flags |= MIME_F_UNCLOSED;
		scan_verdict_add(c->v, SCAN_F_MALFORMED, p->id,
				 "boundary-not-found",
				 "part %s: boundary never appears%s", p->path,
				 alt ? " (alternate reading)" : "");
		return;
	}
	for (unsigned idx = 1; !d.close; idx++) {
		const uint8_t *cs = d.after;
		int more = find_delim(cs, e, bnd, bl, &nd);
		const uint8_t *ce = more ? eol_before(cs, nd.start) : e;
		snprintf(label, sizeof(label), alt ? "alt%u" : "%u", idx);
		struct mime_part *ch = new_part(c, p, label, vf, cs);
		if (ch == NULL)
			return;
		parse_entity(c, ch, cs, (size_t)(ce - cs), 0);
		if (c->stopped || c->nomem)
			return;
		if (!more) {
			p->flags |= MIME_F_UNCLOSED;
			scan_verdict_add(c->v, SCAN_F_MALFORMED, p->id,
					 "unclosed-multipart",
					 "part %s: no closing boundary%s",
					 p->path,
					 alt ? " (alternate reading)" : "");
			return;
		}
		d = nd;
	}
	const uint8_t *ep = d.after;
	if (find_delim(ep, e, bnd, bl, &nd))
		scan_verdict_add(c->v, SCAN_F_AMBIGUOUS, p->id,
				 "boundary-after-close",
				 "part %s: boundary lines after the closing "
				 "one; scanned as epilogue", p->path);
	if (!blank(ep, e)) {
		struct mime_part *epi = new_part(
			c, p, alt ? "alt.epilogue" : "epilogue",
			vf | MIME_F_EPILOGUE | MIME_F_NO_HEADERS, ep);
		if (epi != NULL)
			set_leaf_range(epi, ep, e);
	}
}

/* Parse one entity (header block + body) into the already registered p.
 * Recursion depth is bounded by lim.depth (<= MIME_DEPTH_MAX). */
static void parse_entity(struct mctx *c, struct mime_part *p,
			 const uint8_t *s, size_t n, int allow_from)
{
	const char *alt = NULL;
	if (mime_headers_parse(p, s, n, &c->lim, allow_from, c->a, c->v) < 0 ||
	    interpret(c, p, &alt) < 0) {
		c->nomem = 1;
		return;
	}
	if (p->flags & MIME_F_TRUNCATED) { /* header block cut short */
		p->flags &= ~(unsigned)(MIME_F_MULTIPART | MIME_F_MESSAGE);
		return;
	}
	if (!(p->flags & (MIME_F_MULTIPART | MIME_F_MESSAGE)))
		return;
	if (p->depth >= c->lim.depth) {
		depth_limit(c, p);
		return;
	}
	if (p->flags & MIME_F_MULTIPART) {
		parse_multipart(c, p, p->boundary, 0);
		if (alt != NULL && !(p->flags & MIME_F_ALT_VIEW) &&
		    !c->stopped && !c->nomem)
			parse_multipart(c, p, alt, 1);
		return;
	}
	struct mime_part *m = new_part(c, p, "1", 0, p->body);
	if (m != NULL)
		parse_entity(c, m, p->body, p->body_len, 1);
}

int mime_parse(const uint8_t *msg, size_t len, const struct mime_limits *lim,
	       struct scan_arena *a, struct scan_verdict *v,
	       struct mime_message *out)
{
	static const uint8_t empty[1];
	struct mctx c = { .a = a, .v = v };
	memset(out, 0, sizeof(*out));
	if (msg == NULL)
		msg = empty, len = 0;
	mime_limits_resolve(lim, &c.lim);
	c.msg_end = msg + len;

	struct mime_part *root = register_part(&c, NULL, "", 0);
	if (root == NULL)
		return -ENOMEM;
	parse_entity(&c, root, msg, len, 1);
	out->root = root;
	out->parts = c.parts;
	out->nparts = c.nparts;
	return c.nomem ? -ENOMEM : 0;
}
