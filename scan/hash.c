/*
 * scan/hash.c - MD5/SHA-1/SHA-256 on stack state, no allocation.
 * Contract (and why not EVP) in scan/hash.h.
 */
#define OPENSSL_SUPPRESS_DEPRECATED 1 /* MD5_Init & co: see scan/hash.h */

#include "scan/hash.h"
#include "scan/deadline.h"

#include <openssl/md5.h>
#include <openssl/sha.h>

/* Feed large inputs in blocks that stay in L2 so scan_hash_all() reads the
 * leaf from memory once. */
#define HASH_BLOCK (32u * 1024u)

void scan_md5(const uint8_t *data, size_t len, uint8_t out[SCAN_MD5_LEN])
{
	scan_hash_all(data, len, out, NULL, NULL);
}

void scan_sha1(const uint8_t *data, size_t len, uint8_t out[SCAN_SHA1_LEN])
{
	scan_hash_all(data, len, NULL, out, NULL);
}

void scan_sha256(const uint8_t *data, size_t len,
		 uint8_t out[SCAN_SHA256_LEN])
{
	scan_hash_all(data, len, NULL, NULL, out);
}

void scan_hash_all(const uint8_t *data, size_t len, uint8_t md5[SCAN_MD5_LEN],
		   uint8_t sha1[SCAN_SHA1_LEN],
		   uint8_t sha256[SCAN_SHA256_LEN])
{
	MD5_CTX m;
	SHA_CTX s1;
	SHA256_CTX s2;

	if (md5 != NULL)
		MD5_Init(&m);
	if (sha1 != NULL)
		SHA1_Init(&s1);
	if (sha256 != NULL)
		SHA256_Init(&s2);
	for (size_t off = 0; off < len; off += HASH_BLOCK) {
		size_t n = len - off < HASH_BLOCK ? len - off : HASH_BLOCK;
		/* The pipeline drops digests of a scan out of time. */
		if (off % SCAN_DEADLINE_STRIDE == 0 && off > 0 &&
		    scan_deadline_check())
			break;

		if (md5 != NULL)
			MD5_Update(&m, data + off, n);
		if (sha1 != NULL)
			SHA1_Update(&s1, data + off, n);
		if (sha256 != NULL)
			SHA256_Update(&s2, data + off, n);
	}
	if (md5 != NULL)
		MD5_Final(md5, &m);
	if (sha1 != NULL)
		SHA1_Final(sha1, &s1);
	if (sha256 != NULL)
		SHA256_Final(sha256, &s2);
}

char *scan_hash_hex(const uint8_t *d, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex[d[i] >> 4];
		out[2 * i + 1] = hex[d[i] & 15];
	}
	out[2 * n] = '\0';
	return out;
}
