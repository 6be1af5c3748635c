/*
 * tests/unit/test_hsdb.c - the compiled database: body signature matching
 * (offsets, wildcards, alternations), where-mask filtering, once per
 * message, content and spam rules, keyword expressions, hash signatures,
 * empty sets, the hit bound, and the cache (round trip, corruption, load time).
 */
#include "scan/hash.h"
#include "scan/hsdb.h"
#include "tests/unit/check.h"
#include "tests/unit/diag_log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char tmpdir[256];

static void write_file(const char *name, const char *text, size_t len)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	f = fopen(path, "wb");
	fwrite(text, 1, len, f);
	fclose(f);
}

static void quiet(void *ctx, const char *file, unsigned line, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "  diag %s:%u: %s\n", file, line, msg);
}

/* Build a database from ndb text (may be NULL) and hash lines (may be
 * NULL). */
static struct scan_db *build(const char *ndb, const char *hsb,
			     struct scan_rules **keep)
{
	struct scan_rules *r = scan_rules_create();
	struct scan_db *db = NULL;
	char path[512], err[256];

	if (ndb != NULL) {
		write_file("x.ndb", ndb, strlen(ndb));
		snprintf(path, sizeof path, "%s/x.ndb", tmpdir);
		scan_rules_load_sigfile(r, path, quiet, NULL);
	}
	if (hsb != NULL) {
		write_file("x.hsb", hsb, strlen(hsb));
		snprintf(path, sizeof path, "%s/x.hsb", tmpdir);
		scan_rules_load_sigfile(r, path, quiet, NULL);
	}
	if (scan_db_build(r, NULL, &db, err, sizeof err) != 0)
		fprintf(stderr, "  build: %s\n", err);
	if (keep)
		*keep = r;
	else
		scan_rules_free(r);
	return db;
}

/* Names of the current hits, space-separated, in order. */
static const char *hit_names(const struct scan_db *db,
			     const struct scan_db_scratch *s)
{
	static char buf[1024];
	const struct scan_hit *h;
	unsigned n = scan_db_hits(s, &h);

	buf[0] = '\0';
	for (unsigned i = 0; i < n; i++) {
		size_t l = strlen(buf);
		snprintf(buf + l, sizeof buf - l, "%s%s", i ? " " : "",
			 scan_db_rule(db, h[i].rule)->name);
	}
	return buf;
}

#define ATT SCAN_WHERE_ATTACHMENT

static const struct {
	const char *ndb;
	const char *data;
	unsigned where;
	const char *expect;
} rows[] = {
	/* plain, any offset */
	{ "A:0:*:414243", "xxABCxx", ATT, "A" },
	{ "A:0:*:414243", "xxABxCx", ATT, "" },
	/* absolute offset n */
	{ "O:0:4:414243", "xxxxABC", ATT, "O" },
	{ "O:0:4:414243", "xxxABCx", ATT, "" },
	{ "O:0:4:414243", "xxxxxABC", ATT, "" },
	/* n,m: start in [2,5] */
	{ "R:0:2,3:4142", "xAB", ATT, "" },
	{ "R:0:2,3:4142", "xxAB", ATT, "R" },
	{ "R:0:2,3:4142", "xxxxxAB", ATT, "R" },
	{ "R:0:2,3:4142", "xxxxxxAB", ATT, "" },
	/* a wrong-offset occurrence before the right one */
	{ "R:0:2,3:4142", "ABxxAB", ATT, "R" },
	/* EOF-n: start = len - n */
	{ "E:0:EOF-3:414243", "xxABC", ATT, "E" },
	{ "E:0:EOF-3:414243", "xABCx", ATT, "" },
	{ "E:0:EOF-3:414243", "ABC", ATT, "E" },
	{ "E:0:EOF-3:414243", "ABCxxABC", ATT, "E" },
	{ "E:0:EOF-10:4142", "AB", ATT, "" }, /* len < n: no match */
	/* EOF-n,m: start in [len-5, len-3] */
	{ "EM:0:EOF-5,2:4142", "xxxxABxxxx", ATT, "" },
	{ "EM:0:EOF-5,2:4142", "xxxxxABxxx", ATT, "EM" },
	{ "EM:0:EOF-5,2:4142", "xxxxxxxABx", ATT, "EM" },
	{ "EM:0:EOF-5,2:4142", "xxxxxxxxAB", ATT, "" },
	/* EOF-n with a variable body: SOM */
	{ "EV:0:EOF-6:41*42", "xxAxxBxx", ATT, "EV" },
	{ "EV:0:EOF-6:41*42", "xAxxxBxx", ATT, "" },
	/* Known limitation (scan/sig_clamav.h): the leftmost start for this
	 * end is 0, outside the window; the occurrence at 2 is missed. */
	{ "EV:0:EOF-6:41*42", "AxAxxBxx", ATT, "" },
	/* offset 0[,m] with a variable body: SOM, exact */
	{ "Z:0:0,3:41*42", "xAxxB", ATT, "Z" },
	{ "Z:0:0,3:41*42", "xxxxAB", ATT, "" },
	{ "Z:0:0:41*42", "AxxAxxB", ATT, "Z" },
	/* fixed length at n: every occurrence checked, not just the first */
	{ "O:0:4:414243", "ABCxABC", ATT, "O" },
	/* absolute offset with a variable body: anchored, exact even when
	 * an earlier occurrence exists */
	{ "T:0:4:41*42", "AxxxAxxB", ATT, "T" },
	{ "T:0:4:41*42", "AxxxxAxB", ATT, "" },
	{ "T2:0:2,2:41{1-3}42", "xxAxB", ATT, "T2" },
	{ "T2:0:2,2:41{1-3}42", "xAxBxxx", ATT, "" },
	{ "T2:0:2,2:41{1-3}42", "xxxxAxxxB", ATT, "T2" },
	{ "T2:0:2,2:41{1-3}42", "xxxxxAxB", ATT, "" },
	/* wildcards */
	{ "W:0:*:41??43", "zAqCz", ATT, "W" },
	{ "W:0:*:41??43", "zACz", ATT, "" },
	{ "N:0:*:41a?43", "A\xa5" "C", ATT, "N" },
	{ "N:0:*:41a?43", "A\xb5" "C", ATT, "" },
	{ "L:0:*:41?343", "AsC", ATT, "L" },  /* 's' = 0x73 */
	{ "L:0:*:41?343", "AtC", ATT, "" },   /* 't' = 0x74 */
	{ "G:0:*:4142{2}4344", "ABxxCD", ATT, "G" },
	{ "G:0:*:4142{2}4344", "ABxCD", ATT, "" },
	{ "GM:0:*:4142{-2}4344", "ABCD", ATT, "GM" },
	{ "GM:0:*:4142{-2}4344", "ABxxxCD", ATT, "" },
	{ "GN:0:*:4142{2-}4344", "ABxCD", ATT, "" },
	{ "GN:0:*:4142{2-}4344", "ABxxxxxCD", ATT, "GN" },
	{ "BR:0:*:414243[1-2]44", "ABCxD", ATT, "BR" },
	{ "BR:0:*:414243[1-2]44", "ABCxxxD", ATT, "" },
	{ "S:0:*:4142*4344", "ABzzzzzzzzzzCD", ATT, "S" },
	{ "S:0:*:4142*4344", "CDzzAB", ATT, "" },
	/* alternations and negation */
	{ "ALT:0:*:41(42|4344)45", "xABEx", ATT, "ALT" },
	{ "ALT:0:*:41(42|4344)45", "xACDEx", ATT, "ALT" },
	{ "ALT:0:*:41(42|4344)45", "xACEx", ATT, "" },
	{ "NEG:0:*:41!(42)43", "AXC", ATT, "NEG" },
	{ "NEG:0:*:41!(42)43", "ABC", ATT, "" },
	/* where-mask: signatures apply to leaves, not headers */
	{ "A:0:*:414243", "ABC", SCAN_WHERE_HEADER, "" },
	{ "A:0:*:414243", "ABC", SCAN_WHERE_SUBJECT, "" },
	{ "A:0:*:414243", "ABC", SCAN_WHERE_BODY, "A" },
	/* several rules, in the order they end */
	{ "B:0:*:4445\nA:0:*:414243", "ABCDE", ATT, "A B" },
};

static void test_match_rows(void)
{
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		struct scan_db *db = build(rows[i].ndb, NULL, NULL);
		struct scan_db_scratch *s = db ? scan_db_scratch_create(db) : NULL;

		CHECK_MSG(s != NULL, "row %zu: no db", i);
		if (s == NULL) {
			scan_db_free(db);
			continue;
		}
		scan_db_hits_reset(s);
		CHECK_EQ_INT(scan_db_scan(db, s, (const uint8_t *)rows[i].data,
					  strlen(rows[i].data), rows[i].where, 1),
			     0);
		const char *got = hit_names(db, s);
		CHECK_MSG(strcmp(got, rows[i].expect) == 0,
			  "row %zu (%s on \"%s\"): got \"%s\" want \"%s\"", i,
			  rows[i].ndb, rows[i].data, got, rows[i].expect);
		scan_db_scratch_free(s);
		scan_db_free(db);
	}
}

static void test_hit_fields_and_once_per_part(void)
{
	struct scan_db *db = build("A:0:*:414243\nV:0:*:41*43", NULL, NULL);
	struct scan_db_scratch *s = scan_db_scratch_create(db);
	const struct scan_hit *h;

	scan_db_hits_reset(s);
	scan_db_scan(db, s, (const uint8_t *)"xxABCxx", 7, ATT, 3);
	CHECK_EQ_INT(scan_db_hits(s, &h), 2);
	CHECK_EQ_INT(h[0].rule, 0);
	CHECK_EQ_INT(h[0].part, 3);
	CHECK_EQ_INT(h[0].start, 2); /* fixed length: start known */
	CHECK_EQ_INT(h[0].end, 5);
	CHECK_EQ_INT(h[0].where, ATT);
	CHECK(h[1].start == UINT64_MAX); /* variable, no SOM: unknown */
	/* same part again (another view): not reported again */
	scan_db_scan(db, s, (const uint8_t *)"ABC", 3, SCAN_WHERE_BODY, 3);
	CHECK_EQ_INT(scan_db_hits(s, &h), 2);
	/* same message, another part: reported for that part too, so a
	 * policy acting per part (strip) sees every infected part */
	scan_db_scan(db, s, (const uint8_t *)"ABC", 3, SCAN_WHERE_BODY, 4);
	CHECK_EQ_INT(scan_db_hits(s, &h), 4);
	CHECK_EQ_INT(h[0].part, 3);
	CHECK_EQ_INT(h[2].part, 4);
	CHECK_EQ_INT(h[2].rule, 0);
	/* next message */
	scan_db_hits_reset(s);
	CHECK_EQ_INT(scan_db_hits(s, &h), 0);
	scan_db_scan(db, s, (const uint8_t *)"ABC", 3, SCAN_WHERE_BODY, 4);
	CHECK_EQ_INT(scan_db_hits(s, &h), 2);
	CHECK_EQ_INT(h[0].part, 4);

	/* scratch of another database is refused */
	struct scan_db *other = build("Z:0:*:5a5a", NULL, NULL);
	CHECK_EQ_INT(scan_db_scan(other, s, (const uint8_t *)"ZZ", 2, ATT, 0),
		     -EINVAL);
	CHECK_EQ_INT(scan_db_scan(db, s, (const uint8_t *)"ZZ", 2, 0, 0), -EINVAL);
	scan_db_free(other);
	scan_db_scratch_free(s);
	scan_db_free(db);
}

static void test_content_and_spam(void)
{
	static const struct scan_rule_def defs[] = {
		{ SCAN_RULE_CONTENT, "conf", "confidential", SCAN_RULE_CASELESS |
		  SCAN_RULE_WORD, 0, 0, "block", "r.conf", 1, NULL, 0, 0 },
		{ SCAN_RULE_CONTENT, "acct", "acct[0-9]{6}", SCAN_RULE_REGEX,
		  SCAN_WHERE_BODY | SCAN_WHERE_ATTACHMENT, 0, "quarantine",
		  "r.conf", 2, NULL, 0, 0 },
		{ SCAN_RULE_SPAM, "pills", "cheap pills", SCAN_RULE_CASELESS,
		  SCAN_WHERE_SUBJECT, 5, NULL, "s.conf", 1, NULL, 0, 0 },
		{ SCAN_RULE_SPAM, "win", "win", SCAN_RULE_WORD, 0, 2, NULL,
		  "s.conf", 2, NULL, 0, 0 },
		{ SCAN_RULE_SPAM, "newsletter", "unsubscribe", 0,
		  SCAN_WHERE_BODY, -3, NULL, "s.conf", 3, NULL, 0, 0 },
	};
	static const struct {
		const char *data;
		unsigned where;
		const char *expect;
	} cases[] = {
		{ "This is CONFIDENTIAL.", SCAN_WHERE_BODY, "conf" },
		{ "nonconfidentials", SCAN_WHERE_BODY, "" },
		{ "ref acct123456 end", SCAN_WHERE_BODY, "acct" },
		{ "ref acct123456 end", SCAN_WHERE_HEADER, "" },
		{ "CHEAP PILLS here", SCAN_WHERE_SUBJECT, "pills" },
		{ "CHEAP PILLS here", SCAN_WHERE_BODY, "" },
		{ "you win!", SCAN_WHERE_SUBJECT, "win" },
		{ "windows", SCAN_WHERE_SUBJECT, "" },
		{ "you WIN", SCAN_WHERE_SUBJECT, "" }, /* not caseless */
		{ "to unsubscribe click", SCAN_WHERE_BODY, "newsletter" },
	};
	struct scan_rules *r = scan_rules_create();
	struct scan_db *db = NULL;
	char err[256];

	for (size_t i = 0; i < sizeof defs / sizeof defs[0]; i++)
		CHECK_EQ_INT(scan_rules_add(r, &defs[i], err, sizeof err), 0);
	CHECK_EQ_INT(scan_db_build(r, NULL, &db, err, sizeof err), 0);
	scan_rules_free(r);
	struct scan_db_scratch *s = scan_db_scratch_create(db);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		scan_db_hits_reset(s);
		scan_db_scan(db, s, (const uint8_t *)cases[i].data,
			     strlen(cases[i].data), cases[i].where, 0);
		const char *got = hit_names(db, s);
		CHECK_MSG(strcmp(got, cases[i].expect) == 0,
			  "case %zu \"%s\": got \"%s\"", i, cases[i].data, got);
	}
	const struct scan_rule *p = scan_db_rule(db, 2);
	CHECK_EQ_STR(p->name, "pills");
	CHECK_EQ_INT(p->kind, SCAN_RULE_SPAM);
	CHECK_EQ_INT(p->score, 5);
	CHECK_EQ_STR(p->file, "s.conf");
	CHECK_EQ_INT(scan_db_rule(db, 4)->score, -3);
	CHECK_EQ_STR(scan_db_rule(db, 1)->class_name, "quarantine");
	CHECK(scan_db_rule(db, 5) == NULL);
	/* literal rules report a start */
	const struct scan_hit *h;
	scan_db_hits_reset(s);
	scan_db_scan(db, s, (const uint8_t *)"a confidential b", 16,
		     SCAN_WHERE_BODY, 0);
	CHECK_EQ_INT(scan_db_hits(s, &h), 1);
	CHECK_EQ_INT(h[0].start, 2);
	CHECK_EQ_INT(h[0].end, 14);
	scan_db_scratch_free(s);
	scan_db_free(db);
}

static const char eicar[] =
	"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";

static void test_hash_sigs(void)
{
	const char *hsb =
		"44d88612fea8a8f36de82e1278abb02f:68:E.MD5\n"
		"44d88612fea8a8f36de82e1278abb02f:69:E.MD5.WrongSize\n"
		"3395856ce81f2b7382dee72602f798b642f14140:68:E.SHA1\n"
		"275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f:*:E.SHA256\n"
		"0000000000000000000000000000000000000000000000000000000000000000:68:Zero\n";
	struct scan_db *db = build(NULL, hsb, NULL);
	struct scan_db_scratch *s = scan_db_scratch_create(db);
	uint8_t m[16], s1[20], s2[32];
	const struct scan_hit *h;

	scan_hash_all((const uint8_t *)eicar, 68, m, s1, s2);
	scan_db_hits_reset(s);
	CHECK_EQ_INT(scan_db_hash_match(db, s, m, s1, s2, 68, 7), 0);
	CHECK_EQ_STR(hit_names(db, s), "E.MD5 E.SHA1 E.SHA256");
	CHECK_EQ_INT(scan_db_hits(s, &h), 3);
	CHECK_EQ_INT(h[0].part, 7);
	CHECK_EQ_INT(h[0].end, 68);
	CHECK_EQ_INT(h[0].where, 0);
	/* without SHA-1; and a size mismatch only matches the '*' entry */
	scan_db_hits_reset(s);
	scan_db_hash_match(db, s, m, NULL, s2, 100, 0);
	CHECK_EQ_STR(hit_names(db, s), "E.SHA256");
	/* other content */
	scan_hash_all((const uint8_t *)"hello", 5, m, s1, s2);
	scan_db_hits_reset(s);
	scan_db_hash_match(db, s, m, s1, s2, 5, 0);
	CHECK_EQ_STR(hit_names(db, s), "");
	/* hash rules never reach Hyperscan: body scan finds nothing */
	scan_db_scan(db, s, (const uint8_t *)eicar, 68, ATT, 0);
	CHECK_EQ_STR(hit_names(db, s), "");
	scan_db_scratch_free(s);
	scan_db_free(db);
}

static void test_bundled_signatures(void)
{
	struct scan_rules *r = scan_rules_create();
	struct scan_db *db = NULL;
	char err[128], trailing[80];
	uint8_t m[16], s1[20], s2[32];

	CHECK_EQ_INT(scan_rules_load_sigdir(r, SLUICE_SRCDIR "/config/signatures",
					    quiet, NULL), 2);
	for (unsigned i = 0; i < scan_rules_file_count(r); i++)
		CHECK_EQ_INT(scan_rules_file_stats(r, i)->rejected, 0);
	CHECK_EQ_INT(scan_db_build(r, NULL, &db, err, sizeof err), 0);
	struct scan_db_scratch *s = scan_db_scratch_create(db);
	scan_db_hits_reset(s);
	scan_db_scan(db, s, (const uint8_t *)eicar, 68, ATT, 0);
	scan_hash_all((const uint8_t *)eicar, 68, m, s1, s2);
	scan_db_hash_match(db, s, m, s1, s2, 68, 0);
	CHECK_EQ_STR(hit_names(db, s), "Sluice.Test.EICAR Sluice.Test.EICAR.SHA256");
	/* EICAR allows trailing whitespace: body still matches, hash not */
	snprintf(trailing, sizeof trailing, "%s \r\n", eicar);
	scan_db_hits_reset(s);
	scan_db_scan(db, s, (const uint8_t *)trailing, strlen(trailing), ATT, 0);
	scan_hash_all((const uint8_t *)trailing, strlen(trailing), m, s1, s2);
	scan_db_hash_match(db, s, m, s1, s2, strlen(trailing), 0);
	CHECK_EQ_STR(hit_names(db, s), "Sluice.Test.EICAR");
	/* not inside a leaf at another offset */
	snprintf(trailing, sizeof trailing, "x%s", eicar);
	scan_db_hits_reset(s);
	scan_db_scan(db, s, (const uint8_t *)trailing, strlen(trailing), ATT, 0);
	CHECK_EQ_STR(hit_names(db, s), "");
	scan_db_scratch_free(s);
	scan_db_free(db);
	scan_rules_free(r);
}

static void test_empty_set(void)
{
	struct scan_rules *r = scan_rules_create();
	struct scan_db *db = NULL;
	char err[128];
	uint8_t z[32] = { 0 };

	CHECK_EQ_INT(scan_db_build(r, tmpdir, &db, err, sizeof err), 0);
	CHECK_EQ_INT(scan_db_rule_count(db), 0);
	struct scan_db_scratch *s = scan_db_scratch_create(db);
	CHECK(s != NULL);
	scan_db_hits_reset(s);
	CHECK_EQ_INT(scan_db_scan(db, s, (const uint8_t *)"abc", 3, ATT, 0), 0);
	CHECK_EQ_INT(scan_db_hash_match(db, s, z, z, z, 3, 0), 0);
	CHECK_EQ_STR(hit_names(db, s), "");
	scan_db_scratch_free(s);
	scan_db_free(db);
	/* and again from its cache */
	CHECK_EQ_INT(scan_db_build(r, tmpdir, &db, err, sizeof err), 0);
	CHECK_EQ_INT(scan_db_loaded_from_cache(db), 1);
	scan_db_free(db);
	scan_rules_free(r);
}

static void test_hit_bound(void)
{
	/* 300 distinct spam keywords all present: 256 kept, 44 dropped */
	struct scan_rules *r = scan_rules_create();
	struct scan_db *db = NULL;
	char err[128], names[300][16], data[300 * 16];
	size_t dl = 0;

	for (int i = 0; i < 300; i++) {
		snprintf(names[i], sizeof names[i], "k%03d", i);
		struct scan_rule_def d = { SCAN_RULE_SPAM, names[i], names[i],
					   0, 0, 1, NULL, "s", (unsigned)i, NULL, 0, 0 };
		scan_rules_add(r, &d, err, sizeof err);
		dl += (size_t)snprintf(data + dl, sizeof data - dl, "%s ",
				       names[i]);
	}
	CHECK_EQ_INT(scan_db_build(r, NULL, &db, err, sizeof err), 0);
	struct scan_db_scratch *s = scan_db_scratch_create(db);
	const struct scan_hit *h;
	scan_db_hits_reset(s);
	scan_db_scan(db, s, (const uint8_t *)data, dl, SCAN_WHERE_BODY, 0);
	CHECK_EQ_INT(scan_db_hits(s, &h), SCAN_DB_MAX_HITS);
	CHECK_EQ_INT(scan_db_hits_dropped(s), 300 - SCAN_DB_MAX_HITS);
	scan_db_hits_reset(s);
	CHECK_EQ_INT(scan_db_hits_dropped(s), 0);
	scan_db_scan(db, s, (const uint8_t *)"k299", 4, SCAN_WHERE_BODY, 0);
	CHECK_EQ_STR(hit_names(db, s), "k299");
	scan_db_scratch_free(s);
	scan_db_free(db);
	scan_rules_free(r);
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* A few thousand generated signatures of every form, plus rules. Each
 * starts with the 4 bytes of i * K (big-endian), K = 2654435761. */
#define K 2654435761u

static struct scan_rules *big_rules(void)
{
	struct scan_rules *r = scan_rules_create();
	size_t cap = 1 << 20, n = 0;
	char *ndb = malloc(cap), *hsb = malloc(cap), path[512], err[128];

	for (unsigned i = 0; i < 3000; i++) {
		unsigned v = i * K, o = i % 50 + 4;

		n += (size_t)sprintf(ndb + n, "Gen.%u:0:", i);
		switch (i % 6) {
		case 0: n += (size_t)sprintf(ndb + n, "*:%08x4142", v); break;
		case 1: n += (size_t)sprintf(ndb + n, "%u:%08x??41", o, v); break;
		case 2: n += (size_t)sprintf(ndb + n, "EOF-%u:%08x(41|42)", o, v); break;
		case 3: n += (size_t)sprintf(ndb + n, "*:%08x*4344", v); break;
		case 4: n += (size_t)sprintf(ndb + n, "*:%08x{2-9}45", v); break;
		default: /* anchored ^.{n,m}: slow to compile, keep few */
			if (i % 60 == 5)
				n += (size_t)sprintf(ndb + n, "%u,8:%08x*46", o, v);
			else
				n += (size_t)sprintf(ndb + n, "0,8:%08x*46", v);
			break;
		}
		ndb[n++] = '\n';
	}
	ndb[n] = '\0';
	write_file("big.ndb", ndb, n);
	snprintf(path, sizeof path, "%s/big.ndb", tmpdir);
	CHECK_EQ_INT(scan_rules_load_sigfile(r, path, quiet, NULL), 3000);
	n = 0;
	for (unsigned i = 0; i < 2000; i++) {
		uint8_t d[32];
		char hex[65];

		scan_sha256((const uint8_t *)&i, sizeof i, d);
		n += (size_t)sprintf(hsb + n, "%s:%u:Hash.%u\n",
				     scan_hash_hex(d, 32, hex), i, i);
	}
	write_file("big.hsb", hsb, n);
	snprintf(path, sizeof path, "%s/big.hsb", tmpdir);
	CHECK_EQ_INT(scan_rules_load_sigfile(r, path, quiet, NULL), 2000);
	struct scan_rule_def d = { SCAN_RULE_SPAM, "kw", "free money",
				   SCAN_RULE_CASELESS, 0, 3, NULL, "s", 1, NULL, 0, 0 };
	CHECK_EQ_INT(scan_rules_add(r, &d, err, sizeof err), 0);
	free(ndb);
	free(hsb);
	return r;
}

static size_t put_be32(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
	return 4;
}

/* Scan a probe and return the hit names joined. */
static void probe(const struct scan_db *db, char *out, size_t sz)
{
	struct scan_db_scratch *s = scan_db_scratch_create(db);
	uint8_t buf[64], d[32];
	size_t n = 0;
	unsigned k = 1234;

	n += put_be32(buf + n, 0 * K);
	memcpy(buf + n, "AB FREE MONEY ", 14);
	n += 14;
	n += put_be32(buf + n, 6 * K);
	memcpy(buf + n, "AB", 2);
	n += 2;
	scan_db_hits_reset(s);
	scan_db_scan(db, s, buf, n, ATT, 0);
	scan_db_scan(db, s, buf, n, SCAN_WHERE_SUBJECT, 0); /* same part: once */
	scan_sha256((const uint8_t *)&k, sizeof k, d);
	scan_db_hash_match(db, s, d, NULL, d, 1234, 2);
	snprintf(out, sz, "%s", hit_names(db, s));
	scan_db_scratch_free(s);
}

static const char *cache_file(char *buf, size_t sz, const struct scan_db *db)
{
	uint8_t key[32];
	char hex[65];

	scan_db_key(db, key);
	snprintf(buf, sz, "%s/cache/sluice-%s.hsdb", tmpdir,
		 scan_hash_hex(key, 32, hex));
	return buf;
}

static void test_cache_round_trip(void)
{
	struct scan_rules *r = big_rules();
	struct scan_db *db = NULL;
	char err[256], cdir[512], path[600], cold[1024], warm[1024];
	double t0, t_cold, t_warm;

	snprintf(cdir, sizeof cdir, "%s/cache", tmpdir);
	t0 = now_ms();
	CHECK_EQ_INT(scan_db_build(r, cdir, &db, err, sizeof err), 0);
	t_cold = now_ms() - t0;
	CHECK_EQ_INT(scan_db_loaded_from_cache(db), 0);
	unsigned count = scan_db_rule_count(db);
	CHECK_EQ_INT(count, 5001);
	size_t mem = scan_db_memory(db);
	probe(db, cold, sizeof cold);
	CHECK_MSG(strstr(cold, "Gen.0 ") && strstr(cold, "Gen.6 ") &&
			  strstr(cold, "kw") &&
			  strstr(cold, "Hash.1234"),
		  "probe: %s", cold);
	cache_file(path, sizeof path, db);
	scan_db_free(db);

	struct stat sb;
	CHECK(stat(path, &sb) == 0);

	t0 = now_ms();
	CHECK_EQ_INT(scan_db_build(r, cdir, &db, err, sizeof err), 0);
	t_warm = now_ms() - t0;
	CHECK_EQ_INT(scan_db_loaded_from_cache(db), 1);
	CHECK_EQ_INT(scan_db_rule_count(db), count);
	CHECK_EQ_INT(scan_db_memory(db), mem);
	probe(db, warm, sizeof warm);
	CHECK_EQ_STR(warm, cold);
	const struct scan_rule *g = scan_db_rule(db, 5);
	CHECK_EQ_STR(g->name, "Gen.5");
	CHECK_EQ_INT(g->line, 6);
	CHECK(strstr(g->file, "big.ndb") != NULL);
	CHECK_EQ_STR(scan_db_rule(db, 5000)->name, "kw");
	CHECK_EQ_INT(scan_db_rule(db, 5000)->score, 3);
	printf("  cache: %u rules, %zu bytes in memory, %lld-byte file; cold "
	       "build %.1f ms, warm load %.1f ms\n", count, mem,
	       (long long)sb.st_size, t_cold, t_warm);
	CHECK_MSG(t_warm < t_cold / 5, "warm %.1f ms vs cold %.1f ms", t_warm,
		  t_cold);
	scan_db_free(db);

	scan_rules_free(r);

	/* corruption anywhere is caught (small set, quick rebuilds): flip one
	 * byte in the header, the rule table, the Hyperscan blob; truncate */
	r = scan_rules_create();
	snprintf(path, sizeof path, "%s/small.ndb", tmpdir);
	const char *small_ndb = "Gen.0:0:*:000000004142\nSpare:0:EOF-9:4142??43\n";
	write_file("small.ndb", small_ndb, strlen(small_ndb));
	CHECK_EQ_INT(scan_rules_load_sigfile(r, path, quiet, NULL), 2);
	struct scan_rule_def kd = { SCAN_RULE_SPAM, "kw", "free money",
				    SCAN_RULE_CASELESS, 0, 3, NULL, "s", 1, NULL, 0, 0 };
	scan_rules_add(r, &kd, err, sizeof err);
	CHECK_EQ_INT(scan_db_build(r, cdir, &db, err, sizeof err), 0);
	probe(db, cold, sizeof cold);
	CHECK_EQ_STR(cold, "Gen.0 kw");
	cache_file(path, sizeof path, db);
	scan_db_free(db);
	CHECK(stat(path, &sb) == 0);
	static const double where[] = { 0.01, 0.5, 0.99 };
	for (size_t i = 0; i < 4; i++) {
		FILE *f = fopen(path, "r+b");
		if (i < 3) {
			long pos = (long)((double)sb.st_size * where[i]);
			int c;
			fseek(f, pos, SEEK_SET);
			c = fgetc(f);
			fseek(f, pos, SEEK_SET);
			fputc(c ^ 0x55, f);
			fclose(f);
		} else {
			fclose(f);
			CHECK(truncate(path, sb.st_size / 2) == 0);
		}
		CHECK_EQ_INT(scan_db_build(r, cdir, &db, err, sizeof err), 0);
		CHECK_MSG(scan_db_loaded_from_cache(db) == 0, "corruption %zu "
			  "not detected", i);
		probe(db, warm, sizeof warm);
		CHECK_EQ_STR(warm, cold);
		scan_db_free(db);
		/* rebuilt and rewritten: loads again */
		CHECK_EQ_INT(scan_db_build(r, cdir, &db, err, sizeof err), 0);
		CHECK_EQ_INT(scan_db_loaded_from_cache(db), 1);
		scan_db_free(db);
	}

	/* a different rule generation has a different key */
	CHECK_EQ_INT(scan_db_build(r, cdir, &db, err, sizeof err), 0);
	CHECK_EQ_INT(scan_db_loaded_from_cache(db), 1);
	unsigned small = scan_db_rule_count(db);
	scan_db_free(db);
	struct scan_rule_def d = { SCAN_RULE_SPAM, "kw2", "other", 0, 0, 1,
				   NULL, "s", 2, NULL, 0, 0 };
	scan_rules_add(r, &d, err, sizeof err);
	CHECK_EQ_INT(scan_db_build(r, cdir, &db, err, sizeof err), 0);
	CHECK_EQ_INT(scan_db_loaded_from_cache(db), 0);
	CHECK_EQ_INT(scan_db_rule_count(db), small + 1);
	scan_db_free(db);
	scan_rules_free(r);
}

/* Keyword expressions: the LOGIC record is compiled as nothing, its terms
 * as patterns that report hits under their own ids; the term fields
 * survive the cache; a cache whose term table is inconsistent is
 * refused and rebuilt. */
static void test_logic_rules_and_cache(void)
{
	static const struct scan_term_def terms[] = {
		{ SCAN_TERM_ALL, "invoice", SCAN_RULE_CASELESS },
		{ SCAN_TERM_NOT, "unsubscribe", SCAN_RULE_CASELESS },
	};
	struct scan_rule_def d = { SCAN_RULE_CONTENT, "kx", NULL, 0,
				   SCAN_WHERE_BODY, 0, "fraud", "r.conf", 4,
				   terms, 2, 0 };
	struct scan_rules *r = scan_rules_create();
	struct scan_db *db = NULL;
	char err[256], cdir[512], path[600];

	/* a hash signature too: LOGIC records must not enter the tables */
	snprintf(cdir, sizeof cdir, "%s/cache-logic", tmpdir);
	CHECK_EQ_INT(scan_rules_add(r, &d, err, sizeof err), 0);
	for (int pass = 0; pass < 3; pass++) {
		CHECK_EQ_INT(scan_db_build(r, cdir, &db, err, sizeof err), 0);
		if (db == NULL)
			break;
		CHECK_EQ_INT(scan_db_loaded_from_cache(db), pass == 1);
		CHECK_EQ_INT(scan_db_rule_count(db), 3);
		const struct scan_rule *L = scan_db_rule(db, 0);
		const struct scan_rule *t1 = scan_db_rule(db, 2);
		CHECK_EQ_INT(L->match, SCAN_MATCH_LOGIC);
		CHECK_EQ_INT(L->nterms, 2);
		CHECK_EQ_STR(L->class_name, "fraud");
		CHECK_EQ_INT(t1->kind, SCAN_RULE_TERM);
		CHECK_EQ_INT(t1->owner, 0);
		CHECK_EQ_INT(t1->term, 1);
		CHECK_EQ_INT(t1->role, SCAN_TERM_NOT);
		CHECK_EQ_STR(t1->name, "unsubscribe");
		CHECK_EQ_INT(scan_db_hash_needs(db, 7), 0);
		struct scan_db_scratch *s = scan_db_scratch_create(db);
		scan_db_hits_reset(s);
		scan_db_scan(db, s, (const uint8_t *)"Invoice; Unsubscribe", 20,
			     SCAN_WHERE_BODY, 1);
		scan_db_scan(db, s, (const uint8_t *)"invoice", 7,
			     SCAN_WHERE_SUBJECT, 0); /* not in where */
		CHECK_EQ_STR(hit_names(db, s), "invoice unsubscribe");
		scan_db_scratch_free(s);
		uint8_t key[32];
		char hex[65];
		scan_db_key(db, key);
		snprintf(path, sizeof path, "%s/sluice-%s.hsdb", cdir,
			 scan_hash_hex(key, 32, hex));
		scan_db_free(db);
		db = NULL;
		if (pass != 1)
			continue;
		/* Forge the cache: term 1's owner 0 -> 1, checksum redone.
		 * Record layout of scan/hsdb_cache.c (format 3): 120 bytes,
		 * owner at +52, term index at +57. */
		FILE *f = fopen(path, "r+b");
		static uint8_t buf[1 << 16];
		size_t n = f ? fread(buf, 1, sizeof buf, f) : 0;
		uint64_t pool_len;
		CHECK(n > 1024 && n < sizeof buf);
		if (n <= 1024 || n >= sizeof buf) {
			if (f)
				fclose(f);
			break;
		}
		memcpy(&pool_len, buf + 56 + 4, 8);
		size_t rec = 56 + 12 + (size_t)pool_len + 2 * 120;
		uint32_t owner;
		memcpy(&owner, buf + rec + 52, 4);
		CHECK_EQ_INT(owner, 0);
		CHECK_EQ_INT(buf[rec + 57], 1);
		owner = 1;
		memcpy(buf + rec + 52, &owner, 4);
		scan_sha256(buf + 56, n - 56 - 32, buf + n - 32);
		rewind(f);
		fwrite(buf, 1, n, f);
		fclose(f);
	}
	scan_rules_free(r);
}

static void test_compile_error_names_rule(void)
{
	/* Hyperscan refuses a content rule when the database is compiled:
	 * the build fails naming it (a configuration error); it is accepted
	 * at add time (only cheap checks there) */
	struct scan_rules *r = scan_rules_create();
	struct scan_rule_def d = { SCAN_RULE_CONTENT, "badre", "a(?<=b)c",
				   SCAN_RULE_REGEX, 0, 0, "block", "rules.conf",
				   42, NULL, 0, 0 };
	char err[256], cdir[512];
	struct scan_db *db = NULL;

	snprintf(cdir, sizeof cdir, "%s/cache-err", tmpdir);
	CHECK_EQ_INT(scan_rules_add(r, &d, err, sizeof err), 0);
	CHECK_EQ_INT(scan_db_build(r, cdir, &db, err, sizeof err), -EINVAL);
	CHECK(db == NULL);
	CHECK_EQ_STR(err, "rules.conf:42: content rule 'badre': bad pattern: "
			  "Zero-width assertions are not supported.");
	/* and again (nothing cached) */
	CHECK_EQ_INT(scan_db_build(r, cdir, &db, err, sizeof err), -EINVAL);
	CHECK_EQ_INT(strncmp(err, "rules.conf:42: content rule 'badre'", 35), 0);
	scan_rules_free(r);
}

static struct scan_rules *dropping_rules(const char *path)
{
	struct scan_rules *r = scan_rules_create();

	CHECK_EQ_INT(scan_rules_load_sigfile(r, path, diag_collect, NULL), 3);
	return r;
}

/* A signature Hyperscan refuses is reported and dropped at compile time;
 * a build from the cache reports the same without compiling. */
static void test_signature_dropped(void)
{
	static const char ndb[] =
		"Ok.One:0:*:414243\n"
		"Big.Gap:0:*:41{1-40000}42\n" /* Bounded repeat is too large */
		"Ok.Two:0:*:44454647\n";
	static const char want[] =
		"d.ndb:2: signature 'Big.Gap' left to libclamav: Hyperscan: "
		"Bounded "
		"repeat is too large.\n";
	char path[512], err[256], cdir[512];
	struct scan_db *db = NULL;

	write_file("d.ndb", ndb, strlen(ndb));
	snprintf(path, sizeof path, "%s/d.ndb", tmpdir);
	snprintf(cdir, sizeof cdir, "%s/cache-drop", tmpdir);
	write_file("d.hsb", "44d88612fea8a8f36de82e1278abb02f:68:E.MD5\n", 42);

	for (int pass = 0; pass < 2; pass++) {
		struct scan_rules *r = dropping_rules(path);
		char hsb[512];

		snprintf(hsb, sizeof hsb, "%s/d.hsb", tmpdir);
		CHECK_EQ_INT(scan_rules_load_sigfile(r, hsb, diag_collect, NULL),
			     1);
		diag_log[0] = '\0';
		CHECK_EQ_INT(scan_db_build(r, cdir, &db, err, sizeof err), 0);
		CHECK_EQ_INT(scan_db_loaded_from_cache(db), pass);
		CHECK_MSG(strcmp(diag_log, want) == 0, "pass %d: %s", pass,
			  diag_log);
		CHECK_EQ_INT(scan_rules_file_stats(r, 0)->loaded, 2);
		CHECK_EQ_INT(scan_rules_file_stats(r, 0)->libclamav, 1);
		/* ids without a gap */
		CHECK_EQ_INT(scan_db_rule_count(db), 3);
		CHECK_EQ_STR(scan_db_rule(db, 1)->name, "Ok.Two");
		CHECK_EQ_INT(scan_db_rule(db, 1)->line, 3);
		CHECK_EQ_STR(scan_db_rule(db, 2)->name, "E.MD5");
		struct scan_db_scratch *s = scan_db_scratch_create(db);
		scan_db_hits_reset(s);
		scan_db_scan(db, s, (const uint8_t *)"ABC DEFG", 8, ATT, 0);
		CHECK_EQ_STR(hit_names(db, s), "Ok.One Ok.Two");
		scan_db_scratch_free(s);
		scan_db_free(db);
		/* the same builder again: nothing reported twice */
		diag_log[0] = '\0';
		CHECK_EQ_INT(scan_db_build(r, cdir, &db, err, sizeof err), 0);
		CHECK_EQ_INT(scan_db_loaded_from_cache(db), 1);
		CHECK_EQ_STR(diag_log, "");
		CHECK_EQ_INT(scan_rules_file_stats(r, 0)->libclamav, 1);
		scan_db_free(db);
		scan_rules_free(r);
	}
}

static void test_hash_needs(void)
{
	static const char hsb[] =
		"44d88612fea8a8f36de82e1278abb02f:68:M.68\n"
		"44d88612fea8a8f36de82e1278abb02e:68:M.68b\n" /* same size */
		"44d88612fea8a8f36de82e1278abb02d:1000000:M.1M\n"
		"44d88612fea8a8f36de82e1278abb02c:0:M.0\n"
		"3395856ce81f2b7382dee72602f798b642f14140:70:S1.70\n"
		"275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f:*:S2.any\n";
	static const struct {
		uint64_t size;
		unsigned need;
	} need_rows[] = {
		{ 0, SCAN_HASH_MD5 | SCAN_HASH_SHA256 },
		{ 1, SCAN_HASH_SHA256 },
		{ 67, SCAN_HASH_SHA256 },
		{ 68, SCAN_HASH_MD5 | SCAN_HASH_SHA256 },
		{ 69, SCAN_HASH_SHA256 },
		{ 70, SCAN_HASH_SHA1 | SCAN_HASH_SHA256 },
		{ 1000000, SCAN_HASH_MD5 | SCAN_HASH_SHA256 },
		{ 1000001, SCAN_HASH_SHA256 },
		{ UINT64_MAX - 1, SCAN_HASH_SHA256 },
	};
	struct scan_db *db = build(NULL, hsb, NULL);

	for (size_t i = 0; i < sizeof need_rows / sizeof need_rows[0]; i++)
		CHECK_MSG(scan_db_hash_needs(db, need_rows[i].size) ==
				  need_rows[i].need,
			  "size %llu: %#x", (unsigned long long)need_rows[i].size,
			  scan_db_hash_needs(db, need_rows[i].size));
	scan_db_free(db);

	/* no hash signatures: nothing needed; body signatures do not count */
	db = build("A:0:*:414243\n", NULL, NULL);
	CHECK_EQ_INT(scan_db_hash_needs(db, 68), 0);
	CHECK_EQ_INT(scan_db_hash_needs(db, 0), 0);
	scan_db_free(db);

	/* the same from the cache; a '*' MD5 needs MD5 for every size */
	char cdir[512], err[256], path[512];
	snprintf(cdir, sizeof cdir, "%s/cache-needs", tmpdir);
	for (int pass = 0; pass < 2; pass++) {
		struct scan_rules *r = scan_rules_create();
		static const char hdb[] =
			"44d88612fea8a8f36de82e1278abb02f:*:M.any\n"
			"44d88612fea8a8f36de82e1278abb02e:5:M.5\n";
		write_file("n.hdb", hdb, strlen(hdb));
		snprintf(path, sizeof path, "%s/n.hdb", tmpdir);
		scan_rules_load_sigfile(r, path, quiet, NULL);
		CHECK_EQ_INT(scan_db_build(r, cdir, &db, err, sizeof err), 0);
		CHECK_EQ_INT(scan_db_loaded_from_cache(db), pass);
		CHECK_EQ_INT(scan_db_hash_needs(db, 5), SCAN_HASH_MD5);
		CHECK_EQ_INT(scan_db_hash_needs(db, 12345), SCAN_HASH_MD5);
		scan_db_free(db);
		scan_rules_free(r);
	}
	/* a match with only the digests asked for (md5 NULL is fine) */
	db = build(NULL, hsb, NULL);
	struct scan_db_scratch *s = scan_db_scratch_create(db);
	uint8_t m[16], s1[20], s2[32];
	scan_hash_all((const uint8_t *)eicar, 68, m, s1, s2);
	scan_db_hits_reset(s);
	CHECK_EQ_INT(scan_db_hash_match(db, s, NULL, NULL, s2, 68, 0), 0);
	CHECK_EQ_STR(hit_names(db, s), "S2.any");
	scan_db_scratch_free(s);
	scan_db_free(db);
}

static int exists(const char *dir, const char *name)
{
	char p[700];
	struct stat sb;

	snprintf(p, sizeof p, "%s/%s", dir, name);
	return stat(p, &sb) == 0;
}

static void touch_old(const char *dir, const char *name, time_t age)
{
	char p[700];
	struct timespec ts[2];
	FILE *f;

	snprintf(p, sizeof p, "%s/%s", dir, name);
	f = fopen(p, "wb");
	fputs("old", f);
	fclose(f);
	clock_gettime(CLOCK_REALTIME, &ts[0]);
	ts[0].tv_sec -= age;
	ts[1] = ts[0];
	utimensat(AT_FDCWD, p, ts, 0);
}

/* The cache directory is created (mkdir -p, 0700); one that cannot be
 * created is a warning; other generations beyond the newest two are
 * deleted after a write. */
static void test_cache_dir(void)
{
	char cdir[512], bad[512], err[256], name[100], hex[65];
	struct scan_db *db = NULL;
	struct scan_rules *r = scan_rules_create();
	struct scan_rule_def d = { SCAN_RULE_SPAM, "kw", "free money", 0, 0, 3,
				   NULL, "s", 1, NULL, 0, 0 };
	struct stat sb;
	uint8_t key[32];

	scan_rules_set_diag(r, diag_collect, NULL);
	CHECK_EQ_INT(scan_rules_add(r, &d, err, sizeof err), 0);

	/* nested, missing */
	snprintf(cdir, sizeof cdir, "%s/var/lib/sluice/cache", tmpdir);
	diag_log[0] = '\0';
	CHECK_EQ_INT(scan_db_build(r, cdir, &db, err, sizeof err), 0);
	CHECK_EQ_STR(diag_log, "");
	CHECK(stat(cdir, &sb) == 0 && S_ISDIR(sb.st_mode));
	CHECK_EQ_INT(sb.st_mode & 0777, 0700);
	scan_db_free(db);
	CHECK_EQ_INT(scan_db_build(r, cdir, &db, err, sizeof err), 0);
	CHECK_EQ_INT(scan_db_loaded_from_cache(db), 1);
	scan_db_key(db, key);
	scan_db_free(db);

	/* under a regular file: cannot exist; builds, warns once */
	write_file("plain", "x", 1);
	snprintf(bad, sizeof bad, "%s/plain/cache", tmpdir);
	diag_log[0] = '\0';
	CHECK_EQ_INT(scan_db_build(r, bad, &db, err, sizeof err), 0);
	CHECK_EQ_STR(err, "");
	CHECK_EQ_INT(scan_db_loaded_from_cache(db), 0);
	CHECK_EQ_INT(scan_db_rule_count(db), 1);
	static const char warn[] =
		"cache:0: rule cache not written: Not a directory;";
	CHECK_MSG(strncmp(diag_log, warn, strlen(warn)) == 0 &&
			  strchr(diag_log, '\n') == strrchr(diag_log, '\n'),
		  "%s", diag_log);
	scan_db_free(db);

	/* pruning: four other generations, a stale and a fresh temporary
	 * file, an unrelated file; then a new generation is written */
	static const char *const gens[] = { "1", "2", "3", "4" };
	for (int i = 0; i < 4; i++) {
		snprintf(name, sizeof name, "sluice-%064d.hsdb", atoi(gens[i]));
		touch_old(cdir, name, 1000 * (i + 1)); /* "1" newest */
	}
	touch_old(cdir, ".sluice-hsdb.abc123", 7200);
	touch_old(cdir, ".sluice-hsdb.def456", 60);
	touch_old(cdir, "sluice-notes.txt", 99999);
	/* the current generation (key) is newer than all of them */
	struct scan_rule_def d2 = { SCAN_RULE_SPAM, "kw2", "other", 0, 0, 1,
				    NULL, "s", 2, NULL, 0, 0 };
	CHECK_EQ_INT(scan_rules_add(r, &d2, err, sizeof err), 0);
	CHECK_EQ_INT(scan_db_build(r, cdir, &db, err, sizeof err), 0);
	CHECK_EQ_INT(scan_db_loaded_from_cache(db), 0);
	uint8_t key2[32];
	scan_db_key(db, key2);
	scan_db_free(db);
	snprintf(name, sizeof name, "sluice-%s.hsdb", scan_hash_hex(key2, 32, hex));
	CHECK(exists(cdir, name));                    /* just written */
	snprintf(name, sizeof name, "sluice-%s.hsdb", scan_hash_hex(key, 32, hex));
	CHECK(exists(cdir, name));                    /* previous: newest other */
	for (int i = 0; i < 4; i++) {
		snprintf(name, sizeof name, "sluice-%064d.hsdb", atoi(gens[i]));
		CHECK_MSG(!exists(cdir, name), "%s kept", name);
	}
	CHECK(!exists(cdir, ".sluice-hsdb.abc123"));
	CHECK(exists(cdir, ".sluice-hsdb.def456"));   /* may be in use */
	CHECK(exists(cdir, "sluice-notes.txt"));      /* not ours */

	/* a hit marks its file as used: after a rollback to the first
	 * generation and a third one, the first (used last) is kept */
	struct scan_rules *r1 = scan_rules_create();
	CHECK_EQ_INT(scan_rules_add(r1, &d, err, sizeof err), 0);
	sleep(1); /* coarse file system timestamps */
	CHECK_EQ_INT(scan_db_build(r1, cdir, &db, err, sizeof err), 0);
	CHECK_EQ_INT(scan_db_loaded_from_cache(db), 1);
	scan_db_free(db);
	struct scan_rule_def d3 = { SCAN_RULE_SPAM, "kw3", "third", 0, 0, 1,
				    NULL, "s", 3, NULL, 0, 0 };
	CHECK_EQ_INT(scan_rules_add(r1, &d3, err, sizeof err), 0);
	CHECK_EQ_INT(scan_db_build(r1, cdir, &db, err, sizeof err), 0);
	CHECK_EQ_INT(scan_db_loaded_from_cache(db), 0);
	scan_db_free(db);
	snprintf(name, sizeof name, "sluice-%s.hsdb", scan_hash_hex(key, 32, hex));
	CHECK(exists(cdir, name));
	snprintf(name, sizeof name, "sluice-%s.hsdb", scan_hash_hex(key2, 32, hex));
	CHECK(!exists(cdir, name));
	scan_rules_free(r1);
	scan_rules_free(r);
}

int main(void)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/test_hsdb.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return 2;
	RUN(test_match_rows);
	RUN(test_hit_fields_and_once_per_part);
	RUN(test_content_and_spam);
	RUN(test_hash_sigs);
	RUN(test_bundled_signatures);
	RUN(test_empty_set);
	RUN(test_hit_bound);
	RUN(test_cache_round_trip);
	RUN(test_logic_rules_and_cache);
	RUN(test_compile_error_names_rule);
	RUN(test_signature_dropped);
	RUN(test_hash_needs);
	RUN(test_cache_dir);
	char cmd[600];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "cleanup of %s failed\n", tmpdir);
	return CHECK_DONE();
}
