/* tests/unit/test_wire.c - tcpstack/wire.c */
#include "tcpstack/wire.h"
#include "tcpstack/tcpopt.h"
#include "tests/unit/check.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#define RND_SEED 0xda942042e4dd58b5ull
#include "tests/unit/rnd.h"

/* ---- independent helpers: naive checksum, byte writers ---- */

static uint16_t naive_csum(const uint8_t *p, size_t len, uint32_t init)
{
	uint64_t s = init;
	for (size_t i = 0; i < len; i++)
		s += (i & 1) ? p[i] : (uint32_t)p[i] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

#define MAC_A 0x02, 0x00, 0x00, 0x00, 0x00, 0x01
#define MAC_B 0x02, 0x00, 0x00, 0x00, 0x00, 0x02
#define IP_A 198, 18, 0, 1
#define IP_B 198, 18, 0, 2
#define IPV4_A 0xc6120001u
#define IPV4_B 0xc6120002u

/* Fix the IPv4 header checksum at ip (its IHL) and, for TCP/ICMP, the L4
 * checksum over total length - IHL. */
static void fix_csums(uint8_t *ip)
{
	size_t hl = (size_t)(ip[0] & 15) * 4, tot = rd16(ip + 2);
	wr16(ip + 10, 0);
	wr16(ip + 10, naive_csum(ip, hl, 0));
	uint8_t *l4 = ip + hl;
	size_t l4len = tot - hl;
	if (ip[9] == NET_IPPROTO_TCP) {
		uint32_t ph = (uint32_t)rd16(ip + 12) + rd16(ip + 14) +
			      rd16(ip + 16) + rd16(ip + 18) + 6 +
			      (uint32_t)l4len;
		wr16(l4 + 16, 0);
		wr16(l4 + 16, naive_csum(l4, l4len, ph));
	} else if (ip[9] == NET_IPPROTO_ICMP) {
		wr16(l4 + 2, 0);
		wr16(l4 + 2, naive_csum(l4, l4len, 0));
	}
}

/* A TCP SYN from B:40000 to A:25 with MSS 1460, seq 0x01020304. */
static const uint8_t syn_frame[14 + 20 + 24] = {
	MAC_A, MAC_B, 0x08, 0x00,
	0x45, 0x00, 0x00, 44, 0x12, 0x34, 0x40, 0x00, 64, 6, 0, 0,
	IP_B, IP_A,
	0x9c, 0x40, 0x00, 25, 1, 2, 3, 4, 0, 0, 0, 0, 0x60, TCP_SYN,
	0xfa, 0xf0, 0, 0, 0, 0, 2, 4, 0x05, 0xb4,
};

static void make_syn(uint8_t *f)
{
	memcpy(f, syn_frame, sizeof(syn_frame));
	fix_csums(f + 14);
}

/* Parse eth -> ipv4 -> tcp from an exact-size heap copy. Returns the
 * first failing rc, and the drop reason in *drop. */
static int parse_frame(const uint8_t *f, size_t n, enum net_drop *drop,
		       struct net_ipv4_info *ip, struct tcp_hdr_info *th)
{
	uint8_t *c = malloc(n ? n : 1);
	memcpy(c, f, n);
	struct net_eth_info e;
	int rc = net_eth_parse(c, n, &e);
	*drop = e.drop;
	if (rc == 0) {
		rc = net_ipv4_parse(c + e.hdr_len, n - e.hdr_len, ip);
		*drop = ip->drop;
	}
	if (rc == 0) {
		rc = tcp_hdr_parse(c + e.hdr_len + ip->hdr_len,
				   ip->payload_len, ip->src, ip->dst, th);
		*drop = th->drop;
	}
	free(c);
	return rc;
}

static void test_syn_valid(void)
{
	uint8_t f[sizeof(syn_frame)];
	make_syn(f);
	enum net_drop d;
	struct net_ipv4_info ip;
	struct tcp_hdr_info th;
	CHECK_EQ_INT(parse_frame(f, sizeof(f), &d, &ip, &th), 0);
	CHECK_EQ_INT(d, NET_DROP_NONE);
	CHECK_EQ_INT(ip.hdr_len, 20);
	CHECK_EQ_INT(ip.total_len, 44);
	CHECK_EQ_INT(ip.payload_len, 24);
	CHECK_EQ_INT(ip.ttl, 64);
	CHECK_EQ_INT(ip.proto, NET_IPPROTO_TCP);
	CHECK_EQ_INT(ip.id, 0x1234);
	CHECK_EQ_INT(ip.frag, NET_IPV4_DF);
	CHECK_EQ_INT(ip.src, IPV4_B);
	CHECK_EQ_INT(ip.dst, IPV4_A);
	CHECK_EQ_INT(ip.has_options, 0);
	CHECK_EQ_INT(th.sport, 40000);
	CHECK_EQ_INT(th.dport, 25);
	CHECK_EQ_INT(th.seq, 0x01020304);
	CHECK_EQ_INT(th.ack, 0);
	CHECK_EQ_INT(th.flags, TCP_SYN);
	CHECK_EQ_INT(th.hdr_len, 24);
	CHECK_EQ_INT(th.window, 0xfaf0);
	CHECK_EQ_INT(th.payload_len, 0);
	CHECK_EQ_INT(th.opts_len, 4);
	struct tcp_opts o;
	uint8_t opts[4];
	memcpy(opts, f + 14 + 20 + 20, 4);
	CHECK_EQ_INT(tcp_opts_parse(opts, th.opts_len, &o), 0);
	CHECK_EQ_INT(o.present, TCP_OPTF_MSS);
	CHECK_EQ_INT(o.mss, 1460);
}

/* Every proper prefix of a valid frame fails, cleanly. */
static void test_syn_truncated_every_byte(void)
{
	uint8_t f[sizeof(syn_frame)];
	make_syn(f);
	for (size_t n = 0; n < sizeof(f); n++) {
		enum net_drop d;
		struct net_ipv4_info ip;
		struct tcp_hdr_info th;
		int rc = parse_frame(f, n, &d, &ip, &th);
		enum net_drop want = n < 14 + 20 ? NET_DROP_SHORT
						 : NET_DROP_TOTLEN;
		CHECK_MSG(rc == -EBADMSG && d == want, "n %zu rc %d drop %s",
			  n, rc, net_drop_name(d));
	}
}

/* IPv4 header faults: a row per case, applied to the valid SYN. */
struct ip_row {
	const char *name;
	size_t off;        /* byte in the IPv4 header to set */
	uint8_t val;
	int fix;           /* recompute checksums afterwards */
	size_t extra;      /* zero bytes appended (Ethernet padding) */
	int rc;
	enum net_drop drop;
};

static const struct ip_row ip_rows[] = {
	{ "valid", 0, 0x45, 1, 0, 0, NET_DROP_NONE },
	{ "padding trimmed", 0, 0x45, 1, 16, 0, NET_DROP_NONE },
	{ "version 6", 0, 0x65, 1, 0, -EPROTONOSUPPORT, NET_DROP_VERSION },
	{ "version 0", 0, 0x05, 1, 0, -EPROTONOSUPPORT, NET_DROP_VERSION },
	{ "ihl 4", 0, 0x44, 0, 0, -EBADMSG, NET_DROP_HDRLEN },
	{ "ihl 0", 0, 0x40, 0, 0, -EBADMSG, NET_DROP_HDRLEN },
	{ "ihl 15 past frame", 0, 0x4f, 0, 0, -EBADMSG, NET_DROP_SHORT },
	{ "total < ihl", 3, 19, 1, 0, -EBADMSG, NET_DROP_HDRLEN },
	{ "total > frame", 3, 45, 1, 0, -EBADMSG, NET_DROP_TOTLEN },
	{ "total > frame padded", 3, 200, 1, 16, -EBADMSG, NET_DROP_TOTLEN },
	{ "bad checksum", 10, 0x00, 0, 0, -EBADMSG, NET_DROP_CSUM },
	{ "ttl changed, old csum", 8, 63, 0, 0, -EBADMSG, NET_DROP_CSUM },
	{ "more fragments", 6, 0x20, 1, 0, -EOPNOTSUPP, NET_DROP_FRAG },
	{ "offset", 7, 0x01, 1, 0, -EOPNOTSUPP, NET_DROP_FRAG },
	{ "ttl 0 reported only", 8, 0, 1, 0, 0, NET_DROP_NONE },
	{ "reserved flag ignored", 6, 0xc0, 1, 0, 0, NET_DROP_NONE },
};

static void test_ipv4_rows(void)
{
	for (size_t i = 0; i < sizeof(ip_rows) / sizeof(ip_rows[0]); i++) {
		const struct ip_row *r = &ip_rows[i];
		uint8_t f[sizeof(syn_frame) + 32] = { 0 };
		make_syn(f);
		f[14 + r->off] = r->val;
		if (r->off == 10)
			f[14 + 10] ^= 0xff;
		if (r->fix && (f[14] >> 4) == 4 && (f[14] & 15) >= 5 &&
		    rd16(f + 16) >= 20 && rd16(f + 16) <= sizeof(f) - 14) {
			fix_csums(f + 14);
		} else if (r->fix) {
			wr16(f + 24, 0);
			wr16(f + 24, naive_csum(f + 14, 20, 0));
		}
		struct net_ipv4_info ip;
		memset(&ip, 0x5a, sizeof(ip));
		uint8_t *c = malloc(sizeof(syn_frame) - 14 + r->extra);
		memcpy(c, f + 14, sizeof(syn_frame) - 14 + r->extra);
		int rc = net_ipv4_parse(c, sizeof(syn_frame) - 14 + r->extra,
					&ip);
		free(c);
		int bad = check_failures_;
		CHECK_EQ_INT(rc, r->rc);
		CHECK_EQ_INT(ip.drop, r->drop);
		if (rc == 0)
			CHECK_EQ_INT(ip.payload_len, 24);
		if (r->drop == NET_DROP_FRAG) {
			/* Fragments are fully parsed for the counters. */
			CHECK_EQ_INT(ip.src, IPV4_B);
			CHECK_EQ_INT(ip.payload_len, 24);
		}
		if (check_failures_ != bad)
			fprintf(stderr, "  in row \"%s\"\n", r->name);
	}
}

/* IPv4 options (IHL 7: NOP NOP, record route 7 bytes) are skipped. */
static void test_ipv4_options(void)
{
	uint8_t f[14 + 28 + 24];
	memcpy(f, syn_frame, 34);
	f[14] = 0x47;
	wr16(f + 16, 28 + 24);
	static const uint8_t opt[8] = { 1, 7, 7, 4, 0, 0, 0, 0 };
	memcpy(f + 34, opt, 8);
	memcpy(f + 42, syn_frame + 34, 24);
	fix_csums(f + 14);
	enum net_drop d;
	struct net_ipv4_info ip;
	struct tcp_hdr_info th;
	CHECK_EQ_INT(parse_frame(f, sizeof(f), &d, &ip, &th), 0);
	CHECK_EQ_INT(ip.has_options, 1);
	CHECK_EQ_INT(ip.hdr_len, 28);
	CHECK_EQ_INT(ip.payload_len, 24);
	CHECK_EQ_INT(th.dport, 25);
	CHECK_EQ_INT(th.seq, 0x01020304);
	/* Options make the header longer than the frame: SHORT, no read. */
	CHECK_EQ_INT(parse_frame(f, 14 + 27, &d, &ip, &th), -EBADMSG);
	CHECK_EQ_INT(d, NET_DROP_SHORT);
}

/* TCP header faults. */
static void test_tcp_rows(void)
{
	struct {
		const char *name;
		size_t off;
		uint8_t val;
		int fix;
		enum net_drop drop;
	} rows[] = {
		{ "doff 4", 12, 0x40, 1, NET_DROP_HDRLEN },
		{ "doff 0", 12, 0x00, 1, NET_DROP_HDRLEN },
		{ "doff 7 > segment", 12, 0x70, 1, NET_DROP_HDRLEN },
		{ "doff 15", 12, 0xf0, 1, NET_DROP_HDRLEN },
		{ "bad checksum", 17, 0x00, 0, NET_DROP_CSUM },
		{ "flag flipped", 13, TCP_SYN | TCP_FIN, 0, NET_DROP_CSUM },
		{ "port flipped", 1, 0x41, 0, NET_DROP_CSUM },
		{ "doff 5 valid", 12, 0x50, 1, NET_DROP_NONE },
		{ "reserved bits", 12, 0x6f, 1, NET_DROP_NONE },
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		uint8_t f[sizeof(syn_frame)];
		make_syn(f);
		uint8_t *t = f + 34;
		if (rows[i].off == 17)
			t[17] ^= 0x5a;
		else
			t[rows[i].off] = rows[i].val;
		if (rows[i].fix)
			fix_csums(f + 14);
		enum net_drop d;
		struct net_ipv4_info ip;
		struct tcp_hdr_info th;
		int rc = parse_frame(f, sizeof(f), &d, &ip, &th);
		int bad = check_failures_;
		CHECK_EQ_INT(rc, rows[i].drop == NET_DROP_NONE ? 0 : -EBADMSG);
		CHECK_EQ_INT(d, rows[i].drop);
		if (rc == 0 && rows[i].val == 0x50) {
			CHECK_EQ_INT(th.payload_len, 4);
			CHECK_EQ_INT(th.opts_len, 0);
		}
		if (rc == 0 && rows[i].val == 0x6f)
			CHECK_EQ_INT(th.reserved, 0xf);
		if (check_failures_ != bad)
			fprintf(stderr, "  in row \"%s\"\n", rows[i].name);
	}
	/* Short segment. */
	struct tcp_hdr_info th;
	uint8_t s[19] = { 0 };
	CHECK_EQ_INT(tcp_hdr_parse(s, sizeof(s), 0, 0, &th), -EBADMSG);
	CHECK_EQ_INT(th.drop, NET_DROP_SHORT);
	/* Longer than any IPv4 payload. */
	uint8_t *big = calloc(1, 65516);
	big[12] = 0x50;
	CHECK_EQ_INT(tcp_hdr_parse_nocsum(big, 65516, &th), -EBADMSG);
	CHECK_EQ_INT(th.drop, NET_DROP_TOTLEN);
	CHECK_EQ_INT(tcp_hdr_parse_nocsum(big, 65515, &th), 0);
	free(big);
	/* nocsum skips exactly the checksum. */
	uint8_t f[sizeof(syn_frame)];
	make_syn(f);
	f[34 + 16] ^= 1;
	CHECK_EQ_INT(tcp_hdr_parse_nocsum(f + 34, 24, &th), 0);
	CHECK_EQ_INT(tcp_hdr_parse(f + 34, 24, IPV4_B, IPV4_A, &th), -EBADMSG);
	f[24] ^= 1;
	struct net_ipv4_info ip;
	CHECK_EQ_INT(net_ipv4_parse_nocsum(f + 14, 44, &ip), 0);
	CHECK_EQ_INT(net_ipv4_parse(f + 14, 44, &ip), -EBADMSG);
}

/* The builders reproduce the hand-built SYN byte for byte. */
static void test_build_syn_exact(void)
{
	uint8_t want[sizeof(syn_frame)];
	make_syn(want);
	uint8_t b[sizeof(syn_frame)];
	memset(b, 0xee, sizeof(b));
	struct net_eth_info e = { .dst = { MAC_A }, .src = { MAC_B },
				  .ethertype = NET_ETH_P_IPV4 };
	CHECK_EQ_INT(net_eth_build(b, sizeof(b), &e), 14);
	struct net_ipv4_info ip = { .id = 0x1234, .frag = NET_IPV4_DF,
				    .ttl = 64, .proto = NET_IPPROTO_TCP,
				    .src = IPV4_B, .dst = IPV4_A };
	CHECK_EQ_INT(net_ipv4_build(b + 14, sizeof(b) - 14, &ip, 24), 20);
	struct tcp_opts o = { .present = TCP_OPTF_MSS, .mss = 1460 };
	uint8_t ob[40];
	int ol = tcp_opts_build(&o, ob, sizeof(ob), NULL);
	CHECK_EQ_INT(ol, 4);
	struct tcp_hdr_info t = { .sport = 40000, .dport = 25,
				  .seq = 0x01020304, .flags = TCP_SYN,
				  .window = 0xfaf0, .opts = ob,
				  .opts_len = (uint8_t)ol };
	CHECK_EQ_INT(tcp_hdr_build(b + 34, sizeof(b) - 34, &t, IPV4_B,
				   IPV4_A, NULL), 24);
	CHECK_EQ_MEM(b, sizeof(b), want, sizeof(want));
	/* Room checks. */
	CHECK_EQ_INT(net_eth_build(b, 13, &e), -ENOSPC);
	CHECK_EQ_INT(net_ipv4_build(b, 19, &ip, 0), -ENOSPC);
	CHECK_EQ_INT(net_ipv4_build(b, 20, &ip, 65516), -EMSGSIZE);
	CHECK_EQ_INT(tcp_hdr_build(b, 23, &t, 0, 0, NULL), -ENOSPC);
	t.opts_len = 3;
	CHECK_EQ_INT(tcp_hdr_build(b, 60, &t, 0, 0, NULL), -EINVAL);
	t.opts_len = 44;
	CHECK_EQ_INT(tcp_hdr_build(b, 60, &t, 0, 0, NULL), -EINVAL);
	t.opts_len = 0;
	t.payload_len = 10;
	CHECK_EQ_INT(tcp_hdr_build(b, 60, &t, 0, 0, NULL), -EINVAL);
}

/* Every option combination, with payload, through build and parse. */
static void test_tcp_build_parse_options(void)
{
	uint8_t payload[100];
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)rnd();
	for (uint32_t mask = 0; mask < 32; mask++) {
		struct tcp_opts o = { .present = mask, .mss = 1400,
				      .wscale = 9, .ts_val = rnd(),
				      .ts_ecr = rnd(), .sack_n = 2,
				      .sack = { { 1, 2 }, { 3, 4 } } };
		uint8_t ob[40];
		int ol = tcp_opts_build(&o, ob, sizeof(ob), NULL);
		CHECK(ol >= 0);
		if (ol < 0)
			continue;
		size_t plen = mask * 3 % 101;
		uint8_t seg[60 + 100];
		struct tcp_hdr_info t = {
			.sport = (uint16_t)rnd(), .dport = 25, .seq = rnd(),
			.ack = rnd(), .flags = (uint8_t)rnd(),
			.window = (uint16_t)rnd(), .urg = (uint16_t)rnd(),
			.opts = ob, .opts_len = (uint8_t)ol,
			.payload_len = (uint16_t)plen,
		};
		/* Payload already in place after the header. */
		memcpy(seg + 20 + ol, payload, plen);
		int hl = tcp_hdr_build(seg, sizeof(seg), &t, IPV4_A, IPV4_B,
				       seg + 20 + ol);
		CHECK_EQ_INT(hl, 20 + ol);
		size_t n = (size_t)(20 + ol) + plen;
		/* Independent checksum check. */
		uint32_t ph = 0xc612 + 0x0001 + 0xc612 + 0x0002 + 6 +
			      (uint32_t)n;
		CHECK_EQ_INT(naive_csum(seg, n, ph), 0);
		struct tcp_hdr_info p;
		CHECK_EQ_INT(tcp_hdr_parse(seg, n, IPV4_A, IPV4_B, &p), 0);
		CHECK_EQ_INT(p.sport, t.sport);
		CHECK_EQ_INT(p.seq, t.seq);
		CHECK_EQ_INT(p.ack, t.ack);
		CHECK_EQ_INT(p.flags, t.flags);
		CHECK_EQ_INT(p.window, t.window);
		CHECK_EQ_INT(p.urg, t.urg);
		CHECK_EQ_INT(p.payload_len, plen);
		CHECK_EQ_INT(p.opts_len, ol);
		struct tcp_opts q;
		CHECK_EQ_INT(tcp_opts_parse(p.opts, p.opts_len, &q), 0);
		CHECK_EQ_INT(q.present, mask);
		if (mask & TCP_OPTF_TS)
			CHECK_EQ_INT(q.ts_val, o.ts_val);
		if (mask & TCP_OPTF_SACK)
			CHECK_EQ_INT(q.sack[1].right, 4);
		/* Wrong pseudo-header address: checksum fails. */
		CHECK_EQ_INT(tcp_hdr_parse(seg, n, IPV4_A, IPV4_A, &p),
			     -EBADMSG);
	}
}

/* ---- Ethernet / VLAN ---- */

static void test_eth_vlan(void)
{
	static const uint8_t f[] = { MAC_A, MAC_B, 0x81, 0x00, 0xa0, 0x64,
				     0x08, 0x06 };
	struct net_eth_info e;
	CHECK_EQ_INT(net_eth_parse(f, sizeof(f), &e), 0);
	CHECK_EQ_INT(e.has_vlan, 1);
	CHECK_EQ_INT(e.vlan_tpid, NET_ETH_P_VLAN);
	CHECK_EQ_INT(e.vlan_tci, 0xa064);
	CHECK_EQ_INT(e.vlan_tci & NET_VLAN_VID_MASK, 100);
	CHECK_EQ_INT(e.ethertype, NET_ETH_P_ARP);
	CHECK_EQ_INT(e.hdr_len, 18);
	CHECK_EQ_INT(e.src[5], 2);
	CHECK_EQ_INT(e.dst[5], 1);
	for (size_t n = 0; n < sizeof(f); n++) {
		uint8_t *c = malloc(n ? n : 1);
		memcpy(c, f, n);
		int rc = net_eth_parse(c, n, &e);
		free(c);
		CHECK_MSG(rc == -EBADMSG && e.drop == NET_DROP_SHORT,
			  "n %zu", n);
	}
	uint8_t b[18];
	struct net_eth_info be = { .dst = { MAC_A }, .src = { MAC_B },
				   .has_vlan = 1, .vlan_tci = 0xa064,
				   .ethertype = NET_ETH_P_ARP };
	CHECK_EQ_INT(net_eth_build(b, 17, &be), -ENOSPC);
	CHECK_EQ_INT(net_eth_build(b, sizeof(b), &be), 18);
	CHECK_EQ_MEM(b, sizeof(b), f, sizeof(f));
	/* 802.1ad outer tag with an inner 802.1Q tag: reported, not walked. */
	static const uint8_t qq[] = { MAC_A, MAC_B, 0x88, 0xa8, 0x00, 0x05,
				      0x81, 0x00, 0x00, 0x06, 0x08, 0x00 };
	CHECK_EQ_INT(net_eth_parse(qq, sizeof(qq), &e), 0);
	CHECK_EQ_INT(e.vlan_tpid, NET_ETH_P_QINQ);
	CHECK_EQ_INT(e.ethertype, NET_ETH_P_VLAN);
	/* Untagged. */
	static const uint8_t un[] = { MAC_A, MAC_B, 0x08, 0x00 };
	CHECK_EQ_INT(net_eth_parse(un, sizeof(un), &e), 0);
	CHECK_EQ_INT(e.has_vlan, 0);
	CHECK_EQ_INT(e.hdr_len, 14);
	CHECK_EQ_INT(e.ethertype, NET_ETH_P_IPV4);
}

/* ---- ARP ---- */

static const uint8_t arp_req[28] = {
	0, 1, 0x08, 0x00, 6, 4, 0, 1, MAC_B, IP_B,
	0, 0, 0, 0, 0, 0, IP_A,
};

static void test_arp(void)
{
	struct net_arp_info a;
	CHECK_EQ_INT(net_arp_parse(arp_req, sizeof(arp_req), &a), 0);
	CHECK_EQ_INT(a.op, NET_ARP_OP_REQUEST);
	CHECK_EQ_INT(a.spa, IPV4_B);
	CHECK_EQ_INT(a.tpa, IPV4_A);
	CHECK_EQ_INT(a.sha[5], 2);
	uint8_t b[28];
	CHECK_EQ_INT(net_arp_build(b, sizeof(b), &a), 28);
	CHECK_EQ_MEM(b, sizeof(b), arp_req, sizeof(arp_req));
	CHECK_EQ_INT(net_arp_build(b, 27, &a), -ENOSPC);
	a.op = 3;
	CHECK_EQ_INT(net_arp_build(b, sizeof(b), &a), -EINVAL);

	struct { size_t off; uint8_t val; int rc; enum net_drop drop; } rows[] = {
		{ 1, 6, -EPROTONOSUPPORT, NET_DROP_ARP_FORMAT },   /* htype */
		{ 2, 0x86, -EPROTONOSUPPORT, NET_DROP_ARP_FORMAT }, /* ptype */
		{ 4, 8, -EPROTONOSUPPORT, NET_DROP_ARP_FORMAT },   /* hlen */
		{ 5, 16, -EPROTONOSUPPORT, NET_DROP_ARP_FORMAT },  /* plen */
		{ 7, 3, -EPROTONOSUPPORT, NET_DROP_ARP_OP },       /* RARP */
		{ 7, 0, -EPROTONOSUPPORT, NET_DROP_ARP_OP },
		{ 7, 2, 0, NET_DROP_NONE },                        /* reply */
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		uint8_t p[46] = { 0 };  /* padded to the Ethernet minimum */
		memcpy(p, arp_req, sizeof(arp_req));
		p[rows[i].off] = rows[i].val;
		CHECK_EQ_INT(net_arp_parse(p, sizeof(p), &a), rows[i].rc);
		CHECK_MSG(a.drop == rows[i].drop, "row %zu", i);
	}
	for (size_t n = 0; n < 28; n++) {
		uint8_t *c = malloc(n ? n : 1);
		memcpy(c, arp_req, n);
		CHECK_EQ_INT(net_arp_parse(c, n, &a), -EBADMSG);
		CHECK_EQ_INT(a.drop, NET_DROP_SHORT);
		free(c);
	}
}

/* ---- ICMP ---- */

static void test_icmp_echo(void)
{
	uint8_t req[8 + 11] = { 8, 0, 0, 0, 0x12, 0x34, 0x00, 0x07,
				'h', 'e', 'l', 'l', 'o', ' ', 'w', 'o', 'r',
				'l', 'd' };
	wr16(req + 2, naive_csum(req, sizeof(req), 0));
	struct net_icmp_info ic;
	CHECK_EQ_INT(net_icmp_parse(req, sizeof(req), &ic), 0);
	CHECK_EQ_INT(ic.type, NET_ICMP_ECHO_REQUEST);
	CHECK_EQ_INT(ic.id, 0x1234);
	CHECK_EQ_INT(ic.seq, 7);
	CHECK_EQ_INT(ic.data_len, 11);
	CHECK_EQ_INT(ic.has_inner, 0);

	uint8_t rep[sizeof(req)];
	CHECK_EQ_INT(net_icmp_echo_reply_build(rep, sizeof(rep), req,
					       sizeof(req)), (int)sizeof(req));
	CHECK_EQ_INT(rep[0], NET_ICMP_ECHO_REPLY);
	CHECK_EQ_INT(naive_csum(rep, sizeof(rep), 0), 0);
	CHECK_EQ_MEM(rep + 4, sizeof(rep) - 4, req + 4, sizeof(req) - 4);
	CHECK_EQ_INT(net_icmp_parse(rep, sizeof(rep), &ic), 0);
	CHECK_EQ_INT(ic.type, NET_ICMP_ECHO_REPLY);
	CHECK_EQ_INT(ic.id, 0x1234);
	/* In place; a reply is not a request; room; short. */
	uint8_t inpl[sizeof(req)];
	memcpy(inpl, req, sizeof(req));
	CHECK_EQ_INT(net_icmp_echo_reply_build(inpl, sizeof(inpl), inpl,
					       sizeof(inpl)), (int)sizeof(req));
	CHECK_EQ_MEM(inpl, sizeof(inpl), rep, sizeof(rep));
	CHECK_EQ_INT(net_icmp_echo_reply_build(rep, sizeof(rep), rep,
					       sizeof(rep)), -EINVAL);
	CHECK_EQ_INT(net_icmp_echo_reply_build(rep, 10, req, sizeof(req)),
		     -ENOSPC);
	CHECK_EQ_INT(net_icmp_echo_reply_build(rep, 10, req, 7), -EINVAL);
	/* Odd length and a bad checksum. */
	req[5] ^= 1;
	CHECK_EQ_INT(net_icmp_parse(req, sizeof(req), &ic), -EBADMSG);
	CHECK_EQ_INT(ic.drop, NET_DROP_CSUM);
	CHECK_EQ_INT(net_icmp_parse(req, 7, &ic), -EBADMSG);
	CHECK_EQ_INT(ic.drop, NET_DROP_SHORT);
}

/* Fragmentation needed, quoting our TCP segment A:25 -> B:40000. */
static const uint8_t frag_needed[8 + 20 + 8] = {
	3, 4, 0, 0, 0, 0, 0x05, 0x78,
	0x45, 0, 0x05, 0xdc, 0, 0, 0x40, 0, 63, 6, 0, 0, IP_A, IP_B,
	0x00, 25, 0x9c, 0x40, 0xde, 0xad, 0xbe, 0xef,
};

static int parse_icmp_fixed(uint8_t *m, size_t n, struct net_icmp_info *ic)
{
	wr16(m + 2, 0);
	wr16(m + 2, naive_csum(m, n, 0));
	uint8_t *c = malloc(n);
	memcpy(c, m, n);
	int rc = net_icmp_parse(c, n, ic);
	free(c);
	return rc;
}

static void test_icmp_frag_needed(void)
{
	uint8_t m[sizeof(frag_needed) + 8];
	memcpy(m, frag_needed, sizeof(frag_needed));
	struct net_icmp_info ic;
	CHECK_EQ_INT(parse_icmp_fixed(m, sizeof(frag_needed), &ic), 0);
	CHECK_EQ_INT(ic.type, NET_ICMP_DEST_UNREACH);
	CHECK_EQ_INT(ic.code, NET_ICMP_CODE_FRAG_NEEDED);
	CHECK_EQ_INT(ic.mtu, 1400);
	CHECK_EQ_INT(ic.has_inner, 1);
	CHECK_EQ_INT(ic.inner.proto, NET_IPPROTO_TCP);
	CHECK_EQ_INT(ic.inner.src, IPV4_A);
	CHECK_EQ_INT(ic.inner.dst, IPV4_B);
	CHECK_EQ_INT(ic.inner.total_len, 1500);
	CHECK_EQ_INT(ic.inner_sport, 25);
	CHECK_EQ_INT(ic.inner_dport, 40000);
	CHECK_EQ_INT(ic.inner_seq, 0xdeadbeef);

	/* Every truncation of the quote: ICMP_EMBED (or SHORT < 8). */
	for (size_t n = 0; n < sizeof(frag_needed); n++) {
		memcpy(m, frag_needed, sizeof(frag_needed));
		int rc = n >= 8 ? parse_icmp_fixed(m, n, &ic)
				: net_icmp_parse(m, n, &ic);
		CHECK_MSG(rc == -EBADMSG && ic.drop == (n < 8 ? NET_DROP_SHORT
						       : NET_DROP_ICMP_EMBED),
			  "n %zu rc %d %s", n, rc, net_drop_name(ic.drop));
		CHECK_EQ_INT(ic.has_inner, 0);
	}
	struct { size_t off; uint8_t val; int rc; } rows[] = {
		{ 8, 0x65, -EBADMSG },  /* quoted IPv6 */
		{ 8, 0x44, -EBADMSG },  /* quoted IHL 4 */
		{ 8, 0x46, -EBADMSG },  /* IHL 6: 8 L4 bytes not all there */
		{ 15, 0x01, -EBADMSG }, /* quoted non-first fragment */
		{ 14, 0x20, 0 },        /* first fragment (MF) carries ports */
		{ 1, 3, 0 },            /* port unreachable: no MTU */
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		memcpy(m, frag_needed, sizeof(frag_needed));
		m[rows[i].off] = rows[i].val;
		int rc = parse_icmp_fixed(m, sizeof(frag_needed), &ic);
		CHECK_MSG(rc == rows[i].rc, "row %zu rc %d", i, rc);
		if (rows[i].rc != 0)
			CHECK_EQ_INT(ic.drop, NET_DROP_ICMP_EMBED);
		if (rows[i].off == 1)
			CHECK_EQ_INT(ic.mtu, 0);
	}
	/* IHL 6 with the 4 option bytes and 8 L4 bytes present. */
	uint8_t m2[8 + 24 + 8];
	memcpy(m2, frag_needed, 28);
	m2[8] = 0x46;
	memset(m2 + 28, 1, 4);
	memcpy(m2 + 32, frag_needed + 28, 8);
	CHECK_EQ_INT(parse_icmp_fixed(m2, sizeof(m2), &ic), 0);
	CHECK_EQ_INT(ic.inner.has_options, 1);
	CHECK_EQ_INT(ic.inner_seq, 0xdeadbeef);

	/* The error builder quotes header + 8 bytes and round-trips. */
	uint8_t orig[20 + 100];
	memcpy(orig, frag_needed + 8, 28);
	memset(orig + 28, 0x77, sizeof(orig) - 28);
	uint8_t b[64];
	int n = net_icmp_error_build(b, sizeof(b), NET_ICMP_DEST_UNREACH,
				     NET_ICMP_CODE_FRAG_NEEDED, 1400, orig,
				     sizeof(orig));
	CHECK_EQ_INT(n, 36);
	memcpy(m, frag_needed, sizeof(frag_needed));
	wr16(m + 2, naive_csum(m, sizeof(frag_needed), 0));
	CHECK_EQ_MEM(b, (size_t)(n < 0 ? 0 : n), m, sizeof(frag_needed));
	CHECK_EQ_INT(net_icmp_error_build(b, 35, 3, 4, 1400, orig,
					  sizeof(orig)), -ENOSPC);
	CHECK_EQ_INT(net_icmp_error_build(b, 64, 3, 4, 1400, orig, 19),
		     -EINVAL);
	orig[0] = 0x46;
	CHECK_EQ_INT(net_icmp_error_build(b, 64, 3, 4, 1400, orig, 23),
		     -EINVAL);
}

static void test_drop_names(void)
{
	for (int i = 0; i < NET_DROP_MAX; i++) {
		const char *s = net_drop_name((enum net_drop)i);
		CHECK(s != NULL && strcmp(s, "?") != 0);
		for (int j = 0; j < i; j++)
			CHECK(strcmp(s, net_drop_name((enum net_drop)j)) != 0);
	}
	CHECK_EQ_STR(net_drop_name(NET_DROP_MAX), "?");
	CHECK_EQ_STR(net_drop_name(NET_DROP_CSUM), "csum");
}

int main(void)
{
	RUN(test_syn_valid);
	RUN(test_syn_truncated_every_byte);
	RUN(test_ipv4_rows);
	RUN(test_ipv4_options);
	RUN(test_tcp_rows);
	RUN(test_build_syn_exact);
	RUN(test_tcp_build_parse_options);
	RUN(test_eth_vlan);
	RUN(test_arp);
	RUN(test_icmp_echo);
	RUN(test_icmp_frag_needed);
	RUN(test_drop_names);
	return CHECK_DONE();
}
