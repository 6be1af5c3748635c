/* scan/tnef.c - TNEF (winmail.dat) extractor (see decode.h).
 *
 * Stream: signature 0x223E9F78, 16-bit key, then attribute records
 *   level (1 message, 2 attachment), id (32 bits: type << 16 | tag),
 *   length (32 bits), data, checksum (16 bits: sum of the data bytes).
 * All little-endian. An attachment begins at attAttachRendData and owns
 * the records up to the next one: attAttachTitle (short name),
 * attAttachData (bytes) and attAttachment (MAPI properties: long file name
 * 0x3707, file name 0x3704, PR_ATTACH_DATA_BIN 0x3701, or 0x3701 as
 * PT_OBJECT holding an embedded message). Name: long name, else title,
 * else 0x3704, else "". Bytes: attAttachData, else PR_ATTACH_DATA_BIN.
 * UTF-16 names become UTF-8.
 *
 * An embedded message (PT_OBJECT whose data after the 16-byte IID is a
 * TNEF stream) is walked recursively, up to TNEF_MAX_DEPTH levels, and
 * its attachments are emitted under their own names. Not handled: embedded
 * messages stored any other way (e.g. as compound-file storage), RTF or
 * HTML bodies (attRtfCompressed, PR_RTF_COMPRESSED), message-level
 * properties, multi-valued file names (first value wins), OLE attachments'
 * presentation data (attAttachMetaFile).
 *
 * Every length is checked against the bytes that remain, so nothing is
 * read out of bounds and nothing is allocated beyond the input size (the
 * file bytes are copied into the arena).
 */
#include "scan/decode.h"

#include <errno.h>
#include <string.h>

#define TNEF_SIGNATURE 0x223E9F78u
#define TNEF_MAX_DEPTH 4

#define ATT_ATTACH_DATA      0x800F
#define ATT_ATTACH_TITLE     0x8010
#define ATT_ATTACH_REND_DATA 0x9002
#define ATT_ATTACHMENT       0x9005

#define PR_ATTACH_DATA       0x3701
#define PR_ATTACH_FILENAME   0x3704
#define PR_ATTACH_LONG_FILENAME 0x3707

#define PT_STRING8 0x001E
#define PT_UNICODE 0x001F
#define PT_BINARY  0x0102
#define PT_OBJECT  0x000D

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

struct tnef_str {
	const uint8_t *p;
	size_t n;
	int utf16;
};

struct tnef_att {
	int open;
	struct tnef_str title, lname, fname;
	const uint8_t *data;  /* attAttachData */
	size_t dlen;
	const uint8_t *bin;   /* PR_ATTACH_DATA_BIN */
	size_t blen;
};

struct tnef_ctx {
	struct scan_arena *a;
	scan_extract_fn fn;
	void *ctx;
	int files;
	int bad;   /* corrupt: report -EINVAL at the end */
	int err;   /* -ENOMEM */
	int stop;  /* callback said stop */
};

static int tnef_walk(struct tnef_ctx *c, const uint8_t *d, size_t n, int depth);

/* Name as NUL-terminated UTF-8 in the arena (trailing NULs dropped). */
static char *tnef_name(struct scan_arena *a, const struct tnef_str *s)
{
	if (s->p == NULL)
		return scan_arena_strndup(a, "", 0);
	if (!s->utf16) {
		size_t n = s->n;
		while (n > 0 && s->p[n - 1] == 0)
			n--;
		return scan_arena_strndup(a, (const char *)s->p, n);
	}
	size_t units = s->n / 2;
	char *out = scan_arena_alloc(a, units * 3 + 1);
	if (out == NULL)
		return NULL;
	size_t o = 0;
	for (size_t i = 0; i < units; i++) {
		uint32_t u = le16(s->p + 2 * i);
		if (u == 0)
			break;
		if (u >= 0xD800 && u < 0xDC00 && i + 1 < units) {
			uint32_t lo = le16(s->p + 2 * i + 2);
			if (lo >= 0xDC00 && lo < 0xE000) {
				u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
				i++;
			}
		}
		if (u >= 0xD800 && u < 0xE000)
			u = 0xFFFD; /* lone surrogate */
		if (u < 0x80) {
			out[o++] = (char)u;
		} else if (u < 0x800) {
			out[o++] = (char)(0xC0 | u >> 6);
			out[o++] = (char)(0x80 | (u & 0x3F));
		} else if (u < 0x10000) {
			out[o++] = (char)(0xE0 | u >> 12);
			out[o++] = (char)(0x80 | ((u >> 6) & 0x3F));
			out[o++] = (char)(0x80 | (u & 0x3F));
		} else { /* 2 units -> 4 bytes: within units * 3 */
			out[o++] = (char)(0xF0 | u >> 18);
			out[o++] = (char)(0x80 | ((u >> 12) & 0x3F));
			out[o++] = (char)(0x80 | ((u >> 6) & 0x3F));
			out[o++] = (char)(0x80 | (u & 0x3F));
		}
	}
	out[o] = '\0';
	return out;
}

/* Emit the open attachment, if it has bytes. */
static void tnef_flush(struct tnef_ctx *c, struct tnef_att *t)
{
	if (!t->open || c->err || c->stop)
		goto done;
	const uint8_t *src = t->data ? t->data : t->bin;
	size_t len = t->data ? t->dlen : t->blen;
	if (src == NULL)
		goto done;
	const struct tnef_str *nm = t->lname.p ? &t->lname
				    : t->title.p ? &t->title : &t->fname;
	char *name = tnef_name(c->a, nm);
	uint8_t *buf = scan_arena_alloc(c->a, len);
	if (name == NULL || buf == NULL) {
		c->err = -ENOMEM;
		goto done;
	}
	memcpy(buf, src, len);
	c->files++;
	if (c->fn(c->ctx, name, buf, len) != 0)
		c->stop = 1;
done:
	memset(t, 0, sizeof(*t));
}

/* Bytes of one fixed-size MAPI value, 0 for variable, -1 unknown. */
static int tnef_fixed_size(uint16_t type)
{
	switch (type) {
	case 0x0001: /* PT_NULL */
	case 0x0002: /* PT_SHORT, padded */
	case 0x0003: /* PT_LONG */
	case 0x0004: /* PT_FLOAT */
	case 0x000A: /* PT_ERROR */
	case 0x000B: /* PT_BOOLEAN, padded */
		return 4;
	case 0x0005: /* PT_DOUBLE */
	case 0x0006: /* PT_CURRENCY */
	case 0x0007: /* PT_APPTIME */
	case 0x0014: /* PT_I8 */
	case 0x0040: /* PT_SYSTIME */
		return 8;
	case 0x0048: /* PT_CLSID */
		return 16;
	case PT_STRING8:
	case PT_UNICODE:
	case PT_BINARY:
	case PT_OBJECT:
		return 0;
	default:
		return -1;
	}
}

static int tnef_need(size_t pos, size_t want, size_t n)
{
	return want <= n && pos <= n - want;
}

/* Parse attAttachment's MAPI property list into t (and walk embedded
 * TNEF messages). Marks the stream bad when the list is malformed. */
/* A counted value: 4-byte length, the bytes, padding to 4. Advances *p
 * past it and sets *len; 0 when it runs past the end. */
static int tnef_counted(const uint8_t *d, size_t n, size_t *p, size_t *len)
{
	if (!tnef_need(*p, 4, n))
		return 0;
	*len = le32(d + *p);
	*p += 4;
	size_t padded = *len + (-*len & 3);
	if (padded < *len || !tnef_need(*p, padded, n))
		return 0;
	*p += padded;
	return 1;
}

static void tnef_props(struct tnef_ctx *c, struct tnef_att *t,
		       const uint8_t *d, size_t n, int depth)
{
	size_t p = 0;
	if (!tnef_need(p, 4, n))
		goto bad;
	uint32_t count = le32(d);
	p = 4;
	for (uint32_t i = 0; i < count; i++) {
		if (!tnef_need(p, 4, n))
			goto bad;
		uint16_t type = le16(d + p), tag = le16(d + p + 2);
		p += 4;
		if (tag >= 0x8000) { /* named property: GUID, kind, id/name */
			if (!tnef_need(p, 20, n))
				goto bad;
			uint32_t kind = le32(d + p + 16);
			p += 20;
			if (kind == 0) {
				if (!tnef_need(p, 4, n))
					goto bad;
				p += 4;
			} else {
				size_t len;
				if (!tnef_counted(d, n, &p, &len))
					goto bad;
			}
		}
		int mv = (type & 0x1000) != 0;
		uint16_t base = type & 0x0FFF;
		int fixed = tnef_fixed_size(base);
		if (fixed < 0)
			goto bad;
		uint32_t nvals = 1;
		if (mv || fixed == 0) {
			if (!tnef_need(p, 4, n))
				goto bad;
			nvals = le32(d + p);
			p += 4;
		}
		for (uint32_t v = 0; v < nvals; v++) {
			if (fixed > 0) {
				if (!tnef_need(p, (size_t)fixed, n))
					goto bad;
				p += (size_t)fixed;
				continue;
			}
			size_t len, start = p;
			if (!tnef_counted(d, n, &p, &len))
				goto bad;
			const uint8_t *val = d + start + 4;
			if (v > 0)
				continue;
			struct tnef_str s = { val, len, base == PT_UNICODE };
			if (tag == PR_ATTACH_LONG_FILENAME &&
			    (base == PT_STRING8 || base == PT_UNICODE)) {
				t->lname = s;
			} else if (tag == PR_ATTACH_FILENAME &&
				   (base == PT_STRING8 || base == PT_UNICODE)) {
				t->fname = s;
			} else if (tag == PR_ATTACH_DATA && base == PT_BINARY) {
				t->bin = val;
				t->blen = len;
			} else if (tag == PR_ATTACH_DATA && base == PT_OBJECT &&
				   len >= 16) {
				/* IID, then the object: a nested TNEF
				 * message is walked, anything else kept */
				if (scan_tnef_detect(val + 16, len - 16)) {
					if (depth + 1 < TNEF_MAX_DEPTH)
						tnef_walk(c, val + 16, len - 16,
							  depth + 1);
				} else {
					t->bin = val + 16;
					t->blen = len - 16;
				}
			}
		}
	}
	return;
bad:
	c->bad = 1;
}

static int tnef_walk(struct tnef_ctx *c, const uint8_t *d, size_t n, int depth)
{
	struct tnef_att t;
	size_t p = 6;

	memset(&t, 0, sizeof(t));
	if (!scan_tnef_detect(d, n) || n < 6) {
		c->bad = 1;
		return 0;
	}
	while (p < n && !c->err && !c->stop) {
		if (!tnef_need(p, 9, n)) {
			c->bad = 1;
			break;
		}
		uint8_t level = d[p];
		uint32_t id = le32(d + p + 1);
		size_t len = le32(d + p + 5);
		p += 9;
		if (!tnef_need(p, len, n) || !tnef_need(p + len, 2, n)) {
			c->bad = 1; /* truncated: the record is dropped */
			break;
		}
		const uint8_t *v = d + p;
		uint32_t sum = 0;
		for (size_t i = 0; i < len; i++)
			sum += v[i];
		if ((uint16_t)sum != le16(v + len))
			c->bad = 1;
		p += len + 2;
		if (level != 1 && level != 2)
			c->bad = 1;
		if (level != 2)
			continue;
		switch (id & 0xFFFF) {
		case ATT_ATTACH_REND_DATA:
			tnef_flush(c, &t);
			t.open = 1;
			break;
		case ATT_ATTACH_TITLE:
			t.open = 1;
			t.title = (struct tnef_str){ v, len, 0 };
			break;
		case ATT_ATTACH_DATA:
			t.open = 1;
			t.data = v;
			t.dlen = len;
			break;
		case ATT_ATTACHMENT:
			t.open = 1;
			tnef_props(c, &t, v, len, depth);
			break;
		default:
			break;
		}
	}
	tnef_flush(c, &t);
	return 0;
}

int scan_tnef_detect(const uint8_t *data, size_t n)
{
	return n >= 4 && le32(data) == TNEF_SIGNATURE;
}

int scan_tnef_extract(const uint8_t *data, size_t n, struct scan_arena *a,
		      scan_extract_fn fn, void *ctx)
{
	struct tnef_ctx c = { .a = a, .fn = fn, .ctx = ctx };
	tnef_walk(&c, data, n, 0);
	if (c.err)
		return c.err;
	if (c.bad && !c.stop)
		return -EINVAL;
	return c.files;
}
