/*
 * tcpstack/tcp.h - the per-core TCP engine (RFC 9293): connection table,
 * listeners, input, output, timers; server and client sides.
 *
 * One struct tcp_stack per net lcore, used only by that lcore (not
 * thread-safe), sitting on that lcore's struct net_stack: it installs
 * itself as the net stack's tcp_input and on_icmp_error hooks and sends
 * through net_ip_output(). Times are the monotonic clock in microseconds
 * the caller feeds to net_input() and tcp_stack_advance(); addresses and
 * ports are host order.
 *
 * Memory. tcp_stack_create() allocates the connection table, the timer
 * wheel and the send-buffer chunk pool (cfg.snd_pool bytes); connection
 * structs come from slabs of TCP_CONN_SLAB grown on demand up to
 * cfg.max_conns (one malloc per slab, never per packet); nothing else
 * allocates. Received data stays in the packets it arrived in (zero
 * copy) until the application consumes it; data to send is copied once
 * into the connection's send buffer (chunks from the pool), then into each
 * segment sent. Every per-connection queue is bounded: the receive queue
 * by cfg.rcvbuf (bytes) and a packet count, the out-of-order queue by
 * cfg.ooo_max packets inside the window, the send buffer by cfg.sndbuf.
 * TIME_WAIT connections shrink to a compact record (struct tcp_conn is
 * freed).
 *
 * Events. Each connection has a struct tcp_handler (from its listener, or
 * from tcp_connect()) called on the lcore, with the connection's ctx:
 *   accepted   (listener only) a handshake completed; set *ctx and return
 *              0 to take the connection, or a negative errno to refuse it
 *              (it is reset). Called with the connection ESTABLISHED.
 *   connected  (tcp_connect only) the handshake completed.
 *   readable   new in-order data, or the peer's FIN (tcp_recv_eof()),
 *              is waiting; read it with tcp_recv_iov()/tcp_recv_consume().
 *              Called once per input burst, not per byte: readable and
 *              writable are collected during net_input() and delivered by
 *              the next tcp_stack_advance() (call it after each RX burst);
 *              data left unconsumed stays queued and closes the window.
 *   writable   send space grew (acknowledged data left the send buffer)
 *              after a tcp_send() came up short (-EAGAIN or partial).
 *   closed     the connection is gone: err 0 after an orderly close,
 *              -ECONNRESET (peer reset), -ETIMEDOUT (retransmissions or
 *              keepalive gave up), -ECONNREFUSED (connect refused),
 *              -ECONNABORTED (tcp_abort() or stack shutdown). c is invalid
 *              after the call returns; no other event follows.
 * Any member may be NULL. Handlers may call tcp_send(), tcp_recv_*(),
 * tcp_shutdown(), tcp_close() and tcp_abort() on their own connection;
 * a connection closed or aborted inside a handler gets no further event
 * but closed, which is deferred until the handler has returned.
 */
#ifndef SLUICE_TCPSTACK_TCP_H
#define SLUICE_TCPSTACK_TCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "tcpstack/net.h"
#include "tcpstack/pkt.h"

struct tcp_stack;
struct tcp_conn;

#define TCP_CONN_SLAB 4096

/* Defaults that other modules check configurations against. */
#define TCP_RTO_MIN_US_DEFAULT  200000u
#define TCP_RTO_MAX_US_DEFAULT  60000000u
#define TCP_RTO_INIT_US_DEFAULT 1000000u

/* Zero fields take the default shown. */
struct tcp_stack_config {
	uint32_t max_conns;        /* 65536 connections (not TIME_WAIT) */
	uint32_t max_time_wait;    /* 65536 compact TIME_WAIT records; when
	                            * full the oldest is dropped early */
	uint32_t syn_backlog;      /* 1024 half-open per listener; beyond it
	                            * SYN cookies (RFC 4987) */
	uint32_t rcvbuf;           /* 131072 bytes per connection, 4 KiB..16 MiB */
	uint32_t sndbuf;           /* 131072 bytes per connection, 4 KiB..16 MiB */
	uint64_t snd_pool;         /* 64 MiB: send-buffer chunks per stack */
	uint32_t ooo_max;          /* 64 out-of-order packets per connection */
	uint16_t mss_floor;        /* 216: a peer's smaller MSS is raised to it */
	uint32_t rto_min_us;       /* 200000 (RFC 6298 says 1 s; Linux 200 ms) */
	uint32_t rto_max_us;       /* 60000000 */
	uint32_t rto_init_us;      /* 1000000 (RFC 6298 2.1) */
	uint32_t syn_retries;      /* 5 SYN / SYN-ACK retransmissions */
	uint32_t data_retries;     /* 15 retransmissions before -ETIMEDOUT */
	uint32_t delack_us;        /* 40000: delayed-ACK timeout */
	uint32_t time_wait_us;     /* 60000000 (2 MSL) */
	uint32_t fin_wait2_us;     /* 60000000: orphaned FIN-WAIT-2 lifetime */
	uint32_t keepalive_idle_us;   /* 0: keepalive off; else idle before probes */
	uint32_t keepalive_intvl_us;  /* 75000000 */
	uint32_t keepalive_probes;    /* 9 */
	uint32_t challenge_ack_rate;  /* 10 per second per connection (RFC 5961) */
	uint32_t challenge_ack_burst; /* 10 */
	uint32_t rst_rate;         /* 1000 RSTs per second for segments that
	                            * match no connection (per stack) */
	uint32_t rst_burst;        /* 100 */
	bool no_timestamps;        /* do not offer/accept RFC 7323 timestamps */
	bool no_wscale;            /* do not offer/accept window scaling */
	bool no_sack;              /* do not offer/accept SACK */
	uint8_t isn_key[16];       /* required: random bytes (RFC 6528) */
	uint8_t cookie_key[16];    /* required: random bytes (SYN cookies) */
	uint16_t ephemeral_lo;     /* 32768: tcp_connect() local ports */
	uint16_t ephemeral_hi;     /* 60999 */
};

struct tcp_handler {
	int (*accepted)(void *lctx, struct tcp_conn *c, void **ctx);
	void (*connected)(void *ctx, struct tcp_conn *c);
	void (*readable)(void *ctx, struct tcp_conn *c);
	void (*writable)(void *ctx, struct tcp_conn *c);
	void (*closed)(void *ctx, struct tcp_conn *c, int err);
};

enum tcp_state {
	TCP_CLOSED, TCP_LISTEN, TCP_SYN_SENT, TCP_SYN_RCVD, TCP_ESTABLISHED,
	TCP_FIN_WAIT1, TCP_FIN_WAIT2, TCP_CLOSING, TCP_TIME_WAIT,
	TCP_CLOSE_WAIT, TCP_LAST_ACK, TCP_NSTATES
};

/* Counters of one stack (copied out by tcp_stack_stats()). */
struct tcp_stack_stats {
	uint64_t conns[TCP_NSTATES];   /* current connections by state
	                                * (TIME_WAIT: compact records) */
	uint64_t active_opens, passive_opens;
	uint64_t accept_refused;       /* accepted() said no, or no memory */
	uint64_t conn_limit;           /* SYNs/connects refused: max_conns */
	uint64_t segs_in, segs_out;
	uint64_t bytes_in, bytes_out;  /* payload, first transmissions only */
	uint64_t retrans_segs, retrans_bytes;
	uint64_t rto_expired, fast_retrans, sack_recovery;
	uint64_t dup_acks;
	uint64_t bad_csum, bad_hdr;    /* dropped before any lookup */
	uint64_t no_conn;              /* segments for no connection */
	uint64_t rst_sent, rst_ratelimited, rst_rcvd;
	uint64_t challenge_acks, challenge_ratelimited;
	uint64_t paws_drops;
	uint64_t syn_cookies_sent, syn_cookies_ok, syn_cookies_bad;
	uint64_t syn_dup;              /* SYN retransmits answered with our ISN */
	uint64_t ooo_queued, ooo_dropped;  /* out-of-order packets */
	uint64_t rcv_pruned;           /* in-order packets dropped: queue full */
	uint64_t rcv_collapsed;        /* small segments copied together */
	uint64_t zero_window_probes, window_updates;
	uint64_t keepalive_probes, timeouts;
	uint64_t time_wait_reused, time_wait_evicted;
	uint64_t pmtu_updates;
	uint64_t snd_pool_empty;       /* tcp_send() short of chunks */
	uint64_t delayed_acks, quick_acks;
	uint64_t pushed_acks;        /* ACKed when a read drained a short segment */
	uint64_t dup_data;             /* segments with data we had already */
	uint64_t dsacks;               /* ... reported in a D-SACK block */
	uint64_t alloc_fail;           /* ops->alloc empty: a segment not sent */
	uint64_t tx_errors;            /* net_ip_output() refused a segment */
};

/* NULL on bad config (keys all zero, a size out of range, net or a NULL
 * member) or out of memory. net is borrowed for the stack's life, and its
 * hooks are set to the TCP engine's. */
struct tcp_stack *tcp_stack_create(const struct tcp_stack_config *cfg,
				   struct net_stack *net,
				   const struct net_pkt_ops *ops, void *env,
				   uint64_t now_us);

/* Aborts every connection (closed events with -ECONNABORTED), frees all
 * queued packets through ops->free, then the stack. NULL ok. */
void tcp_stack_free(struct tcp_stack *s);

/* Timers due at now_us (retransmissions, delayed ACKs, probes, keepalive,
 * TIME_WAIT expiry). O(1) when nothing is due: call every loop turn. */
void tcp_stack_advance(struct tcp_stack *s, uint64_t now_us);

/* Microseconds until tcp_stack_advance() may have work, or UINT64_MAX
 * when no timer is armed (for idle back-off). */
uint64_t tcp_stack_next_timer_us(struct tcp_stack *s, uint64_t now_us);

void tcp_stack_stats(const struct tcp_stack *s, struct tcp_stack_stats *out);

/* Stop accepting new connections on every listener (SYNs are reset) while
 * existing connections carry on: the first step of graceful shutdown. */
void tcp_stack_drain(struct tcp_stack *s);

/* Connections that are not TIME_WAIT. */
uint32_t tcp_stack_nconns(const struct tcp_stack *s);

/* ---- listeners ---- */

/* Listen on addr:port (addr 0: the stack's address); h and lctx are
 * borrowed until tcp_stack_free(). 0, -EADDRINUSE, -ENOSPC (16 listeners
 * per stack), -EINVAL. */
int tcp_listen(struct tcp_stack *s, uint32_t addr, uint16_t port,
	       const struct tcp_handler *h, void *lctx);

/* ---- connections ---- */

/* Open a connection to raddr:rport from the stack's address and a free
 * ephemeral port; the handler's connected or closed event follows. NULL
 * with *err = -ENOSPC (max_conns or no free port), -EINVAL. */
struct tcp_conn *tcp_connect(struct tcp_stack *s, uint32_t raddr,
			     uint16_t rport, const struct tcp_handler *h,
			     void *ctx, int *err);

/*
 * In-order received data without copying: up to n iovecs pointing into the
 * queued packets, first byte first. Returns the iovec count (0: nothing
 * queued). *bytes (may be NULL) gets their total. The memory stays valid
 * until tcp_recv_consume() passes it or the connection closes.
 */
unsigned tcp_recv_iov(struct tcp_conn *c, struct iovec *iov, unsigned n,
		      size_t *bytes);

/* Mark n bytes (<= queued) as read: packets fully read are freed and the
 * window reopens (a window update is sent when it grows by 2 MSS or by
 * half the buffer from a closed or small window). */
void tcp_recv_consume(struct tcp_conn *c, size_t n);

/* Bytes received in order and not yet consumed. */
size_t tcp_recv_queued(const struct tcp_conn *c);

/* The peer sent FIN and every byte before it has been consumed. */
bool tcp_recv_eof(const struct tcp_conn *c);

/* Free space in the send buffer now. */
size_t tcp_send_space(const struct tcp_conn *c);

#define TCP_SEND_MORE 0x1  /* more follows: hold a partial last segment */

/*
 * Copy up to len bytes into the send buffer and transmit what the windows
 * allow (without TCP_SEND_MORE, a partial last segment goes out now: no
 * Nagle). Returns the bytes taken (may be less than len; writable follows
 * when space returns), -EAGAIN (no space at all), -EPIPE (after
 * tcp_shutdown/tcp_close, or the connection is closing), -ENOTCONN
 * (handshake not done).
 */
ssize_t tcp_send(struct tcp_conn *c, const void *buf, size_t len,
		 unsigned flags);

/* Send FIN after the queued data; receiving goes on. 0 or -ENOTCONN. */
int tcp_shutdown(struct tcp_conn *c);

/* tcp_shutdown() and detach: no more readable/writable events, received
 * data is discarded (an unread byte arriving later resets, RFC 9293
 * 3.6.1); closed still follows when the connection is gone. */
void tcp_close(struct tcp_conn *c);

/* Send RST, drop everything; closed(-ECONNABORTED) follows. */
void tcp_abort(struct tcp_conn *c);

enum tcp_state tcp_conn_state(const struct tcp_conn *c);
const char *tcp_state_name(enum tcp_state st);

/* The 4-tuple, host order. */
void tcp_conn_tuple(const struct tcp_conn *c, uint32_t *laddr, uint16_t *lport,
		    uint32_t *raddr, uint16_t *rport);

/* Replace the ctx given to events (e.g. after accepted). */
void tcp_conn_set_ctx(struct tcp_conn *c, void *ctx);

/* Per-connection numbers for diagnostics and tests. */
struct tcp_conn_info {
	enum tcp_state state;
	uint32_t snd_mss, rcv_mss;
	uint8_t snd_wscale, rcv_wscale;   /* 0 when not negotiated */
	bool ts_ok, sack_ok;
	uint32_t cwnd, ssthresh, snd_wnd, rcv_wnd;
	uint32_t srtt_us, rttvar_us, rto_us;
	uint32_t in_flight;               /* bytes sent, not acknowledged */
	uint32_t snd_queued;              /* bytes in the send buffer */
	uint32_t rcv_queued, ooo_pkts;
	uint32_t retransmits;             /* total for this connection */
};
void tcp_conn_info(const struct tcp_conn *c, struct tcp_conn_info *out);

/* Bytes of struct tcp_conn, and of a TIME_WAIT record (for the memory
 * benchmark). */
size_t tcp_conn_size(void);
size_t tcp_time_wait_size(void);

#endif
