/*
 * scan/hsdb_int.h - the database layout shared by scan/hsdb.c (build,
 * scan) and scan/hsdb_cache.c (the on-disk cache). Private to those two
 * files; the module's interface is scan/hsdb.h.
 */
#ifndef SLUICE_SCAN_HSDB_INT_H
#define SLUICE_SCAN_HSDB_INT_H

#include <stddef.h>
#include <stdint.h>

#include <hs.h>

#include "scan/hsdb.h"
#include "scan/sig_clamav.h"

/* What the match callback needs per rule id, packed. */
struct db_match {
	uint64_t off, shift;
	uint32_t len;   /* body length when fixed, else UINT32_MAX */
	uint8_t where;
	uint8_t check;  /* enum scan_rule_check */
	uint8_t eof;    /* window relative to the end (SCAN_OFFSET_EOF) */
	uint8_t target; /* .ndb target type: a hit counts only in a leaf's
			   own bytes of that type; 0 any buffer */
	uint32_t sub;   /* .ldb subsignature: its slot + 1; 0: not one */
};

/* A logical signature (.ldb): its expression and constraints. */
struct db_ldb {
	uint32_t rule;     /* the SCAN_MATCH_LOGIC virus rule */
	uint32_t slot0;    /* slot of subsignature 0; nsub consecutive */
	uint32_t node0;    /* its expression: lnodes[node0 .. +nnodes) */
	uint16_t nnodes, root;
	uint8_t nsub;
	uint8_t bad;       /* expression did not compile: never fires */
	int32_t target;    /* ClamAV target type, 0 any */
	uint64_t size_min, size_max;
};

/* A subsignature slot. */
struct db_sub {
	uint32_t ldb;      /* index into db->ldb */
	uint32_t t_node0;  /* PCRE trigger: lnodes[t_node0 .. +t_n), root */
	uint16_t t_n, t_root; /* t_n 0: no trigger */
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
	/* logical signatures (hsdb_finish) */
	struct db_ldb *ldb;
	uint32_t nldb;
	struct db_sub *subs;
	uint32_t nsub;
	struct scan_sig_lnode *lnodes;
	uint32_t nlnodes;
	int from_cache;
	uint8_t key[32];
};

/* ---- hsdb.c ------------------------------------------------------------ */

/* Derive the match table, hash tables, size sets and logical signature
 * tables from db->rules and
 * the per-rule callback checks (checks[i] for rule i, enum
 * scan_rule_check; borrowed). 0 or -ENOMEM; on error db may hold partial
 * state. */
int hsdb_finish(struct scan_db *db, const uint8_t *checks);

/* ---- hsdb_cache.c ------------------------------------------------------ */

/* The cache key of the builder's rule generation on platform plat (see
 * "Cache" in hsdb.h) into key. Aborts when libcrypto cannot allocate. */
void hsdb_key(struct scan_rules *rules, const hs_platform_info_t *plat,
	      uint8_t key[32]);

/* mkdir -p dir, new components 0700. 0 or -errno. */
int hsdb_mkdir_p(const char *dir);

/* Load and verify dir's cache file for db->key (set by the caller) into
 * db; replay its notes into rules and mark the file as recently used.
 * 0 or -errno (-EBADMSG: the file fails a check); on error db may hold
 * partial state that scan_db_free() releases. */
int hsdb_cache_load(struct scan_db *db, const char *dir,
		    struct scan_rules *rules);

/* Write db's cache file into dir (atomically: temporary file, fsync,
 * rename, directory fsync), with the notes (borrowed) of the signatures
 * dropped while compiling. 0 or -errno. */
int hsdb_cache_write(const struct scan_db *db, const char *dir,
		     const struct scan_rule_note *notes, unsigned nnotes);

/* After writing the cache file for key: delete other generations' files
 * beyond the newest two and temporary files over an hour old. Best
 * effort, no error. */
void hsdb_cache_prune(const char *dir, const uint8_t key[32]);

#endif
