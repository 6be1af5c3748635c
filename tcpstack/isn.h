/*
 * tcpstack/isn.h - initial sequence numbers (RFC 6528) and SYN cookies
 * (RFC 4987), both keyed with SipHash-2-4.
 *
 * Pure functions of their arguments: no state, no allocation, safe from
 * any thread. Keys come from the caller (random bytes at start-up); the
 * caller rotates them. Rotating the ISN key is harmless for established
 * connections (each keeps its ISN); rotating the cookie key invalidates
 * every cookie in flight, so rotate it rarely (the cookie MAC already
 * covers a 64 s counter). Addresses and ports are host byte order.
 */
#ifndef SLUICE_TCPSTACK_ISN_H
#define SLUICE_TCPSTACK_ISN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A SipHash key: k0 = bytes 0..7, k1 = bytes 8..15, little-endian. */
struct tcp_isn_key {
	uint64_t k0, k1;
};

/* The connection as seen from our side. */
struct tcp_isn_tuple {
	uint32_t laddr, raddr;
	uint16_t lport, rport;
};

/* Load a key from 16 bytes (the SipHash paper's byte order). */
void tcp_isn_key_load(struct tcp_isn_key *k, const uint8_t bytes[16]);

/* SipHash-2-4 of len bytes at data (data may be NULL when len is 0). */
uint64_t tcp_isn_siphash24(const struct tcp_isn_key *k, const void *data,
			   size_t len);

/*
 * RFC 6528: ISN = M + F(laddr, lport, raddr, rport, key), M the 4 us
 * clock (now_us / 4), F the low 32 bits of SipHash-2-4 over the tuple.
 */
uint32_t tcp_isn_generate(const struct tcp_isn_key *k,
			  const struct tcp_isn_tuple *tp, uint64_t now_us);

/*
 * SYN cookies. The cookie is our ISN in the SYN-ACK:
 *
 *   cookie = H(key, tuple) + (count << 24 | mss_index << 22 | mac)
 *
 * count: low 8 bits of now_us / TCP_COOKIE_SLOT_US (64 s slots);
 * mss_index: 2 bits into TCP_COOKIE_MSS = {536, 1300, 1440, 1460};
 * mac: 22 bits of SipHash(key, tuple, full 32-bit count, mss_index);
 * H: a second keyed hash of the tuple alone, so the visible ISN does not
 * step with the clock. A forged ACK passes with probability 2^-21 (two
 * counters accepted).
 */
#define TCP_COOKIE_SLOT_US UINT64_C(64000000)
#define TCP_COOKIE_NMSS 4
extern const uint16_t TCP_COOKIE_MSS[TCP_COOKIE_NMSS];

/*
 * Index of the largest table entry <= peer_mss; peer MSS below 536 maps
 * to 536 (the IPv4 minimum every host accepts; also our floor against
 * tiny-MSS abuse).
 */
unsigned tcp_cookie_mss_index(uint16_t peer_mss);

/* The cookie to send as our ISN; *mss_out (may be NULL) gets the MSS the
 * cookie carries. */
uint32_t tcp_cookie_make(const struct tcp_isn_key *k,
			 const struct tcp_isn_tuple *tp, uint64_t now_us,
			 uint16_t peer_mss, uint16_t *mss_out);

/*
 * Check a returned cookie (the ACK's ack number minus one) for the same
 * tuple. Accepts cookies made in the current or the previous 64 s slot.
 * Returns the MSS it carries, or -EINVAL (stale, forged, wrong tuple).
 */
int tcp_cookie_check(const struct tcp_isn_key *k, uint32_t cookie,
		     const struct tcp_isn_tuple *tp, uint64_t now_us);

/*
 * SYN options that survive a cookie when the peer sent timestamps (as
 * Linux does): our TSval in the SYN-ACK carries them in its low 6 bits,
 * and the peer echoes it in TSecr. Without timestamps, a cookie SYN-ACK
 * must offer neither window scaling nor SACK.
 *
 * Bits 0-3: window scale 0..14, 15 = none; bit 4: SACK permitted;
 * bit 5: reserved, zero.
 */
struct tcp_cookie_opts {
	int8_t wscale;   /* peer's shift 0..14, -1 = no window scaling */
	bool sack_ok;
};

/* TSval to send: ts_now with its low 6 bits replaced by the options,
 * moved back by 64 if that put it ahead of ts_now. wscale > 14 is sent
 * as 14 (RFC 7323 2.3). */
uint32_t tcp_cookie_ts_encode(uint32_t ts_now, const struct tcp_cookie_opts *o);

/* Options from an echoed TSecr: 0, or -EINVAL if the reserved bit is set. */
int tcp_cookie_ts_decode(uint32_t tsecr, struct tcp_cookie_opts *o);

#endif
