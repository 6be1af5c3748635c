/*
 * tests/unit/test_fname.c - scan/fname.c: which names hide what a file
 * is (double extensions, padding, bidi controls, trailing dots), one row
 * per name, and which do not.
 */
#include <stdio.h>
#include <string.h>

#include "scan/fname.h"
#include "tests/unit/check.h"

#define D SCAN_FNAME_DOUBLE_EXT
#define B SCAN_FNAME_BIDI
#define T SCAN_FNAME_TRAILING

static const struct {
	const char *name;
	unsigned want;
	const char *why; /* substring of the reason for the first bit */
} rows[] = {
	{"invoice.pdf.exe", D, "runs as .exe behind .pdf"},
	{"INVOICE.PDF.EXE", D, "runs as .EXE behind .PDF"},
	{"scan.jpg      .scr", D, "behind .jpg and padding"},
	{"photo__________.exe", D, "behind 10 padding characters"},
	{"report.doc\xc2\xa0\xc2\xa0\xc2\xa0.js", D, "behind .doc"},
	{"statement\xe3\x80\x80\xe3\x80\x80\xe3\x80\x80.com", D,
	 "3 padding characters"},
	{"docs/invoice.xlsx.vbs", D, "runs as .vbs behind .xlsx"},
	{"C:\\Temp\\a.pdf.lnk", D, ".lnk behind .pdf"},
	{"invoice.pdf...exe", D, "behind .pdf"},
	{"invoice.pdf.exe. ", D | T, "behind .pdf"},
	{"invoice\xe2\x80\xae" "fdp.exe", B, "U+202E at byte 7"},
	{"x\xe2\x81\xa6y.txt", B, "U+2066"},
	{"a\xd8\x9c" "b.doc", B, "U+061C"},
	{"report.exe.", T, "saved as 'report.exe'"},
	{"notes.txt  ", T, "2 trailing"},
	/* names that are fine */
	{"invoice.pdf", 0, NULL},
	{"setup.exe", 0, NULL},
	{"archive.tar.gz", 0, NULL},
	{"backup.2024.01.exe", 0, NULL}, /* version, not a decoy */
	{"my  document.pdf", 0, NULL},
	{"a.pdf.zip", 0, NULL},
	{"...", 0, NULL},
	{".exe", 0, NULL},
	{"", 0, NULL},
	{"\xe2", 0, NULL}, /* cut UTF-8 at the end */
	{"\xe2\x80", 0, NULL},
	{"\xd8", 0, NULL},
	{"caf\xc3\xa9.pdf", 0, NULL},
};

static void test_rows(void)
{
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct scan_fname_why why;
		unsigned got = scan_fname_check(rows[i].name, &why);
		CHECK_MSG(got == rows[i].want, "'%s': %#x, want %#x",
			  rows[i].name, got, rows[i].want);
		if (rows[i].why == NULL)
			continue;
		const char *r = got & D ? why.double_ext
				: got & B ? why.bidi : why.trailing;
		CHECK_MSG(strstr(r, rows[i].why) != NULL,
			  "'%s': reason '%s' lacks '%s'", rows[i].name, r,
			  rows[i].why);
	}
	CHECK_EQ_INT(scan_fname_check(NULL, NULL), 0);
	CHECK_EQ_INT(scan_fname_check("a.pdf.exe", NULL), D);
}

static void test_dangerous(void)
{
	CHECK(scan_fname_dangerous_ext("exe", 3));
	CHECK(scan_fname_dangerous_ext("ScR", 3));
	CHECK(scan_fname_dangerous_ext("exex", 3)); /* length given */
	CHECK(!scan_fname_dangerous_ext("exe", 2));
	CHECK(!scan_fname_dangerous_ext("pdf", 3));
	CHECK(!scan_fname_dangerous_ext("", 0));
}

int main(void)
{
	RUN(test_rows);
	RUN(test_dangerous);
	return CHECK_DONE();
}
