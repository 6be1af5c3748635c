/*
 * smtp/config.c - the `smtp:` section of sluice.conf (see config.h and the
 * commented section in config/sluice.conf).
 */
#include "smtp/config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define US_PER_MS 1000ull
#define MINUTE_MS 60000ull

void smtp_config_defaults(struct smtp_config *c)
{
	memset(c, 0, sizeof *c);
	if (gethostname(c->hostname, sizeof c->hostname - 1) != 0 ||
	    c->hostname[0] == '\0')
		strcpy(c->hostname, "localhost");
	c->hostname[sizeof c->hostname - 1] = '\0';
	snprintf(c->banner, sizeof c->banner, "%s ESMTP", c->hostname);
	c->max_message_size = 20ull << 20;
	c->max_recipients = 100;
	c->max_messages = 100;
	c->max_received = 100;
	c->command_line_max = 512;
	c->text_line_max = 1000;
	c->idle_timeout_us = 10 * MINUTE_MS * US_PER_MS;
	c->command_timeout_us = 5 * MINUTE_MS * US_PER_MS;
	c->greeting_delay_us = 0;
	c->max_noop = 20;
	c->max_rset = 20;
	c->max_vrfy = 10;
	c->max_unknown = 10;
	c->max_errors = 20;
	c->bare_lf = SMTP_BARE_LF_REJECT;
	c->max_connections = 10000;
	c->max_connections_per_address = 50;
	c->connection_rate = 600;
	c->buffer_memory = 1ull << 30;
}

void smtp_config_fini(struct smtp_config *c)
{
	if (c == NULL)
		return;
	free(c->relay_networks.v);
	free(c->allow.v);
	free(c->deny.v);
	for (size_t i = 0; i < c->internal_domains.n; i++)
		free(c->internal_domains.v[i]);
	free(c->internal_domains.v);
	memset(&c->relay_networks, 0, sizeof c->relay_networks);
	memset(&c->allow, 0, sizeof c->allow);
	memset(&c->deny, 0, sizeof c->deny);
	memset(&c->internal_domains, 0, sizeof c->internal_domains);
}

int smtp_cidr_parse(const char *s, struct smtp_cidr *out)
{
	char buf[INET_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	long plen = 32;
	struct in_addr a;

	if (n == 0 || n >= sizeof buf)
		return -EINVAL;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (inet_pton(AF_INET, buf, &a) != 1)
		return -EINVAL;
	if (slash != NULL) {
		char *end;
		if (!isdigit((unsigned char)slash[1]))
			return -EINVAL;
		plen = strtol(slash + 1, &end, 10);
		if (*end != '\0' || plen < 0 || plen > 32)
			return -EINVAL;
	}
	uint32_t mask = plen == 0 ? 0 : ~0u << (32 - plen);
	uint32_t ip = ntohl(a.s_addr);
	if ((ip & ~mask) != 0)  /* host bits set: a typo more often than not */
		return -EINVAL;
	out->net = ip;
	out->mask = mask;
	return 0;
}

bool smtp_cidr_match(const struct smtp_cidr_list *l, uint32_t addr)
{
	for (size_t i = 0; i < l->n; i++)
		if ((addr & l->v[i].mask) == l->v[i].net)
			return true;
	return false;
}

bool smtp_domain_internal(const struct smtp_domain_list *l,
			  const char *d, size_t len)
{
	if (len > 0 && d[len - 1] == '.')
		len--;
	if (len == 0)
		return false;
	for (size_t i = 0; i < l->n; i++) {
		const char *p = l->v[i];
		size_t pl = strlen(p);
		if (p[0] == '*' && p[1] == '.') {
			/* subdomains: d ends with ".suffix" and has more */
			size_t sl = pl - 1;  /* ".example.net" */
			if (len > sl &&
			    strncasecmp(d + len - sl, p + 1, sl) == 0)
				return true;
		} else if (len == pl && strncasecmp(d, p, len) == 0) {
			return true;
		}
	}
	return false;
}

/* ---- Loading ------------------------------------------------------------- */

struct ld {
	char *err;
	size_t errsz;
};

#define ERR(l, node, ...) conf_error((node), (l)->err, (l)->errsz, __VA_ARGS__)

static int opt_uint(struct ld *l, const struct conf_node *m, const char *key,
		    long long min, long long max, unsigned *out)
{
	const struct conf_node *n = conf_map_get(m, key);
	char what[64];
	long long v;
	if (n == NULL)
		return 0;
	snprintf(what, sizeof what, "smtp.%s", key);
	int rc = conf_get_int(n, what, min, max, &v, l->err, l->errsz);
	if (rc == 0)
		*out = (unsigned)v;
	return rc;
}

static int opt_size(struct ld *l, const struct conf_node *m, const char *key,
		    uint64_t min, uint64_t max, uint64_t *out)
{
	const struct conf_node *n = conf_map_get(m, key);
	char what[64];
	if (n == NULL)
		return 0;
	snprintf(what, sizeof what, "smtp.%s", key);
	return conf_get_size(n, what, min, max, out, l->err, l->errsz);
}

static int opt_dur(struct ld *l, const struct conf_node *m, const char *key,
		   uint64_t min_ms, uint64_t max_ms, uint64_t *out_us)
{
	const struct conf_node *n = conf_map_get(m, key);
	char what[64];
	uint64_t ms;
	if (n == NULL)
		return 0;
	snprintf(what, sizeof what, "smtp.%s", key);
	int rc = conf_get_duration(n, what, min_ms, max_ms, &ms, l->err,
				   l->errsz);
	if (rc == 0)
		*out_us = ms * US_PER_MS;
	return rc;
}

static int opt_cidrs(struct ld *l, const struct conf_node *m, const char *key,
		     struct smtp_cidr_list *out)
{
	const struct conf_node *n = conf_map_get(m, key);
	char what[64];
	int rc;
	if (n == NULL || conf_is_null(n))
		return 0;
	snprintf(what, sizeof what, "smtp.%s", key);
	if ((rc = conf_check_strlist(n, what, l->err, l->errsz)) < 0)
		return rc;
	size_t k = conf_list_len(n);
	if (k == 0)
		return 0;
	out->v = calloc(k, sizeof *out->v);
	if (out->v == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < k; i++) {
		const struct conf_node *it = conf_list_at(n, i);
		if (smtp_cidr_parse(conf_scalar(it), &out->v[i]) != 0)
			return ERR(l, it, "%s: '%s' is not an IPv4 network; "
				   "write ADDRESS/PREFIX with no host bits set "
				   "(e.g. 198.18.0.0/15) or one address",
				   what, conf_scalar(it));
		out->n++;
	}
	return 0;
}

static bool domain_ok(const char *s)
{
	size_t n = strlen(s);
	if (s[0] == '*' && s[1] == '.')
		s += 2, n -= 2;
	if (n == 0 || n > 253 || s[0] == '.' || s[n - 1] == '.' ||
	    strstr(s, "..") != NULL)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '.' &&
		    *s != '_')
			return false;
	return true;
}

static int load_domains(struct ld *l, const struct conf_node *n,
			struct smtp_domain_list *out)
{
	int rc;
	if (n == NULL || conf_is_null(n))
		return 0;
	if ((rc = conf_check_strlist(n, "internal_domains", l->err,
				     l->errsz)) < 0)
		return rc;
	size_t k = conf_list_len(n);
	if (k == 0)
		return 0;
	out->v = calloc(k, sizeof *out->v);
	if (out->v == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < k; i++) {
		const struct conf_node *it = conf_list_at(n, i);
		const char *s = conf_scalar(it);
		if (!domain_ok(s))
			return ERR(l, it, "internal_domains: '%s' is not a "
				   "domain; write example.net or *.example.net",
				   s);
		char *d = strdup(s);
		if (d == NULL)
			return -ENOMEM;
		for (char *p = d; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		out->v[out->n++] = d;
	}
	return 0;
}

static int load_bare_lf(struct ld *l, const struct conf_node *m,
			enum smtp_bare_lf *out)
{
	const struct conf_node *n = conf_map_get(m, "bare_lf");
	const char *s;
	int rc;
	if (n == NULL)
		return 0;
	if ((rc = conf_get_string(n, "smtp.bare_lf", false, &s, l->err,
				  l->errsz)) < 0)
		return rc;
	if (strcmp(s, "reject") == 0)
		*out = SMTP_BARE_LF_REJECT;
	else if (strcmp(s, "normalize") == 0)
		*out = SMTP_BARE_LF_NORMALIZE;
	else
		return ERR(l, n, "smtp.bare_lf: '%s' is not a policy; write "
			   "reject or normalize", s);
	return 0;
}

static int load_names(struct ld *l, const struct conf_node *m,
		      struct smtp_config *c)
{
	const struct conf_node *n;
	const char *s;
	int rc;
	bool banner_set = false;

	if ((n = conf_map_get(m, "hostname")) != NULL) {
		if ((rc = conf_get_string(n, "smtp.hostname", false, &s,
					  l->err, l->errsz)) < 0)
			return rc;
		if (!domain_ok(s) || s[0] == '*' ||
		    strlen(s) > SMTP_HOSTNAME_MAX)
			return ERR(l, n, "smtp.hostname: '%s' is not a host "
				   "name; write e.g. mx1.example.net", s);
		strcpy(c->hostname, s);
	}
	if ((n = conf_map_get(m, "banner")) != NULL) {
		if ((rc = conf_get_string(n, "smtp.banner", false, &s,
					  l->err, l->errsz)) < 0)
			return rc;
		if (strlen(s) > SMTP_BANNER_MAX)
			return ERR(l, n, "smtp.banner: longer than %d "
				   "characters; shorten it", SMTP_BANNER_MAX);
		for (const char *p = s; *p; p++)
			if ((unsigned char)*p < 0x20 ||
			    (unsigned char)*p > 0x7e)
				return ERR(l, n, "smtp.banner: only printable "
					   "ASCII on one line; remove the "
					   "other characters");
		strcpy(c->banner, s);
		banner_set = true;
	}
	if (!banner_set)
		snprintf(c->banner, sizeof c->banner, "%s ESMTP", c->hostname);
	return 0;
}

int smtp_config_load(const struct conf_doc *doc, struct smtp_config *c,
		     char *err, size_t errsz)
{
	static const char *const keys[] = {
		"hostname", "banner", "max_message_size", "max_recipients",
		"max_messages", "max_received", "command_line_max",
		"text_line_max", "idle_timeout", "command_timeout",
		"greeting_delay", "max_noop", "max_rset", "max_vrfy",
		"max_unknown", "max_errors", "bare_lf", "relay_networks",
		"allow", "deny", "max_connections",
		"max_connections_per_address", "connection_rate",
		"buffer_memory", NULL};
	struct ld l = {.err = err, .errsz = errsz};
	const struct conf_node *root = conf_root(doc);
	const struct conf_node *m = conf_map_get(root, "smtp");
	const uint64_t K = 1024, G = K * K * K;
	int rc;

	if (err != NULL && errsz > 0)
		err[0] = '\0';
	smtp_config_defaults(c);
	if ((rc = load_domains(&l, conf_map_get(root, "internal_domains"),
			       &c->internal_domains)) < 0)
		goto fail;
	if (m == NULL || conf_is_null(m))
		return 0;
	if ((rc = conf_check_map(m, "smtp", keys, err, errsz)) < 0 ||
	    (rc = load_names(&l, m, c)) < 0 ||
	    (rc = opt_size(&l, m, "max_message_size", 1024, 4 * G,
			   &c->max_message_size)) < 0 ||
	    (rc = opt_uint(&l, m, "max_recipients", 1, 100000,
			   &c->max_recipients)) < 0 ||
	    (rc = opt_uint(&l, m, "max_messages", 1, 1000000,
			   &c->max_messages)) < 0 ||
	    (rc = opt_uint(&l, m, "max_received", 1, 10000,
			   &c->max_received)) < 0 ||
	    (rc = opt_uint(&l, m, "command_line_max", 512, 4096,
			   &c->command_line_max)) < 0 ||
	    (rc = opt_uint(&l, m, "text_line_max", 1000, 1000000,
			   &c->text_line_max)) < 0 ||
	    (rc = opt_dur(&l, m, "idle_timeout", 1000, 3600 * 1000ull,
			  &c->idle_timeout_us)) < 0 ||
	    (rc = opt_dur(&l, m, "command_timeout", 1000, 3600 * 1000ull,
			  &c->command_timeout_us)) < 0 ||
	    (rc = opt_dur(&l, m, "greeting_delay", 0, 60 * 1000ull,
			  &c->greeting_delay_us)) < 0 ||
	    (rc = opt_uint(&l, m, "max_noop", 1, 100000, &c->max_noop)) < 0 ||
	    (rc = opt_uint(&l, m, "max_rset", 1, 100000, &c->max_rset)) < 0 ||
	    (rc = opt_uint(&l, m, "max_vrfy", 1, 100000, &c->max_vrfy)) < 0 ||
	    (rc = opt_uint(&l, m, "max_unknown", 1, 100000,
			   &c->max_unknown)) < 0 ||
	    (rc = opt_uint(&l, m, "max_errors", 1, 100000,
			   &c->max_errors)) < 0 ||
	    (rc = load_bare_lf(&l, m, &c->bare_lf)) < 0 ||
	    (rc = opt_cidrs(&l, m, "relay_networks", &c->relay_networks)) < 0 ||
	    (rc = opt_cidrs(&l, m, "allow", &c->allow)) < 0 ||
	    (rc = opt_cidrs(&l, m, "deny", &c->deny)) < 0 ||
	    (rc = opt_uint(&l, m, "max_connections", 0, 10000000,
			   &c->max_connections)) < 0 ||
	    (rc = opt_uint(&l, m, "max_connections_per_address", 0, 10000000,
			   &c->max_connections_per_address)) < 0 ||
	    (rc = opt_uint(&l, m, "connection_rate", 0, 10000000,
			   &c->connection_rate)) < 0 ||
	    (rc = opt_size(&l, m, "buffer_memory", 1ull << 20, 1024 * G,
			   &c->buffer_memory)) < 0)
		goto fail;
	if (c->buffer_memory < 2 * c->max_message_size) {
		rc = ERR(&l, conf_map_get(m, "buffer_memory") ?
			 conf_map_get(m, "buffer_memory") : m,
			 "smtp.buffer_memory: %llu bytes hold fewer than two "
			 "messages of max_message_size (%llu); raise it",
			 (unsigned long long)c->buffer_memory,
			 (unsigned long long)c->max_message_size);
		goto fail;
	}
	return 0;
fail:
	if (rc == -ENOMEM)
		snprintf(err, errsz, "%s: out of memory loading smtp",
			 conf_doc_path(doc));
	smtp_config_fini(c);
	return rc;
}
