/*
 * tests/fuzz/fuzz_wire.c - tcpstack/wire.c: an Ethernet frame through
 * eth -> arp | ipv4 -> icmp | tcp (+ options). Whatever parses is rebuilt
 * with the builders and re-parsed: that must succeed and give the same
 * fields.
 *
 * Input: one mode byte, then the frame. Mode bit 0 set: the harness
 * recomputes the IPv4 and ICMP/TCP checksums first, so the fuzzer gets
 * past them; clear: the bytes go in as they are.
 */
#include "tcpstack/csum.h"
#include "tcpstack/tcpopt.h"
#include "tcpstack/wire.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(c)               \
	do {                     \
		if (!(c))        \
			abort(); \
	} while (0)

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)rd16(p) << 16 | rd16(p + 2);
}

/* Best effort: make the checksums right where the lengths allow. */
static void fix_csums(uint8_t *f, size_t n)
{
	if (n < 14)
		return;
	size_t off = 14;
	uint16_t type = rd16(f + 12);
	if (type == NET_ETH_P_VLAN || type == NET_ETH_P_QINQ) {
		if (n < 18)
			return;
		type = rd16(f + 16);
		off = 18;
	}
	if (type != NET_ETH_P_IPV4 || n - off < 20)
		return;
	uint8_t *ip = f + off;
	size_t hl = (size_t)(ip[0] & 15) * 4, tot = rd16(ip + 2);
	if (hl < 20 || hl > n - off)
		return;
	wr16(ip + 10, 0);
	wr16(ip + 10, net_csum_fold(net_csum_partial(ip, hl, 0)));
	if (tot < hl || tot > n - off)
		return;
	uint8_t *l4 = ip + hl;
	size_t l4len = tot - hl;
	if (ip[9] == NET_IPPROTO_TCP && l4len >= 20) {
		wr16(l4 + 16, 0);
		uint32_t s = net_csum_pseudo(rd32(ip + 12), rd32(ip + 16),
					     NET_IPPROTO_TCP, (uint16_t)l4len);
		wr16(l4 + 16, net_csum_fold(net_csum_partial(l4, l4len, s)));
	} else if (ip[9] == NET_IPPROTO_ICMP && l4len >= 8) {
		wr16(l4 + 2, 0);
		wr16(l4 + 2, net_csum_fold(net_csum_partial(l4, l4len, 0)));
	}
}

static void check_arp(const uint8_t *p, size_t n)
{
	struct net_arp_info a, b;
	if (net_arp_parse(p, n, &a) != 0)
		return;
	uint8_t buf[NET_ARP_LEN];
	REQUIRE(net_arp_build(buf, sizeof(buf), &a) == NET_ARP_LEN);
	REQUIRE(memcmp(buf, p, NET_ARP_LEN) == 0);
	REQUIRE(net_arp_parse(buf, sizeof(buf), &b) == 0);
	REQUIRE(memcmp(&a, &b, sizeof(a)) == 0);
}

static void check_icmp(const uint8_t *p, size_t n)
{
	struct net_icmp_info ic, r;
	if (net_icmp_parse(p, n, &ic) != 0)
		return;
	REQUIRE(ic.data_len == n - 8);
	uint8_t *buf = malloc(n);
	REQUIRE(buf != NULL);
	if (ic.type == NET_ICMP_ECHO_REQUEST) {
		REQUIRE(net_icmp_echo_reply_build(buf, n, p, n) == (int)n);
		REQUIRE(net_icmp_parse(buf, n, &r) == 0);
		REQUIRE(r.type == NET_ICMP_ECHO_REPLY && r.code == 0);
		REQUIRE(r.id == ic.id && r.seq == ic.seq);
		REQUIRE(r.data_len == ic.data_len);
		REQUIRE(memcmp(buf + 4, p + 4, n - 4) == 0);
	}
	if (ic.has_inner) {
		size_t q = (size_t)ic.inner.hdr_len + 8;
		REQUIRE(q <= n - 8);
		int k = net_icmp_error_build(buf, n, ic.type, ic.code, ic.mtu,
					     p + 8, n - 8);
		REQUIRE(k == (int)(8 + q));
		REQUIRE(net_icmp_parse(buf, (size_t)k, &r) == 0);
		REQUIRE(r.has_inner && r.type == ic.type && r.code == ic.code);
		REQUIRE(r.mtu == ic.mtu);
		REQUIRE(memcmp(&r.inner, &ic.inner, sizeof(r.inner)) == 0);
		REQUIRE(memcmp(r.inner_l4, ic.inner_l4, 8) == 0);
		REQUIRE(r.inner_seq == ic.inner_seq);
	}
	free(buf);
}

static void check_tcp(const uint8_t *p, size_t n, uint32_t src, uint32_t dst)
{
	struct tcp_hdr_info t, r;
	if (tcp_hdr_parse(p, n, src, dst, &t) != 0)
		return;
	struct tcp_opts o;
	(void)tcp_opts_parse(t.opts, t.opts_len, &o);
	uint8_t *buf = malloc(n);
	REQUIRE(buf != NULL);
	int hl = tcp_hdr_build(buf, n, &t, src, dst, p + t.hdr_len);
	REQUIRE(hl == t.hdr_len);
	memcpy(buf + hl, p + hl, t.payload_len);
	/* Every bit is rebuilt, so the segment is the same byte for byte
	 * (but a checksum of 0x0000 and 0xffff mean the same). */
	REQUIRE(memcmp(buf, p, 16) == 0 && memcmp(buf + 18, p + 18, n - 18) == 0);
	REQUIRE(tcp_hdr_parse(buf, n, src, dst, &r) == 0);
	REQUIRE(r.sport == t.sport && r.dport == t.dport);
	REQUIRE(r.seq == t.seq && r.ack == t.ack);
	REQUIRE(r.hdr_len == t.hdr_len && r.flags == t.flags);
	REQUIRE(r.reserved == t.reserved && r.window == t.window);
	REQUIRE(r.urg == t.urg && r.opts_len == t.opts_len);
	REQUIRE(r.payload_len == t.payload_len);
	free(buf);
}

static void check_ipv4(const uint8_t *p, size_t n)
{
	struct net_ipv4_info ip, r;
	if (net_ipv4_parse(p, n, &ip) != 0)
		return;
	REQUIRE(ip.hdr_len >= 20 && ip.total_len <= n);
	const uint8_t *pl = p + ip.hdr_len;
	size_t m = 20 + (size_t)ip.payload_len;
	uint8_t *buf = malloc(m);
	REQUIRE(buf != NULL);
	REQUIRE(net_ipv4_build(buf, m, &ip, ip.payload_len) == 20);
	memcpy(buf + 20, pl, ip.payload_len);
	REQUIRE(net_ipv4_parse(buf, m, &r) == 0);
	REQUIRE(r.tos == ip.tos && r.ttl == ip.ttl && r.proto == ip.proto);
	REQUIRE(r.id == ip.id && r.frag == ip.frag);
	REQUIRE(r.src == ip.src && r.dst == ip.dst);
	REQUIRE(r.payload_len == ip.payload_len && !r.has_options);
	free(buf);

	if (ip.proto == NET_IPPROTO_ICMP)
		check_icmp(pl, ip.payload_len);
	else if (ip.proto == NET_IPPROTO_TCP)
		check_tcp(pl, ip.payload_len, ip.src, ip.dst);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t n = size - 1;
	uint8_t *f = malloc(n ? n : 1);
	REQUIRE(f != NULL);
	memcpy(f, data + 1, n);
	if (data[0] & 1)
		fix_csums(f, n);

	struct net_eth_info e, e2;
	if (net_eth_parse(f, n, &e) == 0) {
		uint8_t hb[18];
		int k = net_eth_build(hb, sizeof(hb), &e);
		REQUIRE(k == e.hdr_len && memcmp(hb, f, (size_t)k) == 0);
		REQUIRE(net_eth_parse(hb, (size_t)k, &e2) == 0);
		REQUIRE(memcmp(&e, &e2, sizeof(e)) == 0);
		if (e.ethertype == NET_ETH_P_ARP)
			check_arp(f + e.hdr_len, n - e.hdr_len);
		else if (e.ethertype == NET_ETH_P_IPV4)
			check_ipv4(f + e.hdr_len, n - e.hdr_len);
	}
	free(f);
	return 0;
}
