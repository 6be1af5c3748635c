/* tests/unit/test_scan_clam.c - libclamav in the pipeline (scan/scan_clam.c):
 * the `clamav:` configuration, libclamav on the leaves of real messages
 * through scan_message, findings (virus, macro), de-duplication against
 * the Hyperscan path, the verdict cache, and the clamav-testfiles package
 * (/usr/share/clamav-testfiles, scripts/install-deps): every file, sent as
 * an attachment, is detected with libclamav on; the files the Hyperscan
 * path alone finds are listed.
 */
#include "scan/clam.h"
#include "scan/policy.h"
#include "scan/scan.h"
#include "tests/unit/check.h"
#include "tests/unit/out_fixture.h"
#include "tests/unit/ole_fixture.h"

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef SLUICE_SRCDIR
#define SLUICE_SRCDIR "."
#endif
#define TESTFILES "/usr/share/clamav-testfiles"
#define CLAM_EXE_MD5 "aa15bcf478d165efd2065190eb473bcb"

static const char eicar[] =
	"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";
#define EICAR_LEN (sizeof(eicar) - 1)

static char tmpdir[256];

/* --- helpers -------------------------------------------------------------- */

/* A message with `data` attached as `name`, base64. */
static void mail_with(struct out *o, const char *name, const uint8_t *data,
		      size_t n)
{
	char hdr[512];
	memset(o, 0, sizeof(*o));
	int hl = snprintf(hdr, sizeof(hdr),
		"From: a@example.org\r\nTo: b@example.net\r\nSubject: t\r\n"
		"MIME-Version: 1.0\r\n"
		"Content-Type: multipart/mixed; boundary=bb\r\n\r\n"
		"--bb\r\nContent-Type: text/plain\r\n\r\nhello\r\n"
		"--bb\r\nContent-Type: application/octet-stream; name=%s\r\n"
		"Content-Disposition: attachment; filename=%s\r\n"
		"Content-Transfer-Encoding: base64\r\n\r\n", name, name);
	out_put(o, hdr, (size_t)hl);
	out_base64(o, data, n);
	out_put(o, "\r\n--bb--\r\n", 10);
}

static uint8_t *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	struct out o = {0};
	uint8_t buf[65536];
	size_t k;
	while ((k = fread(buf, 1, sizeof(buf), f)) > 0)
		out_put(&o, buf, k);
	fclose(f);
	*n = o.n;
	return o.p != NULL ? o.p : calloc(1, 1);
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	if (f == NULL) {
		perror(path);
		abort();
	}
	fputs(text, f);
	fclose(f);
}

struct pipe {
	struct scan_config *cfg;
	struct scan_engine *eng;
	struct scan_ctx *ctx;
	char err[1024];
};

/* Bundled signatures, rule cache in tmpdir, and `extra` YAML. */
static int pipe_open(struct pipe *p, const char *sigs, const char *extra)
{
	char y[2048];
	snprintf(y, sizeof(y),
		 "signatures: [%s]\nrule_cache: %s/cache\n"
		 "internal_domains: [example.net]\n%s",
		 sigs, tmpdir, extra ? extra : "");
	struct conf_doc *d = NULL;
	memset(p, 0, sizeof(*p));
	int rc = conf_load_string("t.conf", y, strlen(y), &d, p->err,
				  sizeof(p->err));
	if (rc == 0)
		rc = scan_config_from_conf(d, &p->cfg, p->err, sizeof(p->err));
	conf_free(d);
	if (rc == 0)
		rc = scan_engine_create(p->cfg, NULL, NULL, NULL, &p->eng,
					p->err, sizeof(p->err));
	if (rc == 0 && (p->ctx = scan_ctx_create(p->eng)) == NULL)
		rc = -ENOMEM;
	return rc;
}

static void pipe_close(struct pipe *p)
{
	scan_ctx_free(p->ctx);
	scan_engine_free(p->eng);
	scan_config_free(p->cfg);
}

#define BUNDLED SLUICE_SRCDIR "/config/signatures"

static unsigned count_kind(const struct scan_verdict *v,
			   enum scan_finding_kind k)
{
	unsigned n = 0;
	for (unsigned i = 0; i < v->nfindings; i++)
		n += v->findings[i].kind == k;
	return n;
}

static const struct scan_finding *finding_prefix(const struct scan_verdict *v,
						 enum scan_finding_kind k,
						 const char *prefix)
{
	for (unsigned i = 0; i < v->nfindings; i++)
		if (v->findings[i].kind == k &&
		    strncmp(v->findings[i].name, prefix, strlen(prefix)) == 0)
			return &v->findings[i];
	return NULL;
}

static struct scan_verdict v;
static char explain[1 << 16];

/* --- tests ----------------------------------------------------------------- */

/* The configuration: defaults, values, errors with file:line. */
static void test_config(void)
{
	static const struct {
		const char *yaml;
		int ok;
		int enabled, all;
		unsigned ndb;
		const char *err; /* part of the error */
	} rows[] = {
		{"", 1, 1, 0, 0, NULL},
		{"clamav:\n  enabled: false\n", 1, 0, 0, 0, NULL},
		{"clamav:\n  leaves: all\n", 1, 1, 1, 0, NULL},
		{"clamav:\n  leaves: default\n  databases: [/a, b]\n", 1, 1, 0,
		 2, NULL},
		{"clamav:\n  leaves: some\n", 0, 0, 0, 0,
		 "t.conf:2: clamav.leaves: unknown value 'some'"},
		{"clamav:\n  enable: true\n", 0, 0, 0, 0, "enable"},
		{"clamav:\n  enabled: maybe\n", 0, 0, 0, 0, "clamav.enabled"},
		{"clamav:\n  databases:\n    x: y\n", 0, 0, 0, 0,
		 "clamav.databases"},
		{"policies:\n  default:\n    - type: macro\n      action: "
		 "reject\n", 1, 1, 0, 0, NULL},
		{"policies:\n  default:\n    - type: macros\n", 0, 0, 0, 0,
		 "encrypted or macro"},
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char err[512] = "";
		struct conf_doc *d = NULL;
		struct scan_config *c = NULL;
		int rc = conf_load_string("t.conf", rows[i].yaml,
					  strlen(rows[i].yaml), &d, err,
					  sizeof(err));
		if (rc == 0)
			rc = scan_config_from_conf(d, &c, err, sizeof(err));
		conf_free(d);
		CHECK_MSG((rc == 0) == rows[i].ok, "row %zu: rc %d %s", i, rc,
			  err);
		if (rc == 0 && rows[i].ok) {
			const struct scan_clamav_conf *cc =
				scan_config_clamav(c);
			unsigned ndb = 0;
			while (cc->databases[ndb] != NULL)
				ndb++;
			CHECK_MSG(cc->enabled == rows[i].enabled &&
					  cc->all_leaves == rows[i].all &&
					  ndb == rows[i].ndb,
				  "row %zu: %d %d %u", i, cc->enabled,
				  cc->all_leaves, ndb);
		}
		if (rows[i].err != NULL)
			CHECK_MSG(strstr(err, rows[i].err) != NULL,
				  "row %zu: err '%s' lacks '%s'", i, err,
				  rows[i].err);
		scan_config_free(c);
	}
}

/* EICAR: both paths find it, it is reported once per signature;
 * libclamav really ran and found it; the second scan is a cache hit. */
static void test_eicar_once(void)
{
	struct pipe on, off;
	int rc_on = pipe_open(&on, BUNDLED, "clamav:\n  leaves: all\n");
	CHECK_MSG(rc_on == 0, "%s", on.err);
	int rc_off = pipe_open(&off, BUNDLED, "clamav:\n  enabled: false\n");
	CHECK_MSG(rc_off == 0, "%s", off.err);
	if (rc_on == 0 && rc_off == 0) {
		struct out m;
		mail_with(&m, "eicar.com", (const uint8_t *)eicar, EICAR_LEN);
		CHECK_EQ_INT(scan_message(off.ctx, m.p, m.n, NULL, NULL, 0, &v),
			     0);
		unsigned hs_only = count_kind(&v, SCAN_F_VIRUS);
		CHECK_EQ_INT(scan_message(on.ctx, m.p, m.n, NULL, explain,
					  sizeof(explain), &v),
			     0);
		unsigned both = count_kind(&v, SCAN_F_VIRUS);
		struct clam_stats st;
		CHECK_EQ_INT(scan_ctx_clam_stats(on.ctx, &st), 0);
		CHECK_MSG(hs_only >= 1 && both == hs_only,
			  "virus findings: Hyperscan alone %u, both %u",
			  hs_only, both);
		CHECK(finding_prefix(&v, SCAN_F_VIRUS, "Sluice.Test.EICAR") !=
		      NULL);
		for (unsigned i = 0; i < v.nfindings; i++)
			CHECK_MSG(strstr(v.findings[i].name, ".UNOFFICIAL") ==
					  NULL,
				  "reported twice: %s", v.findings[i].name);
		CHECK_MSG(st.lib_scans >= 1 && st.detections >= 1,
			  "libclamav scans %llu detections %llu",
			  (unsigned long long)st.lib_scans,
			  (unsigned long long)st.detections);
		CHECK(strstr(explain, "already found by the Hyperscan path") !=
		      NULL);
		CHECK(strstr(explain, "libclamav part") != NULL);
		/* Same attachment again: answered by the verdict cache. */
		uint64_t lib = st.lib_scans;
		CHECK_EQ_INT(scan_message(on.ctx, m.p, m.n, NULL, explain,
					  sizeof(explain), &v),
			     0);
		CHECK_EQ_INT(scan_ctx_clam_stats(on.ctx, &st), 0);
		CHECK_MSG(st.lib_scans == lib && st.cache_hits >= 1,
			  "second scan: libclamav %llu -> %llu, hits %llu",
			  (unsigned long long)lib,
			  (unsigned long long)st.lib_scans,
			  (unsigned long long)st.cache_hits);
		CHECK(strstr(explain, "cache hit") != NULL);
		CHECK_EQ_INT(count_kind(&v, SCAN_F_VIRUS), both);
		printf("  EICAR: Hyperscan alone %u virus findings, with "
		       "libclamav %u (libclamav's reported once)\n", hs_only,
		       both);
		out_free(&m);
	}
	pipe_close(&on);
	pipe_close(&off);
}

/* Disabled: no libclamav context, so no call; no explain line. */
static void test_disabled(void)
{
	struct pipe p;
	int rc = pipe_open(&p, BUNDLED,
			   "clamav:\n  enabled: false\n  leaves: all\n");
	CHECK_MSG(rc == 0, "%s", p.err);
	if (rc == 0) {
		struct clam_stats st;
		CHECK_EQ_INT(scan_ctx_clam_stats(p.ctx, &st), -ENOENT);
		struct out m;
		mail_with(&m, "eicar.com", (const uint8_t *)eicar, EICAR_LEN);
		CHECK_EQ_INT(scan_message(p.ctx, m.p, m.n, NULL, explain,
					  sizeof(explain), &v),
			     0);
		CHECK(strstr(explain, "libclamav") == NULL);
		CHECK_EQ_INT(v.cls, SCAN_VIRUS);
		out_free(&m);
	}
	pipe_close(&p);
	/* Default selection: a text leaf is not sent, a binary one is. */
	rc = pipe_open(&p, BUNDLED, NULL);
	CHECK_MSG(rc == 0, "%s", p.err);
	if (rc == 0) {
		struct out m;
		mail_with(&m, "eicar.com", (const uint8_t *)eicar, EICAR_LEN);
		CHECK_EQ_INT(scan_message(p.ctx, m.p, m.n, NULL, NULL, 0, &v),
			     0);
		struct clam_stats st;
		CHECK_EQ_INT(scan_ctx_clam_stats(p.ctx, &st), 0);
		CHECK_MSG(st.scans == 0, "text leaves sent: %llu",
			  (unsigned long long)st.scans);
		out_free(&m);
		uint8_t bin[600];
		for (size_t i = 0; i < sizeof(bin); i++)
			bin[i] = (uint8_t)(i * 7 + (i >> 3));
		mail_with(&m, "blob.bin", bin, sizeof(bin));
		CHECK_EQ_INT(scan_message(p.ctx, m.p, m.n, NULL, NULL, 0, &v),
			     0);
		CHECK_EQ_INT(scan_ctx_clam_stats(p.ctx, &st), 0);
		CHECK_MSG(st.scans == 1, "binary leaf: %llu calls",
			  (unsigned long long)st.scans);
		CHECK_EQ_INT(v.cls, SCAN_CLEAN);
		out_free(&m);
	}
	pipe_close(&p);
}

/* A macro document -> finding macro -> class macro, quarantined in area
 * "macro" by the built-in default policy; a configured macro filter's
 * action applies; a document without macros passes. */
static void test_macro(void)
{
	size_t xn, pn;
	uint8_t *xlm = ole_build_xls(1, &xn);
	uint8_t *plain = ole_build_xls(0, &pn);
	struct pipe p, r;
	int rc = pipe_open(&p, BUNDLED, NULL);
	CHECK_MSG(rc == 0, "%s", p.err);
	int rc2 = pipe_open(&r, BUNDLED,
			    "policies:\n  default:\n    - type: macro\n"
			    "      action: reject\n");
	CHECK_MSG(rc2 == 0, "%s", r.err);
	if (rc == 0 && rc2 == 0) {
		struct out m;
		mail_with(&m, "report.xls", xlm, xn);
		CHECK_EQ_INT(scan_message(p.ctx, m.p, m.n, NULL, NULL, 0, &v),
			     0);
		const struct scan_finding *f = finding_prefix(
			&v, SCAN_F_MACRO, "Heuristics.OLE2.ContainsMacros");
		CHECK_MSG(f != NULL, "no macro finding (%u findings, class %s)",
			  v.nfindings, scan_class_name(v.cls));
		CHECK_EQ_INT(v.cls, SCAN_MACRO);
		CHECK_EQ_STR(scan_class_name(v.cls), "macro");
		CHECK_EQ_INT(v.disposition, SCAN_QUARANTINE);
		CHECK_EQ_STR(v.quarantine_area, "macro");
		printf("  Excel 4.0 macro sheet: finding macro %s -> %s, "
		       "area %s\n", f ? f->name : "-",
		       scan_class_name(v.cls), v.quarantine_area);
		CHECK_EQ_INT(scan_message(r.ctx, m.p, m.n, NULL, NULL, 0, &v),
			     0);
		CHECK_EQ_INT(v.disposition, SCAN_REJECT);
		CHECK(strstr(v.reason, "macros") != NULL);
		out_free(&m);
		mail_with(&m, "report.xls", plain, pn);
		CHECK_EQ_INT(scan_message(p.ctx, m.p, m.n, NULL, NULL, 0, &v),
			     0);
		CHECK_MSG(count_kind(&v, SCAN_F_MACRO) == 0 &&
				  v.cls == SCAN_CLEAN,
			  "worksheet only: class %s", scan_class_name(v.cls));
		out_free(&m);
	}
	pipe_close(&p);
	pipe_close(&r);
	free(xlm);
	free(plain);
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(a, b);
}

static int found_clam_exe(const struct scan_verdict *vv)
{
	return finding_prefix(vv, SCAN_F_VIRUS, "ClamAV-Test-File") != NULL;
}

/* Every file of clamav-testfiles attached to a mail: detected with
 * libclamav on (an .hdb with clam.exe's MD5, which the Hyperscan path's
 * hash signatures load too); the files found with libclamav off are
 * listed. */
static void test_testfiles(void)
{
	DIR *d = opendir(TESTFILES);
	CHECK_MSG(d != NULL, "%s missing: run scripts/install-deps (package "
		  "clamav-testfiles)", TESTFILES);
	if (d == NULL)
		return;
	char names[64][256];
	unsigned n = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL && n < 64) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(names[n++], sizeof(names[0]), "%.255s", de->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(names[0]), cmp_name);

	char sigdir[300], sigs[700];
	snprintf(sigdir, sizeof(sigdir), "%s/clamexe", tmpdir);
	mkdir(sigdir, 0700);
	write_file(sigdir, "clamexe.hdb",
		   CLAM_EXE_MD5 ":544:ClamAV-Test-File\n");
	snprintf(sigs, sizeof(sigs), "%s, %s", BUNDLED, sigdir);
	struct pipe on, off;
	int rc_on = pipe_open(&on, sigs, NULL);
	CHECK_MSG(rc_on == 0, "%s", on.err);
	int rc_off = pipe_open(&off, sigs, "clamav:\n  enabled: false\n");
	CHECK_MSG(rc_off == 0, "%s", off.err);
	unsigned found = 0, hs_found = 0;
	char missed[2048] = "", hs_list[2048] = "", hs_missed[2048] = "";
	for (unsigned i = 0; rc_on == 0 && rc_off == 0 && i < n; i++) {
		char path[600];
		snprintf(path, sizeof(path), "%s/%.255s", TESTFILES, names[i]);
		size_t len;
		uint8_t *data = slurp(path, &len);
		if (data == NULL)
			continue;
		struct out m;
		mail_with(&m, names[i], data, len);
		int r1 = scan_message(on.ctx, m.p, m.n, NULL, NULL, 0, &v);
		int hit = r1 == 0 && found_clam_exe(&v);
		const char *how = hit ? finding_prefix(&v, SCAN_F_VIRUS,
						       "ClamAV-Test-File")
						->detail
				      : scan_class_name(v.cls);
		char how_s[80];
		snprintf(how_s, sizeof(how_s), "%.79s", how);
		int r2 = scan_message(off.ctx, m.p, m.n, NULL, NULL, 0, &v);
		int hs = r2 == 0 && found_clam_exe(&v);
		found += (unsigned)hit;
		hs_found += (unsigned)hs;
		size_t u;
		char *lst = hit ? NULL : missed;
		if (lst != NULL) {
			u = strlen(lst);
			snprintf(lst + u, sizeof(missed) - u, " %.40s", names[i]);
		}
		lst = hs ? hs_list : hs_missed;
		u = strlen(lst);
		snprintf(lst + u, sizeof(hs_list) - u, " %.40s", names[i]);
		printf("  %-22s %8zu B  with libclamav: %-5s  Hyperscan "
		       "alone: %-5s  %s\n", names[i], len,
		       hit ? "found" : "MISS", hs ? "found" : "-", how_s);
		out_free(&m);
		free(data);
	}
	printf("  clamav-testfiles as attachments: %u of %u detected with "
	       "libclamav on; %u by the Hyperscan path alone:%s\n"
	       "  libclamav needed for:%s\n", found, n, hs_found, hs_list,
	       hs_missed);
	CHECK_MSG(n >= 40, "only %u files in %s", n, TESTFILES);
	CHECK_MSG(found == n, "not detected:%s", missed);
	pipe_close(&on);
	pipe_close(&off);
}

static void rm_rf(const char *dir)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "  could not remove %s\n", dir);
}

int main(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/sluice-test-scan-clam.XXXXXX");
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 2;
	}
	RUN(test_config);
	RUN(test_eicar_once);
	RUN(test_disabled);
	RUN(test_macro);
	RUN(test_testfiles);
	rm_rf(tmpdir);
	return CHECK_DONE();
}
