/* tests/unit/test_tcp_buf.c - tcpstack/tcp_buf.c: chunk pool, send buffer
 * across chunk boundaries and sequence wrap, receive queue collapsing and
 * iovecs, out-of-order queue trimming, eviction, drain and SACK block
 * order; randomized against byte-array models. Every case ends with the
 * packet pool back where it started. */
#include "tcpstack/tcp_buf.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#define RND_SEED 0x7cb1f00d5eed1234ULL
#include "rnd.h"

#define POOL 512
#include "fake_pool.h"

#define CH TCP_CHUNK_SIZE
#define ROOM (BUFSZ - NET_PKT_HEADROOM)  /* payload a fresh packet holds */

/* ---- the fake environment ---- */

static int bad_frees;

static struct net_pkt *env_alloc(void *env)
{
	(void)env;
	return fake_pool_get();
}

static void env_free(void *env, struct net_pkt *p)
{
	(void)env;
	if (!fake_pool_intact(p) || !fake_pool_put(p))
		bad_frees++;
}

static const struct net_pkt_ops ops = {env_alloc, env_free, NULL};
static const struct tcp_buf_ops po = {&ops, NULL};

/* The byte a peer sends at sequence s; copy x of it is pat(s) ^ x. */
static uint8_t pat(uint32_t s)
{
	return (uint8_t)((s * 2654435761u) >> 24);
}

static struct net_pkt *mkpkt(uint32_t seq, uint32_t len, uint8_t x)
{
	struct net_pkt *p = fake_pool_get();
	if (p == NULL || net_pkt_append(p, len) == NULL) {
		fprintf(stderr, "  mkpkt(%u): pool empty or too long\n", len);
		abort();
	}
	for (uint32_t i = 0; i < len; i++)
		p->data[i] = pat(seq + i) ^ x;
	p->seq = seq;
	return p;
}

static bool pkt_holds(const struct net_pkt *p, uint32_t seq, uint8_t x)
{
	for (uint32_t i = 0; i < p->len; i++)
		if (p->data[i] != (uint8_t)(pat(seq + i) ^ x))
			return false;
	return true;
}

/* The oooq invariants: counts, tail, sorted without overlaps, no empty
 * packet, all within [lo, hi). */
static bool oooq_ok(const struct tcp_oooq *q, uint32_t lo, uint32_t hi)
{
	uint32_t n = 0, bytes = 0;
	const struct net_pkt *last = NULL;
	for (const struct net_pkt *p = q->head; p != NULL; p = p->next) {
		if (p->len == 0 || !fake_pool_intact(p) ||
		    tcp_seq_lt(p->seq, lo) || tcp_seq_gt(p->seq + p->len, hi))
			return false;
		if (last != NULL &&
		    tcp_seq_lt(p->seq, last->seq + last->len))
			return false;
		n++;
		bytes += p->len;
		last = p;
	}
	return n == q->pkts && bytes == q->bytes && q->tail == last &&
	       (n <= q->max);
}

/* In randomized loops: count a failed step, report the first few. */
#define BAD()                                                             \
	do {                                                              \
		if (bad++ < 5)                                            \
			fprintf(stderr, "  %s:%d: bad step\n", __FILE__,  \
				__LINE__);                                \
	} while (0)

/* ---- chunk pool ---- */

static void test_chunk_pool(void)
{
	static const struct {
		uint64_t bytes;
		size_t want;
	} rows[] = {
		{0, 1}, {1, 1}, {CH - 1, 1}, {CH, 1}, {CH + 1, 1},
		{3 * CH + 5, 3}, {64 * CH, 64},
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct tcp_chunk_pool *pool = tcp_chunk_pool_create(rows[i].bytes);
		CHECK_MSG(pool != NULL, "row %zu", i);
		if (pool == NULL)
			continue;
		CHECK_MSG(tcp_chunk_pool_total(pool) == rows[i].want &&
				  tcp_chunk_pool_avail(pool) == rows[i].want,
			  "row %zu: total %zu", i, tcp_chunk_pool_total(pool));
		tcp_chunk_pool_free(pool);
	}
	CHECK(tcp_chunk_pool_create(UINT64_MAX) == NULL);
	tcp_chunk_pool_free(NULL);
}

/* ---- send buffer ---- */

/* Chunks a buffer must hold when stream offsets [acked, appended) are kept
 * and the stream's first byte sat at offset 0 of its first chunk. */
static size_t want_chunks(uint64_t acked, uint64_t appended)
{
	if (appended == acked)
		return 0;
	return (size_t)((appended - 1) / CH - acked / CH + 1);
}

static void test_sndbuf_boundaries(void)
{
	/* una values: plain, wrapping inside the first chunk, wrapping at a
	 * chunk boundary, wrapping in the third chunk, at 2^31. */
	static const uint32_t unas[] = {
		0, 0xFFFFFFFFu - 5, 0u - CH, 0u - 2 * CH - 77, 0x7FFFFFF0u,
	};
	/* Append sizes that land exactly on, just before and past chunk
	 * boundaries. */
	static const uint32_t pieces[] = {1, CH - 2, 1, 1, CH, 3, 2 * CH - 3, 99};
	/* Copies (offset from una, length) after all appends. */
	static const struct { uint32_t off, n; } copies[] = {
		{0, 0}, {0, 1}, {CH - 1, 1}, {CH - 1, 2}, {CH, CH},
		{5, 3 * CH}, {0, 4 * CH + 100}, {4 * CH + 99, 1},
		{4 * CH + 100, 0}, {2 * CH - 3, CH + 7},
	};
	/* Acks (cumulative offset from the first una) in order. */
	static const uint32_t acks[] = {
		0, 1, CH - 1, CH, CH + 1, 3 * CH, 3 * CH, 4 * CH + 99, 4 * CH + 100,
	};
	static uint8_t src[4 * CH + 100], dst[4 * CH + 100];
	for (size_t i = 0; i < sizeof(src); i++)
		src[i] = (uint8_t)rnd();

	struct tcp_chunk_pool *pool = tcp_chunk_pool_create(8 * CH);
	for (size_t u = 0; u < sizeof(unas) / sizeof(unas[0]); u++) {
		uint32_t una = unas[u];
		struct tcp_sndbuf b;
		tcp_sndbuf_init(&b, una, 1u << 20);
		uint32_t total = 0;
		for (size_t k = 0; k < sizeof(pieces) / sizeof(pieces[0]); k++) {
			uint32_t got = tcp_sndbuf_append(&b, pool, src + total,
							 pieces[k]);
			CHECK_MSG(got == pieces[k], "una %#x piece %zu", una, k);
			total += got;
			CHECK_EQ_INT(b.len, total);
			CHECK_EQ_INT(8 - tcp_chunk_pool_avail(pool),
				     want_chunks(0, total));
		}
		CHECK_EQ_INT(total, sizeof(src));
		CHECK_EQ_INT(tcp_sndbuf_space(&b), (1u << 20) - total);
		for (size_t k = 0; k < sizeof(copies) / sizeof(copies[0]); k++) {
			memset(dst, 0xEE, sizeof(dst));
			int rc = tcp_sndbuf_copy(&b, una + copies[k].off,
						 copies[k].n, dst);
			CHECK_MSG(rc == 0 && memcmp(dst, src + copies[k].off,
						    copies[k].n) == 0,
				  "una %#x copy %zu", una, k);
		}
		/* Ranges not all in the buffer. */
		CHECK_EQ_INT(tcp_sndbuf_copy(&b, una - 1, 1, dst), -EINVAL);
		CHECK_EQ_INT(tcp_sndbuf_copy(&b, una + total, 1, dst), -EINVAL);
		CHECK_EQ_INT(tcp_sndbuf_copy(&b, una, total + 1, dst), -EINVAL);
		CHECK_EQ_INT(tcp_sndbuf_copy(&b, una + 1, UINT32_MAX, dst),
			     -EINVAL);
		/* Acknowledgements free chunks as they empty. */
		uint32_t acked = 0;
		for (size_t k = 0; k < sizeof(acks) / sizeof(acks[0]); k++) {
			uint32_t d = tcp_sndbuf_ack(&b, pool, una + acks[k]);
			CHECK_MSG(d == acks[k] - acked, "una %#x ack %zu: %u", una,
				  k, d);
			acked = acks[k];
			CHECK_EQ_INT(b.una, una + acked);
			CHECK_EQ_INT(b.len, total - acked);
			CHECK_MSG(8 - tcp_chunk_pool_avail(pool) ==
					  want_chunks(acked, total),
				  "una %#x ack %zu: %zu chunks", una, k,
				  8 - tcp_chunk_pool_avail(pool));
			if (b.len > 0) {
				CHECK(tcp_sndbuf_copy(&b, b.una, b.len, dst) == 0);
				CHECK(memcmp(dst, src + acked, b.len) == 0);
			}
		}
		CHECK(b.head == NULL && b.tail == NULL);
		/* Appending after full acknowledgement starts a fresh chunk. */
		CHECK_EQ_INT(tcp_sndbuf_append(&b, pool, src, 10), 10);
		CHECK(tcp_sndbuf_copy(&b, una + total, 10, dst) == 0 &&
		      memcmp(dst, src, 10) == 0);
		tcp_sndbuf_fini(&b, pool);
		CHECK_EQ_INT(tcp_chunk_pool_avail(pool), 8);
		CHECK_EQ_INT(b.len, 0);
	}
	tcp_chunk_pool_free(pool);
}

static void test_sndbuf_ack_outside(void)
{
	static uint8_t src[3 * CH];
	for (size_t i = 0; i < sizeof(src); i++)
		src[i] = (uint8_t)i;
	struct tcp_chunk_pool *pool = tcp_chunk_pool_create(4 * CH);
	static const struct {
		uint32_t una, ack_off, want;
	} rows[] = {
		/* at una, before it (also across the wrap), beyond the end */
		{1000, 0, 0},
		{1000, (uint32_t)-1, 0},
		{5, (uint32_t)-10, 0},
		{0xFFFFFFF0u, 0x20, 0x20},
		{0xFFFFFFF0u, 3 * CH, 3 * CH},
		{0xFFFFFFF0u, 3 * CH + 1, 3 * CH},
		{0xFFFFFFF0u, 0x40000000u, 3 * CH},
		{0xFFFFFFF0u, 0x90000000u, 0},  /* more than 2^31 ahead: old */
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct tcp_sndbuf b;
		tcp_sndbuf_init(&b, rows[i].una, 3 * CH);
		CHECK_EQ_INT(tcp_sndbuf_append(&b, pool, src, 3 * CH), 3 * CH);
		uint32_t d = tcp_sndbuf_ack(&b, pool, rows[i].una + rows[i].ack_off);
		CHECK_MSG(d == rows[i].want, "row %zu: %u", i, d);
		CHECK_MSG(b.una == rows[i].una + rows[i].want &&
				  b.len == 3 * CH - rows[i].want,
			  "row %zu", i);
		tcp_sndbuf_fini(&b, pool);
		CHECK_EQ_INT(tcp_chunk_pool_avail(pool), 4);
	}
	tcp_chunk_pool_free(pool);
}

static void test_sndbuf_cap_and_pool(void)
{
	static uint8_t src[3 * CH], dst[3 * CH];
	for (size_t i = 0; i < sizeof(src); i++)
		src[i] = (uint8_t)(i * 7);

	/* Cap: short append, then room again after an ack. */
	struct tcp_chunk_pool *pool = tcp_chunk_pool_create(4 * CH);
	struct tcp_sndbuf b;
	tcp_sndbuf_init(&b, 0xFFFFFF00u, 1000);
	CHECK_EQ_INT(tcp_sndbuf_append(&b, pool, src, 1500), 1000);
	CHECK_EQ_INT(tcp_sndbuf_space(&b), 0);
	CHECK_EQ_INT(tcp_sndbuf_append(&b, pool, src, 1), 0);
	CHECK_EQ_INT(tcp_sndbuf_ack(&b, pool, 0xFFFFFF00u + 300), 300);
	CHECK_EQ_INT(tcp_sndbuf_space(&b), 300);
	CHECK_EQ_INT(tcp_sndbuf_append(&b, pool, src + 1000, 500), 300);
	CHECK(tcp_sndbuf_copy(&b, b.una, 1000, dst) == 0 &&
	      memcmp(dst, src + 300, 1000) == 0);
	tcp_sndbuf_fini(&b, pool);
	tcp_chunk_pool_free(pool);

	/* A zeroed buffer has cap 0. */
	pool = tcp_chunk_pool_create(CH);
	struct tcp_sndbuf z = {0};
	CHECK_EQ_INT(tcp_sndbuf_append(&z, pool, src, 10), 0);
	CHECK_EQ_INT(tcp_chunk_pool_avail(pool), 1);
	tcp_chunk_pool_free(pool);

	/* Pool exhaustion, shared by two buffers. */
	pool = tcp_chunk_pool_create(2 * CH);
	struct tcp_sndbuf a, c;
	tcp_sndbuf_init(&a, 0xFFFFFFFFu, 1u << 24);
	tcp_sndbuf_init(&c, 77, 1u << 24);
	CHECK_EQ_INT(tcp_sndbuf_append(&a, pool, src, CH + 10), CH + 10);
	CHECK_EQ_INT(tcp_chunk_pool_avail(pool), 0);
	CHECK_EQ_INT(tcp_sndbuf_append(&c, pool, src, 1), 0);
	CHECK_EQ_INT(tcp_sndbuf_append(&a, pool, src + CH + 10, 2 * CH),
		     CH - 10);
	CHECK_EQ_INT(tcp_sndbuf_append(&a, pool, src, 1), 0);
	CHECK_EQ_INT(a.len, 2 * CH);
	/* An ack inside the head chunk frees nothing. */
	CHECK_EQ_INT(tcp_sndbuf_ack(&a, pool, a.una + CH - 1), CH - 1);
	CHECK_EQ_INT(tcp_chunk_pool_avail(pool), 0);
	CHECK_EQ_INT(tcp_sndbuf_append(&c, pool, src, 1), 0);
	/* One more byte empties it. */
	CHECK_EQ_INT(tcp_sndbuf_ack(&a, pool, a.una + 1), 1);
	CHECK_EQ_INT(tcp_chunk_pool_avail(pool), 1);
	CHECK_EQ_INT(tcp_sndbuf_append(&c, pool, src, 3 * CH), CH);
	CHECK(tcp_sndbuf_copy(&a, a.una, CH, dst) == 0 &&
	      memcmp(dst, src + CH, CH) == 0);
	CHECK(tcp_sndbuf_copy(&c, 77, CH, dst) == 0 &&
	      memcmp(dst, src, CH) == 0);
	tcp_sndbuf_fini(&a, pool);
	CHECK_EQ_INT(tcp_chunk_pool_avail(pool), 1);
	tcp_sndbuf_fini(&c, pool);
	CHECK_EQ_INT(tcp_chunk_pool_avail(pool), 2);
	tcp_chunk_pool_free(pool);
}

/* Random appends, copies and acks against a byte-array model of the
 * stream, starting just before the wrap. */
static void test_sndbuf_random(void)
{
	enum { STREAM = 1 << 20, POOLCH = 6 };
	uint8_t *src = malloc(STREAM), *dst = malloc(STREAM);
	for (size_t i = 0; i < STREAM; i++)
		src[i] = (uint8_t)rnd();
	struct tcp_chunk_pool *pool = tcp_chunk_pool_create(POOLCH * CH);
	const uint32_t una0 = 0xFFFFFFFFu - 40000;
	struct tcp_sndbuf b;
	tcp_sndbuf_init(&b, una0, 5 * CH + 123);
	uint32_t acked = 0, appended = 0;
	int bad = 0;
	while (acked < STREAM && bad < 5) {
		uint32_t r = rnd() % 8;
		if (r < 3 && appended < STREAM) {
			uint32_t n = rnd() % (2 * CH);
			if (n > STREAM - appended)
				n = STREAM - appended;
			uint32_t room = b.cap - (appended - acked);
			uint32_t want = n < room ? n : room;
			uint32_t got = tcp_sndbuf_append(&b, pool,
							 src + appended, n);
			/* Short only when the pool ran out. */
			if (got > want || (got < want &&
					   tcp_chunk_pool_avail(pool) != 0))
				BAD();
			appended += got;
		} else if (r < 6) {
			uint32_t kept = appended - acked;
			uint32_t off = kept ? rnd() % (kept + 1) : 0;
			uint32_t n = rnd() % (kept - off + 1);
			if (tcp_sndbuf_copy(&b, una0 + acked + off, n, dst) != 0 ||
			    memcmp(dst, src + acked + off, n) != 0)
				BAD();
			if (tcp_sndbuf_copy(&b, una0 + acked + off, kept - off + 1,
					    dst) != -EINVAL)
				BAD();
		} else {
			uint32_t kept = appended - acked;
			uint32_t d = rnd() % (kept + 2);  /* sometimes beyond */
			uint32_t got = tcp_sndbuf_ack(&b, pool, una0 + acked + d);
			if (got != (d < kept ? d : kept))
				BAD();
			acked += got;
			if (appended == STREAM && acked < STREAM && got == 0)
				acked += tcp_sndbuf_ack(&b, pool,
							una0 + appended);
		}
		if (b.una != una0 + acked || b.len != appended - acked ||
		    POOLCH - tcp_chunk_pool_avail(pool) !=
			    want_chunks(acked, appended))
			bad++;
	}
	CHECK_EQ_INT(bad, 0);
	CHECK_EQ_INT(acked, STREAM);
	CHECK_EQ_INT(tcp_chunk_pool_avail(pool), POOLCH);
	tcp_sndbuf_fini(&b, pool);
	tcp_chunk_pool_free(pool);
	free(src);
	free(dst);
}

/* ---- in-order receive queue ---- */

/* The queued bytes, read through tcp_rcvq_iov, are the stream from seq. */
static bool rcvq_holds(const struct tcp_rcvq *q, uint32_t seq)
{
	struct iovec iov[POOL];
	size_t total;
	unsigned n = tcp_rcvq_iov(q, iov, POOL, &total);
	if (n != q->pkts || total != q->bytes)
		return false;
	for (unsigned i = 0; i < n; i++) {
		const uint8_t *d = iov[i].iov_base;
		if (iov[i].iov_len == 0)
			return false;
		for (size_t k = 0; k < iov[i].iov_len; k++)
			if (d[k] != pat(seq++))
				return false;
	}
	return true;
}

static void test_rcvq_iov_consume(void)
{
	int base = n_inuse;
	struct tcp_rcvq q = {0};
	CHECK_EQ_INT(tcp_rcvq_push(&q, &po, mkpkt(0, 100, 0), 0), 0);
	CHECK_EQ_INT(tcp_rcvq_push(&q, &po, mkpkt(100, 200, 0), 0), 0);
	CHECK_EQ_INT(tcp_rcvq_push(&q, &po, mkpkt(300, 300, 0), 0), 0);
	CHECK_EQ_INT(q.pkts, 3);
	CHECK_EQ_INT(q.bytes, 600);
	CHECK_EQ_INT(n_inuse - base, 3);
	CHECK(rcvq_holds(&q, 0));

	/* (consume, iov n) -> (iov count, iov bytes, first iov len, pkts) */
	static const struct {
		uint32_t consume, want_consumed;
		unsigned n, want_n;
		size_t want_bytes, want_first;
		uint32_t want_pkts, want_head_off;
	} rows[] = {
		{0, 0, 8, 3, 600, 100, 3, 0},
		{0, 0, 2, 2, 300, 100, 3, 0},
		{0, 0, 0, 0, 0, 0, 3, 0},
		{50, 50, 8, 3, 550, 50, 3, 50},
		{0, 0, 1, 1, 50, 50, 3, 50},
		{49, 49, 2, 2, 201, 1, 3, 99},
		{1, 1, 8, 2, 500, 200, 2, 0},   /* head fully read: freed */
		{250, 250, 8, 1, 250, 250, 1, 50},
		{1000, 250, 8, 0, 0, 0, 0, 0},  /* clamped */
		{10, 0, 8, 0, 0, 0, 0, 0},
	};
	uint32_t seq = 0;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct iovec iov[8];
		size_t bytes = 12345;
		uint32_t c = tcp_rcvq_consume(&q, &po, rows[i].consume);
		seq += c;
		unsigned n = tcp_rcvq_iov(&q, iov, rows[i].n, &bytes);
		CHECK_MSG(c == rows[i].want_consumed && n == rows[i].want_n &&
				  bytes == rows[i].want_bytes &&
				  q.pkts == rows[i].want_pkts &&
				  q.head_off == rows[i].want_head_off &&
				  (n == 0 || iov[0].iov_len == rows[i].want_first),
			  "row %zu: consumed %u n %u bytes %zu pkts %u off %u", i,
			  c, n, bytes, q.pkts, q.head_off);
		CHECK_MSG(n == 0 || *(uint8_t *)iov[0].iov_base == pat(seq),
			  "row %zu: first byte", i);
		CHECK_MSG(rcvq_holds(&q, seq), "row %zu", i);
		CHECK_EQ_INT(n_inuse - base, q.pkts);
		CHECK_EQ_INT(tcp_rcvq_iov(&q, iov, 8, NULL), q.pkts);
	}
	CHECK(q.head == NULL && q.tail == NULL && q.bytes == 0);

	/* Purge frees what is left, consumed or not. */
	tcp_rcvq_push(&q, &po, mkpkt(0, 10, 0), 0);
	tcp_rcvq_push(&q, &po, mkpkt(10, 10, 0), 0);
	tcp_rcvq_consume(&q, &po, 3);
	tcp_rcvq_purge(&q, &po);
	CHECK(q.head == NULL && q.tail == NULL && q.bytes == 0 &&
	      q.pkts == 0 && q.head_off == 0);
	CHECK_EQ_INT(n_inuse, base);
	CHECK_EQ_INT(bad_frees, 0);
}

static void test_rcvq_collapse(void)
{
	static const struct {
		uint32_t first, second, collapse_max;
		int want;
	} rows[] = {
		{100, 1, 64, 1},
		{100, 64, 64, 1},
		{100, 65, 64, 0},           /* over collapse_max */
		{100, 1, 0, 0},             /* collapsing off */
		{ROOM - 10, 10, 64, 1},     /* exactly fills the tailroom */
		{ROOM - 10, 11, 64, 0},     /* one byte short */
		{ROOM, 1, 64, 0},
		{0, 5, 64, 0},              /* no tail: linked */
		{100, 0, 64, 1},            /* empty: freed */
		{100, 0, 0, 1},
		{0, 0, 64, 1},
	};
	int base = n_inuse;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct tcp_rcvq q = {0};
		uint32_t a = rows[i].first, b = rows[i].second;
		if (a > 0)
			CHECK_EQ_INT(tcp_rcvq_push(&q, &po, mkpkt(0, a, 0),
						   rows[i].collapse_max), 0);
		int r = tcp_rcvq_push(&q, &po, mkpkt(a, b, 0),
				      rows[i].collapse_max);
		uint32_t want_pkts = (a > 0) + (r == 0 && b > 0);
		CHECK_MSG(r == rows[i].want && q.bytes == a + b &&
				  q.pkts == want_pkts,
			  "row %zu: ret %d bytes %u pkts %u", i, r, q.bytes,
			  q.pkts);
		CHECK_MSG(rcvq_holds(&q, 0), "row %zu", i);
		CHECK_MSG(n_inuse - base == (int)q.pkts, "row %zu", i);
		tcp_rcvq_purge(&q, &po);
		CHECK_EQ_INT(n_inuse, base);
	}

	/* A flood of 10,000 1-byte segments fills packets, not the pool. */
	struct tcp_rcvq q = {0};
	uint32_t linked = 0;
	for (uint32_t s = 0; s < 10000; s++)
		linked += tcp_rcvq_push(&q, &po, mkpkt(s, 1, 0), 64) == 0;
	CHECK_EQ_INT(q.bytes, 10000);
	CHECK_EQ_INT(q.pkts, (10000 + ROOM - 1) / ROOM);
	CHECK_EQ_INT(linked, q.pkts);
	CHECK_EQ_INT(n_inuse - base, q.pkts);
	CHECK(rcvq_holds(&q, 0));
	/* Read it back in odd slices. */
	uint32_t seq = 0;
	while (q.bytes > 0) {
		seq += tcp_rcvq_consume(&q, &po, 1 + rnd() % 3000);
		CHECK(rcvq_holds(&q, seq));
	}
	CHECK_EQ_INT(seq, 10000);
	CHECK_EQ_INT(n_inuse, base);

	/* With the reader keeping up, one packet is enough. */
	for (uint32_t s = 0; s < 10000; s++) {
		tcp_rcvq_push(&q, &po, mkpkt(s, 1, 0), 64);
		CHECK(q.pkts <= 2);
		if (s % 7 == 6)
			tcp_rcvq_consume(&q, &po, q.bytes);
	}
	tcp_rcvq_purge(&q, &po);
	CHECK_EQ_INT(n_inuse, base);
	CHECK_EQ_INT(bad_frees, 0);
}

/* ---- out-of-order queue ---- */

#define MAXSEG 8

struct ooo_seg {
	int32_t seq;      /* relative to the case's base */
	uint32_t len;
	int want;         /* insert's return */
};

struct ooo_pkt {
	int32_t seq;
	uint32_t len;
	uint8_t from;     /* index of the insert that supplied the bytes */
};

struct ooo_case {
	const char *name;
	uint32_t max, wnd;  /* rcv_nxt is base + 0, wnd_end base + wnd */
	struct ooo_seg in[MAXSEG];
	struct ooo_pkt want[MAXSEG];
	struct { int32_t left, right; } blocks[TCP_OOO_BLOCKS];
};

#define W 10000
static const struct ooo_case ooo_cases[] = {
	{"in order", 8, W,
	 {{100, 100, 1}, {200, 100, 1}, {300, 100, 1}},
	 {{100, 100, 0}, {200, 100, 1}, {300, 100, 2}},
	 {{100, 400}}},
	{"reverse", 8, W,
	 {{300, 100, 1}, {200, 100, 1}, {100, 100, 1}},
	 {{100, 100, 2}, {200, 100, 1}, {300, 100, 0}},
	 {{100, 400}}},
	{"disjoint: latest first, then in order", 8, W,
	 {{100, 50, 1}, {300, 50, 1}, {500, 50, 1}},
	 {{100, 50, 0}, {300, 50, 1}, {500, 50, 2}},
	 {{500, 550}, {100, 150}, {300, 350}}},
	{"disjoint: latest in the middle", 8, W,
	 {{100, 50, 1}, {500, 50, 1}, {300, 50, 1}, {700, 10, 1}, {10, 5, 1},
	  {900, 5, 1}},
	 {{10, 5, 4}, {100, 50, 0}, {300, 50, 2}, {500, 50, 1}, {700, 10, 3},
	  {900, 5, 5}},
	 {{900, 905}, {10, 15}, {100, 150}, {300, 350}}},
	{"latest extends a range", 8, W,
	 {{100, 50, 1}, {300, 50, 1}, {150, 50, 1}},
	 {{100, 50, 0}, {150, 50, 2}, {300, 50, 1}},
	 {{100, 200}, {300, 350}}},
	{"latest bridges two ranges", 8, W,
	 {{100, 50, 1}, {200, 50, 1}, {400, 1, 1}, {150, 50, 1}},
	 {{100, 50, 0}, {150, 50, 3}, {200, 50, 1}, {400, 1, 2}},
	 {{100, 250}, {400, 401}}},
	{"duplicate dropped, first copy kept", 8, W,
	 {{100, 100, 1}, {100, 100, 0}, {300, 10, 1}, {100, 100, 0}},
	 {{100, 100, 0}, {300, 10, 2}},
	 {{300, 310}, {100, 200}}},
	{"covered dropped", 8, W,
	 {{100, 100, 1}, {120, 50, 0}, {100, 1, 0}, {199, 1, 0}},
	 {{100, 100, 0}},
	 {{100, 200}}},
	{"covered by two adjacent dropped", 8, W,
	 {{100, 50, 1}, {150, 50, 1}, {120, 70, 0}},
	 {{100, 50, 0}, {150, 50, 1}},
	 {{100, 200}}},
	{"overlap at the front: new leading bytes kept", 8, W,
	 {{100, 100, 1}, {50, 100, 1}},
	 {{50, 50, 1}, {100, 100, 0}},
	 {{50, 200}}},
	{"overlap at the back: new trailing bytes kept", 8, W,
	 {{100, 100, 1}, {150, 100, 1}},
	 {{100, 100, 0}, {200, 50, 1}},
	 {{100, 250}}},
	{"spanning several: only the first gap kept", 8, W,
	 {{100, 50, 1}, {200, 50, 1}, {300, 50, 1}, {50, 400, 1}},
	 {{50, 50, 3}, {100, 50, 0}, {200, 50, 1}, {300, 50, 2}},
	 {{50, 150}, {200, 250}, {300, 350}}},
	{"spanning, starting inside: first gap kept", 8, W,
	 {{100, 50, 1}, {200, 50, 1}, {300, 50, 1}, {120, 300, 1}},
	 {{100, 50, 0}, {150, 50, 3}, {200, 50, 1}, {300, 50, 2}},
	 {{100, 250}, {300, 350}}},
	{"covering a run, gap after it", 8, W,
	 {{100, 50, 1}, {150, 50, 1}, {100, 150, 1}},
	 {{100, 50, 0}, {150, 50, 1}, {200, 50, 2}},
	 {{100, 250}}},
	{"before rcv_nxt", 8, W,
	 {{-100, 100, 0}, {-1, 1, 0}, {-50, 100, 1}},
	 {{0, 50, 2}},
	 {{0, 50}}},
	{"at or after wnd_end", 8, W,
	 {{W, 10, 0}, {W + 5000, 10, 0}, {W - 10, 20, 1}, {W - 1, 1, 0}},
	 {{W - 10, 10, 2}},
	 {{W - 10, W}}},
	{"window smaller than the segment, both ends cut", 8, 100,
	 {{-10, 500, 1}},
	 {{0, 100, 0}},
	 {{0, 100}}},
	{"zero window", 8, 0,
	 {{0, 10, 0}, {5, 10, 0}},
	 {{0}},
	 {{0}}},
	{"empty segment", 8, W,
	 {{100, 0, 0}},
	 {{0}},
	 {{0}}},
	{"full: after the last dropped, before it evicts the last", 3, W,
	 {{100, 10, 1}, {200, 10, 1}, {300, 10, 1}, {400, 10, 0},
	  {250, 10, 1}, {50, 10, 1}, {210, 40, 0}},
	 {{50, 10, 5}, {100, 10, 0}, {200, 10, 1}},
	 {{50, 60}, {100, 110}, {200, 210}}},
	{"full: trimmed against the last, which is evicted", 2, W,
	 {{100, 10, 1}, {200, 50, 1}, {190, 20, 1}},
	 {{100, 10, 0}, {190, 10, 2}},
	 {{190, 200}, {100, 110}}},
	{"full: duplicate dropped, nothing evicted", 1, W,
	 {{100, 10, 1}, {100, 10, 0}, {105, 10, 0}},
	 {{100, 10, 0}},
	 {{100, 110}}},
	{"full of one: an earlier one replaces it", 1, W,
	 {{100, 10, 1}, {50, 10, 1}},
	 {{50, 10, 1}},
	 {{50, 60}}},
	{"max 0 keeps nothing", 0, W,
	 {{100, 10, 0}},
	 {{0}},
	 {{0}}},
};

/* Rows of in[] and want[] end at the first all-zero entry. */
static bool seg_end(const struct ooo_case *c, size_t i)
{
	return i == MAXSEG ||
	       (c->in[i].seq == 0 && c->in[i].len == 0 && c->in[i].want == 0);
}

/* What tcp_oooq_insert should report as already queued: the leading
 * part of p's range, clipped to [rcv_nxt, wnd_end), that queued packets
 * cover without a gap (computed before the insert). */
static struct tcp_sack_block dup_model(const struct tcp_oooq *q,
				       const struct net_pkt *p,
				       uint32_t rcv_nxt, uint32_t wnd_end)
{
	struct tcp_sack_block none = {p->seq, p->seq};
	uint32_t s0 = p->seq, e = p->seq + p->len;
	if (p->len == 0 || tcp_seq_le(e, rcv_nxt))
		return none;
	if (tcp_seq_lt(s0, rcv_nxt))
		s0 = rcv_nxt;
	if (tcp_seq_ge(s0, wnd_end))
		return none;
	if (tcp_seq_gt(e, wnd_end))
		e = wnd_end;
	uint32_t x = s0;
	for (bool moved = true; moved;) {
		moved = false;
		for (const struct net_pkt *k = q->head; k != NULL; k = k->next)
			if (tcp_seq_le(k->seq, x) &&
			    tcp_seq_lt(x, k->seq + k->len)) {
				x = k->seq + k->len;
				moved = true;
			}
	}
	if (x == s0)
		return none;
	return (struct tcp_sack_block){s0, tcp_seq_lt(x, e) ? x : e};
}

static void test_oooq_table(void)
{
	/* Each case at a plain base and at bases that put it across the
	 * 2^32 wrap. */
	static const uint32_t bases[] = {1000, 0xFFFFFFFFu - 150,
					 0xFFFFFFFFu - 10, 0x7FFFFF00u};
	int base_inuse = n_inuse;
	for (size_t ci = 0; ci < sizeof(ooo_cases) / sizeof(ooo_cases[0]);
	     ci++) {
		const struct ooo_case *c = &ooo_cases[ci];
		for (size_t bi = 0; bi < sizeof(bases) / sizeof(bases[0]); bi++) {
			uint32_t b = bases[bi];
			struct tcp_oooq q;
			tcp_oooq_init(&q, c->max);
			for (size_t i = 0; !seg_end(c, i); i++) {
				struct net_pkt *p = mkpkt(b + c->in[i].seq,
							  c->in[i].len,
							  (uint8_t)(i + 1));
				struct tcp_sack_block want_dup =
					dup_model(&q, p, b, b + c->wnd), dup;
				int r = tcp_oooq_insert(&q, &po, p, b,
							b + c->wnd, &dup);
				CHECK_MSG(r == c->in[i].want,
					  "%s @%#x: insert %zu returned %d",
					  c->name, b, i, r);
				CHECK_MSG((dup.left == dup.right &&
					   want_dup.left == want_dup.right) ||
					  (dup.left == want_dup.left &&
					   dup.right == want_dup.right),
					  "%s @%#x: insert %zu: duplicate "
					  "[%u,%u), want [%u,%u)", c->name, b,
					  i, dup.left - b, dup.right - b,
					  want_dup.left - b, want_dup.right - b);
				CHECK_MSG(oooq_ok(&q, b, b + c->wnd),
					  "%s @%#x: insert %zu", c->name, b, i);
				CHECK_MSG(n_inuse - base_inuse == (int)q.pkts,
					  "%s @%#x: insert %zu: leak", c->name,
					  b, i);
			}
			/* Layout and contents. */
			const struct net_pkt *p = q.head;
			size_t k = 0;
			for (; k < MAXSEG && c->want[k].len > 0;
			     k++, p = p->next) {
				const struct ooo_pkt *w = &c->want[k];
				CHECK_MSG(p != NULL && p->seq == b + (uint32_t)w->seq &&
						  p->len == w->len &&
						  pkt_holds(p, p->seq,
							    (uint8_t)(w->from + 1)),
					  "%s @%#x: packet %zu: seq %+d len %u",
					  c->name, b, k,
					  p ? (int)(p->seq - b) : -1,
					  p ? p->len : 0);
				if (p == NULL)
					break;
			}
			CHECK_MSG(k == q.pkts && (p == NULL),
				  "%s @%#x: %u packets, want %zu", c->name, b,
				  q.pkts, k);
			/* SACK blocks. */
			struct tcp_sack_block out[TCP_OOO_BLOCKS];
			unsigned n = tcp_oooq_blocks(&q, out, TCP_OOO_BLOCKS);
			unsigned wn = 0;
			while (wn < TCP_OOO_BLOCKS &&
			       c->blocks[wn].left != c->blocks[wn].right)
				wn++;
			bool same = n == wn;
			for (unsigned i = 0; same && i < n; i++)
				same = out[i].left == b + (uint32_t)c->blocks[i].left &&
				       out[i].right == b + (uint32_t)c->blocks[i].right;
			CHECK_MSG(same, "%s @%#x: %u blocks, first [%+d, %+d)",
				  c->name, b, n, n ? (int)(out[0].left - b) : 0,
				  n ? (int)(out[0].right - b) : 0);
			if (n > 0)
				CHECK_MSG(q.last_left == out[0].left &&
						  q.last_right == out[0].right,
					  "%s: last range", c->name);
			tcp_oooq_purge(&q, &po);
			CHECK(q.head == NULL && q.tail == NULL && q.pkts == 0 &&
			      q.bytes == 0);
			CHECK_MSG(n_inuse == base_inuse, "%s @%#x: leak", c->name,
				  b);
		}
	}
	CHECK_EQ_INT(bad_frees, 0);
}

static void test_oooq_blocks_limit(void)
{
	int base = n_inuse;
	struct tcp_oooq q;
	const uint32_t b = 0xFFFFFFF0u;
	tcp_oooq_init(&q, 16);
	/* Six ranges; the latest insert lands in the fourth. */
	static const uint32_t order[] = {100, 500, 200, 600, 300, 400};
	for (size_t i = 0; i < 6; i++)
		CHECK(tcp_oooq_insert(&q, &po, mkpkt(b + order[i], 10, 0), b,
				      b + W, NULL) == 1);
	CHECK(tcp_oooq_insert(&q, &po, mkpkt(b + 410, 5, 0), b, b + W,
			      NULL) == 1);
	static const struct {
		unsigned n, want;
		uint32_t left[TCP_OOO_BLOCKS];
	} rows[] = {
		{0, 0, {0}},
		{1, 1, {400}},
		{2, 2, {400, 100}},
		{4, 4, {400, 100, 200, 300}},
		{9, 4, {400, 100, 200, 300}},  /* never more than 4 */
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct tcp_sack_block out[9];
		memset(out, 0, sizeof(out));
		unsigned n = tcp_oooq_blocks(&q, out, rows[i].n);
		bool same = n == rows[i].want;
		for (unsigned k = 0; same && k < n; k++)
			same = out[k].left == b + rows[i].left[k] &&
			       out[k].right == b + rows[i].left[k] +
						     (rows[i].left[k] == 400 ? 15 : 10);
		CHECK_MSG(same, "row %zu: %u blocks", i, n);
		CHECK_MSG(n == 9 || out[n].left == 0, "row %zu: wrote past", i);
	}
	tcp_oooq_purge(&q, &po);
	struct tcp_sack_block one;
	CHECK_EQ_INT(tcp_oooq_blocks(&q, &one, 1), 0);
	CHECK_EQ_INT(n_inuse, base);
}

static void test_oooq_drain(void)
{
	static const struct {
		const char *name;
		struct { uint32_t seq, len; } in[4];
		uint32_t rcv_nxt;          /* passed to drain */
		uint32_t want_moved, want_nxt, want_left, want_freed;
		unsigned want_blocks;
		uint32_t first_left;       /* of the first block */
	} rows[] = {
		{"nothing at rcv_nxt", {{100, 100}, {300, 10}}, 50,
		 0, 50, 2, 0, 2, 300},
		{"one range, then a gap", {{100, 100}, {200, 50}, {400, 10}},
		 100, 150, 250, 1, 0, 1, 400},
		{"partial overlap of rcv_nxt", {{100, 100}}, 150,
		 50, 200, 0, 0, 0, 0},
		{"partial overlap of the second packet",
		 {{100, 50}, {150, 50}, {300, 1}}, 170, 30, 200, 1, 1, 1, 300},
		{"wholly before: freed", {{100, 50}, {200, 50}}, 160,
		 0, 160, 1, 1, 1, 200},
		{"wholly before, next adjacent", {{100, 50}, {200, 50}}, 200,
		 50, 250, 0, 1, 0, 0},
		{"latest range delivered: blocks in order",
		 {{300, 10}, {500, 10}, {100, 50}}, 100, 50, 150, 2, 0, 2, 300},
		{"latest range kept first", {{100, 10}, {500, 10}, {300, 10}},
		 100, 10, 110, 2, 0, 2, 300},
	};
	static const uint32_t bases[] = {0, 0xFFFFFFFFu - 120};
	int base_inuse = n_inuse;
	for (size_t bi = 0; bi < 2; bi++) {
		uint32_t b = bases[bi];
		for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
			struct tcp_oooq q;
			struct tcp_rcvq rq = {0};
			tcp_oooq_init(&q, 8);
			for (size_t k = 0; k < 4 && rows[i].in[k].len; k++)
				CHECK(tcp_oooq_insert(&q, &po,
						      mkpkt(b + rows[i].in[k].seq,
							    rows[i].in[k].len, 0),
						      b, b + W, NULL) == 1);
			int before = n_inuse;
			uint32_t nxt = b + rows[i].rcv_nxt;
			uint32_t moved = tcp_oooq_drain(&q, &po, &nxt, &rq, 0);
			struct tcp_sack_block out[TCP_OOO_BLOCKS];
			unsigned n = tcp_oooq_blocks(&q, out, TCP_OOO_BLOCKS);
			CHECK_MSG(moved == rows[i].want_moved &&
					  nxt == b + rows[i].want_nxt &&
					  q.pkts == rows[i].want_left &&
					  rq.bytes == moved &&
					  before - n_inuse ==
						  (int)rows[i].want_freed,
				  "%s @%#x: moved %u nxt %+d left %u", rows[i].name,
				  b, moved, (int)(nxt - b), q.pkts);
			CHECK_MSG(rcvq_holds(&rq, b + rows[i].rcv_nxt),
				  "%s @%#x: delivered bytes", rows[i].name, b);
			CHECK_MSG(oooq_ok(&q, nxt, b + W), "%s", rows[i].name);
			CHECK_MSG(n == rows[i].want_blocks &&
					  (n == 0 ||
					   out[0].left == b + rows[i].first_left),
				  "%s @%#x: %u blocks", rows[i].name, b, n);
			for (unsigned k = 1; k < n; k++)
				CHECK_MSG(tcp_seq_gt(out[k].left, out[k - 1].left) ||
						  k == 1,
					  "%s: block order", rows[i].name);
			tcp_oooq_purge(&q, &po);
			tcp_rcvq_purge(&rq, &po);
			CHECK_MSG(n_inuse == base_inuse, "%s: leak", rows[i].name);
		}
	}

	/* Drained small packets collapse into the receive queue's tail. */
	struct tcp_oooq q;
	struct tcp_rcvq rq = {0};
	tcp_oooq_init(&q, 64);
	uint32_t nxt = 0xFFFFFFFFu - 20;
	tcp_rcvq_push(&rq, &po, mkpkt(nxt - 100, 100, 0), 64);
	for (uint32_t s = 1; s < 50; s++)
		tcp_oooq_insert(&q, &po, mkpkt(nxt + s, 1, 0), nxt, nxt + W,
				NULL);
	CHECK_EQ_INT(q.pkts, 49);
	CHECK_EQ_INT(tcp_oooq_drain(&q, &po, &nxt, &rq, 64), 0);
	CHECK(tcp_oooq_insert(&q, &po, mkpkt(nxt, 1, 0), nxt, nxt + W,
			      NULL) == 1);
	CHECK_EQ_INT(tcp_oooq_drain(&q, &po, &nxt, &rq, 64), 50);
	CHECK_EQ_INT(nxt, 0xFFFFFFFFu - 20 + 50);
	CHECK_EQ_INT(rq.pkts, 1);
	CHECK_EQ_INT(rq.bytes, 150);
	CHECK(rcvq_holds(&rq, 0xFFFFFFFFu - 120));
	CHECK(q.pkts == 0 && q.head == NULL && q.tail == NULL && q.bytes == 0);
	CHECK_EQ_INT(tcp_oooq_blocks(&q, (struct tcp_sack_block[1]){{0, 0}}, 1),
		     0);
	tcp_rcvq_purge(&rq, &po);
	CHECK_EQ_INT(n_inuse, base_inuse);
	CHECK_EQ_INT(bad_frees, 0);
}

/*
 * Random segments of one stream (overlapping, duplicated, out of window,
 * some in order) through oooq insert + drain, or straight onto the
 * receive queue when they cover rcv_nxt, the reader consuming now and
 * then: the delivered stream must be byte-exact, the queues must hold
 * every packet out of the pool, and the first SACK block must hold the
 * latest bytes queued.
 */
static void test_oooq_random(void)
{
	enum { STREAM = 3 << 20, WND = 48 * 1024, MAXQ = 24, COLL = 128 };
	static const uint32_t bases[] = {0xFFFFFFFFu - 200000, 12345};
	for (size_t bi = 0; bi < 2; bi++) {
		uint32_t isn = bases[bi];
		uint32_t nxt = isn, readpos = isn;
		struct tcp_oooq q;
		struct tcp_rcvq rq = {0};
		tcp_oooq_init(&q, MAXQ);
		int base_inuse = n_inuse, bad = 0, steps = 0;
		uint32_t inserted = 0, evict_seen = 0;
		while (nxt - isn < STREAM && bad < 5 && steps < 2000000) {
			steps++;
			uint32_t len = 1 + rnd() % (rnd() % 4 ? 1460 : 40);
			uint32_t seq;
			if (rnd() % 4 == 0)
				seq = nxt - rnd() % 64;     /* covers rcv_nxt */
			else
				seq = nxt - 3000 + rnd() % (WND + 6000);
			struct net_pkt *p = mkpkt(seq, len, 0);
			uint32_t nxt0 = nxt, wnd_end = nxt + WND;
			if (tcp_seq_le(seq, nxt) && rnd() % 2 &&
			    tcp_seq_gt(seq + len, nxt)) {
				/* The engine's in-order path. */
				net_pkt_adj(p, nxt - seq);
				nxt += p->len;
				tcp_rcvq_push(&rq, &po, p, COLL);
			} else {
				uint32_t before_pkts = q.pkts;
				int r = tcp_oooq_insert(&q, &po, p, nxt, wnd_end,
							NULL);
				if (r == 1) {
					inserted++;
					if (q.pkts == before_pkts)
						evict_seen++;
					/* p is queued: the first block holds it. */
					struct tcp_sack_block blk[TCP_OOO_BLOCKS];
					unsigned n = tcp_oooq_blocks(&q, blk, 4);
					if (n == 0 ||
					    tcp_seq_gt(blk[0].left, p->seq) ||
					    tcp_seq_lt(blk[0].right, p->seq + p->len) ||
					    !pkt_holds(p, p->seq, 0))
						BAD();
				}
			}
			if (!oooq_ok(&q, nxt0, wnd_end))
				BAD();
			tcp_oooq_drain(&q, &po, &nxt, &rq, COLL);
			if (!oooq_ok(&q, nxt, wnd_end) ||
			    (q.head != NULL && !tcp_seq_gt(q.head->seq, nxt)) ||
			    rq.bytes != nxt - readpos)
				BAD();
			if (n_inuse - base_inuse != (int)(q.pkts + rq.pkts))
				BAD();
			/* Blocks: disjoint, not adjacent, not before nxt. */
			struct tcp_sack_block blk[TCP_OOO_BLOCKS];
			unsigned n = tcp_oooq_blocks(&q, blk, 4);
			if (n > q.pkts || (q.pkts > 0 && n == 0))
				BAD();
			for (unsigned i = 0; i < n; i++) {
				if (!tcp_seq_gt(blk[i].left, nxt) ||
				    !tcp_seq_lt(blk[i].left, blk[i].right))
					BAD();
				for (unsigned k = 0; k < i; k++)
					if (tcp_seq_le(blk[i].left, blk[k].right) &&
					    tcp_seq_le(blk[k].left, blk[i].right))
						BAD();
			}
			if (rq.pkts > 64 || rnd() % 16 == 0) {
				if (!rcvq_holds(&rq, readpos))
					BAD();
				readpos += tcp_rcvq_consume(&rq, &po,
							    rnd() % (rq.bytes + 1));
			}
		}
		CHECK_MSG(bad == 0, "base %#x: %d bad steps", isn, bad);
		CHECK_MSG(nxt - isn >= STREAM, "base %#x: stalled at %u", isn,
			  nxt - isn);
		CHECK(inserted > 1000 && evict_seen > 0);
		CHECK(rcvq_holds(&rq, readpos));
		tcp_oooq_purge(&q, &po);
		tcp_rcvq_purge(&rq, &po);
		CHECK_EQ_INT(n_inuse, base_inuse);
	}
	CHECK_EQ_INT(bad_frees, 0);
}

int main(void)
{
	RUN(test_chunk_pool);
	RUN(test_sndbuf_boundaries);
	RUN(test_sndbuf_ack_outside);
	RUN(test_sndbuf_cap_and_pool);
	RUN(test_sndbuf_random);
	RUN(test_rcvq_iov_consume);
	RUN(test_rcvq_collapse);
	RUN(test_oooq_table);
	RUN(test_oooq_blocks_limit);
	RUN(test_oooq_drain);
	RUN(test_oooq_random);
	return CHECK_DONE();
}
