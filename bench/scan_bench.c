/* bench/scan_bench.c - scan throughput per core, against libclamav.
 *
 * One process, one thread (so every figure is per core), one fixed seed:
 *
 *   1. generates a rule set in a temporary directory: ClamAV .ndb body
 *      signatures (plain hex, ??, *, {n-m}, alternations, some with
 *      offsets), a .hsb file of SHA-256/SHA-1 hashes, and a few hundred
 *      content rules and spam keywords injected into a copy of the
 *      configuration (config/sluice.conf by default);
 *   2. generates a corpus of messages in memory: plain text, HTML
 *      newsletters, messages with base64 attachments (PDF-like, zip-like,
 *      random binary); a few carry a signature or a listed hash;
 *   3. measures on the same bytes (median of the runs):
 *      a. scan_message() on every message (the whole pipeline);
 *      b. scan_db_scan() alone on every decoded leaf, and b2 the same plus
 *         the digests and hash look-ups the pipeline does per leaf
 *         (SHA-256 always, since it is reported; MD5/SHA-1 only when a
 *         hash signature of the leaf's size exists, as libclamav does);
 *      c. libclamav (cl_scanmap_callback) on every decoded leaf with the
 *         same .ndb/.hsb files, as a raw scan (no parsers, no cache);
 *      d. memory per rule (scan_db_memory, RSS deltas, and libclamav's);
 *      e. engine build time, cold (empty rule cache) and warm (cached);
 *   4. prints a table (or one JSON object with --json) with the targets
 *      marked met / NOT met. It reports; it does not judge: the exit code
 *      is 0 whether targets are met or not, 1 on errors.
 *
 * Units: 1 MB = 1e6 bytes, 1 GB = 1e9 bytes. "Decoded" bytes are the
 * leaves after transfer decoding (what the scanners look at).
 *
 * usage: scan-bench-bin [-n messages] [-r runs] [-R clamav-runs]
 *                       [-s signatures] [-c sluice.conf] [--seed N]
 *                       [--json] [--keep]
 */
#include "conf/conf.h"
#include "scan/hash.h"
#include "scan/hsdb.h"
#include "scan/policy.h"
#include "scan/rules.h"
#include "scan/scan.h"

#include <clamav.h>

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
	}
	c->kinds[msg->kind]++;
	msg->nleaves = c->nleaves - msg->leaf0;
	msg->p = buf_take(&m, &msg->len);
	c->raw_bytes += msg->len;
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

/* The configuration text with rule_cache pointed at cache_dir and the
 * generated content rules and spam keywords added at the head of the
 * content_rules and spam.keywords lists. *injected counts what went in. */
static char *config_text(const char *path, const char *cache_dir,
			 const struct ruleset *rs, size_t *len,
			 unsigned *injected)
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
	int in_spam = 0, cache_done = 0;
	*injected = 0;
	for (const char *line = text; *line != '\0';) {
		const char *eol = strchr(line, '\n');
		size_t ll = eol ? (size_t)(eol - line + 1) : strlen(line);
		if (line[0] != ' ' && line[0] != '#' && line[0] != '\n')
			in_spam = strncmp(line, "spam:", 5) == 0;
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

/* ---- measurements ----------------------------------------------------- */

struct results {
	/* rules */
	unsigned ndb_written, hsb_written, db_rules, injected, clam_sigs;
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
	printf("rules: %u .ndb body + %u .hsb hash signatures written, "
	       "%u content/spam rules injected;\n"
	       "       Hyperscan DB %u rules, libclamav cl_load %u "
	       "signatures (%s)\n\n", r->ndb_written, r->hsb_written,
	       r->injected, r->db_rules, r->clam_sigs,
	       r->clam_sigs == r->ndb_written + r->hsb_written
		       ? "= written" : "!= written");
	printf("%-46s %16s  %-10s %s\n", "figure", "value", "target",
	       "status");
	printf("(all rates per CPU-second of the benchmark thread; wall-clock "
	       "medians: a %.2f s, b %.2f s, b2 %.2f s, c %.2f s)\n",
	       r->a_wall, r->b_wall, r->b2_wall, r->c_wall);
	printf("(a) pipeline, scan_message()                   %10.0f msg/s\n",
	       r->a_msgs_s);
	printf("    decoded bytes through the pipeline         %10.1f MB/s\n",
	       r->a_dec_mb_s);
	printf("    raw message bytes                          %10.1f MB/s\n",
	       r->a_raw_mb_s);
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
	printf("\nmatches: planted %u infected leaves (%u signatures, %u "
	       "hashes) in %u messages, phrases in %u messages\n",
	       c->infected_leaves, c->planted_sig, c->planted_hash,
	       c->infected_msgs, c->phrase_msgs);
	printf("  (a) verdicts: %u clean, %u virus, %u spam, %u content, "
	       "%u attachment, %u limit, %u malformed\n", r->a_cls[SCAN_CLEAN],
	       r->a_cls[SCAN_VIRUS], r->a_cls[SCAN_SPAM],
	       r->a_cls[SCAN_CONTENT], r->a_cls[SCAN_ATTACHMENT],
	       r->a_cls[SCAN_LIMIT], r->a_cls[SCAN_MALFORMED]);
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
	       "\"content_spam_injected\":%u,\"db_rules\":%u,"
	       "\"clamav_sigs\":%u},", r->ndb_written, r->hsb_written,
	       r->injected, r->db_rules, r->clam_sigs);
	printf("\"pipeline\":{\"wall_seconds\":%.4f,\"seconds\":%.4f,\"msgs_per_s\":%.1f,"
	       "\"decoded_bytes\":%llu,\"decoded_mb_per_s\":%.2f,"
	       "\"raw_mb_per_s\":%.2f,\"leaf_mismatch_msgs\":%u},",
	       r->a_wall, r->a_s, r->a_msgs_s, (unsigned long long)r->a_decoded,
	       r->a_dec_mb_s, r->a_raw_mb_s, r->a_size_mismatch);
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
	       "%.3f,\"clamav_load_wall_s\":%.3f},", r->cold_s, r->warm_s,
	       r->warm_cached ? "true" : "false", r->clam_load_s,
	       r->cold_wall, r->warm_wall, r->clam_load_wall);
	printf("\"matches\":{\"planted_leaves\":%u,\"planted_sigs\":%u,"
	       "\"planted_hashes\":%u,\"hyperscan_leaves\":%u,"
	       "\"clamav_leaves\":%u,\"clamav_errors\":%u,"
	       "\"pipeline_virus_msgs\":%u},", c->infected_leaves,
	       c->planted_sig, c->planted_hash, r->b_infected, r->c_infected,
	       r->c_errors, r->a_cls[SCAN_VIRUS]);
	printf("\"targets\":{\"hyperscan_1gbps\":%s,\"hyperscan_10x_clamav\":"
	       "%s,\"hyperscan_hashes_10x_clamav\":%s,"
	       "\"pipeline_10x_clamav\":%s}}\n",
	       r->b_gb_s >= 1.0 ? "true" : "false",
	       b_ratio >= 10.0 ? "true" : "false",
	       b2_ratio >= 10.0 ? "true" : "false",
	       a_ratio >= 10.0 ? "true" : "false");
}

/* ---- main ------------------------------------------------------------- */

static void usage(void)
{
	fputs("usage: scan-bench-bin [-n messages] [-r runs] [-R clamav-runs] "
	      "[-s signatures]\n"
	      "                      [-c sluice.conf] [--seed N] [--json] "
	      "[--keep]\n"
	      "  -n  messages in the corpus (default 2000)\n"
	      "  -r  runs of each measurement, median reported (default 5)\n"
	      "  -R  runs of the libclamav measurement (default 5)\n"
	      "  -s  .ndb body signatures generated (default 10000)\n"
	      "  -c  configuration for the policy (default "
	      "config/sluice.conf)\n"
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

int main(int argc, char **argv)
{
	unsigned nmsgs = 2000, nsigs = 10000;
	int runs = 5, clam_runs = 5, json = 0, keep = 0;
	const char *config = "config/sluice.conf";
	uint64_t seed = 0x5eed5ca11ab1e5ull;
	static const struct option lopts[] = {
		{"json", no_argument, NULL, 'j'},
		{"keep", no_argument, NULL, 'k'},
		{"seed", required_argument, NULL, 'S'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int opt;
	while ((opt = getopt_long(argc, argv, "n:r:R:s:c:h", lopts, NULL)) !=
	       -1) {
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
		case 'c':
			config = optarg;
			break;
		case 'S':
			seed = strtoull(optarg, NULL, 0) | 1;
			break;
		case 'j':
			json = 1;
			break;
		case 'k':
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

	struct results res;
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
	note("generated %u signatures + %u hashes, %u messages (%.1f MB raw, "
	     "%.1f MB decoded) in %.1f s; rules in %s\n", rs.nsigs, rs.nhashes,
	     c.nmsgs, (double)c.raw_bytes / 1e6, (double)c.decoded_bytes / 1e6,
	     now() - t0, sigdir);

	/* configuration: the given one, its rule cache moved to our temp
	 * directory, plus the generated content rules and spam keywords */
	char cfgabs[4096];
	if (realpath(config, cfgabs) == NULL)
		die("%s: %s", config, strerror(errno));
	size_t cfglen;
	char *cfgtext = config_text(cfgabs, cachedir, &rs, &cfglen,
				    &res.injected);
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
	if (res.injected == 0)
		note("note: no content_rules / spam.keywords list found in %s;"
		     " generated content rules not added\n", cfgabs);

	/* e, d: cold build (empty cache), then warm (from the cache) */
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

	/* libclamav on the same files */
	struct clam cl;
	note("loading libclamav %s ...\n", cl_retver());
	clam_load(&cl, sigdir);
	res.clam_sigs = cl.sigs;
	res.clam_rss = cl.rss_delta;
	res.clam_load_s = cl.load_s;
	res.clam_load_wall = cl.load_wall;
	note("libclamav: %u signatures (wrote %u), %.2f s\n", cl.sigs,
	     rs.nsigs + rs.nhashes, cl.load_s);

	/* 3. measurements */
	run_pipeline(&c, e, runs, &res);
	run_hyperscan(&c, db, runs, 0, &res);
	run_hyperscan(&c, db, runs, 1, &res);
	run_clamav(&c, &cl, clam_runs, &res);

	if (json)
		print_json(&c, &res, runs, clam_runs);
	else
		print_table(&c, &res, runs, clam_runs);

	cl_engine_free(cl.engine);
	scan_engine_free(e);
	scan_config_free(cfg);
	for (unsigned i = 0; i < c.nmsgs; i++)
		free(c.msgs[i].p);
	for (unsigned i = 0; i < c.nleaves; i++)
		free(c.owned[i]);
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
