/*
 * tests/fuzz/fuzz_net.c - tcpstack/net.c input path. The input is a
 * sequence of records [ctl][len_hi][len_lo][len bytes]: each frame goes
 * through net_input() on a stack backed by a fixed fake pool; ctl & 0x3f
 * advances the clock by that many 100 ms steps (ARP retries, give-ups,
 * the ICMP bucket), bit 7 also sends a small segment with net_ip_output()
 * to an on-link or off-link address picked by bits 6 and 0..2. A TCP
 * hook bounces every segment back out through net_ip_output().
 * Checked: every transmitted frame parses back with the wire parsers
 * (valid IPv4 and ICMP checksums, ARP well-formed, within the MTU), no
 * packet is freed twice or unknown, and after net_stack_free() the pool
 * is whole (every packet freed or captured).
 */
#include "tcpstack/net.h"
#include "tests/unit/fake_pool.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ME 0xc6120001u   /* 198.18.0.1/24 */
#define GW 0xc61200feu
#define MTU 1500

static struct net_stack *stack;

static struct net_pkt *env_alloc(void *env)
{
	(void)env;
	return fake_pool_get();
}

static void env_free(void *env, struct net_pkt *p)
{
	(void)env;
	if (!fake_pool_intact(p) || !fake_pool_put(p))
		abort(); /* a corrupted packet, or a double or foreign free */
}

/* Every frame we send must parse back cleanly. */
static void check_frame(const struct net_pkt *p)
{
	struct net_eth_info e;
	if (net_eth_parse(p->data, p->len, &e) != 0 || e.has_vlan)
		abort();
	const uint8_t *d = p->data + e.hdr_len;
	size_t n = p->len - e.hdr_len;
	if (n > MTU)
		abort();
	if (e.ethertype == NET_ETH_P_ARP) {
		struct net_arp_info a;
		if (net_arp_parse(d, n, &a) != 0 || n != NET_ARP_LEN ||
		    a.spa != ME)
			abort();
		return;
	}
	if (e.ethertype != NET_ETH_P_IPV4)
		abort();
	struct net_ipv4_info ip;
	if (net_ipv4_parse(d, n, &ip) != 0 || ip.total_len != n ||
	    ip.src != ME || ip.ttl != 64)
		abort();
	if (ip.proto == NET_IPPROTO_ICMP) {
		struct net_icmp_info ic;
		if (net_icmp_parse(d + ip.hdr_len, ip.payload_len, &ic) != 0 ||
		    ic.type != NET_ICMP_ECHO_REPLY)
			abort();
	}
}

static int env_tx(void *env, struct net_pkt *p)
{
	check_frame(p);
	env_free(env, p);
	return 0;
}

static const struct net_pkt_ops ops = {env_alloc, env_free, env_tx};

/* Bounce the segment back to its sender, as a TCP layer reusing it. */
static void tcp_hook(void *ctx, struct net_pkt *p,
		     const struct net_ipv4_info *ip, uint64_t now)
{
	(void)ctx;
	if (p->len != ip->payload_len || p->headroom < 34)
		abort();
	if (p->len > 64)
		net_pkt_trim(p, 64);
	int rc = net_ip_output(stack, p, ip->src, NET_IPPROTO_TCP, now);
	if (rc != 0 && rc != -EINVAL && rc != -EHOSTUNREACH &&
	    rc != -ENOBUFS && rc != -ENETUNREACH)
		abort();
}

static void icmp_hook(void *ctx, const struct net_icmp_info *ic)
{
	(void)ctx;
	if (!ic->has_inner || ic->inner.src != ME)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct net_stack_config c = {
		.mac = {0x02, 0, 0, 0, 0, 0x01}, .ip = ME, .prefix_len = 24,
		.gateway = GW, .arp_capacity = 8, .icmp_rate = 20,
		.icmp_burst = 5, .seed = 1,
	};
	stack = net_stack_create(&c, &ops, NULL);
	if (stack == NULL)
		abort();
	struct net_stack_hooks h = {.tcp_input = tcp_hook,
				    .on_icmp_error = icmp_hook};
	net_stack_set_hooks(stack, &h);

	uint64_t now = 1000000;
	size_t off = 0;
	while (size - off >= 3) {
		uint8_t ctl = data[off];
		size_t len = (size_t)data[off + 1] << 8 | data[off + 2];
		off += 3;
		if (len > size - off)
			len = size - off;
		struct net_pkt *p = env_alloc(NULL);
		if (p != NULL) {
			size_t n = len < p->tailroom ? len : p->tailroom;
			memcpy(net_pkt_append(p, (uint32_t)n), data + off, n);
			net_input(stack, p, now);
		}
		off += len;
		now += (uint64_t)(ctl & 0x3f) * 100000;
		if (ctl & 0x80) {
			struct net_pkt *q = env_alloc(NULL);
			if (q != NULL) {
				memset(net_pkt_append(q, 20), 0x11, 20);
				uint32_t dst = (ctl & 0x40) ? 0xc0000207u
							    : ME + (ctl & 7u);
				int rc = net_ip_output(stack, q, dst,
						       NET_IPPROTO_TCP, now);
				if (rc != 0 && rc != -EINVAL &&
				    rc != -EHOSTUNREACH && rc != -ENOBUFS)
					abort();
			}
		}
		net_stack_advance(stack, now);
	}
	net_stack_free(stack);
	stack = NULL;
	if (n_inuse != 0)
		abort();  /* a packet leaked */
	return 0;
}
