/* scan/scan.c - the content pipeline; see scan.h. */
#include "scan/scan.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "scan/arena.h"
#include "scan/charset.h"
#include "scan/decode.h"
#include "scan/filetype.h"
#include "scan/hash.h"
#include "scan/hsdb.h"
#include "scan/html.h"
#include "scan/mime.h"
#include "scan/policy.h"

#define MAX_EMBEDDED 256      /* extracted files recorded per message */
#define MAX_EMBED_DEPTH 4     /* uu in TNEF in BinHex ... */
#define MAX_ENV_RCPT 64       /* recipients taken from headers */
#define ARENA_OVERHEAD (8u << 20) /* tree, strings, views beyond decoded */

struct scan_engine {
	const struct scan_config *cfg;
	struct scan_db *db;
	struct mime_limits mlim;
	size_t decoded_max;
};

struct scan_ctx {
	const struct scan_engine *e;
	struct scan_arena *arena;
	struct scan_db_scratch *scratch;

	/* Per message. */
	struct scan_verdict *v;
	unsigned parts_cap;
	size_t decoded_total;
	int decoded_limit_hit;
	unsigned nembedded;
	int next_id; /* next free part id (embedded files, nested messages) */
	int id_base; /* id of part 0 of the tree being scanned */
	const char *path_prefix; /* path of the part holding that tree, or
				    NULL for the message itself */
	unsigned depth_base; /* nesting depth of that tree's root */
	struct scan_envelope env;
	const char *rcpt[MAX_ENV_RCPT];
	const char *subject;

	/* What each hit matched, filled as buffers are scanned (--explain
	 * and finding details: "the rule and bytes that triggered it"). */
	unsigned nhits_seen;
	const char *hit_view[SCAN_DB_MAX_HITS];
	char hit_bytes[SCAN_DB_MAX_HITS][72];
};

/* ---- engine ---------------------------------------------------------- */

/* A signature path from the config or the command line: a directory of
 * ClamAV files or one file. */
static int load_sigpath(struct scan_rules *rules, const char *path,
			scan_diag_fn diag, void *ctx)
{
	struct stat st;
	if (stat(path, &st) < 0)
		return -errno;
	if (S_ISDIR(st.st_mode))
		return scan_rules_load_sigdir(rules, path, diag, ctx);
	return scan_rules_load_sigfile(rules, path, diag, ctx);
}

int scan_engine_create(const struct scan_config *cfg,
		       const char *const *extra_sigdirs, scan_diag_fn diag,
		       void *diag_ctx, struct scan_engine **out, char *err,
		       size_t errsz)
{
	struct scan_engine *e = calloc(1, sizeof(*e));
	struct scan_rules *rules = scan_rules_create();
	int rc = -ENOMEM;
	if (e == NULL || rules == NULL) {
		snprintf(err, errsz, "out of memory building the rule set");
		goto fail;
	}
	e->cfg = cfg;
	scan_rules_set_diag(rules, diag, diag_ctx);
	const struct scan_limits *lim = scan_config_limits(cfg);
	e->mlim.header_bytes = lim->header_bytes;
	e->mlim.header_count = lim->header_count;
	e->mlim.parts = lim->mime_parts;
	e->mlim.depth = lim->mime_depth;
	e->decoded_max = lim->decoded_bytes;

	const struct scan_rule_def *defs;
	size_t ndefs;
	scan_config_rules(cfg, &defs, &ndefs);
	for (size_t i = 0; i < ndefs; i++) {
		char rerr[256];
		rc = scan_rules_add(rules, &defs[i], rerr, sizeof(rerr));
		if (rc < 0) { /* rerr names file, line and rule */
			snprintf(err, errsz, "%s", rerr);
			goto fail;
		}
	}
	const char *const *sigs = scan_config_signatures(cfg);
	for (size_t i = 0; sigs != NULL && sigs[i] != NULL; i++) {
		rc = load_sigpath(rules, sigs[i], diag, diag_ctx);
		if (rc < 0) {
			snprintf(err, errsz,
				 "signatures %s: %s (check the 'signatures' "
				 "setting of the configuration)",
				 sigs[i], strerror(-rc));
			goto fail;
		}
	}
	for (size_t i = 0; extra_sigdirs != NULL && extra_sigdirs[i] != NULL;
	     i++) {
		rc = load_sigpath(rules, extra_sigdirs[i], diag,
					     diag_ctx);
		if (rc < 0) {
			snprintf(err, errsz,
				 "signatures %s: %s (give a directory or a "
				 "file of ClamAV signatures: .ndb .hdb .hsb)",
				 extra_sigdirs[i], strerror(-rc));
			goto fail;
		}
	}
	rc = scan_db_build(rules, scan_config_cache_dir(cfg), &e->db, err,
			   errsz);
	if (rc < 0)
		goto fail;
	scan_rules_free(rules);
	*out = e;
	return 0;
fail:
	scan_rules_free(rules);
	scan_engine_free(e);
	return rc < 0 ? rc : -EINVAL;
}

void scan_engine_free(struct scan_engine *e)
{
	if (e == NULL)
		return;
	scan_db_free(e->db);
	free(e);
}

const struct scan_db *scan_engine_db(const struct scan_engine *e)
{
	return e->db;
}

const struct scan_config *scan_engine_config(const struct scan_engine *e)
{
	return e->cfg;
}

struct scan_ctx *scan_ctx_create(const struct scan_engine *e)
{
	struct scan_ctx *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	c->e = e;
	c->arena = scan_arena_create(e->decoded_max + ARENA_OVERHEAD);
	c->scratch = scan_db_scratch_create(e->db);
	if (c->arena == NULL || c->scratch == NULL) {
		scan_ctx_free(c);
		return NULL;
	}
	return c;
}

void scan_ctx_free(struct scan_ctx *c)
{
	if (c == NULL)
		return;
	scan_db_scratch_free(c->scratch);
	scan_arena_free(c->arena);
	scan_charset_thread_fini(); /* contexts are per thread */
	free(c);
}

/* ---- helpers --------------------------------------------------------- */

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int arena_full(struct scan_ctx *c, int part, const char *what)
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
	int rc = scan_db_scan(c->e->db, c->scratch, d, n, where, part);
	note_new_hits(c, d, n, view);
	scan_explain(c->v, "    scan part %d %s view: %zu bytes as %s\n", part,
		     view,
		     n, where == SCAN_WHERE_BODY ? "body"
			: where == SCAN_WHERE_ATTACHMENT ? "attachment"
			: where == SCAN_WHERE_SUBJECT ? "subject" : "header");
	return rc;
}

static struct scan_part_info *new_part_info(struct scan_ctx *c, int id)
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
static int part_id(const struct scan_ctx *c, const struct mime_part *p)
{
	return c->id_base + p->id;
}

static const char *part_path(struct scan_ctx *c, const struct mime_part *p)
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

struct leaf {
	int id;
	const char *path;
	const char *content_type; /* declared */
	const char *filename;
	const char *charset;
	unsigned flags;
	unsigned depth;       /* MIME depth within the current tree */
	unsigned embed_depth;
	int second_view;      /* another reading of a part already listed */
};

static int scan_leaf(struct scan_ctx *c, const struct leaf *l,
		     const uint8_t *d, size_t n);

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
	c->nembedded++;
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
		return ec->rc = arena_full(c, l.id, "embedded file path"), 1;
	snprintf(path, plen, "%s/%s", ec->parent->path[0] ? ec->parent->path
							    : "0",
		 name && name[0] ? name : "(unnamed)");
	l.path = path;
	c->decoded_total += len;
	scan_explain(c->v, "  part %d %s: %s file '%s' (%zu bytes)\n", l.id,
		     path, ec->how, name ? name : "", len);
	int rc = scan_leaf(c, &l, data, len);
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
			return arena_full(c, l->id, "TNEF");
		return ec.rc;
	}
	if (ft != SCAN_FT_TEXT && ft != SCAN_FT_HTML)
		return 0;
	ec.how = "uuencoded";
	rc = scan_uu_extract(d, n, c->arena, on_embedded, &ec, &st);
	if (rc == -ENOMEM)
		return arena_full(c, l->id, "uudecode");
	if (ec.rc < 0)
		return ec.rc;
	ec.how = "BinHex";
	rc = scan_binhex_extract(d, n, c->arena, on_embedded, &ec, &st);
	if (rc == -EINVAL)
		scan_verdict_add(c->v, SCAN_F_MALFORMED, l->id, "binhex-corrupt",
				 "BinHex stream has a bad CRC or length");
	if (rc == -ENOMEM)
		return arena_full(c, l->id, "BinHex");
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
			return arena_full(c, l->id, "charset conversion");
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
			return arena_full(c, l->id, "HTML text view");
		int rc = scan_buf(c, text, tlen, SCAN_WHERE_BODY, l->id,
				  "html-text");
		if (rc < 0)
			return rc;
		if (scan_html_links(u, un, c->arena, &text, &tlen) < 0)
			return arena_full(c, l->id, "HTML link view");
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

/* Everything done to the decoded bytes of one leaf. */
static int scan_leaf(struct scan_ctx *c, const struct leaf *l,
		     const uint8_t *d, size_t n)
{
	enum scan_ftype ft = scan_filetype(d, n);
	struct scan_part_info *pi =
		l->second_view ? NULL : new_part_info(c, l->id);
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
	scan_db_hash_match(c->e->db, c->scratch,
			   need & SCAN_HASH_MD5 ? md5 : NULL,
			   need & SCAN_HASH_SHA1 ? sha1 : NULL, sha256, n, l->id);
	note_new_hits(c, NULL, 0, "digest");
	int rc = scan_buf(c, d, n, where, l->id, "decoded");
	if (rc < 0)
		return rc;
	if (where == SCAN_WHERE_BODY) {
		rc = scan_text_views(c, l, d, n, ft);
		if (rc < 0)
			return rc;
	}
	return extract_embedded(c, l, d, n, ft);
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
	int pid = part_id(c, p);
	uint8_t *buf;
	size_t n;
	switch (cte) {
	case MIME_CTE_BASE64:
		buf = scan_arena_alloc(c->arena,
				       scan_b64_decoded_max(p->body_len));
		if (buf == NULL)
			return arena_full(c, pid, "base64");
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
				return arena_full(c, pid, "base64");
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
			return arena_full(c, pid, "quoted-printable");
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
		return arena_full(c, pid, "decoded size");
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
		return arena_full(c, part_id(c, p), "uudecode");
	return ec.rc;
}

static int scan_nested_message(struct scan_ctx *c, const struct leaf *l,
			       const uint8_t *d, size_t n);

static int scan_mime_leaf(struct scan_ctx *c, const struct mime_part *p)
{
	struct leaf l = {
		.id = part_id(c, p),
		.path = part_path(c, p),
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
			const uint8_t *d, *alt;
			size_t n, altn;
			l.second_view = i > 0;
			rc = decode_body(c, p, ctes[i], &d, &n, &alt, &altn);
			if (rc == 0)
				rc = scan_leaf(c, &l, d, n);
			if (rc == 0 && nested)
				rc = scan_nested_message(c, &l, d, n);
			if (rc == 0 && alt != NULL) {
				scan_explain(c->v, "  part %d: second reading, "
					     "base64 up to the first padding\n",
					     l.id);
				l.second_view = 1;
				rc = scan_leaf(c, &l, alt, altn);
			}
		}
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Header block of a part, unfolded and RFC 2047-decoded, as one buffer;
 * the Subject separately. */
static int scan_headers(struct scan_ctx *c, const struct mime_part *p)
{
	if (p->nheaders == 0)
		return 0;
	int pid = part_id(c, p);
	size_t cap = p->header_raw_len * 3 + p->nheaders * 4 + 16;
	char *buf = scan_arena_alloc(c->arena, cap);
	if (buf == NULL)
		return arena_full(c, pid, "header view");
	size_t len = 0;
	const char *subject = NULL;
	for (unsigned i = 0; i < p->nheaders; i++) {
		const struct mime_header *h = &p->headers[i];
		char *val = mime_header_decode(h->value, h->value_len, c->arena);
		if (val == NULL)
			return arena_full(c, pid, "header decode");
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

/* ---- findings from rule hits ------------------------------------------ */

/* Keyword expressions: which terms of one rule this message matched. At
 * most one per hit, so a stack array of SCAN_DB_MAX_HITS never runs out;
 * looked up linearly (such rules are few). */
struct logic_seen {
	uint32_t rule;  /* SCAN_MATCH_LOGIC rule id */
	uint32_t seen;  /* bit k: term k matched */
	int all_part;   /* part of the first ALL term hit, -1: none */
	int any_part;   /* part of the first ANY term hit, -1: none */
};

/* Append to a fixed buffer, truncating; never fails. */
__attribute__((format(printf, 3, 4)))
static void cat(char *buf, size_t sz, const char *fmt, ...)
{
	size_t n = strlen(buf);
	va_list ap;
	if (n + 1 >= sz)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + n, sz - n, fmt, ap);
	va_end(ap);
}

/* A term as shown in details: its pattern, cut after 20 characters. */
#define TERM_SHOWN 32
#define TERM_FMT "%.*s%s"
#define TERM_ARG(t) \
	(int)TERM_SHOWN, (t)->name, strlen((t)->name) > TERM_SHOWN ? "..." : ""

/* Evaluate one keyword expression from the terms seen (e, or none when
 * NULL): a finding when it fires, the reasoning into --explain. */
static void eval_logic(struct scan_ctx *c, uint32_t id,
		       const struct logic_seen *e)
{
	const struct scan_db *db = c->e->db;
	const struct scan_rule *L = scan_db_rule(db, id);
	uint32_t seen = e != NULL ? e->seen : 0;
	unsigned nany = 0, any_hit = 0, all_missing = 0, not_hit = 0;
	char found[SCAN_DETAIL_MAX] = "", any[SCAN_DETAIL_MAX] = "";
	char why[SCAN_DETAIL_MAX] = "";
	for (unsigned k = 0; k < L->nterms; k++) {
		const struct scan_rule *t = scan_db_rule(db, id + 1 + k);
		int hit = (seen >> k) & 1;
		switch (t->role) {
		case SCAN_TERM_ALL:
			if (hit) {
				cat(found, sizeof(found), "%s" TERM_FMT,
				    found[0] ? " + " : "", TERM_ARG(t));
			} else {
				all_missing++;
				cat(why, sizeof(why), "%sterm '" TERM_FMT
				    "' not found", why[0] ? "; " : "",
				    TERM_ARG(t));
			}
			break;
		case SCAN_TERM_ANY:
			nany++;
			if (hit) {
				any_hit++;
				cat(any, sizeof(any), "%s" TERM_FMT,
				    any[0] ? ", " : "", TERM_ARG(t));
			}
			break;
		default: /* SCAN_TERM_NOT */
			if (hit) {
				not_hit++;
				cat(why, sizeof(why), "%s'not' term '"
				    TERM_FMT "' found", why[0] ? "; " : "",
				    TERM_ARG(t));
			}
			break;
		}
	}
	if (any_hit < L->min_any)
		cat(why, sizeof(why), "%s%u of %u 'any' terms found, need %u",
		    why[0] ? "; " : "", any_hit, nany, L->min_any);
	if (nany > 0 && any[0] != '\0')
		cat(found, sizeof(found), "%sany: %s", found[0] ? "; " : "",
		    any);
	const char *cls = L->class_name ? L->class_name : "block";
	if (e != NULL && all_missing == 0 && not_hit == 0 &&
	    any_hit >= L->min_any) {
		int part = e->all_part >= 0 ? e->all_part : e->any_part;
		scan_verdict_add(c->v, SCAN_F_CONTENT, part, L->name,
				 "class %s; %s", cls, found);
		scan_explain(c->v, "  content rule %s (class %s) in part %d: "
			     "%s (%s:%u)\n", L->name, cls, part, found, L->file,
			     L->line);
	} else {
		scan_explain(c->v, "  content rule %s (class %s) not fired: "
			     "%s (%s:%u)\n", L->name, cls,
			     e != NULL ? why : "no term found", L->file,
			     L->line);
	}
}

static void hits_to_findings(struct scan_ctx *c, int *spam_score)
{
	const struct scan_hit *hits;
	unsigned n = scan_db_hits(c->scratch, &hits);
	struct logic_seen ls[SCAN_DB_MAX_HITS];
	unsigned nls = 0;
	*spam_score = 0;
	for (unsigned i = 0; i < n; i++) {
		const struct scan_rule *r = scan_db_rule(c->e->db, hits[i].rule);
		/* What triggered it: the view, the offsets and the bytes, or
		 * the digest of the whole part for hash signatures. */
		char trig[192];
		if (hits[i].where == 0)
			snprintf(trig, sizeof(trig), "%s of all %llu bytes",
				 r->match == SCAN_MATCH_MD5    ? "MD5"
				 : r->match == SCAN_MATCH_SHA1 ? "SHA-1"
							       : "SHA-256",
				 (unsigned long long)hits[i].end);
		else if (hits[i].start != UINT64_MAX)
			snprintf(trig, sizeof(trig), "%s view, bytes %llu-%llu "
				 "\"%s\"", c->hit_view[i] ? c->hit_view[i] : "?",
				 (unsigned long long)hits[i].start,
				 (unsigned long long)hits[i].end, c->hit_bytes[i]);
		else
			snprintf(trig, sizeof(trig), "%s view, ending at byte "
				 "%llu \"...%s\"",
				 c->hit_view[i] ? c->hit_view[i] : "?",
				 (unsigned long long)hits[i].end, c->hit_bytes[i]);
		switch (r->kind) {
		case SCAN_RULE_VIRUS:
			scan_verdict_add(c->v, SCAN_F_VIRUS, hits[i].part,
					 r->name, "%s:%u; %s", r->file, r->line, trig);
			scan_explain(c->v, "  virus %s in part %d: %s (%s:%u)\n",
				     r->name, hits[i].part, trig, r->file,
				     r->line);
			break;
		case SCAN_RULE_CONTENT:
			scan_verdict_add(c->v, SCAN_F_CONTENT, hits[i].part,
					 r->name, "class %s; %s",
					 r->class_name ? r->class_name : "block",
					 trig);
			scan_explain(c->v, "  content rule %s (class %s) in "
				     "part %d: %s (%s:%u)\n", r->name,
				     r->class_name ? r->class_name : "block",
				     hits[i].part, trig, r->file, r->line);
			break;
		case SCAN_RULE_SPAM: {
			/* A keyword weighs once per message, however many
			 * parts it appears in. */
			int dup = 0;
			for (unsigned j = 0; j < i && !dup; j++)
				dup = hits[j].rule == hits[i].rule;
			if (dup)
				break;
			*spam_score += r->score;
			scan_explain(c->v, "  spam keyword %s %+d in part %d: "
				     "%s\n", r->name, r->score, hits[i].part,
				     trig);
			break;
		}
		case SCAN_RULE_TERM: {
			/* Not a finding: noted for its rule, evaluated below. */
			unsigned j = 0;
			while (j < nls && ls[j].rule != r->owner)
				j++;
			if (j == nls) /* n <= SCAN_DB_MAX_HITS: always room */
				ls[nls++] = (struct logic_seen){
					.rule = r->owner, .all_part = -1,
					.any_part = -1};
			ls[j].seen |= 1u << r->term;
			if (r->role == SCAN_TERM_ALL && ls[j].all_part < 0)
				ls[j].all_part = hits[i].part;
			if (r->role == SCAN_TERM_ANY && ls[j].any_part < 0)
				ls[j].any_part = hits[i].part;
			scan_explain(c->v, "  term '%s' (%s) of content rule %s "
				     "in part %d: %s\n", r->name,
				     r->role == SCAN_TERM_ALL   ? "all"
				     : r->role == SCAN_TERM_ANY ? "any"
								: "not",
				     scan_db_rule(c->e->db, r->owner)->name,
				     hits[i].part, trig);
			break;
		}
		}
	}
	for (unsigned j = 0; j < nls; j++)
		eval_logic(c, ls[j].rule, &ls[j]);
	if (c->v->explain != NULL) {
		/* --explain: the keyword expressions no term of matched */
		unsigned nr = scan_db_rule_count(c->e->db);
		for (unsigned id = 0; id < nr; id++) {
			const struct scan_rule *r = scan_db_rule(c->e->db, id);
			unsigned j = 0;
			if (r->match != SCAN_MATCH_LOGIC)
				continue;
			while (j < nls && ls[j].rule != id)
				j++;
			if (j == nls)
				eval_logic(c, id, NULL);
			id += r->nterms;
		}
	}
	unsigned dropped = scan_db_hits_dropped(c->scratch);
	if (dropped > 0)
		scan_verdict_add(c->v, SCAN_F_LIMIT, -1, "rule-hits",
				 "more than %d rule hits; %u not examined",
				 SCAN_DB_MAX_HITS, dropped);
}

/* limits.findings: report at most `max` findings, the most severe first
 * (policy has already seen them all; nfindings_total keeps the count). */
static void keep_reported_findings(struct scan_verdict *v, unsigned max)
{
	static const unsigned char rank[SCAN_F_KIND_COUNT] = {
		[SCAN_F_VIRUS] = 0,     [SCAN_F_CONTENT] = 1,
		[SCAN_F_ATTACHMENT] = 2, [SCAN_F_SPAM] = 3,
		[SCAN_F_SIZE] = 4,      [SCAN_F_LIMIT] = 5,
		[SCAN_F_MALFORMED] = 6, [SCAN_F_AMBIGUOUS] = 7,
	};
	if (max == 0 || v->nfindings <= max)
		return;
	/* Stable insertion sort by rank: at most SCAN_MAX_FINDINGS items. */
	for (unsigned i = 1; i < v->nfindings; i++) {
		struct scan_finding f = v->findings[i];
		unsigned j = i;
		while (j > 0 && rank[v->findings[j - 1].kind] > rank[f.kind]) {
			v->findings[j] = v->findings[j - 1];
			j--;
		}
		v->findings[j] = f;
	}
	v->nfindings = max;
}

/* ---- trees of parts ---------------------------------------------------- */

static int scan_tree(struct scan_ctx *c, const struct mime_message *m)
{
	int rc = 0;
	for (unsigned i = 0; i < m->nparts && rc == 0; i++) {
		const struct mime_part *p = m->parts[i];
		rc = scan_headers(c, p);
		if (rc < 0)
			break;
		if (mime_part_is_leaf(p)) {
			rc = scan_mime_leaf(c, p);
		} else {
			struct scan_part_info *pi =
				new_part_info(c, part_id(c, p));
			if (pi != NULL) {
				pi->path = part_path(c, p);
				pi->content_type = p->content_type;
				pi->filename = p->filename;
				pi->true_type = p->flags & MIME_F_MESSAGE
							? "message" : "multipart";
				pi->size = p->body_len;
			}
		}
	}
	return rc;
}

/* A message/rfc822 part that came transfer-encoded (RFC 2046 forbids it,
 * senders do it anyway; mime.c reports `encoded-message`): parse the
 * decoded bytes as a message of its own, within what is left of the part
 * and depth limits, and scan its tree like the outer one. */
static int scan_nested_message(struct scan_ctx *c, const struct leaf *l,
			       const uint8_t *d, size_t n)
{
	struct mime_limits lim = c->e->mlim;
	unsigned depth = c->depth_base + l->depth + 1;
	if (depth >= lim.depth || (unsigned)c->next_id >= lim.parts) {
		scan_verdict_add(c->v, SCAN_F_LIMIT, l->id,
				 depth >= lim.depth ? "mime-depth" : "mime-parts",
				 "encoded message in part %s not opened: limit "
				 "reached", l->path);
		return 0;
	}
	lim.depth -= depth;
	lim.parts -= (unsigned)c->next_id;

	unsigned first = c->v->nfindings;
	struct mime_message m;
	int rc = mime_parse(d, n, &lim, c->arena, c->v, &m);
	int base = c->next_id;
	/* The parser numbered its findings in the nested tree. */
	for (unsigned i = first; i < c->v->nfindings; i++)
		if (c->v->findings[i].part >= 0)
			c->v->findings[i].part += base;
	if (rc == -ENOMEM)
		return arena_full(c, l->id, "nested message structure");
	if (m.root == NULL)
		return 0;
	scan_explain(c->v, "  part %d %s: encoded message, %u parts, ids from "
		     "%d\n", l->id, l->path, m.nparts, base);

	int saved_base = c->id_base;
	unsigned saved_depth = c->depth_base;
	const char *saved_prefix = c->path_prefix;
	c->next_id += (int)m.nparts;
	c->id_base = base;
	c->depth_base = depth;
	c->path_prefix = l->path;
	rc = scan_tree(c, &m);
	c->id_base = saved_base;
	c->depth_base = saved_depth;
	c->path_prefix = saved_prefix;
	return rc;
}

/* ---- the message ------------------------------------------------------ */

int scan_message(struct scan_ctx *c, const uint8_t *msg, size_t len,
		 const struct scan_envelope *env, char *explain_buf,
		 size_t explain_cap, struct scan_verdict *v)
{
	uint64_t t0 = now_us();
	scan_verdict_init(v, explain_buf, explain_cap);
	scan_arena_reset(c->arena);
	scan_db_hits_reset(c->scratch);
	c->nhits_seen = 0;
	c->v = v;
	c->decoded_total = 0;
	c->decoded_limit_hit = 0;
	c->nembedded = 0;
	c->subject = NULL;
	int rc = 0;

	struct mime_message m;
	int prc = mime_parse(msg, len, &c->e->mlim, c->arena, v, &m);
	if (prc == -ENOMEM)
		arena_full(c, -1, "MIME structure");
	c->id_base = 0;
	c->path_prefix = NULL;
	c->depth_base = 0;
	/* Room for every part the limits allow, nested messages included. */
	c->parts_cap = (m.nparts > c->e->mlim.parts ? m.nparts
						     : c->e->mlim.parts) +
		       MAX_EMBEDDED + 1;
	v->parts = scan_arena_zalloc(c->arena,
				     c->parts_cap * sizeof(*v->parts));
	if (v->parts == NULL)
		c->parts_cap = 0;
	c->next_id = (int)m.nparts;
	if (m.root == NULL)
		goto policy; /* arena exhausted before the root: limit finding */

	if (env == NULL || env->mail_from == NULL) {
		scan_envelope_from_headers(m.root, c->arena, &c->env, c->rcpt,
					   MAX_ENV_RCPT);
		env = &c->env;
	}

	scan_explain(v, "parse: %u MIME parts\n", m.nparts);
	rc = scan_tree(c, &m);
	if (rc == -ENOMEM)
		rc = 0; /* a limit finding has been recorded; policy decides */
	if (rc < 0) {
		scan_verdict_add(v, SCAN_F_LIMIT, -1, "scan-error",
				 "the scanner failed (%s); message not fully "
				 "scanned", strerror(-rc));
	}

	int spam;
	hits_to_findings(c, &spam);
	v->spam_score = spam;

policy:;
	struct scan_policy_input in = {
		.message_size = len,
		.subject = c->subject,
		.keyword_score = v->spam_score,
	};
	if (env == NULL) { /* no tree at all: an empty envelope */
		memset(&c->env, 0, sizeof(c->env));
		c->env.mail_from = "";
		env = &c->env;
	}
	scan_policy_apply(c->e->cfg, env, &in, v);
	keep_reported_findings(v, scan_config_limits(c->e->cfg)->findings);
	v->scan_us = now_us() - t0;
	return rc;
}
