/*
 * scan/clam.h - libclamav as a second opinion on selected leaves: one
 * shared engine per rule generation, a per-thread context, and a verdict
 * cache keyed by (leaf SHA-256, rule generation).
 *
 * Engine. clam_engine_create() loads real ClamAV databases - signed
 * .cvd/.cld/.cud and the text formats (.ndb .ldb .hdb .hsb .mdb .msb .fp
 * .sfp .ign .ign2 .idb .cdb .ftm .crb .pdb .wdb .yar/.yara and their
 * unofficial .?du twins) - from the signature paths (files or
 * directories; a directory is loaded by libclamav itself, which applies
 * its own rules: .ign/.ign2 first, the newer of daily.cvd/daily.cld),
 * sets libclamav's limits from ours and compiles. Each path's signature
 * count goes to diag ("N signatures (libclamav VERSION)", line 0), as do
 * libclamav's load warnings. A database libclamav refuses fails the whole
 * engine: err names the file and, when libclamav says it, the line
 * ("x.ndb:2: libclamav: Malformed database: Problem parsing database at
 * line 2"), because libclamav leaves a half-loaded engine unusable.
 *
 * Scan. clam_scan() scans one leaf from memory (cl_fmap_open_memory +
 * cl_scanmap_callback, the bytes are borrowed, never copied or written to
 * disk by us; libclamav itself writes temporary files for some container
 * formats into options.tmpdir) and maps the answer:
 *   CL_CLEAN                               CLAM_CLEAN
 *   CL_VIRUS "Heuristics.Encrypted.*"      CLAM_ENCRYPTED  (finding kind
 *                                          "encrypted", name as given)
 *   CL_VIRUS "Heuristics.OLE2.ContainsMacros.*"  CLAM_MACRO ("macro")
 *   CL_VIRUS "Heuristics.Limits.Exceeded.*"      CLAM_LIMIT ("limit")
 *   CL_VIRUS "Heuristics.Broken.*"         CLAM_MALFORMED ("malformed")
 *   CL_VIRUS anything else (signatures, other heuristics, phishing when
 *            enabled)                      CLAM_VIRUS ("virus")
 *   CL_ETIMEOUT                            CLAM_LIMIT "clam-time"
 *   CL_EMAXREC/CL_EMAXSIZE/CL_EMAXFILES    CLAM_LIMIT "clam-limit"
 *   any other error                        CLAM_LIMIT "clam-error", and
 *                                          clam_scan() returns -errno
 * A limit is never a silent pass: CL_SCAN_HEURISTIC_EXCEEDS_MAX is always
 * on, so a leaf or member beyond max_filesize, max_scansize, max_files or
 * max_recursion is reported by its Heuristics.Limits.Exceeded.* name.
 * Real signature matches win over heuristic ones (libclamav defers
 * heuristic alerts to the end of the scan; "heuristic precedence" off).
 * Time: one clam_scan is bounded by max_scantime_ms (libclamav checks
 * it between its steps: CL_ETIMEOUT or Heuristics.Limits.Exceeded.
 * MaxScanTime, both "limit"), not by scan_ctx_set_deadline(): the
 * caller starts no libclamav scan it has no time left for.
 *
 * Thread-safety. cl_init() runs once per process (pthread_once) from
 * clam_engine_create(), which also installs libclamav's message callback
 * (process wide, as libclamav requires before threads scan; from then on
 * libclamav prints nothing: load errors go to err, load warnings to diag,
 * messages during our scans are counted in clam_stats.lib_messages).
 * libclamav's contract (docs.clamav.net "libclamav": "The library is
 * thread-safe"; clamav.h: changing options of an engine in use is not
 * thread-safe, and a message callback must be set before going
 * multithreaded): an engine is configured
 * and compiled once, then any number of threads may call
 * cl_scanmap_callback on it at once, each with its own fmap and options -
 * what clamd's thread pool does. So a clam_engine is immutable after
 * creation and shared read-only; a clam_ctx belongs to one thread.
 * libclamav allocates, may create temporary files and takes an internal
 * lock or two per scan: this is scan-lcore work, made rare by the cache,
 * never net-lcore work. libclamav's own clean-file cache is disabled
 * (CL_ENGINE_DISABLE_CACHE: its global mutex and MD5 per file; ours is
 * lock-free and remembers infected leaves too).
 *
 * Verdict cache. A fixed table of 128-byte slots, 4-way set associative,
 * each slot a seqlock (atomic 64-bit sequence + words read with relaxed
 * atomics): lookups take no lock and never wait, an insert that loses a
 * race is dropped. Key: the leaf's full SHA-256 and the engine's
 * generation, so a cache may be shared by successive engines (one table
 * for the process; a new generation misses and overwrites the old one's
 * slots). Stored: class and name (names longer than CLAM_CACHE_NAME_MAX
 * are not cached). Cached: clean, virus, encrypted, macro, malformed
 * (functions of the bytes and the rules); not cached: limits and errors
 * (time and load dependent). Memory: 128 bytes x slots (default 65,536
 * slots = 8 MiB), allocated at creation, never grown.
 */
#ifndef SLUICE_SCAN_CLAM_H
#define SLUICE_SCAN_CLAM_H

#include <stddef.h>
#include <stdint.h>

#include "scan/filetype.h"
#include "scan/rules.h"

struct scan_limits;
struct clam_engine;
struct clam_ctx;
struct clam_cache;

/* Longest name a cache slot keeps (bytes, without the NUL). */
#define CLAM_CACHE_NAME_MAX 72
#define CLAM_NAME_MAX 128   /* result names are cut to this, with NUL */
#define CLAM_DETAIL_MAX 160

enum clam_class {
	CLAM_CLEAN,
	CLAM_VIRUS,     /* finding kind "virus" */
	CLAM_ENCRYPTED, /* "encrypted" */
	CLAM_MACRO,     /* "macro" */
	CLAM_MALFORMED, /* "malformed" */
	CLAM_LIMIT,     /* "limit" */
	CLAM_CLASS_COUNT
};

/* The finding kind name of c ("virus", "encrypted", ...), NULL for clean
 * and out-of-range values. Static storage. */
const char *clam_class_finding(enum clam_class c);

/* The class of a name libclamav reported with CL_VIRUS (the table
 * above). Pure; NULL is CLAM_VIRUS. */
enum clam_class clam_classify(const char *virname);

/* Heuristics (clam_options.heuristics). */
#define CLAM_H_ENCRYPTED 0x1u /* encrypted archives and documents */
#define CLAM_H_MACROS    0x2u /* OLE2 VBA/XLM macros */
#define CLAM_H_BROKEN    0x4u /* broken PE/ELF executables */
#define CLAM_H_PHISHING  0x8u /* phishing URL heuristics (+ .pdb/.wdb) */
#define CLAM_H_DEFAULT (CLAM_H_ENCRYPTED | CLAM_H_MACROS | CLAM_H_BROKEN)

struct clam_options {
	/* libclamav limits (CL_ENGINE_*), per leaf. */
	uint64_t max_scansize;     /* MAX_SCANSIZE: bytes scanned, all layers */
	uint64_t max_filesize;     /* MAX_FILESIZE: largest file or member */
	uint32_t max_recursion;    /* MAX_RECURSION: container nesting */
	uint32_t max_files;        /* MAX_FILES: members per leaf */
	uint32_t max_scantime_ms;  /* MAX_SCANTIME */
	uint64_t pcre_match_limit;    /* PCRE_MATCH_LIMIT */
	uint64_t pcre_recmatch_limit; /* PCRE_RECMATCH_LIMIT */
	uint64_t pcre_max_filesize;   /* PCRE_MAX_FILESIZE */
	unsigned heuristics;       /* CLAM_H_* */
	const char *tmpdir;        /* libclamav's temporary files; NULL: its
				      default ($TMPDIR or /tmp). Borrowed
				      during create only. */
	uint64_t generation;       /* rule generation: part of the cache key;
				      distinct per engine sharing a cache */
	struct clam_cache *cache;  /* borrowed, may be NULL (no cache); must
				      outlive the engine */
};

/* Defaults: scansize 128 MiB, filesize 64 MiB, recursion 20, files 10000,
 * scantime 20000 ms, PCRE 100000 / 2000 / 64 MiB, CLAM_H_DEFAULT, no
 * tmpdir, generation 0, no cache. */
void clam_options_init(struct clam_options *o);

/* Limits from the scan configuration's (l borrowed): scansize =
 * decompressed_bytes, filesize = decoded_bytes (no leaf is larger),
 * recursion = archive_depth; a zero limit leaves its field as it was.
 * Other fields untouched. */
void clam_options_from_limits(struct clam_options *o,
			      const struct scan_limits *l);

/* Load the databases at paths (NULL-terminated list of files or
 * directories, borrowed; none at all is an error: libclamav with no
 * signature is pointless) into a new compiled engine (*out, free with
 * clam_engine_free). diag (may be NULL) receives per-path counts and
 * libclamav's load warnings. Returns 0, -EINVAL (a database refused:
 * err = "file[:line]: libclamav: reason: detail"), -ENOENT (a path that
 * does not exist, or an empty list), -ENOMEM, -EIO (cl_init or compile
 * failed; err says which). err is always NUL-terminated when errsz > 0. */
int clam_engine_create(const char *const *paths, const struct clam_options *o,
		       scan_diag_fn diag, void *diag_ctx,
		       struct clam_engine **out, char *err, size_t errsz);

/* Free an engine. No clam_ctx of it may be in use. NULL ok. */
void clam_engine_free(struct clam_engine *e);

/* Signatures loaded (cl_load's count over all paths). */
unsigned clam_engine_signatures(const struct clam_engine *e);
uint64_t clam_engine_generation(const struct clam_engine *e);

/* ---- leaf selection -------------------------------------------------- */

/* Which leaves go to libclamav (policy's choice). */
enum clam_select {
	CLAM_SEL_NONE,    /* libclamav off */
	CLAM_SEL_DEFAULT, /* see clam_wants() */
	CLAM_SEL_ALL,     /* every leaf */
};

/* "none" | "default" | "all" -> *out. 0 or -EINVAL. */
int clam_select_parse(const char *name, enum clam_select *out);
const char *clam_select_name(enum clam_select s);

/* Does selection sel send a leaf of true type t to libclamav? DEFAULT:
 * executables and packed executables (pe, msdos, elf, macho), ole2, pdf,
 * rtf, html, unknown binary, and the containers only libclamav opens
 * (chm, arj, ace: our archive walker cannot). Pure, O(1). */
int clam_wants(enum scan_ftype t, enum clam_select sel);

/* ---- per-thread scanning --------------------------------------------- */

struct clam_result {
	enum clam_class cls;
	char name[CLAM_NAME_MAX];     /* signature / heuristic / limit name;
					 "" when clean */
	char detail[CLAM_DETAIL_MAX]; /* one line for the finding */
	int cached;                   /* 1: answered by the verdict cache */
	uint64_t scan_ns;             /* time in libclamav (0 when cached) */
};

/* Counters of one context (summed by the caller across threads). */
struct clam_stats {
	uint64_t scans;          /* clam_scan calls */
	uint64_t cache_hits, cache_misses;
	uint64_t cache_stores, cache_store_skipped; /* race lost / long name */
	uint64_t lib_scans;      /* calls into libclamav */
	uint64_t lib_ns;         /* time spent there */
	uint64_t lib_bytes;      /* bytes handed to it */
	uint64_t detections;     /* non-clean results, cached or not */
	uint64_t errors;         /* -errno returns */
	uint64_t lib_messages;   /* libclamav warnings/errors during scans */
};

/* Context for one scan thread on e (borrowed: must outlive the context).
 * NULL on allocation failure. */
struct clam_ctx *clam_ctx_create(const struct clam_engine *e);
void clam_ctx_free(struct clam_ctx *c);

/* Scan leaf data[0..len) (borrowed) whose SHA-256 is sha256 (borrowed, 32
 * bytes, NULL: no cache lookup/store), name (borrowed, may be NULL: only
 * libclamav's own messages use it) and fill *r. Returns 0 with r->cls
 * set (CLAM_LIMIT included), or -errno when libclamav could not scan at
 * all (-ENOMEM, -EIO; r is then CLAM_LIMIT "clam-error" with
 * cl_strerror() in the detail: do not deliver the leaf as scanned). */
int clam_scan(struct clam_ctx *c, const uint8_t *data, size_t len,
	      const uint8_t *sha256, const char *name, struct clam_result *r);

void clam_ctx_stats(const struct clam_ctx *c, struct clam_stats *out);

/* ---- verdict cache ---------------------------------------------------- */

/* A cache of at least `slots` slots (rounded up to a power of two, at
 * least 4; 0: 65536). NULL on allocation failure or slots > 2^26.
 * Thread-safe: any number of threads may look up and store at once. */
struct clam_cache *clam_cache_create(size_t slots);
void clam_cache_free(struct clam_cache *k);   /* NULL ok; no user left */
size_t clam_cache_slots(const struct clam_cache *k);
size_t clam_cache_memory(const struct clam_cache *k);

/* Lower level, for tests and callers with their own scanning: look up
 * (sha256, gen); 1 and *cls/name filled on a hit, 0 on a miss. Store
 * returns 1 when stored, 0 when skipped (race, name too long). */
int clam_cache_lookup(struct clam_cache *k, const uint8_t sha256[32],
		      uint64_t gen, enum clam_class *cls, char *name,
		      size_t namesz);
int clam_cache_store(struct clam_cache *k, const uint8_t sha256[32],
		     uint64_t gen, enum clam_class cls, const char *name);

#endif
