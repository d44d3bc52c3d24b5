// SPDX-License-Identifier: GPL-2.0-only
/*
 * mount_test - the module registers "sharefs", mounts a Debian 12
 * mkfs.erofs image through a loop device and from a block device, shows
 * its options, and refuses images and options it must refuse, each with an
 * error code the caller can act on and a kernel log line that says why.
 * A device mounted already is mounted again only with the same options.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "sfs.h"

#define EROFS_MAGIC	0xE0F5E1E2


TEST(registered)
{
	ASSERT_TRUE(sfs_have_fs("sharefs"));
}

TEST(mount_loop_stat_root)
{
	char dir[256];
	struct statfs sfs;
	struct stat st;

	SFS_REQUIRE_SHAREFS(_metadata);
	ASSERT_EQ(0, sfs_mount_image("basic", "sharefs", NULL, dir, sizeof(dir)));
	ASSERT_EQ(0, stat(dir, &st));
	EXPECT_TRUE(S_ISDIR(st.st_mode));
	ASSERT_EQ(0, statfs(dir, &sfs));
	EXPECT_EQ(EROFS_MAGIC, (unsigned int)sfs.f_type);
	EXPECT_EQ(4096, sfs.f_bsize);
	EXPECT_TRUE(sfs.f_flags & ST_RDONLY);
	EXPECT_EQ(0, sfs_umount(dir));
}

TEST(mount_block_device)
{
	const char *dir = "/mnt/blockdev";
	struct stat st;

	SFS_REQUIRE_SHAREFS(_metadata);
	mkdir(dir, 0755);
	ASSERT_EQ(0, mount("/dev/disk/by-id/basic", dir, "sharefs", MS_RDONLY, NULL));
	ASSERT_EQ(0, stat(dir, &st));
	EXPECT_TRUE(S_ISDIR(st.st_mode));
	EXPECT_EQ(0, umount(dir));
}

/* the options in effect appear in /proc/mounts */
TEST(show_options)
{
	char dir[256], line[1024];
	int found = 0;
	FILE *f;

	SFS_REQUIRE_SHAREFS(_metadata);
	ASSERT_EQ(0, sfs_mount_image("basic", "sharefs", "domain=tenant1",
				     dir, sizeof(dir)));
	f = fopen("/proc/mounts", "r");
	ASSERT_NE(NULL, f);
	while (fgets(line, sizeof(line), f))
		if (strstr(line, dir) && strstr(line, " sharefs ro") &&
		    strstr(line, "domain=tenant1"))
			found = 1;
	fclose(f);
	EXPECT_TRUE(found);
	EXPECT_EQ(0, sfs_umount(dir));
}

/* the options column of /proc/mounts for the mount on @dir, or "" */
static const char *mount_options(const char *dir)
{
	static char opts[512];
	char dev[256], mnt[256], type[64], line[1024];
	FILE *f = fopen("/proc/mounts", "r");

	opts[0] = 0;
	if (!f)
		return opts;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%255s %255s %63s %511s", dev, mnt, type,
			   opts) == 4 && !strcmp(mnt, dir))
			break;
		else
			opts[0] = 0;
	fclose(f);
	return opts;
}

static int mount_at(const char *dev, const char *dir, const char *opts)
{
	mkdir(dir, 0755);
	return mount(dev, dir, "sharefs", MS_RDONLY, opts) ? -errno : 0;
}

/*
 * A device that is mounted already gets its superblock reused by the VFS
 * (get_tree_bdev()).  A second mount of it with other options must not
 * silently get the first mount's: it is refused with EBUSY and a log
 * line.  The same options share the superblock, as for any filesystem.
 */
static void expect_same_device_rules(struct __test_metadata *_metadata,
				     const char *dev)
{
	const char *d1 = "/mnt/same1", *d2 = "/mnt/same2", *d3 = "/mnt/same3";
	struct stat s1, s2;
	char log[4096];

	ASSERT_EQ(0, mount_at(dev, d1, "domain=t1"));
	/* the same options: the same superblock */
	EXPECT_EQ(0, mount_at(dev, d2, "domain=t1"));
	EXPECT_EQ(0, stat(d1, &s1));
	EXPECT_EQ(0, stat(d2, &s2));
	EXPECT_EQ(s1.st_dev, s2.st_dev);
	/* other options: refused, each with its log line */
	sfs_kmsg_mark();
	EXPECT_EQ(-EBUSY, mount_at(dev, d3, "domain=t2")) {
		TH_LOG("%s: a mount with domain=t2 landed in domain t1 (%s)",
		       dev, mount_options(d3));
		umount(d3);
	}
	EXPECT_TRUE(sfs_kmsg_has("already mounted with domain=t1")) {
		sfs_kmsg_since(log, sizeof(log));
		TH_LOG("no log line for the refusal; the log has:\n%s", log);
	}
	EXPECT_EQ(-EBUSY, mount_at(dev, d3, "domain=t1,noshare")) {
		umount(d3);
	}
	EXPECT_EQ(-EBUSY, mount_at(dev, d3, NULL)) {
		umount(d3);
	}
	/* the first mount keeps its options */
	EXPECT_NE(NULL, strstr(mount_options(d1), "domain=t1"));
	EXPECT_EQ(NULL, strstr(mount_options(d1), "noshare"));
	EXPECT_EQ(0, umount(d2));
	EXPECT_EQ(0, umount(d1));
	/* once it is gone, the device mounts with any options */
	EXPECT_EQ(0, mount_at(dev, d1, "noshare"));
	EXPECT_NE(NULL, strstr(mount_options(d1), "noshare"));
	EXPECT_EQ(0, umount(d1));
}

TEST(same_block_device_other_options)
{
	SFS_REQUIRE_SHAREFS(_metadata);
	expect_same_device_rules(_metadata, "/dev/disk/by-id/basic");
}

/* what mount(8) does for a second mount of the same image file */
TEST(same_loop_device_other_options)
{
	char dev[64];
	int fd;

	SFS_REQUIRE_SHAREFS(_metadata);
	fd = sfs_loop_attach("basic", dev, sizeof(dev));
	ASSERT_LE(0, fd);
	expect_same_device_rules(_metadata, dev);
	close(fd);
}

/* two loop devices over the same bytes are two devices: two domains */
TEST(two_loop_devices_same_image)
{
	const char *d1 = "/mnt/twoloop1", *d2 = "/mnt/twoloop2";
	char dev1[64], dev2[64];
	struct stat s1, s2;
	int fd1, fd2;

	SFS_REQUIRE_SHAREFS(_metadata);
	fd1 = sfs_loop_attach("basic", dev1, sizeof(dev1));
	ASSERT_LE(0, fd1);
	fd2 = sfs_loop_attach("basic", dev2, sizeof(dev2));
	ASSERT_LE(0, fd2);
	ASSERT_STRNE(dev1, dev2);
	ASSERT_EQ(0, mount_at(dev1, d1, "domain=t1"));
	ASSERT_EQ(0, mount_at(dev2, d2, "domain=t2"));
	close(fd1);
	close(fd2);
	EXPECT_NE(NULL, strstr(mount_options(d1), "domain=t1"));
	EXPECT_NE(NULL, strstr(mount_options(d2), "domain=t2"));
	EXPECT_EQ(0, stat(d1, &s1));
	EXPECT_EQ(0, stat(d2, &s2));
	EXPECT_NE(s1.st_dev, s2.st_dev);
	EXPECT_EQ(0, umount(d2));
	EXPECT_EQ(0, umount(d1));
}

struct refusal {
	const char *image, *opts;
	int err;		/* the errno mount must fail with */
	const char *log;	/* what the kernel log must say */
};

static void expect_refusal(struct __test_metadata *_metadata,
			   const struct refusal *r)
{
	char dir[256], log[4096];
	int ret;

	SFS_REQUIRE_SHAREFS(_metadata);
	sfs_kmsg_mark();
	ret = sfs_mount_image(r->image, "sharefs", r->opts, dir, sizeof(dir));
	if (!ret)
		sfs_umount(dir);
	EXPECT_EQ(-r->err, ret) {
		TH_LOG("%s: mount returned %d (%s)", r->image, ret, strerror(-ret));
	}
	EXPECT_TRUE(sfs_kmsg_has(r->log)) {
		sfs_kmsg_since(log, sizeof(log));
		TH_LOG("kernel log lacks \"%s\"; it has:\n%s", r->log, log);
	}
}

TEST(refuse_not_erofs)
{
	struct refusal r = { "notfs", NULL, EINVAL, "bad magic" };

	expect_refusal(_metadata, &r);
}

TEST(refuse_truncated)
{
	struct refusal r = { "truncated", NULL, EUCLEAN, "truncated" };

	expect_refusal(_metadata, &r);
}

TEST(refuse_bad_checksum)
{
	struct refusal r = { "badcsum", NULL, EBADMSG, "checksum" };

	expect_refusal(_metadata, &r);
}

TEST(refuse_unknown_incompat)
{
	struct refusal r = { "badincompat", NULL, EOPNOTSUPP, "0x40000000" };

	expect_refusal(_metadata, &r);
}

TEST(refuse_unknown_option)
{
	struct refusal r = { "basic", "bogus", EINVAL, "bogus" };

	expect_refusal(_metadata, &r);
}

TEST(refuse_bad_domain)
{
	struct refusal r = { "basic", "domain=a/b", EINVAL, "domain" };

	expect_refusal(_metadata, &r);
}

TEST_HARNESS_MAIN
