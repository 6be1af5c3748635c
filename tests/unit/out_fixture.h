/*
 * tests/unit/out_fixture.h - a growing byte buffer for tests that build
 * messages and archives in memory, and base64 for their attachments.
 * Header-only (static inline); aborts on allocation failure (tests only).
 * The caller owns o->p and frees it with out_free().
 */
#ifndef SLUICE_TESTS_OUT_FIXTURE_H
#define SLUICE_TESTS_OUT_FIXTURE_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct out {
	uint8_t *p;
	size_t n, cap;
};

static inline void out_put(struct out *o, const void *d, size_t n)
{
	if (o->n + n > o->cap) {
		size_t c = o->cap ? o->cap : 4096;
		while (c < o->n + n)
			c *= 2;
		o->p = realloc(o->p, c);
		if (o->p == NULL)
			abort();
		o->cap = c;
	}
	memcpy(o->p + o->n, d, n);
	o->n += n;
}

static inline void out_free(struct out *o)
{
	free(o->p);
	memset(o, 0, sizeof(*o));
}

/* data[0..n) as base64 in lines of 76 characters, each ended by CRLF
 * except the last. */
static inline void out_base64(struct out *o, const uint8_t *data, size_t n)
{
	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)data[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)data[i + 1] << 8;
		if (i + 2 < n)
			v |= data[i + 2];
		char q[4] = {b64[v >> 18], b64[(v >> 12) & 63],
			     i + 1 < n ? b64[(v >> 6) & 63] : '=',
			     i + 2 < n ? b64[v & 63] : '='};
		out_put(o, q, 4);
		if ((i / 3) % 19 == 18)
			out_put(o, "\r\n", 2);
	}
}

#endif
