/*
 * dataplane/dp_config.h - the `dataplane:` section of sluice.conf.
 *
 * dp_config_load() reads the section from a loaded conf_doc, checks every
 * key and value (unknown keys and out-of-range values are errors naming
 * file:line and what to do) and fills a struct dp_config; an absent
 * section or key takes the default documented in config/sluice.conf.
 * String members borrow from the doc: keep it until the config is no
 * longer used. The TCP keys are filled in cfg->tcp except isn_key and
 * cookie_key, which the caller sets (random bytes at start).
 *
 * Not thread-safe while loading; the result is plain data.
 */
#ifndef SLUICE_DATAPLANE_DP_CONFIG_H
#define SLUICE_DATAPLANE_DP_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf/conf.h"
#include "dataplane/dp_impair.h"
#include "tcpstack/tcp.h"

#define DP_MAX_LCORES 16   /* net lcores (TAP: at most 16 queues) */
#define DP_MAX_EAL_ARGS 64
#define DP_MAX_SCAN_LCORES 16

enum dp_poll {
	DP_POLL_ADAPTIVE,  /* idle loops sleep (development, shared boxes) */
	DP_POLL_BUSY,      /* pure polling (production) */
};

struct dp_config {
	const char *eal[DP_MAX_EAL_ARGS];  /* EAL arguments (borrowed) */
	unsigned neal;
	uint16_t port;                 /* DPDK port id */
	uint32_t ip;                   /* host order */
	uint8_t prefix_len;
	uint32_t gateway;              /* 0: none */
	uint16_t mtu;
	unsigned net_lcores;           /* 1..DP_MAX_LCORES */
	unsigned mbufs;                /* per net lcore */
	enum dp_poll poll;
	uint32_t idle_sleep_max_us;
	uint64_t shutdown_deadline_ms;
	const char *run_dir;           /* borrowed, or the default */
	bool diag_echo, diag_discard;
	bool smtp_listen;              /* dataplane.smtp.listen (true) */
	uint16_t smtp_port;            /* dataplane.smtp.port (25) */
	unsigned scan_lcores;          /* 0..DP_MAX_SCAN_LCORES (1); 0 only
	                                * without the SMTP listener */
	uint64_t scan_time_budget_ms;  /* per message (DP_DEFAULT_SCAN_BUDGET_MS)
	                                * DP_SCAN_BUDGET_MIN_MS..MAX_MS */
	unsigned scan_ring_size;       /* hand-off ring slots per (net, scan)
	                                * pair: a power of two
	                                * DP_SCAN_RING_MIN..DP_SCAN_RING_MAX
	                                * (MAX); size - 1 messages out */
	struct dp_impair_config impair; /* all zero: no impairment (tests) */
	struct tcp_stack_config tcp;   /* keys left zero */
};

/* Defaults (also what an absent section yields). */
#define DP_DEFAULT_ADDRESS "198.18.0.1/24"
#define DP_DEFAULT_RUN_DIR "/run/sluice"
/* Scan time budget: a message whose scan runs longer gets 451 4.7.0 and
 * is retried by its sender. 20 s is orders of magnitude above a normal
 * scan (milliseconds; a 20 MiB message with archives: about a second),
 * and with the spool's group commit the client hears its reply well
 * inside the 10 minutes RFC 5321 4.5.3.2.6 gives it to wait after the
 * final dot. The cap (5 min) keeps any setting at half that. */
#define DP_DEFAULT_SCAN_BUDGET_MS 20000
#define DP_SCAN_RING_MIN 2
#define DP_SCAN_RING_MAX 1024
#define DP_SCAN_BUDGET_MIN_MS 1
#define DP_SCAN_BUDGET_MAX_MS 300000

/* Fill *out from doc's `dataplane:` section. 0, or -EINVAL with one line
 * "FILE:LINE: what is wrong; what to do" in err. */
int dp_config_load(const struct conf_doc *doc, struct dp_config *out,
		   char *err, size_t errsz);

#endif
