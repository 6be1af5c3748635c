/* scan/scan_hits.c - rule hits into findings; see scan_int.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "scan/scan_int.h"

/* ---- findings from rule hits ------------------------------------------ */

/* Keyword expressions: which terms of one rule this message matched. At
 * most one per hit, so a stack array of SCAN_DB_MAX_HITS never runs out;
 * looked up linearly (such rules are few). */
struct logic_seen {
	uint32_t rule;  /* SCAN_MATCH_LOGIC rule id */
	uint32_t seen;  /* bit k: term k matched */
	int all_part;   /* part of the first ALL term hit, -1: none */
	int any_part;   /* part of the first ANY term hit, -1: none */
};

/* Append to a fixed buffer, truncating; never fails. */
__attribute__((format(printf, 3, 4)))
static void cat(char *buf, size_t sz, const char *fmt, ...)
{
	size_t n = strlen(buf);
	va_list ap;
	if (n + 1 >= sz)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + n, sz - n, fmt, ap);
	va_end(ap);
}

/* A term as shown in details: its pattern, cut after 20 characters. */
#define TERM_SHOWN 32
#define TERM_FMT "%.*s%s"
#define TERM_ARG(t) \
	(int)TERM_SHOWN, (t)->name, strlen((t)->name) > TERM_SHOWN ? "..." : ""

/* Evaluate one keyword expression from the terms seen (e, or none when
 * NULL): a finding when it fires, the reasoning into --explain. */
static void eval_logic(struct scan_ctx *c, uint32_t id,
		       const struct logic_seen *e)
{
	const struct scan_db *db = c->e->db;
	const struct scan_rule *L = scan_db_rule(db, id);
	uint32_t seen = e != NULL ? e->seen : 0;
	unsigned nany = 0, any_hit = 0, all_missing = 0, not_hit = 0;
	char found[SCAN_DETAIL_MAX] = "", any[SCAN_DETAIL_MAX] = "";
	char why[SCAN_DETAIL_MAX] = "";
	for (unsigned k = 0; k < L->nterms; k++) {
		const struct scan_rule *t = scan_db_rule(db, id + 1 + k);
		int hit = (seen >> k) & 1;
		switch (t->role) {
		case SCAN_TERM_ALL:
			if (hit) {
				cat(found, sizeof(found), "%s" TERM_FMT,
				    found[0] ? " + " : "", TERM_ARG(t));
			} else {
				all_missing++;
				cat(why, sizeof(why), "%sterm '" TERM_FMT
				    "' not found", why[0] ? "; " : "",
				    TERM_ARG(t));
			}
			break;
		case SCAN_TERM_ANY:
			nany++;
			if (hit) {
				any_hit++;
				cat(any, sizeof(any), "%s" TERM_FMT,
				    any[0] ? ", " : "", TERM_ARG(t));
			}
			break;
		default: /* SCAN_TERM_NOT */
			if (hit) {
				not_hit++;
				cat(why, sizeof(why), "%s'not' term '"
				    TERM_FMT "' found", why[0] ? "; " : "",
				    TERM_ARG(t));
			}
			break;
		}
	}
	if (any_hit < L->min_any)
		cat(why, sizeof(why), "%s%u of %u 'any' terms found, need %u",
		    why[0] ? "; " : "", any_hit, nany, L->min_any);
	if (nany > 0 && any[0] != '\0')
		cat(found, sizeof(found), "%sany: %s", found[0] ? "; " : "",
		    any);
	const char *cls = L->class_name ? L->class_name : "block";
	if (e != NULL && all_missing == 0 && not_hit == 0 &&
	    any_hit >= L->min_any) {
		int part = e->all_part >= 0 ? e->all_part : e->any_part;
		scan_verdict_add(c->v, SCAN_F_CONTENT, part, L->name,
				 "class %s; %s", cls, found);
		scan_explain(c->v, "  content rule %s (class %s) in part %d: "
			     "%s (%s:%u)\n", L->name, cls, part, found, L->file,
			     L->line);
	} else {
		scan_explain(c->v, "  content rule %s (class %s) not fired: "
			     "%s (%s:%u)\n", L->name, cls,
			     e != NULL ? why : "no term found", L->file,
			     L->line);
	}
}

void pipe_hits_to_findings(struct scan_ctx *c, int *spam_score)
{
	const struct scan_hit *hits;
	unsigned n = scan_db_hits(c->scratch, &hits);
	struct logic_seen ls[SCAN_DB_MAX_HITS];
	unsigned nls = 0;
	*spam_score = 0;
	for (unsigned i = 0; i < n; i++) {
		const struct scan_rule *r = scan_db_rule(c->e->db, hits[i].rule);
		/* What triggered it: the view, the offsets and the bytes, or
		 * the digest of the whole part for hash signatures. */
		char trig[192];
		if (hits[i].where == 0)
			snprintf(trig, sizeof(trig), "%s of all %llu bytes",
				 r->match == SCAN_MATCH_MD5    ? "MD5"
				 : r->match == SCAN_MATCH_SHA1 ? "SHA-1"
							       : "SHA-256",
				 (unsigned long long)hits[i].end);
		else if (r->match == SCAN_MATCH_LOGIC)
			snprintf(trig, sizeof(trig), "logical expression "
				 "'%.96s' true over the leaf's %llu bytes",
				 r->class_name ? r->class_name : "?",
				 (unsigned long long)hits[i].end);
		else if (hits[i].start != UINT64_MAX)
			snprintf(trig, sizeof(trig), "%s view, bytes %llu-%llu "
				 "\"%s\"", c->hit_view[i] ? c->hit_view[i] : "?",
				 (unsigned long long)hits[i].start,
				 (unsigned long long)hits[i].end, c->hit_bytes[i]);
		else
			snprintf(trig, sizeof(trig), "%s view, ending at byte "
				 "%llu \"...%s\"",
				 c->hit_view[i] ? c->hit_view[i] : "?",
				 (unsigned long long)hits[i].end, c->hit_bytes[i]);
		switch (r->kind) {
		case SCAN_RULE_VIRUS:
			scan_verdict_add(c->v, SCAN_F_VIRUS, hits[i].part,
					 r->name, "%s:%u; %s", r->file, r->line, trig);
			scan_explain(c->v, "  virus %s in part %d: %s (%s:%u)\n",
				     r->name, hits[i].part, trig, r->file,
				     r->line);
			break;
		case SCAN_RULE_CONTENT:
			scan_verdict_add(c->v, SCAN_F_CONTENT, hits[i].part,
					 r->name, "class %s; %s",
					 r->class_name ? r->class_name : "block",
					 trig);
			scan_explain(c->v, "  content rule %s (class %s) in "
				     "part %d: %s (%s:%u)\n", r->name,
				     r->class_name ? r->class_name : "block",
				     hits[i].part, trig, r->file, r->line);
			break;
		case SCAN_RULE_SPAM: {
			/* A keyword weighs once per message, however many
			 * parts it appears in. */
			int dup = 0;
			for (unsigned j = 0; j < i && !dup; j++)
				dup = hits[j].rule == hits[i].rule;
			if (dup)
				break;
			*spam_score += r->score;
			scan_explain(c->v, "  spam keyword %s %+d in part %d: "
				     "%s\n", r->name, r->score, hits[i].part,
				     trig);
			break;
		}
		case SCAN_RULE_TERM: {
			/* Not a finding: noted for its rule, evaluated below. */
			unsigned j = 0;
			while (j < nls && ls[j].rule != r->owner)
				j++;
			if (j == nls) /* n <= SCAN_DB_MAX_HITS: always room */
				ls[nls++] = (struct logic_seen){
					.rule = r->owner, .all_part = -1,
					.any_part = -1};
			ls[j].seen |= 1u << r->term;
			if (r->role == SCAN_TERM_ALL && ls[j].all_part < 0)
				ls[j].all_part = hits[i].part;
			if (r->role == SCAN_TERM_ANY && ls[j].any_part < 0)
				ls[j].any_part = hits[i].part;
			scan_explain(c->v, "  term '%s' (%s) of content rule %s "
				     "in part %d: %s\n", r->name,
				     r->role == SCAN_TERM_ALL   ? "all"
				     : r->role == SCAN_TERM_ANY ? "any"
								: "not",
				     scan_db_rule(c->e->db, r->owner)->name,
				     hits[i].part, trig);
			break;
		}
		}
	}
	for (unsigned j = 0; j < nls; j++)
		eval_logic(c, ls[j].rule, &ls[j]);
	if (c->v->explain != NULL) {
		/* --explain: the keyword expressions no term of matched */
		unsigned nr = scan_db_rule_count(c->e->db);
		for (unsigned id = 0; id < nr; id++) {
			const struct scan_rule *r = scan_db_rule(c->e->db, id);
			unsigned j = 0;
			if (r->match != SCAN_MATCH_LOGIC ||
			    r->kind != SCAN_RULE_CONTENT)
				continue; /* .ldb signatures are virus rules */
			while (j < nls && ls[j].rule != id)
				j++;
			if (j == nls)
				eval_logic(c, id, NULL);
			id += r->nterms;
		}
	}
	unsigned dropped = scan_db_hits_dropped(c->scratch);
	if (dropped > 0)
		scan_verdict_add(c->v, SCAN_F_LIMIT, -1, "rule-hits",
				 "more than %d rule hits; %u not examined",
				 SCAN_DB_MAX_HITS, dropped);
}
