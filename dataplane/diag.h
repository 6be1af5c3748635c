/*
 * dataplane/diag.h - diagnostic TCP services on a net lcore's stack:
 * echo (port 7, RFC 862) and discard (port 9, RFC 863). Off by default;
 * `sluiced --diag` or dataplane.diag turns them on. They exercise the TCP
 * engine end to end with kernel clients.
 *
 * echo reads without copying (tcp_recv_iov) and sends with tcp_send,
 * consuming only the bytes tcp_send accepted: when the send buffer is
 * full it stops consuming, so the receive window closes (backpressure)
 * and the copy resumes on `writable`. After the peer's FIN, once every
 * byte is echoed, it shuts its side down.
 * discard consumes everything it receives and closes on the peer's FIN.
 *
 * struct dp_diag is the lcore's (no allocation; it must outlive the tcp
 * stack, which borrows it as the listeners' context). Lcore-local.
 */
#ifndef SLUICE_DATAPLANE_DIAG_H
#define SLUICE_DATAPLANE_DIAG_H

#include <stdbool.h>
#include <stdint.h>

#include "tcpstack/tcp.h"

#define DP_DIAG_ECHO_PORT 7
#define DP_DIAG_DISCARD_PORT 9

struct dp_diag_stats {
	uint64_t echo_conns, echo_bytes, echo_stalls;  /* stall: sndbuf full */
	uint64_t discard_conns, discard_bytes;
	uint64_t closed_ok, closed_err;
};

struct dp_diag {
	struct dp_diag_stats st;
};

/* Listen on the stack's address: echo and/or discard. 0 or the negative
 * errno of tcp_listen(). */
int dp_diag_start(struct dp_diag *d, struct tcp_stack *s, bool echo,
		  bool discard);

#endif
