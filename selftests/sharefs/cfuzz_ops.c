// SPDX-License-Identifier: GPL-2.0-only
/*
 * cfuzz_ops.c - the concurrency fuzzer's data operations, each checking
 * every byte it gets against the file's known content.
 *
 * An operation pins a random live mount (cf_pin(): its root directory,
 * open), picks a file of its image and reaches it relative to that fd, so
 * a lazy umount may detach the mount in the middle of the operation but
 * never makes a path fail: no errno is expected here, except
 *   - EINVAL from an O_DIRECT read at an offset that is not a multiple of
 *     the device's 512-byte logical block (asked for on purpose; a read
 *     that iomap serves anyway, from inline data, must be right);
 *   - madvise() advice the kernel does not have, probed once at start
 *     (MADV_HUGEPAGE without THP, MADV_COLD/MADV_PAGEOUT before 5.4).
 * Bytes past the end of a file in its last mapped page must be zero, and
 * touching a mapping must never raise SIGBUS: mappings cover whole pages
 * of the file only.
 *
 * A wrong byte is reported with where it was, what came instead, and, if
 * the wrong bytes are found in another file's content, which: a read
 * continued on the wrong member's device shows up that way.
 *
 * The killer's victims (cf_op_kill()) run these same operations, but keep
 * nothing and take no lock: they die at any instruction.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "cfuzz.h"

#define PG	4096L
#define DIO_ALIGN 512L

/* what an operation works on */
struct cf_target {
	const struct cf_pin *p;
	int file;		/* index in the image's files[] */
	int content;
	long size;
	const char *rel;	/* path relative to the mount's root */
	char what[CF_PATH + 160];	/* for messages */
};

const struct cf_content *cf_content_of(int img, int file)
{
	return &cf.contents[cf.img[img].e[cf.img[img].files[file]].content];
}

/* ---- checking bytes ----------------------------------------------------- */

/* where else the bytes at @p are found: "offset X of <file>", or "" */
static void whose_bytes(const unsigned char *p, long n, char *out, size_t len)
{
	out[0] = 0;
	if (n < 32)
		return;
	for (int c = 0; c < cf.ncontents; c++) {
		const struct cf_content *k = &cf.contents[c];
		const unsigned char *hit = memmem(k->data, k->size, p, 32);

		if (hit) {
			snprintf(out, len, "; they are bytes %ld.. of the file with SHA-256 %.16s",
				 (long)(hit - k->data), k->hex);
			return;
		}
	}
	for (int i = 0; i < 32 && !p[i]; i++)
		if (i == 31)
			snprintf(out, len, "; they are zeros");
}

static void report_wrong(struct cf_thread *t, const char *how,
			 const char *what, const unsigned char *got,
			 const unsigned char *want, off_t off, long n)
{
	long first = -1, count = 0;
	char whose[160];

	for (long i = 0; i < n; i++)
		if (got[i] != want[i]) {
			if (first < 0)
				first = i;
			count++;
		}
	whose_bytes(got + first, n - first, whose, sizeof(whose));
	cf_fail(t, FAIL_BYTES,
		"%s %s: %ld wrong byte(s) in [%ld, %ld), the first at %ld: got %02x %02x %02x %02x, expected %02x %02x %02x %02x%s",
		how, what, count, (long)off, (long)off + n, (long)off + first,
		got[first], first + 1 < n ? got[first + 1] : 0,
		first + 2 < n ? got[first + 2] : 0, first + 3 < n ? got[first + 3] : 0,
		want[first], first + 1 < n ? want[first + 1] : 0,
		first + 2 < n ? want[first + 2] : 0, first + 3 < n ? want[first + 3] : 0,
		whose);
}

/*
 * @got bytes read at @off for a request of @len: exactly the content's
 * bytes there, and as many as the file has (up to @len).  0 or -1.
 */
int cf_verify(struct cf_thread *t, const char *how, const char *what,
	      int content, const unsigned char *buf, off_t off, long got,
	      long len)
{
	const struct cf_content *c = &cf.contents[content];
	long want = off >= c->size ? 0 : c->size - off < len ? c->size - off : len;

	cf_progress(t);
	if (got != want) {
		cf_fail(t, FAIL_BYTES, "%s %s: %ld bytes at %ld for %ld asked, the file has %ld there (size %ld)",
			how, what, got, (long)off, len, want, c->size);
		return -1;
	}
	cf_count(&cf.sh->ev[EV_BYTES], got);
	if (!got || !memcmp(buf, c->data + off, got))
		return 0;
	report_wrong(t, how, what, buf, c->data + off, off, got);
	return -1;
}

static __thread sigjmp_buf *cur_jmp;

static void on_fault(int sig, siginfo_t *si, void *uc)
{
	(void)si;
	(void)uc;
	if (cur_jmp)
		siglongjmp(*cur_jmp, sig);
	signal(sig, SIG_DFL);
	raise(sig);
}

void cf_install_signals(void)
{
	struct sigaction sa = { .sa_sigaction = on_fault, .sa_flags = SA_SIGINFO };

	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGSEGV, &sa, NULL);
}

/* mapped file bytes [off, off + len), a whole number of pages of the file:
 * the content, then zeros to the end of the last page */
static int verify_map_body(struct cf_thread *t, const char *what, int content,
			   const unsigned char *map, off_t off, size_t len)
{
	const struct cf_content *c = &cf.contents[content];
	long valid = off >= c->size ? 0 : c->size - off;

	if ((size_t)valid > len)
		valid = len;
	cf_count(&cf.sh->ev[EV_BYTES], len);
	cf_count(&cf.sh->ev[EV_SIGBUS_NONE], (len + PG - 1) / PG);
	if (valid && memcmp(map, c->data + off, valid)) {
		report_wrong(t, "mapping", what, map, c->data + off, off, valid);
		return -1;
	}
	for (size_t i = valid; i < len; i++)
		if (map[i]) {
			cf_fail(t, FAIL_BYTES, "mapping %s: byte %ld past the end of the file (size %ld) is %02x, not 0",
				what, (long)(off + i), c->size, map[i]);
			return -1;
		}
	return 0;
}

int cf_verify_map(struct cf_thread *t, const char *what, int content,
		  const unsigned char *map, off_t off, size_t len)
{
	sigjmp_buf jb;
	int sig, ret;

	cf_progress(t);
	sig = sigsetjmp(jb, 1);
	if (sig) {
		cur_jmp = NULL;
		cf_fail(t, FAIL_ERRNO, "mapping %s: %s touching [%ld, %ld) of a file of %ld bytes",
			what, strsignal(sig), (long)off, (long)(off + len),
			cf.contents[content].size);
		return -1;
	}
	cur_jmp = &jb;
	ret = verify_map_body(t, what, content, map, off, len);
	cur_jmp = NULL;
	return ret;
}

/* ---- picking what to read ------------------------------------------------ */

/* a random range of a file of @size bytes, at most @max long: the whole
 * file, anywhere, page aligned, across EOF, past EOF, across blocks */
static void pick_range(struct cf_thread *t, long size, long max,
		       off_t *off, long *len)
{
	switch (cf_below(t, 6)) {
	case 0:
		*off = 0;
		*len = size + 100;
		break;
	case 1:
		*off = cf_below(t, size + 1);
		*len = 1 + cf_below(t, 256 << 10);
		break;
	case 2:
		*off = cf_below(t, size / PG + 1) * PG;
		*len = (1 + cf_below(t, 64)) * PG;
		break;
	case 3:
		*off = size > 8192 ? size - cf_below(t, 8192) : cf_below(t, size + 1);
		*len = 1 + cf_below(t, 16384);
		break;
	case 4:
		*off = size + cf_below(t, 8192);
		*len = 1 + cf_below(t, 4096);
		break;
	default:
		*off = cf_below(t, size / 512 + 1) * 512;
		*off = *off > 1 ? *off - cf_below(t, 2) : *off;
		*len = 1 + cf_below(t, 2048);
		break;
	}
	if (*len > max)
		*len = max;
}

/* now and then, widen the window for a umount or an eviction */
static void jitter(struct cf_thread *t)
{
	if (!cf_below(t, 8))
		usleep(cf_below(t, 3000));
}

static int open_target(struct cf_thread *t, struct cf_target *tg, int flags)
{
	int fd = openat(tg->p->rootfd, tg->rel, flags | O_CLOEXEC);

	if (fd < 0)
		cf_fail(t, FAIL_ERRNO, "open%s %s: %s",
			flags & O_DIRECT ? "(O_DIRECT)" : "", tg->what,
			strerror(errno));
	return fd;
}

/* ---- read, readv, pread -------------------------------------------------- */

static ssize_t read_some(struct cf_thread *t, int fd, long len, int vec)
{
	struct iovec iov[3];
	long a, b;

	if (!vec)
		return read(fd, t->buf, len);
	a = cf_below(t, len + 1);
	b = a + cf_below(t, len - a + 1);
	iov[0] = (struct iovec){ t->buf, a };
	iov[1] = (struct iovec){ t->buf + a, b - a };
	iov[2] = (struct iovec){ t->buf + b, len - b };
	return readv(fd, iov, 3);
}

/*
 * The file by read() or readv() in pieces of a random size, to its end,
 * where the next read must return 0.  Small pieces read a prefix of at
 * most READ_CALLS pieces: 5-byte reads of a 4 MiB file would keep one
 * thread busy for minutes on a KASAN kernel under TCG.
 */
#define READ_CALLS	4096

static void op_read(struct cf_thread *t, struct cf_target *tg)
{
	/* 0: small pieces of a random size */
	static const long sizes[] = { 0, 511, 4096, 65536, 300000, CF_BUF };
	long piece = sizes[cf_below(t, 6)], limit;
	int vec = !cf_below(t, 3), fd = open_target(t, tg, O_RDONLY);
	off_t off = 0;
	ssize_t n = 0;

	if (fd < 0)
		return;
	if (!piece)
		piece = 1 + cf_below(t, 8192);
	limit = piece * READ_CALLS < tg->size ? piece * READ_CALLS : tg->size;
	while (off < limit && (n = read_some(t, fd, piece, vec)) > 0) {
		if (cf_verify(t, vec ? "readv" : "read", tg->what, tg->content,
			      t->buf, off, n, n))
			goto out;
		off += n;
		jitter(t);
	}
	if (off == tg->size)	/* at the end: nothing more */
		n = read(fd, t->buf, 1);
	if (n < 0)
		cf_fail(t, FAIL_ERRNO, "read %s at %ld: %s", tg->what, (long)off,
			strerror(errno));
	else if (off < limit || (off == tg->size && n))
		cf_fail(t, FAIL_BYTES, "read %s: %s at %ld, the file has %ld bytes",
			tg->what, off < limit ? "end of file" : "more bytes",
			(long)off, tg->size);
out:
	close(fd);
}

static void op_pread(struct cf_thread *t, struct cf_target *tg)
{
	int fd = open_target(t, tg, O_RDONLY), rounds = 1 + cf_below(t, 6);

	if (fd < 0)
		return;
	for (int i = 0; i < rounds; i++) {
		off_t off;
		long len;
		ssize_t n;

		pick_range(t, tg->size, CF_BUF, &off, &len);
		n = pread(fd, t->buf, len, off);
		if (n < 0) {
			cf_fail(t, FAIL_ERRNO, "pread %s [%ld, +%ld): %s", tg->what,
				(long)off, len, strerror(errno));
			break;
		}
		if (cf_verify(t, "pread", tg->what, tg->content, t->buf, off, n, len))
			break;
		jitter(t);
	}
	close(fd);
}

/* O_DIRECT: the member's own blocks; now and then a misaligned offset */
static void op_direct(struct cf_thread *t, struct cf_target *tg)
{
	int fd = open_target(t, tg, O_RDONLY | O_DIRECT), rounds = 1 + cf_below(t, 4);

	if (fd < 0)
		return;
	for (int i = 0; i < rounds; i++) {
		off_t off = cf_below(t, tg->size / DIO_ALIGN + 2) * DIO_ALIGN;
		long len = (1 + cf_below(t, (256 << 10) / DIO_ALIGN)) * DIO_ALIGN;
		int odd = !cf_below(t, 6);
		ssize_t n;

		if (odd)
			off += 1 + cf_below(t, DIO_ALIGN - 1);
		n = pread(fd, t->buf, len, off);
		if (n < 0 && odd && errno == EINVAL) {
			cf_count(&cf.sh->ev[EV_DIRECT_EINVAL], 1);
			continue;
		}
		if (n < 0) {
			cf_fail(t, FAIL_ERRNO, "O_DIRECT pread %s [%ld, +%ld): %s",
				tg->what, (long)off, len, strerror(errno));
			break;
		}
		if (odd && n)
			cf_count(&cf.sh->ev[EV_DIRECT_UNALIGNED_OK], 1);
		if (cf_verify(t, "O_DIRECT pread", tg->what, tg->content,
			      t->buf, off, n, len))
			break;
	}
	close(fd);
}

/* ---- mmap ----------------------------------------------------------------- */

/* advice probed at start: the kernel may lack it (no THP, older kernels) */
static int have_advice[32];

void cf_probe_kernel(void)
{
	static const int advice[] = {
		MADV_WILLNEED, MADV_DONTNEED, MADV_RANDOM, MADV_SEQUENTIAL,
		MADV_HUGEPAGE, MADV_COLD, MADV_PAGEOUT,
	};
	void *m = mmap(NULL, 4 * PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	for (size_t i = 0; i < sizeof(advice) / sizeof(advice[0]); i++)
		have_advice[advice[i]] = m != MAP_FAILED && !madvise(m, 4 * PG, advice[i]);
	if (m != MAP_FAILED)
		munmap(m, 4 * PG);
}

static void advise(struct cf_thread *t, const char *what, void *m, size_t len,
		   int advice, const char *name)
{
	if (have_advice[advice] && madvise(m, len, advice))
		cf_fail(t, FAIL_ERRNO, "madvise(%s) of a mapping of %s: %s", name,
			what, strerror(errno));
}

/* a page-aligned part of the file, within its last page */
static void pick_map(struct cf_thread *t, long size, off_t *off, size_t *len)
{
	long pages = (size + PG - 1) / PG, first, n;

	if (!cf_below(t, 3) && pages <= CF_BUF / PG) {
		*off = 0;
		*len = pages * PG;
		return;
	}
	first = cf_below(t, pages);
	n = 1 + cf_below(t, pages - first < 256 ? pages - first : 256);
	*off = first * PG;
	*len = n * PG;
}

static void op_mmap(struct cf_thread *t, struct cf_target *tg)
{
	int fd = open_target(t, tg, O_RDONLY), shared = cf_below(t, 2);
	unsigned char *m;
	off_t off;
	size_t len;

	if (fd < 0)
		return;
	pick_map(t, tg->size, &off, &len);
	m = mmap(NULL, len, PROT_READ, shared ? MAP_SHARED : MAP_PRIVATE, fd, off);
	if (m == MAP_FAILED) {
		cf_fail(t, FAIL_ERRNO, "mmap %s [%ld, +%zu): %s", tg->what,
			(long)off, len, strerror(errno));
		close(fd);
		return;
	}
	switch (cf_below(t, 5)) {
	case 0: advise(t, tg->what, m, len, MADV_WILLNEED, "WILLNEED"); break;
	case 1: advise(t, tg->what, m, len, MADV_HUGEPAGE, "HUGEPAGE"); break;
	case 2: advise(t, tg->what, m, len, MADV_RANDOM, "RANDOM"); break;
	case 3: advise(t, tg->what, m, len, MADV_SEQUENTIAL, "SEQUENTIAL"); break;
	}
	if (cf_verify_map(t, tg->what, tg->content, m, off, len))
		goto out;
	/* evict what this mapping brought in, then fault it in again */
	switch (cf_below(t, 4)) {
	case 0: advise(t, tg->what, m, len, MADV_PAGEOUT, "PAGEOUT"); break;
	case 1: advise(t, tg->what, m, len, MADV_COLD, "COLD"); break;
	case 2: advise(t, tg->what, m, len, MADV_DONTNEED, "DONTNEED"); break;
	default: goto keep;
	}
	jitter(t);
	if (cf_verify_map(t, tg->what, tg->content, m, off, len))
		goto out;
keep:
	/* a quarter of them outlive the operation, and maybe their mount */
	if (!t->victim && !cf_below(t, 4)) {
		int keep_fd = cf_below(t, 2);

		if (!keep_fd)
			close(fd);
		if (!cf_held_add(t, tg->p, tg->file, keep_fd ? fd : -1, m, len, off))
			return;
		if (keep_fd)
			close(fd);
		munmap(m, len);
		return;
	}
out:
	munmap(m, len);
	close(fd);
}

/* ---- splice, sendfile --------------------------------------------------------- */

/* splice [off, off + len) into a pipe and read it out into t->buf */
static void op_splice(struct cf_thread *t, struct cf_target *tg)
{
	int fd = open_target(t, tg, O_RDONLY), p[2];
	off_t off, pos;
	long len, got = 0;

	if (fd < 0)
		return;
	if (pipe2(p, O_CLOEXEC)) {
		cf_fail(t, FAIL_ERRNO, "pipe: %s", strerror(errno));
		close(fd);
		return;
	}
	fcntl(p[1], F_SETPIPE_SZ, 1 << 20);	/* a hint: 64 KiB also works */
	pick_range(t, tg->size, CF_BUF, &off, &len);
	pos = off;
	while (got < len) {
		ssize_t n = splice(fd, &pos, p[1], NULL, len - got, 0), r = 0;

		if (n < 0)
			cf_fail(t, FAIL_ERRNO, "splice %s at %ld: %s", tg->what,
				(long)pos, strerror(errno));
		if (n <= 0)
			break;
		while (r < n) {
			ssize_t k = read(p[0], t->buf + got + r, n - r);

			if (k <= 0)
				break;
			r += k;
		}
		got += r;
		if (r < n) {
			cf_fail(t, FAIL_ERRNO, "reading a pipe filled by splice: short");
			break;
		}
		jitter(t);
	}
	cf_verify(t, "splice", tg->what, tg->content, t->buf, off, got, len);
	close(p[0]);
	close(p[1]);
	close(fd);
}

/* sendfile into a memfd, read back */
static void op_sendfile(struct cf_thread *t, struct cf_target *tg)
{
	int fd = open_target(t, tg, O_RDONLY);
	off_t off, pos;
	long len, got = 0;
	ssize_t n = 0;

	if (fd < 0)
		return;
	pick_range(t, tg->size, CF_BUF, &off, &len);
	if (ftruncate(t->memfd, 0) || lseek(t->memfd, 0, SEEK_SET)) {
		cf_fail(t, FAIL_ERRNO, "memfd: %s", strerror(errno));
		close(fd);
		return;
	}
	pos = off;
	while (got < len && (n = sendfile(t->memfd, fd, &pos, len - got)) > 0)
		got += n;
	if (n < 0)
		cf_fail(t, FAIL_ERRNO, "sendfile %s at %ld: %s", tg->what,
			(long)pos, strerror(errno));
	else if (pread(t->memfd, t->buf, got, 0) != got)
		cf_fail(t, FAIL_ERRNO, "reading back the memfd: %s", strerror(errno));
	else
		cf_verify(t, "sendfile", tg->what, tg->content, t->buf, off, got, len);
	close(fd);
}

/* ---- fadvise, readahead ------------------------------------------------------- */

static void op_fadvise(struct cf_thread *t, struct cf_target *tg)
{
	static const int advice[] = {
		POSIX_FADV_DONTNEED, POSIX_FADV_DONTNEED, POSIX_FADV_WILLNEED,
		POSIX_FADV_NOREUSE, POSIX_FADV_SEQUENTIAL, POSIX_FADV_RANDOM,
	};
	int fd = open_target(t, tg, O_RDONLY), a = cf_below(t, 7), err;
	off_t off;
	long len;
	ssize_t n;

	if (fd < 0)
		return;
	pick_range(t, tg->size, CF_BUF, &off, &len);
	if (a == 6)
		err = readahead(fd, off, len) ? errno : 0;
	else	/* the whole file or the range */
		err = posix_fadvise(fd, cf_below(t, 2) ? off : 0,
				    cf_below(t, 2) ? len : 0, advice[a]);
	if (err)
		cf_fail(t, FAIL_ERRNO, "%s %s: %s", a == 6 ? "readahead" : "posix_fadvise",
			tg->what, strerror(err));
	jitter(t);
	n = pread(fd, t->buf, len, off);
	if (n < 0)
		cf_fail(t, FAIL_ERRNO, "pread %s after fadvise: %s", tg->what,
			strerror(errno));
	else
		cf_verify(t, "pread after fadvise", tg->what, tg->content, t->buf,
			  off, n, len);
	close(fd);
}

/* ---- readdir, stat, fingerprints ------------------------------------------------- */

/* the image's entry @name in directory @dir, or -1 */
static int find_entry(const struct cf_image *im, const char *dir,
		      const char *name)
{
	for (int i = 0; i < im->ne; i++)
		if (!strcmp(im->e[i].parent, dir) && !strcmp(im->e[i].name, name))
			return i;
	return -1;
}

/* a regular file's stat and fingerprint xattr against the manifest */
static void check_file(struct cf_thread *t, const struct cf_pin *p,
		       const struct cf_entry *e)
{
	const struct cf_content *c = &cf.contents[e->content];
	unsigned char v[64], want[39] = "sha256:";
	ssize_t n;
	int fd = openat(p->rootfd, e->path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		cf_fail(t, FAIL_ERRNO, "open %s/%s: %s", p->dir, e->path,
			strerror(errno));
		return;
	}
	for (int i = 0; i < 32; i++)
		sscanf(c->hex + 2 * i, "%2hhx", &want[7 + i]);
	n = fgetxattr(fd, "trusted.fingerprint", v, sizeof(v));
	if (n < 0)
		cf_fail(t, FAIL_ERRNO, "fgetxattr trusted.fingerprint %s/%s: %s",
			p->dir, e->path, strerror(errno));
	else if (n != 39 || memcmp(v, want, 39))
		cf_fail(t, FAIL_BYTES, "trusted.fingerprint of %s/%s (%zd bytes) is not sha256:%s",
			p->dir, e->path, n, c->hex);
	close(fd);
}

/* one readdir entry against the manifest; marks it seen */
static void check_dirent(struct cf_thread *t, const struct cf_pin *p,
			 int dfd, const char *dir, const struct dirent *d,
			 char *seen)
{
	const struct cf_image *im = &cf.img[p->img];
	int i = find_entry(im, dir, d->d_name);
	struct stat st;

	if (i < 0 || seen[i]++) {
		cf_fail(t, FAIL_BYTES, "readdir %s/%s: %s entry %s", p->dir, dir,
			i < 0 ? "unknown" : "repeated", d->d_name);
		return;
	}
	if (d->d_type != (im->e[i].is_dir ? DT_DIR : DT_REG))
		cf_fail(t, FAIL_BYTES, "readdir %s/%s: %s has d_type %d",
			p->dir, dir, d->d_name, d->d_type);
	if (fstatat(dfd, d->d_name, &st, AT_SYMLINK_NOFOLLOW)) {
		cf_fail(t, FAIL_ERRNO, "fstatat %s/%s/%s: %s", p->dir, dir,
			d->d_name, strerror(errno));
		return;
	}
	if (im->e[i].is_dir ? !S_ISDIR(st.st_mode) :
	    (!S_ISREG(st.st_mode) ||
	     st.st_size != cf.contents[im->e[i].content].size))
		cf_fail(t, FAIL_BYTES, "stat %s/%s: mode %o size %ld, not as in the source tree",
			p->dir, im->e[i].path, st.st_mode, (long)st.st_size);
	else if (!im->e[i].is_dir && !cf_below(t, 4))
		check_file(t, p, &im->e[i]);
}

/* one directory of the mount: exactly the source tree's entries */
static void op_walk(struct cf_thread *t, const struct cf_pin *p)
{
	const struct cf_image *im = &cf.img[p->img];
	const char *dir = im->e[im->dirs[cf_below(t, im->ndirs)]].path;
	char seen[CF_MAX_ENTRIES] = { 0 };
	struct dirent *d;
	DIR *dp;
	int dfd;

	cf_op_begin(t, "readdir %s/%s (%s)", p->dir, dir, im->name);
	dfd = openat(p->rootfd, dir[0] ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || !(dp = fdopendir(dfd))) {
		cf_fail(t, FAIL_ERRNO, "opendir %s/%s: %s", p->dir, dir, strerror(errno));
		if (dfd >= 0)
			close(dfd);
		return;
	}
	while ((errno = 0, d = readdir(dp)))
		if (strcmp(d->d_name, ".") && strcmp(d->d_name, ".."))
			check_dirent(t, p, dfd, dir, d, seen);
	if (errno)
		cf_fail(t, FAIL_ERRNO, "readdir %s/%s: %s", p->dir, dir, strerror(errno));
	for (int i = 0; i < im->ne; i++)
		if (!seen[i] && !strcmp(im->e[i].parent, dir) && im->e[i].path[0])
			cf_fail(t, FAIL_BYTES, "readdir %s/%s: %s missing", p->dir,
				dir, im->e[i].name);
	closedir(dp);
}

/* ---- file handles ------------------------------------------------------------- */

static void op_handle(struct cf_thread *t, struct cf_target *tg)
{
	struct file_handle *fh = malloc(sizeof(*fh) + MAX_HANDLE_SZ);
	struct stat a, b;
	int mid, fd;
	off_t off;
	long len;
	ssize_t n;

	fh->handle_bytes = MAX_HANDLE_SZ;
	if (name_to_handle_at(tg->p->rootfd, tg->rel, fh, &mid, 0)) {
		cf_fail(t, FAIL_ERRNO, "name_to_handle_at %s: %s", tg->what,
			strerror(errno));
		goto out;
	}
	/* evict it, so that the handle must find the inode again */
	if (!cf_below(t, 8))
		cf_op_drop(t);
	fd = open_by_handle_at(tg->p->rootfd, fh, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		cf_fail(t, FAIL_ERRNO, "open_by_handle_at %s: %s", tg->what,
			strerror(errno));
		goto out;
	}
	if (fstat(fd, &a) || fstatat(tg->p->rootfd, tg->rel, &b, 0) ||
	    a.st_ino != b.st_ino)
		cf_fail(t, FAIL_ERRNO, "open_by_handle_at %s: another inode than the path's",
			tg->what);
	pick_range(t, tg->size, CF_BUF, &off, &len);
	n = pread(fd, t->buf, len, off);
	if (n < 0)
		cf_fail(t, FAIL_ERRNO, "pread %s by handle: %s", tg->what, strerror(errno));
	else
		cf_verify(t, "pread by handle", tg->what, tg->content, t->buf, off, n, len);
	close(fd);
out:
	free(fh);
}

/* ---- kept objects ------------------------------------------------------------- */

/* open a file (and maybe map it) and keep it past this operation */
static void op_hold(struct cf_thread *t, struct cf_target *tg)
{
	int fd = open_target(t, tg, O_RDONLY), map = cf_below(t, 2);
	unsigned char *m = NULL;
	off_t off = 0;
	size_t len = 0;

	if (fd < 0)
		return;
	if (map) {
		pick_map(t, tg->size, &off, &len);
		m = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, off);
		if (m == MAP_FAILED) {
			cf_fail(t, FAIL_ERRNO, "mmap %s: %s", tg->what, strerror(errno));
			close(fd);
			return;
		}
		cf_verify_map(t, tg->what, tg->content, m, off, len);
	}
	if (cf_held_add(t, tg->p, tg->file, fd, m, len, off)) {
		if (m)
			munmap(m, len);
		close(fd);
	}
}

/* check a kept object: a part of its mapping, a pread of its file */
static void check_held(struct cf_thread *t, struct cf_held *h, const char *what)
{
	int c = cf.img[h->img].e[cf.img[h->img].files[h->file]].content;
	off_t off;
	long len;
	ssize_t n;

	if (h->map) {
		long pages = h->maplen / PG, first = cf_below(t, pages);
		long k = 1 + cf_below(t, pages - first);

		cf_verify_map(t, what, c, h->map + first * PG, h->mapoff + first * PG,
			      k * PG);
	}
	if (h->fd < 0)
		return;
	pick_range(t, cf.contents[c].size, CF_BUF, &off, &len);
	if (!cf_below(t, 4))
		posix_fadvise(h->fd, 0, 0, POSIX_FADV_DONTNEED);
	n = pread(h->fd, t->buf, len, off);
	if (n < 0)
		cf_fail(t, FAIL_ERRNO, "pread of kept %s: %s", what, strerror(errno));
	else
		cf_verify(t, "pread of kept file", what, c, t->buf, off, n, len);
}

static void held_what(const struct cf_held *h, int gone, char *buf, size_t len)
{
	snprintf(buf, len, "%s [%s]:/%s (%s%s%s)", cf.img[h->img].name,
		 cf_opt_name(h->opt), cf.img[h->img].e[cf.img[h->img].files[h->file]].path,
		 h->map ? "mapped" : "", h->map && h->fd >= 0 ? ", " : "",
		 h->fd >= 0 ? "open" : "");
	if (gone)
		snprintf(buf + strlen(buf), len - strlen(buf), ", its mount unmounted");
}

void cf_op_held(struct cf_thread *t)
{
	struct cf_held *h = cf_held_take(t);
	char what[CF_PATH + 160];
	int gone;

	if (!h)
		return;
	gone = cf_gone(h->slot, h->gen);
	held_what(h, gone, what, sizeof(what));
	cf_op_begin(t, "check kept %s", what);
	check_held(t, h, what);
	if (gone)
		cf_count(&cf.sh->ev[EV_HELD_DETACHED], 1);
	cf_count(&cf.sh->n[OP_HELD], 1);
	cf_held_put(t, h, !cf_below(t, 3));
}

/* at the end of a worker: check every kept object once more, let go */
void cf_held_check_all(struct cf_thread *t)
{
	char what[CF_PATH + 160];
	struct cf_held *h;

	while ((h = cf_held_take(t))) {
		int gone = cf_gone(h->slot, h->gen);

		held_what(h, gone, what, sizeof(what));
		cf_op_begin(t, "final check of kept %s", what);
		check_held(t, h, what);
		cf_held_put(t, h, 1);
		cf_op_end(t);
	}
}

/* ---- caches ------------------------------------------------------------------- */

void cf_op_drop(struct cf_thread *t)
{
	static const char *const what[] = { "1", "2", "3" };
	const char *w = what[cf_below(t, 3)];
	int fd = open("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC);

	if (fd < 0 || write(fd, w, 1) != 1)
		cf_fail(t, FAIL_ERRNO, "drop_caches %s: %s", w, strerror(errno));
	if (fd >= 0)
		close(fd);
	cf_count(&cf.sh->n[OP_DROP], 1);
}

/* ---- dispatch ----------------------------------------------------------------- */

static void run_on(struct cf_thread *t, enum cf_op op, struct cf_target *tg)
{
	switch (op) {
	case OP_READ: op_read(t, tg); break;
	case OP_PREAD: op_pread(t, tg); break;
	case OP_DIRECT: op_direct(t, tg); break;
	case OP_MMAP: op_mmap(t, tg); break;
	case OP_SPLICE: op_splice(t, tg); break;
	case OP_SENDFILE: op_sendfile(t, tg); break;
	case OP_FADVISE: op_fadvise(t, tg); break;
	case OP_HANDLE: op_handle(t, tg); break;
	case OP_HOLD: op_hold(t, tg); break;
	default: break;
	}
}

/* a file of the image: the big ones (over 64 KiB) a quarter of the time */
static int pick_file(struct cf_thread *t, const struct cf_image *im)
{
	int big = !cf_below(t, 4);

	for (int tries = 0; tries < 16; tries++) {
		int f = cf_below(t, im->nfiles);
		long size = cf.contents[im->e[im->files[f]].content].size;

		if (!big || size > 65536)
			return f;
	}
	return cf_below(t, im->nfiles);
}

/* a random file of the pinned mount */
static void pick_target(struct cf_thread *t, const struct cf_pin *p,
			struct cf_target *tg)
{
	const struct cf_image *im = &cf.img[p->img];
	const struct cf_entry *e;

	tg->p = p;
	tg->file = pick_file(t, im);
	e = &im->e[im->files[tg->file]];
	tg->content = e->content;
	tg->size = cf.contents[e->content].size;
	tg->rel = e->path;
	snprintf(tg->what, sizeof(tg->what), "%s/%s (%s%s [%s], %ld bytes)",
		 p->dir, e->path, im->name, p->bdev ? " own disk" : "",
		 cf_opt_name(p->opt), tg->size);
}

/* a data operation on a random file of a random live mount */
void cf_op_data(struct cf_thread *t, enum cf_op op)
{
	struct cf_target tg;
	struct cf_pin p;

	if (cf_pin(t, &p))
		return;
	if (op == OP_WALK) {
		op_walk(t, &p);
	} else {
		pick_target(t, &p, &tg);
		cf_op_begin(t, "%s %s", cf_op_names[op], tg.what);
		run_on(t, op, &tg);
	}
	cf_count(&cf.sh->n[op], 1);
	cf_unpin(&p);
}

/* ---- readers killed mid-operation ------------------------------------------------ */

/* the victim: reads of the killer's pinned mount until it is killed */
static void __attribute__((noreturn)) victim_main(struct cf_thread *v,
						  const struct cf_pin *p)
{
	static const enum cf_op ops[] = {
		OP_READ, OP_PREAD, OP_DIRECT, OP_MMAP, OP_SPLICE, OP_SENDFILE,
		OP_FADVISE, OP_HANDLE,
	};
	struct cf_target tg;

	cf_thread_started(v);
	for (;;) {
		enum cf_op op = ops[cf_below(v, sizeof(ops) / sizeof(ops[0]))];

		pick_target(v, p, &tg);
		cf_op_begin(v, "%s %s (to be killed)", cf_op_names[op], tg.what);
		run_on(v, op, &tg);
		cf_op_end(v);
	}
}

/*
 * SIGKILL to a reader in the middle of whatever it does: a read waiting
 * for its folio, a fault, O_DIRECT, splice.  The killer pins the mount and
 * unpins it only once the victim is reaped (its files and mappings are
 * gone by then), so the victim takes no lock and no count changes under
 * it.  A victim that cannot die leaves the killer in waitpid(): the hang
 * watch reports it.
 */
void cf_op_kill(struct cf_thread *t, struct cf_thread *victim)
{
	struct cf_pin p;
	int status;
	pid_t pid;

	if (cf_pin(t, &p))
		return;
	cf_op_begin(t, "SIGKILL to a reader of %s (%s [%s])", p.dir,
		    cf.img[p.img].name, cf_opt_name(p.opt));
	victim->rng = cf_rand(t) | 1;
	pid = fork();
	if (!pid)
		victim_main(victim, &p);
	if (pid < 0) {
		cf_fail(t, FAIL_ERRNO, "fork: %s", strerror(errno));
	} else {
		usleep(1000 + cf_below(t, 30000));
		if (__atomic_load_n(&victim->st->since_ms, __ATOMIC_ACQUIRE))
			cf_count(&cf.sh->ev[EV_KILLED_MID], 1);
		kill(pid, SIGKILL);
		if (waitpid(pid, &status, 0) != pid ||
		    !WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
			cf_fail(t, FAIL_ERRNO, "a reader of %s ended by itself, not by SIGKILL (status %#x; its last operation: %s)",
				p.dir, status, victim->st->op);
		__atomic_store_n(&victim->st->since_ms, 0, __ATOMIC_RELEASE);
		cf_count(&cf.sh->n[OP_KILL], 1);
	}
	cf_unpin(&p);
}
