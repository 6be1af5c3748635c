/*
 * tcpstack/pkt.h - the packet buffer the protocol core works on, and the
 * operations table its owner supplies (dataplane/ backs it with rte_mbuf,
 * tests with plain memory). No DPDK types here.
 *
 * A struct net_pkt is one contiguous frame: data[0..len) is the current
 * content, headroom writable bytes precede data (for prepending headers),
 * tailroom writable bytes follow data + len. priv is the owner's handle
 * (e.g. the rte_mbuf); the core never touches it.
 *
 * Ownership: a packet has exactly one owner at a time. Whoever holds it
 * either passes it on (tx, a hook that "takes" it, a queue) or frees it
 * with ops->free. Functions that take a packet say so and consume it on
 * every return, success or error.
 *
 * struct net_pkt_ops (env is the owner's context, passed back verbatim):
 *   alloc  an empty packet (len 0) with headroom >= NET_PKT_HEADROOM and
 *          headroom + tailroom >= NET_PKT_HEADROOM + 14 + the MTU, or NULL
 *          when the pool is empty. Called on the fast path: no malloc.
 *   free   return p to its pool.
 *   tx     queue p for transmission; always takes p. Returns 0, or
 *          -ENOBUFS after freeing p itself (ring full, link down).
 * None of them is called concurrently for one env (one net lcore each).
 */
#ifndef SLUICE_TCPSTACK_PKT_H
#define SLUICE_TCPSTACK_PKT_H

#include <stddef.h>
#include <stdint.h>

#define NET_PKT_HEADROOM 128

struct net_pkt {
	uint8_t *data;      /* current start */
	uint32_t len;       /* bytes at data */
	uint32_t headroom;  /* writable bytes before data */
	uint32_t tailroom;  /* writable bytes after data + len */
	void *priv;         /* the owner's handle */
	struct net_pkt *next;  /* holder's queue link */
	uint32_t seq;          /* holder's use (TCP: sequence number) */
};

struct net_pkt_ops {
	struct net_pkt *(*alloc)(void *env);
	void (*free)(void *env, struct net_pkt *p);
	int (*tx)(void *env, struct net_pkt *p);
};

/* Grow the front by n bytes (into the headroom): the new data pointer, or
 * NULL (p unchanged) when the headroom is short. */
static inline uint8_t *net_pkt_prepend(struct net_pkt *p, uint32_t n)
{
	if (n > p->headroom)
		return NULL;
	p->data -= n;
	p->headroom -= n;
	p->len += n;
	return p->data;
}

/* Drop n bytes from the front: the new data pointer, or NULL (p
 * unchanged) when len < n. */
static inline uint8_t *net_pkt_adj(struct net_pkt *p, uint32_t n)
{
	if (n > p->len)
		return NULL;
	p->data += n;
	p->headroom += n;
	p->len -= n;
	return p->data;
}

/* Grow the end by n bytes (into the tailroom): a pointer to the n new
 * bytes, or NULL (p unchanged) when the tailroom is short. */
static inline uint8_t *net_pkt_append(struct net_pkt *p, uint32_t n)
{
	if (n > p->tailroom)
		return NULL;
	uint8_t *t = p->data + p->len;
	p->tailroom -= n;
	p->len += n;
	return t;
}

/* Cut the length to len (e.g. Ethernet padding): 0, or -1 (p unchanged)
 * when len is longer than p->len. */
static inline int net_pkt_trim(struct net_pkt *p, uint32_t len)
{
	if (len > p->len)
		return -1;
	p->tailroom += p->len - len;
	p->len = len;
	return 0;
}

#endif
