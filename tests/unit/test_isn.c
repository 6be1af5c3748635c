/* tests/unit/test_isn.c - SipHash-2-4 vectors, RFC 6528 ISNs, SYN cookies. */
#include "tcpstack/isn.h"

#include <errno.h>
#include <stdint.h>

#include "check.h"
#define RND_SEED 0x5eed15a0c00c1e5ULL
#include "rnd.h"

/*
 * The SipHash-2-4 reference vectors (vectors.h of the reference code):
 * key 00..0f, message 00 01 .. (i-1) for i = 0..63, output as the
 * little-endian bytes of the 64-bit result, here written as hex strings.
 */
static const char *const sip_vectors[64] = {
	"310e0edd47db6f72",
	"fd67dc93c539f874",
	"5a4fa9d909806c0d",
	"2d7efbd796666785",
	"b7877127e09427cf",
	"8da699cd64557618",
	"cee3fe586e46c9cb",
	"37d1018bf50002ab",
	"6224939a79f5f593",
	"b0e4a90bdf82009e",
	"f3b9dd94c5bb5d7a",
	"a7ad6b22462fb3f4",
	"fbe50e86bc8f1e75",
	"903d84c02756ea14",
	"eef27a8e90ca23f7",
	"e545be4961ca29a1",
	"db9bc2577fcc2a3f",
	"9447be2cf5e99a69",
	"9cd38d96f0b3c14b",
	"bd6179a71dc96dbb",
	"98eea21af25cd6be",
	"c7673b2eb0cbf2d0",
	"883ea3e395675393",
	"c8ce5ccd8c030ca8",
	"94af49f6c650adb8",
	"eab8858ade92e1bc",
	"f315bb5bb835d817",
	"adcf6b0763612e2f",
	"a5c91da7acaa4dde",
	"716595876650a2a6",
	"28ef495c53a387ad",
	"42c341d8fa92d832",
	"ce7cf2722f512771",
	"e37859f94623f3a7",
	"381205bb1ab0e012",
	"ae97a10fd434e015",
	"b4a31508beff4d31",
	"81396229f0907902",
	"4d0cf49ee5d4dcca",
	"5c73336a76d8bf9a",
	"d0a704536ba93e0e",
	"925958fcd6420cad",
	"a915c29bc8067318",
	"952b79f3bc0aa6d4",
	"f21df2e41d4535f9",
	"87577519048f53a9",
	"10a56cf5dfcd9adb",
	"eb75095ccd986cd0",
	"51a9cb9ecba312e6",
	"96afadfc2ce666c7",
	"72fe52975a4364ee",
	"5a1645b276d592a1",
	"b274cb8ebf87870a",
	"6f9bb4203de7b381",
	"eaecb2a30b22a87f",
	"9924a43cc1315724",
	"bd838d3aafbf8db7",
	"0b1a2a3265d51aea",
	"135079a3231ce660",
	"932b2846e4d70666",
	"e1915f5cb1eca46c",
	"f325965ca16d629f",
	"575ff28e60381be5",
	"724506eb4c328a95",
};


static struct tcp_isn_key test_key(void)
{
	uint8_t b[16];
	struct tcp_isn_key k;
	for (int i = 0; i < 16; i++)
		b[i] = (uint8_t)i;
	tcp_isn_key_load(&k, b);
	return k;
}

static void test_siphash_vectors(void)
{
	struct tcp_isn_key k = test_key();
	uint8_t msg[64];

	CHECK(k.k0 == UINT64_C(0x0706050403020100));
	CHECK(k.k1 == UINT64_C(0x0f0e0d0c0b0a0908));
	for (int i = 0; i < 64; i++)
		msg[i] = (uint8_t)i;
	for (int len = 0; len < 64; len++) {
		uint64_t h = tcp_isn_siphash24(&k, msg, (size_t)len);
		char hex[17];
		for (int b = 0; b < 8; b++)
			snprintf(hex + 2 * b, 3, "%02x",
				 (unsigned)(h >> (8 * b)) & 0xff);
		CHECK_MSG(strcmp(hex, sip_vectors[len]) == 0,
			  "len %d: %s want %s", len, hex, sip_vectors[len]);
	}
	/* The paper's worked example: 15-byte message -> a129ca6149be45e5. */
	CHECK(tcp_isn_siphash24(&k, msg, 15) == UINT64_C(0xa129ca6149be45e5));
}

static const struct tcp_isn_tuple T1 = {
	.laddr = 0xc6120001, .raddr = 0xc6120002, .lport = 25, .rport = 40000,
};

static void test_isn(void)
{
	struct tcp_isn_key k = test_key(), k2 = k;
	k2.k1 ^= 1;
	struct tcp_isn_tuple t2 = T1;
	t2.rport++;

	uint32_t a = tcp_isn_generate(&k, &T1, 1000000);
	/* M is a 4 us clock: 4000 us later the ISN moved by exactly 1000. */
	CHECK_EQ_INT(tcp_isn_generate(&k, &T1, 1004000) - a, 1000);
	CHECK_EQ_INT(tcp_isn_generate(&k, &T1, 1000003), a);
	/* F depends on every tuple field and on the key. */
	CHECK(tcp_isn_generate(&k, &t2, 1000000) != a);
	CHECK(tcp_isn_generate(&k2, &T1, 1000000) != a);
	struct tcp_isn_tuple t3 = T1;
	t3.laddr ^= 0x100;
	CHECK(tcp_isn_generate(&k, &t3, 1000000) != a);
	t3 = T1;
	t3.lport = 26;
	CHECK(tcp_isn_generate(&k, &t3, 1000000) != a);
	/* Swapping the ends gives a different ISN (the tuple is ordered). */
	struct tcp_isn_tuple sw = {T1.raddr, T1.laddr, T1.rport, T1.lport};
	CHECK(tcp_isn_generate(&k, &sw, 1000000) != a);
}

static void test_mss_table(void)
{
	static const struct { uint16_t peer, want; } rows[] = {
		{0, 536}, {88, 536}, {535, 536}, {536, 536}, {1299, 536},
		{1300, 1300}, {1439, 1300}, {1440, 1440}, {1459, 1440},
		{1460, 1460}, {8960, 1460}, {65535, 1460},
	};
	struct tcp_isn_key k = test_key();
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		uint16_t mss = 0;
		unsigned idx = tcp_cookie_mss_index(rows[i].peer);
		CHECK_EQ_INT(TCP_COOKIE_MSS[idx], rows[i].want);
		uint32_t c = tcp_cookie_make(&k, &T1, 5000000000ull,
					     rows[i].peer, &mss);
		CHECK_EQ_INT(mss, rows[i].want);
		CHECK_EQ_INT(tcp_cookie_check(&k, c, &T1, 5000000000ull),
			     rows[i].want);
	}
}

static void test_cookie_lifetime(void)
{
	struct tcp_isn_key k = test_key();
	const uint64_t slot = TCP_COOKIE_SLOT_US;
	/* Made at the very end of slot 1000: valid through slot 1001. */
	uint64_t made = 1001 * slot - 1;
	uint32_t c = tcp_cookie_make(&k, &T1, made, 1460, NULL);

	CHECK_EQ_INT(tcp_cookie_check(&k, c, &T1, made), 1460);
	CHECK_EQ_INT(tcp_cookie_check(&k, c, &T1, made + 1), 1460);
	CHECK_EQ_INT(tcp_cookie_check(&k, c, &T1, 1002 * slot - 1), 1460);
	CHECK_EQ_INT(tcp_cookie_check(&k, c, &T1, 1002 * slot), -EINVAL);
	CHECK_EQ_INT(tcp_cookie_check(&k, c, &T1, 1000 * slot + 5 * slot),
		     -EINVAL);
	/* From the future (the clock went back a slot): rejected. */
	CHECK_EQ_INT(tcp_cookie_check(&k, c, &T1, 999 * slot), -EINVAL);
	/* 256 slots later the 8-bit counter matches again; the MAC over the
	 * full counter must still reject it. */
	CHECK_EQ_INT(tcp_cookie_check(&k, c, &T1, made + 256 * slot), -EINVAL);
	CHECK_EQ_INT(tcp_cookie_check(&k, c, &T1, made + 257 * slot), -EINVAL);
}

static void test_cookie_tamper(void)
{
	struct tcp_isn_key k = test_key(), k2 = k;
	k2.k0 ^= UINT64_C(1) << 40;
	uint64_t now = 777 * TCP_COOKIE_SLOT_US + 12345;
	uint32_t c = tcp_cookie_make(&k, &T1, now, 1440, NULL);
	struct tcp_isn_tuple t = T1;

	CHECK_EQ_INT(tcp_cookie_check(&k, c, &T1, now), 1440);
	CHECK_EQ_INT(tcp_cookie_check(&k2, c, &T1, now), -EINVAL);
	t.rport ^= 1;
	CHECK_EQ_INT(tcp_cookie_check(&k, c, &t, now), -EINVAL);
	t = T1;
	t.raddr ^= 0x80;
	CHECK_EQ_INT(tcp_cookie_check(&k, c, &t, now), -EINVAL);
	/* Every single-bit flip of the cookie is rejected: MAC bits, the
	 * MSS index (covered by the MAC) and the counter. */
	int accepted = 0;
	for (int b = 0; b < 32; b++)
		accepted += tcp_cookie_check(&k, c ^ (UINT32_C(1) << b), &T1,
					     now) != -EINVAL;
	CHECK_EQ_INT(accepted, 0);
	/* Random guesses for a fixed tuple: about 2^-21 pass; in 200,000
	 * tries expect ~0.1, allow a handful. */
	int pass = 0;
	for (int i = 0; i < 200000; i++)
		pass += tcp_cookie_check(&k, rnd() ^ (rnd() << 16), &T1, now) > 0;
	CHECK_MSG(pass <= 3, "%d random cookies accepted", pass);
}

static void test_cookie_roundtrip_random(void)
{
	struct tcp_isn_key k = {((uint64_t)rnd() << 32) | rnd(), rnd()};
	int bad = 0;
	for (int i = 0; i < 20000; i++) {
		struct tcp_isn_tuple t = {rnd(), rnd(), (uint16_t)rnd(),
					  (uint16_t)rnd()};
		uint64_t now = ((uint64_t)rnd() << 20) | rnd();
		uint16_t peer = (uint16_t)rnd(), mss;
		uint32_t c = tcp_cookie_make(&k, &t, now, peer, &mss);
		uint64_t later = now + rnd() % TCP_COOKIE_SLOT_US;
		if (tcp_cookie_check(&k, c, &t, later) != mss)
			bad++;
		if (mss > peer && mss != 536)
			bad++;
	}
	CHECK_EQ_INT(bad, 0);
}

static void test_cookie_ts(void)
{
	static const struct { int8_t ws; bool sack; int8_t want_ws; } rows[] = {
		{-1, false, -1}, {-1, true, -1}, {0, false, 0}, {7, true, 7},
		{14, true, 14}, {15, false, 14}, {100, true, 14},
	};
	static const uint32_t clocks[] = {0, 63, 64, 1000, 0xffffffc0u,
					  0xffffffffu, 0x12345678u};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		for (size_t j = 0; j < sizeof clocks / sizeof clocks[0]; j++) {
			struct tcp_cookie_opts in = {rows[i].ws, rows[i].sack};
			struct tcp_cookie_opts out = {99, false};
			uint32_t ts = tcp_cookie_ts_encode(clocks[j], &in);
			/* Never ahead of the clock, at most 127 behind. */
			int32_t d = (int32_t)(clocks[j] - ts);
			CHECK(d >= 0 && d < 128);
			CHECK_EQ_INT(tcp_cookie_ts_decode(ts, &out), 0);
			CHECK_EQ_INT(out.wscale, rows[i].want_ws);
			CHECK_EQ_INT(out.sack_ok, rows[i].sack);
		}
	}
	struct tcp_cookie_opts o;
	CHECK_EQ_INT(tcp_cookie_ts_decode(0x20, &o), -EINVAL);
	CHECK_EQ_INT(tcp_cookie_ts_decode(0x1f, &o), 0);
	CHECK_EQ_INT(o.wscale, -1);
	CHECK(o.sack_ok);
}

int main(void)
{
	RUN(test_siphash_vectors);
	RUN(test_isn);
	RUN(test_mss_table);
	RUN(test_cookie_lifetime);
	RUN(test_cookie_tamper);
	RUN(test_cookie_roundtrip_random);
	RUN(test_cookie_ts);
	return CHECK_DONE();
}
