/*
 * dataplane/dp_steer.h - which net lcore owns a received frame.
 *
 * Ports without RSS (TAP, memif) deliver a flow's packets to whatever
 * queue, so each lcore classifies what it receives and passes foreign
 * packets to their owner. A TCP segment belongs to the lcore chosen by a
 * keyed, symmetric hash of its 4-tuple (both directions hash alike, a
 * remote party cannot aim flows at one lcore without the key); an ICMP
 * error quoting a TCP segment belongs to the owner of the quoted flow (so
 * path-MTU news reaches the connection); ARP goes to every lcore (each
 * has its own ARP table); everything else (ICMP echo, fragments, junk)
 * is handled where it arrived: net_input() answers or counts it.
 *
 * The classifier reads only what it needs and trusts nothing: a frame too
 * short or malformed for it is LOCAL, and net_input() counts the drop.
 * Pure functions of their arguments and the key: thread-safe.
 */
#ifndef SLUICE_DATAPLANE_DP_STEER_H
#define SLUICE_DATAPLANE_DP_STEER_H

#include <stddef.h>
#include <stdint.h>

#include "tcpstack/isn.h"

struct dp_steer {
	struct tcp_isn_key key;  /* random at start */
	unsigned n;              /* net lcores, >= 1 */
};

enum dp_steer_kind {
	DP_STEER_LOCAL,  /* handle on the receiving lcore */
	DP_STEER_FLOW,   /* *owner handles it */
	DP_STEER_ALL,    /* every lcore gets a copy (ARP) */
};

/* Owner of the flow between (a_ip, a_port) and (b_ip, b_port), in
 * [0, s->n); the same for both orders of the endpoints. */
unsigned dp_steer_owner(const struct dp_steer *s, uint32_t a_ip,
			uint16_t a_port, uint32_t b_ip, uint16_t b_port);

/* Classify the Ethernet frame f[0..len); *owner is set for FLOW. */
enum dp_steer_kind dp_steer_classify(const struct dp_steer *s,
				     const uint8_t *f, size_t len,
				     unsigned *owner);

#endif
