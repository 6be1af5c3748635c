/*
 * dataplane/dp_pkt.h - tcpstack packets (pkt.h) backed by rte_mbufs.
 *
 * Every mbuf of a dataplane pool carries its struct net_pkt in the mbuf's
 * private area (pool priv_size), so turning an mbuf into a net_pkt and
 * back costs no allocation: dp_pkt_from_mbuf() describes the mbuf's data,
 * dp_pkt_sync() writes the net_pkt's view (data, len) back into the mbuf
 * (data_off, data_len, pkt_len) before it goes to the port.
 *
 * dp_pkt_ops is the net_pkt_ops table of one net lcore; env is that
 * lcore's struct dp_pkt_env:
 *   alloc  rte_pktmbuf_alloc from env->pool (NULL when empty, counted in
 *          env->alloc_fail); headroom RTE_PKTMBUF_HEADROOM (>= 128).
 *   free   rte_pktmbuf_free (to whichever pool the mbuf came from).
 *   tx     sync and append to env->txq; a full array is flushed first.
 *          Always 0: packets the port refuses are freed by the flush and
 *          counted in txq.refused.
 * Single-segment mbufs only (the receive path drops chained ones).
 * One env per lcore: not thread-safe.
 */
#ifndef SLUICE_DATAPLANE_DP_PKT_H
#define SLUICE_DATAPLANE_DP_PKT_H

#include <stdint.h>

#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "dataplane/dp_impair.h"
#include "tcpstack/pkt.h"

#define DP_BURST 32
#define DP_TXQ_MAX 128

/* A port TX queue's pending packets, flushed with rte_eth_tx_burst. */
struct dp_txq {
	uint16_t port, queue;
	uint16_t n;
	uint64_t bursts;    /* rte_eth_tx_burst calls that sent >= 1 */
	uint64_t packets;   /* accepted by the port */
	uint64_t refused;   /* refused by the port, freed here */
	struct dp_impair *impair;  /* NULL, or frames pass it first (tests) */
	struct rte_mbuf *m[DP_TXQ_MAX];
};

struct dp_pkt_env {
	struct rte_mempool *pool;
	uint64_t alloc_fail;
	struct dp_txq txq;
};

extern const struct net_pkt_ops dp_pkt_ops;

/* A pool of n mbufs with 2 KiB data rooms and a net_pkt in each private
 * area, on socket. NULL with rte_errno set on failure. Free with
 * rte_mempool_free(). */
struct rte_mempool *dp_pkt_pool_create(const char *name, unsigned n,
				       int socket);

static inline struct net_pkt *dp_pkt_of(struct rte_mbuf *m)
{
	return (struct net_pkt *)rte_mbuf_to_priv(m);
}

/* Describe m's first segment as a net_pkt (in m's private area). */
static inline struct net_pkt *dp_pkt_from_mbuf(struct rte_mbuf *m)
{
	struct net_pkt *p = dp_pkt_of(m);
	p->data = rte_pktmbuf_mtod(m, uint8_t *);
	p->len = m->data_len;
	p->headroom = rte_pktmbuf_headroom(m);
	p->tailroom = rte_pktmbuf_tailroom(m);
	p->priv = m;
	p->next = NULL;
	p->seq = 0;
	return p;
}

/* Write p's data and length back into its mbuf; returns the mbuf. */
static inline struct rte_mbuf *dp_pkt_sync(struct net_pkt *p)
{
	struct rte_mbuf *m = (struct rte_mbuf *)p->priv;
	m->data_off = (uint16_t)(p->data - (uint8_t *)m->buf_addr);
	m->data_len = (uint16_t)p->len;
	m->pkt_len = p->len;
	return m;
}

/* Send everything pending on q; frees and counts what the port refuses.
 * With q->impair, pending frames go through the impairment stage and
 * what it releases (now due) is sent: call every loop turn even when
 * nothing is pending. */
void dp_txq_flush(struct dp_txq *q);

#endif
