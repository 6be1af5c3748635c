/* conf/conf.c - see conf.h. YAML via libyaml's event API. */
#ifndef _GNU_SOURCE
#define _POSIX_C_SOURCE 200809L /* strdup, fileno */
#endif
#include "conf/conf.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <yaml.h>

struct conf_pair {
	struct conf_node *key;
	struct conf_node *value;
};

struct conf_node {
	enum conf_kind kind;
	bool plain;               /* scalar written without quotes */
	unsigned line;
	const struct conf_doc *doc;
	size_t n, cap;            /* items (seq) or pairs (map) */
	union {
		struct {
			char *s;
			size_t len;
		} scalar;
		struct conf_node **items;
		struct conf_pair *pairs;
	} u;
};

struct conf_doc {
	char *path;
	struct conf_node *root;
	size_t nnodes;
};

static void set_err(char *err, size_t errsz, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errsz, const char *fmt, ...)
{
	if (err == NULL || errsz == 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errsz, fmt, ap);
	va_end(ap);
}

/* ---- Tree --------------------------------------------------------------- */

static void node_free(struct conf_node *n)
{
	if (n == NULL)
		return;
	switch (n->kind) {
	case CONF_SCALAR:
		free(n->u.scalar.s);
		break;
	case CONF_SEQ:
		for (size_t i = 0; i < n->n; i++)
			node_free(n->u.items[i]);
		free(n->u.items);
		break;
	case CONF_MAP:
		for (size_t i = 0; i < n->n; i++) {
			node_free(n->u.pairs[i].key);
			node_free(n->u.pairs[i].value);
		}
		free(n->u.pairs);
		break;
	}
	free(n);
}

void conf_free(struct conf_doc *doc)
{
	if (doc == NULL)
		return;
	node_free(doc->root);
	free(doc->path);
	free(doc);
}

static struct conf_node *node_new(struct conf_doc *doc, enum conf_kind kind,
				  unsigned line)
{
	if (doc->nnodes >= CONF_MAX_NODES)
		return NULL;
	struct conf_node *n = calloc(1, sizeof(*n));
	if (n == NULL)
		return NULL;
	doc->nnodes++;
	n->kind = kind;
	n->line = line;
	n->doc = doc;
	return n;
}

/* Append child (seq item, map key or map value) to container c. */
static int node_append(struct conf_node *c, struct conf_node *child,
		       bool is_value)
{
	if (c->kind == CONF_MAP && is_value) {
		c->u.pairs[c->n - 1].value = child;
		return 0;
	}
	if (c->n == c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 4;
		size_t esz = c->kind == CONF_MAP ? sizeof(struct conf_pair)
						 : sizeof(struct conf_node *);
		void *p = realloc(c->kind == CONF_MAP ? (void *)c->u.pairs
						      : (void *)c->u.items,
				  ncap * esz);
		if (p == NULL)
			return -ENOMEM;
		if (c->kind == CONF_MAP)
			c->u.pairs = p;
		else
			c->u.items = p;
		c->cap = ncap;
	}
	if (c->kind == CONF_MAP) {
		c->u.pairs[c->n].key = child;
		c->u.pairs[c->n].value = NULL;
	} else {
		c->u.items[c->n] = child;
	}
	c->n++;
	return 0;
}

static int key_cmp(const void *a, const void *b)
{
	const struct conf_pair *x = *(const struct conf_pair *const *)a;
	const struct conf_pair *y = *(const struct conf_pair *const *)b;
	int c = strcmp(x->key->u.scalar.s, y->key->u.scalar.s);
	if (c != 0)
		return c;
	return x->key->line < y->key->line ? -1 : x->key->line > y->key->line;
}

/* Duplicate keys: sort pointers (n log n even for huge maps). */
static int map_check_dups(const struct conf_node *m, char *err, size_t errsz)
{
	if (m->n < 2)
		return 0;
	const struct conf_pair **v = malloc(m->n * sizeof(*v));
	if (v == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < m->n; i++)
		v[i] = &m->u.pairs[i];
	qsort(v, m->n, sizeof(*v), key_cmp);
	int rc = 0;
	for (size_t i = 1; i < m->n; i++) {
		if (strcmp(v[i]->key->u.scalar.s, v[i - 1]->key->u.scalar.s))
			continue;
		rc = conf_error(v[i]->key, err, errsz,
				"duplicate key '%.64s' (first at line %u); "
				"remove one of them",
				v[i]->key->u.scalar.s, v[i - 1]->key->line);
		break;
	}
	free(v);
	return rc;
}

/* ---- Loading ------------------------------------------------------------ */

struct builder {
	struct conf_doc *doc;
	struct conf_node *stack[CONF_MAX_DEPTH + 1];
	unsigned depth;
	bool have_doc;
	char *err;
	size_t errsz;
};

static const char *doc_name(const struct conf_doc *doc)
{
	return doc->path;
}

/* Attach a finished node to the current container (or make it the root). */
static int attach(struct builder *b, struct conf_node *n)
{
	if (b->depth == 0) {
		b->doc->root = n;
		return 0;
	}
	struct conf_node *c = b->stack[b->depth - 1];
	if (c->kind == CONF_MAP) {
		bool want_value = c->n > 0 && c->u.pairs[c->n - 1].value == NULL;
		if (!want_value && n->kind != CONF_SCALAR) {
			int rc = conf_error(n, b->err, b->errsz,
					    "a map key must be a plain string, "
					    "not a %s; write 'key: value'",
					    conf_kind_name(n->kind));
			node_free(n);
			return rc;
		}
		int rc = node_append(c, n, want_value);
		if (rc < 0)
			node_free(n);
		return rc;
	}
	int rc = node_append(c, n, false);
	if (rc < 0)
		node_free(n);
	return rc;
}

static unsigned mark_line(const yaml_mark_t *m)
{
	return m->line + 1 > UINT_MAX ? UINT_MAX : (unsigned)(m->line + 1);
}

static int on_event(struct builder *b, const yaml_event_t *ev)
{
	unsigned line = mark_line(&ev->start_mark);
	const char *name = doc_name(b->doc);
	const yaml_char_t *anchor = NULL, *tag = NULL;

	switch (ev->type) {
	case YAML_STREAM_START_EVENT:
	case YAML_STREAM_END_EVENT:
	case YAML_DOCUMENT_END_EVENT:
	case YAML_NO_EVENT:
		return 0;
	case YAML_DOCUMENT_START_EVENT:
		if (b->have_doc) {
			set_err(b->err, b->errsz,
				"%s:%u: a second YAML document ('---') is not "
				"allowed; keep the whole configuration in one "
				"document", name, line);
			return -EINVAL;
		}
		b->have_doc = true;
		return 0;
	case YAML_ALIAS_EVENT:
		set_err(b->err, b->errsz,
			"%s:%u: YAML aliases ('*%.32s') are not allowed; "
			"write the value out in full", name, line,
			(const char *)ev->data.alias.anchor);
		return -EINVAL;
	case YAML_SCALAR_EVENT:
		anchor = ev->data.scalar.anchor;
		tag = ev->data.scalar.tag;
		break;
	case YAML_SEQUENCE_START_EVENT:
		anchor = ev->data.sequence_start.anchor;
		tag = ev->data.sequence_start.tag;
		break;
	case YAML_MAPPING_START_EVENT:
		anchor = ev->data.mapping_start.anchor;
		tag = ev->data.mapping_start.tag;
		break;
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT: {
		if (b->depth == 0)
			return -EINVAL; /* libyaml never does this */
		struct conf_node *c = b->stack[--b->depth];
		if (c->kind == CONF_MAP) {
			int rc = map_check_dups(c, b->err, b->errsz);
			if (rc < 0) {
				node_free(c);
				return rc;
			}
		}
		return attach(b, c);
	}
	}

	if (anchor != NULL) {
		set_err(b->err, b->errsz,
			"%s:%u: YAML anchors ('&%.32s') are not allowed; "
			"write the value out in full", name, line,
			(const char *)anchor);
		return -EINVAL;
	}
	if (tag != NULL) {
		set_err(b->err, b->errsz,
			"%s:%u: YAML tags ('%.32s') are not allowed; "
			"remove the tag", name, line, (const char *)tag);
		return -EINVAL;
	}

	if (ev->type == YAML_SCALAR_EVENT) {
		size_t len = ev->data.scalar.length;
		const char *val = (const char *)ev->data.scalar.value;
		if (memchr(val, '\0', len) != NULL) {
			set_err(b->err, b->errsz,
				"%s:%u: a NUL character ('\\0') in a string "
				"is not allowed; remove it", name, line);
			return -EINVAL;
		}
		struct conf_node *n = node_new(b->doc, CONF_SCALAR, line);
		if (n == NULL)
			goto toomany;
		n->u.scalar.s = malloc(len + 1);
		if (n->u.scalar.s == NULL) {
			node_free(n);
			return -ENOMEM;
		}
		memcpy(n->u.scalar.s, val, len);
		n->u.scalar.s[len] = '\0';
		n->u.scalar.len = len;
		n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
		return attach(b, n);
	}

	/* Container start. */
	if (b->depth >= CONF_MAX_DEPTH) {
		set_err(b->err, b->errsz,
			"%s:%u: nesting deeper than %d levels; flatten the "
			"configuration", name, line, CONF_MAX_DEPTH);
		return -EINVAL;
	}
	struct conf_node *n = node_new(b->doc,
		ev->type == YAML_MAPPING_START_EVENT ? CONF_MAP : CONF_SEQ,
		line);
	if (n == NULL)
		goto toomany;
	b->stack[b->depth++] = n;
	return 0;

toomany:
	if (b->doc->nnodes >= CONF_MAX_NODES) {
		set_err(b->err, b->errsz,
			"%s:%u: more than %u values in one configuration; "
			"split large lists out of this file", name, line,
			CONF_MAX_NODES);
		return -EINVAL;
	}
	return -ENOMEM;
}

static void yaml_err(const yaml_parser_t *p, const char *name,
		     const char *buf, size_t len, char *err, size_t errsz)
{
	const char *problem = p->problem != NULL ? p->problem : "unknown error";
	if (p->error == YAML_READER_ERROR) {
		unsigned line = 1;
		for (size_t i = 0; i < p->problem_offset && i < len; i++)
			line += buf[i] == '\n';
		set_err(err, errsz,
			"%s:%u: not valid text (%s at byte %zu); save the "
			"file as UTF-8", name, line, problem,
			p->problem_offset);
		return;
	}
	const char *hint = "check the indentation and quoting on this line "
			   "and the ones above it";
	if (strstr(problem, "cannot start any token") != NULL)
		hint = "indent with spaces, not tabs, and quote values that "
		       "start with @ or `";
	unsigned line = mark_line(&p->problem_mark);
	if (p->context != NULL)
		set_err(err, errsz,
			"%s:%u: YAML syntax error: %s %s that starts at "
			"line %u; %s", name, line, problem, p->context,
			mark_line(&p->context_mark), hint);
	else
		set_err(err, errsz, "%s:%u: YAML syntax error: %s; %s", name,
			line, problem, hint);
}

int conf_load_string(const char *name, const char *buf, size_t len,
		     struct conf_doc **out, char *err, size_t errsz)
{
	struct builder b = {.err = err, .errsz = errsz};
	yaml_parser_t parser;
	yaml_event_t ev;
	int rc = -ENOMEM;
	bool parser_ok = false;

	*out = NULL;
	if (name == NULL)
		name = "<string>";
	b.doc = calloc(1, sizeof(*b.doc));
	if (b.doc == NULL)
		goto fail;
	b.doc->path = strdup(name);
	if (b.doc->path == NULL)
		goto fail;
	if (len > CONF_MAX_FILE_BYTES) {
		set_err(err, errsz, "%s: larger than %u MiB; a configuration "
			"this size is a mistake, check the file", name,
			CONF_MAX_FILE_BYTES >> 20);
		rc = -EFBIG;
		goto fail;
	}
	if (!yaml_parser_initialize(&parser))
		goto fail;
	parser_ok = true;
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);

	for (;;) {
		if (!yaml_parser_parse(&parser, &ev)) {
			if (parser.error == YAML_MEMORY_ERROR) {
				rc = -ENOMEM;
			} else {
				yaml_err(&parser, name, buf, len, err, errsz);
				rc = -EINVAL;
			}
			goto fail;
		}
		rc = on_event(&b, &ev);
		yaml_event_type_t type = ev.type;
		yaml_event_delete(&ev);
		if (rc < 0)
			goto fail;
		if (type == YAML_STREAM_END_EVENT)
			break;
	}

	/* Empty stream or a lone null: an empty map. */
	if (b.doc->root == NULL || conf_is_null(b.doc->root)) {
		node_free(b.doc->root);
		b.doc->root = node_new(b.doc, CONF_MAP, 1);
		if (b.doc->root == NULL) {
			rc = -ENOMEM;
			goto fail;
		}
	}
	yaml_parser_delete(&parser);
	*out = b.doc;
	return 0;

fail:
	if (rc == -ENOMEM)
		set_err(err, errsz, "%s: out of memory while reading the "
			"configuration", name);
	/* Containers still open are owned by the stack, not the tree. */
	while (b.depth > 0)
		node_free(b.stack[--b.depth]);
	if (parser_ok)
		yaml_parser_delete(&parser);
	conf_free(b.doc);
	return rc;
}

int conf_load(const char *path, struct conf_doc **out, char *err,
	      size_t errsz)
{
	*out = NULL;
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		int e = errno;
		set_err(err, errsz, "%s: cannot open: %s; check the path and "
			"its permissions", path, strerror(e));
		return -e;
	}
	struct stat st;
	if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
		fclose(f);
		set_err(err, errsz, "%s: is a directory; give the path of "
			"the configuration file", path);
		return -EISDIR;
	}
	/* Read at most limit+1 bytes whatever fstat says (pipes, /proc). */
	size_t cap = 64 * 1024, len = 0;
	char *buf = malloc(cap);
	int rc = -ENOMEM;
	if (buf == NULL)
		goto out;
	for (;;) {
		if (len == cap) {
			if (cap > CONF_MAX_FILE_BYTES) {
				set_err(err, errsz, "%s: larger than %u MiB; "
					"a configuration this size is a "
					"mistake, check the file", path,
					CONF_MAX_FILE_BYTES >> 20);
				rc = -EFBIG;
				goto out;
			}
			size_t ncap = cap * 2;
			if (ncap > CONF_MAX_FILE_BYTES + 1)
				ncap = CONF_MAX_FILE_BYTES + 1;
			char *nb = realloc(buf, ncap);
			if (nb == NULL)
				goto out;
			buf = nb;
			cap = ncap;
		}
		size_t got = fread(buf + len, 1, cap - len, f);
		len += got;
		if (got == 0) {
			if (ferror(f)) {
				int e = errno ? errno : EIO;
				set_err(err, errsz, "%s: read error: %s",
					path, strerror(e));
				rc = -e;
				goto out;
			}
			break;
		}
	}
	rc = conf_load_string(path, buf, len, out, err, errsz);
out:
	if (rc == -ENOMEM && (err == NULL || errsz == 0 || err[0] == '\0'))
		set_err(err, errsz, "%s: out of memory", path);
	free(buf);
	fclose(f);
	return rc;
}

const struct conf_node *conf_root(const struct conf_doc *doc)
{
	return doc->root;
}

const char *conf_doc_path(const struct conf_doc *doc)
{
	return doc->path;
}

/* ---- Node access -------------------------------------------------------- */

enum conf_kind conf_kind(const struct conf_node *n)
{
	return n->kind;
}

const char *conf_kind_name(enum conf_kind k)
{
	switch (k) {
	case CONF_SCALAR: return "scalar";
	case CONF_SEQ: return "list";
	case CONF_MAP: return "map";
	}
	return "?";
}

const char *conf_file(const struct conf_node *n)
{
	return n->doc->path;
}

unsigned conf_line(const struct conf_node *n)
{
	return n->line;
}

const char *conf_scalar(const struct conf_node *n)
{
	return n != NULL && n->kind == CONF_SCALAR ? n->u.scalar.s : NULL;
}

bool conf_is_null(const struct conf_node *n)
{
	if (n == NULL || n->kind != CONF_SCALAR || !n->plain)
		return false;
	const char *s = n->u.scalar.s;
	return s[0] == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 ||
	       strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0;
}

size_t conf_len(const struct conf_node *n)
{
	return n != NULL && n->kind != CONF_SCALAR ? n->n : 0;
}

const struct conf_node *conf_seq_at(const struct conf_node *n, size_t i)
{
	if (n == NULL || n->kind != CONF_SEQ || i >= n->n)
		return NULL;
	return n->u.items[i];
}

const char *conf_map_key(const struct conf_node *n, size_t i)
{
	if (n == NULL || n->kind != CONF_MAP || i >= n->n)
		return NULL;
	return n->u.pairs[i].key->u.scalar.s;
}

unsigned conf_map_key_line(const struct conf_node *n, size_t i)
{
	if (n == NULL || n->kind != CONF_MAP || i >= n->n)
		return 0;
	return n->u.pairs[i].key->line;
}

const struct conf_node *conf_map_value(const struct conf_node *n, size_t i)
{
	if (n == NULL || n->kind != CONF_MAP || i >= n->n)
		return NULL;
	return n->u.pairs[i].value;
}

const struct conf_node *conf_map_get(const struct conf_node *n,
				     const char *key)
{
	if (n == NULL || n->kind != CONF_MAP)
		return NULL;
	for (size_t i = 0; i < n->n; i++)
		if (strcmp(n->u.pairs[i].key->u.scalar.s, key) == 0)
			return n->u.pairs[i].value;
	return NULL;
}

/* ---- Errors and typed getters ------------------------------------------ */

int conf_error(const struct conf_node *n, char *err, size_t errsz,
	       const char *fmt, ...)
{
	if (err == NULL || errsz == 0)
		return -EINVAL;
	int off = 0;
	if (n != NULL)
		off = snprintf(err, errsz, "%s:%u: ", n->doc->path, n->line);
	if (off < 0)
		off = 0;
	if ((size_t)off < errsz) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err + off, errsz - (size_t)off, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* What the node is, for "found ..." in messages. */
static void describe(const struct conf_node *n, char *buf, size_t sz)
{
	if (n->kind != CONF_SCALAR)
		snprintf(buf, sz, "a %s", conf_kind_name(n->kind));
	else if (conf_is_null(n))
		snprintf(buf, sz, "nothing");
	else
		snprintf(buf, sz, "'%.48s%s'", n->u.scalar.s,
			 n->u.scalar.len > 48 ? "..." : "");
}

static int expected(const struct conf_node *n, const char *what,
		    const char *want, char *err, size_t errsz)
{
	char d[64];
	describe(n, d, sizeof(d));
	return conf_error(n, err, errsz, "%s: expected %s, found %s", what,
			  want, d);
}

/* Levenshtein distance, for "did you mean". Strings over 63 bytes: far. */
static unsigned edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 63 || lb > 63)
		return UINT_MAX;
	unsigned row[64], prev[64];
	for (size_t j = 0; j <= lb; j++)
		prev[j] = (unsigned)j;
	for (size_t i = 1; i <= la; i++) {
		row[0] = (unsigned)i;
		for (size_t j = 1; j <= lb; j++) {
			unsigned sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
			unsigned del = prev[j] + 1, ins = row[j - 1] + 1;
			unsigned m = sub < del ? sub : del;
			row[j] = m < ins ? m : ins;
		}
		memcpy(prev, row, (lb + 1) * sizeof(unsigned));
	}
	return prev[lb];
}

int conf_check_map(const struct conf_node *n, const char *what,
		   const char *const *allowed, char *err, size_t errsz)
{
	if (n == NULL || n->kind != CONF_MAP)
		return n == NULL ? conf_error(NULL, err, errsz,
					      "%s: missing", what)
				 : expected(n, what, "a map (key: value lines)",
					    err, errsz);
	for (size_t i = 0; i < n->n; i++) {
		const char *k = n->u.pairs[i].key->u.scalar.s;
		const char *best = NULL;
		unsigned bestd = UINT_MAX;
		bool ok = false;
		for (const char *const *a = allowed; *a != NULL; a++) {
			if (strcmp(k, *a) == 0) {
				ok = true;
				break;
			}
			unsigned d = edit_distance(k, *a);
			if (d < bestd) {
				bestd = d;
				best = *a;
			}
		}
		if (ok)
			continue;
		char list[256];
		size_t off = 0;
		list[0] = '\0';
		for (const char *const *a = allowed; *a != NULL; a++) {
			int w = snprintf(list + off, sizeof(list) - off,
					 "%s%s", off ? ", " : "", *a);
			if (w < 0 || (size_t)w >= sizeof(list) - off)
				break;
			off += (size_t)w;
		}
		size_t klen = strlen(k);
		unsigned near = klen <= 4 ? 1 : klen <= 8 ? 2 : 3;
		if (best != NULL && bestd <= near)
			return conf_error(n->u.pairs[i].key, err, errsz,
					  "unknown key '%.64s' in %s; did you "
					  "mean '%s'?", k, what, best);
		return conf_error(n->u.pairs[i].key, err, errsz,
				  "unknown key '%.64s' in %s; known keys: %s",
				  k, what, list);
	}
	return 0;
}

int conf_get_string(const struct conf_node *n, const char *what,
		    bool allow_empty, const char **out, char *err,
		    size_t errsz)
{
	if (n == NULL || n->kind != CONF_SCALAR || conf_is_null(n) ||
	    (!allow_empty && n->u.scalar.len == 0))
		return n == NULL ? conf_error(NULL, err, errsz,
					      "%s: missing", what)
				 : expected(n, what, "a non-empty string",
					    err, errsz);
	*out = n->u.scalar.s;
	return 0;
}

int conf_get_bool(const struct conf_node *n, const char *what, bool *out,
		  char *err, size_t errsz)
{
	static const char *const yes[] = {"yes", "true", "on"};
	static const char *const no[] = {"no", "false", "off"};
	const char *s = conf_scalar(n);
	if (s != NULL) {
		for (size_t i = 0; i < 3; i++) {
			if (strcasecmp(s, yes[i]) == 0) {
				*out = true;
				return 0;
			}
			if (strcasecmp(s, no[i]) == 0) {
				*out = false;
				return 0;
			}
		}
	}
	if (n == NULL)
		return conf_error(NULL, err, errsz, "%s: missing", what);
	return expected(n, what, "yes or no", err, errsz);
}

int conf_get_int(const struct conf_node *n, const char *what, long long min,
		 long long max, long long *out, char *err, size_t errsz)
{
	const char *s = conf_scalar(n);
	if (n == NULL)
		return conf_error(NULL, err, errsz, "%s: missing", what);
	if (s == NULL || s[0] == '\0')
		return expected(n, what, "a whole number", err, errsz);
	const char *p = s;
	if (*p == '+' || *p == '-')
		p++;
	if (*p < '0' || *p > '9')
		return expected(n, what, "a whole number", err, errsz);
	errno = 0;
	char *end;
	long long v = strtoll(s, &end, 10);
	if (*end != '\0')
		return expected(n, what, "a whole number", err, errsz);
	if (errno == ERANGE || v < min || v > max)
		return conf_error(n, err, errsz,
				  "%s: %.32s is out of range; use a number "
				  "from %lld to %lld", what, s, min, max);
	*out = v;
	return 0;
}

/* Parse "<digits>[.<digits>]" at *sp; value as integer part and
 * fraction numerator/denominator (at most 9 fraction digits kept). */
static int parse_number(const char **sp, uint64_t *ip, uint64_t *fnum,
			uint64_t *fden)
{
	const char *s = *sp;
	uint64_t v = 0, num = 0, den = 1;
	if (*s < '0' || *s > '9')
		return -EINVAL;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (v > (UINT64_MAX - 9) / 10)
			return -ERANGE;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	if (*s == '.') {
		s++;
		if (*s < '0' || *s > '9')
			return -EINVAL;
		for (; *s >= '0' && *s <= '9'; s++) {
			if (den < 1000000000ull) {
				num = num * 10 + (uint64_t)(*s - '0');
				den *= 10;
			}
		}
	}
	*sp = s;
	*ip = v;
	*fnum = num;
	*fden = den;
	return 0;
}

struct unit {
	const char *name;
	uint64_t mult;
};

static int scale(const char *s, const struct unit *units, bool need_unit,
		 uint64_t *out)
{
	uint64_t ip, num, den;
	int rc = parse_number(&s, &ip, &num, &den);
	if (rc < 0)
		return rc;
	while (*s == ' ' || *s == '\t')
		s++;
	uint64_t mult = 0;
	if (*s == '\0') {
		if (need_unit)
			return -EINVAL;
		mult = 1;
	} else {
		for (const struct unit *u = units; u->name != NULL; u++)
			if (strcasecmp(s, u->name) == 0) {
				mult = u->mult;
				break;
			}
		if (mult == 0)
			return -EINVAL;
	}
	if (ip != 0 && mult > UINT64_MAX / ip)
		return -ERANGE;
	uint64_t v = ip * mult;
	/* Fraction: num/den * mult, without overflow (den <= 1e9). */
	uint64_t frac = (mult / den) * num + (mult % den) * num / den;
	if (num != 0 && mult == 1)
		return -EINVAL; /* fraction of the base unit */
	if (v > UINT64_MAX - frac)
		return -ERANGE;
	*out = v + frac;
	return 0;
}

static const struct unit size_units[] = {
	{"b", 1},
	{"k", 1ull << 10}, {"kb", 1ull << 10}, {"kib", 1ull << 10},
	{"m", 1ull << 20}, {"mb", 1ull << 20}, {"mib", 1ull << 20},
	{"g", 1ull << 30}, {"gb", 1ull << 30}, {"gib", 1ull << 30},
	{"t", 1ull << 40}, {"tb", 1ull << 40}, {"tib", 1ull << 40},
	{NULL, 0},
};

static const struct unit duration_units[] = {
	{"ms", 1}, {"millisecond", 1}, {"milliseconds", 1},
	{"s", 1000}, {"sec", 1000}, {"secs", 1000},
	{"second", 1000}, {"seconds", 1000},
	{"m", 60000}, {"min", 60000}, {"mins", 60000},
	{"minute", 60000}, {"minutes", 60000},
	{"h", 3600000}, {"hour", 3600000}, {"hours", 3600000},
	{"d", 86400000}, {"day", 86400000}, {"days", 86400000},
	{"w", 604800000}, {"week", 604800000}, {"weeks", 604800000},
	{NULL, 0},
};

int conf_parse_size(const char *s, uint64_t *out)
{
	return scale(s, size_units, false, out);
}

int conf_parse_duration(const char *s, uint64_t *out_ms)
{
	return scale(s, duration_units, true, out_ms);
}

static void fmt_size(uint64_t v, char *buf, size_t sz)
{
	if (v >= (1ull << 30) && v % (1ull << 30) == 0)
		snprintf(buf, sz, "%llu GiB", (unsigned long long)(v >> 30));
	else if (v >= (1ull << 20) && v % (1ull << 20) == 0)
		snprintf(buf, sz, "%llu MiB", (unsigned long long)(v >> 20));
	else if (v >= (1ull << 10) && v % (1ull << 10) == 0)
		snprintf(buf, sz, "%llu KiB", (unsigned long long)(v >> 10));
	else
		snprintf(buf, sz, "%llu", (unsigned long long)v);
}

int conf_get_size(const struct conf_node *n, const char *what, uint64_t min,
		  uint64_t max, uint64_t *out, char *err, size_t errsz)
{
	const char *s = conf_scalar(n);
	uint64_t v;
	if (n == NULL)
		return conf_error(NULL, err, errsz, "%s: missing", what);
	int rc = s != NULL ? conf_parse_size(s, &v) : -EINVAL;
	if (rc == -EINVAL)
		return expected(n, what, "a size such as '20 MiB', '512 KiB' "
				"or '4096' (bytes)", err, errsz);
	char lo[32], hi[32];
	fmt_size(min, lo, sizeof(lo));
	fmt_size(max, hi, sizeof(hi));
	if (rc < 0 || v < min || v > max)
		return conf_error(n, err, errsz, "%s: %.32s is out of range; "
				  "use a size from %s to %s", what, s, lo, hi);
	*out = v;
	return 0;
}

int conf_get_duration(const struct conf_node *n, const char *what,
		      uint64_t min_ms, uint64_t max_ms, uint64_t *out_ms,
		      char *err, size_t errsz)
{
	const char *s = conf_scalar(n);
	uint64_t v;
	if (n == NULL)
		return conf_error(NULL, err, errsz, "%s: missing", what);
	int rc = s != NULL ? conf_parse_duration(s, &v) : -EINVAL;
	if (rc == -EINVAL)
		return expected(n, what, "a duration with a unit such as "
				"'30s', '10 minutes', '24h' or '2ms'",
				err, errsz);
	if (rc < 0 || v < min_ms || v > max_ms)
		return conf_error(n, err, errsz, "%s: %.32s is out of range; "
				  "use a duration from %llu ms to %llu ms",
				  what, s, (unsigned long long)min_ms,
				  (unsigned long long)max_ms);
	*out_ms = v;
	return 0;
}

int conf_check_strlist(const struct conf_node *n, const char *what,
		       char *err, size_t errsz)
{
	static const char want[] = "a string or a list of strings";
	if (n == NULL)
		return conf_error(NULL, err, errsz, "%s: missing", what);
	if (n->kind == CONF_MAP)
		return expected(n, what, want, err, errsz);
	if (n->kind == CONF_SCALAR) {
		if (conf_is_null(n) || n->u.scalar.len == 0)
			return expected(n, what, want, err, errsz);
		return 0;
	}
	for (size_t i = 0; i < n->n; i++) {
		const struct conf_node *it = n->u.items[i];
		if (it->kind != CONF_SCALAR || conf_is_null(it) ||
		    it->u.scalar.len == 0)
			return expected(it, what, "a non-empty string in the "
					"list", err, errsz);
	}
	return 0;
}

size_t conf_list_len(const struct conf_node *n)
{
	if (n == NULL)
		return 0;
	return n->kind == CONF_SCALAR ? 1 : n->kind == CONF_SEQ ? n->n : 0;
}

const struct conf_node *conf_list_at(const struct conf_node *n, size_t i)
{
	if (n != NULL && n->kind == CONF_SCALAR)
		return i == 0 ? n : NULL;
	return conf_seq_at(n, i);
}
