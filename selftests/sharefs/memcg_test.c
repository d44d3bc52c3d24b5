// SPDX-License-Identifier: GPL-2.0-only
/*
 * memcg_test - which memory cgroup pays for a shared page.
 *
 * A shared page is ordinary page cache of the shared inode: like any page
 * cache page it is charged to the memory cgroup of the task that read it
 * first, and to no other.  Two cgroups (two containers) read one file
 * through two sharing mounts:
 *   - the first reader's cgroup is charged the file once ("file" in
 *     memory.stat), the second's nothing: no page is charged twice;
 *   - memory.max of the second cgroup does not limit it from using pages
 *     that the first one pays for, and reading them does not push it to
 *     its limit;
 *   - when the first cgroup is removed its charges move to the parent
 *     (the kernel's reparenting), and once the pages are dropped nothing
 *     is left charged anywhere: no leak.
 * Without sharing (noshare), each cgroup pays for its own copy: the
 * contrast that proves the measurement can fail.
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

#define CG	"/sys/fs/cgroup"
#define BIG	"lib/big.so"		/* 4 MiB, in share-a and share-b */
#define BIG_B	"usr/lib/big.so"

static long cg_file_bytes(const char *cg)
{
	char path[256];

	snprintf(path, sizeof(path), CG "/%s/memory.stat", cg);
	return sfs_read_key(path, "file");
}

static int cg_write(const char *cg, const char *file, const char *val)
{
	char path[256];

	snprintf(path, sizeof(path), CG "/%s%s%s", cg, *cg ? "/" : "", file);
	return sfs_write_str(path, val);
}

/* read PATH whole from a child in cgroup CG; the child's exit status */
static int read_in_cgroup(const char *cg, const char *path)
{
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		char me[32];

		snprintf(me, sizeof(me), "%d", getpid());
		if (cg_write(cg, "cgroup.procs", me))
			_exit(90);
		_exit(sfs_read_all(path) > 0 ? 0 : 91);
	}
	if (pid < 0 || waitpid(pid, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

FIXTURE(memcg) {
	char a[256], b[256];
	int have_a, have_b;
};

FIXTURE_SETUP(memcg)
{
	SFS_REQUIRE_SHAREFS(_metadata);
	mkdir(CG, 0755);
	if (mount("cgroup2", CG, "cgroup2", 0, NULL) && errno != EBUSY)
		SKIP(return, "no cgroup2: %s", strerror(errno));
	if (cg_write("", "cgroup.subtree_control", "+memory"))
		SKIP(return, "no memory controller");
	rmdir(CG "/sfs/ca");
	rmdir(CG "/sfs/cb");
	mkdir(CG "/sfs", 0755);
	ASSERT_EQ(0, cg_write("sfs", "cgroup.subtree_control", "+memory"));
	ASSERT_EQ(0, mkdir(CG "/sfs/ca", 0755));
	ASSERT_EQ(0, mkdir(CG "/sfs/cb", 0755));
}

FIXTURE_TEARDOWN(memcg)
{
	if (self->have_a)
		sfs_umount(self->a);
	if (self->have_b)
		sfs_umount(self->b);
	rmdir(CG "/sfs/ca");
	rmdir(CG "/sfs/cb");
}

static void mount_two(struct __test_metadata *_metadata,
		      FIXTURE_DATA(memcg) *self, const char *opts)
{
	ASSERT_EQ(0, sfs_mount_image("share-a", "sharefs", opts, self->a, sizeof(self->a)));
	self->have_a = 1;
	ASSERT_EQ(0, sfs_mount_image("share-b", "sharefs", opts, self->b, sizeof(self->b)));
	self->have_b = 1;
}

TEST_F(memcg, shared_page_charged_once_to_first_reader)
{
	char pa[512], pb[512];
	long a0, b0, a1, b1, b2;

	mount_two(_metadata, self, "domain=cg");
	snprintf(pa, sizeof(pa), "%s/" BIG, self->a);
	snprintf(pb, sizeof(pb), "%s/" BIG_B, self->b);
	sfs_drop_caches("3");
	a0 = cg_file_bytes("sfs/ca");
	b0 = cg_file_bytes("sfs/cb");
	ASSERT_EQ(0, read_in_cgroup("sfs/ca", pa));
	a1 = cg_file_bytes("sfs/ca");
	ASSERT_EQ(0, read_in_cgroup("sfs/cb", pb));
	b1 = cg_file_bytes("sfs/cb");
	TH_LOG("file charge: first reader +%ld KiB, second reader +%ld KiB",
	       (a1 - a0) >> 10, (b1 - b0) >> 10);
	EXPECT_GE(a1 - a0, 4L << 20);		/* the first pays the file */
	EXPECT_LT(b1 - b0, 256L << 10);		/* the second pays nothing */

	/* memory.max of the second: using the first one's pages is free */
	ASSERT_EQ(0, cg_write("sfs/cb", "memory.max", "1M"));
	ASSERT_EQ(0, read_in_cgroup("sfs/cb", pb));
	b2 = cg_file_bytes("sfs/cb");
	EXPECT_LT(b2, 1L << 20);
	ASSERT_EQ(0, cg_write("sfs/cb", "memory.max", "max"));

	/* the first goes: its charge moves up to the parent, and drops
	 * with the pages: nothing stays charged */
	ASSERT_EQ(0, rmdir(CG "/sfs/ca"));
	EXPECT_GE(cg_file_bytes("sfs"), 4L << 20);
	sfs_drop_caches("3");
	EXPECT_LT(cg_file_bytes("sfs"), 256L << 10) {
		TH_LOG("still charged after drop_caches: %ld KiB", cg_file_bytes("sfs") >> 10);
	}
}

TEST_F(memcg, noshare_charges_each_reader)
{
	char pa[512], pb[512];
	long b0, b1;

	mount_two(_metadata, self, "noshare");
	snprintf(pa, sizeof(pa), "%s/" BIG, self->a);
	snprintf(pb, sizeof(pb), "%s/" BIG_B, self->b);
	sfs_drop_caches("3");
	ASSERT_EQ(0, read_in_cgroup("sfs/ca", pa));
	b0 = cg_file_bytes("sfs/cb");
	ASSERT_EQ(0, read_in_cgroup("sfs/cb", pb));
	b1 = cg_file_bytes("sfs/cb");
	TH_LOG("noshare: second reader +%ld KiB", (b1 - b0) >> 10);
	EXPECT_GE(b1 - b0, 4L << 20);
}

TEST_HARNESS_MAIN
