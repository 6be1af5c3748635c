/*
 * scan/report.h - print a verdict for operators: one text line or one JSON
 * object per message, and the --explain trace.
 *
 * Formats (stable; scripts parse them):
 *   text:  FILE: VERDICT ACTION [finding, ...]
 *          ACTION is the disposition, followed by "+edit" for each edit
 *          kind applied (deliver+tag+header).
 *   json:  {"file":..., "verdict":..., "action":..., "actions":[...],
 *          "route":..., "policy":..., "reason":..., "findings":[{"kind",
 *          "name","part","detail"}], "findings_total":N, "parts":[{"id",
 *          "path","content_type","filename","true_type","size","sha256"}],
 *          "spam_score":N, "spam_threshold":N, "scan_us":N}
 *
 * Functions write to a stdio stream and return 0 or -EIO when the stream
 * reports an error. Strings from the message are escaped (JSON) or made
 * printable (text), so hostile names cannot forge output lines.
 */
#ifndef SLUICE_SCAN_REPORT_H
#define SLUICE_SCAN_REPORT_H

#include <stdio.h>

#include "scan/verdict.h"

int scan_report_text(FILE *f, const char *file, const struct scan_verdict *v);
int scan_report_json(FILE *f, const char *file, const struct scan_verdict *v);

/* The --explain trace, indented, after a header naming the file. */
int scan_report_explain(FILE *f, const char *file,
			const struct scan_verdict *v);

/* Write s as a JSON string literal (with quotes). Invalid UTF-8 bytes are
 * written as \u00XX of the byte so output is always valid JSON. */
void scan_json_string(FILE *f, const char *s);

#endif
