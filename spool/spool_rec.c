/*
 * spool/spool_rec.c - record encode/parse and queue ids (see spool_rec.h).
 */
#define OPENSSL_SUPPRESS_DEPRECATED 1 /* SHA256_Init: no allocation */

#include "spool/spool_rec.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>
#include <zstd.h>

#include "spool/crc32c.h"

/* ---- queue ids ----------------------------------------------------------- */

static const char b32[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

static int b32_val(char c)
{
	const char *p = c ? strchr(b32, c) : NULL;
	return p ? (int)(p - b32) : -1;
}

void spool_qid_gen_init(struct spool_qid_gen *g, unsigned id,
			const char *floor)
{
	g->id = (uint8_t)id;
	g->counter = 0;
	g->last_ms = 0;
	if (floor != NULL && spool_qid_check(floor) == 0)
		g->last_ms = spool_qid_ms(floor) + 1;
}

void spool_qid_next(struct spool_qid_gen *g, uint64_t now_ms,
		    char out[SPOOL_QID_LEN + 1])
{
	now_ms &= (1ull << 44) - 1;
	if (now_ms > g->last_ms) {
		g->last_ms = now_ms;
		g->counter = 0;
	} else if (g->counter >= (1u << 28)) {
		g->last_ms++; /* borrow from the future; rare */
		g->counter = 0;
	}
	/* 80 bits: hi = 44 bits ms << 8 | id (52 bits), lo = 28-bit counter. */
	uint64_t hi = g->last_ms << 8 | g->id;
	uint64_t lo = g->counter++;
	/* 16 digits of 5 bits, most significant first: bits 79..0. */
	for (int i = 15; i >= 0; i--) {
		unsigned bit = (unsigned)(15 - i) * 5; /* of this digit's lsb */
		unsigned v;
		if (bit >= 28)
			v = (unsigned)(hi >> (bit - 28)) & 31;
		else if (bit + 5 <= 28)
			v = (unsigned)(lo >> bit) & 31;
		else
			v = (unsigned)((lo >> bit) | (hi << (28 - bit))) & 31;
		out[i] = b32[v];
	}
	out[SPOOL_QID_LEN] = '\0';
}

int spool_qid_check(const char *s)
{
	if (s == NULL)
		return -EINVAL;
	for (int i = 0; i < SPOOL_QID_LEN; i++)
		if (b32_val(s[i]) < 0)
			return -EINVAL;
	return s[SPOOL_QID_LEN] == '\0' ? 0 : -EINVAL;
}

uint64_t spool_qid_ms(const char *qid)
{
	/* The first 52 bits (digits 0..10 carry 55 bits: 52 + 3 of counter
	 * would be wrong; take 80-bit value >> 36). */
	uint64_t hi = 0;
	for (int i = 0; i < 11; i++)
		hi = hi << 5 | (uint64_t)b32_val(qid[i]);
	/* 11 digits = bits 79..25; ms is bits 79..36. */
	return hi >> 11;
}

void spool_hex32(const uint8_t d[32], char out[65])
{
	static const char hx[] = "0123456789abcdef";
	for (int i = 0; i < 32; i++) {
		out[2 * i] = hx[d[i] >> 4];
		out[2 * i + 1] = hx[d[i] & 15];
	}
	out[64] = '\0';
}

/* ---- encoding ----------------------------------------------------------- */

struct spool_enc {
	ZSTD_CCtx *cctx;
	int level;
	size_t above;
};

struct spool_enc *spool_enc_create(int level, size_t compress_above)
{
	struct spool_enc *e = calloc(1, sizeof(*e));
	if (e == NULL)
		return NULL;
	e->level = level;
	e->above = compress_above;
	if (level > 0 && (e->cctx = ZSTD_createCCtx()) == NULL) {
		free(e);
		return NULL;
	}
	return e;
}

void spool_enc_free(struct spool_enc *e)
{
	if (e == NULL)
		return;
	ZSTD_freeCCtx(e->cctx);
	free(e);
}

struct wbuf {
	uint8_t *p;
	size_t len, cap;
	int err;
};

static void put(struct wbuf *w, const void *d, size_t n)
{
	if (w->err)
		return;
	if (w->cap - w->len < n) {
		w->err = -ENOSPC;
		return;
	}
	if (n > 0)
		memcpy(w->p + w->len, d, n);
	w->len += n;
}

static void put_u8(struct wbuf *w, unsigned v)
{
	uint8_t b = (uint8_t)v;
	put(w, &b, 1);
}

static void put_u16(struct wbuf *w, unsigned v)
{
	uint8_t b[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
	put(w, b, 2);
}

static void put_u32(struct wbuf *w, uint32_t v)
{
	uint8_t b[4];
	for (int i = 0; i < 4; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	put(w, b, 4);
}

static void put_u64(struct wbuf *w, uint64_t v)
{
	uint8_t b[8];
	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	put(w, b, 8);
}

static void put_str(struct wbuf *w, const char *s)
{
	size_t n;
	if (s == NULL)
		s = "";
	n = strlen(s);
	if (n > SPOOL_STR_MAX) {
		if (!w->err)
			w->err = -EINVAL;
		return;
	}
	put_u16(w, (unsigned)n);
	put(w, s, n + 1);
}

static void le32_at(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* Framing + qid; the caller fills the body and calls finish(). */
static void start(struct wbuf *w, unsigned type, const char *qid)
{
	put_u32(w, SPOOL_REC_MAGIC);
	put_u32(w, 0); /* crc */
	put_u16(w, SPOOL_REC_VERSION);
	put_u16(w, type);
	put_u32(w, 0); /* len */
	put(w, qid, SPOOL_QID_LEN);
}

static int finish(struct wbuf *w, size_t *len)
{
	if (w->err)
		return w->err;
	if (w->len > SPOOL_REC_MAX)
		return -EFBIG;
	le32_at(w->p + 12, (uint32_t)w->len);
	le32_at(w->p + 4, spool_crc32c(0, w->p + 8, w->len - 8));
	*len = w->len;
	return 0;
}

static size_t str_size(const char *s)
{
	return 3 + (s ? strlen(s) : 0);
}

size_t spool_rec_bound(const struct spool_msg *m)
{
	size_t n = SPOOL_REC_MIN + 4 + 16 + 8 + 3 + 12;
	const char *const strs[] = {m->client, m->helo, m->mail_from,
				    m->envid, m->verdict, m->action,
				    m->area, m->route, m->policy,
				    m->reason};
	if (m->nrcpts > SPOOL_LIST_MAX || m->nfindings > SPOOL_LIST_MAX ||
	    m->nactions > SPOOL_LIST_MAX || m->data_len > SPOOL_REC_MAX)
		return SIZE_MAX;
	for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
		n += str_size(strs[i]);
	for (unsigned i = 0; i < m->nrcpts; i++)
		n += str_size(m->rcpts[i].addr) + 1 +
		     str_size(m->rcpts[i].orcpt);
	for (unsigned i = 0; i < m->nfindings; i++)
		n += str_size(m->findings[i]);
	for (unsigned i = 0; i < m->nactions; i++)
		n += str_size(m->actions[i]);
	n += 8 + 32 + 8 + m->data_len;
	return n > SPOOL_REC_MAX ? SIZE_MAX : n;
}

int spool_enc_message(struct spool_enc *e, const struct spool_msg *m,
		      uint8_t *buf, size_t cap, size_t *len)
{
	struct wbuf w = {.p = buf, .cap = cap};
	uint8_t digest[32];
	SHA256_CTX sc;

	if (spool_qid_check(m->qid) != 0 || m->nrcpts > SPOOL_LIST_MAX ||
	    m->nfindings > SPOOL_LIST_MAX || m->nactions > SPOOL_LIST_MAX ||
	    (m->data == NULL && m->data_len > 0))
		return -EINVAL;
	if (m->data_len > SPOOL_REC_MAX)
		return -EFBIG;
	start(&w, SPOOL_REC_MESSAGE, m->qid);
	size_t flags_at = w.len;
	put_u32(&w, 0);
	put_u64(&w, m->received_us);
	put_u64(&w, m->spooled_us);
	put_str(&w, m->client);
	put_str(&w, m->helo);
	put_str(&w, m->mail_from);
	put_u64(&w, m->size_param);
	put_u8(&w, m->body);
	put_u8(&w, m->smtputf8);
	put_u8(&w, m->ret);
	put_str(&w, m->envid);
	put_u32(&w, m->nrcpts);
	for (unsigned i = 0; i < m->nrcpts; i++) {
		put_str(&w, m->rcpts[i].addr);
		put_u8(&w, m->rcpts[i].notify);
		put_str(&w, m->rcpts[i].orcpt);
	}
	put_str(&w, m->verdict);
	put_str(&w, m->action);
	put_str(&w, m->area);
	put_str(&w, m->route);
	put_str(&w, m->policy);
	put_str(&w, m->reason);
	put_u32(&w, m->nfindings);
	for (unsigned i = 0; i < m->nfindings; i++)
		put_str(&w, m->findings[i]);
	put_u32(&w, m->nactions);
	for (unsigned i = 0; i < m->nactions; i++)
		put_str(&w, m->actions[i]);
	SHA256_Init(&sc);
	SHA256_Update(&sc, m->data ? (const void *)m->data : "", m->data_len);
	SHA256_Final(digest, &sc);
	put_u64(&w, m->data_len);
	put(&w, digest, 32);
	if (w.err)
		return w.err;
	/* Stored bytes: try zstd straight into the buffer; keep it only if
	 * it is smaller than the original. */
	size_t slen_at = w.len;
	put_u64(&w, 0);
	if (w.err)
		return w.err;
	size_t room = w.cap - w.len;
	size_t stored = 0;
	uint32_t flags = 0;
	if (e != NULL && e->cctx != NULL && m->data_len > e->above &&
	    m->data_len > 1) {
		size_t lim = room < m->data_len - 1 ? room : m->data_len - 1;
		size_t r = ZSTD_compressCCtx(e->cctx, w.p + w.len, lim,
					     m->data, m->data_len, e->level);
		if (!ZSTD_isError(r)) {
			stored = r;
			flags |= SPOOL_F_ZSTD;
			w.len += r;
		}
	}
	if (!(flags & SPOOL_F_ZSTD)) {
		put(&w, m->data, m->data_len);
		stored = m->data_len;
	}
	if (w.err)
		return w.err;
	uint8_t *sp = w.p + slen_at;
	for (int i = 0; i < 8; i++)
		sp[i] = (uint8_t)((uint64_t)stored >> (8 * i));
	le32_at(w.p + flags_at, flags);
	return finish(&w, len);
}

int spool_rec_encode_done(const char *qid, uint64_t done_us,
			  const char *reason, uint8_t *buf, size_t cap,
			  size_t *len)
{
	struct wbuf w = {.p = buf, .cap = cap};
	if (spool_qid_check(qid) != 0)
		return -EINVAL;
	start(&w, SPOOL_REC_DONE, qid);
	put_u64(&w, done_us);
	put_str(&w, reason);
	return finish(&w, len);
}

/* ---- parsing ------------------------------------------------------------ */

struct rbuf {
	const uint8_t *p;
	size_t off, len;
	const char *bad; /* first problem */
};

int spool_errf(char *err, size_t errsz, int rc, const char *fmt, ...)
{
	if (err != NULL && errsz > 0) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errsz, fmt, ap);
		va_end(ap);
	}
	return rc;
}

static const uint8_t *take(struct rbuf *r, size_t n, const char *what)
{
	if (r->bad)
		return NULL;
	if (r->len - r->off < n) {
		r->bad = what;
		return NULL;
	}
	const uint8_t *q = r->p + r->off;
	r->off += n;
	return q;
}

static uint64_t get_le(struct rbuf *r, size_t n, const char *what)
{
	const uint8_t *q = take(r, n, what);
	uint64_t v = 0;
	if (q == NULL)
		return 0;
	for (size_t i = n; i-- > 0;)
		v = v << 8 | q[i];
	return v;
}

static const char *get_str(struct rbuf *r, const char *what)
{
	size_t n = (size_t)get_le(r, 2, what);
	const uint8_t *q = take(r, n + 1, what);
	if (q == NULL)
		return "";
	if (q[n] != '\0' || memchr(q, '\0', n) != NULL) {
		r->bad = what;
		return "";
	}
	return (const char *)q;
}

int spool_rec_frame(const uint8_t *p, size_t avail, unsigned *type,
		    unsigned *version, uint32_t *len)
{
	if (avail < SPOOL_REC_HDR)
		return -EINVAL;
	uint32_t magic = (uint32_t)p[0] | (uint32_t)p[1] << 8 |
			 (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
	uint32_t l = (uint32_t)p[12] | (uint32_t)p[13] << 8 |
		     (uint32_t)p[14] << 16 | (uint32_t)p[15] << 24;
	if (magic != SPOOL_REC_MAGIC || l < SPOOL_REC_MIN || l > SPOOL_REC_MAX)
		return -EINVAL;
	*version = (unsigned)p[8] | (unsigned)p[9] << 8;
	*type = (unsigned)p[10] | (unsigned)p[11] << 8;
	*len = l;
	return 0;
}

void spool_rec_clear(struct spool_rec *r)
{
	if (r == NULL)
		return;
	free(r->alloc_[0]);
	free(r->alloc_[1]);
	memset(r, 0, sizeof(*r));
}

/* Count-prefixed list: check the count against the bytes left (each item
 * takes at least min_item bytes) before allocating. */
static uint32_t get_count(struct rbuf *r, size_t min_item, const char *what)
{
	uint32_t n = (uint32_t)get_le(r, 4, what);
	if (r->bad)
		return 0;
	if (n > SPOOL_LIST_MAX || (uint64_t)n * min_item > r->len - r->off) {
		r->bad = what;
		return 0;
	}
	return n;
}

static int parse_message(struct rbuf *r, struct spool_rec *out, char *err,
			 size_t errsz)
{
	struct spool_msg *m = &out->msg;
	m->flags = (uint32_t)get_le(r, 4, "flags");
	m->received_us = get_le(r, 8, "received time");
	m->spooled_us = get_le(r, 8, "spooled time");
	m->client = get_str(r, "client address");
	m->helo = get_str(r, "HELO");
	m->mail_from = get_str(r, "MAIL FROM");
	m->size_param = get_le(r, 8, "SIZE");
	unsigned body = (unsigned)get_le(r, 1, "BODY");
	m->smtputf8 = get_le(r, 1, "SMTPUTF8") != 0;
	unsigned ret = (unsigned)get_le(r, 1, "RET");
	m->envid = get_str(r, "ENVID");
	if (!r->bad && (body > SPOOL_BODY_BINARYMIME || ret > SPOOL_RET_HDRS))
		r->bad = "BODY or RET value";
	m->body = (enum spool_body_type)body;
	m->ret = (enum spool_ret)ret;
	uint32_t nr = get_count(r, 7, "recipient count");
	if (r->bad)
		goto bad;
	/* One allocation for the recipients; findings and actions are
	 * counted against the bytes left too, so this stays bounded by the
	 * record size. */
	struct spool_rcpt *rc = NULL;
	if (nr > 0) {
		rc = calloc(nr, sizeof(*rc));
		if (rc == NULL)
			return spool_errf(err, errsz, -ENOMEM, "out of memory");
	}
	out->alloc_[0] = rc;
	for (uint32_t i = 0; i < nr; i++) {
		rc[i].addr = get_str(r, "recipient");
		rc[i].notify = (unsigned)get_le(r, 1, "NOTIFY");
		rc[i].orcpt = get_str(r, "ORCPT");
		if (!r->bad && rc[i].notify > 15)
			r->bad = "NOTIFY value";
	}
	m->rcpts = rc;
	m->nrcpts = nr;
	m->verdict = get_str(r, "verdict");
	m->action = get_str(r, "action");
	m->area = get_str(r, "area");
	m->route = get_str(r, "route");
	m->policy = get_str(r, "policy");
	m->reason = get_str(r, "reason");
	uint32_t nf = get_count(r, 3, "finding count");
	size_t fpos = r->off;
	for (uint32_t i = 0; i < nf; i++)
		(void)get_str(r, "finding");
	uint32_t na = get_count(r, 3, "action count");
	size_t apos = r->off;
	for (uint32_t i = 0; i < na; i++)
		(void)get_str(r, "action line");
	if (r->bad)
		goto bad;
	if (nf + na > 0) {
		/* Re-walk into one array of pointers. */
		const char **lines = calloc(nf + na, sizeof(*lines));
		if (lines == NULL)
			return spool_errf(err, errsz, -ENOMEM, "out of memory");
		out->alloc_[1] = lines;
		struct rbuf w2 = {.p = r->p, .len = r->len, .off = fpos};
		for (uint32_t i = 0; i < nf; i++)
			lines[i] = get_str(&w2, "finding");
		w2.off = apos;
		for (uint32_t i = 0; i < na; i++)
			lines[nf + i] = get_str(&w2, "action line");
		m->findings = lines;
		m->nfindings = nf;
		m->actions = lines + nf;
		m->nactions = na;
	}
	m->data_len = (size_t)get_le(r, 8, "original length");
	const uint8_t *d = take(r, 32, "SHA-256");
	if (d != NULL)
		memcpy(m->sha256, d, 32);
	uint64_t slen = get_le(r, 8, "stored length");
	if (!r->bad && slen > r->len - r->off)
		r->bad = "stored length";
	m->stored = take(r, (size_t)slen, "message bytes");
	m->stored_len = (size_t)slen;
	if (r->bad)
		goto bad;
	if (m->flags & ~SPOOL_F_ZSTD)
		return spool_errf(err, errsz, -EINVAL, "unknown flags 0x%x",
			    m->flags);
	if (m->data_len > SPOOL_REC_MAX)
		return spool_errf(err, errsz, -EINVAL, "original length %zu too "
			    "large", m->data_len);
	if (m->flags & SPOOL_F_ZSTD)
		m->data = NULL;
	else if (m->stored_len != m->data_len)
		return spool_errf(err, errsz, -EINVAL, "plain message stored with "
			    "%zu bytes, original length %zu", m->stored_len,
			    m->data_len);
	else
		m->data = m->stored;
	return 0;
bad:
	return spool_errf(err, errsz, -EINVAL, "record ends inside or holds a bad "
		    "%s (offset %zu of %zu)", r->bad, r->off, r->len);
}

int spool_rec_parse(const uint8_t *p, size_t len, struct spool_rec *out,
		    char *err, size_t errsz)
{
	unsigned type, version;
	uint32_t flen;
	int rc;

	memset(out, 0, sizeof(*out));
	if (spool_rec_frame(p, len, &type, &version, &flen) != 0)
		return spool_errf(err, errsz, -EBADMSG, "not a spool record (bad "
			    "magic or length)");
	if (flen != len)
		return spool_errf(err, errsz, -EBADMSG, "record length %u, %zu bytes "
			    "given", flen, len);
	uint32_t crc = (uint32_t)p[4] | (uint32_t)p[5] << 8 |
		       (uint32_t)p[6] << 16 | (uint32_t)p[7] << 24;
	uint32_t want = spool_crc32c(0, p + 8, len - 8);
	if (crc != want)
		return spool_errf(err, errsz, -EBADMSG, "CRC mismatch (stored %08x, "
			    "computed %08x)", crc, want);
	if (version != SPOOL_REC_VERSION)
		return spool_errf(err, errsz, -EPROTONOSUPPORT, "record version %u; "
			    "this build reads version %d only: use a newer "
			    "sluice-spool", version, SPOOL_REC_VERSION);
	out->version = version;
	out->len = len;
	struct rbuf r = {.p = p, .len = len, .off = SPOOL_REC_HDR};
	const uint8_t *q = take(&r, SPOOL_QID_LEN, "queue id");
	memcpy(out->msg.qid, q, SPOOL_QID_LEN);
	out->msg.qid[SPOOL_QID_LEN] = '\0';
	if (spool_qid_check(out->msg.qid) != 0) {
		out->msg.qid[0] = '\0';
		return spool_errf(err, errsz, -EINVAL, "bad queue id");
	}
	switch (type) {
	case SPOOL_REC_MESSAGE:
		out->type = SPOOL_REC_MESSAGE;
		rc = parse_message(&r, out, err, errsz);
		break;
	case SPOOL_REC_DONE:
		out->type = SPOOL_REC_DONE;
		out->done_us = get_le(&r, 8, "done time");
		out->done_reason = get_str(&r, "done reason");
		rc = r.bad ? spool_errf(err, errsz, -EINVAL, "done record: bad %s",
				  r.bad)
			   : 0;
		break;
	default:
		return spool_errf(err, errsz, -EINVAL, "unknown record type %u",
			    type);
	}
	if (rc == 0 && r.off != len)
		rc = spool_errf(err, errsz, -EINVAL, "%zu bytes after the end of the "
			  "record", len - r.off);
	if (rc != 0) {
		spool_rec_clear(out);
		return rc;
	}
	return 0;
}

int spool_msg_body(const struct spool_msg *m, const uint8_t **out,
		   void **owned, char *err, size_t errsz)
{
	uint8_t digest[32];
	SHA256_CTX sc;
	uint8_t *buf = NULL;

	*owned = NULL;
	*out = NULL;
	if (m->flags & SPOOL_F_ZSTD) {
		unsigned long long cl = ZSTD_getFrameContentSize(m->stored,
								 m->stored_len);
		if (cl != m->data_len)
			return spool_errf(err, errsz, -EBADMSG, "compressed frame "
				    "declares %llu bytes, record %zu", cl,
				    m->data_len);
		buf = malloc(m->data_len ? m->data_len : 1);
		if (buf == NULL)
			return spool_errf(err, errsz, -ENOMEM, "out of memory");
		size_t r = ZSTD_decompress(buf, m->data_len, m->stored,
					   m->stored_len);
		if (ZSTD_isError(r) || r != m->data_len) {
			free(buf);
			return spool_errf(err, errsz, -EBADMSG, "decompression "
				    "failed: %s", ZSTD_isError(r) ?
				    ZSTD_getErrorName(r) : "short");
		}
	}
	const uint8_t *d = buf ? buf : m->data;
	SHA256_Init(&sc);
	SHA256_Update(&sc, d ? (const void *)d : "", m->data_len);
	SHA256_Final(digest, &sc);
	if (memcmp(digest, m->sha256, 32) != 0) {
		free(buf);
		return spool_errf(err, errsz, -EBADMSG, "SHA-256 of the message "
			    "bytes does not match the record");
	}
	*out = d;
	*owned = buf;
	return 0;
}
