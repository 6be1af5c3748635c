/*
 * scan/clam.c - libclamav engine per rule generation, per-thread scans
 * from memory, the lock-free verdict cache, leaf selection. Contract:
 * scan/clam.h.
 */
#include "scan/clam.h"

#include <clamav.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "scan/policy.h"

/* ---- names and selection ---------------------------------------------- */

const char *clam_class_finding(enum clam_class c)
{
	static const char *const names[CLAM_CLASS_COUNT] = {
		[CLAM_CLEAN] = NULL,
		[CLAM_VIRUS] = "virus",
		[CLAM_ENCRYPTED] = "encrypted",
		[CLAM_MACRO] = "macro",
		[CLAM_MALFORMED] = "malformed",
		[CLAM_LIMIT] = "limit",
	};
	if ((unsigned)c >= CLAM_CLASS_COUNT)
		return NULL;
	return names[c];
}

static const char *const select_names[] = {
	[CLAM_SEL_NONE] = "none",
	[CLAM_SEL_DEFAULT] = "default",
	[CLAM_SEL_ALL] = "all",
};

int clam_select_parse(const char *name, enum clam_select *out)
{
	if (name == NULL)
		return -EINVAL;
	for (unsigned i = 0; i < sizeof(select_names) / sizeof(*select_names);
	     i++) {
		if (strcmp(name, select_names[i]) == 0) {
			*out = (enum clam_select)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *clam_select_name(enum clam_select s)
{
	if ((unsigned)s >= sizeof(select_names) / sizeof(*select_names))
		return "none";
	return select_names[s];
}

int clam_wants(enum scan_ftype t, enum clam_select sel)
{
	if (sel == CLAM_SEL_ALL)
		return 1;
	if (sel != CLAM_SEL_DEFAULT)
		return 0;
	switch (t) {
	case SCAN_FT_PE:
	case SCAN_FT_MSDOS:
	case SCAN_FT_ELF:
	case SCAN_FT_MACHO:
	case SCAN_FT_OLE2:
	case SCAN_FT_PDF:
	case SCAN_FT_RTF:
	case SCAN_FT_HTML:
	case SCAN_FT_BINARY:
	case SCAN_FT_CHM:
	case SCAN_FT_ARJ:
	case SCAN_FT_ACE:
		return 1;
	default:
		return 0;
	}
}

/* ---- options ---------------------------------------------------------- */

void clam_options_init(struct clam_options *o)
{
	memset(o, 0, sizeof(*o));
	o->max_scansize = 128ull << 20;
	o->max_filesize = 64ull << 20;
	o->max_recursion = 20;
	o->max_files = 10000;
	o->max_scantime_ms = 20000;
	o->pcre_match_limit = 100000;
	o->pcre_recmatch_limit = 2000;
	o->pcre_max_filesize = 64ull << 20;
	o->heuristics = CLAM_H_DEFAULT;
}

void clam_options_from_limits(struct clam_options *o,
			      const struct scan_limits *l)
{
	if (l->decompressed_bytes)
		o->max_scansize = l->decompressed_bytes;
	if (l->decoded_bytes)
		o->max_filesize = l->decoded_bytes;
	if (l->archive_depth)
		o->max_recursion = l->archive_depth;
}

/* ---- libclamav's messages --------------------------------------------- */

/* What cl_load / cl_engine_compile said on this thread (set around those
 * calls only; scans report through their clam_ctx). */
struct load_capture {
	const char *path;      /* path being loaded */
	scan_diag_fn diag;
	void *diag_ctx;
	char file[512];        /* from "Can't load FILE: REASON" */
	char reason[96];
	char detail[256];      /* first specific error message */
	unsigned line;         /* from "... at line N" */
	unsigned errors;
};

static _Thread_local struct load_capture *tl_load;

struct clam_ctx;
/* The context scanning on this thread (set around cl_scanmap_callback). */
static _Thread_local struct clam_ctx *tl_scan;
static void ctx_count_message(struct clam_ctx *c);
static void clam_found_cb(int fd, const char *virname, void *context);

static void copy_trim(char *dst, size_t dstsz, const char *src, size_t n)
{
	while (n > 0 && (src[n - 1] == '\n' || src[n - 1] == '\r' ||
			 src[n - 1] == ' '))
		n--;
	if (n >= dstsz)
		n = dstsz - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static void capture_error(struct load_capture *lc, const char *m)
{
	char buf[768];
	copy_trim(buf, sizeof(buf), m, strlen(m));
	lc->errors++;
	const char *at = strstr(buf, "at line ");
	if (at != NULL && lc->line == 0)
		lc->line = (unsigned)strtoul(at + 8, NULL, 10);
	if (strncmp(buf, "Can't load ", 11) == 0) {
		/* "Can't load FILE: REASON"; FILE may hold ": " itself. */
		char *sep = NULL;
		for (char *p = strstr(buf + 11, ": "); p != NULL;
		     p = strstr(p + 2, ": "))
			sep = p;
		if (sep != NULL && lc->file[0] == '\0') {
			copy_trim(lc->file, sizeof(lc->file), buf + 11,
				  (size_t)(sep - (buf + 11)));
			copy_trim(lc->reason, sizeof(lc->reason), sep + 2,
				  strlen(sep + 2));
		}
		return;
	}
	if (strncmp(buf, "cli_loaddbdir: error loading database", 37) == 0)
		return;
	if (lc->detail[0] == '\0')
		copy_trim(lc->detail, sizeof(lc->detail), buf, strlen(buf));
}

static void clam_msg_cb(enum cl_msg sev, const char *full, const char *msg,
			void *context)
{
	(void)full;
	struct load_capture *lc = tl_load;
	if (lc != NULL) {
		if (sev == CL_MSG_ERROR) {
			capture_error(lc, msg);
		} else if (sev == CL_MSG_WARN && lc->diag != NULL) {
			char buf[600];
			char m[512];
			copy_trim(m, sizeof(m), msg, strlen(msg));
			snprintf(buf, sizeof(buf), "libclamav warning: %s", m);
			lc->diag(lc->diag_ctx, lc->path, 0, buf);
		}
		return;
	}
	/* During one of our scans: count, do not print (hostile input would
	 * flood the log). The thread-local, not `context`: other code in the
	 * process may scan with contexts of its own type. */
	(void)context;
	if (tl_scan != NULL && sev >= CL_MSG_WARN)
		ctx_count_message(tl_scan);
}

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static cl_error_t init_rc;

static void clam_init_once(void)
{
	cl_set_clcb_msg(clam_msg_cb);
	init_rc = cl_init(CL_INIT_DEFAULT);
}

/* ---- engine ------------------------------------------------------------ */

struct clam_engine {
	struct cl_engine *cl;
	struct cl_scan_options opts;
	unsigned sigs;
	uint64_t gen;
	uint32_t max_scantime_ms;
	struct clam_cache *cache;
};

static void errf(char *err, size_t errsz, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void errf(char *err, size_t errsz, const char *fmt, ...)
{
	if (errsz == 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errsz, fmt, ap);
	va_end(ap);
}

/* err for a database libclamav refused while loading `path`. */
static void load_error(const struct load_capture *lc, const char *path,
		       cl_error_t rc, char *err, size_t errsz)
{
	const char *file = lc->file[0] ? lc->file : path;
	const char *reason = lc->reason[0] ? lc->reason : cl_strerror(rc);
	char where[560];
	if (lc->line > 0)
		snprintf(where, sizeof(where), "%s:%u", file, lc->line);
	else
		snprintf(where, sizeof(where), "%s", file);
	errf(err, errsz,
	     "%s: libclamav: %s%s%s; fix or remove %s (libclamav refuses the "
	     "whole database)",
	     where, reason, lc->detail[0] ? ": " : "", lc->detail,
	     lc->line > 0 ? "that line" : "that file");
}

static int set_num(struct cl_engine *cl, enum cl_engine_field f, long long v,
		   const char *what, char *err, size_t errsz)
{
	cl_error_t rc = cl_engine_set_num(cl, f, v);
	if (rc != CL_SUCCESS) {
		errf(err, errsz, "libclamav: cannot set %s to %lld: %s", what, v,
		     cl_strerror(rc));
		return -EIO;
	}
	return 0;
}

static long long clamp_ll(uint64_t v)
{
	return v > (uint64_t)INT64_MAX ? INT64_MAX : (long long)v;
}

int clam_engine_create(const char *const *paths, const struct clam_options *o,
		       scan_diag_fn diag, void *diag_ctx,
		       struct clam_engine **out, char *err, size_t errsz)
{
	*out = NULL;
	if (errsz > 0)
		err[0] = '\0';
	if (paths == NULL || paths[0] == NULL) {
		errf(err, errsz,
		     "libclamav: no signature path given; name at least one "
		     "ClamAV database file or directory under signatures:");
		return -ENOENT;
	}
	pthread_once(&init_once, clam_init_once);
	if (init_rc != CL_SUCCESS) {
		errf(err, errsz, "libclamav: cl_init failed: %s",
		     cl_strerror(init_rc));
		return -EIO;
	}

	struct clam_engine *e = calloc(1, sizeof(*e));
	if (e == NULL)
		return -ENOMEM;
	int rc = -ENOMEM;
	e->cl = cl_engine_new();
	if (e->cl == NULL) {
		errf(err, errsz, "libclamav: cl_engine_new failed");
		goto fail;
	}
	e->gen = o->generation;
	e->cache = o->cache;
	e->max_scantime_ms = o->max_scantime_ms;

	struct {
		enum cl_engine_field f;
		long long v;
		const char *what;
	} nums[] = {
		{CL_ENGINE_MAX_SCANSIZE, clamp_ll(o->max_scansize),
		 "MAX_SCANSIZE"},
		{CL_ENGINE_MAX_FILESIZE, clamp_ll(o->max_filesize),
		 "MAX_FILESIZE"},
		{CL_ENGINE_MAX_RECURSION, o->max_recursion, "MAX_RECURSION"},
		{CL_ENGINE_MAX_FILES, o->max_files, "MAX_FILES"},
		{CL_ENGINE_MAX_SCANTIME, o->max_scantime_ms, "MAX_SCANTIME"},
		{CL_ENGINE_PCRE_MATCH_LIMIT, clamp_ll(o->pcre_match_limit),
		 "PCRE_MATCH_LIMIT"},
		{CL_ENGINE_PCRE_RECMATCH_LIMIT,
		 clamp_ll(o->pcre_recmatch_limit), "PCRE_RECMATCH_LIMIT"},
		{CL_ENGINE_PCRE_MAX_FILESIZE, clamp_ll(o->pcre_max_filesize),
		 "PCRE_MAX_FILESIZE"},
		{CL_ENGINE_DISABLE_CACHE, 1, "DISABLE_CACHE"},
	};
	for (size_t i = 0; i < sizeof(nums) / sizeof(*nums); i++) {
		rc = set_num(e->cl, nums[i].f, nums[i].v, nums[i].what, err,
			     errsz);
		if (rc < 0)
			goto fail;
	}
	if (o->tmpdir != NULL &&
	    cl_engine_set_str(e->cl, CL_ENGINE_TMPDIR, o->tmpdir) !=
		    CL_SUCCESS) {
		errf(err, errsz, "libclamav: cannot set the temporary "
				 "directory %s", o->tmpdir);
		rc = -EIO;
		goto fail;
	}

	cl_engine_set_clcb_virus_found(e->cl, clam_found_cb);

	unsigned dbopt = CL_DB_BYTECODE;
	if (o->heuristics & CLAM_H_PHISHING)
		dbopt |= CL_DB_PHISHING | CL_DB_PHISHING_URLS;
	for (size_t i = 0; paths[i] != NULL; i++) {
		struct stat st;
		if (stat(paths[i], &st) != 0) {
			rc = -errno;
			errf(err, errsz,
			     "%s: %s; fix the signatures: path or create it",
			     paths[i], strerror(errno));
			goto fail;
		}
		struct load_capture lc = {
			.path = paths[i], .diag = diag, .diag_ctx = diag_ctx,
		};
		unsigned before = e->sigs;
		tl_load = &lc;
		cl_error_t ce = cl_load(paths[i], e->cl, &e->sigs, dbopt);
		tl_load = NULL;
		if (ce != CL_SUCCESS) {
			load_error(&lc, paths[i], ce, err, errsz);
			rc = ce == CL_EMEM ? -ENOMEM : -EINVAL;
			goto fail;
		}
		if (diag != NULL) {
			char m[128];
			snprintf(m, sizeof(m), "%u signatures (libclamav %s)",
				 e->sigs - before, cl_retver());
			diag(diag_ctx, paths[i], 0, m);
		}
	}
	struct load_capture lc = {.path = "libclamav", .diag = diag,
				  .diag_ctx = diag_ctx};
	tl_load = &lc;
	cl_error_t ce = cl_engine_compile(e->cl);
	tl_load = NULL;
	if (ce != CL_SUCCESS) {
		errf(err, errsz, "libclamav: cl_engine_compile: %s%s%s",
		     cl_strerror(ce), lc.detail[0] ? ": " : "", lc.detail);
		rc = ce == CL_EMEM ? -ENOMEM : -EIO;
		goto fail;
	}

	e->opts.general = CL_SCAN_GENERAL_HEURISTICS;
	e->opts.parse = ~0u;
	e->opts.heuristic = CL_SCAN_HEURISTIC_EXCEEDS_MAX;
	if (o->heuristics & CLAM_H_ENCRYPTED)
		e->opts.heuristic |= CL_SCAN_HEURISTIC_ENCRYPTED_ARCHIVE |
				     CL_SCAN_HEURISTIC_ENCRYPTED_DOC;
	if (o->heuristics & CLAM_H_MACROS)
		e->opts.heuristic |= CL_SCAN_HEURISTIC_MACROS;
	if (o->heuristics & CLAM_H_BROKEN)
		e->opts.heuristic |= CL_SCAN_HEURISTIC_BROKEN;
	if (o->heuristics & CLAM_H_PHISHING)
		e->opts.heuristic |= CL_SCAN_HEURISTIC_PHISHING_SSL_MISMATCH |
				     CL_SCAN_HEURISTIC_PHISHING_CLOAK;
	*out = e;
	return 0;
fail:
	clam_engine_free(e);
	return rc;
}

void clam_engine_free(struct clam_engine *e)
{
	if (e == NULL)
		return;
	if (e->cl != NULL)
		cl_engine_free(e->cl);
	free(e);
}

unsigned clam_engine_signatures(const struct clam_engine *e)
{
	return e->sigs;
}

uint64_t clam_engine_generation(const struct clam_engine *e)
{
	return e->gen;
}

/* ---- verdict cache ------------------------------------------------------ */

#define WAYS 4
#define NAME_WORDS 9 /* CLAM_CACHE_NAME_MAX bytes */

_Static_assert(NAME_WORDS * 8 == CLAM_CACHE_NAME_MAX, "name words");

/* One slot: a seqlock. seq 0: never written; odd: being written. Every
 * field is an atomic word so readers racing a writer are well defined
 * (they see a changed seq and discard what they read). */
struct slot {
	_Atomic uint64_t seq;
	_Atomic uint64_t gen;
	_Atomic uint64_t key[4];
	_Atomic uint64_t meta; /* class | name length << 8 */
	_Atomic uint64_t name[NAME_WORDS];
};

_Static_assert(sizeof(struct slot) == 128, "slot is two cache lines");

struct clam_cache {
	struct slot *slots;
	size_t nslots;
	size_t set_mask; /* sets - 1 */
};

struct clam_cache *clam_cache_create(size_t slots)
{
	if (slots == 0)
		slots = 65536;
	if (slots > ((size_t)1 << 26))
		return NULL;
	size_t n = WAYS;
	while (n < slots)
		n <<= 1;
	struct clam_cache *k = calloc(1, sizeof(*k));
	if (k == NULL)
		return NULL;
	k->slots = aligned_alloc(64, n * sizeof(struct slot));
	if (k->slots == NULL) {
		free(k);
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		struct slot *s = &k->slots[i];
		atomic_init(&s->seq, 0);
		atomic_init(&s->gen, 0);
		for (int j = 0; j < 4; j++)
			atomic_init(&s->key[j], 0);
		atomic_init(&s->meta, 0);
		for (int j = 0; j < NAME_WORDS; j++)
			atomic_init(&s->name[j], 0);
	}
	k->nslots = n;
	k->set_mask = n / WAYS - 1;
	return k;
}

void clam_cache_free(struct clam_cache *k)
{
	if (k == NULL)
		return;
	free(k->slots);
	free(k);
}

size_t clam_cache_slots(const struct clam_cache *k)
{
	return k->nslots;
}

size_t clam_cache_memory(const struct clam_cache *k)
{
	return k->nslots * sizeof(struct slot) + sizeof(*k);
}

static void key_words(const uint8_t sha256[32], uint64_t w[4])
{
	memcpy(w, sha256, 32);
}

static uint64_t set_hash(const uint64_t w[4], uint64_t gen)
{
	uint64_t h = w[0] ^ (gen * 0x9e3779b97f4a7c15ull);
	h ^= h >> 31;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 29;
	return h;
}

/* Read slot s; 1 when it held (w, gen) consistently, with class and name
 * copied out. */
static int slot_read(struct slot *s, const uint64_t w[4], uint64_t gen,
		     enum clam_class *cls, char *name, size_t namesz)
{
	uint64_t q1 = atomic_load_explicit(&s->seq, memory_order_acquire);
	if (q1 == 0 || (q1 & 1))
		return 0;
	uint64_t g = atomic_load_explicit(&s->gen, memory_order_relaxed);
	uint64_t kw[4];
	for (int j = 0; j < 4; j++)
		kw[j] = atomic_load_explicit(&s->key[j], memory_order_relaxed);
	uint64_t meta = atomic_load_explicit(&s->meta, memory_order_relaxed);
	uint64_t nw[NAME_WORDS];
	for (int j = 0; j < NAME_WORDS; j++)
		nw[j] = atomic_load_explicit(&s->name[j],
					     memory_order_relaxed);
	atomic_thread_fence(memory_order_acquire);
	if (atomic_load_explicit(&s->seq, memory_order_relaxed) != q1)
		return 0;
	if (g != gen || memcmp(kw, w, sizeof(kw)) != 0)
		return 0;
	unsigned c = (unsigned)(meta & 0xff);
	size_t nl = (size_t)(meta >> 8);
	if (c >= CLAM_CLASS_COUNT || nl > CLAM_CACHE_NAME_MAX)
		return 0; /* cannot happen: only clam_cache_store writes */
	*cls = (enum clam_class)c;
	if (name != NULL && namesz > 0) {
		if (nl >= namesz)
			nl = namesz - 1;
		memcpy(name, nw, nl);
		name[nl] = '\0';
	}
	return 1;
}

int clam_cache_lookup(struct clam_cache *k, const uint8_t sha256[32],
		      uint64_t gen, enum clam_class *cls, char *name,
		      size_t namesz)
{
	uint64_t w[4];
	key_words(sha256, w);
	struct slot *set = &k->slots[(set_hash(w, gen) & k->set_mask) * WAYS];
	for (int i = 0; i < WAYS; i++)
		if (slot_read(&set[i], w, gen, cls, name, namesz))
			return 1;
	return 0;
}

int clam_cache_store(struct clam_cache *k, const uint8_t sha256[32],
		     uint64_t gen, enum clam_class cls, const char *name)
{
	size_t nl = name != NULL ? strlen(name) : 0;
	if (nl > CLAM_CACHE_NAME_MAX || (unsigned)cls >= CLAM_CLASS_COUNT)
		return 0;
	uint64_t w[4];
	key_words(sha256, w);
	uint64_t h = set_hash(w, gen);
	struct slot *set = &k->slots[(h & k->set_mask) * WAYS];
	enum clam_class oc;
	struct slot *victim = NULL;
	for (int i = 0; i < WAYS; i++) {
		if (slot_read(&set[i], w, gen, &oc, NULL, 0))
			return 1; /* already there */
	}
	/* Empty slot first, then one of another generation, else one
	 * chosen by the key (no shared replacement state to update). */
	for (int i = 0; i < WAYS && victim == NULL; i++)
		if (atomic_load_explicit(&set[i].seq, memory_order_relaxed) ==
		    0)
			victim = &set[i];
	for (int i = 0; i < WAYS && victim == NULL; i++)
		if (atomic_load_explicit(&set[i].gen, memory_order_relaxed) !=
		    gen)
			victim = &set[i];
	if (victim == NULL)
		victim = &set[(h >> 40) & (WAYS - 1)];

	uint64_t q = atomic_load_explicit(&victim->seq, memory_order_relaxed);
	if ((q & 1) ||
	    !atomic_compare_exchange_strong_explicit(
		    &victim->seq, &q, q + 1, memory_order_acquire,
		    memory_order_relaxed))
		return 0; /* another writer is on it: drop ours */
	atomic_thread_fence(memory_order_release);
	uint64_t nw[NAME_WORDS] = {0};
	if (nl > 0)
		memcpy(nw, name, nl);
	atomic_store_explicit(&victim->gen, gen, memory_order_relaxed);
	for (int j = 0; j < 4; j++)
		atomic_store_explicit(&victim->key[j], w[j],
				      memory_order_relaxed);
	atomic_store_explicit(&victim->meta, (uint64_t)cls | (uint64_t)nl << 8,
			      memory_order_relaxed);
	for (int j = 0; j < NAME_WORDS; j++)
		atomic_store_explicit(&victim->name[j], nw[j],
				      memory_order_relaxed);
	atomic_store_explicit(&victim->seq, q + 2, memory_order_release);
	return 1;
}

/* ---- per-thread scanning ---------------------------------------------- */

struct clam_ctx {
	const struct clam_engine *e;
	struct cl_scan_options opts; /* libclamav takes it non-const */
	struct clam_stats st;
	char found[CLAM_NAME_MAX];   /* first name the callback reported */
};

static void ctx_count_message(struct clam_ctx *c)
{
	c->st.lib_messages++;
}

/* Some alerts (a top-level leaf over MAX_FILESIZE) reach the caller only
 * through this callback, with *virname left NULL. */
static void clam_found_cb(int fd, const char *virname, void *context)
{
	(void)fd;
	struct clam_ctx *c = context;
	if (c != NULL && c->found[0] == '\0' && virname != NULL)
		snprintf(c->found, sizeof(c->found), "%s", virname);
}

struct clam_ctx *clam_ctx_create(const struct clam_engine *e)
{
	struct clam_ctx *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	c->e = e;
	c->opts = e->opts;
	return c;
}

void clam_ctx_free(struct clam_ctx *c)
{
	free(c);
}

void clam_ctx_stats(const struct clam_ctx *c, struct clam_stats *out)
{
	*out = c->st;
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int has_prefix(const char *s, const char *p)
{
	return strncmp(s, p, strlen(p)) == 0;
}

enum clam_class clam_classify(const char *virname)
{
	if (virname == NULL)
		return CLAM_VIRUS;
	if (has_prefix(virname, "Heuristics.Encrypted."))
		return CLAM_ENCRYPTED;
	if (has_prefix(virname, "Heuristics.OLE2.ContainsMacros"))
		return CLAM_MACRO;
	if (has_prefix(virname, "Heuristics.Limits.Exceeded."))
		return CLAM_LIMIT;
	if (has_prefix(virname, "Heuristics.Broken."))
		return CLAM_MALFORMED;
	return CLAM_VIRUS;
}

static void set_result(struct clam_result *r, enum clam_class cls,
		       const char *name)
{
	r->cls = cls;
	snprintf(r->name, sizeof(r->name), "%s", name);
}

int clam_scan(struct clam_ctx *c, const uint8_t *data, size_t len,
	      const uint8_t *sha256, const char *name, struct clam_result *r)
{
	const struct clam_engine *e = c->e;
	r->cls = CLAM_CLEAN;
	r->name[0] = '\0';
	r->detail[0] = '\0';
	r->cached = 0;
	r->scan_ns = 0;
	c->st.scans++;

	if (sha256 != NULL && e->cache != NULL) {
		enum clam_class cls;
		if (clam_cache_lookup(e->cache, sha256, e->gen, &cls, r->name,
				      sizeof(r->name))) {
			c->st.cache_hits++;
			r->cls = cls;
			r->cached = 1;
			if (cls != CLAM_CLEAN) {
				c->st.detections++;
				snprintf(r->detail, sizeof(r->detail),
					 "libclamav: %s (verdict cache)",
					 r->name);
			}
			return 0;
		}
		c->st.cache_misses++;
	}

	static const uint8_t empty;
	cl_fmap_t *map = cl_fmap_open_memory(len ? (const void *)data
						 : (const void *)&empty,
					     len);
	if (map == NULL) {
		c->st.errors++;
		set_result(r, CLAM_LIMIT, "clam-error");
		snprintf(r->detail, sizeof(r->detail),
			 "libclamav: cannot map %zu bytes", len);
		return -ENOMEM;
	}
	const char *virname = NULL;
	unsigned long scanned = 0;
	c->found[0] = '\0';
	uint64_t t0 = now_ns();
	tl_scan = c;
	cl_error_t ce = cl_scanmap_callback(map, name, &virname, &scanned,
					    e->cl, &c->opts, c);
	tl_scan = NULL;
	uint64_t dt = now_ns() - t0;
	cl_fmap_close(map);
	c->st.lib_scans++;
	c->st.lib_ns += dt;
	c->st.lib_bytes += len;
	r->scan_ns = dt;

	int rc = 0;
	switch (ce) {
	case CL_CLEAN:
		break;
	case CL_VIRUS: {
		const char *vn = virname != NULL ? virname
				 : c->found[0]    ? c->found
						  : "unnamed";
		set_result(r, clam_classify(vn), vn);
		snprintf(r->detail, sizeof(r->detail), "libclamav: %s", vn);
		break;
	}
	case CL_ETIMEOUT:
		set_result(r, CLAM_LIMIT, "clam-time");
		snprintf(r->detail, sizeof(r->detail),
			 "libclamav scan time limit (%u ms) exceeded",
			 (unsigned)e->max_scantime_ms);
		break;
	case CL_EMAXREC:
	case CL_EMAXSIZE:
	case CL_EMAXFILES:
		set_result(r, CLAM_LIMIT, "clam-limit");
		snprintf(r->detail, sizeof(r->detail), "libclamav: %s",
			 cl_strerror(ce));
		break;
	case CL_EFORMAT:
	case CL_EPARSE:
	case CL_EUNPACK:
		set_result(r, CLAM_MALFORMED, "clam-malformed");
		snprintf(r->detail, sizeof(r->detail), "libclamav: %s",
			 cl_strerror(ce));
		break;
	default:
		set_result(r, CLAM_LIMIT, "clam-error");
		snprintf(r->detail, sizeof(r->detail),
			 "libclamav could not scan: %s", cl_strerror(ce));
		rc = ce == CL_EMEM ? -ENOMEM : -EIO;
		c->st.errors++;
		break;
	}
	if (r->cls != CLAM_CLEAN)
		c->st.detections++;
	if (rc == 0 && sha256 != NULL && e->cache != NULL &&
	    r->cls != CLAM_LIMIT) {
		if (clam_cache_store(e->cache, sha256, e->gen, r->cls, r->name))
			c->st.cache_stores++;
		else
			c->st.cache_store_skipped++;
	}
	return rc;
}
