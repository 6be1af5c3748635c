/*
 * tests/unit/fake_pool.h - a fixed pool of packet buffers for tests and
 * fuzz targets of tcpstack/ (64 x 2 KiB, headroom NET_PKT_HEADROOM; a test
 * may define POOL and BUFSZ before the include).
 * fake_pool_get() hands out a free packet or NULL; fake_pool_put() takes
 * it back and returns false for a double free or a foreign pointer;
 * fake_pool_intact() says whether a packet still describes memory inside
 * its own buffer. n_inuse counts packets out, so a test can prove nothing
 * leaked.
 */
#ifndef SLUICE_TESTS_FAKE_POOL_H
#define SLUICE_TESTS_FAKE_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tcpstack/pkt.h"

#ifndef POOL
#define POOL 64
#endif
#ifndef BUFSZ
#define BUFSZ 2048
#endif

static uint8_t mem[POOL][BUFSZ];
static struct net_pkt pkts[POOL];
static bool inuse[POOL];
static int n_inuse;

static inline struct net_pkt *fake_pool_get(void)
{
	for (int i = 0; i < POOL; i++) {
		if (!inuse[i]) {
			inuse[i] = true;
			n_inuse++;
			pkts[i] = (struct net_pkt){
				.data = mem[i] + NET_PKT_HEADROOM, .len = 0,
				.headroom = NET_PKT_HEADROOM,
				.tailroom = BUFSZ - NET_PKT_HEADROOM,
			};
			return &pkts[i];
		}
	}
	return NULL;
}

static inline bool fake_pool_put(struct net_pkt *p)
{
	ptrdiff_t i = p - pkts;
	if (i < 0 || i >= POOL || !inuse[i])
		return false;
	inuse[i] = false;
	n_inuse--;
	return true;
}

static inline bool fake_pool_intact(const struct net_pkt *p)
{
	ptrdiff_t i = p - pkts;
	return i >= 0 && i < POOL && p->data == mem[i] + p->headroom &&
	       (size_t)p->headroom + p->len + p->tailroom == BUFSZ;
}

#endif
