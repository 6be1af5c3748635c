/* tests/unit/test_spool_reader.c - spool/spool_reader.c: segments scanned
 * in order into a queue-id index; a torn tail at every byte of the last
 * record drops only that record; damage in the middle is reported with
 * file and offset and skipped to the next record; a newer version is
 * skipped by name; duplicates keep the first copy; done marks (appended
 * under flock, torn tail cut) mark entries; a missing directory says so. */
#include "spool/spool_reader.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "spool/crc32c.h"
#include "test_spool_util.h"

struct reports {
	int n;
	char file[8][256];
	uint64_t off[8];
	char what[8][256];
};

static void on_report(void *arg, const char *file, uint64_t off,
		      const char *what)
{
	struct reports *r = arg;
	if (r->n < 8) {
		snprintf(r->file[r->n], sizeof r->file[0], "%s", file);
		r->off[r->n] = off;
		snprintf(r->what[r->n], sizeof r->what[0], "%s", what);
	}
	r->n++;
}

/* Encoded record i (queue id from i), body of i*37 bytes. */
static uint8_t *make_rec(unsigned i, size_t *len, char qid[17])
{
	struct spool_msg m;
	uint8_t *body = su_body(i * 37u, 1, i);
	char q[17];
	snprintf(q, sizeof q, "0000000000%06u", i);
	su_msg(&m, q, body, i * 37u);
	size_t cap = spool_rec_bound(&m);
	uint8_t *buf = malloc(cap);
	if (spool_enc_message(NULL, &m, buf, cap, len) != 0)
		abort();
	free(body);
	if (qid)
		memcpy(qid, q, 17);
	return buf;
}

static void append(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "ab");
	if (f == NULL || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
		perror(path);
		exit(2);
	}
}

/* Write records [from, to) to seg file num; return offsets in offs. */
static void write_seg(const char *dir, uint64_t num, unsigned from,
		      unsigned to, uint64_t *offs)
{
	char path[4096];
	uint64_t off = 0;
	spool_file_path(path, sizeof path, dir, "seg", num);
	for (unsigned i = from; i < to; i++) {
		size_t len;
		uint8_t *b = make_rec(i, &len, NULL);
		append(path, b, len);
		if (offs)
			offs[i - from] = off;
		off += len;
		free(b);
	}
}

static void test_index(void)
{
	char *dir = su_tmpdir();
	char err[300];
	struct spool_reader *r = NULL;
	write_seg(dir, 1, 1, 6, NULL);
	write_seg(dir, 2, 6, 11, NULL);
	/* Not ours: ignored. */
	char p[4096];
	snprintf(p, sizeof p, "%s/seg-xyz.spool", dir);
	append(p, "junk", 4);
	CHECK_EQ_INT(spool_reader_open(dir, NULL, NULL, &r, err, sizeof err),
		     0);
	const struct spool_reader_info *in = spool_reader_info(r);
	CHECK_EQ_INT(in->segments, 2);
	CHECK_EQ_INT(in->last_seg, 2);
	CHECK_EQ_INT(in->messages, 10);
	CHECK_EQ_INT(in->damaged, 0);
	CHECK(!in->last.tail);
	for (unsigned i = 0; i < 10; i++) {
		const struct spool_entry *e = spool_reader_at(r, i);
		char q[17];
		snprintf(q, sizeof q, "0000000000%06u", i + 1);
		CHECK_EQ_STR(e->qid, q);
		CHECK(spool_reader_find(r, q) == e);
		CHECK(!e->done);
		struct spool_rec rec;
		uint8_t *buf;
		CHECK_EQ_INT(spool_reader_load(r, e, &rec, &buf, err,
					       sizeof err), 0);
		uint8_t *body = su_body((i + 1) * 37u, 1, i + 1);
		struct spool_msg m;
		su_msg(&m, q, body, (i + 1) * 37u);
		su_check_same(&m, &rec.msg);
		spool_rec_clear(&rec);
		free(buf);
		free(body);
	}
	CHECK_EQ_STR(spool_reader_max_qid(r), "0000000000000010");
	CHECK(spool_reader_find(r, "0000000000000011") == NULL);
	spool_reader_free(r);
	su_rmdir(dir);
}

static void test_torn_tail_every_byte(void)
{
	char *dir = su_tmpdir();
	char path[4096], err[300];
	size_t last_len;
	uint8_t *last = make_rec(9, &last_len, NULL);
	spool_file_path(path, sizeof path, dir, "seg", 3);
	write_seg(dir, 2, 1, 4, NULL);
	for (size_t cut = 1; cut < last_len; cut++) {
		unlink(path);
		write_seg(dir, 3, 4, 8, NULL);
		append(path, last, cut);
		struct spool_reader *r = NULL;
		struct reports rep = {0};
		int rc = spool_reader_open(dir, on_report, &rep, &r, err,
					   sizeof err);
		CHECK_EQ_INT(rc, 0);
		if (rc != 0)
			break;
		const struct spool_reader_info *in = spool_reader_info(r);
		CHECK_MSG(in->messages == 7, "cut %zu: %llu messages", cut,
			  (unsigned long long)in->messages);
		CHECK_MSG(in->last.tail, "cut %zu: no tail", cut);
		CHECK_EQ_INT(in->damaged, 0);
		CHECK(spool_reader_find(r, "0000000000000009") == NULL);
		CHECK(in->last.valid_end + cut == in->last.size);
		CHECK_EQ_INT(rep.n, 1);
		spool_reader_free(r);
		if (check_failures_)
			break;
	}
	free(last);
	su_rmdir(dir);
}

static void test_damage_in_the_middle(void)
{
	char *dir = su_tmpdir();
	char path[4096], err[300];
	uint64_t offs[8];
	write_seg(dir, 1, 1, 9, offs);
	spool_file_path(path, sizeof path, dir, "seg", 1);
	/* Flip a byte inside record 3 (index 2), and put garbage (with a
	 * fake magic) inside record 6. */
	int fd = open(path, O_RDWR);
	uint8_t b;
	CHECK(pread(fd, &b, 1, (off_t)offs[2] + 40) == 1);
	b ^= 0x55;
	CHECK(pwrite(fd, &b, 1, (off_t)offs[2] + 40) == 1);
	CHECK(pwrite(fd, "SLSP\xff\xff\xff\xff", 8, (off_t)offs[5] + 20) == 8);
	close(fd);
	struct spool_reader *r = NULL;
	struct reports rep = {0};
	CHECK_EQ_INT(spool_reader_open(dir, on_report, &rep, &r, err,
				       sizeof err), 0);
	const struct spool_reader_info *in = spool_reader_info(r);
	CHECK_EQ_INT(in->messages, 6);
	CHECK_EQ_INT(in->damaged, 2);
	CHECK(!in->last.tail);
	CHECK(spool_reader_find(r, "0000000000000003") == NULL);
	CHECK(spool_reader_find(r, "0000000000000006") == NULL);
	CHECK(spool_reader_find(r, "0000000000000004") != NULL);
	CHECK(spool_reader_find(r, "0000000000000008") != NULL);
	CHECK_EQ_INT(rep.n, 2);
	CHECK_EQ_STR(rep.file[0], path);
	CHECK(rep.off[0] == offs[2]);
	CHECK(rep.off[1] == offs[5]);
	CHECK_MSG(strstr(rep.what[0], "damaged region") != NULL, "%s",
		  rep.what[0]);
	spool_reader_free(r);
	su_rmdir(dir);
}

static void test_version_and_duplicates(void)
{
	char *dir = su_tmpdir();
	char path[4096], err[300];
	size_t len;
	spool_file_path(path, sizeof path, dir, "seg", 1);
	uint8_t *a = make_rec(1, &len, NULL);
	append(path, a, len);
	/* A future version with a valid CRC: skipped, named. */
	uint8_t *v2 = make_rec(2, &len, NULL);
	v2[8] = 7;
	uint32_t c = spool_crc32c(0, v2 + 8, len - 8);
	for (int i = 0; i < 4; i++)
		v2[4 + i] = (uint8_t)(c >> (8 * i));
	append(path, v2, len);
	/* Record 1 again (a retried write): the first copy is used. */
	uint8_t *a2 = make_rec(1, &len, NULL);
	append(path, a2, len);
	struct spool_reader *r = NULL;
	struct reports rep = {0};
	CHECK_EQ_INT(spool_reader_open(dir, on_report, &rep, &r, err,
				       sizeof err), 0);
	const struct spool_reader_info *in = spool_reader_info(r);
	CHECK_EQ_INT(in->messages, 1);
	CHECK_EQ_INT(in->unknown_version, 1);
	CHECK_EQ_INT(in->duplicates, 1);
	CHECK(spool_reader_at(r, 0)->off == 0);
	CHECK_EQ_INT(rep.n, 2);
	CHECK_MSG(strstr(rep.what[0], "version 7") != NULL, "%s", rep.what[0]);
	spool_reader_free(r);
	free(a);
	free(a2);
	free(v2);
	su_rmdir(dir);
}

static void test_mark_done(void)
{
	char *dir = su_tmpdir();
	char err[300], path[4096];
	write_seg(dir, 1, 1, 4, NULL);
	CHECK_EQ_INT(spool_mark_done(dir, "0000000000000002", 1234,
				     "delivered", err, sizeof err), 0);
	/* A torn mark (killed mid-append) is cut before the next one. */
	spool_file_path(path, sizeof path, dir, "done", 1);
	append(path, "SLSP\x01\x02", 6);
	CHECK_EQ_INT(spool_mark_done(dir, "0000000000000003", 5678, "",
				     err, sizeof err), 0);
	CHECK_EQ_INT(spool_mark_done(dir, "bad", 1, "", err, sizeof err),
		     -EINVAL);
	struct spool_reader *r = NULL;
	struct reports rep = {0};
	CHECK_EQ_INT(spool_reader_open(dir, on_report, &rep, &r, err,
				       sizeof err), 0);
	CHECK_EQ_INT(rep.n, 0);
	const struct spool_reader_info *in = spool_reader_info(r);
	CHECK_EQ_INT(in->done_files, 1);
	CHECK_EQ_INT(in->done, 2);
	CHECK(!spool_reader_find(r, "0000000000000001")->done);
	CHECK(spool_reader_find(r, "0000000000000002")->done);
	CHECK(spool_reader_find(r, "0000000000000002")->done_us == 1234);
	CHECK(spool_reader_find(r, "0000000000000003")->done_us == 5678);
	spool_reader_free(r);
	su_rmdir(dir);
}

static void test_open_errors(void)
{
	char err[300] = "";
	struct spool_reader *r = NULL;
	CHECK_EQ_INT(spool_reader_open("/nonexistent/spool", NULL, NULL, &r,
				       err, sizeof err), -ENOENT);
	CHECK_MSG(strstr(err, "--spool") != NULL, "%s", err);
	CHECK(r == NULL);
	CHECK_EQ_INT(spool_reader_open("/etc/passwd", NULL, NULL, &r, err,
				       sizeof err), -ENOTDIR);
	/* An empty directory is an empty spool. */
	char *dir = su_tmpdir();
	CHECK_EQ_INT(spool_reader_open(dir, NULL, NULL, &r, err, sizeof err),
		     0);
	CHECK_EQ_INT(spool_reader_info(r)->messages, 0);
	CHECK_EQ_STR(spool_reader_max_qid(r), "");
	spool_reader_free(r);
	su_rmdir(dir);
}

int main(void)
{
	RUN(test_index);
	RUN(test_torn_tail_every_byte);
	RUN(test_damage_in_the_middle);
	RUN(test_version_and_duplicates);
	RUN(test_mark_done);
	RUN(test_open_errors);
	return CHECK_DONE();
}
