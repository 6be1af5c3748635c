/*
 * tcpstack/tcp_out.c - segment building and transmission: SYN, SYN-ACK,
 * data under min(cwnd, peer window) with sender SWS avoidance, FIN after
 * the data, ACKs with our window (never moving its right edge left,
 * receiver SWS avoidance), RSTs (rate-limited for segments that match no
 * connection), challenge ACKs (rate-limited per connection), probes; and
 * the application's send side (tcp_send, tcp_shutdown, tcp_close,
 * tcp_abort).
 */
#include "tcpstack/tcp_int.h"

#include <errno.h>
#include <string.h>

static uint32_t min32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

/* ---- receive window ---- */

uint32_t tcp_rcv_space(const struct tcp_conn *c)
{
	const struct tcp_stack *s = c->s;
	if (c->rq.pkts >= s->rcvq_pkt_max || c->rq.bytes >= s->cfg.rcvbuf)
		return 0;
	return s->cfg.rcvbuf - c->rq.bytes;
}

/*
 * The window field for a segment we send now, and the right edge it
 * advertises (rcv_adv). The edge never moves left (RFC 9293 3.8.6, RFC
 * 7323 2.4) and moves right only in steps of min(rcvbuf / 2, MSS)
 * (receiver SWS avoidance, RFC 9293 3.8.6.2.2).
 */
uint16_t tcp_rcv_window(struct tcp_conn *c)
{
	const struct tcp_stack *s = c->s;
	uint32_t space = tcp_rcv_space(c);
	if (c->state == TCP_SYN_SENT || c->state == TCP_SYN_RCVD ||
	    c->state == TCP_CLOSED) {
		uint32_t w = min32(space, 65535);  /* SYN windows are unscaled */
		if (tcp_seq_lt(c->rcv_adv, c->rcv_nxt + w))
			c->rcv_adv = c->rcv_nxt + w;
		return (uint16_t)w;
	}
	uint32_t cur = tcp_seq_gt(c->rcv_adv, c->rcv_nxt) ?
			       c->rcv_adv - c->rcv_nxt : 0;
	uint32_t step = min32(s->cfg.rcvbuf / 2, s->our_mss);
	uint32_t wnd = cur;
	if (space > cur && space - cur >= step)
		wnd = space;
	unsigned sh = c->rcv_wscale;
	uint32_t maxw = (uint32_t)65535 << sh;
	if (wnd > maxw)
		wnd = maxw;
	uint32_t field = wnd >> sh;
	if ((field << sh) < cur)  /* rounding would pull the edge left */
		field = (cur + (1u << sh) - 1) >> sh;
	if (field > 65535)
		field = 65535;
	c->rcv_adv = c->rcv_nxt + (field << sh);
	return (uint16_t)field;
}

/* ---- building ---- */

int tcp_xmit_raw(struct tcp_stack *s, uint32_t laddr, uint16_t lport,
		 uint32_t raddr, uint16_t rport, const struct tcp_seg *g,
		 const struct tcp_sndbuf *sb)
{
	uint8_t ob[TCP_OPTS_MAX];
	int ol = 0;
	if (g->opts != NULL) {
		ol = tcp_opts_build(g->opts, ob, sizeof ob, NULL);
		TCP_BUG_ON(ol < 0);
		if (ol < 0)
			ol = 0;
	}
	struct net_pkt *p = s->ops->alloc(s->env);
	if (tcp_unlikely(p == NULL)) {
		s->st.alloc_fail++;
		return -ENOBUFS;
	}
	uint32_t hl = TCP_HLEN_MIN + (uint32_t)ol;
	uint8_t *b = net_pkt_append(p, hl + g->len);
	if (tcp_unlikely(b == NULL)) {
		TCP_BUG_ON(1);  /* the pool promises room for the MTU */
		s->ops->free(s->env, p);
		s->st.alloc_fail++;
		return -ENOBUFS;
	}
	if (g->len > 0 && tcp_sndbuf_copy(sb, g->seq, g->len, b + hl) != 0) {
		TCP_BUG_ON(1);  /* we only send bytes we hold */
		s->ops->free(s->env, p);
		return -EINVAL;
	}
	struct tcp_hdr_info t = {
		.sport = lport, .dport = rport, .seq = g->seq, .ack = g->ack,
		.flags = g->flags, .window = g->win, .opts = ob,
		.opts_len = (uint8_t)ol, .payload_len = (uint16_t)g->len,
	};
	int n = tcp_hdr_build(b, hl, &t, laddr, raddr, b + hl);
	TCP_BUG_ON(n != (int)hl);
	(void)n;
	s->st.segs_out++;
	int rc = net_ip_output(s->net, p, raddr, NET_IPPROTO_TCP, s->now_us);
	if (rc != 0) {
		s->st.tx_errors++;
		TCP_BUG_ON(rc == -EMSGSIZE || rc == -ENOSPC);
	}
	return rc;
}

/* Options of a segment of c: TS when negotiated, SACK blocks when
 * negotiated and out-of-order data is queued or duplicate data is to be
 * reported (the D-SACK block first, then the queue's blocks). Returns the option bytes
 * beyond the timestamp (taken from the payload room). */
static uint32_t conn_opts(struct tcp_conn *c, struct tcp_opts *o)
{
	o->present = 0;
	if (c->flags & TCP_CF_TS) {
		o->present |= TCP_OPTF_TS;
		o->ts_val = tcp_now_ms(c->s);
		o->ts_ecr = c->ts_recent;
	}
	if ((c->flags & TCP_CF_SACK) &&
	    (c->oq.pkts > 0 || (c->flags & TCP_CF_DSACK))) {
		unsigned room = (c->flags & TCP_CF_TS) ? 3 : 4;
		unsigned n = 0;
		if (c->flags & TCP_CF_DSACK)  /* first (RFC 2883 4) */
			o->sack[n++] = c->dsack;
		if (c->oq.pkts > 0)
			n += tcp_oooq_blocks(&c->oq, o->sack + n, room - n);
		if (n > 0) {
			o->present |= TCP_OPTF_SACK;
			o->sack_n = (uint8_t)n;
			return 4 + 8 * n;
		}
	}
	return 0;
}

/* Send one segment of c from seq with len bytes of the send buffer. */
static int conn_xmit(struct tcp_conn *c, uint32_t seq, uint32_t len,
		     uint8_t flags, struct tcp_opts *o)
{
	struct tcp_opts local;
	if (o == NULL) {
		o = &local;
		conn_opts(c, o);
	}
	struct tcp_seg g = {
		.seq = seq, .flags = flags, .len = len, .opts = o,
	};
	if (flags & TCP_ACK) {
		g.ack = c->rcv_nxt;
		c->last_ack_sent = c->rcv_nxt;
		c->rcv_unacked = 0;
		c->flags &= ~(TCP_CF_ACK_NOW | TCP_CF_PUSHED | TCP_CF_ACK_BURST);
		if (tmr_armed(&c->delack))
			tmr_cancel(&c->s->wheel, &c->delack);
	}
	g.win = tcp_rcv_window(c);
	int rc = tcp_xmit_raw(c->s, c->laddr, c->lport, c->raddr, c->rport,
			      &g, &c->sb);
	if ((c->flags & TCP_CF_DSACK) && (o->present & TCP_OPTF_SACK) &&
	    o->sack[0].left == c->dsack.left &&
	    o->sack[0].right == c->dsack.right) {
		/* reported once; later segments built from o go without */
		c->flags &= ~TCP_CF_DSACK;
		c->s->st.dsacks++;
		o->sack_n--;
		memmove(&o->sack[0], &o->sack[1], o->sack_n * sizeof o->sack[0]);
		if (o->sack_n == 0)
			o->present &= ~TCP_OPTF_SACK;
	}
	return rc;
}

/*
 * A bare ACK carries snd_max, not snd_nxt: after a timeout rewinds snd_nxt
 * to snd_una, an ACK numbered snd_nxt can lie before the peer's rcv_nxt,
 * and a peer that applies the sequence test first (Linux does, RFC 9293
 * 3.10.7.4 says to) discards it without reading its ACK field. Two stacks
 * that both rewound then answer each other's ACKs with ACKs forever while
 * neither learns what the other received (FreeBSD's tcp_output numbers
 * bare ACKs with snd_max for the same reason).
 */
void tcp_send_ack(struct tcp_conn *c)
{
	conn_xmit(c, c->snd_max, 0, TCP_ACK, NULL);
}

void tcp_send_challenge_ack(struct tcp_conn *c)
{
	struct tcp_stack *s = c->s;
	if (!net_rl_take(&c->chal_rl, s->now_us)) {
		s->st.challenge_ratelimited++;
		return;
	}
	s->st.challenge_acks++;
	tcp_send_ack(c);
}

static void syn_opts(struct tcp_conn *c, struct tcp_opts *o, bool synack)
{
	const struct tcp_stack *s = c->s;
	o->present = TCP_OPTF_MSS;
	o->mss = s->our_mss;
	if (synack ? (c->flags & TCP_CF_WS) : !s->cfg.no_wscale) {
		o->present |= TCP_OPTF_WSCALE;
		o->wscale = c->rcv_wscale;
	}
	if (synack ? (c->flags & TCP_CF_SACK) : !s->cfg.no_sack)
		o->present |= TCP_OPTF_SACK_PERM;
	if (synack ? (c->flags & TCP_CF_TS) : !s->cfg.no_timestamps) {
		o->present |= TCP_OPTF_TS;
		o->ts_val = tcp_now_ms(s);
		o->ts_ecr = synack ? c->ts_recent : 0;
	}
}

void tcp_send_syn(struct tcp_conn *c)
{
	struct tcp_opts o;
	syn_opts(c, &o, false);
	c->snd_nxt = c->snd_max = c->iss + 1;
	if (c->retransmits == 0) {
		c->flags |= TCP_CF_RTT;
		c->rtt_ms = tcp_now_ms(c->s);
	}
	conn_xmit(c, c->iss, 0, TCP_SYN, &o);
	if (!tmr_armed(&c->tmr))
		tcp_arm_rtx(c);
}

void tcp_send_synack(struct tcp_conn *c)
{
	struct tcp_opts o;
	syn_opts(c, &o, true);
	c->snd_nxt = c->snd_max = c->iss + 1;
	if (c->retransmits == 0 && !(c->flags & TCP_CF_RTT)) {
		c->flags |= TCP_CF_RTT;
		c->rtt_ms = tcp_now_ms(c->s);
	}
	conn_xmit(c, c->iss, 0, TCP_SYN | TCP_ACK, &o);
	if (!tmr_armed(&c->tmr))
		tcp_arm_rtx(c);  /* a duplicate SYN does not restart it */
}

void tcp_send_rst(struct tcp_conn *c)
{
	c->s->st.rst_sent++;
	conn_xmit(c, c->snd_max, 0, TCP_RST | TCP_ACK, NULL);
}

void tcp_rst_reply(struct tcp_stack *s, uint32_t laddr, uint32_t raddr,
		   const struct tcp_hdr_info *th)
{
	if (th->flags & TCP_RST)
		return;  /* never answer a RST */
	if (!net_rl_take(&s->rst_rl, s->now_us)) {
		s->st.rst_ratelimited++;
		return;
	}
	struct tcp_seg g = {0};
	if (th->flags & TCP_ACK) {
		g.seq = th->ack;
		g.flags = TCP_RST;
	} else {
		g.ack = th->seq + th->payload_len +
			((th->flags & TCP_SYN) != 0) + ((th->flags & TCP_FIN) != 0);
		g.flags = TCP_RST | TCP_ACK;
	}
	s->st.rst_sent++;
	tcp_xmit_raw(s, laddr, th->dport, raddr, th->sport, &g, NULL);
}

static uint32_t data_end(const struct tcp_conn *c)
{
	return c->sb.una + c->sb.len;
}

static bool fin_sent(const struct tcp_conn *c)
{
	return (c->flags & TCP_CF_FIN_Q) && tcp_seq_gt(c->snd_max, data_end(c));
}

static void count_tx(struct tcp_conn *c, uint32_t seq, uint32_t len,
		     bool fin)
{
	struct tcp_stack *s = c->s;
	if (tcp_seq_lt(seq, c->snd_max)) {
		s->st.retrans_segs++;
		s->st.retrans_bytes += len;
		c->retransmits++;
		c->flags &= ~TCP_CF_RTT;  /* Karn: no sample across this */
	} else {
		s->st.bytes_out += len;
		if (!(c->flags & TCP_CF_RTT) && (len > 0 || fin)) {
			c->flags |= TCP_CF_RTT;
			c->rtt_seq = seq;
			c->rtt_ms = tcp_now_ms(s);
		}
	}
}

/*
 * Resend from seq, at most max bytes and never past what was sent
 * (snd_max): the option space differs from the first transmission (SACK
 * blocks come and go), so a full segment now can be longer than the one
 * it repeats, and bytes beyond snd_max that reached the peer would be
 * acknowledged by an ACK we must treat as acking unsent data (RFC 5961
 * 5.2), after which neither side accepts the other's segments.
 */
uint32_t tcp_retransmit_seg(struct tcp_conn *c, uint32_t seq, uint32_t max)
{
	uint32_t end = data_end(c);
	if (tcp_seq_lt(c->snd_max, end))
		end = c->snd_max;  /* data not yet sent stays for tcp_output */
	struct tcp_opts o;
	uint32_t extra = conn_opts(c, &o);
	uint32_t mss = min32(tcp_eff_mss(c) - extra, max);
	uint32_t len = tcp_seq_lt(seq, end) ? min32(end - seq, mss) : 0;
	uint8_t fl = TCP_ACK;
	if (fin_sent(c) && seq + len == end)
		fl |= TCP_FIN;
	if (len == 0 && !(fl & TCP_FIN))
		return 0;
	if (seq + len == end)
		fl |= TCP_PSH;
	count_tx(c, seq, len, fl & TCP_FIN);
	conn_xmit(c, seq, len, fl, &o);
	return len + ((fl & TCP_FIN) ? 1 : 0);
}

/*
 * Send what the windows allow. A partial segment goes out when it is all
 * the data (unless TCP_SEND_MORE holds it), or when it is at least half
 * the largest window the peer offered (sender SWS avoidance, RFC 9293
 * 3.8.6.2.1); otherwise it waits for more data or window.
 */
void tcp_output(struct tcp_conn *c)
{
	switch (c->state) {
	case TCP_ESTABLISHED: case TCP_CLOSE_WAIT: case TCP_FIN_WAIT1:
	case TCP_CLOSING: case TCP_LAST_ACK:
		break;
	default:
		if (c->flags & TCP_CF_ACK_NOW)
			tcp_send_ack(c);
		return;
	}
	struct tcp_opts o;
	uint32_t extra = conn_opts(c, &o);
	uint32_t mss = tcp_eff_mss(c) - extra;
	uint32_t end = data_end(c);
	bool sent = false;
	for (;;) {
		uint32_t wnd = min32(c->snd_wnd, c->cwnd);
		uint32_t limit = c->snd_una + wnd;
		uint32_t avail = tcp_seq_lt(c->snd_nxt, end) ? end - c->snd_nxt
							     : 0;
		uint32_t usable = tcp_seq_lt(c->snd_nxt, limit) ?
					  limit - c->snd_nxt : 0;
		uint32_t len = min32(min32(avail, usable), mss);
		bool fin = (c->flags & TCP_CF_FIN_Q) && len == avail &&
			   tcp_seq_le(c->snd_nxt, end);
		if (len == 0 && !fin)
			break;
		if (len < mss && !fin) {
			bool all = len == avail;
			if (all && (c->flags & TCP_CF_MORE) &&
			    !(c->flags & TCP_CF_FORCE))
				break;
			if (!all && len < c->max_sndwnd / 2 &&
			    !(c->flags & TCP_CF_FORCE))
				break;
		}
		uint8_t fl = TCP_ACK;
		if (fin)
			fl |= TCP_FIN;
		if (len > 0 && c->snd_nxt + len == end)
			fl |= TCP_PSH;
		uint32_t seq = c->snd_nxt;
		count_tx(c, seq, len, fin);
		conn_xmit(c, seq, len, fl, &o);
		sent = true;
		c->snd_nxt = seq + len + (fin ? 1 : 0);
		if (tcp_seq_gt(c->snd_nxt, c->snd_max))
			c->snd_max = c->snd_nxt;
		if (c->tmode != TCP_TM_RTX)
			tcp_arm_rtx(c);
		if (fin)
			break;
	}
	if (!sent && (c->flags & TCP_CF_ACK_NOW))
		tcp_send_ack(c);
	if (c->snd_una == c->snd_max)
		tcp_timer_idle(c);
}

/* Zero-window probe (one byte at snd_una, or a bare FIN) or keepalive
 * (no data, snd_una - 1, RFC 9293 3.8.4). */
void tcp_send_probe(struct tcp_conn *c, bool one_byte)
{
	if (!one_byte) {
		c->s->st.keepalive_probes++;
		conn_xmit(c, c->snd_una - 1, 0, TCP_ACK, NULL);
		return;
	}
	c->s->st.zero_window_probes++;
	uint32_t end = data_end(c);
	uint32_t seq = c->snd_una;
	uint32_t len = tcp_seq_lt(seq, end) ? 1 : 0;
	uint8_t fl = TCP_ACK;
	if (len == 0 && (c->flags & TCP_CF_FIN_Q))
		fl |= TCP_FIN;
	count_tx(c, seq, len, fl & TCP_FIN);
	conn_xmit(c, seq, len, fl, NULL);
	uint32_t nxt = seq + len + ((fl & TCP_FIN) ? 1 : 0);
	if (tcp_seq_gt(nxt, c->snd_nxt))
		c->snd_nxt = nxt;
	if (tcp_seq_gt(nxt, c->snd_max))
		c->snd_max = nxt;
}

/* ---- the application's side ---- */

ssize_t tcp_send(struct tcp_conn *c, const void *buf, size_t len,
		 unsigned flags)
{
	if (c->flags & (TCP_CF_ZOMBIE | TCP_CF_DETACHED | TCP_CF_FIN_Q))
		return -EPIPE;
	if (c->state == TCP_SYN_SENT || c->state == TCP_SYN_RCVD)
		return -ENOTCONN;
	if (c->state != TCP_ESTABLISHED && c->state != TCP_CLOSE_WAIT)
		return -EPIPE;
	if (len == 0)
		return 0;
	uint32_t want = len > UINT32_MAX / 2 ? UINT32_MAX / 2 : (uint32_t)len;
	uint32_t space = tcp_sndbuf_space(&c->sb);
	uint32_t n = space ? tcp_sndbuf_append(&c->sb, c->s->pool, buf, want)
			   : 0;
	if (n < want) {
		c->flags |= TCP_CF_WANT_W;
		if (n < min32(want, space))
			c->s->st.snd_pool_empty++;
	}
	if (n == 0)
		return -EAGAIN;
	if (flags & TCP_SEND_MORE)
		c->flags |= TCP_CF_MORE;
	else
		c->flags &= ~TCP_CF_MORE;
	tcp_output(c);
	return n;
}

size_t tcp_send_space(const struct tcp_conn *c)
{
	if (c->flags & (TCP_CF_ZOMBIE | TCP_CF_FIN_Q))
		return 0;
	uint32_t space = tcp_sndbuf_space(&c->sb);
	size_t pool = tcp_chunk_pool_avail(c->s->pool) * TCP_CHUNK_SIZE;
	return space < pool ? space : pool;
}

int tcp_shutdown(struct tcp_conn *c)
{
	if (c->flags & TCP_CF_ZOMBIE)
		return -ENOTCONN;
	if (c->flags & TCP_CF_FIN_Q)
		return 0;
	switch (c->state) {
	case TCP_ESTABLISHED:
		tcp_set_state(c, TCP_FIN_WAIT1);
		break;
	case TCP_CLOSE_WAIT:
		tcp_set_state(c, TCP_LAST_ACK);
		break;
	default:
		return -ENOTCONN;
	}
	c->flags |= TCP_CF_FIN_Q;
	c->flags &= ~TCP_CF_MORE;
	tcp_output(c);
	return 0;
}

void tcp_abort(struct tcp_conn *c)
{
	if (c->flags & TCP_CF_ZOMBIE)
		return;
	if (c->state != TCP_SYN_SENT && c->state != TCP_CLOSED)
		tcp_send_rst(c);
	tcp_conn_gone(c, -ECONNABORTED);
}

void tcp_close(struct tcp_conn *c)
{
	if (c->flags & TCP_CF_ZOMBIE)
		return;
	c->flags |= TCP_CF_DETACHED;
	c->flags &= ~(TCP_CF_PEND_R | TCP_CF_PEND_W | TCP_CF_WANT_W);
	if (c->flags & TCP_CF_LINGER) {
		tcp_rcvq_purge(&c->rq, &c->s->bo);
		tcp_linger_check(c);
		return;
	}
	if (c->rq.bytes > 0 || c->state == TCP_SYN_SENT ||
	    c->state == TCP_SYN_RCVD) {
		/* unread data is lost: tell the peer (RFC 2525 2.17) */
		tcp_abort(c);
		return;
	}
	if (c->state == TCP_ESTABLISHED || c->state == TCP_CLOSE_WAIT)
		tcp_shutdown(c);
	else if (c->state == TCP_FIN_WAIT2)
		tcp_timer_idle(c);
}
