/*
 * tests/unit/test_scan_macro.c - our own Office macro, encryption and
 * file-name checks in the pipeline (scan/scan_macro.c, scan/ole2.c,
 * scan/fname.c via scan_leaf.c and the attachment filter), through
 * scan_message and the policy, with libclamav off so every macro finding
 * is ours: Word/Excel OLE2 documents with VBA or XLM, a docm and an xlsm
 * built with libarchive, a docm inside a zip, OpenDocument Basic and
 * Scripts members, encrypted OOXML, a renamed
 * executable blocked by true type, dressed-up names (double extensions,
 * padding, RFC 2231-encoded bidi controls), and the OLE2 files of
 * clamav-testfiles when installed.
 */
#include "scan/ole2.h"
#include "scan/policy.h"
#include "scan/scan.h"
#include "tests/unit/check.h"
#include "tests/unit/out_fixture.h"
#include "tests/unit/ole_fixture.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#ifndef SLUICE_SRCDIR
#define SLUICE_SRCDIR "."
#endif
#define TESTFILES "/usr/share/clamav-testfiles"
#define N OLE_NONE

/* A message whose second part carries `data` base64-encoded under the
 * Content-Type / Content-Disposition parameters `params` (e.g.
 * "name=\"a.doc\"" or "filename*=UTF-8''a%E2%80%AE.txt"). */
static void mail_with(struct out *o, const char *params, const uint8_t *data,
		      size_t n)
{
	char hdr[1024];
	memset(o, 0, sizeof(*o));
	int hl = snprintf(hdr, sizeof(hdr),
		"From: a@example.org\r\nTo: b@example.net\r\nSubject: t\r\n"
		"MIME-Version: 1.0\r\n"
		"Content-Type: multipart/mixed; boundary=bb\r\n\r\n"
		"--bb\r\nContent-Type: text/plain\r\n\r\nhello\r\n"
		"--bb\r\nContent-Type: application/octet-stream\r\n"
		"Content-Disposition: attachment; %s\r\n"
		"Content-Transfer-Encoding: base64\r\n\r\n", params);
	out_put(o, hdr, (size_t)hl);
	out_base64(o, data, n);
	out_put(o, "\r\n--bb--\r\n", 10);
}

static la_ssize_t write_cb(struct archive *a, void *ud, const void *buf,
			   size_t len)
{
	(void)a;
	out_put(ud, buf, len);
	return (la_ssize_t)len;
}

struct ent {
	const char *name;
	const void *data;
	size_t len;
};

/* A zip of the entries (deflate), as Office writes them. */
static void zip_of(struct out *o, const struct ent *e, size_t ne)
{
	memset(o, 0, sizeof(*o));
	struct archive *a = archive_write_new();
	if (archive_write_set_format_zip(a) != ARCHIVE_OK ||
	    archive_write_open(a, o, NULL, write_cb, NULL) != ARCHIVE_OK)
		abort();
	for (size_t i = 0; i < ne; i++) {
		struct archive_entry *en = archive_entry_new();
		archive_entry_set_pathname(en, e[i].name);
		archive_entry_set_size(en, (la_int64_t)e[i].len);
		archive_entry_set_filetype(en, AE_IFREG);
		archive_entry_set_perm(en, 0644);
		archive_entry_set_mtime(en, 1700000000, 0);
		if (archive_write_header(a, en) != ARCHIVE_OK ||
		    archive_write_data(a, e[i].data, e[i].len) !=
			    (la_ssize_t)e[i].len)
			abort();
		archive_entry_free(en);
	}
	archive_write_close(a);
	archive_write_free(a);
}

struct pipe {
	struct scan_config *cfg;
	struct scan_engine *eng;
	struct scan_ctx *ctx;
	char err[1024];
};

static int pipe_open(struct pipe *p, const char *extra)
{
	char y[2048];
	snprintf(y, sizeof(y),
		 "signatures: [" SLUICE_SRCDIR "/config/signatures]\n"
		 "rule_cache: /tmp/sluice-test-scan-macro-cache\n"
		 "internal_domains: [example.net]\n"
		 "clamav:\n  enabled: false\n%s", extra ? extra : "");
	struct conf_doc *d = NULL;
	memset(p, 0, sizeof(*p));
	int rc = conf_load_string("t.conf", y, strlen(y), &d, p->err,
				  sizeof(p->err));
	if (rc == 0)
		rc = scan_config_from_conf(d, &p->cfg, p->err, sizeof(p->err));
	conf_free(d);
	if (rc == 0)
		rc = scan_engine_create(p->cfg, NULL, NULL, NULL, &p->eng,
					p->err, sizeof(p->err));
	if (rc == 0 && (p->ctx = scan_ctx_create(p->eng)) == NULL)
		rc = -ENOMEM;
	if (rc < 0)
		fprintf(stderr, "  pipe_open: %s\n", p->err);
	return rc;
}

static void pipe_close(struct pipe *p)
{
	scan_ctx_free(p->ctx);
	scan_engine_free(p->eng);
	scan_config_free(p->cfg);
}

static struct scan_verdict v;
static char explain[1 << 16];

static unsigned count(enum scan_finding_kind k, const char *name)
{
	unsigned n = 0;
	for (unsigned i = 0; i < v.nfindings; i++)
		n += v.findings[i].kind == k &&
		     (name == NULL || strcmp(v.findings[i].name, name) == 0);
	return n;
}

static const struct scan_finding *find(enum scan_finding_kind k,
				       const char *name)
{
	for (unsigned i = 0; i < v.nfindings; i++)
		if (v.findings[i].kind == k &&
		    strcmp(v.findings[i].name, name) == 0)
			return &v.findings[i];
	return NULL;
}

static void dump(const char *what)
{
	fprintf(stderr, "  %s: class %s, disposition %s, reason '%s'\n", what,
		scan_class_name(v.cls), scan_disposition_name(v.disposition),
		v.reason);
	for (unsigned i = 0; i < v.nfindings; i++)
		fprintf(stderr, "    %s %s part %d: %s\n",
			scan_finding_kind_name(v.findings[i].kind),
			v.findings[i].name, v.findings[i].part,
			v.findings[i].detail);
}

static int scan_att(struct pipe *p, const char *params, const uint8_t *d,
		    size_t n)
{
	struct out m;
	mail_with(&m, params, d, n);
	int rc = scan_message(p->ctx, m.p, m.n, NULL, explain, sizeof(explain),
			      &v);
	out_free(&m);
	return rc;
}

/* --- fixtures -------------------------------------------------------------- */

static const struct ole_ent word97[] = {
	{"Root Entry", 5, N, N, 1, NULL, 0, 0},
	{"WordDocument", 2, N, 2, N, NULL, 0, 0},
	{"Macros", 1, N, N, 3, NULL, 0, 0},
	{"VBA", 1, N, 5, 4, NULL, 0, 0},
	{"dir", 2, N, 6, N, NULL, 0, 0},
	{"PROJECT", 2, N, N, N, NULL, 0, 0},
	{"_VBA_PROJECT", 2, N, N, N, NULL, 0, 0},
};

static const struct ole_ent word_clean[] = {
	{"Root Entry", 5, N, N, 1, NULL, 0, 0},
	{"WordDocument", 2, N, 2, N, NULL, 0, 0},
	{"1Table", 2, N, N, N, NULL, 0, 0},
};

static const struct ole_ent vbabin[] = {
	{"Root Entry", 5, N, N, 1, NULL, 0, 0},
	{"VBA", 1, N, 2, 3, NULL, 0, 0},
	{"PROJECT", 2, N, N, N, NULL, 0, 0},
	{"_VBA_PROJECT", 2, N, N, N, NULL, 0, 0},
};

static const struct ole_ent encrypted[] = {
	{"Root Entry", 5, N, N, 1, NULL, 0, 0},
	{"EncryptionInfo", 2, N, 2, N, NULL, 0, 0},
	{"EncryptedPackage", 2, N, N, N, NULL, 0, 0},
};

#define ENTS(a) a, sizeof(a) / sizeof(a[0])

static const char ct_docm[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
	"<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/"
	"content-types\"><Default Extension=\"bin\" ContentType=\"application/"
	"vnd.ms-office.vbaProject\"/><Override PartName=\"/word/document.xml\""
	" ContentType=\"application/vnd.ms-word.document.macroEnabled.main+"
	"xml\"/></Types>";
static const char ct_xlsm[] =
	"<?xml version=\"1.0\"?><Types xmlns=\"http://schemas.openxmlformats."
	"org/package/2006/content-types\"><Override PartName=\"/xl/workbook."
	"xml\" ContentType=\"application/vnd.ms-excel.sheet.macroEnabled."
	"main+xml\"/></Types>";
static const char ct_docx[] =
	"<?xml version=\"1.0\"?><Types xmlns=\"http://schemas.openxmlformats."
	"org/package/2006/content-types\"><Override PartName=\"/word/document."
	"xml\" ContentType=\"application/vnd.openxmlformats-officedocument."
	"wordprocessingml.document.main+xml\"/></Types>";
static const char doc_xml[] =
	"<?xml version=\"1.0\"?><w:document xmlns:w=\"http://schemas."
	"openxmlformats.org/wordprocessingml/2006/main\"><w:body><w:p><w:r>"
	"<w:t>Invoice</w:t></w:r></w:p></w:body></w:document>";

/* docm: [Content_Types].xml first (what makes it OOXML), the document,
 * and, when vba, word/vbaProject.bin. */
static void build_ooxml(struct out *z, const char *ct, const char *part,
			int vba)
{
	size_t bn;
	uint8_t *bin = ole_build(ENTS(vbabin), &bn);
	char vpath[64];
	snprintf(vpath, sizeof(vpath), "%.*s/vbaProject.bin",
		 (int)(strchr(part, '/') - part), part);
	struct ent e[] = {
		{"[Content_Types].xml", ct, strlen(ct)},
		{part, doc_xml, strlen(doc_xml)},
		{vpath, bin, bn},
	};
	zip_of(z, e, vba ? 3 : 2);
	free(bin);
}

/* --- tests ----------------------------------------------------------------- */

/* OLE2 attachments: VBA (Word 97), XLM (Excel 4.0 sheet), clean, with
 * the default policy: one macro finding naming the storage, class macro,
 * quarantined in area "macro"; --explain shows the directory read. */
static void test_ole2_docs(void)
{
	struct pipe p;
	if (pipe_open(&p, NULL) < 0) {
		CHECK(0);
		return;
	}
	size_t n;
	uint8_t *f = ole_build(ENTS(word97), &n);
	CHECK_EQ_INT(scan_att(&p, "filename=\"invoice.doc\"", f, n), 0);
	free(f);
	const struct scan_finding *m = find(SCAN_F_MACRO, "macro");
	CHECK_MSG(m != NULL && strstr(m->detail, "Macros/VBA") != NULL,
		  "detail '%s'", m ? m->detail : "(no macro finding)");
	CHECK_EQ_INT(count(SCAN_F_MACRO, NULL), 1);
	CHECK_EQ_STR(scan_class_name(v.cls), "macro");
	CHECK_EQ_INT(v.disposition, SCAN_QUARANTINE);
	CHECK_EQ_STR(v.quarantine_area, "macro");
	CHECK_MSG(strstr(v.reason, "invoice.doc") != NULL, "reason '%s'",
		  v.reason);
	CHECK(strstr(explain, "ole2: VBA project in storage Macros/VBA") !=
	      NULL);
	CHECK(strstr(explain, "ole2: 7 directory entries") != NULL);
	printf("  Word 97 VBA: %s %s -> %s area %s (%s)\n",
	       m ? m->name : "?", m ? m->detail : "?",
	       scan_disposition_name(v.disposition), v.quarantine_area,
	       v.reason);

	f = ole_build_xls(1, &n);
	CHECK_EQ_INT(scan_att(&p, "filename=\"report.xls\"", f, n), 0);
	free(f);
	m = find(SCAN_F_MACRO, "macro");
	CHECK_MSG(m != NULL && strstr(m->detail, "Excel 4.0 macro sheet "
					       "'Macro1'") != NULL,
		  "detail '%s'", m ? m->detail : "(no macro finding)");
	CHECK_EQ_INT(v.disposition, SCAN_QUARANTINE);

	f = ole_build(ENTS(word_clean), &n);
	CHECK_EQ_INT(scan_att(&p, "filename=\"letter.doc\"", f, n), 0);
	free(f);
	CHECK_EQ_INT(count(SCAN_F_MACRO, NULL), 0);
	CHECK_EQ_INT(v.disposition, SCAN_DELIVER);
	CHECK_EQ_STR(scan_class_name(v.cls), "clean");
	if (check_failures_)
		dump("ole2");
	pipe_close(&p);
}

/* OOXML: a docm (vbaProject.bin and a macro-enabled content type) gives
 * exactly one macro finding, on the document, naming the member; an
 * xlsm with only the content type is found too; a docx is clean; a docm
 * in a zip is found on the inner document. */
static void test_ooxml(void)
{
	struct pipe p;
	if (pipe_open(&p, NULL) < 0) {
		CHECK(0);
		return;
	}
	struct out z;
	build_ooxml(&z, ct_docm, "word/document.xml", 1);
	CHECK_EQ_INT(scan_att(&p, "filename=\"invoice.docm\"", z.p, z.n), 0);
	const struct scan_finding *m = find(SCAN_F_MACRO, "macro");
	CHECK_EQ_INT(count(SCAN_F_MACRO, NULL), 1);
	CHECK_MSG(m != NULL && strstr(m->detail, "macroEnabled") != NULL &&
		  strstr(m->detail, "VBA project word/vbaProject.bin") != NULL,
		  "detail '%s'", m ? m->detail : "(no macro finding)");
	/* on the attachment (part 2), not on a member */
	CHECK(m != NULL && m->part == 2);
	CHECK_EQ_INT(v.disposition, SCAN_QUARANTINE);
	CHECK_EQ_STR(v.quarantine_area, "macro");
	CHECK(strstr(explain, "ole2: VBA project in storage VBA") != NULL);
	CHECK(strstr(explain, "ole2: reported on the document") != NULL);
	printf("  docm: %s part %d: %s\n", m ? m->name : "?",
	       m ? m->part : -1, m ? m->detail : "?");
	if (check_failures_)
		dump("docm");

	/* vbaProject.bin first in the zip: the member name decides */
	size_t bn;
	uint8_t *bin = ole_build(ENTS(vbabin), &bn);
	struct ent e[] = {
		{"[Content_Types].xml", ct_docx, strlen(ct_docx)},
		{"word/vbaProject.bin", bin, bn},
		{"word/document.xml", doc_xml, strlen(doc_xml)},
	};
	struct out z2;
	zip_of(&z2, e, 3);
	free(bin);
	CHECK_EQ_INT(scan_att(&p, "filename=\"plain.docx\"", z2.p, z2.n), 0);
	m = find(SCAN_F_MACRO, "macro");
	CHECK_MSG(m != NULL && strstr(m->detail, "word/vbaProject.bin"),
		  "detail '%s'", m ? m->detail : "(no macro finding)");
	out_free(&z2);

	struct out x;
	build_ooxml(&x, ct_xlsm, "xl/workbook.xml", 0);
	CHECK_EQ_INT(scan_att(&p, "filename=\"q3.xlsm\"", x.p, x.n), 0);
	m = find(SCAN_F_MACRO, "macro");
	CHECK_MSG(m != NULL && strstr(m->detail, "sheet.macroEnabled"),
		  "detail '%s'", m ? m->detail : "(no macro finding)");
	CHECK_EQ_INT(v.disposition, SCAN_QUARANTINE);
	out_free(&x);

	build_ooxml(&x, ct_docx, "word/document.xml", 0);
	CHECK_EQ_INT(scan_att(&p, "filename=\"letter.docx\"", x.p, x.n), 0);
	CHECK_EQ_INT(count(SCAN_F_MACRO, NULL), 0);
	CHECK_EQ_INT(v.disposition, SCAN_DELIVER);
	out_free(&x);

	struct ent outer = {"mail/invoice.docm", z.p, z.n};
	zip_of(&x, &outer, 1);
	CHECK_EQ_INT(scan_att(&p, "filename=\"docs.zip\"", x.p, x.n), 0);
	m = find(SCAN_F_MACRO, "macro");
	CHECK_EQ_INT(count(SCAN_F_MACRO, NULL), 1);
	CHECK(m != NULL && m->part > 2); /* the member invoice.docm */
	CHECK_EQ_INT(v.disposition, SCAN_QUARANTINE);
	CHECK_MSG(strstr(v.reason, "invoice.docm") != NULL, "reason '%s'",
		  v.reason);
	if (check_failures_)
		dump("docm in zip");
	out_free(&x);
	out_free(&z);
	pipe_close(&p);
}

/* OpenDocument: a Basic library (or a Scripts/ member) in an odt is a
 * macro finding on the document; the same members in a plain zip, and an
 * odt without them, are not. */
static void test_odf(void)
{
	struct pipe p;
	if (pipe_open(&p, NULL) < 0) {
		CHECK(0);
		return;
	}
	static const char mt[] = "application/vnd.oasis.opendocument.text";
	static const char content[] = "<office:document-content/>";
	static const char module[] =
		"<script:module script:name=\"Module1\">Sub AutoOpen\n"
		"Shell \"calc\"\nEnd Sub</script:module>";
	struct {
		const char *what;
		struct ent e[3];
		int macro;
	} rows[] = {
		{"odt with Basic",
		 {{"mimetype", mt, sizeof(mt) - 1},
		  {"content.xml", content, sizeof(content) - 1},
		  {"Basic/Standard/Module1.xml", module, sizeof(module) - 1}},
		 1},
		{"odt with Scripts",
		 {{"mimetype", mt, sizeof(mt) - 1},
		  {"content.xml", content, sizeof(content) - 1},
		  {"Scripts/python/run.py", module, sizeof(module) - 1}},
		 1},
		{"odt without macros",
		 {{"mimetype", mt, sizeof(mt) - 1},
		  {"content.xml", content, sizeof(content) - 1},
		  {"styles.xml", content, sizeof(content) - 1}},
		 0},
		{"plain zip with a Basic/ folder",
		 {{"notes.txt", content, sizeof(content) - 1},
		  {"content.xml", content, sizeof(content) - 1},
		  {"Basic/Standard/Module1.xml", module, sizeof(module) - 1}},
		 0},
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct out z;
		zip_of(&z, rows[i].e, 3);
		CHECK_EQ_INT(scan_att(&p, "filename=\"minutes.odt\"", z.p, z.n),
			     0);
		out_free(&z);
		const struct scan_finding *m = find(SCAN_F_MACRO, "macro");
		CHECK_MSG((m != NULL) == rows[i].macro,
			  "%s: macro finding %s", rows[i].what,
			  m ? m->detail : "none");
		if (rows[i].macro) {
			CHECK(m != NULL && m->part == 2 &&
			      strstr(m->detail, "OpenDocument with macros ("));
			CHECK_EQ_INT(count(SCAN_F_MACRO, NULL), 1);
			CHECK_EQ_INT(v.disposition, SCAN_QUARANTINE);
		}
	}
	pipe_close(&p);
}

/* Encrypted OOXML (an OLE2 with EncryptedPackage): encrypted-document,
 * quarantined in area encrypted. */
static void test_encrypted(void)
{
	struct pipe p;
	if (pipe_open(&p, NULL) < 0) {
		CHECK(0);
		return;
	}
	size_t n;
	uint8_t *f = ole_build(ENTS(encrypted), &n);
	CHECK_EQ_INT(scan_att(&p, "filename=\"salaries.xlsx\"", f, n), 0);
	free(f);
	const struct scan_finding *m = find(SCAN_F_ENCRYPTED,
					    "encrypted-document");
	CHECK(m != NULL && strstr(m->detail, "EncryptedPackage") != NULL);
	CHECK_EQ_INT(v.disposition, SCAN_QUARANTINE);
	CHECK_EQ_STR(v.quarantine_area, "encrypted");
	if (check_failures_)
		dump("encrypted");
	pipe_close(&p);
}

/* A configured macro filter's action applies to our findings. */
static void test_policy_action(void)
{
	struct pipe p;
	if (pipe_open(&p, "policies:\n  default:\n    - type: macro\n"
			  "      action: reject\n") < 0) {
		CHECK(0);
		return;
	}
	size_t n;
	uint8_t *f = ole_build(ENTS(word97), &n);
	CHECK_EQ_INT(scan_att(&p, "filename=\"invoice.doc\"", f, n), 0);
	free(f);
	CHECK_EQ_INT(v.disposition, SCAN_REJECT);
	CHECK_MSG(strstr(v.reason, "document with macros") != NULL,
		  "reason '%s'", v.reason);
	pipe_close(&p);
}

/* report.pdf that is a PE: the default attachment filter's true_types
 * strips it (type:pe), the message is delivered with the notice; the
 * mismatch is reported too. */
static void test_renamed_exe(void)
{
	struct pipe p;
	if (pipe_open(&p, NULL) < 0) {
		CHECK(0);
		return;
	}
	uint8_t pe[1024] = {'M', 'Z'};
	pe[0x3c] = 0x80;
	memcpy(pe + 0x80, "PE\0\0\x4c\x01", 6);
	CHECK_EQ_INT(scan_att(&p, "filename=\"report.pdf\"", pe, sizeof(pe)),
		     0);
	const struct scan_finding *a = find(SCAN_F_ATTACHMENT, "type:pe");
	CHECK(a != NULL && a->part == 2);
	CHECK(find(SCAN_F_AMBIGUOUS, "extension-mismatch") != NULL);
	CHECK_EQ_STR(scan_class_name(v.cls), "attachment");
	CHECK_EQ_INT(v.disposition, SCAN_DELIVER);
	int stripped = 0;
	for (unsigned i = 0; i < v.nedits; i++)
		stripped |= v.edits[i].kind == SCAN_EDIT_STRIP &&
			    v.edits[i].part == 2;
	CHECK(stripped);
	CHECK_MSG(strstr(v.reason, "report.pdf blocked (type:pe)") != NULL,
		  "reason '%s'", v.reason);
	if (check_failures_)
		dump("renamed exe");
	/* the same bytes under a true_types list without pe pass */
	pipe_close(&p);
	if (pipe_open(&p, "policies:\n  default:\n    - type: attachment\n"
			  "      true_types: [elf]\n      action: reject\n") <
	    0) {
		CHECK(0);
		return;
	}
	CHECK_EQ_INT(scan_att(&p, "filename=\"report.pdf\"", pe, sizeof(pe)),
		     0);
	CHECK_EQ_INT(v.disposition, SCAN_DELIVER);
	pipe_close(&p);
}

/* Dressed-up names: the scan reports them (ambiguous), the default
 * attachment filter strips them; deceptive_names: false lets the name
 * trick through (the extension list still applies). */
static void test_names(void)
{
	static const struct {
		const char *params;
		const char *finding; /* ambiguous finding */
		const char *rule;    /* attachment rule, NULL: not blocked */
	} rows[] = {
		{"filename=\"invoice.pdf.exe\"", "double-extension",
		 "extension:exe"},
		{"filename=\"scan.jpg      .scr\"", "double-extension",
		 "extension:scr"},
		{"filename=\"photo.jpg.cpl\"", "double-extension",
		 "name:double-extension"},
		{"filename*=UTF-8''invoice%E2%80%AEfdp.txt", "bidi-name",
		 "name:bidi"},
		{"filename=\"=?UTF-8?B?cmVwb3J0LeKArmZkcC5odG0=?=\"",
		 "bidi-name", "name:bidi"},
		{"filename=\"notes.txt. \"", "trailing-dots", NULL},
		{"filename=\"notes.txt\"", NULL, NULL},
	};
	struct pipe p, q;
	if (pipe_open(&p, NULL) < 0 ||
	    pipe_open(&q, "policies:\n  default:\n    - type: attachment\n"
			  "      extensions: [exe]\n"
			  "      deceptive_names: false\n"
			  "      action: strip\n") < 0) {
		CHECK(0);
		return;
	}
	static const uint8_t text[] = "just some text\r\n";
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		CHECK_EQ_INT(scan_att(&p, rows[i].params, text,
				      sizeof(text) - 1), 0);
		if (rows[i].finding != NULL)
			CHECK_MSG(find(SCAN_F_AMBIGUOUS, rows[i].finding),
				  "%s: no %s finding", rows[i].params,
				  rows[i].finding);
		else
			CHECK_EQ_INT(count(SCAN_F_AMBIGUOUS, NULL), 0);
		if (rows[i].rule != NULL)
			CHECK_MSG(find(SCAN_F_ATTACHMENT, rows[i].rule),
				  "%s: not blocked by %s", rows[i].params,
				  rows[i].rule);
		else
			CHECK_EQ_INT(count(SCAN_F_ATTACHMENT, NULL), 0);
		if (check_failures_)
			dump(rows[i].params);
		/* without deceptive_names only the extension list blocks */
		CHECK_EQ_INT(scan_att(&q, rows[i].params, text,
				      sizeof(text) - 1), 0);
		int want = rows[i].rule != NULL &&
			   strcmp(rows[i].rule, "extension:exe") == 0;
		CHECK_MSG(count(SCAN_F_ATTACHMENT, NULL) == (unsigned)want,
			  "%s with deceptive_names false: %u attachment "
			  "findings", rows[i].params,
			  count(SCAN_F_ATTACHMENT, NULL));
	}
	/* an archive member: the scan flags it, the filter strips the zip */
	struct ent e = {"docs/photo.jpg.cpl", text, sizeof(text) - 1};
	struct out z;
	zip_of(&z, &e, 1);
	CHECK_EQ_INT(scan_att(&p, "filename=\"photos.zip\"", z.p, z.n), 0);
	const struct scan_finding *f = find(SCAN_F_AMBIGUOUS,
					    "double-extension");
	CHECK(f != NULL && f->part > 2);
	CHECK(find(SCAN_F_ATTACHMENT, "name:double-extension") != NULL);
	CHECK(v.nedits > 0 && v.edits[0].kind == SCAN_EDIT_STRIP);
	if (check_failures_)
		dump("member");
	out_free(&z);
	pipe_close(&q);
	pipe_close(&p);
}

/* The OLE2 files of Debian's clamav-testfiles: what our reader finds
 * (they carry clam.exe, not macros: no macro finding is expected). */
static void test_testfiles(void)
{
	DIR *dir = opendir(TESTFILES);
	if (dir == NULL) {
		printf("  %s not installed: skipped\n", TESTFILES);
		return;
	}
	struct scan_ole2_work *w = malloc(sizeof(*w));
	struct dirent *de;
	unsigned nole = 0;
	while ((de = readdir(dir)) != NULL) {
		char path[512];
		snprintf(path, sizeof(path), "%s/%s", TESTFILES, de->d_name);
		FILE *fp = fopen(path, "rb");
		if (fp == NULL)
			continue;
		struct out o = {0};
		uint8_t buf[65536];
		size_t k;
		while ((k = fread(buf, 1, sizeof(buf), fp)) > 0)
			out_put(&o, buf, k);
		fclose(fp);
		if (scan_ole2_is(o.p, o.n)) {
			struct scan_ole2_info oi;
			int rc = scan_ole2_inspect(o.p, o.n, w, &oi);
			printf("  %s: rc %d, %u entries, flags %#x%s%s%s%s\n",
			       de->d_name, rc, oi.entries, oi.flags,
			       oi.flags & SCAN_OLE2_VBA ? ", VBA " : "",
			       oi.vba_path, oi.problem ? ", stopped: " : "",
			       oi.problem ? oi.problem : "");
			CHECK_EQ_INT(rc, 0);
			CHECK(!(oi.flags & SCAN_OLE2_PARTIAL));
			nole++;
		}
		out_free(&o);
	}
	closedir(dir);
	free(w);
	printf("  %u OLE2 files read\n", nole);
	CHECK(nole > 0);
}

int main(void)
{
	RUN(test_ole2_docs);
	RUN(test_ooxml);
	RUN(test_odf);
	RUN(test_encrypted);
	RUN(test_policy_action);
	RUN(test_renamed_exe);
	RUN(test_names);
	RUN(test_testfiles);
	return CHECK_DONE();
}
