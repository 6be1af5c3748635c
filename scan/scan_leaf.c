/* scan/scan_leaf.c - one part through the pipeline; see scan_int.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "scan/charset.h"
#include "scan/deadline.h"
#include "scan/decode.h"
#include "scan/filetype.h"
#include "scan/fname.h"
#include "scan/hash.h"
#include "scan/html.h"
#include "scan/scan_int.h"
#include "scan/sig_clamav.h"

int pipe_arena_full(struct scan_ctx *c, int part, const char *what)
{
	if (!c->decoded_limit_hit) {
		c->decoded_limit_hit = 1;
		scan_verdict_add(c->v, SCAN_F_LIMIT, part, "decoded-bytes",
				 "message needs more than %zu bytes decoded "
				 "(stopped at %s)",
				 c->e->decoded_max, what);
	}
	return -ENOMEM;
}

/* Note the view and the matched bytes of hits added since the last call. */
static void note_new_hits(struct scan_ctx *c, const uint8_t *d, size_t n,
			  const char *view)
{
	const struct scan_hit *hits;
	unsigned nh = scan_db_hits(c->scratch, &hits);
	for (unsigned i = c->nhits_seen; i < nh; i++) {
		c->hit_view[i] = view;
		uint64_t end = hits[i].end <= n ? hits[i].end : n;
		uint64_t start = hits[i].start;
		if (d == NULL || start == UINT64_MAX || start > end)
			start = end > 32 ? end - 32 : 0; /* start unknown */
		scan_escape_bytes(c->hit_bytes[i], sizeof(c->hit_bytes[i]),
				  d != NULL ? d + start : NULL,
				  d != NULL ? (size_t)(end - start) : 0, 40);
	}
	c->nhits_seen = nh;
}

/* Run the database over one buffer. */
static int scan_buf(struct scan_ctx *c, const uint8_t *d, size_t n,
		    unsigned where, int part, const char *view)
{
	if (pipe_time_up(c))
		return -ETIME;
	/* One pass is not cut (block mode): on a large buffer, do not start
	 * one that cannot end in time even at the fastest rate seen. */
	uint64_t t0 = 0;
	if (c->deadline_ns != 0 && n >= SCAN_DEADLINE_STRIDE) {
		t0 = pipe_now_ns();
		uint64_t need = c->hs_ps_per_byte * (uint64_t)n / 1000u;
		if (t0 + need >= c->deadline_ns) {
			c->timed_out = 1;
			return -ETIME;
		}
	}
	int rc = scan_db_scan(c->e->db, c->scratch, d, n, where, part);
	if (t0 != 0) {
		uint64_t ps = (pipe_now_ns() - t0) * 1000u / (uint64_t)n;
		if (c->hs_ps_per_byte == 0 || ps < c->hs_ps_per_byte)
			c->hs_ps_per_byte = ps;
	}
	note_new_hits(c, d, n, view);
	scan_explain(c->v, "    scan part %d %s view: %zu bytes as %s\n", part,
		     view,
		     n, where == SCAN_WHERE_BODY ? "body"
			: where == SCAN_WHERE_ATTACHMENT ? "attachment"
			: where == SCAN_WHERE_SUBJECT ? "subject" : "header");
	return rc;
}

struct scan_part_info *pipe_part_info(struct scan_ctx *c, int id)
{
	struct scan_verdict *v = c->v;
	if (v->nparts >= c->parts_cap)
		return NULL;
	struct scan_part_info *pi = &v->parts[v->nparts++];
	memset(pi, 0, sizeof(*pi));
	pi->id = id;
	pi->true_type = "empty";
	return pi;
}

/* Part ids and paths of the tree being scanned: a message nested inside an
 * encoded message/rfc822 part gets ids after everything seen so far and
 * paths under its container ("2/msg", "2/1.3"). */
int pipe_part_id(const struct scan_ctx *c, const struct mime_part *p)
{
	return c->id_base + p->id;
}

const char *pipe_part_path(struct scan_ctx *c, const struct mime_part *p)
{
	if (c->path_prefix == NULL)
		return p->path;
	size_t n = strlen(c->path_prefix) + strlen(p->path) + 8;
	char *s = scan_arena_alloc(c->arena, n);
	if (s == NULL)
		return c->path_prefix;
	snprintf(s, n, "%s/%s", c->path_prefix, p->path[0] ? p->path : "msg");
	return s;
}

/* Is a leaf reader-visible text (body) or an attachment? */
static unsigned leaf_where(const char *ct, const char *filename,
			   unsigned flags)
{
	if ((flags & MIME_F_ATTACHMENT) || filename != NULL)
		return SCAN_WHERE_ATTACHMENT;
	if (ct == NULL || strncmp(ct, "text/", 5) == 0)
		return SCAN_WHERE_BODY;
	return SCAN_WHERE_ATTACHMENT;
}

static int is_utf8_compatible(const char *charset)
{
	return charset == NULL || strcmp(charset, "utf-8") == 0 ||
	       strcmp(charset, "utf8") == 0 || strcmp(charset, "us-ascii") == 0 ||
	       strcmp(charset, "ascii") == 0;
}



struct embed_ctx {
	struct scan_ctx *c;
	const struct leaf *parent;
	const char *how;
	int rc;
};

/* Callback for uu/BinHex/TNEF extractors: each file is a new leaf. */
static int on_embedded(void *arg, const char *name, const uint8_t *data,
		       size_t len)
{
	struct embed_ctx *ec = arg;
	struct scan_ctx *c = ec->c;
	if (c->nembedded >= MAX_EMBEDDED) {
		scan_verdict_add(c->v, SCAN_F_LIMIT, ec->parent->id,
				 "embedded-files",
				 "more than %d embedded files", MAX_EMBEDDED);
		return 1;
	}
	if (pipe_time_up(c)) {
		ec->rc = -ETIME;
		return 1;
	}
	c->nembedded++;
	pipe_set_holder(c, c->next_id, ec->parent->id);
	struct leaf l = {
		.id = c->next_id++,
		.content_type = "application/octet-stream",
		.filename = name != NULL && name[0] != '\0' ? name : NULL,
		.flags = MIME_F_ATTACHMENT,
		.embed_depth = ec->parent->embed_depth + 1,
	};
	size_t plen = strlen(ec->parent->path) + strlen(name ? name : "") + 16;
	char *path = scan_arena_alloc(c->arena, plen);
	if (path == NULL)
		return ec->rc = pipe_arena_full(c, l.id, "embedded file path"), 1;
	snprintf(path, plen, "%s/%s", ec->parent->path[0] ? ec->parent->path
							    : "0",
		 name && name[0] ? name : "(unnamed)");
	l.path = path;
	c->decoded_total += len;
	scan_explain(c->v, "  part %d %s: %s file '%s' (%zu bytes)\n", l.id,
		     path, ec->how, name ? name : "", len);
	int rc = pipe_leaf(c, &l, data, len);
	if (rc < 0) {
		ec->rc = rc;
		return 1;
	}
	return 0;
}

/* Extract files hidden in a text body or a TNEF blob. */
static int extract_embedded(struct scan_ctx *c, const struct leaf *l,
			    const uint8_t *d, size_t n, enum scan_ftype ft)
{
	if (l->embed_depth >= MAX_EMBED_DEPTH)
		return 0;
	struct embed_ctx ec = {.c = c, .parent = l};
	struct scan_decode_stats st = {0};
	int rc;
	if (scan_tnef_detect(d, n)) {
		ec.how = "TNEF";
		rc = scan_tnef_extract(d, n, c->arena, on_embedded, &ec);
		if (rc == -EINVAL)
			scan_verdict_add(c->v, SCAN_F_MALFORMED, l->id,
					 "tnef-corrupt",
					 "TNEF stream is corrupt (bad checksum "
					 "or length)");
		if (rc == -ENOMEM)
			return pipe_arena_full(c, l->id, "TNEF");
		return ec.rc;
	}
	if (ft != SCAN_FT_TEXT && ft != SCAN_FT_HTML)
		return 0;
	ec.how = "uuencoded";
	rc = scan_uu_extract(d, n, c->arena, on_embedded, &ec, &st);
	if (rc == -ENOMEM)
		return pipe_arena_full(c, l->id, "uudecode");
	if (ec.rc < 0)
		return ec.rc;
	ec.how = "BinHex";
	rc = scan_binhex_extract(d, n, c->arena, on_embedded, &ec, &st);
	if (rc == -EINVAL)
		scan_verdict_add(c->v, SCAN_F_MALFORMED, l->id, "binhex-corrupt",
				 "BinHex stream has a bad CRC or length");
	if (rc == -ENOMEM)
		return pipe_arena_full(c, l->id, "BinHex");
	return ec.rc;
}

/* Text views of a body leaf: UTF-8 conversion, then HTML to text. */
static int scan_text_views(struct scan_ctx *c, const struct leaf *l,
			   const uint8_t *d, size_t n, enum scan_ftype ft)
{
	const uint8_t *u = d;
	size_t un = n;
	if (!is_utf8_compatible(l->charset)) {
		uint8_t *conv;
		size_t clen;
		int rc = scan_charset_to_utf8(l->charset, d, n, c->arena, &conv,
					      &clen);
		if (rc == -ENOMEM)
			return pipe_arena_full(c, l->id, "charset conversion");
		if (rc == -EINVAL)
			scan_explain(c->v, "    part %d: unknown charset '%s', "
				     "scanned as raw bytes\n", l->id,
				     l->charset);
		if (rc == 0) {
			u = conv;
			un = clen;
			rc = scan_buf(c, u, un, SCAN_WHERE_BODY, l->id, "utf-8");
			if (rc < 0)
				return rc;
		}
	}
	int html = (l->content_type != NULL &&
		    strcmp(l->content_type, "text/html") == 0) ||
		   ft == SCAN_FT_HTML;
	if (html) {
		uint8_t *text;
		size_t tlen;
		if (scan_html_to_text(u, un, c->arena, &text, &tlen) < 0)
			return pipe_arena_full(c, l->id, "HTML text view");
		int rc = scan_buf(c, text, tlen, SCAN_WHERE_BODY, l->id,
				  "html-text");
		if (rc < 0)
			return rc;
		if (scan_html_links(u, un, c->arena, &text, &tlen) < 0)
			return pipe_arena_full(c, l->id, "HTML link view");
		if (tlen > 0) {
			rc = scan_buf(c, text, tlen, SCAN_WHERE_BODY, l->id,
				      "html-links");
			if (rc < 0)
				return rc;
		}
	}
	return 0;
}

/* Declared type or file name says one thing, the bytes another. Only the
 * dangerous direction is a finding: content that executes or contains
 * other files dressed up as something harmless. */
static void check_type_mismatch(struct scan_ctx *c, const struct leaf *l,
				enum scan_ftype ft)
{
	unsigned cls = scan_ftype_class(ft);
	if (!(cls & (SCAN_FC_EXEC | SCAN_FC_SCRIPT | SCAN_FC_ARCHIVE)))
		return;
	enum scan_ftype decl;
	if (l->content_type != NULL &&
	    scan_ftype_from_declared(l->content_type, &decl) == 0 &&
	    !scan_ftype_matches_declared(ft, decl))
		scan_verdict_add(c->v, SCAN_F_AMBIGUOUS, l->id, "type-mismatch",
				 "declared %s but content is %s",
				 l->content_type, scan_ftype_name(ft));
	if (l->filename != NULL) {
		const char *dot = strrchr(l->filename, '.');
		if (dot != NULL && !scan_ftype_matches_extension(ft, dot + 1))
			scan_verdict_add(c->v, SCAN_F_AMBIGUOUS, l->id,
					 "extension-mismatch",
					 "name '%s' but content is %s",
					 l->filename, scan_ftype_name(ft));
	}
}

/* Names dressed up to hide what the file is (scan/fname.h): ambiguous
 * findings here; the attachment filter decides what to do with them. */
static void check_name(struct scan_ctx *c, const struct leaf *l)
{
	struct scan_fname_why why;
	if (l->second_view || l->filename == NULL)
		return;
	unsigned fl = scan_fname_check(l->filename, &why);
	const char *r[3] = {why.double_ext, why.bidi, why.trailing};
	for (int i = 0; i < 3; i++)
		if (r[i][0] != '\0')
			scan_explain(c->v, "    part %d: name: %s\n", l->id,
				     r[i]);
	if (fl & SCAN_FNAME_DOUBLE_EXT)
		scan_verdict_add(c->v, SCAN_F_AMBIGUOUS, l->id,
				 "double-extension", "name '%s' %s",
				 l->filename, why.double_ext);
	if (fl & SCAN_FNAME_BIDI)
		scan_verdict_add(c->v, SCAN_F_AMBIGUOUS, l->id, "bidi-name",
				 "name '%s': %s", l->filename, why.bidi);
	if (fl & SCAN_FNAME_TRAILING)
		scan_verdict_add(c->v, SCAN_F_AMBIGUOUS, l->id,
				 "trailing-dots", "name '%s': %s",
				 l->filename, why.trailing);
}

/* Everything done to the decoded bytes of one leaf. */
int pipe_leaf(struct scan_ctx *c, const struct leaf *l, const uint8_t *d,
	      size_t n)
{
	enum scan_ftype ft = scan_filetype(d, n);
	struct scan_part_info *pi =
		l->second_view ? NULL : pipe_part_info(c, l->id);
	/* SHA-256 always (reported, and the key of later caches); MD5 and
	 * SHA-1 only when a hash signature of this size could match. */
	uint8_t md5[16], sha1[20], sha256[32];
	unsigned need = scan_db_hash_needs(c->e->db, n);
	scan_hash_all(d, n, need & SCAN_HASH_MD5 ? md5 : NULL,
		      need & SCAN_HASH_SHA1 ? sha1 : NULL, sha256);
	if (pi != NULL) {
		pi->path = l->path;
		pi->content_type = l->content_type;
		pi->filename = l->filename;
		pi->true_type = scan_ftype_name(ft);
		pi->size = n;
		pi->leaf = 1;
		memcpy(pi->sha256, sha256, 32);
	}
	unsigned where = leaf_where(l->content_type, l->filename, l->flags);
	scan_explain(c->v, "  part %d %s: %s%s%s, %zu bytes, true type %s\n",
		     l->id, l->path[0] ? l->path : "(message)",
		     l->content_type ? l->content_type : "?",
		     l->filename ? " name " : "", l->filename ? l->filename : "",
		     n, scan_ftype_name(ft));
	check_type_mismatch(c, l, ft);
	check_name(c, l);
	if (ft == SCAN_FT_OLE2)
		pipe_ole2(c, l, d, n);
	scan_db_hash_match(c->e->db, c->scratch,
			   need & SCAN_HASH_MD5 ? md5 : NULL,
			   need & SCAN_HASH_SHA1 ? sha1 : NULL, sha256, n, l->id);
	note_new_hits(c, NULL, 0, "digest");
	/* .ndb signatures with a target and .ldb subsignatures count over
	 * the leaf's bytes only, by its true type */
	scan_db_leaf_begin(c->scratch, scan_sig_target_of_ftype((int)ft));
	int rc = scan_buf(c, d, n, where, l->id, "decoded");
	if (rc < 0)
		return rc;
	scan_db_leaf_end(c->e->db, c->scratch, n, l->id);
	note_new_hits(c, NULL, 0, "logical");
	if (where == SCAN_WHERE_BODY) {
		rc = scan_text_views(c, l, d, n, ft);
		if (rc < 0)
			return rc;
	}
	/* Parts found inside this leaf get ids from here on. */
	int first_inner = c->next_id;
	rc = extract_embedded(c, l, d, n, ft);
	if (rc < 0)
		return rc;
	int unread = 0;
	if (scan_arc_handles(ft)) {
		unsigned nf = c->v->nfindings;
		if ((rc = pipe_archive(c, l, d, n, ft)) < 0)
			return rc;
		/* A member the walker could not read (an unsupported method,
		 * a corrupt layer): libclamav has its own unpackers. */
		for (unsigned i = nf; i < c->v->nfindings && !unread; i++)
			unread = c->v->findings[i].kind == SCAN_F_MALFORMED;
	}
	/* libclamav last: a virus the Hyperscan path already found in this
	 * leaf or in a file inside it is then reported once. */
	return pipe_clam(c, l, d, n, ft, sha256, first_inner, unread);
}

/* Decode a body with one transfer encoding into the arena. For CTEs that
 * are not transforms the raw bytes are returned as they are. */
static int decode_body(struct scan_ctx *c, const struct mime_part *p,
		       enum mime_cte cte, const uint8_t **out, size_t *outlen,
		       const uint8_t **alt, size_t *altlen)
{
	*alt = NULL;
	*altlen = 0;
	struct scan_decode_stats st = {0};
	int pid = pipe_part_id(c, p);
	uint8_t *buf;
	size_t n;
	switch (cte) {
	case MIME_CTE_BASE64:
		buf = scan_arena_alloc(c->arena,
				       scan_b64_decoded_max(p->body_len));
		if (buf == NULL)
			return pipe_arena_full(c, pid, "base64");
		n = scan_b64_decode(p->body, p->body_len, buf, &st);
		scan_arena_shrink_last(c->arena, buf, n);
		if (st.bad_padding) {
			scan_verdict_add(c->v, SCAN_F_AMBIGUOUS, pid,
					 "base64-after-padding",
					 "base64 data continues after '=' "
					 "padding; decoders disagree");
			/* The other reading: decoders that stop at the
			 * first padding. Scanned as a second view. */
			const uint8_t *eq = memchr(p->body, '=', p->body_len);
			size_t cut = eq != NULL ? (size_t)(eq - p->body) : 0;
			while (cut < p->body_len && p->body[cut] == '=')
				cut++;
			uint8_t *abuf = scan_arena_alloc(
				c->arena, scan_b64_decoded_max(cut));
			if (abuf == NULL)
				return pipe_arena_full(c, pid, "base64");
			struct scan_decode_stats ast;
			*altlen = scan_b64_decode(p->body, cut, abuf, &ast);
			scan_arena_shrink_last(c->arena, abuf, *altlen);
			*alt = abuf;
			c->decoded_total += *altlen;
		}
		if (st.garbage > 0)
			scan_explain(c->v, "    part %d: %zu non-base64 bytes "
				     "skipped\n", pid, st.garbage);
		break;
	case MIME_CTE_QP:
		buf = scan_arena_alloc(c->arena, p->body_len + 1);
		if (buf == NULL)
			return pipe_arena_full(c, pid, "quoted-printable");
		n = scan_qp_decode(p->body, p->body_len, buf, &st);
		scan_arena_shrink_last(c->arena, buf, n);
		break;
	default:
		*out = p->body;
		*outlen = p->body_len;
		return 0;
	}
	c->decoded_total += n;
	if (c->decoded_total > c->e->decoded_max)
		return pipe_arena_full(c, pid, "decoded size");
	*out = buf;
	*outlen = n;
	return 0;
}

/* Collect the extracted uuencoded files of an x-uuencode body. */
static int scan_uu_body(struct scan_ctx *c, const struct leaf *l,
			const struct mime_part *p)
{
	struct embed_ctx ec = {.c = c, .parent = l, .how = "uuencoded"};
	struct scan_decode_stats st = {0};
	int rc = scan_uu_decode_body(p->body, p->body_len, c->arena,
				     on_embedded, &ec, &st);
	if (rc == -ENOMEM)
		return pipe_arena_full(c, pipe_part_id(c, p), "uudecode");
	return ec.rc;
}

int pipe_mime_leaf(struct scan_ctx *c, const struct mime_part *p)
{
	struct leaf l = {
		.id = pipe_part_id(c, p),
		.path = pipe_part_path(c, p),
		.content_type = p->content_type,
		.filename = p->filename,
		.charset = p->charset,
		.flags = p->flags,
		.depth = p->depth,
	};
	int nested = strcmp(p->content_type, "message/rfc822") == 0 ||
		     strcmp(p->content_type, "message/global") == 0;
	enum mime_cte ctes[2] = {p->cte, p->cte_alt};
	int nviews = p->cte_alt != MIME_CTE_NONE && p->cte_alt != p->cte ? 2 : 1;
	for (int i = 0; i < nviews; i++) {
		if (i == 1)
			scan_explain(c->v, "  part %d: second reading as %s\n",
				     l.id, mime_cte_name(ctes[1]));
		int rc;
		if (ctes[i] == MIME_CTE_UUENCODE) {
			rc = scan_uu_body(c, &l, p);
		} else {
			const uint8_t *d = NULL, *alt = NULL;
			size_t n = 0, altn = 0;
			l.second_view = i > 0;
			rc = decode_body(c, p, ctes[i], &d, &n, &alt, &altn);
			if (rc == 0)
				rc = pipe_leaf(c, &l, d, n);
			if (rc == 0 && nested)
				rc = pipe_nested_message(c, &l, d, n);
			if (rc == 0 && alt != NULL) {
				scan_explain(c->v, "  part %d: second reading, "
					     "base64 up to the first padding\n",
					     l.id);
				l.second_view = 1;
				rc = pipe_leaf(c, &l, alt, altn);
			}
		}
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Header block of a part, unfolded and RFC 2047-decoded, as one buffer;
 * the Subject separately. */
int pipe_headers(struct scan_ctx *c, const struct mime_part *p)
{
	if (p->nheaders == 0)
		return 0;
	int pid = pipe_part_id(c, p);
	size_t cap = p->header_raw_len * 3 + p->nheaders * 4 + 16;
	char *buf = scan_arena_alloc(c->arena, cap);
	if (buf == NULL)
		return pipe_arena_full(c, pid, "header view");
	size_t len = 0;
	const char *subject = NULL;
	for (unsigned i = 0; i < p->nheaders; i++) {
		const struct mime_header *h = &p->headers[i];
		char *val = mime_header_decode(h->value, h->value_len, c->arena);
		if (val == NULL)
			return pipe_arena_full(c, pid, "header decode");
		size_t vl = strlen(val);
		if (len + h->name_len + vl + 3 > cap)
			break; /* decoded can't exceed 3x raw; defensive */
		memcpy(buf + len, h->name, h->name_len);
		len += h->name_len;
		buf[len++] = ':';
		buf[len++] = ' ';
		memcpy(buf + len, val, vl);
		len += vl;
		buf[len++] = '\n';
		if (subject == NULL && h->name_len == 7 &&
		    strncasecmp(h->name, "subject", 7) == 0) {
			subject = val;
			int rc = scan_buf(c, (const uint8_t *)val, vl,
					  SCAN_WHERE_SUBJECT, pid, "subject");
			if (rc < 0)
				return rc;
		}
	}
	if (pid == 0 && subject != NULL) /* the message itself */
		c->subject = subject;
	return scan_buf(c, (const uint8_t *)buf, len, SCAN_WHERE_HEADER, pid,
			"header");
}
