/* tests/unit/test_filetype.c - scan/filetype.c */
#include "scan/filetype.h"
#include "tests/unit/check.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

/* A row of literal bytes; B() keeps embedded NULs. */
struct row {
	const char *bytes;
	size_t len;
	enum scan_ftype want;
};

#define B(s) s, sizeof(s) - 1

static const struct row magic_rows[] = {
	{"", 0, SCAN_FT_EMPTY},
	{B("\x7F" "ELF\x02\x01\x01\0"), SCAN_FT_ELF},
	{B("\xFE\xED\xFA\xCE\0\0\0\x07"), SCAN_FT_MACHO},
	{B("\xFE\xED\xFA\xCF\0\0\0\x07"), SCAN_FT_MACHO},
	{B("\xCE\xFA\xED\xFE\x07\0\0\0"), SCAN_FT_MACHO},
	{B("\xCF\xFA\xED\xFE\x07\0\0\x01"), SCAN_FT_MACHO},
	{B("\xCA\xFE\xBA\xBE\0\0\0\x02"), SCAN_FT_MACHO},
	{B("\xCA\xFE\xBA\xBF\0\0\0\x02"), SCAN_FT_MACHO},
	{B("\xCA\xFE\xBA\xBE\0\0\0\x34"), SCAN_FT_CLASS},
	{B("\xCA\xFE\xBA\xBE\0\x03\0\x2D"), SCAN_FT_CLASS},
	{B("\xCA\xFE\xBA\xBE\0\0\0\0"), SCAN_FT_BINARY},
	{B("\xCA\xFE\xBA\xBE"), SCAN_FT_BINARY},
	{B("#!/bin/sh\necho hi\n"), SCAN_FT_SCRIPT},
	{B("#! /usr/bin/env python\n"), SCAN_FT_SCRIPT},
	{B("#!x"), SCAN_FT_TEXT},
	{B("# comment\n"), SCAN_FT_TEXT},
	{B("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1\0\0\0\0"), SCAN_FT_OLE2},
	{B("\xD0\xCF\x11\xE0"), SCAN_FT_BINARY},
	{B("PK\5\6\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"), SCAN_FT_ZIP},
	{B("PK\7\x08PK\3\4"), SCAN_FT_ZIP},
	{B("Rar!\x1A\x07\x00\xCF\x90"), SCAN_FT_RAR},
	{B("Rar!\x1A\x07\x01\x00\x33"), SCAN_FT_RAR},
	{B("Rar!\x1A\x07\x02"), SCAN_FT_BINARY},
	{B("7z\xBC\xAF\x27\x1C\0\x04"), SCAN_FT_7Z},
	{B("\x1F\x8B\x08\0\0\0\0\0"), SCAN_FT_GZIP},
	{B("BZh91AY&SY"), SCAN_FT_BZIP2},
	{B("BZh0"), SCAN_FT_TEXT},
	{B("\xFD" "7zXZ\0\0\x04"), SCAN_FT_XZ},
	{B("\x28\xB5\x2F\xFD\x04\0"), SCAN_FT_ZSTD},
	{B("\x04\x22\x4D\x18\x64\x40"), SCAN_FT_LZ4},
	{B("\x02\x21\x4C\x18"), SCAN_FT_LZ4},
	{B("MSCF\0\0\0\0\x10\x20"), SCAN_FT_CAB},
	{B("070701000000010000"), SCAN_FT_CPIO},
	{B("070707000000010000"), SCAN_FT_CPIO},
	{B("\xC7\x71\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"),
	 SCAN_FT_CPIO},
	{B("!<arch>\ndebian-binary   "), SCAN_FT_AR},
	{B("`\xEA\x28\0\x22\x0B"), SCAN_FT_ARJ},
	{B("\x19\0-lh5-\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"), SCAN_FT_LZH},
	{B("\0\0\0\0\0\0\0**ACE**\0\0"), SCAN_FT_ACE},
	{B("conectix\0\0\0\x02"), SCAN_FT_VHD},
	{B("vhdxfile\0\0"), SCAN_FT_VHDX},
	{B("%PDF-1.7\n%\xE2\xE3\xCF\xD3\n"), SCAN_FT_PDF},
	{B("junk before\r\n%PDF-1.4\n"), SCAN_FT_PDF},
	{B("%PDF"), SCAN_FT_TEXT},
	{B("{\\rtf1\\ansi\\deff0"), SCAN_FT_RTF},
	{B("{\\rt\\objdata"), SCAN_FT_RTF},
	{B("{\"json\": 1}"), SCAN_FT_TEXT},
	{B("<!DOCTYPE html><html>"), SCAN_FT_HTML},
	{B("  \r\n<HTML>\n<BODY>"), SCAN_FT_HTML},
	{B("\xEF\xBB\xBF<html lang=en>"), SCAN_FT_HTML},
	{B("<script>alert(1)</script>"), SCAN_FT_HTML},
	{B("<body onload=x>"), SCAN_FT_HTML},
	{B("<!-- c --><p>"), SCAN_FT_HTML},
	{B("Dear customer,\n<html><body>"), SCAN_FT_HTML},
	{B("Dear customer,\n<Script>x"), SCAN_FT_HTML},
	{B("<bold>not html</bold>"), SCAN_FT_TEXT},
	{B("<?xml version=\"1.0\"?><root/>"), SCAN_FT_XML},
	{B("<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\">"),
	 SCAN_FT_SVG},
	{B("<svg xmlns=\"http://www.w3.org/2000/svg\"><script>"), SCAN_FT_SVG},
	{B("<?xml version=\"1.0\"?><!DOCTYPE html><html>"), SCAN_FT_HTML},
	{B("\x89PNG\r\n\x1A\n\0\0\0\x0DIHDR"), SCAN_FT_PNG},
	{B("\x89PNG\r\n"), SCAN_FT_BINARY},
	{B("\xFF\xD8\xFF\xE0\0\x10JFIF"), SCAN_FT_JPEG},
	{B("GIF89a\x01\0\x01\0"), SCAN_FT_GIF},
	{B("GIF87a\x01\0\x01\0"), SCAN_FT_GIF},
	{B("BM\x3A\0\0\0\0\0\0\0\x36\0\0\0\x28\0\0\0\x01\0\0\0\x01\0\0\0"
	   "\x01\0"), SCAN_FT_BMP},
	{B("BMW is a car maker from Bavaria, Germany."), SCAN_FT_TEXT},
	{B("II*\0\x08\0\0\0"), SCAN_FT_TIFF},
	{B("MM\0*\0\0\0\x08"), SCAN_FT_TIFF},
	{B("RIFF\x24\0\0\0WEBPVP8 "), SCAN_FT_WEBP},
	{B("RIFF\x24\0\0\0WAVEfmt "), SCAN_FT_BINARY},
	{B("\0\0\1\0\1\0\x10\x10\0\0\1\0\x20\0\x68\x04\0\0\x16\0\0\0"),
	 SCAN_FT_ICO},
	{B("\0\0\2\0\1\0\x20\x20\0\0\1\0\x20\0\x68\x04\0\0\x16\0\0\0"),
	 SCAN_FT_ICO},
	{B("ID3\x03\0\0\0\0\x0F\x76"), SCAN_FT_MP3},
	{B("\xFF\xFB\x90\x64\0\0"), SCAN_FT_MP3},
	{B("\xFF\xFEh\0i\0"), SCAN_FT_TEXT},
	{B("\xFE\xFF\0h\0i"), SCAN_FT_TEXT},
	{B("\0\0\0\x18" "ftypmp42\0\0\0\0"), SCAN_FT_MP4},
	{B("\0\0\0\x1C" "ftypheic"), SCAN_FT_MP4},
	{B("L\0\0\0\x01\x14\x02\0\0\0\0\0\xC0\0\0\0\0\0\0\x46"), SCAN_FT_LNK},
	{B("ITSF\x03\0\0\0\x60\0\0\0"), SCAN_FT_CHM},
	{B("FWS\x0A\x20\0\0\0"), SCAN_FT_SWF},
	{B("CWS\x0A\x20\x10\0\0"), SCAN_FT_SWF},
	{B("ZWS\x0D\x20\x10\0\0"), SCAN_FT_SWF},
	{B("FWS is a word, not flash"), SCAN_FT_TEXT},
	{B("MZ"), SCAN_FT_TEXT},
	{B("hello world\n"), SCAN_FT_TEXT},
	{B("Gr\xC3\xBC\xC3\x9F" "e, \xE4\xBD\xA0\xE5\xA5\xBD\n"), SCAN_FT_TEXT},
	{B("Le caf\xE9 est tr\xE8s bon, et la cr\xE8me aussi; nous avons "
	   "mang\xE9 ensemble."), SCAN_FT_TEXT},
	{B("\xE9\xE8\xE0\xF9\xE7\xE9\xE8\xE0\xF9\xE7"), SCAN_FT_BINARY},
	{B("a\0b"), SCAN_FT_BINARY},
	{B("\x01\x02\x03\x04\x05\x06"), SCAN_FT_BINARY},
	{B("\x80\x81\x82\x83\x84\x85\x86\x87"), SCAN_FT_BINARY},
};

/* Classify a malloc'd copy of exactly len bytes, so ASan catches a read
 * past the end; also every prefix of short inputs. */
static enum scan_ftype classify(const char *bytes, size_t len, int prefixes)
{
	uint8_t *copy = malloc(len ? len : 1);
	memcpy(copy, bytes, len);
	enum scan_ftype t = scan_filetype(len ? copy : NULL, len);
	if (prefixes && len <= 4096)
		for (size_t k = 0; k < len; k++) {
			uint8_t *p = malloc(k ? k : 1);
			memcpy(p, bytes, k);
			(void)scan_filetype(k ? p : NULL, k);
			free(p);
		}
	free(copy);
	return t;
}

static void check_rows(const struct row *rows, size_t nrows, const char *what)
{
	for (size_t k = 0; k < nrows; k++) {
		enum scan_ftype got = classify(rows[k].bytes, rows[k].len, 1);
		CHECK_MSG(got == rows[k].want, "%s row %zu: got %s, want %s",
			  what, k, scan_ftype_name(got),
			  scan_ftype_name(rows[k].want));
	}
}

static void test_magic(void)
{
	check_rows(magic_rows, sizeof(magic_rows) / sizeof(magic_rows[0]),
		   "magic");
}

/* ---- built samples ------------------------------------------------------ */

static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v & 0xFFFF);
	put16(p + 2, v >> 16);
}

static void test_pe(void)
{
	uint8_t b[256] = {'M', 'Z'};
	put32(b + 0x3C, 0x80);
	memcpy(b + 0x80, "PE\0\0", 4);
	CHECK_EQ_INT(classify((char *)b, sizeof(b), 1), SCAN_FT_PE);
	CHECK_EQ_INT(classify((char *)b, 0x83, 0), SCAN_FT_MSDOS); /* cut */
	CHECK_EQ_INT(classify((char *)b, 0x84, 0), SCAN_FT_PE);
	put32(b + 0x3C, 0xFFFFFFFF); /* e_lfanew far past the end */
	CHECK_EQ_INT(classify((char *)b, sizeof(b), 0), SCAN_FT_MSDOS);
	put32(b + 0x3C, 0xFFFFFFFE);
	CHECK_EQ_INT(classify((char *)b, sizeof(b), 0), SCAN_FT_MSDOS);
	put32(b + 0x3C, 0x40);
	CHECK_EQ_INT(classify((char *)b, sizeof(b), 0), SCAN_FT_MSDOS);
}

/* A zip of stored entries named names[], each holding "data"; flag8 on the
 * first entry means sizes in a data descriptor (csize 0 in the header). */
static size_t make_zip(uint8_t *b, const char *const *names, int flag8)
{
	size_t off = 0;
	for (int e = 0; names[e] != NULL; e++) {
		size_t nl = strlen(names[e]);
		uint8_t *h = b + off;
		memset(h, 0, 30);
		memcpy(h, "PK\3\4", 4);
		put16(h + 4, 20);
		put16(h + 6, e == 0 && flag8 ? 8 : 0);
		put32(h + 18, e == 0 && flag8 ? 0 : 4);
		put32(h + 22, 4);
		put16(h + 26, (unsigned)nl);
		memcpy(h + 30, names[e], nl);
		memcpy(h + 30 + nl, "data", 4);
		off += 30 + nl + 4;
		if (e == 0 && flag8) {
			memcpy(b + off, "PK\7\x08\0\0\0\0\4\0\0\0\4\0\0\0", 16);
			off += 16;
		}
	}
	memcpy(b + off, "PK\5\6", 4);
	memset(b + off + 4, 0, 18);
	return off + 22;
}

static void test_zip_kinds(void)
{
	static const struct {
		const char *names[6];
		int flag8;
		enum scan_ftype want;
	} rows[] = {
		{{"[Content_Types].xml", "_rels/.rels", "word/document.xml"},
		 0, SCAN_FT_DOCX},
		{{"[Content_Types].xml", "xl/workbook.xml"}, 0, SCAN_FT_XLSX},
		{{"[Content_Types].xml", "ppt/presentation.xml"}, 0,
		 SCAN_FT_PPTX},
		{{"[Content_Types].xml", "docProps/app.xml"}, 0, SCAN_FT_OOXML},
		{{"_rels/.rels"}, 0, SCAN_FT_OOXML},
		{{"mimetype", "content.xml", "META-INF/manifest.xml"}, 0,
		 SCAN_FT_ODF},
		{{"content.xml", "mimetype"}, 0, SCAN_FT_ZIP},
		{{"META-INF/MANIFEST.MF", "a/B.class"}, 0, SCAN_FT_JAR},
		{{"a/B.class"}, 0, SCAN_FT_JAR},
		{{"a.txt", "b.txt"}, 0, SCAN_FT_ZIP},
		{{"a.txt", "word/document.xml"}, 1, SCAN_FT_DOCX},
		{{"invoice.exe"}, 1, SCAN_FT_ZIP},
	};
	for (size_t k = 0; k < sizeof(rows) / sizeof(rows[0]); k++) {
		uint8_t b[1024];
		size_t n = make_zip(b, rows[k].names, rows[k].flag8);
		enum scan_ftype got = classify((char *)b, n, 1);
		CHECK_MSG(got == rows[k].want, "zip row %zu: got %s, want %s",
			  k, scan_ftype_name(got),
			  scan_ftype_name(rows[k].want));
	}
	/* a name length pointing past the end, a huge compressed size */
	uint8_t b[64] = "PK\3\4";
	put16(b + 26, 60000);
	CHECK_EQ_INT(classify((char *)b, sizeof(b), 1), SCAN_FT_ZIP);
	put16(b + 26, 4);
	memcpy(b + 30, "word", 4);
	put32(b + 18, 0xFFFFFFFF);
	CHECK_EQ_INT(classify((char *)b, sizeof(b), 1), SCAN_FT_ZIP);
}

static void test_offsets(void)
{
	size_t n = 0x9801 + 16;
	uint8_t *b = calloc(1, n);
	CHECK(b != NULL);
	if (b == NULL)
		return;

	memcpy(b, "a.txt", 5);
	memcpy(b + 257, "ustar\0" "00", 8);
	CHECK_EQ_INT(classify((char *)b, 512, 1), SCAN_FT_TAR);
	CHECK_EQ_INT(classify((char *)b, 261, 0), SCAN_FT_BINARY);
	memset(b, 0, n);

	memcpy(b + 0x8001, "CD001", 5);
	CHECK_EQ_INT(classify((char *)b, n, 0), SCAN_FT_ISO9660);
	CHECK_EQ_INT(classify((char *)b, 0x8005, 0), SCAN_FT_BINARY);
	memset(b, 0, n);
	memcpy(b + 0x8801, "CD001", 5);
	CHECK_EQ_INT(classify((char *)b, n, 0), SCAN_FT_ISO9660);
	memset(b, 0, n);
	memcpy(b + 0x8001, "BEA01", 5);
	memcpy(b + 0x8801, "NSR02", 5);
	memcpy(b + 0x9001, "TEA01", 5);
	CHECK_EQ_INT(classify((char *)b, n, 0), SCAN_FT_UDF);
	memset(b, 0, n);

	/* fixed VHD: footer only at the end; DMG: koly trailer */
	memcpy(b + 2048 - 512, "conectix", 8);
	CHECK_EQ_INT(classify((char *)b, 2048, 0), SCAN_FT_VHD);
	memset(b, 0, n);
	memcpy(b + 2048 - 512, "koly\0\0\0\4", 8);
	CHECK_EQ_INT(classify((char *)b, 2048, 0), SCAN_FT_DMG);
	memset(b, 0, n);

	/* FAT boot sector */
	memcpy(b, "\xEB\x3C\x90MSDOS5.0", 11);
	put16(b + 11, 512);
	b[13] = 4;
	put16(b + 14, 1);
	b[16] = 2;
	b[510] = 0x55;
	b[511] = 0xAA;
	CHECK_EQ_INT(classify((char *)b, 512, 1), SCAN_FT_IMG);
	b[16] = 7;
	CHECK_EQ_INT(classify((char *)b, 512, 0), SCAN_FT_BINARY);
	memset(b, 0, n);
	/* MBR with one partition */
	b[0] = 0xFA;
	b[446] = 0x80;
	b[446 + 4] = 0x0C;
	put32(b + 446 + 12, 2048);
	b[510] = 0x55;
	b[511] = 0xAA;
	CHECK_EQ_INT(classify((char *)b, 512, 1), SCAN_FT_IMG);
	b[446 + 16] = 0x33; /* bad status byte */
	CHECK_EQ_INT(classify((char *)b, 512, 0), SCAN_FT_BINARY);
	memset(b, 0, n);

	/* %PDF- must be within the first 1024 bytes */
	memset(b, 'x', 2048);
	memcpy(b + 1019, "%PDF-", 5);
	CHECK_EQ_INT(classify((char *)b, 2048, 0), SCAN_FT_PDF);
	memset(b, 'x', 2048);
	memcpy(b + 1020, "%PDF-", 5);
	CHECK_EQ_INT(classify((char *)b, 2048, 0), SCAN_FT_TEXT);
	free(b);
}

/* ---- names, classes, extensions, declared types ------------------------- */

static void test_names(void)
{
	for (unsigned t = 0; t < SCAN_FT_COUNT; t++) {
		const char *name = scan_ftype_name((enum scan_ftype)t);
		CHECK(name != NULL && name[0] != '\0');
		for (const char *p = name; *p; p++)
			CHECK_MSG((*p >= 'a' && *p <= 'z') ||
					  (*p >= '0' && *p <= '9'),
				  "name \"%s\"", name);
		enum scan_ftype back = SCAN_FT_COUNT;
		CHECK_EQ_INT(scan_ftype_parse(name, &back), 0);
		CHECK_EQ_INT(back, t);
		for (unsigned u = 0; u < t; u++)
			CHECK(strcmp(name, scan_ftype_name(
						   (enum scan_ftype)u)) != 0);
	}
	CHECK_EQ_STR(scan_ftype_name(SCAN_FT_PE), "pe");
	CHECK_EQ_STR(scan_ftype_name(SCAN_FT_ISO9660), "iso9660");
	CHECK_EQ_STR(scan_ftype_name(SCAN_FT_COUNT), "binary");
	enum scan_ftype t = SCAN_FT_PDF;
	CHECK_EQ_INT(scan_ftype_parse("PE", &t), -EINVAL);
	CHECK_EQ_INT(scan_ftype_parse("", &t), -EINVAL);
	CHECK_EQ_INT(scan_ftype_parse(NULL, &t), -EINVAL);
	CHECK_EQ_INT(t, SCAN_FT_PDF);
}

static void test_classes(void)
{
	static const struct {
		enum scan_ftype t;
		unsigned has, lacks;
	} rows[] = {
		{SCAN_FT_PE, SCAN_FC_EXEC, SCAN_FC_ARCHIVE | SCAN_FC_TEXT},
		{SCAN_FT_LNK, SCAN_FC_EXEC, 0},
		{SCAN_FT_JAR, SCAN_FC_EXEC | SCAN_FC_ARCHIVE, 0},
		{SCAN_FT_SCRIPT, SCAN_FC_SCRIPT | SCAN_FC_TEXT, SCAN_FC_EXEC},
		{SCAN_FT_ZIP, SCAN_FC_ARCHIVE | SCAN_FC_CONTAINER, SCAN_FC_DOCUMENT},
		{SCAN_FT_DOCX, SCAN_FC_DOCUMENT | SCAN_FC_MACRO | SCAN_FC_CONTAINER,
		 SCAN_FC_ARCHIVE},
		{SCAN_FT_OLE2, SCAN_FC_DOCUMENT | SCAN_FC_MACRO, SCAN_FC_ARCHIVE},
		{SCAN_FT_PDF, SCAN_FC_DOCUMENT, SCAN_FC_MACRO},
		{SCAN_FT_ISO9660, SCAN_FC_DISKIMG, SCAN_FC_ARCHIVE},
		{SCAN_FT_VHD, SCAN_FC_DISKIMG, 0},
		{SCAN_FT_PNG, SCAN_FC_IMAGE, SCAN_FC_SCRIPT},
		{SCAN_FT_SVG, SCAN_FC_IMAGE | SCAN_FC_SCRIPT, 0},
		{SCAN_FT_HTML, SCAN_FC_TEXT | SCAN_FC_SCRIPT, 0},
		{SCAN_FT_TEXT, SCAN_FC_TEXT, SCAN_FC_SCRIPT},
		{SCAN_FT_MP4, SCAN_FC_MEDIA, 0},
	};
	for (size_t k = 0; k < sizeof(rows) / sizeof(rows[0]); k++) {
		unsigned c = scan_ftype_class(rows[k].t);
		CHECK_MSG((c & rows[k].has) == rows[k].has &&
				  (c & rows[k].lacks) == 0,
			  "%s: class 0x%x", scan_ftype_name(rows[k].t), c);
	}
	CHECK_EQ_INT(scan_ftype_class(SCAN_FT_EMPTY), 0);
	CHECK_EQ_INT(scan_ftype_class(SCAN_FT_BINARY), 0);
	CHECK_EQ_INT(scan_ftype_class(SCAN_FT_COUNT), 0);
	/* every other type has a class */
	for (unsigned t = SCAN_FT_TEXT; t < SCAN_FT_COUNT; t++)
		CHECK_MSG(scan_ftype_class((enum scan_ftype)t) != 0, "%s",
			  scan_ftype_name((enum scan_ftype)t));
}

static void test_extensions(void)
{
	static const struct {
		enum scan_ftype t;
		const char *ext;
		int want;
	} rows[] = {
		{SCAN_FT_PE, "pdf", 0},       {SCAN_FT_PE, "exe", 1},
		{SCAN_FT_PE, ".EXE", 1},      {SCAN_FT_PE, "scr", 1},
		{SCAN_FT_PE, "xyz", 0},       {SCAN_FT_PE, "", 1},
		{SCAN_FT_PE, NULL, 1},        {SCAN_FT_PE, ".", 1},
		{SCAN_FT_PE, "averyveryverylongextension", 0},
		{SCAN_FT_PDF, "averyveryverylongextension", 1},
		{SCAN_FT_PDF, "pdf", 1},      {SCAN_FT_PDF, "doc", 0},
		{SCAN_FT_PDF, "xyz", 1},      {SCAN_FT_TEXT, "pdf", 0},
		{SCAN_FT_TEXT, "txt", 1},     {SCAN_FT_TEXT, "md", 1},
		{SCAN_FT_TEXT, "whatever", 1}, {SCAN_FT_TEXT, "exe", 0},
		{SCAN_FT_ZIP, "docx", 1},     {SCAN_FT_ZIP, "doc", 0},
		{SCAN_FT_ZIP, "zip", 1},      {SCAN_FT_DOCX, "docx", 1},
		{SCAN_FT_DOCX, "DOCM", 1},    {SCAN_FT_DOCX, "xlsx", 0},
		{SCAN_FT_OLE2, "docx", 1},    {SCAN_FT_OLE2, "doc", 1},
		{SCAN_FT_OLE2, "msi", 1},     {SCAN_FT_OLE2, "pdf", 0},
		{SCAN_FT_JPEG, "JPG", 1},     {SCAN_FT_JPEG, "png", 0},
		{SCAN_FT_BINARY, "exe", 1},   {SCAN_FT_EMPTY, "pdf", 1},
		{SCAN_FT_SCRIPT, "pdf", 0},   {SCAN_FT_SCRIPT, "sh", 1},
		{SCAN_FT_HTML, "htm", 1},     {SCAN_FT_HTML, "exe", 0},
		{SCAN_FT_ELF, "", 1},         {SCAN_FT_ELF, "jpg", 0},
		{SCAN_FT_LNK, "lnk", 1},      {SCAN_FT_LNK, "pdf", 0},
		{SCAN_FT_ISO9660, "img", 1},  {SCAN_FT_IMG, "iso", 0},
		{SCAN_FT_RAR, "zip", 0},      {SCAN_FT_GZIP, "tgz", 1},
		{SCAN_FT_COUNT, "exe", 1},
	};
	for (size_t k = 0; k < sizeof(rows) / sizeof(rows[0]); k++) {
		int got = scan_ftype_matches_extension(rows[k].t, rows[k].ext);
		CHECK_MSG(got == rows[k].want, "row %zu %s/%s: %d", k,
			  scan_ftype_name(rows[k].t),
			  rows[k].ext ? rows[k].ext : "(null)", got);
	}
}

static void test_declared(void)
{
	static const struct {
		const char *ct;
		int rc;
		enum scan_ftype t;
	} rows[] = {
		{"application/pdf", 0, SCAN_FT_PDF},
		{"  Application/PDF; name=\"x.pdf\"", 0, SCAN_FT_PDF},
		{"application/pdf ;x=y", 0, SCAN_FT_PDF},
		{"text/plain;charset=utf-8", 0, SCAN_FT_TEXT},
		{"application/vnd.openxmlformats-officedocument."
		 "wordprocessingml.document", 0, SCAN_FT_DOCX},
		{"image/JPEG", 0, SCAN_FT_JPEG},
		{"application/x-msdownload", 0, SCAN_FT_PE},
		{"application/octet-stream", -ENOENT, SCAN_FT_EMPTY},
		{"", -ENOENT, SCAN_FT_EMPTY},
		{"foo/bar", -ENOENT, SCAN_FT_EMPTY},
		{"application/pdfx", -ENOENT, SCAN_FT_EMPTY},
		{NULL, -ENOENT, SCAN_FT_EMPTY},
	};
	for (size_t k = 0; k < sizeof(rows) / sizeof(rows[0]); k++) {
		enum scan_ftype t = SCAN_FT_EMPTY;
		int rc = scan_ftype_from_declared(rows[k].ct, &t);
		CHECK_MSG(rc == rows[k].rc && t == rows[k].t,
			  "row %zu: rc %d type %s", k, rc, scan_ftype_name(t));
	}
	static char longct[200];
	memset(longct, 'a', sizeof(longct) - 1);
	enum scan_ftype t;
	CHECK_EQ_INT(scan_ftype_from_declared(longct, &t), -ENOENT);

	static const struct {
		enum scan_ftype content, declared;
		int want;
	} m[] = {
		{SCAN_FT_PE, SCAN_FT_PDF, 0},   {SCAN_FT_PDF, SCAN_FT_PDF, 1},
		{SCAN_FT_DOCX, SCAN_FT_OLE2, 1}, {SCAN_FT_DOCX, SCAN_FT_ZIP, 1},
		{SCAN_FT_ZIP, SCAN_FT_DOCX, 1}, {SCAN_FT_OLE2, SCAN_FT_DOCX, 1},
		{SCAN_FT_PE, SCAN_FT_TEXT, 0},  {SCAN_FT_HTML, SCAN_FT_TEXT, 1},
		{SCAN_FT_SCRIPT, SCAN_FT_TEXT, 1},
		{SCAN_FT_EMPTY, SCAN_FT_PDF, 1}, {SCAN_FT_JPEG, SCAN_FT_PNG, 0},
		{SCAN_FT_XML, SCAN_FT_HTML, 1}, {SCAN_FT_RTF, SCAN_FT_OLE2, 1},
		{SCAN_FT_MSDOS, SCAN_FT_PE, 1}, {SCAN_FT_PE, SCAN_FT_ZIP, 0},
		{SCAN_FT_ZIP, SCAN_FT_PDF, 0},  {SCAN_FT_TEXT, SCAN_FT_HTML, 0},
	};
	for (size_t k = 0; k < sizeof(m) / sizeof(m[0]); k++)
		CHECK_MSG(scan_ftype_matches_declared(m[k].content,
						      m[k].declared) ==
				  m[k].want,
			  "content %s declared %s",
			  scan_ftype_name(m[k].content),
			  scan_ftype_name(m[k].declared));
}

int main(void)
{
	RUN(test_magic);
	RUN(test_pe);
	RUN(test_zip_kinds);
	RUN(test_offsets);
	RUN(test_names);
	RUN(test_classes);
	RUN(test_extensions);
	RUN(test_declared);
	return CHECK_DONE();
}
