/*
 * tcpstack/tcp_in.c - segment arrival (RFC 9293 3.10.7) with the RFC 5961
 * and RFC 7323 checks, LISTEN with SYN cookies beyond the backlog,
 * SYN-SENT, TIME_WAIT records, ACK processing (RFC 6298 RTT, RFC 5681
 * congestion control, RFC 6582 NewReno, SACK-driven hole retransmission),
 * in-order and out-of-order data, FIN, PMTU; and the application's
 * receive side (tcp_recv_*).
 *
 * Every path consumes the packet: the functions below return it when they
 * did not keep it and the caller frees it.
 */
#include "tcpstack/tcp_int.h"

#include <errno.h>

static uint32_t min32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

static uint32_t max32(uint32_t a, uint32_t b)
{
	return a > b ? a : b;
}

static void pkt_free(struct tcp_stack *s, struct net_pkt *p)
{
	if (p != NULL)
		s->ops->free(s->env, p);
}

static uint32_t data_end(const struct tcp_conn *c)
{
	return c->sb.una + c->sb.len;
}

static uint32_t init_cwnd(const struct tcp_conn *c)
{
	return 10u * tcp_eff_mss(c);  /* RFC 6928 */
}

/* Options of a SYN or SYN-ACK from the peer: what both sides use. */
static void syn_negotiate(struct tcp_conn *c, const struct tcp_hdr_info *th,
			  const struct tcp_opts *o)
{
	struct tcp_stack *s = c->s;
	c->irs = th->seq;
	c->rcv_nxt = th->seq + 1;
	c->rcv_adv = c->rcv_nxt;
	c->last_ack_sent = c->rcv_nxt;
	uint32_t mss = TCP_DEFAULT_MSS;
	if (o->present & TCP_OPTF_MSS)
		mss = max32(o->mss, s->cfg.mss_floor);
	c->peer_mss = (uint16_t)min32(mss, 65535);
	c->flags &= ~(TCP_CF_WS | TCP_CF_TS | TCP_CF_SACK);
	c->snd_wscale = c->rcv_wscale = 0;
	if (!s->cfg.no_wscale && (o->present & TCP_OPTF_WSCALE)) {
		c->flags |= TCP_CF_WS;
		c->snd_wscale = o->wscale;
		c->rcv_wscale = s->rcv_wscale;
	}
	if (!s->cfg.no_timestamps && (o->present & TCP_OPTF_TS)) {
		c->flags |= TCP_CF_TS;
		c->ts_recent = o->ts_val;
		c->ts_recent_ms = tcp_now_ms(s);
	}
	if (!s->cfg.no_sack && (o->present & TCP_OPTF_SACK_PERM))
		c->flags |= TCP_CF_SACK;
	c->snd_wnd = th->window;  /* never scaled in a SYN */
	c->max_sndwnd = c->snd_wnd;
	c->snd_wl1 = th->seq;
	c->snd_wl2 = th->ack;
}

/* The handshake completed (SYN-RCVD -> ESTABLISHED, or a cookie): tell
 * the application. False when the connection is gone. */
static bool establish(struct tcp_conn *c)
{
	struct tcp_stack *s = c->s;
	tcp_set_state(c, TCP_ESTABLISHED);
	if (c->flags & TCP_CF_HALF) {
		s->lst[c->lidx - 1].half_open--;
		c->flags &= ~TCP_CF_HALF;
	}
	c->cwnd = init_cwnd(c);
	c->retries = 0;
	c->recover = c->iss;  /* RFC 6582 3.2 step 1 */
	if (c->flags & TCP_CF_ACTIVE) {
		if (c->h->connected != NULL)
			c->h->connected(c->ctx, c);
		return !(c->flags & TCP_CF_ZOMBIE);
	}
	struct tcp_listener *l = &s->lst[c->lidx - 1];
	void *ctx = NULL;
	int rc = l->h->accepted != NULL ? l->h->accepted(l->lctx, c, &ctx)
					 : -ECONNREFUSED;
	if (c->flags & TCP_CF_ZOMBIE)
		return false;  /* the handler aborted it */
	if (rc < 0) {
		s->st.accept_refused++;
		tcp_send_rst(c);
		tcp_conn_gone(c, -ECONNREFUSED);
		return false;
	}
	c->h = l->h;
	c->ctx = ctx;
	s->st.passive_opens++;
	return true;
}

/* An RTT sample from an echoed timestamp, if it is plausible. */
static bool ts_sample(struct tcp_conn *c, const struct tcp_opts *o)
{
	uint32_t now = tcp_now_ms(c->s);
	if (!(c->flags & TCP_CF_TS) || !(o->present & TCP_OPTF_TS) ||
	    o->ts_ecr == 0 || (int32_t)(now - o->ts_ecr) < 0 ||
	    now - o->ts_ecr > 600000)
		return false;
	tcp_rtt_sample(c, (now - o->ts_ecr) * 1000);
	return true;
}

/* ---- ACK processing ---- */

static void sack_update(struct tcp_conn *c, const struct tcp_opts *o)
{
	for (unsigned i = 0; i < o->sack_n; i++) {
		uint32_t l = o->sack[i].left, r = o->sack[i].right;
		if (!tcp_seq_lt(l, r) || tcp_seq_lt(l, c->snd_una) ||
		    tcp_seq_gt(r, c->snd_max))
			continue;  /* D-SACK or bogus: ignored */
		/* merge with every overlapping or adjacent range */
		unsigned j = 0;
		while (j < c->nsacked) {
			struct tcp_sack_block *b = &c->sacked[j];
			if (tcp_seq_le(b->left, r) && tcp_seq_ge(b->right, l)) {
				l = tcp_seq_min(l, b->left);
				r = tcp_seq_max(r, b->right);
				c->sacked[j] = c->sacked[--c->nsacked];
				continue;
			}
			j++;
		}
		if (c->nsacked == TCP_SACK_SB) {
			/* keep the ranges nearest snd_una */
			unsigned hi = 0;
			for (j = 1; j < c->nsacked; j++)
				if (tcp_seq_gt(c->sacked[j].left,
					       c->sacked[hi].left))
					hi = j;
			if (tcp_seq_gt(l, c->sacked[hi].left))
				continue;
			c->sacked[hi] = c->sacked[--c->nsacked];
		}
		c->sacked[c->nsacked].left = l;
		c->sacked[c->nsacked].right = r;
		c->nsacked++;
	}
}

static void sack_drop_acked(struct tcp_conn *c)
{
	unsigned j = 0;
	while (j < c->nsacked) {
		struct tcp_sack_block *b = &c->sacked[j];
		if (tcp_seq_le(b->right, c->snd_una)) {
			*b = c->sacked[--c->nsacked];
			continue;
		}
		if (tcp_seq_lt(b->left, c->snd_una))
			b->left = c->snd_una;
		j++;
	}
}

/* Retransmit up to budget holes below the highest SACKed byte, each once
 * per recovery (high_rxt marks how far we got). */
static void sack_retransmit(struct tcp_conn *c, unsigned budget)
{
	if (c->nsacked == 0)
		return;
	uint32_t top = c->sacked[0].right;
	for (unsigned j = 1; j < c->nsacked; j++)
		top = tcp_seq_max(top, c->sacked[j].right);
	uint32_t x = tcp_seq_max(c->high_rxt, c->snd_una);
	while (budget > 0 && tcp_seq_lt(x, top)) {
		uint32_t hole_end = top;
		bool inside = false;
		for (unsigned j = 0; j < c->nsacked; j++) {
			const struct tcp_sack_block *b = &c->sacked[j];
			if (tcp_seq_le(b->left, x) && tcp_seq_lt(x, b->right)) {
				x = b->right;
				inside = true;
				break;
			}
			if (tcp_seq_gt(b->left, x) &&
			    tcp_seq_lt(b->left, hole_end))
				hole_end = b->left;
		}
		if (inside)
			continue;
		uint32_t n = tcp_retransmit_seg(c, x, hole_end - x);
		if (n == 0)
			break;
		x += n;
		budget--;
	}
	c->high_rxt = x;
}

static void new_ack(struct tcp_conn *c, uint32_t ack, const struct tcp_opts *o)
{
	struct tcp_stack *s = c->s;
	uint32_t acked = ack - c->snd_una;
	uint32_t mss = tcp_eff_mss(c);
	uint32_t now = tcp_now_ms(s);

	/* RTT: the echoed timestamp, else the one timed segment (Karn: the
	 * timing was cancelled if anything was retransmitted) */
	if (ts_sample(c, o)) {
		c->flags &= ~TCP_CF_RTT;
	} else if ((c->flags & TCP_CF_RTT) && tcp_seq_gt(ack, c->rtt_seq)) {
		tcp_rtt_sample(c, (now - c->rtt_ms) * 1000);
		c->flags &= ~TCP_CF_RTT;
	}
	tcp_sndbuf_ack(&c->sb, s->pool, ack);
	c->snd_una = ack;
	if (tcp_seq_lt(c->snd_nxt, ack))
		c->snd_nxt = ack;
	c->retries = 0;
	sack_drop_acked(c);

	if (c->flags & TCP_CF_RECOVERY) {
		if (tcp_seq_ge(ack, c->recover)) {
			/* full ACK (RFC 6582 3.2 step 3) */
			uint32_t flight = c->snd_max - c->snd_una;
			c->cwnd = min32(c->ssthresh, max32(flight, mss) + mss);
			c->flags &= ~TCP_CF_RECOVERY;
			c->dupacks = 0;
		} else {
			/* partial ACK: the next hole, deflate (step 4) */
			tcp_retransmit_seg(c, c->snd_una, UINT32_MAX);
			if (c->flags & TCP_CF_SACK) {
				c->high_rxt = tcp_seq_max(c->high_rxt,
							  c->snd_una + mss);
				sack_retransmit(c, TCP_SACK_RTX_PER_ACK);
			}
			c->cwnd = c->cwnd > acked ? c->cwnd - acked : 0;
			c->cwnd += mss;
			if (c->cwnd < mss)
				c->cwnd = mss;
		}
	} else {
		c->dupacks = 0;
		if (c->cwnd < c->ssthresh) {
			c->cwnd += min32(acked, 2 * mss);  /* RFC 3465, L = 2 */
		} else {
			c->bytes_acked += acked;
			if (c->bytes_acked >= c->cwnd) {
				c->bytes_acked -= c->cwnd;
				c->cwnd += mss;
			}
		}
		if (c->cwnd > (1u << 30))
			c->cwnd = 1u << 30;
	}
	if ((c->flags & TCP_CF_WANT_W) &&
	    (c->sb.len == 0 || tcp_sndbuf_space(&c->sb) >= c->sb.cap / 4)) {
		c->flags &= ~TCP_CF_WANT_W;
		tcp_conn_pend(c, TCP_CF_PEND_W);
	}
	if (c->snd_una == c->snd_max)
		tcp_timer_idle(c);
	else if (c->tmode != TCP_TM_PERSIST)
		tcp_arm_rtx(c);  /* RFC 6298 5.3 */
}

static void dup_ack(struct tcp_conn *c)
{
	struct tcp_stack *s = c->s;
	uint32_t mss = tcp_eff_mss(c);
	s->st.dup_acks++;
	if (c->dupacks < 255)
		c->dupacks++;
	if (c->flags & TCP_CF_RECOVERY) {
		c->cwnd += mss;  /* inflate: one segment left the network */
		if (c->flags & TCP_CF_SACK)
			sack_retransmit(c, TCP_SACK_RTX_PER_ACK);
		return;
	}
	if (c->dupacks != 3 || !tcp_seq_gt(c->snd_una, c->recover))
		return;  /* RFC 6582 3.2 step 2: not after an RTO's data */
	uint32_t flight = c->snd_max - c->snd_una;
	c->ssthresh = max32(flight / 2, 2 * mss);
	c->recover = c->snd_max;
	c->cwnd = c->ssthresh + 3 * mss;
	c->flags |= TCP_CF_RECOVERY;
	s->st.fast_retrans++;
	if ((c->flags & TCP_CF_SACK) && c->nsacked > 0)
		s->st.sack_recovery++;
	c->high_rxt = c->snd_una;
	c->high_rxt += tcp_retransmit_seg(c, c->snd_una, UINT32_MAX);
	if (c->flags & TCP_CF_SACK)
		sack_retransmit(c, TCP_SACK_RTX_PER_ACK - 1);
	tcp_arm_rtx(c);
}

/* Our FIN is acknowledged: the state moves on. False when c is gone. */
static bool fin_acked(struct tcp_conn *c)
{
	switch (c->state) {
	case TCP_FIN_WAIT1:
		tcp_set_state(c, TCP_FIN_WAIT2);
		tcp_timer_idle(c);
		return true;
	case TCP_CLOSING:
		tcp_conn_done(c, true);
		return false;
	case TCP_LAST_ACK:
		tcp_conn_done(c, false);
		return false;
	default:
		return true;
	}
}

/* RFC 9293 3.10.7.4 fifth step. False: drop the rest of the segment. */
static bool ack_input(struct tcp_conn *c, const struct tcp_hdr_info *th,
		      const struct tcp_opts *o, uint32_t plen)
{
	uint32_t ack = th->ack;
	if (tcp_seq_gt(ack, c->snd_max)) {
		tcp_send_challenge_ack(c);  /* acks what we never sent */
		return false;
	}
	if (tcp_seq_lt(ack, c->snd_una - max32(c->max_sndwnd, 1))) {
		tcp_send_challenge_ack(c);  /* RFC 5961 5.2: too old */
		return false;
	}
	uint32_t win = (uint32_t)th->window << c->snd_wscale;
	bool dup = false, advanced = tcp_seq_gt(ack, c->snd_una);
	if (advanced)
		new_ack(c, ack, o);
	else if (ack == c->snd_una && plen == 0 &&
		 !(th->flags & (TCP_FIN | TCP_SYN)) && win == c->snd_wnd &&
		 c->snd_max != c->snd_una && c->snd_wnd > 0)
		dup = true;
	/* The window is relative to this segment's ACK: take it when the
	 * ACK is not older than the last one taken (else snd_una + snd_wnd
	 * would lie beyond the edge the peer offered), and the segment is
	 * not older than that one's (RFC 9293 3.10.7.4) or its ACK moves
	 * snd_una (as Linux: a retransmission from the peer carries a
	 * lower SEQ than its ACKs did but the newest ACK and window; left
	 * out, our snd_una moved on while snd_wnd stayed relative to an
	 * older ACK, we sent past the peer's right edge and, once its
	 * window was zero, it dropped every ACK of ours for lying outside
	 * it: a deadlock, found by test_tcp_pair). */
	if (tcp_seq_le(c->snd_wl2, ack) &&
	    (advanced || tcp_seq_le(c->snd_wl1, th->seq))) {
		if (c->snd_wnd == 0 && win > 0) {
			c->retries = 0;
			if (c->tmode == TCP_TM_PERSIST) {
				c->tmode = TCP_TM_NONE;
				tmr_cancel(&c->s->wheel, &c->tmr);
				/* resume from the oldest byte: RTO rules again */
				if (c->snd_una != c->snd_max)
					tcp_arm_rtx(c);
			}
		}
		c->snd_wnd = win;
		c->snd_wl1 = th->seq;
		c->snd_wl2 = ack;
		c->max_sndwnd = max32(c->max_sndwnd, win);
	}
	if ((c->flags & TCP_CF_SACK) && (o->present & TCP_OPTF_SACK))
		sack_update(c, o);
	if (dup)
		dup_ack(c);
	if ((c->flags & TCP_CF_FIN_Q) && c->snd_una == data_end(c) + 1)
		return fin_acked(c);
	if (c->snd_una == c->snd_max)
		tcp_timer_idle(c);
	return true;
}

/* ---- data and FIN ---- */

/*
 * Data the peer sent twice (a retransmission of what had arrived, often
 * one that reordering made look lost): reported in the first SACK block
 * of the next ACK (D-SACK, RFC 2883), which lets the sender see that its
 * retransmission was spurious, undo its congestion response and raise
 * its reordering threshold (Linux: tcp_check_dsack, RACK's reo_wnd).
 */
static void note_dup(struct tcp_conn *c, uint32_t left, uint32_t right)
{
	struct tcp_stack *s = c->s;
	s->st.dup_data++;
	c->flags |= TCP_CF_ACK_NOW;
	if (!(c->flags & TCP_CF_SACK) || !tcp_seq_lt(left, right))
		return;
	c->dsack.left = left;
	c->dsack.right = right;
	c->flags |= TCP_CF_DSACK;
}

static struct net_pkt *data_input(struct tcp_conn *c, struct net_pkt *p,
				  uint32_t seq, uint32_t plen, bool fin)
{
	struct tcp_stack *s = c->s;
	if (tcp_seq_lt(seq, c->rcv_nxt)) {
		uint32_t cut = c->rcv_nxt - seq;
		c->flags |= TCP_CF_ACK_NOW;  /* a duplicate: ACK at once */
		if (plen > 0)
			note_dup(c, seq, cut < plen ? c->rcv_nxt : seq + plen);
		if (cut > plen) {
			return p;  /* all old (a FIN before rcv_nxt too) */
		}
		net_pkt_adj(p, cut);
		seq = c->rcv_nxt;
		plen -= cut;
	}
	uint32_t wend = tcp_seq_gt(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv
							   : c->rcv_nxt;
	if (tcp_seq_gt(seq + plen, wend)) {
		plen = tcp_seq_gt(wend, seq) ? wend - seq : 0;
		fin = false;
		c->flags |= TCP_CF_ACK_NOW;
	}
	net_pkt_trim(p, plen);
	if (plen == 0 && !fin)
		return p;
	if (seq != c->rcv_nxt) {
		/* out of order: queue it, ACK at once with SACK blocks; a FIN
		 * beyond a hole is dropped (it comes again) */
		p->seq = seq;
		struct tcp_sack_block dup;
		if (tcp_oooq_insert(&c->oq, &s->bo, p, c->rcv_nxt, wend,
				    &dup))
			s->st.ooo_queued++;
		else
			s->st.ooo_dropped++;
		if (dup.left != dup.right)
			note_dup(c, dup.left, dup.right);
		c->flags |= TCP_CF_ACK_NOW;
		return NULL;
	}
	if (plen > 0) {
		if (c->rq.pkts >= s->rcvq_pkt_max) {
			s->st.rcv_pruned++;
			c->flags |= TCP_CF_ACK_NOW;
			return p;
		}
		if (plen > c->rcv_seg_max)
			c->rcv_seg_max = (uint16_t)min32(plen, 65535);
		else if (plen < c->rcv_seg_max)
			c->flags |= TCP_CF_PUSHED;  /* the end of a write */
		p->seq = seq;
		if (tcp_rcvq_push(&c->rq, &s->bo, p, TCP_COLLAPSE_MAX) == 1)
			s->st.rcv_collapsed++;
		p = NULL;
		c->rcv_nxt += plen;
		s->st.bytes_in += plen;
		c->rcv_unacked += plen;
		if (c->oq.pkts > 0) {
			s->st.bytes_in += tcp_oooq_drain(&c->oq, &s->bo,
							 &c->rcv_nxt, &c->rq,
							 TCP_COLLAPSE_MAX);
			c->flags |= TCP_CF_ACK_NOW;  /* filled a hole */
			fin = false;  /* it belonged before the queued data */
		}
		tcp_conn_pend(c, TCP_CF_PEND_R);
	}
	if (fin) {
		c->rcv_nxt++;
		c->flags |= TCP_CF_FIN_RCVD | TCP_CF_ACK_NOW;
		tcp_conn_pend(c, TCP_CF_PEND_R);
		switch (c->state) {
		case TCP_ESTABLISHED:
			tcp_set_state(c, TCP_CLOSE_WAIT);
			break;
		case TCP_FIN_WAIT1:
			tcp_set_state(c, TCP_CLOSING);
			break;
		case TCP_FIN_WAIT2:
			tcp_send_ack(c);
			tcp_conn_done(c, true);
			return p;
		default:
			break;
		}
	}
	if (!(c->flags & TCP_CF_ACK_NOW) && c->rcv_unacked > 0) {
		/* RFC 5681 4.2: every second full-sized segment, else later */
		if (c->rcv_unacked >= 2u * c->rcv_seg_max) {
			/* At the end of this receive burst: one ACK for all
			 * of the burst's segments of this connection, after
			 * the application had the chance to carry it on a
			 * reply (tcp_deliver_pending). Without an
			 * application to run, at once. */
			s->st.quick_acks++;
			if (c->flags & (TCP_CF_ZOMBIE | TCP_CF_DETACHED) ||
			    c->h == NULL)
				c->flags |= TCP_CF_ACK_NOW;
			else {
				tcp_conn_pend(c, TCP_CF_ACK_BURST);
				tcp_arm_delack(c);  /* never left unsent */
			}
		} else {
			tcp_arm_delack(c);
		}
	}
	return p;
}

/* ---- states ---- */

static bool in_rcv_window(const struct tcp_conn *c, uint32_t x, uint32_t wnd)
{
	return tcp_seq_le(c->rcv_nxt, x) && tcp_seq_lt(x, c->rcv_nxt + wnd);
}

/* SYN-RCVD and the synchronized states. */
/*
 * A duplicate ACK that was merely overtaken on the path: no data, no
 * flags but ACK, nothing new acknowledged, the window unchanged, and its
 * timestamp behind by less than one RTO. PAWS would drop it, and with it
 * a duplicate ACK that fast retransmit counts on; it cannot harm the
 * connection, so it passes (Linux: tcp_disordered_ack()).
 */
static bool disordered_ack(const struct tcp_conn *c,
			   const struct tcp_hdr_info *th,
			   const struct tcp_opts *o, uint32_t plen)
{
	return plen == 0 && th->flags == TCP_ACK && th->seq == c->rcv_nxt &&
	       th->ack == c->snd_una &&
	       ((uint32_t)th->window << c->snd_wscale) == c->snd_wnd &&
	       c->ts_recent - o->ts_val <= c->rto_us / 1000;
}

static struct net_pkt *sync_input(struct tcp_conn *c, struct net_pkt *p,
				  const struct tcp_hdr_info *th,
				  const struct tcp_opts *o)
{
	struct tcp_stack *s = c->s;
	uint8_t f = th->flags;
	uint32_t seq = th->seq;
	uint32_t plen = p->len;

	if (c->state == TCP_SYN_RCVD && (f & TCP_SYN) && !(f & TCP_ACK) &&
	    !(f & TCP_RST) && seq == c->irs) {
		s->st.syn_dup++;  /* our SYN-ACK was lost: the same one again */
		tcp_send_synack(c);
		return p;
	}

	/* PAWS (RFC 7323 5.3 R1) */
	bool has_ts = (c->flags & TCP_CF_TS) && (o->present & TCP_OPTF_TS);
	if (has_ts && !(f & TCP_RST) && tcp_seq_lt(o->ts_val, c->ts_recent) &&
	    !disordered_ack(c, th, o, plen)) {
		if (tcp_now_ms(s) - c->ts_recent_ms > TCP_PAWS_IDLE_MS) {
			c->ts_recent = o->ts_val;  /* too old to compare */
		} else {
			s->st.paws_drops++;
			tcp_send_ack(c);
			return p;
		}
	}

	/* sequence acceptability (RFC 9293 3.10.7.4 first step) */
	uint32_t slen = plen + ((f & TCP_SYN) != 0) + ((f & TCP_FIN) != 0);
	uint32_t wnd = tcp_seq_gt(c->rcv_adv, c->rcv_nxt) ?
			       c->rcv_adv - c->rcv_nxt : 0;
	bool ok;
	if (slen == 0)
		ok = wnd == 0 ? seq == c->rcv_nxt : in_rcv_window(c, seq, wnd);
	else
		ok = wnd > 0 && (in_rcv_window(c, seq, wnd) ||
				 in_rcv_window(c, seq + slen - 1, wnd));
	if (!ok) {
		if (f & TCP_RST)
			return p;
		if (seq == c->rcv_nxt + wnd && (f & TCP_ACK) &&
		    !(f & TCP_SYN)) {
			/* At the right edge (with a zero window: rcv_nxt),
			 * where a peer that filled our window numbers its
			 * ACKs and probes: keep the ACK and window, not the
			 * data (RFC 9293 3.10.7.4: "special allowance should
			 * be made to accept valid ACKs"; Linux accepts SEQ
			 * up to the edge too). Dropping these ACKs left a
			 * peer that had filled the window unheard for good
			 * (found by test_tcp_pair). */
			if (slen > 0)
				c->flags |= TCP_CF_ACK_NOW;
			plen = 0;
			f &= (uint8_t)~TCP_FIN;
		} else {
			if (plen > 0 && !(f & TCP_SYN) &&
			    tcp_seq_le(seq + plen, c->rcv_nxt))
				note_dup(c, seq, seq + plen);  /* all old */
			tcp_send_ack(c);
			return p;
		}
	}

	/* RST (RFC 5961 3.2) */
	if (f & TCP_RST) {
		if (seq != c->rcv_nxt) {
			tcp_send_challenge_ack(c);
			return p;
		}
		s->st.rst_rcvd++;
		tcp_conn_gone(c, c->state == TCP_SYN_RCVD &&
					 (c->flags & TCP_CF_ACTIVE)
				 ? -ECONNREFUSED
				 : -ECONNRESET);
		return p;
	}
	/* SYN (RFC 5961 4.2) */
	if (f & TCP_SYN) {
		tcp_send_challenge_ack(c);
		return p;
	}
	if (!(f & TCP_ACK))
		return p;

	/* TS.Recent (RFC 7323 4.3) */
	if (has_ts && tcp_seq_le(seq, c->last_ack_sent) &&
	    tcp_seq_ge(o->ts_val, c->ts_recent)) {
		c->ts_recent = o->ts_val;
		c->ts_recent_ms = tcp_now_ms(s);
	}

	if (c->state == TCP_SYN_RCVD) {
		if (!tcp_seq_gt(th->ack, c->snd_una) ||
		    tcp_seq_gt(th->ack, c->snd_max)) {
			tcp_rst_reply(s, c->laddr, c->raddr, th);
			return p;
		}
		if (!ts_sample(c, o) && (c->flags & TCP_CF_RTT) &&
		    c->retransmits == 0)
			tcp_rtt_sample(c, (tcp_now_ms(s) - c->rtt_ms) * 1000);
		c->flags &= ~TCP_CF_RTT;
		c->snd_una = th->ack;
		c->snd_wnd = (uint32_t)th->window << c->snd_wscale;
		c->max_sndwnd = c->snd_wnd;
		c->snd_wl1 = seq;
		c->snd_wl2 = th->ack;
		tcp_timer_idle(c);
		if (!establish(c))
			return p;
	}
	if (!ack_input(c, th, o, plen))
		return p;
	if (c->flags & TCP_CF_ZOMBIE)
		return p;

	if (plen == 0 && !(f & TCP_FIN))
		return p;
	switch (c->state) {
	case TCP_ESTABLISHED: case TCP_FIN_WAIT1: case TCP_FIN_WAIT2:
		break;
	default:
		/* the peer's FIN came already: only retransmissions */
		c->flags |= TCP_CF_ACK_NOW;
		return p;
	}
	if ((c->flags & TCP_CF_DETACHED) && plen > 0) {
		/* nobody will read it (RFC 9293 3.6.1) */
		tcp_send_rst(c);
		tcp_conn_gone(c, -ECONNABORTED);
		return p;
	}
	return data_input(c, p, seq, plen, (f & TCP_FIN) != 0);
}

static struct net_pkt *syn_sent_input(struct tcp_conn *c, struct net_pkt *p,
				      const struct tcp_hdr_info *th,
				      const struct tcp_opts *o)
{
	struct tcp_stack *s = c->s;
	uint8_t f = th->flags;
	if (f & TCP_ACK) {
		if (tcp_seq_le(th->ack, c->iss) ||
		    tcp_seq_gt(th->ack, c->snd_max)) {
			tcp_rst_reply(s, c->laddr, c->raddr, th);
			return p;
		}
	}
	if (f & TCP_RST) {
		if (f & TCP_ACK) {
			s->st.rst_rcvd++;
			tcp_conn_gone(c, -ECONNREFUSED);
		}
		return p;
	}
	if (!(f & TCP_SYN))
		return p;
	syn_negotiate(c, th, o);
	if (!(f & TCP_ACK)) {
		/* simultaneous open: SYN-ACK with the same ISN */
		tcp_set_state(c, TCP_SYN_RCVD);
		c->flags &= ~TCP_CF_RTT;
		tcp_send_synack(c);
		return p;
	}
	if (!ts_sample(c, o) && (c->flags & TCP_CF_RTT) &&
	    c->retransmits == 0)
		tcp_rtt_sample(c, (tcp_now_ms(s) - c->rtt_ms) * 1000);
	c->flags &= ~TCP_CF_RTT;
	c->snd_una = th->ack;
	c->flags |= TCP_CF_ACK_NOW;
	tcp_send_ack(c);
	tcp_timer_idle(c);
	establish(c);
	return p;
}

static void conn_input(struct tcp_conn *c, struct net_pkt *p,
		       const struct tcp_hdr_info *th, const struct tcp_opts *o)
{
	struct tcp_stack *s = c->s;
	tcp_conn_hold(c);
	c->last_rcv_ms = tcp_now_ms(s);
	c->ka_probes = 0;
	if (c->state == TCP_SYN_SENT)
		p = syn_sent_input(c, p, th, o);
	else
		p = sync_input(c, p, th, o);
	pkt_free(s, p);
	if (!(c->flags & TCP_CF_ZOMBIE))
		tcp_output(c);
	tcp_conn_release(c);
}

/* ---- LISTEN and SYN cookies ---- */

static void cookie_synack(struct tcp_stack *s, const struct tcp_hdr_info *th,
			  const struct tcp_opts *o,
			  const struct tcp_isn_tuple *tp)
{
	s->st.syn_cookies_sent++;
	uint16_t pm = (o->present & TCP_OPTF_MSS) ? o->mss : TCP_DEFAULT_MSS;
	uint32_t cookie = tcp_cookie_make(&s->cookie_key, tp, s->now_us, pm,
					  NULL);
	struct tcp_opts so = {.present = TCP_OPTF_MSS, .mss = s->our_mss};
	if (!s->cfg.no_timestamps && (o->present & TCP_OPTF_TS)) {
		struct tcp_cookie_opts co = {.wscale = -1};
		if (!s->cfg.no_wscale && (o->present & TCP_OPTF_WSCALE)) {
			co.wscale = (int8_t)o->wscale;
			so.present |= TCP_OPTF_WSCALE;
			so.wscale = s->rcv_wscale;
		}
		if (!s->cfg.no_sack && (o->present & TCP_OPTF_SACK_PERM)) {
			co.sack_ok = true;
			so.present |= TCP_OPTF_SACK_PERM;
		}
		so.present |= TCP_OPTF_TS;
		so.ts_val = tcp_cookie_ts_encode(tcp_now_ms(s), &co);
		so.ts_ecr = o->ts_val;
	}
	struct tcp_seg g = {
		.seq = cookie, .ack = th->seq + 1, .flags = TCP_SYN | TCP_ACK,
		.win = (uint16_t)min32(s->cfg.rcvbuf, 65535), .opts = &so,
	};
	tcp_xmit_raw(s, tp->laddr, tp->lport, tp->raddr, tp->rport, &g, NULL);
}

/* A returned cookie: the connection, ESTABLISHED, or NULL. */
static struct tcp_conn *cookie_conn(struct tcp_stack *s,
				    struct tcp_listener *l,
				    const struct tcp_hdr_info *th,
				    const struct tcp_opts *o, int mss,
				    const struct tcp_isn_tuple *tp)
{
	struct tcp_cookie_opts co = {.wscale = -1};
	bool ts = !s->cfg.no_timestamps && (o->present & TCP_OPTF_TS);
	if (ts && tcp_cookie_ts_decode(o->ts_ecr, &co) != 0)
		return NULL;
	struct tcp_conn *c = tcp_conn_new(s, tp->laddr, tp->lport, tp->raddr,
					  tp->rport);
	if (c == NULL)
		return NULL;
	c->lidx = (uint8_t)(l - s->lst + 1);
	c->iss = th->ack - 1;
	c->snd_una = c->snd_nxt = c->snd_max = th->ack;
	tcp_sndbuf_init(&c->sb, c->iss + 1, s->cfg.sndbuf);
	c->irs = th->seq - 1;
	c->rcv_nxt = th->seq;
	c->rcv_adv = c->rcv_nxt + min32(s->cfg.rcvbuf, 65535);
	c->last_ack_sent = c->rcv_nxt;
	c->peer_mss = (uint16_t)max32((uint32_t)mss, s->cfg.mss_floor);
	if (ts) {
		c->flags |= TCP_CF_TS;
		c->ts_recent = o->ts_val;
		c->ts_recent_ms = tcp_now_ms(s);
		if (co.wscale >= 0 && !s->cfg.no_wscale) {
			c->flags |= TCP_CF_WS;
			c->snd_wscale = (uint8_t)co.wscale;
			c->rcv_wscale = s->rcv_wscale;
		}
		if (co.sack_ok && !s->cfg.no_sack)
			c->flags |= TCP_CF_SACK;
	}
	c->snd_wnd = (uint32_t)th->window << c->snd_wscale;
	c->max_sndwnd = c->snd_wnd;
	c->snd_wl1 = th->seq;
	c->snd_wl2 = th->ack;
	tcp_set_state(c, TCP_SYN_RCVD);
	s->st.syn_cookies_ok++;
	return c;
}

static void listen_input(struct tcp_stack *s, struct tcp_listener *l,
			 struct net_pkt *p, const struct tcp_hdr_info *th,
			 const struct tcp_opts *o, uint32_t laddr,
			 uint32_t raddr, bool reuse, uint32_t old_snd)
{
	uint8_t f = th->flags;
	struct tcp_isn_tuple tp = {laddr, raddr, th->dport, th->sport};
	if (f & TCP_RST)
		goto drop;
	if ((f & TCP_ACK) && !(f & TCP_SYN)) {
		int mss = s->draining ? -EINVAL
				      : tcp_cookie_check(&s->cookie_key,
							 th->ack - 1, &tp,
							 s->now_us);
		struct tcp_conn *c = NULL;
		if (mss >= 0)
			c = cookie_conn(s, l, th, o, mss, &tp);
		if (c == NULL) {
			if (mss < 0 && !s->draining)
				s->st.syn_cookies_bad++;
			s->st.no_conn++;
			tcp_rst_reply(s, laddr, raddr, th);
			goto drop;
		}
		tcp_conn_hold(c);
		if (establish(c))
			conn_input(c, p, th, o);  /* the data it carries */
		else
			pkt_free(s, p);
		tcp_conn_release(c);
		return;
	}
	if (!(f & TCP_SYN) || (f & (TCP_ACK | TCP_FIN))) {
		if (f & TCP_ACK)
			tcp_rst_reply(s, laddr, raddr, th);
		goto drop;
	}
	if (s->draining) {
		tcp_rst_reply(s, laddr, raddr, th);
		goto drop;
	}
	if (l->half_open >= s->cfg.syn_backlog) {
		cookie_synack(s, th, o, &tp);
		goto drop;
	}
	struct tcp_conn *c = tcp_conn_new(s, laddr, th->dport, raddr,
					  th->sport);
	if (c == NULL)
		goto drop;
	c->lidx = (uint8_t)(l - s->lst + 1);
	c->flags |= TCP_CF_HALF;
	l->half_open++;
	syn_negotiate(c, th, o);
	c->iss = tcp_isn_generate(&s->isn_key, &tp, s->now_us);
	if (reuse && tcp_seq_le(c->iss, old_snd))
		c->iss = old_snd + 250000;  /* RFC 6191: above the old one */
	c->snd_una = c->snd_nxt = c->snd_max = c->iss;
	c->recover = c->iss;
	tcp_sndbuf_init(&c->sb, c->iss + 1, s->cfg.sndbuf);
	tcp_set_state(c, TCP_SYN_RCVD);
	tcp_send_synack(c);
drop:
	pkt_free(s, p);
}

/* ---- TIME_WAIT ---- */

/* True when a new SYN may reuse the tuple (the record is gone then). */
static bool tw_input(struct tcp_stack *s, struct tcp_tw *t,
		     const struct tcp_hdr_info *th, const struct tcp_opts *o,
		     uint32_t *old_snd)
{
	uint8_t f = th->flags;
	if (f & TCP_RST)
		return false;  /* RFC 1337: no TIME_WAIT assassination */
	bool ts = t->ts_ok && (o->present & TCP_OPTF_TS);
	if ((f & TCP_SYN) && !(f & TCP_ACK)) {
		bool newer = ts ? tcp_seq_gt(o->ts_val, t->ts_recent)
				: tcp_seq_gt(th->seq, t->rcv_nxt);
		if (newer && !s->draining &&
		    tcp_listener_find(s, t->laddr, t->lport) != NULL) {
			*old_snd = t->snd_nxt;
			s->st.time_wait_reused++;
			tcp_tw_kill(s, t);
			return true;
		}
	}
	if ((f & (TCP_SYN | TCP_FIN)) || th->payload_len > 0) {
		struct tcp_opts so = {0};
		if (t->ts_ok) {
			so.present = TCP_OPTF_TS;
			so.ts_val = tcp_now_ms(s);
			so.ts_ecr = t->ts_recent;
		}
		struct tcp_seg g = {
			.seq = t->snd_nxt, .ack = t->rcv_nxt, .flags = TCP_ACK,
			.win = t->win, .opts = &so,
		};
		tcp_xmit_raw(s, t->laddr, t->lport, t->raddr, t->rport, &g,
			     NULL);
	}
	return false;
}

/* ---- the net hooks ---- */

void tcp_input_hook(void *ctx, struct net_pkt *p,
		    const struct net_ipv4_info *ip, uint64_t now_us)
{
	struct tcp_stack *s = ctx;
	struct tcp_hdr_info th;
	struct tcp_opts o;

	if ((int64_t)(now_us - s->now_us) > 0)
		s->now_us = now_us;
	s->st.segs_in++;
	if (tcp_hdr_parse(p->data, p->len, ip->src, ip->dst, &th) != 0) {
		if (th.drop == NET_DROP_CSUM)
			s->st.bad_csum++;
		else
			s->st.bad_hdr++;
		pkt_free(s, p);
		return;
	}
	if (th.sport == 0 || th.dport == 0 ||
	    (th.flags & (TCP_SYN | TCP_RST)) == (TCP_SYN | TCP_RST) ||
	    (th.flags & (TCP_SYN | TCP_FIN)) == (TCP_SYN | TCP_FIN)) {
		s->st.bad_hdr++;
		pkt_free(s, p);
		return;
	}
	tcp_opts_parse(th.opts, th.opts_len, &o);  /* keeps what parsed */
	net_pkt_adj(p, th.hdr_len);
	net_pkt_trim(p, th.payload_len);

	struct tcp_conn *c = tcp_conn_lookup(s, ip->dst, th.dport, ip->src,
					     th.sport);
	if (c != NULL) {
		conn_input(c, p, &th, &o);
		return;
	}
	bool reuse = false;
	uint32_t old_snd = 0;
	struct tcp_tw *t = tcp_tw_lookup(s, ip->dst, th.dport, ip->src,
					 th.sport);
	if (t != NULL) {
		reuse = tw_input(s, t, &th, &o, &old_snd);
		if (!reuse) {
			pkt_free(s, p);
			return;
		}
	}
	struct tcp_listener *l = tcp_listener_find(s, ip->dst, th.dport);
	if (l != NULL) {
		listen_input(s, l, p, &th, &o, ip->dst, ip->src, reuse,
			     old_snd);
		return;
	}
	s->st.no_conn++;
	tcp_rst_reply(s, ip->dst, ip->src, &th);
	pkt_free(s, p);
}

void tcp_icmp_hook(void *ctx, const struct net_icmp_info *ic)
{
	struct tcp_stack *s = ctx;
	if (ic->type != NET_ICMP_DEST_UNREACH ||
	    ic->code != NET_ICMP_CODE_FRAG_NEEDED || !ic->has_inner ||
	    ic->inner.proto != NET_IPPROTO_TCP || ic->mtu < 68)
		return;
	struct tcp_conn *c = tcp_conn_lookup(s, ic->inner.src,
					     ic->inner_sport, ic->inner.dst,
					     ic->inner_dport);
	if (c == NULL || c->state < TCP_ESTABLISHED)
		return;
	uint32_t seq = ic->inner_seq;
	if (!tcp_seq_ge(seq, c->snd_una) || !tcp_seq_lt(seq, c->snd_max))
		return;  /* not about a segment in flight: forged or stale */
	uint32_t m = ic->mtu > 40 ? ic->mtu - 40u : 0;
	if (m < s->cfg.mss_floor)
		m = s->cfg.mss_floor;
	if (m >= c->pmtu_mss)
		return;
	c->pmtu_mss = (uint16_t)m;
	s->st.pmtu_updates++;
	uint32_t mss = tcp_eff_mss(c);
	if (c->cwnd > 10 * mss)
		c->cwnd = 10 * mss;
	tcp_conn_hold(c);
	c->snd_nxt = c->snd_una;  /* resend what is in flight, smaller */
	c->flags &= ~TCP_CF_RTT;
	tcp_output(c);
	tcp_conn_release(c);
}

/* ---- the application's receive side ---- */

unsigned tcp_recv_iov(struct tcp_conn *c, struct iovec *iov, unsigned n,
		      size_t *bytes)
{
	if (c->flags & TCP_CF_ZOMBIE) {
		if (bytes != NULL)
			*bytes = 0;
		return 0;
	}
	return tcp_rcvq_iov(&c->rq, iov, n, bytes);
}

void tcp_recv_consume(struct tcp_conn *c, size_t n)
{
	struct tcp_stack *s = c->s;
	if (c->flags & TCP_CF_ZOMBIE)
		return;
	if (n > c->rq.bytes)
		n = c->rq.bytes;
	tcp_rcvq_consume(&c->rq, &s->bo, (uint32_t)n);
	if (c->flags & TCP_CF_LINGER) {
		tcp_linger_check(c);
		return;
	}
	if (c->state != TCP_ESTABLISHED && c->state != TCP_FIN_WAIT1 &&
	    c->state != TCP_FIN_WAIT2)
		return;
	uint32_t cur = tcp_seq_gt(c->rcv_adv, c->rcv_nxt) ?
			       c->rcv_adv - c->rcv_nxt : 0;
	uint32_t space = tcp_rcv_space(c);
	if (space > cur && (space - cur >= 2u * s->our_mss ||
			    space - cur >= s->cfg.rcvbuf / 2)) {
		s->st.window_updates++;
		tcp_send_ack(c);
	}
}

size_t tcp_recv_queued(const struct tcp_conn *c)
{
	return c->rq.bytes;
}

bool tcp_recv_eof(const struct tcp_conn *c)
{
	return (c->flags & TCP_CF_FIN_RCVD) && c->rq.bytes == 0;
}
