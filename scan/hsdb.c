/*
 * scan/hsdb.c - compile a rule generation into one Hyperscan database and
 * hash tables; scan with per-thread scratch. The on-disk cache is
 * scan/hsdb_cache.c. Contract in scan/hsdb.h.
 */
#include "scan/hsdb_int.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <hs.h>

struct scan_db_scratch {
	const struct scan_db *db;
	hs_scratch_t *hs;
	uint64_t *bits;    /* one bit per rule: already reported */
	int *last_part;    /* per rule, valid when its bit is set: the part
			      of its last recorded hit */
	uint32_t *touched; /* words of bits that are non-zero */
	uint32_t ntouched;
	unsigned nhits, dropped;
	/* the scan in progress */
	uint64_t len;
	unsigned where;
	int part;
	/* allow-list (.fp/.sfp): the leaf `allow_part` matched one */
	int allow_on, allow_part;
	/* the leaf between scan_db_leaf_begin and _end: its ClamAV target
	 * type (.ndb and .ldb Target), and for logical signatures the match
	 * counts per subsignature slot and what to reset */
	int leaf_active;
	unsigned leaf_target;
	uint32_t *cnt;        /* per slot */
	uint32_t *sub_touched;/* slots with cnt > 0 */
	uint32_t nsub_touched;
	uint32_t *ldb_touched;/* ldbs with a counted subsignature */
	uint8_t *ldb_on;      /* per ldb: in ldb_touched */
	uint32_t nldb_touched;
	struct scan_hit hits[SCAN_DB_MAX_HITS];
};

__attribute__((format(printf, 3, 4)))
static void set_err(char *err, size_t errsz, const char *fmt, ...)
{
	va_list ap;

	if (errsz == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errsz, fmt, ap);
	va_end(ap);
}

/* ---- construction common to both paths ------------------------------- */

static int is_hash(enum scan_rule_match m)
{
	return m == SCAN_MATCH_MD5 || m == SCAN_MATCH_SHA1 ||
	       m == SCAN_MATCH_SHA256;
}

static int digest_len(enum scan_rule_match m)
{
	return m == SCAN_MATCH_MD5 ? 16 : m == SCAN_MATCH_SHA1 ? 20 : 32;
}

static uint64_t digest_key(const uint8_t *d)
{
	uint64_t k;

	memcpy(&k, d, sizeof k);
	return k;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The size sets of the hash signatures; count[t] signatures of type t. */
static int db_sizes(struct scan_db *db, const uint32_t count[T_N])
{
	for (int t = 0; t < T_N; t++) {
		struct sizeset *z = &db->sizes[t];

		z->v = malloc((count[t] ? count[t] : 1) * sizeof *z->v);
		if (z->v == NULL)
			return -ENOMEM;
	}
	for (unsigned i = 0; i < db->nrules; i++) {
		const struct scan_rule *r = &db->rules[i];

		if (!is_hash(r->match))
			continue;
		struct sizeset *z = &db->sizes[r->match - SCAN_MATCH_MD5];
		if (r->size == UINT64_MAX)
			z->any = 1;
		else
			z->v[z->n++] = r->size;
	}
	for (int t = 0; t < T_N; t++) {
		struct sizeset *z = &db->sizes[t];
		uint32_t k = 0;

		qsort(z->v, z->n, sizeof *z->v, cmp_u64);
		for (uint32_t i = 0; i < z->n; i++)
			if (k == 0 || z->v[k - 1] != z->v[i])
				z->v[k++] = z->v[i];
		z->n = k;
		db->tab_bytes += k * sizeof *z->v;
	}
	return 0;
}

static int sizes_have(const struct sizeset *z, uint64_t size)
{
	uint32_t lo = 0, hi = z->n;

	if (z->any)
		return 1;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (z->v[mid] < size)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < z->n && z->v[lo] == size;
}

/* Append a compiled expression's nodes to db->lnodes; *node0 where. */
static int lnodes_add(struct scan_db *db, uint32_t *cap,
		      const struct scan_sig_lexpr *x, uint32_t *node0)
{
	if (db->nlnodes + x->nnodes > *cap) {
		uint32_t nc = *cap ? *cap : 256;
		while (nc < db->nlnodes + x->nnodes)
			nc *= 2;
		struct scan_sig_lnode *nn =
			realloc(db->lnodes, nc * sizeof *nn);
		if (nn == NULL)
			return -ENOMEM;
		db->lnodes = nn;
		*cap = nc;
	}
	*node0 = db->nlnodes;
	memcpy(db->lnodes + db->nlnodes, x->nodes, x->nnodes * sizeof *x->nodes);
	db->nlnodes += x->nnodes;
	return 0;
}

/* The logical signature tables: one db_ldb per .ldb rule, one slot per
 * subsignature (match->sub), expressions and PCRE triggers compiled from
 * the rules' text. An expression that does not compile (only a forged
 * cache file could hold one) leaves its signature unable to fire. */
static int ldb_tables(struct scan_db *db)
{
	struct scan_sig_lexpr *x = malloc(sizeof *x);
	uint32_t nl = 0, ns = 0, cap = 0;
	const char *why;
	int rc = -ENOMEM;

	if (x == NULL)
		return -ENOMEM;
	for (unsigned i = 0; i < db->nrules; i++)
		if (db->rules[i].kind == SCAN_RULE_VIRUS &&
		    db->rules[i].match == SCAN_MATCH_LOGIC) {
			nl++;
			ns += db->rules[i].nterms;
		}
	db->ldb = calloc(nl ? nl : 1, sizeof *db->ldb);
	db->subs = calloc(ns ? ns : 1, sizeof *db->subs);
	if (db->ldb == NULL || db->subs == NULL)
		goto out;
	for (unsigned i = 0; i < db->nrules; i++) {
		const struct scan_rule *r = &db->rules[i];

		if (r->kind != SCAN_RULE_VIRUS || r->match != SCAN_MATCH_LOGIC)
			continue;
		struct db_ldb *L = &db->ldb[db->nldb];
		L->rule = i;
		L->slot0 = db->nsub;
		L->nsub = r->nterms;
		L->target = r->target_type;
		L->size_min = r->off;
		L->size_max = r->shift;
		if (r->class_name == NULL ||
		    scan_sig_lexpr_compile(r->class_name, strlen(r->class_name),
					   r->nterms, x, &why) != 0) {
			L->bad = 1;
		} else {
			if (lnodes_add(db, &cap, x, &L->node0) != 0)
				goto out;
			L->nnodes = (uint16_t)x->nnodes;
			L->root = (uint16_t)x->root;
		}
		for (unsigned k = 0; k < r->nterms && i + 1 + k < db->nrules; k++) {
			const struct scan_rule *t = &db->rules[i + 1 + k];
			struct db_sub *sb = &db->subs[db->nsub];

			sb->ldb = db->nldb;
			db->match[i + 1 + k].sub = db->nsub + 1;
			db->nsub++;
			if (t->class_name == NULL)
				continue;
			if (scan_sig_lexpr_compile(t->class_name,
						   strlen(t->class_name),
						   r->nterms, x, &why) != 0) {
				L->bad = 1;
				continue;
			}
			if (lnodes_add(db, &cap, x, &sb->t_node0) != 0)
				goto out;
			sb->t_n = (uint16_t)x->nnodes;
			sb->t_root = (uint16_t)x->root;
		}
		db->nldb++;
		i += r->nterms;
	}
	db->tab_bytes += db->nldb * sizeof *db->ldb +
			 db->nsub * sizeof *db->subs +
			 db->nlnodes * sizeof *db->lnodes;
	rc = 0;
out:
	free(x);
	return rc;
}

/* Derive the match table, hash tables and size sets from db->rules and
 * the per-rule callback checks (enum scan_rule_check). */
int hsdb_finish(struct scan_db *db, const uint8_t *checks)
{
	uint32_t count[T_N] = { 0 };

	db->match = calloc(db->nrules ? db->nrules : 1, sizeof *db->match);
	if (db->match == NULL)
		return -ENOMEM;
	for (unsigned i = 0; i < db->nrules; i++) {
		const struct scan_rule *r = &db->rules[i];
		struct db_match *m = &db->match[i];

		m->where = (uint8_t)r->where;
		m->off = r->off;
		m->shift = r->shift;
		m->len = r->min_len == r->max_len ? r->min_len : UINT32_MAX;
		m->check = checks[i];
		m->eof = r->offset == SCAN_OFFSET_EOF;
		if (r->kind == SCAN_RULE_VIRUS && r->match == SCAN_MATCH_PATTERN &&
		    r->target_type > 0 && r->target_type <= UINT8_MAX)
			m->target = (uint8_t)r->target_type;
		if (is_hash(r->match))
			count[r->match - SCAN_MATCH_MD5]++;
	}
	if (ldb_tables(db) != 0)
		return -ENOMEM;
	for (int t = 0; t < T_N; t++) {
		uint32_t size = 16;

		while (size < 2 * count[t])
			size *= 2;
		db->tab[t].slots = calloc(size, sizeof(struct hslot));
		if (db->tab[t].slots == NULL)
			return -ENOMEM;
		db->tab[t].mask = size - 1;
		db->tab_bytes += size * sizeof(struct hslot);
	}
	for (unsigned i = 0; i < db->nrules; i++) {
		const struct scan_rule *r = &db->rules[i];

		if (!is_hash(r->match))
			continue;
		struct htab *t = &db->tab[r->match - SCAN_MATCH_MD5];
		uint64_t k = digest_key(r->digest);
		uint32_t h = (uint32_t)k & t->mask;

		while (t->slots[h].idx1 != 0)
			h = (h + 1) & t->mask;
		t->slots[h].key = k;
		t->slots[h].idx1 = i + 1;
	}
	return db_sizes(db, count);
}

/* Copy the builder's rules that scan_rules_validate() kept, strings into
 * one pool (file names shared); bid[i] = builder id of db rule i. */
static int db_copy_rules(struct scan_db *db, struct scan_rules *rules,
			 unsigned *bid)
{
	size_t need = 1;
	const char *last_file = NULL;
	unsigned n = scan_rules_count(rules);
	char *p;

	db->nrules = 0;
	for (unsigned i = 0; i < n; i++)
		if (!scan_rules_rejected(rules, i))
			bid[db->nrules++] = i;
	for (unsigned i = 0; i < db->nrules; i++) {
		const struct scan_rule *r = scan_rules_get(rules, bid[i]);

		need += strlen(r->name) + 1;
		if (r->class_name)
			need += strlen(r->class_name) + 1;
		if (r->file != last_file)
			need += strlen(r->file) + 1;
		last_file = r->file;
	}
	if (need > UINT32_MAX)
		return -ENOMEM;
	db->rules = calloc(db->nrules ? db->nrules : 1, sizeof *db->rules);
	db->pool = malloc(need);
	if (db->rules == NULL || db->pool == NULL)
		return -ENOMEM;
	p = db->pool;
	*p++ = '\0';
	last_file = NULL;
	const char *last_copy = NULL;
	for (unsigned i = 0; i < db->nrules; i++) {
		const struct scan_rule *r = scan_rules_get(rules, bid[i]);
		struct scan_rule *d = &db->rules[i];

		*d = *r;
		if (r->kind == SCAN_RULE_TERM) {
			/* only signatures are dropped: a rule and its terms
			 * stay contiguous */
			if (i < 1u + r->term || bid[i - 1 - r->term] != r->owner)
				abort();
			d->owner = i - 1 - r->term;
		}
		d->name = p;
		p = stpcpy(p, r->name) + 1;
		if (r->class_name) {
			d->class_name = p;
			p = stpcpy(p, r->class_name) + 1;
		}
		if (r->file != last_file) {
			last_copy = p;
			p = stpcpy(p, r->file) + 1;
		}
		d->file = last_copy;
		last_file = r->file;
	}
	db->pool_len = (size_t)(p - db->pool);
	return 0;
}

static int db_compile(struct scan_db *db, struct scan_rules *rules,
		      const unsigned *bid, const hs_platform_info_t *plat,
		      char *err, size_t errsz)
{
	unsigned n = 0;
	const char **exprs = calloc(db->nrules + 1, sizeof *exprs);
	unsigned *flags = calloc(db->nrules + 1, sizeof *flags);
	unsigned *ids = calloc(db->nrules + 1, sizeof *ids);
	hs_compile_error_t *cerr = NULL;
	int rc = -ENOMEM;

	if (!exprs || !flags || !ids) {
		set_err(err, errsz, "out of memory");
		goto out;
	}
	for (unsigned i = 0; i < db->nrules; i++) {
		const struct scan_rule_expr *x = scan_rules_expr(rules, bid[i]);

		if (x == NULL)
			continue;
		exprs[n] = x->expr;
		flags[n] = x->hs_flags;
		ids[n] = i;
		n++;
	}
	rc = 0;
	if (n == 0)
		goto out; /* Hyperscan cannot compile zero patterns */
	if (hs_compile_multi(exprs, flags, ids, n, HS_MODE_BLOCK, plat,
			     &db->hs, &cerr) != HS_SUCCESS) {
		if (cerr && cerr->expression >= 0 &&
		    (unsigned)cerr->expression < n) {
			const struct scan_rule *r =
				&db->rules[ids[cerr->expression]];
			if (r->kind == SCAN_RULE_TERM)
				set_err(err, errsz, "%s:%u: rule '%s': term "
					"'%.64s': %s", r->file, r->line,
					db->rules[r->owner].name, r->name,
					cerr->message);
			else
				set_err(err, errsz, "%s:%u: rule '%s': %s",
					r->file, r->line, r->name,
					cerr->message);
		} else {
			set_err(err, errsz, "Hyperscan: %s",
				cerr ? cerr->message : "compile failed");
		}
		hs_free_compile_error(cerr);
		db->hs = NULL;
		rc = -EINVAL;
		goto out;
	}
	hs_database_size(db->hs, &db->hs_bytes);
out:
	free(exprs);
	free(flags);
	free(ids);
	return rc;
}

/* ---- public ----------------------------------------------------------- */

static void db_clear(struct scan_db *db)
{
	if (db->hs_map > 0)
		munmap(db->hs, db->hs_map);
	else
		hs_free_database(db->hs);
	free(db->rules);
	free(db->match);
	free(db->pool);
	free(db->ldb);
	free(db->subs);
	free(db->lnodes);
	for (int t = 0; t < T_N; t++) {
		free(db->tab[t].slots);
		free(db->sizes[t].v);
	}
	uint8_t key[32];
	memcpy(key, db->key, 32);
	memset(db, 0, sizeof *db);
	memcpy(db->key, key, 32);
}

__attribute__((format(printf, 4, 5)))
static void warnf(const struct scan_rules *rules, const char *file,
		  unsigned line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	scan_rules_warn(rules, file, line, msg);
}

int scan_db_build(struct scan_rules *rules, const char *cache_dir,
		  struct scan_db **out, char *err, size_t errsz)
{
	struct scan_db *db = calloc(1, sizeof *db);
	unsigned *bid = NULL;
	uint8_t *checks = NULL;
	hs_platform_info_t plat;
	int rc = -ENOMEM, dir_rc = 0;

	*out = NULL;
	if (errsz > 0)
		err[0] = '\0';
	if (db == NULL)
		goto fail;
	if (hs_populate_platform(&plat) != HS_SUCCESS) {
		set_err(err, errsz, "Hyperscan: cannot detect the platform");
		rc = -EINVAL;
		goto fail;
	}
	hsdb_key(rules, &plat, db->key);
	if (cache_dir != NULL) {
		dir_rc = hsdb_mkdir_p(cache_dir);
		rc = dir_rc == 0 ? hsdb_cache_load(db, cache_dir, rules) : dir_rc;
		if (rc == 0) {
			*out = db;
			return 0;
		}
		if (rc == -ENOMEM)
			goto fail;
		db_clear(db); /* missing, stale or corrupt: rebuild */
	}

	/* cache miss: Hyperscan's verdict on every expression, then compile
	 * what it accepts */
	rc = scan_rules_validate(rules, err, errsz);
	if (rc != 0)
		goto fail;
	rc = -ENOMEM;
	bid = calloc(scan_rules_count(rules) + 1, sizeof *bid);
	if (bid == NULL)
		goto fail;
	rc = db_copy_rules(db, rules, bid);
	if (rc != 0)
		goto fail;
	rc = db_compile(db, rules, bid, &plat, err, errsz);
	if (rc != 0)
		goto fail;
	checks = calloc(db->nrules ? db->nrules : 1, 1);
	if (checks == NULL) {
		rc = -ENOMEM;
		goto fail;
	}
	for (unsigned i = 0; i < db->nrules; i++) {
		const struct scan_rule_expr *x = scan_rules_expr(rules, bid[i]);

		checks[i] = (uint8_t)(x ? x->check : SCAN_RULE_CHECK_NONE);
	}
	rc = hsdb_finish(db, checks);
	if (rc != 0)
		goto fail;
	if (cache_dir != NULL) {
		const struct scan_rule_note *notes;
		unsigned nnotes = scan_rules_notes(rules, &notes);

		if (dir_rc == 0)
			dir_rc = hsdb_cache_write(db, cache_dir, notes, nnotes);
		if (dir_rc == 0)
			hsdb_cache_prune(cache_dir, db->key);
		else
			warnf(rules, cache_dir, 0, "rule cache not written: %s; "
			      "every start compiles the rules (make the "
			      "directory writable or change 'rule_cache')",
			      strerror(-dir_rc));
	}
	free(bid);
	free(checks);
	*out = db;
	return 0;
fail:
	if (rc == -ENOMEM && errsz > 0 && err[0] == '\0')
		snprintf(err, errsz, "out of memory building the rule database");
	free(bid);
	free(checks);
	scan_db_free(db);
	return rc;
}

void scan_db_free(struct scan_db *db)
{
	if (db == NULL)
		return;
	db_clear(db);
	free(db);
}

unsigned scan_db_rule_count(const struct scan_db *db)
{
	return db->nrules;
}

const struct scan_rule *scan_db_rule(const struct scan_db *db, unsigned id)
{
	return id < db->nrules ? &db->rules[id] : NULL;
}

size_t scan_db_memory(const struct scan_db *db)
{
	return db->hs_bytes + db->nrules * (sizeof *db->rules + sizeof *db->match) +
	       db->pool_len + db->tab_bytes;
}

int scan_db_loaded_from_cache(const struct scan_db *db)
{
	return db->from_cache;
}

void scan_db_key(const struct scan_db *db, uint8_t out[32])
{
	memcpy(out, db->key, 32);
}

struct scan_db_scratch *scan_db_scratch_create(const struct scan_db *db)
{
	struct scan_db_scratch *s = calloc(1, sizeof *s);
	size_t words = (db->nrules + 63) / 64 + 1;

	if (s == NULL)
		return NULL;
	s->db = db;
	s->bits = calloc(words, sizeof *s->bits);
	s->touched = calloc(words, sizeof *s->touched);
	s->last_part = calloc(db->nrules + 1, sizeof *s->last_part);
	s->cnt = calloc(db->nsub + 1, sizeof *s->cnt);
	s->sub_touched = calloc(db->nsub + 1, sizeof *s->sub_touched);
	s->ldb_touched = calloc(db->nldb + 1, sizeof *s->ldb_touched);
	s->ldb_on = calloc(db->nldb + 1, 1);
	if (s->bits == NULL || s->touched == NULL || s->last_part == NULL ||
	    s->cnt == NULL || s->sub_touched == NULL || s->ldb_touched == NULL ||
	    s->ldb_on == NULL)
		goto fail;
	if (db->hs != NULL && hs_alloc_scratch(db->hs, &s->hs) != HS_SUCCESS)
		goto fail;
	return s;
fail:
	scan_db_scratch_free(s);
	return NULL;
}

void scan_db_scratch_free(struct scan_db_scratch *s)
{
	if (s == NULL)
		return;
	hs_free_scratch(s->hs);
	free(s->bits);
	free(s->touched);
	free(s->last_part);
	free(s->cnt);
	free(s->sub_touched);
	free(s->ldb_touched);
	free(s->ldb_on);
	free(s);
}

/* No leaf open: subsignature counts zeroed, .ndb targets match nothing. */
static void leaf_clear(struct scan_db_scratch *s)
{
	for (uint32_t i = 0; i < s->nsub_touched; i++)
		s->cnt[s->sub_touched[i]] = 0;
	for (uint32_t i = 0; i < s->nldb_touched; i++)
		s->ldb_on[s->ldb_touched[i]] = 0;
	s->nsub_touched = 0;
	s->nldb_touched = 0;
	s->leaf_active = 0;
	s->leaf_target = 0;
}

void scan_db_hits_reset(struct scan_db_scratch *s)
{
	for (uint32_t i = 0; i < s->ntouched; i++)
		s->bits[s->touched[i]] = 0;
	s->ntouched = 0;
	s->nhits = 0;
	s->dropped = 0;
	s->allow_on = 0;
	leaf_clear(s);
}

static void record(struct scan_db_scratch *s, uint32_t id, uint64_t start,
		   uint64_t end, unsigned where)
{
	uint32_t w = id >> 6;
	uint64_t bit = 1ull << (id & 63);

	if (s->allow_on && s->allow_part == s->part &&
	    s->db->rules[id].kind == SCAN_RULE_VIRUS)
		return; /* the leaf is on an allow-list (.fp/.sfp) */

	if (s->bits[w] & bit) {
		if (s->last_part[id] == s->part)
			return; /* once per part */
	} else {
		if (s->bits[w] == 0)
			s->touched[s->ntouched++] = w;
		s->bits[w] |= bit;
	}
	s->last_part[id] = s->part;
	if (s->nhits == SCAN_DB_MAX_HITS) {
		s->dropped++;
		return;
	}
	s->hits[s->nhits++] = (struct scan_hit){
		.rule = id, .part = s->part, .start = start, .end = end,
		.where = where,
	};
}

static int on_match(unsigned id, unsigned long long from,
		    unsigned long long to, unsigned flags, void *ctx)
{
	struct scan_db_scratch *s = ctx;
	const struct db_match *m;
	uint64_t start, lo;

	(void)flags;
	if (id >= s->db->nrules)
		return 0; /* only a forged cache file could do this */
	m = &s->db->match[id];
	if (!(m->where & s->where))
		return 0;
	if (m->target != 0 && (!s->leaf_active || m->target != s->leaf_target))
		return 0; /* .ndb target: the leaf's own bytes, of that type */
	switch (m->check) {
	case SCAN_RULE_CHECK_NONE:
		start = m->len != UINT32_MAX ? to - m->len : UINT64_MAX;
		break;
	case SCAN_RULE_CHECK_FIXED:
	case SCAN_RULE_CHECK_SOM:
		start = m->check == SCAN_RULE_CHECK_SOM ? from : to - m->len;
		if (m->eof) {
			if (s->len < m->off)
				return 0; /* as ClamAV: offset before the file */
			lo = s->len - m->off;
		} else {
			lo = m->off;
		}
		if (start < lo || start - lo > m->shift)
			return 0;
		break;
	default:
		return 0;
	}
	if (m->sub != 0) {
		/* .ldb subsignature: counted, evaluated at scan_db_leaf_end */
		uint32_t slot = m->sub - 1;

		if (!s->leaf_active)
			return 0;
		if (s->cnt[slot] == 0) {
			uint32_t l = s->db->subs[slot].ldb;

			s->sub_touched[s->nsub_touched++] = slot;
			if (!s->ldb_on[l]) {
				s->ldb_on[l] = 1;
				s->ldb_touched[s->nldb_touched++] = l;
			}
		}
		if (s->cnt[slot] != UINT32_MAX)
			s->cnt[slot]++;
		return 0;
	}
	record(s, id, start, to, s->where);
	return 0;
}

int scan_db_scan(const struct scan_db *db, struct scan_db_scratch *s,
		 const uint8_t *data, size_t len, unsigned where, int part)
{
	hs_error_t e;

	if (s->db != db || where == 0)
		return -EINVAL;
	if (len > UINT_MAX)
		return -EFBIG;
	if (db->hs == NULL)
		return 0;
	s->len = len;
	s->where = where;
	s->part = part;
	e = hs_scan(db->hs, data ? (const char *)data : "", (unsigned)len, 0,
		    s->hs, on_match, s);
	switch (e) {
	case HS_SUCCESS:
	case HS_SCAN_TERMINATED:
		return 0;
	case HS_NOMEM:
		return -ENOMEM;
	case HS_INVALID:
	case HS_BAD_ALIGN:
		return -EINVAL;
	default:
		return -EIO;
	}
}

/* Look d up; allow: only allow-list entries (role 1), which mark the
 * leaf; else only signatures, which are recorded. */
static void hash_lookup(const struct scan_db *db, struct scan_db_scratch *s,
			int t, const uint8_t *d, uint64_t size, int allow)
{
	const struct htab *tab = &db->tab[t];
	uint64_t k = digest_key(d);
	uint32_t h = (uint32_t)k & tab->mask;

	for (; tab->slots[h].idx1 != 0; h = (h + 1) & tab->mask) {
		if (tab->slots[h].key != k)
			continue;
		uint32_t id = tab->slots[h].idx1 - 1;
		const struct scan_rule *r = &db->rules[id];

		if ((r->role == 1) != (allow != 0) ||
		    memcmp(r->digest, d, (size_t)digest_len(r->match)) != 0 ||
		    (r->size != UINT64_MAX && r->size != size))
			continue;
		if (!allow) {
			record(s, id, 0, size, 0);
		} else {
			s->allow_on = 1;
			s->allow_part = s->part;
		}
	}
}

unsigned scan_db_hash_needs(const struct scan_db *db, uint64_t size)
{
	unsigned need = 0;

	for (int t = 0; t < T_N; t++)
		if (sizes_have(&db->sizes[t], size))
			need |= 1u << t;
	return need;
}

int scan_db_hash_match(const struct scan_db *db, struct scan_db_scratch *s,
		       const uint8_t *md5, const uint8_t *sha1,
		       const uint8_t *sha256, uint64_t size, int part)
{
	if (s->db != db)
		return -EINVAL;
	s->part = part;
	s->allow_on = 0;
	for (int allow = 1; allow >= 0; allow--) {
		if (md5 != NULL)
			hash_lookup(db, s, T_MD5, md5, size, allow);
		if (sha1 != NULL)
			hash_lookup(db, s, T_SHA1, sha1, size, allow);
		if (sha256 != NULL)
			hash_lookup(db, s, T_SHA256, sha256, size, allow);
	}
	return 0;
}

void scan_db_leaf_begin(struct scan_db_scratch *s, unsigned target)
{
	leaf_clear(s);
	s->leaf_active = 1;
	s->leaf_target = target;
}

/* Does leaf type `target` satisfy the signature's Target? */
static int target_ok(int want, unsigned target)
{
	return want <= 0 || (unsigned)want == target;
}

int scan_db_leaf_end(const struct scan_db *db, struct scan_db_scratch *s,
		     uint64_t size, int part)
{
	uint32_t c[SCAN_SIG_LDB_MAX_SUBSIGS], e[SCAN_SIG_LDB_MAX_SUBSIGS];
	unsigned fired = 0;

	if (s->db != db)
		return -EINVAL;
	s->part = part;
	if (s->where == 0)
		s->where = SCAN_WHERE_ATTACHMENT;
	for (uint32_t i = 0; i < s->nldb_touched && s->leaf_active; i++) {
		const struct db_ldb *L = &db->ldb[s->ldb_touched[i]];

		if (L->bad || !target_ok(L->target, s->leaf_target) ||
		    size < L->size_min || size > L->size_max)
			continue;
		for (unsigned k = 0; k < L->nsub; k++)
			c[k] = e[k] = s->cnt[L->slot0 + k];
		/* a PCRE counts only when its trigger holds */
		for (unsigned k = 0; k < L->nsub; k++) {
			const struct db_sub *sb = &db->subs[L->slot0 + k];

			if (sb->t_n != 0 && e[k] != 0 &&
			    !scan_sig_lnodes_eval(db->lnodes + sb->t_node0,
						  sb->t_n, sb->t_root, c))
				e[k] = 0;
		}
		if (scan_sig_lnodes_eval(db->lnodes + L->node0, L->nnodes,
					 L->root, e)) {
			record(s, L->rule, UINT64_MAX, size, s->where);
			fired++;
		}
	}
	leaf_clear(s);
	return (int)fired;
}

unsigned scan_db_hits(const struct scan_db_scratch *s,
		      const struct scan_hit **out)
{
	*out = s->hits;
	return s->nhits;
}

unsigned scan_db_hits_dropped(const struct scan_db_scratch *s)
{
	return s->dropped;
}
