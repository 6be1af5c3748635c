/* scan/filetype.c - see filetype.h. */
#include "scan/filetype.h"

#include <errno.h>
#include <string.h>

/* ---- type table --------------------------------------------------------- */

#define EXEC SCAN_FC_EXEC
#define SCRIPT SCAN_FC_SCRIPT
#define ARCH (SCAN_FC_ARCHIVE | SCAN_FC_CONTAINER)
#define DOC SCAN_FC_DOCUMENT
#define MACRO SCAN_FC_MACRO
#define IMAGE SCAN_FC_IMAGE
#define DISK SCAN_FC_DISKIMG
#define TEXT SCAN_FC_TEXT
#define MEDIA SCAN_FC_MEDIA
#define CONT SCAN_FC_CONTAINER

struct ftinfo {
	const char *name;
	unsigned cls;
	int strict;        /* only its own extensions are consistent */
	const char *exts;  /* space-separated, lower case */
};

#define OOXML_WORD "docx docm dotx dotm"
#define OOXML_XL "xlsx xlsm xltx xltm xlsb xlam"
#define OOXML_PPT "pptx pptm potx potm ppsx ppsm ppam sldx sldm"
#define OOXML_ALL OOXML_WORD " " OOXML_XL " " OOXML_PPT
#define ODF_EXTS "odt ods odp odg odf odb odm ott ots otp otg epub " \
	"sxw sxc sxi sxd"

static const struct ftinfo info[SCAN_FT_COUNT] = {
	[SCAN_FT_EMPTY] = {"empty", 0, 0, ""},
	[SCAN_FT_BINARY] = {"binary", 0, 0, ""},
	[SCAN_FT_TEXT] = {"text", TEXT, 0,
		"txt text csv tsv log md ini cfg conf json yaml yml ics vcf "
		"vcs eml asc pem crt key sig js jse vbs vbe bat cmd ps1 psm1 "
		"sh py pl rb php html htm xml svg css sql diff patch c h cpp "
		"java reg inf url wsf hta sct nfo srt rtf"},
	[SCAN_FT_PE] = {"pe", EXEC, 1,
		"exe dll sys scr cpl ocx com efi drv mui ax tlb acm ime pyd "
		"node msstyles xll wll"},
	[SCAN_FT_MSDOS] = {"msdos", EXEC, 1, "exe com"},
	[SCAN_FT_ELF] = {"elf", EXEC, 1, "so o ko elf axf prx out bin run"},
	[SCAN_FT_MACHO] = {"macho", EXEC, 1, "dylib bundle o so"},
	[SCAN_FT_CLASS] = {"class", EXEC, 1, "class"},
	[SCAN_FT_LNK] = {"lnk", EXEC, 1, "lnk"},
	[SCAN_FT_SCRIPT] = {"script", SCRIPT | TEXT, 0,
		"sh bash ksh zsh csh tcsh command py pl pm rb php js awk sed "
		"tcl lua r run cgi txt"},
	[SCAN_FT_OLE2] = {"ole2", DOC | MACRO, 0,
		"doc dot xls xlt xla xlm ppt pps pot msg msi msp mst msm vsd "
		"vss pub mpp wps db ole hwp oft " OOXML_ALL},
	[SCAN_FT_OOXML] = {"ooxml", DOC | MACRO | CONT, 0,
		OOXML_ALL " vsdx vsdm xps oxps 3mf nupkg appx msix"},
	[SCAN_FT_DOCX] = {"docx", DOC | MACRO | CONT, 0, OOXML_WORD},
	[SCAN_FT_XLSX] = {"xlsx", DOC | MACRO | CONT, 0, OOXML_XL},
	[SCAN_FT_PPTX] = {"pptx", DOC | MACRO | CONT, 0, OOXML_PPT},
	[SCAN_FT_ODF] = {"odf", DOC | MACRO | CONT, 0, ODF_EXTS},
	[SCAN_FT_PDF] = {"pdf", DOC, 0, "pdf ai fdf"},
	[SCAN_FT_RTF] = {"rtf", DOC, 0, "rtf"},
	[SCAN_FT_HTML] = {"html", DOC | SCRIPT | TEXT, 0,
		"html htm xhtml shtml mht mhtml hta php asp aspx jsp txt"},
	[SCAN_FT_XML] = {"xml", DOC | TEXT, 0,
		"xml xsd xsl xslt rss atom plist kml gpx config manifest wsf "
		"xaml resx svg xhtml xlf html htm txt"},
	[SCAN_FT_SVG] = {"svg", IMAGE | SCRIPT | TEXT, 0, "svg svgz xml"},
	[SCAN_FT_CHM] = {"chm", DOC | SCRIPT, 1, "chm"},
	[SCAN_FT_SWF] = {"swf", SCRIPT | MEDIA, 1, "swf"},
	[SCAN_FT_ZIP] = {"zip", ARCH, 0,
		"zip zipx jar war ear apk aar ipa xpi crx whl nupkg kmz cbz "
		"vsdx xps 3mf appx msix " OOXML_ALL " " ODF_EXTS},
	[SCAN_FT_JAR] = {"jar", EXEC | ARCH, 0, "jar war ear apk aar zip"},
	[SCAN_FT_RAR] = {"rar", ARCH, 0, "rar cbr r00 r01"},
	[SCAN_FT_7Z] = {"7z", ARCH, 0, "7z cb7"},
	[SCAN_FT_GZIP] = {"gzip", ARCH, 0, "gz tgz gzip svgz emz wmz"},
	[SCAN_FT_BZIP2] = {"bzip2", ARCH, 0, "bz2 tbz tbz2 bz"},
	[SCAN_FT_XZ] = {"xz", ARCH, 0, "xz txz"},
	[SCAN_FT_ZSTD] = {"zstd", ARCH, 0, "zst zstd tzst"},
	[SCAN_FT_LZ4] = {"lz4", ARCH, 0, "lz4"},
	[SCAN_FT_CAB] = {"cab", ARCH, 0, "cab msu"},
	[SCAN_FT_TAR] = {"tar", ARCH, 0, "tar cbt ova"},
	[SCAN_FT_CPIO] = {"cpio", ARCH, 0, "cpio"},
	[SCAN_FT_AR] = {"ar", ARCH, 0, "a ar deb lib"},
	[SCAN_FT_ARJ] = {"arj", ARCH, 0, "arj"},
	[SCAN_FT_LZH] = {"lzh", ARCH, 0, "lzh lha"},
	[SCAN_FT_ACE] = {"ace", ARCH, 0, "ace cba"},
	[SCAN_FT_ISO9660] = {"iso9660", DISK | CONT, 0, "iso img udf"},
	[SCAN_FT_UDF] = {"udf", DISK, 0, "iso img udf"},
	[SCAN_FT_VHD] = {"vhd", DISK, 0, "vhd"},
	[SCAN_FT_VHDX] = {"vhdx", DISK, 0, "vhdx avhdx"},
	[SCAN_FT_DMG] = {"dmg", DISK, 0, "dmg smi"},
	[SCAN_FT_IMG] = {"img", DISK, 0, "img ima flp vfd dsk"},
	[SCAN_FT_PNG] = {"png", IMAGE, 0, "png apng"},
	[SCAN_FT_JPEG] = {"jpeg", IMAGE, 0, "jpg jpeg jpe jfif pjpeg pjp"},
	[SCAN_FT_GIF] = {"gif", IMAGE, 0, "gif"},
	[SCAN_FT_BMP] = {"bmp", IMAGE, 0, "bmp dib"},
	[SCAN_FT_TIFF] = {"tiff", IMAGE, 0, "tif tiff dng cr2 nef arw"},
	[SCAN_FT_WEBP] = {"webp", IMAGE, 0, "webp"},
	[SCAN_FT_ICO] = {"ico", IMAGE, 0, "ico cur"},
	[SCAN_FT_MP3] = {"mp3", MEDIA, 0, "mp3"},
	[SCAN_FT_MP4] = {"mp4", MEDIA, 0,
		"mp4 m4a m4v m4b mov 3gp 3g2 heic heif avif f4v"},
};

/* ---- byte helpers ------------------------------------------------------- */

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* d[off..) begins with the len bytes of lit. */
static int at(const uint8_t *d, size_t n, size_t off, const char *lit,
	      size_t len)
{
	return off <= n && n - off >= len && memcmp(d + off, lit, len) == 0;
}

#define AT(off, lit) at(d, n, (off), (lit), sizeof(lit) - 1)

static uint8_t lower(uint8_t c)
{
	return (uint8_t)(c - 'A') < 26 ? (uint8_t)(c | 0x20) : c;
}

/* As at(), ignoring ASCII case; lit is lower case. */
static int at_ci(const uint8_t *d, size_t n, size_t off, const char *lit)
{
	size_t len = strlen(lit);
	if (off > n || n - off < len)
		return 0;
	for (size_t k = 0; k < len; k++)
		if (lower(d[off + k]) != (uint8_t)lit[k])
			return 0;
	return 1;
}

/* First occurrence of lit (lower case) in d[0..lim), ignoring case. */
static int find_ci(const uint8_t *d, size_t lim, const char *lit)
{
	size_t len = strlen(lit);
	for (size_t i = 0; i + len <= lim; i++) {
		const uint8_t *p = memchr(d + i, lit[0], lim - i - len + 1);
		if (p == NULL)
			return 0;
		i = (size_t)(p - d);
		if (at_ci(d, lim, i, lit))
			return 1;
	}
	return 0;
}

/* ---- zip ---------------------------------------------------------------- */

#define ZIP_MAX_ENTRIES 16

static int name_is(const uint8_t *s, size_t len, const char *lit)
{
	return strlen(lit) == len && memcmp(s, lit, len) == 0;
}

static int name_starts(const uint8_t *s, size_t len, const char *lit)
{
	size_t l = strlen(lit);
	return len >= l && memcmp(s, lit, l) == 0;
}

/* Walk the first local file headers of a zip that starts at d[0]. */
static enum scan_ftype zip_kind(const uint8_t *d, size_t n)
{
	int ooxml = 0, word = 0, xl = 0, ppt = 0, jar = 0;
	size_t off = 0;
	for (int e = 0; e < ZIP_MAX_ENTRIES; e++) {
		if (n - off < 30 || memcmp(d + off, "PK\3\4", 4) != 0)
			break;
		const uint8_t *h = d + off;
		uint16_t flags = le16(h + 6);
		uint64_t csize = le32(h + 18);
		size_t nlen = le16(h + 26), xlen = le16(h + 28);
		size_t avail = n - off - 30;
		const uint8_t *nm = h + 30;
		if (nlen > avail)
			nlen = avail;
		if (e == 0 && name_is(nm, nlen, "mimetype"))
			return SCAN_FT_ODF;
		if (name_is(nm, nlen, "[Content_Types].xml") ||
		    name_is(nm, nlen, "_rels/.rels"))
			ooxml = 1;
		else if (name_starts(nm, nlen, "word/"))
			word = 1;
		else if (name_starts(nm, nlen, "xl/"))
			xl = 1;
		else if (name_starts(nm, nlen, "ppt/"))
			ppt = 1;
		else if (name_starts(nm, nlen, "META-INF/") ||
			 (nlen > 6 && memcmp(nm + nlen - 6, ".class", 6) == 0))
			jar = 1;
		uint64_t next = (uint64_t)off + 30 + nlen + xlen + csize;
		if ((flags & 8) && csize == 0) {
			/* sizes follow the data: look for the next header */
			size_t from = off + 30 + nlen;
			next = n;
			for (size_t k = from; k + 4 <= n; k++) {
				const uint8_t *p = memchr(d + k, 'P', n - k - 3);
				if (p == NULL)
					break;
				k = (size_t)(p - d);
				if (memcmp(p, "PK\3\4", 4) == 0) {
					next = k;
					break;
				}
			}
		}
		if (next >= n)
			break;
		off = (size_t)next;
	}
	if (word)
		return SCAN_FT_DOCX;
	if (xl)
		return SCAN_FT_XLSX;
	if (ppt)
		return SCAN_FT_PPTX;
	if (ooxml)
		return SCAN_FT_OOXML;
	if (jar)
		return SCAN_FT_JAR;
	return SCAN_FT_ZIP;
}

/* ---- magic at offset 0 -------------------------------------------------- */

static enum scan_ftype mz(const uint8_t *d, size_t n)
{
	if (n >= 0x40) {
		uint32_t pe = le32(d + 0x3C);
		if (pe <= n && n - pe >= 4 && memcmp(d + pe, "PE\0\0", 4) == 0)
			return SCAN_FT_PE;
	}
	return n >= 28 ? SCAN_FT_MSDOS : SCAN_FT_BINARY;
}

/* CA FE BA BE: Mach-O fat (small arch count) or Java class (major >= 45).
 */
static enum scan_ftype cafebabe(const uint8_t *d, size_t n)
{
	if (n < 8)
		return SCAN_FT_BINARY;
	uint32_t v = be32(d + 4);
	if (v >= 1 && v <= 30)
		return SCAN_FT_MACHO;
	uint16_t major = (uint16_t)(v & 0xFFFF);
	if (major >= 45 && major < 100)
		return SCAN_FT_CLASS;
	return SCAN_FT_BINARY;
}

static int mp3_frame(const uint8_t *d, size_t n)
{
	if (n < 4 || d[0] != 0xFF || (d[1] & 0xE0) != 0xE0)
		return 0;
	unsigned version = d[1] >> 3 & 3, layer = d[1] >> 1 & 3;
	unsigned rate = d[2] >> 4, freq = d[2] >> 2 & 3;
	return version != 1 && (layer == 1 || layer == 2) && rate != 0 &&
	       rate != 15 && freq != 3;
}

static enum scan_ftype by_magic(const uint8_t *d, size_t n)
{
	switch (d[0]) {
	case 0x00:
		if (AT(4, "ftyp"))
			return SCAN_FT_MP4;
		if (n >= 22 && (AT(0, "\0\0\1\0") || AT(0, "\0\0\2\0")) &&
		    le16(d + 4) >= 1 && d[9] == 0)
			return SCAN_FT_ICO;
		break;
	case 0x02:
		if (AT(0, "\x02\x21\x4C\x18"))
			return SCAN_FT_LZ4;
		break;
	case 0x04:
		if (AT(0, "\x04\x22\x4D\x18"))
			return SCAN_FT_LZ4;
		break;
	case 0x1F:
		if (n >= 3 && d[1] == 0x8B && d[2] == 8)
			return SCAN_FT_GZIP;
		break;
	case '!':
		if (AT(0, "!<arch>\n"))
			return SCAN_FT_AR;
		break;
	case '#':
		if (n >= 3 && d[1] == '!') {
			size_t i = 2;
			while (i < n && i < 8 && d[i] == ' ')
				i++;
			if (i < n && d[i] == '/')
				return SCAN_FT_SCRIPT;
		}
		break;
	case '%':
		if (AT(0, "%PDF-"))
			return SCAN_FT_PDF;
		break;
	case '(':
		if (AT(0, "\x28\xB5\x2F\xFD"))
			return SCAN_FT_ZSTD;
		break;
	case '0':
		if (AT(0, "070707") || AT(0, "070701") || AT(0, "070702"))
			return SCAN_FT_CPIO;
		break;
	case '7':
		if (AT(0, "7z\xBC\xAF\x27\x1C"))
			return SCAN_FT_7Z;
		break;
	case 'B':
		if (n >= 4 && d[1] == 'Z' && d[2] == 'h' && d[3] >= '1' &&
		    d[3] <= '9')
			return SCAN_FT_BZIP2;
		if (n >= 26 && d[1] == 'M' && le32(d + 6) == 0) {
			uint32_t dib = le32(d + 14);
			if (dib == 12 || dib == 40 || dib == 52 || dib == 56 ||
			    dib == 64 || dib == 108 || dib == 124)
				return SCAN_FT_BMP;
		}
		break;
	case 'C':
	case 'F':
	case 'Z':
		/* version byte, then a plausible file length */
		if (n >= 8 && d[1] == 'W' && d[2] == 'S' && d[3] >= 1 &&
		    d[3] < 64 && le32(d + 4) < 0x10000000)
			return SCAN_FT_SWF;
		break;
	case 'G':
		if (AT(0, "GIF87a") || AT(0, "GIF89a"))
			return SCAN_FT_GIF;
		break;
	case 'I':
		if (AT(0, "II*\0"))
			return SCAN_FT_TIFF;
		if (AT(0, "ID3") && n >= 10)
			return SCAN_FT_MP3;
		if (AT(0, "ITSF"))
			return SCAN_FT_CHM;
		break;
	case 'L':
		if (AT(0, "L\0\0\0\x01\x14\x02\0"))
			return SCAN_FT_LNK;
		break;
	case 'M':
		if (AT(0, "MZ"))
			return mz(d, n);
		if (AT(0, "MSCF\0\0\0\0"))
			return SCAN_FT_CAB;
		if (AT(0, "MM\0*"))
			return SCAN_FT_TIFF;
		break;
	case 'P':
		if (AT(0, "PK\3\4"))
			return zip_kind(d, n);
		if (AT(0, "PK\5\6") || AT(0, "PK\7\x08"))
			return SCAN_FT_ZIP;
		break;
	case 'R':
		if (AT(0, "Rar!\x1A\x07\x00") || AT(0, "Rar!\x1A\x07\x01\x00"))
			return SCAN_FT_RAR;
		if (AT(0, "RIFF") && AT(8, "WEBP"))
			return SCAN_FT_WEBP;
		break;
	case '`':
		if (n >= 4 && d[1] == 0xEA && le16(d + 2) <= 2600)
			return SCAN_FT_ARJ;
		break;
	case 'c':
		if (AT(0, "conectix"))
			return SCAN_FT_VHD;
		break;
	case 'q':
		if (AT(0, "q\xC7") && n >= 26)
			return SCAN_FT_CPIO;
		break;
	case 'v':
		if (AT(0, "vhdxfile"))
			return SCAN_FT_VHDX;
		break;
	case '{':
		if (AT(0, "{\\rt"))
			return SCAN_FT_RTF;
		break;
	case 0x7F:
		if (AT(0, "\x7F" "ELF"))
			return SCAN_FT_ELF;
		break;
	case 0x89:
		if (AT(0, "\x89PNG\r\n\x1A\n"))
			return SCAN_FT_PNG;
		break;
	case 0xC7:
		if (AT(0, "\xC7q") && n >= 26)
			return SCAN_FT_CPIO;
		break;
	case 0xCA:
		if (AT(0, "\xCA\xFE\xBA\xBE"))
			return cafebabe(d, n);
		if (AT(0, "\xCA\xFE\xBA\xBF"))
			return SCAN_FT_MACHO;
		break;
	case 0xCE:
	case 0xCF:
		if (AT(1, "\xFA\xED\xFE"))
			return SCAN_FT_MACHO;
		break;
	case 0xD0:
		if (AT(0, "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1"))
			return SCAN_FT_OLE2;
		break;
	case 0xFD:
		if (AT(0, "\xFD" "7zXZ\0"))
			return SCAN_FT_XZ;
		break;
	case 0xFE:
		if (AT(0, "\xFE\xED\xFA\xCE") || AT(0, "\xFE\xED\xFA\xCF"))
			return SCAN_FT_MACHO;
		break;
	case 0xFF:
		if (AT(0, "\xFF\xD8\xFF"))
			return SCAN_FT_JPEG;
		if (mp3_frame(d, n))
			return SCAN_FT_MP3;
		break;
	default:
		break;
	}
	return SCAN_FT_BINARY;
}

/* ---- magic elsewhere ---------------------------------------------------- */

/* FAT or NTFS boot sector, or an MBR with a sane partition table. */
static int boot_sector(const uint8_t *d, size_t n)
{
	if (n < 512 || d[510] != 0x55 || d[511] != 0xAA)
		return 0;
	if (AT(3, "NTFS    "))
		return 1;
	if ((d[0] == 0xEB && d[2] == 0x90) || d[0] == 0xE9) {
		unsigned bps = le16(d + 11), spc = d[13], fats = d[16];
		if ((bps == 512 || bps == 1024 || bps == 2048 ||
		     bps == 4096) && spc != 0 && (spc & (spc - 1)) == 0 &&
		    le16(d + 14) >= 1 && (fats == 1 || fats == 2))
			return 1;
	}
	/* MBR: four entries at 446, status 0x00 or 0x80, one used */
	int used = 0;
	for (int k = 0; k < 4; k++) {
		const uint8_t *p = d + 446 + 16 * k;
		if (p[0] != 0x00 && p[0] != 0x80)
			return 0;
		if (p[4] != 0) {
			if (le32(p + 12) == 0)
				return 0;
			used = 1;
		}
	}
	return used;
}

static enum scan_ftype by_probe(const uint8_t *d, size_t n)
{
	if (AT(257, "ustar"))
		return SCAN_FT_TAR;
	/* ISO 9660 / UDF volume descriptors from sector 16 (2048 bytes) */
	static const size_t vd[] = {0x8001, 0x8801, 0x9001, 0x9801};
	int iso = 0, bea = 0;
	for (size_t k = 0; k < sizeof(vd) / sizeof(vd[0]); k++) {
		if (AT(vd[k], "CD001"))
			iso = 1;
		else if (AT(vd[k], "BEA01"))
			bea = 1;
		else if (bea && (AT(vd[k], "NSR02") || AT(vd[k], "NSR03")))
			return SCAN_FT_UDF;
	}
	if (iso)
		return SCAN_FT_ISO9660;
	if (n >= 512) {
		if (AT(n - 512, "koly") && be32(d + n - 508) == 4)
			return SCAN_FT_DMG;
		if (AT(n - 512, "conectix") || AT(n - 511, "conectix"))
			return SCAN_FT_VHD;
	}
	if (AT(7, "**ACE**"))
		return SCAN_FT_ACE;
	if (n >= 21 && d[2] == '-' && d[3] == 'l' &&
	    (d[4] == 'h' || d[4] == 'z') && d[6] == '-' &&
	    ((d[5] >= '0' && d[5] <= '7') || d[5] == 'd' || d[5] == 's'))
		return SCAN_FT_LZH;
	if (boot_sector(d, n))
		return SCAN_FT_IMG;
	/* Acrobat accepts %PDF- anywhere in the first 1024 bytes */
	size_t lim = n < 1024 ? n : 1024;
	for (size_t i = 0; i + 5 <= lim; i++) {
		const uint8_t *p = memchr(d + i, '%', lim - i - 4);
		if (p == NULL)
			break;
		i = (size_t)(p - d);
		if (memcmp(p, "%PDF-", 5) == 0)
			return SCAN_FT_PDF;
	}
	return SCAN_FT_BINARY;
}

/* ---- text and markup ---------------------------------------------------- */

#define TEXT_WINDOW 4096
#define MARKUP_WINDOW 1024

static int is_space(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

/* Length of the valid UTF-8 sequence at d[i], 0 if invalid; a sequence
 * cut off by lim counts as valid (the window may split one). */
static size_t utf8_len(const uint8_t *d, size_t lim, size_t i)
{
	uint8_t c = d[i];
	size_t len;
	uint8_t lo = 0x80, hi = 0xBF;
	if (c >= 0xC2 && c <= 0xDF) {
		len = 2;
	} else if (c >= 0xE0 && c <= 0xEF) {
		len = 3;
		if (c == 0xE0)
			lo = 0xA0;
		else if (c == 0xED)
			hi = 0x9F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		len = 4;
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F;
	} else {
		return 0;
	}
	for (size_t k = 1; k < len; k++) {
		if (i + k >= lim)
			return lim - i;
		uint8_t b = d[i + k];
		if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xBF))
			return 0;
	}
	return len;
}

static int looks_text(const uint8_t *d, size_t n)
{
	size_t lim = n < TEXT_WINDOW ? n : TEXT_WINDOW;
	size_t ctrl = 0, odd = 0;
	for (size_t i = 0; i < lim;) {
		/* eight bytes at a time while all are in 0x20..0x7F */
		if (lim - i >= 8) {
			uint64_t w;
			memcpy(&w, d + i, 8);
			if ((((w - 0x2020202020202020u) | w) &
			     0x8080808080808080u) == 0) {
				i += 8;
				continue;
			}
		}
		uint8_t c = d[i];
		if (c >= 0x20 && c <= 0x7F) {
			i++;
			continue;
		}
		if (c == 0)
			return 0;
		if (c < 0x80) {
			if (!is_space(c) && c != 0x0B && c != 0x1B &&
			    c != 0x08 && c != 0x1A)
				ctrl++;
			i++;
			continue;
		}
		size_t l = utf8_len(d, lim, i);
		if (l == 0) {
			odd++; /* Latin-1 and the like */
			l = 1;
		}
		i += l;
	}
	return ctrl * 100 <= lim && odd * 10 <= lim;
}

static enum scan_ftype by_text(const uint8_t *d, size_t n)
{
	if (n >= 2 && ((d[0] == 0xFF && d[1] == 0xFE) ||
		       (d[0] == 0xFE && d[1] == 0xFF)))
		return SCAN_FT_TEXT; /* UTF-16 with BOM */
	size_t i = 0;
	if (AT(0, "\xEF\xBB\xBF"))
		i = 3;
	while (i < n && i < MARKUP_WINDOW && is_space(d[i]))
		i++;
	size_t lim = n < MARKUP_WINDOW ? n : MARKUP_WINDOW;
	if (i < n && d[i] == '<') {
		/* WHATWG sniffing patterns, each ended by space, '>' or '/' */
		static const char *const html[] = {
			"<!doctype html", "<html", "<head", "<script",
			"<iframe", "<h1", "<div", "<font", "<table", "<a",
			"<style", "<title", "<b", "<body", "<br", "<p", "<!--",
		};
		for (size_t k = 0; k < sizeof(html) / sizeof(html[0]); k++) {
			size_t l = strlen(html[k]);
			if (at_ci(d, n, i, html[k]) && i + l < n &&
			    (is_space(d[i + l]) || d[i + l] == '>' ||
			     d[i + l] == '/'))
				return SCAN_FT_HTML;
		}
		if (at_ci(d, n, i, "<svg") || at_ci(d, n, i, "<!doctype svg"))
			return SCAN_FT_SVG;
		if (AT(i, "<?xml")) {
			if (find_ci(d, lim, "<html") ||
			    find_ci(d, lim, "<!doctype html"))
				return SCAN_FT_HTML;
			if (find_ci(d, lim, "<svg"))
				return SCAN_FT_SVG;
			return SCAN_FT_XML;
		}
	}
	if (!looks_text(d, n))
		return SCAN_FT_BINARY;
	/* HTML after some text (smuggling pages behind a banner) */
	if (find_ci(d, lim, "<html") || find_ci(d, lim, "<!doctype html") ||
	    find_ci(d, lim, "<script"))
		return SCAN_FT_HTML;
	return SCAN_FT_TEXT;
}

enum scan_ftype scan_filetype(const uint8_t *d, size_t n)
{
	if (n == 0)
		return SCAN_FT_EMPTY;
	enum scan_ftype t = by_magic(d, n);
	if (t == SCAN_FT_BINARY)
		t = by_probe(d, n);
	if (t == SCAN_FT_BINARY)
		t = by_text(d, n);
	return t;
}

/* ---- names, classes, extensions ----------------------------------------- */

const char *scan_ftype_name(enum scan_ftype t)
{
	if ((unsigned)t >= SCAN_FT_COUNT)
		return "binary";
	return info[t].name;
}

int scan_ftype_parse(const char *name, enum scan_ftype *out)
{
	if (name == NULL)
		return -EINVAL;
	for (unsigned t = 0; t < SCAN_FT_COUNT; t++)
		if (strcmp(name, info[t].name) == 0) {
			*out = (enum scan_ftype)t;
			return 0;
		}
	return -EINVAL;
}

unsigned scan_ftype_class(enum scan_ftype t)
{
	if ((unsigned)t >= SCAN_FT_COUNT)
		return 0;
	return info[t].cls;
}

/* Is word w (length l) in the space-separated list? */
static int in_list(const char *list, const char *w, size_t l)
{
	const char *p = list;
	while (*p != '\0') {
		const char *e = strchr(p, ' ');
		size_t len = e != NULL ? (size_t)(e - p) : strlen(p);
		if (len == l && memcmp(p, w, l) == 0)
			return 1;
		if (e == NULL)
			break;
		p = e + 1;
	}
	return 0;
}

int scan_ftype_matches_extension(enum scan_ftype t, const char *ext)
{
	char e[16];
	size_t l = 0;
	if ((unsigned)t >= SCAN_FT_COUNT || t == SCAN_FT_EMPTY ||
	    t == SCAN_FT_BINARY || ext == NULL)
		return 1;
	if (*ext == '.')
		ext++;
	if (*ext == '\0')
		return 1;
	for (; ext[l] != '\0'; l++) {
		if (l == sizeof(e) || ext[l] == ' ')
			return !info[t].strict; /* no extension we know */
		e[l] = (char)lower((uint8_t)ext[l]);
	}
	if (in_list(info[t].exts, e, l))
		return 1;
	if (info[t].strict)
		return 0;
	for (unsigned k = 0; k < SCAN_FT_COUNT; k++)
		if (in_list(info[k].exts, e, l))
			return 0;
	return 1;
}

/* ---- declared types ----------------------------------------------------- */

static const struct {
	const char *mime;
	enum scan_ftype t;
} declared[] = {
	{"application/pdf", SCAN_FT_PDF},
	{"application/x-pdf", SCAN_FT_PDF},
	{"application/zip", SCAN_FT_ZIP},
	{"application/x-zip", SCAN_FT_ZIP},
	{"application/x-zip-compressed", SCAN_FT_ZIP},
	{"application/msword", SCAN_FT_OLE2},
	{"application/vnd.ms-excel", SCAN_FT_OLE2},
	{"application/vnd.ms-powerpoint", SCAN_FT_OLE2},
	{"application/vnd.ms-outlook", SCAN_FT_OLE2},
	{"application/x-msi", SCAN_FT_OLE2},
	{"application/x-ole-storage", SCAN_FT_OLE2},
	{"application/vnd.openxmlformats-officedocument."
	 "wordprocessingml.document", SCAN_FT_DOCX},
	{"application/vnd.openxmlformats-officedocument."
	 "wordprocessingml.template", SCAN_FT_DOCX},
	{"application/vnd.ms-word.document.macroenabled.12", SCAN_FT_DOCX},
	{"application/vnd.openxmlformats-officedocument."
	 "spreadsheetml.sheet", SCAN_FT_XLSX},
	{"application/vnd.ms-excel.sheet.macroenabled.12", SCAN_FT_XLSX},
	{"application/vnd.openxmlformats-officedocument."
	 "presentationml.presentation", SCAN_FT_PPTX},
	{"application/vnd.ms-powerpoint.presentation.macroenabled.12",
	 SCAN_FT_PPTX},
	{"application/vnd.oasis.opendocument.text", SCAN_FT_ODF},
	{"application/vnd.oasis.opendocument.spreadsheet", SCAN_FT_ODF},
	{"application/vnd.oasis.opendocument.presentation", SCAN_FT_ODF},
	{"application/epub+zip", SCAN_FT_ODF},
	{"application/x-msdownload", SCAN_FT_PE},
	{"application/x-msdos-program", SCAN_FT_PE},
	{"application/x-dosexec", SCAN_FT_PE},
	{"application/vnd.microsoft.portable-executable", SCAN_FT_PE},
	{"application/x-executable", SCAN_FT_ELF},
	{"application/x-elf", SCAN_FT_ELF},
	{"application/x-sharedlib", SCAN_FT_ELF},
	{"application/x-mach-binary", SCAN_FT_MACHO},
	{"application/java-vm", SCAN_FT_CLASS},
	{"application/x-java-applet", SCAN_FT_CLASS},
	{"application/java-archive", SCAN_FT_JAR},
	{"application/x-java-archive", SCAN_FT_JAR},
	{"application/x-ms-shortcut", SCAN_FT_LNK},
	{"application/x-sh", SCAN_FT_SCRIPT},
	{"application/x-shellscript", SCAN_FT_SCRIPT},
	{"text/x-shellscript", SCAN_FT_SCRIPT},
	{"text/x-python", SCAN_FT_SCRIPT},
	{"text/html", SCAN_FT_HTML},
	{"application/xhtml+xml", SCAN_FT_HTML},
	{"text/xml", SCAN_FT_XML},
	{"application/xml", SCAN_FT_XML},
	{"image/svg+xml", SCAN_FT_SVG},
	{"text/plain", SCAN_FT_TEXT},
	{"text/csv", SCAN_FT_TEXT},
	{"text/calendar", SCAN_FT_TEXT},
	{"application/rtf", SCAN_FT_RTF},
	{"text/rtf", SCAN_FT_RTF},
	{"application/vnd.ms-htmlhelp", SCAN_FT_CHM},
	{"application/x-shockwave-flash", SCAN_FT_SWF},
	{"application/vnd.rar", SCAN_FT_RAR},
	{"application/x-rar", SCAN_FT_RAR},
	{"application/x-rar-compressed", SCAN_FT_RAR},
	{"application/x-7z-compressed", SCAN_FT_7Z},
	{"application/gzip", SCAN_FT_GZIP},
	{"application/x-gzip", SCAN_FT_GZIP},
	{"application/x-bzip2", SCAN_FT_BZIP2},
	{"application/x-xz", SCAN_FT_XZ},
	{"application/zstd", SCAN_FT_ZSTD},
	{"application/x-lz4", SCAN_FT_LZ4},
	{"application/vnd.ms-cab-compressed", SCAN_FT_CAB},
	{"application/x-tar", SCAN_FT_TAR},
	{"application/x-cpio", SCAN_FT_CPIO},
	{"application/x-archive", SCAN_FT_AR},
	{"application/x-arj", SCAN_FT_ARJ},
	{"application/x-lzh-compressed", SCAN_FT_LZH},
	{"application/x-ace-compressed", SCAN_FT_ACE},
	{"application/x-iso9660-image", SCAN_FT_ISO9660},
	{"application/x-apple-diskimage", SCAN_FT_DMG},
	{"image/png", SCAN_FT_PNG},
	{"image/jpeg", SCAN_FT_JPEG},
	{"image/pjpeg", SCAN_FT_JPEG},
	{"image/jpg", SCAN_FT_JPEG},
	{"image/gif", SCAN_FT_GIF},
	{"image/bmp", SCAN_FT_BMP},
	{"image/x-ms-bmp", SCAN_FT_BMP},
	{"image/tiff", SCAN_FT_TIFF},
	{"image/webp", SCAN_FT_WEBP},
	{"image/x-icon", SCAN_FT_ICO},
	{"image/vnd.microsoft.icon", SCAN_FT_ICO},
	{"audio/mpeg", SCAN_FT_MP3},
	{"audio/mp3", SCAN_FT_MP3},
	{"video/mp4", SCAN_FT_MP4},
	{"audio/mp4", SCAN_FT_MP4},
	{"video/quicktime", SCAN_FT_MP4},
};

int scan_ftype_from_declared(const char *ct, enum scan_ftype *out)
{
	char m[80];
	size_t l = 0;
	if (ct == NULL)
		return -ENOENT;
	while (is_space((uint8_t)*ct))
		ct++;
	for (; ct[l] != '\0' && ct[l] != ';' && !is_space((uint8_t)ct[l]);
	     l++) {
		if (l == sizeof(m) - 1)
			return -ENOENT;
		m[l] = (char)lower((uint8_t)ct[l]);
	}
	m[l] = '\0';
	for (size_t k = 0; k < sizeof(declared) / sizeof(declared[0]); k++)
		if (strcmp(m, declared[k].mime) == 0) {
			*out = declared[k].t;
			return 0;
		}
	return -ENOENT;
}

static int is_ooxml(enum scan_ftype t)
{
	return t == SCAN_FT_OOXML || t == SCAN_FT_DOCX || t == SCAN_FT_XLSX ||
	       t == SCAN_FT_PPTX;
}

static int is_zip(enum scan_ftype t)
{
	return t == SCAN_FT_ZIP || t == SCAN_FT_JAR || t == SCAN_FT_ODF ||
	       is_ooxml(t);
}

int scan_ftype_matches_declared(enum scan_ftype c, enum scan_ftype d)
{
	if (c == d || c == SCAN_FT_EMPTY)
		return 1;
	switch (d) {
	case SCAN_FT_TEXT:
		return (scan_ftype_class(c) & SCAN_FC_TEXT) != 0;
	case SCAN_FT_ZIP:
		return is_zip(c);
	case SCAN_FT_OOXML:
	case SCAN_FT_DOCX:
	case SCAN_FT_XLSX:
	case SCAN_FT_PPTX:
		/* zip: content types beyond the entries we look at;
		 * ole2: password-protected OOXML */
		return is_ooxml(c) || c == SCAN_FT_ZIP || c == SCAN_FT_OLE2;
	case SCAN_FT_OLE2:
		/* msword/ms-excel sent for OOXML and RTF by many clients */
		return is_ooxml(c) || c == SCAN_FT_RTF;
	case SCAN_FT_ODF:
	case SCAN_FT_JAR:
		return c == SCAN_FT_ZIP;
	case SCAN_FT_XML:
		return c == SCAN_FT_SVG || c == SCAN_FT_HTML;
	case SCAN_FT_HTML:
		return c == SCAN_FT_XML;
	case SCAN_FT_SVG:
		return c == SCAN_FT_XML;
	case SCAN_FT_PE:
		return c == SCAN_FT_MSDOS;
	case SCAN_FT_ISO9660:
		return c == SCAN_FT_UDF;
	case SCAN_FT_SCRIPT:
		return c == SCAN_FT_TEXT;
	default:
		return 0;
	}
}
