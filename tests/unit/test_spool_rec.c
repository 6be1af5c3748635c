/* tests/unit/test_spool_rec.c - spool/spool_rec.c and crc32c.c: CRC-32C
 * vectors (hardware == table); queue ids unique, increasing, decodable,
 * above a floor; every field round-trips plain and zstd-compressed;
 * every truncation, every flipped bit, trailing bytes, an unknown version,
 * bad counts and strings are refused with the right error; done records. */
#include "spool/crc32c.h"
#include "spool/spool_rec.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "test_spool_util.h"

static void test_crc32c(void)
{
	CHECK_EQ_INT(spool_crc32c(0, "123456789", 9), 0xe3069283u);
	CHECK_EQ_INT(spool_crc32c_portable(0, "123456789", 9), 0xe3069283u);
	CHECK_EQ_INT(spool_crc32c(0, "", 0), 0);
	uint8_t *b = su_body(10007, 0, 3);
	for (size_t n = 0; n < 10007; n += 997) {
		/* Any split point, any alignment: same as one pass. */
		uint32_t one = spool_crc32c(0, b + 1, n);
		uint32_t two = spool_crc32c(spool_crc32c(0, b + 1, n / 3),
					    b + 1 + n / 3, n - n / 3);
		CHECK(one == two);
		CHECK(one == spool_crc32c_portable(0, b + 1, n));
	}
	free(b);
}

static void test_qid(void)
{
	struct spool_qid_gen a, b;
	char prev[17] = "", q[17], qb[17];
	spool_qid_gen_init(&a, 1, NULL);
	spool_qid_gen_init(&b, 2, NULL);
	uint64_t now = 1700000000000ull;
	for (int i = 0; i < 100000; i++) {
		spool_qid_next(&a, now + (uint64_t)(i / 1000), q);
		CHECK(spool_qid_check(q) == 0);
		CHECK_MSG(strcmp(prev, q) < 0, "%s !< %s", prev, q);
		CHECK(spool_qid_ms(q) == now + (uint64_t)(i / 1000));
		spool_qid_next(&b, now + (uint64_t)(i / 1000), qb);
		CHECK(strcmp(q, qb) != 0); /* other generator, same ms */
		memcpy(prev, q, sizeof q);
		if (check_failures_)
			break;
	}
	/* Clock going back: still increasing. */
	spool_qid_next(&a, now - 5000, q);
	CHECK(strcmp(prev, q) < 0);
	/* Floor: a restart with an older clock makes newer ids. */
	spool_qid_gen_init(&a, 1, prev);
	spool_qid_next(&a, now - 100000, q);
	CHECK(strcmp(prev, q) < 0);
	CHECK(spool_qid_ms(q) > spool_qid_ms(prev));
	CHECK(spool_qid_check("0123456789ABCDEF") == 0);
	CHECK(spool_qid_check("0123456789ABCDEI") == -EINVAL);  /* I */
	CHECK(spool_qid_check("0123456789abcdef") == -EINVAL);  /* case */
	CHECK(spool_qid_check("0123456789ABCDE") == -EINVAL);   /* short */
	CHECK(spool_qid_check("0123456789ABCDEFG") == -EINVAL); /* long */
}

/* Encode m; parse it back; compare. Returns the encoded buffer. */
static uint8_t *round_trip(struct spool_enc *e, const struct spool_msg *m,
			   size_t *len, uint32_t want_flags)
{
	size_t cap = spool_rec_bound(m);
	CHECK(cap != SIZE_MAX);
	if (cap == SIZE_MAX)
		return NULL;
	uint8_t *buf = malloc(cap);
	int rc = spool_enc_message(e, m, buf, cap, len);
	CHECK_EQ_INT(rc, 0);
	if (rc != 0) {
		free(buf);
		return NULL;
	}
	CHECK(*len <= cap);
	struct spool_rec r;
	char err[200] = "";
	rc = spool_rec_parse(buf, *len, &r, err, sizeof err);
	CHECK_MSG(rc == 0, "%s", err);
	if (rc == 0) {
		CHECK_EQ_INT(r.type, SPOOL_REC_MESSAGE);
		CHECK_EQ_INT(r.msg.flags, want_flags);
		su_check_same(m, &r.msg);
		spool_rec_clear(&r);
	}
	return buf;
}

static void test_round_trip(void)
{
	struct spool_enc *z = spool_enc_create(3, 4096);
	struct spool_msg m;
	size_t len;
	/* Sizes around the compression threshold, empty, plain noise. */
	static const struct {
		size_t n;
		int text;
		uint32_t flags;
	} rows[] = {
		{0, 1, 0},          {1, 1, 0},
		{4096, 1, 0},       {4097, 1, SPOOL_F_ZSTD},
		{300000, 1, SPOOL_F_ZSTD},
		{300000, 0, 0}, /* incompressible: stored plain */
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		uint8_t *body = su_body(rows[i].n, rows[i].text, (unsigned)i);
		su_msg(&m, "01HX0000000000AB", body, rows[i].n);
		uint8_t *buf = round_trip(z, &m, &len, rows[i].flags);
		if (rows[i].flags & SPOOL_F_ZSTD)
			CHECK_MSG(len < rows[i].n / 4, "%zu -> %zu", rows[i].n,
				  len);
		free(buf);
		/* Without an encoder: always plain. */
		buf = round_trip(NULL, &m, &len, 0);
		free(buf);
		free(body);
	}
	/* Empty lists and NULL strings come back as "". */
	memset(&m, 0, sizeof m);
	memcpy(m.qid, "0000000000000000", 17);
	uint8_t buf[256];
	CHECK_EQ_INT(spool_enc_message(NULL, &m, buf, sizeof buf, &len), 0);
	struct spool_rec r;
	CHECK_EQ_INT(spool_rec_parse(buf, len, &r, NULL, 0), 0);
	CHECK_EQ_STR(r.msg.mail_from, "");
	CHECK_EQ_INT(r.msg.nrcpts, 0);
	CHECK(r.msg.data_len == 0);
	spool_rec_clear(&r);
	spool_enc_free(z);
}

static void test_encode_errors(void)
{
	struct spool_msg m;
	uint8_t body[100] = {0}, buf[4096];
	size_t len;
	su_msg(&m, "01HX0000000000AB", body, sizeof body);
	CHECK_EQ_INT(spool_enc_message(NULL, &m, buf, 100, &len), -ENOSPC);
	su_msg(&m, "01HX00000000", body, sizeof body);
	CHECK_EQ_INT(spool_enc_message(NULL, &m, buf, sizeof buf, &len),
		     -EINVAL);
	su_msg(&m, "01HX0000000000AB", NULL, 5);
	CHECK_EQ_INT(spool_enc_message(NULL, &m, buf, sizeof buf, &len),
		     -EINVAL);
	char *big = malloc(70000);
	memset(big, 'a', 69999);
	big[69999] = '\0';
	su_msg(&m, "01HX0000000000AB", body, sizeof body);
	m.helo = big;
	CHECK_EQ_INT(spool_enc_message(NULL, &m, buf, sizeof buf, &len),
		     -EINVAL);
	free(big);
	/* Bound is enough for every encoder, even when zstd expands. */
	uint8_t *noise = su_body(5000, 0, 9);
	su_msg(&m, "01HX0000000000AB", noise, 5000);
	struct spool_enc *z = spool_enc_create(19, 0);
	size_t cap = spool_rec_bound(&m);
	uint8_t *b2 = malloc(cap);
	CHECK_EQ_INT(spool_enc_message(z, &m, b2, cap, &len), 0);
	free(b2);
	free(noise);
	spool_enc_free(z);
}

/* Rewrite the CRC after editing a record (to reach the checks behind it). */
static void reseal(uint8_t *p, size_t len)
{
	uint32_t c = spool_crc32c(0, p + 8, len - 8);
	for (int i = 0; i < 4; i++)
		p[4 + i] = (uint8_t)(c >> (8 * i));
}

static void test_parse_refuses(void)
{
	struct spool_msg m;
	struct spool_rec r;
	uint8_t *body = su_body(6000, 1, 1);
	size_t len;
	char err[200];
	struct spool_enc *z = spool_enc_create(3, 100);
	su_msg(&m, "01HX0000000000AB", body, 6000);
	uint8_t *buf = malloc(spool_rec_bound(&m) + 8);
	CHECK_EQ_INT(spool_enc_message(z, &m, buf, spool_rec_bound(&m), &len),
		     0);
	/* Every truncation. */
	for (size_t n = 0; n < len; n++) {
		int rc = spool_rec_parse(buf, n, &r, NULL, 0);
		CHECK_MSG(rc == -EBADMSG, "len %zu: %d", n, rc);
		if (rc == 0)
			spool_rec_clear(&r);
	}
	/* Every flipped bit: the framing or the CRC says no. */
	for (size_t i = 0; i < len * 8; i += 7) {
		buf[i / 8] ^= (uint8_t)(1u << (i % 8));
		int rc = spool_rec_parse(buf, len, &r, NULL, 0);
		CHECK_MSG(rc == -EBADMSG, "bit %zu: %d", i, rc);
		if (rc == 0)
			spool_rec_clear(&r);
		buf[i / 8] ^= (uint8_t)(1u << (i % 8));
	}
	CHECK_EQ_INT(spool_rec_parse(buf, len, &r, NULL, 0), 0);
	spool_rec_clear(&r);
	/* Trailing byte (length field says len+1, resealed). */
	buf[len] = 0;
	buf[12] = (uint8_t)(len + 1);
	buf[13] = (uint8_t)((len + 1) >> 8);
	reseal(buf, len + 1);
	CHECK_EQ_INT(spool_rec_parse(buf, len + 1, &r, err, sizeof err),
		     -EINVAL);
	CHECK_MSG(strstr(err, "after the end") != NULL, "%s", err);
	buf[12] = (uint8_t)len;
	buf[13] = (uint8_t)(len >> 8);
	reseal(buf, len);
	/* Unknown version: refused by name. */
	buf[8] = 2;
	reseal(buf, len);
	CHECK_EQ_INT(spool_rec_parse(buf, len, &r, err, sizeof err),
		     -EPROTONOSUPPORT);
	CHECK_MSG(strstr(err, "version 2") != NULL, "%s", err);
	buf[8] = 1;
	/* Unknown type. */
	buf[10] = 9;
	reseal(buf, len);
	CHECK_EQ_INT(spool_rec_parse(buf, len, &r, NULL, 0), -EINVAL);
	buf[10] = 1;
	/* A string losing its NUL; a recipient count too large for the
	 * bytes left (no huge allocation); unknown flags. */
	size_t helo_len_at = 32 + 4 + 16 + 2 + strlen(m.client) + 1;
	buf[helo_len_at] = (uint8_t)(buf[helo_len_at] + 1);
	reseal(buf, len);
	CHECK_EQ_INT(spool_rec_parse(buf, len, &r, err, sizeof err), -EINVAL);
	CHECK_MSG(strstr(err, "HELO") != NULL, "%s", err);
	buf[helo_len_at] = (uint8_t)(buf[helo_len_at] - 1);
	size_t rc_at = helo_len_at + 2 + strlen(m.helo) + 1 + 2 +
		       strlen(m.mail_from) + 1 + 8 + 3 + 2 + strlen(m.envid) +
		       1;
	CHECK_EQ_INT(buf[rc_at], 3);
	buf[rc_at + 3] = 0x7f;
	reseal(buf, len);
	CHECK_EQ_INT(spool_rec_parse(buf, len, &r, err, sizeof err), -EINVAL);
	CHECK_MSG(strstr(err, "recipient count") != NULL, "%s", err);
	buf[rc_at + 3] = 0;
	buf[32] = 0x82; /* flags */
	reseal(buf, len);
	CHECK_EQ_INT(spool_rec_parse(buf, len, &r, NULL, 0), -EINVAL);
	buf[32] = SPOOL_F_ZSTD;
	reseal(buf, len);
	CHECK_EQ_INT(spool_rec_parse(buf, len, &r, NULL, 0), 0);
	/* The digest protects the message bytes beyond the CRC: a record
	 * whose digest does not match is caught by spool_msg_body. */
	memset(r.msg.sha256, 0, 32);
	const uint8_t *out;
	void *owned;
	CHECK_EQ_INT(spool_msg_body(&r.msg, &out, &owned, err, sizeof err),
		     -EBADMSG);
	spool_rec_clear(&r);
	free(buf);
	free(body);
	spool_enc_free(z);
}

static void test_done_record(void)
{
	uint8_t buf[128];
	size_t len;
	struct spool_rec r;
	CHECK_EQ_INT(spool_rec_encode_done("01HX0000000000AB", 77,
					   "delivered", buf, sizeof buf, &len),
		     0);
	CHECK_EQ_INT(spool_rec_parse(buf, len, &r, NULL, 0), 0);
	CHECK_EQ_INT(r.type, SPOOL_REC_DONE);
	CHECK_EQ_STR(r.msg.qid, "01HX0000000000AB");
	CHECK(r.done_us == 77);
	CHECK_EQ_STR(r.done_reason, "delivered");
	spool_rec_clear(&r);
	CHECK_EQ_INT(spool_rec_encode_done("nope", 1, "", buf, sizeof buf,
					   &len), -EINVAL);
	CHECK_EQ_INT(spool_rec_encode_done("01HX0000000000AB", 1, "x", buf,
					   20, &len), -ENOSPC);
}

int main(void)
{
	RUN(test_crc32c);
	RUN(test_qid);
	RUN(test_round_trip);
	RUN(test_encode_errors);
	RUN(test_parse_refuses);
	RUN(test_done_record);
	return CHECK_DONE();
}
