/*
 * dataplane/dp_addrcap.c - the per-address connection cap shared by the
 * net lcores (dp_addrcap.h).
 */
#include "dataplane/dp_addrcap.h"

#include <assert.h>
#include <stdlib.h>

#include "tcpstack/isn.h"

#define SLOTS_LOG2 16
#define SLOTS (1u << SLOTS_LOG2)

struct dp_addrcap {
	struct tcp_isn_key key;
	unsigned cap;
	uint32_t count[SLOTS];
};

struct dp_addrcap *dp_addrcap_create(unsigned cap, const uint8_t key[16])
{
	struct dp_addrcap *ac = calloc(1, sizeof *ac);
	if (ac == NULL)
		return NULL;
	tcp_isn_key_load(&ac->key, key);
	ac->cap = cap > 0 ? cap : 1;
	return ac;
}

void dp_addrcap_free(struct dp_addrcap *ac)
{
	free(ac);
}

static uint32_t *slot(const struct dp_addrcap *ac, uint32_t addr)
{
	uint64_t h = tcp_isn_siphash24(&ac->key, &addr, sizeof addr);
	return (uint32_t *)&ac->count[h >> (64 - SLOTS_LOG2)];
}

bool dp_addrcap_take(struct dp_addrcap *ac, uint32_t addr)
{
	uint32_t *c = slot(ac, addr);
	uint32_t v = __atomic_load_n(c, __ATOMIC_RELAXED);
	do {
		if (v >= ac->cap)
			return false;
	} while (!__atomic_compare_exchange_n(c, &v, v + 1, true,
					      __ATOMIC_RELAXED,
					      __ATOMIC_RELAXED));
	return true;
}

void dp_addrcap_put(struct dp_addrcap *ac, uint32_t addr)
{
	uint32_t old = __atomic_fetch_sub(slot(ac, addr), 1, __ATOMIC_RELAXED);
	assert(old > 0);  /* a put without its take: our bug */
	(void)old;
}

unsigned dp_addrcap_count(const struct dp_addrcap *ac, uint32_t addr)
{
	return __atomic_load_n(slot(ac, addr), __ATOMIC_RELAXED);
}
