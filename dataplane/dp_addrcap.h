/*
 * dataplane/dp_addrcap.h - smtp.max_connections_per_address across all
 * net lcores.
 *
 * With several net lcores a client's connections are spread over them by
 * the steering hash (dp_steer.h), so a cap divided among the lcores
 * (smtp/limits.h) refuses a client with fewer connections than the
 * configured number whenever its share on one lcore is uneven (with 2
 * lcores and a cap of 50, one client in three with 45 connections got a
 * 421). This is one table shared by the net lcores: 2^16 atomic
 * counters indexed by a keyed SipHash of the client address (random key:
 * a client cannot pick addresses that share a victim's counter). Exact
 * for every address whose counter no other live address shares; two
 * that share one are capped together (never more than the cap each).
 *
 * Thread-safety: take/put from any thread (relaxed atomics: a counter
 * orders nothing else). Memory: 256 KiB, fixed at creation.
 */
#ifndef SLUICE_DATAPLANE_DP_ADDRCAP_H
#define SLUICE_DATAPLANE_DP_ADDRCAP_H

#include <stdbool.h>
#include <stdint.h>

struct dp_addrcap;

/* cap >= 1 connections per address; key: 16 random bytes. NULL on out of
 * memory. */
struct dp_addrcap *dp_addrcap_create(unsigned cap, const uint8_t key[16]);
void dp_addrcap_free(struct dp_addrcap *ac);  /* NULL ok */

/* A new connection from addr (host order): true and counted while addr's
 * counter is below the cap, else false and nothing counted. */
bool dp_addrcap_take(struct dp_addrcap *ac, uint32_t addr);
/* A counted connection from addr has ended. */
void dp_addrcap_put(struct dp_addrcap *ac, uint32_t addr);
/* The counter addr maps to (tests, statistics). */
unsigned dp_addrcap_count(const struct dp_addrcap *ac, uint32_t addr);

#endif
