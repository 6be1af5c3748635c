/* tests/unit/test_header.c - scan/header.c: header block, RFC 2047
 * decoding, Content-Type style parameters. */
#include "scan/charset.h"
#include "scan/mime.h"
#include "scan/mime_int.h"
#include "tests/unit/check.h"
#include "tests/unit/finding_names.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FFFD "\xEF\xBF\xBD"

/* ---- header block ------------------------------------------------ */

static const struct block_case {
	const char *in;
	size_t len;          /* 0: strlen */
	size_t header_bytes; /* 0: default */
	unsigned header_count;
	int allow_from;
	const char *fields;  /* "name=value|name=value", values raw */
	const char *body;
	unsigned flags;      /* expected NO_HEADERS / TRUNCATED */
	const char *findings;
} block_cases[] = {
	{ "A: 1\r\nB: 2\r\n\r\nbody", 0, 0, 0, 0, "A= 1|B= 2", "body", 0, "" },
	{ "A: 1\nB: 2\n\nbody\n", 0, 0, 0, 0, "A= 1|B= 2", "body\n", 0, "" },
	{ "Subject: a\r\n b\r\n\tc\r\nX:y\r\n\r\n", 0, 0, 0, 0,
	  "Subject= a\r\n b\r\n\tc|X=y", "", 0, "" },
	{ "A: 1\r\ngarbage\r\n more\r\nB: 2\r\n\r\nx", 0, 0, 0, 0, "A= 1|B= 2",
	  "x", 0, "header-without-colon" },
	{ "A: 1\r\nbad name: x\r\n\r\nx", 0, 0, 0, 0, "A= 1", "x", 0,
	  "header-bad-name" },
	{ "A: 1\0x\r\n\r\nb", 11, 0, 0, 0, "A= 1\0x", "b", 0,
	  "nul-in-header" },
	{ "Subject: caf\xC3\xA9 \xFF\r\n\r\n", 0, 0, 0, 0,
	  "Subject= caf\xC3\xA9 \xFF", "", 0, "" },
	{ "Name \t: v\r\n\r\n", 0, 0, 0, 0, "Name= v", "", 0, "" },
	{ "hello world\r\nmore: text\r\n", 0, 0, 0, 0, "",
	  "hello world\r\nmore: text\r\n", MIME_F_NO_HEADERS, "" },
	{ "\r\nbody", 0, 0, 0, 0, "", "body", MIME_F_NO_HEADERS, "" },
	{ "\nbody", 0, 0, 0, 0, "", "body", MIME_F_NO_HEADERS, "" },
	{ "", 0, 0, 0, 0, "", "", MIME_F_NO_HEADERS, "" },
	{ " indented: body\r\n\r\nx", 0, 0, 0, 0, "", " indented: body\r\n\r\nx",
	  MIME_F_NO_HEADERS, "" },
	{ "From a@b Mon Jan 1 00:00:00 2024\r\n cont\r\nA: 1\r\n\r\nx", 0, 0, 0,
	  1, "A= 1", "x", 0, "orphan-continuation,mbox-from-line" },
	{ "From a@b Mon\r\nA: 1\r\n\r\nx", 0, 0, 0, 0, "",
	  "From a@b Mon\r\nA: 1\r\n\r\nx", MIME_F_NO_HEADERS, "" },
	{ "A: 1\r\n   \r\nB: 2\r\n\r\nx", 0, 0, 0, 0, "A= 1\r\n   |B= 2", "x", 0,
	  "whitespace-only-line" },
	{ "A: 1\rB: 2\r\n\r\nx", 0, 0, 0, 0, "A= 1\rB: 2", "x", 0, "" },
	{ "A: 1\r\nB: 2", 0, 0, 0, 0, "A= 1|B= 2", "", 0, "" },
	{ "A: 1\r\nB: 2\r\n", 0, 0, 0, 0, "A= 1|B= 2", "", 0, "" },
	/* limits */
	{ "A: 1\r\nB: 22222222\r\n\r\nbody", 0, 10, 0, 0, "A= 1",
	  "B: 22222222\r\n\r\nbody", MIME_F_TRUNCATED, "header-bytes" },
	{ "A: 1\r\nB: 2\r\n\r\nbody", 0, 12, 0, 0, "A= 1|B= 2", "body", 0, "" },
	{ "A: 1\r\nB: 2\r\n\r\nbody", 0, 11, 0, 0, "A= 1", "B: 2\r\n\r\nbody",
	  MIME_F_TRUNCATED, "header-bytes" },
	{ "Subject: very long\r\n\r\nx", 0, 5, 0, 0, "",
	  "Subject: very long\r\n\r\nx", MIME_F_NO_HEADERS | MIME_F_TRUNCATED,
	  "header-bytes" },
	{ "A: 1\r\nB: 2\r\n c\r\nC: 3\r\nD: 4\r\n\r\nbody", 0, 0, 2, 0,
	  "A= 1|B= 2\r\n c", "body", 0, "header-count" },
};

static void fields_str(const struct mime_part *p, char *buf, size_t sz,
		       size_t *len)
{
	size_t o = 0;
	for (unsigned i = 0; i < p->nheaders && o + 4 < sz; i++) {
		const struct mime_header *h = &p->headers[i];
		if (i)
			buf[o++] = '|';
		size_t n = h->name_len + h->value_len + 1;
		if (o + n >= sz)
			break;
		memcpy(buf + o, h->name, h->name_len);
		o += h->name_len;
		buf[o++] = '=';
		memcpy(buf + o, h->value, h->value_len);
		o += h->value_len;
	}
	buf[o] = '\0';
	*len = o;
}

static void test_header_block_table(void)
{
	struct scan_arena *a = scan_arena_create(1u << 20);
	for (size_t i = 0; i < sizeof(block_cases) / sizeof(block_cases[0]); i++) {
		const struct block_case *t = &block_cases[i];
		size_t len = t->len ? t->len : strlen(t->in);
		struct mime_limits in = { .header_bytes = t->header_bytes,
					  .header_count = t->header_count },
				   lim;
		mime_limits_resolve(&in, &lim);
		struct scan_verdict v;
		scan_verdict_init(&v, NULL, 0);
		struct mime_part p = { .id = 3 };
		int rc = mime_headers_parse(&p, (const uint8_t *)t->in, len,
					    &lim, t->allow_from, a, &v);
		CHECK_EQ_INT(rc, 0);
		char got[256];
		size_t glen;
		fields_str(&p, got, sizeof(got), &glen);
		size_t wlen = strlen(t->fields);
		if (i == 5)
			wlen = 6; /* "A= 1\0x" */
		CHECK_MSG(glen == wlen && memcmp(got, t->fields, wlen) == 0,
			  "row %zu: fields \"%s\", want \"%s\"", i, got,
			  t->fields);
		CHECK_MSG(p.body_len == strlen(t->body) &&
				  memcmp(p.body, t->body, p.body_len) == 0,
			  "row %zu: body \"%.*s\", want \"%s\"", i,
			  (int)p.body_len, (const char *)p.body, t->body);
		CHECK_MSG(p.flags == t->flags, "row %zu: flags %#x want %#x", i,
			  p.flags, t->flags);
		CHECK(p.header_raw == (const uint8_t *)t->in);
		CHECK(p.header_raw_len <= (size_t)(p.body - p.header_raw));
		char names[512];
		finding_names(&v, names, sizeof(names));
		CHECK_MSG(strcmp(names, t->findings) == 0,
			  "row %zu: findings \"%s\", want \"%s\"", i, names,
			  t->findings);
		for (unsigned k = 0; k < v.nfindings; k++)
			CHECK_EQ_INT(v.findings[k].part, 3);
		scan_arena_reset(a);
	}
	scan_arena_free(a);
}

static void test_header_get_next(void)
{
	struct scan_arena *a = scan_arena_create(1u << 16);
	const char *msg = "Received: a\r\nSubject: s\r\nRECEIVED: b\r\n"
			  "received : c\r\n\r\n";
	struct mime_limits lim;
	mime_limits_resolve(NULL, &lim);
	struct scan_verdict v;
	scan_verdict_init(&v, NULL, 0);
	struct mime_part p = { 0 };
	CHECK_EQ_INT(mime_headers_parse(&p, (const uint8_t *)msg, strlen(msg),
					&lim, 0, a, &v), 0);
	const struct mime_header *h = mime_header_get(&p, "received");
	CHECK(h != NULL && h->value[1] == 'a');
	h = mime_header_next(&p, "Received", h);
	CHECK(h != NULL && h->value[1] == 'b');
	h = mime_header_next(&p, "Received", h);
	CHECK(h != NULL && h->value[1] == 'c' && h->name_len == 8);
	CHECK(mime_header_next(&p, "Received", h) == NULL);
	CHECK(mime_header_get(&p, "subject") != NULL);
	CHECK(mime_header_get(&p, "subjec") == NULL);
	CHECK(mime_header_get(&p, "x-none") == NULL);
	scan_arena_free(a);
}

/* ---- RFC 2047 ---------------------------------------------------- */

static const struct decode_case {
	const char *in;
	size_t len; /* 0: strlen */
	const char *out;
} decode_cases[] = {
	{ "", 0, "" },
	{ "  plain text  ", 0, "plain text" },
	{ " Hello\r\n World", 0, "Hello World" },
	{ "=?utf-8?B?4oKs?=", 0, "\xE2\x82\xAC" },
	{ "=?UTF-8?Q?caf=C3=A9_ok?=", 0, "caf\xC3\xA9 ok" },
	{ "=?iso-8859-1?q?caf=E9?=", 0, "caf\xC3\xA9" },
	{ "=?windows-1252?Q?=80?=", 0, "\xE2\x82\xAC" },
	{ "=?utf-8?q?a?= =?utf-8?q?b?=", 0, "ab" },
	{ "=?utf-8?q?a?=\r\n\t=?UTF-8?q?b?=", 0, "ab" },
	{ "=?utf-8?q?a?= x =?utf-8?q?b?=", 0, "a x b" },
	{ "pre =?utf-8?q?a?= post", 0, "pre a post" },
	{ "=?utf-8?B?4oI=?= =?utf-8?B?rA==?=", 0, "\xE2\x82\xAC" }, /* split */
	{ "=?iso-8859-1?q?=E9?= =?utf-8?q?=C3=A9?=", 0, "\xC3\xA9\xC3\xA9" },
	{ "=?utf-8*en?q?hi?=", 0, "hi" },
	{ "=?UTF-8*EN-us?B?aGk=?=", 0, "hi" },
	{ "=?x-bogus?q?hi=FF?=", 0, "hi" FFFD },
	{ "=?utf-8?x?abc?=", 0, "=?utf-8?x?abc?=" },
	{ "=?utf-8?q?abc", 0, "=?utf-8?q?abc" },
	{ "=?utf-8?q?abc?x", 0, "=?utf-8?q?abc?x" },
	{ "=??q?abc?=", 0, "=??q?abc?=" },
	{ "=?*en?q?abc?=", 0, "=?*en?q?abc?=" },
	{ "=?", 0, "=?" },
	{ "=?=?=?=?", 0, "=?=?=?=?" },
	{ "a=?utf-8?q?b?=c", 0, "abc" },
	{ "a\0b", 3, "a" FFFD "b" },
	{ "=?utf-8?b?YQBi?=", 0, "a" FFFD "b" },
	{ "=?utf-8?b?!!4oKs?=", 0, "\xE2\x82\xAC" },
	{ "=?utf-8?q?=E2=82?=", 0, FFFD FFFD },
	{ "=?utf-8?q?a=Zb?=", 0, "a=Zb" },
	{ "=?utf-8?q?a b?=", 0, "a b" },
	{ "raw \xC3\xA9 \xE9", 0, "raw \xC3\xA9 \xE9" },
	{ "=?utf-16be?b?AEEAQg==?=", 0, "AB" },
	/* charset name of 63 bytes is a word; 64 is too long (fuzz_header) */
	{ "=?x-1234567890123456789012345678901234567890123456789012345678901?q?a?=",
	  0, "a" },
	{ "=?x-12345678901234567890123456789012345678901234567890123456789012?q?a?=",
	  0, "=?x-12345678901234567890123456789012345678901234567890123456789012?q?a?=" },
};

static void test_decode_table(void)
{
	struct scan_arena *a = scan_arena_create(1u << 20);
	for (size_t i = 0; i < sizeof(decode_cases) / sizeof(decode_cases[0]); i++) {
		const struct decode_case *t = &decode_cases[i];
		size_t len = t->len ? t->len : strlen(t->in);
		char *got = mime_header_decode(t->in, len, a);
		CHECK_MSG(got != NULL && strcmp(got, t->out) == 0,
			  "row %zu: \"%s\", want \"%s\"", i,
			  got ? got : "(null)", t->out);
	}
	scan_arena_free(a);
}

static void test_decode_enomem_and_linear(void)
{
	struct scan_arena *small = scan_arena_create(32);
	CHECK(mime_header_decode("=?utf-8?q?some_long_text_here?=", 31,
				 small) == NULL);
	scan_arena_free(small);

	/* 1 MB of near-miss encoded words must not be quadratic. */
	size_t n = 1u << 20;
	char *s = malloc(n);
	for (size_t i = 0; i < n; i++)
		s[i] = "=?a?q?"[i % 6];
	struct scan_arena *a = scan_arena_create(64u << 20);
	clock_t t0 = clock();
	char *got = mime_header_decode(s, n, a);
	CHECK(got != NULL);
	/* 2 words of 1M: "=?a?q?=?a?q?..." decode pairwise; just bound time */
	CHECK_MSG((clock() - t0) < 2 * CLOCKS_PER_SEC, "decode took %ld ticks",
		  (long)(clock() - t0));
	for (size_t i = 0; i < n; i++)
		s[i] = i % 2 ? '?' : '=';
	t0 = clock();
	got = mime_header_decode(s, n, a);
	CHECK(got != NULL && strlen(got) == n);
	CHECK((clock() - t0) < 2 * CLOCKS_PER_SEC);
	free(s);
	scan_arena_free(a);
}

/* ---- parameters -------------------------------------------------- */

static const struct param_case {
	const char *in;
	const char *token;
	const char *params; /* "name=value[flags]|..." */
	unsigned malformed;
} param_cases[] = {
	{ "text/plain; charset=us-ascii", "text/plain", "charset=us-ascii", 0 },
	{ "Text/HTML; CHARSET=\"UTF-8\"", "text/html", "charset=UTF-8", 0 },
	{ "", "", "", 0 },
	{ "inline", "inline", "", 0 },
	{ "multipart/mixed (a comment); boundary=\"abc\" (c2)",
	  "multipart/mixed", "boundary=abc", 0 },
	{ " multipart / mixed ;boundary=x", "multipart/mixed", "boundary=x", 0 },
	{ "multipart/mixed;\r\n\tboundary=\"x y\"", "multipart/mixed",
	  "boundary=x y", 0 },
	{ "attachment; filename=\"a\\\"b;c.txt\"", "attachment",
	  "filename=a\"b;c.txt", 0 },
	{ "attachment; filename*0*=utf-8''%E2%82%AC; filename*1=rest.txt",
	  "attachment", "filename=\xE2\x82\xAC" "rest.txt[E]", 0 },
	{ "a; Name*1=b; NAME*0=a", "a", "name=ab[E]", 0 },
	{ "a; n*0=a; n*2=c", "a", "n=ac[EG]", 0 },
	{ "a; n*0=a; n*0=x; n*1=b", "a", "n=ab[EG]", 0 },
	{ "a; n*1=b", "a", "n=b[EG]", 0 },
	{ "a; filename*=iso-8859-1'en'caf%E9.txt", "a",
	  "filename=caf\xC3\xA9.txt[E]", 0 },
	{ "a; filename*=''%41%4", "a", "filename=A%4[E]", 0 },
	{ "a; filename*=%41", "a", "filename=A[E]", 0 },
	{ "a; filename*=bogus''a%41", "a", "filename=aA[EC]", 0 },
	{ "a; filename*0*=us-ascii'en'%61; filename*1*=%62", "a",
	  "filename=ab[E]", 0 },
	{ "multipart/mixed; boundary=a; boundary=b", "multipart/mixed",
	  "boundary=a|boundary=b", 0 },
	{ "a; filename=x; filename*=utf-8''y", "a", "filename=x|filename=y[E]",
	  0 },
	{ "text/plain; foo; bar=1", "text/plain", "bar=1", 1 },
	{ "text/plain;;; charset=x;", "text/plain", "charset=x", 0 },
	{ "x; a=\"abc", "x", "a=abc[U]", 0 },
	{ "x; filename=my file.exe ; a=1", "x", "filename=my file.exe|a=1", 0 },
	{ "x; a=\"q\" junk; b=2", "x", "a=q|b=2", 1 },
	{ "x; =v; b=2", "x", "b=2", 1 },
	{ "x; a = (c) \"v\"", "x", "a=v", 0 },
	{ "x; a*b=1", "x", "a*b=1", 0 },
	{ "x; a*99999=1", "x", "a*99999=1", 0 },
	{ "x; a=\"multi\r\n line\"", "x", "a=multi line", 0 },
	{ "x; a=%00", "x", "a=%00", 0 },
};

static void params_str(const struct mime_params *ps, char *buf, size_t sz)
{
	size_t o = 0;
	buf[0] = '\0';
	for (unsigned i = 0; i < ps->nparams; i++) {
		const struct mime_param *m = &ps->params[i];
		char fl[8];
		size_t f = 0;
		if (m->flags & MIME_PARAM_F_EXT)
			fl[f++] = 'E';
		if (m->flags & MIME_PARAM_F_GAP)
			fl[f++] = 'G';
		if (m->flags & MIME_PARAM_F_BAD_CHARSET)
			fl[f++] = 'C';
		if (m->flags & MIME_PARAM_F_UNTERMINATED)
			fl[f++] = 'U';
		fl[f] = '\0';
		o += (size_t)snprintf(buf + o, sz - o, "%s%s=%s%s%s%s",
				      i ? "|" : "", m->name, m->value,
				      f ? "[" : "", fl, f ? "]" : "");
		if (o >= sz)
			break;
	}
}

static void test_params_table(void)
{
	struct scan_arena *a = scan_arena_create(1u << 20);
	for (size_t i = 0; i < sizeof(param_cases) / sizeof(param_cases[0]); i++) {
		const struct param_case *t = &param_cases[i];
		struct mime_params ps;
		CHECK_EQ_INT(mime_params_parse(t->in, strlen(t->in), a, &ps), 0);
		CHECK_MSG(strcmp(ps.value, t->token) == 0,
			  "row %zu: token \"%s\", want \"%s\"", i, ps.value,
			  t->token);
		char got[512];
		params_str(&ps, got, sizeof(got));
		CHECK_MSG(strcmp(got, t->params) == 0,
			  "row %zu: params \"%s\", want \"%s\"", i, got,
			  t->params);
		CHECK_MSG(ps.malformed == t->malformed,
			  "row %zu: malformed %u, want %u", i, ps.malformed,
			  t->malformed);
	}
	scan_arena_free(a);
}

static void test_params_find_and_nul(void)
{
	struct scan_arena *a = scan_arena_create(1u << 16);
	struct mime_params ps;
	const char *in = "x; b=1; a*=utf-8''p%00q; b=2";
	CHECK_EQ_INT(mime_params_parse(in, strlen(in), a, &ps), 0);
	const struct mime_param *m = mime_params_find(&ps, "b", NULL);
	CHECK(m != NULL && strcmp(m->value, "1") == 0);
	m = mime_params_find(&ps, "b", m);
	CHECK(m != NULL && strcmp(m->value, "2") == 0);
	CHECK(mime_params_find(&ps, "b", m) == NULL);
	m = mime_params_find(&ps, "a", NULL);
	CHECK(m != NULL);
	CHECK_EQ_MEM(m->value, m->value_len, "p\0q", 3);
	CHECK(mime_params_find(&ps, "c", NULL) == NULL);

	struct scan_arena *small = scan_arena_create(48);
	CHECK_EQ_INT(mime_params_parse(in, strlen(in), small, &ps), -ENOMEM);
	CHECK(ps.nparams == 0 && ps.value != NULL);
	scan_arena_free(small);
	scan_arena_free(a);
}

/* 50,000 continuation sections in reverse order: merged in order, fast. */
static void test_params_many_sections(void)
{
	unsigned n = 50000;
	size_t cap = (size_t)n * 24 + 16;
	char *s = malloc(cap);
	size_t o = (size_t)snprintf(s, cap, "x");
	for (unsigned i = n; i-- > 0;)
		o += (size_t)snprintf(s + o, cap - o, "; f*%u=%c", i,
				      'a' + (char)(i % 26));
	struct scan_arena *a = scan_arena_create(64u << 20);
	struct mime_params ps;
	clock_t t0 = clock();
	CHECK_EQ_INT(mime_params_parse(s, o, a, &ps), 0);
	CHECK((clock() - t0) < 2 * CLOCKS_PER_SEC);
	/* sections above 9999 are not sections: those stay separate */
	const struct mime_param *m = mime_params_find(&ps, "f", NULL);
	CHECK(m != NULL && m->value_len == 10000);
	CHECK(m != NULL && m->value[0] == 'a' && m->value[25] == 'z' &&
	      m->value[9999] == 'a' + 9999 % 26);
	CHECK(m != NULL && !(m->flags & MIME_PARAM_F_GAP));
	CHECK_EQ_INT(ps.nparams, 1 + (n - 10000));
	free(s);
	scan_arena_free(a);
}

int main(void)
{
	RUN(test_header_block_table);
	RUN(test_header_get_next);
	RUN(test_decode_table);
	RUN(test_decode_enomem_and_linear);
	RUN(test_params_table);
	RUN(test_params_find_and_nul);
	RUN(test_params_many_sections);
	scan_charset_thread_fini();
	return CHECK_DONE();
}
