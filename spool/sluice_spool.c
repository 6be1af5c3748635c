/*
 * spool/sluice_spool.c - the sluice-spool tool: list, show, export and
 * mark done the messages of a spool; inject one for tests and recovery.
 *
 *   sluice-spool [--spool DIR | -c CONFIG] list [--json] [--pending]
 *   sluice-spool ... show QUEUEID
 *   sluice-spool ... export QUEUEID            (.eml to stdout)
 *   sluice-spool ... mark-done QUEUEID [--reason TEXT]
 *   sluice-spool ... inject [--from A] [--to A]... [--client IP]
 *                    [--verdict V] [--action A] FILE|-
 *
 * The spool directory: --spool DIR; else spool.dir of -c CONFIG; else the
 * running gateway's (<run_dir>/sluiced.spool, one line: the directory,
 * written by sluiced at start); else spool.dir of $SLUICE_CONFIG,
 * /etc/sluice/sluice.conf or ./config/sluice.conf; else /var/spool/sluice.
 *
 * Exit status: 0 done, 1 no such queue id, 2 usage, configuration or I/O
 * error. Damage found while reading is reported on stderr, never fatal.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "conf/conf.h"
#include "spool/spool_config.h"
#include "spool/spool_reader.h"
#include "spool/spool_rec.h"
#include "spool/spool_writer.h"

#define RUN_FILE "/run/sluice/sluiced.spool"

static const char *prog = "sluice-spool";

static void usage(FILE *f)
{
	fprintf(f,
		"usage: %s [--spool DIR | -c CONFIG] COMMAND\n"
		"  list [--json] [--pending]   one line (or JSON object) per "
		"message\n"
		"  show QUEUEID                envelope and verdict\n"
		"  export QUEUEID              the message as .eml on stdout\n"
		"  mark-done QUEUEID [--reason TEXT]\n"
		"  inject [--from A] [--to A]... [--client IP] [--verdict V]\n"
		"         [--action A] FILE|-  spool a message (tests, "
		"recovery;\n"
		"                              not while sluiced writes the "
		"spool)\n"
		"The spool: --spool, else spool.dir of -c CONFIG, else the "
		"running\ngateway's (" RUN_FILE "), else spool.dir of the "
		"default configuration.\n", prog);
}

static void on_report(void *arg, const char *file, uint64_t off,
		      const char *what)
{
	(void)arg;
	fprintf(stderr, "%s: %s offset %" PRIu64 ": %s\n", prog,
		file ? file : "spool", off, what);
}

/* ---- finding the spool --------------------------------------------------- */

static int dir_from_config(const char *path, char *dir, size_t dsz)
{
	struct conf_doc *doc = NULL;
	struct spool_config c;
	char err[512];
	if (conf_load(path, &doc, err, sizeof err) != 0 ||
	    spool_config_load(doc, &c, err, sizeof err) != 0) {
		fprintf(stderr, "%s: %s\n", prog, err);
		conf_free(doc);
		return -1;
	}
	conf_free(doc);
	snprintf(dir, dsz, "%s", c.dir);
	return 0;
}

static int find_spool(const char *opt_dir, const char *opt_conf, char *dir,
		      size_t dsz)
{
	if (opt_dir != NULL) {
		snprintf(dir, dsz, "%s", opt_dir);
		return 0;
	}
	if (opt_conf != NULL)
		return dir_from_config(opt_conf, dir, dsz);
	FILE *f = fopen(RUN_FILE, "r");
	if (f != NULL) {
		char line[4096];
		bool ok = fgets(line, sizeof line, f) != NULL;
		fclose(f);
		line[strcspn(line, "\n")] = '\0';
		if (ok && line[0] == '/') {
			snprintf(dir, dsz, "%s", line);
			return 0;
		}
	}
	const char *env = getenv("SLUICE_CONFIG");
	const char *cands[] = {env, "/etc/sluice/sluice.conf",
			       "./config/sluice.conf"};
	for (size_t i = 0; i < 3; i++)
		if (cands[i] != NULL && access(cands[i], R_OK) == 0)
			return dir_from_config(cands[i], dir, dsz);
	snprintf(dir, dsz, "%s", SPOOL_DEFAULT_DIR);
	return 0;
}

/* ---- output helpers ------------------------------------------------------ */

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

static void fmt_time(uint64_t us, char *buf, size_t sz)
{
	time_t t = (time_t)(us / 1000000u);
	struct tm tm;
	gmtime_r(&t, &tm);
	size_t n = strftime(buf, sz, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, sz - n, ".%03uZ", (unsigned)(us / 1000u % 1000u));
}

static const char *body_name(enum spool_body_type b)
{
	static const char *const n[] = {"", "7BIT", "8BITMIME", "BINARYMIME"};
	return (unsigned)b < 4 ? n[b] : "?";
}

static void notify_names(unsigned v, char *buf, size_t sz)
{
	static const char *const n[] = {"NEVER", "SUCCESS", "FAILURE",
					"DELAY"};
	size_t w = 0;
	buf[0] = '\0';
	for (int i = 0; i < 4; i++)
		if (v & (1u << i))
			w += (size_t)snprintf(buf + w, sz - w, "%s%s",
					      w ? "," : "", n[i]);
}

/* ---- commands ------------------------------------------------------------ */

static int open_reader(const char *dir, struct spool_reader **r)
{
	char err[600];
	if (spool_reader_open(dir, on_report, NULL, r, err, sizeof err) != 0) {
		fprintf(stderr, "%s: %s\n", prog, err);
		return -1;
	}
	return 0;
}

static int load(const struct spool_reader *r, const struct spool_entry *e,
		struct spool_rec *rec, uint8_t **buf)
{
	char err[600];
	if (spool_reader_load(r, e, rec, buf, err, sizeof err) != 0) {
		fprintf(stderr, "%s: %s: %s\n", prog, e->qid, err);
		return -1;
	}
	return 0;
}

static int cmd_list(const char *dir, bool json, bool pending)
{
	struct spool_reader *r;
	int status = 0;
	if (open_reader(dir, &r) != 0)
		return 2;
	const struct spool_reader_info *in = spool_reader_info(r);
	for (size_t i = 0; i < in->messages; i++) {
		const struct spool_entry *e = spool_reader_at(r, i);
		struct spool_rec rec;
		uint8_t *buf;
		char t[40], hex[65];
		if (pending && e->done)
			continue;
		if (load(r, e, &rec, &buf) != 0) {
			status = 2;
			continue;
		}
		const struct spool_msg *m = &rec.msg;
		fmt_time(m->received_us, t, sizeof t);
		spool_hex32(m->sha256, hex);
		if (json) {
			printf("{\"queue_id\":\"%s\",\"received\":\"%s\","
			       "\"from\":", m->qid, t);
			json_str(stdout, m->mail_from);
			printf(",\"to\":[");
			for (unsigned k = 0; k < m->nrcpts; k++) {
				if (k)
					putchar(',');
				json_str(stdout, m->rcpts[k].addr);
			}
			printf("],\"size\":%zu,\"sha256\":\"%s\",\"verdict\":",
			       m->data_len, hex);
			json_str(stdout, m->verdict);
			printf(",\"action\":");
			json_str(stdout, m->action);
			printf(",\"route\":");
			json_str(stdout, m->route);
			printf(",\"client\":");
			json_str(stdout, m->client);
			printf(",\"done\":%s,\"segment\":", e->done ? "true"
								    : "false");
			json_str(stdout, e->file);
			printf(",\"offset\":%" PRIu64 "}\n", e->off);
		} else {
			printf("%s %s %s/%s %zu bytes <%s> ->", m->qid, t,
			       m->verdict, m->action, m->data_len,
			       m->mail_from);
			for (unsigned k = 0; k < m->nrcpts && k < 3; k++)
				printf(" <%s>", m->rcpts[k].addr);
			if (m->nrcpts > 3)
				printf(" (+%u)", m->nrcpts - 3);
			printf("%s\n", e->done ? " [done]" : "");
		}
		spool_rec_clear(&rec);
		free(buf);
	}
	if (fflush(stdout) != 0) {
		fprintf(stderr, "%s: writing the list: %s\n", prog,
			strerror(errno));
		status = 2;
	}
	spool_reader_free(r);
	return status;
}

static const struct spool_entry *find(const struct spool_reader *r,
				      const char *qid, const char *dir)
{
	const struct spool_entry *e = spool_reader_find(r, qid);
	if (e == NULL) {
		if (spool_qid_check(qid) != 0)
			fprintf(stderr, "%s: '%s' is not a queue id (16 "
				"characters of 0-9 and A-Z); `%s list` shows "
				"them\n", prog, qid, prog);
		else
			fprintf(stderr, "%s: no message %s in %s; `%s list` "
				"shows what is there (or is it another "
				"spool? --spool DIR)\n", prog, qid, dir,
				prog);
	}
	return e;
}

/* Open the spool, find qid and load its record: 0 (*r, *e, *rec, *buf
 * set; the caller frees *buf and *r), or the exit status after the error
 * was printed (1 no such message, 2 spool or record unreadable). */
static int open_message(const char *dir, const char *qid,
			struct spool_reader **r, const struct spool_entry **e,
			struct spool_rec *rec, uint8_t **buf)
{
	if (open_reader(dir, r) != 0)
		return 2;
	*e = find(*r, qid, dir);
	if (*e == NULL) {
		spool_reader_free(*r);
		return 1;
	}
	if (load(*r, *e, rec, buf) != 0) {
		spool_reader_free(*r);
		return 2;
	}
	return 0;
}

static int cmd_show(const char *dir, const char *qid)
{
	struct spool_reader *r;
	struct spool_rec rec;
	uint8_t *buf;
	char t[40], t2[40], hex[65], nb[64];
	const struct spool_entry *e;
	int rc = open_message(dir, qid, &r, &e, &rec, &buf);
	if (rc != 0)
		return rc;
	const struct spool_msg *m = &rec.msg;
	fmt_time(m->received_us, t, sizeof t);
	fmt_time(m->spooled_us, t2, sizeof t2);
	spool_hex32(m->sha256, hex);
	printf("queue id:  %s\nreceived:  %s\nspooled:   %s\n", m->qid, t,
	       t2);
	printf("client:    %s (HELO %s)\n", m->client, m->helo);
	printf("from:      <%s>", m->mail_from);
	if (m->size_param)
		printf(" SIZE=%" PRIu64, m->size_param);
	if (m->body != SPOOL_BODY_NONE)
		printf(" BODY=%s", body_name(m->body));
	if (m->smtputf8)
		printf(" SMTPUTF8");
	if (m->ret != SPOOL_RET_NONE)
		printf(" RET=%s", m->ret == SPOOL_RET_FULL ? "FULL" : "HDRS");
	if (m->envid[0])
		printf(" ENVID=%s", m->envid);
	putchar('\n');
	for (unsigned k = 0; k < m->nrcpts; k++) {
		printf("to:        <%s>", m->rcpts[k].addr);
		if (m->rcpts[k].notify) {
			notify_names(m->rcpts[k].notify, nb, sizeof nb);
			printf(" NOTIFY=%s", nb);
		}
		if (m->rcpts[k].orcpt[0])
			printf(" ORCPT=%s", m->rcpts[k].orcpt);
		putchar('\n');
	}
	printf("verdict:   %s\naction:    %s", m->verdict, m->action);
	if (m->area[0])
		printf(" (area %s)", m->area);
	printf("\nroute:     %s", m->route);
	if (m->policy[0])
		printf(" (policy %s)", m->policy);
	putchar('\n');
	if (m->reason[0])
		printf("reason:    %s\n", m->reason);
	for (unsigned k = 0; k < m->nfindings; k++)
		printf("finding:   %s\n", m->findings[k]);
	for (unsigned k = 0; k < m->nactions; k++)
		printf("also:      %s\n", m->actions[k]);
	printf("message:   %zu bytes, sha256 %s", m->data_len, hex);
	if (m->flags & SPOOL_F_ZSTD)
		printf(", stored zstd in %zu bytes", m->stored_len);
	printf("\nstored at: %s offset %" PRIu64 "\n", e->file, e->off);
	if (e->done) {
		fmt_time(e->done_us, t, sizeof t);
		printf("done:      yes (%s)\n", t);
	} else {
		printf("done:      no\n");
	}
	spool_rec_clear(&rec);
	free(buf);
	spool_reader_free(r);
	return 0;
}

static int cmd_export(const char *dir, const char *qid)
{
	struct spool_reader *r;
	struct spool_rec rec;
	uint8_t *buf;
	const uint8_t *body;
	void *owned;
	char err[300];
	int status = 0;
	const struct spool_entry *e;
	int rc = open_message(dir, qid, &r, &e, &rec, &buf);
	if (rc != 0)
		return rc;
	if (spool_msg_body(&rec.msg, &body, &owned, err, sizeof err) != 0) {
		fprintf(stderr, "%s: %s: %s\n", prog, qid, err);
		status = 2;
	} else {
		if (fwrite(body, 1, rec.msg.data_len, stdout) !=
			    rec.msg.data_len ||
		    fflush(stdout) != 0) {
			fprintf(stderr, "%s: writing the message: %s\n", prog,
				strerror(errno));
			status = 2;
		}
		free(owned);
	}
	spool_rec_clear(&rec);
	free(buf);
	spool_reader_free(r);
	return status;
}

static uint64_t now_us(void)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	return (uint64_t)tv.tv_sec * 1000000u + (uint64_t)tv.tv_usec;
}

static int cmd_mark_done(const char *dir, const char *qid, const char *why)
{
	struct spool_reader *r;
	char err[600];
	if (open_reader(dir, &r) != 0)
		return 2;
	const struct spool_entry *e = find(r, qid, dir);
	if (e == NULL) {
		spool_reader_free(r);
		return 1;
	}
	if (e->done) {
		char t[40];
		fmt_time(e->done_us, t, sizeof t);
		printf("%s was already marked done (%s)\n", qid, t);
		spool_reader_free(r);
		return 0;
	}
	spool_reader_free(r);
	if (spool_mark_done(dir, qid, now_us(), why ? why : "sluice-spool",
			    err, sizeof err) != 0) {
		fprintf(stderr, "%s: %s\n", prog, err);
		return 2;
	}
	printf("%s marked done\n", qid);
	return 0;
}

static uint8_t *read_all(const char *path, size_t *len)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	size_t cap = 65536, n = 0;
	uint8_t *b = f ? malloc(cap) : NULL;
	if (b == NULL) {
		if (f && f != stdin)
			fclose(f);
		return NULL;
	}
	for (;;) {
		if (n == cap) {
			uint8_t *nb = cap < SPOOL_REC_MAX ? realloc(b, cap * 2)
							  : NULL;
			if (nb == NULL) {
				free(b);
				b = NULL;
				break;
			}
			b = nb;
			cap *= 2;
		}
		size_t k = fread(b + n, 1, cap - n, f);
		n += k;
		if (k == 0)
			break;
	}
	if (f != stdin)
		fclose(f);
	*len = n;
	return b;
}

struct inject_opts {
	const char *from, *client, *verdict, *action;
	const char *to[100];
	unsigned nto;
};

static int cmd_inject(const char *dir, const struct inject_opts *o,
		      const char *file)
{
	size_t len, rlen;
	char err[600];
	uint8_t *data = read_all(file, &len);
	if (data == NULL) {
		fprintf(stderr, "%s: %s: %s\n", prog, file, strerror(errno));
		return 2;
	}
	struct spool_writer_config wc = {.dir = dir, .report = on_report};
	struct spool_writer *w = NULL;
	if (spool_writer_start(&wc, &w, err, sizeof err) != 0) {
		fprintf(stderr, "%s: %s\n", prog, err);
		free(data);
		return 2;
	}
	struct spool_qid_gen g;
	struct spool_rcpt rc[100];
	struct spool_msg m = {0};
	spool_qid_gen_init(&g, 255, spool_writer_max_qid(w));
	spool_qid_next(&g, now_us() / 1000u, m.qid);
	m.received_us = m.spooled_us = now_us();
	m.client = o->client ? o->client : "127.0.0.1";
	m.helo = "sluice-spool";
	m.mail_from = o->from ? o->from : "";
	for (unsigned i = 0; i < o->nto; i++)
		rc[i] = (struct spool_rcpt){o->to[i], 0, ""};
	m.rcpts = rc;
	m.nrcpts = o->nto;
	m.verdict = o->verdict ? o->verdict : "clean";
	m.action = o->action ? o->action : "deliver";
	m.route = "injected";
	m.policy = "";
	m.reason = "injected with sluice-spool";
	m.data = data;
	m.data_len = len;
	struct spool_enc *enc = spool_enc_create(3, 4096);
	size_t cap = spool_rec_bound(&m);
	uint8_t *rec = cap != SIZE_MAX ? malloc(cap) : NULL;
	int rc2 = enc && rec ? spool_enc_message(enc, &m, rec, cap, &rlen)
			     : -ENOMEM;
	struct spool_req req;
	if (rc2 == 0) {
		spool_req_init(&req, rec, rlen, NULL, NULL);
		rc2 = spool_writer_submit(w, &req);
		while (rc2 == 0 && spool_req_status(&req) == -EINPROGRESS)
			usleep(1000);
		if (rc2 == 0)
			rc2 = spool_req_status(&req);
	}
	spool_writer_stop(w);
	spool_enc_free(enc);
	free(rec);
	free(data);
	if (rc2 != 0) {
		fprintf(stderr, "%s: spooling failed: %s\n", prog,
			strerror(-rc2));
		return 2;
	}
	printf("%s\n", m.qid);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{"spool", required_argument, NULL, 's'},
		{"config", required_argument, NULL, 'c'},
		{"json", no_argument, NULL, 'j'},
		{"pending", no_argument, NULL, 'p'},
		{"reason", required_argument, NULL, 'r'},
		{"from", required_argument, NULL, 'f'},
		{"to", required_argument, NULL, 't'},
		{"client", required_argument, NULL, 'a'},
		{"verdict", required_argument, NULL, 'v'},
		{"action", required_argument, NULL, 'A'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *opt_dir = NULL, *opt_conf = NULL, *reason = NULL;
	bool json = false, pending = false;
	struct inject_opts io = {0};
	int c;
	while ((c = getopt_long(argc, argv, "c:h", lo, NULL)) != -1) {
		switch (c) {
		case 's': opt_dir = optarg; break;
		case 'c': opt_conf = optarg; break;
		case 'j': json = true; break;
		case 'p': pending = true; break;
		case 'r': reason = optarg; break;
		case 'f': io.from = optarg; break;
		case 't':
			if (io.nto == 100) {
				fprintf(stderr, "%s: at most 100 --to\n", prog);
				return 2;
			}
			io.to[io.nto++] = optarg;
			break;
		case 'a': io.client = optarg; break;
		case 'v': io.verdict = optarg; break;
		case 'A': io.action = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	const char *cmd = argv[optind];
	int nargs = argc - optind - 1;
	char **args = argv + optind + 1;
	char dir[4096];
	bool needs_one = strcmp(cmd, "show") == 0 ||
			 strcmp(cmd, "export") == 0 ||
			 strcmp(cmd, "mark-done") == 0 ||
			 strcmp(cmd, "inject") == 0;
	if (strcmp(cmd, "list") != 0 && !needs_one) {
		fprintf(stderr, "%s: unknown command '%s'\n", prog, cmd);
		usage(stderr);
		return 2;
	}
	if (needs_one ? nargs != 1 : nargs != 0) {
		fprintf(stderr, "%s: %s takes %s\n", prog, cmd,
			needs_one ? (strcmp(cmd, "inject") == 0
					     ? "one FILE (or - for stdin)"
					     : "one QUEUEID")
				  : "no arguments");
		return 2;
	}
	if (find_spool(opt_dir, opt_conf, dir, sizeof dir) != 0)
		return 2;
	if (strcmp(cmd, "list") == 0)
		return cmd_list(dir, json, pending);
	if (strcmp(cmd, "show") == 0)
		return cmd_show(dir, args[0]);
	if (strcmp(cmd, "export") == 0)
		return cmd_export(dir, args[0]);
	if (strcmp(cmd, "mark-done") == 0)
		return cmd_mark_done(dir, args[0], reason);
	return cmd_inject(dir, &io, args[0]);
}
