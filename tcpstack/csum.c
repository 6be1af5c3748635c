/*
 * tcpstack/csum.c - RFC 1071 Internet checksum, RFC 1624 updates.
 *
 * The fast path sums native-order 64-bit words with end-around carry in
 * four independent accumulators (32 bytes per loop turn). One's-complement
 * addition commutes with byte swapping, so the native sum folded to 16 bits
 * and byte-swapped on little-endian hosts equals the big-endian word sum;
 * 2^64 and 2^32 are both 1 modulo 0xffff, so folding keeps the residue.
 */
#include "tcpstack/csum.h"

#include <string.h>

static inline uint64_t add_carry64(uint64_t a, uint64_t b)
{
	a += b;
	return a + (a < b);
}

static inline uint64_t load64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

/* Fold a 64-bit one's-complement sum to 16 bits (not complemented). */
static inline uint16_t fold64(uint64_t s)
{
	s = (s & 0xffffffffu) + (s >> 32);
	s = (s & 0xffffffffu) + (s >> 32);
	s = (s & 0xffffu) + (s >> 16);
	s = (s & 0xffffu) + (s >> 16);
	s = (s & 0xffffu) + (s >> 16);
	return (uint16_t)s;
}

static inline uint32_t add32(uint32_t a, uint32_t b)
{
	uint64_t s = (uint64_t)a + b;
	return (uint32_t)((s & 0xffffffffu) + (s >> 32));
}

uint32_t net_csum_partial(const void *buf, size_t len, uint32_t sum)
{
	const uint8_t *p = buf;
	uint64_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;

	while (len >= 32) {
		a0 = add_carry64(a0, load64(p));
		a1 = add_carry64(a1, load64(p + 8));
		a2 = add_carry64(a2, load64(p + 16));
		a3 = add_carry64(a3, load64(p + 24));
		p += 32;
		len -= 32;
	}
	while (len >= 8) {
		a0 = add_carry64(a0, load64(p));
		p += 8;
		len -= 8;
	}
	if (len > 0) {
		/* The tail lands in the same memory positions as in a full
		 * word, so its native value is right on either byte order. */
		uint64_t t = 0;
		memcpy(&t, p, len);
		a1 = add_carry64(a1, t);
	}
	a0 = add_carry64(a0, a1);
	a2 = add_carry64(a2, a3);
	a0 = add_carry64(a0, a2);

	uint16_t s = fold64(a0);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	s = (uint16_t)((s >> 8) | (s << 8));
#elif !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_BIG_ENDIAN__
#error "unknown byte order"
#endif
	return add32(sum, s);
}

uint32_t net_csum_partial_ref(const void *buf, size_t len, uint32_t sum)
{
	const uint8_t *p = buf;
	uint64_t s = sum;
	for (size_t i = 0; i < len; i++)
		s += (i & 1) ? p[i] : (uint32_t)p[i] << 8;
	return add32((uint32_t)(s & 0xffffffffu), (uint32_t)(s >> 32));
}

uint16_t net_csum_fold(uint32_t sum)
{
	return (uint16_t)~fold64(sum);
}

uint32_t net_csum_pseudo(uint32_t src, uint32_t dst, uint8_t proto,
			 uint16_t l4len)
{
	uint64_t s = (uint64_t)(src >> 16) + (src & 0xffffu) + (dst >> 16) +
		     (dst & 0xffffu) + proto + l4len;
	return (uint32_t)s;
}

int net_csum_verify(const void *p, size_t len, uint32_t sum)
{
	return net_csum_fold(net_csum_partial(p, len, sum)) == 0;
}

uint16_t net_csum_update16(uint16_t csum, uint16_t old_val, uint16_t new_val)
{
	uint32_t s = (uint32_t)(uint16_t)~csum + (uint16_t)~old_val + new_val;
	return net_csum_fold(s);
}

uint16_t net_csum_update32(uint16_t csum, uint32_t old_val, uint32_t new_val)
{
	uint32_t s = (uint32_t)(uint16_t)~csum +
		     (uint16_t)~(old_val >> 16) + (uint16_t)~old_val +
		     (new_val >> 16) + (new_val & 0xffffu);
	return net_csum_fold(s);
}
