/*
 * tcpstack/tcpopt.h - TCP options: parse into presence bits and values,
 * build for SYN, SYN-ACK and data segments.
 *
 * Parsing follows RFC 9293 3.1 and RFC 7323/2018: EOL ends the list, NOP
 * is skipped, unknown kinds are skipped by their length, the first of a
 * duplicated option wins. A length byte < 2 or an option running past the
 * end stops parsing; a known option with the wrong length is ignored and
 * skipped. Both are flagged in `err`; what to do about it (RFC 9293 says
 * ignore the option; a hardened receiver may drop the segment) is the
 * caller's decision.
 *
 * Pure functions: no allocation, reentrant, thread-safe.
 */
#ifndef SLUICE_TCPSTACK_TCPOPT_H
#define SLUICE_TCPSTACK_TCPOPT_H

#include <stddef.h>
#include <stdint.h>

/* Option kinds and lengths. */
#define TCP_OPT_EOL        0
#define TCP_OPT_NOP        1
#define TCP_OPT_MSS        2   /* len 4 */
#define TCP_OPT_WSCALE     3   /* len 3 */
#define TCP_OPT_SACK_PERM  4   /* len 2 */
#define TCP_OPT_SACK       5   /* len 2 + 8n, 1 <= n <= 4 */
#define TCP_OPT_TS         8   /* len 10 */
#define TCP_OPTLEN_MSS       4
#define TCP_OPTLEN_WSCALE    3
#define TCP_OPTLEN_SACK_PERM 2
#define TCP_OPTLEN_TS        10

#define TCP_OPTS_MAX        40  /* option bytes in a TCP header */
#define TCP_SACK_MAX_BLOCKS 4
#define TCP_WSCALE_MAX      14  /* RFC 7323 2.3: larger shifts are clamped */

/* struct tcp_opts.present */
#define TCP_OPTF_MSS       0x01u
#define TCP_OPTF_WSCALE    0x02u
#define TCP_OPTF_SACK_PERM 0x04u
#define TCP_OPTF_SACK      0x08u
#define TCP_OPTF_TS        0x10u

/* struct tcp_opts.err */
#define TCP_OPTERR_TRUNC   0x01u /* length < 2 or past the end: parsing stopped */
#define TCP_OPTERR_BADLEN  0x02u /* known kind, wrong length: option ignored */
#define TCP_OPTERR_DUP     0x04u /* repeated option: the first one kept */

struct tcp_sack_block {
	uint32_t left;   /* first sequence number of the block */
	uint32_t right;  /* sequence number after the block */
};

/* Values are in host order and meaningful only when their TCP_OPTF_* bit
 * is set in `present` (tcp_opts_parse() zeroes the rest). */
struct tcp_opts {
	uint32_t present;     /* TCP_OPTF_* */
	uint16_t mss;
	uint8_t wscale;       /* shift, <= TCP_WSCALE_MAX after parsing */
	uint8_t sack_n;       /* blocks in sack[] */
	uint32_t ts_val, ts_ecr;
	struct tcp_sack_block sack[TCP_SACK_MAX_BLOCKS];
	uint8_t err;          /* TCP_OPTERR_*, parse only */
	uint8_t wscale_clamped; /* the peer sent a shift > 14 */
	uint8_t unknown;      /* unknown kinds skipped (saturates at 255) */
};

/* Parse the options p[0..len) (borrowed; the bytes after the 20-byte TCP
 * header, len <= 40 in valid segments but any len is handled) into *out,
 * overwriting all of it. Returns 0, or -EBADMSG when out->err is nonzero;
 * everything before the fault is still filled in. */
int tcp_opts_parse(const uint8_t *p, size_t len, struct tcp_opts *out);

/* Write the options set in o->present to buf (room bytes), in the order
 * Linux sends them: MSS; SACK-permitted with timestamps as
 * {SACK_PERM, TS} or {NOP, NOP, TS}; {NOP, WSCALE}; {NOP, NOP, SACK_PERM}
 * without timestamps; {NOP, NOP, SACK blocks}. The result is a multiple
 * of 4 bytes and at most 40: SACK blocks that do not fit are left off from
 * the last (the first block is the most recent, RFC 2018), and *sack_written
 * (may be NULL) says how many went out. o->err, wscale_clamped and unknown
 * are ignored. Returns the bytes written (0 when nothing is present),
 * -EINVAL for wscale > 14 or sack_n > 4 or SACK present with sack_n == 0,
 * -ENOSPC when room is too small for the options other than SACK blocks. */
int tcp_opts_build(const struct tcp_opts *o, uint8_t *buf, size_t room,
		   unsigned *sack_written);

#endif
