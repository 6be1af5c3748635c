/* scan/verdict.c - see verdict.h. */
#include "scan/verdict.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static const char *const finding_names[SCAN_F_KIND_COUNT] = {
	[SCAN_F_VIRUS] = "virus",
	[SCAN_F_CONTENT] = "content",
	[SCAN_F_SPAM] = "spam",
	[SCAN_F_ATTACHMENT] = "attachment",
	[SCAN_F_SIZE] = "size",
	[SCAN_F_LIMIT] = "limit",
	[SCAN_F_MALFORMED] = "malformed",
	[SCAN_F_AMBIGUOUS] = "ambiguous",
	[SCAN_F_ENCRYPTED] = "encrypted",
	[SCAN_F_MACRO] = "macro",
};

void scan_verdict_init(struct scan_verdict *v, char *explain_buf,
		       size_t explain_cap)
{
	memset(v, 0, sizeof(*v));
	v->cls = SCAN_CLEAN;
	v->disposition = SCAN_DELIVER;
	v->explain = explain_buf;
	v->explain_cap = explain_buf != NULL ? explain_cap : 0;
	if (v->explain != NULL && v->explain_cap > 0)
		v->explain[0] = '\0';
}

struct scan_finding *scan_verdict_add(struct scan_verdict *v,
				      enum scan_finding_kind kind, int part,
				      const char *name, const char *detail_fmt,
				      ...)
{
	v->nfindings_total++;
	if (v->nfindings >= SCAN_MAX_FINDINGS)
		return NULL;
	struct scan_finding *f = &v->findings[v->nfindings++];
	f->kind = kind;
	f->part = part;
	snprintf(f->name, sizeof(f->name), "%s", name != NULL ? name : "");
	f->detail[0] = '\0';
	if (detail_fmt != NULL) {
		va_list ap;
		va_start(ap, detail_fmt);
		vsnprintf(f->detail, sizeof(f->detail), detail_fmt, ap);
		va_end(ap);
	}
	return f;
}

struct scan_edit *scan_verdict_edit(struct scan_verdict *v,
				    enum scan_edit_kind kind, int part,
				    const char *text)
{
	if (v->nedits >= SCAN_MAX_EDITS)
		return NULL;
	struct scan_edit *e = &v->edits[v->nedits++];
	e->kind = kind;
	e->part = part;
	e->notify = 0;
	snprintf(e->text, sizeof(e->text), "%s", text != NULL ? text : "");
	return e;
}

int scan_verdict_has(const struct scan_verdict *v, enum scan_finding_kind kind)
{
	for (unsigned i = 0; i < v->nfindings; i++)
		if (v->findings[i].kind == kind)
			return 1;
	return 0;
}

void scan_explain(struct scan_verdict *v, const char *fmt, ...)
{
	if (v->explain == NULL || v->explain_len + 1 >= v->explain_cap)
		return;
	va_list ap;
	va_start(ap, fmt);
	size_t room = v->explain_cap - v->explain_len;
	int n = vsnprintf(v->explain + v->explain_len, room, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	v->explain_len += (size_t)n < room ? (size_t)n : room - 1;
}

const char *scan_finding_kind_name(enum scan_finding_kind k)
{
	if ((unsigned)k >= SCAN_F_KIND_COUNT)
		return "unknown";
	return finding_names[k];
}

int scan_finding_kind_parse(const char *name, enum scan_finding_kind *out)
{
	for (unsigned i = 0; i < SCAN_F_KIND_COUNT; i++)
		if (strcmp(name, finding_names[i]) == 0) {
			*out = (enum scan_finding_kind)i;
			return 0;
		}
	return -EINVAL;
}

const char *scan_class_name(enum scan_class c)
{
	switch (c) {
	case SCAN_CLEAN: return "clean";
	case SCAN_VIRUS: return "virus";
	case SCAN_SPAM: return "spam";
	case SCAN_CONTENT: return "content";
	case SCAN_ATTACHMENT: return "attachment";
	case SCAN_ENCRYPTED: return "encrypted";
	case SCAN_MACRO: return "macro";
	case SCAN_LIMIT: return "limit";
	case SCAN_MALFORMED: return "malformed";
	}
	return "unknown";
}

const char *scan_disposition_name(enum scan_disposition d)
{
	switch (d) {
	case SCAN_DELIVER: return "deliver";
	case SCAN_REJECT: return "reject";
	case SCAN_DELETE: return "delete";
	case SCAN_QUARANTINE: return "quarantine";
	}
	return "unknown";
}

const char *scan_edit_kind_name(enum scan_edit_kind k)
{
	switch (k) {
	case SCAN_EDIT_STRIP: return "strip";
	case SCAN_EDIT_TAG_SUBJECT: return "tag";
	case SCAN_EDIT_ADD_HEADER: return "header";
	case SCAN_EDIT_NOTIFY: return "notify";
	}
	return "unknown";
}

void scan_escape_bytes(char *out, size_t outsz, const uint8_t *p, size_t n,
		       size_t max)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;
	if (outsz == 0)
		return;
	size_t lim = n < max ? n : max;
	for (size_t i = 0; i < lim; i++) {
		uint8_t c = p[i];
		if (c >= 0x20 && c < 0x7f && c != '\\') {
			if (o + 1 >= outsz)
				break;
			out[o++] = (char)c;
		} else {
			if (o + 4 >= outsz)
				break;
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	if (n > lim && o + 3 < outsz) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}
