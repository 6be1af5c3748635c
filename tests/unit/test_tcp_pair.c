/* tests/unit/test_tcp_pair.c - two complete stacks (net + tcp) in one
 * process joined by an in-memory wire with seeded loss, reordering and
 * duplication: bulk transfers both ways must arrive byte-exact, every
 * connection must close cleanly, and every packet must be back in the
 * pool at the end. */
#define HPOOL 8192
#include "tcp_harness.h"

static struct hside SA, SB;  /* SA: 198.18.0.1 (client), SB: .2 (server) */
static uint64_t now;

/* ---- the wire ---- */

struct wpkt {
	struct net_pkt *p;
	uint64_t at;
	int to;  /* 0: SA, 1: SB */
};

#define WMAX HPOOL
static struct wpkt wire[WMAX];
static int nwire;
static uint64_t rng = 1;
static unsigned loss_pm, reorder_pm, dup_pm;  /* per mille */
/* netem mode: every frame is held delay_us +/- jitter_us (uniform), and
 * reorder_pm of them go out at once (tc netem's reorder), as the
 * integration tests' impairment does. 0: the short fixed delay below. */
static uint64_t delay_us, jitter_us;
static uint64_t n_lost, n_dup, n_reord;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 11);
}

static void wire_put(struct net_pkt *p, int to)
{
	if (nwire == WMAX) {
		hpool_put(p);
		return;
	}
	uint64_t d = 1000;
	if (delay_us) {
		d = delay_us - jitter_us + rnd() % (2 * jitter_us + 1);
		if (rnd() % 1000 < reorder_pm) {
			d = 0;
			n_reord++;
		}
	} else if (rnd() % 1000 < reorder_pm) {
		d += 500 + rnd() % 3000;
		n_reord++;
	}
	wire[nwire++] = (struct wpkt){p, now + d, to};
}

static void wire_take(struct hside *from, int to)
{
	for (int i = 0; i < from->ncap; i++) {
		struct net_pkt *p = from->cap[i];
		if (rnd() % 1000 < loss_pm) {
			n_lost++;
			hpool_put(p);
			continue;
		}
		if (rnd() % 1000 < dup_pm) {
			struct net_pkt *q = hpool_get();
			if (q != NULL) {
				memcpy(net_pkt_append(q, p->len), p->data,
				       p->len);
				wire_put(q, to);
				n_dup++;
			}
		}
		wire_put(p, to);
	}
	from->ncap = 0;
}

static void wire_deliver(void)
{
	int j = 0;
	for (int i = 0; i < nwire; i++) {
		if (wire[i].at <= now) {
			struct hside *d = wire[i].to ? &SB : &SA;
			net_input(d->net, wire[i].p, now);
		} else {
			wire[j++] = wire[i];
		}
	}
	nwire = j;
}

static void wire_flush(void)
{
	for (int i = 0; i < nwire; i++)
		hpool_put(wire[i].p);
	nwire = 0;
}

/* ---- the applications ---- */

#define NAPP 128

struct papp {
	struct tcp_conn *c;
	uint64_t total, sent, rcvd, want;
	uint32_t seed_tx, seed_rx;
	bool shut, eof, closed, bad;
	int err;
};

static struct papp capp[NAPP], sapp[NAPP];
static int nsapp;

static uint8_t pbyte(uint32_t seed, uint64_t i)
{
	uint64_t x = (i / 8) * 0x9e3779b97f4a7c15ull + seed;
	x ^= x >> 29;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 32;
	return (uint8_t)(x >> (8 * (i % 8)));
}

static void p_read(struct papp *a, struct tcp_conn *c)
{
	struct iovec iov[32];
	size_t n;
	unsigned k;
	while ((k = tcp_recv_iov(c, iov, 32, &n)) > 0) {
		for (unsigned i = 0; i < k; i++) {
			const uint8_t *b = iov[i].iov_base;
			for (size_t j = 0; j < iov[i].iov_len; j++)
				if (b[j] != pbyte(a->seed_rx, a->rcvd + j))
					a->bad = true;
			a->rcvd += iov[i].iov_len;
		}
		tcp_recv_consume(c, n);
		if (a->closed)
			return;
	}
	if (tcp_recv_eof(c))
		a->eof = true;
}

static void p_pump(struct papp *a)
{
	static uint8_t buf[16384];
	while (a->c != NULL && !a->closed && a->sent < a->total) {
		uint64_t n = a->total - a->sent;
		if (n > sizeof buf)
			n = sizeof buf;
		for (uint64_t i = 0; i < n; i++)
			buf[i] = pbyte(a->seed_tx, a->sent + i);
		ssize_t r = tcp_send(a->c, buf, n, 0);
		if (r <= 0)
			return;
		a->sent += (uint64_t)r;
	}
	if (a->c != NULL && !a->closed && !a->shut && a->sent == a->total &&
	    tcp_conn_state(a->c) >= TCP_ESTABLISHED) {
		tcp_shutdown(a->c);
		a->shut = true;
	}
}

static uint64_t s_total;
static bool s_echo;  /* the server echoes what it reads (backpressure) */

/* Echo: send what is queued, consume only what the send buffer took;
 * shut down after the peer's FIN once everything went back. */
static void s_echo_pump(struct papp *a, struct tcp_conn *c)
{
	struct iovec iov[32];
	size_t n;
	unsigned k;
	while ((k = tcp_recv_iov(c, iov, 32, &n)) > 0) {
		size_t took = 0;
		for (unsigned i = 0; i < k; i++) {
			ssize_t r = tcp_send(c, iov[i].iov_base,
					     iov[i].iov_len, 0);
			if (r <= 0)
				break;
			took += (size_t)r;
			if ((size_t)r < iov[i].iov_len)
				break;
		}
		a->rcvd += took;
		a->sent += took;
		tcp_recv_consume(c, took);
		if (took < n || a->closed)
			return;
	}
	if (tcp_recv_eof(c) && !a->shut) {
		tcp_shutdown(c);
		a->shut = true;
	}
}

static int s_accepted(void *lctx, struct tcp_conn *c, void **ctx)
{
	(void)lctx;
	if (nsapp == NAPP)
		return -ENOMEM;
	struct papp *a = &sapp[nsapp++];
	uint16_t rport;
	tcp_conn_tuple(c, NULL, NULL, NULL, &rport);
	*a = (struct papp){.c = c, .total = s_echo ? 0 : s_total,
			   .seed_tx = rport ^ 0xabcdu, .seed_rx = rport};
	*ctx = a;
	return 0;
}

static void p_connected(void *ctx, struct tcp_conn *c)
{
	(void)c;
	p_pump(ctx);
}

static bool is_server(const struct papp *a)
{
	return a >= sapp && a < sapp + NAPP;
}

static void p_readable(void *ctx, struct tcp_conn *c)
{
	if (s_echo && is_server(ctx))
		s_echo_pump(ctx, c);
	else
		p_read(ctx, c);
}

static void p_writable(void *ctx, struct tcp_conn *c)
{
	if (s_echo && is_server(ctx))
		s_echo_pump(ctx, c);
	else
		p_pump(ctx);
}

static void p_closed(void *ctx, struct tcp_conn *c, int err)
{
	(void)c;
	struct papp *a = ctx;
	a->closed = true;
	a->err = err;
	a->c = NULL;
}

static const struct tcp_handler PH = {
	s_accepted, p_connected, p_readable, p_writable, p_closed,
};

/* ---- the run ---- */

static void setup(uint32_t rcvbuf)
{
	if (!h_pool_init_done)
		hpool_init();
	now = 1000 * SEC;
	struct tcp_stack_config c = h_cfg();
	c.max_conns = 256;
	c.snd_pool = 64u << 20;
	c.rcvbuf = rcvbuf;
	c.sndbuf = rcvbuf;
	c.max_time_wait = 256;
	h_setup_side(&SA, ME, MAC_ME, &c, 0, now);
	c.isn_key[0] ^= 0x55;
	h_setup_side(&SB, PEER, MAC_PEER, &c, 0, now);
	h_arp_learn(&SA, ME, PEER, MAC_PEER, MAC_ME, now);
	h_arp_learn(&SB, PEER, ME, MAC_ME, MAC_PEER, now);
	SA.arp_asked = SB.arp_asked = true;
	h_arp_answer(&SA, ME, PEER, MAC_PEER, MAC_ME, now);
	h_arp_answer(&SB, PEER, ME, MAC_ME, MAC_PEER, now);
	delay_us = jitter_us = 0;
	s_echo = false;
	memset(capp, 0, sizeof capp);
	memset(sapp, 0, sizeof sapp);
	nsapp = 0;
	n_lost = n_dup = n_reord = 0;
	CHECK_EQ_INT(tcp_listen(SB.tcp, 0, 25, &PH, NULL), 0);
}

static bool all_closed(int n)
{
	if (nsapp < n)
		return false;
	for (int i = 0; i < n; i++)
		if (!capp[i].closed || !sapp[i].closed)
			return false;
	return true;
}

/* n connections, each moving bytes both ways; returns simulated seconds */
static double run(int n, uint64_t bytes, uint64_t limit_s)
{
	s_total = bytes;
	for (int i = 0; i < n; i++) {
		int err;
		capp[i] = (struct papp){.total = bytes, .seed_rx = 0};
		capp[i].c = tcp_connect(SA.tcp, PEER, 25, &PH, &capp[i], &err);
		CHECK(capp[i].c != NULL);
		if (capp[i].c == NULL)
			return 0;
		uint16_t lport;
		tcp_conn_tuple(capp[i].c, NULL, &lport, NULL, NULL);
		capp[i].seed_tx = lport;
		capp[i].seed_rx = s_echo ? lport : lport ^ 0xabcdu;
	}
	uint64_t start = now;
	while (!all_closed(n) && now - start < limit_s * SEC) {
		wire_take(&SA, 1);
		wire_take(&SB, 0);
		now += 500;
		wire_deliver();
		net_stack_advance(SA.net, now);
		net_stack_advance(SB.net, now);
		tcp_stack_advance(SA.tcp, now);
		tcp_stack_advance(SB.tcp, now);
		h_arp_answer(&SA, ME, PEER, MAC_PEER, MAC_ME, now);
		h_arp_answer(&SB, PEER, ME, MAC_ME, MAC_PEER, now);
		for (int i = 0; i < n; i++) {
			p_pump(&capp[i]);
			if (i < nsapp && !s_echo)
				p_pump(&sapp[i]);
		}
	}
	if (getenv("TCP_PAIR_DEBUG")) {
		for (int i = 0; i < n && i < 2; i++) {
			struct tcp_conn_info ci;
			if (capp[i].c) {
				tcp_conn_info(capp[i].c, &ci);
				printf("# client st %d cwnd %u wnd %u rwnd %u flight %u q %u rq %u ooo %u\n", ci.state, ci.cwnd, ci.snd_wnd, ci.rcv_wnd, ci.in_flight, ci.snd_queued, ci.rcv_queued, ci.ooo_pkts);
			}
			if (sapp[i].c) {
				tcp_conn_info(sapp[i].c, &ci);
				printf("# server st %d cwnd %u wnd %u rwnd %u flight %u q %u rq %u ooo %u\n", ci.state, ci.cwnd, ci.snd_wnd, ci.rcv_wnd, ci.in_flight, ci.snd_queued, ci.rcv_queued, ci.ooo_pkts);
			}
		}
		printf("# next timers %llu %llu inuse %d\n", (unsigned long long)tcp_stack_next_timer_us(SA.tcp, now), (unsigned long long)tcp_stack_next_timer_us(SB.tcp, now), h_inuse);
	}
	for (int i = 0; i < n; i++) {
		CHECK_MSG(capp[i].closed && capp[i].err == 0,
			  "client %d closed %d err %d sent %llu rcvd %llu", i,
			  capp[i].closed, capp[i].err,
			  (unsigned long long)capp[i].sent,
			  (unsigned long long)capp[i].rcvd);
		CHECK_EQ_INT(capp[i].rcvd, bytes);
		CHECK(!capp[i].bad);
		CHECK(capp[i].eof);
	}
	CHECK_EQ_INT(nsapp, n);
	for (int i = 0; i < nsapp; i++) {
		CHECK_MSG(sapp[i].closed && sapp[i].err == 0,
			  "server %d closed %d err %d", i, sapp[i].closed,
			  sapp[i].err);
		CHECK_EQ_INT(sapp[i].rcvd, bytes);
		CHECK(!sapp[i].bad);
	}
	return (double)(now - start) / SEC;
}

static void teardown(void)
{
	tcp_stack_free(SA.tcp);
	tcp_stack_free(SB.tcp);
	net_stack_free(SA.net);
	net_stack_free(SB.net);
	h_clear(&SA);
	h_clear(&SB);
	wire_flush();
	CHECK_EQ_INT(h_inuse, 0);
	CHECK_EQ_INT(h_bad_frees, 0);
}

static void report(const char *what, double secs)
{
	struct tcp_stack_stats a, b;
	tcp_stack_stats(SA.tcp, &a);
	tcp_stack_stats(SB.tcp, &b);
	printf("# %s: %.1f s simulated; lost %llu dup %llu reordered %llu; "
	       "retrans %llu+%llu, fast %llu+%llu, rto %llu+%llu, "
	       "sack recoveries %llu+%llu\n",
	       what, secs, (unsigned long long)n_lost,
	       (unsigned long long)n_dup, (unsigned long long)n_reord,
	       (unsigned long long)a.retrans_segs,
	       (unsigned long long)b.retrans_segs,
	       (unsigned long long)a.fast_retrans,
	       (unsigned long long)b.fast_retrans,
	       (unsigned long long)a.rto_expired,
	       (unsigned long long)b.rto_expired,
	       (unsigned long long)a.sack_recovery,
	       (unsigned long long)b.sack_recovery);
}

static void test_pair_clean(void)
{
	setup(131072);
	loss_pm = reorder_pm = dup_pm = 0;
	double t = run(1, 4u << 20, 120);
	report("clean 4 MiB each way", t);
	struct tcp_stack_stats a;
	tcp_stack_stats(SA.tcp, &a);
	CHECK_EQ_INT(a.retrans_segs, 0);
	teardown();
}

static void test_pair_lossy(void)
{
	setup(131072);
	rng = 0x1234567;
	loss_pm = 50;
	reorder_pm = 250;
	dup_pm = 10;
	double t = run(1, 4u << 20, 1200);
	report("5% loss, 25% reorder, 1% dup, 4 MiB each way", t);
	teardown();
}

static void test_pair_lossy_no_sack(void)
{
	if (!h_pool_init_done)
		hpool_init();
	setup(131072);
	/* SB without SACK: neither side uses it */
	tcp_stack_free(SB.tcp);
	struct tcp_stack_config c = h_cfg();
	c.max_conns = 256;
	c.no_sack = true;
	c.isn_key[0] ^= 0x55;
	SB.tcp = tcp_stack_create(&c, SB.net, &h_ops, &SB, now);
	CHECK_EQ_INT(tcp_listen(SB.tcp, 0, 25, &PH, NULL), 0);
	rng = 0x7654321;
	loss_pm = 50;
	reorder_pm = 250;
	dup_pm = 10;
	double t = run(1, 1u << 20, 1200);
	report("same without SACK, 1 MiB each way", t);
	struct tcp_stack_stats a;
	tcp_stack_stats(SA.tcp, &a);
	CHECK_EQ_INT(a.sack_recovery, 0);
	teardown();
}

static void test_pair_many(void)
{
	setup(65536);
	rng = 0x99;
	loss_pm = 10;
	reorder_pm = 50;
	dup_pm = 5;
	double t = run(64, 64 * 1024, 1200);
	report("64 connections, 64 KiB each way, 1% loss", t);
	teardown();
}

/* What the integration test does through TAP with the Linux kernel as the
 * peer: 16 echo connections at 5% loss, 25% reorder, 1% duplication,
 * 20 +/- 10 ms delay; the echo server stops reading while its send buffer
 * is full, so windows close and reopen all the time. */
static void test_pair_echo_netem(void)
{
	setup(131072);
	rng = 42;
	loss_pm = 50;
	reorder_pm = 250;
	dup_pm = 10;
	delay_us = 20000;
	jitter_us = 10000;
	s_echo = true;
	double t = run(16, 1u << 20, 3600);
	report("echo, 16 x 1 MiB, netem 5%/25%/1%, 20+-10 ms", t);
	teardown();
}

int main(void)
{
	RUN(test_pair_clean);
	RUN(test_pair_lossy);
	RUN(test_pair_lossy_no_sack);
	RUN(test_pair_many);
	RUN(test_pair_echo_netem);
	return CHECK_DONE();
}
