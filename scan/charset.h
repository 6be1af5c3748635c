/*
 * scan/charset.h - convert text in a declared charset to UTF-8.
 *
 * Used for RFC 2047 encoded words, RFC 2231 parameter values and text
 * parts. Conversion goes through glibc iconv, except for US-ASCII, UTF-8
 * and labels that only say "unknown" (unknown-8bit, x-unknown ...), which
 * are handled directly, as is all-ASCII input in a charset of an
 * ASCII-compatible family (iso-8859-*, windows-*, koi8*, euc-* ...; such
 * input is copied without asking iconv, so it is never -EINVAL). Charset names are case-insensitive; common aliases (latin1,
 * cp1252, gb2312 -> GBK, ks_c_5601-1987 ...) are mapped. Names with bytes
 * outside [A-Za-z0-9._:()+-] are never passed to iconv (they are unknown).
 *
 * Bad input never fails a conversion: each invalid or truncated sequence
 * becomes U+FFFD and conversion continues; the same holds for the direct
 * UTF-8/ASCII paths (8-bit bytes in "us-ascii" are read as UTF-8).
 *
 * Thread-safety: each thread keeps a small cache of open iconv
 * descriptors (including negative entries for unknown names), so after
 * warm-up a conversion does no malloc. A thread that converted must call
 * scan_charset_thread_fini() before it exits.
 */
#ifndef SLUICE_SCAN_CHARSET_H
#define SLUICE_SCAN_CHARSET_H

#include <stddef.h>
#include <stdint.h>

#include "scan/arena.h"

/* Convert in[0..n) from `charset` (NULL or "" = US-ASCII) to UTF-8.
 * *out is an arena buffer, NUL-terminated after *outlen bytes (the output
 * may itself contain NUL bytes). Returns:
 *   0        converted (invalid sequences replaced by U+FFFD);
 *   -EINVAL  charset unknown: *out and *outlen still hold an unchanged copy
 *            of the input, so the caller can scan it;
 *   -ENOMEM  the arena is full (*out NULL, *outlen 0). */
int scan_charset_to_utf8(const char *charset, const uint8_t *in, size_t n,
			 struct scan_arena *a, uint8_t **out, size_t *outlen);

/* Normalise a charset label: trim whitespace and quotes, lower-case, map
 * aliases to the name given to iconv. Writes a NUL-terminated name of at
 * most bufsz bytes. Returns 0, or -EINVAL for an empty, too long or
 * unsafe name. Exposed for tests and for reporting. */
int scan_charset_normalize(const char *charset, char *buf, size_t bufsz);

/* Close the calling thread's cached iconv descriptors. Safe to call more
 * than once and on a thread that never converted. */
void scan_charset_thread_fini(void);

/* Length of the valid UTF-8 sequence at p[0..n) (1..4), or 0 if it is
 * invalid (overlong, surrogate, above U+10FFFF, truncated). n >= 1. */
size_t scan_utf8_seq_len(const uint8_t *p, size_t n);

#endif
