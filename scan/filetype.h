/*
 * scan/filetype.h - the true type of a leaf, by content (magic bytes).
 *
 * scan_filetype() looks at the bytes only, never at a name or a declared
 * Content-Type; the pipeline compares its answer with the extension
 * (scan_ftype_matches_extension) and the declared type
 * (scan_ftype_from_declared + scan_ftype_matches_declared) to flag
 * "invoice.pdf is really a PE". Detection is a switch on the first byte
 * plus a few fixed-offset probes (tar, ISO 9660, disk images, PDF header
 * within the first 1024 bytes), then a text/binary guess over the first
 * 4 KiB. It never reads outside d[0..n) and costs O(1) apart from those
 * bounded probes.
 *
 * Names (scan_ftype_name) are stable: they appear in findings, JSON, logs
 * and policy configuration. Enum values may be renumbered between
 * releases: store names, not numbers.
 *
 * All functions are reentrant and allocate nothing.
 */
#ifndef SLUICE_SCAN_FILETYPE_H
#define SLUICE_SCAN_FILETYPE_H

#include <stddef.h>
#include <stdint.h>

enum scan_ftype {
	SCAN_FT_EMPTY,    /* "empty": zero bytes */
	SCAN_FT_BINARY,   /* "binary": unknown, not text */
	SCAN_FT_TEXT,     /* "text": printable UTF-8/ASCII/Latin-1 or UTF-16 with BOM */
	/* executables */
	SCAN_FT_PE,       /* "pe": MZ with PE\0\0 at e_lfanew */
	SCAN_FT_MSDOS,    /* "msdos": MZ without a PE header */
	SCAN_FT_ELF,      /* "elf" */
	SCAN_FT_MACHO,    /* "macho": 32/64-bit either order, fat */
	SCAN_FT_CLASS,    /* "class": Java class file */
	SCAN_FT_LNK,      /* "lnk": Windows shortcut */
	SCAN_FT_SCRIPT,   /* "script": "#!" interpreter line */
	/* documents */
	SCAN_FT_OLE2,     /* "ole2": doc/xls/ppt/msg/msi, encrypted OOXML */
	SCAN_FT_OOXML,    /* "ooxml": zip with [Content_Types].xml */
	SCAN_FT_DOCX,     /* "docx": OOXML with word/ */
	SCAN_FT_XLSX,     /* "xlsx": OOXML with xl/ */
	SCAN_FT_PPTX,     /* "pptx": OOXML with ppt/ */
	SCAN_FT_ODF,      /* "odf": zip whose first entry is "mimetype" */
	SCAN_FT_PDF,      /* "pdf": %PDF- within the first 1024 bytes */
	SCAN_FT_RTF,      /* "rtf": {\rt (what Word accepts) */
	SCAN_FT_HTML,     /* "html" */
	SCAN_FT_XML,      /* "xml": <?xml prolog */
	SCAN_FT_SVG,      /* "svg" */
	SCAN_FT_CHM,      /* "chm": ITSF */
	SCAN_FT_SWF,      /* "swf": FWS/CWS/ZWS */
	/* archives and compressors */
	SCAN_FT_ZIP,      /* "zip" */
	SCAN_FT_JAR,      /* "jar": zip with META-INF/ or .class entries */
	SCAN_FT_RAR,      /* "rar": v1.5-4 and v5 */
	SCAN_FT_7Z,       /* "7z" */
	SCAN_FT_GZIP,     /* "gzip" */
	SCAN_FT_BZIP2,    /* "bzip2" */
	SCAN_FT_XZ,       /* "xz" */
	SCAN_FT_ZSTD,     /* "zstd" */
	SCAN_FT_LZ4,      /* "lz4": frame and legacy */
	SCAN_FT_CAB,      /* "cab": MSCF */
	SCAN_FT_TAR,      /* "tar": ustar/GNU magic at 257 */
	SCAN_FT_CPIO,     /* "cpio": ASCII and binary */
	SCAN_FT_AR,       /* "ar": !<arch> (deb, .a, .lib) */
	SCAN_FT_ARJ,      /* "arj" */
	SCAN_FT_LZH,      /* "lzh": -lh?- / -lz?- */
	SCAN_FT_ACE,      /* "ace": **ACE** at 7 */
	/* disk images */
	SCAN_FT_ISO9660,  /* "iso9660": CD001 at 0x8001/0x8801/0x9001 */
	SCAN_FT_UDF,      /* "udf": BEA01 + NSR02/NSR03 descriptors */
	SCAN_FT_VHD,      /* "vhd": "conectix" footer (start or end) */
	SCAN_FT_VHDX,     /* "vhdx": "vhdxfile" */
	SCAN_FT_DMG,      /* "dmg": "koly" trailer 512 bytes from the end */
	SCAN_FT_IMG,      /* "img": FAT/NTFS boot sector or MBR */
	/* images and media */
	SCAN_FT_PNG,      /* "png" */
	SCAN_FT_JPEG,     /* "jpeg" */
	SCAN_FT_GIF,      /* "gif" */
	SCAN_FT_BMP,      /* "bmp" */
	SCAN_FT_TIFF,     /* "tiff" */
	SCAN_FT_WEBP,     /* "webp" */
	SCAN_FT_ICO,      /* "ico": icons and cursors */
	SCAN_FT_MP3,      /* "mp3": ID3 tag or MPEG layer II/III frame */
	SCAN_FT_MP4,      /* "mp4": ISO BMFF "ftyp" (mp4, mov, m4a, heic) */
	SCAN_FT_COUNT
};

/* Class bits (scan_ftype_class). A type may have several. */
#define SCAN_FC_EXEC      0x001u /* native or VM code, shortcuts */
#define SCAN_FC_SCRIPT    0x002u /* may run active script when opened */
#define SCAN_FC_ARCHIVE   0x004u /* archive or compressor a user unpacks */
#define SCAN_FC_DOCUMENT  0x008u /* office, PDF, RTF, HTML, help file */
#define SCAN_FC_MACRO     0x010u /* office format that can carry macros */
#define SCAN_FC_IMAGE     0x020u /* picture */
#define SCAN_FC_DISKIMG   0x040u /* disk or optical image (mounted) */
#define SCAN_FC_TEXT      0x080u /* readable as text */
#define SCAN_FC_MEDIA     0x100u /* audio/video */
#define SCAN_FC_CONTAINER 0x200u /* holds files the pipeline can unpack
				   (zip-based documents included) */

/* The type of d[0..n) by content. d may be NULL when n is 0. */
enum scan_ftype scan_filetype(const uint8_t *d, size_t n);

/* Stable lower-case name of t ("pe", "docx", ...); "binary" for an
 * out-of-range value. Static storage. */
const char *scan_ftype_name(enum scan_ftype t);

/* The type named `name` (exact, lower case). Returns 0, or -EINVAL for an
 * unknown name or NULL (*out untouched). */
int scan_ftype_parse(const char *name, enum scan_ftype *out);

/* SCAN_FC_* bits of t; 0 for empty, binary and out-of-range values. */
unsigned scan_ftype_class(enum scan_ftype t);

/* Is the file-name extension ext (without or with one leading '.', any
 * case, e.g. "PDF" or ".pdf") consistent with content type t? Returns 1
 * when ext is one t is normally saved under, or when nothing contradicts:
 * t is empty/binary, or ext is none we know (except that executables,
 * shortcuts, java classes, chm and swf accept only their own extensions,
 * so "photo.xyz" that is a PE contradicts). Returns 0 when they
 * contradict (invoice.pdf that is a PE, report.doc that is a zip of
 * unknown kind). NULL or "" (no extension): 1. */
int scan_ftype_matches_extension(enum scan_ftype t, const char *ext);

/* The type a MIME Content-Type value claims ("application/pdf",
 * "Application/PDF; name=x.pdf", ...: case-insensitive, parameters and
 * surrounding whitespace ignored). Returns 0 and sets *out, or -ENOENT
 * when the value makes no claim (NULL, application/octet-stream, types
 * we do not map). */
int scan_ftype_from_declared(const char *content_type, enum scan_ftype *out);

/* Is content type `content` consistent with declared type `declared`?
 * 1 when equal or in the same family (zip-based documents are zips,
 * encrypted OOXML is OLE2, a docx declared as msword, html/xml/svg/script
 * declared as text/plain, ...), or when content is empty; 0 otherwise. */
int scan_ftype_matches_declared(enum scan_ftype content,
				enum scan_ftype declared);

#endif
