/*
 * tests/fuzz/fuzz_tcp.c - the TCP engine (tcpstack/tcp_*.c) behind a real
 * net_stack. The input is a sequence of 8-byte records, each optionally
 * followed by payload:
 *   [0] op: bits 0-1 which peer (4 source ports, or 2 peer addresses),
 *       bits 2-4 action (0-3 a segment, 4 an app call, 5 an ICMP frag
 *       needed, 6 tcp_connect to the peer's port, 7 a time step only;
 *       peer 3 is PEER2:25, the one tcp_connect reaches), bits 5-7 time step
 *       (0, 1 ms, 10 ms, 40 ms, 200 ms, 1 s, 10 s, 70 s) after it
 *   [1] TCP flags
 *   [2] seq choice: low 2 bits: what the stack last acked (+ offset),
 *       the stack's last ISN/seq + 1, random; high 6 bits an offset
 *   [3] ack choice: the stack's next sequence (+ offset), its last seq,
 *       random, 0
 *   [4] window (scaled by << 8 when odd)
 *   [5] options: MSS, WS, SACK_PERM, TS (valid echo or random), SACK
 *       blocks, MSS value class
 *   [6] payload length (0..255, from the following bytes, zero-padded)
 *   [7] parameter (app call number, MSS/MTU value, random field bits)
 * so the fuzzer reaches handshakes (plain and SYN cookies: the backlog is
 * 2), data, OOO, SACK, RSTs, FINs, TIME_WAIT and timers. Checked: every
 * frame sent parses with a valid checksum and fits the MTU; no packet is
 * freed twice or unknown; after tcp_stack_free() every packet is back in
 * the pool.
 */
#define POOL 512
#include "tcpstack/net.h"
#include "tcpstack/tcp.h"
#include "tcpstack/tcpopt.h"
#include "tests/unit/fake_pool.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ME 0xc6120001u   /* 198.18.0.1/24 */
#define PEER1 0xc6120002u
#define PEER2 0xc6120003u
#define MTU 1500

static const uint8_t MAC_ME[6] = {0x02, 0, 0, 0, 0, 0x01};
static const uint8_t MAC_P[6] = {0x02, 0, 0, 0, 0, 0x02};

/* What the stack last sent to each peer tuple. */
struct peer {
	uint32_t addr;
	uint16_t port, lport;
	uint32_t seq, ack, end, tsval;
	bool seen;
	struct tcp_conn *c;
};

static struct peer peers[4];
static uint32_t pts;

static struct net_pkt *env_alloc(void *env)
{
	(void)env;
	return fake_pool_get();
}

static void env_free(void *env, struct net_pkt *p)
{
	(void)env;
	if (!fake_pool_intact(p) || !fake_pool_put(p))
		abort();
}

static void note_tx(const struct net_pkt *p)
{
	struct net_eth_info e;
	if (net_eth_parse(p->data, p->len, &e) != 0)
		abort();
	if (e.ethertype == NET_ETH_P_ARP)
		return;
	if (e.ethertype != NET_ETH_P_IPV4)
		abort();
	const uint8_t *d = p->data + e.hdr_len;
	size_t n = p->len - e.hdr_len;
	struct net_ipv4_info ip;
	if (n > MTU || net_ipv4_parse(d, n, &ip) != 0 || ip.src != ME)
		abort();
	if (ip.proto != NET_IPPROTO_TCP)
		return;
	struct tcp_hdr_info th;
	if (tcp_hdr_parse(d + ip.hdr_len, ip.payload_len, ip.src, ip.dst,
			  &th) != 0)
		abort();  /* we built a bad segment */
	struct tcp_opts o;
	if (tcp_opts_parse(th.opts, th.opts_len, &o) != 0)
		abort();
	for (int i = 0; i < 4; i++) {
		struct peer *q = &peers[i];
		if (q->addr == ip.dst && q->port == th.dport) {
			q->lport = th.sport;
			q->seq = th.seq;
			q->ack = th.ack;
			q->end = th.seq + th.payload_len +
				 ((th.flags & TCP_SYN) != 0) +
				 ((th.flags & TCP_FIN) != 0);
			if (o.present & TCP_OPTF_TS)
				q->tsval = o.ts_val;
			q->seen = true;
		}
	}
}

static int env_tx(void *env, struct net_pkt *p)
{
	note_tx(p);
	env_free(env, p);
	return 0;
}

static const struct net_pkt_ops ops = {env_alloc, env_free, env_tx};

/* ---- the application ---- */

static unsigned consume_mode;

static struct peer *peer_of(struct tcp_conn *c)
{
	uint32_t raddr;
	uint16_t rport;
	tcp_conn_tuple(c, NULL, NULL, &raddr, &rport);
	for (int i = 0; i < 4; i++)
		if (peers[i].addr == raddr && peers[i].port == rport)
			return &peers[i];
	return NULL;
}

static int f_accepted(void *lctx, struct tcp_conn *c, void **ctx)
{
	(void)lctx;
	struct peer *q = peer_of(c);
	if (q == NULL || (consume_mode & 7) == 7)
		return -ECONNREFUSED;
	q->c = c;
	*ctx = q;
	return 0;
}

static void f_connected(void *ctx, struct tcp_conn *c)
{
	(void)ctx;
	tcp_send(c, "EHLO x\r\n", 8, 0);
}

static void f_readable(void *ctx, struct tcp_conn *c)
{
	(void)ctx;
	struct iovec iov[8];
	size_t n;
	switch (consume_mode & 3) {
	case 0:  /* read everything */
		while (tcp_recv_iov(c, iov, 8, &n) > 0)
			tcp_recv_consume(c, n);
		break;
	case 1:  /* read a little */
		tcp_recv_iov(c, iov, 1, &n);
		tcp_recv_consume(c, n > 7 ? 7 : n);
		break;
	case 2:  /* not at all */
		break;
	default:
		if (consume_mode & 4)
			tcp_abort(c);
		else
			tcp_close(c);
		return;
	}
	if (tcp_recv_eof(c) && (consume_mode & 8))
		tcp_close(c);
}

static void f_writable(void *ctx, struct tcp_conn *c)
{
	(void)ctx;
	static const char big[3000];
	tcp_send(c, big, sizeof big, TCP_SEND_MORE);
}

static void f_closed(void *ctx, struct tcp_conn *c, int err)
{
	(void)err;
	struct peer *q = ctx;
	if (q != NULL && q->c == c)
		q->c = NULL;
	for (int i = 0; i < 4; i++)
		if (peers[i].c == c)
			peers[i].c = NULL;
}

static const struct tcp_handler H = {
	f_accepted, f_connected, f_readable, f_writable, f_closed,
};

/* ---- frames ---- */

static void inject(struct net_stack *net, uint32_t src, const uint8_t *l4,
		   size_t len, uint8_t proto, uint64_t now)
{
	struct net_pkt *p = fake_pool_get();
	if (p == NULL)
		return;
	uint8_t *b = net_pkt_append(p, (uint32_t)(14 + 20 + len));
	if (b == NULL) {
		env_free(NULL, p);
		return;
	}
	struct net_eth_info e = {.ethertype = NET_ETH_P_IPV4};
	memcpy(e.dst, MAC_ME, 6);
	memcpy(e.src, MAC_P, 6);
	net_eth_build(b, 14, &e);
	struct net_ipv4_info h = {.ttl = 64, .proto = proto, .src = src,
				  .dst = ME};
	net_ipv4_build(b + 14, 20, &h, len);
	memcpy(b + 34, l4, len);
	net_input(net, p, now);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static void segment(struct net_stack *net, struct peer *q, const uint8_t *r,
		    const uint8_t *pl, size_t plen, uint64_t now)
{
	uint8_t flags = r[1];
	uint32_t off = r[2] >> 2;
	uint32_t seq, ack;
	switch (r[2] & 3) {
	case 0: seq = q->ack + off; break;
	case 1: seq = q->ack - off * 100; break;
	case 2: seq = q->ack + off * 1000; break;
	default: seq = rd32(r + 4) ^ 0x5a5a5a5a; break;
	}
	uint32_t aoff = r[3] >> 2;
	switch (r[3] & 3) {
	case 0: ack = q->end + aoff; break;
	case 1: ack = q->seq - aoff; break;
	case 2: ack = q->end - aoff * 1000; break;
	default: ack = rd32(r + 3); break;
	}
	if (!q->seen) {
		seq = 1000 + off;
		ack = rd32(r + 3);
	}
	struct tcp_opts o = {0};
	uint8_t os = r[5];
	if (os & 0x01) {
		o.present |= TCP_OPTF_MSS;
		static const uint16_t m[4] = {1460, 536, 64, 9000};
		o.mss = m[(os >> 6) & 3];
	}
	if (os & 0x02) {
		o.present |= TCP_OPTF_WSCALE;
		o.wscale = r[7] % 15;
	}
	if (os & 0x04)
		o.present |= TCP_OPTF_SACK_PERM;
	if (os & 0x08) {
		o.present |= TCP_OPTF_TS;
		o.ts_val = (os & 0x20) ? rd32(r + 2) : ++pts;
		o.ts_ecr = q->tsval;
	}
	if ((os & 0x10) && !(flags & TCP_SYN)) {
		o.present |= TCP_OPTF_SACK;
		o.sack_n = 1 + (r[7] & 1);
		o.sack[0].left = q->seq + (uint32_t)r[7] * 8;
		o.sack[0].right = o.sack[0].left + 1448;
		o.sack[1].left = q->seq - 5000;
		o.sack[1].right = q->end + 100;
	}
	uint8_t ob[40];
	int ol = o.present ? tcp_opts_build(&o, ob, sizeof ob, NULL) : 0;
	if (ol < 0)
		ol = 0;
	uint8_t seg[60 + 256];
	struct tcp_hdr_info t = {
		.sport = q->port,
		.dport = (q->port == 25) != ((r[7] & 0x80) != 0) ? q->lport : 25,
		.seq = seq, .ack = ack, .flags = flags,
		.window = (uint16_t)((r[4] & 1) ? r[4] << 8 : r[4] * 257),
		.opts = ob, .opts_len = (uint8_t)ol,
		.payload_len = (uint16_t)plen,
	};
	if (t.dport == 0)
		t.dport = 25;
	memcpy(seg + 20 + ol, pl, plen);
	int hl = tcp_hdr_build(seg, sizeof seg, &t, q->addr, ME, seg + 20 + ol);
	if (hl < 0)
		abort();
	if ((r[7] & 0x7f) == 0x7f)
		seg[16] ^= 0x01;  /* a bad checksum now and then */
	inject(net, q->addr, seg, (size_t)hl + plen, NET_IPPROTO_TCP, now);
}

static void frag_needed(struct net_stack *net, struct peer *q,
			const uint8_t *r, uint64_t now)
{
	uint8_t orig[28];
	struct net_ipv4_info ih = {.ttl = 64, .proto = NET_IPPROTO_TCP,
				   .src = ME, .dst = q->addr};
	net_ipv4_build(orig, 20, &ih, 1000);
	uint32_t seq = (r[2] & 1) ? q->seq : rd32(r + 3);
	uint8_t l4[8] = {(uint8_t)(q->lport >> 8), (uint8_t)q->lport,
			 (uint8_t)(q->port >> 8), (uint8_t)q->port,
			 (uint8_t)(seq >> 24), (uint8_t)(seq >> 16),
			 (uint8_t)(seq >> 8), (uint8_t)seq};
	memcpy(orig + 20, l4, 8);
	uint8_t ic[64];
	int n = net_icmp_error_build(ic, sizeof ic, NET_ICMP_DEST_UNREACH,
				     NET_ICMP_CODE_FRAG_NEEDED,
				     (uint16_t)(r[4] * 8 + r[7]), orig,
				     sizeof orig);
	if (n > 0)
		inject(net, 0xc61200feu, ic, (size_t)n, NET_IPPROTO_ICMP, now);
}

static void app_call(struct tcp_stack *tcp, struct peer *q, const uint8_t *r)
{
	static const char msg[2000];
	consume_mode = r[1];
	struct tcp_conn *c = q->c;
	if (c == NULL) {
		if (r[7] == 9)
			tcp_stack_drain(tcp);
		return;
	}
	switch (r[7] % 8) {
	case 0: tcp_send(c, msg, (size_t)r[4] * 8, 0); break;
	case 1: tcp_send(c, msg, sizeof msg, TCP_SEND_MORE); break;
	case 2: tcp_shutdown(c); break;
	case 3: tcp_close(c); break;
	case 4: tcp_abort(c); break;
	case 5: {
		struct iovec iov[4];
		size_t n;
		tcp_recv_iov(c, iov, 4, &n);
		tcp_recv_consume(c, n / 2 + 1);
		break;
	}
	case 6: {
		struct tcp_conn_info ci;
		tcp_conn_info(c, &ci);
		(void)tcp_send_space(c);
		(void)tcp_recv_queued(c);
		break;
	}
	default: tcp_send(c, msg, 1, 0); break;
	}
}

static const uint64_t steps[8] = {
	0, 1000, 10000, 40000, 200000, 1000000, 10000000, 70000000,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct net_stack_config nc = {
		.ip = ME, .prefix_len = 24, .arp_capacity = 16, .seed = 3,
		.gateway = 0xc61200feu,
	};
	memcpy(nc.mac, MAC_ME, 6);
	struct net_stack *net = net_stack_create(&nc, &ops, NULL);
	struct tcp_stack_config tc = {
		.max_conns = 8, .max_time_wait = 4, .syn_backlog = 2,
		.rcvbuf = 8192, .sndbuf = 8192, .snd_pool = 1 << 18,
		.ooo_max = 4, .keepalive_idle_us = 30000000,
		.keepalive_intvl_us = 5000000, .keepalive_probes = 2,
		.data_retries = 4, .syn_retries = 2,
		.time_wait_us = 20000000, .fin_wait2_us = 20000000,
		.rst_burst = 5, .challenge_ack_burst = 3,
	};
	for (int i = 0; i < 16; i++) {
		tc.isn_key[i] = (uint8_t)(i + 1);
		tc.cookie_key[i] = (uint8_t)(i + 99);
	}
	uint64_t now = 1000000000;
	struct tcp_stack *tcp = tcp_stack_create(&tc, net, &ops, NULL, now);
	if (net == NULL || tcp == NULL)
		abort();
	if (tcp_listen(tcp, 0, 25, &H, NULL) != 0)
		abort();
	memset(peers, 0, sizeof peers);
	for (int i = 0; i < 4; i++) {
		peers[i].addr = i < 3 ? PEER1 : PEER2;
		peers[i].port = i < 3 ? (uint16_t)(40000 + i) : 25;
	}
	pts = 1;
	consume_mode = 0;

	/* the peers' MACs, so segments go out at once */
	for (int i = 0; i < 2; i++) {
		uint8_t a[NET_ARP_LEN];
		struct net_arp_info ai = {.op = NET_ARP_OP_REPLY,
					  .spa = i ? PEER2 : PEER1, .tpa = ME};
		memcpy(ai.sha, MAC_P, 6);
		memcpy(ai.tha, MAC_ME, 6);
		net_arp_build(a, sizeof a, &ai);
		struct net_pkt *p = fake_pool_get();
		uint8_t *b = net_pkt_append(p, 14 + NET_ARP_LEN);
		struct net_eth_info e = {.ethertype = NET_ETH_P_ARP};
		memcpy(e.dst, MAC_ME, 6);
		memcpy(e.src, MAC_P, 6);
		net_eth_build(b, 14, &e);
		memcpy(b + 14, a, NET_ARP_LEN);
		net_input(net, p, now);
	}

	size_t off = 0;
	while (size - off >= 8) {
		const uint8_t *r = data + off;
		off += 8;
		size_t plen = r[6];
		if (plen > size - off)
			plen = size - off;
		const uint8_t *pl = data + off;
		off += plen;
		struct peer *q = &peers[r[0] & 3];
		switch ((r[0] >> 2) & 7) {
		case 0: case 1: case 2: case 3:
			segment(net, q, r, pl, plen, now);
			break;
		case 4:
			app_call(tcp, q, r);
			break;
		case 5:
			frag_needed(net, q, r, now);
			break;
		case 6:
			if (q->c == NULL && r[7] < 16) {
				int err;
				struct tcp_conn *c = tcp_connect(
					tcp, q->addr, q->port, &H, q, &err);
				if (c != NULL) {
					q->c = c;
				}
			}
			break;
		default:
			break;
		}
		now += steps[r[0] >> 5];
		net_stack_advance(net, now);
		tcp_stack_advance(tcp, now);
		(void)tcp_stack_next_timer_us(tcp, now);
	}
	tcp_stack_free(tcp);
	net_stack_free(net);
	if (n_inuse != 0)
		abort();  /* a packet leaked */
	return 0;
}
