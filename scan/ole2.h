/*
 * scan/ole2.h - what an OLE2 compound file (MS-CFB: doc, xls, ppt, msg,
 * encrypted OOXML) carries that the policy cares about: a VBA project,
 * Excel 4.0 (XLM) macro sheets, encryption.
 *
 * scan_ole2_inspect() reads the header, the FAT (through the header's
 * DIFAT and the DIFAT sector chain), the directory stream and walks the
 * directory tree from the root entry. It reads no stream content except
 * the first SCAN_OLE2_PEEK bytes of "Workbook"/"Book" (BIFF records up to
 * the end of the workbook globals: BOUNDSHEET sheet types, FILEPASS) and
 * the first 12 of "WordDocument" (the FIB's fEncrypted bit), through the
 * FAT or the mini stream.
 *
 * What counts as a VBA project (storage and stream names compare ignoring
 * ASCII case, as MS-CFB does):
 *   - a storage "VBA" holding a stream "dir" or "_VBA_PROJECT"
 *     (the project of every Office format; Word 97 keeps it under
 *     "Macros", Excel under "_VBA_PROJECT_CUR", a vbaProject.bin inside
 *     OOXML at the root), or
 *   - a storage "Macros" or "_VBA_PROJECT_CUR" holding a storage "VBA",
 *     or holding a stream "PROJECT" (a project whose VBA storage was
 *     renamed or damaged still makes Office offer to run it).
 *   vba_path names the storage found ("Macros/VBA",
 *   "_VBA_PROJECT_CUR/VBA", "VBA", or "Macros" for a PROJECT stream
 *   without a VBA storage). PowerPoint 97 keeps its project compressed inside the
 *   "PowerPoint Document" stream: not seen here (libclamav's heuristic
 *   covers it when enabled).
 * XLM: a BOUNDSHEET record of sheet type 1 (macro sheet) in the workbook
 * globals; xlm_sheet names the first (hidden / very hidden noted in
 * xlm_state).
 * Encryption: a root stream "EncryptedPackage" or "EncryptionInfo"
 * (ECMA-376 encrypted OOXML), a FILEPASS record in the workbook globals,
 * or fEncrypted in the Word FIB.
 *
 * Bounds: every read is checked against d[0..n); the sector size is 512
 * or 4096 (anything else is rejected); at most SCAN_OLE2_MAX_FAT_SECTORS
 * FAT sectors, SCAN_OLE2_MAX_ENTRIES directory entries and
 * SCAN_OLE2_MAX_STEPS sector-chain steps per call are followed; a chain
 * longer than the file's sector count, a revisited directory entry or a
 * sector outside the file ends that walk and sets `problem`. The cost is
 * O(n / sector size + entries) at most.
 *
 * Memory: none allocated. The caller lends a struct scan_ole2_work (about
 * 121 KiB: keep one per thread, not on a small stack); it holds nothing
 * between calls. Reentrant with distinct work structs.
 */
#ifndef SLUICE_SCAN_OLE2_H
#define SLUICE_SCAN_OLE2_H

#include <stddef.h>
#include <stdint.h>

#define SCAN_OLE2_MAX_ENTRIES 8192     /* directory entries walked */
#define SCAN_OLE2_MAX_FAT_SECTORS 4096 /* 256 MiB of 512-byte sectors */
#define SCAN_OLE2_MAX_DIR_SECTORS 2048 /* 8192 entries x 128 / 512 */
#define SCAN_OLE2_MAX_STEPS (1u << 20) /* chain steps per call */
#define SCAN_OLE2_PEEK 65536           /* bytes of a stream read */

/* Result bits (scan_ole2_info.flags). */
#define SCAN_OLE2_VBA       0x01u /* a VBA project (vba_path) */
#define SCAN_OLE2_XLM       0x02u /* an Excel 4.0 macro sheet (xlm_sheet) */
#define SCAN_OLE2_ENCRYPTED 0x04u /* encrypted content (encryption) */
#define SCAN_OLE2_PARTIAL   0x08u /* a walk stopped early (problem) */

struct scan_ole2_info {
	unsigned flags;
	unsigned entries;      /* directory entries reached, root included */
	unsigned sector_size;  /* 512 or 4096 */
	char vba_path[64];     /* storage path, '/'-separated, ASCII */
	char xlm_sheet[40];    /* sheet name, ASCII ('?' for others) */
	const char *xlm_state; /* "visible", "hidden", "very hidden" */
	const char *encryption; /* static: which marker was seen */
	const char *problem;   /* static: why a walk stopped, or NULL */
};

/* Scratch for one call; contents are private. */
struct scan_ole2_work {
	uint32_t fat_sec[SCAN_OLE2_MAX_FAT_SECTORS]; /* FAT sector numbers */
	uint32_t dir_sec[SCAN_OLE2_MAX_DIR_SECTORS]; /* directory chain */
	uint16_t parent[SCAN_OLE2_MAX_ENTRIES];     /* storage holding i */
	uint16_t stack[SCAN_OLE2_MAX_ENTRIES];
	uint8_t seen[SCAN_OLE2_MAX_ENTRIES / 8];
	uint8_t peek[SCAN_OLE2_PEEK];
};

/* Is d[0..n) an OLE2 compound file (the 8-byte signature)? */
int scan_ole2_is(const uint8_t *d, size_t n);

/* Inspect the compound file d[0..n) (borrowed) using w (borrowed, any
 * contents) and fill *out. Returns 0 when the header and directory were
 * readable (out->flags says what was found; PARTIAL with out->problem
 * when a later walk stopped early: what was found before still counts),
 * -EINVAL when d is not OLE2 (signature) or its header is unusable
 * (sector size, FAT, directory start), with out->problem saying why. */
int scan_ole2_inspect(const uint8_t *d, size_t n, struct scan_ole2_work *w,
		      struct scan_ole2_info *out);

#endif
