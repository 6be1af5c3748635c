/*
 * tests/unit/test_sig_ldb.c - ClamAV logical signatures (.ldb) and the
 * other signature files around them: the logical expression (every
 * operator and count form, evaluated as libclamav does), line and
 * subsignature parsing (offsets, ::i ::w ::a ::f, PCRE), matching through
 * the compiled database per leaf (target type, FileSize, PCRE triggers),
 * .fp/.sfp allow-lists, .ign/.ign2, .mdb/.msb, the per-file report, the
 * cache round trip, the pipeline (scan_engine: hook in pipe_leaf, the
 * engine's report, .fp), and a differential check against libclamav on the
 * same buffers; .ndb target types likewise (per leaf, from the cache,
 * against libclamav, through the pipeline). One PASS/FAIL line per row.
 */
#include "scan/clam.h"
#include "scan/filetype.h"
#include "scan/hash.h"
#include "scan/hsdb.h"
#include "scan/policy.h"
#include "scan/scan.h"
#include "scan/sig_clamav.h"
#include "tests/unit/check.h"
#include "tests/unit/diag_log.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hs.h>

static char tmpdir[256];
static int rows_failed;

#define ROW(ok, name, ...)                                                \
	do {                                                              \
		if (ok) {                                                 \
			printf("PASS %s: ", name);                        \
		} else {                                                  \
			printf("FAIL %s: ", name);                        \
			rows_failed++;                                    \
			check_failures_++;                                \
		}                                                         \
		printf(__VA_ARGS__);                                      \
		putchar('\n');                                            \
	} while (0)

static void write_file(const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	f = fopen(path, "wb");
	if (f == NULL)
		abort();
	fputs(text, f);
	fclose(f);
}

/* ---- logical expressions ------------------------------------------------ */

static const struct {
	const char *expr;
	unsigned nsub;
	uint32_t counts[4];
	int want; /* 1 true, 0 false, -1 compile error */
} lx_rows[] = {
	{ "0", 1, { 1 }, 1 },
	{ "0", 1, { 0 }, 0 },
	{ "0&1", 2, { 1, 1 }, 1 },
	{ "0&1", 2, { 1, 0 }, 0 },
	{ "0|1", 2, { 0, 1 }, 1 },
	{ "0|1", 2, { 0, 0 }, 0 },
	{ "(0|1)&2", 3, { 0, 1, 1 }, 1 },
	{ "(0|1)&2", 3, { 1, 1, 0 }, 0 },
	/* right to left, no precedence: 0|1&2 is 0|(1&2) */
	{ "0|1&2", 3, { 1, 0, 0 }, 1 },
	{ "0&1|2", 3, { 0, 0, 1 }, 0 },
	{ "0&1|2", 3, { 1, 0, 1 }, 1 },
	/* counts on a subsignature */
	{ "0=2", 1, { 2 }, 1 },
	{ "0=2", 1, { 3 }, 0 },
	{ "0>2", 1, { 3 }, 1 },
	{ "0>2", 1, { 2 }, 0 },
	{ "0<2", 1, { 1 }, 1 },
	{ "0<2", 1, { 0 }, 1 }, /* as libclamav: no match satisfies <N */
	{ "0<2", 1, { 2 }, 0 },
	{ "0=0", 1, { 0 }, 1 },
	{ "0>1,5", 1, { 2 }, 1 }, /* Y ignored on one subsignature */
	/* counts on a block: the sum; Y distinct subsignatures */
	{ "(0|1|2)>3", 3, { 2, 2, 0 }, 1 },
	{ "(0|1|2)>3", 3, { 2, 1, 0 }, 0 },
	{ "(0|1|2)=3", 3, { 1, 1, 1 }, 1 },
	{ "(0|1|2)>1,2", 3, { 5, 0, 0 }, 0 },
	{ "(0|1|2)>1,2", 3, { 5, 1, 0 }, 1 },
	{ "(0|1|2)=2,2", 3, { 1, 0, 1 }, 1 },
	{ "(0|1|2)<2", 3, { 0, 0, 0 }, 1 },
	{ "(0|1|2)<2", 3, { 1, 1, 0 }, 0 },
	{ "(0|1)<3,2", 2, { 1, 1 }, 1 },
	{ "(0|1)<3,2", 2, { 2, 0 }, 0 },
	{ "((0|1)>1,2)&2", 3, { 1, 1, 1 }, 1 },
	{ "((0|1)>1,2)&2", 3, { 2, 0, 1 }, 0 },
	{ "(0&1)=4", 2, { 2, 2 }, 1 },
	{ "(0&1)=4", 2, { 4, 0 }, 0 },
	/* errors */
	{ "", 1, { 0 }, -1 },
	{ "2", 2, { 0 }, -1 },
	{ "0&", 2, { 0 }, -1 },
	{ "(0|1", 2, { 0 }, -1 },
	{ "0|1)", 2, { 0 }, -1 },
	{ "0>", 1, { 0 }, -1 },
	{ "0>1,", 1, { 0 }, -1 },
	{ "0^1", 2, { 0 }, -1 },
	{ "a", 1, { 0 }, -1 },
};

static void test_lexpr(void)
{
	static struct scan_sig_lexpr x;

	for (size_t i = 0; i < sizeof lx_rows / sizeof lx_rows[0]; i++) {
		const char *why = NULL;
		int rc = scan_sig_lexpr_compile(lx_rows[i].expr,
						strlen(lx_rows[i].expr),
						lx_rows[i].nsub, &x, &why);
		int got = rc != 0 ? -1 : scan_sig_lexpr_eval(&x, lx_rows[i].counts);

		ROW(got == lx_rows[i].want, "lexpr",
		    "'%s' counts %u,%u,%u -> %d (want %d)%s%s", lx_rows[i].expr,
		    lx_rows[i].counts[0], lx_rows[i].counts[1],
		    lx_rows[i].counts[2], got, lx_rows[i].want,
		    why ? ": " : "", why ? why : "");
	}
	/* depth and size are bounded */
	char deep[4096];
	size_t n = 0;
	for (int i = 0; i < 1000; i++)
		deep[n++] = '(';
	deep[n++] = '0';
	for (int i = 0; i < 1000; i++)
		deep[n++] = ')';
	const char *why = NULL;
	int rc = scan_sig_lexpr_compile(deep, n, 1, &x, &why);
	ROW(rc == -EINVAL, "lexpr", "1000 nested parentheses refused: %s",
	    why ? why : "accepted");
	n = 0;
	for (int i = 0; i < 300; i++)
		n += (size_t)snprintf(deep + n, sizeof deep - n, "%s0",
				      i ? "|" : "");
	rc = scan_sig_lexpr_compile(deep, n, 1, &x, &why);
	ROW(rc == -EINVAL, "lexpr", "300 terms refused: %s",
	    rc ? why : "accepted");
}

/* ---- line parsing ------------------------------------------------------- */

static const struct {
	const char *line;
	int rc;
	const char *why; /* substring of the reason when rc != 0 */
	unsigned target, nsub;
	uint64_t smin, smax;
} ldb_rows[] = {
	{ "A;Target:0;0;414243", 0, NULL, 0, 1, 0, UINT64_MAX },
	{ "A;Engine:51-255,Target:1;0&1;414243;444546", 0, NULL, 1, 2, 0,
	  UINT64_MAX },
	{ "A;Engine:51-255,Target:1,FileSize:100-2000;0;4142", 0, NULL, 1, 1,
	  100, 2000 },
	{ "A;Target:0,FileSize:77;0;4142", 0, NULL, 0, 1, 77, 77 },
	{ "A;Engine:81-255;0;4142", 0, NULL, 0, 1, 0, UINT64_MAX },
	{ "A;Target:3;0;4142", -ENOTSUP, "normalised", 0, 0, 0, 0 },
	{ "A;Target:7;0;4142", -ENOTSUP, "normalised", 0, 0, 0, 0 },
	{ "A;Target:1,EntryPoint:0-100;0;4142", -ENOTSUP, "EntryPoint", 0, 0,
	  0, 0 },
	{ "A;Target:1,Container:CL_TYPE_ZIP;0;4142", -ENOTSUP, "Container", 0,
	  0, 0, 0 },
	{ "A;Target:0,Bogus:1;0;4142", -EINVAL, "unknown target", 0, 0, 0, 0 },
	{ "A;Target:x;0;4142", -EINVAL, "bad Target", 0, 0, 0, 0 },
	{ "A;Target:0,FileSize:9-3;0;4142", -EINVAL, "FileSize", 0, 0, 0, 0 },
	{ "A;Target:0;0", -EINVAL, "too few", 0, 0, 0, 0 },
	{ ";Target:0;0;4142", -EINVAL, "empty name", 0, 0, 0, 0 },
	{ "A;Target:0;1;4142", -EINVAL, "missing subsignature", 0, 0, 0, 0 },
	{ "A;Target:0;0;4142;", -EINVAL, "empty subsignature", 0, 0, 0, 0 },
};

static void test_ldb_parse(void)
{
	static struct scan_sig_ldb sig;

	for (size_t i = 0; i < sizeof ldb_rows / sizeof ldb_rows[0]; i++) {
		const char *why = NULL;
		int rc = scan_sig_ldb_parse(ldb_rows[i].line,
					    strlen(ldb_rows[i].line), &sig, &why);
		int ok = rc == ldb_rows[i].rc;

		if (ok && rc == 0)
			ok = sig.target == ldb_rows[i].target &&
			     sig.nsub == ldb_rows[i].nsub &&
			     sig.size_min == ldb_rows[i].smin &&
			     sig.size_max == ldb_rows[i].smax;
		if (ok && rc != 0)
			ok = why != NULL && strstr(why, ldb_rows[i].why) != NULL;
		ROW(ok, "ldb-parse", "'%s' -> %d %s", ldb_rows[i].line, rc,
		    rc ? why : "");
	}
	/* 64 subsignatures at most */
	char line[2048];
	size_t n = (size_t)snprintf(line, sizeof line, "A;Target:0;0");
	for (int k = 0; k < 65; k++)
		n += (size_t)snprintf(line + n, sizeof line - n, ";4142");
	const char *why = NULL;
	int rc = scan_sig_ldb_parse(line, n, &sig, &why);
	ROW(rc == -EINVAL, "ldb-parse", "65 subsignatures refused: %s",
	    rc ? why : "accepted");
	rc = scan_sig_ldb_parse(line, n - 5, &sig, &why);
	ROW(rc == 0 && sig.nsub == 64, "ldb-parse", "64 subsignatures: %d", rc);
}

#define DS (HS_FLAG_DOTALL | HS_FLAG_SINGLEMATCH)
#define D HS_FLAG_DOTALL

static const struct {
	const char *line; /* subsignature 0 is the one checked */
	int rc;
	const char *expect; /* expression, or a substring of the reason */
	unsigned flags;
	enum scan_sig_check check;
	uint32_t min, max;
} sub_rows[] = {
	{ "A;Target:0;0;414243", 0, "\\x41\\x42\\x43", DS, SCAN_SIG_CHECK_NONE,
	  3, 3 },
	{ "A;Target:0;0;10:414243", 0, "\\x41\\x42\\x43", D,
	  SCAN_SIG_CHECK_FIXED, 3, 3 },
	{ "A;Target:0;0;EOF-5,2:4142", 0, "\\x41\\x42", D,
	  SCAN_SIG_CHECK_FIXED, 2, 2 },
	{ "A;Target:0;0;4,4:41*42", 0, "^.{4,8}(?:\\x41.*\\x42)", DS,
	  SCAN_SIG_CHECK_NONE, 2, SCAN_SIG_UNBOUNDED },
	{ "A;Target:0;0;EP+0:4142", -ENOTSUP, "entry-point", 0, 0, 0, 0 },
	{ "A;Target:0;0;S1+4:4142", -ENOTSUP, "section", 0, 0, 0, 0 },
	{ "A;Target:0;0;4142::i", 0, "\\x41\\x42", DS | HS_FLAG_CASELESS,
	  SCAN_SIG_CHECK_NONE, 2, 2 },
	{ "A;Target:0;0;4142::w", 0, "\\x41\\x00\\x42\\x00", DS,
	  SCAN_SIG_CHECK_NONE, 4, 4 },
	{ "A;Target:0;0;4142::wa", 0, "(?:\\x41\\x42|\\x41\\x00\\x42\\x00)", DS,
	  SCAN_SIG_CHECK_NONE, 2, 4 },
	{ "A;Target:0;0;4142::iwa", 0, "(?:\\x41\\x42|\\x41\\x00\\x42\\x00)",
	  DS | HS_FLAG_CASELESS, SCAN_SIG_CHECK_NONE, 2, 4 },
	{ "A;Target:0;0;4142::f", 0,
	  "(?:^|[^A-Za-z0-9])(?:\\x41\\x42)(?:[^A-Za-z0-9]|$)", DS,
	  SCAN_SIG_CHECK_NONE, 2, 4 },
	{ "A;Target:0;0;0:4142::f", -ENOTSUP, "::f", 0, 0, 0, 0 },
	{ "A;Target:0;0;41*42::w", -ENOTSUP, "wide", 0, 0, 0, 0 },
	{ "A;Target:0;0;41??42::w", -ENOTSUP, "wide", 0, 0, 0, 0 },
	{ "A;Target:0;0;4142::q", -EINVAL, "modifier", 0, 0, 0, 0 },
	{ "A;Target:0;0;41zz", -EINVAL, "unexpected", 0, 0, 0, 0 },
	/* count modifier: all matches reported */
	{ "A;Target:0;0>2;4142", 0, "\\x41\\x42", D, SCAN_SIG_CHECK_NONE, 2, 2 },
	/* PCRE */
	{ "A;Target:0;0&1;4142;0/ab+c/", 0, "(?:ab+c)", HS_FLAG_SINGLEMATCH,
	  SCAN_SIG_CHECK_NONE, 0, SCAN_SIG_UNBOUNDED },
	{ "A;Target:0;0&1;4142;0/ab+c/ismA", 0, "^(?:ab+c)",
	  HS_FLAG_SINGLEMATCH | HS_FLAG_CASELESS | HS_FLAG_DOTALL |
		  HS_FLAG_MULTILINE, SCAN_SIG_CHECK_NONE, 0, SCAN_SIG_UNBOUNDED },
	{ "A;Target:0;0&1;4142;*:0/a/b/x", 0, "(?x)(?:a/b)",
	  HS_FLAG_SINGLEMATCH, SCAN_SIG_CHECK_NONE, 0, SCAN_SIG_UNBOUNDED },
	{ "A;Target:0;0&1;4142;200:0/abc/", 0, "^[\\x00-\\xff]{200}(?:abc)",
	  HS_FLAG_SINGLEMATCH, SCAN_SIG_CHECK_NONE, 0, SCAN_SIG_UNBOUNDED },
	{ "A;Target:0;0&1;4142;10,5:0/abc/", 0,
	  "^[\\x00-\\xff]{10,15}(?:abc)", HS_FLAG_SINGLEMATCH,
	  SCAN_SIG_CHECK_NONE, 0, SCAN_SIG_UNBOUNDED },
	{ "A;Target:0;0&1;4142;10:0/abc/A", 0, "^[\\x00-\\xff]{10}(?:abc)",
	  HS_FLAG_SINGLEMATCH, SCAN_SIG_CHECK_NONE, 0, SCAN_SIG_UNBOUNDED },
	{ "A;Target:0;0&1;4142;10,5:0/abc/A", -ENOTSUP, "shift", 0, 0, 0, 0 },
	{ "A;Target:0;0&1;4142;0:0/abc/", 0, "^(?:abc)", HS_FLAG_SINGLEMATCH,
	  SCAN_SIG_CHECK_NONE, 0, SCAN_SIG_UNBOUNDED },
	{ "A;Target:0;0&1;4142;0:0/abc/A", 0, "^(?:abc)", HS_FLAG_SINGLEMATCH,
	  SCAN_SIG_CHECK_NONE, 0, SCAN_SIG_UNBOUNDED },
	{ "A;Target:0;0&1;4142;EOF-5:0/abc/", -ENOTSUP, "EOF", 0, 0, 0, 0 },
	{ "A;Target:0;0&1;4142;EP+0:0/abc/", -ENOTSUP, "entry-point", 0, 0, 0,
	  0 },
	{ "A;Target:0;0&1;4142;10:0/abc/e", -ENOTSUP, "encompass", 0, 0, 0, 0 },
	{ "A;Target:0;0&1;4142;x:0/abc/", -EINVAL, "bad offset", 0, 0, 0, 0 },
	{ "A;Target:0;0&1;4142;0/abc/E", -ENOTSUP, "flag E", 0, 0, 0, 0 },
	{ "A;Target:0;0&1;4142;0/abc/U", 0, "(?:abc)", HS_FLAG_SINGLEMATCH,
	  SCAN_SIG_CHECK_NONE, 0, SCAN_SIG_UNBOUNDED },
	{ "A;Target:0;0&1;4142;0/abc/g", 0, "(?:abc)", 0,
	  SCAN_SIG_CHECK_NONE, 0, SCAN_SIG_UNBOUNDED },
	{ "A;Target:0;0&1>1;4142;0/abc/", 0, "(?:abc)", 0,
	  SCAN_SIG_CHECK_NONE, 0, SCAN_SIG_UNBOUNDED },
	{ "A;Target:0;0&1;4142;7374756c747a676574737265676578/abc/", -ENOTSUP,
	  "bypass", 0, 0, 0, 0 },
	{ "A;Target:0;0&1;4142;0/abc/z", -EINVAL, "flag", 0, 0, 0, 0 },
	{ "A;Target:0;0&1;4142;1/abc/", -EINVAL, "own", 0, 0, 0, 0 },
	{ "A;Target:0;0&1;4142;2/abc/", -EINVAL, "missing", 0, 0, 0, 0 },
	{ "A;Target:0;0&1;4142;0/abc", -EINVAL, "closing", 0, 0, 0, 0 },
	{ "A;Target:0;0;0(>>26#ib2#=0)", -ENOTSUP, "byte-compare", 0, 0, 0, 0 },
	{ "A;Target:0;0;${6-7}0$", -ENOTSUP, "macro", 0, 0, 0, 0 },
};

static void test_sub_parse(void)
{
	static struct scan_sig_ldb sig;
	char out[4096];

	for (size_t i = 0; i < sizeof sub_rows / sizeof sub_rows[0]; i++) {
		const char *why = NULL;
		struct scan_sig_sub sub;
		int rc = scan_sig_ldb_parse(sub_rows[i].line,
					    strlen(sub_rows[i].line), &sig, &why);
		unsigned k = sig.nsub - 1; /* the last one */

		if (rc == 0)
			rc = scan_sig_ldb_sub_parse(
				&sig, k, (int)((sig.counted >> k) & 1),
				&sub, out, sizeof out, &why);
		int ok = rc == sub_rows[i].rc;
		if (ok && rc == 0)
			ok = strcmp(out, sub_rows[i].expect) == 0 &&
			     sub.hs_flags == sub_rows[i].flags &&
			     sub.check == sub_rows[i].check &&
			     sub.min_len == sub_rows[i].min &&
			     sub.max_len == sub_rows[i].max;
		if (ok && rc != 0)
			ok = strstr(why, sub_rows[i].expect) != NULL;
		/* every accepted expression passes Hyperscan's own parser */
		if (ok && rc == 0) {
			hs_expr_info_t *info = NULL;
			hs_compile_error_t *cerr = NULL;
			ok = hs_expression_info(out, sub.hs_flags, &info,
						&cerr) == HS_SUCCESS;
			free(info);
			hs_free_compile_error(cerr);
		}
		ROW(ok, "ldb-subsig", "'%s' -> %d %s (flags %#x check %d len "
		    "%u-%u)", sub_rows[i].line, rc, rc ? why : out,
		    rc ? 0 : sub.hs_flags, rc ? 0 : (int)sub.check,
		    rc ? 0 : sub.min_len, rc ? 0 : sub.max_len);
	}
}

/* ---- through the database ----------------------------------------------- */

/* Load files (name, text pairs, NULL-terminated) into a builder. */
static struct scan_rules *load(const char *const *files)
{
	struct scan_rules *r = scan_rules_create();
	char path[512];

	diag_log[0] = '\0';
	for (unsigned i = 0; files[i] != NULL; i += 2) {
		write_file(files[i], files[i + 1]);
		snprintf(path, sizeof path, "%s/%s", tmpdir, files[i]);
		scan_rules_load_sigfile(r, path, diag_collect, NULL);
	}
	return r;
}

/* Names that hit on data as one leaf of type ft (hash, then
 * begin/scan/end as the pipeline does), space-separated. */
static const char *leaf_hits(const struct scan_db *db,
			     struct scan_db_scratch *s, const uint8_t *d,
			     size_t n, enum scan_ftype ft)
{
	static char buf[512];
	const struct scan_hit *h;
	uint8_t md5[16], sha1[20], sha256[32];

	scan_db_hits_reset(s);
	scan_hash_all(d, n, md5, sha1, sha256);
	scan_db_hash_match(db, s, md5, sha1, sha256, n, 1);
	scan_db_leaf_begin(s, scan_sig_target_of_ftype((int)ft));
	scan_db_scan(db, s, d, n, SCAN_WHERE_ATTACHMENT, 1);
	scan_db_leaf_end(db, s, n, 1);
	/* a text view afterwards does not feed subsignature counts */
	scan_db_scan(db, s, d, n, SCAN_WHERE_BODY, 1);
	buf[0] = '\0';
	unsigned nh = scan_db_hits(s, &h);
	for (unsigned i = 0; i < nh; i++) {
		size_t l = strlen(buf);
		snprintf(buf + l, sizeof buf - l, "%s%s", l ? " " : "",
			 scan_db_rule(db, h[i].rule)->name);
	}
	return buf;
}

static const char ldb_text[] =
	"# logical signatures for the matching rows\n"
	"L.And;Target:0;0&1;6d616c77;77617265\n"
	"L.Or;Target:0;0|1;71717171;72727272\n"
	"L.Count;Target:0;0>2;7a7a\n"
	"L.Exact;Target:0;0=2;7a7a\n"
	"L.Distinct;Target:0;(0|1|2)>2,2;78787878;79797979;76767676\n"
	"L.Off;Target:0;0&1;0:4d5a;EOF-4:454e4421\n"
	"L.Nocase;Target:0;0;6576696c636f6465::i\n"
	"L.Wide;Target:0;0;6576696c::w\n"
	"L.Word;Target:0;0;6b696c6c::f\n"
	"L.Pcre;Target:0;0&1;7061796c6f6164;0/pay[a-z]+ad\\s+(go|run)/\n"
	"L.PE;Engine:51-255,Target:1;0;50450000\n"
	"L.Size;Target:0,FileSize:10-20;0;73697a65\n"
	"L.PcreCnt;Target:0;0&1>1;2323;0/b[0-9]/\n"
	"L.TrigCnt;Target:0;1;7474;0>1/c[0-9]/\n";

static const struct {
	const char *data;
	enum scan_ftype ft;
	const char *want;
} match_rows[] = {
	{ "some malw and ware here", SCAN_FT_TEXT, "L.And" },
	{ "only malw here", SCAN_FT_TEXT, "" },
	{ "rrrr", SCAN_FT_TEXT, "L.Or" },
	{ "qqqq rrrr", SCAN_FT_TEXT, "L.Or" },
	{ "zz zz", SCAN_FT_TEXT, "L.Exact" },
	{ "zz zz zz", SCAN_FT_TEXT, "L.Count" },
	{ "zz", SCAN_FT_TEXT, "" },
	{ "xxxx xxxx xxxx", SCAN_FT_TEXT, "" },      /* 3 matches, 1 distinct */
	{ "xxxx yyyy xxxx", SCAN_FT_TEXT, "L.Distinct" },
	{ "MZ......END!", SCAN_FT_BINARY, "L.Off" },
	{ ".MZ.....END!", SCAN_FT_BINARY, "" },      /* MZ not at 0 */
	{ "MZ.....END!.", SCAN_FT_BINARY, "" },      /* END! not at EOF-4 */
	{ "an EvilCode sample", SCAN_FT_TEXT, "L.Nocase" },
	{ "e\0v\0i\0l\0", SCAN_FT_BINARY, "L.Wide" },
	{ "evil", SCAN_FT_TEXT, "" },                /* ascii only: not wide */
	{ "to kill, or", SCAN_FT_TEXT, "L.Word" },
	{ "skills", SCAN_FT_TEXT, "" },
	{ "payload go", SCAN_FT_TEXT, "L.Pcre" },
	{ "paysomeload go", SCAN_FT_TEXT, "" },      /* trigger not met */
	{ "payload stop", SCAN_FT_TEXT, "" },        /* regex not met */
	{ "MZxxPE\0\0", SCAN_FT_PE, "L.PE" },
	{ "MZxxPE\0\0", SCAN_FT_BINARY, "" },        /* target 1 needs a PE */
	{ "MZxxPE\0\0", SCAN_FT_MSDOS, "L.PE" },     /* or an MZ file */
	{ "MZxxPE\0\0", SCAN_FT_ELF, "" },
	{ "size 12 byt", SCAN_FT_TEXT, "L.Size" },   /* 11 bytes */
	{ "size", SCAN_FT_TEXT, "" },                /* 4 bytes */
	{ "size ..............................", SCAN_FT_TEXT, "" },
	{ "## b1 b2", SCAN_FT_TEXT, "L.PcreCnt" },   /* regex twice */
	{ "## b1", SCAN_FT_TEXT, "" },               /* once: not >1 */
	{ "tt c1 tt", SCAN_FT_TEXT, "L.TrigCnt" },   /* trigger 0>1 holds */
	{ "tt c1", SCAN_FT_TEXT, "" },               /* trigger fails */
};

static size_t row_len(const char *d)
{
	/* the wide and PE rows carry NULs: their length is fixed */
	if (d[0] == 'e' && d[1] == '\0')
		return 8;
	if (strncmp(d, "MZxxPE", 6) == 0)
		return 8;
	return strlen(d);
}

static void test_match(void)
{
	const char *files[] = { "m.ldb", ldb_text, NULL };
	struct scan_rules *r = load(files);
	struct scan_db *db = NULL;
	char err[256];
	int rc = scan_db_build(r, NULL, &db, err, sizeof err);

	ROW(rc == 0, "ldb-match", "build: %s", rc ? err : "ok");
	if (rc != 0) {
		scan_rules_free(r);
		return;
	}
	const struct scan_sigfile_stats *st = scan_rules_file_stats(r, 0);
	ROW(st->loaded == 14 && st->logical == 14 && st->rejected == 0 &&
		    st->libclamav == 0, "ldb-match",
	    "all 14 loaded (loaded %u logical %u rejected %u libclamav %u) %s",
	    st->loaded, st->logical, st->rejected, st->libclamav, diag_log);
	struct scan_db_scratch *s = scan_db_scratch_create(db);
	for (size_t i = 0; i < sizeof match_rows / sizeof match_rows[0]; i++) {
		const char *got = leaf_hits(db, s,
					    (const uint8_t *)match_rows[i].data,
					    row_len(match_rows[i].data),
					    match_rows[i].ft);
		ROW(strcmp(got, match_rows[i].want) == 0, "ldb-match",
		    "row %zu '%.20s' as %s -> '%s' (want '%s')", i,
		    match_rows[i].data, scan_ftype_name(match_rows[i].ft), got,
		    match_rows[i].want);
	}
	/* outside begin/end, subsignatures count nothing */
	scan_db_hits_reset(s);
	scan_db_scan(db, s, (const uint8_t *)"malw ware", 9,
		     SCAN_WHERE_ATTACHMENT, 1);
	int fired = scan_db_leaf_end(db, s, 9, 1);
	ROW(fired == 0, "ldb-match", "no counting outside a leaf: fired %d",
	    fired);

	/* the same from the cache file */
	char cache[512];
	struct scan_db *db2 = NULL;
	snprintf(cache, sizeof cache, "%s/cache", tmpdir);
	scan_db_free(db);
	db = NULL;
	rc = scan_db_build(r, cache, &db, err, sizeof err);
	scan_db_scratch_free(s);
	scan_rules_free(r);
	r = load(files);
	int rc2 = scan_db_build(r, cache, &db2, err, sizeof err);
	ROW(rc == 0 && rc2 == 0 && scan_db_loaded_from_cache(db2), "ldb-cache",
	    "second build from the cache: %d %d %d", rc, rc2,
	    db2 ? scan_db_loaded_from_cache(db2) : -1);
	if (db2 != NULL) {
		s = scan_db_scratch_create(db2);
		const char *got = leaf_hits(db2, s,
					    (const uint8_t *)"xxxx yyyy xxxx",
					    14, SCAN_FT_TEXT);
		ROW(strcmp(got, "L.Distinct") == 0, "ldb-cache",
		    "cached database evaluates: '%s'", got);
		got = leaf_hits(db2, s, (const uint8_t *)"payload go", 10,
				SCAN_FT_TEXT);
		ROW(strcmp(got, "L.Pcre") == 0, "ldb-cache",
		    "cached PCRE trigger: '%s'", got);
		scan_db_scratch_free(s);
	}
	scan_db_free(db);
	scan_db_free(db2);
	scan_rules_free(r);
}

/* ---- allow-lists, ignores, the report ----------------------------------- */

static void test_fp_ign(void)
{
	/* md5("clean file") and sha256("other file") */
	static const uint8_t clean[] = "clean file with malw and ware";
	static const uint8_t other[] = "other file with malw and ware";
	uint8_t md5[16], sha256[32];
	char fp[128], sfp[160];

	scan_hash_all(clean, sizeof clean - 1, md5, NULL, NULL);
	scan_hash_all(other, sizeof other - 1, NULL, NULL, sha256);
	int n = 0;
	for (int i = 0; i < 16; i++)
		n += snprintf(fp + n, sizeof fp - (size_t)n, "%02x", md5[i]);
	snprintf(fp + n, sizeof fp - (size_t)n, ":%zu:Clean.File\n",
		 sizeof clean - 1);
	n = 0;
	for (int i = 0; i < 32; i++)
		n += snprintf(sfp + n, sizeof sfp - (size_t)n, "%02x", sha256[i]);
	snprintf(sfp + n, sizeof sfp - (size_t)n, ":*:Other.File\n");

	const char *files[] = {
		"a.ldb", "L.And;Target:0;0&1;6d616c77;77617265\n"
			 "L.Gone;Target:0;0;6d616c77\n",
		"b.ndb", "N.Malw:0:*:6d616c77\nN.Gone:0:*:77617265\n",
		"c.fp", fp,
		"d.sfp", sfp,
		"e.ign2", "L.Gone\nN.Gone:0123456789abcdef0123456789abcdef\n",
		"f.ign", "b.ndb:9:Nothing.Such\n",
		NULL,
	};
	struct scan_rules *r = load(files);
	struct scan_db *db = NULL;
	char err[256];
	int rc = scan_db_build(r, NULL, &db, err, sizeof err);

	ROW(rc == 0, "fp-ign", "build: %s", rc ? err : "ok");
	if (rc != 0) {
		scan_rules_free(r);
		return;
	}
	struct scan_db_scratch *s = scan_db_scratch_create(db);
	static const uint8_t plain[] = "plain file with malw and ware";
	const char *got = leaf_hits(db, s, plain, sizeof plain - 1, SCAN_FT_TEXT);
	ROW(strcmp(got, "N.Malw L.And") == 0, "fp-ign",
	    "not listed: '%s' (ignored L.Gone, N.Gone absent)", got);
	got = leaf_hits(db, s, clean, sizeof clean - 1, SCAN_FT_TEXT);
	ROW(got[0] == '\0', "fp-ign", ".fp MD5 suppresses every virus hit: '%s'",
	    got);
	got = leaf_hits(db, s, other, sizeof other - 1, SCAN_FT_TEXT);
	ROW(got[0] == '\0', "fp-ign", ".sfp SHA-256 suppresses: '%s'", got);
	/* the allow-listing is per leaf: the next leaf is scanned again */
	scan_db_hits_reset(s);
	uint8_t m2[16], s2[32];
	scan_hash_all(clean, sizeof clean - 1, m2, NULL, s2);
	scan_db_hash_match(db, s, m2, NULL, s2, sizeof clean - 1, 1);
	scan_db_scan(db, s, clean, sizeof clean - 1, SCAN_WHERE_ATTACHMENT, 1);
	scan_db_hash_match(db, s, NULL, NULL, NULL, sizeof plain - 1, 2);
	scan_db_scan(db, s, plain, sizeof plain - 1, SCAN_WHERE_ATTACHMENT, 2);
	const struct scan_hit *h;
	unsigned nh = scan_db_hits(s, &h);
	ROW(nh == 1 && h[0].part == 2, "fp-ign",
	    "allow-listed part 1, not part 2: %u hits", nh);

	const struct scan_sigfile_stats *a = scan_rules_file_stats(r, 0),
					*b = scan_rules_file_stats(r, 1),
					*c = scan_rules_file_stats(r, 2),
					*d = scan_rules_file_stats(r, 3),
					*e = scan_rules_file_stats(r, 4),
					*f = scan_rules_file_stats(r, 5);
	ROW(a->loaded == 1 && a->logical == 1 && a->ignored == 1 &&
		    b->loaded == 1 && b->ignored == 1 && c->allow == 1 &&
		    d->allow == 1 && e->ignores == 2 && f->ignores == 1,
	    "fp-ign", "counts: a %u/%u/%u b %u/%u fp %u sfp %u ign2 %u ign %u",
	    a->loaded, a->logical, a->ignored, b->loaded, b->ignored, c->allow,
	    d->allow, e->ignores, f->ignores);
	ROW(strstr(diag_log, "a.ldb:2: logical signature 'L.Gone' ignored: "
			     "listed in ") != NULL &&
		    strstr(diag_log, "e.ign2:1\n") != NULL,
	    "fp-ign", "ignore reported: %s", diag_log);
	scan_db_scratch_free(s);
	scan_db_free(db);
	scan_rules_free(r);
}

static void test_report(void)
{
	const char *files[] = {
		"r.ldb",
		"R.Ok;Target:0;0;41424344\n"
		"R.Html;Target:3;0;41424344\n"
		"R.Html2;Target:3;0;45464748\n"
		"R.Ep;Target:1;0;EP+0:4142\n"
		"R.Bad;Target:0;0&1;4142\n"
		"R.Hs;Target:0;0&1;4142;0/(a)\\1/\n"
		"R.Count;Target:0;0=2;6162\n",
		"s.mdb", "# pe sections\n1024:0123456789abcdef0123456789abcdef:P.A\n"
			 "2048:0123456789abcdef0123456789abcdef:P.B\n",
		NULL,
	};
	struct scan_rules *r = load(files);
	struct scan_db *db = NULL;
	char err[256];
	int rc = scan_db_build(r, NULL, &db, err, sizeof err);
	const struct scan_sigfile_stats *st = scan_rules_file_stats(r, 0),
					*pe = scan_rules_file_stats(r, 1);

	ROW(rc == 0 && st->loaded == 2 && st->logical == 2 &&
		    st->libclamav == 4 && st->rejected == 1,
	    "sig-report", "r.ldb: loaded %u libclamav %u rejected %u: %s",
	    st->loaded, st->libclamav, st->rejected, diag_log);
	int html = -1, ep = -1, bad = -1, hs = -1;
	for (unsigned k = 0; k < st->nreasons; k++) {
		const struct scan_sig_reason *x = &st->reasons[k];
		if (strstr(x->why, "normalised") && x->libclamav)
			html = (int)x->count;
		if (strstr(x->why, "entry-point") && x->libclamav)
			ep = (int)x->count;
		if (strstr(x->why, "missing subsignature") && !x->libclamav)
			bad = (int)x->count;
		if (strstr(x->why, "Hyperscan") && x->libclamav)
			hs = (int)x->count;
	}
	ROW(html == 2 && ep == 1 && bad == 1 && hs == 1, "sig-report",
	    "grouped reasons: html %d ep %d malformed %d hyperscan %d (%u "
	    "groups)", html, ep, bad, hs, st->nreasons);
	ROW(pe->libclamav == 2 && pe->nreasons == 1 &&
		    pe->reasons[0].count == 2 &&
		    strstr(diag_log, "s.mdb:0: 2 PE section hash signatures left "
				     "to libclamav") != NULL,
	    "sig-report", ".mdb lines counted as libclamav only: %u", pe->libclamav);
	ROW(strstr(diag_log, "r.ldb:2: signature 'R.Html' left to libclamav: "
			     "target type 3/4/7") != NULL &&
		    strstr(diag_log, "r.ldb:6: logical signature 'R.Hs' "
				     "(subsignature 1) left to libclamav: "
				     "Hyperscan: ") != NULL,
	    "sig-report", "reported per line: %s", diag_log);
	char line[1024];
	scan_sigfile_stats_format(st, line, sizeof line);
	ROW(strncmp(line, "2 to Hyperscan (2 logical); 4 left to libclamav, "
			  "1 rejected; reasons: 2x libclamav: target type 3/4/7",
		    87) == 0, "sig-report", "summary line: %s", line);
	scan_sigfile_stats_format(pe, line, sizeof line);
	ROW(strcmp(line, "2 left to libclamav; reasons: 2x libclamav: PE "
			 "section hash (.mdb/.msb): libclamav only") == 0,
	    "sig-report", "summary line: %s", line);
	char tiny[8];
	size_t want = scan_sigfile_stats_format(st, tiny, sizeof tiny);
	ROW(want > sizeof tiny && strlen(tiny) == sizeof tiny - 1, "sig-report",
	    "truncated to fit: '%s', wanted %zu", tiny, want);
	scan_db_free(db);
	scan_rules_free(r);
}

/* ---- the same answers as libclamav -------------------------------------- */

static const char diff_ldb[] =
	"D.And;Target:0;0&1;6d616c77617265;7061796c6f6164\n"
	"D.Or;Target:0;(0|1)&2;616161;626262;636363\n"
	"D.Count;Target:0;0>2;7a7a7a\n"
	"D.Dist;Target:0;(0|1|2)>1,2;717171;727272;737373\n"
	"D.Off;Target:0;0&1;0:4142;EOF-4:454e4421\n"
	"D.Nocase;Target:0;0;6576696c636f6465::i\n"
	"D.Wide;Target:0;0;6576696c::w\n"
	"D.Pcre;Target:0;0&1;7472696767;0/trigg[0-9]+x/\n"
	"D.Size;Engine:51-255,Target:0,FileSize:10-20;0;73697a65\n"
	"D.Mz;Engine:51-255,Target:1;0;444f53534947\n"
	"D.PcreOff;Target:0;0&1;74726967;10:0/OFFRE[0-9]/\n"
	"D.PcreOffA;Target:0;0&1;74726967;12:0/ANCRE[0-9]/A\n"
	"D.PcreWin;Target:0;0&1;74726967;10,4:0/WINRE[0-9]/\n"
	"D.Word;Target:0;0;6b696c6c::f\n"
	"D.WideA;Target:0;0;6d616c6963::wa\n"
	"D.VarOff;Target:0;0;4,4:564152*7d7d::i\n"
	"D.Gap;Target:0;0&1;474150{-3}4150;EOF-7,2:454e44{1-2}5a5a\n"
	"D.VarCnt;Target:0;0>1;5858*5959\n"
	"D.Lt;Target:0;0&1<2;4c4c4c;4d4d4d\n"
	"D.Prec;Target:0;0|1&2;505031;505032;505033\n"
	"D.Blk;Target:0;(0|1)=3,2;424b31;424b32\n"
	"D.TrigCnt;Target:0;1;545454;0>1/TC[0-9]/\n";

/* The first 16 bytes of d[0..n) with anything unprintable as '.'. */
static const char *shown(const char *d, size_t n)
{
	static char buf[17];
	size_t i;

	for (i = 0; i < n && i < 16; i++)
		buf[i] = d[i] >= 0x20 && d[i] < 0x7f ? d[i] : '.';
	buf[i] = '\0';
	return buf;
}

/* libclamav skips files of 5 bytes or fewer as too small to scan: every
 * buffer here is longer, so both engines really look at it. */
static void test_differential(void)
{
	static const struct {
		const char *d;
		size_t n;
	} bufs[] = {
		{ "some malware and a payload", 26 },
		{ "some malware only", 17 },
		{ "aaa ccc", 7 },
		{ "bbb ccc", 7 },
		{ "aaa bbb", 7 },
		{ "zzz zzz zzz", 11 },
		{ "zzz zzz", 7 },
		{ "qqq rrr", 7 },
		{ "qqq qqq", 7 },
		{ "AB......END!", 12 },
		{ "MZ......END!", 12 }, /* another first word: neither */
		{ ".AB.....END!", 12 },
		{ "AB.....END!.", 12 },
		{ "an EVILCODE here", 16 },
		{ "e\0v\0i\0l\0", 8 },
		{ "trigg12x", 8 },
		{ "trigg x", 7 },
		{ "size 11 byt", 11 },
		{ "size .....................", 26 },
		{ "nothing at all", 14 },
		/* target 1: an "MZ" file is one for both, text is not */
		{ "MZ\x90\0\3\0\0\0\4\0\0\0\xff\xff\0\0 DOSSIG ........", 32 },
		{ "mz text with DOSSIG", 19 },
		/* PCRE at offset 10: the regex runs from byte 10 on */
		{ "trig.....OFFRE1", 15 },
		{ "trig......OFFRE1", 16 },
		{ "trig................OFFRE1", 26 },
		{ "OFFRE1....trig", 14 },
		/* anchored at offset 12 */
		{ "trig........ANCRE1", 18 },
		{ "trig.........ANCRE1", 19 },
		{ "trig.......ANCRE1", 17 },
		/* start in [10, 14] */
		{ "trig......WINRE1", 16 },
		{ "trig..........WINRE1", 20 },
		{ "trig...........WINRE1", 21 },
		{ "trig.....WINRE1", 15 },
		/* ::f, ::wa, a variable body at 4,4 with ::i, gaps */
		{ "to kill, or", 11 },
		{ "skills", 6 },
		{ "kill at the start", 17 },
		{ "at the end: kill", 16 },
		{ "kill9 and more", 14 },
		{ "a malice", 8 },
		{ "m\0a\0l\0i\0c\0e\0", 12 },
		{ "m\0a\0l\0i\0c\0", 10 },
		{ "....var{xx}}", 12 },
		{ "........VAR{}}", 14 },
		{ ".........var{x}}", 16 },
		{ "GAP..AP...END.ZZ.", 17 },
		{ "GAP..AP.END.ZZ...", 17 },
		{ "GAP....AP.END.ZZ.", 17 },
		/* counts of a variable-length body */
		{ "XX..YY..YY", 10 },
		{ "XX.YY.XX.YY", 11 },
		{ "XX..YY", 6 },
		/* 0&1<2, 0|1&2 (right to left), (0|1)=3,2 */
		{ "..LLL...", 8 },
		{ "LLL MMM", 7 },
		{ "LLL MMM MMM", 11 },
		{ "PP1 ....", 8 },
		{ "PP2 .....", 9 },
		{ "PP2 PP3", 7 },
		{ "BK1 BK1 BK2", 11 },
		{ "BK1 BK1 BK1", 11 },
		{ "BK1 BK2", 7 },
		/* a PCRE whose trigger counts: 0>1 */
		{ "TTT TC1 TTT", 11 },
		{ "TTT TC1 ...", 11 },
	};
	const char *files[] = { "diff.ldb", diff_ldb, NULL };
	char dir[300], path[512], err[512];

	snprintf(dir, sizeof dir, "%.256s/diff", tmpdir);
	mkdir(dir, 0700);
	snprintf(path, sizeof path, "%s/diff.ldb", dir);
	FILE *f = fopen(path, "w");
	fputs(diff_ldb, f);
	fclose(f);

	struct scan_rules *r = load(files);
	struct scan_db *db = NULL;
	int rc = scan_db_build(r, NULL, &db, err, sizeof err);
	const char *paths[] = { dir, NULL };
	struct clam_options o;
	struct clam_engine *ce = NULL;
	clam_options_init(&o);
	o.heuristics = 0;
	int crc = clam_engine_create(paths, &o, NULL, NULL, &ce, err, sizeof err);
	ROW(rc == 0 && crc == 0, "differential", "both engines built: %d %d %s",
	    rc, crc, crc ? err : "");
	if (rc != 0 || crc != 0) {
		scan_db_free(db);
		clam_engine_free(ce);
		scan_rules_free(r);
		return;
	}
	struct scan_db_scratch *s = scan_db_scratch_create(db);
	struct clam_ctx *cc = clam_ctx_create(ce);
	for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) {
		const uint8_t *d = (const uint8_t *)bufs[i].d;
		const char *ours = leaf_hits(db, s, d, bufs[i].n,
					     scan_filetype(d, bufs[i].n));
		struct clam_result cr;
		clam_scan(cc, d, bufs[i].n, NULL, "diff", &cr);
		/* libclamav may suffix names (.UNOFFICIAL) */
		const char *theirs = cr.cls == CLAM_VIRUS ? cr.name : "";
		int same = (ours[0] == '\0') == (theirs[0] == '\0') &&
			   (ours[0] == '\0' ||
			    strncmp(theirs, ours, strlen(ours)) == 0);
		ROW(same, "differential", "'%s' (%zu bytes): ours '%s', "
		    "libclamav '%s'", shown(bufs[i].d, bufs[i].n), bufs[i].n,
		    ours, theirs);
	}
	clam_ctx_free(cc);
	scan_db_scratch_free(s);
	clam_engine_free(ce);
	scan_db_free(db);
	scan_rules_free(r);
}

/* ---- .ndb target types ------------------------------------------------ */

static const char ndb_target_text[] =
	"N.Any:0:*:414e595349472130\n"        /* ANYSIG!0 */
	"N.Pe:1:*:50455349472131\n"           /* PESIG!1 */
	"N.Ole:2:*:4f4c455349472132\n"        /* OLESIG!2 */
	"N.Elf:6:*:454c465349472136\n"        /* ELFSIG!6 */
	"N.Pdf:10:*:504446534947213130\n"     /* PDFSIG!10 */
	"N.PeAt4:1:4:50455349472131\n"        /* PESIG!1 at 4 */
	"N.Text:7:*:5458545349472137\n"       /* TXTSIG!7: libclamav */
	"N.Html:3:*:5458545349472137\n"       /* libclamav */
	"N.Mail:4:*:5458545349472137\n";      /* libclamav */

#define TYPED "PESIG!1 OLESIG!2 ELFSIG!6 PDFSIG!10"

static const struct {
	const char *data;
	enum scan_ftype ft;
	const char *want;
} ndb_target_rows[] = {
	{ "....PESIG!1", SCAN_FT_PE, "N.Pe N.PeAt4" },
	{ "....PESIG!1", SCAN_FT_MSDOS, "N.Pe N.PeAt4" }, /* MZ: target 1 */
	{ ".....PESIG!1", SCAN_FT_PE, "N.Pe" },           /* offset 5 */
	{ "....PESIG!1", SCAN_FT_TEXT, "" },  /* nor in the text view after */
	{ "....PESIG!1", SCAN_FT_BINARY, "" },
	{ TYPED, SCAN_FT_OLE2, "N.Ole" },
	{ TYPED, SCAN_FT_ELF, "N.Elf" },
	{ TYPED, SCAN_FT_PDF, "N.Pdf" },
	{ TYPED, SCAN_FT_TEXT, "" },
	{ TYPED, SCAN_FT_HTML, "" },
	{ TYPED, SCAN_FT_MACHO, "" },
	{ TYPED " ANYSIG!0", SCAN_FT_ELF, "N.Elf N.Any" },
	{ "ANYSIG!0", SCAN_FT_TEXT, "N.Any" },
	{ "ANYSIG!0", SCAN_FT_BINARY, "N.Any" },
	{ "TXTSIG!7", SCAN_FT_TEXT, "" }, /* left to libclamav */
};

static void ndb_target_rows_check(const struct scan_db *db,
				  struct scan_db_scratch *s, const char *how)
{
	for (size_t i = 0; i < sizeof ndb_target_rows / sizeof ndb_target_rows[0];
	     i++) {
		const char *got = leaf_hits(db, s,
					    (const uint8_t *)ndb_target_rows[i].data,
					    strlen(ndb_target_rows[i].data),
					    ndb_target_rows[i].ft);
		ROW(strcmp(got, ndb_target_rows[i].want) == 0, "ndb-target",
		    "%s row %zu '%.20s' as %s -> '%s' (want '%s')", how, i,
		    ndb_target_rows[i].data,
		    scan_ftype_name(ndb_target_rows[i].ft), got,
		    ndb_target_rows[i].want);
	}
}

/* Names of the hits in s, space-separated. */
static const char *hit_names(const struct scan_db *db,
			     const struct scan_db_scratch *s)
{
	static char buf[256];
	const struct scan_hit *h;
	unsigned nh = scan_db_hits(s, &h);

	buf[0] = '\0';
	for (unsigned i = 0; i < nh; i++) {
		size_t l = strlen(buf);
		snprintf(buf + l, sizeof buf - l, "%s%s", l ? " " : "",
			 scan_db_rule(db, h[i].rule)->name);
	}
	return buf;
}

static void test_ndb_target(void)
{
	const char *files[] = { "t.ndb", ndb_target_text, NULL };
	struct scan_rules *r = load(files);
	struct scan_db *db = NULL;
	char err[256];
	int rc = scan_db_build(r, NULL, &db, err, sizeof err);

	ROW(rc == 0, "ndb-target", "build: %s", rc ? err : "ok");
	if (rc != 0) {
		scan_rules_free(r);
		return;
	}
	const struct scan_sigfile_stats *st = scan_rules_file_stats(r, 0);
	ROW(st->loaded == 6 && st->libclamav == 3 && st->rejected == 0 &&
		    st->nreasons == 1 &&
		    strstr(st->reasons[0].why, "normalised") != NULL,
	    "ndb-target", "6 loaded, 3 left to libclamav (loaded %u "
	    "libclamav %u rejected %u) %s", st->loaded, st->libclamav,
	    st->rejected, diag_log);
	struct scan_db_scratch *s = scan_db_scratch_create(db);
	ndb_target_rows_check(db, s, "built");

	/* outside a leaf (headers, views, a raw scan) a target > 0 never
	 * counts, target 0 does; inside one the where bit does not matter */
	static const uint8_t both[] = "PESIG!1 ANYSIG!0";
	scan_db_hits_reset(s);
	scan_db_scan(db, s, both, sizeof both - 1, SCAN_WHERE_ATTACHMENT, 1);
	const char *got = hit_names(db, s);
	ROW(strcmp(got, "N.Any") == 0, "ndb-target",
	    "outside a leaf: '%s' (want 'N.Any')", got);
	scan_db_hits_reset(s);
	scan_db_leaf_begin(s, 1);
	scan_db_scan(db, s, both, sizeof both - 1, SCAN_WHERE_BODY, 2);
	scan_db_leaf_end(db, s, sizeof both - 1, 2);
	scan_db_scan(db, s, both, sizeof both - 1, SCAN_WHERE_BODY, 3);
	got = hit_names(db, s);
	ROW(strcmp(got, "N.Pe N.Any N.Any") == 0, "ndb-target",
	    "a body leaf of type 1, then a view of part 3: '%s' (want "
	    "'N.Pe N.Any N.Any')", got);
	/* a reset closes the leaf */
	scan_db_hits_reset(s);
	scan_db_leaf_begin(s, 1);
	scan_db_hits_reset(s);
	scan_db_scan(db, s, both, sizeof both - 1, SCAN_WHERE_ATTACHMENT, 1);
	got = hit_names(db, s);
	ROW(strcmp(got, "N.Any") == 0, "ndb-target",
	    "after a reset no leaf is open: '%s'", got);
	scan_db_scratch_free(s);
	scan_db_free(db);
	scan_rules_free(r);

	/* the same from the cache file */
	char cache[512];
	snprintf(cache, sizeof cache, "%s/ndb-cache", tmpdir);
	for (int pass = 0; pass < 2; pass++) {
		r = load(files);
		rc = scan_db_build(r, cache, &db, err, sizeof err);
		st = scan_rules_file_stats(r, 0);
		ROW(rc == 0 && scan_db_loaded_from_cache(db) == pass &&
			    st->loaded == 6 && st->libclamav == 3,
		    "ndb-target", "cache pass %d: rc %d from cache %d loaded "
		    "%u libclamav %u", pass, rc, rc ? -1
		    : scan_db_loaded_from_cache(db), st->loaded, st->libclamav);
		if (rc == 0) {
			s = scan_db_scratch_create(db);
			ndb_target_rows_check(db, s, pass ? "cached" : "cache-written");
			scan_db_scratch_free(s);
		}
		scan_db_free(db);
		scan_rules_free(r);
	}
}

/* Buffer i of the .ndb differential: magic, '.' up to 40, payload. */
static size_t ndb_diff_buf(uint8_t *out, size_t cap, const char *magic,
			   size_t mlen, const char *payload)
{
	size_t pl = strlen(payload), n = 40 + pl + 24;

	if (n > cap)
		return 0;
	memset(out, '.', n);
	memcpy(out, magic, mlen);
	memcpy(out + 40, payload, pl);
	return n;
}

/* .ndb targets 0/1/2/6/10 on PE (MZ), OLE2, ELF, PDF and text buffers,
 * against libclamav. Each buffer can fire at most one signature (the
 * libclamav wrapper reports one name). */
static void test_ndb_differential(void)
{
	static const char ndb[] =
		"D.Any:0:*:414e595349472130\n"
		"D.Pe:1:*:50455349472131\n"
		"D.Ole:2:*:4f4c455349472132\n"
		"D.Elf:6:*:454c465349472136\n"
		"D.Pdf:10:*:504446534947213130\n";
	static const struct {
		const char *magic;
		size_t mlen;
		const char *what;
	} types[] = {
		{ "MZ\x90\0\3\0\0\0\4\0\0\0\xff\xff\0\0", 16, "MZ" },
		{ "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", 8, "OLE2" },
		{ "\x7F" "ELF\2\1\1\0", 8, "ELF" },
		{ "%PDF-1.4\n", 9, "PDF" },
		{ "plain text, nothing else here\n", 30, "text" },
	};
	static const char *const payloads[] = {
		"ANYSIG!0", "PESIG!1", "OLESIG!2", "ELFSIG!6", "PDFSIG!10",
	};
	const char *files[] = { "diffn/d.ndb", ndb, NULL };
	char dir[300], err[512];
	uint8_t buf[128];

	snprintf(dir, sizeof dir, "%.256s/diffn", tmpdir);
	mkdir(dir, 0700);
	struct scan_rules *r = load(files);
	struct scan_db *db = NULL;
	int rc = scan_db_build(r, NULL, &db, err, sizeof err);
	const char *paths[] = { dir, NULL };
	struct clam_options o;
	struct clam_engine *ce = NULL;
	clam_options_init(&o);
	o.heuristics = 0;
	int crc = clam_engine_create(paths, &o, NULL, NULL, &ce, err, sizeof err);
	ROW(rc == 0 && crc == 0, "ndb-differential", "both engines built: %d "
	    "%d %s", rc, crc, crc ? err : "");
	if (rc != 0 || crc != 0) {
		scan_db_free(db);
		clam_engine_free(ce);
		scan_rules_free(r);
		return;
	}
	struct scan_db_scratch *s = scan_db_scratch_create(db);
	struct clam_ctx *cc = clam_ctx_create(ce);
	unsigned fired = 0;
	for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
		for (size_t k = 0; k < sizeof payloads / sizeof payloads[0]; k++) {
			size_t n = ndb_diff_buf(buf, sizeof buf, types[t].magic,
						types[t].mlen, payloads[k]);
			enum scan_ftype ft = scan_filetype(buf, n);
			const char *ours = leaf_hits(db, s, buf, n, ft);
			struct clam_result cr;
			clam_scan(cc, buf, n, NULL, "diff", &cr);
			const char *theirs = cr.cls == CLAM_VIRUS ? cr.name : "";
			int same = (ours[0] == '\0') == (theirs[0] == '\0') &&
				   (ours[0] == '\0' ||
				    strncmp(theirs, ours, strlen(ours)) == 0);
			fired += ours[0] != '\0';
			ROW(same, "ndb-differential", "%s (true type %s) with "
			    "%s: ours '%s', libclamav '%s'", types[t].what,
			    scan_ftype_name(ft), payloads[k], ours, theirs);
		}
	}
	/* the type buffers each fire the generic and their own signature:
	 * MZ, OLE2, ELF, PDF 2 each, text 1 */
	ROW(fired == 9, "ndb-differential", "%u of 25 buffers fired (want 9)",
	    fired);
	clam_ctx_free(cc);
	scan_db_scratch_free(s);
	clam_engine_free(ce);
	scan_db_free(db);
	scan_rules_free(r);
}

/* ---- through the pipeline (scan_leaf.c's hook) -------------------------- */

#define MSG_HDR "From: a@example.org\r\nTo: b@example.net\r\nSubject: s\r\n" \
	"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n" \
	"\r\n--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b\r\n" \
	"Content-Type: application/octet-stream\r\nContent-Disposition: " \
	"attachment; filename=a.bin\r\n\r\n"

static void test_pipeline(void)
{
	static const char clean_att[] = "clean attachment: malw + ware";
	char dir[300], yaml[1024], err[512], fp[160];
	uint8_t md5[16];

	snprintf(dir, sizeof dir, "%.256s/pipe", tmpdir);
	mkdir(dir, 0700);
	scan_hash_all((const uint8_t *)clean_att, sizeof clean_att - 1, md5,
		      NULL, NULL);
	int n = 0;
	for (int i = 0; i < 16; i++)
		n += snprintf(fp + n, sizeof fp - (size_t)n, "%02x", md5[i]);
	snprintf(fp + n, sizeof fp - (size_t)n, ":%zu:Clean\n",
		 sizeof clean_att - 1);
	write_file("pipe/p.ldb", "P.And;Target:0;0&1;6d616c77;77617265\n"
				 "P.PE;Target:1;0&1;6d616c77;77617265\n");
	write_file("pipe/p.fp", fp);
	snprintf(yaml, sizeof yaml,
		 "signatures: [%s]\n"
		 "rule_cache: %.256s/pipe-cache\n"
		 "clamav:\n  enabled: false\n", dir, tmpdir);

	struct conf_doc *d = NULL;
	struct scan_config *cfg = NULL;
	struct scan_engine *eng = NULL;
	int rc = conf_load_string("t.conf", yaml, strlen(yaml), &d, err,
				  sizeof err);
	if (rc == 0)
		rc = scan_config_from_conf(d, &cfg, err, sizeof err);
	conf_free(d);
	if (rc == 0)
		rc = scan_engine_create(cfg, NULL, NULL, NULL, &eng, err,
					sizeof err);
	ROW(rc == 0, "ldb-pipeline", "engine: %s", rc ? err : "ok");
	if (rc != 0) {
		scan_config_free(cfg);
		return;
	}
	const char *const *lines;
	unsigned nl = scan_engine_sig_report(eng, &lines);
	ROW(nl == 2 && strstr(lines[0], "p.fp: 1 allow-list") != NULL &&
		    strstr(lines[1], "p.ldb: 2 to Hyperscan (2 logical)") != NULL,
	    "ldb-pipeline", "engine report: %s | %s", nl > 0 ? lines[0] : "",
	    nl > 1 ? lines[1] : "");
	struct scan_ctx *ctx = scan_ctx_create(eng);
	static struct scan_verdict v;
	static const struct {
		const char *att;
		const char *want; /* virus finding name or "" */
	} rows[] = {
		{ "some malw and ware", "P.And" },
		{ "only malw", "" },
		{ clean_att, "" }, /* listed in p.fp */
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		char msg[1024];
		int len = snprintf(msg, sizeof msg, "%s%s\r\n--b--\r\n",
				   MSG_HDR, rows[i].att);
		rc = scan_message(ctx, (const uint8_t *)msg, (size_t)len, NULL,
				  NULL, 0, &v);
		const char *got = "";
		unsigned nv = 0;
		for (unsigned k = 0; k < v.nfindings; k++)
			if (v.findings[k].kind == SCAN_F_VIRUS) {
				got = v.findings[k].name;
				nv++;
			}
		ROW(rc == 0 && strcmp(got, rows[i].want) == 0 && nv <= 1,
		    "ldb-pipeline", "'%s': virus '%s' (%u findings, want '%s')",
		    rows[i].att, got, nv, rows[i].want);
	}
	scan_ctx_free(ctx);
	scan_engine_free(eng);
	scan_config_free(cfg);
}

/* .ndb targets through scan_message: a text body never fires a target 1
 * signature, an MZ attachment does. */
static void test_ndb_pipeline(void)
{
	char dir[300], yaml[1024], err[512];

	snprintf(dir, sizeof dir, "%.256s/pipen", tmpdir);
	mkdir(dir, 0700);
	write_file("pipen/p.ndb", "P.Pe:1:*:50455349472131\n"
				  "P.Any:0:*:414e595349472130\n");
	snprintf(yaml, sizeof yaml,
		 "signatures: [%s]\n"
		 "clamav:\n  enabled: false\n", dir);
	struct conf_doc *d = NULL;
	struct scan_config *cfg = NULL;
	struct scan_engine *eng = NULL;
	int rc = conf_load_string("t.conf", yaml, strlen(yaml), &d, err,
				  sizeof err);
	if (rc == 0)
		rc = scan_config_from_conf(d, &cfg, err, sizeof err);
	conf_free(d);
	if (rc == 0)
		rc = scan_engine_create(cfg, NULL, NULL, NULL, &eng, err,
					sizeof err);
	ROW(rc == 0, "ndb-pipeline", "engine: %s", rc ? err : "ok");
	if (rc != 0) {
		scan_config_free(cfg);
		return;
	}
	struct scan_ctx *ctx = scan_ctx_create(eng);
	static struct scan_verdict v;
	static const struct {
		const char *body, *att;
		const char *want; /* "name@part" of the virus findings */
	} rows[] = {
		{ "hello PESIG!1", "just some data", "" },
		{ "hello", "MZ..........................PESIG!1.....", "P.Pe@2" },
		{ "hello", "plain data with PESIG!1 in it", "" },
		{ "<html><b>PESIG!1</b></html>", "just some data", "" },
		{ "hello ANYSIG!0", "MZ..........................ANYSIG!0..",
		  "P.Any@1 P.Any@2" },
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		char msg[1024], got[128] = "";
		int len = snprintf(msg, sizeof msg,
				   "From: a@example.org\r\nTo: b@example.net\r\n"
				   "Subject: s\r\nMIME-Version: 1.0\r\n"
				   "Content-Type: multipart/mixed; boundary=b\r\n"
				   "\r\n--b\r\nContent-Type: text/%s\r\n\r\n%s\r\n"
				   "--b\r\nContent-Type: application/octet-"
				   "stream\r\nContent-Disposition: attachment; "
				   "filename=a.bin\r\n\r\n%s\r\n--b--\r\n",
				   rows[i].body[0] == '<' ? "html" : "plain",
				   rows[i].body, rows[i].att);
		rc = scan_message(ctx, (const uint8_t *)msg, (size_t)len, NULL,
				  NULL, 0, &v);
		for (unsigned k = 0; k < v.nfindings; k++)
			if (v.findings[k].kind == SCAN_F_VIRUS) {
				size_t l = strlen(got);
				snprintf(got + l, sizeof got - l, "%s%s@%d",
					 l ? " " : "", v.findings[k].name,
					 v.findings[k].part);
			}
		ROW(rc == 0 && strcmp(got, rows[i].want) == 0, "ndb-pipeline",
		    "body '%s', attachment '%.12s...': virus '%s' (want '%s')",
		    rows[i].body, rows[i].att, got, rows[i].want);
	}
	scan_ctx_free(ctx);
	scan_engine_free(eng);
	scan_config_free(cfg);
}

int main(void)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/test_sig_ldb.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return 1;
	RUN(test_lexpr);
	RUN(test_ldb_parse);
	RUN(test_sub_parse);
	RUN(test_match);
	RUN(test_fp_ign);
	RUN(test_report);
	RUN(test_differential);
	RUN(test_ndb_target);
	RUN(test_ndb_differential);
	RUN(test_pipeline);
	RUN(test_ndb_pipeline);
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
	return CHECK_DONE();
}
