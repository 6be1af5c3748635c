/*
 * scan/hash.h - MD5, SHA-1 and SHA-256 of a leaf's bytes (for hash
 * signatures and reports).
 *
 * Backed by libcrypto's fixed-state digest API (MD5_Init, SHA1_Init,
 * SHA256_Init) with the state on the caller's stack. Not EVP: with OpenSSL
 * 3.0 every EVP_DigestInit_ex2() / EVP_MD_CTX_copy_ex() on a reused
 * EVP_MD_CTX frees and reallocates the provider context (measured: one
 * allocation per digest, see tests/unit/test_hash.c), which would put a
 * malloc on the per-message path. These functions never allocate; the test
 * counts libcrypto allocations to prove it.
 *
 * Thread-safety: no shared state; call from any thread.
 * Errors: none (the digests cannot fail).
 */
#ifndef SLUICE_SCAN_HASH_H
#define SLUICE_SCAN_HASH_H

#include <stddef.h>
#include <stdint.h>

#define SCAN_MD5_LEN 16
#define SCAN_SHA1_LEN 20
#define SCAN_SHA256_LEN 32

/* One-shot digests of data[0..len). data may be NULL when len is 0. */
void scan_md5(const uint8_t *data, size_t len, uint8_t out[SCAN_MD5_LEN]);
void scan_sha1(const uint8_t *data, size_t len, uint8_t out[SCAN_SHA1_LEN]);
void scan_sha256(const uint8_t *data, size_t len,
		 uint8_t out[SCAN_SHA256_LEN]);

/* All three in one pass over the data (cache-sized blocks fed to each
 * context in turn, so a large leaf is read from memory once). Any output
 * pointer may be NULL to skip that digest. */
void scan_hash_all(const uint8_t *data, size_t len, uint8_t md5[SCAN_MD5_LEN],
		   uint8_t sha1[SCAN_SHA1_LEN],
		   uint8_t sha256[SCAN_SHA256_LEN]);

/* Write n bytes of d as 2n lowercase hex digits plus a NUL into out, which
 * must hold 2n+1 bytes. Returns out. */
char *scan_hash_hex(const uint8_t *d, size_t n, char *out);

#endif
