/*
 * tests/fuzz/fuzz_smtp_server.c - one SMTP server session (smtp/server.h)
 * fed arbitrary bytes in arbitrary chunkings, with verdicts, stalls and
 * clock steps in between. The input is:
 *   [0] config: bit 0 bare_lf normalize, bit 1 greeting delay, bit 2 a
 *       relay client, bit 3 start before the first input (else early
 *       talker when the first record is input), bit 4 a rcpt_route
 *       callback (two routes by recipient domain, sometimes none)
 *   then records [op][n] followed by n bytes for input ops:
 *       op % 8 == 0..3  input n bytes (n from the next byte)
 *                4      verdict (code from n: 250/451/550/421/...)
 *                5      send room: n * 16 bytes (0: stall), 255 unlimited
 *                6      writable(); with n & 0x80 drain() first
 *                       (shutdown: 421 now or after the transaction)
 *                7      advance the clock by n * 7 seconds and tick
 * Checked: no crash or sanitizer report; the bytes a session takes never
 * exceed what it was given; message memory in use stays under the bound
 * the limits imply; after the session and any detached message are
 * freed, every chunk is back in the pool; a message is handed up only
 * when the previous one has its verdict, and never after the session
 * closed.
 */
#include "smtp/config.h"
#include "smtp/server.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fz {
	long room;          /* < 0 unlimited */
	bool closed;
	const struct smtp_message *msg;  /* out for its verdict */
	unsigned nmsg;
};

static long f_send(void *ctx, const void *buf, size_t len)
{
	struct fz *f = ctx;
	(void)buf;
	if (f->room < 0)
		return (long)len;
	size_t k = len < (size_t)f->room ? len : (size_t)f->room;
	f->room -= (long)k;
	return (long)k;
}

static void f_close(void *ctx)
{
	struct fz *f = ctx;
	assert(!f->closed);
	f->closed = true;
}

static int f_message(void *ctx, const struct smtp_message *m)
{
	struct fz *f = ctx;
	assert(f->msg == NULL);
	assert(!f->closed);
	assert(m->env.nrcpt > 0 && m->env.rcpt != NULL);
	uint64_t total = 0;
	for (const struct smtp_seg *s = m->data; s; s = s->next)
		total += s->len;
	assert(total == m->size);
	f->nmsg++;
	if (f->nmsg % 7 == 3)
		return -1;   /* sometimes the ring is full: not ours to keep */
	f->msg = m;
	return 0;
}

static const char *f_route(void *ctx, const char *from, const char *rcpt)
{
	const char *at = strrchr(rcpt, '@');
	(void)ctx;
	assert(from != NULL);
	if (at == NULL)
		return NULL;
	return strstr(at, "sales") != NULL ? "sales" : "inbound";
}

static const struct smtp_callbacks cbs = {
	.send = f_send, .close = f_close, .message = f_message,
};
static const struct smtp_callbacks cbs_route = {
	.send = f_send, .close = f_close, .message = f_message,
	.rcpt_route = f_route,
};

#define MAXMSG (64u << 10)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct smtp_config cfg;
	static bool init;
	if (!init) {
		smtp_config_defaults(&cfg);
		strcpy(cfg.hostname, "mx.example.net");
		strcpy(cfg.banner, "mx.example.net ESMTP");
		cfg.max_message_size = MAXMSG;
		cfg.max_recipients = 20;
		cfg.max_messages = 5;
		cfg.internal_domains.v = calloc(2, sizeof(char *));
		cfg.internal_domains.v[0] = strdup("example.net");
		cfg.internal_domains.v[1] = strdup("*.example.net");
		cfg.internal_domains.n = 2;
		cfg.relay_networks.v = calloc(1, sizeof *cfg.relay_networks.v);
		smtp_cidr_parse("10.0.0.0/8", &cfg.relay_networks.v[0]);
		cfg.relay_networks.n = 1;
		init = true;
	}
	if (size < 1)
		return 0;
	struct smtp_config c = cfg;
	c.bare_lf = data[0] & 1 ? SMTP_BARE_LF_NORMALIZE : SMTP_BARE_LF_REJECT;
	c.greeting_delay_us = data[0] & 2 ? 1000000 : 0;
	uint32_t ip = data[0] & 4 ? 0x0a000001u : 0xc6120002u;

	struct smtp_pool *pool = smtp_pool_create(8u << 20);
	struct fz f = {.room = -1};
	struct smtp_session *s = smtp_session_create(&c, pool, ip,
		data[0] & 16 ? &cbs_route : &cbs, &f);
	uint64_t now = 1000000;
	/* envelope arena: 20 rcpts * (struct + 256 + 500) + header, few
	 * chunks; body: the cap plus one partly filled chunk */
	const uint64_t bound = MAXMSG + 8 * SMTP_CHUNK_SIZE;
	bool started = false;
	if (data[0] & 8) {
		smtp_session_start(s, SMTP_ADMIT_OK, now);
		started = true;
	}

	size_t i = 1;
	while (i + 1 < size) {
		uint8_t op = data[i], n = data[i + 1];
		i += 2;
		switch (op % 8) {
		case 0: case 1: case 2: case 3: {
			size_t len = n;
			if (len > size - i)
				len = size - i;
			size_t k = smtp_session_input(s, data + i, len, now);
			assert(k <= len);
			i += len;  /* what was not taken is dropped */
			if (!started) {
				smtp_session_start(s, SMTP_ADMIT_OK, now);
				started = true;
			}
			break;
		}
		case 4:
			if (f.msg != NULL) {
				static const int codes[] = {250, 451, 550, 421,
					554, 250, 452, 250};
				f.msg = NULL;
				int rc = smtp_session_verdict(s, codes[n % 8],
							      n & 8 ? NULL : "2.0.0",
							      n & 16 ? "x\r\ny" : "ok",
							      now);
				assert(rc == 0);
			} else {
				assert(smtp_session_verdict(s, 250, NULL, NULL,
							    now) != 0);
			}
			break;
		case 5:
			f.room = n == 255 ? -1 : (long)n * 16;
			break;
		case 6:
			if (n & 0x80)
				smtp_session_drain(s, now);
			smtp_session_writable(s, now);
			break;
		case 7:
			now += (uint64_t)n * 7000000;
			smtp_session_tick(s, now);
			break;
		}
		if (f.msg != NULL && !smtp_session_busy(s))
			f.msg = NULL;  /* refused hand-off: released */
		assert(smtp_pool_in_use(pool) <= bound);
	}
	const struct smtp_message *out = smtp_session_busy(s) ? f.msg : NULL;
	smtp_session_free(s);
	smtp_message_free(out);
	assert(smtp_pool_in_use(pool) == 0);
	smtp_pool_free(pool);
	return 0;
}
