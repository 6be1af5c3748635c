/* tests/unit/test_binhex.c - scan/binhex.c */
#include "scan/decode.h"
#include "tests/unit/check.h"
#include "tests/unit/extract_sink.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#define RND_SEED 0xda942042e4dd58b5ull
#include "tests/unit/rnd.h"

/* --- an independent BinHex 4.0 encoder --------------------------------- */

/* Table-driven CRC-16/XMODEM (the decoder uses the bitwise form). */
static uint16_t crc16(const uint8_t *p, size_t n)
{
	static uint16_t tab[256];
	if (tab[1] == 0)
		for (int i = 0; i < 256; i++) {
			uint16_t c = (uint16_t)(i << 8);
			for (int b = 0; b < 8; b++)
				c = (uint16_t)(c & 0x8000 ? (c << 1) ^ 0x1021 : c << 1);
			tab[i] = c;
		}
	uint16_t crc = 0;
	for (size_t i = 0; i < n; i++)
		crc = (uint16_t)(crc << 8 ^ tab[(crc >> 8 ^ p[i]) & 0xff]);
	return crc;
}

struct buf {
	uint8_t *p;
	size_t n;
};

static void put(struct buf *b, const void *p, size_t n)
{
	if (n)
		memcpy(b->p + b->n, p, n);
	b->n += n;
}

static void put_be(struct buf *b, uint32_t v, int bytes)
{
	for (int i = bytes - 1; i >= 0; i--)
		b->p[b->n++] = (uint8_t)(v >> (8 * i));
}

struct hqx_opts {
	uint32_t dlen_claim, rlen_claim; /* 0: real lengths */
	int bad_hcrc, bad_dcrc, bad_rcrc;
	int no_rle;
};

/* Encode name/data/rsrc as BinHex text (banner, 64-char lines). Returns
 * the text length; out must be large. */
static size_t hqx_encode(const char *name, const uint8_t *data, size_t dn,
			 const uint8_t *rsrc, size_t rn, char *out,
			 const struct hqx_opts *o)
{
	static const char alpha[] =
		"!\"#$%&'()*+,-012345689@ABCDEFGHIJKLMNPQRSTUVXYZ[`abcdefhijklmpqr";
	size_t nl = strlen(name);
	struct buf s = { malloc(nl + dn + rn + 64), 0 };
	uint8_t nlb = (uint8_t)nl, zero = 0;
	put(&s, &nlb, 1);
	put(&s, name, nl);
	put(&s, &zero, 1);
	put(&s, "TEXTttxt", 8);
	put_be(&s, 0x0100, 2);
	put_be(&s, o && o->dlen_claim ? o->dlen_claim : (uint32_t)dn, 4);
	put_be(&s, o && o->rlen_claim ? o->rlen_claim : (uint32_t)rn, 4);
	put_be(&s, crc16(s.p, s.n) ^ (o && o->bad_hcrc), 2);
	put(&s, data, dn);
	put_be(&s, crc16(data, dn) ^ (o && o->bad_dcrc ? 0x100 : 0), 2);
	put(&s, rsrc, rn);
	put_be(&s, crc16(rsrc, rn) ^ (o && o->bad_rcrc), 2);

	/* RLE: a run of 3..255 is "b 0x90 n"; 0x90 itself is "0x90 0x00" */
	struct buf r = { malloc(s.n * 2 + 16), 0 };
	for (size_t i = 0; i < s.n;) {
		size_t run = 1;
		while (!(o && o->no_rle) && i + run < s.n && run < 255 &&
		       s.p[i + run] == s.p[i])
			run++;
		r.p[r.n++] = s.p[i];
		if (s.p[i] == 0x90)
			r.p[r.n++] = 0;
		if (run >= 3) {
			r.p[r.n++] = 0x90;
			r.p[r.n++] = (uint8_t)run;
			i += run;
		} else {
			i++;
		}
	}

	size_t k = (size_t)sprintf(out, "(This file must be converted with "
				   "BinHex 4.0)\r\n\r\n:");
	size_t col = 1;
	uint32_t acc = 0;
	int bits = 0;
	for (size_t i = 0; i <= r.n; i++) {
		if (i < r.n) {
			acc = acc << 8 | r.p[i];
			bits += 8;
		} else if (bits > 0) {
			acc <<= 6 - bits; /* flush the last bits */
			bits = 6;
		}
		while (bits >= 6) {
			bits -= 6;
			out[k++] = alpha[(acc >> bits) & 63];
			if (++col == 64) {
				out[k++] = '\r';
				out[k++] = '\n';
				col = 0;
			}
		}
	}
	k += (size_t)sprintf(out + k, ":\r\n");
	free(r.p);
	free(s.p);
	return k;
}

static int extract(const char *t, size_t n, struct scan_arena *a,
		   struct got *g, struct scan_decode_stats *st)
{
	char *copy = malloc(n ? n : 1);
	memcpy(copy, t, n);
	int rc = scan_binhex_extract((uint8_t *)copy, n, a, collect, g, st);
	free(copy);
	return rc;
}

/* --- tests ------------------------------------------------------------- */

static void test_crc_vector(void)
{
	/* CRC-16/XMODEM check value: proves the test's encoder is right. */
	CHECK_EQ_INT(crc16((const uint8_t *)"123456789", 9), 0x31c3);
}

static void fill(uint8_t *p, size_t n)
{
	int mode = (int)(rnd() % 3);
	for (size_t i = 0; i < n; i++) {
		if (mode == 0)
			p[i] = (uint8_t)rnd();
		else if (mode == 1) /* runs, with plenty of 0x90 */
			p[i] = i && rnd() % 8 ? p[i - 1]
					      : (rnd() & 1 ? 0x90 : (uint8_t)rnd());
		else
			p[i] = "\x90\x90\x00A"[rnd() % 4];
	}
}

static void test_roundtrip_random(void)
{
	struct scan_arena *a = scan_arena_create(8u << 20);
	int bad = 0;
	for (int iter = 0; iter < 300; iter++) {
		size_t dn = iter < 40 ? (size_t)iter : rnd() % 3000;
		size_t rn = iter % 3 == 0 ? 0 : rnd() % 700;
		uint8_t *d = malloc(dn + 1), *r = malloc(rn + 1);
		fill(d, dn);
		fill(r, rn);
		char name[64];
		snprintf(name, sizeof(name), "File %d", iter);
		char *t = malloc((dn + rn) * 4 + 1024);
		size_t tn = (size_t)sprintf(t, "Some text before.\r\n");
		tn += hqx_encode(name, d, dn, r, rn, t + tn, NULL);
		tn += (size_t)sprintf(t + tn, "after\r\n");
		struct got g = { 0 };
		struct scan_decode_stats st;
		scan_arena_reset(a);
		int rc = extract(t, tn, a, &g, &st);
		int want = rn ? 2 : 1;
		char rname[80];
		snprintf(rname, sizeof(rname), "%s.rsrc", name);
		if (rc != want || g.n != want || g.len[0] != dn ||
		    memcmp(g.data[0], d, dn) || strcmp(g.name[0], name) ||
		    (rn && (g.len[1] != rn || memcmp(g.data[1], r, rn) ||
			    strcmp(g.name[1], rname))) ||
		    st.garbage || st.truncated)
			if (bad++ < 5)
				CHECK_MSG(0, "iter %d dn=%zu rn=%zu rc=%d", iter,
					  dn, rn, rc);
		got_free(&g);
		free(t);
		free(d);
		free(r);
	}
	CHECK_EQ_INT(bad, 0);
	scan_arena_free(a);
}

struct row {
	const char *what;
	struct hqx_opts o;
	size_t cut;       /* keep only this many text bytes (0: all) */
	int rc;
	int files;        /* callbacks */
	size_t len0;      /* bytes of the data fork emitted */
	int truncated;
};

/* Corrupt streams: whatever was decoded is emitted, then -EINVAL. */
static void test_corrupt_rows(void)
{
	uint8_t d[1000], r[100];
	for (size_t i = 0; i < sizeof(d); i++)
		d[i] = (uint8_t)(i * 7);
	for (size_t i = 0; i < sizeof(r); i++)
		r[i] = (uint8_t)i;
	static const struct row rows[] = {
		{ "good", { 0 }, 0, 2, 2, 1000, 0 },
		{ "no RLE", { .no_rle = 1 }, 0, 2, 2, 1000, 0 },
		{ "bad header crc", { .bad_hcrc = 1 }, 0, -EINVAL, 2, 1000, 0 },
		{ "bad data crc", { .bad_dcrc = 1 }, 0, -EINVAL, 2, 1000, 0 },
		{ "bad rsrc crc", { .bad_rcrc = 1 }, 0, -EINVAL, 2, 1000, 0 },
		{ "4 GB data fork", { .dlen_claim = 0xfffffff0u }, 0, -EINVAL,
		  1, 1104, 1 },
		{ "4 GB rsrc fork", { .rlen_claim = 0xffffffffu }, 0, -EINVAL,
		  2, 1000, 1 },
		{ "cut in the data fork", { 0 }, 700, -EINVAL, 1, 0, 1 },
		{ "cut in the header", { 0 }, 60, -EINVAL, 0, 0, 1 },
	};
	struct scan_arena *a = scan_arena_create(1u << 20);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *w = &rows[i];
		char t[8192];
		size_t tn = hqx_encode("x.bin", d, sizeof(d), r, sizeof(r), t, &w->o);
		if (w->cut)
			tn = w->cut;
		struct got g = { 0 };
		struct scan_decode_stats st;
		scan_arena_reset(a);
		int rc = extract(t, tn, a, &g, &st);
		CHECK_MSG(rc == w->rc, "%s: rc %d", w->what, rc);
		CHECK_MSG(g.n == w->files, "%s: %d files", w->what, g.n);
		if (g.n > 0 && w->len0)
			CHECK_MSG(g.len[0] == w->len0, "%s: len %zu", w->what,
				  g.len[0]);
		if (g.n > 0) /* what was emitted is a prefix of the truth */
			CHECK_MSG(memcmp(g.data[0], d, g.len[0] < sizeof(d)
					 ? g.len[0] : sizeof(d)) == 0,
				  "%s: data", w->what);
		CHECK_MSG(st.truncated == w->truncated, "%s: truncated %d",
			  w->what, st.truncated);
		/* never more memory than the input expands to */
		CHECK_MSG(scan_arena_used(a) < 8192, "%s: arena %zu", w->what,
			  scan_arena_used(a));
		got_free(&g);
	}
	scan_arena_free(a);
}

static void test_text_rows(void)
{
	struct scan_arena *a = scan_arena_create(1u << 20);
	struct got g = { 0 };
	const char *none = "Hello, nothing here\r\n";
	CHECK_EQ_INT(extract(none, strlen(none), a, &g, NULL), 0);
	const char *nocolon = "(This file must be converted with BinHex 4.0)\r\n";
	CHECK_EQ_INT(extract(nocolon, strlen(nocolon), a, &g, NULL), 0);
	CHECK_EQ_INT(g.n, 0);

	/* two streams; garbage bytes inside the data are skipped, counted */
	char t[4096];
	size_t tn = hqx_encode("a", (const uint8_t *)"first", 5, NULL, 0, t, NULL);
	tn += hqx_encode("b", (const uint8_t *)"second", 6,
			 (const uint8_t *)"R", 1, t + tn, NULL);
	char *colon = strchr(t, ':');
	memmove(colon + 4, colon + 2, tn - (size_t)(colon + 2 - t));
	colon[2] = '~'; /* '~' and '.' are outside the alphabet */
	colon[3] = '.';
	tn += 2;
	struct scan_decode_stats st;
	CHECK_EQ_INT(extract(t, tn, a, &g, &st), 3);
	CHECK_EQ_INT(g.n, 3);
	CHECK_EQ_STR(g.name[0], "a");
	CHECK_EQ_MEM(g.data[0], g.len[0], "first", (size_t)5);
	CHECK_EQ_STR(g.name[1], "b");
	CHECK_EQ_MEM(g.data[1], g.len[1], "second", (size_t)6);
	CHECK_EQ_STR(g.name[2], "b.rsrc");
	CHECK_EQ_MEM(g.data[2], g.len[2], "R", (size_t)1);
	CHECK_EQ_INT(st.garbage, 2);
	got_free(&g);

	/* the callback can stop the walk */
	g.stop_after = 1;
	CHECK_EQ_INT(extract(t, tn, a, &g, NULL), 1);
	CHECK_EQ_INT(g.n, 1);
	got_free(&g);

	/* arena too small */
	uint8_t big[5000] = { 0 };
	big[0] = 1;
	char *tb = malloc(20000);
	tn = hqx_encode("big", big, sizeof(big), NULL, 0, tb, NULL);
	scan_arena_set_cap(a, 1000);
	scan_arena_reset(a);
	CHECK_EQ_INT(extract(tb, tn, a, &g, NULL), -ENOMEM);
	CHECK_EQ_INT(g.n, 0);
	free(tb);
	scan_arena_free(a);
}

/* RLE amplification is real but paid for by the arena cap, not by the
 * declared length: 5000 zero bytes need only a few dozen characters. */
static void test_rle_expansion(void)
{
	uint8_t *z = calloc(1, 200000);
	char *t = malloc(400000);
	size_t tn = hqx_encode("z", z, 200000, NULL, 0, t, NULL);
	CHECK(tn < 8000);
	struct scan_arena *a = scan_arena_create(1u << 20);
	struct got g = { 0 };
	CHECK_EQ_INT(extract(t, tn, a, &g, NULL), 1);
	CHECK_EQ_MEM(g.data[0], g.len[0], z, (size_t)200000);
	got_free(&g);
	scan_arena_set_cap(a, 100000);
	scan_arena_reset(a);
	CHECK_EQ_INT(extract(t, tn, a, &g, NULL), -ENOMEM);
	got_free(&g);
	scan_arena_free(a);
	free(t);
	free(z);
}

int main(void)
{
	RUN(test_crc_vector);
	RUN(test_roundtrip_random);
	RUN(test_corrupt_rows);
	RUN(test_text_rows);
	RUN(test_rle_expansion);
	return CHECK_DONE();
}
