/* tests/unit/test_conf.c - conf/conf.c */
#include "conf/conf.h"
#include "tests/unit/check.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct conf_doc *load(const char *yaml, char *err, size_t errsz,
			     int *rc)
{
	struct conf_doc *d = NULL;
	*rc = conf_load_string("t.conf", yaml, strlen(yaml), &d, err, errsz);
	return d;
}

/* ---- Whole documents: good and bad ---------------------------------------- */

static const struct {
	const char *yaml;
	int rc;
	const char *err; /* substring of the message, or NULL */
} doc_rows[] = {
	{"a: 1\nb: [x, y]\nc: {d: e}\n", 0, NULL},
	{"", 0, NULL},
	{"~\n", 0, NULL},
	{"# only a comment\n", 0, NULL},
	/* syntax: unterminated flow sequence, error where libyaml sees it */
	{"a: 1\nb: [x, y\nc: 2\n", -EINVAL,
	 "t.conf:3: YAML syntax error: did not find expected ',' or ']' "
	 "while parsing a flow sequence that starts at line 2"},
	{"a: 1\nb:\n\t- x\n", -EINVAL,
	 "t.conf:3: YAML syntax error: found character that cannot start "
	 "any token while scanning for the next token that starts at line 3; "
	 "indent with spaces, not tabs"},
	{"a: 1\n  b: 2\n", -EINVAL, "t.conf:2: YAML syntax error"},
	{"a: 'open\n", -EINVAL, "YAML syntax error"},
	{"a: 1\nb: 2\na: 3\n", -EINVAL,
	 "t.conf:3: duplicate key 'a' (first at line 1)"},
	{"x:\n  k: 1\n  j: 2\n  k: 3\n", -EINVAL,
	 "t.conf:4: duplicate key 'k' (first at line 2)"},
	{"a: &x 1\nb: *x\n", -EINVAL,
	 "t.conf:1: YAML anchors ('&x') are not allowed"},
	{"b: *x\n", -EINVAL, "t.conf:1: YAML aliases ('*x') are not allowed"},
	{"a: !!str 1\n", -EINVAL, "t.conf:1: YAML tags ('tag:yaml.org,2002:str')"},
	{"a: 1\n---\nb: 2\n", -EINVAL,
	 "t.conf:2: a second YAML document ('---') is not allowed"},
	{"? [a, b]\n: 1\n", -EINVAL,
	 "t.conf:1: a map key must be a plain string, not a list"},
	{"a: \"x\\0y\"\n", -EINVAL, "t.conf:1: a NUL character"},
	{"a: 1\nb: \xff\xfe\n", -EINVAL,
	 "t.conf:2: not valid text (invalid leading UTF-8 octet at byte 8); "
	 "save the file as UTF-8"},
	/* billion laughs stops at the first anchor */
	{"a: &a [\"lol\",\"lol\"]\nb: &b [*a,*a]\nc: [*b,*b]\n", -EINVAL,
	 "anchors ('&a') are not allowed"},
};

static void test_documents(void)
{
	for (size_t i = 0; i < sizeof(doc_rows) / sizeof(doc_rows[0]); i++) {
		char err[512] = "";
		int rc;
		struct conf_doc *d = load(doc_rows[i].yaml, err, sizeof(err),
					  &rc);
		CHECK_MSG(rc == doc_rows[i].rc, "row %zu: rc %d (%s)", i, rc,
			  err);
		if (doc_rows[i].err != NULL)
			CHECK_MSG(strstr(err, doc_rows[i].err) != NULL,
				  "row %zu: '%s' lacks '%s'", i, err,
				  doc_rows[i].err);
		CHECK((rc == 0) == (d != NULL));
		if (d != NULL)
			CHECK(conf_kind(conf_root(d)) == CONF_MAP);
		conf_free(d);
	}
	conf_free(NULL);
}

static void test_depth_limit(void)
{
	char buf[256];
	char err[256];
	int rc;
	/* CONF_MAX_DEPTH levels load; one more does not. */
	for (int extra = 0; extra <= 1; extra++) {
		int n = CONF_MAX_DEPTH + extra;
		memset(buf, '[', (size_t)n);
		memset(buf + n, ']', (size_t)n);
		buf[2 * n] = '\0';
		struct conf_doc *d = load(buf, err, sizeof(err), &rc);
		if (extra == 0) {
			CHECK_MSG(rc == 0, "%s", err);
		} else {
			CHECK_EQ_INT(rc, -EINVAL);
			CHECK(strstr(err, "nesting deeper than 64") != NULL);
		}
		conf_free(d);
	}
}

/* More than CONF_MAX_NODES values: refused, not an out-of-memory crawl. */
static void test_node_limit(void)
{
	size_t n = CONF_MAX_NODES + 1;
	char *buf = malloc(2 * n + 2);
	CHECK(buf != NULL);
	if (buf == NULL)
		return;
	buf[0] = '[';
	for (size_t i = 0; i < n; i++) {
		buf[1 + 2 * i] = '1';
		buf[2 + 2 * i] = ',';
	}
	buf[2 * n] = ']';
	buf[2 * n + 1] = '\0';
	char err[256];
	int rc;
	struct conf_doc *d = load(buf, err, sizeof(err), &rc);
	CHECK_EQ_INT(rc, -EINVAL);
	CHECK_MSG(strstr(err, "t.conf:1: more than 1000000 values") != NULL,
		  "%s", err);
	conf_free(d);
	free(buf);
}

static void test_tree_access(void)
{
	char err[256];
	int rc;
	struct conf_doc *d = load("# c\nname: gw\nlist:\n  - a\n  - 'b'\n"
				  "map: {x: 1}\nempty:\nquoted: ''\n",
				  err, sizeof(err), &rc);
	CHECK_MSG(rc == 0, "%s", err);
	if (d == NULL)
		return;
	const struct conf_node *r = conf_root(d);
	CHECK_EQ_INT(conf_len(r), 5);
	CHECK_EQ_STR(conf_map_key(r, 0), "name");
	CHECK_EQ_INT(conf_map_key_line(r, 0), 2);
	CHECK_EQ_STR(conf_map_key(r, 4), "quoted");
	CHECK(conf_map_key(r, 5) == NULL);
	CHECK_EQ_STR(conf_scalar(conf_map_get(r, "name")), "gw");
	CHECK(conf_map_get(r, "nope") == NULL);
	const struct conf_node *l = conf_map_get(r, "list");
	CHECK(conf_kind(l) == CONF_SEQ);
	CHECK_EQ_INT(conf_len(l), 2);
	CHECK_EQ_STR(conf_scalar(conf_seq_at(l, 1)), "b");
	CHECK_EQ_INT(conf_line(conf_seq_at(l, 1)), 5);
	CHECK(conf_seq_at(l, 2) == NULL);
	CHECK(conf_scalar(l) == NULL);
	CHECK_EQ_STR(conf_file(l), "t.conf");
	CHECK(conf_is_null(conf_map_get(r, "empty")));
	CHECK(!conf_is_null(conf_map_get(r, "quoted")));
	CHECK(!conf_is_null(conf_map_get(r, "name")));
	conf_free(d);
}

/* ---- Typed getters ---------------------------------------------------- */

static const struct {
	const char *s;
	int rc;
	uint64_t v;
} size_rows[] = {
	{"20 MiB", 0, 20ull << 20},
	{"128MiB", 0, 128ull << 20},
	{"10 KiB", 0, 10240},
	{"512", 0, 512},
	{"512 B", 0, 512},
	{"1.5 GiB", 0, 3ull << 29},
	{"20 MB", 0, 20ull << 20},
	{"2g", 0, 2ull << 30},
	{"0.5 KiB", 0, 512},
	{"1 TiB", 0, 1ull << 40},
	{"1.5", -EINVAL, 0},
	{"-1", -EINVAL, 0},
	{"20 XB", -EINVAL, 0},
	{"MiB", -EINVAL, 0},
	{"", -EINVAL, 0},
	{"1.", -EINVAL, 0},
	{"99999999999999999999", -ERANGE, 0},
	{"17179869184 GiB", -ERANGE, 0},
};

static void test_parse_size(void)
{
	for (size_t i = 0; i < sizeof(size_rows) / sizeof(size_rows[0]); i++) {
		uint64_t v = 0;
		int rc = conf_parse_size(size_rows[i].s, &v);
		CHECK_MSG(rc == size_rows[i].rc, "'%s': rc %d", size_rows[i].s,
			  rc);
		if (rc == 0)
			CHECK_MSG(v == size_rows[i].v, "'%s': %llu",
				  size_rows[i].s, (unsigned long long)v);
	}
}

static const struct {
	const char *s;
	int rc;
	uint64_t ms;
} dur_rows[] = {
	{"30m", 0, 1800000},
	{"24h", 0, 86400000},
	{"10 minutes", 0, 600000},
	{"2ms", 0, 2},
	{"1 second", 0, 1000},
	{"1.5h", 0, 5400000},
	{"60 days", 0, 5184000000ull},
	{"1w", 0, 604800000},
	{"30", -EINVAL, 0},
	{"5 fortnights", -EINVAL, 0},
	{"h", -EINVAL, 0},
	{"0.5ms", -EINVAL, 0},
	{"99999999999999999999 weeks", -ERANGE, 0},
};

static void test_parse_duration(void)
{
	for (size_t i = 0; i < sizeof(dur_rows) / sizeof(dur_rows[0]); i++) {
		uint64_t v = 0;
		int rc = conf_parse_duration(dur_rows[i].s, &v);
		CHECK_MSG(rc == dur_rows[i].rc, "'%s': rc %d", dur_rows[i].s,
			  rc);
		if (rc == 0)
			CHECK_MSG(v == dur_rows[i].ms, "'%s': %llu",
				  dur_rows[i].s, (unsigned long long)v);
	}
}

static void test_getters(void)
{
	char err[512];
	int rc;
	struct conf_doc *d = load("size: 20 XB\nbig: 5 GiB\nok: 10 MiB\n"
				  "t: 10 minutes\nbad_t: 10\n"
				  "b1: yes\nb2: Off\nb3: maybe\n"
				  "n: 500\nnn: 12abc\nneg: -3\n"
				  "s: hello\nlist: [a, [b]]\nnull:\n",
				  err, sizeof(err), &rc);
	CHECK_MSG(rc == 0, "%s", err);
	if (d == NULL)
		return;
	const struct conf_node *r = conf_root(d);
	uint64_t v;
	bool b;
	long long n;
	const char *s;

	CHECK_EQ_INT(conf_get_size(conf_map_get(r, "size"), "limits.size", 1,
				   1ull << 40, &v, err, sizeof(err)), -EINVAL);
	CHECK_MSG(strstr(err, "t.conf:1: limits.size: expected a size") !=
		  NULL, "%s", err);
	CHECK(strstr(err, "found '20 XB'") != NULL);
	CHECK_EQ_INT(conf_get_size(conf_map_get(r, "big"), "big", 1,
				   4ull << 30, &v, err, sizeof(err)), -EINVAL);
	CHECK_MSG(strstr(err, "t.conf:2: big: 5 GiB is out of range; use a "
			 "size from 1 to 4 GiB") != NULL, "%s", err);
	CHECK_EQ_INT(conf_get_size(conf_map_get(r, "ok"), "ok", 1, 4ull << 30,
				   &v, err, sizeof(err)), 0);
	CHECK_EQ_INT(v, 10 << 20);

	CHECK_EQ_INT(conf_get_duration(conf_map_get(r, "t"), "t", 1000,
				       86400000, &v, err, sizeof(err)), 0);
	CHECK_EQ_INT(v, 600000);
	CHECK_EQ_INT(conf_get_duration(conf_map_get(r, "bad_t"), "idle", 1,
				       86400000, &v, err, sizeof(err)),
		     -EINVAL);
	CHECK_MSG(strstr(err, "t.conf:5: idle: expected a duration") != NULL,
		  "%s", err);

	CHECK_EQ_INT(conf_get_bool(conf_map_get(r, "b1"), "b1", &b, err,
				   sizeof(err)), 0);
	CHECK(b);
	CHECK_EQ_INT(conf_get_bool(conf_map_get(r, "b2"), "b2", &b, err,
				   sizeof(err)), 0);
	CHECK(!b);
	CHECK_EQ_INT(conf_get_bool(conf_map_get(r, "b3"), "b3", &b, err,
				   sizeof(err)), -EINVAL);
	CHECK_MSG(strstr(err, "t.conf:8: b3: expected yes or no, found "
			 "'maybe'") != NULL, "%s", err);

	CHECK_EQ_INT(conf_get_int(conf_map_get(r, "n"), "workers", 1, 100, &n,
				  err, sizeof(err)), -EINVAL);
	CHECK_MSG(strstr(err, "t.conf:9: workers: 500 is out of range; use a "
			 "number from 1 to 100") != NULL, "%s", err);
	CHECK_EQ_INT(conf_get_int(conf_map_get(r, "nn"), "nn", 0, 100, &n,
				  err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "expected a whole number") != NULL);
	CHECK_EQ_INT(conf_get_int(conf_map_get(r, "neg"), "neg", -5, 5, &n,
				  err, sizeof(err)), 0);
	CHECK_EQ_INT(n, -3);

	CHECK_EQ_INT(conf_get_string(conf_map_get(r, "s"), "s", false, &s,
				     err, sizeof(err)), 0);
	CHECK_EQ_STR(s, "hello");
	CHECK_EQ_INT(conf_get_string(conf_map_get(r, "null"), "null", true,
				     &s, err, sizeof(err)), -EINVAL);
	CHECK_MSG(strstr(err, "t.conf:14: null: expected a non-empty string, "
			 "found nothing") != NULL, "%s", err);
	CHECK_EQ_INT(conf_get_string(conf_map_get(r, "list"), "list", false,
				     &s, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "found a list") != NULL);
	CHECK_EQ_INT(conf_get_string(NULL, "missing.key", false, &s, err,
				     sizeof(err)), -EINVAL);
	CHECK_EQ_STR(err, "missing.key: missing");

	/* Lists of strings: a scalar is a list of one. */
	CHECK_EQ_INT(conf_check_strlist(conf_map_get(r, "s"), "s", err,
					sizeof(err)), 0);
	CHECK_EQ_INT(conf_list_len(conf_map_get(r, "s")), 1);
	CHECK_EQ_STR(conf_scalar(conf_list_at(conf_map_get(r, "s"), 0)),
		     "hello");
	CHECK(conf_list_at(conf_map_get(r, "s"), 1) == NULL);
	CHECK_EQ_INT(conf_check_strlist(conf_map_get(r, "list"), "list", err,
					sizeof(err)), -EINVAL);
	CHECK_MSG(strstr(err, "t.conf:13: list: expected a non-empty string "
			 "in the list, found a list") != NULL, "%s", err);
	CHECK_EQ_INT(conf_check_strlist(r, "root", err, sizeof(err)),
		     -EINVAL);
	conf_free(d);
}

static void test_check_map(void)
{
	static const char *const allowed[] = {"policies", "routes",
					      "signatures", NULL};
	char err[512];
	int rc;
	struct conf_doc *d = load("routes: []\npolices: {}\n", err,
				  sizeof(err), &rc);
	CHECK(d != NULL);
	if (d == NULL)
		return;
	CHECK_EQ_INT(conf_check_map(conf_root(d), "the configuration",
				    allowed, err, sizeof(err)), -EINVAL);
	CHECK_EQ_STR(err, "t.conf:2: unknown key 'polices' in the "
			  "configuration; did you mean 'policies'?");
	conf_free(d);

	d = load("routes: []\nzzz: 1\n", err, sizeof(err), &rc);
	CHECK_EQ_INT(conf_check_map(conf_root(d), "top", allowed, err,
				    sizeof(err)), -EINVAL);
	CHECK_EQ_STR(err, "t.conf:2: unknown key 'zzz' in top; known keys: "
			  "policies, routes, signatures");
	conf_free(d);

	d = load("routes: []\nsignatures: x\n", err, sizeof(err), &rc);
	CHECK_EQ_INT(conf_check_map(conf_root(d), "top", allowed, err,
				    sizeof(err)), 0);
	CHECK_EQ_INT(conf_check_map(conf_map_get(conf_root(d), "signatures"),
				    "signatures", allowed, err, sizeof(err)),
		     -EINVAL);
	CHECK(strstr(err, "t.conf:2: signatures: expected a map") != NULL);
	conf_free(d);
}

static void test_conf_error(void)
{
	char err[64];
	int rc;
	struct conf_doc *d = load("a:\n  b: 1\n", err, sizeof(err), &rc);
	const struct conf_node *b = conf_map_get(conf_map_get(conf_root(d),
							      "a"), "b");
	CHECK_EQ_INT(conf_error(b, err, sizeof(err), "bad %s", "thing"),
		     -EINVAL);
	CHECK_EQ_STR(err, "t.conf:2: bad thing");
	/* Truncation is safe and NUL-terminated. */
	char small[8];
	conf_error(b, small, sizeof(small), "a very long message");
	CHECK_EQ_STR(small, "t.conf:");
	CHECK_EQ_INT(conf_error(b, NULL, 0, "x"), -EINVAL);
	conf_free(d);
}

static void test_files(void)
{
	char err[512];
	struct conf_doc *d = NULL;
	CHECK_EQ_INT(conf_load("/nonexistent/sluice.conf", &d, err,
			       sizeof(err)), -ENOENT);
	CHECK(d == NULL);
	CHECK(strstr(err, "/nonexistent/sluice.conf: cannot open") != NULL);
	CHECK_EQ_INT(conf_load("/tmp", &d, err, sizeof(err)), -EISDIR);

	char path[] = "/tmp/test_conf_XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	if (fd < 0)
		return;
	static const char text[] = "a: 1\nb:\n  - x\n  - y: [\n";
	CHECK(write(fd, text, sizeof(text) - 1) == (ssize_t)sizeof(text) - 1);
	CHECK_EQ_INT(conf_load(path, &d, err, sizeof(err)), -EINVAL);
	char want[128];
	snprintf(want, sizeof(want), "%s:5: YAML syntax error", path);
	CHECK_MSG(strstr(err, want) != NULL, "%s", err);

	/* Over 16 MiB: refused before parsing. */
	CHECK(ftruncate(fd, (off_t)CONF_MAX_FILE_BYTES + 1) == 0);
	CHECK_EQ_INT(conf_load(path, &d, err, sizeof(err)), -EFBIG);
	CHECK(strstr(err, "larger than 16 MiB") != NULL);
	CHECK(d == NULL);
	CHECK_EQ_INT(conf_load_string("x", "a: 1", CONF_MAX_FILE_BYTES + 1u,
				      &d, err, sizeof(err)), -EFBIG);

	/* A good file. */
	CHECK(ftruncate(fd, 0) == 0);
	CHECK(lseek(fd, 0, SEEK_SET) == 0);
	CHECK(write(fd, "k: v\n", 5) == 5);
	CHECK_EQ_INT(conf_load(path, &d, err, sizeof(err)), 0);
	if (d != NULL) {
		CHECK_EQ_STR(conf_doc_path(d), path);
		CHECK_EQ_STR(conf_scalar(conf_map_get(conf_root(d), "k")),
			     "v");
	}
	conf_free(d);
	close(fd);
	unlink(path);
}

int main(void)
{
	RUN(test_documents);
	RUN(test_depth_limit);
	RUN(test_node_limit);
	RUN(test_tree_access);
	RUN(test_parse_size);
	RUN(test_parse_duration);
	RUN(test_getters);
	RUN(test_check_map);
	RUN(test_conf_error);
	RUN(test_files);
	return CHECK_DONE();
}
