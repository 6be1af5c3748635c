/* scan/policy.c - route selection and the policy engine; see policy.h.
 * Runs per message on scan cores: no allocation, no locks, no syscalls. */
#include "scan/policy_int.h"
#include "scan/fname.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* ---- Templates ----------------------------------------------------------- */

static const char *const tvars[] = {"FILENAME", "VIRUSNAME", "SENDER",
	"RECIPIENT", "SUBJECT", "RULE", "SCORE"};
enum { TV_FILENAME, TV_VIRUSNAME, TV_SENDER, TV_RECIPIENT, TV_SUBJECT,
       TV_RULE, TV_SCORE, TV_COUNT };

const char pol_template_vars[] =
	"%FILENAME% %VIRUSNAME% %SENDER% %RECIPIENT% %SUBJECT% %RULE% %SCORE%";

static int tvar_index(const char *name, size_t len)
{
	for (int i = 0; i < TV_COUNT; i++)
		if (strlen(tvars[i]) == len && memcmp(tvars[i], name, len) == 0)
			return i;
	return -1;
}

int pol_template_var_known(const char *name, size_t len)
{
	return tvar_index(name, len) >= 0;
}

/* ---- Matching ------------------------------------------------------------ */

static char lc(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Iterative glob: backtrack only to the last '*' (O(n*m) worst case). */
bool pol_glob(const char *pat, const char *s)
{
	const char *star = NULL, *retry = NULL;
	while (*s) {
		if (*pat == '*') {
			star = ++pat;
			retry = s;
		} else if (*pat == '?' || (*pat && lc(*pat) == lc(*s))) {
			pat++;
			s++;
		} else if (star != NULL) {
			pat = star;
			s = ++retry;
		} else {
			return false;
		}
	}
	while (*pat == '*')
		pat++;
	return *pat == '\0';
}

static const char *domain_of(const char *addr)
{
	const char *at = strrchr(addr, '@');
	return at != NULL ? at + 1 : "";
}

static bool pats_match(const struct pol_pats *ps, const char *addr);

static bool pat_match(const struct pol_pat *p, const char *addr)
{
	switch (p->kind) {
	case POL_PAT_ANY:
		return true;
	case POL_PAT_NULL:
		return addr[0] == '\0';
	case POL_PAT_ADDR:
		return addr[0] != '\0' && pol_glob(p->glob, addr);
	case POL_PAT_DOMAIN:
		return addr[0] != '\0' && domain_of(addr)[0] != '\0' &&
		       pol_glob(p->glob, domain_of(addr));
	case POL_PAT_GROUP:
		return pats_match(&p->group->pats, addr);
	}
	return false;
}

static bool pats_match(const struct pol_pats *ps, const char *addr)
{
	for (size_t i = 0; i < ps->n; i++)
		if (pat_match(&ps->v[i], addr))
			return true;
	return false;
}

int scan_config_is_internal(const struct scan_config *cfg,
			    const char *domain)
{
	if (domain == NULL || domain[0] == '\0')
		return 0;
	for (size_t i = 0; i < cfg->internal.n; i++)
		if (pol_glob(cfg->internal.v[i].glob, domain))
			return 1;
	return 0;
}

static bool addr_internal(const struct scan_config *cfg, const char *addr)
{
	return scan_config_is_internal(cfg, domain_of(addr));
}

static const char *sender_of(const struct scan_envelope *env)
{
	return env->mail_from != NULL ? env->mail_from : "";
}

static const char *rcpt_of(const struct scan_envelope *env, size_t i)
{
	return env->rcpt_to[i] != NULL ? env->rcpt_to[i] : "";
}

static bool route_matches(const struct scan_config *cfg,
			  const struct scan_route *r,
			  const struct scan_envelope *env)
{
	switch (r->dir) {
	case POL_DIR_ANY:
		break;
	case POL_DIR_IN:
		if (env->nrcpt == 0)
			return false;
		for (size_t i = 0; i < env->nrcpt; i++)
			if (!addr_internal(cfg, rcpt_of(env, i)))
				return false;
		break;
	case POL_DIR_OUT: {
		if (!addr_internal(cfg, sender_of(env)))
			return false;
		bool external = false;
		for (size_t i = 0; i < env->nrcpt && !external; i++)
			external = !addr_internal(cfg, rcpt_of(env, i));
		if (!external)
			return false;
		break;
	}
	}
	if (r->from.n != 0 && !pats_match(&r->from, sender_of(env)))
		return false;
	if (r->to.n != 0) {
		if (env->nrcpt == 0)
			return false;
		for (size_t i = 0; i < env->nrcpt; i++)
			if (!pats_match(&r->to, rcpt_of(env, i)))
				return false;
	}
	return true;
}

static const struct scan_envelope empty_env = {.mail_from = ""};

const struct scan_route *scan_policy_select(const struct scan_config *cfg,
					    const struct scan_envelope *env)
{
	if (env == NULL)
		env = &empty_env;
	for (size_t i = 0; i < cfg->nroutes; i++)
		if (route_matches(cfg, &cfg->routes[i], env))
			return &cfg->routes[i];
	return &cfg->def_route;
}

const char *scan_route_name(const struct scan_route *r)
{
	return r->name;
}

const char *scan_route_policy(const struct scan_route *r)
{
	return r->policy->name;
}

/* ---- Spam lists ---------------------------------------------------------- */

struct list_result {
	int sum;
	const char *reject; /* list name */
	const char *bypass; /* list name */
};

static bool cidr_match(const struct pol_cidr *c, const uint8_t *a, bool v6)
{
	if (c->v6 != v6)
		return false;
	unsigned full = c->bits / 8, rest = c->bits % 8;
	if (memcmp(c->a, a, full) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t mask = (uint8_t)(0xffu << (8 - rest));
	return (c->a[full] & mask) == (a[full] & mask);
}

static void why_add(char *why, size_t whysz, size_t *off, const char *name,
		    const char *what)
{
	if (why == NULL || *off + 1 >= whysz)
		return;
	int n = snprintf(why + *off, whysz - *off, "%s%s %s",
			 *off ? ", " : "", name, what);
	if (n > 0)
		*off += (size_t)n < whysz - *off ? (size_t)n : whysz - *off - 1;
}

static void lists_eval(const struct scan_config *cfg,
		       const struct scan_envelope *env, struct list_result *r,
		       char *why, size_t whysz)
{
	uint8_t a[16];
	bool have = false, v6 = false;
	size_t off = 0;

	memset(r, 0, sizeof(*r));
	if (why != NULL && whysz > 0)
		why[0] = '\0';
	if (env == NULL)
		env = &empty_env;
	if (env->client_addr != NULL) {
		if (inet_pton(AF_INET, env->client_addr, a) == 1) {
			have = true;
		} else if (inet_pton(AF_INET6, env->client_addr, a) == 1) {
			static const uint8_t mapped[12] = {
				0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
			have = true;
			v6 = true;
			if (memcmp(a, mapped, 12) == 0) { /* ::ffff:a.b.c.d */
				memmove(a, a + 12, 4);
				v6 = false;
			}
		}
	}
	for (size_t i = 0; i < cfg->nlists; i++) {
		const struct pol_list *li = &cfg->lists[i];
		if (li->senders.n != 0 &&
		    !pats_match(&li->senders, sender_of(env)))
			continue;
		if (li->ncidrs != 0) {
			bool hit = false;
			for (size_t j = 0; have && j < li->ncidrs && !hit; j++)
				hit = cidr_match(&li->cidrs[j], a, v6);
			if (!hit)
				continue;
		}
		switch (li->mode) {
		case POL_LIST_SCORE: {
			char num[16];
			r->sum += li->score;
			snprintf(num, sizeof(num), "%+d", li->score);
			why_add(why, whysz, &off, li->name, num);
			break;
		}
		case POL_LIST_REJECT:
			if (r->reject == NULL)
				r->reject = li->name;
			why_add(why, whysz, &off, li->name, "reject");
			break;
		case POL_LIST_BYPASS:
			if (r->bypass == NULL)
				r->bypass = li->name;
			why_add(why, whysz, &off, li->name, "bypass");
			break;
		}
	}
}

int scan_spam_list_score(const struct scan_config *cfg,
			 const struct scan_envelope *env, char *why,
			 size_t whysz)
{
	struct list_result r;
	lists_eval(cfg, env, &r, why, whysz);
	if (r.bypass != NULL)
		return SCAN_SPAM_LIST_BYPASS;
	if (r.reject != NULL)
		return SCAN_SPAM_LIST_REJECT;
	return r.sum;
}

/* ---- Engine -------------------------------------------------------------- */

struct ctx {
	const struct scan_config *cfg;
	const struct scan_envelope *env;
	const char *subject;
	const struct scan_policy_input *in;
	struct scan_verdict *v;
	const struct scan_part_info *parts;
	unsigned nparts;
	struct list_result lists;
	char lists_why[160];
	int score; /* keyword + list sum */
	unsigned strips_lost; /* strips with no room left in the verdict */
};

/* What triggered a filter: the first finding, for reason and templates. */
struct trig {
	const struct pol_actions *act;
	int part;
	const char *filename;
	const char *rule;
	const char *virus;
	char reason[SCAN_DETAIL_MAX];
};

static const struct scan_part_info *find_part(const struct ctx *c, int id)
{
	if (id < 0 || c->parts == NULL)
		return NULL;
	if ((unsigned)id < c->nparts && c->parts[id].id == id)
		return &c->parts[id];
	for (unsigned i = 0; i < c->nparts; i++)
		if (c->parts[i].id == id)
			return &c->parts[i];
	return NULL;
}

static const char *part_filename(const struct ctx *c, int id)
{
	const struct scan_part_info *p = find_part(c, id);
	return p != NULL ? p->filename : NULL;
}

/* Append s to out at *o with control characters as '?'. */
static void put_clean(char *out, size_t outsz, size_t *o, const char *s)
{
	for (; s != NULL && *s && *o + 1 < outsz; s++) {
		unsigned char ch = (unsigned char)*s;
		out[(*o)++] = ch < 0x20 || ch == 0x7f ? '?' : (char)ch;
	}
}

static void expand(const struct ctx *c, const struct trig *t,
		   const char *tmpl, char *out, size_t outsz)
{
	size_t o = 0;
	for (const char *p = tmpl; *p && o + 1 < outsz; p++) {
		if (*p == '%') {
			const char *e = p + 1;
			while ((*e >= 'A' && *e <= 'Z') || *e == '_')
				e++;
			int var = *e == '%' ? tvar_index(p + 1,
							 (size_t)(e - p - 1))
					    : -1;
			if (var >= 0) {
				char num[16];
				switch (var) {
				case TV_FILENAME:
					put_clean(out, outsz, &o,
						  t->filename ? t->filename
							      : "(unnamed)");
					break;
				case TV_VIRUSNAME:
					put_clean(out, outsz, &o, t->virus);
					break;
				case TV_SENDER: {
					const char *s = sender_of(c->env);
					put_clean(out, outsz, &o,
						  s[0] ? s : "<>");
					break;
				}
				case TV_RECIPIENT:
					for (size_t i = 0; i < c->env->nrcpt;
					     i++) {
						if (i)
							put_clean(out, outsz,
								  &o, ", ");
						put_clean(out, outsz, &o,
							  rcpt_of(c->env, i));
					}
					break;
				case TV_SUBJECT:
					put_clean(out, outsz, &o, c->subject);
					break;
				case TV_RULE:
					put_clean(out, outsz, &o, t->rule);
					break;
				case TV_SCORE:
					snprintf(num, sizeof(num), "%d",
						 c->score);
					put_clean(out, outsz, &o, num);
					break;
				}
				p = e;
				continue;
			}
		}
		out[o++] = *p;
	}
	out[o] = '\0';
}

static bool has_edit(const struct scan_verdict *v, enum scan_edit_kind k,
		     int part, const char *text)
{
	for (unsigned i = 0; i < v->nedits; i++)
		if (v->edits[i].kind == k && v->edits[i].part == part &&
		    (text == NULL || strcmp(v->edits[i].text, text) == 0))
			return true;
	return false;
}

static void add_edit(struct ctx *c, enum scan_edit_kind k, int part,
		     const char *text, unsigned notify)
{
	if (has_edit(c->v, k, part, k == SCAN_EDIT_STRIP ? NULL : text))
		return;
	struct scan_edit *e = scan_verdict_edit(c->v, k, part, text);
	if (e == NULL) {
		scan_explain(c->v, "    edit %s dropped: no room in the "
			     "verdict\n", scan_edit_kind_name(k));
		if (k == SCAN_EDIT_STRIP)
			c->strips_lost++;
		return;
	}
	e->notify = notify;
}

static void strip_part(struct ctx *c, const struct trig *t, int part,
		       const char *rule)
{
	char text[SCAN_TEXT_MAX];
	struct trig pt = *t;
	if (part < 0)
		return;
	pt.part = part;
	pt.filename = part_filename(c, part);
	pt.rule = rule;
	expand(c, &pt, t->act->notice, text, sizeof(text));
	add_edit(c, SCAN_EDIT_STRIP, part, text, 0);
}

/* ---- Filters: each fills *t and returns true when triggered ------------- */

static const char *basename_of(const char *s)
{
	const char *b = s;
	for (const char *p = s; *p; p++)
		if (*p == '/' || *p == '\\')
			b = p + 1;
	return b;
}

/* Does `name` carry extension ext anywhere after its first dot? Trailing
 * dots and spaces are ignored (Windows drops them: "x.exe. " runs). */
static bool has_ext(const char *name, const char *ext)
{
	size_t len = strlen(name), elen = strlen(ext);
	while (len > 0 && (name[len - 1] == '.' || name[len - 1] == ' '))
		len--;
	const char *dot = memchr(name, '.', len);
	while (dot != NULL) {
		const char *seg = dot + 1, *end = name + len;
		const char *next = memchr(seg, '.', (size_t)(end - seg));
		size_t slen = (size_t)((next ? next : end) - seg);
		if (slen == elen && strncasecmp(seg, ext, elen) == 0)
			return true;
		dot = next;
	}
	return false;
}

/* Why part p is blocked by attachment filter f, or NULL. kind set. */
static const char *attach_check(const struct pol_filter *f,
				const struct scan_part_info *p,
				enum scan_finding_kind *kind, char *rule,
				size_t rulesz)
{
	const char *name = p->filename != NULL ? basename_of(p->filename)
					       : NULL;
	*kind = SCAN_F_ATTACHMENT;
	if (name != NULL) {
		for (size_t i = 0; i < f->nexts; i++)
			if (has_ext(name, f->exts[i])) {
				snprintf(rule, rulesz, "extension:%s",
					 f->exts[i]);
				return rule;
			}
	}
	if (p->true_type != NULL) {
		for (size_t i = 0; i < f->ntypes; i++)
			if (strcasecmp(p->true_type, f->types[i]) == 0) {
				snprintf(rule, rulesz, "type:%s", f->types[i]);
				return rule;
			}
	}
	if (name != NULL && f->deceptive) {
		unsigned fl = scan_fname_check(name, NULL);
		if (fl & (SCAN_FNAME_DOUBLE_EXT | SCAN_FNAME_BIDI)) {
			snprintf(rule, rulesz, "name:%s",
				 fl & SCAN_FNAME_BIDI ? "bidi"
						      : "double-extension");
			return rule;
		}
	}
	if (name != NULL) {
		for (size_t i = 0; i < f->nnames; i++)
			if (pol_glob(f->names[i], name)) {
				snprintf(rule, rulesz, "name:%s", f->names[i]);
				return rule;
			}
		/* Size applies to MIME parts (they have a declared type),
		 * not to archive members: their budget is
		 * limits.decompressed_bytes. */
		if (f->max_size != 0 && p->content_type != NULL &&
		    p->size > f->max_size) {
			*kind = SCAN_F_SIZE;
			snprintf(rule, rulesz, "size:attachment");
			return rule;
		}
	}
	return NULL;
}

static bool f_attachment(struct ctx *c, const struct pol_filter *f,
			 struct trig *t, bool strip)
{
	unsigned hits = 0;
	for (unsigned i = 0; i < c->nparts; i++) {
		const struct scan_part_info *p = &c->parts[i];
		enum scan_finding_kind kind;
		char rule[SCAN_NAME_MAX];
		if (attach_check(f, p, &kind, rule, sizeof(rule)) == NULL)
			continue;
		if (strip) {
			strip_part(c, t, p->id, rule);
			continue;
		}
		const char *fname = p->filename ? p->filename : "(unnamed)";
		struct scan_finding *fd;
		if (kind == SCAN_F_SIZE)
			fd = scan_verdict_add(c->v, kind, p->id, rule,
					      "%s is %llu bytes, limit %llu",
					      fname,
					      (unsigned long long)p->size,
					      (unsigned long long)f->max_size);
		else
			fd = scan_verdict_add(c->v, kind, p->id, rule,
					      "%s (true type %s)", fname,
					      p->true_type ? p->true_type
							   : "?");
		if (hits++ == 0) {
			t->part = p->id;
			t->filename = p->filename;
			/* t->rule must outlive `rule`: the stored finding. */
			t->rule = fd != NULL ? fd->name
				  : kind == SCAN_F_SIZE ? "size:attachment"
							: "attachment";
			if (kind == SCAN_F_SIZE)
				snprintf(t->reason, sizeof(t->reason),
					 "attachment %s is larger than %llu "
					 "bytes", fname,
					 (unsigned long long)f->max_size);
			else
				snprintf(t->reason, sizeof(t->reason),
					 "attachment %s blocked (%s)", fname,
					 rule);
		}
	}
	if (hits == 0 && !strip)
		snprintf(t->reason, sizeof(t->reason), "%u parts checked",
			 c->nparts);
	return hits > 0;
}

static bool f_size(struct ctx *c, const struct pol_filter *f,
		   struct trig *t)
{
	uint64_t sz = c->in != NULL ? c->in->message_size : 0;
	if (sz <= f->max_message) {
		snprintf(t->reason, sizeof(t->reason), "%llu <= %llu bytes",
			 (unsigned long long)sz,
			 (unsigned long long)f->max_message);
		return false;
	}
	scan_verdict_add(c->v, SCAN_F_SIZE, -1, "size:message",
			 "%llu bytes, limit %llu", (unsigned long long)sz,
			 (unsigned long long)f->max_message);
	t->rule = "size:message";
	snprintf(t->reason, sizeof(t->reason),
		 "message size %llu bytes exceeds the limit of %llu bytes",
		 (unsigned long long)sz, (unsigned long long)f->max_message);
	return true;
}

static bool f_virus(struct ctx *c, struct trig *t, bool strip)
{
	bool hit = false;
	for (unsigned i = 0; i < c->v->nfindings; i++) {
		const struct scan_finding *fd = &c->v->findings[i];
		if (fd->kind != SCAN_F_VIRUS)
			continue;
		if (strip) {
			strip_part(c, t, fd->part, fd->name);
			continue;
		}
		if (hit)
			continue;
		hit = true;
		t->part = fd->part;
		t->filename = part_filename(c, fd->part);
		t->rule = fd->name;
		t->virus = fd->name;
		if (fd->part < 0)
			snprintf(t->reason, sizeof(t->reason),
				 "virus %s found in the message", fd->name);
		else if (t->filename != NULL)
			snprintf(t->reason, sizeof(t->reason),
				 "virus %s found in part %d (%s)", fd->name,
				 fd->part, t->filename);
		else
			snprintf(t->reason, sizeof(t->reason),
				 "virus %s found in part %d", fd->name,
				 fd->part);
	}
	if (!hit && !strip)
		snprintf(t->reason, sizeof(t->reason), "no virus findings");
	return hit;
}

static const char *content_class(const struct ctx *c, unsigned i)
{
	const char *cls = NULL;
	if (c->in != NULL && c->in->content_class != NULL)
		cls = c->in->content_class[i];
	if (cls == NULL)
		cls = scan_config_rule_class(c->cfg, c->v->findings[i].name);
	return cls != NULL ? cls : "block";
}

static const struct pol_actions *class_actions(const struct pol_filter *f,
					       const char *cls)
{
	for (size_t i = 0; i < f->nclasses; i++)
		if (strcmp(f->classes[i].name, cls) == 0)
			return &f->classes[i].act;
	return &f->act;
}

static bool f_content(struct ctx *c, const struct pol_filter *f,
		      struct trig *t, bool strip)
{
	int best = -1;
	const struct pol_actions *ba = NULL;
	for (unsigned i = 0; i < c->v->nfindings; i++) {
		const struct scan_finding *fd = &c->v->findings[i];
		if (fd->kind != SCAN_F_CONTENT)
			continue;
		const struct pol_actions *a =
			class_actions(f, content_class(c, i));
		if (strip) {
			if (a == t->act)
				strip_part(c, t, fd->part, fd->name);
			continue;
		}
		if (ba == NULL || a->term > ba->term) {
			ba = a;
			best = (int)i;
		}
	}
	if (!strip && best < 0)
		snprintf(t->reason, sizeof(t->reason), "no content findings");
	if (strip || best < 0)
		return false;
	const struct scan_finding *fd = &c->v->findings[best];
	t->act = ba;
	t->part = fd->part;
	t->filename = part_filename(c, fd->part);
	t->rule = fd->name;
	if (fd->part >= 0)
		snprintf(t->reason, sizeof(t->reason),
			 "content rule %s (class %s) matched in part %d",
			 fd->name, content_class(c, (unsigned)best), fd->part);
	else
		snprintf(t->reason, sizeof(t->reason),
			 "content rule %s (class %s) matched", fd->name,
			 content_class(c, (unsigned)best));
	return true;
}

static bool f_spam(struct ctx *c, const struct pol_filter *f,
		   struct trig *t)
{
	int kw = c->in != NULL ? c->in->keyword_score : 0;
	c->v->spam_threshold = f->threshold;
	scan_explain(c->v, "    spam score: keywords %d, lists %d%s%s%s = "
		     "%d, threshold %d\n", kw, c->lists.sum,
		     c->lists_why[0] ? " (" : "", c->lists_why,
		     c->lists_why[0] ? ")" : "", c->score, f->threshold);
	if (c->lists.bypass != NULL) {
		snprintf(t->reason, sizeof(t->reason),
			 "bypassed by spam list %s", c->lists.bypass);
		return false;
	}
	if (c->lists.reject != NULL) {
		static const struct pol_actions reject = {.term = POL_T_REJECT};
		scan_verdict_add(c->v, SCAN_F_SPAM, -1, c->lists.reject,
				 "spam list %s", c->lists.reject);
		t->act = &reject;
		t->rule = c->lists.reject;
		snprintf(t->reason, sizeof(t->reason),
			 "sender or client is on the spam list %s",
			 c->lists.reject);
		return true;
	}
	if (c->score < f->threshold) {
		snprintf(t->reason, sizeof(t->reason), "score %d < %d",
			 c->score, f->threshold);
		return false;
	}
	scan_verdict_add(c->v, SCAN_F_SPAM, -1, "spam-score",
			 "score %d, threshold %d", c->score, f->threshold);
	t->rule = "spam-score";
	snprintf(t->reason, sizeof(t->reason),
		 "spam score %d reached the threshold %d", c->score,
		 f->threshold);
	return true;
}

static bool f_limits(struct ctx *c, const struct pol_filter *f,
		     struct trig *t)
{
	if (f->max_attachments != 0) {
		unsigned n = 0;
		/* Named MIME parts; archive members (no declared type)
		 * do not count. */
		for (unsigned i = 0; i < c->nparts; i++)
			n += c->parts[i].filename != NULL &&
			     c->parts[i].content_type != NULL;
		if (n > f->max_attachments) {
			scan_verdict_add(c->v, SCAN_F_LIMIT, -1, "attachments",
					 "%u named parts, limit %u", n,
					 f->max_attachments);
			t->rule = "attachments";
			snprintf(t->reason, sizeof(t->reason),
				 "message has %u attachments, more than %u",
				 n, f->max_attachments);
			return true;
		}
	}
	for (unsigned i = 0; i < c->v->nfindings; i++) {
		const struct scan_finding *fd = &c->v->findings[i];
		if (!(f->kinds & (1u << fd->kind)))
			continue;
		t->part = fd->part;
		t->filename = part_filename(c, fd->part);
		t->rule = fd->name;
		snprintf(t->reason, sizeof(t->reason),
			 "message could not be fully checked: %s %s",
			 scan_finding_kind_name(fd->kind), fd->name);
		return true;
	}
	snprintf(t->reason, sizeof(t->reason), "no selected findings");
	return false;
}

/* A filter that triggers on every finding of one kind, reported by the
 * first: encrypted archives and members (their content could not be
 * scanned), Office documents with macros (libclamav's OLE2 heuristic). */
static bool f_kind(struct ctx *c, struct trig *t, enum scan_finding_kind kind,
		   const char *none, const char *what)
{
	unsigned n = 0;
	for (unsigned i = 0; i < c->v->nfindings; i++) {
		const struct scan_finding *fd = &c->v->findings[i];
		if (fd->kind != kind)
			continue;
		if (n++ == 0) {
			t->part = fd->part;
			t->filename = part_filename(c, fd->part);
			t->rule = fd->name;
		}
	}
	if (n == 0) {
		snprintf(t->reason, sizeof(t->reason), "%s", none);
		return false;
	}
	snprintf(t->reason, sizeof(t->reason), "%s: %s%s", what,
		 t->filename ? t->filename : t->rule,
		 n > 1 ? " and more" : "");
	return true;
}

/* ---- Driver -------------------------------------------------------------- */

static const char *const ftype_name[] = {
	[POL_F_ATTACHMENT] = "attachment", [POL_F_SIZE] = "size",
	[POL_F_VIRUS] = "virus", [POL_F_CONTENT] = "content",
	[POL_F_SPAM] = "spam", [POL_F_LIMITS] = "limits",
	[POL_F_ENCRYPTED] = "encrypted", [POL_F_MACRO] = "macro",
};

static const char *term_name(enum pol_term t)
{
	switch (t) {
	case POL_T_NONE: return NULL;
	case POL_T_DELIVER: return "deliver";
	case POL_T_DELETE: return "delete";
	case POL_T_QUARANTINE: return "quarantine";
	case POL_T_REJECT: return "reject";
	}
	return NULL;
}

static void actions_text(const struct pol_actions *a, char *buf, size_t sz)
{
	static const char *const mods[] = {"strip", "tag", "header",
					   "notify"};
	size_t o = 0;
	buf[0] = '\0';
	for (unsigned i = 0; i < 4; i++)
		if (a->mods & (1u << i))
			o += (size_t)snprintf(buf + o, sz - o, "%s%s",
					      o ? ", " : "", mods[i]);
	const char *tn = term_name(a->term);
	if (tn != NULL && o < sz)
		snprintf(buf + o, sz - o, "%s%s", o ? ", " : "", tn);
}

/* Returns true when a terminal action decided the message. */
static bool apply_actions(struct ctx *c, const struct pol_filter *f,
			  struct trig *t)
{
	const struct pol_actions *a = t->act;
	char text[SCAN_TEXT_MAX];
	if (a->mods & POL_M_STRIP) {
		switch (f->type) {
		case POL_F_ATTACHMENT:
			f_attachment(c, f, t, true);
			break;
		case POL_F_VIRUS:
			f_virus(c, t, true);
			break;
		case POL_F_CONTENT:
			f_content(c, f, t, true);
			break;
		default:
			break; /* refused by the loader */
		}
	}
	if (a->mods & POL_M_TAG) {
		expand(c, t, a->tag, text, sizeof(text));
		add_edit(c, SCAN_EDIT_TAG_SUBJECT, -1, text, 0);
	}
	if (a->mods & POL_M_HEADER) {
		expand(c, t, a->header, text, sizeof(text));
		add_edit(c, SCAN_EDIT_ADD_HEADER, -1, text, 0);
	}
	if (a->mods & POL_M_NOTIFY) {
		expand(c, t, a->tmpl_text, text, sizeof(text));
		add_edit(c, SCAN_EDIT_NOTIFY, -1, text, a->notify);
	}
	switch (a->term) {
	case POL_T_NONE:
		return false;
	case POL_T_DELIVER:
		c->v->disposition = SCAN_DELIVER;
		break;
	case POL_T_REJECT:
		c->v->disposition = SCAN_REJECT;
		break;
	case POL_T_DELETE:
		c->v->disposition = SCAN_DELETE;
		break;
	case POL_T_QUARANTINE:
		c->v->disposition = SCAN_QUARANTINE;
		snprintf(c->v->quarantine_area,
			 sizeof(c->v->quarantine_area), "%s", a->area);
		break;
	}
	return true;
}

static enum scan_class class_of(enum scan_finding_kind k, int *rank)
{
	switch (k) {
	case SCAN_F_VIRUS: *rank = 8; return SCAN_VIRUS;
	case SCAN_F_CONTENT: *rank = 7; return SCAN_CONTENT;
	case SCAN_F_ATTACHMENT: *rank = 5; return SCAN_ATTACHMENT;
	case SCAN_F_ENCRYPTED: *rank = 4; return SCAN_ENCRYPTED;
	case SCAN_F_MACRO: *rank = 6; return SCAN_MACRO;
	case SCAN_F_SPAM: *rank = 3; return SCAN_SPAM;
	case SCAN_F_SIZE:
	case SCAN_F_LIMIT: *rank = 2; return SCAN_LIMIT;
	case SCAN_F_MALFORMED: *rank = 1; return SCAN_MALFORMED;
	case SCAN_F_AMBIGUOUS:
	case SCAN_F_KIND_COUNT: break;
	}
	*rank = 0;
	return SCAN_CLEAN;
}

/* An SMTP reply line: printable ASCII only. */
static void clean_reason(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			*s = '?';
}

int scan_policy_apply(const struct scan_config *cfg,
		      const struct scan_envelope *env,
		      const struct scan_policy_input *in,
		      struct scan_verdict *v)
{
	struct ctx c = {.cfg = cfg, .env = env ? env : &empty_env, .in = in,
			.v = v};
	c.subject = in != NULL ? in->subject : NULL;
	if (in != NULL && in->parts != NULL) {
		c.parts = in->parts;
		c.nparts = in->nparts;
	} else {
		c.parts = v->parts;
		c.nparts = v->parts != NULL ? v->nparts : 0;
	}
	lists_eval(cfg, c.env, &c.lists, c.lists_why, sizeof(c.lists_why));
	c.score = (in != NULL ? in->keyword_score : 0) + c.lists.sum;
	v->spam_score = c.score;
	v->spam_threshold = cfg->threshold;

	const struct scan_route *r = scan_policy_select(cfg, c.env);
	const struct pol_policy *p = r->policy;
	snprintf(v->route, sizeof(v->route), "%s", r->name);
	snprintf(v->policy, sizeof(v->policy), "%s", p->name);
	v->disposition = SCAN_DELIVER;
	v->reason[0] = '\0';
	scan_explain(v, "policy: route %s -> policy %s (%zu filters)\n",
		     r->name, p->name, p->n);

	bool decided = false;
	for (size_t i = 0; i < p->n && !decided; i++) {
		const struct pol_filter *f = &p->f[i];
		struct trig t = {.act = &f->act, .part = -1};
		bool hit = false;
		switch (f->type) {
		case POL_F_ATTACHMENT:
			hit = f_attachment(&c, f, &t, false);
			break;
		case POL_F_SIZE:
			hit = f_size(&c, f, &t);
			break;
		case POL_F_VIRUS:
			hit = f_virus(&c, &t, false);
			break;
		case POL_F_CONTENT:
			hit = f_content(&c, f, &t, false);
			break;
		case POL_F_SPAM:
			hit = f_spam(&c, f, &t);
			break;
		case POL_F_LIMITS:
			hit = f_limits(&c, f, &t);
			break;
		case POL_F_ENCRYPTED:
			hit = f_kind(&c, &t, SCAN_F_ENCRYPTED, "nothing encrypted",
				   "encrypted content cannot be scanned");
			break;
		case POL_F_MACRO:
			hit = f_kind(&c, &t, SCAN_F_MACRO, "no macro",
				   "document with macros");
			break;
		}
		if (!hit) {
			scan_explain(v, "  filter %zu %s (line %u): not "
				     "triggered%s%s%s\n", i + 1,
				     ftype_name[f->type], f->line,
				     t.reason[0] ? " (" : "", t.reason,
				     t.reason[0] ? ")" : "");
			continue;
		}
		if (t.virus == NULL) /* %VIRUSNAME% from any filter */
			for (unsigned j = 0; j < v->nfindings; j++)
				if (v->findings[j].kind == SCAN_F_VIRUS) {
					t.virus = v->findings[j].name;
					break;
				}
		char acts[96];
		actions_text(t.act, acts, sizeof(acts));
		scan_explain(v, "  filter %zu %s (line %u): triggered: %s -> "
			     "%s\n", i + 1, ftype_name[f->type], f->line,
			     t.reason, acts[0] ? acts : "nothing");
		decided = apply_actions(&c, f, &t);
		if (decided || v->reason[0] == '\0')
			snprintf(v->reason, sizeof(v->reason), "%s", t.reason);
	}
	/* A part the policy strips must never be delivered: when the verdict
	 * had no room left for a strip (more than SCAN_MAX_EDITS edits), the
	 * message is quarantined rather than delivered with the part. */
	if (c.strips_lost > 0 && v->disposition == SCAN_DELIVER) {
		v->disposition = SCAN_QUARANTINE;
		snprintf(v->quarantine_area, sizeof(v->quarantine_area),
			 "suspect");
		snprintf(v->reason, sizeof(v->reason),
			 "%u more parts to strip than a verdict holds (%d "
			 "edits): quarantined instead", c.strips_lost,
			 SCAN_MAX_EDITS);
		scan_verdict_add(v, SCAN_F_LIMIT, -1, "edits",
				 "%u strips beyond %d edits", c.strips_lost,
				 SCAN_MAX_EDITS);
		scan_explain(v, "  %s\n", v->reason);
	}
	clean_reason(v->reason);

	int best = 0;
	v->cls = SCAN_CLEAN;
	for (unsigned i = 0; i < v->nfindings; i++) {
		int rank;
		enum scan_class cl = class_of(v->findings[i].kind, &rank);
		if (rank > best) {
			best = rank;
			v->cls = cl;
		}
	}
	scan_explain(v, "  result: %s, class %s%s%s\n",
		     scan_disposition_name(v->disposition),
		     scan_class_name(v->cls), v->reason[0] ? ": " : "",
		     v->reason);
	return 0;
}
