/*
 * tests/unit/smtp_fake.h - a fake transport and gateway for smtp/server.h
 * tests (unit tests, the dialog runner, the fuzz target): records what the
 * session sends, whether it closed, the messages handed up.
 */
#ifndef SLUICE_TESTS_SMTP_FAKE_H
#define SLUICE_TESTS_SMTP_FAKE_H

#include "smtp/server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FAKE_OUT 65536

struct fake {
	char out[FAKE_OUT];     /* everything sent, NUL-terminated */
	size_t outlen;
	unsigned sends;         /* send() calls */
	long send_room;         /* < 0: unlimited; else bytes taken next */
	bool send_fail;         /* send() returns -EPIPE */
	bool closed;
	unsigned closes;
	int handoff_rc;         /* message() returns this */
	unsigned nmsg;          /* messages handed up */
	const struct smtp_message *msg;  /* the last one */
	char *data;             /* copy of the last message's bytes */
	uint64_t datalen;
	struct smtp_envelope env;
	char from[512], rcpt0[512];
	unsigned nrcpt;
	const char *qid;        /* queue_id() gives this when not NULL */
	char log[8192];
	struct smtp_session *s;
	bool sync_verdict;      /* answer inside message() */
	int v_code;
	const char *v_enh, *v_text;
	bool storage_full;      /* storage_ok() says no */
};

static long fake_send(void *ctx, const void *buf, size_t len)
{
	struct fake *f = ctx;
	size_t k = len;
	if (f->send_fail)
		return -32;   /* -EPIPE */
	if (f->send_room >= 0 && (size_t)f->send_room < k)
		k = (size_t)f->send_room;
	if (f->send_room >= 0)
		f->send_room -= (long)k;
	if (f->outlen + k >= FAKE_OUT)
		k = FAKE_OUT - 1 - f->outlen;
	memcpy(f->out + f->outlen, buf, k);
	f->outlen += k;
	f->out[f->outlen] = '\0';
	f->sends++;
	return (long)k;
}

static void fake_close(void *ctx)
{
	struct fake *f = ctx;
	f->closed = true;
	f->closes++;
}

static int fake_message(void *ctx, const struct smtp_message *m)
{
	struct fake *f = ctx;
	f->nmsg++;
	f->msg = m;
	free(f->data);
	f->data = malloc((size_t)m->size + 1);
	f->datalen = smtp_message_copy(m, f->data, m->size);
	f->data[f->datalen] = '\0';
	f->env = m->env;
	snprintf(f->from, sizeof f->from, "%s", m->env.mail_from);
	snprintf(f->rcpt0, sizeof f->rcpt0, "%s", m->env.rcpt->addr);
	f->nrcpt = 0;
	for (const struct smtp_rcpt *r = m->env.rcpt; r; r = r->next)
		f->nrcpt++;
	if (f->handoff_rc == 0 && f->sync_verdict)
		smtp_session_verdict(f->s, f->v_code, f->v_enh, f->v_text, 0);
	return f->handoff_rc;
}

static void fake_qid(void *ctx, char *buf, size_t size)
{
	struct fake *f = ctx;
	if (f->qid != NULL)
		snprintf(buf, size, "%s", f->qid);
}

static int64_t fake_wall(void *ctx)
{
	return 1700000000;  /* Tue, 14 Nov 2023 22:13:20 +0000 */
}

static void fake_log(void *ctx, const char *line)
{
	struct fake *f = ctx;
	size_t n = strlen(f->log);
	snprintf(f->log + n, sizeof f->log - n, "%s\n", line);
}

static bool fake_storage_ok(void *ctx)
{
	struct fake *f = ctx;
	return !f->storage_full;
}

static const struct smtp_callbacks fake_cb = {
	.send = fake_send, .close = fake_close, .message = fake_message,
	.queue_id = fake_qid, .wallclock = fake_wall, .log = fake_log,
	.storage_ok = fake_storage_ok,
};

static void fake_init(struct fake *f)
{
	free(f->data);
	memset(f, 0, sizeof *f);
	f->send_room = -1;
}

static void fake_fini(struct fake *f)
{
	free(f->data);
	f->data = NULL;
}

/* Forget what was sent so far. */
static void fake_clear(struct fake *f)
{
	f->outlen = 0;
	f->out[0] = '\0';
	f->sends = 0;
}

#endif
