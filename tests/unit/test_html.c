/* tests/unit/test_html.c - scan/html.c */
#include "scan/html.h"
#include "tests/unit/check.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

struct row {
	const char *in;
	const char *want;
};

static struct scan_arena *arena;

/* Run fn on a malloc'd copy of exactly strlen(in) bytes (so ASan sees any
 * read past the end) and compare with want. */
static void run_rows(int (*fn)(const uint8_t *, size_t, struct scan_arena *,
			       uint8_t **, size_t *),
		     const struct row *rows, size_t nrows, const char *what)
{
	for (size_t k = 0; k < nrows; k++) {
		size_t n = strlen(rows[k].in);
		uint8_t *copy = malloc(n ? n : 1);
		memcpy(copy, rows[k].in, n);
		uint8_t *out = NULL;
		size_t len = 0;
		int rc = fn(n ? copy : NULL, n, arena, &out, &len);
		CHECK_EQ_INT(rc, 0);
		if (rc == 0) {
			CHECK_MSG(len == strlen(rows[k].want) &&
					  memcmp(out, rows[k].want, len) == 0,
				  "%s row %zu: in \"%s\": got \"%.*s\", want "
				  "\"%s\"", what, k, rows[k].in, (int)len,
				  (const char *)out, rows[k].want);
			CHECK_MSG(len <= n, "%s row %zu: %zu > %zu", what, k,
				  len, n);
			CHECK(out[len] == '\0');
		}
		free(copy);
		scan_arena_reset(arena);
	}
}

#define RUN_ROWS(fn, rows) \
	run_rows(fn, rows, sizeof(rows) / sizeof(rows[0]), #rows)

static const struct row tag_rows[] = {
	{"", ""},
	{"plain", "plain"},
	{"fr<b>ee</b>", "free"},
	{"<span>fr</span><span>ee</span>", "free"},
	{"<font color=red>F</font>REE", "FREE"},
	{"<a href=\"x\">click</a> here", "click here"},
	{"<o:p>x</o:p>y", "xy"},
	{"<img alt=free src=x>y", "y"},
	{"<P>Up</P>", "Up"},
	{"<p>one</p><p>two</p>", "one\ntwo"},
	{"a<br>b", "a\nb"},
	{"a<BR/>b", "a\nb"},
	{"a<br />b", "a\nb"},
	{"<div>x</div>  <div>y</div>", "x\ny"},
	{"<ul><li>a<li>b</ul>", "a\nb"},
	{"<h1>T</h1>body", "T\nbody"},
	{"<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>",
	 "a b\nc"},
	{"<html><head><title>Sub</title></head><body>x</body></html>",
	 "Sub\nx"},
	{"<noscript>ns</noscript>", "ns"},
	/* tokenizer corner cases */
	{"<scr<script>ipt>", "ipt>"},
	{"a <b", "a"},
	{"a<b title='x>y'>c", "ac"},
	{"a<b title=\"x>y\">c", "ac"},
	{"a<b title=\"x>y", "a"},
	{"a<b title=x>y>c", "ay>c"},
	{"a<b =x>c", "ac"},
	{"a < b", "a < b"},
	{"a<3", "a<3"},
	{"x<", "x<"},
	{"x</", "x</"},
	{"a</>b", "ab"},
	{"a</ x>b", "ab"},
	{"a</3>b", "ab"},
	{"a<!DOCTYPE html>b", "ab"},
	{"a<?xml x?>b", "ab"},
	{"a<!x", "a"},
	{"<![CDATA[x<b>y]]>z", "x<b>yz"},
	{"<![CDATA[open", "open"},
	/* comments */
	{"fr<!-- x -->ee", "free"},
	{"fr<!-- x", "fr"},
	{"a<!-->b", "ab"},
	{"a<!--->b", "ab"},
	{"a<!---->b", "ab"},
	{"a<!-- x --!>b", "ab"},
	{"a<!-- -- - -->b", "ab"},
	{"a<!-- x ---->b", "ab"},
	{"a<!-- --!x -->b", "ab"},
	{"a<!--", "a"},
	{"a<!-", "a"},
	/* raw text elements */
	{"<script>alert('<b>free</b>')</script>visible", "visible"},
	{"<SCRIPT type=x>bad</SCRIPT >ok", "ok"},
	{"<script>x</scripty>y</script>z", "z"},
	{"<script>never closed", ""},
	{"<script>x</script", ""},
	{"<style>p{}</style>t", "t"},
	{"<iframe>hidden</iframe>v", "v"},
	{"<title>Free &amp; cheap</title><body>x", "Free & cheap\nx"},
	{"<title>a<b>c</title>", "a<b>c"},
	{"<textarea>x &lt; <b>y</textarea>", "x < <b>y"},
	{"<xmp><b>&amp;</xmp>", "<b>&amp;"},
	{"<plaintext><b>x</b>", "<b>x</b>"},
	/* whitespace and invisibles */
	{"  lead  ", "lead"},
	{"a\r\n\tb", "a b"},
	{"a&nbsp;&nbsp; \n b", "a b"},
	{"a\xC2\xA0" "b", "a b"},
	{"a\x01" "b\x7F" "c", "abc"},
	{"fr&shy;ee", "free"},
	{"fr\xC2\xAD" "ee", "free"},
	{"fr\xE2\x80\x8B" "ee", "free"},
	{"fr\xE2\x81\xA0" "ee", "free"},
	{"\xEF\xBB\xBF" "bom", "bom"},
	{"fr\xC2\x85" "ee", "free"},
	{"caf\xC3\xA9", "caf\xC3\xA9"},
	{"\xFF\xFE raw", "\xFF\xFE raw"},
	{"<p> a </p> <p> b </p>", "a\nb"},
	{"a <span> b </span> c", "a b c"},
};

static void test_tags(void)
{
	RUN_ROWS(scan_html_to_text, tag_rows);
	/* NUL is invisible (cannot sit in a row string) */
	static const uint8_t nul[] = {'f', 'r', 0, 'e', '<', 'b', 0, '>', 'e'};
	uint8_t *out;
	size_t len;
	CHECK_EQ_INT(scan_html_to_text(nul, sizeof(nul), arena, &out, &len), 0);
	CHECK_EQ_MEM(out, len, "free", 4);
	scan_arena_reset(arena);
}

static const struct row entity_rows[] = {
	{"&lt;&gt;&amp;&quot;&apos;", "<>&\"'"},
	{"&LT;&GT;&AMP;&QUOT;", "<>&\""},
	{"&#65;&#x42;&#X43;&#0068", "ABCD"},
	{"&#x41", "A"},
	{"&#65x", "Ax"},
	{"&#99999999;", "\xEF\xBF\xBD"},
	{"&#x7fffffffffffffffff;", "\xEF\xBF\xBD"},
	{"&#0;", "\xEF\xBF\xBD"},
	{"&#xD800;", "\xEF\xBF\xBD"},
	{"&#x110000;", "\xEF\xBF\xBD"},
	{"&#x10FFFF;", "\xF4\x8F\xBF\xBF"},
	{"&#x1F600;", "\xF0\x9F\x98\x80"},
	{"&#150;&#128;", "\xE2\x80\x93\xE2\x82\xAC"},
	{"a&#129;b", "ab"},
	{"&#;", "&#;"},
	{"&#x;", "&#x;"},
	{"&#", "&#"},
	{"&", "&"},
	{"AT&T", "AT&T"},
	{"a & b", "a & b"},
	{"&foo;", "&foo;"},
	{"&amp", "&"},
	{"&ampx", "&x"},
	{"&copy;&copy", "\xC2\xA9\xC2\xA9"},
	{"&COPY;&REG", "\xC2\xA9\xC2\xAE"},
	{"&notit;", "\xC2\xACit;"},
	{"&notin;", "\xE2\x88\x89"},
	{"&notin", "\xC2\xACin"},
	{"&frac12x", "\xC2\xBDx"},
	{"&euro;", "\xE2\x82\xAC"},
	{"&eurox", "&eurox"},
	{"&euro", "&euro"},
	{"&Euro;", "&Euro;"},
	{"&hearts;&thetasym;&Alpha;&alpha;", "\xE2\x99\xA5\xCF\x91\xCE\x91\xCE\xB1"},
	{"&yuml;&Yuml;", "\xC3\xBF\xC5\xB8"},
	{"&aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa;", "&aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa;"},
	{"&nbsp", ""},
	{"fr&#173;ee", "free"},
	{"fr&#8203;ee", "free"},
	{"fr&zwnj;e&zwj;e", "free"},
	{"fr&#1;ee", "free"},
	{"fr&#x9;ee", "fr ee"},
	{"&#10;x&#32;", "x"},
	{"&lt;script&gt;", "<script>"},
	{"&amp;lt;", "&lt;"},
	{"<p title=\"&amp;\">&amp;</p>", "&"},
};

static void test_entities(void)
{
	RUN_ROWS(scan_html_to_text, entity_rows);
}

static const struct row link_rows[] = {
	{"", ""},
	{"no links <b>here</b>", ""},
	{"<a href=\"http://x/?a=1&amp;b=2\">t</a><img src='i.png'>",
	 "http://x/?a=1&b=2\ni.png\n"},
	{"<a href=http://x/?a=1&copy=2>", "http://x/?a=1&copy=2\n"},
	{"<a href=\"?a=1&copy;\">", "?a=1\xC2\xA9\n"},
	{"<a href=\" \n http://a\tb \">", "http://ab\n"},
	{"<A HREF='u'>", "u\n"},
	{"<a title=x href=y id=z>", "y\n"},
	{"<!-- <a href=x> -->", ""},
	{"<script><a href=x></script>", ""},
	{"<a href=x", ""},
	{"<img src=a><a href=b", "a\n"},
	{"</a href=x>", ""},
	{"<a href=''>", ""},
	{"<form action=/p><button formaction=/q>", "/p\n/q\n"},
	{"<body background=bg.png><video poster=p.jpg>", "bg.png\np.jpg\n"},
	{"<a hrefx=1 xhref=2>", ""},
	{"<a href=&#104;ttp://e>", "http://e\n"},
};

static void test_links(void)
{
	RUN_ROWS(scan_html_links, link_rows);
}

static void test_enomem_and_shrink(void)
{
	struct scan_arena *small = scan_arena_create(64);
	uint8_t *out = (uint8_t *)"untouched";
	size_t len = 7;
	static const char big[100] = "<p>x";
	CHECK_EQ_INT(scan_html_to_text((const uint8_t *)big, sizeof(big),
				       small, &out, &len), -ENOMEM);
	CHECK_EQ_INT(scan_html_links((const uint8_t *)big, sizeof(big),
				     small, &out, &len), -ENOMEM);
	CHECK_EQ_STR((const char *)out, "untouched");
	CHECK_EQ_INT(len, 7);
	/* fits: the worst case is allocated, then shrunk to what is used */
	const char *in = "<p>hello</p><!-- a long comment that is dropped -->";
	CHECK_EQ_INT(scan_html_to_text((const uint8_t *)in, strlen(in), small,
				       &out, &len), 0);
	CHECK_EQ_INT(len, 5);
	CHECK_EQ_INT(scan_arena_used(small), 16);
	scan_arena_free(small);
}

/* Output never exceeds input, even for the densest expansions. */
static void test_bound(void)
{
	static const char *const dense[] = {
		"&#0", "&#0&#0&#0", "&lt", "&ne;&ne;", "&#x10000",
		"<p>", "a<p>b<p>c", "&#128", "\xC2\xA0x\xC2\xA0x",
	};
	for (size_t k = 0; k < sizeof(dense) / sizeof(dense[0]); k++) {
		uint8_t *out;
		size_t len, n = strlen(dense[k]);
		CHECK_EQ_INT(scan_html_to_text((const uint8_t *)dense[k], n,
					       arena, &out, &len), 0);
		CHECK_MSG(len <= n, "\"%s\": %zu > %zu", dense[k], len, n);
	}
	scan_arena_reset(arena);
}

struct drow {
	const char *in;
	int want;
};

static const struct drow detect_rows[] = {
	{"", 0},
	{"plain text", 0},
	{"<html><body>x", 1},
	{"\xEF\xBB\xBF  \r\n<!DOCTYPE HTML>", 1},
	{"<p>hi", 1},
	{"<P>hi", 1},
	{"<!-- c -->", 1},
	{"<br/>", 1},
	{"<pre>", 0},
	{"<bogus>", 0},
	{"<abc>", 0},
	{"<bold>", 0},
	{"hello <b>x</b> and <i>y</i>", 1},
	{"Use a<b and c>d", 0},
	{"x <br> y", 0},
	{"a<br><br><br>", 1},
	{"text first, then <HTML>", 1},
	{"see <body>", 1},
	{"if (a<b) x", 0},
	{"a <div class=x>b</div>", 0},
	{"a <div class=x>b</div><br>", 1},
};

static void test_detect(void)
{
	for (size_t k = 0; k < sizeof(detect_rows) / sizeof(detect_rows[0]);
	     k++) {
		const char *in = detect_rows[k].in;
		size_t n = strlen(in);
		uint8_t *copy = malloc(n ? n : 1);
		memcpy(copy, in, n);
		int got = scan_html_detect(copy, n);
		CHECK_MSG(got == detect_rows[k].want, "row %zu \"%s\": %d", k,
			  in, got);
		free(copy);
	}
	/* only the first 4 KiB count */
	static char late[5000];
	memset(late, 'x', sizeof(late));
	memcpy(late + 4500, "<html>", 6);
	CHECK_EQ_INT(scan_html_detect((const uint8_t *)late, sizeof(late)), 0);
	memcpy(late + 100, "<html>", 6);
	CHECK_EQ_INT(scan_html_detect((const uint8_t *)late, sizeof(late)), 1);
}

/* Deep nesting and long inputs: linear, no recursion. */
static void test_large(void)
{
	size_t n = 1u << 20;
	uint8_t *in = malloc(n);
	for (size_t k = 0; k + 3 <= n; k += 3)
		memcpy(in + k, "<b>", 3);
	in[n - 1] = 'x';
	in[n - 2] = 'y';
	uint8_t *out;
	size_t len;
	CHECK_EQ_INT(scan_html_to_text(in, n, arena, &out, &len), 0);
	CHECK_EQ_INT(len, 0); /* the tail "<yx" ... is an unterminated tag */
	memset(in, '<', n);
	CHECK_EQ_INT(scan_html_to_text(in, n, arena, &out, &len), 0);
	CHECK_EQ_INT(len, n);
	memset(in, '&', n);
	CHECK_EQ_INT(scan_html_to_text(in, n, arena, &out, &len), 0);
	CHECK_EQ_INT(len, n);
	scan_arena_reset(arena);
	free(in);
}

int main(void)
{
	arena = scan_arena_create(64u << 20);
	RUN(test_tags);
	RUN(test_entities);
	RUN(test_links);
	RUN(test_enomem_and_shrink);
	RUN(test_bound);
	RUN(test_detect);
	RUN(test_large);
	scan_arena_free(arena);
	return CHECK_DONE();
}
