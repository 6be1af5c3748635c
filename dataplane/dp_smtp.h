/*
 * dataplane/dp_smtp.h - the SMTP listener of a net lcore: one
 * smtp_session (smtp/server.h) per TCP connection on tcp.h, as
 * docs/architecture.md "What a net lcore does with it" prescribes.
 *
 * Per net lcore: one smtp_pool (smtp.buffer_memory), one
 * smtp_conn_limits (the gateway-wide caps divided by the number of net
 * lcores), a queue id generator (spool_qid_next, generator id = the net
 * lcore's index, floored by the spool's newest id) and the connection
 * records (a free list: allocated once per concurrent connection, reused).
 * At end of DATA the message goes to a scan lcore (dp_scan.h) in the
 * record's struct dp_msg; dp_smtp_poll() takes the verdicts back each
 * loop turn and runs the sessions' deadlines every DP_SMTP_TICK_US.
 * A record whose connection died while its message was out stays until
 * the verdict comes back, which then frees the message.
 *
 * Everything runs on the owning net lcore (creation and freeing on the
 * main thread before launch / after the loops ended).
 */
#ifndef SLUICE_DATAPLANE_DP_SMTP_H
#define SLUICE_DATAPLANE_DP_SMTP_H

#include <stdint.h>

#include "dataplane/dp_scan.h"
#include "smtp/config.h"
#include "tcpstack/tcp.h"

struct dp_addrcap;

#define DP_SMTP_TICK_US 10000

struct dp_smtp_stats {
	uint64_t conns, conns_refused;   /* accepted / over a cap */
	uint64_t messages;               /* handed to a scan lcore */
	uint64_t handoff_full;           /* ring full: 451 */
	uint64_t replies_2xx, replies_4xx, replies_5xx;
	uint64_t orphans;                /* verdicts for dead connections */
	uint64_t live;                   /* sessions now */
	uint64_t pool_in_use;            /* bytes */
};

struct dp_smtp;

/* Listen on port of stack tcp as net lcore idx. cfg, scan, tcp and
 * addrcap are borrowed. The caps of cfg are divided among the nnet
 * lcores, except max_connections_per_address when addrcap is given (the
 * table shared by every net lcore counts it). qid_floor:
 * spool_writer_max_qid(). NULL with err on error (no memory, tcp_listen
 * failed). */
struct dp_smtp *dp_smtp_create(unsigned idx, struct tcp_stack *tcp,
			       uint16_t port, const struct smtp_config *cfg,
			       unsigned nnet, struct dp_scan_shared *scan,
			       struct dp_addrcap *addrcap,
			       const char *qid_floor, char *err,
			       size_t errsz);

/* Verdicts back from the scan lcores, deadlines. Returns work done. */
unsigned dp_smtp_poll(struct dp_smtp *sm, uint64_t now_us);

/* Shutdown (DP_DRAIN): smtp_session_drain() on every live session, and
 * on every session accepted from now on (smtp/server.h: 421 4.3.2 now
 * between transactions, after the current transaction otherwise). */
void dp_smtp_drain(struct dp_smtp *sm, uint64_t now_us);

/* Messages out for their verdicts (the loop's idle sleep stays short
 * while there are any: a verdict is a reply someone waits for). */
unsigned dp_smtp_outstanding(const struct dp_smtp *sm);

void dp_smtp_stats(struct dp_smtp *sm, struct dp_smtp_stats *out);

/* After the loop and after tcp_stack_free() (which closed every session):
 * release the messages still in the rings, then the pool and records.
 * NULL ok. */
void dp_smtp_free(struct dp_smtp *sm);

#endif
