/* tests/unit/test_qp.c - scan/qp.c */
#include "scan/decode.h"
#include "tests/unit/check.h"

#include <stdint.h>
#include <stdlib.h>

#define RND_SEED 0x2545f4914f6cdd1dull
#include "tests/unit/rnd.h"

/* Decode from an exact-size heap copy into an exact-size buffer (n bytes,
 * the documented bound) so ASan sees any out-of-bounds access. */
static size_t dec(const char *in, size_t n, uint8_t **outp,
		  struct scan_decode_stats *st)
{
	uint8_t *src = malloc(n ? n : 1), *o = malloc(n ? n : 1);
	memcpy(src, in, n);
	struct scan_decode_stats s;
	memset(&s, 0xAA, sizeof(s));
	size_t len = scan_qp_decode(src, n, o, &s);
	CHECK(len <= n);
	CHECK_EQ_INT(scan_qp_decode(src, n, o, NULL), len);
	free(src);
	*outp = o;
	if (st)
		*st = s;
	return len;
}

struct row {
	const char *in, *out;
	size_t garbage;
};

static void test_rows(void)
{
	static const struct row rows[] = {
		{ "", "", 0 },
		{ "hello", "hello", 0 },
		/* escapes, both cases */
		{ "caf=C3=A9", "caf\xc3\xa9", 0 },
		{ "caf=c3=a9", "caf\xc3\xa9", 0 },
		{ "=3D=3d", "==", 0 },
		{ "=00x", "\0x", 0 },  /* see test_nul_output */
		/* soft line breaks */
		{ "abc=\r\ndef", "abcdef", 0 },
		{ "abc=\ndef", "abcdef", 0 },
		{ "abc= \t \r\ndef", "abcdef", 0 },
		{ "abc=  \ndef", "abcdef", 0 },
		{ "abc=", "abc", 0 },
		{ "abc=  ", "abc", 0 },
		{ "abc =\r\ndef", "abc def", 0 },
		{ "=\r\n=\r\n", "", 0 },
		/* hard line breaks kept as they are */
		{ "a\r\nb\nc", "a\r\nb\nc", 0 },
		/* trailing whitespace removed, escaped whitespace kept */
		{ "abc   \r\ndef", "abc\r\ndef", 0 },
		{ "abc \t\ndef\t", "abc\ndef", 0 },
		{ "abc =20\r\n", "abc  \r\n", 0 },
		{ "abc=09 \r\n", "abc\t\r\n", 0 },
		{ "a b\tc", "a b\tc", 0 },
		{ "  \r\n", "\r\n", 0 },
		/* invalid escapes: '=' kept literally, counted */
		{ "a=G1b", "a=G1b", 1 },
		{ "a=4", "a=4", 1 },
		{ "a=\xff", "a=\xff", 1 },
		{ "= x", "= x", 1 },
		{ "==41", "=A", 1 },
		{ "=4=41", "=4A", 1 },
		/* 8-bit and control bytes pass through */
		{ "\x80\x01\x7f", "\x80\x01\x7f", 0 },
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		uint8_t *o;
		struct scan_decode_stats st;
		size_t len = dec(rows[i].in, strlen(rows[i].in), &o, &st);
		size_t want = strlen(rows[i].out);
		if (i == 5)
			want = 2; /* "\0x" */
		CHECK_MSG(len == want && memcmp(o, rows[i].out, want) == 0,
			  "row %zu \"%s\": %zu bytes \"%.*s\"", i, rows[i].in,
			  len, (int)len, (const char *)o);
		CHECK_MSG(st.garbage == rows[i].garbage, "row %zu garbage %zu",
			  i, st.garbage);
		CHECK(st.truncated == 0 && st.bad_padding == 0);
		free(o);
	}
}

/* Independent encoder: RFC 2045 6.7 with 76-column soft breaks. Input is
 * treated as binary except that "\r\n" pairs are kept as hard breaks. */
static size_t enc(const uint8_t *in, size_t n, char *out)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;
	int col = 0;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = in[i];
		if (c == '\r' && i + 1 < n && in[i + 1] == '\n') {
			out[o++] = '\r';
			out[o++] = '\n';
			i++;
			col = 0;
			continue;
		}
		/* whitespace before a line end (or at the end) is escaped */
		int at_eol = i + 1 == n ||
			     (in[i + 1] == '\r' && i + 2 < n && in[i + 2] == '\n');
		int lit = (c >= 33 && c <= 126 && c != '=') ||
			  ((c == ' ' || c == '\t') && !at_eol);
		int w = lit ? 1 : 3;
		if (col + w > 75) {
			out[o++] = '=';
			out[o++] = '\r';
			out[o++] = '\n';
			col = 0;
		}
		if (lit) {
			out[o++] = (char)c;
		} else {
			out[o++] = '=';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
		col += w;
	}
	return o;
}

static void test_roundtrip_random(void)
{
	int bad = 0;
	static const char text[] = "ab \t\r\n=.\x80\xff";
	for (int iter = 0; iter < 2000; iter++) {
		size_t n = iter < 100 ? (size_t)iter : rnd() % 5000;
		uint8_t *x = malloc(n + 1);
		int binary = iter & 1;
		for (size_t i = 0; i < n; i++)
			x[i] = binary ? (uint8_t)rnd()
				      : (uint8_t)text[rnd() % (sizeof(text) - 1)];
		char *e = malloc(n * 4 + 16);
		size_t en = enc(x, n, e);
		uint8_t *o;
		struct scan_decode_stats st;
		size_t len = dec(e, en, &o, &st);
		if (len != n || memcmp(o, x, n) != 0 || st.garbage != 0)
			if (bad++ < 5)
				CHECK_MSG(0, "iter %d n=%zu -> %zu", iter, n, len);
		free(o);
		free(e);
		free(x);
	}
	CHECK_EQ_INT(bad, 0);
}

/* Reference model, straight from the rules in decode.h / qp.c. */
static size_t ref(const uint8_t *in, size_t n, uint8_t *out, size_t *garbage)
{
	size_t o = 0, i = 0;
	*garbage = 0;
#define WS(c) ((c) == ' ' || (c) == '\t')
#define EOL(j) ((j) == n || in[j] == '\r' || in[j] == '\n')
#define HX(c) (((c) >= '0' && (c) <= '9') || ((c) >= 'A' && (c) <= 'F') || \
	       ((c) >= 'a' && (c) <= 'f'))
	while (i < n) {
		uint8_t c = in[i];
		if (c == '=') {
			if (i + 2 < n && HX(in[i + 1]) && HX(in[i + 2])) {
				char h[3] = { (char)in[i + 1], (char)in[i + 2], 0 };
				out[o++] = (uint8_t)strtol(h, NULL, 16);
				i += 3;
				continue;
			}
			size_t j = i + 1;
			while (j < n && WS(in[j]))
				j++;
			if (EOL(j)) {
				i = j;
				if (i < n && in[i] == '\r')
					i++;
				if (i < n && in[i] == '\n' && in[i - 1] != '\n')
					i++;
				continue;
			}
			out[o++] = '=';
			(*garbage)++;
			i++;
		} else if (WS(c)) {
			size_t j = i;
			while (j < n && WS(in[j]))
				j++;
			if (!EOL(j))
				while (i < j)
					out[o++] = in[i++];
			i = j;
		} else {
			out[o++] = c;
			i++;
		}
	}
	return o;
}

static void test_soup_vs_reference(void)
{
	static const char soup[] = "=== \t\t\r\n\r\nA0f9gx\x80";
	int bad = 0;
	for (int iter = 0; iter < 5000; iter++) {
		size_t n = rnd() % 100;
		char *in = malloc(n + 1);
		for (size_t i = 0; i < n; i++)
			in[i] = soup[rnd() % (sizeof(soup) - 1)];
		uint8_t *o, *r = malloc(n + 1);
		size_t g, rl = ref((const uint8_t *)in, n, r, &g);
		struct scan_decode_stats st;
		size_t len = dec(in, n, &o, &st);
		if (len != rl || memcmp(o, r, rl) != 0 || st.garbage != g)
			if (bad++ < 5)
				CHECK_MSG(0, "iter %d \"%.*s\"", iter, (int)n, in);
		free(o);
		free(r);
		free(in);
	}
	CHECK_EQ_INT(bad, 0);
}

static void test_long_line(void)
{
	size_t n = 1u << 20;
	char *in = malloc(n);
	for (size_t i = 0; i < n; i++)
		in[i] = (char)('a' + i % 26);
	memcpy(in + n - 6, "=41  ", 5);
	in[n - 1] = ' ';
	uint8_t *o;
	size_t len = dec(in, n, &o, NULL);
	CHECK_EQ_INT(len, n - 5);
	CHECK(o[len - 1] == 'A');
	CHECK(memcmp(o, in, n - 6) == 0);
	free(o);
	free(in);
}

int main(void)
{
	RUN(test_rows);
	RUN(test_roundtrip_random);
	RUN(test_soup_vs_reference);
	RUN(test_long_line);
	return CHECK_DONE();
}
