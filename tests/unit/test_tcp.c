/* tests/unit/test_tcp.c - the TCP engine (tcpstack/tcp_*.c) against a
 * scripted peer: handshakes and options, SYN cookies, RFC 5961 and PAWS
 * checks, data and SACK, delayed ACKs, retransmission and congestion
 * control, windows and persist, FIN states and TIME_WAIT, keepalive,
 * PMTU, RSTs and limits. Every test ends with the pool whole. */
#include "tcp_harness.h"

#define PPORT 40000
#define LPORT 25

static uint32_t iss;   /* our ISN */
static uint32_t pseq;  /* peer's next sequence number */
static uint32_t pts = 100;  /* peer's timestamp clock */
static bool use_ts;
static uint8_t peer_ws;    /* shift the peer announced */

static struct tcp_opts o_syn(bool mss, int ws, bool sack, bool ts)
{
	struct tcp_opts o = {0};
	if (mss) {
		o.present |= TCP_OPTF_MSS;
		o.mss = 1460;
	}
	if (ws >= 0) {
		o.present |= TCP_OPTF_WSCALE;
		o.wscale = (uint8_t)ws;
	}
	if (sack)
		o.present |= TCP_OPTF_SACK_PERM;
	if (ts) {
		o.present |= TCP_OPTF_TS;
		o.ts_val = pts;
	}
	return o;
}

/* Options for the peer's non-SYN segments. */
static struct tcp_opts o_ts(void)
{
	struct tcp_opts o = {0};
	if (use_ts) {
		o.present = TCP_OPTF_TS;
		o.ts_val = ++pts;
		o.ts_ecr = (uint32_t)(hnow / 1000);  /* echo our clock */
	}
	return o;
}

static void reset_app(void)
{
	memset(&A, 0, sizeof A);
	A.consume = true;
}

/* Listen, SYN with o, return the SYN-ACK. */
static struct cseg do_syn(const struct tcp_opts *o, uint16_t sport)
{
	struct pseg s = {.sport = sport, .dport = LPORT, .seq = 1000,
			 .flags = TCP_SYN, .win = 65535, .o = *o};
	h_send(&s);
	return h_one();
}

static void ack_peer(uint32_t ack, uint16_t win)
{
	struct pseg s = {.sport = PPORT, .dport = LPORT, .seq = pseq,
			 .ack = ack, .flags = TCP_ACK, .win = win,
			 .o = o_ts()};
	h_send(&s);
}

/* A full passive handshake; leaves A.c ESTABLISHED. */
static struct cseg establish_o(const struct tcp_opts *o)
{
	reset_app();
	CHECK_EQ_INT(tcp_listen(H.tcp, 0, LPORT, &HA, &A), 0);
	use_ts = (o->present & TCP_OPTF_TS) != 0;
	peer_ws = (o->present & TCP_OPTF_WSCALE) ? o->wscale : 0;
	struct cseg sa = do_syn(o, PPORT);
	CHECK_EQ_INT(sa.th.flags, TCP_SYN | TCP_ACK);
	CHECK_EQ_INT(sa.th.ack, 1001);
	iss = sa.th.seq;
	pseq = 1001;
	ack_peer(iss + 1, 65535);
	CHECK_EQ_INT(A.accepted, 1);
	CHECK(A.c != NULL);
	if (A.c)
		CHECK_EQ_INT(tcp_conn_state(A.c), TCP_ESTABLISHED);
	CHECK_EQ_INT(H.ncap, 0);
	return sa;
}

static struct cseg establish(void)
{
	struct tcp_opts o = o_syn(true, 7, true, true);
	return establish_o(&o);
}

static void peer_data(const void *d, size_t n, uint8_t extra)
{
	struct pseg s = {.sport = PPORT, .dport = LPORT, .seq = pseq,
			 .ack = iss + 1, .flags = TCP_ACK | extra,
			 .win = 65535, .o = o_ts(), .data = d, .len = n};
	h_send(&s);
	pseq += (uint32_t)n + ((extra & TCP_FIN) ? 1 : 0);
}

static struct tcp_stack_stats stats(void)
{
	struct tcp_stack_stats st;
	tcp_stack_stats(H.tcp, &st);
	return st;
}

static uint8_t pat[1 << 20];

static void init_pat(void)
{
	uint32_t x = 12345;
	for (size_t i = 0; i < sizeof pat; i++) {
		x = x * 1103515245 + 12345;
		pat[i] = (uint8_t)(x >> 16);
	}
}

/* ---- handshakes and options ---- */

static void test_handshake_options(void)
{
	h_start();
	struct cseg sa = establish();
	CHECK(sa.o.present & TCP_OPTF_MSS);
	CHECK_EQ_INT(sa.o.mss, 1460);
	CHECK(sa.o.present & TCP_OPTF_WSCALE);
	CHECK_EQ_INT(sa.o.wscale, 2);  /* 128 KiB >> 2 fits 16 bits */
	CHECK(sa.o.present & TCP_OPTF_SACK_PERM);
	CHECK(sa.o.present & TCP_OPTF_TS);
	CHECK_EQ_INT(sa.o.ts_ecr, 100);
	CHECK_EQ_INT(sa.th.window, 65535);  /* SYN windows are unscaled */
	struct tcp_conn_info ci;
	tcp_conn_info(A.c, &ci);
	CHECK(ci.ts_ok && ci.sack_ok);
	CHECK_EQ_INT(ci.snd_wscale, 7);
	CHECK_EQ_INT(ci.rcv_wscale, 2);
	CHECK_EQ_INT(ci.snd_mss, 1460 - 12);
	CHECK_EQ_INT(ci.snd_wnd, 65535u << 7);
	struct tcp_stack_stats st = stats();
	CHECK_EQ_INT(st.passive_opens, 1);
	CHECK_EQ_INT(st.conns[TCP_ESTABLISHED], 1);
	h_done();
}

static void test_handshake_no_options(void)
{
	h_start();
	struct tcp_opts o = o_syn(false, -1, false, false);
	struct cseg sa = establish_o(&o);
	CHECK(sa.o.present & TCP_OPTF_MSS);
	CHECK(!(sa.o.present & (TCP_OPTF_WSCALE | TCP_OPTF_SACK_PERM |
				TCP_OPTF_TS)));
	struct tcp_conn_info ci;
	tcp_conn_info(A.c, &ci);
	CHECK_EQ_INT(ci.snd_mss, 536);  /* RFC 9293 default */
	CHECK(!ci.ts_ok && !ci.sack_ok);
	CHECK_EQ_INT(ci.rcv_wscale, 0);
	/* data: the ACK's window is unscaled, capped at 65535 */
	peer_data("hello", 5, TCP_PSH);
	h_run(50 * MS);
	struct cseg a = h_one();
	CHECK_EQ_INT(a.th.ack, pseq);
	CHECK_EQ_INT(a.th.window, 65535);
	CHECK_EQ_INT(A.nrx, 5);
	h_done();
}

static void test_handshake_mss_floor(void)
{
	h_start();
	struct tcp_opts o = o_syn(true, -1, false, false);
	o.mss = 100;
	establish_o(&o);
	struct tcp_conn_info ci;
	tcp_conn_info(A.c, &ci);
	CHECK_EQ_INT(ci.snd_mss, 216);
	/* one 1000-byte send goes out in 216-byte segments */
	CHECK_EQ_INT(tcp_send(A.c, pat, 1000, 0), 1000);
	CHECK(H.ncap >= 4);
	for (int i = 0; i < H.ncap; i++)
		CHECK(h_seg(i).len <= 216);
	h_clear(&H);
	h_done();
}

/* Exact advertised windows for 128 KiB and 1 MiB buffers (scaled). */
static void window_case(uint32_t rcvbuf, unsigned shift)
{
	struct tcp_stack_config c = h_cfg();
	c.rcvbuf = rcvbuf;
	h_start_cfg(&c, 0);
	struct cseg sa = establish();
	CHECK_EQ_INT(sa.o.wscale, shift);
	CHECK_EQ_INT(sa.th.window, 65535);
	A.consume = false;
	peer_data(pat, 1000, TCP_PSH);
	h_run(50 * MS);
	struct cseg a = h_one();
	CHECK_EQ_INT(a.th.ack, pseq);
	uint32_t want = (rcvbuf - 1000) >> shift;
	if (want > 65535)
		want = 65535;
	CHECK_EQ_INT(a.th.window, want);
	struct tcp_conn_info ci;
	tcp_conn_info(A.c, &ci);
	CHECK_EQ_INT(ci.rcv_wnd, want << shift);
	CHECK_EQ_INT(ci.rcv_queued, 1000);
	h_done();
}

static void test_window_scaled_128k(void)
{
	window_case(131072, 2);
}

static void test_window_scaled_1m(void)
{
	window_case(1u << 20, 5);
}

static void test_client_connect(void)
{
	h_start();
	reset_app();
	int err = 1;
	struct tcp_conn *c = tcp_connect(H.tcp, PEER, 25, &HA, &A, &err);
	CHECK(c != NULL);
	CHECK_EQ_INT(err, 0);
	CHECK_EQ_INT(tcp_conn_state(c), TCP_SYN_SENT);
	struct cseg syn = h_one();
	CHECK_EQ_INT(syn.th.flags, TCP_SYN);
	CHECK(syn.o.present & TCP_OPTF_MSS);
	CHECK(syn.o.present & TCP_OPTF_WSCALE);
	CHECK(syn.o.present & TCP_OPTF_SACK_PERM);
	CHECK(syn.o.present & TCP_OPTF_TS);
	CHECK(syn.th.sport >= 32768 && syn.th.sport <= 60999);
	CHECK_EQ_INT(tcp_send(c, "x", 1, 0), -ENOTCONN);
	/* SYN-ACK with MSS only: no scaling, no SACK, no TS */
	struct pseg s = {.sport = 25, .dport = syn.th.sport, .seq = 5000,
			 .ack = syn.th.seq + 1, .flags = TCP_SYN | TCP_ACK,
			 .win = 30000, .o = o_syn(true, -1, false, false)};
	h_send(&s);
	CHECK_EQ_INT(A.connected, 1);
	CHECK_EQ_INT(tcp_conn_state(c), TCP_ESTABLISHED);
	struct cseg a = h_one();
	CHECK_EQ_INT(a.th.flags, TCP_ACK);
	CHECK_EQ_INT(a.th.ack, 5001);
	CHECK_EQ_INT(a.th.seq, syn.th.seq + 1);
	CHECK_EQ_INT(a.o.present, 0);
	struct tcp_conn_info ci;
	tcp_conn_info(c, &ci);
	CHECK_EQ_INT(ci.snd_wnd, 30000);
	CHECK_EQ_INT(ci.rcv_wscale, 0);
	CHECK(!ci.ts_ok && !ci.sack_ok);
	CHECK_EQ_INT(tcp_send(c, "hi", 2, 0), 2);
	struct cseg d = h_one();
	CHECK_EQ_INT(d.len, 2);
	CHECK_EQ_MEM(d.data, 2, "hi", 2);
	h_done();
	CHECK_EQ_INT(A.closed, 1);
	CHECK_EQ_INT(A.close_err, -ECONNABORTED);
}

static void test_client_refused(void)
{
	h_start();
	reset_app();
	int err;
	struct tcp_conn *c = tcp_connect(H.tcp, PEER, 25, &HA, &A, &err);
	CHECK(c != NULL);
	struct cseg syn = h_one();
	struct pseg s = {.sport = 25, .dport = syn.th.sport, .seq = 0,
			 .ack = syn.th.seq + 1, .flags = TCP_RST | TCP_ACK};
	h_send(&s);
	CHECK_EQ_INT(A.closed, 1);
	CHECK_EQ_INT(A.close_err, -ECONNREFUSED);
	CHECK_EQ_INT(tcp_stack_nconns(H.tcp), 0);
	h_done();
}

static void test_synack_lost_same_isn(void)
{
	h_start();
	reset_app();
	tcp_listen(H.tcp, 0, LPORT, &HA, &A);
	struct tcp_opts o = o_syn(true, 7, true, true);
	struct cseg sa1 = do_syn(&o, PPORT);
	/* duplicate SYN: the same SYN-ACK */
	struct cseg sa2 = do_syn(&o, PPORT);
	CHECK_EQ_INT(sa2.th.seq, sa1.th.seq);
	CHECK_EQ_INT(sa2.th.flags, TCP_SYN | TCP_ACK);
	CHECK_EQ_INT(stats().syn_dup, 1);
	/* nothing for 999 ms, then the retransmission, same ISN */
	h_run(999 * MS);
	CHECK_EQ_INT(H.ncap, 0);
	h_run(1 * MS);
	struct cseg sa3 = h_one();
	CHECK_EQ_INT(sa3.th.seq, sa1.th.seq);
	/* backoff: the next after 2 s more */
	h_run(1999 * MS);
	CHECK_EQ_INT(H.ncap, 0);
	h_run(1 * MS);
	CHECK_EQ_INT(h_one().th.seq, sa1.th.seq);
	/* 5 retries then give up, silently (no app saw it) */
	h_run(200 * SEC);
	CHECK_EQ_INT(H.ncap, 3);
	h_clear(&H);
	CHECK_EQ_INT(tcp_stack_nconns(H.tcp), 0);
	CHECK_EQ_INT(A.accepted, 0);
	h_done();
}

static void test_ecn_setup_syn(void)
{
	h_start();
	reset_app();
	tcp_listen(H.tcp, 0, LPORT, &HA, &A);
	struct pseg s = {.sport = PPORT, .dport = LPORT, .seq = 1000,
			 .flags = TCP_SYN | TCP_ECE | TCP_CWR, .win = 65535,
			 .o = o_syn(true, -1, false, false)};
	h_send(&s);
	struct cseg sa = h_one();
	CHECK_EQ_INT(sa.th.flags, TCP_SYN | TCP_ACK);  /* no ECE: no ECN */
	h_done();
}

/* ---- SYN cookies ---- */

static void test_syn_cookies(void)
{
	struct tcp_stack_config c = h_cfg();
	c.syn_backlog = 1;
	h_start_cfg(&c, 0);
	reset_app();
	tcp_listen(H.tcp, 0, LPORT, &HA, &A);
	struct tcp_opts o = o_syn(true, 7, true, true);
	do_syn(&o, 41000);  /* fills the backlog */
	CHECK_EQ_INT(tcp_stack_nconns(H.tcp), 1);
	o.mss = 1400;
	pts = 5000;
	o.ts_val = pts;
	struct cseg sa = do_syn(&o, PPORT);
	CHECK_EQ_INT(stats().syn_cookies_sent, 1);
	CHECK_EQ_INT(tcp_stack_nconns(H.tcp), 1);  /* no state kept */
	CHECK(sa.o.present & TCP_OPTF_WSCALE);
	CHECK(sa.o.present & TCP_OPTF_SACK_PERM);
	CHECK(sa.o.present & TCP_OPTF_TS);
	/* forged: wrong ack */
	struct pseg f = {.sport = PPORT, .dport = LPORT, .seq = 1001,
			 .ack = sa.th.seq + 7, .flags = TCP_ACK, .win = 1000};
	f.o.present = TCP_OPTF_TS;
	f.o.ts_val = ++pts;
	f.o.ts_ecr = sa.o.ts_val;
	h_send(&f);
	CHECK_EQ_INT(stats().syn_cookies_bad, 1);
	CHECK_EQ_INT(h_one().th.flags, TCP_RST);
	/* the right ACK makes the connection, with the data it carries */
	f.ack = sa.th.seq + 1;
	f.data = "abc";
	f.len = 3;
	f.flags |= TCP_PSH;
	h_send(&f);
	CHECK_EQ_INT(stats().syn_cookies_ok, 1);
	CHECK_EQ_INT(A.accepted, 1);
	CHECK_EQ_INT(A.nrx, 3);
	struct tcp_conn_info ci;
	tcp_conn_info(A.c, &ci);
	CHECK_EQ_INT(ci.snd_mss, 1300 - 12);  /* cookie table: 1300 <= 1400 */
	CHECK_EQ_INT(ci.snd_wscale, 7);
	CHECK_EQ_INT(ci.rcv_wscale, 2);
	CHECK(ci.sack_ok && ci.ts_ok);
	CHECK_EQ_INT(ci.snd_wnd, 1000u << 7);
	h_clear(&H);
	h_done();
}

static void test_syn_cookie_no_ts_and_stale(void)
{
	struct tcp_stack_config c = h_cfg();
	c.syn_backlog = 1;
	h_start_cfg(&c, 0);
	reset_app();
	tcp_listen(H.tcp, 0, LPORT, &HA, &A);
	struct tcp_opts o = o_syn(true, 7, true, false);
	do_syn(&o, 41000);
	struct cseg sa = do_syn(&o, PPORT);
	/* without timestamps a cookie offers neither scaling nor SACK */
	CHECK(!(sa.o.present & (TCP_OPTF_WSCALE | TCP_OPTF_SACK_PERM |
				TCP_OPTF_TS)));
	/* stale: three 64 s slots later */
	hnow += 200 * SEC;
	struct pseg f = {.sport = PPORT, .dport = LPORT, .seq = 1001,
			 .ack = sa.th.seq + 1, .flags = TCP_ACK, .win = 1000};
	h_send(&f);
	CHECK_EQ_INT(stats().syn_cookies_bad, 1);
	CHECK_EQ_INT(A.accepted, 0);
	h_clear(&H);
	/* a fresh one without timestamps: MSS kept, no scaling */
	sa = do_syn(&o, PPORT + 1);
	f.sport = PPORT + 1;
	f.ack = sa.th.seq + 1;
	h_send(&f);
	CHECK_EQ_INT(A.accepted, 1);
	struct tcp_conn_info ci;
	tcp_conn_info(A.c, &ci);
	CHECK_EQ_INT(ci.snd_mss, 1460);
	CHECK_EQ_INT(ci.snd_wscale, 0);
	CHECK(!ci.sack_ok && !ci.ts_ok);
	h_clear(&H);
	h_done();
}

/* ---- RFC 5961 ---- */

static void rst_seg(uint32_t seq)
{
	struct pseg s = {.sport = PPORT, .dport = LPORT, .seq = seq,
			 .flags = TCP_RST, .win = 0};
	h_send(&s);
}

static void test_rst_exact_in_window_outside(void)
{
	h_start();
	establish();
	rst_seg(pseq + 100);  /* in window: challenge ACK */
	struct cseg a = h_one();
	CHECK_EQ_INT(a.th.flags, TCP_ACK);
	CHECK_EQ_INT(a.th.ack, pseq);
	CHECK_EQ_INT(stats().challenge_acks, 1);
	rst_seg(pseq + 1000000);  /* outside: silently dropped */
	CHECK_EQ_INT(H.ncap, 0);
	CHECK(A.c != NULL);
	rst_seg(pseq);  /* exact: reset */
	CHECK_EQ_INT(A.closed, 1);
	CHECK_EQ_INT(A.close_err, -ECONNRESET);
	CHECK_EQ_INT(H.ncap, 0);
	CHECK_EQ_INT(tcp_stack_nconns(H.tcp), 0);
	h_done();
}

static void test_syn_in_established(void)
{
	h_start();
	establish();
	struct pseg s = {.sport = PPORT, .dport = LPORT, .seq = pseq + 5,
			 .flags = TCP_SYN, .win = 1000};
	h_send(&s);
	struct cseg a = h_one();
	CHECK_EQ_INT(a.th.flags, TCP_ACK);
	CHECK_EQ_INT(a.th.ack, pseq);
	CHECK_EQ_INT(tcp_conn_state(A.c), TCP_ESTABLISHED);
	h_done();
}

static void test_challenge_rate_per_conn(void)
{
	struct tcp_stack_config c = h_cfg();
	c.challenge_ack_rate = 1;
	c.challenge_ack_burst = 2;
	h_start_cfg(&c, 0);
	establish();
	struct tcp_conn *first = A.c;
	for (int i = 0; i < 5; i++)
		rst_seg(pseq + 10 + (uint32_t)i);
	CHECK_EQ_INT(H.ncap, 2);
	h_clear(&H);
	CHECK_EQ_INT(stats().challenge_ratelimited, 3);
	/* another connection has its own budget */
	struct tcp_opts o = o_syn(true, -1, false, false);
	struct cseg sa = do_syn(&o, PPORT + 1);
	struct pseg s = {.sport = PPORT + 1, .dport = LPORT, .seq = 1001,
			 .ack = sa.th.seq + 1, .flags = TCP_ACK, .win = 1000};
	h_send(&s);
	CHECK(A.c != first);
	s.flags = TCP_RST;
	s.seq = 1001 + 50;
	h_send(&s);
	CHECK_EQ_INT(H.ncap, 1);
	h_clear(&H);
	/* and the first one earns a token per second */
	h_advance(1 * SEC);
	rst_seg(pseq + 10);
	CHECK_EQ_INT(H.ncap, 1);
	h_clear(&H);
	h_done();
}

static void test_bad_ack(void)
{
	h_start();
	establish();
	/* acks data never sent */
	ack_peer(iss + 1 + 5000, 65535);
	struct cseg a = h_one();
	CHECK_EQ_INT(a.th.flags, TCP_ACK);
	CHECK_EQ_INT(a.th.seq, iss + 1);
	/* too old: below snd_una - max window */
	ack_peer(iss + 1 - (65535u << 7) - 10, 65535);
	CHECK_EQ_INT(h_one().th.flags, TCP_ACK);
	CHECK_EQ_INT(stats().challenge_acks, 2);
	/* an old duplicate inside the range is ignored */
	ack_peer(iss - 100, 65535);
	CHECK_EQ_INT(H.ncap, 0);
	h_done();
}

static void test_paws(void)
{
	h_start();
	establish();
	peer_data("a", 1, TCP_PSH);
	h_run(50 * MS);
	h_clear(&H);
	struct pseg s = {.sport = PPORT, .dport = LPORT, .seq = pseq,
			 .ack = iss + 1, .flags = TCP_ACK | TCP_PSH,
			 .win = 65535, .data = "b", .len = 1};
	s.o.present = TCP_OPTF_TS;
	s.o.ts_val = pts - 50;  /* older than TS.Recent */
	h_send(&s);
	CHECK_EQ_INT(stats().paws_drops, 1);
	struct cseg a = h_one();
	CHECK_EQ_INT(a.th.ack, pseq);  /* not taken */
	CHECK_EQ_INT(A.nrx, 1);
	/* A bare duplicate ACK as old, overtaken on the path, is not a PAWS
	 * drop (it counts for fast retransmit); one that moves the window is. */
	h_clear(&H);
	struct pseg d = {.sport = PPORT, .dport = LPORT, .seq = pseq,
			 .ack = iss + 1, .flags = TCP_ACK, .win = 65535};
	d.o.present = TCP_OPTF_TS;
	d.o.ts_val = pts - 50;
	h_send(&d);
	CHECK_EQ_INT(stats().paws_drops, 1);
	CHECK_EQ_INT(H.ncap, 0);
	d.win = 1000;
	h_send(&d);
	CHECK_EQ_INT(stats().paws_drops, 2);
	h_done();
}

/* ---- data ---- */

static void test_data_ooo_sack(void)
{
	h_start();
	establish();
	uint32_t base = pseq;
	/* segment 2 and 4 of four 100-byte segments first */
	struct pseg s = {.sport = PPORT, .dport = LPORT, .ack = iss + 1,
			 .flags = TCP_ACK, .win = 65535};
	s.seq = base + 100;
	s.data = pat + 100;
	s.len = 100;
	s.o = o_ts();
	h_send(&s);
	struct cseg a = h_one();
	CHECK_EQ_INT(a.th.ack, base);
	CHECK(a.o.present & TCP_OPTF_SACK);
	CHECK_EQ_INT(a.o.sack_n, 1);
	CHECK_EQ_INT(a.o.sack[0].left, base + 100);
	CHECK_EQ_INT(a.o.sack[0].right, base + 200);
	s.seq = base + 300;
	s.data = pat + 300;
	s.o = o_ts();
	h_send(&s);
	a = h_one();
	CHECK_EQ_INT(a.o.sack_n, 2);
	CHECK_EQ_INT(a.o.sack[0].left, base + 300);  /* most recent first */
	CHECK_EQ_INT(a.o.sack[1].left, base + 100);
	CHECK_EQ_INT(stats().ooo_queued, 2);
	CHECK_EQ_INT(A.readable, 0);
	/* fill the first hole: cumulative ACK to 200, one block left */
	s.seq = base;
	s.data = pat;
	s.o = o_ts();
	h_send(&s);
	a = h_one();
	CHECK_EQ_INT(a.th.ack, base + 200);
	CHECK_EQ_INT(a.o.sack_n, 1);
	CHECK_EQ_INT(A.nrx, 200);
	s.seq = base + 200;
	s.data = pat + 200;
	s.o = o_ts();
	h_send(&s);
	a = h_one();
	CHECK_EQ_INT(a.th.ack, base + 400);
	CHECK(!(a.o.present & TCP_OPTF_SACK));
	CHECK_EQ_INT(A.nrx, 400);
	CHECK_EQ_MEM(A.rx, 400, pat, 400);
	h_done();
}

/* One 100-byte segment of pat at base + off, answered by exactly one
 * ACK, which is returned. */
static struct cseg seg100(uint32_t base, uint32_t off, uint32_t len)
{
	struct pseg s = {.sport = PPORT, .dport = LPORT, .seq = base + off,
			 .ack = iss + 1, .flags = TCP_ACK, .win = 65535,
			 .o = o_ts(), .data = pat + off, .len = len};
	h_send(&s);
	return h_one();
}

/* Data that arrives twice is reported once, in the first SACK block of
 * the ACK it causes (D-SACK, RFC 2883): a whole duplicate out-of-order
 * segment, a whole and a partial duplicate below rcv_nxt. Without SACK
 * the duplicate is ACKed at once and counted, nothing more. */
static void test_dsack(void)
{
	h_start();
	establish();
	uint32_t base = pseq;
	struct cseg a = seg100(base, 100, 100);  /* out of order */
	CHECK_EQ_INT(a.o.sack_n, 1);
	a = seg100(base, 100, 100);  /* the same again */
	CHECK_EQ_INT(a.th.ack, base);
	CHECK_EQ_INT(a.o.sack_n, 2);
	CHECK_EQ_INT(a.o.sack[0].left, base + 100);   /* D-SACK */
	CHECK_EQ_INT(a.o.sack[0].right, base + 200);
	CHECK_EQ_INT(a.o.sack[1].left, base + 100);   /* the queued block */
	CHECK_EQ_INT(a.o.sack[1].right, base + 200);
	CHECK_EQ_INT(stats().dsacks, 1);
	CHECK_EQ_INT(stats().dup_data, 1);
	a = seg100(base, 0, 100);  /* fills the hole: reported only once */
	CHECK_EQ_INT(a.th.ack, base + 200);
	CHECK(!(a.o.present & TCP_OPTF_SACK));
	a = seg100(base, 0, 100);  /* wholly below rcv_nxt */
	CHECK_EQ_INT(a.th.ack, base + 200);
	CHECK_EQ_INT(a.o.sack_n, 1);
	CHECK_EQ_INT(a.o.sack[0].left, base);
	CHECK_EQ_INT(a.o.sack[0].right, base + 100);
	a = seg100(base, 150, 100);  /* 150..200 again, 200..250 new */
	CHECK_EQ_INT(a.th.ack, base + 250);
	CHECK_EQ_INT(a.o.sack_n, 1);
	CHECK_EQ_INT(a.o.sack[0].left, base + 150);
	CHECK_EQ_INT(a.o.sack[0].right, base + 200);
	CHECK_EQ_INT(stats().dsacks, 3);
	CHECK_EQ_INT(A.nrx, 250);
	CHECK_EQ_MEM(A.rx, 250, pat, 250);
	/* a duplicate inside a queued range, with the hole still open */
	a = seg100(base, 300, 100);
	a = seg100(base, 320, 40);
	CHECK_EQ_INT(a.o.sack_n, 2);
	CHECK_EQ_INT(a.o.sack[0].left, base + 320);
	CHECK_EQ_INT(a.o.sack[0].right, base + 360);
	CHECK_EQ_INT(a.o.sack[1].left, base + 300);
	CHECK_EQ_INT(a.o.sack[1].right, base + 400);
	h_done();

	h_start();
	struct tcp_opts o = o_syn(true, 7, false, true);  /* no SACK */
	establish_o(&o);
	base = pseq;
	a = seg100(base, 100, 100);
	a = seg100(base, 100, 100);
	CHECK_EQ_INT(a.th.ack, base);
	CHECK(!(a.o.present & TCP_OPTF_SACK));
	CHECK_EQ_INT(stats().dup_data, 1);
	CHECK_EQ_INT(stats().dsacks, 0);
	h_done();
}

/* The highest sequence number past the end of any captured segment of
 * ours; the capture is cleared. */
static uint32_t sent_edge(uint32_t edge)
{
	for (int i = 0; i < H.ncap; i++) {
		struct cseg c = h_seg(i);
		uint32_t end = c.th.seq + c.len;
		if ((int32_t)(end - edge) > 0)
			edge = end;
	}
	h_clear(&H);
	return edge;
}

/* A peer's window is relative to the ACK it came with. Its
 * retransmission carries a lower SEQ than its earlier ACKs but the
 * newest ACK and window: taking snd_una from it but not the window put
 * our limit past the peer's right edge (and, once the peer's window was
 * zero, the peer dropped our ACKs for good). An older ACK never moves
 * the window either. */
static void test_window_relative_to_newest_ack(void)
{
	struct tcp_stack_config cfg = h_cfg();
	h_start_cfg(&cfg, 0);
	struct tcp_opts o = o_syn(true, -1, false, false);
	establish_o(&o);
	uint32_t p0 = pseq;
	/* the peer has sent 1000 bytes we have not seen: its ACKs carry
	 * SEQ p0 + 1000 */
	struct pseg s = {.sport = PPORT, .dport = LPORT, .seq = p0 + 1000,
			 .ack = iss + 1, .flags = TCP_ACK, .win = 4380};
	h_send(&s);
	h_clear(&H);
	CHECK_EQ_INT(tcp_send(A.c, pat, 10000, 0), 10000);
	uint32_t edge = sent_edge(iss + 1);
	CHECK_EQ_INT(edge, iss + 1 + 4380);  /* the window: 3 segments */
	/* the retransmission: newest ACK (2 segments acked), window 1
	 * segment, the same right edge */
	s.seq = p0;
	s.ack = iss + 1 + 2920;
	s.win = 1460;
	s.data = pat;
	s.len = 1000;
	h_send(&s);
	h_run(10 * MS);
	CHECK_EQ_INT(sent_edge(edge), iss + 1 + 4380);
	/* an older ACK with a larger window: ignored */
	s.seq = p0 + 1000;
	s.ack = iss + 1 + 1460;
	s.win = 8000;
	s.data = NULL;
	s.len = 0;
	h_send(&s);
	h_run(10 * MS);
	CHECK_EQ_INT(sent_edge(edge), iss + 1 + 4380);
	/* the window opens with a new ACK: sending resumes */
	s.ack = iss + 1 + 4380;
	s.win = 2920;
	h_send(&s);
	h_run(10 * MS);
	CHECK_EQ_INT(sent_edge(edge), iss + 1 + 7300);
	h_clear(&H);
	h_done();
}

/* A peer that filled our window numbers its ACKs with our right edge
 * (RCV.NXT + RCV.WND): outside the window by RFC 9293's test, but the
 * ACK must be taken, or that peer is never heard again. */
static void test_ack_at_right_edge(void)
{
	struct tcp_stack_config cfg = h_cfg();
	cfg.rcvbuf = 4096;
	h_start_cfg(&cfg, 0);
	struct tcp_opts o = o_syn(true, -1, false, false);
	establish_o(&o);
	A.consume = false;
	CHECK_EQ_INT(tcp_send(A.c, pat, 100, 0), 100);
	h_clear(&H);
	uint32_t p0 = pseq;
	/* the first 1400 bytes are lost; the rest reaches the edge */
	struct pseg s = {.sport = PPORT, .dport = LPORT, .seq = p0 + 1400,
			 .ack = iss + 1, .flags = TCP_ACK, .win = 65535,
			 .data = pat + 1400, .len = 1400};
	h_send(&s);
	s.seq = p0 + 2800;
	s.data = pat + 2800;
	s.len = 4096 - 2800;
	h_send(&s);
	h_clear(&H);
	struct tcp_conn_info ci;
	tcp_conn_info(A.c, &ci);
	CHECK_EQ_INT(ci.in_flight, 100);
	/* its pure ACK of our 100 bytes, SEQ at our right edge */
	s.seq = p0 + 4096;
	s.ack = iss + 1 + 100;
	s.data = NULL;
	s.len = 0;
	h_send(&s);
	tcp_conn_info(A.c, &ci);
	CHECK_EQ_INT(ci.in_flight, 0);
	CHECK_EQ_INT(H.ncap, 0);  /* a pure ACK is not answered */
	/* data at the edge: not kept, but its ACK is, and it is answered */
	CHECK_EQ_INT(tcp_send(A.c, pat, 50, 0), 50);
	h_clear(&H);
	s.ack = iss + 1 + 150;
	s.data = pat;
	s.len = 10;
	h_send(&s);
	tcp_conn_info(A.c, &ci);
	CHECK_EQ_INT(ci.in_flight, 0);
	struct cseg a = h_one();
	CHECK_EQ_INT(a.th.ack, p0);
	CHECK_EQ_INT(ci.ooo_pkts, 2);
	h_done();
}

static void test_delayed_ack(void)
{
	h_start();
	establish();
	uint32_t mss = 1448;
	peer_data(pat, 1, 0);  /* opens the window past the SYN's 64 KiB */
	h_run(50 * MS);
	h_clear(&H);
	peer_data(pat, mss, 0);
	CHECK_EQ_INT(H.ncap, 0);  /* first full segment: delayed */
	peer_data(pat + mss, mss, 0);
	struct cseg a = h_one();  /* second: ACK now */
	CHECK_EQ_INT(a.th.ack, pseq);
	/* A short segment the application does not read yet: delayed. */
	bool consume = A.consume;
	A.consume = false;
	peer_data(pat, 10, TCP_PSH);
	CHECK_EQ_INT(H.ncap, 0);
	h_run(39 * MS);
	CHECK_EQ_INT(H.ncap, 0);
	h_run(1 * MS);
	a = h_one();  /* the delayed-ACK timer */
	CHECK_EQ_INT(a.th.ack, pseq);
	CHECK_EQ_INT(stats().delayed_acks, 1);
	A.consume = consume;
	h_done();
}

/* The end of a write (a segment shorter than the largest seen), read
 * completely by an application that answers nothing yet (an SMTP end of
 * DATA waiting for its verdict): ACKed at once, so the peer sends no tail
 * loss probe. Full-sized segments read the same way stay delayed. */
static void test_ack_when_pushed_segment_read(void)
{
	h_start();
	establish();
	uint32_t mss = 1448;
	A.consume = true;
	peer_data(pat, 1, 0);  /* opens the window past the SYN's 64 KiB */
	h_run(50 * MS);
	h_clear(&H);
	uint64_t pushed0 = stats().pushed_acks;
	uint64_t delayed0 = stats().delayed_acks;
	peer_data(pat, mss, 0);
	CHECK_EQ_INT(H.ncap, 0);   /* full-sized, read: still delayed */
	h_run(40 * MS);
	struct cseg a = h_one();   /* by the delayed-ACK timer */
	CHECK_EQ_INT(a.th.ack, pseq);
	CHECK_EQ_INT(stats().delayed_acks, delayed0 + 1);
	peer_data(pat, 200, TCP_PSH);
	a = h_one();               /* short and read: now */
	CHECK_EQ_INT(a.th.ack, pseq);
	CHECK_EQ_INT(a.len, 0);
	CHECK_EQ_INT(stats().pushed_acks, pushed0 + 1);
	h_run(50 * MS);
	CHECK_EQ_INT(H.ncap, 0);   /* and no second, delayed one */
	CHECK_EQ_INT(stats().delayed_acks, delayed0 + 1);
	h_done();
}

static void test_readable_abort_in_handler(void)
{
	h_start();
	establish();
	A.abort_in_readable = true;
	peer_data("xyz", 3, TCP_PSH);
	CHECK_EQ_INT(A.readable, 1);
	CHECK_EQ_INT(A.closed, 1);
	CHECK_EQ_INT(A.close_err, -ECONNABORTED);
	struct cseg r = h_one();
	CHECK(r.th.flags & TCP_RST);
	CHECK_EQ_INT(tcp_stack_nconns(H.tcp), 0);
	h_done();
}

/* ---- retransmission and congestion ---- */

static void test_rto_backoff_karn(void)
{
	h_start();
	establish();
	CHECK_EQ_INT(tcp_send(A.c, pat, 100, 0), 100);
	struct cseg d = h_one();
	CHECK_EQ_INT(d.th.seq, iss + 1);
	/* initial RTO 1 s (no sample yet from a TS-less ACK? TS was used) */
	struct tcp_conn_info ci;
	tcp_conn_info(A.c, &ci);
	uint32_t rto = ci.rto_us;
	CHECK(rto >= 200000);
	h_run(rto - 1 * MS);
	CHECK_EQ_INT(H.ncap, 0);
	h_run(1 * MS);
	struct cseg r = h_one();
	CHECK_EQ_INT(r.th.seq, iss + 1);
	CHECK_EQ_INT(r.len, 100);
	tcp_conn_info(A.c, &ci);
	CHECK_EQ_INT(ci.rto_us, 2 * rto);
	CHECK_EQ_INT(ci.cwnd, ci.snd_mss);
	h_run(2 * rto - 1 * MS);
	CHECK_EQ_INT(H.ncap, 0);
	h_run(1 * MS);
	h_one();
	CHECK_EQ_INT(stats().rto_expired, 2);
	/* an ACK of the retransmitted data without TS: Karn, no sample */
	use_ts = false;
	uint32_t srtt = ci.srtt_us;
	h_advance(5 * SEC);
	ack_peer(iss + 101, 65535);
	tcp_conn_info(A.c, &ci);
	CHECK_EQ_INT(ci.srtt_us, srtt);
	CHECK_EQ_INT(ci.in_flight, 0);
	h_done();
}

/* After a timeout rewinds snd_nxt, a bare ACK still carries snd_max: a
 * sequence number before the peer's rcv_nxt would make the peer discard
 * it unread (two such stacks ACK each other's ACKs forever). */
static void test_ack_seq_after_rto(void)
{
	struct tcp_conn_info ci0;
	h_start();
	establish();
	for (int i = 0; i < 3; i++)
		CHECK_EQ_INT(tcp_send(A.c, pat, 1000, 0), 1000);
	CHECK_EQ_INT(H.ncap, 3);
	tcp_conn_info(A.c, &ci0);
	uint32_t mss = ci0.snd_mss;
	h_clear(&H);
	struct tcp_conn_info ci;
	tcp_conn_info(A.c, &ci);
	h_run(ci.rto_us);
	struct cseg r = h_one();  /* one MSS from snd_una again */
	CHECK_EQ_INT(r.th.seq, iss + 1);
	CHECK_EQ_INT(r.len, mss);
	CHECK(mss < 3000);
	h_clear(&H);
	peer_data("q", 1, TCP_PSH);
	h_run(100 * MS);  /* the delayed ACK */
	struct cseg a = h_one();
	CHECK_EQ_INT(a.len, 0);
	CHECK_EQ_INT(a.th.ack, pseq);
	CHECK_EQ_INT(a.th.seq, iss + 3001);
	h_done();
}

static void test_retries_exhausted(void)
{
	struct tcp_stack_config c = h_cfg();
	c.data_retries = 3;
	h_start_cfg(&c, 0);
	establish();
	tcp_send(A.c, pat, 10, 0);
	h_run(60 * SEC);
	CHECK_EQ_INT(A.closed, 1);
	CHECK_EQ_INT(A.close_err, -ETIMEDOUT);
	/* original, 3 retransmissions, RST */
	CHECK_EQ_INT(H.ncap, 5);
	CHECK(h_seg(H.ncap - 1).th.flags & TCP_RST);
	h_clear(&H);
	CHECK_EQ_INT(stats().timeouts, 1);
	h_done();
}

static void test_fast_retransmit_newreno(void)
{
	h_start();
	struct tcp_opts o = o_syn(true, 0, false, false);  /* no SACK/TS */
	establish_o(&o);
	uint32_t mss = 1460;
	CHECK_EQ_INT(tcp_send(A.c, pat, 10 * mss, 0), 10 * mss);
	CHECK_EQ_INT(H.ncap, 10);  /* initial window: 10 segments */
	h_clear(&H);
	uint32_t una = iss + 1;
	/* segment 0 lost; 1..3 arrive: three dup ACKs */
	for (int i = 0; i < 3; i++)
		ack_peer(una, 65535);
	CHECK_EQ_INT(stats().fast_retrans, 1);
	CHECK_EQ_INT(stats().dup_acks, 3);
	struct cseg r = h_seg(0);
	CHECK_EQ_INT(r.th.seq, una);
	CHECK_EQ_INT(r.len, mss);
	h_clear(&H);
	struct tcp_conn_info ci;
	tcp_conn_info(A.c, &ci);
	CHECK_EQ_INT(ci.ssthresh, 5 * mss);
	CHECK_EQ_INT(ci.cwnd, 8 * mss);
	/* partial ACK up to segment 5 (segment 5 lost too) */
	ack_peer(una + 5 * mss, 65535);
	r = h_seg(0);
	CHECK_EQ_INT(r.th.seq, una + 5 * mss);  /* next hole at once */
	h_clear(&H);
	CHECK_EQ_INT(stats().retrans_segs, 2);
	/* full ACK ends recovery: cwnd = min(ssthresh, max(flight, mss)
	 * + mss), RFC 6582 3.2 step 3 option 1 (nothing is in flight) */
	ack_peer(una + 10 * mss, 65535);
	tcp_conn_info(A.c, &ci);
	CHECK_EQ_INT(ci.cwnd, 2 * mss);
	CHECK_EQ_INT(ci.in_flight, 0);
	h_clear(&H);
	h_done();
}

/* A retransmission never reaches past snd_max, even when fewer option
 * bytes now leave room for a longer segment than the first one (it went
 * out beside a SACK block): the peer would acknowledge bytes we never
 * counted as sent, and we must take such an ACK as acking unsent data. */
static void test_retransmit_within_snd_max(void)
{
	h_start();
	establish();
	uint32_t mss = 1448;
	uint32_t base = pseq;
	/* out-of-order data from the peer: our segments carry a SACK block */
	struct pseg s = {.sport = PPORT, .dport = LPORT, .seq = base + 100,
			 .ack = iss + 1, .flags = TCP_ACK, .win = 65535,
			 .o = o_ts(), .data = pat, .len = 100};
	h_send(&s);
	h_clear(&H);
	CHECK_EQ_INT(tcp_send(A.c, pat, mss - 12, 0), mss - 12);
	struct cseg d = h_one();
	CHECK_EQ_INT(d.len, mss - 12);
	CHECK(d.o.present & TCP_OPTF_SACK);
	CHECK_EQ_INT(tcp_send(A.c, pat, 100, TCP_SEND_MORE), 100);
	CHECK_EQ_INT(H.ncap, 0);  /* held: a partial segment, more follows */
	/* the hole is filled: no SACK blocks any more */
	peer_data(pat, 100, 0);
	pseq = base + 200;
	h_clear(&H);
	for (int i = 0; i < 3; i++)
		ack_peer(iss + 1, 65535);
	CHECK_EQ_INT(stats().fast_retrans, 1);
	struct cseg r = h_seg(0);
	CHECK_EQ_INT(r.th.seq, iss + 1);
	CHECK_EQ_INT(r.len, mss - 12);  /* not mss: that passes snd_max */
	CHECK(!(r.o.present & TCP_OPTF_SACK));
	h_clear(&H);
	h_done();
}

static void test_sack_recovery(void)
{
	h_start();
	establish();
	uint32_t mss = 1448;
	tcp_send(A.c, pat, 10 * mss, 0);
	h_clear(&H);
	uint32_t una = iss + 1;
	/* segments 0 and 2 lost */
	struct pseg s = {.sport = PPORT, .dport = LPORT, .seq = pseq,
			 .ack = una, .flags = TCP_ACK, .win = 65535};
	for (int i = 0; i < 3; i++) {
		s.o = o_ts();
		s.o.present |= TCP_OPTF_SACK;
		s.o.sack_n = 2;
		s.o.sack[0].left = una + 3 * mss;
		s.o.sack[0].right = una + (4 + (uint32_t)i) * mss;
		s.o.sack[1].left = una + mss;
		s.o.sack[1].right = una + 2 * mss;
		h_send(&s);
	}
	CHECK_EQ_INT(stats().sack_recovery, 1);
	/* both holes retransmitted */
	bool got0 = false, got2 = false;
	for (int i = 0; i < H.ncap; i++) {
		struct cseg r = h_seg(i);
		if (r.th.seq == una && r.len > 0)
			got0 = true;
		if (r.th.seq == una + 2 * mss && r.len > 0)
			got2 = true;
	}
	CHECK(got0 && got2);
	h_clear(&H);
	h_done();
}

/* ---- windows ---- */

static void test_zero_window_persist(void)
{
	h_start();
	establish();
	uint32_t una = iss + 1;
	ack_peer(una, 0);  /* window closed */
	CHECK_EQ_INT(tcp_send(A.c, pat, 500, 0), 500);
	CHECK_EQ_INT(H.ncap, 0);
	struct tcp_conn_info ci;
	tcp_conn_info(A.c, &ci);
	uint32_t rto = ci.rto_us;
	h_run(rto);
	struct cseg p = h_one();  /* a 1-byte probe */
	CHECK_EQ_INT(p.len, 1);
	CHECK_EQ_INT(p.th.seq, una);
	CHECK_EQ_INT(stats().zero_window_probes, 1);
	ack_peer(una, 0);  /* still closed: probe not taken */
	h_run(2 * rto - 1 * MS);
	CHECK_EQ_INT(H.ncap, 0);
	h_run(1 * MS);
	CHECK_EQ_INT(h_one().len, 1);  /* backed off */
	/* window opens: the rest goes */
	ack_peer(una, 65535);
	CHECK(H.ncap >= 1);
	uint32_t sent = 0;
	for (int i = 0; i < H.ncap; i++)
		sent += h_seg(i).len;
	CHECK_EQ_INT(sent, 499);  /* the probe carried the first byte */
	h_clear(&H);
	h_done();
}

static void test_window_shrinks_never_beyond(void)
{
	struct tcp_stack_config c = h_cfg();
	c.rcvbuf = 8192;
	h_start_cfg(&c, 0);
	struct tcp_opts o = o_syn(true, -1, false, false);
	establish_o(&o);
	A.consume = false;
	uint32_t edge = pseq + 8192;
	uint32_t sent = 0;
	while (sent < 8192) {
		peer_data(pat + sent, 1000, TCP_PSH);
		sent += 1000;
		h_run(50 * MS);
		for (int i = 0; i < H.ncap; i++) {
			struct cseg a = h_seg(i);
			uint32_t right = a.th.ack + a.th.window;
			CHECK(right == edge);  /* the edge never moves */
		}
		h_clear(&H);
		if (sent + 1000 > 8192)
			break;
	}
	/* 192 bytes left of the window: beyond it nothing is taken */
	peer_data(pat, 1000, TCP_PSH);
	h_run(50 * MS);
	struct cseg a = h_one();
	CHECK_EQ_INT(a.th.window, 0);
	CHECK_EQ_INT(a.th.ack + a.th.window, edge);
	struct tcp_conn_info ci;
	tcp_conn_info(A.c, &ci);
	CHECK_EQ_INT(ci.rcv_queued, 8192);
	/* the app reads: a window update */
	struct iovec iov[64];
	size_t n;
	tcp_recv_iov(A.c, iov, 64, &n);
	CHECK_EQ_INT(n, 8192);
	tcp_recv_consume(A.c, n);
	a = h_one();
	CHECK_EQ_INT(a.th.window, 8192);
	CHECK_EQ_INT(stats().window_updates, 1);
	h_done();
}

/* ---- closing ---- */

static void test_passive_close(void)
{
	h_start();
	establish();
	peer_data("bye", 3, TCP_FIN);
	CHECK_EQ_INT(tcp_conn_state(A.c), TCP_CLOSE_WAIT);
	CHECK(tcp_recv_eof(A.c));
	struct cseg a = h_one();
	CHECK_EQ_INT(a.th.ack, pseq);
	tcp_close(A.c);
	struct cseg f = h_one();
	CHECK_EQ_INT(f.th.flags, TCP_FIN | TCP_ACK);
	CHECK_EQ_INT(stats().conns[TCP_LAST_ACK], 1);
	ack_peer(f.th.seq + 1, 65535);
	CHECK_EQ_INT(A.closed, 1);
	CHECK_EQ_INT(A.close_err, 0);
	CHECK_EQ_INT(tcp_stack_nconns(H.tcp), 0);
	h_done();
}

static void test_active_close_time_wait(void)
{
	h_start();
	establish();
	struct tcp_conn *c = A.c;
	tcp_send(c, "data", 4, TCP_SEND_MORE);  /* held for the FIN */
	CHECK_EQ_INT(H.ncap, 0);
	tcp_shutdown(c);
	CHECK_EQ_INT(tcp_conn_state(c), TCP_FIN_WAIT1);
	CHECK_EQ_INT(H.ncap, 1);  /* data and FIN in one segment */
	struct cseg f = h_one();
	CHECK_EQ_INT(f.th.flags, TCP_FIN | TCP_ACK | TCP_PSH);
	uint32_t fin_seq = f.th.seq + 4;
	ack_peer(fin_seq + 1, 65535);
	CHECK_EQ_INT(tcp_conn_state(c), TCP_FIN_WAIT2);
	peer_data(NULL, 0, TCP_FIN);
	CHECK_EQ_INT(A.closed, 1);
	CHECK_EQ_INT(A.close_err, 0);
	struct cseg a = h_one();
	CHECK_EQ_INT(a.th.ack, pseq);
	struct tcp_stack_stats st = stats();
	CHECK_EQ_INT(st.conns[TCP_TIME_WAIT], 1);
	CHECK_EQ_INT(tcp_stack_nconns(H.tcp), 0);
	/* the FIN again: re-ACKed from the compact record */
	struct pseg s = {.sport = PPORT, .dport = LPORT, .seq = pseq - 1,
			 .ack = fin_seq + 1, .flags = TCP_ACK | TCP_FIN,
			 .win = 65535, .o = o_ts()};
	h_send(&s);
	a = h_one();
	CHECK_EQ_INT(a.th.ack, pseq);
	CHECK_EQ_INT(a.th.seq, fin_seq + 1);
	CHECK(a.o.present & TCP_OPTF_TS);
	/* a RST does not kill it (RFC 1337) */
	rst_seg(pseq);
	CHECK_EQ_INT(stats().conns[TCP_TIME_WAIT], 1);
	/* a new SYN with a higher TSval reuses the tuple */
	reset_app();
	struct tcp_opts o = o_syn(true, 7, true, true);
	o.ts_val = ++pts;
	struct pseg syn = {.sport = PPORT, .dport = LPORT, .seq = 1,
			   .flags = TCP_SYN, .win = 65535, .o = o};
	h_send(&syn);  /* seq lower, TS higher: accepted */
	struct cseg sa = h_one();
	CHECK_EQ_INT(sa.th.flags, TCP_SYN | TCP_ACK);
	CHECK((int32_t)(sa.th.seq - (fin_seq + 1)) > 0);
	st = stats();
	CHECK_EQ_INT(st.time_wait_reused, 1);
	CHECK_EQ_INT(st.conns[TCP_TIME_WAIT], 0);
	h_done();
}

static void test_time_wait_expiry_and_eviction(void)
{
	struct tcp_stack_config c = h_cfg();
	c.max_time_wait = 2;
	c.time_wait_us = 10 * SEC;
	h_start_cfg(&c, 0);
	reset_app();
	tcp_listen(H.tcp, 0, LPORT, &HA, &A);
	struct tcp_opts o = o_syn(true, -1, false, false);
	use_ts = false;
	for (int i = 0; i < 3; i++) {
		uint16_t port = (uint16_t)(PPORT + i);
		struct cseg sa = do_syn(&o, port);
		struct pseg s = {.sport = port, .dport = LPORT, .seq = 1001,
				 .ack = sa.th.seq + 1, .flags = TCP_ACK,
				 .win = 65535};
		h_send(&s);
		tcp_shutdown(A.c);
		h_clear(&H);
		s.ack += 1;
		s.flags = TCP_ACK | TCP_FIN;
		h_send(&s);
		h_clear(&H);
		h_advance(1 * SEC);
	}
	struct tcp_stack_stats st = stats();
	CHECK_EQ_INT(st.conns[TCP_TIME_WAIT], 2);
	CHECK_EQ_INT(st.time_wait_evicted, 1);
	uint64_t next = tcp_stack_next_timer_us(H.tcp, hnow);
	CHECK(next > 0 && next <= 10 * SEC);
	h_run(10 * SEC);
	CHECK_EQ_INT(stats().conns[TCP_TIME_WAIT], 0);
	CHECK_EQ_INT(tcp_stack_next_timer_us(H.tcp, hnow), UINT64_MAX);
	h_done();
}

static void test_simultaneous_close(void)
{
	h_start();
	establish();
	tcp_shutdown(A.c);
	struct cseg f = h_one();
	CHECK(f.th.flags & TCP_FIN);
	/* the peer's FIN crosses ours (it has not seen ours) */
	peer_data(NULL, 0, TCP_FIN);
	CHECK_EQ_INT(tcp_conn_state(A.c), TCP_CLOSING);
	h_clear(&H);
	ack_peer(f.th.seq + 1, 65535);
	CHECK_EQ_INT(A.closed, 1);
	CHECK_EQ_INT(stats().conns[TCP_TIME_WAIT], 1);
	h_done();
}

static void test_orphan_data_rst(void)
{
	h_start();
	establish();
	tcp_close(A.c);
	struct cseg f = h_one();
	CHECK(f.th.flags & TCP_FIN);
	peer_data("late", 4, 0);  /* nobody will read it */
	struct cseg r = h_one();
	CHECK(r.th.flags & TCP_RST);
	CHECK_EQ_INT(A.closed, 1);
	CHECK_EQ_INT(tcp_stack_nconns(H.tcp), 0);
	h_done();
}

static void test_fin_wait2_orphan_timeout(void)
{
	h_start();
	establish();
	tcp_close(A.c);
	struct cseg f = h_one();
	ack_peer(f.th.seq + 1, 65535);
	CHECK_EQ_INT(stats().conns[TCP_FIN_WAIT2], 1);
	h_run(59 * SEC);
	CHECK_EQ_INT(A.closed, 0);
	h_run(2 * SEC);
	CHECK_EQ_INT(A.closed, 1);
	CHECK_EQ_INT(tcp_stack_nconns(H.tcp), 0);
	h_done();
}

/* ---- keepalive, PMTU, RST, limits ---- */

static void test_keepalive(void)
{
	struct tcp_stack_config c = h_cfg();
	c.keepalive_idle_us = 10 * SEC;
	c.keepalive_intvl_us = 1 * SEC;
	c.keepalive_probes = 3;
	h_start_cfg(&c, 0);
	establish();
	h_run(10 * SEC - 1 * MS);
	CHECK_EQ_INT(H.ncap, 0);
	h_run(1 * MS);
	struct cseg k = h_one();
	CHECK_EQ_INT(k.th.seq, iss);  /* snd_una - 1 */
	CHECK_EQ_INT(k.len, 0);
	ack_peer(iss + 1, 65535);  /* answered: idle again */
	h_run(9 * SEC);
	CHECK_EQ_INT(H.ncap, 0);
	h_run(1 * SEC + 1 * MS);
	CHECK_EQ_INT(H.ncap, 1);
	h_clear(&H);
	/* unanswered: 3 probes then reset */
	h_run(5 * SEC);
	CHECK_EQ_INT(A.closed, 1);
	CHECK_EQ_INT(A.close_err, -ETIMEDOUT);
	CHECK_EQ_INT(stats().keepalive_probes, 4);
	CHECK(h_seg(H.ncap - 1).th.flags & TCP_RST);
	h_clear(&H);
	h_done();
}

static void icmp_frag_needed(const struct cseg *quoted, uint16_t mtu)
{
	uint8_t orig[48];
	struct net_ipv4_info ih = {.ttl = 64, .proto = NET_IPPROTO_TCP,
				   .src = ME, .dst = PEER};
	net_ipv4_build(orig, 20, &ih, 1000);
	uint8_t l4[8] = {(uint8_t)(quoted->th.sport >> 8),
			 (uint8_t)quoted->th.sport,
			 (uint8_t)(quoted->th.dport >> 8),
			 (uint8_t)quoted->th.dport,
			 (uint8_t)(quoted->th.seq >> 24),
			 (uint8_t)(quoted->th.seq >> 16),
			 (uint8_t)(quoted->th.seq >> 8),
			 (uint8_t)quoted->th.seq};
	memcpy(orig + 20, l4, 8);
	uint8_t ic[64];
	int n = net_icmp_error_build(ic, sizeof ic, NET_ICMP_DEST_UNREACH,
				     NET_ICMP_CODE_FRAG_NEEDED, mtu, orig, 28);
	CHECK(n > 0);
	struct net_pkt *p = hpool_get();
	struct net_eth_info e = {.ethertype = NET_ETH_P_IPV4};
	memcpy(e.dst, MAC_ME, 6);
	memcpy(e.src, MAC_PEER, 6);
	uint8_t *b = net_pkt_append(p, (uint32_t)(14 + 20 + n));
	net_eth_build(b, 14, &e);
	struct net_ipv4_info oh = {.ttl = 64, .proto = NET_IPPROTO_ICMP,
				   .src = IP(198, 18, 0, 254), .dst = ME};
	net_ipv4_build(b + 14, 20, &oh, (size_t)n);
	memcpy(b + 34, ic, (size_t)n);
	net_input(H.net, p, hnow);
}

static void test_pmtu(void)
{
	h_start();
	establish();
	tcp_send(A.c, pat, 3000, 0);
	CHECK_EQ_INT(H.ncap, 3);
	struct cseg first = h_seg(0);
	CHECK_EQ_INT(first.len, 1448);
	h_clear(&H);
	/* a quote of a sequence number not in flight is ignored */
	struct cseg bogus = first;
	bogus.th.seq += 100000;
	icmp_frag_needed(&bogus, 1000);
	CHECK_EQ_INT(H.ncap, 0);
	CHECK_EQ_INT(stats().pmtu_updates, 0);
	icmp_frag_needed(&first, 1000);
	CHECK_EQ_INT(stats().pmtu_updates, 1);
	CHECK(H.ncap >= 1);
	struct cseg r = h_seg(0);
	CHECK_EQ_INT(r.th.seq, iss + 1);
	CHECK_EQ_INT(r.len, 1000 - 40 - 12);
	h_clear(&H);
	/* never below the floor */
	icmp_frag_needed(&first, 100);
	struct tcp_conn_info ci;
	tcp_conn_info(A.c, &ci);
	CHECK_EQ_INT(ci.snd_mss, 216 - 12);
	h_clear(&H);
	h_done();
}

static void test_rst_no_conn_ratelimited(void)
{
	struct tcp_stack_config c = h_cfg();
	c.rst_rate = 1;
	c.rst_burst = 3;
	h_start_cfg(&c, 0);
	for (int i = 0; i < 5; i++) {
		struct pseg s = {.sport = PPORT, .dport = 9999, .seq = 77,
				 .flags = TCP_SYN, .win = 100};
		h_send(&s);
	}
	CHECK_EQ_INT(H.ncap, 3);
	struct cseg r = h_seg(0);
	CHECK_EQ_INT(r.th.flags, TCP_RST | TCP_ACK);
	CHECK_EQ_INT(r.th.ack, 78);
	h_clear(&H);
	struct tcp_stack_stats st = stats();
	CHECK_EQ_INT(st.rst_ratelimited, 2);
	CHECK_EQ_INT(st.no_conn, 5);
	/* never a RST for a RST */
	h_advance(10 * SEC);
	rst_seg(5);
	CHECK_EQ_INT(H.ncap, 0);
	/* an ACK gets RST with seq = its ack */
	struct pseg s = {.sport = PPORT, .dport = 9999, .seq = 77,
			 .ack = 4242, .flags = TCP_ACK, .win = 100};
	h_send(&s);
	r = h_one();
	CHECK_EQ_INT(r.th.flags, TCP_RST);
	CHECK_EQ_INT(r.th.seq, 4242);
	h_done();
}

static void test_conn_limit_and_drain(void)
{
	struct tcp_stack_config c = h_cfg();
	c.max_conns = 2;
	h_start_cfg(&c, 0);
	reset_app();
	tcp_listen(H.tcp, 0, LPORT, &HA, &A);
	struct tcp_opts o = o_syn(true, -1, false, false);
	do_syn(&o, 1);
	do_syn(&o, 2);
	struct pseg s = {.sport = 3, .dport = LPORT, .seq = 1000,
			 .flags = TCP_SYN, .win = 100, .o = o};
	h_send(&s);
	CHECK_EQ_INT(H.ncap, 0);
	CHECK_EQ_INT(stats().conn_limit, 1);
	int err;
	CHECK(tcp_connect(H.tcp, PEER, 80, &HA, &A, &err) == NULL);
	CHECK_EQ_INT(err, -ENOSPC);
	tcp_stack_drain(H.tcp);
	s.sport = 1;
	h_send(&s);  /* the half-open one: a dup SYN still answered */
	CHECK_EQ_INT(H.ncap, 1);
	h_clear(&H);
	s.sport = 4;
	h_advance(1);
	tcp_stack_free(H.tcp);
	H.tcp = NULL;
	struct tcp_stack_config c2 = h_cfg();
	H.tcp = tcp_stack_create(&c2, H.net, &h_ops, &H, hnow);
	tcp_listen(H.tcp, 0, LPORT, &HA, &A);
	tcp_stack_drain(H.tcp);
	h_send(&s);
	CHECK_EQ_INT(h_one().th.flags, TCP_RST | TCP_ACK);
	h_done();
}

static void test_listen_errors_and_sizes(void)
{
	h_start();
	reset_app();
	CHECK_EQ_INT(tcp_listen(H.tcp, 0, 25, &HA, &A), 0);
	CHECK_EQ_INT(tcp_listen(H.tcp, ME, 25, &HA, &A), -EADDRINUSE);
	CHECK_EQ_INT(tcp_listen(H.tcp, 0, 0, &HA, &A), -EINVAL);
	for (int i = 0; i < 15; i++)
		CHECK_EQ_INT(tcp_listen(H.tcp, 0, (uint16_t)(100 + i), &HA,
					&A), 0);
	CHECK_EQ_INT(tcp_listen(H.tcp, 0, 200, &HA, &A), -ENOSPC);
	CHECK(tcp_conn_size() <= 640);
	CHECK(tcp_time_wait_size() <= 48);
	printf("# sizeof(struct tcp_conn) = %zu, TIME_WAIT record = %zu\n",
	       tcp_conn_size(), tcp_time_wait_size());
	struct tcp_stack_config bad = h_cfg();
	memset(bad.isn_key, 0, 16);
	CHECK(tcp_stack_create(&bad, H.net, &h_ops, &H, hnow) == NULL);
	bad = h_cfg();
	bad.rcvbuf = 100;
	CHECK(tcp_stack_create(&bad, H.net, &h_ops, &H, hnow) == NULL);
	h_done();
}

static void test_accept_refused(void)
{
	h_start();
	reset_app();
	A.refuse = true;
	tcp_listen(H.tcp, 0, LPORT, &HA, &A);
	struct tcp_opts o = o_syn(true, -1, false, false);
	struct cseg sa = do_syn(&o, PPORT);
	struct pseg s = {.sport = PPORT, .dport = LPORT, .seq = 1001,
			 .ack = sa.th.seq + 1, .flags = TCP_ACK, .win = 100};
	h_send(&s);
	CHECK_EQ_INT(A.accepted, 1);
	CHECK(h_one().th.flags & TCP_RST);
	CHECK_EQ_INT(stats().accept_refused, 1);
	CHECK_EQ_INT(A.closed, 0);  /* never had a handler */
	CHECK_EQ_INT(tcp_stack_nconns(H.tcp), 0);
	h_done();
}


static void test_time_wait_reuse_by_seq(void)
{
	h_start();
	struct tcp_opts o = o_syn(true, -1, false, false);
	establish_o(&o);
	tcp_shutdown(A.c);
	struct cseg f = h_one();
	ack_peer(f.th.seq + 1, 65535);
	peer_data(NULL, 0, TCP_FIN);
	h_clear(&H);
	CHECK_EQ_INT(stats().conns[TCP_TIME_WAIT], 1);
	/* a SYN below the old rcv_nxt: answered with an ACK, no reuse */
	struct pseg syn = {.sport = PPORT, .dport = LPORT, .seq = pseq - 10,
			   .flags = TCP_SYN, .win = 65535, .o = o};
	h_send(&syn);
	struct cseg a = h_one();
	CHECK_EQ_INT(a.th.flags, TCP_ACK);
	CHECK_EQ_INT(a.th.ack, pseq);
	CHECK_EQ_INT(stats().time_wait_reused, 0);
	/* above it: a new connection */
	syn.seq = pseq + 100000;
	h_send(&syn);
	struct cseg sa = h_one();
	CHECK_EQ_INT(sa.th.flags, TCP_SYN | TCP_ACK);
	CHECK_EQ_INT(sa.th.ack, pseq + 100001);
	CHECK_EQ_INT(stats().time_wait_reused, 1);
	CHECK_EQ_INT(stats().conns[TCP_SYN_RCVD], 1);
	h_done();
}

/* FIN-WAIT-2 gets data and FIN the app has not read yet: the connection
 * stays (TIME_WAIT, full) until the app reads, then becomes a record. */
static void test_linger_until_read(void)
{
	h_start();
	establish();
	A.consume = false;
	tcp_shutdown(A.c);
	struct cseg f = h_one();
	ack_peer(f.th.seq + 1, 65535);
	peer_data("last words", 10, TCP_FIN);
	h_clear(&H);
	CHECK_EQ_INT(A.closed, 0);
	CHECK(A.c != NULL);
	if (A.c == NULL) {
		h_done();
		return;
	}
	CHECK_EQ_INT(tcp_conn_state(A.c), TCP_TIME_WAIT);
	CHECK_EQ_INT(tcp_recv_queued(A.c), 10);
	struct iovec iov[4];
	size_t n;
	CHECK_EQ_INT(tcp_recv_iov(A.c, iov, 4, &n), 1);
	CHECK_EQ_MEM(iov[0].iov_base, iov[0].iov_len, "last words", 10);
	tcp_recv_consume(A.c, n);
	CHECK_EQ_INT(A.closed, 1);
	CHECK_EQ_INT(A.close_err, 0);
	CHECK_EQ_INT(stats().conns[TCP_TIME_WAIT], 1);
	CHECK_EQ_INT(tcp_stack_nconns(H.tcp), 0);
	h_done();
}

/* A segment that is not acceptable gets an ACK; one beyond the window
 * is cut at its edge. */
static void test_out_of_window_data(void)
{
	struct tcp_stack_config c = h_cfg();
	c.rcvbuf = 4096;
	h_start_cfg(&c, 0);
	struct tcp_opts o = o_syn(true, -1, false, false);
	establish_o(&o);
	struct pseg s = {.sport = PPORT, .dport = LPORT, .seq = pseq + 5000,
			 .ack = iss + 1, .flags = TCP_ACK, .win = 65535,
			 .data = pat, .len = 100};
	h_send(&s);
	struct cseg a = h_one();
	CHECK_EQ_INT(a.th.ack, pseq);
	CHECK_EQ_INT(stats().ooo_queued, 0);
	A.consume = false;
	s.seq = pseq;
	s.len = 1400;
	for (int i = 0; i < 3; i++) {
		s.data = pat + i * 1400;
		h_send(&s);
		s.seq += 1400;
	}
	h_run(50 * MS);
	struct tcp_conn_info ci;
	tcp_conn_info(A.c, &ci);
	CHECK_EQ_INT(ci.rcv_queued, 4096);  /* the last one cut at the edge */
	h_clear(&H);
	h_done();
}

/* TCP_SEND_MORE holds a partial segment; the persist timer's override
 * sends it if nothing more comes. Sender SWS: a small offered window
 * (below half the largest seen) is not filled with a runt at once. */
static void test_send_more_and_sws_override(void)
{
	h_start();
	struct tcp_opts o = o_syn(true, -1, false, false);
	establish_o(&o);
	CHECK_EQ_INT(tcp_send(A.c, pat, 100, TCP_SEND_MORE), 100);
	CHECK_EQ_INT(H.ncap, 0);
	CHECK_EQ_INT(tcp_send(A.c, pat + 100, 3000, TCP_SEND_MORE), 3000);
	CHECK_EQ_INT(H.ncap, 2);  /* two full segments, 180 bytes held */
	h_clear(&H);
	ack_peer(iss + 1 + 2920, 65535);
	CHECK_EQ_INT(H.ncap, 0);
	h_run(1 * SEC);
	struct cseg d = h_one();
	CHECK_EQ_INT(d.len, 180);
	ack_peer(iss + 1 + 3100, 1000);  /* small window, 1000 < 65535 / 2 */
	CHECK_EQ_INT(tcp_send(A.c, pat, 2000, 0), 2000);
	CHECK_EQ_INT(H.ncap, 0);
	h_run(1 * SEC);
	d = h_one();  /* the override: what the window allows */
	CHECK_EQ_INT(d.len, 1000);
	h_clear(&H);
	h_done();
}

int main(void)
{
	init_pat();
	RUN(test_handshake_options);
	RUN(test_handshake_no_options);
	RUN(test_handshake_mss_floor);
	RUN(test_window_scaled_128k);
	RUN(test_window_scaled_1m);
	RUN(test_client_connect);
	RUN(test_client_refused);
	RUN(test_synack_lost_same_isn);
	RUN(test_ecn_setup_syn);
	RUN(test_syn_cookies);
	RUN(test_syn_cookie_no_ts_and_stale);
	RUN(test_rst_exact_in_window_outside);
	RUN(test_syn_in_established);
	RUN(test_challenge_rate_per_conn);
	RUN(test_bad_ack);
	RUN(test_paws);
	RUN(test_data_ooo_sack);
	RUN(test_dsack);
	RUN(test_window_relative_to_newest_ack);
	RUN(test_ack_at_right_edge);
	RUN(test_delayed_ack);
	RUN(test_ack_when_pushed_segment_read);
	RUN(test_readable_abort_in_handler);
	RUN(test_rto_backoff_karn);
	RUN(test_ack_seq_after_rto);
	RUN(test_retries_exhausted);
	RUN(test_fast_retransmit_newreno);
	RUN(test_retransmit_within_snd_max);
	RUN(test_sack_recovery);
	RUN(test_zero_window_persist);
	RUN(test_window_shrinks_never_beyond);
	RUN(test_passive_close);
	RUN(test_active_close_time_wait);
	RUN(test_time_wait_expiry_and_eviction);
	RUN(test_simultaneous_close);
	RUN(test_orphan_data_rst);
	RUN(test_fin_wait2_orphan_timeout);
	RUN(test_keepalive);
	RUN(test_pmtu);
	RUN(test_rst_no_conn_ratelimited);
	RUN(test_conn_limit_and_drain);
	RUN(test_listen_errors_and_sizes);
	RUN(test_accept_refused);
	RUN(test_time_wait_reuse_by_seq);
	RUN(test_linger_until_read);
	RUN(test_out_of_window_data);
	RUN(test_send_more_and_sws_override);
	return CHECK_DONE();
}
