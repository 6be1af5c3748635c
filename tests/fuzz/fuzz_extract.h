/*
 * tests/fuzz/fuzz_extract.h - shared pieces of the extractor fuzz targets
 * (fuzz_uu, fuzz_binhex, fuzz_tnef).
 *
 * fuzz_arena() hands out one arena with a modest cap, reset per input.
 * fuzz_file() is the scan_extract_fn: it reads every byte it is given
 * (ASan checks the bounds) and the name as a string, and counts the calls
 * in the int that ctx points to.
 */
#ifndef SLUICE_TESTS_FUZZ_EXTRACT_H
#define SLUICE_TESTS_FUZZ_EXTRACT_H

#include "scan/decode.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static struct scan_arena *fuzz_arena(void)
{
	static struct scan_arena *a;
	if (a == NULL)
		a = scan_arena_create(4u << 20);
	if (a == NULL)
		abort();
	scan_arena_reset(a);
	return a;
}

static volatile unsigned fuzz_sink;

static int fuzz_file(void *ctx, const char *name, const uint8_t *data,
		     size_t len)
{
	unsigned s = (unsigned)strlen(name);
	for (size_t i = 0; i < len; i++)
		s += data[i];
	fuzz_sink = s;
	(*(int *)ctx)++;
	return 0;
}

#endif
