/*
 * scan/hsdb.h - the compiled rule database of one rule generation: one
 * Hyperscan block-mode database holding every virus body signature,
 * content rule and spam keyword, plus read-only open-addressing tables for
 * the MD5/SHA-1/SHA-256 hash signatures.
 *
 * Sharing: a struct scan_db is immutable once built and may be used by any
 * number of threads at once. Each scan thread owns one struct
 * scan_db_scratch (Hyperscan scratch + per-message hit state) made for
 * that database; scratch is never shared between threads.
 *
 * Per-message use, with no allocation, lock or syscall:
 *     scan_db_hits_reset(s);
 *     for each leaf/buffer: scan_db_scan(db, s, data, len, where, part);
 *     for each leaf: scan_db_hash_match(db, s, md5, sha1, sha256, size, part);
 *     n = scan_db_hits(s, &hits);
 * Each rule is reported at most once per message (a bitset over rule ids):
 * the first hit wins, later hits of the same rule in other parts are not
 * recorded. Hits are kept in a bounded array (SCAN_DB_MAX_HITS); distinct
 * rules beyond it are counted by scan_db_hits_dropped(). A hit is recorded
 * only if the rule's where-mask includes the scanned buffer's where bit
 * and, for body signatures, its offset constraint holds (see
 * scan/sig_clamav.h for how each offset form is enforced).
 *
 * Cache: with a cache_dir, scan_db_build() first looks for
 * <cache_dir>/sluice-<key>.hsdb, key = hex SHA-256 over (cache format
 * version, the builder's source hash, hs_version(), the host's
 * hs_platform_info from hs_populate_platform()). The file holds a header
 * (magic, version, key, payload length), the payload (rule table, string
 * pool, hs_serialize_database() bytes) and a SHA-256 of the payload. A
 * file that fails any check (length, magic, key, checksum, record ranges,
 * hs_deserialize_database) is ignored and rebuilt over. New files are
 * written to a temporary name, fsync'ed, renamed, and the directory
 * fsync'ed. Failing to write the cache is not an error. Old generations'
 * files are left in place.
 */
#ifndef SLUICE_SCAN_HSDB_H
#define SLUICE_SCAN_HSDB_H

#include <stddef.h>
#include <stdint.h>

#include "scan/rules.h"

#define SCAN_DB_MAX_HITS 256

struct scan_db;
struct scan_db_scratch;

struct scan_hit {
	uint32_t rule;   /* rule id: scan_db_rule(db, rule) */
	int part;        /* as passed to the scan call */
	uint64_t start;  /* match start, UINT64_MAX when unknown; 0 for hash */
	uint64_t end;    /* offset after the match; the size for hash hits */
	unsigned where;  /* where bit of the scanned buffer; 0 for hash hits
			    (they cover the whole leaf) */
};

/* Compile the builder's rules (borrowed, not modified; it may be freed
 * afterwards) into *out. cache_dir: NULL for no cache. Returns 0, or
 * -EINVAL when Hyperscan refuses the set (err names the rule as
 * "file:line: rule 'name': message"), -ENOMEM. err (if errsz > 0) is
 * always NUL-terminated. A set with no pattern rules is valid (no
 * Hyperscan database; scans find nothing). Caller frees with
 * scan_db_free(). */
int scan_db_build(struct scan_rules *rules, const char *cache_dir,
		  struct scan_db **out, char *err, size_t errsz);

/* Free the database. Accepts NULL. No scratch made for it may be used
 * afterwards. */
void scan_db_free(struct scan_db *db);

unsigned scan_db_rule_count(const struct scan_db *db);

/* Rule record of id, or NULL when out of range. Lives as long as db. */
const struct scan_rule *scan_db_rule(const struct scan_db *db, unsigned id);

/* Bytes held: Hyperscan database + rule table + strings + hash tables. */
size_t scan_db_memory(const struct scan_db *db);

/* 1 when scan_db_build() loaded the database from its cache file. */
int scan_db_loaded_from_cache(const struct scan_db *db);

/* The cache key (also identifies the rule generation). */
void scan_db_key(const struct scan_db *db, uint8_t out[32]);

/* Per-thread scratch for db: Hyperscan scratch plus hit state sized to
 * the rule count. NULL on allocation failure. Free with
 * scan_db_scratch_free() (accepts NULL) before the database. */
struct scan_db_scratch *scan_db_scratch_create(const struct scan_db *db);
void scan_db_scratch_free(struct scan_db_scratch *s);

/* Forget the hits of the previous message. Costs O(bitset words touched
 * since the last reset), not O(rules). */
void scan_db_hits_reset(struct scan_db_scratch *s);

/* Scan data[0..len) (borrowed) once, as a buffer of kind `where` (one
 * SCAN_WHERE_* bit) belonging to MIME part `part`; record hits into s.
 * Returns 0, -EINVAL (scratch made for another database, or where is 0),
 * -EFBIG (len > UINT_MAX, Hyperscan's block limit), -ENOMEM / -EIO
 * (Hyperscan error). */
int scan_db_scan(const struct scan_db *db, struct scan_db_scratch *s,
		 const uint8_t *data, size_t len, unsigned where, int part);

/* Look the leaf's digests up in the hash signature tables and record hits
 * (size must equal the signature's, unless it was '*'). sha1 may be NULL
 * (SHA-1 signatures are then not checked). Returns 0 or -EINVAL (scratch
 * made for another database). */
int scan_db_hash_match(const struct scan_db *db, struct scan_db_scratch *s,
		       const uint8_t md5[16], const uint8_t *sha1,
		       const uint8_t sha256[32], uint64_t size, int part);

/* Hits of the current message in the order found; *out borrowed from s,
 * valid until the next reset/scan. */
unsigned scan_db_hits(const struct scan_db_scratch *s,
		      const struct scan_hit **out);

/* Distinct rules that hit after the hit array was full. */
unsigned scan_db_hits_dropped(const struct scan_db_scratch *s);

#endif
