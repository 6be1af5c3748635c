/* tests/unit/test_ratelimit.c - tcpstack/ratelimit.c: burst, exact
 * refill without drift, cap at burst, clock edge cases. */
#include "tcpstack/ratelimit.h"

#include <stdint.h>

#include "check.h"

#define SEC UINT64_C(1000000)

static unsigned take_n(struct net_ratelimit *rl, uint64_t now, unsigned n)
{
	unsigned ok = 0;
	for (unsigned i = 0; i < n; i++)
		ok += net_rl_take(rl, now);
	return ok;
}

static void test_burst(void)
{
	static const struct {
		uint32_t rate, burst;
		unsigned want;  /* allowed out of 100 at one instant */
	} rows[] = {
		{1000, 50, 50}, {1, 1, 1}, {0, 5, 5}, {1000, 0, 0},
		{UINT32_MAX, 100, 100},
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		struct net_ratelimit rl;
		net_rl_init(&rl, rows[i].rate, rows[i].burst, 7);
		CHECK_EQ_INT(take_n(&rl, 7, 100), rows[i].want);
	}
}

static void test_refill_exact(void)
{
	/* 3 tokens per second asked every µs-ish step: over 10 s exactly
	 * 30 tokens beyond the burst, no drift from rounding. */
	struct net_ratelimit rl;
	net_rl_init(&rl, 3, 2, 0);
	unsigned ok = take_n(&rl, 0, 10);
	CHECK_EQ_INT(ok, 2);
	for (uint64_t t = 1; t <= 10 * SEC; t += 7919)
		ok += net_rl_take(&rl, t);
	ok += take_n(&rl, 10 * SEC, 10);
	CHECK_EQ_INT(ok, 2 + 30);

	/* 1000/s: one token per ms, not before. */
	net_rl_init(&rl, 1000, 1, 0);
	CHECK(net_rl_take(&rl, 0));
	CHECK(!net_rl_take(&rl, 999));
	CHECK(net_rl_take(&rl, 1000));
	CHECK(!net_rl_take(&rl, 1000));
	CHECK(!net_rl_take(&rl, 1999));
	CHECK(net_rl_take(&rl, 2000));
}

static void test_cap_and_clock(void)
{
	struct net_ratelimit rl;
	net_rl_init(&rl, 1000, 50, 0);
	CHECK_EQ_INT(take_n(&rl, 0, 50), 50);
	/* An hour later: still only burst tokens. */
	CHECK_EQ_INT(take_n(&rl, 3600 * SEC, 100), 50);
	/* A full bucket earns nothing while full: take 1 right away, then
	 * 1 ms later exactly one more is there (not two). */
	net_rl_init(&rl, 1000, 2, 0);
	CHECK_EQ_INT(take_n(&rl, 5 * SEC, 1), 1);
	CHECK_EQ_INT(take_n(&rl, 5 * SEC + 1000, 5), 2);
	/* Clock going backwards earns nothing. */
	net_rl_init(&rl, 1000, 1, 10 * SEC);
	CHECK(net_rl_take(&rl, 10 * SEC));
	CHECK(!net_rl_take(&rl, 1 * SEC));
	CHECK(!net_rl_take(&rl, 10 * SEC + 999));
	CHECK(net_rl_take(&rl, 10 * SEC + 1000));
	/* Huge rate and long gaps do not overflow. */
	net_rl_init(&rl, UINT32_MAX, UINT32_MAX, 0);
	CHECK_EQ_INT(take_n(&rl, 0, 10), 10);
	CHECK(net_rl_take(&rl, UINT64_MAX));
	CHECK_EQ_INT(rl.tokens, UINT32_MAX - 1);
}

int main(void)
{
	RUN(test_burst);
	RUN(test_refill_exact);
	RUN(test_cap_and_clock);
	return CHECK_DONE();
}
