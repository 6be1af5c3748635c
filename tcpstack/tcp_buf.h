/*
 * tcpstack/tcp_buf.h - the TCP engine's per-connection buffers: the send
 * buffer (bytes in chunks from a per-stack pool), the in-order receive
 * queue (the packets data arrived in, zero copy) and the bounded
 * out-of-order queue with the SACK blocks it implies.
 *
 * Private to tcpstack/ (tcp.h is the public interface). One owner (the
 * net lcore); not thread-safe. Sequence arithmetic is modulo 2^32
 * (tcp_seq_lt and friends). No function allocates except
 * tcp_chunk_pool_create(); packets are freed through the ops given.
 */
#ifndef SLUICE_TCPSTACK_TCP_BUF_H
#define SLUICE_TCPSTACK_TCP_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "tcpstack/pkt.h"
#include "tcpstack/tcpopt.h"

/* ---- sequence numbers (RFC 9293 3.4), wrap-safe ---- */
static inline bool tcp_seq_lt(uint32_t a, uint32_t b) { return (int32_t)(a - b) < 0; }
static inline bool tcp_seq_le(uint32_t a, uint32_t b) { return (int32_t)(a - b) <= 0; }
static inline bool tcp_seq_gt(uint32_t a, uint32_t b) { return (int32_t)(a - b) > 0; }
static inline bool tcp_seq_ge(uint32_t a, uint32_t b) { return (int32_t)(a - b) >= 0; }
static inline uint32_t tcp_seq_max(uint32_t a, uint32_t b) { return tcp_seq_gt(a, b) ? a : b; }
static inline uint32_t tcp_seq_min(uint32_t a, uint32_t b) { return tcp_seq_lt(a, b) ? a : b; }

/* ---- send buffer ---- */

#define TCP_CHUNK_SIZE 16384u

struct tcp_chunk;
struct tcp_chunk_pool;

/* A pool of bytes / TCP_CHUNK_SIZE chunks (at least 1) in one allocation;
 * NULL when out of memory. */
struct tcp_chunk_pool *tcp_chunk_pool_create(uint64_t bytes);
void tcp_chunk_pool_free(struct tcp_chunk_pool *pool);  /* NULL ok */
size_t tcp_chunk_pool_avail(const struct tcp_chunk_pool *pool); /* chunks */
size_t tcp_chunk_pool_total(const struct tcp_chunk_pool *pool); /* chunks */

/*
 * The bytes of one direction not yet acknowledged: from sequence `una`
 * (the oldest byte kept) to una + len. Chunks are taken from the pool as
 * data is appended and returned as acknowledgements free them, so an
 * idle connection holds none. Embedded in the connection; zero it (or
 * tcp_sndbuf_init) before use.
 */
struct tcp_sndbuf {
	struct tcp_chunk *head, *tail;
	uint32_t una;       /* sequence number of the first kept byte */
	uint32_t len;       /* bytes kept */
	uint32_t head_off;  /* offset of `una` in head */
	uint32_t cap;       /* most bytes kept */
};

void tcp_sndbuf_init(struct tcp_sndbuf *b, uint32_t una, uint32_t cap);

/* Return all chunks to the pool (the buffer becomes empty). */
void tcp_sndbuf_fini(struct tcp_sndbuf *b, struct tcp_chunk_pool *pool);

/* Free space: cap - len. */
static inline uint32_t tcp_sndbuf_space(const struct tcp_sndbuf *b)
{
	return b->cap - b->len;
}

/* Copy up to n bytes from p at the end: the bytes taken (less than n when
 * cap is reached or the pool runs out of chunks; 0 then). */
uint32_t tcp_sndbuf_append(struct tcp_sndbuf *b, struct tcp_chunk_pool *pool,
			   const void *p, uint32_t n);

/* Copy n bytes starting at sequence seq (una <= seq, seq + n <= una + len)
 * to dst. Returns 0, or -EINVAL when the range is not all in the buffer. */
int tcp_sndbuf_copy(const struct tcp_sndbuf *b, uint32_t seq, uint32_t n,
		    void *dst);

/* Drop bytes before sequence ack (acknowledged), freeing emptied chunks;
 * ack outside (una, una + len] only drops what it covers. Returns the
 * bytes dropped. */
uint32_t tcp_sndbuf_ack(struct tcp_sndbuf *b, struct tcp_chunk_pool *pool,
			uint32_t ack);

/* ---- in-order receive queue ---- */

/*
 * Packets whose data is in order and not yet consumed by the application,
 * linked through net_pkt.next; each packet's data[0..len) is payload only
 * (headers cut). `bytes` is the payload total, `pkts` the packet count.
 * Small segments are collapsed: a payload of at most collapse_max bytes
 * that fits in the tail packet's tailroom is copied there and its packet
 * freed, so a flood of 1-byte segments cannot hold one buffer per byte.
 */
struct tcp_rcvq {
	struct net_pkt *head, *tail;
	uint32_t bytes, pkts;
	uint32_t head_off;  /* bytes of head already consumed */
};

struct tcp_buf_ops {
	const struct net_pkt_ops *ops;
	void *env;
};

/* Append p (takes it; p->data/len is the payload). Returns 1 when it was
 * collapsed into the tail packet or was empty (p freed), 0 when linked. */
int tcp_rcvq_push(struct tcp_rcvq *q, const struct tcp_buf_ops *po,
		  struct net_pkt *p, uint32_t collapse_max);

/* Up to n iovecs over the queued bytes; returns the count, *bytes the
 * total (may be NULL). */
unsigned tcp_rcvq_iov(const struct tcp_rcvq *q, struct iovec *iov, unsigned n,
		      size_t *bytes);

/* Consume n bytes (clamped to q->bytes), freeing packets fully read;
 * returns the bytes consumed. */
uint32_t tcp_rcvq_consume(struct tcp_rcvq *q, const struct tcp_buf_ops *po,
			  uint32_t n);

/* Free everything. */
void tcp_rcvq_purge(struct tcp_rcvq *q, const struct tcp_buf_ops *po);

/* ---- out-of-order queue ---- */

/*
 * Segments that arrived beyond rcv_nxt, sorted by sequence number
 * (net_pkt.seq is the first payload byte), without overlaps: an insert
 * trims the new payload against what is queued (RFC 9293 3.10.7.4: keep
 * the first copy) down to its first run of new bytes (a packet cannot be
 * split; the peer resends the rest), drops it when nothing new is left,
 * and the queue never holds more than `max` packets (a new packet beyond
 * that is dropped, unless it lies before the last queued one, in which
 * case the last one is dropped to make room: data nearest rcv_nxt is
 * worth most).
 * Blocks: the contiguous ranges queued, most recently changed first, as
 * RFC 2018 asks for the SACK option.
 */
#define TCP_OOO_BLOCKS TCP_SACK_MAX_BLOCKS

struct tcp_oooq {
	struct net_pkt *head, *tail;
	uint32_t pkts, bytes, max;
	/* The contiguous range touched by the latest insert (for the first
	 * SACK block), valid when pkts > 0; empty (left == right) once a
	 * drain has delivered it. */
	uint32_t last_left, last_right;
};

void tcp_oooq_init(struct tcp_oooq *q, uint32_t max);

/*
 * Insert p (takes it) carrying payload for [p->seq, p->seq + p->len);
 * rcv_nxt and wnd_end bound what is kept: bytes before rcv_nxt or from
 * wnd_end on are cut. Returns 1 queued, 0 dropped (duplicate, outside,
 * or the queue full); either way p is consumed. dup (may be NULL) gets
 * the leading part of p's window-clipped range that was queued already
 * (data the peer sent twice, for a D-SACK block, RFC 2883); left ==
 * right when there is none.
 */
int tcp_oooq_insert(struct tcp_oooq *q, const struct tcp_buf_ops *po,
		    struct net_pkt *p, uint32_t rcv_nxt, uint32_t wnd_end,
		    struct tcp_sack_block *dup);

/*
 * Move every packet that now starts at or before rcv_nxt onto rq (trimmed
 * so it starts exactly at rcv_nxt; packets wholly before it are freed),
 * advancing *rcv_nxt past each. Returns the bytes moved.
 */
uint32_t tcp_oooq_drain(struct tcp_oooq *q, const struct tcp_buf_ops *po,
			uint32_t *rcv_nxt, struct tcp_rcvq *rq,
			uint32_t collapse_max);

/* The SACK blocks to send: the most recently changed range first, then
 * the others in sequence order, at most n (<= TCP_OOO_BLOCKS). Returns
 * the count. */
unsigned tcp_oooq_blocks(const struct tcp_oooq *q, struct tcp_sack_block *out,
			 unsigned n);

/* Free everything. */
void tcp_oooq_purge(struct tcp_oooq *q, const struct tcp_buf_ops *po);

#endif
