/*
 * tests/integration/smtp/dialog.c - runs scripted SMTP dialogs
 * (tests/integration/smtp/NN-name.dialog) against smtp/server.h in-process, with
 * a fake transport (input held back while the session does not take it,
 * as a TCP receive queue would) and a fake gateway (verdicts). Prints
 * "PASS dialog NAME" or "FAIL dialog NAME: FILE:LINE: why" per file, then
 * "N passed, N failed"; exit status 1 when any failed.
 *
 * Usage: dialog DIR|FILE...
 *
 * Dialog lines (one per line; '#' starts a comment line):
 *   C: text       send "text" CRLF (one write)
 *   C- text       send "text" without CRLF
 *   C> text       send text with escapes \r \n \t \0 \\ \xNN, nothing added
 *   P: text       add "text" CRLF to a pipelined batch (P> likewise raw);
 *                 the batch goes out in ONE write before the next other line
 *   S: prefix     the next reply line starts with prefix
 *   S~ regex      the next reply line matches the POSIX extended regex
 *   @config KEY: VALUE   a line of the smtp: section (before any C:)
 *   @top KEY: VALUE      a top-level config line (before any C:)
 *   @client A.B.C.D      client address (default 198.18.0.2)
 *   @admit ok|too-many|too-many-from-you|rate
 *   @nostart             do not start the session (then @start)
 *   @start
 *   @verdict CODE ENH TEXT   verdict for the following messages
 *                        (default 250 2.0.0 Ok: queued as <queue id>)
 *   @handoff refuse|accept   message() refuses (ring full) or takes it
 *   @hold                messages wait for @release (default: answered
 *                        right after the input that completed them)
 *   @release             give the held message its verdict, re-feed input
 *   @queued N            N bytes of input are held back by the session
 *   @advance DURATION    advance the clock ("10m", "301s", "1500ms") and
 *                        tick when the session's deadline has passed
 *   @repeat N LINE       run LINE (any of the above) N times
 *   @long N PREFIX       send PREFIX padded with 'x' to N octets incl CRLF
 *   @fill N              send N octets of message text in 78-char lines
 *   @messages N          N messages handed up so far
 *   @msg KEY VALUE       the last message handed up: from, helo, size,
 *                        body, smtputf8, ret, envid, nrcpt, chunking,
 *                        rcptI, notifyI, orcptI (I from 0), received-count,
 *                        contains (escaped text), starts (escaped text)
 *   @route DOMAIN NAME   the gateway's policy route for recipients in
 *                        DOMAIN is NAME (others: "default"); without
 *                        @route lines the session gets no rcpt_route
 *   @routes N            rcpt_route was asked N times so far
 *   @drain               the gateway starts shutting down
 *                        (smtp_session_drain)
 *   @closed / @open      the session asked to close / did not
 *   @silent              no reply line is waiting
 * At the end every reply line must have been matched by an S: line.
 */
#include "smtp/config.h"
#include "smtp/server.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <regex.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define BUF (1u << 20)

struct msgrec {
	char from[600], helo[300], envid[200];
	uint64_t size;
	int body, ret;
	bool smtputf8, chunking;
	unsigned nrcpt, received_count;
	char rcpt[8][600], orcpt[8][600];
	unsigned notify[8];
	char *data;
	uint64_t datalen;
};

struct run {
	const char *file;
	unsigned line;
	char why[512];
	bool failed;

	char yaml_smtp[4096], yaml_top[2048];
	struct smtp_config cfg;
	bool cfg_loaded;
	struct smtp_pool *pool;
	struct smtp_session *s;
	uint32_t ip;
	enum smtp_admit admit;
	bool nostart, started;
	uint64_t now;

	char *in;               /* input held back (TCP receive queue) */
	size_t inlen;
	char *batch;
	size_t batchlen;
	char *out;              /* replies not yet matched */
	size_t outlen;
	bool closed;

	int v_code;
	char v_enh[32], v_text[256];
	bool hold, refuse;
	bool pending;           /* a message waits for its verdict */
	const struct smtp_message *msg;
	unsigned nmsg;
	struct msgrec last;
	char qid[32];
	unsigned qseq;
	struct smtp_callbacks cbs;
	char route_dom[8][64], route_name[8][64];
	unsigned nroutes, route_calls;
};

static void fail(struct run *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void fail(struct run *r, const char *fmt, ...)
{
	va_list ap;
	if (r->failed)
		return;
	r->failed = true;
	int n = snprintf(r->why, sizeof r->why, "%s:%u: ", r->file, r->line);
	va_start(ap, fmt);
	vsnprintf(r->why + n, sizeof r->why - (size_t)n, fmt, ap);
	va_end(ap);
}

/* ---- the fake transport and gateway ---- */

static long t_send(void *ctx, const void *buf, size_t len)
{
	struct run *r = ctx;
	if (r->outlen + len > BUF) {
		fail(r, "more than %u bytes of replies unread", BUF);
		return -EIO;
	}
	memcpy(r->out + r->outlen, buf, len);
	r->outlen += len;
	return (long)len;
}

static void t_close(void *ctx)
{
	struct run *r = ctx;
	if (r->closed)
		fail(r, "close() called twice");
	r->closed = true;
}

static void t_qid(void *ctx, char *buf, size_t size)
{
	struct run *r = ctx;
	snprintf(r->qid, sizeof r->qid, "Q%05u", ++r->qseq);
	snprintf(buf, size, "%s", r->qid);
}

static int64_t t_wall(void *ctx)
{
	return 1700000000;
}

static int t_message(void *ctx, const struct smtp_message *m)
{
	struct run *r = ctx;
	struct msgrec *c = &r->last;
	if (r->refuse)
		return -ENOBUFS;
	r->nmsg++;
	free(c->data);
	memset(c, 0, sizeof *c);
	snprintf(c->from, sizeof c->from, "%s", m->env.mail_from);
	snprintf(c->helo, sizeof c->helo, "%s", m->env.helo);
	snprintf(c->envid, sizeof c->envid, "%s",
		 m->env.envid ? m->env.envid : "");
	c->size = m->env.size;
	c->body = m->env.body;
	c->ret = m->env.ret;
	c->smtputf8 = m->env.smtputf8;
	c->chunking = m->env.chunking;
	c->nrcpt = m->env.nrcpt;
	c->received_count = m->received_count;
	unsigned i = 0;
	for (const struct smtp_rcpt *p = m->env.rcpt; p && i < 8;
	     p = p->next, i++) {
		snprintf(c->rcpt[i], sizeof c->rcpt[i], "%s", p->addr);
		snprintf(c->orcpt[i], sizeof c->orcpt[i], "%s",
			 p->orcpt ? p->orcpt : "");
		c->notify[i] = p->notify;
	}
	c->data = malloc((size_t)m->size + 1);
	c->datalen = smtp_message_copy(m, c->data, m->size);
	c->data[c->datalen] = '\0';
	r->msg = m;
	r->pending = true;
	return 0;
}

static const char *t_route(void *ctx, const char *from, const char *rcpt)
{
	struct run *r = ctx;
	const char *at = strrchr(rcpt, '@');
	r->route_calls++;
	for (unsigned i = 0; at != NULL && i < r->nroutes; i++)
		if (strcasecmp(at + 1, r->route_dom[i]) == 0)
			return r->route_name[i];
	return "default";
}

static const struct smtp_callbacks cbs = {
	.send = t_send, .close = t_close, .message = t_message,
	.queue_id = t_qid, .wallclock = t_wall,
};

/* ---- driving the session ---- */

static void verdict(struct run *r);

/* Feed held input while the session takes it; answer messages unless
 * @hold. */
static void pump(struct run *r)
{
	for (;;) {
		while (r->inlen > 0 && smtp_session_wants_input(r->s)) {
			size_t k = smtp_session_input(r->s, r->in, r->inlen,
						      r->now);
			if (k > r->inlen) {
				fail(r, "input() took %zu of %zu bytes", k,
				     r->inlen);
				k = r->inlen;
			}
			memmove(r->in, r->in + k, r->inlen - k);
			r->inlen -= k;
			if (k == 0)
				break;
		}
		if (r->pending && !r->hold) {
			verdict(r);
			continue;
		}
		break;
	}
	if (smtp_session_closed(r->s))
		r->inlen = 0;   /* the connection is gone */
}

static void verdict(struct run *r)
{
	char text[300];
	r->pending = false;
	if (r->v_code == 0)
		snprintf(text, sizeof text, "Ok: queued as %s", r->qid);
	else
		snprintf(text, sizeof text, "%s", r->v_text);
	int rc = smtp_session_verdict(r->s, r->v_code ? r->v_code : 250,
				      r->v_code ? r->v_enh : "2.0.0", text,
				      r->now);
	if (rc != 0)
		fail(r, "smtp_session_verdict() = %d", rc);
}

static bool setup(struct run *r)
{
	char yaml[8192], err[512];
	struct conf_doc *doc;
	if (r->cfg_loaded)
		return true;
	snprintf(yaml, sizeof yaml,
		 "internal_domains: [example.net, \"*.example.net\"]\n%s"
		 "smtp:\n  hostname: mx.example.net\n"
		 "  relay_networks: [10.0.0.0/8]\n"
		 "  deny: [192.0.2.0/24]\n%s", r->yaml_top, r->yaml_smtp);
	if (conf_load_string("dialog.conf", yaml, strlen(yaml), &doc, err,
			     sizeof err) != 0 ||
	    smtp_config_load(doc, &r->cfg, err, sizeof err) != 0) {
		fail(r, "config: %s", err);
		return false;
	}
	conf_free(doc);
	r->cfg_loaded = true;
	r->pool = smtp_pool_create(r->cfg.buffer_memory);
	r->cbs = cbs;
	if (r->nroutes > 0)
		r->cbs.rcpt_route = t_route;
	r->s = smtp_session_create(&r->cfg, r->pool, r->ip, &r->cbs, r);
	if (r->pool == NULL || r->s == NULL) {
		fail(r, "out of memory");
		return false;
	}
	if (!r->nostart) {
		smtp_session_start(r->s, r->admit, r->now);
		r->started = true;
	}
	return true;
}

static void send_bytes(struct run *r, const char *p, size_t n)
{
	if (!setup(r))
		return;
	if (r->inlen + n > BUF) {
		fail(r, "input too large");
		return;
	}
	memcpy(r->in + r->inlen, p, n);
	r->inlen += n;
	if (!r->started) {
		/* before the greeting: the caller reports it at once */
		size_t k = smtp_session_input(r->s, r->in, r->inlen, r->now);
		memmove(r->in, r->in + k, r->inlen - k);
		r->inlen -= k;
		return;
	}
	pump(r);
}

static void flush_batch(struct run *r)
{
	if (r->batchlen == 0)
		return;
	size_t n = r->batchlen;
	r->batchlen = 0;
	send_bytes(r, r->batch, n);
}

/* \r \n \t \0 \\ \xNN */
static size_t unescape(const char *s, char *out)
{
	size_t n = 0;
	while (*s) {
		if (*s != '\\' || s[1] == '\0') {
			out[n++] = *s++;
			continue;
		}
		s++;
		switch (*s) {
		case 'r': out[n++] = '\r'; s++; break;
		case 'n': out[n++] = '\n'; s++; break;
		case 't': out[n++] = '\t'; s++; break;
		case '0': out[n++] = '\0'; s++; break;
		case 'x': {
			unsigned v = 0;
			sscanf(s + 1, "%2x", &v);
			out[n++] = (char)v;
			s += 3;
			break;
		}
		default: out[n++] = *s++; break;
		}
	}
	return n;
}

/* The next complete reply line (without CRLF) into buf; false if none. */
static bool next_reply(struct run *r, char *buf, size_t size)
{
	char *crlf = memmem(r->out, r->outlen, "\r\n", 2);
	if (crlf == NULL)
		return false;
	size_t n = (size_t)(crlf - r->out);
	size_t k = n < size - 1 ? n : size - 1;
	memcpy(buf, r->out, k);
	buf[k] = '\0';
	memmove(r->out, crlf + 2, r->outlen - n - 2);
	r->outlen -= n + 2;
	return true;
}

static int parse_dur_ms(const char *s, uint64_t *ms)
{
	char *end;
	double v = strtod(s, &end);
	if (end == s)
		return -1;
	if (strcmp(end, "ms") == 0)
		*ms = (uint64_t)v;
	else if (strcmp(end, "s") == 0)
		*ms = (uint64_t)(v * 1000);
	else if (strcmp(end, "m") == 0)
		*ms = (uint64_t)(v * 60000);
	else
		return -1;
	return 0;
}

static void check_msg(struct run *r, const char *key, const char *val)
{
	struct msgrec *c = &r->last;
	char got[700];
	char buf[4096];
	unsigned i;
	if (r->nmsg == 0) {
		fail(r, "@msg: no message was handed up");
		return;
	}
	if (strcmp(key, "contains") == 0 || strcmp(key, "starts") == 0) {
		size_t n = unescape(val, buf);
		bool ok = strcmp(key, "starts") == 0
			? c->datalen >= n && memcmp(c->data, buf, n) == 0
			: memmem(c->data, c->datalen, buf, n) != NULL;
		if (!ok)
			fail(r, "message does not %s '%s'; it is:\n%s", key,
			     val, c->data);
		return;
	}
	if (strcmp(key, "from") == 0)
		snprintf(got, sizeof got, "%s", c->from);
	else if (strcmp(key, "helo") == 0)
		snprintf(got, sizeof got, "%s", c->helo);
	else if (strcmp(key, "envid") == 0)
		snprintf(got, sizeof got, "%s", c->envid);
	else if (strcmp(key, "size") == 0)
		snprintf(got, sizeof got, "%llu", (unsigned long long)c->size);
	else if (strcmp(key, "body") == 0)
		snprintf(got, sizeof got, "%s", c->body == SMTP_BODY_7BIT ?
			 "7BIT" : c->body == SMTP_BODY_8BITMIME ? "8BITMIME" :
			 "none");
	else if (strcmp(key, "ret") == 0)
		snprintf(got, sizeof got, "%s", c->ret == SMTP_RET_FULL ?
			 "FULL" : c->ret == SMTP_RET_HDRS ? "HDRS" : "none");
	else if (strcmp(key, "smtputf8") == 0)
		snprintf(got, sizeof got, "%s", c->smtputf8 ? "yes" : "no");
	else if (strcmp(key, "chunking") == 0)
		snprintf(got, sizeof got, "%s", c->chunking ? "yes" : "no");
	else if (strcmp(key, "nrcpt") == 0)
		snprintf(got, sizeof got, "%u", c->nrcpt);
	else if (strcmp(key, "received-count") == 0)
		snprintf(got, sizeof got, "%u", c->received_count);
	else if (sscanf(key, "rcpt%u", &i) == 1 && i < 8)
		snprintf(got, sizeof got, "%s", c->rcpt[i]);
	else if (sscanf(key, "orcpt%u", &i) == 1 && i < 8)
		snprintf(got, sizeof got, "%s", c->orcpt[i]);
	else if (sscanf(key, "notify%u", &i) == 1 && i < 8)
		snprintf(got, sizeof got, "%s%s%s%s",
			 c->notify[i] & SMTP_NOTIFY_NEVER ? "N" : "",
			 c->notify[i] & SMTP_NOTIFY_SUCCESS ? "S" : "",
			 c->notify[i] & SMTP_NOTIFY_FAILURE ? "F" : "",
			 c->notify[i] & SMTP_NOTIFY_DELAY ? "D" : "");
	else {
		fail(r, "@msg: unknown key '%s'", key);
		return;
	}
	if (strcmp(got, val) != 0)
		fail(r, "@msg %s: got '%s', want '%s'", key, got, val);
}

static void step(struct run *r, char *l);

static void directive(struct run *r, char *l)
{
	char *arg = strchr(l, ' ');
	if (arg != NULL)
		*arg++ = '\0';
	else
		arg = l + strlen(l);
	if (strcmp(l, "@config") == 0 || strcmp(l, "@top") == 0) {
		char *dst = l[1] == 'c' ? r->yaml_smtp : r->yaml_top;
		size_t cap = l[1] == 'c' ? sizeof r->yaml_smtp
					 : sizeof r->yaml_top;
		if (r->cfg_loaded) {
			fail(r, "%s after the session started", l);
			return;
		}
		size_t n = strlen(dst);
		snprintf(dst + n, cap - n, "%s%s\n", l[1] == 'c' ? "  " : "",
			 arg);
	} else if (strcmp(l, "@client") == 0) {
		struct in_addr a;
		if (inet_pton(AF_INET, arg, &a) != 1)
			fail(r, "bad address '%s'", arg);
		r->ip = ntohl(a.s_addr);
	} else if (strcmp(l, "@admit") == 0) {
		r->admit = strcmp(arg, "too-many") == 0 ? SMTP_ADMIT_TOO_MANY
			: strcmp(arg, "too-many-from-you") == 0
				? SMTP_ADMIT_TOO_MANY_FROM_YOU
			: strcmp(arg, "rate") == 0 ? SMTP_ADMIT_RATE
						   : SMTP_ADMIT_OK;
	} else if (strcmp(l, "@nostart") == 0) {
		r->nostart = true;
	} else if (strcmp(l, "@start") == 0) {
		if (setup(r) && !r->started) {
			smtp_session_start(r->s, r->admit, r->now);
			r->started = true;
			pump(r);
		}
	} else if (strcmp(l, "@verdict") == 0) {
		char enh[32] = "";
		int n = 0;
		if (sscanf(arg, "%d %31s %n", &r->v_code, enh, &n) < 2) {
			fail(r, "@verdict CODE ENH TEXT");
			return;
		}
		snprintf(r->v_enh, sizeof r->v_enh, "%s", enh);
		snprintf(r->v_text, sizeof r->v_text, "%s", arg + n);
	} else if (strcmp(l, "@handoff") == 0) {
		r->refuse = strcmp(arg, "refuse") == 0;
	} else if (strcmp(l, "@hold") == 0) {
		r->hold = true;
	} else if (strcmp(l, "@release") == 0) {
		if (!r->pending) {
			fail(r, "@release: no message is waiting");
			return;
		}
		r->hold = false;
		pump(r);
		r->hold = true;
	} else if (strcmp(l, "@queued") == 0) {
		if (r->inlen != strtoul(arg, NULL, 10))
			fail(r, "@queued: %zu bytes held, want %s", r->inlen,
			     arg);
	} else if (strcmp(l, "@advance") == 0) {
		uint64_t ms;
		if (parse_dur_ms(arg, &ms) != 0) {
			fail(r, "@advance: bad duration '%s'", arg);
			return;
		}
		if (!setup(r))
			return;
		r->now += ms * 1000;
		if (r->now >= smtp_session_deadline(r->s))
			smtp_session_tick(r->s, r->now);
		pump(r);
	} else if (strcmp(l, "@repeat") == 0) {
		char *rest;
		unsigned long n = strtoul(arg, &rest, 10);
		while (*rest == ' ')
			rest++;
		char copy[2048];
		for (unsigned long i = 0; i < n && !r->failed; i++) {
			snprintf(copy, sizeof copy, "%s", rest);
			step(r, copy);
		}
	} else if (strcmp(l, "@long") == 0) {
		char *rest;
		unsigned long n = strtoul(arg, &rest, 10);
		while (*rest == ' ')
			rest++;
		char *b = malloc(n + 1);
		size_t pl = strlen(rest);
		if (n < pl + 2) {
			fail(r, "@long: N too small");
			free(b);
			return;
		}
		memcpy(b, rest, pl);
		memset(b + pl, 'x', n - pl - 2);
		memcpy(b + n - 2, "\r\n", 2);
		flush_batch(r);
		send_bytes(r, b, n);
		free(b);
	} else if (strcmp(l, "@fill") == 0) {
		unsigned long n = strtoul(arg, NULL, 10);
		char *b = malloc(n + 80);
		size_t k = 0;
		while (k < n) {
			size_t line = n - k >= 80 ? 78 : n - k - 2;
			if (n - k < 2)
				line = 0;
			memset(b + k, 'f', line);
			memcpy(b + k + line, "\r\n", 2);
			k += line + 2;
		}
		flush_batch(r);
		send_bytes(r, b, k);
		free(b);
	} else if (strcmp(l, "@messages") == 0) {
		if (r->nmsg != strtoul(arg, NULL, 10))
			fail(r, "@messages: %u handed up, want %s", r->nmsg,
			     arg);
	} else if (strcmp(l, "@msg") == 0) {
		char *val = strchr(arg, ' ');
		if (val == NULL) {
			fail(r, "@msg KEY VALUE");
			return;
		}
		*val++ = '\0';
		check_msg(r, arg, val);
	} else if (strcmp(l, "@route") == 0) {
		if (r->cfg_loaded || r->nroutes == 8 ||
		    sscanf(arg, "%63s %63s", r->route_dom[r->nroutes],
			   r->route_name[r->nroutes]) != 2) {
			fail(r, "@route DOMAIN NAME (at most 8, before any C:)");
			return;
		}
		r->nroutes++;
	} else if (strcmp(l, "@routes") == 0) {
		if (r->route_calls != strtoul(arg, NULL, 10))
			fail(r, "@routes: asked %u times, want %s",
			     r->route_calls, arg);
	} else if (strcmp(l, "@drain") == 0) {
		if (!setup(r))
			return;
		smtp_session_drain(r->s, r->now);
		pump(r);
	} else if (strcmp(l, "@closed") == 0) {
		if (!r->closed)
			fail(r, "the session did not close (state %s)",
			     r->s ? smtp_session_state_name(r->s) : "none");
	} else if (strcmp(l, "@open") == 0) {
		if (r->closed)
			fail(r, "the session closed");
	} else if (strcmp(l, "@silent") == 0) {
		if (r->outlen > 0)
			fail(r, "unexpected reply: %.*s", (int)r->outlen,
			     r->out);
	} else {
		fail(r, "unknown directive %s", l);
	}
}

static void step(struct run *r, char *l)
{
	char buf[8192];
	size_t n;

	if (l[1] != '\0' && l[2] == '\0' && (l[0] == 'C' || l[0] == 'P'))
		l[3] = '\0';   /* "C:" alone: an empty line (buffer has room) */
	if (l[0] == 'P' && (l[1] == ':' || l[1] == '>') &&
	    (l[2] == ' ' || l[2] == '\0')) {
		n = l[1] == ':' ? (size_t)snprintf(buf, sizeof buf, "%s\r\n",
						   l + 3)
				: unescape(l + 3, buf);
		if (r->batchlen + n > BUF) {
			fail(r, "batch too large");
			return;
		}
		memcpy(r->batch + r->batchlen, buf, n);
		r->batchlen += n;
		return;
	}
	flush_batch(r);
	if (l[0] == 'C' && (l[2] == ' ' || l[2] == '\0') &&
	    (l[1] == ':' || l[1] == '-' || l[1] == '>')) {
		if (l[1] == ':')
			n = (size_t)snprintf(buf, sizeof buf, "%s\r\n", l + 3);
		else if (l[1] == '-')
			n = (size_t)snprintf(buf, sizeof buf, "%s", l + 3);
		else
			n = unescape(l + 3, buf);
		send_bytes(r, buf, n);
	} else if (l[0] == 'S' && (l[1] == ':' || l[1] == '~') &&
		   l[2] == ' ') {
		if (!setup(r))
			return;
		if (!next_reply(r, buf, sizeof buf)) {
			fail(r, "expected '%s', got no reply", l + 3);
			return;
		}
		if (l[1] == ':') {
			if (strncmp(buf, l + 3, strlen(l + 3)) != 0)
				fail(r, "expected '%s', got '%s'", l + 3, buf);
		} else {
			regex_t re;
			if (regcomp(&re, l + 3, REG_EXTENDED | REG_NOSUB)) {
				fail(r, "bad regex '%s'", l + 3);
				return;
			}
			if (regexec(&re, buf, 0, NULL, 0) != 0)
				fail(r, "expected /%s/, got '%s'", l + 3, buf);
			regfree(&re);
		}
	} else if (l[0] == '@') {
		directive(r, l);
	} else {
		fail(r, "cannot read line '%s'", l);
	}
}

static bool run_file(const char *path)
{
	struct run *r = calloc(1, sizeof *r);
	FILE *f = fopen(path, "r");
	char line[8192];
	bool ok;

	r->file = path;
	r->ip = 0xc6120002u;   /* 198.18.0.2 */
	r->now = 1000000;
	r->in = malloc(BUF);
	r->batch = malloc(BUF);
	r->out = malloc(BUF);
	if (f == NULL) {
		fail(r, "cannot open: %s", strerror(errno));
	} else {
		while (!r->failed && fgets(line, sizeof line, f) != NULL) {
			r->line++;
			size_t n = strlen(line);
			while (n > 0 && (line[n - 1] == '\n' ||
					 line[n - 1] == '\r'))
				line[--n] = '\0';
			if (n == 0 || line[0] == '#')
				continue;
			step(r, line);
		}
		fclose(f);
		r->line++;
		if (!r->failed) {
			flush_batch(r);
			setup(r);
		}
		if (!r->failed && r->outlen > 0)
			fail(r, "replies nobody expected: %.*s",
			     (int)r->outlen, r->out);
	}
	if (r->s != NULL) {
		smtp_session_free(r->s);
		if (r->pending)
			smtp_message_free(r->msg);
	}
	if (r->pool != NULL && smtp_pool_in_use(r->pool) != 0 && !r->failed)
		fail(r, "%llu bytes of message buffers not released",
		     (unsigned long long)smtp_pool_in_use(r->pool));
	smtp_pool_free(r->pool);
	smtp_config_fini(&r->cfg);
	const char *name = strrchr(path, '/');
	name = name ? name + 1 : path;
	if (r->failed)
		printf("FAIL dialog %s: %s\n", name, r->why);
	else
		printf("PASS dialog %s\n", name);
	ok = !r->failed;
	free(r->last.data);
	free(r->in);
	free(r->batch);
	free(r->out);
	free(r);
	return ok;
}

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
	char *files[1024];
	size_t nf = 0;
	int passed = 0, failed = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: dialog DIR|FILE...\n");
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		DIR *d = opendir(argv[i]);
		if (d == NULL) {
			if (nf < 1024)
				files[nf++] = strdup(argv[i]);
			continue;
		}
		struct dirent *e;
		while ((e = readdir(d)) != NULL) {
			size_t n = strlen(e->d_name);
			if (n > 7 && strcmp(e->d_name + n - 7, ".dialog") == 0 &&
			    nf < 1024) {
				char p[4096];
				snprintf(p, sizeof p, "%s/%s", argv[i],
					 e->d_name);
				files[nf++] = strdup(p);
			}
		}
		closedir(d);
	}
	qsort(files, nf, sizeof files[0], cmp);
	for (size_t i = 0; i < nf; i++) {
		if (run_file(files[i]))
			passed++;
		else
			failed++;
		free(files[i]);
		fflush(stdout);
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed == 0 && passed > 0 ? 0 : 1;
}
