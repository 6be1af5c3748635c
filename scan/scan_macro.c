/* scan/scan_macro.c - Office macros and encrypted documents found by our
 * own readers (scan/ole2.h for OLE2, member names and the content-type
 * table for OOXML), independently of libclamav; see scan_int.h. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "scan/scan_int.h"

#define MACRO_FINDING "macro"
#define ENCRYPTED_FINDING "encrypted-document"
#define CT_SEARCH_MAX (1u << 20)

/* The finding of this kind and name on part, or NULL. */
static struct scan_finding *have(struct scan_ctx *c,
				 enum scan_finding_kind kind, int part,
				 const char *name)
{
	for (unsigned i = 0; i < c->v->nfindings; i++) {
		struct scan_finding *f = &c->v->findings[i];
		if (f->kind == kind && f->part == part &&
		    strcmp(f->name, name) == 0)
			return f;
	}
	return NULL;
}

static const char *base_name(const char *p)
{
	const char *b = p;
	for (; *p; p++)
		if (*p == '/' || *p == '\\')
			b = p + 1;
	return b;
}

static int is_vba_project_bin(const char *path)
{
	return path != NULL && strcasecmp(base_name(path),
					  "vbaProject.bin") == 0;
}

void pipe_ole2(struct scan_ctx *c, const struct leaf *l, const uint8_t *d,
	       size_t n)
{
	/* A second reading of the part (conflicting encodings) is read
	 * too: its document may differ; findings stay one per part. */
	struct scan_ole2_info oi;
	int rc = scan_ole2_inspect(d, n, c->ole2, &oi);
	if (rc < 0) {
		scan_explain(c->v, "    part %d: ole2: not read: %s\n", l->id,
			     oi.problem);
		return;
	}
	scan_explain(c->v, "    part %d: ole2: %u directory entries, %u-byte "
		     "sectors%s%s\n", l->id, oi.entries, oi.sector_size,
		     oi.problem ? "; stopped early: " : "",
		     oi.problem ? oi.problem : "");
	if (oi.flags & SCAN_OLE2_VBA)
		scan_explain(c->v, "    part %d: ole2: VBA project in storage "
			     "%s\n", l->id, oi.vba_path);
	if (oi.flags & SCAN_OLE2_XLM)
		scan_explain(c->v, "    part %d: ole2: Excel 4.0 macro sheet "
			     "'%s' (%s)\n", l->id, oi.xlm_sheet, oi.xlm_state);
	if (oi.flags & SCAN_OLE2_ENCRYPTED)
		scan_explain(c->v, "    part %d: ole2: encrypted: %s\n", l->id,
			     oi.encryption);
	if ((oi.flags & (SCAN_OLE2_VBA | SCAN_OLE2_XLM)) &&
	    l->in_office && is_vba_project_bin(l->filename)) {
		/* The document holding it has the finding. */
		scan_explain(c->v, "    part %d: ole2: reported on the "
			     "document\n", l->id);
	} else if ((oi.flags & (SCAN_OLE2_VBA | SCAN_OLE2_XLM)) &&
		   !have(c, SCAN_F_MACRO, l->id, MACRO_FINDING)) {
		char xlm[96] = "";
		if (oi.flags & SCAN_OLE2_XLM)
			snprintf(xlm, sizeof(xlm), "%sExcel 4.0 macro sheet "
				 "'%s' (%s)",
				 oi.flags & SCAN_OLE2_VBA ? "; " : "",
				 oi.xlm_sheet, oi.xlm_state);
		scan_verdict_add(c->v, SCAN_F_MACRO, l->id, MACRO_FINDING,
				 "%s%s%s",
				 oi.flags & SCAN_OLE2_VBA
					 ? "VBA project in OLE2 storage " : "",
				 oi.flags & SCAN_OLE2_VBA ? oi.vba_path : "",
				 xlm);
	}
	if ((oi.flags & SCAN_OLE2_ENCRYPTED) &&
	    !have(c, SCAN_F_ENCRYPTED, l->id, ENCRYPTED_FINDING))
		scan_verdict_add(c->v, SCAN_F_ENCRYPTED, l->id,
				 ENCRYPTED_FINDING, "OLE2 document: %s",
				 oi.encryption);
}

int pipe_office_container(enum scan_ftype ft)
{
	return ft == SCAN_FT_ZIP || ft == SCAN_FT_OOXML ||
	       ft == SCAN_FT_DOCX || ft == SCAN_FT_XLSX ||
	       ft == SCAN_FT_PPTX || ft == SCAN_FT_ODF;
}

/* Case-insensitive search for needle in d[0..n). */
static const uint8_t *find_ci(const uint8_t *d, size_t n, const char *needle)
{
	size_t k = strlen(needle);
	for (size_t i = 0; i + k <= n; i++)
		if (strncasecmp((const char *)d + i, needle, k) == 0)
			return d + i;
	return NULL;
}

/* The quoted attribute value around p in d[0..n) ("application/vnd.ms-
 * word.document.macroEnabled.main+xml"), at most 100 bytes each way. */
static void quoted_around(const uint8_t *d, size_t n, const uint8_t *p,
			  char *out, size_t cap)
{
	const uint8_t *a = p, *b = p;
	while (a > d && p - a < 100 && a[-1] != '"' && a[-1] != '\'' &&
	       a[-1] != '<')
		a--;
	while (b < d + n && b - p < 100 && *b != '"' && *b != '\'' &&
	       *b != '>')
		b++;
	scan_escape_bytes(out, cap, a, (size_t)(b - a), 120);
}

void pipe_office_member(struct scan_ctx *c, const struct leaf *l,
			enum scan_ftype ft, const char *mpath,
			const uint8_t *d, size_t n)
{
	struct scan_finding *f = have(c, SCAN_F_MACRO, l->id, MACRO_FINDING);
	/* OpenDocument keeps Basic libraries under Basic/ and Python,
	 * BeanShell and JavaScript macros under Scripts/ (ODF 1.2 part 3,
	 * 3.16 and the manifest's conventions of OpenOffice/LibreOffice). */
	if (ft == SCAN_FT_ODF && (strncmp(mpath, "Basic/", 6) == 0 ||
				  strncmp(mpath, "Scripts/", 8) == 0)) {
		scan_explain(c->v, "    part %d: ODF macro library member "
			     "%s\n", l->id, mpath);
		if (f == NULL)
			scan_verdict_add(c->v, SCAN_F_MACRO, l->id,
					 MACRO_FINDING,
					 "OpenDocument with macros (%s)",
					 mpath);
		return;
	}
	if (is_vba_project_bin(mpath)) {
		scan_explain(c->v, "    part %d: OOXML VBA project %s\n", l->id,
			     mpath);
		if (f == NULL) {
			scan_verdict_add(c->v, SCAN_F_MACRO, l->id,
					 MACRO_FINDING,
					 "OOXML document with a VBA project "
					 "(%s)", mpath);
		} else if (strstr(f->detail, "VBA project") == NULL) {
			/* the content type came first: name the project */
			size_t k = strlen(f->detail);
			snprintf(f->detail + k, sizeof(f->detail) - k,
				 "; VBA project %s", mpath);
		}
		return;
	}
	if (f != NULL)
		return;
	if (strcasecmp(mpath, "[Content_Types].xml") != 0)
		return;
	/* The table is a few KiB; a padded one is searched in its first
	 * MiB only (each mark is searched byte by byte). */
	if (n > CT_SEARCH_MAX) {
		scan_explain(c->v, "    part %d: [Content_Types].xml is %zu "
			     "bytes; first %u searched\n", l->id, n,
			     CT_SEARCH_MAX);
		n = CT_SEARCH_MAX;
	}
	static const char *const marks[] = {"macroEnabled", "vbaProject",
					    "vbaData"};
	for (size_t i = 0; i < sizeof(marks) / sizeof(marks[0]); i++) {
		const uint8_t *p = find_ci(d, n, marks[i]);
		if (p == NULL)
			continue;
		char ct[128];
		quoted_around(d, n, p, ct, sizeof(ct));
		scan_explain(c->v, "    part %d: OOXML content type %s\n",
			     l->id, ct);
		scan_verdict_add(c->v, SCAN_F_MACRO, l->id, MACRO_FINDING,
				 "OOXML content type %s", ct);
		return;
	}
}
