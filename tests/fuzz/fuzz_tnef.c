/* tests/fuzz/fuzz_tnef.c - scan_tnef_extract(). */
#include "scan/decode.h"
#include "tests/fuzz/fuzz_extract.h"

#include <errno.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int calls = 0;
	int rc = scan_tnef_extract(data, size, fuzz_arena(), fuzz_file, &calls);
	if (rc >= 0 && rc != calls)
		abort();
	if (!scan_tnef_detect(data, size) && rc != -EINVAL)
		abort();
	return 0;
}
