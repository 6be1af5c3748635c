/* scan/config.c - load and validate the scan configuration: limits,
 * signature and rule-cache paths, internal domains, address groups and
 * patterns, templates, content rules and spam settings; the loader's pool
 * and shared helpers (policy_int.h). Routes and policies are parsed by
 * policy_conf.c. See policy.h for the schema and policy_int.h for the
 * precomputed form. */
#include "scan/policy_int.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- Pool: everything a config owns, freed at once ---------------------- */

struct pol_block {
	struct pol_block *next;
	size_t used, cap;
	max_align_t data[];
};

void *pol_alloc(struct scan_config *c, size_t n)
{
	const size_t al = alignof(max_align_t);
	n = (n + al - 1) & ~(al - 1);
	if (n == 0)
		n = al;
	struct pol_block *b = c->pool;
	if (b == NULL || b->cap - b->used < n) {
		size_t cap = n > 16384 ? n : 16384;
		b = malloc(sizeof(*b) + cap);
		if (b == NULL)
			return NULL;
		b->used = 0;
		b->cap = cap;
		b->next = c->pool;
		c->pool = b;
	}
	void *p = (char *)b->data + b->used;
	b->used += n;
	memset(p, 0, n);
	return p;
}

/* Array of n elements of size sz, n may be 0 (returns a valid pointer). */
void *pol_array(struct scan_config *c, size_t n, size_t sz)
{
	if (n != 0 && sz > SIZE_MAX / n)
		return NULL;
	return pol_alloc(c, n * sz);
}

char *pol_strdup(struct scan_config *c, const char *s)
{
	size_t n = strlen(s);
	char *p = pol_alloc(c, n + 1);
	if (p != NULL)
		memcpy(p, s, n + 1);
	return p;
}

void scan_config_free(struct scan_config *cfg)
{
	if (cfg == NULL)
		return;
	struct pol_block *b = cfg->pool;
	while (b != NULL) {
		struct pol_block *next = b->next;
		free(b);
		b = next;
	}
	free(cfg);
}

/* ---- Loader helpers (policy_int.h) --------------------------------------- */

int pol_oom(struct loader *l)
{
	if (l->err != NULL && l->errsz > 0)
		snprintf(l->err, l->errsz,
			 "%s: out of memory while loading the configuration",
			 l->c->file);
	return -ENOMEM;
}

/* Names of routes, policies, groups, classes, lists, templates, areas:
 * they appear in logs, headers and file names. */
int pol_check_ident(struct loader *l, const struct conf_node *n,
		    const char *what, const char *s)
{
	size_t len = strlen(s);
	if (len == 0 || len > 63)
		return ERR(l, n, "%s '%.64s': use 1 to 63 characters", what, s);
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (!isalnum(ch) && ch != '-' && ch != '_' && ch != '.')
			return ERR(l, n, "%s '%.64s': use only letters, "
				   "digits, '-', '_' and '.'", what, s);
	}
	return 0;
}

int pol_get_ident(struct loader *l, const struct conf_node *n,
		  const char *what, const char **out)
{
	const char *s;
	int rc = conf_get_string(n, what, false, &s, l->err, l->errsz);
	if (rc < 0)
		return rc;
	rc = pol_check_ident(l, n, what, s);
	if (rc < 0)
		return rc;
	*out = pol_strdup(l->c, s);
	return *out != NULL ? 0 : OOM(l);
}

/* Optional size key of map m: keeps *out when absent. */
int pol_opt_size(struct loader *l, const struct conf_node *m,
		 const char *key, const char *what, uint64_t min,
		 uint64_t max, uint64_t *out)
{
	const struct conf_node *n = conf_map_get(m, key);
	if (n == NULL)
		return 0;
	return conf_get_size(n, what, min, max, out, l->err, l->errsz);
}

static int opt_uint(struct loader *l, const struct conf_node *m,
		    const char *key, const char *what, long long min,
		    long long max, unsigned *out)
{
	const struct conf_node *n = conf_map_get(m, key);
	long long v;
	if (n == NULL)
		return 0;
	int rc = conf_get_int(n, what, min, max, &v, l->err, l->errsz);
	if (rc == 0)
		*out = (unsigned)v;
	return rc;
}

static int opt_duration(struct loader *l, const struct conf_node *m,
			const char *key, const char *what, uint64_t min_ms,
			uint64_t max_ms, uint64_t *out_ms)
{
	const struct conf_node *n = conf_map_get(m, key);
	if (n == NULL)
		return 0;
	return conf_get_duration(n, what, min_ms, max_ms, out_ms, l->err,
				 l->errsz);
}

static int opt_bool(struct loader *l, const struct conf_node *m,
		    const char *key, const char *what, bool *out)
{
	const struct conf_node *n = conf_map_get(m, key);
	if (n == NULL)
		return 0;
	return conf_get_bool(n, what, out, l->err, l->errsz);
}

/* ---- Limits ------------------------------------------------------------ */

static const struct scan_limits default_limits = {
	.message_size = 20ull << 20,
	.attachment_size = 10ull << 20,
	.attachments = 20,
	.header_bytes = 1u << 20,
	.header_count = 1000,
	.mime_parts = 1000,
	.mime_depth = 20,
	.decoded_bytes = 64ull << 20,
	.archive_depth = 20,
	.decompressed_bytes = 128ull << 20,
	.archive_members = 1000,
	.archive_member_size = 32ull << 20,
	.archive_ratio = 250,
	.archive_time_ms = 10000,
	.findings = 20,
};

static int load_limits(struct loader *l, const struct conf_node *m)
{
	static const char *const keys[] = {
		"message_size", "attachment_size", "attachments",
		"header_bytes", "header_fields", "mime_parts", "mime_depth",
		"decoded_bytes", "archive_depth", "decompressed_bytes",
		"archive_members", "archive_member_size", "archive_ratio",
		"archive_time", "findings", NULL};
	struct scan_limits *lim = &l->c->lim;
	const uint64_t G = 1ull << 30;
	int rc;

	*lim = default_limits;
	uint64_t hb = lim->header_bytes;
	if (m == NULL)
		return 0;
	if ((rc = conf_check_map(m, "limits", keys, l->err, l->errsz)) < 0 ||
	    (rc = pol_opt_size(l, m, "message_size", "limits.message_size",
			       1024, 4 * G, &lim->message_size)) < 0 ||
	    (rc = pol_opt_size(l, m, "attachment_size",
			       "limits.attachment_size", 1, 4 * G,
			       &lim->attachment_size)) < 0 ||
	    (rc = opt_uint(l, m, "attachments", "limits.attachments", 1,
			   100000, &lim->attachments)) < 0 ||
	    (rc = pol_opt_size(l, m, "header_bytes", "limits.header_bytes",
			       1024, 64ull << 20, &hb)) < 0 ||
	    (rc = opt_uint(l, m, "header_fields", "limits.header_fields", 10,
			   1000000, &lim->header_count)) < 0 ||
	    (rc = opt_uint(l, m, "mime_parts", "limits.mime_parts", 1,
			   1000000, &lim->mime_parts)) < 0 ||
	    (rc = opt_uint(l, m, "mime_depth", "limits.mime_depth", 1, 1000,
			   &lim->mime_depth)) < 0 ||
	    (rc = pol_opt_size(l, m, "decoded_bytes", "limits.decoded_bytes",
			       1ull << 20, 16 * G, &lim->decoded_bytes)) < 0 ||
	    (rc = opt_uint(l, m, "archive_depth", "limits.archive_depth", 0,
			   50, &lim->archive_depth)) < 0 ||
	    (rc = pol_opt_size(l, m, "decompressed_bytes",
			       "limits.decompressed_bytes", 0, 64 * G,
			       &lim->decompressed_bytes)) < 0 ||
	    (rc = opt_uint(l, m, "archive_members", "limits.archive_members",
			   1, 100000, &lim->archive_members)) < 0 ||
	    (rc = pol_opt_size(l, m, "archive_member_size",
			       "limits.archive_member_size", 1024, 4 * G,
			       &lim->archive_member_size)) < 0 ||
	    (rc = opt_uint(l, m, "archive_ratio", "limits.archive_ratio", 0,
			   1000000, &lim->archive_ratio)) < 0 ||
	    (rc = opt_duration(l, m, "archive_time", "limits.archive_time",
			       1, 3600000, &lim->archive_time_ms)) < 0 ||
	    (rc = opt_uint(l, m, "findings", "limits.findings", 1,
			   SCAN_MAX_FINDINGS, &lim->findings)) < 0)
		return rc;
	if (conf_map_get(m, "header_bytes") != NULL)
		lim->header_bytes = (size_t)hb;
	return 0;
}

/* ---- Paths -------------------------------------------------------------- */

static const char *resolve(struct loader *l, const char *p)
{
	if (p[0] == '/' || strcmp(l->dir, ".") == 0)
		return pol_strdup(l->c, p);
	size_t a = strlen(l->dir), b = strlen(p);
	char *s = pol_alloc(l->c, a + b + 2);
	if (s == NULL)
		return NULL;
	memcpy(s, l->dir, a);
	s[a] = '/';
	memcpy(s + a + 1, p, b + 1);
	return s;
}

static int load_paths(struct loader *l, const struct conf_node *root)
{
	const struct conf_node *n = conf_map_get(root, "signatures");
	size_t cnt = 0;
	int rc;
	if (n != NULL && !conf_is_null(n)) {
		if ((rc = conf_check_strlist(n, "signatures", l->err,
					     l->errsz)) < 0)
			return rc;
		cnt = conf_list_len(n);
	}
	l->c->sigs = pol_array(l->c, cnt + 1, sizeof(char *));
	if (l->c->sigs == NULL)
		return OOM(l);
	for (size_t i = 0; i < cnt; i++) {
		l->c->sigs[i] = resolve(l, conf_scalar(conf_list_at(n, i)));
		if (l->c->sigs[i] == NULL)
			return OOM(l);
	}
	const char *cache = ".cache";
	n = conf_map_get(root, "rule_cache");
	if (n != NULL && (rc = conf_get_string(n, "rule_cache", false, &cache,
					       l->err, l->errsz)) < 0)
		return rc;
	l->c->cache_dir = resolve(l, cache);
	return l->c->cache_dir != NULL ? 0 : OOM(l);
}

/* clamav: enabled, leaves, databases (libclamav, scan/clam.h). */
static int load_clamav(struct loader *l, const struct conf_node *m)
{
	static const char *const keys[] = {"enabled", "leaves", "databases",
					   NULL};
	struct scan_clamav_conf *cc = &l->c->clam;
	const struct conf_node *n;
	size_t cnt = 0;
	int rc;
	cc->enabled = true;
	cc->all_leaves = false;
	if (m != NULL && !conf_is_null(m)) {
		if ((rc = conf_check_map(m, "clamav", keys, l->err,
					 l->errsz)) < 0 ||
		    (rc = opt_bool(l, m, "enabled", "clamav.enabled",
				   &cc->enabled)) < 0)
			return rc;
		if ((n = conf_map_get(m, "leaves")) != NULL) {
			const char *s;
			if ((rc = conf_get_string(n, "clamav.leaves", false, &s,
						  l->err, l->errsz)) < 0)
				return rc;
			if (strcmp(s, "all") == 0)
				cc->all_leaves = true;
			else if (strcmp(s, "default") != 0)
				return ERR(l, n, "clamav.leaves: unknown value "
					   "'%.32s'; use default (executables, "
					   "OLE2, PDF, RTF, HTML, unknown "
					   "binary) or all", s);
		}
		n = conf_map_get(m, "databases");
		if (n != NULL && !conf_is_null(n)) {
			if ((rc = conf_check_strlist(n, "clamav.databases",
						     l->err, l->errsz)) < 0)
				return rc;
			cnt = conf_list_len(n);
		}
	}
	const char **dbs = pol_array(l->c, cnt + 1, sizeof(char *));
	if (dbs == NULL)
		return OOM(l);
	for (size_t i = 0; i < cnt; i++) {
		dbs[i] = resolve(l, conf_scalar(conf_list_at(n, i)));
		if (dbs[i] == NULL)
			return OOM(l);
	}
	cc->databases = dbs;
	return 0;
}

/* ---- Address patterns --------------------------------------------------- */

static const struct pol_group *find_group(const struct scan_config *c,
					  const char *name)
{
	for (size_t i = 0; i < c->ngroups; i++)
		if (strcmp(c->groups[i].name, name) == 0)
			return &c->groups[i];
	return NULL;
}

/* allow_groups: 0 none, 1 yes. domains_only: internal_domains. */
int pol_parse_pats(struct loader *l, const struct conf_node *n,
		   const char *what, bool allow_groups, bool domains_only,
		   struct pol_pats *out)
{
	int rc = conf_check_strlist(n, what, l->err, l->errsz);
	if (rc < 0)
		return rc;
	size_t cnt = conf_list_len(n);
	struct pol_pat *v = pol_array(l->c, cnt, sizeof(*v));
	if (v == NULL)
		return OOM(l);
	for (size_t i = 0; i < cnt; i++) {
		const struct conf_node *it = conf_list_at(n, i);
		const char *s = conf_scalar(it);
		if (strlen(s) > 320)
			return ERR(l, it, "%s: pattern longer than 320 "
				   "characters", what);
		for (const char *p = s; *p; p++)
			if ((unsigned char)*p <= ' ' || *p == 0x7f)
				return ERR(l, it, "%s: '%.64s' contains a "
					   "space or control character; "
					   "addresses and domains have none",
					   what, s);
		if (s[0] == '@') {
			if (!allow_groups || domains_only)
				return ERR(l, it, "%s: '%.64s': address groups "
					   "cannot be used here; list the "
					   "patterns themselves", what, s);
			v[i].kind = POL_PAT_GROUP;
			v[i].group = find_group(l->c, s + 1);
			if (v[i].group == NULL)
				return ERR(l, it, "%s: unknown address group "
					   "'%.64s'; define it under "
					   "address_groups", what, s + 1);
			continue;
		}
		if (domains_only && strchr(s, '@') != NULL)
			return ERR(l, it, "%s: '%.64s' is an address; write "
				   "a domain such as example.net or "
				   "*.example.net", what, s);
		if (strcmp(s, "*") == 0 && !domains_only) {
			v[i].kind = POL_PAT_ANY;
			continue;
		}
		if (strcmp(s, "<>") == 0 && !domains_only) {
			v[i].kind = POL_PAT_NULL;
			continue;
		}
		v[i].kind = strchr(s, '@') ? POL_PAT_ADDR : POL_PAT_DOMAIN;
		v[i].glob = pol_strdup(l->c, s);
		if (v[i].glob == NULL)
			return OOM(l);
	}
	out->v = v;
	out->n = cnt;
	return 0;
}

static int load_groups(struct loader *l, const struct conf_node *m)
{
	if (m == NULL)
		return 0;
	if (conf_kind(m) != CONF_MAP)
		return ERR(l, m, "address_groups: expected a map of group "
			   "name -> list of address patterns");
	size_t cnt = conf_len(m);
	l->c->groups = pol_array(l->c, cnt, sizeof(struct pol_group));
	if (l->c->groups == NULL)
		return OOM(l);
	for (size_t i = 0; i < cnt; i++) {
		const struct conf_node *v = conf_map_value(m, i);
		struct pol_group *g = &l->c->groups[i];
		const char *name = conf_map_key(m, i);
		int rc = pol_check_ident(l, v, "address group name", name);
		if (rc < 0)
			return rc;
		g->name = pol_strdup(l->c, name);
		if (g->name == NULL)
			return OOM(l);
		char what[96];
		snprintf(what, sizeof(what), "address_groups.%s", name);
		/* Groups defined so far are visible, but nesting is refused
		 * (no cycles, no surprises). */
		rc = pol_parse_pats(l, v, what, false, false, &g->pats);
		if (rc < 0)
			return rc;
		l->c->ngroups = i + 1;
	}
	return 0;
}

/* ---- Templates ----------------------------------------------------------- */

static const struct pol_template builtin_templates[] = {
	{"virus", "A message from %SENDER% to %RECIPIENT% (subject "
		  "\"%SUBJECT%\") contained the virus %VIRUSNAME% and was "
		  "not delivered."},
	{"attachment", "The attachment \"%FILENAME%\" of a message from "
		       "%SENDER% to %RECIPIENT% (subject \"%SUBJECT%\") was "
		       "blocked (%RULE%)."},
	{"size", "A message from %SENDER% to %RECIPIENT% (subject "
		 "\"%SUBJECT%\") was too large and was not delivered."},
	{"content", "A message from %SENDER% to %RECIPIENT% (subject "
		    "\"%SUBJECT%\") matched the content rule %RULE%."},
	{"spam", "A message from %SENDER% to %RECIPIENT% (subject "
		 "\"%SUBJECT%\") scored %SCORE% as spam."},
	{"limits", "A message from %SENDER% to %RECIPIENT% (subject "
		   "\"%SUBJECT%\") could not be fully checked (%RULE%) and "
		   "was held for review."},
	{"encrypted", "A message from %SENDER% to %RECIPIENT% (subject "
		      "\"%SUBJECT%\") carries the encrypted file "
		      "\"%FILENAME%\", which could not be scanned, and was "
		      "held for review."},
	{"macro", "A message from %SENDER% to %RECIPIENT% (subject "
		  "\"%SUBJECT%\") carries the document \"%FILENAME%\" "
		  "with macros and was held for review."},
};
#define NBUILTIN_TMPL (sizeof(builtin_templates) / sizeof(builtin_templates[0]))

/* Refuse %WORD% that is not a known variable: a typo would otherwise
 * reach users verbatim. */
int pol_check_template(struct loader *l, const struct conf_node *n,
		       const char *what, const char *s)
{
	if (strlen(s) >= SCAN_TEXT_MAX)
		return ERR(l, n, "%s: longer than %d characters; shorten it",
			   what, SCAN_TEXT_MAX - 1);
	for (const char *p = strchr(s, '%'); p != NULL;
	     p = strchr(p + 1, '%')) {
		const char *e = p + 1;
		while ((*e >= 'A' && *e <= 'Z') || *e == '_')
			e++;
		if (*e != '%' || e == p + 1)
			continue;
		if (!pol_template_var_known(p + 1, (size_t)(e - p - 1)))
			return ERR(l, n, "%s: unknown variable %.*s; known: %s",
				   what, (int)(e - p + 1 > 40 ? 40 : e - p + 1),
				   p, pol_template_vars);
		p = e;
	}
	return 0;
}

static int load_templates(struct loader *l, const struct conf_node *m)
{
	size_t cnt = m != NULL ? conf_len(m) : 0;
	int rc;
	if (m != NULL && conf_kind(m) != CONF_MAP)
		return ERR(l, m, "templates: expected a map of template name "
			   "-> text");
	l->c->tmpls = pol_array(l->c, cnt + NBUILTIN_TMPL,
				sizeof(struct pol_template));
	if (l->c->tmpls == NULL)
		return OOM(l);
	size_t k = 0;
	for (size_t i = 0; i < cnt; i++) {
		const struct conf_node *v = conf_map_value(m, i);
		const char *name = conf_map_key(m, i), *text;
		char what[96];
		snprintf(what, sizeof(what), "templates.%.64s", name);
		if ((rc = pol_check_ident(l, v, "template name", name)) < 0 ||
		    (rc = conf_get_string(v, what, false, &text, l->err,
					  l->errsz)) < 0 ||
		    (rc = pol_check_template(l, v, what, text)) < 0)
			return rc;
		l->c->tmpls[k].name = pol_strdup(l->c, name);
		l->c->tmpls[k].text = pol_strdup(l->c, text);
		if (!l->c->tmpls[k].name || !l->c->tmpls[k].text)
			return OOM(l);
		k++;
	}
	/* Built-ins not overridden. */
	for (size_t b = 0; b < NBUILTIN_TMPL; b++) {
		bool have = false;
		for (size_t i = 0; i < k; i++)
			have |= strcmp(l->c->tmpls[i].name,
				       builtin_templates[b].name) == 0;
		if (!have)
			l->c->tmpls[k++] = builtin_templates[b];
	}
	l->c->ntmpls = k;
	return 0;
}

const struct pol_template *pol_find_template(const struct scan_config *c,
					     const char *name)
{
	for (size_t i = 0; i < c->ntmpls; i++)
		if (strcmp(c->tmpls[i].name, name) == 0)
			return &c->tmpls[i];
	return NULL;
}

/* ---- Rules --------------------------------------------------------------- */

static int parse_where(struct loader *l, const struct conf_node *n,
		       const char *what, unsigned *out)
{
	static const struct {
		const char *name;
		unsigned bit;
	} w[] = {
		{"header", SCAN_WHERE_HEADER}, {"subject", SCAN_WHERE_SUBJECT},
		{"body", SCAN_WHERE_BODY}, {"attachment", SCAN_WHERE_ATTACHMENT},
		{"any", SCAN_WHERE_ANY},
	};
	int rc = conf_check_strlist(n, what, l->err, l->errsz);
	if (rc < 0)
		return rc;
	unsigned mask = 0;
	for (size_t i = 0; i < conf_list_len(n); i++) {
		const struct conf_node *it = conf_list_at(n, i);
		const char *s = conf_scalar(it);
		unsigned bit = 0;
		for (size_t j = 0; j < sizeof(w) / sizeof(w[0]); j++)
			if (strcmp(s, w[j].name) == 0)
				bit = w[j].bit;
		if (bit == 0)
			return ERR(l, it, "%s: unknown place '%.32s'; use "
				   "header, subject, body, attachment or any",
				   what, s);
		mask |= bit;
	}
	if (mask == 0)
		return ERR(l, n, "%s: empty; name at least one of header, "
			   "subject, body, attachment, any", what);
	*out = mask;
	return 0;
}

/* keyword/regex, caseless, word, where into d. */
static int parse_pattern(struct loader *l, const struct conf_node *m,
			 const char *what, unsigned def_where,
			 struct scan_rule_def *d)
{
	const struct conf_node *kw = conf_map_get(m, "keyword");
	const struct conf_node *re = conf_map_get(m, "regex");
	const char *pat;
	bool caseless = true, word = false;
	int rc;
	if ((kw == NULL) == (re == NULL))
		return ERR(l, m, "%s: give exactly one of 'keyword' or "
			   "'regex'", what);
	if ((rc = conf_get_string(kw ? kw : re, what, false, &pat, l->err,
				  l->errsz)) < 0 ||
	    (rc = opt_bool(l, m, "caseless", what, &caseless)) < 0 ||
	    (rc = opt_bool(l, m, "word", what, &word)) < 0)
		return rc;
	if (strlen(pat) > 1024)
		return ERR(l, kw ? kw : re, "%s: pattern longer than 1024 "
			   "characters; split it", what);
	d->where = def_where;
	const struct conf_node *w = conf_map_get(m, "where");
	if (w != NULL && (rc = parse_where(l, w, what, &d->where)) < 0)
		return rc;
	d->pattern = pol_strdup(l->c, pat);
	if (d->pattern == NULL)
		return OOM(l);
	d->flags = (caseless ? SCAN_RULE_CASELESS : 0) |
		   (word ? SCAN_RULE_WORD : 0) | (re ? SCAN_RULE_REGEX : 0);
	d->file = l->c->file;
	d->line = conf_line(m);
	return 0;
}

/* One term of a keyword expression: a string (keyword, the rule's
 * caseless/word) or a map {keyword|regex, caseless, word}. */
static int parse_term(struct loader *l, const struct conf_node *it,
		      const char *what, bool caseless, bool word,
		      struct scan_term_def *t)
{
	static const char *const tkeys[] = {"keyword", "regex", "caseless",
		"word", NULL};
	const struct conf_node *pn = it;
	bool regex = false;
	const char *pat;
	int rc;
	if (conf_kind(it) == CONF_MAP) {
		const struct conf_node *kw = conf_map_get(it, "keyword");
		const struct conf_node *re = conf_map_get(it, "regex");
		if ((rc = conf_check_map(it, what, tkeys, l->err,
					 l->errsz)) < 0)
			return rc;
		if ((kw == NULL) == (re == NULL))
			return ERR(l, it, "%s: give exactly one of 'keyword' "
				   "or 'regex'", what);
		pn = kw ? kw : re;
		regex = re != NULL;
		if ((rc = opt_bool(l, it, "caseless", what, &caseless)) < 0 ||
		    (rc = opt_bool(l, it, "word", what, &word)) < 0)
			return rc;
	} else if (conf_kind(it) != CONF_SCALAR) {
		return ERR(l, it, "%s: expected a keyword or a map such as "
			   "{regex: '...'}", what);
	}
	if ((rc = conf_get_string(pn, what, false, &pat, l->err,
				  l->errsz)) < 0)
		return rc;
	if (strlen(pat) > 1024)
		return ERR(l, pn, "%s: pattern longer than 1024 characters; "
			   "split it", what);
	t->pattern = pol_strdup(l->c, pat);
	if (t->pattern == NULL)
		return OOM(l);
	t->flags = (caseless ? SCAN_RULE_CASELESS : 0) |
		   (word ? SCAN_RULE_WORD : 0) | (regex ? SCAN_RULE_REGEX : 0);
	return 0;
}

/* A keyword expression: all/any/min/not, caseless, word, where into d. */
static int parse_terms(struct loader *l, const struct conf_node *m,
		       struct scan_rule_def *d)
{
	static const struct {
		const char *key;
		enum scan_term_role role;
	} lists[] = {
		{"all", SCAN_TERM_ALL}, {"any", SCAN_TERM_ANY},
		{"not", SCAN_TERM_NOT},
	};
	bool caseless = true, word = false;
	size_t n = 0;
	int rc;
	if (conf_map_get(m, "keyword") != NULL ||
	    conf_map_get(m, "regex") != NULL)
		return ERR(l, m, "content rule '%s': give either "
			   "'keyword'/'regex' or 'all'/'any'/'not' terms, not "
			   "both", d->name);
	if (conf_map_get(m, "all") == NULL && conf_map_get(m, "any") == NULL)
		return ERR(l, m, "content rule '%s': needs 'all' or 'any' "
			   "terms ('not' alone is not a rule: it would match "
			   "every message)", d->name);
	if ((rc = opt_bool(l, m, "caseless", "content rule", &caseless)) < 0 ||
	    (rc = opt_bool(l, m, "word", "content rule", &word)) < 0)
		return rc;
	for (size_t i = 0; i < 3; i++) {
		const struct conf_node *ln = conf_map_get(m, lists[i].key);
		if (ln == NULL)
			continue;
		if (conf_kind(ln) != CONF_SEQ || conf_len(ln) == 0)
			return ERR(l, ln, "content rule '%s': '%s' expects a "
				   "non-empty list of terms, e.g. [\"invoice\", "
				   "{regex: '...'}]", d->name, lists[i].key);
		n += conf_len(ln);
	}
	if (n > SCAN_RULE_MAX_TERMS)
		return ERR(l, m, "content rule '%s': %zu terms; at most %d per "
			   "rule (split it)", d->name, n, SCAN_RULE_MAX_TERMS);
	struct scan_term_def *t = pol_array(l->c, n, sizeof(*t));
	if (t == NULL)
		return OOM(l);
	size_t k = 0;
	for (size_t i = 0; i < 3; i++) {
		const struct conf_node *ln = conf_map_get(m, lists[i].key);
		char what[96];
		snprintf(what, sizeof(what), "content rule %s: %s term",
			 d->name, lists[i].key);
		for (size_t j = 0; ln != NULL && j < conf_len(ln); j++, k++) {
			t[k].role = lists[i].role;
			if ((rc = parse_term(l, conf_seq_at(ln, j), what,
					     caseless, word, &t[k])) < 0)
				return rc;
		}
	}
	const struct conf_node *mn = conf_map_get(m, "min");
	if (mn != NULL) {
		const struct conf_node *an = conf_map_get(m, "any");
		long long v;
		if (an == NULL)
			return ERR(l, mn, "content rule '%s': 'min' counts "
				   "'any' terms; there are none", d->name);
		if ((rc = conf_get_int(mn, "content rule min", 1,
				       (long long)conf_len(an), &v, l->err,
				       l->errsz)) < 0)
			return rc;
		d->min_any = (unsigned)v;
	}
	d->where = SCAN_WHERE_ANY;
	const struct conf_node *w = conf_map_get(m, "where");
	if (w != NULL &&
	    (rc = parse_where(l, w, "content rule", &d->where)) < 0)
		return rc;
	d->terms = t;
	d->nterms = (unsigned)n;
	d->flags = 0;
	d->file = l->c->file;
	d->line = conf_line(m);
	return 0;
}

static int rclass_cmp(const void *a, const void *b)
{
	return strcmp(((const struct pol_rule_class *)a)->rule,
		      ((const struct pol_rule_class *)b)->rule);
}

static int load_rules(struct loader *l, const struct conf_node *content,
		      const struct conf_node *keywords)
{
	static const char *const ckeys[] = {"name", "keyword", "regex",
		"caseless", "word", "where", "class", "all", "any", "min", "not",
		NULL};
	static const char *const skeys[] = {"name", "keyword", "regex",
		"caseless", "word", "where", "weight", NULL};
	struct scan_config *c = l->c;
	int rc;

	if (content != NULL && conf_kind(content) != CONF_SEQ &&
	    !conf_is_null(content))
		return ERR(l, content, "content_rules: expected a list of "
			   "rules ('- name: ...')");
	if (keywords != NULL && conf_kind(keywords) != CONF_SEQ &&
	    !conf_is_null(keywords))
		return ERR(l, keywords, "spam.keywords: expected a list "
			   "('- keyword: ...')");
	size_t nc = conf_len(content), nk = conf_len(keywords);
	c->defs = pol_array(c, nc + nk, sizeof(*c->defs));
	c->rclass = pol_array(c, nc, sizeof(*c->rclass));
	if (c->defs == NULL || c->rclass == NULL)
		return OOM(l);
	for (size_t i = 0; i < nc; i++) {
		const struct conf_node *m = conf_seq_at(content, i);
		struct scan_rule_def *d = &c->defs[i];
		const char *cls = "block";
		const struct conf_node *cn;
		if ((rc = conf_check_map(m, "content rule", ckeys, l->err,
					 l->errsz)) < 0)
			return rc;
		if (conf_map_get(m, "name") == NULL)
			return ERR(l, m, "content rule: 'name' is missing; "
				   "every rule needs a unique name");
		if ((rc = pol_get_ident(l, conf_map_get(m, "name"),
					"content rule name", &d->name)) < 0)
			return rc;
		if ((cn = conf_map_get(m, "class")) != NULL &&
		    (rc = pol_get_ident(l, cn, "content rule class", &cls)) < 0)
			return rc;
		d->kind = SCAN_RULE_CONTENT;
		d->class_name = cls;
		bool terms = conf_map_get(m, "all") != NULL ||
			     conf_map_get(m, "any") != NULL ||
			     conf_map_get(m, "not") != NULL ||
			     conf_map_get(m, "min") != NULL;
		if ((rc = terms ? parse_terms(l, m, d)
				: parse_pattern(l, m, "content rule",
						SCAN_WHERE_ANY, d)) < 0)
			return rc;
		for (size_t j = 0; j < i; j++)
			if (strcmp(c->defs[j].name, d->name) == 0)
				return ERR(l, m, "content rule '%s' is already "
					   "defined at line %u; rename one",
					   d->name, c->defs[j].line);
		c->rclass[i].rule = d->name;
		c->rclass[i].cls = cls;
	}
	c->ncontent = nc;
	qsort(c->rclass, nc, sizeof(*c->rclass), rclass_cmp);

	for (size_t i = 0; i < nk; i++) {
		const struct conf_node *m = conf_seq_at(keywords, i);
		struct scan_rule_def *d = &c->defs[nc + i];
		long long w = 1;
		const struct conf_node *wn;
		if ((rc = conf_check_map(m, "spam keyword", skeys, l->err,
					 l->errsz)) < 0)
			return rc;
		d->kind = SCAN_RULE_SPAM;
		if ((rc = parse_pattern(l, m, "spam keyword",
					SCAN_WHERE_SUBJECT | SCAN_WHERE_BODY,
					d)) < 0)
			return rc;
		if ((wn = conf_map_get(m, "weight")) != NULL &&
		    (rc = conf_get_int(wn, "spam keyword weight", -1000, 1000,
				       &w, l->err, l->errsz)) < 0)
			return rc;
		d->score = (int)w;
		const struct conf_node *nn = conf_map_get(m, "name");
		if (nn != NULL) {
			if ((rc = pol_get_ident(l, nn, "spam keyword name",
						&d->name)) < 0)
				return rc;
		} else {
			char name[64];
			snprintf(name, sizeof(name), "%s", d->pattern);
			d->name = pol_strdup(c, name);
			if (d->name == NULL)
				return OOM(l);
		}
		for (size_t j = nc; j < nc + i; j++)
			if (strcmp(c->defs[j].name, d->name) == 0)
				return ERR(l, m, "spam keyword '%.64s' is "
					   "already defined at line %u; remove "
					   "it or give one a distinct 'name'",
					   d->name, c->defs[j].line);
	}
	c->ndefs = nc + nk;
	return 0;
}

/* ---- Spam ---------------------------------------------------------------- */

static int parse_cidr(const char *s, struct pol_cidr *out)
{
	char buf[64];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	if (alen == 0 || alen >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	memset(out, 0, sizeof(*out));
	unsigned max;
	if (inet_pton(AF_INET, buf, out->a) == 1) {
		max = 32;
	} else if (inet_pton(AF_INET6, buf, out->a) == 1) {
		max = 128;
		out->v6 = true;
	} else {
		return -EINVAL;
	}
	out->bits = max;
	if (slash != NULL) {
		const char *p = slash + 1;
		unsigned v = 0;
		if (*p < '0' || *p > '9')
			return -EINVAL;
		for (; *p >= '0' && *p <= '9'; p++) {
			v = v * 10 + (unsigned)(*p - '0');
			if (v > max)
				return -ERANGE;
		}
		if (*p != '\0')
			return -EINVAL;
		out->bits = v;
	}
	/* Host bits must be zero: 192.0.2.1/24 is probably a typo. */
	for (unsigned b = out->bits; b < max; b++)
		if (out->a[b / 8] & (0x80u >> (b % 8)))
			return -EDOM;
	return 0;
}

static int load_lists(struct loader *l, const struct conf_node *n)
{
	static const char *const keys[] = {"name", "senders", "clients",
		"score", NULL};
	int rc;
	if (n == NULL || conf_is_null(n))
		return 0;
	if (conf_kind(n) != CONF_SEQ)
		return ERR(l, n, "spam.lists: expected a list ('- name: ...')");
	size_t cnt = conf_len(n);
	l->c->lists = pol_array(l->c, cnt, sizeof(struct pol_list));
	if (l->c->lists == NULL)
		return OOM(l);
	for (size_t i = 0; i < cnt; i++) {
		const struct conf_node *m = conf_seq_at(n, i);
		struct pol_list *li = &l->c->lists[i];
		if ((rc = conf_check_map(m, "spam list", keys, l->err,
					 l->errsz)) < 0)
			return rc;
		const struct conf_node *nn = conf_map_get(m, "name");
		if (nn == NULL)
			return ERR(l, m, "spam list: 'name' is missing");
		if ((rc = pol_get_ident(l, nn, "spam list name",
					&li->name)) < 0)
			return rc;
		const struct conf_node *sn = conf_map_get(m, "senders");
		const struct conf_node *cn = conf_map_get(m, "clients");
		if (sn == NULL && cn == NULL)
			return ERR(l, m, "spam list '%s': give 'senders' "
				   "(address patterns), 'clients' (CIDRs) "
				   "or both", li->name);
		if (sn != NULL &&
		    (rc = pol_parse_pats(l, sn, "spam list senders", true,
					 false, &li->senders)) < 0)
			return rc;
		if (cn != NULL) {
			if ((rc = conf_check_strlist(cn, "spam list clients",
						     l->err, l->errsz)) < 0)
				return rc;
			li->ncidrs = conf_list_len(cn);
			struct pol_cidr *v = pol_array(l->c, li->ncidrs,
						       sizeof(*v));
			if (v == NULL)
				return OOM(l);
			for (size_t j = 0; j < li->ncidrs; j++) {
				const struct conf_node *it = conf_list_at(cn, j);
				rc = parse_cidr(conf_scalar(it), &v[j]);
				if (rc == -EDOM)
					return ERR(l, it, "spam list clients: "
						   "'%.64s' has host bits set "
						   "after the prefix; write the "
						   "network address",
						   conf_scalar(it));
				if (rc < 0)
					return ERR(l, it, "spam list clients: "
						   "'%.64s' is not an address "
						   "or CIDR such as "
						   "192.0.2.0/24 or "
						   "2001:db8::/32",
						   conf_scalar(it));
			}
			li->cidrs = v;
		}
		const struct conf_node *sc = conf_map_get(m, "score");
		if (sc == NULL)
			return ERR(l, m, "spam list '%s': 'score' is missing; "
				   "give a number (negative to allow), "
				   "'reject' or 'bypass'", li->name);
		const char *s = conf_scalar(sc);
		if (s != NULL && strcmp(s, "reject") == 0) {
			li->mode = POL_LIST_REJECT;
		} else if (s != NULL && strcmp(s, "bypass") == 0) {
			li->mode = POL_LIST_BYPASS;
		} else {
			long long v;
			if ((rc = conf_get_int(sc, "spam list score", -10000,
					       10000, &v, l->err,
					       l->errsz)) < 0)
				return ERR(l, sc, "spam list score: expected a "
					   "number from -10000 to 10000, "
					   "'reject' or 'bypass'");
			li->mode = POL_LIST_SCORE;
			li->score = (int)v;
		}
		l->c->nlists = i + 1;
	}
	return 0;
}

static int load_spam(struct loader *l, const struct conf_node *m,
		     const struct conf_node *content_rules)
{
	static const char *const keys[] = {"threshold", "keywords", "lists",
		NULL};
	const struct conf_node *kw = NULL;
	int rc;
	l->c->threshold = 5;
	if (m != NULL) {
		if ((rc = conf_check_map(m, "spam", keys, l->err,
					 l->errsz)) < 0)
			return rc;
		const struct conf_node *t = conf_map_get(m, "threshold");
		long long v;
		if (t != NULL) {
			if ((rc = conf_get_int(t, "spam.threshold", 1, 100000,
					       &v, l->err, l->errsz)) < 0)
				return rc;
			l->c->threshold = (int)v;
		}
		kw = conf_map_get(m, "keywords");
	}
	if ((rc = load_rules(l, content_rules, kw)) < 0)
		return rc;
	return load_lists(l, conf_map_get(m, "lists"));
}

/* ---- Top level ----------------------------------------------------------- */

int scan_config_from_conf(const struct conf_doc *doc,
			  struct scan_config **out, char *err, size_t errsz)
{
	static const char *const keys[] = {
		"limits", "signatures", "rule_cache", "clamav",
		"internal_domains",
		"address_groups", "templates", "content_rules", "spam",
		"routes", "policies",
		/* Sections owned by other programs (checked there). */
		"smtp", "delivery", "quarantine", "alerts", "control",
		"updates", "logging", "dataplane", "retention", "spool", NULL};
	struct loader l = {.err = err, .errsz = errsz};
	const struct conf_node *root = conf_root(doc);
	int rc = -ENOMEM;

	*out = NULL;
	if (err != NULL && errsz > 0)
		err[0] = '\0';
	l.c = calloc(1, sizeof(*l.c));
	if (l.c == NULL)
		return -ENOMEM;
	const char *path = conf_doc_path(doc);
	l.c->file = pol_strdup(l.c, path);
	if (l.c->file == NULL)
		goto fail;
	const char *slash = strrchr(path, '/');
	if (slash == NULL) {
		l.dir = ".";
	} else {
		size_t n = slash == path ? 1 : (size_t)(slash - path);
		char *d = pol_alloc(l.c, n + 1);
		if (d == NULL)
			goto fail;
		memcpy(d, path, n);
		d[n] = '\0';
		l.dir = d;
	}

	if ((rc = conf_check_map(root, "the configuration", keys, err,
				 errsz)) < 0 ||
	    (rc = load_limits(&l, conf_map_get(root, "limits"))) < 0 ||
	    (rc = load_paths(&l, root)) < 0 ||
	    (rc = load_clamav(&l, conf_map_get(root, "clamav"))) < 0 ||
	    (rc = load_templates(&l, conf_map_get(root, "templates"))) < 0 ||
	    (rc = load_groups(&l, conf_map_get(root, "address_groups"))) < 0)
		goto fail;
	const struct conf_node *idn = conf_map_get(root, "internal_domains");
	if (idn != NULL && !conf_is_null(idn) &&
	    (rc = pol_parse_pats(&l, idn, "internal_domains", false, true,
				 &l.c->internal)) < 0)
		goto fail;
	if ((rc = load_spam(&l, conf_map_get(root, "spam"),
			    conf_map_get(root, "content_rules"))) < 0 ||
	    (rc = pol_load_policies(&l, conf_map_get(root, "policies"))) < 0 ||
	    (rc = pol_load_routes(&l, conf_map_get(root, "routes"))) < 0)
		goto fail;
	*out = l.c;
	return 0;
fail:
	if (rc == -ENOMEM)
		pol_oom(&l);
	scan_config_free(l.c);
	return rc;
}

int scan_config_load(const char *path, struct scan_config **out, char *err,
		     size_t errsz)
{
	struct conf_doc *doc;
	*out = NULL;
	int rc = conf_load(path, &doc, err, errsz);
	if (rc < 0)
		return rc;
	rc = scan_config_from_conf(doc, out, err, errsz);
	conf_free(doc);
	return rc;
}

/* ---- Accessors ----------------------------------------------------------- */

const struct scan_limits *scan_config_limits(const struct scan_config *cfg)
{
	return &cfg->lim;
}

const char *const *scan_config_signatures(const struct scan_config *cfg)
{
	return cfg->sigs;
}

const char *scan_config_cache_dir(const struct scan_config *cfg)
{
	return cfg->cache_dir;
}

const struct scan_clamav_conf *scan_config_clamav(const struct scan_config *cfg)
{
	return &cfg->clam;
}

void scan_config_rules(const struct scan_config *cfg,
		       const struct scan_rule_def **defs, size_t *n)
{
	*defs = cfg->defs;
	*n = cfg->ndefs;
}

const char *scan_config_rule_class(const struct scan_config *cfg,
				   const char *rule)
{
	struct pol_rule_class key = {.rule = rule};
	if (cfg->ncontent == 0)
		return NULL;
	const struct pol_rule_class *r = bsearch(&key, cfg->rclass,
						 cfg->ncontent,
						 sizeof(*cfg->rclass),
						 rclass_cmp);
	return r != NULL ? r->cls : NULL;
}

int scan_config_spam_threshold(const struct scan_config *cfg)
{
	return cfg->threshold;
}
