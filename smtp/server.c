/*
 * smtp/server.c - the ESMTP server session (see server.h): input framing,
 * the command table, one enter_state(), replies, limits, timeouts, the
 * message hand-off and the verdict.
 *
 * Reading guide: smtp_session_input() splits the stream by state (command
 * lines, DATA bytes, BDAT chunk bytes); a complete command line goes
 * through early rejects (forbidden verbs, length, bare LF, control bytes)
 * and then the table `cmds`: the verb must be allowed in the current
 * state, then check() validates and sends its own error reply, then
 * proceed() replies and moves the state. Parameters parsed by a check for
 * its proceed travel in s->pm.
 */
#include "smtp/smtp_int.h"

#include <arpa/inet.h>
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

enum st {
	ST_NEW,        /* created, not started */
	ST_GREET_WAIT, /* greeting delayed */
	ST_CONNECTED,  /* greeted, no EHLO/HELO yet */
	ST_HELO,       /* EHLO/HELO done, no transaction */
	ST_MAIL,       /* MAIL accepted */
	ST_RCPT,       /* one or more RCPT accepted */
	ST_DATA,       /* reading DATA content */
	ST_BDAT,       /* reading a BDAT chunk */
	ST_CHUNKING,   /* between BDAT chunks of one message */
	ST_VERDICT,    /* message handed up; input held */
	ST_CLOSED,
};

static const char *const st_names[] = {
	"new", "greet-wait", "connected", "helo", "mail", "rcpt", "data",
	"bdat", "chunking", "verdict", "closed"};

#define S(x) (1u << (x))
#define GREETED (S(ST_HELO) | S(ST_MAIL) | S(ST_RCPT) | S(ST_CHUNKING))
#define ANY (S(ST_CONNECTED) | GREETED)

#define OUTBUF 2048
#define ROOM_MIN 640       /* the longest single reply we make, rounded up */
#define TEXT_MAX 400       /* verdict text */

/* What a check parsed for its proceed (pointers into s->line). */
struct parsed {
	struct smtp_path path;
	uint64_t size;
	enum smtp_body_type body;
	enum smtp_ret ret;
	bool smtputf8;
	const char *envid, *orcpt;
	size_t envid_len, orcpt_len;
	unsigned notify;
	uint64_t chunk;
	bool last;
	const char *route;          /* cb->rcpt_route's answer (borrowed) */
};

struct smtp_session {
	const struct smtp_config *cfg;
	struct smtp_pool *pool;
	const struct smtp_callbacks *cb;
	void *ctx;
	uint32_t ip;
	char addr[16];
	enum st st;
	char helo[256];
	bool esmtp;

	struct smtp_txn *txn;       /* MAIL .. verdict */
	bool msg_out;               /* txn's message is out for its verdict */
	struct smtp_body body;
	struct parsed pm;

	/* BDAT */
	uint64_t chunk_left;
	bool chunk_last, chunk_store, bdat_failed;
	char chunk_err[96];         /* reply after a discarded chunk */

	/* output */
	size_t outlen;
	bool stalled, closing, close_called, dead;
	bool draining;              /* smtp_session_drain() was called */

	/* counters and clocks */
	unsigned nnoop, nrset, nvrfy, nunknown, nerrors, nmessages;
	unsigned ncommands, qid_seq;
	uint64_t now, last_us, line_start, greet_at;
	uint64_t bytes_in, bytes_out;

	size_t linelen;
	bool line_overflow;
	char out[OUTBUF];
	char line[];                /* cfg->command_line_max */
};

/* ---- Logging, state, replies ------------------------------------------- */

static void logf_(struct smtp_session *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void logf_(struct smtp_session *s, const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	if (s->cb->log == NULL)
		return;
	int n = snprintf(buf, sizeof buf, "smtp %s: ", s->addr);
	va_start(ap, fmt);
	vsnprintf(buf + n, sizeof buf - (size_t)n, fmt, ap);
	va_end(ap);
	s->cb->log(s->ctx, buf);
}

static void enter_state(struct smtp_session *s, enum st st)
{
	if (s->st != st)
		logf_(s, "%s -> %s", st_names[s->st], st_names[st]);
	s->st = st;
}

static void flush(struct smtp_session *s)
{
	if (s->outlen == 0 || s->dead)
		return;
	long r = s->cb->send(s->ctx, s->out, s->outlen);
	if (r < 0) {
		s->dead = true;
		s->outlen = 0;
		enter_state(s, ST_CLOSED);
		return;
	}
	size_t k = (size_t)r > s->outlen ? s->outlen : (size_t)r;
	s->bytes_out += k;
	memmove(s->out, s->out + k, s->outlen - k);
	s->outlen -= k;
	s->stalled = s->outlen > 0;
}

static void maybe_close(struct smtp_session *s)
{
	if (s->closing && s->outlen == 0 && !s->close_called && !s->dead) {
		s->close_called = true;
		s->cb->close(s->ctx);
	}
}

static void reply(struct smtp_session *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void reply(struct smtp_session *s, const char *fmt, ...)
{
	va_list ap;
	if (s->dead)
		return;
	for (int tries = 0; tries < 2; tries++) {
		size_t room = OUTBUF - s->outlen;
		va_start(ap, fmt);
		int n = vsnprintf(s->out + s->outlen, room, fmt, ap);
		va_end(ap);
		if (n >= 0 && (size_t)n + 2 < room) {
			memcpy(s->out + s->outlen + n, "\r\n", 2);
			s->outlen += (size_t)n + 2;
			return;
		}
		flush(s);
	}
	/* Cannot happen with ROOM_MIN kept free before each command. */
	assert(!"smtp reply does not fit");
}

static void session_close(struct smtp_session *s)
{
	s->closing = true;
	enter_state(s, ST_CLOSED);
	flush(s);
	maybe_close(s);
}

static void close_421(struct smtp_session *s, const char *enh,
		      const char *why)
{
	logf_(s, "closing: %s", why);
	reply(s, "421 %s %s %s, closing connection", enh, s->cfg->hostname,
	      why);
	session_close(s);
}

static void drain_close(struct smtp_session *s)
{
	logf_(s, "closing: shutting down");
	reply(s, "421 4.3.2 %s Service shutting down, try again later",
	      s->cfg->hostname);
	session_close(s);
}

/* Draining and between transactions: the 421 now (once the output has
 * room for it; else smtp_session_writable() comes back here). */
static void drain_check(struct smtp_session *s)
{
	if (!s->draining || s->closing || s->dead)
		return;
	if (s->st != ST_GREET_WAIT &&
	    !((s->st == ST_CONNECTED || s->st == ST_HELO) &&
	      s->linelen == 0 && !s->line_overflow))
		return;
	if (OUTBUF - s->outlen < ROOM_MIN) {
		flush(s);
		if (OUTBUF - s->outlen < ROOM_MIN)
			return;
	}
	drain_close(s);
}

/* A 4xx/5xx reply to a command; too many of them close the session. */
static void reply_err(struct smtp_session *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void reply_err(struct smtp_session *s, const char *fmt, ...)
{
	char buf[ROOM_MIN];
	va_list ap;
	if (++s->nerrors > s->cfg->max_errors) {
		close_421(s, "4.7.0", "Too many errors");
		return;
	}
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	reply(s, "%s", buf);
}

static void txn_reset(struct smtp_session *s)
{
	assert(!s->msg_out);   /* a message out is released by the verdict */
	if (s->msg_out)
		return;
	smtp_txn_free(s->txn);
	s->txn = NULL;
	s->bdat_failed = false;
	if (s->st == ST_MAIL || s->st == ST_RCPT || s->st == ST_CHUNKING ||
	    s->st == ST_DATA || s->st == ST_BDAT || s->st == ST_VERDICT)
		enter_state(s, ST_HELO);
}

/* ---- End of a message ---------------------------------------------------- */

static void make_queue_id(struct smtp_session *s, char *buf, size_t size,
			  int64_t wall)
{
	if (s->cb->queue_id != NULL) {
		buf[0] = '\0';
		s->cb->queue_id(s->ctx, buf, size);
		buf[size - 1] = '\0';
		bool ok = buf[0] != '\0';
		for (char *p = buf; *p; p++)
			if (*p <= ' ' || *p > '~' || *p == ';')
				ok = false;
		if (ok)
			return;
	}
	uint32_t h = s->ip * 2654435761u ^ (uint32_t)(uintptr_t)s;
	snprintf(buf, size, "%09llX%08X%04X",
		 (unsigned long long)wall & 0xfffffffffull, h,
		 ++s->qid_seq & 0xffff);
}

static void body_error(struct smtp_session *s, unsigned f)
{
	if (f & SMTP_BODY_BARE)
		reply_err(s, "550 5.6.0 Message contains a bare LF or CR: "
			  "lines must end with CRLF (RFC 5321 2.3.8)");
	else if (f & SMTP_BODY_LOOP)
		reply_err(s, "554 5.4.6 Too many Received: headers (more "
			  "than %u): mail loop", s->cfg->max_received);
	else if (f & SMTP_BODY_TOOBIG)
		reply_err(s, "552 5.3.4 Message size exceeds the limit of "
			  "%llu bytes",
			  (unsigned long long)s->cfg->max_message_size);
	else if (f & SMTP_BODY_LONGLINE)
		reply_err(s, "550 5.6.0 Message has a line longer than %u "
			  "octets (RFC 5321 4.5.3.1.6)",
			  s->cfg->text_line_max);
	else
		reply_err(s, "452 4.3.1 Insufficient system storage, try "
			  "again later");
}

static void end_of_message(struct smtp_session *s)
{
	struct smtp_txn *t = s->txn;
	char qid[64];

	s->nmessages++;
	if (s->body.flags != 0) {
		logf_(s, "message rejected (flags 0x%x)", s->body.flags);
		body_error(s, s->body.flags);
		txn_reset(s);
		return;
	}
	int64_t wall = s->cb->wallclock ? s->cb->wallclock(s->ctx)
					: (int64_t)time(NULL);
	make_queue_id(s, qid, sizeof qid, wall);
	t->msg.received_count = s->body.received;
	if (smtp_txn_finish(t, s->cfg, qid, wall, false) != 0) {
		body_error(s, SMTP_BODY_NOMEM);
		txn_reset(s);
		return;
	}
	enter_state(s, ST_VERDICT);
	flush(s);   /* earlier replies first */
	if (s->dead) {  /* the transport is gone: nobody to answer */
		smtp_txn_free(t);
		s->txn = NULL;
		return;
	}
	s->msg_out = true;
	if (s->cb->message(s->ctx, &t->msg) != 0 && s->msg_out) {
		s->msg_out = false;
		logf_(s, "hand-off refused");
		reply_err(s, "451 4.3.0 Temporary failure, try again later");
		txn_reset(s);
	}
}

/* ---- Checks and proceeds ---------------------------------------------------- */

typedef bool check_fn(struct smtp_session *, const char *arg, size_t n);
typedef void proceed_fn(struct smtp_session *, const char *arg, size_t n);

static bool check_helo(struct smtp_session *s, const char *a, size_t n)
{
	if (n == 0) {
		reply_err(s, "501 5.5.4 Syntax: EHLO hostname");
		return false;
	}
	if (!smtp_helo_ok(a, n) || n >= sizeof s->helo) {
		reply_err(s, "501 5.5.2 Invalid hostname in EHLO/HELO");
		return false;
	}
	return true;
}

static void set_helo(struct smtp_session *s, const char *a, size_t n,
		     bool esmtp)
{
	memcpy(s->helo, a, n);
	s->helo[n] = '\0';
	s->esmtp = esmtp;
	txn_reset(s);
	enter_state(s, ST_HELO);
}

static void do_ehlo(struct smtp_session *s, const char *a, size_t n)
{
	set_helo(s, a, n, true);
	reply(s, "250-%s\r\n250-PIPELINING\r\n250-SIZE %llu\r\n"
	      "250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n250-SMTPUTF8\r\n"
	      "250-CHUNKING\r\n250 DSN", s->cfg->hostname,
	      (unsigned long long)s->cfg->max_message_size);
}

static void do_helo(struct smtp_session *s, const char *a, size_t n)
{
	set_helo(s, a, n, false);
	reply(s, "250 %s", s->cfg->hostname);
}

/* "KEY" or "KEY=VALUE" tokens after the path. cb per token; false stops. */
typedef bool param_fn(struct smtp_session *, const char *k, size_t kn,
		      const char *v, size_t vn, unsigned *seen);

static bool params(struct smtp_session *s, const char *p, size_t n,
		   param_fn *fn)
{
	unsigned seen = 0;
	size_t i = 0;
	while (i < n) {
		if (p[i] == ' ') {
			i++;
			continue;
		}
		size_t j = i;
		while (j < n && p[j] != ' ')
			j++;
		const char *k = p + i, *eq = memchr(k, '=', j - i);
		size_t kn = eq ? (size_t)(eq - k) : j - i;
		const char *v = eq ? eq + 1 : NULL;
		size_t vn = eq ? (size_t)(p + j - v) : 0;
		bool ok = kn > 0;
		for (size_t x = 0; x < kn; x++)
			if (!isalnum((unsigned char)k[x]) && k[x] != '-')
				ok = false;
		for (size_t x = 0; x < vn; x++)
			if (v[x] < 33 || v[x] > 126 || v[x] == '=')
				ok = false;
		if (!ok || (eq && vn == 0)) {
			reply_err(s, "501 5.5.4 Invalid parameter syntax");
			return false;
		}
		if (!fn(s, k, kn, v, vn, &seen))
			return false;
		i = j;
	}
	return true;
}

static bool kw(const char *k, size_t kn, const char *want)
{
	return strlen(want) == kn && strncasecmp(k, want, kn) == 0;
}

static bool once(struct smtp_session *s, unsigned *seen, unsigned bit)
{
	if (*seen & bit) {
		reply_err(s, "501 5.5.4 Duplicate parameter");
		return false;
	}
	*seen |= bit;
	return true;
}

static bool mail_param(struct smtp_session *s, const char *k, size_t kn,
		       const char *v, size_t vn, unsigned *seen)
{
	struct parsed *m = &s->pm;
	if (kw(k, kn, "SIZE")) {
		if (!once(s, seen, 1))
			return false;
		uint64_t x = 0;
		if (vn == 0 || vn > 19) {
			reply_err(s, "501 5.5.4 Invalid SIZE value");
			return false;
		}
		for (size_t i = 0; i < vn; i++) {
			if (!isdigit((unsigned char)v[i])) {
				reply_err(s, "501 5.5.4 Invalid SIZE value");
				return false;
			}
			x = x * 10 + (uint64_t)(v[i] - '0');
		}
		if (x > s->cfg->max_message_size) {
			reply_err(s, "552 5.3.4 Message size exceeds the limit "
				  "of %llu bytes",
				  (unsigned long long)s->cfg->max_message_size);
			return false;
		}
		m->size = x;
	} else if (kw(k, kn, "BODY")) {
		if (!once(s, seen, 2))
			return false;
		if (kw(v, vn, "7BIT")) {
			m->body = SMTP_BODY_7BIT;
		} else if (kw(v, vn, "8BITMIME")) {
			m->body = SMTP_BODY_8BITMIME;
		} else {
			reply_err(s, "555 5.5.4 Unsupported BODY type");
			return false;
		}
	} else if (kw(k, kn, "SMTPUTF8")) {
		if (!once(s, seen, 4))
			return false;
		if (v != NULL) {
			reply_err(s, "501 5.5.4 SMTPUTF8 takes no value");
			return false;
		}
		m->smtputf8 = true;
	} else if (kw(k, kn, "RET")) {
		if (!once(s, seen, 8))
			return false;
		if (kw(v, vn, "FULL")) {
			m->ret = SMTP_RET_FULL;
		} else if (kw(v, vn, "HDRS")) {
			m->ret = SMTP_RET_HDRS;
		} else {
			reply_err(s, "501 5.5.4 RET must be FULL or HDRS");
			return false;
		}
	} else if (kw(k, kn, "ENVID")) {
		if (!once(s, seen, 16))
			return false;
		if (vn == 0 || vn > 100 || !smtp_xtext_ok(v, vn)) {
			reply_err(s, "501 5.5.4 Invalid ENVID (xtext, at most "
				  "100 characters)");
			return false;
		}
		m->envid = v;
		m->envid_len = vn;
	} else {
		reply_err(s, "555 5.5.4 Unsupported parameter %.*s",
			  (int)(kn > 32 ? 32 : kn), k);
		return false;
	}
	return true;
}

/* "FROM:" / "TO:" then optional spaces; returns the offset of '<'. */
static bool prefix(const char *a, size_t n, const char *want, size_t *off)
{
	size_t w = strlen(want);
	if (n < w || strncasecmp(a, want, w) != 0)
		return false;
	while (w < n && a[w] == ' ')
		w++;
	*off = w;
	return true;
}

static bool check_mail(struct smtp_session *s, const char *a, size_t n)
{
	struct parsed *m = &s->pm;
	size_t off, used;

	if (s->nmessages >= s->cfg->max_messages) {
		close_421(s, "4.7.0", "Too many messages in one connection");
		return false;
	}
	memset(m, 0, sizeof *m);
	if (!prefix(a, n, "FROM:", &off)) {
		reply_err(s, "501 5.5.4 Syntax: MAIL FROM:<address>");
		return false;
	}
	if (smtp_parse_path(a + off, n - off, true, &m->path, &used) != 0 ||
	    m->path.extra_at) {
		reply_err(s, "501 5.1.7 Bad sender address syntax");
		return false;
	}
	off += used;
	if (off < n && a[off] != ' ') {
		reply_err(s, "501 5.5.4 Syntax: MAIL FROM:<address> "
			  "[parameters]");
		return false;
	}
	if (!params(s, a + off, n - off, mail_param))
		return false;
	if (m->path.eightbit && !m->smtputf8) {
		reply_err(s, "553 5.6.7 Non-ASCII address requires SMTPUTF8");
		return false;
	}
	return true;
}

static void do_mail(struct smtp_session *s, const char *a, size_t n)
{
	struct parsed *m = &s->pm;
	struct smtp_txn *t = smtp_txn_new(s->pool);
	struct smtp_envelope *e;

	if (s->cb->storage_ok != NULL && !s->cb->storage_ok(s->ctx)) {
		smtp_txn_free(t);
		reply_err(s, "452 4.3.1 Insufficient system storage, try "
			  "again later");
		return;
	}
	if (t == NULL)
		goto nomem;
	e = &t->msg.env;
	e->client_ip = s->ip;
	e->client_addr = smtp_txn_strdup(t, s->addr, strlen(s->addr));
	e->helo = smtp_txn_strdup(t, s->helo, strlen(s->helo));
	e->esmtp = s->esmtp;
	e->mail_from = m->path.null ? smtp_txn_strdup(t, "", 0) :
		smtp_txn_strdup(t, m->path.mbox, m->path.mbox_len);
	e->size = m->size;
	e->body = m->body;
	e->smtputf8 = m->smtputf8;
	e->ret = m->ret;
	if (m->envid != NULL &&
	    (e->envid = smtp_txn_strdup(t, m->envid, m->envid_len)) == NULL)
		goto nomem;
	if (e->client_addr == NULL || e->helo == NULL || e->mail_from == NULL)
		goto nomem;
	s->txn = t;
	enter_state(s, ST_MAIL);
	reply(s, "250 2.1.0 Ok");
	return;
nomem:
	smtp_txn_free(t);
	reply_err(s, "452 4.3.1 Insufficient system storage");
}

static bool rcpt_param(struct smtp_session *s, const char *k, size_t kn,
		       const char *v, size_t vn, unsigned *seen)
{
	struct parsed *m = &s->pm;
	if (kw(k, kn, "NOTIFY")) {
		if (!once(s, seen, 1))
			return false;
		size_t i = 0;
		while (i <= vn && v != NULL) {
			size_t j = i;
			while (j < vn && v[j] != ',')
				j++;
			const char *w = v + i;
			size_t wn = j - i;
			if (kw(w, wn, "NEVER"))
				m->notify |= SMTP_NOTIFY_NEVER;
			else if (kw(w, wn, "SUCCESS"))
				m->notify |= SMTP_NOTIFY_SUCCESS;
			else if (kw(w, wn, "FAILURE"))
				m->notify |= SMTP_NOTIFY_FAILURE;
			else if (kw(w, wn, "DELAY"))
				m->notify |= SMTP_NOTIFY_DELAY;
			else
				break;
			i = j + 1;
		}
		if (v == NULL || i <= vn ||
		    ((m->notify & SMTP_NOTIFY_NEVER) &&
		     m->notify != SMTP_NOTIFY_NEVER)) {
			reply_err(s, "501 5.5.4 NOTIFY must be NEVER or a list "
				  "of SUCCESS, FAILURE, DELAY");
			return false;
		}
	} else if (kw(k, kn, "ORCPT")) {
		if (!once(s, seen, 2))
			return false;
		const char *semi = v ? memchr(v, ';', vn) : NULL;
		bool ok = semi != NULL && semi > v && vn <= 500;
		for (const char *p = v; ok && p < semi; p++)
			if (!isalnum((unsigned char)*p) && *p != '-')
				ok = false;
		if (ok && kw(v, (size_t)(semi - v), "rfc822"))
			ok = smtp_xtext_ok(semi + 1,
					   vn - (size_t)(semi + 1 - v)) &&
			     semi + 1 < v + vn;
		if (!ok) {
			reply_err(s, "501 5.5.4 Invalid ORCPT (addr-type;xtext)");
			return false;
		}
		m->orcpt = v;
		m->orcpt_len = vn;
	} else {
		reply_err(s, "555 5.5.4 Unsupported parameter %.*s",
			  (int)(kn > 32 ? 32 : kn), k);
		return false;
	}
	return true;
}

/* One policy route per transaction (cb->rcpt_route). */
static bool route_ok(struct smtp_session *s, const struct smtp_envelope *e)
{
	struct parsed *m = &s->pm;
	char addr[4096];  /* mbox_len < command_line_max <= 4096 */

	if (s->cb->rcpt_route == NULL || m->path.mbox_len >= sizeof addr)
		return true;
	memcpy(addr, m->path.mbox, m->path.mbox_len);
	addr[m->path.mbox_len] = '\0';
	m->route = s->cb->rcpt_route(s->ctx, e->mail_from, addr);
	if (m->route == NULL || s->txn->route == NULL ||
	    strcmp(m->route, s->txn->route) == 0)
		return true;
	logf_(s, "recipient in route %s, transaction in route %s", m->route,
	      s->txn->route);
	reply(s, "452 4.5.3 Recipient in another policy route, send it in a "
	      "separate transaction");
	return false;
}

static bool check_rcpt(struct smtp_session *s, const char *a, size_t n)
{
	struct parsed *m = &s->pm;
	const struct smtp_envelope *e = &s->txn->msg.env;
	size_t off, used;

	if (e->nrcpt >= s->cfg->max_recipients) {
		reply(s, "452 4.5.3 Too many recipients");
		return false;
	}
	memset(m, 0, sizeof *m);
	if (!prefix(a, n, "TO:", &off)) {
		reply_err(s, "501 5.5.4 Syntax: RCPT TO:<address>");
		return false;
	}
	if (smtp_parse_path(a + off, n - off, e->smtputf8, &m->path,
			    &used) != 0) {
		if (m->path.eightbit && !e->smtputf8)
			reply_err(s, "553 5.6.7 Non-ASCII address requires "
				  "SMTPUTF8");
		else
			reply_err(s, "501 5.1.3 Bad recipient address syntax");
		return false;
	}
	off += used;
	if (off < n && a[off] != ' ') {
		reply_err(s, "501 5.5.4 Syntax: RCPT TO:<address> "
			  "[parameters]");
		return false;
	}
	const struct smtp_path *p = &m->path;
	/* Forms that could make some later hop relay: never accepted. */
	const char *trick = p->route ? "source routes" :
		p->extra_at ? "a second '@'" :
		p->special ? "'%', '!' or quoted '@' in the local part" : NULL;
	if (trick != NULL) {
		logf_(s, "relay trick refused: %s", trick);
		reply_err(s, "554 5.7.1 Relay access denied: %s are not "
			  "accepted", trick);
		return false;
	}
	if (p->null) {
		reply_err(s, "501 5.1.3 Bad recipient address syntax");
		return false;
	}
	if (p->domain == NULL) {
		if (!kw(p->mbox, p->mbox_len, "postmaster")) {
			reply_err(s, "501 5.1.3 Recipient address needs a "
				  "domain");
			return false;
		}
	} else if ((p->literal || !smtp_domain_internal(
			    &s->cfg->internal_domains, p->domain,
			    p->domain_len)) &&
		   !smtp_cidr_match(&s->cfg->relay_networks, s->ip)) {
		logf_(s, "relay refused: %.*s", (int)p->domain_len,
		      p->domain);
		reply_err(s, "554 5.7.1 Relay access denied");
		return false;
	}
	if (!params(s, a + off, n - off, rcpt_param))
		return false;
	return route_ok(s, e);
}

static void do_rcpt(struct smtp_session *s, const char *a, size_t n)
{
	struct parsed *m = &s->pm;
	struct smtp_txn *t = s->txn;
	struct smtp_rcpt *r = smtp_txn_alloc(t, sizeof *r);
	if (r == NULL ||
	    (r->addr = smtp_txn_strdup(t, m->path.mbox,
				       m->path.mbox_len)) == NULL ||
	    (m->orcpt != NULL &&
	     (r->orcpt = smtp_txn_strdup(t, m->orcpt, m->orcpt_len)) == NULL)) {
		reply_err(s, "452 4.3.1 Insufficient system storage");
		return;
	}
	if (t->route == NULL && m->route != NULL &&
	    (t->route = smtp_txn_strdup(t, m->route,
					strlen(m->route))) == NULL) {
		reply_err(s, "452 4.3.1 Insufficient system storage");
		return;
	}
	if (m->orcpt == NULL)
		r->orcpt = NULL;
	r->notify = m->notify;
	r->next = NULL;
	if (t->rcpt_tail == NULL)
		t->msg.env.rcpt = r;
	else
		t->rcpt_tail->next = r;
	t->rcpt_tail = r;
	t->msg.env.nrcpt++;
	enter_state(s, ST_RCPT);
	reply(s, "250 2.1.5 Ok");
}

static bool no_arg(struct smtp_session *s, const char *a, size_t n,
		   const char *verb)
{
	if (n != 0) {
		reply_err(s, "501 5.5.4 Syntax: %s", verb);
		return false;
	}
	return true;
}

static bool check_data(struct smtp_session *s, const char *a, size_t n)
{
	return no_arg(s, a, n, "DATA");
}

static void do_data(struct smtp_session *s, const char *a, size_t n)
{
	smtp_body_begin(&s->body, s->cfg, s->txn, true);
	enter_state(s, ST_DATA);
	reply(s, "354 End data with <CR><LF>.<CR><LF>");
}

/* BDAT is allowed in every state here: its chunk must be read (and maybe
 * discarded) before the reply, whatever the verdict on the command. */
static bool check_bdat(struct smtp_session *s, const char *a, size_t n)
{
	struct parsed *m = &s->pm;
	size_t i = 0;
	uint64_t x = 0;

	memset(m, 0, sizeof *m);
	while (i < n && isdigit((unsigned char)a[i]) && i < 19)
		x = x * 10 + (uint64_t)(a[i++] - '0');
	bool ok = i > 0 && (i == n || a[i] == ' ');
	while (ok && i < n && a[i] == ' ')
		i++;
	if (ok && i < n) {
		if (kw(a + i, n - i, "LAST"))
			m->last = true;
		else
			ok = false;
	}
	if (!ok) {
		/* Without a count the chunk's end cannot be found. */
		close_421(s, "4.5.4", "BDAT syntax error: cannot find the "
			  "end of the chunk");
		return false;
	}
	if (x > s->cfg->max_message_size) {
		reply(s, "552 5.3.4 Chunk exceeds the message size limit");
		session_close(s);
		return false;
	}
	m->chunk = x;
	return true;
}

static void chunk_done(struct smtp_session *s);

static void do_bdat(struct smtp_session *s, const char *a, size_t n)
{
	struct parsed *m = &s->pm;
	s->chunk_left = m->chunk;
	s->chunk_last = m->last;
	s->chunk_store = false;
	s->chunk_err[0] = '\0';

	if (s->st == ST_CONNECTED)
		strcpy(s->chunk_err, "503 5.5.1 Send EHLO or HELO first");
	else if (s->st == ST_HELO)
		strcpy(s->chunk_err, "503 5.5.1 Need MAIL command");
	else if (s->st == ST_MAIL)
		strcpy(s->chunk_err, "503 5.5.1 Need RCPT command");
	else if (s->bdat_failed)
		strcpy(s->chunk_err, "503 5.5.1 Transaction failed by an "
		       "earlier BDAT: send RSET");
	else if (s->txn->body_size + m->chunk > s->cfg->max_message_size) {
		snprintf(s->chunk_err, sizeof s->chunk_err, "552 5.3.4 Message"
			 " size exceeds the limit of %llu bytes",
			 (unsigned long long)s->cfg->max_message_size);
		s->bdat_failed = true;
	} else {
		if (s->st == ST_RCPT) {
			smtp_body_begin(&s->body, s->cfg, s->txn, false);
			s->txn->msg.env.chunking = true;
		}
		s->chunk_store = true;
	}
	enter_state(s, ST_BDAT);
	if (s->chunk_left == 0)
		chunk_done(s);
}

static void chunk_done(struct smtp_session *s)
{
	if (!s->chunk_store) {
		/* back to where the command found us */
		enter_state(s, s->txn == NULL ? (s->helo[0] ? ST_HELO
							    : ST_CONNECTED)
			    : s->txn->msg.env.nrcpt == 0 ? ST_MAIL
			    : s->txn->msg.env.chunking ? ST_CHUNKING : ST_RCPT);
		reply_err(s, "%s", s->chunk_err);
		if (s->chunk_last && s->bdat_failed)
			txn_reset(s);
		return;
	}
	if (s->chunk_last) {
		smtp_body_end(&s->body);
		end_of_message(s);
		return;
	}
	enter_state(s, ST_CHUNKING);
	if (s->body.flags != 0) {
		body_error(s, s->body.flags);
		s->bdat_failed = true;
		return;
	}
	reply(s, "250 2.0.0 %llu octets received",
	      (unsigned long long)s->pm.chunk);
}

static void do_rset(struct smtp_session *s, const char *a, size_t n)
{
	txn_reset(s);
	reply(s, "250 2.0.0 Ok");
}

static bool junk(struct smtp_session *s, unsigned *count, unsigned max,
		 const char *what)
{
	if (++*count > max) {
		close_421(s, "4.7.0", what);
		return false;
	}
	return true;
}

static bool check_rset(struct smtp_session *s, const char *a, size_t n)
{
	return junk(s, &s->nrset, s->cfg->max_rset, "Too many RSET commands") &&
	       no_arg(s, a, n, "RSET");
}

static bool check_noop(struct smtp_session *s, const char *a, size_t n)
{
	return junk(s, &s->nnoop, s->cfg->max_noop, "Too many NOOP commands");
}

static void do_noop(struct smtp_session *s, const char *a, size_t n)
{
	reply(s, "250 2.0.0 Ok");
}

static void do_quit(struct smtp_session *s, const char *a, size_t n)
{
	reply(s, "221 2.0.0 %s Bye", s->cfg->hostname);
	session_close(s);
}

static void do_help(struct smtp_session *s, const char *a, size_t n)
{
	reply(s, "214-2.0.0 Commands: EHLO HELO MAIL RCPT DATA BDAT RSET\r\n"
	      "214 2.0.0 NOOP QUIT HELP VRFY EXPN");
}

static bool check_vrfy(struct smtp_session *s, const char *a, size_t n)
{
	if (!junk(s, &s->nvrfy, s->cfg->max_vrfy,
		  "Too many VRFY/EXPN commands"))
		return false;
	if (n == 0) {
		reply_err(s, "501 5.5.4 Syntax: VRFY address");
		return false;
	}
	return true;
}

static void do_vrfy(struct smtp_session *s, const char *a, size_t n)
{
	reply(s, "252 2.5.0 Cannot VRFY user, but will accept message and "
	      "attempt delivery");
}

static void do_expn(struct smtp_session *s, const char *a, size_t n)
{
	reply(s, "502 5.5.1 EXPN not available");
}

/* The command table (style.md item 11). */
static const struct cmd {
	const char *verb;
	unsigned states;      /* where allowed; else 503 */
	check_fn *check;      /* NULL: none; sends its own error reply */
	proceed_fn *proceed;
	const char *need;     /* the 503 text in a transaction state */
} cmds[] = {
	{"EHLO", ANY, check_helo, do_ehlo, NULL},
	{"HELO", ANY, check_helo, do_helo, NULL},
	{"MAIL", S(ST_HELO), check_mail, do_mail, "Nested MAIL command"},
	{"RCPT", S(ST_MAIL) | S(ST_RCPT), check_rcpt, do_rcpt,
	 "Need MAIL command"},
	{"DATA", S(ST_RCPT), check_data, do_data, "Need RCPT command"},
	{"BDAT", ANY, check_bdat, do_bdat, NULL},
	{"RSET", ANY, check_rset, do_rset, NULL},
	{"NOOP", ANY, check_noop, do_noop, NULL},
	{"QUIT", ANY, NULL, do_quit, NULL},
	{"HELP", ANY, NULL, do_help, NULL},
	{"VRFY", ANY, check_vrfy, do_vrfy, NULL},
	{"EXPN", ANY, check_vrfy, do_expn, NULL},
};

/* Known verbs we do not offer (STARTTLS comes with the TLS layer). */
static const char *const not_offered[] = {"STARTTLS", "AUTH", "ETRN",
	"TURN", "ATRN", "SEND", "SOML", "SAML", NULL};

/* Cross-protocol abuse (style.md item 12): HTTP and proxies. */
static const char *const forbidden[] = {"GET ", "POST ", "CONNECT",
	"User-Agent:", NULL};

static void sequence_error(struct smtp_session *s, const struct cmd *c)
{
	if (s->st == ST_CONNECTED)
		reply_err(s, "503 5.5.1 Send EHLO or HELO first");
	else if (s->st == ST_CHUNKING)
		reply_err(s, "503 5.5.1 %s not allowed during BDAT: send BDAT"
			  " or RSET", c->verb);
	else if (s->st == ST_HELO &&
		 (c->proceed == do_rcpt || c->proceed == do_data))
		reply_err(s, "503 5.5.1 Need MAIL command");
	else if (c->need != NULL && !(s->st == ST_HELO &&
				      c->proceed == do_mail))
		reply_err(s, "503 5.5.1 %s", c->need);
	else
		reply_err(s, "503 5.5.1 Bad sequence of commands");
}

static void command(struct smtp_session *s, const char *l, size_t n)
{
	size_t vn = 0;
	while (vn < n && l[vn] != ' ')
		vn++;
	const char *a = l + vn;
	size_t an = n - vn;
	while (an > 0 && a[0] == ' ')
		a++, an--;
	while (an > 0 && a[an - 1] == ' ')
		an--;

	s->ncommands++;
	if (s->draining && !kw(l, vn, "QUIT") &&
	    !(s->st == ST_CHUNKING && kw(l, vn, "BDAT"))) {
		drain_close(s);
		return;
	}
	for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
		const struct cmd *c = &cmds[i];
		if (!kw(l, vn, c->verb))
			continue;
		if (!(c->states & S(s->st))) {
			sequence_error(s, c);
			return;
		}
		if (c->check != NULL && !c->check(s, a, an))
			return;
		c->proceed(s, a, an);
		return;
	}
	for (size_t i = 0; not_offered[i]; i++)
		if (kw(l, vn, not_offered[i])) {
			if (junk(s, &s->nunknown, s->cfg->max_unknown,
				 "Too many unrecognized commands"))
				reply_err(s, "502 5.5.1 Command not "
					  "implemented");
			return;
		}
	if (junk(s, &s->nunknown, s->cfg->max_unknown,
		 "Too many unrecognized commands"))
		reply_err(s, "500 5.5.1 Command unrecognized");
}

/* A complete line in s->line (with its LF unless it overflowed). */
static void command_line(struct smtp_session *s)
{
	char *l = s->line;
	size_t n = s->linelen;

	for (size_t i = 0; forbidden[i]; i++) {
		size_t fl = strlen(forbidden[i]);
		if (n >= fl && strncasecmp(l, forbidden[i], fl) == 0) {
			close_421(s, "4.7.0", "Protocol error: not an SMTP "
				  "command");
			return;
		}
	}
	if (s->line_overflow) {
		reply_err(s, "500 5.5.2 Line too long (more than %u octets)",
			  s->cfg->command_line_max);
		return;
	}
	if (n < 2 || l[n - 2] != '\r') {
		reply_err(s, "500 5.5.2 Bare LF in a command: lines must end "
			  "with CRLF");
		return;
	}
	n -= 2;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)l[i] < 0x20 || l[i] == 0x7f) {
			reply_err(s, "500 5.5.2 Invalid character in a "
				  "command");
			return;
		}
	l[n] = '\0';
	command(s, l, n);
}

/* ---- Input -------------------------------------------------------------------- */

static size_t feed_line(struct smtp_session *s, const unsigned char *p,
			size_t n)
{
	const unsigned char *lf = memchr(p, '\n', n);
	size_t take = lf ? (size_t)(lf - p) + 1 : n;
	size_t max = s->cfg->command_line_max;

	if (s->linelen == 0 && !s->line_overflow)
		s->line_start = s->now;
	if (s->linelen + take > max) {
		/* keep the head (forbidden verbs), drop the rest */
		size_t k = max - s->linelen;
		memcpy(s->line + s->linelen, p, k);
		s->linelen += k;
		s->line_overflow = true;
	} else {
		memcpy(s->line + s->linelen, p, take);
		s->linelen += take;
	}
	if (lf != NULL) {
		command_line(s);
		s->linelen = 0;
		s->line_overflow = false;
	}
	return take;
}

static size_t feed_chunk(struct smtp_session *s, const unsigned char *p,
			 size_t n)
{
	bool done;
	size_t k = n < s->chunk_left ? n : (size_t)s->chunk_left;
	if (s->chunk_store)
		smtp_body_feed(&s->body, p, k, &done);
	s->chunk_left -= k;
	if (s->chunk_left == 0)
		chunk_done(s);
	return k;
}

static bool can_go(struct smtp_session *s)
{
	if (s->st == ST_VERDICT || s->st == ST_CLOSED || s->dead)
		return false;
	if (OUTBUF - s->outlen < ROOM_MIN) {
		flush(s);
		if (OUTBUF - s->outlen < ROOM_MIN)
			return false;
	}
	return !s->stalled;
}

size_t smtp_session_input(struct smtp_session *s, const void *data,
			  size_t len, uint64_t now_us)
{
	const unsigned char *p = data;
	size_t off = 0;

	if (s->st == ST_CLOSED || s->dead)
		return len;
	s->now = now_us;
	if (len == 0)
		return 0;
	if (s->st == ST_NEW || s->st == ST_GREET_WAIT) {
		logf_(s, "early talker: %zu bytes before the greeting", len);
		reply(s, "554 5.5.1 %s Protocol error: talking before the "
		      "greeting", s->cfg->hostname);
		session_close(s);
		return len;
	}
	while (off < len && can_go(s)) {
		size_t k;
		bool done = false;
		s->last_us = now_us;
		switch (s->st) {
		case ST_DATA:
			k = smtp_body_feed(&s->body, p + off, len - off, &done);
			if (done)
				end_of_message(s);
			break;
		case ST_BDAT:
			k = feed_chunk(s, p + off, len - off);
			break;
		default:
			k = feed_line(s, p + off, len - off);
			break;
		}
		off += k;
		s->bytes_in += k;
	}
	drain_check(s);  /* a transaction ended with an error reply */
	flush(s);
	maybe_close(s);
	if (s->st == ST_CLOSED || s->dead)
		return len;
	return off;
}

/* ---- Lifecycle ------------------------------------------------------------------ */

struct smtp_session *smtp_session_create(const struct smtp_config *cfg,
					 struct smtp_pool *pool,
					 uint32_t client_ip,
					 const struct smtp_callbacks *cb,
					 void *ctx)
{
	struct smtp_session *s = calloc(1, sizeof *s + cfg->command_line_max);
	if (s == NULL)
		return NULL;
	s->cfg = cfg;
	s->pool = pool;
	s->cb = cb;
	s->ctx = ctx;
	s->ip = client_ip;
	struct in_addr ia = {.s_addr = htonl(client_ip)};
	inet_ntop(AF_INET, &ia, s->addr, sizeof s->addr);
	s->st = ST_NEW;
	return s;
}

void smtp_session_free(struct smtp_session *s)
{
	if (s == NULL)
		return;
	if (!s->msg_out)  /* else detached: smtp_message_free() */
		smtp_txn_free(s->txn);
	free(s);
}

static void greet(struct smtp_session *s)
{
	enter_state(s, ST_CONNECTED);
	reply(s, "220 %s", s->cfg->banner);
	flush(s);
}

void smtp_session_start(struct smtp_session *s, enum smtp_admit admit,
			uint64_t now_us)
{
	const struct smtp_config *c = s->cfg;
	if (s->st != ST_NEW)
		return;
	s->now = s->last_us = now_us;
	if (smtp_cidr_match(&c->deny, s->ip) ||
	    (c->allow.n > 0 && !smtp_cidr_match(&c->allow, s->ip))) {
		logf_(s, "refused by connection control");
		reply(s, "554 5.7.1 %s Access denied", c->hostname);
		session_close(s);
		return;
	}
	if (s->draining) {
		drain_close(s);
		return;
	}
	if (admit != SMTP_ADMIT_OK) {
		close_421(s, "4.7.0",
			  admit == SMTP_ADMIT_TOO_MANY ? "Too many connections"
			  : admit == SMTP_ADMIT_RATE ?
				  "Too many connections from your address, "
				  "slow down" :
				  "Too many connections from your address");
		return;
	}
	if (c->greeting_delay_us > 0) {
		s->greet_at = now_us + c->greeting_delay_us;
		enter_state(s, ST_GREET_WAIT);
		return;
	}
	greet(s);
}

int smtp_session_verdict(struct smtp_session *s, int code,
			 const char *enhanced, const char *text,
			 uint64_t now_us)
{
	char t[TEXT_MAX + 1];
	size_t n = 0;

	if (!s->msg_out || code < 200 || code > 599 ||
	    (code >= 300 && code < 400))
		return -EINVAL;
	s->msg_out = false;
	if (s->st != ST_VERDICT) {  /* the transport failed meanwhile */
		smtp_txn_free(s->txn);
		s->txn = NULL;
		return 0;
	}
	for (const char *p = text ? text : ""; *p && n < TEXT_MAX; p++)
		t[n++] = (*p < 0x20 || *p > 0x7e) ? '?' : *p;
	t[n] = '\0';
	bool enh_ok = enhanced != NULL && enhanced[0] != '\0' &&
		      strlen(enhanced) < 16;
	for (const char *p = enh_ok ? enhanced : ""; *p; p++)
		if (!isdigit((unsigned char)*p) && *p != '.')
			enh_ok = false;
	s->now = s->last_us = now_us;
	logf_(s, "verdict %d %s", code, enh_ok ? enhanced : "");
	if (enh_ok)
		reply(s, "%d %s %s", code, enhanced, n ? t : "Ok");
	else
		reply(s, "%d %s", code, n ? t : "Ok");
	smtp_txn_free(s->txn);
	s->txn = NULL;
	enter_state(s, ST_HELO);
	if (code / 100 == 2)
		s->nnoop = s->nrset = 0;  /* junk is what comes without mail */
	if (code == 421) {
		session_close(s);
		return 0;
	}
	drain_check(s);
	flush(s);
	return 0;
}

void smtp_session_writable(struct smtp_session *s, uint64_t now_us)
{
	s->now = now_us;
	flush(s);
	drain_check(s);
	maybe_close(s);
}

void smtp_session_drain(struct smtp_session *s, uint64_t now_us)
{
	if (s->draining)
		return;
	s->draining = true;
	if (s->st == ST_NEW)
		return;  /* smtp_session_start() answers */
	s->now = now_us;
	drain_check(s);
}

uint64_t smtp_session_deadline(const struct smtp_session *s)
{
	const struct smtp_config *c = s->cfg;
	switch (s->st) {
	case ST_NEW:
	case ST_VERDICT:
	case ST_CLOSED:
		return UINT64_MAX;
	case ST_GREET_WAIT:
		return s->greet_at;
	case ST_DATA:
	case ST_BDAT:
		return s->last_us + c->command_timeout_us;
	default:
		if (s->linelen > 0 || s->line_overflow) {
			uint64_t a = s->line_start + c->command_timeout_us;
			uint64_t b = s->last_us + c->idle_timeout_us;
			return a < b ? a : b;
		}
		return s->last_us + c->idle_timeout_us;
	}
}

void smtp_session_tick(struct smtp_session *s, uint64_t now_us)
{
	s->now = now_us;
	if (now_us < smtp_session_deadline(s))
		return;
	if (s->st == ST_GREET_WAIT) {
		s->last_us = now_us;
		greet(s);
		return;
	}
	logf_(s, "timeout in state %s", st_names[s->st]);
	if (s->txn != NULL)
		txn_reset(s);
	close_421(s, "4.4.2", "Error: timeout exceeded");
}

bool smtp_session_wants_input(const struct smtp_session *s)
{
	return s->st != ST_NEW && s->st != ST_VERDICT && s->st != ST_CLOSED && !s->stalled &&
	       !s->dead;
}

bool smtp_session_busy(const struct smtp_session *s)
{
	return s->msg_out;
}

bool smtp_session_closed(const struct smtp_session *s)
{
	return s->st == ST_CLOSED || s->dead;
}

void smtp_session_stats(const struct smtp_session *s,
			struct smtp_session_stats *out)
{
	out->messages = s->nmessages;
	out->commands = s->ncommands;
	out->errors = s->nerrors;
	out->bytes_in = s->bytes_in;
	out->bytes_out = s->bytes_out;
}

const char *smtp_session_state_name(const struct smtp_session *s)
{
	return st_names[s->st];
}
