/* tests/fuzz/fuzz_charset.c - scan_charset_to_utf8(): the first bytes up
 * to a NUL (at most 40) name the charset, the rest is converted. Known
 * names are mixed in so real converters are reached. */
#include "scan/charset.h"
#include "tests/unit/utf8_check.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct scan_arena *arena;

static const char *const known[] = {
	"utf-8", "us-ascii", "iso-8859-1", "windows-1252", "utf-16",
	"utf-16le", "utf-32", "utf-7", "iso-2022-jp", "shift_jis", "euc-jp",
	"gb18030", "big5", "koi8-r", "tscii", "ibm037", "cp949", "hz-gb-2312",
	"iso-2022-kr", "x-unknown",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (arena == NULL)
		arena = scan_arena_create(32u << 20);
	scan_arena_reset(arena);
	char name[48];
	const char *cs = NULL;
	if (size > 0 && data[0] < 2 * sizeof(known) / sizeof(known[0])) {
		cs = data[0] < sizeof(known) / sizeof(known[0])
			     ? known[data[0]]
			     : NULL;
		data++;
		size--;
	} else {
		size_t n = 0;
		while (n < size && n < sizeof(name) - 1 && data[n] != 0)
			n++;
		memcpy(name, data, n);
		name[n] = '\0';
		cs = name;
		data += n < size ? n + 1 : n;
		size -= n < size ? n + 1 : n;
	}
	uint8_t *in = malloc(size ? size : 1);
	if (size)
		memcpy(in, data, size);
	uint8_t *out;
	size_t outlen;
	int rc = scan_charset_to_utf8(cs, in, size, arena, &out, &outlen);
	if (rc != 0 && rc != -EINVAL && rc != -ENOMEM)
		abort();
	if (rc != -ENOMEM && (out == NULL || out[outlen] != '\0'))
		abort();
	if (rc == 0 && !valid_utf8(out, outlen))
		abort();
	if (rc == -EINVAL && (outlen != size || memcmp(out, in, size) != 0))
		abort();
	free(in);
	return 0;
}
