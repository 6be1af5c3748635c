/*
 * tests/unit/finding_names.h - finding_names() for tests that compare the
 * findings of a verdict as one string (test_header, test_mime).
 */
#ifndef SLUICE_TESTS_FINDING_NAMES_H
#define SLUICE_TESTS_FINDING_NAMES_H

#include "scan/verdict.h"

#include <stdio.h>
#include <string.h>

/* Names of the findings in v, comma-separated. */
static void finding_names(const struct scan_verdict *v, char *buf, size_t sz)
{
	buf[0] = '\0';
	for (unsigned i = 0; i < v->nfindings; i++) {
		size_t l = strlen(buf);
		snprintf(buf + l, sz - l, "%s%s", i ? "," : "",
			 v->findings[i].name);
	}
}

#endif
