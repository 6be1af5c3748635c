/*
 * tests/integration/durability/faultfs.c - an LD_PRELOAD shim that makes
 * the spool's segment writes or syncs fail with EIO on demand, for the
 * durability-fsync-error check when device-mapper (dm-flakey, dm-error)
 * is not available.
 *
 * Environment (read at every call, so nothing is cached across a test):
 *   FAULTFS_DIR      the spool directory; only files named
 *                    <FAULTFS_DIR>/seg-*.spool are affected
 *   FAULTFS_TRIGGER  a file; while it exists and holds "fdatasync",
 *                    "writev" or "all", that operation fails with EIO
 *   FAULTFS_LOG      optional: one line per operation on a segment file,
 *                    "<op> <path> ok|EIO"
 * Intercepted: writev, pwrite and pwrite64 (trigger "writev"), fdatasync
 * and fsync (trigger "fdatasync"). Every other file, socket and pipe goes
 * straight to libc. Test-only: never installed.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

/* Is fd a segment file of FAULTFS_DIR? Its path goes to path[]. */
static bool is_segment(int fd, char *path, size_t sz)
{
	const char *dir = getenv("FAULTFS_DIR");
	char link[64];
	if (dir == NULL || dir[0] == '\0')
		return false;
	snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, path, sz - 1);
	if (n <= 0)
		return false;
	path[n] = '\0';
	size_t dl = strlen(dir);
	if (strncmp(path, dir, dl) != 0 || path[dl] != '/')
		return false;
	const char *base = path + dl + 1;
	size_t bl = strlen(base);
	return strncmp(base, "seg-", 4) == 0 && bl > 10 &&
	       strcmp(base + bl - 6, ".spool") == 0 &&
	       strchr(base, '/') == NULL;
}

/* Does the trigger ask op to fail? */
static bool triggered(const char *op)
{
	const char *t = getenv("FAULTFS_TRIGGER");
	char buf[32] = "";
	if (t == NULL)
		return false;
	int fd = open(t, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n < 0)
		return false;
	buf[n] = '\0';
	buf[strcspn(buf, " \r\n")] = '\0';
	return strcmp(buf, "all") == 0 || strcmp(buf, op) == 0;
}

static void note(const char *op, const char *path, bool failed)
{
	const char *l = getenv("FAULTFS_LOG");
	char line[4200];
	if (l == NULL)
		return;
	int fd = open(l, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	int n = snprintf(line, sizeof line, "%s %s %s\n", op, path,
			 failed ? "EIO" : "ok");
	if (n > 0 && (size_t)n < sizeof line && write(fd, line, (size_t)n) < 0)
		n = 0; /* the log is best effort */
	close(fd);
}

/* 1: fail this call with EIO; 0: pass it on. */
static int decide(int fd, const char *op)
{
	char path[4096];
	if (!is_segment(fd, path, sizeof path))
		return 0;
	bool fail = triggered(op);
	note(op, path, fail);
	return fail;
}

typedef ssize_t (*writev_fn)(int, const struct iovec *, int);
typedef ssize_t (*pwrite_fn)(int, const void *, size_t, off_t);
typedef int (*sync_fn)(int);

ssize_t writev(int fd, const struct iovec *iov, int iovcnt)
{
	static writev_fn real_;
	if (real_ == NULL)
		real_ = (writev_fn)dlsym(RTLD_NEXT, "writev");
	if (decide(fd, "writev")) {
		errno = EIO;
		return -1;
	}
	return real_(fd, iov, iovcnt);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
	static pwrite_fn real_;
	if (real_ == NULL)
		real_ = (pwrite_fn)dlsym(RTLD_NEXT, "pwrite");
	if (decide(fd, "writev")) {
		errno = EIO;
		return -1;
	}
	return real_(fd, buf, n, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off64_t off)
{
	static pwrite_fn real_;
	if (real_ == NULL)
		real_ = (pwrite_fn)dlsym(RTLD_NEXT, "pwrite64");
	if (decide(fd, "writev")) {
		errno = EIO;
		return -1;
	}
	return real_(fd, buf, n, (off_t)off);
}

int fdatasync(int fd)
{
	static sync_fn real_;
	if (real_ == NULL)
		real_ = (sync_fn)dlsym(RTLD_NEXT, "fdatasync");
	if (decide(fd, "fdatasync")) {
		errno = EIO;
		return -1;
	}
	return real_(fd);
}

int fsync(int fd)
{
	static sync_fn real_;
	if (real_ == NULL)
		real_ = (sync_fn)dlsym(RTLD_NEXT, "fsync");
	if (decide(fd, "fdatasync")) {
		errno = EIO;
		return -1;
	}
	return real_(fd);
}
