/* tests/unit/test_arp.c - tcpstack/arp.c: RFC 826 merge, resolution,
 * retries, queues, eviction under flood. */
#include "tcpstack/arp.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#define RND_SEED 0xa1b2c3d4e5f60718ULL
#include "rnd.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (b) << 16 | (c) << 8 | (d))
#define ME IP(198, 18, 0, 1)
#define PEER IP(198, 18, 0, 2)
#define GW IP(198, 18, 0, 254)
#define SEC UINT64_C(1000000)

static const uint8_t MAC_A[6] = {0x02, 0, 0, 0, 0, 0xa};
static const uint8_t MAC_B[6] = {0x02, 0, 0, 0, 0, 0xb};
static const uint8_t MAC_GW[6] = {0x02, 0, 0, 0, 0, 0xfe};
static const uint8_t BC[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

/* Packets are ints; the free callback records which were freed. */
static int freed[64], n_freed;

static void free_pkt(void *arg, void *pkt)
{
	(void)arg;
	if (n_freed < 64)
		freed[n_freed] = *(int *)pkt;
	n_freed++;
}

static struct net_arp_table *mk(uint32_t cap, uint32_t max_queued)
{
	struct net_arp_config c = {
		.capacity = cap, .max_queued = max_queued, .seed = 0x1234567,
		.free_pkt = free_pkt,
	};
	n_freed = 0;
	return net_arp_create(&c);
}

static void test_request_for_us(void)
{
	struct net_arp_table *t = mk(16, 0);
	struct net_arp_action a;
	struct net_arp_entry in;

	/* Request for us: reply to the sender, learn it as STALE. */
	CHECK_EQ_INT(net_arp_input(t, 1, PEER, MAC_A, ME, ME, 0, &a), 0);
	CHECK_EQ_INT(a.tx.op, NET_ARP_OP_REPLY);
	CHECK_EQ_MEM(a.tx.eth_dst, 6, MAC_A, 6);
	CHECK_EQ_MEM(a.tx.tha, 6, MAC_A, 6);
	CHECK_EQ_INT(a.tx.tpa, PEER);
	CHECK_EQ_INT(a.n_release, 0);
	CHECK_EQ_INT(net_arp_lookup(t, PEER, 0, &in), 0);
	CHECK_EQ_INT(in.state, NET_ARP_STALE);
	CHECK_EQ_MEM(in.mac, 6, MAC_A, 6);

	/* Request for someone else from an unknown sender: nothing. */
	CHECK_EQ_INT(net_arp_input(t, 1, IP(198, 18, 0, 3), MAC_B,
				   IP(198, 18, 0, 9), ME, 0, &a), 0);
	CHECK_EQ_INT(a.tx.op, 0);
	CHECK_EQ_INT(net_arp_lookup(t, IP(198, 18, 0, 3), 0, &in), -ENOENT);
	/* Unsolicited reply to us from an unknown sender: not learned. */
	CHECK_EQ_INT(net_arp_input(t, 2, IP(198, 18, 0, 4), MAC_B, ME, ME, 0,
				   &a), 0);
	CHECK_EQ_INT(a.tx.op, 0);
	CHECK_EQ_INT(net_arp_lookup(t, IP(198, 18, 0, 4), 0, &in), -ENOENT);
	/* No address of our own: no reply, no learning. */
	CHECK_EQ_INT(net_arp_input(t, 1, IP(198, 18, 0, 5), MAC_B, 0, 0, 0,
				   &a), 0);
	CHECK_EQ_INT(a.tx.op, 0);
	CHECK_EQ_INT(net_arp_count(t), 1);
	net_arp_free(t);
}

static void test_invalid_input(void)
{
	static const uint8_t mcast[6] = {0x01, 0, 0x5e, 0, 0, 1};
	static const uint8_t zero[6] = {0};
	static const struct {
		uint16_t op;
		uint32_t sip;
		const uint8_t *sha;
		uint32_t tip;
		int ret;
		uint16_t tx_op;
		uint32_t tx_tpa;
	} rows[] = {
		{3, PEER, MAC_A, ME, -EINVAL, 0, 0},         /* bad op */
		{0, PEER, MAC_A, ME, -EINVAL, 0, 0},
		{1, PEER, BC, ME, -EINVAL, 0, 0},            /* bcast sha */
		{1, PEER, mcast, ME, -EINVAL, 0, 0},
		{1, PEER, zero, ME, -EINVAL, 0, 0},
		{1, IP(127, 0, 0, 1), MAC_A, ME, -EINVAL, 0, 0},
		{1, IP(224, 0, 0, 1), MAC_A, ME, -EINVAL, 0, 0},
		{1, 0xffffffffu, MAC_A, ME, -EINVAL, 0, 0},
		{1, PEER, MAC_A, IP(239, 1, 1, 1), -EINVAL, 0, 0},
		{1, ME, MAC_A, ME, -EADDRINUSE, 0, 0},       /* conflict */
		{2, ME, MAC_A, ME, -EADDRINUSE, 0, 0},
		{1, 0, MAC_A, ME, 0, NET_ARP_OP_REPLY, 0},   /* RFC 5227 probe */
		{2, 0, MAC_A, ME, 0, 0, 0},                  /* probe-ish reply */
		{1, 0, MAC_A, PEER, 0, 0, 0},                /* probe, not ours */
	};
	struct net_arp_table *t = mk(16, 0);
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		struct net_arp_action a;
		int r = net_arp_input(t, rows[i].op, rows[i].sip, rows[i].sha,
				      rows[i].tip, ME, 0, &a);
		CHECK_MSG(r == rows[i].ret, "row %zu: %d", i, r);
		CHECK_MSG(a.tx.op == rows[i].tx_op, "row %zu: op %u", i,
			  a.tx.op);
		CHECK_EQ_INT(a.tx.tpa, rows[i].tx_tpa);
	}
	CHECK_EQ_INT(net_arp_count(t), 0);   /* nothing learned from any */
	struct net_arp_stats st;
	net_arp_get_stats(t, &st);
	CHECK_EQ_INT(st.ignored, 9);
	CHECK_EQ_INT(st.conflicts, 2);
	net_arp_free(t);
}

static void test_resolve_and_reply(void)
{
	struct net_arp_table *t = mk(16, 0);
	struct net_arp_tx tx;
	struct net_arp_action a;
	uint8_t mac[6];
	int p[6] = {0, 1, 2, 3, 4, 5};

	/* Miss: INCOMPLETE, broadcast request, packet queued. */
	CHECK_EQ_INT(net_arp_resolve(t, PEER, 100, &p[0], mac, &tx), -EAGAIN);
	CHECK_EQ_INT(tx.op, NET_ARP_OP_REQUEST);
	CHECK_EQ_MEM(tx.eth_dst, 6, BC, 6);
	CHECK_EQ_INT(tx.tpa, PEER);
	/* Rate limit: more packets within a second, no new request. */
	CHECK_EQ_INT(net_arp_resolve(t, PEER, 200, &p[1], mac, &tx), -EAGAIN);
	CHECK_EQ_INT(tx.op, 0);
	CHECK_EQ_INT(net_arp_advance(t, 100 + SEC - 1, &tx, 1), 0);
	CHECK_EQ_INT(net_arp_queued(t), 2);
	/* Gratuitous ARP from the peer (sender == target): updates the
	 * existing entry and releases the queue, STALE. */
	CHECK_EQ_INT(net_arp_input(t, 1, PEER, MAC_B, PEER, ME, 300, &a), 0);
	CHECK_EQ_INT(a.tx.op, 0);
	CHECK_EQ_INT(a.n_release, 2);
	CHECK(a.release[0] == &p[0] && a.release[1] == &p[1]);
	CHECK_EQ_MEM(a.mac, 6, MAC_B, 6);
	CHECK_EQ_INT(net_arp_queued(t), 0);
	/* The proper reply to us: REACHABLE with the new MAC. */
	CHECK_EQ_INT(net_arp_input(t, 2, PEER, MAC_A, ME, ME, 400, &a), 0);
	CHECK_EQ_INT(a.n_release, 0);
	struct net_arp_entry in;
	CHECK_EQ_INT(net_arp_lookup(t, PEER, 400, &in), 0);
	CHECK_EQ_INT(in.state, NET_ARP_REACHABLE);
	CHECK_EQ_INT(net_arp_resolve(t, PEER, 500, &p[2], mac, &tx), 0);
	CHECK_EQ_MEM(mac, 6, MAC_A, 6);
	CHECK_EQ_INT(tx.op, 0);
	/* Retries stopped: nothing due. */
	uint64_t when;
	CHECK(!net_arp_next_due(t, &when));
	CHECK_EQ_INT(net_arp_advance(t, 100 * SEC, &tx, 1), 0);

	/* After reachable_us: still a hit, plus a unicast probe. */
	uint64_t t1 = 400 + 30 * SEC;
	CHECK_EQ_INT(net_arp_resolve(t, PEER, t1, NULL, mac, &tx), 0);
	CHECK_EQ_INT(tx.op, NET_ARP_OP_REQUEST);
	CHECK_EQ_MEM(tx.eth_dst, 6, MAC_A, 6);
	CHECK_EQ_INT(net_arp_lookup(t, PEER, t1, &in), 0);
	CHECK_EQ_INT(in.state, NET_ARP_PROBE);
	CHECK_EQ_INT(net_arp_resolve(t, PEER, t1 + 1, NULL, mac, &tx), 0);
	CHECK_EQ_INT(tx.op, 0);
	/* A request from the peer does not confirm; the reply does. */
	CHECK_EQ_INT(net_arp_input(t, 2, PEER, MAC_A, ME, ME, t1 + 2, &a), 0);
	CHECK_EQ_INT(net_arp_lookup(t, PEER, t1 + 2, &in), 0);
	CHECK_EQ_INT(in.state, NET_ARP_REACHABLE);
	CHECK(!net_arp_next_due(t, &when));
	/* A MAC change by gratuitous ARP downgrades to STALE. */
	CHECK_EQ_INT(net_arp_input(t, 1, PEER, MAC_B, PEER, ME, t1 + 3, &a), 0);
	CHECK_EQ_INT(net_arp_lookup(t, PEER, t1 + 3, &in), 0);
	CHECK_EQ_INT(in.state, NET_ARP_STALE);
	CHECK_EQ_MEM(in.mac, 6, MAC_B, 6);
	CHECK_EQ_INT(n_freed, 0);
	net_arp_free(t);
}

static void test_retries_and_failure(void)
{
	struct net_arp_table *t = mk(16, 0);
	struct net_arp_tx tx[4];
	uint8_t mac[6];
	int p[3] = {10, 11, 12};
	uint64_t when;

	CHECK_EQ_INT(net_arp_resolve(t, GW, 0, &p[0], mac, &tx[0]), -EAGAIN);
	CHECK_EQ_INT(tx[0].op, 1);
	CHECK(net_arp_next_due(t, &when));
	CHECK_EQ_INT(when, SEC);
	/* table of (advance to, requests expected) */
	static const struct { uint64_t at; unsigned n; } steps[] = {
		{SEC / 2, 0}, {SEC, 1}, {SEC + 10, 0}, {2 * SEC - 1, 0},
		{2 * SEC, 1}, {3 * SEC - 1, 0},
	};
	for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
		CHECK_MSG(net_arp_advance(t, steps[i].at, tx, 4) == steps[i].n,
			  "step %zu", i);
	CHECK_EQ_INT(net_arp_resolve(t, GW, 2 * SEC + 5, &p[1], mac, &tx[0]),
		     -EAGAIN);
	CHECK_EQ_INT(n_freed, 0);
	/* Third request unanswered: FAILED at +3 s, packets freed. */
	CHECK_EQ_INT(net_arp_advance(t, 3 * SEC, tx, 4), 0);
	CHECK_EQ_INT(n_freed, 2);
	CHECK(freed[0] == 10 && freed[1] == 11);
	CHECK_EQ_INT(net_arp_queued(t), 0);
	struct net_arp_entry in;
	CHECK_EQ_INT(net_arp_lookup(t, GW, 3 * SEC, &in), 0);
	CHECK_EQ_INT(in.state, NET_ARP_FAILED);
	/* Hold-down: packets dropped at once, no request. */
	CHECK_EQ_INT(net_arp_resolve(t, GW, 4 * SEC, &p[2], mac, &tx[0]),
		     -EHOSTUNREACH);
	CHECK_EQ_INT(tx[0].op, 0);
	CHECK_EQ_INT(n_freed, 3);
	/* After it: a fresh resolution. */
	CHECK_EQ_INT(net_arp_resolve(t, GW, 6 * SEC, NULL, mac, &tx[0]),
		     -EAGAIN);
	CHECK_EQ_INT(tx[0].op, 1);
	struct net_arp_stats st;
	net_arp_get_stats(t, &st);
	CHECK_EQ_INT(st.failed, 1);
	CHECK_EQ_INT(st.requests, 4);
	CHECK_EQ_INT(st.queue_timeouts, 2);
	net_arp_free(t);
}

static void test_advance_batch_limit(void)
{
	/* 10 IPs due at once, out[] of 3: three per call, rest later. */
	struct net_arp_table *t = mk(16, 0);
	struct net_arp_tx tx[3];
	uint8_t mac[6];
	for (int i = 0; i < 10; i++)
		net_arp_resolve(t, IP(198, 18, 1, i + 1), 0, NULL, mac, tx);
	unsigned total = 0, calls = 0, n;
	while ((n = net_arp_advance(t, SEC, tx, 3)) > 0) {
		CHECK(n <= 3);
		total += n;
		calls++;
	}
	CHECK_EQ_INT(total, 10);
	CHECK_EQ_INT(calls, 4);
	net_arp_free(t);
}

static void test_queue_bounds(void)
{
	struct net_arp_table *t = mk(16, 6);
	struct net_arp_tx tx;
	struct net_arp_action a;
	uint8_t mac[6];
	int p[10] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};

	/* Six packets for one IP: the per-entry queue keeps the newest 4. */
	for (int i = 0; i < 6; i++)
		CHECK_EQ_INT(net_arp_resolve(t, PEER, 0, &p[i], mac, &tx),
			     -EAGAIN);
	CHECK_EQ_INT(net_arp_queued(t), 4);
	CHECK_EQ_INT(n_freed, 2);
	CHECK(freed[0] == 0 && freed[1] == 1);
	/* Global cap 6: two more fit for another IP, the third is dropped. */
	for (int i = 6; i < 9; i++)
		net_arp_resolve(t, GW, 0, &p[i], mac, &tx);
	CHECK_EQ_INT(net_arp_queued(t), 6);
	CHECK_EQ_INT(n_freed, 3);
	CHECK_EQ_INT(freed[2], 8);
	struct net_arp_stats st;
	net_arp_get_stats(t, &st);
	CHECK_EQ_INT(st.queue_drops, 3);
	/* Reply hands back the four, oldest first. */
	net_arp_input(t, 2, PEER, MAC_A, ME, ME, 10, &a);
	CHECK_EQ_INT(a.n_release, 4);
	for (unsigned i = 0; i < a.n_release; i++)
		CHECK_EQ_INT(*(int *)a.release[i], 2 + (int)i);
	CHECK_EQ_INT(net_arp_queued(t), 2);
	/* Freeing the table frees the rest. */
	net_arp_free(t);
	CHECK_EQ_INT(n_freed, 5);
}

static void test_flood_keeps_pinned_and_reachable(void)
{
	enum { CAP = 256 };
	struct net_arp_table *t = mk(CAP, 0);
	struct net_arp_tx tx;
	struct net_arp_action a;
	struct net_arp_entry in;
	uint8_t mac[6];
	uint64_t now = 0;

	CHECK_EQ_INT(net_arp_pin(t, GW), 0);
	/* A peer we talk to: resolved and in use. */
	net_arp_resolve(t, PEER, now, NULL, mac, &tx);
	net_arp_input(t, 2, PEER, MAC_A, ME, ME, now, &a);
	/* The pinned gateway is resolved too. */
	net_arp_resolve(t, GW, now, NULL, mac, &tx);
	net_arp_input(t, 2, GW, MAC_GW, ME, ME, now, &a);

	int replies = 0;
	for (int i = 0; i < 100000; i++) {
		uint32_t sip = IP(10, 0, 0, 0) | (rnd() & 0xffffff);
		uint8_t sha[6] = {0x02, 1, (uint8_t)rnd(), (uint8_t)rnd(),
				  (uint8_t)rnd(), (uint8_t)rnd()};
		now += 10;   /* 100,000 packets in one second */
		if (net_arp_input(t, 1, sip, sha, ME, ME, now, &a) == 0 &&
		    a.tx.op == NET_ARP_OP_REPLY)
			replies++;
		CHECK(net_arp_count(t) <= CAP);
		if (i % 1000 == 0) {
			CHECK_EQ_INT(net_arp_resolve(t, PEER, now, NULL, mac,
						     &tx), 0);
		}
	}
	CHECK_EQ_INT(replies, 100000);   /* every request still answered */
	CHECK_EQ_INT(net_arp_count(t), CAP);
	CHECK_EQ_INT(net_arp_lookup(t, GW, now, &in), 0);
	CHECK(in.pinned);
	CHECK_EQ_INT(in.state, NET_ARP_REACHABLE);
	CHECK_EQ_MEM(in.mac, 6, MAC_GW, 6);
	CHECK_EQ_INT(net_arp_lookup(t, PEER, now, &in), 0);
	CHECK_EQ_INT(in.state, NET_ARP_REACHABLE);
	struct net_arp_stats st;
	net_arp_get_stats(t, &st);
	CHECK(st.learned >= CAP - 2);
	/* 2 merges from the setup replies, the rest of the 100,000
	 * learned, skipped, or (a repeated random sender) merged. */
	CHECK_EQ_INT(st.learned + st.learn_skipped + st.updated, 100002);
	CHECK_EQ_INT(st.evicted, st.learned - (CAP - 2));

	/* Long after: the pinned gateway, even STALE and unused, survives a
	 * second flood; the peer (now STALE, unused) may go. */
	now += 3600 * SEC;
	for (int i = 0; i < 100000; i++) {
		uint32_t sip = IP(10, 0, 0, 0) | (rnd() & 0xffffff);
		uint8_t sha[6] = {0x02, 2, (uint8_t)rnd(), (uint8_t)rnd(),
				  (uint8_t)rnd(), (uint8_t)rnd()};
		now += 10;
		net_arp_input(t, 1, sip, sha, ME, ME, now, &a);
	}
	CHECK_EQ_INT(net_arp_count(t), CAP);
	CHECK_EQ_INT(net_arp_lookup(t, GW, now, &in), 0);
	CHECK_EQ_MEM(in.mac, 6, MAC_GW, 6);
	net_arp_free(t);
}

static void test_resolve_evicts_lru(void)
{
	/* Capacity 4: resolving a fifth IP evicts an unreferenced entry,
	 * freeing its queued packet; pinned entries are never chosen. */
	struct net_arp_table *t = mk(4, 0);
	struct net_arp_tx tx;
	uint8_t mac[6];
	int p[8] = {0, 1, 2, 3, 4, 5, 6, 7};

	CHECK_EQ_INT(net_arp_pin(t, GW), 0);
	for (int i = 0; i < 3; i++)
		net_arp_resolve(t, IP(198, 18, 2, i + 1), 0, &p[i], mac, &tx);
	CHECK_EQ_INT(net_arp_count(t), 4);
	CHECK_EQ_INT(net_arp_resolve(t, IP(198, 18, 2, 9), 1, &p[3], mac, &tx),
		     -EAGAIN);
	CHECK_EQ_INT(net_arp_count(t), 4);
	CHECK_EQ_INT(n_freed, 1);
	struct net_arp_entry in;
	CHECK_EQ_INT(net_arp_lookup(t, GW, 1, &in), 0);
	CHECK_EQ_INT(net_arp_queued(t), 3);
	/* All pinned: nothing can be evicted. */
	struct net_arp_table *u = mk(2, 0);
	CHECK_EQ_INT(net_arp_pin(u, GW), 0);
	CHECK_EQ_INT(net_arp_pin(u, PEER), 0);
	CHECK_EQ_INT(net_arp_pin(u, IP(198, 18, 0, 77)), -ENOSPC);
	CHECK_EQ_INT(net_arp_resolve(u, IP(198, 18, 0, 78), 0, &p[4], mac, &tx),
		     -ENOSPC);
	CHECK_EQ_INT(n_freed, 1);   /* mk() reset the count */
	CHECK_EQ_INT(net_arp_unpin(u, PEER), 0);
	CHECK_EQ_INT(net_arp_resolve(u, IP(198, 18, 0, 78), 0, NULL, mac, &tx),
		     -EAGAIN);
	CHECK_EQ_INT(net_arp_lookup(u, PEER, 0, &in), -ENOENT);
	CHECK_EQ_INT(net_arp_resolve(u, IP(127, 0, 0, 1), 0, NULL, mac, &tx),
		     -EINVAL);
	net_arp_free(u);
	net_arp_free(t);
}

static void test_index_churn(void)
{
	/* Many inserts and evictions through the backward-shift index:
	 * every entry the table reports must be findable. */
	struct net_arp_table *t = mk(64, 0);
	struct net_arp_tx tx;
	uint8_t mac[6];
	uint32_t ips[64];
	int bad = 0;
	for (int round = 0; round < 20000; round++) {
		uint32_t ip = IP(198, 18, 0, 0) | (rnd() & 0x1ff) | 1;
		int r = net_arp_resolve(t, ip, (uint64_t)round, NULL, mac, &tx);
		if (r != 0 && r != -EAGAIN)
			bad++;
		ips[round % 64] = ip;
		struct net_arp_entry in;
		if (net_arp_lookup(t, ip, (uint64_t)round, &in) != 0)
			bad++;
		if (net_arp_count(t) > 64)
			bad++;
	}
	(void)ips;
	CHECK_EQ_INT(bad, 0);
	net_arp_free(t);
}

int main(void)
{
	RUN(test_request_for_us);
	RUN(test_invalid_input);
	RUN(test_resolve_and_reply);
	RUN(test_retries_and_failure);
	RUN(test_advance_batch_limit);
	RUN(test_queue_bounds);
	RUN(test_flood_keeps_pinned_and_reachable);
	RUN(test_resolve_evicts_lru);
	RUN(test_index_churn);
	return CHECK_DONE();
}
