/*
 * dataplane/dp_port.h - set up one DPDK port for the net lcores.
 *
 * dp_port_setup() configures port with nq RX/TX queue pairs (queue i for
 * net lcore i, RX queue i filling from pools[i]), sets the MTU, starts
 * the port and reports what it is. No offloads are enabled, whatever the
 * port advertises: the stack computes and verifies checksums in software
 * (docs/decisions.md); the advertised capabilities are reported so an
 * operator can see what a NIC would offer. Any PMD works (net_tap,
 * net_memif, net_af_packet, PCI NICs); a port that lacks RSS is fine
 * because the lcores steer in software.
 *
 * Call from the main lcore after rte_eal_init(), before the lcores run.
 * Errors: a negative errno with one line in err naming the port and what
 * to do; the port is left stopped.
 */
#ifndef SLUICE_DATAPLANE_DP_PORT_H
#define SLUICE_DATAPLANE_DP_PORT_H

#include <stddef.h>
#include <stdint.h>

#include <rte_ether.h>
#include <rte_mempool.h>

#define DP_RX_DESC 1024
#define DP_TX_DESC 1024

struct dp_port_info {
	uint16_t port;
	char driver[32];
	char name[64];
	struct rte_ether_addr mac;
	uint16_t mtu;
	uint64_t rx_offload_capa, tx_offload_capa;  /* advertised, unused */
	uint16_t max_rx_queues, max_tx_queues;
};

int dp_port_setup(uint16_t port, unsigned nq, struct rte_mempool **pools,
		  uint16_t mtu, struct dp_port_info *out, char *err,
		  size_t errsz);

/* Stop and close the port (every queue's mbufs return to their pools). */
void dp_port_close(uint16_t port);

#endif
