/*
 * dataplane/dp_config.c - the `dataplane:` section of sluice.conf (see
 * dp_config.h and the commented section in config/sluice.conf).
 */
#include "dataplane/dp_config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ld {
	char *err;
	size_t errsz;
};

#define ERR(l, node, ...) conf_error((node), (l)->err, (l)->errsz, __VA_ARGS__)

static int opt_u32(struct ld *l, const struct conf_node *m, const char *key,
		   const char *what, long long min, long long max,
		   uint32_t *out)
{
	const struct conf_node *n = conf_map_get(m, key);
	long long v;
	if (n == NULL)
		return 0;
	int rc = conf_get_int(n, what, min, max, &v, l->err, l->errsz);
	if (rc == 0)
		*out = (uint32_t)v;
	return rc;
}

static int opt_size32(struct ld *l, const struct conf_node *m,
		      const char *key, const char *what, uint64_t min,
		      uint64_t max, uint32_t *out)
{
	const struct conf_node *n = conf_map_get(m, key);
	uint64_t v;
	if (n == NULL)
		return 0;
	int rc = conf_get_size(n, what, min, max, &v, l->err, l->errsz);
	if (rc == 0)
		*out = (uint32_t)v;
	return rc;
}

/* A duration in microseconds (the file says ms at the finest). */
static int opt_dur_us(struct ld *l, const struct conf_node *m,
		      const char *key, const char *what, uint64_t min_ms,
		      uint64_t max_ms, uint32_t *out_us)
{
	const struct conf_node *n = conf_map_get(m, key);
	uint64_t ms;
	if (n == NULL)
		return 0;
	int rc = conf_get_duration(n, what, min_ms, max_ms, &ms, l->err,
				   l->errsz);
	if (rc == 0)
		*out_us = (uint32_t)(ms * 1000);
	return rc;
}

static int opt_bool(struct ld *l, const struct conf_node *m, const char *key,
		    const char *what, bool *out)
{
	const struct conf_node *n = conf_map_get(m, key);
	if (n == NULL)
		return 0;
	return conf_get_bool(n, what, out, l->err, l->errsz);
}

/* "a.b.c.d" -> host order; 0 or -1. */
static int parse_ip(const char *s, uint32_t *out)
{
	struct in_addr a;
	if (inet_pton(AF_INET, s, &a) != 1)
		return -1;
	*out = ntohl(a.s_addr);
	return 0;
}

static bool unicast(uint32_t ip)
{
	uint8_t a = (uint8_t)(ip >> 24);
	return ip != 0 && a != 127 && a < 224;
}

static int parse_address(struct ld *l, const struct conf_node *n,
			 const char *s, uint32_t *ip, uint8_t *plen)
{
	char buf[32];
	const char *slash = strchr(s, '/');
	if (slash == NULL || (size_t)(slash - s) >= sizeof buf)
		return ERR(l, n, "dataplane.address: '%s' is not ADDRESS/PREFIX;"
			   " write e.g. 198.18.0.1/24", s);
	memcpy(buf, s, (size_t)(slash - s));
	buf[slash - s] = '\0';
	char *end;
	errno = 0;
	long p = strtol(slash + 1, &end, 10);
	if (parse_ip(buf, ip) != 0 || !unicast(*ip))
		return ERR(l, n, "dataplane.address: '%s' is not a unicast IPv4"
			   " address; write e.g. 198.18.0.1/24", buf);
	if (end == slash + 1 || *end != '\0' || errno != 0 || p < 1 || p > 32)
		return ERR(l, n, "dataplane.address: prefix '%s' must be 1..32;"
			   " write e.g. 198.18.0.1/24", slash + 1);
	*plen = (uint8_t)p;
	return 0;
}

static int load_eal(struct ld *l, const struct conf_node *m,
		    struct dp_config *c)
{
	const struct conf_node *n = conf_map_get(m, "eal");
	int rc;
	if (n == NULL)
		return 0;
	if ((rc = conf_check_strlist(n, "dataplane.eal", l->err,
				     l->errsz)) < 0)
		return rc;
	size_t k = conf_list_len(n);
	if (k > DP_MAX_EAL_ARGS)
		return ERR(l, n, "dataplane.eal: %zu arguments, at most %d; "
			   "shorten the list", k, DP_MAX_EAL_ARGS);
	for (size_t i = 0; i < k; i++)
		c->eal[i] = conf_scalar(conf_list_at(n, i));
	c->neal = (unsigned)k;
	return 0;
}

static int load_tcp(struct ld *l, const struct conf_node *m,
		    struct tcp_stack_config *t)
{
	static const char *const keys[] = {
		"max_conns", "max_time_wait", "syn_backlog", "rcvbuf",
		"sndbuf", "snd_pool", "ooo_max", "rto_min", "rto_max",
		"rto_init", "syn_retries", "data_retries", "delayed_ack",
		"time_wait", "fin_wait2", "keepalive", "keepalive_interval",
		"keepalive_probes", "timestamps", "window_scaling", "sack",
		NULL};
	const uint64_t K = 1024, M = K * K, G = M * K;
	bool ts = true, ws = true, sack = true;
	uint64_t pool = 0;
	int rc;

	if (m == NULL)
		return 0;
	if ((rc = conf_check_map(m, "dataplane.tcp", keys, l->err,
				 l->errsz)) < 0)
		return rc;
	const struct conf_node *pn = conf_map_get(m, "snd_pool");
	if (pn != NULL && (rc = conf_get_size(pn, "dataplane.tcp.snd_pool",
					      1 * M, 64 * G, &pool, l->err,
					      l->errsz)) < 0)
		return rc;
	t->snd_pool = pool;
	if ((rc = opt_u32(l, m, "max_conns", "dataplane.tcp.max_conns", 1,
			  16 * 1000 * 1000, &t->max_conns)) < 0 ||
	    (rc = opt_u32(l, m, "max_time_wait", "dataplane.tcp.max_time_wait",
			  1, 16 * 1000 * 1000, &t->max_time_wait)) < 0 ||
	    (rc = opt_u32(l, m, "syn_backlog", "dataplane.tcp.syn_backlog", 1,
			  1000 * 1000, &t->syn_backlog)) < 0 ||
	    (rc = opt_size32(l, m, "rcvbuf", "dataplane.tcp.rcvbuf", 4 * K,
			     16 * M, &t->rcvbuf)) < 0 ||
	    (rc = opt_size32(l, m, "sndbuf", "dataplane.tcp.sndbuf", 4 * K,
			     16 * M, &t->sndbuf)) < 0 ||
	    (rc = opt_u32(l, m, "ooo_max", "dataplane.tcp.ooo_max", 1, 4096,
			  &t->ooo_max)) < 0 ||
	    (rc = opt_dur_us(l, m, "rto_min", "dataplane.tcp.rto_min", 1,
			     60000, &t->rto_min_us)) < 0 ||
	    (rc = opt_dur_us(l, m, "rto_max", "dataplane.tcp.rto_max", 100,
			     600000, &t->rto_max_us)) < 0 ||
	    (rc = opt_dur_us(l, m, "rto_init", "dataplane.tcp.rto_init", 1,
			     60000, &t->rto_init_us)) < 0 ||
	    (rc = opt_u32(l, m, "syn_retries", "dataplane.tcp.syn_retries", 1,
			  20, &t->syn_retries)) < 0 ||
	    (rc = opt_u32(l, m, "data_retries", "dataplane.tcp.data_retries",
			  1, 30, &t->data_retries)) < 0 ||
	    (rc = opt_dur_us(l, m, "delayed_ack", "dataplane.tcp.delayed_ack",
			     1, 500, &t->delack_us)) < 0 ||
	    (rc = opt_dur_us(l, m, "time_wait", "dataplane.tcp.time_wait", 1,
			     240000, &t->time_wait_us)) < 0 ||
	    (rc = opt_dur_us(l, m, "fin_wait2", "dataplane.tcp.fin_wait2", 1,
			     600000, &t->fin_wait2_us)) < 0 ||
	    (rc = opt_dur_us(l, m, "keepalive_interval",
			     "dataplane.tcp.keepalive_interval", 1000, 3600000,
			     &t->keepalive_intvl_us)) < 0 ||
	    (rc = opt_u32(l, m, "keepalive_probes",
			  "dataplane.tcp.keepalive_probes", 1, 100,
			  &t->keepalive_probes)) < 0 ||
	    (rc = opt_bool(l, m, "timestamps", "dataplane.tcp.timestamps",
			   &ts)) < 0 ||
	    (rc = opt_bool(l, m, "window_scaling",
			   "dataplane.tcp.window_scaling", &ws)) < 0 ||
	    (rc = opt_bool(l, m, "sack", "dataplane.tcp.sack", &sack)) < 0)
		return rc;
	/* keepalive: "off" or an idle time before the first probe. */
	const struct conf_node *kn = conf_map_get(m, "keepalive");
	if (kn != NULL) {
		bool on;
		const char *s = conf_scalar(kn);
		if (s != NULL && conf_get_bool(kn, "x", &on, NULL, 0) == 0) {
			if (on)
				return ERR(l, kn, "dataplane.tcp.keepalive: say "
					   "how long a connection may idle "
					   "before probes (e.g. 1h, at most "
					   "66m), or off");
		} else if ((rc = opt_dur_us(l, m, "keepalive",
					    "dataplane.tcp.keepalive", 1000,
					    4000000, &t->keepalive_idle_us)) < 0) {
			return rc;
		}
	}
	/* As the stack will use them: an absent key takes its default
	 * (TCP_RTO_*_DEFAULT in tcp.h). */
	uint32_t rmin = t->rto_min_us ? t->rto_min_us : TCP_RTO_MIN_US_DEFAULT;
	uint32_t rmax = t->rto_max_us ? t->rto_max_us : TCP_RTO_MAX_US_DEFAULT;
	uint32_t rinit = t->rto_init_us ? t->rto_init_us : TCP_RTO_INIT_US_DEFAULT;
	if (rmin > rmax)
		return ERR(l, conf_map_get(m, t->rto_min_us ? "rto_min"
							     : "rto_max"),
			   "dataplane.tcp: rto_min (%u ms) is above rto_max "
			   "(%u ms); lower rto_min or raise rto_max",
			   rmin / 1000, rmax / 1000);
	if (rinit > rmax)
		return ERR(l, conf_map_get(m, t->rto_init_us ? "rto_init"
							      : "rto_max"),
			   "dataplane.tcp: rto_init (%u ms) is above rto_max "
			   "(%u ms); lower rto_init or raise rto_max",
			   rinit / 1000, rmax / 1000);
	t->no_timestamps = !ts;
	t->no_wscale = !ws;
	t->no_sack = !sack;
	return 0;
}

int dp_config_load(const struct conf_doc *doc, struct dp_config *c,
		   char *err, size_t errsz)
{
	static const char *const keys[] = {
		"eal", "port", "address", "gateway", "mtu", "net_lcores",
		"mbufs", "poll", "idle_sleep_max", "shutdown_deadline",
		"run_dir", "diag", "impair", "tcp", "smtp", "scan_lcores",
		"scan_time_budget", "scan_ring_size", NULL};
	static const char *const dkeys[] = {"echo", "discard", NULL};
	static const char *const skeys[] = {"listen", "port", NULL};
	struct ld l = {.err = err, .errsz = errsz};
	const struct conf_node *m, *n;
	const char *s;
	long long v;
	uint64_t ms;
	int rc;

	memset(c, 0, sizeof *c);
	c->mtu = 1500;
	c->net_lcores = 1;
	c->mbufs = 8191;
	c->poll = DP_POLL_ADAPTIVE;
	c->idle_sleep_max_us = 1000;
	c->shutdown_deadline_ms = 10000;
	c->run_dir = DP_DEFAULT_RUN_DIR;
	c->smtp_listen = true;
	c->smtp_port = 25;
	c->scan_lcores = 1;
	c->scan_time_budget_ms = DP_DEFAULT_SCAN_BUDGET_MS;
	c->scan_ring_size = DP_SCAN_RING_MAX;
	if (parse_ip("198.18.0.1", &c->ip) != 0)
		abort();
	c->prefix_len = 24;
	if (err != NULL && errsz > 0)
		err[0] = '\0';

	m = conf_map_get(conf_root(doc), "dataplane");
	if (m == NULL || conf_is_null(m))
		return 0;
	if ((rc = conf_check_map(m, "dataplane", keys, err, errsz)) < 0 ||
	    (rc = load_eal(&l, m, c)) < 0)
		return rc;
	if ((n = conf_map_get(m, "port")) != NULL) {
		if ((rc = conf_get_int(n, "dataplane.port", 0, 1023, &v, err,
				       errsz)) < 0)
			return rc;
		c->port = (uint16_t)v;
	}
	if ((n = conf_map_get(m, "address")) != NULL) {
		if ((rc = conf_get_string(n, "dataplane.address", false, &s,
					  err, errsz)) < 0 ||
		    (rc = parse_address(&l, n, s, &c->ip, &c->prefix_len)) < 0)
			return rc;
	}
	if ((n = conf_map_get(m, "gateway")) != NULL && !conf_is_null(n)) {
		if ((rc = conf_get_string(n, "dataplane.gateway", false, &s,
					  err, errsz)) < 0)
			return rc;
		if (parse_ip(s, &c->gateway) != 0 || !unicast(c->gateway))
			return ERR(&l, n, "dataplane.gateway: '%s' is not a "
				   "unicast IPv4 address; write e.g. "
				   "198.18.0.254, or remove the key", s);
		uint32_t mask = c->prefix_len == 32
			? 0xffffffffu : ~(0xffffffffu >> c->prefix_len);
		if ((c->gateway & mask) != (c->ip & mask) ||
		    c->gateway == c->ip)
			return ERR(&l, n, "dataplane.gateway: %s is not another"
				   " host of the address's subnet; use a "
				   "router on that subnet", s);
	}
	if ((rc = opt_u32(&l, m, "net_lcores", "dataplane.net_lcores", 1,
			  DP_MAX_LCORES, &c->net_lcores)) < 0 ||
	    (rc = opt_u32(&l, m, "mbufs", "dataplane.mbufs", 2047,
			  4 * 1024 * 1024, &c->mbufs)) < 0)
		return rc;
	if ((n = conf_map_get(m, "mtu")) != NULL) {
		if ((rc = conf_get_int(n, "dataplane.mtu", 576, 1500, &v, err,
				       errsz)) < 0)
			return rc;  /* 1500: one frame fits a 2 KiB mbuf */
		c->mtu = (uint16_t)v;
	}
	if ((n = conf_map_get(m, "poll")) != NULL) {
		if ((rc = conf_get_string(n, "dataplane.poll", false, &s, err,
					  errsz)) < 0)
			return rc;
		if (strcmp(s, "adaptive") == 0)
			c->poll = DP_POLL_ADAPTIVE;
		else if (strcmp(s, "busy") == 0)
			c->poll = DP_POLL_BUSY;
		else
			return ERR(&l, n, "dataplane.poll: '%s' is neither "
				   "adaptive (idle loops sleep) nor busy "
				   "(pure polling)", s);
	}
	if ((rc = opt_dur_us(&l, m, "idle_sleep_max",
			     "dataplane.idle_sleep_max", 1, 100,
			     &c->idle_sleep_max_us)) < 0)
		return rc;
	if ((n = conf_map_get(m, "shutdown_deadline")) != NULL) {
		if ((rc = conf_get_duration(n, "dataplane.shutdown_deadline",
					    0, 3600000, &ms, err, errsz)) < 0)
			return rc;
		c->shutdown_deadline_ms = ms;
	}
	if ((n = conf_map_get(m, "run_dir")) != NULL) {
		if ((rc = conf_get_string(n, "dataplane.run_dir", false, &s,
					  err, errsz)) < 0)
			return rc;
		if (s[0] != '/' || strlen(s) > 200)
			return ERR(&l, n, "dataplane.run_dir: '%s' must be an "
				   "absolute path of at most 200 bytes", s);
		c->run_dir = s;
	}
	if ((n = conf_map_get(m, "diag")) != NULL && !conf_is_null(n)) {
		if ((rc = conf_check_map(n, "dataplane.diag", dkeys, err,
					 errsz)) < 0 ||
		    (rc = opt_bool(&l, n, "echo", "dataplane.diag.echo",
				   &c->diag_echo)) < 0 ||
		    (rc = opt_bool(&l, n, "discard", "dataplane.diag.discard",
				   &c->diag_discard)) < 0)
			return rc;
	}
	if ((n = conf_map_get(m, "smtp")) != NULL && !conf_is_null(n)) {
		uint32_t port = c->smtp_port;
		if ((rc = conf_check_map(n, "dataplane.smtp", skeys, err,
					 errsz)) < 0 ||
		    (rc = opt_bool(&l, n, "listen", "dataplane.smtp.listen",
				   &c->smtp_listen)) < 0 ||
		    (rc = opt_u32(&l, n, "port", "dataplane.smtp.port", 1,
				  65535, &port)) < 0)
			return rc;
		c->smtp_port = (uint16_t)port;
	}
	if ((rc = opt_u32(&l, m, "scan_lcores", "dataplane.scan_lcores", 0,
			  DP_MAX_SCAN_LCORES, &c->scan_lcores)) < 0)
		return rc;
	if ((n = conf_map_get(m, "scan_time_budget")) != NULL) {
		if ((rc = conf_get_duration(n, "dataplane.scan_time_budget",
					    DP_SCAN_BUDGET_MIN_MS,
					    DP_SCAN_BUDGET_MAX_MS, &ms, err,
					    errsz)) < 0)
			return rc;
		c->scan_time_budget_ms = ms;
	}
	if ((rc = opt_u32(&l, m, "scan_ring_size", "dataplane.scan_ring_size",
			  DP_SCAN_RING_MIN, DP_SCAN_RING_MAX,
			  &c->scan_ring_size)) < 0)
		return rc;
	if ((c->scan_ring_size & (c->scan_ring_size - 1)) != 0)
		return ERR(&l, conf_map_get(m, "scan_ring_size"),
			   "dataplane.scan_ring_size: %u is not a power of "
			   "two; use one of 2, 4, ... %u", c->scan_ring_size,
			   DP_SCAN_RING_MAX);
	if (c->smtp_listen && c->scan_lcores == 0)
		return ERR(&l, conf_map_get(m, "scan_lcores"),
			   "dataplane.scan_lcores: 0, but the SMTP listener "
			   "needs at least one scan lcore; set 1 or more, or "
			   "dataplane.smtp.listen: false");
	if ((n = conf_map_get(m, "impair")) != NULL && !conf_is_null(n)) {
		char e[200];
		if ((rc = conf_get_string(n, "dataplane.impair", false, &s, err,
					  errsz)) < 0)
			return rc;
		if (dp_impair_parse(s, &c->impair, e, sizeof e) < 0)
			return ERR(&l, n, "dataplane.impair: %s", e);
	}
	/* `tcp:` with every key commented out: the defaults. */
	n = conf_map_get(m, "tcp");
	return load_tcp(&l, n != NULL && conf_is_null(n) ? NULL : n, &c->tcp);
}
