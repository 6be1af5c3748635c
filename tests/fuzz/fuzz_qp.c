/* tests/fuzz/fuzz_qp.c - scan_qp_decode(): bounds, output <= input. */
#include "scan/decode.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *out = malloc(size ? size : 1);
	if (out == NULL)
		abort();
	struct scan_decode_stats st;
	size_t len = scan_qp_decode(data, size, out, &st);
	if (len > size || st.garbage > size)
		abort();
	free(out);
	return 0;
}
