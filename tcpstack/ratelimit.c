/*
 * tcpstack/ratelimit.c - token bucket, integer arithmetic (see
 * ratelimit.h).
 */
#include "tcpstack/ratelimit.h"

#define US_PER_SEC UINT64_C(1000000)

void net_rl_init(struct net_ratelimit *rl, uint32_t rate, uint32_t burst,
		 uint64_t now_us)
{
	rl->rate = rate;
	rl->burst = burst;
	rl->tokens = burst;
	rl->credit = 0;
	rl->last_us = now_us;
}

static void refill(struct net_ratelimit *rl, uint64_t now_us)
{
	if (now_us <= rl->last_us)
		return;
	uint64_t elapsed = now_us - rl->last_us;
	rl->last_us = now_us;
	if (rl->tokens >= rl->burst) {
		rl->credit = 0;  /* a full bucket earns nothing */
		return;
	}
	if (rl->rate == 0)
		return;
	/* Time to fill the bucket: need = deficit * 1e6 - credit token-µs.
	 * Past it the bucket is full; below it elapsed * rate < need <
	 * 2^52, so the product cannot overflow and tokens stay < burst. */
	uint64_t need = (uint64_t)(rl->burst - rl->tokens) * US_PER_SEC -
			rl->credit;
	uint64_t fill_us = (need + rl->rate - 1) / rl->rate;
	if (elapsed >= fill_us) {
		rl->tokens = rl->burst;
		rl->credit = 0;
		return;
	}
	uint64_t earned = elapsed * rl->rate + rl->credit;
	rl->tokens += (uint32_t)(earned / US_PER_SEC);
	rl->credit = (uint32_t)(earned % US_PER_SEC);
}

bool net_rl_take(struct net_ratelimit *rl, uint64_t now_us)
{
	refill(rl, now_us);
	if (rl->tokens == 0)
		return false;
	rl->tokens--;
	return true;
}
