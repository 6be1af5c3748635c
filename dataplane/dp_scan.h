/*
 * dataplane/dp_scan.h - scan lcores and the hand-off rings between net
 * and scan lcores.
 *
 * At end of DATA a net lcore puts a struct dp_msg (which lives in its
 * connection record) on a single-producer/single-consumer rte_ring to a
 * scan lcore: one request ring and one reply ring per (net lcore, scan
 * lcore) pair, so every ring has exactly one producer and one consumer.
 * The net lcore counts what it has out per pair and never has more than
 * ring_size - 1 out (dataplane.scan_ring_size, default 1024; beyond that
 * the end of DATA gets 451 4.3.0 and counts as handoff_full), so the
 * reply ring (same size) can never be full.
 *
 * A scan lcore takes one message at a time: copies its segments into a
 * per-lcore flat buffer (scan/ takes one contiguous buffer; the copy is
 * one memcpy per 16 KiB chunk, small next to the scan), runs
 * scan_message() with its own scan_ctx and a deadline of
 * dataplane.scan_time_budget, and answers in the descriptor:
 * over the budget -> 451 4.7.0 (the sender retries); reject -> 550 5.7.1
 * with the finding; every accepting disposition -> the policy's edits
 * applied (scan_edit_apply into a per-lcore buffer; if that fails, 451
 * 4.3.0, never the unedited message) and a spool record of the message
 * as edited (its sha256 and size are of the stored bytes; an action
 * line "original size=N sha256=HEX" keeps the received message's)
 * (spool_enc_message into an in-flight slot's buffer),
 * spool_writer_submit(), and 250 2.0.0 "Ok: queued as QID" once
 * spool_req_status() says durable (polled, never waited on; up to
 * DP_SCAN_INFLIGHT records per scan lcore). Spool errors, a full writer
 * queue, the free-space floor, and a scanner failure -> 451 4.3.0.
 * Buffers grow to the largest message seen and are reused: no allocation
 * per message once warm.
 *
 * Rules: sh->rules is the current generation (dp_rules.h), an RCU
 * pointer. A scan lcore is a urcu-qsbr reader: each loop turn it takes
 * rcu_dereference(sh->rules) and scans with that generation's engine and
 * its own slot's scan_ctx, then calls rcu_quiescent_state(); it is
 * offline while it sleeps. So a new generation is picked up between
 * messages, with no allocation on the lcore (the builder made the
 * contexts).
 */
#ifndef SLUICE_DATAPLANE_DP_SCAN_H
#define SLUICE_DATAPLANE_DP_SCAN_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ring.h>

#include "dataplane/dp_config.h"
#include "smtp/server.h"

#define DP_SCAN_INFLIGHT 16    /* spool records in flight per scan lcore */

struct dp_rules;
struct dp_reloader;
struct spool_writer;

/* One message out for its verdict. The net lcore fills msg (and owns the
 * struct); the scan lcore fills the reply before putting it back. */
struct dp_msg {
	const struct smtp_message *msg;
	unsigned scan;             /* the scan lcore it went to */
	int code;                  /* reply */
	char enh[8];
	char text[200];
};

/* Scan lcore counters (published relaxed; summed by dp_stats). */
struct dp_scan_stats {
	uint64_t messages, accepted, rejected, tempfail;
	uint64_t scan_fail, spool_fail, spool_busy;
	uint64_t scan_timeout;     /* over the time budget: 451 4.7.0 */
	uint64_t edited, edit_fail; /* edits applied / failed (451) */
	uint64_t scan_us;          /* total time in scan_message */
	uint64_t idle_sleeps;
	uint64_t rules_gen;        /* the generation of the last message */
};

struct dp_scan_lcore;

struct dp_scan_shared {
	unsigned nnet, nscan;
	unsigned ring_size;        /* dataplane.scan_ring_size (power of 2) */
	struct rte_ring *req[DP_MAX_LCORES][DP_MAX_SCAN_LCORES];
	struct rte_ring *rep[DP_MAX_LCORES][DP_MAX_SCAN_LCORES];
	struct dp_scan_lcore *sl[DP_MAX_SCAN_LCORES];
	struct dp_rules *rules;    /* RCU: rcu_dereference() to read */
	const struct dp_reloader *reloader;  /* NULL: none (statistics) */
	struct spool_writer *spool;
	int compress_level;
	uint64_t compress_above;
	uint64_t max_message;      /* smtp max_message_size + header room */
	uint64_t scan_budget_ns;   /* dataplane.scan_time_budget */
	unsigned max_rcpt;
	const int *phase;          /* enum dp_phase of dp_shared */
	uint32_t sleep_max_us;
	bool busy_poll;
};

/* Rings for nnet x nscan (EAL up). 0 or -ENOMEM with err. */
int dp_scan_rings_create(struct dp_scan_shared *sh, char *err, size_t errsz);
/* Free rings (their contents must have been taken with dp_scan_drain). */
void dp_scan_rings_free(struct dp_scan_shared *sh);

/* Set up scan lcore idx (buffers, encoder; its scan_ctx is in each rule
 * generation). 0 or -ENOMEM. */
int dp_scan_lcore_create(struct dp_scan_shared *sh, unsigned idx,
			 char *err, size_t errsz);
void dp_scan_lcore_free(struct dp_scan_shared *sh, unsigned idx);

/* The scan lcore loop (rte_lcore_function_t; arg: the shared state's
 * dp_scan_lcore). Runs until the phase is DP_STOP and nothing it
 * submitted to the spool is still in flight. Registers the lcore as a
 * urcu-qsbr reader for its run. */
int dp_scan_run(void *arg);

/* Net lcore side. Hand d to scan lcore `scan` from net lcore `net`:
 * 0 or -ENOBUFS (ring full). */
static inline int dp_scan_submit(struct dp_scan_shared *sh, unsigned net,
				 unsigned scan, struct dp_msg *d)
{
	d->scan = scan;
	return rte_ring_sp_enqueue(sh->req[net][scan], d) == 0 ? 0
								: -ENOBUFS;
}

/* Replies for net lcore `net` from scan lcore `scan`. */
static inline unsigned dp_scan_replies(struct dp_scan_shared *sh,
				       unsigned net, unsigned scan,
				       struct dp_msg **out, unsigned n)
{
	return rte_ring_sc_dequeue_burst(sh->rep[net][scan], (void **)out, n,
					 NULL);
}

/* After every lcore stopped: every descriptor still in net lcore net's
 * rings (requests not taken, replies not read), through fn. */
void dp_scan_drain(struct dp_scan_shared *sh, unsigned net,
		   void (*fn)(void *arg, struct dp_msg *d), void *arg);

void dp_scan_stats(const struct dp_scan_shared *sh, unsigned idx,
		   struct dp_scan_stats *out);

#endif
