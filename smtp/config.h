/*
 * smtp/config.h - the `smtp:` section of sluice.conf (and the top-level
 * `internal_domains`, shared with scan/): limits, defenses, relay and
 * connection control for the SMTP server sessions (smtp/server.h) and the
 * per-lcore connection caps (smtp/limits.h).
 *
 * smtp_config_load() checks every key and value (unknown keys and values
 * out of range are errors "FILE:LINE: what is wrong; what to do") and
 * fills a struct smtp_config; an absent section or key takes the default
 * documented in config/sluice.conf (design.md's numbers). The lists are
 * allocated: release with smtp_config_fini(). Strings are copied (the doc
 * may be freed after loading).
 *
 * Not thread-safe while loading; a loaded config is read-only and may be
 * shared by every net lcore.
 */
#ifndef SLUICE_SMTP_CONFIG_H
#define SLUICE_SMTP_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf/conf.h"

#define SMTP_HOSTNAME_MAX 255
#define SMTP_BANNER_MAX 400

/* An IPv4 network, host order: addr & mask == net. */
struct smtp_cidr {
	uint32_t net, mask;
};

struct smtp_cidr_list {
	struct smtp_cidr *v;
	size_t n;
};

/* "example.net" (exactly) or "*.example.net" (its subdomains), lower
 * case, no trailing dot. */
struct smtp_domain_list {
	char **v;
	size_t n;
};

enum smtp_bare_lf {
	SMTP_BARE_LF_REJECT,     /* a bare LF or CR fails the message (550) */
	SMTP_BARE_LF_NORMALIZE,  /* stored as CRLF; never ends the data */
};

struct smtp_config {
	char hostname[SMTP_HOSTNAME_MAX + 1];  /* greeting, Received: by */
	char banner[SMTP_BANNER_MAX + 1];      /* text after "220 " */
	uint64_t max_message_size;   /* bytes: SIZE= and actual (20 MiB) */
	unsigned max_recipients;     /* per message (100); then 452 4.5.3 */
	unsigned max_messages;       /* per connection (100); then 421 */
	unsigned max_received;       /* Received: fields; more: 554 5.4.6 */
	unsigned command_line_max;   /* octets incl. CRLF (512) */
	unsigned text_line_max;      /* DATA/BDAT line octets incl. CRLF (1000) */
	uint64_t idle_timeout_us;    /* no command started (10 min) */
	uint64_t command_timeout_us; /* one command line; a DATA/BDAT stall
	                              * (5 min) */
	uint64_t greeting_delay_us;  /* hold the greeting; input meanwhile is
	                              * an early talker (0) */
	unsigned max_noop;           /* NOOPs without a message between (20) */
	unsigned max_rset;           /* RSETs likewise (20) */
	unsigned max_vrfy;           /* VRFY + EXPN per connection (10) */
	unsigned max_unknown;        /* unrecognized commands (10) */
	unsigned max_errors;         /* 4xx/5xx replies to commands (20) */
	enum smtp_bare_lf bare_lf;   /* reject */
	struct smtp_cidr_list relay_networks; /* may send to any domain */
	struct smtp_cidr_list allow; /* non-empty: only these may connect */
	struct smtp_cidr_list deny;  /* never may connect (checked first) */
	struct smtp_domain_list internal_domains; /* top-level key */
	/* Connection caps (smtp/limits.h), per gateway; the caller divides
	 * by the number of net lcores. 0 = no cap. */
	unsigned max_connections;              /* 10000 */
	unsigned max_connections_per_address;  /* 50 */
	unsigned connection_rate;              /* new connections per address
	                                        * per minute (600) */
	uint64_t buffer_memory;      /* message buffers per net lcore (1 GiB) */
};

/* Defaults, with hostname from gethostname() (or "localhost") and banner
 * "<hostname> ESMTP"; lists empty. Cannot fail. */
void smtp_config_defaults(struct smtp_config *cfg);

/* Defaults, then the doc's `smtp:` section and `internal_domains`.
 * 0, -EINVAL (message in err), -ENOMEM. On failure *cfg holds nothing to
 * free. */
int smtp_config_load(const struct conf_doc *doc, struct smtp_config *cfg,
		     char *err, size_t errsz);

/* Free the lists (cfg itself is the caller's). NULL ok. */
void smtp_config_fini(struct smtp_config *cfg);

/* "198.18.0.0/15" or "198.18.0.7" (a /32) -> *out. 0 or -EINVAL. */
int smtp_cidr_parse(const char *s, struct smtp_cidr *out);

bool smtp_cidr_match(const struct smtp_cidr_list *l, uint32_t addr);

/* Is domain (no '@', any case, a trailing dot ignored) internal? */
bool smtp_domain_internal(const struct smtp_domain_list *l,
			  const char *domain, size_t len);

#endif
