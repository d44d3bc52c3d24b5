// SPDX-License-Identifier: GPL-2.0-only
/*
 * fail_test - shared content over failing devices and device stacks.
 *
 * Member A is share-a, reached through device mapper (dm-linear over its
 * extent of the images disk, swapped for the "error" target to kill it
 * while mounted; dm-delay to keep its reads in flight; dm-verity with
 * share-a-hash.disk) or through a partition of parts.disk.  Member B is
 * share-e19: the same files by another mkfs, at other block addresses.  A
 * opens its files first, so that A is the member that B's reads go
 * through.  The oracle for every byte is share-e19 mounted noshare: its
 * own page cache, read from its own device.
 */
#include <dirent.h>
#include <errno.h>
#include <glob.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "sfs.h"

#define NFILES		25	/* the "share" tree: 5 files and 20 docs */
#define DELAY_MS	1000

static const char *file_name(int i)
{
	static const char *const fixed[] = {
		"lib/big.so", "lib/mid.so", "bin/tool", "etc/motd", "etc/small",
	};
	static char doc[NFILES][32];

	if (i < 5)
		return fixed[i];
	snprintf(doc[i], sizeof(doc[i]), "docs/doc%02d.txt", i - 5);
	return doc[i];
}

static char *slurp(const char *dir, int i, size_t *len, int *err)
{
	char path[PATH_MAX];
	struct stat st;
	char *buf;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, file_name(i));
	fd = open(path, O_RDONLY);
	*err = 0;
	if (fd < 0 || fstat(fd, &st)) {
		*err = errno;
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	buf = malloc(st.st_size + 1);
	if (pread(fd, buf, st.st_size, 0) != st.st_size) {
		*err = errno ? errno : EIO;
		free(buf);
		buf = NULL;
	}
	/* the next read goes to the device again */
	posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	close(fd);
	*len = st.st_size;
	return buf;
}

/*
 * Compare every file of @dir with the oracle: 0, the number of files that
 * differ, or -errno of the first read that failed.
 */
static int check_all(const char *dir, const char *oracle)
{
	int bad = 0;

	for (int i = 0; i < NFILES; i++) {
		size_t la, lo;
		int ea, eo;
		char *a = slurp(dir, i, &la, &ea);
		char *o = slurp(oracle, i, &lo, &eo);

		if (!a || !o) {
			free(a);
			free(o);
			return -(ea ? ea : eo);
		}
		if (la != lo || memcmp(a, o, la)) {
			fprintf(stderr, "# %s/%s differs from the oracle\n",
				dir, file_name(i));
			bad++;
		}
		free(a);
		free(o);
	}
	return bad;
}

FIXTURE(stack) {
	char a[256], b[256], oracle[256];
	char adev[64];
	int have_a, have_b, have_oracle;
	int afd[NFILES];
	const char *dm[2];		/* created, removed in reverse */
};

FIXTURE_SETUP(stack)
{
	memset(self->afd, -1, sizeof(self->afd));
	self->have_a = self->have_b = self->have_oracle = 0;
	self->dm[0] = self->dm[1] = NULL;
	SFS_REQUIRE_SHAREFS(_metadata);
	sfs_drop_caches("3");
	ASSERT_EQ(0, sfs_mount_image("share-e19", "sharefs", "noshare",
				     self->oracle, sizeof(self->oracle)));
	self->have_oracle = 1;
}

static void close_a(struct _test_data_stack *self)
{
	for (int i = 0; i < NFILES; i++) {
		if (self->afd[i] >= 0)
			close(self->afd[i]);
		self->afd[i] = -1;
	}
}

FIXTURE_TEARDOWN(stack)
{
	close_a(self);
	if (self->have_a)
		sfs_umount(self->a);
	if (self->have_b)
		sfs_umount(self->b);
	if (self->have_oracle)
		sfs_umount(self->oracle);
	for (int i = 1; i >= 0; i--)
		if (self->dm[i])
			sfs_dm_remove(self->dm[i]);
}

/* A table over image @name's extent of the images disk: "TYPE" args. */
static int image_table(const char *name, const char *type, const char *extra,
		       char *table, size_t len)
{
	unsigned long long off, size;
	char disk[32];
	int ret = sfs_image_extent(name, &off, &size);

	if (!ret)
		ret = sfs_dev_numbers(SFS_IMAGES_DISK, disk, sizeof(disk));
	if (ret)
		return ret;
	snprintf(table, len, "0 %llu %s %s %llu%s", size / 512, type, disk,
		 off / 512, extra);
	return 0;
}

/* Device mapper device @name (table over share-a), remembered for teardown */
static int dm_a(struct _test_data_stack *self, const char *name,
		const char *type, const char *extra, char *dev, size_t len)
{
	char table[256];
	int ret = image_table("share-a", type, extra, table, sizeof(table));

	if (!ret)
		ret = sfs_dm_create(name, table, dev, len);
	if (!ret)
		self->dm[self->dm[0] ? 1 : 0] = name;
	return ret;
}

static int mount_dev(const char *dev, const char *tag, char *dir, size_t len)
{
	snprintf(dir, len, "/mnt/fail-%s-%d", tag, getpid());
	mkdir(dir, 0755);
	return mount(dev, dir, "sharefs", MS_RDONLY, NULL) ? -errno : 0;
}

/* Mount A on @dev and open its files first: A is their data source. */
static int mount_a_first(struct _test_data_stack *self, const char *dev)
{
	char path[PATH_MAX];
	int ret = mount_dev(dev, "a", self->a, sizeof(self->a));

	if (ret)
		return ret;
	self->have_a = 1;
	for (int i = 0; i < NFILES; i++) {
		snprintf(path, sizeof(path), "%s/%s", self->a, file_name(i));
		self->afd[i] = open(path, O_RDONLY);
		if (self->afd[i] < 0)
			return -errno;
	}
	return 0;
}

static int mount_b(struct _test_data_stack *self)
{
	int ret = sfs_mount_image("share-e19", "sharefs", NULL, self->b,
				  sizeof(self->b));

	self->have_b = !ret;
	return ret;
}

/* Kill A's device under the mount: swap its table for "error". */
static int kill_dev(const char *name)
{
	unsigned long long off, size;
	char table[64];
	int ret = sfs_image_extent("share-a", &off, &size);

	if (ret)
		return ret;
	snprintf(table, sizeof(table), "0 %llu error", size / 512);
	return sfs_dm_load(name, table);
}

/*
 * A's device dies while it is the data source of shared content: B, and A
 * itself, still read every byte right, through B.  The failed member is
 * logged once.  Before members were retried, every read of that content
 * failed with EIO while B was healthy.
 */
TEST_F(stack, dead_source_member)
{
	char dev[64];

	ASSERT_EQ(0, dm_a(self, "sfs-dead", "linear", "", dev, sizeof(dev)));
	ASSERT_EQ(0, mount_a_first(self, dev));
	ASSERT_EQ(0, mount_b(self));
	ASSERT_EQ(0, check_all(self->b, self->oracle));
	ASSERT_EQ(0, kill_dev("sfs-dead"));
	sfs_drop_caches("1");
	sfs_kmsg_mark();
	EXPECT_EQ(0, check_all(self->b, self->oracle));
	EXPECT_EQ(0, check_all(self->a, self->oracle));
	EXPECT_EQ(1, sfs_kmsg_count("other images serve its content"));
}

/* The only member dies: EIO, cleanly, and the mount still goes away. */
TEST_F(stack, dead_only_member)
{
	char dev[64], path[PATH_MAX], buf[4096];
	int fd;

	ASSERT_EQ(0, dm_a(self, "sfs-alone", "linear", "", dev, sizeof(dev)));
	ASSERT_EQ(0, mount_a_first(self, dev));
	ASSERT_EQ(0, kill_dev("sfs-alone"));
	sfs_drop_caches("1");
	snprintf(path, sizeof(path), "%s/lib/big.so", self->a);
	fd = open(path, O_RDONLY);
	ASSERT_LE(0, fd);
	errno = 0;
	EXPECT_EQ(-1, pread(fd, buf, sizeof(buf), 8192));
	EXPECT_EQ(EIO, errno);
	close(fd);
	close_a(self);
	EXPECT_EQ(0, sfs_umount(self->a));
	self->have_a = 0;
}

struct reader {
	const char *dir, *oracle;
	volatile int stop;
	int rounds, result;		/* check_all() of the first bad round */
};

static void *reader_main(void *p)
{
	struct reader *r = p;

	do {
		int ret = check_all(r->dir, r->oracle);

		if (ret && !r->result)
			r->result = ret;
		r->rounds++;
	} while (!r->stop);
	return NULL;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait up to 10 s for @n more reads to complete on @dev. */
static int wait_reads(const char *dev, long n)
{
	long start = sfs_dev_reads(dev);

	for (int i = 0; i < 1000 && start >= 0; i++) {
		if (sfs_dev_reads(dev) >= start + n)
			return 1;
		usleep(10000);
	}
	return 0;
}

/*
 * umount waits for the reads in flight that other mounts issued through
 * its members: once it returns, no read completes on its device.  dm-delay
 * holds every read for a second, in dm's own queue, and B reads through A
 * all the time, so a read is in flight whenever umount starts.  Freezing
 * the request queue (what umount did before) waits only for submitters on
 * such bio-based devices: umount returned, and B's read through A's
 * closed device completed a second later.  (dm does not count its bios in
 * /sys/block/dm-N/inflight, hence the completion counter.)
 */
TEST_F(stack, umount_waits_for_own_reads)
{
	char dev[64], extra[32];
	struct reader r = { .stop = 1 };
	long start, done;
	pthread_t t;

	snprintf(extra, sizeof(extra), " %d", DELAY_MS);
	ASSERT_EQ(0, dm_a(self, "sfs-slow", "delay", extra, dev, sizeof(dev)));
	ASSERT_EQ(0, mount_a_first(self, dev));
	ASSERT_EQ(0, mount_b(self));
	r.dir = self->b;
	r.oracle = self->oracle;
	ASSERT_EQ(0, pthread_create(&t, NULL, reader_main, &r));
	/* B's reads go through A */
	ASSERT_EQ(1, wait_reads(dev, 2));
	close_a(self);
	start = now_ms();
	EXPECT_EQ(0, sfs_umount(self->a));
	self->have_a = 0;
	done = sfs_dev_reads(dev);
	usleep(DELAY_MS * 1500);
	TH_LOG("umount took %ld ms; reads completed after it: %ld",
	       now_ms() - start, sfs_dev_reads(dev) - done);
	EXPECT_EQ(done, sfs_dev_reads(dev));
	pthread_join(t, NULL);
	EXPECT_EQ(0, r.result);
	EXPECT_EQ(0, check_all(self->b, self->oracle));
}

/* umount A while B reads through it; then check B and A's device */
static void umount_under_reads(struct __test_metadata *_metadata,
			       struct _test_data_stack *self, const char *dev)
{
	struct reader r = { .dir = self->b, .oracle = self->oracle };
	pthread_t t;

	long done;

	ASSERT_EQ(0, pthread_create(&t, NULL, reader_main, &r));
	ASSERT_EQ(1, wait_reads(dev, 2));
	close_a(self);
	EXPECT_EQ(0, sfs_umount(self->a));
	self->have_a = 0;
	done = sfs_dev_reads(dev);
	usleep(300000);
	EXPECT_EQ(done, sfs_dev_reads(dev));
	r.stop = 1;
	pthread_join(t, NULL);
	EXPECT_EQ(0, r.result);
	EXPECT_LE(1, r.rounds);
}

/*
 * dm-verity, as the threat model recommends under an image: A verifies
 * against its hash tree, serves B, and its umount under B's reads drains.
 */
TEST_F(stack, verity_member)
{
	char data[64], dev[64], numbers[2][32], table[512];
	unsigned long long blocks;
	char root[80], salt[80];
	FILE *f = fopen(SFS_IMAGES_DIR "/share-a.verity", "r");

	ASSERT_NE(NULL, f);
	ASSERT_EQ(3, fscanf(f, "%llu %79s %79s", &blocks, root, salt));
	fclose(f);
	ASSERT_EQ(0, dm_a(self, "sfs-vdata", "linear", "", data, sizeof(data)));
	ASSERT_EQ(0, sfs_dev_numbers(data, numbers[0], sizeof(numbers[0])));
	ASSERT_EQ(0, sfs_dev_numbers("/dev/disk/by-id/share-a-hash",
				     numbers[1], sizeof(numbers[1])));
	snprintf(table, sizeof(table),
		 "0 %llu verity 1 %s %s 4096 4096 %llu 0 sha256 %s %s",
		 blocks * 8, numbers[0], numbers[1], blocks, root, salt);
	ASSERT_EQ(0, sfs_dm_create("sfs-verity", table, dev, sizeof(dev)));
	self->dm[1] = "sfs-verity";
	ASSERT_EQ(0, mount_a_first(self, dev));
	ASSERT_EQ(0, mount_b(self));
	EXPECT_EQ(0, check_all(self->a, self->oracle));
	umount_under_reads(_metadata, self, dev);
}

static long long dev_bytes(const char *dev)
{
	int fd = open(dev, O_RDONLY);
	long long bytes;

	if (fd < 0)
		return -errno;
	bytes = lseek(fd, 0, SEEK_END);
	close(fd);
	return bytes;
}

/*
 * A partitioned disk: A on partition 1 itself, B on dm-linear over
 * partition 2.  A's umount under B's reads drains, and partition 1 mounts
 * and reads again afterwards.
 */
TEST_F(stack, partitions)
{
	char disk[PATH_MAX], p1[PATH_MAX + 8], p2[PATH_MAX + 8];
	char numbers[32], table[128], dev[64];

	ASSERT_NE(NULL, realpath("/dev/disk/by-id/parts", disk));
	snprintf(p1, sizeof(p1), "%s1", disk);
	snprintf(p2, sizeof(p2), "%s2", disk);
	ASSERT_EQ(0, sfs_dev_numbers(p2, numbers, sizeof(numbers)));
	ASSERT_LT(0, dev_bytes(p2));
	snprintf(table, sizeof(table), "0 %lld linear %s 0",
		 dev_bytes(p2) / 512, numbers);
	ASSERT_EQ(0, sfs_dm_create("sfs-p2", table, dev, sizeof(dev)));
	self->dm[0] = "sfs-p2";
	ASSERT_EQ(0, mount_a_first(self, p1));
	ASSERT_EQ(0, mount_dev(dev, "b", self->b, sizeof(self->b)));
	self->have_b = 1;
	umount_under_reads(_metadata, self, p1);
	ASSERT_EQ(0, mount_dev(p1, "a", self->a, sizeof(self->a)));
	self->have_a = 1;
	EXPECT_EQ(0, check_all(self->a, self->oracle));
}

/* The scsi_debug disk (loaded at boot, 8 MiB of RAM), or -ENODEV. */
static int scsi_debug_disk(char *dev, size_t len)
{
	char model[64], path[PATH_MAX];
	int ret = -ENODEV;
	glob_t g;

	if (glob("/sys/block/sd*", 0, NULL, &g))
		return ret;
	for (size_t i = 0; i < g.gl_pathc && ret; i++) {
		FILE *f;

		snprintf(path, sizeof(path), "%s/device/model", g.gl_pathv[i]);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(model, sizeof(model), f) &&
		    !strncmp(model, "scsi_debug", 10)) {
			snprintf(dev, len, "/dev/%s", strrchr(g.gl_pathv[i], '/') + 1);
			ret = 0;
		}
		fclose(f);
	}
	globfree(&g);
	return ret;
}

/* Copy image @name from the images disk to the start of @dev. */
static int copy_image(const char *name, const char *dev)
{
	unsigned long long off, size, done = 0;
	int in, out, ret;
	static char buf[1 << 16];

	ret = sfs_image_extent(name, &off, &size);
	if (ret)
		return ret;
	in = open(SFS_IMAGES_DISK, O_RDONLY);
	out = open(dev, O_WRONLY);
	while (in >= 0 && out >= 0 && done < size) {
		size_t n = size - done < sizeof(buf) ? size - done : sizeof(buf);

		if (pread(in, buf, n, off + done) != (ssize_t)n ||
		    pwrite(out, buf, n, done) != (ssize_t)n)
			break;
		done += n;
	}
	ret = done == size && !fsync(out) ? 0 : -EIO;
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	return ret;
}

/*
 * A's disk is removed while mounted (scsi_debug, deleted through sysfs).
 * From 6.6 the block layer tells the filesystem (->shutdown): A's members
 * stop serving at once and A's own reads fail, except for shared content,
 * which comes through B.  Before, the failed reads take A's members off
 * one by one.  Either way every byte through B and A is right.
 */
TEST_F(stack, device_removed)
{
	char dev[64], path[128], dir[PATH_MAX + 8];
	DIR *d;
	int fd;

	ASSERT_EQ(0, scsi_debug_disk(dev, sizeof(dev)));
	ASSERT_EQ(0, copy_image("share-a", dev));
	ASSERT_EQ(0, mount_a_first(self, dev));
	ASSERT_EQ(0, mount_b(self));
	ASSERT_EQ(0, check_all(self->b, self->oracle));
	sfs_kmsg_mark();
	snprintf(path, sizeof(path), "/sys/block/%s/device/delete", dev + 5);
	fd = open(path, O_WRONLY);
	ASSERT_LE(0, fd);
	ASSERT_EQ(1, write(fd, "1", 1));
	close(fd);
	sfs_drop_caches("1");
	EXPECT_EQ(0, check_all(self->b, self->oracle));
	EXPECT_EQ(0, check_all(self->a, self->oracle));
	if (sfs_kernel_at_least(6, 6)) {
		EXPECT_EQ(1, sfs_kmsg_count("device is gone"));
	} else {
		EXPECT_LE(1, sfs_kmsg_count("other images serve its content"));
	}
	/* a directory is A's own: its pages were dropped, the disk is gone */
	snprintf(dir, sizeof(dir), "%s/docs", self->a);
	d = opendir(dir);
	ASSERT_NE(NULL, d);
	errno = 0;
	EXPECT_EQ(NULL, readdir(d));
	EXPECT_EQ(EIO, errno);
	closedir(d);
	close_a(self);
	EXPECT_EQ(0, sfs_umount(self->a));
	self->have_a = 0;
}

TEST_HARNESS_MAIN
