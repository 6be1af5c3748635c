/*
 * tests/fuzz/fuzz_arp.c - tcpstack/arp.c driven by a byte stream read as
 * operations (input, resolve, advance, pin/unpin, time jumps) on a small
 * table. Checked after every step: capacity, per-entry and global queue
 * bounds, and that every packet handed to the table is either still
 * queued or was freed exactly once (live count == net_arp_queued). At
 * the end net_arp_free() must free the rest.
 */
#include "tcpstack/arp.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CAP 8
#define MAXQ 12
#define ME 0xc6120001u

static long live;

static void free_pkt(void *arg, void *pkt)
{
	(void)arg;
	free(pkt);
	live--;
}

static void *new_pkt(void)
{
	void *p = malloc(1);
	if (p == NULL)
		abort();
	live++;
	return p;
}

/* Small address space so entries collide, plus the invalid ones. */
static uint32_t ip_of(uint8_t b)
{
	switch (b) {
	case 0xff: return 0;
	case 0xfe: return ME;
	case 0xfd: return 0xe0000001u;
	case 0xfc: return 0x7f000001u;
	case 0xfb: return 0xffffffffu;
	default: return 0xc6120000u | (b & 0x1f);
	}
}

static void mac_of(uint8_t b, uint8_t mac[6])
{
	static const uint8_t base[6] = {0x02, 0, 0, 0, 0, 0};
	memcpy(mac, base, 6);
	if (b == 0xff)
		memset(mac, 0xff, 6);
	else if (b == 0xfe)
		memset(mac, 0, 6);
	else
		mac[5] = b & 7;
}

static void check(const struct net_arp_table *t, const uint32_t *ips,
		  uint64_t now)
{
	if (net_arp_count(t) > CAP || net_arp_queued(t) > MAXQ ||
	    live != (long)net_arp_queued(t))
		abort();
	for (unsigned i = 0; i < 32; i++) {
		struct net_arp_entry in;
		if (net_arp_lookup(t, ips[i], now, &in) == 0 &&
		    (in.queued > NET_ARP_QLEN ||
		     (in.queued > 0 && in.state != NET_ARP_INCOMPLETE)))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct net_arp_config cfg = {
		.capacity = CAP, .max_queued = MAXQ, .seed = 42,
		.free_pkt = free_pkt,
	};
	struct net_arp_table *t = net_arp_create(&cfg);
	if (t == NULL)
		abort();
	uint32_t ips[32];
	for (unsigned i = 0; i < 32; i++)
		ips[i] = 0xc6120000u | i;
	uint64_t now = 1000;
	size_t i = 0;

	live = 0;
	while (i + 4 <= size) {
		uint8_t op = data[i], a = data[i + 1], b = data[i + 2],
			c = data[i + 3];
		i += 4;
		switch (op % 6) {
		case 0: {       /* input */
			struct net_arp_action act;
			uint8_t mac[6];
			mac_of(b, mac);
			int r = net_arp_input(t, (uint16_t)(op >> 4) % 4,
					      ip_of(a), mac, ip_of(c),
					      op & 8 ? ME : 0, now, &act);
			if (r != 0 && r != -EINVAL && r != -EADDRINUSE)
				abort();
			if (act.n_release > NET_ARP_QLEN)
				abort();
			for (unsigned k = 0; k < act.n_release; k++)
				free_pkt(NULL, act.release[k]);
			break;
		}
		case 1: {       /* resolve, with or without a packet */
			uint8_t mac[6];
			struct net_arp_tx tx;
			void *p = b & 1 ? new_pkt() : NULL;
			int r = net_arp_resolve(t, ip_of(a), now, p, mac, &tx);
			if (r == 0) {
				if (p != NULL)
					free_pkt(NULL, p);   /* "sent" */
			} else if (r != -EAGAIN && r != -EHOSTUNREACH &&
				   r != -ENOSPC && r != -EINVAL) {
				abort();
			}
			break;
		}
		case 2: {       /* advance a little */
			struct net_arp_tx tx[4];
			now += (uint64_t)a * 10000 + b;
			unsigned n = net_arp_advance(t, now, tx, (c % 4) + 1);
			if (n > (unsigned)(c % 4) + 1)
				abort();
			for (unsigned k = 0; k < n; k++)
				if (tx[k].op != NET_ARP_OP_REQUEST)
					abort();
			break;
		}
		case 3:         /* pin / unpin */
			if (b & 1)
				net_arp_pin(t, ip_of(a));
			else
				net_arp_unpin(t, ip_of(a));
			break;
		case 4:         /* jump: seconds to hours */
			now += (uint64_t)a * 1000000u * (b % 4 == 0 ? 60 : 1);
			break;
		default: {      /* next_due must not be in the past of work */
			uint64_t when;
			struct net_arp_tx tx[1];
			if (net_arp_next_due(t, &when) && when > now &&
			    net_arp_advance(t, now, tx, 1) != 0)
				abort();
			break;
		}
		}
		check(t, ips, now);
	}
	net_arp_free(t);
	if (live != 0)
		abort();
	return 0;
}
