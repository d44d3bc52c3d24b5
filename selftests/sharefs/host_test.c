// SPDX-License-Identifier: GPL-2.0-only
/*
 * host_test - image files on a host filesystem, mounted as a host mounts
 * them: `mount -t sharefs FILE DIR`, which runs /sbin/mount.sharefs.
 *
 * The images live as files on an ext4 disk (/dev/disk/by-id/hostfs, built
 * by scripts/build-images.sh with mkfs.ext4 -d), not as disks of their own.
 * What must hold:
 *   - the helper's loop device reads the file with direct I/O, so reading a
 *     file through sharefs raises Cached by the file's size once, where a
 *     buffered loop device (the contrast, "-o nodio") raises it twice:
 *     once in sharefs, once in ext4 under the image file;
 *   - files in two image files still share pages (equal PFNs);
 *   - a loop device that mount(8) made for "-o loop" is switched to direct
 *     I/O; the loop device goes away at umount;
 *   - bad input (no such file, not an image, an unknown option) fails with
 *     mount(8)'s exit codes and one clear line, and leaves no loop device.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "kselftest_harness.h"
#include "sfs.h"

#define HOSTFS_DEV	"/dev/disk/by-id/hostfs"
#define HOSTFS		"/hostfs"
#define HELPER		"/bin/mount.sharefs"
#define BIG		"large"		/* the 9 MiB random file of the io tree */

/* run the helper: its exit code, its stderr in err */
static int helper(const char *opts, const char *src, const char *dir,
		  char *err, size_t errlen)
{
	char cmd[1024];
	FILE *p;
	size_t n = 0;
	int st;

	snprintf(cmd, sizeof(cmd), "%s %s %s%s%s 2>&1", HELPER, src, dir,
		 opts ? " -o " : "", opts ? opts : "");
	p = popen(cmd, "r");
	if (!p)
		return -1;
	if (err && errlen) {
		n = fread(err, 1, errlen - 1, p);
		err[n] = 0;
	} else {
		char sink[256];

		while (fread(sink, 1, sizeof(sink), p) > 0)
			;
	}
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* how many loop devices are configured now */
static int loops_in_use(void)
{
	char path[128];
	int i, n = 0;

	for (i = 0; i < 64; i++) {
		snprintf(path, sizeof(path), "/sys/block/loop%d/loop/backing_file", i);
		if (access(path, F_OK) == 0)
			n++;
	}
	return n;
}

static long loop_attr(const char *dev, const char *attr)
{
	char path[128], buf[32] = "";
	int fd;

	snprintf(path, sizeof(path), "/sys/block/%s/loop/%s", dev, attr);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	if (read(fd, buf, sizeof(buf) - 1) < 0)
		buf[0] = 0;
	close(fd);
	return atol(buf);
}

/* Cached growth, in KiB, from reading DIR/BIG after dropping caches */
static long cached_growth(const char *dir, long *size)
{
	char path[512];
	long before;

	snprintf(path, sizeof(path), "%s/%s", dir, BIG);
	sfs_drop_caches("3");
	before = sfs_meminfo_kb("Cached");
	*size = sfs_read_all(path);
	return sfs_meminfo_kb("Cached") - before;
}

FIXTURE(host) {
	char a[64], b[64];
	int loops;
};

FIXTURE_SETUP(host)
{
	SFS_REQUIRE_SHAREFS(_metadata);
	if (access(HOSTFS_DEV, F_OK))
		SKIP(return, "no hostfs disk");
	if (access(HELPER, X_OK))
		SKIP(return, "no %s", HELPER);
	mkdir(HOSTFS, 0755);
	/* the disk is read-only: no journal replay, no atime updates */
	if (mount(HOSTFS_DEV, HOSTFS, "ext4", MS_RDONLY, "noload") && errno != EBUSY)
		SKIP(return, "cannot mount the ext4 disk: %s", strerror(errno));
	snprintf(self->a, sizeof(self->a), "/mnt/host-a-%d", getpid());
	snprintf(self->b, sizeof(self->b), "/mnt/host-b-%d", getpid());
	mkdir(self->a, 0755);
	mkdir(self->b, 0755);
	self->loops = loops_in_use();
}

FIXTURE_TEARDOWN(host)
{
	umount(self->a);
	umount(self->b);
	rmdir(self->a);
	rmdir(self->b);
}

/* the image file's bytes are cached once, in sharefs, not in ext4 too */
TEST_F(host, image_file_cached_once)
{
	long kb, size;
	const char *dev;

	ASSERT_EQ(0, helper("domain=host", HOSTFS "/io.sharefs", self->a, NULL, 0));
	dev = sfs_mount_source(self->a);
	ASSERT_NE(NULL, dev);
	EXPECT_EQ(0, strncmp(dev, "loop", 4));
	EXPECT_EQ(1, loop_attr(dev, "dio"));
	EXPECT_EQ(1, loop_attr(dev, "autoclear"));
	kb = cached_growth(self->a, &size);
	ASSERT_GT(size, 8 << 20);
	TH_LOG("direct-I/O loop: Cached +%ld KiB for a %ld KiB file", kb, size >> 10);
	EXPECT_LE(kb, (size >> 10) * 5 / 4);
}

/* the contrast, and proof that the measurement can fail: a buffered loop
 * device caches the image file's bytes in ext4 as well */
TEST_F(host, buffered_loop_caches_twice)
{
	long kb, size;
	const char *dev;

	ASSERT_EQ(0, helper("nodio,domain=host", HOSTFS "/io.sharefs", self->a, NULL, 0));
	dev = sfs_mount_source(self->a);
	ASSERT_NE(NULL, dev);
	EXPECT_EQ(0, loop_attr(dev, "dio"));
	kb = cached_growth(self->a, &size);
	TH_LOG("buffered loop: Cached +%ld KiB for a %ld KiB file", kb, size >> 10);
	EXPECT_GE(kb, (size >> 10) * 7 / 4);
}

/* stock erofs on a plain loop device over the same kind of file: twice */
TEST_F(host, erofs_on_loop_caches_twice)
{
	char dev[64];
	long kb, size;
	int fd, lfd;
	struct stat st;

	if (!sfs_have_fs("erofs"))
		SKIP(return, "no erofs");
	fd = open(HOSTFS "/io.erofs", O_RDONLY);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, fstat(fd, &st));
	lfd = sfs_loop_attach_fd(fd, 0, st.st_size, "io.erofs", dev, sizeof(dev));
	close(fd);
	ASSERT_LE(0, lfd);
	ASSERT_EQ(0, mount(dev, self->a, "erofs", MS_RDONLY, NULL));
	close(lfd);
	kb = cached_growth(self->a, &size);
	TH_LOG("erofs on a loop device: Cached +%ld KiB for a %ld KiB file",
	       kb, size >> 10);
	EXPECT_GE(kb, (size >> 10) * 7 / 4);
}

/* two image files, one page cache */
TEST_F(host, two_image_files_share)
{
	char pa[128], pb[128];
	long pages = 0, same;

	ASSERT_EQ(0, helper("domain=host", HOSTFS "/io.sharefs", self->a, NULL, 0));
	ASSERT_EQ(0, helper("domain=host", HOSTFS "/io-copy.sharefs", self->b, NULL, 0));
	snprintf(pa, sizeof(pa), "%s/%s", self->a, BIG);
	snprintf(pb, sizeof(pb), "%s/%s", self->b, BIG);
	same = sfs_same_pfns(pa, pb, &pages);
	ASSERT_GT(pages, 0);
	EXPECT_EQ(pages, same);
}

/* mount -o loop: mount(8) sets up a buffered loop device and hands the
 * helper /dev/loopN; the helper turns direct I/O on */
TEST_F(host, loop_option_device_gets_direct_io)
{
	char dev[64];
	struct stat st;
	int fd, lfd;

	fd = open(HOSTFS "/io.sharefs", O_RDONLY);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, fstat(fd, &st));
	lfd = sfs_loop_attach_fd(fd, 0, st.st_size, "io.sharefs", dev, sizeof(dev));
	close(fd);
	ASSERT_LE(0, lfd);
	ASSERT_EQ(0, loop_attr(dev + 5, "dio"));
	ASSERT_EQ(0, helper("loop", dev, self->a, NULL, 0));
	close(lfd);
	EXPECT_EQ(1, loop_attr(dev + 5, "dio"));
}

/* umount takes the helper's loop device with it */
TEST_F(host, loop_device_goes_at_umount)
{
	char dev[64];

	ASSERT_EQ(0, helper(NULL, HOSTFS "/io.sharefs", self->a, NULL, 0));
	snprintf(dev, sizeof(dev), "%s", sfs_mount_source(self->a));
	ASSERT_EQ(self->loops + 1, loops_in_use());
	ASSERT_EQ(0, umount(self->a));
	/* autoclear runs from the release of the device: give it a moment */
	for (int i = 0; i < 50 && loops_in_use() != self->loops; i++)
		usleep(20000);
	EXPECT_EQ(self->loops, loops_in_use());
}

/* bad input: clear messages, mount(8)'s exit codes, no loop device left */
TEST_F(host, bad_input_fails_cleanly)
{
	char err[1024];

	EXPECT_EQ(1, helper(NULL, HOSTFS "/no-such.sharefs", self->a, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "No such file or directory"));
	EXPECT_EQ(32, helper(NULL, HOSTFS "/junk.img", self->a, err, sizeof(err)));
	TH_LOG("not an image: %s", err);
	EXPECT_NE(NULL, strstr(err, "mount.sharefs: "));
	EXPECT_EQ(32, helper("bogus=1", HOSTFS "/io.sharefs", self->a, err, sizeof(err)));
	TH_LOG("unknown option: %s", err);
	EXPECT_NE(NULL, strstr(err, "bogus"));
	EXPECT_EQ(1, helper("offset=x", HOSTFS "/io.sharefs", self->a, err, sizeof(err)));
	EXPECT_EQ(1, helper(NULL, HOSTFS, self->a, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "not an image file or a block device"));
	EXPECT_EQ(NULL, sfs_mount_source(self->a));
	for (int i = 0; i < 50 && loops_in_use() != self->loops; i++)
		usleep(20000);
	EXPECT_EQ(self->loops, loops_in_use());
}

TEST_HARNESS_MAIN
