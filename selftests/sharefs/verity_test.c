// SPDX-License-Identifier: GPL-2.0-only
/*
 * verity_test - verified sharing: pages checked against fs-verity Merkle
 * trees, sharing across domains, liars and bit flips.
 *
 * Images (scripts/build-images.sh, mkfs.sharefs --verity):
 *   share-v       the "share" tree
 *   share-vpad    the same files behind a padding file: other addresses
 *   share-vlie    only lib/big.so, of other bytes, same size, its own
 *                 valid tree, with share-v's root hash and fingerprint
 *                 patched in
 *   share-vflipd  share-v with one bit of lib/big.so's data flipped
 *   share-vflipt  ... one bit of lib/big.so's tree (a leaf-level hash)
 *   share-vflipr  ... one bit of lib/big.so's root hash in its xattr
 * The oracle is share-a mounted noshare (no verity metadata, own cache).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "sfs.h"

#define NFILES	25
#define BIG	"lib/big.so"

static const char *file_name(int i)
{
	static const char *const fixed[] = {
		BIG, "lib/mid.so", "bin/tool", "etc/motd", "etc/small",
	};
	static char doc[NFILES][32];

	if (i < 5)
		return fixed[i];
	snprintf(doc[i], sizeof(doc[i]), "docs/doc%02d.txt", i - 5);
	return doc[i];
}

FIXTURE(ver) {
	char dir[4][256];
	int n;
	char oracle[256];
};

FIXTURE_SETUP(ver)
{
	self->n = 0;
	SFS_REQUIRE_SHAREFS(_metadata);
	sfs_drop_caches("3");
	ASSERT_EQ(0, sfs_mount_image("share-a", "sharefs", "noshare",
				     self->oracle, sizeof(self->oracle)));
}

FIXTURE_TEARDOWN(ver)
{
	while (self->n > 0)
		sfs_umount(self->dir[--self->n]);
	sfs_umount(self->oracle);
}

/* Mount image @name with @opts; its directory is self->dir[returned]. */
static int mnt(struct _test_data_ver *self, const char *name, const char *opts)
{
	int ret = sfs_mount_image(name, "sharefs", opts, self->dir[self->n],
				  sizeof(self->dir[0]));

	return ret ? ret : self->n++;
}

/* Every file of a verity image reads the oracle's bytes, checked. */
TEST_F(ver, verified_reads_every_byte)
{
	int a = mnt(self, "share-v", "verity");

	ASSERT_LE(0, a);
	for (int i = 0; i < NFILES; i++)
		EXPECT_EQ(0, sfs_same_file(self->dir[a], self->oracle,
					    file_name(i)));
	/* again, from the cache and the checked tree blocks */
	for (int i = 0; i < NFILES; i++)
		EXPECT_EQ(0, sfs_same_file(self->dir[a], self->oracle,
					    file_name(i)));
}

/*
 * Verified files share across domains (equal page frames); files without
 * verity metadata keep the domain rule (share-a and share-b, two domains).
 */
TEST_F(ver, verified_share_across_domains)
{
	char p1[PATH_MAX], p2[PATH_MAX];
	long pages, same;
	int a = mnt(self, "share-v", "domain=t1,verity");
	int b = mnt(self, "share-vpad", "domain=t2,verity");
	int c = mnt(self, "share-a", "domain=t1,verity");
	int d = mnt(self, "share-b", "domain=t2,verity");

	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	ASSERT_LE(0, c);
	ASSERT_LE(0, d);
	snprintf(p1, sizeof(p1), "%s/%s", self->dir[a], BIG);
	snprintf(p2, sizeof(p2), "%s/%s", self->dir[b], BIG);
	same = sfs_same_pfns(p1, p2, &pages);
	EXPECT_EQ(pages, same);
	EXPECT_LT(0, pages);
	snprintf(p1, sizeof(p1), "%s/%s", self->dir[c], BIG);
	snprintf(p2, sizeof(p2), "%s/usr/%s", self->dir[d], BIG);
	EXPECT_EQ(0, sfs_same_pfns(p1, p2, &pages));
	EXPECT_EQ(0, sfs_same_file(self->dir[b], self->oracle, BIG));
}

/*
 * A liar mounted and read first: its bytes fail the tree of the digest it
 * claims, it is taken out with one log line naming its device and nid,
 * and its file refuses reads from then on.  The victim then reads right
 * bytes.  No wrong byte is ever served.
 */
TEST_F(ver, liar_first)
{
	char path[PATH_MAX], buf[4096];
	int liar, victim, fd;

	liar = mnt(self, "share-vlie", "domain=evil,verity");
	ASSERT_LE(0, liar);
	sfs_kmsg_mark();
	EXPECT_EQ(-EIO, sfs_same_file(self->dir[liar], self->oracle, BIG));
	EXPECT_EQ(1, sfs_kmsg_count("read error -74"));
	EXPECT_EQ(1, sfs_kmsg_has(sfs_mount_source(self->dir[liar])));
	victim = mnt(self, "share-v", "domain=good,verity");
	ASSERT_LE(0, victim);
	EXPECT_EQ(0, sfs_same_file(self->dir[victim], self->oracle, BIG));
	/* the liar's file refuses, even with the right bytes cached */
	snprintf(path, sizeof(path), "%s/%s", self->dir[liar], BIG);
	fd = open(path, O_RDONLY);
	EXPECT_EQ(-1, fd);
	EXPECT_EQ(EIO, errno);
	if (fd >= 0) {
		EXPECT_EQ(-1, pread(fd, buf, sizeof(buf), 0));
		close(fd);
	}
}

/* One flipped bit in data, tree or root hash: the file fails, cleanly. */
static void flipped_fails(struct __test_metadata *_metadata,
			  struct _test_data_ver *self, const char *image)
{
	int a = mnt(self, image, "verity");

	ASSERT_LE(0, a);
	EXPECT_EQ(-EIO, sfs_same_file(self->dir[a], self->oracle, BIG));
	EXPECT_EQ(0, sfs_same_file(self->dir[a], self->oracle, "lib/mid.so"));
}

TEST_F(ver, flipped_data_bit)
{
	flipped_fails(_metadata, self, "share-vflipd");
}

TEST_F(ver, flipped_tree_bit)
{
	flipped_fails(_metadata, self, "share-vflipt");
}

TEST_F(ver, flipped_root_hash_bit)
{
	flipped_fails(_metadata, self, "share-vflipr");
}

/*
 * A member with a flipped data bit opened first, then a good one: reads
 * through the good one see right bytes (the bad member is tried, fails
 * its hashes, and is taken out).
 */
TEST_F(ver, bad_member_then_good_one)
{
	char path[PATH_MAX];
	int bad = mnt(self, "share-vflipd", "verity"), good, fd;

	ASSERT_LE(0, bad);
	snprintf(path, sizeof(path), "%s/%s", self->dir[bad], BIG);
	fd = open(path, O_RDONLY);	/* joins first: the source */
	ASSERT_LE(0, fd);
	good = mnt(self, "share-v", "verity");
	ASSERT_LE(0, good);
	EXPECT_EQ(0, sfs_same_file(self->dir[good], self->oracle, BIG));
	close(fd);
}

/*
 * A cold read reads a file's packed tree in one go: after one 4 KiB read
 * at the start of lib/big.so (4 MiB: 8 leaf tree blocks), a 4 KiB read
 * 3 MiB further on (another leaf block) costs the device its data, 8
 * sectors, and no tree block.  Readahead is off for the file, so the data
 * is one folio.  Counted in sectors: the device's request count can lag
 * the read that woke up (sfs_dev_idle), and did, 15 times in 200 on 6.1.
 */
TEST_F(ver, cold_read_reads_the_tree_once)
{
	char path[PATH_MAX], buf[4096], dev[300];
	const char *src;
	long before, after;
	int a = mnt(self, "share-v", "verity"), fd;

	ASSERT_LE(0, a);
	src = sfs_mount_source(self->dir[a]);
	ASSERT_NE(NULL, src);
	snprintf(dev, sizeof(dev), "/dev/%s", src);
	snprintf(path, sizeof(path), "%s/%s", self->dir[a], BIG);
	fd = open(path, O_RDONLY);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, posix_fadvise(fd, 0, 0, POSIX_FADV_RANDOM));
	sfs_drop_caches("3");
	ASSERT_EQ((ssize_t)sizeof(buf), pread(fd, buf, sizeof(buf), 0));
	before = sfs_dev_stat_idle(dev, 2);
	ASSERT_EQ((ssize_t)sizeof(buf), pread(fd, buf, sizeof(buf), 3 << 20));
	after = sfs_dev_stat_idle(dev, 2);
	close(fd);
	ASSERT_LE(0, before);
	EXPECT_EQ((long)sizeof(buf) / 512, after - before);
	EXPECT_EQ(0, sfs_same_file(self->dir[a], self->oracle, BIG));
}

/*
 * The checked tree blocks a verified shared inode keeps are counted in
 * /sys/fs/sharefs/verity_tree_bytes (sharefs-stat's "verity trees"):
 * reading lib/big.so (4 MiB: 8 leaf blocks and 1 above) adds 9 blocks,
 * a second read none, and they go with the shared inode.
 */
#define TREE_BYTES "/sys/fs/sharefs/verity_tree_bytes"

TEST_F(ver, tree_memory_is_counted)
{
	long base = sfs_read_num(TREE_BYTES), mid;
	int a = mnt(self, "share-v", "verity");

	ASSERT_LE(0, base);
	ASSERT_LE(0, a);
	EXPECT_EQ(0, sfs_same_file(self->dir[a], self->oracle, BIG));
	mid = sfs_read_num(TREE_BYTES);
	EXPECT_EQ(9 * 4096, mid - base);
	EXPECT_EQ(0, sfs_same_file(self->dir[a], self->oracle, BIG));
	EXPECT_EQ(mid, sfs_read_num(TREE_BYTES));
	ASSERT_EQ(0, sfs_umount(self->dir[--self->n]));
	sfs_drop_caches("3");
	EXPECT_EQ(base, sfs_read_num(TREE_BYTES));
}

/*
 * More lying images than a read tries members (16), all joined before the
 * victim: its read still gets right bytes, its own image last.  Each try
 * takes a liar off, so the bound on tries keeps a read from waiting on
 * many failing devices; it must not let liars make an honest reader fail.
 */
#define LIARS 18

TEST_F(ver, many_liars_first)
{
	char dirs[LIARS][256], path[PATH_MAX], opts[64];
	int fds[LIARS], n = 0, victim;

	for (; n < LIARS; n++) {
		snprintf(opts, sizeof(opts), "domain=evil%d,verity", n);
		if (sfs_mount_image("share-vlie", "sharefs", opts, dirs[n],
				    sizeof(dirs[n])))
			break;
		snprintf(path, sizeof(path), "%s/%s", dirs[n], BIG);
		fds[n] = open(path, O_RDONLY);	/* joins: ahead of the victim */
		if (fds[n] < 0) {
			sfs_umount(dirs[n]);
			break;
		}
	}
	EXPECT_EQ(LIARS, n);
	victim = mnt(self, "share-v", "domain=good,verity");
	EXPECT_LE(0, victim);
	if (victim >= 0)
		EXPECT_EQ(0, sfs_same_file(self->dir[victim], self->oracle, BIG));
	while (n-- > 0) {
		close(fds[n]);
		EXPECT_EQ(0, sfs_umount(dirs[n]));
	}
}

TEST_HARNESS_MAIN
