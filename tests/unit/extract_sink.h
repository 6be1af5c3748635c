/*
 * tests/unit/extract_sink.h - a scan_extract_fn sink for the extractor
 * tests (test_uu, test_binhex, test_tnef).
 *
 * collect() copies up to MAXF files (name and data) into a struct got,
 * counts every call in g->n, and asks the extractor to stop once
 * g->stop_after (when non-zero) files have been seen. got_free() frees
 * the copies and clears the struct for reuse.
 */
#ifndef SLUICE_TESTS_EXTRACT_SINK_H
#define SLUICE_TESTS_EXTRACT_SINK_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXF 8
struct got {
	int n, stop_after;
	char name[MAXF][300]; /* longest name any of the tests expects */
	uint8_t *data[MAXF];
	size_t len[MAXF];
};

static int collect(void *ctx, const char *name, const uint8_t *data,
		   size_t len)
{
	struct got *g = ctx;
	if (g->n < MAXF) {
		snprintf(g->name[g->n], sizeof(g->name[0]), "%s", name);
		g->data[g->n] = malloc(len ? len : 1);
		memcpy(g->data[g->n], data, len);
		g->len[g->n] = len;
	}
	g->n++;
	return g->stop_after && g->n >= g->stop_after;
}

static void got_free(struct got *g)
{
	for (int i = 0; i < g->n && i < MAXF; i++)
		free(g->data[i]);
	memset(g, 0, sizeof(*g));
}

#endif
