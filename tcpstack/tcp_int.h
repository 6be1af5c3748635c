/*
 * tcpstack/tcp_int.h - private to the TCP engine (tcp_conn.c, tcp_in.c,
 * tcp_out.c, tcp_timers.c): the stack, the connection, the compact
 * TIME_WAIT record and the functions the four files share.
 */
#ifndef SLUICE_TCPSTACK_TCP_INT_H
#define SLUICE_TCPSTACK_TCP_INT_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

#include "tcpstack/isn.h"
#include "tcpstack/net.h"
#include "tcpstack/ratelimit.h"
#include "tcpstack/tcp.h"
#include "tcpstack/tcp_buf.h"
#include "tcpstack/tcpopt.h"
#include "tcpstack/timer.h"

#define TCP_LISTENERS_MAX 16
#define TCP_SACK_SB 4             /* SACK scoreboard ranges kept */
#define TCP_SACK_RTX_PER_ACK 2    /* hole retransmissions per incoming ACK */
#define TCP_COLLAPSE_MAX 256      /* small in-order payloads copied together */
#define TCP_DEFAULT_MSS 536       /* RFC 9293 3.7.1 without the option */
#define TCP_TSOPT_LEN 12          /* NOP NOP TS */
#define TCP_PAWS_IDLE_MS (24u * 24 * 3600 * 1000)  /* RFC 7323 5.5 */

#define tcp_unlikely(x) __builtin_expect(!!(x), 0)

#ifdef NDEBUG
#define TCP_BUG_ON(x) ((void)0)
#else
#define TCP_BUG_ON(x) assert(!(x))
#endif

/* struct tcp_conn.flags */
enum {
	TCP_CF_TS = 1u << 0,        /* timestamps negotiated */
	TCP_CF_SACK = 1u << 1,      /* SACK negotiated */
	TCP_CF_WS = 1u << 2,        /* window scaling negotiated */
	TCP_CF_FIN_Q = 1u << 3,     /* FIN queued after the send buffer */
	TCP_CF_FIN_RCVD = 1u << 4,  /* the peer's FIN is in order */
	TCP_CF_DETACHED = 1u << 5,  /* tcp_close(): no app events */
	TCP_CF_ACK_NOW = 1u << 6,   /* send an ACK before leaving input */
	TCP_CF_RTT = 1u << 7,       /* rtt_seq is being timed */
	TCP_CF_RECOVERY = 1u << 8,  /* NewReno fast recovery */
	TCP_CF_WANT_W = 1u << 9,    /* a tcp_send came up short */
	TCP_CF_PEND_R = 1u << 10,   /* readable pending */
	TCP_CF_PEND_W = 1u << 11,   /* writable pending */
	TCP_CF_ZOMBIE = 1u << 12,   /* closed, event pending, then free */
	TCP_CF_MORE = 1u << 13,     /* hold a partial last segment */
	TCP_CF_ACTIVE = 1u << 14,   /* tcp_connect(); else from a listener */
	TCP_CF_HALF = 1u << 15,     /* counted in its listener's half_open */
	TCP_CF_FORCE = 1u << 16,    /* override SWS avoidance once */
	TCP_CF_DSACK = 1u << 17,    /* report c->dsack in the next ACK */
	TCP_CF_LINGER = 1u << 18,   /* closed or TIME_WAIT, the app still
	                             * has data or the FIN to read */
	TCP_CF_LINGER_TW = 1u << 19,  /* ... then a TIME_WAIT record */
	TCP_CF_PUSHED = 1u << 20,   /* a segment shorter than the largest
	                             * seen is waiting for its ACK */
	TCP_CF_ACK_BURST = 1u << 21,  /* ACK at the end of this burst */
};

/* What the main timer of a connection does when it fires. */
enum tcp_tmode {
	TCP_TM_NONE, TCP_TM_RTX, TCP_TM_PERSIST, TCP_TM_KEEP, TCP_TM_FW2,
};

struct tcp_conn {
	struct tcp_conn *hnext;       /* hash chain; free list */
	struct tcp_stack *s;
	const struct tcp_handler *h;
	void *ctx;
	struct tcp_conn *pnext, **ppend;  /* pending events list */

	uint32_t laddr, raddr;
	uint16_t lport, rport;
	uint8_t state;
	uint8_t lidx;                 /* listener index + 1, 0 active */
	uint8_t busy;                 /* engine frames on the stack */
	uint8_t tmode;                /* enum tcp_tmode */
	uint32_t flags;               /* TCP_CF_* */
	int32_t err;                  /* closed() error once ZOMBIE */

	/* send side (RFC 9293 3.3.1) */
	uint32_t iss, snd_una, snd_nxt, snd_max;
	uint32_t snd_wnd, max_sndwnd, snd_wl1, snd_wl2;
	uint32_t cwnd, ssthresh, recover, bytes_acked, high_rxt;
	uint16_t mss;                 /* payload per segment, options out */
	uint16_t peer_mss;            /* the peer's MSS option (clamped) */
	uint16_t pmtu_mss;            /* mtu - 40 after PMTU updates */
	uint8_t snd_wscale, rcv_wscale;
	uint8_t dupacks, retries, ka_probes, nsacked;
	uint16_t rcv_seg_max;         /* largest payload seen (delayed ACK) */
	uint16_t syn_win;             /* window sent in our SYN(-ACK) */

	/* receive side */
	uint32_t irs, rcv_nxt, rcv_adv, last_ack_sent, rcv_unacked;
	uint32_t ts_recent, ts_recent_ms, last_rcv_ms;

	/* RTT (RFC 6298) */
	uint32_t srtt_us, rttvar_us, rto_us;
	uint32_t rtt_seq, rtt_ms;
	uint32_t retransmits;

	struct tcp_timer tmr;         /* RTX / persist / keepalive / FW2 */
	struct tcp_timer delack;
	struct tcp_sndbuf sb;
	struct tcp_rcvq rq;
	struct tcp_oooq oq;
	struct net_ratelimit chal_rl;
	struct tcp_sack_block sacked[TCP_SACK_SB];  /* scoreboard */
	struct tcp_sack_block dsack;  /* duplicate data to report (RFC 2883) */
};

/* A connection in TIME_WAIT, in a ring ordered by expiry. */
struct tcp_tw {
	uint32_t laddr, raddr;
	uint16_t lport, rport;
	uint32_t snd_nxt, rcv_nxt;
	uint32_t ts_recent;
	uint32_t expire_ms;
	uint32_t hnext;               /* index + 1 in the hash chain, 0 end */
	uint16_t win;                 /* window field for re-ACKs */
	uint8_t live, ts_ok;
};

struct tcp_listener {
	uint32_t addr;
	uint16_t port;
	uint8_t used;
	uint32_t half_open;
	const struct tcp_handler *h;
	void *lctx;
};

struct tcp_stack {
	struct tcp_stack_config cfg;  /* with defaults filled in */
	struct net_stack *net;
	const struct net_pkt_ops *ops;
	void *env;
	struct tcp_buf_ops bo;
	struct tcp_chunk_pool *pool;
	uint32_t addr;                /* our address */
	uint16_t mtu;
	uint16_t our_mss;             /* mtu - 40 */
	uint8_t rcv_wscale;           /* shift we offer for cfg.rcvbuf */
	uint8_t draining;
	uint64_t now_us;
	struct tcp_isn_key isn_key, cookie_key, hash_key;

	/* connections */
	struct tcp_conn **htab;
	uint32_t hmask;
	struct tcp_conn *free_list;
	struct tcp_conn **slabs;
	uint32_t nslabs, nalloc, nconns;
	uint32_t rcvq_pkt_max;
	struct tcp_conn *pend;        /* readable/writable to deliver */
	uint16_t eph_next;

	/* TIME_WAIT ring and its hash */
	struct tcp_tw *tw;
	uint32_t *tw_htab;
	uint32_t tw_hmask, tw_cap, tw_head, tw_len;

	struct tcp_listener lst[TCP_LISTENERS_MAX];
	struct net_ratelimit rst_rl;
	struct tcp_timer_wheel wheel;
	struct tcp_stack_stats st;
};

/* A segment to build (tcp_out.c). */
struct tcp_seg {
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t win;
	uint32_t len;                 /* payload from the send buffer at seq */
	const struct tcp_opts *opts;  /* NULL: none */
};

static inline uint32_t tcp_now_ms(const struct tcp_stack *s)
{
	return (uint32_t)(s->now_us / 1000);
}

/* tcp_conn.c */
uint32_t tcp_hash(const struct tcp_stack *s, uint32_t laddr, uint16_t lport,
		  uint32_t raddr, uint16_t rport);
struct tcp_conn *tcp_conn_lookup(struct tcp_stack *s, uint32_t laddr,
				 uint16_t lport, uint32_t raddr, uint16_t rport);
struct tcp_conn *tcp_conn_new(struct tcp_stack *s, uint32_t laddr,
			      uint16_t lport, uint32_t raddr, uint16_t rport);
void tcp_set_state(struct tcp_conn *c, enum tcp_state st);
void tcp_conn_gone(struct tcp_conn *c, int err);
void tcp_conn_hold(struct tcp_conn *c);
void tcp_conn_release(struct tcp_conn *c);
void tcp_conn_pend(struct tcp_conn *c, uint32_t what);
struct tcp_listener *tcp_listener_find(struct tcp_stack *s, uint32_t addr,
				       uint16_t port);
struct tcp_tw *tcp_tw_lookup(struct tcp_stack *s, uint32_t laddr,
			     uint16_t lport, uint32_t raddr, uint16_t rport);
void tcp_tw_enter(struct tcp_conn *c);
void tcp_conn_done(struct tcp_conn *c, bool tw);
void tcp_linger_check(struct tcp_conn *c);
void tcp_tw_kill(struct tcp_stack *s, struct tcp_tw *t);
void tcp_tw_expire(struct tcp_stack *s);
void tcp_conn_init_rtt(struct tcp_conn *c);
uint16_t tcp_eff_mss(const struct tcp_conn *c);
void tcp_deliver_pending(struct tcp_stack *s);

/* tcp_out.c */
int tcp_xmit_raw(struct tcp_stack *s, uint32_t laddr, uint16_t lport,
		 uint32_t raddr, uint16_t rport, const struct tcp_seg *g,
		 const struct tcp_sndbuf *sb);
void tcp_output(struct tcp_conn *c);
void tcp_send_ack(struct tcp_conn *c);
void tcp_send_synack(struct tcp_conn *c);
void tcp_send_syn(struct tcp_conn *c);
void tcp_send_rst(struct tcp_conn *c);
void tcp_send_challenge_ack(struct tcp_conn *c);
void tcp_send_probe(struct tcp_conn *c, bool one_byte);
void tcp_rst_reply(struct tcp_stack *s, uint32_t laddr, uint32_t raddr,
		   const struct tcp_hdr_info *th);
uint32_t tcp_retransmit_seg(struct tcp_conn *c, uint32_t seq, uint32_t max);
uint16_t tcp_rcv_window(struct tcp_conn *c);
uint32_t tcp_rcv_space(const struct tcp_conn *c);

/* tcp_timers.c */
void tcp_timers_init(struct tcp_conn *c);
void tcp_timers_stop(struct tcp_conn *c);
void tcp_arm_rtx(struct tcp_conn *c);
void tcp_timer_idle(struct tcp_conn *c);
void tcp_arm_delack(struct tcp_conn *c);
void tcp_rtt_sample(struct tcp_conn *c, uint32_t rtt_us);

/* tcp_in.c */
void tcp_input_hook(void *ctx, struct net_pkt *p,
		    const struct net_ipv4_info *ip, uint64_t now_us);
void tcp_icmp_hook(void *ctx, const struct net_icmp_info *info);

#endif
