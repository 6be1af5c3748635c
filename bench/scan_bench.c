/* bench/scan_bench.c - scan throughput per core, against libclamav.
 *
 * One process, one thread (so every figure is per core), one fixed seed:
 *
 *   1. generates a rule set in a temporary directory: ClamAV .ndb body
 *      signatures (plain hex, ??, *, {n-m}, alternations, some with
 *      offsets), a .hsb file of SHA-256/SHA-1 hashes, and a few hundred
 *      content rules and spam keywords injected into a copy of the
 *      configuration (config/sluice.conf by default); with Debian's
 *      clamav-testfiles installed, also an .hdb with clam.exe's MD5 (as
 *      tests/unit/test_scan_clam.c);
 *   2. generates a mixed corpus of messages in memory: plain text, HTML
 *      newsletters, messages with base64 attachments (PDF-like, zip-like,
 *      random binary); a few carry a signature or a listed hash;
 *   3. measures on the same bytes (median of the runs):
 *      a. scan_message() on every message (the whole pipeline), libclamav
 *         off; a2. the same with libclamav on the default leaves (first
 *         A2_MAX messages, a new engine per run: verdict cache cold);
 *      b. scan_db_scan() alone on every decoded leaf, and b2 the same plus
 *         the digests and hash look-ups the pipeline does per leaf
 *         (SHA-256 always, since it is reported; MD5/SHA-1 only when a
 *         hash signature of the leaf's size exists, as libclamav does);
 *      c. libclamav (cl_scanmap_callback) on every decoded leaf with the
 *         same .ndb/.hsb files, as a raw scan (no parsers, no cache);
 *      d. memory per rule (scan_db_memory, RSS deltas, and libclamav's);
 *      e. engine build time, cold (empty rule cache) and warm (cached);
 *         e2. an engine with libclamav, warm;
 *   4. generates, each from its own seed, and measures three more corpora
 *      (scan_message(), libclamav off / on the default leaves / on every
 *      leaf - the configuration's clamav section set accordingly - with a
 *      new engine per run so that the verdict cache starts cold):
 *      - attachment-heavy: 2-6 attachments per message of real formats
 *        (PDF with FlateDecode streams, OLE2 Word documents, docx/xlsx,
 *        PE32 executables, JPEG, PNG); some carry a signature instance,
 *        EICAR, a clamav-testfiles sample or an Excel 4.0 macro workbook;
 *      - archive-heavy: zip, zip in zip (2-3 layers), 7z and tar.gz
 *        written by libarchive, holding executables, documents, images
 *        and text; some with EICAR, a signature instance or a testfile
 *        inside, a few with the package's own containers;
 *      - campaign: one attachment (a zip with a PE and a PDF) sent in N
 *        messages to different recipients: libclamav off, cache cold (a
 *        new engine's first pass), warm (its second pass), and the same
 *        with one byte changed per message (no cache hit possible), with
 *        the verdict cache's hit and miss counts (clam_stats);
 *   5. prints a table (or one JSON object with --json) with the targets
 *      marked met / NOT met. It reports; it does not judge: the exit code
 *      is 0 whether targets are met or not, 1 on errors.
 *
 * Units: 1 MB = 1e6 bytes, 1 GB = 1e9 bytes. "Decoded" bytes are the
 * leaves after transfer decoding (what the scanners look at); "scanned"
 * bytes in the corpora count every leaf including archive members.
 *
 * usage: scan-bench-bin [-n messages] [-r runs] [-R clamav-runs]
 *                       [-s signatures] [-a messages] [-A messages]
 *                       [-C messages] [-k runs] [-c sluice.conf]
 *                       [--seed N] [--json] [--keep]
 */
#include "conf/conf.h"
#include "scan/clam.h"
#include "scan/hash.h"
#include "scan/hsdb.h"
#include "scan/policy.h"
#include "scan/rules.h"
#include "scan/scan.h"
#include "tests/unit/ole_fixture.h"

#include <archive.h>
#include <archive_entry.h>
#include <clamav.h>
#include <zlib.h>

#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <malloc.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_RUNS 32
/* (a2), the mixed corpus with libclamav, scans at most its first A2_MAX
 * messages (libclamav takes ~10 ms per message there). */
#define A2_MAX 500
#define A2_MAX_S "500"

/* ---- small utilities -------------------------------------------------- */

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2),
						    noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("scan-bench: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void note(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (p == NULL)
		die("out of memory (%zu bytes)", n);
	return p;
}

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (p == NULL)
		die("out of memory (%zu bytes)", n);
	return p;
}

static uint64_t rng_state;

static uint64_t rnd(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

/* Uniform in [lo, hi]. */
static uint64_t rnd_in(uint64_t lo, uint64_t hi)
{
	return lo + rnd() % (hi - lo + 1);
}

static int chance(unsigned percent_x10) /* per mille */
{
	return rnd() % 1000 < percent_x10;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* CPU time of this thread: the per-core figure on a shared, noisy machine
 * (time the thread waits for a CPU is not counted; wall time is reported
 * alongside). */
static double cpu_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *t, int n)
{
	qsort(t, (size_t)n, sizeof(t[0]), cmp_double);
	return n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
}

/* CPU and wall seconds of each run of one measurement. */
struct runs {
	double cpu[MAX_RUNS], wall[MAX_RUNS];
	int n;
	double c0, w0;
};

static void run_start(struct runs *t)
{
	t->w0 = now();
	t->c0 = cpu_now();
}

static void run_stop(struct runs *t, const char *what)
{
	double c = cpu_now() - t->c0, w = now() - t->w0;
	t->cpu[t->n] = c;
	t->wall[t->n++] = w;
	note("  %s run %d: %.2f s cpu, %.2f s wall\n", what, t->n, c, w);
}

/* Medians: *cpu, *wall. */
static void run_medians(struct runs *t, double *cpu, double *wall)
{
	*cpu = median(t->cpu, t->n);
	*wall = median(t->wall, t->n);
}

/* Resident set size in bytes, after giving free heap pages back so that
 * the figure is what is live, not what malloc kept. */
static long long rss_bytes(void)
{
	malloc_trim(0);
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long long kb = -1;
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmRSS: %lld kB", &kb) == 1)
			break;
	fclose(f);
	return kb < 0 ? -1 : kb * 1024;
}

/* Growable byte buffer. */
struct buf {
	uint8_t *p;
	size_t len, cap;
};

static void buf_reserve(struct buf *b, size_t n)
{
	if (b->cap - b->len >= n)
		return;
	size_t cap = b->cap ? b->cap : 256;
	while (cap - b->len < n)
		cap *= 2;
	b->p = xrealloc(b->p, cap);
	b->cap = cap;
}

static void buf_add(struct buf *b, const void *d, size_t n)
{
	buf_reserve(b, n);
	memcpy(b->p + b->len, d, n);
	b->len += n;
}

static void buf_byte(struct buf *b, uint8_t c)
{
	buf_reserve(b, 1);
	b->p[b->len++] = c;
}

static void buf_str(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

static void buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		die("vsnprintf failed");
	buf_reserve(b, (size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf((char *)b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

/* Detach the contents (exactly sized) and reset b. */
static uint8_t *buf_take(struct buf *b, size_t *len)
{
	uint8_t *p = b->p ? xrealloc(b->p, b->len) : xmalloc(0);
	*len = b->len;
	memset(b, 0, sizeof(*b));
	return p;
}

static void write_file(const char *path, const struct buf *b)
{
	FILE *f = fopen(path, "w");
	if (f == NULL || fwrite(b->p, 1, b->len, f) != b->len ||
	    fclose(f) != 0)
		die("cannot write %s: %s", path, strerror(errno));
}

static int rm_entry(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

/* The temporary directory, removed at exit (also after die()) unless
 * --keep. */
static char tmp_dir[] = "/tmp/scan-bench.XXXXXX";
static int tmp_made, tmp_keep;

static void tmp_cleanup(void)
{
	if (!tmp_made)
		return;
	if (tmp_keep)
		note("kept %s\n", tmp_dir);
	else
		nftw(tmp_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- word material ---------------------------------------------------- */

static const char *const words[] = {
	"the", "of", "and", "to", "in", "a", "is", "that", "for", "it", "as",
	"was", "with", "be", "by", "on", "not", "he", "this", "are", "or",
	"his", "from", "at", "which", "but", "have", "an", "had", "they",
	"you", "were", "their", "one", "all", "we", "can", "her", "has",
	"there", "been", "if", "more", "when", "will", "would", "who", "so",
	"no", "meeting", "report", "quarter", "team", "project", "customer",
	"schedule", "budget", "review", "update", "please", "thanks",
	"attached", "document", "invoice", "delivery", "order", "account",
	"service", "network", "server", "release", "version", "support",
	"request", "contract", "proposal", "draft", "final", "agenda",
	"minutes", "office", "travel", "conference", "presentation",
	"analysis", "results", "figures", "sales", "marketing", "product",
	"launch", "feedback", "question", "answer", "issue", "ticket",
	"deadline", "tomorrow", "today", "monday", "friday", "week", "month",
	"morning", "afternoon", "call", "discuss", "confirm", "agree",
	"approve", "prepare", "send", "receive", "check", "change", "plan",
	"weather", "garden", "coffee", "lunch", "holiday", "family",
	"weekend", "football", "concert", "recipe", "book", "library",
	"café", "naïve", "déjà", "Grüße", "señor", "€25", "über", "año",
	"résumé", "smörgåsbord", "piñata", "façade",
};
#define NWORDS (sizeof(words) / sizeof(words[0]))

static const char *const codenames[] = {
	"aurora", "basilisk", "cobalt", "daybreak", "ember", "falcon",
	"glacier", "harbor", "indigo", "juniper", "kestrel", "lantern",
	"meridian", "nebula", "obsidian", "pinnacle", "quasar", "redwood",
	"sapphire", "tundra", "umbra", "vortex", "willow", "xenon", "yarrow",
	"zephyr", "atlas", "beacon", "cascade", "dynamo", "equinox",
	"fjord", "granite", "helios", "ironwood", "jasper", "keystone",
	"lodestar", "monsoon", "nimbus",
};
/* content rule phrases: prefix, code name, suffix */
static const char *const cr_templates[][2] = {
	{"project ", " financials"}, {"", " acquisition terms"},
	{"", " board minutes"}, {"", " salary review"}, {"", " source code"},
	{"", " customer database"}, {"", " merger draft"},
};
static const char *const spam_verbs[] = {
	"claim", "double", "refinance", "unlock", "boost", "reset", "verify",
	"upgrade", "protect", "consolidate", "activate", "restore", "redeem",
	"renew", "secure",
};
static const char *const spam_things[] = {
	"your reward", "your mortgage", "your savings", "your bonus",
	"your gift card", "your inheritance", "your credit score",
	"your free trial", "your winnings", "your crypto wallet",
	"your prescription", "your loan offer", "your lottery ticket",
	"your cashback", "your exclusive deal",
};
static const char *const sig_families[] = {
	"Trojan", "Downloader", "Dropper", "Exploit", "Phishing", "Worm",
	"Backdoor", "Ransom", "Macro", "JS.Obfus", "PUA", "Spyware",
};
static const char *const ascii_frags[] = {
	"eval(unescape('", "document.write(", "String.fromCharCode(",
	"powershell -enc ", "cmd.exe /c ", "WScript.Shell",
	"CreateObject(\"", "<iframe src=", "base64_decode(", "$_POST['",
	"ActiveXObject(", "Shell.Application", "AutoOpen", "window.location=",
};

/* ---- rule generation -------------------------------------------------- */

struct sig {
	uint8_t *inst; /* one byte string the body signature matches */
	size_t inst_len;
	int plantable; /* offset '*': may be planted anywhere */
};

struct ruleset {
	struct buf ndb, hsb;
	struct sig *sigs;
	unsigned nsigs, nhashes;
	/* content rules / spam keywords (phrases, caseless, word) */
	char **cr, **sk;
	unsigned ncr, nsk;
};

static const char hexd[] = "0123456789abcdef";

static void hex_byte(struct buf *b, uint8_t c)
{
	buf_byte(b, (uint8_t)hexd[c >> 4]);
	buf_byte(b, (uint8_t)hexd[c & 15]);
}

static uint8_t ascii_byte(void)
{
	static const char al[] =
		"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
		"_.=$%;/";
	return (uint8_t)al[rnd() % (sizeof(al) - 1)];
}

/* n fixed bytes, random binary or script-like text. */
static void sig_fixed(struct buf *hex, struct buf *inst, size_t n, int ascii)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t c = ascii ? ascii_byte() : (uint8_t)rnd();
		hex_byte(hex, c);
		buf_byte(inst, c);
	}
}

static void sig_random_bytes(struct buf *inst, size_t n)
{
	for (size_t i = 0; i < n; i++)
		buf_byte(inst, (uint8_t)rnd());
}

/* One .ndb line; its sample instance in *s. Body forms, by share:
 * 55% plain hex, 12% with ??, 10% with *, 10% with {n-m}, 13% with an
 * alternation; 20% of all are script-like text rather than binary.
 * Offsets: 85% '*', 6% 'n', 4% 'n,m', 5% 'EOF-n' (plain and ?? and
 * alternation forms only). Every fixed run is >= 4 bytes, so that both
 * engines find a static anchor. */
static void gen_ndb_line(struct ruleset *rs, unsigned idx)
{
	struct buf hex = {0}, inst = {0};
	int ascii = chance(200);
	unsigned form = (unsigned)(rnd() % 100);
	size_t total = rnd_in(12, 40);

	if (ascii) {
		const char *f = ascii_frags[rnd() % (sizeof(ascii_frags) /
						     sizeof(ascii_frags[0]))];
		size_t fl = strlen(f);
		for (size_t i = 0; i < fl; i++) {
			hex_byte(&hex, (uint8_t)f[i]);
			buf_byte(&inst, (uint8_t)f[i]);
		}
		total = total > fl + 8 ? total - fl : 8;
	}
	if (form < 55) { /* plain */
		sig_fixed(&hex, &inst, total, ascii);
	} else if (form < 67) { /* ?? wildcards */
		size_t a = total / 2 < 4 ? 4 : total / 2;
		size_t k = rnd_in(1, 3);
		sig_fixed(&hex, &inst, a, ascii);
		for (size_t i = 0; i < k; i++)
			buf_str(&hex, "??");
		sig_random_bytes(&inst, k);
		sig_fixed(&hex, &inst, total - a < 4 ? 4 : total - a, ascii);
	} else if (form < 77) { /* * */
		size_t a = total / 2 < 6 ? 6 : total / 2;
		sig_fixed(&hex, &inst, a, ascii);
		buf_byte(&hex, '*');
		sig_random_bytes(&inst, rnd_in(0, 24));
		sig_fixed(&hex, &inst, total - a < 6 ? 6 : total - a, ascii);
	} else if (form < 87) { /* {n-m} */
		size_t a = total / 2 < 6 ? 6 : total / 2;
		unsigned lo = (unsigned)rnd_in(1, 8);
		unsigned hi = lo + (unsigned)rnd_in(1, 32);
		sig_fixed(&hex, &inst, a, ascii);
		buf_printf(&hex, "{%u-%u}", lo, hi);
		sig_random_bytes(&inst, rnd_in(lo, hi));
		sig_fixed(&hex, &inst, total - a < 6 ? 6 : total - a, ascii);
	} else { /* alternation: single bytes or two-byte alternatives */
		size_t a = total / 2 < 5 ? 5 : total / 2;
		sig_fixed(&hex, &inst, a, ascii);
		unsigned nalt = (unsigned)rnd_in(2, 4);
		unsigned width = chance(500) ? 1 : 2;
		unsigned pick = (unsigned)(rnd() % nalt);
		buf_byte(&hex, '(');
		for (unsigned i = 0; i < nalt; i++) {
			if (i > 0)
				buf_byte(&hex, '|');
			for (unsigned w = 0; w < width; w++) {
				uint8_t c = (uint8_t)(i * 37 + w * 101 +
						      (rnd() % 29));
				if (ascii)
					c = ascii_byte();
				hex_byte(&hex, c);
				if (i == pick)
					buf_byte(&inst, c);
			}
		}
		buf_byte(&hex, ')');
		sig_fixed(&hex, &inst, total - a < 5 ? 5 : total - a, ascii);
	}

	char off[48] = "*";
	int fixed_form = form < 67 || form >= 87;
	unsigned o = (unsigned)(rnd() % 100);
	if (fixed_form && o >= 85 && o < 91)
		snprintf(off, sizeof(off), "%u", (unsigned)rnd_in(0, 4096));
	else if (fixed_form && o >= 91 && o < 95)
		snprintf(off, sizeof(off), "%u,%u", (unsigned)rnd_in(0, 2048),
			 (unsigned)rnd_in(1, 512));
	else if (fixed_form && o >= 95)
		snprintf(off, sizeof(off), "EOF-%u", (unsigned)rnd_in(64, 8192));

	buf_printf(&rs->ndb, "Sluice.Bench.%s-%05u:0:%s:",
		   sig_families[idx % (sizeof(sig_families) /
				      sizeof(sig_families[0]))],
		   idx, off);
	buf_add(&rs->ndb, hex.p, hex.len);
	buf_byte(&rs->ndb, '\n');
	struct sig *s = &rs->sigs[idx];
	s->inst = buf_take(&inst, &s->inst_len);
	s->plantable = strcmp(off, "*") == 0;
	free(hex.p);
}

static void add_hash_line(struct ruleset *rs, const uint8_t *d, size_t dlen,
			  uint64_t size)
{
	for (size_t i = 0; i < dlen; i++)
		hex_byte(&rs->hsb, d[i]);
	buf_printf(&rs->hsb, ":%llu:Sluice.Bench.Hash-%05u\n",
		   (unsigned long long)size, rs->nhashes++);
}

/* Random hash signatures (never match): 85% SHA-256, 15% SHA-1. */
static void gen_hashes(struct ruleset *rs, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		uint8_t d[32];
		for (size_t j = 0; j < sizeof(d); j++)
			d[j] = (uint8_t)rnd();
		add_hash_line(rs, d, chance(850) ? 32 : 20,
			      rnd_in(1024, 4u << 20));
	}
}

static void gen_phrases(struct ruleset *rs, unsigned ncr, unsigned nsk)
{
	size_t nc = sizeof(codenames) / sizeof(codenames[0]);
	size_t nt = sizeof(cr_templates) / sizeof(cr_templates[0]);
	size_t nv = sizeof(spam_verbs) / sizeof(spam_verbs[0]);
	size_t nth = sizeof(spam_things) / sizeof(spam_things[0]);
	if (ncr > nc * nt)
		ncr = (unsigned)(nc * nt);
	if (nsk > nv * nth)
		nsk = (unsigned)(nv * nth);
	rs->cr = xmalloc(ncr * sizeof(char *));
	rs->sk = xmalloc(nsk * sizeof(char *));
	for (unsigned i = 0; i < ncr; i++) {
		/* walk the product in a scattered but bijective order */
		size_t k = (i * 37u) % (nc * nt);
		char tmp[128];
		snprintf(tmp, sizeof(tmp), "%s%s%s", cr_templates[k % nt][0],
			 codenames[k / nt], cr_templates[k % nt][1]);
		rs->cr[i] = strdup(tmp);
	}
	for (unsigned i = 0; i < nsk; i++) {
		size_t k = (i * 7u) % (nv * nth);
		char tmp[128];
		snprintf(tmp, sizeof(tmp), "%s %s", spam_verbs[k % nv],
			 spam_things[k / nv]);
		rs->sk[i] = strdup(tmp);
	}
	for (unsigned i = 0; i < ncr; i++)
		if (rs->cr[i] == NULL)
			die("out of memory");
	for (unsigned i = 0; i < nsk; i++)
		if (rs->sk[i] == NULL)
			die("out of memory");
	rs->ncr = ncr;
	rs->nsk = nsk;
}

/* ---- corpus generation ------------------------------------------------ */

struct leaf {
	const uint8_t *p; /* decoded bytes, owned by the corpus */
	size_t len;
	unsigned where;   /* SCAN_WHERE_BODY / SCAN_WHERE_ATTACHMENT */
	int infected;     /* a planted signature or a listed hash */
};

struct msg {
	uint8_t *p;
	size_t len;
	unsigned leaf0, nleaves;
	int kind; /* 0 text, 1 html, 2 attachments */
	int infected; /* a planted signature or listed hash */
};

struct corpus {
	struct msg *msgs;
	unsigned nmsgs;
	struct leaf *leaves;
	unsigned nleaves, leaves_cap;
	uint8_t **owned; /* leaf buffers */
	size_t raw_bytes, decoded_bytes;
	unsigned kinds[3], attachments, planted_sig, planted_hash,
		infected_leaves, infected_msgs, phrase_msgs;
};

static struct leaf *add_leaf(struct corpus *c, uint8_t *p, size_t len,
			     unsigned where)
{
	if (c->nleaves == c->leaves_cap) {
		c->leaves_cap = c->leaves_cap ? c->leaves_cap * 2 : 1024;
		c->leaves = xrealloc(c->leaves,
				     c->leaves_cap * sizeof(*c->leaves));
		c->owned = xrealloc(c->owned, c->leaves_cap * sizeof(uint8_t *));
	}
	c->owned[c->nleaves] = p;
	struct leaf *l = &c->leaves[c->nleaves++];
	l->p = p;
	l->len = len;
	l->where = where;
	l->infected = 0;
	c->decoded_bytes += len;
	return l;
}

/* Prose: sentences of words, lines of at most 72 columns, CRLF, a blank
 * line between paragraphs, ends with CRLF. `plant` (may be NULL) goes in
 * whole, on one line. */
static void gen_prose(struct buf *b, size_t target, const char *plant)
{
	size_t start = b->len, col = 0;
	int sentence_start = 1, planted = plant == NULL;
	unsigned in_par = 0;
	while (b->len - start < target || !planted) {
		const char *w = words[rnd() % NWORDS];
		char cap[64];
		if (!planted && b->len - start >= target / 2) {
			w = plant;
			planted = 1;
		} else if (sentence_start) {
			snprintf(cap, sizeof(cap), "%s", w);
			if (cap[0] >= 'a' && cap[0] <= 'z')
				cap[0] = (char)(cap[0] - 'a' + 'A');
			w = cap;
		}
		size_t wl = strlen(w);
		if (col > 0 && col + 1 + wl > 72) {
			buf_str(b, "\r\n");
			col = 0;
		}
		if (col > 0) {
			buf_byte(b, ' ');
			col++;
		}
		buf_add(b, w, wl);
		col += wl;
		sentence_start = 0;
		if (chance(80)) {
			buf_byte(b, chance(150) ? '?' : '.');
			col++;
			sentence_start = 1;
			if (++in_par > rnd_in(3, 8)) {
				buf_str(b, "\r\n\r\n");
				col = 0;
				in_par = 0;
			}
		} else if (chance(60)) {
			buf_byte(b, ',');
			col++;
		}
	}
	if (col > 0)
		buf_str(b, ".\r\n");
}

/* Quoted-printable (RFC 2045) of CRLF text: hard breaks kept, soft breaks
 * at 76 columns, trailing white space encoded. */
static void qp_encode(struct buf *out, const uint8_t *p, size_t n)
{
	size_t col = 0;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = p[i];
		if (c == '\r' && i + 1 < n && p[i + 1] == '\n') {
			buf_str(out, "\r\n");
			i++;
			col = 0;
			continue;
		}
		int eol = i + 1 == n || p[i + 1] == '\r';
		int lit = (c >= 33 && c <= 126 && c != '=') ||
			  ((c == ' ' || c == '\t') && !eol);
		size_t w = lit ? 1 : 3;
		if (col + w > 75) {
			buf_str(out, "=\r\n");
			col = 0;
		}
		if (lit) {
			buf_byte(out, c);
		} else {
			buf_byte(out, '=');
			buf_byte(out, (uint8_t)"0123456789ABCDEF"[c >> 4]);
			buf_byte(out, (uint8_t)"0123456789ABCDEF"[c & 15]);
		}
		col += w;
	}
}

/* Base64, 76-column CRLF lines, no line break after the last line. */
static void b64_encode(struct buf *out, const uint8_t *p, size_t n)
{
	static const char al[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	buf_reserve(out, n / 57 * 78 + 80);
	size_t col = 0;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;
		size_t k = n - i < 3 ? n - i : 3;
		if (k > 1)
			v |= (uint32_t)p[i + 1] << 8;
		if (k > 2)
			v |= p[i + 2];
		if (col == 76) {
			buf_str(out, "\r\n");
			col = 0;
		}
		uint8_t q[4] = {(uint8_t)al[v >> 18], (uint8_t)al[(v >> 12) & 63],
				k > 1 ? (uint8_t)al[(v >> 6) & 63] : '=',
				k > 2 ? (uint8_t)al[v & 63] : '='};
		buf_add(out, q, 4);
		col += 4;
	}
}

static void gen_html(struct buf *b, size_t target, const char *plant)
{
	size_t start = b->len;
	buf_str(b, "<!DOCTYPE html>\r\n<html><head><meta charset=\"utf-8\">"
		   "<title>Monthly newsletter</title>\r\n<style>body{font-"
		   "family:Arial,sans-serif;color:#333}td.h{background:#036;"
		   "color:#fff;padding:12px}a{color:#06c}</style></head>\r\n"
		   "<body><table width=\"600\" cellpadding=\"0\" "
		   "cellspacing=\"0\" align=\"center\">\r\n");
	unsigned sec = 0;
	while (b->len - start < target) {
		buf_printf(b, "<tr><td class=\"h\"><h2>%s %s %s</h2></td></tr>"
			   "\r\n<tr><td><p>\r\n", words[rnd() % NWORDS],
			   words[rnd() % NWORDS], words[rnd() % NWORDS]);
		gen_prose(b, rnd_in(300, 1500),
			  sec == 1 ? plant : NULL);
		buf_printf(b, "</p>\r\n<a href=\"https://news.example-shop.com"
			   "/c/%08llx?utm_source=newsletter&amp;utm_medium=email"
			   "&amp;utm_campaign=%u\">Read more</a></td></tr>\r\n"
			   "<tr><td><img src=\"https://cdn.example-shop.com/img/"
			   "%08llx.jpg\" width=\"600\" alt=\"%s\"></td></tr>\r\n",
			   (unsigned long long)(rnd() & 0xffffffff), sec,
			   (unsigned long long)(rnd() & 0xffffffff),
			   words[rnd() % NWORDS]);
		sec++;
	}
	buf_str(b, "<tr><td><p style=\"font-size:11px\">You receive this "
		   "because you subscribed. <a href=\"https://news.example-shop"
		   ".com/unsubscribe?u=1234\">Unsubscribe</a></p></td></tr>\r\n"
		   "</table></body></html>\r\n");
}

static void gen_random(struct buf *b, size_t n)
{
	buf_reserve(b, n + 8);
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t v = rnd();
		memcpy(b->p + b->len + i, &v, 8);
	}
	for (; i < n; i++)
		b->p[b->len + i] = (uint8_t)rnd();
	b->len += n;
}

/* Zip-like: local headers, "compressed" (random) data, central directory,
 * end record. Plausible to a type sniffer, not a valid archive. */
static void gen_zip(struct buf *b, size_t target)
{
	size_t start = b->len;
	unsigned n = 0;
	while (b->len - start + 200 < target) {
		char name[48];
		int nl = snprintf(name, sizeof(name), "docs/part%03u.xml", n++);
		size_t dl = rnd_in(1024, 200000);
		if (b->len - start + dl + 100 > target)
			dl = target - (b->len - start) - 100;
		uint8_t h[30] = {'P', 'K', 3, 4, 20, 0, 0, 0, 8, 0};
		h[26] = (uint8_t)nl;
		buf_add(b, h, sizeof(h));
		buf_add(b, name, (size_t)nl);
		gen_random(b, dl);
	}
	for (unsigned i = 0; i < n; i++) {
		uint8_t h[46] = {'P', 'K', 1, 2, 20, 0, 20, 0};
		buf_add(b, h, sizeof(h));
		buf_printf(b, "docs/part%03u.xml", i);
	}
	uint8_t e[22] = {'P', 'K', 5, 6};
	buf_add(b, e, sizeof(e));
}

/* PDF-like: objects with text content streams (30%) or binary
 * "FlateDecode" streams, xref, trailer. */
static void gen_pdf(struct buf *b, size_t target)
{
	size_t start = b->len;
	unsigned obj = 1;
	buf_str(b, "%PDF-1.4\n%\xe2\xe3\xcf\xd3\n");
	while (b->len - start + 100 < target) {
		if (chance(300)) {
			buf_printf(b, "%u 0 obj\n<< /Length 0 >>\nstream\nBT /F1 "
				   "11 Tf 72 712 Td\n(", obj++);
			gen_prose(b, rnd_in(500, 4000), NULL);
			buf_str(b, ") Tj ET\nendstream\nendobj\n");
		} else {
			size_t dl = rnd_in(2000, 60000);
			buf_printf(b, "%u 0 obj\n<< /Length %zu /Filter "
				   "/FlateDecode >>\nstream\n", obj++, dl);
			gen_random(b, dl);
			buf_str(b, "\nendstream\nendobj\n");
		}
	}
	buf_printf(b, "xref\n0 %u\n0000000000 65535 f \ntrailer\n<< /Size %u "
		   "/Root 1 0 R >>\nstartxref\n%zu\n%%%%EOF\n", obj, obj,
		   b->len - start);
}

static size_t log_uniform(size_t lo, size_t hi)
{
	double u = (double)(rnd() >> 11) / 9007199254740992.0;
	return (size_t)exp(log((double)lo) +
			   u * (log((double)hi) - log((double)lo)));
}

static void gen_headers(struct buf *m, unsigned i, const char *subject)
{
	static const char *const senders[] = {
		"news@example-shop.com", "alice@partner.example.org",
		"billing@vendor.example.com", "bob@mail.example.info",
		"noreply@service.example.biz", "carol@university.example.edu",
	};
	const char *from = senders[rnd() % 6];
	buf_printf(m, "Return-Path: <%s>\r\n"
		   "Received: from mail%u.example.com (mail%u.example.com "
		   "[198.51.100.%u]) by mx1.example.net with ESMTPS id %08llx;"
		   " Mon, 3 Mar 2025 10:%02u:%02u +0000\r\n"
		   "From: <%s>\r\nTo: <user%u@example.net>\r\n"
		   "Subject: %s\r\nDate: Mon, 3 Mar 2025 10:%02u:%02u +0000\r\n"
		   "Message-ID: <%08llx.%u@example.com>\r\nMIME-Version: 1.0\r\n",
		   from, i % 50, i % 50, i % 250 + 1,
		   (unsigned long long)(rnd() & 0xffffffff), i % 60, i % 59,
		   from, i % 1000, subject, i % 60, i % 59,
		   (unsigned long long)(rnd() & 0xffffffff), i);
}

/* A text leaf: prose with an optional phrase; returned in *enc encoded
 * (quoted-printable or 8bit) with the header lines for its part. */
static struct leaf *text_leaf(struct corpus *c, struct buf *enc,
			      size_t target, const char *plant, int html)
{
	struct buf t = {0};
	if (html)
		gen_html(&t, target, plant);
	else
		gen_prose(&t, target, plant);
	size_t len;
	uint8_t *p = buf_take(&t, &len);
	buf_printf(enc, "Content-Type: text/%s; charset=utf-8\r\n",
		   html ? "html" : "plain");
	int how = (int)(rnd() % 3); /* 0 8bit, 1 qp, 2 base64 (html only) */
	if (how == 2 && !html)
		how = 1;
	if (how == 0) {
		buf_str(enc, "Content-Transfer-Encoding: 8bit\r\n\r\n");
		buf_add(enc, p, len);
	} else if (how == 1) {
		buf_str(enc, "Content-Transfer-Encoding: quoted-printable\r\n"
			     "\r\n");
		qp_encode(enc, p, len);
	} else {
		buf_str(enc, "Content-Transfer-Encoding: base64\r\n\r\n");
		b64_encode(enc, p, len);
		buf_str(enc, "\r\n");
	}
	return add_leaf(c, p, len, SCAN_WHERE_BODY);
}

static const char *pick_phrase(const struct ruleset *rs)
{
	if (rnd() % 2 && rs->ncr > 0)
		return rs->cr[rnd() % rs->ncr];
	return rs->nsk > 0 ? rs->sk[rnd() % rs->nsk] : NULL;
}

static void gen_message(struct corpus *c, struct ruleset *rs, unsigned i)
{
	struct buf m = {0};
	struct msg *msg = &c->msgs[i];
	unsigned r = (unsigned)(rnd() % 100);
	const char *plant = chance(60) ? pick_phrase(rs) : NULL;
	char subject[160];
	snprintf(subject, sizeof(subject), "%s %s %s", words[rnd() % NWORDS],
		 words[rnd() % NWORDS],
		 plant != NULL && chance(300) ? plant : words[rnd() % NWORDS]);
	for (char *s = subject; *s; s++)
		if ((unsigned char)*s >= 0x80)
			*s = 'x'; /* keep the Subject header 7-bit */
	if (plant != NULL)
		c->phrase_msgs++;

	msg->leaf0 = c->nleaves;
	gen_headers(&m, i, subject);
	if (r < 47) { /* plain text */
		msg->kind = 0;
		text_leaf(c, &m, rnd_in(1000, 20000), plant, 0);
	} else if (r < 75) { /* HTML newsletter, multipart/alternative */
		msg->kind = 1;
		unsigned bnd = (unsigned)(rnd() & 0xffffffff);
		buf_printf(&m, "Content-Type: multipart/alternative; "
			   "boundary=\"=_alt_%08x\"\r\n\r\n--=_alt_%08x\r\n",
			   bnd, bnd);
		text_leaf(c, &m, rnd_in(1000, 6000), NULL, 0);
		buf_printf(&m, "\r\n--=_alt_%08x\r\n", bnd);
		text_leaf(c, &m, rnd_in(10000, 120000), plant, 1);
		buf_printf(&m, "\r\n--=_alt_%08x--\r\n", bnd);
	} else { /* attachments, multipart/mixed */
		msg->kind = 2;
		unsigned bnd = (unsigned)(rnd() & 0xffffffff);
		buf_printf(&m, "Content-Type: multipart/mixed; "
			   "boundary=\"=_mix_%08x\"\r\n\r\nThis is a multi-part "
			   "message in MIME format.\r\n\r\n--=_mix_%08x\r\n",
			   bnd, bnd);
		/* the pipeline scans a non-blank preamble as a leaf (without
		 * the line break before the delimiter) */
		static const char pre[] =
			"This is a multi-part message in MIME format.\r\n";
		uint8_t *pp = xmalloc(sizeof(pre) - 1);
		memcpy(pp, pre, sizeof(pre) - 1);
		add_leaf(c, pp, sizeof(pre) - 1, SCAN_WHERE_BODY);
		text_leaf(c, &m, rnd_in(300, 3000), plant, 0);
		unsigned natt = (unsigned)rnd_in(1, 2);
		int infect_sig = chance(40), infect_hash = chance(10);
		for (unsigned a = 0; a < natt; a++) {
			size_t size = log_uniform(20000, 2000000);
			struct buf d = {0};
			unsigned t = (unsigned)(rnd() % 3);
			const char *ct, *ext;
			if (t == 0) {
				gen_pdf(&d, size);
				ct = "application/pdf";
				ext = "pdf";
			} else if (t == 1) {
				gen_zip(&d, size);
				ct = "application/zip";
				ext = "zip";
			} else {
				gen_random(&d, size);
				ct = "application/octet-stream";
				ext = "dat";
			}
			int infected = 0;
			if (infect_sig && a == 0) {
				/* a random plantable signature, anywhere */
				const struct sig *s;
				do {
					s = &rs->sigs[rnd() % rs->nsigs];
				} while (!s->plantable);
				size_t at = rnd() % (d.len - s->inst_len);
				memcpy(d.p + at, s->inst, s->inst_len);
				c->planted_sig++;
				infected = 1;
			}
			size_t len;
			uint8_t *p = buf_take(&d, &len);
			if (infect_hash && a == natt - 1) {
				uint8_t h[32];
				scan_sha256(p, len, h);
				add_hash_line(rs, h, 32, len);
				c->planted_hash++;
				infected = 1;
			}
			buf_printf(&m, "\r\n--=_mix_%08x\r\nContent-Type: %s; "
				   "name=\"file%u-%u.%s\"\r\nContent-Disposition: "
				   "attachment; filename=\"file%u-%u.%s\"\r\n"
				   "Content-Transfer-Encoding: base64\r\n\r\n",
				   bnd, ct, i, a, ext, i, a, ext);
			b64_encode(&m, p, len);
			buf_str(&m, "\r\n");
			struct leaf *l = add_leaf(c, p, len,
						  SCAN_WHERE_ATTACHMENT);
			l->infected = infected;
			c->infected_leaves += (unsigned)infected;
			c->attachments++;
		}
		buf_printf(&m, "\r\n--=_mix_%08x--\r\n", bnd);
		if (infect_sig || infect_hash)
			c->infected_msgs++;
		msg->infected = infect_sig || infect_hash;
	}
	c->kinds[msg->kind]++;
	msg->nleaves = c->nleaves - msg->leaf0;
	msg->p = buf_take(&m, &msg->len);
	c->raw_bytes += msg->len;
}

/* ---- realistic files: the attachment, archive and campaign corpora ----- */

/* Real container and document formats (valid enough for libarchive,
 * libclamav's parsers and our type detection), their contents from rnd():
 * PE32 executables, OLE2 Word documents, PDFs with real FlateDecode
 * streams, OOXML (docx/xlsx) written by libarchive, JPEG and PNG images,
 * text; archives (zip, nested zip, 7z, tar.gz) written by libarchive.
 * Every archive entry has a fixed mtime and owner, and gzip leaves out its
 * timestamp, so the same seed gives the same bytes. */

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

static void put32be(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Append n zero bytes; a pointer to them (valid until the next append). */
static uint8_t *buf_zeros(struct buf *b, size_t n)
{
	buf_reserve(b, n);
	uint8_t *p = b->p + b->len;
	memset(p, 0, n);
	b->len += n;
	return p;
}

static const char *const api_names[] = {
	"KERNEL32.dll", "USER32.dll", "ADVAPI32.dll", "GetProcAddress",
	"LoadLibraryA", "VirtualAlloc", "CreateFileW", "ReadFile",
	"WriteFile", "CloseHandle", "GetModuleHandleW", "ExitProcess",
	"RegOpenKeyExW", "RegQueryValueExW", "MessageBoxW", "GetLastError",
	"HeapAlloc", "HeapFree", "GetCommandLineW", "Sleep",
	"InitializeCriticalSection", "GetTickCount", "WideCharToMultiByte",
	"Microsoft Visual C++ Runtime Library", "SOFTWARE\\Microsoft\\Windows",
	"%s\\%s.tmp", "runtime error ", "bad allocation",
};
#define NAPI (sizeof(api_names) / sizeof(api_names[0]))

/* x86 machine code of plausible shape: functions with a prologue, moves,
 * calls, compares and branches, an epilogue, int3 padding. */
static void gen_x86(uint8_t *p, size_t n)
{
	size_t i = 0;
	while (i + 32 < n) {
		static const uint8_t pro[] = {0x55, 0x8b, 0xec, 0x83, 0xec};
		memcpy(p + i, pro, sizeof(pro));
		i += sizeof(pro);
		p[i++] = (uint8_t)(rnd() % 0x40 * 4);
		unsigned ops = (unsigned)rnd_in(4, 40);
		for (unsigned k = 0; k < ops && i + 16 < n; k++) {
			uint64_t r = rnd();
			switch (r % 9) {
			case 0: /* mov eax, [ebp+d8] */
			case 1: /* mov [ebp-d8], eax */
				p[i++] = r % 9 ? 0x89 : 0x8b;
				p[i++] = 0x45;
				p[i++] = (uint8_t)(r >> 8);
				break;
			case 2: /* push imm8 / push reg */
				p[i++] = 0x6a;
				p[i++] = (uint8_t)(r >> 8);
				p[i++] = (uint8_t)(0x50 + (r >> 16) % 8);
				break;
			case 3: /* call rel32 */
				p[i++] = 0xe8;
				put32(p + i, (uint32_t)(r >> 16) % 0x8000 -
						     0x4000);
				i += 4;
				break;
			case 4: /* call [iat] */
				p[i++] = 0xff;
				p[i++] = 0x15;
				put32(p + i, 0x402000 + (uint32_t)(r >> 20) % 0x200 *
							       4);
				i += 4;
				break;
			case 5: /* test eax, eax; je rel8 */
				p[i++] = 0x85;
				p[i++] = 0xc0;
				p[i++] = 0x74;
				p[i++] = (uint8_t)(r >> 8) & 0x3f;
				break;
			case 6: /* xor eax, eax / add esp */
				p[i++] = 0x33;
				p[i++] = 0xc0;
				p[i++] = 0x83;
				p[i++] = 0xc4;
				p[i++] = (uint8_t)((r >> 8) % 8 * 4);
				break;
			case 7: /* mov ecx, imm32 */
				p[i++] = 0xb9;
				put32(p + i, (uint32_t)(r >> 24));
				i += 4;
				break;
			default: /* cmp eax, imm8; jne rel8 */
				p[i++] = 0x83;
				p[i++] = 0xf8;
				p[i++] = (uint8_t)(r >> 8);
				p[i++] = 0x75;
				p[i++] = (uint8_t)(r >> 16) & 0x3f;
				break;
			}
		}
		static const uint8_t epi[] = {0x8b, 0xe5, 0x5d, 0xc3};
		memcpy(p + i, epi, sizeof(epi));
		i += sizeof(epi);
		while (i % 16 != 0 && i < n)
			p[i++] = 0xcc;
	}
	while (i < n)
		p[i++] = 0xcc;
}

/* A PE32 GUI executable of about `target` bytes (at least 4 KiB): DOS
 * header and stub, COFF and optional headers, .text (x86 code, 60%),
 * .rdata (API names and strings, 15%), .data (mostly zeros, 10%), .rsrc
 * (random, 15%), raw sizes aligned to 512, sections to 4096. No import
 * table (libclamav's PE parser does not need one). */
static void gen_pe(struct buf *b, size_t target)
{
	static const char *const names[4] = {".text", ".rdata", ".data",
					      ".rsrc"};
	static const uint32_t chr[4] = {0x60000020, 0x40000040, 0xc0000040,
					0x40000040};
	static const unsigned share[4] = {60, 15, 10, 15};
	if (target < 4096)
		target = 4096;
	size_t body = target - 0x400;
	uint32_t raw[4], rva[4], off[4], at = 0x400, va = 0x1000;
	for (int k = 0; k < 4; k++) {
		raw[k] = (uint32_t)((body * share[k] / 100 + 0x1ff) & ~0x1ffu);
		if (raw[k] == 0)
			raw[k] = 0x200;
		off[k] = at;
		rva[k] = va;
		at += raw[k];
		va += (raw[k] + 0xfff) & ~0xfffu;
	}
	size_t start = b->len;
	buf_zeros(b, at);
	uint8_t *p = b->p + start;
	p[0] = 'M';
	p[1] = 'Z';
	put16(p + 2, 0x90);
	put16(p + 4, 3);
	put16(p + 8, 4);
	put16(p + 0x0c, 0xffff);
	put16(p + 0x10, 0xb8);
	put16(p + 0x18, 0x40);
	put32(p + 0x3c, 0x80);
	static const uint8_t stub[] = {0x0e, 0x1f, 0xba, 0x0e, 0x00, 0xb4, 0x09,
				       0xcd, 0x21, 0xb8, 0x01, 0x4c, 0xcd, 0x21};
	memcpy(p + 0x40, stub, sizeof(stub));
	memcpy(p + 0x4e, "This program cannot be run in DOS mode.\r\r\n$", 44);
	uint8_t *coff = p + 0x84;
	memcpy(p + 0x80, "PE\0\0", 4);
	put16(coff, 0x14c);
	put16(coff + 2, 4);
	put32(coff + 4, 0x5e000000u + (uint32_t)(rnd() % 0x8000000));
	put16(coff + 16, 0xe0);
	put16(coff + 18, 0x0102);
	uint8_t *oh = coff + 20;
	put16(oh, 0x10b);
	oh[2] = 14;
	put32(oh + 4, raw[0]);
	put32(oh + 8, raw[1] + raw[2] + raw[3]);
	put32(oh + 16, rva[0] + (uint32_t)(rnd() % (raw[0] / 2)) / 16 * 16);
	put32(oh + 20, rva[0]);
	put32(oh + 24, rva[1]);
	put32(oh + 28, 0x400000);
	put32(oh + 32, 0x1000);
	put32(oh + 36, 0x200);
	put16(oh + 40, 6);
	put16(oh + 48, 6);
	put32(oh + 56, va);
	put32(oh + 60, 0x400);
	put16(oh + 68, 2);
	put16(oh + 70, 0x8140);
	put32(oh + 72, 0x100000);
	put32(oh + 76, 0x1000);
	put32(oh + 80, 0x100000);
	put32(oh + 84, 0x1000);
	put32(oh + 92, 16);
	uint8_t *sh = oh + 224;
	for (int k = 0; k < 4; k++, sh += 40) {
		memcpy(sh, names[k], strlen(names[k]));
		put32(sh + 8, raw[k]);
		put32(sh + 12, rva[k]);
		put32(sh + 16, raw[k]);
		put32(sh + 20, off[k]);
		put32(sh + 36, chr[k]);
	}
	gen_x86(p + off[0], raw[0]);
	for (size_t i = off[1]; i + 40 < off[1] + raw[1];) {
		const char *s = chance(600) ? api_names[rnd() % NAPI]
					    : words[rnd() % NWORDS];
		size_t sl = strlen(s);
		memcpy(p + i, s, sl);
		i += sl + 1 + rnd() % 4;
	}
	for (size_t i = off[2]; i + 4 <= off[2] + raw[2]; i += 4)
		if (chance(250))
			put32(p + i, (uint32_t)rnd());
	for (size_t i = off[3]; i < off[3] + raw[3]; i++)
		p[i] = (uint8_t)rnd();
}

/* A compound file (OLE2, version 3, 512-byte sectors) holding streams
 * names[i] of sizes[i] bytes (each >= 4096, so no mini stream), contents
 * filled by the caller through the returned offsets (*offs[i], relative
 * to the start of the file, streams contiguous). Layout: header, FAT
 * sectors, one directory sector, the streams. At most 3 streams. */
static size_t gen_ole2(struct buf *b, const char *const *names,
		       const size_t *sizes, unsigned n, size_t *offs)
{
	uint32_t secs[3], total = 0;
	for (unsigned i = 0; i < n; i++) {
		secs[i] = (uint32_t)((sizes[i] + 511) / 512);
		total += secs[i];
	}
	uint32_t nfat = 1;
	while (nfat * 128 < nfat + 1 + total)
		nfat++;
	if (nfat > 109)
		die("gen_ole2: %u FAT sectors (file too large)", nfat);
	size_t len = 512 + (size_t)(nfat + 1 + total) * 512;
	uint8_t *f = buf_zeros(b, len);
	static const uint8_t magic[8] = {0xd0, 0xcf, 0x11, 0xe0,
					 0xa1, 0xb1, 0x1a, 0xe1};
	memcpy(f, magic, 8);
	put16(f + 24, 0x003e);
	put16(f + 26, 0x0003);
	put16(f + 28, 0xfffe);
	put16(f + 30, 9);
	put16(f + 32, 6);
	put32(f + 44, nfat);
	put32(f + 48, nfat);            /* directory sector */
	put32(f + 56, 4096);            /* mini stream cutoff */
	put32(f + 60, 0xfffffffeu);     /* no mini FAT */
	put32(f + 68, 0xfffffffeu);     /* no DIFAT sectors */
	for (uint32_t i = 0; i < 109; i++)
		put32(f + 76 + 4 * i, i < nfat ? i : 0xffffffffu);
	uint8_t *fat = f + 512;
	for (uint32_t i = 0; i < nfat * 128; i++)
		put32(fat + 4 * i, 0xffffffffu);
	for (uint32_t i = 0; i < nfat; i++)
		put32(fat + 4 * i, 0xfffffffdu);
	put32(fat + 4 * nfat, 0xfffffffeu); /* directory: one sector */
	uint32_t s = nfat + 1;
	uint8_t *dir = f + 512 + (size_t)nfat * 512;
	for (int i = 0; i < 4; i++) {
		put32(dir + 128 * i + 68, 0xffffffffu);
		put32(dir + 128 * i + 72, 0xffffffffu);
		put32(dir + 128 * i + 76, 0xffffffffu);
	}
	/* Root Entry: the streams hang off it as a chain of right
	 * siblings. */
	const char *root = "Root Entry";
	for (size_t k = 0; root[k]; k++)
		put16(dir + 2 * k, (uint8_t)root[k]);
	put16(dir + 64, (uint16_t)(2 * strlen(root) + 2));
	dir[66] = 5;
	dir[67] = 1;
	put32(dir + 76, 1);
	put32(dir + 116, 0xfffffffeu);
	for (unsigned i = 0; i < n; i++) {
		uint8_t *d = dir + 128 * (i + 1);
		for (size_t k = 0; names[i][k]; k++)
			put16(d + 2 * k, (uint8_t)names[i][k]);
		put16(d + 64, (uint16_t)(2 * strlen(names[i]) + 2));
		d[66] = 2;
		d[67] = 1;
		if (i + 1 < n)
			put32(d + 72, i + 2);
		put32(d + 116, s);
		put32(d + 120, (uint32_t)sizes[i]);
		offs[i] = 512 + (size_t)s * 512;
		for (uint32_t k = 0; k < secs[i]; k++, s++)
			put32(fat + 4 * s, k + 1 < secs[i] ? s + 1
							   : 0xfffffffeu);
	}
	return len;
}

/* A Word 97-2003 document of about `target` bytes (at least 16 KiB):
 * WordDocument (FIB magic, then text, 60%), 1Table (binary tables, 30%),
 * SummaryInformation. */
static void gen_doc(struct buf *b, size_t target)
{
	static const char *const names[3] = {"WordDocument", "1Table",
					     "\005SummaryInformation"};
	if (target < 16384)
		target = 16384;
	size_t sizes[3] = {target * 6 / 10, target * 3 / 10, 4096};
	size_t offs[3], start = b->len;
	gen_ole2(b, names, sizes, 3, offs);
	uint8_t *f = b->p + start;
	put16(f + offs[0], 0xa5ec);
	put16(f + offs[0] + 2, 0x00c1);
	struct buf t = {0};
	gen_prose(&t, sizes[0] - 0x800, NULL);
	memcpy(f + offs[0] + 0x800, t.p,
	       t.len < sizes[0] - 0x800 ? t.len : sizes[0] - 0x800);
	free(t.p);
	for (size_t i = 0; i < sizes[1]; i++)
		f[offs[1] + i] = chance(300) ? (uint8_t)rnd() : 0;
	put16(f + offs[2], 0xfffe);
	for (size_t i = 48; i < 1024; i++)
		f[offs[2] + i] = (uint8_t)rnd();
}

/* zlib stream of d[0..n) appended to b. */
static void zlib_add(struct buf *b, const uint8_t *d, size_t n, int level)
{
	uLongf cap = compressBound((uLong)n);
	buf_reserve(b, cap);
	if (compress2(b->p + b->len, &cap, d, (uLong)n, level) != Z_OK)
		die("compress2 failed");
	b->len += cap;
}

/* A JPEG (JFIF, baseline) of about `target` bytes: headers, one Huffman
 * table, entropy-coded data (random, 0xff stuffed), EOI. */
static void gen_jpeg(struct buf *b, size_t target)
{
	static const uint8_t head[] = {
		0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 'J', 'F', 'I', 'F', 0x00,
		0x01, 0x01, 0x00, 0x00, 0x48, 0x00, 0x48, 0x00, 0x00,
		0xff, 0xdb, 0x00, 0x43, 0x00};
	buf_add(b, head, sizeof(head));
	for (int i = 0; i < 64; i++)
		buf_byte(b, (uint8_t)(2 + i / 3 + rnd() % 4));
	uint16_t h = (uint16_t)rnd_in(480, 3000), w = (uint16_t)rnd_in(640, 4000);
	uint8_t sof[] = {0xff, 0xc0, 0x00, 0x11, 0x08, (uint8_t)(h >> 8),
			 (uint8_t)h, (uint8_t)(w >> 8), (uint8_t)w, 0x03, 0x01,
			 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01};
	buf_add(b, sof, sizeof(sof));
	static const uint8_t dht[] = {
		0xff, 0xc4, 0x00, 0x1f, 0x00, 0x00, 0x01, 0x05, 0x01, 0x01, 0x01,
		0x01, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b,
		0xff, 0xda, 0x00, 0x0c, 0x03, 0x01, 0x00, 0x02, 0x11, 0x03, 0x11,
		0x00, 0x3f, 0x00};
	buf_add(b, dht, sizeof(dht));
	size_t start = b->len;
	while (b->len - start + 2 < target) {
		uint8_t c = (uint8_t)rnd();
		buf_byte(b, c);
		if (c == 0xff)
			buf_byte(b, 0x00);
	}
	buf_byte(b, 0xff);
	buf_byte(b, 0xd9);
}

static void png_chunk(struct buf *b, const char *type, const uint8_t *d,
		      size_t n)
{
	uint8_t hd[8];
	put32be(hd, (uint32_t)n);
	memcpy(hd + 4, type, 4);
	buf_add(b, hd, 8);
	if (n > 0)
		buf_add(b, d, n);
	uLong crc = crc32(0, (const Bytef *)type, 4);
	if (n > 0)
		crc = crc32(crc, d, (uInt)n);
	put32be(hd, (uint32_t)crc);
	buf_add(b, hd, 4);
}

/* A PNG (RGB, 8 bits) of about `target` bytes: pixels are noise around
 * smooth gradients (they compress about 2:1), zlib in 64 KiB IDATs. */
static void gen_png(struct buf *b, size_t target)
{
	uint32_t w = (uint32_t)rnd_in(256, 1024);
	uint32_t h = (uint32_t)(target * 2 / (w * 3 + 1)) + 1;
	static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n',
				       0x1a, '\n'};
	buf_add(b, sig, 8);
	uint8_t ihdr[13] = {0};
	put32be(ihdr, w);
	put32be(ihdr + 4, h);
	ihdr[8] = 8;
	ihdr[9] = 2;
	png_chunk(b, "IHDR", ihdr, sizeof(ihdr));
	size_t rawn = (size_t)h * (w * 3 + 1);
	uint8_t *raw = xmalloc(rawn);
	for (uint32_t y = 0; y < h; y++) {
		uint8_t *row = raw + (size_t)y * (w * 3 + 1);
		row[0] = 0;
		for (uint32_t x = 0; x < w * 3; x++)
			row[1 + x] = (uint8_t)((x / 3 + y + (x % 3) * 50) / 4 +
					       (rnd() & 15));
	}
	struct buf z = {0};
	zlib_add(&z, raw, rawn, 6);
	free(raw);
	for (size_t o = 0; o < z.len; o += 65536)
		png_chunk(b, "IDAT", z.p + o,
			  z.len - o < 65536 ? z.len - o : 65536);
	png_chunk(b, "IEND", NULL, 0);
	free(z.p);
}

/* A PDF of about `target` bytes with real FlateDecode streams: page
 * content (prose, compressed), embedded fonts (random, compressed),
 * images (DCTDecode: a JPEG), a correct xref table. */
static void gen_pdf_real(struct buf *b, size_t target)
{
	size_t start = b->len;
	size_t *xref = NULL;
	unsigned nobj = 0, cap = 0;
	buf_str(b, "%PDF-1.7\n%\xe2\xe3\xcf\xd3\n");
	while (b->len - start + 400 < target || nobj < 3) {
		if (nobj == cap) {
			cap = cap ? cap * 2 : 64;
			xref = xrealloc(xref, cap * sizeof(*xref));
		}
		xref[nobj++] = b->len - start;
		unsigned id = nobj;
		if (id == 1) {
			buf_printf(b, "1 0 obj\n<< /Type /Catalog /Pages 2 0 R "
				   ">>\nendobj\n");
			continue;
		}
		if (id == 2) {
			buf_printf(b, "2 0 obj\n<< /Type /Pages /Count 1 /Kids "
				   "[3 0 R] >>\nendobj\n");
			continue;
		}
		if (id == 3) {
			buf_printf(b, "3 0 obj\n<< /Type /Page /Parent 2 0 R "
				   "/MediaBox [0 0 612 792] /Contents 4 0 R "
				   ">>\nendobj\n");
			continue;
		}
		struct buf raw = {0}, z = {0};
		const char *extra = "/Filter /FlateDecode";
		unsigned kind = (unsigned)(rnd() % 10);
		if (kind < 5) { /* page content: text operators */
			buf_str(&raw, "BT /F1 11 Tf 72 712 Td 14 TL\n(");
			gen_prose(&raw, rnd_in(1500, 12000), NULL);
			buf_str(&raw, ") Tj ET\n");
			zlib_add(&z, raw.p, raw.len, 6);
		} else if (kind < 8) { /* font program */
			gen_random(&raw, rnd_in(4000, 40000));
			zlib_add(&z, raw.p, raw.len, 1);
		} else { /* image */
			gen_jpeg(&z, rnd_in(10000, 120000));
			extra = "/Type /XObject /Subtype /Image /Width 800 "
				"/Height 600 /ColorSpace /DeviceRGB "
				"/BitsPerComponent 8 /Filter /DCTDecode";
		}
		buf_printf(b, "%u 0 obj\n<< /Length %zu %s >>\nstream\n", id,
			   z.len, extra);
		buf_add(b, z.p, z.len);
		buf_str(b, "\nendstream\nendobj\n");
		free(raw.p);
		free(z.p);
	}
	size_t xo = b->len - start;
	buf_printf(b, "xref\n0 %u\n0000000000 65535 f \n", nobj + 1);
	for (unsigned i = 0; i < nobj; i++)
		buf_printf(b, "%010zu 00000 n \n", xref[i]);
	buf_printf(b, "trailer\n<< /Size %u /Root 1 0 R >>\nstartxref\n%zu\n"
		   "%%%%EOF\n", nobj + 1, xo);
	free(xref);
}

/* CSV or plain text of about `target` bytes. */
static void gen_textfile(struct buf *b, size_t target)
{
	if (chance(500)) {
		gen_prose(b, target, NULL);
		return;
	}
	size_t start = b->len;
	buf_str(b, "date,account,description,amount,currency\r\n");
	while (b->len - start < target)
		buf_printf(b, "2025-%02u-%02u,%06llu,%s %s,%llu.%02u,EUR\r\n",
			   (unsigned)rnd_in(1, 12), (unsigned)rnd_in(1, 28),
			   (unsigned long long)(rnd() % 1000000),
			   words[rnd() % NWORDS], words[rnd() % NWORDS],
			   (unsigned long long)(rnd() % 100000),
			   (unsigned)(rnd() % 100));
}

/* ---- archives (libarchive's write API) ---- */

enum arc_fmt { ARC_ZIP, ARC_7Z, ARC_TGZ };

struct member {
	char name[96];
	uint8_t *p; /* owned by whoever fills the array */
	size_t len;
};

static la_ssize_t arc_write_cb(struct archive *a, void *ud, const void *p,
			       size_t n)
{
	(void)a;
	buf_add(ud, p, n);
	return (la_ssize_t)n;
}

/* Write members m[0..n) as one archive of format f, appended to out.
 * 0, or -1 with libarchive's message in err (7z needs liblzma). */
static int arc_write(struct buf *out, enum arc_fmt f, const struct member *m,
		     unsigned n, char *err, size_t errsz)
{
	struct archive *a = archive_write_new();
	if (a == NULL)
		die("archive_write_new failed");
	int rc;
	if (f == ARC_ZIP) {
		rc = archive_write_set_format_zip(a);
	} else if (f == ARC_7Z) {
		rc = archive_write_set_format_7zip(a);
		if (rc == ARCHIVE_OK)
			rc = archive_write_set_format_option(a, "7zip",
							     "compression",
							     "lzma2");
		if (rc == ARCHIVE_OK)
			rc = archive_write_set_format_option(
				a, "7zip", "compression-level", "1");
	} else {
		rc = archive_write_set_format_pax_restricted(a);
		if (rc == ARCHIVE_OK)
			rc = archive_write_add_filter_gzip(a);
		if (rc == ARCHIVE_OK) /* no mtime in the gzip header */
			rc = archive_write_set_filter_option(a, "gzip",
							     "timestamp", NULL);
	}
	if (rc == ARCHIVE_OK)
		rc = archive_write_set_bytes_in_last_block(a, 1);
	if (rc == ARCHIVE_OK)
		rc = archive_write_open(a, out, NULL, arc_write_cb, NULL);
	for (unsigned i = 0; rc == ARCHIVE_OK && i < n; i++) {
		struct archive_entry *e = archive_entry_new();
		if (e == NULL)
			die("archive_entry_new failed");
		archive_entry_set_pathname(e, m[i].name);
		archive_entry_set_size(e, (la_int64_t)m[i].len);
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, 0644);
		archive_entry_set_mtime(e, 1740990000 + (time_t)i * 60, 0);
		archive_entry_set_uid(e, 1000);
		archive_entry_set_gid(e, 1000);
		archive_entry_set_uname(e, "user");
		archive_entry_set_gname(e, "user");
		rc = archive_write_header(a, e);
		for (size_t o = 0; rc == ARCHIVE_OK && o < m[i].len;) {
			la_ssize_t w = archive_write_data(a, m[i].p + o,
							  m[i].len - o);
			if (w <= 0)
				rc = ARCHIVE_FATAL;
			else
				o += (size_t)w;
		}
		archive_entry_free(e);
	}
	if (rc == ARCHIVE_OK)
		rc = archive_write_close(a);
	if (rc != ARCHIVE_OK)
		snprintf(err, errsz, "%s", archive_error_string(a)
					     ? archive_error_string(a)
					     : "unknown libarchive error");
	archive_write_free(a);
	return rc == ARCHIVE_OK ? 0 : -1;
}

static void arc_write_or_die(struct buf *out, enum arc_fmt f,
			     const struct member *m, unsigned n)
{
	char err[256];
	if (arc_write(out, f, m, n, err, sizeof(err)) < 0)
		die("libarchive could not write a %s: %s",
		    f == ARC_ZIP ? "zip" : f == ARC_7Z ? "7z" : "tar.gz", err);
}

static void member_set(struct member *m, const char *name, struct buf *b)
{
	snprintf(m->name, sizeof(m->name), "%s", name);
	m->p = buf_take(b, &m->len);
}

static void members_free(struct member *m, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		free(m[i].p);
}

/* OOXML (docx or xlsx) of about `target` bytes: the parts Word / Excel
 * write, deflated by libarchive's zip writer; a docx over 60 KB carries
 * a JPEG in word/media. */
static void gen_ooxml(struct buf *b, size_t target, int xlsx)
{
	struct member m[8];
	unsigned n = 0;
	struct buf t = {0};
	buf_printf(&t, "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone="
		   "\"yes\"?>\r\n<Types xmlns=\"http://schemas.openxmlformats"
		   ".org/package/2006/content-types\"><Default Extension=\"rels"
		   "\" ContentType=\"application/vnd.openxmlformats-package."
		   "relationships+xml\"/><Default Extension=\"xml\" "
		   "ContentType=\"application/xml\"/><Default Extension=\"jpeg"
		   "\" ContentType=\"image/jpeg\"/><Override PartName=\"/%s\" "
		   "ContentType=\"application/vnd.openxmlformats-officedocument"
		   ".%s\"/></Types>", xlsx ? "xl/workbook.xml"
					 : "word/document.xml",
		   xlsx ? "spreadsheetml.sheet.main+xml"
			: "wordprocessingml.document.main+xml");
	member_set(&m[n++], "[Content_Types].xml", &t);
	buf_printf(&t, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n"
		   "<Relationships xmlns=\"http://schemas.openxmlformats.org/"
		   "package/2006/relationships\"><Relationship Id=\"rId1\" "
		   "Type=\"http://schemas.openxmlformats.org/officeDocument/"
		   "2006/relationships/officeDocument\" Target=\"%s\"/>"
		   "</Relationships>", xlsx ? "xl/workbook.xml"
					   : "word/document.xml");
	member_set(&m[n++], "_rels/.rels", &t);
	buf_printf(&t, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n"
		   "<cp:coreProperties xmlns:cp=\"http://schemas.openxmlformats"
		   ".org/package/2006/metadata/core-properties\" xmlns:dc=\""
		   "http://purl.org/dc/elements/1.1/\"><dc:title>%s %s</dc:"
		   "title><dc:creator>%s</dc:creator></cp:coreProperties>",
		   words[rnd() % NWORDS], words[rnd() % NWORDS],
		   codenames[rnd() % (sizeof(codenames) / sizeof(codenames[0]))]);
	member_set(&m[n++], "docProps/core.xml", &t);
	size_t xml_target = target * 3; /* deflate takes XML ~4:1 */
	if (!xlsx && target > 60000) {
		gen_jpeg(&t, target * 6 / 10);
		member_set(&m[n++], "word/media/image1.jpeg", &t);
		xml_target = target * 4 / 10 * 3;
	}
	if (xlsx) {
		buf_str(&t, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n"
			    "<workbook xmlns=\"http://schemas.openxmlformats.org"
			    "/spreadsheetml/2006/main\"><sheets><sheet name=\""
			    "Sheet1\" sheetId=\"1\" r:id=\"rId1\"/></sheets>"
			    "</workbook>");
		member_set(&m[n++], "xl/workbook.xml", &t);
		buf_str(&t, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n"
			    "<worksheet xmlns=\"http://schemas.openxmlformats."
			    "org/spreadsheetml/2006/main\"><sheetData>");
		for (unsigned r = 1; t.len < xml_target; r++) {
			buf_printf(&t, "<row r=\"%u\">", r);
			for (unsigned k = 0; k < 8; k++)
				buf_printf(&t, "<c r=\"%c%u\"><v>%llu.%02u</v>"
					   "</c>", 'A' + k, r,
					   (unsigned long long)(rnd() % 100000),
					   (unsigned)(rnd() % 100));
			buf_str(&t, "</row>");
		}
		buf_str(&t, "</sheetData></worksheet>");
		member_set(&m[n++], "xl/worksheets/sheet1.xml", &t);
	} else {
		buf_str(&t, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n"
			    "<w:document xmlns:w=\"http://schemas.openxmlformats"
			    ".org/wordprocessingml/2006/main\"><w:body>");
		while (t.len < xml_target) {
			buf_str(&t, "<w:p><w:pPr><w:pStyle w:val=\"Normal\"/>"
				    "</w:pPr><w:r><w:t xml:space=\"preserve\">");
			gen_prose(&t, rnd_in(200, 1200), NULL);
			buf_str(&t, "</w:t></w:r></w:p>");
		}
		buf_str(&t, "<w:sectPr/></w:body></w:document>");
		member_set(&m[n++], "word/document.xml", &t);
		buf_str(&t, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n"
			    "<w:styles xmlns:w=\"http://schemas.openxmlformats."
			    "org/wordprocessingml/2006/main\"><w:style w:type="
			    "\"paragraph\" w:styleId=\"Normal\"><w:name w:val="
			    "\"Normal\"/></w:style></w:styles>");
		member_set(&m[n++], "word/styles.xml", &t);
	}
	arc_write_or_die(b, ARC_ZIP, m, n);
	members_free(m, n);
}

/* The types of generated files. */
enum gft {
	GF_PDF,
	GF_DOC,
	GF_DOCX,
	GF_XLSX,
	GF_PE,
	GF_JPEG,
	GF_PNG,
	GF_TEXT,
	GF_COUNT
};

static const struct {
	const char *name, *ct, *ext;
	size_t lo, hi; /* size range, log-uniform */
} gft_info[GF_COUNT] = {
	[GF_PDF] = {"PDF", "application/pdf", "pdf", 20000, 1500000},
	[GF_DOC] = {"DOC", "application/msword", "doc", 20000, 800000},
	[GF_DOCX] = {"DOCX", "application/vnd.openxmlformats-officedocument"
			     ".wordprocessingml.document", "docx", 15000,
		     1000000},
	[GF_XLSX] = {"XLSX", "application/vnd.openxmlformats-officedocument"
			     ".spreadsheetml.sheet", "xlsx", 10000, 400000},
	[GF_PE] = {"PE", "application/x-msdownload", "exe", 20000, 2000000},
	[GF_JPEG] = {"JPEG", "image/jpeg", "jpg", 30000, 800000},
	[GF_PNG] = {"PNG", "image/png", "png", 20000, 500000},
	[GF_TEXT] = {"text", "text/plain", "txt", 2000, 100000},
};

/* One file of type t, size log-uniform in its range scaled by scale/100. */
static void gen_file(struct buf *b, enum gft t, unsigned scale)
{
	size_t size = log_uniform(gft_info[t].lo * scale / 100 + 1,
				  gft_info[t].hi * scale / 100 + 2);
	switch (t) {
	case GF_PDF:
		gen_pdf_real(b, size);
		break;
	case GF_DOC:
		gen_doc(b, size);
		break;
	case GF_DOCX:
		gen_ooxml(b, size, 0);
		break;
	case GF_XLSX:
		gen_ooxml(b, size, 1);
		break;
	case GF_PE:
		gen_pe(b, size);
		break;
	case GF_JPEG:
		gen_jpeg(b, size);
		break;
	case GF_PNG:
		gen_png(b, size);
		break;
	case GF_TEXT:
	case GF_COUNT:
		gen_textfile(b, size);
		break;
	}
}

/* A type by weights w[GF_COUNT] (sum > 0). */
static enum gft pick_type(const unsigned *w)
{
	unsigned sum = 0;
	for (int t = 0; t < GF_COUNT; t++)
		sum += w[t];
	unsigned r = (unsigned)(rnd() % sum);
	for (int t = 0; t < GF_COUNT; t++) {
		if (r < w[t])
			return (enum gft)t;
		r -= w[t];
	}
	return GF_TEXT;
}

/* ---- attachment, archive and campaign corpora ------------------------- */

#define EXP_VIRUS 1u /* planted: a signature instance, EICAR, a testfile */
#define EXP_MACRO 2u /* planted: an Excel 4.0 macro workbook */

struct mmsg {
	uint8_t *p;
	size_t len;
	unsigned expect; /* EXP_* */
};

enum arc_kind { AK_ZIP, AK_NESTED, AK_7Z, AK_TGZ, AK_COUNT };
static const char *const arc_kind_names[AK_COUNT] = {"zip", "nested zip",
						     "7z", "tar.gz"};

struct mcorpus {
	struct mmsg *msgs;
	unsigned nmsgs;
	size_t raw_bytes, att_bytes; /* att_bytes: attachments, decoded */
	unsigned attachments, types[GF_COUNT], archives[AK_COUNT], members;
	unsigned planted_sig, eicar, testfiles, macro, virus_msgs, macro_msgs;
};

static void mcorpus_free(struct mcorpus *mc)
{
	for (unsigned i = 0; i < mc->nmsgs; i++)
		free(mc->msgs[i].p);
	free(mc->msgs);
	memset(mc, 0, sizeof(*mc));
}

static const char eicar[] =
	"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";

/* Debian's clamav-testfiles: clam.exe in packers, documents and
 * containers. With them, an .hdb with clam.exe's MD5 is written beside
 * the generated rules (as tests/unit/test_scan_clam.c does), so the
 * Hyperscan path finds clam.exe by its hash and libclamav finds it
 * inside the packers and formats it opens. */
#define TESTFILES "/usr/share/clamav-testfiles"
#define CLAM_EXE_MD5 "aa15bcf478d165efd2065190eb473bcb"
#define TF_MAX 16

struct testfiles {
	struct member exe[TF_MAX], doc[TF_MAX], arc[TF_MAX];
	unsigned nexe, ndoc, narc;
};

static void tf_load(struct member *m, unsigned *n, const char *const *names)
{
	for (; *names != NULL && *n < TF_MAX; names++) {
		char path[256];
		snprintf(path, sizeof(path), "%s/%s", TESTFILES, *names);
		FILE *f = fopen(path, "rb");
		if (f == NULL)
			continue;
		struct buf b = {0};
		char chunk[65536];
		size_t k;
		while ((k = fread(chunk, 1, sizeof(chunk), f)) > 0)
			buf_add(&b, chunk, k);
		fclose(f);
		member_set(&m[(*n)++], *names, &b);
	}
}

static void testfiles_load(struct testfiles *tf)
{
	static const char *const exe[] = {
		"clam.exe", "clam-upx.exe", "clam-petite.exe", "clam-fsg.exe",
		"clam-mew.exe", "clam-aspack.exe", "clam-pespin.exe",
		"clam-wwpack.exe", "clam-yc.exe", "clam-upack.exe", NULL};
	static const char *const doc[] = {"clam.pdf", "clam.ole.doc",
					  "clam.ppt", "clam.exe.rtf",
					  "clam.exe.html", NULL};
	static const char *const arc[] = {"clam.zip", "clam.7z", "clam.cab",
					  "clam.arj", "clam.tar.gz", "clam.chm",
					  NULL};
	memset(tf, 0, sizeof(*tf));
	tf_load(tf->exe, &tf->nexe, exe);
	tf_load(tf->doc, &tf->ndoc, doc);
	tf_load(tf->arc, &tf->narc, arc);
}

static void testfiles_free(struct testfiles *tf)
{
	members_free(tf->exe, tf->nexe);
	members_free(tf->doc, tf->ndoc);
	members_free(tf->arc, tf->narc);
}

/* Plant a random '*'-offset signature's instance at a random place of
 * d[from..len). */
static void plant_sig(const struct ruleset *rs, uint8_t *d, size_t len,
		      size_t from)
{
	const struct sig *s;
	do {
		s = &rs->sigs[rnd() % rs->nsigs];
	} while (!s->plantable || s->inst_len + from >= len);
	size_t at = from + rnd() % (len - from - s->inst_len);
	memcpy(d + at, s->inst, s->inst_len);
}

/* An attachment of a message being built. */
struct att {
	const char *ct;
	char name[96];
	uint8_t *p; /* owned */
	size_t len;
};

/* Header, a short text part and base64 attachments a[0..na) (freed
 * here) as message i of mc. */
static void mc_message(struct mcorpus *mc, unsigned i, struct att *a,
		       unsigned na, unsigned expect, const char *greeting)
{
	struct buf m = {0}, t = {0};
	char subject[128];
	snprintf(subject, sizeof(subject), "%s %s %s", words[rnd() % 60],
		 words[rnd() % 60], words[rnd() % 60]);
	gen_headers(&m, i, subject);
	unsigned bnd = (unsigned)(rnd() & 0xffffffff);
	buf_printf(&m, "Content-Type: multipart/mixed; boundary=\"=_m_%08x\""
		   "\r\n\r\n--=_m_%08x\r\nContent-Type: text/plain; charset="
		   "utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n",
		   bnd, bnd);
	if (greeting != NULL)
		buf_printf(&t, "%s\r\n\r\n", greeting);
	gen_prose(&t, rnd_in(300, 3000), NULL);
	qp_encode(&m, t.p, t.len);
	free(t.p);
	for (unsigned k = 0; k < na; k++) {
		buf_printf(&m, "\r\n--=_m_%08x\r\nContent-Type: %s; name=\"%s\""
			   "\r\nContent-Disposition: attachment; filename=\"%s\""
			   "\r\nContent-Transfer-Encoding: base64\r\n\r\n", bnd,
			   a[k].ct, a[k].name, a[k].name);
		b64_encode(&m, a[k].p, a[k].len);
		buf_str(&m, "\r\n");
		mc->att_bytes += a[k].len;
		mc->attachments++;
		free(a[k].p);
	}
	buf_printf(&m, "\r\n--=_m_%08x--\r\n", bnd);
	struct mmsg *mm = &mc->msgs[i];
	mm->p = buf_take(&m, &mm->len);
	mm->expect = expect;
	mc->raw_bytes += mm->len;
	mc->virus_msgs += (expect & EXP_VIRUS) != 0;
	mc->macro_msgs += (expect & EXP_MACRO) != 0;
}

static void att_set(struct att *a, const char *ct, const char *name,
		    struct buf *b)
{
	a->ct = ct;
	snprintf(a->name, sizeof(a->name), "%s", name);
	a->p = buf_take(b, &a->len);
}

static void att_copy(struct att *a, const char *ct, const struct member *m)
{
	a->ct = ct;
	snprintf(a->name, sizeof(a->name), "%s", m->name);
	a->p = xmalloc(m->len);
	memcpy(a->p, m->p, m->len);
	a->len = m->len;
}

/* Attachment-heavy: each message has a text part and 2-6 attachments:
 * PDF 24%, JPEG 18%, PE 14%, DOC 12%, DOCX 12%, PNG 12%, XLSX 8%.
 * Planted, in every 12th, 20th, 20th and 25th message (more than real
 * mail has, so that a default run of 40 messages has some of each): a
 * signature instance in a PE attachment, an EICAR attachment, a
 * clamav-testfiles sample (an executable or a document; when the package
 * is installed), a macro workbook. */
static void gen_attach_corpus(struct mcorpus *mc, unsigned n,
			      const struct ruleset *rs,
			      const struct testfiles *tf)
{
	static const unsigned w[GF_COUNT] = {
		[GF_PDF] = 24, [GF_DOC] = 12, [GF_DOCX] = 12, [GF_XLSX] = 8,
		[GF_PE] = 14, [GF_JPEG] = 18, [GF_PNG] = 12};
	mc->nmsgs = n;
	mc->msgs = xmalloc(n * sizeof(*mc->msgs));
	for (unsigned i = 0; i < n; i++) {
		struct att a[10];
		unsigned na = (unsigned)rnd_in(2, 6), expect = 0;
		int sig = i % 12 == 3, eic = i % 20 == 7, macro = i % 25 == 17;
		int tfs = i % 20 == 13 && tf->nexe + tf->ndoc > 0;
		for (unsigned k = 0; k < na; k++) {
			enum gft t = sig && k == 0 ? GF_PE : pick_type(w);
			struct buf d = {0};
			char name[64];
			gen_file(&d, t, 100);
			if (sig && k == 0) {
				plant_sig(rs, d.p, d.len, 0x400);
				mc->planted_sig++;
				expect |= EXP_VIRUS;
			}
			snprintf(name, sizeof(name), "%s-%u-%u.%s",
				 words[50 + rnd() % 60], i, k, gft_info[t].ext);
			att_set(&a[k], gft_info[t].ct, name, &d);
			mc->types[t]++;
		}
		if (eic) {
			struct buf d = {0};
			buf_str(&d, eicar);
			att_set(&a[na++], "application/octet-stream",
				"eicar.com", &d);
			mc->eicar++;
			expect |= EXP_VIRUS;
		}
		if (tfs) {
			unsigned k = (unsigned)(rnd() % (tf->nexe + tf->ndoc));
			att_copy(&a[na++], "application/octet-stream",
				 k < tf->nexe ? &tf->exe[k]
					      : &tf->doc[k - tf->nexe]);
			mc->testfiles++;
			expect |= EXP_VIRUS;
		}
		if (macro) {
			size_t len;
			uint8_t *x = ole_build_xls(1, &len);
			a[na].ct = "application/vnd.ms-excel";
			snprintf(a[na].name, sizeof(a[na].name), "figures-%u.xls",
				 i);
			a[na].p = x;
			a[na++].len = len;
			mc->macro++;
			expect |= EXP_MACRO;
		}
		mc_message(mc, i, a, na, expect, NULL);
	}
}

/* Members for an archive: k files of the archive-member weights (PE 25%,
 * PDF 20%, text 15%, DOC 10%, DOCX 10%, JPEG 10%, XLSX 5%, PNG 5%), sizes
 * at 40% of the attachment ranges. */
static unsigned gen_members(struct mcorpus *mc, struct member *m, unsigned k,
			    const char *dir)
{
	static const unsigned w[GF_COUNT] = {
		[GF_PDF] = 20, [GF_DOC] = 10, [GF_DOCX] = 10, [GF_XLSX] = 5,
		[GF_PE] = 25, [GF_JPEG] = 10, [GF_PNG] = 5, [GF_TEXT] = 15};
	for (unsigned j = 0; j < k; j++) {
		enum gft t = pick_type(w);
		struct buf d = {0};
		char name[96];
		gen_file(&d, t, 40);
		snprintf(name, sizeof(name), "%s%s-%u.%s", dir,
			 words[50 + rnd() % 60], j, gft_info[t].ext);
		member_set(&m[j], name, &d);
		mc->types[t]++;
		mc->members++;
	}
	return k;
}

/* Archive-heavy: each message has a text part, one archive (70%) or two,
 * and in 25% a PDF beside them. Archives: zip 35%, zip in zip (2 or 3
 * layers) 25%, 7z (LZMA2) 20%, tar.gz 20%, with 2-6 members each
 * (gen_members). Planted in the innermost layer of the first archive of
 * every 20th message an EICAR member, of every 16th a signature instance
 * in a PE member, of every 20th a clamav-testfiles executable; every
 * 25th message carries one of the package's containers (zip, 7z, cab,
 * arj, tar.gz, chm) as an extra attachment. can_7z 0: 7z archives are
 * written as zip. */
static void gen_archive_corpus(struct mcorpus *mc, unsigned n,
			       const struct ruleset *rs,
			       const struct testfiles *tf, int can_7z)
{
	static const char *const ct[AK_COUNT] = {
		"application/zip", "application/zip",
		"application/x-7z-compressed", "application/gzip"};
	static const char *const ext[AK_COUNT] = {"zip", "zip", "7z",
						  "tar.gz"};
	mc->nmsgs = n;
	mc->msgs = xmalloc(n * sizeof(*mc->msgs));
	for (unsigned i = 0; i < n; i++) {
		struct att a[6];
		unsigned na = 0, expect = 0;
		unsigned narc = chance(300) ? 2 : 1;
		int eic = i % 20 == 5, sig = i % 16 == 9;
		int tfe = i % 20 == 15 && tf->nexe > 0;
		int tfa = i % 25 == 20 && tf->narc > 0;
		for (unsigned k = 0; k < narc; k++) {
			unsigned r = (unsigned)(rnd() % 100);
			enum arc_kind kind = r < 35 ? AK_ZIP : r < 60 ? AK_NESTED
						   : r < 80 ? AK_7Z : AK_TGZ;
			if (kind == AK_7Z && !can_7z)
				kind = AK_ZIP;
			unsigned layers = kind == AK_NESTED
						  ? (unsigned)rnd_in(2, 3) : 1;
			struct buf inner = {0};
			for (unsigned L = layers; L >= 1; L--) {
				struct member m[10];
				unsigned nm = gen_members(
					mc, m, (unsigned)rnd_in(L == layers ? 2 : 1,
								L == layers ? 6
									    : 3),
					L == 1 ? "" : "files/");
				if (k == 0 && L == layers) {
					if (sig) {
						struct buf d = {0};
						gen_pe(&d, log_uniform(8000,
								       400000));
						plant_sig(rs, d.p, d.len, 0x400);
						member_set(&m[nm++], "bin/setup.exe",
							   &d);
						mc->planted_sig++;
						expect |= EXP_VIRUS;
					}
					if (eic) {
						struct buf d = {0};
						buf_str(&d, eicar);
						member_set(&m[nm++], "eicar.com",
							   &d);
						mc->eicar++;
						expect |= EXP_VIRUS;
					}
					if (tfe) {
						const struct member *t =
							&tf->exe[rnd() % tf->nexe];
						struct buf d = {0};
						buf_add(&d, t->p, t->len);
						member_set(&m[nm++], t->name, &d);
						mc->testfiles++;
						expect |= EXP_VIRUS;
					}
				}
				if (inner.len > 0) {
					char nn[64];
					snprintf(nn, sizeof(nn), "layer%u.zip",
						 L + 1);
					member_set(&m[nm++], nn, &inner);
					mc->members++;
				}
				arc_write_or_die(&inner, kind == AK_7Z ? ARC_7Z
							 : kind == AK_TGZ ? ARC_TGZ
									  : ARC_ZIP,
						 m, nm);
				members_free(m, nm);
			}
			char name[96];
			snprintf(name, sizeof(name), "%s-%u-%u.%s",
				 words[50 + rnd() % 60], i, k, ext[kind]);
			att_set(&a[na++], ct[kind], name, &inner);
			mc->archives[kind]++;
		}
		if (chance(250)) {
			struct buf d = {0};
			char name[64];
			gen_file(&d, GF_PDF, 100);
			snprintf(name, sizeof(name), "letter-%u.pdf", i);
			att_set(&a[na++], gft_info[GF_PDF].ct, name, &d);
			mc->types[GF_PDF]++;
		}
		if (tfa) {
			att_copy(&a[na++], "application/octet-stream",
				 &tf->arc[rnd() % tf->narc]);
			mc->testfiles++;
			expect |= EXP_VIRUS;
		}
		mc_message(mc, i, a, na, expect, NULL);
	}
}

/* Campaign: n messages to different recipients (own headers, greeting
 * and text) with the same attachment, Invoice.zip holding a PE (150 KB)
 * and a PDF (90 KB) - the two leaves libclamav's default selection
 * takes. vary: the same, but one byte of the PE and of the PDF differs
 * per message (a polymorphic campaign: every digest is new). */
static void gen_campaign(struct mcorpus *same, struct mcorpus *vary,
			 unsigned n)
{
	struct buf pe = {0}, pdf = {0};
	gen_pe(&pe, 150000);
	gen_pdf_real(&pdf, 90000);
	struct mcorpus *mcs[2] = {same, vary};
	for (int v = 0; v < 2; v++) {
		mcs[v]->nmsgs = n;
		mcs[v]->msgs = xmalloc(n * sizeof(*mcs[v]->msgs));
	}
	for (unsigned i = 0; i < n; i++) {
		for (int v = 0; v < 2; v++) {
			struct member m[2];
			struct buf d = {0};
			buf_add(&d, pe.p, pe.len);
			if (v == 1) /* in .rsrc (random bytes) */
				put32(d.p + d.len - 16, i + 1);
			member_set(&m[0], "Invoice_2025-03.exe", &d);
			buf_add(&d, pdf.p, pdf.len);
			if (v == 1) /* the binary comment on line 2 */
				for (int k = 0; k < 4; k++)
					d.p[10 + k] = (uint8_t)(0x80 |
								((i >> (7 * k)) &
								 0x7f));
			member_set(&m[1], "Terms.pdf", &d);
			struct buf z = {0};
			arc_write_or_die(&z, ARC_ZIP, m, 2);
			members_free(m, 2);
			struct att a;
			att_set(&a, "application/zip", "Invoice_2025-03.zip", &z);
			char greet[64];
			snprintf(greet, sizeof(greet), "Dear customer %u,", i);
			mcs[v]->types[GF_PE]++;
			mcs[v]->types[GF_PDF]++;
			mcs[v]->archives[AK_ZIP]++;
			mcs[v]->members += 2;
			mc_message(mcs[v], i, &a, 1, 0, greet);
		}
	}
	free(pe.p);
	free(pdf.p);
}

/* Can libarchive write 7z here (it needs liblzma)? The reason when not. */
static int can_write_7z(char *why, size_t whysz)
{
	struct buf out = {0}, d = {0};
	struct member m;
	buf_str(&d, "probe");
	member_set(&m, "probe.txt", &d);
	int ok = arc_write(&out, ARC_7Z, &m, 1, why, whysz) == 0;
	members_free(&m, 1);
	free(out.p);
	return ok;
}

/* ---- configuration with the generated content rules ------------------- */

/* Indentation of the first list item ("- ") after line `from`, or -1. */
static int item_indent(const char *from)
{
	const char *p = strchr(from, '\n');
	while (p != NULL) {
		p++;
		const char *q = p;
		while (*q == ' ')
			q++;
		if (*q == '#' || *q == '\n') {
			p = strchr(q, '\n');
			continue;
		}
		return q[0] == '-' && q[1] == ' ' ? (int)(q - p) : -1;
	}
	return -1;
}

/* Indentation of the first content line (not blank, not a comment) after
 * line `from` when it is indented; 2 when the section is empty. */
static int key_indent(const char *from)
{
	const char *p = strchr(from, '\n');
	while (p != NULL) {
		p++;
		const char *q = p;
		while (*q == ' ')
			q++;
		if (*q == '#' || *q == '\n') {
			p = strchr(q, '\n');
			continue;
		}
		return q > p && *q != '\0' ? (int)(q - p) : 2;
	}
	return 2;
}

/* How the benchmark sets the `clamav:` section of its configuration copy. */
enum clam_mode {
	CLAM_AS_GIVEN = -1, /* leave it as the file says */
	CLAM_OFF,           /* enabled: false */
	CLAM_DEFAULT,       /* enabled: true, leaves: default */
	CLAM_ALL,           /* enabled: true, leaves: all */
	CLAM_MODES
};
static const char *const clam_mode_names[CLAM_MODES] = {"off", "default",
							 "all"};

/* The configuration text with rule_cache pointed at cache_dir and the
 * generated content rules and spam keywords added at the head of the
 * content_rules and spam.keywords lists. *injected counts what went in.
 * Unless mode is CLAM_AS_GIVEN, the clamav section's `enabled` and
 * `leaves` keys are replaced (its other keys, e.g. databases, kept; the
 * section is added when the file has none). */
static char *config_text(const char *path, const char *cache_dir,
			 const struct ruleset *rs, size_t *len,
			 unsigned *injected, enum clam_mode mode)
{
	FILE *f = fopen(path, "r");
	if (f == NULL)
		die("cannot read %s: %s", path, strerror(errno));
	struct buf in = {0}, out = {0};
	char chunk[65536];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_add(&in, chunk, n);
	fclose(f);
	buf_byte(&in, '\0');
	const char *text = (const char *)in.p;
	int in_spam = 0, cache_done = 0, in_clam = 0, clam_done = 0;
	int clam_ind = 2;
	unsigned lineno = 1;
	*injected = 0;
	for (const char *line = text; *line != '\0'; lineno++) {
		const char *eol = strchr(line, '\n');
		size_t ll = eol ? (size_t)(eol - line + 1) : strlen(line);
		if (line[0] != ' ' && line[0] != '#' && line[0] != '\n') {
			in_spam = strncmp(line, "spam:", 5) == 0;
			in_clam = mode != CLAM_AS_GIVEN &&
				  strncmp(line, "clamav:", 7) == 0;
		}
		if (in_clam && strncmp(line, "clamav:", 7) == 0) {
			const char *q = line + 7;
			while (*q == ' ')
				q++;
			if (*q != '\n' && *q != '#' && *q != '\0')
				die("%s:%u: the benchmark rewrites the clamav "
				    "section and needs it in block style "
				    "(clamav: on its own line, keys below)",
				    path, lineno);
			/* Both keys in every mode: the rule cache key
			 * covers the content rules' line numbers, so all
			 * modes must keep them equal to share one cache. */
			clam_ind = key_indent(line);
			buf_printf(&out, "clamav:\n%*senabled: %s\n%*sleaves: "
				   "%s\n", clam_ind, "",
				   mode == CLAM_OFF ? "false" : "true", clam_ind,
				   "", mode == CLAM_ALL ? "all" : "default");
			clam_done = 1;
			line += ll;
			continue;
		}
		if (in_clam) {
			const char *q = line;
			while (*q == ' ')
				q++;
			if ((int)(q - line) == clam_ind &&
			    (strncmp(q, "enabled:", 8) == 0 ||
			     strncmp(q, "leaves:", 7) == 0)) {
				line += ll;
				continue;
			}
		}
		if (strncmp(line, "rule_cache:", 11) == 0) {
			buf_printf(&out, "rule_cache: \"%s\"\n", cache_dir);
			cache_done = 1;
		} else {
			buf_add(&out, line, ll);
		}
		if (strncmp(line, "content_rules:", 14) == 0) {
			int ind = item_indent(line);
			for (unsigned i = 0; ind >= 0 && i < rs->ncr; i++) {
				buf_printf(&out, "%*s- name: bench-cr-%04u\n"
					   "%*s  keyword: \"%s\"\n"
					   "%*s  where: [body, attachment]\n"
					   "%*s  class: %s\n", ind, "", i, ind, "",
					   rs->cr[i], ind, "", ind, "",
					   i % 3 ? "block" : "confidential");
				(*injected)++;
			}
		}
		if (in_spam && strncmp(line, "  keywords:", 11) == 0) {
			int ind = item_indent(line);
			for (unsigned i = 0; ind >= 0 && i < rs->nsk; i++) {
				buf_printf(&out, "%*s- {name: bench-sk-%04u, "
					   "keyword: \"%s\", weight: %u%s}\n",
					   ind, "", i, rs->sk[i], i % 4 + 1,
					   i % 2 ? ", word: yes" : "");
				(*injected)++;
			}
		}
		line += ll;
	}
	if (!cache_done)
		buf_printf(&out, "\nrule_cache: \"%s\"\n", cache_dir);
	if (mode != CLAM_AS_GIVEN && !clam_done) {
		buf_printf(&out, "\nclamav:\n  enabled: %s\n  leaves: %s\n",
			   mode == CLAM_OFF ? "false" : "true",
			   mode == CLAM_ALL ? "all" : "default");
	}
	free(in.p);
	return (char *)buf_take(&out, len);
}

/* ---- libclamav -------------------------------------------------------- */

struct clam {
	struct cl_engine *engine;
	unsigned sigs;
	double load_s, load_wall;
	long long rss_delta;
};

static void clam_load(struct clam *cl, const char *dir)
{
	cl_error_t ce = cl_init(CL_INIT_DEFAULT);
	if (ce != CL_SUCCESS)
		die("cl_init: %s", cl_strerror(ce));
	long long rss0 = rss_bytes();
	double t0 = now(), c0 = cpu_now();
	cl->engine = cl_engine_new();
	if (cl->engine == NULL)
		die("cl_engine_new failed");
	/* Repeated runs over the same leaves must not hit the clean cache. */
	cl_engine_set_num(cl->engine, CL_ENGINE_DISABLE_CACHE, 1);
	cl->sigs = 0;
	ce = cl_load(dir, cl->engine, &cl->sigs, CL_DB_STDOPT);
	if (ce != CL_SUCCESS)
		die("cl_load %s: %s", dir, cl_strerror(ce));
	ce = cl_engine_compile(cl->engine);
	if (ce != CL_SUCCESS)
		die("cl_engine_compile: %s", cl_strerror(ce));
	cl->load_s = cpu_now() - c0;
	cl->load_wall = now() - t0;
	cl->rss_delta = rss_bytes() - rss0;
}

/* ---- measurements on the message corpora ------------------------------ */

/* scan_message() over one corpus with one clamav mode. */
struct mode_res {
	int done;
	double s, wall, msgs_s, raw_mb_s, scanned_mb_s;
	uint64_t scanned;  /* bytes of all leaves (members included), run 1 */
	unsigned leaves;
	unsigned cls[SCAN_MALFORMED + 1];
	unsigned virus_found, virus_other; /* planted / not planted */
	unsigned macro_found;
	int have_stats;
	struct clam_stats st; /* libclamav counters of run 1 */
	/* run 1's libclamav scans by the leaf's true type (from the
	 * --explain trace: "libclamav part N: ... (scanned, X ms"); empty if
	 * that format changes */
	double type_ms[SCAN_FT_COUNT];
	unsigned type_n[SCAN_FT_COUNT];
	uint64_t type_bytes[SCAN_FT_COUNT];
};

#define EXPLAIN_CAP (4u << 20)

/* Add the libclamav scans of v's explain trace to mr's per-type sums. */
static void tally_clam_types(const struct scan_verdict *v,
			     struct mode_res *mr)
{
	static const char tag[] = "  libclamav part ";
	const char *p = v->explain, *end = v->explain + v->explain_len;
	while (p != NULL && p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *q = eol != NULL ? eol : end;
		int id;
		if ((size_t)(q - p) > sizeof(tag) &&
		    memcmp(p, tag, sizeof(tag) - 1) == 0 &&
		    sscanf(p + sizeof(tag) - 1, "%d:", &id) == 1) {
			const char *m = memmem(p, (size_t)(q - p), "(scanned, ",
					       10);
			for (unsigned k = 0; m != NULL && k < v->nparts; k++) {
				enum scan_ftype t;
				if (v->parts[k].id != id ||
				    scan_ftype_parse(v->parts[k].true_type,
						     &t) < 0)
					continue;
				mr->type_ms[t] += strtod(m + 10, NULL);
				mr->type_n[t]++;
				mr->type_bytes[t] += v->parts[k].size;
				break;
			}
		}
		p = eol != NULL ? eol + 1 : NULL;
	}
}

static void diag_count(void *ctx, const char *file, unsigned line,
		       const char *msg)
{
	(void)file;
	(void)line;
	(void)msg;
	(*(unsigned *)ctx)++;
}

/* An engine for cfg with the generated rules, without output (warm: the
 * rule cache is filled by then). */
static struct scan_engine *engine_quiet(const struct scan_config *cfg,
					const char *sigdir)
{
	const char *extra[] = {sigdir, NULL};
	char err[1024];
	unsigned ndiag = 0;
	struct scan_engine *e;
	int rc = scan_engine_create(cfg, extra, diag_count, &ndiag, &e, err,
				    sizeof(err));
	if (rc < 0)
		die("scan_engine_create: %s (%s)", err, strerror(-rc));
	return e;
}

static int has_finding(const struct scan_verdict *v, enum scan_finding_kind k)
{
	for (unsigned i = 0; i < v->nfindings; i++)
		if (v->findings[i].kind == k)
			return 1;
	return 0;
}

/* Every run gets a new engine (not timed), so that libclamav's verdict
 * cache starts cold: the corpus's leaves are unique, and run 2 would
 * otherwise find all of them cached. */
static void run_mode(const struct mmsg *msgs, unsigned n,
		     const struct scan_config *cfg, const char *sigdir,
		     int runs, const char *label, struct mode_res *mr)
{
	struct scan_verdict *v = xmalloc(sizeof(*v));
	int clam_on = scan_config_clamav(cfg)->enabled;
	char *explain = clam_on ? xmalloc(EXPLAIN_CAP) : NULL;
	struct runs t = {.n = 0};
	size_t raw = 0;
	memset(mr, 0, sizeof(*mr));
	for (unsigned i = 0; i < n; i++)
		raw += msgs[i].len;
	for (int r = 0; r < runs; r++) {
		struct scan_engine *e = engine_quiet(cfg, sigdir);
		struct scan_ctx *ctx = scan_ctx_create(e);
		if (ctx == NULL)
			die("scan_ctx_create failed");
		run_start(&t);
		for (unsigned i = 0; i < n; i++) {
			/* run 1 with libclamav: the trace, for the time by
			 * type (a few lines per part: small beside
			 * libclamav's time per leaf) */
			int rc = scan_message(ctx, msgs[i].p, msgs[i].len, NULL,
					      r == 0 ? explain : NULL,
					      r == 0 && explain ? EXPLAIN_CAP
								: 0, v);
			if (rc < 0)
				die("%s: scan_message(%u): %s", label, i,
				    strerror(-rc));
			if (r > 0)
				continue;
			if (explain != NULL)
				tally_clam_types(v, mr);
			for (unsigned k = 0; k < v->nparts; k++) {
				if (!v->parts[k].leaf)
					continue;
				mr->scanned += v->parts[k].size;
				mr->leaves++;
			}
			mr->cls[v->cls]++;
			int vir = has_finding(v, SCAN_F_VIRUS);
			if (msgs[i].expect & EXP_VIRUS)
				mr->virus_found += (unsigned)vir;
			else
				mr->virus_other += (unsigned)vir;
			if (msgs[i].expect & EXP_MACRO)
				mr->macro_found +=
					(unsigned)has_finding(v, SCAN_F_MACRO);
		}
		run_stop(&t, label);
		if (r == 0)
			mr->have_stats = scan_ctx_clam_stats(ctx, &mr->st) == 0;
		scan_ctx_free(ctx);
		scan_engine_free(e);
	}
	run_medians(&t, &mr->s, &mr->wall);
	mr->msgs_s = n / mr->s;
	mr->raw_mb_s = (double)raw / mr->s / 1e6;
	mr->scanned_mb_s = (double)mr->scanned / mr->s / 1e6;
	mr->done = 1;
	free(explain);
	free(v);
}

/* The campaign: cold (a new engine's first pass: each distinct leaf is
 * scanned once, then found in the cache), warm (the same engine's second
 * pass), vary (one byte differs per message: nothing to find in the
 * cache) and off (no libclamav: the floor). */
enum camp_pass { CP_OFF, CP_COLD, CP_WARM, CP_VARY, CP_COUNT };
static const char *const camp_pass_names[CP_COUNT] = {"off", "cold", "warm",
						      "vary"};

struct camp_res {
	int done;
	unsigned n;
	size_t raw_bytes, att_len;
	double s[CP_COUNT], wall[CP_COUNT], msgs_s[CP_COUNT];
	struct clam_stats st[CP_COUNT]; /* run 1; warm: its pass alone */
	unsigned cls[CP_COUNT][SCAN_MALFORMED + 1]; /* verdicts, run 1 */
	size_t cache_slots, cache_bytes;
};

static void pass_once(struct scan_ctx *ctx, const struct mcorpus *mc,
		      struct scan_verdict *v, struct runs *t,
		      const char *label, unsigned *cls)
{
	memset(cls, 0, (SCAN_MALFORMED + 1) * sizeof(*cls));
	run_start(t);
	for (unsigned i = 0; i < mc->nmsgs; i++) {
		int rc = scan_message(ctx, mc->msgs[i].p, mc->msgs[i].len, NULL,
				      NULL, 0, v);
		if (rc < 0)
			die("%s: scan_message(%u): %s", label, i,
			    strerror(-rc));
		cls[v->cls]++;
	}
	run_stop(t, label);
}

static void stats_sub(struct clam_stats *a, const struct clam_stats *b)
{
	a->scans -= b->scans;
	a->cache_hits -= b->cache_hits;
	a->cache_misses -= b->cache_misses;
	a->cache_stores -= b->cache_stores;
	a->cache_store_skipped -= b->cache_store_skipped;
	a->lib_scans -= b->lib_scans;
	a->lib_ns -= b->lib_ns;
	a->lib_bytes -= b->lib_bytes;
	a->detections -= b->detections;
	a->errors -= b->errors;
	a->lib_messages -= b->lib_messages;
}

static void run_campaign(const struct mcorpus *same,
			 const struct mcorpus *vary,
			 const struct scan_config *cfg_off,
			 const struct scan_config *cfg_def, const char *sigdir,
			 int runs, struct camp_res *cr)
{
	struct scan_verdict *v = xmalloc(sizeof(*v));
	struct runs t[CP_COUNT];
	memset(t, 0, sizeof(t));
	cr->n = same->nmsgs;
	cr->raw_bytes = same->raw_bytes;
	cr->att_len = same->att_bytes / same->nmsgs;
	for (int r = 0; r < runs; r++) {
		struct clam_stats s0;
		unsigned cls[SCAN_MALFORMED + 1];
		/* off */
		struct scan_engine *e = engine_quiet(cfg_off, sigdir);
		struct scan_ctx *ctx = scan_ctx_create(e);
		if (ctx == NULL)
			die("scan_ctx_create failed");
		pass_once(ctx, same, v, &t[CP_OFF], "campaign off", cls);
		if (r == 0)
			memcpy(cr->cls[CP_OFF], cls, sizeof(cls));
		scan_ctx_free(ctx);
		scan_engine_free(e);
		/* cold, then warm on the same engine */
		e = engine_quiet(cfg_def, sigdir);
		ctx = scan_ctx_create(e);
		if (ctx == NULL)
			die("scan_ctx_create failed");
		pass_once(ctx, same, v, &t[CP_COLD], "campaign cold", cls);
		if (scan_ctx_clam_stats(ctx, &s0) < 0)
			die("campaign: the engine has no libclamav");
		if (r == 0) {
			cr->st[CP_COLD] = s0;
			memcpy(cr->cls[CP_COLD], cls, sizeof(cls));
		}
		pass_once(ctx, same, v, &t[CP_WARM], "campaign warm", cls);
		if (r == 0) {
			scan_ctx_clam_stats(ctx, &cr->st[CP_WARM]);
			stats_sub(&cr->st[CP_WARM], &s0);
			memcpy(cr->cls[CP_WARM], cls, sizeof(cls));
		}
		scan_ctx_free(ctx);
		scan_engine_free(e);
		/* one byte differs per message */
		e = engine_quiet(cfg_def, sigdir);
		ctx = scan_ctx_create(e);
		if (ctx == NULL)
			die("scan_ctx_create failed");
		pass_once(ctx, vary, v, &t[CP_VARY], "campaign vary", cls);
		if (r == 0) {
			scan_ctx_clam_stats(ctx, &cr->st[CP_VARY]);
			memcpy(cr->cls[CP_VARY], cls, sizeof(cls));
		}
		scan_ctx_free(ctx);
		scan_engine_free(e);
	}
	for (int p = 0; p < CP_COUNT; p++) {
		run_medians(&t[p], &cr->s[p], &cr->wall[p]);
		cr->msgs_s[p] = cr->n / cr->s[p];
	}
	/* The cache the pipeline creates: clam_cache_create(0) (scan_clam.c),
	 * so its default size. */
	struct clam_cache *k = clam_cache_create(0);
	if (k == NULL)
		die("clam_cache_create failed");
	cr->cache_slots = clam_cache_slots(k);
	cr->cache_bytes = clam_cache_memory(k);
	clam_cache_free(k);
	cr->done = 1;
	free(v);
}

struct corpus_res {
	int done;
	struct mcorpus c; /* counts (messages freed) */
	struct mode_res m[CLAM_MODES];
};

/* ---- measurements ----------------------------------------------------- */

struct results {
	/* rules */
	unsigned ndb_written, hsb_written, hdb_written, db_rules, injected,
		clam_sigs;
	int testfiles; /* clamav-testfiles found */
	/* a */
	double a_s, a_wall, a_msgs_s, a_dec_mb_s, a_raw_mb_s;
	uint64_t a_decoded;
	unsigned a_leaves, a_size_mismatch;
	unsigned a_cls[SCAN_MALFORMED + 1];
	/* b, b2 */
	double b_s, b_wall, b_gb_s, b2_s, b2_wall, b2_gb_s;
	unsigned b_infected, b_content_msgs, b_spam_msgs;
	/* c */
	double c_s, c_wall, c_gb_s;
	unsigned c_infected, c_errors;
	/* d */
	size_t db_mem;
	long long rss_cold, rss_warm, clam_rss;
	/* e */
	double cold_s, warm_s, clam_load_s; /* cpu */
	double cold_wall, warm_wall, clam_load_wall;
	int warm_cached;
	/* a2: the pipeline with libclamav on the default leaves; d2/e2: an
	 * engine with libclamav (warm rule cache) */
	struct mode_res a2;
	unsigned a2_msgs;
	double clam_engine_s, clam_engine_wall;
	long long clam_engine_rss;
	/* the other corpora */
	struct corpus_res attach, archive;
	struct camp_res campaign;
	char note_7z[200];
};

static void diag_print(void *ctx, const char *file, unsigned line,
		       const char *msg)
{
	unsigned *n = ctx;
	if ((*n)++ < 5)
		note("  signature diag: %s:%u: %s\n", file, line, msg);
}

static struct scan_engine *engine_build(const struct scan_config *cfg,
					const char *sigdir, double *secs,
					double *cpu, long long *rss)
{
	const char *extra[] = {sigdir, NULL};
	char err[1024];
	unsigned ndiag = 0;
	struct scan_engine *e;
	long long r0 = rss_bytes();
	double t0 = now(), c0 = cpu_now();
	int rc = scan_engine_create(cfg, extra, diag_print, &ndiag, &e, err,
				    sizeof(err));
	*cpu = cpu_now() - c0;
	*secs = now() - t0;
	if (rc < 0)
		die("scan_engine_create: %s (%s)", err, strerror(-rc));
	*rss = rss_bytes() - r0;
	if (ndiag > 0)
		note("  %u signature lines rejected by the rule loader\n",
		     ndiag);
	return e;
}

static void run_pipeline(const struct corpus *c, struct scan_engine *e,
			 int runs, struct results *res)
{
	struct scan_ctx *ctx = scan_ctx_create(e);
	struct scan_verdict *v = xmalloc(sizeof(*v));
	struct runs t = {.n = 0};
	if (ctx == NULL)
		die("scan_ctx_create failed");
	for (int r = 0; r < runs; r++) {
		run_start(&t);
		for (unsigned i = 0; i < c->nmsgs; i++) {
			const struct msg *m = &c->msgs[i];
			int rc = scan_message(ctx, m->p, m->len, NULL, NULL, 0,
					      v);
			if (rc < 0)
				die("scan_message(%u): %s", i, strerror(-rc));
			if (r > 0)
				continue;
			/* first run: what was decoded, what was found */
			uint64_t dec = 0;
			unsigned nl = 0;
			for (unsigned k = 0; k < v->nparts; k++) {
				if (!v->parts[k].leaf)
					continue;
				dec += v->parts[k].size;
				nl++;
			}
			uint64_t want = 0;
			for (unsigned k = 0; k < m->nleaves; k++)
				want += c->leaves[m->leaf0 + k].len;
			if (dec != want || nl != m->nleaves)
				res->a_size_mismatch++;
			res->a_decoded += dec;
			res->a_leaves += nl;
			res->a_cls[v->cls]++;
		}
		run_stop(&t, "(a)");
	}
	run_medians(&t, &res->a_s, &res->a_wall);
	res->a_msgs_s = c->nmsgs / res->a_s;
	res->a_dec_mb_s = (double)res->a_decoded / res->a_s / 1e6;
	res->a_raw_mb_s = (double)c->raw_bytes / res->a_s / 1e6;
	free(v);
	scan_ctx_free(ctx);
}

/* b: scan_db_scan() over every leaf (hits reset per message, as the
 * pipeline does); b2: plus the digests and the hash look-up, gated as in
 * scan_leaf(). */
static void run_hyperscan(const struct corpus *c, const struct scan_db *db,
			  int runs, int with_hashes, struct results *res)
{
	struct scan_db_scratch *s = scan_db_scratch_create(db);
	struct runs t = {.n = 0};
	if (s == NULL)
		die("scan_db_scratch_create failed");
	for (int r = 0; r < runs; r++) {
		unsigned infected = 0, content = 0, spam = 0;
		run_start(&t);
		for (unsigned i = 0; i < c->nmsgs; i++) {
			const struct msg *m = &c->msgs[i];
			scan_db_hits_reset(s);
			for (unsigned k = 0; k < m->nleaves; k++) {
				const struct leaf *l = &c->leaves[m->leaf0 + k];
				int rc = scan_db_scan(db, s, l->p, l->len,
						      l->where, (int)k);
				if (rc < 0)
					die("scan_db_scan: %s", strerror(-rc));
				if (with_hashes) {
					/* As scan_leaf(): SHA-256 always,
					 * MD5/SHA-1 only when a hash
					 * signature of this size exists. */
					uint8_t md5[16], sha1[20], sha256[32];
					unsigned need =
						scan_db_hash_needs(db, l->len);
					uint8_t *m5 = need & SCAN_HASH_MD5
							      ? md5 : NULL;
					uint8_t *s1 = need & SCAN_HASH_SHA1
							      ? sha1 : NULL;
					scan_hash_all(l->p, l->len, m5, s1,
						      sha256);
					scan_db_hash_match(db, s, m5, s1,
							   sha256, l->len,
							   (int)k);
				}
			}
			if (r > 0)
				continue;
			const struct scan_hit *hits;
			unsigned nh = scan_db_hits(s, &hits);
			uint64_t leafmask = 0;
			int has_c = 0, has_s = 0;
			for (unsigned h = 0; h < nh; h++) {
				const struct scan_rule *ru =
					scan_db_rule(db, hits[h].rule);
				if (ru->kind == SCAN_RULE_VIRUS &&
				    hits[h].part < 64)
					leafmask |= 1ull << hits[h].part;
				has_c |= ru->kind == SCAN_RULE_CONTENT;
				has_s |= ru->kind == SCAN_RULE_SPAM;
			}
			infected += (unsigned)__builtin_popcountll(leafmask);
			content += (unsigned)has_c;
			spam += (unsigned)has_s;
		}
		run_stop(&t, with_hashes ? "(b2)" : "(b)");
		if (r == 0 && !with_hashes) {
			res->b_infected = infected;
			res->b_content_msgs = content;
			res->b_spam_msgs = spam;
		}
		if (r == 0 && with_hashes)
			res->b_infected = infected; /* now with hash hits */
	}
	if (with_hashes) {
		run_medians(&t, &res->b2_s, &res->b2_wall);
		res->b2_gb_s = (double)c->decoded_bytes / res->b2_s / 1e9;
	} else {
		run_medians(&t, &res->b_s, &res->b_wall);
		res->b_gb_s = (double)c->decoded_bytes / res->b_s / 1e9;
	}
	scan_db_scratch_free(s);
}

/* c: libclamav on every leaf as a raw scan. Options: general 0 (first
 * match ends the scan, as clamscan without --allmatch), parse 0 (no
 * archive/PE/OLE2/PDF/HTML/mail parsers), heuristic 0, mail 0, dev 0;
 * engine cache disabled (see clam_load). */
static void run_clamav(const struct corpus *c, const struct clam *cl,
		       int runs, struct results *res)
{
	struct cl_scan_options opts;
	struct runs t = {.n = 0};
	memset(&opts, 0, sizeof(opts));
	for (int r = 0; r < runs; r++) {
		unsigned infected = 0, errors = 0;
		run_start(&t);
		for (unsigned i = 0; i < c->nleaves; i++) {
			const struct leaf *l = &c->leaves[i];
			cl_fmap_t *map = cl_fmap_open_memory(l->p, l->len);
			const char *virname = NULL;
			unsigned long scanned = 0;
			if (map == NULL)
				die("cl_fmap_open_memory failed");
			cl_error_t ce = cl_scanmap_callback(
				map, NULL, &virname, &scanned, cl->engine, &opts,
				NULL);
			cl_fmap_close(map);
			if (ce == CL_VIRUS)
				infected++;
			else if (ce != CL_CLEAN)
				errors++;
		}
		run_stop(&t, "(c)");
		res->c_infected = infected;
		res->c_errors = errors;
	}
	run_medians(&t, &res->c_s, &res->c_wall);
	res->c_gb_s = (double)c->decoded_bytes / res->c_s / 1e9;
}

/* ---- output ----------------------------------------------------------- */

static const char *met(int ok)
{
	return ok ? "met" : "NOT met";
}

static const char *const mode_labels[CLAM_MODES] = {
	"libclamav off", "default leaves", "every leaf"};

static void print_mode_row(const char *label, const struct mode_res *m,
			   unsigned nmsgs)
{
	if (!m->done)
		return;
	printf("  %-15s %8.1f %9.1f %9.1f %7.2f", label, m->msgs_s,
	       m->raw_mb_s, m->scanned_mb_s, m->wall);
	if (m->have_stats)
		printf(" %7llu %7.1f %7.1f %6llu",
		       (unsigned long long)m->st.lib_scans,
		       (double)m->st.lib_bytes / 1e6,
		       (double)m->st.lib_ns / 1e6 / nmsgs,
		       (unsigned long long)m->st.cache_hits);
	else
		printf(" %7s %7s %7s %6s", "-", "-", "-", "-");
	printf("  %4u %4u %4u\n", m->virus_found, m->virus_other,
	       m->macro_found);
}

/* "pdf 1234 ms (51, 20.1 MB), ..." for the types libclamav spent the
 * most time on, largest first. */
static void print_clam_types(const char *label, const struct mode_res *m)
{
	int used[SCAN_FT_COUNT] = {0}, shown = 0;
	double total = 0;
	for (int t = 0; t < SCAN_FT_COUNT; t++)
		total += m->type_ms[t];
	if (!m->done || total <= 0)
		return;
	printf("    libclamav time by true type, %s (run 1, %.0f ms):",
	       label, total);
	for (;;) {
		int best = -1;
		for (int t = 0; t < SCAN_FT_COUNT; t++)
			if (!used[t] && m->type_n[t] > 0 &&
			    (best < 0 || m->type_ms[t] > m->type_ms[best]))
				best = t;
		if (best < 0)
			break;
		used[best] = 1;
		printf("%s%s %.0f%% (%u, %.1f MB, %.1f MB/s)",
		       shown++ % 3 ? ", " : "\n      ",
		       scan_ftype_name((enum scan_ftype)best),
		       100.0 * m->type_ms[best] / total, m->type_n[best],
		       (double)m->type_bytes[best] / 1e6,
		       m->type_ms[best] > 0 ? (double)m->type_bytes[best] /
						      m->type_ms[best] / 1e3
					    : 0.0);
	}
	printf("\n");
}

static void print_corpus(const char *title, const struct corpus_res *cr)
{
	const struct mcorpus *c = &cr->c;
	if (!cr->done)
		return;
	printf("\n%s: %u messages, %.1f MB raw, %u attachments (%.1f MB "
	       "decoded)\n  files:", title, c->nmsgs, (double)c->raw_bytes / 1e6,
	       c->attachments, (double)c->att_bytes / 1e6);
	for (int t = 0; t < GF_COUNT; t++)
		if (c->types[t] > 0)
			printf(" %s %u", gft_info[t].name, c->types[t]);
	if (c->members > 0) {
		printf(";\n  archives:");
		for (int k = 0; k < AK_COUNT; k++)
			printf(" %s %u", arc_kind_names[k], c->archives[k]);
		printf(", %u members (files above include them)", c->members);
	}
	printf("\n  planted: %u signature instances, %u EICAR, %u "
	       "clamav-testfiles samples, %u macro workbooks; %u messages "
	       "should be virus, %u macro\n", c->planted_sig, c->eicar,
	       c->testfiles, c->macro, c->virus_msgs, c->macro_msgs);
	printf("  %-15s %8s %9s %9s %7s %7s %7s %7s %6s  %4s %4s %4s\n",
	       "libclamav", "msg/s", "raw MB/s", "scan MB/s", "wall s",
	       "lib", "lib MB", "lib ms", "cache", "vir", "vir", "mac");
	printf("  %-15s %8s %9s %9s %7s %7s %7s %7s %6s  %4s %4s %4s\n", "",
	       "", "", "", "(median)", "scans", "", "/msg", "hits", "plnt",
	       "othr", "");
	for (int k = 0; k < CLAM_MODES; k++)
		print_mode_row(mode_labels[k], &cr->m[k], c->nmsgs);
	for (int k = CLAM_DEFAULT; k < CLAM_MODES; k++)
		print_clam_types(mode_labels[k], &cr->m[k]);
	printf("  (scan MB/s: decoded bytes of every leaf, archive members "
	       "included: %.1f MB per pass)\n",
	       (double)cr->m[CLAM_OFF].scanned / 1e6);
}

static void print_campaign(const struct camp_res *cr)
{
	static const char *const labels[CP_COUNT] = {
		"libclamav off (floor)", "cache cold (new engine)",
		"cache warm (second pass)",
		"one byte differs per message"};
	if (!cr->done)
		return;
	printf("\ncampaign: %u messages to different recipients, the same "
	       "attachment (Invoice_2025-03.zip, %.0f KB: a 150 KB PE and a "
	       "90 KB PDF), %.1f MB raw;\n  libclamav on the default leaves; "
	       "verdict cache %zu slots (%.1f MiB)\n", cr->n,
	       (double)cr->att_len / 1e3, (double)cr->raw_bytes / 1e6,
	       cr->cache_slots, (double)cr->cache_bytes / 1048576.0);
	printf("  %-30s %8s %7s %7s %7s %7s %8s  %s\n", "pass", "msg/s",
	       "wall s", "hits", "misses", "lib", "lib ms", "verdicts");
	for (int p = 0; p < CP_COUNT; p++) {
		const struct clam_stats *s = &cr->st[p];
		printf("  %-30s %8.1f %7.2f", labels[p], cr->msgs_s[p],
		       cr->wall[p]);
		if (p == CP_OFF)
			printf(" %7s %7s %7s %8s", "-", "-", "-", "-");
		else
			printf(" %7llu %7llu %7llu %8.1f",
			       (unsigned long long)s->cache_hits,
			       (unsigned long long)s->cache_misses,
			       (unsigned long long)s->lib_scans,
			       (double)s->lib_ns / 1e6);
		for (int k = 0, first = 1; k <= SCAN_MALFORMED; k++)
			if (cr->cls[p][k] > 0) {
				printf("%s%u %s", first ? "  " : ", ",
				       cr->cls[p][k],
				       scan_class_name((enum scan_class)k));
				first = 0;
			}
		printf("\n");
	}
	const struct clam_stats *v = &cr->st[CP_VARY];
	if (v->lib_scans > 0)
		printf("  libclamav time per leaf it scans: %.2f ms (%.0f KB); "
		       "warm / cold = %.2fx, warm / one-byte-differs = %.2fx\n",
		       (double)v->lib_ns / 1e6 / (double)v->lib_scans,
		       (double)v->lib_bytes / 1e3 / (double)v->lib_scans,
		       cr->msgs_s[CP_WARM] / cr->msgs_s[CP_COLD],
		       cr->msgs_s[CP_WARM] / cr->msgs_s[CP_VARY]);
}

static void json_stats(const struct clam_stats *s)
{
	printf("{\"scans\":%llu,\"cache_hits\":%llu,\"cache_misses\":%llu,"
	       "\"cache_stores\":%llu,\"lib_scans\":%llu,\"lib_bytes\":%llu,"
	       "\"lib_seconds\":%.4f,\"detections\":%llu,\"errors\":%llu}",
	       (unsigned long long)s->scans,
	       (unsigned long long)s->cache_hits,
	       (unsigned long long)s->cache_misses,
	       (unsigned long long)s->cache_stores,
	       (unsigned long long)s->lib_scans,
	       (unsigned long long)s->lib_bytes, (double)s->lib_ns / 1e9,
	       (unsigned long long)s->detections,
	       (unsigned long long)s->errors);
}

static void json_mode(const struct mode_res *m)
{
	printf("{\"seconds\":%.4f,\"wall_seconds\":%.4f,\"msgs_per_s\":%.1f,"
	       "\"raw_mb_per_s\":%.2f,\"scanned_mb_per_s\":%.2f,"
	       "\"scanned_bytes\":%llu,\"leaves\":%u,\"verdicts\":{\"clean\":"
	       "%u,\"virus\":%u,\"spam\":%u,\"content\":%u,\"attachment\":%u,"
	       "\"encrypted\":%u,\"macro\":%u,\"limit\":%u,\"malformed\":%u},"
	       "\"virus_found_planted\":%u,\"virus_other\":%u,"
	       "\"macro_found\":%u,\"clamav\":", m->s, m->wall, m->msgs_s,
	       m->raw_mb_s, m->scanned_mb_s, (unsigned long long)m->scanned,
	       m->leaves, m->cls[SCAN_CLEAN], m->cls[SCAN_VIRUS],
	       m->cls[SCAN_SPAM], m->cls[SCAN_CONTENT], m->cls[SCAN_ATTACHMENT],
	       m->cls[SCAN_ENCRYPTED], m->cls[SCAN_MACRO], m->cls[SCAN_LIMIT],
	       m->cls[SCAN_MALFORMED], m->virus_found, m->virus_other,
	       m->macro_found);
	if (m->have_stats)
		json_stats(&m->st);
	else
		printf("null");
	printf(",\"clamav_by_type\":{");
	for (int t = 0, first = 1; t < SCAN_FT_COUNT; t++) {
		if (m->type_n[t] == 0)
			continue;
		printf("%s\"%s\":{\"leaves\":%u,\"bytes\":%llu,"
		       "\"ms\":%.1f}", first ? "" : ",",
		       scan_ftype_name((enum scan_ftype)t), m->type_n[t],
		       (unsigned long long)m->type_bytes[t], m->type_ms[t]);
		first = 0;
	}
	printf("}}");
}

static void json_corpus(const char *key, const struct corpus_res *cr)
{
	const struct mcorpus *c = &cr->c;
	printf(",\"%s\":", key);
	if (!cr->done) {
		printf("null");
		return;
	}
	printf("{\"messages\":%u,\"raw_bytes\":%zu,\"attachments\":%u,"
	       "\"attachment_bytes\":%zu,\"members\":%u,\"files\":{",
	       c->nmsgs, c->raw_bytes, c->attachments, c->att_bytes,
	       c->members);
	for (int t = 0; t < GF_COUNT; t++)
		printf("%s\"%s\":%u", t ? "," : "", gft_info[t].ext,
		       c->types[t]);
	printf("},\"archives\":{");
	for (int k = 0; k < AK_COUNT; k++)
		printf("%s\"%s\":%u", k ? "," : "",
		       k == AK_NESTED ? "nested_zip" : k == AK_TGZ
			       ? "tar_gz" : arc_kind_names[k], c->archives[k]);
	printf("},\"planted\":{\"signatures\":%u,\"eicar\":%u,\"testfiles\":"
	       "%u,\"macro\":%u,\"virus_msgs\":%u,\"macro_msgs\":%u},"
	       "\"modes\":{", c->planted_sig, c->eicar, c->testfiles, c->macro,
	       c->virus_msgs, c->macro_msgs);
	for (int k = 0; k < CLAM_MODES; k++) {
		printf("%s\"%s\":", k ? "," : "", clam_mode_names[k]);
		json_mode(&cr->m[k]);
	}
	printf("}}");
}

static void json_campaign(const struct camp_res *cr)
{
	printf(",\"campaign\":");
	if (!cr->done) {
		printf("null");
		return;
	}
	printf("{\"messages\":%u,\"raw_bytes\":%zu,\"attachment_bytes\":%zu,"
	       "\"clamav_leaves\":\"default\",\"cache_slots\":%zu,"
	       "\"cache_bytes\":%zu,\"passes\":{", cr->n, cr->raw_bytes,
	       cr->att_len, cr->cache_slots, cr->cache_bytes);
	for (int p = 0; p < CP_COUNT; p++) {
		printf("%s\"%s\":{\"seconds\":%.4f,\"wall_seconds\":%.4f,"
		       "\"msgs_per_s\":%.1f,\"verdicts\":{", p ? "," : "",
		       camp_pass_names[p], cr->s[p], cr->wall[p],
		       cr->msgs_s[p]);
		for (int k = 0; k <= SCAN_MALFORMED; k++)
			printf("%s\"%s\":%u", k ? "," : "",
			       scan_class_name((enum scan_class)k),
			       cr->cls[p][k]);
		printf("},\"clamav\":");
		if (p == CP_OFF)
			printf("null");
		else
			json_stats(&cr->st[p]);
		printf("}");
	}
	printf("}}");
}

static void print_table(const struct corpus *c, const struct results *r,
			int runs, int clam_runs)
{
	double b_ratio = r->b_gb_s / r->c_gb_s;
	double b2_ratio = r->b2_gb_s / r->c_gb_s;
	double a_ratio = r->a_dec_mb_s / 1e3 / r->c_gb_s;
	printf("scan-bench: %u messages (%u text, %u HTML, %u with %u "
	       "attachments), %.1f MB raw, %.1f MB decoded in %u leaves\n",
	       c->nmsgs, c->kinds[0], c->kinds[1], c->kinds[2], c->attachments,
	       (double)c->raw_bytes / 1e6, (double)c->decoded_bytes / 1e6,
	       c->nleaves);
	printf("one thread (= per core), medians of %d runs (libclamav: %d); "
	       "1 MB = 1e6 B, 1 GB = 1e9 B\n", runs, clam_runs);
	printf("rules: %u .ndb body + %u .hsb + %u .hdb hash signatures "
	       "written, %u content/spam rules injected;\n"
	       "       Hyperscan DB %u rules, libclamav cl_load %u "
	       "signatures (%s)\n", r->ndb_written, r->hsb_written,
	       r->hdb_written, r->injected, r->db_rules, r->clam_sigs,
	       r->clam_sigs == r->ndb_written + r->hsb_written + r->hdb_written
		       ? "= written" : "!= written");
	printf("clamav-testfiles: %s\n\n", r->testfiles
	       ? "used (" TESTFILES "; clam.exe's MD5 in clamexe.hdb)"
	       : "not installed (" TESTFILES "): no samples planted");
	printf("%-46s %16s  %-10s %s\n", "figure", "value", "target",
	       "status");
	printf("(all rates per CPU-second of the benchmark thread; wall-clock "
	       "medians: a %.2f s, b %.2f s, b2 %.2f s, c %.2f s)\n",
	       r->a_wall, r->b_wall, r->b2_wall, r->c_wall);
	printf("(a) pipeline, scan_message(), libclamav off    %10.0f msg/s\n",
	       r->a_msgs_s);
	printf("    decoded bytes through the pipeline         %10.1f MB/s\n",
	       r->a_dec_mb_s);
	printf("    raw message bytes                          %10.1f MB/s\n",
	       r->a_raw_mb_s);
	if (r->a2.done)
		printf("(a2) pipeline, libclamav on default leaves     %10.0f "
		       "msg/s\n     (%.1f MB/s decoded, %.1f MB/s raw; first %u "
		       "messages, %.2f s wall, verdict cache cold)\n",
		       r->a2.msgs_s, r->a2.scanned_mb_s, r->a2.raw_mb_s,
		       r->a2_msgs, r->a2.wall);
	printf("(b) Hyperscan pass, scan_db_scan() per leaf    %10.2f GB/s  "
	       ">= 1 GB/s  %s\n", r->b_gb_s, met(r->b_gb_s >= 1.0));
	printf("(b2) b + SHA-256 of every leaf, MD5/SHA-1 when %10.2f GB/s\n"
	       "     a hash signature's size matches (as scan_message)\n",
	       r->b2_gb_s);
	printf("(c) libclamav raw scan, cl_scanmap_callback    %10.3f GB/s\n",
	       r->c_gb_s);
	printf("    (b)/(c)                                    %10.1f x     "
	       ">= 10x     %s\n", b_ratio, met(b_ratio >= 10.0));
	printf("    (b2)/(c)                                   %10.1f x     "
	       ">= 10x     %s\n", b2_ratio, met(b2_ratio >= 10.0));
	printf("    (a decoded)/(c)                            %10.1f x     "
	       ">= 10x     %s\n", a_ratio, met(a_ratio >= 10.0));
	printf("(d) scan_db_memory() / rule                    %10.0f B   "
	       "(%.1f MB for %u rules)\n", (double)r->db_mem / r->db_rules,
	       (double)r->db_mem / 1e6, r->db_rules);
	printf("    RSS delta of the engine / rule, warm       %10.0f B   "
	       "(%.1f MB)\n", (double)r->rss_warm / r->db_rules,
	       (double)r->rss_warm / 1e6);
	printf("    RSS delta of the engine / rule, cold       %10.0f B   "
	       "(%.1f MB)\n", (double)r->rss_cold / r->db_rules,
	       (double)r->rss_cold / 1e6);
	printf("    libclamav engine RSS delta / signature     %10.0f B   "
	       "(%.1f MB)\n", (double)r->clam_rss / r->clam_sigs,
	       (double)r->clam_rss / 1e6);
	printf("(e) engine build, cold (compile, no cache)     %10.2f s     "
	       "(%.2f s wall)\n", r->cold_s, r->cold_wall);
	printf("    engine build, warm (rule cache)            %10.2f s     "
	       "(%.2f s wall)%s\n", r->warm_s, r->warm_wall,
	       r->warm_cached ? "" : "   (cache NOT used!)");
	printf("    libclamav cl_load + cl_engine_compile      %10.2f s     "
	       "(%.2f s wall)\n", r->clam_load_s, r->clam_load_wall);
	printf("(e2) engine with libclamav (default leaves),   %10.2f s     "
	       "(%.2f s wall), RSS delta %.1f MB\n     warm rule cache "
	       "(what a reload costs)\n", r->clam_engine_s,
	       r->clam_engine_wall, (double)r->clam_engine_rss / 1e6);
	printf("\nmatches: planted %u infected leaves (%u signatures, %u "
	       "hashes) in %u messages, phrases in %u messages\n",
	       c->infected_leaves, c->planted_sig, c->planted_hash,
	       c->infected_msgs, c->phrase_msgs);
	printf("  (a) verdicts: %u clean, %u virus, %u spam, %u content, "
	       "%u attachment, %u limit, %u malformed\n", r->a_cls[SCAN_CLEAN],
	       r->a_cls[SCAN_VIRUS], r->a_cls[SCAN_SPAM],
	       r->a_cls[SCAN_CONTENT], r->a_cls[SCAN_ATTACHMENT],
	       r->a_cls[SCAN_LIMIT], r->a_cls[SCAN_MALFORMED]);
	if (r->a2.done)
		printf("  (a2, first %u) verdicts: %u clean, %u virus, %u spam, %u "
		       "content, %u attachment, %u limit, %u malformed\n",
		       r->a2_msgs, r->a2.cls[SCAN_CLEAN], r->a2.cls[SCAN_VIRUS],
		       r->a2.cls[SCAN_SPAM], r->a2.cls[SCAN_CONTENT],
		       r->a2.cls[SCAN_ATTACHMENT], r->a2.cls[SCAN_LIMIT],
		       r->a2.cls[SCAN_MALFORMED]);
	printf("  (b2) infected leaves %u, messages with content hits %u, "
	       "with spam keywords %u\n", r->b_infected, r->b_content_msgs,
	       r->b_spam_msgs);
	printf("  (c) infected leaves %u, errors %u\n", r->c_infected,
	       r->c_errors);
	if (r->a_size_mismatch > 0)
		printf("  note: %u messages where the pipeline's decoded leaves "
		       "differ from the generated ones (%llu vs %zu bytes)\n",
		       r->a_size_mismatch, (unsigned long long)r->a_decoded,
		       c->decoded_bytes);
	print_clam_types("(a2)", &r->a2);
	printf("\nThe corpora below: scan_message() per core, medians of the "
	       "runs; each run of a libclamav mode\nstarts with a new engine "
	       "(verdict cache cold). lib scans / MB / ms: calls into "
	       "libclamav,\nbytes handed to it and its time per message "
	       "(run 1); vir plnt: messages planted with a virus\nfound as "
	       "virus; vir othr: virus found in others; mac: macro workbooks "
	       "found.\n");
	print_corpus("attachment corpus", &r->attach);
	print_corpus("archive corpus", &r->archive);
	if (r->note_7z[0])
		printf("  note: 7z archives written as zip: libarchive cannot "
		       "write 7z here (%s)\n", r->note_7z);
	print_campaign(&r->campaign);
}

static void print_json(const struct corpus *c, const struct results *r,
		       int runs, int clam_runs)
{
	double b_ratio = r->b_gb_s / r->c_gb_s;
	double b2_ratio = r->b2_gb_s / r->c_gb_s;
	double a_ratio = r->a_dec_mb_s / 1e3 / r->c_gb_s;
	printf("{\"messages\":%u,\"runs\":%d,\"clamav_runs\":%d,"
	       "\"raw_bytes\":%zu,\"decoded_bytes\":%zu,\"leaves\":%u,"
	       "\"attachments\":%u,", c->nmsgs, runs, clam_runs, c->raw_bytes, c->decoded_bytes, c->nleaves,
	       c->attachments);
	printf("\"rules\":{\"ndb_written\":%u,\"hsb_written\":%u,"
	       "\"hdb_written\":%u,\"content_spam_injected\":%u,"
	       "\"db_rules\":%u,\"clamav_sigs\":%u},\"testfiles\":%s,",
	       r->ndb_written, r->hsb_written, r->hdb_written, r->injected,
	       r->db_rules, r->clam_sigs, r->testfiles ? "true" : "false");
	printf("\"pipeline\":{\"wall_seconds\":%.4f,\"seconds\":%.4f,\"msgs_per_s\":%.1f,"
	       "\"decoded_bytes\":%llu,\"decoded_mb_per_s\":%.2f,"
	       "\"raw_mb_per_s\":%.2f,\"leaf_mismatch_msgs\":%u},",
	       r->a_wall, r->a_s, r->a_msgs_s, (unsigned long long)r->a_decoded,
	       r->a_dec_mb_s, r->a_raw_mb_s, r->a_size_mismatch);
	printf("\"pipeline_clamav\":");
	if (r->a2.done) {
		printf("{\"messages\":%u,\"result\":", r->a2_msgs);
		json_mode(&r->a2);
		printf("}");
	}
	else
		printf("null");
	printf(",");
	printf("\"hyperscan\":{\"wall_seconds\":%.4f,\"seconds\":%.4f,"
	       "\"gb_per_s\":%.3f},\"hyperscan_hashes\":{\"wall_seconds\":"
	       "%.4f,\"seconds\":%.4f,\"gb_per_s\":%.3f},", r->b_wall, r->b_s,
	       r->b_gb_s, r->b2_wall, r->b2_s, r->b2_gb_s);
	printf("\"clamav\":{\"wall_seconds\":%.4f,\"seconds\":%.4f,"
	       "\"gb_per_s\":%.4f,"
	       "\"scan_options\":{\"general\":0,\"parse\":0,\"heuristic\":0,"
	       "\"mail\":0,\"dev\":0},\"cache\":false,\"version\":\"%s\"},",
	       r->c_wall, r->c_s, r->c_gb_s, cl_retver());
	printf("\"ratio_hyperscan_clamav\":%.2f,"
	       "\"ratio_hyperscan_hashes_clamav\":%.2f,"
	       "\"ratio_pipeline_decoded_clamav\":%.2f,",
	       b_ratio, b2_ratio, a_ratio);
	printf("\"memory\":{\"db_bytes\":%zu,\"db_bytes_per_rule\":%.1f,"
	       "\"rss_delta_warm\":%lld,\"rss_per_rule_warm\":%.1f,"
	       "\"rss_delta_cold\":%lld,\"rss_per_rule_cold\":%.1f,"
	       "\"clamav_rss_delta\":%lld,\"clamav_rss_per_sig\":%.1f},",
	       r->db_mem, (double)r->db_mem / r->db_rules, r->rss_warm,
	       (double)r->rss_warm / r->db_rules, r->rss_cold,
	       (double)r->rss_cold / r->db_rules, r->clam_rss,
	       (double)r->clam_rss / r->clam_sigs);
	printf("\"build\":{\"cold_s\":%.3f,\"warm_s\":%.3f,\"warm_cached\":%s,"
	       "\"clamav_load_s\":%.3f,\"cold_wall_s\":%.3f,\"warm_wall_s\":"
	       "%.3f,\"clamav_load_wall_s\":%.3f,\"clamav_engine_s\":%.3f,"
	       "\"clamav_engine_wall_s\":%.3f,\"clamav_engine_rss_delta\":"
	       "%lld},", r->cold_s, r->warm_s,
	       r->warm_cached ? "true" : "false", r->clam_load_s,
	       r->cold_wall, r->warm_wall, r->clam_load_wall, r->clam_engine_s,
	       r->clam_engine_wall, r->clam_engine_rss);
	printf("\"matches\":{\"planted_leaves\":%u,\"planted_sigs\":%u,"
	       "\"planted_hashes\":%u,\"hyperscan_leaves\":%u,"
	       "\"clamav_leaves\":%u,\"clamav_errors\":%u,"
	       "\"pipeline_virus_msgs\":%u},", c->infected_leaves,
	       c->planted_sig, c->planted_hash, r->b_infected, r->c_infected,
	       r->c_errors, r->a_cls[SCAN_VIRUS]);
	printf("\"targets\":{\"hyperscan_1gbps\":%s,\"hyperscan_10x_clamav\":"
	       "%s,\"hyperscan_hashes_10x_clamav\":%s,"
	       "\"pipeline_10x_clamav\":%s}",
	       r->b_gb_s >= 1.0 ? "true" : "false",
	       b_ratio >= 10.0 ? "true" : "false",
	       b2_ratio >= 10.0 ? "true" : "false",
	       a_ratio >= 10.0 ? "true" : "false");
	json_corpus("attachment_corpus", &r->attach);
	json_corpus("archive_corpus", &r->archive);
	printf(",\"archive_7z_written_as_zip\":%s", r->note_7z[0] ? "true"
								   : "false");
	json_campaign(&r->campaign);
	printf("}\n");
}

/* ---- main ------------------------------------------------------------- */

static void usage(void)
{
	fputs("usage: scan-bench-bin [-n messages] [-r runs] [-R clamav-runs] "
	      "[-s signatures]\n"
	      "                      [-a messages] [-A messages] [-C messages] "
	      "[-k runs]\n"
	      "                      [-c sluice.conf] [--seed N] [--json] "
	      "[--keep]\n"
	      "  -n  messages in the mixed corpus (default 2000)\n"
	      "  -r  runs of each measurement on it, median reported "
	      "(default 5)\n"
	      "  -R  runs of the raw libclamav measurement (c) (default 5)\n"
	      "  -s  .ndb body signatures generated (default 10000)\n"
	      "  -a  messages in the attachment corpus (default 40; 0: skip "
	      "it)\n"
	      "  -A  messages in the archive corpus (default 40; 0: skip)\n"
	      "  -C  messages in the campaign corpus (default 100; 0: skip)\n"
	      "  -k  runs of each measurement on those corpora and of (a2), "
	      "the\n"
	      "      mixed corpus's first " A2_MAX_S " messages with libclamav, "
	      "median\n      reported (default 3)\n"
	      "  -c  configuration for the policy (default "
	      "config/sluice.conf;\n"
	      "      its clamav section is set per measurement)\n"
	      "  --json  one JSON object on stdout instead of the table\n"
	      "  --keep  keep the temporary rule directory\n", stderr);
}

static unsigned parse_count(const char *s, const char *what, unsigned lo,
			    unsigned hi)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || end == s || v < lo || v > hi) {
		usage();
		die("%s must be a number in [%u, %u], not '%s'", what, lo, hi,
		    s);
	}
	return (unsigned)v;
}

/* The configuration at cfgabs with the generated rules, the rule cache in
 * cachedir and libclamav set to mode. */
static struct scan_config *load_config(const char *cfgabs,
				       const char *cachedir,
				       const struct ruleset *rs,
				       enum clam_mode mode, unsigned *injected)
{
	size_t cfglen;
	char *cfgtext = config_text(cfgabs, cachedir, rs, &cfglen, injected,
				    mode);
	struct conf_doc *doc;
	struct scan_config *cfg;
	char err[1024];
	int rc = conf_load_string(cfgabs, cfgtext, cfglen, &doc, err,
				  sizeof(err));
	if (rc < 0)
		die("%s (with generated rules): %s", cfgabs, err);
	rc = scan_config_from_conf(doc, &cfg, err, sizeof(err));
	if (rc < 0)
		die("%s (with generated rules): %s", cfgabs, err);
	conf_free(doc);
	free(cfgtext);
	return cfg;
}

/* The three libclamav modes over one corpus, then its messages freed. */
static void measure_corpus(struct mcorpus *mc, struct scan_config *const *cfg,
			   const char *sigdir, int runs, const char *name,
			   struct corpus_res *cr)
{
	for (int k = 0; k < CLAM_MODES; k++) {
		char label[64];
		snprintf(label, sizeof(label), "%s, %s", name,
			 mode_labels[k]);
		run_mode(mc->msgs, mc->nmsgs, cfg[k], sigdir, runs, label,
			 &cr->m[k]);
	}
	mcorpus_free(mc);
	cr->done = 1;
}

int main(int argc, char **argv)
{
	unsigned nmsgs = 2000, nsigs = 10000;
	unsigned n_attach = 40, n_archive = 40, n_campaign = 100;
	int runs = 5, clam_runs = 5, corpus_runs = 3, json = 0, keep = 0;
	const char *config = "config/sluice.conf";
	uint64_t seed = 0x5eed5ca11ab1e5ull;
	static const struct option lopts[] = {
		{"json", no_argument, NULL, 'j'},
		{"keep", no_argument, NULL, 'K'},
		{"seed", required_argument, NULL, 'S'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int opt;
	while ((opt = getopt_long(argc, argv, "n:r:R:s:a:A:C:k:c:h", lopts,
				  NULL)) != -1) {
		switch (opt) {
		case 'n':
			nmsgs = parse_count(optarg, "-n", 1, 1000000);
			break;
		case 'r':
			runs = (int)parse_count(optarg, "-r", 1, MAX_RUNS);
			break;
		case 'R':
			clam_runs = (int)parse_count(optarg, "-R", 1, MAX_RUNS);
			break;
		case 's':
			nsigs = parse_count(optarg, "-s", 100, 1000000);
			break;
		case 'a':
			n_attach = parse_count(optarg, "-a", 0, 100000);
			break;
		case 'A':
			n_archive = parse_count(optarg, "-A", 0, 100000);
			break;
		case 'C':
			n_campaign = parse_count(optarg, "-C", 0, 100000);
			break;
		case 'k':
			corpus_runs = (int)parse_count(optarg, "-k", 1,
						       MAX_RUNS);
			break;
		case 'c':
			config = optarg;
			break;
		case 'S':
			seed = strtoull(optarg, NULL, 0) | 1;
			break;
		case 'j':
			json = 1;
			break;
		case 'K':
			keep = 1;
			break;
		case 'h':
			usage();
			return 0;
		default:
			usage();
			return 1;
		}
	}
	if (optind != argc) {
		usage();
		return 1;
	}
	rng_state = seed;

	const char *tmp = tmp_dir;
	if (mkdtemp(tmp_dir) == NULL)
		die("mkdtemp: %s", strerror(errno));
	tmp_made = 1;
	tmp_keep = keep;
	atexit(tmp_cleanup);
	char sigdir[sizeof(tmp_dir) + 16], cachedir[sizeof(tmp_dir) + 16];
	char path[sizeof(tmp_dir) + 64];
	snprintf(sigdir, sizeof(sigdir), "%s/sigs", tmp);
	snprintf(cachedir, sizeof(cachedir), "%s/cache", tmp);
	if (mkdir(sigdir, 0700) < 0 || mkdir(cachedir, 0700) < 0)
		die("mkdir in %s: %s", tmp, strerror(errno));

	static struct results res; /* large: not on the stack */
	memset(&res, 0, sizeof(res));

	/* 1. rules (hash lines for planted leaves are added while the corpus
	 * is generated, so the files are written after it) */
	double t0 = now();
	struct ruleset rs;
	memset(&rs, 0, sizeof(rs));
	rs.sigs = xmalloc(nsigs * sizeof(*rs.sigs));
	rs.nsigs = nsigs;
	for (unsigned i = 0; i < nsigs; i++)
		gen_ndb_line(&rs, i);
	gen_hashes(&rs, 3000);
	gen_phrases(&rs, 200, 150);

	/* 2. corpus */
	struct corpus c;
	memset(&c, 0, sizeof(c));
	c.nmsgs = nmsgs;
	c.msgs = xmalloc(nmsgs * sizeof(*c.msgs));
	for (unsigned i = 0; i < nmsgs; i++)
		gen_message(&c, &rs, i);
	snprintf(path, sizeof(path), "%s/bench.ndb", sigdir);
	write_file(path, &rs.ndb);
	snprintf(path, sizeof(path), "%s/bench.hsb", sigdir);
	write_file(path, &rs.hsb);
	res.ndb_written = rs.nsigs;
	res.hsb_written = rs.nhashes;
	struct testfiles tf;
	testfiles_load(&tf);
	if (tf.nexe > 0 && strcmp(tf.exe[0].name, "clam.exe") == 0) {
		struct buf h = {0};
		buf_str(&h, CLAM_EXE_MD5 ":544:ClamAV-Test-File\n");
		snprintf(path, sizeof(path), "%s/clamexe.hdb", sigdir);
		write_file(path, &h);
		free(h.p);
		res.hdb_written = 1;
		res.testfiles = 1;
	} else {
		testfiles_free(&tf); /* without clam.exe's hash: not used */
		memset(&tf, 0, sizeof(tf));
	}
	note("generated %u signatures + %u hashes, %u messages (%.1f MB raw, "
	     "%.1f MB decoded) in %.1f s; rules in %s\n", rs.nsigs, rs.nhashes,
	     c.nmsgs, (double)c.raw_bytes / 1e6, (double)c.decoded_bytes / 1e6,
	     now() - t0, sigdir);

	/* configuration: the given one, its rule cache moved to our temp
	 * directory, plus the generated content rules and spam keywords;
	 * one copy per libclamav mode */
	char cfgabs[4096];
	if (realpath(config, cfgabs) == NULL)
		die("%s: %s", config, strerror(errno));
	struct scan_config *cfgs[CLAM_MODES];
	for (int k = 0; k < CLAM_MODES; k++)
		cfgs[k] = load_config(cfgabs, cachedir, &rs, (enum clam_mode)k,
				      &res.injected);
	struct scan_config *cfg = cfgs[CLAM_OFF];
	if (res.injected == 0)
		note("note: no content_rules / spam.keywords list found in %s;"
		     " generated content rules not added\n", cfgabs);

	/* e, d: cold build (empty cache), then warm (from the cache); the
	 * Hyperscan engine alone (libclamav off), as the figures are per
	 * rule */
	note("building the engine cold ...\n");
	struct scan_engine *e = engine_build(cfg, sigdir, &res.cold_wall,
					     &res.cold_s, &res.rss_cold);
	if (scan_db_loaded_from_cache(scan_engine_db(e)))
		die("cold build found a cache file in a fresh directory");
	scan_engine_free(e);
	note("building the engine warm ...\n");
	e = engine_build(cfg, sigdir, &res.warm_wall, &res.warm_s,
			 &res.rss_warm);
	const struct scan_db *db = scan_engine_db(e);
	res.warm_cached = scan_db_loaded_from_cache(db);
	res.db_rules = scan_db_rule_count(db);
	res.db_mem = scan_db_memory(db);
	note("engine: %u rules, %.1f MB, cold %.2f s cpu (%.2f wall), warm "
	     "%.2f s cpu (%.2f wall)\n", res.db_rules, (double)res.db_mem / 1e6,
	     res.cold_s, res.cold_wall, res.warm_s, res.warm_wall);
	note("building the engine with libclamav ...\n");
	struct scan_engine *ec = engine_build(cfgs[CLAM_DEFAULT], sigdir,
					      &res.clam_engine_wall,
					      &res.clam_engine_s,
					      &res.clam_engine_rss);
	scan_engine_free(ec);

	/* libclamav on the same files */
	struct clam cl;
	note("loading libclamav %s ...\n", cl_retver());
	clam_load(&cl, sigdir);
	res.clam_sigs = cl.sigs;
	res.clam_rss = cl.rss_delta;
	res.clam_load_s = cl.load_s;
	res.clam_load_wall = cl.load_wall;
	note("libclamav: %u signatures (wrote %u), %.2f s\n", cl.sigs,
	     rs.nsigs + rs.nhashes + res.hdb_written, cl.load_s);

	/* 3. measurements */
	run_pipeline(&c, e, runs, &res);
	{
		struct mmsg *mm = xmalloc(c.nmsgs * sizeof(*mm));
		for (unsigned i = 0; i < c.nmsgs; i++) {
			mm[i].p = c.msgs[i].p;
			mm[i].len = c.msgs[i].len;
			mm[i].expect = c.msgs[i].infected ? EXP_VIRUS : 0;
		}
		res.a2_msgs = c.nmsgs < A2_MAX ? c.nmsgs : A2_MAX;
		run_mode(mm, res.a2_msgs, cfgs[CLAM_DEFAULT], sigdir,
			 corpus_runs, "(a2)", &res.a2);
		free(mm);
	}
	run_hyperscan(&c, db, runs, 0, &res);
	run_hyperscan(&c, db, runs, 1, &res);
	run_clamav(&c, &cl, clam_runs, &res);
	cl_engine_free(cl.engine);
	scan_engine_free(e);
	for (unsigned i = 0; i < c.nmsgs; i++) {
		free(c.msgs[i].p);
		c.msgs[i].p = NULL;
	}
	for (unsigned i = 0; i < c.nleaves; i++) {
		free(c.owned[i]);
		c.owned[i] = NULL;
	}

	/* 4. the attachment, archive and campaign corpora, each from its own
	 * seed (independent of -n), generated after the one before is
	 * freed */
	if (n_attach > 0) {
		struct mcorpus mc;
		memset(&mc, 0, sizeof(mc));
		rng_state = (seed ^ 0xa77ac4e5a77ac4e5ull) | 1;
		t0 = now();
		gen_attach_corpus(&mc, n_attach, &rs, &tf);
		note("attachment corpus: %u messages, %.1f MB raw in %.1f s\n",
		     mc.nmsgs, (double)mc.raw_bytes / 1e6, now() - t0);
		res.attach.c = mc;
		res.attach.c.msgs = NULL;
		measure_corpus(&mc, cfgs, sigdir, corpus_runs, "attach",
			       &res.attach);
	}
	if (n_archive > 0) {
		struct mcorpus mc;
		memset(&mc, 0, sizeof(mc));
		int can_7z = can_write_7z(res.note_7z, sizeof(res.note_7z));
		if (can_7z)
			res.note_7z[0] = '\0';
		rng_state = (seed ^ 0xa4c41fe5a4c41fe5ull) | 1;
		t0 = now();
		gen_archive_corpus(&mc, n_archive, &rs, &tf, can_7z);
		note("archive corpus: %u messages, %.1f MB raw in %.1f s\n",
		     mc.nmsgs, (double)mc.raw_bytes / 1e6, now() - t0);
		res.archive.c = mc;
		res.archive.c.msgs = NULL;
		measure_corpus(&mc, cfgs, sigdir, corpus_runs, "archive",
			       &res.archive);
	}
	if (n_campaign > 0) {
		struct mcorpus same, vary;
		memset(&same, 0, sizeof(same));
		memset(&vary, 0, sizeof(vary));
		rng_state = (seed ^ 0xca3ba16eca3ba16eull) | 1;
		t0 = now();
		gen_campaign(&same, &vary, n_campaign);
		note("campaign: %u messages, %.1f MB raw (twice) in %.1f s\n",
		     same.nmsgs, (double)same.raw_bytes / 1e6, now() - t0);
		run_campaign(&same, &vary, cfgs[CLAM_OFF], cfgs[CLAM_DEFAULT],
			     sigdir, corpus_runs, &res.campaign);
		mcorpus_free(&same);
		mcorpus_free(&vary);
	}

	if (json)
		print_json(&c, &res, runs, clam_runs);
	else
		print_table(&c, &res, runs, clam_runs);

	for (int k = 0; k < CLAM_MODES; k++)
		scan_config_free(cfgs[k]);
	testfiles_free(&tf);
	free(c.msgs);
	free(c.leaves);
	free(c.owned);
	for (unsigned i = 0; i < rs.nsigs; i++)
		free(rs.sigs[i].inst);
	for (unsigned i = 0; i < rs.ncr; i++)
		free(rs.cr[i]);
	for (unsigned i = 0; i < rs.nsk; i++)
		free(rs.sk[i]);
	free(rs.cr);
	free(rs.sk);
	free(rs.sigs);
	free(rs.ndb.p);
	free(rs.hsb.p);
	return 0;
}
