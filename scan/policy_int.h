/*
 * scan/policy_int.h - private to scan/config.c and scan/policy_conf.c
 * (loader) and scan/policy.c (engine): the precomputed, read-only form of
 * the scan configuration, and the loader state and helpers the two loader
 * files share. Everything lives in the config's pool and is freed with
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
	POL_F_ENCRYPTED,
	POL_F_MACRO,
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
	bool deceptive;           /* block double-extension / bidi names */
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
	struct scan_clamav_conf clam;
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

/* ---- Loader (config.c, policy_conf.c); start-up only, not thread-safe -- */

struct loader {
	struct scan_config *c;
	const char *dir; /* config file's directory, pool */
	char *err;
	size_t errsz;
};

/* Pool of cfg: zeroed memory that lives until scan_config_free(); NULL
 * when out of memory. pol_array: n elements of sz, n may be 0 (returns a
 * valid pointer), NULL on overflow. */
void *pol_alloc(struct scan_config *c, size_t n);
void *pol_array(struct scan_config *c, size_t n, size_t sz);
char *pol_strdup(struct scan_config *c, const char *s);

/* Write "out of memory" into l->err; returns -ENOMEM. */
int pol_oom(struct loader *l);
#define OOM(l) pol_oom(l)
/* "FILE:LINE: message" for node into l->err; returns -EINVAL. */
#define ERR(l, node, ...) conf_error((node), (l)->err, (l)->errsz, __VA_ARGS__)

/* The helpers below return 0 or a negative errno with l->err filled in. */

/* Check s, a name of what (route, policy, group, ...): 1 to 63 letters,
 * digits, '-', '_', '.'. pol_get_ident: read the string node n, check it
 * and copy it into the pool (*out). */
int pol_check_ident(struct loader *l, const struct conf_node *n,
		    const char *what, const char *s);
int pol_get_ident(struct loader *l, const struct conf_node *n,
		  const char *what, const char **out);

/* Optional size key of map m, min..max: keeps *out when absent. */
int pol_opt_size(struct loader *l, const struct conf_node *m,
		 const char *key, const char *what, uint64_t min,
		 uint64_t max, uint64_t *out);

/* List of address patterns n into *out (pool). allow_groups: "@name" of
 * groups defined so far is allowed; domains_only (internal_domains):
 * domain globs only, no addresses and no groups. */
int pol_parse_pats(struct loader *l, const struct conf_node *n,
		   const char *what, bool allow_groups, bool domains_only,
		   struct pol_pats *out);

/* Template text s: refuses unknown %VARIABLES% and text of SCAN_TEXT_MAX
 * or more. pol_find_template: the template called name (configured or
 * built-in), NULL when none; borrows from c. */
int pol_check_template(struct loader *l, const struct conf_node *n,
		       const char *what, const char *s);
const struct pol_template *pol_find_template(const struct scan_config *c,
					     const char *name);

/* policy_conf.c: policies (m: the `policies` map or NULL; adds the
 * built-in default policy when none is called "default"), then routes
 * (n: the `routes` list or NULL; needs the policies). */
int pol_load_policies(struct loader *l, const struct conf_node *m);
int pol_load_routes(struct loader *l, const struct conf_node *n);

/* Template variables (policy.c); used by the loader to validate. */
int pol_template_var_known(const char *name, size_t len);
extern const char pol_template_vars[];

/* Glob with '*' and '?', ASCII case-insensitive (policy.c). */
bool pol_glob(const char *pat, const char *s);

#endif
