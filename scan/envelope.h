/*
 * scan/envelope.h - the SMTP envelope a message arrived with.
 *
 * Borrowed everywhere: the caller owns every string and keeps it alive for
 * the duration of the scan. Addresses are as given in MAIL FROM / RCPT TO
 * without angle brackets ("" for the null sender).
 */
#ifndef SLUICE_SCAN_ENVELOPE_H
#define SLUICE_SCAN_ENVELOPE_H

#include <stddef.h>

struct mime_part;
struct scan_arena;

struct scan_envelope {
	const char *mail_from;        /* "" = null sender */
	const char *const *rcpt_to;   /* nrcpt addresses */
	size_t nrcpt;
	const char *client_addr;      /* textual IPv4/IPv6, or NULL */
	const char *helo;             /* or NULL */
};

/* Offline scanning has no SMTP envelope: take the sender from the first
 * address of From: and the recipients from To: and Cc: of the message
 * root (decoded headers; "Name" <addr> and bare addr forms, groups and
 * comments without an address skipped). Fills *env; recipients go to
 * rcpt[0..maxrcpt) (further ones are dropped) and env->rcpt_to points to
 * rcpt. Strings are allocated from a. mail_from is "" when there is no
 * From address. Returns 0, or -ENOMEM when the arena ran out (env then
 * holds what was found so far). */
int scan_envelope_from_headers(const struct mime_part *root,
			       struct scan_arena *a, struct scan_envelope *env,
			       const char **rcpt, size_t maxrcpt);

#endif
