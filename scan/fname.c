/* scan/fname.c - file names that hide what a file is; see fname.h. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "scan/fname.h"

/* Extensions Windows (or a browser/Office it hands the file to) runs,
 * installs or mounts when the user opens the attachment. */
static const char *const dangerous[] = {
	"exe", "scr", "com", "pif", "bat", "cmd", "vbs", "vbe", "js",
	"jse", "wsf", "wsh", "hta", "cpl", "msi", "msp", "msc", "lnk",
	"ps1", "psm1", "jar", "reg", "scf", "url", "inf", "dll", "sct",
	"xll", "chm", "hlp", "iso", "img", "vhd", "vhdx", "appx",
	"appref-ms", "application", "gadget", "library-ms", "settingcontent-ms",
};

/* What a victim expects to open harmlessly: the decoy before the real
 * extension. */
static const char *const decoy[] = {
	"pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "rtf", "txt",
	"csv", "odt", "ods", "jpg", "jpeg", "png", "gif", "bmp", "tif",
	"tiff", "mp3", "mp4", "avi", "mov", "wav", "wmv", "htm", "html",
	"zip", "rar", "7z", "eml", "msg", "xml", "svg", "webp", "heic",
};

static int in_table(const char *const *t, size_t nt, const char *s,
		    size_t len)
{
	for (size_t i = 0; i < nt; i++)
		if (strlen(t[i]) == len && strncasecmp(t[i], s, len) == 0)
			return 1;
	return 0;
}

int scan_fname_dangerous_ext(const char *ext, size_t len)
{
	return in_table(dangerous, sizeof(dangerous) / sizeof(dangerous[0]),
			ext, len);
}

/* Length of a bidi control starting at p (UTF-8), else 0. */
static size_t bidi_at(const unsigned char *p)
{
	if (p[0] == 0xd8 && p[1] == 0x9c)
		return 2; /* U+061C ARABIC LETTER MARK */
	if (p[0] != 0xe2)
		return 0;
	if (p[1] == 0x80 && (p[2] == 0x8e || p[2] == 0x8f ||
			     (p[2] >= 0xaa && p[2] <= 0xae)))
		return 3; /* U+200E/F, U+202A-202E */
	if (p[1] == 0x81 && p[2] >= 0xa6 && p[2] <= 0xa9)
		return 3; /* U+2066-2069 isolates */
	return 0;
}

/* Length of a padding character ending just before `end` (space, '.',
 * '_', U+00A0, U+2000-200B, U+3000), else 0. */
static size_t pad_before(const unsigned char *start, const unsigned char *end)
{
	size_t avail = (size_t)(end - start);
	if (avail >= 1 && (end[-1] == ' ' || end[-1] == '.' || end[-1] == '_' ||
			   end[-1] == '\t'))
		return 1;
	if (avail >= 2 && end[-2] == 0xc2 && end[-1] == 0xa0)
		return 2;
	if (avail >= 3 && end[-3] == 0xe2 && end[-2] == 0x80 &&
	    end[-1] >= 0x80 && end[-1] <= 0x8b)
		return 3;
	if (avail >= 3 && end[-3] == 0xe3 && end[-2] == 0x80 &&
	    end[-1] == 0x80)
		return 3;
	return 0;
}

size_t scan_fname_bidi_len(const char *p)
{
	return bidi_at((const unsigned char *)p);
}

unsigned scan_fname_check(const char *name, struct scan_fname_why *why)
{
	struct scan_fname_why scratch;
	if (why == NULL)
		why = &scratch;
	why->double_ext[0] = why->bidi[0] = why->trailing[0] = '\0';
	if (name == NULL)
		return 0;
	const char *b = name;
	for (const char *p = name; *p; p++)
		if (*p == '/' || *p == '\\')
			b = p + 1;
	const unsigned char *s = (const unsigned char *)b;
	size_t len = strlen(b);
	unsigned flags = 0;
	for (size_t i = 0; i < len; i++) {
		size_t k = bidi_at(s + i); /* reads stop at the NUL */
		if (k > 0) {
			flags |= SCAN_FNAME_BIDI;
			unsigned cp = k == 2 ? 0x061cu
				      : s[i + 1] == 0x80
					      ? 0x2000u + (s[i + 2] - 0x80u)
					      : 0x2040u + (s[i + 2] - 0x80u);
			snprintf(why->bidi, sizeof(why->bidi),
				 "bidi control U+%04X at byte %zu reorders "
				 "how the name is shown", cp, i);
			break;
		}
	}
	/* Effective name: Windows drops trailing dots and spaces. */
	size_t eff = len;
	while (eff > 0 && (s[eff - 1] == '.' || s[eff - 1] == ' '))
		eff--;
	if (eff < len && eff > 0) {
		flags |= SCAN_FNAME_TRAILING;
		snprintf(why->trailing, sizeof(why->trailing),
			 "%zu trailing dots/spaces; saved as '%.*s'",
			 len - eff, (int)eff, b);
	}
	const unsigned char *dot = NULL;
	for (size_t i = eff; i > 0; i--)
		if (s[i - 1] == '.') {
			dot = s + i - 1;
			break;
		}
	if (dot != NULL && dot > s) {
		const char *ext = (const char *)dot + 1;
		size_t elen = (size_t)(s + eff - (dot + 1));
		if (scan_fname_dangerous_ext(ext, elen)) {
			/* padding run before the last dot */
			const unsigned char *e = dot;
			size_t pad = 0, k;
			while ((k = pad_before(s, e)) > 0) {
				e -= k;
				pad++;
			}
			/* the extension before that */
			const unsigned char *d2 = NULL;
			for (const unsigned char *q = e; q > s; q--)
				if (q[-1] == '.') {
					d2 = q - 1;
					break;
				}
			int dec = d2 != NULL &&
				  in_table(decoy, sizeof(decoy) /
						  sizeof(decoy[0]),
					   (const char *)d2 + 1,
					   (size_t)(e - (d2 + 1)));
			if (dec || pad >= 3) {
				flags |= SCAN_FNAME_DOUBLE_EXT;
				if (dec)
					snprintf(why->double_ext,
						 sizeof(why->double_ext),
						 "runs as .%.*s behind .%.*s%s",
						 (int)elen, ext,
						 (int)(e - (d2 + 1)),
						 (const char *)d2 + 1,
						 pad >= 3 ? " and padding" : "");
				else
					snprintf(why->double_ext,
						 sizeof(why->double_ext),
						 "runs as .%.*s behind %zu "
						 "padding characters",
						 (int)elen, ext, pad);
			}
		}
	}
	return flags;
}
