/* tests/fuzz/fuzz_mime.c - mime_parse() with small limits, then walk the
 * tree, decode every header and check the invariants the pipeline relies
 * on (every slice inside the message, pre-order ids, parent links). */
#include "scan/charset.h"
#include "scan/mime.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct scan_arena *arena;

#define REQUIRE(c) \
	do {       \
		if (!(c)) \
			abort(); \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (arena == NULL)
		arena = scan_arena_create(8u << 20);
	scan_arena_reset(arena);

	/* First byte picks the limits so small ones get exercised too. */
	struct mime_limits lim = { 0 };
	if (size > 0) {
		uint8_t k = data[0];
		lim.header_bytes = 64u + (k & 3u) * 512u;
		lim.header_count = 4u + ((k >> 2) & 3u) * 8u;
		lim.parts = 8u + ((k >> 4) & 3u) * 32u;
		lim.depth = 2u + ((k >> 6) & 3u) * 3u;
		data++;
		size--;
	}
	/* A private copy: exact bounds for ASan. */
	uint8_t *msg = malloc(size ? size : 1);
	if (size)
		memcpy(msg, data, size);

	struct scan_verdict v;
	scan_verdict_init(&v, NULL, 0);
	struct mime_message m;
	int rc = mime_parse(msg, size, &lim, arena, &v, &m);
	REQUIRE(rc == 0 || rc == -12);
	REQUIRE(m.nparts >= 1 && m.root == m.parts[0]);
	REQUIRE(m.nparts <= lim.parts + 1);
	for (unsigned i = 0; i < m.nparts; i++) {
		const struct mime_part *p = m.parts[i];
		REQUIRE(p->id == (int)i);
		REQUIRE(p->depth <= lim.depth);
		REQUIRE(p->body >= msg && p->body + p->body_len <= msg + size);
		REQUIRE(p->header_raw >= msg &&
			p->header_raw + p->header_raw_len <= msg + size);
		REQUIRE(p->nheaders <= lim.header_count);
		REQUIRE(p->content_type != NULL && p->path != NULL);
		if (p->parent != NULL)
			REQUIRE(p->parent->id < p->id &&
				p->depth == p->parent->depth + 1);
		unsigned n = 0;
		for (const struct mime_part *c = p->first_child; c != NULL;
		     c = c->next_sibling, n++)
			REQUIRE(c->parent == p);
		REQUIRE(n == p->nchildren);
		for (unsigned h = 0; h < p->nheaders; h++) {
			const struct mime_header *hd = &p->headers[h];
			REQUIRE((const uint8_t *)hd->value >= msg &&
				(const uint8_t *)hd->value + hd->value_len <=
					msg + size);
			char *d = mime_header_decode(hd->value, hd->value_len,
						     arena);
			if (d != NULL)
				REQUIRE(strlen(d) < 4 * hd->value_len + 8);
		}
		(void)mime_header_get(p, "content-type");
		(void)mime_cte_name(p->cte);
		if (p->filename != NULL)
			(void)strlen(p->filename);
	}
	free(msg);
	return 0;
}
