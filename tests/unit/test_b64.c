/* tests/unit/test_b64.c - scan/b64.c */
#include "scan/decode.h"
#include "tests/unit/check.h"

#include <stdint.h>
#include <stdlib.h>

#define RND_SEED 0x9e3779b97f4a7c15ull
#include "tests/unit/rnd.h"

static const char b64_alpha[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Independent encoder: line = 0 means no line breaks. */
static size_t enc(const uint8_t *in, size_t n, char *out, size_t line,
		  const char *eol)
{
	size_t o = 0, col = 0;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < n)
			v |= in[i + 2];
		char q[4] = { b64_alpha[v >> 18], b64_alpha[(v >> 12) & 63],
			      i + 1 < n ? b64_alpha[(v >> 6) & 63] : '=',
			      i + 2 < n ? b64_alpha[v & 63] : '=' };
		for (int k = 0; k < 4; k++) {
			out[o++] = q[k];
			if (line && ++col == line) {
				for (const char *e = eol; *e; e++)
					out[o++] = *e;
				col = 0;
			}
		}
	}
	return o;
}

/* Decode into a buffer of exactly scan_b64_decoded_max(n) bytes on the
 * heap, so ASan sees any write past the documented bound. Checks that the
 * SIMD and portable paths agree. */
static size_t dec(const char *in, size_t n, uint8_t **outp,
		  struct scan_decode_stats *st)
{
	size_t cap = scan_b64_decoded_max(n);
	uint8_t *a = malloc(cap), *b = malloc(cap);
	uint8_t *src = malloc(n ? n : 1); /* exact-size input for ASan */
	memcpy(src, in, n);
	struct scan_decode_stats s1, s2;
	memset(&s1, 0xAA, sizeof(s1));
	memset(&s2, 0x55, sizeof(s2));
	size_t la = scan_b64_decode(src, n, a, &s1);
	size_t lb = scan_b64_decode_portable(src, n, b, &s2);
	CHECK(la <= cap);
	CHECK_EQ_MEM(a, la, b, lb);
	CHECK_EQ_INT(s1.garbage, s2.garbage);
	CHECK_EQ_INT(s1.truncated, s2.truncated);
	CHECK_EQ_INT(s1.bad_padding, s2.bad_padding);
	CHECK_EQ_INT(scan_b64_decode(src, n, a, NULL), la);
	free(src);
	free(b);
	*outp = a;
	if (st)
		*st = s1;
	return la;
}

struct row {
	const char *in;
	const char *out;
	size_t garbage;
	int truncated, bad_padding;
};

static void run_rows(const struct row *r, size_t nrows)
{
	for (size_t i = 0; i < nrows; i++) {
		uint8_t *o;
		struct scan_decode_stats st;
		size_t len = dec(r[i].in, strlen(r[i].in), &o, &st);
		CHECK_MSG(len == strlen(r[i].out) &&
			  memcmp(o, r[i].out, len) == 0,
			  "row %zu \"%s\": got %zu bytes", i, r[i].in, len);
		CHECK_MSG(st.garbage == r[i].garbage, "row %zu garbage %zu",
			  i, st.garbage);
		CHECK_MSG(st.truncated == r[i].truncated, "row %zu truncated",
			  i);
		CHECK_MSG(st.bad_padding == r[i].bad_padding,
			  "row %zu bad_padding", i);
		free(o);
	}
}

static void test_rfc4648_vectors(void)
{
	static const struct row rows[] = {
		{ "", "", 0, 0, 0 },
		{ "Zg==", "f", 0, 0, 0 },
		{ "Zm8=", "fo", 0, 0, 0 },
		{ "Zm9v", "foo", 0, 0, 0 },
		{ "Zm9vYg==", "foob", 0, 0, 0 },
		{ "Zm9vYmE=", "fooba", 0, 0, 0 },
		{ "Zm9vYmFy", "foobar", 0, 0, 0 },
		{ "+/+/", "\xfb\xff\xbf", 0, 0, 0 },
	};
	run_rows(rows, sizeof(rows) / sizeof(rows[0]));
}

static void test_whitespace_garbage_padding(void)
{
	static const struct row rows[] = {
		/* whitespace is free */
		{ "Zm9v\r\nYmFy\r\n", "foobar", 0, 0, 0 },
		{ " Zm 9v\tYm\nFy ", "foobar", 0, 0, 0 },
		{ "\r\n\r\n", "", 0, 0, 0 },
		{ "Zm9vYg\r\n==\r\n", "foob", 0, 0, 0 },
		{ "Zm9vYg=\r\n=", "foob", 0, 0, 0 },
		/* garbage is skipped and counted */
		{ "Zm9v!YmFy", "foobar", 1, 0, 0 },
		{ "\xff\x80Zm9v", "foo", 2, 0, 0 },
		{ "Zm9vYmFy\x00", "foobar", 0, 0, 0 }, /* strlen stops at NUL */
		{ "Z-m_9.v", "foo", 3, 0, 0 },
		{ "Zm9v\vYmFy\f", "foobar", 2, 0, 0 },
		/* padding */
		{ "Zg==Zm8=", "ffo", 0, 0, 1 },
		{ "Zg==\r\nZm9v", "ffoo", 0, 0, 1 },
		{ "Zg=", "f", 0, 0, 1 },
		{ "Zm9v=", "foo", 0, 0, 1 },
		{ "=Zm9v", "foo", 0, 0, 1 },
		{ "Zg===", "f", 0, 0, 1 },
		{ "Z===", "", 0, 0, 1 },
		{ "Zm8==", "fo", 0, 0, 1 },
		/* truncated final quantum: complete bytes still decoded */
		{ "Zm9vYg", "foob", 0, 1, 0 },
		{ "Zm9vYmE", "fooba", 0, 1, 0 },
		{ "Zm9vY", "foo", 0, 1, 0 },
		{ "Z", "", 0, 1, 0 },
		{ "Zm9vYmE\r\n", "fooba", 0, 1, 0 },
	};
	run_rows(rows, sizeof(rows) / sizeof(rows[0]));
}

static void test_nul_in_input(void)
{
	/* NUL is garbage like any other byte: needs an explicit length. */
	const char in[] = "Zm9v\0YmFy";
	uint8_t *o;
	struct scan_decode_stats st;
	size_t len = dec(in, sizeof(in) - 1, &o, &st);
	CHECK_EQ_MEM(o, len, "foobar", (size_t)6);
	CHECK_EQ_INT(st.garbage, 1);
	free(o);
}

/* decode(encode(x)) == x for many sizes and line layouts. */
static void test_roundtrip_random(void)
{
	static const size_t lines[] = { 0, 76, 64, 72, 4, 1, 3, 5, 77, 200 };
	static const char *const eols[] = { "\r\n", "\n", " \r\n" };
	int bad = 0;
	for (int iter = 0; iter < 600; iter++) {
		size_t n = iter < 200 ? (size_t)iter : rnd() % 20000;
		uint8_t *x = malloc(n + 1);
		for (size_t i = 0; i < n; i++)
			x[i] = (uint8_t)rnd();
		size_t line = lines[iter % 10];
		const char *eol = eols[(iter / 10) % 3];
		char *e = malloc((n / 3 + 1) * 4 * 4 + 64);
		size_t en = enc(x, n, e, line, eol);
		uint8_t *o;
		struct scan_decode_stats st;
		size_t len = dec(e, en, &o, &st);
		if (len != n || memcmp(o, x, n) != 0 || st.garbage ||
		    st.truncated || st.bad_padding) {
			if (bad++ < 5)
				CHECK_MSG(0, "n=%zu line=%zu", n, line);
		}
		free(o);
		free(e);
		free(x);
	}
	CHECK_EQ_INT(bad, 0);
}

/* A 1 MiB single line, and one CRLF in the middle of a quantum. */
static void test_long_lines(void)
{
	size_t n = 3u << 20 >> 2; /* 786432 bytes -> 1 MiB of base64 */
	uint8_t *x = malloc(n);
	for (size_t i = 0; i < n; i++)
		x[i] = (uint8_t)rnd();
	char *e = malloc(n / 3 * 4 + 16);
	size_t en = enc(x, n, e, 0, "");
	CHECK_EQ_INT(en, 1u << 20);
	uint8_t *o;
	size_t len = dec(e, en, &o, NULL);
	CHECK_EQ_MEM(o, len, x, n);
	free(o);

	/* split at every offset of the first 40 chars */
	char *s = malloc(en + 2);
	for (size_t cut = 0; cut < 40; cut++) {
		memcpy(s, e, cut);
		s[cut] = '\r';
		s[cut + 1] = '\n';
		memcpy(s + cut + 2, e + cut, en - cut);
		len = dec(s, en + 2, &o, NULL);
		CHECK_EQ_MEM(o, len, x, n);
		free(o);
	}
	free(s);
	free(e);
	free(x);
}

/* Reference model of the documented semantics, one byte at a time. */
static size_t ref_decode(const uint8_t *in, size_t n, uint8_t *out,
			 struct scan_decode_stats *st)
{
	size_t o = 0;
	uint32_t acc = 0;
	int q = 0, need = 0, padded = 0;
	memset(st, 0, sizeof(*st));
	for (size_t i = 0; i < n; i++) {
		uint8_t c = in[i];
		const char *pos = c ? strchr(b64_alpha, c) : NULL;
		if (pos) {
			if (padded)
				st->bad_padding = 1;
			padded = need = 0;
			acc = acc << 6 | (uint32_t)(pos - b64_alpha);
			if (++q == 4) {
				out[o++] = (uint8_t)(acc >> 16);
				out[o++] = (uint8_t)(acc >> 8);
				out[o++] = (uint8_t)acc;
				q = 0;
				acc = 0;
			}
		} else if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
		} else if (c == '=') {
			if (q == 2) {
				out[o++] = (uint8_t)(acc >> 4);
				need = 1;
			} else if (q == 3) {
				out[o++] = (uint8_t)(acc >> 10);
				out[o++] = (uint8_t)(acc >> 2);
			} else if (need) {
				need = 0;
			} else {
				st->bad_padding = 1;
			}
			padded = 1;
			q = 0;
			acc = 0;
		} else {
			st->garbage++;
		}
	}
	if (q == 2)
		out[o++] = (uint8_t)(acc >> 4);
	if (q == 3) {
		out[o++] = (uint8_t)(acc >> 10);
		out[o++] = (uint8_t)(acc >> 2);
	}
	st->truncated = q != 0;
	st->bad_padding |= need;
	return o;
}

/* Random soups of alphabet, whitespace, '=' and garbage: the decoder must
 * match the reference model exactly (and stay in bounds). */
static void test_soup_vs_reference(void)
{
	static const char specials[] = "\r\n \t=!\x80\xff\x00";
	int bad = 0;
	for (int iter = 0; iter < 3000; iter++) {
		size_t n = rnd() % 600;
		char *in = malloc(n + 1);
		int rate = 1 + (int)(rnd() % 60);
		for (size_t i = 0; i < n; i++)
			in[i] = (int)(rnd() % 1000) < rate
					? specials[rnd() % (sizeof(specials) - 1)]
					: b64_alpha[rnd() % 64];
		uint8_t *o;
		struct scan_decode_stats st, rs;
		size_t len = dec(in, n, &o, &st);
		uint8_t *r = malloc(scan_b64_decoded_max(n));
		size_t rl = ref_decode((const uint8_t *)in, n, r, &rs);
		if (len != rl || memcmp(o, r, rl) != 0 ||
		    st.garbage != rs.garbage || st.truncated != rs.truncated ||
		    st.bad_padding != rs.bad_padding) {
			if (bad++ < 5)
				CHECK_MSG(0, "iter %d n=%zu", iter, n);
		}
		free(r);
		free(o);
		free(in);
	}
	CHECK_EQ_INT(bad, 0);
}

/* Worst case for the output bound: 3-char quanta that end in padding. */
static void test_output_bound(void)
{
	char in[64];
	for (size_t n = 0; n <= sizeof(in); n++) {
		for (size_t i = 0; i < n; i++)
			in[i] = (i % 4 == 3) ? '=' : 'Q';
		uint8_t *o;
		size_t len = dec(in, n, &o, NULL); /* ASan checks the bound */
		CHECK(len <= n * 3 / 4);
		free(o);
	}
	CHECK_EQ_INT(scan_b64_decoded_max(0), 3);
	CHECK_EQ_INT(scan_b64_decoded_max(4), 6);
}

int main(void)
{
	RUN(test_rfc4648_vectors);
	RUN(test_whitespace_garbage_padding);
	RUN(test_nul_in_input);
	RUN(test_roundtrip_random);
	RUN(test_long_lines);
	RUN(test_soup_vs_reference);
	RUN(test_output_bound);
	return CHECK_DONE();
}
