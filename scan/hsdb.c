/*
 * scan/hsdb.c - compile a rule generation into one Hyperscan database and
 * hash tables; cache it on disk; scan with per-thread scratch.
 * Contract in scan/hsdb.h.
 */
#include "scan/hsdb.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <hs.h>
#include <openssl/evp.h>

#include "scan/hash.h"

#define DB_MAGIC "SLUICEDB"
/* Bump when the file layout, struct db_rec, or the translation of
 * signatures and rules changes meaning. */
#define DB_FORMAT 2u
/* Cache files kept per directory: the current one and the newest other
 * (a rollback to the previous generation still starts from the cache). */
#define CACHE_KEEP 2

/* What the match callback needs per rule id, packed. */
struct db_match {
	uint64_t off, shift;
	uint32_t len;   /* body length when fixed, else UINT32_MAX */
	uint8_t where;
	uint8_t check;  /* enum scan_rule_check */
	uint8_t eof;    /* window relative to the end (SCAN_OFFSET_EOF) */
};

struct hslot {
	uint64_t key;  /* first 8 digest bytes */
	uint32_t idx1; /* rule id + 1; 0 = empty */
};

struct htab {
	struct hslot *slots;
	uint32_t mask;
};

enum { T_MD5, T_SHA1, T_SHA256, T_N };

_Static_assert(SCAN_HASH_MD5 == 1u << T_MD5 && SCAN_HASH_SHA1 == 1u << T_SHA1 &&
		       SCAN_HASH_SHA256 == 1u << T_SHA256,
	       "SCAN_HASH_* bits follow the table order");

/* Leaf sizes that hash signatures of one digest type name. */
struct sizeset {
	uint64_t *v; /* sorted, distinct */
	uint32_t n;
	int any;     /* a signature with size '*' */
};

struct scan_db {
	hs_database_t *hs; /* NULL when there are no pattern rules */
	size_t hs_bytes;
	size_t hs_map;     /* > 0: hs is our read-only mapping of this size */
	unsigned nrules;
	struct scan_rule *rules;
	struct db_match *match;
	char *pool; /* every string of every rule */
	size_t pool_len;
	struct htab tab[T_N];
	struct sizeset sizes[T_N];
	size_t tab_bytes; /* hash tables and size sets */
	int from_cache;
	uint8_t key[32];
};

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
	struct scan_hit hits[SCAN_DB_MAX_HITS];
};

/* On-disk rule record (native layout; the cache key covers the platform
 * and DB_FORMAT). String fields are pool offsets, UINT32_MAX = NULL. */
struct db_rec {
	uint32_t kind, match, where, line, offset, check, min_len, max_len;
	uint32_t name, class_name, file;
	int32_t score, target;
	uint32_t pad;
	uint64_t off, shift, size;
	uint8_t digest[32];
};

#define NOSTR UINT32_MAX

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

		if (r->match == SCAN_MATCH_PATTERN)
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

/* Derive the match table, hash tables and size sets from db->rules and
 * the per-rule callback checks (enum scan_rule_check). */
static int db_finish(struct scan_db *db, const uint8_t *checks)
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
		if (r->match != SCAN_MATCH_PATTERN)
			count[r->match - SCAN_MATCH_MD5]++;
	}
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

		if (r->match == SCAN_MATCH_PATTERN)
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

static void db_key(struct scan_rules *rules, const hs_platform_info_t *plat,
		   uint8_t key[32])
{
	uint8_t src[32];
	uint32_t fmt = DB_FORMAT;
	const char *ver = hs_version();
	uint64_t pk[2] = { plat->tune, plat->cpu_features };
	EVP_MD_CTX *c = EVP_MD_CTX_new();

	scan_rules_source_hash(rules, src);
	if (c == NULL || !EVP_DigestInit_ex2(c, EVP_sha256(), NULL))
		abort(); /* start-up out of memory */
	EVP_DigestUpdate(c, DB_MAGIC, 8);
	EVP_DigestUpdate(c, &fmt, sizeof fmt);
	EVP_DigestUpdate(c, src, sizeof src);
	EVP_DigestUpdate(c, ver, strlen(ver) + 1);
	EVP_DigestUpdate(c, pk, sizeof pk);
	EVP_DigestFinal_ex(c, key, NULL);
	EVP_MD_CTX_free(c);
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
			set_err(err, errsz, "%s:%u: rule '%s': %s", r->file,
				r->line, r->name, cerr->message);
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

/* ---- cache file ------------------------------------------------------- */

struct wbuf {
	uint8_t *p;
	size_t n, cap;
	int bad;
};

static void wput(struct wbuf *w, const void *p, size_t n)
{
	if (w->bad)
		return;
	if (w->cap - w->n < n) {
		size_t cap = w->cap ? w->cap : 4096;

		while (cap - w->n < n)
			cap *= 2;
		uint8_t *np = realloc(w->p, cap);
		if (np == NULL) {
			w->bad = 1;
			return;
		}
		w->p = np;
		w->cap = cap;
	}
	memcpy(w->p + w->n, p, n);
	w->n += n;
}

static uint32_t pool_off(const struct scan_db *db, const char *s)
{
	return s == NULL ? NOSTR : (uint32_t)(s - db->pool);
}

#define HDR_LEN (8 + 4 + 4 + 32 + 8)
#define TMP_PREFIX ".sluice-hsdb."

static void cache_path(char *buf, size_t sz, const char *dir,
		       const uint8_t key[32])
{
	char hex[65];

	snprintf(buf, sz, "%s/sluice-%s.hsdb", dir, scan_hash_hex(key, 32, hex));
}

/* Write db's cache file into dir, with the notes of the signatures
 * dropped while compiling. 0 or -errno. */
static int cache_write(const struct scan_db *db, const char *dir,
		       const struct scan_rule_note *notes, unsigned nnotes)
{
	struct wbuf w = { 0 };
	char path[4096], tmp[4096];
	char *ser = NULL;
	size_t ser_len = 0;
	uint32_t u32;
	uint64_t u64;
	int fd = -1, rc = -ENOMEM;

	if (db->hs != NULL &&
	    hs_serialize_database(db->hs, &ser, &ser_len) != HS_SUCCESS)
		return -ENOMEM;
	/* header; payload length patched below */
	wput(&w, DB_MAGIC, 8);
	u32 = DB_FORMAT;
	wput(&w, &u32, 4);
	u32 = HDR_LEN;
	wput(&w, &u32, 4);
	wput(&w, db->key, 32);
	u64 = 0;
	wput(&w, &u64, 8);
	/* payload */
	u32 = db->nrules;
	wput(&w, &u32, 4);
	u64 = db->pool_len;
	wput(&w, &u64, 8);
	wput(&w, db->pool, db->pool_len);
	for (unsigned i = 0; i < db->nrules; i++) {
		const struct scan_rule *r = &db->rules[i];
		struct db_rec rec;

		memset(&rec, 0, sizeof rec);
		rec.kind = r->kind;
		rec.match = r->match;
		rec.where = r->where;
		rec.line = r->line;
		rec.offset = r->offset;
		rec.check = db->match[i].check;
		rec.min_len = r->min_len;
		rec.max_len = r->max_len;
		rec.name = pool_off(db, r->name);
		rec.class_name = pool_off(db, r->class_name);
		rec.file = pool_off(db, r->file);
		rec.score = r->score;
		rec.target = r->target_type;
		rec.off = r->off;
		rec.shift = r->shift;
		rec.size = r->size;
		memcpy(rec.digest, r->digest, 32);
		wput(&w, &rec, sizeof rec);
	}
	u32 = nnotes;
	wput(&w, &u32, 4);
	for (unsigned i = 0; i < nnotes; i++) {
		uint32_t nl[3] = { notes[i].line, (uint32_t)strlen(notes[i].file),
				   (uint32_t)strlen(notes[i].msg) };

		wput(&w, nl, sizeof nl);
		wput(&w, notes[i].file, nl[1]);
		wput(&w, notes[i].msg, nl[2]);
	}
	u64 = ser_len;
	wput(&w, &u64, 8);
	if (ser_len > 0)
		wput(&w, ser, ser_len);
	free(ser);
	if (w.bad)
		goto out;
	u64 = w.n - HDR_LEN;
	memcpy(w.p + HDR_LEN - 8, &u64, 8);
	{
		uint8_t sum[32];

		scan_sha256(w.p + HDR_LEN, w.n - HDR_LEN, sum);
		wput(&w, sum, 32);
	}
	if (w.bad)
		goto out;

	cache_path(path, sizeof path, dir, db->key);
	snprintf(tmp, sizeof tmp, "%s/" TMP_PREFIX "XXXXXX", dir);
	fd = mkstemp(tmp);
	if (fd < 0) {
		rc = -errno;
		goto out;
	}
	for (size_t off = 0; off < w.n;) {
		ssize_t k = write(fd, w.p + off, w.n - off);

		if (k < 0) {
			if (errno == EINTR)
				continue;
			goto unlink;
		}
		off += (size_t)k;
	}
	if (fchmod(fd, 0644) != 0 || fsync(fd) != 0)
		goto unlink;
	if (close(fd) != 0) {
		fd = -1;
		goto unlink;
	}
	fd = -1;
	if (rename(tmp, path) != 0)
		goto unlink;
	{
		int dfd = open(dir, O_RDONLY | O_DIRECTORY);

		if (dfd >= 0) {
			(void)fsync(dfd);
			close(dfd);
		}
	}
	rc = 0;
	goto out;
unlink:
	rc = -errno;
	if (fd >= 0)
		close(fd);
	unlink(tmp);
out:
	free(w.p);
	return rc;
}

/* mkdir -p dir, new components 0700. 0 or -errno. */
static int mkdir_p(const char *dir)
{
	char buf[4096];
	size_t n = strlen(dir);
	struct stat sb;

	if (n == 0 || n >= sizeof buf)
		return -ENAMETOOLONG;
	if (stat(dir, &sb) == 0)
		return S_ISDIR(sb.st_mode) ? 0 : -ENOTDIR;
	memcpy(buf, dir, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		if (buf[i - 1] == '/')
			continue; /* "//" */
		buf[i] = '\0';
		if (mkdir(buf, 0700) != 0 && errno != EEXIST)
			return -errno;
		buf[i] = dir[i];
	}
	if (stat(dir, &sb) != 0)
		return -errno;
	return S_ISDIR(sb.st_mode) ? 0 : -ENOTDIR;
}

#define CACHE_NAME_LEN (7 + 64 + 5)

struct cache_ent {
	char name[CACHE_NAME_LEN + 1];
	struct timespec mtime;
};

static int ent_newer(const void *a, const void *b)
{
	const struct timespec *x = &((const struct cache_ent *)a)->mtime;
	const struct timespec *y = &((const struct cache_ent *)b)->mtime;

	if (x->tv_sec != y->tv_sec)
		return x->tv_sec < y->tv_sec ? 1 : -1;
	if (x->tv_nsec != y->tv_nsec)
		return x->tv_nsec < y->tv_nsec ? 1 : -1;
	return strcmp(((const struct cache_ent *)a)->name,
		      ((const struct cache_ent *)b)->name);
}

/* "sluice-<64 hex>.hsdb" */
static int is_cache_name(const char *s)
{
	size_t n = strlen(s);

	if (n != CACHE_NAME_LEN || strncmp(s, "sluice-", 7) != 0 ||
	    strcmp(s + n - 5, ".hsdb") != 0)
		return 0;
	for (size_t i = 7; i < 7 + 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

/* After writing the cache file for key: delete other generations' files
 * beyond the newest CACHE_KEEP (the current one always stays), and
 * temporary files left by a crash more than an hour ago. Best effort. */
static void cache_prune(const char *dir, const uint8_t key[32])
{
	char cur[4096], hex[65];
	struct cache_ent *ents = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d = opendir(dir);
	time_t now = time(NULL);

	if (d == NULL)
		return;
	snprintf(cur, sizeof cur, "sluice-%s.hsdb", scan_hash_hex(key, 32, hex));
	while ((de = readdir(d)) != NULL) {
		struct stat sb;
		int tmp = strncmp(de->d_name, TMP_PREFIX, strlen(TMP_PREFIX)) == 0;

		if ((!tmp && !is_cache_name(de->d_name)) ||
		    strcmp(de->d_name, cur) == 0 ||
		    fstatat(dirfd(d), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISREG(sb.st_mode))
			continue;
		if (tmp) {
			if (sb.st_mtime < now - 3600)
				(void)unlinkat(dirfd(d), de->d_name, 0);
			continue;
		}
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 8;
			struct cache_ent *ne = realloc(ents, ncap * sizeof *ne);

			if (ne == NULL)
				break;
			ents = ne;
			cap = ncap;
		}
		memcpy(ents[n].name, de->d_name, CACHE_NAME_LEN + 1);
		ents[n].mtime = sb.st_mtim;
		n++;
	}
	if (n > 1)
		qsort(ents, n, sizeof *ents, ent_newer);
	for (size_t i = CACHE_KEEP - 1; i < n; i++)
		(void)unlinkat(dirfd(d), ents[i].name, 0);
	closedir(d);
	free(ents);
}

struct rbuf {
	const uint8_t *p;
	size_t n, pos;
};

static int rget(struct rbuf *r, void *out, size_t n)
{
	if (r->n - r->pos < n)
		return -1;
	memcpy(out, r->p + r->pos, n);
	r->pos += n;
	return 0;
}

/* Map the file read-only, populated (one call instead of a page fault per
 * 4 KiB, and no copy). 0 or -errno; unmap *out with munmap(*out, *len). */
static int map_file(const char *path, const uint8_t **out, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat sb;
	void *p;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) ||
	    sb.st_size < HDR_LEN + 32 || (uint64_t)sb.st_size > ((uint64_t)1 << 34)) {
		close(fd);
		return -EBADMSG;
	}
	p = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE,
		 fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return -EBADMSG;
	*out = p;
	*len = (size_t)sb.st_size;
	return 0;
}

/* Deserialize into a mapping of our own, populated in one call (the
 * database is megabytes: a page fault per 4 KiB costs more than the
 * copy), then made read-only: scans only read it. 0 or -EBADMSG. */
static int hs_deserialize_mapped(struct scan_db *db, const char *bytes,
				 size_t len)
{
	size_t size = 0;
	void *p;

	if (hs_serialized_database_size(bytes, len, &size) != HS_SUCCESS ||
	    size == 0)
		return -EBADMSG;
	p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (p == MAP_FAILED)
		return -EBADMSG;
	if (hs_deserialize_database_at(bytes, len, p) != HS_SUCCESS) {
		munmap(p, size);
		return -EBADMSG;
	}
	(void)mprotect(p, size, PROT_READ);
	db->hs = p;
	db->hs_map = size;
	return 0;
}

/* The notes section of a cache file: n notes, strings pointing into a
 * private copy. */
struct notes {
	struct scan_rule_note *v;
	char *str;
	uint32_t n;
};

static int notes_read(struct rbuf *r, struct notes *nt)
{
	uint32_t n, nl[3];
	size_t start, need = 0;

	if (rget(r, &n, 4) || n > (r->n - r->pos) / sizeof nl)
		return -EBADMSG;
	start = r->pos;
	for (uint32_t i = 0; i < n; i++) {
		if (rget(r, nl, sizeof nl) || nl[1] > r->n - r->pos ||
		    nl[2] > r->n - r->pos - nl[1])
			return -EBADMSG;
		r->pos += (size_t)nl[1] + nl[2];
		need += (size_t)nl[1] + nl[2] + 2;
	}
	nt->v = calloc(n ? n : 1, sizeof *nt->v);
	nt->str = malloc(need ? need : 1);
	if (nt->v == NULL || nt->str == NULL)
		return -ENOMEM;
	r->pos = start;
	char *p = nt->str;
	for (uint32_t i = 0; i < n; i++) {
		rget(r, nl, sizeof nl);
		nt->v[i].line = nl[0];
		nt->v[i].file = p;
		rget(r, p, nl[1]);
		p += nl[1];
		*p++ = '\0';
		nt->v[i].msg = p;
		rget(r, p, nl[2]);
		p += nl[2];
		*p++ = '\0';
	}
	nt->n = n;
	return 0;
}

/* Load and verify a cache file into db (whose key is set); replay its
 * notes into rules and mark the file as recently used. 0 or -errno; on
 * error db may hold partial state that scan_db_free() releases. */
static int cache_load(struct scan_db *db, const char *dir,
		      struct scan_rules *rules)
{
	struct notes nt = { 0 };
	char path[4096];
	const uint8_t *buf = NULL;
	uint8_t sum[32], key[32];
	size_t len = 0;
	char magic[8];
	uint32_t fmt, hdr, nrules;
	uint64_t payload, pool_len, ser_len;
	int rc;

	cache_path(path, sizeof path, dir, db->key);
	rc = map_file(path, &buf, &len);
	if (rc != 0)
		return rc;
	struct rbuf r = { buf, len, 0 };
	rc = -EBADMSG;
	if (rget(&r, magic, 8) || memcmp(magic, DB_MAGIC, 8) ||
	    rget(&r, &fmt, 4) || fmt != DB_FORMAT || rget(&r, &hdr, 4) ||
	    hdr != HDR_LEN || rget(&r, key, 32) ||
	    memcmp(key, db->key, 32) != 0 || rget(&r, &payload, 8) ||
	    payload != len - HDR_LEN - 32)
		goto out;
	scan_sha256(buf + HDR_LEN, payload, sum);
	if (memcmp(sum, buf + HDR_LEN + payload, 32) != 0)
		goto out;
	r.n = HDR_LEN + payload; /* the checksum is not payload */

	if (rget(&r, &nrules, 4) || rget(&r, &pool_len, 8) || pool_len == 0 ||
	    pool_len > r.n - r.pos || pool_len > UINT32_MAX ||
	    (uint64_t)nrules * sizeof(struct db_rec) > r.n - r.pos)
		goto out;
	db->pool = malloc(pool_len);
	db->nrules = nrules;
	db->rules = calloc(nrules ? nrules : 1, sizeof *db->rules);
	if (db->pool == NULL || db->rules == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	db->pool_len = pool_len;
	rget(&r, db->pool, pool_len);
	if (db->pool[pool_len - 1] != '\0')
		goto out; /* every string ends inside the pool */
	uint8_t *checks = calloc(nrules ? nrules : 1, 1);
	if (checks == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	for (uint32_t i = 0; i < nrules; i++) {
		struct db_rec rec;
		struct scan_rule *d = &db->rules[i];

		if (rget(&r, &rec, sizeof rec) || rec.kind > SCAN_RULE_SPAM ||
		    rec.match > SCAN_MATCH_SHA256 ||
		    rec.offset > SCAN_OFFSET_EOF ||
		    rec.check > SCAN_RULE_CHECK_SOM ||
		    (rec.where & ~(unsigned)SCAN_WHERE_ANY) || rec.where == 0 ||
		    rec.name >= pool_len || rec.file >= pool_len ||
		    (rec.class_name != NOSTR && rec.class_name >= pool_len)) {
			free(checks);
			goto out;
		}
		d->kind = rec.kind;
		d->match = rec.match;
		d->where = rec.where;
		d->line = rec.line;
		d->offset = rec.offset;
		d->min_len = rec.min_len;
		d->max_len = rec.max_len;
		d->name = db->pool + rec.name;
		d->class_name = rec.class_name == NOSTR ? NULL
							: db->pool + rec.class_name;
		d->file = db->pool + rec.file;
		d->score = rec.score;
		d->target_type = rec.target;
		d->off = rec.off;
		d->shift = rec.shift;
		d->size = rec.size;
		memcpy(d->digest, rec.digest, 32);
		checks[i] = (uint8_t)rec.check;
	}
	rc = notes_read(&r, &nt);
	if (rc != 0) {
		free(checks);
		goto out;
	}
	rc = -EBADMSG;
	if (rget(&r, &ser_len, 8) || ser_len != r.n - r.pos) {
		free(checks);
		goto out;
	}
	if (ser_len > 0 &&
	    hs_deserialize_mapped(db, (const char *)buf + r.pos, ser_len) != 0) {
		free(checks);
		goto out;
	}
	rc = db_finish(db, checks);
	free(checks);
	if (rc != 0)
		goto out;
	if (db->hs != NULL)
		hs_database_size(db->hs, &db->hs_bytes);
	db->from_cache = 1;
	rc = scan_rules_replay_notes(rules, nt.v, nt.n);
	/* most recently used: cache_prune() keeps it (best effort) */
	(void)utimensat(AT_FDCWD, path, NULL, 0);
out:
	free(nt.v);
	free(nt.str);
	munmap((void *)buf, len);
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
	db_key(rules, &plat, db->key);
	if (cache_dir != NULL) {
		dir_rc = mkdir_p(cache_dir);
		rc = dir_rc == 0 ? cache_load(db, cache_dir, rules) : dir_rc;
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
	rc = db_finish(db, checks);
	if (rc != 0)
		goto fail;
	if (cache_dir != NULL) {
		const struct scan_rule_note *notes;
		unsigned nnotes = scan_rules_notes(rules, &notes);

		if (dir_rc == 0)
			dir_rc = cache_write(db, cache_dir, notes, nnotes);
		if (dir_rc == 0)
			cache_prune(cache_dir, db->key);
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
	if (s->bits == NULL || s->touched == NULL || s->last_part == NULL)
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
	free(s);
}

void scan_db_hits_reset(struct scan_db_scratch *s)
{
	for (uint32_t i = 0; i < s->ntouched; i++)
		s->bits[s->touched[i]] = 0;
	s->ntouched = 0;
	s->nhits = 0;
	s->dropped = 0;
}

static void record(struct scan_db_scratch *s, uint32_t id, uint64_t start,
		   uint64_t end, unsigned where)
{
	uint32_t w = id >> 6;
	uint64_t bit = 1ull << (id & 63);

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

static void hash_lookup(const struct scan_db *db, struct scan_db_scratch *s,
			int t, const uint8_t *d, uint64_t size)
{
	const struct htab *tab = &db->tab[t];
	uint64_t k = digest_key(d);
	uint32_t h = (uint32_t)k & tab->mask;

	for (; tab->slots[h].idx1 != 0; h = (h + 1) & tab->mask) {
		if (tab->slots[h].key != k)
			continue;
		uint32_t id = tab->slots[h].idx1 - 1;
		const struct scan_rule *r = &db->rules[id];

		if (memcmp(r->digest, d, (size_t)digest_len(r->match)) == 0 &&
		    (r->size == UINT64_MAX || r->size == size))
			record(s, id, 0, size, 0);
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
	if (md5 != NULL)
		hash_lookup(db, s, T_MD5, md5, size);
	if (sha1 != NULL)
		hash_lookup(db, s, T_SHA1, sha1, size);
	if (sha256 != NULL)
		hash_lookup(db, s, T_SHA256, sha256, size);
	return 0;
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
