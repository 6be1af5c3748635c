/*
 * dataplane/dp_rules.c - rule generations and the SIGHUP reloader
 * (dp_rules.h).
 */
#include "dataplane/dp_rules.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <urcu-qsbr.h>

#include "scan/hsdb.h"
#include "scan/policy.h"
#include "scan/scan.h"

int dp_rules_build(const struct conf_doc *doc, unsigned nscan, uint64_t gen,
		   scan_diag_fn diag, void *diag_ctx, struct dp_rules **out,
		   char *err, size_t errsz)
{
	struct dp_rules *r = calloc(1, sizeof *r);
	const struct scan_rule_def *defs;
	size_t n;
	int rc;

	*out = NULL;
	if (r == NULL || nscan > DP_MAX_SCAN_LCORES) {
		rc = -ENOMEM;
		snprintf(err, errsz, "out of memory for the rule generation");
		goto fail;
	}
	r->gen = gen;
	if ((rc = scan_config_from_conf(doc, &r->cfg, err, errsz)) < 0)
		goto fail;
	if ((rc = scan_engine_create(r->cfg, NULL, diag, diag_ctx, &r->engine,
				     err, errsz)) < 0)
		goto fail;
	if (diag != NULL) { /* per signature file, at load and reload */
		const char *const *lines;
		unsigned nl = scan_engine_sig_report(r->engine, &lines);

		for (unsigned i = 0; i < nl; i++)
			diag(diag_ctx, "signatures", 0, lines[i]);
	}
	for (unsigned i = 0; i < nscan; i++)
		if ((r->ctx[i] = scan_ctx_create(r->engine)) == NULL) {
			rc = -ENOMEM;
			snprintf(err, errsz, "out of memory for the scan "
				 "contexts");
			goto fail;
		}
	scan_config_rules(r->cfg, &defs, &n);
	for (size_t i = 0; i < n; i++) {
		if (defs[i].kind == SCAN_RULE_CONTENT)
			r->ncontent++;
		else if (defs[i].kind == SCAN_RULE_SPAM)
			r->nspam++;
	}
	r->ndb = scan_db_rule_count(scan_engine_db(r->engine));
	r->from_cache = scan_db_loaded_from_cache(scan_engine_db(r->engine));
	*out = r;
	return 0;
fail:
	dp_rules_free(r);
	return rc;
}

void dp_rules_free(struct dp_rules *r)
{
	if (r == NULL)
		return;
	for (unsigned i = 0; i < DP_MAX_SCAN_LCORES; i++)
		scan_ctx_free(r->ctx[i]);
	scan_engine_free(r->engine);
	scan_config_free(r->cfg);
	free(r);
}

int dp_rules_block_sighup(void)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	return -pthread_sigmask(SIG_BLOCK, &set, NULL);
}

struct dp_reloader {
	const char *path;
	unsigned nscan;
	struct dp_rules **slot;
	void (*log)(const char *line);
	scan_diag_fn diag;
	pthread_t th;
	bool stop;                 /* atomic */
	struct dp_reload_stats st; /* fields atomic */
};

static void rlog(struct dp_reloader *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void rlog(struct dp_reloader *r, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	r->log(line);
}

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void publish_stats(struct dp_reloader *r, const struct dp_rules *g)
{
	__atomic_store_n(&r->st.ncontent, g->ncontent, __ATOMIC_RELAXED);
	__atomic_store_n(&r->st.nspam, g->nspam, __ATOMIC_RELAXED);
	__atomic_store_n(&r->st.ndb, g->ndb, __ATOMIC_RELAXED);
	__atomic_store_n(&r->st.gen, g->gen, __ATOMIC_RELAXED);
}

static void reload(struct dp_reloader *r)
{
	char err[1024];
	struct conf_doc *doc = NULL;
	struct dp_rules *old = *r->slot, *g = NULL;  /* only we write it */
	uint64_t gen = old->gen + 1, t0 = mono_ms();
	int rc;

	rlog(r, "reload: reading %s (generation %" PRIu64 " serving)",
	     r->path, old->gen);
	if ((rc = conf_load(r->path, &doc, err, sizeof err)) == 0)
		rc = dp_rules_build(doc, r->nscan, gen, r->diag, NULL, &g, err,
				    sizeof err);
	conf_free(doc);
	if (rc < 0) {
		__atomic_fetch_add(&r->st.failures, 1, __ATOMIC_RELAXED);
		rlog(r, "reload failed, generation %" PRIu64 " stays: %s; fix "
		     "the file and send SIGHUP again", old->gen, err);
		return;
	}
	uint64_t built = mono_ms();
	rcu_assign_pointer(*r->slot, g);
	synchronize_rcu();  /* every lcore is past its last use of old */
	dp_rules_free(old);
	publish_stats(r, g);
	__atomic_fetch_add(&r->st.reloads, 1, __ATOMIC_RELAXED);
	rlog(r, "reload: generation %" PRIu64 " serving: %u content rules, "
	     "%u spam keywords, %u database rules (%s in %" PRIu64 " ms), "
	     "generation %" PRIu64 " freed %" PRIu64 " ms later", gen,
	     g->ncontent, g->nspam, g->ndb,
	     g->from_cache ? "from the rule cache" : "compiled",
	     built - t0, gen - 1, mono_ms() - built);
}

static void *reloader_main(void *arg)
{
	struct dp_reloader *r = arg;
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	for (;;) {
		int sig;
		if (sigwait(&set, &sig) != 0)
			continue;
		if (__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE))
			break;
		reload(r);
	}
	return NULL;
}

int dp_reloader_start(const char *path, unsigned nscan,
		      struct dp_rules **slot,
		      void (*log)(const char *line), scan_diag_fn diag,
		      struct dp_reloader **out, char *err, size_t errsz)
{
	struct dp_reloader *r = calloc(1, sizeof *r);
	int rc;
	*out = NULL;
	if (r == NULL) {
		snprintf(err, errsz, "reloader: out of memory");
		return -ENOMEM;
	}
	r->path = path;
	r->nscan = nscan;
	r->slot = slot;
	r->log = log;
	r->diag = diag;
	publish_stats(r, *slot);
	if ((rc = pthread_create(&r->th, NULL, reloader_main, r)) != 0) {
		snprintf(err, errsz, "reloader thread: %s", strerror(rc));
		free(r);
		return -rc;
	}
	pthread_setname_np(r->th, "sluiced-reload");
	*out = r;
	return 0;
}

void dp_reloader_request(struct dp_reloader *r)
{
	pthread_kill(r->th, SIGHUP);
}

void dp_reloader_stats(const struct dp_reloader *r,
		       struct dp_reload_stats *out)
{
	out->reloads = __atomic_load_n(&r->st.reloads, __ATOMIC_RELAXED);
	out->failures = __atomic_load_n(&r->st.failures, __ATOMIC_RELAXED);
	out->gen = __atomic_load_n(&r->st.gen, __ATOMIC_RELAXED);
	out->ncontent = __atomic_load_n(&r->st.ncontent, __ATOMIC_RELAXED);
	out->nspam = __atomic_load_n(&r->st.nspam, __ATOMIC_RELAXED);
	out->ndb = __atomic_load_n(&r->st.ndb, __ATOMIC_RELAXED);
}

void dp_reloader_stop(struct dp_reloader *r)
{
	if (r == NULL)
		return;
	__atomic_store_n(&r->stop, true, __ATOMIC_RELEASE);
	pthread_kill(r->th, SIGHUP);
	pthread_join(r->th, NULL);
	free(r);
}
