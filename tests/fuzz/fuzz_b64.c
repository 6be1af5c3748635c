/* tests/fuzz/fuzz_b64.c - scan_b64_decode(): bounds, SIMD == portable. */
#include "scan/decode.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t cap = scan_b64_decoded_max(size);
	uint8_t *a = malloc(cap), *b = malloc(cap);
	if (a == NULL || b == NULL)
		abort();
	struct scan_decode_stats sa, sb;
	size_t la = scan_b64_decode(data, size, a, &sa);
	size_t lb = scan_b64_decode_portable(data, size, b, &sb);
	if (la > cap || la != lb || memcmp(a, b, la) != 0 ||
	    sa.garbage != sb.garbage || sa.truncated != sb.truncated ||
	    sa.bad_padding != sb.bad_padding || sa.garbage > size)
		abort();
	free(a);
	free(b);
	return 0;
}
