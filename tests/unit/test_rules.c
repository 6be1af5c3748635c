/*
 * tests/unit/test_rules.c - the rule builder: content/spam definitions and
 * their errors, signature files (comments, CRLF, bad lines reported with
 * file:line, unsupported files), directory order, source hash.
 */
#include "scan/rules.h"
#include "tests/unit/check.h"
#include "tests/unit/diag_log.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hs.h>

static char tmpdir[256];

static void write_file(const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	f = fopen(path, "wb");
	fputs(text, f);
	fclose(f);
}

static const struct {
	struct scan_rule_def def;
	int rc;
	const char *err; /* expected error text (prefix), NULL on success */
} add_rows[] = {
	{ { SCAN_RULE_CONTENT, "c1", "confidential", SCAN_RULE_CASELESS, 0, 0,
	    "block", "rules.conf", 3, NULL, 0, 0 }, 0, NULL },
	{ { SCAN_RULE_SPAM, "s1", "cheap pills", 0, SCAN_WHERE_SUBJECT, 4, NULL,
	    "spam.conf", 7, NULL, 0, 0 }, 0, NULL },
	{ { SCAN_RULE_SPAM, "s2", "v[i1]agra", SCAN_RULE_REGEX | SCAN_RULE_WORD,
	    0, -2, NULL, "spam.conf", 8, NULL, 0, 0 }, 0, NULL },
	{ { SCAN_RULE_CONTENT, "c1", "other", 0, 0, 0, "block", "rules.conf",
	    9, NULL, 0, 0 }, -EEXIST,
	  "rules.conf:9: content rule 'c1': duplicate name (first at rules.conf:3)" },
	/* same name, other kind: fine */
	{ { SCAN_RULE_SPAM, "c1", "other", 0, 0, 1, NULL, "spam.conf", 10, NULL, 0, 0 }, 0,
	  NULL },
	/* Hyperscan's verdict comes later (test_validate): accepted here */
	{ { SCAN_RULE_CONTENT, "bad", "(unclosed", SCAN_RULE_REGEX, 0, 0,
	    "block", "rules.conf", 12, NULL, 0, 0 }, 0, NULL },
	{ { SCAN_RULE_CONTENT, "noclass", "x", 0, 0, 0, NULL, "rules.conf", 14, NULL, 0, 0 },
	  -EINVAL, "rules.conf:14: content rule 'noclass': content rule needs a class" },
	{ { SCAN_RULE_VIRUS, "v", "x", 0, 0, 0, NULL, "rules.conf", 15, NULL, 0, 0 },
	  -EINVAL, "rules.conf:15: content rule 'v': only content and spam" },
	{ { SCAN_RULE_CONTENT, "nopat", "", 0, 0, 0, "block", "rules.conf", 16, NULL, 0, 0 },
	  -EINVAL, "rules.conf:16: content rule 'nopat': needs a name" },
	{ { SCAN_RULE_CONTENT, "w", "x", 0, 0x100, 0, "block", "rules.conf", 17, NULL, 0, 0 },
	  -EINVAL, "rules.conf:17: content rule 'w': unknown where bits" },
	{ { SCAN_RULE_CONTENT, "f", "x", 0x80, 0, 0, "block", "rules.conf", 18, NULL, 0, 0 },
	  -EINVAL, "rules.conf:18: content rule 'f': unknown flags" },
};

static void test_add_rows(void)
{
	struct scan_rules *r = scan_rules_create();
	unsigned ok = 0;

	for (size_t i = 0; i < sizeof add_rows / sizeof add_rows[0]; i++) {
		char err[256] = "junk";
		int rc = scan_rules_add(r, &add_rows[i].def, err, sizeof err);

		CHECK_MSG(rc == add_rows[i].rc, "row %zu: rc %d (%s)", i, rc, err);
		if (add_rows[i].err == NULL) {
			CHECK_EQ_STR(err, "");
			ok++;
		} else {
			CHECK_MSG(strncmp(err, add_rows[i].err,
					  strlen(add_rows[i].err)) == 0,
				  "row %zu: err '%s'", i, err);
		}
	}
	CHECK_EQ_INT(scan_rules_count(r), ok);
	const struct scan_rule *c1 = scan_rules_get(r, 0);
	CHECK_EQ_STR(c1->name, "c1");
	CHECK_EQ_STR(c1->class_name, "block");
	CHECK_EQ_INT(c1->where, SCAN_WHERE_ANY);
	CHECK_EQ_INT(c1->target_type, -1);
	CHECK_EQ_STR(scan_rules_expr(r, 0)->expr, "confidential");
	CHECK(scan_rules_expr(r, 0)->hs_flags & HS_FLAG_CASELESS);
	const struct scan_rule *s1 = scan_rules_get(r, 1);
	CHECK_EQ_INT(s1->score, 4);
	CHECK_EQ_INT(s1->where, SCAN_WHERE_SUBJECT);
	CHECK(s1->class_name == NULL);
	CHECK_EQ_STR(s1->file, "spam.conf");
	CHECK_EQ_INT(s1->line, 7);
	CHECK_EQ_STR(scan_rules_expr(r, 1)->expr, "cheap\\x20pills");
	CHECK_EQ_STR(scan_rules_expr(r, 2)->expr, "\\b(?:v[i1]agra)\\b");
	CHECK_EQ_INT(scan_rules_get(r, 2)->score, -2);
	scan_rules_free(r);
}

/* Keyword expressions: the LOGIC record and its TERM records, and every
 * refusal (nothing is added on error). */
static const struct scan_term_def kx_terms[] = {
	{ SCAN_TERM_ALL, "invoice", SCAN_RULE_CASELESS | SCAN_RULE_WORD },
	{ SCAN_TERM_ALL, "IBAN \\d+", SCAN_RULE_REGEX },
	{ SCAN_TERM_ANY, "wire", SCAN_RULE_CASELESS },
	{ SCAN_TERM_ANY, "bank", SCAN_RULE_CASELESS },
	{ SCAN_TERM_NOT, "unsubscribe", 0 },
};
static const struct scan_term_def not_only[] = {
	{ SCAN_TERM_NOT, "x", 0 },
};
static const struct scan_term_def bad_term[] = {
	{ SCAN_TERM_ALL, "", 0 },
};
static const struct scan_term_def bad_flags[] = {
	{ SCAN_TERM_ALL, "x", 0x40 },
};
static const struct scan_term_def bad_role[] = {
	{ (enum scan_term_role)7, "x", 0 },
};
static struct scan_term_def many[SCAN_RULE_MAX_TERMS + 1];

static const struct {
	struct scan_rule_def def;
	int rc;
	const char *err;
} logic_rows[] = {
	{ { SCAN_RULE_CONTENT, "kx", NULL, 0, SCAN_WHERE_BODY, 0, "fraud",
	    "r.conf", 5, kx_terms, 5, 2 }, 0, NULL },
	{ { SCAN_RULE_CONTENT, "n", NULL, 0, 0, 0, "b", "r.conf", 6,
	    not_only, 1, 0 }, -EINVAL,
	  "r.conf:6: content rule 'n': needs at least one 'all' or 'any' term" },
	{ { SCAN_RULE_CONTENT, "both", "x", 0, 0, 0, "b", "r.conf", 7,
	    kx_terms, 5, 0 }, -EINVAL,
	  "r.conf:7: content rule 'both': give either a pattern or terms" },
	{ { SCAN_RULE_CONTENT, "many", NULL, 0, 0, 0, "b", "r.conf", 8,
	    many, SCAN_RULE_MAX_TERMS + 1, 0 }, -EINVAL,
	  "r.conf:8: content rule 'many': 33 terms; use 1 to 32" },
	{ { SCAN_RULE_CONTENT, "min", NULL, 0, 0, 0, "b", "r.conf", 9,
	    kx_terms, 5, 3 }, -EINVAL,
	  "r.conf:9: content rule 'min': min 3 but only 2 'any' terms" },
	{ { SCAN_RULE_SPAM, "sp", NULL, 0, 0, 1, NULL, "r.conf", 10,
	    kx_terms, 5, 0 }, -EINVAL,
	  "r.conf:10: spam rule 'sp': keyword expressions (terms) are for "
	  "content rules only" },
	{ { SCAN_RULE_CONTENT, "e", NULL, 0, 0, 0, "b", "r.conf", 11,
	    bad_term, 1, 0 }, -EINVAL,
	  "r.conf:11: content rule 'e': term 1: empty pattern" },
	{ { SCAN_RULE_CONTENT, "f", NULL, 0, 0, 0, "b", "r.conf", 12,
	    bad_flags, 1, 0 }, -EINVAL,
	  "r.conf:12: content rule 'f': term 1: unknown flags 0x40" },
	{ { SCAN_RULE_CONTENT, "r", NULL, 0, 0, 0, "b", "r.conf", 13,
	    bad_role, 1, 0 }, -EINVAL,
	  "r.conf:13: content rule 'r': term 1: unknown role 7" },
	{ { SCAN_RULE_CONTENT, "kx", NULL, 0, 0, 0, "b", "r.conf", 14,
	    kx_terms, 5, 0 }, -EEXIST,
	  "r.conf:14: content rule 'kx': duplicate name" },
	/* a plain content rule after it: ids continue after the terms */
	{ { SCAN_RULE_CONTENT, "plain", "p", 0, 0, 0, "b", "r.conf", 15,
	    NULL, 0, 0 }, 0, NULL },
};

static void test_add_logic(void)
{
	struct scan_rules *r = scan_rules_create();

	for (size_t i = 0; i < SCAN_RULE_MAX_TERMS + 1; i++)
		many[i] = (struct scan_term_def){ SCAN_TERM_ALL, "t", 0 };
	for (size_t i = 0; i < sizeof logic_rows / sizeof logic_rows[0]; i++) {
		char err[256] = "junk";
		int rc = scan_rules_add(r, &logic_rows[i].def, err, sizeof err);

		CHECK_MSG(rc == logic_rows[i].rc, "row %zu: rc %d (%s)", i, rc,
			  err);
		if (logic_rows[i].err == NULL)
			CHECK_EQ_STR(err, "");
		else
			CHECK_MSG(strncmp(err, logic_rows[i].err,
					  strlen(logic_rows[i].err)) == 0,
				  "row %zu: err '%s'", i, err);
	}
	/* kx (LOGIC) + 5 terms + plain */
	CHECK_EQ_INT(scan_rules_count(r), 7);
	const struct scan_rule *L = scan_rules_get(r, 0);
	CHECK_EQ_INT(L->kind, SCAN_RULE_CONTENT);
	CHECK_EQ_INT(L->match, SCAN_MATCH_LOGIC);
	CHECK_EQ_INT(L->nterms, 5);
	CHECK_EQ_INT(L->min_any, 2);
	CHECK_EQ_STR(L->class_name, "fraud");
	CHECK(scan_rules_expr(r, 0) == NULL);
	for (unsigned k = 0; k < 5; k++) {
		const struct scan_rule *t = scan_rules_get(r, 1 + k);
		CHECK_EQ_INT(t->kind, SCAN_RULE_TERM);
		CHECK_EQ_INT(t->match, SCAN_MATCH_PATTERN);
		CHECK_EQ_INT(t->owner, 0);
		CHECK_EQ_INT(t->term, k);
		CHECK_EQ_INT(t->role, kx_terms[k].role);
		CHECK_EQ_STR(t->name, kx_terms[k].pattern);
		CHECK_EQ_INT(t->where, SCAN_WHERE_BODY);
		CHECK_EQ_INT(t->line, 5);
		CHECK(t->class_name == NULL);
	}
	CHECK_EQ_STR(scan_rules_expr(r, 1)->expr, "\\binvoice\\b");
	CHECK(scan_rules_expr(r, 1)->hs_flags & HS_FLAG_CASELESS);
	CHECK_EQ_STR(scan_rules_expr(r, 2)->expr, "IBAN \\d+");
	CHECK(!(scan_rules_expr(r, 2)->hs_flags & HS_FLAG_CASELESS));
	CHECK_EQ_STR(scan_rules_get(r, 6)->name, "plain");

	/* min 0 with 'any' terms means 1; without 'any' terms it stays 0 */
	struct scan_rule_def d1 = { SCAN_RULE_CONTENT, "k1", NULL, 0, 0, 0,
				    "b", "r.conf", 20, kx_terms + 2, 1, 0 };
	struct scan_rule_def d0 = { SCAN_RULE_CONTENT, "k0", NULL, 0, 0, 0,
				    "b", "r.conf", 21, kx_terms, 1, 0 };
	char err[256];
	CHECK_EQ_INT(scan_rules_add(r, &d1, err, sizeof err), 0);
	CHECK_EQ_INT(scan_rules_get(r, 7)->min_any, 1);
	CHECK_EQ_INT(scan_rules_add(r, &d0, err, sizeof err), 0);
	CHECK_EQ_INT(scan_rules_get(r, 9)->min_any, 0);

	/* a term Hyperscan refuses is a configuration error naming the rule */
	static const struct scan_term_def hs_bad[] = {
		{ SCAN_TERM_ALL, "a(?<=b)c", SCAN_RULE_REGEX },
	};
	struct scan_rule_def db = { SCAN_RULE_CONTENT, "kb", NULL, 0, 0, 0,
				    "b", "r.conf", 22, hs_bad, 1, 0 };
	CHECK_EQ_INT(scan_rules_add(r, &db, err, sizeof err), 0);
	CHECK_EQ_INT(scan_rules_validate(r, err, sizeof err), -EINVAL);
	CHECK_MSG(strncmp(err, "r.conf:22: content rule 'kb': term 'a(?<=b)c': "
			  "bad pattern: ", 47) == 0, "%s", err);
	scan_rules_free(r);
}

static void test_word_literal_edges(void)
{
	static const struct {
		const char *pat, *expr;
	} rows[] = {
		{ "win", "\\bwin\\b" },
		{ "$$$", "\\x24\\x24\\x24" },      /* no word edges: no \b */
		{ "$100", "\\x24100\\b" },
		{ "a.b", "\\ba\\x2eb\\b" },
	};
	struct scan_rules *r = scan_rules_create();

	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		char name[16], err[256];
		struct scan_rule_def d = { SCAN_RULE_SPAM, name, rows[i].pat,
					   SCAN_RULE_WORD, 0, 1, NULL, "t", 1, NULL, 0, 0 };

		snprintf(name, sizeof name, "w%zu", i);
		CHECK_EQ_INT(scan_rules_add(r, &d, err, sizeof err), 0);
		CHECK_EQ_STR(scan_rules_expr(r, (unsigned)i)->expr, rows[i].expr);
	}
	scan_rules_free(r);
}

static const char ndb_text[] =
	"# comment line\r\n"
	"\r\n"
	"Good.One:0:*:414243\r\n"                   /* line 3 */
	"Good.Two:1:EOF-10:4d5a{2-4}9000\n"         /* line 4 */
	"Bad.Ep:1:EP+0:4142\n"                      /* line 5 */
	"Bad.Hex:0:*:41zz\n"                        /* line 6 */
	"   \n"
	"Good.Three:0:100,20:41??42\n"              /* line 8 */
	"Bad.Hs:0:*:41{1-99999999}42\n"            /* line 9: Hyperscan */
	"Bad.Fields:0:*\n"                          /* line 10 */
	"Good.Four:6:*:(41|42)434445\n"             /* line 11 */
	"Norm.Text:7:*:414243\n"                    /* line 12: libclamav */
	"Norm.Html:3:*:414243\n"                    /* line 13: libclamav */
	"Unused:8:*:414243\n"                       /* line 14: libclamav */
	"Internal:13:0:414243\n"                    /* line 15: libclamav */
	"Bad.Text:7:*:41zz";                        /* line 16, no newline */

static void test_load_ndb(void)
{
	struct scan_rules *r = scan_rules_create();
	char path[512];

	write_file("t.ndb", ndb_text);
	snprintf(path, sizeof path, "%s/t.ndb", tmpdir);
	diag_log[0] = '\0';
	CHECK_EQ_INT(scan_rules_load_sigfile(r, path, diag_collect, NULL), 4);
	CHECK_EQ_INT(scan_rules_count(r), 4);
	CHECK_MSG(strstr(diag_log, "t.ndb:5: signature 'Bad.Ep' left to "
				   "libclamav: entry-point offset (EP) not "
				   "supported\n"),
		  "%s", diag_log);
	CHECK_MSG(strstr(diag_log, "t.ndb:6: signature 'Bad.Hex' rejected: "
				   "unexpected character\n"),
		  "%s", diag_log);
	CHECK_MSG(strstr(diag_log, "t.ndb:9: signature 'Bad.Hs' rejected"),
		  "%s", diag_log);
	CHECK_MSG(strstr(diag_log, "t.ndb:10: signature 'Bad.Fields' rejected: "
				   "too few fields\n"),
		  "%s", diag_log);
	/* targets 3/4/7 (normalised bytes) and 8/13/14 go to libclamav; a
	 * malformed line is rejected whatever its target */
	CHECK_MSG(strstr(diag_log, "t.ndb:12: signature 'Norm.Text' left to "
				   "libclamav: target type 3/4/7 is matched on "
				   "normalised HTML/mail/text\n"),
		  "%s", diag_log);
	CHECK_MSG(strstr(diag_log, "t.ndb:13: signature 'Norm.Html' left to "
				   "libclamav: target type 3/4/7"),
		  "%s", diag_log);
	CHECK_MSG(strstr(diag_log, "t.ndb:14: signature 'Unused' left to "
				   "libclamav: unknown or internal target "
				   "type\n"),
		  "%s", diag_log);
	CHECK_MSG(strstr(diag_log, "t.ndb:15: signature 'Internal' left to "
				   "libclamav: unknown or internal target "
				   "type\n"),
		  "%s", diag_log);
	CHECK_MSG(strstr(diag_log, "t.ndb:16: signature 'Bad.Text' rejected: "
				   "unexpected character\n"),
		  "%s", diag_log);

	const struct scan_sigfile_stats *st = scan_rules_file_stats(r, 0);
	CHECK_EQ_INT(scan_rules_file_count(r), 1);
	CHECK_EQ_INT(st->loaded, 4);
	CHECK_EQ_INT(st->hashes, 0);
	CHECK_EQ_INT(st->rejected, 4);
	CHECK_EQ_INT(st->libclamav, 5); /* Bad.Ep, Norm.*, Unused, Internal */
	CHECK_EQ_INT(st->unsupported, 0);

	const struct scan_rule *g1 = scan_rules_get(r, 0);
	CHECK_EQ_STR(g1->name, "Good.One");
	CHECK_EQ_INT(g1->line, 3);
	CHECK_EQ_INT(g1->kind, SCAN_RULE_VIRUS);
	CHECK_EQ_INT(g1->where, SCAN_RULE_SIG_WHERE);
	CHECK_EQ_STR(g1->file, path);
	const struct scan_rule *g2 = scan_rules_get(r, 1);
	CHECK_EQ_INT(g2->target_type, 1);
	CHECK_EQ_INT(g2->offset, SCAN_OFFSET_EOF);
	CHECK_EQ_INT(g2->off, 10);
	CHECK_EQ_INT(g2->min_len, 6);
	CHECK_EQ_INT(g2->max_len, 8);
	const struct scan_rule *g3 = scan_rules_get(r, 2);
	CHECK_EQ_INT(g3->offset, SCAN_OFFSET_ABS);
	CHECK_EQ_INT(g3->off, 100);
	CHECK_EQ_INT(g3->shift, 20);
	CHECK_EQ_INT(g3->line, 8);
	CHECK_EQ_STR(scan_rules_get(r, 3)->name, "Good.Four");
	CHECK_EQ_INT(scan_rules_get(r, 3)->line, 11);
	CHECK_EQ_INT(scan_rules_get(r, 3)->target_type, 6);
	scan_rules_free(r);
}

static void test_load_hash_and_unsupported(void)
{
	struct scan_rules *r = scan_rules_create();
	char path[512];

	write_file("a.hdb", "44d88612fea8a8f36de82e1278abb02f:68:Eicar.MD5\n"
			    "nothex:68:Bad\n");
	write_file("b.hsb",
		   "# sha256 and sha1\n"
		   "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"
		   ":*:Eicar.SHA256:73\r\n"
		   "3395856ce81f2b7382dee72602f798b642f14140:68:Eicar.SHA1\n");
	write_file("c.ldb", "Sig;Engine:51-255;0;414243\n");
	write_file("d.txt", "hello\n");
	write_file(".hidden.ndb", "Hidden:0:*:414243\n");
	mkdir(strcat(strcpy(path, tmpdir), "/e.ndb"), 0755); /* a directory */

	diag_log[0] = '\0';
	CHECK_EQ_INT(scan_rules_load_sigdir(r, tmpdir, diag_collect, NULL),
		     3 + 1 + 4);
	/* a.hdb, b.hsb, c.ldb, d.txt, t.ndb in name order; not .hidden, e.ndb */
	CHECK_EQ_INT(scan_rules_file_count(r), 5);
	const char *want[] = { "a.hdb", "b.hsb", "c.ldb", "d.txt", "t.ndb" };
	for (unsigned i = 0; i < 5 && i < scan_rules_file_count(r); i++) {
		const char *f = scan_rules_file_stats(r, i)->file;

		CHECK_EQ_STR(strrchr(f, '/') + 1, want[i]);
	}
	CHECK_EQ_INT(scan_rules_file_stats(r, 0)->hashes, 1);
	CHECK_EQ_INT(scan_rules_file_stats(r, 0)->rejected, 1);
	CHECK_EQ_INT(scan_rules_file_stats(r, 1)->hashes, 2);
	CHECK_EQ_INT(scan_rules_file_stats(r, 2)->unsupported, 0);
	CHECK_EQ_INT(scan_rules_file_stats(r, 2)->logical, 1);
	CHECK_EQ_INT(scan_rules_file_stats(r, 3)->unsupported, 1);
	CHECK_MSG(strstr(diag_log, "a.hdb:2: hash signature rejected: hash is "
				   "not 32, 40 or 64 hex digits\n"), "%s", diag_log);
	CHECK(strstr(diag_log, "c.ldb") == NULL); /* loaded, nothing to say */
	CHECK_MSG(strstr(diag_log, "d.txt:0: not a supported signature file"),
		  "%s", diag_log);
	CHECK(strstr(diag_log, "hidden") == NULL);

	const struct scan_rule *h = scan_rules_get(r, 0);
	CHECK_EQ_INT(h->match, SCAN_MATCH_MD5);
	CHECK_EQ_INT(h->size, 68);
	CHECK_EQ_INT(h->digest[0], 0x44);
	CHECK(scan_rules_expr(r, 0) == NULL);
	h = scan_rules_get(r, 1);
	CHECK_EQ_INT(h->match, SCAN_MATCH_SHA256);
	CHECK(h->size == UINT64_MAX);
	CHECK_EQ_STR(h->name, "Eicar.SHA256");
	CHECK_EQ_INT(h->line, 2);
	CHECK_EQ_INT(scan_rules_get(r, 2)->match, SCAN_MATCH_SHA1);

	CHECK_EQ_INT(scan_rules_load_sigfile(r, "/nonexistent/x.ndb", NULL, NULL),
		     -ENOENT);
	CHECK_EQ_INT(scan_rules_load_sigdir(r, "/nonexistent", NULL, NULL),
		     -ENOENT);
	scan_rules_free(r);
	rmdir(path);
}

static void test_source_hash(void)
{
	struct scan_rules *a = scan_rules_create(), *b = scan_rules_create(),
			  *c = scan_rules_create();
	struct scan_rule_def d = { SCAN_RULE_SPAM, "k", "money", 0, 0, 3, NULL,
				   "s", 1, NULL, 0, 0 };
	uint8_t ha[32], hb[32], hc[32], h0[32];
	char err[128];

	scan_rules_source_hash(a, h0);
	scan_rules_add(a, &d, err, sizeof err);
	scan_rules_add(b, &d, err, sizeof err);
	d.score = 4; /* any field counts */
	scan_rules_add(c, &d, err, sizeof err);
	scan_rules_source_hash(a, ha);
	scan_rules_source_hash(b, hb);
	scan_rules_source_hash(c, hc);
	CHECK(memcmp(ha, hb, 32) == 0);
	CHECK(memcmp(ha, hc, 32) != 0);
	CHECK(memcmp(ha, h0, 32) != 0);
	/* a rejected rule does not change the hash */
	struct scan_rule_def bad = { SCAN_RULE_SPAM, "z", "", SCAN_RULE_REGEX,
				     0, 0, NULL, "s", 2, NULL, 0, 0 };
	CHECK(scan_rules_add(b, &bad, err, sizeof err) < 0);
	scan_rules_source_hash(b, hb);
	CHECK(memcmp(ha, hb, 32) == 0);
	scan_rules_free(a);
	scan_rules_free(b);
	scan_rules_free(c);
}

/* Hyperscan's check at build time: content/spam rejections are errors
 * naming the rule; signature rejections are reported, counted, dropped. */
static const struct {
	struct scan_rule_def def;
	int rc;
	const char *err; /* expected error text (prefix), "" on success */
} validate_rows[] = {
	{ { SCAN_RULE_CONTENT, "bad", "(unclosed", SCAN_RULE_REGEX, 0, 0,
	    "block", "rules.conf", 12, NULL, 0, 0 }, -EINVAL,
	  "rules.conf:12: content rule 'bad': bad pattern: Missing close "
	  "parenthesis" },
	{ { SCAN_RULE_SPAM, "empty", "a*", SCAN_RULE_REGEX, 0, 1, NULL,
	    "spam.conf", 13, NULL, 0, 0 }, -EINVAL,
	  "spam.conf:13: spam rule 'empty': bad pattern: pattern can match "
	  "the empty string" },
	/* compiles, but matches empty: refused as before */
	{ { SCAN_RULE_SPAM, "wb", "\\b", SCAN_RULE_REGEX, 0, 1, NULL,
	    "spam.conf", 14, NULL, 0, 0 }, -EINVAL,
	  "spam.conf:14: spam rule 'wb': bad pattern: pattern can match the "
	  "empty string" },
	{ { SCAN_RULE_CONTENT, "look", "a(?<=b)c", SCAN_RULE_REGEX, 0, 0,
	    "block", "rules.conf", 15, NULL, 0, 0 }, -EINVAL,
	  "rules.conf:15: content rule 'look': bad pattern: Zero-width" },
	{ { SCAN_RULE_SPAM, "good", "v[i1]agra", SCAN_RULE_REGEX, 0, 1, NULL,
	    "spam.conf", 16, NULL, 0, 0 }, 0, "" },
	{ { SCAN_RULE_SPAM, "lit", "a*", 0, 0, 1, NULL, "spam.conf", 17, NULL, 0, 0 }, 0,
	  "" }, /* a literal: "a\\x2a" */
};

static void test_validate(void)
{
	static const char ndb[] =
		"Ok.One:0:*:414243\n"
		"Big.Gap:0:*:41{1-40000}42\n"     /* line 2: Hyperscan refuses */
		"Ok.Two:0:*:44454647\n"
		"Big.Fix:0:10:41{40000}42\n";     /* line 4 */
	char path[512], err[256];

	for (size_t i = 0; i < sizeof validate_rows / sizeof validate_rows[0];
	     i++) {
		struct scan_rules *r = scan_rules_create();

		CHECK_EQ_INT(scan_rules_add(r, &validate_rows[i].def, err,
					    sizeof err), 0);
		strcpy(err, "junk");
		int rc = scan_rules_validate(r, err, sizeof err);
		CHECK_MSG(rc == validate_rows[i].rc, "row %zu: rc %d (%s)", i,
			  rc, err);
		CHECK_MSG(strncmp(err, validate_rows[i].err,
				  strlen(validate_rows[i].err)) == 0 &&
				  (rc != 0 || err[0] == '\0'),
			  "row %zu: err '%s'", i, err);
		/* a configuration error stays: the next build fails again */
		if (rc != 0)
			CHECK_EQ_INT(scan_rules_validate(r, err, sizeof err), rc);
		scan_rules_free(r);
	}

	struct scan_rules *r = scan_rules_create();
	write_file("v.ndb", ndb);
	snprintf(path, sizeof path, "%s/v.ndb", tmpdir);
	diag_log[0] = '\0';
	CHECK_EQ_INT(scan_rules_load_sigfile(r, path, diag_collect, NULL), 4);
	CHECK_EQ_STR(diag_log, ""); /* nothing asks Hyperscan at load time */
	CHECK_EQ_INT(scan_rules_file_stats(r, 0)->loaded, 4);
	CHECK_EQ_INT(scan_rules_validate(r, err, sizeof err), 0);
	CHECK_EQ_STR(err, "");
	CHECK_EQ_STR(diag_log,
		     "v.ndb:2: signature 'Big.Gap' left to libclamav: "
		     "Hyperscan: Bounded "
		     "repeat is too large.\n"
		     "v.ndb:4: signature 'Big.Fix' left to libclamav: "
		     "Hyperscan: Bounded "
		     "repeat is too large.\n");
	CHECK_EQ_INT(scan_rules_file_stats(r, 0)->loaded, 2);
	CHECK_EQ_INT(scan_rules_file_stats(r, 0)->libclamav, 2);
	CHECK_EQ_INT(scan_rules_rejected(r, 0), 0);
	CHECK_EQ_INT(scan_rules_rejected(r, 1), 1);
	CHECK_EQ_INT(scan_rules_rejected(r, 2), 0);
	CHECK_EQ_INT(scan_rules_rejected(r, 3), 1);
	const struct scan_rule_note *notes;
	CHECK_EQ_INT(scan_rules_notes(r, &notes), 2);
	CHECK_EQ_STR(notes[1].file, path);
	CHECK_EQ_INT(notes[1].line, 4);
	CHECK_EQ_STR(notes[1].msg, "signature 'Big.Fix' left to libclamav: "
				   "Hyperscan: "
				   "Bounded repeat is too large.");
	/* once per builder: validating again reports nothing new */
	diag_log[0] = '\0';
	CHECK_EQ_INT(scan_rules_validate(r, err, sizeof err), 0);
	CHECK_EQ_STR(diag_log, "");
	CHECK_EQ_INT(scan_rules_file_stats(r, 0)->libclamav, 2);

	/* replay (a build from the cache) on a fresh builder: same reports
	 * and counts; a second replay does nothing */
	struct scan_rules *r2 = scan_rules_create();
	CHECK_EQ_INT(scan_rules_load_sigfile(r2, path, diag_collect, NULL), 4);
	CHECK_EQ_INT(scan_rules_replay_notes(r2, notes, 2), 0);
	CHECK_EQ_INT(scan_rules_replay_notes(r2, notes, 2), 0);
	CHECK_EQ_STR(diag_log,
		     "v.ndb:2: signature 'Big.Gap' left to libclamav: "
		     "Hyperscan: Bounded "
		     "repeat is too large.\n"
		     "v.ndb:4: signature 'Big.Fix' left to libclamav: "
		     "Hyperscan: Bounded "
		     "repeat is too large.\n");
	CHECK_EQ_INT(scan_rules_file_stats(r2, 0)->loaded, 2);
	CHECK_EQ_INT(scan_rules_file_stats(r2, 0)->libclamav, 2);
	scan_rules_free(r2);
	scan_rules_free(r);
	unlink(path);
}

/* The builder's diag: the first non-NULL one given to a load call, or the
 * one set explicitly. */
static void test_builder_diag(void)
{
	struct scan_rules *r = scan_rules_create();
	char path[512];

	diag_log[0] = '\0';
	scan_rules_warn(r, "x", 0, "lost"); /* no diag yet: dropped */
	write_file("w.hdb", "44d88612fea8a8f36de82e1278abb02f:68:Eicar.MD5\n");
	snprintf(path, sizeof path, "%s/w.hdb", tmpdir);
	CHECK_EQ_INT(scan_rules_load_sigfile(r, path, diag_collect, NULL), 1);
	scan_rules_warn(r, "/cache", 0, "first");
	scan_rules_set_diag(r, NULL, NULL);
	scan_rules_warn(r, "/cache", 0, "off");
	CHECK_EQ_STR(diag_log, "cache:0: first\n");
	scan_rules_free(r);
	unlink(path);
}

int main(void)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/test_rules.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return 2;
	RUN(test_add_rows);
	RUN(test_add_logic);
	RUN(test_word_literal_edges);
	RUN(test_load_ndb);
	RUN(test_load_hash_and_unsupported);
	RUN(test_source_hash);
	RUN(test_validate);
	RUN(test_builder_diag);
	const char *names[] = { "t.ndb", "a.hdb", "b.hsb", "c.ldb", "d.txt",
				".hidden.ndb" };
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		char p[512];
		snprintf(p, sizeof p, "%s/%s", tmpdir, names[i]);
		unlink(p);
	}
	rmdir(tmpdir);
	return CHECK_DONE();
}
