/*
 * dataplane/dp_rules.h - the rule generation the gateway scans with, and
 * its replacement at run time (SIGHUP) through liburcu QSBR.
 *
 * A struct dp_rules is one generation: the scan configuration (the
 * content part of sluice.conf: limits, signatures, rules, routes,
 * policies), the scan_engine built from it, and one scan_ctx per scan
 * lcore. The contexts are made by whoever builds the generation (the
 * main thread at start, the reloader thread later), so a scan lcore never
 * allocates when it switches: it only starts using its slot of the new
 * generation.
 *
 * Publication: dp_scan_shared.rules is an RCU pointer. Readers are the
 * scan lcores (scanning) and the net lcores (the rcpt_route callback reads
 * the routes), registered with urcu-qsbr: rcu_dereference() at any point
 * of a loop turn, everything read is used before that turn's
 * rcu_quiescent_state(), and the thread is offline while it sleeps. A
 * scan lcore therefore switches between messages, never during one.
 *
 * The reloader is one ordinary pthread (started before the EAL, so it does
 * not share net lcore 0's CPU) that waits in sigwait() for SIGHUP (the
 * process blocks SIGHUP in every thread, see dp_rules_block_sighup()). On
 * each signal it reads the configuration file again and builds a new
 * generation (a cold Hyperscan compile takes seconds: never on an lcore);
 * on success it publishes it with rcu_assign_pointer(), waits with
 * synchronize_rcu() until every reader passed a quiescent state, and
 * frees the old one. A configuration that does not load or compile is
 * logged (file:line: what is wrong) and the running generation stays.
 * Connections are not touched either way. Only the scan part is re-read:
 * smtp:, spool: and dataplane: need a restart.
 */
#ifndef SLUICE_DATAPLANE_DP_RULES_H
#define SLUICE_DATAPLANE_DP_RULES_H

#include <stddef.h>
#include <stdint.h>

#include "conf/conf.h"
#include "dataplane/dp_config.h"
#include "scan/rules.h"

struct scan_config;
struct scan_engine;
struct scan_ctx;

struct dp_rules {
	struct scan_config *cfg;
	struct scan_engine *engine;   /* built from cfg (which it borrows) */
	struct scan_ctx *ctx[DP_MAX_SCAN_LCORES];  /* one per scan lcore */
	uint64_t gen;                 /* 1 at start, +1 per reload */
	unsigned ncontent, nspam;     /* content rules, spam keywords */
	unsigned ndb;                 /* rules in the compiled database */
	int from_cache;               /* the database came from rule_cache */
};

/* Build generation gen from doc's content sections with nscan contexts.
 * diag reports unusable signature lines (file, line, reason). 0 or a
 * negative errno with "FILE:LINE: what; what to do" (or the engine's
 * message) in err. */
int dp_rules_build(const struct conf_doc *doc, unsigned nscan, uint64_t gen,
		   scan_diag_fn diag, void *diag_ctx, struct dp_rules **out,
		   char *err, size_t errsz);

/* Free a generation no reader can still see. NULL ok. */
void dp_rules_free(struct dp_rules *r);

/* Block SIGHUP in the calling thread; call first thing in main(), before
 * any thread exists, so that every thread inherits the mask and only the
 * reloader's sigwait() takes the signal. 0 or a negative errno. */
int dp_rules_block_sighup(void);

struct dp_reloader;

/* Reloader counters (any thread). */
struct dp_reload_stats {
	uint64_t reloads, failures;
	uint64_t gen;                 /* the published generation */
	unsigned ncontent, nspam, ndb;
};

/* Start the reloader thread for the file at path (borrowed), publishing
 * into *slot (which holds the current generation; the reloader frees the
 * generations it replaces; the caller frees the last one after
 * dp_reloader_stop()). log gets one line per reload or failure. 0 or a
 * negative errno with err. */
int dp_reloader_start(const char *path, unsigned nscan,
		      struct dp_rules **slot,
		      void (*log)(const char *line), scan_diag_fn diag,
		      struct dp_reloader **out, char *err, size_t errsz);

/* Ask for a reload now (what SIGHUP does; the control plane's `reload`
 * will call this). Any thread. */
void dp_reloader_request(struct dp_reloader *r);

void dp_reloader_stats(const struct dp_reloader *r,
		       struct dp_reload_stats *out);

/* Stop and join (a reload in progress finishes first). Every QSBR reader
 * must be unregistered or offline by then, or still looping. NULL ok. */
void dp_reloader_stop(struct dp_reloader *r);

#endif
