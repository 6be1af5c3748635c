/*
 * scan/verdict.h - the result of scanning one message: a plain struct.
 *
 * The scan pipeline fills a struct scan_verdict; sluice-scan prints it and
 * the gateway (later) turns it into an SMTP reply and a spool record, so both
 * report the same thing. It holds findings (what was seen), the disposition
 * chosen by policy (what happens to the message) and edits (how the message
 * is changed before delivery).
 *
 * Storage: findings and edits are fixed arrays inside the struct; `parts`
 * and `explain` point into the scan thread's arena and live until the next
 * message is scanned on that thread.
 */
#ifndef SLUICE_SCAN_VERDICT_H
#define SLUICE_SCAN_VERDICT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* What a finding is about. Names (scan_finding_kind_name) are stable: they
 * appear in JSON output, logs and policy configuration. */
enum scan_finding_kind {
	SCAN_F_VIRUS,      /* body or hash signature matched */
	SCAN_F_CONTENT,    /* content rule matched */
	SCAN_F_SPAM,       /* spam score reached the threshold */
	SCAN_F_ATTACHMENT, /* blocked name, extension or true type */
	SCAN_F_SIZE,       /* message or attachment larger than allowed */
	SCAN_F_LIMIT,      /* a hard parsing/decoding limit was reached */
	SCAN_F_MALFORMED,  /* broken structure or encoding */
	SCAN_F_AMBIGUOUS,  /* two readings possible; both were scanned */
	SCAN_F_ENCRYPTED,  /* encrypted archive or member: not scannable */
	SCAN_F_MACRO,      /* office document with macros (scan_macro.c,
			      libclamav) */
	SCAN_F_KIND_COUNT
};

/* Overall verdict class, as printed: clean | virus | spam | content |
 * attachment | encrypted | macro | limit | malformed. */
enum scan_class {
	SCAN_CLEAN,
	SCAN_VIRUS,
	SCAN_SPAM,
	SCAN_CONTENT,
	SCAN_ATTACHMENT,
	SCAN_ENCRYPTED,
	SCAN_MACRO,
	SCAN_LIMIT,
	SCAN_MALFORMED,
};

/* What finally happens to the message. */
enum scan_disposition {
	SCAN_DELIVER,
	SCAN_REJECT,     /* 5xx in the SMTP session */
	SCAN_DELETE,     /* accept and drop silently */
	SCAN_QUARANTINE, /* accept into a quarantine area */
};

/* Changes applied to a message that is accepted. */
enum scan_edit_kind {
	SCAN_EDIT_STRIP,       /* replace part `part` by a notice (text) */
	SCAN_EDIT_TAG_SUBJECT, /* prefix the subject with text */
	SCAN_EDIT_ADD_HEADER,  /* add header line text ("Name: value") */
	SCAN_EDIT_NOTIFY,      /* send template `text` to `notify` recipients */
};

enum scan_notify_who {
	SCAN_NOTIFY_SENDER = 1u << 0,
	SCAN_NOTIFY_RECIPIENT = 1u << 1,
	SCAN_NOTIFY_ADMIN = 1u << 2,
};

#define SCAN_MAX_FINDINGS 64   /* storage; policy may report fewer */
#define SCAN_MAX_EDITS 16
#define SCAN_NAME_MAX 96
#define SCAN_DETAIL_MAX 192
#define SCAN_TEXT_MAX 512

struct scan_finding {
	enum scan_finding_kind kind;
	int part;                    /* part id, -1 for the message as a whole */
	char name[SCAN_NAME_MAX];    /* signature/rule/limit name */
	char detail[SCAN_DETAIL_MAX]; /* what triggered it, human-readable */
};

struct scan_edit {
	enum scan_edit_kind kind;
	int part;                 /* STRIP: the part; otherwise -1 */
	unsigned notify;          /* NOTIFY: bitmask of scan_notify_who */
	char text[SCAN_TEXT_MAX]; /* notice, tag, header line or template */
};

/* One decoded part (leaf or container) as reported to the operator. */
struct scan_part_info {
	int id;
	const char *path;         /* "1.2" style position, arena */
	const char *content_type; /* declared, lowercased */
	const char *filename;     /* UTF-8, or NULL */
	const char *true_type;    /* by content, see filetype.h */
	uint64_t size;            /* decoded bytes */
	uint8_t sha256[32];       /* of the decoded bytes */
	int leaf;                 /* 1 when scanned as bytes */
};

struct scan_verdict {
	enum scan_class cls;
	enum scan_disposition disposition;
	char quarantine_area[64];  /* when disposition is QUARANTINE */
	char route[64];            /* route that selected the policy */
	char policy[64];
	char reason[SCAN_DETAIL_MAX]; /* one line for a 5xx reply or a log */

	struct scan_finding findings[SCAN_MAX_FINDINGS];
	unsigned nfindings;        /* stored */
	unsigned nfindings_total;  /* seen, including those not stored */

	struct scan_edit edits[SCAN_MAX_EDITS];
	unsigned nedits;

	struct scan_part_info *parts; /* arena */
	unsigned nparts;

	int spam_score;
	int spam_threshold;
	uint64_t scan_us;

	/* --explain trace: NULL unless requested. Lines end in '\n'. */
	char *explain;
	size_t explain_len, explain_cap;
};

/* Reset v to an empty, clean verdict (explain buffer kept as given). */
void scan_verdict_init(struct scan_verdict *v, char *explain_buf,
		       size_t explain_cap);

/* Record a finding. Always counts it in nfindings_total; stores it while
 * room remains. Returns the stored finding or NULL when full. Never fails
 * otherwise. detail_fmt may be NULL. */
struct scan_finding *scan_verdict_add(struct scan_verdict *v,
				      enum scan_finding_kind kind, int part,
				      const char *name, const char *detail_fmt,
				      ...)
	__attribute__((format(printf, 5, 6)));

/* Append an edit. Returns NULL when SCAN_MAX_EDITS is reached. */
struct scan_edit *scan_verdict_edit(struct scan_verdict *v,
				    enum scan_edit_kind kind, int part,
				    const char *text);

/* Does v hold a finding of this kind? */
int scan_verdict_has(const struct scan_verdict *v, enum scan_finding_kind kind);

/* Append a line to the explain trace if one was requested (no-op otherwise).
 * Truncates silently at explain_cap. */
void scan_explain(struct scan_verdict *v, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Stable lower-case names. */
const char *scan_finding_kind_name(enum scan_finding_kind k);
const char *scan_class_name(enum scan_class c);
const char *scan_disposition_name(enum scan_disposition d);
const char *scan_edit_kind_name(enum scan_edit_kind k);

/* Parse a name back; returns 0 and sets *out, or -EINVAL. */
int scan_finding_kind_parse(const char *name, enum scan_finding_kind *out);

/* Render `n` bytes for a detail string: printable ASCII as is, others as
 * \xHH, at most `max` input bytes then "...". Writes a NUL-terminated
 * string of at most outsz bytes. */
void scan_escape_bytes(char *out, size_t outsz, const uint8_t *p, size_t n,
		       size_t max);

#endif
