/*
 * tcpstack/arp.c - ARP table: entries in a fixed array (stable
 * addresses), an open-addressing index of entry numbers (linear probing,
 * backward-shift deletion, at most half full, keyed hash), a FIFO of
 * entries waiting for a retry (sorted by last request time, since every
 * request appends), a CLOCK hand for eviction, and a free list.
 */
#include "tcpstack/arp.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define EVICT_SCAN 64
#define MAX_CAPACITY (1u << 24)

enum { FL_PINNED = 1, FL_REF = 2, FL_DUE = 4 };

struct entry {
	uint32_t ip;
	uint8_t mac[6];
	uint8_t state;
	uint8_t flags;
	uint8_t tries;
	uint8_t qn, qhead;
	uint64_t t_state;         /* REACHABLE: valid until; FAILED: hold until */
	uint64_t t_tx;            /* last request (INCOMPLETE, PROBE) */
	struct entry *prev, *next;  /* due list; next = free list link */
	void *q[NET_ARP_QLEN];
};

struct net_arp_table {
	struct net_arp_config cfg;
	struct entry *ent;
	uint32_t cap, n, hand, queued;
	uint32_t *idx;            /* entry number + 1; 0 = empty */
	uint32_t mask;
	struct entry *free;
	struct entry due;         /* sentinel of the retry FIFO */
	struct net_arp_stats st;
};

static const uint8_t BCAST[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

static bool bad_ip(uint32_t ip)
{
	return (ip >> 24) == 127 || ip >= 0xe0000000u;
}

static uint32_t hash_ip(const struct net_arp_table *t, uint32_t ip)
{
	uint32_t x = ip ^ (uint32_t)t->cfg.seed;
	x ^= x >> 16;
	x *= 0x85ebca6bu;
	x ^= x >> 13;
	x += (uint32_t)(t->cfg.seed >> 32);
	x *= 0xc2b2ae35u;
	x ^= x >> 16;
	return x & t->mask;
}

/* Index position of ip, or -1. */
static int64_t find_pos(const struct net_arp_table *t, uint32_t ip)
{
	for (uint32_t i = hash_ip(t, ip);; i = (i + 1) & t->mask) {
		uint32_t v = t->idx[i];
		if (v == 0)
			return -1;
		if (t->ent[v - 1].ip == ip)
			return i;
	}
}

static struct entry *find(const struct net_arp_table *t, uint32_t ip)
{
	int64_t p = find_pos(t, ip);
	return p < 0 ? NULL : &t->ent[t->idx[p] - 1];
}

static void index_insert(struct net_arp_table *t, struct entry *e)
{
	uint32_t i = hash_ip(t, e->ip);
	while (t->idx[i] != 0)
		i = (i + 1) & t->mask;
	t->idx[i] = (uint32_t)(e - t->ent) + 1;
}

static void index_delete(struct net_arp_table *t, uint32_t i)
{
	uint32_t j = i;

	t->idx[i] = 0;
	for (;;) {
		j = (j + 1) & t->mask;
		if (t->idx[j] == 0)
			return;
		uint32_t k = hash_ip(t, t->ent[t->idx[j] - 1].ip);
		/* Stays if its home k lies cyclically in (i, j]. */
		if (((j - k) & t->mask) < ((j - i) & t->mask))
			continue;
		t->idx[i] = t->idx[j];
		t->idx[j] = 0;
		i = j;
	}
}

static void due_remove(struct entry *e)
{
	if (!(e->flags & FL_DUE))
		return;
	e->prev->next = e->next;
	e->next->prev = e->prev;
	e->flags &= (uint8_t)~FL_DUE;
}

static void due_append(struct net_arp_table *t, struct entry *e)
{
	due_remove(e);
	e->prev = t->due.prev;
	e->next = &t->due;
	t->due.prev->next = e;
	t->due.prev = e;
	e->flags |= FL_DUE;
}

static void drop_pkt(struct net_arp_table *t, void *pkt)
{
	if (pkt != NULL && t->cfg.free_pkt != NULL)
		t->cfg.free_pkt(t->cfg.free_arg, pkt);
}

static void *q_pop(struct net_arp_table *t, struct entry *e)
{
	void *p = e->q[e->qhead];
	e->q[e->qhead] = NULL;
	e->qhead = (uint8_t)((e->qhead + 1) % NET_ARP_QLEN);
	e->qn--;
	t->queued--;
	return p;
}

static void q_flush(struct net_arp_table *t, struct entry *e)
{
	while (e->qn > 0) {
		drop_pkt(t, q_pop(t, e));
		t->st.queue_timeouts++;
	}
	e->qhead = 0;
}

static void q_push(struct net_arp_table *t, struct entry *e, void *pkt)
{
	if (pkt == NULL)
		return;
	if (e->qn == NET_ARP_QLEN) {
		drop_pkt(t, q_pop(t, e));
		t->st.queue_drops++;
	} else if (t->queued >= t->cfg.max_queued) {
		drop_pkt(t, pkt);
		t->st.queue_drops++;
		return;
	}
	e->q[(e->qhead + e->qn) % NET_ARP_QLEN] = pkt;
	e->qn++;
	t->queued++;
}

/* The state as of now; a timed-out REACHABLE entry becomes STALE. */
static unsigned cur_state(struct entry *e, uint64_t now)
{
	if (e->state == NET_ARP_REACHABLE && (int64_t)(now - e->t_state) >= 0)
		e->state = NET_ARP_STALE;
	return e->state;
}

static void remove_entry(struct net_arp_table *t, struct entry *e)
{
	int64_t p = find_pos(t, e->ip);

	assert(p >= 0);
	q_flush(t, e);
	due_remove(e);
	index_delete(t, (uint32_t)p);
	e->state = NET_ARP_NONE;
	e->flags = 0;
	e->next = t->free;
	t->free = e;
	t->n--;
}

enum evict_mode { FOR_INPUT, FOR_RESOLVE };

static struct entry *find_victim(struct net_arp_table *t, uint64_t now,
				 enum evict_mode mode)
{
	struct entry *fallback = NULL;

	for (unsigned scanned = 0; scanned < EVICT_SCAN && scanned < 2 * t->cap;
	     scanned++) {
		struct entry *e = &t->ent[t->hand];
		t->hand = t->hand + 1 == t->cap ? 0 : t->hand + 1;
		if (e->flags & FL_PINNED)
			continue;
		if (fallback == NULL)
			fallback = e;
		unsigned s = cur_state(e, now);
		if (s == NET_ARP_FAILED || s == NET_ARP_NONE)
			return e;
		if (mode == FOR_INPUT) {
			if (s == NET_ARP_STALE && !(e->flags & FL_REF))
				return e;
			continue;
		}
		if (e->flags & FL_REF) {
			e->flags &= (uint8_t)~FL_REF;
			continue;
		}
		return e;
	}
	/* Our own traffic always makes progress: with every scanned entry
	 * recently used, the first unpinned one goes. */
	return mode == FOR_RESOLVE ? fallback : NULL;
}

static struct entry *new_entry(struct net_arp_table *t, uint32_t ip,
			       uint64_t now, enum evict_mode mode)
{
	if (t->free == NULL) {
		struct entry *v = find_victim(t, now, mode);
		if (v == NULL)
			return NULL;
		remove_entry(t, v);
		t->st.evicted++;
	}
	struct entry *e = t->free;
	t->free = e->next;
	memset(e, 0, sizeof *e);
	e->ip = ip;
	e->state = NET_ARP_NONE;
	index_insert(t, e);
	t->n++;
	assert(t->n <= t->cap);
	return e;
}

struct net_arp_table *net_arp_create(const struct net_arp_config *cfg)
{
	if (cfg == NULL || cfg->capacity == 0 || cfg->capacity > MAX_CAPACITY)
		return NULL;
	struct net_arp_table *t = calloc(1, sizeof *t);
	if (t == NULL)
		goto fail;
	t->cfg = *cfg;
	if (t->cfg.max_queued == 0)
		t->cfg.max_queued = NET_ARP_QLEN * cfg->capacity;
	if (t->cfg.reachable_us == 0)
		t->cfg.reachable_us = 30000000;
	if (t->cfg.retry_us == 0)
		t->cfg.retry_us = 1000000;
	if (t->cfg.max_tries == 0)
		t->cfg.max_tries = 3;
	if (t->cfg.max_tries > 255)
		t->cfg.max_tries = 255;
	if (t->cfg.failed_hold_us == 0)
		t->cfg.failed_hold_us = 3000000;
	t->cap = cfg->capacity;
	uint32_t slots = 2;
	while (slots < 2 * t->cap)
		slots <<= 1;
	t->mask = slots - 1;
	t->ent = calloc(t->cap, sizeof *t->ent);
	t->idx = calloc(slots, sizeof *t->idx);
	if (t->ent == NULL || t->idx == NULL)
		goto fail;
	for (uint32_t i = t->cap; i-- > 0;) {
		t->ent[i].next = t->free;
		t->free = &t->ent[i];
	}
	t->due.next = t->due.prev = &t->due;
	return t;
fail:
	net_arp_free(t);
	return NULL;
}

void net_arp_free(struct net_arp_table *t)
{
	if (t == NULL)
		return;
	if (t->ent != NULL && t->idx != NULL) {
		for (uint32_t i = 0; i <= t->mask; i++)
			if (t->idx[i] != 0)
				q_flush(t, &t->ent[t->idx[i] - 1]);
	}
	free(t->ent);
	free(t->idx);
	free(t);
}

static void set_request(struct net_arp_table *t, struct net_arp_tx *tx,
			const struct entry *e)
{
	tx->op = NET_ARP_OP_REQUEST;
	memcpy(tx->eth_dst, e->state == NET_ARP_PROBE ? e->mac : BCAST, 6);
	memset(tx->tha, 0, 6);
	tx->tpa = e->ip;
	t->st.requests++;
}

static bool mac_ok(const uint8_t *m)
{
	static const uint8_t zero[6];
	return !(m[0] & 1) && memcmp(m, zero, 6) != 0;
}

int net_arp_input(struct net_arp_table *t, uint16_t op, uint32_t sip,
		  const uint8_t sha[6], uint32_t tip, uint32_t my_ip,
		  uint64_t now, struct net_arp_action *out)
{
	memset(out, 0, sizeof *out);
	if ((op != NET_ARP_OP_REQUEST && op != NET_ARP_OP_REPLY) ||
	    !mac_ok(sha) || bad_ip(tip) || (sip != 0 && bad_ip(sip))) {
		t->st.ignored++;
		return -EINVAL;
	}
	bool for_us = my_ip != 0 && tip == my_ip;
	bool reply = for_us && op == NET_ARP_OP_REQUEST;

	if (sip == 0)
		goto answer;
	if (sip == my_ip) {
		t->st.conflicts++;
		return -EADDRINUSE;
	}
	struct entry *e = find(t, sip);
	if (e != NULL) {
		unsigned s = cur_state(e, now);
		bool known = s == NET_ARP_REACHABLE || s == NET_ARP_STALE ||
			     s == NET_ARP_PROBE;
		bool same = known && memcmp(e->mac, sha, 6) == 0;
		if (op == NET_ARP_OP_REPLY && for_us) {
			e->state = NET_ARP_REACHABLE;
			e->t_state = now + t->cfg.reachable_us;
		} else if (!(s == NET_ARP_REACHABLE && same)) {
			e->state = NET_ARP_STALE;
		}
		memcpy(e->mac, sha, 6);
		e->tries = 0;
		due_remove(e);
		if (s == NET_ARP_INCOMPLETE) {
			memcpy(out->mac, sha, 6);
			while (e->qn > 0)
				out->release[out->n_release++] = q_pop(t, e);
			e->qhead = 0;
		}
		t->st.updated++;
	} else if (reply) {
		e = new_entry(t, sip, now, FOR_INPUT);
		if (e != NULL) {
			e->state = NET_ARP_STALE;
			memcpy(e->mac, sha, 6);
			t->st.learned++;
		} else {
			t->st.learn_skipped++;
		}
	}
answer:
	if (reply) {
		out->tx.op = NET_ARP_OP_REPLY;
		memcpy(out->tx.eth_dst, sha, 6);
		memcpy(out->tx.tha, sha, 6);
		out->tx.tpa = sip;
		t->st.replies++;
	}
	return 0;
}

int net_arp_resolve(struct net_arp_table *t, uint32_t ip, uint64_t now,
		    void *pkt, uint8_t mac[6], struct net_arp_tx *tx)
{
	memset(tx, 0, sizeof *tx);
	if (ip == 0 || bad_ip(ip)) {
		drop_pkt(t, pkt);
		return -EINVAL;
	}
	struct entry *e = find(t, ip);
	if (e == NULL) {
		e = new_entry(t, ip, now, FOR_RESOLVE);
		if (e == NULL) {
			t->st.no_room++;
			drop_pkt(t, pkt);
			return -ENOSPC;
		}
	}
	e->flags |= FL_REF;
	switch (cur_state(e, now)) {
	case NET_ARP_STALE:
		e->state = NET_ARP_PROBE;
		e->tries = 1;
		e->t_tx = now;
		due_append(t, e);
		set_request(t, tx, e);
		/* fall through */
	case NET_ARP_REACHABLE:
	case NET_ARP_PROBE:
		memcpy(mac, e->mac, 6);
		return 0;
	case NET_ARP_FAILED:
		if ((int64_t)(now - e->t_state) < 0) {
			drop_pkt(t, pkt);
			return -EHOSTUNREACH;
		}
		/* fall through */
	case NET_ARP_NONE:
		e->state = NET_ARP_INCOMPLETE;
		e->tries = 1;
		e->t_tx = now;
		due_append(t, e);
		set_request(t, tx, e);
		/* fall through */
	default: /* NET_ARP_INCOMPLETE */
		q_push(t, e, pkt);
		return -EAGAIN;
	}
}

unsigned net_arp_advance(struct net_arp_table *t, uint64_t now,
			 struct net_arp_tx *tx, unsigned max)
{
	unsigned n = 0;

	while (t->due.next != &t->due) {
		struct entry *e = t->due.next;
		if ((int64_t)(now - e->t_tx) < (int64_t)t->cfg.retry_us)
			break;
		if (e->tries >= t->cfg.max_tries) {
			due_remove(e);
			q_flush(t, e);
			e->state = NET_ARP_FAILED;
			e->t_state = now + t->cfg.failed_hold_us;
			t->st.failed++;
			continue;
		}
		if (n == max)
			break;
		e->tries++;
		e->t_tx = now;
		due_append(t, e);
		set_request(t, &tx[n++], e);
	}
	return n;
}

bool net_arp_next_due(const struct net_arp_table *t, uint64_t *when)
{
	if (t->due.next == &t->due)
		return false;
	*when = t->due.next->t_tx + t->cfg.retry_us;
	return true;
}

int net_arp_pin(struct net_arp_table *t, uint32_t ip)
{
	if (ip == 0 || bad_ip(ip))
		return -EINVAL;
	struct entry *e = find(t, ip);
	if (e == NULL) {
		/* No clock here: REACHABLE entries read as of time 0. */
		e = new_entry(t, ip, 0, FOR_RESOLVE);
		if (e == NULL)
			return -ENOSPC;
	}
	e->flags |= FL_PINNED;
	return 0;
}

int net_arp_unpin(struct net_arp_table *t, uint32_t ip)
{
	struct entry *e = find(t, ip);
	if (e == NULL)
		return -ENOENT;
	e->flags &= (uint8_t)~FL_PINNED;
	return 0;
}

int net_arp_lookup(const struct net_arp_table *t, uint32_t ip, uint64_t now,
		   struct net_arp_entry *info)
{
	const struct entry *e = find(t, ip);
	if (e == NULL)
		return -ENOENT;
	memset(info, 0, sizeof *info);
	info->state = (enum net_arp_state)e->state;
	if (e->state == NET_ARP_REACHABLE && (int64_t)(now - e->t_state) >= 0)
		info->state = NET_ARP_STALE;
	if (info->state == NET_ARP_REACHABLE || info->state == NET_ARP_STALE ||
	    info->state == NET_ARP_PROBE)
		memcpy(info->mac, e->mac, 6);
	info->queued = e->qn;
	info->pinned = (e->flags & FL_PINNED) != 0;
	return 0;
}

uint32_t net_arp_count(const struct net_arp_table *t)
{
	return t->n;
}

uint32_t net_arp_capacity(const struct net_arp_table *t)
{
	return t->cap;
}

uint32_t net_arp_queued(const struct net_arp_table *t)
{
	return t->queued;
}

void net_arp_get_stats(const struct net_arp_table *t, struct net_arp_stats *st)
{
	*st = t->st;
}
