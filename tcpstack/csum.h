/*
 * tcpstack/csum.h - the Internet checksum (RFC 1071) and its incremental
 * update (RFC 1624).
 *
 * Sums are carried as uint32_t partial one's-complement sums of the data
 * read as big-endian 16-bit words (so every value here is in host order:
 * store the final checksum with a big-endian store). Any alignment and any
 * length is fine; loads go through memcpy. A buffer summed in pieces must
 * be split at even offsets (each call treats its first byte as the high
 * byte of a word); the last piece may be odd.
 *
 * Pure functions: no allocation, reentrant, thread-safe.
 */
#ifndef SLUICE_TCPSTACK_CSUM_H
#define SLUICE_TCPSTACK_CSUM_H

#include <stddef.h>
#include <stdint.h>

/* Add the bytes p[0..len) to the partial sum `sum` and return the new
 * partial sum (never the final checksum: see net_csum_fold()). p may be
 * NULL when len is 0. */
uint32_t net_csum_partial(const void *p, size_t len, uint32_t sum);

/* Fold a partial sum to 16 bits and complement it: the value to put in a
 * checksum field (host order). */
uint16_t net_csum_fold(uint32_t sum);

/* Partial sum of the IPv4 pseudo-header used by TCP and UDP (ICMPv4 has
 * none): source and destination address (host order), protocol, and the
 * L4 length (header + payload) in bytes. */
uint32_t net_csum_pseudo(uint32_t src, uint32_t dst, uint8_t proto,
			 uint16_t l4len);

/* Nonzero when p[0..len), checksum field included, plus `sum` (e.g. a
 * pseudo-header) checks out: the folded complement is 0. */
int net_csum_verify(const void *p, size_t len, uint32_t sum);

/* RFC 1624 eqn. 3: the checksum after a 16-bit field covered by `csum`
 * changed from old_val to new_val (all host order). Equals recomputing
 * from scratch, except that a result of 0x0000 and 0xffff (the two
 * one's-complement zeros) may trade places in degenerate all-zero data. */
uint16_t net_csum_update16(uint16_t csum, uint16_t old_val, uint16_t new_val);

/* As net_csum_update16() for an aligned 32-bit field (e.g. an address). */
uint16_t net_csum_update32(uint16_t csum, uint32_t old_val, uint32_t new_val);

/* Byte-at-a-time RFC 1071 reference, same contract as net_csum_partial().
 * Slow: for tests and differential checks. */
uint32_t net_csum_partial_ref(const void *p, size_t len, uint32_t sum);

#endif
