/* scan/binhex.c - BinHex 4.0 extractor (see decode.h).
 *
 * Layers, outermost first:
 *   text    "(This file must be converted with BinHex" banner line, then
 *           ':' encoded-data ':' (whitespace in the data is skipped, other
 *           bytes outside the alphabet are skipped and counted as garbage);
 *   6-bit   four characters make three bytes (alphabet below);
 *   RLE     0x90 n repeats the previous byte n-1 more times, 0x90 0x00 is
 *           a literal 0x90;
 *   stream  header: name length, name, version, type[4], creator[4],
 *           flags[2], data length[4], resource length[4], CRC[2]; data
 *           fork, CRC[2]; resource fork, CRC[2]. Big-endian. CRCs are
 *           CRC-16/XMODEM (poly 0x1021, init 0) over the decoded bytes.
 *
 * The stream is decoded incrementally (struct hqx). After the header the
 * remaining stream is counted once without storing, so the forks are
 * allocated at min(declared length, bytes really present): a header that
 * claims 4 GB costs what the input actually expands to, nothing more.
 */
#include "scan/decode.h"

#include <errno.h>
#include <string.h>

static const char hqx_banner[] = "(This file must be converted with BinHex";

struct hqx {
	const uint8_t *p, *end; /* encoded characters */
	uint32_t acc;
	int bits;
	int closed;             /* met the closing ':' */
	size_t garbage;
	uint8_t last;           /* RLE: previous output byte */
	uint32_t rep;           /* RLE: repeats of `last` still owed */
	int bad_rle;            /* stream ended between 0x90 and its count */
	int short_read;         /* stream ended before the lengths said */
};

/* 6-bit value of each character of
 * !"#$%&'()*+,-012345689@ABCDEFGHIJKLMNPQRSTUVXYZ[`abcdefhijklmpqr
 * 0xff when not in the alphabet. */
static const uint8_t hqx_val[256] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0xff, 0xff,
	0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0xff, 0x14, 0x15, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x24, 0xff,
	0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x2b, 0xff, 0x2c, 0x2d, 0x2e, 0x2f, 0xff, 0xff, 0xff, 0xff,
	0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0xff, 0x37, 0x38, 0x39, 0x3a, 0x3b, 0x3c, 0xff, 0xff,
	0x3d, 0x3e, 0x3f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
};

/* Next byte of the 6-bit layer, or -1 at the end of the data. */
static int hqx_raw(struct hqx *d)
{
	while (d->bits < 8) {
		if (d->p >= d->end || d->closed)
			return -1;
		uint8_t c = *d->p++;
		if (c == ':') {
			d->closed = 1;
			return -1;
		}
		uint8_t v = hqx_val[c];
		if (v == 0xff) {
			if (!(c == '\r' || c == '\n' || c == ' ' || c == '\t'))
				d->garbage++;
			continue;
		}
		d->acc = (d->acc << 6 | v) & 0xffffff;
		d->bits += 6;
	}
	d->bits -= 8;
	return (int)((d->acc >> d->bits) & 0xff);
}

/* Up to n bytes of the RLE layer into out (NULL: count only). Returns the
 * bytes produced, fewer than n only at the end of the data. */
static uint64_t hqx_read(struct hqx *d, uint8_t *out, uint64_t n)
{
	uint64_t k = 0;
	while (k < n) {
		if (d->rep > 0) {
			uint64_t m = n - k < d->rep ? n - k : d->rep;
			if (out != NULL)
				memset(out + k, d->last, (size_t)m);
			d->rep -= (uint32_t)m;
			k += m;
			continue;
		}
		int b = hqx_raw(d);
		if (b < 0)
			break;
		if (b == 0x90) {
			int c = hqx_raw(d);
			if (c < 0) {
				d->bad_rle = 1;
				break;
			}
			if (c != 0) {
				d->rep = (uint32_t)c - 1;
				continue;
			}
		}
		if (out != NULL)
			out[k] = (uint8_t)b;
		d->last = (uint8_t)b;
		k++;
	}
	return k;
}

static uint16_t hqx_crc(uint16_t crc, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		crc ^= (uint16_t)(p[i] << 8);
		for (int b = 0; b < 8; b++)
			crc = (uint16_t)(crc & 0x8000 ? (crc << 1) ^ 0x1021
						      : crc << 1);
	}
	return crc;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* Read one fork of declared length len plus its CRC. *avail is what the
 * stream still holds (counted ahead). Returns the buffer (arena) or NULL
 * on -ENOMEM; *got the bytes stored, *bad set on short fork or bad CRC. */
static uint8_t *hqx_fork(struct hqx *d, struct scan_arena *a, uint32_t len,
			 uint64_t *avail, size_t *got, int *bad)
{
	uint64_t want = len < *avail ? len : *avail;
	uint8_t *buf = scan_arena_alloc(a, (size_t)want);
	if (buf == NULL)
		return NULL;
	uint64_t n = hqx_read(d, buf, want);
	uint8_t c[2];
	uint64_t cn = hqx_read(d, c, 2);
	*avail -= n + cn < *avail ? n + cn : *avail;
	*got = (size_t)n;
	if (n < len || cn < 2)
		d->short_read = 1;
	if (n < len || cn < 2 || hqx_crc(0, buf, (size_t)n) != (c[0] << 8 | c[1]))
		*bad = 1;
	return buf;
}

/* Decode one stream from d. Returns files emitted (>= 0), or -ENOMEM;
 * *bad set when corrupt; *stop when the callback asked to stop. */
static int hqx_stream(struct hqx *d, struct scan_arena *a, scan_extract_fn fn,
		      void *ctx, int *bad, int *stop)
{
	uint8_t h[1 + 255 + 1 + 4 + 4 + 2 + 4 + 4 + 2];
	if (hqx_read(d, h, 1) < 1) {
		d->short_read = 1;
		*bad = 1;
		return 0;
	}
	size_t nl = h[0], rest = nl + 1 + 4 + 4 + 2 + 4 + 4 + 2;
	if (hqx_read(d, h + 1, rest) < rest) {
		d->short_read = 1;
		*bad = 1;
		return 0;
	}
	const uint8_t *f = h + 1 + nl + 1 + 4 + 4 + 2;
	uint32_t dlen = be32(f), rlen = be32(f + 4);
	if (hqx_crc(0, h, 1 + nl + 1 + 4 + 4 + 2 + 8) != (f[8] << 8 | f[9]))
		*bad = 1;

	/* Count what the stream really holds, at most what the header says. */
	struct hqx look = *d;
	uint64_t avail = hqx_read(&look, NULL, (uint64_t)dlen + rlen + 4);

	char *name = scan_arena_strndup(a, (const char *)h + 1, nl);
	if (name == NULL)
		return -ENOMEM;
	size_t dn, rn = 0;
	uint8_t *data = hqx_fork(d, a, dlen, &avail, &dn, bad);
	if (data == NULL)
		return -ENOMEM;
	uint8_t *rsrc = NULL;
	if (rlen > 0) {
		rsrc = hqx_fork(d, a, rlen, &avail, &rn, bad);
		if (rsrc == NULL)
			return -ENOMEM;
	}
	if (d->bad_rle)
		*bad = 1;
	if (fn(ctx, name, data, dn) != 0) {
		*stop = 1;
		return 1;
	}
	if (rlen == 0 || rn == 0)
		return 1;
	char *rname = scan_arena_alloc(a, nl + sizeof(".rsrc"));
	if (rname == NULL)
		return -ENOMEM;
	memcpy(rname, name, nl);
	memcpy(rname + strlen(name), ".rsrc", sizeof(".rsrc"));
	if (fn(ctx, rname, rsrc, rn) != 0)
		*stop = 1;
	return 2;
}

int scan_binhex_extract(const uint8_t *text, size_t n, struct scan_arena *a,
			scan_extract_fn fn, void *ctx,
			struct scan_decode_stats *st)
{
	const uint8_t *p = text, *end = text + n;
	struct scan_decode_stats s = { 0 };
	int files = 0, bad = 0, stop = 0, rc = 0;

	while (!stop && p < end) {
		const uint8_t *b = memmem(p, (size_t)(end - p), hqx_banner,
					  sizeof(hqx_banner) - 1);
		if (b == NULL)
			break;
		p = b + sizeof(hqx_banner) - 1;
		const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
		const uint8_t *colon =
			nl ? memchr(nl, ':', (size_t)(end - nl)) : NULL;
		if (colon == NULL)
			break;
		struct hqx d = { .p = colon + 1, .end = end };
		int sb = 0;
		rc = hqx_stream(&d, a, fn, ctx, &sb, &stop);
		s.garbage += d.garbage;
		if (!d.closed) {
			/* trailing bytes: skip to the closing ':' */
			while (d.p < end && *d.p != ':')
				d.p++;
			if (d.p < end)
				d.p++;
			else
				s.truncated = 1;
		}
		if (d.short_read || d.bad_rle)
			s.truncated = 1;
		bad |= sb;
		p = d.p;
		if (rc < 0)
			break;
		files += rc;
	}
	if (st != NULL)
		*st = s;
	if (rc < 0)
		return rc;
	return bad && !stop ? -EINVAL : files;
}
