/*
 * spool/spool_rec.h - the spool record: what one accepted message (or one
 * "done" mark) looks like on disk, queue ids, encode and parse.
 *
 * Layout (little-endian; docs/decisions.md "Spool record format"):
 *
 *   0  magic    u32  "SLSP"
 *   4  crc      u32  CRC-32C of bytes [8, len)
 *   8  version  u16  SPOOL_REC_VERSION
 *  10  type     u16  enum spool_rec_type
 *  12  len      u32  whole record, header included
 *  16  qid      16 bytes of the queue id alphabet
 *  32  body     by type, every length-prefixed item checked on parse
 *
 * The framing (magic, crc, version, type, len) never changes between
 * versions, so a reader can skip a record of a version it does not know
 * after checking its CRC. Strings are u16 length + bytes + NUL (so parsed
 * strings are C strings pointing into the record: no copy); a string may
 * not contain NUL.
 *
 * Message record body: flags u32 (bit 0: message bytes zstd-compressed);
 * received_us, spooled_us u64 (microseconds since the epoch); client,
 * helo, mail_from; SIZE u64 (0: not given), BODY u8, SMTPUTF8 u8, RET u8,
 * ENVID; u32 recipient count, each address, NOTIFY u8, ORCPT; verdict,
 * action, area, route, policy, reason; u32 count + finding lines; u32
 * count + action lines; original length u64, SHA-256 of the original
 * bytes, stored length u64, stored bytes. The record ends exactly there.
 * Done record body: done_us u64, reason.
 *
 * Thread-safety: spool_enc is per thread; everything else is reentrant.
 */
#ifndef SLUICE_SPOOL_SPOOL_REC_H
#define SLUICE_SPOOL_SPOOL_REC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SPOOL_REC_MAGIC 0x50534c53u /* bytes "SLSP" */
#define SPOOL_REC_VERSION 1
#define SPOOL_REC_HDR 16            /* magic crc version type len */
#define SPOOL_REC_MIN 32            /* header + queue id */
#define SPOOL_REC_MAX (1u << 30)    /* 1 GiB: larger lengths are corrupt */
#define SPOOL_QID_LEN 16
#define SPOOL_STR_MAX 65535
#define SPOOL_LIST_MAX 100000       /* recipients, findings, actions */

enum spool_rec_type {
	SPOOL_REC_MESSAGE = 1,
	SPOOL_REC_DONE = 2,
};

enum spool_body_type { /* MAIL FROM BODY= */
	SPOOL_BODY_NONE,
	SPOOL_BODY_7BIT,
	SPOOL_BODY_8BITMIME,
	SPOOL_BODY_BINARYMIME,
};

enum spool_ret { /* MAIL FROM RET= (RFC 3461) */
	SPOOL_RET_NONE,
	SPOOL_RET_FULL,
	SPOOL_RET_HDRS,
};

/* RCPT TO NOTIFY= bits (RFC 3461); 0 = not given. */
#define SPOOL_NOTIFY_NEVER 1u
#define SPOOL_NOTIFY_SUCCESS 2u
#define SPOOL_NOTIFY_FAILURE 4u
#define SPOOL_NOTIFY_DELAY 8u

#define SPOOL_F_ZSTD 1u /* message bytes stored zstd-compressed */

struct spool_rcpt {
	const char *addr;  /* RCPT TO address, without <> */
	unsigned notify;   /* SPOOL_NOTIFY_* bits */
	const char *orcpt; /* ORCPT= as given ("rfc822;x@y"), or "" */
};

/* One message. For encoding every pointer is borrowed from the caller
 * (NULL strings are written as ""); for a parsed record they point into
 * the record buffer or the spool_rec's arrays. */
struct spool_msg {
	char qid[SPOOL_QID_LEN + 1];
	uint64_t received_us, spooled_us;
	const char *client, *helo, *mail_from;
	uint64_t size_param; /* SIZE=; 0: not given */
	enum spool_body_type body;
	bool smtputf8;
	enum spool_ret ret;
	const char *envid;
	const struct spool_rcpt *rcpts;
	unsigned nrcpts;
	/* The verdict: class name ("clean", "virus", ...), disposition
	 * ("deliver", "quarantine", "delete"), quarantine area or "", the
	 * route and policy, the reason line, findings and extra actions
	 * (edits, notifications) as text lines. */
	const char *verdict, *action, *area, *route, *policy, *reason;
	const char *const *findings;
	unsigned nfindings;
	const char *const *actions;
	unsigned nactions;
	/* Encode: the message bytes. Parse: the bytes when stored plain,
	 * NULL when compressed (use spool_msg_body()); data_len is always
	 * the original length. */
	const uint8_t *data;
	size_t data_len;
	/* Parse only. */
	uint32_t flags;
	uint8_t sha256[32];
	const uint8_t *stored;
	size_t stored_len;
};

/* A parsed record; free the arrays with spool_rec_clear(). */
struct spool_rec {
	enum spool_rec_type type;
	unsigned version;
	size_t len;
	struct spool_msg msg;  /* SPOOL_REC_MESSAGE (qid set for both) */
	uint64_t done_us;      /* SPOOL_REC_DONE */
	const char *done_reason;
	void *alloc_[2];       /* private */
};

/* --- Queue ids ----------------------------------------------------------
 * 16 characters of Crockford base32 (0-9 A-Z without I L O U, which sort
 * in ASCII order) over 80 bits: 44 bits of milliseconds since the epoch,
 * 8 bits of generator id, 28 bits of counter. Ids of one generator are
 * strictly increasing; ids of different generators never collide; ids
 * sort by time. One generator per thread (no shared state). */
struct spool_qid_gen {
	uint64_t last_ms;
	uint32_t counter;
	uint8_t id;
};

/* Start a generator with id 0..255. floor: the newest queue id already in
 * the spool (spool_reader_max_qid) or NULL: every id made is newer even
 * if the clock went back across a restart. */
void spool_qid_gen_init(struct spool_qid_gen *g, unsigned id,
			const char *floor);
/* Next id into out (17 bytes, NUL-terminated). now_ms: the caller's
 * clock (milliseconds since the epoch); a clock going back is ignored. */
void spool_qid_next(struct spool_qid_gen *g, uint64_t now_ms,
		    char out[SPOOL_QID_LEN + 1]);
/* 0 when s is exactly 16 characters of the alphabet, else -EINVAL. */
int spool_qid_check(const char *s);
/* The time part of a valid id, in milliseconds since the epoch. */
uint64_t spool_qid_ms(const char *qid);

/* --- Encoding ----------------------------------------------------------- */

/* Per-thread encoder: zstd context and the compression settings. level 0:
 * never compress; 1..19: compress message bytes longer than
 * compress_above (kept plain if compression does not make them smaller).
 * NULL on allocation failure. spool_enc_free accepts NULL. */
struct spool_enc *spool_enc_create(int level, size_t compress_above);
void spool_enc_free(struct spool_enc *e);

/* An upper bound of the encoded size of m (plain or compressed): a buffer
 * this large always suffices. SIZE_MAX when m cannot be encoded (too many
 * or too long items, total above SPOOL_REC_MAX). */
size_t spool_rec_bound(const struct spool_msg *m);

/* Encode m as a message record into buf[0..cap): compresses per e (may be
 * NULL: plain), computes the SHA-256 of the bytes and the CRC. Sets *len.
 * Errors: -EINVAL (a bad queue id, a string with NUL or longer than
 * SPOOL_STR_MAX, too many items), -EFBIG (above SPOOL_REC_MAX), -ENOSPC
 * (cap too small; spool_rec_bound() is enough), -ENOMEM. */
int spool_enc_message(struct spool_enc *e, const struct spool_msg *m,
		      uint8_t *buf, size_t cap, size_t *len);

/* Encode a done mark for qid. Same errors. Fits in 64 + strlen(reason). */
int spool_rec_encode_done(const char *qid, uint64_t done_us,
			  const char *reason, uint8_t *buf, size_t cap,
			  size_t *len);

/* --- Parsing ------------------------------------------------------------ */

/* Read the framing of p[0..avail) (avail >= SPOOL_REC_HDR): 0 with type,
 * version and len set when the magic is right and SPOOL_REC_MIN <= len <=
 * SPOOL_REC_MAX; -EINVAL otherwise. Does not check the CRC. */
int spool_rec_frame(const uint8_t *p, size_t avail, unsigned *type,
		    unsigned *version, uint32_t *len);

/* Parse one whole record p[0..len): framing, CRC, version, every length
 * and count against what is left, strings, the exact end. On success out
 * borrows from p (keep p until spool_rec_clear). Errors, each with one line
 * in err: -EBADMSG (bad magic, length or CRC: not a record),
 * -EPROTONOSUPPORT (a version this build does not know), -EINVAL (a
 * checked record whose contents are invalid), -ENOMEM. */
int spool_rec_parse(const uint8_t *p, size_t len, struct spool_rec *out,
		    char *err, size_t errsz);
void spool_rec_clear(struct spool_rec *r);

/* The original message bytes of a parsed message: *out = m->data when
 * stored plain (*owned = NULL), else a decompressed malloc'd copy that
 * the caller frees through *owned. Checks the length and the SHA-256.
 * Errors: -EBADMSG (decompression failed, length or digest mismatch),
 * -ENOMEM. */
int spool_msg_body(const struct spool_msg *m, const uint8_t **out,
		   void **owned, char *err, size_t errsz);

/* Lowercase hex of a SHA-256 into out[65]. */
void spool_hex32(const uint8_t d[32], char out[65]);

/* For the spool modules: format a message into err (errsz bytes; err may
 * be NULL) and return rc, so error paths read `return spool_errf(...)`. */
int spool_errf(char *err, size_t errsz, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
