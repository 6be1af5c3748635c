/*
 * tests/fuzz/fuzz_edit.c - scan/edit.c on arbitrary messages: scan with a
 * policy that strips (virus, attachment, content), tags the subject and
 * adds a header carrying the sender's subject, apply the edits, and check
 * the result: it applies without error, it parses, its message header
 * block has exactly the fields we added (nothing injected, nothing lost)
 * when nothing was stripped, and scanning and editing it again neither
 * fails nor tags the subject twice.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "scan/arena.h"
#include "scan/edit.h"
#include "scan/mime.h"
#include "scan/policy.h"
#include "scan/scan.h"

static const char config_yaml[] =
	"limits:\n"
	"  header_bytes: 8 KiB\n"
	"  header_fields: 64\n"
	"  mime_parts: 64\n"
	"  mime_depth: 8\n"
	"  decoded_bytes: 1 MiB\n"
	"signatures: []\n"
	"rule_cache: /tmp/sluice-fuzz-edit-cache\n"
	"internal_domains: [example.net]\n"
	"content_rules:\n"
	"  - {name: eicar-word, keyword: EICAR, where: [body, attachment]}\n"
	"  - {name: secret, keyword: secret, where: [any]}\n"
	"policies:\n"
	"  default:\n"
	"    - type: attachment\n"
	"      extensions: [exe, bin, com]\n"
	"      true_types: [pe, msdos, elf]\n"
	"      notice: 'Removed \"%FILENAME%\" (%RULE%).'\n"
	"      action: strip\n"
	"    - type: content\n"
	"      action: strip\n"
	"      notice: 'Part removed: %RULE%'\n"
	"    - type: size\n"
	"      max: 1\n"
	"      action: [tag, header]\n"
	"      tag: '[T]'\n"
	"      header: 'X-F: %SUBJECT%'\n";

static struct scan_config *cfg;
static struct scan_engine *engine;
static struct scan_ctx *ctx;
static struct scan_arena *arena;
static struct scan_edit_buf out, out2;
static struct scan_verdict v, v2, pv;

static void setup(void)
{
	char err[512];
	struct conf_doc *doc = NULL;
	if (conf_load_string("fuzz.conf", config_yaml, sizeof(config_yaml) - 1,
			     &doc, err, sizeof(err)) < 0 ||
	    scan_config_from_conf(doc, &cfg, err, sizeof(err)) < 0 ||
	    scan_engine_create(cfg, NULL, NULL, NULL, &engine, err,
			       sizeof(err)) < 0) {
		fprintf(stderr, "fuzz_edit setup: %s\n", err);
		abort();
	}
	conf_free(doc);
	ctx = scan_ctx_create(engine);
	arena = scan_arena_create(64u << 20);
	if (ctx == NULL || arena == NULL)
		abort();
}

/* Root header fields of msg as the scan's parser sees them,
 * -1 when the count is not exact (block cut short, or more fields than
 * stored). *subject: a Subject field is among them. */
static int root_fields(const uint8_t *msg, size_t len, int *subject,
		       int *mime_version)
{
	/* the limits of config_yaml: the tree the edits were made on */
	static const struct mime_limits lim = {
		.header_bytes = 8192, .header_count = 64, .parts = 64,
		.depth = 8,
	};
	struct mime_message m;
	scan_arena_reset(arena);
	scan_verdict_init(&pv, NULL, 0);
	if (mime_parse(msg, len, &lim, arena, &pv, &m) < 0 || m.root == NULL)
		abort(); /* 64 MiB of arena for a fuzz input: never full */
	*subject = mime_header_get(m.root, "subject") != NULL;
	*mime_version = mime_header_get(m.root, "mime-version") != NULL;
	if ((m.root->flags & MIME_F_TRUNCATED) ||
	    m.root->nheaders + 8 >= lim.header_count)
		return -1;
	return (int)m.root->nheaders;
}

static unsigned count_edits(const struct scan_verdict *x,
			    enum scan_edit_kind k)
{
	unsigned n = 0;
	for (unsigned i = 0; i < x->nedits; i++)
		n += x->edits[i].kind == k;
	return n;
}

/* How often the tag begins the first Subject line of b. */
static unsigned tags_in_subject(const uint8_t *b, size_t n)
{
	for (size_t i = 0; i + 9 <= n; i++) {
		if ((i == 0 || b[i - 1] == '\n') &&
		    memcmp(b + i, "Subject: ", 9) == 0) {
			unsigned k = 0;
			i += 9;
			while (i + 4 <= n && memcmp(b + i, "[T] ", 4) == 0)
				k++, i += 4;
			if (i + 3 <= n && memcmp(b + i, "[T]", 3) == 0 &&
			    (i + 3 == n || b[i + 3] == '\r' || b[i + 3] == '\n'))
				k++;
			return k;
		}
		if (i > 0 && b[i - 1] == '\n' && (b[i] == '\n' || b[i] == '\r'))
			break; /* end of the header block */
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (engine == NULL)
		setup();
	int in_subject = 0, in_mv = 0;
	int in_fields = root_fields(data, size, &in_subject, &in_mv);

	if (scan_message(ctx, data, size, NULL, NULL, 0, &v) < 0)
		abort(); /* no deadline, no Hyperscan failure expected */
	if (scan_edit_apply(ctx, data, size, &v, &out) < 0)
		abort(); /* the policy's own edits always apply */
	if (!scan_edit_changes_message(&v))
		return 0;
	if (out.len == 0)
		abort();

	int o_subject = 0, o_mv = 0;
	int o_fields = root_fields(out.buf, out.len, &o_subject, &o_mv);
	if (count_edits(&v, SCAN_EDIT_TAG_SUBJECT) > 0 && !o_subject)
		abort(); /* a tag always leaves a Subject */
	if (count_edits(&v, SCAN_EDIT_STRIP) == 0 && in_fields >= 0 &&
	    o_fields >= 0) {
		int added = (int)count_edits(&v, SCAN_EDIT_ADD_HEADER) +
			    (count_edits(&v, SCAN_EDIT_TAG_SUBJECT) > 0 &&
			     !in_subject);
		if (o_fields != in_fields + added) {
			fprintf(stderr, "fuzz_edit: %d header fields, expected "
				"%d + %d\n", o_fields, in_fields, added);
			abort(); /* injected or lost a field */
		}
	}

	/* The stored message scanned and edited again. */
	if (scan_message(ctx, out.buf, out.len, NULL, NULL, 0, &v2) < 0 ||
	    scan_edit_apply(ctx, out.buf, out.len, &v2, &out2) < 0)
		abort();
	/* (the first pass may not have tagged: the policy drops edits past
	 * SCAN_MAX_EDITS, e.g. after many strips) */
	if (out2.len > 0 && in_fields >= 0 &&
	    count_edits(&v, SCAN_EDIT_TAG_SUBJECT) > 0 &&
	    tags_in_subject(out2.buf, out2.len) >
		    tags_in_subject(out.buf, out.len))
		abort(); /* the tag went on twice */
	return 0;
}
