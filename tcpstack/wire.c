/*
 * tcpstack/wire.c - Ethernet, ARP, IPv4, ICMP and TCP header parse/build.
 *
 * Multi-byte fields are read and written a byte at a time (the compiler
 * merges them into one load and byte swap): no unaligned pointer casts.
 */
#include "tcpstack/wire.h"

#include "tcpstack/csum.h"

#include <errno.h>
#include <string.h>

#include "tcpstack/bytes.h"


static const char *const drop_names[NET_DROP_MAX] = {
	[NET_DROP_NONE] = "none",
	[NET_DROP_SHORT] = "short",
	[NET_DROP_ARP_FORMAT] = "arp_format",
	[NET_DROP_ARP_OP] = "arp_op",
	[NET_DROP_VERSION] = "version",
	[NET_DROP_HDRLEN] = "hdrlen",
	[NET_DROP_TOTLEN] = "totlen",
	[NET_DROP_CSUM] = "csum",
	[NET_DROP_FRAG] = "frag",
	[NET_DROP_ICMP_EMBED] = "icmp_embed",
	[NET_DROP_ETHERTYPE] = "ethertype",
	[NET_DROP_VLAN] = "vlan",
	[NET_DROP_PROTO] = "proto",
	[NET_DROP_ADDR] = "addr",
};

const char *net_drop_name(enum net_drop d)
{
	if ((unsigned)d >= NET_DROP_MAX)
		return "?";
	return drop_names[d];
}

/* ---- Ethernet ---- */

int net_eth_parse(const uint8_t *p, size_t len, struct net_eth_info *out)
{
	memset(out, 0, sizeof(*out));
	if (len < NET_ETH_HLEN) {
		out->drop = NET_DROP_SHORT;
		return -EBADMSG;
	}
	memcpy(out->dst, p, NET_ETH_ALEN);
	memcpy(out->src, p + 6, NET_ETH_ALEN);
	uint16_t type = get16(p + 12);
	out->hdr_len = NET_ETH_HLEN;
	if (type == NET_ETH_P_VLAN || type == NET_ETH_P_QINQ) {
		if (len < NET_ETH_HLEN + NET_VLAN_HLEN) {
			out->drop = NET_DROP_SHORT;
			return -EBADMSG;
		}
		out->has_vlan = 1;
		out->vlan_tpid = type;
		out->vlan_tci = get16(p + 14);
		type = get16(p + 16);
		out->hdr_len = NET_ETH_HLEN + NET_VLAN_HLEN;
	}
	out->ethertype = type;
	return 0;
}

int net_eth_build(uint8_t *buf, size_t room, const struct net_eth_info *e)
{
	size_t n = e->has_vlan ? NET_ETH_HLEN + NET_VLAN_HLEN : NET_ETH_HLEN;
	if (room < n)
		return -ENOSPC;
	memcpy(buf, e->dst, NET_ETH_ALEN);
	memcpy(buf + 6, e->src, NET_ETH_ALEN);
	uint8_t *t = buf + 12;
	if (e->has_vlan) {
		put16(t, e->vlan_tpid ? e->vlan_tpid : NET_ETH_P_VLAN);
		put16(t + 2, e->vlan_tci);
		t += 4;
	}
	put16(t, e->ethertype);
	return (int)n;
}

/* ---- ARP ---- */

int net_arp_parse(const uint8_t *p, size_t len, struct net_arp_info *out)
{
	memset(out, 0, sizeof(*out));
	if (len < NET_ARP_LEN) {
		out->drop = NET_DROP_SHORT;
		return -EBADMSG;
	}
	if (get16(p) != NET_ARP_HRD_ETHER || get16(p + 2) != NET_ETH_P_IPV4 ||
	    p[4] != NET_ETH_ALEN || p[5] != 4) {
		out->drop = NET_DROP_ARP_FORMAT;
		return -EPROTONOSUPPORT;
	}
	uint16_t op = get16(p + 6);
	if (op != NET_ARP_OP_REQUEST && op != NET_ARP_OP_REPLY) {
		out->drop = NET_DROP_ARP_OP;
		return -EPROTONOSUPPORT;
	}
	out->op = op;
	memcpy(out->sha, p + 8, NET_ETH_ALEN);
	out->spa = get32(p + 14);
	memcpy(out->tha, p + 18, NET_ETH_ALEN);
	out->tpa = get32(p + 24);
	return 0;
}

int net_arp_build(uint8_t *buf, size_t room, const struct net_arp_info *a)
{
	if (a->op != NET_ARP_OP_REQUEST && a->op != NET_ARP_OP_REPLY)
		return -EINVAL;
	if (room < NET_ARP_LEN)
		return -ENOSPC;
	put16(buf, NET_ARP_HRD_ETHER);
	put16(buf + 2, NET_ETH_P_IPV4);
	buf[4] = NET_ETH_ALEN;
	buf[5] = 4;
	put16(buf + 6, a->op);
	memcpy(buf + 8, a->sha, NET_ETH_ALEN);
	put32(buf + 14, a->spa);
	memcpy(buf + 18, a->tha, NET_ETH_ALEN);
	put32(buf + 24, a->tpa);
	return NET_ARP_LEN;
}

/* ---- IPv4 ---- */

/* Fill *out from the fixed header at p (>= 20 bytes there). */
static void ipv4_fields(const uint8_t *p, struct net_ipv4_info *out)
{
	out->hdr_len = (uint8_t)((p[0] & 0x0f) * 4);
	out->has_options = out->hdr_len > NET_IPV4_HLEN_MIN;
	out->tos = p[1];
	out->total_len = get16(p + 2);
	out->id = get16(p + 4);
	out->frag = get16(p + 6);
	out->ttl = p[8];
	out->proto = p[9];
	out->csum = get16(p + 10);
	out->src = get32(p + 12);
	out->dst = get32(p + 16);
}

static int ipv4_parse(const uint8_t *p, size_t len, struct net_ipv4_info *out,
		      int check_csum)
{
	memset(out, 0, sizeof(*out));
	if (len < NET_IPV4_HLEN_MIN) {
		out->drop = NET_DROP_SHORT;
		return -EBADMSG;
	}
	if (p[0] >> 4 != 4) {
		out->drop = NET_DROP_VERSION;
		return -EPROTONOSUPPORT;
	}
	ipv4_fields(p, out);
	if (out->hdr_len < NET_IPV4_HLEN_MIN) {
		out->drop = NET_DROP_HDRLEN;
		return -EBADMSG;
	}
	if (out->hdr_len > len) {
		out->drop = NET_DROP_SHORT;
		return -EBADMSG;
	}
	if (out->hdr_len > out->total_len) {
		out->drop = NET_DROP_HDRLEN;
		return -EBADMSG;
	}
	if (out->total_len > len) {
		out->drop = NET_DROP_TOTLEN;
		return -EBADMSG;
	}
	if (check_csum && !net_csum_verify(p, out->hdr_len, 0)) {
		out->drop = NET_DROP_CSUM;
		return -EBADMSG;
	}
	out->payload_len = (uint16_t)(out->total_len - out->hdr_len);
	if (out->frag & (NET_IPV4_MF | NET_IPV4_OFFMASK)) {
		out->drop = NET_DROP_FRAG;
		return -EOPNOTSUPP;
	}
	return 0;
}

int net_ipv4_parse(const uint8_t *p, size_t len, struct net_ipv4_info *out)
{
	return ipv4_parse(p, len, out, 1);
}

int net_ipv4_parse_nocsum(const uint8_t *p, size_t len,
			  struct net_ipv4_info *out)
{
	return ipv4_parse(p, len, out, 0);
}

int net_ipv4_build(uint8_t *buf, size_t room, const struct net_ipv4_info *h,
		   size_t payload_len)
{
	if (payload_len > 0xffff - NET_IPV4_HLEN_MIN)
		return -EMSGSIZE;
	if (room < NET_IPV4_HLEN_MIN)
		return -ENOSPC;
	buf[0] = 0x45;
	buf[1] = h->tos;
	put16(buf + 2, (uint16_t)(NET_IPV4_HLEN_MIN + payload_len));
	put16(buf + 4, h->id);
	put16(buf + 6, h->frag);
	buf[8] = h->ttl;
	buf[9] = h->proto;
	put16(buf + 10, 0);
	put32(buf + 12, h->src);
	put32(buf + 16, h->dst);
	put16(buf + 10, net_csum_fold(net_csum_partial(buf, 20, 0)));
	return NET_IPV4_HLEN_MIN;
}

/* ---- ICMP ---- */

static int icmp_is_error(uint8_t type)
{
	return type == NET_ICMP_DEST_UNREACH || type == NET_ICMP_TIME_EXCEEDED ||
	       type == NET_ICMP_PARAM_PROBLEM;
}

int net_icmp_parse(const uint8_t *p, size_t len, struct net_icmp_info *out)
{
	memset(out, 0, sizeof(*out));
	if (len < NET_ICMP_HLEN) {
		out->drop = NET_DROP_SHORT;
		return -EBADMSG;
	}
	out->type = p[0];
	out->code = p[1];
	out->csum = get16(p + 2);
	out->data_len = (uint16_t)(len - NET_ICMP_HLEN > 0xffff
					   ? 0xffff : len - NET_ICMP_HLEN);
	if (!net_csum_verify(p, len, 0)) {
		out->drop = NET_DROP_CSUM;
		return -EBADMSG;
	}
	switch (out->type) {
	case NET_ICMP_ECHO_REQUEST:
	case NET_ICMP_ECHO_REPLY:
		out->id = get16(p + 4);
		out->seq = get16(p + 6);
		return 0;
	default:
		if (!icmp_is_error(out->type))
			return 0;
		break;
	}
	if (out->type == NET_ICMP_DEST_UNREACH &&
	    out->code == NET_ICMP_CODE_FRAG_NEEDED)
		out->mtu = get16(p + 6);

	const uint8_t *q = p + NET_ICMP_HLEN;
	size_t qlen = len - NET_ICMP_HLEN;
	struct net_ipv4_info *in = &out->inner;
	if (qlen < NET_IPV4_HLEN_MIN || q[0] >> 4 != 4)
		goto embed;
	ipv4_fields(q, in);
	if (in->hdr_len < NET_IPV4_HLEN_MIN || qlen < (size_t)in->hdr_len + 8 ||
	    (in->frag & NET_IPV4_OFFMASK) != 0)
		goto embed;
	/* The quote may be cut short: no total-length or checksum check. */
	in->payload_len = in->total_len > in->hdr_len
				  ? (uint16_t)(in->total_len - in->hdr_len) : 0;
	const uint8_t *l4 = q + in->hdr_len;
	memcpy(out->inner_l4, l4, 8);
	out->inner_sport = get16(l4);
	out->inner_dport = get16(l4 + 2);
	out->inner_seq = get32(l4 + 4);
	out->has_inner = 1;
	return 0;
embed:
	memset(in, 0, sizeof(*in));
	out->drop = NET_DROP_ICMP_EMBED;
	return -EBADMSG;
}

int net_icmp_echo_reply_build(uint8_t *buf, size_t room, const uint8_t *req,
			      size_t req_len)
{
	if (req_len < NET_ICMP_HLEN || req[0] != NET_ICMP_ECHO_REQUEST ||
	    req_len > 0xffff)
		return -EINVAL;
	if (room < req_len)
		return -ENOSPC;
	if (buf != req)
		memmove(buf, req, req_len);
	buf[0] = NET_ICMP_ECHO_REPLY;
	buf[1] = 0;
	put16(buf + 2, 0);
	put16(buf + 2, net_csum_fold(net_csum_partial(buf, req_len, 0)));
	return (int)req_len;
}

int net_icmp_error_build(uint8_t *buf, size_t room, uint8_t type,
			 uint8_t code, uint16_t mtu, const uint8_t *orig,
			 size_t orig_len)
{
	if (orig_len < NET_IPV4_HLEN_MIN || orig[0] >> 4 != 4 ||
	    (orig[0] & 0x0f) < 5 || (size_t)(orig[0] & 0x0f) * 4 > orig_len)
		return -EINVAL;
	size_t quote = (size_t)(orig[0] & 0x0f) * 4 + 8;
	if (quote > orig_len)
		quote = orig_len;
	if (room < NET_ICMP_HLEN + quote)
		return -ENOSPC;
	memmove(buf + NET_ICMP_HLEN, orig, quote);
	buf[0] = type;
	buf[1] = code;
	put16(buf + 2, 0);
	put16(buf + 4, 0);
	put16(buf + 6, (type == NET_ICMP_DEST_UNREACH &&
			code == NET_ICMP_CODE_FRAG_NEEDED) ? mtu : 0);
	size_t n = NET_ICMP_HLEN + quote;
	put16(buf + 2, net_csum_fold(net_csum_partial(buf, n, 0)));
	return (int)n;
}

/* ---- TCP header ---- */

int tcp_hdr_parse_nocsum(const uint8_t *p, size_t len,
			 struct tcp_hdr_info *out)
{
	memset(out, 0, sizeof(*out));
	if (len < TCP_HLEN_MIN) {
		out->drop = NET_DROP_SHORT;
		return -EBADMSG;
	}
	out->sport = get16(p);
	out->dport = get16(p + 2);
	out->seq = get32(p + 4);
	out->ack = get32(p + 8);
	out->hdr_len = (uint8_t)((p[12] >> 4) * 4);
	out->reserved = p[12] & 0x0f;
	out->flags = p[13];
	out->window = get16(p + 14);
	out->csum = get16(p + 16);
	out->urg = get16(p + 18);
	if (len > 0xffff - NET_IPV4_HLEN_MIN) {
		out->drop = NET_DROP_TOTLEN;
		return -EBADMSG;
	}
	if (out->hdr_len < TCP_HLEN_MIN || out->hdr_len > len) {
		out->drop = NET_DROP_HDRLEN;
		return -EBADMSG;
	}
	out->opts = p + TCP_HLEN_MIN;
	out->opts_len = (uint8_t)(out->hdr_len - TCP_HLEN_MIN);
	out->payload_len = (uint16_t)(len - out->hdr_len);
	return 0;
}

int tcp_hdr_parse(const uint8_t *p, size_t len, uint32_t src, uint32_t dst,
		  struct tcp_hdr_info *out)
{
	int rc = tcp_hdr_parse_nocsum(p, len, out);
	if (rc < 0)
		return rc;
	uint32_t ph = net_csum_pseudo(src, dst, NET_IPPROTO_TCP, (uint16_t)len);
	if (!net_csum_verify(p, len, ph)) {
		out->drop = NET_DROP_CSUM;
		return -EBADMSG;
	}
	return 0;
}

int tcp_hdr_build(uint8_t *buf, size_t room, const struct tcp_hdr_info *t,
		  uint32_t src, uint32_t dst, const void *payload)
{
	size_t ol = t->opts_len;
	if (ol % 4 != 0 || ol > TCP_HLEN_MAX - TCP_HLEN_MIN ||
	    (ol > 0 && t->opts == NULL) ||
	    (t->payload_len > 0 && payload == NULL))
		return -EINVAL;
	size_t hl = TCP_HLEN_MIN + ol;
	if (hl + t->payload_len > 0xffff - NET_IPV4_HLEN_MIN)
		return -EMSGSIZE;
	if (room < hl)
		return -ENOSPC;
	put16(buf, t->sport);
	put16(buf + 2, t->dport);
	put32(buf + 4, t->seq);
	put32(buf + 8, t->ack);
	buf[12] = (uint8_t)((hl / 4) << 4 | (t->reserved & 0x0f));
	buf[13] = t->flags;
	put16(buf + 14, t->window);
	put16(buf + 16, 0);
	put16(buf + 18, t->urg);
	if (ol > 0)
		memmove(buf + TCP_HLEN_MIN, t->opts, ol);
	uint32_t s = net_csum_pseudo(src, dst, NET_IPPROTO_TCP,
				     (uint16_t)(hl + t->payload_len));
	s = net_csum_partial(buf, hl, s);
	s = net_csum_partial(payload, t->payload_len, s);
	put16(buf + 16, net_csum_fold(s));
	return (int)hl;
}
