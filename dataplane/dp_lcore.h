/*
 * dataplane/dp_lcore.h - a net lcore: its stacks, its poll loop, software
 * steering between lcores, idle back-off and its published counters.
 *
 * Shared-nothing: each net lcore owns one RX/TX queue pair of the port,
 * one mbuf pool, one net_stack + tcp_stack (and so its flows) and an
 * inbox ring. One loop turn: receive a burst from its RX queue, send each
 * frame to its owner (dp_steer.h: foreign TCP flows go to the owner's
 * inbox, ARP is copied to every lcore), take a burst from its own inbox,
 * feed net_input(), run the ARP and TCP timers, flush the TX array with
 * one rte_eth_tx_burst. Every ~10 ms it copies its counters into a
 * snapshot that other threads read (dp_lcore_snapshot()).
 *
 * Idle back-off (poll: adaptive): after DP_IDLE_POLLS empty turns the
 * loop sleeps, first DP_SLEEP_MIN_US, doubling up to the configured cap,
 * and never past the next TCP timer (tcp_stack_next_timer_us()), and
 * not past DP_SLEEP_MIN_US while a message is out for its verdict (the
 * client waits for that reply); any work resets it. poll: busy never
 * sleeps.
 *
 * Shutdown (struct dp_shared.phase, written by the control callback on
 * lcore 0): DP_DRAIN makes every lcore call tcp_stack_drain() and
 * dp_smtp_drain() (421 4.3.2 to its sessions) once and carry on; DP_STOP
 * ends the loops. The stacks are freed afterwards by
 * dp_lcore_fini() on the main thread.
 *
 * Everything here but dp_lcore_snapshot() runs on the owning lcore (or on
 * the main thread before launch / after the loop ended).
 */
#ifndef SLUICE_DATAPLANE_DP_LCORE_H
#define SLUICE_DATAPLANE_DP_LCORE_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <rte_common.h>
#include <rte_ring.h>

#include "dataplane/diag.h"
#include "dataplane/dp_config.h"
#include "dataplane/dp_pkt.h"
#include "dataplane/dp_smtp.h"
#include "dataplane/dp_steer.h"
#include "tcpstack/net.h"
#include "tcpstack/tcp.h"

#define DP_IDLE_POLLS 32         /* empty turns before the first sleep */
#define DP_SLEEP_MIN_US 10
#define DP_SNAPSHOT_US 10000     /* counters published every 10 ms */
#define DP_CTL_US 10000          /* control callback every 10 ms */
#define DP_INBOX_SIZE 4096

enum dp_phase { DP_RUN, DP_DRAIN, DP_STOP };

/* The loop's own counters. */
struct dp_lcore_stats {
	uint64_t loops;
	uint64_t rx_bursts, rx_packets;
	uint64_t rx_multiseg;       /* chained mbufs dropped */
	uint64_t steer_out;         /* handed to another lcore's inbox */
	uint64_t steer_in;          /* taken from our inbox */
	uint64_t steer_ring_full;   /* dropped: owner's inbox full */
	uint64_t arp_copies, arp_copy_fail;
	uint64_t idle_sleeps, idle_sleep_us;
};

/* What an lcore publishes (dp_lcore_snapshot()). */
struct dp_snapshot {
	struct dp_lcore_stats lc;
	uint64_t tx_bursts, tx_packets, tx_refused, alloc_fail;
	struct net_stack_stats net;
	struct tcp_stack_stats tcp;
	struct dp_diag_stats diag;
	bool smtp;                  /* the SMTP listener is on */
	struct dp_smtp_stats smtp_st;
	bool impaired;              /* test runs: the impairment stages */
	struct dp_impair_stats impair_rx, impair_tx;
	uint32_t nconns;
	uint64_t at_us;             /* when it was taken */
};

struct dp_lcore;

/* State every net lcore reads; set up before launch. */
struct dp_shared {
	unsigned n;                          /* net lcores */
	struct dp_lcore *lc[DP_MAX_LCORES];
	struct dp_steer steer;
	enum dp_poll poll;
	uint32_t sleep_max_us;
	int phase;                           /* enum dp_phase, atomic */
	/* Run on lcore 0 every DP_CTL_US (statistics, signals, phase). */
	void (*ctl)(void *arg, uint64_t now_us);
	void *ctl_arg;
	struct dp_scan_shared *scan;         /* NULL: no SMTP, no scan lcores */
};

struct dp_stage {
	uint16_t n;
	struct rte_mbuf *m[DP_BURST];
};

struct dp_lcore {
	unsigned idx;               /* 0..n-1 = port queue */
	unsigned lcore_id;          /* EAL lcore */
	struct dp_shared *sh;
	struct dp_pkt_env env;      /* pool + TX array: the net_pkt_ops env */
	struct net_stack *net;
	struct tcp_stack *tcp;
	struct dp_diag diag;
	struct dp_smtp *smtp;       /* NULL: no SMTP listener (dp_main sets) */
	struct rte_ring *inbox;     /* MP/SC: frames other lcores steer here */
	struct dp_impair *rx_impair;  /* NULL unless a test asks (tx: env.txq) */
	struct dp_lcore_stats st;
	struct dp_stage out[DP_MAX_LCORES];
	bool drained;
	uint32_t snap_seq;          /* odd while being written */
	struct dp_snapshot snap;
} __rte_cache_aligned;

static inline uint64_t dp_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/*
 * Set up lc (zeroed by the caller) as net lcore idx on EAL lcore lcore_id:
 * its inbox ring, its net_stack over netcfg and its tcp_stack over tcpcfg
 * (both copied), the diag services when asked, and the impairment
 * stages (RX here, TX on the TX array) when impair is not NULL and not
 * all zero (test runs; seeds derived from impair->seed and idx). pool is
 * borrowed (the
 * caller frees it after dp_lcore_fini()). 0 or a negative errno with one
 * line in err; on error call dp_lcore_fini() to release what was made.
 */
int dp_lcore_init(struct dp_lcore *lc, unsigned idx, unsigned lcore_id,
		  struct dp_shared *sh, struct rte_mempool *pool,
		  uint16_t port, const struct net_stack_config *netcfg,
		  const struct tcp_stack_config *tcpcfg, bool echo,
		  bool discard, const struct dp_impair_config *impair,
		  char *err, size_t errsz);

/* The loop (rte_lcore_function_t): arg is the struct dp_lcore. Returns 0
 * when the phase becomes DP_STOP. */
int dp_lcore_run(void *arg);

/* After the loop: free the tcp_stack (aborting what is left), the
 * net_stack, flush the TX array, free packets left in the inbox and the
 * ring. Main thread, every loop stopped. Safe on a partly set up lc. */
void dp_lcore_fini(struct dp_lcore *lc);

/* A consistent copy of lc's last published snapshot (any thread). */
void dp_lcore_snapshot(const struct dp_lcore *lc, struct dp_snapshot *out);

#endif
