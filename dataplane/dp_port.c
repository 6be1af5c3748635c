/*
 * dataplane/dp_port.c - DPDK port setup (dp_port.h).
 */
#include "dataplane/dp_port.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_ethdev.h>

#define PERR(...) (snprintf(err, errsz, __VA_ARGS__), rc < 0 ? rc : -EINVAL)

int dp_port_setup(uint16_t port, unsigned nq, struct rte_mempool **pools,
		  uint16_t mtu, struct dp_port_info *out, char *err,
		  size_t errsz)
{
	struct rte_eth_dev_info info;
	struct rte_eth_conf conf;
	int rc = 0;

	memset(out, 0, sizeof *out);
	if (!rte_eth_dev_is_valid_port(port))
		return PERR("port %u does not exist (%u ports found): add a "
			    "--vdev (e.g. net_tap0) to dataplane.eal or bind "
			    "a NIC to a DPDK driver", port,
			    rte_eth_dev_count_avail());
	if ((rc = rte_eth_dev_info_get(port, &info)) != 0)
		return PERR("port %u: cannot read device info: %s", port,
			    rte_strerror(-rc));
	if (nq > info.max_rx_queues || nq > info.max_tx_queues)
		return PERR("port %u (%s) has %u RX / %u TX queues, "
			    "dataplane.net_lcores wants %u: lower net_lcores",
			    port, info.driver_name, info.max_rx_queues,
			    info.max_tx_queues, nq);

	out->port = port;
	snprintf(out->driver, sizeof out->driver, "%s", info.driver_name);
	rte_eth_dev_get_name_by_port(port, out->name);
	out->rx_offload_capa = info.rx_offload_capa;
	out->tx_offload_capa = info.tx_offload_capa;
	out->max_rx_queues = info.max_rx_queues;
	out->max_tx_queues = info.max_tx_queues;

	memset(&conf, 0, sizeof conf);  /* no offloads, no RSS, no LSC irq */
	conf.rxmode.mq_mode = RTE_ETH_MQ_RX_NONE;
	conf.txmode.mq_mode = RTE_ETH_MQ_TX_NONE;
	if ((rc = rte_eth_dev_configure(port, (uint16_t)nq, (uint16_t)nq,
					&conf)) != 0)
		return PERR("port %u (%s): configure with %u queue pairs "
			    "failed: %s", port, info.driver_name, nq,
			    rte_strerror(-rc));
	rc = rte_eth_dev_set_mtu(port, mtu);
	if (rc != 0 && rc != -ENOTSUP)
		return PERR("port %u (%s): MTU %u refused: %s; set "
			    "dataplane.mtu to what the port supports (%u..%u)",
			    port, info.driver_name, mtu, rte_strerror(-rc),
			    info.min_mtu, info.max_mtu);
	uint16_t nrx = DP_RX_DESC, ntx = DP_TX_DESC;
	if ((rc = rte_eth_dev_adjust_nb_rx_tx_desc(port, &nrx, &ntx)) != 0)
		return PERR("port %u: descriptor counts refused: %s", port,
			    rte_strerror(-rc));
	int socket = rte_eth_dev_socket_id(port);
	if (socket < 0)
		socket = (int)rte_socket_id();
	for (unsigned q = 0; q < nq; q++) {
		struct rte_eth_rxconf rxc = info.default_rxconf;
		struct rte_eth_txconf txc = info.default_txconf;
		rxc.offloads = 0;
		txc.offloads = 0;
		if ((rc = rte_eth_rx_queue_setup(port, (uint16_t)q, nrx,
						 (unsigned)socket, &rxc,
						 pools[q])) != 0)
			return PERR("port %u: RX queue %u setup failed: %s "
				    "(raise dataplane.mbufs above %u?)", port,
				    q, rte_strerror(-rc), nrx + ntx);
		if ((rc = rte_eth_tx_queue_setup(port, (uint16_t)q, ntx,
						 (unsigned)socket, &txc)) != 0)
			return PERR("port %u: TX queue %u setup failed: %s",
				    port, q, rte_strerror(-rc));
	}
	if ((rc = rte_eth_dev_start(port)) != 0)
		return PERR("port %u (%s): start failed: %s", port,
			    info.driver_name, rte_strerror(-rc));
	if ((rc = rte_eth_macaddr_get(port, &out->mac)) != 0) {
		rte_eth_dev_stop(port);
		return PERR("port %u: no MAC address: %s", port,
			    rte_strerror(-rc));
	}
	if (rte_eth_dev_get_mtu(port, &out->mtu) != 0)
		out->mtu = mtu;
	if (out->mtu > mtu)
		out->mtu = mtu;  /* the stack uses ours; the port may take more */
	return 0;
}

void dp_port_close(uint16_t port)
{
	if (!rte_eth_dev_is_valid_port(port))
		return;
	rte_eth_dev_stop(port);
	rte_eth_dev_close(port);
}
