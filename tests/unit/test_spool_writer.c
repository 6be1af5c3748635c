/* tests/unit/test_spool_writer.c - spool/spool_writer.c through an I/O
 * ops table that counts and injects: group commit batches N concurrent
 * producers into far fewer fdatasyncs, every request completes exactly
 * once and only after its fdatasync returned; an fdatasync failure fails
 * that batch, moves to a new segment, never touches the failed file
 * again and marks the failed messages done ("aborted"); short writes; a
 * write error after a partial write; rotation; the free-space floor and
 * a full disk; -EAGAIN when the queue is full; one writer per directory;
 * start-up cuts a torn tail; kill -9 of a writing child at random times
 * loses nothing it reported durable. */
#include "spool/spool_writer.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "test_spool_util.h"

/* ---- the fault-injecting ops ------------------------------------------- */

enum { OP_NONE, OP_WRITE, OP_SYNC_OK, OP_SYNC_FAIL };

struct fault {
	_Atomic int fsyncs, writes;
	_Atomic int last_op;
	_Atomic int fail_fsync;      /* >0: fail that many next fsyncs */
	_Atomic int fail_write;      /* >0: fail the next write(s) ... */
	_Atomic int fail_write_after; /* ... after writing this many bytes */
	_Atomic int fail_write_errno;
	_Atomic size_t short_max;    /* >0: at most this many bytes a call */
	_Atomic unsigned long long free_bytes;
	_Atomic int bad_completion;  /* completed before a good fsync */
};

static ssize_t f_writev(void *ctx, int fd, const struct iovec *iov, int n)
{
	struct fault *f = ctx;
	struct iovec v[1024];
	size_t lim = f->short_max, left;
	int k = 0;
	f->writes++;
	f->last_op = OP_WRITE;
	if (f->fail_write > 0) {
		f->fail_write--;
		if (f->fail_write_after > 0) {
			/* Part of it reaches the file, then the error. */
			size_t want = (size_t)f->fail_write_after;
			left = want < iov[0].iov_len ? want : iov[0].iov_len;
			if (write(fd, iov[0].iov_base, left) < 0)
				return -errno;
		}
		return -f->fail_write_errno;
	}
	if (lim == 0) {
		ssize_t r = writev(fd, iov, n);
		return r < 0 ? -errno : r;
	}
	left = lim;
	for (int i = 0; i < n && left > 0 && k < 1024; i++) {
		v[k].iov_base = iov[i].iov_base;
		v[k].iov_len = iov[i].iov_len < left ? iov[i].iov_len : left;
		left -= v[k].iov_len;
		k++;
	}
	ssize_t r = writev(fd, v, k);
	return r < 0 ? -errno : r;
}

static int f_fdatasync(void *ctx, int fd)
{
	struct fault *f = ctx;
	if (f->fail_fsync > 0) {
		f->fail_fsync--;
		f->last_op = OP_SYNC_FAIL;
		return -EIO;
	}
	int rc = fdatasync(fd) == 0 ? 0 : -errno;
	f->fsyncs++;
	f->last_op = OP_SYNC_OK;
	return rc;
}

static int f_free(void *ctx, const char *dir, uint64_t *out)
{
	struct fault *f = ctx;
	(void)dir;
	*out = f->free_bytes;
	return 0;
}

static const struct spool_io_ops ops = {f_writev, f_fdatasync, f_free};

static void init_fault(struct fault *f)
{
	memset(f, 0, sizeof(*f));
	f->free_bytes = 1ull << 40;
	f->fail_write_errno = EIO;
}

static struct spool_writer *start(const char *dir, struct fault *f,
				  uint32_t window_us, uint64_t seg_size)
{
	struct spool_writer_config c = {
		.dir = dir,
		.group_commit_us = window_us,
		.segment_size = seg_size,
		.free_space_floor = 30u << 20,
		.ops = &ops,
		.ops_ctx = f,
	};
	struct spool_writer *w = NULL;
	char err[300] = "";
	int rc = spool_writer_start(&c, &w, err, sizeof err);
	CHECK_MSG(rc == 0, "spool_writer_start: %s", err);
	return w;
}

/* Record for qid number i: body of 50 + i % 3000 bytes. */
static uint8_t *make(unsigned i, size_t *len)
{
	struct spool_msg m;
	char q[17];
	size_t bl = 50 + i % 3000;
	uint8_t *body = su_body(bl, 1, i);
	snprintf(q, sizeof q, "000000%010u", i);
	su_msg(&m, q, body, bl);
	size_t cap = spool_rec_bound(&m);
	uint8_t *buf = malloc(cap);
	if (spool_enc_message(NULL, &m, buf, cap, len) != 0)
		abort();
	free(body);
	return buf;
}

static int wait_req(struct spool_req *r)
{
	int st;
	while ((st = spool_req_status(r)) == -EINPROGRESS)
		sched_yield();
	return st;
}

/* Submit one record and wait for it. */
static int put_one(struct spool_writer *w, unsigned i, struct spool_req *r)
{
	size_t len;
	uint8_t *b = make(i, &len);
	spool_req_init(r, b, len, NULL, NULL);
	int rc = spool_writer_submit(w, r);
	if (rc == 0)
		rc = wait_req(r);
	free(b);
	return rc;
}

static struct spool_reader *reopen(const char *dir)
{
	struct spool_reader *r = NULL;
	char err[300] = "";
	int rc = spool_reader_open(dir, NULL, NULL, &r, err, sizeof err);
	CHECK_MSG(rc == 0, "reader: %s", err);
	return r;
}

/* The record of qid i is in the spool, byte-exact. */
static void check_present(struct spool_reader *r, unsigned i)
{
	char q[17], err[300];
	snprintf(q, sizeof q, "000000%010u", i);
	const struct spool_entry *e = spool_reader_find(r, q);
	CHECK_MSG(e != NULL, "%s missing", q);
	if (e == NULL)
		return;
	struct spool_rec rec;
	uint8_t *buf;
	int rc = spool_reader_load(r, e, &rec, &buf, err, sizeof err);
	CHECK_MSG(rc == 0, "%s", err);
	if (rc != 0)
		return;
	size_t bl = 50 + i % 3000;
	uint8_t *body = su_body(bl, 1, i);
	struct spool_msg m;
	su_msg(&m, q, body, bl);
	su_check_same(&m, &rec.msg);
	spool_rec_clear(&rec);
	free(buf);
	free(body);
}

static off_t file_size(const char *dir, uint64_t seg)
{
	char p[4096];
	struct stat st;
	spool_file_path(p, sizeof p, dir, "seg", seg);
	return stat(p, &st) == 0 ? st.st_size : -1;
}

/* ---- group commit -------------------------------------------------------- */

#define PRODUCERS 8
#define PER_PRODUCER 300
#define IN_FLIGHT 16

struct prod {
	struct spool_writer *w;
	struct fault *f;
	unsigned id;
	bool use_cb;
	_Atomic int completions[PER_PRODUCER];
	_Atomic int errors;
};

static void on_done(struct spool_req *r, int status)
{
	struct prod *p = r->arg;
	/* The writer's last I/O must be a successful fdatasync. */
	if (p->f->last_op != OP_SYNC_OK)
		p->f->bad_completion++;
	if (status != 0)
		p->errors++;
}

struct slot {
	struct spool_req req;
	uint8_t *buf;
	unsigned idx;
	bool busy;
};

static void cb_slot(struct spool_req *r, int status)
{
	struct slot *s = (struct slot *)r; /* req is the first member */
	struct prod *p = r->arg;
	on_done(r, status);
	p->completions[s->idx]++;
}

static void *producer(void *arg)
{
	struct prod *p = arg;
	struct slot slots[IN_FLIGHT];
	unsigned next = 0, done = 0;
	memset(slots, 0, sizeof slots);
	while (done < PER_PRODUCER) {
		for (int s = 0; s < IN_FLIGHT; s++) {
			struct slot *sl = &slots[s];
			if (sl->busy) {
				int st = p->use_cb
					 ? (p->completions[sl->idx] ? 0
								    : -EINPROGRESS)
					 : spool_req_status(&sl->req);
				if (st == -EINPROGRESS)
					continue;
				if (!p->use_cb) {
					/* (the last-op check is exact only on
					 * the writer thread: callbacks) */
					p->completions[sl->idx]++;
					if (st != 0)
						p->errors++;
				}
				free(sl->buf);
				sl->busy = false;
				done++;
			}
			if (!sl->busy && next < PER_PRODUCER) {
				size_t len;
				sl->idx = next;
				sl->buf = make(p->id * 100000 + next, &len);
				spool_req_init(&sl->req, sl->buf, len,
					       p->use_cb ? cb_slot : NULL, p);
				int rc;
				while ((rc = spool_writer_submit(p->w,
								 &sl->req)) ==
				       -EAGAIN)
					sched_yield();
				if (rc != 0) {
					p->errors++;
					free(sl->buf);
					done++;
				} else {
					sl->busy = true;
				}
				next++;
			}
		}
		sched_yield();
	}
	return NULL;
}

static void test_group_commit(void)
{
	char *dir = su_tmpdir();
	struct fault f;
	init_fault(&f);
	struct spool_writer *w = start(dir, &f, 2000, 0);
	if (w == NULL)
		return;
	static struct prod p[PRODUCERS];
	pthread_t th[PRODUCERS];
	for (unsigned i = 0; i < PRODUCERS; i++) {
		memset(&p[i], 0, sizeof p[i]);
		p[i].w = w;
		p[i].f = &f;
		p[i].id = i + 1;
		p[i].use_cb = i % 2;
		pthread_create(&th[i], NULL, producer, &p[i]);
	}
	for (unsigned i = 0; i < PRODUCERS; i++)
		pthread_join(th[i], NULL);
	struct spool_writer_stats st;
	spool_writer_stats(w, &st);
	spool_writer_stop(w);
	unsigned total = PRODUCERS * PER_PRODUCER;
	CHECK_EQ_INT(st.records, total);
	CHECK_EQ_INT(st.errors, 0);
	CHECK_MSG(f.fsyncs * 4 <= (int)total, "%d fsyncs for %u records",
		  (int)f.fsyncs, total);
	CHECK(st.fsyncs == (uint64_t)f.fsyncs);
	CHECK(st.max_batch > 8);
	CHECK_EQ_INT(f.bad_completion, 0);
	for (unsigned i = 0; i < PRODUCERS; i++) {
		CHECK_EQ_INT(p[i].errors, 0);
		for (unsigned k = 0; k < PER_PRODUCER; k++)
			CHECK_MSG(p[i].completions[k] == 1,
				  "producer %u record %u completed %d times",
				  i, k, (int)p[i].completions[k]);
	}
	struct spool_reader *r = reopen(dir);
	if (r != NULL) {
		CHECK_EQ_INT(spool_reader_info(r)->messages, total);
		for (unsigned i = 0; i < PRODUCERS; i += 3)
			for (unsigned k = 0; k < PER_PRODUCER; k += 7)
				check_present(r, (i + 1) * 100000 + k);
		spool_reader_free(r);
	}
	su_rmdir(dir);
}

/* ---- failures -------------------------------------------------------- */

static void test_fsync_failure(void)
{
	char *dir = su_tmpdir();
	struct fault f;
	struct spool_req r;
	init_fault(&f);
	struct spool_writer *w = start(dir, &f, 0, 0);
	if (w == NULL)
		return;
	for (unsigned i = 1; i <= 5; i++)
		CHECK_EQ_INT(put_one(w, i, &r), 0);
	uint64_t good_seg = r.seg;
	f.fail_fsync = 1;
	CHECK_EQ_INT(put_one(w, 6, &r), -EIO);
	CHECK(r.seg == good_seg);
	off_t failed_size = file_size(dir, good_seg);
	for (unsigned i = 7; i <= 10; i++) {
		CHECK_EQ_INT(put_one(w, i, &r), 0);
		CHECK_MSG(r.seg > good_seg, "record %u in segment %llu", i,
			  (unsigned long long)r.seg);
	}
	struct spool_writer_stats st;
	spool_writer_stats(w, &st);
	CHECK_EQ_INT(st.errors, 1);
	spool_writer_stop(w);
	/* Nothing after the error went to the failed file. */
	CHECK(file_size(dir, good_seg) == failed_size);
	struct spool_reader *rd = reopen(dir);
	if (rd != NULL) {
		for (unsigned i = 1; i <= 10; i++)
			if (i != 6)
				check_present(rd, i);
		/* The failed message is absent or marked done (aborted):
		 * it was answered 451 and must not be delivered. */
		const struct spool_entry *e =
			spool_reader_find(rd, "0000000000000006");
		CHECK(e == NULL || e->done);
		for (unsigned i = 7; i <= 10; i++) {
			char q[17];
			snprintf(q, sizeof q, "000000%010u", i);
			CHECK(!spool_reader_find(rd, q)->done);
		}
		spool_reader_free(rd);
	}
	su_rmdir(dir);
}

/* A failed batch followed by no other: stop() writes the aborted marks,
 * so the 451'd message is not delivered after a restart. */
static void test_fsync_failure_then_stop(void)
{
	char *dir = su_tmpdir();
	struct fault f;
	struct spool_req r;
	init_fault(&f);
	struct spool_writer *w = start(dir, &f, 0, 0);
	if (w == NULL)
		return;
	CHECK_EQ_INT(put_one(w, 1, &r), 0);
	f.fail_fsync = 1;
	CHECK_EQ_INT(put_one(w, 2, &r), -EIO);
	spool_writer_stop(w);
	struct spool_reader *rd = reopen(dir);
	if (rd != NULL) {
		check_present(rd, 1);
		CHECK(!spool_reader_find(rd, "0000000000000001")->done);
		/* Its bytes reached the abandoned file (only the sync
		 * failed): it must be marked done. */
		const struct spool_entry *e =
			spool_reader_find(rd, "0000000000000002");
		CHECK(e != NULL);
		CHECK(e == NULL || e->done);
		spool_reader_free(rd);
	}
	su_rmdir(dir);
}

static void test_short_writes(void)
{
	char *dir = su_tmpdir();
	struct fault f;
	init_fault(&f);
	f.short_max = 97;
	struct spool_writer *w = start(dir, &f, 500, 0);
	if (w == NULL)
		return;
	struct spool_req rq[20];
	uint8_t *bufs[20];
	for (unsigned i = 0; i < 20; i++) {
		size_t len;
		bufs[i] = make(i + 1, &len);
		spool_req_init(&rq[i], bufs[i], len, NULL, NULL);
		CHECK_EQ_INT(spool_writer_submit(w, &rq[i]), 0);
	}
	for (unsigned i = 0; i < 20; i++) {
		CHECK_EQ_INT(wait_req(&rq[i]), 0);
		free(bufs[i]);
	}
	CHECK(f.writes > 20);
	spool_writer_stop(w);
	struct spool_reader *rd = reopen(dir);
	if (rd != NULL) {
		CHECK_EQ_INT(spool_reader_info(rd)->messages, 20);
		CHECK_EQ_INT(spool_reader_info(rd)->damaged, 0);
		for (unsigned i = 1; i <= 20; i++)
			check_present(rd, i);
		spool_reader_free(rd);
	}
	su_rmdir(dir);
}

static void test_write_error(void)
{
	char *dir = su_tmpdir();
	struct fault f;
	struct spool_req r;
	init_fault(&f);
	struct spool_writer *w = start(dir, &f, 0, 0);
	if (w == NULL)
		return;
	CHECK_EQ_INT(put_one(w, 1, &r), 0);
	uint64_t s1 = r.seg;
	f.fail_write = 1;
	f.fail_write_after = 40; /* 40 bytes reach the file, then EIO */
	CHECK_EQ_INT(put_one(w, 2, &r), -EIO);
	off_t sz = file_size(dir, s1);
	CHECK_EQ_INT(put_one(w, 3, &r), 0);
	CHECK(r.seg > s1);
	/* A full disk: the batch fails with ENOSPC. */
	f.fail_write = 1;
	f.fail_write_after = 0;
	f.fail_write_errno = ENOSPC;
	CHECK_EQ_INT(put_one(w, 4, &r), -ENOSPC);
	CHECK_EQ_INT(put_one(w, 5, &r), 0);
	spool_writer_stop(w);
	CHECK(file_size(dir, s1) == sz);
	struct spool_reader *rd = reopen(dir);
	if (rd != NULL) {
		check_present(rd, 1);
		check_present(rd, 3);
		check_present(rd, 5);
		CHECK(spool_reader_find(rd, "0000000000000002") == NULL);
		CHECK(spool_reader_find(rd, "0000000000000004") == NULL);
		spool_reader_free(rd);
	}
	su_rmdir(dir);
}

/* Every I/O error report names the segment file and the offset where
 * the failed batch began (sluiced logs "spool: FILE at offset N: ..."; a
 * NULL file printed as "(null)"). */
struct io_reports {
	int n;
	bool null_file;
	char file[2][4096];
	uint64_t off[2];
};

static void on_io_report(void *arg, const char *file, uint64_t off,
			 const char *what)
{
	struct io_reports *r = arg;
	if (file == NULL) {
		r->null_file = true;
		return;
	}
	if (strstr(what, "failed") == NULL || r->n >= 2)
		return;
	snprintf(r->file[r->n], sizeof r->file[0], "%s", file);
	r->off[r->n++] = off;
}

static void test_error_reports_name_the_segment(void)
{
	char *dir = su_tmpdir();
	struct fault f;
	struct spool_req r;
	struct io_reports rep = {0};
	char err[300], want[4096];
	init_fault(&f);
	struct spool_writer_config c = {.dir = dir, .ops = &ops, .ops_ctx = &f,
					.report = on_io_report,
					.report_arg = &rep};
	struct spool_writer *w = NULL;
	CHECK_EQ_INT(spool_writer_start(&c, &w, err, sizeof err), 0);
	if (w == NULL)
		return;
	CHECK_EQ_INT(put_one(w, 1, &r), 0);
	uint64_t s1 = r.seg;
	off_t end1 = file_size(dir, s1);
	f.fail_fsync = 1;
	CHECK_EQ_INT(put_one(w, 2, &r), -EIO);
	f.fail_write = 1;
	f.fail_write_errno = EIO;
	CHECK_EQ_INT(put_one(w, 3, &r), -EIO);
	uint64_t s2 = r.seg;
	spool_writer_stop(w);
	CHECK(!rep.null_file);
	CHECK_EQ_INT(rep.n, 2);
	spool_file_path(want, sizeof want, dir, "seg", s1);
	CHECK_EQ_STR(rep.file[0], want);
	CHECK(rep.off[0] == (uint64_t)end1);
	CHECK(s2 > s1);
	spool_file_path(want, sizeof want, dir, "seg", s2);
	CHECK_EQ_STR(rep.file[1], want);
	CHECK(rep.off[1] == 0);
	su_rmdir(dir);
}

static void test_rotation(void)
{
	char *dir = su_tmpdir();
	struct fault f;
	struct spool_req r;
	init_fault(&f);
	struct spool_writer *w = start(dir, &f, 0, 2048);
	if (w == NULL)
		return;
	uint64_t first = 0;
	for (unsigned i = 1; i <= 40; i++) {
		CHECK_EQ_INT(put_one(w, i, &r), 0);
		if (i == 1)
			first = r.seg;
		/* A record never spans segments; no segment passes the
		 * size unless one record alone is larger. */
		CHECK(file_size(dir, r.seg) <= 2048 || r.off == 0);
	}
	CHECK(r.seg >= first + 4);
	spool_writer_stop(w);
	struct spool_reader *rd = reopen(dir);
	if (rd != NULL) {
		CHECK_EQ_INT(spool_reader_info(rd)->messages, 40);
		for (unsigned i = 1; i <= 40; i++)
			check_present(rd, i);
		spool_reader_free(rd);
	}
	su_rmdir(dir);
}

static void test_space_floor(void)
{
	char *dir = su_tmpdir();
	struct fault f;
	struct spool_req r;
	init_fault(&f);
	struct spool_writer *w = start(dir, &f, 0, 0);
	if (w == NULL)
		return;
	CHECK(spool_writer_space_ok(w));
	CHECK_EQ_INT(put_one(w, 1, &r), 0);
	f.free_bytes = (30u << 20) - 1; /* below the 30 MiB floor */
	for (int i = 0; i < 100 && spool_writer_space_ok(w); i++)
		usleep(10000);
	CHECK(!spool_writer_space_ok(w));
	CHECK_EQ_INT(put_one(w, 2, &r), -ENOSPC);
	f.free_bytes = 30u << 20;
	for (int i = 0; i < 100 && !spool_writer_space_ok(w); i++)
		usleep(10000);
	CHECK(spool_writer_space_ok(w));
	CHECK_EQ_INT(put_one(w, 3, &r), 0);
	spool_writer_stop(w);
	su_rmdir(dir);
}

static void test_queue_full_and_lock(void)
{
	char *dir = su_tmpdir();
	struct fault f;
	init_fault(&f);
	struct spool_writer_config c = {
		.dir = dir, .group_commit_us = 200000, .queue_max = 4,
		.ops = &ops, .ops_ctx = &f,
	};
	struct spool_writer *w = NULL, *w2 = NULL;
	char err[300];
	CHECK_EQ_INT(spool_writer_start(&c, &w, err, sizeof err), 0);
	if (w == NULL)
		return;
	/* A second writer on the same directory is refused. */
	CHECK_EQ_INT(spool_writer_start(&c, &w2, err, sizeof err), -EBUSY);
	CHECK_MSG(strstr(err, "another writer") != NULL, "%s", err);
	struct spool_req rq[5];
	uint8_t *b[5];
	for (unsigned i = 0; i < 5; i++) {
		size_t len;
		b[i] = make(i + 1, &len);
		spool_req_init(&rq[i], b[i], len, NULL, NULL);
		CHECK_EQ_INT(spool_writer_submit(w, &rq[i]), i < 4 ? 0 : -EAGAIN);
	}
	CHECK_EQ_INT(spool_writer_submit(w, &(struct spool_req){.len = 0}),
		     -EINVAL);
	for (unsigned i = 0; i < 4; i++)
		CHECK_EQ_INT(wait_req(&rq[i]), 0);
	/* Room again. */
	CHECK_EQ_INT(spool_writer_submit(w, &rq[4]), 0);
	/* stop() writes what is queued before returning. */
	spool_writer_stop(w);
	CHECK_EQ_INT(spool_req_status(&rq[4]), 0);
	for (unsigned i = 0; i < 5; i++)
		free(b[i]);
	su_rmdir(dir);
}

struct reports {
	int n;
	char what[256];
};

static void on_report(void *arg, const char *file, uint64_t off,
		      const char *what)
{
	struct reports *r = arg;
	(void)file;
	(void)off;
	if (strstr(what, "torn tail") != NULL)
		snprintf(r->what, sizeof r->what, "%s", what);
	r->n++;
}

static void test_recovery_cuts_torn_tail(void)
{
	char *dir = su_tmpdir();
	struct fault f;
	struct spool_req r;
	init_fault(&f);
	struct spool_writer *w = start(dir, &f, 0, 0);
	if (w == NULL)
		return;
	for (unsigned i = 1; i <= 3; i++)
		CHECK_EQ_INT(put_one(w, i, &r), 0);
	uint64_t seg = r.seg;
	spool_writer_stop(w);
	off_t good = file_size(dir, seg);
	/* Half a record at the end, as a kill -9 mid-write leaves. */
	size_t len;
	uint8_t *b = make(4, &len);
	char p[4096];
	spool_file_path(p, sizeof p, dir, "seg", seg);
	FILE *fp = fopen(p, "ab");
	fwrite(b, 1, len / 2, fp);
	fclose(fp);
	free(b);
	struct reports rep = {0};
	struct spool_writer_config c = {.dir = dir, .ops = &ops, .ops_ctx = &f,
					.report = on_report,
					.report_arg = &rep};
	char err[300];
	CHECK_EQ_INT(spool_writer_start(&c, &w, err, sizeof err), 0);
	CHECK_MSG(strstr(rep.what, "cut") != NULL, "report: '%s'", rep.what);
	CHECK(file_size(dir, seg) == good);
	CHECK_EQ_STR(spool_writer_max_qid(w), "0000000000000003");
	CHECK_EQ_INT(put_one(w, 5, &r), 0);
	CHECK(r.seg == seg + 1);
	spool_writer_stop(w);
	struct spool_reader *rd = reopen(dir);
	if (rd != NULL) {
		CHECK_EQ_INT(spool_reader_info(rd)->messages, 4);
		CHECK(!spool_reader_info(rd)->last.tail);
		check_present(rd, 5);
		spool_reader_free(rd);
	}
	su_rmdir(dir);
}

/* ---- kill -9 ------------------------------------------------------------- */

struct kid {
	struct spool_writer *w;
	int fd;
	unsigned base;
	pthread_mutex_t *mu;
};

static void *kid_producer(void *arg)
{
	struct kid *k = arg;
	struct slot slots[8];
	unsigned next = 0;
	memset(slots, 0, sizeof slots);
	for (;;) {
		for (int s = 0; s < 8; s++) {
			struct slot *sl = &slots[s];
			if (sl->busy) {
				int st = spool_req_status(&sl->req);
				if (st == -EINPROGRESS)
					continue;
				if (st == 0) {
					char line[24];
					int n = snprintf(line, sizeof line,
							 "%u\n", sl->idx);
					pthread_mutex_lock(k->mu);
					if (write(k->fd, line, (size_t)n) != n)
						_exit(3);
					pthread_mutex_unlock(k->mu);
				}
				free(sl->buf);
				sl->busy = false;
			}
			size_t len;
			sl->idx = k->base + next++;
			sl->buf = make(sl->idx, &len);
			spool_req_init(&sl->req, sl->buf, len, NULL, NULL);
			if (spool_writer_submit(k->w, &sl->req) == 0)
				sl->busy = true;
			else
				free(sl->buf);
		}
		sched_yield();
	}
	return NULL;
}

static void kid_main(const char *dir, int fd, unsigned round)
{
	struct spool_writer_config c = {.dir = dir, .group_commit_us = 1000,
					.segment_size = 256 * 1024};
	struct spool_writer *w = NULL;
	char err[300];
	if (spool_writer_start(&c, &w, err, sizeof err) != 0) {
		fprintf(stderr, "child: %s\n", err);
		_exit(2);
	}
	pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	struct kid k[2] = {{w, fd, round * 10000000u + 1000000u, &mu},
			   {w, fd, round * 10000000u + 2000000u, &mu}};
	pthread_t th[2];
	pthread_create(&th[0], NULL, kid_producer, &k[0]);
	pthread_create(&th[1], NULL, kid_producer, &k[1]);
	pthread_join(th[0], NULL);
	_exit(0);
}

static void test_kill9(void)
{
	char *dir = su_tmpdir();
	unsigned *acked = NULL;
	size_t nacked = 0, cap = 0;
	srand((unsigned)time(NULL) ^ (unsigned)getpid());
	for (unsigned round = 1; round <= 5; round++) {
		int pfd[2];
		if (pipe(pfd) != 0)
			abort();
		pid_t pid = fork();
		if (pid == 0) {
			close(pfd[0]);
			kid_main(dir, pfd[1], round);
		}
		close(pfd[1]);
		FILE *in = fdopen(pfd[0], "r");
		unsigned v;
		size_t before = nacked;
		/* Kill at a random moment once the child is writing. */
		bool first = fscanf(in, "%u", &v) == 1;
		usleep((useconds_t)(rand() % 300000));
		kill(pid, SIGKILL);
		while (first || fscanf(in, "%u", &v) == 1) {
			first = false;
			if (nacked == cap) {
				cap = cap ? 2 * cap : 1024;
				acked = realloc(acked, cap * sizeof(*acked));
			}
			acked[nacked++] = v;
		}
		fclose(in);
		int status;
		waitpid(pid, &status, 0);
		CHECK_MSG(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
			  "child status %d", status);
		CHECK_MSG(nacked > before, "round %u: nothing acknowledged",
			  round);
		struct spool_reader *r = reopen(dir);
		if (r == NULL)
			break;
		const struct spool_reader_info *in2 = spool_reader_info(r);
		CHECK_EQ_INT(in2->damaged, 0);
		size_t missing = 0;
		for (size_t i = 0; i < nacked; i++) {
			char q[17];
			snprintf(q, sizeof q, "000000%010u", acked[i]);
			if (spool_reader_find(r, q) == NULL)
				missing++;
		}
		CHECK_MSG(missing == 0, "round %u: %zu of %zu acknowledged "
			  "records missing", round, missing, nacked);
		/* Spot-check contents. */
		for (size_t i = before; i < nacked; i += 97)
			check_present(r, acked[i]);
		spool_reader_free(r);
		if (check_failures_)
			break;
	}
	free(acked);
	su_rmdir(dir);
}

int main(void)
{
	RUN(test_group_commit);
	RUN(test_fsync_failure);
	RUN(test_fsync_failure_then_stop);
	RUN(test_short_writes);
	RUN(test_write_error);
	RUN(test_error_reports_name_the_segment);
	RUN(test_rotation);
	RUN(test_space_floor);
	RUN(test_queue_full_and_lock);
	RUN(test_recovery_cuts_torn_tail);
	RUN(test_kill9);
	return CHECK_DONE();
}
