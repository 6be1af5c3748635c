/*
 * scan/policy.h - the scan configuration (limits, signatures, rules, spam
 * settings, routes, policies) and the policy engine that turns a message's
 * findings into a disposition and edits.
 *
 * Loading (start-up, control plane): scan_config_load() or
 * scan_config_from_conf() validate everything and precompute what the
 * engine needs; every problem is an error naming file:line and the fix.
 * The result is immutable: share it read-only between scan threads.
 * Applying (scan cores, per message): scan_policy_select() and
 * scan_policy_apply() allocate nothing, take no locks, make no syscalls.
 *
 * Configuration schema (config/sluice.conf documents every key):
 *   limits:            message_size, attachment_size, attachments,
 *                      header_bytes, header_fields, mime_parts, mime_depth,
 *                      decoded_bytes, archive_depth, decompressed_bytes,
 *                      archive_members, archive_member_size,
 *                      archive_ratio, archive_time, findings
 *   signatures:        path or list of paths (ClamAV files or directories)
 *   rule_cache:        directory for compiled rule databases
 *   clamav:            enabled (true), leaves (default | all),
 *                      databases (extra ClamAV files or directories;
 *                      libclamav also loads every `signatures:` path)
 *   internal_domains:  list: "example.net", "*.example.net" (subdomains)
 *   address_groups:    name -> list of address patterns
 *   templates:         name -> notification text
 *   content_rules:     list of {name, keyword | regex, caseless, word,
 *                      where, class}
 *   spam:              threshold, keywords: [{keyword | regex, name,
 *                      weight, where, caseless, word}],
 *                      lists: [{name, senders, clients, score}]
 *   routes:            list of {name, direction, from, to, policy}
 *   policies:          name -> list of filters {type, action, ...}
 * Paths that are relative are relative to the configuration file's
 * directory. Other programs' top-level sections (smtp, delivery,
 * quarantine, alerts, control, updates, logging, dataplane, retention)
 * are skipped here and checked by their owners.
 *
 * Address patterns (routes, groups, spam lists), matched ignoring case:
 *   "*"                 any address, including the null sender
 *   "<>"                the null sender only
 *   "user@example.net"  exact; "*@example.net", "user@*", "*@*.example.net"
 *                       globs ('*' any run, '?' one character) on the
 *                       whole address
 *   "example.net"       the domain exactly; "*.example.net" its subdomains
 *                       (a pattern without '@' is a glob on the domain)
 *   "@staff"            any pattern of address group "staff"
 *
 * Routing decisions:
 *   - direction incoming: there is at least one recipient and EVERY
 *     recipient is in an internal domain. outgoing: the sender is in an
 *     internal domain and AT LEAST ONE recipient is not. any: always.
 *     So internal-to-internal mail counts as incoming (it gets the inbound
 *     checks), and a forged internal sender cannot buy the outgoing policy
 *     for mail addressed to us. A message with external and internal
 *     recipients from an external sender is neither: it falls through to
 *     a direction-any route or the default.
 *   - multiple recipients: a route's `to` matches only if EVERY recipient
 *     matches one of its patterns (one policy must fit them all; the SMTP
 *     layer may later split messages per route); `from` must match the
 *     sender.
 *   - first matching route wins; otherwise the route "default" with the
 *     policy "default". That policy always exists: when the configuration
 *     does not define it, a built-in one identical to the shipped
 *     config/sluice.conf default is used.
 *
 * Policy engine decisions:
 *   - filters run in the policy's order. attachment and size create their
 *     own findings (SCAN_F_ATTACHMENT / SCAN_F_SIZE) from the part info;
 *     virus, content and limits look at findings already in the verdict;
 *     spam adds SCAN_F_SPAM when keyword score + list score >= threshold.
 *   - a triggered filter applies its actions. Terminal ones (deliver,
 *     reject, delete, quarantine) set the disposition and stop evaluation;
 *     modifiers (strip, tag, header, notify) add edits and evaluation
 *     continues. No terminal action anywhere: deliver.
 *   - content filter: each content finding's class picks an action set
 *     (the filter's `classes`, else the filter's own action); the most
 *     severe set wins (reject > quarantine > delete > deliver > modifiers
 *     only), ties go to the first finding.
 *   - encrypted: triggers on SCAN_F_ENCRYPTED findings (an archive,
 *     member or OLE2 document that needs a password: its content was
 *     not scanned).
 *   - macro: triggers on SCAN_F_MACRO findings (an OLE2 document with
 *     a VBA project or XLM macro sheet, an OOXML document with a
 *     vbaProject.bin or macro-enabled content type, an OpenDocument
 *     file with Basic/ or Scripts/ members: scan/scan_macro.c;
 *     libclamav's macro heuristic).
 *   - attachment: deceptive_names (default true) also blocks names
 *     scan/fname.h flags as DOUBLE_EXT or BIDI (rules
 *     name:double-extension, name:bidi), after extensions and true
 *     types, before name patterns and size.
 *   - v->cls reports what was seen, independently of the actions: the
 *     highest of virus > content > macro > attachment > encrypted > spam
 *     > limit (also size)
 *     > malformed over all findings; ambiguous alone leaves it clean.
 *   - v->reason: the deciding filter's one-line reason (terminal action),
 *     else the first triggered filter's, else empty.
 *   - spam lists: a list with score "bypass" matching makes the spam
 *     filter pass whatever the keywords say; "reject" makes it reject
 *     whatever its action; otherwise scores add up.
 *   - templates (strip notice, notify, tag, header) expand %FILENAME%
 *     %VIRUSNAME% %SENDER% %RECIPIENT% %SUBJECT% %RULE% %SCORE%; expanded
 *     values have control characters replaced by '?' (no header
 *     injection through a file name or subject).
 *
 * Thread-safety: a loaded config is read-only; any number of threads may
 * call select/apply concurrently.
 */
#ifndef SLUICE_SCAN_POLICY_H
#define SLUICE_SCAN_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf/conf.h"
#include "scan/envelope.h"
#include "scan/rules.h"
#include "scan/verdict.h"

struct scan_config;
struct scan_route;

/* Limits for one message (defaults in parentheses). */
struct scan_limits {
	uint64_t message_size;       /* size filter default (20 MiB) */
	uint64_t attachment_size;    /* attachment filter default (10 MiB) */
	unsigned attachments;        /* named parts per message (20) */
	size_t header_bytes;         /* per header block (1 MiB) */
	unsigned header_count;       /* fields per header block (1000) */
	unsigned mime_parts;         /* per message, all depths (1000) */
	unsigned mime_depth;         /* multipart/message nesting (20) */
	uint64_t decoded_bytes;      /* decoded per message (64 MiB) */
	unsigned archive_depth;      /* nested containers (20, at most 50;
					0: archives are not opened) */
	uint64_t decompressed_bytes; /* from archives per message (128 MiB) */
	unsigned archive_members;    /* archive entries per message (1000) */
	uint64_t archive_member_size; /* bytes scanned per member (32 MiB) */
	unsigned archive_ratio;      /* expansion limit, n:1 (250; 0 off) */
	uint64_t archive_time_ms;    /* unpacking time per message (10 s) */
	unsigned findings;           /* findings reported (20) */
};

/* Spam list results outside the ordinary score range. */
#define SCAN_SPAM_LIST_REJECT 1000000
#define SCAN_SPAM_LIST_BYPASS (-1000000)

/* Read, parse and validate the file at path. Fills *out (caller frees with
 * scan_config_free()). Errors: as conf_load(), -EINVAL for any invalid
 * setting (err names file:line and what to do), -ENOMEM. */
int scan_config_load(const char *path, struct scan_config **out, char *err,
		     size_t errsz);

/* As scan_config_load() from a loaded doc (borrowed: the config copies
 * what it keeps, the doc may be freed afterwards). Relative paths are
 * resolved against the directory of conf_doc_path(doc). */
int scan_config_from_conf(const struct conf_doc *doc,
			  struct scan_config **out, char *err, size_t errsz);

/* Free a config. Accepts NULL. Nothing returned by the accessors below
 * may be used afterwards. */
void scan_config_free(struct scan_config *cfg);

/* Accessors; all borrow from cfg. */
const struct scan_limits *scan_config_limits(const struct scan_config *cfg);

/* Signature paths (ClamAV files or directories), resolved, NULL-terminated
 * (an empty list is a lone NULL). */
const char *const *scan_config_signatures(const struct scan_config *cfg);

/* Rule cache directory, resolved (default "<config dir>/.cache"). */
const char *scan_config_cache_dir(const struct scan_config *cfg);

/* The `clamav:` section (libclamav as a second opinion, scan/clam.h). */
struct scan_clamav_conf {
	bool enabled;       /* enabled (default true) */
	bool all_leaves;    /* leaves: all; false: default (clam_wants) */
	const char *const *databases; /* extra paths, resolved, NULL-ended;
					 loaded after `signatures:` */
};
const struct scan_clamav_conf *scan_config_clamav(const struct scan_config *cfg);

/* Content rules (SCAN_RULE_CONTENT) followed by spam keywords
 * (SCAN_RULE_SPAM), with file and line of each. */
void scan_config_rules(const struct scan_config *cfg,
		       const struct scan_rule_def **defs, size_t *n);

/* Class of the content rule named `rule`, or NULL if there is none. */
const char *scan_config_rule_class(const struct scan_config *cfg,
				   const char *rule);

int scan_config_spam_threshold(const struct scan_config *cfg);

/* Is `domain` (no '@') internal? Ignores case. */
int scan_config_is_internal(const struct scan_config *cfg,
			    const char *domain);

/* Sum of the scores of the spam lists the envelope matches (sender and/or
 * client address), or SCAN_SPAM_LIST_BYPASS / SCAN_SPAM_LIST_REJECT when a
 * bypass / reject list matches (bypass wins). why (may be NULL) receives
 * the matching lists, e.g. "partners -100, dirty-nets +6", or "" for none.
 * No allocation. */
int scan_spam_list_score(const struct scan_config *cfg,
			 const struct scan_envelope *env, char *why,
			 size_t whysz);

/* The route for this envelope (see "Routing decisions"); never NULL. */
const struct scan_route *scan_policy_select(const struct scan_config *cfg,
					    const struct scan_envelope *env);
const char *scan_route_name(const struct scan_route *r);
const char *scan_route_policy(const struct scan_route *r);

/* What the pipeline knows besides the findings already in the verdict. */
struct scan_policy_input {
	uint64_t message_size;
	/* Parts to check (attachment filter). NULL: use v->parts/v->nparts. */
	const struct scan_part_info *parts;
	unsigned nparts;
	int keyword_score;          /* sum of spam keyword weights */
	const char *subject;        /* decoded Subject, or NULL */
	/* Optional, parallel to v->findings: class of each content finding
	 * (NULL entry or NULL array: looked up by finding name with
	 * scan_config_rule_class(); unknown rule: class "block"). */
	const char *const *content_class;
};

/* Select the route for env, run its policy over the findings in v and
 * `in`, and fill v: findings added by filters, disposition,
 * quarantine_area, edits, cls, route, policy, reason, spam_score (final,
 * keyword + lists), spam_threshold and the explain trace. env may have no
 * recipients; in may be NULL (nothing but findings). Returns 0; never
 * allocates. A verdict out of room for findings or edits is reported in
 * the explain trace, and a finding that could not be stored still counts
 * for the decision. */
int scan_policy_apply(const struct scan_config *cfg,
		      const struct scan_envelope *env,
		      const struct scan_policy_input *in,
		      struct scan_verdict *v);

#endif
