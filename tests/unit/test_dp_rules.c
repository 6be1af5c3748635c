/*
 * tests/unit/test_dp_rules.c - rule generations and the SIGHUP reloader
 * (dataplane/dp_rules.h) without the EAL: two reader threads scan with
 * the current generation as QSBR readers while the reloader swaps it;
 * a broken file keeps the running generation; the per-file signature
 * report reaches the build's diag. Under ASan a reader
 * touching a freed generation fails the run.
 */
#include "dataplane/dp_rules.h"
#include "scan/scan.h"
#include "tests/unit/check.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <urcu-qsbr.h>

static char dir[64], path[128];

static void write_conf(const char *extra_rule)
{
	FILE *f = fopen(path, "w");
	CHECK(f != NULL);
	fprintf(f, "internal_domains: [example.net]\n"
		"rule_cache: %s/cache\n"
		"content_rules:\n"
		"  - name: marker-one\n"
		"    keyword: \"marker-one\"\n"
		"    where: [subject]\n%s", dir, extra_rule);
	fclose(f);
}

static const char rule_two[] =
	"  - name: marker-two\n"
	"    keyword: \"marker-two\"\n"
	"    where: [subject]\n";
static const char rule_broken[] =
	"  - name: broken\n"
	"    keyword: \"x\"\n"
	"    where: [nowhere]\n";   /* line 9 */

static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static char logbuf[8192];

static void log_line(const char *line)
{
	pthread_mutex_lock(&log_mu);
	size_t n = strlen(logbuf);
	snprintf(logbuf + n, sizeof logbuf - n, "%s\n", line);
	pthread_mutex_unlock(&log_mu);
}

static int build_from_file(unsigned nscan, uint64_t gen, struct dp_rules **g,
			   char *err, size_t errsz)
{
	struct conf_doc *doc = NULL;
	int rc = conf_load(path, &doc, err, errsz);
	if (rc == 0)
		rc = dp_rules_build(doc, nscan, gen, NULL, NULL, g, err, errsz);
	conf_free(doc);
	return rc;
}

static void test_build(void)
{
	struct dp_rules *g = NULL;
	char err[512];
	write_conf(rule_two);
	CHECK_EQ_INT(build_from_file(2, 7, &g, err, sizeof err), 0);
	CHECK(g != NULL && g->gen == 7 && g->ncontent == 2 && g->ndb >= 2);
	CHECK(g->ctx[0] != NULL && g->ctx[1] != NULL && g->ctx[2] == NULL);
	dp_rules_free(g);
	write_conf(rule_broken);
	g = NULL;
	CHECK(build_from_file(1, 1, &g, err, sizeof err) < 0);
	CHECK(g == NULL);
	char want[256];
	snprintf(want, sizeof want, "%s:9:", path);
	CHECK_MSG(strstr(err, want) != NULL && strstr(err, "nowhere"),
		  "error '%s' does not name %s", err, want);
	dp_rules_free(NULL);
}

/* The per-file signature report reaches the build's diag (sluiced's log
 * at load and reload). */
static char diag_buf[2048];

static void diag_keep(void *ctx, const char *file, unsigned line,
		      const char *msg)
{
	size_t n = strlen(diag_buf);
	(void)ctx;
	snprintf(diag_buf + n, sizeof diag_buf - n, "%s:%u: %s\n", file, line,
		 msg);
}

static void test_sig_report(void)
{
	char sigs[128], extra[512], err[512];
	struct conf_doc *doc = NULL;
	struct dp_rules *g = NULL;

	snprintf(sigs, sizeof sigs, "%s/sigs", dir);
	CHECK(mkdir(sigs, 0700) == 0);
	char f[192];
	snprintf(f, sizeof f, "%s/x.ldb", sigs);
	FILE *fp = fopen(f, "w");
	CHECK(fp != NULL);
	fputs("X.And;Target:0;0&1;6d616c77;77617265\n"
	      "X.Html;Target:3;0;41424344\n", fp);
	fclose(fp);
	snprintf(extra, sizeof extra, "signatures: [%s]\n"
		 "clamav:\n  enabled: false\n", sigs);
	write_conf(extra);
	diag_buf[0] = '\0';
	int rc = conf_load(path, &doc, err, sizeof err);
	if (rc == 0)
		rc = dp_rules_build(doc, 1, 1, diag_keep, NULL, &g, err,
				    sizeof err);
	conf_free(doc);
	CHECK_MSG(rc == 0, "%s", err);
	CHECK_MSG(strstr(diag_buf, "x.ldb: 1 to Hyperscan (1 logical); 1 left "
			 "to libclamav; reasons: 1x libclamav: target type") !=
			  NULL, "%s", diag_buf);
	dp_rules_free(g);
	unlink(f);
	rmdir(sigs);
}

/* ---- readers ---- */

static struct dp_rules *slot;
static bool stop_readers;

struct reader {
	unsigned idx;
	pthread_t th;
	uint64_t scans, max_gen;
	bool saw_two;        /* marker-two found (only generation 2 has it) */
	bool bad;            /* a generation-1 scan found marker-two, etc. */
};

static void *reader_main(void *arg)
{
	struct reader *r = arg;
	static const char msg[] = "Subject: marker-two here\r\n\r\nbody\r\n";
	struct scan_verdict *v = malloc(sizeof *v);
	rcu_register_thread();
	while (!__atomic_load_n(&stop_readers, __ATOMIC_ACQUIRE)) {
		const struct dp_rules *g = rcu_dereference(slot);
		int rc = scan_message(g->ctx[r->idx], (const uint8_t *)msg,
				      sizeof msg - 1, NULL, NULL, 0, v);
		bool two = false;
		for (unsigned i = 0; rc == 0 && i < v->nfindings; i++)
			if (strcmp(v->findings[i].name, "marker-two") == 0)
				two = true;
		if (rc != 0 || two != (g->gen >= 2))
			r->bad = true;
		if (two)
			r->saw_two = true;
		if (g->gen > r->max_gen)
			r->max_gen = g->gen;
		r->scans++;
		rcu_quiescent_state();
		if (r->scans % 64 == 0) {  /* an idle sleep, as the lcores do */
			rcu_thread_offline();
			usleep(100);
			rcu_thread_online();
		}
	}
	rcu_unregister_thread();
	free(v);
	return NULL;
}

static bool wait_for(struct dp_reloader *rl, uint64_t gen, uint64_t failures)
{
	struct dp_reload_stats st;
	for (int i = 0; i < 1200; i++) {  /* 60 s: a cold compile */
		dp_reloader_stats(rl, &st);
		if (st.gen >= gen && st.failures >= failures)
			return true;
		usleep(50000);
	}
	return false;
}

static void test_reload(void)
{
	struct reader rd[2];
	struct dp_reloader *rl = NULL;
	struct dp_reload_stats st;
	char err[512];

	write_conf("");
	CHECK_EQ_INT(build_from_file(2, 1, &slot, err, sizeof err), 0);
	CHECK_EQ_INT(dp_reloader_start(path, 2, &slot, log_line, NULL, &rl,
				       err, sizeof err), 0);
	memset(rd, 0, sizeof rd);
	for (unsigned i = 0; i < 2; i++) {
		rd[i].idx = i;
		pthread_create(&rd[i].th, NULL, reader_main, &rd[i]);
	}
	usleep(100000);
	write_conf(rule_two);
	dp_reloader_request(rl);
	CHECK(wait_for(rl, 2, 0));
	usleep(200000);  /* the readers scan with generation 2 for a while */
	write_conf(rule_broken);
	dp_reloader_request(rl);
	CHECK(wait_for(rl, 2, 1));
	dp_reloader_stats(rl, &st);
	CHECK(st.gen == 2 && st.reloads == 1 && st.failures == 1 &&
	      st.ncontent == 2);
	__atomic_store_n(&stop_readers, true, __ATOMIC_RELEASE);
	for (unsigned i = 0; i < 2; i++) {
		pthread_join(rd[i].th, NULL);
		CHECK_MSG(!rd[i].bad, "reader %u: a scan disagreed with its "
			  "generation", i);
		CHECK(rd[i].saw_two && rd[i].max_gen == 2 && rd[i].scans > 2);
	}
	dp_reloader_stop(rl);
	CHECK(slot->gen == 2);
	dp_rules_free(slot);
	slot = NULL;
	char want[256];
	snprintf(want, sizeof want, "reload failed, generation 2 stays: "
		 "%s:9:", path);
	CHECK_MSG(strstr(logbuf, "reload: generation 2 serving: 2 content "
			 "rules") != NULL && strstr(logbuf, want) != NULL,
		  "log:\n%s", logbuf);
}

int main(void)
{
	/* As sluiced: SIGHUP blocked before any thread exists. */
	CHECK_EQ_INT(dp_rules_block_sighup(), 0);
	snprintf(dir, sizeof dir, "/tmp/test_dp_rules.XXXXXX");
	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof path, "%s/sluice.conf", dir);
	RUN(test_build);
	RUN(test_sig_report);
	RUN(test_reload);
	char cmd[160];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return CHECK_DONE();
}
