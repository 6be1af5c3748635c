/*
 * scan/scan.h - the content pipeline: one message in, one verdict out.
 *
 * A scan_engine is one rule generation: the configuration (borrowed), the
 * compiled rule database and the policy. It is immutable after creation and
 * shared read-only by every scan thread. A scan_ctx is one thread's working
 * state (arena, Hyperscan scratch, hit table); create one per thread.
 *
 * scan_message() runs the whole path of design.md "The message path in
 * scan/" to completion: parse headers and MIME, decode each leaf (both ways
 * where the encoding is ambiguous), extract embedded files (uuencode,
 * BinHex, TNEF), identify true types, hash, one Hyperscan pass per buffer
 * plus text views (charset -> UTF-8, HTML -> text), then the route's policy.
 * After warm-up it allocates nothing outside the context's arena.
 */
#ifndef SLUICE_SCAN_SCAN_H
#define SLUICE_SCAN_SCAN_H

#include <stddef.h>
#include <stdint.h>

#include "scan/envelope.h"
#include "scan/rules.h"
#include "scan/verdict.h"

struct scan_config;
struct scan_db;
struct scan_engine;
struct scan_ctx;

/* Build an engine from cfg (borrowed: must outlive the engine). Loads the
 * signature files and directories the config names plus extra_sigdirs
 * (NULL-terminated list, may be NULL), adds the config's content rules and
 * spam keywords, and compiles (or loads from the rule cache) the database.
 * Signature lines that cannot be used are reported through diag (file,
 * line, reason) and skipped. Returns 0 or -errno with a message in err
 * (a rule that fails to compile is named there). */
int scan_engine_create(const struct scan_config *cfg,
		       const char *const *extra_sigdirs, scan_diag_fn diag,
		       void *diag_ctx, struct scan_engine **out, char *err,
		       size_t errsz);

/* What became of each signature file the engine loaded, one line per
 * file, "path: summary" (scan_sigfile_stats_format in scan/rules.h),
 * in load order. *lines borrowed from e. Returns the count. */
unsigned scan_engine_sig_report(const struct scan_engine *e,
				const char *const **lines);

/* Free an engine. No scan_ctx created from it may be in use. NULL ok. */
void scan_engine_free(struct scan_engine *e);

const struct scan_db *scan_engine_db(const struct scan_engine *e);
const struct scan_config *scan_engine_config(const struct scan_engine *e);

/* Per-thread context for engine e. NULL on allocation failure. */
struct scan_ctx *scan_ctx_create(const struct scan_engine *e);
void scan_ctx_free(struct scan_ctx *c);

/* libclamav counters of c (scan/clam.h): 0, or -ENOENT when the engine
 * runs without libclamav (clamav.enabled false, no signature path). */
struct clam_stats;
int scan_ctx_clam_stats(const struct scan_ctx *c, struct clam_stats *out);

/* Name of the limit finding of a scan that ran out of time. */
#define SCAN_TIME_FINDING "scan-time"

/* Time budget for the next scans on c: scan_message() stops when
 * CLOCK_MONOTONIC passes deadline_ns (0: no budget; it stays set for
 * later scans, so set it before each) and returns -ETIME with a limit
 * verdict (finding SCAN_TIME_FINDING, class limit, reason "scan time
 * budget exceeded"): the caller answers 451 and the sender retries.
 * Where it is checked: before each part, each Hyperscan pass, each
 * extracted file, and every 64 KiB inside the base64 and
 * quoted-printable decoders, the digests, the HTML reader and the search
 * for uuencoded files (scan/deadline.h). Not cut: MIME and header parsing of the whole
 * message, one header block's RFC 2047 decoding, one charset conversion
 * and one Hyperscan pass over one buffer (block mode: slicing a buffer
 * would lose matches across slices, streaming mode needs another
 * database), and one libclamav scan of one leaf (started only before
 * the deadline, bounded by limits.archive_time); a pass over 64 KiB or more is not started when it could not
 * end before the deadline even at the fastest rate seen on c. Overrun
 * bound: the longest of those steps, at most one buffer of
 * limits.decoded_bytes, dominated by the Hyperscan pass (with
 * the bundled rules about 3 ms per MiB: 56-190 ms for 20 MiB of text on
 * a shared 2-core machine). Measured with 8 MiB hostile bodies and a
 * 5 ms budget (release, tests/unit/test_edit): 5.0-5.5 ms, header
 * folding 11.6 ms; 5-11 ms while a fuzzer shares the machine
 * (test_deadline_hostile checks <= 25 ms). */
void scan_ctx_set_deadline(struct scan_ctx *c, uint64_t deadline_ns);

/* Scan msg[0..len) with envelope env and fill v (initialised here; pass
 * explain_buf/explain_cap to collect an --explain trace, else NULL/0).
 * env may be NULL, or have mail_from == NULL: the sender and recipients
 * are then taken from the From:, To: and Cc: headers.
 * A broken message is a verdict (malformed / limit findings), not an error.
 * Returns 0, -ETIME when the deadline set on c passed, or -errno when
 * the scan could not run at all (Hyperscan failure); v is then a limit
 * verdict that must not be delivered unscanned.
 * v's part table and strings live until the next call on c. */
int scan_message(struct scan_ctx *c, const uint8_t *msg, size_t len,
		 const struct scan_envelope *env, char *explain_buf,
		 size_t explain_cap, struct scan_verdict *v);

#endif
