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
	const unsigned int max = 512;
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

TEST_HARNESS_MAIN
