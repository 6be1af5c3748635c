/*
 * tests/unit/test_smtp_body.c - the DATA/BDAT content decoder (smtp/body.c).
 *
 * The decoder has a fast path for runs of whole plain lines and a byte
 * state machine for everything else. Their results must not depend on how
 * the stream is cut: the same bytes fed at once, one byte at a time and in
 * random pieces must store the same message, end at the same byte and
 * raise the same flags. Inputs are random mixes of the things that steer
 * the state machine (CR, LF, dots at line starts, long lines, Received:
 * headers) plus the SMTP smuggling endings.
 */
#include "smtp/smtp_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtp/config.h"
#include "tests/unit/check.h"

struct result {
	unsigned char *body;
	size_t len;
	size_t consumed;  /* bytes up to and including the end of data */
	bool done;
	unsigned flags;
	unsigned received;
};

static uint32_t rng = 2463534242u;
static uint32_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return rng;
}

/* Feed in[0..n) cut at the positions cut(k) returns; collect the result. */
static void run(const struct smtp_config *cfg, struct smtp_pool *pool,
		bool dot, const unsigned char *in, size_t n, int mode,
		struct result *r)
{
	memset(r, 0, sizeof *r);
	struct smtp_txn *t = smtp_txn_new(pool);
	CHECK(t != NULL);
	if (t == NULL)
		return;
	struct smtp_body b;
	smtp_body_begin(&b, cfg, t, dot);
	size_t off = 0;
	bool done = false;
	while (off < n && !done) {
		size_t k = n - off;
		if (mode == 1)
			k = 1;
		else if (mode == 2)
			k = 1 + next() % (k < 300 ? k : 300);
		size_t used = smtp_body_feed(&b, in + off, k, &done);
		CHECK(used <= k);
		CHECK(done || used == k);
		off += used;
	}
	if (!dot)
		smtp_body_end(&b);
	r->done = done;
	r->consumed = off;
	r->flags = b.flags;
	r->received = b.received;
	r->len = (size_t)t->body_size;
	r->body = malloc(r->len + 1);
	size_t o = 0;
	for (struct smtp_chunk *c = t->body_head; c != NULL;
	     c = (struct smtp_chunk *)c->seg.next) {
		memcpy(r->body + o, c->seg.data, c->seg.len);
		o += c->seg.len;
	}
	CHECK_EQ_INT(o, r->len);
	smtp_txn_free(t);
}

static void same(const struct result *a, const struct result *b,
		 const char *what, unsigned round)
{
	CHECK_MSG(a->done == b->done && a->consumed == b->consumed &&
			  a->flags == b->flags && a->received == b->received &&
			  a->len == b->len &&
			  memcmp(a->body, b->body, a->len) == 0,
		  "round %u, %s: done %d/%d consumed %zu/%zu flags %x/%x "
		  "received %u/%u len %zu/%zu", round, what, a->done, b->done,
		  a->consumed, b->consumed, a->flags, b->flags, a->received,
		  b->received, a->len, b->len);
}

static size_t gen(unsigned char *buf, size_t cap)
{
	static const char *const pieces[] = {
		"\r\n", "\r\n", "\r\n", "\r\n", "\n", "\r", ".", "..",
		"\r\n.\r\n", "\n.\n", "\r.\r", "\r\n.\n", "\n.\r\n", ".\r\n",
		"Received: x\r\n", "Subject: y\r\n", "\r\n\r\n",
		"hello world", "some text", "a", "\t ", "\0",
	};
	size_t n = 0;
	unsigned parts = 1 + next() % 60;
	for (unsigned i = 0; i < parts && n < cap - 1200; i++) {
		unsigned pick = next() % 24;
		if (pick < 22) {
			const char *p = pieces[pick];
			size_t l = pick == 21 ? 1 : strlen(p);
			memcpy(buf + n, p, l);
			n += l;
		} else {  /* a long line around the limit */
			size_t l = 990 + next() % 20;
			memset(buf + n, 'x', l);
			n += l;
		}
	}
	return n;
}

static void test_cut_independence(void)
{
	struct smtp_config cfg;
	smtp_config_defaults(&cfg);
	cfg.max_received = 3;
	struct smtp_pool *pool = smtp_pool_create(64u << 20);
	CHECK(pool != NULL);
	if (pool == NULL)
		return;
	static unsigned char in[1 << 16];
	for (unsigned round = 0; round < 4000; round++) {
		size_t n = gen(in, sizeof in);
		bool dot = round % 3 != 0;
		cfg.bare_lf = round % 2 ? SMTP_BARE_LF_REJECT
					: SMTP_BARE_LF_NORMALIZE;
		struct result whole = {0}, bytes = {0}, pieces = {0};
		run(&cfg, pool, dot, in, n, 0, &whole);
		run(&cfg, pool, dot, in, n, 1, &bytes);
		run(&cfg, pool, dot, in, n, 2, &pieces);
		same(&whole, &bytes, "whole vs one byte at a time", round);
		same(&whole, &pieces, "whole vs random pieces", round);
		free(whole.body);
		free(bytes.body);
		free(pieces.body);
	}
	CHECK_EQ_INT(smtp_pool_in_use(pool), 0);
	smtp_pool_free(pool);
}

/* The fast path stores plain lines as they came and stops at what needs
 * the state machine: a dot, a bare line end, a long line. */
static void test_plain_lines(void)
{
	struct smtp_config cfg;
	smtp_config_defaults(&cfg);
	struct smtp_pool *pool = smtp_pool_create(1u << 20);
	CHECK(pool != NULL);
	if (pool == NULL)
		return;
	static const char msg[] =
		"Subject: t\r\n\r\nline one\r\nline two\r\n..dot\r\n"
		"bare\nlf\r\n.\r\nMAIL FROM:<x@y>\r\n";
	struct result r = {0};
	cfg.bare_lf = SMTP_BARE_LF_NORMALIZE;
	run(&cfg, pool, true, (const unsigned char *)msg, sizeof msg - 1, 0,
	    &r);
	CHECK(r.done);
	CHECK_EQ_INT(r.consumed, sizeof msg - 1 - strlen("MAIL FROM:<x@y>\r\n"));
	static const char want[] = "Subject: t\r\n\r\nline one\r\nline two\r\n"
				   ".dot\r\nbare\r\nlf\r\n";
	CHECK_EQ_INT(r.len, sizeof want - 1);
	CHECK(r.len == sizeof want - 1 && memcmp(r.body, want, r.len) == 0);
	CHECK_EQ_INT(r.flags, 0);
	free(r.body);
	smtp_pool_free(pool);
}

int main(void)
{
	RUN(test_plain_lines);
	RUN(test_cut_independence);
	return CHECK_DONE();
}
