/*
 * tests/sigcompare/sigscan.c - scan files with sluice's signature engine,
 * printing clamscan-style lines, for tests/sigcompare/run.
 *
 * usage: sigscan SIGDIR FILE...
 * Loads every signature file in SIGDIR (scan_rules_load_sigdir), builds
 * the database (no cache), and scans each FILE as one ATTACHMENT buffer
 * plus the hash look-up. Prints "FILE: NAME FOUND" per detection (names
 * sorted) or "FILE: OK"; rejected signatures go to stderr as
 * "REJECTED file:line: reason". Exit 0, or 2 on errors.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scan/filetype.h"
#include "scan/hash.h"
#include "scan/hsdb.h"
#include "scan/sig_clamav.h"

static void diag(void *ctx, const char *file, unsigned line, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "REJECTED %s:%u: %s\n", file, line, msg);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t n = 0, cap = 0, got;

	if (f == NULL)
		return NULL;
	do {
		if (cap - n < 65536) {
			cap = cap ? cap * 2 : 65536;
			uint8_t *nb = realloc(buf, cap);
			if (nb == NULL) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
	} while (got > 0);
	fclose(f);
	*len = n;
	return buf;
}

int main(int argc, char **argv)
{
	struct scan_rules *r;
	struct scan_db *db = NULL;
	struct scan_db_scratch *s;
	char err[512];
	int rc = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: %s SIGDIR FILE...\n", argv[0]);
		return 2;
	}
	r = scan_rules_create();
	if (r == NULL || scan_rules_load_sigdir(r, argv[1], diag, NULL) < 0)
		return 2;
	if (scan_db_build(r, NULL, &db, err, sizeof err) != 0) {
		fprintf(stderr, "build: %s\n", err);
		return 2;
	}
	scan_rules_free(r);
	s = scan_db_scratch_create(db);
	if (s == NULL)
		return 2;
	for (int i = 2; i < argc; i++) {
		size_t len = 0;
		uint8_t *data = slurp(argv[i], &len), md5[16], sha1[20], sha256[32];
		const struct scan_hit *h;
		const char *names[SCAN_DB_MAX_HITS];

		if (data == NULL) {
			fprintf(stderr, "%s: cannot read\n", argv[i]);
			rc = 2;
			continue;
		}
		/* as the pipeline: hashes (allow-lists) first, then the
		 * leaf's one pass with its .ldb counts */
		scan_db_hits_reset(s);
		scan_hash_all(data, len, md5, sha1, sha256);
		scan_db_hash_match(db, s, md5, sha1, sha256, len, 0);
		scan_db_leaf_begin(s, scan_sig_target_of_ftype(
					      (int)scan_filetype(data, len)));
		if (scan_db_scan(db, s, data, len, SCAN_WHERE_ATTACHMENT, 0) != 0)
			rc = 2;
		scan_db_leaf_end(db, s, len, 0);
		unsigned n = scan_db_hits(s, &h);
		for (unsigned k = 0; k < n; k++)
			names[k] = scan_db_rule(db, h[k].rule)->name;
		qsort(names, n, sizeof names[0], cmp_str);
		for (unsigned k = 0; k < n; k++)
			printf("%s: %s FOUND\n", argv[i], names[k]);
		if (n == 0)
			printf("%s: OK\n", argv[i]);
		free(data);
	}
	scan_db_scratch_free(s);
	scan_db_free(db);
	return rc;
}
