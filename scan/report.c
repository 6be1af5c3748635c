/* scan/report.c - see report.h. */
#include "scan/report.h"
#include "scan/charset.h"

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <string.h>

/* Length of a valid UTF-8 sequence at the NUL-terminated s (1..4), or 0. */
static size_t utf8_seq_len(const unsigned char *s)
{
	return scan_utf8_seq_len(s, strnlen((const char *)s, 4));
}

void scan_json_string(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s != NULL ? s : "");
	fputc('"', f);
	while (*p != '\0') {
		unsigned char c = *p;
		size_t n;
		switch (c) {
		case '"': fputs("\\\"", f); p++; continue;
		case '\\': fputs("\\\\", f); p++; continue;
		case '\n': fputs("\\n", f); p++; continue;
		case '\r': fputs("\\r", f); p++; continue;
		case '\t': fputs("\\t", f); p++; continue;
		default: break;
		}
		if (c < 0x20 || c == 0x7f) {
			fprintf(f, "\\u%04x", c);
			p++;
		} else if ((n = utf8_seq_len(p)) == 0) {
			fprintf(f, "\\u%04x", c); /* stray byte: as Latin-1 */
			p++;
		} else {
			fwrite(p, 1, n, f);
			p += n;
		}
	}
	fputc('"', f);
}

/* Text output: printable ASCII and valid UTF-8 as is, the rest as \xHH. */
static void text_string(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s != NULL ? s : "");
	while (*p != '\0') {
		size_t n = utf8_seq_len(p);
		if (*p < 0x20 || *p == 0x7f || n == 0) {
			fprintf(f, "\\x%02x", *p);
			p++;
		} else {
			fwrite(p, 1, n, f);
			p += n;
		}
	}
}

static void action_string(FILE *f, const struct scan_verdict *v)
{
	fputs(scan_disposition_name(v->disposition), f);
	unsigned seen = 0;
	for (unsigned i = 0; i < v->nedits; i++) {
		unsigned bit = 1u << v->edits[i].kind;
		if (seen & bit)
			continue;
		seen |= bit;
		fprintf(f, "+%s", scan_edit_kind_name(v->edits[i].kind));
	}
}

int scan_report_text(FILE *f, const char *file, const struct scan_verdict *v)
{
	text_string(f, file);
	fprintf(f, ": %s ", scan_class_name(v->cls));
	action_string(f, v);
	fputs(" [", f);
	for (unsigned i = 0; i < v->nfindings; i++) {
		const struct scan_finding *fd = &v->findings[i];
		if (i > 0)
			fputs(", ", f);
		fprintf(f, "%s ", scan_finding_kind_name(fd->kind));
		text_string(f, fd->name);
		if (fd->part >= 0)
			fprintf(f, " (part %d)", fd->part);
	}
	if (v->nfindings_total > v->nfindings)
		fprintf(f, ", +%u more", v->nfindings_total - v->nfindings);
	fputs("]\n", f);
	return ferror(f) ? -EIO : 0;
}

static void hex32(FILE *f, const uint8_t d[32])
{
	static const char hex[] = "0123456789abcdef";
	char out[65];
	for (int i = 0; i < 32; i++) {
		out[2 * i] = hex[d[i] >> 4];
		out[2 * i + 1] = hex[d[i] & 15];
	}
	out[64] = '\0';
	fputs(out, f);
}

int scan_report_json(FILE *f, const char *file, const struct scan_verdict *v)
{
	fputs("{\"file\":", f);
	scan_json_string(f, file);
	fprintf(f, ",\"verdict\":\"%s\",\"action\":\"%s\",\"actions\":[",
		scan_class_name(v->cls), scan_disposition_name(v->disposition));
	for (unsigned i = 0; i < v->nedits; i++) {
		const struct scan_edit *e = &v->edits[i];
		fprintf(f, "%s{\"kind\":\"%s\",\"part\":%d,\"text\":", i ? "," : "",
			scan_edit_kind_name(e->kind), e->part);
		scan_json_string(f, e->text);
		if (e->kind == SCAN_EDIT_NOTIFY) {
			static const char *const who[] = {"sender", "recipient",
							  "admin"};
			const char *sep = "";
			fputs(",\"notify\":[", f);
			for (unsigned w = 0; w < 3; w++)
				if (e->notify & (1u << w)) {
					fprintf(f, "%s\"%s\"", sep, who[w]);
					sep = ",";
				}
			fputc(']', f);
		}
		fputc('}', f);
	}
	fputs("],\"route\":", f);
	scan_json_string(f, v->route);
	fputs(",\"policy\":", f);
	scan_json_string(f, v->policy);
	if (v->disposition == SCAN_QUARANTINE) {
		fputs(",\"quarantine\":", f);
		scan_json_string(f, v->quarantine_area);
	}
	fputs(",\"reason\":", f);
	scan_json_string(f, v->reason);
	fputs(",\"findings\":[", f);
	for (unsigned i = 0; i < v->nfindings; i++) {
		const struct scan_finding *fd = &v->findings[i];
		fprintf(f, "%s{\"kind\":\"%s\",\"name\":", i ? "," : "",
			scan_finding_kind_name(fd->kind));
		scan_json_string(f, fd->name);
		fprintf(f, ",\"part\":%d,\"detail\":", fd->part);
		scan_json_string(f, fd->detail);
		fputc('}', f);
	}
	fprintf(f, "],\"findings_total\":%u,\"parts\":[", v->nfindings_total);
	for (unsigned i = 0; i < v->nparts; i++) {
		const struct scan_part_info *p = &v->parts[i];
		fprintf(f, "%s{\"id\":%d,\"path\":", i ? "," : "", p->id);
		scan_json_string(f, p->path);
		fputs(",\"content_type\":", f);
		scan_json_string(f, p->content_type);
		fputs(",\"filename\":", f);
		if (p->filename != NULL)
			scan_json_string(f, p->filename);
		else
			fputs("null", f);
		fputs(",\"true_type\":", f);
		scan_json_string(f, p->true_type);
		fprintf(f, ",\"size\":%" PRIu64 ",\"leaf\":%s,\"sha256\":",
			p->size, p->leaf ? "true" : "false");
		if (p->leaf) { /* containers have no decoded bytes of their own */
			fputc('"', f);
			hex32(f, p->sha256);
			fputc('"', f);
		} else {
			fputs("null", f);
		}
		fputc('}', f);
	}
	fprintf(f,
		"],\"spam_score\":%d,\"spam_threshold\":%d,\"scan_us\":%" PRIu64
		"}\n",
		v->spam_score, v->spam_threshold, v->scan_us);
	return ferror(f) ? -EIO : 0;
}

int scan_report_explain(FILE *f, const char *file,
			const struct scan_verdict *v)
{
	fputs("== ", f);
	text_string(f, file);
	fputc('\n', f);
	if (v->explain == NULL || v->explain_len == 0) {
		fputs("  (no trace)\n", f);
		return ferror(f) ? -EIO : 0;
	}
	const char *p = v->explain, *end = v->explain + v->explain_len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		fputs("  ", f);
		fwrite(p, 1, n, f);
		fputc('\n', f);
		p += n + (nl != NULL);
	}
	return ferror(f) ? -EIO : 0;
}
