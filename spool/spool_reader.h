/*
 * spool/spool_reader.h - reading a spool directory: segment scanning,
 * recovery, the queue-id index, and done marks.
 *
 * A spool directory holds
 *   seg-<16 hex>.spool   message records, appended by the one writer
 *                        (spool_writer.h), numbered in write order;
 *   done-<16 hex>.spool  done records appended by spool_mark_done()
 *                        (the control plane, sluice-spool mark-done),
 *                        under an flock on the file.
 * Records are self-delimiting (spool_rec.h). Scanning a file yields every
 * complete record whose CRC checks; a damaged region in the middle is
 * reported with file and offset and skipped up to the next valid record
 * (found by its magic, length and CRC); bytes after the last valid record
 * that do not form one are the tail: after a crash the torn end of the
 * last write (spool_writer_start truncates it), or a write in progress
 * when the writer is running. Scanning reads through a 64 KiB buffer: its
 * memory does not depend on the data.
 *
 * Reports go to a callback as (file, offset, text): file is the path of
 * the file concerned (the spool directory for what concerns no one file),
 * never NULL; a NULL callback ignores them.
 *
 * Thread-safety: a spool_reader is immutable after open; read it from any
 * number of threads. Several readers may run beside a live writer.
 */
#ifndef SLUICE_SPOOL_SPOOL_READER_H
#define SLUICE_SPOOL_SPOOL_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "spool/spool_rec.h"

typedef void (*spool_report_fn)(void *arg, const char *file, uint64_t off,
				const char *what);

/* What scanning one file found. */
struct spool_seg_info {
	uint64_t size;         /* file size when scanned */
	uint64_t records;      /* CRC-valid records */
	uint64_t valid_end;    /* end of the last valid record (0: none) */
	uint64_t damaged;      /* damaged regions skipped before valid_end */
	bool tail;             /* bytes after valid_end that form no record */
};

/* Called for every CRC-valid record of a file: its offset and length,
 * framing, and its first min(len, 64) bytes. Return 0 to go on, a
 * negative errno to stop the scan with that error. */
typedef int (*spool_rec_fn)(void *arg, uint64_t off, uint32_t len,
			    unsigned type, unsigned version,
			    const uint8_t *head, size_t headlen);

/* Scan the open file fd (path is for reports). 0 with *info filled, or
 * a negative errno (read error, or what on_rec returned). */
int spool_seg_scan(int fd, const char *path, spool_rec_fn on_rec, void *arg,
		   spool_report_fn report, void *rarg,
		   struct spool_seg_info *info);

/* "<dir>/<kind>-<16 hex>.spool" (kind "seg" or "done") into buf; -ENAMETOOLONG
 * when it does not fit. */
int spool_file_path(char *buf, size_t sz, const char *dir, const char *kind,
		    uint64_t n);

/* Numbers of the files of one kind in dir, ascending, into a malloc'd
 * array (*out, caller frees; NULL when none). Other names are ignored.
 * Returns the count or a negative errno (opendir). */
ssize_t spool_list_files(const char *dir, const char *kind, uint64_t **out);

/* --- The index --------------------------------------------------------- */

struct spool_entry {
	char qid[SPOOL_QID_LEN + 1];
	const char *file;  /* segment path (borrowed from the reader) */
	uint64_t off;
	uint32_t len;
	bool done;
	uint64_t done_us;  /* when done (first mark) */
};

struct spool_reader_info {
	unsigned segments, done_files;
	uint64_t last_seg;        /* number of the last seg file; 0: none */
	uint64_t messages;        /* indexed (distinct queue ids) */
	uint64_t done;            /* of which marked done */
	uint64_t damaged;         /* damaged regions, all files */
	uint64_t duplicates;      /* message records for a queue id seen
				     before (kept: the first) */
	uint64_t unknown_version; /* valid records of a newer version */
	struct spool_seg_info last; /* the last seg file */
};

struct spool_reader;

/* Scan every seg-* then done-* file of dir in order and build the index.
 * Errors: -ENOENT (no such directory), -ENOTDIR, -EACCES, -EIO, -ENOMEM,
 * each with one line in err saying what to do. */
int spool_reader_open(const char *dir, spool_report_fn report, void *rarg,
		      struct spool_reader **out, char *err, size_t errsz);
void spool_reader_free(struct spool_reader *r); /* accepts NULL */

const struct spool_reader_info *spool_reader_info(const struct spool_reader *r);
/* Messages in queue-id order (= time order): i < info->messages. */
const struct spool_entry *spool_reader_at(const struct spool_reader *r,
					  size_t i);
/* Entry of qid, or NULL. */
const struct spool_entry *spool_reader_find(const struct spool_reader *r,
					    const char *qid);
/* The newest queue id in the spool ("" when empty): the floor for
 * spool_qid_gen_init(). */
const char *spool_reader_max_qid(const struct spool_reader *r);

/* Read and parse e's record. On success *buf (caller frees) holds the
 * bytes rec borrows from: spool_rec_clear(rec) then free(*buf). Errors:
 * -EIO (read, file shorter now), -EBADMSG/-EINVAL/-EPROTONOSUPPORT as
 * spool_rec_parse, -ENOMEM; err says which. */
int spool_reader_load(const struct spool_reader *r,
		      const struct spool_entry *e, struct spool_rec *rec,
		      uint8_t **buf, char *err, size_t errsz);

/* --- Done marks -------------------------------------------------------- */

/* Append a done record for qid to the newest done-* file of dir (created
 * as done-0000000000000001.spool when none), under an exclusive flock,
 * after cutting a torn tail of that file; fdatasync (and fsync of dir
 * for a new file) before returning 0. Does not check that qid is in the
 * spool (the caller does, with a reader). Errors: -EINVAL (bad qid),
 * I/O errors as negative errno, err saying what to do. */
int spool_mark_done(const char *dir, const char *qid, uint64_t done_us,
		    const char *reason, char *err, size_t errsz);

#endif
