// SPDX-License-Identifier: GPL-2.0-only
/*
 * zread_test - the compressed read path (fs/sharefs/zread.c): what a read
 * costs the device, and readahead jobs against umount.
 *
 * z-lz4 (unstable's mkfs.erofs 1.9 -zlz4: one-block pclusters, compact
 * indexes) holds z/large, 3 MiB of text.  sharez-lz4 (LZ4HC, 64 KiB
 * pclusters) and sharez-plain hold lib/big.so, 4 MiB of text, with one
 * fingerprint.  Stock erofs on the same image is the oracle for bytes.
 *
 * random_read_reads_its_extents: a cold 4 KiB read in the middle of the
 *   file reads the pclusters of the extents under it, not more: the read
 *   path used to grow a small readahead window to extent boundaries four
 *   times over, and read and decode five pclusters for one page.
 * sequential_read_is_batched: a cold sequential read sends the device far
 *   fewer requests than the file has pclusters: readahead submits a
 *   batch's pcluster reads at once (they merge); it used to wait for one
 *   bio per pcluster.
 * umount_while_reading_ahead: a sequential window is read by a job in a
 *   workqueue after the reader's call returns.  umount(2) right after
 *   the file is closed must succeed, with the jobs of its own page cache
 *   still running (eviction waits on their locked folios).
 * umount_source_while_reading_ahead: the same through a shared inode,
 *   where the job reads through one member's image: that member's umount
 *   waits for the job (it holds the superblock's pin), and the other
 *   member reads right bytes afterwards.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "sfs.h"

#define ZIMG	"z-lz4"
#define ZFILE	"z/large"
#define SHIMG	"sharez-lz4"
#define SHPLAIN	"sharez-plain"
#define SHFILE	"lib/big.so"
#define ROUNDS	20

FIXTURE(z) {
	char dir[4][256];
	int n;
};

FIXTURE_SETUP(z)
{
	self->n = 0;
}

FIXTURE_TEARDOWN(z)
{
	while (self->n)
		sfs_umount(self->dir[--self->n]);
}

/* Mount @img on the fixture's next directory: its index, or -errno. */
static int mnt_opts(struct _test_data_z *self, const char *img,
		    const char *fstype, const char *opts)
{
	int ret = sfs_mount_image(img, fstype, opts, self->dir[self->n],
				  sizeof(self->dir[0]));

	return ret ? ret : self->n++;
}

static int mnt(struct _test_data_z *self, const char *img, const char *fstype)
{
	return mnt_opts(self, img, fstype, "");
}

/*
 * The oracle for @img: stock erofs, or where it cannot mount the image
 * (6.1 and mkfs.erofs 1.9's fingerprint xattrs) a noshare sharefs mount,
 * whose plain layout diff_test checks against stock erofs elsewhere.
 */
static int mnt_oracle(struct _test_data_z *self, const char *img)
{
	int ret = mnt(self, img, "erofs");

	return ret >= 0 ? ret : mnt_opts(self, img, "sharefs", "noshare");
}

/* Field @field of the stat of the device mounted on @dir, idle, or -1. */
static long dev_stat(const char *dir, int field)
{
	const char *src = sfs_mount_source(dir);
	char dev[300];

	if (!src)
		return -1;
	snprintf(dev, sizeof(dev), "/dev/%s", src);
	return sfs_dev_stat_idle(dev, field);
}

/* The encoded extents (pclusters) FIEMAP reports for @fd, or -1. */
static long pclusters(int fd)
{
	struct fiemap fm = { .fm_length = FIEMAP_MAX_OFFSET };

	return ioctl(fd, FS_IOC_FIEMAP, &fm) ? -1 : (long)fm.fm_mapped_extents;
}

TEST_F(z, random_read_reads_its_extents)
{
	char path[512], buf[4096], want[4096];
	long before, after;
	int s = mnt(self, ZIMG, "sharefs"), e = mnt(self, ZIMG, "erofs");
	int fd, fe;

	ASSERT_LE(0, s);
	ASSERT_LE(0, e);
	snprintf(path, sizeof(path), "%s/%s", self->dir[s], ZFILE);
	fd = open(path, O_RDONLY);
	ASSERT_LE(0, fd);
	sfs_drop_caches("3");
	/* the inode and the index blocks near 2 MiB, far from the read */
	ASSERT_EQ((ssize_t)sizeof(buf), pread(fd, buf, sizeof(buf), 7 << 18));
	before = dev_stat(self->dir[s], 2);
	ASSERT_EQ((ssize_t)sizeof(buf), pread(fd, buf, sizeof(buf), 2 << 20));
	after = dev_stat(self->dir[s], 2);
	close(fd);
	ASSERT_LE(0, before);
	/*
	 * One or two one-block pclusters under the page, and at most one
	 * index block: 12 KiB.  Growing the window read 20 KiB or more.
	 */
	TH_LOG("sectors read: %ld", after - before);
	EXPECT_GE(24, after - before);
	snprintf(path, sizeof(path), "%s/%s", self->dir[e], ZFILE);
	fe = open(path, O_RDONLY);
	ASSERT_LE(0, fe);
	ASSERT_EQ((ssize_t)sizeof(want), pread(fe, want, sizeof(want), 2 << 20));
	close(fe);
	EXPECT_EQ(0, memcmp(buf, want, sizeof(buf)));
}

TEST_F(z, sequential_read_is_batched)
{
	static char buf[1 << 17];
	char path[512];
	long before, after, pcl;
	int s = mnt(self, ZIMG, "sharefs"), e = mnt(self, ZIMG, "erofs");
	ssize_t n;
	int fd;

	ASSERT_LE(0, s);
	ASSERT_LE(0, e);
	snprintf(path, sizeof(path), "%s/%s", self->dir[s], ZFILE);
	fd = open(path, O_RDONLY);
	ASSERT_LE(0, fd);
	pcl = pclusters(fd);
	ASSERT_LT(100, pcl);
	sfs_drop_caches("3");
	before = dev_stat(self->dir[s], 0);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		;
	after = dev_stat(self->dir[s], 0);
	close(fd);
	ASSERT_EQ(0, n);
	ASSERT_LE(0, before);
	/* one request per pcluster before; a batch merges into a few */
	TH_LOG("%ld pclusters, %ld read requests", pcl, after - before);
	EXPECT_GE(pcl / 4, after - before);
	EXPECT_EQ(0, sfs_same_file(self->dir[s], self->dir[e], ZFILE));
}

/* Open @dir/@rel, ask for all of it to be read ahead, close it. */
static int read_ahead_and_close(const char *dir, const char *rel)
{
	char path[512];
	int fd, ret;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	ret = posix_fadvise(fd, 0, 0, POSIX_FADV_WILLNEED);
	close(fd);
	return -ret;
}

TEST_F(z, umount_while_reading_ahead)
{
	int e = mnt(self, ZIMG, "erofs"), s, i;

	ASSERT_LE(0, e);
	for (i = 0; i < ROUNDS; i++) {
		s = mnt(self, ZIMG, "sharefs");
		ASSERT_LE(0, s);
		ASSERT_EQ(0, read_ahead_and_close(self->dir[s], ZFILE));
		/* its jobs may still run: the umount waits for their folios */
		ASSERT_EQ(0, sfs_umount(self->dir[--self->n])) {
			TH_LOG("round %d", i);
		}
	}
	s = mnt(self, ZIMG, "sharefs");
	ASSERT_LE(0, s);
	EXPECT_EQ(0, sfs_same_file(self->dir[s], self->dir[e], ZFILE));
}

TEST_F(z, umount_source_while_reading_ahead)
{
	char path[512];
	int e = mnt_oracle(self, SHPLAIN), p = mnt(self, SHPLAIN, "sharefs");
	int z, i, fd;

	ASSERT_LE(0, e);
	ASSERT_LE(0, p);
	for (i = 0; i < ROUNDS; i++) {
		z = mnt(self, SHIMG, "sharefs");
		ASSERT_LE(0, z);
		sfs_drop_caches("3");
		/*
		 * The compressed member joins first, so it is the source of
		 * the shared inode's reads while the plain one is open too.
		 */
		snprintf(path, sizeof(path), "%s/%s", self->dir[z], SHFILE);
		fd = open(path, O_RDONLY);
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, read_ahead_and_close(self->dir[p], SHFILE));
		ASSERT_EQ(0, posix_fadvise(fd, 0, 0, POSIX_FADV_WILLNEED));
		close(fd);
		ASSERT_EQ(0, sfs_umount(self->dir[--self->n])) {
			TH_LOG("round %d", i);
		}
		EXPECT_EQ(0, sfs_same_file(self->dir[p], self->dir[e], SHFILE)) {
			TH_LOG("round %d", i);
		}
	}
}

TEST_HARNESS_MAIN
