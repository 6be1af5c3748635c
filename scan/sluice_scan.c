/*
 * sluice-scan - run the scan/ pipeline over .eml files.
 *
 * sluice-scan [-c CONFIG] [--signatures DIR]... [--json] [--explain]
 *             [--from ADDR] [--to ADDR]... [--client IP]
 *             [--edited OUT] [--deadline-ms N] [--sig-report] FILE... | -
 *
 * --sig-report prints, for each signature file loaded, how many
 * signatures went to Hyperscan, how many are left to libclamav, ignored
 * or rejected and why (scan_engine_sig_report); with no FILE it only
 * prints that.
 * --edited writes the message as the gateway would store it (the
 * verdict's edits applied, see scan/edit.h) for one input message;
 * --deadline-ms gives each scan a time budget (scan_ctx_set_deadline).
 *
 * One result per message (text or JSON lines). Exit status: 0 when every
 * message is clean, 1 when something was found, 2 on a usage, configuration
 * or I/O error. A malformed message is a verdict, not an error.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <hs/hs.h>

#include "scan/edit.h"
#include "scan/policy.h"
#include "scan/report.h"
#include "scan/rules.h"
#include "scan/scan.h"

#define MAX_INPUT (1ull << 30) /* refuse files over 1 GiB */
#define EXPLAIN_CAP (256u * 1024u)
#define MAX_CLI_LIST 64

static void usage(FILE *f)
{
	fputs("usage: sluice-scan [-c CONFIG] [--signatures DIR]... [--json] "
	      "[--explain]\n"
	      "                   [--from ADDR] [--to ADDR]... [--client IP]\n"
	      "                   [--edited OUT] [--deadline-ms N] "
	      "[--sig-report] "
	      "FILE... | -\n"
	      "Scans each message (RFC 5322 .eml) and prints one verdict "
	      "per message.\n"
	      "  -c, --config FILE     configuration (default "
	      "/etc/sluice/sluice.conf,\n"
	      "                        else ./config/sluice.conf)\n"
	      "  -s, --signatures DIR  also load every ClamAV signature file "
	      "in DIR\n"
	      "  -j, --json            one JSON object per line\n"
	      "  -e, --explain         show the route, each filter and what "
	      "triggered it\n"
	      "  -f, --from ADDR       envelope sender (default: From: header)\n"
	      "  -t, --to ADDR         envelope recipient, repeatable "
	      "(default: To:/Cc:)\n"
	      "      --client IP       client address for spam lists\n"
	      "      --edited OUT      write the message as it would be "
	      "stored (edits\n"
	      "                        applied) to OUT; one input only\n"
	      "      --deadline-ms N   stop a scan after N ms (verdict limit "
	      "scan-time)\n"
	      "      --sig-report      per signature file: how many went to "
	      "Hyperscan,\n"
	      "                        to libclamav only, ignored, rejected, "
	      "and why\n"
	      "                        (no FILE needed)\n"
	      "  -V, --version         print the version and exit\n"
	      "Exit: 0 all clean, 1 something found, 2 usage or I/O error.\n",
	      f);
}

/* Read a whole file (or stdin for "-") into a malloc'd buffer. */
static int read_input(const char *path, uint8_t **out, size_t *outlen)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	if (f == NULL)
		return -errno;
	struct stat st;
	if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
		fclose(f);
		return -EISDIR;
	}
	size_t cap = 64 * 1024, len = 0;
	uint8_t *buf = malloc(cap);
	int rc = 0;
	if (buf == NULL) {
		rc = -ENOMEM;
		goto done;
	}
	for (;;) {
		if (len == cap) {
			if (cap >= MAX_INPUT) {
				rc = -EFBIG;
				goto done;
			}
			uint8_t *nb = realloc(buf, cap * 2);
			if (nb == NULL) {
				rc = -ENOMEM;
				goto done;
			}
			buf = nb;
			cap *= 2;
		}
		size_t n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0) {
			if (ferror(f))
				rc = -EIO;
			break;
		}
	}
done:
	if (f != stdin)
		fclose(f);
	if (rc < 0) {
		free(buf);
		return rc;
	}
	*out = buf;
	*outlen = len;
	return 0;
}

static void diag_print(void *ctx, const char *file, unsigned line,
		       const char *msg)
{
	(void)ctx;
	if (line > 0)
		fprintf(stderr, "sluice-scan: %s:%u: %s\n", file, line, msg);
	else
		fprintf(stderr, "sluice-scan: %s: %s\n", file, msg);
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* --edited: the message with v's edits applied (the original when v
 * changes nothing) into `path`. */
static int write_edited(const char *path, struct scan_ctx *ctx,
			const uint8_t *msg, size_t len,
			const struct scan_verdict *v)
{
	struct scan_edit_buf eb = {0};
	int rc = scan_edit_apply(ctx, msg, len, v, &eb);
	if (rc < 0) {
		fprintf(stderr, "sluice-scan: %s not written: applying the "
			"edits failed: %s\n", path, strerror(-rc));
		free(eb.buf);
		return rc;
	}
	const uint8_t *p = eb.len > 0 ? eb.buf : msg;
	size_t n = eb.len > 0 ? eb.len : len;
	FILE *f = fopen(path, "wb");
	int bad = f == NULL;
	if (f != NULL) {
		bad = fwrite(p, 1, n, f) != n;
		if (fclose(f) != 0)
			bad = 1;
	}
	if (bad) {
		rc = errno != 0 ? -errno : -EIO;
		fprintf(stderr, "sluice-scan: cannot write %s: %s\n", path,
			strerror(-rc));
	}
	free(eb.buf);
	return rc;
}

static const char *default_config(void)
{
	const char *env = getenv("SLUICE_CONFIG");
	if (env != NULL && env[0] != '\0')
		return env;
	struct stat st;
	if (stat("/etc/sluice/sluice.conf", &st) == 0)
		return "/etc/sluice/sluice.conf";
	return "config/sluice.conf";
}

int main(int argc, char **argv)
{
	enum { OPT_CLIENT = 256, OPT_EDITED, OPT_DEADLINE, OPT_SIGREPORT };
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'},
		{"signatures", required_argument, NULL, 's'},
		{"json", no_argument, NULL, 'j'},
		{"explain", no_argument, NULL, 'e'},
		{"from", required_argument, NULL, 'f'},
		{"to", required_argument, NULL, 't'},
		{"client", required_argument, NULL, OPT_CLIENT},
		{"edited", required_argument, NULL, OPT_EDITED},
		{"deadline-ms", required_argument, NULL, OPT_DEADLINE},
		{"sig-report", no_argument, NULL, OPT_SIGREPORT},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	const char *config = NULL, *from = NULL, *client = NULL;
	const char *edited = NULL;
	unsigned long deadline_ms = 0;
	char *end;
	const char *sigdirs[MAX_CLI_LIST + 1] = {NULL};
	const char *rcpts[MAX_CLI_LIST] = {NULL};
	size_t nsig = 0, nrcpt = 0;
	int json = 0, explain = 0, sig_report = 0, c;

	while ((c = getopt_long(argc, argv, "c:s:jef:t:hV", longopts, NULL)) !=
	       -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case 's':
			if (nsig == MAX_CLI_LIST) {
				fprintf(stderr, "sluice-scan: at most %d "
					"--signatures\n", MAX_CLI_LIST);
				return 2;
			}
			sigdirs[nsig++] = optarg;
			break;
		case 'j': json = 1; break;
		case 'e': explain = 1; break;
		case 'f': from = optarg; break;
		case 't':
			if (nrcpt == MAX_CLI_LIST) {
				fprintf(stderr, "sluice-scan: at most %d --to\n",
					MAX_CLI_LIST);
				return 2;
			}
			rcpts[nrcpt++] = optarg;
			break;
		case OPT_CLIENT: client = optarg; break;
		case OPT_EDITED: edited = optarg; break;
		case OPT_SIGREPORT: sig_report = 1; break;
		case OPT_DEADLINE:
			errno = 0;
			deadline_ms = strtoul(optarg, &end, 10);
			if (errno != 0 || end == optarg || *end != '\0' ||
			    deadline_ms == 0 || deadline_ms > 86400000ul) {
				fprintf(stderr, "sluice-scan: --deadline-ms "
					"'%s': give milliseconds, 1 to "
					"86400000\n", optarg);
				return 2;
			}
			break;
		case 'h': usage(stdout); return 0;
		case 'V':
			printf("sluice-scan %s (Hyperscan %s)\n", SLUICE_VERSION,
			       hs_version());
			return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind >= argc && !sig_report) {
		fprintf(stderr, "sluice-scan: no input: name one or more .eml "
			"files, or - for standard input\n");
		usage(stderr);
		return 2;
	}
	if (edited != NULL && argc - optind != 1) {
		fprintf(stderr, "sluice-scan: --edited writes one message: "
			"give exactly one input file\n");
		return 2;
	}
	if (config == NULL)
		config = default_config();

	char err[512];
	struct scan_config *cfg = NULL;
	if (scan_config_load(config, &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "sluice-scan: %s\n", err);
		return 2;
	}
	struct scan_engine *engine = NULL;
	if (scan_engine_create(cfg, sigdirs, diag_print, NULL, &engine, err,
			       sizeof(err)) < 0) {
		fprintf(stderr, "sluice-scan: %s\n", err);
		scan_config_free(cfg);
		return 2;
	}
	if (sig_report) {
		const char *const *lines;
		unsigned n = scan_engine_sig_report(engine, &lines);

		for (unsigned i = 0; i < n; i++)
			printf("signatures %s\n", lines[i]);
		if (n == 0)
			printf("signatures: no signature file loaded\n");
		fflush(stdout);
		if (optind >= argc) {
			scan_engine_free(engine);
			scan_config_free(cfg);
			return 0;
		}
	}
	struct scan_ctx *ctx = scan_ctx_create(engine);
	char *explain_buf = explain ? malloc(EXPLAIN_CAP) : NULL;
	struct scan_verdict *v = malloc(sizeof(*v));
	if (ctx == NULL || v == NULL || (explain && explain_buf == NULL)) {
		fprintf(stderr, "sluice-scan: out of memory\n");
		return 2;
	}

	struct scan_envelope env = {
		.mail_from = from,
		.rcpt_to = rcpts,
		.nrcpt = nrcpt,
		.client_addr = client,
	};
	if (from == NULL && nrcpt > 0)
		env.mail_from = ""; /* recipients given: null sender */
	int status = 0;
	for (int i = optind; i < argc; i++) {
		const char *file = argv[i];
		uint8_t *msg = NULL;
		size_t len = 0;
		int rc = read_input(file, &msg, &len);
		if (rc < 0) {
			fprintf(stderr, "sluice-scan: cannot read %s: %s\n", file,
				strerror(-rc));
			status = 2;
			continue;
		}
		if (deadline_ms > 0)
			scan_ctx_set_deadline(ctx, now_ns() + deadline_ms *
								1000000ull);
		rc = scan_message(ctx, msg, len,
				  env.mail_from != NULL ? &env : NULL,
				  explain_buf, EXPLAIN_CAP, v);
		if (rc == -ETIME) {
			fprintf(stderr, "sluice-scan: %s: scan stopped after "
				"%lu ms (--deadline-ms): not fully scanned\n",
				file, deadline_ms);
		} else if (rc < 0) {
			fprintf(stderr, "sluice-scan: %s: scan failed: %s\n",
				file, strerror(-rc));
			status = 2;
		}
		if (explain)
			scan_report_explain(stdout, file, v);
		if (json)
			scan_report_json(stdout, file, v);
		else
			scan_report_text(stdout, file, v);
		if ((v->cls != SCAN_CLEAN || v->nfindings_total > 0) &&
		    status == 0)
			status = 1;
		if (edited != NULL && rc == 0 &&
		    write_edited(edited, ctx, msg, len, v) < 0)
			status = 2;
		else if (edited != NULL && rc < 0) {
			fprintf(stderr, "sluice-scan: %s not written: the scan "
				"did not finish%s\n", edited,
				rc == -ETIME ? " (raise --deadline-ms)" : "");
			status = 2;
		}
		free(msg);
	}
	if (fflush(stdout) != 0) {
		fprintf(stderr, "sluice-scan: writing output: %s\n",
			strerror(errno));
		status = 2;
	}
	free(v);
	free(explain_buf);
	scan_ctx_free(ctx);
	scan_engine_free(engine);
	scan_config_free(cfg);
	return status;
}
