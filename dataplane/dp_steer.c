/*
 * dataplane/dp_steer.c - software flow steering (dp_steer.h).
 */
#include "dataplane/dp_steer.h"

#include <string.h>

#include "tcpstack/wire.h"

static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

unsigned dp_steer_owner(const struct dp_steer *s, uint32_t a_ip,
			uint16_t a_port, uint32_t b_ip, uint16_t b_port)
{
	if (s->n <= 1)
		return 0;
	uint64_t a = (uint64_t)a_ip << 16 | a_port;
	uint64_t b = (uint64_t)b_ip << 16 | b_port;
	uint64_t v[2] = {a < b ? a : b, a < b ? b : a};
	uint64_t h = tcp_isn_siphash24(&s->key, v, sizeof v);
	return (unsigned)(((h >> 32) * s->n) >> 32);
}

/* The TCP ports of an IPv4 header at ip[0..len) carrying TCP: 0 when the
 * header and 4 bytes of TCP are present and it is not a fragment. */
static int ipv4_tcp(const uint8_t *ip, size_t len, uint32_t *src,
		    uint32_t *dst, uint16_t *sport, uint16_t *dport)
{
	if (len < NET_IPV4_HLEN_MIN || (ip[0] >> 4) != 4)
		return -1;
	size_t hl = (size_t)(ip[0] & 0x0f) * 4;
	if (hl < NET_IPV4_HLEN_MIN || len < hl + 4 ||
	    ip[9] != NET_IPPROTO_TCP ||
	    (rd16(ip + 6) & (NET_IPV4_MF | NET_IPV4_OFFMASK)) != 0)
		return -1;
	*src = rd32(ip + 12);
	*dst = rd32(ip + 16);
	*sport = rd16(ip + hl);
	*dport = rd16(ip + hl + 2);
	return 0;
}

enum dp_steer_kind dp_steer_classify(const struct dp_steer *s,
				     const uint8_t *f, size_t len,
				     unsigned *owner)
{
	uint32_t a, b;
	uint16_t ap, bp;

	if (len < NET_ETH_HLEN)
		return DP_STEER_LOCAL;
	uint16_t type = rd16(f + 12);
	if (type == NET_ETH_P_ARP)
		return s->n > 1 ? DP_STEER_ALL : DP_STEER_LOCAL;
	if (type != NET_ETH_P_IPV4 || s->n <= 1)
		return DP_STEER_LOCAL;
	const uint8_t *ip = f + NET_ETH_HLEN;
	len -= NET_ETH_HLEN;
	if (ipv4_tcp(ip, len, &a, &b, &ap, &bp) == 0) {
		*owner = dp_steer_owner(s, a, ap, b, bp);
		return DP_STEER_FLOW;
	}
	/* ICMP error quoting one of our TCP segments: its flow's owner. A
	 * fragment is LOCAL (a later one's bytes are no ICMP header). */
	if (len < NET_IPV4_HLEN_MIN || (ip[0] >> 4) != 4 ||
	    ip[9] != NET_IPPROTO_ICMP ||
	    (rd16(ip + 6) & (NET_IPV4_MF | NET_IPV4_OFFMASK)) != 0)
		return DP_STEER_LOCAL;
	size_t hl = (size_t)(ip[0] & 0x0f) * 4;
	if (hl < NET_IPV4_HLEN_MIN || len < hl + NET_ICMP_HLEN)
		return DP_STEER_LOCAL;
	uint8_t t = ip[hl];
	if (t != NET_ICMP_DEST_UNREACH && t != NET_ICMP_TIME_EXCEEDED &&
	    t != NET_ICMP_PARAM_PROBLEM)
		return DP_STEER_LOCAL;
	const uint8_t *in = ip + hl + NET_ICMP_HLEN;
	size_t inlen = len - hl - NET_ICMP_HLEN;
	/* The quoted datagram may be a fragment's first part: ports only. */
	if (inlen < NET_IPV4_HLEN_MIN || (in[0] >> 4) != 4 ||
	    in[9] != NET_IPPROTO_TCP)
		return DP_STEER_LOCAL;
	size_t ihl = (size_t)(in[0] & 0x0f) * 4;
	if (ihl < NET_IPV4_HLEN_MIN || inlen < ihl + 4)
		return DP_STEER_LOCAL;
	*owner = dp_steer_owner(s, rd32(in + 12), rd16(in + ihl),
				rd32(in + 16), rd16(in + ihl + 2));
	return DP_STEER_FLOW;
}
