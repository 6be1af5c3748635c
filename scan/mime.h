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
 * Tree shape (decisions the pipeline relies on):
 *  - Parts are numbered pre-order in parts[]; path is the tree position
 *    ("" root, "1", "1.2"); a message/rfc822 part has one child, the
 *    embedded message, at path "<part>.1".
 *  - Preamble and epilogue: when they hold any byte that is not
 *    whitespace they become leaf children of their multipart, flagged
 *    MIME_F_PREAMBLE / MIME_F_EPILOGUE (and MIME_F_NO_HEADERS), with path
 *    "<multipart>.preamble" / ".epilogue" ("preamble" for the root). The
 *    preamble is the first child, the epilogue the last of the primary
 *    reading, so numbered body parts keep their IMAP-style numbers.
 *  - Alternate view: a multipart with two different `boundary`
 *    parameters is split with the first; the split by the second is
 *    appended after it as more children (paths "<mp>.alt1", "<mp>.alt2",
 *    "<mp>.alt.preamble" ...), each flagged MIME_F_ALT_VIEW, as are all
 *    their descendants. Inside an alternate view no further alternate
 *    views are built (no exponential blow-up); the finding is still added.
 *  - Every byte of the message is in the body or header block of some
 *    part: a part whose header block hits header_bytes keeps the rest as
 *    its body (MIME_F_TRUNCATED, parsed no further); a container at the
 *    depth limit is a leaf with MIME_F_TRUNCATED; when the part limit is
 *    reached, one extra leaf (MIME_F_TRUNCATED, path "<mp>.rest") holds
 *    everything from there to the end of the message, so nparts is at
 *    most limits.parts + 1.
 *  - Header block: ends at the first empty line (CRLF or bare LF). A
 *    part whose first line is neither a field nor empty has no header
 *    block (MIME_F_NO_HEADERS; all of it is body), except a leading mbox
 *    "From " line of a message, which is skipped. Inside a block, lines
 *    that are not fields are skipped with a finding, and whitespace-only
 *    lines are folding (RFC 5322), not the end of the block (finding).
 *    Parts with an empty header block are flagged MIME_F_NO_HEADERS too.
 *  - Delimiters match only "--boundary" ["--"] WSP* EOL at a line start;
 *    the line break before a delimiter belongs to it. After the closing
 *    delimiter everything is epilogue (finding if delimiters follow).
 *  - message/rfc822 with a base64/quoted-printable/uuencode CTE is a leaf
 *    (finding "encoded-message"): the pipeline decodes it and may call
 *    mime_parse() on the result.
 *
 * Finding names (stable): header-bytes, header-count, header-without-colon,
 * header-bad-name, orphan-continuation, whitespace-only-line,
 * nul-in-header, mbox-from-line, mime-parts, mime-depth, missing-boundary,
 * boundary-not-found, unclosed-multipart, boundary-after-close,
 * duplicate-boundary, duplicate-content-type, invalid-content-type,
 * conflicting-cte, unknown-cte, encoded-multipart, encoded-message,
 * unknown-disposition, ambiguous-filename, nul-in-filename,
 * bad-parameters.
 *
 * Thread-safety: none needed; everything is per call (charset conversion
 * uses the calling thread's iconv cache, see charset.h).
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
	MIME_F_PREAMBLE = 1u << 7,   /* leaf: a multipart's preamble */
	MIME_F_EPILOGUE = 1u << 8,   /* leaf: a multipart's epilogue */
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
	struct mime_part *last_child; /* for appending; NULL if no children */
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

/* A zero field (or lim == NULL) means the default below. depth is capped
 * at MIME_DEPTH_MAX whatever is configured (it bounds recursion). */
struct mime_limits {
	size_t header_bytes;   /* per header block */
	unsigned header_count; /* per header block */
	unsigned parts;        /* per message, all depths */
	unsigned depth;        /* nesting of multipart/message */
};

#define MIME_DEFAULT_HEADER_BYTES (256u * 1024u)
#define MIME_DEFAULT_HEADER_COUNT 1000u
#define MIME_DEFAULT_PARTS 10000u
#define MIME_DEFAULT_DEPTH 20u
#define MIME_DEPTH_MAX 100u

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

/* Next header named `name` after `prev` (which must point into
 * p->headers), or NULL; prev NULL means from the start. */
const struct mime_header *mime_header_next(const struct mime_part *p,
					   const char *name,
					   const struct mime_header *prev);

/* Unfold a raw header value and decode RFC 2047 encoded words to UTF-8
 * (charset conversion via iconv; undecodable words kept as written).
 * Returns a NUL-terminated arena string, or NULL when the arena is full.
 * Details: leading/trailing whitespace is trimmed; CR and LF are removed;
 * whitespace between two encoded words is dropped and adjacent words in
 * the same charset are joined before conversion (a character split over
 * two words survives); `=?charset*lang?` (RFC 2231) is accepted; words
 * in an unknown charset are decoded and kept as bytes with invalid UTF-8
 * replaced by U+FFFD; text outside encoded words is copied unchanged
 * except NUL, which becomes U+FFFD (the result is a C string). */
char *mime_header_decode(const char *value, size_t len, struct scan_arena *a);

/* One parameter of a Content-Type / Content-Disposition style value. */
struct mime_param {
	const char *name;  /* lower-cased, without the RFC 2231 "*", "*N",
			      "*N*" suffix; arena */
	const char *value; /* unquoted and unescaped; RFC 2231 sections joined,
			      %XX decoded and converted to UTF-8; arena,
			      NUL-terminated (may also contain NULs) */
	size_t value_len;
	unsigned flags;    /* MIME_PARAM_F_* */
};

enum {
	MIME_PARAM_F_EXT = 1u << 0,         /* RFC 2231 form (name* / name*N) */
	MIME_PARAM_F_GAP = 1u << 1,         /* 2231 sections missing/repeated */
	MIME_PARAM_F_BAD_CHARSET = 1u << 2, /* unknown 2231 charset: raw bytes */
	MIME_PARAM_F_UNTERMINATED = 1u << 3, /* quoted-string never closed */
};

struct mime_params {
	const char *value;        /* leading token ("multipart/mixed",
				     "attachment"), lower-cased, whitespace and
				     comments removed; "" if none; arena */
	struct mime_param *params; /* arena array in order of appearance;
				      repeated names are kept, not merged */
	unsigned nparams;
	unsigned malformed;       /* syntax errors skipped */
};

/* Parse a raw header value (as in struct mime_header, folding allowed):
 * token, then `; name=value` with token or quoted-string values,
 * comments, case-insensitive names, RFC 2231 continuations and
 * charset'lang'%XX values. Never fails on bad syntax (counted in
 * malformed). Returns 0, or -ENOMEM when the arena is full (*out then
 * empty). */
int mime_params_parse(const char *raw, size_t len, struct scan_arena *a,
		      struct mime_params *out);

/* Next parameter named `name` (lower-case) after `prev` (NULL: from the
 * start), or NULL. Repeat to see duplicates. */
const struct mime_param *mime_params_find(const struct mime_params *ps,
					  const char *name,
					  const struct mime_param *prev);

/* Leaf: a part with no children that carries bytes to scan. */
static inline int mime_part_is_leaf(const struct mime_part *p)
{
	return (p->flags & (MIME_F_MULTIPART | MIME_F_MESSAGE)) == 0;
}

const char *mime_cte_name(enum mime_cte cte);

#endif
