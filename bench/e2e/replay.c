/*
 * e2e-replay - the SMTP replay client of bench/e2e-compare.
 *
 *   e2e-replay -d ADDR[:PORT] -n MESSAGES [-c SESSIONS] [-m PER_CONN]
 *              [-t SECONDS] [-T REPLY_TIMEOUT] [-f FROM] [-r RCPT]
 *              [-s FIRST] (-l LISTFILE | FILE...)
 *
 * Loads every message into memory (line ends made CRLF, dot-stuffed, the
 * end-of-data dot appended), then keeps SESSIONS (16) SMTP sessions busy on
 * one thread with epoll: greeting, EHLO, then per message MAIL, RCPT, DATA,
 * body + "." and the final reply, each step waiting for its reply (no
 * pipelining, so every server gets the same dialog). Message i is corpus
 * file (FIRST + i) mod files. After PER_CONN (50) messages a session
 * says QUIT and connects again. No new message starts after SECONDS (0: no
 * limit); a reply that takes longer than REPLY_TIMEOUT (60) seconds ends
 * its session.
 *
 * Output, on stdout, one line per message that was started:
 *   INDEX FILE BYTES STAGE CODE LATENCY_US
 * STAGE is E (the reply to the end-of-data dot; LATENCY_US is the time
 * from the moment the last byte of the dot was written to the socket to
 * the moment the reply was complete), M, R or D (MAIL, RCPT or DATA was
 * refused with CODE) or C (the connection broke or timed out: CODE 0).
 * Then one summary line: W seconds from the first connect to the last
 * message's final reply (the QUITs after it do not count; their replies
 * are awaited 5 seconds at most), U and S the run's user and system CPU
 * seconds (not the loading), G 1 when it gave up (see below):
 *   # wall_s W user_s U sys_s S connects N connect_failures F gave_up G
 * Exit status 0 when the run finished (whatever the reply codes), 1 on a
 * usage or corpus error, 2 when it gave up after 20 connection failures
 * or reply timeouts in a row (the lines so far are still printed).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { REPLY_MAX = 8192, MAX_SESSIONS = 4096, FAIL_LIMIT = 20 };

struct msg {
	char *data;          /* CRLF, dot-stuffed, ends with ".\r\n" */
	size_t len;          /* bytes of data */
	size_t bytes;        /* the message itself (before stuffing and dot) */
};

enum state {
	S_IDLE, S_CONNECT, S_GREETING, S_EHLO, S_MAIL, S_RCPT, S_DATA,
	S_BODY, S_DOT, S_RSET, S_QUIT,
};

struct session {
	int fd;
	enum state st;
	int in_conn;            /* messages started on this connection */
	long msg;               /* message index of the transaction, or -1 */
	const char *out;        /* pending output */
	size_t out_len, out_off;
	char cmd[600];          /* command being sent */
	char in[REPLY_MAX];
	size_t in_len;
	double deadline;        /* reply timeout */
	unsigned gen;           /* changes when the connection closes or opens */
	uint32_t armed;         /* epoll events registered, 0: none */
	double t_dot;
};

struct record {
	int file;
	char stage;             /* 0: not started */
	int code;
	double lat;
};

static struct msg *corpus;
static int ncorpus;
static struct record *recs;
static long nmsgs, next_msg;
static int first_file, per_conn = 50;
static double run_deadline, reply_timeout = 60;
static const char *mail_from = "sender@example.org", *rcpt_to = "user@example.net";
static struct sockaddr_in dst;
static int ep;
static long connects, connect_failures, fails_in_row;
static int giving_up;
static double t_last;            /* when the last message ended */
static const double QUIT_WAIT = 5;  /* seconds for the reply to QUIT */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double tv_diff(struct timeval a, struct timeval b)
{
	return (a.tv_sec - b.tv_sec) + (a.tv_usec - b.tv_usec) / 1e6;
}

static void die(const char *what)
{
	fprintf(stderr, "e2e-replay: %s\n", what);
	exit(1);
}

/* The file as sent: bare LF and bare CR become CRLF, a line starting
 * with "." gets another, a final CRLF is added if missing, then ".\r\n". */
static int load(const char *path, struct msg *m)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return -errno;
	size_t cap = 1 << 16, len = 0;
	char *raw = malloc(cap);
	size_t r;
	while (raw && (r = fread(raw + len, 1, cap - len, f)) > 0) {
		len += r;
		if (len == cap) {
			char *n = realloc(raw, cap *= 2);
			if (!n) {
				free(raw);
				raw = NULL;
			}
			raw = n;
		}
	}
	fclose(f);
	if (!raw)
		return -ENOMEM;
	char *out = malloc(len * 2 + 8);
	if (!out) {
		free(raw);
		return -ENOMEM;
	}
	size_t o = 0, bytes = 0;
	int bol = 1;
	for (size_t i = 0; i < len; i++) {
		char c = raw[i];
		if (c == '\r' || c == '\n') {
			if (c == '\r' && i + 1 < len && raw[i + 1] == '\n')
				i++;
			out[o++] = '\r';
			out[o++] = '\n';
			bytes += 2;
			bol = 1;
			continue;
		}
		if (bol && c == '.')
			out[o++] = '.';
		out[o++] = c;
		bytes++;
		bol = 0;
	}
	if (!bol) {
		out[o++] = '\r';
		out[o++] = '\n';
		bytes += 2;
	}
	memcpy(out + o, ".\r\n", 3);
	o += 3;
	free(raw);
	m->data = out;
	m->len = o;
	m->bytes = bytes;
	return 0;
}

static void add_file(const char *path)
{
	static int cap;
	if (ncorpus == cap) {
		cap = cap ? cap * 2 : 256;
		corpus = realloc(corpus, cap * sizeof *corpus);
		if (!corpus)
			die("out of memory loading the corpus");
	}
	int e = load(path, &corpus[ncorpus]);
	if (e) {
		fprintf(stderr, "e2e-replay: %s: %s\n", path, strerror(-e));
		exit(1);
	}
	ncorpus++;
}

/* Watch the socket for what the session waits for: writable while output
 * is pending (or the connect is in progress), else readable. */
static void arm(struct session *s)
{
	uint32_t want = s->st == S_CONNECT || s->out_off < s->out_len ? EPOLLOUT : EPOLLIN;
	struct epoll_event ev = { .events = want, .data.ptr = s };

	if (s->armed == want)
		return;
	if (epoll_ctl(ep, s->armed ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, s->fd, &ev) < 0) {
		perror("e2e-replay: epoll_ctl");
		exit(1);
	}
	s->armed = want;
}

static void close_session(struct session *s, int failed);

/* Write what is pending; when the body's last byte (the dot) is out, the
 * latency clock starts. */
static void flush(struct session *s)
{
	while (s->out_off < s->out_len) {
		ssize_t w = send(s->fd, s->out + s->out_off, s->out_len - s->out_off, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN)
			break;
		if (w <= 0) {
			close_session(s, 1);
			return;
		}
		s->out_off += (size_t)w;
	}
	if (s->out_off == s->out_len && s->st == S_BODY) {
		s->st = S_DOT;
		s->t_dot = now();
		s->deadline = s->t_dot + reply_timeout;
	}
	arm(s);
}

static void send_out(struct session *s, const char *buf, size_t len, enum state st)
{
	s->out = buf;
	s->out_len = len;
	s->out_off = 0;
	s->st = st;
	s->deadline = now() + (st == S_QUIT && QUIT_WAIT < reply_timeout ? QUIT_WAIT : reply_timeout);
	flush(s);
}

/* Sends VERB ARG SUFFIX CRLF. */
static void send_cmd(struct session *s, enum state st, const char *verb, const char *arg,
		     const char *suffix)
{
	int n = snprintf(s->cmd, sizeof s->cmd, "%s%s%s\r\n", verb, arg, suffix);
	send_out(s, s->cmd, (size_t)n, st);
}

static void end_message(struct session *s, char stage, int code, double lat)
{
	if (s->msg < 0)
		return;
	struct record *r = &recs[s->msg];
	r->stage = stage;
	r->code = code;
	r->lat = lat;
	s->msg = -1;
	t_last = now();
}

static int work_left(void)
{
	return !giving_up && next_msg < nmsgs && (run_deadline == 0 || now() < run_deadline);
}

static void start_connect(struct session *s)
{
	s->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (s->fd < 0) {
		perror("e2e-replay: socket");
		exit(1);
	}
	int one = 1;
	setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	connects++;
	s->gen++;
	s->armed = 0;
	s->in_conn = 0;
	s->in_len = 0;
	s->out_len = s->out_off = 0;
	s->msg = -1;
	s->st = S_CONNECT;
	s->deadline = now() + reply_timeout;
	/* A connect that fails at once shows as EPOLLERR on the first wait. */
	(void)connect(s->fd, (struct sockaddr *)&dst, sizeof dst);
	arm(s);
}

/* Close the connection (the transaction in progress, if any, is lost) and
 * connect again while there is work. */
static void close_session(struct session *s, int failed)
{
	end_message(s, 'C', 0, 0);
	close(s->fd);
	s->fd = -1;
	s->gen++;
	s->st = S_IDLE;
	if (failed) {
		connect_failures++;
		if (++fails_in_row >= FAIL_LIMIT && !giving_up) {
			fprintf(stderr, "e2e-replay: %d connection failures in a row; is the server "
				"listening on %s:%d? Stopping.\n", FAIL_LIMIT,
				inet_ntoa(dst.sin_addr), ntohs(dst.sin_port));
			giving_up = 1;
		}
	}
	if (work_left())
		start_connect(s);
}

/* Next transaction on this connection, or QUIT. */
static void next_transaction(struct session *s)
{
	if (s->in_conn >= per_conn || !work_left()) {
		send_cmd(s, S_QUIT, "QUIT", "", "");
		return;
	}
	s->msg = next_msg++;
	s->in_conn++;
	recs[s->msg].file = (int)((first_file + s->msg) % ncorpus);
	send_cmd(s, S_MAIL, "MAIL FROM:<", mail_from, ">");
}

/* A complete reply with this code arrived in state s->st. */
static void on_reply(struct session *s, int code)
{
	switch (s->st) {
	case S_GREETING:
		if (code != 220)
			break;
		send_cmd(s, S_EHLO, "EHLO ", "replay.example.org", "");
		return;
	case S_EHLO:
		if (code / 100 != 2)
			break;
		fails_in_row = 0;
		next_transaction(s);
		return;
	case S_MAIL:
		if (code / 100 == 2) {
			send_cmd(s, S_RCPT, "RCPT TO:<", rcpt_to, ">");
			return;
		}
		end_message(s, 'M', code, 0);
		goto refused;
	case S_RCPT:
		if (code / 100 == 2) {
			send_cmd(s, S_DATA, "DATA", "", "");
			return;
		}
		end_message(s, 'R', code, 0);
		goto refused;
	case S_DATA:
		if (code == 354) {
			const struct msg *m = &corpus[recs[s->msg].file];
			send_out(s, m->data, m->len, S_BODY);
			return;
		}
		end_message(s, 'D', code, 0);
		goto refused;
	case S_DOT:
		end_message(s, 'E', code, now() - s->t_dot);
		if (code == 421) {
			close_session(s, 0);
			return;
		}
		next_transaction(s);
		return;
	case S_RSET:
		if (code == 421) {
			close_session(s, 0);
			return;
		}
		next_transaction(s);
		return;
	case S_QUIT:
		close_session(s, 0);
		return;
	default:
		break;
	}
	close_session(s, 1);  /* a reply we did not ask for, or a refusal */
	return;
refused:
	if (code == 421)
		close_session(s, 0);
	else
		send_cmd(s, S_RSET, "RSET", "", "");
}

/* Each complete reply in s->in: "CODE-text" lines continue it, "CODE text"
 * or "CODE" ends it. */
static void parse_replies(struct session *s)
{
	unsigned gen = s->gen;
	char *nl;

	while ((nl = memchr(s->in, '\n', s->in_len)) != NULL) {
		const char *l = s->in;
		size_t len = (size_t)(nl + 1 - s->in);
		if (len < 5 || l[0] < '2' || l[0] > '5' || l[1] < '0' || l[1] > '9' ||
		    l[2] < '0' || l[2] > '9' || (l[3] != ' ' && l[3] != '-' && l[3] != '\r')) {
			close_session(s, 1);
			return;
		}
		int last = l[3] != '-';
		int code = (l[0] - '0') * 100 + (l[1] - '0') * 10 + (l[2] - '0');
		memmove(s->in, s->in + len, s->in_len - len);
		s->in_len -= len;
		if (!last)
			continue;
		if (s->out_off < s->out_len) {
			close_session(s, 1);  /* a reply before our command was out */
			return;
		}
		on_reply(s, code);
		if (s->gen != gen)
			return;
	}
	if (s->in_len == sizeof s->in)
		close_session(s, 1);
}

static void on_event(struct session *s, uint32_t ev)
{
	if (s->st == S_CONNECT) {
		int err = 0;
		socklen_t l = sizeof err;
		getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &l);
		if (err || (ev & (EPOLLERR | EPOLLHUP))) {
			close_session(s, 1);
			return;
		}
		s->st = S_GREETING;
		arm(s);
		return;
	}
	if (s->out_off < s->out_len) {
		flush(s);
		return;
	}
	ssize_t r = recv(s->fd, s->in + s->in_len, sizeof s->in - s->in_len, 0);
	if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
		close_session(s, s->st != S_QUIT);
		return;
	}
	if (r > 0) {
		s->in_len += (size_t)r;
		parse_replies(s);
	}
}

static void usage(void)
{
	fprintf(stderr, "usage: e2e-replay -d ADDR[:PORT] -n MESSAGES [-c SESSIONS] [-m PER_CONN] "
		"[-t SECONDS] [-T REPLY_TIMEOUT] [-f FROM] [-r RCPT] [-s FIRST] (-l LISTFILE | FILE...)\n");
	exit(1);
}

int main(int argc, char **argv)
{
	int nsess = 16, opt;
	double limit = 0;
	const char *list = NULL, *dest = NULL;

	while ((opt = getopt(argc, argv, "d:n:c:m:t:T:f:r:s:l:")) != -1) {
		switch (opt) {
		case 'd': dest = optarg; break;
		case 'n': nmsgs = atol(optarg); break;
		case 'c': nsess = atoi(optarg); break;
		case 'm': per_conn = atoi(optarg); break;
		case 't': limit = atof(optarg); break;
		case 'T': reply_timeout = atof(optarg); break;
		case 'f': mail_from = optarg; break;
		case 'r': rcpt_to = optarg; break;
		case 's': first_file = atoi(optarg); break;
		case 'l': list = optarg; break;
		default: usage();
		}
	}
	if (!dest || nmsgs <= 0 || nsess <= 0 || nsess > MAX_SESSIONS || per_conn <= 0 ||
	    reply_timeout <= 0 || first_file < 0 || strlen(mail_from) > 256 || strlen(rcpt_to) > 256)
		usage();
	char host[64];
	int port = 25;
	const char *colon = strrchr(dest, ':');
	size_t hl = colon ? (size_t)(colon - dest) : strlen(dest);
	if (hl >= sizeof host)
		usage();
	memcpy(host, dest, hl);
	host[hl] = 0;
	if (colon)
		port = atoi(colon + 1);
	dst.sin_family = AF_INET;
	dst.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &dst.sin_addr) != 1 || port <= 0 || port > 65535)
		die("-d needs an IPv4 address and an optional port, e.g. 198.18.0.1:25");

	if (list) {
		FILE *f = fopen(list, "r");
		char line[4096];
		if (!f) {
			fprintf(stderr, "e2e-replay: %s: %s\n", list, strerror(errno));
			return 1;
		}
		while (fgets(line, sizeof line, f)) {
			line[strcspn(line, "\r\n")] = 0;
			if (line[0])
				add_file(line);
		}
		fclose(f);
	}
	for (int i = optind; i < argc; i++)
		add_file(argv[i]);
	if (ncorpus == 0)
		die("no messages (give -l LISTFILE or files)");
	recs = calloc((size_t)nmsgs, sizeof *recs);
	struct session *ss = calloc((size_t)nsess, sizeof *ss);
	if (!recs || !ss)
		die("out of memory");
	signal(SIGPIPE, SIG_IGN);
	struct rlimit rl = { 65536, 65536 };
	setrlimit(RLIMIT_NOFILE, &rl);
	ep = epoll_create1(0);
	if (ep < 0)
		die("epoll_create1 failed");

	struct rusage ru0, ru;
	getrusage(RUSAGE_SELF, &ru0);  /* the run's CPU time, not the loading */
	double t0 = now();
	if (limit > 0)
		run_deadline = t0 + limit;
	for (int i = 0; i < nsess; i++) {
		ss[i].fd = -1;
		start_connect(&ss[i]);
	}
	struct epoll_event evs[256];
	double last_sweep = t0;
	for (;;) {
		int active = 0;
		for (int i = 0; i < nsess; i++)
			active += ss[i].fd >= 0;
		if (!active)
			break;
		int n = epoll_wait(ep, evs, 256, 200);
		for (int i = 0; i < n; i++)
			on_event(evs[i].data.ptr, evs[i].events);
		double t = now();
		if (t - last_sweep >= 0.2) {
			last_sweep = t;
			for (int i = 0; i < nsess; i++)
				if (ss[i].fd >= 0 && t > ss[i].deadline)
					close_session(&ss[i], ss[i].st != S_QUIT);
		}
	}
	double wall = (t_last > t0 ? t_last : now()) - t0;

	getrusage(RUSAGE_SELF, &ru);
	for (long i = 0; i < nmsgs; i++) {
		const struct record *r = &recs[i];
		if (!r->stage)
			continue;
		printf("%ld %d %zu %c %d %.0f\n", i, r->file, corpus[r->file].bytes, r->stage,
		       r->code, r->lat * 1e6);
	}
	printf("# wall_s %.6f user_s %.6f sys_s %.6f connects %ld connect_failures %ld gave_up %d\n",
	       wall, tv_diff(ru.ru_utime, ru0.ru_utime), tv_diff(ru.ru_stime, ru0.ru_stime), connects,
	       connect_failures, giving_up);
	for (int i = 0; i < ncorpus; i++)
		free(corpus[i].data);
	free(corpus);
	free(recs);
	free(ss);
	close(ep);
	return giving_up ? 2 : 0;
}
