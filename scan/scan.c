/* scan/scan.c - the content pipeline: engine, context, trees of parts,
 * the message entry point; see scan.h (and scan_int.h for the split). */
#include "scan/scan.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "scan/charset.h"
#include "scan/deadline.h"
#include "scan/policy.h"
#include "scan/scan_int.h"

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

/* The per-file signature report of the builder, kept by the engine. */
static int keep_sig_report(struct scan_engine *e, const struct scan_rules *r)
{
	unsigned n = scan_rules_file_count(r);
	char line[2048];

	e->sig_report = calloc(n ? n : 1, sizeof *e->sig_report);
	if (e->sig_report == NULL)
		return -ENOMEM;
	for (unsigned i = 0; i < n; i++) {
		const struct scan_sigfile_stats *st = scan_rules_file_stats(r, i);
		int k = snprintf(line, sizeof line, "%s: ", st->file);

		if (k < 0 || (size_t)k >= sizeof line)
			k = 0;
		scan_sigfile_stats_format(st, line + k, sizeof line - (size_t)k);
		if ((e->sig_report[i] = strdup(line)) == NULL)
			return -ENOMEM;
		e->nsig_report = i + 1;
	}
	return 0;
}

unsigned scan_engine_sig_report(const struct scan_engine *e,
				const char *const **lines)
{
	*lines = (const char *const *)e->sig_report;
	return e->nsig_report;
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
				 "file of ClamAV signatures: .ndb .ldb .hdb "
				 ".hsb .fp .sfp .ign2)",
				 extra_sigdirs[i], strerror(-rc));
			goto fail;
		}
	}
	rc = scan_db_build(rules, scan_config_cache_dir(cfg), &e->db, err,
			   errsz);
	if (rc < 0)
		goto fail;
	rc = pipe_clam_engine_create(e, extra_sigdirs, diag, diag_ctx, err,
				     errsz);
	if (rc < 0)
		goto fail;
	if ((rc = keep_sig_report(e, rules)) < 0) {
		snprintf(err, errsz, "out of memory building the rule set");
		goto fail;
	}
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
	pipe_clam_engine_free(e);
	scan_db_free(e->db);
	for (unsigned i = 0; i < e->nsig_report; i++)
		free(e->sig_report[i]);
	free(e->sig_report);
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
	if (e->clam != NULL && (c->clam = clam_ctx_create(e->clam)) == NULL) {
		scan_ctx_free(c);
		return NULL;
	}
	/* Every id a scan can hand out: the top-level tree (parts + 1 with
	 * the "rest" leaf), nested trees within the same part limit, and
	 * the embedded files. */
	unsigned parts = e->mlim.parts ? e->mlim.parts : MIME_DEFAULT_PARTS;
	c->holder_cap = parts + MAX_EMBEDDED +
			scan_config_limits(e->cfg)->archive_members + 16;
	c->holder = malloc(c->holder_cap * sizeof(*c->holder));
	c->edit_mask = malloc(c->holder_cap * sizeof(*c->edit_mask));
	c->ole2 = malloc(sizeof(*c->ole2));
	if (c->arena == NULL || c->scratch == NULL || c->holder == NULL ||
	    c->edit_mask == NULL || c->ole2 == NULL) {
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
	clam_ctx_free(c->clam);
	free(c->holder);
	free(c->edit_mask);
	free(c->ole2);
	for (size_t i = 0; i < sizeof(c->arc_buf) / sizeof(c->arc_buf[0]);
	     i++)
		scan_arc_buf_fini(&c->arc_buf[i]);
	scan_charset_thread_fini(); /* contexts are per thread */
	free(c);
}

_Thread_local uint64_t scan_deadline_ns;

void scan_ctx_set_deadline(struct scan_ctx *c, uint64_t deadline_ns)
{
	c->deadline_ns = deadline_ns;
}

/* ---- helpers --------------------------------------------------------- */

uint64_t pipe_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int pipe_time_up(struct scan_ctx *c)
{
	if (c->deadline_ns == 0)
		return 0;
	if (c->timed_out)
		return 1;
	if (pipe_now_ns() >= c->deadline_ns)
		c->timed_out = 1;
	return c->timed_out;
}

void pipe_set_holder(struct scan_ctx *c, int id, int carrier)
{
	if (id < 0 || (unsigned)id >= c->holder_cap)
		return;
	c->holder[id] = carrier >= 0 && (unsigned)carrier < c->holder_cap
				? c->holder[carrier] : -1;
}

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
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
		[SCAN_F_ENCRYPTED] = 2, [SCAN_F_MACRO] = 2,
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

/* A scan that ran out of time is a limit verdict whatever the policy made
 * of the part it saw, and its "scan-time" finding stays reported. */
static void mark_timed_out(struct scan_verdict *v)
{
	v->cls = SCAN_LIMIT;
	snprintf(v->reason, sizeof(v->reason),
		 "scan time budget exceeded; try again later");
	for (unsigned i = 0; i < v->nfindings; i++)
		if (strcmp(v->findings[i].name, SCAN_TIME_FINDING) == 0)
			return;
	struct scan_finding *f =
		v->nfindings < SCAN_MAX_FINDINGS ? &v->findings[v->nfindings++]
						 : &v->findings[v->nfindings - 1];
	memset(f, 0, sizeof(*f));
	f->kind = SCAN_F_LIMIT;
	f->part = -1;
	snprintf(f->name, sizeof(f->name), "%s", SCAN_TIME_FINDING);
	snprintf(f->detail, sizeof(f->detail),
		 "the scan did not finish within its time budget");
}

/* ---- trees of parts ---------------------------------------------------- */

static int scan_tree(struct scan_ctx *c, const struct mime_message *m)
{
	int rc = 0;
	for (unsigned i = 0; i < m->nparts && rc == 0; i++) {
		const struct mime_part *p = m->parts[i];
		if (pipe_time_up(c))
			return -ETIME;
		rc = pipe_headers(c, p);
		if (rc < 0)
			break;
		if (mime_part_is_leaf(p)) {
			rc = pipe_mime_leaf(c, p);
		} else {
			struct scan_part_info *pi =
				pipe_part_info(c, pipe_part_id(c, p));
			if (pi != NULL) {
				pi->path = pipe_part_path(c, p);
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
int pipe_nested_message(struct scan_ctx *c, const struct leaf *l,
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
		return pipe_arena_full(c, l->id, "nested message structure");
	if (m.root == NULL)
		return 0;
	scan_explain(c->v, "  part %d %s: encoded message, %u parts, ids from "
		     "%d\n", l->id, l->path, m.nparts, base);

	for (unsigned i = 0; i < m.nparts; i++)
		pipe_set_holder(c, base + (int)i, l->id);
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
	c->timed_out = 0;
	pipe_archive_begin(c);
	scan_deadline_ns = c->deadline_ns; /* for the loops, see deadline.h */
	int rc = 0;

	struct mime_message m;
	int prc = mime_parse(msg, len, &c->e->mlim, c->arena, v, &m);
	if (prc == -ENOMEM)
		pipe_arena_full(c, -1, "MIME structure");
	c->msg = msg;
	c->msg_len = len;
	c->tree = m;
	for (unsigned i = 0; i < m.nparts && i < c->holder_cap; i++)
		c->holder[i] = (int)i;
	c->id_base = 0;
	c->path_prefix = NULL;
	c->depth_base = 0;
	/* Room for every part the limits allow, nested messages included. */
	c->parts_cap = (m.nparts > c->e->mlim.parts ? m.nparts
						     : c->e->mlim.parts) +
		       MAX_EMBEDDED + scan_config_limits(c->e->cfg)->archive_members +
		       1;
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
	/* A decoder or the HTML reader that stopped short returns what it
	 * had, not -ETIME: whatever passed the deadline, the scan is cut. */
	if (rc == 0 && pipe_time_up(c))
		rc = -ETIME;
	if (rc == -ETIME) {
		scan_verdict_add(v, SCAN_F_LIMIT, -1, SCAN_TIME_FINDING,
				 "the scan did not finish within its time "
				 "budget; the message was not fully scanned");
	} else if (rc < 0) {
		scan_verdict_add(v, SCAN_F_LIMIT, -1, "scan-error",
				 "the scanner failed (%s); message not fully "
				 "scanned", strerror(-rc));
	}

	int spam;
	pipe_hits_to_findings(c, &spam);
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
	if (rc == -ETIME)
		mark_timed_out(v);
	scan_deadline_ns = 0;
	v->scan_us = now_us() - t0;
	return rc;
}
