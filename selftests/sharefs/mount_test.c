// SPDX-License-Identifier: GPL-2.0-only
/*
 * mount_test - the module registers "sharefs", mounts a Debian 12
 * mkfs.erofs image through a loop device and from a block device, shows
 * its options, and refuses images and options it must refuse, each with an
 * error code the caller can act on and a kernel log line that says why.
 */
#include <errno.h>
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
