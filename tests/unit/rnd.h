/*
 * tests/unit/rnd.h - the xorshift64 generator the randomized round-trip
 * tests draw from. Deterministic: each test defines RND_SEED before the
 * include, so every run checks the same inputs.
 */
#ifndef SLUICE_TESTS_RND_H
#define SLUICE_TESTS_RND_H

#include <stdint.h>

#ifndef RND_SEED
#error "define RND_SEED before including tests/unit/rnd.h"
#endif

static uint64_t rng_state = RND_SEED;

static uint32_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 11);
}

#endif
