/*
 * tcpstack/wire.h - header layouts, parsers and builders for Ethernet II
 * (with one 802.1Q/802.1ad tag), ARP (IPv4 over Ethernet), IPv4, ICMP and
 * the TCP header.
 *
 * Parsers take (p, len, ..., out): p[0..len) is borrowed and never read
 * beyond len; no length field is trusted. They return 0, or a negative
 * errno with out->drop set to the enum net_drop reason so the dataplane
 * can count drops per reason (out->drop is NET_DROP_NONE on success).
 * Fields in the info structs are host order; the wire is network order.
 * On failure the fields parsed before the fault are filled in (a fragment
 * is fully parsed), the rest are zero.
 *
 * Builders write one header into buf[0..room) and return the bytes written
 * or -ENOSPC when room is short, -EINVAL / -EMSGSIZE as documented.
 *
 * Pure functions: no allocation, reentrant, thread-safe.
 */
#ifndef SLUICE_TCPSTACK_WIRE_H
#define SLUICE_TCPSTACK_WIRE_H

#include <stddef.h>
#include <stdint.h>

/* Ethernet */
#define NET_ETH_ALEN       6
#define NET_ETH_HLEN       14
#define NET_VLAN_HLEN      4
#define NET_ETH_P_IPV4     0x0800
#define NET_ETH_P_ARP      0x0806
#define NET_ETH_P_VLAN     0x8100  /* 802.1Q */
#define NET_ETH_P_QINQ     0x88a8  /* 802.1ad service tag */
#define NET_ETH_P_IPV6     0x86dd
#define NET_VLAN_VID_MASK  0x0fff

/* ARP (RFC 826), IPv4 over Ethernet only */
#define NET_ARP_LEN        28
#define NET_ARP_HRD_ETHER  1
#define NET_ARP_OP_REQUEST 1
#define NET_ARP_OP_REPLY   2

/* IPv4 (RFC 791) */
#define NET_IPV4_HLEN_MIN  20
#define NET_IPV4_HLEN_MAX  60
#define NET_IPV4_RF        0x8000  /* reserved flag */
#define NET_IPV4_DF        0x4000
#define NET_IPV4_MF        0x2000
#define NET_IPV4_OFFMASK   0x1fff  /* fragment offset in 8-byte units */
#define NET_IPPROTO_ICMP   1
#define NET_IPPROTO_TCP    6
#define NET_IPPROTO_UDP    17

/* ICMP (RFC 792, RFC 1191) */
#define NET_ICMP_HLEN          8
#define NET_ICMP_ECHO_REPLY    0
#define NET_ICMP_DEST_UNREACH  3
#define NET_ICMP_ECHO_REQUEST  8
#define NET_ICMP_TIME_EXCEEDED 11
#define NET_ICMP_PARAM_PROBLEM 12
#define NET_ICMP_CODE_PORT_UNREACH 3
#define NET_ICMP_CODE_FRAG_NEEDED  4

/* TCP header (RFC 9293) */
#define TCP_HLEN_MIN 20
#define TCP_HLEN_MAX 60
#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10
#define TCP_URG 0x20
#define TCP_ECE 0x40
#define TCP_CWR 0x80

/* Why a frame was dropped. Parsers set the first group; the second is
 * for the dispatcher's own decisions, so all drops count in one table. */
enum net_drop {
	NET_DROP_NONE = 0,
	NET_DROP_SHORT,       /* fewer bytes than the header needs */
	NET_DROP_ARP_FORMAT,  /* not Ethernet/IPv4 ARP (htype, ptype, hlen, plen) */
	NET_DROP_ARP_OP,      /* ARP op neither request nor reply */
	NET_DROP_VERSION,     /* IP version != 4 */
	NET_DROP_HDRLEN,      /* IHL < 5 or > total length; TCP offset < 5 or > segment */
	NET_DROP_TOTLEN,      /* IPv4 total length > frame; TCP segment > 65515 */
	NET_DROP_CSUM,        /* IPv4, ICMP or TCP checksum wrong */
	NET_DROP_FRAG,        /* IPv4 fragment (MF or offset != 0): counted, never reassembled */
	NET_DROP_ICMP_EMBED,  /* ICMP error without a usable quoted IPv4 header + 8 bytes */
	/* not set by the parsers: */
	NET_DROP_ETHERTYPE,   /* neither IPv4 nor ARP */
	NET_DROP_VLAN,        /* tagged frame on an untagged port */
	NET_DROP_PROTO,       /* IP protocol not served */
	NET_DROP_ADDR,        /* not for us / martian address */
	NET_DROP_MAX
};

/* Static name of a reason ("short", "csum", ...); "?" when out of range. */
const char *net_drop_name(enum net_drop d);

/* ---- Ethernet ---- */

struct net_eth_info {
	uint8_t dst[NET_ETH_ALEN];
	uint8_t src[NET_ETH_ALEN];
	uint16_t ethertype;  /* after the tag when there is one */
	uint16_t vlan_tpid;  /* 0x8100 or 0x88a8 when has_vlan */
	uint16_t vlan_tci;   /* PCP, DEI, VID when has_vlan */
	uint8_t has_vlan;
	uint8_t hdr_len;     /* 14, or 18 with a tag: the payload offset */
	enum net_drop drop;
};

/* Parse the Ethernet II header (and one VLAN tag, reported in has_vlan:
 * a second tag shows as ethertype 0x8100/0x88a8). No minimum frame length
 * (TAP frames are not padded). Errors: -EBADMSG (SHORT). */
int net_eth_parse(const uint8_t *p, size_t len, struct net_eth_info *out);

/* Write dst, src, the tag when e->has_vlan (e->vlan_tpid, 0 meaning
 * 0x8100) and ethertype. Returns 14 or 18, or -ENOSPC. */
int net_eth_build(uint8_t *buf, size_t room, const struct net_eth_info *e);

/* ---- ARP ---- */

struct net_arp_info {
	uint16_t op;                 /* NET_ARP_OP_* */
	uint8_t sha[NET_ETH_ALEN];   /* sender hardware address */
	uint32_t spa;                /* sender IPv4 address */
	uint8_t tha[NET_ETH_ALEN];   /* target hardware address */
	uint32_t tpa;                /* target IPv4 address */
	enum net_drop drop;
};

/* Parse an ARP packet (the Ethernet payload; trailing padding ignored).
 * Errors: -EBADMSG (SHORT), -EPROTONOSUPPORT (ARP_FORMAT, ARP_OP). */
int net_arp_parse(const uint8_t *p, size_t len, struct net_arp_info *out);

/* Write a 28-byte ARP packet from a. Returns 28, -ENOSPC, or -EINVAL when
 * a->op is not request or reply. */
int net_arp_build(uint8_t *buf, size_t room, const struct net_arp_info *a);

/* ---- IPv4 ---- */

struct net_ipv4_info {
	uint8_t hdr_len;      /* IHL * 4: the payload offset */
	uint8_t tos;          /* DSCP and ECN */
	uint8_t ttl;
	uint8_t proto;        /* NET_IPPROTO_* */
	uint8_t has_options;  /* hdr_len > 20; options are skipped, not read */
	uint16_t total_len;   /* trust this, not the frame: trailing padding */
	uint16_t payload_len; /* total_len - hdr_len */
	uint16_t id;
	uint16_t frag;        /* flags and offset as on the wire (NET_IPV4_*) */
	uint16_t csum;
	uint32_t src, dst;
	enum net_drop drop;
};

/* Parse and check an IPv4 header at p (the Ethernet payload, len bytes,
 * padding allowed). Checks in order: len >= 20 (SHORT), version 4
 * (VERSION), IHL >= 5 (HDRLEN), IHL*4 <= len (SHORT), IHL*4 <= total
 * length (HDRLEN), total length <= len (TOTLEN), header checksum (CSUM),
 * not a fragment (FRAG). A fragment is fully parsed before -EOPNOTSUPP.
 * TTL is reported, not checked (we are a host). Errors: -EBADMSG,
 * -EPROTONOSUPPORT (VERSION), -EOPNOTSUPP (FRAG). */
int net_ipv4_parse(const uint8_t *p, size_t len, struct net_ipv4_info *out);

/* As net_ipv4_parse() without the checksum check, for ports whose
 * hardware verified it. */
int net_ipv4_parse_nocsum(const uint8_t *p, size_t len,
			  struct net_ipv4_info *out);

/* Write a 20-byte header (no options) from h's tos, id, frag, ttl, proto,
 * src and dst, with total length 20 + payload_len, and its checksum.
 * Returns 20, -ENOSPC, or -EMSGSIZE when the total passes 65535. */
int net_ipv4_build(uint8_t *buf, size_t room, const struct net_ipv4_info *h,
		   size_t payload_len);

/* ---- ICMP ---- */

struct net_icmp_info {
	uint8_t type, code;
	uint16_t csum;
	uint16_t id, seq;      /* echo request / reply */
	uint16_t data_len;     /* bytes after the 8-byte ICMP header */
	uint16_t mtu;          /* dest unreach / frag needed: next-hop MTU
				* (0 from pre-RFC 1191 routers) */
	/* Errors (dest unreach, time exceeded, parameter problem): the quoted
	 * header, parsed without checksum or total-length checks. */
	uint8_t has_inner;
	struct net_ipv4_info inner;
	uint8_t inner_l4[8];   /* the first 8 quoted payload bytes */
	uint16_t inner_sport, inner_dport;  /* from inner_l4 (TCP, UDP) */
	uint32_t inner_seq;    /* TCP sequence number from inner_l4 */
	enum net_drop drop;
};

/* Parse an ICMP message (the IPv4 payload, len = payload_len). Checks the
 * checksum over all len bytes. For errors (types 3, 11, 12) the quoted
 * IPv4 header must have version 4, IHL >= 5 and be followed by 8 bytes
 * inside len, and must not be a non-first fragment (no L4 header there);
 * otherwise ICMP_EMBED. Other types parse as type/code/data_len only.
 * Errors: -EBADMSG (SHORT, CSUM, ICMP_EMBED). */
int net_icmp_parse(const uint8_t *p, size_t len, struct net_icmp_info *out);

/* Write the echo reply to the echo request req[0..req_len) (the ICMP
 * message): same id, sequence and data, type 0, fresh checksum. buf may
 * be req (in place). Returns req_len, -ENOSPC, or -EINVAL when req is not
 * an echo request of at least 8 bytes. */
int net_icmp_echo_reply_build(uint8_t *buf, size_t room, const uint8_t *req,
			      size_t req_len);

/* Write an ICMP error of the given type and code quoting the original
 * datagram orig[0..orig_len) (its IPv4 header and the first 8 payload
 * bytes, RFC 792; fewer if orig is shorter). For frag needed, mtu goes in
 * the next-hop MTU field (0 otherwise). Returns 8 + the quoted bytes,
 * -ENOSPC, or -EINVAL when orig has no valid IPv4 header. */
int net_icmp_error_build(uint8_t *buf, size_t room, uint8_t type,
			 uint8_t code, uint16_t mtu, const uint8_t *orig,
			 size_t orig_len);

/* ---- TCP header ---- */

struct tcp_hdr_info {
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t hdr_len;      /* data offset * 4: the payload offset */
	uint8_t flags;        /* TCP_FIN ... TCP_CWR */
	uint8_t reserved;     /* the 4 bits before the flags (AE and 3 reserved) */
	uint16_t window;      /* unscaled, as on the wire */
	uint16_t csum;
	uint16_t urg;
	const uint8_t *opts;  /* borrowed: p + 20, for tcp_opts_parse() */
	uint8_t opts_len;     /* hdr_len - 20 */
	uint16_t payload_len; /* len - hdr_len */
	enum net_drop drop;
};

/* Parse a TCP segment p[0..len): len must be the IPv4 payload length
 * (padding trimmed), src/dst the IPv4 addresses (host order) for the
 * pseudo-header. Checks: len >= 20 (SHORT), 20 <= data offset * 4 <= len
 * (HDRLEN), len <= 65515 (TOTLEN, no IPv4 payload is longer), checksum
 * (CSUM). Errors: -EBADMSG. */
int tcp_hdr_parse(const uint8_t *p, size_t len, uint32_t src, uint32_t dst,
		  struct tcp_hdr_info *out);

/* As tcp_hdr_parse() without the checksum check (hardware verified it). */
int tcp_hdr_parse_nocsum(const uint8_t *p, size_t len,
			 struct tcp_hdr_info *out);

/* Write a TCP header from t's ports, seq, ack, flags, reserved, window,
 * urg and options t->opts[0..t->opts_len) (already padded: a multiple of
 * 4, <= 40; see tcp_opts_build()), and the checksum over the header, the
 * payload[0..t->payload_len) (borrowed; may be buf + 20 + opts_len, i.e.
 * already in place; may be NULL when payload_len is 0) and the IPv4
 * pseudo-header of src/dst (host order). t->hdr_len and t->csum are
 * ignored. Returns the header length, -ENOSPC, -EINVAL (bad opts_len),
 * or -EMSGSIZE when header + payload pass 65515 bytes. */
int tcp_hdr_build(uint8_t *buf, size_t room, const struct tcp_hdr_info *t,
		  uint32_t src, uint32_t dst, const void *payload);

#endif
