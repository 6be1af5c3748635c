/* tests/fuzz/fuzz_html.c - scan/html.c: text view, link view, detection.
 *
 * Besides memory safety, checks the output contract: length <= input,
 * NUL-terminated, whitespace collapsed (no leading/trailing separator, no
 * two in a row), no control characters other than '\n' in the text view. */
#include "scan/html.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct scan_arena *arena;

static int is_sep(uint8_t c)
{
	return c == ' ' || c == '\n';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (arena == NULL)
		arena = scan_arena_create(256u << 20);
	uint8_t *out;
	size_t len;
	if (scan_html_to_text(data, size, arena, &out, &len) == 0) {
		if (len > size || out[len] != '\0')
			abort();
		if (len > 0 && (is_sep(out[0]) || is_sep(out[len - 1])))
			abort();
		for (size_t k = 0; k < len; k++) {
			if ((out[k] < 0x20 && out[k] != '\n') || out[k] == 0x7F)
				abort();
			if (k > 0 && is_sep(out[k]) && is_sep(out[k - 1]))
				abort();
		}
	}
	if (scan_html_links(data, size, arena, &out, &len) == 0) {
		if (len > size || out[len] != '\0')
			abort();
		if (len > 0 && out[len - 1] != '\n')
			abort();
		for (size_t k = 0; k < len; k++)
			if (out[k] == '\n' && (k == 0 || out[k - 1] == '\n'))
				abort(); /* empty link line */
	}
	(void)scan_html_detect(data, size);
	scan_arena_reset(arena);
	return 0;
}
