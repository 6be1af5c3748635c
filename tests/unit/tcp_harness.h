/*
 * tests/unit/tcp_harness.h - a scripted peer for tests of the TCP engine:
 * one net_stack + tcp_stack ("us", 198.18.0.1) on a free-list packet pool;
 * the test plays the peer (198.18.0.2): it builds Ethernet/IPv4/TCP
 * frames with the wire.h builders, feeds them to net_input(), and parses
 * what the stack transmitted (captured by ops->tx) back with
 * tcp_hdr_parse() and tcp_opts_parse(). Every packet is accounted for:
 * h_done() frees the stacks and checks the pool is whole.
 */
#ifndef SLUICE_TESTS_TCP_HARNESS_H
#define SLUICE_TESTS_TCP_HARNESS_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "tcpstack/net.h"
#include "tcpstack/tcp.h"
#include "tcpstack/tcpopt.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (b) << 16 | (c) << 8 | (d))
#define ME IP(198, 18, 0, 1)
#define PEER IP(198, 18, 0, 2)
#define MS UINT64_C(1000)
#define SEC UINT64_C(1000000)
#ifndef HPOOL
#define HPOOL 4096
#endif
#define HBUFSZ 2048

/* ---- packet pool (free list, O(1)) ---- */

static uint8_t hmem[HPOOL][HBUFSZ];
static struct net_pkt hpkts[HPOOL];
static bool hinuse[HPOOL];
static int hfree_top, h_inuse, h_bad_frees;
static uint16_t hfree[HPOOL];
static bool h_pool_init_done, h_pool_empty;

static inline void hpool_init(void)
{
	hfree_top = 0;
	for (int i = HPOOL - 1; i >= 0; i--) {
		hinuse[i] = false;
		hfree[hfree_top++] = (uint16_t)i;
	}
	h_inuse = 0;
	h_bad_frees = 0;
	h_pool_init_done = true;
}

static inline struct net_pkt *hpool_get(void)
{
	if (h_pool_empty || hfree_top == 0)
		return NULL;
	int i = hfree[--hfree_top];
	hinuse[i] = true;
	h_inuse++;
	hpkts[i] = (struct net_pkt){
		.data = hmem[i] + NET_PKT_HEADROOM, .len = 0,
		.headroom = NET_PKT_HEADROOM,
		.tailroom = HBUFSZ - NET_PKT_HEADROOM,
	};
	return &hpkts[i];
}

static inline void hpool_put(struct net_pkt *p)
{
	ptrdiff_t i = p - hpkts;
	if (i < 0 || i >= HPOOL || !hinuse[i] ||
	    p->data != hmem[i] + p->headroom ||
	    (size_t)p->headroom + p->len + p->tailroom != HBUFSZ) {
		h_bad_frees++;
		return;
	}
	hinuse[i] = false;
	h_inuse--;
	hfree[hfree_top++] = (uint16_t)i;
}

/* ---- one side: net + tcp, captured output ---- */

#define HCAP 4096

struct hside {
	struct net_stack *net;
	struct tcp_stack *tcp;
	struct net_pkt *cap[HCAP];
	int ncap;
	bool drop_tx;   /* ops->tx frees instead of capturing */
	bool arp_asked; /* an ARP request went out */
};

static inline struct net_pkt *h_alloc(void *env)
{
	(void)env;
	return hpool_get();
}

static inline void h_free(void *env, struct net_pkt *p)
{
	(void)env;
	hpool_put(p);
}

static inline int h_tx(void *env, struct net_pkt *p)
{
	struct hside *hs = env;
	if (p->len >= 14 && p->data[12] == 0x08 && p->data[13] == 0x06) {
		hs->arp_asked = true;  /* answered by h_arp_answer() */
		hpool_put(p);
		return 0;
	}
	if (hs->drop_tx || hs->ncap == HCAP) {
		hpool_put(p);
		return hs->drop_tx ? 0 : -ENOBUFS;
	}
	hs->cap[hs->ncap++] = p;
	return 0;
}

static const struct net_pkt_ops h_ops = {h_alloc, h_free, h_tx};

static const uint8_t MAC_ME[6] = {0x02, 0, 0, 0, 0, 0x01};
static const uint8_t MAC_PEER[6] = {0x02, 0, 0, 0, 0, 0x02};

static inline void h_clear(struct hside *hs)
{
	for (int i = 0; i < hs->ncap; i++)
		hpool_put(hs->cap[i]);
	hs->ncap = 0;
}

static inline struct tcp_stack_config h_cfg(void)
{
	struct tcp_stack_config c = {
		.snd_pool = 8u << 20,
		.max_conns = 64,
		.max_time_wait = 64,
	};
	for (int i = 0; i < 16; i++) {
		c.isn_key[i] = (uint8_t)(i + 1);
		c.cookie_key[i] = (uint8_t)(0x40 + i);
	}
	return c;
}

/* A frame of proto with payload pl from src to dst (MACs: from the peer
 * to us when dst is ME). */
static inline struct net_pkt *h_frame(uint32_t src, uint32_t dst,
			       const uint8_t *smac, const uint8_t *dmac,
			       uint16_t type, const void *pl, size_t len)
{
	struct net_pkt *p = hpool_get();
	if (p == NULL)
		abort();
	struct net_eth_info e = {.ethertype = type};
	memcpy(e.dst, dmac, 6);
	memcpy(e.src, smac, 6);
	size_t l3 = type == NET_ETH_P_IPV4 ? 20 : 0;
	uint8_t *b = net_pkt_append(p, (uint32_t)(NET_ETH_HLEN + l3 + len));
	net_eth_build(b, NET_ETH_HLEN, &e);
	if (l3) {
		struct net_ipv4_info h = {
			.ttl = 64, .proto = NET_IPPROTO_TCP, .src = src,
			.dst = dst, .frag = NET_IPV4_DF,
		};
		net_ipv4_build(b + NET_ETH_HLEN, 20, &h, len);
	}
	memcpy(b + NET_ETH_HLEN + l3, pl, len);
	return p;
}

static inline void h_setup_side(struct hside *hs, uint32_t ip, const uint8_t *mac,
			 const struct tcp_stack_config *tc, uint16_t mtu,
			 uint64_t now)
{
	memset(hs, 0, sizeof *hs);
	struct net_stack_config nc = {
		.ip = ip, .prefix_len = 24, .arp_capacity = 64, .seed = 7,
		.mtu = mtu, .icmp_rate = 100000, .icmp_burst = 1000,
	};
	memcpy(nc.mac, mac, 6);
	hs->net = net_stack_create(&nc, &h_ops, hs);
	if (hs->net == NULL)
		abort();
	hs->tcp = tcp_stack_create(tc, hs->net, &h_ops, hs, now);
	if (hs->tcp == NULL)
		abort();
}

/* Teach side hs the MAC of (ip, mac) with an ARP request to it. */
static inline void h_arp_learn(struct hside *hs, uint32_t my_ip, uint32_t ip,
			const uint8_t *mac, const uint8_t *my_mac,
			uint64_t now)
{
	struct net_arp_info a = {.op = NET_ARP_OP_REQUEST, .spa = ip,
				 .tpa = my_ip};
	memcpy(a.sha, mac, 6);
	uint8_t b[NET_ARP_LEN];
	net_arp_build(b, sizeof b, &a);
	net_input(hs->net, h_frame(0, 0, mac, my_mac, NET_ETH_P_ARP, b,
				   sizeof b), now);
	h_clear(hs);
}

/* The peer answers our ARP requests (keeps its entry REACHABLE). */
static inline void h_arp_answer(struct hside *hs, uint32_t my_ip, uint32_t ip,
			 const uint8_t *mac, const uint8_t *my_mac,
			 uint64_t now)
{
	if (!hs->arp_asked)
		return;
	hs->arp_asked = false;
	struct net_arp_info a = {.op = NET_ARP_OP_REPLY, .spa = ip,
				 .tpa = my_ip};
	memcpy(a.sha, mac, 6);
	memcpy(a.tha, my_mac, 6);
	uint8_t b[NET_ARP_LEN];
	net_arp_build(b, sizeof b, &a);
	net_input(hs->net, h_frame(0, 0, mac, my_mac, NET_ETH_P_ARP, b,
				   sizeof b), now);
}

/* ---- the scripted peer ---- */

static struct hside H __attribute__((unused));
static uint64_t hnow __attribute__((unused));

static inline void h_start_cfg(const struct tcp_stack_config *tc, uint16_t mtu)
{
	if (!h_pool_init_done)
		hpool_init();
	h_pool_empty = false;
	hnow = 1000 * SEC;
	h_setup_side(&H, ME, MAC_ME, tc, mtu, hnow);
	h_arp_learn(&H, ME, PEER, MAC_PEER, MAC_ME, hnow);
	H.arp_asked = true;
	h_arp_answer(&H, ME, PEER, MAC_PEER, MAC_ME, hnow);
}

static inline void h_start(void)
{
	struct tcp_stack_config c = h_cfg();
	h_start_cfg(&c, 0);
}

static inline void h_done(void)
{
	tcp_stack_free(H.tcp);
	net_stack_free(H.net);
	h_clear(&H);
	CHECK_EQ_INT(h_inuse, 0);
	CHECK_EQ_INT(h_bad_frees, 0);
}

static inline void h_advance(uint64_t dt)
{
	hnow += dt;
	net_stack_advance(H.net, hnow);
	tcp_stack_advance(H.tcp, hnow);
	h_arp_answer(&H, ME, PEER, MAC_PEER, MAC_ME, hnow);
}

/* Advance in steps of 1 ms for dt (timers due in between run). */
static inline void h_run(uint64_t dt)
{
	uint64_t end = hnow + dt;
	while (hnow < end) {
		uint64_t next = tcp_stack_next_timer_us(H.tcp, hnow);
		uint64_t step = next == UINT64_MAX || hnow + next > end
					? end - hnow
					: (next ? next : 1000);
		h_advance(step);
	}
}

struct pseg {
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t win;
	struct tcp_opts o;
	const void *data;
	size_t len;
	uint32_t src;   /* 0: PEER */
};

static inline struct net_pkt *h_seg_frame(const struct pseg *s)
{
	uint8_t buf[1600];
	uint8_t ob[40];
	int ol = s->o.present ? tcp_opts_build(&s->o, ob, sizeof ob, NULL)
			      : 0;
	if (ol < 0)
		abort();
	uint32_t src = s->src ? s->src : PEER;
	struct tcp_hdr_info t = {
		.sport = s->sport, .dport = s->dport, .seq = s->seq,
		.ack = s->ack, .flags = s->flags, .window = s->win,
		.opts = ob, .opts_len = (uint8_t)ol,
		.payload_len = (uint16_t)s->len,
	};
	if (s->len)
		memcpy(buf + 20 + ol, s->data, s->len);
	int hl = tcp_hdr_build(buf, sizeof buf, &t, src, ME, buf + 20 + ol);
	if (hl < 0)
		abort();
	return h_frame(src, ME, MAC_PEER, MAC_ME, NET_ETH_P_IPV4, buf,
		       (size_t)hl + s->len);
}

static inline void h_send(const struct pseg *s)
{
	net_input(H.net, h_seg_frame(s), hnow);
	tcp_stack_advance(H.tcp, hnow);
	h_arp_answer(&H, ME, PEER, MAC_PEER, MAC_ME, hnow);
}

/* A parsed captured segment. */
struct cseg {
	struct tcp_hdr_info th;
	struct tcp_opts o;
	uint32_t src, dst;
	const uint8_t *data;
	uint32_t len;
};

static inline bool h_parse(const struct net_pkt *p, struct cseg *out)
{
	struct net_eth_info e;
	struct net_ipv4_info ip;
	if (net_eth_parse(p->data, p->len, &e) != 0 ||
	    e.ethertype != NET_ETH_P_IPV4)
		return false;
	const uint8_t *d = p->data + e.hdr_len;
	if (net_ipv4_parse(d, p->len - e.hdr_len, &ip) != 0 ||
	    ip.proto != NET_IPPROTO_TCP)
		return false;
	d += ip.hdr_len;
	if (tcp_hdr_parse(d, ip.payload_len, ip.src, ip.dst, &out->th) != 0)
		return false;
	tcp_opts_parse(out->th.opts, out->th.opts_len, &out->o);
	out->src = ip.src;
	out->dst = ip.dst;
	out->data = d + out->th.hdr_len;
	out->len = out->th.payload_len;
	return true;
}

/* The i-th captured segment (aborts the test if it is not TCP). */
static inline struct cseg h_seg(int i)
{
	struct cseg s;
	memset(&s, 0, sizeof s);
	if (i >= H.ncap || !h_parse(H.cap[i], &s)) {
		fprintf(stderr, "  no TCP segment %d (have %d)\n", i, H.ncap);
		check_failures_++;
	}
	return s;
}

/* The only captured segment; the capture is cleared. */
static inline struct cseg h_one(void)
{
	CHECK_EQ_INT(H.ncap, 1);
	struct cseg s = h_seg(H.ncap ? H.ncap - 1 : 0);
	static uint8_t keep[2048];
	if (s.len <= sizeof keep) {
		memcpy(keep, s.data, s.len);
		s.data = keep;
	}
	h_clear(&H);
	return s;
}

/* ---- app handlers recording events ---- */

struct happ {
	int accepted, connected, readable, writable, closed;
	int close_err;
	struct tcp_conn *c;
	bool refuse, abort_in_readable, close_in_readable, consume;
	uint8_t rx[1 << 16];
	size_t nrx;
};

static struct happ A __attribute__((unused));

static inline int ha_accepted(void *lctx, struct tcp_conn *c, void **ctx)
{
	struct happ *a = lctx;
	a->accepted++;
	if (a->refuse)
		return -ECONNREFUSED;
	a->c = c;
	*ctx = a;
	return 0;
}

static inline void ha_connected(void *ctx, struct tcp_conn *c)
{
	struct happ *a = ctx;
	a->connected++;
	a->c = c;
}

static inline void ha_readable(void *ctx, struct tcp_conn *c)
{
	struct happ *a = ctx;
	a->readable++;
	if (a->abort_in_readable) {
		tcp_abort(c);
		tcp_abort(c);  /* twice: still safe */
		return;
	}
	if (a->close_in_readable) {
		tcp_close(c);
		return;
	}
	if (!a->consume)
		return;
	struct iovec iov[16];
	size_t n;
	unsigned k;
	while ((k = tcp_recv_iov(c, iov, 16, &n)) > 0) {
		for (unsigned i = 0; i < k; i++) {
			size_t m = iov[i].iov_len;
			if (a->nrx + m > sizeof a->rx)
				m = sizeof a->rx - a->nrx;
			memcpy(a->rx + a->nrx, iov[i].iov_base, m);
			a->nrx += m;
		}
		tcp_recv_consume(c, n);
		if (a->closed)
			return;
	}
}

static inline void ha_writable(void *ctx, struct tcp_conn *c)
{
	(void)c;
	((struct happ *)ctx)->writable++;
}

static inline void ha_closed(void *ctx, struct tcp_conn *c, int err)
{
	struct happ *a = ctx;
	a->closed++;
	a->close_err = err;
	if (a->c == c)
		a->c = NULL;
}

static const struct tcp_handler HA __attribute__((unused)) = {
	ha_accepted, ha_connected, ha_readable, ha_writable, ha_closed,
};

#endif
