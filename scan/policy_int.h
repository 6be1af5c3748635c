/*
 * scan/policy_int.h - private to scan/policy_conf.c (loader) and
 * scan/policy.c (engine): the precomputed, read-only form of the scan
 * configuration. Everything lives in the config's pool and is freed with
 * it. Not for other modules: use scan/policy.h.
 */
#ifndef SLUICE_SCAN_POLICY_INT_H
#define SLUICE_SCAN_POLICY_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "scan/policy.h"

enum pol_pat_kind {
	POL_PAT_ANY,    /* "*" */
	POL_PAT_NULL,   /* "<>" */
	POL_PAT_ADDR,   /* glob on the whole address (has '@') */
	POL_PAT_DOMAIN, /* glob on the domain (no '@') */
	POL_PAT_GROUP,  /* "@name" */
};

struct pol_group;

struct pol_pat {
	enum pol_pat_kind kind;
	const char *glob;              /* ADDR / DOMAIN */
	const struct pol_group *group; /* GROUP */
};

struct pol_pats {
	const struct pol_pat *v;
	size_t n;
};

struct pol_group {
	const char *name;
	struct pol_pats pats; /* no nested groups */
};

enum pol_dir { POL_DIR_ANY, POL_DIR_IN, POL_DIR_OUT };

/* Terminal actions in increasing severity (content filter picks max). */
enum pol_term {
	POL_T_NONE,
	POL_T_DELIVER,
	POL_T_DELETE,
	POL_T_QUARANTINE,
	POL_T_REJECT,
};

enum {
	POL_M_STRIP = 1u << 0,
	POL_M_TAG = 1u << 1,
	POL_M_HEADER = 1u << 2,
	POL_M_NOTIFY = 1u << 3,
};

struct pol_actions {
	enum pol_term term;
	unsigned mods;          /* POL_M_* */
	const char *area;       /* QUARANTINE */
	const char *notice;     /* STRIP template */
	const char *tag;        /* TAG template */
	const char *header;     /* HEADER template ("Name: value") */
	unsigned notify;        /* SCAN_NOTIFY_* */
	const char *tmpl_name;  /* NOTIFY */
	const char *tmpl_text;
};

enum pol_ftype {
	POL_F_ATTACHMENT,
	POL_F_SIZE,
	POL_F_VIRUS,
	POL_F_CONTENT,
	POL_F_SPAM,
	POL_F_LIMITS,
};

struct pol_class {
	const char *name;
	struct pol_actions act;
};

struct pol_filter {
	enum pol_ftype type;
	unsigned line;
	struct pol_actions act;
	/* attachment */
	const char *const *exts;  /* lower case, no dot */
	size_t nexts;
	const char *const *types; /* true type names */
	size_t ntypes;
	const char *const *names; /* globs on the file name */
	size_t nnames;
	uint64_t max_size;        /* 0: no limit */
	/* size */
	uint64_t max_message;
	/* content */
	const struct pol_class *classes;
	size_t nclasses;
	/* spam */
	int threshold;
	/* limits: mask of 1u << SCAN_F_* */
	unsigned kinds;
	unsigned max_attachments; /* 0: no limit */
};

struct pol_policy {
	const char *name;
	const struct pol_filter *f;
	size_t n;
};

struct scan_route {
	const char *name;
	enum pol_dir dir;
	struct pol_pats from, to; /* n == 0: any */
	const struct pol_policy *policy;
	unsigned line;
};

struct pol_cidr {
	uint8_t a[16];
	unsigned bits;
	bool v6;
};

enum pol_list_mode { POL_LIST_SCORE, POL_LIST_REJECT, POL_LIST_BYPASS };

struct pol_list {
	const char *name;
	struct pol_pats senders;    /* n == 0: not checked */
	const struct pol_cidr *cidrs;
	size_t ncidrs;              /* 0: not checked */
	enum pol_list_mode mode;
	int score;
};

struct pol_template {
	const char *name;
	const char *text;
};

struct pol_rule_class {
	const char *rule;
	const char *cls;
};

struct pol_block;

struct scan_config {
	struct pol_block *pool;
	const char *file;
	struct scan_limits lim;
	const char **sigs;              /* NULL-terminated */
	const char *cache_dir;
	struct pol_pats internal;
	struct pol_group *groups;
	size_t ngroups;
	struct pol_template *tmpls;
	size_t ntmpls;
	struct scan_rule_def *defs;     /* content, then spam */
	size_t ndefs, ncontent;
	struct pol_rule_class *rclass;  /* ncontent, sorted by rule */
	int threshold;
	struct pol_list *lists;
	size_t nlists;
	struct scan_route *routes;
	size_t nroutes;
	struct pol_policy *policies;
	size_t npolicies;
	struct scan_route def_route;    /* "default" -> default policy */
};

/* Template variables (policy.c); used by the loader to validate. */
int pol_template_var_known(const char *name, size_t len);
extern const char pol_template_vars[];

/* Glob with '*' and '?', ASCII case-insensitive (policy.c). */
bool pol_glob(const char *pat, const char *s);

#endif
