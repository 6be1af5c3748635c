/*
 * scan/scan_int.h - private to the pipeline (scan.c, scan_leaf.c,
 * scan_hits.c): the engine and per-thread context structs and the
 * functions the three files share. The public contract is scan/scan.h.
 *
 * scan.c       engine and context, trees of parts, nested messages, the
 *              message entry point
 * scan_leaf.c  one part: transfer decoding (both readings), true type,
 *              digests, Hyperscan over the bytes and the text views,
 *              embedded files, header views
 * scan_archive.c  containers: each member of an archive is a leaf
 * scan_macro.c Office macros and encryption: OLE2 directories, OOXML
 *              members (vbaProject.bin, [Content_Types].xml)
 * scan_clam.c  libclamav on the leaves clam_wants() selects
 * scan_hits.c  rule hits -> findings (virus, content, keyword
 *              expressions, spam weights)
 * edit.c       the verdict's edits applied to the scanned message (reads
 *              the top-level tree and the holder table kept here)
 */
#ifndef SLUICE_SCAN_SCAN_INT_H
#define SLUICE_SCAN_SCAN_INT_H

#include <stddef.h>
#include <stdint.h>

#include "scan/arena.h"
#include "scan/archive.h"
#include "scan/clam.h"
#include "scan/hsdb.h"
#include "scan/mime.h"
#include "scan/ole2.h"
#include "scan/scan.h"

#define MAX_EMBEDDED 256      /* extracted files recorded per message */
#define MAX_EMBED_DEPTH 4     /* uu in TNEF in BinHex ... */
#define MAX_ENV_RCPT 64       /* recipients taken from headers */
#define ARENA_OVERHEAD (8u << 20) /* tree, strings, views beyond decoded */

struct scan_engine {
	const struct scan_config *cfg;
	struct scan_db *db;
	/* "file: summary" per signature file (scan_engine_sig_report) */
	char **sig_report;
	unsigned nsig_report;
	struct mime_limits mlim;
	size_t decoded_max;
	/* libclamav (scan_clam.c): NULL when off (clamav.enabled false or
	 * no signature path). The cache belongs to this generation. */
	struct clam_engine *clam;
	struct clam_cache *clam_cache;
	enum clam_select clam_sel;
};

struct scan_ctx {
	const struct scan_engine *e;
	struct scan_arena *arena;
	struct scan_db_scratch *scratch;
	struct clam_ctx *clam; /* NULL when the engine has no libclamav */

	/* Time budget (scan_ctx_set_deadline): CLOCK_MONOTONIC ns, 0 none. */
	uint64_t deadline_ns;
	int timed_out; /* the deadline passed during this scan */
	/* Fastest Hyperscan pass seen on this context (picoseconds per byte
	 * over buffers of at least SCAN_DEADLINE_STRIDE, 0 before the
	 * first): a pass that cannot end before the deadline even at this
	 * rate is not started. */
	uint64_t hs_ps_per_byte;

	/* The message of the last scan and its top-level MIME tree (parts
	 * point into msg), kept for scan_edit_apply(). tree.root is NULL
	 * until a scan has parsed a message. */
	const uint8_t *msg;
	size_t msg_len;
	struct mime_message tree;
	/* holder[id]: for every part id reported in the verdict, the id of
	 * the part of `tree` that carries its bytes (itself for a part of
	 * the top-level tree; the MIME leaf for an extracted file or a part
	 * of an encoded nested message); -1 when unknown. Sized at context
	 * creation for every id the limits allow (no per-message malloc). */
	int *holder;
	unsigned holder_cap;
	uint16_t *edit_mask; /* edit.c scratch: STRIP edits per tree part */

	/* Archives (scan_archive.c): the message's budget and one member
	 * buffer per nesting level, kept warm across messages. */
	struct scan_arc_budget arc;
	struct scan_arc_buf arc_buf[SCAN_ARC_MAX_DEPTH + 2];
	/* OLE2 directory reader's scratch (scan_macro.c), 121 KiB. */
	struct scan_ole2_work *ole2;

	/* Per message. */
	struct scan_verdict *v;
	unsigned parts_cap;
	size_t decoded_total;
	int decoded_limit_hit;
	unsigned nembedded;
	int next_id; /* next free part id (embedded files, nested messages) */
	int id_base; /* id of part 0 of the tree being scanned */
	const char *path_prefix; /* path of the part holding that tree, or
				    NULL for the message itself */
	unsigned depth_base; /* nesting depth of that tree's root */
	struct scan_envelope env;
	const char *rcpt[MAX_ENV_RCPT];
	const char *subject;

	/* What each hit matched, filled as buffers are scanned (--explain
	 * and finding details: "the rule and bytes that triggered it"). */
	unsigned nhits_seen;
	const char *hit_view[SCAN_DB_MAX_HITS];
	char hit_bytes[SCAN_DB_MAX_HITS][72];
};

struct leaf {
	int id;
	const char *path;
	const char *content_type; /* declared */
	const char *filename;
	const char *charset;
	unsigned flags;
	unsigned depth;       /* MIME depth within the current tree */
	unsigned embed_depth;
	unsigned arc_depth;   /* archive layers around it (0: not a member) */
	int second_view;      /* another reading of a part already listed */
	int in_office;        /* a member of a zip-based document: its
				 macros are reported on the document */
};

/* Has the deadline passed? Reads the clock (vDSO, ~20 ns): call it per
 * part, per buffer or every SCAN_DEADLINE_STRIDE bytes of a loop. */
int pipe_time_up(struct scan_ctx *c);
/* CLOCK_MONOTONIC in ns. */
uint64_t pipe_now_ns(void);
/* Record that part `id` is carried by the tree part of `carrier` (an id
 * already recorded). Whatever hands out a part id (c->next_id++) must call
 * it: scan_edit_apply() refuses a STRIP of an id without a holder
 * (-EINVAL, and the gateway answers 451 to that message every time). */
void pipe_set_holder(struct scan_ctx *c, int id, int carrier);

/* scan_leaf.c */
/* Record the decoded-bytes limit (once) and return -ENOMEM. */
int pipe_arena_full(struct scan_ctx *c, int part, const char *what);
/* Next entry of the verdict's part table, or NULL when it is full. */
struct scan_part_info *pipe_part_info(struct scan_ctx *c, int id);
/* Id and path of p in the verdict (nested messages are renumbered). */
int pipe_part_id(const struct scan_ctx *c, const struct mime_part *p);
const char *pipe_part_path(struct scan_ctx *c, const struct mime_part *p);
/* Scan one MIME leaf / one part's header block. 0 or -errno. */
int pipe_mime_leaf(struct scan_ctx *c, const struct mime_part *p);
int pipe_headers(struct scan_ctx *c, const struct mime_part *p);

/* Everything done to the decoded bytes of one leaf (type, digests,
 * Hyperscan, text views, embedded files, archive members). 0 or -errno. */
int pipe_leaf(struct scan_ctx *c, const struct leaf *l, const uint8_t *d,
	      size_t n);

/* scan_archive.c: the message's archive budget from the limits and the
 * deadline (call once per message, after the deadline is known); open
 * leaf l's bytes as an archive layer and scan each member as a leaf.
 * Walker events become limit / malformed / encrypted findings. 0, or
 * -ETIME / -ENOMEM (arena) to stop the scan. */
void pipe_archive_begin(struct scan_ctx *c);
int pipe_archive(struct scan_ctx *c, const struct leaf *l, const uint8_t *d,
		 size_t n, enum scan_ftype ft);

/* scan_macro.c: Office macros and encryption found by our own readers.
 * pipe_ole2: leaf l is OLE2 (d[0..n)): a VBA project or XLM macro sheet
 * is a macro finding `macro`, encryption an encrypted finding
 * `encrypted-document`, each once per part; --explain shows what the
 * directory held. pipe_office_member: member m (path mpath, bytes
 * d[0..n)) of zip-based container l of type ft: a vbaProject.bin or a
 * macro-enabled [Content_Types].xml, or in an ODF document a member
 * under Basic/ or Scripts/, is a macro finding on l. Neither fails. */
void pipe_ole2(struct scan_ctx *c, const struct leaf *l, const uint8_t *d,
	       size_t n);
void pipe_office_member(struct scan_ctx *c, const struct leaf *l,
			enum scan_ftype ft, const char *mpath,
			const uint8_t *d, size_t n);
/* Does container type ft hold Office members (zip, OOXML, ODF)? */
int pipe_office_container(enum scan_ftype ft);

/* scan_clam.c: build e->clam from the config's `clamav:` section and every
 * signature path (0 with e->clam NULL when disabled or nothing to load;
 * -errno with err set); free it. pipe_clam: libclamav on leaf l (bytes
 * d[0..n), true type ft, SHA-256 for the verdict cache) when selected;
 * results become findings; a virus the Hyperscan path found in this leaf
 * or in a part inside it (ids first_inner .. c->next_id - 1: call it
 * after the embedded files and archive members) is not reported twice.
 * unread: the archive walker could not read all of it (a malformed
 * finding): sent whatever the selection. 0 or -ETIME. */
int pipe_clam_engine_create(struct scan_engine *e,
			    const char *const *extra_sigdirs,
			    scan_diag_fn diag, void *diag_ctx, char *err,
			    size_t errsz);
void pipe_clam_engine_free(struct scan_engine *e);
int pipe_clam(struct scan_ctx *c, const struct leaf *l, const uint8_t *d,
	      size_t n, enum scan_ftype ft, const uint8_t sha256[32],
	      int first_inner, int unread);

/* scan.c: parse d[0..n) of leaf l as a nested message and scan it. */
int pipe_nested_message(struct scan_ctx *c, const struct leaf *l,
			const uint8_t *d, size_t n);

/* scan_hits.c: turn the scratch's hits into findings; *spam_score gets
 * the keyword weights (each rule once per message). */
void pipe_hits_to_findings(struct scan_ctx *c, int *spam_score);

#endif
