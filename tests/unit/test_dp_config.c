/* tests/unit/test_dp_config.c - dataplane/dp_config.c: the shipped
 * config/sluice.conf's dataplane section loads to the documented values;
 * an absent section or absent keys give the defaults; good variations
 * parse to the expected struct values; every bad value (unknown key, bad
 * address or prefix, out-of-range numbers, bad poll mode, duration,
 * impairment spec, wrong types) fails with "FILE:LINE: ..." naming the
 * temp file and the offending key's line and saying what to do. */
#include "dataplane/dp_config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (b) << 16 | (c) << 8 | (d))

static char tmp_path[64];

/* Write text to the temp file and load it; 0 or the conf_load error. */
static int load_text(const char *text, struct conf_doc **doc, char *err,
		     size_t errsz)
{
	FILE *f = fopen(tmp_path, "w");
	if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0) {
		perror(tmp_path);
		exit(2);
	}
	return conf_load(tmp_path, doc, err, errsz);
}

/* Load text and run dp_config_load(); its rc (or conf_load's). */
static int load_cfg(const char *text, struct dp_config *c, char *err,
		    size_t errsz, struct conf_doc **docp)
{
	struct conf_doc *doc = NULL;
	int rc = load_text(text, &doc, err, errsz);
	if (rc == 0)
		rc = dp_config_load(doc, c, err, errsz);
	*docp = doc;  /* strings in c borrow from it */
	return rc;
}

static void check_defaults(const struct dp_config *c, const char *what)
{
	CHECK_MSG(c->neal == 0, "%s: neal %u", what, c->neal);
	CHECK_MSG(c->port == 0, "%s: port", what);
	CHECK_MSG(c->ip == IP(198, 18, 0, 1), "%s: ip %08x", what, c->ip);
	CHECK_MSG(c->prefix_len == 24, "%s: prefix %u", what, c->prefix_len);
	CHECK_MSG(c->gateway == 0, "%s: gateway", what);
	CHECK_MSG(c->mtu == 1500, "%s: mtu %u", what, c->mtu);
	CHECK_MSG(c->net_lcores == 1, "%s: net_lcores", what);
	CHECK_MSG(c->mbufs == 8191, "%s: mbufs %u", what, c->mbufs);
	CHECK_MSG(c->poll == DP_POLL_ADAPTIVE, "%s: poll", what);
	CHECK_MSG(c->idle_sleep_max_us == 1000, "%s: idle_sleep_max_us %u",
		  what, c->idle_sleep_max_us);
	CHECK_MSG(c->shutdown_deadline_ms == 10000, "%s: shutdown", what);
	CHECK_MSG(c->run_dir && strcmp(c->run_dir, "/run/sluice") == 0,
		  "%s: run_dir", what);
	CHECK_MSG(!c->diag_echo && !c->diag_discard, "%s: diag", what);
	CHECK_MSG(c->smtp_listen && c->smtp_port == 25 &&
		  c->scan_lcores == 1, "%s: smtp/scan_lcores", what);
	CHECK_MSG(c->scan_time_budget_ms == 20000, "%s: scan_time_budget",
		  what);
	CHECK_MSG(c->scan_ring_size == 1024, "%s: scan_ring_size %u", what,
		  c->scan_ring_size);
	CHECK_MSG(dp_impair_config_is_null(&c->impair), "%s: impair", what);
	/* TCP: all zero = the stack's own defaults. */
	static const struct tcp_stack_config zero;
	CHECK_MSG(memcmp(&c->tcp, &zero, sizeof zero) == 0, "%s: tcp", what);
}

/* ---- the shipped file --------------------------------------------------- */

static void test_shipped_config(void)
{
	char err[512] = "";
	struct conf_doc *doc = NULL;
	struct dp_config c;
	int rc = conf_load(SLUICE_SRCDIR "/config/sluice.conf", &doc, err,
			   sizeof err);
	CHECK_MSG(rc == 0, "conf_load: %s", err);
	if (rc != 0)
		return;
	rc = dp_config_load(doc, &c, err, sizeof err);
	CHECK_MSG(rc == 0, "dp_config_load: %s", err);
	if (rc == 0) {
		static const char *const eal[] = {
			"--no-huge", "-m", "256", "--no-pci",
			"--file-prefix=sluiced",
			"--vdev=net_tap0,iface=sl-tap0"};
		CHECK_EQ_INT(c.neal, 6);
		for (unsigned i = 0; i < 6 && i < c.neal; i++)
			CHECK_EQ_STR(c.eal[i], eal[i]);
		CHECK_EQ_INT(c.port, 0);
		CHECK_EQ_INT(c.ip, IP(198, 18, 0, 1));
		CHECK_EQ_INT(c.prefix_len, 24);
		CHECK_EQ_INT(c.gateway, 0);
		CHECK_EQ_INT(c.mtu, 1500);
		CHECK_EQ_INT(c.net_lcores, 1);
		CHECK_EQ_INT(c.mbufs, 8191);
		CHECK_EQ_INT(c.poll, DP_POLL_ADAPTIVE);
		CHECK_EQ_INT(c.idle_sleep_max_us, 1000);
		CHECK_EQ_INT(c.shutdown_deadline_ms, 10000);
		CHECK_EQ_STR(c.run_dir, "/run/sluice");
		CHECK(c.smtp_listen && c.smtp_port == 25 &&
		      c.scan_lcores == 1);
		CHECK(!c.diag_echo && !c.diag_discard);
		CHECK(dp_impair_config_is_null(&c.impair));
		CHECK_EQ_INT(c.tcp.max_conns, 65536);
		CHECK_EQ_INT(c.tcp.syn_backlog, 1024);
		CHECK_EQ_INT(c.tcp.rcvbuf, 128 * 1024);
		CHECK_EQ_INT(c.tcp.sndbuf, 128 * 1024);
		CHECK_EQ_INT(c.tcp.snd_pool, 64ull << 20);
		CHECK_EQ_INT(c.tcp.keepalive_idle_us, 0);
		CHECK(!c.tcp.no_timestamps && !c.tcp.no_wscale &&
		      !c.tcp.no_sack);
		/* Keys the file only mentions in comments stay zero (the
		 * stack's defaults), not some other value. */
		CHECK_EQ_INT(c.tcp.rto_min_us, 0);
		CHECK_EQ_INT(c.tcp.max_time_wait, 0);
	}
	conf_free(doc);
}

/* ---- defaults ----------------------------------------------------------- */

static void test_defaults(void)
{
	static const char *const texts[] = {
		"",
		"other: 1\n",
		"dataplane:\n",
		"dataplane: ~\n",
		"dataplane: {}\n",
		"dataplane:\n  tcp: {}\n  diag: {}\n",
		"dataplane:\n  gateway:\n  impair:\n",
		"dataplane:\n  eal: []\n",
		/* every key of a subsection commented out */
		"dataplane:\n  tcp:\n    # max_conns: 5\n  diag:\n",
	};
	for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
		char err[512] = "";
		struct conf_doc *doc;
		struct dp_config c;
		memset(&c, 0xa5, sizeof c);  /* load must set everything */
		int rc = load_cfg(texts[i], &c, err, sizeof err, &doc);
		CHECK_MSG(rc == 0, "'%s': %s", texts[i], err);
		if (rc == 0) {
			CHECK_MSG(err[0] == '\0', "'%s': err set: %s",
				  texts[i], err);
			check_defaults(&c, texts[i]);
		}
		conf_free(doc);
	}
}

/* ---- good variations ---------------------------------------------------- */

struct good {
	const char *yaml;  /* the dataplane section's body, 2-space indent */
	void (*check)(const struct dp_config *c, const char *yaml);
};

#define G(expr) CHECK_MSG(expr, "'%s': %s", y, #expr)

static void g_addr(const struct dp_config *c, const char *y)
{
	G(c->ip == IP(10, 1, 2, 3));
	G(c->prefix_len == 8);
	G(c->gateway == IP(10, 200, 0, 1));
}
static void g_addr32(const struct dp_config *c, const char *y)
{
	G(c->ip == IP(192, 0, 2, 7));
	G(c->prefix_len == 32);
	G(c->gateway == 0);
}
static void g_addr1(const struct dp_config *c, const char *y)
{
	G(c->ip == IP(100, 64, 0, 1));
	G(c->prefix_len == 1);
	G(c->gateway == IP(1, 1, 1, 1));
}
static void g_gw_null(const struct dp_config *c, const char *y)
{
	G(c->gateway == 0);
	G(c->ip == IP(198, 18, 0, 1));
}
static void g_nums_lo(const struct dp_config *c, const char *y)
{
	G(c->port == 0);
	G(c->mtu == 576);
	G(c->net_lcores == 1);
	G(c->mbufs == 2047);
	G(c->idle_sleep_max_us == 1000);
	G(c->shutdown_deadline_ms == 0);
}
static void g_nums_hi(const struct dp_config *c, const char *y)
{
	G(c->port == 1023);
	G(c->mtu == 1500);
	G(c->net_lcores == DP_MAX_LCORES);
	G(c->mbufs == 4u * 1024 * 1024);
	G(c->idle_sleep_max_us == 100000);
	G(c->shutdown_deadline_ms == 3600000);
	G(c->poll == DP_POLL_BUSY);
}
static void g_durations(const struct dp_config *c, const char *y)
{
	G(c->idle_sleep_max_us == 5000);
	G(c->shutdown_deadline_ms == 120000);
	G(c->poll == DP_POLL_ADAPTIVE);
}
static void g_eal_scalar(const struct dp_config *c, const char *y)
{
	G(c->neal == 1);
	G(c->neal >= 1 && strcmp(c->eal[0], "--no-pci") == 0);
}
static void g_eal_list(const struct dp_config *c, const char *y)
{
	G(c->neal == 3);
	G(c->neal == 3 && strcmp(c->eal[0], "-l") == 0 &&
	  strcmp(c->eal[1], "0-3") == 0 && strcmp(c->eal[2], "-n4") == 0);
	G(c->net_lcores == 4);
}
static void g_run_diag(const struct dp_config *c, const char *y)
{
	G(c->run_dir != NULL && strcmp(c->run_dir, "/tmp/sl run") == 0);
	G(c->diag_echo);
	G(!c->diag_discard);
}
static void g_diag_both(const struct dp_config *c, const char *y)
{
	G(c->diag_echo);
	G(c->diag_discard);
}
static void g_smtp_off(const struct dp_config *c, const char *y)
{
	G(!c->smtp_listen);
	G(c->smtp_port == 2525);
	G(c->scan_lcores == 0);
}
static void g_scan3(const struct dp_config *c, const char *y)
{
	G(c->smtp_listen);
	G(c->scan_lcores == 3);
}
static void g_budget_lo(const struct dp_config *c, const char *y)
{
	G(c->scan_time_budget_ms == 1);
}
static void g_budget_hi(const struct dp_config *c, const char *y)
{
	G(c->scan_time_budget_ms == 300000);
}
static void g_ring_lo(const struct dp_config *c, const char *y)
{
	G(c->scan_ring_size == 2);
}
static void g_ring_64(const struct dp_config *c, const char *y)
{
	G(c->scan_ring_size == 64);
}
static void g_impair(const struct dp_config *c, const char *y)
{
	G(c->impair.loss_ppm == 50000);
	G(c->impair.dup_ppm == 5000);
	G(c->impair.reorder_ppm == 250000);
	G(c->impair.delay_us == 20000);
	G(c->impair.jitter_us == 10000);
	G(c->impair.limit == 500);
	G(c->impair.seed == 7);
}
static void g_tcp_all(const struct dp_config *c, const char *y)
{
	const struct tcp_stack_config *t = &c->tcp;
	G(t->max_conns == 1000);
	G(t->max_time_wait == 2000);
	G(t->syn_backlog == 16);
	G(t->rcvbuf == 4096);
	G(t->sndbuf == 16u << 20);
	G(t->snd_pool == 1ull << 30);
	G(t->ooo_max == 4096);
	G(t->rto_min_us == 1000);
	G(t->rto_max_us == 600000000);
	G(t->rto_init_us == 3000000);
	G(t->syn_retries == 20);
	G(t->data_retries == 1);
	G(t->delack_us == 500000);
	G(t->time_wait_us == 240000000);
	G(t->fin_wait2_us == 1000);
	G(t->keepalive_idle_us == 3600000000u);
	G(t->keepalive_intvl_us == 10000000);
	G(t->keepalive_probes == 100);
	G(t->no_timestamps);
	G(t->no_wscale);
	G(!t->no_sack);
}
static void g_tcp_ka_off(const struct dp_config *c, const char *y)
{
	G(c->tcp.keepalive_idle_us == 0);
	G(c->tcp.rto_min_us == 200000);
	G(c->tcp.rto_max_us == 200000);
}

static const struct good goods[] = {
	{"  address: 10.1.2.3/8\n  gateway: 10.200.0.1\n", g_addr},
	{"  address: 192.0.2.7/32\n", g_addr32},
	{"  address: 100.64.0.1/1\n  gateway: 1.1.1.1\n", g_addr1},
	{"  gateway: null\n", g_gw_null},
	{"  port: 0\n  mtu: 576\n  net_lcores: 1\n  mbufs: 2047\n"
	 "  idle_sleep_max: 1ms\n  shutdown_deadline: 0s\n", g_nums_lo},
	{"  port: 1023\n  mtu: 1500\n  net_lcores: 16\n  mbufs: 4194304\n"
	 "  idle_sleep_max: 100ms\n  shutdown_deadline: 1h\n  poll: busy\n",
	 g_nums_hi},
	{"  idle_sleep_max: 5 ms\n  shutdown_deadline: 2 minutes\n"
	 "  poll: adaptive\n", g_durations},
	{"  eal: --no-pci\n", g_eal_scalar},
	{"  eal:\n    - -l\n    - 0-3\n    - -n4\n  net_lcores: 4\n",
	 g_eal_list},
	{"  run_dir: /tmp/sl run\n  diag:\n    echo: yes\n", g_run_diag},
	{"  diag: {echo: on, discard: TRUE}\n", g_diag_both},
	{"  smtp:\n    listen: false\n    port: 2525\n  scan_lcores: 0\n",
	 g_smtp_off},
	{"  scan_lcores: 3\n  smtp: null\n", g_scan3},
	{"  scan_time_budget: 1ms\n", g_budget_lo},
	{"  scan_time_budget: 5 minutes\n", g_budget_hi},
	{"  scan_ring_size: 2\n", g_ring_lo},
	{"  scan_ring_size: 64\n", g_ring_64},
	{"  impair: \"loss=5%,duplicate=0.5%,reorder=25%,delay=20ms,"
	 "jitter=10ms,limit=500,seed=7\"\n", g_impair},
	{"  tcp:\n    max_conns: 1000\n    max_time_wait: 2000\n"
	 "    syn_backlog: 16\n    rcvbuf: 4 KiB\n    sndbuf: 16MiB\n"
	 "    snd_pool: 1 GiB\n    ooo_max: 4096\n    rto_min: 1ms\n"
	 "    rto_max: 10m\n    rto_init: 3s\n    syn_retries: 20\n"
	 "    data_retries: 1\n    delayed_ack: 500ms\n"
	 "    time_wait: 4m\n    fin_wait2: 1ms\n    keepalive: 1h\n"
	 "    keepalive_interval: 10s\n    keepalive_probes: 100\n"
	 "    timestamps: no\n    window_scaling: off\n    sack: yes\n",
	 g_tcp_all},
	{"  tcp:\n    keepalive: off\n    rto_min: 200ms\n"
	 "    rto_max: 200ms\n    rto_init: 200ms\n", g_tcp_ka_off},
};

static void test_good(void)
{
	for (size_t i = 0; i < sizeof goods / sizeof goods[0]; i++) {
		char text[2048], err[512] = "";
		struct conf_doc *doc;
		struct dp_config c;
		snprintf(text, sizeof text, "dataplane:\n%s", goods[i].yaml);
		int rc = load_cfg(text, &c, err, sizeof err, &doc);
		CHECK_MSG(rc == 0, "'%s': %s", goods[i].yaml, err);
		if (rc == 0)
			goods[i].check(&c, goods[i].yaml);
		conf_free(doc);
	}
}

/* ---- bad values --------------------------------------------------------- */

struct bad {
	const char *yaml;  /* the dataplane section's body (line 2 on) */
	unsigned line;     /* of the offending key, in the whole file */
	const char *says;  /* a fragment of the message: what to do */
};

static const struct bad bads[] = {
	/* unknown keys */
	{"  mtuu: 1500\n", 2, "did you mean 'mtu'?"},
	{"  scan_lcores: 0\n", 2, "needs at least one scan lcore"},
	{"  scan_lcores: 17\n", 2, "out of range"},
	{"  scan_time_budget: 0s\n", 2, "scan_time_budget"},
	{"  scan_time_budget: 301s\n", 2, "scan_time_budget"},
	{"  mtu: 1500\n  scan_time_budget: off\n", 3, "scan_time_budget"},
	{"  scan_ring_size: 1\n", 2, "out of range"},
	{"  scan_ring_size: 2048\n", 2, "out of range"},
	{"  mtu: 1500\n  scan_ring_size: 100\n", 3, "not a power of two"},
	{"  smtp:\n    port: 0\n", 3, "out of range"},
	{"  smtp:\n    listne: yes\n", 3, "did you mean 'listen'?"},
	{"  mtu: 1500\n  frobnicate: 1\n", 3, "known keys: eal, port"},
	{"  tcp:\n    max_conn: 5\n", 3, "did you mean 'max_conns'?"},
	{"  tcp:\n    rcvbuf: 8 KiB\n    zzz: 1\n", 4, "known keys"},
	{"  diag:\n    echo: no\n    discrad: no\n", 4, "did you mean "
	 "'discard'?"},
	/* wrong types */
	{"  mtu: [1500]\n", 2, "expected a whole number, found a list"},
	{"  port: {a: 1}\n", 2, "expected a whole number, found a map"},
	{"  address: [198.18.0.1/24]\n", 2, "expected a non-empty string"},
	{"  address: \"\"\n", 2, "expected a non-empty string"},
	{"  gateway: [1.2.3.4]\n", 2, "expected a non-empty string"},
	{"  poll: [busy]\n", 2, "expected a non-empty string"},
	{"  eal: {a: b}\n", 2, "expected a string or a list of strings"},
	{"  eal:\n    - --no-pci\n    - [x]\n", 4, "non-empty string"},
	{"  diag: yes\n", 2, "expected a map"},
	{"  diag:\n    echo: maybe\n", 3, "expected yes or no"},
	{"  tcp: 5\n", 2, "expected a map"},
	{"  tcp:\n    sack: 1\n", 3, "expected yes or no"},
	{"  tcp:\n    max_conns: lots\n", 3, "expected a whole number"},
	{"  impair: [loss=1%]\n", 2, "expected a non-empty string"},
	{"  run_dir: [/run]\n", 2, "expected a non-empty string"},
	/* addresses */
	{"  address: 198.18.0.1\n", 2, "write e.g. 198.18.0.1/24"},
	{"  address: 198.18.0.256/24\n", 2, "write e.g. 198.18.0.1/24"},
	{"  address: 198.18.0/24\n", 2, "write e.g. 198.18.0.1/24"},
	{"  address: host.example/24\n", 2, "write e.g. 198.18.0.1/24"},
	{"  address: 127.0.0.1/8\n", 2, "not a unicast IPv4 address"},
	{"  address: 0.0.0.0/8\n", 2, "not a unicast IPv4 address"},
	{"  address: 224.0.0.1/4\n", 2, "not a unicast IPv4 address"},
	{"  address: 255.255.255.255/32\n", 2, "not a unicast IPv4"},
	{"  address: 198.18.0.1/33\n", 2, "must be 1..32"},
	{"  address: 198.18.0.1/0\n", 2, "must be 1..32"},
	{"  address: 198.18.0.1/\n", 2, "must be 1..32"},
	{"  address: 198.18.0.1/24x\n", 2, "must be 1..32"},
	{"  address: 198.18.0.1/x\n", 2, "must be 1..32"},
	{"  address: 198.18.0.1/99999999999999999999\n", 2, "must be 1..32"},
	{"  gateway: 198.18.1.1\n", 2, "use a router on that subnet"},
	{"  address: 10.0.0.1/32\n  gateway: 10.0.0.2\n", 3,
	 "use a router on that subnet"},
	{"  gateway: 198.18.0.1\n", 2, "use a router on that subnet"},
	{"  gateway: 198.18.0.300\n", 2, "or remove the key"},
	{"  gateway: 127.0.0.1\n", 2, "or remove the key"},
	/* numbers out of range */
	{"  port: 1024\n", 2, "use a number from 0 to 1023"},
	{"  port: -1\n", 2, "use a number from 0 to 1023"},
	{"  mtu: 575\n", 2, "use a number from 576 to 1500"},
	{"  mtu: 1501\n", 2, "use a number from 576 to 1500"},
	{"  mtu: 9000\n", 2, "use a number from 576 to 1500"},
	{"  mtu: 1500.0\n", 2, "expected a whole number"},
	{"  net_lcores: 0\n", 2, "use a number from 1 to 16"},
	{"  net_lcores: 17\n", 2, "use a number from 1 to 16"},
	{"  mbufs: 2046\n", 2, "use a number from 2047 to 4194304"},
	{"  mbufs: 4194305\n", 2, "use a number from 2047 to 4194304"},
	{"  mbufs: 99999999999999999999999\n", 2, "use a number from"},
	/* poll */
	{"  poll: fast\n", 2, "neither adaptive (idle loops sleep) nor busy"},
	{"  poll: Busy\n", 2, "neither adaptive"},
	/* durations */
	{"  idle_sleep_max: 0ms\n", 2, "use a duration from 1 ms to 100 ms"},
	{"  idle_sleep_max: 101ms\n", 2, "use a duration from 1 ms to 100"},
	{"  idle_sleep_max: 5\n", 2, "a duration with a unit such as"},
	{"  idle_sleep_max: soon\n", 2, "a duration with a unit such as"},
	{"  shutdown_deadline: 2h\n", 2, "use a duration from 0 ms to "
	 "3600000 ms"},
	{"  shutdown_deadline: 10\n", 2, "a duration with a unit"},
	/* run_dir */
	{"  run_dir: run/sluice\n", 2, "must be an absolute path"},
	/* impair */
	{"  impair: loss=200%\n", 2, "bad impairment item 'loss=200%'; use"},
	{"  impair: bogus=1\n", 2, "bad impairment item 'bogus=1'"},
	{"  impair: delay=20\n", 2, "(T in us/ms/s)"},
	{"  impair: limit=0\n", 2, "limit=N"},
	{"  impair: delay=5ms,jitter=10ms\n", 2, "lower the jitter"},
	/* tcp */
	{"  tcp:\n    rcvbuf: 1 KiB\n", 3, "use a size from 4 KiB to 16 MiB"},
	{"  tcp:\n    sndbuf: 17 MiB\n", 3, "use a size from 4 KiB to 16 MiB"},
	{"  tcp:\n    rcvbuf: big\n", 3, "a size such as '20 MiB'"},
	{"  tcp:\n    snd_pool: 512 KiB\n", 3, "use a size from 1 MiB to "
	 "64 GiB"},
	{"  tcp:\n    max_conns: 0\n", 3, "use a number from 1 to 16000000"},
	{"  tcp:\n    max_time_wait: 16000001\n", 3, "use a number from 1"},
	{"  tcp:\n    syn_backlog: 0\n", 3, "use a number from 1 to 1000000"},
	{"  tcp:\n    ooo_max: 4097\n", 3, "use a number from 1 to 4096"},
	{"  tcp:\n    syn_retries: 21\n", 3, "use a number from 1 to 20"},
	{"  tcp:\n    data_retries: 31\n", 3, "use a number from 1 to 30"},
	{"  tcp:\n    keepalive_probes: 0\n", 3, "use a number from 1 to"},
	{"  tcp:\n    rto_min: 0ms\n", 3, "use a duration from 1 ms"},
	{"  tcp:\n    rto_max: 50ms\n", 3, "use a duration from 100 ms"},
	{"  tcp:\n    rto_init: 61s\n", 3, "use a duration from 1 ms"},
	{"  tcp:\n    delayed_ack: 501ms\n", 3, "to 500 ms"},
	{"  tcp:\n    time_wait: 5m\n", 3, "to 240000 ms"},
	{"  tcp:\n    fin_wait2: 11m\n", 3, "to 600000 ms"},
	{"  tcp:\n    keepalive_interval: 999ms\n", 3, "from 1000 ms"},
	{"  tcp:\n    keepalive: yes\n", 3, "say how long a connection may "
	 "idle"},
	{"  tcp:\n    keepalive: 500ms\n", 3, "use a duration from 1000 ms"},
	{"  tcp:\n    keepalive: 2d\n", 3, "use a duration from 1000 ms"},
	{"  tcp:\n    keepalive: sometimes\n", 3, "a duration with a unit"},
	{"  tcp:\n    rto_min: 2s\n    rto_max: 1s\n", 3,
	 "lower rto_min or raise rto_max"},
	/* the other bound of the pair is the stack's default */
	{"  tcp:\n    sack: yes\n    rto_max: 100ms\n", 4,
	 "lower rto_min or raise rto_max"},
	{"  tcp:\n    rto_init: 10s\n    rto_max: 5s\n", 3,
	 "lower rto_init or raise rto_max"},
	{"  tcp:\n    rto_max: 500ms\n", 3, "lower rto_init or raise rto_max"},
	/* the whole section */
	{NULL, 1, "expected a map"},
};

static void test_bad(void)
{
	for (size_t i = 0; i < sizeof bads / sizeof bads[0]; i++) {
		char text[2048], err[512] = "", want[128];
		struct conf_doc *doc;
		struct dp_config c;
		if (bads[i].yaml)
			snprintf(text, sizeof text, "dataplane:\n%s",
				 bads[i].yaml);
		else
			snprintf(text, sizeof text, "dataplane: yes\n");
		int rc = load_cfg(text, &c, err, sizeof err, &doc);
		CHECK_MSG(rc == -EINVAL, "'%s': rc %d, want -EINVAL", text, rc);
		snprintf(want, sizeof want, "%s:%u: ", tmp_path, bads[i].line);
		CHECK_MSG(strncmp(err, want, strlen(want)) == 0,
			  "'%s': error '%s' does not start '%s'", text, err,
			  want);
		CHECK_MSG(strstr(err, bads[i].says) != NULL,
			  "'%s': error '%s' does not say '%s'", text, err,
			  bads[i].says);
		CHECK_MSG(strchr(err, '\n') == NULL, "'%s': not one line: %s",
			  text, err);
		conf_free(doc);
	}
}

/* More EAL arguments than fit: refused at the list's line. */
static void test_too_many_eal(void)
{
	char text[4096], err[512] = "", want[128];
	size_t off = (size_t)snprintf(text, sizeof text,
				      "dataplane:\n  port: 0\n  eal:\n");
	for (int i = 0; i <= DP_MAX_EAL_ARGS; i++)
		off += (size_t)snprintf(text + off, sizeof text - off,
					"    - -a%d\n", i);
	struct conf_doc *doc;
	struct dp_config c;
	int rc = load_cfg(text, &c, err, sizeof err, &doc);
	CHECK_EQ_INT(rc, -EINVAL);
	snprintf(want, sizeof want, "%s:4: ", tmp_path);
	CHECK_MSG(strncmp(err, want, strlen(want)) == 0, "error '%s'", err);
	CHECK(strstr(err, "at most 64; shorten the list") != NULL);
	conf_free(doc);
	/* exactly DP_MAX_EAL_ARGS is fine */
	off = (size_t)snprintf(text, sizeof text, "dataplane:\n  eal:\n");
	for (int i = 0; i < DP_MAX_EAL_ARGS; i++)
		off += (size_t)snprintf(text + off, sizeof text - off,
					"    - -a%d\n", i);
	rc = load_cfg(text, &c, err, sizeof err, &doc);
	CHECK_MSG(rc == 0, "%s", err);
	if (rc == 0) {
		CHECK_EQ_INT(c.neal, DP_MAX_EAL_ARGS);
		CHECK_EQ_STR(c.eal[DP_MAX_EAL_ARGS - 1], "-a63");
	}
	conf_free(doc);
}

/* A long value in an error is cut to the buffer, still NUL-terminated,
 * and a NULL/0 buffer is accepted. */
static void test_small_err_buffer(void)
{
	char err[24];
	struct conf_doc *doc;
	struct dp_config c;
	memset(err, 'x', sizeof err);
	int rc = load_cfg("dataplane:\n  mtu: 9000\n", &c, err, sizeof err,
			  &doc);
	CHECK_EQ_INT(rc, -EINVAL);
	CHECK(memchr(err, '\0', sizeof err) != NULL);
	CHECK(strncmp(err, tmp_path, strlen(err)) == 0);
	CHECK_EQ_INT(dp_config_load(doc, &c, NULL, 0), -EINVAL);
	conf_free(doc);
}

/* The example an error message offers is itself accepted. */
static void test_examples_in_messages(void)
{
	static const struct {
		const char *bad, *fix;  /* fix: the bad line's start */
	} rows[] = {
		{"dataplane:\n  tcp:\n    keepalive: on\n",
		 "dataplane:\n  tcp:\n    keepalive: "},
		{"dataplane:\n  address: 1.2.3.4\n",
		 "dataplane:\n  address: "},
		{"dataplane:\n  gateway: nowhere\n",
		 "dataplane:\n  gateway: "},
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		char err[512] = "", ex[64] = "", text[256];
		struct conf_doc *doc;
		struct dp_config c;
		CHECK_EQ_INT(load_cfg(rows[i].bad, &c, err, sizeof err, &doc),
			     -EINVAL);
		conf_free(doc);
		const char *e = strstr(err, "e.g. ");
		CHECK_MSG(e != NULL, "no example in '%s'", err);
		if (e == NULL)
			continue;
		sscanf(e + 5, "%63[^,;) ]", ex);
		snprintf(text, sizeof text, "%s%s\n", rows[i].fix, ex);
		int rc = load_cfg(text, &c, err, sizeof err, &doc);
		CHECK_MSG(rc == 0, "example '%s' refused: %s", ex, err);
		conf_free(doc);
	}
}

int main(void)
{
	snprintf(tmp_path, sizeof tmp_path, "/tmp/test_dp_config.XXXXXX");
	int fd = mkstemp(tmp_path);
	if (fd < 0) {
		perror("mkstemp");
		return 2;
	}
	close(fd);
	RUN(test_shipped_config);
	RUN(test_defaults);
	RUN(test_good);
	RUN(test_bad);
	RUN(test_examples_in_messages);
	RUN(test_too_many_eal);
	RUN(test_small_err_buffer);
	unlink(tmp_path);
	return CHECK_DONE();
}
