/*
 * tcpstack/tcp_conn.c - the TCP engine's tables (see tcp.h): stack
 * create/free, connection slabs, the keyed 4-tuple hash, listeners, the
 * compact TIME_WAIT ring, tcp_connect(), the deferred events, accessors.
 *
 * Lifetime of a connection. tcp_conn_gone() takes it out of the tables
 * at once (no packet or timer can reach it again) and marks it ZOMBIE;
 * the closed event and the return to the free list wait until no engine
 * frame holds it (tcp_conn_hold/release around input, timers, events),
 * so a handler that aborts its own connection never pulls the struct
 * from under the code that called it.
 */
#include "tcpstack/tcp_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char *const state_names[TCP_NSTATES] = {
	"CLOSED", "LISTEN", "SYN-SENT", "SYN-RECEIVED", "ESTABLISHED",
	"FIN-WAIT-1", "FIN-WAIT-2", "CLOSING", "TIME-WAIT", "CLOSE-WAIT",
	"LAST-ACK",
};

#define TCP_CONN_FREE 0xff  /* state of a struct on the free list */

const char *tcp_state_name(enum tcp_state st)
{
	return (unsigned)st < TCP_NSTATES ? state_names[st] : "?";
}

/* ---- configuration ---- */

#define DEF(f, v) do { if (c->f == 0) c->f = (v); } while (0)

static int config_fill(struct tcp_stack_config *c)
{
	static const uint8_t zero[16];
	DEF(max_conns, 65536);
	DEF(max_time_wait, 65536);
	DEF(syn_backlog, 1024);
	DEF(rcvbuf, 131072);
	DEF(sndbuf, 131072);
	DEF(snd_pool, UINT64_C(64) << 20);
	DEF(ooo_max, 64);
	DEF(mss_floor, 216);
	DEF(rto_min_us, TCP_RTO_MIN_US_DEFAULT);
	DEF(rto_max_us, TCP_RTO_MAX_US_DEFAULT);
	DEF(rto_init_us, TCP_RTO_INIT_US_DEFAULT);
	DEF(syn_retries, 5);
	DEF(data_retries, 15);
	DEF(delack_us, 40000);
	DEF(time_wait_us, 60000000);
	DEF(fin_wait2_us, 60000000);
	DEF(keepalive_intvl_us, 75000000);
	DEF(keepalive_probes, 9);
	DEF(challenge_ack_rate, 10);
	DEF(challenge_ack_burst, 10);
	DEF(rst_rate, 1000);
	DEF(rst_burst, 100);
	DEF(ephemeral_lo, 32768);
	DEF(ephemeral_hi, 60999);
	if (memcmp(c->isn_key, zero, 16) == 0 ||
	    memcmp(c->cookie_key, zero, 16) == 0)
		return -EINVAL;
	if (c->rcvbuf < 4096 || c->rcvbuf > (16u << 20) ||
	    c->sndbuf < 4096 || c->sndbuf > (16u << 20))
		return -EINVAL;
	if (c->max_conns > (1u << 24) || c->max_time_wait > (1u << 24))
		return -EINVAL;
	if (c->rto_min_us > c->rto_max_us || c->rto_init_us > c->rto_max_us ||
	    c->mss_floor < 64 || c->mss_floor > 9000 ||
	    c->ephemeral_lo > c->ephemeral_hi || c->ephemeral_lo == 0 ||
	    c->syn_retries > 255 || c->data_retries > 255 ||
	    c->ooo_max > 4096)
		return -EINVAL;
	return 0;
}

static uint32_t pow2_at_least(uint32_t n)
{
	uint32_t v = 16;
	while (v < n)
		v <<= 1;
	return v;
}

/* ---- create / free ---- */

struct tcp_stack *tcp_stack_create(const struct tcp_stack_config *cfg,
				   struct net_stack *net,
				   const struct net_pkt_ops *ops, void *env,
				   uint64_t now_us)
{
	struct tcp_stack *s = NULL;

	if (cfg == NULL || net == NULL || ops == NULL || ops->alloc == NULL ||
	    ops->free == NULL || ops->tx == NULL)
		return NULL;
	s = calloc(1, sizeof *s);
	if (s == NULL)
		return NULL;
	s->cfg = *cfg;
	if (config_fill(&s->cfg) != 0)
		goto fail;
	s->net = net;
	s->ops = ops;
	s->env = env;
	s->bo.ops = ops;
	s->bo.env = env;
	s->addr = net_stack_addr(net);
	s->mtu = net_stack_mtu(net);
	s->our_mss = (uint16_t)(s->mtu - 40);
	s->now_us = now_us;
	while (s->rcv_wscale < TCP_WSCALE_MAX &&
	       (s->cfg.rcvbuf >> s->rcv_wscale) > 65535)
		s->rcv_wscale++;
	s->rcvq_pkt_max = s->cfg.rcvbuf / 512 + 16;
	tcp_isn_key_load(&s->isn_key, s->cfg.isn_key);
	tcp_isn_key_load(&s->cookie_key, s->cfg.cookie_key);
	s->hash_key.k0 = s->isn_key.k0 ^ UINT64_C(0x736c756963656874);
	s->hash_key.k1 = s->cookie_key.k1 ^ UINT64_C(0x6861736874616231);

	s->hmask = pow2_at_least(s->cfg.max_conns) - 1;
	s->htab = calloc((size_t)s->hmask + 1, sizeof *s->htab);
	s->slabs = calloc(s->cfg.max_conns / TCP_CONN_SLAB + 1,
			  sizeof *s->slabs);
	s->tw_cap = s->cfg.max_time_wait;
	s->tw_hmask = pow2_at_least(s->tw_cap) - 1;
	s->tw = calloc(s->tw_cap, sizeof *s->tw);
	s->tw_htab = calloc((size_t)s->tw_hmask + 1, sizeof *s->tw_htab);
	s->pool = tcp_chunk_pool_create(s->cfg.snd_pool);
	if (s->htab == NULL || s->slabs == NULL || s->tw == NULL ||
	    s->tw_htab == NULL || s->pool == NULL)
		goto fail;
	s->eph_next = (uint16_t)(s->cfg.ephemeral_lo +
				 s->hash_key.k0 % ((uint32_t)s->cfg.ephemeral_hi -
						  s->cfg.ephemeral_lo + 1));
	net_rl_init(&s->rst_rl, s->cfg.rst_rate, s->cfg.rst_burst, now_us);
	tmr_wheel_init(&s->wheel, 1000, now_us / 1000);

	struct net_stack_hooks hk = {
		.on_icmp_error = tcp_icmp_hook,
		.tcp_input = tcp_input_hook,
		.ctx = s,
	};
	net_stack_set_hooks(net, &hk);
	return s;
fail:
	tcp_stack_free(s);
	return NULL;
}

void tcp_stack_free(struct tcp_stack *s)
{
	if (s == NULL)
		return;
	for (uint32_t i = 0; i < s->nslabs; i++) {
		uint32_t n = s->nalloc - i * TCP_CONN_SLAB;
		if (n > TCP_CONN_SLAB)
			n = TCP_CONN_SLAB;
		for (uint32_t j = 0; j < n; j++) {
			struct tcp_conn *c = &s->slabs[i][j];
			if (c->state != TCP_CONN_FREE &&
			    !(c->flags & TCP_CF_ZOMBIE))
				tcp_conn_gone(c, -ECONNABORTED);
		}
	}
	if (s->net != NULL && s->htab != NULL)
		net_stack_set_hooks(s->net, NULL);
	for (uint32_t i = 0; i < s->nslabs; i++)
		free(s->slabs[i]);
	free(s->slabs);
	free(s->htab);
	free(s->tw);
	free(s->tw_htab);
	tcp_chunk_pool_free(s->pool);
	free(s);
}

/* ---- the 4-tuple hash ---- */

uint32_t tcp_hash(const struct tcp_stack *s, uint32_t laddr, uint16_t lport,
		  uint32_t raddr, uint16_t rport)
{
	uint32_t k[3] = {laddr, raddr, (uint32_t)lport << 16 | rport};
	return (uint32_t)tcp_isn_siphash24(&s->hash_key, k, sizeof k);
}

struct tcp_conn *tcp_conn_lookup(struct tcp_stack *s, uint32_t laddr,
				 uint16_t lport, uint32_t raddr, uint16_t rport)
{
	struct tcp_conn *c = s->htab[tcp_hash(s, laddr, lport, raddr, rport) &
				     s->hmask];
	for (; c != NULL; c = c->hnext)
		if (c->raddr == raddr && c->rport == rport &&
		    c->lport == lport && c->laddr == laddr)
			return c;
	return NULL;
}

static void hash_del(struct tcp_conn *c)
{
	struct tcp_stack *s = c->s;
	struct tcp_conn **pp = &s->htab[tcp_hash(s, c->laddr, c->lport,
						 c->raddr, c->rport) &
					s->hmask];
	for (; *pp != NULL; pp = &(*pp)->hnext) {
		if (*pp == c) {
			*pp = c->hnext;
			c->hnext = NULL;
			return;
		}
	}
	TCP_BUG_ON(1);  /* a live connection is always in the table */
}

static struct tcp_conn *conn_alloc(struct tcp_stack *s)
{
	if (s->free_list == NULL) {
		if (s->nalloc >= s->cfg.max_conns)
			return NULL;
		uint32_t n = s->cfg.max_conns - s->nalloc;
		if (n > TCP_CONN_SLAB)
			n = TCP_CONN_SLAB;
		struct tcp_conn *slab = calloc(n, sizeof *slab);
		if (slab == NULL)
			return NULL;
		s->slabs[s->nslabs++] = slab;
		for (uint32_t i = n; i-- > 0;) {
			slab[i].state = TCP_CONN_FREE;
			slab[i].hnext = s->free_list;
			s->free_list = &slab[i];
		}
		s->nalloc += n;
	}
	struct tcp_conn *c = s->free_list;
	s->free_list = c->hnext;
	return c;
}

void tcp_conn_init_rtt(struct tcp_conn *c)
{
	c->srtt_us = 0;
	c->rttvar_us = 0;
	c->rto_us = c->s->cfg.rto_init_us;
}

uint16_t tcp_eff_mss(const struct tcp_conn *c)
{
	uint16_t m = c->peer_mss < c->pmtu_mss ? c->peer_mss : c->pmtu_mss;
	if (c->flags & TCP_CF_TS)
		m = (uint16_t)(m - TCP_TSOPT_LEN);
	return m;
}

struct tcp_conn *tcp_conn_new(struct tcp_stack *s, uint32_t laddr,
			      uint16_t lport, uint32_t raddr, uint16_t rport)
{
	if (s->nconns >= s->cfg.max_conns) {
		s->st.conn_limit++;
		return NULL;
	}
	struct tcp_conn *c = conn_alloc(s);
	if (c == NULL) {
		s->st.conn_limit++;
		return NULL;
	}
	memset(c, 0, sizeof *c);
	c->s = s;
	c->laddr = laddr;
	c->raddr = raddr;
	c->lport = lport;
	c->rport = rport;
	c->state = TCP_CLOSED;
	s->st.conns[TCP_CLOSED]++;
	c->peer_mss = TCP_DEFAULT_MSS;
	c->pmtu_mss = s->our_mss;
	c->ssthresh = INT32_MAX;
	tcp_conn_init_rtt(c);
	tcp_oooq_init(&c->oq, s->cfg.ooo_max);
	net_rl_init(&c->chal_rl, s->cfg.challenge_ack_rate,
		    s->cfg.challenge_ack_burst, s->now_us);
	tcp_timers_init(c);
	uint32_t b = tcp_hash(s, laddr, lport, raddr, rport) & s->hmask;
	c->hnext = s->htab[b];
	s->htab[b] = c;
	s->nconns++;
	return c;
}

void tcp_set_state(struct tcp_conn *c, enum tcp_state st)
{
	c->s->st.conns[c->state]--;
	c->s->st.conns[st]++;
	c->state = (uint8_t)st;
}

static void pend_unlink(struct tcp_conn *c)
{
	if (c->ppend == NULL)
		return;
	*c->ppend = c->pnext;
	if (c->pnext != NULL)
		c->pnext->ppend = c->ppend;
	c->pnext = NULL;
	c->ppend = NULL;
}

void tcp_conn_pend(struct tcp_conn *c, uint32_t what)
{
	if (c->flags & (TCP_CF_ZOMBIE | TCP_CF_DETACHED) || c->h == NULL)
		return;
	c->flags |= what;
	if (c->ppend != NULL)
		return;
	struct tcp_stack *s = c->s;
	c->pnext = s->pend;
	if (s->pend != NULL)
		s->pend->ppend = &c->pnext;
	s->pend = c;
	c->ppend = &s->pend;
}

static void conn_finish(struct tcp_conn *c)
{
	struct tcp_stack *s = c->s;
	c->busy++;
	if (c->h != NULL && c->h->closed != NULL)
		c->h->closed(c->ctx, c, c->err);
	c->busy--;
	s->st.conns[c->state]--;
	c->state = TCP_CONN_FREE;
	c->flags = 0;
	c->hnext = s->free_list;
	s->free_list = c;
	s->nconns--;
}

void tcp_conn_gone(struct tcp_conn *c, int err)
{
	struct tcp_stack *s = c->s;
	if (c->flags & TCP_CF_ZOMBIE)
		return;
	tcp_timers_stop(c);
	tcp_rcvq_purge(&c->rq, &s->bo);
	tcp_oooq_purge(&c->oq, &s->bo);
	tcp_sndbuf_fini(&c->sb, s->pool);
	hash_del(c);
	pend_unlink(c);
	if (c->flags & TCP_CF_HALF) {
		s->lst[c->lidx - 1].half_open--;
		c->flags &= ~TCP_CF_HALF;
	}
	tcp_set_state(c, TCP_CLOSED);
	c->flags |= TCP_CF_ZOMBIE;
	c->err = err;
	if (c->busy == 0)
		conn_finish(c);
}

void tcp_conn_hold(struct tcp_conn *c)
{
	c->busy++;
}

void tcp_conn_release(struct tcp_conn *c)
{
	TCP_BUG_ON(c->busy == 0);
	if (--c->busy == 0 && (c->flags & TCP_CF_ZOMBIE))
		conn_finish(c);
}

/* ACKs deferred to the end of the burst, after the application's events
 * (a reply it sent has carried the ACK already):
 *  - every second full-sized segment (RFC 5681 4.2) is owed an ACK; one
 *    ACK covers all of them that arrived in the burst (a stretch ACK, as
 *    Linux sends after GRO). On a TAP port every frame out is a system
 *    call, so this halves the cost of a bulk transfer under load;
 *  - the application read everything up to the end of a write of the peer
 *    and answered nothing (a reply that waits for a verdict, a slow
 *    disk): ACK now rather than after delack_us, or the peer takes the
 *    silence for a lost tail and sends a loss probe (RFC 8985: its probe
 *    timeout is about two round trips, far below our 40 ms). Linux does
 *    the same when a read drains a "pushed" segment. */
static void tcp_ack_deferred(struct tcp_conn *c)
{
	uint32_t f = c->flags;
	if (!(f & (TCP_CF_ACK_BURST | TCP_CF_PUSHED)) || c->rcv_unacked == 0 ||
	    (f & (TCP_CF_ZOMBIE | TCP_CF_LINGER)) ||
	    !(c->state == TCP_ESTABLISHED || c->state == TCP_FIN_WAIT1 ||
	      c->state == TCP_FIN_WAIT2))
		return;
	if (f & TCP_CF_ACK_BURST) {
		tcp_send_ack(c);
	} else if (c->rq.bytes == 0) {
		c->s->st.pushed_acks++;
		tcp_send_ack(c);
	}
	c->flags &= ~TCP_CF_ACK_BURST;  /* else the delayed-ACK timer */
}

void tcp_deliver_pending(struct tcp_stack *s)
{
	struct tcp_conn *list = s->pend;
	s->pend = NULL;
	if (list != NULL)
		list->ppend = &list;
	while (list != NULL) {
		struct tcp_conn *c = list;
		pend_unlink(c);
		uint32_t f = c->flags;
		c->flags &= ~(TCP_CF_PEND_R | TCP_CF_PEND_W);
		tcp_conn_hold(c);
		if ((f & TCP_CF_PEND_R) && c->h->readable != NULL)
			c->h->readable(c->ctx, c);
		if ((f & TCP_CF_PEND_W) && c->h->writable != NULL &&
		    !(c->flags & (TCP_CF_ZOMBIE | TCP_CF_DETACHED)))
			c->h->writable(c->ctx, c);
		tcp_ack_deferred(c);
		tcp_linger_check(c);
		tcp_conn_release(c);
	}
}

/* ---- listeners ---- */

struct tcp_listener *tcp_listener_find(struct tcp_stack *s, uint32_t addr,
				       uint16_t port)
{
	for (unsigned i = 0; i < TCP_LISTENERS_MAX; i++) {
		struct tcp_listener *l = &s->lst[i];
		if (l->used && l->port == port && l->addr == addr)
			return l;
	}
	return NULL;
}

int tcp_listen(struct tcp_stack *s, uint32_t addr, uint16_t port,
	       const struct tcp_handler *h, void *lctx)
{
	if (port == 0 || h == NULL)
		return -EINVAL;
	if (addr == 0)
		addr = s->addr;
	if (addr != s->addr)
		return -EINVAL;
	if (tcp_listener_find(s, addr, port) != NULL)
		return -EADDRINUSE;
	for (unsigned i = 0; i < TCP_LISTENERS_MAX; i++) {
		struct tcp_listener *l = &s->lst[i];
		if (!l->used) {
			*l = (struct tcp_listener){
				.addr = addr, .port = port, .used = 1,
				.h = h, .lctx = lctx,
			};
			s->st.conns[TCP_LISTEN]++;
			return 0;
		}
	}
	return -ENOSPC;
}

void tcp_stack_drain(struct tcp_stack *s)
{
	s->draining = 1;
}

/* ---- TIME_WAIT records ---- */

static uint32_t *tw_bucket(struct tcp_stack *s, uint32_t laddr,
			   uint16_t lport, uint32_t raddr, uint16_t rport)
{
	return &s->tw_htab[tcp_hash(s, laddr, lport, raddr, rport) &
			   s->tw_hmask];
}

struct tcp_tw *tcp_tw_lookup(struct tcp_stack *s, uint32_t laddr,
			     uint16_t lport, uint32_t raddr, uint16_t rport)
{
	if (s->tw_len == 0)
		return NULL;
	uint32_t i = *tw_bucket(s, laddr, lport, raddr, rport);
	while (i != 0) {
		struct tcp_tw *t = &s->tw[i - 1];
		if (t->raddr == raddr && t->rport == rport &&
		    t->lport == lport && t->laddr == laddr)
			return t;
		i = t->hnext;
	}
	return NULL;
}

void tcp_tw_kill(struct tcp_stack *s, struct tcp_tw *t)
{
	if (!t->live)
		return;
	uint32_t idx = (uint32_t)(t - s->tw) + 1;
	uint32_t *pp = tw_bucket(s, t->laddr, t->lport, t->raddr, t->rport);
	while (*pp != 0 && *pp != idx)
		pp = &s->tw[*pp - 1].hnext;
	TCP_BUG_ON(*pp == 0);
	if (*pp == idx)
		*pp = t->hnext;
	t->live = 0;
	t->hnext = 0;
	s->st.conns[TCP_TIME_WAIT]--;
}

static void tw_pop(struct tcp_stack *s, bool early)
{
	struct tcp_tw *t = &s->tw[s->tw_head];
	if (t->live && early)
		s->st.time_wait_evicted++;
	tcp_tw_kill(s, t);
	s->tw_head = s->tw_head + 1 == s->tw_cap ? 0 : s->tw_head + 1;
	s->tw_len--;
}

void tcp_tw_enter(struct tcp_conn *c)
{
	struct tcp_stack *s = c->s;
	if (s->tw_len == s->tw_cap)
		tw_pop(s, true);
	uint32_t slot = s->tw_head + s->tw_len;
	if (slot >= s->tw_cap)
		slot -= s->tw_cap;
	struct tcp_tw *t = &s->tw[slot];
	*t = (struct tcp_tw){
		.laddr = c->laddr, .raddr = c->raddr,
		.lport = c->lport, .rport = c->rport,
		.snd_nxt = c->snd_max, .rcv_nxt = c->rcv_nxt,
		.ts_recent = c->ts_recent,
		.expire_ms = tcp_now_ms(s) +
			     (uint32_t)(s->cfg.time_wait_us / 1000),
		.win = tcp_rcv_window(c),
		.live = 1, .ts_ok = (c->flags & TCP_CF_TS) != 0,
	};
	uint32_t *b = tw_bucket(s, t->laddr, t->lport, t->raddr, t->rport);
	t->hnext = *b;
	*b = slot + 1;
	s->tw_len++;
	s->st.conns[TCP_TIME_WAIT]++;
	tcp_conn_gone(c, 0);
}

/*
 * c reached TIME_WAIT (tw) or CLOSED after an orderly close: a TIME_WAIT
 * record or nothing, now or, while the application still has bytes or
 * the FIN to read, once it has read them (tcp_linger_check).
 */
void tcp_conn_done(struct tcp_conn *c, bool tw)
{
	if (!(c->flags & TCP_CF_DETACHED) && c->h != NULL &&
	    (c->rq.bytes > 0 || (c->flags & TCP_CF_PEND_R))) {
		c->flags |= TCP_CF_LINGER | (tw ? TCP_CF_LINGER_TW : 0);
		tcp_set_state(c, tw ? TCP_TIME_WAIT : TCP_CLOSED);
		tcp_timer_idle(c);
		return;
	}
	if (tw)
		tcp_tw_enter(c);
	else
		tcp_conn_gone(c, 0);
}

void tcp_linger_check(struct tcp_conn *c)
{
	if (!(c->flags & TCP_CF_LINGER) || (c->flags & TCP_CF_ZOMBIE))
		return;
	if (!(c->flags & TCP_CF_DETACHED) &&
	    (c->rq.bytes > 0 || (c->flags & TCP_CF_PEND_R)))
		return;
	c->flags &= ~TCP_CF_LINGER;
	if (c->flags & TCP_CF_LINGER_TW)
		tcp_tw_enter(c);
	else
		tcp_conn_gone(c, 0);
}

void tcp_tw_expire(struct tcp_stack *s)
{
	uint32_t now = tcp_now_ms(s);
	while (s->tw_len > 0) {
		struct tcp_tw *t = &s->tw[s->tw_head];
		if (t->live && (int32_t)(now - t->expire_ms) < 0)
			break;
		tw_pop(s, false);
	}
}

/* ---- timers of the stack ---- */

void tcp_stack_advance(struct tcp_stack *s, uint64_t now_us)
{
	if ((int64_t)(now_us - s->now_us) > 0)
		s->now_us = now_us;
	tmr_advance(&s->wheel, s->now_us / 1000);
	if (s->tw_len > 0)
		tcp_tw_expire(s);
	if (s->pend != NULL)
		tcp_deliver_pending(s);
}

uint64_t tcp_stack_next_timer_us(struct tcp_stack *s, uint64_t now_us)
{
	uint64_t best = UINT64_MAX;
	uint64_t tick;
	if (s->pend != NULL)
		return 0;
	if (tmr_next_expiry(&s->wheel, &tick)) {
		uint64_t at = tick * 1000;
		best = at > now_us ? at - now_us : 0;
	}
	while (s->tw_len > 0 && !s->tw[s->tw_head].live)
		tw_pop(s, false);
	if (s->tw_len > 0) {
		int32_t d = (int32_t)(s->tw[s->tw_head].expire_ms -
				      (uint32_t)(now_us / 1000));
		uint64_t us = d > 0 ? (uint64_t)d * 1000 : 0;
		if (us < best)
			best = us;
	}
	return best;
}

/* ---- tcp_connect ---- */

struct tcp_conn *tcp_connect(struct tcp_stack *s, uint32_t raddr,
			     uint16_t rport, const struct tcp_handler *h,
			     void *ctx, int *err)
{
	int e = -EINVAL;
	struct tcp_conn *c = NULL;
	if (raddr == 0 || raddr == s->addr || rport == 0 || h == NULL ||
	    (raddr >> 24) == 127 || (raddr >> 28) >= 14)
		goto out;
	e = -ENOSPC;
	if (s->nconns >= s->cfg.max_conns) {
		s->st.conn_limit++;
		goto out;
	}
	uint32_t range = (uint32_t)s->cfg.ephemeral_hi -
			 s->cfg.ephemeral_lo + 1;
	uint16_t port = 0;
	for (uint32_t i = 0; i < range; i++) {
		uint16_t p = s->eph_next;
		s->eph_next = p >= s->cfg.ephemeral_hi ? s->cfg.ephemeral_lo
						       : (uint16_t)(p + 1);
		if (tcp_conn_lookup(s, s->addr, p, raddr, rport) == NULL &&
		    tcp_tw_lookup(s, s->addr, p, raddr, rport) == NULL &&
		    tcp_listener_find(s, s->addr, p) == NULL) {
			port = p;
			break;
		}
	}
	if (port == 0)
		goto out;
	c = tcp_conn_new(s, s->addr, port, raddr, rport);
	if (c == NULL)
		goto out;
	c->h = h;
	c->ctx = ctx;
	c->flags |= TCP_CF_ACTIVE;
	struct tcp_isn_tuple tp = {s->addr, raddr, port, rport};
	c->iss = tcp_isn_generate(&s->isn_key, &tp, s->now_us);
	c->snd_una = c->snd_nxt = c->snd_max = c->iss;
	c->rcv_wscale = s->cfg.no_wscale ? 0 : s->rcv_wscale;
	tcp_sndbuf_init(&c->sb, c->iss + 1, s->cfg.sndbuf);
	tcp_set_state(c, TCP_SYN_SENT);
	s->st.active_opens++;
	tcp_send_syn(c);
	e = 0;
out:
	if (err != NULL)
		*err = e;
	return c;
}

/* ---- accessors ---- */

enum tcp_state tcp_conn_state(const struct tcp_conn *c)
{
	return c->state;
}

void tcp_conn_tuple(const struct tcp_conn *c, uint32_t *laddr, uint16_t *lport,
		    uint32_t *raddr, uint16_t *rport)
{
	if (laddr)
		*laddr = c->laddr;
	if (lport)
		*lport = c->lport;
	if (raddr)
		*raddr = c->raddr;
	if (rport)
		*rport = c->rport;
}

void tcp_conn_set_ctx(struct tcp_conn *c, void *ctx)
{
	c->ctx = ctx;
}

void tcp_conn_info(const struct tcp_conn *c, struct tcp_conn_info *out)
{
	*out = (struct tcp_conn_info){
		.state = c->state,
		.snd_mss = tcp_eff_mss(c),
		.rcv_mss = c->s->our_mss,
		.snd_wscale = c->snd_wscale,
		.rcv_wscale = c->rcv_wscale,
		.ts_ok = (c->flags & TCP_CF_TS) != 0,
		.sack_ok = (c->flags & TCP_CF_SACK) != 0,
		.cwnd = c->cwnd,
		.ssthresh = c->ssthresh,
		.snd_wnd = c->snd_wnd,
		.rcv_wnd = c->rcv_adv - c->rcv_nxt,
		.srtt_us = c->srtt_us,
		.rttvar_us = c->rttvar_us,
		.rto_us = c->rto_us,
		.in_flight = c->snd_max - c->snd_una,
		.snd_queued = c->sb.len,
		.rcv_queued = c->rq.bytes,
		.ooo_pkts = c->oq.pkts,
		.retransmits = c->retransmits,
	};
}

size_t tcp_conn_size(void)
{
	return sizeof(struct tcp_conn);
}

size_t tcp_time_wait_size(void)
{
	return sizeof(struct tcp_tw);
}

void tcp_stack_stats(const struct tcp_stack *s, struct tcp_stack_stats *out)
{
	*out = s->st;
}

uint32_t tcp_stack_nconns(const struct tcp_stack *s)
{
	return s->nconns;
}
