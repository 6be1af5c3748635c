/* tests/fuzz/fuzz_filetype.c - scan/filetype.c: detection on any bytes,
 * plus the name and extension helpers on the same bytes read as text.
 * Checks that the answer is a valid type whose name parses back. */
#include "scan/filetype.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum scan_ftype t = scan_filetype(data, size), back;
	if ((unsigned)t >= SCAN_FT_COUNT)
		abort();
	if (scan_ftype_parse(scan_ftype_name(t), &back) != 0 || back != t)
		abort();
	if ((size == 0) != (t == SCAN_FT_EMPTY))
		abort();
	(void)scan_ftype_class(t);

	/* the first bytes as an extension and as a Content-Type */
	char s[64];
	size_t l = size < sizeof(s) - 1 ? size : sizeof(s) - 1;
	memcpy(s, data, l);
	s[l] = '\0';
	(void)scan_ftype_matches_extension(t, s);
	if (scan_ftype_from_declared(s, &back) == 0) {
		if ((unsigned)back >= SCAN_FT_COUNT)
			abort();
		(void)scan_ftype_matches_declared(t, back);
	}
	return 0;
}
