/*
 * tests/unit/test_sig_clamav.c - ClamAV line parsing and translation:
 * one row per case, ndb text -> expected expression and plan, or the
 * rejection and its reason. Every accepted expression must also pass
 * Hyperscan's own parser.
 */
#include "scan/sig_clamav.h"
#include "tests/unit/check.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>

#include <hs.h>

#define U SCAN_SIG_UNBOUNDED
#define DS (HS_FLAG_DOTALL | HS_FLAG_SINGLEMATCH)
#define DSOM (HS_FLAG_DOTALL | HS_FLAG_SOM_LEFTMOST)
#define D HS_FLAG_DOTALL
#define NONE SCAN_SIG_CHECK_NONE
#define FIXED SCAN_SIG_CHECK_FIXED
#define SOM SCAN_SIG_CHECK_SOM
#define REJ(l, rc, why) { l, rc, why, 0, 0, 0, NONE }
#define HREJ(l, why) { l, -EINVAL, 0, 0, why }

static const struct {
	const char *line;
	int rc;              /* 0 or -errno */
	const char *expect;  /* expression, or reason when rc != 0 */
	uint32_t min, max;   /* body length */
	unsigned flags;      /* hs flags */
	enum scan_sig_check check;
} rows[] = {
	/* plain bytes, any offset */
	{ "A:0:*:414243", 0, "\\x41\\x42\\x43", 3, 3, DS, NONE },
	{ "A:0:*:DEADbeef", 0, "\\xde\\xad\\xbe\\xef", 4, 4, DS, NONE },
	/* ?? and runs of ?? */
	{ "A:0:*:41??42", 0, "\\x41.\\x42", 3, 3, DS, NONE },
	{ "A:0:*:41??????42", 0, "\\x41.{3}\\x42", 5, 5, DS, NONE },
	{ "A:0:*:??4142", 0, ".\\x41\\x42", 3, 3, DS, NONE },
	/* nibbles */
	{ "A:0:*:41a?42", 0, "\\x41[\\xa0-\\xaf]\\x42", 3, 3, DS, NONE },
	{ "A:0:*:41?a42", 0,
	  "\\x41[\\x0a\\x1a\\x2a\\x3a\\x4a\\x5a\\x6a\\x7a\\x8a\\x9a\\xaa\\xba"
	  "\\xca\\xda\\xea\\xfa]\\x42", 3, 3, DS, NONE },
	/* gaps */
	{ "A:0:*:4142*4344", 0, "\\x41\\x42.*\\x43\\x44", 4, U, DS, NONE },
	{ "A:0:*:4142{5}4344", 0, "\\x41\\x42.{5}\\x43\\x44", 9, 9, DS, NONE },
	{ "A:0:*:4142{1}4344", 0, "\\x41\\x42.\\x43\\x44", 5, 5, DS, NONE },
	{ "A:0:*:4142{2-7}4344", 0, "\\x41\\x42.{2,7}\\x43\\x44", 6, 11, DS, NONE },
	{ "A:0:*:4142{-4}4344", 0, "\\x41\\x42.{0,4}\\x43\\x44", 4, 8, DS, NONE },
	{ "A:0:*:4142{3-}4344", 0, "\\x41\\x42.{3,}\\x43\\x44", 7, U, DS, NONE },
	{ "A:0:*:414243[2-5]44", 0, "\\x41\\x42\\x43.{2,5}\\x44", 6, 9, DS, NONE },
	/* alternations */
	{ "A:0:*:41(42|43|4a)44", 0, "\\x41[\\x42\\x43\\x4a]\\x44", 3, 3, DS, NONE },
	{ "A:0:*:41(42|43|44)45", 0, "\\x41[\\x42-\\x44]\\x45", 3, 3, DS, NONE },
	{ "A:0:*:41(4243|44)45", 0, "\\x41(?:\\x42\\x43|\\x44)\\x45", 3, 4, DS, NONE },
	{ "A:0:*:41(42??|4?44)45", 0, "\\x41(?:\\x42.|[\\x40-\\x4f]\\x44)\\x45", 4, 4, DS, NONE },
	{ "A:0:*:41(3?|42)43", 0, "\\x41[\\x30-\\x3f\\x42]\\x43", 3, 3, DS, NONE },
	{ "A:0:*:41!(00|01|ff)42", 0, "\\x41[\\x02-\\xfe]\\x42", 3, 3, DS, NONE },
	{ "A:0:*:41!(0?)42", 0, "\\x41[\\x10-\\xff]\\x42", 3, 3, DS, NONE },
	/* offsets */
	{ "A:0:10:414243", 0, "\\x41\\x42\\x43", 3, 3, D, FIXED },
	{ "A:0:10,5:414243", 0, "\\x41\\x42\\x43", 3, 3, D, FIXED },
	{ "A:0:0:4142", 0, "\\x41\\x42", 2, 2, D, FIXED },
	{ "A:0:10,5:41*42", 0, "^.{10,15}(?:\\x41.*\\x42)", 2, U, DS, NONE },
	{ "A:0:7:41{1-2}42", 0, "^.{7}(?:\\x41.{1,2}\\x42)", 3, 4, DS, NONE },
	{ "A:0:0:41*42", 0, "\\x41.*\\x42", 2, U, DSOM, SOM },
	{ "A:0:0,9:41*42", 0, "\\x41.*\\x42", 2, U, DSOM, SOM },
	{ "A:0:EOF-4:41424344", 0, "\\x41\\x42\\x43\\x44", 4, 4, D, FIXED },
	{ "A:0:EOF-10,3:4142", 0, "\\x41\\x42", 2, 2, D, FIXED },
	{ "A:0:EOF-10:41*42", 0, "\\x41.*\\x42", 2, U, DSOM, SOM },
	/* flevels and target types are accepted */
	{ "A:0:*:414243:73", 0, "\\x41\\x42\\x43", 3, 3, DS, NONE },
	{ "A:0:*:414243:51:255", 0, "\\x41\\x42\\x43", 3, 3, DS, NONE },
	{ "A:1:*:4d5a9000", 0, "\\x4d\\x5a\\x90\\x00", 4, 4, DS, NONE },
	{ "A:2:*:4142", 0, "\\x41\\x42", 2, 2, DS, NONE },
	{ "A:6:0:4142", 0, "\\x41\\x42", 2, 2, D, FIXED },
	{ "A:12:*:4142", 0, "\\x41\\x42", 2, 2, DS, NONE },
	/* unsupported: valid ClamAV we cannot express */
	REJ("A:1:EP+0:4142", -ENOTSUP, "entry-point offset (EP) not supported"),
	REJ("A:1:EP-10,5:4142", -ENOTSUP, "entry-point offset (EP) not supported"),
	REJ("A:1:S2+4:4142", -ENOTSUP, "PE section offset (Sx+n/SEx/SL+n) not supported"),
	REJ("A:1:SE1:4142", -ENOTSUP, "PE section offset (Sx+n/SEx/SL+n) not supported"),
	REJ("A:1:SL+0:4142", -ENOTSUP, "PE section offset (Sx+n/SEx/SL+n) not supported"),
	REJ("A:1:VI:4142", -ENOTSUP, "version-info offset (VI) not supported"),
	REJ("A:0:$1$:4142", -ENOTSUP, "macro offset ($n$) not supported"),
	REJ("A:0:*:4142(B)4344", -ENOTSUP, "(B)/(L)/(W) boundary not supported"),
	REJ("A:0:*:4142(L)", -ENOTSUP, "(B)/(L)/(W) boundary not supported"),
	REJ("A:0:*:41!(4243|44)45", -ENOTSUP, "multi-byte negated alternation"),
	REJ("A:99:*:4142", -ENOTSUP, "unknown target type"),
	/* libclamav matches these on normalised HTML, the mail file, and
	 * normalised text; 8 is unused, 13/14 internal types */
	REJ("A:3:*:4142", -ENOTSUP, "target type 3/4/7 is matched on normalised HTML/mail/text"),
	REJ("A:4:0:4142", -ENOTSUP, "target type 3/4/7 is matched on normalised HTML/mail/text"),
	REJ("A:7:EOF-2:41*42", -ENOTSUP, "target type 3/4/7 is matched on normalised HTML/mail/text"),
	REJ("A:8:*:4142", -ENOTSUP, "unknown or internal target type"),
	REJ("A:13:*:4142", -ENOTSUP, "unknown or internal target type"),
	REJ("A:14:*:4142", -ENOTSUP, "unknown or internal target type"),
	REJ("A:7:*:41zz", -EINVAL, "unexpected character"),
	/* malformed */
	REJ("A:0:*:4142a", -EINVAL, "odd number of hex digits"),
	REJ("A:0:*:41g2", -EINVAL, "unexpected character"),
	REJ("A:0:*:*4142", -EINVAL, "signature starts with a gap"),
	REJ("A:0:*:4142*", -EINVAL, "signature ends with a gap"),
	REJ("A:0:*:41**42", -EINVAL, "two gaps in a row"),
	REJ("A:0:*:41{5-2}42", -EINVAL, "gap range with n > m"),
	REJ("A:0:*:41{x}42", -EINVAL, "bad {n} gap"),
	REJ("A:0:*:41{5", -EINVAL, "unclosed {} gap"),
	REJ("A:0:*:41[2]42", -EINVAL, "bad [n-m] gap"),
	REJ("A:0:*:41(42|43", -EINVAL, "unclosed alternation"),
	REJ("A:0:*:41(42||43)", -EINVAL, "empty alternative"),
	REJ("A:0:*:41(42|*)43", -EINVAL, "unexpected character in alternation"),
	REJ("A:0:*:41!42", -EINVAL, "'!' not followed by '('"),
	REJ("A:0:*:????", -EINVAL, "no fixed byte in signature"),
	REJ("A:0:*:", -EINVAL, "empty signature"),
	REJ("A:0:*", -EINVAL, "too few fields"),
	REJ(":0:*:4142", -EINVAL, "empty name"),
	REJ("A:x:*:4142", -EINVAL, "bad target type"),
	REJ("A:0:EOF+3:4142", -EINVAL, "bad offset"),
	REJ("A:0:10,:4142", -EINVAL, "bad offset shift (n,m)"),
	REJ("A:0:99999999999:4142", -EINVAL, "bad offset"),
	REJ("A:0:*:4142:x", -EINVAL, "bad min_flevel"),
	REJ("A:0:*:4142:1:2:3", -EINVAL, "too many fields"),
};

static void test_ndb_table(void)
{
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		const char *line = rows[i].line;
		size_t bound = scan_sig_expr_bound(strlen(line));
		char *out = malloc(bound);
		struct scan_sig_ndb sig;
		const char *why = NULL;
		int rc = scan_sig_ndb_parse(line, strlen(line), &sig, out,
					    bound, &why);

		CHECK_MSG(rc == rows[i].rc, "row %zu '%s': rc %d want %d (%s)",
			  i, line, rc, rows[i].rc, why ? why : "");
		if (rc != 0 || rows[i].rc != 0) {
			if (rc == rows[i].rc)
				CHECK_EQ_STR(why, rows[i].expect);
			free(out);
			continue;
		}
		CHECK_MSG(strcmp(out, rows[i].expect) == 0,
			  "row %zu '%s': got %s want %s", i, line, out,
			  rows[i].expect);
		CHECK_MSG(sig.min_len == rows[i].min && sig.max_len == rows[i].max,
			  "row %zu: len [%u,%u] want [%u,%u]", i, sig.min_len,
			  sig.max_len, rows[i].min, rows[i].max);
		CHECK_MSG(sig.hs_flags == rows[i].flags, "row %zu: flags %#x want %#x",
			  i, sig.hs_flags, rows[i].flags);
		CHECK_MSG(sig.check == rows[i].check, "row %zu: check %d", i,
			  (int)sig.check);
		CHECK(sig.name_len == 1 && sig.name[0] == 'A');

		/* Hyperscan must accept what we produce. */
		hs_expr_info_t *info = NULL;
		hs_compile_error_t *cerr = NULL;
		hs_error_t e = hs_expression_info(out, sig.hs_flags, &info, &cerr);
		CHECK_MSG(e == HS_SUCCESS, "row %zu: hyperscan: %s", i,
			  cerr ? cerr->message : "?");
		if (e == HS_SUCCESS && sig.check != SCAN_SIG_CHECK_NONE) {
			/* our length bookkeeping agrees with Hyperscan's */
			CHECK_EQ_INT(info->min_width, sig.min_len);
			CHECK_EQ_INT(info->max_width == UINT_MAX ? U : info->max_width,
				     sig.max_len);
		}
		free(info);
		hs_free_compile_error(cerr);
		free(out);
	}
}

static void test_translate_lengths_agree_with_hyperscan(void)
{
	static const char *const bodies[] = {
		"414243", "41??42", "4142*4344", "4142{2-7}4344", "41(4243|44)45",
		"41!(00|01)42", "41a?42?b", "4142{-4}4344", "414243[2-5]44",
	};
	for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
		char out[512];
		uint32_t mn, mx;
		const char *why;
		hs_expr_info_t *info = NULL;
		hs_compile_error_t *cerr = NULL;

		CHECK_EQ_INT(scan_sig_hex_translate(bodies[i], strlen(bodies[i]),
						    out, sizeof out, &mn, &mx,
						    &why), 0);
		CHECK(hs_expression_info(out, HS_FLAG_DOTALL, &info, &cerr) ==
		      HS_SUCCESS);
		if (info != NULL) {
			CHECK_EQ_INT(info->min_width, mn);
			CHECK_EQ_INT(info->max_width == UINT_MAX ? U : info->max_width,
				     mx);
		}
		free(info);
		hs_free_compile_error(cerr);
	}
}

static void test_enospc(void)
{
	char out[8];
	uint32_t mn, mx;
	const char *why = NULL;

	CHECK_EQ_INT(scan_sig_hex_translate("41424344", 8, out, sizeof out, &mn,
					    &mx, &why), -ENOSPC);
	CHECK_EQ_STR(why, "expression too long");
}

static const struct {
	const char *line;
	int rc;
	enum scan_sig_hash_type type;
	uint64_t size;
	const char *name_or_why;
} hrows[] = {
	{ "44d88612fea8a8f36de82e1278abb02f:68:Eicar-MD5", 0, SCAN_SIG_MD5, 68,
	  "Eicar-MD5" },
	{ "3395856ce81f2b7382dee72602f798b642f14140:68:Eicar-SHA1", 0,
	  SCAN_SIG_SHA1, 68, "Eicar-SHA1" },
	{ "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f:*:E:73",
	  0, SCAN_SIG_SHA256, SCAN_SIG_SIZE_ANY, "E" },
	{ "275A021BBFB6489E54D471899F7DB9D1663FC695EC2FE2A2C4538AABF651FD0F:68:E",
	  0, SCAN_SIG_SHA256, 68, "E" },
	HREJ("44d88612fea8a8f36de82e1278abb02:68:X", "hash is not 32, 40 or 64 hex digits"),
	{ "44d88612fea8a8f36de82e1278abb0zz:68:X", -EINVAL, 0, 0,
	  "non-hex digit in hash" },
	HREJ("44d88612fea8a8f36de82e1278abb02f:6x:X", "bad size"),
	HREJ("44d88612fea8a8f36de82e1278abb02f:68:", "empty name"),
	HREJ("44d88612fea8a8f36de82e1278abb02f:68", "too few fields"),
	HREJ("44d88612fea8a8f36de82e1278abb02f:68:X:zz", "bad flevel"),
};

static void test_hash_table(void)
{
	for (size_t i = 0; i < sizeof hrows / sizeof hrows[0]; i++) {
		struct scan_sig_hash h;
		const char *why = NULL;
		int rc = scan_sig_hash_parse(hrows[i].line, strlen(hrows[i].line),
					     &h, &why);

		CHECK_MSG(rc == hrows[i].rc, "hash row %zu: rc %d (%s)", i, rc,
			  why ? why : "");
		if (rc != 0) {
			CHECK_EQ_STR(why, hrows[i].name_or_why);
			continue;
		}
		CHECK_EQ_INT(h.type, hrows[i].type);
		CHECK(h.size == hrows[i].size);
		CHECK_EQ_MEM(h.name, h.name_len, hrows[i].name_or_why,
			     strlen(hrows[i].name_or_why));
	}
	struct scan_sig_hash h;
	const char *why;
	CHECK_EQ_INT(scan_sig_hash_parse(hrows[0].line, strlen(hrows[0].line),
					 &h, &why), 0);
	CHECK(h.digest[0] == 0x44 && h.digest[15] == 0x2f);
}

int main(void)
{
	RUN(test_ndb_table);
	RUN(test_translate_lengths_agree_with_hyperscan);
	RUN(test_enospc);
	RUN(test_hash_table);
	return CHECK_DONE();
}
