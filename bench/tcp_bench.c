/* bench/tcp_bench.c - the TCP stack back to back: two stack instances
 * (net_stack + tcp_stack each) wired in memory in one process, one thread,
 * no DPDK, so every figure is per core with both ends on that core.
 *
 *   cps    connections per second: handshake, a 64-byte request, a
 *          64-byte response, the server closes (as after SMTP QUIT), the
 *          client closes; `-c` connections kept in flight.
 *   bulk   payload Gbps: the client sends as fast as the windows allow on
 *          `-b` connections, the server consumes everything (discard);
 *          counted at the server's consume, i.e. delivered in order.
 *   idle   bytes per idle established connection: RSS and heap growth
 *          after opening `-i` connections (both ends live in this process,
 *          so the growth is divided by 2 x connections), next to
 *          tcp_conn_size() and tcp_time_wait_size().
 *
 * The wire is a FIFO of packet pointers per direction (no copy, no loss):
 * what is measured is the stack (parsing, checksums in software, lookup,
 * state machine, buffers, timers), not a NIC. Checksums are computed and
 * verified in software on both ends, as sluiced does today.
 *
 * Each measurement runs `-r` times and the median is printed; the machine
 * is shared and noisy, so compare figures from one run only. Exit 0 when
 * the measurements ran (targets met or not), 1 on errors.
 *
 * usage: tcp-bench [-r runs] [-t seconds] [-c inflight] [-b bulk-conns]
 *                  [-i idle-conns] [--mtu N] [--json] [cps|bulk|idle]...
 */
#include "tcpstack/net.h"
#include "tcpstack/pkt.h"
#include "tcpstack/tcp.h"

#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_RUNS 15
#define BURST 64

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static double cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long rss_kib(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	long pages = 0, res = 0;
	if (f) {
		if (fscanf(f, "%ld %ld", &pages, &res) != 2)
			res = 0;
		fclose(f);
	}
	return res * 4;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* ---- packet pool and the in-memory wire -------------------------------- */

struct pool {
	struct net_pkt *pkts;
	uint8_t *mem;
	struct net_pkt **free;
	uint32_t nfree, total, bufsz;
};

static int pool_init(struct pool *p, uint32_t n, uint32_t bufsz)
{
	p->pkts = calloc(n, sizeof(*p->pkts));
	p->mem = malloc((size_t)n * bufsz);
	p->free = malloc(n * sizeof(*p->free));
	if (!p->pkts || !p->mem || !p->free)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++)
		p->free[i] = &p->pkts[n - 1 - i];
	p->nfree = p->total = n;
	p->bufsz = bufsz;
	return 0;
}

static void pool_fini(struct pool *p)
{
	free(p->pkts);
	free(p->mem);
	free(p->free);
}

/* A FIFO of frames from one side to the other. */
struct wire {
	struct net_pkt **q;
	uint32_t head, tail, mask;
	uint64_t dropped;
};

struct side {
	struct pool *pool;
	struct wire *out;       /* frames this side transmits */
	struct net_stack *net;
	struct tcp_stack *tcp;
};

static struct net_pkt *op_alloc(void *env)
{
	struct side *sd = env;
	struct pool *p = sd->pool;
	if (!p->nfree)
		return NULL;
	struct net_pkt *k = p->free[--p->nfree];
	size_t i = (size_t)(k - p->pkts);
	*k = (struct net_pkt){
		.data = p->mem + i * p->bufsz + NET_PKT_HEADROOM,
		.headroom = NET_PKT_HEADROOM,
		.tailroom = p->bufsz - NET_PKT_HEADROOM,
	};
	return k;
}

static void op_free(void *env, struct net_pkt *k)
{
	struct side *sd = env;
	sd->pool->free[sd->pool->nfree++] = k;
}

static int op_tx(void *env, struct net_pkt *k)
{
	struct side *sd = env;
	struct wire *w = sd->out;
	if (w->tail - w->head > w->mask) {
		w->dropped++;
		op_free(env, k);
		return -ENOBUFS;
	}
	w->q[w->tail++ & w->mask] = k;
	return 0;
}

static const struct net_pkt_ops pkt_ops = { op_alloc, op_free, op_tx };

#define IP_A 0xC6120001u  /* 198.18.0.1: server */
#define IP_B 0xC6120002u  /* 198.18.0.2: client */

struct pair {
	struct pool pool;
	struct wire w_ab, w_ba;
	struct side a, b;       /* a: server, b: client */
};

struct opts {
	int runs;
	double seconds;
	uint32_t inflight, bulk_conns, idle_conns;
	uint16_t mtu;
	bool json;
};

static int wire_init(struct wire *w, uint32_t n)
{
	w->q = malloc(n * sizeof(*w->q));
	w->head = w->tail = 0;
	w->mask = n - 1;
	w->dropped = 0;
	return w->q ? 0 : -ENOMEM;
}

static void fill_key(uint8_t *k, uint64_t seed)
{
	for (int i = 0; i < 16; i++) {
		seed = seed * 6364136223846793005u + 1442695040888963407u;
		k[i] = (uint8_t)(seed >> 56);
	}
}

static int pair_init(struct pair *pr, const struct opts *o, uint32_t max_conns)
{
	memset(pr, 0, sizeof(*pr));
	uint32_t npkt = 1u << 18;
	if (pool_init(&pr->pool, npkt, (uint32_t)o->mtu + 14 + NET_PKT_HEADROOM + 64) < 0 ||
	    wire_init(&pr->w_ab, 1u << 18) < 0 ||
	    wire_init(&pr->w_ba, 1u << 18) < 0)
		return -ENOMEM;
	struct side *sides[2] = { &pr->a, &pr->b };
	for (int i = 0; i < 2; i++) {
		struct side *sd = sides[i];
		sd->pool = &pr->pool;
		sd->out = i == 0 ? &pr->w_ab : &pr->w_ba;
		struct net_stack_config nc = {
			.mac = { 0x02, 0, 0, 0, 0, (uint8_t)(i + 1) },
			.ip = i == 0 ? IP_A : IP_B,
			.prefix_len = 24,
			.mtu = o->mtu,
			.arp_capacity = 64,
			.seed = 42 + (uint64_t)i,
		};
		sd->net = net_stack_create(&nc, &pkt_ops, sd);
		if (!sd->net)
			return -EINVAL;
		struct tcp_stack_config tc = {
			.max_conns = max_conns,
			.max_time_wait = max_conns,
			.syn_backlog = 65536,
			.snd_pool = (uint64_t)256 << 20,
			/* A wide port range: the idle run opens up to 16 x
			 * 64,511 connections to one address. */
			.ephemeral_lo = 1024,
			.ephemeral_hi = 65535,
		};
		fill_key(tc.isn_key, 1 + (uint64_t)i);
		fill_key(tc.cookie_key, 100 + (uint64_t)i);
		sd->tcp = tcp_stack_create(&tc, sd->net, &pkt_ops, sd, now_us());
		if (!sd->tcp)
			return -EINVAL;
	}
	return 0;
}

static void pair_fini(struct pair *pr)
{
	tcp_stack_free(pr->a.tcp);
	tcp_stack_free(pr->b.tcp);
	/* Frames still on the wires go back before the pool goes. */
	struct wire *ws[2] = { &pr->w_ab, &pr->w_ba };
	for (int i = 0; i < 2; i++)
		while (ws[i]->head != ws[i]->tail)
			op_free(&pr->a, ws[i]->q[ws[i]->head++ & ws[i]->mask]);
	net_stack_free(pr->a.net);
	net_stack_free(pr->b.net);
	pool_fini(&pr->pool);
	free(pr->w_ab.q);
	free(pr->w_ba.q);
}

/* Deliver up to BURST frames each way and run the timers; returns the
 * frames moved. */
static unsigned pair_step(struct pair *pr, uint64_t t)
{
	unsigned moved = 0;
	struct {
		struct wire *w;
		struct side *to;
	} dir[2] = { { &pr->w_ab, &pr->b }, { &pr->w_ba, &pr->a } };
	for (int d = 0; d < 2; d++) {
		struct wire *w = dir[d].w;
		for (unsigned i = 0; i < BURST && w->head != w->tail; i++) {
			net_input(dir[d].to->net, w->q[w->head++ & w->mask], t);
			moved++;
		}
	}
	tcp_stack_advance(pr->a.tcp, t);
	tcp_stack_advance(pr->b.tcp, t);
	net_stack_advance(pr->a.net, t);
	net_stack_advance(pr->b.net, t);
	return moved;
}

/* ---- cps --------------------------------------------------------------- */

struct cps_state {
	struct pair *pr;
	uint64_t done, failed;
	uint32_t open;
	uint8_t msg[64];
};

static int srv_accepted(void *lctx, struct tcp_conn *c, void **ctx)
{
	(void)c;
	*ctx = lctx;
	return 0;
}

static void srv_readable(void *ctx, struct tcp_conn *c)
{
	struct cps_state *st = ctx;
	size_t n = tcp_recv_queued(c);
	if (n >= sizeof(st->msg)) {
		tcp_recv_consume(c, n);
		tcp_send(c, st->msg, sizeof(st->msg), 0);
		tcp_close(c);
	} else if (tcp_recv_eof(c)) {
		tcp_close(c);
	}
}

static void cli_connected(void *ctx, struct tcp_conn *c)
{
	struct cps_state *st = ctx;
	tcp_send(c, st->msg, sizeof(st->msg), 0);
}

static void cli_readable(void *ctx, struct tcp_conn *c)
{
	struct cps_state *st = ctx;
	size_t n = tcp_recv_queued(c);
	if (n >= sizeof(st->msg) || tcp_recv_eof(c)) {
		tcp_recv_consume(c, n);
		if (n >= sizeof(st->msg))
			st->done++;
		tcp_close(c);
	}
}

static void cli_closed(void *ctx, struct tcp_conn *c, int err)
{
	struct cps_state *st = ctx;
	(void)c;
	if (err)
		st->failed++;
	st->open--;
}

static const struct tcp_handler cps_srv = {
	.accepted = srv_accepted, .readable = srv_readable,
};
static const struct tcp_handler cps_cli = {
	.connected = cli_connected, .readable = cli_readable,
	.closed = cli_closed,
};

static int run_cps(const struct opts *o, double *out_cps, double *out_cpu_cps)
{
	struct pair pr;
	static struct cps_state st;
	memset(&st, 0, sizeof(st));
	memset(st.msg, 'x', sizeof(st.msg));
	if (pair_init(&pr, o, 65536) < 0)
		return -1;
	st.pr = &pr;
	if (tcp_listen(pr.a.tcp, 0, 7, &cps_srv, &st) < 0)
		return -1;
	uint64_t t0 = now_us(), t = t0;
	uint64_t end = t0 + (uint64_t)(o->seconds * 1e6);
	double c0 = cpu_s();
	uint64_t started = 0;
	while (t < end) {
		while (st.open < o->inflight) {
			int err = 0;
			if (!tcp_connect(pr.b.tcp, IP_A, 7, &cps_cli, &st, &err))
				break;
			st.open++;
			started++;
		}
		pair_step(&pr, t);
		t = now_us();
	}
	double cpu = cpu_s() - c0;
	double wall = (double)(t - t0) / 1e6;
	*out_cps = (double)st.done / wall;
	*out_cpu_cps = (double)st.done / cpu;
	if (st.failed)
		fprintf(stderr, "tcp-bench: cps: %llu of %llu connections failed\n",
			(unsigned long long)st.failed,
			(unsigned long long)started);
	pair_fini(&pr);
	return st.done > 0 ? 0 : -1;
}

/* ---- bulk -------------------------------------------------------------- */

static uint8_t bulk_buf[1 << 16];
static uint64_t bulk_rx;

static void bulk_srv_readable(void *ctx, struct tcp_conn *c)
{
	(void)ctx;
	size_t n = tcp_recv_queued(c);
	tcp_recv_consume(c, n);
	bulk_rx += n;
}

/* Send until the buffer takes less than offered: a short tcp_send() is
 * what arms the writable event. */
static void bulk_fill(struct tcp_conn *c)
{
	for (;;) {
		ssize_t n = tcp_send(c, bulk_buf, sizeof(bulk_buf),
				     TCP_SEND_MORE);
		if (n < (ssize_t)sizeof(bulk_buf))
			return;
	}
}

static void bulk_cli_connected(void *ctx, struct tcp_conn *c)
{
	(void)ctx;
	bulk_fill(c);
}

static void bulk_cli_writable(void *ctx, struct tcp_conn *c)
{
	(void)ctx;
	bulk_fill(c);
}

static const struct tcp_handler bulk_srv = {
	.accepted = srv_accepted, .readable = bulk_srv_readable,
};
static const struct tcp_handler bulk_cli = {
	.connected = bulk_cli_connected, .writable = bulk_cli_writable,
};

static int run_bulk(const struct opts *o, double *gbps, double *cpu_gbps)
{
	struct pair pr;
	if (pair_init(&pr, o, 1024) < 0)
		return -1;
	if (tcp_listen(pr.a.tcp, 0, 9, &bulk_srv, NULL) < 0)
		return -1;
	for (uint32_t i = 0; i < o->bulk_conns; i++) {
		int err;
		if (!tcp_connect(pr.b.tcp, IP_A, 9, &bulk_cli, NULL, &err))
			return -1;
	}
	/* Warm up: handshakes and slow start. */
	uint64_t t = now_us(), warm = t + 200000;
	while (t < warm) {
		pair_step(&pr, t);
		t = now_us();
	}
	bulk_rx = 0;
	uint64_t t0 = t, end = t0 + (uint64_t)(o->seconds * 1e6);
	double c0 = cpu_s();
	while (t < end) {
		pair_step(&pr, t);
		t = now_us();
	}
	double wall = (double)(t - t0) / 1e6, cpu = cpu_s() - c0;
	*gbps = (double)bulk_rx * 8 / 1e9 / wall;
	*cpu_gbps = (double)bulk_rx * 8 / 1e9 / cpu;
	pair_fini(&pr);
	return bulk_rx > 0 ? 0 : -1;
}

/* ---- idle -------------------------------------------------------------- */

static uint64_t idle_up;
static void idle_connected(void *ctx, struct tcp_conn *c)
{
	(void)ctx;
	(void)c;
	idle_up++;
}
static const struct tcp_handler idle_srv = { .accepted = srv_accepted };
static const struct tcp_handler idle_cli = { .connected = idle_connected };

static int run_idle(const struct opts *o, double *per_conn_rss,
		    double *per_conn_heap)
{
	struct pair pr;
	uint32_t n = o->idle_conns;
	/* Server ports (16 listeners at most): each offers 64,511
	 * ephemeral client ports. */
	uint32_t nports = (n + 59999) / 60000;
	if (nports > 16) {
		fprintf(stderr, "tcp-bench: idle: at most 960000 connections\n");
		return -1;
	}
	if (pair_init(&pr, o, n + 1024) < 0)
		return -1;
	for (uint32_t p = 0; p < nports; p++)
		if (tcp_listen(pr.a.tcp, 0, (uint16_t)(1000 + p), &idle_srv,
			       NULL) < 0)
			return -1;
	/* Let ARP settle with one connection, then measure. */
	int err;
	idle_up = 0;
	tcp_connect(pr.b.tcp, IP_A, 1000, &idle_cli, NULL, &err);
	uint64_t t = now_us();
	for (int i = 0; i < 1000 && idle_up == 0; i++)
		pair_step(&pr, t = now_us());
	malloc_trim(0);
	long rss0 = rss_kib();
	struct mallinfo2 m0 = mallinfo2();
	uint32_t opened = 1;
	while (opened < n) {
		for (int k = 0; k < 256 && opened < n; k++, opened++) {
			if (!tcp_connect(pr.b.tcp, IP_A,
					 (uint16_t)(1000 + opened % nports),
					 &idle_cli, NULL, &err)) {
				fprintf(stderr, "tcp-bench: idle: connect %u "
					"failed (%d)\n", opened, err);
				goto out;
			}
		}
		while (pair_step(&pr, t = now_us()) > 0)
			;
	}
	for (int i = 0; i < 100; i++)
		pair_step(&pr, t = now_us());
out:;
	long rss1 = rss_kib();
	struct mallinfo2 m1 = mallinfo2();
	uint64_t up = idle_up;
	*per_conn_rss = (double)(rss1 - rss0) * 1024 / (2.0 * (double)up);
	*per_conn_heap = ((double)(m1.uordblks + m1.hblkhd) -
			  (double)(m0.uordblks + m0.hblkhd)) / (2.0 * (double)up);
	if (up < n)
		fprintf(stderr, "tcp-bench: idle: %llu of %u connections up\n",
			(unsigned long long)up, n);
	pair_fini(&pr);
	return up > 1 ? 0 : -1;
}

/* ---- main -------------------------------------------------------------- */

static void usage(void)
{
	fprintf(stderr, "usage: tcp-bench [-r runs] [-t seconds] [-c inflight] "
		"[-b bulk-conns] [-i idle-conns] [--mtu N] [--json] "
		"[cps|bulk|idle]...\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct opts o = { .runs = 5, .seconds = 2, .inflight = 256,
			  .bulk_conns = 1, .idle_conns = 100000, .mtu = 1500 };
	static const struct option lo[] = {
		{ "mtu", required_argument, NULL, 'm' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;
	while ((ch = getopt_long(argc, argv, "r:t:c:b:i:", lo, NULL)) != -1) {
		switch (ch) {
		case 'r': o.runs = atoi(optarg); break;
		case 't': o.seconds = atof(optarg); break;
		case 'c': o.inflight = (uint32_t)atoi(optarg); break;
		case 'b': o.bulk_conns = (uint32_t)atoi(optarg); break;
		case 'i': o.idle_conns = (uint32_t)atoi(optarg); break;
		case 'm': o.mtu = (uint16_t)atoi(optarg); break;
		case 'j': o.json = true; break;
		default: usage();
		}
	}
	if (o.runs < 1 || o.runs > MAX_RUNS || o.seconds <= 0 ||
	    o.inflight < 1 || o.bulk_conns < 1 || o.idle_conns < 2 ||
	    o.mtu < 576 || o.mtu > 9000)
		usage();
	bool do_cps = optind == argc, do_bulk = do_cps, do_idle = do_cps;
	for (int i = optind; i < argc; i++) {
		if (!strcmp(argv[i], "cps"))
			do_cps = true;
		else if (!strcmp(argv[i], "bulk"))
			do_bulk = true;
		else if (!strcmp(argv[i], "idle"))
			do_idle = true;
		else
			usage();
	}
	double cps = 0, cps_cpu = 0, gbps = 0, gbps_cpu = 0, rss = 0, heap = 0;
	double v1[MAX_RUNS], v2[MAX_RUNS];
	if (do_cps) {
		for (int r = 0; r < o.runs; r++)
			if (run_cps(&o, &v1[r], &v2[r]) < 0) {
				fprintf(stderr, "tcp-bench: cps run failed\n");
				return 1;
			}
		cps = median(v1, o.runs);
		cps_cpu = median(v2, o.runs);
	}
	if (do_bulk) {
		for (int r = 0; r < o.runs; r++)
			if (run_bulk(&o, &v1[r], &v2[r]) < 0) {
				fprintf(stderr, "tcp-bench: bulk run failed\n");
				return 1;
			}
		gbps = median(v1, o.runs);
		gbps_cpu = median(v2, o.runs);
	}
	if (do_idle) {
		if (run_idle(&o, &rss, &heap) < 0) {
			fprintf(stderr, "tcp-bench: idle run failed\n");
			return 1;
		}
	}
	if (o.json) {
		printf("{\"runs\":%d,\"seconds\":%.1f,\"mtu\":%u,"
		       "\"cps\":%.0f,\"cps_per_cpu_s\":%.0f,"
		       "\"bulk_gbps\":%.2f,\"bulk_gbps_per_cpu_s\":%.2f,"
		       "\"idle_conns\":%u,\"idle_bytes_rss\":%.0f,"
		       "\"idle_bytes_heap\":%.0f,\"tcp_conn_size\":%zu,"
		       "\"time_wait_size\":%zu}\n",
		       o.runs, o.seconds, o.mtu, cps, cps_cpu, gbps, gbps_cpu,
		       o.idle_conns, rss, heap, tcp_conn_size(),
		       tcp_time_wait_size());
		return 0;
	}
	printf("tcp-bench: two stacks back to back on one core, MTU %u, "
	       "median of %d runs of %.1f s\n", o.mtu, o.runs, o.seconds);
	if (do_cps)
		printf("  connections/s (handshake, 64 B request/response, close; "
		       "%u in flight): %.0f wall, %.0f per CPU-second  "
		       "[target >= 250000: %s]\n", o.inflight, cps, cps_cpu,
		       cps >= 250000 ? "met" : "NOT met");
	if (do_bulk)
		printf("  bulk payload (%u connection%s): %.2f Gbps wall, "
		       "%.2f per CPU-second  [target >= 20: %s]\n",
		       o.bulk_conns, o.bulk_conns == 1 ? "" : "s", gbps,
		       gbps_cpu, gbps >= 20 ? "met" : "NOT met");
	if (do_idle)
		printf("  idle established connection (%u per side): %.0f B RSS, "
		       "%.0f B heap; sizeof tcp_conn %zu, TIME_WAIT record %zu  "
		       "[target <= 1024: %s]\n", o.idle_conns, rss, heap,
		       tcp_conn_size(), tcp_time_wait_size(),
		       rss <= 1024 ? "met" : "NOT met");
	return 0;
}
