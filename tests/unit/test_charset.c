/* tests/unit/test_charset.c - scan/charset.c */
#include "scan/charset.h"
#include "tests/unit/check.h"
#include "tests/unit/utf8_check.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FFFD "\xEF\xBF\xBD"

static const struct conv_case {
	const char *charset;
	const char *in;
	size_t inlen;     /* 0: strlen(in) */
	int rc;
	const char *out;
	size_t outlen;    /* 0: strlen(out) */
} conv_cases[] = {
	{ NULL, "hello", 0, 0, "hello", 0 },
	{ "", "hello", 0, 0, "hello", 0 },
	{ "US-ASCII", "abc", 0, 0, "abc", 0 },
	{ "us-ascii", "caf\xC3\xA9", 0, 0, "caf\xC3\xA9", 0 },
	{ "us-ascii", "caf\xE9", 0, 0, "caf" FFFD, 0 },
	{ "utf-8", "\xE2\x82\xAC", 0, 0, "\xE2\x82\xAC", 0 },
	{ "UTF8", "a\xFF" "b", 0, 0, "a" FFFD "b", 0 },
	{ "utf-8", "\xC0\xAF", 0, 0, FFFD FFFD, 0 },              /* overlong */
	{ "utf-8", "\xED\xA0\x80", 0, 0, FFFD FFFD FFFD, 0 },     /* surrogate */
	{ "utf-8", "\xF4\x90\x80\x80", 0, 0, FFFD FFFD FFFD FFFD, 0 },
	{ "utf-8", "x\xE2\x82", 0, 0, "x" FFFD FFFD, 0 },         /* truncated */
	{ "utf-8", "a\0b", 3, 0, "a\0b", 3 },                     /* NUL kept */
	{ "x-unknown", "\xE9t\xC3\xA9", 0, 0, FFFD "t\xC3\xA9", 0 },
	{ "unknown-8bit", "plain", 0, 0, "plain", 0 },
	{ "iso-8859-1", "caf\xE9", 0, 0, "caf\xC3\xA9", 0 },
	{ "Latin1", "\xE9", 0, 0, "\xC3\xA9", 0 },
	{ " \"ISO-8859-1\" ", "\xFF", 0, 0, "\xC3\xBF", 0 },
	{ "iso-8859-15", "\xA4", 0, 0, "\xE2\x82\xAC", 0 },
	{ "cp1252", "\x80", 0, 0, "\xE2\x82\xAC", 0 },
	{ "Windows-1252", "\x93q\x94", 0, 0, "\xE2\x80\x9Cq\xE2\x80\x9D", 0 },
	{ "koi8-r", "\xC1", 0, 0, "\xD0\xB0", 0 },
	{ "shift_jis", "\x82\xA0", 0, 0, "\xE3\x81\x82", 0 },
	{ "gb2312", "\xC4\xE3", 0, 0, "\xE4\xBD\xA0", 0 },        /* as GBK */
	{ "euc-jp", "\xA4\xA2", 0, 0, "\xE3\x81\x82", 0 },
	{ "euc-jp", "a\xA4", 0, 0, "a" FFFD, 0 },                 /* truncated */
	{ "ks_c_5601-1987", "\xB0\xA1", 0, 0, "\xEA\xB0\x80", 0 },
	{ "utf-16be", "\0A\0B", 4, 0, "AB", 0 },
	{ "utf-16le", "A\0B", 3, 0, "A" FFFD, 0 },
	{ "utf-16be", "\xD8\x00\0A", 4, 0, FFFD "A", 0 },         /* lone surrogate */
	{ "UTF-7", "+AOk-", 0, 0, "\xC3\xA9", 0 },                /* not copied */
	{ "iso-2022-jp", "\x1B$B$\"\x1B(B", 0, 0, "\xE3\x81\x82", 0 },
	{ "IBM037", "A", 0, 0, "\xC2\xA0", 0 },                   /* EBCDIC */
	{ "iso-8859-1", "only ascii", 0, 0, "only ascii", 0 },
	{ "x-bogus-charset", "ab\xFF", 0, -EINVAL, "ab\xFF", 0 },
	{ "../../../tmp/evil", "ab", 0, -EINVAL, "ab", 0 },
	{ "utf-8//TRANSLIT", "ab", 0, -EINVAL, "ab", 0 },
	{ "x-bogus-charset", "", 0, -EINVAL, "", 0 },
	{ "utf-8", "", 0, 0, "", 0 },
};

static void test_convert_table(void)
{
	struct scan_arena *a = scan_arena_create(1u << 20);
	for (size_t i = 0; i < sizeof(conv_cases) / sizeof(conv_cases[0]); i++) {
		const struct conv_case *t = &conv_cases[i];
		size_t inlen = t->inlen ? t->inlen : strlen(t->in);
		size_t want = t->outlen ? t->outlen : strlen(t->out);
		uint8_t *out = NULL;
		size_t outlen = 99;
		int rc = scan_charset_to_utf8(t->charset,
					      (const uint8_t *)t->in, inlen, a,
					      &out, &outlen);
		CHECK_MSG(rc == t->rc, "row %zu (%s): rc %d, want %d", i,
			  t->charset ? t->charset : "NULL", rc, t->rc);
		CHECK_MSG(out != NULL && outlen == want &&
				  memcmp(out, t->out, want) == 0,
			  "row %zu (%s): output differs (%zu bytes, want %zu)",
			  i, t->charset ? t->charset : "NULL", outlen, want);
		CHECK(out != NULL && out[outlen] == '\0');
	}
	scan_arena_free(a);
}

static const struct norm_case {
	const char *in;
	int rc;
	const char *out;
} norm_cases[] = {
	{ "  Latin1 ", 0, "iso-8859-1" },
	{ "UTF8", 0, "utf-8" },
	{ "CP1252", 0, "windows-1252" },
	{ "'x-unknown'", 0, "us-ascii" },
	{ "KOI8-R", 0, "koi8-r" },
	{ "Foo/Bar", -EINVAL, "" },
	{ "a b", -EINVAL, "" },
	{ "", -EINVAL, "" },
	{ "\"\"", -EINVAL, "" },
	{ "0123456789012345678901234567890123456789012345678901234567890123",
	  -EINVAL, "" },
};

static void test_normalize_table(void)
{
	for (size_t i = 0; i < sizeof(norm_cases) / sizeof(norm_cases[0]); i++) {
		char buf[64];
		int rc = scan_charset_normalize(norm_cases[i].in, buf,
						sizeof(buf));
		CHECK_MSG(rc == norm_cases[i].rc, "row %zu: rc %d", i, rc);
		CHECK_EQ_STR(buf, norm_cases[i].out);
	}
	char small[4];
	CHECK_EQ_INT(scan_charset_normalize("latin1", small, sizeof(small)),
		     -EINVAL);
}

static void test_enomem(void)
{
	struct scan_arena *a = scan_arena_create(64);
	uint8_t in[200];
	memset(in, 0xE9, sizeof(in));
	uint8_t *out = (uint8_t *)"x";
	size_t outlen = 7;
	CHECK_EQ_INT(scan_charset_to_utf8("latin1", in, sizeof(in), a, &out,
					  &outlen), -ENOMEM);
	CHECK(out == NULL && outlen == 0);
	CHECK_EQ_INT(scan_charset_to_utf8("utf-8", in, sizeof(in), a, &out,
					  &outlen), -ENOMEM);
	CHECK_EQ_INT(scan_charset_to_utf8("x-bogus", in, sizeof(in), a, &out,
					  &outlen), -ENOMEM);
	scan_arena_free(a);
}

/* Output larger than the first guess (TSCII: one byte, four code points)
 * forces the buffer to grow. */
static void test_grows_output(void)
{
	struct scan_arena *a = scan_arena_create(1u << 20);
	uint8_t in[100];
	memset(in, 0x82, sizeof(in));
	uint8_t *out;
	size_t outlen;
	CHECK_EQ_INT(scan_charset_to_utf8("TSCII", in, sizeof(in), a, &out,
					  &outlen), 0);
	CHECK_EQ_INT(outlen, 1200);
	const char *one = "\xE0\xAE\xB8\xE0\xAF\x8D\xE0\xAE\xB0\xE0\xAF\x80";
	int same = 1;
	for (size_t i = 0; i + 12 <= outlen; i += 12)
		same &= memcmp(out + i, one, 12) == 0;
	CHECK(same);
	scan_arena_free(a);
}

/* More charsets than cache slots, twice round: evicted descriptors are
 * reopened and results stay right; a stateful decoder is reset between
 * calls (an unfinished ISO-2022 shift must not leak into the next). */
static void test_cache_eviction_and_reset(void)
{
	static const char *names[] = {
		"iso-8859-2", "iso-8859-5", "iso-8859-7", "koi8-u",
		"cp1250", "cp1251", "cp1253", "cp1254", "cp1255", "cp1257",
		"iso-8859-1", "big5",
	};
	struct scan_arena *a = scan_arena_create(1u << 20);
	uint8_t *out;
	size_t outlen;
	for (int round = 0; round < 3; round++)
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
			CHECK_EQ_INT(scan_charset_to_utf8(names[i],
							  (const uint8_t *)"a\xE9",
							  2, a, &out, &outlen), 0);
			CHECK(outlen >= 2 && out[0] == 'a');
		}
	CHECK_EQ_INT(scan_charset_to_utf8("iso-2022-jp",
					  (const uint8_t *)"\x1B$B", 3, a, &out,
					  &outlen), 0);
	CHECK_EQ_INT(scan_charset_to_utf8("iso-2022-jp",
					  (const uint8_t *)"$\"", 2, a, &out,
					  &outlen), 0);
	CHECK_EQ_MEM(out, outlen, "$\"", 2);
	scan_charset_thread_fini();
	scan_charset_thread_fini();
	CHECK_EQ_INT(scan_charset_to_utf8("cp1252", (const uint8_t *)"\x80", 1,
					  a, &out, &outlen), 0);
	CHECK_EQ_MEM(out, outlen, "\xE2\x82\xAC", 3);
	scan_arena_free(a);
}

/* A thread's cache is its own and closed by fini (LeakSanitizer reports
 * the descriptors if it is not). */
static void *thread_main(void *arg)
{
	struct scan_arena *a = scan_arena_create(1u << 16);
	uint8_t *out;
	size_t outlen;
	int *ok = arg;
	*ok = scan_charset_to_utf8("koi8-r", (const uint8_t *)"\xC1", 1, a,
				   &out, &outlen) == 0 &&
	      outlen == 2 && memcmp(out, "\xD0\xB0", 2) == 0;
	scan_charset_thread_fini();
	scan_arena_free(a);
	return NULL;
}

static void test_per_thread_cache(void)
{
	pthread_t th[4];
	int ok[4] = { 0 };
	for (int i = 0; i < 4; i++)
		CHECK_EQ_INT(pthread_create(&th[i], NULL, thread_main, &ok[i]), 0);
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		CHECK(ok[i]);
	}
}

/* Whatever the decoder does, a 0 return means valid UTF-8 (glibc's UCS-4
 * decoder passes values above U+10FFFF through: found by fuzz_charset). */
static const struct valid_case {
	const char *charset;
	const char *in;
	size_t len;
} valid_cases[] = {
	{ "ucs-4", "\x8c\x8c\x04\x8c\x8c\x8c\x8c\x8c\x00\x00\x8c\x8c"
		   "\x04\x8c\x8c\x8c\xb3\x00\x8c\x8c\x00\x00\x8c\x8c", 24 },
	{ "ucs-4", "\x00\x11\x00\x00\x7f\xff\xff\xff\x00\x00\xd8\x00", 12 },
	{ "ucs-4le", "\x00\x00\x11\x00\x00\xd8\x00\x00", 8 },
	{ "utf-32", "\x00\x00\xfe\xff\x00\x11\x00\x00", 8 },
	{ "utf-16", "\xdc\x00\xd8\x00\xd8\x00", 6 },
	{ "utf-7", "+2AD-+3AA-+", 11 },
	{ "iso-2022-jp", "\x1b$B\xff\x1b(J\x1b", 8 },
	{ "gb18030", "\x84\x31\xa4\x39\xfe\x39\xfe\x39", 8 },
};

static void test_output_always_utf8(void)
{
	struct scan_arena *a = scan_arena_create(1u << 20);
	for (size_t i = 0; i < sizeof(valid_cases) / sizeof(valid_cases[0]); i++) {
		uint8_t *out;
		size_t outlen;
		int rc = scan_charset_to_utf8(valid_cases[i].charset,
					      (const uint8_t *)valid_cases[i].in,
					      valid_cases[i].len, a, &out,
					      &outlen);
		CHECK_MSG(rc == 0, "row %zu: rc %d", i, rc);
		CHECK_MSG(rc != 0 || valid_utf8(out, outlen),
			  "row %zu (%s): output is not UTF-8", i,
			  valid_cases[i].charset);
	}
	scan_arena_free(a);
}

int main(void)
{
	RUN(test_output_always_utf8);
	RUN(test_convert_table);
	RUN(test_normalize_table);
	RUN(test_enomem);
	RUN(test_grows_output);
	RUN(test_cache_eviction_and_reset);
	RUN(test_per_thread_cache);
	scan_charset_thread_fini();
	return CHECK_DONE();
}
