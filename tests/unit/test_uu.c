/* tests/unit/test_uu.c - scan/uu.c */
#include "scan/decode.h"
#include "tests/unit/check.h"
#include "tests/unit/extract_sink.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#define RND_SEED 0x853c49e6748fea9bull
#include "tests/unit/rnd.h"

/* Independent encoder. zero: character for 0 ('`' or ' '); strip: drop
 * trailing spaces of each line; eol: line end. Appends to out. */
static size_t uuenc(const uint8_t *in, size_t n, char *out, char zero,
		    int strip, const char *eol)
{
	size_t o = 0;
#define UC(v) ((v) ? (char)((v) + 0x20) : zero)
	for (size_t i = 0; i <= n; i += 45) {
		size_t l = n - i < 45 ? n - i : 45;
		size_t start = o;
		out[o++] = UC(l);
		for (size_t j = 0; j < l; j += 3) {
			uint32_t v = (uint32_t)in[i + j] << 16;
			if (j + 1 < l)
				v |= (uint32_t)in[i + j + 1] << 8;
			if (j + 2 < l)
				v |= in[i + j + 2];
			out[o++] = UC(v >> 18);
			out[o++] = UC((v >> 12) & 63);
			out[o++] = UC((v >> 6) & 63);
			out[o++] = UC(v & 63);
		}
		if (strip)
			while (o > start + 1 && out[o - 1] == ' ')
				o--;
		o += (size_t)sprintf(out + o, "%s", eol);
		if (l == 0)
			break;
	}
	return o;
}

static int extract(const char *text, size_t n, struct got *g,
		   struct scan_decode_stats *st, int body)
{
	struct scan_arena *a = scan_arena_create(16u << 20);
	char *copy = malloc(n ? n : 1); /* exact size for ASan */
	memcpy(copy, text, n);
	int rc = body ? scan_uu_decode_body((uint8_t *)copy, n, a, collect, g, st)
		      : scan_uu_extract((uint8_t *)copy, n, a, collect, g, st);
	free(copy);
	scan_arena_free(a);
	return rc;
}

static void test_roundtrip_random(void)
{
	int bad = 0;
	for (int iter = 0; iter < 400; iter++) {
		size_t n = iter < 100 ? (size_t)iter : rnd() % 5000;
		uint8_t *x = malloc(n + 1);
		for (size_t i = 0; i < n; i++)
			x[i] = (iter & 4) ? (uint8_t)(rnd() & 1 ? 0 : rnd())
					  : (uint8_t)rnd();
		char *t = malloc(n * 2 + 256);
		size_t o = (size_t)sprintf(t, "Hi,\r\nsee the file.\r\n\r\n"
					   "begin 644 file %d.bin\r\n", iter);
		o += uuenc(x, n, t + o, (iter & 1) ? '`' : ' ', iter & 2,
			   (iter & 8) ? "\n" : "\r\n");
		o += (size_t)sprintf(t + o, "end\r\n-- \r\nsig\r\n");
		struct got g = { 0 };
		struct scan_decode_stats st;
		char want[64];
		snprintf(want, sizeof(want), "file %d.bin", iter);
		int rc = extract(t, o, &g, &st, 0);
		if (rc != 1 || g.n != 1 || g.len[0] != n ||
		    memcmp(g.data[0], x, n) != 0 || strcmp(g.name[0], want) ||
		    st.truncated || st.garbage)
			if (bad++ < 5)
				CHECK_MSG(0, "iter %d n=%zu rc=%d len=%zu", iter,
					  n, rc, g.len[0]);
		got_free(&g);
		free(t);
		free(x);
	}
	CHECK_EQ_INT(bad, 0);
}

struct row {
	const char *text;
	int body;       /* scan_uu_decode_body instead of extract */
	int rc;
	const char *name0, *data0; /* first file */
	const char *name1, *data1; /* second file, if any */
	size_t garbage;
	int truncated;
};

static void test_rows(void)
{
	static const struct row rows[] = {
		{ "no blocks here\n", 0, 0, NULL, NULL, NULL, NULL, 0, 0 },
		{ "", 0, 0, NULL, NULL, NULL, NULL, 0, 0 },
		/* "Cat" */
		{ "begin 644 cat.txt\n#0V%T\n`\nend\n", 0, 1, "cat.txt", "Cat",
		  NULL, NULL, 0, 0 },
		{ "begin 0755 a b c\r\n#0V%T\r\n \r\nend  \r\n", 0, 1, "a b c",
		  "Cat", NULL, NULL, 0, 0 },
		/* two blocks among text */
		{ "x\nbegin 644 one\n#0V%T\n`\nend\nmiddle\nbegin 600 two\n"
		  "!80``\n`\nend\n", 0, 2, "one", "Cat", "two", "a", 0, 0 },
		/* missing end: emitted, truncated */
		{ "begin 644 t\n#0V%T\n", 0, 1, "t", "Cat", NULL, NULL, 0, 1 },
		/* a new begin ends the previous block */
		{ "begin 644 t\n#0V%T\nbegin 644 u\n!80``\nend\n", 0, 2, "t",
		  "Cat", "u", "a", 0, 1 },
		/* missing trailing spaces: "!8" then ' ' ' ' */
		{ "begin 644 s\n!80\n`\nend\n", 0, 1, "s", "a", NULL, NULL, 0, 0 },
		/* lowercase/out-of-range chars: not data, garbage */
		{ "begin 644 g\nhello\n#0V%T\n`\nend\n", 0, 1, "g", "Cat", NULL,
		  NULL, 5, 0 },
		/* line far too long for its length char */
		{ "begin 644 g\n!80``AAAAAAAA\n#0V%T\n`\nend\n", 0, 1, "g",
		  "Cat", NULL, NULL, 13, 0 },
		/* one trailing checksum character is tolerated */
		{ "begin 644 c\n#0V%TX\n`\nend\n", 0, 1, "c", "Cat", NULL, NULL,
		  0, 0 },
		/* data after the zero-length line is ignored */
		{ "begin 644 z\n#0V%T\n`\n#0V%T\nend\n", 0, 1, "z", "Cat", NULL,
		  NULL, 5, 0 },
		/* not a begin line: mode not octal, no mode */
		{ "begin 899 x\n#0V%T\nend\n", 0, 0, NULL, NULL, NULL, NULL, 0, 0 },
		{ "begin x\n#0V%T\nend\n", 0, 0, NULL, NULL, NULL, NULL, 0, 0 },
		{ " begin 644 x\n#0V%T\nend\n", 0, 0, NULL, NULL, NULL, NULL, 0,
		  0 },
		/* empty name */
		{ "begin 644\n#0V%T\n`\nend\n", 0, 1, "", "Cat", NULL, NULL, 0, 0 },
		/* begin-base64 */
		{ "begin-base64 644 b.txt\nZm9v\nYmFy\n====\ntext\n", 0, 1,
		  "b.txt", "foobar", NULL, NULL, 0, 0 },
		{ "begin-base64 644 b.txt\nZm9vYg\n", 0, 1, "b.txt", "foob",
		  NULL, NULL, 0, 1 },
		{ "begin-base64 644 b\nZm!9v\n====\nbegin 644 c\n#0V%T\n`\nend\n",
		  0, 2, "b", "foo", "c", "Cat", 1, 0 },
		/* x-uuencode body without begin */
		{ "#0V%T\n!80``\n`\nend\n", 1, 1, "", "Cata", NULL, NULL, 0, 0 },
		{ "#0V%T\n", 1, 1, "", "Cat", NULL, NULL, 0, 1 },
		{ "nothing\n", 1, 0, NULL, NULL, NULL, NULL, 0, 0 },
		/* ... with begin: same as extract */
		{ "junk\nbegin 644 q\n#0V%T\n`\nend\n", 1, 1, "q", "Cat", NULL,
		  NULL, 0, 0 },
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];
		struct got g = { 0 };
		struct scan_decode_stats st;
		int rc = extract(r->text, strlen(r->text), &g, &st, r->body);
		CHECK_MSG(rc == r->rc && g.n == r->rc, "row %zu rc %d", i, rc);
		if (r->name0 && g.n >= 1) {
			CHECK_MSG(strcmp(g.name[0], r->name0) == 0,
				  "row %zu name \"%s\"", i, g.name[0]);
			CHECK_MSG(g.len[0] == strlen(r->data0) &&
				  memcmp(g.data[0], r->data0, g.len[0]) == 0,
				  "row %zu data %zu bytes", i, g.len[0]);
		}
		if (r->name1 && g.n >= 2) {
			CHECK_MSG(strcmp(g.name[1], r->name1) == 0,
				  "row %zu name1 \"%s\"", i, g.name[1]);
			CHECK_MSG(g.len[1] == strlen(r->data1) &&
				  memcmp(g.data[1], r->data1, g.len[1]) == 0,
				  "row %zu data1", i);
		}
		CHECK_MSG(st.garbage == r->garbage, "row %zu garbage %zu", i,
			  st.garbage);
		CHECK_MSG(st.truncated == r->truncated, "row %zu truncated %d",
			  i, st.truncated);
		got_free(&g);
	}
}

static void test_stop_and_enomem(void)
{
	const char *t = "begin 644 a\n#0V%T\n`\nend\nbegin 644 b\n#0V%T\n`\nend\n";
	struct got g = { .stop_after = 1 };
	CHECK_EQ_INT(extract(t, strlen(t), &g, NULL, 0), 1);
	CHECK_EQ_INT(g.n, 1);
	got_free(&g);

	/* 100 lines of 45 bytes need 4500 bytes: a 1000-byte arena fails */
	char *big = malloc(20000);
	uint8_t x[4500] = { 1 };
	size_t o = (size_t)sprintf(big, "begin 644 big\n");
	o += uuenc(x, sizeof(x), big + o, '`', 0, "\n");
	o += (size_t)sprintf(big + o, "end\n");
	struct scan_arena *a = scan_arena_create(1000);
	CHECK_EQ_INT(scan_uu_extract((uint8_t *)big, o, a, collect, &g, NULL),
		     -ENOMEM);
	CHECK_EQ_INT(g.n, 0);
	scan_arena_set_cap(a, 5000);
	scan_arena_reset(a);
	CHECK_EQ_INT(scan_uu_extract((uint8_t *)big, o, a, collect, &g, NULL), 1);
	CHECK(g.n == 1 && g.len[0] == 4500 && memcmp(g.data[0], x, 4500) == 0);
	got_free(&g);
	scan_arena_free(a);
	free(big);
}

/* Short lines ("M" alone is 45 zero bytes): output stays bounded by 63
 * bytes per line and is allocated exactly. */
static void test_amplification_bounded(void)
{
	size_t lines = 1000;
	char *t = malloc(lines * 2 + 64);
	size_t o = (size_t)sprintf(t, "begin 644 z\n");
	for (size_t i = 0; i < lines; i++) {
		t[o++] = 'M';
		t[o++] = '\n';
	}
	o += (size_t)sprintf(t + o, "`\nend\n");
	struct scan_arena *a = scan_arena_create(1u << 20);
	struct got g = { 0 };
	CHECK_EQ_INT(scan_uu_extract((uint8_t *)t, o, a, collect, &g, NULL), 1);
	CHECK_EQ_INT(g.len[0], lines * 45);
	CHECK(scan_arena_used(a) <= lines * 45 + 64);
	uint8_t zero[45] = { 0 };
	CHECK(g.n == 1 && memcmp(g.data[0], zero, 45) == 0);
	got_free(&g);
	scan_arena_free(a);
	free(t);
}

int main(void)
{
	RUN(test_rows);
	RUN(test_roundtrip_random);
	RUN(test_stop_and_enomem);
	RUN(test_amplification_bounded);
	return CHECK_DONE();
}
