/*
 * dataplane/dp_main.c - sluiced: the DPDK primary process.
 *
 *   sluiced -c FILE [--diag] [--impair SPEC] [-- EAL arguments...]
 *
 * Reads the `dataplane:` section of FILE, initialises the EAL with
 * dataplane.eal plus the arguments after `--` (and `-l 0-(N-1)` when
 * neither names the lcores), sets up the port and one net lcore per
 * dataplane.net_lcores (the main lcore is net lcore 0), writes
 * <run_dir>/sluiced.pid and, every second, <run_dir>/sluiced.stats.json.
 * SIGTERM/SIGINT: stop accepting (tcp_stack_drain), tell the sessions
 * 421 4.3.2 (between transactions at once, after the current one
 * otherwise), let them finish within dataplane.shutdown_deadline (a
 * second signal cuts it short), free the stacks, close the port, exit 0.
 * SIGHUP: re-read FILE's content sections and swap the rule generation
 * (dp_rules.h); a broken file is logged and the running rules stay.
 * Exit 2 on usage or configuration errors, 1 on start-up failures.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include "conf/conf.h"
#include "dataplane/dp_addrcap.h"
#include "dataplane/dp_config.h"
#include "dataplane/dp_lcore.h"
#include "dataplane/dp_pkt.h"
#include "dataplane/dp_port.h"
#include "dataplane/dp_rules.h"
#include "dataplane/dp_scan.h"
#include "dataplane/dp_smtp.h"
#include "dataplane/dp_stats.h"
#include "scan/policy.h"
#include "scan/scan.h"
#include "smtp/config.h"
#include "spool/spool_config.h"
#include "spool/spool_writer.h"

#define STATS_US 1000000u

static volatile sig_atomic_t g_signals;
static volatile sig_atomic_t g_signo;

struct app {
	struct dp_config cfg;
	struct dp_shared sh;
	struct dp_port_info port;
	struct rte_mempool *pool[DP_MAX_LCORES];
	char stats_path[256];
	char pid_path[256];
	char spool_path[256];
	/* The gateway (dataplane.smtp.listen). */
	bool gw;
	struct smtp_config smtp;
	bool smtp_loaded;
	struct spool_config spool;
	struct dp_reloader *reloader;
	struct spool_writer *writer;
	struct dp_scan_shared scan;
	struct dp_addrcap *addrcap;  /* per-address cap, 2+ net lcores */
	uint64_t start_us, next_stats_us, deadline_us;
	int stats_err;
	bool port_up;
};

static void logf_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logf_(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("sluiced: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static void log_line(const char *line)
{
	logf_("%s", line);
}

static void sig_diag(void *ctx, const char *file, unsigned line,
		     const char *msg)
{
	(void)ctx;
	logf_("%s:%u: %s", file, line, msg);
}

static void spool_report(void *arg, const char *file, uint64_t off,
			 const char *msg)
{
	(void)arg;
	logf_("spool: %s at offset %" PRIu64 ": %s", file, off, msg);
}

/* Write <run_dir>/sluiced.spool: the spool directory, one line (for
 * sluice-spool). */
static int write_spool_path(const char *path, const char *dir)
{
	char abs[PATH_MAX], tmp[300];
	const char *d = realpath(dir, abs) != NULL ? abs : dir;
	int w = snprintf(tmp, sizeof tmp, "%s.tmp", path);
	if (w < 0 || (size_t)w >= sizeof tmp)
		return -ENAMETOOLONG;
	FILE *f = fopen(tmp, "w");
	if (f == NULL)
		return -errno;
	fprintf(f, "%s\n", d);
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		unlink(tmp);
		return -EIO;
	}
	return 0;
}

static void on_signal(int sig)
{
	g_signo = sig;
	g_signals++;
}

static void usage(FILE *f)
{
	fputs("usage: sluiced -c FILE [--diag] [--impair SPEC] "
	      "[-- EAL arguments...]\n"
	      "  -c FILE   configuration (its dataplane: section)\n"
	      "  --diag    TCP echo (port 7) and discard (port 9) services\n"
	      "  --impair SPEC  test runs: netem-style impairment of both\n"
	      "            directions, e.g. loss=5%,reorder=25%,duplicate=1%,\n"
	      "            delay=20ms,jitter=10ms,seed=1\n"
	      "  --        the rest goes to the DPDK EAL after dataplane.eal\n",
	      f);
}

static const char *phase_name(int phase)
{
	return phase == DP_RUN ? "running"
	       : phase == DP_DRAIN ? "draining" : "stopping";
}

static void write_stats(struct app *a, const char *state, uint64_t now)
{
	int rc = dp_stats_write(a->stats_path, &a->sh, &a->port, state,
				now - a->start_us);
	if (rc < 0 && rc != a->stats_err)
		logf_("cannot write %s: %s (will retry every second)",
		      a->stats_path, strerror(-rc));
	a->stats_err = rc;
}

/* Control path on lcore 0, every DP_CTL_US: signals, shutdown phases,
 * the statistics file. */
static void ctl(void *arg, uint64_t now)
{
	struct app *a = arg;
	int phase = __atomic_load_n(&a->sh.phase, __ATOMIC_ACQUIRE);

	if (phase == DP_RUN && g_signals > 0) {
		logf_("signal %d: draining (no new connections; sessions "
		      "have %" PRIu64 " ms)", (int)g_signo,
		      a->cfg.shutdown_deadline_ms);
		a->deadline_us = now + a->cfg.shutdown_deadline_ms * 1000;
		phase = DP_DRAIN;
		__atomic_store_n(&a->sh.phase, phase, __ATOMIC_RELEASE);
		write_stats(a, "draining", now);
		return;  /* let every lcore drain before counting */
	}
	if (phase == DP_DRAIN) {
		uint64_t n = 0;
		for (unsigned i = 0; i < a->sh.n; i++) {
			struct dp_snapshot s;
			dp_lcore_snapshot(a->sh.lc[i], &s);
			n += s.nconns;
		}
		if (n == 0 || now >= a->deadline_us || g_signals > 1) {
			if (n == 0)
				logf_("drained: every session finished");
			else
				logf_("%s: aborting %" PRIu64 " connections",
				      g_signals > 1 ? "second signal"
						    : "shutdown deadline", n);
			__atomic_store_n(&a->sh.phase, DP_STOP,
					 __ATOMIC_RELEASE);
			return;
		}
	}
	if (now >= a->next_stats_us) {
		write_stats(a, phase_name(phase), now);
		a->next_stats_us = now + STATS_US;
	}
}

static bool has_lcore_arg(char **argv, int argc)
{
	for (int i = 1; i < argc; i++) {
		const char *s = argv[i];
		if (strcmp(s, "-l") == 0 || strcmp(s, "-c") == 0 ||
		    strncmp(s, "--lcores", 8) == 0 ||
		    (s[0] == '-' && (s[1] == 'l' || s[1] == 'c') && s[2] != 0 &&
		     s[1] != '-'))
			return true;
	}
	return false;
}

static int make_run_dir(const char *dir)
{
	char p[256];
	snprintf(p, sizeof p, "%s", dir);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) != 0 && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	if (mkdir(p, 0755) != 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* Refuse to start over a live sluiced's pid file; write ours. */
static int write_pid(const char *path)
{
	FILE *f = fopen(path, "r");
	if (f != NULL) {
		long pid = 0;
		if (fscanf(f, "%ld", &pid) == 1 && pid > 0 &&
		    pid != (long)getpid() && kill((pid_t)pid, 0) == 0) {
			char comm[64] = "", cp[64];
			snprintf(cp, sizeof cp, "/proc/%ld/comm", pid);
			FILE *c = fopen(cp, "r");
			if (c != NULL) {
				if (fgets(comm, sizeof comm, c) == NULL)
					comm[0] = '\0';
				fclose(c);
			}
			if (strncmp(comm, "sluiced", 7) == 0) {
				fclose(f);
				return -EEXIST;
			}
		}
		fclose(f);
	}
	char tmp[300];
	int w = snprintf(tmp, sizeof tmp, "%s.tmp", path);
	if (w < 0 || (size_t)w >= sizeof tmp)
		return -ENAMETOOLONG;
	f = fopen(tmp, "w");
	if (f == NULL)
		return -errno;
	fprintf(f, "%ld\n", (long)getpid());
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		unlink(tmp);
		return -EIO;
	}
	return 0;
}

static int random_bytes(void *buf, size_t n)
{
	uint8_t *p = buf;
	while (n > 0) {
		ssize_t k = getrandom(p, n, 0);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

static void ip_str(uint32_t ip, char *buf, size_t n)
{
	snprintf(buf, n, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255,
		 (ip >> 8) & 255, ip & 255);
}

int main(int argc, char **argv)
{
	static struct app app;
	struct app *a = &app;
	const char *cfile = NULL;
	bool diag = false;
	const char *impair = NULL;
	int extra = argc;  /* index of the first EAL argument after -- */
	char err[512];
	struct conf_doc *doc = NULL;
	char *eal_argv[DP_MAX_EAL_ARGS + 64];
	int eal_argc = 0, rc, status = 1;
	bool eal_up = false, pid_written = false;

	/* Before any thread exists: only the reloader takes SIGHUP. */
	if ((rc = dp_rules_block_sighup()) < 0) {
		logf_("cannot block SIGHUP: %s", strerror(-rc));
		return 1;
	}
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			extra = i + 1;
			break;
		} else if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
			cfile = argv[++i];
		} else if (strcmp(argv[i], "--diag") == 0) {
			diag = true;
		} else if (strcmp(argv[i], "--impair") == 0 && i + 1 < argc) {
			impair = argv[++i];
		} else if (strcmp(argv[i], "-h") == 0 ||
			   strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		} else {
			logf_("unknown argument '%s'", argv[i]);
			usage(stderr);
			return 2;
		}
	}
	if (cfile == NULL) {
		usage(stderr);
		return 2;
	}
	if ((rc = conf_load(cfile, &doc, err, sizeof err)) < 0 ||
	    (rc = dp_config_load(doc, &a->cfg, err, sizeof err)) < 0) {
		logf_("%s", err);
		conf_free(doc);
		return 2;
	}
	struct dp_config *cfg = &a->cfg;
	if (diag)
		cfg->diag_echo = cfg->diag_discard = true;
	if (impair != NULL &&
	    dp_impair_parse(impair, &cfg->impair, err, sizeof err) < 0) {
		logf_("--impair: %s", err);
		conf_free(doc);
		return 2;
	}
	/* The gateway's configuration: every error is fatal before the EAL
	 * starts (file:line: what; what to do). */
	a->gw = cfg->smtp_listen;
	if (a->gw) {
		if ((rc = smtp_config_load(doc, &a->smtp, err, sizeof err)) < 0 ||
		    (a->smtp_loaded = true,
		     rc = spool_config_load(doc, &a->spool, err, sizeof err)) < 0) {
			logf_("%s", err);
			status = 2;
			goto out;
		}
		/* Rule generation 1; SIGHUP builds the next ones. */
		if ((rc = dp_rules_build(doc, cfg->scan_lcores, 1, sig_diag,
					 NULL, &a->scan.rules, err,
					 sizeof err)) < 0) {
			logf_("%s: the scan rules: %s", cfile, err);
			status = 2;
			goto out;
		}
		const struct dp_rules *g = a->scan.rules;
		logf_("rules: generation 1: %u content rules, %u spam keywords,"
		      " %u database rules (%s)", g->ncontent, g->nspam, g->ndb,
		      g->from_cache ? "from the rule cache" : "compiled");
	}
	if (argc - extra + (int)cfg->neal > DP_MAX_EAL_ARGS + 60) {
		logf_("too many EAL arguments");
		conf_free(doc);
		return 2;
	}

	/* The spool writer before the EAL: its thread must not inherit the
	 * main lcore's CPU affinity (it would compete with net lcore 0). */
	if (a->gw) {
		struct spool_writer_config wc;
		spool_config_writer(&a->spool, &wc);
		wc.report = spool_report;
		if ((rc = spool_writer_start(&wc, &a->writer, err,
					     sizeof err)) < 0) {
			logf_("the spool %s: %s; check spool.dir in %s (it must"
			      " be writable, and no other sluiced may use it)",
			      a->spool.dir, err, cfile);
			goto out;
		}
		/* Its thread, like the writer's, is made before the EAL. */
		if ((rc = dp_reloader_start(cfile, cfg->scan_lcores,
					    &a->scan.rules, log_line, sig_diag,
					    &a->reloader, err,
					    sizeof err)) < 0) {
			logf_("%s", err);
			goto out;
		}
	}

	/* EAL: argv[0], dataplane.eal, the command line's extra, -l. */
	eal_argv[eal_argc++] = strdup("sluiced");
	for (unsigned i = 0; i < cfg->neal; i++)
		eal_argv[eal_argc++] = strdup(cfg->eal[i]);
	for (int i = extra; i < argc; i++)
		eal_argv[eal_argc++] = strdup(argv[i]);
	unsigned nscan = a->gw ? cfg->scan_lcores : 0;
	if (!has_lcore_arg(eal_argv, eal_argc)) {
		char l[32];
		if (cfg->net_lcores + nscan == 1)
			snprintf(l, sizeof l, "0");
		else
			snprintf(l, sizeof l, "0-%u",
				 cfg->net_lcores + nscan - 1);
		eal_argv[eal_argc++] = strdup("-l");
		eal_argv[eal_argc++] = strdup(l);
	}
	for (int i = 0; i < eal_argc; i++)
		if (eal_argv[i] == NULL) {
			logf_("out of memory");
			goto out;
		}
	char *eal_copy[DP_MAX_EAL_ARGS + 64];
	memcpy(eal_copy, eal_argv, sizeof(char *) * (size_t)eal_argc);
	if (rte_eal_init(eal_argc, eal_copy) < 0) {
		logf_("EAL initialisation failed: %s; check dataplane.eal in "
		      "%s (see the EAL messages above)", rte_strerror(rte_errno),
		      cfile);
		goto out;
	}
	eal_up = true;
	if (rte_lcore_count() < cfg->net_lcores + nscan) {
		logf_("%s: dataplane.net_lcores (%u) + scan_lcores (%u) but the"
		      " EAL has %u lcores; lower them or give the EAL more (-l)",
		      cfile, cfg->net_lcores, nscan, rte_lcore_count());
		goto out;
	}

	uint8_t seed[8];
	if (random_bytes(cfg->tcp.isn_key, sizeof cfg->tcp.isn_key) < 0 ||
	    random_bytes(cfg->tcp.cookie_key, sizeof cfg->tcp.cookie_key) < 0 ||
	    random_bytes(&a->sh.steer.key, sizeof a->sh.steer.key) < 0 ||
	    random_bytes(seed, sizeof seed) < 0) {
		logf_("getrandom: %s", strerror(errno));
		goto out;
	}

	if ((rc = make_run_dir(cfg->run_dir)) < 0) {
		logf_("cannot create run_dir %s: %s; set dataplane.run_dir to "
		      "a writable directory", cfg->run_dir, strerror(-rc));
		goto out;
	}
	snprintf(a->stats_path, sizeof a->stats_path, "%s/sluiced.stats.json",
		 cfg->run_dir);
	snprintf(a->pid_path, sizeof a->pid_path, "%s/sluiced.pid",
		 cfg->run_dir);
	if ((rc = write_pid(a->pid_path)) < 0) {
		logf_(rc == -EEXIST ? "%s names a running sluiced; stop it "
				      "first" : "cannot write %s", a->pid_path);
		goto out;
	}
	pid_written = true;

	if (a->gw) {
		snprintf(a->spool_path, sizeof a->spool_path,
			 "%s/sluiced.spool", cfg->run_dir);
		if ((rc = write_spool_path(a->spool_path, a->spool.dir)) < 0) {
			logf_("cannot write %s: %s", a->spool_path,
			      strerror(-rc));
			a->spool_path[0] = '\0';
			goto out;
		}
	}

	/* Net lcores: the main lcore is 0, then the first workers. */
	unsigned ids[DP_MAX_LCORES], n = 0, id;
	ids[n++] = rte_get_main_lcore();
	unsigned sids[DP_MAX_SCAN_LCORES], ns = 0;
	RTE_LCORE_FOREACH_WORKER(id) {
		if (n < cfg->net_lcores)
			ids[n++] = id;
		else if (ns < nscan)
			sids[ns++] = id;
	}
	a->sh.n = n;
	a->sh.steer.n = n;
	a->sh.poll = cfg->poll;
	a->sh.sleep_max_us = cfg->idle_sleep_max_us;
	a->sh.ctl = ctl;
	a->sh.ctl_arg = a;
	for (unsigned i = 0; i < n; i++) {
		char name[RTE_MEMPOOL_NAMESIZE];
		snprintf(name, sizeof name, "dp_mbuf_%u", i);
		a->pool[i] = dp_pkt_pool_create(name, cfg->mbufs,
						(int)rte_lcore_to_socket_id(ids[i]));
		if (a->pool[i] == NULL) {
			logf_("mbuf pool of %u: %s; lower dataplane.mbufs or "
			      "give the EAL more memory (-m)", cfg->mbufs,
			      rte_strerror(rte_errno));
			goto out;
		}
		a->sh.lc[i] = rte_zmalloc_socket("dp_lcore",
						 sizeof(struct dp_lcore),
						 RTE_CACHE_LINE_SIZE,
						 (int)rte_lcore_to_socket_id(ids[i]));
		if (a->sh.lc[i] == NULL) {
			logf_("out of EAL memory for lcore state");
			goto out;
		}
	}
	if ((rc = dp_port_setup(cfg->port, n, a->pool, cfg->mtu, &a->port,
				err, sizeof err)) < 0) {
		logf_("%s", err);
		goto out;
	}
	a->port_up = true;

	struct net_stack_config nc = {
		.ip = cfg->ip, .prefix_len = cfg->prefix_len,
		.gateway = cfg->gateway, .mtu = a->port.mtu,
	};
	memcpy(nc.mac, a->port.mac.addr_bytes, NET_ETH_ALEN);
	memcpy(&nc.seed, seed, sizeof seed);
	for (unsigned i = 0; i < n; i++) {
		if ((rc = dp_lcore_init(a->sh.lc[i], i, ids[i], &a->sh,
					a->pool[i], cfg->port, &nc, &cfg->tcp,
					cfg->diag_echo, cfg->diag_discard,
					&cfg->impair, err, sizeof err)) < 0) {
			logf_("%s", err);
			goto out;
		}
	}

	if (a->gw) {
		struct dp_scan_shared *sc = &a->scan;
		sc->nnet = n;
		sc->nscan = ns;
		sc->reloader = a->reloader;
		sc->spool = a->writer;
		sc->compress_level = a->spool.compress_level;
		sc->compress_above = a->spool.compress_above;
		/* The message as stored: the client's bytes (at most
		 * max_message_size) plus our Received: header. */
		sc->max_message = a->smtp.max_message_size + 4096;
		sc->max_rcpt = a->smtp.max_recipients;
		sc->scan_budget_ns = cfg->scan_time_budget_ms * 1000000u;
		sc->ring_size = cfg->scan_ring_size;
		sc->phase = &a->sh.phase;
		sc->sleep_max_us = cfg->idle_sleep_max_us;
		sc->busy_poll = cfg->poll == DP_POLL_BUSY;
		a->sh.scan = sc;
		if ((rc = dp_scan_rings_create(sc, err, sizeof err)) < 0) {
			logf_("%s", err);
			goto out;
		}
		for (unsigned j = 0; j < ns; j++)
			if ((rc = dp_scan_lcore_create(sc, j, err,
						       sizeof err)) < 0) {
				logf_("%s", err);
				goto out;
			}
		const char *floor = spool_writer_max_qid(a->writer);
		/* One client's connections land on every net lcore: its cap
		 * is counted across them (dp_addrcap.h). */
		if (n > 1 && a->smtp.max_connections_per_address > 0) {
			uint8_t key[16];
			if (random_bytes(key, sizeof key) < 0) {
				logf_("getrandom: %s", strerror(errno));
				goto out;
			}
			a->addrcap = dp_addrcap_create(
				a->smtp.max_connections_per_address, key);
			if (a->addrcap == NULL) {
				logf_("out of memory for the per-address "
				      "connection counters");
				goto out;
			}
		}
		for (unsigned i = 0; i < n; i++) {
			a->sh.lc[i]->smtp = dp_smtp_create(i, a->sh.lc[i]->tcp,
				cfg->smtp_port, &a->smtp, n, sc, a->addrcap,
				floor[0] ? floor : NULL, err, sizeof err);
			if (a->sh.lc[i]->smtp == NULL) {
				logf_("%s", err);
				goto out;
			}
		}
	}

	struct sigaction sa = {.sa_handler = on_signal};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	char ip[16], mac[RTE_ETHER_ADDR_FMT_SIZE];
	ip_str(cfg->ip, ip, sizeof ip);
	rte_ether_format_addr(mac, sizeof mac, &a->port.mac);
	logf_("pid %ld: port %u %s (%s) %s, %s/%u, mtu %u, %u net lcore%s, "
	      "poll %s, diag%s%s, offloads advertised rx 0x%" PRIx64
	      " tx 0x%" PRIx64 " (none enabled: software checksums), "
	      "stats %s", (long)getpid(), a->port.port, a->port.name,
	      a->port.driver, mac, ip, cfg->prefix_len, a->port.mtu, n,
	      n == 1 ? "" : "s",
	      cfg->poll == DP_POLL_BUSY ? "busy" : "adaptive",
	      cfg->diag_echo ? " echo:7" : "",
	      cfg->diag_discard ? " discard:9" : (cfg->diag_echo ? "" : " off"),
	      a->port.rx_offload_capa, a->port.tx_offload_capa,
	      a->stats_path);
	if (a->gw)
		logf_("SMTP on %s:%u, %u scan lcore%s (time budget %" PRIu64
		      " ms per message), spool %s", ip, cfg->smtp_port, ns,
		      ns == 1 ? "" : "s", cfg->scan_time_budget_ms,
		      a->spool.dir);

	a->start_us = dp_now_us();
	a->next_stats_us = a->start_us;
	for (unsigned j = 0; j < ns; j++) {
		if ((rc = rte_eal_remote_launch(dp_scan_run, a->scan.sl[j],
						sids[j])) != 0) {
			logf_("cannot launch scan lcore %u: %s", sids[j],
			      strerror(-rc));
			__atomic_store_n(&a->sh.phase, DP_STOP,
					 __ATOMIC_RELEASE);
			rte_eal_mp_wait_lcore();
			goto out;
		}
	}
	for (unsigned i = 1; i < n; i++) {
		if ((rc = rte_eal_remote_launch(dp_lcore_run, a->sh.lc[i],
						ids[i])) != 0) {
			logf_("cannot launch lcore %u: %s", ids[i],
			      strerror(-rc));
			__atomic_store_n(&a->sh.phase, DP_STOP,
					 __ATOMIC_RELEASE);
			rte_eal_mp_wait_lcore();
			goto out;
		}
	}
	dp_lcore_run(a->sh.lc[0]);
	rte_eal_mp_wait_lcore();
	status = 0;

out:
	/* The stacks first (closing every session: a message out is
	 * detached), then what is left in the scan rings and the pools. */
	for (unsigned i = 0; i < DP_MAX_LCORES; i++)
		if (a->sh.lc[i] != NULL) {
			dp_lcore_fini(a->sh.lc[i]);
			dp_smtp_free(a->sh.lc[i]->smtp);
			a->sh.lc[i]->smtp = NULL;
		}
	dp_addrcap_free(a->addrcap);  /* after every session released */
	a->addrcap = NULL;
	/* Every reader has unregistered: a reload in progress can finish. */
	dp_reloader_stop(a->reloader);
	a->reloader = NULL;
	for (unsigned j = 0; j < DP_MAX_SCAN_LCORES; j++)
		dp_scan_lcore_free(&a->scan, j);
	a->sh.scan = NULL;
	if (eal_up)
		dp_scan_rings_free(&a->scan);
	spool_writer_stop(a->writer);  /* after every producer stopped */
	a->writer = NULL;
	if (a->spool_path[0] != '\0')
		unlink(a->spool_path);
	if (a->port_up)
		dp_port_close(cfg->port);
	if (status == 0) {
		write_stats(a, "stopped", dp_now_us());
		uint64_t in_use = 0;
		for (unsigned i = 0; i < a->sh.n; i++)
			in_use += rte_mempool_in_use_count(a->pool[i]);
		logf_("stopped; %" PRIu64 " mbufs still in use%s", in_use,
		      in_use ? " (a leak)" : "");
	}
	for (unsigned i = 0; i < DP_MAX_LCORES; i++) {
		rte_free(a->sh.lc[i]);
		a->sh.lc[i] = NULL;
		rte_mempool_free(a->pool[i]);
	}
	if (pid_written)
		unlink(a->pid_path);
	if (eal_up)
		rte_eal_cleanup();
	for (int i = 0; i < eal_argc; i++)
		free(eal_argv[i]);
	dp_rules_free(a->scan.rules);
	a->scan.rules = NULL;
	if (a->smtp_loaded)
		smtp_config_fini(&a->smtp);
	conf_free(doc);
	return status;
}
