/* scan/scan_clam.c - libclamav in the pipeline: the engine built with the
 * Hyperscan database (one rule generation = both), and the second opinion
 * on the leaves clam_wants() selects, after the Hyperscan pass. See
 * scan_int.h and scan/clam.h. */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "scan/clam.h"
#include "scan/policy.h"
#include "scan/scan_int.h"

/* Rule generations of this process: part of the verdict cache key. */
static _Atomic uint64_t clam_generations;

/* Every path libclamav loads: `signatures:`, the command line's extra
 * signature paths, then `clamav.databases`. NULL-terminated in paths[]
 * (room for cap entries, the NULL included); the count, or -E2BIG. */
static int clam_paths(const struct scan_config *cfg,
		      const char *const *extra, const char **paths, size_t cap)
{
	const char *const *lists[3] = {scan_config_signatures(cfg), extra,
				       scan_config_clamav(cfg)->databases};
	size_t n = 0;
	for (size_t k = 0; k < 3; k++)
		for (size_t i = 0; lists[k] != NULL && lists[k][i] != NULL;
		     i++) {
			if (n + 1 >= cap)
				return -E2BIG;
			paths[n++] = lists[k][i];
		}
	paths[n] = NULL;
	return (int)n;
}

int pipe_clam_engine_create(struct scan_engine *e,
			    const char *const *extra_sigdirs,
			    scan_diag_fn diag, void *diag_ctx, char *err,
			    size_t errsz)
{
	const struct scan_clamav_conf *cc = scan_config_clamav(e->cfg);
	const char *paths[256];
	if (!cc->enabled)
		return 0;
	int n = clam_paths(e->cfg, extra_sigdirs, paths,
			   sizeof(paths) / sizeof(paths[0]));
	if (n < 0) {
		snprintf(err, errsz, "clamav: more than %zu signature paths; "
			 "list directories instead of files",
			 sizeof(paths) / sizeof(paths[0]) - 1);
		return -E2BIG;
	}
	if (n == 0) { /* nothing to load: libclamav stays off */
		if (diag != NULL)
			diag(diag_ctx, "clamav", 0, "no signature path: "
			     "libclamav off (set signatures: or "
			     "clamav.databases)");
		return 0;
	}
	const struct scan_limits *lim = scan_config_limits(e->cfg);
	struct clam_options o;
	clam_options_init(&o);
	clam_options_from_limits(&o, lim);
	if (lim->attachment_size != 0)
		o.max_filesize = lim->attachment_size;
	if (lim->archive_time_ms != 0)
		o.max_scantime_ms = lim->archive_time_ms > UINT32_MAX
					    ? UINT32_MAX
					    : (uint32_t)lim->archive_time_ms;
	/* As clamd's defaults: broken executables are not a finding (our
	 * own checks and the attachment filter judge executables). */
	o.heuristics = CLAM_H_ENCRYPTED | CLAM_H_MACROS;
	o.generation = atomic_fetch_add(&clam_generations, 1) + 1;
	e->clam_cache = clam_cache_create(0);
	if (e->clam_cache == NULL) {
		snprintf(err, errsz, "out of memory for the libclamav verdict "
			 "cache");
		return -ENOMEM;
	}
	o.cache = e->clam_cache;
	char cerr[512];
	int rc = clam_engine_create(paths, &o, diag, diag_ctx, &e->clam, cerr,
				    sizeof(cerr));
	if (rc < 0) {
		snprintf(err, errsz, "clamav: %s (fix or remove the database, "
			 "or set clamav.enabled: false to scan without "
			 "libclamav)", cerr);
		return rc;
	}
	e->clam_sel = cc->all_leaves ? CLAM_SEL_ALL : CLAM_SEL_DEFAULT;
	return 0;
}

void pipe_clam_engine_free(struct scan_engine *e)
{
	clam_engine_free(e->clam);
	clam_cache_free(e->clam_cache); /* after the engine that uses it */
	e->clam = NULL;
	e->clam_cache = NULL;
}

/* Does a Hyperscan or hash virus hit on part `part`, or on a part inside
 * it (ids inner_lo .. inner_hi - 1), carry libclamav's signature name
 * (without libclamav's ".UNOFFICIAL" suffix)? */
static int hs_found(struct scan_ctx *c, int part, int inner_lo, int inner_hi,
		    const char *name)
{
	static const char suffix[] = ".UNOFFICIAL";
	size_t len = strlen(name), sl = sizeof(suffix) - 1;
	if (len > sl && strcmp(name + len - sl, suffix) == 0)
		len -= sl;
	const struct scan_hit *hits;
	unsigned nh = scan_db_hits(c->scratch, &hits);
	for (unsigned i = 0; i < nh; i++) {
		if (hits[i].part != part &&
		    (hits[i].part < inner_lo || hits[i].part >= inner_hi))
			continue;
		const struct scan_rule *r = scan_db_rule(c->e->db,
							 hits[i].rule);
		if (r->kind == SCAN_RULE_VIRUS && strlen(r->name) == len &&
		    memcmp(r->name, name, len) == 0)
			return 1;
	}
	return 0;
}

/* A text leaf that is a mail or an mbox (an attachment not declared
 * message/rfc822, so our MIME layer does not open it): its first line is
 * "From " or a header field, and a MIME header starts a line within the
 * first 4 KiB. libclamav decodes it. */
static int looks_like_mail(const uint8_t *d, size_t n)
{
	size_t lim = n < 4096 ? n : 4096, i = 0;
	if (lim < 5)
		return 0;
	if (memcmp(d, "From ", 5) != 0) {
		while (i < lim && d[i] > ' ' && d[i] < 0x7f && d[i] != ':')
			i++;
		if (i == 0 || i >= lim || d[i] != ':')
			return 0;
	}
	static const char *const mime[] = {"mime-version:", "content-type:",
					   "content-transfer-encoding:"};
	for (i = 0; i < lim; i++) {
		if (i > 0 && d[i - 1] != '\n')
			continue;
		for (size_t k = 0; k < sizeof(mime) / sizeof(mime[0]); k++) {
			size_t ml = strlen(mime[k]);
			if (lim - i >= ml &&
			    strncasecmp((const char *)d + i, mime[k], ml) == 0)
				return 1;
		}
	}
	return 0;
}

int pipe_clam(struct scan_ctx *c, const struct leaf *l, const uint8_t *d,
	      size_t n, enum scan_ftype ft, const uint8_t sha256[32],
	      int first_inner, int unread)
{
	const struct scan_engine *e = c->e;
	if (c->clam == NULL)
		return 0;
	/* Besides the selection: containers our walker could not read to
	 * the end, and mail carried as a plain attachment. */
	const char *why = NULL;
	if (clam_wants(ft, e->clam_sel))
		why = "";
	else if (e->clam_sel == CLAM_SEL_DEFAULT && unread)
		why = ", not fully read by the archive walker";
	else if (e->clam_sel == CLAM_SEL_DEFAULT && ft == SCAN_FT_TEXT &&
		 looks_like_mail(d, n))
		why = ", a mail as an attachment";
	if (why == NULL)
		return 0;
	if (pipe_time_up(c))
		return -ETIME;
	const struct scan_limits *lim = scan_config_limits(e->cfg);
	if (lim->attachment_size != 0 && n > lim->attachment_size) {
		/* The size filter sees it; libclamav would only say
		 * Heuristics.Limits.Exceeded.MaxFileSize. */
		scan_explain(c->v, "  libclamav part %d: not called, %zu bytes "
			     "> attachment_size\n", l->id, n);
		return 0;
	}
	struct clam_result r;
	int rc = clam_scan(c->clam, d, n, sha256, l->filename, &r);
	const char *kind = clam_class_finding(r.cls);
	scan_explain(c->v, "  libclamav part %d: %s%s%s%s (%s, %.1f ms%s)\n",
		     l->id, kind ? kind : "clean", r.name[0] ? " " : "",
		     r.name, rc < 0 ? " error" : "",
		     r.cached ? "cache hit" : "scanned",
		     (double)r.scan_ns / 1e6, why);
	switch (r.cls) {
	case CLAM_CLEAN:
		break;
	case CLAM_VIRUS:
		if (hs_found(c, l->id, first_inner, c->next_id, r.name)) {
			scan_explain(c->v, "    %s: already found by the "
				     "Hyperscan path, reported once\n",
				     r.name);
			break;
		}
		scan_verdict_add(c->v, SCAN_F_VIRUS, l->id, r.name,
				 "%s", r.detail);
		break;
	case CLAM_ENCRYPTED:
		scan_verdict_add(c->v, SCAN_F_ENCRYPTED, l->id, r.name,
				 "%s", r.detail);
		break;
	case CLAM_MACRO:
		scan_verdict_add(c->v, SCAN_F_MACRO, l->id, r.name,
				 "%s", r.detail);
		break;
	case CLAM_MALFORMED:
		scan_verdict_add(c->v, SCAN_F_MALFORMED, l->id, r.name,
				 "%s", r.detail);
		break;
	case CLAM_LIMIT:
	case CLAM_CLASS_COUNT:
		scan_verdict_add(c->v, SCAN_F_LIMIT, l->id, r.name,
				 "%s", r.detail);
		break;
	}
	return 0;
}

int scan_ctx_clam_stats(const struct scan_ctx *c, struct clam_stats *out)
{
	if (c->clam == NULL)
		return -ENOENT;
	clam_ctx_stats(c->clam, out);
	return 0;
}
