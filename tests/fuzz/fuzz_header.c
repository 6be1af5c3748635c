/* tests/fuzz/fuzz_header.c - mime_header_decode() and the parameter
 * parser on arbitrary header values. */
#include "scan/charset.h"
#include "scan/mime.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct scan_arena *arena;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (arena == NULL)
		arena = scan_arena_create(16u << 20);
	scan_arena_reset(arena);
	char *val = malloc(size ? size : 1);
	if (size)
		memcpy(val, data, size);

	char *d = mime_header_decode(val, size, arena);
	if (d != NULL && strlen(d) > 4 * size + 8)
		abort();

	struct mime_params ps;
	if (mime_params_parse(val, size, arena, &ps) == 0) {
		if (ps.value == NULL)
			abort();
		for (unsigned i = 0; i < ps.nparams; i++) {
			const struct mime_param *m = &ps.params[i];
			if (m->name == NULL || m->value == NULL ||
			    m->value[m->value_len] != '\0')
				abort();
			if (mime_params_find(&ps, m->name, NULL) == NULL)
				abort();
			if (!(m->flags & MIME_PARAM_F_EXT) &&
			    memmem(m->value, m->value_len, "=?", 2) != NULL)
				(void)mime_header_decode(m->value, m->value_len,
							 arena);
		}
	}
	free(val);
	return 0;
}
