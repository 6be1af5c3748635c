/*
 * scan/rules.h - rule records: virus signatures, content rules and spam
 * keywords, and the builder that collects them for one rule generation.
 *
 * The builder (scan/rules.c) takes content and spam rules from the
 * configuration and virus signatures from ClamAV files (.ndb/.ldb/.hdb/
 * .hsb/.fp/.sfp/.ign/.ign2, translated by scan/sig_clamav.c), checks each
 * cheaply (syntax, names),
 * and keeps a SHA-256 of its sources. Hyperscan's own check of each
 * expression is deferred to compile time (scan_rules_validate, called by
 * scan_db_build on a cache miss), so a start from the cache costs no
 * Hyperscan call per rule. scan/hsdb.h compiles a builder into the one Hyperscan
 * database (plus hash tables) that the scan threads share.
 */
#ifndef SLUICE_SCAN_RULES_H
#define SLUICE_SCAN_RULES_H

#include <stddef.h>
#include <stdint.h>

enum scan_rule_kind {
	SCAN_RULE_VIRUS,   /* ClamAV body or hash signature */
	SCAN_RULE_CONTENT, /* content rule: keyword or regex, with a class */
	SCAN_RULE_SPAM,    /* weighted spam keyword */
	SCAN_RULE_TERM,    /* hidden: one term of a keyword expression (a
			      content rule with terms); never a finding */
};

/* Where a rule applies: bitmask over the buffers the pipeline scans. */
enum scan_where {
	SCAN_WHERE_HEADER = 1u << 0,     /* decoded header block */
	SCAN_WHERE_SUBJECT = 1u << 1,    /* decoded Subject value */
	SCAN_WHERE_BODY = 1u << 2,       /* text parts (and their text views) */
	SCAN_WHERE_ATTACHMENT = 1u << 3, /* every other leaf */
	SCAN_WHERE_ANY = 0xfu,
};

/* Rule flags. */
enum {
	SCAN_RULE_CASELESS = 1u << 0, /* match ignoring ASCII case */
	SCAN_RULE_WORD = 1u << 1,     /* whole word: not inside [A-Za-z0-9_] */
	SCAN_RULE_REGEX = 1u << 2,    /* pattern is a Hyperscan/PCRE regex;
					 otherwise a literal keyword */
};

/* Role of a term in a keyword expression. */
enum scan_term_role {
	SCAN_TERM_ALL, /* must match */
	SCAN_TERM_ANY, /* at least min_any distinct ANY terms must match */
	SCAN_TERM_NOT, /* must not match */
};

#define SCAN_RULE_MAX_TERMS 32

/* One term of a keyword expression. Borrowed, like the definition. */
struct scan_term_def {
	enum scan_term_role role;
	const char *pattern;     /* keyword or regex (see SCAN_RULE_REGEX) */
	unsigned flags;          /* SCAN_RULE_*, resolved: no inheritance */
};

/* A content or spam rule as written in the configuration. Borrowed: the
 * builder copies what it keeps. A content rule is either one pattern
 * (pattern, flags) or a keyword expression (nterms > 0, pattern NULL):
 * it fires when every ALL term matched, at least min_any distinct ANY
 * terms matched (when there are ANY terms) and no NOT term matched,
 * anywhere in the message within `where`. */
struct scan_rule_def {
	enum scan_rule_kind kind;
	const char *name;        /* unique within its kind */
	const char *pattern;     /* keyword or regex (see SCAN_RULE_REGEX) */
	unsigned flags;          /* SCAN_RULE_* */
	unsigned where;          /* SCAN_WHERE_* mask; 0 means ANY */
	int score;               /* spam weight (may be negative) */
	const char *class_name;  /* content rules: result class the policy
				    maps to an action, e.g. "block" */
	const char *file;        /* where it was written, for messages */
	unsigned line;
	/* keyword expression (content rules only); nterms 0: none */
	const struct scan_term_def *terms;
	unsigned nterms;         /* 0..SCAN_RULE_MAX_TERMS */
	unsigned min_any;        /* 0 means 1; at most the ANY term count */
};

/* ---- Rule records as the compiled database reports them ---------------- */

enum scan_rule_match {
	SCAN_MATCH_PATTERN, /* Hyperscan expression (body sig, content, spam) */
	SCAN_MATCH_MD5,     /* hash signatures: digest of the whole leaf */
	SCAN_MATCH_SHA1,
	SCAN_MATCH_SHA256,
	SCAN_MATCH_LOGIC,   /* keyword expression: no expression of its own;
			       evaluated from its terms' hits */
};

/* Offset constraint of a body signature: where the match must start. */
enum scan_rule_offset {
	SCAN_OFFSET_ANY,
	SCAN_OFFSET_ABS, /* start in [off, off+shift] */
	SCAN_OFFSET_EOF, /* start in [len-off, len-off+shift], len >= off */
};

/* Virus signatures apply to leaf bytes: text parts and attachments. */
#define SCAN_RULE_SIG_WHERE (SCAN_WHERE_BODY | SCAN_WHERE_ATTACHMENT)

/* A rule record. Read-only; strings are owned by whoever returned it (the
 * builder or the compiled database) and live as long as it does. */
struct scan_rule {
	enum scan_rule_kind kind;
	enum scan_rule_match match;
	const char *name;
	unsigned where;          /* SCAN_WHERE_* mask, never 0 */
	int score;               /* spam weight; 0 otherwise */
	const char *class_name;  /* content rules; NULL otherwise */
	const char *file;        /* source file (path as given) */
	unsigned line;
	/* ClamAV target type (0 = any file, 1 = PE, ...); -1 for content and
	 * spam rules. The compiled database (scan/hsdb.h) counts a body or
	 * logical signature with a non-zero target only in a leaf of that
	 * type. */
	int target_type;
	/* body signatures */
	enum scan_rule_offset offset;
	uint64_t off, shift;
	uint32_t min_len, max_len; /* body length; max UINT32_MAX = unbounded */
	/* hash signatures */
	uint64_t size;             /* leaf size, UINT64_MAX = any size */
	uint8_t digest[32];        /* 16/20/32 bytes used by match type */
	/* Logical signatures (.ldb): a SCAN_MATCH_LOGIC virus rule with id L
	 * is followed by its nterms subsignatures, SCAN_RULE_TERM records
	 * L+1 .. L+nterms (owner L, term k, name the subsignature's text,
	 * class_name the PCRE trigger expression or NULL). The logic
	 * rule's class_name is its logical expression, target_type its
	 * Target, off..shift its FileSize range (0..UINT64_MAX: any). A
	 * signature whose subsignature Hyperscan refuses is dropped whole.
	 * Allow-list entries (.fp/.sfp) are virus hash rules with role 1.
	 * Keyword expressions: a SCAN_MATCH_LOGIC content rule with id L is
	 * followed by its nterms SCAN_RULE_TERM records, ids L+1 .. L+nterms
	 * in term order (a database keeps them contiguous). A term record's
	 * name is its pattern as written; where, file and line are the
	 * rule's; class_name is NULL. */
	uint32_t owner;            /* TERM: id of its LOGIC rule */
	uint8_t role;              /* TERM: enum scan_term_role */
	uint8_t term;              /* TERM: index, 0 .. nterms-1 */
	uint8_t nterms;            /* LOGIC: number of terms */
	uint8_t min_any;           /* LOGIC: ANY terms needed; 0: no ANY */
};

/* ---- Builder: collects one rule generation ---------------------------- */

struct scan_rules;

/* Diagnostics while loading signature files: a rejected line, an
 * unsupported file. file is the path as given, line 0 for whole-file
 * messages. msg is only valid during the call. */
typedef void (*scan_diag_fn)(void *ctx, const char *file, unsigned line,
			     const char *msg);

/* Why signatures of a file were not compiled: one reason and how many
 * signatures it applies to. */
struct scan_sig_reason {
	const char *why;      /* owned by the builder */
	unsigned count;
	int libclamav;        /* 1: left to libclamav; 0: rejected */
};

#define SCAN_SIGFILE_MAX_REASONS 16

/* Per-file load statistics. Every signature line of a file ends in
 * exactly one of loaded, hashes, allow, ignores, libclamav, ignored or
 * rejected. */
struct scan_sigfile_stats {
	const char *file;     /* path as given */
	unsigned loaded;      /* body (.ndb) and logical (.ldb) signatures in
				 the Hyperscan database */
	unsigned logical;     /* of loaded: .ldb logical signatures */
	unsigned hashes;      /* hash signatures (.hdb/.hsb) */
	unsigned allow;       /* allow-list entries (.fp/.sfp) */
	unsigned ignores;     /* ignore entries (.ign/.ign2) */
	unsigned libclamav;   /* valid ClamAV signatures we cannot express:
				 only libclamav evaluates them (when its
				 clamav: section is on) */
	unsigned ignored;     /* signatures dropped by an ignore entry */
	unsigned rejected;    /* malformed lines, each reported via diag */
	int unsupported;      /* 1: file type not supported, file skipped */
	/* Reasons for libclamav and rejected, grouped by text, in order of
	 * first occurrence; signatures whose reason did not fit in the
	 * table are counted in other_reasons. */
	struct scan_sig_reason reasons[SCAN_SIGFILE_MAX_REASONS];
	unsigned nreasons;
	unsigned other_reasons;
};

/* One line summing up st (no newline) into buf[0..sz), truncated to fit,
 * e.g. "12 to Hyperscan (3 logical), 4 hash, 1 allow-list, 2 ignore
 * entries; 5 left to libclamav, 1 ignored, 2 rejected; reasons: 4x
 * libclamav: target type 3/4/7 ..., 1x rejected: bad offset". Counts
 * that are 0 are left out ("nothing loaded" when all are). Returns the
 * length it wanted (as snprintf). */
size_t scan_sigfile_stats_format(const struct scan_sigfile_stats *st,
				 char *buf, size_t sz);

/* Create an empty builder. NULL on allocation failure. Not thread-safe:
 * one thread builds, then compiles with scan_db_build() (scan/hsdb.h). */
struct scan_rules *scan_rules_create(void);

/* Free the builder and every string it copied. Accepts NULL. A database
 * built from it stays valid (it copies what it needs). */
void scan_rules_free(struct scan_rules *r);

/* Add a content or spam rule (borrowed; copied). The pattern is a literal
 * keyword (escaped for Hyperscan) unless SCAN_RULE_REGEX; CASELESS maps
 * to HS_FLAG_CASELESS; WORD wraps a literal in \b on each side that is a
 * word character, a regex in \b(?:...)\b. Only cheap checks run here
 * (fields, flags, duplicate names); whether Hyperscan accepts a regex is
 * checked by scan_db_build() when it compiles (not when it loads from the
 * cache), which then fails naming the rule.
 * A keyword expression (def->nterms > 0, content rules only, pattern
 * NULL) adds one SCAN_MATCH_LOGIC record and then one SCAN_RULE_TERM
 * record per term, each compiled like a pattern with its own flags and
 * the rule's where; it needs at least one ALL or ANY term, at most
 * SCAN_RULE_MAX_TERMS terms, and min_any <= the ANY term count (0 when
 * there is none).
 * Returns 0, or -EINVAL (bad definition), -EEXIST (name already used by a
 * rule of the same kind), -ENOMEM; on error err (if errsz > 0) holds
 * "file:line: content rule 'name': reason" ("spam rule" for spam), and
 * nothing was added. */
int scan_rules_add(struct scan_rules *r, const struct scan_rule_def *def,
		   char *err, size_t errsz);

/* Load one ClamAV signature file, by extension: .ndb (body signatures),
 * .ldb (logical signatures: one SCAN_MATCH_LOGIC virus record followed
 * by its subsignatures as SCAN_RULE_TERM records, see struct scan_rule),
 * .hdb / .hsb (MD5 / SHA-1 / SHA-256 by digest length), .fp / .sfp
 * (allow-list: hash records with role 1), .ign / .ign2 (names of
 * signatures to drop, applied by scan_rules_validate() to every file of
 * the builder, loaded before or after), .mdb / .msb (PE section hashes:
 * each line counted as libclamav only, see docs/decisions.md). A
 * signature valid for ClamAV that cannot be expressed here (see
 * scan/sig_clamav.h) is reported as "signature 'name' left to libclamav:
 * reason" and counted in stats libclamav. Other ClamAV extensions are
 * reported through diag as not supported (libclamav reads them itself)
 * and skipped; unknown extensions likewise. Comment (#) and blank lines are
 * ignored, CRLF is accepted. A bad line is reported with its line number
 * and reason and skipped; it never stops the load. diag may be NULL; it
 * (and ctx) must stay valid until scan_db_build() returns: a signature
 * that parses but that Hyperscan rejects is found there, when the
 * database is compiled, reported through this diag as "signature 'name'
 * left to libclamav: Hyperscan: reason" with its line, moved from loaded
 * to libclamav in the file's stats, and left out of the database (an
 * .ldb signature whole: "logical signature 'name' (subsignature k) left
 * to libclamav: Hyperscan: reason"). The first
 * non-NULL diag also becomes the builder's (see scan_rules_set_diag).
 * Returns the number of entries loaded (body, logical and hash
 * signatures, allow-list and ignore entries), or -errno when the file
 * cannot be read (-ENOMEM on allocation failure). */
int scan_rules_load_sigfile(struct scan_rules *r, const char *path,
			    scan_diag_fn diag, void *ctx);

/* Load every regular, non-hidden file in dir, sorted by name (strcmp),
 * as scan_rules_load_sigfile(). Returns the total loaded, or -errno for
 * the directory or the first file that cannot be read. */
int scan_rules_load_sigdir(struct scan_rules *r, const char *dir,
			   scan_diag_fn diag, void *ctx);

/* Where scan_db_build() reports build-level conditions (rule cache
 * directory not writable, ...), as (ctx, path, 0, msg). Default: the first
 * non-NULL diag given to scan_rules_load_sigfile()/_sigdir(); NULL: not
 * reported. diag and ctx must stay valid until scan_db_build() returns. */
void scan_rules_set_diag(struct scan_rules *r, scan_diag_fn diag, void *ctx);

/* Load statistics of the i-th file loaded (0 <= i < file count). The
 * pointer lives as long as the builder. Signatures Hyperscan rejects are
 * counted as rejected only once scan_db_build() has run. */
unsigned scan_rules_file_count(const struct scan_rules *r);
const struct scan_sigfile_stats *scan_rules_file_stats(
	const struct scan_rules *r, unsigned i);

/* Number of rules, and rule id (0-based, in the order added). */
unsigned scan_rules_count(const struct scan_rules *r);
const struct scan_rule *scan_rules_get(const struct scan_rules *r,
				       unsigned id);

/* SHA-256 over every source so far, in order (file paths and contents,
 * rule definitions). Equal hashes mean equal rule generations. */
void scan_rules_source_hash(const struct scan_rules *r, uint8_t out[32]);

/* ---- For scan/hsdb.c: how each pattern rule is compiled ----------------- */

enum scan_rule_check {
	SCAN_RULE_CHECK_NONE,  /* Hyperscan enforces everything */
	SCAN_RULE_CHECK_FIXED, /* callback: start = end - min_len within the
				  rule's offset window (ABS or EOF) */
	SCAN_RULE_CHECK_SOM,   /* callback: start = leftmost SOM within it */
};

struct scan_rule_expr {
	const char *expr;        /* NUL-terminated Hyperscan expression */
	unsigned hs_flags;       /* HS_FLAG_* */
	enum scan_rule_check check;
};

/* The expression of rule id, or NULL for hash signatures and
 * SCAN_MATCH_LOGIC rules. */
const struct scan_rule_expr *scan_rules_expr(const struct scan_rules *r,
					     unsigned id);

/* Check every pattern rule not checked yet with Hyperscan
 * (hs_expression_info; a pattern that can match the empty string is
 * refused too). A rejected signature is reported through its file's diag,
 * counted (see scan_rules_load_sigfile) and kept as a note; then
 * scan_rules_rejected() says 1 for it. A rejected content or spam rule is
 * a configuration error: returns -EINVAL with err = "file:line: content
 * rule 'name': bad pattern: reason" ("spam rule"; for a term: "content
 * rule 'name': term 'pattern': bad pattern: reason"), and the next call
 * checks it again. Returns 0, -EINVAL, or -ENOMEM. Each rejection is
 * reported once per builder. Costs one Hyperscan parse per new rule. */
int scan_rules_validate(struct scan_rules *r, char *err, size_t errsz);

/* 1 when scan_rules_validate() dropped rule id, else 0. */
int scan_rules_rejected(const struct scan_rules *r, unsigned id);

/* A signature dropped at build time, as reported (msg without file:line).
 * Strings owned by whoever returned the note. */
struct scan_rule_note {
	const char *file;
	unsigned line;
	const char *msg;
};

/* The dropped signatures so far, in rule order; *out borrowed from r,
 * valid until the next call that changes r. */
unsigned scan_rules_notes(const struct scan_rules *r,
			  const struct scan_rule_note **out);

/* When the database came from the cache: report and count the notes that
 * were stored with it (borrowed, copied) as scan_rules_validate() did
 * when it compiled, so every start reports the same. Does nothing when
 * this builder has already validated or replayed. 0 or -ENOMEM. */
int scan_rules_replay_notes(struct scan_rules *r,
			    const struct scan_rule_note *notes, unsigned n);

/* Report msg through the builder's diag (scan_rules_set_diag), if any. */
void scan_rules_warn(const struct scan_rules *r, const char *file,
		     unsigned line, const char *msg);

#endif
