/*
 * dataplane/dp_stats.h - sluiced's statistics file.
 *
 * dp_stats_write() writes one JSON object to path (through path.tmp and
 * rename(), so readers never see a partial file): the process (pid,
 * state, uptime), the port (driver, MAC, MTU, advertised offloads, port
 * counters) and per net lcore its loop counters (RX/TX bursts, steering,
 * drops, idle sleeps), the net_stack and tcp_stack counters (drops by
 * reason, connections by state, retransmits), the diag services and its
 * mempool (size, in_use = rte_mempool_in_use_count(): what integration
 * tests compare to prove no mbuf leaks). Lcore counters come from the
 * lcores' published snapshots (at most ~10 ms old).
 *
 * Runs on the control path (lcore 0, once a second): it does file I/O.
 * 0 or a negative errno (the previous file stays).
 */
#ifndef SLUICE_DATAPLANE_DP_STATS_H
#define SLUICE_DATAPLANE_DP_STATS_H

#include <stdint.h>

#include "dataplane/dp_lcore.h"
#include "dataplane/dp_port.h"

int dp_stats_write(const char *path, const struct dp_shared *sh,
		   const struct dp_port_info *port, const char *state,
		   uint64_t uptime_us);

#endif
