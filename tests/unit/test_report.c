/* tests/unit/test_report.c - scan/report.c and scan/verdict.c */
#include "scan/report.h"
#include "tests/unit/check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Render with fn into a string (caller frees). */
static char *render(int (*fn)(FILE *, const char *, const struct scan_verdict *),
		    const char *file, const struct scan_verdict *v)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	CHECK_EQ_INT(fn(f, file, v), 0);
	fclose(f);
	return buf;
}

static const struct {
	const char *in;
	const char *json;
} json_rows[] = {
	{"plain", "\"plain\""},
	{"q\"b\\s", "\"q\\\"b\\\\s\""},
	{"line\r\nX-Injected: 1", "\"line\\r\\nX-Injected: 1\""},
	{"tab\there\x01", "\"tab\\there\\u0001\""},
	{"caf\xc3\xa9", "\"caf\xc3\xa9\""},          /* valid UTF-8 kept */
	{"bad\xff\xc3", "\"bad\\u00ff\\u00c3\""},    /* invalid bytes escaped */
	{"\xed\xa0\x80", "\"\\u00ed\\u00a0\\u0080\""}, /* surrogate */
	{"", "\"\""},
};

static void test_json_string(void)
{
	for (size_t i = 0; i < sizeof(json_rows) / sizeof(json_rows[0]); i++) {
		char *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);
		scan_json_string(f, json_rows[i].in);
		fclose(f);
		CHECK_EQ_STR(buf, json_rows[i].json);
		free(buf);
	}
}

static void fill(struct scan_verdict *v, struct scan_part_info *parts)
{
	scan_verdict_init(v, NULL, 0);
	v->cls = SCAN_VIRUS;
	v->disposition = SCAN_REJECT;
	snprintf(v->route, sizeof(v->route), "incoming");
	snprintf(v->policy, sizeof(v->policy), "inbound");
	scan_verdict_add(v, SCAN_F_VIRUS, 2, "Eicar\nFAKE: line", "at %d", 5);
	scan_verdict_edit(v, SCAN_EDIT_TAG_SUBJECT, -1, "[X]");
	scan_verdict_edit(v, SCAN_EDIT_TAG_SUBJECT, -1, "[Y]");
	struct scan_edit *e = scan_verdict_edit(v, SCAN_EDIT_NOTIFY, -1, "virus");
	e->notify = SCAN_NOTIFY_SENDER | SCAN_NOTIFY_ADMIN;
	memset(parts, 0, sizeof(*parts));
	parts->id = 2;
	parts->path = "2";
	parts->content_type = "application/octet-stream";
	parts->filename = "a\"b.exe";
	parts->true_type = "pe";
	parts->size = 68;
	parts->sha256[0] = 0xab;
	parts->leaf = 1;
	v->parts = parts;
	v->nparts = 1;
}

static void test_text_line(void)
{
	struct scan_verdict v;
	struct scan_part_info p;
	fill(&v, &p);
	char *s = render(scan_report_text, "m\n.eml", &v);
	/* One line only, whatever the names contain; edits listed once. */
	CHECK_EQ_STR(s, "m\\x0a.eml: virus reject+tag+notify [virus "
			"Eicar\\x0aFAKE: line (part 2)]\n");
	free(s);
}

static void test_json_object(void)
{
	struct scan_verdict v;
	struct scan_part_info p;
	fill(&v, &p);
	char *s = render(scan_report_json, "f.eml", &v);
	CHECK(strchr(s, '\n') == s + strlen(s) - 1);
	CHECK(strstr(s, "\"verdict\":\"virus\",\"action\":\"reject\"") != NULL);
	CHECK(strstr(s, "\"name\":\"Eicar\\nFAKE: line\",\"part\":2") != NULL);
	CHECK(strstr(s, "\"notify\":[\"sender\",\"admin\"]") != NULL);
	CHECK(strstr(s, "\"filename\":\"a\\\"b.exe\"") != NULL);
	CHECK(strstr(s, "\"sha256\":\"ab000000") != NULL);
	CHECK(strstr(s, "\"findings_total\":1") != NULL);
	free(s);
}

static void test_findings_overflow_counted(void)
{
	struct scan_verdict v;
	scan_verdict_init(&v, NULL, 0);
	for (int i = 0; i < SCAN_MAX_FINDINGS + 10; i++)
		scan_verdict_add(&v, SCAN_F_LIMIT, i, "x", NULL);
	CHECK_EQ_INT(v.nfindings, SCAN_MAX_FINDINGS);
	CHECK_EQ_INT(v.nfindings_total, SCAN_MAX_FINDINGS + 10);
	char *s = render(scan_report_text, "f", &v);
	CHECK(strstr(s, ", +10 more]") != NULL);
	free(s);
	for (int i = 0; i < SCAN_MAX_EDITS; i++)
		CHECK(scan_verdict_edit(&v, SCAN_EDIT_ADD_HEADER, -1, "h") != NULL);
	CHECK(scan_verdict_edit(&v, SCAN_EDIT_ADD_HEADER, -1, "h") == NULL);
}

static void test_explain_truncates(void)
{
	char buf[32];
	struct scan_verdict v;
	scan_verdict_init(&v, buf, sizeof(buf));
	scan_explain(&v, "0123456789\n");
	scan_explain(&v, "0123456789\n");
	scan_explain(&v, "0123456789\n");
	CHECK(v.explain_len < sizeof(buf));
	CHECK_EQ_INT(strlen(buf), v.explain_len);
	scan_verdict_init(&v, NULL, 0);
	scan_explain(&v, "ignored"); /* no buffer: no-op */
	CHECK_EQ_INT(v.explain_len, 0);
}

static void test_names_round_trip(void)
{
	for (int k = 0; k < SCAN_F_KIND_COUNT; k++) {
		enum scan_finding_kind out;
		CHECK_EQ_INT(scan_finding_kind_parse(
				     scan_finding_kind_name((enum scan_finding_kind)k),
				     &out), 0);
		CHECK_EQ_INT(out, k);
	}
	enum scan_finding_kind out;
	CHECK(scan_finding_kind_parse("nope", &out) < 0);
	char esc[32];
	scan_escape_bytes(esc, sizeof(esc), (const uint8_t *)"A\x00\\z", 4, 16);
	CHECK_EQ_STR(esc, "A\\x00\\x5cz");
	scan_escape_bytes(esc, sizeof(esc), (const uint8_t *)"abcdef", 6, 3);
	CHECK_EQ_STR(esc, "abc...");
}

int main(void)
{
	RUN(test_json_string);
	RUN(test_text_line);
	RUN(test_json_object);
	RUN(test_findings_overflow_counted);
	RUN(test_explain_truncates);
	RUN(test_names_round_trip);
	return CHECK_DONE();
}
