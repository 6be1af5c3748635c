/*
 * tests/unit/test_smtp_server.c - smtp/: paths, the content decoder
 * (dot-unstuffing, bare LF/CR, smuggling, limits), sessions in-process
 * (pipelining batches, backpressure, verdicts, memory, timeouts), the
 * smtp: config section and the connection caps.
 */
/* Table rows name only the fields that matter. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#include "smtp/config.h"
#include "smtp/limits.h"
#include "smtp/server.h"
#include "smtp/smtp_int.h"
#include "tests/unit/check.h"
#include "tests/unit/smtp_fake.h"

#include <errno.h>

#define CLIENT 0xc6120002u   /* 198.18.0.2 */
#define RELAY  0x0a000005u   /* 10.0.0.5 */

static const char base_yaml[] =
	"internal_domains: [example.net, \"*.example.net\"]\n"
	"smtp:\n"
	"  hostname: mx.example.net\n"
	"  relay_networks: [10.0.0.0/8]\n"
	"  deny: [192.0.2.0/24]\n";

static void load_cfg(struct smtp_config *c, const char *extra)
{
	char buf[4096], err[256];
	struct conf_doc *doc;
	snprintf(buf, sizeof buf, "%s%s", base_yaml, extra ? extra : "");
	int rc = conf_load_string("t.conf", buf, strlen(buf), &doc, err,
				  sizeof err);
	CHECK_MSG(rc == 0, "%s", err);
	rc = smtp_config_load(doc, c, err, sizeof err);
	CHECK_MSG(rc == 0, "%s", err);
	conf_free(doc);
}

/* ---- paths ---- */

static void test_path_table(void)
{
	static const struct {
		const char *in;
		bool utf8;
		int rc;
		const char *mbox, *domain;
		bool null, route, special, extra_at;
	} rows[] = {
		{"<a@example.net>", 0, 0, "a@example.net", "example.net"},
		{"<>", 0, 0, "", NULL, .null = 1},
		{"<first.last+tag@sub.example.net>", 0, 0,
		 "first.last+tag@sub.example.net", "sub.example.net"},
		{"<@relay.org,@b.org:u@example.net>", 0, 0, "u@example.net",
		 "example.net", .route = 1},
		{"<user%other.org@example.net>", 0, 0,
		 "user%other.org@example.net", "example.net", .special = 1},
		{"<other.org!user@example.net>", 0, 0,
		 "other.org!user@example.net", "example.net", .special = 1},
		{"<\"u@other.org\"@example.net>", 0, 0,
		 "\"u@other.org\"@example.net", "example.net", .special = 1},
		{"<\"john doe\"@example.net>", 0, 0, "\"john doe\"@example.net",
		 "example.net"},
		{"<u@other.org@example.net>", 0, 0, NULL, NULL,
		 .extra_at = 1},
		{"<u@[198.18.0.1]>", 0, 0, "u@[198.18.0.1]", "[198.18.0.1]"},
		{"<u@[IPv6:::1]>", 0, 0, "u@[IPv6:::1]", "[IPv6:::1]"},
		{"<Postmaster>", 0, 0, "Postmaster", NULL},
		{"<u@-bad.net>", 0, -EINVAL},
		{"<u@bad-.net>", 0, -EINVAL},
		{"<u@bad..net>", 0, -EINVAL},
		{"<.u@a.net>", 0, -EINVAL},
		{"<u.@a.net>", 0, -EINVAL},
		{"<u..v@a.net>", 0, -EINVAL},
		{"<u@a.net", 0, -EINVAL},
		{"u@a.net", 0, -EINVAL},
		{"<u v@a.net>", 0, -EINVAL},
		{"<\"unterminated@a.net>", 0, -EINVAL},
		{"<@a.net u@b.net>", 0, -EINVAL},
		{"<j\xc3\xb6rg@b\xc3\xbc" "cher.example>", 0, -EINVAL},
		{"<j\xc3\xb6rg@b\xc3\xbc" "cher.example>", 1, 0,
		 "j\xc3\xb6rg@b\xc3\xbc" "cher.example",
		 "b\xc3\xbc" "cher.example"},
		{"<j\xc3rg@a.net>", 1, -EINVAL},           /* broken UTF-8 */
		{"<u@a.net>trailing", 0, 0, "u@a.net", "a.net"},
		{"<aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		 "aaaaaa@a.net>", 0, -EINVAL},             /* local part > 64 */
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		struct smtp_path p;
		size_t used = 0;
		int rc = smtp_parse_path(rows[i].in, strlen(rows[i].in),
					 rows[i].utf8, &p, &used);
		CHECK_MSG(rc == rows[i].rc, "row %zu (%s): rc %d", i,
			  rows[i].in, rc);
		if (rc != 0 || rows[i].rc != 0)
			continue;
		CHECK_MSG(p.null == rows[i].null && p.route == rows[i].route &&
			  p.special == rows[i].special &&
			  p.extra_at == rows[i].extra_at,
			  "row %zu (%s): flags null %d route %d special %d "
			  "extra_at %d", i, rows[i].in, p.null, p.route,
			  p.special, p.extra_at);
		if (rows[i].mbox != NULL && rows[i].mbox[0] != '\0')
			CHECK_MSG(p.mbox_len == strlen(rows[i].mbox) &&
				  memcmp(p.mbox, rows[i].mbox,
					 p.mbox_len) == 0,
				  "row %zu: mbox '%.*s'", i, (int)p.mbox_len,
				  p.mbox);
		if (rows[i].domain != NULL)
			CHECK_MSG(p.domain != NULL &&
				  p.domain_len == strlen(rows[i].domain) &&
				  memcmp(p.domain, rows[i].domain,
					 p.domain_len) == 0,
				  "row %zu: domain", i);
		else if (!rows[i].extra_at)
			CHECK_MSG(p.domain == NULL, "row %zu: domain set", i);
	}
}

static void test_xtext_utf8_helo(void)
{
	CHECK(smtp_xtext_ok("abc+2B+3Ddef", 12));
	CHECK(!smtp_xtext_ok("a=b", 3));
	CHECK(!smtp_xtext_ok("a+2", 3));
	CHECK(!smtp_xtext_ok("a+2b", 4));   /* lower-case hex */
	CHECK(!smtp_xtext_ok("a b", 3));
	CHECK(smtp_utf8_ok((const unsigned char *)"\xe2\x82\xac", 3));
	CHECK(!smtp_utf8_ok((const unsigned char *)"\xc0\xaf", 2)); /* overlong */
	CHECK(!smtp_utf8_ok((const unsigned char *)"\xed\xa0\x80", 3)); /* surrogate */
	CHECK(!smtp_utf8_ok((const unsigned char *)"\xe2\x82", 2));
	CHECK(smtp_helo_ok("client.example.org", 18));
	CHECK(smtp_helo_ok("[198.18.0.2]", 12));
	CHECK(!smtp_helo_ok("evil) by x", 10));
	CHECK(!smtp_helo_ok("a;b", 3));
	CHECK(!smtp_helo_ok("[1.2.3]", 7));
}

/* ---- the content decoder ---- */

struct body_row {
	const char *name;
	const char *wire;       /* DATA/BDAT bytes (after the command) */
	bool dot;               /* DATA framing */
	bool normalize;
	bool done;              /* end of data seen */
	size_t consumed;        /* bytes consumed when done (0: all) */
	const char *stored;     /* NULL: don't care (flags set) */
	unsigned flags;
};

static const struct body_row body_rows[] = {
	{"plain", "Subject: x\r\n\r\nhello\r\n.\r\n", 1, 0, 1, 0,
	 "Subject: x\r\n\r\nhello\r\n", 0},
	{"empty message", ".\r\n", 1, 0, 1, 3, "", 0},
	{"dot-stuffed", "..a\r\n..\r\n.\r\n", 1, 0, 1, 12, ".a\r\n.\r\n", 0},
	{"dot in the middle", "a.b\r\n.x\r\n.\r\n", 1, 0, 1, 12,
	 "a.b\r\nx\r\n", 0},
	{"not the end: .x", "a\r\n.x\r\n", 1, 0, 0, 0, "a\r\nx\r\n", 0},
	/* smuggling shapes never end the data */
	{"\\n.\\n reject", "a\n.\nMAIL FROM:<x@y>\r\n", 1, 0, 0, 0, NULL,
	 SMTP_BODY_BARE},
	{"\\r.\\r reject", "a\r.\rMAIL FROM:<x@y>\r\n", 1, 0, 0, 0, NULL,
	 SMTP_BODY_BARE},
	{"\\n.\\r\\n reject", "a\n.\r\nMAIL FROM:<x@y>\r\n", 1, 0, 0, 0, NULL,
	 SMTP_BODY_BARE},
	{"\\r\\n.\\n reject", "a\r\n.\nMAIL FROM:<x@y>\r\n", 1, 0, 0, 0, NULL,
	 SMTP_BODY_BARE},
	{"\\r\\n.\\r reject", "a\r\n.\rMAIL FROM:<x@y>\r\n", 1, 0, 0, 0, NULL,
	 SMTP_BODY_BARE},
	{"\\n.\\n normalize", "a\n.\nb\r\n", 1, 1, 0, 0,
	 "a\r\n\r\nb\r\n", 0},
	{"\\n.\\r\\n normalize", "a\n.\r\nb\r\n", 1, 1, 0, 0,
	 "a\r\n\r\nb\r\n", 0},
	{"\\r.\\r normalize", "a\r.\rb\r\n", 1, 1, 0, 0,
	 "a\r\n\r\nb\r\n", 0},
	{"normalize then real end", "a\nb\r\n.\r\n", 1, 1, 1, 0,
	 "a\r\nb\r\n", 0},
	{"bare CR in a line", "a\rb\r\n.\r\n", 1, 0, 1, 0, NULL,
	 SMTP_BODY_BARE},
	{"bare LF normalized", "a\nb\r\n.\r\n", 1, 1, 1, 0, "a\r\nb\r\n", 0},
	{"end, then more", "a\r\n.\r\nMAIL", 1, 0, 1, 6, "a\r\n", 0},
	{"BDAT raw", "..a\r\n.\r\n", 0, 0, 0, 0, "..a\r\n.\r\n", 0},
	{"BDAT bare LF", "a\nb\r\n", 0, 0, 0, 0, NULL, SMTP_BODY_BARE},
	{"BDAT bare LF normalized", "a\nb\r\n", 0, 1, 0, 0, "a\r\nb\r\n", 0},
};

static void run_body(const struct body_row *r, size_t step)
{
	struct smtp_config c;
	smtp_config_defaults(&c);
	c.bare_lf = r->normalize ? SMTP_BARE_LF_NORMALIZE
				 : SMTP_BARE_LF_REJECT;
	struct smtp_pool *pool = smtp_pool_create(1 << 20);
	struct smtp_txn *t = smtp_txn_new(pool);
	struct smtp_body b;
	smtp_body_begin(&b, &c, t, r->dot);
	size_t n = strlen(r->wire), off = 0;
	bool done = false;
	while (off < n && !done) {
		size_t k = n - off < step ? n - off : step;
		off += smtp_body_feed(&b, (const unsigned char *)r->wire + off,
				      k, &done);
	}
	CHECK_MSG(done == r->done, "%s (step %zu): done %d", r->name, step,
		  done);
	if (r->done)
		CHECK_MSG(off == (r->consumed ? r->consumed : n), "%s (step %zu): consumed %zu",
			  r->name, step, off);
	CHECK_MSG(b.flags == r->flags, "%s (step %zu): flags 0x%x", r->name,
		  step, b.flags);
	if (r->stored != NULL) {
		char got[256] = "";
		size_t gl = 0;
		for (struct smtp_chunk *ch = t->body_head; ch;
		     ch = (struct smtp_chunk *)ch->seg.next) {
			memcpy(got + gl, ch->buf, ch->seg.len);
			gl += ch->seg.len;
		}
		CHECK_MSG(gl == strlen(r->stored) &&
			  memcmp(got, r->stored, gl) == 0,
			  "%s (step %zu): stored '%.*s'", r->name, step,
			  (int)gl, got);
	}
	smtp_txn_free(t);
	CHECK_EQ_INT(smtp_pool_in_use(pool), 0);
	smtp_pool_free(pool);
}

static void test_body_table(void)
{
	for (size_t i = 0; i < sizeof body_rows / sizeof body_rows[0]; i++) {
		run_body(&body_rows[i], 1 << 20);  /* one piece */
		run_body(&body_rows[i], 1);        /* byte by byte */
		run_body(&body_rows[i], 3);
	}
}

static void test_body_limits(void)
{
	struct smtp_config c;
	smtp_config_defaults(&c);
	c.max_message_size = 40000;
	c.max_received = 2;
	struct smtp_pool *pool = smtp_pool_create(1 << 20);
	struct smtp_body b;
	bool done;

	/* a 1001-octet line (999 + CRLF is fine, 1000 + CRLF is not) */
	char line[1200];
	memset(line, 'x', sizeof line);
	struct smtp_txn *t = smtp_txn_new(pool);
	smtp_body_begin(&b, &c, t, true);
	memcpy(line + 998, "\r\n", 2);
	smtp_body_feed(&b, (unsigned char *)line, 1000, &done);
	CHECK_EQ_INT(b.flags, 0);
	memset(line, 'x', sizeof line);
	memcpy(line + 999, "\r\n", 2);
	smtp_body_feed(&b, (unsigned char *)line, 1001, &done);
	CHECK_EQ_INT(b.flags, SMTP_BODY_LONGLINE);
	smtp_txn_free(t);

	/* size cap: storage released at once */
	t = smtp_txn_new(pool);
	smtp_body_begin(&b, &c, t, true);
	for (int i = 0; i < 50; i++) {
		memset(line, 'y', 998);
		memcpy(line + 998, "\r\n", 2);
		smtp_body_feed(&b, (unsigned char *)line, 1000, &done);
	}
	CHECK_EQ_INT(b.flags, SMTP_BODY_TOOBIG);
	CHECK(t->body_head == NULL);
	CHECK(smtp_pool_in_use(pool) == SMTP_CHUNK_SIZE);  /* the arena */
	smtp_txn_free(t);

	/* Received: counted in the header only, case-insensitively */
	static const char h2[] = "Received: a\r\nRECEIVED: b\r\n\r\n"
		"Received: body\r\n.\r\n";
	t = smtp_txn_new(pool);
	smtp_body_begin(&b, &c, t, true);
	smtp_body_feed(&b, (const unsigned char *)h2, strlen(h2), &done);
	CHECK(done);
	CHECK_EQ_INT(b.received, 2);
	CHECK_EQ_INT(b.flags, 0);
	smtp_txn_free(t);
	static const char h3[] = "Received: a\r\nX: y\r\n received: no\r\n"
		"Received: b\r\nreceived:c\r\n\r\n.\r\n";
	t = smtp_txn_new(pool);
	smtp_body_begin(&b, &c, t, true);
	smtp_body_feed(&b, (const unsigned char *)h3, strlen(h3), &done);
	CHECK_EQ_INT(b.received, 3);
	CHECK_EQ_INT(b.flags, SMTP_BODY_LOOP);
	smtp_txn_free(t);

	CHECK_EQ_INT(smtp_pool_in_use(pool), 0);
	smtp_pool_free(pool);
}

/* ---- sessions ---- */

struct env {
	struct smtp_config cfg;
	struct smtp_pool *pool;
	struct fake f;
	struct smtp_session *s;
	uint64_t now;
};

static void env_open(struct env *e, const char *yaml, uint32_t ip)
{
	memset(e, 0, sizeof *e);
	load_cfg(&e->cfg, yaml);
	e->pool = smtp_pool_create(64 << 20);
	fake_init(&e->f);
	e->now = 1000000;
	e->s = smtp_session_create(&e->cfg, e->pool, ip, &fake_cb, &e->f);
	e->f.s = e->s;
	smtp_session_start(e->s, SMTP_ADMIT_OK, e->now);
}

static void env_close(struct env *e)
{
	smtp_session_free(e->s);
	CHECK_EQ_INT(smtp_pool_in_use(e->pool), 0);
	smtp_pool_free(e->pool);
	smtp_config_fini(&e->cfg);
	fake_fini(&e->f);
}

static size_t put(struct env *e, const char *s)
{
	return smtp_session_input(e->s, s, strlen(s), e->now);
}

static void test_session_basic(void)
{
	struct env e;
	env_open(&e, NULL, CLIENT);
	CHECK_EQ_STR(e.f.out, "220 mx.example.net ESMTP\r\n");
	fake_clear(&e.f);
	put(&e, "EHLO client.example.org\r\n");
	CHECK_EQ_STR(e.f.out, "250-mx.example.net\r\n250-PIPELINING\r\n"
		     "250-SIZE 20971520\r\n250-8BITMIME\r\n"
		     "250-ENHANCEDSTATUSCODES\r\n250-SMTPUTF8\r\n"
		     "250-CHUNKING\r\n250 DSN\r\n");
	fake_clear(&e.f);
	e.f.qid = "QID123";
	put(&e, "MAIL FROM:<a@other.org> SIZE=100 BODY=8BITMIME RET=HDRS "
	    "ENVID=x+2By\r\n");
	put(&e, "RCPT TO:<u@example.net> NOTIFY=SUCCESS,FAILURE "
	    "ORCPT=rfc822;u@example.net\r\n");
	put(&e, "DATA\r\n");
	CHECK_EQ_STR(e.f.out, "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 End data "
		     "with <CR><LF>.<CR><LF>\r\n");
	fake_clear(&e.f);
	put(&e, "Subject: hi\r\n\r\n..body\r\n.\r\n");
	CHECK_EQ_INT(e.f.nmsg, 1);
	CHECK(smtp_session_busy(e.s));
	CHECK_EQ_STR(e.f.data, "Received: from client.example.org "
		     "([198.18.0.2])\r\n\tby mx.example.net with ESMTP id "
		     "QID123\r\n\tfor <u@example.net>; Tue, 14 Nov 2023 "
		     "22:13:20 +0000\r\nSubject: hi\r\n\r\n.body\r\n");
	const struct smtp_envelope *v = &e.f.msg->env;
	CHECK_EQ_STR(v->mail_from, "a@other.org");
	CHECK_EQ_STR(v->helo, "client.example.org");
	CHECK_EQ_STR(v->client_addr, "198.18.0.2");
	CHECK_EQ_INT(v->size, 100);
	CHECK_EQ_INT(v->body, SMTP_BODY_8BITMIME);
	CHECK_EQ_INT(v->ret, SMTP_RET_HDRS);
	CHECK_EQ_STR(v->envid, "x+2By");
	CHECK_EQ_INT(v->nrcpt, 1);
	CHECK_EQ_INT(v->rcpt->notify, SMTP_NOTIFY_SUCCESS | SMTP_NOTIFY_FAILURE);
	CHECK_EQ_STR(v->rcpt->orcpt, "rfc822;u@example.net");
	CHECK(v->esmtp && !v->chunking && !v->smtputf8);
	CHECK_EQ_STR(e.f.msg->queue_id, "QID123");
	CHECK(smtp_pool_in_use(e.pool) > 0);
	CHECK_EQ_INT(e.f.outlen, 0);   /* no reply before the verdict */
	CHECK_EQ_INT(smtp_session_verdict(e.s, 250, "2.0.0",
					  "Ok: queued as QID123", e.now), 0);
	CHECK_EQ_STR(e.f.out, "250 2.0.0 Ok: queued as QID123\r\n");
	CHECK_EQ_INT(smtp_pool_in_use(e.pool), 0);   /* released */
	CHECK_EQ_INT(smtp_session_verdict(e.s, 250, NULL, "x", e.now),
		     -EINVAL);
	fake_clear(&e.f);
	put(&e, "QUIT\r\n");
	CHECK_EQ_STR(e.f.out, "221 2.0.0 mx.example.net Bye\r\n");
	CHECK(e.f.closed && e.f.closes == 1);
	CHECK_EQ_INT(put(&e, "NOOP\r\n"), 6);   /* discarded after close */
	env_close(&e);
}

/* A pipelined group yields its replies in one send(). */
static void test_pipelining_batch(void)
{
	struct env e;
	env_open(&e, NULL, CLIENT);
	put(&e, "EHLO c.example.org\r\n");
	fake_clear(&e.f);
	put(&e, "MAIL FROM:<a@b.org>\r\nRCPT TO:<x@example.net>\r\n"
	    "RCPT TO:<y@other.org>\r\nRCPT TO:<z@example.net>\r\nDATA\r\n");
	CHECK_EQ_INT(e.f.sends, 1);
	CHECK_EQ_STR(e.f.out, "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"
		     "554 5.7.1 Relay access denied\r\n250 2.1.5 Ok\r\n"
		     "354 End data with <CR><LF>.<CR><LF>\r\n");
	env_close(&e);
}

/* Below the spool's free-space floor MAIL gets 452 before any data;
 * once there is room again the same session carries on. */
static void test_storage_full(void)
{
	struct env e;
	env_open(&e, NULL, CLIENT);
	put(&e, "EHLO c.example.org\r\n");
	fake_clear(&e.f);
	e.f.storage_full = true;
	put(&e, "MAIL FROM:<a@b.org>\r\nRCPT TO:<x@example.net>\r\n");
	CHECK_EQ_STR(e.f.out, "452 4.3.1 Insufficient system storage, try "
		     "again later\r\n503 5.5.1 Need MAIL command\r\n");
	CHECK_EQ_INT(smtp_pool_in_use(e.pool), 0);
	fake_clear(&e.f);
	e.f.storage_full = false;
	put(&e, "MAIL FROM:<a@b.org>\r\n");
	CHECK_EQ_STR(e.f.out, "250 2.1.0 Ok\r\n");
	env_close(&e);
}

/* Input after end of data is left with the caller until the verdict. */
static void test_backpressure(void)
{
	struct env e;
	env_open(&e, NULL, CLIENT);
	put(&e, "EHLO c.example.org\r\nMAIL FROM:<a@b.org>\r\n"
	    "RCPT TO:<x@example.net>\r\nDATA\r\n");
	static const char rest[] = "body\r\n.\r\nMAIL FROM:<c@d.org>\r\n"
		"RCPT TO:<x@example.net>\r\n";
	size_t k = put(&e, rest);
	CHECK_EQ_INT(k, 9);            /* up to and including ".\r\n" */
	CHECK(!smtp_session_wants_input(e.s));
	CHECK_EQ_INT(put(&e, rest + k), 0);   /* still waiting */
	CHECK_EQ_INT(smtp_session_deadline(e.s), UINT64_MAX);
	fake_clear(&e.f);
	smtp_session_verdict(e.s, 550, "5.7.1", "Rejected: virus found", e.now);
	CHECK(smtp_session_wants_input(e.s));
	CHECK_EQ_INT(put(&e, rest + k), strlen(rest) - k);
	CHECK_EQ_STR(e.f.out, "550 5.7.1 Rejected: virus found\r\n"
		     "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n");
	env_close(&e);
}

/* A synchronous verdict inside message() and a refused hand-off. */
static void test_sync_verdict_and_refusal(void)
{
	struct env e;
	env_open(&e, NULL, CLIENT);
	e.f.sync_verdict = true;
	e.f.v_code = 250, e.f.v_enh = "2.0.0", e.f.v_text = "queued";
	put(&e, "EHLO c.example.org\r\nMAIL FROM:<a@b.org>\r\n"
	    "RCPT TO:<x@example.net>\r\nDATA\r\n");
	fake_clear(&e.f);
	static const char two[] = "x\r\n.\r\nMAIL FROM:<c@d.org>\r\n"
		"RCPT TO:<x@example.net>\r\nDATA\r\nx\r\n.\r\n";
	CHECK_EQ_INT(put(&e, two), strlen(two));
	CHECK_EQ_INT(e.f.nmsg, 2);
	CHECK_EQ_STR(e.f.out, "250 2.0.0 queued\r\n250 2.1.0 Ok\r\n"
		     "250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n"
		     "250 2.0.0 queued\r\n");
	e.f.sync_verdict = false;
	e.f.handoff_rc = -ENOBUFS;
	fake_clear(&e.f);
	put(&e, "MAIL FROM:<c@d.org>\r\nRCPT TO:<x@example.net>\r\nDATA\r\n"
	    "x\r\n.\r\n");
	CHECK(strstr(e.f.out, "451 4.3.0 ") != NULL);
	CHECK(smtp_session_wants_input(e.s));
	env_close(&e);
}

/* send() taking less stalls the session; writable() resumes. Replies
 * the transport does not take fill a bounded buffer, then input stops. */
static void test_short_send(void)
{
	struct env e;
	env_open(&e, NULL, CLIENT);
	fake_clear(&e.f);
	e.f.send_room = 10;
	put(&e, "EHLO c.example.org\r\n");
	CHECK_EQ_INT(e.f.outlen, 10);
	CHECK(!smtp_session_wants_input(e.s));
	CHECK_EQ_INT(put(&e, "NOOP\r\n"), 0);
	e.f.send_room = -1;
	smtp_session_writable(e.s, e.now);
	CHECK(smtp_session_wants_input(e.s));
	CHECK_EQ_INT(put(&e, "NOOP\r\n"), 6);
	CHECK(strstr(e.f.out, "250 DSN\r\n250 2.0.0 Ok\r\n") != NULL);

	/* a client that never reads: at most the buffer, then no input */
	char in[20 * 6 + 1] = "";
	for (int i = 0; i < 20; i++)
		strcat(in, "HELP\r\n");
	e.f.send_room = 0;
	size_t k = put(&e, in);
	CHECK(k > 0 && k < strlen(in));
	CHECK_EQ_INT(put(&e, in + k), 0);
	e.f.send_room = -1;
	smtp_session_writable(e.s, e.now);
	CHECK_EQ_INT(put(&e, in + k), strlen(in) - k);
	const char *p = e.f.out;
	int helps = 0;
	while ((p = strstr(p, "214 2.0.0")) != NULL)
		helps++, p++;
	CHECK_EQ_INT(helps, 20);
	env_close(&e);
}

/* The session freed while its message is out: the message survives. */
static void test_detach(void)
{
	struct env e;
	env_open(&e, NULL, CLIENT);
	put(&e, "EHLO c.example.org\r\nMAIL FROM:<a@b.org>\r\n"
	    "RCPT TO:<x@example.net>\r\nDATA\r\nhello\r\n.\r\n");
	const struct smtp_message *m = e.f.msg;
	CHECK(m != NULL && smtp_session_busy(e.s));
	smtp_session_free(e.s);
	e.s = NULL;
	CHECK(smtp_pool_in_use(e.pool) > 0);
	char buf[512];
	uint64_t n = smtp_message_copy(m, buf, sizeof buf);
	CHECK(n > 7 && memcmp(buf + n - 7, "hello\r\n", 7) == 0);
	CHECK_EQ_STR(m->env.rcpt->addr, "x@example.net");
	smtp_message_free(m);
	env_close(&e);
}

/* The transport fails: at the hand-off (nothing goes up), and while a
 * message is out (the verdict still releases it, nothing is sent). */
static void test_transport_failure(void)
{
	struct env e;
	env_open(&e, NULL, CLIENT);
	put(&e, "EHLO c.example.org\r\n");
	e.f.send_fail = true;   /* the pipelined replies cannot leave */
	put(&e, "MAIL FROM:<a@b.org>\r\nRCPT TO:<x@example.net>\r\n"
	    "DATA\r\nNOOP\r\n.\r\n");
	CHECK_EQ_INT(e.f.nmsg, 0);
	CHECK(smtp_session_closed(e.s) && !smtp_session_busy(e.s));
	CHECK(!e.f.closed);   /* a dead transport is not asked to close */
	env_close(&e);

	env_open(&e, NULL, CLIENT);
	put(&e, "EHLO c.example.org\r\nMAIL FROM:<a@b.org>\r\n"
	    "RCPT TO:<x@example.net>\r\nDATA\r\nx\r\n.\r\n");
	CHECK(smtp_session_busy(e.s));
	e.f.send_room = 0;
	smtp_session_verdict(e.s, 250, "2.0.0", "ok", e.now);  /* stalls */
	CHECK(!smtp_session_busy(e.s));
	put(&e, "MAIL FROM:<a@b.org>\r\nRCPT TO:<x@example.net>\r\n"
	    "DATA\r\nx\r\n.\r\n");
	e.f.send_fail = true;
	smtp_session_writable(e.s, e.now);
	CHECK(smtp_session_closed(e.s));
	env_close(&e);

	env_open(&e, NULL, CLIENT);
	put(&e, "EHLO c.example.org\r\nMAIL FROM:<a@b.org>\r\n"
	    "RCPT TO:<x@example.net>\r\nDATA\r\nx\r\n.\r\n");
	e.f.send_fail = true;
	smtp_session_writable(e.s, e.now);   /* nothing pending: no-op */
	CHECK(smtp_session_busy(e.s));
	CHECK_EQ_INT(smtp_session_verdict(e.s, 250, "2.0.0", "ok", e.now), 0);
	CHECK(!smtp_session_busy(e.s) && smtp_session_closed(e.s));
	CHECK_EQ_INT(smtp_pool_in_use(e.pool), 0);
	env_close(&e);
}

static void test_timeouts(void)
{
	struct env e;
	env_open(&e, "  idle_timeout: 10m\n  command_timeout: 5m\n", CLIENT);
	const uint64_t M = 60000000ull;
	CHECK_EQ_INT(smtp_session_deadline(e.s), e.now + 10 * M);
	smtp_session_tick(e.s, e.now + 10 * M - 1);
	CHECK(!e.f.closed);
	put(&e, "EHLO c.example.org\r\nMAIL FROM:<a@b.org>\r\nRCP");
	/* a partial line: the per-command timeout */
	CHECK_EQ_INT(smtp_session_deadline(e.s), e.now + 5 * M);
	e.now += 4 * M;
	put(&e, "T TO:<x@");   /* progress does not extend one line */
	CHECK_EQ_INT(smtp_session_deadline(e.s), e.now - 4 * M + 5 * M);
	fake_clear(&e.f);
	smtp_session_tick(e.s, e.now + M);
	CHECK_EQ_STR(e.f.out, "421 4.4.2 mx.example.net Error: timeout "
		     "exceeded, closing connection\r\n");
	CHECK(e.f.closed);
	CHECK_EQ_INT(smtp_session_deadline(e.s), UINT64_MAX);
	env_close(&e);

	/* idle */
	env_open(&e, NULL, CLIENT);
	put(&e, "EHLO c.example.org\r\n");
	smtp_session_tick(e.s, e.now + 10 * M);
	CHECK(e.f.closed && strstr(e.f.out, "421 4.4.2 "));
	env_close(&e);

	/* greeting delay: early talker */
	env_open(&e, "  greeting_delay: 2s\n", CLIENT);
	CHECK_EQ_INT(e.f.outlen, 0);
	CHECK_EQ_INT(smtp_session_deadline(e.s), e.now + 2000000);
	put(&e, "EHLO x\r\n");
	CHECK(e.f.closed);
	CHECK(strncmp(e.f.out, "554 5.5.1 ", 10) == 0);
	env_close(&e);
	env_open(&e, "  greeting_delay: 2s\n", CLIENT);
	smtp_session_tick(e.s, e.now + 2000000);
	CHECK_EQ_STR(e.f.out, "220 mx.example.net ESMTP\r\n");
	env_close(&e);
}

static void test_connection_control(void)
{
	struct env e;
	env_open(&e, NULL, 0xc0000207u);   /* 192.0.2.7: denied */
	CHECK_EQ_STR(e.f.out, "554 5.7.1 mx.example.net Access denied\r\n");
	CHECK(e.f.closed);
	env_close(&e);
	env_open(&e, "  allow: [198.18.0.0/15]\n", 0x0a000001u);
	CHECK(e.f.closed && strncmp(e.f.out, "554 5.7.1", 9) == 0);
	env_close(&e);
	env_open(&e, "  allow: [198.18.0.0/15]\n", CLIENT);
	CHECK(!e.f.closed && strncmp(e.f.out, "220 ", 4) == 0);
	env_close(&e);

	memset(&e, 0, sizeof e);
	load_cfg(&e.cfg, NULL);
	e.pool = smtp_pool_create(1 << 20);
	fake_init(&e.f);
	e.s = smtp_session_create(&e.cfg, e.pool, CLIENT, &fake_cb, &e.f);
	smtp_session_start(e.s, SMTP_ADMIT_RATE, 0);
	CHECK(e.f.closed && strncmp(e.f.out, "421 4.7.0 ", 10) == 0);
	env_close(&e);
}

/* Relay control per recipient form (client 198.18.0.2 is not a relay
 * client; 10.0.0.5 is). */
static void test_relay_table(void)
{
	static const struct {
		const char *rcpt;
		uint32_t ip;
		const char *want;
	} rows[] = {
		{"<u@example.net>", CLIENT, "250 2.1.5"},
		{"<u@EXAMPLE.NET>", CLIENT, "250 2.1.5"},
		{"<u@mail.example.net>", CLIENT, "250 2.1.5"},
		{"<u@badexample.net>", CLIENT, "554 5.7.1"},
		{"<u@other.org>", CLIENT, "554 5.7.1"},
		{"<u@other.org>", RELAY, "250 2.1.5"},
		{"<postmaster>", CLIENT, "250 2.1.5"},
		{"<u>", CLIENT, "501 5.1.3"},
		{"<u%other.org@example.net>", CLIENT, "554 5.7.1"},
		{"<other.org!u@example.net>", CLIENT, "554 5.7.1"},
		{"<@example.net:u@other.org>", CLIENT, "554 5.7.1"},
		{"<@other.org:u@example.net>", CLIENT, "554 5.7.1"},
		{"<\"u@other.org\"@example.net>", CLIENT, "554 5.7.1"},
		{"<\"u%other.org\"@example.net>", CLIENT, "554 5.7.1"},
		{"<u@other.org@example.net>", CLIENT, "554 5.7.1"},
		{"<u%other.org@example.net>", RELAY, "554 5.7.1"},
		{"<u@[198.18.0.1]>", CLIENT, "554 5.7.1"},
		{"<>", CLIENT, "501 5.1.3"},
		{"<u@example.net> FOO=bar", CLIENT, "555 5.5.4"},
		{"<u@example.net> NOTIFY=NEVER,SUCCESS", CLIENT, "501 5.5.4"},
		{"<u@example.net> NOTIFY=NEVER", CLIENT, "250 2.1.5"},
		{"<u@example.net> ORCPT=rfc822;a=b", CLIENT, "501 5.5.4"},
		{"<u@example.net> ORCPT=rfc822;a+40b", CLIENT, "250 2.1.5"},
		{"<j\xc3\xb6rg@example.net>", CLIENT, "553 5.6.7"},
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		struct env e;
		char cmd[256];
		env_open(&e, NULL, rows[i].ip);
		put(&e, "EHLO c.example.org\r\nMAIL FROM:<a@b.org>\r\n");
		fake_clear(&e.f);
		snprintf(cmd, sizeof cmd, "RCPT TO:%s\r\n", rows[i].rcpt);
		put(&e, cmd);
		CHECK_MSG(strncmp(e.f.out, rows[i].want,
				  strlen(rows[i].want)) == 0,
			  "row %zu %s: got %s", i, rows[i].rcpt, e.f.out);
		env_close(&e);
	}
}

/* The smuggling matrix: each variant, followed by a second transaction,
 * yields one message or a rejection, never two messages. */
static void test_smuggling_matrix(void)
{
	static const char *const ends[] = {"\n.\n", "\r.\r", "\n.\r\n",
		"\r\n.\n", "\r\n.\r", "\r.\r\n", "\n..\n", "\r\n.\r\r\n"};
	for (int norm = 0; norm < 2; norm++)
		for (size_t i = 0; i < sizeof ends / sizeof ends[0]; i++) {
			struct env e;
			char in[512];
			env_open(&e, norm ? "  bare_lf: normalize\n" : NULL,
				 CLIENT);
			e.f.sync_verdict = true;
			e.f.v_code = 250, e.f.v_enh = "2.0.0", e.f.v_text = "ok";
			snprintf(in, sizeof in, "EHLO c.example.org\r\n"
				 "MAIL FROM:<a@b.org>\r\nRCPT TO:<x@example.net>"
				 "\r\nDATA\r\nhello%sMAIL FROM:<evil@b.org>\r\n"
				 "RCPT TO:<y@example.net>\r\nDATA\r\nspoof\r\n"
				 ".\r\n", ends[i]);
			put(&e, in);
			CHECK_MSG(e.f.nmsg <= 1, "variant %zu norm %d: %u "
				  "messages", i, norm, e.f.nmsg);
			if (norm) {
				CHECK_MSG(e.f.nmsg == 1 &&
					  strcmp(e.f.from, "a@b.org") == 0,
					  "variant %zu: one message from a@b",
					  i);
			} else {
				CHECK_MSG(e.f.nmsg == 0 &&
					  strstr(e.f.out, "550 5.6.0 "),
					  "variant %zu: rejected: %s", i,
					  e.f.out);
			}
			/* the session continues */
			fake_clear(&e.f);
			put(&e, "NOOP\r\n");
			CHECK_EQ_STR(e.f.out, "250 2.0.0 Ok\r\n");
			env_close(&e);
		}
}

static void test_bdat(void)
{
	struct env e;
	env_open(&e, NULL, CLIENT);
	put(&e, "EHLO c.example.org\r\nMAIL FROM:<a@b.org>\r\n"
	    "RCPT TO:<x@example.net>\r\n");
	fake_clear(&e.f);
	/* chunk bytes that look like commands are data */
	put(&e, "BDAT 13\r\nQUIT\r\n.\r\nab\r\nBDAT 0 LAST\r\n");
	CHECK_EQ_INT(e.f.nmsg, 1);
	CHECK(e.f.env.chunking);
	CHECK(e.f.data && strcmp(strstr(e.f.data, "+0000\r\n") + 7,
				 "QUIT\r\n.\r\nab\r\n") == 0);
	CHECK_EQ_STR(e.f.out, "250 2.0.0 13 octets received\r\n");
	smtp_session_verdict(e.s, 250, "2.0.0", "ok", e.now);
	fake_clear(&e.f);
	/* BDAT then DATA in one transaction; BDAT without MAIL */
	put(&e, "MAIL FROM:<a@b.org>\r\nRCPT TO:<x@example.net>\r\n"
	    "BDAT 3\r\nabcDATA\r\nRSET\r\nBDAT 5\r\nxxxxxNOOP\r\n");
	CHECK_EQ_STR(e.f.out, "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"
		     "250 2.0.0 3 octets received\r\n"
		     "503 5.5.1 DATA not allowed during BDAT: send BDAT or "
		     "RSET\r\n250 2.0.0 Ok\r\n503 5.5.1 Need MAIL command\r\n"
		     "250 2.0.0 Ok\r\n");
	/* a bad count cannot be resynchronized: 421 */
	fake_clear(&e.f);
	put(&e, "BDAT x\r\n");
	CHECK(e.f.closed && strncmp(e.f.out, "421 4.5.4 ", 10) == 0);
	env_close(&e);
}

static void test_limits_in_session(void)
{
	struct env e;
	char buf[128];
	env_open(&e, "  max_recipients: 3\n  max_messages: 2\n  max_noop: 2\n",
		 CLIENT);
	e.f.sync_verdict = true;
	e.f.v_code = 250, e.f.v_enh = "2.0.0", e.f.v_text = "ok";
	put(&e, "EHLO c.example.org\r\nMAIL FROM:<a@b.org>\r\n");
	fake_clear(&e.f);
	for (int i = 0; i < 4; i++) {
		snprintf(buf, sizeof buf, "RCPT TO:<u%d@example.net>\r\n", i);
		put(&e, buf);
	}
	CHECK_EQ_STR(e.f.out, "250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n"
		     "250 2.1.5 Ok\r\n452 4.5.3 Too many recipients\r\n");
	put(&e, "DATA\r\nx\r\n.\r\n");
	CHECK_EQ_INT(e.f.nrcpt, 3);
	put(&e, "MAIL FROM:<a@b.org>\r\nRCPT TO:<u@example.net>\r\nDATA\r\n"
	    "x\r\n.\r\n");
	CHECK_EQ_INT(e.f.nmsg, 2);
	fake_clear(&e.f);
	put(&e, "MAIL FROM:<a@b.org>\r\n");
	CHECK(e.f.closed && strncmp(e.f.out, "421 4.7.0 ", 10) == 0);
	env_close(&e);

	env_open(&e, "  max_noop: 2\n", CLIENT);
	put(&e, "NOOP\r\nNOOP\r\n");
	CHECK(!e.f.closed);
	put(&e, "NOOP\r\n");
	CHECK(e.f.closed && strstr(e.f.out, "421 4.7.0 mx.example.net Too "
				   "many NOOP commands"));
	env_close(&e);

	/* line too long, bare LF, NUL, forbidden verb */
	env_open(&e, NULL, CLIENT);
	fake_clear(&e.f);
	char longl[700];
	memset(longl, 'A', sizeof longl);
	memcpy(longl, "NOOP ", 5);
	memcpy(longl + 600, "\r\n", 3);
	put(&e, longl);
	put(&e, "NOOP\n");
	smtp_session_input(e.s, "NO\0P\r\n", 6, e.now);
	put(&e, "HELO \xff\r\n");
	CHECK_EQ_STR(e.f.out, "500 5.5.2 Line too long (more than 512 "
		     "octets)\r\n500 5.5.2 Bare LF in a command: lines must "
		     "end with CRLF\r\n500 5.5.2 Invalid character in a "
		     "command\r\n501 5.5.2 Invalid hostname in EHLO/HELO\r\n");
	fake_clear(&e.f);
	put(&e, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
	CHECK(e.f.closed);
	CHECK_EQ_STR(e.f.out, "421 4.7.0 mx.example.net Protocol error: not "
		     "an SMTP command, closing connection\r\n");
	env_close(&e);
}

/* Memory: the pool cap turns into 452, never a crash; all released. */
static void test_pool_cap(void)
{
	struct smtp_config c;
	load_cfg(&c, "  max_message_size: 1 MiB\n");
	struct smtp_pool *pool = smtp_pool_create(4 * SMTP_CHUNK_SIZE);
	struct fake f;
	memset(&f, 0, sizeof f);
	fake_init(&f);
	struct smtp_session *s = smtp_session_create(&c, pool, CLIENT,
						     &fake_cb, &f);
	f.s = s;
	smtp_session_start(s, SMTP_ADMIT_OK, 0);
	const char *hdr = "EHLO c.example.org\r\nMAIL FROM:<a@b.org>\r\n"
		"RCPT TO:<x@example.net>\r\nDATA\r\n";
	smtp_session_input(s, hdr, strlen(hdr), 0);
	char big[1000];
	memset(big, 'z', sizeof big);
	memcpy(big + 998, "\r\n", 2);
	for (int i = 0; i < 100; i++)
		smtp_session_input(s, big, sizeof big, 0);
	CHECK(smtp_pool_in_use(pool) <= 4 * SMTP_CHUNK_SIZE);
	fake_clear(&f);
	smtp_session_input(s, ".\r\n", 3, 0);
	CHECK_EQ_STR(f.out, "452 4.3.1 Insufficient system storage, try "
		     "again later\r\n");
	CHECK_EQ_INT(f.nmsg, 0);
	smtp_session_free(s);
	CHECK_EQ_INT(smtp_pool_in_use(pool), 0);
	smtp_pool_free(pool);
	smtp_config_fini(&c);
	fake_fini(&f);
}

static void test_transition_log(void)
{
	struct env e;
	env_open(&e, NULL, CLIENT);
	put(&e, "EHLO c.example.org\r\nMAIL FROM:<a@b.org>\r\n");
	CHECK(strstr(e.f.log, "smtp 198.18.0.2: new -> connected\n"
		     "smtp 198.18.0.2: connected -> helo\n"
		     "smtp 198.18.0.2: helo -> mail\n") != NULL);
	env_close(&e);
}

/* ---- config ---- */

static void test_config(void)
{
	struct smtp_config c;
	smtp_config_defaults(&c);
	CHECK_EQ_INT(c.max_message_size, 20 << 20);
	CHECK_EQ_INT(c.max_recipients, 100);
	CHECK_EQ_INT(c.max_messages, 100);
	CHECK_EQ_INT(c.max_received, 100);
	CHECK_EQ_INT(c.command_line_max, 512);
	CHECK_EQ_INT(c.text_line_max, 1000);
	CHECK_EQ_INT(c.idle_timeout_us, 600000000);
	CHECK_EQ_INT(c.bare_lf, SMTP_BARE_LF_REJECT);

	/* the shipped file loads */
	char err[256];
	struct conf_doc *doc;
	int rc = conf_load(SLUICE_SRCDIR "/config/sluice.conf", &doc, err,
			   sizeof err);
	CHECK_MSG(rc == 0, "%s", err);
	if (rc == 0) {
		rc = smtp_config_load(doc, &c, err, sizeof err);
		CHECK_MSG(rc == 0, "%s", err);
		CHECK(smtp_domain_internal(&c.internal_domains,
					   "example.net", 11));
		CHECK(smtp_domain_internal(&c.internal_domains,
					   "a.b.example.net", 15));
		CHECK(!smtp_domain_internal(&c.internal_domains,
					    "xexample.net", 12));
		CHECK_EQ_INT(c.max_recipients, 100);
		smtp_config_fini(&c);
		conf_free(doc);
	}

	static const struct {
		const char *yaml;
		const char *err;   /* substring; NULL: loads */
	} rows[] = {
		{"smtp:\n  max_recipients: 5\n", NULL},
		{"smtp:\n  bare_lf: normalize\n", NULL},
		{"smtp:\n  bare_lf: maybe\n", "t.conf:2: smtp.bare_lf"},
		{"smtp:\n  relay_networks: [10.0.0.1/8]\n",
		 "t.conf:2: smtp.relay_networks: '10.0.0.1/8'"},
		{"smtp:\n  max_recipents: 5\n", "did you mean"},
		{"smtp:\n  idle_timeout: 10\n", "t.conf:2:"},
		{"smtp:\n  command_line_max: 100\n", "t.conf:2:"},
		{"smtp:\n  banner: \"a\\tb\"\n", "smtp.banner"},
		{"smtp:\n  hostname: \"bad host\"\n", "smtp.hostname"},
		{"internal_domains: [\"ex ample\"]\n", "internal_domains"},
		{"smtp:\n  max_message_size: 1 GiB\n  buffer_memory: 1 GiB\n",
		 "buffer_memory"},
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		rc = conf_load_string("t.conf", rows[i].yaml,
				      strlen(rows[i].yaml), &doc, err,
				      sizeof err);
		CHECK_MSG(rc == 0, "row %zu: %s", i, err);
		if (rc != 0)
			continue;
		rc = smtp_config_load(doc, &c, err, sizeof err);
		if (rows[i].err == NULL)
			CHECK_MSG(rc == 0, "row %zu: %s", i, err);
		else
			CHECK_MSG(rc == -EINVAL && strstr(err, rows[i].err),
				  "row %zu: rc %d '%s'", i, rc, err);
		if (rc == 0)
			smtp_config_fini(&c);
		conf_free(doc);
	}
	struct smtp_cidr cd;
	CHECK(smtp_cidr_parse("198.18.0.0/15", &cd) == 0 &&
	      cd.net == 0xc6120000u && cd.mask == 0xfffe0000u);
	CHECK(smtp_cidr_parse("1.2.3.4", &cd) == 0 && cd.mask == ~0u);
	CHECK(smtp_cidr_parse("0.0.0.0/0", &cd) == 0 && cd.mask == 0);
	CHECK(smtp_cidr_parse("1.2.3.4/33", &cd) != 0);
	CHECK(smtp_cidr_parse("1.2.3/24", &cd) != 0);
	CHECK(smtp_cidr_parse("1.2.3.0/", &cd) != 0);
}

/* ---- connection caps ---- */

static void test_conn_limits(void)
{
	struct smtp_conn_limits *l =
		smtp_conn_limits_create(5, 2, 0, 8, 42);
	const uint32_t A = 0x01020304, B = 0x01020305;
	CHECK_EQ_INT(smtp_conn_limits_admit(l, A, 0), SMTP_ADMIT_OK);
	CHECK_EQ_INT(smtp_conn_limits_admit(l, A, 0), SMTP_ADMIT_OK);
	CHECK_EQ_INT(smtp_conn_limits_admit(l, A, 0),
		     SMTP_ADMIT_TOO_MANY_FROM_YOU);
	CHECK_EQ_INT(smtp_conn_limits_count(l, A), 2);
	CHECK_EQ_INT(smtp_conn_limits_admit(l, B, 0), SMTP_ADMIT_OK);
	CHECK_EQ_INT(smtp_conn_limits_admit(l, B, 0), SMTP_ADMIT_OK);
	CHECK_EQ_INT(smtp_conn_limits_admit(l, 7, 0), SMTP_ADMIT_OK);
	CHECK_EQ_INT(smtp_conn_limits_admit(l, 8, 0), SMTP_ADMIT_TOO_MANY);
	CHECK_EQ_INT(smtp_conn_limits_total(l), 5);
	smtp_conn_limits_release(l, A);
	CHECK_EQ_INT(smtp_conn_limits_admit(l, A, 0), SMTP_ADMIT_OK);
	smtp_conn_limits_release(l, A);
	smtp_conn_limits_release(l, A);
	smtp_conn_limits_release(l, B);
	smtp_conn_limits_release(l, B);
	smtp_conn_limits_release(l, 7);
	CHECK_EQ_INT(smtp_conn_limits_total(l), 0);
	/* many distinct idle addresses: records are recycled (bounded) */
	for (uint32_t i = 0; i < 1000; i++) {
		CHECK(smtp_conn_limits_admit(l, 0x0a000000u + i, i) ==
		      SMTP_ADMIT_OK);
		smtp_conn_limits_release(l, 0x0a000000u + i);
	}
	CHECK_EQ_INT(smtp_conn_limits_count(l, 0x0a000000u + 999), 0);
	smtp_conn_limits_free(l);

	/* rate: 60 per minute = burst 60, then one per second */
	l = smtp_conn_limits_create(0, 0, 60, 16, 7);
	int ok = 0;
	for (int i = 0; i < 100; i++)
		if (smtp_conn_limits_admit(l, A, 1000) == SMTP_ADMIT_OK)
			ok++;
	CHECK_EQ_INT(ok, 60);
	CHECK_EQ_INT(smtp_conn_limits_admit(l, A, 1000), SMTP_ADMIT_RATE);
	CHECK_EQ_INT(smtp_conn_limits_admit(l, B, 1000), SMTP_ADMIT_OK);
	CHECK_EQ_INT(smtp_conn_limits_admit(l, A, 1000 + 999999),
		     SMTP_ADMIT_RATE);
	CHECK_EQ_INT(smtp_conn_limits_admit(l, A, 1000 + 1000000),
		     SMTP_ADMIT_OK);
	CHECK_EQ_INT(smtp_conn_limits_admit(l, A, 1000 + 1000001),
		     SMTP_ADMIT_RATE);
	smtp_conn_limits_free(l);
}

/* cb->rcpt_route: asked with (sender, that one recipient) for each RCPT
 * that passed the other checks; a different route than the first
 * accepted recipient's gets 452 4.5.3 (not counted as an error); NULL
 * means no opinion; the session keeps its own copy of the name. */
static char route_buf[32];
static char route_from[64], route_rcpt[64];
static unsigned route_calls;

static const char *fake_route(void *ctx, const char *from, const char *rcpt)
{
	route_calls++;
	snprintf(route_from, sizeof route_from, "%s", from);
	snprintf(route_rcpt, sizeof route_rcpt, "%s", rcpt);
	if (strncmp(rcpt, "none", 4) == 0)
		return NULL;
	const char *at = strchr(rcpt, '@');
	snprintf(route_buf, sizeof route_buf, "%s",
		 at && strcmp(at, "@sales.example.net") == 0 ? "sales"
							      : "inbound");
	return route_buf;
}

static void test_rcpt_route(void)
{
	struct env e;
	struct smtp_callbacks cb = fake_cb;
	cb.rcpt_route = fake_route;
	memset(&e, 0, sizeof e);
	load_cfg(&e.cfg, "  max_errors: 2\n");
	e.pool = smtp_pool_create(64 << 20);
	fake_init(&e.f);
	e.s = smtp_session_create(&e.cfg, e.pool, CLIENT, &cb, &e.f);
	e.f.s = e.s;
	smtp_session_start(e.s, SMTP_ADMIT_OK, e.now);
	route_calls = 0;
	put(&e, "EHLO c.example.org\r\nMAIL FROM:<a@other.org>\r\n");
	fake_clear(&e.f);
	put(&e, "RCPT TO:<x@example.net>\r\n");
	CHECK_EQ_INT(route_calls, 1);
	CHECK_EQ_STR(route_from, "a@other.org");
	CHECK_EQ_STR(route_rcpt, "x@example.net");
	strcpy(route_buf, "garbage");  /* the session copied "inbound" */
	put(&e, "RCPT TO:<y@sales.example.net>\r\n"
	    "RCPT TO:<s@sales.example.net>\r\n"
	    "RCPT TO:<t@sales.example.net>\r\n"
	    "RCPT TO:<none@example.net>\r\n"
	    "RCPT TO:<z@example.net>\r\n"
	    "RCPT TO:<r@elsewhere.org>\r\n");
	CHECK_EQ_STR(e.f.out, "250 2.1.5 Ok\r\n"
		     "452 4.5.3 Recipient in another policy route, send it "
		     "in a separate transaction\r\n"
		     "452 4.5.3 Recipient in another policy route, send it "
		     "in a separate transaction\r\n"
		     "452 4.5.3 Recipient in another policy route, send it "
		     "in a separate transaction\r\n"
		     "250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n"
		     "554 5.7.1 Relay access denied\r\n");
	CHECK_EQ_INT(route_calls, 6);  /* the relay refusal is not asked */
	CHECK(!smtp_session_closed(e.s));  /* 452s are not errors */
	e.f.qid = "Q1";
	put(&e, "DATA\r\n.\r\n");
	CHECK_EQ_INT(e.f.nrcpt, 3);
	smtp_session_verdict(e.s, 250, "2.0.0", "Ok", e.now);
	/* a new transaction: its own first recipient sets the route */
	fake_clear(&e.f);
	put(&e, "MAIL FROM:<>\r\nRCPT TO:<none@example.net>\r\n"
	    "RCPT TO:<y@sales.example.net>\r\nRCPT TO:<x@example.net>\r\n");
	CHECK_EQ_STR(route_from, "");
	CHECK_EQ_STR(e.f.out, "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"
		     "250 2.1.5 Ok\r\n452 4.5.3 Recipient in another policy "
		     "route, send it in a separate transaction\r\n");
	env_close(&e);
}

/* Shutdown while the client does not read: the 421 waits for room in
 * the output and goes out with smtp_session_writable(). */
static void test_drain_stalled(void)
{
	struct env e;
	env_open(&e, NULL, CLIENT);
	put(&e, "EHLO c.example.org\r\n");
	fake_clear(&e.f);
	char in[20 * 6 + 1] = "";
	for (int i = 0; i < 20; i++)
		strcat(in, "HELP\r\n");
	e.f.send_room = 0;
	size_t k = put(&e, in);
	CHECK(k > 0 && k < strlen(in));
	smtp_session_drain(e.s, e.now);
	CHECK(!e.f.closed);
	e.f.send_room = -1;
	smtp_session_writable(e.s, e.now);
	CHECK(e.f.closed && e.f.closes == 1);
	size_t n = strlen(e.f.out);
	static const char want[] = "421 4.3.2 mx.example.net Service "
		"shutting down, try again later\r\n";
	CHECK(n >= sizeof want - 1 &&
	      strcmp(e.f.out + n - (sizeof want - 1), want) == 0);
	CHECK_EQ_INT(put(&e, in + k), strlen(in) - k);  /* discarded */
	env_close(&e);
}

int main(void)
{
	RUN(test_path_table);
	RUN(test_xtext_utf8_helo);
	RUN(test_body_table);
	RUN(test_body_limits);
	RUN(test_session_basic);
	RUN(test_pipelining_batch);
	RUN(test_backpressure);
	RUN(test_storage_full);
	RUN(test_sync_verdict_and_refusal);
	RUN(test_short_send);
	RUN(test_detach);
	RUN(test_transport_failure);
	RUN(test_timeouts);
	RUN(test_connection_control);
	RUN(test_relay_table);
	RUN(test_smuggling_matrix);
	RUN(test_bdat);
	RUN(test_limits_in_session);
	RUN(test_pool_cap);
	RUN(test_transition_log);
	RUN(test_config);
	RUN(test_conn_limits);
	RUN(test_rcpt_route);
	RUN(test_drain_stalled);
	return CHECK_DONE();
}
