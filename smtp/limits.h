/*
 * smtp/limits.h - connection caps that span sessions: total connections,
 * connections per client address, and a per-address connection rate
 * (token bucket). The caller consults it before creating a session and
 * passes the answer to smtp_session_start(), which words the refusal.
 *
 * One struct per net lcore (not thread-safe); the configured gateway-wide
 * numbers are divided among the lcores by the caller (each lcore sees the
 * connections steered to it); sluiced with several net lcores passes
 * max_per_addr 0 and counts that cap across them (dataplane/dp_addrcap.h). Memory is fixed at creation: a hash table of
 * `slots` address records; an address with live connections always keeps
 * its record, idle records are recycled least-recently-used first (their
 * rate history is then forgotten). With slots >= max_total a live address
 * always finds a record.
 */
#ifndef SLUICE_SMTP_LIMITS_H
#define SLUICE_SMTP_LIMITS_H

#include <stdint.h>

#include "smtp/server.h"

struct smtp_conn_limits;

/* max_total, max_per_addr: 0 = no cap. rate: new connections per address
 * per minute, also the burst (0 = no rate cap). slots >= 1. seed: random
 * (keys the hash against collision floods). NULL on out of memory. */
struct smtp_conn_limits *smtp_conn_limits_create(unsigned max_total,
						 unsigned max_per_addr,
						 unsigned rate,
						 unsigned slots,
						 uint64_t seed);
void smtp_conn_limits_free(struct smtp_conn_limits *l); /* NULL ok */

/* A new connection from addr (host order) at now_us: SMTP_ADMIT_OK counts
 * it (release it with smtp_conn_limits_release() when it ends); any other
 * answer counts nothing. */
enum smtp_admit smtp_conn_limits_admit(struct smtp_conn_limits *l,
				       uint32_t addr, uint64_t now_us);
void smtp_conn_limits_release(struct smtp_conn_limits *l, uint32_t addr);

unsigned smtp_conn_limits_total(const struct smtp_conn_limits *l);
unsigned smtp_conn_limits_count(const struct smtp_conn_limits *l,
				uint32_t addr);

#endif
