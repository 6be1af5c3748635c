/* tests/unit/test_tnef.c - scan/tnef.c */
#include "scan/decode.h"
#include "tests/unit/check.h"
#include "tests/unit/extract_sink.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#define RND_SEED 0x6a09e667f3bcc909ull
#include "tests/unit/rnd.h"

/* --- a small TNEF writer ------------------------------------------------ */

struct w {
	uint8_t p[1 << 16];
	size_t n;
};

static void w_bytes(struct w *w, const void *p, size_t n)
{
	if (n)
		memcpy(w->p + w->n, p, n);
	w->n += n;
}

static void w_le(struct w *w, uint32_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		w->p[w->n++] = (uint8_t)(v >> (8 * i));
}

static void w_start(struct w *w)
{
	w->n = 0;
	w_le(w, 0x223E9F78u, 4);
	w_le(w, 0x1234, 2);
}

/* One attribute record; bad_sum corrupts its checksum. */
static void w_attr(struct w *w, int level, uint32_t id, const void *d,
		   size_t len, int bad_sum)
{
	uint16_t sum = 0;
	for (size_t i = 0; i < len; i++)
		sum = (uint16_t)(sum + ((const uint8_t *)d)[i]);
	w_le(w, (uint32_t)level, 1);
	w_le(w, id, 4);
	w_le(w, (uint32_t)len, 4);
	w_bytes(w, d, len);
	w_le(w, (uint16_t)(sum + (bad_sum ? 1 : 0)), 2);
}

#define ATT_REND  0x00069002u
#define ATT_TITLE 0x00018010u
#define ATT_DATA  0x0006800Fu
#define ATT_ATTACHMENT 0x00069005u
#define ATT_SUBJECT 0x00018004u

/* MAPI property list for attAttachment. */
static void p_start(struct w *w, uint32_t count)
{
	w->n = 0;
	w_le(w, count, 4);
}

static void p_pad(struct w *w)
{
	while (w->n % 4)
		w->p[w->n++] = 0;
}

static void p_var(struct w *w, uint16_t type, uint16_t tag, const void *d,
		  size_t len)
{
	w_le(w, type, 2);
	w_le(w, tag, 2);
	w_le(w, 1, 4);            /* one value */
	w_le(w, (uint32_t)len, 4);
	w_bytes(w, d, len);
	p_pad(w);
}

/* ASCII string as UTF-16LE, NUL-terminated; \u escapes from the caller
 * come in as explicit units. */
static void p_unicode(struct w *w, uint16_t tag, const uint16_t *units,
		      size_t n)
{
	uint8_t b[256];
	for (size_t i = 0; i < n; i++) {
		b[2 * i] = (uint8_t)units[i];
		b[2 * i + 1] = (uint8_t)(units[i] >> 8);
	}
	b[2 * n] = b[2 * n + 1] = 0;
	p_var(w, 0x001F, tag, b, 2 * n + 2);
}

/* Properties the parser must skip correctly. */
static void p_noise(struct w *w)
{
	w_le(w, 0x0003, 2); w_le(w, 0x0E20, 2); w_le(w, 12345, 4); /* PT_LONG */
	w_le(w, 0x0040, 2); w_le(w, 0x3007, 2); w_le(w, 1, 4); w_le(w, 2, 4);
	w_le(w, 0x000B, 2); w_le(w, 0x7FFE, 2); w_le(w, 1, 4);  /* BOOLEAN */
	/* named property with a string name, PT_STRING8 value */
	w_le(w, 0x001E, 2); w_le(w, 0x8001, 2);
	w_bytes(w, "0123456789abcdef", 16);
	w_le(w, 1, 4); w_le(w, 6, 4); w_bytes(w, "N\0a\0m\0", 6); p_pad(w);
	w_le(w, 1, 4); w_le(w, 3, 4); w_bytes(w, "xyz", 3); p_pad(w);
	/* multi-valued long: 3 values */
	w_le(w, 0x1003, 2); w_le(w, 0x6000, 2); w_le(w, 3, 4);
	w_le(w, 1, 4); w_le(w, 2, 4); w_le(w, 3, 4);
	/* named property with a numeric id, PT_CLSID */
	w_le(w, 0x0048, 2); w_le(w, 0x8002, 2);
	w_bytes(w, "fedcba9876543210", 16); w_le(w, 0, 4); w_le(w, 7, 4);
	w_bytes(w, "0123456789abcdef", 16);
}

/* Add one attachment: title, data, optional MAPI props. */
static void w_attach(struct w *w, const char *title, const void *d,
		     size_t len, const struct w *props)
{
	uint8_t rend[14] = { 1 };
	w_attr(w, 2, ATT_REND, rend, sizeof(rend), 0);
	if (title)
		w_attr(w, 2, ATT_TITLE, title, strlen(title) + 1, 0);
	if (d)
		w_attr(w, 2, ATT_DATA, d, len, 0);
	if (props)
		w_attr(w, 2, ATT_ATTACHMENT, props->p, props->n, 0);
}

static int extract(const struct w *w, size_t n, struct scan_arena *a,
		   struct got *g)
{
	uint8_t *copy = malloc(n ? n : 1); /* exact size for ASan */
	memcpy(copy, w->p, n);
	int rc = scan_tnef_extract(copy, n, a, collect, g);
	free(copy);
	return rc;
}

/* --- tests ------------------------------------------------------------- */

static struct w W, P, N;

static void test_detect(void)
{
	static const struct { const char *d; size_t n; int want; } rows[] = {
		{ "\x78\x9f\x3e\x22\x01\x00", 6, 1 },
		{ "\x78\x9f\x3e\x22", 4, 1 },
		{ "\x78\x9f\x3e", 3, 0 },
		{ "\x22\x3e\x9f\x78", 4, 0 },
		{ "", 0, 0 },
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		CHECK_MSG(scan_tnef_detect((const uint8_t *)rows[i].d,
					   rows[i].n) == rows[i].want, "row %zu", i);
	struct scan_arena *a = scan_arena_create(1 << 16);
	struct got g = { 0 };
	CHECK_EQ_INT(scan_tnef_extract((const uint8_t *)"PK\3\4xx", 6, a,
				       collect, &g), -EINVAL);
	CHECK_EQ_INT(g.n, 0);
	scan_arena_free(a);
}

struct row {
	const char *what;
	int rc;
	int files;
	const char *name0, *data0;
	const char *name1, *data1;
};

/* Build case i into W; returns the expected outcome. */
static struct row build(int i)
{
	w_start(&W);
	w_attr(&W, 1, ATT_SUBJECT, "Hello\0", 6, 0); /* message level */
	switch (i) {
	case 0:
		w_attach(&W, "REPORT~1.DOC", "doc bytes", 9, NULL);
		return (struct row){ "title + data", 1, 1, "REPORT~1.DOC",
				     "doc bytes", NULL, NULL };
	case 1:
		p_start(&P, 7); /* six of noise, then the long name */
		p_noise(&P);
		p_var(&P, 0x001E, 0x3707, "Quarterly report.docx", 22);
		w_attach(&W, "QUARTE~1.DOC", "abc", 3, &P);
		return (struct row){ "long name preferred", 1, 1,
				     "Quarterly report.docx", "abc", NULL, NULL };
	case 2: {
		/* "é€😀.txt": U+00E9 U+20AC U+1F600 (surrogates) */
		static const uint16_t u[] = { 0xE9, 0x20AC, 0xD83D, 0xDE00,
					      '.', 't', 'x', 't' };
		p_start(&P, 1);
		p_unicode(&P, 0x3707, u, 8);
		w_attach(&W, "X.TXT", "u", 1, &P);
		return (struct row){ "UTF-16 long name", 1, 1,
				     "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80.txt",
				     "u", NULL, NULL };
	}
	case 3:
		p_start(&P, 2);
		p_var(&P, 0x001E, 0x3704, "bin.dat", 8);
		p_var(&P, 0x0102, 0x3701, "\x01\x02\x03\x04\x05", 5);
		w_attach(&W, NULL, NULL, 0, &P);
		return (struct row){ "PR_ATTACH_DATA_BIN + 0x3704", 1, 1,
				     "bin.dat", "\x01\x02\x03\x04\x05", NULL, NULL };
	case 4:
		w_attach(&W, "a.txt", "first", 5, NULL);
		w_attach(&W, "b.txt", "second", 6, NULL);
		return (struct row){ "two attachments", 2, 2, "a.txt", "first",
				     "b.txt", "second" };
	case 5:
		w_attach(&W, "a.txt", "first", 5, NULL);
		W.p[W.n - 1] ^= 1; /* checksum of attAttachData */
		w_attach(&W, "b.txt", "second", 6, NULL);
		return (struct row){ "bad checksum: keep going", -EINVAL, 2,
				     "a.txt", "first", "b.txt", "second" };
	case 6:
		w_attach(&W, "a.txt", "first", 5, NULL);
		w_attach(&W, "b.txt", "second", 6, NULL);
		W.n -= 4; /* cut into the last record: it is dropped */
		return (struct row){ "truncated", -EINVAL, 1, "a.txt", "first",
				     NULL, NULL };
	case 7: {
		w_attach(&W, "a.txt", "first", 5, NULL);
		uint8_t rend[14] = { 1 };
		w_attr(&W, 2, ATT_REND, rend, sizeof(rend), 0);
		w_le(&W, 2, 1);
		w_le(&W, ATT_DATA, 4);
		w_le(&W, 0xFFFFFFF0u, 4); /* 4 GB claimed */
		w_bytes(&W, "tiny", 4);
		return (struct row){ "huge declared length", -EINVAL, 1,
				     "a.txt", "first", NULL, NULL };
	}
	case 8: {
		/* embedded message: PT_OBJECT = IID + nested TNEF */
		struct w *inner = &N;
		w_start(inner);
		w_attach(inner, "inner.txt", "nested!", 7, NULL);
		uint8_t obj[4096];
		memcpy(obj, "IID_IMessage....", 16);
		memcpy(obj + 16, inner->p, inner->n);
		p_start(&P, 1);
		p_var(&P, 0x000D, 0x3701, obj, 16 + inner->n);
		w_attach(&W, "outer.txt", "outer", 5, NULL);
		w_attach(&W, "Embedded", NULL, 0, &P);
		return (struct row){ "embedded message", 2, 2, "outer.txt",
				     "outer", "inner.txt", "nested!" };
	}
	case 9:
		p_start(&P, 3); /* count says 3, only 1 present */
		p_var(&P, 0x001E, 0x3707, "long.txt", 9);
		w_attach(&W, "S.TXT", "s", 1, &P);
		return (struct row){ "short property list", -EINVAL, 1,
				     "long.txt", "s", NULL, NULL };
	case 10:
		p_start(&P, 1);
		w_le(&P, 0x0999, 2); /* unknown type */
		w_le(&P, 0x1234, 2);
		w_attach(&W, "T.TXT", "t", 1, &P);
		return (struct row){ "unknown property type", -EINVAL, 1,
				     "T.TXT", "t", NULL, NULL };
	case 11:
		w_attach(&W, NULL, "noname", 6, NULL);
		return (struct row){ "no name at all", 1, 1, "", "noname", NULL,
				     NULL };
	default:
		w_attr(&W, 3, ATT_SUBJECT, "x", 1, 0); /* bad level */
		return (struct row){ "bad level", -EINVAL, 0, NULL, NULL, NULL,
				     NULL };
	}
}

static void test_rows(void)
{
	struct scan_arena *a = scan_arena_create(1 << 20);
	for (int i = 0; i <= 12; i++) {
		struct row r = build(i);
		struct got g = { 0 };
		scan_arena_reset(a);
		int rc = extract(&W, W.n, a, &g);
		CHECK_MSG(rc == r.rc, "%s: rc %d", r.what, rc);
		CHECK_MSG(g.n == r.files, "%s: %d files", r.what, g.n);
		if (r.name0 && g.n > 0) {
			CHECK_MSG(strcmp(g.name[0], r.name0) == 0, "%s: name \"%s\"",
				  r.what, g.name[0]);
			CHECK_MSG(g.len[0] == strlen(r.data0) &&
				  memcmp(g.data[0], r.data0, g.len[0]) == 0,
				  "%s: data", r.what);
		}
		if (r.name1 && g.n > 1)
			CHECK_MSG(strcmp(g.name[1], r.name1) == 0,
				  "%s: name1 \"%s\"", r.what, g.name[1]);
		if (r.data1 && g.n > 1)
			CHECK_MSG(g.len[1] == strlen(r.data1) &&
				  memcmp(g.data[1], r.data1, g.len[1]) == 0,
				  "%s: data1", r.what);
		CHECK_MSG(scan_arena_used(a) < 2 * W.n + 1024, "%s: arena %zu",
			  r.what, scan_arena_used(a));
		got_free(&g);
	}
	scan_arena_free(a);
}

/* decode(encode(x)) == x for random attachments. */
static void test_roundtrip_random(void)
{
	struct scan_arena *a = scan_arena_create(1 << 20);
	static uint8_t data[4][4000];
	size_t len[4];
	int bad = 0;
	for (int iter = 0; iter < 200; iter++) {
		int k = 1 + iter % 4;
		w_start(&W);
		for (int j = 0; j < k; j++) {
			len[j] = rnd() % (sizeof(data[0]) / (size_t)k);
			for (size_t i = 0; i < len[j]; i++)
				data[j][i] = (uint8_t)rnd();
			char name[32];
			snprintf(name, sizeof(name), "f%d-%d.bin", iter, j);
			if (j & 1) { /* via MAPI props */
				p_start(&P, 2);
				p_var(&P, 0x001E, 0x3707, name, strlen(name) + 1);
				p_var(&P, 0x0102, 0x3701, data[j], len[j]);
				w_attach(&W, "IGNORED", NULL, 0, &P);
			} else {
				w_attach(&W, name, data[j], len[j], NULL);
			}
		}
		struct got g = { 0 };
		scan_arena_reset(a);
		int rc = extract(&W, W.n, a, &g);
		int ok = rc == k && g.n == k;
		for (int j = 0; ok && j < k; j++) {
			char name[32];
			snprintf(name, sizeof(name), "f%d-%d.bin", iter, j);
			ok = strcmp(g.name[j], name) == 0 && g.len[j] == len[j] &&
			     memcmp(g.data[j], data[j], len[j]) == 0;
		}
		if (!ok && bad++ < 5)
			CHECK_MSG(0, "iter %d rc %d", iter, rc);
		got_free(&g);
	}
	CHECK_EQ_INT(bad, 0);
	scan_arena_free(a);
}

static void test_stop_and_enomem(void)
{
	w_start(&W);
	w_attach(&W, "a", "1", 1, NULL);
	w_attach(&W, "b", "2", 1, NULL);
	struct scan_arena *a = scan_arena_create(1 << 16);
	struct got g = { .stop_after = 1 };
	CHECK_EQ_INT(extract(&W, W.n, a, &g), 1);
	CHECK_EQ_INT(g.n, 1);
	got_free(&g);

	static uint8_t big[5000];
	w_start(&W);
	w_attach(&W, "big", big, sizeof(big), NULL);
	scan_arena_set_cap(a, 1000);
	scan_arena_reset(a);
	CHECK_EQ_INT(extract(&W, W.n, a, &g), -ENOMEM);
	CHECK_EQ_INT(g.n, 0);
	scan_arena_free(a);
}

/* Every prefix of a valid stream: no crash; a complete stream exactly when
 * the prefix ends on a record boundary, -EINVAL otherwise. */
static void test_every_prefix(void)
{
	build(8);
	struct w full = W;
	static uint8_t boundary[sizeof(full.p)];
	memset(boundary, 0, sizeof(boundary));
	for (size_t p = 6; p <= full.n;) {
		boundary[p] = 1;
		if (p + 9 > full.n)
			break;
		p += 9 + 2 + (size_t)(full.p[p + 5] | full.p[p + 6] << 8 |
				      full.p[p + 7] << 16);
	}
	CHECK(boundary[full.n]);
	struct scan_arena *a = scan_arena_create(1 << 20);
	int bad = 0;
	for (size_t n = 0; n < full.n; n++) {
		struct got g = { 0 };
		scan_arena_reset(a);
		int rc = extract(&full, n, a, &g);
		int ok = boundary[n] ? rc >= 0 && rc == g.n : rc == -EINVAL;
		if (!ok && bad++ < 3)
			CHECK_MSG(0, "prefix %zu: rc %d", n, rc);
		got_free(&g);
	}
	CHECK_EQ_INT(bad, 0);
	scan_arena_free(a);
}

int main(void)
{
	RUN(test_detect);
	RUN(test_rows);
	RUN(test_roundtrip_random);
	RUN(test_stop_and_enomem);
	RUN(test_every_prefix);
	return CHECK_DONE();
}
