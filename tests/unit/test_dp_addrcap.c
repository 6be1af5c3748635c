/* tests/unit/test_dp_addrcap.c - dataplane/dp_addrcap.c: an address gets
 * exactly cap connections, the next is refused and counts nothing, a put
 * makes room again; addresses are independent (2,000 random addresses
 * at cap 1: a refusal only where two share a counter, about 30 expected
 * of 2^16 counters); two threads taking and putting one address
 * concurrently never hold more than the cap together and leave the
 * counter at 0. */
#include "dataplane/dp_addrcap.h"

#include <pthread.h>
#include <stdint.h>

#include "check.h"

static const uint8_t key[16] = {1, 2, 3, 4, 5, 6, 7, 8,
				9, 10, 11, 12, 13, 14, 15, 16};

static void test_cap_exact(void)
{
	struct dp_addrcap *ac = dp_addrcap_create(50, key);
	const uint32_t a = 0xc6120002u;
	CHECK(ac != NULL);
	for (int i = 0; i < 50; i++)
		CHECK(dp_addrcap_take(ac, a));
	CHECK(!dp_addrcap_take(ac, a));
	CHECK(!dp_addrcap_take(ac, a));
	CHECK_EQ_INT(dp_addrcap_count(ac, a), 50);
	dp_addrcap_put(ac, a);
	CHECK_EQ_INT(dp_addrcap_count(ac, a), 49);
	CHECK(dp_addrcap_take(ac, a));
	CHECK(!dp_addrcap_take(ac, a));
	for (int i = 0; i < 50; i++)
		dp_addrcap_put(ac, a);
	CHECK_EQ_INT(dp_addrcap_count(ac, a), 0);
	dp_addrcap_free(ac);
	dp_addrcap_free(NULL);
}

static void test_addresses_independent(void)
{
	struct dp_addrcap *ac = dp_addrcap_create(1, key);
	uint64_t x = 0x9e3779b97f4a7c15ull;
	unsigned refused = 0;
	for (int i = 0; i < 2000; i++) {
		x ^= x >> 12;
		x ^= x << 25;
		x ^= x >> 27;
		uint32_t a = (uint32_t)(x * 0x2545f4914f6cdd1dull >> 32);
		if (!dp_addrcap_take(ac, a))
			refused++;
	}
	/* Shared counters only: 2000^2 / 2 / 65536 ~ 30.5 expected. */
	CHECK_MSG(refused < 80, "%u of 2000 addresses refused at cap 1",
		  refused);
	dp_addrcap_free(ac);
}

#define CAP 3
static struct dp_addrcap *shared;
static int held, over;

static void *hammer(void *arg)
{
	(void)arg;
	for (int i = 0; i < 200000; i++) {
		if (!dp_addrcap_take(shared, 7))
			continue;
		if (__atomic_add_fetch(&held, 1, __ATOMIC_SEQ_CST) > CAP)
			__atomic_store_n(&over, 1, __ATOMIC_SEQ_CST);
		__atomic_sub_fetch(&held, 1, __ATOMIC_SEQ_CST);
		dp_addrcap_put(shared, 7);
	}
	return NULL;
}

static void test_threads(void)
{
	pthread_t t[4];
	shared = dp_addrcap_create(CAP, key);
	for (int i = 0; i < 4; i++)
		CHECK(pthread_create(&t[i], NULL, hammer, NULL) == 0);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	CHECK_EQ_INT(over, 0);
	CHECK_EQ_INT(dp_addrcap_count(shared, 7), 0);
	dp_addrcap_free(shared);
}

int main(void)
{
	RUN(test_cap_exact);
	RUN(test_addresses_independent);
	RUN(test_threads);
	return CHECK_DONE();
}
