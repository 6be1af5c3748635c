/* tests/unit/test_net.c - tcpstack/net.c: Ethernet/ARP/IPv4/ICMP input,
 * drops per reason, IPv4 output through ARP, hooks, pool exhaustion.
 * A fake packet pool (64 x 2 KiB) proves every packet is freed or sent. */
#include "tcpstack/net.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "fake_pool.h"
#include "tcpstack/csum.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (b) << 16 | (c) << 8 | (d))
#define ME IP(198, 18, 0, 1)
#define PEER IP(198, 18, 0, 2)
#define OTHER IP(198, 18, 0, 9)
#define GW IP(198, 18, 0, 254)
#define OFFLINK IP(192, 0, 2, 7)
#define SEC UINT64_C(1000000)
#define T0 (100 * SEC)

static const uint8_t MAC_ME[6] = {0x02, 0, 0, 0, 0, 0x01};
static const uint8_t MAC_PEER[6] = {0x02, 0, 0, 0, 0, 0x02};
static const uint8_t MAC_GW[6] = {0x02, 0, 0, 0, 0, 0xfe};
static const uint8_t MAC_X[6] = {0x02, 0, 0, 0, 0, 0x77};
static const uint8_t BC[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

/* ---- the fake environment ---- */

static int bad_frees;
static struct net_pkt *cap[POOL];
static int ncap;
static bool tx_fail, pool_empty;

static struct net_pkt *env_alloc(void *env)
{
	(void)env;
	return pool_empty ? NULL : fake_pool_get();
}

static void env_free(void *env, struct net_pkt *p)
{
	(void)env;
	if (!fake_pool_put(p))
		bad_frees++;
}

static int env_tx(void *env, struct net_pkt *p)
{
	if (tx_fail || ncap == POOL) {
		env_free(env, p);
		return -ENOBUFS;
	}
	cap[ncap++] = p;
	return 0;
}

static const struct net_pkt_ops ops = {env_alloc, env_free, env_tx};

static void clear_tx(void)
{
	for (int i = 0; i < ncap; i++)
		env_free(NULL, cap[i]);
	ncap = 0;
}

static struct net_stack_config base_cfg(void)
{
	struct net_stack_config c = {
		.ip = ME, .prefix_len = 24, .gateway = GW,
		.arp_capacity = 64, .seed = 0x5eed,
	};
	memcpy(c.mac, MAC_ME, 6);
	return c;
}

static struct net_stack *mk_cfg(const struct net_stack_config *c)
{
	tx_fail = false;
	pool_empty = false;
	bad_frees = 0;
	struct net_stack *s = net_stack_create(c, &ops, NULL);
	CHECK(s != NULL);
	if (s == NULL)
		abort();
	return s;
}

static struct net_stack *mk(void)
{
	struct net_stack_config c = base_cfg();
	return mk_cfg(&c);
}

/* Free the stack and the captured frames: the pool must be whole. */
static void done(struct net_stack *s)
{
	net_stack_free(s);
	clear_tx();
	CHECK_EQ_INT(n_inuse, 0);
	CHECK_EQ_INT(bad_frees, 0);
}

static uint64_t total_drops(const struct net_stack_stats *st)
{
	uint64_t n = 0;
	for (int i = 0; i < NET_DROP_MAX; i++)
		n += st->drop[i];
	return n;
}

/* ---- frame builders ---- */

static struct net_pkt *frame(const uint8_t *dst, const uint8_t *src,
			     uint16_t type, const void *pl, size_t len)
{
	struct net_pkt *p = env_alloc(NULL);
	if (p == NULL)
		abort();
	struct net_eth_info e = {.ethertype = type};
	memcpy(e.dst, dst, 6);
	memcpy(e.src, src, 6);
	uint8_t *b = net_pkt_append(p, (uint32_t)(NET_ETH_HLEN + len));
	net_eth_build(b, NET_ETH_HLEN, &e);
	if (len)
		memcpy(b + NET_ETH_HLEN, pl, len);
	return p;
}

static struct net_pkt *arp_frame(const uint8_t *eth_dst, uint16_t op,
				 const uint8_t *sha, uint32_t spa,
				 uint32_t tpa)
{
	struct net_arp_info a = {.op = op, .spa = spa, .tpa = tpa};
	memcpy(a.sha, sha, 6);
	if (op == NET_ARP_OP_REPLY)
		memcpy(a.tha, MAC_ME, 6);
	uint8_t b[NET_ARP_LEN];
	net_arp_build(b, sizeof b, &a);
	return frame(eth_dst, sha, NET_ETH_P_ARP, b, sizeof b);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void icmp_csum(uint8_t *m, size_t len)
{
	put16(m + 2, 0);
	put16(m + 2, net_csum_fold(net_csum_partial(m, len, 0)));
}

/* IPv4 datagram src -> dst of proto with payload; returns its length. */
static size_t ipv4(uint8_t *buf, uint32_t src, uint32_t dst, uint8_t proto,
		   uint16_t frag, const void *pl, size_t len)
{
	struct net_ipv4_info h = {
		.ttl = 63, .proto = proto, .id = 0x1234, .frag = frag,
		.src = src, .dst = dst,
	};
	net_ipv4_build(buf, 20, &h, len);
	memcpy(buf + 20, pl, len);
	return 20 + len;
}

/* Echo request of n data bytes, id 0x4242, sequence seq. */
static size_t echo_req(uint8_t *m, size_t n, uint16_t seq)
{
	memset(m, 0, 8);
	m[0] = NET_ICMP_ECHO_REQUEST;
	put16(m + 4, 0x4242);
	put16(m + 6, seq);
	for (size_t i = 0; i < n; i++)
		m[8 + i] = (uint8_t)(i * 7 + 1);
	icmp_csum(m, 8 + n);
	return 8 + n;
}

static struct net_pkt *ping(uint32_t src, uint32_t dst, uint16_t seq)
{
	uint8_t m[64], d[128];
	size_t ml = echo_req(m, 56, seq);
	size_t dl = ipv4(d, src, dst, NET_IPPROTO_ICMP, 0, m, ml);
	return frame(MAC_ME, MAC_PEER, NET_ETH_P_IPV4, d, dl);
}

static size_t tcp_syn(uint8_t *seg, uint32_t src, uint32_t dst)
{
	struct tcp_hdr_info t = {
		.sport = 40000, .dport = 25, .seq = 1000, .flags = TCP_SYN,
		.window = 65535,
	};
	return (size_t)tcp_hdr_build(seg, 60, &t, src, dst, NULL);
}

/* ---- checks on captured frames ---- */

/* Parse captured frame i as ARP; false if it is not one. */
static bool got_arp(int i, const uint8_t *eth_dst, struct net_arp_info *a)
{
	struct net_eth_info e;
	if (i >= ncap || net_eth_parse(cap[i]->data, cap[i]->len, &e) != 0)
		return false;
	CHECK_EQ_MEM(e.dst, 6, eth_dst, 6);
	CHECK_EQ_MEM(e.src, 6, MAC_ME, 6);
	CHECK_EQ_INT(e.ethertype, NET_ETH_P_ARP);
	return net_arp_parse(cap[i]->data + e.hdr_len, cap[i]->len - e.hdr_len,
			     a) == 0;
}

/* Parse captured frame i as IPv4 to eth_dst; returns the payload. */
static const uint8_t *got_ipv4(int i, const uint8_t *eth_dst,
			       struct net_ipv4_info *ip)
{
	struct net_eth_info e;
	if (i >= ncap || net_eth_parse(cap[i]->data, cap[i]->len, &e) != 0)
		return NULL;
	CHECK_EQ_MEM(e.dst, 6, eth_dst, 6);
	CHECK_EQ_MEM(e.src, 6, MAC_ME, 6);
	CHECK_EQ_INT(e.ethertype, NET_ETH_P_IPV4);
	const uint8_t *d = cap[i]->data + e.hdr_len;
	size_t n = cap[i]->len - e.hdr_len;
	if (net_ipv4_parse(d, n, ip) != 0)
		return NULL;
	CHECK_EQ_INT(ip->total_len, n);  /* nothing trailing */
	CHECK_EQ_INT(ip->src, ME);
	CHECK_EQ_INT(ip->ttl, 64);
	CHECK_EQ_INT(ip->frag, NET_IPV4_DF);
	CHECK_EQ_INT(ip->hdr_len, 20);
	return d + ip->hdr_len;
}

/* ---- tests ---- */

static void test_create_config(void)
{
	static const struct {
		const char *name;
		uint32_t ip, gw;
		uint8_t prefix;
		uint16_t mtu;
		uint8_t mac0;
		bool ok;
	} rows[] = {
		{"good", ME, GW, 24, 0, 0x02, true},
		{"no gateway", ME, 0, 24, 9000, 0x02, true},
		{"ip 0", 0, 0, 24, 0, 0x02, false},
		{"ip multicast", IP(224, 0, 0, 1), 0, 24, 0, 0x02, false},
		{"ip loopback", IP(127, 0, 0, 1), 0, 8, 0, 0x02, false},
		{"prefix 33", ME, 0, 33, 0, 0x02, false},
		{"gateway off-link", ME, OFFLINK, 24, 0, 0x02, false},
		{"gateway is us", ME, ME, 24, 0, 0x02, false},
		{"mtu 67", ME, GW, 24, 67, 0x02, false},
		{"mtu 9217", ME, GW, 24, 9217, 0x02, false},
		{"mac multicast", ME, GW, 24, 0, 0x01, false},
		{"mac zero", ME, GW, 24, 0, 0x00, false},
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		struct net_stack_config c = base_cfg();
		c.ip = rows[i].ip;
		c.gateway = rows[i].gw;
		c.prefix_len = rows[i].prefix;
		c.mtu = rows[i].mtu;
		c.mac[0] = rows[i].mac0;
		if (rows[i].mac0 == 0)
			memset(c.mac, 0, 6);
		struct net_stack *s = net_stack_create(&c, &ops, NULL);
		CHECK_MSG((s != NULL) == rows[i].ok, "%s", rows[i].name);
		net_stack_free(s);
	}
	struct net_pkt_ops no_tx = {env_alloc, env_free, NULL};
	struct net_stack_config c = base_cfg();
	CHECK(net_stack_create(&c, &no_tx, NULL) == NULL);
	CHECK(net_stack_create(&c, NULL, NULL) == NULL);
	net_stack_free(NULL);
	CHECK_EQ_INT(n_inuse, 0);
}

static void test_arp_reply(void)
{
	struct net_stack *s = mk();
	struct net_arp_info a;
	struct net_stack_stats st;

	net_input(s, arp_frame(BC, NET_ARP_OP_REQUEST, MAC_PEER, PEER, ME), T0);
	CHECK_EQ_INT(ncap, 1);
	CHECK(got_arp(0, MAC_PEER, &a));
	CHECK_EQ_INT(a.op, NET_ARP_OP_REPLY);
	CHECK_EQ_MEM(a.sha, 6, MAC_ME, 6);
	CHECK_EQ_INT(a.spa, ME);
	CHECK_EQ_MEM(a.tha, 6, MAC_PEER, 6);
	CHECK_EQ_INT(a.tpa, PEER);
	CHECK_EQ_INT(cap[0]->len, NET_ETH_HLEN + NET_ARP_LEN);
	net_stack_stats(s, &st);
	CHECK_EQ_INT(st.arp_rx, 1);
	CHECK_EQ_INT(st.arp_replies_tx, 1);
	CHECK_EQ_INT(st.tx_packets, 1);
	CHECK_EQ_INT(total_drops(&st), 0);
	/* The request taught us PEER: output goes out at once. */
	clear_tx();
	struct net_pkt *p = env_alloc(NULL);
	memset(net_pkt_append(p, 20), 0xab, 20);
	CHECK_EQ_INT(net_ip_output(s, p, PEER, NET_IPPROTO_TCP, T0), 0);
	/* STALE in use: a unicast probe to re-confirm, and the packet. */
	CHECK_EQ_INT(ncap, 2);
	CHECK(got_arp(0, MAC_PEER, &a));
	CHECK_EQ_INT(a.op, NET_ARP_OP_REQUEST);
	struct net_ipv4_info ip;
	CHECK(got_ipv4(1, MAC_PEER, &ip) != NULL);
	done(s);
}

static void test_arp_not_for_us(void)
{
	static const struct {
		const char *name;
		const uint8_t *eth_dst;
		uint16_t op;
		uint32_t spa, tpa;
		int drop;      /* expected drop reason, or -1 */
		int ignored;   /* arp_ignored / conflicts expected */
	} rows[] = {
		{"other target", BC, NET_ARP_OP_REQUEST, PEER, OTHER, -1, 0},
		{"unsolicited reply", MAC_ME, NET_ARP_OP_REPLY, PEER, ME, -1, 0},
		{"other unicast mac", MAC_X, NET_ARP_OP_REQUEST, PEER, ME,
		 NET_DROP_ADDR, 0},
		{"sender loopback", BC, NET_ARP_OP_REQUEST, IP(127, 0, 0, 1), ME,
		 -1, 1},
		{"sender is us", BC, NET_ARP_OP_REQUEST, ME, ME, -1, 1},
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		struct net_stack *s = mk();
		struct net_stack_stats st;
		net_input(s, arp_frame(rows[i].eth_dst, rows[i].op, MAC_PEER,
				       rows[i].spa, rows[i].tpa), T0);
		CHECK_MSG(ncap == 0, "%s", rows[i].name);
		net_stack_stats(s, &st);
		if (rows[i].drop >= 0)
			CHECK_MSG(st.drop[rows[i].drop] == 1, "%s", rows[i].name);
		else
			CHECK_MSG(total_drops(&st) == 0, "%s", rows[i].name);
		CHECK_MSG(st.arp_ignored + st.arp_conflicts ==
			  (uint64_t)rows[i].ignored, "%s", rows[i].name);
		done(s);
	}
}

static void check_echo_reply(int i, uint16_t seq, size_t data_len)
{
	struct net_ipv4_info ip;
	const uint8_t *m = got_ipv4(i, MAC_PEER, &ip);
	CHECK(m != NULL);
	if (m == NULL)
		return;
	CHECK_EQ_INT(ip.dst, PEER);
	CHECK_EQ_INT(ip.proto, NET_IPPROTO_ICMP);
	struct net_icmp_info ic;
	CHECK_EQ_INT(net_icmp_parse(m, ip.payload_len, &ic), 0);
	CHECK_EQ_INT(ic.type, NET_ICMP_ECHO_REPLY);
	CHECK_EQ_INT(ic.id, 0x4242);
	CHECK_EQ_INT(ic.seq, seq);
	CHECK_EQ_INT(ic.data_len, data_len);
	uint8_t want[64];
	echo_req(want, data_len, seq);
	CHECK_EQ_MEM(m + 8, ic.data_len, want + 8, data_len);
}

static void test_ping(void)
{
	struct net_stack *s = mk();
	struct net_stack_stats st;

	net_input(s, ping(PEER, ME, 7), T0);
	CHECK_EQ_INT(ncap, 1);
	check_echo_reply(0, 7, 56);
	clear_tx();

	/* With IP options (skipped, not echoed) and Ethernet padding. */
	uint8_t m[64], d[160];
	size_t ml = echo_req(m, 56, 8);
	struct net_ipv4_info h = {
		.ttl = 9, .proto = NET_IPPROTO_ICMP, .src = PEER, .dst = ME,
	};
	net_ipv4_build(d, 20, &h, 4 + ml);
	d[0] = 0x46;                   /* IHL 6 */
	memset(d + 20, 1, 4);          /* four NOP options */
	memcpy(d + 24, m, ml);
	put16(d + 10, 0);
	put16(d + 10, net_csum_fold(net_csum_partial(d, 24, 0)));
	memset(d + 24 + ml, 0xee, 12); /* padding after total length */
	net_input(s, frame(MAC_ME, MAC_PEER, NET_ETH_P_IPV4, d, 24 + ml + 12),
		  T0);
	CHECK_EQ_INT(ncap, 1);
	check_echo_reply(0, 8, 56);
	net_stack_stats(s, &st);
	CHECK_EQ_INT(st.icmp_echo_rx, 2);
	CHECK_EQ_INT(st.icmp_echo_tx, 2);
	done(s);
}

static void test_ping_ratelimit(void)
{
	struct net_stack_config c = base_cfg();
	c.icmp_rate = 10;
	c.icmp_burst = 5;
	struct net_stack *s = mk_cfg(&c);
	struct net_stack_stats st;

	for (int i = 0; i < 20; i++) {
		net_input(s, ping(PEER, ME, (uint16_t)i), T0);
		CHECK(n_inuse <= POOL - 10);  /* dropped pings are freed */
	}
	CHECK_EQ_INT(ncap, 5);
	clear_tx();
	/* 10/s: one more after 100 ms, not before. */
	net_input(s, ping(PEER, ME, 100), T0 + 99999);
	CHECK_EQ_INT(ncap, 0);
	for (int i = 0; i < 3; i++)
		net_input(s, ping(PEER, ME, 101), T0 + 100000);
	CHECK_EQ_INT(ncap, 1);
	net_stack_stats(s, &st);
	CHECK_EQ_INT(st.icmp_echo_rx, 24);
	CHECK_EQ_INT(st.icmp_echo_tx, 6);
	CHECK_EQ_INT(st.icmp_ratelimited, 18);
	done(s);
}

enum bad { BAD_IPCSUM, BAD_TRUNC, BAD_TOTLEN, BAD_FRAG, BAD_NOTUS,
	   BAD_SRC_LOOP, BAD_VLAN, BAD_ETHERTYPE, BAD_RUNT, BAD_OTHER_MAC,
	   BAD_BCAST_IP, BAD_ICMP_CSUM, BAD_UDP, BAD_ECHO_REPLY, BAD_VERSION,
	   BAD_SRC_MCAST_MAC, BAD_SRC_BCAST };

static struct net_pkt *bad_frame(enum bad k)
{
	uint8_t m[64], d[128];
	size_t ml = echo_req(m, 40, 1);
	size_t dl = ipv4(d, PEER, ME, NET_IPPROTO_ICMP, 0, m, ml);
	const uint8_t *dst = MAC_ME, *src = MAC_PEER;
	uint16_t type = NET_ETH_P_IPV4;

	switch (k) {
	case BAD_IPCSUM: d[10] ^= 0x55; break;
	case BAD_TRUNC: dl = 18; break;
	case BAD_TOTLEN: dl -= 10; break;
	case BAD_FRAG:
		dl = ipv4(d, PEER, ME, NET_IPPROTO_ICMP, NET_IPV4_MF, m, ml);
		break;
	case BAD_NOTUS:
		dl = ipv4(d, PEER, OTHER, NET_IPPROTO_ICMP, 0, m, ml);
		break;
	case BAD_SRC_LOOP:
		dl = ipv4(d, IP(127, 0, 0, 1), ME, NET_IPPROTO_ICMP, 0, m, ml);
		break;
	case BAD_VLAN: {
		uint8_t t[128];
		put16(t, 5);  /* TCI */
		put16(t + 2, NET_ETH_P_IPV4);
		memcpy(t + 4, d, dl);
		memcpy(d, t, dl + 4);
		dl += 4;
		type = NET_ETH_P_VLAN;
		break;
	}
	case BAD_ETHERTYPE: type = NET_ETH_P_IPV6; break;
	case BAD_RUNT: {
		struct net_pkt *p = frame(dst, src, type, NULL, 0);
		net_pkt_trim(p, 10);
		return p;
	}
	case BAD_OTHER_MAC: dst = MAC_X; break;
	case BAD_BCAST_IP: dst = BC; break;
	case BAD_ICMP_CSUM: d[20 + 9] ^= 1; d[10] = d[11] = 0;
		put16(d + 10, net_csum_fold(net_csum_partial(d, 20, 0)));
		break;
	case BAD_UDP:
		dl = ipv4(d, PEER, ME, NET_IPPROTO_UDP, 0, m, ml);
		break;
	case BAD_ECHO_REPLY:
		m[0] = NET_ICMP_ECHO_REPLY;
		icmp_csum(m, ml);
		dl = ipv4(d, PEER, ME, NET_IPPROTO_ICMP, 0, m, ml);
		break;
	case BAD_VERSION: d[0] = 0x65; break;
	case BAD_SRC_MCAST_MAC: src = BC; break;
	case BAD_SRC_BCAST:
		dl = ipv4(d, IP(198, 18, 0, 255), ME, NET_IPPROTO_ICMP, 0, m,
			  ml);
		break;
	}
	return frame(dst, src, type, d, dl);
}

static void test_drops(void)
{
	static const struct {
		const char *name;
		enum bad k;
		enum net_drop want;
	} rows[] = {
		{"ip checksum", BAD_IPCSUM, NET_DROP_CSUM},
		{"truncated ip", BAD_TRUNC, NET_DROP_SHORT},
		{"total length > frame", BAD_TOTLEN, NET_DROP_TOTLEN},
		{"fragment", BAD_FRAG, NET_DROP_FRAG},
		{"not our address", BAD_NOTUS, NET_DROP_ADDR},
		{"martian source", BAD_SRC_LOOP, NET_DROP_ADDR},
		{"vlan", BAD_VLAN, NET_DROP_VLAN},
		{"ipv6 ethertype", BAD_ETHERTYPE, NET_DROP_ETHERTYPE},
		{"runt ethernet", BAD_RUNT, NET_DROP_SHORT},
		{"other mac", BAD_OTHER_MAC, NET_DROP_ADDR},
		{"ip to broadcast mac", BAD_BCAST_IP, NET_DROP_ADDR},
		{"icmp checksum", BAD_ICMP_CSUM, NET_DROP_CSUM},
		{"udp", BAD_UDP, NET_DROP_PROTO},
		{"echo reply", BAD_ECHO_REPLY, NET_DROP_PROTO},
		{"ip version 6", BAD_VERSION, NET_DROP_VERSION},
		{"multicast source mac", BAD_SRC_MCAST_MAC, NET_DROP_ADDR},
		{"subnet broadcast source", BAD_SRC_BCAST, NET_DROP_ADDR},
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		struct net_stack *s = mk();
		struct net_stack_stats st;
		net_input(s, bad_frame(rows[i].k), T0);
		net_stack_stats(s, &st);
		CHECK_MSG(ncap == 0, "%s: sent %d", rows[i].name, ncap);
		CHECK_MSG(st.drop[rows[i].want] == 1 && total_drops(&st) == 1,
			  "%s: want %s", rows[i].name,
			  net_drop_name(rows[i].want));
		CHECK_MSG(n_inuse == 0, "%s: leaked", rows[i].name);
		CHECK_EQ_INT(st.rx_packets, 1);
		done(s);
	}
}

static struct net_pkt *segment(size_t n)
{
	struct net_pkt *p = env_alloc(NULL);
	uint8_t *b = net_pkt_append(p, (uint32_t)n);
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(i ^ 0x5a);
	return p;
}

static void check_segment(const uint8_t *pl, const struct net_ipv4_info *ip,
			  uint32_t dst, size_t n)
{
	CHECK_EQ_INT(ip->dst, dst);
	CHECK_EQ_INT(ip->proto, NET_IPPROTO_TCP);
	CHECK_EQ_INT(ip->payload_len, n);
	for (size_t i = 0; pl != NULL && i < n; i++)
		if (pl[i] != (uint8_t)(i ^ 0x5a)) {
			CHECK_MSG(0, "payload byte %zu", i);
			break;
		}
}

/* Output to dst (next hop nh, MAC nh_mac): request, reply, release. */
static void output_via(uint32_t dst, uint32_t nh, const uint8_t *nh_mac)
{
	struct net_stack *s = mk();
	struct net_arp_info a;
	struct net_ipv4_info ip;
	struct net_stack_stats st;

	CHECK_EQ_INT(net_ip_output(s, segment(100), dst, NET_IPPROTO_TCP, T0),
		     0);
	CHECK_EQ_INT(ncap, 1);
	CHECK(got_arp(0, BC, &a));
	CHECK_EQ_INT(a.op, NET_ARP_OP_REQUEST);
	CHECK_EQ_INT(a.tpa, nh);
	CHECK_EQ_INT(a.spa, ME);
	CHECK_EQ_MEM(a.sha, 6, MAC_ME, 6);
	CHECK_EQ_MEM(a.tha, 6, "\0\0\0\0\0\0", 6);
	clear_tx();
	CHECK_EQ_INT(n_inuse, 1);  /* the queued packet */

	net_input(s, arp_frame(MAC_ME, NET_ARP_OP_REPLY, nh_mac, nh, ME),
		  T0 + 1000);
	CHECK_EQ_INT(ncap, 1);
	const uint8_t *pl = got_ipv4(0, nh_mac, &ip);
	CHECK(pl != NULL);
	check_segment(pl, &ip, dst, 100);
	uint16_t id0 = ip.id;
	clear_tx();

	/* Resolved: the next one goes straight out, next IP ID. */
	CHECK_EQ_INT(net_ip_output(s, segment(7), dst, NET_IPPROTO_TCP,
				   T0 + 2000), 0);
	CHECK_EQ_INT(ncap, 1);
	pl = got_ipv4(0, nh_mac, &ip);
	check_segment(pl, &ip, dst, 7);
	CHECK_EQ_INT(ip.id, (uint16_t)(id0 + 1));
	net_stack_stats(s, &st);
	CHECK_EQ_INT(st.arp_requests_tx, 1);
	CHECK_EQ_INT(st.arp_released, 1);
	CHECK_EQ_INT(st.ip_out, 2);
	CHECK_EQ_INT(st.ip_out_err, 0);
	done(s);
}

static void test_output_onlink(void)
{
	output_via(PEER, PEER, MAC_PEER);
}

static void test_output_gateway(void)
{
	output_via(OFFLINK, GW, MAC_GW);
}

static void test_output_errors(void)
{
	struct net_stack_config c = base_cfg();
	c.gateway = 0;
	struct net_stack *s = mk_cfg(&c);
	static const struct {
		uint32_t dst;
		size_t len;
		int want;
	} rows[] = {
		{OFFLINK, 20, -ENETUNREACH},
		{PEER, 1481, -EMSGSIZE},
		{ME, 20, -EINVAL},
		{0, 20, -EINVAL},
		{IP(224, 0, 0, 5), 20, -EINVAL},
		{IP(255, 255, 255, 255), 20, -EINVAL},
		{IP(198, 18, 0, 255), 20, -EINVAL},
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		CHECK_EQ_INT(net_ip_output(s, segment(rows[i].len), rows[i].dst,
					   NET_IPPROTO_TCP, T0), rows[i].want);
		CHECK_EQ_INT(n_inuse, 0);
	}
	/* 1480 bytes fit a 1500 MTU. */
	CHECK_EQ_INT(net_ip_output(s, segment(1480), PEER, NET_IPPROTO_TCP, T0),
		     0);
	/* Headroom too small for IPv4 + Ethernet. */
	struct net_pkt *p = segment(20);
	p->headroom = 33;
	CHECK_EQ_INT(net_ip_output(s, p, PEER, NET_IPPROTO_TCP, T0), -ENOSPC);
	CHECK_EQ_INT(ncap, 1);  /* the one ARP request */
	struct net_stack_stats st;
	net_stack_stats(s, &st);
	CHECK_EQ_INT(st.ip_out, 9);
	CHECK_EQ_INT(st.ip_out_err, 8);
	done(s);  /* frees the packet still waiting for ARP */
}

static void test_arp_retry_and_fail(void)
{
	struct net_stack *s = mk();
	struct net_arp_info a;

	CHECK_EQ_INT(net_ip_output(s, segment(20), PEER, NET_IPPROTO_TCP, T0),
		     0);
	CHECK_EQ_INT(ncap, 1);
	net_stack_advance(s, T0 + SEC / 2);
	CHECK_EQ_INT(ncap, 1);  /* not due yet */
	net_stack_advance(s, T0 + SEC);
	CHECK_EQ_INT(ncap, 2);
	CHECK(got_arp(1, BC, &a));
	CHECK_EQ_INT(a.tpa, PEER);
	net_stack_advance(s, T0 + 2 * SEC);
	CHECK_EQ_INT(ncap, 3);
	CHECK_EQ_INT(n_inuse, 4);  /* 3 requests + the waiting packet */
	net_stack_advance(s, T0 + 3 * SEC);
	CHECK_EQ_INT(ncap, 3);
	CHECK_EQ_INT(n_inuse, 3);  /* given up: the packet was freed */
	CHECK_EQ_INT(net_ip_output(s, segment(20), PEER, NET_IPPROTO_TCP,
				   T0 + 3 * SEC + 1), -EHOSTUNREACH);
	CHECK_EQ_INT(n_inuse, 3);
	done(s);
}

static void test_pool_exhausted(void)
{
	struct net_stack *s = mk();
	struct net_stack_stats st;

	struct net_pkt *req =
		arp_frame(BC, NET_ARP_OP_REQUEST, MAC_PEER, PEER, ME);
	struct net_pkt *seg = segment(20);
	pool_empty = true;
	net_input(s, req, T0);            /* the reply cannot be allocated */
	CHECK_EQ_INT(ncap, 0);
	/* Output to an unresolved host: no request either, but queued. */
	CHECK_EQ_INT(net_ip_output(s, seg, OTHER, NET_IPPROTO_TCP, T0), 0);
	CHECK_EQ_INT(ncap, 0);
	net_stack_stats(s, &st);
	CHECK_EQ_INT(st.alloc_fail, 2);
	CHECK_EQ_INT(st.arp_replies_tx + st.arp_requests_tx, 0);
	CHECK_EQ_INT(n_inuse, 1);         /* req freed, seg waiting */
	/* The retry gets through once the pool has room. */
	pool_empty = false;
	net_stack_advance(s, T0 + SEC);
	CHECK_EQ_INT(ncap, 1);
	struct net_arp_info a;
	CHECK(got_arp(0, BC, &a));
	CHECK_EQ_INT(a.tpa, OTHER);

	/* tx refusing frames: counted, freed. */
	clear_tx();
	tx_fail = true;
	net_input(s, ping(PEER, ME, 1), T0 + SEC);
	net_stack_stats(s, &st);
	CHECK_EQ_INT(st.tx_errors, 1);
	CHECK_EQ_INT(st.icmp_echo_tx, 1);
	CHECK_EQ_INT(ncap, 0);
	CHECK_EQ_INT(n_inuse, 1);
	done(s);
}

static int hook_calls;
static uint16_t hook_sport;
static size_t hook_len;

static void tcp_hook(void *ctx, struct net_pkt *p,
		     const struct net_ipv4_info *ip, uint64_t now)
{
	struct tcp_hdr_info t;
	CHECK_EQ_INT(*(int *)ctx, 42);
	CHECK_EQ_INT(now, T0);
	CHECK_EQ_INT(ip->src, PEER);
	CHECK_EQ_INT(ip->dst, ME);
	CHECK_EQ_INT(p->len, ip->payload_len);
	CHECK_EQ_INT(tcp_hdr_parse(p->data, p->len, ip->src, ip->dst, &t), 0);
	CHECK(p->headroom >= NET_ETH_HLEN + NET_IPV4_HLEN_MIN);
	hook_calls++;
	hook_sport = t.sport;
	hook_len = p->len;
	env_free(NULL, p);  /* the hook owns it */
}

static void test_tcp_input(void)
{
	uint8_t seg[60], d[128];
	size_t sl = tcp_syn(seg, PEER, ME);
	size_t dl = ipv4(d, PEER, ME, NET_IPPROTO_TCP, 0, seg, sl);
	memset(d + dl, 0, 6);  /* Ethernet padding to 60 bytes */
	struct net_stack_stats st;

	/* No hook: dropped as PROTO and freed. */
	struct net_stack *s = mk();
	net_input(s, frame(MAC_ME, MAC_PEER, NET_ETH_P_IPV4, d, dl + 6), T0);
	net_stack_stats(s, &st);
	CHECK_EQ_INT(st.drop[NET_DROP_PROTO], 1);
	CHECK_EQ_INT(st.tcp_rx, 0);
	CHECK_EQ_INT(n_inuse, 0);
	CHECK_EQ_INT(ncap, 0);

	/* Hook: gets the segment, padding cut. */
	int ctx = 42;
	struct net_stack_hooks h = {.tcp_input = tcp_hook, .ctx = &ctx};
	net_stack_set_hooks(s, &h);
	hook_calls = 0;
	net_input(s, frame(MAC_ME, MAC_PEER, NET_ETH_P_IPV4, d, dl + 6), T0);
	CHECK_EQ_INT(hook_calls, 1);
	CHECK_EQ_INT(hook_sport, 40000);
	CHECK_EQ_INT(hook_len, sl);
	net_stack_stats(s, &st);
	CHECK_EQ_INT(st.tcp_rx, 1);
	CHECK_EQ_INT(total_drops(&st), 1);
	done(s);
}

static int err_calls;
static uint16_t err_mtu;

static void icmp_err_hook(void *ctx, const struct net_icmp_info *ic)
{
	(void)ctx;
	err_calls++;
	err_mtu = ic->mtu;
	CHECK_EQ_INT(ic->inner_dport, 25);
}

/* Frag needed from a router quoting a segment inner_src -> PEER. */
static struct net_pkt *frag_needed(uint32_t inner_src)
{
	uint8_t seg[60], orig[128], m[160], d[200];
	struct tcp_hdr_info t = {.sport = 25, .dport = 25, .flags = TCP_ACK};
	size_t sl = (size_t)tcp_hdr_build(seg, 60, &t, inner_src, PEER, NULL);
	t.sport = 2525;
	size_t ol = ipv4(orig, inner_src, PEER, NET_IPPROTO_TCP, NET_IPV4_DF,
			 seg, sl);
	int ml = net_icmp_error_build(m, sizeof m, NET_ICMP_DEST_UNREACH,
				      NET_ICMP_CODE_FRAG_NEEDED, 1400, orig,
				      ol);
	CHECK(ml > 0);
	size_t dl = ipv4(d, GW, ME, NET_IPPROTO_ICMP, 0, m, (size_t)ml);
	return frame(MAC_ME, MAC_GW, NET_ETH_P_IPV4, d, dl);
}

static void test_icmp_error(void)
{
	struct net_stack *s = mk();
	struct net_stack_stats st;
	struct net_stack_hooks h = {.on_icmp_error = icmp_err_hook};
	net_stack_set_hooks(s, &h);
	err_calls = 0;

	net_input(s, frag_needed(ME), T0);
	CHECK_EQ_INT(err_calls, 1);
	CHECK_EQ_INT(err_mtu, 1400);
	/* Quoting someone else's datagram: not ours to act on. */
	net_input(s, frag_needed(OTHER), T0);
	CHECK_EQ_INT(err_calls, 1);
	net_stack_stats(s, &st);
	CHECK_EQ_INT(st.icmp_errors_rx, 1);
	CHECK_EQ_INT(st.drop[NET_DROP_ADDR], 1);
	CHECK_EQ_INT(ncap, 0);
	/* Without a hook: counted and freed. */
	net_stack_set_hooks(s, NULL);
	net_input(s, frag_needed(ME), T0);
	CHECK_EQ_INT(err_calls, 1);
	done(s);
}

int main(void)
{
	RUN(test_create_config);
	RUN(test_arp_reply);
	RUN(test_arp_not_for_us);
	RUN(test_ping);
	RUN(test_ping_ratelimit);
	RUN(test_drops);
	RUN(test_output_onlink);
	RUN(test_output_gateway);
	RUN(test_output_errors);
	RUN(test_arp_retry_and_fail);
	RUN(test_pool_exhausted);
	RUN(test_tcp_input);
	RUN(test_icmp_error);
	return CHECK_DONE();
}
