/* tests/unit/test_tcpopt.c - tcpstack/tcpopt.c */
#include "tcpstack/tcpopt.h"
#include "tests/unit/check.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#define RND_SEED 0x5851f42d4c957f2dull
#include "tests/unit/rnd.h"

/* Parse from an exact-size heap copy so ASan sees any overread. */
static int parse(const uint8_t *b, size_t n, struct tcp_opts *o)
{
	uint8_t *c = malloc(n ? n : 1);
	memcpy(c, b, n);
	int rc = tcp_opts_parse(c, n, o);
	free(c);
	return rc;
}

#define TS1 0x11, 0x22, 0x33, 0x44
#define TS2 0x55, 0x66, 0x77, 0x88
#define B(x) 0, 0, 0, x

struct row {
	const char *name;
	uint8_t in[48];
	size_t len;
	int rc;
	uint32_t present;
	uint8_t err;
	uint16_t mss;
	uint8_t wscale, clamped, sack_n, unknown;
	uint32_t ts_val, ts_ecr;
};

static const struct row rows[] = {
	{ .name = "empty", .in = {0}, .len = 0 },
	{ .name = "linux syn", .in = { 2, 4, 0x05, 0xb4, 4, 2, 8, 10, TS1,
	  TS2, 1, 3, 3, 7 }, .len = 20, .present = TCP_OPTF_MSS |
	  TCP_OPTF_SACK_PERM | TCP_OPTF_TS | TCP_OPTF_WSCALE, .mss = 1460,
	  .wscale = 7, .ts_val = 0x11223344, .ts_ecr = 0x55667788 },
	{ .name = "nop nop ts", .in = { 1, 1, 8, 10, TS1, TS2 }, .len = 12,
	  .present = TCP_OPTF_TS, .ts_val = 0x11223344, .ts_ecr = 0x55667788 },
	{ .name = "mss only", .in = { 2, 4, 0x02, 0x18 }, .len = 4, .present =
	  TCP_OPTF_MSS, .mss = 536 },
	{ .name = "wscale 14", .in = { 3, 3, 14, 0 }, .len = 4, .present =
	  TCP_OPTF_WSCALE, .wscale = 14 },
	{ .name = "wscale 15 clamped", .in = { 3, 3, 15, 0 }, .len = 4,
	  .present = TCP_OPTF_WSCALE, .wscale = 14, .clamped = 1 },
	{ .name = "wscale 255 clamped", .in = { 3, 3, 255, 1 }, .len = 4,
	  .present = TCP_OPTF_WSCALE, .wscale = 14, .clamped = 1 },
	{ .name = "sack perm", .in = { 4, 2 }, .len = 2, .present =
	  TCP_OPTF_SACK_PERM },
	{ .name = "sack 1", .in = { 1, 1, 5, 10, B(1), B(2) }, .len = 12,
	  .present = TCP_OPTF_SACK, .sack_n = 1 },
	{ .name = "sack 4", .in = { 5, 34, B(1), B(2), B(3), B(4), B(5), B(6),
	  B(7), B(8) }, .len = 34, .present = TCP_OPTF_SACK, .sack_n = 4 },
	{ .name = "sack 0 blocks", .in = { 5, 2, 2, 4, 1, 0 }, .len = 6, .rc =
	  -EBADMSG, .present = TCP_OPTF_MSS, .err = TCP_OPTERR_BADLEN, .mss =
	  256 },
	{ .name = "sack 5 blocks", .in = { 5, 42 }, .len = 42, .rc = -EBADMSG,
	  .err = TCP_OPTERR_BADLEN },
	{ .name = "sack len 11", .in = { 5, 11, B(1), B(2), 0 }, .len = 11,
	  .rc = -EBADMSG, .err = TCP_OPTERR_BADLEN },
	{ .name = "mss len 3 skipped", .in = { 2, 3, 1, 3, 3, 5 }, .len = 6,
	  .rc = -EBADMSG, .present = TCP_OPTF_WSCALE, .err = TCP_OPTERR_BADLEN,
	  .wscale = 5 },
	{ .name = "ts len 9", .in = { 8, 9, 1, 2, 3, 4, 5, 6, 7 }, .len = 9,
	  .rc = -EBADMSG, .err = TCP_OPTERR_BADLEN },
	{ .name = "sack perm len 3", .in = { 4, 3, 0 }, .len = 3, .rc =
	  -EBADMSG, .err = TCP_OPTERR_BADLEN },
	{ .name = "length 1 stops", .in = { 30, 1, 2, 4, 1, 0 }, .len = 6, .rc
	  = -EBADMSG, .err = TCP_OPTERR_TRUNC },
	{ .name = "length 0 stops", .in = { 2, 4, 1, 0, 30, 0, 3, 3, 1 }, .len
	  = 9, .rc = -EBADMSG, .present = TCP_OPTF_MSS, .err = TCP_OPTERR_TRUNC,
	  .mss = 256 },
	{ .name = "mss past end", .in = { 1, 2, 4, 5 }, .len = 4, .rc =
	  -EBADMSG, .err = TCP_OPTERR_TRUNC },
	{ .name = "kind alone at end", .in = { 1, 1, 1, 2 }, .len = 4, .rc =
	  -EBADMSG, .err = TCP_OPTERR_TRUNC },
	{ .name = "unknown past end", .in = { 30, 200, 0, 0 }, .len = 4, .rc =
	  -EBADMSG, .err = TCP_OPTERR_TRUNC },
	{ .name = "eol stops", .in = { 0, 2, 4, 5, 0xb4 }, .len = 5 },
	{ .name = "eol after mss", .in = { 2, 4, 5, 0xb4, 0, 3, 3, 3 }, .len =
	  8, .present = TCP_OPTF_MSS, .mss = 1460 },
	{ .name = "unknown skipped", .in = { 30, 4, 9, 9, 2, 4, 5, 0xb4, 254,
	  2 }, .len = 10, .present = TCP_OPTF_MSS, .mss = 1460, .unknown = 2 },
	{ .name = "dup mss first wins", .in = { 2, 4, 5, 0xb4, 2, 4, 0, 1 },
	  .len = 8, .rc = -EBADMSG, .present = TCP_OPTF_MSS, .err =
	  TCP_OPTERR_DUP, .mss = 1460 },
	{ .name = "dup ts first wins", .in = { 8, 10, TS1, TS2, 8, 10, TS2,
	  TS1 }, .len = 20, .rc = -EBADMSG, .present = TCP_OPTF_TS, .err =
	  TCP_OPTERR_DUP, .ts_val = 0x11223344, .ts_ecr = 0x55667788 },
	{ .name = "all nops", .in = { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	  1, 1, 1, 1 }, .len = 40 },
};

static void test_parse_rows(void)
{
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];
		struct tcp_opts o;
		memset(&o, 0xa5, sizeof(o));
		int rc = parse(r->in, r->len, &o);
		int bad = check_failures_;
		CHECK_EQ_INT(rc, r->rc);
		CHECK_EQ_INT(o.present, r->present);
		CHECK_EQ_INT(o.err, r->err);
		CHECK_EQ_INT(o.mss, r->mss);
		CHECK_EQ_INT(o.wscale, r->wscale);
		CHECK_EQ_INT(o.wscale_clamped, r->clamped);
		CHECK_EQ_INT(o.sack_n, r->sack_n);
		CHECK_EQ_INT(o.unknown, r->unknown);
		CHECK_EQ_INT(o.ts_val, r->ts_val);
		CHECK_EQ_INT(o.ts_ecr, r->ts_ecr);
		for (unsigned b = 0; b < o.sack_n && b < 4; b++) {
			CHECK_EQ_INT(o.sack[b].left, 2 * b + 1);
			CHECK_EQ_INT(o.sack[b].right, 2 * b + 2);
		}
		if (check_failures_ != bad)
			fprintf(stderr, "  in row \"%s\"\n", r->name);
	}
}

/* Every prefix of a valid list: no overread, nothing invented. */
static void test_truncated_prefixes(void)
{
	static const uint8_t full[] = { 2, 4, 5, 0xb4, 4, 2, 8, 10, TS1, TS2,
					1, 3, 3, 7, 1, 1, 5, 10, B(1), B(2) };
	for (size_t n = 0; n <= sizeof(full); n++) {
		struct tcp_opts o;
		int rc = parse(full, n, &o);
		/* Options complete within n are kept; a cut one flags. */
		int cut = !(n == 0 || n == 4 || n == 6 || n == 16 ||
			    n == 17 || n == 20 || n == 21 || n == 22 ||
			    n == sizeof(full));
		CHECK_MSG(rc == (cut ? -EBADMSG : 0), "n %zu rc %d", n, rc);
		CHECK_EQ_INT(!!(o.present & TCP_OPTF_MSS), n >= 4);
		CHECK_EQ_INT(!!(o.present & TCP_OPTF_TS), n >= 16);
		CHECK_EQ_INT(!!(o.present & TCP_OPTF_WSCALE), n >= 20);
		CHECK_EQ_INT(!!(o.present & TCP_OPTF_SACK), n == sizeof(full));
	}
}

static void test_build_syn_linux_order(void)
{
	struct tcp_opts o = { 0 };
	o.present = TCP_OPTF_MSS | TCP_OPTF_SACK_PERM | TCP_OPTF_TS |
		    TCP_OPTF_WSCALE;
	o.mss = 1460;
	o.wscale = 7;
	o.ts_val = 0x11223344;
	o.ts_ecr = 0;
	uint8_t b[40];
	static const uint8_t want[] = { 2, 4, 5, 0xb4, 4, 2, 8, 10, TS1,
					0, 0, 0, 0, 1, 3, 3, 7 };
	int n = tcp_opts_build(&o, b, sizeof(b), NULL);
	CHECK_EQ_MEM(b, (size_t)(n < 0 ? 0 : n), want, sizeof(want));

	/* Without timestamps: MSS, NOP WS, NOP NOP SACK_PERM. */
	o.present &= ~TCP_OPTF_TS;
	static const uint8_t want2[] = { 2, 4, 5, 0xb4, 1, 3, 3, 7,
					 1, 1, 4, 2 };
	n = tcp_opts_build(&o, b, sizeof(b), NULL);
	CHECK_EQ_MEM(b, (size_t)(n < 0 ? 0 : n), want2, sizeof(want2));

	/* Timestamps without SACK_PERM: NOP NOP TS. */
	o.present = TCP_OPTF_TS;
	static const uint8_t want3[] = { 1, 1, 8, 10, TS1, 0, 0, 0, 0 };
	n = tcp_opts_build(&o, b, sizeof(b), NULL);
	CHECK_EQ_MEM(b, (size_t)(n < 0 ? 0 : n), want3, sizeof(want3));

	o.present = 0;
	CHECK_EQ_INT(tcp_opts_build(&o, b, 0, NULL), 0);
}

static void test_build_sack_fit(void)
{
	struct tcp_opts o = { 0 };
	o.present = TCP_OPTF_TS | TCP_OPTF_SACK;
	o.sack_n = 4;
	for (unsigned i = 0; i < 4; i++) {
		o.sack[i].left = 100 * i;
		o.sack[i].right = 100 * i + 50;
	}
	uint8_t b[64];
	unsigned w = 99;
	/* 12 (TS) + 4 + 8n <= 40: three blocks go out. */
	CHECK_EQ_INT(tcp_opts_build(&o, b, sizeof(b), &w), 40);
	CHECK_EQ_INT(w, 3);
	struct tcp_opts p;
	CHECK_EQ_INT(tcp_opts_parse(b, 40, &p), 0);
	CHECK_EQ_INT(p.sack_n, 3);
	CHECK_EQ_INT(p.sack[2].left, 200);
	/* Without TS all four fit in 36 bytes. */
	o.present = TCP_OPTF_SACK;
	CHECK_EQ_INT(tcp_opts_build(&o, b, sizeof(b), &w), 36);
	CHECK_EQ_INT(w, 4);
	/* Small room: fewer blocks, then no room at all. */
	CHECK_EQ_INT(tcp_opts_build(&o, b, 20, &w), 20);
	CHECK_EQ_INT(w, 2);
	CHECK_EQ_INT(tcp_opts_build(&o, b, 11, &w), -ENOSPC);
	o.present = TCP_OPTF_MSS | TCP_OPTF_TS;
	CHECK_EQ_INT(tcp_opts_build(&o, b, 15, NULL), -ENOSPC);
	CHECK_EQ_INT(tcp_opts_build(&o, b, 16, NULL), 16);
}

static void test_build_invalid(void)
{
	struct tcp_opts o = { 0 };
	uint8_t b[40];
	o.present = TCP_OPTF_WSCALE;
	o.wscale = 15;
	CHECK_EQ_INT(tcp_opts_build(&o, b, sizeof(b), NULL), -EINVAL);
	o.present = TCP_OPTF_SACK;
	o.sack_n = 0;
	CHECK_EQ_INT(tcp_opts_build(&o, b, sizeof(b), NULL), -EINVAL);
	o.sack_n = 5;
	CHECK_EQ_INT(tcp_opts_build(&o, b, sizeof(b), NULL), -EINVAL);
}

/* Every combination of options, random values: build, parse, equal. */
static void test_roundtrip_all_combinations(void)
{
	for (uint32_t mask = 0; mask < 32; mask++) {
		for (int t = 0; t < 50; t++) {
			struct tcp_opts o = { 0 };
			o.present = mask;
			o.mss = (uint16_t)rnd();
			o.wscale = (uint8_t)(rnd() % 15);
			o.ts_val = rnd();
			o.ts_ecr = rnd();
			o.sack_n = (uint8_t)(1 + rnd() % 4);
			for (unsigned i = 0; i < 4; i++) {
				o.sack[i].left = rnd();
				o.sack[i].right = rnd();
			}
			uint8_t b[40];
			unsigned w;
			int n = tcp_opts_build(&o, b, sizeof(b), &w);
			if (n == -ENOSPC) {
				CHECK(0); /* every fixed combination fits */
				continue;
			}
			CHECK(n >= 0 && n % 4 == 0 && n <= 40);
			struct tcp_opts p;
			CHECK_EQ_INT(parse(b, (size_t)n, &p), 0);
			CHECK_EQ_INT(p.present, mask & ~(w ? 0u : TCP_OPTF_SACK));
			if (mask & TCP_OPTF_MSS)
				CHECK_EQ_INT(p.mss, o.mss);
			if (mask & TCP_OPTF_WSCALE)
				CHECK_EQ_INT(p.wscale, o.wscale);
			if (mask & TCP_OPTF_TS) {
				CHECK_EQ_INT(p.ts_val, o.ts_val);
				CHECK_EQ_INT(p.ts_ecr, o.ts_ecr);
			}
			if (mask & TCP_OPTF_SACK) {
				CHECK(w >= 1);
				CHECK_EQ_INT(p.sack_n, w);
				for (unsigned i = 0; i < w && i < 4; i++) {
					CHECK_EQ_INT(p.sack[i].left, o.sack[i].left);
					CHECK_EQ_INT(p.sack[i].right, o.sack[i].right);
				}
			}
		}
	}
}

int main(void)
{
	RUN(test_parse_rows);
	RUN(test_truncated_prefixes);
	RUN(test_build_syn_linux_order);
	RUN(test_build_sack_fit);
	RUN(test_build_invalid);
	RUN(test_roundtrip_all_combinations);
	return CHECK_DONE();
}
