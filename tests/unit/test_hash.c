/*
 * tests/unit/test_hash.c - digests against published vectors, one-pass
 * equals separate passes, and no libcrypto allocation in the steady state.
 */
#include "scan/hash.h"
#include "tests/unit/check.h"

#include <pthread.h>
#include <stdlib.h>

#include <openssl/crypto.h>

static const struct {
	const char *in;
	size_t repeat; /* input is `in` repeated this many times */
	const char *md5, *sha1, *sha256;
} vectors[] = {
	{ "", 1, "d41d8cd98f00b204e9800998ecf8427e",
	  "da39a3ee5e6b4b0d3255bfef95601890afd80709",
	  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
	{ "abc", 1, "900150983cd24fb0d6963f7d28e17f72",
	  "a9993e364706816aba3e25717850c26c9cd0d89d",
	  "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
	{ "a", 1000000, "7707d6ae4e027c70eea2a935c2296f21",
	  "34aa973cd4c4daa4f61eeb2bdbad27316534016f",
	  "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0" },
	/* EICAR test file: matches config/signatures/sluice-test.hsb */
	{ "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!"
	  "$H+H*", 1, "44d88612fea8a8f36de82e1278abb02f",
	  "3395856ce81f2b7382dee72602f798b642f14140",
	  "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f" },
};

static uint8_t *make_input(size_t i, size_t *len)
{
	size_t n = strlen(vectors[i].in);
	uint8_t *p = malloc(n * vectors[i].repeat + 1);

	for (size_t r = 0; r < vectors[i].repeat; r++)
		memcpy(p + r * n, vectors[i].in, n);
	*len = n * vectors[i].repeat;
	return p;
}

static void test_vectors(void)
{
	for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
		size_t len;
		uint8_t *in = make_input(i, &len);
		uint8_t m[16], s1[20], s2[32];
		char hex[65];

		scan_md5(in, len, m);
		CHECK_EQ_STR(scan_hash_hex(m, 16, hex), vectors[i].md5);
		scan_sha1(in, len, s1);
		CHECK_EQ_STR(scan_hash_hex(s1, 20, hex), vectors[i].sha1);
		scan_sha256(in, len, s2);
		CHECK_EQ_STR(scan_hash_hex(s2, 32, hex), vectors[i].sha256);

		memset(m, 0, sizeof m);
		memset(s1, 0, sizeof s1);
		memset(s2, 0, sizeof s2);
		scan_hash_all(in, len, m, s1, s2);
		CHECK_EQ_STR(scan_hash_hex(m, 16, hex), vectors[i].md5);
		CHECK_EQ_STR(scan_hash_hex(s1, 20, hex), vectors[i].sha1);
		CHECK_EQ_STR(scan_hash_hex(s2, 32, hex), vectors[i].sha256);
		free(in);
	}
}

static void test_hash_all_subset(void)
{
	uint8_t s2[32], ref[32];
	char a[65], b[65];

	scan_sha256((const uint8_t *)"abc", 3, ref);
	scan_hash_all((const uint8_t *)"abc", 3, NULL, NULL, s2);
	CHECK_EQ_STR(scan_hash_hex(s2, 32, a), scan_hash_hex(ref, 32, b));
}

/* libcrypto allocation counter, installed before OpenSSL allocates. */
static unsigned long crypto_allocs;

static void *count_malloc(size_t n, const char *f, int l)
{
	(void)f, (void)l;
	__atomic_add_fetch(&crypto_allocs, 1, __ATOMIC_RELAXED);
	return malloc(n);
}

static void *count_realloc(void *p, size_t n, const char *f, int l)
{
	(void)f, (void)l;
	__atomic_add_fetch(&crypto_allocs, 1, __ATOMIC_RELAXED);
	return realloc(p, n);
}

static void count_free(void *p, const char *f, int l)
{
	(void)f, (void)l;
	free(p);
}

static void test_steady_state_no_alloc(void)
{
	static uint8_t buf[100000];
	uint8_t m[16], s1[20], s2[32];

	scan_hash_all(buf, sizeof buf, m, s1, s2); /* warm up */
	unsigned long before = crypto_allocs;
	for (int i = 0; i < 100; i++) {
		scan_md5(buf, (size_t)i * 7, m);
		scan_sha1(buf, (size_t)i * 11, s1);
		scan_sha256(buf, (size_t)i * 13, s2);
		scan_hash_all(buf, sizeof buf - (size_t)i, m, s1, s2);
	}
	CHECK_EQ_INT(crypto_allocs - before, 0);
}

static void *thread_main(void *arg)
{
	uint8_t s2[32];
	char hex[65];
	int *ok = arg;

	scan_sha256((const uint8_t *)"abc", 3, s2);
	*ok = strcmp(scan_hash_hex(s2, 32, hex), vectors[1].sha256) == 0;
	return NULL;
}

static void test_threads(void)
{
	pthread_t t[4];
	int ok[4] = { 0 };

	for (int i = 0; i < 4; i++)
		CHECK(pthread_create(&t[i], NULL, thread_main, &ok[i]) == 0);
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		CHECK(ok[i]);
	}
}

int main(void)
{
	CRYPTO_set_mem_functions(count_malloc, count_realloc, count_free);
	RUN(test_vectors);
	RUN(test_hash_all_subset);
	RUN(test_steady_state_no_alloc);
	RUN(test_threads);
	return CHECK_DONE();
}
