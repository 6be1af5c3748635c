/*
 * scan/mime_int.h - helpers shared by header.c, mime_param.c and mime.c.
 * Private to those files; not part of the scan library's interface.
 */
#ifndef SLUICE_SCAN_MIME_INT_H
#define SLUICE_SCAN_MIME_INT_H

#include <stddef.h>
#include <stdint.h>

#include "scan/mime.h"

/* Longest charset name taken from an encoded word or parameter, + 1. */
#define CHARSET_NAME_MAX 64

static inline int is_wsp(uint8_t c)
{
	return c == ' ' || c == '\t';
}

static inline int is_fws(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static inline uint8_t to_lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c - 'A' + 'a') : c;
}

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

/* Decode `esc`XX hex escapes (RFC 2047 Q: '=', RFC 2231: '%'); in Q words
 * '_' is a space. Invalid escapes are kept as written. out (room for n)
 * gets the bytes; returns their count. */
size_t mime_hex_unescape(const uint8_t *s, size_t n, uint8_t *out,
			 uint8_t esc, int underscore_is_space);

#endif
