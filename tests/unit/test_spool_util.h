/* tests/unit/test_spool_util.h - shared by the spool tests: a sample
 * message with every field set, a field-by-field comparison, temp dirs. */
#ifndef SLUICE_TESTS_SPOOL_UTIL_H
#define SLUICE_TESTS_SPOOL_UTIL_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "spool/spool_rec.h"

static const struct spool_rcpt su_rcpts[] = {
	{"alice@example.net", SPOOL_NOTIFY_SUCCESS | SPOOL_NOTIFY_FAILURE,
	 "rfc822;alice@example.net"},
	{"b\xc3\xb6rje@example.net", 0, ""},
	{"carol@example.net", SPOOL_NOTIFY_NEVER, "utf-8;carol@example.net"},
};
static const char *const su_findings[] = {
	"virus part=2 Eicar-Test-Signature (attachment, offset 0..68)",
	"attachment part=3 blocked extension .exe",
};
static const char *const su_actions[] = {
	"notify admin virus-found",
	"tag-subject [SUSPECT]",
};

/* A message of `len` body bytes; `compressible` picks text or noise. */
static inline uint8_t *su_body(size_t len, int compressible, unsigned seed)
{
	uint8_t *b = malloc(len ? len : 1);
	static const char text[] = "Subject: hello\r\n\r\nsome text line\r\n";
	uint32_t x = seed * 2654435761u + 1;
	for (size_t i = 0; i < len; i++) {
		x = x * 1103515245u + 12345u;
		b[i] = compressible ? (uint8_t)text[i % (sizeof text - 1)]
				    : (uint8_t)(x >> 16);
	}
	return b;
}

static inline void su_msg(struct spool_msg *m, const char *qid, const uint8_t *data,
		   size_t len)
{
	memset(m, 0, sizeof(*m));
	snprintf(m->qid, sizeof m->qid, "%s", qid);
	m->received_us = 1700000000123456ull;
	m->spooled_us = 1700000000125000ull;
	m->client = "198.18.0.2";
	m->helo = "client.example.org";
	m->mail_from = "sender@example.org";
	m->size_param = 123456;
	m->body = SPOOL_BODY_8BITMIME;
	m->smtputf8 = true;
	m->ret = SPOOL_RET_HDRS;
	m->envid = "ENV-42+2B";
	m->rcpts = su_rcpts;
	m->nrcpts = 3;
	m->verdict = "virus";
	m->action = "quarantine";
	m->area = "virus";
	m->route = "incoming";
	m->policy = "strict";
	m->reason = "virus Eicar-Test-Signature in part 2";
	m->findings = su_findings;
	m->nfindings = 2;
	m->actions = su_actions;
	m->nactions = 2;
	m->data = data;
	m->data_len = len;
}

/* Every field of b equals a's (b parsed, a the input). */
static inline void su_check_same(const struct spool_msg *a, const struct spool_msg *b)
{
	CHECK_EQ_STR(b->qid, a->qid);
	CHECK(b->received_us == a->received_us);
	CHECK(b->spooled_us == a->spooled_us);
	CHECK_EQ_STR(b->client, a->client);
	CHECK_EQ_STR(b->helo, a->helo);
	CHECK_EQ_STR(b->mail_from, a->mail_from);
	CHECK(b->size_param == a->size_param);
	CHECK_EQ_INT(b->body, a->body);
	CHECK_EQ_INT(b->smtputf8, a->smtputf8);
	CHECK_EQ_INT(b->ret, a->ret);
	CHECK_EQ_STR(b->envid, a->envid);
	CHECK_EQ_INT(b->nrcpts, a->nrcpts);
	for (unsigned i = 0; i < a->nrcpts && i < b->nrcpts; i++) {
		CHECK_EQ_STR(b->rcpts[i].addr, a->rcpts[i].addr);
		CHECK_EQ_INT(b->rcpts[i].notify, a->rcpts[i].notify);
		CHECK_EQ_STR(b->rcpts[i].orcpt, a->rcpts[i].orcpt);
	}
	CHECK_EQ_STR(b->verdict, a->verdict);
	CHECK_EQ_STR(b->action, a->action);
	CHECK_EQ_STR(b->area, a->area);
	CHECK_EQ_STR(b->route, a->route);
	CHECK_EQ_STR(b->policy, a->policy);
	CHECK_EQ_STR(b->reason, a->reason);
	CHECK_EQ_INT(b->nfindings, a->nfindings);
	for (unsigned i = 0; i < a->nfindings && i < b->nfindings; i++)
		CHECK_EQ_STR(b->findings[i], a->findings[i]);
	CHECK_EQ_INT(b->nactions, a->nactions);
	for (unsigned i = 0; i < a->nactions && i < b->nactions; i++)
		CHECK_EQ_STR(b->actions[i], a->actions[i]);
	CHECK_EQ_INT(b->data_len, a->data_len);
	const uint8_t *body = NULL;
	void *owned = NULL;
	char err[200] = "";
	int rc = spool_msg_body(b, &body, &owned, err, sizeof err);
	CHECK_MSG(rc == 0, "spool_msg_body: %s", err);
	if (rc == 0)
		CHECK_EQ_MEM(body, b->data_len, a->data, a->data_len);
	free(owned);
}

static inline char *su_tmpdir(void)
{
	char tmpl[] = "/tmp/test-spool.XXXXXX";
	char *d = mkdtemp(tmpl);
	if (d == NULL) {
		perror("mkdtemp");
		exit(2);
	}
	return strdup(d);
}

static inline void su_rmdir(char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char p[4096];
	while (d && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
		unlink(p);
	}
	if (d)
		closedir(d);
	rmdir(dir);
	free(dir);
}

#endif
