/*
 * spool/spool_reader.c - segment scanning, the index, done marks (see
 * spool_reader.h).
 */
#include "spool/spool_reader.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "spool/crc32c.h"

#define SCAN_BUF (64u * 1024u)
#define HEAD_MAX 64

static void report(spool_report_fn fn, void *arg, const char *file,
		   uint64_t off, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static void report(spool_report_fn fn, void *arg, const char *file,
		   uint64_t off, const char *fmt, ...)
{
	char text[256];
	va_list ap;
	if (fn == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	fn(arg, file, off, text);
}

/* pread all of n bytes; 0, or -EIO/-errno, or -ENODATA when the file is
 * shorter. */
static int pread_full(int fd, void *buf, size_t n, uint64_t off)
{
	uint8_t *p = buf;
	while (n > 0) {
		ssize_t r = pread(fd, p, n, (off_t)off);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			return -ENODATA;
		p += r;
		n -= (size_t)r;
		off += (uint64_t)r;
	}
	return 0;
}

/* Is there a CRC-valid record at off? 1 yes (framing out), 0 no, <0 error. */
static int valid_at(int fd, uint64_t off, uint64_t size, uint8_t *buf,
		    unsigned *type, unsigned *version, uint32_t *len)
{
	if (size - off < SPOOL_REC_MIN)
		return 0;
	int rc = pread_full(fd, buf, SPOOL_REC_HDR, off);
	if (rc < 0)
		return rc == -ENODATA ? 0 : rc;
	if (spool_rec_frame(buf, SPOOL_REC_HDR, type, version, len) != 0 ||
	    *len > size - off)
		return 0;
	uint32_t want = (uint32_t)buf[4] | (uint32_t)buf[5] << 8 |
			(uint32_t)buf[6] << 16 | (uint32_t)buf[7] << 24;
	uint32_t crc = spool_crc32c(0, buf + 8, SPOOL_REC_HDR - 8);
	uint64_t p = off + SPOOL_REC_HDR, end = off + *len;
	while (p < end) {
		size_t n = end - p < SCAN_BUF ? (size_t)(end - p) : SCAN_BUF;
		rc = pread_full(fd, buf, n, p);
		if (rc < 0)
			return rc == -ENODATA ? 0 : rc;
		crc = spool_crc32c(crc, buf, n);
		p += n;
	}
	return crc == want;
}

/* The next offset > from holding a valid record, or size. */
static int64_t resync(int fd, uint64_t from, uint64_t size, uint8_t *buf,
		      uint8_t *buf2)
{
	static const uint8_t magic[4] = {'S', 'L', 'S', 'P'};
	uint64_t p = from;
	while (p + SPOOL_REC_MIN <= size) {
		size_t n = size - p < SCAN_BUF ? (size_t)(size - p) : SCAN_BUF;
		int rc = pread_full(fd, buf, n, p);
		if (rc < 0)
			return rc == -ENODATA ? (int64_t)size : rc;
		for (size_t i = 0; i + 4 <= n; i++) {
			if (memcmp(buf + i, magic, 4) != 0)
				continue;
			unsigned t, v;
			uint32_t l;
			rc = valid_at(fd, p + i, size, buf2, &t, &v, &l);
			if (rc < 0)
				return rc;
			if (rc == 1)
				return (int64_t)(p + i);
		}
		if (n < 4)
			break;
		p += n - 3; /* a magic may straddle the chunk edge */
	}
	return (int64_t)size;
}

int spool_seg_scan(int fd, const char *path, spool_rec_fn on_rec, void *arg,
		   spool_report_fn rep, void *rarg, struct spool_seg_info *info)
{
	struct stat st;
	uint8_t *buf = NULL, *buf2 = NULL;
	int rc = 0;

	memset(info, 0, sizeof(*info));
	if (fstat(fd, &st) != 0)
		return -errno;
	info->size = (uint64_t)st.st_size;
	buf = malloc(SCAN_BUF);
	buf2 = malloc(SCAN_BUF);
	if (buf == NULL || buf2 == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	uint64_t off = 0, size = info->size;
	while (off < size) {
		unsigned type, version;
		uint32_t len;
		rc = valid_at(fd, off, size, buf2, &type, &version, &len);
		if (rc < 0)
			goto out;
		if (rc == 1) {
			uint8_t head[HEAD_MAX];
			size_t hl = len < HEAD_MAX ? len : HEAD_MAX;
			if ((rc = pread_full(fd, head, hl, off)) < 0)
				goto out;
			info->records++;
			if (on_rec != NULL &&
			    (rc = on_rec(arg, off, len, type, version, head,
					 hl)) < 0)
				goto out;
			off += len;
			info->valid_end = off;
			continue;
		}
		int64_t next = resync(fd, off + 1, size, buf, buf2);
		if (next < 0) {
			rc = (int)next;
			goto out;
		}
		if ((uint64_t)next >= size) {
			info->tail = true;
			report(rep, rarg, path, off, "%" PRIu64 " bytes at the "
			       "end form no complete record (the torn end of "
			       "a write cut short, or one in progress)",
			       size - off);
			break;
		}
		info->damaged++;
		report(rep, rarg, path, off, "damaged region of %" PRIu64
		       " bytes skipped; records resume at offset %" PRId64,
		       (uint64_t)next - off, next);
		off = (uint64_t)next;
	}
	rc = 0;
out:
	free(buf);
	free(buf2);
	return rc;
}

int spool_file_path(char *buf, size_t sz, const char *dir, const char *kind,
		    uint64_t n)
{
	int w = snprintf(buf, sz, "%s/%s-%016" PRIx64 ".spool", dir, kind, n);
	return w < 0 || (size_t)w >= sz ? -ENAMETOOLONG : 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

ssize_t spool_list_files(const char *dir, const char *kind, uint64_t **out)
{
	DIR *d = opendir(dir);
	size_t n = 0, cap = 0, kl = strlen(kind);
	uint64_t *v = NULL;
	struct dirent *de;

	*out = NULL;
	if (d == NULL)
		return -errno;
	while ((de = readdir(d)) != NULL) {
		const char *s = de->d_name;
		if (strncmp(s, kind, kl) != 0 || s[kl] != '-' ||
		    strlen(s) != kl + 1 + 16 + 6 ||
		    strcmp(s + kl + 17, ".spool") != 0)
			continue;
		uint64_t num = 0;
		bool ok = true;
		for (int i = 0; i < 16; i++) {
			char c = s[kl + 1 + i];
			int dv = c >= '0' && c <= '9'   ? c - '0'
				 : c >= 'a' && c <= 'f' ? c - 'a' + 10
							: -1;
			if (dv < 0)
				ok = false;
			num = num << 4 | (uint64_t)(dv & 15);
		}
		if (!ok)
			continue;
		if (n == cap) {
			size_t nc = cap ? 2 * cap : 16;
			uint64_t *nv = realloc(v, nc * sizeof(*v));
			if (nv == NULL) {
				free(v);
				closedir(d);
				return -ENOMEM;
			}
			v = nv;
			cap = nc;
		}
		v[n++] = num;
	}
	closedir(d);
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_u64);
	*out = v;
	return (ssize_t)n;
}

/* ---- the index ---------------------------------------------------------- */

struct done_mark {
	char qid[SPOOL_QID_LEN + 1];
	uint64_t done_us;
};

struct spool_reader {
	char **files;
	size_t nfiles;
	struct spool_entry *ents;
	size_t nents, cap;
	struct done_mark *dones;
	size_t ndones, dcap;
	struct spool_reader_info info;
	spool_report_fn rep;
	void *rarg;
	const char *cur; /* file being scanned */
};

static int on_rec(void *arg, uint64_t off, uint32_t len, unsigned type,
		  unsigned version, const uint8_t *head, size_t hl)
{
	struct spool_reader *r = arg;
	char qid[SPOOL_QID_LEN + 1];

	if (version != SPOOL_REC_VERSION) {
		r->info.unknown_version++;
		report(r->rep, r->rarg, r->cur, off, "record version %u is "
		       "newer than this build reads (%d); skipped: use a "
		       "newer sluice-spool", version, SPOOL_REC_VERSION);
		return 0;
	}
	memcpy(qid, head + SPOOL_REC_HDR, SPOOL_QID_LEN);
	qid[SPOOL_QID_LEN] = '\0';
	if (hl < SPOOL_REC_MIN + 8 || spool_qid_check(qid) != 0 ||
	    (type != SPOOL_REC_MESSAGE && type != SPOOL_REC_DONE)) {
		report(r->rep, r->rarg, r->cur, off, "record with a valid CRC "
		       "but a bad queue id or type %u; skipped", type);
		r->info.damaged++;
		return 0;
	}
	if (type == SPOOL_REC_DONE) {
		if (r->ndones == r->dcap) {
			size_t nc = r->dcap ? 2 * r->dcap : 64;
			void *nv = realloc(r->dones, nc * sizeof(*r->dones));
			if (nv == NULL)
				return -ENOMEM;
			r->dones = nv;
			r->dcap = nc;
		}
		struct done_mark *d = &r->dones[r->ndones++];
		memcpy(d->qid, qid, sizeof qid);
		const uint8_t *t = head + SPOOL_REC_MIN;
		d->done_us = 0;
		for (int i = 7; i >= 0; i--)
			d->done_us = d->done_us << 8 | t[i];
		return 0;
	}
	if (r->nents == r->cap) {
		size_t nc = r->cap ? 2 * r->cap : 256;
		void *nv = realloc(r->ents, nc * sizeof(*r->ents));
		if (nv == NULL)
			return -ENOMEM;
		r->ents = nv;
		r->cap = nc;
	}
	struct spool_entry *e = &r->ents[r->nents++];
	memset(e, 0, sizeof(*e));
	memcpy(e->qid, qid, sizeof qid);
	e->file = r->cur;
	e->off = off;
	e->len = len;
	return 0;
}

/* By queue id, then scan order (done_us holds the scan sequence while
 * sorting, so the first record written of a duplicated id wins). */
static int cmp_ent(const void *a, const void *b)
{
	const struct spool_entry *x = a, *y = b;
	int c = strcmp(x->qid, y->qid);
	if (c != 0)
		return c;
	return x->done_us < y->done_us ? -1 : x->done_us > y->done_us;
}

static int scan_kind(struct spool_reader *r, const char *dir,
		     const char *kind, char *err, size_t errsz)
{
	uint64_t *nums = NULL;
	ssize_t n = spool_list_files(dir, kind, &nums);
	int rc = 0;

	if (n < 0) {
		if (n == -ENOENT)
			return spool_errf(err, errsz, (int)n, "%s: no such spool "
				   "directory; give the right one with "
				   "--spool DIR or spool.dir in the "
				   "configuration", dir);
		return spool_errf(err, errsz, (int)n, "%s: cannot read the "
			   "directory: %s", dir, strerror((int)-n));
	}
	char **nf = realloc(r->files, (r->nfiles + (size_t)n + 1) *
					      sizeof(*r->files));
	if (nf == NULL) {
		free(nums);
		return spool_errf(err, errsz, -ENOMEM, "out of memory");
	}
	r->files = nf;
	for (ssize_t i = 0; i < n; i++) {
		char path[4096];
		struct spool_seg_info si;
		if (spool_file_path(path, sizeof path, dir, kind, nums[i]) != 0 ||
		    (r->files[r->nfiles] = strdup(path)) == NULL) {
			rc = spool_errf(err, errsz, -ENOMEM, "out of memory or path "
				 "too long");
			break;
		}
		r->cur = r->files[r->nfiles++];
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			rc = spool_errf(err, errsz, -errno, "%s: %s", path,
				 strerror(errno));
			break;
		}
		size_t before = r->nents;
		rc = spool_seg_scan(fd, path, on_rec, r, r->rep, r->rarg, &si);
		close(fd);
		if (rc < 0) {
			spool_errf(err, errsz, rc, "%s: %s", path, strerror(-rc));
			break;
		}
		/* Scan sequence for a stable sort (see cmp_ent). */
		for (size_t k = before; k < r->nents; k++)
			r->ents[k].done_us = k;
		r->info.damaged += si.damaged;
		if (strcmp(kind, "seg") == 0) {
			r->info.segments++;
			r->info.last_seg = nums[i];
			r->info.last = si;
		} else {
			r->info.done_files++;
		}
	}
	free(nums);
	return rc;
}

static int cmp_done(const void *a, const void *b)
{
	const struct done_mark *x = a, *y = b;
	return strcmp(x->qid, y->qid);
}

int spool_reader_open(const char *dir, spool_report_fn rep, void *rarg,
		      struct spool_reader **out, char *err, size_t errsz)
{
	struct spool_reader *r = calloc(1, sizeof(*r));
	struct stat st;
	int rc;

	*out = NULL;
	if (r == NULL)
		return spool_errf(err, errsz, -ENOMEM, "out of memory");
	r->rep = rep;
	r->rarg = rarg;
	if (stat(dir, &st) != 0) {
		rc = -errno;
		if (rc == -ENOENT)
			spool_errf(err, errsz, rc, "%s: no such spool directory; give "
			    "the right one with --spool DIR or spool.dir in "
			    "the configuration", dir);
		else
			spool_errf(err, errsz, rc, "%s: %s", dir, strerror(-rc));
		goto fail;
	}
	if (!S_ISDIR(st.st_mode)) {
		rc = spool_errf(err, errsz, -ENOTDIR, "%s: not a directory; the spool "
			 "is a directory of seg-*.spool files", dir);
		goto fail;
	}
	if ((rc = scan_kind(r, dir, "seg", err, errsz)) < 0 ||
	    (rc = scan_kind(r, dir, "done", err, errsz)) < 0)
		goto fail;
	/* Index: sort, drop duplicates (keep the first written). */
	if (r->nents > 1)
		qsort(r->ents, r->nents, sizeof(*r->ents), cmp_ent);
	size_t w = 0;
	for (size_t i = 0; i < r->nents; i++) {
		if (w > 0 && strcmp(r->ents[w - 1].qid, r->ents[i].qid) == 0) {
			r->info.duplicates++;
			report(rep, rarg, r->ents[i].file, r->ents[i].off,
			       "queue id %s written again; the first copy "
			       "(%s offset %" PRIu64 ") is used",
			       r->ents[i].qid, r->ents[w - 1].file,
			       r->ents[w - 1].off);
			continue;
		}
		r->ents[w] = r->ents[i];
		r->ents[w].done_us = 0;
		w++;
	}
	r->nents = w;
	if (r->ndones > 1)
		qsort(r->dones, r->ndones, sizeof(*r->dones), cmp_done);
	for (size_t i = 0; i < r->ndones; i++) {
		struct spool_entry *e = (struct spool_entry *)
			spool_reader_find(r, r->dones[i].qid);
		if (e != NULL && !e->done) {
			e->done = true;
			e->done_us = r->dones[i].done_us;
			r->info.done++;
		}
	}
	r->info.messages = r->nents;
	*out = r;
	return 0;
fail:
	spool_reader_free(r);
	return rc;
}

void spool_reader_free(struct spool_reader *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->nfiles; i++)
		free(r->files[i]);
	free(r->files);
	free(r->ents);
	free(r->dones);
	free(r);
}

const struct spool_reader_info *spool_reader_info(const struct spool_reader *r)
{
	return &r->info;
}

const struct spool_entry *spool_reader_at(const struct spool_reader *r,
					  size_t i)
{
	return i < r->nents ? &r->ents[i] : NULL;
}

const struct spool_entry *spool_reader_find(const struct spool_reader *r,
					    const char *qid)
{
	size_t lo = 0, hi = r->nents;
	if (qid == NULL)
		return NULL;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(r->ents[mid].qid, qid);
		if (c == 0)
			return &r->ents[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const char *spool_reader_max_qid(const struct spool_reader *r)
{
	return r->nents ? r->ents[r->nents - 1].qid : "";
}

int spool_reader_load(const struct spool_reader *r,
		      const struct spool_entry *e, struct spool_rec *rec,
		      uint8_t **buf, char *err, size_t errsz)
{
	(void)r;
	*buf = NULL;
	memset(rec, 0, sizeof(*rec));
	int fd = open(e->file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return spool_errf(err, errsz, -errno, "%s: %s", e->file,
			   strerror(errno));
	uint8_t *b = malloc(e->len);
	if (b == NULL) {
		close(fd);
		return spool_errf(err, errsz, -ENOMEM, "out of memory");
	}
	int rc = pread_full(fd, b, e->len, e->off);
	close(fd);
	if (rc < 0) {
		free(b);
		return spool_errf(err, errsz, -EIO, "%s offset %" PRIu64 ": %s",
			   e->file, e->off,
			   rc == -ENODATA ? "file is shorter than when it was "
					    "scanned" : strerror(-rc));
	}
	char perr[200];
	rc = spool_rec_parse(b, e->len, rec, perr, sizeof perr);
	if (rc < 0) {
		free(b);
		return spool_errf(err, errsz, rc, "%s offset %" PRIu64 ": %s", e->file,
			   e->off, perr);
	}
	*buf = b;
	return 0;
}

/* ---- done marks --------------------------------------------------------- */

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int rc = fsync(fd) == 0 ? 0 : -errno;
	close(fd);
	return rc;
}

int spool_mark_done(const char *dir, const char *qid, uint64_t done_us,
		    const char *reason, char *err, size_t errsz)
{
	uint8_t rec[SPOOL_REC_MIN + 8 + 3 + 256];
	size_t len;
	char path[4096];
	uint64_t *nums = NULL;
	char rs[256];
	int rc, fd = -1;
	bool created = false;

	snprintf(rs, sizeof rs, "%s", reason ? reason : "");
	if (spool_qid_check(qid) != 0)
		return spool_errf(err, errsz, -EINVAL, "'%s' is not a queue id (16 "
			   "characters of 0-9 A-Z; see sluice-spool list)",
			   qid);
	if ((rc = spool_rec_encode_done(qid, done_us, rs, rec, sizeof rec,
					&len)) < 0)
		return spool_errf(err, errsz, rc, "cannot encode the done record");
	ssize_t n = spool_list_files(dir, "done", &nums);
	if (n < 0)
		return spool_errf(err, errsz, (int)n, "%s: %s", dir, strerror((int)-n));
	uint64_t num = n > 0 ? nums[n - 1] : 1;
	free(nums);
	if (spool_file_path(path, sizeof path, dir, "done", num) != 0)
		return spool_errf(err, errsz, -ENAMETOOLONG, "%s: path too long", dir);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
		created = true;
	}
	if (fd < 0)
		return spool_errf(err, errsz, -errno, "%s: %s; check the spool "
			   "directory's owner and permissions", path,
			   strerror(errno));
	if (flock(fd, LOCK_EX) != 0) {
		rc = spool_errf(err, errsz, -errno, "%s: flock: %s", path,
			 strerror(errno));
		goto out;
	}
	/* Cut a torn tail (a mark-done killed mid-write) so the new record
	 * does not land behind garbage. */
	struct spool_seg_info si;
	if ((rc = spool_seg_scan(fd, path, NULL, NULL, NULL, NULL, &si)) < 0) {
		spool_errf(err, errsz, rc, "%s: %s", path, strerror(-rc));
		goto out;
	}
	if (si.tail && ftruncate(fd, (off_t)si.valid_end) != 0) {
		rc = spool_errf(err, errsz, -errno, "%s: ftruncate: %s", path,
			 strerror(errno));
		goto out;
	}
	uint64_t off = si.tail ? si.valid_end : si.size;
	size_t done = 0;
	while (done < len) {
		ssize_t w = pwrite(fd, rec + done, len - done,
				   (off_t)(off + done));
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			rc = spool_errf(err, errsz, w < 0 ? -errno : -EIO, "%s: write: "
				 "%s", path, w < 0 ? strerror(errno) : "short");
			goto out;
		}
		done += (size_t)w;
	}
	if (fdatasync(fd) != 0) {
		rc = spool_errf(err, errsz, -errno, "%s: fdatasync: %s; the mark may "
			 "not be durable, run mark-done again", path,
			 strerror(errno));
		goto out;
	}
	if (created && (rc = fsync_dir(dir)) < 0) {
		spool_errf(err, errsz, rc, "%s: fsync: %s", dir, strerror(-rc));
		goto out;
	}
	rc = 0;
out:
	close(fd); /* releases the lock */
	return rc;
}
