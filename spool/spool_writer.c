/*
 * spool/spool_writer.c - group commit (see spool_writer.h and
 * docs/decisions.md "Spool group commit").
 *
 * Producers: in-flight counters (admission), wfcqueue enqueue, futex wake
 * only when the writer announced it sleeps. Writer thread: wait for work,
 * hold the group window, splice the queue, cut a batch at the byte cap,
 * writev (resuming after short writes) + one fdatasync, complete.
 */
#define _LGPL_SOURCE 1 /* inline wfcqueue: no calls into liburcu-common */

#include "spool/spool_writer.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define DEF_GROUP_BYTES (8u << 20)
#define DEF_SEGMENT (256ull << 20)
#define DEF_QUEUE 4096u
#define DEF_QUEUE_BYTES (512ull << 20)
#define SPACE_CHECK_NS (100u * 1000u * 1000u)
#define IOV_BATCH 1024

struct spool_writer {
	/* Producer side. */
	struct __cds_wfcq_head head;
	struct cds_wfcq_tail tail;
	_Atomic unsigned inflight;
	_Atomic size_t inflight_bytes;
	_Atomic int sleeping;
	_Atomic uint32_t wake; /* futex word */
	_Atomic int stopping;
	_Atomic bool space_ok;

	/* Configuration. */
	char *dir;
	uint64_t group_ns;
	size_t group_bytes;
	uint64_t segment_size;
	uint64_t floor;
	unsigned queue_max;
	size_t queue_bytes_max;
	const struct spool_io_ops *ops;
	void *ops_ctx;
	spool_report_fn report;
	void *rarg;

	/* Writer thread only. */
	pthread_t thread;
	bool thread_started;
	int lock_fd;
	int fd;              /* current segment, -1: none open */
	uint64_t seg;        /* its number (or the last one used) */
	uint64_t seg_size;
	struct __cds_wfcq_head lhead; /* spliced, not yet written */
	struct cds_wfcq_tail ltail;
	struct spool_req **batch;
	struct iovec *iov;
	uint64_t last_space_ns;
	/* Done marks for the messages of failed batches, written ahead of
	 * the next batch that succeeds (see note_aborted). */
	uint8_t *abort_buf;
	size_t abort_len, abort_cap;
	char max_qid[SPOOL_QID_LEN + 1];

	/* Stats (written by the writer, read by anyone). */
	_Atomic uint64_t n_records, n_batches, n_bytes, n_fsyncs, n_errors,
		n_segments, n_seg, n_max_batch;
};

/* ---- default I/O -------------------------------------------------------- */

static ssize_t posix_writev(void *ctx, int fd, const struct iovec *iov,
			    int iovcnt)
{
	(void)ctx;
	ssize_t r = writev(fd, iov, iovcnt);
	return r < 0 ? -errno : r;
}

static int posix_fdatasync(void *ctx, int fd)
{
	(void)ctx;
	return fdatasync(fd) == 0 ? 0 : -errno;
}

static int posix_free_bytes(void *ctx, const char *dir, uint64_t *out)
{
	struct statvfs s;
	(void)ctx;
	if (statvfs(dir, &s) != 0)
		return -errno;
	*out = (uint64_t)s.f_bavail * s.f_frsize;
	return 0;
}

const struct spool_io_ops spool_io_posix = {
	.writev = posix_writev,
	.fdatasync = posix_fdatasync,
	.free_bytes = posix_free_bytes,
};

/* ---- helpers ------------------------------------------------------------ */

static void wreport(struct spool_writer *w, const char *file, uint64_t off,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void wreport(struct spool_writer *w, const char *file, uint64_t off,
		    const char *fmt, ...)
{
	char text[300];
	va_list ap;
	if (w->report == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	w->report(w->rarg, file, off, text);
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void sleep_ns(uint64_t ns)
{
	struct timespec ts = {.tv_sec = (time_t)(ns / 1000000000ull),
			      .tv_nsec = (long)(ns % 1000000000ull)};
	nanosleep(&ts, NULL);
}

static void futex_wait(_Atomic uint32_t *word, uint32_t val, uint64_t ns)
{
	struct timespec ts = {.tv_sec = (time_t)(ns / 1000000000ull),
			      .tv_nsec = (long)(ns % 1000000000ull)};
	syscall(SYS_futex, (uint32_t *)word, FUTEX_WAIT_PRIVATE, val, &ts,
		NULL, 0);
}

static void futex_wake(_Atomic uint32_t *word)
{
	syscall(SYS_futex, (uint32_t *)word, FUTEX_WAKE_PRIVATE, 1, NULL,
		NULL, 0);
}

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int rc = fsync(fd) == 0 ? 0 : -errno;
	close(fd);
	return rc;
}

static void check_space(struct spool_writer *w)
{
	uint64_t avail = 0;
	w->last_space_ns = now_ns();
	if (w->floor == 0)
		return;
	int rc = w->ops->free_bytes(w->ops_ctx, w->dir, &avail);
	bool ok = rc == 0 && avail >= w->floor;
	bool was = atomic_load_explicit(&w->space_ok, memory_order_relaxed);
	if (ok != was)
		wreport(w, w->dir, 0, ok ? "free space back above the floor; "
		       "accepting mail again" : "free space below the floor "
		       "(%" PRIu64 " bytes): refusing new mail (452) until "
		       "space is freed", w->floor);
	atomic_store_explicit(&w->space_ok, ok, memory_order_relaxed);
}

/* Open the next segment; 0 or -errno (fd stays -1). */
static int open_segment(struct spool_writer *w, char *err, size_t errsz)
{
	char path[4096];
	uint64_t num = w->seg + 1;
	int rc = spool_file_path(path, sizeof path, w->dir, "seg", num);
	if (rc < 0)
		return spool_errf(err, errsz, rc, "%s: path too long", w->dir);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	if (fd < 0)
		return spool_errf(err, errsz, -errno, "%s: %s", path,
			    strerror(errno));
	/* The name must be durable before a record in it is called so. */
	if ((rc = fsync_dir(w->dir)) < 0) {
		close(fd);
		return spool_errf(err, errsz, rc, "%s: fsync: %s", w->dir,
			    strerror(-rc));
	}
	w->fd = fd;
	w->seg = num;
	w->seg_size = 0;
	atomic_store_explicit(&w->n_seg, num, memory_order_relaxed);
	atomic_fetch_add_explicit(&w->n_segments, 1, memory_order_relaxed);
	return 0;
}

/* Abandon the current segment after an error: never touched again. */
static void drop_segment(struct spool_writer *w)
{
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
}

static void complete(struct spool_writer *w, struct spool_req *r, int status)
{
	size_t len = r->len;
	void (*done)(struct spool_req *, int) = r->done;
	atomic_fetch_sub_explicit(&w->inflight_bytes, len,
				  memory_order_relaxed);
	if (done != NULL) {
		atomic_store_explicit(&r->status_, status,
				      memory_order_relaxed);
		done(r, status);
	} else {
		atomic_store_explicit(&r->status_, status,
				      memory_order_release);
	}
	/* Last: stop() waits for inflight to reach 0. */
	atomic_fetch_sub_explicit(&w->inflight, 1, memory_order_release);
}

/* Write iov[0..n) fully, resuming after short writes. 0 or -errno. */
static int write_all(struct spool_writer *w, struct iovec *iov, int n)
{
	int i = 0;
	while (i < n) {
		int cnt = n - i < IOV_BATCH ? n - i : IOV_BATCH;
		ssize_t r = w->ops->writev(w->ops_ctx, w->fd, iov + i, cnt);
		if (r == -EINTR)
			continue;
		if (r < 0)
			return (int)r;
		if (r == 0)
			return -EIO;
		size_t left = (size_t)r;
		while (i < n && left >= iov[i].iov_len) {
			left -= iov[i].iov_len;
			i++;
		}
		if (left > 0) {
			iov[i].iov_base = (uint8_t *)iov[i].iov_base + left;
			iov[i].iov_len -= left;
		}
	}
	return 0;
}

/* The messages of a failed batch may still be in the abandoned file (the
 * write may have reached the disk although fsync failed): their sessions
 * were told 451 and the client will send them again, so mark them done
 * ("aborted") ahead of the next batch. Without room the mark is skipped
 * (the copy is then delivered twice at worst: at-least-once). */
static void note_aborted(struct spool_writer *w, struct spool_req **b,
			 size_t n, int rc)
{
	char reason[96];
	snprintf(reason, sizeof reason, "aborted: not acknowledged (%s)",
		 strerror(-rc));
	for (size_t i = 0; i < n; i++) {
		unsigned type, version;
		uint32_t len;
		char qid[SPOOL_QID_LEN + 1];
		size_t out;
		if (spool_rec_frame(b[i]->rec, b[i]->len, &type, &version,
				    &len) != 0 || type != SPOOL_REC_MESSAGE ||
		    b[i]->len < SPOOL_REC_MIN)
			continue;
		memcpy(qid, (const uint8_t *)b[i]->rec + SPOOL_REC_HDR,
		       SPOOL_QID_LEN);
		qid[SPOOL_QID_LEN] = '\0';
		if (spool_rec_encode_done(qid, 0, reason,
					  w->abort_buf + w->abort_len,
					  w->abort_cap - w->abort_len,
					  &out) == 0)
			w->abort_len += out;
	}
}

static void write_batch(struct spool_writer *w, struct spool_req **b,
			size_t n, size_t bytes)
{
	char err[300], path[4096];
	int rc = 0;
	size_t pre = w->abort_len;
	bytes += pre;

	if (w->fd >= 0 && w->seg_size > 0 &&
	    w->seg_size + bytes > w->segment_size) {
		/* Full: everything in it was synced with its batch. */
		close(w->fd);
		w->fd = -1;
	}
	if (w->fd < 0 && (rc = open_segment(w, err, sizeof err)) < 0)
		wreport(w, w->dir, 0, "cannot open a new segment: %s", err);
	if (rc == 0) {
		size_t k = 0;
		if (pre > 0) {
			w->iov[k].iov_base = w->abort_buf;
			w->iov[k++].iov_len = pre;
		}
		uint64_t off = w->seg_size + pre;
		for (size_t i = 0; i < n; i++) {
			w->iov[k].iov_base = (void *)b[i]->rec;
			w->iov[k++].iov_len = b[i]->len;
			b[i]->seg = w->seg;
			b[i]->off = off;
			off += b[i]->len;
		}
		/* Reports name the file and where the batch began. */
		spool_file_path(path, sizeof path, w->dir, "seg", w->seg);
		rc = write_all(w, w->iov, (int)k);
		if (rc < 0) {
			wreport(w, path, w->seg_size, "segment %016" PRIx64
				": write failed (%s): %zu records get an "
				"error; continuing in a new segment", w->seg,
				strerror(-rc), n);
		} else {
			rc = w->ops->fdatasync(w->ops_ctx, w->fd);
			atomic_fetch_add_explicit(&w->n_fsyncs, 1,
						  memory_order_relaxed);
			if (rc < 0)
				wreport(w, path, w->seg_size, "segment %016"
					PRIx64 ": fdatasync failed (%s): %zu "
					"records get an error; the file is not "
					"written again, continuing in a new "
					"segment", w->seg, strerror(-rc), n);
		}
		if (rc < 0) {
			drop_segment(w);
		} else {
			w->seg_size += bytes;
			w->abort_len = 0;
		}
	}
	if (rc < 0) {
		note_aborted(w, b, n, rc);
		atomic_fetch_add_explicit(&w->n_errors, 1,
					  memory_order_relaxed);
		if (rc == -ENOSPC)
			check_space(w);
	} else {
		atomic_fetch_add_explicit(&w->n_records, n,
					  memory_order_relaxed);
		atomic_fetch_add_explicit(&w->n_bytes, bytes - pre,
					  memory_order_relaxed);
	}
	atomic_fetch_add_explicit(&w->n_batches, 1, memory_order_relaxed);
	if (n > atomic_load_explicit(&w->n_max_batch, memory_order_relaxed))
		atomic_store_explicit(&w->n_max_batch, n,
				      memory_order_relaxed);
	for (size_t i = 0; i < n; i++)
		complete(w, b[i], rc);
}

static bool queue_empty(struct spool_writer *w)
{
	return cds_wfcq_empty(&w->head, &w->tail);
}

static void *writer_main(void *arg)
{
	struct spool_writer *w = arg;

	for (;;) {
		bool local = !cds_wfcq_empty(&w->lhead, &w->ltail);
		if (!local && queue_empty(w)) {
			if (atomic_load(&w->stopping) &&
			    atomic_load(&w->inflight) == 0) {
				/* Done marks still owed to failed batches
				 * go out now: a 451'd message whose bytes
				 * reached the abandoned file must not be
				 * delivered after the restart. */
				if (w->abort_len > 0)
					write_batch(w, w->batch, 0, 0);
				break;
			}
			if (now_ns() - w->last_space_ns >= SPACE_CHECK_NS)
				check_space(w);
			uint32_t v = atomic_load(&w->wake);
			atomic_store(&w->sleeping, 1);
			if (queue_empty(w) && !atomic_load(&w->stopping))
				futex_wait(&w->wake, v, SPACE_CHECK_NS);
			atomic_store(&w->sleeping, 0);
			continue;
		}
		if (!local && w->group_ns > 0) {
			/* Hold the window open from the first arrival. */
			uint64_t end = now_ns() + w->group_ns;
			for (;;) {
				uint64_t t = now_ns();
				if (t >= end || atomic_load(&w->stopping) ||
				    atomic_load_explicit(&w->inflight_bytes,
							 memory_order_relaxed)
					    >= w->group_bytes)
					break;
				uint64_t step = end - t;
				sleep_ns(step < 200000 ? step : 200000);
			}
		}
		(void)__cds_wfcq_splice_blocking(&w->lhead, &w->ltail,
						 &w->head, &w->tail);
		size_t n = 0, bytes = 0;
		while (n < w->queue_max && bytes < w->group_bytes) {
			struct cds_wfcq_node *node =
				__cds_wfcq_dequeue_blocking(&w->lhead,
							    &w->ltail);
			if (node == NULL)
				break;
			struct spool_req *r = caa_container_of(
				node, struct spool_req, node_);
			w->batch[n++] = r;
			bytes += r->len;
		}
		if (n > 0)
			write_batch(w, w->batch, n, bytes);
		check_space(w);
	}
	return NULL;
}

/* ---- start / stop ------------------------------------------------------- */

static int recover(struct spool_writer *w, char *err, size_t errsz)
{
	struct spool_reader *r = NULL;
	char rerr[300];
	int rc = spool_reader_open(w->dir, w->report, w->rarg, &r, rerr,
				   sizeof rerr);
	if (rc < 0)
		return spool_errf(err, errsz, rc, "%s", rerr);
	const struct spool_reader_info *in = spool_reader_info(r);
	snprintf(w->max_qid, sizeof w->max_qid, "%s", spool_reader_max_qid(r));
	w->seg = in->last_seg;
	if (in->segments > 0 && in->last.tail) {
		char path[4096];
		spool_file_path(path, sizeof path, w->dir, "seg", in->last_seg);
		int fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || ftruncate(fd, (off_t)in->last.valid_end) != 0 ||
		    fsync(fd) != 0) {
			rc = spool_errf(err, errsz, -errno, "%s: cannot cut the torn "
				  "tail: %s", path, strerror(errno));
			if (fd >= 0)
				close(fd);
			spool_reader_free(r);
			return rc;
		}
		close(fd);
		wreport(w, path, in->last.valid_end, "torn tail of %" PRIu64
			" bytes cut (a write interrupted by a crash; no record "
			"in it was ever reported durable)",
			in->last.size - in->last.valid_end);
	}
	spool_reader_free(r);
	return 0;
}

int spool_writer_start(const struct spool_writer_config *cfg,
		       struct spool_writer **out, char *err, size_t errsz)
{
	struct spool_writer *w;
	char path[4096];
	int rc;

	*out = NULL;
	if (cfg->dir == NULL || cfg->dir[0] == '\0')
		return spool_errf(err, errsz, -EINVAL, "spool: no directory given");
	w = calloc(1, sizeof(*w));
	if (w == NULL)
		return spool_errf(err, errsz, -ENOMEM, "out of memory");
	w->fd = -1;
	w->lock_fd = -1;
	w->dir = strdup(cfg->dir);
	w->group_ns = (uint64_t)cfg->group_commit_us * 1000u;
	w->group_bytes = cfg->group_commit_bytes ? cfg->group_commit_bytes
						 : DEF_GROUP_BYTES;
	w->segment_size = cfg->segment_size ? cfg->segment_size : DEF_SEGMENT;
	w->floor = cfg->free_space_floor;
	w->queue_max = cfg->queue_max ? cfg->queue_max : DEF_QUEUE;
	w->queue_bytes_max = cfg->queue_bytes_max ? cfg->queue_bytes_max
						  : DEF_QUEUE_BYTES;
	w->ops = cfg->ops ? cfg->ops : &spool_io_posix;
	w->ops_ctx = cfg->ops_ctx;
	w->report = cfg->report;
	w->rarg = cfg->report_arg;
	__cds_wfcq_init(&w->head, &w->tail);
	__cds_wfcq_init(&w->lhead, &w->ltail);
	atomic_store(&w->space_ok, true);
	w->batch = calloc(w->queue_max, sizeof(*w->batch));
	w->iov = calloc(w->queue_max + 1, sizeof(*w->iov));
	w->abort_cap = (size_t)w->queue_max * 128;
	w->abort_buf = malloc(w->abort_cap);
	if (w->dir == NULL || w->batch == NULL || w->iov == NULL ||
	    w->abort_buf == NULL) {
		rc = spool_errf(err, errsz, -ENOMEM, "out of memory");
		goto fail;
	}
	if (mkdir(w->dir, 0750) != 0 && errno != EEXIST) {
		rc = spool_errf(err, errsz, -errno, "%s: cannot create the spool "
			  "directory: %s; create it (owned by the gateway's "
			  "user) or set spool.dir", w->dir, strerror(errno));
		goto fail;
	}
	snprintf(path, sizeof path, "%s/writer.lock", w->dir);
	w->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	if (w->lock_fd < 0) {
		rc = spool_errf(err, errsz, -errno, "%s: %s; the spool directory "
			  "must be writable by the gateway", path,
			  strerror(errno));
		goto fail;
	}
	if (flock(w->lock_fd, LOCK_EX | LOCK_NB) != 0) {
		rc = spool_errf(err, errsz, errno == EWOULDBLOCK ? -EBUSY : -errno,
			  "%s: another writer (a running sluiced?) holds this "
			  "spool; stop it or use another spool.dir", w->dir);
		goto fail;
	}
	if ((rc = recover(w, err, errsz)) < 0)
		goto fail;
	if ((rc = open_segment(w, err, errsz)) < 0)
		goto fail;
	check_space(w);
	if ((rc = pthread_create(&w->thread, NULL, writer_main, w)) != 0) {
		rc = spool_errf(err, errsz, -rc, "cannot start the writer thread: %s",
			  strerror(rc));
		goto fail;
	}
	w->thread_started = true;
	*out = w;
	return 0;
fail:
	spool_writer_stop(w);
	return rc;
}

void spool_writer_stop(struct spool_writer *w)
{
	if (w == NULL)
		return;
	if (w->thread_started) {
		atomic_store(&w->stopping, 1);
		atomic_fetch_add(&w->wake, 1);
		futex_wake(&w->wake);
		pthread_join(w->thread, NULL);
	}
	if (w->fd >= 0) {
		close(w->fd);
		/* A segment nothing was written to: do not leave it behind
		 * (each start opens a new one). */
		char path[4096];
		if (w->seg_size == 0 && spool_file_path(path, sizeof path,
							w->dir, "seg",
							w->seg) == 0)
			unlink(path);
	}
	if (w->lock_fd >= 0)
		close(w->lock_fd);
	free(w->batch);
	free(w->iov);
	free(w->abort_buf);
	free(w->dir);
	free(w);
}

void spool_req_init(struct spool_req *req, const void *rec, size_t len,
		    void (*done)(struct spool_req *, int), void *arg)
{
	req->rec = rec;
	req->len = len;
	req->done = done;
	req->arg = arg;
	req->seg = 0;
	req->off = 0;
	atomic_store_explicit(&req->status_, -EINPROGRESS,
			      memory_order_relaxed);
	cds_wfcq_node_init(&req->node_);
}

int spool_writer_submit(struct spool_writer *w, struct spool_req *req)
{
	if (req->len == 0 || req->len > SPOOL_REC_MAX)
		return -EINVAL;
	/* Count first, then look at stopping: stop() waits for the count. */
	unsigned n = atomic_fetch_add(&w->inflight, 1);
	if (atomic_load(&w->stopping)) {
		atomic_fetch_sub(&w->inflight, 1);
		return -ESHUTDOWN;
	}
	if (!atomic_load_explicit(&w->space_ok, memory_order_relaxed)) {
		atomic_fetch_sub(&w->inflight, 1);
		return -ENOSPC;
	}
	size_t b = atomic_fetch_add_explicit(&w->inflight_bytes, req->len,
					     memory_order_relaxed);
	if (n >= w->queue_max || (n > 0 && b + req->len > w->queue_bytes_max)) {
		atomic_fetch_sub_explicit(&w->inflight_bytes, req->len,
					  memory_order_relaxed);
		atomic_fetch_sub(&w->inflight, 1);
		return -EAGAIN;
	}
	atomic_store_explicit(&req->status_, -EINPROGRESS,
			      memory_order_relaxed);
	cds_wfcq_node_init(&req->node_);
	cds_wfcq_enqueue(&w->head, &w->tail, &req->node_); /* full barrier */
	if (atomic_load(&w->sleeping)) {
		atomic_fetch_add(&w->wake, 1);
		futex_wake(&w->wake);
	}
	return 0;
}

int spool_req_status(const struct spool_req *req)
{
	return atomic_load_explicit(&req->status_, memory_order_acquire);
}

bool spool_writer_space_ok(const struct spool_writer *w)
{
	return atomic_load_explicit(&w->space_ok, memory_order_relaxed);
}

const char *spool_writer_max_qid(const struct spool_writer *w)
{
	return w->max_qid;
}

void spool_writer_stats(const struct spool_writer *w,
			struct spool_writer_stats *o)
{
	o->records = atomic_load_explicit(&w->n_records, memory_order_relaxed);
	o->batches = atomic_load_explicit(&w->n_batches, memory_order_relaxed);
	o->bytes = atomic_load_explicit(&w->n_bytes, memory_order_relaxed);
	o->fsyncs = atomic_load_explicit(&w->n_fsyncs, memory_order_relaxed);
	o->errors = atomic_load_explicit(&w->n_errors, memory_order_relaxed);
	o->segments = atomic_load_explicit(&w->n_segments,
					   memory_order_relaxed);
	o->seg = atomic_load_explicit(&w->n_seg, memory_order_relaxed);
	o->max_batch = atomic_load_explicit(&w->n_max_batch,
					    memory_order_relaxed);
}
