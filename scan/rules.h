/*
 * scan/rules.h - rule records: virus signatures, content rules and spam
 * keywords, and the builder that collects them for one rule generation.
 *
 * (The builder, the compiled database and the match API are added below
 * by scan/rules.c and scan/hsdb.c.)
 */
#ifndef SLUICE_SCAN_RULES_H
#define SLUICE_SCAN_RULES_H

#include <stddef.h>
#include <stdint.h>

enum scan_rule_kind {
	SCAN_RULE_VIRUS,   /* ClamAV body or hash signature */
	SCAN_RULE_CONTENT, /* content rule: keyword or regex, with a class */
	SCAN_RULE_SPAM,    /* weighted spam keyword */
};

/* Where a rule applies: bitmask over the buffers the pipeline scans. */
enum scan_where {
	SCAN_WHERE_HEADER = 1u << 0,     /* decoded header block */
	SCAN_WHERE_SUBJECT = 1u << 1,    /* decoded Subject value */
	SCAN_WHERE_BODY = 1u << 2,       /* text parts (and their text views) */
	SCAN_WHERE_ATTACHMENT = 1u << 3, /* every other leaf */
	SCAN_WHERE_ANY = 0xfu,
};

/* Rule flags. */
enum {
	SCAN_RULE_CASELESS = 1u << 0, /* match ignoring ASCII case */
	SCAN_RULE_WORD = 1u << 1,     /* whole word: not inside [A-Za-z0-9_] */
	SCAN_RULE_REGEX = 1u << 2,    /* pattern is a Hyperscan/PCRE regex;
					 otherwise a literal keyword */
};

/* A content or spam rule as written in the configuration. Borrowed: the
 * builder copies what it keeps. */
struct scan_rule_def {
	enum scan_rule_kind kind;
	const char *name;        /* unique within its kind */
	const char *pattern;     /* keyword or regex (see SCAN_RULE_REGEX) */
	unsigned flags;          /* SCAN_RULE_* */
	unsigned where;          /* SCAN_WHERE_* mask; 0 means ANY */
	int score;               /* spam weight (may be negative) */
	const char *class_name;  /* content rules: result class the policy
				    maps to an action, e.g. "block" */
	const char *file;        /* where it was written, for messages */
	unsigned line;
};

#endif
