/*
 * dataplane/dp_smtp.c - SMTP sessions on a net lcore's TCP stack
 * (dp_smtp.h).
 */
#include "dataplane/dp_smtp.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_common.h>
#include <urcu-qsbr.h>

#include "dataplane/dp_addrcap.h"
#include "dataplane/dp_rules.h"
#include "scan/policy.h"
#include "smtp/limits.h"
#include "smtp/server.h"
#include "spool/spool_rec.h"
#include "spool/spool_writer.h"

#define IOV_N 32
#define LIMIT_SLOTS_MIN 1024

struct conn {
	struct dp_msg d;            /* the message out (at most one) */
	struct dp_smtp *sm;
	struct tcp_conn *c;         /* NULL once the connection is gone */
	struct smtp_session *s;     /* NULL once freed */
	uint32_t raddr;
	bool admitted;              /* holds a limits slot */
	bool closing;               /* tcp_close() called */
	bool close_wanted;          /* the session asked (cb_close) */
	bool msg_out;               /* d is with a scan lcore */
	struct conn *prev, *next;   /* live sessions */
	struct conn *free_next;
	struct conn *all_next;      /* every record, for dp_smtp_free */
};

struct dp_smtp {
	unsigned idx;
	const struct smtp_config *cfg;
	struct dp_scan_shared *scan;
	struct smtp_pool *pool;
	struct smtp_conn_limits *limits;
	struct dp_addrcap *addrcap;        /* NULL: limits counts per address */
	struct spool_qid_gen qid;
	struct conn *live, *free, *all;
	unsigned out[DP_MAX_SCAN_LCORES];  /* messages out per scan lcore */
	unsigned nout;                     /* their sum */
	bool draining;
	uint64_t now, next_tick;
	struct dp_smtp_stats st;
};

static struct conn *conn_get(struct dp_smtp *sm)
{
	struct conn *k = sm->free;
	if (k != NULL) {
		sm->free = k->free_next;
	} else {
		/* Once per concurrent connection, then reused. */
		k = malloc(sizeof *k);
		if (k == NULL)
			return NULL;
		k->all_next = sm->all;
		sm->all = k;
	}
	struct conn *all = k->all_next;
	memset(k, 0, sizeof *k);
	k->all_next = all;
	k->sm = sm;
	return k;
}

static void conn_put(struct conn *k)
{
	struct dp_smtp *sm = k->sm;
	k->free_next = sm->free;
	sm->free = k;
}

static void live_add(struct dp_smtp *sm, struct conn *k)
{
	k->prev = NULL;
	k->next = sm->live;
	if (sm->live != NULL)
		sm->live->prev = k;
	sm->live = k;
	sm->st.live++;
}

static void live_del(struct dp_smtp *sm, struct conn *k)
{
	if (k->prev != NULL)
		k->prev->next = k->next;
	else
		sm->live = k->next;
	if (k->next != NULL)
		k->next->prev = k->prev;
	k->prev = k->next = NULL;
	sm->st.live--;
}

/* ---- session callbacks ---- */

static long cb_send(void *ctx, const void *buf, size_t len)
{
	struct conn *k = ctx;
	if (k->c == NULL || k->closing)
		return -EPIPE;
	ssize_t n = tcp_send(k->c, buf, len, 0);
	if (n == -EAGAIN)
		return 0;
	return (long)n;
}

/* Not tcp_close() here: the session is still on the stack, the input
 * it took may not be consumed yet (tcp_close() with unread data resets
 * the connection), and outside a TCP handler closed can follow at once
 * and free the session. settle() closes once the session returned. */
static void cb_close(void *ctx)
{
	struct conn *k = ctx;
	k->close_wanted = true;
}

/* After a call into the session: the close it asked for (FIN after its
 * last reply). closed may run inside (and free the session and k's
 * message-less record): do not use k afterwards. */
static void settle(struct conn *k)
{
	if (k->close_wanted && k->c != NULL && !k->closing) {
		k->closing = true;
		tcp_close(k->c);  /* closed follows when it is gone */
	}
}

static int cb_message(void *ctx, const struct smtp_message *msg)
{
	struct conn *k = ctx;
	struct dp_smtp *sm = k->sm;
	struct dp_scan_shared *sc = sm->scan;
	unsigned best = 0;

	for (unsigned j = 1; j < sc->nscan; j++)
		if (sm->out[j] < sm->out[best])
			best = j;
	if (sm->out[best] >= sc->ring_size - 1) {
		sm->st.handoff_full++;
		return -ENOBUFS;
	}
	k->d.msg = msg;
	if (dp_scan_submit(sc, sm->idx, best, &k->d) < 0) {
		sm->st.handoff_full++;
		return -ENOBUFS;
	}
	sm->out[best]++;
	sm->nout++;
	k->msg_out = true;
	sm->st.messages++;
	return 0;
}

static void cb_queue_id(void *ctx, char *buf, size_t size)
{
	struct conn *k = ctx;
	char id[SPOOL_QID_LEN + 1];
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	spool_qid_next(&k->sm->qid, (uint64_t)ts.tv_sec * 1000u +
		       (uint64_t)ts.tv_nsec / 1000000u, id);
	snprintf(buf, size, "%s", id);
}

static bool cb_storage_ok(void *ctx)
{
	struct conn *k = ctx;
	return spool_writer_space_ok(k->sm->scan->spool);
}

/* The route scan_policy_select() would choose for (sender, this one
 * recipient) under the current rule generation. Runs inside the loop
 * turn (a QSBR read side); the session copies the name before the turn
 * ends. */
static const char *cb_rcpt_route(void *ctx, const char *mail_from,
				 const char *rcpt)
{
	struct conn *k = ctx;
	const struct dp_rules *g = rcu_dereference(k->sm->scan->rules);
	const char *to[1] = {rcpt};
	struct scan_envelope env = {
		.mail_from = mail_from, .rcpt_to = to, .nrcpt = 1,
	};
	if (g == NULL)
		return NULL;
	return scan_route_name(scan_policy_select(g->cfg, &env));
}

static const struct smtp_callbacks callbacks = {
	.send = cb_send,
	.close = cb_close,
	.message = cb_message,
	.queue_id = cb_queue_id,
	.storage_ok = cb_storage_ok,
	.rcpt_route = cb_rcpt_route,
};

/* ---- the readable path ---- */

static void pump(struct conn *k)
{
	struct dp_smtp *sm = k->sm;
	struct iovec iov[IOV_N];

	while (k->c != NULL && !k->closing && !k->close_wanted &&
	       smtp_session_wants_input(k->s)) {
		size_t total, taken = 0;
		bool stalled = false;
		unsigned n = tcp_recv_iov(k->c, iov, IOV_N, &total);
		if (n == 0)
			break;
		for (unsigned i = 0; i < n; i++) {
			size_t t = smtp_session_input(k->s, iov[i].iov_base,
						      iov[i].iov_len, sm->now);
			taken += t;
			if (t < iov[i].iov_len) {
				stalled = true;
				break;
			}
		}
		if (k->closing || k->c == NULL)
			return;
		if (taken > 0)  /* a closed session took all: consumed */
			tcp_recv_consume(k->c, taken);
		if (stalled || k->close_wanted)
			break;
	}
	if (k->close_wanted) {
		settle(k);
		return;
	}
	if (k->c != NULL && !k->closing && tcp_recv_eof(k->c) &&
	    !smtp_session_busy(k->s)) {
		k->closing = true;  /* the client is gone: nothing to answer */
		tcp_close(k->c);
	}
}

/* ---- TCP events ---- */

/* An admitted connection has ended: its counts go. */
static void release(struct dp_smtp *sm, uint32_t raddr)
{
	smtp_conn_limits_release(sm->limits, raddr);
	if (sm->addrcap != NULL)
		dp_addrcap_put(sm->addrcap, raddr);
}

static int on_accepted(void *lctx, struct tcp_conn *c, void **ctx)
{
	struct dp_smtp *sm = lctx;
	uint32_t laddr, raddr;
	uint16_t lport, rport;
	struct conn *k = conn_get(sm);
	if (k == NULL)
		return -ENOMEM;
	tcp_conn_tuple(c, &laddr, &lport, &raddr, &rport);
	k->c = c;
	k->raddr = raddr;
	enum smtp_admit admit = smtp_conn_limits_admit(sm->limits, raddr,
						       sm->now);
	if (admit == SMTP_ADMIT_OK && sm->addrcap != NULL &&
	    !dp_addrcap_take(sm->addrcap, raddr)) {
		smtp_conn_limits_release(sm->limits, raddr);
		admit = SMTP_ADMIT_TOO_MANY_FROM_YOU;
	}
	k->admitted = admit == SMTP_ADMIT_OK;
	k->s = smtp_session_create(sm->cfg, sm->pool, raddr, &callbacks, k);
	if (k->s == NULL) {
		if (k->admitted)
			release(sm, raddr);
		conn_put(k);
		return -ENOMEM;
	}
	*ctx = k;
	live_add(sm, k);
	if (k->admitted)
		sm->st.conns++;
	else
		sm->st.conns_refused++;
	if (sm->draining)  /* accepted while shutting down: 421 at start */
		smtp_session_drain(k->s, sm->now);
	smtp_session_start(k->s, admit, sm->now);
	settle(k);  /* a refusal (421/554) closes */
	return 0;
}

static void on_readable(void *ctx, struct tcp_conn *c)
{
	pump(ctx);
}

static void on_writable(void *ctx, struct tcp_conn *c)
{
	struct conn *k = ctx;
	if (k->s == NULL)
		return;
	smtp_session_writable(k->s, k->sm->now);
	pump(k);
}

static void on_closed(void *ctx, struct tcp_conn *c, int err)
{
	struct conn *k = ctx;
	struct dp_smtp *sm = k->sm;
	k->c = NULL;
	live_del(sm, k);
	if (k->admitted)
		release(sm, k->raddr);
	k->admitted = false;
	smtp_session_free(k->s);  /* a message out is detached */
	k->s = NULL;
	if (!k->msg_out)
		conn_put(k);
	/* else the verdict path frees the message and the record */
}

static const struct tcp_handler handler = {
	.accepted = on_accepted,
	.readable = on_readable,
	.writable = on_writable,
	.closed = on_closed,
};

/* ---- verdicts and deadlines ---- */

static void verdict(struct dp_smtp *sm, struct dp_msg *d)
{
	struct conn *k = container_of(d, struct conn, d);
	sm->out[d->scan]--;
	sm->nout--;
	k->msg_out = false;
	if (d->code < 300)
		sm->st.replies_2xx++;
	else if (d->code < 500)
		sm->st.replies_4xx++;
	else
		sm->st.replies_5xx++;
	if (k->s == NULL) {  /* the connection died meanwhile */
		sm->st.orphans++;
		smtp_message_free(d->msg);
		conn_put(k);
		return;
	}
	smtp_session_verdict(k->s, d->code, d->enh, d->text, sm->now);
	pump(k);  /* the held pipelined input, or the peer's FIN */
}

unsigned dp_smtp_poll(struct dp_smtp *sm, uint64_t now)
{
	struct dp_msg *d[32];
	unsigned work = 0;

	sm->now = now;
	for (unsigned j = 0; j < sm->scan->nscan; j++) {
		if (sm->out[j] == 0)
			continue;
		unsigned n = dp_scan_replies(sm->scan, sm->idx, j, d, 32);
		for (unsigned i = 0; i < n; i++)
			verdict(sm, d[i]);
		work += n;
	}
	if (unlikely(now >= sm->next_tick)) {
		sm->next_tick = now + DP_SMTP_TICK_US;
		struct conn *k = sm->live, *next;
		for (; k != NULL; k = next) {
			next = k->next;
			if (k->s != NULL &&
			    smtp_session_deadline(k->s) <= now) {
				smtp_session_tick(k->s, now);
				settle(k);
				work++;
			}
		}
	}
	return work;
}

void dp_smtp_drain(struct dp_smtp *sm, uint64_t now)
{
	struct conn *k, *next;
	sm->now = now;
	sm->draining = true;
	for (k = sm->live; k != NULL; k = next) {
		next = k->next;  /* closed is deferred, but be safe */
		if (k->s != NULL) {
			smtp_session_drain(k->s, now);
			settle(k);
		}
	}
}

unsigned dp_smtp_outstanding(const struct dp_smtp *sm)
{
	return sm->nout;
}

void dp_smtp_stats(struct dp_smtp *sm, struct dp_smtp_stats *out)
{
	*out = sm->st;
	out->pool_in_use = smtp_pool_in_use(sm->pool);
}

struct dp_smtp *dp_smtp_create(unsigned idx, struct tcp_stack *tcp,
			       uint16_t port, const struct smtp_config *cfg,
			       unsigned nnet, struct dp_scan_shared *scan,
			       struct dp_addrcap *addrcap,
			       const char *qid_floor, char *err,
			       size_t errsz)
{
	struct dp_smtp *sm = calloc(1, sizeof *sm);
	int rc;
	if (sm == NULL)
		goto nomem;
	sm->idx = idx;
	sm->cfg = cfg;
	sm->scan = scan;
	sm->addrcap = addrcap;
	sm->pool = smtp_pool_create(cfg->buffer_memory);
	unsigned per = nnet > 0 ? nnet : 1;
	unsigned total = cfg->max_connections
		? RTE_MAX(cfg->max_connections / per, 1u) : 0;
	unsigned per_addr = cfg->max_connections_per_address && !addrcap
		? RTE_MAX(cfg->max_connections_per_address / per, 1u) : 0;
	unsigned rate = cfg->connection_rate
		? RTE_MAX(cfg->connection_rate / per, 1u) : 0;
	unsigned slots = RTE_MAX(total, (unsigned)LIMIT_SLOTS_MIN);
	uint64_t seed;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	seed = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ull ^ (uintptr_t)sm;
	sm->limits = smtp_conn_limits_create(total, per_addr, rate, slots,
					     seed);
	if (sm->pool == NULL || sm->limits == NULL)
		goto nomem;
	spool_qid_gen_init(&sm->qid, idx, qid_floor);
	if ((rc = tcp_listen(tcp, 0, port, &handler, sm)) < 0) {
		snprintf(err, errsz, "net lcore %u: cannot listen on SMTP port "
			 "%u: %s", idx, port, strerror(-rc));
		dp_smtp_free(sm);
		return NULL;
	}
	return sm;
nomem:
	snprintf(err, errsz, "net lcore %u: out of memory for the SMTP "
		 "sessions", idx);
	dp_smtp_free(sm);
	return NULL;
}

static void drain_one(void *arg, struct dp_msg *d)
{
	struct dp_smtp *sm = arg;
	struct conn *k = container_of(d, struct conn, d);
	(void)sm;
	k->msg_out = false;
	smtp_message_free(d->msg);
}

void dp_smtp_free(struct dp_smtp *sm)
{
	if (sm == NULL)
		return;
	if (sm->scan != NULL)
		dp_scan_drain(sm->scan, sm->idx, drain_one, sm);
	for (struct conn *k = sm->live; k != NULL; k = k->next)
		smtp_session_free(k->s);  /* only if the stack was not freed */
	while (sm->all != NULL) {
		struct conn *k = sm->all;
		sm->all = k->all_next;
		free(k);
	}
	smtp_conn_limits_free(sm->limits);
	smtp_pool_free(sm->pool);
	free(sm);
}
