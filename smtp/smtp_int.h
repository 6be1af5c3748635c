/*
 * smtp/smtp_int.h - internals shared by server.c (session, command table),
 * body.c (chunk pool, transaction storage, DATA/BDAT content decoder,
 * Received: header) and addr.c (paths and ESMTP parameters). Not a public
 * header: callers use smtp/server.h.
 */
#ifndef SLUICE_SMTP_INT_H
#define SLUICE_SMTP_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "smtp/server.h"

/* ---- Chunks and the pool (body.c) ---- */

struct smtp_chunk {
	struct smtp_seg seg;       /* public view; seg.next links a list */
	struct smtp_pool *pool;
	unsigned char buf[SMTP_CHUNK_SIZE];
};

struct smtp_chunk *smtp_chunk_get(struct smtp_pool *p);
void smtp_chunk_put(struct smtp_chunk *c);

/* ---- One transaction: MAIL .. end of data (body.c) ----
 * Lives in the first chunk of its own arena, so a message handed up is
 * self-contained (smtp_message_free() releases it without the session). */
struct smtp_txn {
	struct smtp_message msg;       /* first: the public view */
	struct smtp_pool *pool;
	struct smtp_chunk *arena;      /* arena chunks, newest first */
	size_t arena_off;              /* used bytes of arena->buf */
	struct smtp_chunk *body_head, *body_tail;
	uint64_t body_size;            /* client bytes stored */
	struct smtp_rcpt *rcpt_tail;
	struct smtp_seg received;      /* our header, first segment */
	const char *route;             /* first recipient's policy route */
};

/* A new transaction (NULL when the pool is exhausted). */
struct smtp_txn *smtp_txn_new(struct smtp_pool *p);
void smtp_txn_free(struct smtp_txn *t);  /* NULL ok */
/* n bytes (n <= SMTP_CHUNK_SIZE / 2) from the arena, 8-aligned, or NULL. */
void *smtp_txn_alloc(struct smtp_txn *t, size_t n);
char *smtp_txn_strdup(struct smtp_txn *t, const char *s, size_t n);
/* Append message bytes; -ENOMEM when the pool is exhausted. */
int smtp_txn_append(struct smtp_txn *t, const void *p, size_t n);
/* Drop the message bytes stored so far (keeps the envelope). */
void smtp_txn_drop_body(struct smtp_txn *t);

/* ---- The content decoder (body.c) ----
 * DATA: dot-unstuffing, end at CRLF "." CRLF where both CRLFs are real;
 * BDAT: raw bytes, the caller counts the chunk. Both: bare LF / bare CR
 * rejected or normalized (cfg->bare_lf), line lengths, Received: fields
 * counted in the header section, the size cap. */
enum smtp_body_st { SB_BOL, SB_MID, SB_CR, SB_DOT, SB_DOTCR };

#define SMTP_BODY_BARE     0x01u  /* bare LF or CR (reject policy) */
#define SMTP_BODY_LONGLINE 0x02u
#define SMTP_BODY_TOOBIG   0x04u
#define SMTP_BODY_LOOP     0x08u
#define SMTP_BODY_NOMEM    0x10u

struct smtp_body {
	const struct smtp_config *cfg;
	struct smtp_txn *txn;          /* NULL: discard (BDAT after errors) */
	enum smtp_body_st st;
	bool dot;                      /* DATA framing */
	bool bol_real;                 /* last line end was a real CRLF */
	uint64_t linelen;              /* wire octets of the current line */
	bool in_header, hdr_bol;
	int hdr_match;                 /* chars of "received:" matched, -1 */
	unsigned received;
	unsigned flags;                /* SMTP_BODY_* */
};

void smtp_body_begin(struct smtp_body *b, const struct smtp_config *cfg,
		     struct smtp_txn *txn, bool dot);
/* Feed DATA bytes: returns bytes consumed; *done at end of data (the
 * terminating CRLF.CRLF consumed). For BDAT, consumes all n. */
size_t smtp_body_feed(struct smtp_body *b, const unsigned char *p, size_t n,
		      bool *done);
/* The message ends (BDAT LAST): settle a pending CR. */
void smtp_body_end(struct smtp_body *b);

/* Build the Received: header into the transaction (its first segment)
 * and link data = received -> body. 0 or -ENOMEM. */
int smtp_txn_finish(struct smtp_txn *t, const struct smtp_config *cfg,
		    const char *queue_id, int64_t wall, bool tls);

/* ---- Paths and parameters (addr.c) ---- */

struct smtp_path {
	const char *mbox;      /* the mailbox (after any source route) */
	size_t mbox_len;
	const char *domain;    /* after the '@' (NULL: none) */
	size_t domain_len;
	bool null;             /* <> */
	bool route;            /* @a,@b: source route present */
	bool special;          /* % or ! in the local part, or @ % ! quoted */
	bool extra_at;         /* a second '@' */
	bool eightbit;         /* non-ASCII bytes */
	bool literal;          /* domain is an address literal */
};

/* Parse "<path>" at the start of s (len bytes). *used gets the bytes up to
 * and including '>'. allow_utf8: UTF-8 in local part and domain (checked
 * for validity). 0, or -EINVAL for a syntax error (extra_at alone is not
 * one: the caller decides). */
int smtp_parse_path(const char *s, size_t len, bool allow_utf8,
		    struct smtp_path *out, size_t *used);

/* RFC 3461 xtext: printable ASCII except '+' and '=', "+XX" upper hex. */
bool smtp_xtext_ok(const char *s, size_t n);
/* Well-formed UTF-8 (no overlongs, no surrogates). */
bool smtp_utf8_ok(const unsigned char *s, size_t n);
/* An EHLO/HELO argument: a domain or an address literal. */
bool smtp_helo_ok(const char *s, size_t n);

#endif
