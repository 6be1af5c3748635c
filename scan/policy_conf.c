/* scan/policy_conf.c - load and validate the routes and policies (filters
 * and their actions) of the scan configuration, for the loader in
 * config.c; see policy.h for the schema and policy_int.h for the
 * precomputed form. */
#include "scan/policy_int.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Copy a list of strings (checked) into the pool, each through fix()
 * when given. */
static int get_strlist(struct loader *l, const struct conf_node *n,
		       const char *what, const char *const **out, size_t *nout)
{
	int rc = conf_check_strlist(n, what, l->err, l->errsz);
	if (rc < 0)
		return rc;
	size_t cnt = conf_list_len(n);
	const char **v = pol_array(l->c, cnt + 1, sizeof(*v));
	if (v == NULL)
		return OOM(l);
	for (size_t i = 0; i < cnt; i++) {
		v[i] = pol_strdup(l->c, conf_scalar(conf_list_at(n, i)));
		if (v[i] == NULL)
			return OOM(l);
	}
	*out = v;
	*nout = cnt;
	return 0;
}

/* ---- Policies ------------------------------------------------------------ */

static const char *const ftype_names[] = {
	[POL_F_ATTACHMENT] = "attachment", [POL_F_SIZE] = "size",
	[POL_F_VIRUS] = "virus", [POL_F_CONTENT] = "content",
	[POL_F_SPAM] = "spam", [POL_F_LIMITS] = "limits",
	[POL_F_ENCRYPTED] = "encrypted", [POL_F_MACRO] = "macro",
};

/* Defaults when a filter does not say `action:`. */
static const struct {
	enum pol_term term;
	unsigned mods;
	const char *area, *tag, *header;
} ftype_defaults[] = {
	[POL_F_ATTACHMENT] = {POL_T_NONE, POL_M_STRIP, "attachment",
			      "[BLOCKED]", "X-Sluice-Attachment: %RULE%"},
	[POL_F_SIZE] = {POL_T_REJECT, 0, "size", "[TOO LARGE]",
			"X-Sluice-Size: %RULE%"},
	[POL_F_VIRUS] = {POL_T_REJECT, 0, "virus", "[VIRUS]",
			 "X-Sluice-Virus: %VIRUSNAME%"},
	[POL_F_CONTENT] = {POL_T_REJECT, 0, "content", "[CONTENT]",
			   "X-Sluice-Content: %RULE%"},
	[POL_F_SPAM] = {POL_T_NONE, POL_M_TAG | POL_M_HEADER, "spam",
			"[SPAM]", "X-Sluice-Spam: yes, score=%SCORE%"},
	[POL_F_LIMITS] = {POL_T_QUARANTINE, 0, "suspect", "[SUSPECT]",
			  "X-Sluice-Suspect: %RULE%"},
	[POL_F_ENCRYPTED] = {POL_T_QUARANTINE, 0, "encrypted", "[ENCRYPTED]",
			     "X-Sluice-Encrypted: %FILENAME%"},
	[POL_F_MACRO] = {POL_T_QUARANTINE, 0, "macro", "[MACRO]",
			 "X-Sluice-Macro: %FILENAME%"},
};

static const char default_notice[] =
	"The attachment \"%FILENAME%\" was removed by the mail gateway "
	"(%RULE%).";

static const char *const action_keys[] = {"action", "area", "notice",
	"tag", "header", "notify", "template", NULL};
#define NACTION_KEYS (sizeof(action_keys) / sizeof(action_keys[0]) - 1)

static int parse_actions(struct loader *l, const struct conf_node *m,
			 enum pol_ftype type, const char *what,
			 struct pol_actions *a)
{
	static const struct {
		const char *name;
		enum pol_term term;
		unsigned mod;
	} verbs[] = {
		{"deliver", POL_T_DELIVER, 0}, {"reject", POL_T_REJECT, 0},
		{"delete", POL_T_DELETE, 0},
		{"quarantine", POL_T_QUARANTINE, 0},
		{"strip", POL_T_NONE, POL_M_STRIP},
		{"tag", POL_T_NONE, POL_M_TAG},
		{"header", POL_T_NONE, POL_M_HEADER},
		{"notify", POL_T_NONE, POL_M_NOTIFY},
	};
	int rc;
	/* `m` is either the map holding action keys, or (content classes)
	 * a scalar/list of verbs. */
	const struct conf_node *an = conf_kind(m) == CONF_MAP
					     ? conf_map_get(m, "action") : m;
	const struct conf_node *pm = conf_kind(m) == CONF_MAP ? m : NULL;
	memset(a, 0, sizeof(*a));
	if (an == NULL) {
		a->term = ftype_defaults[type].term;
		a->mods = ftype_defaults[type].mods;
	} else {
		if ((rc = conf_check_strlist(an, what, l->err, l->errsz)) < 0)
			return rc;
		const struct conf_node *first_term = NULL;
		for (size_t i = 0; i < conf_list_len(an); i++) {
			const struct conf_node *it = conf_list_at(an, i);
			const char *s = conf_scalar(it);
			size_t j;
			for (j = 0; j < sizeof(verbs) / sizeof(verbs[0]); j++)
				if (strcmp(s, verbs[j].name) == 0)
					break;
			if (j == sizeof(verbs) / sizeof(verbs[0]))
				return ERR(l, it, "%s: unknown action '%.32s'; "
					   "use deliver, reject, delete, "
					   "quarantine, strip, tag, header or "
					   "notify", what, s);
			if (verbs[j].term != POL_T_NONE) {
				if (first_term != NULL)
					return ERR(l, it, "%s: '%s' and "
						   "another final action "
						   "(deliver, reject, delete, "
						   "quarantine) in one list; "
						   "keep one", what, s);
				first_term = it;
				a->term = verbs[j].term;
			}
			a->mods |= verbs[j].mod;
		}
	}
	if ((a->mods & POL_M_STRIP) && type != POL_F_ATTACHMENT &&
	    type != POL_F_VIRUS && type != POL_F_CONTENT)
		return ERR(l, an ? an : m, "%s: 'strip' removes attachments "
			   "and only applies to the attachment, virus and "
			   "content filters", what);

	/* Parameters: each needs its action, each action gets a default. */
	static const struct {
		const char *key;
		unsigned mod;
		enum pol_term term;
	} params[] = {
		{"area", 0, POL_T_QUARANTINE}, {"notice", POL_M_STRIP, 0},
		{"tag", POL_M_TAG, 0}, {"header", POL_M_HEADER, 0},
		{"notify", POL_M_NOTIFY, 0}, {"template", POL_M_NOTIFY, 0},
	};
	for (size_t i = 0; pm != NULL && i < sizeof(params) / sizeof(params[0]);
	     i++) {
		const struct conf_node *p = conf_map_get(pm, params[i].key);
		if (p == NULL)
			continue;
		bool have = params[i].mod ? (a->mods & params[i].mod) != 0
					  : a->term == params[i].term;
		if (!have)
			return ERR(l, p, "%s: '%s' is set but the action does "
				   "not include %s; add it to 'action' or "
				   "remove '%s'", what, params[i].key,
				   params[i].mod ? (params[i].mod == POL_M_STRIP
						    ? "strip"
						    : params[i].mod == POL_M_TAG
						    ? "tag"
						    : params[i].mod ==
							      POL_M_HEADER
						    ? "header" : "notify")
						 : "quarantine",
				   params[i].key);
	}
	const struct conf_node *p = NULL;
	if (a->term == POL_T_QUARANTINE) {
		a->area = ftype_defaults[type].area;
		if (pm && (p = conf_map_get(pm, "area")) != NULL &&
		    (rc = pol_get_ident(l, p, "quarantine area", &a->area)) < 0)
			return rc;
	}
	if (a->mods & POL_M_STRIP) {
		a->notice = default_notice;
		if (pm && (p = conf_map_get(pm, "notice")) != NULL) {
			if ((rc = conf_get_string(p, "notice", false,
						  &a->notice, l->err,
						  l->errsz)) < 0 ||
			    (rc = pol_check_template(l, p, "notice",
						     a->notice)) < 0)
				return rc;
			if ((a->notice = pol_strdup(l->c, a->notice)) == NULL)
				return OOM(l);
		}
	}
	if (a->mods & POL_M_TAG) {
		a->tag = ftype_defaults[type].tag;
		if (pm && (p = conf_map_get(pm, "tag")) != NULL) {
			if ((rc = conf_get_string(p, "tag", false, &a->tag,
						  l->err, l->errsz)) < 0 ||
			    (rc = pol_check_template(l, p, "tag", a->tag)) < 0)
				return rc;
			if (strpbrk(a->tag, "\r\n") != NULL)
				return ERR(l, p, "tag: must be one line");
			if ((a->tag = pol_strdup(l->c, a->tag)) == NULL)
				return OOM(l);
		}
	}
	if (a->mods & POL_M_HEADER) {
		a->header = ftype_defaults[type].header;
		if (pm && (p = conf_map_get(pm, "header")) != NULL) {
			if ((rc = conf_get_string(p, "header", false,
						  &a->header, l->err,
						  l->errsz)) < 0 ||
			    (rc = pol_check_template(l, p, "header",
						     a->header)) < 0)
				return rc;
			/* "Name: value", name of printable non-colon. */
			const char *h = a->header, *colon = strchr(h, ':');
			bool ok = colon != NULL && colon != h &&
				  strpbrk(h, "\r\n") == NULL;
			for (const char *q = h; ok && q < colon; q++)
				ok = *q > ' ' && *q < 0x7f;
			if (!ok)
				return ERR(l, p, "header: expected one line "
					   "'Name: value', e.g. "
					   "'X-Sluice-Spam: yes'");
			if ((a->header = pol_strdup(l->c, a->header)) == NULL)
				return OOM(l);
		}
	}
	if (a->mods & POL_M_NOTIFY) {
		a->notify = SCAN_NOTIFY_ADMIN;
		if (pm && (p = conf_map_get(pm, "notify")) != NULL) {
			if ((rc = conf_check_strlist(p, "notify", l->err,
						     l->errsz)) < 0)
				return rc;
			a->notify = 0;
			for (size_t i = 0; i < conf_list_len(p); i++) {
				const struct conf_node *it = conf_list_at(p, i);
				const char *s = conf_scalar(it);
				if (strcmp(s, "sender") == 0)
					a->notify |= SCAN_NOTIFY_SENDER;
				else if (strcmp(s, "recipient") == 0)
					a->notify |= SCAN_NOTIFY_RECIPIENT;
				else if (strcmp(s, "admin") == 0)
					a->notify |= SCAN_NOTIFY_ADMIN;
				else
					return ERR(l, it, "notify: unknown "
						   "'%.32s'; use sender, "
						   "recipient or admin", s);
			}
		}
		a->tmpl_name = ftype_names[type];
		if (pm && (p = conf_map_get(pm, "template")) != NULL &&
		    (rc = pol_get_ident(l, p, "template", &a->tmpl_name)) < 0)
			return rc;
		const struct pol_template *t = pol_find_template(l->c,
								 a->tmpl_name);
		if (t == NULL)
			return ERR(l, p ? p : m, "template '%s' is not defined;"
				   " add it under 'templates'", a->tmpl_name);
		a->tmpl_text = t->text;
	}
	return 0;
}

static int parse_filter(struct loader *l, const struct conf_node *m,
			const char *pname, struct pol_filter *f)
{
	static const char *const extra[][6] = {
		[POL_F_ATTACHMENT] = {"extensions", "true_types", "names",
				      "max_size", "deceptive_names", NULL},
		[POL_F_SIZE] = {"max", NULL},
		[POL_F_VIRUS] = {NULL},
		[POL_F_CONTENT] = {"classes", NULL},
		[POL_F_SPAM] = {"threshold", NULL},
		[POL_F_LIMITS] = {"findings", NULL},
		[POL_F_ENCRYPTED] = {NULL},
		[POL_F_MACRO] = {NULL},
	};
	char what[128];
	int rc;
	if (conf_kind(m) != CONF_MAP)
		return ERR(l, m, "policy '%s': each filter is a map starting "
			   "with 'type:'", pname);
	const struct conf_node *tn = conf_map_get(m, "type");
	const char *t;
	if (tn == NULL)
		return ERR(l, m, "policy '%s': filter without 'type'; use "
			   "attachment, size, virus, content, spam, limits, "
			   "encrypted or macro", pname);
	if ((rc = conf_get_string(tn, "filter type", false, &t, l->err,
				  l->errsz)) < 0)
		return rc;
	size_t ti;
	for (ti = 0; ti < sizeof(ftype_names) / sizeof(ftype_names[0]); ti++)
		if (strcmp(t, ftype_names[ti]) == 0)
			break;
	if (ti == sizeof(ftype_names) / sizeof(ftype_names[0]))
		return ERR(l, tn, "policy '%s': unknown filter type '%.32s'; "
			   "use attachment, size, virus, content, spam, "
			   "limits, encrypted or macro", pname, t);
	f->type = (enum pol_ftype)ti;
	f->line = conf_line(m);
	snprintf(what, sizeof(what), "policy '%s' %s filter", pname, t);

	const char *keys[1 + NACTION_KEYS + 6];
	size_t k = 0;
	keys[k++] = "type";
	for (size_t i = 0; i < NACTION_KEYS; i++)
		keys[k++] = action_keys[i];
	for (size_t i = 0; extra[ti][i] != NULL; i++)
		keys[k++] = extra[ti][i];
	keys[k] = NULL;
	if ((rc = conf_check_map(m, what, keys, l->err, l->errsz)) < 0 ||
	    (rc = parse_actions(l, m, f->type, what, &f->act)) < 0)
		return rc;

	const struct conf_node *n;
	switch (f->type) {
	case POL_F_ATTACHMENT:
		f->max_size = l->c->lim.attachment_size;
		if ((rc = pol_opt_size(l, m, "max_size", "max_size", 1,
				       64ull << 30, &f->max_size)) < 0)
			return rc;
		if ((n = conf_map_get(m, "extensions")) != NULL) {
			if ((rc = get_strlist(l, n, "extensions", &f->exts,
					      &f->nexts)) < 0)
				return rc;
			for (size_t i = 0; i < f->nexts; i++) {
				char *e = (char *)f->exts[i];
				if (e[0] == '.')
					memmove(e, e + 1, strlen(e));
				if (e[0] == '\0' || strchr(e, '.') != NULL)
					return ERR(l, conf_list_at(n, i),
						   "extensions: '%.32s': write "
						   "one extension without "
						   "dots, e.g. exe",
						   f->exts[i]);
				for (char *q = e; *q; q++)
					*q = (char)tolower((unsigned char)*q);
			}
		}
		if ((n = conf_map_get(m, "true_types")) != NULL &&
		    (rc = get_strlist(l, n, "true_types", &f->types,
				      &f->ntypes)) < 0)
			return rc;
		if ((n = conf_map_get(m, "names")) != NULL &&
		    (rc = get_strlist(l, n, "names", &f->names,
				      &f->nnames)) < 0)
			return rc;
		f->deceptive = true;
		if ((n = conf_map_get(m, "deceptive_names")) != NULL &&
		    (rc = conf_get_bool(n, "deceptive_names", &f->deceptive,
					l->err, l->errsz)) < 0)
			return rc;
		break;
	case POL_F_SIZE:
		f->max_message = l->c->lim.message_size;
		if ((rc = pol_opt_size(l, m, "max", "max", 1, 64ull << 30,
				       &f->max_message)) < 0)
			return rc;
		break;
	case POL_F_VIRUS:
		break;
	case POL_F_CONTENT:
		if ((n = conf_map_get(m, "classes")) == NULL)
			break;
		if (conf_kind(n) != CONF_MAP)
			return ERR(l, n, "classes: expected a map of class "
				   "name -> action");
		f->nclasses = conf_len(n);
		struct pol_class *cv = pol_array(l->c, f->nclasses,
						 sizeof(*cv));
		if (cv == NULL)
			return OOM(l);
		for (size_t i = 0; i < f->nclasses; i++) {
			const struct conf_node *v = conf_map_value(n, i);
			const char *cname = conf_map_key(n, i);
			char cwhat[160];
			if ((rc = pol_check_ident(l, v, "class name",
						  cname)) < 0)
				return rc;
			snprintf(cwhat, sizeof(cwhat), "%s class '%s'", what,
				 cname);
			if (conf_kind(v) == CONF_MAP &&
			    (rc = conf_check_map(v, cwhat, action_keys,
						 l->err, l->errsz)) < 0)
				return rc;
			if (conf_kind(v) == CONF_MAP &&
			    conf_map_get(v, "action") == NULL)
				return ERR(l, v, "%s: 'action' is missing",
					   cwhat);
			if ((rc = parse_actions(l, v, POL_F_CONTENT, cwhat,
						&cv[i].act)) < 0)
				return rc;
			if ((cv[i].name = pol_strdup(l->c, cname)) == NULL)
				return OOM(l);
		}
		f->classes = cv;
		break;
	case POL_F_SPAM:
		f->threshold = l->c->threshold;
		if ((n = conf_map_get(m, "threshold")) != NULL) {
			long long v;
			if ((rc = conf_get_int(n, "threshold", 1, 100000, &v,
					       l->err, l->errsz)) < 0)
				return rc;
			f->threshold = (int)v;
		}
		break;
	case POL_F_LIMITS:
		f->kinds = 1u << SCAN_F_LIMIT | 1u << SCAN_F_MALFORMED;
		f->max_attachments = l->c->lim.attachments;
		if ((n = conf_map_get(m, "findings")) != NULL) {
			if ((rc = conf_check_strlist(n, "findings", l->err,
						     l->errsz)) < 0)
				return rc;
			f->kinds = 0;
			for (size_t i = 0; i < conf_list_len(n); i++) {
				const struct conf_node *it = conf_list_at(n, i);
				const char *s = conf_scalar(it);
				if (strcmp(s, "limit") == 0)
					f->kinds |= 1u << SCAN_F_LIMIT;
				else if (strcmp(s, "malformed") == 0)
					f->kinds |= 1u << SCAN_F_MALFORMED;
				else if (strcmp(s, "ambiguous") == 0)
					f->kinds |= 1u << SCAN_F_AMBIGUOUS;
				else
					return ERR(l, it, "findings: unknown "
						   "'%.32s'; use limit, "
						   "malformed or ambiguous", s);
			}
		}
		break;
	case POL_F_ENCRYPTED:
	case POL_F_MACRO:
		break;
	}
	return 0;
}

static int parse_policy(struct loader *l, const struct conf_node *seq,
			const char *name, struct pol_policy *p)
{
	if (conf_kind(seq) != CONF_SEQ)
		return ERR(l, seq, "policy '%s': expected a list of filters "
			   "('- type: virus')", name);
	p->n = conf_len(seq);
	struct pol_filter *f = pol_array(l->c, p->n, sizeof(*f));
	if (f == NULL)
		return OOM(l);
	for (size_t i = 0; i < p->n; i++) {
		int rc = parse_filter(l, conf_seq_at(seq, i), name, &f[i]);
		if (rc < 0)
			return rc;
	}
	p->f = f;
	return 0;
}

/* The default policy used when the configuration has none: identical to
 * the `default` policy shipped in config/sluice.conf (a test checks). */
static const char builtin_default_policy[] =
	"- type: size\n"
	"  action: reject\n"
	"- type: virus\n"
	"  action: reject\n"
	"- type: attachment\n"
	"  extensions: [exe, scr, bat, shs, vbs, pif, dot, pot, com, cmd, "
	"lnk, eml, swf, vbe, chm, js, jse, wsf, hta, ps1, iso, img, vhd, "
	"msi, jar]\n"
	"  true_types: [pe, msdos, elf, macho, class, jar, lnk, chm, swf, "
	"iso9660, udf, vhd, vhdx, img, dmg]\n"
	"  notice: 'The attachment \"%FILENAME%\" was removed by the mail "
	"gateway (%RULE%).'\n"
	"  action: strip\n"
	"- type: content\n"
	"  action: reject\n"
	"- type: limits\n"
	"  findings: [limit, malformed]\n"
	"  action: quarantine\n"
	"  area: suspect\n"
	"- type: encrypted\n"
	"  action: quarantine\n"
	"  area: encrypted\n"
	"- type: macro\n"
	"  action: quarantine\n"
	"  area: macro\n"
	"- type: spam\n"
	"  action: [tag, header]\n"
	"  tag: \"[SPAM]\"\n"
	"  header: \"X-Sluice-Spam: yes, score=%SCORE%\"\n";

int pol_load_policies(struct loader *l, const struct conf_node *m)
{
	size_t cnt = 0;
	int rc;
	if (m != NULL) {
		if (conf_kind(m) != CONF_MAP)
			return ERR(l, m, "policies: expected a map of policy "
				   "name -> list of filters");
		cnt = conf_len(m);
	}
	bool have_default = conf_map_get(m, "default") != NULL;
	struct pol_policy *pv = pol_array(l->c, cnt + !have_default,
					  sizeof(*pv));
	if (pv == NULL)
		return OOM(l);
	for (size_t i = 0; i < cnt; i++) {
		const char *name = conf_map_key(m, i);
		const struct conf_node *v = conf_map_value(m, i);
		if ((rc = pol_check_ident(l, v, "policy name", name)) < 0)
			return rc;
		if ((pv[i].name = pol_strdup(l->c, name)) == NULL)
			return OOM(l);
		if ((rc = parse_policy(l, v, name, &pv[i])) < 0)
			return rc;
	}
	if (!have_default) {
		struct conf_doc *d;
		rc = conf_load_string("<built-in default policy>",
				      builtin_default_policy,
				      sizeof(builtin_default_policy) - 1, &d,
				      l->err, l->errsz);
		if (rc < 0)
			return rc; /* bug: the built-in text is constant */
		pv[cnt].name = "default";
		rc = parse_policy(l, conf_root(d), "default", &pv[cnt]);
		conf_free(d);
		if (rc < 0)
			return rc;
	}
	l->c->policies = pv;
	l->c->npolicies = cnt + !have_default;
	return 0;
}

static const struct pol_policy *find_policy(const struct scan_config *c,
					    const char *name)
{
	for (size_t i = 0; i < c->npolicies; i++)
		if (strcmp(c->policies[i].name, name) == 0)
			return &c->policies[i];
	return NULL;
}

/* ---- Routes -------------------------------------------------------------- */

int pol_load_routes(struct loader *l, const struct conf_node *n)
{
	static const char *const keys[] = {"name", "direction", "from", "to",
		"policy", NULL};
	int rc;
	struct scan_config *c = l->c;
	c->def_route.name = "default";
	c->def_route.dir = POL_DIR_ANY;
	c->def_route.policy = find_policy(c, "default");
	if (n == NULL || conf_is_null(n))
		return 0;
	if (conf_kind(n) != CONF_SEQ)
		return ERR(l, n, "routes: expected a list of routes "
			   "('- name: ...')");
	c->nroutes = conf_len(n);
	c->routes = pol_array(c, c->nroutes, sizeof(*c->routes));
	if (c->routes == NULL)
		return OOM(l);
	for (size_t i = 0; i < c->nroutes; i++) {
		const struct conf_node *m = conf_seq_at(n, i);
		struct scan_route *r = &c->routes[i];
		if ((rc = conf_check_map(m, "route", keys, l->err,
					 l->errsz)) < 0)
			return rc;
		const struct conf_node *nn = conf_map_get(m, "name");
		const struct conf_node *pn = conf_map_get(m, "policy");
		if (nn == NULL)
			return ERR(l, m, "route: 'name' is missing");
		if ((rc = pol_get_ident(l, nn, "route name", &r->name)) < 0)
			return rc;
		if (strcmp(r->name, "default") == 0)
			return ERR(l, nn, "route name 'default' is reserved "
				   "for mail no route matches; choose "
				   "another name");
		for (size_t j = 0; j < i; j++)
			if (strcmp(c->routes[j].name, r->name) == 0)
				return ERR(l, nn, "route '%s' is already "
					   "defined at line %u; rename one",
					   r->name, c->routes[j].line);
		r->line = conf_line(m);
		if (pn == NULL)
			return ERR(l, m, "route '%s': 'policy' is missing",
				   r->name);
		const char *pol;
		if ((rc = conf_get_string(pn, "route policy", false, &pol,
					  l->err, l->errsz)) < 0)
			return rc;
		r->policy = find_policy(c, pol);
		if (r->policy == NULL) {
			const char *best = NULL;
			for (size_t j = 0; j < c->npolicies && !best; j++)
				if (strncasecmp(c->policies[j].name, pol, 3) == 0)
					best = c->policies[j].name;
			if (best != NULL)
				return ERR(l, pn, "route '%s': unknown policy "
					   "'%.64s'; did you mean '%s'?",
					   r->name, pol, best);
			return ERR(l, pn, "route '%s': unknown policy '%.64s';"
				   " define it under 'policies'", r->name,
				   pol);
		}
		const struct conf_node *dn = conf_map_get(m, "direction");
		r->dir = POL_DIR_ANY;
		if (dn != NULL) {
			const char *d = conf_scalar(dn);
			if (d != NULL && strcmp(d, "incoming") == 0)
				r->dir = POL_DIR_IN;
			else if (d != NULL && strcmp(d, "outgoing") == 0)
				r->dir = POL_DIR_OUT;
			else if (d == NULL || strcmp(d, "any") != 0)
				return ERR(l, dn, "route '%s': direction must "
					   "be incoming, outgoing or any",
					   r->name);
		}
		const struct conf_node *fn = conf_map_get(m, "from");
		const struct conf_node *tn = conf_map_get(m, "to");
		if (fn != NULL && (rc = pol_parse_pats(l, fn, "route from",
						       true, false,
						       &r->from)) < 0)
			return rc;
		if (tn != NULL && (rc = pol_parse_pats(l, tn, "route to", true,
						       false, &r->to)) < 0)
			return rc;
	}
	return 0;
}
