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
 *     for each leaf: need = scan_db_hash_needs(db, size);
 *                    compute the digests in need (others NULL);
 *                    scan_db_hash_match(db, s, md5, sha1, sha256, size, part);
 *                    scan_db_leaf_begin(s, target);
 *                    scan_db_scan(db, s, leaf bytes, len, where, part);
 *                    scan_db_leaf_end(db, s, len, part);
 *                    other buffers of the leaf (views): scan_db_scan();
 *     other buffers (headers, subject): scan_db_scan();
 *     n = scan_db_hits(s, &hits);
 * (the hashes first so that an allow-list entry covers the leaf's body
 * hits; see "Logical signatures" below).
 * Each rule is reported at most once per part: a bitset over rule ids
 * plus the part of the rule's last hit, so the same signature in parts 2
 * and 5 gives two hits (a policy that strips infected attachments must see
 * both) while repeated matches in one part's buffers and views give one.
 * Callers that count a rule once per message (spam weights) deduplicate
 * by rule id. Hits are kept in a bounded array (SCAN_DB_MAX_HITS); hits
 * beyond it are counted by scan_db_hits_dropped() and the caller must
 * treat a non-zero count as an incomplete scan. A hit is recorded
 * only if the rule's where-mask includes the scanned buffer's where bit
 * and, for body signatures, its offset constraint holds (see
 * scan/sig_clamav.h for how each offset form is enforced) and its
 * target type: an .ndb signature with target T > 0 counts only in a
 * scan between scan_db_leaf_begin(s, target) and _end with target == T,
 * that is over a leaf's own bytes whose true type maps to T (never in
 * text views, headers or scans outside a leaf); target 0 counts in any
 * buffer its where-mask admits.
 *
 * Cache: with a cache_dir, scan_db_build() creates the directory if
 * needed (mkdir -p, new components 0700) and looks for
 * <cache_dir>/sluice-<key>.hsdb, key = hex SHA-256 over (cache format
 * version, the builder's source hash, hs_version(), the host's
 * hs_platform_info from hs_populate_platform()). The file holds a header
 * (magic, version, key, payload length), the payload (rule table, string
 * pool, the signatures Hyperscan rejected as reported, and
 * hs_serialize_database() bytes) and a SHA-256 of the payload. A file
 * that fails any check (length, magic, key, checksum, record ranges,
 * hs_deserialize_database) is ignored and rebuilt over. A hit costs no
 * Hyperscan call per rule: the stored rule table is used as is (its
 * rejected signatures are reported again, see scan_db_build), and the
 * file's mtime is set to now. New files are written to a temporary name
 * (mode 0644), fsync'ed, renamed, and the directory fsync'ed; then other
 * generations' sluice-*.hsdb files beyond the newest two (the current one
 * and, by mtime, the previous: a rollback still starts warm) are deleted,
 * and temporary files older than an hour. A cache directory that cannot
 * be created or written is not an error: the database is built, the
 * builder's diag (scan_rules_set_diag) gets one warning.
 *
 * Files: scan/hsdb.c (build, scratch, scan), scan/hsdb_cache.c (the
 * cache), scan/hsdb_int.h (their shared layout; private to the two).
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

/* Build the database of the builder's rules (borrowed; it may be freed
 * afterwards) into *out: from the cache file when cache_dir (NULL: no
 * cache) holds one for this rule generation, else by compiling.
 * Compiling first checks every expression with Hyperscan
 * (scan_rules_validate): a rejected signature is reported through the
 * diag its file was loaded with ("file", line, "signature 'name' left
 * to libclamav: Hyperscan: reason"), counted in the file's stats and left
 * out; a loaded database reports the same signatures again from the
 * cache file, without asking Hyperscan. The builder changes only in
 * those stats and notes. Rule ids are the database's own (dropped
 * signatures leave no gap): use scan_db_rule(), not scan_rules_get().
 * Returns 0, or -EINVAL when Hyperscan refuses a content or spam rule
 * (err = "file:line: content rule 'name': bad pattern: reason", "spam
 * rule" likewise; a configuration error) or the set as a whole (err =
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

/* Digests of a leaf of `size` bytes that can match a hash signature. */
enum {
	SCAN_HASH_MD5 = 1u << 0,
	SCAN_HASH_SHA1 = 1u << 1,
	SCAN_HASH_SHA256 = 1u << 2,
};

/* Which digests a leaf of `size` bytes needs for scan_db_hash_match(): a
 * SCAN_HASH_* bit is set when db has a hash signature of that type whose
 * size is `size` or '*'. A digest whose bit is clear cannot match and
 * need not be computed. O(log distinct sizes); no allocation; thread-safe
 * (db is read-only). */
unsigned scan_db_hash_needs(const struct scan_db *db, uint64_t size);

/* Look the leaf's digests up in the hash signature tables and record hits
 * (size must equal the signature's, unless it was '*'). Each of md5, sha1
 * and sha256 (borrowed; 16, 20 and 32 bytes) may be NULL: signatures of
 * that type are then not checked, so pass every digest that
 * scan_db_hash_needs() asks for. Returns 0 or -EINVAL (scratch made for
 * another database). */
int scan_db_hash_match(const struct scan_db *db, struct scan_db_scratch *s,
		       const uint8_t *md5, const uint8_t *sha1,
		       const uint8_t *sha256, uint64_t size, int part);

/* Targets, logical signatures (.ldb) and allow-lists (.fp/.sfp), per
 * leaf ("Logical signatures"):
 *     scan_db_hash_match(db, s, ..., part);   allow-list first
 *     scan_db_leaf_begin(s, target);
 *     scan_db_scan(db, s, leaf bytes, len, where, part);
 *     scan_db_leaf_end(db, s, len, part);
 * target is the leaf's ClamAV type from scan_sig_target_of_ftype (0 when
 * its true type has none). Between _begin and _end, .ndb signatures with
 * a target T > 0 count only when T == target, and .ldb subsignature
 * matches are counted; other buffers, such as text views, feed neither.
 * _end evaluates the expression of every logical signature with a
 * counted subsignature whose Target (0 any, else equal to target) and
 * FileSize range admit the leaf, and
 * records a hit of the logic rule (start UINT64_MAX, end = size) when it
 * holds. A hash match of an allow-list entry makes every later virus
 * hit of the same part (body, logical, hash) be dropped until the next
 * scan_db_hash_match or reset. Counts live in the scratch, sized at its
 * creation: no allocation. _end returns the number of logical
 * signatures that fired, or -EINVAL (scratch made for another db). */
void scan_db_leaf_begin(struct scan_db_scratch *s, unsigned target);
int scan_db_leaf_end(const struct scan_db *db, struct scan_db_scratch *s,
		     uint64_t size, int part);

/* Hits of the current message in the order found; *out borrowed from s,
 * valid until the next reset/scan. */
unsigned scan_db_hits(const struct scan_db_scratch *s,
		      const struct scan_hit **out);

/* Distinct rules that hit after the hit array was full. */
unsigned scan_db_hits_dropped(const struct scan_db_scratch *s);

#endif
