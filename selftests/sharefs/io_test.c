// SPDX-License-Identifier: GPL-2.0-only
/*
 * io_test - the data paths of a sharefs mount return the right bytes and
 * describe the file's own layout.
 *
 * Three images of one 'io' tree (scripts/mktree.py io): "io" (Debian 12's
 * mkfs.erofs: flat files with inline tails), "io-chunk" (erofs-utils 1.9,
 * 4 KiB chunks, so the sparse file has holes, and fingerprints) and
 * "io-sharefs" (mkfs.sharefs).  The reference content digests come from the
 * host: /images/io.manifest.  Every data path (read, pread, readv, mmap
 * private and shared, splice, sendfile, O_DIRECT) must give the digest on
 * every image; the layout checks (SEEK_DATA/SEEK_HOLE, FIEMAP) use the
 * chunked image, whose holes are known: the sparse file has data only at
 * [1 MiB, 1 MiB + 64 KiB) and [3 MiB, 3 MiB + 4 KiB) of its 5 MiB.
 *
 * The fixture 'zio' does the same for compressed files, against stock
 * erofs in the same boot (see above its tests).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "manifest.h"
#include "sfs.h"

#define IO_MANIFEST	SFS_IMAGES_DIR "/io.manifest"
#define MIB		(1 << 20)

static const char *const images[] = { "io", "io-chunk", "io-sharefs" };
#define NIMG	(sizeof(images) / sizeof(images[0]))

/* the regular files whose bytes every path must return */
static const char *const files[] = {
	"large", "sparse", "tail1", "tail100", "tail4095", "tail5000",
	"tail12287", "exec",
};
#define NFILES	(sizeof(files) / sizeof(files[0]))

FIXTURE(io) {
	char dir[NIMG][256];
	int mounted[NIMG];
	struct sfs_mf ref;
};

FIXTURE_SETUP(io)
{
	if (getuid() != 0)
		SKIP(return, "needs root");
	if (!sfs_have_fs("sharefs"))
		SKIP(return, "sharefs is not registered");
	ASSERT_EQ(0, sfs_mf_load(IO_MANIFEST, &self->ref));
	for (unsigned int i = 0; i < NIMG; i++) {
		int ret = sfs_mount_image(images[i], "sharefs", NULL,
					  self->dir[i], sizeof(self->dir[i]));

		ASSERT_EQ(0, ret) {
			TH_LOG("mount %s: %s", images[i], strerror(-ret));
		}
		self->mounted[i] = 1;
	}
}

FIXTURE_TEARDOWN(io)
{
	for (unsigned int i = 0; i < NIMG; i++)
		if (self->mounted[i])
			EXPECT_EQ(0, sfs_umount(self->dir[i]));
	sfs_mf_free(&self->ref);
}

/* the host's digest of /NAME, from io.manifest */
static const char *ref_digest(const struct sfs_mf *ref, const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; i < ref->n; i++) {
		const char *l = ref->lines[i], *d;

		if (l[0] == '/' && !strncmp(l + 1, name, n) && l[n + 1] == ' ' &&
		    (d = strstr(l, " data=")))
			return d + 6;
	}
	return NULL;
}

static void hex(const unsigned char d[32], char out[65])
{
	for (int i = 0; i < 32; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
}

/*
 * One data path: fn reads the whole file at path into a SHA-256 context
 * and returns 0 or -errno.  Every file on every image must match.
 */
typedef int (*reader_t)(const char *path, SHA256_CTX *c);

static void check_reader(struct __test_metadata *_metadata,
			 FIXTURE_DATA(io) *self, const char *what, reader_t fn)
{
	for (unsigned int i = 0; i < NIMG; i++) {
		for (unsigned int f = 0; f < NFILES; f++) {
			const char *want = ref_digest(&self->ref, files[f]);
			unsigned char d[32];
			char path[512], got[65];
			SHA256_CTX c;
			int ret;

			ASSERT_NE(NULL, want);
			snprintf(path, sizeof(path), "%s/%s", self->dir[i], files[f]);
			SHA256_Init(&c);
			ret = fn(path, &c);
			EXPECT_EQ(0, ret) {
				TH_LOG("%s: %s of %s: %s", images[i], what,
				       files[f], strerror(-ret));
			}
			if (ret)
				continue;
			SHA256_Final(d, &c);
			hex(d, got);
			EXPECT_EQ(0, strncmp(want, got, 64)) {
				TH_LOG("%s: %s of %s: digest %s, expected %.64s",
				       images[i], what, files[f], got, want);
			}
		}
	}
}

static int rd_read(const char *path, SHA256_CTX *c)
{
	static char buf[65537];	/* odd size: reads straddle pages */
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		SHA256_Update(c, buf, n);
	n = n < 0 ? -errno : 0;
	close(fd);
	return n;
}

static int rd_pread(const char *path, SHA256_CTX *c)
{
	static char buf[12345];
	int fd = open(path, O_RDONLY);
	struct stat st;
	off_t off;

	if (fd < 0 || fstat(fd, &st))
		return -errno;
	/* back to front, so no read continues where the last one ended */
	off_t nchunks = (st.st_size + sizeof(buf) - 1) / sizeof(buf);
	char *all = malloc(st.st_size + 1);

	for (off_t k = nchunks - 1; k >= 0; k--) {
		size_t want = sizeof(buf);
		ssize_t n;

		off = k * sizeof(buf);
		if (off + (off_t)want > st.st_size)
			want = st.st_size - off;
		n = pread(fd, buf, want, off);
		if (n != (ssize_t)want) {
			free(all);
			close(fd);
			return n < 0 ? -errno : -EIO;
		}
		memcpy(all + off, buf, want);
	}
	/* nothing past the end */
	if (pread(fd, buf, 1, st.st_size) != 0) {
		free(all);
		close(fd);
		return -EOVERFLOW;
	}
	SHA256_Update(c, all, st.st_size);
	free(all);
	close(fd);
	return 0;
}

static int rd_readv(const char *path, SHA256_CTX *c)
{
	static char a[1000], b[4096], d[70001];
	struct iovec iov[3] = {
		{ a, sizeof(a) }, { b, sizeof(b) }, { d, sizeof(d) },
	};
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	while ((n = readv(fd, iov, 3)) > 0) {
		for (int i = 0; i < 3 && n > 0; i++) {
			size_t k = (size_t)n < iov[i].iov_len ? (size_t)n : iov[i].iov_len;

			SHA256_Update(c, iov[i].iov_base, k);
			n -= k;
		}
	}
	n = n < 0 ? -errno : 0;
	close(fd);
	return n;
}

static int rd_mmap(const char *path, SHA256_CTX *c, int flags)
{
	int fd = open(path, O_RDONLY);
	struct stat st;
	void *p;

	if (fd < 0 || fstat(fd, &st))
		return -errno;
	if (!st.st_size) {
		close(fd);
		return 0;
	}
	p = mmap(NULL, st.st_size, PROT_READ, flags, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return -errno;
	SHA256_Update(c, p, st.st_size);
	munmap(p, st.st_size);
	return 0;
}

static int rd_mmap_private(const char *path, SHA256_CTX *c)
{
	return rd_mmap(path, c, MAP_PRIVATE);
}

static int rd_mmap_shared(const char *path, SHA256_CTX *c)
{
	return rd_mmap(path, c, MAP_SHARED);
}

/* splice or sendfile into a pipe, drained after each call */
static int rd_pipe(const char *path, SHA256_CTX *c, int use_splice)
{
	static char buf[65536];
	int fd = open(path, O_RDONLY), p[2], ret = 0;
	loff_t off = 0;

	if (fd < 0)
		return -errno;
	if (pipe(p)) {
		close(fd);
		return -errno;
	}
	for (;;) {
		ssize_t n = use_splice ?
			splice(fd, &off, p[1], NULL, sizeof(buf), 0) :
			sendfile(p[1], fd, &off, sizeof(buf));

		if (n < 0) {
			ret = -errno;
			break;
		}
		if (n == 0)
			break;
		while (n > 0) {
			ssize_t r = read(p[0], buf, n);

			if (r <= 0) {
				ret = -EIO;
				goto out;
			}
			SHA256_Update(c, buf, r);
			n -= r;
		}
	}
out:
	close(p[0]);
	close(p[1]);
	close(fd);
	return ret;
}

static int rd_splice(const char *path, SHA256_CTX *c)
{
	return rd_pipe(path, c, 1);
}

static int rd_sendfile(const char *path, SHA256_CTX *c)
{
	return rd_pipe(path, c, 0);
}

static int rd_direct(const char *path, SHA256_CTX *c)
{
	const size_t len = MIB;
	int fd = open(path, O_RDONLY | O_DIRECT);
	void *buf;
	ssize_t n;

	if (fd < 0)
		return -errno;
	if (posix_memalign(&buf, 4096, len)) {
		close(fd);
		return -ENOMEM;
	}
	while ((n = read(fd, buf, len)) > 0)
		SHA256_Update(c, buf, n);
	n = n < 0 ? -errno : 0;
	free(buf);
	close(fd);
	return n;
}

TEST_F_TIMEOUT(io, read, 120) { check_reader(_metadata, self, "read", rd_read); }
TEST_F_TIMEOUT(io, pread, 120) { check_reader(_metadata, self, "pread", rd_pread); }
TEST_F_TIMEOUT(io, readv, 120) { check_reader(_metadata, self, "readv", rd_readv); }
TEST_F_TIMEOUT(io, mmap_private, 120)
{
	check_reader(_metadata, self, "mmap(MAP_PRIVATE)", rd_mmap_private);
}
TEST_F_TIMEOUT(io, mmap_shared, 120)
{
	check_reader(_metadata, self, "mmap(MAP_SHARED)", rd_mmap_shared);
}
TEST_F_TIMEOUT(io, splice, 120) { check_reader(_metadata, self, "splice", rd_splice); }
TEST_F_TIMEOUT(io, sendfile, 120) { check_reader(_metadata, self, "sendfile", rd_sendfile); }
TEST_F_TIMEOUT(io, o_direct, 120) { check_reader(_metadata, self, "O_DIRECT read", rd_direct); }

/* pages of [at, at + len) of the file resident, by mincore of a mapping */
static long resident(int fd, off_t at, size_t len)
{
	long pg = sysconf(_SC_PAGESIZE), n = (len + pg - 1) / pg, k = 0;
	unsigned char *vec = malloc(n);
	void *p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, at);

	if (p == MAP_FAILED || mincore(p, len, vec)) {
		free(vec);
		return -errno;
	}
	for (long i = 0; i < n; i++)
		k += vec[i] & 1;
	munmap(p, len);
	free(vec);
	return k;
}

/*
 * DONTNEED empties the file, WILLNEED starts reading a range of it.
 * WILLNEED reads at most max(ra_pages, io_pages) pages; the range is the
 * default readahead window (128 KiB), so a working readahead (not
 * noop_backing_dev_info's ra_pages = 0) must make all of it resident.  The
 * reads complete asynchronously: poll residency, bounded by a count of
 * polls (the assertion is on the state reached, not on how long it took).
 */
TEST_F_TIMEOUT(io, fadvise_mincore, 120)
{
	const size_t len = 128 << 10, at = 4 * MIB;

	for (unsigned int i = 0; i < NIMG; i++) {
		char path[512];
		long pages = len / sysconf(_SC_PAGESIZE), r = -1;
		int fd;

		snprintf(path, sizeof(path), "%s/large", self->dir[i]);
		fd = open(path, O_RDONLY);
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED));
		EXPECT_EQ(0, resident(fd, at, len)) {
			TH_LOG("%s: pages resident after FADV_DONTNEED", images[i]);
		}
		ASSERT_EQ(0, posix_fadvise(fd, at, len, POSIX_FADV_WILLNEED));
		for (int poll = 0; poll < 500; poll++) {
			r = resident(fd, at, len);
			if (r == pages)
				break;
			usleep(10000);
		}
		EXPECT_EQ(pages, r) {
			TH_LOG("%s: %ld of %ld pages resident after FADV_WILLNEED",
			       images[i], r, pages);
		}
		close(fd);
	}
}

/* the sparse file: data at [1M, 1M+64K) and [3M, 3M+4K) of 5M */
static const struct { off_t start, end; } sparse_data[] = {
	{ MIB, MIB + 65536 }, { 3 * MIB, 3 * MIB + 4096 },
};
#define SPARSE_SIZE	(5 * MIB)

TEST_F(io, seek_data_hole)
{
	static const struct { int whence; off_t from, want; } cases[] = {
		{ SEEK_DATA, 0, MIB },
		{ SEEK_HOLE, 0, 0 },
		{ SEEK_DATA, MIB + 100, MIB + 100 },
		{ SEEK_HOLE, MIB, MIB + 65536 },
		{ SEEK_DATA, MIB + 65536, 3 * MIB },
		{ SEEK_HOLE, 3 * MIB, 3 * MIB + 4096 },
		{ SEEK_HOLE, 3 * MIB + 4096, 3 * MIB + 4096 },
		{ SEEK_DATA, 3 * MIB + 4096, -ENXIO },
		{ SEEK_HOLE, SPARSE_SIZE - 1, SPARSE_SIZE - 1 },
		{ SEEK_DATA, SPARSE_SIZE, -ENXIO },
	};
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/sparse", self->dir[1]);	/* io-chunk */
	fd = open(path, O_RDONLY);
	ASSERT_LE(0, fd);
	for (unsigned int i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		off_t got = lseek(fd, cases[i].from, cases[i].whence);

		if (got < 0)
			got = -errno;
		EXPECT_EQ(cases[i].want, got) {
			TH_LOG("io-chunk/sparse: lseek(%lld, %s) = %lld, expected %lld",
			       (long long)cases[i].from,
			       cases[i].whence == SEEK_DATA ? "SEEK_DATA" : "SEEK_HOLE",
			       (long long)got, (long long)cases[i].want);
		}
	}
	close(fd);
}

/* the extents of a file, sorted by logical offset as FIEMAP returns them */
static int fiemap(const char *path, struct fiemap **out)
{
	const unsigned int max = 4096;	/* a compressed file: one a pcluster */
	struct fiemap *fm = calloc(1, sizeof(*fm) + max * sizeof(struct fiemap_extent));
	int fd = open(path, O_RDONLY), ret = 0;

	if (fd < 0)
		return -errno;
	fm->fm_start = 0;
	fm->fm_length = FIEMAP_MAX_OFFSET;
	fm->fm_extent_count = max;
	if (ioctl(fd, FS_IOC_FIEMAP, fm))
		ret = -errno;
	close(fd);
	*out = fm;
	return ret;
}

TEST_F(io, fiemap_sparse)
{
	struct fiemap *fm;
	char path[512];
	off_t covered = 0;

	snprintf(path, sizeof(path), "%s/sparse", self->dir[1]);
	ASSERT_EQ(0, fiemap(path, &fm));
	ASSERT_LT(0, (int)fm->fm_mapped_extents);
	for (unsigned int i = 0; i < fm->fm_mapped_extents; i++) {
		struct fiemap_extent *e = &fm->fm_extents[i];
		off_t s = e->fe_logical, t = e->fe_logical + e->fe_length;
		int inside = 0;

		/* every extent lies in a data range: holes are absent */
		for (unsigned int k = 0; k < 2; k++)
			if (s >= sparse_data[k].start && t <= sparse_data[k].end)
				inside = 1;
		EXPECT_TRUE(inside) {
			TH_LOG("io-chunk/sparse: extent %u [%lld, %lld) covers a hole",
			       i, (long long)s, (long long)t);
		}
		covered += e->fe_length;
	}
	/* and together they cover the data */
	EXPECT_EQ(65536 + 4096, covered);
	EXPECT_TRUE(!!(fm->fm_extents[fm->fm_mapped_extents - 1].fe_flags &
		    FIEMAP_EXTENT_LAST));
	free(fm);
}

/* a flat file: extents cover [0, size) without gaps, on every image */
TEST_F(io, fiemap_flat)
{
	for (unsigned int i = 0; i < NIMG; i++) {
		struct fiemap *fm;
		struct stat st;
		char path[512];
		__u64 next = 0;
		int ret;

		snprintf(path, sizeof(path), "%s/large", self->dir[i]);
		ASSERT_EQ(0, stat(path, &st));
		ret = fiemap(path, &fm);
		ASSERT_EQ(0, ret) {
			TH_LOG("%s: FIEMAP: %s", images[i], strerror(-ret));
		}
		ASSERT_LT(0, (int)fm->fm_mapped_extents);
		for (unsigned int k = 0; k < fm->fm_mapped_extents; k++) {
			EXPECT_EQ(next, fm->fm_extents[k].fe_logical) {
				TH_LOG("%s: extent %u starts at %llu, expected %llu",
				       images[i], k, fm->fm_extents[k].fe_logical,
				       next);
			}
			next = fm->fm_extents[k].fe_logical + fm->fm_extents[k].fe_length;
		}
		EXPECT_LE((__u64)st.st_size, next) {
			TH_LOG("%s: extents end at %llu, size %lld", images[i],
			       next, (long long)st.st_size);
		}
		EXPECT_TRUE(!!(fm->fm_extents[fm->fm_mapped_extents - 1].fe_flags &
			    FIEMAP_EXTENT_LAST));
		free(fm);
	}
}

TEST_F(io, statx_matches_stat)
{
	static const char *const names[] = { "", "/large", "/sparse", "/tail1",
					     "/exec", "/dir" };

	for (unsigned int i = 0; i < NIMG; i++) {
		for (unsigned int k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
			struct statx sx;
			struct stat st;
			char path[512];

			snprintf(path, sizeof(path), "%s%s", self->dir[i], names[k]);
			ASSERT_EQ(0, stat(path, &st));
			ASSERT_EQ(0, statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW,
					   STATX_BASIC_STATS | STATX_BTIME, &sx));
			/* atime may be left out on a read-only filesystem */
			EXPECT_EQ((__u32)(STATX_BASIC_STATS & ~STATX_ATIME),
				  sx.stx_mask & STATX_BASIC_STATS & ~STATX_ATIME) {
				TH_LOG("%s%s: stx_mask %#x", images[i], names[k],
				       sx.stx_mask);
			}
			EXPECT_EQ((__u64)st.st_size, sx.stx_size);
			EXPECT_EQ((__u64)st.st_blocks, sx.stx_blocks);
			EXPECT_EQ(st.st_mode, sx.stx_mode);
			EXPECT_EQ(st.st_nlink, sx.stx_nlink);
			EXPECT_EQ(st.st_uid, sx.stx_uid);
			EXPECT_EQ(st.st_gid, sx.stx_gid);
			EXPECT_EQ(st.st_ino, sx.stx_ino);
			EXPECT_EQ(st.st_mtim.tv_sec, sx.stx_mtime.tv_sec);
			EXPECT_EQ(st.st_mtim.tv_nsec, (long)sx.stx_mtime.tv_nsec);
			/* a regular file of 9 MiB takes its blocks */
			if (!strcmp(names[k], "/large"))
				EXPECT_LE(st.st_size / 512, (off_t)sx.stx_blocks);
		}
	}
}

/* /exec holds x86 "ret" instructions: map it executable and call it */
TEST_F(io, mmap_exec)
{
#if defined(__x86_64__) || defined(__i386__)
	for (unsigned int i = 0; i < NIMG; i++) {
		char path[512];
		void (*fn)(void);
		void *p;
		int fd;

		snprintf(path, sizeof(path), "%s/exec", self->dir[i]);
		fd = open(path, O_RDONLY);
		ASSERT_LE(0, fd);
		p = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
		ASSERT_NE(MAP_FAILED, p) {
			TH_LOG("%s: mmap(PROT_EXEC): %s", images[i], strerror(errno));
		}
		EXPECT_EQ(0xc3, *(unsigned char *)p);
		fn = (void (*)(void))p;
		fn();
		munmap(p, 4096);
		close(fd);
	}
#else
	SKIP(return, "x86 only");
#endif
}

/* telldir/seekdir round trip over a directory of many blocks */
TEST_F(io, readdir_offsets)
{
	for (unsigned int i = 0; i < NIMG; i++) {
		static long pos[1100];
		static char names[1100][256];
		struct dirent *d;
		char path[512];
		int n = 0;
		DIR *dp;

		snprintf(path, sizeof(path), "%s/dir", self->dir[i]);
		dp = opendir(path);
		ASSERT_NE(NULL, dp);
		for (;;) {
			long p = telldir(dp);

			d = readdir(dp);
			if (!d || n == 1100)
				break;
			pos[n] = p;
			snprintf(names[n++], sizeof(names[0]), "%s", d->d_name);
		}
		EXPECT_EQ(1002, n) {	/* 1000 files, ".", ".." */
			TH_LOG("%s: %d entries in dir/", images[i], n);
		}
		/* back and forth, in an order unlike the listing's */
		for (int k = 0; k < n; k++) {
			int j = (k * 389) % n;

			seekdir(dp, pos[j]);
			d = readdir(dp);
			ASSERT_NE(NULL, d);
			EXPECT_STREQ(names[j], d->d_name) {
				TH_LOG("%s: seekdir(%ld) gave %s, not %s",
				       images[i], pos[j], d->d_name, names[j]);
			}
		}
		closedir(dp);
	}
}

/* /proc/self/maps names the user's path for a mapping of the file */
TEST_F(io, proc_maps_path)
{
	for (unsigned int i = 0; i < NIMG; i++) {
		char path[512], line[1024], want[600];
		unsigned long start;
		int fd, found = 0;
		void *p;
		FILE *f;

		snprintf(path, sizeof(path), "%s/large", self->dir[i]);
		fd = open(path, O_RDONLY);
		ASSERT_LE(0, fd);
		p = mmap(NULL, 8192, PROT_READ, MAP_SHARED, fd, 0);
		ASSERT_NE(MAP_FAILED, p);
		(void)*(volatile char *)p;	/* fault it in */
		f = fopen("/proc/self/maps", "r");
		ASSERT_NE(NULL, f);
		snprintf(want, sizeof(want), " %s\n", path);
		while (fgets(line, sizeof(line), f)) {
			if (sscanf(line, "%lx-", &start) == 1 &&
			    start == (unsigned long)p) {
				found = 1;
				EXPECT_NE(NULL, strstr(line, want)) {
					TH_LOG("%s: maps line: %s", images[i], line);
				}
			}
		}
		EXPECT_TRUE(found);
		fclose(f);
		munmap(p, 8192);
		close(fd);
	}
}

/* a read lease on a read-only open, on every image (members among them) */
TEST_F(io, read_lease)
{
	char path[512];

	for (unsigned int i = 0; i < NIMG; i++) {
		int fd;

		snprintf(path, sizeof(path), "%s/large", self->dir[i]);
		fd = open(path, O_RDONLY);
		ASSERT_LE(0, fd);
		EXPECT_EQ(0, fcntl(fd, F_SETLEASE, F_RDLCK)) {
			TH_LOG("%s: F_SETLEASE F_RDLCK: %s", images[i],
			       strerror(errno));
		}
		EXPECT_EQ(F_RDLCK, fcntl(fd, F_GETLEASE));
		EXPECT_EQ(0, fcntl(fd, F_SETLEASE, F_UNLCK));
		EXPECT_EQ(F_UNLCK, fcntl(fd, F_GETLEASE));
		close(fd);
	}
}

/*
 * A mapping of a file of 2 MiB or more starts on a 2 MiB boundary
 * (thp_get_unmapped_area), so large page-cache folios can be mapped whole.
 */
TEST_F(io, mmap_pmd_aligned)
{
	const unsigned long pmd = 2UL << 20;
	char path[512];

	if (access("/sys/kernel/mm/transparent_hugepage", F_OK))
		SKIP(return, "kernel without transparent huge pages");
	for (unsigned int i = 0; i < NIMG; i++) {
		struct stat st;
		void *m;
		int fd;

		snprintf(path, sizeof(path), "%s/large", self->dir[i]);
		fd = open(path, O_RDONLY);
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, fstat(fd, &st));
		ASSERT_LE(pmd, (unsigned long)st.st_size);
		m = mmap(NULL, st.st_size, PROT_READ, MAP_SHARED, fd, 0);
		ASSERT_NE(MAP_FAILED, m);
		EXPECT_EQ(0UL, (unsigned long)m & (pmd - 1)) {
			TH_LOG("%s: mapped at %p", images[i], m);
		}
		munmap(m, st.st_size);
		close(fd);
	}
}

#ifndef FS_IOC_GETFSUUID	/* Linux 6.8; Debian 12's headers lack it */
struct fsuuid2 {
	__u8 len;
	__u8 uuid[16];
};
#define FS_IOC_GETFSUUID	_IOR(0x15, 0, struct fsuuid2)
#endif

/* what build-images.sh gives every image with -U */
static const __u8 image_uuid[16] = {
	0x6d, 0x2c, 0x1e, 0x7a, 0x1d, 0x0b, 0x4a, 0x55,
	0x9a, 0x40, 0x3c, 0x1b, 0x2a, 0x0e, 0x5f, 0x11,
};

/* the superblock carries the image's uuid, as stock erofs's does */
TEST_F(io, fs_uuid)
{
	struct fsuuid2 u;
	char e[256];
	int fd;

	if (!sfs_kernel_at_least(6, 8))
		SKIP(return, "FS_IOC_GETFSUUID needs Linux 6.8");
	for (unsigned int i = 0; i < NIMG; i++) {
		fd = open(self->dir[i], O_RDONLY | O_DIRECTORY);
		ASSERT_LE(0, fd);
		memset(&u, 0, sizeof(u));
		EXPECT_EQ(0, ioctl(fd, FS_IOC_GETFSUUID, &u)) {
			TH_LOG("%s: FS_IOC_GETFSUUID: %s", images[i],
			       strerror(errno));
		}
		EXPECT_EQ(16, u.len);
		EXPECT_EQ(0, memcmp(u.uuid, image_uuid, 16));
		close(fd);
	}
	/* the oracle: stock erofs on the same image says the same */
	ASSERT_EQ(0, sfs_mount_image("io", "erofs", NULL, e, sizeof(e)));
	fd = open(e, O_RDONLY | O_DIRECTORY);
	ASSERT_LE(0, fd);
	memset(&u, 0, sizeof(u));
	EXPECT_EQ(0, ioctl(fd, FS_IOC_GETFSUUID, &u));
	EXPECT_EQ(0, memcmp(u.uuid, image_uuid, 16));
	close(fd);
	EXPECT_EQ(0, sfs_umount(e));
}

/*
 * Compressed files (issue 14): the images of the 'zfull' tree that
 * mkfs.erofs 1.9 writes in several algorithms and layouts (the z-* images
 * of scripts/build-images.sh), mounted with sharefs and, where this
 * kernel's erofs reads the image (needs=), with stock erofs in the same
 * boot.  The reference bytes of a file are a read() through sharefs whose
 * SHA-256 is the source tree's (NAME.manifest); every other path must give
 * exactly those bytes, through sharefs and through stock erofs, and the
 * layout answers (SEEK_DATA/SEEK_HOLE, FIEMAP, statx) must be stock
 * erofs's, except where sharefs says more on purpose (FIEMAP flags, below).
 */
static const char *const zfiles[] = {
	"z/text1", "z/text100", "z/text4095", "z/text4096", "z/text4097",
	"z/text12289", "z/text65537", "z/text200001", "z/mixed", "z/large",
	"z/zeros", "z/dupB", "z/sparse", "dir/big",
};
#define NZFILES	(sizeof(zfiles) / sizeof(zfiles[0]))
#define ZSTEP	4093	/* an odd step: reads start everywhere in a block */

FIXTURE(zio) {
	char dir[256], edir[256];
	int mounted, stock;	/* stock: a stock erofs mount at edir */
	struct sfs_mf mf;	/* the source tree's manifest */
};

FIXTURE_VARIANT(zio) {
	const char *image;
	int needs_major, needs_minor;	/* the first Linux whose erofs reads it */
	const char *ksym;		/* the decompressor sharefs needs, or NULL */
};

/* the needs= of build-images.sh */
FIXTURE_VARIANT_ADD(zio, lz4) { .image = "z-lz4" };
FIXTURE_VARIANT_ADD(zio, lz4hc_big) { .image = "z-lz4hc", 5, 13 };
FIXTURE_VARIANT_ADD(zio, legacy) { .image = "z-legacy" };
FIXTURE_VARIANT_ADD(zio, ztail) { .image = "z-ztail", 5, 17 };
FIXTURE_VARIANT_ADD(zio, frag) { .image = "z-frag", 6, 1 };
FIXTURE_VARIANT_ADD(zio, b1k) { .image = "z-b1k", 6, 4 };
FIXTURE_VARIANT_ADD(zio, b512) { .image = "z-b512", 6, 4 };
FIXTURE_VARIANT_ADD(zio, deflate) { .image = "z-deflate", 6, 6 };
FIXTURE_VARIANT_ADD(zio, zstd) { .image = "z-zstd", 6, 10 };
FIXTURE_VARIANT_ADD(zio, lzma) { .image = "z-lzma", 6, 12, "xz_dec_microlzma_alloc" };

FIXTURE_SETUP(zio)
{
	char path[300];
	int ret;

	SFS_REQUIRE_SHAREFS(_metadata);
	/* diff_test checks that such a kernel fails these reads cleanly */
	if (variant->ksym && !sfs_have_ksym(variant->ksym))
		SKIP(return, "no %s in this kernel", variant->ksym);
	snprintf(path, sizeof(path), "%s/%s.manifest", SFS_IMAGES_DIR,
		 variant->image);
	ASSERT_EQ(0, sfs_mf_load(path, &self->mf));
	ret = sfs_mount_image(variant->image, "sharefs", NULL, self->dir,
			      sizeof(self->dir));
	ASSERT_EQ(0, ret) {
		TH_LOG("sharefs mount of %s: %s", variant->image, strerror(-ret));
	}
	self->mounted = 1;
	if (variant->needs_major &&
	    !sfs_kernel_at_least(variant->needs_major, variant->needs_minor)) {
		ksft_print_msg("%s: stock erofs of this kernel predates Linux %d.%d: "
			       "sharefs and the source only\n", variant->image,
			       variant->needs_major, variant->needs_minor);
		return;
	}
	ret = sfs_mount_image(variant->image, "erofs", NULL, self->edir,
			      sizeof(self->edir));
	ASSERT_EQ(0, ret) {
		TH_LOG("stock erofs mount of %s: %s", variant->image,
		       strerror(-ret));
	}
	self->stock = 1;
}

FIXTURE_TEARDOWN(zio)
{
	if (self->stock)
		EXPECT_EQ(0, sfs_umount(self->edir));
	if (self->mounted)
		EXPECT_EQ(0, sfs_umount(self->dir));
	sfs_mf_free(&self->mf);
}

/* the offset of the first byte where @a and @b differ, or -1 */
static long zdiff(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i] != b[i])
			return i;
	return -1;
}

/*
 * The reference: /NAME read whole through sharefs, its digest checked
 * against the source tree's.  NULL (and a failed expectation) otherwise.
 */
static char *zref(struct __test_metadata *_metadata, FIXTURE_DATA(zio) *self,
		  const char *name, size_t *len)
{
	const char *want = ref_digest(&self->mf, name);
	unsigned char d[32];
	char path[512], got[65], *buf;
	struct stat st;
	size_t n = 0;
	ssize_t r = 0;
	int fd;

	EXPECT_NE(NULL, want) {
		TH_LOG("/%s is not in the manifest", name);
	}
	snprintf(path, sizeof(path), "%s/%s", self->dir, name);
	fd = open(path, O_RDONLY);
	if (!want || fd < 0 || fstat(fd, &st))
		return NULL;
	buf = malloc(st.st_size + 1);
	while (n < (size_t)st.st_size &&
	       (r = read(fd, buf + n, st.st_size - n)) > 0)
		n += r;
	close(fd);
	SHA256((unsigned char *)buf, n, d);
	hex(d, got);
	EXPECT_EQ(0, strncmp(want, got, 64)) {
		TH_LOG("%s: read() of %s: %zu bytes, digest %s, source %.64s (%s)",
		       self->dir, name, n, got, want, r < 0 ? strerror(errno) : "");
		free(buf);
		return NULL;
	}
	*len = n;
	return buf;
}

/* open /NAME on the sharefs mount (which 0) or the stock erofs one (1) */
static int zopen(FIXTURE_DATA(zio) *self, int which, const char *name,
		 int flags)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", which ? self->edir : self->dir,
		 name);
	return open(path, O_RDONLY | flags);
}

static const char *const zwho[] = { "sharefs", "erofs" };

/* STATX_ATTR_COMPRESSED of @path at @dirfd (flags: statx's): 1, 0, -errno */
static int zcompressed(int dirfd, const char *path, int flags)
{
	struct statx sx;

	if (statx(dirfd, path, flags, STATX_BASIC_STATS, &sx))
		return -errno;
	return !!(sx.stx_attributes & STATX_ATTR_COMPRESSED);
}

/*
 * O_DIRECT preads of ZSTEP bytes at odd offsets into the misaligned @buf:
 * a compressed file gives the bytes; a plain one EINVAL, or the bytes
 * where the read lies in an inline tail.
 */
static void zdirect_misaligned(struct __test_metadata *_metadata, int fd,
			       const char *who, const char *name,
			       const char *ref, size_t len, int compressed,
			       char *buf)
{
	for (size_t off = 1; off < len; off += 7 * ZSTEP) {
		size_t want = len - off < ZSTEP ? len - off : ZSTEP;
		ssize_t n = pread(fd, buf, ZSTEP, off);
		int einval = n < 0 && errno == EINVAL;

		EXPECT_TRUE(n == (ssize_t)want || (!compressed && einval)) {
			TH_LOG("%s: O_DIRECT pread(%d at %zu) of %s (%s): %s",
			       who, ZSTEP, off, name,
			       compressed ? "compressed" : "plain",
			       n < 0 ? strerror(errno) : "short");
		}
		if (n != (ssize_t)want)
			continue;
		EXPECT_EQ(-1, zdiff(buf, ref + off, want)) {
			TH_LOG("%s: O_DIRECT pread at %zu of %s: byte %ld wrong",
			       who, off, name, zdiff(buf, ref + off, want));
		}
	}
}

/*
 * O_DIRECT.  A compressed file has no blocks that hold its bytes, so
 * sharefs serves O_DIRECT reads of one from the page cache, at any
 * alignment, as btrfs does for compressed extents: an application that
 * opens everything O_DIRECT still reads the image, and a misaligned read
 * gets its bytes.  A plain file of the same image reads its blocks
 * directly, and a misaligned read of them fails with EINVAL (a read that
 * iomap serves from an inline tail succeeds).  Stock erofs refuses the
 * open of a compressed file (EINVAL: no direct_IO for them) and reads
 * plain ones directly: both counted, its bytes checked, its misaligned
 * reads of plain files EINVAL too.
 */
TEST_F_TIMEOUT(zio, o_direct, 300)
{
	const size_t chunk = 65536;
	int stock_einval = 0, stock_read = 0;
	char *buf;

	ASSERT_EQ(0, posix_memalign((void **)&buf, 4096, chunk + 4096));
	for (unsigned int f = 0; f < NZFILES; f++) {
		size_t len, got;
		char *ref = zref(_metadata, self, zfiles[f], &len);

		if (!ref)
			continue;
		for (int w = 0; w <= self->stock; w++) {
			int fd = zopen(self, w, zfiles[f], O_DIRECT);
			ssize_t n;
			long at;

			if (fd < 0 && w == 1) {
				EXPECT_EQ(EINVAL, errno);
				stock_einval++;
				continue;
			}
			ASSERT_LE(0, fd) {
				TH_LOG("%s: open(%s, O_DIRECT): %s", zwho[w],
				       zfiles[f], strerror(errno));
			}
			stock_read += w;
			/* aligned: the whole file in 64 KiB reads */
			for (got = 0; (n = read(fd, buf, chunk)) > 0; got += n) {
				if (got + n > len)
					break;
				at = zdiff(buf, ref + got, n);
				if (at >= 0)
					break;
			}
			EXPECT_EQ(len, got) {
				TH_LOG("%s: O_DIRECT read of %s: %zu of %zu bytes right (%s)",
				       zwho[w], zfiles[f], got, len,
				       n < 0 ? strerror(errno) : "wrong bytes");
			}
			close(fd);
			fd = zopen(self, w, zfiles[f], O_DIRECT);
			zdirect_misaligned(_metadata, fd, zwho[w], zfiles[f], ref, len,
					   zcompressed(fd, "", AT_EMPTY_PATH), buf + 1);
			close(fd);
		}
		free(ref);
	}
	if (self->stock)
		ksft_print_msg("%s: stock erofs: O_DIRECT open EINVAL for %d files, "
			       "read directly %d\n", variant->image, stock_einval,
			       stock_read);
	free(buf);
}

static off_t zseek(int fd, off_t at, int whence)
{
	off_t r = lseek(fd, at, whence);

	return r < 0 ? -errno : r;
}

/* [from, to) of @ref is all zero bytes: what a hole reads as */
static int zzero(const char *ref, off_t from, off_t to)
{
	for (off_t i = from; i < to; i++)
		if (ref[i])
			return 0;
	return 1;
}

/*
 * SEEK_DATA/SEEK_HOLE.  What a user may rely on: SEEK_DATA never skips a
 * nonzero byte, SEEK_HOLE never lands on one (a hole reads as zeros), both
 * give ENXIO at and past EOF only.  mkfs.erofs stores the zeros of a
 * sparse source file compressed, so a compressed file is data from 0 to
 * EOF (the generic answers); stock erofs, where it mounts, must answer the
 * same.
 */
TEST_F_TIMEOUT(zio, seek_data_hole, 120)
{
	static const int whence[] = { SEEK_DATA, SEEK_HOLE };

	for (unsigned int f = 0; f < NZFILES; f++) {
		size_t len;
		char *ref = zref(_metadata, self, zfiles[f], &len);
		off_t at[] = { 0, 1, ZSTEP, len / 2, (off_t)len - 1, len,
			       len + 4096 };
		int fd, efd;

		if (!ref)
			continue;
		fd = zopen(self, 0, zfiles[f], 0);
		efd = self->stock ? zopen(self, 1, zfiles[f], 0) : -1;
		ASSERT_LE(0, fd);
		for (unsigned int i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
			for (int k = 0; k < 2; k++) {
				off_t got, next, ok;

				if (at[i] < 0)
					continue;
				got = zseek(fd, at[i], whence[k]);
				if (at[i] >= (off_t)len)
					ok = got == -ENXIO;
				else if (whence[k] == SEEK_DATA)
					ok = got >= at[i] && got < (off_t)len &&
					     zzero(ref, at[i], got);
				else
					ok = got >= at[i] && got <= (off_t)len &&
					     (next = zseek(fd, got, SEEK_DATA),
					      zzero(ref, got, next < 0 ? (off_t)len : next));
				EXPECT_TRUE(ok) {
					TH_LOG("%s: lseek(%lld, %s) = %lld, size %zu",
					       zfiles[f], (long long)at[i],
					       k ? "SEEK_HOLE" : "SEEK_DATA",
					       (long long)got, len);
				}
				if (efd < 0)
					continue;
				EXPECT_EQ(zseek(efd, at[i], whence[k]), got) {
					TH_LOG("%s: lseek(%lld, %s): sharefs %lld, stock erofs %lld",
					       zfiles[f], (long long)at[i],
					       k ? "SEEK_HOLE" : "SEEK_DATA", (long long)got,
					       (long long)zseek(efd, at[i], whence[k]));
				}
			}
		}
		close(fd);
		if (efd >= 0)
			close(efd);
		free(ref);
	}
}

/*
 * The FIEMAP flags sharefs adds to stock erofs's (which reports a
 * compressed extent as a plain mapped one, flags 0): ENCODED on every
 * extent of a compressed file, as btrfs does, because its blocks do not
 * hold the bytes as they read (filefrag and copy tools must not read
 * them raw); DATA_INLINE and NOT_ALIGNED on a tail packed into the
 * metadata block (ztailpacking), as for a plain file's inline tail; and
 * UNKNOWN for a tail in the packed inode (fragments), whose physical
 * address both report as 0.  And where a plain file's inline tail lies
 * (its byte address in the metadata block, as ext4 reports its inline
 * data), where stock erofs says 0.
 */
#define ZFIEMAP_OURS	(FIEMAP_EXTENT_ENCODED | FIEMAP_EXTENT_DATA_INLINE | \
			 FIEMAP_EXTENT_NOT_ALIGNED | FIEMAP_EXTENT_UNKNOWN)

/* sharefs's extents of one file: in order, within the file, LAST last */
static void zcheck_extents(struct __test_metadata *_metadata, const char *name,
			   const struct fiemap *fm, size_t len, int compressed)
{
	__u64 next = 0;

	ASSERT_LT(0, (int)fm->fm_mapped_extents) {
		TH_LOG("%s: no extents", name);
	}
	for (unsigned int i = 0; i < fm->fm_mapped_extents; i++) {
		const struct fiemap_extent *e = &fm->fm_extents[i];

		EXPECT_LE(next, e->fe_logical) {
			TH_LOG("%s: extent %u at %llu overlaps the one before",
			       name, i, e->fe_logical);
		}
		/* a compressed file maps every byte: erofs has no holes in one */
		if (compressed)
			EXPECT_EQ(next, e->fe_logical) {
				TH_LOG("%s: extent %u at %llu, expected %llu",
				       name, i, e->fe_logical, next);
			}
		EXPECT_EQ(!!compressed, !!(e->fe_flags & FIEMAP_EXTENT_ENCODED)) {
			TH_LOG("%s: extent %u flags %#x, compressed %d", name, i,
			       e->fe_flags, compressed);
		}
		next = e->fe_logical + e->fe_length;
	}
	EXPECT_LE(len, next) {
		TH_LOG("%s: extents end at %llu, size %zu", name, next, len);
	}
	EXPECT_TRUE(!!(fm->fm_extents[fm->fm_mapped_extents - 1].fe_flags &
		    FIEMAP_EXTENT_LAST));
}

/* sharefs's extents against stock erofs's: equal but for ZFIEMAP_OURS */
static void zcompare_extents(struct __test_metadata *_metadata, const char *name,
			     const struct fiemap *fm, const struct fiemap *efm)
{
	EXPECT_EQ(efm->fm_mapped_extents, fm->fm_mapped_extents) {
		TH_LOG("%s: %u extents, stock erofs %u", name,
		       fm->fm_mapped_extents, efm->fm_mapped_extents);
	}
	for (unsigned int i = 0; i < fm->fm_mapped_extents &&
			  i < efm->fm_mapped_extents; i++) {
		const struct fiemap_extent *e = &fm->fm_extents[i];
		const struct fiemap_extent *s = &efm->fm_extents[i];
		/* where an inline tail lies: stock erofs says 0 */
		int inline0 = (e->fe_flags & FIEMAP_EXTENT_DATA_INLINE) &&
			      !s->fe_physical;
		int same = e->fe_logical == s->fe_logical &&
			   e->fe_length == s->fe_length &&
			   (e->fe_physical == s->fe_physical || inline0) &&
			   (e->fe_flags & ~ZFIEMAP_OURS) ==
			   (s->fe_flags & ~ZFIEMAP_OURS);

		EXPECT_TRUE(same) {
			TH_LOG("%s: extent %u: sharefs [%llu +%llu] @%llu flags %#x, "
			       "stock erofs [%llu +%llu] @%llu flags %#x", name, i,
			       e->fe_logical, e->fe_length, e->fe_physical,
			       e->fe_flags, s->fe_logical, s->fe_length,
			       s->fe_physical, s->fe_flags);
		}
		if (!same)
			break;
	}
}

TEST_F_TIMEOUT(zio, fiemap, 120)
{
	int ncompressed = 0;

	for (unsigned int f = 0; f < NZFILES; f++) {
		struct fiemap *fm, *efm;
		char path[512], epath[512];
		size_t len;
		char *ref = zref(_metadata, self, zfiles[f], &len);
		int z, ret;

		if (!ref)
			continue;
		snprintf(path, sizeof(path), "%s/%s", self->dir, zfiles[f]);
		snprintf(epath, sizeof(epath), "%s/%s", self->edir, zfiles[f]);
		z = zcompressed(AT_FDCWD, path, 0);
		ASSERT_LE(0, z);
		if (self->stock)
			EXPECT_EQ(zcompressed(AT_FDCWD, epath, 0), z) {
				TH_LOG("%s: STATX_ATTR_COMPRESSED differs", zfiles[f]);
			}
		ncompressed += z;
		ret = fiemap(path, &fm);
		ASSERT_EQ(0, ret) {
			TH_LOG("%s: FIEMAP: %s", zfiles[f], strerror(-ret));
		}
		zcheck_extents(_metadata, zfiles[f], fm, len, z);
		if (self->stock) {
			ASSERT_EQ(0, fiemap(epath, &efm));
			zcompare_extents(_metadata, zfiles[f], fm, efm);
			free(efm);
		}
		free(fm);
		free(ref);
	}
	/* the image must hold compressed files for this to test anything */
	EXPECT_LT(NZFILES / 2, (size_t)ncompressed);
}

/* @len bytes from @off through a pipe, in splice or sendfile calls of
 * @step bytes, into @out; bytes moved or -errno */
static ssize_t zpipe(int fd, off_t off, size_t len, size_t step, int use_splice,
		     char *out)
{
	ssize_t done = 0, n;
	loff_t pos = off;
	int p[2];

	if (pipe(p))
		return -errno;
	while ((size_t)done < len) {
		off_t spos = pos;

		n = use_splice ? splice(fd, &pos, p[1], NULL, step, 0) :
				 sendfile(p[1], fd, &spos, step);
		if (n <= 0) {
			if (n < 0)
				done = -errno;
			break;
		}
		if (!use_splice)
			pos = spos;
		for (ssize_t r, k = 0; k < n; k += r) {
			r = read(p[0], out + done + k, n - k);
			if (r <= 0) {
				done = -EIO;
				goto out;
			}
		}
		done += n;
	}
out:
	close(p[0]);
	close(p[1]);
	return done;
}

/* splice and sendfile from odd offsets in odd steps, through both drivers */
TEST_F_TIMEOUT(zio, splice_sendfile, 300)
{
	static const struct { off_t off; size_t step; } runs[] = {
		{ 0, 65536 }, { 1, 12289 }, { ZSTEP, ZSTEP },
	};

	for (unsigned int f = 0; f < NZFILES; f++) {
		size_t len;
		char *ref = zref(_metadata, self, zfiles[f], &len), *out;

		if (!ref)
			continue;
		out = malloc(len + 1);
		for (int w = 0; w <= self->stock; w++) {
			for (unsigned int r = 0; r < 3; r++) {
				for (int use_splice = 0; use_splice < 2; use_splice++) {
					off_t off = runs[r].off > (off_t)len ? (off_t)len :
						    runs[r].off;
					int fd = zopen(self, w, zfiles[f], 0);
					ssize_t n;

					ASSERT_LE(0, fd);
					n = zpipe(fd, off, len - off, runs[r].step,
						  use_splice, out);
					close(fd);
					EXPECT_EQ((ssize_t)(len - off), n) {
						TH_LOG("%s: %s of %s from %lld by %zu: %zd",
						       zwho[w], use_splice ? "splice" : "sendfile",
						       zfiles[f], (long long)off, runs[r].step, n);
					}
					if (n != (ssize_t)(len - off))
						continue;
					EXPECT_EQ(-1, zdiff(out, ref + off, n)) {
						TH_LOG("%s: %s of %s from %lld: byte %ld wrong",
						       zwho[w], use_splice ? "splice" : "sendfile",
						       zfiles[f], (long long)off,
						       zdiff(out, ref + off, n));
					}
				}
			}
		}
		free(out);
		free(ref);
	}
}

/*
 * mmap, shared and private, from a page in the middle of the file, its
 * pages faulted last to first after FADV_DONTNEED, so each fault
 * decompresses a pcluster from an offset inside it; the last page's bytes
 * past EOF read as zeros.
 */
TEST_F_TIMEOUT(zio, mmap, 300)
{
	const long pg = sysconf(_SC_PAGESIZE);

	for (unsigned int f = 0; f < NZFILES; f++) {
		size_t len;
		char *ref = zref(_metadata, self, zfiles[f], &len);

		if (!ref)
			continue;
		for (int w = 0; w <= self->stock; w++) {
			for (int shared = 0; shared < 2; shared++) {
				off_t off = (len / 2) / pg * pg;
				size_t maplen = (len - off + pg - 1) / pg * pg;
				int fd = zopen(self, w, zfiles[f], 0);
				char *p;
				long bad = -1;

				ASSERT_LE(0, fd);
				posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
				p = mmap(NULL, maplen, PROT_READ,
					 shared ? MAP_SHARED : MAP_PRIVATE, fd, off);
				close(fd);
				ASSERT_NE(MAP_FAILED, p);
				for (long k = maplen / pg - 1; k >= 0 && bad < 0; k--) {
					size_t from = k * pg, to = from + pg;

					if (off + to > len)
						to = len - off;
					bad = zdiff(p + from, ref + off + from, to - from);
					if (bad >= 0)
						bad += off + from;
				}
				EXPECT_EQ(-1, bad) {
					TH_LOG("%s: %s mapping of %s at %lld: byte %ld wrong",
					       zwho[w], shared ? "shared" : "private",
					       zfiles[f], (long long)off, bad);
				}
				EXPECT_TRUE(zzero(p, len - off, maplen)) {
					TH_LOG("%s: %s: bytes past EOF not zero", zwho[w],
					       zfiles[f]);
				}
				munmap(p, maplen);
			}
		}
		free(ref);
	}
}

/*
 * pread of ZSTEP bytes at every ZSTEP-byte step, last to first from a cold
 * cache (each read starts at a new offset inside a block and, in turn,
 * inside and across extents), then of 2 * ZSTEP + 5 bytes first to last,
 * overlapping: every read right, through both drivers.
 */
TEST_F_TIMEOUT(zio, pread_steps, 600)
{
	char *buf = malloc(2 * ZSTEP + 5);

	for (unsigned int f = 0; f < NZFILES; f++) {
		size_t len;
		char *ref = zref(_metadata, self, zfiles[f], &len);

		if (!ref)
			continue;
		for (int w = 0; w <= self->stock; w++) {
			int fd = zopen(self, w, zfiles[f], 0), errs = 0;

			ASSERT_LE(0, fd);
			posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
			for (int pass = 0; pass < 2 && !errs; pass++) {
				size_t n = pass ? 2 * ZSTEP + 5 : ZSTEP;
				long steps = len / ZSTEP + 1;

				for (long k = 0; k < steps && !errs; k++) {
					off_t off = (pass ? k : steps - 1 - k) * ZSTEP;
					size_t want = len - off < n ? len - off : n;
					ssize_t got = pread(fd, buf, n, off);

					errs = got != (ssize_t)want ||
					       zdiff(buf, ref + off, want) >= 0;
					EXPECT_FALSE(errs) {
						TH_LOG("%s: pread(%zu at %lld) of %s: %zd, %s",
						       zwho[w], n, (long long)off,
						       zfiles[f], got,
						       got < 0 ? strerror(errno) :
						       "wrong bytes or length");
					}
				}
			}
			EXPECT_EQ(0, pread(fd, buf, 1, len));
			close(fd);
		}
		free(ref);
	}
	free(buf);
}

TEST_HARNESS_MAIN
