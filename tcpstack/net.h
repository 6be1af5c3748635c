/*
 * tcpstack/net.h - the per-core L2/L3 engine: Ethernet in, ARP, IPv4,
 * ICMP echo and errors, and IPv4 output with next-hop resolution.
 *
 * One struct net_stack per net lcore, used only by that lcore (not
 * thread-safe). net_stack_create() allocates (the stack and its ARP
 * table); nothing allocates afterwards: packets come from ops->alloc.
 * Times are a monotonic clock in microseconds; addresses are host order.
 *
 * Packet ownership: net_input() and net_ip_output() take their packet and
 * consume it on every path (sent, queued for ARP, handed to a hook, or
 * freed with ops->free). Frames we build (ARP replies and requests) are
 * allocated with ops->alloc; an empty pool is counted (alloc_fail) and
 * the frame is not sent. Frames are sent unpadded (the port pads to 60).
 *
 * Every dropped frame counts once in stats.drop[reason]. Frames to our
 * MAC or broadcast only; tagged frames drop as VLAN (untagged port).
 */
#ifndef SLUICE_TCPSTACK_NET_H
#define SLUICE_TCPSTACK_NET_H

#include <stdint.h>

#include "tcpstack/pkt.h"
#include "tcpstack/wire.h"

struct net_stack;

/* Zero fields take the default shown. */
struct net_stack_config {
	uint8_t mac[NET_ETH_ALEN];  /* required, unicast */
	uint32_t ip;                /* required, unicast */
	uint8_t prefix_len;         /* 0..32 (on-link range) */
	uint32_t gateway;           /* 0: none (off-link is unreachable) */
	uint16_t mtu;               /* 1500; 68..9216 */
	uint32_t arp_capacity;      /* 1024 entries */
	uint32_t icmp_rate;         /* 1000 ICMP messages per second */
	uint32_t icmp_burst;        /* 50 */
	uint64_t seed;              /* ARP hash key: random bytes */
};

/*
 * Optional upcalls, run on the lcore inside net_input(), borrowing ctx.
 * on_icmp_error: a valid ICMP error (destination unreachable, time
 *   exceeded, parameter problem) quoting a datagram we sent (info->inner
 *   src is our address, info->has_inner set); info is borrowed for the
 *   call. Fragmentation needed is type 3 code 4 with info->mtu.
 * tcp_input: a TCP datagram to our address; takes p. p->data is the TCP
 *   header, p->len the IPv4 payload length (padding cut); the Ethernet and
 *   IPv4 headers are still in the headroom. ip is borrowed for the call.
 *   The TCP checksum is not verified yet (tcp_hdr_parse does it).
 */
struct net_stack_hooks {
	void (*on_icmp_error)(void *ctx, const struct net_icmp_info *info);
	void (*tcp_input)(void *ctx, struct net_pkt *p,
			  const struct net_ipv4_info *ip, uint64_t now_us);
	void *ctx;
};

struct net_stack_stats {
	uint64_t rx_packets, rx_bytes;
	uint64_t tx_packets, tx_bytes;
	uint64_t tx_errors;        /* ops->tx refused (-ENOBUFS) */
	uint64_t alloc_fail;       /* ops->alloc empty: a frame not built */
	uint64_t drop[NET_DROP_MAX];
	uint64_t arp_rx;           /* valid ARP packets received */
	uint64_t arp_ignored;      /* refused by the table (-EINVAL) */
	uint64_t arp_conflicts;    /* someone claims our address */
	uint64_t arp_replies_tx, arp_requests_tx;
	uint64_t arp_released;     /* waiting packets sent after resolution */
	uint64_t icmp_echo_rx, icmp_echo_tx;
	uint64_t icmp_ratelimited; /* echo replies not sent (rate limit) */
	uint64_t icmp_errors_rx;   /* passed to on_icmp_error (or not set) */
	uint64_t tcp_rx;           /* handed to tcp_input */
	uint64_t ip_out;           /* net_ip_output calls */
	uint64_t ip_out_err;       /* ... that returned an error */
};

/* NULL on bad config (missing or non-unicast mac/ip, prefix_len > 32,
 * mtu out of range, ops or an op NULL) or out of memory. ops and env are
 * borrowed for the stack's life. */
struct net_stack *net_stack_create(const struct net_stack_config *cfg,
				   const struct net_pkt_ops *ops, void *env);

/* Frees the stack; packets waiting for ARP go back through ops->free.
 * NULL ok. */
void net_stack_free(struct net_stack *s);

/* Install the upcalls (copied; NULL members disable them). */
void net_stack_set_hooks(struct net_stack *s,
			 const struct net_stack_hooks *hooks);

/* Process one received frame (p->data at the Ethernet header); takes p.
 * ARP requests for us are answered, packets waiting for the sender's MAC
 * are sent, echo requests are answered in place (rate-limited), ICMP
 * errors and TCP go to the hooks; everything else is counted and freed. */
void net_input(struct net_stack *s, struct net_pkt *p, uint64_t now_us);

/*
 * Send the L4 segment at p->data (len bytes, headroom >= 34) as an IPv4
 * datagram of protocol proto to dst: our address as source, TTL 64, DF,
 * the stack's IP ID counter. The next hop is dst when on-link (same
 * prefix), else the gateway. Takes p on every return:
 *   0             sent, or queued until the next hop's MAC is known
 *                 (an ARP request is sent; the packet may still be
 *                 dropped later by the ARP queue bounds or a timeout)
 *   -ENETUNREACH  off-link and no gateway
 *   -EMSGSIZE     20 + len exceeds the MTU
 *   -ENOSPC       headroom too small
 *   -EINVAL       dst is 0, ours, loopback, multicast, broadcast or
 *                 our subnet's broadcast
 *   -EHOSTUNREACH the next hop failed to resolve recently
 *   -ENOBUFS      ops->tx refused it, or no ARP entry could be made
 */
int net_ip_output(struct net_stack *s, struct net_pkt *p, uint32_t dst,
		  uint8_t proto, uint64_t now_us);

/* ARP retries and give-ups due at now_us (requests are sent); O(1) when
 * nothing is due: call every loop turn. */
void net_stack_advance(struct net_stack *s, uint64_t now_us);

/* Our address (host order) and MTU, as configured. */
uint32_t net_stack_addr(const struct net_stack *s);
uint16_t net_stack_mtu(const struct net_stack *s);

/* Copy the counters. */
void net_stack_stats(const struct net_stack *s, struct net_stack_stats *out);

#endif
