/*
 * smtp/server.h - one ESMTP server session (RFC 5321), independent of the
 * transport: bytes in, bytes out, events up.
 *
 * A net lcore runs one struct smtp_session per TCP connection; the session
 * knows nothing about DPDK or TCP. The caller feeds received bytes with
 * smtp_session_input(), which returns how many it took; replies leave
 * through cb->send (the replies of a pipelined group in one call where
 * possible); cb->close asks for the connection to be closed (after QUIT's
 * 221, a 421, a limit); at end of DATA (CRLF.CRLF only) or BDAT LAST the
 * complete message goes up through cb->message, and the session takes no
 * more input until the caller gives the verdict with smtp_session_verdict().
 *
 * Extensions offered: PIPELINING, SIZE, 8BITMIME, ENHANCEDSTATUSCODES,
 * SMTPUTF8, CHUNKING (BDAT), DSN. Commands: EHLO HELO MAIL RCPT DATA BDAT
 * RSET NOOP QUIT HELP VRFY (252) EXPN (502). Limits and defenses come from
 * struct smtp_config (smtp/config.h).
 *
 * Input and backpressure. smtp_session_input() copies what it consumes
 * (command lines into a line buffer, message bytes into the message's
 * chunks), so the caller may pass memory it frees right after the call
 * (e.g. tcp_recv_iov() iovecs, then tcp_recv_consume() of the count
 * returned). It returns less than len when the session stops taking
 * input: a message is waiting for its verdict, the send callback came up
 * short (call smtp_session_writable() when the transport has room), or
 * the session closed (then it returns len: the rest is discarded). The
 * caller leaves the rest queued (the TCP window closes) and calls
 * smtp_session_input() again with it after smtp_session_verdict() or
 * smtp_session_writable(); smtp_session_wants_input() says whether that is
 * worth doing.
 *
 * Message ownership. The message passed to cb->message (envelope strings,
 * recipients, data segments: all in chunks of the session's smtp_pool)
 * stays valid and unchanged until smtp_session_verdict() for it returns,
 * which releases it. If the session is freed first (the connection died
 * while the message was being scanned), the message is detached, stays
 * valid, and the caller releases it with smtp_message_free() once nothing
 * reads it any more (on the pool's thread). Another thread (a scan lcore)
 * may read the message meanwhile; nothing writes it.
 *
 * Time. Every entry point takes now_us, a monotonic clock in microseconds
 * (the one fed to tcp_stack_advance()). smtp_session_deadline() gives the
 * next instant at which smtp_session_tick() has work (idle timeout,
 * per-command timeout, a delayed greeting), for the caller's timer wheel.
 * No deadline runs while a message waits for its verdict: the scanner's
 * time budget (451) covers that.
 *
 * STARTTLS (not offered yet) fits as a transport layer below this API:
 * the session would answer STARTTLS with 220, then report "switch now" to
 * the caller and discard its own plaintext state (the line buffer and any
 * pipelined bytes after the STARTTLS line are dropped, not replayed:
 * RFC 3207 section 6 / CVE-2011-0411) and return to the just-connected
 * state; from then on the caller decrypts before smtp_session_input() and
 * encrypts what cb->send gives it. The Received: header then says ESMTPS.
 * Nothing below depends on the transport being plaintext.
 *
 * Callbacks run on the caller's thread inside the session's functions.
 * They must not call smtp_session_free(); cb->message may call
 * smtp_session_verdict() before returning (a synchronous verdict).
 *
 * Thread-safety: a session and its pool are used by one thread only (the
 * net lcore); the config is read-only and may be shared.
 */
#ifndef SLUICE_SMTP_SERVER_H
#define SLUICE_SMTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "smtp/config.h"

struct smtp_session;
struct smtp_pool;

/* ---- Message buffers ----------------------------------------------------
 * Fixed-size chunks for message bytes and envelopes, kept on a free list
 * and capped in total (style.md item 9: no malloc per message once warm).
 * One pool per net lcore, shared by its sessions; not thread-safe. When
 * the cap is reached, the session replies 452 4.3.1 (MAIL, RCPT) or
 * 452 4.3.1 at end of data: memory pressure becomes 4xx, never a crash. */
#define SMTP_CHUNK_SIZE 16384

/* NULL on out of memory. max_bytes caps the chunks in use and cached. */
struct smtp_pool *smtp_pool_create(uint64_t max_bytes);
/* Every chunk must have been returned (asserted in debug builds). NULL ok. */
void smtp_pool_free(struct smtp_pool *p);
uint64_t smtp_pool_in_use(const struct smtp_pool *p); /* bytes in chunks */

/* ---- The message handed up at end of data ------------------------------ */

enum smtp_body_type { SMTP_BODY_NONE, SMTP_BODY_7BIT, SMTP_BODY_8BITMIME };
enum smtp_ret { SMTP_RET_NONE, SMTP_RET_FULL, SMTP_RET_HDRS };

/* RCPT NOTIFY= (RFC 3461); 0 when absent. NEVER excludes the others. */
#define SMTP_NOTIFY_NEVER   0x1u
#define SMTP_NOTIFY_SUCCESS 0x2u
#define SMTP_NOTIFY_FAILURE 0x4u
#define SMTP_NOTIFY_DELAY   0x8u

struct smtp_rcpt {
	const struct smtp_rcpt *next;  /* in RCPT order; NULL ends */
	const char *addr;    /* mailbox as given, without <>; "Postmaster" */
	unsigned notify;     /* SMTP_NOTIFY_* */
	const char *orcpt;   /* ORCPT= "addr-type;xtext" as given, or NULL */
};

struct smtp_envelope {
	uint32_t client_ip;        /* host order */
	const char *client_addr;   /* "198.18.0.2" */
	const char *helo;          /* EHLO/HELO argument */
	bool esmtp;                /* EHLO (not HELO) */
	const char *mail_from;     /* reverse-path without <>; "" for <> */
	uint64_t size;             /* SIZE= (0 when absent) */
	enum smtp_body_type body;  /* BODY= */
	bool smtputf8;             /* SMTPUTF8 */
	enum smtp_ret ret;         /* RET= */
	const char *envid;         /* ENVID= xtext as given, or NULL */
	const struct smtp_rcpt *rcpt;  /* first recipient (never NULL) */
	unsigned nrcpt;
	bool chunking;             /* arrived with BDAT */
};

/* A run of message bytes. */
struct smtp_seg {
	const struct smtp_seg *next;  /* NULL ends */
	const unsigned char *data;
	size_t len;
};

struct smtp_message {
	struct smtp_envelope env;
	const char *queue_id;
	/* The message as stored: our Received: header first, then the
	 * client's bytes with CRLF line ends, dot-unstuffed, without the
	 * terminating ".". */
	const struct smtp_seg *data;
	uint64_t size;            /* total of data's segments */
	size_t received_len;      /* bytes of the Received: header */
	unsigned received_count;  /* Received: fields in the client's header */
};

/* Release a message detached by smtp_session_free() (see Message
 * ownership). On the pool's thread. NULL ok. */
void smtp_message_free(const struct smtp_message *msg);

/* Copy the message bytes into buf (up to size); returns msg->size. */
uint64_t smtp_message_copy(const struct smtp_message *msg, void *buf,
			   uint64_t size);

/* ---- The session ------------------------------------------------------- */

struct smtp_callbacks {
	/* Send len bytes of replies; return how many were taken (a short
	 * count stalls the session until smtp_session_writable()) or a
	 * negative errno (the transport is gone: the session closes
	 * without calling close). Required. */
	long (*send)(void *ctx, const void *buf, size_t len);
	/* The session wants the connection closed; its last reply has been
	 * handed to send. Called once. Required. */
	void (*close)(void *ctx);
	/* A message is complete; return 0 when taken (wait for the verdict),
	 * or a negative errno when it cannot be handed off now (ring full,
	 * overload): the session answers 451 4.3.0 itself and releases it.
	 * Required. */
	int (*message)(void *ctx, const struct smtp_message *msg);
	/* Optional: the queue id for a message about to be handed up
	 * (printable ASCII, no space, < size). NULL: the session makes one
	 * from the time and a counter. */
	void (*queue_id)(void *ctx, char *buf, size_t size);
	/* Optional: seconds since the epoch, for the Received: date. NULL:
	 * time(NULL). */
	int64_t (*wallclock)(void *ctx);
	/* Optional: one log line (no newline): state transitions, limits,
	 * rejects. NULL: no logging (the default). */
	void (*log)(void *ctx, const char *line);
	/* Optional: can the gateway take a message now (the spool is above
	 * its free-space floor)? false: MAIL gets 452 4.3.1 before any
	 * data is accepted. NULL: always. */
	bool (*storage_ok)(void *ctx);
	/* Optional: the name of the policy route the gateway would choose
	 * for (mail_from, this one recipient) (scan/policy.h "Routing
	 * decisions"), or NULL for "no opinion". Asked for each RCPT that
	 * passed every other check. The session remembers the route of the
	 * first accepted recipient that has one and answers a later RCPT
	 * whose route differs with 452 4.5.3 (not counted as an error: RFC
	 * 5321 3.3 has the client send it in a later transaction), so one
	 * message never needs two policies. The string is read only before
	 * the callback returns to the session's caller (the session copies
	 * it). NULL callback: no route check. */
	const char *(*rcpt_route)(void *ctx, const char *mail_from,
				  const char *rcpt);
};

/* How the caller admits the connection (smtp/limits.h decides the last
 * three); smtp_session_start() answers accordingly. */
enum smtp_admit {
	SMTP_ADMIT_OK,
	SMTP_ADMIT_TOO_MANY,          /* 421 4.7.0 too many connections */
	SMTP_ADMIT_TOO_MANY_FROM_YOU, /* 421 4.7.0 ... from your address */
	SMTP_ADMIT_RATE,              /* 421 4.7.0 connection rate */
};

/* A session for a client at client_ip (host order). cfg, pool and cb are
 * borrowed for the session's life; ctx is passed to every callback.
 * NULL on out of memory (about 3 KiB per session with the default
 * command_line_max). */
struct smtp_session *smtp_session_create(const struct smtp_config *cfg,
					 struct smtp_pool *pool,
					 uint32_t client_ip,
					 const struct smtp_callbacks *cb,
					 void *ctx);

/* Free the session (a message out for its verdict is detached, see
 * Message ownership). NULL ok. Does not call any callback. */
void smtp_session_free(struct smtp_session *s);

/* Start: connection control (cfg deny/allow lists) and admit decide
 * between the 220 greeting and 554 5.7.1 / 421 4.7.0 followed by close.
 * With cfg->greeting_delay_us the greeting is sent by smtp_session_tick()
 * later, and input before it is an early talker. Call once. */
void smtp_session_start(struct smtp_session *s, enum smtp_admit admit,
			uint64_t now_us);

/* Feed len received bytes; returns how many were consumed (see Input and
 * backpressure). Input before the greeting was sent is an early talker:
 * 554 5.5.1 and close. */
size_t smtp_session_input(struct smtp_session *s, const void *data,
			  size_t len, uint64_t now_us);

/* The verdict for the message handed up: code 2xx/4xx/5xx (a 421 also
 * closes), enhanced "X.Y.Z" or NULL, text one line (control characters
 * are replaced, long text is cut). Replies, releases the message, resets
 * the transaction; then feed the held input again. 0, or -EINVAL when no
 * message is waiting or code is not 200..599. */
int smtp_session_verdict(struct smtp_session *s, int code,
			 const char *enhanced, const char *text,
			 uint64_t now_us);

/* The transport has room again after a short send: flush held replies
 * (and close if one was the last). */
void smtp_session_writable(struct smtp_session *s, uint64_t now_us);

/* The gateway is shutting down (RFC 5321 3.8): a session between
 * transactions (greeted or not, no partial command line) gets
 * "421 4.3.2 HOST Service shutting down, try again later" now and is
 * closed; a session in a command phase of a transaction (MAIL, RCPT, or
 * a partial command line) gets it in answer to its next command (QUIT
 * still gets 221; a BDAT continuing a chunked message is still taken);
 * a session in DATA/BDAT or waiting for a verdict finishes that
 * transaction (its message gets its verdict reply) and then gets the
 * 421. Not started yet: smtp_session_start() answers 421 instead of the
 * greeting. Idempotent. */
void smtp_session_drain(struct smtp_session *s, uint64_t now_us);

/* Timeouts and the delayed greeting due at now_us (421 4.4.2 + close). */
void smtp_session_tick(struct smtp_session *s, uint64_t now_us);

/* Next instant tick has work, or UINT64_MAX. */
uint64_t smtp_session_deadline(const struct smtp_session *s);

/* Would smtp_session_input() take bytes now? (started, not waiting for a
 * verdict, not stalled on send, not closed; during a greeting delay yes:
 * input then is an early talker) */
bool smtp_session_wants_input(const struct smtp_session *s);
/* A message is out for its verdict. */
bool smtp_session_busy(const struct smtp_session *s);
/* The session has asked to close (or the transport failed). */
bool smtp_session_closed(const struct smtp_session *s);

/* Counters of one session (tests, statistics). */
struct smtp_session_stats {
	unsigned messages;        /* handed up or rejected at end of data */
	unsigned commands;
	unsigned errors;          /* 4xx/5xx replies to commands */
	uint64_t bytes_in, bytes_out;
};
void smtp_session_stats(const struct smtp_session *s,
			struct smtp_session_stats *out);

/* Name of the session's state ("greeted", "mail", "data", ...). */
const char *smtp_session_state_name(const struct smtp_session *s);

#endif
