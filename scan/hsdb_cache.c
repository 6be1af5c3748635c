/*
 * scan/hsdb_cache.c - the on-disk rule cache of scan/hsdb.c: key,
 * serialize, atomic write, load and verify, pruning of stale files.
 * Contract in scan/hsdb.h ("Cache"); internal interface in
 * scan/hsdb_int.h.
 */
#include "scan/hsdb_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
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
#define DB_FORMAT 5u /* 3: keyword expressions (owner, role, term, ...);
			    4: .ldb logical signatures, .fp/.sfp (role);
			    5: .ndb targets enforced, 3/4/7/8/13/14 left to
			    libclamav */
/* Cache files kept per directory: the current one and the newest other
 * (a rollback to the previous generation still starts from the cache). */
#define CACHE_KEEP 2

/* On-disk rule record (native layout; the cache key covers the platform
 * and DB_FORMAT). String fields are pool offsets, UINT32_MAX = NULL. */
struct db_rec {
	uint32_t kind, match, where, line, offset, check, min_len, max_len;
	uint32_t name, class_name, file;
	int32_t score, target;
	uint32_t owner;
	uint8_t role, term, nterms, min_any;
	uint32_t pad;
	uint64_t off, shift, size;
	uint8_t digest[32];
};

#define NOSTR UINT32_MAX

void hsdb_key(struct scan_rules *rules, const hs_platform_info_t *plat,
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
int hsdb_cache_write(const struct scan_db *db, const char *dir,
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
		rec.owner = r->owner;
		rec.role = r->role;
		rec.term = r->term;
		rec.nterms = r->nterms;
		rec.min_any = r->min_any;
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
int hsdb_mkdir_p(const char *dir)
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
void hsdb_cache_prune(const char *dir, const uint8_t key[32])
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

/* The keyword expressions of a loaded rule table hold together: each
 * LOGIC rule is a content rule followed by exactly its terms, each TERM
 * record belongs to the LOGIC rule just before its run, and no other
 * record carries term fields (scan.c indexes by them). */
static int logic_ok(const struct scan_db *db)
{
	for (uint32_t i = 0; i < db->nrules; i++) {
		const struct scan_rule *d = &db->rules[i];

		if (d->match == SCAN_MATCH_LOGIC && d->kind == SCAN_RULE_VIRUS) {
			/* .ldb: the expression is compiled by hsdb_finish */
			if (d->nterms == 0 ||
			    d->nterms > SCAN_SIG_LDB_MAX_SUBSIGS ||
			    d->nterms >= db->nrules - i || d->class_name == NULL)
				return 0;
			for (uint32_t k = 0; k < d->nterms; k++) {
				const struct scan_rule *t = &db->rules[i + 1 + k];

				if (t->kind != SCAN_RULE_TERM || t->owner != i ||
				    t->term != k || t->match != SCAN_MATCH_PATTERN)
					return 0;
			}
			i += d->nterms;
			continue;
		}
		if (d->match == SCAN_MATCH_LOGIC) {
			unsigned nany = 0, nall = 0;

			if (d->kind != SCAN_RULE_CONTENT || d->nterms == 0 ||
			    d->nterms > SCAN_RULE_MAX_TERMS ||
			    d->nterms >= db->nrules - i)
				return 0;
			for (uint32_t k = 0; k < d->nterms; k++) {
				const struct scan_rule *t = &db->rules[i + 1 + k];

				if (t->kind != SCAN_RULE_TERM || t->owner != i ||
				    t->term != k || t->role > SCAN_TERM_NOT ||
				    t->match != SCAN_MATCH_PATTERN)
					return 0;
				nany += t->role == SCAN_TERM_ANY;
				nall += t->role == SCAN_TERM_ALL;
			}
			if (nall + nany == 0 || d->min_any > nany ||
			    (nany > 0 && d->min_any == 0))
				return 0;
			i += d->nterms;
			continue;
		}
		/* a term outside its rule's run, or a stray LOGIC kind */
		if (d->kind == SCAN_RULE_TERM || d->nterms != 0)
			return 0;
	}
	return 1;
}

/* Load and verify a cache file into db (whose key is set); replay its
 * notes into rules and mark the file as recently used. 0 or -errno; on
 * error db may hold partial state that scan_db_free() releases. */
int hsdb_cache_load(struct scan_db *db, const char *dir,
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

		if (rget(&r, &rec, sizeof rec) || rec.kind > SCAN_RULE_TERM ||
		    rec.match > SCAN_MATCH_LOGIC ||
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
		d->owner = rec.owner;
		d->role = rec.role;
		d->term = rec.term;
		d->nterms = rec.nterms;
		d->min_any = rec.min_any;
		checks[i] = (uint8_t)rec.check;
	}
	if (!logic_ok(db)) {
		free(checks);
		goto out;
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
	rc = hsdb_finish(db, checks);
	free(checks);
	if (rc != 0)
		goto out;
	if (db->hs != NULL)
		hs_database_size(db->hs, &db->hs_bytes);
	db->from_cache = 1;
	rc = scan_rules_replay_notes(rules, nt.v, nt.n);
	/* most recently used: hsdb_cache_prune() keeps it (best effort) */
	(void)utimensat(AT_FDCWD, path, NULL, 0);
out:
	free(nt.v);
	free(nt.str);
	munmap((void *)buf, len);
	return rc;
}
