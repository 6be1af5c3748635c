/*
 * scan/rules.c - the rule builder: content/spam rules and ClamAV signature
 * files into one list of rule records plus Hyperscan expressions.
 * Contract in scan/rules.h.
 */
#include "scan/rules.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <hs.h>
#include <openssl/evp.h>

#include "scan/sig_clamav.h"

/* Hyperscan check state of a rule (scan_rules_validate). */
enum { HS_UNCHECKED, HS_OK, HS_REJECTED };

/* Where a file's late diagnostics go: the diag it was loaded with. */
struct file_diag {
	scan_diag_fn fn;
	void *ctx;
};

/* A name from an .ign/.ign2 file. */
struct sig_ignore {
	char *name;
	unsigned file;  /* index into files */
	unsigned line;
};

struct scan_rules {
	struct scan_rule *rules;
	struct scan_rule_expr *exprs; /* expr == NULL for hash rules */
	uint8_t *hs_state;            /* HS_* per rule */
	unsigned n, cap;
	unsigned checked;             /* rules [0, checked) validated */
	int replayed;                 /* notes came from a cache file */
	struct scan_sigfile_stats *files;
	struct file_diag *fdiag;      /* parallel to files */
	unsigned nfiles, files_cap;
	struct scan_rule_note *notes; /* dropped signatures, in rule order */
	unsigned nnotes, notes_cap;
	scan_diag_fn diag;            /* build-level messages */
	void *diag_ctx;
	struct sig_ignore *ign;       /* sorted by name at validation */
	unsigned nign, ign_cap;
	EVP_MD_CTX *src; /* running SHA-256 of the sources */
};

struct scan_rules *scan_rules_create(void)
{
	struct scan_rules *r = calloc(1, sizeof *r);

	if (r == NULL)
		return NULL;
	r->src = EVP_MD_CTX_new();
	if (r->src == NULL || !EVP_DigestInit_ex2(r->src, EVP_sha256(), NULL))
		goto fail;
	return r;
fail:
	scan_rules_free(r);
	return NULL;
}

/* Does rule i own its file string? Content and spam rules and their
 * terms do; signatures (and .ldb subsignatures) share their file's. */
static int owns_file(const struct scan_rules *r, unsigned i)
{
	const struct scan_rule *ru = &r->rules[i];

	if (ru->kind == SCAN_RULE_TERM)
		return r->rules[ru->owner].kind != SCAN_RULE_VIRUS;
	return ru->kind != SCAN_RULE_VIRUS;
}

void scan_rules_free(struct scan_rules *r)
{
	if (r == NULL)
		return;
	for (unsigned i = 0; i < r->n; i++) {
		free((char *)r->rules[i].name);
		free((char *)r->rules[i].class_name);
		if (owns_file(r, i))
			free((char *)r->rules[i].file); /* sig files: shared */
		free((char *)r->exprs[i].expr);
	}
	for (unsigned i = 0; i < r->nfiles; i++) {
		free((char *)r->files[i].file);
		for (unsigned k = 0; k < r->files[i].nreasons; k++)
			free((char *)r->files[i].reasons[k].why);
	}
	for (unsigned i = 0; i < r->nign; i++)
		free(r->ign[i].name);
	free(r->ign);
	for (unsigned i = 0; i < r->nnotes; i++) {
		free((char *)r->notes[i].file);
		free((char *)r->notes[i].msg);
	}
	free(r->rules);
	free(r->exprs);
	free(r->hs_state);
	free(r->files);
	free(r->fdiag);
	free(r->notes);
	EVP_MD_CTX_free(r->src);
	free(r);
}

unsigned scan_rules_count(const struct scan_rules *r)
{
	return r->n;
}

const struct scan_rule *scan_rules_get(const struct scan_rules *r,
				       unsigned id)
{
	return id < r->n ? &r->rules[id] : NULL;
}

const struct scan_rule_expr *scan_rules_expr(const struct scan_rules *r,
					     unsigned id)
{
	return id < r->n && r->exprs[id].expr != NULL ? &r->exprs[id] : NULL;
}

unsigned scan_rules_file_count(const struct scan_rules *r)
{
	return r->nfiles;
}

const struct scan_sigfile_stats *scan_rules_file_stats(
	const struct scan_rules *r, unsigned i)
{
	return i < r->nfiles ? &r->files[i] : NULL;
}

void scan_rules_source_hash(const struct scan_rules *r, uint8_t out[32])
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();

	if (c == NULL || !EVP_MD_CTX_copy_ex(c, r->src) ||
	    !EVP_DigestFinal_ex(c, out, NULL))
		abort(); /* load-time out of memory */
	EVP_MD_CTX_free(c);
}

/* Source hash: every field is length-prefixed so concatenations cannot
 * collide. */
static void src_bytes(struct scan_rules *r, const void *p, size_t n)
{
	uint64_t len = n;

	EVP_DigestUpdate(r->src, &len, sizeof len);
	if (n > 0)
		EVP_DigestUpdate(r->src, p, n);
}

static void src_str(struct scan_rules *r, const char *s)
{
	if (s == NULL)
		src_bytes(r, "\xff", 1); /* distinct from "" */
	else
		src_bytes(r, s, strlen(s) + 1);
}

static void src_u64(struct scan_rules *r, uint64_t v)
{
	src_bytes(r, &v, sizeof v);
}

/* Append a rule; takes ownership of expr on success. */
static struct scan_rule *rules_push(struct scan_rules *r,
				    struct scan_rule_expr **xp)
{
	if (r->n == r->cap) {
		unsigned cap = r->cap ? r->cap * 2 : 64;
		struct scan_rule *nr = realloc(r->rules, cap * sizeof *nr);

		if (nr == NULL)
			return NULL;
		r->rules = nr;
		struct scan_rule_expr *ne = realloc(r->exprs, cap * sizeof *ne);
		if (ne == NULL)
			return NULL;
		r->exprs = ne;
		uint8_t *ns = realloc(r->hs_state, cap);
		if (ns == NULL)
			return NULL;
		r->hs_state = ns;
		r->cap = cap;
	}
	memset(&r->rules[r->n], 0, sizeof r->rules[r->n]);
	memset(&r->exprs[r->n], 0, sizeof r->exprs[r->n]);
	r->hs_state[r->n] = HS_UNCHECKED;
	*xp = &r->exprs[r->n];
	return &r->rules[r->n++];
}

static void pop_rule(struct scan_rules *r)
{
	struct scan_rule *ru = &r->rules[--r->n];

	free((char *)ru->name);
	free((char *)ru->class_name);
	if (owns_file(r, r->n))
		free((char *)ru->file);
	free((char *)r->exprs[r->n].expr);
}

__attribute__((format(printf, 4, 5)))
static void errf(char *err, size_t errsz, const struct scan_rule_def *d,
		 const char *fmt, ...)
{
	va_list ap;
	int n;

	if (errsz == 0)
		return;
	n = snprintf(err, errsz, "%s:%u: %s rule '%s': ",
		     d->file ? d->file : "(config)", d->line,
		     d->kind == SCAN_RULE_SPAM ? "spam" : "content",
		     d->name ? d->name : "(unnamed)");
	if (n < 0 || (size_t)n >= errsz)
		return;
	va_start(ap, fmt);
	vsnprintf(err + n, errsz - (size_t)n, fmt, ap);
	va_end(ap);
}

static int is_word(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_';
}

/* Build the Hyperscan expression of a keyword or regex. */
static char *def_expr(const char *pattern, unsigned flags)
{
	const unsigned char *p = (const unsigned char *)pattern;
	size_t n = strlen(pattern);
	char *e = malloc(n * 4 + 16), *o = e;

	if (e == NULL)
		return NULL;
	if (flags & SCAN_RULE_REGEX) {
		if (flags & SCAN_RULE_WORD)
			o += sprintf(o, "\\b(?:%s)\\b", pattern);
		else
			o += sprintf(o, "%s", pattern);
		return e;
	}
	if ((flags & SCAN_RULE_WORD) && is_word(p[0]))
		o += sprintf(o, "\\b");
	for (size_t i = 0; i < n; i++) {
		if ((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z') ||
		    (p[i] >= '0' && p[i] <= '9'))
			*o++ = (char)p[i];
		else
			o += sprintf(o, "\\x%02x", p[i]);
	}
	if ((flags & SCAN_RULE_WORD) && is_word(p[n - 1]))
		o += sprintf(o, "\\b");
	*o = '\0';
	return e;
}

/* Ask Hyperscan whether it accepts the expression. 0 or -EINVAL with the
 * compiler's message copied into msg. */
static int hs_validate(const struct scan_rule_expr *x, char *msg, size_t msz)
{
	hs_expr_info_t *info = NULL;
	hs_compile_error_t *cerr = NULL;
	hs_error_t e;

	e = hs_expression_info(x->expr, x->hs_flags, &info, &cerr);
	if (e == HS_SUCCESS) {
		/* hs_compile_multi() would refuse the whole set for this */
		int empty = info->min_width == 0;

		free(info);
		if (!empty)
			return 0;
		snprintf(msg, msz, "pattern can match the empty string");
		return -EINVAL;
	}
	snprintf(msg, msz, "%s", cerr ? cerr->message : "rejected by Hyperscan");
	hs_free_compile_error(cerr);
	return -EINVAL;
}

/* Append a record for a keyword or regex: kind, where, file and line
 * from d, name and pattern as given. The record is the builder's on
 * success; 0 or -ENOMEM (nothing added). */
static int push_pattern(struct scan_rules *r, const struct scan_rule_def *d,
			enum scan_rule_kind kind, const char *name,
			const char *pattern, unsigned flags)
{
	struct scan_rule_expr *x;
	struct scan_rule *ru = rules_push(r, &x);
	int literal = !(flags & SCAN_RULE_REGEX);

	if (ru == NULL)
		return -ENOMEM;
	ru->kind = kind;
	ru->match = SCAN_MATCH_PATTERN;
	ru->where = d->where ? d->where : SCAN_WHERE_ANY;
	ru->score = kind == SCAN_RULE_SPAM ? d->score : 0;
	ru->line = d->line;
	ru->target_type = -1;
	/* a literal's length is known (\b is zero-width): hits get a start */
	ru->min_len = literal ? (uint32_t)strlen(pattern) : 0;
	ru->max_len = literal ? ru->min_len : UINT32_MAX;
	ru->size = UINT64_MAX;
	ru->name = strdup(name);
	ru->file = strdup(d->file ? d->file : "(config)");
	if (kind == SCAN_RULE_CONTENT)
		ru->class_name = strdup(d->class_name);
	x->expr = def_expr(pattern, flags);
	x->hs_flags = HS_FLAG_SINGLEMATCH |
		      ((flags & SCAN_RULE_CASELESS) ? HS_FLAG_CASELESS : 0);
	if (ru->name == NULL || ru->file == NULL || x->expr == NULL ||
	    (kind == SCAN_RULE_CONTENT && ru->class_name == NULL)) {
		pop_rule(r);
		return -ENOMEM;
	}
	/* no literal can fail Hyperscan; regexes are checked by
	 * scan_rules_validate() when the database is compiled */
	return 0;
}

/* Check the terms of a keyword expression. 0 or -EINVAL (err set). */
static int check_terms(const struct scan_rule_def *d, unsigned known,
		       unsigned *nany, char *err, size_t errsz)
{
	unsigned nall = 0;

	*nany = 0;
	if (d->kind != SCAN_RULE_CONTENT) {
		errf(err, errsz, d, "keyword expressions (terms) are for "
			 "content rules only");
		return -EINVAL;
	}
	if (d->pattern != NULL && d->pattern[0] != '\0') {
		errf(err, errsz, d, "give either a pattern or terms, not both");
		return -EINVAL;
	}
	if (d->terms == NULL || d->nterms > SCAN_RULE_MAX_TERMS) {
		errf(err, errsz, d, "%u terms; use 1 to %d", d->nterms,
		     SCAN_RULE_MAX_TERMS);
		return -EINVAL;
	}
	for (unsigned i = 0; i < d->nterms; i++) {
		const struct scan_term_def *t = &d->terms[i];

		if (t->pattern == NULL || t->pattern[0] == '\0') {
			errf(err, errsz, d, "term %u: empty pattern", i + 1);
			return -EINVAL;
		}
		if (t->flags & ~known) {
			errf(err, errsz, d, "term %u: unknown flags %#x", i + 1,
			     t->flags & ~known);
			return -EINVAL;
		}
		switch (t->role) {
		case SCAN_TERM_ALL:
			nall++;
			break;
		case SCAN_TERM_ANY:
			(*nany)++;
			break;
		case SCAN_TERM_NOT:
			break;
		default:
			errf(err, errsz, d, "term %u: unknown role %d", i + 1,
			     (int)t->role);
			return -EINVAL;
		}
	}
	if (nall + *nany == 0) {
		errf(err, errsz, d, "needs at least one 'all' or 'any' term "
			 "('not' terms alone would match every message)");
		return -EINVAL;
	}
	if (d->min_any > *nany) {
		errf(err, errsz, d, "min %u but only %u 'any' terms",
		     d->min_any, *nany);
		return -EINVAL;
	}
	return 0;
}

/* Add a keyword expression: its LOGIC record, then one TERM record per
 * term. 0 or -ENOMEM (nothing added). */
static int add_logic(struct scan_rules *r, const struct scan_rule_def *d,
		     unsigned nany)
{
	unsigned first = r->n;
	struct scan_rule_expr *x;
	struct scan_rule *ru = rules_push(r, &x);

	if (ru == NULL)
		return -ENOMEM;
	ru->kind = SCAN_RULE_CONTENT;
	ru->match = SCAN_MATCH_LOGIC;
	ru->where = d->where ? d->where : SCAN_WHERE_ANY;
	ru->line = d->line;
	ru->target_type = -1;
	ru->max_len = UINT32_MAX;
	ru->size = UINT64_MAX;
	ru->nterms = (uint8_t)d->nterms;
	ru->min_any = (uint8_t)(nany == 0 ? 0 : d->min_any ? d->min_any : 1);
	ru->name = strdup(d->name);
	ru->file = strdup(d->file ? d->file : "(config)");
	ru->class_name = strdup(d->class_name);
	if (ru->name == NULL || ru->file == NULL || ru->class_name == NULL)
		goto nomem;
	for (unsigned i = 0; i < d->nterms; i++) {
		const struct scan_term_def *t = &d->terms[i];

		if (push_pattern(r, d, SCAN_RULE_TERM, t->pattern, t->pattern,
				 t->flags) != 0)
			goto nomem;
		ru = &r->rules[r->n - 1];
		ru->owner = first;
		ru->role = (uint8_t)t->role;
		ru->term = (uint8_t)i;
	}
	return 0;
nomem:
	while (r->n > first)
		pop_rule(r);
	return -ENOMEM;
}

int scan_rules_add(struct scan_rules *r, const struct scan_rule_def *d,
		   char *err, size_t errsz)
{
	const unsigned known = SCAN_RULE_CASELESS | SCAN_RULE_WORD |
			       SCAN_RULE_REGEX;
	unsigned nany = 0;
	int rc;

	if (errsz > 0)
		err[0] = '\0';
	if (d->kind != SCAN_RULE_CONTENT && d->kind != SCAN_RULE_SPAM) {
		errf(err, errsz, d, "only content and spam rules can be "
			 "added; virus signatures come from signature files");
		return -EINVAL;
	}
	if (d->name == NULL || d->name[0] == '\0' ||
	    (d->nterms == 0 && (d->pattern == NULL || d->pattern[0] == '\0'))) {
		errf(err, errsz, d, "needs a name and a non-empty pattern");
		return -EINVAL;
	}
	if (d->flags & ~known) {
		errf(err, errsz, d, "unknown flags %#x", d->flags & ~known);
		return -EINVAL;
	}
	if (d->where & ~(unsigned)SCAN_WHERE_ANY) {
		errf(err, errsz, d, "unknown where bits %#x", d->where);
		return -EINVAL;
	}
	if (d->kind == SCAN_RULE_CONTENT &&
	    (d->class_name == NULL || d->class_name[0] == '\0')) {
		errf(err, errsz, d, "content rule needs a class");
		return -EINVAL;
	}
	if (d->nterms > 0 &&
	    (rc = check_terms(d, known, &nany, err, errsz)) != 0)
		return rc;
	for (unsigned i = 0; i < r->n; i++) {
		const struct scan_rule *o = &r->rules[i];

		if (o->kind == d->kind && strcmp(o->name, d->name) == 0) {
			errf(err, errsz, d, "duplicate name (first at %s:%u)",
			     o->file, o->line);
			return -EEXIST;
		}
	}

	rc = d->nterms > 0 ? add_logic(r, d, nany)
			   : push_pattern(r, d, d->kind, d->name, d->pattern,
					  d->flags);
	if (rc != 0) {
		errf(err, errsz, d, "out of memory");
		return -ENOMEM;
	}

	src_bytes(r, "R", 1);
	src_u64(r, (uint64_t)d->kind);
	src_u64(r, d->flags);
	src_u64(r, d->where ? d->where : SCAN_WHERE_ANY);
	src_u64(r, (uint64_t)(int64_t)(d->kind == SCAN_RULE_SPAM ? d->score : 0));
	src_u64(r, d->line);
	src_str(r, d->name);
	src_str(r, d->nterms > 0 ? NULL : d->pattern);
	src_str(r, d->kind == SCAN_RULE_CONTENT ? d->class_name : NULL);
	src_str(r, d->file);
	if (d->nterms > 0) {
		src_bytes(r, "T", 1);
		src_u64(r, d->nterms);
		src_u64(r, d->min_any);
		for (unsigned i = 0; i < d->nterms; i++) {
			src_u64(r, (uint64_t)d->terms[i].role);
			src_u64(r, d->terms[i].flags);
			src_str(r, d->terms[i].pattern);
		}
	}
	return 0;
}

/* ---- signature files ---------------------------------------------------- */

enum sigfmt {
	FMT_NDB, FMT_LDB, FMT_HASH, FMT_ALLOW, FMT_IGN, FMT_PESECT,
	FMT_CLAMAV_OTHER, FMT_UNKNOWN
};

static enum sigfmt sig_format(const char *path)
{
	static const char *const other[] = {
		"db", "mdu", "msu", "ldu", "cdb", "cbc",
		"pdb", "gdb", "wdb", "ftm", "idb",
		"crb", "cat", "info", "cfg", "yar", "yara", "ndu", "hdu", "hsu",
		"imp", "cvd", "cld", "cud", "pwdb", "zmd", "rmd", "sign",
	};
	const char *base = strrchr(path, '/');
	const char *dot = strrchr(base ? base + 1 : path, '.');

	if (dot == NULL)
		return FMT_UNKNOWN;
	dot++;
	if (strcmp(dot, "ndb") == 0)
		return FMT_NDB;
	if (strcmp(dot, "ldb") == 0)
		return FMT_LDB;
	if (strcmp(dot, "hdb") == 0 || strcmp(dot, "hsb") == 0)
		return FMT_HASH;
	if (strcmp(dot, "fp") == 0 || strcmp(dot, "sfp") == 0)
		return FMT_ALLOW;
	if (strcmp(dot, "ign") == 0 || strcmp(dot, "ign2") == 0)
		return FMT_IGN;
	if (strcmp(dot, "mdb") == 0 || strcmp(dot, "msb") == 0)
		return FMT_PESECT;
	for (size_t i = 0; i < sizeof other / sizeof other[0]; i++)
		if (strcmp(dot, other[i]) == 0)
			return FMT_CLAMAV_OTHER;
	return FMT_UNKNOWN;
}

__attribute__((format(printf, 5, 6)))
static void diagf(scan_diag_fn diag, void *ctx, const char *file,
		  unsigned line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (diag == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	diag(ctx, file, line, msg);
}

static int read_file(const char *path, char **out, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;

	if (f == NULL)
		return -errno;
	for (;;) {
		if (cap - n < 65536) {
			if (cap > ((size_t)1 << 30)) {
				rc = -EFBIG;
				goto out;
			}
			cap = cap ? cap * 2 : 65536;
			char *nb = realloc(buf, cap);
			if (nb == NULL) {
				rc = -ENOMEM;
				goto out;
			}
			buf = nb;
		}
		size_t got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0) {
			if (ferror(f))
				rc = -EIO;
			break;
		}
	}
out:
	fclose(f);
	if (rc != 0) {
		free(buf);
		return rc;
	}
	*out = buf;
	*len = n;
	return 0;
}

/* Translation output buffer, reused across the lines of a file (the
 * worst-case bound is ~34x the line; the kept copy is exact). */
struct xbuf {
	char *p;
	size_t cap;
};

/* Count a signature under reason why (static or transient: copied). */
static void reason_add(struct scan_sigfile_stats *st, const char *why,
		       int libclamav)
{
	for (unsigned k = 0; k < st->nreasons; k++)
		if (st->reasons[k].libclamav == libclamav &&
		    strcmp(st->reasons[k].why, why) == 0) {
			st->reasons[k].count++;
			return;
		}
	if (st->nreasons == SCAN_SIGFILE_MAX_REASONS) {
		st->other_reasons++;
		return;
	}
	char *c = strdup(why);
	if (c == NULL) { /* statistics only: count it without its text */
		st->other_reasons++;
		return;
	}
	st->reasons[st->nreasons++] =
		(struct scan_sig_reason){ c, 1, libclamav };
}

/* Results of one signature line. */
enum { LINE_REJECTED, LINE_ADDED, LINE_LIBCLAMAV };

/* A line the parser refused with rc (-ENOTSUP: valid ClamAV left to
 * libclamav; else malformed): report and group its reason. */
static int line_refused(struct scan_sigfile_stats *st, const char *name,
			size_t nl, unsigned lineno, int rc, const char *why,
			scan_diag_fn diag, void *ctx)
{
	int lc = rc == -ENOTSUP;

	diagf(diag, ctx, st->file, lineno, "signature '%.*s' %s: %s",
	      nl > 200 ? 200 : (int)nl, name,
	      lc ? "left to libclamav" : "rejected", why);
	reason_add(st, why, lc);
	return lc ? LINE_LIBCLAMAV : LINE_REJECTED;
}

static int xbuf_reserve(struct xbuf *xb, size_t bound)
{
	if (xb->cap < bound) {
		char *np = realloc(xb->p, bound);

		if (np == NULL)
			return -ENOMEM;
		xb->p = np;
		xb->cap = bound;
	}
	return 0;
}

/* Add one ndb line. Returns LINE_*, or -ENOMEM. */
static int add_ndb(struct scan_rules *r, struct scan_sigfile_stats *st,
		   struct xbuf *xb, const char *l, size_t len, unsigned lineno,
		   scan_diag_fn diag, void *ctx)
{
	size_t bound = scan_sig_expr_bound(len);
	struct scan_sig_ndb sig;
	struct scan_rule_expr *x;
	struct scan_rule *ru;
	const char *why = NULL;
	char *expr;
	int rc;

	if (xbuf_reserve(xb, bound) != 0)
		return -ENOMEM;
	rc = scan_sig_ndb_parse(l, len, &sig, xb->p, bound, &why);
	if (rc != 0) {
		const char *colon = memchr(l, ':', len);

		return line_refused(st, l, colon ? (size_t)(colon - l) : len,
				    lineno, rc, why, diag, ctx);
	}
	expr = strdup(xb->p);
	if (expr == NULL)
		return -ENOMEM;
	ru = rules_push(r, &x);
	if (ru == NULL) {
		free(expr);
		return -ENOMEM;
	}
	x->expr = expr;
	x->hs_flags = sig.hs_flags;
	x->check = sig.check == SCAN_SIG_CHECK_FIXED ? SCAN_RULE_CHECK_FIXED
		   : sig.check == SCAN_SIG_CHECK_SOM ? SCAN_RULE_CHECK_SOM
						      : SCAN_RULE_CHECK_NONE;
	ru->kind = SCAN_RULE_VIRUS;
	ru->match = SCAN_MATCH_PATTERN;
	ru->where = SCAN_RULE_SIG_WHERE;
	ru->file = st->file;
	ru->line = lineno;
	ru->target_type = (int)sig.target;
	ru->offset = sig.off_kind == SCAN_SIG_OFF_ABS   ? SCAN_OFFSET_ABS
		     : sig.off_kind == SCAN_SIG_OFF_EOF ? SCAN_OFFSET_EOF
							: SCAN_OFFSET_ANY;
	ru->off = sig.off;
	ru->shift = sig.shift;
	ru->min_len = sig.min_len;
	ru->max_len = sig.max_len;
	ru->size = UINT64_MAX;
	ru->name = strndup(sig.name, sig.name_len);
	if (ru->name == NULL) {
		pop_rule(r);
		return -ENOMEM;
	}
	/* Hyperscan's verdict comes at build time: scan_rules_validate() */
	return LINE_ADDED;
}

/* Add one .ldb line: its logic record, then one TERM record per
 * subsignature. Returns LINE_*, or -ENOMEM (nothing added). */
static int add_ldb(struct scan_rules *r, struct scan_sigfile_stats *st,
		   struct xbuf *xb, const char *l, size_t len, unsigned lineno,
		   scan_diag_fn diag, void *ctx)
{
	struct scan_sig_ldb *sig = malloc(sizeof *sig);
	struct scan_sig_sub sub;
	struct scan_rule_expr *x;
	struct scan_rule *ru;
	const char *why = NULL;
	unsigned first = r->n;
	char reason[160];
	int rc;

	if (sig == NULL)
		return -ENOMEM;
	rc = scan_sig_ldb_parse(l, len, sig, &why);
	if (rc != 0) {
		const char *semi = memchr(l, ';', len);

		rc = line_refused(st, l, semi ? (size_t)(semi - l) : len,
				  lineno, rc, why, diag, ctx);
		free(sig);
		return rc;
	}
	/* every subsignature must parse before anything is added */
	for (unsigned k = 0; k < sig->nsub; k++) {
		if (xbuf_reserve(xb, scan_sig_expr_bound(2 * sig->sub_len[k])))
			goto nomem;
		rc = scan_sig_ldb_sub_parse(sig, k,
					    (int)((sig->counted >> k) & 1),
					    &sub, xb->p, xb->cap, &why);
		if (rc != 0) {
			snprintf(reason, sizeof reason, "subsignature %u: %s",
				 k, why);
			/* the reason is grouped without the index */
			diagf(diag, ctx, st->file, lineno, "signature '%.*s' %s: "
			      "%s", (int)(sig->name_len > 200 ? 200
							      : sig->name_len),
			      sig->name, rc == -ENOTSUP ? "left to libclamav"
							: "rejected", reason);
			reason_add(st, why, rc == -ENOTSUP);
			free(sig);
			return rc == -ENOTSUP ? LINE_LIBCLAMAV : LINE_REJECTED;
		}
	}
	ru = rules_push(r, &x);
	if (ru == NULL)
		goto nomem;
	ru->kind = SCAN_RULE_VIRUS;
	ru->match = SCAN_MATCH_LOGIC;
	ru->where = SCAN_RULE_SIG_WHERE;
	ru->file = st->file;
	ru->line = lineno;
	ru->target_type = (int)sig->target;
	ru->off = sig->size_min;
	ru->shift = sig->size_max;
	ru->max_len = UINT32_MAX;
	ru->size = UINT64_MAX;
	ru->nterms = (uint8_t)sig->nsub;
	ru->name = strndup(sig->name, sig->name_len);
	ru->class_name = strndup(sig->expr, sig->expr_len);
	if (ru->name == NULL || ru->class_name == NULL)
		goto nomem;
	for (unsigned k = 0; k < sig->nsub; k++) {
		rc = scan_sig_ldb_sub_parse(sig, k,
					    (int)((sig->counted >> k) & 1),
					    &sub, xb->p, xb->cap, &why);
		if (rc != 0) /* parsed above with the same input */
			abort();
		char *expr = strdup(xb->p);
		if (expr == NULL)
			goto nomem;
		ru = rules_push(r, &x);
		if (ru == NULL) {
			free(expr);
			goto nomem;
		}
		x->expr = expr;
		x->hs_flags = sub.hs_flags;
		x->check = sub.check == SCAN_SIG_CHECK_FIXED ? SCAN_RULE_CHECK_FIXED
			   : sub.check == SCAN_SIG_CHECK_SOM ? SCAN_RULE_CHECK_SOM
							      : SCAN_RULE_CHECK_NONE;
		ru->kind = SCAN_RULE_TERM;
		ru->match = SCAN_MATCH_PATTERN;
		ru->where = SCAN_RULE_SIG_WHERE;
		ru->file = st->file;
		ru->line = lineno;
		ru->target_type = (int)sig->target;
		ru->offset = sub.off_kind == SCAN_SIG_OFF_ABS   ? SCAN_OFFSET_ABS
			     : sub.off_kind == SCAN_SIG_OFF_EOF ? SCAN_OFFSET_EOF
								: SCAN_OFFSET_ANY;
		ru->off = sub.off;
		ru->shift = sub.shift;
		ru->min_len = sub.min_len;
		ru->max_len = sub.max_len;
		ru->size = UINT64_MAX;
		ru->owner = first;
		ru->term = (uint8_t)k;
		ru->name = strndup(sig->sub[k], sig->sub_len[k] > 128
							  ? 128 : sig->sub_len[k]);
		if (ru->name == NULL)
			goto nomem;
		if (sub.pcre) {
			ru->class_name = strndup(sub.trigger, sub.trigger_len);
			if (ru->class_name == NULL)
				goto nomem;
		}
	}
	free(sig);
	return LINE_ADDED;
nomem:
	while (r->n > first)
		pop_rule(r);
	free(sig);
	return -ENOMEM;
}

/* Add one .ign/.ign2 line: "Name", "Name:md5" (.ign2) or
 * "db:line:Name" (.ign). LINE_ADDED or -ENOMEM. */
static int add_ignore(struct scan_rules *r, unsigned fi, const char *l,
		      size_t len, unsigned lineno, int old_format)
{
	const char *name = l, *c;
	size_t nl = len;

	if (old_format) { /* the last field */
		for (c = l + len; c > l && c[-1] != ':'; c--)
			;
		name = c;
		nl = len - (size_t)(c - l);
	} else if ((c = memchr(l, ':', len)) != NULL) {
		nl = (size_t)(c - l); /* the md5 of the entry is not checked */
	}
	if (r->nign == r->ign_cap) {
		unsigned cap = r->ign_cap ? r->ign_cap * 2 : 16;
		struct sig_ignore *ni = realloc(r->ign, cap * sizeof *ni);

		if (ni == NULL)
			return -ENOMEM;
		r->ign = ni;
		r->ign_cap = cap;
	}
	char *n = strndup(name, nl);
	if (n == NULL)
		return -ENOMEM;
	r->ign[r->nign++] = (struct sig_ignore){ n, fi, lineno };
	return LINE_ADDED;
}

static int add_hash(struct scan_rules *r, struct scan_sigfile_stats *st,
		    const char *l, size_t len, unsigned lineno, int allow,
		    scan_diag_fn diag, void *ctx)
{
	struct scan_sig_hash h;
	struct scan_rule_expr *x;
	struct scan_rule *ru;
	const char *why = NULL;

	if (scan_sig_hash_parse(l, len, &h, &why) != 0) {
		diagf(diag, ctx, st->file, lineno, "hash signature rejected: %s",
		      why);
		reason_add(st, why, 0);
		return LINE_REJECTED;
	}
	ru = rules_push(r, &x);
	if (ru == NULL)
		return -ENOMEM;
	ru->kind = SCAN_RULE_VIRUS;
	ru->match = h.type == SCAN_SIG_MD5    ? SCAN_MATCH_MD5
		    : h.type == SCAN_SIG_SHA1 ? SCAN_MATCH_SHA1
					      : SCAN_MATCH_SHA256;
	ru->where = SCAN_RULE_SIG_WHERE;
	ru->file = st->file;
	ru->line = lineno;
	ru->target_type = 0;
	ru->max_len = UINT32_MAX;
	ru->size = h.size == SCAN_SIG_SIZE_ANY ? UINT64_MAX : h.size;
	ru->role = (uint8_t)(allow != 0);
	memcpy(ru->digest, h.digest, sizeof ru->digest);
	ru->name = strndup(h.name, h.name_len);
	if (ru->name == NULL) {
		pop_rule(r);
		return -ENOMEM;
	}
	return LINE_ADDED;
}

static struct scan_sigfile_stats *file_push(struct scan_rules *r,
					    const char *path,
					    scan_diag_fn diag, void *ctx)
{
	if (r->nfiles == r->files_cap) {
		unsigned cap = r->files_cap ? r->files_cap * 2 : 16;
		struct scan_sigfile_stats *nf =
			realloc(r->files, cap * sizeof *nf);

		if (nf == NULL)
			return NULL;
		r->files = nf;
		struct file_diag *nd = realloc(r->fdiag, cap * sizeof *nd);
		if (nd == NULL)
			return NULL;
		r->fdiag = nd;
		r->files_cap = cap;
	}
	struct scan_sigfile_stats *st = &r->files[r->nfiles];
	memset(st, 0, sizeof *st);
	st->file = strdup(path);
	if (st->file == NULL)
		return NULL;
	r->fdiag[r->nfiles] = (struct file_diag){ diag, ctx };
	r->nfiles++;
	if (diag != NULL && r->diag == NULL) {
		r->diag = diag;
		r->diag_ctx = ctx;
	}
	return st;
}

int scan_rules_load_sigfile(struct scan_rules *r, const char *path,
			    scan_diag_fn diag, void *ctx)
{
	enum sigfmt fmt = sig_format(path);
	struct scan_sigfile_stats *st;
	struct xbuf xb = { NULL, 0 };
	char *buf = NULL;
	size_t len = 0;
	unsigned lineno = 0;
	int rc, total = 0;

	st = file_push(r, path, diag, ctx);
	if (st == NULL)
		return -ENOMEM;
	if (fmt == FMT_CLAMAV_OTHER || fmt == FMT_UNKNOWN) {
		st->unsupported = 1;
		diagf(diag, ctx, st->file, 0, "%s, skipped",
		      fmt == FMT_CLAMAV_OTHER
			      ? "ClamAV signature format not read by the "
				"Hyperscan path (libclamav reads it when the "
				"clamav: section enables it)"
			      : "not a supported signature file (.ndb, .ldb, "
				".hdb, .hsb, .mdb, .msb, .fp, .sfp, .ign, .ign2)");
		return 0;
	}
	rc = read_file(path, &buf, &len);
	if (rc != 0) {
		diagf(diag, ctx, st->file, 0, "cannot read: %s", strerror(-rc));
		return rc;
	}
	src_bytes(r, "F", 1);
	src_str(r, path);
	src_bytes(r, buf, len);

	for (size_t pos = 0; pos < len;) {
		const char *l = buf + pos;
		const char *nl = memchr(l, '\n', len - pos);
		size_t ll = nl ? (size_t)(nl - l) : len - pos;
		size_t k;

		pos += ll + (nl != NULL);
		lineno++;
		if (ll > 0 && l[ll - 1] == '\r')
			ll--;
		for (k = 0; k < ll && (l[k] == ' ' || l[k] == '\t'); k++)
			;
		if (k == ll || l[0] == '#')
			continue;
		switch (fmt) {
		case FMT_NDB:
			rc = add_ndb(r, st, &xb, l, ll, lineno, diag, ctx);
			break;
		case FMT_LDB:
			rc = add_ldb(r, st, &xb, l, ll, lineno, diag, ctx);
			break;
		case FMT_HASH:
		case FMT_ALLOW:
			rc = add_hash(r, st, l, ll, lineno, fmt == FMT_ALLOW,
				      diag, ctx);
			break;
		case FMT_IGN:
			rc = add_ignore(r, r->nfiles - 1, l, ll, lineno,
					path[strlen(path) - 1] == 'n');
			break;
		default: /* FMT_PESECT, see docs/decisions.md */
			reason_add(st, "PE section hash (.mdb/.msb): libclamav "
				       "only", 1);
			rc = LINE_LIBCLAMAV;
			break;
		}
		if (rc < 0)
			goto out;
		if (rc == LINE_REJECTED) {
			st->rejected++;
			continue;
		}
		if (rc == LINE_LIBCLAMAV) {
			st->libclamav++;
			continue;
		}
		total++;
		switch (fmt) {
		case FMT_NDB: st->loaded++; break;
		case FMT_LDB: st->loaded++; st->logical++; break;
		case FMT_HASH: st->hashes++; break;
		case FMT_ALLOW: st->allow++; break;
		default: st->ignores++; break;
		}
	}
	if (fmt == FMT_PESECT && st->libclamav > 0)
		diagf(diag, ctx, st->file, 0, "%u PE section hash signatures "
		      "left to libclamav (.mdb/.msb are not translated)",
		      st->libclamav);
	rc = total;
out:
	free(xb.p);
	free(buf);
	return rc;
}

__attribute__((format(printf, 4, 5)))
static void catf(char *buf, size_t sz, size_t *n, const char *fmt, ...)
{
	va_list ap;
	int k;

	va_start(ap, fmt);
	k = vsnprintf(buf + (*n < sz ? *n : sz), *n < sz ? sz - *n : 0, fmt,
		      ap);
	va_end(ap);
	if (k > 0)
		*n += (size_t)k;
}

size_t scan_sigfile_stats_format(const struct scan_sigfile_stats *st,
				 char *buf, size_t sz)
{
	const struct { unsigned v; const char *what; } a[] = {
		{ st->loaded, "to Hyperscan" }, { st->hashes, "hash" },
		{ st->allow, "allow-list" }, { st->ignores, "ignore entries" },
	}, b[] = {
		{ st->libclamav, "left to libclamav" },
		{ st->ignored, "ignored" }, { st->rejected, "rejected" },
	};
	size_t n = 0;
	const char *sep = "";

	if (sz > 0)
		buf[0] = '\0';
	if (st->unsupported) {
		catf(buf, sz, &n, "not read (format not supported here)");
		return n;
	}
	for (size_t i = 0; i < sizeof a / sizeof a[0]; i++) {
		if (a[i].v == 0)
			continue;
		catf(buf, sz, &n, "%s%u %s", sep, a[i].v, a[i].what);
		if (i == 0 && st->logical > 0)
			catf(buf, sz, &n, " (%u logical)", st->logical);
		sep = ", ";
	}
	sep = n > 0 ? "; " : "";
	for (size_t i = 0; i < sizeof b / sizeof b[0]; i++) {
		if (b[i].v == 0)
			continue;
		catf(buf, sz, &n, "%s%u %s", sep, b[i].v, b[i].what);
		sep = ", ";
	}
	if (n == 0)
		catf(buf, sz, &n, "nothing loaded");
	for (unsigned k = 0; k < st->nreasons; k++)
		catf(buf, sz, &n, "%s%ux %s: %s", k ? ", " : "; reasons: ",
		     st->reasons[k].count,
		     st->reasons[k].libclamav ? "libclamav" : "rejected",
		     st->reasons[k].why);
	if (st->other_reasons > 0)
		catf(buf, sz, &n, ", %ux other reasons", st->other_reasons);
	return n;
}

static int name_cmp(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int not_hidden(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

int scan_rules_load_sigdir(struct scan_rules *r, const char *dir,
			   scan_diag_fn diag, void *ctx)
{
	struct dirent **list = NULL;
	int n, rc = 0, total = 0;

	n = scandir(dir, &list, not_hidden, name_cmp);
	if (n < 0) {
		rc = -errno;
		diagf(diag, ctx, dir, 0, "cannot read directory: %s",
		      strerror(errno));
		return rc;
	}
	for (int i = 0; i < n; i++) {
		char path[4096];
		struct stat sb;

		if (rc >= 0) {
			snprintf(path, sizeof path, "%s/%s", dir,
				 list[i]->d_name);
			if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode)) {
				rc = scan_rules_load_sigfile(r, path, diag, ctx);
				if (rc > 0)
					total += rc;
			}
		}
		free(list[i]);
	}
	free(list);
	return rc < 0 ? rc : total;
}

/* ---- build-time checks (for scan/hsdb.c) ------------------------------- */

void scan_rules_set_diag(struct scan_rules *r, scan_diag_fn diag, void *ctx)
{
	r->diag = diag;
	r->diag_ctx = ctx;
}

void scan_rules_warn(const struct scan_rules *r, const char *file,
		     unsigned line, const char *msg)
{
	if (r->diag != NULL)
		r->diag(r->diag_ctx, file, line, msg);
}

/* The signature file named path (same pointer, or equal text), or -1. */
static int file_index(const struct scan_rules *r, const char *path)
{
	for (unsigned i = 0; i < r->nfiles; i++)
		if (r->files[i].file == path)
			return (int)i;
	for (unsigned i = 0; i < r->nfiles; i++)
		if (strcmp(r->files[i].file, path) == 0)
			return (int)i;
	return -1;
}

/* What a note's text says happened (the notes of a cache file carry only
 * the text): 0 rejected, 1 left to libclamav, 2 ignored; *reason the
 * grouped reason; *what 1 for an .ldb signature ("logical signature
 * ..."), 2 for a hash signature ("hash signature ..."), else 0. */
static int note_class(const char *msg, const char **reason, int *what)
{
	const char *p;

	*what = strncmp(msg, "logical ", 8) == 0 ? 1
		: strncmp(msg, "hash ", 5) == 0  ? 2
						 : 0;
	if ((p = strstr(msg, " left to libclamav: ")) != NULL) {
		*reason = p + 20;
		return 1;
	}
	if ((p = strstr(msg, "' ignored: ")) != NULL) {
		*reason = "ignored (listed in an .ign/.ign2 file)";
		return 2;
	}
	p = strstr(msg, "' rejected: ");
	*reason = p != NULL ? p + 12 : msg;
	return 0;
}

/* Report a dropped signature through its file's diag, move it from loaded
 * to rejected / libclamav / ignored in the file's stats (by the note's
 * text, see note_class), and keep it as a note. */
static int note_drop(struct scan_rules *r, const char *file, unsigned line,
		     const char *msg)
{
	int fi = file_index(r, file);
	struct scan_rule_note *nt;

	if (fi >= 0) {
		struct scan_sigfile_stats *st = &r->files[fi];
		const char *reason;
		int what, cls = note_class(msg, &reason, &what);

		if (what == 2) {
			if (st->hashes > 0)
				st->hashes--;
		} else if (st->loaded > 0) {
			st->loaded--;
		}
		if (what == 1 && st->logical > 0)
			st->logical--;
		if (cls == 2) {
			st->ignored++;
		} else {
			if (cls == 1)
				st->libclamav++;
			else
				st->rejected++;
			reason_add(st, reason, cls == 1);
		}
		if (r->fdiag[fi].fn != NULL)
			r->fdiag[fi].fn(r->fdiag[fi].ctx, st->file, line, msg);
	}
	if (r->nnotes == r->notes_cap) {
		unsigned cap = r->notes_cap ? r->notes_cap * 2 : 16;
		struct scan_rule_note *nn = realloc(r->notes, cap * sizeof *nn);

		if (nn == NULL)
			return -ENOMEM;
		r->notes = nn;
		r->notes_cap = cap;
	}
	nt = &r->notes[r->nnotes];
	nt->file = strdup(file);
	nt->line = line;
	nt->msg = strdup(msg);
	if (nt->file == NULL || nt->msg == NULL) {
		free((char *)nt->file);
		free((char *)nt->msg);
		return -ENOMEM;
	}
	r->nnotes++;
	return 0;
}

static int ign_cmp(const void *a, const void *b)
{
	return strcmp(((const struct sig_ignore *)a)->name,
		      ((const struct sig_ignore *)b)->name);
}

/* The ignore entry for name, or NULL (r->ign sorted). */
static const struct sig_ignore *ign_find(const struct scan_rules *r,
					 const char *name)
{
	struct sig_ignore key = { (char *)name, 0, 0 };

	if (r->nign == 0)
		return NULL;
	return bsearch(&key, r->ign, r->nign, sizeof *r->ign, ign_cmp);
}

/* Drop rule i and, for a logical signature, its subsignatures; *last
 * gets the last id of the group. */
static void drop_group(struct scan_rules *r, unsigned i, unsigned *last)
{
	const struct scan_rule *ru = &r->rules[i];

	*last = i + (ru->match == SCAN_MATCH_LOGIC ? ru->nterms : 0);
	if (*last >= r->n)
		*last = r->n - 1;
	for (unsigned j = i; j <= *last; j++)
		r->hs_state[j] = HS_REJECTED;
}

int scan_rules_validate(struct scan_rules *r, char *err, size_t errsz)
{
	char msg[256], text[512];

	if (errsz > 0)
		err[0] = '\0';
	if (r->nign > 1)
		qsort(r->ign, r->nign, sizeof *r->ign, ign_cmp);
	for (; r->checked < r->n; r->checked++) {
		unsigned i = r->checked, last;
		const struct scan_rule *ru = &r->rules[i];
		const struct sig_ignore *ig;
		int logical = ru->kind == SCAN_RULE_VIRUS &&
			      ru->match == SCAN_MATCH_LOGIC;

		if (ru->kind == SCAN_RULE_VIRUS && ru->role == 0 &&
		    (ig = ign_find(r, ru->name)) != NULL) {
			drop_group(r, i, &last);
			r->checked = last;
			if (r->replayed)
				continue;
			snprintf(text, sizeof text, "%ssignature '%s' ignored: "
				 "listed in %s:%u", logical ? "logical "
						    : ru->match != SCAN_MATCH_PATTERN
							    ? "hash " : "",
				 ru->name, r->files[ig->file].file, ig->line);
			if (note_drop(r, ru->file, ru->line, text) != 0)
				goto nomem;
			continue;
		}
		if (logical) {
			unsigned bad = 0, n = ru->nterms;

			r->hs_state[i] = HS_OK;
			for (unsigned k = 1; k <= n && i + k < r->n && !bad; k++)
				if (hs_validate(&r->exprs[i + k], msg,
						sizeof msg) == 0)
					r->hs_state[i + k] = HS_OK;
				else
					bad = k;
			if (bad == 0) {
				r->checked = i + n;
				continue;
			}
			drop_group(r, i, &last);
			r->checked = last;
			if (r->replayed)
				continue;
			snprintf(text, sizeof text, "logical signature '%s' "
				 "(subsignature %u) left to libclamav: "
				 "Hyperscan: %s", ru->name, bad - 1, msg);
			if (note_drop(r, ru->file, ru->line, text) != 0)
				goto nomem;
			continue;
		}

		if (r->exprs[i].expr == NULL) {
			r->hs_state[i] = HS_OK; /* hash signature */
			continue;
		}
		if (hs_validate(&r->exprs[i], msg, sizeof msg) == 0) {
			r->hs_state[i] = HS_OK;
			continue;
		}
		if (ru->kind == SCAN_RULE_TERM) {
			/* configuration error, named after its rule */
			if (errsz > 0)
				snprintf(err, errsz, "%s:%u: content rule '%s': "
					 "term '%.64s': bad pattern: %s",
					 ru->file, ru->line,
					 r->rules[ru->owner].name, ru->name, msg);
			return -EINVAL;
		}
		if (ru->kind != SCAN_RULE_VIRUS) {
			/* configuration error: stays unchecked, fails again */
			if (errsz > 0)
				snprintf(err, errsz, "%s:%u: %s rule '%s': bad "
					 "pattern: %s", ru->file, ru->line,
					 ru->kind == SCAN_RULE_SPAM ? "spam"
								    : "content",
					 ru->name, msg);
			return -EINVAL;
		}
		r->hs_state[i] = HS_REJECTED;
		if (r->replayed)
			continue; /* already reported from the cache's notes */
		snprintf(text, sizeof text,
			 "signature '%s' left to libclamav: Hyperscan: %s",
			 ru->name, msg);
		if (note_drop(r, ru->file, ru->line, text) != 0)
			goto nomem;
	}
	return 0;
nomem:
	if (errsz > 0)
		snprintf(err, errsz, "out of memory");
	return -ENOMEM;
}

int scan_rules_rejected(const struct scan_rules *r, unsigned id)
{
	return id < r->checked && r->hs_state[id] == HS_REJECTED;
}

unsigned scan_rules_notes(const struct scan_rules *r,
			  const struct scan_rule_note **out)
{
	*out = r->notes;
	return r->nnotes;
}

int scan_rules_replay_notes(struct scan_rules *r,
			    const struct scan_rule_note *notes, unsigned n)
{
	if (r->checked > 0 || r->replayed)
		return 0; /* reported already */
	r->replayed = 1;
	for (unsigned i = 0; i < n; i++)
		if (note_drop(r, notes[i].file, notes[i].line, notes[i].msg) != 0)
			return -ENOMEM;
	return 0;
}
