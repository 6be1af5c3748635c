/* tests/fuzz/fuzz_uu.c - scan_uu_extract() and scan_uu_decode_body(). */
#include "scan/decode.h"

#include <stdlib.h>
#include <string.h>

/* Arena with a modest cap, reset per input. */
static struct scan_arena *fuzz_arena(void)
{
	static struct scan_arena *a;
	if (a == NULL)
		a = scan_arena_create(4u << 20);
	if (a == NULL)
		abort();
	scan_arena_reset(a);
	return a;
}

/* Reads every byte it is given (ASan checks the bounds) and the name as
 * a string; counts the calls. */
static volatile unsigned fuzz_sink;

static int fuzz_file(void *ctx, const char *name, const uint8_t *data,
		     size_t len)
{
	unsigned s = (unsigned)strlen(name);
	for (size_t i = 0; i < len; i++)
		s += data[i];
	fuzz_sink = s;
	(*(int *)ctx)++;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int calls = 0;
	struct scan_decode_stats st;
	int rc = scan_uu_extract(data, size, fuzz_arena(), fuzz_file, &calls, &st);
	if (rc >= 0 && rc != calls)
		abort();
	calls = 0;
	rc = scan_uu_decode_body(data, size, fuzz_arena(), fuzz_file, &calls, &st);
	if (rc >= 0 && rc != calls)
		abort();
	return 0;
}
