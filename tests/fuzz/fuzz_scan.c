/*
 * tests/fuzz/fuzz_scan.c - the whole pipeline on arbitrary messages:
 * MIME, every decoder and extractor, text views, Hyperscan, policy.
 * Small limits so that limit paths are reached too.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "scan/policy.h"
#include "scan/scan.h"

static const char config_yaml[] =
	"limits:\n"
	"  header_bytes: 8 KiB\n"
	"  header_fields: 64\n"
	"  mime_parts: 64\n"
	"  mime_depth: 8\n"
	"  decoded_bytes: 1 MiB\n"
	"  decompressed_bytes: 4 MiB\n"
	"  archive_members: 200\n"
	"  archive_time: 2s\n"
	"signatures: []\n"
	"rule_cache: /tmp/sluice-fuzz-scan-cache\n"
	"internal_domains: [example.net]\n"
	"content_rules:\n"
	"  - {name: eicar-word, keyword: EICAR, where: [any]}\n"
	"  - {name: rx, regex: 'verify your (account|password)', where: [body]}\n"
	"spam:\n"
	"  threshold: 3\n"
	"  keywords:\n"
	"    - {keyword: free, weight: 2, word: yes}\n"
	"    - {keyword: winner, weight: 2, where: subject}\n";

static struct scan_config *cfg;
static struct scan_engine *engine;
static struct scan_ctx *ctx;
static char explain[64 * 1024];

static void setup(void)
{
	char err[512];
	struct conf_doc *doc = NULL;
	if (conf_load_string("fuzz.conf", config_yaml, sizeof(config_yaml) - 1,
			     &doc, err, sizeof(err)) < 0 ||
	    scan_config_from_conf(doc, &cfg, err, sizeof(err)) < 0 ||
	    scan_engine_create(cfg, NULL, NULL, NULL, &engine, err,
			       sizeof(err)) < 0) {
		fprintf(stderr, "fuzz_scan setup: %s\n", err);
		abort();
	}
	conf_free(doc);
	ctx = scan_ctx_create(engine);
	if (ctx == NULL)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct scan_verdict v;
	if (engine == NULL)
		setup();
	int rc = scan_message(ctx, data, size, NULL, explain, sizeof(explain),
			      &v);
	if (rc < 0 && rc != -ENOMEM)
		abort(); /* only Hyperscan failures may fail a scan */
	if (v.nfindings > SCAN_MAX_FINDINGS || v.nedits > SCAN_MAX_EDITS ||
	    v.explain_len >= sizeof(explain))
		abort();
	for (unsigned i = 0; i < v.nparts; i++)
		if (v.parts[i].path == NULL || v.parts[i].true_type == NULL)
			abort();
	return 0;
}
