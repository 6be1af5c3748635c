/*
 * tests/unit/diag_log.h - a diagnostics callback for the rule-loading
 * tests (test_rules, test_hsdb): diag_collect() appends each report to
 * diag_log as "basename:line: msg\n". Tests clear it with
 * diag_log[0] = '\0' and compare the text.
 */
#ifndef SLUICE_TESTS_DIAG_LOG_H
#define SLUICE_TESTS_DIAG_LOG_H

#include <stdio.h>
#include <string.h>

static char diag_log[8192];

static void diag_collect(void *ctx, const char *file, unsigned line,
			 const char *msg)
{
	const char *base = strrchr(file, '/');
	size_t n = strlen(diag_log);

	(void)ctx;
	snprintf(diag_log + n, sizeof diag_log - n, "%s:%u: %s\n",
		 base ? base + 1 : file, line, msg);
}

#endif
