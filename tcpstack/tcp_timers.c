/*
 * tcpstack/tcp_timers.c - the timers of a connection on the stack's wheel
 * (1 ms ticks): one main timer whose mode is retransmission (RFC 6298,
 * SYN and SYN-ACK included), persist (zero-window probes, or the SWS
 * override when a partial segment was held back), keepalive or the
 * orphaned FIN-WAIT-2 lifetime (the modes never overlap: persist and
 * keepalive run only with nothing in flight), plus the delayed ACK.
 * TIME_WAIT records need no timer (tcp_conn.c expires their FIFO).
 */
#include "tcpstack/tcp_int.h"

#include <errno.h>

#define conn_of(t, member) \
	((struct tcp_conn *)((char *)(t) - offsetof(struct tcp_conn, member)))

static void backoff(struct tcp_conn *c)
{
	uint64_t r = (uint64_t)c->rto_us * 2;
	c->rto_us = (uint32_t)(r > c->s->cfg.rto_max_us ? c->s->cfg.rto_max_us
							 : r);
}

void tcp_rtt_sample(struct tcp_conn *c, uint32_t r)
{
	const struct tcp_stack_config *cf = &c->s->cfg;
	if (r == 0)
		r = 1;
	if (c->srtt_us == 0) {
		c->srtt_us = r;
		c->rttvar_us = r / 2;
	} else {
		uint32_t d = c->srtt_us > r ? c->srtt_us - r : r - c->srtt_us;
		c->rttvar_us = c->rttvar_us - c->rttvar_us / 4 + d / 4;
		c->srtt_us = c->srtt_us - c->srtt_us / 8 + r / 8;
		if (c->srtt_us == 0)
			c->srtt_us = 1;
	}
	uint64_t k = (uint64_t)c->rttvar_us * 4;
	if (k < 1000)
		k = 1000;  /* G: the clock granularity (1 ms) */
	uint64_t rto = c->srtt_us + k;
	if (rto < cf->rto_min_us)
		rto = cf->rto_min_us;
	if (rto > cf->rto_max_us)
		rto = cf->rto_max_us;
	c->rto_us = (uint32_t)rto;
}

static void arm_mode(struct tcp_conn *c, enum tcp_tmode m, uint64_t us)
{
	c->tmode = (uint8_t)m;
	tmr_arm_us(&c->s->wheel, &c->tmr, us);
}

void tcp_arm_rtx(struct tcp_conn *c)
{
	arm_mode(c, TCP_TM_RTX, c->rto_us);
}

void tcp_arm_delack(struct tcp_conn *c)
{
	if (!tmr_armed(&c->delack))
		tmr_arm_us(&c->s->wheel, &c->delack, c->s->cfg.delack_us);
}

/* Anything (data or FIN) not sent yet. */
static bool unsent(const struct tcp_conn *c)
{
	uint32_t end = c->sb.una + c->sb.len;
	if (tcp_seq_lt(c->snd_max, end))
		return true;
	return (c->flags & TCP_CF_FIN_Q) && c->snd_max == end;
}

/* The main timer once nothing is in flight (or a probe byte is). */
void tcp_timer_idle(struct tcp_conn *c)
{
	struct tcp_stack *s = c->s;
	if (c->snd_una != c->snd_max) {
		if (c->tmode == TCP_TM_PERSIST && c->snd_wnd == 0 &&
		    tmr_armed(&c->tmr))
			return;
		if (c->tmode != TCP_TM_RTX || !tmr_armed(&c->tmr))
			tcp_arm_rtx(c);
		return;
	}
	bool sending = c->state == TCP_ESTABLISHED ||
		       c->state == TCP_CLOSE_WAIT ||
		       c->state == TCP_FIN_WAIT1 || c->state == TCP_CLOSING ||
		       c->state == TCP_LAST_ACK;
	if (sending && unsent(c)) {
		/* a closed window, or a partial segment held back (sender
		 * SWS avoidance, TCP_SEND_MORE): probe or override later */
		if (c->tmode != TCP_TM_PERSIST || !tmr_armed(&c->tmr))
			arm_mode(c, TCP_TM_PERSIST, c->rto_us);
		return;
	}
	if (c->state == TCP_FIN_WAIT2 && (c->flags & TCP_CF_DETACHED)) {
		if (c->tmode != TCP_TM_FW2 || !tmr_armed(&c->tmr))
			arm_mode(c, TCP_TM_FW2, s->cfg.fin_wait2_us);
		return;
	}
	if (s->cfg.keepalive_idle_us != 0 &&
	    (c->state == TCP_ESTABLISHED || c->state == TCP_CLOSE_WAIT)) {
		if (c->tmode != TCP_TM_KEEP || !tmr_armed(&c->tmr)) {
			c->ka_probes = 0;
			arm_mode(c, TCP_TM_KEEP, s->cfg.keepalive_idle_us);
		}
		return;
	}
	c->tmode = TCP_TM_NONE;
	tmr_cancel(&s->wheel, &c->tmr);
}

static void give_up(struct tcp_conn *c, bool rst)
{
	c->s->st.timeouts++;
	if (rst)
		tcp_send_rst(c);
	tcp_conn_gone(c, -ETIMEDOUT);
}

static void rtx_timeout(struct tcp_conn *c)
{
	struct tcp_stack *s = c->s;
	s->st.rto_expired++;
	if (c->state == TCP_SYN_SENT || c->state == TCP_SYN_RCVD) {
		if (++c->retries > s->cfg.syn_retries) {
			give_up(c, false);
			return;
		}
		backoff(c);
		s->st.retrans_segs++;
		c->retransmits++;
		c->flags &= ~TCP_CF_RTT;
		if (c->state == TCP_SYN_SENT)
			tcp_send_syn(c);
		else
			tcp_send_synack(c);
		return;
	}
	if (c->snd_una == c->snd_max) {
		tcp_timer_idle(c);
		return;
	}
	if (++c->retries > s->cfg.data_retries) {
		give_up(c, true);
		return;
	}
	uint32_t mss = tcp_eff_mss(c);
	uint32_t flight = c->snd_max - c->snd_una;
	c->ssthresh = flight / 2 > 2 * mss ? flight / 2 : 2 * mss;
	c->cwnd = mss;
	c->flags &= ~(TCP_CF_RECOVERY | TCP_CF_RTT);
	c->dupacks = 0;
	c->bytes_acked = 0;
	c->recover = c->snd_max;
	c->nsacked = 0;
	c->high_rxt = c->snd_una;
	backoff(c);
	c->snd_nxt = c->snd_una;
	tcp_arm_rtx(c);
	tcp_output(c);
}

static void persist_timeout(struct tcp_conn *c)
{
	if (c->snd_wnd > 0) {
		/* the override timeout of RFC 9293 3.8.6.2.1 */
		c->flags |= TCP_CF_FORCE;
		tcp_output(c);
		c->flags &= ~TCP_CF_FORCE;
		return;
	}
	if (++c->retries > c->s->cfg.data_retries) {
		give_up(c, true);
		return;
	}
	tcp_send_probe(c, true);
	backoff(c);
	arm_mode(c, TCP_TM_PERSIST, c->rto_us);
}

static void keep_timeout(struct tcp_conn *c)
{
	struct tcp_stack *s = c->s;
	uint32_t idle_ms = (uint32_t)(s->cfg.keepalive_idle_us / 1000);
	uint32_t quiet = tcp_now_ms(s) - c->last_rcv_ms;
	if (c->ka_probes == 0 && quiet < idle_ms) {
		arm_mode(c, TCP_TM_KEEP, (uint64_t)(idle_ms - quiet) * 1000);
		return;
	}
	if (c->ka_probes >= s->cfg.keepalive_probes) {
		give_up(c, true);
		return;
	}
	c->ka_probes++;
	tcp_send_probe(c, false);
	arm_mode(c, TCP_TM_KEEP, s->cfg.keepalive_intvl_us);
}

static void main_fire(struct tcp_timer_wheel *w, struct tcp_timer *t)
{
	(void)w;
	struct tcp_conn *c = conn_of(t, tmr);
	tcp_conn_hold(c);
	switch (c->tmode) {
	case TCP_TM_RTX:
		rtx_timeout(c);
		break;
	case TCP_TM_PERSIST:
		persist_timeout(c);
		break;
	case TCP_TM_KEEP:
		keep_timeout(c);
		break;
	case TCP_TM_FW2:
		give_up(c, false);
		break;
	default:
		break;
	}
	tcp_conn_release(c);
}

static void delack_fire(struct tcp_timer_wheel *w, struct tcp_timer *t)
{
	(void)w;
	struct tcp_conn *c = conn_of(t, delack);
	c->s->st.delayed_acks++;
	tcp_send_ack(c);
}

void tcp_timers_init(struct tcp_conn *c)
{
	tmr_timer_init(&c->tmr, main_fire);
	tmr_timer_init(&c->delack, delack_fire);
	c->tmode = TCP_TM_NONE;
}

void tcp_timers_stop(struct tcp_conn *c)
{
	tmr_cancel(&c->s->wheel, &c->tmr);
	tmr_cancel(&c->s->wheel, &c->delack);
	c->tmode = TCP_TM_NONE;
}
