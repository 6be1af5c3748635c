/*
 * scan/archive.h - one container layer held in memory, member by member
 * (libarchive), within a per-message budget.
 *
 * The walker opens one layer (a zip, a tar.gz, a lone .xz ...) with
 * scan_arc_open() and yields its members with scan_arc_next(): sanitised
 * path, declared size, the bytes (read into a buffer the caller owns) and
 * flags. It does not recurse: the caller scans each member and, when the
 * member is itself a container, opens a walker on it with depth + 1 and its
 * own buffer, threading the same scan_arc_budget through. The budget is per
 * message: total decompressed bytes, members, bytes per member, compression
 * ratio (per zip member and per layer), depth and a CLOCK_MONOTONIC
 * deadline. Passing one stops that member (the bytes read so far are still
 * yielded) or that layer, and is reported as an event (name + detail) that
 * the caller turns into a finding.
 *
 * Formats: zip (central directory; when the central directory leaves local
 * headers unaccounted for - concatenated or doctored zips - a second pass
 * reads the local headers in order), 7z, rar 4 and 5, tar, cpio, ar, cab,
 * lha/lzh, iso9660, xar, warc, rpm, with any of the filters gzip, bzip2, xz,
 * lzma, lzip, zstd, lz4, compress; and a lone compressed stream (one member
 * named "data", flag SCAN_ARC_M_STREAM). Deliberately not enabled: mtree
 * (its reader opens files named in the input on the local disk), filters
 * that run an external program (lrzip, lzop, grzip), uuencode (the pipeline
 * extracts uuencoded files itself).
 *
 * Zip archives whose central directory entries overlap (several entries
 * sharing one compressed stream: the non-recursive zip bomb) are refused
 * before anything is decompressed (event archive-overlap).
 *
 * Events (stable names, they become findings):
 *   limit      archive-depth, archive-bytes, archive-members,
 *              archive-member-size, archive-ratio, archive-time
 *   malformed  archive-corrupt (unreadable, truncated, bad data),
 *              archive-overlap (overlapping zip entries)
 *   encrypted  encrypted-member (member data needs a password; the member
 *              is still yielded with its name and size, no bytes),
 *              encrypted-archive (the listing itself is encrypted)
 *
 * Memory. Member bytes go into the caller's scan_arc_buf, grown by
 * doubling as bytes actually arrive (never on a declared size) and reused
 * across members, so once warm a member costs no malloc; each buffer holds
 * at most twice the largest member read into it, and since every byte
 * read counts against the budget, all buffers of one message together hold
 * at most about 2 x budget->max_bytes. libarchive allocates on its own
 * (no allocator hooks): per open layer its reader state, format tables and
 * decompressor state (zlib 32 KiB window, bzip2 up to 3.6 MiB, LZMA/xz
 * dictionaries as the header declares - xz is capped by libarchive's 1 GiB
 * memlimit, 7z/rar dictionaries are not). Those dictionaries are
 * written only as output is produced, so resident memory stays bounded by
 * the byte budget; address space per open layer can be larger. The
 * exception is a 7z PPMd model: allocated at the size its header declares
 * (up to 4 GiB of address space) and touched as the model grows, which
 * the byte and time budgets bound only indirectly (PPMd decodes at a few
 * hundred KB/s). One walker per open layer, at most max_depth layers open
 * at once.
 *
 * Not thread-safe per walker or budget; walkers on different threads are
 * independent (libarchive keeps no shared mutable state).
 */
#ifndef SLUICE_SCAN_ARCHIVE_H
#define SLUICE_SCAN_ARCHIVE_H

#include <stddef.h>
#include <stdint.h>

#include "scan/filetype.h"

/* Defaults (and the hard ceiling of the depth). */
#define SCAN_ARC_DEF_BYTES (128ull << 20)      /* decompressed per message */
#define SCAN_ARC_DEF_MEMBERS 10000u            /* entries per message */
#define SCAN_ARC_DEF_MEMBER_SIZE (32ull << 20) /* bytes kept per member */
#define SCAN_ARC_DEF_RATIO 250u                /* output / input */
#define SCAN_ARC_DEF_RATIO_FLOOR (1ull << 20)  /* ratio checked above this */
#define SCAN_ARC_DEF_DEPTH 20u
#define SCAN_ARC_MAX_DEPTH 50u

#define SCAN_ARC_PATH_MAX 256 /* sanitised path, bytes with the NUL */

/* What the walker may spend for one message, and what it has spent. */
struct scan_arc_budget {
	/* Limits; 0 means "no limit" except for max_depth (clamped to
	 * 1..SCAN_ARC_MAX_DEPTH). */
	uint64_t max_bytes;       /* decompressed bytes, all layers */
	uint32_t max_members;     /* entries, all layers */
	uint64_t max_member_size; /* bytes kept of one member */
	uint32_t max_ratio;       /* output / compressed input */
	uint64_t ratio_floor;     /* outputs up to this never trip the ratio */
	unsigned max_depth;       /* nested layers; the outermost is 1 */
	uint64_t deadline_ns;     /* CLOCK_MONOTONIC, 0: none */

	/* Spent (reset by scan_arc_budget_init). */
	uint64_t bytes;
	uint32_t members;
	unsigned layers;          /* layers opened */
	unsigned deepest;         /* largest depth opened */
	unsigned reported;        /* events already reported (1 << kind) */
};

/* Fill b with the defaults above, deadline none, nothing spent. */
void scan_arc_budget_init(struct scan_arc_budget *b);

enum scan_arc_event_kind {
	SCAN_ARC_EV_NONE,
	SCAN_ARC_EV_DEPTH,        /* limit archive-depth */
	SCAN_ARC_EV_BYTES,        /* limit archive-bytes */
	SCAN_ARC_EV_MEMBERS,      /* limit archive-members */
	SCAN_ARC_EV_MEMBER_SIZE,  /* limit archive-member-size */
	SCAN_ARC_EV_RATIO,        /* limit archive-ratio */
	SCAN_ARC_EV_TIME,         /* limit archive-time */
	SCAN_ARC_EV_CORRUPT,      /* malformed archive-corrupt */
	SCAN_ARC_EV_OVERLAP,      /* malformed archive-overlap */
	SCAN_ARC_EV_ENC_MEMBER,   /* encrypted encrypted-member */
	SCAN_ARC_EV_ENC_ARCHIVE,  /* encrypted encrypted-archive */
	SCAN_ARC_EV_COUNT
};

/* Which finding kind an event is. */
enum scan_arc_event_class {
	SCAN_ARC_CLASS_NONE,
	SCAN_ARC_CLASS_LIMIT,
	SCAN_ARC_CLASS_MALFORMED,
	SCAN_ARC_CLASS_ENCRYPTED,
};

struct scan_arc_event {
	enum scan_arc_event_kind kind; /* NONE: nothing happened */
	int first;                     /* 1 when this kind was not reported
					  before under the same budget */
	char detail[160];              /* human-readable, printable ASCII */
};

const char *scan_arc_event_name(enum scan_arc_event_kind k);
enum scan_arc_event_class scan_arc_event_class(enum scan_arc_event_kind k);

/* Member flags. */
#define SCAN_ARC_M_ENCRYPTED 0x01u /* data needs a password: len is 0 */
#define SCAN_ARC_M_CUT       0x02u /* stopped at a limit: data is a prefix */
#define SCAN_ARC_M_TRUNCATED 0x04u /* input ended or data was corrupt
				      inside the member: data is a prefix */
#define SCAN_ARC_M_PATH_ODD  0x08u /* the stored name was unsafe or not
				      valid UTF-8 (absolute, "..", control
				      characters, bidi overrides, too long)
				      and was rewritten */
#define SCAN_ARC_M_STREAM    0x10u /* the lone member of a compressed
				      stream (gzip, xz, ...): no name */
#define SCAN_ARC_M_LOCAL     0x20u /* found by the zip local-header pass
				      (hidden from the central directory) */

struct scan_arc_member {
	const char *path;      /* sanitised UTF-8, never empty, at most
				  SCAN_ARC_PATH_MAX - 1 bytes */
	const char *name;      /* last component of path */
	int64_t declared_size; /* from the header, -1 when unknown */
	const uint8_t *data;   /* the caller's buffer; may be NULL if len 0 */
	size_t len;
	unsigned flags;        /* SCAN_ARC_M_* */
	unsigned index;        /* 0, 1, ... within the layer */
};
/* path, name and data live until the next call on the walker (or a change
 * of the buffer). */

/* The caller's member buffer: zero-initialise, reuse for every member of
 * one layer (one per nesting level), free with scan_arc_buf_fini(). */
struct scan_arc_buf {
	uint8_t *p;
	size_t cap;
};

void scan_arc_buf_fini(struct scan_arc_buf *b);

struct scan_arc;

/* Does the walker open content of true type t? (archives, compressors,
 * iso9660 and zip-based documents; not arj, ace, udf, vhd, dmg, img) */
int scan_arc_handles(enum scan_ftype t);

/* Open d[0..n) (borrowed: must stay valid and unchanged until
 * scan_arc_close) as the layer at nesting depth `depth` (1 = a container
 * found in the message itself). b and buf are borrowed likewise.
 * Returns 0 and *out; or -ECANCELED with *ev set when the layer cannot be
 * walked: beyond the depth limit, deadline passed, byte or member budget
 * already spent, not readable (archive-corrupt, including a format
 * libarchive does not recognise), listing encrypted, overlapping zip
 * entries; or -ENOMEM. */
int scan_arc_open(struct scan_arc **out, const uint8_t *d, size_t n,
		  unsigned depth, struct scan_arc_budget *b,
		  struct scan_arc_buf *buf, struct scan_arc_event *ev);

/* Next member. Returns 1 with *m filled, 0 when the layer is done, or
 * -ENOMEM (buffer growth failed; the layer is stopped). *ev is set on
 * every call: kind NONE, or the event that happened during this call - it
 * concerns the member returned with it (encrypted-member, member-size,
 * corrupt/truncated data), or it stopped the layer (limits other than
 * member-size, corrupt listing, encrypted listing), in which case the next
 * call returns 0. Directories, links and special files are counted against
 * the member budget but not yielded. */
int scan_arc_next(struct scan_arc *w, struct scan_arc_member *m,
		  struct scan_arc_event *ev);

/* libarchive's names for the layer: format ("ZIP 2.0 (deflation)",
 * "GNU tar format", "raw") and outer filter ("gzip", "none"). Static or
 * walker storage, valid until scan_arc_close. */
const char *scan_arc_format(const struct scan_arc *w);
const char *scan_arc_filter(const struct scan_arc *w);

/* Close the layer. NULL ok. */
void scan_arc_close(struct scan_arc *w);

/* Sanitise a stored member name into out[outsz] (outsz >= 16): UTF-8
 * with invalid bytes, control characters and bidi overrides as '?',
 * '\' as '/', drive letters and leading '/' dropped, "." and empty
 * components dropped, ".." components as "__", longer than outsz - 1
 * bytes: head + "~" + tail (the extension survives), nothing left:
 * "(unnamed)". raw may be NULL. Returns 1 if anything was rewritten
 * other than '\' to '/', else 0. */
int scan_arc_sanitise_path(const char *raw, char *out, size_t outsz);

#endif
