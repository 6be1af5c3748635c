/*
 * scan/mime.h - RFC 5322 header block and MIME tree of one message.
 *
 * mime_parse() reads a whole message held in memory and builds a tree of
 * parts. Nothing is copied that need not be: raw header and body slices
 * point into the caller's message buffer, which must outlive the tree.
 * Decoded strings (parameters, RFC 2047/2231 filenames) are allocated from
 * the arena, as are the part structs. The pipeline decodes leaf bodies
 * itself (decode.h); this module only finds them.
 *
 * The parser never fails on bad input: malformed structure, ambiguity and
 * limits become findings in the verdict and parsing continues with the most
 * conservative reading. It fails only when the arena is exhausted (-ENOMEM),
 * which the caller reports as a `limit` finding.
 *
 * Thread-safety: none needed; everything is per call.
 */
#ifndef SLUICE_SCAN_MIME_H
#define SLUICE_SCAN_MIME_H

#include <stddef.h>
#include <stdint.h>

#include "scan/arena.h"
#include "scan/verdict.h"

enum mime_cte {
	MIME_CTE_NONE = 0, /* no header: 7bit */
	MIME_CTE_7BIT,
	MIME_CTE_8BIT,
	MIME_CTE_BINARY,
	MIME_CTE_QP,
	MIME_CTE_BASE64,
	MIME_CTE_UUENCODE, /* x-uuencode, x-uue, uuencode */
	MIME_CTE_UNKNOWN,  /* unrecognised token: treated as 8bit, finding */
};

/* Part flags. */
enum {
	MIME_F_MULTIPART = 1u << 0,  /* children are the body parts */
	MIME_F_MESSAGE = 1u << 1,    /* message/rfc822 (or global): one child */
	MIME_F_NO_HEADERS = 1u << 2, /* part had no header block */
	MIME_F_UNCLOSED = 1u << 3,   /* multipart without closing boundary */
	MIME_F_ALT_VIEW = 1u << 4,   /* part of a second reading of an
					ambiguous structure */
	MIME_F_TRUNCATED = 1u << 5,  /* a limit cut parsing short here */
	MIME_F_ATTACHMENT = 1u << 6, /* Content-Disposition: attachment or
					has a filename */
};

struct mime_header {
	const char *name;  /* points into the message; not NUL-terminated */
	size_t name_len;
	const char *value; /* raw value after ':' incl. folding, into message */
	size_t value_len;
};

struct mime_part {
	int id;                  /* 0 = whole message; pre-order numbering */
	const char *path;        /* "" for the message, "1", "1.2" ... (arena) */
	unsigned depth;          /* nesting depth, 0 for the message */
	unsigned flags;          /* MIME_F_* */
	struct mime_part *parent;
	struct mime_part *first_child, *next_sibling;
	unsigned nchildren;

	struct mime_header *headers; /* arena array */
	unsigned nheaders;
	const uint8_t *header_raw;   /* header block, into message */
	size_t header_raw_len;
	const uint8_t *body;         /* raw (still encoded) body, into message */
	size_t body_len;

	/* Parsed from the headers; all NUL-terminated, lower-cased where the
	 * RFCs say case does not matter; arena. */
	const char *content_type;  /* "text/plain" by default (RFC 2045) */
	const char *charset;       /* NULL if absent */
	const char *boundary;      /* multipart only */
	const char *disposition;   /* "attachment", "inline" or NULL */
	const char *filename;      /* decoded to UTF-8 (2047/2231), or NULL:
				      disposition filename, else type name */
	enum mime_cte cte;
	enum mime_cte cte_alt;     /* second conflicting CTE header, or NONE:
				      the pipeline decodes both ways */
};

struct mime_limits {
	size_t header_bytes;   /* per header block */
	unsigned header_count; /* per header block */
	unsigned parts;        /* per message, all depths */
	unsigned depth;        /* nesting of multipart/message */
};

struct mime_message {
	struct mime_part *root;    /* id 0 */
	struct mime_part **parts;  /* by id, nparts entries (arena) */
	unsigned nparts;
};

/* Parse msg[0..len). Fills *out (tree allocated from `a`), adds findings
 * (SCAN_F_MALFORMED, SCAN_F_AMBIGUOUS, SCAN_F_LIMIT) to v.
 * Returns 0, or -ENOMEM when the arena is exhausted (the tree is then
 * valid but incomplete). msg must outlive the tree. */
int mime_parse(const uint8_t *msg, size_t len, const struct mime_limits *lim,
	       struct scan_arena *a, struct scan_verdict *v,
	       struct mime_message *out);

/* First header of part p named `name` (case-insensitive), or NULL. */
const struct mime_header *mime_header_get(const struct mime_part *p,
					  const char *name);

/* Unfold a raw header value and decode RFC 2047 encoded words to UTF-8
 * (charset conversion via iconv; undecodable words kept as written).
 * Returns a NUL-terminated arena string, or NULL when the arena is full. */
char *mime_header_decode(const char *value, size_t len, struct scan_arena *a);

/* Leaf: a part with no children that carries bytes to scan. */
static inline int mime_part_is_leaf(const struct mime_part *p)
{
	return (p->flags & (MIME_F_MULTIPART | MIME_F_MESSAGE)) == 0;
}

const char *mime_cte_name(enum mime_cte cte);

#endif
