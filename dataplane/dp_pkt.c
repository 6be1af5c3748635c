/*
 * dataplane/dp_pkt.c - tcpstack packets backed by rte_mbufs (dp_pkt.h).
 */
#include "dataplane/dp_pkt.h"

#include <errno.h>
#include <string.h>
#include <time.h>

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

static void send_burst(struct dp_txq *q, struct rte_mbuf **m, uint16_t n)
{
	uint16_t sent = rte_eth_tx_burst(q->port, q->queue, m, n);
	if (sent > 0)
		q->bursts++;
	q->packets += sent;
	if (unlikely(sent < n)) {
		q->refused += (uint64_t)(n - sent);
		rte_pktmbuf_free_bulk(m + sent, n - sent);
	}
}

/* Test runs only: pending frames into the stage, due frames out. */
static void impaired_flush(struct dp_txq *q)
{
	void *in[DP_TXQ_MAX], *out[DP_TXQ_MAX];
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	uint64_t now = (uint64_t)ts.tv_sec * 1000000u +
		       (uint64_t)ts.tv_nsec / 1000u;
	unsigned n = q->n, k;
	memcpy(in, q->m, n * sizeof in[0]);
	q->n = 0;
	k = n ? dp_impair_push(q->impair, in, n, now, out, DP_TXQ_MAX) : 0;
	do {
		if (k > 0)
			send_burst(q, (struct rte_mbuf **)out, (uint16_t)k);
	} while ((k = dp_impair_pop(q->impair, now, out, DP_TXQ_MAX)) > 0);
}

void dp_txq_flush(struct dp_txq *q)
{
	if (unlikely(q->impair != NULL)) {
		impaired_flush(q);
		return;
	}
	if (q->n == 0)
		return;
	send_burst(q, q->m, q->n);
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
