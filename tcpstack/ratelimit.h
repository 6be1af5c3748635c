/*
 * tcpstack/ratelimit.h - a token bucket for ICMP and RST generation.
 *
 * rate tokens per second are added, up to burst. Integer math only: the
 * fraction of a token earned between calls is carried in `credit`
 * (token-microseconds), so no rounding is lost however often it is asked
 * (N s of time always earn exactly N * rate tokens while not full). A
 * full bucket earns nothing. Time is a monotonic clock in microseconds; a
 * clock that goes backwards earns nothing until it passes `last` again.
 *
 * The struct is plain data (embed it, no allocation); not thread-safe:
 * one per owner (lcore or connection).
 */
#ifndef SLUICE_TCPSTACK_RATELIMIT_H
#define SLUICE_TCPSTACK_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

struct net_ratelimit {
	uint32_t rate;     /* tokens per second; 0: never refilled */
	uint32_t burst;    /* bucket size; 0: nothing is ever allowed */
	uint32_t tokens;   /* available now, <= burst */
	uint32_t credit;   /* fractional token, in token-µs (< 1000000) */
	uint64_t last_us;  /* time of the last refill */
};

/* Start full (burst tokens) at time now_us. */
void net_rl_init(struct net_ratelimit *rl, uint32_t rate, uint32_t burst,
		 uint64_t now_us);

/* Take one token if there is one at now_us: true if allowed. */
bool net_rl_take(struct net_ratelimit *rl, uint64_t now_us);

#endif
