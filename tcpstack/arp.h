/*
 * tcpstack/arp.h - the ARP table (RFC 826) of one net lcore: IPv4 -> MAC,
 * resolution with retries, and the packets waiting for it.
 *
 * The table decides; the caller builds and sends frames. Input takes the
 * already parsed fields of a received ARP packet (Ethernet/IPv4 only);
 * every "send this" comes back as a struct net_arp_tx. Not thread-safe:
 * one table per lcore. net_arp_create() allocates; nothing else does.
 * Times are a monotonic clock in microseconds; addresses are host order.
 *
 * Entry states: INCOMPLETE (request sent, packets may wait), REACHABLE
 * (confirmed by a reply to us, for reachable_us), STALE (MAC known but
 * unconfirmed: learned from a request, changed, or REACHABLE timed out;
 * still used), PROBE (STALE and in use: unicast requests re-confirm it),
 * FAILED (no answer after max_tries; packets to it are dropped for
 * failed_hold_us, then the next use starts over), NONE (pinned, never
 * resolved).
 *
 * Input rules (RFC 826 merge, then restrictions):
 * - op other than request/reply, sender MAC multicast/broadcast/zero,
 *   sender or target IP in 127/8 or 224/3 (multicast, class E,
 *   broadcast): ignored, -EINVAL.
 * - sender IP 0 (RFC 5227 probe): never learned; a request whose target
 *   is my_ip gets a reply (we defend our address), target IP 0.
 * - sender IP == my_ip: address conflict, counted, nothing learned,
 *   -EADDRINUSE (the caller may log it, rate-limited).
 * - an existing entry for the sender is updated (RFC 826 "merge"): to
 *   REACHABLE if the packet is a reply addressed to my_ip, else STALE
 *   (a REACHABLE entry whose MAC did not change stays REACHABLE). This is
 *   also how gratuitous ARP (sender == target) acts: it updates existing
 *   entries only. An INCOMPLETE entry hands its waiting packets back.
 * - no entry and a request for my_ip: a STALE entry is added if room can
 *   be made (see eviction), and a reply is asked for. Unsolicited replies
 *   add nothing (as Linux with arp_accept=0).
 * - my_ip 0 means "no address": merge only, never reply or add.
 *
 * Eviction (the table never grows past capacity): a CLOCK hand over the
 * entries looks at most 64 entries per insertion. Pinned entries (the
 * configured next hops) are never evicted. An insertion caused by ARP
 * input (anyone on the wire) may evict only FAILED/NONE entries and STALE
 * entries not used since they were learned or last swept; it never
 * displaces REACHABLE, INCOMPLETE or PROBE entries, so a flood of forged
 * senders cannot push out the routes we are using; if no victim is found
 * the sender is simply not learned (the reply is still sent). An insertion
 * for our own traffic (net_arp_resolve) evicts any unpinned entry not
 * used since the hand last passed (second chance), or failing that within
 * the 64 looked at, the first unpinned one; its packets are freed.
 *
 * Waiting packets: opaque pointers, at most NET_ARP_QLEN per entry and
 * max_queued in the whole table. A full entry queue drops its oldest
 * packet; a full table drops the new one. Dropped, timed-out and evicted
 * packets go to the free_pkt callback; each is counted in the stats.
 */
#ifndef SLUICE_TCPSTACK_ARP_H
#define SLUICE_TCPSTACK_ARP_H

#include <stdbool.h>
#include <stdint.h>

#define NET_ARP_QLEN 4
#define NET_ARP_OP_REQUEST 1
#define NET_ARP_OP_REPLY 2

enum net_arp_state {
	NET_ARP_NONE,
	NET_ARP_INCOMPLETE,
	NET_ARP_REACHABLE,
	NET_ARP_STALE,
	NET_ARP_PROBE,
	NET_ARP_FAILED,
};

struct net_arp_table;

/* Frees one waiting packet the table drops (takes ownership of pkt). */
typedef void net_arp_free_fn(void *arg, void *pkt);

/* Zero fields take the default shown. */
struct net_arp_config {
	uint32_t capacity;        /* entries; required, >= 1 */
	uint32_t max_queued;      /* waiting packets in all; 4 * capacity */
	uint64_t reachable_us;    /* 30 s */
	uint64_t retry_us;        /* 1 s: at most one request per IP per retry */
	uint32_t max_tries;       /* 3 requests, then FAILED */
	uint64_t failed_hold_us;  /* 3 s */
	uint64_t seed;            /* hash key; pass random bytes */
	net_arp_free_fn *free_pkt;  /* required if packets are queued */
	void *free_arg;
};

/* An ARP packet to send. op 0: nothing to send. The caller fills the
 * sender fields (its own MAC and IP). Requests carry tha zero. */
struct net_arp_tx {
	uint16_t op;
	uint8_t eth_dst[6];       /* broadcast, or the peer for unicast */
	uint8_t tha[6];
	uint32_t tpa;
};

/* What net_arp_input() asks of the caller. */
struct net_arp_action {
	struct net_arp_tx tx;
	/* Packets that were waiting for the sender's MAC: now owned by the
	 * caller again, oldest first, to be sent to mac. */
	unsigned n_release;
	uint8_t mac[6];
	void *release[NET_ARP_QLEN];
};

struct net_arp_entry {
	enum net_arp_state state;
	uint8_t mac[6];           /* valid in REACHABLE, STALE, PROBE */
	unsigned queued;
	bool pinned;
};

struct net_arp_stats {
	uint64_t learned;         /* entries added from input */
	uint64_t updated;         /* merges into existing entries */
	uint64_t learn_skipped;   /* no room to learn a sender */
	uint64_t no_room;         /* resolve found no entry to use */
	uint64_t evicted;
	uint64_t requests;        /* requests asked for */
	uint64_t replies;         /* replies asked for */
	uint64_t failed;          /* resolutions given up */
	uint64_t queue_drops;     /* packets dropped by the queue bounds */
	uint64_t queue_timeouts;  /* packets freed by failure or eviction */
	uint64_t ignored;         /* invalid input */
	uint64_t conflicts;       /* input claiming my_ip */
};

/* NULL on bad config (capacity 0 or above 2^24) or out of memory. */
struct net_arp_table *net_arp_create(const struct net_arp_config *cfg);

/* Frees the table and, through free_pkt, every waiting packet. NULL ok. */
void net_arp_free(struct net_arp_table *t);

/*
 * Process one received ARP packet (see the rules above); *out is always
 * filled (tx.op 0 and n_release 0 when there is nothing to do). Returns 0,
 * -EINVAL (ignored as invalid) or -EADDRINUSE (sender claims my_ip).
 */
int net_arp_input(struct net_arp_table *t, uint16_t op, uint32_t sender_ip,
		  const uint8_t sender_mac[6], uint32_t target_ip,
		  uint32_t my_ip, uint64_t now, struct net_arp_action *out);

/*
 * Where to send a packet for next hop ip. *tx is always filled (op 0 or a
 * request to send). pkt may be NULL.
 *   0             hit: mac filled; pkt is still the caller's to send.
 *   -EAGAIN       resolving: pkt taken (queued, or dropped and freed).
 *   -EHOSTUNREACH ip failed to resolve recently: pkt freed.
 *   -ENOSPC       no entry could be made: pkt freed.
 *   -EINVAL       ip is 0, loopback, multicast or broadcast: pkt freed.
 * On every return but 0 the caller no longer owns pkt.
 */
int net_arp_resolve(struct net_arp_table *t, uint32_t ip, uint64_t now,
		    void *pkt, uint8_t mac[6], struct net_arp_tx *tx);

/*
 * Retries and give-ups due at now: fills up to max requests into tx[]
 * and returns their number; marks entries FAILED after max_tries and
 * frees their packets. O(1) when nothing is due; call every loop turn
 * (or when net_arp_next_due() says).
 */
unsigned net_arp_advance(struct net_arp_table *t, uint64_t now,
			 struct net_arp_tx *tx, unsigned max);

/* Earliest time net_arp_advance() has work; false if none pending. */
bool net_arp_next_due(const struct net_arp_table *t, uint64_t *when);

/* Pin ip (a configured next hop): creates an entry if needed (may
 * evict). 0, -ENOSPC, or -EINVAL for an address resolve would refuse. */
int net_arp_pin(struct net_arp_table *t, uint32_t ip);
/* 0, or -ENOENT if ip has no entry. */
int net_arp_unpin(struct net_arp_table *t, uint32_t ip);

/* Read-only look at one entry (no state change): 0 or -ENOENT. The
 * state is as of now (REACHABLE past its time reads as STALE). */
int net_arp_lookup(const struct net_arp_table *t, uint32_t ip, uint64_t now,
		   struct net_arp_entry *info);

uint32_t net_arp_count(const struct net_arp_table *t);
uint32_t net_arp_capacity(const struct net_arp_table *t);
uint32_t net_arp_queued(const struct net_arp_table *t);
void net_arp_get_stats(const struct net_arp_table *t, struct net_arp_stats *st);

#endif
