/*
 * dataplane/dp_lcore.c - the net lcore loop, steering and back-off
 * (dp_lcore.h).
 */
#include "dataplane/dp_lcore.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>

#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>
#include <urcu-qsbr.h>

/* Impairment stage buffers: copies from the lcore's pool. */
static void *im_copy(void *env, void *frame)
{
	struct dp_lcore *lc = env;
	return rte_pktmbuf_copy(frame, lc->env.pool, 0, UINT32_MAX);
}

static void im_free(void *env, void *frame)
{
	rte_pktmbuf_free(frame);
}

int dp_lcore_init(struct dp_lcore *lc, unsigned idx, unsigned lcore_id,
		  struct dp_shared *sh, struct rte_mempool *pool,
		  uint16_t port, const struct net_stack_config *netcfg,
		  const struct tcp_stack_config *tcpcfg, bool echo,
		  bool discard, const struct dp_impair_config *impair,
		  char *err, size_t errsz)
{
	char name[RTE_RING_NAMESIZE];
	int rc;

	lc->idx = idx;
	lc->lcore_id = lcore_id;
	lc->sh = sh;
	lc->env.pool = pool;
	lc->env.txq.port = port;
	lc->env.txq.queue = (uint16_t)idx;
	snprintf(name, sizeof name, "dp_inbox_%u", idx);
	lc->inbox = rte_ring_create(name, DP_INBOX_SIZE,
				    (int)rte_lcore_to_socket_id(lcore_id),
				    RING_F_SC_DEQ);
	if (lc->inbox == NULL) {
		snprintf(err, errsz, "lcore %u: inbox ring: %s", lcore_id,
			 rte_strerror(rte_errno));
		return -ENOMEM;
	}
	lc->net = net_stack_create(netcfg, &dp_pkt_ops, &lc->env);
	if (lc->net == NULL) {
		snprintf(err, errsz, "lcore %u: net_stack_create failed "
			 "(address, MTU or memory)", lcore_id);
		return -EINVAL;
	}
	lc->tcp = tcp_stack_create(tcpcfg, lc->net, &dp_pkt_ops, &lc->env,
				   dp_now_us());
	if (lc->tcp == NULL) {
		snprintf(err, errsz, "lcore %u: tcp_stack_create failed: check"
			 " dataplane.tcp sizes (snd_pool, max_conns) against "
			 "memory", lcore_id);
		return -EINVAL;
	}
	if (impair != NULL && !dp_impair_config_is_null(impair)) {
		struct dp_impair_ops ops = {im_copy, im_free, lc};
		struct dp_impair_config c = *impair;
		c.seed = impair->seed * 2 * DP_MAX_LCORES + 2 * idx;
		lc->rx_impair = dp_impair_create(&c, &ops);
		c.seed++;
		lc->env.txq.impair = dp_impair_create(&c, &ops);
		if (lc->rx_impair == NULL || lc->env.txq.impair == NULL) {
			snprintf(err, errsz, "lcore %u: impairment stage: bad "
				 "spec or no memory", lcore_id);
			return -EINVAL;
		}
	}
	if ((echo || discard) &&
	    (rc = dp_diag_start(&lc->diag, lc->tcp, echo, discard)) < 0) {
		snprintf(err, errsz, "lcore %u: diag services: %s", lcore_id,
			 strerror(-rc));
		return rc;
	}
	return 0;
}

void dp_lcore_fini(struct dp_lcore *lc)
{
	struct rte_mbuf *m[DP_BURST];
	unsigned n;

	tcp_stack_free(lc->tcp);
	lc->tcp = NULL;
	net_stack_free(lc->net);
	lc->net = NULL;
	dp_txq_flush(&lc->env.txq);
	dp_impair_free(lc->env.txq.impair);  /* held frames freed */
	lc->env.txq.impair = NULL;
	dp_impair_free(lc->rx_impair);
	lc->rx_impair = NULL;
	for (unsigned j = 0; j < DP_MAX_LCORES; j++) {
		rte_pktmbuf_free_bulk(lc->out[j].m, lc->out[j].n);
		lc->out[j].n = 0;
	}
	if (lc->inbox != NULL) {
		while ((n = rte_ring_dequeue_burst(lc->inbox, (void **)m,
						   DP_BURST, NULL)) > 0)
			rte_pktmbuf_free_bulk(m, n);
		rte_ring_free(lc->inbox);
		lc->inbox = NULL;
	}
}

static void publish(struct dp_lcore *lc, uint64_t now)
{
	uint32_t seq = lc->snap_seq;
	__atomic_store_n(&lc->snap_seq, seq + 1, __ATOMIC_RELAXED);
	rte_smp_wmb();
	struct dp_snapshot *s = &lc->snap;
	s->lc = lc->st;
	s->tx_bursts = lc->env.txq.bursts;
	s->tx_packets = lc->env.txq.packets;
	s->tx_refused = lc->env.txq.refused;
	s->alloc_fail = lc->env.alloc_fail;
	net_stack_stats(lc->net, &s->net);
	tcp_stack_stats(lc->tcp, &s->tcp);
	s->diag = lc->diag.st;
	s->smtp = lc->smtp != NULL;
	if (s->smtp)
		dp_smtp_stats(lc->smtp, &s->smtp_st);
	s->impaired = lc->rx_impair != NULL;
	if (s->impaired) {
		dp_impair_stats(lc->rx_impair, &s->impair_rx);
		dp_impair_stats(lc->env.txq.impair, &s->impair_tx);
	}
	s->nconns = tcp_stack_nconns(lc->tcp);
	s->at_us = now;
	__atomic_store_n(&lc->snap_seq, seq + 2, __ATOMIC_RELEASE);
}

void dp_lcore_snapshot(const struct dp_lcore *lc, struct dp_snapshot *out)
{
	for (;;) {
		uint32_t a = __atomic_load_n(&lc->snap_seq, __ATOMIC_ACQUIRE);
		if (a & 1) {
			rte_pause();
			continue;
		}
		memcpy(out, &lc->snap, sizeof *out);
		rte_smp_rmb();
		if (__atomic_load_n(&lc->snap_seq, __ATOMIC_RELAXED) == a)
			return;
	}
}

static inline void deliver(struct dp_lcore *lc, struct rte_mbuf *m,
			   uint64_t now)
{
	net_input(lc->net, dp_pkt_from_mbuf(m), now);
}

static inline void stage(struct dp_lcore *lc, unsigned j, struct rte_mbuf *m)
{
	struct dp_stage *o = &lc->out[j];
	o->m[o->n++] = m;
	if (unlikely(o->n == DP_BURST)) {
		unsigned k = rte_ring_enqueue_burst(lc->sh->lc[j]->inbox,
						    (void **)o->m, o->n, NULL);
		lc->st.steer_out += k;
		if (k < o->n) {
			lc->st.steer_ring_full += o->n - k;
			rte_pktmbuf_free_bulk(o->m + k, o->n - k);
		}
		o->n = 0;
	}
}

static void stage_flush(struct dp_lcore *lc)
{
	for (unsigned j = 0; j < lc->sh->n; j++) {
		struct dp_stage *o = &lc->out[j];
		if (o->n == 0)
			continue;
		unsigned k = rte_ring_enqueue_burst(lc->sh->lc[j]->inbox,
						    (void **)o->m, o->n, NULL);
		lc->st.steer_out += k;
		if (unlikely(k < o->n)) {
			lc->st.steer_ring_full += o->n - k;
			rte_pktmbuf_free_bulk(o->m + k, o->n - k);
		}
		o->n = 0;
	}
}

/* An ARP frame: a copy for every other lcore (own pool), then ours. */
static void arp_fanout(struct dp_lcore *lc, struct rte_mbuf *m, uint64_t now)
{
	for (unsigned j = 0; j < lc->sh->n; j++) {
		if (j == lc->idx)
			continue;
		struct rte_mbuf *c = rte_pktmbuf_copy(m, lc->env.pool, 0,
						      UINT32_MAX);
		if (unlikely(c == NULL)) {
			lc->st.arp_copy_fail++;
			continue;
		}
		lc->st.arp_copies++;
		stage(lc, j, c);
	}
	deliver(lc, m, now);
}

/* Received frames to their owners. */
static void rx_frames(struct dp_lcore *lc, struct rte_mbuf **m, unsigned n,
		      uint64_t now)
{
	bool steer = lc->sh->n > 1;
	for (unsigned i = 0; i < n; i++) {
		if (i + 1 < n)
			rte_prefetch0(rte_pktmbuf_mtod(m[i + 1], void *));
		if (unlikely(m[i]->nb_segs > 1)) {
			lc->st.rx_multiseg++;
			rte_pktmbuf_free(m[i]);
			continue;
		}
		if (!steer) {
			deliver(lc, m[i], now);
			continue;
		}
		unsigned owner = lc->idx;
		switch (dp_steer_classify(&lc->sh->steer,
					  rte_pktmbuf_mtod(m[i], uint8_t *),
					  m[i]->data_len, &owner)) {
		case DP_STEER_FLOW:
			if (owner != lc->idx) {
				stage(lc, owner, m[i]);
				break;
			}
			deliver(lc, m[i], now);
			break;
		case DP_STEER_ALL:
			arp_fanout(lc, m[i], now);
			break;
		case DP_STEER_LOCAL:
		default:
			deliver(lc, m[i], now);
			break;
		}
	}
	if (steer)
		stage_flush(lc);
}

/* Test runs: received frames through the RX impairment stage; what it
 * releases now goes on. Returns the frames received or released. */
static unsigned rx_impaired(struct dp_lcore *lc, struct rte_mbuf **m,
			    unsigned n, uint64_t now)
{
	void *out[2 * DP_BURST];
	unsigned k = 0, total = n;
	if (n > 0)
		k = dp_impair_push(lc->rx_impair, (void **)m, n, now, out,
				   2 * DP_BURST);
	do {
		if (k > 0)
			rx_frames(lc, (struct rte_mbuf **)out, k, now);
		total += k;
	} while ((k = dp_impair_pop(lc->rx_impair, now, out,
				    2 * DP_BURST)) > 0);
	return total;
}

/* One RX burst; returns the frames received (or released). */
static unsigned rx(struct dp_lcore *lc, uint64_t now)
{
	struct rte_mbuf *m[DP_BURST];
	uint16_t n = rte_eth_rx_burst(lc->env.txq.port, lc->env.txq.queue, m,
				      DP_BURST);
	if (n > 0) {
		lc->st.rx_bursts++;
		lc->st.rx_packets += n;
	}
	if (unlikely(lc->rx_impair != NULL))
		return rx_impaired(lc, m, n, now);
	if (n == 0)
		return 0;
	rx_frames(lc, m, n, now);
	return n;
}

/* One burst from our inbox. */
static unsigned inbox(struct dp_lcore *lc, uint64_t now)
{
	struct rte_mbuf *m[DP_BURST];
	unsigned n = rte_ring_dequeue_burst(lc->inbox, (void **)m, DP_BURST,
					    NULL);
	lc->st.steer_in += n;
	for (unsigned i = 0; i < n; i++)
		deliver(lc, m[i], now);
	return n;
}

static void idle_sleep(struct dp_lcore *lc, uint64_t now, uint64_t us,
		       uint64_t next_ctl)
{
	uint64_t t = tcp_stack_next_timer_us(lc->tcp, now);
	if (t < us)
		us = t;
	if (unlikely(lc->rx_impair != NULL)) {  /* held frames fall due */
		uint64_t d = RTE_MIN(dp_impair_next_us(lc->rx_impair),
				     dp_impair_next_us(lc->env.txq.impair));
		if (d != UINT64_MAX)
			us = d > now ? RTE_MIN(us, d - now) : 0;
	}
	if (lc->sh->ctl != NULL && lc->idx == 0)
		us = next_ctl > now ? RTE_MIN(us, next_ctl - now) : 0;
	/* A verdict (often a 250 behind a 2 ms group commit) is a reply a
	 * client waits for: poll for it at the finest step. */
	if (lc->smtp != NULL && dp_smtp_outstanding(lc->smtp) > 0)
		us = RTE_MIN(us, (uint64_t)DP_SLEEP_MIN_US);
	if (us == 0)
		return;
	struct timespec ts = {.tv_sec = (time_t)(us / 1000000u),
			      .tv_nsec = (long)(us % 1000000u) * 1000};
	rcu_thread_offline();  /* a reload need not wait for our sleep */
	nanosleep(&ts, NULL);
	rcu_thread_online();
	lc->st.idle_sleeps++;
	lc->st.idle_sleep_us += us;
}

int dp_lcore_run(void *arg)
{
	struct dp_lcore *lc = arg;
	struct dp_shared *sh = lc->sh;
	uint64_t sleep_us = DP_SLEEP_MIN_US, next_snap = 0, next_ctl = 0;
	unsigned idle = 0;

	/* Short sleeps mean short sleeps (default slack is 50 us). */
	if (sh->poll == DP_POLL_ADAPTIVE)
		prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
	/* A QSBR reader of the rule generation (dp_rules.h: the sessions'
	 * rcpt_route callback reads its routes during the turn). */
	rcu_register_thread();
	for (;;) {
		int phase = __atomic_load_n(&sh->phase, __ATOMIC_ACQUIRE);
		if (unlikely(phase == DP_STOP))
			break;
		uint64_t now = dp_now_us();
		if (unlikely(phase == DP_DRAIN && !lc->drained)) {
			tcp_stack_drain(lc->tcp);
			if (lc->smtp != NULL)  /* 421 4.3.2 to the sessions */
				dp_smtp_drain(lc->smtp, now);
			lc->drained = true;
		}
		unsigned work = 0;
		if (lc->smtp != NULL)  /* verdicts, session deadlines */
			work += dp_smtp_poll(lc->smtp, now);
		work += rx(lc, now);
		if (sh->n > 1)
			work += inbox(lc, now);
		net_stack_advance(lc->net, now);
		tcp_stack_advance(lc->tcp, now);
		dp_txq_flush(&lc->env.txq);
		rcu_quiescent_state();
		lc->st.loops++;
		if (unlikely(now >= next_snap)) {
			publish(lc, now);
			next_snap = now + DP_SNAPSHOT_US;
		}
		if (unlikely(lc->idx == 0 && sh->ctl != NULL &&
			     now >= next_ctl)) {
			sh->ctl(sh->ctl_arg, now);
			next_ctl = now + DP_CTL_US;
		}
		if (work != 0) {
			idle = 0;
			sleep_us = DP_SLEEP_MIN_US;
			continue;
		}
		if (sh->poll == DP_POLL_BUSY || ++idle < DP_IDLE_POLLS)
			continue;
		idle_sleep(lc, now, sleep_us, next_ctl);
		sleep_us = RTE_MIN(sleep_us * 2, (uint64_t)sh->sleep_max_us);
	}
	dp_txq_flush(&lc->env.txq);
	publish(lc, dp_now_us());
	rcu_unregister_thread();
	return 0;
}
