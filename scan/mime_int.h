/*
 * scan/mime_int.h - helpers shared by header.c and mime.c. Private to
 * those two files; not part of the scan library's interface.
 */
#ifndef SLUICE_SCAN_MIME_INT_H
#define SLUICE_SCAN_MIME_INT_H

#include <stddef.h>
#include <stdint.h>

#include "scan/mime.h"

/* Limits with zero fields replaced by the defaults and depth capped. */
void mime_limits_resolve(const struct mime_limits *in,
			 struct mime_limits *out);

/* Parse the header block at the start of s[0..len) into p: headers,
 * nheaders, header_raw, body, body_len; sets MIME_F_NO_HEADERS when there
 * is no header field and MIME_F_TRUNCATED when header_bytes cut the block
 * (the rest, from the start of the line that crossed the limit, is the
 * body). allow_from: a leading mbox "From " line is skipped (finding).
 * Findings are attributed to p->id. Returns 0 or -ENOMEM. */
int mime_headers_parse(struct mime_part *p, const uint8_t *s, size_t len,
		       const struct mime_limits *lim, int allow_from,
		       struct scan_arena *a, struct scan_verdict *v);

/* ASCII case-insensitive compare of s[0..n) with the C string lit. */
int mime_ieq(const char *s, size_t n, const char *lit);

/* Lower-cased NUL-terminated arena copy. NULL when the arena is full. */
char *mime_lower_dup(struct scan_arena *a, const char *s, size_t n);

/* RFC 2047/2231 aware: does s[0..n) contain "=?" ? */
int mime_has_encoded_word(const char *s, size_t n);

/* Replace NUL bytes of s[0..n) by U+FFFD into a new arena C string;
 * *had_nul is set when one was found. NULL when the arena is full. */
char *mime_nul_to_fffd(struct scan_arena *a, const char *s, size_t n,
		       int *had_nul);

#endif
