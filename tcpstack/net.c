/*
 * tcpstack/net.c - the per-core L2/L3 engine (see net.h).
 */
#include "tcpstack/net.h"

#include "tcpstack/arp.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tcpstack/ratelimit.h"

#define NET_TTL 64
#define NET_ARP_TX_BURST 8
#define L2L3_HLEN (NET_ETH_HLEN + NET_IPV4_HLEN_MIN)

struct net_stack {
	uint8_t mac[NET_ETH_ALEN];
	uint32_t ip, mask, gateway;
	uint16_t mtu;
	uint16_t ip_id;
	const struct net_pkt_ops *ops;
	void *env;
	struct net_stack_hooks hooks;
	struct net_arp_table *arp;
	struct net_ratelimit icmp_rl;
	struct net_stack_stats st;
};

static const uint8_t bcast_mac[NET_ETH_ALEN] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
};

/* 0, 127/8, 224/3 (multicast, class E, limited broadcast). */
static int martian(uint32_t ip)
{
	return ip == 0 || (ip >> 24) == 127 || (ip >> 29) == 7;
}

/* Our subnet's broadcast address (none for /31 and /32). */
static int subnet_bcast(const struct net_stack *s, uint32_t ip)
{
	return s->mask < 0xfffffffeu && (ip | s->mask) == UINT32_MAX &&
	       ((ip ^ s->ip) & s->mask) == 0;
}

static void arp_free_pkt(void *arg, void *pkt)
{
	struct net_stack *s = arg;
	s->ops->free(s->env, pkt);
}

struct net_stack *net_stack_create(const struct net_stack_config *cfg,
				   const struct net_pkt_ops *ops, void *env)
{
	struct net_stack *s = NULL;

	if (cfg == NULL || ops == NULL || ops->alloc == NULL ||
	    ops->free == NULL || ops->tx == NULL)
		goto fail;
	if ((cfg->mac[0] & 1) != 0 ||
	    memcmp(cfg->mac, "\0\0\0\0\0\0", NET_ETH_ALEN) == 0)
		goto fail;
	if (martian(cfg->ip) || cfg->prefix_len > 32)
		goto fail;
	uint32_t mask = cfg->prefix_len ? UINT32_MAX << (32 - cfg->prefix_len)
					: 0;
	if (cfg->gateway != 0 &&
	    (martian(cfg->gateway) || cfg->gateway == cfg->ip ||
	     ((cfg->gateway ^ cfg->ip) & mask) != 0))
		goto fail;  /* the gateway must be on-link */
	uint16_t mtu = cfg->mtu ? cfg->mtu : 1500;
	if (mtu < 68 || mtu > 9216)
		goto fail;

	s = calloc(1, sizeof *s);
	if (s == NULL)
		goto fail;
	memcpy(s->mac, cfg->mac, NET_ETH_ALEN);
	s->ip = cfg->ip;
	s->mask = mask;
	s->gateway = cfg->gateway;
	s->mtu = mtu;
	s->ip_id = (uint16_t)(cfg->seed >> 48);
	s->ops = ops;
	s->env = env;
	net_rl_init(&s->icmp_rl, cfg->icmp_rate ? cfg->icmp_rate : 1000,
		    cfg->icmp_burst ? cfg->icmp_burst : 50, 0);

	struct net_arp_config ac = {
		.capacity = cfg->arp_capacity ? cfg->arp_capacity : 1024,
		.seed = cfg->seed,
		.free_pkt = arp_free_pkt,
		.free_arg = s,
	};
	s->arp = net_arp_create(&ac);
	if (s->arp == NULL)
		goto fail;
	if (s->gateway != 0 && net_arp_pin(s->arp, s->gateway) != 0)
		goto fail;
	return s;
fail:
	net_stack_free(s);
	return NULL;
}

void net_stack_free(struct net_stack *s)
{
	if (s == NULL)
		return;
	net_arp_free(s->arp);
	free(s);
}

void net_stack_set_hooks(struct net_stack *s,
			 const struct net_stack_hooks *hooks)
{
	if (hooks != NULL)
		s->hooks = *hooks;
	else
		memset(&s->hooks, 0, sizeof s->hooks);
}

uint32_t net_stack_addr(const struct net_stack *s)
{
	return s->ip;
}

uint16_t net_stack_mtu(const struct net_stack *s)
{
	return s->mtu;
}

void net_stack_stats(const struct net_stack *s, struct net_stack_stats *out)
{
	*out = s->st;
}

static void drop(struct net_stack *s, struct net_pkt *p, enum net_drop why)
{
	s->st.drop[why < NET_DROP_MAX ? why : NET_DROP_NONE]++;
	s->ops->free(s->env, p);
}

static int xmit(struct net_stack *s, struct net_pkt *p)
{
	uint32_t len = p->len;
	int rc = s->ops->tx(s->env, p);
	if (rc == 0) {
		s->st.tx_packets++;
		s->st.tx_bytes += len;
		return 0;
	}
	s->st.tx_errors++;
	return -ENOBUFS;
}

/* Prepend the Ethernet header (dst, our MAC, type) and send. */
static int eth_xmit(struct net_stack *s, struct net_pkt *p,
		    const uint8_t dst[NET_ETH_ALEN], uint16_t type)
{
	uint8_t *h = net_pkt_prepend(p, NET_ETH_HLEN);
	if (h == NULL) {
		s->ops->free(s->env, p);
		return -ENOSPC;
	}
	struct net_eth_info e = {.ethertype = type};
	memcpy(e.dst, dst, NET_ETH_ALEN);
	memcpy(e.src, s->mac, NET_ETH_ALEN);
	int n = net_eth_build(h, NET_ETH_HLEN, &e);
	if (n != NET_ETH_HLEN)
		abort();  /* 14 bytes were reserved: cannot fail */
	return xmit(s, p);
}

/* Build and send what the ARP table asked for (tx->op != 0). */
static void arp_send(struct net_stack *s, const struct net_arp_tx *tx)
{
	struct net_pkt *p = s->ops->alloc(s->env);
	if (p == NULL) {
		s->st.alloc_fail++;
		return;
	}
	uint8_t *b = net_pkt_append(p, NET_ARP_LEN);
	struct net_arp_info a = {.op = tx->op, .spa = s->ip, .tpa = tx->tpa};
	memcpy(a.sha, s->mac, NET_ETH_ALEN);
	memcpy(a.tha, tx->tha, NET_ETH_ALEN);
	if (b == NULL || net_arp_build(b, NET_ARP_LEN, &a) != NET_ARP_LEN) {
		s->st.alloc_fail++;  /* a packet without room: as no packet */
		s->ops->free(s->env, p);
		return;
	}
	if (tx->op == NET_ARP_OP_REPLY)
		s->st.arp_replies_tx++;
	else
		s->st.arp_requests_tx++;
	eth_xmit(s, p, tx->eth_dst, NET_ETH_P_ARP);
}

static void arp_in(struct net_stack *s, struct net_pkt *p, uint64_t now)
{
	struct net_arp_info a;
	if (net_arp_parse(p->data, p->len, &a) != 0) {
		drop(s, p, a.drop);
		return;
	}
	s->st.arp_rx++;
	struct net_arp_action act;
	int rc = net_arp_input(s->arp, a.op, a.spa, a.sha, a.tpa, s->ip, now,
			       &act);
	if (rc == -EADDRINUSE)
		s->st.arp_conflicts++;
	else if (rc != 0)
		s->st.arp_ignored++;
	s->ops->free(s->env, p);
	if (act.tx.op != 0)
		arp_send(s, &act.tx);
	for (unsigned i = 0; i < act.n_release; i++) {
		s->st.arp_released++;
		eth_xmit(s, act.release[i], act.mac, NET_ETH_P_IPV4);
	}
}

/* Prepend a fresh IPv4 header from us to dst over the payload at data. */
static int ip_prepend(struct net_stack *s, struct net_pkt *p, uint32_t dst,
		      uint8_t proto)
{
	uint32_t plen = p->len;
	uint8_t *h = net_pkt_prepend(p, NET_IPV4_HLEN_MIN);
	if (h == NULL)
		return -ENOSPC;
	struct net_ipv4_info ip = {
		.ttl = NET_TTL, .proto = proto, .frag = NET_IPV4_DF,
		.id = s->ip_id++, .src = s->ip, .dst = dst,
	};
	if (net_ipv4_build(h, NET_IPV4_HLEN_MIN, &ip, plen) !=
	    NET_IPV4_HLEN_MIN)
		abort();  /* room reserved, plen bounded by the MTU */
	return 0;
}

/* Echo request: p->data at the ICMP message (len = IPv4 payload). The
 * reply goes back in place to the frame's source MAC. */
static void icmp_echo(struct net_stack *s, struct net_pkt *p,
		      const struct net_ipv4_info *ip, const uint8_t *src_mac,
		      uint64_t now)
{
	s->st.icmp_echo_rx++;
	if (!net_rl_take(&s->icmp_rl, now)) {
		s->st.icmp_ratelimited++;
		s->ops->free(s->env, p);
		return;
	}
	if (p->len + NET_IPV4_HLEN_MIN > s->mtu) {
		drop(s, p, NET_DROP_TOTLEN);  /* reply would not fit our MTU */
		return;
	}
	uint8_t mac[NET_ETH_ALEN];
	memcpy(mac, src_mac, NET_ETH_ALEN);  /* the old header is overwritten */
	if (net_icmp_echo_reply_build(p->data, p->len, p->data, p->len) < 0 ||
	    ip_prepend(s, p, ip->src, NET_IPPROTO_ICMP) != 0) {
		/* parsed as an echo request, inside the frame: cannot fail */
		abort();
	}
	s->st.icmp_echo_tx++;
	eth_xmit(s, p, mac, NET_ETH_P_IPV4);
}

static void ipv4_in(struct net_stack *s, struct net_pkt *p,
		    const struct net_eth_info *eth, uint64_t now)
{
	struct net_ipv4_info ip;
	if (net_ipv4_parse(p->data, p->len, &ip) != 0) {
		drop(s, p, ip.drop);
		return;
	}
	if (ip.dst != s->ip || martian(ip.src) || ip.src == s->ip ||
	    subnet_bcast(s, ip.src)) {
		drop(s, p, NET_DROP_ADDR);
		return;
	}
	/* Cut the Ethernet padding, step to the payload. */
	net_pkt_trim(p, ip.total_len);
	net_pkt_adj(p, ip.hdr_len);

	if (ip.proto == NET_IPPROTO_TCP) {
		if (s->hooks.tcp_input == NULL) {
			drop(s, p, NET_DROP_PROTO);
			return;
		}
		s->st.tcp_rx++;
		s->hooks.tcp_input(s->hooks.ctx, p, &ip, now);
		return;
	}
	if (ip.proto != NET_IPPROTO_ICMP) {
		drop(s, p, NET_DROP_PROTO);
		return;
	}
	struct net_icmp_info ic;
	if (net_icmp_parse(p->data, p->len, &ic) != 0) {
		drop(s, p, ic.drop);
		return;
	}
	switch (ic.type) {
	case NET_ICMP_ECHO_REQUEST:
		icmp_echo(s, p, &ip, eth->src, now);
		return;
	case NET_ICMP_DEST_UNREACH:
	case NET_ICMP_TIME_EXCEEDED:
	case NET_ICMP_PARAM_PROBLEM:
		if (!ic.has_inner || ic.inner.src != s->ip) {
			drop(s, p, NET_DROP_ADDR);  /* not about our datagram */
			return;
		}
		s->st.icmp_errors_rx++;
		if (s->hooks.on_icmp_error != NULL)
			s->hooks.on_icmp_error(s->hooks.ctx, &ic);
		s->ops->free(s->env, p);
		return;
	default:
		drop(s, p, NET_DROP_PROTO);
		return;
	}
}

void net_input(struct net_stack *s, struct net_pkt *p, uint64_t now_us)
{
	struct net_eth_info eth;

	s->st.rx_packets++;
	s->st.rx_bytes += p->len;
	if (net_eth_parse(p->data, p->len, &eth) != 0) {
		drop(s, p, eth.drop);
		return;
	}
	if (eth.has_vlan) {
		drop(s, p, NET_DROP_VLAN);
		return;
	}
	if ((eth.src[0] & 1) != 0 ||
	    (memcmp(eth.dst, s->mac, NET_ETH_ALEN) != 0 &&
	     memcmp(eth.dst, bcast_mac, NET_ETH_ALEN) != 0)) {
		drop(s, p, NET_DROP_ADDR);
		return;
	}
	net_pkt_adj(p, eth.hdr_len);
	switch (eth.ethertype) {
	case NET_ETH_P_ARP:
		arp_in(s, p, now_us);
		return;
	case NET_ETH_P_IPV4:
		if (memcmp(eth.dst, s->mac, NET_ETH_ALEN) != 0) {
			drop(s, p, NET_DROP_ADDR);  /* IP to broadcast MAC */
			return;
		}
		ipv4_in(s, p, &eth, now_us);
		return;
	default:
		drop(s, p, NET_DROP_ETHERTYPE);
		return;
	}
}

int net_ip_output(struct net_stack *s, struct net_pkt *p, uint32_t dst,
		  uint8_t proto, uint64_t now_us)
{
	int rc;
	uint32_t nh;

	s->st.ip_out++;
	if (dst == s->ip || martian(dst) || subnet_bcast(s, dst)) {
		rc = -EINVAL;
		goto fail;
	}
	if ((uint64_t)p->len + NET_IPV4_HLEN_MIN > s->mtu) {
		rc = -EMSGSIZE;
		goto fail;
	}
	if (p->headroom < L2L3_HLEN) {
		rc = -ENOSPC;
		goto fail;
	}
	if (((dst ^ s->ip) & s->mask) == 0) {
		nh = dst;
	} else if (s->gateway != 0) {
		nh = s->gateway;
	} else {
		rc = -ENETUNREACH;
		goto fail;
	}
	rc = ip_prepend(s, p, dst, proto);
	if (rc != 0)
		goto fail;

	uint8_t mac[NET_ETH_ALEN];
	struct net_arp_tx tx;
	rc = net_arp_resolve(s->arp, nh, now_us, p, mac, &tx);
	if (tx.op != 0)
		arp_send(s, &tx);
	if (rc == 0) {
		rc = eth_xmit(s, p, mac, NET_ETH_P_IPV4);
		if (rc != 0)
			s->st.ip_out_err++;
		return rc;
	}
	if (rc == -EAGAIN)
		return 0;  /* queued (or dropped by the queue bound) */
	s->st.ip_out_err++;  /* the ARP table freed p */
	return rc == -ENOSPC ? -ENOBUFS : rc;
fail:
	s->st.ip_out_err++;
	s->ops->free(s->env, p);
	return rc;
}

void net_stack_advance(struct net_stack *s, uint64_t now_us)
{
	struct net_arp_tx tx[NET_ARP_TX_BURST];
	unsigned n;

	do {
		n = net_arp_advance(s->arp, now_us, tx, NET_ARP_TX_BURST);
		for (unsigned i = 0; i < n; i++)
			arp_send(s, &tx[i]);
	} while (n == NET_ARP_TX_BURST);
}
