/*
 * smtp/body.c - message storage and the DATA/BDAT content decoder.
 *
 * Storage: fixed-size chunks from a per-lcore pool (a free list under a
 * byte cap), never realloc-doubling. A transaction's envelope lives in an
 * arena of chunks whose first chunk also holds the struct smtp_txn, so a
 * message handed up is one self-contained object.
 *
 * Decoder: a byte state machine over the wire stream that stores the
 * message with CRLF line ends. End of DATA is "." alone on a line whose
 * preceding line end and own line end are both real CRLFs: bare LF or CR
 * never end a message (SMTP smuggling: "\n.\n", "\r.\r", "\n.\r\n",
 * "\r\n.\n" ...). Runs between line ends are copied in bulk.
 */
#include "smtp/smtp_int.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- Pool ----------------------------------------------------------------- */

struct smtp_pool {
	struct smtp_chunk *free;
	uint64_t max_chunks, in_use, cached;
};

struct smtp_pool *smtp_pool_create(uint64_t max_bytes)
{
	struct smtp_pool *p = calloc(1, sizeof *p);
	if (p == NULL)
		return NULL;
	p->max_chunks = max_bytes / SMTP_CHUNK_SIZE;
	return p;
}

void smtp_pool_free(struct smtp_pool *p)
{
	if (p == NULL)
		return;
	assert(p->in_use == 0);
	while (p->free != NULL) {
		struct smtp_chunk *c = p->free;
		p->free = (struct smtp_chunk *)c->seg.next;
		free(c);
	}
	free(p);
}

uint64_t smtp_pool_in_use(const struct smtp_pool *p)
{
	return p->in_use * SMTP_CHUNK_SIZE;
}

struct smtp_chunk *smtp_chunk_get(struct smtp_pool *p)
{
	struct smtp_chunk *c = p->free;
	if (c != NULL) {
		p->free = (struct smtp_chunk *)c->seg.next;
		p->cached--;
	} else {
		if (p->in_use + p->cached >= p->max_chunks)
			return NULL;
		c = malloc(sizeof *c);
		if (c == NULL)
			return NULL;
	}
	p->in_use++;
	c->pool = p;
	c->seg.next = NULL;
	c->seg.data = c->buf;
	c->seg.len = 0;
	return c;
}

void smtp_chunk_put(struct smtp_chunk *c)
{
	struct smtp_pool *p = c->pool;
	assert(p->in_use > 0);
	p->in_use--;
	p->cached++;
	c->seg.next = p->free != NULL ? &p->free->seg : NULL;
	p->free = c;
}

static void put_list(struct smtp_chunk *c)
{
	while (c != NULL) {
		struct smtp_chunk *next = (struct smtp_chunk *)c->seg.next;
		smtp_chunk_put(c);
		c = next;
	}
}

/* ---- Transactions ----------------------------------------------------------- */

#define ALIGN8(n) (((n) + 7) & ~(size_t)7)

struct smtp_txn *smtp_txn_new(struct smtp_pool *p)
{
	struct smtp_chunk *c = smtp_chunk_get(p);
	if (c == NULL)
		return NULL;
	struct smtp_txn *t = (struct smtp_txn *)(void *)c->buf;
	memset(t, 0, sizeof *t);
	t->pool = p;
	t->arena = c;
	t->arena_off = ALIGN8(sizeof *t);
	return t;
}

void smtp_txn_free(struct smtp_txn *t)
{
	if (t == NULL)
		return;
	put_list(t->body_head);
	/* The txn lives in the last arena chunk (the oldest): free it last. */
	put_list(t->arena);
}

void *smtp_txn_alloc(struct smtp_txn *t, size_t n)
{
	n = ALIGN8(n);
	assert(n <= SMTP_CHUNK_SIZE / 2);
	if (t->arena_off + n > SMTP_CHUNK_SIZE) {
		struct smtp_chunk *c = smtp_chunk_get(t->pool);
		if (c == NULL)
			return NULL;
		c->seg.next = &t->arena->seg;
		t->arena = c;
		t->arena_off = 0;
	}
	void *r = t->arena->buf + t->arena_off;
	t->arena_off += n;
	return r;
}

char *smtp_txn_strdup(struct smtp_txn *t, const char *s, size_t n)
{
	char *d = smtp_txn_alloc(t, n + 1);
	if (d == NULL)
		return NULL;
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

int smtp_txn_append(struct smtp_txn *t, const void *src, size_t n)
{
	const unsigned char *p = src;
	while (n > 0) {
		struct smtp_chunk *c = t->body_tail;
		if (c == NULL || c->seg.len == SMTP_CHUNK_SIZE) {
			struct smtp_chunk *nc = smtp_chunk_get(t->pool);
			if (nc == NULL)
				return -ENOMEM;
			if (c == NULL)
				t->body_head = nc;
			else
				c->seg.next = &nc->seg;
			t->body_tail = c = nc;
		}
		size_t k = SMTP_CHUNK_SIZE - c->seg.len;
		if (k > n)
			k = n;
		memcpy(c->buf + c->seg.len, p, k);
		c->seg.len += k;
		t->body_size += k;
		p += k;
		n -= k;
	}
	return 0;
}

void smtp_txn_drop_body(struct smtp_txn *t)
{
	put_list(t->body_head);
	t->body_head = t->body_tail = NULL;
	t->body_size = 0;
}

void smtp_message_free(const struct smtp_message *msg)
{
	/* msg is the first member of its txn */
	smtp_txn_free((struct smtp_txn *)(uintptr_t)msg);
}

uint64_t smtp_message_copy(const struct smtp_message *msg, void *buf,
			   uint64_t size)
{
	unsigned char *o = buf;
	uint64_t done = 0;
	for (const struct smtp_seg *s = msg->data; s != NULL && done < size;
	     s = s->next) {
		uint64_t k = s->len < size - done ? s->len : size - done;
		memcpy(o + done, s->data, (size_t)k);
		done += k;
	}
	return msg->size;
}

/* ---- Received: header (RFC 5321 4.4) ------------------------------------------ */

int smtp_txn_finish(struct smtp_txn *t, const struct smtp_config *cfg,
		    const char *queue_id, int64_t wall, bool tls)
{
	static const char *const wd[] = {"Sun", "Mon", "Tue", "Wed", "Thu",
		"Fri", "Sat"};
	static const char *const mo[] = {"Jan", "Feb", "Mar", "Apr", "May",
		"Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	const struct smtp_envelope *e = &t->msg.env;
	time_t tt = (time_t)wall;
	struct tm tm;
	char date[64];
	char with[16];

	gmtime_r(&tt, &tm);
	snprintf(date, sizeof date, "%s, %d %s %04d %02d:%02d:%02d +0000",
		 wd[tm.tm_wday % 7], tm.tm_mday, mo[tm.tm_mon % 12],
		 tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
	/* RFC 3848 / RFC 6531 protocol names */
	snprintf(with, sizeof with, "%s%s%s", e->smtputf8 ? "UTF8SMTP" :
		 e->esmtp ? "ESMTP" : "SMTP", tls ? "S" : "", "");

	/* Worst case: helo 255, addr 15, host 255, id 64, rcpt 256+, date */
	size_t cap = 1200 + strlen(e->rcpt->addr);
	char *h = smtp_txn_alloc(t, cap);
	if (h == NULL)
		return -ENOMEM;
	int n;
	if (e->nrcpt == 1)
		n = snprintf(h, cap, "Received: from %s ([%s])\r\n\tby %s "
			     "with %s id %s\r\n\tfor <%s>; %s\r\n", e->helo,
			     e->client_addr, cfg->hostname, with, queue_id,
			     e->rcpt->addr, date);
	else
		n = snprintf(h, cap, "Received: from %s ([%s])\r\n\tby %s "
			     "with %s id %s;\r\n\t%s\r\n", e->helo,
			     e->client_addr, cfg->hostname, with, queue_id,
			     date);
	assert(n > 0 && (size_t)n < cap);
	t->received.data = (const unsigned char *)h;
	t->received.len = (size_t)n;
	t->received.next = t->body_head ? &t->body_head->seg : NULL;
	t->msg.data = &t->received;
	t->msg.size = (uint64_t)n + t->body_size;
	t->msg.received_len = (size_t)n;
	t->msg.queue_id = smtp_txn_strdup(t, queue_id, strlen(queue_id));
	return t->msg.queue_id ? 0 : -ENOMEM;
}

/* ---- Content decoder ---------------------------------------------------------- */

void smtp_body_begin(struct smtp_body *b, const struct smtp_config *cfg,
		     struct smtp_txn *txn, bool dot)
{
	memset(b, 0, sizeof *b);
	b->cfg = cfg;
	b->txn = txn;
	b->dot = dot;
	b->st = SB_BOL;
	b->bol_real = true;   /* the DATA line ended with a real CRLF */
	b->in_header = true;
	b->hdr_bol = true;
}

static bool storing(const struct smtp_body *b)
{
	return b->txn != NULL && b->flags == 0;
}

static void fail(struct smtp_body *b, unsigned flag)
{
	b->flags |= flag;
	if (b->txn != NULL)
		smtp_txn_drop_body(b->txn);  /* release memory now */
}

/* Count Received: fields in the header section of the stored stream. */
static void track_header(struct smtp_body *b, const unsigned char *p,
			 size_t n)
{
	static const char rcv[] = "received:";
	for (size_t i = 0; i < n && b->in_header; i++) {
		unsigned char c = p[i];
		if (b->hdr_bol) {
			b->hdr_bol = false;
			if (c == '\r') {  /* the empty line */
				b->in_header = false;
				break;
			}
			b->hdr_match = 0;
		}
		if (c == '\n') {
			b->hdr_bol = true;
			continue;
		}
		if (b->hdr_match >= 0) {
			if (tolower(c) == rcv[b->hdr_match]) {
				if (++b->hdr_match == (int)sizeof rcv - 1) {
					b->hdr_match = -1;
					if (++b->received >
					    b->cfg->max_received)
						fail(b, SMTP_BODY_LOOP);
				}
			} else {
				b->hdr_match = -1;
			}
		}
	}
}

static void out(struct smtp_body *b, const void *p, size_t n)
{
	if (b->in_header)
		track_header(b, p, n);
	if (!storing(b))
		return;
	if (b->txn->body_size + n > b->cfg->max_message_size) {
		fail(b, SMTP_BODY_TOOBIG);
		return;
	}
	if (smtp_txn_append(b->txn, p, n) != 0)
		fail(b, SMTP_BODY_NOMEM);
}

static void line_end(struct smtp_body *b, bool real)
{
	out(b, "\r\n", 2);
	if (b->linelen > b->cfg->text_line_max && !(b->flags &
						     SMTP_BODY_LONGLINE))
		fail(b, SMTP_BODY_LONGLINE);
	b->linelen = 0;
	b->bol_real = real;
	b->st = SB_BOL;
}

/* A bare LF or CR: a line end for framing purposes (never an end of
 * data), and a failure under the reject policy. */
static void bare(struct smtp_body *b)
{
	if (b->cfg->bare_lf == SMTP_BARE_LF_REJECT && !(b->flags &
							 SMTP_BODY_BARE))
		fail(b, SMTP_BODY_BARE);
	b->linelen += 1;
	line_end(b, false);
}

/* The fast path, at the start of a line after the header section: the
 * longest run of whole lines that the state machine would store exactly
 * as they came (each ends in CRLF, holds no other CR or LF, fits
 * text_line_max, and under DATA framing does not start with a dot, which
 * needs the slow path). Returns its length; 0
 * when the first line does not qualify. One append per run instead of two
 * per line: the body of a message is mostly such lines. */
static size_t plain_lines(const struct smtp_body *b, const unsigned char *p,
			  size_t n)
{
	size_t run = 0;
	while (run < n) {
		const unsigned char *line = p + run;
		if (b->dot && line[0] == '.')
			break;
		const unsigned char *lf = memchr(line, '\n', n - run);
		if (lf == NULL || lf == line || lf[-1] != '\r')
			break;
		size_t len = (size_t)(lf - line) + 1;  /* with CRLF */
		if (len > b->cfg->text_line_max ||
		    memchr(line, '\r', len - 2) != NULL)
			break;
		run += len;
	}
	return run;
}

size_t smtp_body_feed(struct smtp_body *b, const unsigned char *p, size_t n,
		      bool *done)
{
	size_t i = 0;
	*done = false;
	while (i < n) {
		unsigned char c = p[i];
		switch (b->st) {
		case SB_BOL:
			if (!b->in_header && b->linelen == 0) {
				size_t run = plain_lines(b, p + i, n - i);
				if (run > 0) {
					out(b, p + i, run);
					b->bol_real = true;
					i += run;
					break;
				}
			}
			if (b->dot && c == '.') {
				b->st = SB_DOT;
				b->linelen = 1;
				i++;
				break;
			}
			b->st = SB_MID;
			/* fall through */
		case SB_MID: {
			size_t j = i;
			while (j < n && p[j] != '\r' && p[j] != '\n')
				j++;
			if (j > i) {
				out(b, p + i, j - i);
				b->linelen += j - i;
				i = j;
				if (b->linelen + 2 > b->cfg->text_line_max &&
				    !(b->flags & SMTP_BODY_LONGLINE))
					fail(b, SMTP_BODY_LONGLINE);
			}
			if (i == n)
				break;
			if (p[i] == '\r') {
				b->st = SB_CR;
			} else {
				bare(b);   /* LF without CR */
			}
			i++;
			break;
		}
		case SB_CR:
			if (c == '\n') {
				b->linelen += 2;
				line_end(b, true);
				i++;
			} else {
				bare(b);   /* CR without LF; c starts a line */
			}
			break;
		case SB_DOT:
			if (c == '\r') {
				b->st = SB_DOTCR;
				i++;
			} else if (c == '\n') {
				bare(b);   /* ".\n": an empty line, not the end */
				i++;
			} else {
				b->st = SB_MID;  /* unstuff: drop the dot */
			}
			break;
		case SB_DOTCR:
			if (c == '\n' && b->bol_real) {
				*done = true;
				return i + 1;
			}
			if (c == '\n') {
				/* ".\r\n" after a bare line end: not the end */
				b->linelen += 2;
				line_end(b, true);
				i++;
			} else {
				bare(b);   /* ".\r" + something */
			}
			break;
		}
	}
	return n;
}

void smtp_body_end(struct smtp_body *b)
{
	if (b->st == SB_CR)
		bare(b);
	else if (b->st == SB_MID && b->linelen + 2 > b->cfg->text_line_max)
		fail(b, SMTP_BODY_LONGLINE);
}
