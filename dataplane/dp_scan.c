/*
 * dataplane/dp_scan.c - scan lcores: message in, verdict and spool record
 * out (dp_scan.h).
 */
#include "dataplane/dp_scan.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_common.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <urcu-qsbr.h>

#include "dataplane/dp_lcore.h"
#include "dataplane/dp_rules.h"
#include "scan/edit.h"
#include "scan/hash.h"
#include "scan/scan.h"
#include "spool/spool_rec.h"
#include "spool/spool_writer.h"

#define LINE_MAX_ (SCAN_TEXT_MAX + SCAN_NAME_MAX + SCAN_DETAIL_MAX + 32)

struct slot {
	struct spool_req req;
	struct dp_msg *d;
	uint8_t *buf;
	size_t cap;
	char qid[SPOOL_QID_LEN + 1];
};

struct dp_scan_lcore {
	struct dp_scan_shared *sh;
	unsigned idx;
	struct spool_enc *enc;
	struct scan_verdict *v;
	uint8_t *flat;
	size_t flat_cap;
	const char **rcpt;          /* max_rcpt */
	struct spool_rcpt *srcpt;   /* max_rcpt */
	char (*lines)[LINE_MAX_];   /* findings, edits, the original's hash */
	const char *findings[SCAN_MAX_FINDINGS];
	const char *actions[SCAN_MAX_EDITS + 1];
	struct scan_edit_buf edit;  /* the edited message (grows, reused) */
	struct slot slot[DP_SCAN_INFLIGHT];
	unsigned ninflight;
	unsigned rr;                /* next net lcore to take from */
	struct dp_scan_stats st;
};

int dp_scan_rings_create(struct dp_scan_shared *sh, char *err, size_t errsz)
{
	char name[RTE_RING_NAMESIZE];
	for (unsigned i = 0; i < sh->nnet; i++)
		for (unsigned j = 0; j < sh->nscan; j++) {
			snprintf(name, sizeof name, "dp_sreq_%u_%u", i % 100u,
				 j % 100u);
			sh->req[i][j] = rte_ring_create(name, sh->ring_size,
				SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
			snprintf(name, sizeof name, "dp_srep_%u_%u", i % 100u,
				 j % 100u);
			sh->rep[i][j] = rte_ring_create(name, sh->ring_size,
				SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
			if (sh->req[i][j] == NULL || sh->rep[i][j] == NULL) {
				snprintf(err, errsz, "scan rings: %s",
					 rte_strerror(rte_errno));
				return -ENOMEM;
			}
		}
	return 0;
}

void dp_scan_rings_free(struct dp_scan_shared *sh)
{
	for (unsigned i = 0; i < DP_MAX_LCORES; i++)
		for (unsigned j = 0; j < DP_MAX_SCAN_LCORES; j++) {
			rte_ring_free(sh->req[i][j]);
			rte_ring_free(sh->rep[i][j]);
			sh->req[i][j] = sh->rep[i][j] = NULL;
		}
}

void dp_scan_drain(struct dp_scan_shared *sh, unsigned net,
		   void (*fn)(void *arg, struct dp_msg *d), void *arg)
{
	void *d;
	for (unsigned j = 0; j < DP_MAX_SCAN_LCORES; j++) {
		while (sh->req[net][j] != NULL &&
		       rte_ring_sc_dequeue(sh->req[net][j], &d) == 0)
			fn(arg, d);
		while (sh->rep[net][j] != NULL &&
		       rte_ring_sc_dequeue(sh->rep[net][j], &d) == 0)
			fn(arg, d);
	}
}

int dp_scan_lcore_create(struct dp_scan_shared *sh, unsigned idx,
			 char *err, size_t errsz)
{
	struct dp_scan_lcore *sl = calloc(1, sizeof *sl);
	unsigned nr = sh->max_rcpt > 0 ? sh->max_rcpt : 1;
	if (sl == NULL)
		goto nomem;
	sh->sl[idx] = sl;
	sl->sh = sh;
	sl->idx = idx;
	sl->enc = spool_enc_create(sh->compress_level,
				   (size_t)sh->compress_above);
	sl->v = malloc(sizeof *sl->v);
	sl->flat_cap = (size_t)sh->max_message;
	sl->flat = malloc(sl->flat_cap);
	sl->rcpt = calloc(nr, sizeof *sl->rcpt);
	sl->srcpt = calloc(nr, sizeof *sl->srcpt);
	sl->lines = calloc(SCAN_MAX_FINDINGS + SCAN_MAX_EDITS + 1,
			   sizeof *sl->lines);
	if (sl->enc == NULL || sl->v == NULL ||
	    sl->flat == NULL || sl->rcpt == NULL || sl->srcpt == NULL ||
	    sl->lines == NULL)
		goto nomem;
	return 0;
nomem:
	snprintf(err, errsz, "scan lcore %u: out of memory for its buffers "
		 "(%" PRIu64 " bytes of message buffer: smtp.max_message_size)",
		 idx, sh->max_message);
	return -ENOMEM;
}

void dp_scan_lcore_free(struct dp_scan_shared *sh, unsigned idx)
{
	struct dp_scan_lcore *sl = sh->sl[idx];
	if (sl == NULL)
		return;
	for (unsigned i = 0; i < DP_SCAN_INFLIGHT; i++)
		free(sl->slot[i].buf);
	spool_enc_free(sl->enc);
	free(sl->v);
	free(sl->flat);
	free(sl->rcpt);
	free(sl->srcpt);
	free(sl->lines);
	free(sl->edit.buf);
	free(sl);
	sh->sl[idx] = NULL;
}

void dp_scan_stats(const struct dp_scan_shared *sh, unsigned idx,
		   struct dp_scan_stats *out)
{
	const struct dp_scan_lcore *sl = sh->sl[idx];
	const uint64_t *src = (const uint64_t *)&sl->st;
	uint64_t *dst = (uint64_t *)out;
	for (size_t i = 0; i < sizeof *out / sizeof(uint64_t); i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}

static void reply(struct dp_scan_lcore *sl, struct dp_msg *d, int code,
		  const char *enh, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static void reply(struct dp_scan_lcore *sl, struct dp_msg *d, int code,
		  const char *enh, const char *fmt, ...)
{
	va_list ap;
	d->code = code;
	snprintf(d->enh, sizeof d->enh, "%s", enh);
	va_start(ap, fmt);
	vsnprintf(d->text, sizeof d->text, fmt, ap);
	va_end(ap);
	if (code < 300)
		sl->st.accepted++;
	else if (code < 500)
		sl->st.tempfail++;
	else
		sl->st.rejected++;
}

static void put_back(struct dp_scan_lcore *sl, unsigned net, struct dp_msg *d)
{
	/* Never full: the net lcore keeps fewer than ring_size out. */
	int rc = rte_ring_sp_enqueue(sl->sh->rep[net][sl->idx], d);
	RTE_VERIFY(rc == 0);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t wall_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Scan one message; reply now (reject, failure) or put it in flight. */
static void process(struct dp_scan_lcore *sl, const struct dp_rules *g,
		    unsigned net, struct dp_msg *d)
{
	struct scan_ctx *ctx = g->ctx[sl->idx];
	const struct smtp_message *m = d->msg;
	const struct smtp_envelope *e = &m->env;
	struct scan_verdict *v = sl->v;
	unsigned nr = 0;

	sl->st.messages++;
	if (m->size > sl->flat_cap) {
		reply(sl, d, 451, "4.3.0", "Temporary local problem: message "
		      "larger than the scan buffer");
		put_back(sl, net, d);
		return;
	}
	smtp_message_copy(m, sl->flat, sl->flat_cap);
	for (const struct smtp_rcpt *r = e->rcpt;
	     r != NULL && nr < sl->sh->max_rcpt; r = r->next, nr++) {
		sl->rcpt[nr] = r->addr;
		sl->srcpt[nr].addr = r->addr;
		sl->srcpt[nr].notify = r->notify;
		sl->srcpt[nr].orcpt = r->orcpt;
	}
	struct scan_envelope env = {
		.mail_from = e->mail_from, .rcpt_to = sl->rcpt, .nrcpt = nr,
		.client_addr = e->client_addr, .helo = e->helo,
	};
	uint64_t t0 = dp_now_us();
	sl->st.rules_gen = g->gen;
	scan_ctx_set_deadline(ctx, mono_ns() + sl->sh->scan_budget_ns);
	int rc = scan_message(ctx, sl->flat, (size_t)m->size, &env, NULL,
			      0, v);
	sl->st.scan_us += dp_now_us() - t0;
	if (rc == -ETIME) {
		sl->st.scan_timeout++;
		reply(sl, d, 451, "4.7.0", "Message scan did not finish in "
		      "time, try again later");
		put_back(sl, net, d);
		return;
	}
	if (rc < 0) {
		sl->st.scan_fail++;
		reply(sl, d, 451, "4.3.0", "Temporary scanning failure, try "
		      "again later");
		put_back(sl, net, d);
		return;
	}
	if (v->disposition == SCAN_REJECT) {
		if (v->nfindings > 0)
			reply(sl, d, 550, "5.7.1", "Rejected: %s %s",
			      scan_finding_kind_name(v->findings[0].kind),
			      v->findings[0].name);
		else
			reply(sl, d, 550, "5.7.1", "Rejected: %s",
			      v->reason[0] ? v->reason
					   : scan_class_name(v->cls));
		put_back(sl, net, d);
		return;
	}

	/* Accepted: for delivery the policy's edits applied (never the
	 * unedited message instead), then a spool record; 250 once it is
	 * durable. A quarantined message is kept as it came (an operator
	 * releasing it sees the original; the record lists the edits), a
	 * deleted one is only recorded. */
	const uint8_t *data = sl->flat;
	size_t data_len = (size_t)m->size;
	if (v->disposition == SCAN_DELIVER && scan_edit_changes_message(v)) {
		rc = scan_edit_apply(ctx, sl->flat, data_len, v, &sl->edit);
		if (rc < 0) {
			sl->st.edit_fail++;
			reply(sl, d, 451, "4.3.0", "Temporary local problem: "
			      "cannot apply the content policy, try again "
			      "later");
			put_back(sl, net, d);
			return;
		}
		data = sl->edit.buf;
		data_len = sl->edit.len;
		sl->st.edited++;
	}
	struct slot *s = NULL;
	for (unsigned i = 0; i < DP_SCAN_INFLIGHT; i++)
		if (sl->slot[i].d == NULL) {
			s = &sl->slot[i];
			break;
		}
	RTE_VERIFY(s != NULL);  /* the loop takes work only with a free slot */
	unsigned nl = 0;
	for (unsigned i = 0; i < v->nfindings; i++, nl++) {
		snprintf(sl->lines[nl], LINE_MAX_, "%s %s%s%s",
			 scan_finding_kind_name(v->findings[i].kind),
			 v->findings[i].name, v->findings[i].detail[0] ? ": " : "",
			 v->findings[i].detail);
		sl->findings[i] = sl->lines[nl];
	}
	unsigned na = 0;
	for (unsigned i = 0; i < v->nedits; i++, nl++) {
		snprintf(sl->lines[nl], LINE_MAX_, "%s %s",
			 scan_edit_kind_name(v->edits[i].kind),
			 v->edits[i].text);
		sl->actions[na++] = sl->lines[nl];
	}
	if (data != sl->flat) {  /* the record's sha256/size are the edit's */
		uint8_t h[SCAN_SHA256_LEN];
		char hex[2 * SCAN_SHA256_LEN + 1];
		scan_sha256(sl->flat, (size_t)m->size, h);
		for (unsigned i = 0; i < SCAN_SHA256_LEN; i++)
			snprintf(hex + 2 * i, 3, "%02x", h[i]);
		snprintf(sl->lines[nl], LINE_MAX_, "original size=%" PRIu64
			 " sha256=%s", m->size, hex);
		sl->actions[na++] = sl->lines[nl++];
	}
	uint64_t now = wall_us();
	struct spool_msg sm = {
		.received_us = now, .spooled_us = now,
		.client = e->client_addr, .helo = e->helo,
		.mail_from = e->mail_from, .size_param = e->size,
		.body = (enum spool_body_type)e->body,
		.smtputf8 = e->smtputf8, .ret = (enum spool_ret)e->ret,
		.envid = e->envid, .rcpts = sl->srcpt, .nrcpts = nr,
		.verdict = scan_class_name(v->cls),
		.action = scan_disposition_name(v->disposition),
		.area = v->quarantine_area, .route = v->route,
		.policy = v->policy, .reason = v->reason,
		.findings = sl->findings, .nfindings = v->nfindings,
		.actions = sl->actions, .nactions = na,
		.data = data, .data_len = data_len,
	};
	snprintf(sm.qid, sizeof sm.qid, "%s", m->queue_id);
	size_t bound = spool_rec_bound(&sm), len = 0;
	if (bound == SIZE_MAX) {
		sl->st.spool_fail++;
		reply(sl, d, 451, "4.3.0", "Temporary local problem: cannot "
		      "queue the message");
		put_back(sl, net, d);
		return;
	}
	if (bound > s->cap) {  /* grows to the largest message, then stays */
		uint8_t *b = realloc(s->buf, bound);
		if (b == NULL) {
			sl->st.spool_fail++;
			reply(sl, d, 451, "4.3.0", "Temporary local problem: "
			      "out of memory");
			put_back(sl, net, d);
			return;
		}
		s->buf = b;
		s->cap = bound;
	}
	rc = spool_enc_message(sl->enc, &sm, s->buf, s->cap, &len);
	if (rc == 0) {
		spool_req_init(&s->req, s->buf, len, NULL, NULL);
		rc = spool_writer_submit(sl->sh->spool, &s->req);
	}
	if (rc < 0) {
		if (rc == -EAGAIN || rc == -ENOSPC)
			sl->st.spool_busy++;
		else
			sl->st.spool_fail++;
		reply(sl, d, 451, "4.3.0", rc == -ENOSPC
		      ? "Insufficient system storage, try again later"
		      : "Temporary local problem, try again later");
		put_back(sl, net, d);
		return;
	}
	memcpy(s->qid, sm.qid, sizeof s->qid);
	s->d = d;
	s->req.arg = (void *)(uintptr_t)net;
	sl->ninflight++;
}

/* Completed spool writes -> replies. Returns how many completed. */
static unsigned poll_inflight(struct dp_scan_lcore *sl)
{
	unsigned done = 0;
	if (sl->ninflight == 0)
		return 0;
	for (unsigned i = 0; i < DP_SCAN_INFLIGHT; i++) {
		struct slot *s = &sl->slot[i];
		if (s->d == NULL)
			continue;
		int st = spool_req_status(&s->req);
		if (st == -EINPROGRESS)
			continue;
		if (st == 0) {
			reply(sl, s->d, 250, "2.0.0", "Ok: queued as %s",
			      s->qid);
		} else {
			sl->st.spool_fail++;
			reply(sl, s->d, 451, "4.3.0", "Temporary local "
			      "problem: the queue write failed, try again "
			      "later");
		}
		put_back(sl, (unsigned)(uintptr_t)s->req.arg, s->d);
		s->d = NULL;
		sl->ninflight--;
		done++;
	}
	return done;
}

int dp_scan_run(void *arg)
{
	struct dp_scan_lcore *sl = arg;
	struct dp_scan_shared *sh = sl->sh;
	uint64_t sleep_us = DP_SLEEP_MIN_US;
	unsigned idle = 0;

	rcu_register_thread();
	for (;;) {
		/* This turn's rule generation; released at the quiescent
		 * state below (a reload is picked up between messages). */
		const struct dp_rules *g = rcu_dereference(sh->rules);
		bool stop = __atomic_load_n(sh->phase, __ATOMIC_ACQUIRE) ==
			    DP_STOP;
		unsigned work = poll_inflight(sl);
		if (stop) {
			if (sl->ninflight == 0)
				break;
		} else {
			/* One message per net lcore per turn, while a spool
			 * slot is free. */
			for (unsigned k = 0; k < sh->nnet &&
			     sl->ninflight < DP_SCAN_INFLIGHT; k++) {
				unsigned net = (sl->rr + k) % sh->nnet;
				void *d;
				if (rte_ring_sc_dequeue(sh->req[net][sl->idx],
							&d) != 0)
					continue;
				process(sl, g, net, d);
				work++;
			}
			sl->rr++;
		}
		rcu_quiescent_state();
		if (work != 0) {
			idle = 0;
			sleep_us = DP_SLEEP_MIN_US;
			continue;
		}
		if (sh->busy_poll || ++idle < DP_IDLE_POLLS)
			continue;
		/* While a write is in flight, poll at the finest step: the
		 * 250 waits on it. */
		uint64_t us = sl->ninflight > 0 ? DP_SLEEP_MIN_US : sleep_us;
		struct timespec ts = {.tv_sec = (time_t)(us / 1000000u),
				      .tv_nsec = (long)(us % 1000000u) * 1000};
		rcu_thread_offline();
		nanosleep(&ts, NULL);
		rcu_thread_online();
		sl->st.idle_sleeps++;
		if (sl->ninflight == 0)
			sleep_us = RTE_MIN(sleep_us * 2,
					   (uint64_t)sh->sleep_max_us);
	}
	rcu_unregister_thread();
	return 0;
}
