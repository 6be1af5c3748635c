/* tests/unit/test_dp_steer.c - dataplane/dp_steer.c: the owner of a flow
 * is the same for both endpoint orders, in [0, n), spread evenly over n
 * lcores (chi-square bound, fixed seed), and keyed (another key, another
 * mapping); frames built with tcpstack/wire.h classify as TCP -> FLOW to
 * the tuple's owner, ARP -> ALL, ICMP errors quoting a TCP segment -> the
 * quoted flow's owner, everything else (echo, fragments, other
 * ethertypes and protocols, truncated or garbage frames) -> LOCAL; with
 * one lcore everything stays on lcore 0. Truncated frames are copied to
 * buffers of exactly their length so ASan sees any read past the end. */
#include "dataplane/dp_steer.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "tcpstack/wire.h"

#define ME   0xc6120001u  /* 198.18.0.1 */
#define PEER 0xc6120002u  /* 198.18.0.2 */
#define ROUTER 0xc61200feu

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	/* xorshift64*: deterministic across runs. */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dull;
}

static void key_init(struct dp_steer *s, unsigned n, uint64_t seed)
{
	uint8_t b[16];
	for (int i = 0; i < 16; i++)
		b[i] = (uint8_t)(seed >> (8 * (i % 8)) ^ (uint64_t)i * 37);
	tcp_isn_key_load(&s->key, b);
	s->n = n;
}

/* ---- owner -------------------------------------------------------------- */

static void test_owner_symmetric_in_range(void)
{
	static const unsigned ns[] = {1, 2, 3, 4, 5, 7, 8, 13, 16};
	for (size_t k = 0; k < sizeof ns / sizeof ns[0]; k++) {
		struct dp_steer s;
		key_init(&s, ns[k], 1 + k);
		unsigned bad_sym = 0, bad_range = 0;
		for (int i = 0; i < 20000; i++) {
			uint32_t a = (uint32_t)rnd(), b = (uint32_t)rnd();
			uint16_t ap = (uint16_t)rnd(), bp = (uint16_t)rnd();
			if (i % 4 == 0)
				b = a;  /* same address, ports differ */
			if (i % 8 == 1)
				bp = ap;  /* same port, addresses differ */
			unsigned o1 = dp_steer_owner(&s, a, ap, b, bp);
			unsigned o2 = dp_steer_owner(&s, b, bp, a, ap);
			bad_sym += o1 != o2;
			bad_range += o1 >= ns[k];
			if (ns[k] == 1)
				bad_range += o1 != 0;
		}
		CHECK_MSG(bad_sym == 0, "n=%u: %u asymmetric", ns[k], bad_sym);
		CHECK_MSG(bad_range == 0, "n=%u: %u out of range", ns[k],
			  bad_range);
	}
}

/* Chi-square of counts[0..n) against a uniform expectation over total;
 * the bound is df + 6 sd (sd = sqrt(2 df)): a fair hash fails it with
 * negligible probability, a skewed one (e.g. one lcore left out, or
 * owners only from the low bits of a port) exceeds it by far. */
static int spread_ok(const unsigned *counts, unsigned n, unsigned total,
		     double *chi)
{
	double e = (double)total / n, c = 0;
	for (unsigned i = 0; i < n; i++)
		c += ((double)counts[i] - e) * ((double)counts[i] - e) / e;
	*chi = c;
	double df = n - 1;
	return c <= df + 6 * sqrt(2 * df);
}

static void test_owner_spread(void)
{
	static const unsigned ns[] = {2, 3, 4, 8, 16};
	for (size_t k = 0; k < sizeof ns / sizeof ns[0]; k++) {
		unsigned n = ns[k];
		struct dp_steer s;
		key_init(&s, n, 100 + k);
		unsigned counts[16] = {0};
		double chi;
		/* Random tuples. */
		unsigned total = 16000 * n;
		for (unsigned i = 0; i < total; i++)
			counts[dp_steer_owner(&s, (uint32_t)rnd(),
					      (uint16_t)rnd(), ME, 25)]++;
		CHECK_MSG(spread_ok(counts, n, total, &chi),
			  "random tuples, n=%u: chi-square %.1f", n, chi);
		/* One peer, every ephemeral port, to our port 25: the
		 * realistic worst case (only 16 bits vary). */
		memset(counts, 0, sizeof counts);
		total = 0;
		for (unsigned p = 1024; p < 65536; p++, total++)
			counts[dp_steer_owner(&s, PEER, (uint16_t)p, ME,
					      25)]++;
		CHECK_MSG(spread_ok(counts, n, total, &chi),
			  "one peer's ports, n=%u: chi-square %.1f", n, chi);
		/* Many peers on one port (a port-only hash would put them
		 * all on one lcore). */
		memset(counts, 0, sizeof counts);
		total = 0;
		for (uint32_t a = 0; a < 40000; a++, total++)
			counts[dp_steer_owner(&s, 0x0a000000u + a, 40000, ME,
					      25)]++;
		CHECK_MSG(spread_ok(counts, n, total, &chi),
			  "many peers, n=%u: chi-square %.1f", n, chi);
	}
}

static void test_owner_keyed(void)
{
	struct dp_steer a, b, a2;
	key_init(&a, 16, 7);
	key_init(&b, 16, 8);
	key_init(&a2, 16, 7);
	unsigned differ = 0, same_key_differ = 0, total = 20000;
	for (unsigned i = 0; i < total; i++) {
		uint32_t ip = (uint32_t)rnd();
		uint16_t p = (uint16_t)rnd();
		unsigned oa = dp_steer_owner(&a, ip, p, ME, 25);
		differ += oa != dp_steer_owner(&b, ip, p, ME, 25);
		same_key_differ += oa != dp_steer_owner(&a2, ip, p, ME, 25);
	}
	/* Independent mappings over 16 lcores agree 1/16 of the time. */
	CHECK_MSG(differ > total * 8 / 10, "another key changed only %u of %u",
		  differ, total);
	CHECK_EQ_INT(same_key_differ, 0);
}

/* Every field of the tuple matters: changing one moves about (n-1)/n of
 * the flows. */
static void test_owner_uses_whole_tuple(void)
{
	struct dp_steer s;
	key_init(&s, 8, 42);
	unsigned moved[4] = {0}, total = 8000;
	for (unsigned i = 0; i < total; i++) {
		uint32_t a = (uint32_t)rnd(), b = (uint32_t)rnd();
		uint16_t ap = (uint16_t)rnd(), bp = (uint16_t)rnd();
		unsigned o = dp_steer_owner(&s, a, ap, b, bp);
		moved[0] += o != dp_steer_owner(&s, a ^ 1, ap, b, bp);
		moved[1] += o != dp_steer_owner(&s, a, ap ^ 1, b, bp);
		moved[2] += o != dp_steer_owner(&s, a, ap, b ^ 0x80000000u, bp);
		moved[3] += o != dp_steer_owner(&s, a, ap, b, bp ^ 0x8000);
	}
	for (int f = 0; f < 4; f++)
		CHECK_MSG(moved[f] > total * 3 / 4,
			  "field %d moved only %u of %u flows", f, moved[f],
			  total);
}

/* ---- frames ------------------------------------------------------------- */

static const uint8_t MAC_A[6] = {0x02, 0, 0, 0, 0, 1};
static const uint8_t MAC_B[6] = {0x02, 0, 0, 0, 0, 2};

static size_t eth(uint8_t *f, uint16_t type)
{
	struct net_eth_info e = {.ethertype = type};
	memcpy(e.dst, MAC_A, 6);
	memcpy(e.src, MAC_B, 6);
	int n = net_eth_build(f, NET_ETH_HLEN, &e);
	if (n != NET_ETH_HLEN)
		abort();
	return (size_t)n;
}

/* An IPv4 datagram at p with payload pl[0..plen); frag as on the wire.
 * Returns its length. */
static size_t ipv4(uint8_t *p, size_t room, uint32_t src, uint32_t dst,
		   uint8_t proto, uint16_t frag, const uint8_t *pl,
		   size_t plen)
{
	struct net_ipv4_info h = {.ttl = 64, .proto = proto, .frag = frag,
				  .id = 1, .src = src, .dst = dst};
	int n = net_ipv4_build(p, room, &h, plen);
	if (n != NET_IPV4_HLEN_MIN || n + plen > room)
		abort();
	memcpy(p + n, pl, plen);
	return (size_t)n + plen;
}

/* A TCP segment (header only, flags) from src:sp to dst:dp. */
static size_t tcp_seg(uint8_t *p, uint32_t src, uint16_t sp, uint32_t dst,
		      uint16_t dp, uint8_t flags)
{
	struct tcp_hdr_info t = {.sport = sp, .dport = dp, .seq = 1000,
				 .ack = flags & TCP_ACK ? 77 : 0,
				 .flags = flags, .window = 65535};
	int n = tcp_hdr_build(p, 60, &t, src, dst, NULL);
	if (n != TCP_HLEN_MIN)
		abort();
	return (size_t)n;
}

/* Ethernet + IPv4 + TCP frame. */
static size_t tcp_frame(uint8_t *f, uint32_t src, uint16_t sp, uint32_t dst,
			uint16_t dp, uint16_t frag)
{
	uint8_t seg[60];
	size_t sl = tcp_seg(seg, src, sp, dst, dp, TCP_SYN);
	size_t l = eth(f, NET_ETH_P_IPV4);
	return l + ipv4(f + l, 1500, src, dst, NET_IPPROTO_TCP, frag, seg, sl);
}

/* Insert 4 bytes of IP options (NOPs) into the IPv4 header of frame
 * f[0..len) at offset off (the header start); returns the new length. */
static size_t add_ip_options(uint8_t *f, size_t len, size_t off)
{
	uint8_t *ip = f + off;
	memmove(ip + 24, ip + 20, len - off - 20);
	memset(ip + 20, 1, 4);
	ip[0] = 0x46;
	uint16_t tot = (uint16_t)((ip[2] << 8 | ip[3]) + 4);
	ip[2] = (uint8_t)(tot >> 8);
	ip[3] = (uint8_t)tot;
	return len + 4;
}

/* ICMP error (type, code) from ROUTER to dst quoting the datagram
 * orig[0..olen); outer frag as on the wire. */
static size_t icmp_err_frame(uint8_t *f, uint8_t type, uint8_t code,
			     uint32_t dst, const uint8_t *orig, size_t olen,
			     uint16_t frag)
{
	uint8_t m[600];
	int ml = net_icmp_error_build(m, sizeof m, type, code, 1400, orig,
				      olen);
	if (ml < 0)
		abort();
	size_t l = eth(f, NET_ETH_P_IPV4);
	return l + ipv4(f + l, 1500, ROUTER, dst, NET_IPPROTO_ICMP, frag, m,
			(size_t)ml);
}

/* Our segment ME:mp -> PEER:pp as an IPv4 datagram (what a router
 * quotes back). */
static size_t our_datagram(uint8_t *d, uint16_t mp, uint16_t pp)
{
	uint8_t seg[60];
	size_t sl = tcp_seg(seg, ME, mp, PEER, pp, TCP_ACK | TCP_PSH);
	return ipv4(d, 600, ME, PEER, NET_IPPROTO_TCP, NET_IPV4_DF, seg, sl);
}

/* Classify f[0..len) from an exact-size heap copy. */
static enum dp_steer_kind classify(const struct dp_steer *s, const uint8_t *f,
				   size_t len, unsigned *owner)
{
	uint8_t *c = malloc(len ? len : 1);
	if (c == NULL)
		abort();
	memcpy(c, f, len);
	*owner = 0xdead;
	enum dp_steer_kind k = dp_steer_classify(s, c, len, owner);
	free(c);
	return k;
}

enum { WANT_LOCAL, WANT_ALL, WANT_FLOW };

/* A row: how to build a frame for the flow PEER:pp <-> ME:mp, and what
 * it must classify as (FLOW: the flow's owner). */
struct frame_case {
	const char *name;
	int want;
	size_t (*build)(uint8_t *f, uint16_t pp, uint16_t mp);
};

static size_t b_tcp_in(uint8_t *f, uint16_t pp, uint16_t mp)
{
	return tcp_frame(f, PEER, pp, ME, mp, 0);
}

static size_t b_tcp_out(uint8_t *f, uint16_t pp, uint16_t mp)
{
	return tcp_frame(f, ME, mp, PEER, pp, 0);
}

static size_t b_tcp_df(uint8_t *f, uint16_t pp, uint16_t mp)
{
	return tcp_frame(f, PEER, pp, ME, mp, NET_IPV4_DF);
}

static size_t b_tcp_ipopts(uint8_t *f, uint16_t pp, uint16_t mp)
{
	size_t l = tcp_frame(f, PEER, pp, ME, mp, NET_IPV4_DF);
	return add_ip_options(f, l, NET_ETH_HLEN);
}

static size_t b_tcp_padded(uint8_t *f, uint16_t pp, uint16_t mp)
{
	/* 54 bytes padded to the Ethernet minimum (60 + FCS). */
	size_t l = tcp_frame(f, PEER, pp, ME, mp, 0);
	if (l >= 60)
		abort();
	memset(f + l, 0, 60 - l);
	return 60;
}

static size_t b_tcp_first_frag(uint8_t *f, uint16_t pp, uint16_t mp)
{
	return tcp_frame(f, PEER, pp, ME, mp, NET_IPV4_MF);
}

static size_t b_tcp_later_frag(uint8_t *f, uint16_t pp, uint16_t mp)
{
	return tcp_frame(f, PEER, pp, ME, mp, 185);  /* offset 1480 */
}

static size_t b_tcp_last_frag(uint8_t *f, uint16_t pp, uint16_t mp)
{
	return tcp_frame(f, PEER, pp, ME, mp, NET_IPV4_DF | 3);
}

static size_t b_tcp_vlan(uint8_t *f, uint16_t pp, uint16_t mp)
{
	uint8_t t[1600];
	size_t l = tcp_frame(t, PEER, pp, ME, mp, 0);
	memcpy(f, t, 12);
	f[12] = 0x81, f[13] = 0x00, f[14] = 0x00, f[15] = 0x07;
	memcpy(f + 16, t + 12, l - 12);
	return l + 4;
}

static size_t b_tcp_ipv6_type(uint8_t *f, uint16_t pp, uint16_t mp)
{
	size_t l = tcp_frame(f, PEER, pp, ME, mp, 0);
	f[12] = 0x86, f[13] = 0xdd;
	return l;
}

static size_t b_tcp_version6(uint8_t *f, uint16_t pp, uint16_t mp)
{
	size_t l = tcp_frame(f, PEER, pp, ME, mp, 0);
	f[NET_ETH_HLEN] = 0x65;
	return l;
}

static size_t b_tcp_ihl4(uint8_t *f, uint16_t pp, uint16_t mp)
{
	size_t l = tcp_frame(f, PEER, pp, ME, mp, 0);
	f[NET_ETH_HLEN] = 0x44;
	return l;
}

static size_t b_tcp_ihl15(uint8_t *f, uint16_t pp, uint16_t mp)
{
	/* header claims 60 bytes; the frame has 20 + 20 */
	size_t l = tcp_frame(f, PEER, pp, ME, mp, 0);
	f[NET_ETH_HLEN] = 0x4f;
	return l;
}

static size_t b_udp(uint8_t *f, uint16_t pp, uint16_t mp)
{
	uint8_t u[8] = {(uint8_t)(pp >> 8), (uint8_t)pp, (uint8_t)(mp >> 8),
			(uint8_t)mp, 0, 8, 0, 0};
	size_t l = eth(f, NET_ETH_P_IPV4);
	return l + ipv4(f + l, 1500, PEER, ME, NET_IPPROTO_UDP, 0, u, 8);
}

static size_t b_arp(uint8_t *f, uint16_t pp, uint16_t mp)
{
	struct net_arp_info a = {.op = NET_ARP_OP_REQUEST, .spa = PEER,
				 .tpa = ME};
	memcpy(a.sha, MAC_B, 6);
	size_t l = eth(f, NET_ETH_P_ARP);
	int n = net_arp_build(f + l, NET_ARP_LEN, &a);
	if (n != NET_ARP_LEN)
		abort();
	return l + (size_t)n;
}

static size_t b_arp_reply(uint8_t *f, uint16_t pp, uint16_t mp)
{
	size_t l = b_arp(f, pp, mp);
	f[NET_ETH_HLEN + 7] = NET_ARP_OP_REPLY;
	return l;
}

static size_t echo(uint8_t *f, uint8_t type, uint16_t pp)
{
	/* An echo whose id/seq look like TCP ports must not be steered. */
	uint8_t m[16] = {type, 0, 0, 0, (uint8_t)(pp >> 8), (uint8_t)pp, 0, 25,
			 'p', 'i', 'n', 'g', 0, 0, 0, 0};
	size_t l = eth(f, NET_ETH_P_IPV4);
	return l + ipv4(f + l, 1500, PEER, ME, NET_IPPROTO_ICMP, 0, m,
			sizeof m);
}

static size_t b_echo_req(uint8_t *f, uint16_t pp, uint16_t mp)
{
	return echo(f, NET_ICMP_ECHO_REQUEST, pp);
}

static size_t b_echo_reply(uint8_t *f, uint16_t pp, uint16_t mp)
{
	return echo(f, NET_ICMP_ECHO_REPLY, pp);
}

static size_t b_frag_needed(uint8_t *f, uint16_t pp, uint16_t mp)
{
	uint8_t d[600];
	size_t dl = our_datagram(d, mp, pp);
	return icmp_err_frame(f, NET_ICMP_DEST_UNREACH,
			      NET_ICMP_CODE_FRAG_NEEDED, ME, d, dl, 0);
}

static size_t b_port_unreach(uint8_t *f, uint16_t pp, uint16_t mp)
{
	uint8_t d[600];
	size_t dl = our_datagram(d, mp, pp);
	return icmp_err_frame(f, NET_ICMP_DEST_UNREACH,
			      NET_ICMP_CODE_PORT_UNREACH, ME, d, dl, 0);
}

static size_t b_time_exceeded(uint8_t *f, uint16_t pp, uint16_t mp)
{
	uint8_t d[600];
	size_t dl = our_datagram(d, mp, pp);
	return icmp_err_frame(f, NET_ICMP_TIME_EXCEEDED, 0, ME, d, dl, 0);
}

static size_t b_param_problem(uint8_t *f, uint16_t pp, uint16_t mp)
{
	uint8_t d[600];
	size_t dl = our_datagram(d, mp, pp);
	return icmp_err_frame(f, NET_ICMP_PARAM_PROBLEM, 0, ME, d, dl, 0);
}

static size_t b_err_quoted_opts(uint8_t *f, uint16_t pp, uint16_t mp)
{
	/* The quoted header has options: the ports are after them. */
	uint8_t d[600];
	size_t dl = our_datagram(d, mp, pp);
	dl = add_ip_options(d, dl, 0);
	return icmp_err_frame(f, NET_ICMP_DEST_UNREACH,
			      NET_ICMP_CODE_FRAG_NEEDED, ME, d, dl, 0);
}

static size_t b_err_outer_opts(uint8_t *f, uint16_t pp, uint16_t mp)
{
	size_t l = b_frag_needed(f, pp, mp);
	return add_ip_options(f, l, NET_ETH_HLEN);
}

static size_t b_err_quoted_udp(uint8_t *f, uint16_t pp, uint16_t mp)
{
	uint8_t u[8] = {(uint8_t)(mp >> 8), (uint8_t)mp, (uint8_t)(pp >> 8),
			(uint8_t)pp, 0, 8, 0, 0};
	uint8_t d[600];
	size_t dl = ipv4(d, sizeof d, ME, PEER, NET_IPPROTO_UDP, 0, u, 8);
	return icmp_err_frame(f, NET_ICMP_DEST_UNREACH,
			      NET_ICMP_CODE_PORT_UNREACH, ME, d, dl, 0);
}

static size_t b_err_quote_short(uint8_t *f, uint16_t pp, uint16_t mp)
{
	/* Quoted IPv4 header and only 2 bytes of TCP: no destination port. */
	uint8_t d[600];
	our_datagram(d, mp, pp);
	return icmp_err_frame(f, NET_ICMP_DEST_UNREACH,
			      NET_ICMP_CODE_FRAG_NEEDED, ME, d,
			      NET_IPV4_HLEN_MIN + 2, 0);
}

static size_t b_err_outer_first_frag(uint8_t *f, uint16_t pp, uint16_t mp)
{
	uint8_t d[600];
	size_t dl = our_datagram(d, mp, pp);
	return icmp_err_frame(f, NET_ICMP_DEST_UNREACH,
			      NET_ICMP_CODE_FRAG_NEEDED, ME, d, dl,
			      NET_IPV4_MF);
}

static size_t b_err_outer_later_frag(uint8_t *f, uint16_t pp, uint16_t mp)
{
	/* A later fragment whose bytes happen to look like an ICMP error
	 * header quoting TCP: it is a fragment, not an ICMP header. */
	uint8_t d[600];
	size_t dl = our_datagram(d, mp, pp);
	return icmp_err_frame(f, NET_ICMP_DEST_UNREACH,
			      NET_ICMP_CODE_FRAG_NEEDED, ME, d, dl, 100);
}

static size_t b_runt(uint8_t *f, uint16_t pp, uint16_t mp)
{
	eth(f, NET_ETH_P_IPV4);
	return 13;
}

static size_t b_empty(uint8_t *f, uint16_t pp, uint16_t mp)
{
	return 0;
}

static size_t b_eth_only(uint8_t *f, uint16_t pp, uint16_t mp)
{
	return eth(f, NET_ETH_P_IPV4);
}

static const struct frame_case frames[] = {
	{"tcp peer->me", WANT_FLOW, b_tcp_in},
	{"tcp me->peer", WANT_FLOW, b_tcp_out},
	{"tcp DF (not a fragment)", WANT_FLOW, b_tcp_df},
	{"tcp with IP options", WANT_FLOW, b_tcp_ipopts},
	{"tcp with Ethernet padding", WANT_FLOW, b_tcp_padded},
	{"tcp first fragment", WANT_LOCAL, b_tcp_first_frag},
	{"tcp later fragment", WANT_LOCAL, b_tcp_later_frag},
	{"tcp last fragment", WANT_LOCAL, b_tcp_last_frag},
	{"tcp VLAN-tagged", WANT_LOCAL, b_tcp_vlan},
	{"ethertype IPv6", WANT_LOCAL, b_tcp_ipv6_type},
	{"IP version 6 in IPv4 frame", WANT_LOCAL, b_tcp_version6},
	{"IHL 4", WANT_LOCAL, b_tcp_ihl4},
	{"IHL 15 past the frame", WANT_LOCAL, b_tcp_ihl15},
	{"udp", WANT_LOCAL, b_udp},
	{"arp request", WANT_ALL, b_arp},
	{"arp reply", WANT_ALL, b_arp_reply},
	{"icmp echo request", WANT_LOCAL, b_echo_req},
	{"icmp echo reply", WANT_LOCAL, b_echo_reply},
	{"icmp frag needed quoting tcp", WANT_FLOW, b_frag_needed},
	{"icmp port unreach quoting tcp", WANT_FLOW, b_port_unreach},
	{"icmp time exceeded quoting tcp", WANT_FLOW, b_time_exceeded},
	{"icmp param problem quoting tcp", WANT_FLOW, b_param_problem},
	{"icmp error, quoted IP options", WANT_FLOW, b_err_quoted_opts},
	{"icmp error, outer IP options", WANT_FLOW, b_err_outer_opts},
	{"icmp error quoting udp", WANT_LOCAL, b_err_quoted_udp},
	{"icmp error quoting 2 tcp bytes", WANT_LOCAL, b_err_quote_short},
	{"icmp error in a first fragment", WANT_LOCAL, b_err_outer_first_frag},
	{"icmp error in a later fragment", WANT_LOCAL, b_err_outer_later_frag},
	{"runt (13 bytes)", WANT_LOCAL, b_runt},
	{"empty", WANT_LOCAL, b_empty},
	{"Ethernet header only", WANT_LOCAL, b_eth_only},
};

#define NFRAMES (sizeof frames / sizeof frames[0])

/* Every row over many flows and several lcore counts: FLOW rows must
 * name the flow's owner (which varies with the flow, so a wrong offset
 * or a swapped field shows). */
static void test_classify_table(void)
{
	static const unsigned ns[] = {2, 4, 16};
	uint8_t f[1600];
	for (size_t k = 0; k < sizeof ns / sizeof ns[0]; k++) {
		struct dp_steer s;
		key_init(&s, ns[k], 500 + k);
		for (size_t r = 0; r < NFRAMES; r++) {
			unsigned wrong = 0, seen[16] = {0}, distinct = 0;
			for (int i = 0; i < 200; i++) {
				uint16_t pp = (uint16_t)(1024 + rnd() % 64000);
				uint16_t mp = i % 2 ? 25 : (uint16_t)(32768 + i);
				unsigned owner;
				size_t len = frames[r].build(f, pp, mp);
				enum dp_steer_kind kd =
					classify(&s, f, len, &owner);
				unsigned want_o =
					dp_steer_owner(&s, PEER, pp, ME, mp);
				int ok;
				switch (frames[r].want) {
				case WANT_FLOW:
					ok = kd == DP_STEER_FLOW &&
					     owner == want_o;
					if (kd == DP_STEER_FLOW &&
					    owner < 16 && !seen[owner]++)
						distinct++;
					break;
				case WANT_ALL:
					ok = kd == DP_STEER_ALL;
					break;
				default:
					ok = kd == DP_STEER_LOCAL;
				}
				if (!ok && wrong++ == 0)
					fprintf(stderr, "  n=%u %s: kind %d "
						"owner %u, want %d owner "
						"%u\n", ns[k], frames[r].name,
						kd, owner, frames[r].want,
						want_o);
			}
			CHECK_MSG(wrong == 0, "n=%u %s: %u of 200 wrong",
				  ns[k], frames[r].name, wrong);
			if (frames[r].want == WANT_FLOW)
				CHECK_MSG(distinct == ns[k],
					  "n=%u %s: flows reached %u lcores",
					  ns[k], frames[r].name, distinct);
		}
	}
}

/* The ICMP error about our segment goes where the peer's segments of
 * the same connection go (compared frame to frame). */
static void test_icmp_error_follows_flow(void)
{
	struct dp_steer s;
	key_init(&s, 8, 77);
	uint8_t in[1600], err[1600];
	unsigned bad = 0;
	for (int i = 0; i < 2000; i++) {
		uint16_t pp = (uint16_t)rnd(), mp = (uint16_t)rnd();
		unsigned o_in, o_err;
		size_t il = b_tcp_in(in, pp, mp);
		size_t el = b_frag_needed(err, pp, mp);
		if (classify(&s, in, il, &o_in) != DP_STEER_FLOW ||
		    classify(&s, err, el, &o_err) != DP_STEER_FLOW ||
		    o_in != o_err)
			bad++;
	}
	CHECK_EQ_INT(bad, 0);
}

/* Every prefix of a TCP frame and of an ICMP error: LOCAL until the
 * bytes the classifier needs are there (header + 4 bytes of TCP; outer
 * header + ICMP header + quoted header + 4), then FLOW; exact-size
 * buffers, so ASan reports any read past len. */
static void test_truncated(void)
{
	struct dp_steer s;
	key_init(&s, 4, 9);
	uint8_t f[1600];
	unsigned owner;
	size_t l = b_tcp_in(f, 40000, 25);
	size_t need = NET_ETH_HLEN + NET_IPV4_HLEN_MIN + 4;
	for (size_t n = 0; n <= l; n++) {
		enum dp_steer_kind k = classify(&s, f, n, &owner);
		CHECK_MSG(k == (n < need ? DP_STEER_LOCAL : DP_STEER_FLOW),
			  "tcp frame cut to %zu bytes: kind %d", n, k);
	}
	l = b_frag_needed(f, 40000, 25);
	need = NET_ETH_HLEN + NET_IPV4_HLEN_MIN + NET_ICMP_HLEN +
	       NET_IPV4_HLEN_MIN + 4;
	for (size_t n = 0; n <= l; n++) {
		enum dp_steer_kind k = classify(&s, f, n, &owner);
		CHECK_MSG(k == (n < need ? DP_STEER_LOCAL : DP_STEER_FLOW),
			  "icmp error cut to %zu bytes: kind %d", n, k);
	}
	l = b_arp(f, 1, 2);
	for (size_t n = 0; n < NET_ETH_HLEN; n++)
		CHECK_EQ_INT(classify(&s, f, n, &owner), DP_STEER_LOCAL);
}

/* Random bytes (and random bytes behind valid IPv4/ICMP headers):
 * never a crash or an out-of-bounds read; FLOW owners in range. */
static void test_garbage(void)
{
	struct dp_steer s;
	key_init(&s, 5, 11);
	uint8_t f[200];
	unsigned bad = 0;
	for (int i = 0; i < 200000; i++) {
		size_t len = (size_t)(rnd() % sizeof f);
		for (size_t j = 0; j < len; j++)
			f[j] = (uint8_t)rnd();
		if (i % 2 && len > 34) {
			/* IPv4, IHL 5..7, TCP or ICMP */
			f[12] = 0x08, f[13] = 0x00;
			f[14] = (uint8_t)(0x45 + rnd() % 3);
			f[23] = i % 4 == 1 ? NET_IPPROTO_TCP : NET_IPPROTO_ICMP;
			if (i % 8 == 3) {
				f[34] = NET_ICMP_DEST_UNREACH;
				f[42] = (uint8_t)(0x45 + rnd() % 11);
				f[51] = NET_IPPROTO_TCP;
			}
		}
		unsigned owner;
		enum dp_steer_kind k = classify(&s, f, len, &owner);
		if (k == DP_STEER_FLOW && owner >= s.n)
			bad++;
		if (k == DP_STEER_ALL && (len < 14 || f[12] != 0x08 ||
					  f[13] != 0x06))
			bad++;
	}
	CHECK_EQ_INT(bad, 0);
}

/* One lcore: every frame stays on lcore 0 (LOCAL, or FLOW to 0), ARP
 * is not fanned out. */
static void test_single_lcore(void)
{
	struct dp_steer s;
	key_init(&s, 1, 3);
	uint8_t f[1600];
	for (size_t r = 0; r < NFRAMES; r++) {
		for (int i = 0; i < 50; i++) {
			unsigned owner;
			size_t len = frames[r].build(f, (uint16_t)rnd(), 25);
			enum dp_steer_kind k = classify(&s, f, len, &owner);
			CHECK_MSG(k == DP_STEER_LOCAL ||
				  (k == DP_STEER_FLOW && owner == 0),
				  "n=1 %s: kind %d owner %u", frames[r].name,
				  k, owner);
		}
	}
	for (int i = 0; i < 10000; i++)
		CHECK_EQ_INT(dp_steer_owner(&s, (uint32_t)rnd(), (uint16_t)rnd(),
					    (uint32_t)rnd(), (uint16_t)rnd()),
			     0);
}

int main(void)
{
	RUN(test_owner_symmetric_in_range);
	RUN(test_owner_spread);
	RUN(test_owner_keyed);
	RUN(test_owner_uses_whole_tuple);
	RUN(test_classify_table);
	RUN(test_icmp_error_follows_flow);
	RUN(test_truncated);
	RUN(test_garbage);
	RUN(test_single_lcore);
	return CHECK_DONE();
}
