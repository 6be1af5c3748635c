/* tests/unit/test_arena.c - scan/arena.c */
#include "scan/arena.h"
#include "tests/unit/check.h"

#include <stdint.h>

static void test_alloc_aligned_and_capped(void)
{
	struct scan_arena *a = scan_arena_create(1024);
	CHECK(a != NULL);
	void *p = scan_arena_alloc(a, 10);
	CHECK(p != NULL);
	CHECK(((uintptr_t)p & 15) == 0);
	CHECK_EQ_INT(scan_arena_used(a), 16);
	CHECK(scan_arena_alloc(a, 1008) != NULL); /* 16 + 1008 = cap */
	CHECK(scan_arena_alloc(a, 1) == NULL); /* cap reached */
	scan_arena_reset(a);
	CHECK_EQ_INT(scan_arena_used(a), 0);
	CHECK(scan_arena_alloc(a, 1024) != NULL);
	CHECK(scan_arena_alloc(a, 1) == NULL);
	scan_arena_free(a);
	scan_arena_free(NULL);
}

static void test_reuse_after_reset(void)
{
	struct scan_arena *a = scan_arena_create(64u << 20);
	unsigned char *first = scan_arena_alloc(a, 100);
	for (int i = 0; i < 1000; i++)
		CHECK(scan_arena_alloc(a, 1000) != NULL);
	scan_arena_reset(a);
	unsigned char *again = scan_arena_alloc(a, 100);
	CHECK(again != NULL);
	/* Chunks are reused: the first allocation after reset comes from
	 * a kept chunk, so the same pointer or another kept chunk. */
	(void)first;
	size_t big = 3u << 20;
	unsigned char *b = scan_arena_alloc(a, big);
	CHECK(b != NULL);
	b[big - 1] = 1;
	scan_arena_free(a);
}

static void test_shrink_last(void)
{
	struct scan_arena *a = scan_arena_create(1u << 20);
	char *p = scan_arena_alloc(a, 4096);
	scan_arena_shrink_last(a, p, 10);
	CHECK_EQ_INT(scan_arena_used(a), 16);
	char *q = scan_arena_alloc(a, 16);
	CHECK(q == p + 16);
	scan_arena_shrink_last(a, p, 1); /* not last: no-op */
	CHECK_EQ_INT(scan_arena_used(a), 32);
	char *s = scan_arena_strndup(a, "hello world", 5);
	CHECK_EQ_STR(s, "hello");
	unsigned char *z = scan_arena_zalloc(a, 33);
	int zero = 1;
	for (int i = 0; i < 33; i++)
		zero &= z[i] == 0;
	CHECK(zero);
	CHECK(scan_arena_alloc(a, SIZE_MAX - 8) == NULL);
	scan_arena_free(a);
}

int main(void)
{
	RUN(test_alloc_aligned_and_capped);
	RUN(test_reuse_after_reset);
	RUN(test_shrink_last);
	return CHECK_DONE();
}
