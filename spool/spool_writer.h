/*
 * spool/spool_writer.h - the group-commit spool writer: the promise point.
 *
 * One writer per spool directory (an flock on <dir>/writer.lock says so),
 * running its own thread. Producers (scan lcores, any thread) encode a
 * record (spool_rec.h) into a buffer they own, wrap it in a struct
 * spool_req and submit it: a wait-free enqueue on a liburcu wfcqueue,
 * never a lock, a syscall only when the writer thread sleeps (one futex
 * wake). The writer takes everything that arrived within the group window
 * (group_commit_us after the first record of a batch, or sooner when
 * group_commit_bytes are waiting), writes it with writev at the end of
 * the current segment, calls fdatasync once, and only then completes each
 * request of the batch: status 0 = on stable storage; the 250 may go.
 *
 * Failure policy: a write or fdatasync error completes every request of
 * that batch with the error (the session answers 451) and the file is
 * never written, synced or truncated again: the next batch goes to a new
 * segment (after an fsync error the page cache no longer tells what is on
 * disk; retrying fsync on the same file would report success for lost
 * data). The messages of a failed batch get done records ("aborted")
 * ahead of the next successful batch, in case their bytes did reach the
 * disk (or, when no batch follows, when the writer stops). Segments
 * rotate before a batch would take them past
 * segment_size. Below free_space_floor bytes free on the filesystem
 * (statvfs after every batch and every 100 ms), submit refuses with
 * -ENOSPC and spool_writer_space_ok() is false, so MAIL FROM can say 452
 * before any data is accepted.
 *
 * Start-up recovery: spool_writer_start() scans the directory
 * (spool_reader.h), cuts a torn tail off the last segment (reported), and
 * writes to a new segment numbered after the last one.
 *
 * All file writes and syncs go through struct spool_io_ops, so tests can
 * inject errors, short writes and a full disk.
 */
#ifndef SLUICE_SPOOL_SPOOL_WRITER_H
#define SLUICE_SPOOL_SPOOL_WRITER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <urcu/wfcqueue.h>

#include "spool/spool_reader.h"

/* I/O operations; each returns >= 0 or a negative errno. */
struct spool_io_ops {
	ssize_t (*writev)(void *ctx, int fd, const struct iovec *iov,
			  int iovcnt);
	int (*fdatasync)(void *ctx, int fd);
	/* Bytes available to the writer on the filesystem of dir. */
	int (*free_bytes)(void *ctx, const char *dir, uint64_t *out);
};

/* The real thing: writev, fdatasync, statvfs (f_bavail * f_frsize). */
extern const struct spool_io_ops spool_io_posix;

struct spool_writer_config {
	const char *dir;             /* created (one level) if missing */
	uint32_t group_commit_us;    /* window; 0: write what is there */
	size_t group_commit_bytes;   /* 0: 8 MiB */
	uint64_t segment_size;       /* 0: 256 MiB */
	uint64_t free_space_floor;   /* 0: no floor */
	unsigned queue_max;          /* requests in flight; 0: 4096 */
	size_t queue_bytes_max;      /* bytes in flight; 0: 512 MiB */
	const struct spool_io_ops *ops; /* NULL: spool_io_posix */
	void *ops_ctx;
	spool_report_fn report;      /* recovery and I/O error reports */
	void *report_arg;
};

/* One record on its way to disk. The producer owns it and the record
 * bytes it points to until completion. Fill with spool_req_init(). */
struct spool_req {
	const void *rec;             /* an encoded record (borrowed) */
	size_t len;
	/* NULL: poll with spool_req_status(). Else called once on the
	 * writer thread at completion (keep it short: e.g. push to the
	 * producer's reply ring); the writer does not touch the request
	 * after the call, so the callback may reuse or free it. */
	void (*done)(struct spool_req *req, int status);
	void *arg;                   /* the producer's */
	/* Set by the writer before completion. */
	uint64_t seg;                /* segment number it went to */
	uint64_t off;                /* offset in that segment */
	/* Private. */
	_Atomic int status_;
	struct cds_wfcq_node node_;
};

struct spool_writer_stats {
	uint64_t records, batches, bytes, fsyncs, errors, segments;
	uint64_t seg; /* current segment number */
	uint64_t max_batch;
};

struct spool_writer;

/* Recover the directory and start the writer thread. Errors with one
 * line in err: -EBUSY (another writer holds the directory), -EACCES,
 * -ENOENT..., from creating, scanning, truncating or opening; -ENOMEM;
 * -EINVAL (bad config). */
int spool_writer_start(const struct spool_writer_config *cfg,
		       struct spool_writer **out, char *err, size_t errsz);

/* Write and complete everything submitted so far, stop the thread, close
 * and free. Submits after (or racing with) stop get -ESHUTDOWN. Accepts
 * NULL. Call from one thread, after producers stopped submitting. */
void spool_writer_stop(struct spool_writer *w);

/* Prepare req for rec[0..len) (a record from spool_enc_message or
 * spool_rec_encode_done). */
void spool_req_init(struct spool_req *req, const void *rec, size_t len,
		    void (*done)(struct spool_req *, int), void *arg);

/* Hand req to the writer. Never blocks; thread-safe (any number of
 * producers). 0: queued, completion follows exactly once. Errors (req
 * not queued, not completed): -EAGAIN (queue_max or queue_bytes_max in
 * flight: try later / answer 451), -ENOSPC (below the free-space floor),
 * -ESHUTDOWN (stopping), -EINVAL (len 0 or above SPOOL_REC_MAX). */
int spool_writer_submit(struct spool_writer *w, struct spool_req *req);

/* -EINPROGRESS until the writer completed req, then 0 (durable) or the
 * negative errno of the failed write/fdatasync (-EIO, -ENOSPC, ...).
 * Acquire ordering: after a final status, seg/off are valid. */
int spool_req_status(const struct spool_req *req);

/* Free space above the floor (as of the last check). Any thread. */
bool spool_writer_space_ok(const struct spool_writer *w);

/* The newest queue id in the spool at start ("" when empty): the floor
 * for spool_qid_gen_init(). */
const char *spool_writer_max_qid(const struct spool_writer *w);

/* Counters (relaxed snapshot). Any thread. */
void spool_writer_stats(const struct spool_writer *w,
			struct spool_writer_stats *out);

#endif
