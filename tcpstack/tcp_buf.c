/*
 * tcpstack/tcp_buf.c - the TCP engine's per-connection buffers.
 *
 * Send buffer: a chain of chunks holding the bytes [una, una + len). The
 * first byte sits at head_off in head (head_off < TCP_CHUNK_SIZE); the
 * chain has exactly ceil((head_off + len) / TCP_CHUNK_SIZE) chunks, so an
 * empty buffer holds none (head NULL, head_off 0) and the tail is never
 * an empty chunk.
 *
 * Receive queue: packets linked through net_pkt.next, none empty, with
 * head_off < head->len.
 *
 * Out-of-order queue: packets sorted by net_pkt.seq, none empty, none
 * overlapping (adjacent ones form one contiguous range). An insert keeps
 * only the first run of the new segment's bytes that nothing queued
 * covers (the lowest-sequence gap it fills, after cutting to
 * [rcv_nxt, wnd_end)); its bytes beyond that run are cut, since one
 * packet cannot be split without allocating. The peer sends them again.
 */
#include "tcpstack/tcp_buf.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct tcp_chunk {
	struct tcp_chunk *next;
	uint8_t data[TCP_CHUNK_SIZE];
};

struct tcp_chunk_pool {
	struct tcp_chunk *free;
	size_t avail, total;
	struct tcp_chunk chunk[];
};

/* ---- chunk pool ---- */

struct tcp_chunk_pool *tcp_chunk_pool_create(uint64_t bytes)
{
	uint64_t n = bytes / TCP_CHUNK_SIZE;
	if (n == 0)
		n = 1;
	if (n > (SIZE_MAX - sizeof(struct tcp_chunk_pool)) /
			sizeof(struct tcp_chunk))
		return NULL;
	struct tcp_chunk_pool *pool = malloc(sizeof(*pool) +
					     n * sizeof(struct tcp_chunk));
	if (pool == NULL)
		return NULL;
	pool->free = NULL;
	for (size_t i = n; i-- > 0;) {
		pool->chunk[i].next = pool->free;
		pool->free = &pool->chunk[i];
	}
	pool->avail = pool->total = n;
	return pool;
}

void tcp_chunk_pool_free(struct tcp_chunk_pool *pool)
{
	free(pool);
}

size_t tcp_chunk_pool_avail(const struct tcp_chunk_pool *pool)
{
	return pool->avail;
}

size_t tcp_chunk_pool_total(const struct tcp_chunk_pool *pool)
{
	return pool->total;
}

static struct tcp_chunk *chunk_get(struct tcp_chunk_pool *pool)
{
	struct tcp_chunk *c = pool->free;
	if (c != NULL) {
		pool->free = c->next;
		pool->avail--;
		c->next = NULL;
	}
	return c;
}

static void chunk_put(struct tcp_chunk_pool *pool, struct tcp_chunk *c)
{
	assert(pool->avail < pool->total);
	c->next = pool->free;
	pool->free = c;
	pool->avail++;
}

/* ---- send buffer ---- */

void tcp_sndbuf_init(struct tcp_sndbuf *b, uint32_t una, uint32_t cap)
{
	*b = (struct tcp_sndbuf){.una = una, .cap = cap};
}

void tcp_sndbuf_fini(struct tcp_sndbuf *b, struct tcp_chunk_pool *pool)
{
	struct tcp_chunk *c = b->head;
	while (c != NULL) {
		struct tcp_chunk *next = c->next;
		chunk_put(pool, c);
		c = next;
	}
	b->head = b->tail = NULL;
	b->len = 0;
	b->head_off = 0;
}

/* Bytes used in the tail chunk (1..TCP_CHUNK_SIZE), when there is one. */
static uint32_t tail_used(const struct tcp_sndbuf *b)
{
	uint64_t end = (uint64_t)b->head_off + b->len;
	return (uint32_t)((end - 1) % TCP_CHUNK_SIZE) + 1;
}

uint32_t tcp_sndbuf_append(struct tcp_sndbuf *b, struct tcp_chunk_pool *pool,
			   const void *p, uint32_t n)
{
	const uint8_t *src = p;
	uint32_t room = tcp_sndbuf_space(b);
	if (n > room)
		n = room;
	uint32_t done = 0;
	while (done < n) {
		uint32_t used = b->tail != NULL ? tail_used(b) : TCP_CHUNK_SIZE;
		if (used == TCP_CHUNK_SIZE) {
			struct tcp_chunk *c = chunk_get(pool);
			if (c == NULL)
				break;
			if (b->tail != NULL)
				b->tail->next = c;
			else
				b->head = c;
			b->tail = c;
			used = 0;
		}
		uint32_t k = TCP_CHUNK_SIZE - used;
		if (k > n - done)
			k = n - done;
		memcpy(b->tail->data + used, src + done, k);
		b->len += k;
		done += k;
	}
	return done;
}

int tcp_sndbuf_copy(const struct tcp_sndbuf *b, uint32_t seq, uint32_t n,
		    void *dst)
{
	uint32_t off = seq - b->una;
	if (off > b->len || n > b->len - off)
		return -EINVAL;
	uint64_t pos = (uint64_t)b->head_off + off;
	const struct tcp_chunk *c = b->head;
	for (; pos >= TCP_CHUNK_SIZE && c != NULL; pos -= TCP_CHUNK_SIZE)
		c = c->next;
	uint8_t *out = dst;
	while (n > 0) {
		assert(c != NULL);
		uint32_t k = TCP_CHUNK_SIZE - (uint32_t)pos;
		if (k > n)
			k = n;
		memcpy(out, c->data + pos, k);
		out += k;
		n -= k;
		pos = 0;
		c = c->next;
	}
	return 0;
}

uint32_t tcp_sndbuf_ack(struct tcp_sndbuf *b, struct tcp_chunk_pool *pool,
			uint32_t ack)
{
	if (tcp_seq_le(ack, b->una))
		return 0;
	uint32_t d = ack - b->una;
	if (d > b->len)
		d = b->len;
	b->una += d;
	b->len -= d;
	if (b->len == 0) {
		tcp_sndbuf_fini(b, pool);
		return d;
	}
	uint64_t off = (uint64_t)b->head_off + d;
	while (off >= TCP_CHUNK_SIZE) {
		struct tcp_chunk *c = b->head;
		b->head = c->next;
		chunk_put(pool, c);
		off -= TCP_CHUNK_SIZE;
	}
	b->head_off = (uint32_t)off;
	assert(b->head != NULL);
	return d;
}

/* ---- in-order receive queue ---- */

static void pkt_free(const struct tcp_buf_ops *po, struct net_pkt *p)
{
	po->ops->free(po->env, p);
}

int tcp_rcvq_push(struct tcp_rcvq *q, const struct tcp_buf_ops *po,
		  struct net_pkt *p, uint32_t collapse_max)
{
	struct net_pkt *t = q->tail;
	if (p->len == 0) {
		pkt_free(po, p);
		return 1;
	}
	if (t != NULL && p->len <= collapse_max) {
		uint8_t *d = net_pkt_append(t, p->len);
		if (d != NULL) {
			memcpy(d, p->data, p->len);
			q->bytes += p->len;
			pkt_free(po, p);
			return 1;
		}
	}
	p->next = NULL;
	if (t != NULL)
		t->next = p;
	else
		q->head = p;
	q->tail = p;
	q->bytes += p->len;
	q->pkts++;
	return 0;
}

unsigned tcp_rcvq_iov(const struct tcp_rcvq *q, struct iovec *iov, unsigned n,
		      size_t *bytes)
{
	size_t total = 0;
	unsigned i = 0;
	uint32_t off = q->head_off;
	for (const struct net_pkt *p = q->head; p != NULL && i < n;
	     p = p->next) {
		iov[i].iov_base = p->data + off;
		iov[i].iov_len = p->len - off;
		total += p->len - off;
		off = 0;
		i++;
	}
	if (bytes != NULL)
		*bytes = total;
	return i;
}

uint32_t tcp_rcvq_consume(struct tcp_rcvq *q, const struct tcp_buf_ops *po,
			  uint32_t n)
{
	if (n > q->bytes)
		n = q->bytes;
	uint32_t left = n;
	while (left > 0) {
		struct net_pkt *p = q->head;
		uint32_t avail = p->len - q->head_off;
		if (left < avail) {
			q->head_off += left;
			break;
		}
		left -= avail;
		q->head = p->next;
		q->head_off = 0;
		q->pkts--;
		pkt_free(po, p);
	}
	if (q->head == NULL)
		q->tail = NULL;
	q->bytes -= n;
	return n;
}

void tcp_rcvq_purge(struct tcp_rcvq *q, const struct tcp_buf_ops *po)
{
	struct net_pkt *p = q->head;
	while (p != NULL) {
		struct net_pkt *next = p->next;
		pkt_free(po, p);
		p = next;
	}
	*q = (struct tcp_rcvq){0};
}

/* ---- out-of-order queue ---- */

void tcp_oooq_init(struct tcp_oooq *q, uint32_t max)
{
	*q = (struct tcp_oooq){.max = max};
}

static inline uint32_t pkt_end(const struct net_pkt *p)
{
	return p->seq + p->len;
}

/* Set last_left/last_right to the contiguous range holding p. */
static void set_last(struct tcp_oooq *q, const struct net_pkt *p)
{
	uint32_t left = 0, right = 0;
	bool found = false;
	for (const struct net_pkt *c = q->head; c != NULL; c = c->next) {
		if (c == q->head || c->seq != right) {
			if (found)
				break;
			left = c->seq;
		}
		right = pkt_end(c);
		if (c == p)
			found = true;
	}
	assert(found);
	q->last_left = left;
	q->last_right = right;
}

/* Unlink and free the tail (q->pkts > 0). */
static void drop_tail(struct tcp_oooq *q, const struct tcp_buf_ops *po)
{
	struct net_pkt *t = q->tail, *pred = NULL;
	for (struct net_pkt *c = q->head; c != t; c = c->next)
		pred = c;
	if (pred != NULL)
		pred->next = NULL;
	else
		q->head = NULL;
	q->tail = pred;
	q->pkts--;
	q->bytes -= t->len;
	pkt_free(po, t);
}

int tcp_oooq_insert(struct tcp_oooq *q, const struct tcp_buf_ops *po,
		    struct net_pkt *p, uint32_t rcv_nxt, uint32_t wnd_end,
		    struct tcp_sack_block *dup)
{
	uint32_t seq = p->seq, end = pkt_end(p);
	if (dup != NULL)
		dup->left = dup->right = seq;

	/* Cut to the window [rcv_nxt, wnd_end). */
	if (p->len == 0 || tcp_seq_le(end, rcv_nxt))
		goto drop;
	if (tcp_seq_lt(seq, rcv_nxt))
		seq = rcv_nxt;
	if (tcp_seq_ge(seq, wnd_end))
		goto drop;
	if (tcp_seq_gt(end, wnd_end))
		end = wnd_end;

	/* Skip what ends at or before seq; then every queued packet that
	 * covers seq moves seq past it (the first copy is kept). */
	struct net_pkt *prev = NULL, *cur = q->head;
	while (cur != NULL && tcp_seq_le(pkt_end(cur), seq)) {
		prev = cur;
		cur = cur->next;
	}
	uint32_t first = seq;
	while (cur != NULL && tcp_seq_le(cur->seq, seq)) {
		seq = pkt_end(cur);
		prev = cur;
		cur = cur->next;
	}
	if (dup != NULL && seq != first) {
		dup->left = first;
		dup->right = tcp_seq_lt(seq, end) ? seq : end;
	}
	if (tcp_seq_ge(seq, end))
		goto drop;
	/* Keep only the gap before the next queued packet. */
	if (cur != NULL && tcp_seq_lt(cur->seq, end))
		end = cur->seq;

	if (q->pkts >= q->max) {
		if (cur == NULL || q->max == 0)
			goto drop;
		/* p lies before the last queued packet: that one goes. */
		if (cur == q->tail)
			cur = NULL;
		drop_tail(q, po);
	}

	net_pkt_adj(p, seq - p->seq);
	net_pkt_trim(p, end - seq);
	p->seq = seq;
	p->next = cur;
	if (prev != NULL)
		prev->next = p;
	else
		q->head = p;
	if (cur == NULL)
		q->tail = p;
	q->pkts++;
	q->bytes += p->len;
	set_last(q, p);
	return 1;
drop:
	pkt_free(po, p);
	return 0;
}

uint32_t tcp_oooq_drain(struct tcp_oooq *q, const struct tcp_buf_ops *po,
			uint32_t *rcv_nxt, struct tcp_rcvq *rq,
			uint32_t collapse_max)
{
	uint32_t nxt = *rcv_nxt, moved = 0;
	struct net_pkt *p;
	while ((p = q->head) != NULL && tcp_seq_le(p->seq, nxt)) {
		q->head = p->next;
		q->pkts--;
		q->bytes -= p->len;
		p->next = NULL;
		if (tcp_seq_le(pkt_end(p), nxt)) {
			pkt_free(po, p);
			continue;
		}
		net_pkt_adj(p, nxt - p->seq);
		p->seq = nxt;
		nxt += p->len;
		moved += p->len;
		tcp_rcvq_push(rq, po, p, collapse_max);
	}
	if (q->head == NULL)
		q->tail = NULL;
	*rcv_nxt = nxt;
	/* A contiguous range is delivered whole or not at all; the latest,
	 * once delivered, is no SACK block any more. */
	if (q->pkts == 0 || tcp_seq_le(q->last_right, nxt))
		q->last_left = q->last_right = nxt;
	assert(q->last_left == q->last_right || tcp_seq_gt(q->last_left, nxt));
	return moved;
}

unsigned tcp_oooq_blocks(const struct tcp_oooq *q, struct tcp_sack_block *out,
			 unsigned n)
{
	if (n > TCP_OOO_BLOCKS)
		n = TCP_OOO_BLOCKS;
	if (n == 0 || q->pkts == 0)
		return 0;
	bool have_last = q->last_left != q->last_right;
	unsigned k = 0;
	if (have_last)
		out[k++] = (struct tcp_sack_block){q->last_left, q->last_right};
	const struct net_pkt *c = q->head;
	while (c != NULL && k < n) {
		struct tcp_sack_block r = {c->seq, pkt_end(c)};
		for (c = c->next; c != NULL && c->seq == r.right; c = c->next)
			r.right = pkt_end(c);
		if (have_last && r.left == q->last_left)
			continue;
		out[k++] = r;
	}
	return k;
}

void tcp_oooq_purge(struct tcp_oooq *q, const struct tcp_buf_ops *po)
{
	struct net_pkt *p = q->head;
	while (p != NULL) {
		struct net_pkt *next = p->next;
		pkt_free(po, p);
		p = next;
	}
	q->head = q->tail = NULL;
	q->pkts = q->bytes = 0;
	q->last_left = q->last_right = 0;
}
