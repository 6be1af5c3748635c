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

struct scan_envelope {
	const char *mail_from;        /* "" = null sender */
	const char *const *rcpt_to;   /* nrcpt addresses */
	size_t nrcpt;
	const char *client_addr;      /* textual IPv4/IPv6, or NULL */
	const char *helo;             /* or NULL */
};

#endif
