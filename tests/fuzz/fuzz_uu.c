/* tests/fuzz/fuzz_uu.c - scan_uu_extract() and scan_uu_decode_body(). */
#include "scan/decode.h"
#include "tests/fuzz/fuzz_extract.h"

#include <stdlib.h>

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
