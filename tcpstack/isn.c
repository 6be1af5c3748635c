/*
 * tcpstack/isn.c - SipHash-2-4 (Aumasson & Bernstein, "SipHash: a fast
 * short-input PRF", 2012), RFC 6528 ISNs and SYN cookies.
 */
#include "tcpstack/isn.h"

#include <errno.h>
#include <string.h>

const uint16_t TCP_COOKIE_MSS[TCP_COOKIE_NMSS] = {536, 1300, 1440, 1460};

/* Domain separation between the three uses of one key. */
enum { TAG_ISN = 'I', TAG_COOKIE_OFF = 'C', TAG_COOKIE_MAC = 'M' };

static inline uint64_t rotl(uint64_t x, unsigned b)
{
	return (x << b) | (x >> (64 - b));
}

static inline uint64_t load_le64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

#define SIPROUND                                                        \
	do {                                                            \
		v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32); \
		v2 += v3; v3 = rotl(v3, 16); v3 ^= v2;                  \
		v0 += v3; v3 = rotl(v3, 21); v3 ^= v0;                  \
		v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32); \
	} while (0)

void tcp_isn_key_load(struct tcp_isn_key *k, const uint8_t bytes[16])
{
	k->k0 = load_le64(bytes);
	k->k1 = load_le64(bytes + 8);
}

uint64_t tcp_isn_siphash24(const struct tcp_isn_key *k, const void *data,
			   size_t len)
{
	const uint8_t *p = data;
	uint64_t v0 = k->k0 ^ UINT64_C(0x736f6d6570736575);
	uint64_t v1 = k->k1 ^ UINT64_C(0x646f72616e646f6d);
	uint64_t v2 = k->k0 ^ UINT64_C(0x6c7967656e657261);
	uint64_t v3 = k->k1 ^ UINT64_C(0x7465646279746573);
	size_t full = len & ~(size_t)7;

	for (size_t i = 0; i < full; i += 8) {
		uint64_t m = load_le64(p + i);
		v3 ^= m;
		SIPROUND;
		SIPROUND;
		v0 ^= m;
	}
	uint64_t b = (uint64_t)len << 56;
	for (size_t i = 0; i < (len & 7); i++)
		b |= (uint64_t)p[full + i] << (8 * i);
	v3 ^= b;
	SIPROUND;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* tuple (12 bytes) || tag || extra (4 bytes) || index: 18 bytes. */
static uint64_t hash_tuple(const struct tcp_isn_key *k,
			   const struct tcp_isn_tuple *tp, uint8_t tag,
			   uint32_t extra, uint8_t index)
{
	uint8_t buf[18];

	put32(buf, tp->laddr);
	put32(buf + 4, tp->raddr);
	buf[8] = (uint8_t)tp->lport;
	buf[9] = (uint8_t)(tp->lport >> 8);
	buf[10] = (uint8_t)tp->rport;
	buf[11] = (uint8_t)(tp->rport >> 8);
	buf[12] = tag;
	put32(buf + 13, extra);
	buf[17] = index;
	return tcp_isn_siphash24(k, buf, sizeof buf);
}

uint32_t tcp_isn_generate(const struct tcp_isn_key *k,
			  const struct tcp_isn_tuple *tp, uint64_t now_us)
{
	return (uint32_t)(now_us >> 2) + (uint32_t)hash_tuple(k, tp, TAG_ISN, 0, 0);
}

#define COUNT_SHIFT 24
#define INDEX_SHIFT 22
#define MAC_MASK ((UINT32_C(1) << INDEX_SHIFT) - 1)

unsigned tcp_cookie_mss_index(uint16_t peer_mss)
{
	unsigned i = TCP_COOKIE_NMSS - 1;
	while (i > 0 && TCP_COOKIE_MSS[i] > peer_mss)
		i--;
	return i;
}

static uint32_t cookie_mac(const struct tcp_isn_key *k,
			   const struct tcp_isn_tuple *tp, uint32_t count,
			   unsigned index)
{
	return (uint32_t)hash_tuple(k, tp, TAG_COOKIE_MAC, count,
				    (uint8_t)index) & MAC_MASK;
}

uint32_t tcp_cookie_make(const struct tcp_isn_key *k,
			 const struct tcp_isn_tuple *tp, uint64_t now_us,
			 uint16_t peer_mss, uint16_t *mss_out)
{
	uint32_t count = (uint32_t)(now_us / TCP_COOKIE_SLOT_US);
	unsigned index = tcp_cookie_mss_index(peer_mss);
	uint32_t v = (count << COUNT_SHIFT) | ((uint32_t)index << INDEX_SHIFT) |
		     cookie_mac(k, tp, count, index);

	if (mss_out != NULL)
		*mss_out = TCP_COOKIE_MSS[index];
	return v + (uint32_t)hash_tuple(k, tp, TAG_COOKIE_OFF, 0, 0);
}

int tcp_cookie_check(const struct tcp_isn_key *k, uint32_t cookie,
		     const struct tcp_isn_tuple *tp, uint64_t now_us)
{
	uint32_t now_count = (uint32_t)(now_us / TCP_COOKIE_SLOT_US);
	uint32_t v = cookie - (uint32_t)hash_tuple(k, tp, TAG_COOKIE_OFF, 0, 0);
	uint32_t age = (now_count - (v >> COUNT_SHIFT)) & 0xff;

	if (age > 1)
		return -EINVAL;
	uint32_t count = now_count - age;
	unsigned index = (v >> INDEX_SHIFT) & (TCP_COOKIE_NMSS - 1);
	/* Constant time is not needed: the comparison leaks nothing about
	 * the key that a 22-bit guess would not. */
	if ((v & MAC_MASK) != cookie_mac(k, tp, count, index))
		return -EINVAL;
	return TCP_COOKIE_MSS[index];
}

#define TS_BITS 6
#define TS_MASK ((UINT32_C(1) << TS_BITS) - 1)
#define TS_WSCALE_NONE 15u
#define TS_SACK (1u << 4)
#define TS_RESERVED (1u << 5)

uint32_t tcp_cookie_ts_encode(uint32_t ts_now, const struct tcp_cookie_opts *o)
{
	uint32_t opts = o->wscale < 0 ? TS_WSCALE_NONE
			: o->wscale > 14 ? 14u : (uint32_t)o->wscale;
	if (o->sack_ok)
		opts |= TS_SACK;
	uint32_t ts = (ts_now & ~TS_MASK) | opts;
	if ((int32_t)(ts - ts_now) > 0)
		ts -= UINT32_C(1) << TS_BITS;
	return ts;
}

int tcp_cookie_ts_decode(uint32_t tsecr, struct tcp_cookie_opts *o)
{
	uint32_t opts = tsecr & TS_MASK;

	if (opts & TS_RESERVED)
		return -EINVAL;
	uint32_t ws = opts & 0xf;
	o->wscale = ws == TS_WSCALE_NONE ? -1 : (int8_t)ws;
	o->sack_ok = (opts & TS_SACK) != 0;
	return 0;
}
