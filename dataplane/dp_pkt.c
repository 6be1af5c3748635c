/*
 * dataplane/dp_pkt.c - tcpstack packets backed by rte_mbufs (dp_pkt.h).
 */
#include "dataplane/dp_pkt.h"

#include <errno.h>

#include <rte_ethdev.h>

struct rte_mempool *dp_pkt_pool_create(const char *name, unsigned n,
				       int socket)
{
	uint16_t priv = (uint16_t)RTE_ALIGN(sizeof(struct net_pkt),
					    RTE_MBUF_PRIV_ALIGN);
	unsigned cache = n / 16 < 256 ? n / 16 : 256;
	RTE_BUILD_BUG_ON(RTE_PKTMBUF_HEADROOM < NET_PKT_HEADROOM);
	return rte_pktmbuf_pool_create(name, n, cache, priv,
				       RTE_MBUF_DEFAULT_BUF_SIZE, socket);
}

static struct net_pkt *pkt_alloc(void *env)
{
	struct dp_pkt_env *e = env;
	struct rte_mbuf *m = rte_pktmbuf_alloc(e->pool);
	if (unlikely(m == NULL)) {
		e->alloc_fail++;
		return NULL;
	}
	struct net_pkt *p = dp_pkt_from_mbuf(m);
	return p;
}

static void pkt_free(void *env, struct net_pkt *p)
{
	rte_pktmbuf_free((struct rte_mbuf *)p->priv);
}

void dp_txq_flush(struct dp_txq *q)
{
	if (q->n == 0)
		return;
	uint16_t sent = rte_eth_tx_burst(q->port, q->queue, q->m, q->n);
	if (sent > 0)
		q->bursts++;
	q->packets += sent;
	if (unlikely(sent < q->n)) {
		q->refused += (uint64_t)(q->n - sent);
		rte_pktmbuf_free_bulk(q->m + sent, q->n - sent);
	}
	q->n = 0;
}

static int pkt_tx(void *env, struct net_pkt *p)
{
	struct dp_txq *q = &((struct dp_pkt_env *)env)->txq;
	if (unlikely(q->n == DP_TXQ_MAX))
		dp_txq_flush(q);
	q->m[q->n++] = dp_pkt_sync(p);
	return 0;
}

const struct net_pkt_ops dp_pkt_ops = {
	.alloc = pkt_alloc,
	.free = pkt_free,
	.tx = pkt_tx,
};
