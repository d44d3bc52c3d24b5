// SPDX-License-Identifier: GPL-2.0-only OR Apache-2.0
/*
 * iotrace.c - an LD_PRELOAD shim for the unit tests: what mkfs.sharefs
 * does to its source files and to its image, as lines in $IOTRACE_LOG.
 *
 *   open PATH                       PATH starts with $IOTRACE_PREFIX
 *   close PATH read=N cfr=M         bytes read (read, pread) and bytes
 *                                   copied out by copy_file_range
 *   fsync PATH                      fsync or fdatasync of any descriptor
 *   rename OLD NEW
 *
 * $IOTRACE_MUTATE (paths separated by ':') makes a file change under
 * mkfs, deterministically: at every close of a traced descriptor of such a
 * path, the file's first byte is flipped, size unchanged.  A writer that
 * reads the file again after that stores bytes it did not hash.
 * $IOTRACE_SHRINK (same form) halves such a file's size when mkfs opens it:
 * a file that changed between the scan and the read.
 *
 * Each line is one write() to an O_APPEND file, so threads do not mix
 * lines.  Only calls made through the PLT are seen, which is all of
 * mkfs.sharefs's own I/O.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAXFD	65536

static struct traced {
	char *path;
	unsigned long long read, cfr;
} fds[MAXFD];

#define REAL(name)	static typeof(name) *real_##name; \
			if (!real_##name) real_##name = dlsym(RTLD_NEXT, #name)

static void logline(const char *fmt, ...)
{
	const char *log = getenv("IOTRACE_LOG");
	static int (*ropen)(const char *, int, ...);
	char line[8192];
	va_list ap;
	int fd, n;

	if (!log)
		return;
	if (!ropen)
		ropen = dlsym(RTLD_NEXT, "open");
	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0 || n >= (int)sizeof(line))
		return;
	fd = ropen(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	if (write(fd, line, (size_t)n) != n)
		abort();
	syscall(SYS_close, fd);	/* not through our close() */
}

static bool in_list(const char *list, const char *path)
{
	size_t len = strlen(path);

	while (list && *list) {
		const char *end = strchrnul(list, ':');

		if ((size_t)(end - list) == len && !strncmp(list, path, len))
			return true;
		list = *end ? end + 1 : end;
	}
	return false;
}

static void track(int fd, const char *path)
{
	const char *prefix = getenv("IOTRACE_PREFIX");
	struct stat st;

	if (fd < 0 || fd >= MAXFD || !prefix ||
	    strncmp(path, prefix, strlen(prefix)))
		return;
	if (in_list(getenv("IOTRACE_SHRINK"), path) && !stat(path, &st) &&
	    truncate(path, st.st_size / 2))
		abort();
	free(fds[fd].path);
	fds[fd].path = strdup(path);
	fds[fd].read = fds[fd].cfr = 0;
	logline("open %s\n", path);
}

static void mutate(const char *path)
{
	REAL(open);
	REAL(pread);
	REAL(pwrite);
	unsigned char c;
	int fd = real_open(path, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return;
	if (real_pread(fd, &c, 1, 0) == 1) {
		c ^= 0xff;
		if (real_pwrite(fd, &c, 1, 0) != 1)
			abort();
	}
	syscall(SYS_close, fd);
}

static void count(int fd, ssize_t n, bool cfr)
{
	if (fd < 0 || fd >= MAXFD || !fds[fd].path || n <= 0)
		return;
	__atomic_fetch_add(cfr ? &fds[fd].cfr : &fds[fd].read,
			   (unsigned long long)n, __ATOMIC_RELAXED);
}

int open(const char *path, int flags, ...)
{
	REAL(open);
	mode_t mode = 0;
	va_list ap;
	int fd;

	va_start(ap, flags);
	if ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE)
		mode = va_arg(ap, mode_t);
	va_end(ap);
	fd = real_open(path, flags, mode);
	track(fd, path);
	return fd;
}

int open64(const char *path, int flags, ...)
	__attribute__((alias("open")));

int openat(int dirfd, const char *path, int flags, ...)
{
	REAL(openat);
	mode_t mode = 0;
	va_list ap;
	int fd;

	va_start(ap, flags);
	if ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE)
		mode = va_arg(ap, mode_t);
	va_end(ap);
	fd = real_openat(dirfd, path, flags, mode);
	track(fd, path);
	return fd;
}

int close(int fd)
{
	REAL(close);
	char *path = NULL;

	if (fd >= 0 && fd < MAXFD && fds[fd].path) {
		path = fds[fd].path;
		fds[fd].path = NULL;
		logline("close %s read=%llu cfr=%llu\n", path, fds[fd].read,
			fds[fd].cfr);
	}
	if (path && in_list(getenv("IOTRACE_MUTATE"), path))
		mutate(path);
	free(path);
	return real_close(fd);
}

ssize_t read(int fd, void *buf, size_t len)
{
	REAL(read);
	ssize_t n = real_read(fd, buf, len);

	count(fd, n, false);
	return n;
}

ssize_t pread(int fd, void *buf, size_t len, off_t off)
{
	REAL(pread);
	ssize_t n = real_pread(fd, buf, len, off);

	count(fd, n, false);
	return n;
}

ssize_t pread64(int fd, void *buf, size_t len, off_t off)
	__attribute__((alias("pread")));

ssize_t copy_file_range(int in, loff_t *inoff, int out, loff_t *outoff,
			size_t len, unsigned int flags)
{
	REAL(copy_file_range);
	ssize_t n = real_copy_file_range(in, inoff, out, outoff, len, flags);

	count(in, n, true);
	return n;
}

static void log_fsync(int fd)
{
	char link[64], path[4096];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof(path) - 1);
	if (n < 0)
		return;
	path[n] = 0;
	logline("fsync %s\n", path);
}

int fsync(int fd)
{
	REAL(fsync);

	log_fsync(fd);
	return real_fsync(fd);
}

int fdatasync(int fd)
{
	REAL(fdatasync);

	log_fsync(fd);
	return real_fdatasync(fd);
}

int rename(const char *old, const char *new)
{
	REAL(rename);

	logline("rename %s %s\n", old, new);
	return real_rename(old, new);
}
