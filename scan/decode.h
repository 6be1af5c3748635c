/*
 * scan/decode.h - transfer decoders and embedded-file extractors.
 *
 * Decoders turn an encoded body into bytes. They are tolerant the way mail
 * clients are (line breaks, whitespace and garbage are skipped and counted,
 * never fatal) and fast: base64 runs at >= 1 GB/s per core. They write into
 * a caller-supplied buffer, allocate nothing and never read or write out of
 * bounds whatever the input.
 *
 * Extractors find files inside a body (uuencode blocks in text, BinHex 4.0,
 * TNEF winmail.dat) and hand each one to a callback; the file bytes are
 * allocated from the arena and live until its reset.
 *
 * Statistics: every function that takes a `struct scan_decode_stats *st`
 * overwrites all of *st with the figures for that one call (st may be
 * NULL). Extractors add up the figures of every block they decode.
 *
 * All functions are reentrant.
 */
#ifndef SLUICE_SCAN_DECODE_H
#define SLUICE_SCAN_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "scan/arena.h"

struct scan_decode_stats {
	size_t garbage;   /* input bytes skipped as invalid (not whitespace) */
	int truncated;    /* input ended inside an encoded unit */
	int bad_padding;  /* base64: data after '=' padding, or bad padding */
};

/* Upper bound on scan_b64_decode() output for n input bytes. */
static inline size_t scan_b64_decoded_max(size_t n)
{
	return n / 4 * 3 + 3;
}

/* Decode base64 in[0..n) into out (room for scan_b64_decoded_max(n)).
 * Whitespace is skipped; other invalid bytes are skipped and counted in
 * st->garbage. Data after padding continues to decode (as clients do) and
 * sets st->bad_padding. Returns bytes written. st may be NULL. */
size_t scan_b64_decode(const uint8_t *in, size_t n, uint8_t *out,
		       struct scan_decode_stats *st);

/* Details of scan_b64_decode():
 * - whitespace is CR, LF, SP and HT; every other non-alphabet byte but '='
 *   is garbage;
 * - "xx==" and "xxx=" end a quantum with 1 and 2 bytes; '=' anywhere else
 *   (quantum start, after one character, one '=' too many), a missing
 *   second '=' at the end, and alphabet characters after padding set
 *   bad_padding; decoding goes on after padding;
 * - input ending inside a quantum sets truncated; the complete bytes of
 *   that quantum (2 chars: 1 byte, 3 chars: 2 bytes) are still written.
 * Uses AVX2 when the CPU has it (checked at run time). */

/* As scan_b64_decode() without SIMD, byte for byte the same result. For
 * tests and benchmarks (differential checks, portable speed). */
size_t scan_b64_decode_portable(const uint8_t *in, size_t n, uint8_t *out,
				struct scan_decode_stats *st);

/* Decode quoted-printable (RFC 2045 6.7) into out (room for n bytes).
 * Soft line breaks are removed; invalid escapes are kept literally and
 * counted as garbage. Returns bytes written. st may be NULL.
 * Details: "=XX" accepts either case; a soft break is '=', optional SP/HT,
 * then CRLF, LF, CR or the end of the input; SP/HT at the end of a line
 * (or of the input) is removed, escaped "=20" / "=09" is kept; hard line
 * breaks are copied unchanged (CRLF stays CRLF, LF stays LF). */
size_t scan_qp_decode(const uint8_t *in, size_t n, uint8_t *out,
		      struct scan_decode_stats *st);

/* Called once per extracted file. name is NUL-terminated (may be ""),
 * data/len in the arena. Return 0 to continue, non-zero to stop: the
 * extractor then returns at once with the number of files emitted
 * (including this one). */
typedef int (*scan_extract_fn)(void *ctx, const char *name,
			       const uint8_t *data, size_t len);

/* Find "begin NNN name" ... "end" blocks in text and decode them.
 * Returns the number of files emitted, -ENOMEM when the arena ran out
 * (files emitted so far stand). A block without "end" is still emitted,
 * with st->truncated set.
 * Details: "begin" must start a line, NNN is 1-6 octal digits, the name is
 * the rest of the line without trailing whitespace. Data lines shorter
 * than their length character says (stripped trailing spaces) are padded
 * with zeros; '`' and ' ' are both zero. Lines that are not data lines
 * inside a block are skipped and counted in st->garbage. A block also ends
 * at the next begin line. "begin-base64 NNN name" ... "====" blocks are
 * decoded as base64. Memory: exactly the decoded size of each file. */
int scan_uu_extract(const uint8_t *text, size_t n, struct scan_arena *a,
		    scan_extract_fn fn, void *ctx, struct scan_decode_stats *st);

/* Decode a body that is a whole uuencoded stream (CTE x-uuencode): as
 * scan_uu_extract() but tolerant of a missing "begin" line. */
int scan_uu_decode_body(const uint8_t *in, size_t n, struct scan_arena *a,
			scan_extract_fn fn, void *ctx,
			struct scan_decode_stats *st);

/* Find a BinHex 4.0 stream "(This file must be converted with BinHex"
 * ... ':' data ':' in text, decode (6-bit, RLE 0x90, header, CRCs) and emit
 * the data fork and, if non-empty, the resource fork ("name.rsrc").
 * Returns files emitted, 0 when there is no BinHex in the text, -EINVAL
 * when a stream is corrupt (bad CRC or length: whatever was decoded is
 * still emitted first), -ENOMEM when the arena ran out.
 * Details: every stream in the text is decoded (each after its own
 * banner). The data fork is emitted even when empty. Forks are allocated
 * at min(declared length, bytes the stream really decodes to), so a
 * header's lengths never drive allocation. st->truncated: the data ended
 * before the declared lengths or without the closing ':'. */
int scan_binhex_extract(const uint8_t *text, size_t n, struct scan_arena *a,
			scan_extract_fn fn, void *ctx,
			struct scan_decode_stats *st);

/* Is data a TNEF stream (signature 0x223E9F78)? */
int scan_tnef_detect(const uint8_t *data, size_t n);

/* Parse a TNEF stream and emit each attachment (attAttachTitle or the long
 * filename from the MAPI properties, attAttachData). Returns files emitted,
 * -EINVAL when the stream is corrupt (files emitted so far stand),
 * -ENOMEM when the arena ran out.
 * Details: name = PR_ATTACH_LONG_FILENAME, else attAttachTitle, else
 * PR_ATTACH_FILENAME, else "" (UTF-16 names converted to UTF-8); bytes =
 * attAttachData, else PR_ATTACH_DATA_BIN; an attachment without bytes is
 * not emitted. Attachments of embedded messages (PR_ATTACH_DATA_OBJ
 * holding a TNEF stream) are emitted too, up to 4 levels deep. Corrupt:
 * not TNEF, a bad checksum (parsing goes on), a record or property list
 * running past its end (a truncated last record is dropped), an unknown
 * MAPI property type or a bad attribute level. The bytes are copied into
 * the arena; nothing is allocated beyond the input size. */
int scan_tnef_extract(const uint8_t *data, size_t n, struct scan_arena *a,
		      scan_extract_fn fn, void *ctx);

#endif
