/*
 * scan/fname.h - file names dressed up to hide what a file is.
 *
 * scan_fname_check() looks at one decoded (UTF-8) attachment or archive
 * member name and reports the tricks mail malware uses on names:
 *   SCAN_FNAME_DOUBLE_EXT  the last extension is one Windows runs or
 *                          mounts (exe, scr, js, iso, ...: the table in
 *                          fname.c) and it follows a document, image or
 *                          media extension ("invoice.pdf.exe"), or a run
 *                          of at least 3 spaces, dots, underscores or
 *                          Unicode spaces ("scan.jpg      .scr",
 *                          "photo________.exe") that pushes it out of
 *                          view;
 *   SCAN_FNAME_BIDI        Unicode bidi controls (U+202A-202E, U+2066-
 *                          2069, U+200E/200F, U+061C) that reorder how
 *                          the name is shown ("invoice\u202Efdp.exe"
 *                          shows as "invoiceexe.pdf");
 *   SCAN_FNAME_TRAILING    trailing dots or spaces (Windows drops them:
 *                          "x.exe. " is saved as "x.exe").
 * Only the last path component counts (after '/' or '\').
 *
 * `why` (may be NULL) receives one line per trick found, for the finding
 * details (the effective extension and what hid it). The pipeline turns the bits into
 * findings double-extension / bidi-name / trailing-dots (kind
 * ambiguous); the attachment filter blocks DOUBLE_EXT and BIDI names
 * unless `deceptive_names: false` (policy.h).
 *
 * Reentrant, allocates nothing, reads only up to the name's NUL.
 */
#ifndef SLUICE_SCAN_FNAME_H
#define SLUICE_SCAN_FNAME_H

#include <stddef.h>

#define SCAN_FNAME_DOUBLE_EXT 0x1u
#define SCAN_FNAME_BIDI 0x2u
#define SCAN_FNAME_TRAILING 0x4u

/* One reason per bit, NUL-terminated ("" when the bit is clear). */
struct scan_fname_why {
	char double_ext[128];
	char bidi[128];
	char trailing[128];
};

/* SCAN_FNAME_* bits for name (NULL: 0); *why (may be NULL) is filled. */
unsigned scan_fname_check(const char *name, struct scan_fname_why *why);

/* Length in bytes of the bidi control (UTF-8) starting at p, or 0. p
 * must be NUL-terminated (reads stop at the NUL). */
size_t scan_fname_bidi_len(const char *p);

/* Is ext (no dot, any case, length given) one the table counts as
 * dangerous to open? */
int scan_fname_dangerous_ext(const char *ext, size_t len);

#endif
