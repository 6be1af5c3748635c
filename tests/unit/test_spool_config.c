/* tests/unit/test_spool_config.c - spool/spool_config.c: the shipped
 * config/sluice.conf's spool section; defaults for an absent section or
 * keys (the floor follows the larger of limits.message_size and
 * smtp.max_message_size); relative dir resolved
 * against the file; good variations; unknown keys and bad values fail
 * with "FILE:LINE: ..." and what to do. */
#include "spool/spool_config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"

static char tmp_path[64];

static int load(const char *text, struct spool_config *c, char *err,
		size_t errsz)
{
	FILE *f = fopen(tmp_path, "w");
	struct conf_doc *doc = NULL;
	if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0) {
		perror(tmp_path);
		exit(2);
	}
	int rc = conf_load(tmp_path, &doc, err, errsz);
	if (rc == 0)
		rc = spool_config_load(doc, c, err, errsz);
	conf_free(doc);
	return rc;
}

static void test_shipped(void)
{
	char err[512] = "";
	struct conf_doc *doc = NULL;
	struct spool_config c;
	int rc = conf_load(SLUICE_SRCDIR "/config/sluice.conf", &doc, err,
			   sizeof err);
	CHECK_MSG(rc == 0, "%s", err);
	if (rc != 0)
		return;
	rc = spool_config_load(doc, &c, err, sizeof err);
	CHECK_MSG(rc == 0, "%s", err);
	CHECK_EQ_STR(c.dir, "/var/spool/sluice");
	CHECK_EQ_INT(c.group_commit_us, 2000);
	CHECK(c.group_commit_bytes == 8ull << 20);
	CHECK(c.segment_size == 256ull << 20);
	CHECK_EQ_INT(c.compress_level, 3);
	CHECK(c.compress_above == 4096);
	CHECK(c.free_space_floor == 30ull << 20); /* 1.5 x 20 MiB */
	conf_free(doc);
}

static void test_defaults_and_variations(void)
{
	char err[512] = "";
	struct spool_config c;
	CHECK_EQ_INT(load("limits:\n  message_size: 10 MiB\n", &c, err,
			  sizeof err), 0);
	CHECK_EQ_STR(c.dir, "/var/spool/sluice");
	/* smtp.max_message_size's default (20 MiB) is the larger. */
	CHECK(c.free_space_floor == 30ull << 20);
	CHECK_EQ_INT(c.compress_level, 3);
	CHECK_EQ_INT(load("spool:\n", &c, err, sizeof err), 0);
	CHECK(c.free_space_floor == 30ull << 20);
	/* A client may send more than the scan's size: the floor keeps one
	 * largest message above it. */
	CHECK_EQ_INT(load("limits:\n  message_size: 10 MiB\n"
			  "smtp:\n  max_message_size: 40 MiB\n", &c, err,
			  sizeof err), 0);
	CHECK(c.free_space_floor == 60ull << 20);
	CHECK_EQ_INT(load("limits:\n  message_size: 10 MiB\n"
			  "smtp:\n  max_message_size: 4 MiB\n", &c, err,
			  sizeof err), 0);
	CHECK(c.free_space_floor == 15ull << 20);
	CHECK_EQ_INT(load("limits:\n  message_size: 1 MiB\n"
			  "smtp:\n  max_message_size: 1 MiB\n", &c, err,
			  sizeof err), 0);
	CHECK(c.free_space_floor == 1536ull << 10);
	CHECK_EQ_INT(load("spool:\n  dir: spool-here\n  group_commit: 0ms\n"
			  "  compress: off\n  segment_size: 1 MiB\n"
			  "  free_space_floor: 1 GiB\n"
			  "  compress_above: 0\n", &c, err, sizeof err), 0);
	char want[128];
	snprintf(want, sizeof want, "%.*s/spool-here",
		 (int)(strrchr(tmp_path, '/') - tmp_path), tmp_path);
	CHECK_EQ_STR(c.dir, want);
	CHECK_EQ_INT(c.group_commit_us, 0);
	CHECK_EQ_INT(c.compress_level, 0);
	CHECK(c.segment_size == 1ull << 20);
	CHECK(c.free_space_floor == 1ull << 30);
	CHECK(c.compress_above == 0);
	CHECK_EQ_INT(load("spool:\n  compress: 19\n  group_commit: 1s\n", &c,
			  err, sizeof err), 0);
	CHECK_EQ_INT(c.compress_level, 19);
	CHECK_EQ_INT(c.group_commit_us, 1000000);
	struct spool_writer_config w;
	spool_config_writer(&c, &w);
	CHECK_EQ_STR(w.dir, c.dir);
	CHECK(w.group_commit_us == 1000000);
	CHECK(w.free_space_floor == c.free_space_floor);
}

static void test_errors(void)
{
	static const struct {
		const char *text;
		unsigned line;
		const char *needle;
	} rows[] = {
		{"spool:\n  dri: /x\n", 2, "unknown key 'dri'"},
		{"spool:\n  dir: \"\"\n", 2, "spool.dir"},
		{"spool:\n  group_commit: 2\n", 2, "spool.group_commit"},
		{"spool:\n  group_commit: 2s\n", 2, "spool.group_commit"},
		{"spool:\n  segment_size: 1000\n", 2, "spool.segment_size"},
		{"spool:\n  compress: 20\n", 2, "level from 1"},
		{"spool:\n  compress: fast\n", 2, "or off"},
		{"spool:\n  compress: [3]\n", 2, "spool.compress"},
		{"spool:\n  free_space_floor: lots\n", 2,
		 "spool.free_space_floor"},
		{"spool: [a]\n", 1, "spool"},
		{"\n\nlimits:\n  message_size: huge\n", 4,
		 "limits.message_size"},
		{"smtp:\n  max_message_size: 1 TiB\n", 2,
		 "smtp.max_message_size"},
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		char err[512] = "", loc[128];
		struct spool_config c;
		int rc = load(rows[i].text, &c, err, sizeof err);
		CHECK_MSG(rc == -EINVAL, "row %zu: rc %d", i, rc);
		snprintf(loc, sizeof loc, "%s:%u: ", tmp_path, rows[i].line);
		CHECK_MSG(strncmp(err, loc, strlen(loc)) == 0,
			  "row %zu: '%s' does not start with '%s'", i, err,
			  loc);
		CHECK_MSG(strstr(err, rows[i].needle) != NULL,
			  "row %zu: '%s' lacks '%s'", i, err, rows[i].needle);
	}
}

int main(void)
{
	snprintf(tmp_path, sizeof tmp_path, "/tmp/test_spool_config.%d.conf",
		 (int)getpid());
	RUN(test_shipped);
	RUN(test_defaults_and_variations);
	RUN(test_errors);
	unlink(tmp_path);
	return CHECK_DONE();
}
