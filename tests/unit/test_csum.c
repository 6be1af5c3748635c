/* tests/unit/test_csum.c - tcpstack/csum.c */
#include "tcpstack/csum.h"
#include "tests/unit/check.h"

#include <stdint.h>
#include <stdlib.h>

#define RND_SEED 0x9e3779b97f4a7c15ull
#include "tests/unit/rnd.h"

/* Independent naive RFC 1071: big-endian 16-bit words, 64-bit total. */
static uint16_t naive_csum(const uint8_t *p, size_t len, uint32_t init)
{
	uint64_t s = init;
	size_t i;
	for (i = 0; i + 1 < len; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		s += (uint32_t)p[len - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static void test_rfc1071_example(void)
{
	/* RFC 1071 section 3: the sum of these bytes is 0xddf2. */
	static const uint8_t d[] = { 0x00, 0x01, 0xf2, 0x03,
				     0xf4, 0xf5, 0xf6, 0xf7 };
	CHECK_EQ_INT(net_csum_fold(net_csum_partial(d, sizeof(d), 0)),
		     (uint16_t)~0xddf2);
	CHECK_EQ_INT(net_csum_fold(net_csum_partial_ref(d, sizeof(d), 0)),
		     (uint16_t)~0xddf2);
}

/* A real IPv4 header (checksum 0xb861). */
static const uint8_t ip_hdr[20] = {
	0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
	0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
};

static void test_ipv4_header(void)
{
	uint8_t h[20];
	memcpy(h, ip_hdr, sizeof(h));
	CHECK(net_csum_verify(h, sizeof(h), 0));
	h[10] = h[11] = 0;
	CHECK_EQ_INT(net_csum_fold(net_csum_partial(h, sizeof(h), 0)), 0xb861);
	memcpy(h, ip_hdr, sizeof(h));
	for (size_t bit = 0; bit < 160; bit++) {
		h[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		CHECK_MSG(!net_csum_verify(h, sizeof(h), 0), "bit %zu", bit);
		h[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
}

/* Every length 0..2000, every start offset 0..7, random initial sums:
 * the fast sum, the byte-at-a-time reference and the naive word sum all
 * agree. Exact-size heap copies so ASan sees any overread. */
static void test_random_lengths_and_alignment(void)
{
	uint8_t *src = malloc(2000 + 8);
	for (size_t i = 0; i < 2008; i++)
		src[i] = (uint8_t)rnd();
	for (size_t len = 0; len <= 2000; len++) {
		for (size_t off = 0; off < 8; off++) {
			uint8_t *b = malloc(off + len + 1);
			memcpy(b + off, src + off, len);
			uint32_t init = (len % 3 == 0) ? 0 : rnd();
			uint16_t want = naive_csum(b + off, len, init);
			uint16_t fast = net_csum_fold(
				net_csum_partial(b + off, len, init));
			uint16_t ref = net_csum_fold(
				net_csum_partial_ref(b + off, len, init));
			CHECK_MSG(fast == want, "len %zu off %zu: %04x != %04x",
				  len, off, fast, want);
			CHECK_MSG(ref == want, "ref len %zu off %zu", len, off);
			free(b);
		}
	}
	free(src);
}

/* Carries: long runs of 0xff and of 0x00 with 0xff mixes. */
static void test_carry_heavy(void)
{
	size_t n = 70000;
	uint8_t *b = malloc(n);
	memset(b, 0xff, n);
	for (size_t len = n - 9; len <= n; len++)
		CHECK_EQ_INT(net_csum_fold(net_csum_partial(b, len, 0xffffffffu)),
			     naive_csum(b, len, 0xffffffffu));
	for (size_t i = 0; i < n; i += 2)
		b[i] = 0;
	CHECK_EQ_INT(net_csum_fold(net_csum_partial(b, n, 0)),
		     naive_csum(b, n, 0));
	free(b);
	CHECK_EQ_INT(net_csum_fold(net_csum_partial(NULL, 0, 0)), 0xffff);
}

/* Summing in pieces split at even offsets equals one call. */
static void test_chained(void)
{
	uint8_t b[1501];
	for (size_t i = 0; i < sizeof(b); i++)
		b[i] = (uint8_t)rnd();
	uint16_t whole = net_csum_fold(net_csum_partial(b, sizeof(b), 0));
	for (int t = 0; t < 200; t++) {
		size_t cut1 = (rnd() % 750) * 2, cut2 = cut1 + (rnd() % 300) * 2;
		if (cut2 > sizeof(b))
			cut2 = cut1;
		uint32_t s = net_csum_partial(b, cut1, 0);
		s = net_csum_partial(b + cut1, cut2 - cut1, s);
		s = net_csum_partial(b + cut2, sizeof(b) - cut2, s);
		CHECK_EQ_INT(net_csum_fold(s), whole);
	}
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

/* The pseudo-header sum equals summing the 12 pseudo-header bytes. */
static void test_pseudo(void)
{
	for (int t = 0; t < 1000; t++) {
		uint32_t src = rnd() ^ (rnd() << 16), dst = rnd() ^ (rnd() << 8);
		uint8_t proto = (uint8_t)rnd();
		uint16_t len = (uint16_t)rnd();
		if (t == 0)
			src = dst = 0xffffffffu, proto = 0xff, len = 0xffff;
		uint8_t ph[12];
		put32(ph, src);
		put32(ph + 4, dst);
		ph[8] = 0;
		ph[9] = proto;
		put16(ph + 10, len);
		CHECK_EQ_INT(net_csum_fold(net_csum_pseudo(src, dst, proto, len)),
			     naive_csum(ph, 12, 0));
	}
}

/* RFC 1624: rewriting a field incrementally equals recomputing. */
static void test_incremental(void)
{
	for (int t = 0; t < 5000; t++) {
		uint8_t h[20];
		for (size_t i = 0; i < sizeof(h); i++)
			h[i] = (uint8_t)rnd();
		h[10] = h[11] = 0;
		uint16_t c = net_csum_fold(net_csum_partial(h, 20, 0));
		/* 16-bit field: TTL/protocol word. */
		uint16_t old16 = (uint16_t)(h[8] << 8 | h[9]);
		uint16_t new16 = (t == 0) ? old16 : (uint16_t)rnd();
		put16(h + 8, new16);
		uint16_t full = net_csum_fold(net_csum_partial(h, 20, 0));
		CHECK_EQ_INT(net_csum_update16(c, old16, new16), full);
		/* 32-bit field: the destination address. */
		uint32_t old32 = (uint32_t)h[16] << 24 | (uint32_t)h[17] << 16 |
				 (uint32_t)h[18] << 8 | h[19];
		uint32_t new32 = rnd() ^ (rnd() << 16);
		put32(h + 16, new32);
		uint16_t full2 = net_csum_fold(net_csum_partial(h, 20, 0));
		CHECK_EQ_INT(net_csum_update32(full, old32, new32), full2);
		/* The updated header verifies. */
		put16(h + 10, full2);
		CHECK(net_csum_verify(h, 20, 0));
	}
	/* TTL decrement on the known header: 0x40 -> 0x3f. */
	uint8_t h[20];
	memcpy(h, ip_hdr, 20);
	uint16_t c = net_csum_update16(0xb861, 0x4011, 0x3f11);
	h[8] = 0x3f;
	put16(h + 10, c);
	CHECK(net_csum_verify(h, 20, 0));
}

int main(void)
{
	RUN(test_rfc1071_example);
	RUN(test_ipv4_header);
	RUN(test_random_lengths_and_alignment);
	RUN(test_carry_heavy);
	RUN(test_chained);
	RUN(test_pseudo);
	RUN(test_incremental);
	return CHECK_DONE();
}
