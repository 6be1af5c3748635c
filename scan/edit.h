/*
 * scan/edit.h - apply a verdict's edits to the message that was scanned.
 *
 * The policy records modifiers as edits in struct scan_verdict (strip a
 * part and put a notice in its place, tag the subject, add a header,
 * notify). scan_edit_apply() produces the message that is stored and
 * delivered: the original bytes with the edits applied, written to a
 * caller-owned growable buffer.
 *
 *   - STRIP: the MIME part that holds the finding's part (for a file
 *     extracted from a uuencode/BinHex/TNEF body, an archive member or a
 *     part of a transfer-encoded message/rfc822: the MIME leaf that
 *     carried it) is replaced by a text/plain part whose body is the
 *     edit's notice (quoted-printable, so no line of it can be read as a
 *     delimiter); its headers say what was removed (Content-Type:
 *     text/plain; charset=utf-8, Content-Disposition: inline, a filename
 *     "<original>.removed.txt" when it had one, with the original's dots
 *     as '_' so the notice carries none of its extensions; RFC 2231 form
 *     when not plain ASCII). A part of an alternate view (MIME_F_ALT_VIEW)
 *     shares its bytes with parts of the primary reading: those are
 *     replaced. The root of a message (the whole message, or the message
 *     inside a message/rfc822 part) keeps its header fields except
 *     Content-* and gets the notice as its body. A preamble or epilogue
 *     is replaced by the notice text alone. Two strips of parts in the
 *     same MIME part replace it once (each distinct notice once); a strip
 *     inside a stripped part adds its notice to that part. The leaf that
 *     holds the rest of a message cut at the part limit is followed by
 *     the closing delimiters of its multiparts.
 *   - TAG_SUBJECT: the text plus one space is put before the first
 *     Subject: value (not twice when the subject already starts with it);
 *     a message without Subject: gets one with the tag alone.
 *   - ADD_HEADER: the line is added at the top of the header block, after
 *     any Received: lines the gateway prepended (it is a trace field of
 *     ours) and after an mbox "From " line; the policy has checked it is
 *     "Name: value" without CR/LF (its loader refuses other lines, and
 *     template variables are expanded with control characters replaced).
 *     Here control characters still become spaces, a line whose name is
 *     not printable ASCII is left out, and a value that is not ASCII is
 *     written as RFC 2047 encoded words (so is a tag).
 *   - NOTIFY: not an edit of the message; ignored here (the spool record
 *     carries it for the control plane).
 * Line ends written are CRLF; the bytes copied from the message keep
 * theirs (a bare-LF message comes out with CRLF only in the lines written
 * here; the gateway's SMTP server has normalized or refused bare LF). The
 * result is still a valid RFC 5322 message: edits never cut inside a
 * header field or a multipart delimiter, and nested multiparts keep their
 * boundaries. A message without a header block gets the added fields and
 * a blank line before its first byte.
 *
 * Cost: one pass over the message (the output is written once, in order);
 * no allocation but out->buf.
 *
 * Part ids are the ones scan_message() reported in v on context c for
 * this same message: call scan_edit_apply() after scan_message() returned
 * 0 and before the next scan on c (the MIME tree is still in c's arena),
 * with the same msg pointer and len (the tree points into it). v may be
 * a copy of the verdict. Not for a scan that returned -ETIME (answer 451).
 *
 * Thread-safety: uses c (the tree of its last scan and a scratch array
 * in it): call it on the thread that owns c, like scan_message().
 *
 * Memory: out->buf grows with realloc when the result does not fit and is
 * kept by the caller for the next message (no allocation once warm).
 * Errors: -ENOMEM (out left empty), -EINVAL (a part id that is not in the
 * last scan, or msg/len are not the buffer of the last scan). On error the caller must not store the unedited message as
 * if it were edited: the gateway answers 451.
 */
#ifndef SLUICE_SCAN_EDIT_H
#define SLUICE_SCAN_EDIT_H

#include <stddef.h>
#include <stdint.h>

#include "scan/verdict.h"

struct scan_ctx;

struct scan_edit_buf {
	uint8_t *buf;   /* owned by the caller; free() it when done */
	size_t len;     /* bytes of the result */
	size_t cap;
};

/* Does v change the message bytes (any STRIP, TAG_SUBJECT, ADD_HEADER)? */
int scan_edit_changes_message(const struct scan_verdict *v);

/* Apply v's edits to msg[0..len) into out (out->len set). When v changes
 * nothing, out->len is 0 and the original is the message to store.
 * Returns 0 or -ENOMEM / -EINVAL. */
int scan_edit_apply(struct scan_ctx *c, const uint8_t *msg, size_t len,
		    const struct scan_verdict *v, struct scan_edit_buf *out);

#endif
