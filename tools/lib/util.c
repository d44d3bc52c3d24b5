// SPDX-License-Identifier: GPL-2.0-only OR Apache-2.0
/*
 * util.c - messages, checked allocation and whole-buffer I/O.
 *
 * Allocation failure is not recoverable in a one-shot tool; the x* helpers
 * print one line and exit, and the exit path (mkfs.c) removes the partial
 * image through its atexit hook.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "mkfs.h"

void sharefs_msg(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("mkfs.sharefs: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static void oom(void)
{
	sharefs_msg("out of memory");
	exit(1);
}

void *sharefs_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		oom();
	return p;
}

void *sharefs_xcalloc(size_t n, size_t m)
{
	void *p = calloc(n ? n : 1, m ? m : 1);

	if (!p)
		oom();
	return p;
}

void *sharefs_xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		oom();
	return p;
}

char *sharefs_xstrdup(const char *s)
{
	char *p = strdup(s);

	if (!p)
		oom();
	return p;
}

/* Returns 0 or a negative errno; short writes are retried. */
int sharefs_pwrite_all(int fd, const void *buf, size_t len, uint64_t off)
{
	const char *p = buf;

	while (len) {
		ssize_t n = pwrite(fd, p, len, (off_t)off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -ENOSPC;
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

/* Returns 0, or -EIO on a short file (it changed under us), or -errno. */
int sharefs_pread_all(int fd, void *buf, size_t len, uint64_t off)
{
	char *p = buf;

	while (len) {
		ssize_t n = pread(fd, p, len, (off_t)off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Accepts 32 hex digits with or without the usual dashes. */
int sharefs_parse_uuid(const char *s, uint8_t uuid[16])
{
	unsigned int n = 0;

	for (; *s; s++) {
		int hi, lo;

		if (*s == '-')
			continue;
		if (n == 16)
			return -1;
		hi = hexval(s[0]);
		lo = s[1] ? hexval(s[1]) : -1;
		if (hi < 0 || lo < 0)
			return -1;
		uuid[n++] = (uint8_t)(hi << 4 | lo);
		s++;
	}
	return n == 16 ? 0 : -1;
}

/* True at most five times a second; callers then redraw their line. */
bool sharefs_progress_due(void)
{
	static struct timespec last;
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if ((now.tv_sec - last.tv_sec) * 1000000000L +
	    (now.tv_nsec - last.tv_nsec) < 200000000L)
		return false;
	last = now;
	return true;
}
