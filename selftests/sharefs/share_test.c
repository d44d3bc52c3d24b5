// SPDX-License-Identifier: GPL-2.0-only
/*
 * share_test - page-cache sharing, proven by the page cache itself.
 *
 * Images (scripts/build-images.sh):
 *   share-a     mkfs.sharefs of the "share" tree: lib/big.so (4 MiB), ...
 *   share-b     the same content at other paths (usr/lib/big.so), plus
 *               files of its own
 *   share-a1k   share-a built with 1 KiB blocks: shares only with 1 KiB blocks
 *   share-e19   the "share" tree by unstable's mkfs.erofs
 *               --xattr-inode-digest=trusted.fingerprint (the upstream
 *               ishare pointer)
 *   share-lie   lib/big.so's fingerprint on a file of another size
 *   share-spoof lib/big.so's fingerprint and size on other content
 *   sharez-*    4 MiB of text at lib/big.so: uncompressed (plain),
 *               LZ4HC with 64 KiB pclusters (lz4), zstd (zstd)
 *   share-cx    lib/chunky.so, chunk-based, its 4 KiB chunks interleaved
 *   share-cy    in runs with lib/pad.so's: the same content at other
 *               block addresses in cx and cy
 *
 * Sharing is shown by equal page-frame numbers (/proc/self/pagemap), by
 * mincore() residency through one path after reading another, and by
 * /proc/meminfo's Cached growing once.  Not sharing is shown the same way.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "sfs.h"

#define BIG_A	"lib/big.so"
#define BIG_B	"usr/lib/big.so"
#define BIG_SIZE	(4 << 20)

static char *path_in(const char *dir, const char *rel)
{
	static char buf[4][512];
	static int n;
	char *p = buf[n++ % 4];

	snprintf(p, sizeof(buf[0]), "%s/%s", dir, rel);
	return p;
}

/* pages of the file resident in the page cache, through mincore() */
static long resident_pages(const char *path)
{
	long psz = sysconf(_SC_PAGESIZE), pages, count = 0;
	unsigned char *vec;
	struct stat st;
	void *map;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || fstat(fd, &st))
		return -1;
	pages = (st.st_size + psz - 1) / psz;
	map = mmap(NULL, st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		return -1;
	vec = calloc(pages, 1);
	if (mincore(map, st.st_size, vec) == 0)
		for (long i = 0; i < pages; i++)
			count += vec[i] & 1;
	free(vec);
	munmap(map, st.st_size);
	return count;
}

/* Two mounts, optionally with options each; unmounted by the fixture. */
FIXTURE(two) {
	char a[256], b[256];
	int have_a, have_b;
};

FIXTURE_SETUP(two)
{
	self->have_a = self->have_b = 0;
	if (getuid() != 0 || !sfs_have_fs("sharefs"))
		SKIP(return, "needs root and sharefs");
	sfs_drop_caches("3");
}

FIXTURE_TEARDOWN(two)
{
	if (self->have_a)
		sfs_umount(self->a);
	if (self->have_b)
		sfs_umount(self->b);
}

static int mount2(struct _test_data_two *self, const char *ia,
		  const char *oa, const char *ib, const char *ob)
{
	int ret = sfs_mount_image(ia, "sharefs", oa, self->a, sizeof(self->a));

	if (ret)
		return ret;
	self->have_a = 1;
	ret = sfs_mount_image(ib, "sharefs", ob, self->b, sizeof(self->b));
	if (ret)
		return ret;
	self->have_b = 1;
	return 0;
}

/* read() through A fills the page cache that B's mapping then uses */
TEST_F(two, read_then_pfns_equal)
{
	long pages = 0, same;

	ASSERT_EQ(0, mount2(self, "share-a", "domain=t1", "share-b", "domain=t1"));
	ASSERT_EQ(BIG_SIZE, sfs_read_all(path_in(self->a, BIG_A)));
	/* B's path was never read: all its pages are there already */
	EXPECT_EQ(BIG_SIZE / 4096, resident_pages(path_in(self->b, BIG_B)));
	same = sfs_same_pfns(path_in(self->a, BIG_A), path_in(self->b, BIG_B), &pages);
	EXPECT_EQ(pages, same);
	EXPECT_EQ(BIG_SIZE / 4096, pages);
}

/* sendfile (splice) through B serves A's mapping too */
TEST_F(two, splice_shares)
{
	int in, out;
	off_t off = 0;
	long pages = 0;

	ASSERT_EQ(0, mount2(self, "share-a", "domain=t1", "share-b", "domain=t1"));
	in = open(path_in(self->b, BIG_B), O_RDONLY);
	out = open("/dev/null", O_WRONLY);
	ASSERT_GE(in, 0);
	ASSERT_GE(out, 0);
	while (off < BIG_SIZE)
		ASSERT_LT(0, sendfile(out, in, &off, BIG_SIZE - off));
	close(in);
	close(out);
	EXPECT_EQ(BIG_SIZE / 4096, resident_pages(path_in(self->a, BIG_A)));
	EXPECT_EQ(BIG_SIZE / 4096,
		  sfs_same_pfns(path_in(self->b, BIG_B), path_in(self->a, BIG_A), &pages));
}

/*
 * Images with 1 KiB blocks share with each other, not with 4 KiB ones: the
 * block size is part of the share key (share.c), and the content reads
 * right either way.
 */
TEST_F(two, block_size_is_part_of_the_key)
{
	char c[256];
	long pages = 0;
	size_t la, lb;
	char *da, *db;

	ASSERT_EQ(0, mount2(self, "share-a1k", "domain=t1", "share-b", "domain=t1"));
	ASSERT_EQ(BIG_SIZE, sfs_read_all(path_in(self->a, BIG_A)));
	EXPECT_EQ(0, resident_pages(path_in(self->b, BIG_B)));
	/* another mount of 1 KiB-block content shares with the first */
	ASSERT_EQ(0, sfs_mount_image("share-a1k", "sharefs", "domain=t1", c, sizeof(c)));
	EXPECT_EQ(BIG_SIZE / 4096, resident_pages(path_in(c, BIG_A)));
	EXPECT_EQ(BIG_SIZE / 4096,
		  sfs_same_pfns(path_in(self->a, BIG_A), path_in(c, BIG_A), &pages));
	/* every small file (inline tails among them) reads right */
	da = sfs_slurp_at(self->a, "etc/motd", &la);
	db = sfs_slurp_at(self->b, "etc/motd", &lb);
	ASSERT_NE(NULL, da);
	ASSERT_NE(NULL, db);
	ASSERT_EQ(la, lb);
	EXPECT_EQ(0, memcmp(da, db, la));
	free(da);
	free(db);
	EXPECT_EQ(0, sfs_umount(c));
}

/* Cached grows by the file once, not twice */
TEST_F(two, meminfo_cached_once)
{
	long before, after_a, after_b;

	ASSERT_EQ(0, mount2(self, "share-a", "domain=t1", "share-b", "domain=t1"));
	before = sfs_meminfo_kb("Cached");
	ASSERT_EQ(BIG_SIZE, sfs_read_all(path_in(self->a, BIG_A)));
	after_a = sfs_meminfo_kb("Cached");
	ASSERT_EQ(BIG_SIZE, sfs_read_all(path_in(self->b, BIG_B)));
	after_b = sfs_meminfo_kb("Cached");
	TH_LOG("Cached: +%ld KiB for A, +%ld KiB for B", after_a - before,
	       after_b - after_a);
	EXPECT_GE(after_a - before, BIG_SIZE / 1024 * 9 / 10);
	EXPECT_LT(after_b - after_a, BIG_SIZE / 1024 / 10);
}

/* different domains never share */
TEST_F(two, domains_do_not_share)
{
	long pages = 0;

	ASSERT_EQ(0, mount2(self, "share-a", "domain=t1", "share-b", "domain=t2"));
	ASSERT_EQ(BIG_SIZE, sfs_read_all(path_in(self->a, BIG_A)));
	EXPECT_EQ(0, resident_pages(path_in(self->b, BIG_B)));
	EXPECT_EQ(0, sfs_same_pfns(path_in(self->a, BIG_A), path_in(self->b, BIG_B), &pages));
}

/* the default domain shares with itself, not with a named one */
TEST_F(two, default_domain)
{
	ASSERT_EQ(0, mount2(self, "share-a", NULL, "share-b", NULL));
	ASSERT_EQ(BIG_SIZE, sfs_read_all(path_in(self->a, BIG_A)));
	EXPECT_EQ(BIG_SIZE / 4096, resident_pages(path_in(self->b, BIG_B)));
}

/* noshare: a plain reader */
TEST_F(two, noshare_does_not_share)
{
	long pages = 0;

	ASSERT_EQ(0, mount2(self, "share-a", "domain=t1", "share-b", "domain=t1,noshare"));
	ASSERT_EQ(BIG_SIZE, sfs_read_all(path_in(self->a, BIG_A)));
	EXPECT_EQ(0, resident_pages(path_in(self->b, BIG_B)));
	EXPECT_EQ(0, sfs_same_pfns(path_in(self->a, BIG_A), path_in(self->b, BIG_B), &pages));
}

/* a fingerprint on a file of another size: warned about, not shared */
TEST_F(two, size_mismatch_falls_back)
{
	char ref[] = "this file claims big.so's fingerprint\n";
	size_t len;
	char *data;

	sfs_kmsg_mark();
	ASSERT_EQ(0, mount2(self, "share-a", "domain=t1", "share-lie", "domain=t1"));
	ASSERT_EQ(BIG_SIZE, sfs_read_all(path_in(self->a, BIG_A)));
	data = sfs_slurp_at(self->b, BIG_A, &len);
	ASSERT_NE(NULL, data);
	ASSERT_EQ(strlen(ref), len);
	EXPECT_EQ(0, memcmp(ref, data, len));
	free(data);
	EXPECT_TRUE(sfs_kmsg_has("not sharing"));
}

/*
 * A spoofed fingerprint (same size, other content) in another domain
 * cannot feed its content to the victim, even when it is read first.
 */
TEST_F(two, spoof_across_domains_fails)
{
	size_t la, lb;
	char *victim, *attacker;
	void *buf;
	int fd;

	ASSERT_EQ(0, mount2(self, "share-spoof", "domain=evil", "share-a", "domain=good"));
	attacker = sfs_slurp_at(self->a, BIG_A, &la);	/* read first */
	victim = sfs_slurp_at(self->b, BIG_A, &lb);
	ASSERT_NE(NULL, attacker);
	ASSERT_NE(NULL, victim);
	ASSERT_EQ(la, lb);
	EXPECT_NE(0, memcmp(attacker, victim, la));
	/* the victim's bytes are its own: compare with its first page */
	fd = open(path_in(self->b, BIG_A), O_RDONLY | O_DIRECT);
	ASSERT_LE(0, fd) {
		TH_LOG("O_DIRECT open: %s", strerror(errno));
	}
	ASSERT_EQ(0, posix_memalign(&buf, 4096, 4096));
	ASSERT_EQ(4096, pread(fd, buf, 4096, 0));
	EXPECT_EQ(0, memcmp(buf, victim, 4096));
	free(buf);
	close(fd);
	free(attacker);
	free(victim);
}

/* images built by unstable's mkfs.erofs --xattr-inode-digest share too */
TEST_F(two, upstream_ishare_images_share)
{
	long pages = 0;

	ASSERT_EQ(0, mount2(self, "share-e19", "domain=t1", "share-a", "domain=t1"));
	ASSERT_EQ(BIG_SIZE, sfs_read_all(path_in(self->a, BIG_A)));
	EXPECT_EQ(BIG_SIZE / 4096, resident_pages(path_in(self->b, BIG_A)));
	EXPECT_EQ(BIG_SIZE / 4096,
		  sfs_same_pfns(path_in(self->a, BIG_A), path_in(self->b, BIG_A), &pages));
}

/*
 * Compressed members share one page cache with each other, whatever the
 * algorithm, and with uncompressed members (upstream refuses that pairing):
 * the first image read fills it, the second maps the same pages.
 */
static void share_pair(struct __test_metadata *_metadata,
		       struct _test_data_two *self, const char *ia,
		       const char *ib)
{
	long pages = 0;
	size_t la, lb;
	char *a, *b;

	ASSERT_EQ(0, mount2(self, ia, "domain=z", ib, "domain=z"));
	ASSERT_EQ(BIG_SIZE, sfs_read_all(path_in(self->a, BIG_A)));
	EXPECT_EQ(BIG_SIZE / 4096, resident_pages(path_in(self->b, BIG_A)));
	EXPECT_EQ(BIG_SIZE / 4096,
		  sfs_same_pfns(path_in(self->a, BIG_A), path_in(self->b, BIG_A), &pages));
	a = sfs_slurp_at(self->a, "lib/odd.so", &la);
	b = sfs_slurp_at(self->b, "lib/odd.so", &lb);
	ASSERT_TRUE(a && b);
	EXPECT_TRUE(la == lb && !memcmp(a, b, la));
	free(a);
	free(b);
}

TEST_F(two, compressed_lz4_and_zstd_share)
{
	share_pair(_metadata, self, "sharez-lz4", "sharez-zstd");
}

TEST_F(two, compressed_fills_plain_maps)
{
	share_pair(_metadata, self, "sharez-lz4", "sharez-plain");
}

TEST_F(two, plain_fills_compressed_maps)
{
	share_pair(_metadata, self, "sharez-plain", "sharez-zstd");
}

/* drop_caches frees the shared pages */
TEST_F(two, drop_caches_frees)
{
	ASSERT_EQ(0, mount2(self, "share-a", "domain=t1", "share-b", "domain=t1"));
	ASSERT_EQ(BIG_SIZE, sfs_read_all(path_in(self->a, BIG_A)));
	ASSERT_EQ(BIG_SIZE / 4096, resident_pages(path_in(self->b, BIG_B)));
	sfs_drop_caches("3");
	EXPECT_EQ(0, resident_pages(path_in(self->a, BIG_A)));
	EXPECT_EQ(0, resident_pages(path_in(self->b, BIG_B)));
}

/* the counters see the sharing */
TEST_F(two, counters)
{
	char p[512];
	const char *dev;

	ASSERT_EQ(0, mount2(self, "share-a", "domain=t1", "share-b", "domain=t1"));
	ASSERT_EQ(BIG_SIZE, sfs_read_all(path_in(self->a, BIG_A)));
	ASSERT_EQ(BIG_SIZE, sfs_read_all(path_in(self->b, BIG_B)));
	EXPECT_GE(sfs_read_num("/sys/fs/sharefs/shared_inodes"), 1);
	EXPECT_GE(sfs_read_num("/sys/fs/sharefs/members"), 2);
	EXPECT_GE(sfs_read_num("/sys/fs/sharefs/resident_bytes"), BIG_SIZE);
	EXPECT_GE(sfs_read_num("/sys/fs/sharefs/saved_bytes"), BIG_SIZE);
	/* per mount: each one's even share of the saving */
	dev = sfs_mount_source(self->a);
	ASSERT_NE(NULL, dev);
	snprintf(p, sizeof(p), "/sys/fs/sharefs/%s/saved_bytes", dev);
	EXPECT_GE(sfs_read_num(p), BIG_SIZE / 2);
	snprintf(p, sizeof(p), "/sys/fs/sharefs/%s/members", dev);
	EXPECT_GE(sfs_read_num(p), 1);
}

/*
 * Files join their shared inode at first open, not at lookup: stat and
 * xattr reads leave the counters alone, the first open counts.
 */
TEST_F(two, stat_does_not_join)
{
	struct stat st;
	char buf[64];

	ASSERT_EQ(0, mount2(self, "share-a", "domain=lazy", "share-b", "domain=lazy"));
	ASSERT_EQ(0, lstat(path_in(self->a, BIG_A), &st));
	ASSERT_EQ(BIG_SIZE, st.st_size);
	ASSERT_LT(0, lgetxattr(path_in(self->a, BIG_A), "trusted.fingerprint",
			       buf, sizeof(buf)));
	EXPECT_EQ(0, sfs_mount_counter(self->a, "members"));
	EXPECT_EQ(0, sfs_mount_counter(self->b, "members"));
	ASSERT_EQ(BIG_SIZE, sfs_read_all(path_in(self->a, BIG_A)));
	EXPECT_EQ(1, sfs_mount_counter(self->a, "members"));
	/* B's copy joins when it is opened, and finds A's pages */
	EXPECT_EQ(BIG_SIZE / 4096, resident_pages(path_in(self->b, BIG_B)));
	EXPECT_EQ(1, sfs_mount_counter(self->b, "members"));
}

/*
 * Read all of @fd, counting the 64 KiB pieces that differ from @ref in
 * *mismatches; -1 if the read failed or came up short of BIG_SIZE.
 */
static int read_compare(int fd, const char *ref, long *mismatches)
{
	static __thread char buf[1 << 16];
	off_t off = 0;
	ssize_t n;

	while ((n = pread(fd, buf, sizeof(buf), off)) > 0) {
		if (memcmp(buf, ref + off, n))
			(*mismatches)++;
		off += n;
	}
	return n < 0 || off != BIG_SIZE ? -1 : 0;
}

struct opener {
	pthread_barrier_t *go;
	const char *path;
	const char *ref;
	long errors;
};

/* wait for the others, then open and read the whole file once */
static void *opener_fn(void *arg)
{
	struct opener *o = arg;
	int fd;

	pthread_barrier_wait(o->go);
	fd = open(o->path, O_RDONLY);
	if (fd < 0) {
		o->errors++;
		return NULL;
	}
	if (read_compare(fd, o->ref, &o->errors))
		o->errors++;
	close(fd);
	return NULL;
}

/*
 * Many first opens of the same content through two mounts at once: every
 * reader gets the right bytes, each file joins once, and both end up on
 * one page cache.
 */
TEST_F(two, racing_first_opens)
{
	enum { N = 8 };
	struct opener o[N];
	pthread_barrier_t go;
	pthread_t t[N];
	long pages = 0;
	size_t len;
	char *ref;
	char c[256], pa[512], pb[512];

	/* the reference bytes through a mount of their own, no sharing */
	ASSERT_EQ(0, sfs_mount_image("share-a", "sharefs", "noshare", c, sizeof(c)));
	ref = sfs_slurp_at(c, BIG_A, &len);
	EXPECT_EQ(0, sfs_umount(c));
	ASSERT_NE(NULL, ref);
	ASSERT_EQ((size_t)BIG_SIZE, len);
	ASSERT_EQ(0, mount2(self, "share-a", "domain=race", "share-b", "domain=race"));
	/* path_in()'s buffers are reused: the threads get their own */
	snprintf(pa, sizeof(pa), "%s/%s", self->a, BIG_A);
	snprintf(pb, sizeof(pb), "%s/%s", self->b, BIG_B);
	sfs_drop_caches("3");
	pthread_barrier_init(&go, NULL, N);
	for (int i = 0; i < N; i++) {
		o[i] = (struct opener){ &go, i & 1 ? pb : pa, ref, 0 };
		ASSERT_EQ(0, pthread_create(&t[i], NULL, opener_fn, &o[i]));
	}
	for (int i = 0; i < N; i++) {
		pthread_join(t[i], NULL);
		EXPECT_EQ(0, o[i].errors);
	}
	pthread_barrier_destroy(&go);
	free(ref);
	EXPECT_EQ(1, sfs_mount_counter(self->a, "members"));
	EXPECT_EQ(1, sfs_mount_counter(self->b, "members"));
	EXPECT_EQ(BIG_SIZE / 4096,
		  sfs_same_pfns(path_in(self->a, BIG_A), path_in(self->b, BIG_B), &pages));
}

/* ---- lifetime -------------------------------------------------------------- */

/*
 * Drop caches until unused inodes are gone: one pass only clears the
 * referenced bit of an inode used lately (the inode LRU rotates it), so a
 * shared inode read just before survives the first drop_caches without
 * pages; these tests compare counts of them.
 */
static void drop_all(void)
{
	sfs_drop_caches("3");
	sfs_drop_caches("3");
}

/*
 * Members leave their shared inodes when they are evicted.  A shared inode
 * outlives its last member while it has pages, like a closed file's inode,
 * and goes when reclaim has taken them: once both mounts are gone and the
 * caches dropped, the global counters are back where they were.
 */
TEST(shared_inode_dies_with_last_member)
{
	char a[256], b[256];
	long shared0, members0;

	SFS_REQUIRE_SHAREFS(_metadata);
	drop_all();	/* earlier tests' shared inodes, cached without members */
	shared0 = sfs_read_num("/sys/fs/sharefs/shared_inodes");
	members0 = sfs_read_num("/sys/fs/sharefs/members");
	ASSERT_EQ(0, sfs_mount_image("share-a", "sharefs", "domain=life", a, sizeof(a)));
	ASSERT_EQ(0, sfs_mount_image("share-b", "sharefs", "domain=life", b, sizeof(b)));
	ASSERT_EQ(BIG_SIZE, sfs_read_all(path_in(a, BIG_A)));
	ASSERT_EQ(BIG_SIZE, sfs_read_all(path_in(b, BIG_B)));
	EXPECT_GT(sfs_read_num("/sys/fs/sharefs/shared_inodes"), shared0);
	EXPECT_GE(sfs_read_num("/sys/fs/sharefs/members"), members0 + 2);
	/* one member gone: the content stays readable through the other */
	EXPECT_EQ(0, sfs_umount(a));
	sfs_drop_caches("3");
	EXPECT_EQ(BIG_SIZE, sfs_read_all(path_in(b, BIG_B)));
	EXPECT_EQ(0, sfs_umount(b));
	EXPECT_EQ(members0, sfs_read_num("/sys/fs/sharefs/members"));
	/* no member left, the pages stay cached until reclaim */
	EXPECT_GE(sfs_read_num("/sys/fs/sharefs/resident_bytes"), BIG_SIZE);
	drop_all();
	EXPECT_EQ(shared0, sfs_read_num("/sys/fs/sharefs/shared_inodes"));
	EXPECT_EQ(0, sfs_read_num("/sys/fs/sharefs/resident_bytes"));
}

/*
 * Reclaiming inodes alone (drop_caches 2: dentries and inodes) leaves a
 * closed file's page cache in place on stock erofs: the VFS keeps inodes
 * with pages off the inode shrinker's list.  Shared pages must survive it
 * as well, though the members, which have no pages of their own, are
 * evicted; the file joins again at its next open and finds them.
 */
TEST(shared_pages_survive_inode_reclaim)
{
	char a[256], e[256], pa[512], pe[512];
	long shared0;

	SFS_REQUIRE_SHAREFS(_metadata);
	ASSERT_TRUE(sfs_have_fs("erofs"));
	drop_all();
	shared0 = sfs_read_num("/sys/fs/sharefs/shared_inodes");
	ASSERT_EQ(0, sfs_mount_image("share-a", "sharefs", "domain=keep", a, sizeof(a)));
	ASSERT_EQ(0, sfs_mount_image("share-a", "erofs", NULL, e, sizeof(e)));
	snprintf(pa, sizeof(pa), "%s/%s", a, BIG_A);
	snprintf(pe, sizeof(pe), "%s/%s", e, BIG_A);
	ASSERT_EQ(BIG_SIZE, sfs_read_all(pa));
	ASSERT_EQ(BIG_SIZE, sfs_read_all(pe));
	sfs_drop_caches("2");			/* dentries and inodes only */
	EXPECT_EQ(0, sfs_mount_counter(a, "members"));		/* evicted */
	/* the oracle first: erofs kept its pages */
	EXPECT_EQ(BIG_SIZE / 4096, resident_pages(pe));
	EXPECT_EQ(BIG_SIZE / 4096, resident_pages(pa));
	EXPECT_EQ(1, sfs_mount_counter(a, "members"));		/* joined again */
	EXPECT_EQ(0, sfs_umount(a));
	EXPECT_EQ(0, sfs_umount(e));
	drop_all();
	EXPECT_EQ(shared0, sfs_read_num("/sys/fs/sharefs/shared_inodes"));
}

struct reader {
	const char *path;
	const char *ref;
	int stop;
	long rounds, errors, mismatches;
};

/* read the file again and again, dropping its pages so reads do I/O */
static void *reader_fn(void *arg)
{
	struct reader *r = arg;

	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		int fd = open(r->path, O_RDONLY);

		if (fd < 0) {
			r->errors++;
			continue;
		}
		posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
		if (read_compare(fd, r->ref, &r->mismatches))
			r->errors++;
		close(fd);
		r->rounds++;
	}
	return NULL;
}

/*
 * Unmount the image that is the data source while another mount reads the
 * same content: the reader never sees an error or wrong data.
 */
TEST(umount_source_mid_read)
{
	char a[256], b[256];
	struct reader r = { 0 };
	pthread_t t;
	size_t len;
	char *ref;

	SFS_REQUIRE_SHAREFS(_metadata);
	sfs_drop_caches("3");
	/* A's inode joins first, so it is the first data source */
	ASSERT_EQ(0, sfs_mount_image("share-a", "sharefs", "domain=mid", a, sizeof(a)));
	ASSERT_EQ(BIG_SIZE, sfs_read_all(path_in(a, BIG_A)));
	ASSERT_EQ(0, sfs_mount_image("share-b", "sharefs", "domain=mid", b, sizeof(b)));
	ref = sfs_slurp_at(b, BIG_B, &len);
	ASSERT_NE(NULL, ref);
	r.path = path_in(b, BIG_B);
	r.ref = ref;
	ASSERT_EQ(0, pthread_create(&t, NULL, reader_fn, &r));
	usleep(300 * 1000);
	EXPECT_EQ(0, sfs_umount(a));
	usleep(500 * 1000);
	__atomic_store_n(&r.stop, 1, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	TH_LOG("%ld rounds", r.rounds);
	EXPECT_GT(r.rounds, 1);
	EXPECT_EQ(0, r.errors);
	EXPECT_EQ(0, r.mismatches);
	EXPECT_EQ(0, sfs_umount(b));
	free(ref);
}

/*
 * Evict the members again and again (drop_caches) while another mount
 * reads the same content through them: eviction does not wait for the
 * reader (the member is freed after an SRCU grace period, share.c), and
 * the reader never sees an error or wrong data.
 */
TEST(evict_source_mid_read)
{
	char a[256], b[256], pa[512], pb[512];
	struct reader r = { 0 };
	pthread_t t;
	size_t len;
	char *ref;
	int i, evicted = 0;

	SFS_REQUIRE_SHAREFS(_metadata);
	ASSERT_EQ(0, sfs_mount_image("share-a", "sharefs", "domain=evict", a, sizeof(a)));
	ASSERT_EQ(0, sfs_mount_image("share-b", "sharefs", "domain=evict", b, sizeof(b)));
	snprintf(pa, sizeof(pa), "%s/%s", a, BIG_A);
	snprintf(pb, sizeof(pb), "%s/%s", b, BIG_B);
	ASSERT_EQ(BIG_SIZE, sfs_read_all(pa));	/* A's member is the source */
	ref = sfs_slurp_at(b, BIG_B, &len);
	ASSERT_NE(NULL, ref);
	r.path = pb;
	r.ref = ref;
	ASSERT_EQ(0, pthread_create(&t, NULL, reader_fn, &r));
	for (i = 0; i < 20; i++) {
		sfs_drop_caches("3");			/* evicts whatever is unused */
		evicted += sfs_mount_counter(a, "members") == 0;
		EXPECT_EQ(BIG_SIZE, sfs_read_all(pa));	/* A joins again */
	}
	__atomic_store_n(&r.stop, 1, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	TH_LOG("%ld rounds, A's member evicted %d times", r.rounds, evicted);
	EXPECT_GT(evicted, 0);
	EXPECT_GT(r.rounds, 1);
	EXPECT_EQ(0, r.errors);
	EXPECT_EQ(0, r.mismatches);
	EXPECT_EQ(0, sfs_umount(a));
	EXPECT_EQ(0, sfs_umount(b));
	free(ref);
}

/*
 * One try: the inode cached but undecided, its metadata block dropped
 * from the device's cache, a child's first open SIGKILLed 0 to 2 ms in
 * (while sharefs may be waiting, killably, for the block with the
 * fingerprint), then an open by a live process.  Its members count.
 */
static long killed_open_try(const char *dir, const char *path, int devfd,
			    int i)
{
	struct stat st;
	long members;
	pid_t pid;
	char c;
	int fd;

	sfs_drop_caches("2");		/* no member left: undecided again */
	if (stat(path, &st))
		return -1;
	posix_fadvise(devfd, 0, 0, POSIX_FADV_DONTNEED);
	pid = fork();
	if (!pid)
		_exit(open(path, O_RDONLY) < 0);
	usleep(i % 40 * 50);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	fd = open(path, O_RDONLY);
	if (fd < 0 || read(fd, &c, 1) != 1)
		return -1;
	members = sfs_mount_counter(dir, "members");
	close(fd);
	return members;
}

/*
 * A first open killed by SIGKILL while sharefs reads the file's
 * fingerprint must not decide, for every opener after it, that the file
 * has none: the fingerprint read fails with EINTR, which says nothing
 * about the file.  The next open by a live process must join.  Found by
 * cfuzz_test's killer ("cannot read the content fingerprint (error -4);
 * not sharing it").
 */
TEST(killed_first_open_keeps_sharing)
{
	char dir[256], path[512], dev[300];
	long members = 1;
	int devfd, i;

	SFS_REQUIRE_SHAREFS(_metadata);
	ASSERT_EQ(0, sfs_mount_image("share-a", "sharefs", "domain=killed", dir, sizeof(dir)));
	snprintf(path, sizeof(path), "%s/%s", dir, BIG_A);
	ASSERT_NE(NULL, sfs_mount_source(dir));
	snprintf(dev, sizeof(dev), "/dev/%s", sfs_mount_source(dir));
	devfd = open(dev, O_RDONLY);
	ASSERT_LE(0, devfd);
	sfs_kmsg_mark();
	for (i = 0; i < 200 && members == 1; i++)
		members = killed_open_try(dir, path, devfd, i);
	EXPECT_EQ(1, members) {
		TH_LOG("after %d tries: %s, read by a live process after a killed first open, %s",
		       i, BIG_A, members < 0 ? "failed" : "did not join its shared inode");
	}
	EXPECT_FALSE(sfs_kmsg_has("cannot read the content fingerprint"));
	close(devfd);
	EXPECT_EQ(0, sfs_umount(dir));
}

/* ---- one data source per read call ------------------------------------ */

#ifndef ONESRC_ROUNDS
#define ONESRC_ROUNDS	16
#endif

struct onesrc_reader {
	const char *path;
	const char *ref;
	long size;
	int stop;
	long rounds, errors, mismatches;
};

/* read(): sequential readahead, its folios growing as it goes */
static void onesrc_read(struct onesrc_reader *r, int fd)
{
	static __thread char buf[1 << 18];
	long off = 0;
	ssize_t n;

	while ((n = pread(fd, buf, sizeof(buf), off)) > 0) {
		/* every byte: one wrong 4 KiB block is the bug */
		if (off + n > r->size || memcmp(buf, r->ref + off, n))
			r->mismatches++;
		off += n;
	}
	if (n < 0 || off != r->size)
		r->errors++;
}

/* a MADV_HUGEPAGE mapping: faults read ahead in PMD-sized folios */
static void onesrc_map(struct onesrc_reader *r, int fd)
{
	char *m = mmap(NULL, r->size, PROT_READ, MAP_SHARED, fd, 0);

	if (m == MAP_FAILED) {
		r->errors++;
		return;
	}
	madvise(m, r->size, MADV_HUGEPAGE);
	if (memcmp(m, r->ref, r->size))
		r->mismatches++;
	munmap(m, r->size);
}

/*
 * Read all of the file again and again, every page from the device, by
 * read() and by mmap in turn: both bring large folios, whose bios have
 * room for more extents.
 */
static void *onesrc_reader_fn(void *arg)
{
	struct onesrc_reader *r = arg;

	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		int fd = open(r->path, O_RDONLY);

		if (fd < 0) {
			r->errors++;
			continue;
		}
		posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
		if (r->rounds & 1)
			onesrc_map(r, fd);
		else
			onesrc_read(r, fd);
		close(fd);
		r->rounds++;
	}
	return NULL;
}

struct onesrc_dropper {
	char dev[300];
	int stop;
};

/*
 * Drop the source's metadata from its device's page cache again and
 * again: mapping an extent then waits for a read, so readahead calls last
 * long enough for the source to leave in the middle of one.
 */
static void *onesrc_dropper_fn(void *arg)
{
	struct onesrc_dropper *d = arg;
	int fd = open(d->dev, O_RDONLY);

	if (fd < 0)
		return NULL;
	while (!__atomic_load_n(&d->stop, __ATOMIC_ACQUIRE)) {
		posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
		usleep(500);
	}
	close(fd);
	return NULL;
}

/*
 * One read call reads through one member.  Read @py of image @iy again
 * and again while @px of image @ix, the same content joined first and so
 * the data source, leaves: evicted in even rounds, unmounted in odd ones.
 * Every byte read must be right.
 */
FIXTURE(onesrc) {
};

FIXTURE_VARIANT(onesrc) {
	const char *ix, *px;	/* the image that is the source, the file */
	const char *iy, *py;	/* the image read through, the file */
};

/* chunk-based: one extent per run of chunks */
FIXTURE_VARIANT_ADD(onesrc, chunked) {
	.ix = "share-cx", .px = "lib/chunky.so",
	.iy = "share-cy", .py = "lib/chunky.so",
};

/* flat with an inline tail: the tail comes from the member's metadata */
FIXTURE_VARIANT_ADD(onesrc, inline) {
	.ix = "share-a", .px = "lib/mid.so",
	.iy = "share-b", .py = "usr/lib/mid.so",
};

FIXTURE_SETUP(onesrc)
{
}

FIXTURE_TEARDOWN(onesrc)
{
}

TEST_F_TIMEOUT(onesrc, every_byte_right, 180)
{
	const char *ix = variant->ix, *px = variant->px;
	const char *iy = variant->iy, *py = variant->py;
	char x[256], y[256], ref_dir[256], pathx[512], pathy[512];
	struct onesrc_reader r = { 0 };
	struct onesrc_dropper d;
	int rounds = ONESRC_ROUNDS, mounted_x = 0;
	unsigned int seed = 7;
	long total_rounds = 0;
	pthread_t t, td;
	size_t len;
	char *ref;

	SFS_REQUIRE_SHAREFS(_metadata);
	ASSERT_EQ(0, sfs_mount_image(iy, "sharefs", "noshare", ref_dir, sizeof(ref_dir)));
	ref = sfs_slurp_at(ref_dir, py, &len);
	EXPECT_EQ(0, sfs_umount(ref_dir));
	ASSERT_NE(NULL, ref);
	ASSERT_EQ(0, sfs_mount_image(iy, "sharefs", "domain=onesrc", y, sizeof(y)));
	snprintf(pathy, sizeof(pathy), "%s/%s", y, py);
	for (int i = 0; i < rounds; i++) {
		if (!mounted_x) {
			ASSERT_EQ(0, sfs_mount_image(ix, "sharefs", "domain=onesrc",
						     x, sizeof(x)));
			mounted_x = 1;
			snprintf(pathx, sizeof(pathx), "%s/%s", x, px);
		}
		ASSERT_NE(NULL, sfs_mount_source(x));
		snprintf(d.dev, sizeof(d.dev), "/dev/%s", sfs_mount_source(x));
		d.stop = 0;
		/* no member left: X joins first and is the source */
		sfs_drop_caches("3");
		ASSERT_EQ((long)len, sfs_read_all(pathx));
		r = (struct onesrc_reader){ pathy, ref, (long)len, 0, 0, 0, 0 };
		ASSERT_EQ(0, pthread_create(&t, NULL, onesrc_reader_fn, &r));
		ASSERT_EQ(0, pthread_create(&td, NULL, onesrc_dropper_fn, &d));
		usleep(50 * 1000 + rand_r(&seed) % (200 * 1000));
		if (i & 1) {
			EXPECT_EQ(0, sfs_umount(x));
			mounted_x = 0;
		} else {
			sfs_drop_caches("2");	/* evicts X's member */
		}
		usleep(200 * 1000);
		__atomic_store_n(&r.stop, 1, __ATOMIC_RELEASE);
		__atomic_store_n(&d.stop, 1, __ATOMIC_RELEASE);
		pthread_join(t, NULL);
		pthread_join(td, NULL);
		total_rounds += r.rounds;
		EXPECT_EQ(0, r.errors);
		EXPECT_EQ(0, r.mismatches) {
			TH_LOG("round %d (%s of the source): %ld of %ld reads of %s had wrong bytes",
			       i, i & 1 ? "umount" : "eviction", r.mismatches,
			       r.rounds, py);
		}
	}
	TH_LOG("%ld whole reads of %s over %d rounds", total_rounds, py, rounds);
	EXPECT_GT(total_rounds, rounds);
	if (mounted_x)
		EXPECT_EQ(0, sfs_umount(x));
	EXPECT_EQ(0, sfs_umount(y));
	free(ref);
}

#define CHURN_MOUNTS	4
#define CHURN_SECONDS	6

struct churn {
	char dirs[CHURN_MOUNTS][256];
	int mounted[CHURN_MOUNTS];
	pthread_mutex_t lock;	/* protects dirs and mounted */
	const char *ref;
	int stop;
	/* the readers all count here: atomically (churn_count()) */
	long reads, errors, mismatches;
	long cycles;		/* the main thread's */
};

static void churn_count(long *counter)
{
	__atomic_fetch_add(counter, 1, __ATOMIC_RELAXED);
}

static const char *churn_images[CHURN_MOUNTS] = {
	"share-a", "share-b", "share-a1k", "share-a",
};
static const char *churn_paths[CHURN_MOUNTS] = {
	BIG_A, BIG_B, BIG_A, BIG_A,
};

/* read, mmap or sendfile the big file through a random live mount */
static void *churn_reader(void *arg)
{
	struct churn *c = arg;
	unsigned int seed = (uintptr_t)&seed;
	static __thread char buf[1 << 16];

	while (!__atomic_load_n(&c->stop, __ATOMIC_ACQUIRE)) {
		int i = rand_r(&seed) % CHURN_MOUNTS, fd, how = rand_r(&seed) % 3;
		char path[512];
		off_t off = (off_t)(rand_r(&seed) % (BIG_SIZE / 65536)) * 65536;

		pthread_mutex_lock(&c->lock);
		if (!c->mounted[i]) {
			pthread_mutex_unlock(&c->lock);
			continue;
		}
		snprintf(path, sizeof(path), "%s/%s", c->dirs[i], churn_paths[i]);
		/* once open, a lazy umount cannot take the file away */
		fd = open(path, O_RDONLY);
		pthread_mutex_unlock(&c->lock);
		if (fd < 0) {
			churn_count(&c->errors);
			continue;
		}
		if (how == 0) {
			if (pread(fd, buf, 65536, off) != 65536 ||
			    memcmp(buf, c->ref + off, 65536))
				churn_count(&c->mismatches);
		} else if (how == 1) {
			char *m = mmap(NULL, BIG_SIZE, PROT_READ, MAP_SHARED, fd, 0);

			if (m == MAP_FAILED || memcmp(m + off, c->ref + off, 65536))
				churn_count(&c->mismatches);
			if (m != MAP_FAILED)
				munmap(m, BIG_SIZE);
		} else {
			int p[2];

			if (pipe(p) == 0) {
				ssize_t n = splice(fd, &off, p[1], NULL, 65536, 0);

				if (n <= 0 || read(p[0], buf, n) != n ||
				    memcmp(buf, c->ref + off - n, n))
					churn_count(&c->mismatches);
				close(p[0]);
				close(p[1]);
			}
		}
		if (rand_r(&seed) % 8 == 0)
			posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
		close(fd);
		churn_count(&c->reads);
	}
	return NULL;
}

/* 4 readers over 4 mounts while the mounts come and go, bounded in time */
TEST(churn_readers_and_mounts)
{
	pthread_t readers[4];
	struct churn c = { .lock = PTHREAD_MUTEX_INITIALIZER };
	time_t end;
	size_t len;
	char *ref, ref_dir[256];
	unsigned int seed = 1;

	SFS_REQUIRE_SHAREFS(_metadata);
	ASSERT_EQ(0, sfs_mount_image("share-a", "sharefs", "noshare", ref_dir, sizeof(ref_dir)));
	ref = sfs_slurp_at(ref_dir, BIG_A, &len);
	ASSERT_NE(NULL, ref);
	ASSERT_EQ((size_t)BIG_SIZE, len);
	c.ref = ref;
	for (int i = 0; i < CHURN_MOUNTS; i++) {
		ASSERT_EQ(0, sfs_mount_image(churn_images[i], "sharefs", "domain=churn",
					     c.dirs[i], sizeof(c.dirs[i])));
		c.mounted[i] = 1;
	}
	for (int i = 0; i < 4; i++)
		ASSERT_EQ(0, pthread_create(&readers[i], NULL, churn_reader, &c));
	end = time(NULL) + CHURN_SECONDS;
	while (time(NULL) < end) {
		int i = rand_r(&seed) % CHURN_MOUNTS;

		pthread_mutex_lock(&c.lock);
		if (c.mounted[i]) {
			/* lazy: open files keep their superblock alive */
			if (umount2(c.dirs[i], MNT_DETACH) == 0) {
				rmdir(c.dirs[i]);
				c.mounted[i] = 0;
			}
		} else if (sfs_mount_image(churn_images[i], "sharefs", "domain=churn",
					   c.dirs[i], sizeof(c.dirs[i])) == 0) {
			c.mounted[i] = 1;
		}
		pthread_mutex_unlock(&c.lock);
		if (rand_r(&seed) % 4 == 0)
			sfs_drop_caches("3");
		c.cycles++;
		usleep(20 * 1000);
	}
	__atomic_store_n(&c.stop, 1, __ATOMIC_RELEASE);
	for (int i = 0; i < 4; i++)
		pthread_join(readers[i], NULL);
	for (int i = 0; i < CHURN_MOUNTS; i++)
		if (c.mounted[i])
			EXPECT_EQ(0, sfs_umount(c.dirs[i]));
	TH_LOG("%ld reads, %ld mount/umount cycles", c.reads, c.cycles);
	EXPECT_GT(c.reads, 100);
	EXPECT_EQ(0, c.errors);
	EXPECT_EQ(0, c.mismatches);
	EXPECT_EQ(0, sfs_umount(ref_dir));
	free(ref);
}

TEST_HARNESS_MAIN
